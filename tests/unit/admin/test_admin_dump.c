/* /clusters and /listeners: golden text and JSON built from fake clusters, hosts and listeners, in
 * Envoy's exact formats (ClustersHandler / ListenersHandler), and the JSON read back through our
 * own loader onto envoy.admin.v3.Clusters / Listeners. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <netinet/in.h>
#include <sys/un.h>

#include "envoy/admin/v3/clusters.pb-c.h"
#include "envoy/admin/v3/listeners.pb-c.h"
#include "proxy/admin/clusters.h"
#include "proxy/admin/config_dump.h"
#include "proxy/admin/listeners.h"
#include "proxy/config/reflect.h"
#include "proxy/config/snapshot.h"
#include "proxy/core/err.h"
#include "proxy/upstream/cluster.h"
#include "proxy/upstream/host.h"

/* ---- helpers ---- */

static char *drain(struct evbuffer *b)
{
    size_t n = evbuffer_get_length(b);
    char *s = malloc(n + 1);
    assert_non_null(s);
    evbuffer_remove(b, s, n);
    s[n] = '\0';
    return s;
}

static void assert_text(const char *got, const char *want)
{
    if (strcmp(got, want) != 0) {
        print_error("--- got ---\n%s--- want ---\n%s", got, want);
        fail();
    }
}

static struct or_host *host_v4(const char *ip, uint16_t port, const char *hostname, uint32_t weight,
                               enum or_host_health health)
{
    struct sockaddr_storage ss;
    socklen_t len;
    assert_int_equal(or_sockaddr_from_ip(ip, port, &ss, &len), 0);
    struct or_host *h = or_host_new((struct sockaddr *)&ss, len, hostname, weight, health);
    assert_non_null(h);
    return h;
}

/* Two clusters: "svc" with three hosts (healthy, unhealthy IPv6, draining pipe) and custom circuit
 * breakers; "empty" with Envoy's defaults and an empty host set; plus "nohosts" with no host set
 * at all (a DNS cluster before its first answer). */
struct fake {
    struct or_cluster *svc, *empty, *nohosts;
    struct or_host *h[3];
    struct or_hostset *svc_hs, *empty_hs;
    struct or_admin_cluster_view v[3];
};

static void fake_init(struct fake *f)
{
    memset(f, 0, sizeof(*f));
    f->svc = or_cluster_new("svc");
    f->empty = or_cluster_new("empty");
    f->nohosts = or_cluster_new("nohosts");
    assert_non_null(f->svc);
    assert_non_null(f->empty);
    assert_non_null(f->nohosts);
    f->svc->thresholds[OR_CLUSTER_PRIORITY_DEFAULT] = (struct or_cluster_thresholds){10, 20, 30, 4};
    f->svc->thresholds[OR_CLUSTER_PRIORITY_HIGH] =
        (struct or_cluster_thresholds){4294967295u, 1, 2, 0};
    f->h[0] = host_v4("10.0.0.1", 8080, "a.local", 2, OR_HOST_HEALTH_HEALTHY);
    f->h[1] = host_v4("::1", 9000, NULL, 1, OR_HOST_HEALTH_UNHEALTHY);
    struct sockaddr_storage ss;
    socklen_t len;
    assert_int_equal(or_sockaddr_from_pipe("/tmp/up.sock", &ss, &len), 0);
    f->h[2] = or_host_new((struct sockaddr *)&ss, len, "pipe", 3, OR_HOST_HEALTH_DRAINING);
    assert_non_null(f->h[2]);
    f->svc_hs = or_hostset_new(f->svc, 1, f->h, 3);
    f->empty_hs = or_hostset_new(f->empty, 1, NULL, 0);
    assert_non_null(f->svc_hs);
    assert_non_null(f->empty_hs);
    f->v[0] = (struct or_admin_cluster_view){f->svc, f->svc_hs, false};
    f->v[1] = (struct or_admin_cluster_view){f->empty, f->empty_hs, false};
    f->v[2] = (struct or_admin_cluster_view){f->nohosts, NULL, false};
}

static void fake_deinit(struct fake *f)
{
    or_hostset_unref(f->svc_hs);
    or_hostset_unref(f->empty_hs);
    for (int i = 0; i < 3; i++)
        or_host_unref(f->h[i]);
    or_cluster_unref(f->svc);
    or_cluster_unref(f->empty);
    or_cluster_unref(f->nohosts);
}

