#include "proxy/router/route_table.h"
#include "proxy/router/route_index.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* Table layout                                                                                */

enum domain_kind {
    DOMAIN_EXACT = 0,
    DOMAIN_SUFFIX, /* "*<key>": key is what follows the '*' */
    DOMAIN_PREFIX, /* "<key>*" */
};

/* One slot of the open-addressing domain index. Exact, suffix and prefix keys share one table;
 * the kind is part of the key. */
struct domain_slot {
    const char *key; /* table-owned, lower-case; NULL = empty slot */
    uint32_t len;
    uint32_t kind;
    uint64_t hash;
    const struct or_vhost *vhost; /* borrowed from the table */
};

struct or_route_table {
    struct or_arena arena; /* owns every string and array below, and (by cleanup) the regexes */
    struct or_str name;
    struct or_vhost *vhosts; /* arena-owned array */
    uint32_t n_vhosts;
    struct domain_slot *slots; /* arena-owned, power-of-two sized */
    uint32_t slot_mask;
    uint32_t n_domains;    /* exact + suffix + prefix entries */
    uint32_t *suffix_lens; /* arena-owned: distinct suffix key lengths, longest first */
    uint32_t n_suffix_lens;
    uint32_t *prefix_lens; /* arena-owned: distinct prefix key lengths, longest first */
    uint32_t n_prefix_lens;
    const struct or_vhost *default_vhost; /* borrowed: the vhost with domain "*" */
    bool ignore_port;
    size_t index_bytes; /* arena bytes of all route indexes */
};

/* Vhosts with fewer routes keep the linear scan: below this, scanning a handful of prefixes
 * costs less than hashing the path (measured with bench/micro/bench_route.cc). */
#define INDEX_MIN_ROUTES_DEFAULT 8u

/* ------------------------------------------------------------------------------------------ */
/* Small string helpers                                                                        */

static inline unsigned char lc(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

static bool ci_eq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lc((unsigned char)a[i]) != lc((unsigned char)b[i]))
            return false;
    return true;
}

/* `lower` is already lower-case. */
static bool ci_eq_lower(const char *s, const char *lower, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lc((unsigned char)s[i]) != (unsigned char)lower[i])
            return false;
    return true;
}

static bool has_prefix(struct or_str s, struct or_str p, bool ci)
{
    if (s.len < p.len)
        return false;
    if (p.len == 0)
        return true;
    return ci ? ci_eq(s.ptr, p.ptr, p.len) : memcmp(s.ptr, p.ptr, p.len) == 0;
}

static bool has_suffix(struct or_str s, struct or_str p, bool ci)
{
    if (s.len < p.len)
        return false;
    if (p.len == 0)
        return true;
    const char *tail = s.ptr + (s.len - p.len);
    return ci ? ci_eq(tail, p.ptr, p.len) : memcmp(tail, p.ptr, p.len) == 0;
}

static bool contains(struct or_str s, struct or_str p, bool ci)
{
    if (p.len == 0)
        return true;
    if (s.len < p.len)
        return false;
    if (!ci)
        return memmem(s.ptr, s.len, p.ptr, p.len) != NULL;
    for (size_t i = 0; i + p.len <= s.len; i++)
        if (ci_eq(s.ptr + i, p.ptr, p.len))
            return true;
    return false;
}

/* The part of :path that path matchers see (Envoy's PathUtil::removeQueryAndFragment). */
static struct or_str path_only(struct or_str p)
{
    for (size_t i = 0; i < p.len; i++)
        if (p.ptr[i] == '?' || p.ptr[i] == '#')
            return or_str_make(p.ptr, i);
    return p;
}

/* FNV-1a over lower-cased bytes, mixed with the domain kind. */
static uint64_t domain_hash(const char *s, size_t n, uint32_t kind)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)(kind + 1) * 0x9e3779b97f4a7c15ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= lc((unsigned char)s[i]);
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 29;
    return h;
}

/* ------------------------------------------------------------------------------------------ */
/* Matching                                                                                    */

static const struct or_vhost *domain_lookup(const struct or_route_table *t, const char *s, size_t n,
                                            uint32_t kind)
{
    uint64_t h = domain_hash(s, n, kind);
    for (uint32_t i = (uint32_t)h & t->slot_mask;; i = (i + 1) & t->slot_mask) {
        const struct domain_slot *sl = &t->slots[i];
        if (sl->key == NULL)
            return NULL;
        if (sl->hash == h && sl->kind == kind && sl->len == n && ci_eq_lower(s, sl->key, n))
            return sl->vhost;
    }
}

/* Envoy's HeaderUtility::getPortStart: the ':' before a port, not one inside "[v6]". */
static size_t port_start(struct or_str host)
{
    size_t colon = SIZE_MAX, bracket = SIZE_MAX;
    for (size_t i = host.len; i-- > 0;) {
        if (host.ptr[i] == ':' && colon == SIZE_MAX)
            colon = i;
        if (host.ptr[i] == ']') {
            bracket = i;
            break;
        }
    }
    if (colon == SIZE_MAX)
        return SIZE_MAX;
    if (bracket == SIZE_MAX || bracket < colon)
        return colon;
    return SIZE_MAX;
}

const struct or_vhost *or_route_table_find_vhost(const struct or_route_table *t,
                                                 const struct or_headers *h)
{
    if (t->n_domains == 0)
        return t->default_vhost;
    const struct or_str *hv = or_headers_get_n(h, ":authority", 10);
    if (hv == NULL)
        return NULL;
    struct or_str host = *hv;
    if (t->ignore_port) {
        size_t ps = port_start(host);
        if (ps != SIZE_MAX)
            host.len = ps;
    }
    const struct or_vhost *vh = domain_lookup(t, host.ptr, host.len, DOMAIN_EXACT);
    if (vh != NULL)
        return vh;
    /* Longest wildcard first; ">=" because "*.foo.com" must not match ".foo.com". */
    for (uint32_t i = 0; i < t->n_suffix_lens; i++) {
        uint32_t l = t->suffix_lens[i];
        if (l >= host.len)
            continue;
        vh = domain_lookup(t, host.ptr + (host.len - l), l, DOMAIN_SUFFIX);
        if (vh != NULL)
            return vh;
    }
    for (uint32_t i = 0; i < t->n_prefix_lens; i++) {
        uint32_t l = t->prefix_lens[i];
        if (l >= host.len)
            continue;
        vh = domain_lookup(t, host.ptr, l, DOMAIN_PREFIX);
        if (vh != NULL)
            return vh;
    }
    return t->default_vhost;
}

