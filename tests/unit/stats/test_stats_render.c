/* Golden renders of one small store in Envoy's text, JSON and Prometheus layouts, with usedonly,
 * filter and type. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "proxy/router/regex.h"
#include "proxy/stats/stats.h"

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

static struct or_regex *re(const char *pattern)
{
    return or_regex_compile(pattern, strlen(pattern), NULL);
}

static void expect(char *got, const char *want)
{
    if (strcmp(got, want) != 0)
        fail_msg("got:\n%s\nwant:\n%s", got, want);
    free(got);
}

static struct or_stats_store *make_store(void)
{
    struct or_stats_store *st = or_stats_store_new(3);
    struct or_stats_shard *w0 = or_stats_store_shard(st, 0), *w1 = or_stats_store_shard(st, 1);
    /* Registered out of order on purpose. */
    uint32_t zz = or_stats_counter(st, "zz.unused");
    uint32_t bcx = or_stats_counter(st, "cluster.b.upstream_cx_total");
    uint32_t acx = or_stats_counter(st, "cluster.a.upstream_cx_total");
    uint32_t aact = or_stats_gauge(st, "cluster.a.upstream_cx_active");
    uint32_t a200 = or_stats_counter(st, "cluster.a.upstream_rq_200");
    uint32_t h2xx = or_stats_counter(st, "http.ingress.downstream_rq_2xx");
    uint32_t live = or_stats_gauge(st, "server.live");
    uint32_t rqt = or_stats_histogram(st, "cluster.a.upstream_rq_time");
    (void)or_stats_histogram(st, "http.ingress.downstream_rq_time");
    (void)zz;
    or_counter_add(w0, bcx, 2);
    or_counter_add(w0, acx, 3);
    or_counter_add(w1, acx, 2);
    or_gauge_inc(w0, aact);
    or_gauge_inc(w1, aact);
    or_gauge_dec(w0, aact);
    or_counter_add(w1, a200, 3);
    or_counter_add(w0, h2xx, 3);
    or_gauge_set_main(st, live, 1);
    or_histogram_record(w0, rqt, 20);
    or_histogram_record(w1, rqt, 20);
    or_histogram_record(w1, rqt, 300);
    or_stats_merge(st);
    return st;
}

static const char *const rq_time_text =
    "cluster.a.upstream_rq_time: P0(20,20) P25(20.375,20.375) P50(20.75,20.75) "
    "P75(302.5,302.5) P90(307,307) P95(308.5,308.5) P99(309.7,309.7) P99.5(309.85,309.85) "
    "P99.9(309.97,309.97) P100(310,310)\n";

static void test_text(void **state)
{
    struct or_stats_store *st = make_store();
    char want[2048];
    snprintf(want, sizeof(want),
             "cluster.a.upstream_cx_active: 1\n"
             "cluster.a.upstream_cx_total: 5\n"
             "cluster.a.upstream_rq_200: 3\n"
             "cluster.b.upstream_cx_total: 2\n"
             "http.ingress.downstream_rq_2xx: 3\n"
             "server.live: 1\n"
             "zz.unused: 0\n"
             "%s"
             "http.ingress.downstream_rq_time: No recorded values\n",
             rq_time_text);
    expect(render(st, OR_STATS_FMT_TEXT, NULL), want);

    struct or_stats_render_opts o = {.used_only = true};
    snprintf(want, sizeof(want),
             "cluster.a.upstream_cx_active: 1\n"
             "cluster.a.upstream_cx_total: 5\n"
             "cluster.a.upstream_rq_200: 3\n"
             "cluster.b.upstream_cx_total: 2\n"
             "http.ingress.downstream_rq_2xx: 3\n"
             "server.live: 1\n"
             "%s",
             rq_time_text);
    expect(render(st, OR_STATS_FMT_TEXT, &o), want);

    /* RE2 partial match on the full name. */
    struct or_regex *rx = re("a\\.upstream_(cx|rq_time)");
    assert_non_null(rx);
    o.used_only = false;
    o.filter = rx;
    snprintf(want, sizeof(want),
             "cluster.a.upstream_cx_active: 1\n"
             "cluster.a.upstream_cx_total: 5\n"
             "%s",
             rq_time_text);
    expect(render(st, OR_STATS_FMT_TEXT, &o), want);
    o.type = OR_STATS_TYPE_GAUGES;
    expect(render(st, OR_STATS_FMT_TEXT, &o), "cluster.a.upstream_cx_active: 1\n");
    o.type = OR_STATS_TYPE_HISTOGRAMS;
    expect(render(st, OR_STATS_FMT_TEXT, &o), rq_time_text);
    o.type = OR_STATS_TYPE_TEXT_READOUTS;
    expect(render(st, OR_STATS_FMT_TEXT, &o), "");
    or_regex_free(rx);
    or_stats_store_free(st);
}

