/* RouteConfiguration proto -> immutable route table (see translate_route.h for the field list). */
#include "proxy/config/translate_route.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "envoy/config/route/v3/route_components.pb-c.h"
#include "proxy/router/route_table.h"

/* Field paths grow with nesting; err->path keeps what fits. */
#define PATH_MAX_LEN 512

typedef Envoy__Config__Route__V3__RouteConfiguration RouteConfiguration;
typedef Envoy__Config__Route__V3__VirtualHost VirtualHost;
typedef Envoy__Config__Route__V3__Route Route;
typedef Envoy__Config__Route__V3__RouteMatch RouteMatch;
typedef Envoy__Config__Route__V3__RouteAction RouteAction;
typedef Envoy__Config__Route__V3__RedirectAction RedirectAction;
typedef Envoy__Config__Route__V3__DirectResponseAction DirectResponseAction;
typedef Envoy__Config__Route__V3__HeaderMatcher HeaderMatcher;
typedef Envoy__Config__Route__V3__WeightedCluster WeightedCluster;
typedef Envoy__Type__Matcher__V3__RegexMatcher RegexMatcher;
typedef Envoy__Type__Matcher__V3__StringMatcher StringMatcher;
typedef Envoy__Config__Core__V3__DataSource DataSource;

/* err->path = path, truncated to fit (memcpy: gcc's -Wformat-truncation dislikes the snprintf). */
static void set_path(struct or_err_detail *err, const char *path)
{
    size_t n = path ? strnlen(path, sizeof(err->path) - 1) : 0;
    if (n)
        memcpy(err->path, path, n);
    err->path[n] = '\0';
}

static int reject(struct or_err_detail *err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int reject(struct or_err_detail *err, const char *path, const char *fmt, ...)
{
    if (err == NULL)
        return OR_EINVAL;
    set_path(err, path);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return OR_EINVAL;
}

/* A builder call failed: keep its message (or say OOM) and name the field. */
static int reject_from(int rc, struct or_err_detail *err, const char *path)
{
    if (rc == OR_ENOMEM)
        return reject(err, path, "out of memory");
    if (err != NULL)
        set_path(err, path);
    return rc;
}

static void sub(char *out, const char *parent, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* out = parent + "." + formatted child (just the child when parent is empty, just the parent
 * when the child is; no dot before an index). Truncates at PATH_MAX_LEN. */
static void sub(char *out, const char *parent, const char *fmt, ...)
{
    char child[PATH_MAX_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(child, sizeof(child), fmt, ap);
    va_end(ap);
    size_t n = parent ? strnlen(parent, PATH_MAX_LEN - 1) : 0;
    if (n)
        memmove(out, parent, n);
    if (n > 0 && child[0] != '\0' && child[0] != '[' && n < PATH_MAX_LEN - 1)
        out[n++] = '.';
    size_t c = strnlen(child, PATH_MAX_LEN - 1 - n);
    memcpy(out + n, child, c);
    out[n + c] = '\0';
}

/* ---- unknown-field guard ---- */

static bool field_is_set(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    const char *base = (const char *)m;
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return *(const size_t *)(base + f->quantifier_offset) > 0;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(const uint32_t *)(base + f->quantifier_offset) == f->id;
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset != 0 &&
        f->type != PROTOBUF_C_TYPE_MESSAGE && f->type != PROTOBUF_C_TYPE_STRING)
        return *(const protobuf_c_boolean *)(base + f->quantifier_offset);
    const char *p = base + f->offset;
    switch (f->type) {
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(void *const *)p != NULL;
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(const char *const *)p;
        return s != NULL && s[0] != '\0';
    }
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *)p)->len > 0;
    case PROTOBUF_C_TYPE_BOOL:
        return *(const protobuf_c_boolean *)p != 0;
    case PROTOBUF_C_TYPE_FLOAT:
        return *(const float *)p != 0;
    case PROTOBUF_C_TYPE_DOUBLE:
        return *(const double *)p != 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return *(const uint64_t *)p != 0;
    default: /* 32-bit integers and enums */
        return *(const uint32_t *)p != 0;
    }
}

/* Any field of `m` that is set but not named in `handled` is an error: the subset may grow
 * before this translator does, and a silently ignored field would change behaviour. */
