#include "proxy/http/codec_h1_scan.h"

#include <stdbool.h>
#include <string.h>

/* Character classes (RFC 9110 5.6.2 tchar, 5.5 field-vchar / obs-text, RFC 9112 3.2 target). */
#define C_TCHAR 0x01  /* token character */
#define C_FVCHAR 0x02 /* field-vchar: VCHAR and obs-text */
#define C_WS 0x04     /* SP, HTAB */
#define C_HEX 0x08    /* HEXDIG */
#define C_TARGET 0x10 /* request-target byte: VCHAR only (no obs-text, no whitespace) */
#define C_QDTEXT 0x20 /* qdtext of a quoted-string (RFC 9110 5.6.4), without quoted-pair */
#define C_CTL 0x40    /* CTL or DEL, HTAB excluded: http1.invalid_characters in a field */

static const unsigned char cls[256] = {
    [0x00 ... 0x08] = C_CTL,
    ['\t'] = C_WS | C_QDTEXT,
    [0x0a ... 0x1f] = C_CTL,
    [' '] = C_WS | C_QDTEXT,
    ['!'] = C_TCHAR | C_FVCHAR | C_TARGET | C_QDTEXT,
    ['"'] = C_FVCHAR | C_TARGET,
    ['#'] = C_TCHAR | C_FVCHAR | C_TARGET | C_QDTEXT,
    ['$'] = C_TCHAR | C_FVCHAR | C_TARGET | C_QDTEXT,
    ['%'] = C_TCHAR | C_FVCHAR | C_TARGET | C_QDTEXT,
    ['&'] = C_TCHAR | C_FVCHAR | C_TARGET | C_QDTEXT,
    ['\''] = C_TCHAR | C_FVCHAR | C_TARGET | C_QDTEXT,
    ['('] = C_FVCHAR | C_TARGET | C_QDTEXT,
    [')'] = C_FVCHAR | C_TARGET | C_QDTEXT,
    ['*'] = C_TCHAR | C_FVCHAR | C_TARGET | C_QDTEXT,
    ['+'] = C_TCHAR | C_FVCHAR | C_TARGET | C_QDTEXT,
    [','] = C_FVCHAR | C_TARGET | C_QDTEXT,
    ['-'] = C_TCHAR | C_FVCHAR | C_TARGET | C_QDTEXT,
    ['.'] = C_TCHAR | C_FVCHAR | C_TARGET | C_QDTEXT,
    ['/'] = C_FVCHAR | C_TARGET | C_QDTEXT,
    ['0' ... '9'] = C_TCHAR | C_FVCHAR | C_TARGET | C_QDTEXT | C_HEX,
    [':' ... '@'] = C_FVCHAR | C_TARGET | C_QDTEXT,
    ['A' ... 'F'] = C_TCHAR | C_FVCHAR | C_TARGET | C_QDTEXT | C_HEX,
    ['G' ... 'Z'] = C_TCHAR | C_FVCHAR | C_TARGET | C_QDTEXT,
    ['['] = C_FVCHAR | C_TARGET | C_QDTEXT,
    ['\\'] = C_FVCHAR | C_TARGET,
    [']'] = C_FVCHAR | C_TARGET | C_QDTEXT,
    ['^'] = C_TCHAR | C_FVCHAR | C_TARGET | C_QDTEXT,
    ['_'] = C_TCHAR | C_FVCHAR | C_TARGET | C_QDTEXT,
    ['`'] = C_TCHAR | C_FVCHAR | C_TARGET | C_QDTEXT,
    ['a' ... 'f'] = C_TCHAR | C_FVCHAR | C_TARGET | C_QDTEXT | C_HEX,
    ['g' ... 'z'] = C_TCHAR | C_FVCHAR | C_TARGET | C_QDTEXT,
    ['{'] = C_FVCHAR | C_TARGET | C_QDTEXT,
    ['|'] = C_TCHAR | C_FVCHAR | C_TARGET | C_QDTEXT,
    ['}'] = C_FVCHAR | C_TARGET | C_QDTEXT,
    ['~'] = C_TCHAR | C_FVCHAR | C_TARGET | C_QDTEXT,
    [0x7f] = C_CTL,
    [0x80 ... 0xff] = C_FVCHAR | C_QDTEXT,
};