bool or_string_matcher_match(const struct or_string_matcher *m, struct or_str v)
{
    switch (m->kind) {
    case OR_SM_EXACT:
        return v.len == m->value.len &&
               (v.len == 0 || (m->ignore_case ? ci_eq(v.ptr, m->value.ptr, v.len)
                                              : memcmp(v.ptr, m->value.ptr, v.len) == 0));
    case OR_SM_PREFIX:
        return has_prefix(v, m->value, m->ignore_case);
    case OR_SM_SUFFIX:
        return has_suffix(v, m->value, m->ignore_case);
    case OR_SM_CONTAINS:
        return contains(v, m->value, m->ignore_case);
    case OR_SM_REGEX:
        return or_regex_full_match(m->re, v.ptr ? v.ptr : "", v.len);
    }
    return false;
}

/* absl::SimpleAtoi for int64: optional surrounding ASCII whitespace, optional sign, decimal. */
static bool parse_int64(struct or_str v, int64_t *out)
{
    size_t i = 0, n = v.len;
    while (i < n && isspace((unsigned char)v.ptr[i]))
        i++;
    while (n > i && isspace((unsigned char)v.ptr[n - 1]))
        n--;
    bool neg = false;
    if (i < n && (v.ptr[i] == '+' || v.ptr[i] == '-')) {
        neg = v.ptr[i] == '-';
        i++;
    }
    if (i >= n)
        return false;
    uint64_t acc = 0;
    const uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < n; i++) {
        unsigned char c = (unsigned char)v.ptr[i];
        if (c < '0' || c > '9')
            return false;
        uint64_t d = c - '0';
        if (acc > (limit - d) / 10)
            return false;
        acc = acc * 10 + d;
    }
    *out = neg ? (acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc) : (int64_t)acc;
    return true;
}

static bool header_value_match(const struct or_header_matcher *m, struct or_str v)
{
    switch (m->kind) {
    case OR_HM_PRESENT:
        return m->present;
    case OR_HM_EXACT_LEGACY:
        return m->sm.value.len == 0 || or_str_eq(v, m->sm.value);
    case OR_HM_STRING:
        return or_string_matcher_match(&m->sm, v);
    case OR_HM_RANGE: {
        int64_t x;
        return parse_int64(v, &x) && x >= m->range_start && x < m->range_end;
    }
    }
    return false;
}

/* Envoy's HeaderUtility::matchHeaders for one matcher. */
static bool header_match(const struct or_header_matcher *m, const struct or_headers *h)
{
    uint32_t count = 0;
    size_t total = 0;
    const struct or_str *first = NULL;
    for (uint32_t i = 0; i < h->n; i++) {
        const struct or_header *e = &h->v[i];
        if (e->name.len == m->name.len && memcmp(e->name.ptr, m->name.ptr, m->name.len) == 0) {
            if (count++ == 0)
                first = &e->value;
            total += e->value.len;
        }
    }
    if (count == 0 && !m->treat_missing_as_empty) {
        if (m->invert)
            return m->kind == OR_HM_PRESENT && m->present;
        return m->kind == OR_HM_PRESENT && !m->present;
    }
    if (count <= 1) {
        struct or_str v = count ? *first : OR_STR_LIT("");
        return header_value_match(m, v) != m->invert;
    }
    /* Several values: Envoy matches them joined with ','. Rare, so a copy is acceptable; the
     * stack covers ordinary sizes and only huge joins touch the heap. */
    char stack[1024];
    size_t len = total + count - 1;
    char *buf = len <= sizeof(stack) ? stack : malloc(len);
    if (buf == NULL)
        return false;
    size_t off = 0;
    uint32_t seen = 0;
    for (uint32_t i = 0; i < h->n; i++) {
        const struct or_header *e = &h->v[i];
        if (e->name.len == m->name.len && memcmp(e->name.ptr, m->name.ptr, m->name.len) == 0) {
            /* By count, not offset: empty values still get their separator. */
            if (seen++ > 0)
                buf[off++] = ',';
            if (e->value.len)
                memcpy(buf + off, e->value.ptr, e->value.len);
            off += e->value.len;
        }
    }
    bool r = header_value_match(m, or_str_make(buf, len)) != m->invert;
    if (buf != stack)
        free(buf);
    return r;
}

/* Envoy's QueryParamsMulti::parseQueryString + getFirstValue: the query runs from the first '?'
 * to the end of :path, parameters split on '&', names and values compared undecoded. */
static bool query_match(const struct or_query_matcher *m, struct or_str path)
{
    const char *q = memchr(path.ptr, '?', path.len);
    if (q == NULL)
        return false;
    const char *p = q + 1, *end = path.ptr + path.len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *pe = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(pe - p));
        struct or_str name = or_str_make(p, (size_t)((eq ? eq : pe) - p));
        if (or_str_eq(name, m->name)) {
            if (m->present_only)
                return true;
            struct or_str value = eq ? or_str_make(eq + 1, (size_t)(pe - eq - 1)) : OR_STR_LIT("");
            return or_string_matcher_match(&m->sm, value);
        }
        p = pe + 1;
    }
    return false;
}

/* Envoy's Grpc::Common::hasGrpcContentType. */
static bool is_grpc(const struct or_headers *h)
{
    const struct or_str *ct = or_headers_get_n(h, "content-type", 12);
    if (ct == NULL)
        return false;
    static const char grpc[] = "application/grpc";
    const size_t gl = sizeof(grpc) - 1;
    return ct->len >= gl && memcmp(ct->ptr, grpc, gl) == 0 && (ct->len == gl || ct->ptr[gl] == '+');
}

static bool path_match(const struct or_route_match *m, struct or_str p)
{
    switch (m->path_kind) {
    case OR_PATH_PREFIX:
        return has_prefix(p, m->path, !m->case_sensitive);
    case OR_PATH_EXACT:
        return p.len == m->path.len &&
               (p.len == 0 || (m->case_sensitive ? memcmp(p.ptr, m->path.ptr, p.len) == 0
                                                 : ci_eq(p.ptr, m->path.ptr, p.len)));
    case OR_PATH_REGEX:
        return or_regex_full_match(m->re, p.ptr ? p.ptr : "", p.len);
    case OR_PATH_SEPARATED_PREFIX:
        return has_prefix(p, m->path, !m->case_sensitive) &&
               (p.len == m->path.len || p.ptr[m->path.len] == '/');
    case OR_PATH_CONNECT:
        return false;
    }
    return false;
}

