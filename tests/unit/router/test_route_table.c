/* Route table: virtual host selection, route matchers, weighted clusters, rewrites, redirects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/core/rand.h"
#include "proxy/router/route_table.h"

/* ---- helpers ---- */

struct req {
    struct or_arena arena;
    struct or_headers h;
};

static void req_init(struct req *r, const char *authority, const char *path)
{
    or_arena_init(&r->arena, 0);
    or_headers_init(&r->h, &r->arena);
    if (authority)
        assert_int_equal(or_headers_add(&r->h, ":authority", 10, authority, strlen(authority)), 0);
    if (path)
        assert_int_equal(or_headers_add(&r->h, ":path", 5, path, strlen(path)), 0);
    assert_int_equal(or_headers_add(&r->h, ":method", 7, "GET", 3), 0);
}

static void req_add(struct req *r, const char *name, const char *value)
{
    assert_int_equal(or_headers_add(&r->h, name, strlen(name), value, strlen(value)), 0);
}

static void req_free(struct req *r)
{
    or_arena_deinit(&r->arena);
}

static void add_domains(struct or_route_builder *b, const char *const *d)
{
    for (; *d; d++)
        assert_int_equal(or_route_builder_add_domain(b, *d, strlen(*d)), 0);
}

/* A vhost named `name` with the given domains and one catch-all route to cluster `name`. */
static void add_simple_vhost(struct or_route_builder *b, const char *name, const char *const *d)
{
    assert_int_equal(or_route_builder_add_vhost(b, name), 0);
    add_domains(b, d);
    assert_int_equal(or_route_builder_add_route(b, name), 0);
    assert_int_equal(or_route_builder_match_path(b, OR_PATH_PREFIX, "/", 1, NULL), 0);
    assert_int_equal(or_route_builder_action_cluster(b, name), 0);
}

static struct or_route_table *finish(struct or_route_builder *b)
{
    struct or_route_table *t = NULL;
    struct or_err_detail err = {0};
    int rc = or_route_builder_finish(b, &t, &err);
    if (rc != 0)
        fail_msg("finish: %s: %s", err.path, err.msg);
    return t;
}

/* Name of the vhost picked for `authority` ("-" when none). */
static const char *vhost_for(const struct or_route_table *t, const char *authority)
{
    struct req r;
    req_init(&r, authority, "/");
    const struct or_vhost *vh = or_route_table_find_vhost(t, &r.h);
    req_free(&r);
    return vh ? vh->name.ptr : "-";
}

/* ---- virtual hosts ---- */

static struct or_route_table *domain_table(bool with_default)
{
    struct or_route_builder *b = or_route_builder_new("rt", "route_config");
    assert_non_null(b);
    add_simple_vhost(b, "exact", (const char *const[]){"www.foo.com", "API.Foo.com", NULL});
    add_simple_vhost(b, "suffix", (const char *const[]){"*.foo.com", NULL});
    add_simple_vhost(b, "longsuffix", (const char *const[]){"*-bar.foo.com", NULL});
    add_simple_vhost(b, "prefix", (const char *const[]){"foo.*", NULL});
    add_simple_vhost(b, "longprefix", (const char *const[]){"foo.bar.*", NULL});
    add_simple_vhost(b, "port", (const char *const[]){"svc.local:8080", "*.mesh:9000", NULL});
    add_simple_vhost(b, "noport", (const char *const[]){"svc.local", NULL});
    if (with_default)
        add_simple_vhost(b, "default", (const char *const[]){"*", NULL});
    return finish(b);
}

static void test_domain_exact_and_case(void **state)
{
    struct or_route_table *t = domain_table(true);
    assert_string_equal(vhost_for(t, "www.foo.com"), "exact");
    assert_string_equal(vhost_for(t, "WWW.FOO.COM"), "exact");
    assert_string_equal(vhost_for(t, "api.foo.com"), "exact"); /* domain lower-cased */
    assert_string_equal(vhost_for(t, "nothing.example"), "default");
    or_route_table_free(t);
}

static void test_domain_wildcards(void **state)
{
    struct or_route_table *t = domain_table(true);
    assert_string_equal(vhost_for(t, "x.foo.com"), "suffix");
    assert_string_equal(vhost_for(t, "a.b.FOO.com"), "suffix");
    /* Longest suffix wins. */
    assert_string_equal(vhost_for(t, "baz-bar.foo.com"), "longsuffix");
    /* The '*' must cover at least one character. */
    assert_string_equal(vhost_for(t, ".foo.com"), "default");
    assert_string_equal(vhost_for(t, "-bar.foo.com"), "suffix");
    /* Suffix beats prefix; prefix: longest wins. */
    assert_string_equal(vhost_for(t, "foo.foo.com"), "suffix");
    assert_string_equal(vhost_for(t, "foo.org"), "prefix");
    assert_string_equal(vhost_for(t, "foo.bar.org"), "longprefix");
    assert_string_equal(vhost_for(t, "foo."), "default");
    or_route_table_free(t);
}

