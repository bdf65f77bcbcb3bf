// Route matching over a 1,000-route table built with the route builder: 250 prefix routes,
// 250 exact-path routes, 250 regex routes and 250 header-matched routes, in that order, in one
// virtual host. Envoy matches routes in order, so a linear scan pays for the position of the
// winner; the route index (proxy/router/route_index.c) should not. The *_linear cases build the
// same table without an index (the reference), the route_small* cases decide the vhost size from
// which the index pays, and route_vhosts_* time virtual host selection among 1,000 vhosts.
#include <cstdio>
#include <cstring>
#include <string>

#include "bench/micro/micro.h"

namespace
{

const int kPerKind = 250;

or_route_table *finish(or_route_builder *b)
{
    or_err_detail err = {};
    or_route_table *t = nullptr;
    if (or_route_builder_finish(b, &t, &err) != 0) {
        std::fprintf(stderr, "route table: %s: %s\n", err.path, err.msg);
        or_micro_check(false, "finish");
    }
    return t;
}

or_route_table *build_table(bool indexed)
{
    or_err_detail err = {};
    or_route_builder *b = or_route_builder_new("bench", "route_config");
    or_micro_check(b != nullptr, "builder");
    if (!indexed)
        or_route_builder_index_min_routes(b, UINT32_MAX);
    or_micro_check(or_route_builder_add_vhost(b, "all") == 0, "vhost");
    or_micro_check(or_route_builder_add_domain(b, "*", 1) == 0, "domain");
    char buf[64];
    char cl[32];
    for (int i = 0; i < 4 * kPerKind; i++) {
        std::snprintf(cl, sizeof(cl), "c%d", i);
        or_micro_check(or_route_builder_add_route(b, nullptr) == 0, "route");
        int n;
        switch (i / kPerKind) {
        case 0:
            n = std::snprintf(buf, sizeof(buf), "/p%d/", i);
            or_micro_check(or_route_builder_match_path(b, OR_PATH_PREFIX, buf, n, &err) == 0,
                           "prefix");
            break;
        case 1:
            n = std::snprintf(buf, sizeof(buf), "/e%d", i);
            or_micro_check(or_route_builder_match_path(b, OR_PATH_EXACT, buf, n, &err) == 0,
                           "exact");
            break;
        case 2:
            n = std::snprintf(buf, sizeof(buf), "/r%d/[0-9]+", i);
            or_micro_check(or_route_builder_match_regex(b, buf, n, 0, false, &err) == 0, "regex");
            break;
        default: {
            or_micro_check(or_route_builder_match_path(b, OR_PATH_PREFIX, "/h/", 3, &err) == 0,
                           "prefix");
            n = std::snprintf(buf, sizeof(buf), "t%d", i);
            or_header_match_spec hm = {};
            hm.name = "x-tenant";
            hm.kind = OR_HM_STRING;
            hm.sm.kind = OR_SM_EXACT;
            hm.sm.value = buf;
            hm.sm.len = n;
            or_micro_check(or_route_builder_match_header(b, &hm, &err) == 0, "header");
            break;
        }
        }
        or_micro_check(or_route_builder_action_cluster(b, cl) == 0, "cluster");
    }
    return finish(b);
}

// n prefix routes "/s<i>/" (cluster c<i>) in one vhost, indexed or not.
or_route_table *build_small(int n, bool indexed)
{
    or_err_detail err = {};
    or_route_builder *b = or_route_builder_new("small", "route_config");
    or_micro_check(b != nullptr, "builder");
    or_route_builder_index_min_routes(b, indexed ? 0 : UINT32_MAX);
    or_micro_check(or_route_builder_add_vhost(b, "all") == 0, "vhost");
    or_micro_check(or_route_builder_add_domain(b, "*", 1) == 0, "domain");
    char buf[32];
    char cl[32];
    for (int i = 0; i < n; i++) {
        int len = std::snprintf(buf, sizeof(buf), "/s%d/", i);
        std::snprintf(cl, sizeof(cl), "c%d", i);
        or_micro_check(or_route_builder_add_route(b, nullptr) == 0, "route");
        or_micro_check(or_route_builder_match_path(b, OR_PATH_PREFIX, buf, len, &err) == 0,
                       "prefix");
        or_micro_check(or_route_builder_action_cluster(b, cl) == 0, "cluster");
    }
    return finish(b);
}

// 1,000 vhosts: 900 exact domains "svc<i>.local", 100 suffix wildcards "*.ns<i>.example.com"
// (route cluster v<i>), and a default vhost (cluster dflt).
or_route_table *build_vhosts()
{
    or_err_detail err = {};
    or_route_builder *b = or_route_builder_new("vhosts", "route_config");
    or_micro_check(b != nullptr, "builder");
    char buf[64];
    char cl[32];
    for (int i = 0; i <= 1000; i++) {
        or_micro_check(or_route_builder_add_vhost(b, nullptr) == 0, "vhost");
        int len;
        if (i == 1000)
            len = std::snprintf(buf, sizeof(buf), "*");
        else if (i < 900)
            len = std::snprintf(buf, sizeof(buf), "svc%d.local", i);
        else
            len = std::snprintf(buf, sizeof(buf), "*.ns%d.example.com", i);
        or_micro_check(or_route_builder_add_domain(b, buf, len) == 0, "domain");
        std::snprintf(cl, sizeof(cl), i == 1000 ? "dflt" : "v%d", i);
        or_micro_check(or_route_builder_add_route(b, nullptr) == 0, "route");
        or_micro_check(or_route_builder_match_path(b, OR_PATH_PREFIX, "/", 1, &err) == 0, "prefix");
        or_micro_check(or_route_builder_action_cluster(b, cl) == 0, "cluster");
    }
    return finish(b);
}

struct rstate {
    or_route_table *t;
    or_arena arena;
    or_headers h;
    bool want_none;   // expect no match
    std::string want; // cluster of the expected route
};

void *make_with(or_route_table *t, const char *authority, const char *path, const char *tenant,
                const char *want)
{
    rstate *s = new rstate();
    s->t = t;
    or_arena_init(&s->arena, 0);
    or_headers_init(&s->h, &s->arena);
    or_micro_check(or_headers_add(&s->h, ":method", 7, "GET", 3) == 0, "add");
    or_micro_check(or_headers_add(&s->h, ":path", 5, path, std::strlen(path)) == 0, "add");
    or_micro_check(or_headers_add(&s->h, ":authority", 10, authority, std::strlen(authority)) == 0,
                   "add");
    or_micro_check(or_headers_add(&s->h, "user-agent", 10, "wrk", 3) == 0, "add");
    if (tenant != nullptr)
        or_micro_check(or_headers_add(&s->h, "x-tenant", 8, tenant, std::strlen(tenant)) == 0,
                       "add");
    s->want_none = want == nullptr;
    s->want = want ? want : "";
    return s;
}

void *make(const char *path, const char *tenant, const char *want)
{
    return make_with(build_table(true), "svc.local", path, tenant, want);
}

void *make_linear(const char *path, const char *tenant, const char *want)
{
    return make_with(build_table(false), "svc.local", path, tenant, want);
}

void op(void *st)
{
    rstate *s = static_cast<rstate *>(st);
    const or_route_entry *r = or_route_table_match(s->t, &s->h, nullptr);
    bool ok = s->want_none ? r == nullptr : r != nullptr && s->want == r->cluster.ptr;
    if (!ok)
        or_micro_check(false, "route match");
}

void teardown(void *st)
{
    rstate *s = static_cast<rstate *>(st);
    or_route_table_free(s->t);
    or_arena_deinit(&s->arena);
    delete s;
}

void *prefix_first()
{
    return make("/p0/items?x=1", nullptr, "c0");
}
void *prefix_last()
{
    return make("/p249/items?x=1", nullptr, "c249");
}
void *exact_mid()
{
    return make("/e375", nullptr, "c375");
}
void *regex_mid()
{
    return make("/r625/12345", nullptr, "c625");
}
void *header_last()
{
    return make("/h/x", "t999", "c999");
}
void *miss()
{
    return make("/nothing/here", nullptr, nullptr);
}
void *prefix_first_linear()
{
    return make_linear("/p0/items?x=1", nullptr, "c0");
}
void *exact_mid_linear()
{
    return make_linear("/e375", nullptr, "c375");
}
void *regex_mid_linear()
{
    return make_linear("/r625/12345", nullptr, "c625");
}
void *prefix_last_linear()
{
    return make_linear("/p249/items?x=1", nullptr, "c249");
}
void *header_last_linear()
{
    return make_linear("/h/x", "t999", "c999");
}
void *miss_linear()
{
    return make_linear("/nothing/here", nullptr, nullptr);
}

// The last of n small-vhost routes.
template <int N, bool Indexed> void *small_last()
{
    char path[32];
    char want[32];
    std::snprintf(path, sizeof(path), "/s%d/x/y?q=1", N - 1);
    std::snprintf(want, sizeof(want), "c%d", N - 1);
    return make_with(build_small(N, Indexed), "svc.local", path, nullptr, want);
}

void *vhosts_exact()
{
    return make_with(build_vhosts(), "svc451.local", "/x", nullptr, "v451");
}
void *vhosts_suffix()
{
    return make_with(build_vhosts(), "api.ns950.example.com", "/x", nullptr, "v950");
}
void *vhosts_default()
{
    return make_with(build_vhosts(), "unknown.example.org:8080", "/x", nullptr, "dflt");
}

} // namespace

