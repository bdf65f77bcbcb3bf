/* Immutable runtime route table (Envoy RouteConfiguration semantics).
 *
 * Built once on the main thread (with the builder below, usually through
 * or_route_table_from_proto()), then read-only: worker threads share one table without locks,
 * and matching allocates nothing (except for a rare multi-valued header, see headers[] below).
 * All strings inside the table are NUL-terminated and live as long as the table.
 *
 * Matching follows Envoy:
 *  - Virtual host by :authority, lower-cased: exact domain > longest suffix wildcard ("*.foo.com",
 *    "*-bar.foo.com"; the '*' must cover at least one character) > longest prefix wildcard
 *    ("foo.*") > "*". The port is part of the comparison: Host "foo.com:8080" matches domain
 *    "foo.com:8080" (or "foo.*"/"*"), not "foo.com", unless ignore_port_in_host_matching is set,
 *    in which case the Host's port is dropped before matching (domains are never changed). The
 *    HCM's strip_matching_host_port / strip_any_host_port act on the header before routing.
 *    With no domain other than "*", the default vhost is used even without :authority; otherwise
 *    a request without :authority matches nothing.
 *  - Routes in order; the first whose matchers all pass wins. Path matchers look at :path
 *    without its query string and fragment; prefix/path honour case_sensitive (default true);
 *    safe_regex must match the whole path. headers[] all must match (multiple values of one
 *    header are joined with ','); query_parameters[] look at the first value of each name.
 */
#ifndef OR_ROUTER_ROUTE_TABLE_H
#define OR_ROUTER_ROUTE_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "proxy/core/arena.h"
#include "proxy/core/err.h"
#include "proxy/core/str.h"
#include "proxy/http/headers.h"
#include "proxy/router/regex.h"

/* Envoy's DEFAULT_ROUTE_TIMEOUT_MS. */
#define OR_ROUTE_DEFAULT_TIMEOUT_MS 15000u
/* Envoy's default RouteConfiguration.max_direct_response_body_size_bytes. */
#define OR_ROUTE_DEFAULT_MAX_DIRECT_BODY 4096u

enum or_route_kind {
    OR_ROUTE_CLUSTER = 0,       /* RouteAction.cluster */
    OR_ROUTE_WEIGHTED_CLUSTERS, /* RouteAction.weighted_clusters */
    OR_ROUTE_CLUSTER_HEADER,    /* RouteAction.cluster_header: cluster named by a request header */
    OR_ROUTE_DIRECT_RESPONSE,   /* Route.direct_response */
    OR_ROUTE_REDIRECT,          /* Route.redirect */
};

enum or_path_match {
    OR_PATH_PREFIX = 0,       /* RouteMatch.prefix */
    OR_PATH_EXACT,            /* RouteMatch.path */
    OR_PATH_REGEX,            /* RouteMatch.safe_regex (full match) */
    OR_PATH_SEPARATED_PREFIX, /* RouteMatch.path_separated_prefix: prefix then end or '/' */
    OR_PATH_CONNECT,          /* RouteMatch.connect_matcher: CONNECT requests, no path */
};

enum or_string_match_kind {
    OR_SM_EXACT = 0,
    OR_SM_PREFIX,
    OR_SM_SUFFIX,
    OR_SM_CONTAINS,
    OR_SM_REGEX, /* full match */
};

/* Envoy's type.matcher.v3.StringMatcher. */
struct or_string_matcher {
    enum or_string_match_kind kind;
    bool ignore_case;    /* ASCII case-insensitive (never with REGEX) */
    struct or_str value; /* table-owned; unused for REGEX */
    struct or_regex *re; /* table-owned; REGEX only */
};

enum or_header_match_kind {
    OR_HM_PRESENT = 0,  /* present_match; also a HeaderMatcher without specifier (present) */
    OR_HM_EXACT_LEGACY, /* deprecated exact_match: an empty expected value matches any value */
    OR_HM_STRING,       /* string_match, and the deprecated prefix/suffix/contains/safe_regex */
    OR_HM_RANGE,        /* range_match: decimal int64 in [start, end) */
};

