/* The store: per-shard recording from real threads summed on read, registration (idempotent, by
 * kind, while workers record), gauges, lazy groups, resets, the block registrations, and a check
 * that the inline recording functions compile to plain loads and stores (no lock prefix). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "envoy/config/metrics/v3/stats.pb-c.h"
#include "google/protobuf/wrappers.pb-c.h"
#include "proxy/stats/blocks.h"
#include "proxy/stats/stats.h"

/* ---- the disassembly check ---- */

__attribute__((noinline)) void probe_counter_add(struct or_stats_shard *s, uint32_t h, uint64_t n)
{
    or_counter_add(s, h, n);
}

__attribute__((noinline)) void probe_gauge_add(struct or_stats_shard *s, uint32_t h, int64_t d)
{
    or_gauge_add(s, h, d);
}

__attribute__((noinline)) void
probe_cluster_response(struct or_stats_shard *s, const struct or_cluster_stats *cs, unsigned code)
{
    or_cluster_stats_response(s, cs, code, false);
}

/* objdump's disassembly of `fn` from this executable, or NULL when objdump is missing. */
static char *disassemble(const char *fn)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    char cmd[8192];
    snprintf(cmd, sizeof(cmd), "objdump -d --no-show-raw-insn '%s' 2>/dev/null", exe);
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        return NULL;
    char head[256];
    snprintf(head, sizeof(head), "<%s>:", fn);
    size_t cap = 1 << 16, len = 0;
    char *out = calloc(1, cap);
    char line[1024];
    bool in = false;
    while (fgets(line, sizeof(line), p) != NULL) {
        if (!in) {
            in = strstr(line, head) != NULL;
            continue;
        }
        if (line[0] == '\n')
            break;
        size_t l = strlen(line);
        if (len + l + 1 > cap)
            break;
        memcpy(out + len, line, l + 1);
        len += l;
    }
    pclose(p);
    if (len == 0) {
        free(out);
        return NULL;
    }
    return out;
}

static void test_recording_has_no_lock_prefix(void **state)
{
    /* The probes, and the inline helpers they call when the build does not inline them (-O0). */
    static const struct {
        const char *fn;
        bool required;
    } fns[] = {
        {"probe_counter_add", true},
        {"probe_gauge_add", true},
        {"probe_cluster_response", true},
        {"or_histogram_record", true},
        {"or_counter_add", false},
        {"or_counter_inc", false},
        {"or_gauge_add", false},
        {"or_stats__slot", false},
        {"or_cluster_stats_response", false},
        {"or_stats_group_handle", false},
        {"or_stats__hist_bin", false},
    };
    if (access("/usr/bin/objdump", X_OK) != 0)
        skip();
    int stores = 0;
    for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
        char *d = disassemble(fns[i].fn);
        if (d == NULL) {
            if (fns[i].required)
                fail_msg("no disassembly for %s", fns[i].fn);
            continue;
        }
        /* An atomic read-modify-write on x86-64 is a lock-prefixed instruction or xchg. */
        if (strstr(d, "lock") != NULL || strstr(d, "xchg") != NULL || strstr(d, "xadd") != NULL)
            fail_msg("%s contains an atomic read-modify-write:\n%s", fns[i].fn, d);
        /* The counter update itself: some store of a register into memory. */
        if (strstr(d, "mov    %r") != NULL || strstr(d, "add    %r") != NULL)
            stores++;
        free(d);
    }
    assert_true(stores > 0);
}

/* ---- concurrency ---- */

enum { WORKERS = 4, ROUNDS = 200000 };

struct worker_arg {
    struct or_stats_store *st;
    uint32_t id;
    uint32_t counter, gauge, hist;
    const struct or_cluster_stats *cs;
    _Atomic int *go;
};