static void test_domain_ports(void **state)
{
    struct or_route_table *t = domain_table(true);
    assert_string_equal(vhost_for(t, "svc.local:8080"), "port");
    assert_string_equal(vhost_for(t, "svc.local"), "noport");
    /* Host with a port the domains do not list: Envoy compares the whole value. */
    assert_string_equal(vhost_for(t, "svc.local:9999"), "default");
    assert_string_equal(vhost_for(t, "www.foo.com:80"), "default");
    assert_string_equal(vhost_for(t, "x.foo.com:443"), "default");
    assert_string_equal(vhost_for(t, "a.mesh:9000"), "port");
    /* Prefix wildcards still see the port as part of the tail. */
    assert_string_equal(vhost_for(t, "foo.com:8080"), "prefix");
    or_route_table_free(t);

    /* ignore_port_in_host_matching drops the Host's port. */
    struct or_route_builder *b = or_route_builder_new("rt", "");
    or_route_builder_ignore_port(b, true);
    add_simple_vhost(b, "noport", (const char *const[]){"svc.local", NULL});
    add_simple_vhost(b, "v6", (const char *const[]){"[::1]", NULL});
    t = finish(b);
    assert_string_equal(vhost_for(t, "svc.local:8080"), "noport");
    assert_string_equal(vhost_for(t, "[::1]:80"), "v6");
    assert_string_equal(vhost_for(t, "[::1]"), "v6");
    or_route_table_free(t);
}

static void test_domain_default_and_missing_host(void **state)
{
    struct or_route_table *t = domain_table(false);
    assert_string_equal(vhost_for(t, "nothing.example"), "-");
    assert_string_equal(vhost_for(t, NULL), "-");
    or_route_table_free(t);

    /* Only "*": used even without :authority (Envoy's fast path). */
    struct or_route_builder *b = or_route_builder_new("rt", "");
    add_simple_vhost(b, "all", (const char *const[]){"*", NULL});
    t = finish(b);
    assert_string_equal(vhost_for(t, NULL), "all");
    assert_string_equal(vhost_for(t, "any:1"), "all");
    or_route_table_free(t);

    /* With other domains, a request without :authority matches nothing. */
    t = domain_table(true);
    assert_string_equal(vhost_for(t, NULL), "-");
    or_route_table_free(t);
}

static void expect_finish_error(struct or_route_builder *b, const char *path, const char *msg)
{
    struct or_route_table *t = NULL;
    struct or_err_detail err = {0};
    assert_int_equal(or_route_builder_finish(b, &t, &err), OR_EINVAL);
    assert_null(t);
    assert_string_equal(err.path, path);
    if (strstr(err.msg, msg) == NULL)
        fail_msg("message '%s' lacks '%s'", err.msg, msg);
}

static void test_domain_duplicates(void **state)
{
    struct or_route_builder *b = or_route_builder_new("rc1", "route_config");
    add_simple_vhost(b, "a", (const char *const[]){"foo.com", NULL});
    add_simple_vhost(b, "b", (const char *const[]){"bar.com", "FOO.com", NULL});
    expect_finish_error(b, "route_config.virtual_hosts[1].domains[1]",
                        "Only unique values for domains are permitted. Duplicate entry of domain "
                        "foo.com in route rc1");

    b = or_route_builder_new("rc1", "route_config");
    add_simple_vhost(b, "a", (const char *const[]){"*", NULL});
    add_simple_vhost(b, "b", (const char *const[]){"*", NULL});
    expect_finish_error(b, "route_config.virtual_hosts[1].domains[0]",
                        "Only a single wildcard domain is permitted in route rc1");

    b = or_route_builder_new("rc1", "route_config");
    add_simple_vhost(b, "a", (const char *const[]){"*.foo.com", NULL});
    add_simple_vhost(b, "b", (const char *const[]){"*.foo.com", NULL});
    expect_finish_error(b, "route_config.virtual_hosts[1].domains[0]", "*.foo.com");

    /* Same text as exact and as a wildcard key is fine: different kinds. */
    b = or_route_builder_new("rc1", "route_config");
    add_simple_vhost(b, "a", (const char *const[]){"foo.*", "*.foo", "foo", NULL});
    struct or_route_table *t = finish(b);
    or_route_table_free(t);
}

/* ---- routes ---- */

/* Name of the route matched for (authority, path, extra headers as name,value,... NULL). */
static const char *route_for(const struct or_route_table *t, const char *path, ...)
{
    struct req r;
    req_init(&r, "example.com", path);
    va_list ap;
    va_start(ap, path);
    const char *n;
    while ((n = va_arg(ap, const char *)) != NULL) {
        const char *v = va_arg(ap, const char *);
        req_add(&r, n, v);
    }
    va_end(ap);
    const struct or_route_entry *e = or_route_table_match(t, &r.h, NULL);
    req_free(&r);
    return e ? e->name.ptr : "-";
}

static void start(struct or_route_builder *b, const char *name, enum or_path_match k, const char *p)
{
    assert_int_equal(or_route_builder_add_route(b, name), 0);
    if (k == OR_PATH_REGEX)
        assert_int_equal(or_route_builder_match_regex(b, p, strlen(p), 0, false, NULL), 0);
    else
        assert_int_equal(or_route_builder_match_path(b, k, p, p ? strlen(p) : 0, NULL), 0);
    assert_int_equal(or_route_builder_action_cluster(b, name), 0);
}

static struct or_route_builder *one_vhost(void)
{
    struct or_route_builder *b = or_route_builder_new("rt", "route_config");
    assert_int_equal(or_route_builder_add_vhost(b, "vh"), 0);
    add_domains(b, (const char *const[]){"*", NULL});
    return b;
}

