/* Envoy's request header mutations: XFF, XFP, internal/external, trusted hops, x-request-id. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "proxy/http/forwarding.h"
#include "proxy/http/hcm_config.h"

struct fx {
    struct or_arena arena;
    struct or_headers h;
    struct or_hcm_config cfg;
    struct sockaddr_in remote, local;
    struct or_forwarding_ctx ctx;
};

static void setup_fx(struct fx *f, const char *remote_ip, bool use_remote, uint32_t hops)
{
    memset(f, 0, sizeof(*f));
    or_arena_init(&f->arena, 0);
    or_headers_init(&f->h, &f->arena);
    f->cfg.use_remote_address = use_remote;
    f->cfg.xff_num_trusted_hops = hops;
    f->cfg.generate_request_id = true;
    f->remote.sin_family = AF_INET;
    inet_pton(AF_INET, remote_ip, &f->remote.sin_addr);
    f->local.sin_family = AF_INET;
    inet_pton(AF_INET, "10.1.2.3", &f->local.sin_addr);
    f->ctx.remote = (struct sockaddr *)&f->remote;
    f->ctx.local = (struct sockaddr *)&f->local;
    f->ctx.rand1 = 1;
    f->ctx.rand2 = 2;
}

static void assert_header(struct or_headers *h, const char *name, const char *value)
{
    const struct or_str *v = or_headers_get(h, name);
    if (value == NULL) {
        assert_null(v);
        return;
    }
    assert_non_null(v);
    assert_int_equal(v->len, strlen(value));
    assert_memory_equal(v->ptr, value, v->len);
}

static void edge_external_client(void **state)
{
    struct fx f;
    setup_fx(&f, "203.0.113.7", true, 0);
    or_headers_add(&f.h, "x-request-id", 12, "from-client", 11);
    or_headers_add(&f.h, "x-envoy-max-retries", 19, "5", 1);
    or_headers_add(&f.h, "x-envoy-internal", 16, "true", 4);
    or_headers_add(&f.h, "x-envoy-custom", 14, "kept", 4);
    or_headers_add(&f.h, "x-forwarded-proto", 17, "https", 5);
    or_headers_add(&f.h, "x-envoy-original-url", 20, "/a", 2);
    assert_int_equal(or_forwarding_mutate_request(&f.h, &f.cfg, &f.ctx), 0);
    assert_header(&f.h, "x-forwarded-for", "203.0.113.7");
    assert_header(&f.h, "x-forwarded-proto", "http"); /* untrusted hop: overwritten */
    assert_header(&f.h, "x-envoy-external-address", "203.0.113.7");
    assert_header(&f.h, "x-envoy-internal", NULL);
    assert_header(&f.h, "x-envoy-max-retries", NULL);
    assert_header(&f.h, "x-envoy-original-url", NULL);
    /* Only Envoy's list goes: other x-envoy-* headers are the application's. */
    assert_header(&f.h, "x-envoy-custom", "kept");
    /* The map's byte count follows the removals. */
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < f.h.n; i++)
        bytes += f.h.v[i].name.len + f.h.v[i].value.len;
    assert_int_equal(f.h.bytes, bytes);
    const struct or_str *id = or_headers_get(&f.h, "x-request-id");
    assert_non_null(id);
    assert_int_equal(id->len, 36); /* regenerated for an external client */
    or_arena_deinit(&f.arena);
}

static void edge_internal_client(void **state)
{
    struct fx f;
    setup_fx(&f, "10.0.0.9", true, 0);
    or_headers_add(&f.h, "x-request-id", 12, "keep-me", 7);
    assert_int_equal(or_forwarding_mutate_request(&f.h, &f.cfg, &f.ctx), 0);
    assert_header(&f.h, "x-forwarded-for", "10.0.0.9");
    assert_header(&f.h, "x-envoy-internal", "true");
    assert_header(&f.h, "x-envoy-external-address", NULL);
    assert_header(&f.h, "x-request-id", "keep-me");
    or_arena_deinit(&f.arena);
}

static void loopback_peer_recorded_as_local_address(void **state)
{
    struct fx f;
    setup_fx(&f, "127.0.0.1", true, 0);
    or_headers_add(&f.h, "x-forwarded-for", 15, "192.168.1.1", 11);
    assert_int_equal(or_forwarding_mutate_request(&f.h, &f.cfg, &f.ctx), 0);
    assert_header(&f.h, "x-forwarded-for", "192.168.1.1,10.1.2.3");
    /* Two XFF entries: not a single internal hop, so external. */
    assert_header(&f.h, "x-envoy-internal", NULL);
    assert_header(&f.h, "x-envoy-external-address", "127.0.0.1");
    or_arena_deinit(&f.arena);
}

static void trusted_hops_pick_client_from_xff(void **state)
{
    struct fx f;
    setup_fx(&f, "10.0.0.5", true, 1);
    or_headers_add(&f.h, "x-forwarded-for", 15, "198.51.100.1, 203.0.113.9", 25);
    or_headers_add(&f.h, "x-forwarded-proto", 17, "https", 5);
    assert_int_equal(or_forwarding_mutate_request(&f.h, &f.cfg, &f.ctx), 0);
    assert_header(&f.h, "x-envoy-external-address", "203.0.113.9");
    assert_header(&f.h, "x-forwarded-for", "198.51.100.1, 203.0.113.9,10.0.0.5");
    assert_header(&f.h, "x-forwarded-proto", "https"); /* set by a trusted hop: kept */
    or_arena_deinit(&f.arena);
}

static void not_edge_leaves_xff(void **state)
{
    struct fx f;
    setup_fx(&f, "203.0.113.7", false, 0);
    or_headers_add(&f.h, "x-forwarded-for", 15, "10.9.9.9", 8);
    assert_int_equal(or_forwarding_mutate_request(&f.h, &f.cfg, &f.ctx), 0);
    assert_header(&f.h, "x-forwarded-for", "10.9.9.9");
    assert_header(&f.h, "x-forwarded-proto", "http");
    assert_header(&f.h, "x-envoy-external-address", NULL);
    assert_non_null(or_headers_get(&f.h, "x-request-id"));
    or_arena_deinit(&f.arena);
}

static void no_request_id_when_disabled(void **state)
{
    struct fx f;
    setup_fx(&f, "10.0.0.1", false, 0);
    f.cfg.generate_request_id = false;
    assert_int_equal(or_forwarding_mutate_request(&f.h, &f.cfg, &f.ctx), 0);
    assert_header(&f.h, "x-request-id", NULL);
    or_arena_deinit(&f.arena);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(edge_external_client),
        cmocka_unit_test(edge_internal_client),
        cmocka_unit_test(loopback_peer_recorded_as_local_address),
        cmocka_unit_test(trusted_hops_pick_client_from_xff),
        cmocka_unit_test(not_edge_leaves_xff),
        cmocka_unit_test(no_request_id_when_disabled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