static void *worker(void *p)
{
    struct worker_arg *a = p;
    struct or_stats_shard *s = or_stats_store_shard(a->st, a->id);
    while (!atomic_load(a->go))
        ;
    for (uint32_t i = 0; i < ROUNDS; i++) {
        or_counter_inc(s, a->counter);
        or_gauge_inc(s, a->gauge);
        if (i % 2 == 0)
            or_gauge_dec(s, a->gauge);
        if (i % 100 == 0) {
            or_histogram_record(s, a->hist, i % 1000);
            or_cluster_stats_response(s, a->cs, i % 200 == 0 ? 200 : 503, a->id % 2 == 0);
        }
        or_counter_add(s, a->cs->upstream_cx_rx_bytes_total, 3);
    }
    return NULL;
}

static void test_threads_sum(void **state)
{
    struct or_stats_store *st = or_stats_store_new(WORKERS + 1);
    struct or_cluster_stats cs;
    assert_int_equal(or_stats_register_cluster(st, "backend", &cs), 0);
    uint32_t c = or_stats_counter(st, "test.counter");
    uint32_t g = or_stats_gauge(st, "test.gauge");
    uint32_t h = or_stats_histogram(st, "test.hist");
    _Atomic int go = 0;
    pthread_t t[WORKERS];
    struct worker_arg args[WORKERS];
    for (uint32_t i = 0; i < WORKERS; i++) {
        args[i] = (struct worker_arg){st, i, c, g, h, &cs, &go};
        assert_int_equal(pthread_create(&t[i], NULL, worker, &args[i]), 0);
    }
    atomic_store(&go, 1);
    /* Meanwhile the main thread registers enough stats to add pages, and reads sums. */
    char name[64];
    uint64_t last = 0;
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof(name), "late.stat_%d", i);
        assert_true(or_stats_counter(st, name) != 0);
        if (i % 100 == 0) {
            uint64_t v = or_stats_counter_value(st, c);
            assert_true(v >= last); /* sums only grow */
            last = v;
            or_stats_merge(st);
        }
    }
    for (uint32_t i = 0; i < WORKERS; i++)
        pthread_join(t[i], NULL);
    or_stats_merge(st);

    assert_int_equal(or_stats_counter_value(st, c), (uint64_t)WORKERS * ROUNDS);
    assert_int_equal(or_stats_gauge_value(st, g), (uint64_t)WORKERS * ROUNDS / 2);
    assert_int_equal(or_stats_counter_value(st, cs.upstream_cx_rx_bytes_total),
                     (uint64_t)WORKERS * ROUNDS * 3);
    struct or_stat_info info;
    assert_int_equal(or_stats_lookup(st, "test.hist", &info), 0);
    assert_int_equal(info.value, (uint64_t)WORKERS * ROUNDS / 100);
    /* Per worker: ROUNDS/100 responses, half 200 and half 503. */
    uint64_t per = ROUNDS / 100;
    assert_int_equal(or_stats_lookup(st, "cluster.backend.upstream_rq_completed", &info), 0);
    assert_int_equal(info.value, WORKERS * per);
    assert_int_equal(or_stats_lookup(st, "cluster.backend.upstream_rq_200", &info), 0);
    assert_int_equal(info.value, WORKERS * per / 2);
    assert_int_equal(or_stats_lookup(st, "cluster.backend.upstream_rq_5xx", &info), 0);
    assert_int_equal(info.value, WORKERS * per / 2);
    assert_int_equal(or_stats_lookup(st, "cluster.backend.internal.upstream_rq_503", &info), 0);
    assert_int_equal(info.value, 2 * per / 2); /* workers 0 and 2 are "internal" */
    assert_int_equal(or_stats_lookup(st, "cluster.backend.external.upstream_rq_completed", &info),
                     0);
    assert_int_equal(info.value, 2 * per);
    /* Codes never seen are not shown, like Envoy's lazily created stats. */
    assert_int_equal(or_stats_lookup(st, "cluster.backend.upstream_rq_404", &info), OR_ENOTFOUND);
    assert_int_equal(or_stats_lookup(st, "cluster.backend.upstream_rq_4xx", &info), OR_ENOTFOUND);
    or_stats_store_free(st);
}

/* ---- registration ---- */