static void test_json(void **state)
{
    struct or_stats_store *st = make_store();
    expect(render(st, OR_STATS_FMT_JSON, NULL),
           "{\"stats\":[{\"name\":\"cluster.a.upstream_cx_active\",\"value\":1},"
           "{\"name\":\"cluster.a.upstream_cx_total\",\"value\":5},"
           "{\"name\":\"cluster.a.upstream_rq_200\",\"value\":3},"
           "{\"name\":\"cluster.b.upstream_cx_total\",\"value\":2},"
           "{\"name\":\"http.ingress.downstream_rq_2xx\",\"value\":3},"
           "{\"name\":\"server.live\",\"value\":1},"
           "{\"name\":\"zz.unused\",\"value\":0},"
           "{\"histograms\":{\"supported_quantiles\":[0,25,50,75,90,95,99,99.5,99.9,100],"
           "\"computed_quantiles\":[{\"name\":\"cluster.a.upstream_rq_time\",\"values\":["
           "{\"cumulative\":20,\"interval\":20},{\"cumulative\":20.375,\"interval\":20.375},"
           "{\"cumulative\":20.75,\"interval\":20.75},{\"cumulative\":302.5,\"interval\":302.5},"
           "{\"cumulative\":307,\"interval\":307},{\"cumulative\":308.5,\"interval\":308.5},"
           "{\"cumulative\":309.7,\"interval\":309.7},{\"cumulative\":309.85,\"interval\":309.85},"
           "{\"cumulative\":309.97,\"interval\":309.97},{\"cumulative\":310,\"interval\":310}]},"
           "{\"name\":\"http.ingress.downstream_rq_time\",\"values\":["
           "{\"cumulative\":null,\"interval\":null},{\"cumulative\":null,\"interval\":null},"
           "{\"cumulative\":null,\"interval\":null},{\"cumulative\":null,\"interval\":null},"
           "{\"cumulative\":null,\"interval\":null},{\"cumulative\":null,\"interval\":null},"
           "{\"cumulative\":null,\"interval\":null},{\"cumulative\":null,\"interval\":null},"
           "{\"cumulative\":null,\"interval\":null},{\"cumulative\":null,\"interval\":null}]}]}}"
           "]}");

    /* The App Mesh agent's query: /stats?filter=control_plane.connected_state&format=json. */
    uint32_t cs = or_stats_gauge(st, "control_plane.connected_state");
    or_gauge_set_main(st, cs, 1);
    struct or_regex *rx = re("control_plane.connected_state");
    struct or_stats_render_opts o = {.filter = rx};
    expect(render(st, OR_STATS_FMT_JSON, &o),
           "{\"stats\":[{\"name\":\"control_plane.connected_state\",\"value\":1}]}");
    or_regex_free(rx);
    /* Nothing matches: an empty list, and no histograms object for unused histograms. */
    rx = re("nothing");
    o.filter = rx;
    expect(render(st, OR_STATS_FMT_JSON, &o), "{\"stats\":[]}");
    or_regex_free(rx);
    o.filter = NULL;
    o.used_only = true;
    o.type = OR_STATS_TYPE_HISTOGRAMS;
    char *s = render(st, OR_STATS_FMT_JSON, &o);
    assert_non_null(strstr(s, "{\"stats\":[{\"histograms\":{\"supported_quantiles\""));
    assert_null(strstr(s, "downstream_rq_time"));
    free(s);
    or_stats_store_free(st);
}

