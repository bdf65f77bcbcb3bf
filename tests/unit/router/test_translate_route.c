/* RouteConfiguration proto -> route table: every field of the subset, and errors with exact
 * field paths. Configs are written in YAML and parsed with the config loader's reflection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "envoy/config/route/v3/route.pb-c.h"
#include "proxy/config/reflect.h"
#include "proxy/config/translate_route.h"
#include "proxy/router/route_table.h"

static Envoy__Config__Route__V3__RouteConfiguration *parse(const char *yaml)
{
    ProtobufCMessage *m = NULL;
    struct or_err_detail err = {0};
    if (or_config_parse(yaml, strlen(yaml),
                        &envoy__config__route__v3__route_configuration__descriptor, &m, &err) != 0)
        fail_msg("parse: %s: %s", err.path, err.msg);
    return (Envoy__Config__Route__V3__RouteConfiguration *)m;
}

static struct or_route_table *translate_ok(const char *yaml)
{
    Envoy__Config__Route__V3__RouteConfiguration *rc = parse(yaml);
    struct or_route_table *t = NULL;
    struct or_err_detail err = {0};
    int r = or_route_table_from_proto(rc, "route_config", &t, &err);
    or_config_free(&rc->base);
    if (r != 0)
        fail_msg("translate: %s: %s", err.path, err.msg);
    return t;
}

static void translate_err_rc(Envoy__Config__Route__V3__RouteConfiguration *rc, const char *path,
                             const char *msg)
{
    struct or_route_table *t = NULL;
    struct or_err_detail err = {0};
    int r = or_route_table_from_proto(rc, "route_config", &t, &err);
    if (r == 0)
        fail_msg("expected an error at %s", path);
    assert_int_equal(r, OR_EINVAL);
    assert_null(t);
    if (strcmp(err.path, path) != 0)
        fail_msg("path '%s' want '%s' (msg: %s)", err.path, path, err.msg);
    if (strstr(err.msg, msg) == NULL)
        fail_msg("message '%s' lacks '%s'", err.msg, msg);
}

static void translate_err(const char *yaml, const char *path, const char *msg)
{
    Envoy__Config__Route__V3__RouteConfiguration *rc = parse(yaml);
    translate_err_rc(rc, path, msg);
    or_config_free(&rc->base);
}

struct req {
    struct or_arena arena;
    struct or_headers h;
};

static const struct or_route_entry *match(const struct or_route_table *t, const char *host,
                                          const char *path, const char *hname, const char *hval)
{
    struct req r; /* entries belong to the table: the request can go right away */
    or_arena_init(&r.arena, 0);
    or_headers_init(&r.h, &r.arena);
    or_headers_add(&r.h, ":authority", 10, host, strlen(host));
    or_headers_add(&r.h, ":path", 5, path, strlen(path));
    or_headers_add(&r.h, ":method", 7, "GET", 3);
    if (hname)
        or_headers_add(&r.h, hname, strlen(hname), hval, strlen(hval));
    const struct or_route_entry *e = or_route_table_match(t, &r.h, NULL);
    or_arena_deinit(&r.arena);
    return e;
}

static const char *route_name(const struct or_route_table *t, const char *host, const char *path,
                              const char *hname, const char *hval)
{
    const struct or_route_entry *e = match(t, host, path, hname, hval);
    return e ? e->name.ptr : "-";
}

