/* /stats, /stats/prometheus and /reset_counters through a real admin server on 127.0.0.1:0: the
 * admin loop thread plays the main thread (renders), the test thread plays a worker (records into
 * its own shard) and an HTTP client. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "proxy/admin/admin.h"
#include "proxy/stats/blocks.h"
#include "proxy/stats/stats.h"
#include "proxy/stats/stats_admin.h"

struct fixture {
    struct event_base *base;
    struct or_admin *admin;
    struct or_stats_store *st;
    pthread_t loop;
    uint16_t port;
    _Atomic int quit_calls;
    struct or_cluster_stats cs;
    struct or_http_stats hs;
    struct or_control_plane_stats cp;
    struct or_server_stats ss;
};

static enum or_server_state live_state(void *ctx)
{
    return OR_SERVER_LIVE;
}

static void on_quit(void *ctx)
{
    struct fixture *f = ctx;
    atomic_fetch_add(&f->quit_calls, 1);
    event_base_loopbreak(f->base);
}

static const struct or_admin_ops ops = {.state = live_state, .quit = on_quit};

static void *run_loop(void *arg)
{
    struct fixture *f = arg;
    event_base_dispatch(f->base);
    return NULL;
}

static void fixture_start(struct fixture *f)
{
    memset(f, 0, sizeof(*f));
    f->base = event_base_new();
    f->st = or_stats_store_new(2); /* shard 0: "worker" (the test thread), shard 1: main */
    assert_int_equal(or_stats_register_cluster(f->st, "backend", &f->cs), 0);
    assert_int_equal(or_stats_register_http(f->st, "ingress", &f->hs), 0);
    assert_int_equal(or_stats_register_control_plane(f->st, &f->cp), 0);
    assert_int_equal(or_stats_register_server(f->st, &f->ss), 0);
    or_stats_server_refresh(f->st, &f->ss, OR_SERVER_LIVE, 7);

    struct or_admin_listen tcp = {.ip = "127.0.0.1", .port = 0};
    struct or_err_detail err = {{0}, {0}};
    assert_int_equal(or_admin_start(&f->admin, f->base, &tcp, &ops, f, &err), 0);
    assert_int_equal(or_stats_admin_register(f->admin, f->st), 0);
    assert_int_equal(or_stats_admin_register(f->admin, f->st), OR_EINVAL); /* already there */
    f->port = or_admin_port(f->admin);
}

static void fixture_run(struct fixture *f)
{
    assert_int_equal(pthread_create(&f->loop, NULL, run_loop, f), 0);
}

struct reply {
    int status;
    char *head;
    char *body;
};

static struct reply request(const struct fixture *f, const char *method, const char *target)
{
    struct reply r = {0};
    char req[2048];
    int n = snprintf(req, sizeof(req),
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                     "Content-Length: 0\r\n\r\n",
                     method, target);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(f->port)};
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(write(fd, req, (size_t)n), n);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (len + 4096 > cap)
            buf = realloc(buf, cap *= 2);
        ssize_t got = read(fd, buf + len, cap - len - 1);
        assert_true(got >= 0);
        if (got == 0)
            break;
        len += (size_t)got;
    }
    close(fd);
    buf[len] = '\0';
    char *sep = strstr(buf, "\r\n\r\n");
    assert_non_null(sep);
    r.head = strndup(buf, (size_t)(sep - buf));
    r.body = strdup(sep + 4);
    assert_int_equal(sscanf(r.head, "HTTP/1.1 %d", &r.status), 1);
    free(buf);
    return r;
}

static void reply_free(struct reply *r)
{
    free(r->head);
    free(r->body);
}

static void fixture_quit(struct fixture *f)
{
    struct reply r = request(f, "POST", "/quitquitquit");
    assert_int_equal(r.status, 200);
    reply_free(&r);
    pthread_join(f->loop, NULL);
    or_admin_stop(f->admin);
    event_base_free(f->base);
    or_stats_store_free(f->st);
}

