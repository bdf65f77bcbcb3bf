// Route matching over a 1,000-route table built with the route builder: 250 prefix routes,
// 250 exact-path routes, 250 regex routes and 250 header-matched routes, in that order, in one
// virtual host (Envoy matches routes in order: the position of the winner is the cost).
#include <cstdio>
#include <cstring>

#include "bench/micro/micro.h"

namespace
{

const int kPerKind = 250;

or_route_table *build_table()
{
    or_err_detail err = {};
    or_route_builder *b = or_route_builder_new("bench", "route_config");
    or_micro_check(b != nullptr, "builder");
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
    or_route_table *t = nullptr;
    if (or_route_builder_finish(b, &t, &err) != 0) {
        std::fprintf(stderr, "route table: %s: %s\n", err.path, err.msg);
        or_micro_check(false, "finish");
    }
    return t;
}

struct rstate {
    or_route_table *t;
    or_arena arena;
    or_headers h;
    const char *want; // cluster of the expected route, nullptr for no match
};

void *make(const char *path, const char *tenant, const char *want)
{
    rstate *s = new rstate();
    s->t = build_table();
    or_arena_init(&s->arena, 0);
    or_headers_init(&s->h, &s->arena);
    or_micro_check(or_headers_add(&s->h, ":method", 7, "GET", 3) == 0, "add");
    or_micro_check(or_headers_add(&s->h, ":path", 5, path, std::strlen(path)) == 0, "add");
    or_micro_check(or_headers_add(&s->h, ":authority", 10, "svc.local", 9) == 0, "add");
    or_micro_check(or_headers_add(&s->h, "user-agent", 10, "wrk", 3) == 0, "add");
    if (tenant != nullptr)
        or_micro_check(or_headers_add(&s->h, "x-tenant", 8, tenant, std::strlen(tenant)) == 0,
                       "add");
    s->want = want;
    return s;
}

void op(void *st)
{
    rstate *s = static_cast<rstate *>(st);
    const or_route_entry *r = or_route_table_match(s->t, &s->h, nullptr);
    bool ok = s->want == nullptr ? r == nullptr
                                 : r != nullptr && std::strcmp(r->cluster.ptr, s->want) == 0;
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

} // namespace

OR_MICRO_CASE(route_1000_prefix_first, prefix_first, op, teardown);
OR_MICRO_CASE(route_1000_prefix_last, prefix_last, op, teardown);
OR_MICRO_CASE(route_1000_exact_mid, exact_mid, op, teardown);
OR_MICRO_CASE(route_1000_regex_mid, regex_mid, op, teardown);
OR_MICRO_CASE(route_1000_header_last, header_last, op, teardown);
OR_MICRO_CASE(route_1000_miss, miss, op, teardown);