static const char *full_config =
    "name: main\n"
    "virtual_hosts:\n"
    "- name: backend\n"
    "  domains: [backend.local, 'backend.local:8080', '*.backend.mesh']\n"
    "  routes:\n"
    "  - name: exact\n"
    "    match: {path: /health}\n"
    "    direct_response: {status: 200, body: {inline_string: ok}}\n"
    "  - name: regex\n"
    "    match: {safe_regex: {regex: '/v[0-9]+/items'}}\n"
    "    route: {cluster: items, timeout: 2.5s}\n"
    "  - name: legacy_re2\n"
    "    match:\n"
    "      safe_regex: {google_re2: {max_program_size: 1000}, regex: "
    "'/big/a{0,150}'}\n"
    "    route: {cluster: big, timeout: 0s}\n"
    "  - name: hdr\n"
    "    match:\n"
    "      prefix: /api\n"
    "      headers:\n"
    "      - {name: x-exact, exact_match: v1}\n"
    "      - {name: x-sm, string_match: {prefix: AB, ignore_case: "
    "true}}\n"
    "      - {name: x-re, safe_regex_match: {regex: 'r[0-9]'}}\n"
    "      - {name: x-range, range_match: {start: 1, end: 5}}\n"
    "      - {name: x-present, present_match: true}\n"
    "      - {name: x-pre, prefix_match: p}\n"
    "      - {name: x-suf, suffix_match: s}\n"
    "      - {name: x-con, contains_match: c}\n"
    "      - {name: x-not, exact_match: bad, invert_match: true}\n"
    "      - {name: x-any}\n"
    "    route: {cluster: headers}\n"
    "  - name: weighted\n"
    "    match: {prefix: /API, case_sensitive: false}\n"
    "    route:\n"
    "      weighted_clusters:\n"
    "        total_weight: 1000\n"
    "        clusters:\n"
    "        - {name: blue, weight: 25}\n"
    "        - {name: green, weight: 75}\n"
    "      prefix_rewrite: /\n"
    "      host_rewrite_literal: api.internal\n"
    "  - name: redirect\n"
    "    match: {prefix: /old}\n"
    "    redirect:\n"
    "      https_redirect: true\n"
    "      host_redirect: new.example\n"
    "      port_redirect: 8443\n"
    "      prefix_rewrite: /new\n"
    "      response_code: PERMANENT_REDIRECT\n"
    "      strip_query: true\n"
    "  - name: bytes\n"
    "    match: {prefix: /bytes}\n"
    "    direct_response: {status: 503, body: {inline_bytes: "
    "aGVsbG8=}}\n"
    "  - name: nobody\n"
    "    match: {prefix: /nobody}\n"
    "    direct_response: {status: 204}\n"
    "  - name: scheme\n"
    "    match: {prefix: /scheme}\n"
    "    redirect: {scheme_redirect: ftp, path_redirect: /x}\n"
    "  - match: {prefix: /}\n"
    "    metadata: {filter_metadata: {x: {a: 1}}}\n"
    "    route: {cluster: default}\n"
    "- name: other\n"
    "  domains: ['*']\n"
    "  routes:\n"
    "  - name: other\n"
    "    match: {prefix: ''}\n"
    "    route: {cluster: other}\n";