static void test_prometheus(void **state)
{
    struct or_stats_store *st = make_store();
    static const char *const buckets[] = {
        "0.5",  "1",    "5",     "10",    "25",    "50",     "100",    "250",     "500",    "1000",
        "2500", "5000", "10000", "30000", "60000", "300000", "600000", "1800000", "3600000"};
    /* Samples 20, 20, 300: bins [20,21) x2, [300,310) x1. */
    static const int rq_time_counts[] = {0, 0, 0, 0, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3};
    struct evbuffer *w = evbuffer_new();
    evbuffer_add_printf(
        w, "# TYPE envoy_cluster_upstream_cx_total counter\n"
           "envoy_cluster_upstream_cx_total{envoy_cluster_name=\"a\"} 5\n"
           "envoy_cluster_upstream_cx_total{envoy_cluster_name=\"b\"} 2\n"
           "\n"
           "# TYPE envoy_cluster_upstream_rq counter\n"
           "envoy_cluster_upstream_rq{envoy_response_code=\"200\",envoy_cluster_name=\"a\"} 3\n"
           "\n"
           "# TYPE envoy_http_downstream_rq_xx counter\n"
           "envoy_http_downstream_rq_xx{envoy_response_code_class=\"2\","
           "envoy_http_conn_manager_prefix=\"ingress\"} 3\n"
           "\n"
           "# TYPE envoy_zz_unused counter\n"
           "envoy_zz_unused{} 0\n"
           "\n"
           "# TYPE envoy_cluster_upstream_cx_active gauge\n"
           "envoy_cluster_upstream_cx_active{envoy_cluster_name=\"a\"} 1\n"
           "\n"
           "# TYPE envoy_server_live gauge\n"
           "envoy_server_live{} 1\n"
           "\n"
           "# TYPE envoy_cluster_upstream_rq_time histogram\n");
    for (int i = 0; i < 19; i++)
        evbuffer_add_printf(
            w, "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"a\",le=\"%s\"} %d\n",
            buckets[i], rq_time_counts[i]);
    evbuffer_add_printf(
        w, "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"a\",le=\"+Inf\"} 3\n"
           "envoy_cluster_upstream_rq_time_sum{envoy_cluster_name=\"a\"} 346\n"
           "envoy_cluster_upstream_rq_time_count{envoy_cluster_name=\"a\"} 3\n"
           "\n"
           "# TYPE envoy_http_downstream_rq_time histogram\n");
    for (int i = 0; i < 19; i++)
        evbuffer_add_printf(w,
                            "envoy_http_downstream_rq_time_bucket{envoy_http_conn_manager_prefix="
                            "\"ingress\",le=\"%s\"} 0\n",
                            buckets[i]);
    evbuffer_add_printf(
        w, "envoy_http_downstream_rq_time_bucket{envoy_http_conn_manager_prefix=\"ingress\","
           "le=\"+Inf\"} 0\n"
           "envoy_http_downstream_rq_time_sum{envoy_http_conn_manager_prefix=\"ingress\"} 0\n"
           "envoy_http_downstream_rq_time_count{envoy_http_conn_manager_prefix=\"ingress\"} 0\n"
           "\n");
    size_t n = evbuffer_get_length(w);
    char *want = calloc(1, n + 1);
    evbuffer_remove(w, want, n);
    evbuffer_free(w);
    expect(render(st, OR_STATS_FMT_PROMETHEUS, NULL), want);
    free(want);

    /* usedonly drops zz.unused and the empty histogram; filter matches full names. */
    struct or_regex *rx = re("^cluster\\.b\\.|server");
    struct or_stats_render_opts o = {.used_only = true, .filter = rx};
    expect(render(st, OR_STATS_FMT_PROMETHEUS, &o),
           "# TYPE envoy_cluster_upstream_cx_total counter\n"
           "envoy_cluster_upstream_cx_total{envoy_cluster_name=\"b\"} 2\n"
           "\n"
           "# TYPE envoy_server_live gauge\n"
           "envoy_server_live{} 1\n"
           "\n");
    or_regex_free(rx);
    or_stats_store_free(st);

    /* Tag values are escaped, names sanitized. */
    st = or_stats_store_new(1);
    (void)or_stats_counter(st, "cluster.we\"ird\\na-me.upstream_cx_total");
    expect(render(st, OR_STATS_FMT_PROMETHEUS, NULL),
           "# TYPE envoy_cluster_upstream_cx_total counter\n"
           "envoy_cluster_upstream_cx_total{envoy_cluster_name=\"we\\\"ird\\\\na-me\"} 0\n\n");
    or_stats_store_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_prometheus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
