/* HTTP/1.1 encoders: message heads in one contiguous evbuffer reservation, chunk framing around
 * moved body chains. Framing follows Envoy's StreamEncoderImpl::encodeHeadersBase. */
#include "proxy/http/codec_h1.h"

#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "proxy/core/err.h"

/* Envoy's CodeUtility::toString (source/common/http/codes.cc). */
static const char *const reasons[512] = {
    [100] = "Continue",
    [101] = "Switching Protocols",
    [200] = "OK",
    [201] = "Created",
    [202] = "Accepted",
    [203] = "Non-Authoritative Information",
    [204] = "No Content",
    [205] = "Reset Content",
    [206] = "Partial Content",
    [207] = "Multi-Status",
    [208] = "Already Reported",
    [226] = "IM Used",
    [300] = "Multiple Choices",
    [301] = "Moved Permanently",
    [302] = "Found",
    [303] = "See Other",
    [304] = "Not Modified",
    [305] = "Use Proxy",
    [307] = "Temporary Redirect",
    [308] = "Permanent Redirect",
    [400] = "Bad Request",
    [401] = "Unauthorized",
    [402] = "Payment Required",
    [403] = "Forbidden",
    [404] = "Not Found",
    [405] = "Method Not Allowed",
    [406] = "Not Acceptable",
    [407] = "Proxy Authentication Required",
    [408] = "Request Timeout",
    [409] = "Conflict",
    [410] = "Gone",
    [411] = "Length Required",
    [412] = "Precondition Failed",
    [413] = "Payload Too Large",
    [414] = "URI Too Long",
    [415] = "Unsupported Media Type",
    [416] = "Range Not Satisfiable",
    [417] = "Expectation Failed",
    [421] = "Misdirected Request",
    [422] = "Unprocessable Entity",
    [423] = "Locked",
    [424] = "Failed Dependency",
    [426] = "Upgrade Required",
    [428] = "Precondition Required",
    [429] = "Too Many Requests",
    [431] = "Request Header Fields Too Large",
    [500] = "Internal Server Error",
    [501] = "Not Implemented",
    [502] = "Bad Gateway",
    [503] = "Service Unavailable",
    [504] = "Gateway Timeout",
    [505] = "HTTP Version Not Supported",
    [506] = "Variant Also Negotiates",
    [507] = "Insufficient Storage",
    [508] = "Loop Detected",
    [510] = "Not Extended",
    [511] = "Network Authentication Required",
};

const char *or_h1_reason_phrase(unsigned status)
{
    const char *r = status < 512 ? reasons[status] : NULL;
    return r != NULL ? r : "Unknown";
}

static const struct or_str HOST = OR_STR_LIT("host");
static const struct or_str CL0_LINE = OR_STR_LIT("content-length: 0\r\n");
static const struct or_str TE_LINE = OR_STR_LIT("transfer-encoding: chunked\r\n");

/* Bytes that would end a line or a string early: a filter must not split the message. */
static const bool unsafe[256] = {['\0'] = true, ['\r'] = true, ['\n'] = true};

static bool safe_bytes(struct or_str s)
{
    const unsigned char *p = (const unsigned char *)s.ptr;
    bool bad = false;
    for (size_t i = 0; i < s.len; i++)
        bad |= unsafe[p[i]];
    return !bad;
}

static bool is_name(const struct or_header *e, const char *lit, size_t n)
{
    return e->name.len == n && memcmp(e->name.ptr, lit, n) == 0;
}

/* Does a comma-separated value hold `tok` (case-insensitive)? */
static bool has_token(struct or_str v, const char *tok)
{
    size_t tl = strlen(tok), i = 0;
    while (i < v.len) {
        while (i < v.len && (v.ptr[i] == ' ' || v.ptr[i] == '\t' || v.ptr[i] == ','))
            i++;
        size_t j = i;
        while (j < v.len && v.ptr[j] != ',')
            j++;
        size_t e = j;
        while (e > i && (v.ptr[e - 1] == ' ' || v.ptr[e - 1] == '\t'))
            e--;
        if (e - i == tl && strncasecmp(v.ptr + i, tok, tl) == 0)
            return true;
        i = j;
    }
    return false;
}

/* Envoy's Utility::isUpgrade: Connection holds "upgrade" and an Upgrade header is present. */
static bool is_upgrade(const struct or_headers *h)
{
    const struct or_str *c = or_headers_get(h, "connection");
    return c != NULL && or_headers_get(h, "upgrade") != NULL && has_token(*c, "upgrade");
}