static void test_registration(void **state)
{
    struct or_stats_store *st = or_stats_store_new(2);
    uint32_t a = or_stats_counter(st, "a.b");
    assert_true(a != 0);
    assert_int_equal(or_stats_counter(st, "a.b"), a);
    /* The same name with another kind is refused: the sink. */
    assert_int_equal(or_stats_gauge(st, "a.b"), 0);
    uint32_t g1 = or_stats_gauge(st, "g1"), g2 = or_stats_gauge(st, "g2");
    assert_true(g1 != 0 && g2 >= g1 + 2);
    uint32_t h1 = or_stats_histogram(st, "h1"), h2 = or_stats_histogram(st, "h2");
    assert_true(h1 != 0 && h2 != 0 && h1 != h2);
    assert_int_equal(or_stats_histogram(st, "h1"), h1);

    /* Handles stay valid across many pages. */
    uint32_t hs[3000];
    char name[64];
    for (int i = 0; i < 3000; i++) {
        snprintf(name, sizeof(name), "many.c%d", i);
        hs[i] = or_stats_counter(st, name);
    }
    struct or_stats_shard *s = or_stats_store_shard(st, 1);
    for (int i = 0; i < 3000; i++)
        or_counter_add(s, hs[i], (uint64_t)i);
    for (int i = 0; i < 3000; i++)
        assert_int_equal(or_stats_counter_value(st, hs[i]), (uint64_t)i);

    /* Main-thread gauge values add to shard deltas; negative totals read 0. */
    or_gauge_set_main(st, g1, 10);
    or_gauge_add(or_stats_store_shard(st, 0), g1, -3);
    assert_int_equal(or_stats_gauge_value(st, g1), 7);
    or_gauge_add(or_stats_store_shard(st, 0), g2, -3);
    assert_int_equal(or_stats_gauge_value(st, g2), 0);
    struct or_stat_info info;
    assert_int_equal(or_stats_lookup(st, "g2", &info), 0);
    assert_true(info.used);

    /* Recording into the sink is harmless. */
    or_counter_inc(s, 0);
    or_gauge_inc(s, 0);
    or_histogram_record(s, 0, 5);

    /* Lazy stats are hidden until used; registering eagerly later makes them visible. */
    uint32_t lz = or_stats_register(st, OR_STAT_COUNTER, "lazy.one", OR_STATS_F_LAZY);
    assert_int_equal(or_stats_lookup(st, "lazy.one", &info), OR_ENOTFOUND);
    or_counter_inc(s, lz);
    assert_int_equal(or_stats_lookup(st, "lazy.one", &info), 0);
    assert_int_equal(info.value, 1);
    uint32_t lz2 = or_stats_register(st, OR_STAT_GAUGE, "lazy.two", OR_STATS_F_LAZY);
    assert_int_equal(or_stats_lookup(st, "lazy.two", &info), OR_ENOTFOUND);
    assert_int_equal(or_stats_gauge(st, "lazy.two"), lz2);
    assert_int_equal(or_stats_lookup(st, "lazy.two", &info), 0);

    /* Groups: idempotent, elements appear when non-zero. */
    uint32_t base = or_stats_counter_group(st, "grp.", "code_", 100, 500);
    assert_true(base != 0);
    assert_int_equal(or_stats_counter_group(st, "grp.", "code_", 100, 500), base);
    assert_int_equal(or_stats_group_handle(base, 500, 500), 0);
    or_counter_add(s, or_stats_group_handle(base, 500, 318 - 100), 4);
    assert_int_equal(or_stats_lookup(st, "grp.code_318", &info), 0);
    assert_int_equal(info.value, 4);
    assert_int_equal(or_stats_lookup(st, "grp.code_319", &info), OR_ENOTFOUND);

    /* Reset: counters read 0 (and stay used), gauges keep their values. */
    or_stats_reset_counters(st);
    assert_int_equal(or_stats_counter_value(st, hs[2999]), 0);
    assert_int_equal(or_stats_lookup(st, "grp.code_318", &info), 0);
    assert_int_equal(info.value, 0);
    assert_true(info.used);
    assert_int_equal(or_stats_gauge_value(st, g1), 7);
    or_counter_inc(s, hs[2999]);
    assert_int_equal(or_stats_counter_value(st, hs[2999]), 1);
    or_stats_store_free(st);
}