static void test_path_matchers(void **state)
{
    struct or_route_builder *b = one_vhost();
    start(b, "exact", OR_PATH_EXACT, "/exact");
    start(b, "exact_ci", OR_PATH_EXACT, "/CI");
    or_route_builder_case_sensitive(b, false);
    start(b, "regex", OR_PATH_REGEX, "/re/[0-9]+");
    start(b, "sep", OR_PATH_SEPARATED_PREFIX, "/sep");
    start(b, "api_ci", OR_PATH_PREFIX, "/API/");
    or_route_builder_case_sensitive(b, false);
    start(b, "api", OR_PATH_PREFIX, "/api");
    start(b, "root", OR_PATH_PREFIX, "/");
    struct or_route_table *t = finish(b);

    assert_string_equal(route_for(t, "/exact", NULL), "exact");
    assert_string_equal(route_for(t, "/exact?x=1", NULL), "exact"); /* query ignored */
    assert_string_equal(route_for(t, "/exact#frag", NULL), "exact");
    assert_string_equal(route_for(t, "/Exact", NULL), "root"); /* case-sensitive by default */
    assert_string_equal(route_for(t, "/exact/", NULL), "root");
    assert_string_equal(route_for(t, "/ci", NULL), "exact_ci");
    assert_string_equal(route_for(t, "/cI?q", NULL), "exact_ci");
    /* Regex must match the whole query-less path. */
    assert_string_equal(route_for(t, "/re/123", NULL), "regex");
    assert_string_equal(route_for(t, "/re/123?a=b", NULL), "regex");
    assert_string_equal(route_for(t, "/re/123x", NULL), "root");
    assert_string_equal(route_for(t, "/x/re/123", NULL), "root");
    /* path_separated_prefix: exact or followed by '/'. */
    assert_string_equal(route_for(t, "/sep", NULL), "sep");
    assert_string_equal(route_for(t, "/sep/x", NULL), "sep");
    assert_string_equal(route_for(t, "/sep?x", NULL), "sep");
    assert_string_equal(route_for(t, "/separate", NULL), "root");
    /* Prefix, case-insensitive when asked; order matters. */
    assert_string_equal(route_for(t, "/api/v1", NULL), "api_ci");
    assert_string_equal(route_for(t, "/Api/v1", NULL), "api_ci");
    assert_string_equal(route_for(t, "/apix", NULL), "api");
    assert_string_equal(route_for(t, "/APIx", NULL), "root");
    /* The query never takes part in prefix matching. */
    assert_string_equal(route_for(t, "/?/api", NULL), "root");
    assert_string_equal(route_for(t, "/ap?i", NULL), "root");
    or_route_table_free(t);

    /* No :path: no path-based route matches. */
    b = one_vhost();
    start(b, "root", OR_PATH_PREFIX, "");
    t = finish(b);
    struct req r;
    req_init(&r, "x", NULL);
    assert_null(or_route_table_match(t, &r.h, NULL));
    req_free(&r);
    assert_string_equal(route_for(t, "/anything", NULL), "root"); /* "" prefix matches all */
    or_route_table_free(t);
}

static void add_hdr(struct or_route_builder *b, struct or_header_match_spec s)
{
    struct or_err_detail err = {0};
    if (or_route_builder_match_header(b, &s, &err) != 0)
        fail_msg("header matcher: %s", err.msg);
}

static struct or_string_match_spec sm(enum or_string_match_kind k, const char *v, bool ic)
{
    return (struct or_string_match_spec){
        .kind = k, .value = v, .len = strlen(v), .ignore_case = ic};
}