/* Envoy's route.v3.HeaderMatcher. */
struct or_header_matcher {
    struct or_str name; /* lower-case, table-owned */
    enum or_header_match_kind kind;
    struct or_string_matcher sm; /* EXACT_LEGACY (sm.value) and STRING */
    int64_t range_start;         /* RANGE */
    int64_t range_end;           /* RANGE, exclusive */
    bool present;                /* PRESENT: the value of present_match */
    bool invert;                 /* invert_match */
    bool treat_missing_as_empty; /* treat_missing_header_as_empty */
};

/* Envoy's route.v3.QueryParameterMatcher. */
struct or_query_matcher {
    struct or_str name; /* table-owned, case-sensitive */
    bool present_only;  /* present_match: any value */
    struct or_string_matcher sm;
};

struct or_route_match {
    enum or_path_match path_kind;
    struct or_str path;      /* prefix / exact path as configured (table-owned) */
    struct or_regex *re;     /* OR_PATH_REGEX: table-owned */
    bool case_sensitive;     /* prefix and exact path only */
    bool grpc;               /* RouteMatch.grpc: content-type application/grpc[+...] */
    bool runtime_fraction;   /* RouteMatch.runtime_fraction (default value; no runtime layer) */
    uint32_t rf_numerator;   /* runtime_fraction: matches when rnd % denominator < numerator */
    uint32_t rf_denominator; /* 100, 10000 or 1000000 */
    const struct or_header_matcher *headers; /* table-owned array */
    uint32_t n_headers;
    const struct or_query_matcher *query; /* table-owned array */
    uint32_t n_query;
};

struct or_weighted_cluster {
    struct or_str name; /* table-owned */
    uint32_t weight;
};

enum or_redirect_path {
    OR_REDIRECT_PATH_KEEP = 0, /* keep the request path */
    OR_REDIRECT_PATH_REPLACE,  /* path_redirect */
    OR_REDIRECT_PREFIX,        /* prefix_rewrite of the matched prefix */
};

/* Envoy's route.v3.RedirectAction. */
struct or_redirect_action {
    struct or_str scheme; /* scheme_redirect, "https" for https_redirect; empty: keep */
    struct or_str host;   /* host_redirect; empty: keep the request's */
    uint32_t port;        /* port_redirect; 0: none */
    enum or_redirect_path path_kind;
    struct or_str path;  /* path_redirect or prefix_rewrite (table-owned) */
    bool path_has_query; /* path_redirect contains '?': its query wins, strip_query ignored */
    bool strip_query;
    unsigned status; /* 301 (default), 302, 303, 307, 308 */
};

struct or_direct_response {
    unsigned status;    /* 200..599 */
    struct or_str body; /* table-owned; may be empty */
};

struct or_vhost;

struct or_route_entry {
    struct or_str name; /* Route.name (table-owned, may be empty) */
    struct or_route_match match;
    enum or_route_kind kind;
    struct or_str cluster; /* CLUSTER: cluster name; CLUSTER_HEADER: header name (lower-case) */
    const struct or_weighted_cluster *weighted; /* WEIGHTED_CLUSTERS: table-owned array */
    uint32_t n_weighted;
    uint64_t total_weight;              /* sum of weights, > 0 */
    struct or_str prefix_rewrite;       /* RouteAction.prefix_rewrite; empty: none */
    struct or_str host_rewrite;         /* RouteAction.host_rewrite_literal; empty: none */
    uint64_t timeout_ms;                /* RouteAction.timeout; 15000 by default, 0 = disabled */
    struct or_direct_response direct;   /* DIRECT_RESPONSE */
    struct or_redirect_action redirect; /* REDIRECT */
    uint32_t index;                     /* position in the vhost's routes */
    const struct or_vhost *vhost;       /* borrowed: the vhost holding this route */
};

struct or_route_index;

struct or_vhost {
    struct or_str name;                  /* table-owned */
    const struct or_route_entry *routes; /* table-owned array */
    uint32_t n_routes;
    uint32_t index;                           /* position in the table */
    const struct or_route_index *route_index; /* table-owned; NULL: linear scan (small vhost) */
};

struct or_route_table;

/* ---- matching (any thread, no locks) ---- */

/**
 * Finds the route for a request. `h` carries :authority, :path (with query), :method and the
 * other headers. Runtime fractions see a random value of 0 (always pass unless numerator is 0);
 * use or_route_table_match_ex() to pass the stream's random value.
 * @param vh_out  if not NULL, set to the selected virtual host (NULL when none).
 * @return the route, or NULL (no vhost, or no route in it matched).
 */