static bool route_matches(const struct or_route_entry *r, const struct or_headers *h,
                          const struct or_str *path, uint64_t rnd, bool path_checked)
{
    const struct or_route_match *m = &r->match;
    if (m->path_kind == OR_PATH_CONNECT) {
        const struct or_str *method = or_headers_get_n(h, ":method", 7);
        if (method == NULL || !or_str_eq_lit(*method, "CONNECT"))
            return false;
    } else {
        /* Envoy skips path-based routes for path-less requests (CONNECT). */
        if (path == NULL || (!path_checked && !path_match(m, path_only(*path))))
            return false;
    }
    if (m->runtime_fraction && !(rnd % m->rf_denominator < m->rf_numerator))
        return false;
    if (m->grpc && (path == NULL || !is_grpc(h)))
        return false;
    for (uint32_t i = 0; i < m->n_headers; i++)
        if (!header_match(&m->headers[i], h))
            return false;
    for (uint32_t i = 0; i < m->n_query; i++)
        if (path == NULL || !query_match(&m->query[i], *path))
            return false;
    return true;
}

bool or_route__matches(const struct or_route_entry *r, const struct or_headers *h,
                       const struct or_str *path, uint64_t rnd, bool path_checked)
{
    return route_matches(r, h, path, rnd, path_checked);
}

struct or_str or_route__path_only(struct or_str path)
{
    return path_only(path);
}

const struct or_route_entry *or_vhost_match_linear(const struct or_vhost *vh,
                                                   const struct or_headers *h, uint64_t rnd)
{
    const struct or_str *path = or_headers_get_n(h, ":path", 5);
    for (uint32_t i = 0; i < vh->n_routes; i++)
        if (route_matches(&vh->routes[i], h, path, rnd, false))
            return &vh->routes[i];
    return NULL;
}

const struct or_route_entry *or_vhost_match(const struct or_vhost *vh, const struct or_headers *h,
                                            uint64_t rnd)
{
    if (vh->route_index == NULL)
        return or_vhost_match_linear(vh, h, rnd);
    return or_route_index_match(vh->route_index, vh, h, or_headers_get_n(h, ":path", 5), rnd);
}

const struct or_route_entry *or_route_table_match_ex(const struct or_route_table *t,
                                                     const struct or_headers *h, uint64_t rnd,
                                                     const struct or_vhost **vh_out)
{
    const struct or_vhost *vh = or_route_table_find_vhost(t, h);
    if (vh_out != NULL)
        *vh_out = vh;
    return vh ? or_vhost_match(vh, h, rnd) : NULL;
}

const struct or_route_entry *or_route_table_match(const struct or_route_table *t,
                                                  const struct or_headers *h,
                                                  const struct or_vhost **vh_out)
{
    return or_route_table_match_ex(t, h, 0, vh_out);
}

const struct or_weighted_cluster *or_route_pick_weighted_cluster(const struct or_route_entry *r,
                                                                 uint64_t rnd)
{
    if (r->kind != OR_ROUTE_WEIGHTED_CLUSTERS || r->n_weighted == 0 || r->total_weight == 0)
        return NULL;
    uint64_t v = rnd % r->total_weight, begin = 0;
    for (uint32_t i = 0; i < r->n_weighted; i++) {
        uint64_t end = begin + r->weighted[i].weight;
        if (v >= begin && v < end)
            return &r->weighted[i];
        begin = end;
    }
    return &r->weighted[r->n_weighted - 1]; /* unreachable: weights sum to total */
}

const char *or_route_pick_weighted(const struct or_route_entry *r, uint64_t rnd)
{
    const struct or_weighted_cluster *c = or_route_pick_weighted_cluster(r, rnd);
    return c ? c->name.ptr : NULL;
}

/* Envoy's currentUrlPathAfterRewriteWithMatchedPath for a prefix-style rewrite: replace the
 * first `matched` bytes of the full path (query included) by `rewrite`. */
static int replace_prefix(struct or_str path, size_t matched, struct or_str rewrite,
                          struct or_arena *a, struct or_str *out)
{
    if (matched > path.len)
        matched = path.len;
    size_t len = rewrite.len + (path.len - matched);
    char *p = or_arena_alloc(a, len + 1);
    if (p == NULL)
        return OR_ENOMEM;
    if (rewrite.len)
        memcpy(p, rewrite.ptr, rewrite.len);
    if (path.len > matched)
        memcpy(p + rewrite.len, path.ptr + matched, path.len - matched);
    p[len] = '\0';
    *out = or_str_make(p, len);
    return 1;
}

static size_t matched_len(const struct or_route_entry *r, struct or_str path)
{
    switch (r->match.path_kind) {
    case OR_PATH_PREFIX:
    case OR_PATH_EXACT:
    case OR_PATH_SEPARATED_PREFIX:
        return r->match.path.len;
    case OR_PATH_REGEX:
    case OR_PATH_CONNECT:
        break;
    }
    return path_only(path).len;
}

int or_route_rewrite_path(const struct or_route_entry *r, struct or_str path, struct or_arena *a,
                          struct or_str *out)
{
    *out = path;
    if (r->prefix_rewrite.len == 0 || r->kind == OR_ROUTE_REDIRECT ||
        r->kind == OR_ROUTE_DIRECT_RESPONSE)
        return 0;
    return replace_prefix(path, matched_len(r, path), r->prefix_rewrite, a, out);
}

static bool scheme_is(struct or_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && ci_eq(s.ptr, lit, n);
}

/* Envoy's processRequestHost: the request host, without its port when a new port is set or when
 * the scheme changes away from x-forwarded-proto's default port. */
