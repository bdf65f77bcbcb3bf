/* Strict HTTP/1.1 framing scanner (RFC 9112), run over every byte before llhttp parses it.
 *
 * llhttp 8.1 as Debian ships it (built without LLHTTP_STRICT_MODE) accepts, among others: any two
 * bytes after chunk data as its CRLF, "\r\n\rX" as the end of a head, a bare LF after the last
 * chunk, obs-fold, spaces inside and before header names, empty header names, tabs and bytes >=
 * 0x80 in the request target, and HTTP/0.9 and 2.0 version strings. Those are request-smuggling
 * vectors, so this scanner validates the grammar itself and the parser only hands llhttp the prefix
 * it has validated. llhttp keeps the semantics (methods, Content-Length values, keep-alive,
 * callbacks).
 *
 * The scanner stops at two boundaries so both parsers stay in lockstep: right after the head (the
 * caller then tells it the body framing it decided) and right after the end of the message. */
#ifndef OR_HTTP_CODEC_H1_SCAN_H
#define OR_HTTP_CODEC_H1_SCAN_H

#include <stddef.h>
#include <stdint.h>

enum or_h1_scan_result {
    OR_H1_SCAN_MORE = 0,  /* all input consumed; the message goes on */
    OR_H1_SCAN_HEAD_DONE, /* stopped right after the head: call or_h1_scan_set_body */
    OR_H1_SCAN_MSG_DONE,  /* stopped right after the message; the next one starts fresh */
    OR_H1_SCAN_ERROR,     /* stopped at the offending byte: see `err` */
};

enum or_h1_scan_error {
    OR_H1_SCAN_E_NONE = 0,
    OR_H1_SCAN_E_SYNTAX,    /* framing or grammar violation (http1.codec_error) */
    OR_H1_SCAN_E_CHARS,     /* control character in a header field (http1.invalid_characters) */
    OR_H1_SCAN_E_TOO_LARGE, /* head or trailer section over the limit (http1.headers_too_large) */
};

enum or_h1_scan_body {
    OR_H1_SCAN_BODY_NONE = 0, /* message ends with the head */
    OR_H1_SCAN_BODY_LENGTH,   /* Content-Length bytes */
    OR_H1_SCAN_BODY_CHUNKED,  /* chunked coding, then trailers */
    OR_H1_SCAN_BODY_EOF,      /* response delimited by close */
    OR_H1_SCAN_BODY_TUNNEL,   /* after an upgrade: raw bytes forever */
};

struct or_h1_scan {
    uint8_t state;
    uint8_t is_response;
    uint8_t err;         /* enum or_h1_scan_error */
    uint8_t n;           /* bytes matched in the current fixed token (version, status) */
    uint8_t trailers;    /* the field states are scanning a trailer section */
    uint8_t seen_field;  /* at least one field line in this head (obs-fold detection) */
    uint16_t tok_len;    /* length of the current method token */
    uint32_t max_head;   /* bytes allowed in a head or in a trailer section */
    uint32_t head_bytes; /* bytes of the current head or trailer section so far */
    uint32_t line_bytes; /* bytes of the current chunk-size line */
    uint64_t remaining;  /* body or chunk bytes left */
    const char *reason;  /* static text of the error */
};

/* Longest chunk-size line (size plus extensions) accepted: llhttp 8 has no bound
 * (CVE-2024-22019 is about exactly that). */
#define OR_H1_SCAN_MAX_CHUNK_LINE 4096u

void or_h1_scan_init(struct or_h1_scan *s, int is_response, uint32_t max_head_bytes);
/* Scans up to n bytes; returns how many were consumed (valid) and why it stopped in *res. */
size_t or_h1_scan_run(struct or_h1_scan *s, const char *p, size_t n, enum or_h1_scan_result *res);
/* After OR_H1_SCAN_HEAD_DONE: the framing of the body (length for OR_H1_SCAN_BODY_LENGTH).
 * BODY_NONE, or LENGTH with 0, ends the message: the scanner is ready for the next one. */
void or_h1_scan_set_body(struct or_h1_scan *s, enum or_h1_scan_body body, uint64_t length);
/* True between messages (nothing of a new message seen yet). */
int or_h1_scan_idle(const struct or_h1_scan *s);
/* Content-Length body bytes still to come, 0 outside a Content-Length body. */
uint64_t or_h1_scan_length_left(const struct or_h1_scan *s);
/* n (< or_h1_scan_length_left) body bytes went past the scanner (moved by splice(2)). */
void or_h1_scan_skip_body(struct or_h1_scan *s, uint64_t n);
/* True while a close-delimited body or a tunnel is being scanned. */
int or_h1_scan_until_eof(const struct or_h1_scan *s);

#endif