const struct or_route_entry *or_route_table_match(const struct or_route_table *t,
                                                  const struct or_headers *h,
                                                  const struct or_vhost **vh_out);

/** As or_route_table_match(), with the stream's random value for runtime_fraction matchers (use
 * the same value for or_route_pick_weighted(), as Envoy does). */
const struct or_route_entry *or_route_table_match_ex(const struct or_route_table *t,
                                                     const struct or_headers *h, uint64_t rnd,
                                                     const struct or_vhost **vh_out);

/** Virtual host selection alone (Envoy's findVirtualHost). */
const struct or_vhost *or_route_table_find_vhost(const struct or_route_table *t,
                                                 const struct or_headers *h);

/** Route selection within one vhost: through its route index when it has one (same result as
 * the linear scan, in time nearly independent of the number of routes). */
const struct or_route_entry *or_vhost_match(const struct or_vhost *vh, const struct or_headers *h,
                                            uint64_t rnd);

/** Route selection by Envoy's in-order scan, ignoring the index (the reference for tests). */
const struct or_route_entry *or_vhost_match_linear(const struct or_vhost *vh,
                                                   const struct or_headers *h, uint64_t rnd);

/** Envoy StringMatcher semantics on one value. */
bool or_string_matcher_match(const struct or_string_matcher *m, struct or_str value);

/**
 * Weighted cluster pick as Envoy: (rnd % total_weight) falls in the cumulative weight interval
 * of the chosen cluster. `rnd` must be uniform over 64 bits (e.g. the stream's random value).
 * @return the cluster name (NUL-terminated, table-owned), NULL if `r` is not WEIGHTED_CLUSTERS.
 */
const char *or_route_pick_weighted(const struct or_route_entry *r, uint64_t rnd);
const struct or_weighted_cluster *or_route_pick_weighted_cluster(const struct or_route_entry *r,
                                                                 uint64_t rnd);

/**
 * Applies prefix_rewrite to `path` (the request's :path, query included, as matched by `r`): the
 * matched part (the configured prefix or path; the whole query-less path for a regex match) is
 * replaced, the rest including the query is kept.
 * @param out  the new path in `a`, or `path` itself when nothing is rewritten.
 * @return 1 when rewritten, 0 when the route has no prefix_rewrite, OR_ENOMEM.
 */
int or_route_rewrite_path(const struct or_route_entry *r, struct or_str path, struct or_arena *a,
                          struct or_str *out);

/**
 * The Location for a redirect (Envoy RedirectAction / Http::Utility::newUri): scheme from
 * scheme_redirect/https_redirect or the request's :scheme; host from host_redirect or the
 * request's :authority (its port dropped when port_redirect is set, or when it is the default
 * port of x-forwarded-proto and the scheme changes); port_redirect; path from path_redirect
 * (keeping the request query unless path_redirect has one), prefix_rewrite, or the request path;
 * strip_query. A DIRECT_RESPONSE route with status 201 or 3xx also gets a Location (the request
 * URL), as Envoy's router adds one.
 * @param location  "scheme://host[:port]/path[?query]" in `a`.
 * @param status    the response status (redirect code or direct response status).
 * @return 0; OR_ENOTFOUND when no Location applies (not a redirect, other direct status, or no
 *         :path); OR_ENOMEM.
 */
int or_route_redirect_location(const struct or_route_entry *r, const struct or_headers *req,
                               struct or_arena *a, struct or_str *location, unsigned *status);

/** Table introspection (config dump, tests). */
struct or_str or_route_table_name(const struct or_route_table *t);
uint32_t or_route_table_vhost_count(const struct or_route_table *t);
const struct or_vhost *or_route_table_vhost(const struct or_route_table *t, uint32_t i);

/** Arena bytes held by the route indexes of all vhosts (RE2 sets' own memory excluded). */
size_t or_route_table_index_bytes(const struct or_route_table *t);

void or_route_table_free(struct or_route_table *t);

/* ---- building (main thread) ----
 * Calls apply to the current vhost / route: add_vhost() starts a vhost, add_route() starts a
 * route in it. Each call returns 0 or a negative enum or_err; errors fill err->msg only (the
 * caller knows the config field and sets err->path), except or_route_builder_finish() which
 * fills both, with paths below the base path given to or_route_builder_new(). */