static int check_fields(const ProtobufCMessage *m, const char *const *handled, const char *path,
                        struct or_err_detail *err)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        bool known = false;
        for (const char *const *h = handled; *h != NULL; h++)
            if (strcmp(*h, f->name) == 0) {
                known = true;
                break;
            }
        if (!known && field_is_set(m, f)) {
            char p[PATH_MAX_LEN];
            sub(p, path, "%s", f->name);
            return reject(err, p, "field not supported by this proxy (%s.%s)", d->name, f->name);
        }
    }
    return 0;
}

#define CHECK_FIELDS(m, path, err, ...)                                                            \
    do {                                                                                           \
        static const char *const handled_[] = {__VA_ARGS__, NULL};                                 \
        int rc_ = check_fields(&(m)->base, handled_, (path), (err));                               \
        if (rc_ != 0)                                                                              \
            return rc_;                                                                            \
    } while (0)

/* ---- shared validators ---- */

static const char *nz(const char *s)
{
    return s ? s : "";
}

/* PGV's well_known_regex HTTP_HEADER_NAME / HTTP_HEADER_VALUE with strict: false. */
static int header_chars(const char *s, const char *path, struct or_err_detail *err)
{
    if (s != NULL && strpbrk(s, "\r\n") != NULL)
        return reject(err, path, "value does not match regex pattern \"^[^\\x00\\n\\r]*$\"");
    return 0;
}

static int min_len1(const char *s, const char *path, struct or_err_detail *err)
{
    if (s == NULL || s[0] == '\0')
        return reject(err, path, "value length must be at least 1 runes");
    return 0;
}

/* Envoy's DurationUtil::durationToMilliseconds. */
static int duration_ms(const Google__Protobuf__Duration *d, const char *path, uint64_t *ms,
                       struct or_err_detail *err)
{
    if (d->seconds < 0 || d->nanos < 0)
        return reject(err, path,
                      "Invalid duration: Expected positive duration: seconds: %lld "
                      "nanos: %d",
                      (long long)d->seconds, (int)d->nanos);
    if (d->nanos > 999999999 || d->seconds > 315576000000LL)
        return reject(err, path, "Duration out-of-range: seconds: %lld nanos: %d",
                      (long long)d->seconds, (int)d->nanos);
    *ms = (uint64_t)d->seconds * 1000 + (uint64_t)d->nanos / 1000000;
    return 0;
}

/* RegexMatcher -> pattern and program size limit. `path` names the RegexMatcher. */
static int regex_spec(const RegexMatcher *re, const char *path, const char **pattern, uint32_t *max,
                      bool *legacy, struct or_err_detail *err)
{
    char p[PATH_MAX_LEN];
    CHECK_FIELDS(re, path, err, "google_re2", "regex");
    *max = 0;
    *legacy = false;
    if (re->engine_type_case == ENVOY__TYPE__MATCHER__V3__REGEX_MATCHER__ENGINE_TYPE_GOOGLE_RE2 &&
        re->google_re2 != NULL) {
        sub(p, path, "google_re2");
        CHECK_FIELDS(re->google_re2, p, err, "max_program_size");
        if (re->google_re2->max_program_size != NULL) {
            /* The deprecated per-regex limit replaces the runtime error level. */
            *max = re->google_re2->max_program_size->value;
            *legacy = true;
        }
    }
    sub(p, path, "regex");
    int rc = min_len1(re->regex, p, err);
    if (rc != 0)
        return rc;
    *pattern = re->regex;
    return 0;
}

/* StringMatcher -> spec. `path` names the StringMatcher. `regex_path` receives the path a regex
 * compile error must carry. */