static void test_full_config(void **state)
{
    struct or_route_table *t = translate_ok(full_config);
    assert_true(or_str_eq_lit(or_route_table_name(t), "main"));
    assert_int_equal(or_route_table_vhost_count(t), 2);

    const struct or_route_entry *e = match(t, "backend.local", "/health", NULL, NULL);
    assert_string_equal(e->name.ptr, "exact");
    assert_int_equal(e->kind, OR_ROUTE_DIRECT_RESPONSE);
    assert_int_equal(e->direct.status, 200);
    assert_true(or_str_eq_lit(e->direct.body, "ok"));

    e = match(t, "backend.local:8080", "/v12/items?x", NULL, NULL);
    assert_string_equal(e->name.ptr, "regex");
    assert_string_equal(e->cluster.ptr, "items");
    assert_int_equal(e->timeout_ms, 2500);
    /* Full match only: a trailing '/' falls through to the catch-all route. */
    e = match(t, "x.backend.mesh", "/v12/items/", NULL, NULL);
    assert_string_equal(e->cluster.ptr, "default");

    e = match(t, "backend.local", "/big/aaa", NULL, NULL);
    assert_string_equal(e->name.ptr, "legacy_re2");
    assert_int_equal(e->timeout_ms, 0);

    /* Route "hdr" needs all of its header matchers; without them "weighted" (case-insensitive
     * /API) catches /api. */
    e = match(t, "backend.local", "/api/x", NULL, NULL);
    assert_string_equal(e->name.ptr, "weighted");
    assert_int_equal(e->kind, OR_ROUTE_WEIGHTED_CLUSTERS);
    assert_int_equal(e->total_weight, 100); /* total_weight ignored */
    assert_string_equal(or_route_pick_weighted(e, 24), "blue");
    assert_string_equal(or_route_pick_weighted(e, 25), "green");
    assert_string_equal(e->host_rewrite.ptr, "api.internal");
    assert_int_equal(e->timeout_ms, OR_ROUTE_DEFAULT_TIMEOUT_MS);
    struct or_arena a;
    or_arena_init(&a, 0);
    struct or_str out;
    assert_int_equal(or_route_rewrite_path(e, OR_STR_LIT("/api/x?q"), &a, &out), 1);
    assert_true(or_str_eq_lit(out, "//x?q"));
    const struct or_vhost *vh = or_route_table_vhost(t, 0);
    const struct or_route_entry *hdr = &vh->routes[3];
    assert_string_equal(hdr->name.ptr, "hdr");
    assert_int_equal(hdr->match.n_headers, 10);
    assert_int_equal(hdr->match.headers[0].kind, OR_HM_EXACT_LEGACY);
    assert_int_equal(hdr->match.headers[1].kind, OR_HM_STRING);
    assert_true(hdr->match.headers[1].sm.ignore_case);
    assert_int_equal(hdr->match.headers[2].sm.kind, OR_SM_REGEX);
    assert_int_equal(hdr->match.headers[3].kind, OR_HM_RANGE);
    assert_int_equal(hdr->match.headers[3].range_end, 5);
    assert_int_equal(hdr->match.headers[4].kind, OR_HM_PRESENT);
    assert_int_equal(hdr->match.headers[5].sm.kind, OR_SM_PREFIX);
    assert_int_equal(hdr->match.headers[6].sm.kind, OR_SM_SUFFIX);
    assert_int_equal(hdr->match.headers[7].sm.kind, OR_SM_CONTAINS);
    assert_true(hdr->match.headers[8].invert);
    assert_int_equal(hdr->match.headers[9].kind, OR_HM_PRESENT);
    assert_true(hdr->match.headers[9].present);

    /* All header matchers satisfied: build the request by hand. */
    struct req r;
    or_arena_init(&r.arena, 0);
    or_headers_init(&r.h, &r.arena);
    const char *hs[][2] = {{":authority", "backend.local"},
                           {":path", "/api/v1"},
                           {"x-exact", "v1"},
                           {"x-sm", "abZ"},
                           {"x-re", "r7"},
                           {"x-range", "4"},
                           {"x-present", ""},
                           {"x-pre", "pq"},
                           {"x-suf", "ts"},
                           {"x-con", "acb"},
                           {"x-not", "good"},
                           {"x-any", "1"}};
    for (size_t i = 0; i < sizeof(hs) / sizeof(hs[0]); i++)
        or_headers_add(&r.h, hs[i][0], strlen(hs[i][0]), hs[i][1], strlen(hs[i][1]));
    assert_ptr_equal(or_route_table_match(t, &r.h, NULL), hdr);
    or_headers_set(&r.h, "x-not", "bad", 3);
    assert_ptr_not_equal(or_route_table_match(t, &r.h, NULL), hdr);
    or_arena_deinit(&r.arena);

    e = match(t, "backend.local", "/old/page?q=1", NULL, NULL);
    assert_string_equal(e->name.ptr, "redirect");
    struct or_arena ra;
    or_arena_init(&ra, 0);
    struct or_headers rh;
    or_headers_init(&rh, &ra);
    or_headers_add(&rh, ":authority", 10, "backend.local", 13);
    or_headers_add(&rh, ":path", 5, "/old/page?q=1", 13);
    or_headers_add(&rh, ":scheme", 7, "http", 4);
    struct or_str loc;
    unsigned status = 0;
    assert_int_equal(or_route_redirect_location(e, &rh, &a, &loc, &status), 0);
    assert_int_equal(status, 308);
    assert_true(or_str_eq_lit(loc, "https://new.example:8443/new/page"));
    or_arena_deinit(&ra);

    e = match(t, "backend.local", "/bytes", NULL, NULL);
    assert_int_equal(e->direct.status, 503);
    assert_true(or_str_eq_lit(e->direct.body, "hello"));
    e = match(t, "backend.local", "/nobody", NULL, NULL);
    assert_int_equal(e->direct.status, 204);
    assert_int_equal(e->direct.body.len, 0);
    e = match(t, "backend.local", "/scheme", NULL, NULL);
    assert_true(or_str_eq_lit(e->redirect.scheme, "ftp"));
    assert_int_equal(e->redirect.status, 301);
    assert_int_equal(e->redirect.path_kind, OR_REDIRECT_PATH_REPLACE);

    e = match(t, "backend.local", "/zzz", NULL, NULL);
    assert_string_equal(e->cluster.ptr, "default");
    assert_int_equal(e->name.len, 0);
    assert_string_equal(route_name(t, "elsewhere", "/", NULL, NULL), "other");
    or_arena_deinit(&a);
    or_route_table_free(t);
}