static void test_header_matchers(void **state)
{
    struct or_route_builder *b = one_vhost();
    start(b, "exact", OR_PATH_PREFIX, "/");
    add_hdr(b, (struct or_header_match_spec){
                   .name = "X-Exact", .kind = OR_HM_STRING, .sm = sm(OR_SM_EXACT, "v1", false)});
    start(b, "exact_ic", OR_PATH_PREFIX, "/");
    add_hdr(b, (struct or_header_match_spec){
                   .name = "x-exact", .kind = OR_HM_STRING, .sm = sm(OR_SM_EXACT, "V2", true)});
    start(b, "prefix", OR_PATH_PREFIX, "/");
    add_hdr(b, (struct or_header_match_spec){
                   .name = "x-p", .kind = OR_HM_STRING, .sm = sm(OR_SM_PREFIX, "ab", false)});
    start(b, "suffix", OR_PATH_PREFIX, "/");
    add_hdr(b, (struct or_header_match_spec){
                   .name = "x-s", .kind = OR_HM_STRING, .sm = sm(OR_SM_SUFFIX, "YZ", true)});
    start(b, "contains", OR_PATH_PREFIX, "/");
    add_hdr(b, (struct or_header_match_spec){
                   .name = "x-c", .kind = OR_HM_STRING, .sm = sm(OR_SM_CONTAINS, "mid", false)});
    start(b, "contains_ic", OR_PATH_PREFIX, "/");
    add_hdr(b, (struct or_header_match_spec){
                   .name = "x-c", .kind = OR_HM_STRING, .sm = sm(OR_SM_CONTAINS, "mId", true)});
    start(b, "regex", OR_PATH_PREFIX, "/");
    add_hdr(b, (struct or_header_match_spec){
                   .name = "x-r", .kind = OR_HM_STRING, .sm = sm(OR_SM_REGEX, "v[0-9]", false)});
    start(b, "range", OR_PATH_PREFIX, "/");
    add_hdr(b, (struct or_header_match_spec){
                   .name = "x-n", .kind = OR_HM_RANGE, .range_start = -10, .range_end = 10});
    start(b, "present", OR_PATH_PREFIX, "/");
    add_hdr(b, (struct or_header_match_spec){
                   .name = "x-present", .kind = OR_HM_PRESENT, .present = true});
    start(b, "legacy_exact_empty", OR_PATH_PREFIX, "/");
    add_hdr(b, (struct or_header_match_spec){
                   .name = "x-any", .kind = OR_HM_EXACT_LEGACY, .sm = sm(OR_SM_EXACT, "", false)});
    start(b, "method", OR_PATH_PREFIX, "/");
    add_hdr(b, (struct or_header_match_spec){
                   .name = ":method", .kind = OR_HM_STRING, .sm = sm(OR_SM_EXACT, "POST", false)});
    start(b, "root", OR_PATH_PREFIX, "/");
    struct or_route_table *t = finish(b);

    assert_string_equal(route_for(t, "/", "x-exact", "v1", NULL), "exact");
    assert_string_equal(route_for(t, "/", "x-exact", "V1", NULL), "root");
    assert_string_equal(route_for(t, "/", "x-exact", "v2", NULL), "exact_ic");
    assert_string_equal(route_for(t, "/", "x-exact", "", NULL), "root");
    assert_string_equal(route_for(t, "/", "x-p", "abc", NULL), "prefix");
    assert_string_equal(route_for(t, "/", "x-p", "Abc", NULL), "root");
    assert_string_equal(route_for(t, "/", "x-s", "wxyz", NULL), "suffix");
    assert_string_equal(route_for(t, "/", "x-c", "amidst", NULL), "contains");
    assert_string_equal(route_for(t, "/", "x-c", "aMIDst", NULL), "contains_ic");
    assert_string_equal(route_for(t, "/", "x-r", "v7", NULL), "regex");
    assert_string_equal(route_for(t, "/", "x-r", "v7x", NULL), "root"); /* full match */
    assert_string_equal(route_for(t, "/", "x-n", "-10", NULL), "range");
    assert_string_equal(route_for(t, "/", "x-n", "9", NULL), "range");
    assert_string_equal(route_for(t, "/", "x-n", " 3 ", NULL), "range");
    assert_string_equal(route_for(t, "/", "x-n", "10", NULL), "root"); /* end exclusive */
    assert_string_equal(route_for(t, "/", "x-n", "-11", NULL), "root");
    assert_string_equal(route_for(t, "/", "x-n", "5x", NULL), "root");
    assert_string_equal(route_for(t, "/", "x-n", "", NULL), "root");
    assert_string_equal(route_for(t, "/", "x-n", "99999999999999999999", NULL), "root");
    assert_string_equal(route_for(t, "/", "x-present", "", NULL), "present");
    assert_string_equal(route_for(t, "/", "x-any", "whatever", NULL), "legacy_exact_empty");
    assert_string_equal(route_for(t, "/", "X-Any", "", NULL), "legacy_exact_empty");
    assert_string_equal(route_for(t, "/", NULL), "root");
    or_route_table_free(t);

    /* :method via headers */
    b = one_vhost();
    start(b, "post", OR_PATH_PREFIX, "/");
    add_hdr(b, (struct or_header_match_spec){
                   .name = ":method", .kind = OR_HM_STRING, .sm = sm(OR_SM_EXACT, "GET", false)});
    t = finish(b);
    assert_string_equal(route_for(t, "/", NULL), "post");
    or_route_table_free(t);
}

