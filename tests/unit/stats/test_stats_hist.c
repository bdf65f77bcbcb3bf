/* Histograms: circllhist bins, Envoy's quantiles/buckets/sums to the digit (golden values from
 * Envoy's own stats_render_test and prometheus_stats_test), interval vs cumulative, error bounds,
 * and the number format (fmt "{}"). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "proxy/stats/stats.h"
#include "proxy/stats/stats_internal.h"

static char *render(struct or_stats_store *st, enum or_stats_format fmt,
                    const struct or_stats_render_opts *o)
{
    struct evbuffer *b = evbuffer_new();
    assert_int_equal(or_stats_render(st, fmt, o, b), 0);
    size_t n = evbuffer_get_length(b);
    char *s = malloc(n + 1);
    evbuffer_remove(b, s, n);
    s[n] = '\0';
    evbuffer_free(b);
    return s;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void record_all(struct or_stats_store *st, uint32_t h, const uint64_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        or_histogram_record(or_stats_store_shard(st, (uint32_t)(i % or_stats_store_shards(st))), h,
                            v[i]);
}

static void test_bins(void **state)
{
    unsigned d, i;
    double lo, w;
    assert_false(or_stats__hist_bin(0, &d, &i));
    assert_true(or_stats__hist_bin(1, &d, &i));
    or_stats__hist_bin_bounds(d, i, &lo, &w);
    assert_true(lo == 1.0 && w == 0.1);
    assert_true(or_stats__hist_bin(9, &d, &i));
    or_stats__hist_bin_bounds(d, i, &lo, &w);
    assert_true(lo == 9.0);
    static const struct {
        uint64_t v;
        double lower, width;
    } cases[] = {{10, 10, 1},    {99, 99, 1},       {100, 100, 10},    {203, 200, 10},
                 {999, 990, 10}, {1234, 1200, 100}, {5000, 5000, 100}, {3599999, 3500000, 100000}};
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        assert_true(or_stats__hist_bin(cases[k].v, &d, &i));
        or_stats__hist_bin_bounds(d, i, &lo, &w);
        if (lo != cases[k].lower || w != cases[k].width)
            fail_msg("v=%llu: [%g, +%g), want [%g, +%g)", (unsigned long long)cases[k].v, lo, w,
                     cases[k].lower, cases[k].width);
    }
    /* Beyond INT64_MAX everything lands in the top bin, like circllhist's int64 input. */
    assert_true(or_stats__hist_bin(UINT64_MAX, &d, &i));
    assert_int_equal(d, 18);
    assert_int_equal(i, 82);
    /* Every value lands in a bin that contains it. */
    for (uint64_t v = 1; v < 200000; v += 7) {
        assert_true(or_stats__hist_bin(v, &d, &i));
        or_stats__hist_bin_bounds(d, i, &lo, &w);
        assert_true((double)v >= lo && (double)v < lo + w + 1e-9);
    }
}

/* Envoy's StatsRenderTest.TextHistogramNoBuckets / JsonHistogramNoBuckets / Cumulative /
 * Disjoint, with the samples {200, 300, 300}. */