static void test_body_file(void **state)
{
    char path[] = "/tmp/or_route_body_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "from file\n", 10), 10);
    close(fd);
    char yaml[512];
    snprintf(yaml, sizeof(yaml),
             "virtual_hosts:\n- name: v\n  domains: ['*']\n  routes:\n"
             "  - match: {prefix: /}\n    direct_response: {status: 200, body: {filename: %s}}\n",
             path);
    struct or_route_table *t = translate_ok(yaml);
    const struct or_route_entry *e = match(t, "h", "/", NULL, NULL);
    assert_true(or_str_eq_lit(e->direct.body, "from file\n"));
    or_route_table_free(t);

    /* Too big. */
    fd = open(path, O_WRONLY | O_TRUNC);
    char big[5000];
    memset(big, 'x', sizeof(big));
    assert_int_equal(write(fd, big, sizeof(big)), (ssize_t)sizeof(big));
    close(fd);
    char msg[256];
    snprintf(msg, sizeof(msg), "response body file %s size is 5000 bytes; maximum is 4096", path);
    translate_err(yaml, "route_config.virtual_hosts[0].routes[0].direct_response.body.filename",
                  msg);
    unlink(path);
    snprintf(msg, sizeof(msg), "response body file %s does not exist", path);
    translate_err(yaml, "route_config.virtual_hosts[0].routes[0].direct_response.body.filename",
                  msg);
}

#define VH "virtual_hosts:\n- name: v\n  domains: ['*']\n  routes:\n"
#define R0 "route_config.virtual_hosts[0].routes[0]"

static void test_route_errors(void **state)
{
    translate_err(VH "  - match: {prefix: /}\n", R0, "action is required");
    translate_err(VH "  - route: {cluster: c}\n", R0 ".match", "value is required");
    translate_err(VH "  - match: {case_sensitive: true}\n    route: {cluster: c}\n", R0 ".match",
                  "path_specifier is required");
    translate_err(VH "  - match: {safe_regex: {regex: '(abc'}}\n    route: {cluster: c}\n",
                  R0 ".match.safe_regex.regex", "missing ): (abc");
    translate_err(VH "  - match: {safe_regex: {regex: ''}}\n    route: {cluster: c}\n",
                  R0 ".match.safe_regex.regex", "value length must be at least 1 runes");
    translate_err(VH "  - match: {safe_regex: {regex: 'a{0,200}'}}\n    route: {cluster: c}\n",
                  R0 ".match.safe_regex.regex",
                  "> max program size of 100 set for the error level threshold");
    translate_err(VH "  - match: {safe_regex: {google_re2: {max_program_size: 2}, regex: "
                     "'abc'}}\n    route: {cluster: c}\n",
                  R0 ".match.safe_regex.regex", "> max program size of 2. Increase");
    translate_err(VH "  - match: {prefix: /}\n    route: {cluster: ''}\n", R0 ".route.cluster",
                  "value length must be at least 1 runes");
    translate_err(VH "  - match: {prefix: /}\n    route: {prefix_rewrite: /x}\n", R0 ".route",
                  "cluster_specifier is required");
    translate_err(VH
                  "  - match: {prefix: /}\n    route: {cluster: c, prefix_rewrite: \"/a\\nb\"}\n",
                  R0 ".route.prefix_rewrite", "value does not match regex pattern");
    translate_err(VH "  - match: {prefix: /}\n    route: {cluster: c, host_rewrite_literal: "
                     "\"a\\rb\"}\n",
                  R0 ".route.host_rewrite_literal", "value does not match regex pattern");
    translate_err(VH "  - match: {prefix: /}\n    route: {cluster: c, timeout: -1s}\n",
                  R0 ".route.timeout", "Expected positive duration");
}

