/* C side of the stats and access-log micro benchmarks: stats.h's recording functions use C11
 * atomics, which C++17 cannot include, so the operations are called through these functions. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "bench/micro/shim_stats_alog.h"
#include "proxy/accesslog/format.h"
#include "proxy/accesslog/info.h"
#include "proxy/core/arena.h"
#include "proxy/http/headers.h"
#include "proxy/stats/blocks.h"
#include "proxy/stats/stats.h"

struct or_micro_stats {
    struct or_stats_store *st;  /* owned */
    struct or_stats_shard *sh;  /* borrowed: shard 0 */
    struct or_cluster_stats cs; /* handles */
    uint64_t n;
};

struct or_micro_stats *or_micro_stats_new(void)
{
    struct or_micro_stats *m = calloc(1, sizeof(*m));
    if (m == NULL || (m->st = or_stats_store_new(2)) == NULL ||
        or_stats_register_cluster(m->st, "bench_cluster", &m->cs) != 0) {
        free(m);
        return NULL;
    }
    m->sh = or_stats_store_shard(m->st, 0);
    return m;
}

void or_micro_stats_counter(struct or_micro_stats *m)
{
    or_counter_inc(m->sh, m->cs.upstream_rq_total);
}

void or_micro_stats_response(struct or_micro_stats *m)
{
    or_cluster_stats_response(m->sh, &m->cs, 200, false);
}

void or_micro_stats_histogram(struct or_micro_stats *m)
{
    or_histogram_record(m->sh, m->cs.upstream_cx_connect_ms, (m->n++ * 7) % 1500);
}

void or_micro_stats_free(struct or_micro_stats *m)
{
    or_stats_store_free(m->st);
    free(m);
}

struct or_micro_alog {
    struct or_alog_format *f;    /* owned */
    struct or_alog_cache *cache; /* owned */
    struct or_arena arena;
    struct or_headers req, resp;
    struct sockaddr_in peer;
    struct or_access_log_info info;
    struct or_alog_buf out;
};

struct or_micro_alog *or_micro_alog_new(void)
{
    struct or_micro_alog *a = calloc(1, sizeof(*a));
    struct or_err_detail err;
    if (a == NULL ||
        or_alog_format_compile_text(OR_ALOG_DEFAULT_FORMAT, strlen(OR_ALOG_DEFAULT_FORMAT), false,
                                    &a->f, &err, "bench") != 0) {
        free(a);
        return NULL;
    }
    a->cache = or_alog_cache_new(a->f);
    or_arena_init(&a->arena, 0);
    or_headers_init(&a->req, &a->arena);
    or_headers_init(&a->resp, &a->arena);
    or_headers_add(&a->req, ":method", 7, "GET", 3);
    or_headers_add(&a->req, ":path", 5, "/api/v1/products/12345", 22);
    or_headers_add(&a->req, ":authority", 10, "shop.example.com", 16);
    or_headers_add(&a->req, "user-agent", 10, "curl/7.88.1", 11);
    or_headers_add(&a->req, "x-request-id", 12, "5b8e4f6a-2c1d-4e3f-9a8b-7c6d5e4f3a2b", 36);
    or_headers_add(&a->resp, ":status", 7, "200", 3);
    or_headers_add(&a->resp, "x-envoy-upstream-service-time", 29, "3", 1);
    a->peer.sin_family = AF_INET;
    a->peer.sin_port = htons(8080);
    inet_pton(AF_INET, "10.0.2.1", &a->peer.sin_addr);
    a->info = (struct or_access_log_info){
        .req_headers = &a->req,
        .resp_headers = &a->resp,
        .start_time = {1700000000, 123000000},
        .duration_ns = 4200000,
        .request_duration_ns = -1,
        .request_tx_duration_ns = -1,
        .response_duration_ns = 3100000,
        .downstream_tx_end_ns = -1,
        .response_code = 200,
        .bytes_received = 0,
        .bytes_sent = 1234,
        .protocol = OR_STR_LIT("HTTP/1.1"),
        .upstream_host = (struct sockaddr *)&a->peer,
        .upstream_cluster = OR_STR_LIT("cds_egress_mesh_products"),
    };
    return a;
}

void or_micro_alog_render(struct or_micro_alog *a)
{
    a->out.len = 0;
    or_alog_format_render(a->f, &a->info, a->cache, &a->out);
}

void or_micro_alog_free(struct or_micro_alog *a)
{
    or_alog_buf_free(&a->out);
    or_alog_cache_free(a->cache);
    or_alog_format_free(a->f);
    or_arena_deinit(&a->arena);
    free(a);
}