static void test_envoy_golden_render(void **state)
{
    struct or_stats_store *st = or_stats_store_new(3);
    uint32_t h = or_stats_histogram(st, "h1");
    const uint64_t v[] = {200, 300, 300};
    record_all(st, h, v, 3);
    or_stats_merge(st);

    char *s = render(st, OR_STATS_FMT_TEXT, NULL);
    assert_string_equal(s, "h1: P0(200,200) P25(207.5,207.5) P50(302.5,302.5) P75(306.25,306.25) "
                           "P90(308.5,308.5) P95(309.25,309.25) P99(309.85,309.85) "
                           "P99.5(309.925,309.925) P99.9(309.985,309.985) P100(310,310)\n");
    free(s);

    struct or_stats_render_opts o = {.hist_mode = OR_STATS_HIST_CUMULATIVE};
    s = render(st, OR_STATS_FMT_TEXT, &o);
    assert_string_equal(s, "h1: B0.5(0,0) B1(0,0) B5(0,0) B10(0,0) B25(0,0) B50(0,0) B100(0,0) "
                           "B250(1,1) B500(3,3) B1000(3,3) B2500(3,3) B5000(3,3) B10000(3,3) "
                           "B30000(3,3) B60000(3,3) B300000(3,3) B600000(3,3) B1.8e+06(3,3) "
                           "B3.6e+06(3,3)\n");
    free(s);
    o.hist_mode = OR_STATS_HIST_DISJOINT;
    s = render(st, OR_STATS_FMT_TEXT, &o);
    assert_string_equal(s, "h1: B0.5(0,0) B1(0,0) B5(0,0) B10(0,0) B25(0,0) B50(0,0) B100(0,0) "
                           "B250(1,1) B500(2,2) B1000(0,0) B2500(0,0) B5000(0,0) B10000(0,0) "
                           "B30000(0,0) B60000(0,0) B300000(0,0) B600000(0,0) B1.8e+06(0,0) "
                           "B3.6e+06(0,0)\n");
    free(s);

    s = render(st, OR_STATS_FMT_JSON, NULL);
    assert_string_equal(
        s, "{\"stats\":[{\"histograms\":{\"supported_quantiles\":[0,25,50,75,90,95,99,99.5,99.9,"
           "100],\"computed_quantiles\":[{\"name\":\"h1\",\"values\":[{\"cumulative\":200,"
           "\"interval\":200},{\"cumulative\":207.5,\"interval\":207.5},{\"cumulative\":302.5,"
           "\"interval\":302.5},{\"cumulative\":306.25,\"interval\":306.25},{\"cumulative\":308."
           "5,\"interval\":308.5},{\"cumulative\":309.25,\"interval\":309.25},{\"cumulative\":"
           "309.85,\"interval\":309.85},{\"cumulative\":309.925,\"interval\":309.925},{"
           "\"cumulative\":309.985,\"interval\":309.985},{\"cumulative\":310,\"interval\":310}]}"
           "]}}]}");
    free(s);
    o.hist_mode = OR_STATS_HIST_CUMULATIVE;
    s = render(st, OR_STATS_FMT_JSON, &o);
    assert_non_null(strstr(s, "{\"stats\":[{\"histograms\":[{\"name\":\"h1\",\"buckets\":[{"
                              "\"upper_bound\":0.5,\"interval\":0,\"cumulative\":0},"));
    assert_non_null(strstr(s, "{\"upper_bound\":250,\"interval\":1,\"cumulative\":1},{\"upper_"
                              "bound\":500,\"interval\":3,\"cumulative\":3}"));
    assert_non_null(strstr(s, "{\"upper_bound\":3600000,\"interval\":3,\"cumulative\":3}]}]}]}"));
    free(s);

    /* Prometheus: cumulative buckets, midpoint sum (205 + 2 * 305), count. */
    s = render(st, OR_STATS_FMT_PROMETHEUS, NULL);
    assert_non_null(strstr(s, "# TYPE envoy_h1 histogram\nenvoy_h1_bucket{le=\"0.5\"} 0\n"));
    assert_non_null(strstr(s, "envoy_h1_bucket{le=\"250\"} 1\nenvoy_h1_bucket{le=\"500\"} 3\n"));
    assert_non_null(strstr(s, "envoy_h1_bucket{le=\"1800000\"} 3\n"));
    assert_non_null(strstr(s, "envoy_h1_bucket{le=\"+Inf\"} 3\nenvoy_h1_sum{} 815\n"
                              "envoy_h1_count{} 3\n\n"));
    free(s);
    or_stats_store_free(st);
}