/* The compact model at scale: 500 clusters (names with dots and colons), idempotent
 * re-registration, gauges and counters by handle, tags extracted on first need and again after a
 * reconfiguration, names without a dot or ending in one. */
static void test_many_clusters(void **state)
{
    enum { N = 500 };
    struct or_stats_store *st = or_stats_store_new(2);
    struct or_cluster_stats *cs = calloc(N, sizeof(*cs)), again;
    char name[64];
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof(name), i % 7 == 0 ? "svc.ns%d" : "c:%d", i);
        assert_int_equal(or_stats_register_cluster(st, name, &cs[i]), 0);
        assert_true(cs[i].upstream_rq_total != 0 && cs[i].rq.rq_time[OR_RQ_INTERNAL] != 0);
    }
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof(name), i % 7 == 0 ? "svc.ns%d" : "c:%d", i);
        assert_int_equal(or_stats_register_cluster(st, name, &again), 0);
        assert_memory_equal(&again, &cs[i], sizeof(again));
    }
    struct or_stats_shard *s = or_stats_store_shard(st, 0);
    for (int i = 0; i < N; i++) {
        or_gauge_set_main(st, cs[i].membership_total, (uint64_t)i);
        or_counter_add(s, cs[i].upstream_rq_total, (uint64_t)i + 1);
    }
    /* A counter handle is not a gauge: setting it is a no-op. */
    or_gauge_set_main(st, cs[3].upstream_rq_total, 99);
    or_stats_reset_counters(st);
    for (int i = 0; i < N; i++) {
        assert_int_equal(or_stats_gauge_value(st, cs[i].membership_total), (uint64_t)i);
        assert_int_equal(or_stats_counter_value(st, cs[i].upstream_rq_total), 0);
        or_counter_inc(s, cs[i].upstream_rq_total);
        assert_int_equal(or_stats_counter_value(st, cs[i].upstream_rq_total), 1);
    }

    struct or_stat_info info;
    assert_int_equal(or_stats_lookup(st, "cluster.c_1.upstream_rq_total", &info), 0);
    assert_int_equal(info.value, 1);
    assert_string_equal(info.tx_name, "cluster.upstream_rq_total");
    assert_int_equal(info.ntags, 1);
    assert_string_equal(info.tag_names[0], "envoy.cluster_name");
    assert_string_equal(info.tag_values[0], "c_1");
    /* "svc.ns7": the cluster_name extractor takes the first token only, like Envoy. */
    assert_int_equal(or_stats_lookup(st, "cluster.svc.ns7.upstream_rq_total", &info), 0);
    assert_string_equal(info.tx_name, "cluster.ns7.upstream_rq_total");
    assert_string_equal(info.tag_values[0], "svc");
    assert_int_equal(or_stats_lookup(st, "cluster.c_1.upstream_rq_tota", &info), OR_ENOTFOUND);
    assert_int_equal(or_stats_lookup(st, "cluster.c_1.", &info), OR_ENOTFOUND);
    assert_int_equal(or_stats_lookup(st, "nodot", &info), OR_ENOTFOUND);

    /* Names without a dot, or ending with one, are names like any other. */
    uint32_t a = or_stats_counter(st, "nodot"), b = or_stats_counter(st, "dot."),
             c = or_stats_counter(st, "");
    assert_true(a != 0 && b != 0 && c != 0 && a != b && b != c);
    assert_int_equal(or_stats_counter(st, "nodot"), a);
    assert_int_equal(or_stats_counter(st, "dot."), b);
    assert_int_equal(or_stats_lookup(st, "dot.", &info), 0);
    assert_string_equal(info.tx_name, "dot.");

    /* Tags already extracted are recomputed after a reconfiguration. */
    Google__Protobuf__BoolValue no = GOOGLE__PROTOBUF__BOOL_VALUE__INIT;
    Envoy__Config__Metrics__V3__StatsConfig cfg = ENVOY__CONFIG__METRICS__V3__STATS_CONFIG__INIT;
    cfg.use_all_default_tags = &no;
    struct or_err_detail err = {{0}, {0}};
    assert_int_equal(or_stats_configure(st, &cfg, &err), 0);
    assert_int_equal(or_stats_lookup(st, "cluster.c_1.upstream_rq_total", &info), 0);
    assert_string_equal(info.tx_name, "cluster.c_1.upstream_rq_total");
    assert_int_equal(info.ntags, 0);

    /* Unused histograms render as such; a merge gives a used one its state. */
    or_histogram_record(s, cs[2].upstream_cx_length_ms, 7);
    or_stats_merge(st);
    or_stats_merge(st);
    assert_int_equal(or_stats_lookup(st, "cluster.c_2.upstream_cx_length_ms", &info), 0);
    assert_true(info.used);
    assert_int_equal(info.value, 1);
    assert_int_equal(or_stats_lookup(st, "cluster.c_4.upstream_cx_length_ms", &info), 0);
    assert_false(info.used);
    struct evbuffer *out = evbuffer_new();
    struct or_stats_render_opts opts = {0};
    opts.type = OR_STATS_TYPE_HISTOGRAMS;
    assert_int_equal(or_stats_render(st, OR_STATS_FMT_TEXT, &opts, out), 0);
    size_t len = evbuffer_get_length(out);
    char *text = (char *)evbuffer_pullup(out, (ssize_t)len);
    assert_non_null(memmem(text, len, "cluster.c_4.upstream_cx_length_ms: No recorded values\n",
                           strlen("cluster.c_4.upstream_cx_length_ms: No recorded values\n")));
    assert_non_null(memmem(text, len, "cluster.c_2.upstream_cx_length_ms: P0(nan,7) ",
                           strlen("cluster.c_2.upstream_cx_length_ms: P0(nan,7) ")));
    evbuffer_free(out);
    free(cs);
    or_stats_store_free(st);
}