/* Stats derived from the host's position so each line is distinguishable. */
static void fake_stats(void *ctx, const struct or_cluster *c, const struct or_host *h,
                       struct or_admin_host_stats *out)
{
    const struct fake *f = ctx;
    uint64_t k = h == f->h[0] ? 1 : h == f->h[1] ? 2 : 3;
    assert_ptr_equal(c, f->svc);
    out->cx_active = k;
    out->cx_connect_fail = 10 * k;
    out->cx_total = 100 * k;
    out->rq_active = 0;
    out->rq_error = 1000 * k;
    out->rq_success = 10000 * k;
    out->rq_timeout = 0;
    out->rq_total = 18446744073709551615ull;
}

/* ---- /clusters text ---- */

/* Envoy's ClustersHandler text for the fake clusters, line by line. */
/* clang-format off */
static const char golden_text[] =
    "svc::observability_name::svc\n"
    "svc::default_priority::max_connections::10\n"
    "svc::default_priority::max_pending_requests::20\n"
    "svc::default_priority::max_requests::30\n"
    "svc::default_priority::max_retries::4\n"
    "svc::high_priority::max_connections::4294967295\n"
    "svc::high_priority::max_pending_requests::1\n"
    "svc::high_priority::max_requests::2\n"
    "svc::high_priority::max_retries::0\n"
    "svc::added_via_api::false\n"
    "svc::10.0.0.1:8080::cx_active::1\n"
    "svc::10.0.0.1:8080::cx_connect_fail::10\n"
    "svc::10.0.0.1:8080::cx_total::100\n"
    "svc::10.0.0.1:8080::rq_active::0\n"
    "svc::10.0.0.1:8080::rq_error::1000\n"
    "svc::10.0.0.1:8080::rq_success::10000\n"
    "svc::10.0.0.1:8080::rq_timeout::0\n"
    "svc::10.0.0.1:8080::rq_total::18446744073709551615\n"
    "svc::10.0.0.1:8080::hostname::a.local\n"
    "svc::10.0.0.1:8080::health_flags::healthy\n"
    "svc::10.0.0.1:8080::weight::2\n"
    "svc::10.0.0.1:8080::region::\n"
    "svc::10.0.0.1:8080::zone::\n"
    "svc::10.0.0.1:8080::sub_zone::\n"
    "svc::10.0.0.1:8080::canary::false\n"
    "svc::10.0.0.1:8080::priority::0\n"
    "svc::10.0.0.1:8080::success_rate::-1.0\n"
    "svc::10.0.0.1:8080::local_origin_success_rate::-1.0\n"
    "svc::[::1]:9000::cx_active::2\n"
    "svc::[::1]:9000::cx_connect_fail::20\n"
    "svc::[::1]:9000::cx_total::200\n"
    "svc::[::1]:9000::rq_active::0\n"
    "svc::[::1]:9000::rq_error::2000\n"
    "svc::[::1]:9000::rq_success::20000\n"
    "svc::[::1]:9000::rq_timeout::0\n"
    "svc::[::1]:9000::rq_total::18446744073709551615\n"
    "svc::[::1]:9000::hostname::\n"
    "svc::[::1]:9000::health_flags::/failed_eds_health\n"
    "svc::[::1]:9000::weight::1\n"
    "svc::[::1]:9000::region::\n"
    "svc::[::1]:9000::zone::\n"
    "svc::[::1]:9000::sub_zone::\n"
    "svc::[::1]:9000::canary::false\n"
    "svc::[::1]:9000::priority::0\n"
    "svc::[::1]:9000::success_rate::-1.0\n"
    "svc::[::1]:9000::local_origin_success_rate::-1.0\n"
    "svc::/tmp/up.sock::cx_active::3\n"
    "svc::/tmp/up.sock::cx_connect_fail::30\n"
    "svc::/tmp/up.sock::cx_total::300\n"
    "svc::/tmp/up.sock::rq_active::0\n"
    "svc::/tmp/up.sock::rq_error::3000\n"
    "svc::/tmp/up.sock::rq_success::30000\n"
    "svc::/tmp/up.sock::rq_timeout::0\n"
    "svc::/tmp/up.sock::rq_total::18446744073709551615\n"
    "svc::/tmp/up.sock::hostname::pipe\n"
    "svc::/tmp/up.sock::health_flags::/eds_status_draining\n"
    "svc::/tmp/up.sock::weight::3\n"
    "svc::/tmp/up.sock::region::\n"
    "svc::/tmp/up.sock::zone::\n"
    "svc::/tmp/up.sock::sub_zone::\n"
    "svc::/tmp/up.sock::canary::false\n"
    "svc::/tmp/up.sock::priority::0\n"
    "svc::/tmp/up.sock::success_rate::-1.0\n"
    "svc::/tmp/up.sock::local_origin_success_rate::-1.0\n"
    "empty::observability_name::empty\n"
    "empty::default_priority::max_connections::1024\n"
    "empty::default_priority::max_pending_requests::1024\n"
    "empty::default_priority::max_requests::1024\n"
    "empty::default_priority::max_retries::3\n"
    "empty::high_priority::max_connections::1024\n"
    "empty::high_priority::max_pending_requests::1024\n"
    "empty::high_priority::max_requests::1024\n"
    "empty::high_priority::max_retries::3\n"
    "empty::added_via_api::false\n"
    "nohosts::observability_name::nohosts\n"
    "nohosts::default_priority::max_connections::1024\n"
    "nohosts::default_priority::max_pending_requests::1024\n"
    "nohosts::default_priority::max_requests::1024\n"
    "nohosts::default_priority::max_retries::3\n"
    "nohosts::high_priority::max_connections::1024\n"
    "nohosts::high_priority::max_pending_requests::1024\n"
    "nohosts::high_priority::max_requests::1024\n"
    "nohosts::high_priority::max_retries::3\n"
    "nohosts::added_via_api::false\n";
