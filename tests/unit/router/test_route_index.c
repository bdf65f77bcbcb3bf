/* Route index (proxy/router/route_index.c): it must pick exactly the route the in-order linear
 * scan picks. Randomised tables and requests (fixed seed) are matched both ways; a few fixed
 * cases pin the tricky spots (case-insensitive keys, "" and "/", exact vs prefix order, regex
 * order, header dispatch with several values, query and fragment stripping). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/router/route_index.h"
#include "proxy/router/route_table.h"

/* ---- helpers ---- */

static uint64_t rng_state;

static uint32_t rnd32(void)
{
    /* xorshift64*: fixed seed, same sequence on every run. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545f4914f6cdd1dULL) >> 32);
}

static uint32_t below(uint32_t n)
{
    return n ? rnd32() % n : 0;
}

static bool chance(uint32_t percent)
{
    return below(100) < percent;
}

static const char *pick(const char *const *v, size_t n)
{
    return v[below((uint32_t)n)];
}

#define PICK(arr) pick(arr, sizeof(arr) / sizeof(arr[0]))

struct req {
    struct or_arena arena;
    struct or_headers h;
};

static void req_init(struct req *r)
{
    or_arena_init(&r->arena, 0);
    or_headers_init(&r->h, &r->arena);
}

static void req_add(struct req *r, const char *name, const char *value)
{
    assert_int_equal(or_headers_add(&r->h, name, strlen(name), value, strlen(value)), 0);
}

static void req_free(struct req *r)
{
    or_arena_deinit(&r->arena);
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

static void route(struct or_route_builder *b, enum or_path_match kind, const char *s)
{
    struct or_err_detail err = {0};
    assert_int_equal(or_route_builder_add_route(b, NULL), 0);
    if (kind == OR_PATH_REGEX)
        assert_int_equal(or_route_builder_match_regex(b, s, strlen(s), 0, false, &err), 0);
    else
        assert_int_equal(or_route_builder_match_path(b, kind, s, s ? strlen(s) : 0, &err), 0);
    assert_int_equal(or_route_builder_action_cluster(b, "c"), 0);
}

static void hdr_exact(struct or_route_builder *b, const char *name, const char *value)
{
    struct or_header_match_spec s = {.name = name, .kind = OR_HM_STRING};
    s.sm.kind = OR_SM_EXACT;
    s.sm.value = value;
    s.sm.len = strlen(value);
    assert_int_equal(or_route_builder_match_header(b, &s, NULL), 0);
}

/* Matches with the index and linearly; fails on a difference. Returns the index of the route
 * (-1: none). */
static int both(const struct or_vhost *vh, const struct or_headers *h, uint64_t rnd,
                const char *what)
{
    const struct or_route_entry *a = or_vhost_match(vh, h, rnd);
    const struct or_route_entry *l = or_vhost_match_linear(vh, h, rnd);
    if (a != l) {
        const struct or_str *p = or_headers_get_n(h, ":path", 5);
        fail_msg("%s: path '%.*s': index picked %d, linear scan %d", what, p ? (int)p->len : 4,
                 p ? p->ptr : "NULL", a ? (int)a->index : -1, l ? (int)l->index : -1);
    }
    return a ? (int)a->index : -1;
}

/* ---- randomised equivalence ---- */

static const char *const segs[] = {"a", "b", "A", "api", "Api", "v1", "V1", "x", "", "ab"};
static const char *const regexes[] = {
    "/a/[a-z]+",  "/api/.*",  "/[Aa]pi/v[0-9]", "(/b)+", ".*",       "/a",
    "/A/b/?",     "[^?]*x",   "/api",           "/v1",   "/a(/.*)?", "/(a|b)/(a|b)",
    "/api/v1/?x", "(?i)/API", "/ab?",           "/",     "",         "/[a-z]+/[a-z]+/[a-z]+"};
static const char *const values[] = {"1", "2", "3", "t1", ""};

/* A path from the segment alphabet, so routes and requests overlap often. */
static void random_path(char *buf, size_t cap, bool request)
{
    size_t off = 0;
    uint32_t n = below(4);
    if (!request && chance(5)) {
        buf[0] = '\0'; /* "" prefix / exact */
        return;
    }
    if (request && chance(3)) {
        snprintf(buf, cap, "%s", chance(50) ? "" : "?q=1");
        return;
    }
    for (uint32_t i = 0; i < n && off + 8 < cap; i++)
        off += (size_t)snprintf(buf + off, cap - off, "/%s", PICK(segs));
    if (n == 0 || chance(25))
        off += (size_t)snprintf(buf + off, cap - off, "/");
    if (request) {
        if (chance(20))
            off += (size_t)snprintf(buf + off, cap - off, "?q=%s", PICK(values));
        if (chance(10))
            off += (size_t)snprintf(buf + off, cap - off, "%s", chance(50) ? "#/a" : "?/api#x");
    }
    (void)off;
}

static void random_header_matchers(struct or_route_builder *b)
{
    uint32_t n = chance(60) ? 0 : 1 + below(2);
    for (uint32_t i = 0; i < n; i++) {
        struct or_header_match_spec s = {.name = chance(80) ? "x-t" : "x-u"};
        const char *v = PICK(values);
        switch (below(8)) {
        case 0:
            s.kind = OR_HM_PRESENT;
            s.present = chance(70);
            break;
        case 1:
            s.kind = OR_HM_EXACT_LEGACY;
            s.sm.value = v;
            s.sm.len = strlen(v);
            break;
        case 2:
            s.kind = OR_HM_RANGE;
            s.range_start = 1;
            s.range_end = 3;
            break;
        case 3:
            s.kind = OR_HM_STRING;
            s.sm.kind = OR_SM_PREFIX;
            s.sm.value = "t";
            s.sm.len = 1;
            break;
        case 4:
            s.kind = OR_HM_STRING;
            s.sm.kind = OR_SM_EXACT;
            s.sm.ignore_case = true;
            s.sm.value = "T1";
            s.sm.len = 2;
            break;
        default:
            s.kind = OR_HM_STRING;
            s.sm.kind = OR_SM_EXACT;
            s.sm.value = v;
            s.sm.len = strlen(v);
            break;
        }
        s.invert = chance(10);
        s.treat_missing_as_empty = chance(10);
        assert_int_equal(or_route_builder_match_header(b, &s, NULL), 0);
    }
}

static void random_route(struct or_route_builder *b, const char *group_prefix)
{
    char path[64];
    struct or_err_detail err = {0};
    assert_int_equal(or_route_builder_add_route(b, NULL), 0);
    if (group_prefix != NULL) {
        assert_int_equal(or_route_builder_match_path(b, OR_PATH_PREFIX, group_prefix,
                                                     strlen(group_prefix), &err),
                         0);
        if (chance(85))
            hdr_exact(b, "x-t", PICK(values));
        random_header_matchers(b);
    } else {
        uint32_t k = below(100);
        if (k < 35) {
            random_path(path, sizeof(path), false);
            assert_int_equal(
                or_route_builder_match_path(b, OR_PATH_PREFIX, path, strlen(path), &err), 0);
        } else if (k < 60) {
            random_path(path, sizeof(path), false);
            assert_int_equal(
                or_route_builder_match_path(b, OR_PATH_EXACT, path, strlen(path), &err), 0);
        } else if (k < 85) {
            const char *re = PICK(regexes);
            if (or_route_builder_match_regex(b, re, strlen(re), 0, false, &err) != 0)
                fail_msg("regex %s: %s", re, err.msg);
        } else if (k < 97) {
            random_path(path, sizeof(path), false);
            assert_int_equal(
                or_route_builder_match_path(b, OR_PATH_SEPARATED_PREFIX, path, strlen(path), &err),
                0);
        } else {
            assert_int_equal(or_route_builder_match_path(b, OR_PATH_CONNECT, NULL, 0, &err), 0);
        }
        if (k < 60 || (k >= 85 && k < 97))
            or_route_builder_case_sensitive(b, !chance(30));
        random_header_matchers(b);
    }
    if (chance(8)) {
        const char *v = chance(50) ? "1" : "t1";
        struct or_string_match_spec sm = {.kind = OR_SM_EXACT, .value = v, .len = strlen(v)};
        assert_int_equal(or_route_builder_match_query(b, "q", chance(30) ? NULL : &sm, &err), 0);
    }
    if (chance(5))
        or_route_builder_match_grpc(b);
    if (chance(5))
        assert_int_equal(or_route_builder_runtime_fraction(b, 50, 100, &err), 0);
    assert_int_equal(or_route_builder_action_cluster(b, "c"), 0);
}

static void random_request(struct req *r)
{
    char path[96];
    req_init(r);
    req_add(r, ":authority", "svc");
    if (chance(3)) {
        req_add(r, ":method", "CONNECT");
    } else {
        req_add(r, ":method", "GET");
        random_path(path, sizeof(path), true);
        req_add(r, ":path", path);
    }
    uint32_t nt = below(10) < 6 ? 1 : below(3); /* x-t: mostly one value, sometimes 0 or 2 */
    for (uint32_t i = 0; i < nt; i++)
        req_add(r, "x-t", PICK(values));
    if (chance(30))
        req_add(r, "x-u", PICK(values));
    if (chance(10))
        req_add(r, "content-type", "application/grpc");
}

static void test_random_equivalence(void **state)
{
    rng_state = 0x9e3779b97f4a7c15ULL;
    unsigned compared = 0, matched = 0, with_set = 0;
    for (int table = 0; table < 400; table++) {
        struct or_route_builder *b = or_route_builder_new("rt", "route_config");
        /* Every vhost indexed, even tiny ones, so the index sees every shape. */
        or_route_builder_index_min_routes(b, 0);
        assert_int_equal(or_route_builder_add_vhost(b, "vh"), 0);
        assert_int_equal(or_route_builder_add_domain(b, "*", 1), 0);
        uint32_t n = table % 10 == 9 ? 100 + below(300) : below(40);
        for (uint32_t i = 0; i < n; i++) {
            if (chance(4)) {
                /* A tenant group: many routes on one prefix keyed by a header value. */
                char prefix[64];
                random_path(prefix, sizeof(prefix), false);
                uint32_t g = 8 + below(24);
                for (uint32_t j = 0; j < g; j++)
                    random_route(b, prefix);
                i += g;
            } else {
                random_route(b, NULL);
            }
        }
        struct or_route_table *t = finish(b);
        const struct or_vhost *vh = or_route_table_vhost(t, 0);
        assert_non_null(vh->route_index);
        with_set += or_route_index_has_regex_set(vh->route_index);
        for (int q = 0; q < 150; q++) {
            struct req r;
            random_request(&r);
            uint64_t rnd = below(100);
            matched += both(vh, &r.h, rnd, "random") >= 0;
            compared++;
            req_free(&r);
        }
        or_route_table_free(t);
    }
    /* The generator must exercise both outcomes and the regex set. */
    assert_true(matched > compared / 5);
    assert_true(matched < compared - compared / 20);
    assert_true(with_set > 100);
    print_message("compared %u requests, %u matched, %u tables with a regex set\n", compared,
                  matched, with_set);
}

/* ---- fixed cases ---- */

static struct or_route_builder *one_vhost(void)
{
    struct or_route_builder *b = or_route_builder_new("rt", "route_config");
    or_route_builder_index_min_routes(b, 0);
    assert_int_equal(or_route_builder_add_vhost(b, "vh"), 0);
    assert_int_equal(or_route_builder_add_domain(b, "*", 1), 0);
    return b;
}

static int match_path(const struct or_vhost *vh, const char *path, const char *xt)
{
    struct req r;
    req_init(&r);
    req_add(&r, ":method", "GET");
    if (path != NULL)
        req_add(&r, ":path", path);
    if (xt != NULL)
        req_add(&r, "x-t", xt);
    int i = both(vh, &r.h, 0, path ? path : "(no path)");
    req_free(&r);
    return i;
}

static void test_fixed_order(void **state)
{
    struct or_route_builder *b = one_vhost();
    route(b, OR_PATH_PREFIX, "/API/"); /* 0: case-insensitive */
    or_route_builder_case_sensitive(b, false);
    route(b, OR_PATH_EXACT, "/api/x");          /* 1: exact after a prefix that covers it */
    route(b, OR_PATH_PREFIX, "/api");           /* 2 */
    route(b, OR_PATH_EXACT, "/Exact");          /* 3 */
    route(b, OR_PATH_REGEX, "/r/[0-9]+");       /* 4 */
    route(b, OR_PATH_REGEX, "/r/1.*");          /* 5 */
    route(b, OR_PATH_SEPARATED_PREFIX, "/sep"); /* 6 */
    route(b, OR_PATH_PREFIX, "/");              /* 7 */
    route(b, OR_PATH_PREFIX, "");               /* 8 */
    struct or_route_table *t = finish(b);
    const struct or_vhost *vh = or_route_table_vhost(t, 0);
    assert_int_equal(match_path(vh, "/api/x", NULL), 0);
    assert_int_equal(match_path(vh, "/Api/X?y", NULL), 0);
    assert_int_equal(match_path(vh, "/apix", NULL), 2);
    assert_int_equal(match_path(vh, "/APIx", NULL), 7);
    assert_int_equal(match_path(vh, "/Exact", NULL), 3);
    assert_int_equal(match_path(vh, "/exact", NULL), 7);
    assert_int_equal(match_path(vh, "/Exact#f", NULL), 3);
    assert_int_equal(match_path(vh, "/r/12", NULL), 4);
    assert_int_equal(match_path(vh, "/r/1x", NULL), 5);
    assert_int_equal(match_path(vh, "/r/12?x", NULL), 4);
    assert_int_equal(match_path(vh, "/sep", NULL), 6);
    assert_int_equal(match_path(vh, "/sep/", NULL), 6);
    assert_int_equal(match_path(vh, "/sepx", NULL), 7);
    assert_int_equal(match_path(vh, "", NULL), 8);
    assert_int_equal(match_path(vh, "?/api/x", NULL), 8);
    assert_int_equal(match_path(vh, NULL, NULL), -1);
    or_route_table_free(t);
}

static void test_header_dispatch(void **state)
{
    struct or_route_builder *b = one_vhost();
    route(b, OR_PATH_PREFIX, "/h/"); /* 0: value "0" */
    hdr_exact(b, "x-t", "0");
    for (int i = 1; i < 20; i++) {
        char v[8];
        snprintf(v, sizeof(v), "%d", i % 10);
        route(b, OR_PATH_PREFIX, "/h/"); /* i: value i % 10 (1..9 twice, then 0) */
        hdr_exact(b, "x-t", v);
    }
    route(b, OR_PATH_PREFIX, "/h/"); /* 20: rest, no header */
    route(b, OR_PATH_PREFIX, "/h/"); /* 21: never reached */
    struct or_route_table *t = finish(b);
    const struct or_vhost *vh = or_route_table_vhost(t, 0);
    assert_int_equal(match_path(vh, "/h/x", "0"), 0);
    assert_int_equal(match_path(vh, "/h/x", "7"), 7);
    assert_int_equal(match_path(vh, "/h/x", "x"), 20);
    assert_int_equal(match_path(vh, "/h/x", NULL), 20);
    assert_int_equal(match_path(vh, "/H/x", "7"), -1);

    /* Two values: Envoy compares them joined, "7,7" equals no value. */
    struct req r;
    req_init(&r);
    req_add(&r, ":path", "/h/");
    req_add(&r, "x-t", "7");
    req_add(&r, "x-t", "7");
    assert_int_equal(both(vh, &r.h, 0, "multi"), 20);
    req_free(&r);
    or_route_table_free(t);

    /* A joined value can match an exact matcher: "a,b". */
    b = one_vhost();
    for (int i = 0; i < 10; i++) {
        route(b, OR_PATH_PREFIX, "/");
        hdr_exact(b, "x-t", i == 6 ? "a,b" : "z");
    }
    t = finish(b);
    vh = or_route_table_vhost(t, 0);
    req_init(&r);
    req_add(&r, ":path", "/");
    req_add(&r, "x-t", "a");
    req_add(&r, "x-t", "b");
    assert_int_equal(both(vh, &r.h, 0, "joined"), 6);
    req_free(&r);
    or_route_table_free(t);

    /* Empty values keep their separators: two empty values join to ",". (The join once skipped
     * the separator after an empty value and compared an uninitialised byte.) */
    b = one_vhost();
    route(b, OR_PATH_PREFIX, "/");
    hdr_exact(b, "x-t", "");
    route(b, OR_PATH_PREFIX, "/");
    hdr_exact(b, "x-t", ",");
    t = finish(b);
    vh = or_route_table_vhost(t, 0);
    req_init(&r);
    req_add(&r, ":path", "/");
    req_add(&r, "x-t", "");
    req_add(&r, "x-t", "");
    assert_int_equal(both(vh, &r.h, 0, "empty values"), 1);
    req_free(&r);
    or_route_table_free(t);
}

/* The default threshold: small vhosts stay linear, big ones get an index. */
static void test_threshold(void **state)
{
    struct or_route_builder *b = or_route_builder_new("rt", "route_config");
    assert_int_equal(or_route_builder_add_vhost(b, "small"), 0);
    assert_int_equal(or_route_builder_add_domain(b, "small", 5), 0);
    route(b, OR_PATH_PREFIX, "/");
    assert_int_equal(or_route_builder_add_vhost(b, "big"), 0);
    assert_int_equal(or_route_builder_add_domain(b, "*", 1), 0);
    for (int i = 0; i < 64; i++) {
        char p[16];
        snprintf(p, sizeof(p), "/p%d", i);
        route(b, OR_PATH_PREFIX, p);
    }
    struct or_route_table *t = finish(b);
    assert_null(or_route_table_vhost(t, 0)->route_index);
    assert_non_null(or_route_table_vhost(t, 1)->route_index);
    assert_true(or_route_table_index_bytes(t) > 0);
    assert_int_equal(match_path(or_route_table_vhost(t, 1), "/p63", NULL), 6); /* "/p6" first */
    assert_int_equal(match_path(or_route_table_vhost(t, 1), "/p6", NULL), 6);
    or_route_table_free(t);

    b = or_route_builder_new("rt", "route_config");
    or_route_builder_index_min_routes(b, UINT32_MAX);
    assert_int_equal(or_route_builder_add_vhost(b, "big"), 0);
    assert_int_equal(or_route_builder_add_domain(b, "*", 1), 0);
    for (int i = 0; i < 64; i++)
        route(b, OR_PATH_PREFIX, "/");
    t = finish(b);
    assert_null(or_route_table_vhost(t, 0)->route_index);
    assert_int_equal(or_route_table_index_bytes(t), 0);
    or_route_table_free(t);
}

/* Memory of the index for the micro benchmark's 1,000-route vhost (250 prefix, 250 exact, 250
 * regex, 250 header routes): printed for the record, bounded so it stays modest. */
static void test_index_memory(void **state)
{
    struct or_route_builder *b = one_vhost();
    char buf[64];
    for (int i = 0; i < 1000; i++) {
        switch (i / 250) {
        case 0:
            snprintf(buf, sizeof(buf), "/p%d/", i);
            route(b, OR_PATH_PREFIX, buf);
            break;
        case 1:
            snprintf(buf, sizeof(buf), "/e%d", i);
            route(b, OR_PATH_EXACT, buf);
            break;
        case 2:
            snprintf(buf, sizeof(buf), "/r%d/[0-9]+", i);
            route(b, OR_PATH_REGEX, buf);
            break;
        default:
            route(b, OR_PATH_PREFIX, "/h/");
            snprintf(buf, sizeof(buf), "t%d", i);
            hdr_exact(b, "x-tenant", buf);
            break;
        }
    }
    struct or_route_table *t = finish(b);
    size_t bytes = or_route_table_index_bytes(t);
    print_message("index of 1,000 routes: %zu bytes in the arena\n", bytes);
    assert_true(bytes < 128 * 1024);
    assert_true(or_route_index_has_regex_set(or_route_table_vhost(t, 0)->route_index));
    or_route_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_equivalence), cmocka_unit_test(test_fixed_order),
        cmocka_unit_test(test_header_dispatch),    cmocka_unit_test(test_threshold),
        cmocka_unit_test(test_index_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