static void test_stats_endpoints(void **state)
{
    struct fixture f;
    fixture_start(&f);
    /* Histograms show what was merged before the loop started (Envoy's stats flush). */
    struct or_stats_shard *w = or_stats_store_shard(f.st, 0);
    or_cluster_stats_rq_time(w, &f.cs, false, 20);
    or_stats_merge(f.st);
    fixture_run(&f);

    /* The "worker" records while the admin thread serves. */
    for (int i = 0; i < 3; i++) {
        or_counter_inc(w, f.cs.upstream_rq_total);
        or_cluster_stats_response(w, &f.cs, i == 2 ? 503 : 200, false);
        or_http_stats_response(w, &f.hs, NULL, i == 2 ? 503 : 200);
    }

    struct reply r = request(&f, "GET", "/stats");
    assert_int_equal(r.status, 200);
    assert_non_null(strcasestr(r.head, "content-type: text/plain"));
    static const char *const lines[] = {
        "\ncluster.backend.upstream_rq_200: 2\n",
        "\ncluster.backend.upstream_rq_2xx: 2\n",
        "\ncluster.backend.upstream_rq_503: 1\n",
        "\ncluster.backend.upstream_rq_5xx: 1\n",
        "\ncluster.backend.upstream_rq_completed: 3\n",
        "\ncluster.backend.upstream_rq_total: 3\n",
        "\ncluster.backend.external.upstream_rq_200: 2\n",
        "\ncluster.backend.upstream_cx_active: 0\n",
        "\ncontrol_plane.connected_state: 0\n",
        "\nhttp.ingress.downstream_rq_2xx: 2\n",
        "\nhttp.ingress.downstream_rq_5xx: 1\n",
        "\nserver.live: 1\n",
        "\nserver.uptime: 7\n",
        "\ncluster.backend.upstream_rq_time: P0(20,20) P25(20.25,20.25)",
        "\nhttp.ingress.downstream_rq_time: No recorded values\n",
    };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        if (strstr(r.body, lines[i]) == NULL)
            fail_msg("missing %s in:\n%s", lines[i] + 1, r.body);
    /* Never-seen codes stay hidden, like Envoy's lazily created stats. */
    assert_null(strstr(r.body, "upstream_rq_404"));
    assert_null(strstr(r.body, "internal.upstream_rq"));
    /* Sorted by name: every line's name is >= the previous one (counters and gauges part). */
    char *save = NULL, *copy = strdup(r.body), prev[512] = "";
    for (char *line = strtok_r(copy, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        if (strstr(line, ": P0(") != NULL || strstr(line, "No recorded values") != NULL)
            break;
        char *colon = strchr(line, ':');
        *colon = '\0';
        if (strcmp(prev, line) > 0)
            fail_msg("%s after %s", line, prev);
        snprintf(prev, sizeof(prev), "%s", line);
    }
    free(copy);
    reply_free(&r);

    /* The App Mesh agent's readiness query. */
    r = request(&f, "GET", "/stats?filter=control_plane.connected_state&format=json");
    assert_int_equal(r.status, 200);
    assert_non_null(strcasestr(r.head, "content-type: application/json"));
    assert_string_equal(r.body, "{\"stats\":[{\"name\":\"control_plane.connected_state\","
                                "\"value\":0}]}");
    reply_free(&r);

    /* Percent-encoded RE2 filter and usedonly. */
    r = request(&f, "GET", "/stats?usedonly&filter=backend%5C.upstream_rq_%5B0-9%5D%2B%24");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "cluster.backend.upstream_rq_200: 2\n"
                                "cluster.backend.upstream_rq_503: 1\n");
    reply_free(&r);

    r = request(&f, "GET", "/stats?type=Histograms&usedonly");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "cluster.backend.external.upstream_rq_time: P0(20,20)"));
    assert_null(strstr(r.body, "server.live"));
    reply_free(&r);

    /* Prometheus, both ways; the same body. */
    struct reply p1 = request(&f, "GET", "/stats/prometheus");
    struct reply p2 = request(&f, "GET", "/stats?format=prometheus");
    assert_int_equal(p1.status, 200);
    assert_int_equal(p2.status, 200);
    assert_string_equal(p1.body, p2.body);
    static const char *const prom[] = {
        "# TYPE envoy_cluster_upstream_rq_xx counter\n"
        "envoy_cluster_upstream_rq_xx{envoy_response_code_class=\"2\","
        "envoy_cluster_name=\"backend\"} 2\n"
        "envoy_cluster_upstream_rq_xx{envoy_response_code_class=\"5\","
        "envoy_cluster_name=\"backend\"} 1\n\n",
        "# TYPE envoy_cluster_upstream_rq counter\n"
        "envoy_cluster_upstream_rq{envoy_response_code=\"200\",envoy_cluster_name=\"backend\"} 2\n"
        "envoy_cluster_upstream_rq{envoy_response_code=\"503\",envoy_cluster_name=\"backend\"} 1\n",
        "envoy_cluster_upstream_rq_total{envoy_cluster_name=\"backend\"} 3\n",
        "# TYPE envoy_server_live gauge\nenvoy_server_live{} 1\n\n",
        "envoy_http_downstream_rq_xx{envoy_response_code_class=\"2\","
        "envoy_http_conn_manager_prefix=\"ingress\"} 2\n",
        "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"backend\",le=\"25\"} 1\n",
        "envoy_cluster_upstream_rq_time_sum{envoy_cluster_name=\"backend\"} 20.5\n",
    };
    for (size_t i = 0; i < sizeof(prom) / sizeof(prom[0]); i++)
        if (strstr(p1.body, prom[i]) == NULL)
            fail_msg("missing %s in:\n%s", prom[i], p1.body);
    reply_free(&p1);
    reply_free(&p2);
    r = request(&f, "GET", "/stats/prometheus?usedonly&filter=connected_state");
    assert_string_equal(r.body, "");
    reply_free(&r);
    r = request(&f, "GET", "/stats/prometheus?filter=connected_state");
    assert_string_equal(r.body, "# TYPE envoy_control_plane_connected_state gauge\n"
                                "envoy_control_plane_connected_state{} 0\n\n");
    reply_free(&r);

    /* /reset_counters is POST-only. */
    r = request(&f, "GET", "/reset_counters");
    assert_int_equal(r.status, 405);
    reply_free(&r);
    r = request(&f, "POST", "/reset_counters");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "OK\n");
    reply_free(&r);
    r = request(&f, "GET", "/stats?filter=backend%5C.upstream_rq_(total|200)%24");
    assert_string_equal(r.body, "cluster.backend.upstream_rq_200: 0\n"
                                "cluster.backend.upstream_rq_total: 0\n");
    reply_free(&r);
    or_counter_inc(w, f.cs.upstream_rq_total);
    r = request(&f, "GET", "/stats?filter=backend%5C.upstream_rq_total");
    assert_string_equal(r.body, "cluster.backend.upstream_rq_total: 1\n");
    reply_free(&r);

    fixture_quit(&f);
}