/* Sizes the field lines of h (validating them) into *len; reports content-length presence. */
static int fields_size(const struct or_headers *h, bool request, size_t *len, bool *saw_cl)
{
    size_t n = 0;
    *saw_cl = false;
    if (h == NULL) {
        *len = 0;
        return 0;
    }
    for (uint32_t i = 0; i < h->n; i++) {
        const struct or_header *e = &h->v[i];
        struct or_str name = e->name;
        if (name.len == 0)
            return OR_EINVAL;
        if (name.ptr[0] == ':') {
            if (!(request && is_name(e, ":authority", 10)))
                continue;
            name = HOST;
        } else if (is_name(e, "transfer-encoding", 17)) {
            continue; /* the encoder owns the framing */
        } else if (is_name(e, "content-length", 14)) {
            *saw_cl = true;
        }
        if (!safe_bytes(name) || !safe_bytes(e->value) || memchr(name.ptr, ':', name.len))
            return OR_EINVAL;
        n += name.len + 2 + e->value.len + 2;
    }
    *len = n;
    return 0;
}

static char *put(char *w, const char *s, size_t n)
{
    memcpy(w, s, n);
    return w + n;
}

static char *put_fields(char *w, const struct or_headers *h, bool request)
{
    if (h == NULL)
        return w;
    for (uint32_t i = 0; i < h->n; i++) {
        const struct or_header *e = &h->v[i];
        struct or_str name = e->name;
        if (name.ptr[0] == ':') {
            if (!(request && is_name(e, ":authority", 10)))
                continue;
            name = HOST;
        } else if (is_name(e, "transfer-encoding", 17)) {
            continue;
        }
        w = put(w, name.ptr, name.len);
        *w++ = ':';
        *w++ = ' ';
        w = put(w, e->value.ptr, e->value.len);
        *w++ = '\r';
        *w++ = '\n';
    }
    return w;
}

/* One reservation, filled by the caller's writer, committed at exactly len bytes. */
static char *reserve(struct evbuffer *out, size_t len, struct evbuffer_iovec *v)
{
    if (evbuffer_reserve_space(out, (ev_ssize_t)len, v, 1) != 1 || v->iov_len < len)
        return NULL;
    return v->iov_base;
}

static int commit(struct evbuffer *out, struct evbuffer_iovec *v, size_t len)
{
    v->iov_len = len;
    return evbuffer_commit_space(out, v, 1) == 0 ? 0 : OR_ENOMEM;
}