/* Envoy's PrometheusStatsFormatterTest.OutputWithAllMetricTypes and HistogramWithHighCounts. */
static void test_envoy_golden_prometheus(void **state)
{
    struct or_stats_store *st = or_stats_store_new(2);
    uint32_t h = or_stats_histogram(st, "cluster.test_1.upstream_rq_time");
    const uint64_t v[] = {50, 20, 30, 70, 100, 5000, 200};
    record_all(st, h, v, 7);
    uint32_t big = or_stats_histogram(st, "histogram1");
    struct or_stats_shard *sh = or_stats_store_shard(st, 0);
    for (int i = 0; i < 100000; i++)
        or_histogram_record(sh, big, 1);
    for (int i = 0; i < 1000000; i++)
        or_histogram_record(sh, big, 100);
    /* 10^8 samples of 1000 take too long one by one: add them straight into the bin. */
    {
        unsigned d, idx;
        assert_true(or_stats__hist_bin(1000, &d, &idx));
        or_histogram_record(sh, big, 1000);
        struct or_stats_hist_cell *page =
            atomic_load(&sh->hist_pages[big >> OR_STATS_HIST_PAGE_SHIFT]);
        _Atomic uint64_t *bins =
            atomic_load(&page[big & (OR_STATS_HIST_PAGE_CELLS - 1u)].decades[d]);
        atomic_store(&bins[idx], 100000000);
    }
    or_stats_merge(st);

    char *s = render(st, OR_STATS_FMT_PROMETHEUS, NULL);
    static const char *const want_rq_time =
        "# TYPE envoy_cluster_upstream_rq_time histogram\n"
        "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"test_1\",le=\"0.5\"} 0\n"
        "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"test_1\",le=\"1\"} 0\n"
        "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"test_1\",le=\"5\"} 0\n"
        "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"test_1\",le=\"10\"} 0\n"
        "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"test_1\",le=\"25\"} 1\n"
        "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"test_1\",le=\"50\"} 2\n"
        "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"test_1\",le=\"100\"} 4\n"
        "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"test_1\",le=\"250\"} 6\n"
        "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"test_1\",le=\"500\"} 6\n"
        "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"test_1\",le=\"1000\"} 6\n"
        "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"test_1\",le=\"2500\"} 6\n"
        "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"test_1\",le=\"5000\"} 6\n"
        "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"test_1\",le=\"10000\"} 7\n"
        "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"test_1\",le=\"30000\"} 7\n"
        "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"test_1\",le=\"60000\"} 7\n"
        "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"test_1\",le=\"300000\"} 7\n"
        "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"test_1\",le=\"600000\"} 7\n"
        "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"test_1\",le=\"1800000\"} 7\n"
        "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"test_1\",le=\"3600000\"} 7\n"
        "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"test_1\",le=\"+Inf\"} 7\n"
        "envoy_cluster_upstream_rq_time_sum{envoy_cluster_name=\"test_1\"} 5532\n"
        "envoy_cluster_upstream_rq_time_count{envoy_cluster_name=\"test_1\"} 7\n\n";
    if (strstr(s, want_rq_time) == NULL)
        fail_msg("missing upstream_rq_time block in:\n%s", s);
    assert_non_null(strstr(s, "envoy_histogram1_bucket{le=\"1\"} 0\n"
                              "envoy_histogram1_bucket{le=\"5\"} 100000\n"));
    assert_non_null(strstr(s, "envoy_histogram1_bucket{le=\"250\"} 1100000\n"));
    assert_non_null(strstr(s, "envoy_histogram1_bucket{le=\"2500\"} 101100000\n"));
    assert_non_null(strstr(s, "envoy_histogram1_bucket{le=\"+Inf\"} 101100000\n"
                              "envoy_histogram1_sum{} 105105105000\n"
                              "envoy_histogram1_count{} 101100000\n"));
    free(s);
    or_stats_store_free(st);
}