static void test_weighted_errors(void **state)
{
    translate_err(VH "  - match: {prefix: /}\n    route: {weighted_clusters: {clusters: "
                     "[{name: a, weight: 0}, {name: b}]}}\n",
                  R0 ".route.weighted_clusters",
                  "Sum of weights in the weighted_cluster must be greater than 0.");
    translate_err(VH "  - match: {prefix: /}\n    route: {weighted_clusters: {clusters: "
                     "[{name: a, weight: 1}, {weight: 2}]}}\n",
                  R0 ".route.weighted_clusters.clusters[1]",
                  "At least one of name or cluster_header need to be specified");
    translate_err(VH "  - match: {prefix: /}\n    route: {weighted_clusters: {total_weight: "
                     "100}}\n",
                  R0 ".route.weighted_clusters.clusters", "value must contain at least 1 item(s)");
    translate_err(VH "  - match: {prefix: /}\n    route: {weighted_clusters: {clusters: "
                     "[{name: a, weight: 4294967295}, {name: b, weight: 1}]}}\n",
                  R0 ".route.weighted_clusters", "exceeds 4294967295");
}

static void test_header_errors(void **state)
{
    translate_err(VH "  - match: {prefix: /, headers: [{name: ''}]}\n    route: {cluster: c}\n",
                  R0 ".match.headers[0].name", "value length must be at least 1 runes");
    translate_err(VH "  - match: {prefix: /, headers: [{name: a}, {name: b, string_match: "
                     "{safe_regex: {regex: '['}}}]}\n    route: {cluster: c}\n",
                  R0 ".match.headers[1].string_match.safe_regex.regex", "missing ]");
    translate_err(VH "  - match: {prefix: /, headers: [{name: b, safe_regex_match: {regex: "
                     "'+'}}]}\n    route: {cluster: c}\n",
                  R0 ".match.headers[0].safe_regex_match.regex",
                  "no argument for repetition operator: +");
    translate_err(VH "  - match: {prefix: /, headers: [{name: b, string_match: {safe_regex: "
                     "{regex: 'x'}, ignore_case: true}}]}\n    route: {cluster: c}\n",
                  R0 ".match.headers[0].string_match.ignore_case",
                  "ignore_case has no effect for safe_regex.");
    translate_err(VH "  - match: {prefix: /, headers: [{name: b, prefix_match: ''}]}\n"
                     "    route: {cluster: c}\n",
                  R0 ".match.headers[0].prefix_match", "value length must be at least 1 runes");
    translate_err(VH "  - match: {prefix: /, headers: [{name: b, string_match: {suffix: ''}}]}\n"
                     "    route: {cluster: c}\n",
                  R0 ".match.headers[0].string_match.suffix",
                  "value length must be at least 1 runes");
    translate_err(VH "  - match: {prefix: /, headers: [{name: b, string_match: {ignore_case: "
                     "true}}]}\n    route: {cluster: c}\n",
                  R0 ".match.headers[0].string_match", "match_pattern is required");
}

