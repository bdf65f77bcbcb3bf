/* HTTP/1.1 parser: llhttp for the semantics, codec_h1_scan for strictness, evbuffer chain moves
 * for bodies. See codec_h1.h for the contract. */
#include "proxy/http/codec_h1.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "proxy/core/err.h"

static const struct or_str NAME_METHOD = OR_STR_LIT(":method");
static const struct or_str NAME_PATH = OR_STR_LIT(":path");
static const struct or_str NAME_AUTHORITY = OR_STR_LIT(":authority");
static const struct or_str NAME_SCHEME = OR_STR_LIT(":scheme");
static const struct or_str NAME_STATUS = OR_STR_LIT(":status");

/* Methods Envoy's HTTP/1 codec accepts (balsa_parser.cc kValidMethods, minus MSEARCH, which
 * llhttp spells M-SEARCH). llhttp knows more (RTSP, PRI, M-SEARCH, ...): those are rejected. */
static bool method_allowed(unsigned m)
{
    switch (m) {
    case HTTP_ACL:
    case HTTP_BIND:
    case HTTP_CHECKOUT:
    case HTTP_CONNECT:
    case HTTP_COPY:
    case HTTP_DELETE:
    case HTTP_GET:
    case HTTP_HEAD:
    case HTTP_LINK:
    case HTTP_LOCK:
    case HTTP_MERGE:
    case HTTP_MKACTIVITY:
    case HTTP_MKCALENDAR:
    case HTTP_MKCOL:
    case HTTP_MOVE:
    case HTTP_NOTIFY:
    case HTTP_OPTIONS:
    case HTTP_PATCH:
    case HTTP_POST:
    case HTTP_PROPFIND:
    case HTTP_PROPPATCH:
    case HTTP_PURGE:
    case HTTP_PUT:
    case HTTP_REBIND:
    case HTTP_REPORT:
    case HTTP_SEARCH:
    case HTTP_SOURCE:
    case HTTP_SUBSCRIBE:
    case HTTP_TRACE:
    case HTTP_UNBIND:
    case HTTP_UNLINK:
    case HTTP_UNLOCK:
    case HTTP_UNSUBSCRIBE:
        return true;
    default:
        return false;
    }
}

static struct or_h1_parser *self(llhttp_t *ll)
{
    return ll->data;
}

/* Records a protocol error; returns -1 so llhttp stops. The response parser answers nothing:
 * its status is the 502 the router turns an upstream protocol error into. */
static int fail(struct or_h1_parser *p, unsigned status, const char *details, const char *reason)
{
    if (p->err.details == NULL) {
        p->err.status = p->kind == OR_H1_RESPONSE ? 502 : status;
        p->err.details = details;
        p->err.reason = reason;
    }
    return -1;
}

static int fail_nomem(struct or_h1_parser *p)
{
    p->cb_ret = OR_ENOMEM;
    return -1;
}

/* ---- header map helpers (entries are arena slices; the map API has no insert/erase) ---- */

static void hdr_erase(struct or_headers *h, uint32_t idx)
{
    h->bytes -= h->v[idx].name.len + h->v[idx].value.len;
    memmove(&h->v[idx], &h->v[idx + 1], sizeof(h->v[0]) * (h->n - idx - 1));
    h->n--;
}

/* Appends, then rotates the new entry into position idx. */
static int hdr_insert(struct or_headers *h, uint32_t idx, struct or_str name, struct or_str value)
{
    if (or_headers_add_ref(h, name, value) != 0)
        return OR_ENOMEM;
    if (idx < h->n - 1) {
        struct or_header e = h->v[h->n - 1];
        memmove(&h->v[idx + 1], &h->v[idx], sizeof(h->v[0]) * (h->n - 1 - idx));
        h->v[idx] = e;
    }
    return 0;
}

static void hdr_move(struct or_headers *h, uint32_t from, uint32_t to)
{
    struct or_header e = h->v[from];
    if (from > to)
        memmove(&h->v[to + 1], &h->v[to], sizeof(e) * (from - to));
    else if (from < to)
        memmove(&h->v[from], &h->v[from + 1], sizeof(e) * (to - from));
    h->v[to] = e;
}

static int32_t hdr_find(const struct or_headers *h, const char *name, size_t nlen)
{
    for (uint32_t i = 0; i < h->n; i++)
        if (h->v[i].name.len == nlen && memcmp(h->v[i].name.ptr, name, nlen) == 0)
            return (int32_t)i;
    return -1;
}

static bool str_case_eq_lit(struct or_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && strncasecmp(s.ptr, lit, n) == 0;
}

/* ---- fragments: bytes of the URL, a name or a value, in the segment or copied to acc ---- */

static int acc_reserve(struct or_h1_parser *p, size_t more)
{
    size_t need = (size_t)p->acc_len + more;
    if (need <= p->acc_cap)
        return 0;
    size_t cap = p->acc_cap ? p->acc_cap : 256;
    while (cap < need)
        cap *= 2;
    char *a = realloc(p->acc, cap);
    if (a == NULL)
        return OR_ENOMEM;
    p->acc = a;
    p->acc_cap = (uint32_t)cap;
    return 0;
}

/* Moves a fragment still pointing into the segment to the end of acc. */
static int frag_to_acc(struct or_h1_parser *p, struct or_h1_frag *f)
{
    if (f->in_acc || f->len == 0)
        return 0;
    if (acc_reserve(p, f->len) != 0)
        return OR_ENOMEM;
    memcpy(p->acc + p->acc_len, f->ptr, f->len);
    f->off = p->acc_len;
    f->in_acc = true;
    p->acc_len += f->len;
    return 0;
}