/* clang-format on */

static void test_clusters_text_golden(void **state)
{
    struct fake f;
    fake_init(&f);
    struct evbuffer *b = evbuffer_new();
    assert_int_equal(or_admin_clusters_text(f.v, 3, fake_stats, &f, b), 0);
    char *s = drain(b);
    assert_text(s, golden_text);
    free(s);
    evbuffer_free(b);
    fake_deinit(&f);
}

/* The exact lines AWS tooling greps for, spelled out once without macros. */
static void test_clusters_text_key_lines(void **state)
{
    struct fake f;
    fake_init(&f);
    struct evbuffer *b = evbuffer_new();
    assert_int_equal(or_admin_clusters_text(f.v, 1, fake_stats, &f, b), 0);
    char *s = drain(b);
    assert_non_null(strstr(s, "\nsvc::10.0.0.1:8080::health_flags::healthy\n"));
    assert_non_null(strstr(s, "\nsvc::10.0.0.1:8080::cx_active::1\n"));
    assert_non_null(strstr(s, "\nsvc::10.0.0.1:8080::rq_total::18446744073709551615\n"));
    assert_non_null(strstr(s, "\nsvc::[::1]:9000::hostname::\n"));
    assert_non_null(strstr(s, "\nsvc::added_via_api::false\nsvc::10.0.0.1:8080::cx_active::1\n"));
    assert_non_null(strstr(s, "::local_origin_success_rate::-1.0\n"));
    free(s);
    evbuffer_free(b);
    fake_deinit(&f);
}

/* Without a callback the stats are the sum of the host's per-worker counter blocks. */
static void test_clusters_text_counter_blocks(void **state)
{
    or_host_set_counter_blocks(3);
    struct or_host *h = host_v4("127.0.0.1", 80, NULL, 1, OR_HOST_HEALTH_UNKNOWN);
    or_host_set_counter_blocks(0);
    assert_int_equal(h->n_counters, 3);
    or_host_count(&h->counters[0].rq_total, 5);
    or_host_count(&h->counters[2].rq_total, 7);
    or_host_count(&h->counters[1].cx_active, 2);
    or_host_count(&h->counters[1].cx_active, -1);
    struct or_admin_host_stats s;
    or_admin_host_stats_sum(h, &s);
    assert_int_equal(s.rq_total, 12);
    assert_int_equal(s.cx_active, 1);
    assert_int_equal(s.rq_error, 0);

    struct or_cluster *c = or_cluster_new("c");
    struct or_hostset *hs = or_hostset_new(c, 1, &h, 1);
    struct or_admin_cluster_view v = {c, hs, true};
    struct evbuffer *b = evbuffer_new();
    assert_int_equal(or_admin_clusters_text(&v, 1, NULL, NULL, b), 0);
    char *txt = drain(b);
    assert_non_null(strstr(txt, "\nc::added_via_api::true\n"));
    assert_non_null(strstr(txt, "\nc::127.0.0.1:80::rq_total::12\n"));
    assert_non_null(strstr(txt, "\nc::127.0.0.1:80::cx_active::1\n"));
    assert_non_null(strstr(txt, "\nc::127.0.0.1:80::health_flags::healthy\n"));
    free(txt);
    evbuffer_free(b);
    or_hostset_unref(hs);
    or_host_unref(h);
    or_cluster_unref(c);
}