enum {
    /* head (and trailer) states: every byte counts against max_head */
    S_START = 0,    /* before a message: empty lines (CRLF) are skipped */
    S_START_LF,     /* '\r' of an empty line seen */
    S_METHOD,       /* request: method token */
    S_TARGET_START, /* first byte of the request-target */
    S_TARGET,       /* request-target */
    S_REQ_VERSION,  /* "HTTP/1." then '0' or '1' */
    S_REQ_LINE_CR,  /* '\r' ending the request line */
    S_LINE_LF,      /* '\n' ending the start line */
    S_RESP_VERSION, /* response: "HTTP/1." then '0' or '1' */
    S_RESP_SP,      /* SP after the version */
    S_STATUS,       /* three digits */
    S_STATUS_AFTER, /* SP before the reason, or '\r' */
    S_REASON,       /* reason-phrase */
    S_FIELD_START,  /* start of a field line, or '\r' of the empty line */
    S_FIELD_NAME,   /* field-name token */
    S_FIELD_VALUE,  /* field-value up to '\r' */
    S_FIELD_LF,     /* '\n' ending a field line */
    S_HEAD_END_LF,  /* '\n' ending the head (or trailer section) */
    S_LAST_HEAD = S_HEAD_END_LF,
    /* body states */
    S_BODY_WAIT,   /* head done, framing not told yet */
    S_BODY_LENGTH, /* Content-Length bytes */
    S_BODY_EOF,    /* close-delimited or tunnel */
    S_CHUNK_SIZE_START,
    S_CHUNK_SIZE,
    S_EXT_NAME_START, /* after ';' */
    S_EXT_NAME,
    S_EXT_VALUE_START, /* after '=' */
    S_EXT_TOKEN,
    S_EXT_QUOTED,
    S_EXT_QUOTED_END,
    S_CHUNK_SIZE_LF, /* '\n' after the chunk-size line */
    S_CHUNK_DATA,
    S_CHUNK_DATA_CR, /* '\r' after chunk data */
    S_CHUNK_DATA_LF, /* '\n' after chunk data */
};

static const char http1[] = "HTTP/1.";

void or_h1_scan_init(struct or_h1_scan *s, int is_response, uint32_t max_head_bytes)
{
    memset(s, 0, sizeof(*s));
    s->is_response = is_response ? 1 : 0;
    s->max_head = max_head_bytes;
    s->state = S_START;
}

int or_h1_scan_idle(const struct or_h1_scan *s)
{
    return s->state == S_START;
}

int or_h1_scan_until_eof(const struct or_h1_scan *s)
{
    return s->state == S_BODY_EOF;
}

uint64_t or_h1_scan_length_left(const struct or_h1_scan *s)
{
    return s->state == S_BODY_LENGTH ? s->remaining : 0;
}

void or_h1_scan_skip_body(struct or_h1_scan *s, uint64_t n)
{
    if (s->state == S_BODY_LENGTH && n < s->remaining)
        s->remaining -= n;
}

static void next_message(struct or_h1_scan *s)
{
    s->state = S_START;
    s->head_bytes = 0;
    s->trailers = 0;
    s->seen_field = 0;
    s->tok_len = 0;
    s->n = 0;
}

void or_h1_scan_set_body(struct or_h1_scan *s, enum or_h1_scan_body body, uint64_t length)
{
    switch (body) {
    case OR_H1_SCAN_BODY_LENGTH:
        if (length > 0) {
            s->state = S_BODY_LENGTH;
            s->remaining = length;
            return;
        }
        next_message(s);
        return;
    case OR_H1_SCAN_BODY_CHUNKED:
        s->state = S_CHUNK_SIZE_START;
        s->line_bytes = 0;
        s->remaining = 0;
        return;
    case OR_H1_SCAN_BODY_EOF:
    case OR_H1_SCAN_BODY_TUNNEL:
        s->state = S_BODY_EOF;
        return;
    case OR_H1_SCAN_BODY_NONE:
    default:
        next_message(s);
        return;
    }
}

static size_t fail(struct or_h1_scan *s, size_t at, enum or_h1_scan_error e, const char *why,
                   enum or_h1_scan_result *res)
{
    s->err = (uint8_t)e;
    s->reason = why;
    *res = OR_H1_SCAN_ERROR;
    return at;
}

/* Classifies a bad byte inside a field line: control characters are Envoy's invalid_characters,
 * everything else (and CR/LF out of place) a codec error. */