OR_MICRO_CASE(route_1000_prefix_first, prefix_first, op, teardown);
OR_MICRO_CASE(route_1000_prefix_last, prefix_last, op, teardown);
OR_MICRO_CASE(route_1000_exact_mid, exact_mid, op, teardown);
OR_MICRO_CASE(route_1000_regex_mid, regex_mid, op, teardown);
OR_MICRO_CASE(route_1000_header_last, header_last, op, teardown);
OR_MICRO_CASE(route_1000_miss, miss, op, teardown);
OR_MICRO_CASE(route_1000_prefix_first_linear, prefix_first_linear, op, teardown);
OR_MICRO_CASE(route_1000_prefix_last_linear, prefix_last_linear, op, teardown);
OR_MICRO_CASE(route_1000_exact_mid_linear, exact_mid_linear, op, teardown);
OR_MICRO_CASE(route_1000_regex_mid_linear, regex_mid_linear, op, teardown);
OR_MICRO_CASE(route_1000_header_last_linear, header_last_linear, op, teardown);
OR_MICRO_CASE(route_1000_miss_linear, miss_linear, op, teardown);
OR_MICRO_CASE(route_small4_last_linear, (small_last<4, false>), op, teardown);
OR_MICRO_CASE(route_small4_last_index, (small_last<4, true>), op, teardown);
OR_MICRO_CASE(route_small8_last_linear, (small_last<8, false>), op, teardown);
OR_MICRO_CASE(route_small8_last_index, (small_last<8, true>), op, teardown);
OR_MICRO_CASE(route_small16_last_linear, (small_last<16, false>), op, teardown);
OR_MICRO_CASE(route_small16_last_index, (small_last<16, true>), op, teardown);
OR_MICRO_CASE(route_vhosts_1000_exact, vhosts_exact, op, teardown);
OR_MICRO_CASE(route_vhosts_1000_suffix, vhosts_suffix, op, teardown);
OR_MICRO_CASE(route_vhosts_1000_default, vhosts_default, op, teardown);