static int string_spec(const StringMatcher *sm, const char *path, struct or_string_match_spec *s,
                       char *regex_path, struct or_err_detail *err)
{
    char p[PATH_MAX_LEN];
    CHECK_FIELDS(sm, path, err, "exact", "prefix", "suffix", "safe_regex", "contains",
                 "ignore_case");
    memset(s, 0, sizeof(*s));
    s->ignore_case = sm->ignore_case;
    int rc;
    switch (sm->match_pattern_case) {
    case ENVOY__TYPE__MATCHER__V3__STRING_MATCHER__MATCH_PATTERN_EXACT:
        s->kind = OR_SM_EXACT;
        s->value = nz(sm->exact);
        break;
    case ENVOY__TYPE__MATCHER__V3__STRING_MATCHER__MATCH_PATTERN_PREFIX:
        sub(p, path, "prefix");
        if ((rc = min_len1(sm->prefix, p, err)) != 0)
            return rc;
        s->kind = OR_SM_PREFIX;
        s->value = sm->prefix;
        break;
    case ENVOY__TYPE__MATCHER__V3__STRING_MATCHER__MATCH_PATTERN_SUFFIX:
        sub(p, path, "suffix");
        if ((rc = min_len1(sm->suffix, p, err)) != 0)
            return rc;
        s->kind = OR_SM_SUFFIX;
        s->value = sm->suffix;
        break;
    case ENVOY__TYPE__MATCHER__V3__STRING_MATCHER__MATCH_PATTERN_CONTAINS:
        sub(p, path, "contains");
        if ((rc = min_len1(sm->contains, p, err)) != 0)
            return rc;
        s->kind = OR_SM_CONTAINS;
        s->value = sm->contains;
        break;
    case ENVOY__TYPE__MATCHER__V3__STRING_MATCHER__MATCH_PATTERN_SAFE_REGEX:
        sub(p, path, "safe_regex");
        if (sm->safe_regex == NULL)
            return reject(err, p, "value is required");
        if (sm->ignore_case) {
            sub(p, path, "ignore_case");
            return reject(err, p, "ignore_case has no effect for safe_regex.");
        }
        if ((rc = regex_spec(sm->safe_regex, p, &s->value, &s->max_program_size, &s->legacy_limit,
                             err)) != 0)
            return rc;
        sub(regex_path, p, "regex");
        s->kind = OR_SM_REGEX;
        break;
    default:
        return reject(err, path,
                      "match_pattern is required: one of exact, prefix, suffix, "
                      "safe_regex, contains");
    }
    s->len = strlen(s->value);
    if (s->kind != OR_SM_REGEX)
        sub(regex_path, path, "%s", "");
    return 0;
}

/* ---- matchers ---- */

static int translate_header(struct or_route_builder *b, const HeaderMatcher *hm, const char *path,
                            struct or_err_detail *err)
{
    char p[PATH_MAX_LEN], rp[PATH_MAX_LEN];
    int rc;
    CHECK_FIELDS(hm, path, err, "name", "exact_match", "safe_regex_match", "range_match",
                 "present_match", "prefix_match", "suffix_match", "contains_match", "string_match",
                 "invert_match");
    sub(p, path, "name");
    if ((rc = min_len1(hm->name, p, err)) != 0 || (rc = header_chars(hm->name, p, err)) != 0)
        return rc;