static int frag_append(struct or_h1_parser *p, struct or_h1_frag *f, const char *at, size_t len)
{
    if (len == 0)
        return 0;
    if (!f->in_acc && f->len == 0) {
        f->ptr = at;
        f->len = (uint32_t)len;
        return 0;
    }
    /* A second piece: the item spans segments, so it must live in acc as its last item (names
     * complete before values start, the URL before names: move the earlier one first). */
    if ((f == &p->value && frag_to_acc(p, &p->name) != 0) || frag_to_acc(p, f) != 0 ||
        acc_reserve(p, len) != 0)
        return OR_ENOMEM;
    memcpy(p->acc + p->acc_len, at, len);
    p->acc_len += (uint32_t)len;
    f->len += (uint32_t)len;
    return 0;
}

static struct or_str frag_str(const struct or_h1_parser *p, const struct or_h1_frag *f)
{
    if (f->len == 0)
        return or_str_make("", 0);
    return or_str_make(f->in_acc ? p->acc + f->off : f->ptr, f->len);
}

/* Called before the segment's bytes leave `in`: pending pieces must survive them. */
static int frags_flush(struct or_h1_parser *p)
{
    if (frag_to_acc(p, &p->url) != 0 || frag_to_acc(p, &p->name) != 0 ||
        frag_to_acc(p, &p->value) != 0)
        return OR_ENOMEM;
    return 0;
}

static void frags_reset(struct or_h1_parser *p)
{
    memset(&p->url, 0, sizeof(p->url));
    memset(&p->name, 0, sizeof(p->name));
    memset(&p->value, 0, sizeof(p->value));
    p->acc_len = 0;
}

/* ---- llhttp callbacks ---- */

static void reset_message(struct or_h1_parser *p)
{
    memset(&p->msg, 0, sizeof(p->msg));
    p->trailers = NULL;
    frags_reset(p);
    p->nfields = 0;
    p->host_idx = -1;
    p->upgrade_idx = -1;
    p->host_count = 0;
    p->cl_count = 0;
    p->te_count = 0;
    p->te_chunked_only = true;
    p->in_trailers = false;
    p->skip_field = false;
}

static int on_message_begin(llhttp_t *ll)
{
    struct or_h1_parser *p = self(ll);
    reset_message(p);
    p->state = OR_H1_S_MSG;
    if (p->arena == NULL) {
        p->cb_ret = OR_EINVAL;
        return -1;
    }
    struct or_headers *h = or_arena_alloc(p->arena, sizeof(*h));
    if (h == NULL)
        return fail_nomem(p);
    or_headers_init(h, p->arena);
    p->msg.headers = h;
    return 0;
}

static int on_url(llhttp_t *ll, const char *at, size_t len)
{
    struct or_h1_parser *p = self(ll);
    return frag_append(p, &p->url, at, len) == 0 ? 0 : fail_nomem(p);
}

static int on_url_complete(llhttp_t *ll)
{
    struct or_h1_parser *p = self(ll);
    if (!method_allowed(ll->method))
        return fail(p, 400, OR_H1_DETAILS_CODEC_ERROR, "HPE_INVALID_METHOD");
    struct or_str url = frag_str(p, &p->url);
    char *u = or_arena_strndup(p->arena, url.ptr, url.len);
    if (u == NULL)
        return fail_nomem(p);
    const char *m = llhttp_method_name((llhttp_method_t)ll->method);
    if (or_headers_add_ref(p->msg.headers, NAME_METHOD, or_str_cstr(m)) != 0 ||
        or_headers_add_ref(p->msg.headers, NAME_PATH, or_str_make(u, url.len)) != 0)
        return fail_nomem(p);
    frags_reset(p);
    return 0;
}

static int on_header_field(llhttp_t *ll, const char *at, size_t len)
{
    struct or_h1_parser *p = self(ll);
    return frag_append(p, &p->name, at, len) == 0 ? 0 : fail_nomem(p);
}