struct or_route_builder;

/* A StringMatcher to build. For OR_SM_REGEX, value/len is the pattern. */
struct or_string_match_spec {
    enum or_string_match_kind kind;
    const char *value;
    size_t len;
    bool ignore_case;
    uint32_t max_program_size; /* REGEX: 0 = default 100 (unless legacy_limit) */
    bool legacy_limit;         /* REGEX: limit from google_re2.max_program_size, taken as is */
};

struct or_header_match_spec {
    const char *name; /* any case: lower-cased */
    enum or_header_match_kind kind;
    struct or_string_match_spec sm; /* EXACT_LEGACY (value only) and STRING */
    int64_t range_start;
    int64_t range_end;
    bool present;
    bool invert;
    bool treat_missing_as_empty;
};

/**
 * @param name  RouteConfiguration.name (for messages and introspection; may be NULL).
 * @param path  base field path for errors found at finish, e.g. "route_config" (may be NULL).
 * @return NULL on OOM.
 */
struct or_route_builder *or_route_builder_new(const char *name, const char *path);
/** RouteConfiguration.ignore_port_in_host_matching. */
void or_route_builder_ignore_port(struct or_route_builder *b, bool ignore);
/** Vhosts with at least `n` routes get a route index (default 8; 0: every vhost; UINT32_MAX:
 * none, every vhost keeps the linear scan). */
void or_route_builder_index_min_routes(struct or_route_builder *b, uint32_t n);
int or_route_builder_add_vhost(struct or_route_builder *b, const char *name);
int or_route_builder_add_domain(struct or_route_builder *b, const char *domain, size_t len);
int or_route_builder_add_route(struct or_route_builder *b, const char *name);
/** PREFIX, EXACT, SEPARATED_PREFIX or CONNECT (s ignored). */
int or_route_builder_match_path(struct or_route_builder *b, enum or_path_match kind, const char *s,
                                size_t len, struct or_err_detail *err);
int or_route_builder_match_regex(struct or_route_builder *b, const char *pattern, size_t len,
                                 uint32_t max_program_size, bool legacy_limit,
                                 struct or_err_detail *err);
int or_route_builder_case_sensitive(struct or_route_builder *b, bool cs);
int or_route_builder_match_grpc(struct or_route_builder *b);
/** denominator: 100, 10000 or 1000000. */
int or_route_builder_runtime_fraction(struct or_route_builder *b, uint32_t numerator,
                                      uint32_t denominator, struct or_err_detail *err);
int or_route_builder_match_header(struct or_route_builder *b,
                                  const struct or_header_match_spec *spec,
                                  struct or_err_detail *err);
/** sm == NULL: present_match. */
int or_route_builder_match_query(struct or_route_builder *b, const char *name,
                                 const struct or_string_match_spec *sm, struct or_err_detail *err);
int or_route_builder_action_cluster(struct or_route_builder *b, const char *cluster);
int or_route_builder_action_cluster_header(struct or_route_builder *b, const char *header);
/** Call once per cluster; the route becomes WEIGHTED_CLUSTERS. */
int or_route_builder_action_weighted(struct or_route_builder *b, const char *cluster,
                                     uint32_t weight);
int or_route_builder_action_direct(struct or_route_builder *b, unsigned status, const char *body,
                                   size_t len);
/** Copies the strings of `ra`; `path_has_query` and the https scheme are derived. */
int or_route_builder_action_redirect(struct or_route_builder *b,
                                     const struct or_redirect_action *ra);
int or_route_builder_prefix_rewrite(struct or_route_builder *b, const char *s, size_t len);
int or_route_builder_host_rewrite(struct or_route_builder *b, const char *s, size_t len);
int or_route_builder_timeout_ms(struct or_route_builder *b, uint64_t ms);

/**
 * Validates (every route has a path matcher and an action, weighted sums in (0, 2^32),
 * unique domains, a single "*") and produces the table. Frees the builder in every case.
 * @return 0 with *out set, OR_EINVAL with err filled, OR_ENOMEM.
 */
int or_route_builder_finish(struct or_route_builder *b, struct or_route_table **out,
                            struct or_err_detail *err);
/** Drops an unfinished builder (NULL is fine). */
void or_route_builder_free(struct or_route_builder *b);

#endif