static void test_header_invert_missing_multi(void **state)
{
    struct or_route_builder *b = one_vhost();
    start(b, "not_v1", OR_PATH_PREFIX, "/a");
    add_hdr(b, (struct or_header_match_spec){.name = "x-v",
                                             .kind = OR_HM_STRING,
                                             .sm = sm(OR_SM_EXACT, "v1", false),
                                             .invert = true});
    start(b, "absent", OR_PATH_PREFIX, "/b");
    add_hdr(b, (struct or_header_match_spec){
                   .name = "x-v", .kind = OR_HM_PRESENT, .present = true, .invert = true});
    start(b, "present_false", OR_PATH_PREFIX, "/c");
    add_hdr(b,
            (struct or_header_match_spec){.name = "x-v", .kind = OR_HM_PRESENT, .present = false});
    start(b, "missing_empty", OR_PATH_PREFIX, "/d");
    add_hdr(b, (struct or_header_match_spec){.name = "x-v",
                                             .kind = OR_HM_STRING,
                                             .sm = sm(OR_SM_EXACT, "", false),
                                             .treat_missing_as_empty = true});
    start(b, "range_inv", OR_PATH_PREFIX, "/e");
    add_hdr(
        b,
        (struct or_header_match_spec){
            .name = "x-n", .kind = OR_HM_RANGE, .range_start = 0, .range_end = 5, .invert = true});
    start(b, "multi", OR_PATH_PREFIX, "/f");
    add_hdr(b, (struct or_header_match_spec){
                   .name = "x-m", .kind = OR_HM_STRING, .sm = sm(OR_SM_EXACT, "a,b", false)});
    start(b, "root", OR_PATH_PREFIX, "/");
    struct or_route_table *t = finish(b);

    /* Inverted string matcher: needs the header present with another value. */
    assert_string_equal(route_for(t, "/a", "x-v", "v2", NULL), "not_v1");
    assert_string_equal(route_for(t, "/a", "x-v", "v1", NULL), "root");
    assert_string_equal(route_for(t, "/a", NULL), "root"); /* missing: no match, even inverted */
    /* Inverted present_match true: matches when absent. */
    assert_string_equal(route_for(t, "/b", NULL), "absent");
    assert_string_equal(route_for(t, "/b", "x-v", "1", NULL), "root");
    assert_string_equal(route_for(t, "/c", NULL), "present_false");
    assert_string_equal(route_for(t, "/c", "x-v", "1", NULL), "root");
    assert_string_equal(route_for(t, "/d", NULL), "missing_empty");
    assert_string_equal(route_for(t, "/d", "x-v", "", NULL), "missing_empty");
    assert_string_equal(route_for(t, "/d", "x-v", "q", NULL), "root");
    assert_string_equal(route_for(t, "/e", "x-n", "7", NULL), "range_inv");
    assert_string_equal(route_for(t, "/e", "x-n", "nope", NULL), "range_inv");
    assert_string_equal(route_for(t, "/e", "x-n", "3", NULL), "root");
    assert_string_equal(route_for(t, "/e", NULL), "root");
    /* Multiple values are joined with ',' before matching. */
    assert_string_equal(route_for(t, "/f", "x-m", "a", "x-m", "b", NULL), "multi");
    assert_string_equal(route_for(t, "/f", "x-m", "a", NULL), "root");
    or_route_table_free(t);

    /* A long multi-value join takes the heap path. */
    b = one_vhost();
    start(b, "long", OR_PATH_PREFIX, "/");
    add_hdr(b, (struct or_header_match_spec){
                   .name = "x-l", .kind = OR_HM_STRING, .sm = sm(OR_SM_SUFFIX, ",end", false)});
    t = finish(b);
    char big[3000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_string_equal(route_for(t, "/", "x-l", big, "x-l", "end", NULL), "long");
    assert_string_equal(route_for(t, "/", "x-l", big, NULL), "-");
    or_route_table_free(t);
}

static void test_query_grpc_runtime(void **state)
{
    struct or_route_builder *b = one_vhost();
    struct or_string_match_spec s = sm(OR_SM_EXACT, "1", false);
    start(b, "q_exact", OR_PATH_PREFIX, "/");
    assert_int_equal(or_route_builder_match_query(b, "debug", &s, NULL), 0);
    start(b, "q_present", OR_PATH_PREFIX, "/");
    assert_int_equal(or_route_builder_match_query(b, "trace", NULL, NULL), 0);
    start(b, "grpc", OR_PATH_PREFIX, "/");
    assert_int_equal(or_route_builder_match_grpc(b), 0);
    start(b, "never", OR_PATH_PREFIX, "/");
    assert_int_equal(or_route_builder_runtime_fraction(b, 0, 100, NULL), 0);
    start(b, "root", OR_PATH_PREFIX, "/");
    struct or_route_table *t = finish(b);

    assert_string_equal(route_for(t, "/x?debug=1", NULL), "q_exact");
    assert_string_equal(route_for(t, "/x?a=b&debug=1", NULL), "q_exact");
    assert_string_equal(route_for(t, "/x?debug=1&debug=2", NULL), "q_exact");
    assert_string_equal(route_for(t, "/x?debug=2&debug=1", NULL), "root"); /* first value */
    assert_string_equal(route_for(t, "/x?debug", NULL), "root");
    assert_string_equal(route_for(t, "/x?trace", NULL), "q_present");
    assert_string_equal(route_for(t, "/x?trace=", NULL), "q_present");
    assert_string_equal(route_for(t, "/x?tracer=1", NULL), "root");
    assert_string_equal(route_for(t, "/x", "content-type", "application/grpc", NULL), "grpc");
    assert_string_equal(route_for(t, "/x", "content-type", "application/grpc+proto", NULL), "grpc");
    assert_string_equal(route_for(t, "/x", "content-type", "application/grpc-web", NULL), "root");
    or_route_table_free(t);

    /* runtime_fraction uses the stream's random value. */
    b = one_vhost();
    start(b, "half", OR_PATH_PREFIX, "/");
    assert_int_equal(or_route_builder_runtime_fraction(b, 50, 100, NULL), 0);
    start(b, "other", OR_PATH_PREFIX, "/");
    t = finish(b);
    struct req r;
    req_init(&r, "h", "/");
    assert_string_equal(or_route_table_match_ex(t, &r.h, 49, NULL)->name.ptr, "half");
    assert_string_equal(or_route_table_match_ex(t, &r.h, 150, NULL)->name.ptr, "other");
    req_free(&r);
    or_route_table_free(t);
}

static void test_weighted_distribution(void **state)
{
    struct or_route_builder *b = one_vhost();
    assert_int_equal(or_route_builder_add_route(b, "w"), 0);
    assert_int_equal(or_route_builder_match_path(b, OR_PATH_PREFIX, "/", 1, NULL), 0);
    assert_int_equal(or_route_builder_action_weighted(b, "a", 10), 0);
    assert_int_equal(or_route_builder_action_weighted(b, "b", 0), 0);
    assert_int_equal(or_route_builder_action_weighted(b, "c", 30), 0);
    assert_int_equal(or_route_builder_action_weighted(b, "d", 60), 0);
    struct or_route_table *t = finish(b);
    const struct or_route_entry *e = &or_route_table_vhost(t, 0)->routes[0];
    assert_int_equal(e->kind, OR_ROUTE_WEIGHTED_CLUSTERS);
    assert_int_equal(e->total_weight, 100);

    /* Deterministic intervals: [0,10) a, [10,40) c, [40,100) d. */
    assert_string_equal(or_route_pick_weighted(e, 0), "a");
    assert_string_equal(or_route_pick_weighted(e, 9), "a");
    assert_string_equal(or_route_pick_weighted(e, 10), "c");
    assert_string_equal(or_route_pick_weighted(e, 139), "c");
    assert_string_equal(or_route_pick_weighted(e, 99), "d");

    uint64_t seed = 12345;
    int counts[4] = {0};
    const int N = 10000;
    for (int i = 0; i < N; i++) {
        const char *n = or_route_pick_weighted(e, or_rand_next(&seed));
        counts[n[0] - 'a']++;
    }
    assert_int_equal(counts[1], 0);
    const int want[4] = {10, 0, 30, 60};
    for (int i = 0; i < 4; i++) {
        double got = 100.0 * counts[i] / N;
        if (got < want[i] - 5 || got > want[i] + 5)
            fail_msg("cluster %c: %.1f%% want %d%%", 'a' + i, got, want[i]);
    }
    /* Not a weighted route. */
    b = one_vhost();
    start(b, "plain", OR_PATH_PREFIX, "/");
    struct or_route_table *t2 = finish(b);
    assert_null(or_route_pick_weighted(&or_route_table_vhost(t2, 0)->routes[0], 1));
    or_route_table_free(t2);
    or_route_table_free(t);
}

static void test_builder_errors(void **state)
{
    struct or_route_builder *b = one_vhost();
    assert_int_equal(or_route_builder_add_route(b, "w"), 0);
    assert_int_equal(or_route_builder_match_path(b, OR_PATH_PREFIX, "/", 1, NULL), 0);
    assert_int_equal(or_route_builder_action_weighted(b, "a", 0), 0);
    expect_finish_error(b, "route_config.virtual_hosts[0].routes[0].route.weighted_clusters",
                        "Sum of weights in the weighted_cluster must be greater than 0.");

    b = one_vhost();
    assert_int_equal(or_route_builder_add_route(b, "w"), 0);
    assert_int_equal(or_route_builder_match_path(b, OR_PATH_PREFIX, "/", 1, NULL), 0);
    assert_int_equal(or_route_builder_action_weighted(b, "a", UINT32_MAX), 0);
    assert_int_equal(or_route_builder_action_weighted(b, "b", 1), 0);
    expect_finish_error(b, "route_config.virtual_hosts[0].routes[0].route.weighted_clusters",
                        "exceeds 4294967295");

    b = one_vhost();
    assert_int_equal(or_route_builder_add_route(b, "r"), 0);
    assert_int_equal(or_route_builder_match_path(b, OR_PATH_PREFIX, "/", 1, NULL), 0);
    expect_finish_error(b, "route_config.virtual_hosts[0].routes[0]", "no action");

    b = one_vhost();
    assert_int_equal(or_route_builder_add_route(b, "r"), 0);
    assert_int_equal(or_route_builder_action_cluster(b, "c"), 0);
    assert_int_equal(or_route_builder_action_cluster(b, "d"), OR_EINVAL); /* one action */
    expect_finish_error(b, "route_config.virtual_hosts[0].routes[0]", "no path matcher");

    /* Bad regexes are reported by the builder call. */
    b = one_vhost();
    assert_int_equal(or_route_builder_add_route(b, "r"), 0);
    struct or_err_detail err = {0};
    assert_int_equal(or_route_builder_match_regex(b, "(abc", 4, 0, false, &err), OR_EINVAL);
    assert_string_equal(err.msg, "missing ): (abc");
    struct or_header_match_spec hs = {
        .name = "x", .kind = OR_HM_STRING, .sm = sm(OR_SM_REGEX, "a.*", true)};
    assert_int_equal(or_route_builder_match_header(b, &hs, &err), OR_EINVAL);
    assert_string_equal(err.msg, "ignore_case has no effect for safe_regex.");
    or_route_builder_free(b);
}

static void test_prefix_rewrite(void **state)
{
    struct or_route_builder *b = one_vhost();
    start(b, "prefix", OR_PATH_PREFIX, "/api/");
    assert_int_equal(or_route_builder_prefix_rewrite(b, "/", 1), 0);
    start(b, "prefix_ci", OR_PATH_PREFIX, "/CI");
    or_route_builder_case_sensitive(b, false);
    assert_int_equal(or_route_builder_prefix_rewrite(b, "/new", 4), 0);
    start(b, "exact", OR_PATH_EXACT, "/old");
    assert_int_equal(or_route_builder_prefix_rewrite(b, "/new/x", 6), 0);
    start(b, "regex", OR_PATH_REGEX, "/r/.*");
    assert_int_equal(or_route_builder_prefix_rewrite(b, "/fixed", 6), 0);
    start(b, "none", OR_PATH_PREFIX, "/");
    struct or_route_table *t = finish(b);
    const struct or_vhost *vh = or_route_table_vhost(t, 0);
    struct or_arena a;
    or_arena_init(&a, 0);
    struct or_str out;

    assert_int_equal(or_route_rewrite_path(&vh->routes[0], OR_STR_LIT("/api/v1/x?q=1"), &a, &out),
                     1);
    assert_true(or_str_eq_lit(out, "/v1/x?q=1"));
    assert_int_equal(or_route_rewrite_path(&vh->routes[0], OR_STR_LIT("/api/"), &a, &out), 1);
    assert_true(or_str_eq_lit(out, "/"));
    assert_int_equal(or_route_rewrite_path(&vh->routes[1], OR_STR_LIT("/ci/rest"), &a, &out), 1);
    assert_true(or_str_eq_lit(out, "/new/rest"));
    assert_int_equal(or_route_rewrite_path(&vh->routes[2], OR_STR_LIT("/old?a=b"), &a, &out), 1);
    assert_true(or_str_eq_lit(out, "/new/x?a=b"));
    assert_int_equal(or_route_rewrite_path(&vh->routes[3], OR_STR_LIT("/r/abc?z"), &a, &out), 1);
    assert_true(or_str_eq_lit(out, "/fixed?z"));
    assert_int_equal(or_route_rewrite_path(&vh->routes[4], OR_STR_LIT("/keep?x"), &a, &out), 0);
    assert_true(or_str_eq_lit(out, "/keep?x"));
    or_arena_deinit(&a);
    or_route_table_free(t);
}

static const char *location(const struct or_route_entry *e, const char *authority, const char *path,
                            const char *scheme, const char *xfp, unsigned *status,
                            struct or_arena *a)
{
    struct req r;
    req_init(&r, authority, path);
    if (scheme)
        req_add(&r, ":scheme", scheme);
    if (xfp)
        req_add(&r, "x-forwarded-proto", xfp);
    struct or_str loc = OR_STR_NULL;
    int rc = or_route_redirect_location(e, &r.h, a, &loc, status);
    req_free(&r);
    return rc == 0 ? loc.ptr : rc == OR_ENOTFOUND ? "(none)" : "(error)";
}

static void test_redirects(void **state)
{
    struct or_route_builder *b = one_vhost();
    struct {
        const char *name;
        enum or_path_match k;
        const char *p;
        struct or_redirect_action ra;
    } defs[] = {
        {"https", OR_PATH_PREFIX, "/https", {.scheme = OR_STR_LIT("https")}},
        {"host", OR_PATH_PREFIX, "/host", {.host = OR_STR_LIT("new.example"), .status = 302}},
        {"port", OR_PATH_PREFIX, "/port", {.port = 8443, .status = 307}},
        {"path",
         OR_PATH_PREFIX,
         "/path",
         {.path_kind = OR_REDIRECT_PATH_REPLACE, .path = OR_STR_LIT("/new"), .status = 308}},
        {"pathq",
         OR_PATH_PREFIX,
         "/pathq",
         {.path_kind = OR_REDIRECT_PATH_REPLACE,
          .path = OR_STR_LIT("/new?k=v"),
          .strip_query = true}},
        {"prefix",
         OR_PATH_PREFIX,
         "/pre/",
         {.path_kind = OR_REDIRECT_PREFIX, .path = OR_STR_LIT("/post/"), .status = 303}},
        {"strip", OR_PATH_PREFIX, "/strip", {.strip_query = true}},
        {"noslash",
         OR_PATH_PREFIX,
         "/noslash",
         {.path_kind = OR_REDIRECT_PATH_REPLACE, .path = OR_STR_LIT("rel")}},
        {"all",
         OR_PATH_PREFIX,
         "/all",
         {.scheme = OR_STR_LIT("http"),
          .host = OR_STR_LIT("h"),
          .port = 81,
          .path_kind = OR_REDIRECT_PATH_REPLACE,
          .path = OR_STR_LIT("/p")}},
    };
    for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++) {
        assert_int_equal(or_route_builder_add_route(b, defs[i].name), 0);
        assert_int_equal(
            or_route_builder_match_path(b, defs[i].k, defs[i].p, strlen(defs[i].p), NULL), 0);
        assert_int_equal(or_route_builder_action_redirect(b, &defs[i].ra), 0);
    }
    assert_int_equal(or_route_builder_add_route(b, "direct301"), 0);
    assert_int_equal(or_route_builder_match_path(b, OR_PATH_PREFIX, "/d301", 5, NULL), 0);
    assert_int_equal(or_route_builder_action_direct(b, 301, "moved", 5), 0);
    assert_int_equal(or_route_builder_add_route(b, "direct200"), 0);
    assert_int_equal(or_route_builder_match_path(b, OR_PATH_PREFIX, "/d200", 5, NULL), 0);
    assert_int_equal(or_route_builder_action_direct(b, 200, "ok", 2), 0);
    struct or_route_table *t = finish(b);
    const struct or_route_entry *r = or_route_table_vhost(t, 0)->routes;
    struct or_arena a;
    or_arena_init(&a, 0);
    unsigned st = 0;

    assert_string_equal(location(&r[0], "foo.com", "/https/x?y", "http", "http", &st, &a),
                        "https://foo.com/https/x?y");
    assert_int_equal(st, 301);
    /* Scheme change: default port of x-forwarded-proto dropped, other ports kept. */
    assert_string_equal(location(&r[0], "foo.com:80", "/https", "http", "http", &st, &a),
                        "https://foo.com/https");
    assert_string_equal(location(&r[0], "foo.com:8080", "/https", "http", "http", &st, &a),
                        "https://foo.com:8080/https");
    assert_string_equal(location(&r[0], "[::1]:80", "/https", "http", "http", &st, &a),
                        "https://[::1]/https");
    assert_string_equal(location(&r[1], "foo.com:80", "/host", "http", "http", &st, &a),
                        "http://new.example/host");
    assert_int_equal(st, 302);
    /* Port redirect replaces the request port. */
    assert_string_equal(location(&r[2], "foo.com:8080", "/port?a", "https", "https", &st, &a),
                        "https://foo.com:8443/port?a");
    assert_int_equal(st, 307);
    /* path_redirect keeps the request query... */
    assert_string_equal(location(&r[3], "foo.com", "/path/x?q=1", "http", "http", &st, &a),
                        "http://foo.com/new?q=1");
    assert_int_equal(st, 308);
    /* ...unless it has its own, which strip_query does not touch. */
    assert_string_equal(location(&r[4], "foo.com", "/pathq?q=1", "http", "http", &st, &a),
                        "http://foo.com/new?k=v");
    assert_string_equal(location(&r[5], "foo.com", "/pre/a/b?c", "http", "http", &st, &a),
                        "http://foo.com/post/a/b?c");
    assert_int_equal(st, 303);
    assert_string_equal(location(&r[6], "foo.com", "/strip/x?q=1&r=2", "http", "http", &st, &a),
                        "http://foo.com/strip/x");
    assert_string_equal(location(&r[7], "foo.com", "/noslash?z", "http", "http", &st, &a),
                        "http://foo.com/rel?z");
    assert_string_equal(location(&r[8], "foo.com:9", "/all", "https", "https", &st, &a),
                        "http://h:81/p");
    assert_string_equal(location(&r[9], "foo.com", "/d301?x", "http", "http", &st, &a),
                        "http://foo.com/d301?x");
    assert_int_equal(st, 301);
    assert_string_equal(location(&r[10], "foo.com", "/d200", "http", "http", &st, &a), "(none)");
    assert_int_equal(st, 200);
    assert_int_equal(r[10].direct.body.len, 2);
    /* No :path: no Location. */
    assert_string_equal(location(&r[0], "foo.com", NULL, "http", "http", &st, &a), "(none)");
    or_arena_deinit(&a);
    or_route_table_free(t);
}