    struct or_header_match_spec s;
    memset(&s, 0, sizeof(s));
    s.name = hm->name;
    s.invert = hm->invert_match;
    sub(rp, path, "%s", "");
    switch (hm->header_match_specifier_case) {
    case ENVOY__CONFIG__ROUTE__V3__HEADER_MATCHER__HEADER_MATCH_SPECIFIER__NOT_SET:
        /* No specifier: Envoy matches on presence. */
        s.kind = OR_HM_PRESENT;
        s.present = true;
        break;
    case ENVOY__CONFIG__ROUTE__V3__HEADER_MATCHER__HEADER_MATCH_SPECIFIER_EXACT_MATCH:
        s.kind = OR_HM_EXACT_LEGACY;
        s.sm.kind = OR_SM_EXACT;
        s.sm.value = nz(hm->exact_match);
        s.sm.len = strlen(s.sm.value);
        break;
    case ENVOY__CONFIG__ROUTE__V3__HEADER_MATCHER__HEADER_MATCH_SPECIFIER_SAFE_REGEX_MATCH:
        sub(p, path, "safe_regex_match");
        if (hm->safe_regex_match == NULL)
            return reject(err, p, "value is required");
        s.kind = OR_HM_STRING;
        s.sm.kind = OR_SM_REGEX;
        if ((rc = regex_spec(hm->safe_regex_match, p, &s.sm.value, &s.sm.max_program_size,
                             &s.sm.legacy_limit, err)) != 0)
            return rc;
        s.sm.len = strlen(s.sm.value);
        sub(rp, p, "regex");
        break;
    case ENVOY__CONFIG__ROUTE__V3__HEADER_MATCHER__HEADER_MATCH_SPECIFIER_RANGE_MATCH:
        sub(p, path, "range_match");
        if (hm->range_match == NULL)
            return reject(err, p, "value is required");
        CHECK_FIELDS(hm->range_match, p, err, "start", "end");
        s.kind = OR_HM_RANGE;
        s.range_start = hm->range_match->start;
        s.range_end = hm->range_match->end;
        break;
    case ENVOY__CONFIG__ROUTE__V3__HEADER_MATCHER__HEADER_MATCH_SPECIFIER_PRESENT_MATCH:
        s.kind = OR_HM_PRESENT;
        s.present = hm->present_match;
        break;
    case ENVOY__CONFIG__ROUTE__V3__HEADER_MATCHER__HEADER_MATCH_SPECIFIER_PREFIX_MATCH:
    case ENVOY__CONFIG__ROUTE__V3__HEADER_MATCHER__HEADER_MATCH_SPECIFIER_SUFFIX_MATCH:
    case ENVOY__CONFIG__ROUTE__V3__HEADER_MATCHER__HEADER_MATCH_SPECIFIER_CONTAINS_MATCH: {
        const char *v, *field;
        if (hm->header_match_specifier_case ==
            ENVOY__CONFIG__ROUTE__V3__HEADER_MATCHER__HEADER_MATCH_SPECIFIER_PREFIX_MATCH) {
            v = hm->prefix_match;
            field = "prefix_match";
            s.sm.kind = OR_SM_PREFIX;
        } else if (hm->header_match_specifier_case ==
                   ENVOY__CONFIG__ROUTE__V3__HEADER_MATCHER__HEADER_MATCH_SPECIFIER_SUFFIX_MATCH) {
            v = hm->suffix_match;
            field = "suffix_match";
            s.sm.kind = OR_SM_SUFFIX;
        } else {
            v = hm->contains_match;
            field = "contains_match";
            s.sm.kind = OR_SM_CONTAINS;
        }
        sub(p, path, "%s", field);
        if ((rc = min_len1(v, p, err)) != 0)
            return rc;
        s.kind = OR_HM_STRING;
        s.sm.value = v;
        s.sm.len = strlen(v);
        break;
    }
    case ENVOY__CONFIG__ROUTE__V3__HEADER_MATCHER__HEADER_MATCH_SPECIFIER_STRING_MATCH:
        sub(p, path, "string_match");
        if (hm->string_match == NULL)
            return reject(err, p, "value is required");
        s.kind = OR_HM_STRING;
        if ((rc = string_spec(hm->string_match, p, &s.sm, rp, err)) != 0)
            return rc;
        break;
    default:
        return reject(err, path, "unknown header_match_specifier %d",
                      (int)hm->header_match_specifier_case);
    }
    rc = or_route_builder_match_header(b, &s, err);
    return rc ? reject_from(rc, err, rp) : 0;
}

static int translate_match(struct or_route_builder *b, const RouteMatch *m, const char *path,
                           struct or_err_detail *err)
{
    char p[PATH_MAX_LEN];
    int rc;
    CHECK_FIELDS(m, path, err, "prefix", "path", "safe_regex", "case_sensitive", "headers");
    switch (m->path_specifier_case) {
    case ENVOY__CONFIG__ROUTE__V3__ROUTE_MATCH__PATH_SPECIFIER_PREFIX:
        rc = or_route_builder_match_path(b, OR_PATH_PREFIX, nz(m->prefix), strlen(nz(m->prefix)),
                                         err);
        sub(p, path, "prefix");
        break;
    case ENVOY__CONFIG__ROUTE__V3__ROUTE_MATCH__PATH_SPECIFIER_PATH:
        rc = or_route_builder_match_path(b, OR_PATH_EXACT, nz(m->path), strlen(nz(m->path)), err);
        sub(p, path, "path");
        break;
    case ENVOY__CONFIG__ROUTE__V3__ROUTE_MATCH__PATH_SPECIFIER_SAFE_REGEX: {
        sub(p, path, "safe_regex");
        if (m->safe_regex == NULL)
            return reject(err, p, "value is required");
        const char *pattern;
        uint32_t max;
        bool legacy;
        if ((rc = regex_spec(m->safe_regex, p, &pattern, &max, &legacy, err)) != 0)
            return rc;
        sub(p, path, "safe_regex.regex");
        rc = or_route_builder_match_regex(b, pattern, strlen(pattern), max, legacy, err);
        break;
    }
    default:
        return reject(err, path, "path_specifier is required: one of prefix, path, safe_regex");
    }
    if (rc != 0)
        return reject_from(rc, err, p);
    if (m->case_sensitive != NULL)
        or_route_builder_case_sensitive(b, m->case_sensitive->value);
    for (size_t k = 0; k < m->n_headers; k++) {
        sub(p, path, "headers[%zu]", k);
        if (m->headers[k] == NULL)
            return reject(err, p, "value is required");
        if ((rc = translate_header(b, m->headers[k], p, err)) != 0)
            return rc;
    }
    return 0;
}