int or_h1_encode_response_head(struct evbuffer *out, unsigned status, const struct or_headers *h,
                               unsigned http_minor, unsigned flags)
{
    if (status < 100 || status > 999)
        return OR_EINVAL;
    bool end_stream = flags & OR_H1_ENC_END_STREAM;
    bool head = flags & OR_H1_ENC_HEAD;
    /* A rejected CONNECT is an ordinary response (Envoy: status >= 300). */
    bool connect = (flags & OR_H1_ENC_CONNECT) && status < 300;
    size_t flen;
    bool saw_cl;
    int rc = fields_size(h, false, &flen, &saw_cl);
    if (rc != 0)
        return rc;

    bool chunk = false, add_cl0 = false, add_te = false;
    if (saw_cl || (flags & OR_H1_ENC_NO_CHUNKED)) {
        chunk = false;
    } else if (status < 200 || status == 204 || status == 304) {
        chunk = false;
    } else if (end_stream && !head) {
        add_cl0 = true;
    } else if (http_minor == 0) {
        chunk = false;
    } else {
        add_te = !connect;
        chunk = h == NULL ? !head && !connect : !is_upgrade(h) && !head && !connect;
    }

    const char *reason = or_h1_reason_phrase(status);
    size_t rlen = strlen(reason);
    size_t len =
        9 + 3 + 1 + rlen + 2 + flen + (add_cl0 ? CL0_LINE.len : 0) + (add_te ? TE_LINE.len : 0) + 2;
    struct evbuffer_iovec v;
    char *w = reserve(out, len, &v);
    if (w == NULL)
        return OR_ENOMEM;
    char *start = w;
    w = put(w, http_minor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ", 9);
    *w++ = (char)('0' + status / 100);
    *w++ = (char)('0' + status / 10 % 10);
    *w++ = (char)('0' + status % 10);
    *w++ = ' ';
    w = put(w, reason, rlen);
    *w++ = '\r';
    *w++ = '\n';
    w = put_fields(w, h, false);
    if (add_cl0)
        w = put(w, CL0_LINE.ptr, CL0_LINE.len);
    if (add_te)
        w = put(w, TE_LINE.ptr, TE_LINE.len);
    *w++ = '\r';
    *w++ = '\n';
    rc = commit(out, &v, (size_t)(w - start));
    if (rc != 0)
        return rc;

    if (chunk)
        return OR_H1_BODY_CHUNKED;
    if (end_stream || head || status == 204 || status == 304 || (status < 200 && status != 101))
        return OR_H1_BODY_NONE;
    return OR_H1_BODY_RAW;
}

/* Envoy's HeaderUtility::requestShouldHaveNoBody. */
static bool bodiless_method(struct or_str m)
{
    return or_str_eq_lit(m, "GET") || or_str_eq_lit(m, "HEAD") || or_str_eq_lit(m, "DELETE") ||
           or_str_eq_lit(m, "TRACE") || or_str_eq_lit(m, "CONNECT");
}

int or_h1_encode_request_head(struct evbuffer *out, const struct or_headers *h, unsigned flags)
{
    const struct or_str *method = or_headers_get(h, ":method");
    const struct or_str *path = or_headers_get(h, ":path");
    const struct or_str *authority = or_headers_get(h, ":authority");
    if (method == NULL || method->len == 0)
        return OR_EINVAL;
    bool connect = or_str_eq_lit(*method, "CONNECT");
    const struct or_str *target = connect ? authority : path;
    if (target == NULL || target->len == 0)
        return OR_EINVAL;
    if (!safe_bytes(*method) || !safe_bytes(*target) || memchr(method->ptr, ' ', method->len) ||
        memchr(target->ptr, ' ', target->len))
        return OR_EINVAL;
    bool end_stream = flags & OR_H1_ENC_END_STREAM;
    size_t flen;
    bool saw_cl;
    int rc = fields_size(h, true, &flen, &saw_cl);
    if (rc != 0)
        return rc;

    bool disable_chunk = (flags & OR_H1_ENC_NO_CHUNKED) || connect || is_upgrade(h);
    bool chunk = false, add_cl0 = false, add_te = false;
    if (saw_cl || disable_chunk) {
        chunk = false;
    } else if (end_stream) {
        add_cl0 = !bodiless_method(*method);
    } else {
        add_te = true;
        chunk = true;
    }

    size_t len = method->len + 1 + target->len + 11 + flen + (add_cl0 ? CL0_LINE.len : 0) +
                 (add_te ? TE_LINE.len : 0) + 2;
    struct evbuffer_iovec v;
    char *w = reserve(out, len, &v);
    if (w == NULL)
        return OR_ENOMEM;
    char *start = w;
    w = put(w, method->ptr, method->len);
    *w++ = ' ';
    w = put(w, target->ptr, target->len);
    w = put(w, " HTTP/1.1\r\n", 11);
    w = put_fields(w, h, true);
    if (add_cl0)
        w = put(w, CL0_LINE.ptr, CL0_LINE.len);
    if (add_te)
        w = put(w, TE_LINE.ptr, TE_LINE.len);
    *w++ = '\r';
    *w++ = '\n';
    rc = commit(out, &v, (size_t)(w - start));
    if (rc != 0)
        return rc;
    if (chunk)
        return OR_H1_BODY_CHUNKED;
    return end_stream ? OR_H1_BODY_NONE : OR_H1_BODY_RAW;
}

int or_h1_encode_chunk(struct evbuffer *out, struct evbuffer *data)
{
    size_t len = evbuffer_get_length(data);
    if (len == 0)
        return 0;
    static const char hex[] = "0123456789abcdef";
    char buf[2 * sizeof(size_t) + 2];
    size_t i = sizeof(buf) - 2;
    buf[sizeof(buf) - 2] = '\r';
    buf[sizeof(buf) - 1] = '\n';
    do {
        buf[--i] = hex[len & 0xf];
        len >>= 4;
    } while (len != 0);
    if (evbuffer_add(out, buf + i, sizeof(buf) - i) != 0 || evbuffer_add_buffer(out, data) != 0 ||
        evbuffer_add(out, "\r\n", 2) != 0)
        return OR_ENOMEM;
    return 0;
}

int or_h1_encode_last_chunk(struct evbuffer *out, const struct or_headers *trailers)
{
    size_t flen;
    bool saw_cl;
    int rc = fields_size(trailers, false, &flen, &saw_cl);
    if (rc != 0)
        return rc;
    size_t len = 3 + flen + 2;
    struct evbuffer_iovec v;
    char *w = reserve(out, len, &v);
    if (w == NULL)
        return OR_ENOMEM;
    char *start = w;
    w = put(w, "0\r\n", 3);
    w = put_fields(w, trailers, false);
    *w++ = '\r';
    *w++ = '\n';
    return commit(out, &v, (size_t)(w - start));
}