static void test_entry_fields(void **state)
{
    struct or_route_builder *b = one_vhost();
    start(b, "r", OR_PATH_PREFIX, "/");
    assert_int_equal(or_route_builder_host_rewrite(b, "upstream.local", 14), 0);
    assert_int_equal(or_route_builder_timeout_ms(b, 0), 0);
    assert_int_equal(or_route_builder_add_route(b, "hdr"), 0);
    assert_int_equal(or_route_builder_match_path(b, OR_PATH_PREFIX, "/", 1, NULL), 0);
    assert_int_equal(or_route_builder_action_cluster_header(b, "X-Cluster"), 0);
    struct or_route_table *t = finish(b);
    assert_true(or_str_eq_lit(or_route_table_name(t), "rt"));
    assert_int_equal(or_route_table_vhost_count(t), 1);
    assert_null(or_route_table_vhost(t, 1));
    const struct or_vhost *vh = or_route_table_vhost(t, 0);
    assert_int_equal(vh->n_routes, 2);
    assert_ptr_equal(vh->routes[1].vhost, vh);
    assert_int_equal(vh->routes[1].index, 1);
    assert_string_equal(vh->routes[0].host_rewrite.ptr, "upstream.local");
    assert_int_equal(vh->routes[0].timeout_ms, 0);
    assert_int_equal(vh->routes[1].timeout_ms, OR_ROUTE_DEFAULT_TIMEOUT_MS);
    assert_int_equal(vh->routes[1].kind, OR_ROUTE_CLUSTER_HEADER);
    assert_string_equal(vh->routes[1].cluster.ptr, "x-cluster");
    const struct or_vhost *got = NULL;
    struct req r;
    req_init(&r, "a", "/");
    assert_ptr_equal(or_route_table_match(t, &r.h, &got), &vh->routes[0]);
    assert_ptr_equal(got, vh);
    req_free(&r);
    or_route_table_free(t);
}