static void test_bad_params_and_help(void **state)
{
    struct fixture f;
    fixture_start(&f);
    fixture_run(&f);
    static const struct {
        const char *target;
        const char *body;
    } cases[] = {
        {"/stats?filter=(", "Invalid re2 regex"},
        {"/stats?format=xml", "usage: /stats?format=(html|active-html|json|prometheus|text)\n\n"},
        {"/stats?format=html",
         "HTML output was disabled by building with --define=admin_html=disabled"},
        {"/stats?type=Everything", "invalid &type= param"},
        {"/stats?histogram_buckets=sideways",
         "usage: /stats?histogram_buckets=(cumulative|disjoint|none)\n"},
        {"/stats/prometheus?filter=%28", "Invalid re2 regex"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct reply r = request(&f, "GET", cases[i].target);
        if (r.status != 400 || strcmp(r.body, cases[i].body) != 0)
            fail_msg("%s: %d %s", cases[i].target, r.status, r.body);
        reply_free(&r);
    }
    /* Empty values are ignored, as Envoy's non-empty query parameter lookup does. */
    struct reply r = request(&f, "GET", "/stats?format=&filter=&type=&histogram_buckets=");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "server.live: 1\n"));
    reply_free(&r);
    r = request(&f, "GET", "/stats?histogram_buckets=cumulative&filter=rq_time");
    assert_non_null(strstr(r.body, "http.ingress.downstream_rq_time: No recorded values\n"));
    reply_free(&r);

    r = request(&f, "GET", "/help");
    static const char *const help[] = {
        "  /reset_counters (POST): reset all counters to zero\n",
        "  /stats: print server stats\n"
        "      usedonly: Only include stats that have been written by system since restart\n"
        "      filter: Regular expression (Google re2) for filtering stats\n"
        "      format: Format to use; One of (html, active-html, text, json)\n"
        "      type: Stat types to include.; One of (All, Counters, Histograms, Gauges, "
        "TextReadouts)\n"
        "      histogram_buckets: Histogram bucket display mode; One of (cumulative, disjoint, "
        "none)\n",
        "  /stats/prometheus: print server stats in prometheus format\n",
    };
    for (size_t i = 0; i < sizeof(help) / sizeof(help[0]); i++)
        if (strstr(r.body, help[i]) == NULL)
            fail_msg("missing %s in:\n%s", help[i], r.body);
    reply_free(&r);
    fixture_quit(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats_endpoints),
        cmocka_unit_test(test_bad_params_and_help),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