/* "interval" covers the samples between the last two merges; "nan" when there were none. */
static void test_interval_and_cumulative(void **state)
{
    struct or_stats_store *st = or_stats_store_new(2);
    uint32_t h = or_stats_histogram(st, "h");
    struct or_stats_shard *w = or_stats_store_shard(st, 0);

    char *s = render(st, OR_STATS_FMT_TEXT, NULL);
    assert_string_equal(s, "h: No recorded values\n");
    free(s);
    /* Recorded but not merged yet: still nothing, like Envoy before its stats flush. */
    or_histogram_record(w, h, 10);
    s = render(st, OR_STATS_FMT_TEXT, NULL);
    assert_string_equal(s, "h: No recorded values\n");
    free(s);
    or_stats_merge(st);
    s = render(st, OR_STATS_FMT_TEXT, NULL);
    assert_string_equal(s, "h: P0(10,10) P25(10.25,10.25) P50(10.5,10.5) P75(10.75,10.75) "
                           "P90(10.9,10.9) P95(10.95,10.95) P99(10.99,10.99) "
                           "P99.5(10.995,10.995) P99.9(10.999,10.999) P100(11,11)\n");
    free(s);
    or_stats_merge(st);
    s = render(st, OR_STATS_FMT_TEXT, NULL);
    assert_string_equal(s, "h: P0(nan,10) P25(nan,10.25) P50(nan,10.5) P75(nan,10.75) "
                           "P90(nan,10.9) P95(nan,10.95) P99(nan,10.99) P99.5(nan,10.995) "
                           "P99.9(nan,10.999) P100(nan,11)\n");
    free(s);
    s = render(st, OR_STATS_FMT_JSON, NULL);
    assert_non_null(strstr(s, "{\"cumulative\":10,\"interval\":null}"));
    free(s);
    /* Zero has a bin of its own, [0, 0]. */
    or_histogram_record(or_stats_store_shard(st, 1), h, 0);
    or_stats_merge(st);
    s = render(st, OR_STATS_FMT_TEXT, NULL);
    assert_string_equal(s, "h: P0(0,0) P25(0,0) P50(0,0) P75(0,10.5) P90(0,10.8) P95(0,10.9) "
                           "P99(0,10.98) P99.5(0,10.99) P99.9(0,10.998) P100(0,11)\n");
    free(s);
    or_stats_store_free(st);
}

/* Quantiles stay within one bin (<= 10% of the value, as in Envoy) of the exact ones. */
static void test_quantile_error_bounds(void **state)
{
    struct or_stats_store *st = or_stats_store_new(4);
    uint32_t h = or_stats_histogram(st, "latency");
    enum { N = 20000 };
    uint64_t *v = malloc(N * sizeof(*v));
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < N; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        /* log-uniform between 1 and 10^6 */
        v[i] = (uint64_t)pow(10.0, (double)(x % 1000000) / 1000000.0 * 6.0);
    }
    record_all(st, h, v, N);
    or_stats_merge(st);
    struct or_stat_info info;
    assert_int_equal(or_stats_lookup(st, "latency", &info), 0);
    assert_true(info.used);
    assert_int_equal(info.value, N);

    qsort(v, N, sizeof(*v), cmp_u64);
    const struct or_hist_main *m = NULL;
    for (size_t i = 0; i < st->nstats; i++) {
        char name[64];
        if (or_stats__name_len(st, &st->stats[i]) >= sizeof(name))
            continue;
        or_stats__name(st, &st->stats[i], name);
        if (strcmp(name, "latency") == 0)
            m = st->stats[i].u.hist;
    }
    assert_non_null(m);
    for (unsigned q = 0; q < OR_STATS_NQUANTILES; q++) {
        double rank = or_stats__quantiles[q] * (N - 1);
        double exact = (double)v[(size_t)rank];
        double got = m->cumulative.q[q];
        if (fabs(got - exact) > exact * 0.10 + 1.0)
            fail_msg("P%s: %g vs exact %g", or_stats__quantile_labels[q], got, exact);
    }
    free(v);
    or_stats_store_free(st);
}

static void test_number_formats(void **state)
{
    /* fmt::format("{}"): shortest round trip, fixed for 1e-4 <= |v| < 1e16. */
    static const struct {
        double v;
        const char *want;
    } cases[] = {
        {0, "0"},
        {207.5, "207.5"},
        {309.985, "309.985"},
        {0.1, "0.1"},
        {1e-5, "1e-05"},
        {0.0001, "0.0001"},
        {1e6, "1000000"},
        {300000, "300000"},
        {1e15, "1000000000000000"},
        {1e16, "1e+16"},
        {1.5e17, "1.5e+17"},
        {123456789012.5, "123456789012.5"},
        {11.000000000000002, "11.000000000000002"},
        {NAN, "nan"},
        {-2.5, "-2.5"},
    };
    char buf[64];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        or_stats__fmt_double(cases[i].v, buf);
        if (strcmp(buf, cases[i].want) != 0)
            fail_msg("%.17g: %s, want %s", cases[i].v, buf, cases[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bins),
        cmocka_unit_test(test_envoy_golden_render),
        cmocka_unit_test(test_envoy_golden_prometheus),
        cmocka_unit_test(test_interval_and_cumulative),
        cmocka_unit_test(test_quantile_error_bounds),
        cmocka_unit_test(test_number_formats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