static void test_clusters_text_none(void **state)
{
    struct evbuffer *b = evbuffer_new();
    assert_int_equal(or_admin_clusters_text(NULL, 0, NULL, NULL, b), 0);
    assert_int_equal(evbuffer_get_length(b), 0);
    assert_int_equal(or_admin_clusters_json(NULL, 0, NULL, NULL, b), 0);
    char *s = drain(b);
    assert_string_equal(s, "{}\n");
    free(s);
    evbuffer_free(b);
}

/* ---- /clusters?format=json ---- */

/* protobuf's pretty printer: 1-space indent, zero values omitted (a 0 stat is just its name, the
 * COUNTER type is the enum default), "@type"-free since there is no Any. */
static const char golden_json_one_host[] = "{\n"
                                           " \"cluster_statuses\": [\n"
                                           "  {\n"
                                           "   \"name\": \"svc\",\n"
                                           "   \"host_statuses\": [\n"
                                           "    {\n"
                                           "     \"address\": {\n"
                                           "      \"socket_address\": {\n"
                                           "       \"address\": \"10.0.0.1\",\n"
                                           "       \"port_value\": 8080\n"
                                           "      }\n"
                                           "     },\n"
                                           "     \"stats\": [\n"
                                           "      {\n"
                                           "       \"value\": \"10\",\n"
                                           "       \"name\": \"cx_connect_fail\"\n"
                                           "      },\n"
                                           "      {\n"
                                           "       \"value\": \"100\",\n"
                                           "       \"name\": \"cx_total\"\n"
                                           "      },\n"
                                           "      {\n"
                                           "       \"value\": \"1000\",\n"
                                           "       \"name\": \"rq_error\"\n"
                                           "      },\n"
                                           "      {\n"
                                           "       \"value\": \"10000\",\n"
                                           "       \"name\": \"rq_success\"\n"
                                           "      },\n"
                                           "      {\n"
                                           "       \"name\": \"rq_timeout\"\n"
                                           "      },\n"
                                           "      {\n"
                                           "       \"value\": \"18446744073709551615\",\n"
                                           "       \"name\": \"rq_total\"\n"
                                           "      },\n"
                                           "      {\n"
                                           "       \"type\": \"GAUGE\",\n"
                                           "       \"value\": \"1\",\n"
                                           "       \"name\": \"cx_active\"\n"
                                           "      },\n"
                                           "      {\n"
                                           "       \"type\": \"GAUGE\",\n"
                                           "       \"name\": \"rq_active\"\n"
                                           "      }\n"
                                           "     ],\n"
                                           "     \"health_status\": {\n"
                                           "      \"eds_health_status\": \"HEALTHY\"\n"
                                           "     },\n"
                                           "     \"weight\": 2,\n"
                                           "     \"hostname\": \"a.local\",\n"
                                           "     \"locality\": {}\n"
                                           "    }\n"
                                           "   ],\n"
                                           "   \"circuit_breakers\": {\n"
                                           "    \"thresholds\": [\n"
                                           "     {\n"
                                           "      \"max_connections\": 10,\n"
                                           "      \"max_pending_requests\": 20,\n"
                                           "      \"max_requests\": 30,\n"
                                           "      \"max_retries\": 4\n"
                                           "     },\n"
                                           "     {\n"
                                           "      \"priority\": \"HIGH\",\n"
                                           "      \"max_connections\": 4294967295,\n"
                                           "      \"max_pending_requests\": 1,\n"
                                           "      \"max_requests\": 2,\n"
                                           "      \"max_retries\": 0\n"
                                           "     }\n"
                                           "    ]\n"
                                           "   },\n"
                                           "   \"observability_name\": \"svc\"\n"
                                           "  }\n"
                                           " ]\n"
                                           "}\n";