static struct or_str request_host(const struct or_headers *h, struct or_str new_scheme,
                                  bool new_port)
{
    const struct or_str *hv = or_headers_get_n(h, ":authority", 10);
    struct or_str host = hv ? *hv : OR_STR_LIT("");
    if (host.len == 0)
        return host;
    size_t end = SIZE_MAX;
    if (host.ptr[0] == '[') {
        for (size_t i = host.len - 1; i-- > 0;)
            if (host.ptr[i] == ']' && host.ptr[i + 1] == ':') {
                end = i + 1;
                break;
            }
    } else {
        for (size_t i = host.len; i-- > 0;)
            if (host.ptr[i] == ':') {
                end = i;
                break;
            }
    }
    if (end == SIZE_MAX)
        return host;
    struct or_str port = or_str_make(host.ptr + end, host.len - end);
    const struct or_str *xfp = or_headers_get_n(h, "x-forwarded-proto", 17);
    struct or_str proto = xfp ? *xfp : OR_STR_LIT("");
    bool remove = new_port;
    if (!or_str_eq(new_scheme, proto)) {
        remove |= scheme_is(proto, "https") && or_str_eq_lit(port, ":443");
        remove |= scheme_is(proto, "http") && or_str_eq_lit(port, ":80");
    }
    if (remove)
        host.len = end;
    return host;
}

int or_route_redirect_location(const struct or_route_entry *r, const struct or_headers *req,
                               struct or_arena *a, struct or_str *location, unsigned *status)
{
    const struct or_redirect_action *ra = NULL;
    if (r->kind == OR_ROUTE_REDIRECT) {
        ra = &r->redirect;
        *status = ra->status;
    } else if (r->kind == OR_ROUTE_DIRECT_RESPONSE) {
        *status = r->direct.status;
        /* RFC 7231 7.1.2: Envoy's router adds Location to 201 and 3xx direct responses. */
        if (r->direct.status != 201 && (r->direct.status < 300 || r->direct.status > 399))
            return OR_ENOTFOUND;
    } else {
        return OR_ENOTFOUND;
    }
    const struct or_str *pv = or_headers_get_n(req, ":path", 5);
    if (pv == NULL)
        return OR_ENOTFOUND;
    struct or_str path = *pv;

    struct or_str scheme;
    if (ra != NULL && ra->scheme.len > 0) {
        scheme = ra->scheme;
    } else {
        const struct or_str *s = or_headers_get_n(req, ":scheme", 7);
        if (s == NULL)
            s = or_headers_get_n(req, "x-forwarded-proto", 17);
        scheme = s ? *s : OR_STR_LIT("http");
    }
    char portbuf[16] = "";
    if (ra != NULL && ra->port != 0)
        snprintf(portbuf, sizeof(portbuf), ":%u", ra->port);
    struct or_str port = or_str_cstr(portbuf);
    struct or_str host =
        (ra != NULL && ra->host.len > 0) ? ra->host : request_host(req, scheme, port.len > 0);

    /* Path: prefix_rewrite rewrites the request path first (the router rewrites :path before
     * building the URI); path_redirect replaces it, keeping the request query unless it has
     * its own. */
    struct or_str query_tail = OR_STR_NULL;
    if (ra != NULL && ra->path_kind == OR_REDIRECT_PREFIX) {
        int rc = replace_prefix(path, matched_len(r, path), ra->path, a, &path);
        if (rc < 0)
            return rc;
    } else if (ra != NULL && ra->path_kind == OR_REDIRECT_PATH_REPLACE) {
        if (!ra->path_has_query) {
            const char *q = memchr(path.ptr, '?', path.len);
            if (q != NULL)
                query_tail = or_str_make(q, (size_t)(path.ptr + path.len - q));
        }
        path = ra->path;
    }
    /* Envoy prepends '/' when the final path (query included) does not start with one. */
    bool slash = !(path.len > 0 && path.ptr[0] == '/');
    bool strip = ra != NULL && ra->strip_query && !ra->path_has_query;

    size_t len = scheme.len + 3 + host.len + port.len + (slash ? 1 : 0) + path.len + query_tail.len;
    char *p = or_arena_alloc(a, len + 1);
    if (p == NULL)
        return OR_ENOMEM;
    size_t off = 0;
#define PUT(s)                                                                                     \
    do {                                                                                           \
        if ((s).len)                                                                               \
            memcpy(p + off, (s).ptr, (s).len);                                                     \
        off += (s).len;                                                                            \
    } while (0)
    PUT(scheme);
    memcpy(p + off, "://", 3);
    off += 3;
    PUT(host);
    PUT(port);
    size_t path_off = off;
    if (slash)
        p[off++] = '/';
    PUT(path);
    PUT(query_tail);
#undef PUT
    if (strip) {
        char *q = memchr(p + path_off, '?', off - path_off);
        if (q != NULL)
            off = (size_t)(q - p);
    }
    p[off] = '\0';
    *location = or_str_make(p, off);
    return 0;
}

struct or_str or_route_table_name(const struct or_route_table *t)
{
    return t->name;
}

size_t or_route_table_index_bytes(const struct or_route_table *t)
{
    return t->index_bytes;
}

uint32_t or_route_table_vhost_count(const struct or_route_table *t)
{
    return t->n_vhosts;
}

const struct or_vhost *or_route_table_vhost(const struct or_route_table *t, uint32_t i)
{
    return i < t->n_vhosts ? &t->vhosts[i] : NULL;
}

void or_route_table_free(struct or_route_table *t)
{
    if (t == NULL)
        return;
    or_arena_deinit(&t->arena);
    free(t);
}

/* ------------------------------------------------------------------------------------------ */
/* Builder                                                                                     */

/* Growable array helper for the builder's temporary vectors (malloc'd, freed at finish). */
static int grow(void **v, uint32_t *cap, uint32_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    uint32_t nc = *cap ? *cap * 2 : 4;
    void *p = realloc(*v, (size_t)nc * elem);
    if (p == NULL)
        return OR_ENOMEM;
    *v = p;
    *cap = nc;
    return 0;
}

struct rb_route {
    struct or_route_entry e;       /* strings and regexes already in the table arena */
    struct or_header_matcher *hdr; /* owned (malloc) until finish */
    uint32_t n_hdr, cap_hdr;
    struct or_query_matcher *query; /* owned (malloc) until finish */
    uint32_t n_query, cap_query;
    struct or_weighted_cluster *wc; /* owned (malloc) until finish */
    uint32_t n_wc, cap_wc;
    bool has_path;
    bool has_action;
};