/* ---- actions ---- */

static int translate_weighted(struct or_route_builder *b, const WeightedCluster *wc,
                              const char *path, const char *route_name, struct or_err_detail *err)
{
    char p[PATH_MAX_LEN];
    CHECK_FIELDS(wc, path, err, "clusters", "total_weight");
    if (wc->n_clusters == 0) {
        sub(p, path, "clusters");
        return reject(err, p, "value must contain at least 1 item(s)");
    }
    /* total_weight is deprecated: current Envoy uses the sum of the weights and ignores it. */
    uint64_t total = 0;
    for (size_t k = 0; k < wc->n_clusters; k++) {
        const Envoy__Config__Route__V3__WeightedCluster__ClusterWeight *c = wc->clusters[k];
        sub(p, path, "clusters[%zu]", k);
        if (c == NULL)
            return reject(err, p, "value is required");
        CHECK_FIELDS(c, p, err, "name", "weight");
        if (c->name == NULL || c->name[0] == '\0')
            return reject(err, p, "At least one of name or cluster_header need to be specified");
        uint32_t w = c->weight ? c->weight->value : 0;
        total += w;
        if (total > UINT32_MAX)
            return reject(err, path,
                          "The sum of weights of all weighted clusters of route %s exceeds %u",
                          route_name, UINT32_MAX);
        int rc = or_route_builder_action_weighted(b, c->name, w);
        if (rc != 0)
            return reject_from(rc, err, p);
    }
    if (total == 0)
        return reject(err, path, "Sum of weights in the weighted_cluster must be greater than 0.");
    return 0;
}

static int translate_route_action(struct or_route_builder *b, const RouteAction *ra,
                                  const char *path, const char *route_name,
                                  struct or_err_detail *err)
{
    char p[PATH_MAX_LEN];
    int rc;
    CHECK_FIELDS(ra, path, err, "cluster", "weighted_clusters", "prefix_rewrite",
                 "host_rewrite_literal", "timeout");
    switch (ra->cluster_specifier_case) {
    case ENVOY__CONFIG__ROUTE__V3__ROUTE_ACTION__CLUSTER_SPECIFIER_CLUSTER:
        sub(p, path, "cluster");
        if ((rc = min_len1(ra->cluster, p, err)) != 0)
            return rc;
        if ((rc = or_route_builder_action_cluster(b, ra->cluster)) != 0)
            return reject_from(rc, err, p);
        break;
    case ENVOY__CONFIG__ROUTE__V3__ROUTE_ACTION__CLUSTER_SPECIFIER_WEIGHTED_CLUSTERS:
        sub(p, path, "weighted_clusters");
        if (ra->weighted_clusters == NULL)
            return reject(err, p, "value is required");
        if ((rc = translate_weighted(b, ra->weighted_clusters, p, route_name, err)) != 0)
            return rc;
        break;
    default:
        return reject(err, path,
                      "cluster_specifier is required: one of cluster, weighted_clusters");
    }
    if (ra->prefix_rewrite != NULL && ra->prefix_rewrite[0] != '\0') {
        sub(p, path, "prefix_rewrite");
        if ((rc = header_chars(ra->prefix_rewrite, p, err)) != 0)
            return rc;
        if ((rc = or_route_builder_prefix_rewrite(b, ra->prefix_rewrite,
                                                  strlen(ra->prefix_rewrite))) != 0)
            return reject_from(rc, err, p);
    }
    if (ra->host_rewrite_specifier_case ==
            ENVOY__CONFIG__ROUTE__V3__ROUTE_ACTION__HOST_REWRITE_SPECIFIER_HOST_REWRITE_LITERAL &&
        ra->host_rewrite_literal != NULL && ra->host_rewrite_literal[0] != '\0') {
        sub(p, path, "host_rewrite_literal");
        if ((rc = header_chars(ra->host_rewrite_literal, p, err)) != 0)
            return rc;
        if ((rc = or_route_builder_host_rewrite(b, ra->host_rewrite_literal,
                                                strlen(ra->host_rewrite_literal))) != 0)
            return reject_from(rc, err, p);
    }
    if (ra->timeout != NULL) {
        uint64_t ms = 0;
        sub(p, path, "timeout");
        if ((rc = duration_ms(ra->timeout, p, &ms, err)) != 0)
            return rc;
        or_route_builder_timeout_ms(b, ms);
    }
    return 0;
}