static void test_clusters_json_golden(void **state)
{
    struct fake f;
    fake_init(&f);
    struct or_hostset *one = or_hostset_new(f.svc, 1, f.h, 1);
    struct or_admin_cluster_view v = {f.svc, one, false};
    struct evbuffer *b = evbuffer_new();
    assert_int_equal(or_admin_clusters_json(&v, 1, fake_stats, &f, b), 0);
    char *s = drain(b);
    assert_text(s, golden_json_one_host);
    free(s);
    evbuffer_free(b);
    or_hostset_unref(one);
    fake_deinit(&f);
}

/* The whole JSON loads back through our loader onto the real message type. */
static void test_clusters_json_loads_back(void **state)
{
    struct fake f;
    fake_init(&f);
    struct evbuffer *b = evbuffer_new();
    assert_int_equal(or_admin_clusters_json(f.v, 3, fake_stats, &f, b), 0);
    char *s = drain(b);
    ProtobufCMessage *m = NULL;
    struct or_err_detail err;
    memset(&err, 0, sizeof(err));
    int rc = or_config_parse(s, strlen(s), &envoy__admin__v3__clusters__descriptor, &m, &err);
    if (rc != 0)
        fail_msg("%s: %s", err.path, err.msg);
    const Envoy__Admin__V3__Clusters *cl = (const Envoy__Admin__V3__Clusters *)m;
    assert_int_equal(cl->n_cluster_statuses, 3);
    const Envoy__Admin__V3__ClusterStatus *svc = cl->cluster_statuses[0];
    assert_string_equal(svc->name, "svc");
    assert_string_equal(svc->observability_name, "svc");
    assert_false(svc->added_via_api);
    assert_int_equal(svc->n_host_statuses, 3);
    const Envoy__Admin__V3__HostStatus *h1 = svc->host_statuses[1];
    assert_int_equal(h1->address->address_case,
                     ENVOY__CONFIG__CORE__V3__ADDRESS__ADDRESS_SOCKET_ADDRESS);
    assert_string_equal(h1->address->socket_address->address, "::1");
    assert_int_equal(h1->address->socket_address->port_value, 9000);
    assert_int_equal(h1->health_status->eds_health_status,
                     ENVOY__CONFIG__CORE__V3__HEALTH_STATUS__UNHEALTHY);
    assert_int_equal(h1->n_stats, 8);
    assert_string_equal(h1->stats[6]->name, "cx_active");
    assert_int_equal(h1->stats[6]->type, ENVOY__ADMIN__V3__SIMPLE_METRIC__TYPE__GAUGE);
    assert_int_equal(h1->stats[6]->value, 2);
    const Envoy__Admin__V3__HostStatus *h2 = svc->host_statuses[2];
    assert_int_equal(h2->address->address_case, ENVOY__CONFIG__CORE__V3__ADDRESS__ADDRESS_PIPE);
    assert_string_equal(h2->address->pipe->path, "/tmp/up.sock");
    assert_int_equal(h2->health_status->eds_health_status,
                     ENVOY__CONFIG__CORE__V3__HEALTH_STATUS__DRAINING);
    assert_int_equal(h2->weight, 3);
    const Envoy__Admin__V3__ClusterStatus *empty = cl->cluster_statuses[1];
    assert_int_equal(empty->n_host_statuses, 0);
    assert_int_equal(empty->circuit_breakers->n_thresholds, 2);
    assert_int_equal(empty->circuit_breakers->thresholds[0]->max_retries->value, 3);
    assert_int_equal(empty->circuit_breakers->thresholds[1]->priority,
                     ENVOY__CONFIG__CORE__V3__ROUTING_PRIORITY__HIGH);
    or_config_free(m);
    free(s);
    evbuffer_free(b);
    fake_deinit(&f);
}

/* ---- /listeners ---- */

static void listener(struct or_listener_rt *l, const char *name, const char *ip, uint16_t port)
{
    memset(l, 0, sizeof(*l));
    l->name = (char *)name;
    assert_int_equal(or_sockaddr_from_ip(ip, port, &l->addr, &l->addrlen), 0);
    or_sockaddr_format((struct sockaddr *)&l->addr, l->addrlen, l->addr_str, sizeof(l->addr_str));
}