struct rb_vhost {
    const char *name;       /* table arena */
    struct or_str *domains; /* owned (malloc) until finish; strings in the arena */
    uint32_t n_domains, cap_domains;
    struct rb_route *routes; /* owned (malloc) until finish */
    uint32_t n_routes, cap_routes;
};

struct or_route_builder {
    struct or_route_table *t; /* owned until finish hands it out */
    char path[128];           /* base path for errors */
    struct rb_vhost *vhosts;  /* owned (malloc) */
    uint32_t n_vhosts, cap_vhosts;
    uint32_t index_min_routes; /* vhosts with at least this many routes get an index */
};

static char *dup_str(struct or_route_builder *b, const char *s, size_t n)
{
    return or_arena_strndup(&b->t->arena, s ? s : "", s ? n : 0);
}

static struct rb_vhost *cur_vhost(struct or_route_builder *b)
{
    return b->n_vhosts ? &b->vhosts[b->n_vhosts - 1] : NULL;
}

static struct rb_route *cur_route(struct or_route_builder *b)
{
    struct rb_vhost *vh = cur_vhost(b);
    return (vh && vh->n_routes) ? &vh->routes[vh->n_routes - 1] : NULL;
}

static void regex_cleanup(void *p)
{
    or_regex_free(p);
}

/* Compiles and hands the regex to the arena, which frees it with the table. */
static int compile_owned(struct or_route_builder *b, const char *pat, size_t len, uint32_t max,
                         bool legacy, struct or_regex **out, struct or_err_detail *err)
{
    struct or_regex *re = or_regex_compile_ex(pat ? pat : "", pat ? len : 0, max, legacy, err);
    if (re == NULL)
        return OR_EINVAL;
    if (or_arena_on_cleanup(&b->t->arena, regex_cleanup, re) != 0) {
        or_regex_free(re);
        return OR_ENOMEM;
    }
    *out = re;
    return 0;
}

static int build_string_matcher(struct or_route_builder *b, const struct or_string_match_spec *s,
                                struct or_string_matcher *m, struct or_err_detail *err)
{
    memset(m, 0, sizeof(*m));
    m->kind = s->kind;
    m->ignore_case = s->ignore_case;
    switch (s->kind) {
    case OR_SM_REGEX:
        if (s->ignore_case) {
            or_err_set(err, NULL, "ignore_case has no effect for safe_regex.");
            return OR_EINVAL;
        }
        return compile_owned(b, s->value, s->len, s->max_program_size, s->legacy_limit, &m->re,
                             err);
    case OR_SM_EXACT:
    case OR_SM_PREFIX:
    case OR_SM_SUFFIX:
    case OR_SM_CONTAINS: {
        char *v = dup_str(b, s->value, s->len);
        if (v == NULL)
            return OR_ENOMEM;
        m->value = or_str_make(v, s->value ? s->len : 0);
        return 0;
    }
    }
    or_err_set(err, NULL, "unknown string matcher kind %d", (int)s->kind);
    return OR_EINVAL;
}

struct or_route_builder *or_route_builder_new(const char *name, const char *path)
{
    struct or_route_builder *b = calloc(1, sizeof(*b));
    if (b == NULL)
        return NULL;
    b->t = calloc(1, sizeof(*b->t));
    if (b->t == NULL) {
        free(b);
        return NULL;
    }
    or_arena_init(&b->t->arena, 16384);
    snprintf(b->path, sizeof(b->path), "%s", path ? path : "");
    b->index_min_routes = INDEX_MIN_ROUTES_DEFAULT;
    char *n = dup_str(b, name, name ? strlen(name) : 0);
    if (n == NULL) {
        or_route_builder_free(b);
        return NULL;
    }
    b->t->name = or_str_cstr(n);
    return b;
}

void or_route_builder_ignore_port(struct or_route_builder *b, bool ignore)
{
    b->t->ignore_port = ignore;
}

void or_route_builder_index_min_routes(struct or_route_builder *b, uint32_t n)
{
    b->index_min_routes = n;
}

int or_route_builder_add_vhost(struct or_route_builder *b, const char *name)
{
    if (grow((void **)&b->vhosts, &b->cap_vhosts, b->n_vhosts, sizeof(*b->vhosts)) != 0)
        return OR_ENOMEM;
    struct rb_vhost *vh = &b->vhosts[b->n_vhosts];
    memset(vh, 0, sizeof(*vh));
    vh->name = dup_str(b, name, name ? strlen(name) : 0);
    if (vh->name == NULL)
        return OR_ENOMEM;
    b->n_vhosts++;
    return 0;
}

int or_route_builder_add_domain(struct or_route_builder *b, const char *domain, size_t len)
{
    struct rb_vhost *vh = cur_vhost(b);
    if (vh == NULL)
        return OR_EINVAL;
    if (domain == NULL)
        len = 0;
    if (grow((void **)&vh->domains, &vh->cap_domains, vh->n_domains, sizeof(*vh->domains)) != 0)
        return OR_ENOMEM;
    char *d = dup_str(b, domain, len);
    if (d == NULL)
        return OR_ENOMEM;
    /* Envoy lower-cases domains (Http::LowerCaseString) before indexing them. */
    for (size_t i = 0; i < len; i++)
        d[i] = (char)lc((unsigned char)d[i]);
    vh->domains[vh->n_domains++] = or_str_make(d, len);
    return 0;
}

int or_route_builder_add_route(struct or_route_builder *b, const char *name)
{
    struct rb_vhost *vh = cur_vhost(b);
    if (vh == NULL)
        return OR_EINVAL;
    if (grow((void **)&vh->routes, &vh->cap_routes, vh->n_routes, sizeof(*vh->routes)) != 0)
        return OR_ENOMEM;
    struct rb_route *r = &vh->routes[vh->n_routes];
    memset(r, 0, sizeof(*r));
    char *n = dup_str(b, name, name ? strlen(name) : 0);
    if (n == NULL)
        return OR_ENOMEM;
    r->e.name = or_str_cstr(n);
    r->e.match.case_sensitive = true;
    r->e.timeout_ms = OR_ROUTE_DEFAULT_TIMEOUT_MS;
    r->e.prefix_rewrite = or_str_make("", 0);
    r->e.host_rewrite = or_str_make("", 0);
    r->e.cluster = or_str_make("", 0);
    vh->n_routes++;
    return 0;
}