static int on_header_value(llhttp_t *ll, const char *at, size_t len)
{
    struct or_h1_parser *p = self(ll);
    return frag_append(p, &p->value, at, len) == 0 ? 0 : fail_nomem(p);
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* A complete field line: checks, lower-cases into the arena, notes framing headers. */
static int on_header_value_complete(llhttp_t *ll)
{
    struct or_h1_parser *p = self(ll);
    struct or_str name = frag_str(p, &p->name);
    struct or_str value = frag_str(p, &p->value);
    while (value.len > 0 && is_ows(value.ptr[0])) {
        value.ptr++;
        value.len--;
    }
    while (value.len > 0 && is_ows(value.ptr[value.len - 1]))
        value.len--;

    if (p->kind == OR_H1_REQUEST && p->opts.underscores != OR_H1_UNDERSCORES_ALLOW &&
        memchr(name.ptr, '_', name.len) != NULL) {
        if (p->opts.underscores == OR_H1_UNDERSCORES_REJECT) {
            p->stats.rejected_underscore_headers++;
            return fail(p, 400, OR_H1_DETAILS_UNDERSCORE, "header name contains underscores");
        }
        p->stats.dropped_underscore_headers++;
        frags_reset(p);
        return 0;
    }

    if (++p->nfields > p->max_headers_count)
        return fail(p, 431, OR_H1_DETAILS_TOO_MANY_HEADERS,
                    p->in_trailers ? "trailers count exceeds limit"
                                   : "headers count exceeds limit");

    struct or_headers *h = p->msg.headers;
    if (p->in_trailers) {
        if (p->trailers == NULL) {
            p->trailers = or_arena_alloc(p->arena, sizeof(*p->trailers));
            if (p->trailers == NULL)
                return fail_nomem(p);
            or_headers_init(p->trailers, p->arena);
        }
        h = p->trailers;
    }

    char *n = or_arena_alloc(p->arena, name.len + value.len + 2);
    if (n == NULL)
        return fail_nomem(p);
    for (size_t i = 0; i < name.len; i++) {
        char c = name.ptr[i];
        n[i] = (char)(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
    }
    n[name.len] = '\0';
    char *v = n + name.len + 1;
    memcpy(v, value.ptr, value.len);
    v[value.len] = '\0';
    struct or_str lname = or_str_make(n, name.len);
    struct or_str val = or_str_make(v, value.len);
    if (or_headers_add_ref(h, lname, val) != 0)
        return fail_nomem(p);
    frags_reset(p);

    if (p->in_trailers) {
        /* Framing fields have no business in trailers (RFC 9110 6.5.1), and llhttp 8 acts on
         * them there (a Transfer-Encoding trailer rewrites its chunked flag). */
        if ((lname.len == 17 && memcmp(n, "transfer-encoding", 17) == 0) ||
            (lname.len == 14 && memcmp(n, "content-length", 14) == 0))
            return fail(p, 400, OR_H1_DETAILS_CODEC_ERROR, "framing header in trailers");
        return 0;
    }
    int32_t idx = (int32_t)h->n - 1;
    switch (lname.len) {
    case 4:
        if (memcmp(n, "host", 4) == 0 && p->kind == OR_H1_REQUEST) {
            if (p->host_count < UINT8_MAX)
                p->host_count++;
            if (p->host_idx < 0)
                p->host_idx = idx;
        }
        break;
    case 6:
        if (memcmp(n, "expect", 6) == 0 && p->kind == OR_H1_REQUEST &&
            str_case_eq_lit(val, "100-continue"))
            p->msg.expect_continue = true;
        break;
    case 7:
        if (memcmp(n, "upgrade", 7) == 0 && p->upgrade_idx < 0)
            p->upgrade_idx = idx;
        break;
    case 14:
        if (memcmp(n, "content-length", 14) == 0 && p->cl_count < UINT8_MAX)
            p->cl_count++;
        break;
    case 17:
        if (memcmp(n, "transfer-encoding", 17) == 0) {
            if (p->te_count < UINT8_MAX)
                p->te_count++;
            if (!str_case_eq_lit(val, "chunked"))
                p->te_chunked_only = false;
        }
        break;
    default:
        break;
    }
    return 0;
}

/* Removes the tokens "upgrade" and "http2-settings" from Connection (Envoy's h2c handling). */
static int strip_h2c(struct or_h1_parser *p)
{
    struct or_headers *h = p->msg.headers;
    or_headers_remove(h, "upgrade");
    or_headers_remove(h, "http2-settings");
    int32_t ci = hdr_find(h, "connection", 10);
    if (ci >= 0) {
        struct or_str v = h->v[ci].value;
        char *out = or_arena_alloc(p->arena, v.len + 1);
        if (out == NULL)
            return OR_ENOMEM;
        size_t o = 0, i = 0;
        while (i <= v.len) {
            size_t j = i;
            while (j < v.len && v.ptr[j] != ',')
                j++;
            struct or_str tok = or_str_make(v.ptr + i, j - i);
            while (tok.len > 0 && is_ows(tok.ptr[0])) {
                tok.ptr++;
                tok.len--;
            }
            while (tok.len > 0 && is_ows(tok.ptr[tok.len - 1]))
                tok.len--;
            if (tok.len > 0 && !str_case_eq_lit(tok, "upgrade") &&
                !str_case_eq_lit(tok, "http2-settings")) {
                if (o > 0)
                    out[o++] = ',';
                memcpy(out + o, tok.ptr, tok.len);
                o += tok.len;
            }
            i = j + 1;
        }
        out[o] = '\0';
        if (o == 0) {
            hdr_erase(h, (uint32_t)ci);
        } else {
            h->bytes -= h->v[ci].value.len;
            h->v[ci].value = or_str_make(out, o);
            h->bytes += o;
        }
    }
    p->host_idx = hdr_find(h, "host", 4);
    return 0;
}

/* nghttp2_check_authority's alphabet: unreserved, sub-delims, ':', '@', '[', ']', '%'. */
static const bool authority_chars[256] = {
    ['0' ... '9'] = true, ['A' ... 'Z'] = true, ['a' ... 'z'] = true, ['-'] = true, ['.'] = true,
    ['_'] = true,         ['~'] = true,         ['!'] = true,         ['$'] = true, ['&'] = true,
    ['\''] = true,        ['('] = true,         [')'] = true,         ['*'] = true, ['+'] = true,
    [','] = true,         [';'] = true,         ['='] = true,         [':'] = true, ['@'] = true,
    ['['] = true,         [']'] = true,         ['%'] = true,
};

static bool authority_valid(struct or_str a)
{
    for (size_t i = 0; i < a.len; i++)
        if (!authority_chars[(unsigned char)a.ptr[i]])
            return false;
    return true;
}

/* authority-form of CONNECT: host ":" port. */
static bool connect_target_valid(struct or_str t)
{
    if (t.len == 0 || !authority_valid(t) || memchr(t.ptr, '@', t.len) != NULL)
        return false;
    const char *colon = NULL;
    for (size_t i = t.len; i > 0; i--)
        if (t.ptr[i - 1] == ':') {
            colon = t.ptr + i - 1;
            break;
        }
    if (colon == NULL || colon == t.ptr)
        return false;
    size_t plen = (size_t)(t.ptr + t.len - colon - 1);
    if (plen == 0 || plen > 5)
        return false;
    for (size_t i = 1; i <= plen; i++)
        if (!isdigit((unsigned char)colon[i]))
            return false;
    return true;
}

/* absolute-form: scheme "://" authority [ path-abempty ] [ "?" query ]. Returns 0, 1 when
 * invalid, or OR_ENOMEM. */
static int absolute_url(struct or_h1_parser *p, struct or_str url, struct or_str *scheme,
                        struct or_str *authority, struct or_str *path)
{
    size_t i = 0;
    if (url.len == 0 || !isalpha((unsigned char)url.ptr[0]))
        return 1;
    while (i < url.len && (isalnum((unsigned char)url.ptr[i]) || url.ptr[i] == '+' ||
                           url.ptr[i] == '-' || url.ptr[i] == '.'))
        i++;
    if (url.len - i < 3 || memcmp(url.ptr + i, "://", 3) != 0)
        return 1;
    *scheme = or_str_make(url.ptr, i);
    size_t a = i + 3, e = a;
    while (e < url.len && url.ptr[e] != '/' && url.ptr[e] != '?' && url.ptr[e] != '#')
        e++;
    *authority = or_str_make(url.ptr + a, e - a);
    if (authority->len == 0 || !authority_valid(*authority) ||
        memchr(authority->ptr, '@', authority->len) != NULL)
        return 1;
    if (e == url.len || url.ptr[e] == '#') {
        *path = OR_STR_LIT("/");
    } else if (url.ptr[e] == '?') {
        char *pp = or_arena_alloc(p->arena, url.len - e + 2);
        if (pp == NULL)
            return OR_ENOMEM;
        pp[0] = '/';
        memcpy(pp + 1, url.ptr + e, url.len - e);
        pp[url.len - e + 1] = '\0';
        *path = or_str_make(pp, url.len - e + 1);
    } else {
        *path = or_str_make(url.ptr + e, url.len - e);
    }
    return 0;
}

/* Envoy's onHeadersCompleteImpl + ServerConnectionImpl::onHeadersCompleteBase (handlePath,
 * checkProtocolVersion, requestHeadersValid), in that order. */
static int request_head(struct or_h1_parser *p)
{
    llhttp_t *ll = &p->ll;
    struct or_headers *h = p->msg.headers;
    bool connect = ll->method == HTTP_CONNECT;

    p->msg.method = ll->method;
    p->msg.connect = connect;
    if (ll->upgrade && !connect && p->upgrade_idx >= 0 &&
        str_case_eq_lit(h->v[p->upgrade_idx].value, "h2c")) {
        /* h2c upgrades are not supported: drop the offer and serve the request as HTTP/1.1. */
        if (strip_h2c(p) != 0)
            return fail_nomem(p);
        ll->upgrade = 0;
    }
    if (connect && p->cl_count > 0) {
        if (ll->content_length != 0)
            return fail(p, 400, OR_H1_DETAILS_BODY_DISALLOWED, "unsupported content length");
        or_headers_remove(h, "content-length");
        p->cl_count = 0;
        p->host_idx = hdr_find(h, "host", 4);
    }
    if (p->te_count > 0 && p->cl_count > 0) {
        /* Only reachable with allow_chunked_length (llhttp rejects CL + TE otherwise). */
        if (!(p->opts.allow_chunked_length && (ll->flags & F_CHUNKED)))
            return fail(p, 400, OR_H1_DETAILS_CL_AND_CHUNKED,
                        "both Content-Length and Transfer-Encoding are set");
        or_headers_remove(h, "content-length");
        p->cl_count = 0;
        p->host_idx = hdr_find(h, "host", 4);
    }
    if (p->te_count > 0 && (p->te_count > 1 || !p->te_chunked_only || connect))
        return fail(p, 501, OR_H1_DETAILS_INVALID_TE, "unsupported transfer encoding");

    /* handlePath: :path is entry 1 and holds the request-target. */
    struct or_str target = h->v[1].value;
    struct or_str authority = OR_STR_NULL;
    bool have_authority = false;
    if (connect) {
        if (!connect_target_valid(target))
            return fail(p, 400, OR_H1_DETAILS_INVALID_URL, "invalid url in request line");
        authority = target;
        have_authority = true;
        hdr_erase(h, 1);
        if (p->host_idx > 1)
            p->host_idx--;
    } else if (target.ptr[0] != '/' && !(ll->method == HTTP_OPTIONS && target.ptr[0] == '*')) {
        struct or_str scheme, path;
        int rc = absolute_url(p, target, &scheme, &authority, &path);
        if (rc == OR_ENOMEM)
            return fail_nomem(p);
        if (rc != 0)
            return fail(p, 400, OR_H1_DETAILS_INVALID_URL, "invalid url in request line");
        char *s = or_arena_strndup(p->arena, scheme.ptr, scheme.len);
        if (s == NULL)
            return fail_nomem(p);
        for (size_t i = 0; i < scheme.len; i++)
            s[i] = (char)tolower((unsigned char)s[i]);
        if (!(scheme.len == 4 && memcmp(s, "http", 4) == 0) &&
            !(scheme.len == 5 && memcmp(s, "https", 5) == 0))
            return fail(p, 400, OR_H1_DETAILS_INVALID_SCHEME, "invalid scheme");
        h->bytes += path.len - h->v[1].value.len;
        h->v[1].value = path;
        /* RFC 9112 3.2.2: the target's authority replaces any Host field. */
        or_headers_remove(h, "host");
        p->host_idx = -1;
        p->host_count = 0;
        have_authority = true;
        if (hdr_insert(h, 2, NAME_SCHEME, or_str_make(s, scheme.len)) != 0)
            return fail_nomem(p);
    }

    /* checkProtocolVersion */
    if (ll->http_minor == 0) {
        if (!p->opts.accept_http_10)
            return fail(p, 426, OR_H1_DETAILS_LOW_VERSION, "HTTP/1.0 not accepted");
        if (!have_authority && p->host_count == 0 && p->opts.default_host_for_http_10.len > 0) {
            authority = p->opts.default_host_for_http_10;
            have_authority = true;
        }
    }

    /* requestHeadersValid: the authority. Two Host fields are refused outright (RFC 9112 3.2;
     * Envoy would join them with ','). */
    if (!have_authority && p->host_count > 1)
        return fail(p, 400, OR_H1_DETAILS_INVALID_AUTHORITY, "multiple Host headers");
    uint32_t apos = connect ? 1 : 2;
    if (have_authority) {
        if (!authority_valid(authority))
            return fail(p, 400, OR_H1_DETAILS_INVALID_AUTHORITY, "invalid authority");
        if (hdr_insert(h, apos, NAME_AUTHORITY, authority) != 0)
            return fail_nomem(p);
        if (connect && p->host_idx >= 0) {
            /* CONNECT: the target is the authority; a Host field is dropped like a duplicate. */
            or_headers_remove(h, "host");
        }
    } else if (p->host_idx >= 0) {
        struct or_header *e = &h->v[p->host_idx];
        if (!authority_valid(e->value))
            return fail(p, 400, OR_H1_DETAILS_INVALID_AUTHORITY, "invalid authority");
        h->bytes += NAME_AUTHORITY.len - e->name.len;
        e->name = NAME_AUTHORITY;
        hdr_move(h, (uint32_t)p->host_idx, apos);
    }
    return 0;
}

/* Envoy's ClientConnectionImpl::onHeadersCompleteBase checks. */
static int response_head(struct or_h1_parser *p, bool *skip_body)
{
    llhttp_t *ll = &p->ll;
    struct or_headers *h = p->msg.headers;
    unsigned status = ll->status_code;

    if (status < 100)
        return fail(p, 502, OR_H1_DETAILS_CODEC_ERROR, "invalid status code");
    p->msg.status = status;
    char *s = or_arena_alloc(p->arena, 4);
    if (s == NULL)
        return fail_nomem(p);
    s[0] = (char)('0' + status / 100 % 10);
    s[1] = (char)('0' + status / 10 % 10);
    s[2] = (char)('0' + status % 10);
    s[3] = '\0';
    if (hdr_insert(h, 0, NAME_STATUS, or_str_make(s, 3)) != 0)
        return fail_nomem(p);

    if (p->te_count > 0 && (p->te_count > 1 || !p->te_chunked_only))
        return fail(p, 501, OR_H1_DETAILS_INVALID_TE, "unsupported transfer encoding");
    if (status < 200 || status == 204) {
        if (p->te_count > 0)
            return fail(p, 502, OR_H1_DETAILS_TE_NOT_ALLOWED,
                        "transfer encoding not allowed in 1xx or 204");
        if (p->cl_count > 0) {
            if (ll->content_length != 0)
                return fail(p, 502, OR_H1_DETAILS_CL_NOT_ALLOWED,
                            "content length not allowed in 1xx or 204");
            or_headers_remove(h, "content-length");
            p->cl_count = 0;
        }
    }

    bool upgrade = false;
    if ((p->expect_req & OR_H1_EXPECT_CONNECT) && status >= 200 && status < 300)
        upgrade = true;
    else if ((p->expect_req & OR_H1_EXPECT_UPGRADE) && status == 101 && ll->upgrade)
        upgrade = true;
    ll->upgrade = upgrade ? 1 : 0;
    p->msg.upgrade = upgrade;
    p->msg.informational = status < 200 && !upgrade;
    /* llhttp reads a body for 204/304 with Content-Length, so say it explicitly. */
    *skip_body =
        (p->expect_req & OR_H1_EXPECT_HEAD) || status < 200 || status == 204 || status == 304;
    return 0;
}

static int on_headers_complete(llhttp_t *ll)
{
    struct or_h1_parser *p = self(ll);
    bool skip = false;
    int rc;

    p->msg.http_minor = ll->http_minor;
    if (p->kind == OR_H1_REQUEST) {
        rc = request_head(p);
        p->msg.upgrade = ll->upgrade != 0;
    } else {
        rc = response_head(p, &skip);
    }
    if (rc != 0)
        return rc;
    /* Our reading of Transfer-Encoding must be llhttp's, or the two would frame the body
     * differently (llhttp 8 does not see "chunked\t" as chunked, for one). */
    if (p->te_count > 0 && !(ll->flags & F_CHUNKED))
        return fail(p, 501, OR_H1_DETAILS_INVALID_TE, "transfer encoding not understood");
    if (p->te_count == 0 && (ll->flags & (F_CHUNKED | F_TRANSFER_ENCODING)))
        return fail(p, 501, OR_H1_DETAILS_INVALID_TE, "transfer encoding not understood");

    struct or_h1_msg *m = &p->msg;
    /* A tunnel has no framing: its Content-Length / chunked are ignored (RFC 9110 9.3.6). */
    m->chunked = !m->upgrade && (ll->flags & F_CHUNKED) != 0;
    m->has_content_length = !m->upgrade && p->cl_count > 0 && !m->chunked;
    m->content_length = m->has_content_length ? ll->content_length : 0;

    enum or_h1_scan_body body;
    uint64_t len = 0;
    if (m->upgrade) {
        body = OR_H1_SCAN_BODY_TUNNEL;
        skip = true;
    } else if (skip) {
        body = OR_H1_SCAN_BODY_NONE;
    } else if (m->chunked) {
        body = OR_H1_SCAN_BODY_CHUNKED;
    } else if (m->has_content_length) {
        body = OR_H1_SCAN_BODY_LENGTH;
        len = m->content_length;
    } else if (p->kind == OR_H1_RESPONSE) {
        body = OR_H1_SCAN_BODY_EOF;
    } else {
        body = OR_H1_SCAN_BODY_NONE;
    }
    if (skip)
        ll->flags |= F_SKIPBODY;
    if (m->informational) {
        /* The final response decides about the connection: llhttp would otherwise drop every
         * byte after an HTTP/1.0 or "Connection: close" 1xx without a word. */
        ll->flags = (uint16_t)((ll->flags & ~F_CONNECTION_CLOSE) | F_CONNECTION_KEEP_ALIVE);
    }
    m->keep_alive = llhttp_should_keep_alive(ll) != 0;
    /* RFC 9112 6.1: Transfer-Encoding in an HTTP/1.0 message means faulty framing: close after. */
    if (ll->http_minor == 0 && p->te_count > 0)
        m->keep_alive = false;
    m->end_stream = !m->upgrade &&
                    (body == OR_H1_SCAN_BODY_NONE || (body == OR_H1_SCAN_BODY_LENGTH && len == 0));
    or_h1_scan_set_body(&p->scan, body, len);

    rc = p->cb->on_headers(p->ctx, m);
    if (rc == OR_EAGAIN) {
        /* llhttp resumes at after_headers_complete, which reads these flags. */
        p->cb_paused = true;
        return HPE_PAUSED;
    }
    if (rc < 0) {
        p->cb_ret = rc;
        return -1;
    }
    return m->upgrade ? 2 : skip ? 1 : 0;
}

static int on_body(llhttp_t *ll, const char *at, size_t len)
{
    struct or_h1_parser *p = self(ll);
    if (len == 0)
        return 0;
    /* Zero copy: drop the framing before the span, then move the span's bytes out of `in`
     * (whole chains move; a chain cut in the middle is copied by libevent). Only the tail of
     * the segment can go with a moved chain, and llhttp stops reading there. */
    size_t off = (size_t)(at - p->seg);
    if (off > p->seg_drained)
        evbuffer_drain(p->in, off - p->seg_drained);
    /* The hand-over buffer exists only once a body shows up: idle connections stay small. */
    if (p->body == NULL && (p->body = evbuffer_new()) == NULL)
        return fail_nomem(p);
    if (evbuffer_remove_buffer(p->in, p->body, len) != (int)len)
        return fail_nomem(p);
    p->seg_drained = off + len;
    int rc = p->cb->on_body(p->ctx, p->body);
    size_t left = evbuffer_get_length(p->body);
    if (left > 0)
        evbuffer_drain(p->body, left);
    if (rc < 0) {
        p->cb_ret = rc;
        return -1;
    }
    return 0;
}

static int on_chunk_header(llhttp_t *ll)
{
    struct or_h1_parser *p = self(ll);
    if (ll->content_length == 0) {
        /* last-chunk: field lines from now on are trailers, with their own count. */
        p->in_trailers = true;
        p->nfields = 0;
    }
    return 0;
}

static int on_message_complete(llhttp_t *ll)
{
    struct or_h1_parser *p = self(ll);
    if (p->msg.upgrade)
        return 0; /* llhttp stops with HPE_PAUSED_UPGRADE; the tunnel goes on */
    if (p->msg.informational)
        return 0; /* the final response follows in the same exchange */
    /* Cleared before the callbacks, which may already announce the next request. */
    p->expect_req = 0;
    /* A "Connection: close" trailer makes llhttp drop whatever follows: close, as it will. */
    if (!llhttp_should_keep_alive(ll))
        p->msg.keep_alive = false;
    int rc = 0;
    if (p->trailers != NULL && p->cb->on_trailers != NULL)
        rc = p->cb->on_trailers(p->ctx, p->trailers);
    if (rc >= 0 || rc == OR_EAGAIN)
        rc = p->cb->on_message_complete(p->ctx);
    if (rc < 0 && rc != OR_EAGAIN) {
        p->cb_ret = rc;
        return -1;
    }
    /* One message at a time: the caller answers (or sends the next request) first. */
    return HPE_PAUSED;
}

/* ---- API ---- */

/* One callback table for every parser (llhttp only reads it): an idle connection does not carry
 * its own copy. */
static const llhttp_settings_t h1_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_url_complete = on_url_complete,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_header_value_complete = on_header_value_complete,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_chunk_header = on_chunk_header,
    .on_message_complete = on_message_complete,
};

int or_h1_parser_init(struct or_h1_parser *p, enum or_h1_kind kind,
                      const struct or_h1_callbacks *cb, void *ctx, uint32_t max_header_bytes,
                      uint32_t max_headers_count)
{
    memset(p, 0, sizeof(*p));
    p->kind = kind;
    p->cb = cb;
    p->ctx = ctx;
    p->max_header_bytes = max_header_bytes
                              ? max_header_bytes
                              : (kind == OR_H1_REQUEST ? OR_H1_DEFAULT_MAX_REQUEST_HEADER_BYTES
                                                       : OR_H1_DEFAULT_MAX_RESPONSE_HEADER_BYTES);
    p->max_headers_count = max_headers_count ? max_headers_count : OR_H1_DEFAULT_MAX_HEADERS_COUNT;
    llhttp_init(&p->ll, kind == OR_H1_REQUEST ? HTTP_REQUEST : HTTP_RESPONSE, &h1_settings);
    p->ll.data = p;
    or_h1_scan_init(&p->scan, kind == OR_H1_RESPONSE, p->max_header_bytes);
    reset_message(p);
    p->state = OR_H1_S_IDLE;
    return 0;
}

void or_h1_parser_deinit(struct or_h1_parser *p)
{
    if (p->body != NULL)
        evbuffer_free(p->body);
    free(p->acc);
    p->body = NULL;
    p->acc = NULL;
}

void or_h1_parser_set_options(struct or_h1_parser *p, const struct or_h1_options *o)
{
    p->opts = *o;
    /* The only lenient flag ever set, and only on explicit configuration (Envoy's
     * allow_chunked_length): CL is then dropped in favour of chunked. */
    llhttp_set_lenient_chunked_length(&p->ll, o->allow_chunked_length ? 1 : 0);
}

void or_h1_parser_set_arena(struct or_h1_parser *p, struct or_arena *a)
{
    p->arena = a;
}

void or_h1_parser_expect(struct or_h1_parser *p, unsigned flags)
{
    p->expect_req = flags;
}

void or_h1_parser_expect_no_body(struct or_h1_parser *p)
{
    p->expect_req |= OR_H1_EXPECT_HEAD;
}

bool or_h1_parser_paused(const struct or_h1_parser *p)
{
    return p->state == OR_H1_S_PAUSED || p->state == OR_H1_S_DONE;
}

bool or_h1_parser_closed(const struct or_h1_parser *p)
{
    return p->state == OR_H1_S_CLOSED;
}

const struct or_h1_error *or_h1_parser_error(const struct or_h1_parser *p)
{
    return &p->err;
}

const struct or_h1_stats *or_h1_parser_stats(const struct or_h1_parser *p)
{
    return &p->stats;
}

int or_h1_parser_resume(struct or_h1_parser *p)
{
    switch (p->state) {
    case OR_H1_S_PAUSED:
        llhttp_resume(&p->ll);
        p->state = OR_H1_S_MSG;
        return 0;
    case OR_H1_S_DONE:
        llhttp_resume(&p->ll);
        if (!p->msg.keep_alive) {
            p->state = OR_H1_S_CLOSED;
            return OR_ECLOSED;
        }
        p->state = OR_H1_S_IDLE;
        return 0;
    case OR_H1_S_CLOSED:
        return OR_ECLOSED;
    case OR_H1_S_ERROR:
        return p->err_code;
    default:
        return 0;
    }
}

static int set_dead(struct or_h1_parser *p, int code)
{
    p->state = OR_H1_S_ERROR;
    p->err_code = code;
    p->in = NULL;
    return code;
}

/* Maps an llhttp failure to what Envoy answers. */
static int llhttp_failed(struct or_h1_parser *p, llhttp_errno_t e)
{
    if (p->cb_ret < 0)
        return set_dead(p, p->cb_ret);
    if (p->err.details == NULL) {
        switch (e) {
        case HPE_UNEXPECTED_CONTENT_LENGTH:
            if (p->te_count > 0 && p->cl_count > 0)
                fail(p, 400, OR_H1_DETAILS_CL_AND_CHUNKED,
                     "both Content-Length and Transfer-Encoding are set");
            else
                fail(p, 400, OR_H1_DETAILS_CODEC_ERROR, llhttp_get_error_reason(&p->ll));
            break;
        case HPE_INVALID_TRANSFER_ENCODING:
            if (!p->in_trailers) {
                fail(p, 501, OR_H1_DETAILS_INVALID_TE, llhttp_get_error_reason(&p->ll));
                break;
            }
            /* fallthrough */
        default:
            fail(p, 400, OR_H1_DETAILS_CODEC_ERROR, llhttp_get_error_reason(&p->ll));
            break;
        }
    }
    return set_dead(p, OR_EPROTO);
}

static int scan_failed(struct or_h1_parser *p)
{
    switch ((enum or_h1_scan_error)p->scan.err) {
    case OR_H1_SCAN_E_CHARS:
        fail(p, 400, OR_H1_DETAILS_INVALID_CHARACTERS, p->scan.reason);
        break;
    case OR_H1_SCAN_E_TOO_LARGE:
        fail(p, 431, OR_H1_DETAILS_HEADERS_TOO_LARGE, p->scan.reason);
        break;
    default:
        fail(p, 400, OR_H1_DETAILS_CODEC_ERROR, p->scan.reason);
        break;
    }
    return set_dead(p, OR_EPROTO);
}

static int tunnel(struct or_h1_parser *p, struct evbuffer *in)
{
    if (evbuffer_get_length(in) == 0)
        return 0;
    if (p->body == NULL && (p->body = evbuffer_new()) == NULL)
        return set_dead(p, OR_ENOMEM);
    evbuffer_add_buffer(p->body, in);
    int rc = p->cb->on_body(p->ctx, p->body);
    size_t left = evbuffer_get_length(p->body);
    if (left > 0)
        evbuffer_drain(p->body, left);
    return rc < 0 ? set_dead(p, rc) : 0;
}

/* Runs llhttp over seg[0..len) and drains what it consumed from `in`. */
static int execute(struct or_h1_parser *p, const char *seg, size_t len, llhttp_errno_t *out,
                   size_t *used)
{
    p->seg = seg;
    p->seg_drained = 0;
    p->cb_paused = false;
    llhttp_errno_t e = llhttp_execute(&p->ll, seg, len);
    *out = e;
    size_t consumed = len;
    if (e == HPE_PAUSED || e == HPE_PAUSED_UPGRADE)
        consumed = (size_t)(llhttp_get_error_pos(&p->ll) - seg);
    else if (e != HPE_OK)
        return llhttp_failed(p, e);
    *used = consumed;
    if (frags_flush(p) != 0)
        return set_dead(p, OR_ENOMEM);
    if (consumed > p->seg_drained)
        evbuffer_drain(p->in, consumed - p->seg_drained);
    if (e == HPE_PAUSED_UPGRADE) {
        p->state = OR_H1_S_TUNNEL;
    } else if (e == HPE_PAUSED) {
        p->state = p->cb_paused ? OR_H1_S_PAUSED : OR_H1_S_DONE;
    }
    return 0;
}

/* Cannot happen while the scanner and llhttp agree on the framing; if they ever do not, stop
 * rather than let one of them frame the stream. */
static int desync(struct or_h1_parser *p)
{
    fail(p, 400, OR_H1_DETAILS_CODEC_ERROR, "parser desynchronised");
    return set_dead(p, OR_EPROTO);
}

/* Did llhttp stop where the scanner stopped, for the same reason? */
static bool in_step(const struct or_h1_parser *p, enum or_h1_scan_result res, size_t k, size_t used)
{
    switch (p->state) {
    case OR_H1_S_DONE:
        return used == k && or_h1_scan_idle(&p->scan);
    case OR_H1_S_PAUSED:
    case OR_H1_S_TUNNEL:
        return used == k && res == OR_H1_SCAN_HEAD_DONE;
    default:
        /* Running on: a message may only have ended here if it was a 1xx. */
        return res != OR_H1_SCAN_MSG_DONE || p->msg.informational;
    }
}

static const char empty[1] = {0};

int or_h1_parser_dispatch(struct or_h1_parser *p, struct evbuffer *in)
{
    llhttp_errno_t e;
    int rc;

    switch (p->state) {
    case OR_H1_S_ERROR:
        return p->err_code;
    case OR_H1_S_PAUSED:
    case OR_H1_S_DONE:
    case OR_H1_S_CLOSED:
        return 0;
    case OR_H1_S_TUNNEL:
        return tunnel(p, in);
    default:
        break;
    }
    p->in = in;
    /* After a resume llhttp may owe callbacks that need no input (after a paused on_headers:
     * the end of a bodiless message, or the upgrade). */
    size_t used = 0;
    rc = execute(p, empty, 0, &e, &used);
    if (rc != 0)
        return rc;
    if (p->state == OR_H1_S_DONE && !or_h1_scan_idle(&p->scan))
        return desync(p);

    while (p->state == OR_H1_S_IDLE || p->state == OR_H1_S_MSG) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
            break;
        enum or_h1_scan_result res;
        size_t k = or_h1_scan_run(&p->scan, v.iov_base, v.iov_len, &res);
        used = 0;
        if (k > 0) {
            rc = execute(p, v.iov_base, k, &e, &used);
            if (rc != 0)
                return rc;
        }
        if (res == OR_H1_SCAN_ERROR)
            return scan_failed(p);
        if (k == 0 || !in_step(p, res, k, used))
            return desync(p);
    }
    if (p->state == OR_H1_S_TUNNEL) {
        p->in = NULL;
        return tunnel(p, in);
    }
    p->in = NULL;
    return 0;
}