static void test_listeners_text_and_json(void **state)
{
    struct or_listener_rt l[2];
    listener(&l[0], "lds_ingress_0.0.0.0_15000", "0.0.0.0", 15000);
    listener(&l[1], "egress", "::", 15001);
    struct evbuffer *b = evbuffer_new();
    assert_int_equal(or_admin_listeners_text(l, 2, b), 0);
    char *s = drain(b);
    assert_text(s, "lds_ingress_0.0.0.0_15000::0.0.0.0:15000\negress::[::]:15001\n");
    free(s);

    assert_int_equal(or_admin_listeners_json(l, 2, b), 0);
    s = drain(b);
    assert_text(s, "{\n"
                   " \"listener_statuses\": [\n"
                   "  {\n"
                   "   \"name\": \"lds_ingress_0.0.0.0_15000\",\n"
                   "   \"local_address\": {\n"
                   "    \"socket_address\": {\n"
                   "     \"address\": \"0.0.0.0\",\n"
                   "     \"port_value\": 15000\n"
                   "    }\n"
                   "   }\n"
                   "  },\n"
                   "  {\n"
                   "   \"name\": \"egress\",\n"
                   "   \"local_address\": {\n"
                   "    \"socket_address\": {\n"
                   "     \"address\": \"::\",\n"
                   "     \"port_value\": 15001\n"
                   "    }\n"
                   "   }\n"
                   "  }\n"
                   " ]\n"
                   "}\n");
    ProtobufCMessage *m = NULL;
    struct or_err_detail err;
    assert_int_equal(
        or_config_parse(s, strlen(s), &envoy__admin__v3__listeners__descriptor, &m, &err), 0);
    const Envoy__Admin__V3__Listeners *ls = (const Envoy__Admin__V3__Listeners *)m;
    assert_int_equal(ls->n_listener_statuses, 2);
    assert_int_equal(ls->listener_statuses[1]->local_address->socket_address->port_value, 15001);
    or_config_free(m);
    free(s);

    assert_int_equal(or_admin_listeners_text(l, 0, b), 0);
    assert_int_equal(evbuffer_get_length(b), 0);
    assert_int_equal(or_admin_listeners_json(NULL, 0, b), 0);
    s = drain(b);
    assert_string_equal(s, "{}\n");
    free(s);
    evbuffer_free(b);
}

/* ---- cluster views from the dump source ---- */

static void test_cluster_views_from_snapshot(void **state)
{
    static const char yaml[] =
        "static_resources:\n"
        "  clusters:\n"
        "  - {name: b, connect_timeout: 1s, load_assignment: {cluster_name: b, endpoints: "
        "[{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, "
        "port_value: 1}}}}]}]}}\n"
        "  - {name: a, connect_timeout: 1s}\n";
    ProtobufCMessage *m = NULL;
    struct or_err_detail err;
    assert_int_equal(or_config_parse(yaml, strlen(yaml),
                                     &envoy__config__bootstrap__v3__bootstrap__descriptor, &m,
                                     &err),
                     0);
    struct or_snapshot *snap = NULL;
    assert_int_equal(
        or_snapshot_build((const Envoy__Config__Bootstrap__V3__Bootstrap *)m, &snap, &err), 0);
    struct or_admin_dump_src src = {.snapshot = snap};
    struct or_admin_cluster_view *v = NULL;
    assert_int_equal(or_admin_dump_cluster_views(&src, &v), 2);
    assert_string_equal(v[0].cluster->name, "b"); /* config order, as the cluster manager */
    assert_null(v[0].hosts);
    assert_string_equal(v[1].cluster->name, "a");
    free(v);
    src.snapshot = NULL;
    assert_int_equal(or_admin_dump_cluster_views(&src, &v), 0);
    assert_null(v);
    or_snapshot_free(snap);
    or_config_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clusters_text_golden),
        cmocka_unit_test(test_clusters_text_key_lines),
        cmocka_unit_test(test_clusters_text_counter_blocks),
        cmocka_unit_test(test_clusters_text_none),
        cmocka_unit_test(test_clusters_json_golden),
        cmocka_unit_test(test_clusters_json_loads_back),
        cmocka_unit_test(test_listeners_text_and_json),
        cmocka_unit_test(test_cluster_views_from_snapshot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