int or_route_builder_match_path(struct or_route_builder *b, enum or_path_match kind, const char *s,
                                size_t len, struct or_err_detail *err)
{
    struct rb_route *r = cur_route(b);
    if (r == NULL)
        return or_err_set(err, NULL, "no route to add a path matcher to");
    if (kind == OR_PATH_REGEX)
        return or_err_set(err, NULL, "use or_route_builder_match_regex for safe_regex");
    if (kind == OR_PATH_CONNECT) {
        s = "";
        len = 0;
    }
    char *p = dup_str(b, s, len);
    if (p == NULL)
        return OR_ENOMEM;
    r->e.match.path_kind = kind;
    r->e.match.path = or_str_make(p, s ? len : 0);
    r->has_path = true;
    return 0;
}

int or_route_builder_match_regex(struct or_route_builder *b, const char *pattern, size_t len,
                                 uint32_t max_program_size, bool legacy_limit,
                                 struct or_err_detail *err)
{
    struct rb_route *r = cur_route(b);
    if (r == NULL)
        return or_err_set(err, NULL, "no route to add a path matcher to");
    int rc = compile_owned(b, pattern, len, max_program_size, legacy_limit, &r->e.match.re, err);
    if (rc != 0)
        return rc;
    char *p = dup_str(b, pattern, len);
    if (p == NULL)
        return OR_ENOMEM;
    r->e.match.path_kind = OR_PATH_REGEX;
    r->e.match.path = or_str_make(p, pattern ? len : 0);
    r->has_path = true;
    return 0;
}

int or_route_builder_case_sensitive(struct or_route_builder *b, bool cs)
{
    struct rb_route *r = cur_route(b);
    if (r == NULL)
        return OR_EINVAL;
    r->e.match.case_sensitive = cs;
    return 0;
}

int or_route_builder_match_grpc(struct or_route_builder *b)
{
    struct rb_route *r = cur_route(b);
    if (r == NULL)
        return OR_EINVAL;
    r->e.match.grpc = true;
    return 0;
}

int or_route_builder_runtime_fraction(struct or_route_builder *b, uint32_t numerator,
                                      uint32_t denominator, struct or_err_detail *err)
{
    struct rb_route *r = cur_route(b);
    if (r == NULL)
        return OR_EINVAL;
    if (denominator != 100 && denominator != 10000 && denominator != 1000000)
        return or_err_set(err, NULL, "denominator must be 100, 10000 or 1000000");
    r->e.match.runtime_fraction = true;
    r->e.match.rf_numerator = numerator;
    r->e.match.rf_denominator = denominator;
    return 0;
}

int or_route_builder_match_header(struct or_route_builder *b,
                                  const struct or_header_match_spec *spec,
                                  struct or_err_detail *err)
{
    struct rb_route *r = cur_route(b);
    if (r == NULL)
        return or_err_set(err, NULL, "no route to add a header matcher to");
    if (grow((void **)&r->hdr, &r->cap_hdr, r->n_hdr, sizeof(*r->hdr)) != 0)
        return OR_ENOMEM;
    struct or_header_matcher *m = &r->hdr[r->n_hdr];
    memset(m, 0, sizeof(*m));
    size_t nl = spec->name ? strlen(spec->name) : 0;
    char *n = dup_str(b, spec->name, nl);
    if (n == NULL)
        return OR_ENOMEM;
    for (size_t i = 0; i < nl; i++)
        n[i] = (char)lc((unsigned char)n[i]);
    m->name = or_str_make(n, nl);
    m->kind = spec->kind;
    m->invert = spec->invert;
    m->treat_missing_as_empty = spec->treat_missing_as_empty;
    switch (spec->kind) {
    case OR_HM_PRESENT:
        m->present = spec->present;
        break;
    case OR_HM_RANGE:
        m->range_start = spec->range_start;
        m->range_end = spec->range_end;
        break;
    case OR_HM_EXACT_LEGACY: {
        struct or_string_match_spec s = spec->sm;
        s.kind = OR_SM_EXACT;
        s.ignore_case = false;
        int rc = build_string_matcher(b, &s, &m->sm, err);
        if (rc != 0)
            return rc;
        break;
    }
    case OR_HM_STRING: {
        int rc = build_string_matcher(b, &spec->sm, &m->sm, err);
        if (rc != 0)
            return rc;
        break;
    }
    default:
        return or_err_set(err, NULL, "unknown header matcher kind %d", (int)spec->kind);
    }
    r->n_hdr++;
    return 0;
}

int or_route_builder_match_query(struct or_route_builder *b, const char *name,
                                 const struct or_string_match_spec *sm, struct or_err_detail *err)
{
    struct rb_route *r = cur_route(b);
    if (r == NULL)
        return or_err_set(err, NULL, "no route to add a query matcher to");
    if (grow((void **)&r->query, &r->cap_query, r->n_query, sizeof(*r->query)) != 0)
        return OR_ENOMEM;
    struct or_query_matcher *m = &r->query[r->n_query];
    memset(m, 0, sizeof(*m));
    size_t nl = name ? strlen(name) : 0;
    char *n = dup_str(b, name, nl);
    if (n == NULL)
        return OR_ENOMEM;
    m->name = or_str_make(n, nl);
    if (sm == NULL) {
        m->present_only = true;
    } else {
        int rc = build_string_matcher(b, sm, &m->sm, err);
        if (rc != 0)
            return rc;
    }
    r->n_query++;
    return 0;
}

static int set_action(struct rb_route *r, enum or_route_kind kind)
{
    if (r == NULL)
        return OR_EINVAL;
    if (r->has_action && !(kind == OR_ROUTE_WEIGHTED_CLUSTERS && r->e.kind == kind))
        return OR_EINVAL; /* one action per route, as the proto oneof */
    r->e.kind = kind;
    r->has_action = true;
    return 0;
}

int or_route_builder_action_cluster(struct or_route_builder *b, const char *cluster)
{
    struct rb_route *r = cur_route(b);
    if (set_action(r, OR_ROUTE_CLUSTER) != 0)
        return OR_EINVAL;
    char *c = dup_str(b, cluster, cluster ? strlen(cluster) : 0);
    if (c == NULL)
        return OR_ENOMEM;
    r->e.cluster = or_str_cstr(c);
    return 0;
}