static void test_vhost_and_action_errors(void **state)
{
    translate_err("virtual_hosts:\n- name: a\n  domains: [x.com]\n- name: b\n  domains: "
                  "[y.com, X.COM]\n",
                  "route_config.virtual_hosts[1].domains[1]",
                  "Only unique values for domains are permitted. Duplicate entry of domain x.com");
    translate_err("name: rc9\nvirtual_hosts:\n- name: a\n  domains: ['*']\n- name: b\n  "
                  "domains: ['*']\n",
                  "route_config.virtual_hosts[1].domains[0]",
                  "Only a single wildcard domain is permitted in route rc9");
    translate_err("virtual_hosts:\n- name: a\n", "route_config.virtual_hosts[0].domains",
                  "value must contain at least 1 item(s)");
    translate_err("virtual_hosts:\n- domains: [a]\n", "route_config.virtual_hosts[0].name",
                  "value length must be at least 1 runes");
    translate_err("virtual_hosts:\n- name: a\n  domains: [\"a\\nb\"]\n",
                  "route_config.virtual_hosts[0].domains[0]", "value does not match regex");
    translate_err(VH "  - match: {prefix: /}\n    direct_response: {status: 199}\n",
                  R0 ".direct_response.status", "value must be inside range [200, 600)");
    translate_err(VH "  - match: {prefix: /}\n    direct_response: {status: 600}\n",
                  R0 ".direct_response.status", "value must be inside range [200, 600)");
    translate_err(VH "  - match: {prefix: /}\n    direct_response: {status: 200, body: {}}\n",
                  R0 ".direct_response.body", "specifier is required");
    char yaml[8192];
    char big[4200];
    memset(big, 'b', 4097);
    big[4097] = '\0';
    snprintf(yaml, sizeof(yaml),
             VH "  - match: {prefix: /}\n    direct_response: {status: 200, body: "
                "{inline_string: %s}}\n",
             big);
    translate_err(yaml, R0 ".direct_response.body",
                  "response body size is 4097 bytes; maximum is 4096");
    translate_err(VH "  - match: {prefix: /}\n    redirect: {host_redirect: \"a\\nb\"}\n",
                  R0 ".redirect.host_redirect", "value does not match regex");
    translate_err(VH "  - match: {prefix: /}\n    direct_response: {status: 200, body: "
                     "{filename: ''}}\n",
                  R0 ".direct_response.body.filename", "value length must be at least 1 runes");

    /* An undefined response_code number (the YAML loader refuses it, xDS could carry it). */
    Envoy__Config__Route__V3__RouteConfiguration *rc =
        parse(VH "  - match: {prefix: /}\n    redirect: {path_redirect: /x}\n");
    rc->virtual_hosts[0]->routes[0]->redirect->response_code = 9;
    translate_err_rc(rc, R0 ".redirect.response_code",
                     "value must be one of the defined enum values");
    or_config_free(&rc->base);
}

static bool has_cluster(void *ctx, const char *name)
{
    return strcmp(name, "known") == 0 || strcmp(name, "blue") == 0;
}

static void test_validate_clusters(void **state)
{
    struct or_route_table *t = translate_ok(
        VH "  - match: {prefix: /a}\n    route: {cluster: known}\n"
           "  - match: {prefix: /b}\n    route: {weighted_clusters: {clusters: [{name: blue, "
           "weight: 1}, {name: red, weight: 1}]}}\n");
    struct or_err_detail err = {0};
    assert_int_equal(or_route_table_validate_clusters(t, "route_config", has_cluster, NULL, &err),
                     OR_EINVAL);
    assert_string_equal(err.path, "route_config.virtual_hosts[0].routes[1].route.weighted_clusters."
                                  "clusters[1].name");
    assert_string_equal(err.msg, "route: unknown weighted cluster 'red'");
    or_route_table_free(t);

    t = translate_ok(VH "  - match: {prefix: /}\n    route: {cluster: nope}\n");
    assert_int_equal(or_route_table_validate_clusters(t, "route_config", has_cluster, NULL, &err),
                     OR_EINVAL);
    assert_string_equal(err.path, R0 ".route.cluster");
    assert_string_equal(err.msg, "route: unknown cluster 'nope'");
    or_route_table_free(t);

    t = translate_ok(VH "  - match: {prefix: /}\n    route: {cluster: known}\n");
    assert_int_equal(or_route_table_validate_clusters(t, "route_config", has_cluster, NULL, &err),
                     0);
    or_route_table_free(t);
}

static void test_empty_config(void **state)
{
    struct or_route_table *t = translate_ok("name: empty\n");
    assert_int_equal(or_route_table_vhost_count(t), 0);
    assert_string_equal(route_name(t, "h", "/", NULL, NULL), "-");
    or_route_table_free(t);

    /* A base path of NULL gives paths without a prefix. */
    Envoy__Config__Route__V3__RouteConfiguration *rc = parse("virtual_hosts:\n- name: a\n");
    struct or_route_table *out = NULL;
    struct or_err_detail err = {0};
    assert_int_equal(or_route_table_from_proto(rc, NULL, &out, &err), OR_EINVAL);
    assert_string_equal(err.path, "virtual_hosts[0].domains");
    or_config_free(&rc->base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_config),       cmocka_unit_test(test_body_file),
        cmocka_unit_test(test_route_errors),      cmocka_unit_test(test_weighted_errors),
        cmocka_unit_test(test_header_errors),     cmocka_unit_test(test_vhost_and_action_errors),
        cmocka_unit_test(test_validate_clusters), cmocka_unit_test(test_empty_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