uint64_t or_h1_parser_body_left(const struct or_h1_parser *p)
{
    if (p->state != OR_H1_S_MSG || p->msg.chunked || p->msg.upgrade || !p->msg.has_content_length)
        return 0;
    uint64_t left = or_h1_scan_length_left(&p->scan);
    /* llhttp's body state counts down the same number: both must agree before either skips. */
    return left == p->ll.content_length ? left : 0;
}

int or_h1_parser_body_consumed_externally(struct or_h1_parser *p, uint64_t n)
{
    uint64_t left = or_h1_parser_body_left(p);
    if (n >= left)
        return OR_EINVAL;
    or_h1_scan_skip_body(&p->scan, n);
    /* llhttp's consume_content_length state reads this field afresh on every execute. */
    p->ll.content_length -= n;
    return 0;
}

int or_h1_parser_finish(struct or_h1_parser *p)
{
    int rc;
    if (p->state == OR_H1_S_PAUSED) {
        /* EOF while on_headers held the parser: let llhttp run what it owes first. */
        llhttp_errno_t e;
        size_t used;
        llhttp_resume(&p->ll);
        p->state = OR_H1_S_MSG;
        rc = execute(p, empty, 0, &e, &used);
        if (rc != 0)
            return rc;
    }
    switch (p->state) {
    case OR_H1_S_ERROR:
        return p->err_code;
    case OR_H1_S_TUNNEL:
        rc = p->cb->on_message_complete(p->ctx);
        p->state = OR_H1_S_CLOSED;
        return rc < 0 && rc != OR_EAGAIN ? rc : 0;
    case OR_H1_S_IDLE:
    case OR_H1_S_DONE:
    case OR_H1_S_CLOSED:
        return 0;
    default:
        break;
    }
    if (p->state == OR_H1_S_MSG && or_h1_scan_until_eof(&p->scan)) {
        /* A response delimited by close: EOF is its end. */
        llhttp_errno_t e = llhttp_finish(&p->ll);
        if (p->cb_ret < 0)
            return set_dead(p, p->cb_ret);
        if (e != HPE_OK && e != HPE_PAUSED)
            return llhttp_failed(p, e);
        p->msg.keep_alive = false;
        p->state = OR_H1_S_CLOSED;
        return 0;
    }
    /* Cut short, including after a 1xx with no final response. */
    fail(p, 400, OR_H1_DETAILS_CODEC_ERROR, "connection closed mid-message");
    return set_dead(p, OR_ECLOSED);
}