int or_route_builder_action_cluster_header(struct or_route_builder *b, const char *header)
{
    struct rb_route *r = cur_route(b);
    if (set_action(r, OR_ROUTE_CLUSTER_HEADER) != 0)
        return OR_EINVAL;
    size_t n = header ? strlen(header) : 0;
    char *c = dup_str(b, header, n);
    if (c == NULL)
        return OR_ENOMEM;
    for (size_t i = 0; i < n; i++)
        c[i] = (char)lc((unsigned char)c[i]);
    r->e.cluster = or_str_make(c, n);
    return 0;
}

int or_route_builder_action_weighted(struct or_route_builder *b, const char *cluster,
                                     uint32_t weight)
{
    struct rb_route *r = cur_route(b);
    if (set_action(r, OR_ROUTE_WEIGHTED_CLUSTERS) != 0)
        return OR_EINVAL;
    if (grow((void **)&r->wc, &r->cap_wc, r->n_wc, sizeof(*r->wc)) != 0)
        return OR_ENOMEM;
    char *c = dup_str(b, cluster, cluster ? strlen(cluster) : 0);
    if (c == NULL)
        return OR_ENOMEM;
    r->wc[r->n_wc].name = or_str_cstr(c);
    r->wc[r->n_wc].weight = weight;
    r->n_wc++;
    r->e.total_weight += weight;
    return 0;
}

int or_route_builder_action_direct(struct or_route_builder *b, unsigned status, const char *body,
                                   size_t len)
{
    struct rb_route *r = cur_route(b);
    if (set_action(r, OR_ROUTE_DIRECT_RESPONSE) != 0)
        return OR_EINVAL;
    char *p = dup_str(b, body, len);
    if (p == NULL)
        return OR_ENOMEM;
    r->e.direct.status = status;
    r->e.direct.body = or_str_make(p, body ? len : 0);
    return 0;
}

static int dup_slice(struct or_route_builder *b, struct or_str in, struct or_str *out)
{
    char *p = dup_str(b, in.ptr, in.len);
    if (p == NULL)
        return OR_ENOMEM;
    *out = or_str_make(p, in.ptr ? in.len : 0);
    return 0;
}

int or_route_builder_action_redirect(struct or_route_builder *b,
                                     const struct or_redirect_action *ra)
{
    struct rb_route *r = cur_route(b);
    if (set_action(r, OR_ROUTE_REDIRECT) != 0)
        return OR_EINVAL;
    struct or_redirect_action *d = &r->e.redirect;
    *d = *ra;
    if (dup_slice(b, ra->scheme, &d->scheme) != 0 || dup_slice(b, ra->host, &d->host) != 0 ||
        dup_slice(b, ra->path, &d->path) != 0)
        return OR_ENOMEM;
    /* Envoy treats an empty path_redirect / prefix_rewrite as "not set". */
    if (d->path.len == 0)
        d->path_kind = OR_REDIRECT_PATH_KEEP;
    d->path_has_query =
        d->path_kind == OR_REDIRECT_PATH_REPLACE && memchr(d->path.ptr, '?', d->path.len) != NULL;
    if (d->status == 0)
        d->status = 301;
    return 0;
}

int or_route_builder_prefix_rewrite(struct or_route_builder *b, const char *s, size_t len)
{
    struct rb_route *r = cur_route(b);
    if (r == NULL)
        return OR_EINVAL;
    return dup_slice(b, or_str_make(s, len), &r->e.prefix_rewrite);
}

int or_route_builder_host_rewrite(struct or_route_builder *b, const char *s, size_t len)
{
    struct rb_route *r = cur_route(b);
    if (r == NULL)
        return OR_EINVAL;
    return dup_slice(b, or_str_make(s, len), &r->e.host_rewrite);
}

int or_route_builder_timeout_ms(struct or_route_builder *b, uint64_t ms)
{
    struct rb_route *r = cur_route(b);
    if (r == NULL)
        return OR_EINVAL;
    r->e.timeout_ms = ms;
    return 0;
}

void or_route_builder_free(struct or_route_builder *b)
{
    if (b == NULL)
        return;
    for (uint32_t i = 0; i < b->n_vhosts; i++) {
        struct rb_vhost *vh = &b->vhosts[i];
        for (uint32_t j = 0; j < vh->n_routes; j++) {
            free(vh->routes[j].hdr);
            free(vh->routes[j].query);
            free(vh->routes[j].wc);
        }
        free(vh->routes);
        free(vh->domains);
    }
    free(b->vhosts);
    or_route_table_free(b->t);
    free(b);
}

static int cmp_desc(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Sorted distinct lengths, longest first. */
static uint32_t distinct_desc(uint32_t *v, uint32_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), cmp_desc);
    uint32_t out = 1;
    for (uint32_t i = 1; i < n; i++)
        if (v[i] != v[out - 1])
            v[out++] = v[i];
    return out;
}

/* Inserts a domain key; returns 1 on duplicate. */
static int domain_insert(struct or_route_table *t, const char *key, uint32_t len, uint32_t kind,
                         const struct or_vhost *vh)
{
    uint64_t h = domain_hash(key, len, kind);
    for (uint32_t i = (uint32_t)h & t->slot_mask;; i = (i + 1) & t->slot_mask) {
        struct domain_slot *sl = &t->slots[i];
        if (sl->key == NULL) {
            sl->key = key;
            sl->len = len;
            sl->kind = kind;
            sl->hash = h;
            sl->vhost = vh;
            t->n_domains++;
            return 0;
        }
        if (sl->hash == h && sl->kind == kind && sl->len == len && memcmp(sl->key, key, len) == 0)
            return 1;
    }
}

static void *arena_copy(struct or_arena *a, const void *src, size_t n)
{
    if (n == 0)
        return NULL;
    void *p = or_arena_alloc(a, n);
    if (p != NULL)
        memcpy(p, src, n);
    return p;
}

int or_route_builder_finish(struct or_route_builder *b, struct or_route_table **out,
                            struct or_err_detail *err)
{
    struct or_route_table *t = b->t;
    struct or_arena *a = &t->arena;
    int rc = OR_ENOMEM;
    char path[256];
    const char *base = b->path;
    const char *dot = base[0] ? "." : "";