static void test_connect_matcher(void **state)
{
    struct or_route_builder *b = one_vhost();
    start(b, "connect", OR_PATH_CONNECT, NULL);
    start(b, "root", OR_PATH_PREFIX, "/");
    struct or_route_table *t = finish(b);
    struct req r;
    or_arena_init(&r.arena, 0);
    or_headers_init(&r.h, &r.arena);
    req_add(&r, ":authority", "host:443");
    req_add(&r, ":method", "CONNECT");
    assert_string_equal(or_route_table_match(t, &r.h, NULL)->name.ptr, "connect");
    req_free(&r);
    assert_string_equal(route_for(t, "/", NULL), "root");
    or_route_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_domain_exact_and_case),
        cmocka_unit_test(test_domain_wildcards),
        cmocka_unit_test(test_domain_ports),
        cmocka_unit_test(test_domain_default_and_missing_host),
        cmocka_unit_test(test_domain_duplicates),
        cmocka_unit_test(test_path_matchers),
        cmocka_unit_test(test_header_matchers),
        cmocka_unit_test(test_header_invert_missing_multi),
        cmocka_unit_test(test_query_grpc_runtime),
        cmocka_unit_test(test_weighted_distribution),
        cmocka_unit_test(test_builder_errors),
        cmocka_unit_test(test_prefix_rewrite),
        cmocka_unit_test(test_redirects),
        cmocka_unit_test(test_entry_fields),
        cmocka_unit_test(test_connect_matcher),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