static int translate_redirect(struct or_route_builder *b, const RedirectAction *ra,
                              const char *path, struct or_err_detail *err)
{
    char p[PATH_MAX_LEN];
    int rc;
    CHECK_FIELDS(ra, path, err, "https_redirect", "scheme_redirect", "host_redirect",
                 "port_redirect", "path_redirect", "prefix_rewrite", "response_code",
                 "strip_query");
    struct or_redirect_action r;
    memset(&r, 0, sizeof(r));
    if (ra->scheme_rewrite_specifier_case ==
            ENVOY__CONFIG__ROUTE__V3__REDIRECT_ACTION__SCHEME_REWRITE_SPECIFIER_HTTPS_REDIRECT &&
        ra->https_redirect)
        r.scheme = OR_STR_LIT("https");
    else if (ra->scheme_rewrite_specifier_case ==
             ENVOY__CONFIG__ROUTE__V3__REDIRECT_ACTION__SCHEME_REWRITE_SPECIFIER_SCHEME_REDIRECT)
        r.scheme = or_str_cstr(nz(ra->scheme_redirect));
    sub(p, path, "host_redirect");
    if ((rc = header_chars(ra->host_redirect, p, err)) != 0)
        return rc;
    r.host = or_str_cstr(nz(ra->host_redirect));
    r.port = ra->port_redirect;
    switch (ra->path_rewrite_specifier_case) {
    case ENVOY__CONFIG__ROUTE__V3__REDIRECT_ACTION__PATH_REWRITE_SPECIFIER_PATH_REDIRECT:
        sub(p, path, "path_redirect");
        if ((rc = header_chars(ra->path_redirect, p, err)) != 0)
            return rc;
        r.path_kind = OR_REDIRECT_PATH_REPLACE;
        r.path = or_str_cstr(nz(ra->path_redirect));
        break;
    case ENVOY__CONFIG__ROUTE__V3__REDIRECT_ACTION__PATH_REWRITE_SPECIFIER_PREFIX_REWRITE:
        sub(p, path, "prefix_rewrite");
        if ((rc = header_chars(ra->prefix_rewrite, p, err)) != 0)
            return rc;
        r.path_kind = OR_REDIRECT_PREFIX;
        r.path = or_str_cstr(nz(ra->prefix_rewrite));
        break;
    default:
        break;
    }
    switch (ra->response_code) {
    case ENVOY__CONFIG__ROUTE__V3__REDIRECT_ACTION__REDIRECT_RESPONSE_CODE__MOVED_PERMANENTLY:
        r.status = 301;
        break;
    case ENVOY__CONFIG__ROUTE__V3__REDIRECT_ACTION__REDIRECT_RESPONSE_CODE__FOUND:
        r.status = 302;
        break;
    case ENVOY__CONFIG__ROUTE__V3__REDIRECT_ACTION__REDIRECT_RESPONSE_CODE__SEE_OTHER:
        r.status = 303;
        break;
    case ENVOY__CONFIG__ROUTE__V3__REDIRECT_ACTION__REDIRECT_RESPONSE_CODE__TEMPORARY_REDIRECT:
        r.status = 307;
        break;
    case ENVOY__CONFIG__ROUTE__V3__REDIRECT_ACTION__REDIRECT_RESPONSE_CODE__PERMANENT_REDIRECT:
        r.status = 308;
        break;
    default:
        sub(p, path, "response_code");
        return reject(err, p, "value must be one of the defined enum values");
    }
    r.strip_query = ra->strip_query;
    if ((rc = or_route_builder_action_redirect(b, &r)) != 0)
        return reject_from(rc, err, path);
    return 0;
}