static enum or_h1_scan_error field_err(unsigned char c)
{
    if (c == '\r' || c == '\n')
        return OR_H1_SCAN_E_SYNTAX;
    return (cls[c] & C_CTL) ? OR_H1_SCAN_E_CHARS : OR_H1_SCAN_E_SYNTAX;
}

/* End of the run of bytes of class `mask` starting at i. */
static size_t run_end(const unsigned char *b, size_t i, size_t n, unsigned char mask)
{
    while (i < n && (cls[b[i]] & mask))
        i++;
    return i;
}

/* Counts the run b[i..*j) against max_head (the loop counted its first byte already). false when
 * it goes over: *j is then the position of the first byte over the limit. */
static bool count_run(struct or_h1_scan *s, size_t i, size_t *j)
{
    uint32_t len = (uint32_t)(*j - i);
    s->head_bytes += len - 1;
    if (s->head_bytes <= s->max_head)
        return true;
    *j = i + (s->max_head - (s->head_bytes - len));
    return false;
}

static const char *too_large(const struct or_h1_scan *s)
{
    return s->trailers ? "trailers size exceeds limit" : "headers size exceeds limit";
}

size_t or_h1_scan_run(struct or_h1_scan *s, const char *p, size_t n, enum or_h1_scan_result *res)
{
    const unsigned char *b = (const unsigned char *)p;
    size_t i = 0;

    if (s->err != OR_H1_SCAN_E_NONE) {
        *res = OR_H1_SCAN_ERROR;
        return 0;
    }
    while (i < n) {
        unsigned char c = b[i];

        if (s->state <= S_LAST_HEAD && ++s->head_bytes > s->max_head)
            return fail(s, i, OR_H1_SCAN_E_TOO_LARGE, too_large(s), res);

        switch (s->state) {
        case S_START:
            if (c == '\r') {
                s->state = S_START_LF;
            } else if (s->is_response) {
                if (c != 'H')
                    return fail(s, i, OR_H1_SCAN_E_SYNTAX, "expected HTTP/", res);
                s->state = S_RESP_VERSION;
                s->n = 1;
            } else {
                if (!(cls[c] & C_TCHAR))
                    return fail(s, i, OR_H1_SCAN_E_SYNTAX, "invalid method", res);
                s->state = S_METHOD;
                s->tok_len = 1;
            }
            break;
        case S_START_LF:
            if (c != '\n')
                return fail(s, i, OR_H1_SCAN_E_SYNTAX, "bare CR", res);
            s->state = S_START;
            break;

        case S_METHOD:
            if (c == ' ') {
                s->state = S_TARGET_START;
            } else if (!(cls[c] & C_TCHAR) || ++s->tok_len > 32) {
                return fail(s, i, OR_H1_SCAN_E_SYNTAX, "invalid method", res);
            }
            break;
        case S_TARGET_START:
            if (!(cls[c] & C_TARGET))
                return fail(s, i, OR_H1_SCAN_E_SYNTAX, "invalid request target", res);
            s->state = S_TARGET;
            break;
        case S_TARGET: {
            /* Tight loop: targets can be long. */
            size_t j = run_end(b, i, n, C_TARGET);
            if (j > i) {
                if (!count_run(s, i, &j))
                    return fail(s, j, OR_H1_SCAN_E_TOO_LARGE, too_large(s), res);
                i = j;
                continue;
            }
            if (c != ' ')
                return fail(s, i, OR_H1_SCAN_E_SYNTAX, "invalid request target", res);
            s->state = S_REQ_VERSION;
            s->n = 0;
            break;
        }
        case S_REQ_VERSION:
        case S_RESP_VERSION:
            if (s->n < sizeof(http1) - 1) {
                if (c != (unsigned char)http1[s->n])
                    return fail(s, i, OR_H1_SCAN_E_SYNTAX, "invalid HTTP version", res);
                s->n++;
            } else {
                if (c != '0' && c != '1')
                    return fail(s, i, OR_H1_SCAN_E_SYNTAX, "invalid HTTP version", res);
                s->state = s->state == S_REQ_VERSION ? S_REQ_LINE_CR : S_RESP_SP;
            }
            break;
        case S_REQ_LINE_CR:
            if (c != '\r')
                return fail(s, i, OR_H1_SCAN_E_SYNTAX, "expected CRLF after version", res);
            s->state = S_LINE_LF;
            break;
        case S_LINE_LF:
            if (c != '\n')
                return fail(s, i, OR_H1_SCAN_E_SYNTAX, "bare CR", res);
            s->state = S_FIELD_START;
            break;

        case S_RESP_SP:
            if (c != ' ')
                return fail(s, i, OR_H1_SCAN_E_SYNTAX, "expected SP after version", res);
            s->state = S_STATUS;
            s->n = 0;
            break;
        case S_STATUS:
            if (c < '0' || c > '9')
                return fail(s, i, OR_H1_SCAN_E_SYNTAX, "invalid status code", res);
            if (++s->n == 3)
                s->state = S_STATUS_AFTER;
            break;
        case S_STATUS_AFTER:
            /* The reason phrase may be absent altogether ("HTTP/1.1 200\r\n"): common enough. */
            if (c == ' ')
                s->state = S_REASON;
            else if (c == '\r')
                s->state = S_LINE_LF;
            else
                return fail(s, i, OR_H1_SCAN_E_SYNTAX, "invalid status code", res);
            break;
        case S_REASON:
            if (c == '\r')
                s->state = S_LINE_LF;
            else if (!(cls[c] & (C_FVCHAR | C_WS)))
                return fail(s, i, OR_H1_SCAN_E_SYNTAX, "invalid reason phrase", res);
            break;

        case S_FIELD_START:
            if (c == '\r') {
                s->state = S_HEAD_END_LF;
            } else if (cls[c] & C_TCHAR) {
                s->state = S_FIELD_NAME;
            } else if (cls[c] & C_WS) {
                /* obs-fold after a field, or whitespace before the first one (the
                 * CVE-2024-27982 shape): RFC 9112 5.2 / 2.2 allow rejecting both. */
                return fail(s, i, OR_H1_SCAN_E_SYNTAX,
                            s->seen_field ? "obs-fold" : "whitespace before first field", res);
            } else if (c == ':') {
                return fail(s, i, OR_H1_SCAN_E_SYNTAX, "empty field name", res);
            } else {
                return fail(s, i, field_err(c), "invalid field name", res);
            }
            break;
        case S_FIELD_NAME: {
            size_t j = run_end(b, i, n, C_TCHAR);
            if (j > i) {
                if (!count_run(s, i, &j))
                    return fail(s, j, OR_H1_SCAN_E_TOO_LARGE, too_large(s), res);
                i = j;
                continue;
            }
            if (c == ':') {
                s->state = S_FIELD_VALUE;
                s->seen_field = 1;
            } else if (!(cls[c] & C_TCHAR)) {
                return fail(s, i, field_err(c),
                            (cls[c] & C_WS) ? "whitespace in field name" : "invalid field name",
                            res);
            }
            break;
        }
        case S_FIELD_VALUE: {
            size_t j = run_end(b, i, n, (C_FVCHAR | C_WS));
            if (j > i) {
                if (!count_run(s, i, &j))
                    return fail(s, j, OR_H1_SCAN_E_TOO_LARGE, too_large(s), res);
                i = j;
                continue;
            }
            if (c != '\r')
                return fail(s, i, field_err(c),
                            c == '\n' ? "bare LF" : "invalid character in field value", res);
            s->state = S_FIELD_LF;
            break;
        }
        case S_FIELD_LF:
            if (c != '\n')
                return fail(s, i, OR_H1_SCAN_E_SYNTAX, "bare CR", res);
            s->state = S_FIELD_START;
            break;
        case S_HEAD_END_LF:
            if (c != '\n')
                return fail(s, i, OR_H1_SCAN_E_SYNTAX, "bare CR", res);
            if (s->trailers) {
                next_message(s);
                *res = OR_H1_SCAN_MSG_DONE;
                return i + 1;
            }
            s->state = S_BODY_WAIT;
            *res = OR_H1_SCAN_HEAD_DONE;
            return i + 1;

        case S_BODY_WAIT:
            *res = OR_H1_SCAN_HEAD_DONE;
            return i;
        case S_BODY_LENGTH: {
            uint64_t take = n - i < s->remaining ? n - i : s->remaining;
            i += take;
            s->remaining -= take;
            if (s->remaining == 0) {
                next_message(s);
                *res = OR_H1_SCAN_MSG_DONE;
                return i;
            }
            continue;
        }
        case S_BODY_EOF:
            i = n;
            continue;

        case S_CHUNK_SIZE_START:
            if (!(cls[c] & C_HEX))
                return fail(s, i, OR_H1_SCAN_E_SYNTAX, "invalid chunk size", res);
            s->state = S_CHUNK_SIZE;
            s->line_bytes = 1;
            s->remaining = (uint64_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
            break;
        default:
            /* chunk-size line and chunk data */
            if (s->state <= S_CHUNK_SIZE_LF && ++s->line_bytes > OR_H1_SCAN_MAX_CHUNK_LINE)
                return fail(s, i, OR_H1_SCAN_E_SYNTAX, "chunk size line too long", res);
            switch (s->state) {
            case S_CHUNK_SIZE:
                if (cls[c] & C_HEX) {
                    if (s->remaining > (UINT64_MAX >> 4))
                        return fail(s, i, OR_H1_SCAN_E_SYNTAX, "chunk size overflow", res);
                    s->remaining = (s->remaining << 4) |
                                   (uint64_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
                } else if (c == ';') {
                    s->state = S_EXT_NAME_START;
                } else if (c == '\r') {
                    s->state = S_CHUNK_SIZE_LF;
                } else {
                    return fail(s, i, OR_H1_SCAN_E_SYNTAX, "invalid chunk size", res);
                }
                break;
            case S_EXT_NAME_START:
                if (!(cls[c] & C_TCHAR))
                    return fail(s, i, OR_H1_SCAN_E_SYNTAX, "invalid chunk extension", res);
                s->state = S_EXT_NAME;
                break;
            case S_EXT_NAME:
            case S_EXT_TOKEN:
                if (c == ';')
                    s->state = S_EXT_NAME_START;
                else if (c == '\r')
                    s->state = S_CHUNK_SIZE_LF;
                else if (c == '=' && s->state == S_EXT_NAME)
                    s->state = S_EXT_VALUE_START;
                else if (!(cls[c] & C_TCHAR))
                    return fail(s, i, OR_H1_SCAN_E_SYNTAX, "invalid chunk extension", res);
                break;
            case S_EXT_VALUE_START:
                if (c == '"')
                    s->state = S_EXT_QUOTED;
                else if (cls[c] & C_TCHAR)
                    s->state = S_EXT_TOKEN;
                else
                    return fail(s, i, OR_H1_SCAN_E_SYNTAX, "invalid chunk extension", res);
                break;
            case S_EXT_QUOTED:
                /* No quoted-pair: llhttp 8 rejects '\' there, and so do we. */
                if (c == '"')
                    s->state = S_EXT_QUOTED_END;
                else if (!(cls[c] & C_QDTEXT))
                    return fail(s, i, OR_H1_SCAN_E_SYNTAX, "invalid chunk extension", res);
                break;
            case S_EXT_QUOTED_END:
                if (c == ';')
                    s->state = S_EXT_NAME_START;
                else if (c == '\r')
                    s->state = S_CHUNK_SIZE_LF;
                else
                    return fail(s, i, OR_H1_SCAN_E_SYNTAX, "invalid chunk extension", res);
                break;
            case S_CHUNK_SIZE_LF:
                if (c != '\n')
                    return fail(s, i, OR_H1_SCAN_E_SYNTAX, "bare CR in chunk size line", res);
                if (s->remaining == 0) {
                    /* last-chunk: a trailer section follows, ended by an empty line */
                    s->state = S_FIELD_START;
                    s->trailers = 1;
                    s->seen_field = 0;
                    s->head_bytes = 0;
                } else {
                    s->state = S_CHUNK_DATA;
                }
                break;
            case S_CHUNK_DATA: {
                uint64_t take = n - i < s->remaining ? n - i : s->remaining;
                i += take;
                s->remaining -= take;
                if (s->remaining == 0)
                    s->state = S_CHUNK_DATA_CR;
                continue;
            }
            case S_CHUNK_DATA_CR:
                if (c != '\r')
                    return fail(s, i, OR_H1_SCAN_E_SYNTAX, "expected CRLF after chunk", res);
                s->state = S_CHUNK_DATA_LF;
                break;
            case S_CHUNK_DATA_LF:
                if (c != '\n')
                    return fail(s, i, OR_H1_SCAN_E_SYNTAX, "expected CRLF after chunk", res);
                s->state = S_CHUNK_SIZE_START;
                break;
            default:
                return fail(s, i, OR_H1_SCAN_E_SYNTAX, "scanner state", res);
            }
            break;
        }
        i++;
    }
    *res = OR_H1_SCAN_MORE;
    return i;
}