    /* Per-route validation first: these are the messages a NACK most often carries. */
    for (uint32_t i = 0; i < b->n_vhosts; i++) {
        struct rb_vhost *vh = &b->vhosts[i];
        for (uint32_t j = 0; j < vh->n_routes; j++) {
            struct rb_route *r = &vh->routes[j];
            snprintf(path, sizeof(path), "%s%svirtual_hosts[%u].routes[%u]", base, dot, i, j);
            if (!r->has_path) {
                rc = or_err_set(err, path, "route has no path matcher (match.path_specifier)");
                goto fail;
            }
            if (!r->has_action) {
                rc = or_err_set(err, path,
                                "route has no action (route, redirect or "
                                "direct_response)");
                goto fail;
            }
            if (r->e.kind == OR_ROUTE_WEIGHTED_CLUSTERS) {
                snprintf(path, sizeof(path),
                         "%s%svirtual_hosts[%u].routes[%u].route.weighted_clusters", base, dot, i,
                         j);
                if (r->e.total_weight == 0) {
                    rc = or_err_set(err, path,
                                    "Sum of weights in the weighted_cluster must be greater "
                                    "than 0.");
                    goto fail;
                }
                if (r->e.total_weight > UINT32_MAX) {
                    rc = or_err_set(err, path,
                                    "The sum of weights of all weighted clusters of route %s "
                                    "exceeds %u",
                                    r->e.name.ptr, UINT32_MAX);
                    goto fail;
                }
            }
        }
    }

    /* Final arrays in the arena. */
    uint32_t n_domains = 0;
    if (b->n_vhosts) {
        t->vhosts = or_arena_calloc(a, sizeof(*t->vhosts) * b->n_vhosts);
        if (t->vhosts == NULL)
            goto fail;
    }
    t->n_vhosts = b->n_vhosts;
    for (uint32_t i = 0; i < b->n_vhosts; i++) {
        struct rb_vhost *bv = &b->vhosts[i];
        struct or_vhost *vh = &t->vhosts[i];
        vh->name = or_str_cstr(bv->name);
        vh->index = i;
        vh->n_routes = bv->n_routes;
        n_domains += bv->n_domains;
        struct or_route_entry *routes = NULL;
        if (bv->n_routes) {
            routes = or_arena_calloc(a, sizeof(*routes) * bv->n_routes);
            if (routes == NULL)
                goto fail;
        }
        for (uint32_t j = 0; j < bv->n_routes; j++) {
            struct rb_route *br = &bv->routes[j];
            struct or_route_entry *e = &routes[j];
            *e = br->e;
            e->index = j;
            e->vhost = vh;
            e->match.headers = arena_copy(a, br->hdr, sizeof(*br->hdr) * br->n_hdr);
            e->match.n_headers = br->n_hdr;
            e->match.query = arena_copy(a, br->query, sizeof(*br->query) * br->n_query);
            e->match.n_query = br->n_query;
            e->weighted = arena_copy(a, br->wc, sizeof(*br->wc) * br->n_wc);
            e->n_weighted = br->n_wc;
            if ((br->n_hdr && e->match.headers == NULL) ||
                (br->n_query && e->match.query == NULL) || (br->n_wc && e->weighted == NULL))
                goto fail;
        }
        vh->routes = routes;
        if (vh->n_routes >= b->index_min_routes && b->index_min_routes != UINT32_MAX) {
            struct or_route_index *ix;
            if (or_route_index_build(a, vh, &ix) != 0)
                goto fail;
            vh->route_index = ix;
            t->index_bytes += or_route_index_bytes(ix);
        }
    }

    /* Domain index: load factor <= 1/2 so probes stay short. */
    uint32_t slots = 8;
    while (slots < n_domains * 2 + 2)
        slots *= 2;
    t->slots = or_arena_calloc(a, sizeof(*t->slots) * slots);
    t->suffix_lens = or_arena_alloc(a, sizeof(uint32_t) * (n_domains + 1));
    t->prefix_lens = or_arena_alloc(a, sizeof(uint32_t) * (n_domains + 1));
    if (t->slots == NULL || t->suffix_lens == NULL || t->prefix_lens == NULL)
        goto fail;
    t->slot_mask = slots - 1;
    for (uint32_t i = 0; i < b->n_vhosts; i++) {
        struct rb_vhost *bv = &b->vhosts[i];
        for (uint32_t j = 0; j < bv->n_domains; j++) {
            struct or_str d = bv->domains[j];
            snprintf(path, sizeof(path), "%s%svirtual_hosts[%u].domains[%u]", base, dot, i, j);
            int dup;
            if (d.len == 1 && d.ptr[0] == '*') {
                if (t->default_vhost != NULL) {
                    rc = or_err_set(err, path,
                                    "Only a single wildcard domain is permitted in route %s",
                                    t->name.ptr);
                    goto fail;
                }
                t->default_vhost = &t->vhosts[i];
                continue;
            } else if (d.len > 0 && d.ptr[0] == '*') {
                dup =
                    domain_insert(t, d.ptr + 1, (uint32_t)d.len - 1, DOMAIN_SUFFIX, &t->vhosts[i]);
                if (!dup)
                    t->suffix_lens[t->n_suffix_lens++] = (uint32_t)d.len - 1;
            } else if (d.len > 0 && d.ptr[d.len - 1] == '*') {
                dup = domain_insert(t, d.ptr, (uint32_t)d.len - 1, DOMAIN_PREFIX, &t->vhosts[i]);
                if (!dup)
                    t->prefix_lens[t->n_prefix_lens++] = (uint32_t)d.len - 1;
            } else {
                dup = domain_insert(t, d.ptr, (uint32_t)d.len, DOMAIN_EXACT, &t->vhosts[i]);
            }
            if (dup) {
                rc = or_err_set(err, path,
                                "Only unique values for domains are permitted. Duplicate entry of "
                                "domain %s in route %s",
                                d.ptr, t->name.ptr);
                goto fail;
            }
        }
    }
    t->n_suffix_lens = distinct_desc(t->suffix_lens, t->n_suffix_lens);
    t->n_prefix_lens = distinct_desc(t->prefix_lens, t->n_prefix_lens);

    *out = t;
    b->t = NULL;
    or_route_builder_free(b);
    return 0;

fail:
    if (rc == OR_ENOMEM)
        or_err_set(err, b->path, "out of memory building the route table");
    or_route_builder_free(b);
    return rc;
}