/* Reads a DataSource body, capped at `max` bytes. *body is malloc'd (free it). */
static int read_body(const DataSource *ds, const char *path, size_t max, char **body, size_t *len,
                     struct or_err_detail *err)
{
    char p[PATH_MAX_LEN];
    *body = NULL;
    *len = 0;
    CHECK_FIELDS(ds, path, err, "filename", "inline_bytes", "inline_string");
    const char *src = NULL;
    size_t n = 0;
    switch (ds->specifier_case) {
    case ENVOY__CONFIG__CORE__V3__DATA_SOURCE__SPECIFIER_FILENAME: {
        sub(p, path, "filename");
        int rc = min_len1(ds->filename, p, err);
        if (rc != 0)
            return rc;
        struct stat st;
        if (stat(ds->filename, &st) != 0 || !S_ISREG(st.st_mode))
            return reject(err, p, "response body file %s does not exist", ds->filename);
        if ((uint64_t)st.st_size > max)
            return reject(err, p, "response body file %s size is %lld bytes; maximum is %zu",
                          ds->filename, (long long)st.st_size, max);
        FILE *f = fopen(ds->filename, "rb");
        if (f == NULL)
            return reject(err, p, "cannot read response body file %s: %s", ds->filename,
                          strerror(errno));
        char *buf = malloc((size_t)st.st_size + 1);
        if (buf == NULL) {
            fclose(f);
            return OR_ENOMEM;
        }
        size_t got = fread(buf, 1, (size_t)st.st_size + 1, f);
        bool bad = ferror(f) != 0;
        fclose(f);
        if (bad || got > max) {
            free(buf);
            return reject(err, p, "cannot read response body file %s", ds->filename);
        }
        *body = buf;
        *len = got;
        return 0;
    }
    case ENVOY__CONFIG__CORE__V3__DATA_SOURCE__SPECIFIER_INLINE_BYTES:
        src = (const char *)ds->inline_bytes.data;
        n = ds->inline_bytes.len;
        break;
    case ENVOY__CONFIG__CORE__V3__DATA_SOURCE__SPECIFIER_INLINE_STRING:
        src = nz(ds->inline_string);
        n = strlen(src);
        break;
    default:
        return reject(err, path,
                      "specifier is required: one of filename, inline_bytes, "
                      "inline_string");
    }
    if (n > max)
        return reject(err, path, "response body size is %zu bytes; maximum is %zu", n, max);
    *body = malloc(n + 1);
    if (*body == NULL)
        return OR_ENOMEM;
    if (n)
        memcpy(*body, src, n);
    *len = n;
    return 0;
}

static int translate_direct(struct or_route_builder *b, const DirectResponseAction *dr,
                            const char *path, struct or_err_detail *err)
{
    char p[PATH_MAX_LEN];
    CHECK_FIELDS(dr, path, err, "status", "body");
    if (dr->status < 200 || dr->status >= 600) {
        sub(p, path, "status");
        return reject(err, p, "value must be inside range [200, 600)");
    }
    char *body = NULL;
    size_t len = 0;
    if (dr->body != NULL) {
        sub(p, path, "body");
        int rc = read_body(dr->body, p, OR_ROUTE_DEFAULT_MAX_DIRECT_BODY, &body, &len, err);
        if (rc != 0)
            return rc == OR_ENOMEM ? reject_from(rc, err, p) : rc;
    }
    int rc = or_route_builder_action_direct(b, dr->status, body ? body : "", len);
    free(body);
    return rc ? reject_from(rc, err, path) : 0;
}

/* ---- structure ---- */

static int translate_route(struct or_route_builder *b, const Route *r, const char *path,
                           struct or_err_detail *err)
{
    char p[PATH_MAX_LEN];
    int rc;
    CHECK_FIELDS(r, path, err, "match", "route", "redirect", "direct_response", "metadata", "name");
    if ((rc = or_route_builder_add_route(b, nz(r->name))) != 0)
        return reject_from(rc, err, path);
    sub(p, path, "match");
    if (r->match == NULL)
        return reject(err, p, "value is required");
    if ((rc = translate_match(b, r->match, p, err)) != 0)
        return rc;
    switch (r->action_case) {
    case ENVOY__CONFIG__ROUTE__V3__ROUTE__ACTION_ROUTE:
        sub(p, path, "route");
        if (r->route == NULL)
            return reject(err, p, "value is required");
        return translate_route_action(b, r->route, p, nz(r->name), err);
    case ENVOY__CONFIG__ROUTE__V3__ROUTE__ACTION_REDIRECT:
        sub(p, path, "redirect");
        if (r->redirect == NULL)
            return reject(err, p, "value is required");
        return translate_redirect(b, r->redirect, p, err);
    case ENVOY__CONFIG__ROUTE__V3__ROUTE__ACTION_DIRECT_RESPONSE:
        sub(p, path, "direct_response");
        if (r->direct_response == NULL)
            return reject(err, p, "value is required");
        return translate_direct(b, r->direct_response, p, err);
    default:
        return reject(err, path, "action is required: one of route, redirect, direct_response");
    }
}