static void test_sanitize(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"0.0.0.0:15000", "0.0.0.0_15000"},
        {"[::]:15001", "[__]_15001"},
        {"[::1]:80", "[__1]_80"},
        {"unix://tmp/sock", "unix_tmp/sock"},
        {"a:/b", "a_b"},
        {".foo.", "foo"},
        {"cds_egress_mesh_backend-vn_http_8080", "cds_egress_mesh_backend-vn_http_8080"},
    };
    char buf[64];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = or_stats_sanitize_name(cases[i].in, strlen(cases[i].in), buf, sizeof(buf));
        assert_string_equal(buf, cases[i].out);
        assert_int_equal(n, strlen(cases[i].out));
    }
    /* Truncation keeps the full length as the result, like snprintf. */
    assert_int_equal(or_stats_sanitize_name("abcdef", 6, buf, 4), 6);
    assert_string_equal(buf, "abc");
    assert_int_equal(or_stats_version_number("1a2b3c4d"), 0x1a2b3c);
    assert_int_equal(or_stats_version_number("xyz"), 0);
}

static void test_blocks(void **state)
{
    struct or_stats_store *st = or_stats_store_new(2);
    struct or_server_stats ss;
    struct or_http_stats hs;
    struct or_http_listener_stats hls;
    struct or_listener_stats ls;
    struct or_listener_manager_stats lm;
    struct or_cluster_manager_stats cm;
    struct or_control_plane_stats cp;
    struct or_cluster_stats cs, cs2;
    assert_int_equal(or_stats_register_server(st, &ss), 0);
    assert_int_equal(or_stats_register_http(st, "ingress", &hs), 0);
    assert_int_equal(or_stats_register_http_listener(st, "0.0.0.0:15000", "ingress", &hls), 0);
    assert_int_equal(or_stats_register_listener(st, "0.0.0.0:15000", &ls), 0);
    assert_int_equal(or_stats_register_listener_manager(st, &lm), 0);
    assert_int_equal(or_stats_register_cluster_manager(st, &cm), 0);
    assert_int_equal(or_stats_register_control_plane(st, &cp), 0);
    assert_int_equal(or_stats_register_cluster(st, "cds_egress_backend", &cs), 0);
    /* A CDS update of the same cluster gets the same handles. */
    assert_int_equal(or_stats_register_cluster(st, "cds_egress_backend", &cs2), 0);
    assert_memory_equal(&cs, &cs2, sizeof(cs));
    assert_int_equal(cs.upstream_rq_completed, cs.rq.completed[OR_RQ_ALL]);

    static const char *const names[] = {
        "server.live",
        "server.state",
        "server.uptime",
        "server.memory_allocated",
        "server.concurrency",
        "server.version",
        "http.ingress.downstream_cx_total",
        "http.ingress.downstream_rq_2xx",
        "http.ingress.no_route",
        "http.ingress.rq_total",
        "http.ingress.tracing.random_sampling",
        "listener.0.0.0.0_15000.http.ingress.downstream_rq_5xx",
        "listener.0.0.0.0_15000.downstream_cx_total",
        "listener.0.0.0.0_15000.downstream_cx_active",
        "listener_manager.total_listeners_active",
        "listener_manager.listener_create_failure",
        "cluster_manager.active_clusters",
        "cluster_manager.warming_clusters",
        "control_plane.connected_state",
        "cluster.cds_egress_backend.upstream_cx_total",
        "cluster.cds_egress_backend.upstream_rq_pending_overflow",
        "cluster.cds_egress_backend.circuit_breakers.default.cx_open",
        "cluster.cds_egress_backend.circuit_breakers.high.rq_pending_open",
        "cluster.cds_egress_backend.membership_healthy",
        "cluster.cds_egress_backend.default.total_match_count",
        "cluster.cds_egress_backend.upstream_rq_completed",
    };
    struct or_stat_info info;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (or_stats_lookup(st, names[i], &info) != 0)
            fail_msg("missing %s", names[i]);

    struct or_stats_shard *w = or_stats_store_shard(st, 0);
    or_http_stats_response(w, &hs, &hls, 204);
    or_http_stats_response(w, &hs, NULL, 599);
    or_http_stats_response(w, &hs, &hls, 99); /* no class: only completed */
    assert_int_equal(or_stats_counter_value(st, hs.downstream_rq_2xx), 1);
    assert_int_equal(or_stats_counter_value(st, hs.downstream_rq_5xx), 1);
    assert_int_equal(or_stats_counter_value(st, hs.downstream_rq_completed), 3);
    assert_int_equal(or_stats_counter_value(st, hls.downstream_rq_2xx), 1);
    assert_int_equal(or_stats_counter_value(st, hls.downstream_rq_completed), 2);

    or_stats_server_refresh(st, &ss, 0, 42);
    assert_int_equal(or_stats_gauge_value(st, ss.live), 1);
    assert_int_equal(or_stats_gauge_value(st, ss.state), 0);
    assert_int_equal(or_stats_gauge_value(st, ss.uptime), 42);
    /* mallinfo2() reads 0 under ASan (its own allocator); the resident size is always there. */
    assert_true(or_stats_gauge_value(st, ss.memory_physical_size) > 0);
    or_stats_server_refresh(st, &ss, 1, 43);
    assert_int_equal(or_stats_gauge_value(st, ss.live), 0);
    assert_int_equal(or_stats_gauge_value(st, ss.state), 1);

    or_cluster_stats_rq_time(w, &cs, true, 12);
    or_stats_merge(st);
    assert_int_equal(or_stats_lookup(st, "cluster.cds_egress_backend.upstream_rq_time", &info), 0);
    assert_int_equal(info.value, 1);
    assert_int_equal(
        or_stats_lookup(st, "cluster.cds_egress_backend.internal.upstream_rq_time", &info), 0);
    assert_int_equal(
        or_stats_lookup(st, "cluster.cds_egress_backend.external.upstream_rq_time", &info),
        OR_ENOTFOUND);
    or_stats_store_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recording_has_no_lock_prefix),
        cmocka_unit_test(test_threads_sum),
        cmocka_unit_test(test_registration),
        cmocka_unit_test(test_many_clusters),
        cmocka_unit_test(test_sanitize),
        cmocka_unit_test(test_blocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