static int translate_vhost(struct or_route_builder *b, const VirtualHost *vh, const char *path,
                           struct or_err_detail *err)
{
    char p[PATH_MAX_LEN];
    int rc;
    CHECK_FIELDS(vh, path, err, "name", "domains", "routes");
    sub(p, path, "name");
    if ((rc = min_len1(vh->name, p, err)) != 0)
        return rc;
    if ((rc = or_route_builder_add_vhost(b, vh->name)) != 0)
        return reject_from(rc, err, path);
    if (vh->n_domains == 0) {
        sub(p, path, "domains");
        return reject(err, p, "value must contain at least 1 item(s)");
    }
    for (size_t j = 0; j < vh->n_domains; j++) {
        sub(p, path, "domains[%zu]", j);
        const char *d = nz(vh->domains[j]);
        if ((rc = header_chars(d, p, err)) != 0)
            return rc;
        if ((rc = or_route_builder_add_domain(b, d, strlen(d))) != 0)
            return reject_from(rc, err, p);
    }
    for (size_t j = 0; j < vh->n_routes; j++) {
        sub(p, path, "routes[%zu]", j);
        if (vh->routes[j] == NULL)
            return reject(err, p, "value is required");
        if ((rc = translate_route(b, vh->routes[j], p, err)) != 0)
            return rc;
    }
    return 0;
}

static int translate_config(struct or_route_builder *b, const RouteConfiguration *rc,
                            const char *path, struct or_err_detail *err)
{
    char p[PATH_MAX_LEN];
    CHECK_FIELDS(rc, path, err, "name", "virtual_hosts");
    for (size_t i = 0; i < rc->n_virtual_hosts; i++) {
        sub(p, path, "virtual_hosts[%zu]", i);
        if (rc->virtual_hosts[i] == NULL)
            return reject(err, p, "value is required");
        int r = translate_vhost(b, rc->virtual_hosts[i], p, err);
        if (r != 0)
            return r;
    }
    return 0;
}

int or_route_table_from_proto(const Envoy__Config__Route__V3__RouteConfiguration *rc,
                              const char *path, struct or_route_table **out,
                              struct or_err_detail *err)
{
    *out = NULL;
    struct or_route_builder *b = or_route_builder_new(nz(rc->name), nz(path));
    if (b == NULL)
        return reject(err, nz(path), "out of memory");
    int r = translate_config(b, rc, nz(path), err);
    if (r != 0) {
        or_route_builder_free(b);
        return r;
    }
    return or_route_builder_finish(b, out, err);
}

int or_route_table_validate_clusters(const struct or_route_table *t, const char *path,
                                     or_route_has_cluster_cb has_cluster, void *ctx,
                                     struct or_err_detail *err)
{
    char p[PATH_MAX_LEN], vp[PATH_MAX_LEN];
    for (uint32_t i = 0; i < or_route_table_vhost_count(t); i++) {
        const struct or_vhost *vh = or_route_table_vhost(t, i);
        for (uint32_t j = 0; j < vh->n_routes; j++) {
            const struct or_route_entry *e = &vh->routes[j];
            sub(vp, nz(path), "virtual_hosts[%u].routes[%u].route", i, j);
            if (e->kind == OR_ROUTE_CLUSTER && !has_cluster(ctx, e->cluster.ptr)) {
                sub(p, vp, "cluster");
                return reject(err, p, "route: unknown cluster '%s'", e->cluster.ptr);
            }
            if (e->kind != OR_ROUTE_WEIGHTED_CLUSTERS)
                continue;
            for (uint32_t k = 0; k < e->n_weighted; k++)
                if (!has_cluster(ctx, e->weighted[k].name.ptr)) {
                    sub(p, vp, "weighted_clusters.clusters[%u].name", k);
                    return reject(err, p, "route: unknown weighted cluster '%s'",
                                  e->weighted[k].name.ptr);
                }
        }
    }
    return 0;
}
