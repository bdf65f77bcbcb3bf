/* Cluster translation (envoy.config.cluster.v3.Cluster -> struct or_cluster): every field, Envoy's
 * defaults, every error path; plus hosts, host sets and their reference counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include "envoy/config/bootstrap/v3/bootstrap.pb-c.h"
#include "proxy/config/reflect.h"
#include "proxy/config/translate_cluster.h"
#include "proxy/core/err.h"
#include "proxy/upstream/cluster.h"
#include "proxy/upstream/host.h"

/* ---- helpers ---- */

struct parsed {
    Envoy__Config__Bootstrap__V3__Bootstrap *b;
    struct or_cluster **clusters;
    size_t n;
    struct or_err_detail err;
    int rc;
};

/* Parses `clusters_yaml` (a YAML flow list of clusters) as static_resources.clusters and translates
 * it. The parse itself must succeed; the translation result is in p->rc / p->err. */
static void translate(struct parsed *p, const char *clusters_yaml)
{
    char text[8192];
    memset(p, 0, sizeof(*p));
    snprintf(text, sizeof(text), "static_resources: {clusters: %s}", clusters_yaml);
    ProtobufCMessage *m = NULL;
    int rc = or_config_parse(text, strlen(text),
                             &envoy__config__bootstrap__v3__bootstrap__descriptor, &m, &p->err);
    if (rc != 0)
        fail_msg("parse failed: %s: %s", p->err.path, p->err.msg);
    p->b = (Envoy__Config__Bootstrap__V3__Bootstrap *)m;
    assert_non_null(p->b->static_resources);
    p->rc = or_clusters_from_protos(p->b->static_resources->clusters,
                                    p->b->static_resources->n_clusters, "static_resources.clusters",
                                    &p->clusters, &p->err);
    if (p->rc == 0)
        p->n = p->b->static_resources->n_clusters;
}

static void parsed_free(struct parsed *p)
{
    or_clusters_free(p->clusters, p->n);
    or_config_free(&p->b->base);
}

/* Translates one cluster that must be accepted. */
static struct or_cluster *ok1(struct parsed *p, const char *cluster_yaml)
{
    char list[8192];
    snprintf(list, sizeof(list), "[%s]", cluster_yaml);
    translate(p, list);
    if (p->rc != 0)
        fail_msg("unexpected error: %s: %s", p->err.path, p->err.msg);
    assert_int_equal(p->n, 1);
    return p->clusters[0];
}

/* Translates a list that must be rejected at `path` with a message containing `msg_part`. */
static void bad(const char *clusters_yaml, const char *path, const char *msg_part)
{
    struct parsed p;
    translate(&p, clusters_yaml);
    if (p.rc == 0)
        fail_msg("accepted, expected error at %s", path);
    assert_int_equal(p.rc, OR_EINVAL);
    assert_null(p.clusters);
    assert_string_equal(p.err.path, path);
    if (strstr(p.err.msg, msg_part) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", p.err.msg, msg_part);
    parsed_free(&p);
}

#define LA(name, eps) "load_assignment: {cluster_name: " name ", endpoints: [" eps "]}"
#define SOCK(addr, port)                                                                           \
    "{endpoint: {address: {socket_address: {address: '" addr "', port_value: " #port "}}}}"

static void assert_default_thresholds(const struct or_cluster_thresholds *t)
{
    assert_int_equal(t->max_connections, 1024);
    assert_int_equal(t->max_pending_requests, 1024);
    assert_int_equal(t->max_requests, 1024);
    assert_int_equal(t->max_retries, 3);
}

/* ---- accepted configs ---- */

static void test_defaults(void **state)
{
    struct parsed p;
    struct or_cluster *c = ok1(&p, "{name: a}");
    assert_string_equal(c->name, "a");
    assert_string_equal(c->stat_name, "a");
    assert_int_equal(c->type, OR_CLUSTER_STATIC);
    assert_int_equal(c->lb_policy, OR_CLUSTER_LB_ROUND_ROBIN);
    assert_int_equal(c->connect_timeout_ms, 5000);
    assert_int_equal(c->per_connection_buffer_limit_bytes, 1048576);
    assert_default_thresholds(&c->thresholds[OR_CLUSTER_PRIORITY_DEFAULT]);
    assert_default_thresholds(&c->thresholds[OR_CLUSTER_PRIORITY_HIGH]);
    assert_int_equal(c->dns_lookup_family, OR_DNS_AUTO);
    assert_int_equal(c->dns_refresh_rate_ms, 5000);
    assert_int_equal(c->n_endpoints, 0);
    assert_int_equal(atomic_load(&c->refs), 1);
    parsed_free(&p);
}

static void test_every_field(void **state)
{
    struct parsed p;
    struct or_cluster *c =
        ok1(&p, "{name: 'cds_egress_mesh_svc:8080', type: STRICT_DNS, connect_timeout: 0.25s,"
                " per_connection_buffer_limit_bytes: 32768, lb_policy: LEAST_REQUEST,"
                " dns_refresh_rate: 10s, dns_lookup_family: V4_ONLY,"
                " circuit_breakers: {thresholds: [{max_connections: 10, max_retries: 7},"
                "   {priority: HIGH, max_requests: 99, max_pending_requests: 5}]},"
                " load_assignment: {cluster_name: x, endpoints: ["
                "  {load_balancing_weight: 3, locality: {zone: z1}, lb_endpoints: ["
                "   {endpoint: {address: {socket_address: {address: svc.local, port_value: 8080}},"
                "               hostname: svc.example}, load_balancing_weight: 5,"
                "    health_status: DRAINING, metadata: {filter_metadata: {m: {k: v}}}},"
                "   {endpoint: {address: {socket_address: {address: other.local}}}}]}]}}");
    assert_string_equal(c->name, "cds_egress_mesh_svc:8080");
    assert_string_equal(c->stat_name, "cds_egress_mesh_svc_8080");
    assert_int_equal(c->type, OR_CLUSTER_STRICT_DNS);
    assert_int_equal(c->connect_timeout_ms, 250);
    assert_int_equal(c->per_connection_buffer_limit_bytes, 32768);
    assert_int_equal(c->lb_policy, OR_CLUSTER_LB_LEAST_REQUEST);
    assert_int_equal(c->dns_refresh_rate_ms, 10000);
    assert_int_equal(c->dns_lookup_family, OR_DNS_V4_ONLY);
    const struct or_cluster_thresholds *d = &c->thresholds[OR_CLUSTER_PRIORITY_DEFAULT];
    assert_int_equal(d->max_connections, 10);
    assert_int_equal(d->max_pending_requests, 1024);
    assert_int_equal(d->max_requests, 1024);
    assert_int_equal(d->max_retries, 7);
    const struct or_cluster_thresholds *h = &c->thresholds[OR_CLUSTER_PRIORITY_HIGH];
    assert_int_equal(h->max_connections, 1024);
    assert_int_equal(h->max_pending_requests, 5);
    assert_int_equal(h->max_requests, 99);
    assert_int_equal(h->max_retries, 3);
    assert_int_equal(c->n_endpoints, 2);
    const struct or_cluster_endpoint *e0 = &c->endpoints[0], *e1 = &c->endpoints[1];
    assert_string_equal(e0->address, "svc.local");
    assert_int_equal(e0->port, 8080);
    assert_false(e0->is_pipe);
    assert_string_equal(e0->hostname, "svc.example");
    assert_int_equal(e0->weight, 5);
    assert_int_equal(e0->locality_weight, 3);
    assert_int_equal(e0->health, OR_HOST_HEALTH_DRAINING);
    assert_int_equal(e0->addrlen, 0); /* DNS endpoints are not parsed */
    assert_string_equal(e1->address, "other.local");
    assert_int_equal(e1->port, 0); /* port_value unset: 0, as Envoy */
    assert_string_equal(e1->hostname, "");
    assert_int_equal(e1->weight, 1);
    assert_int_equal(e1->health, OR_HOST_HEALTH_UNKNOWN);
    parsed_free(&p);
}

static void test_lb_policies_and_families(void **state)
{
    static const struct {
        const char *yaml;
        enum or_cluster_lb lb;
    } lbs[] = {
        {"{name: a, lb_policy: ROUND_ROBIN}", OR_CLUSTER_LB_ROUND_ROBIN},
        {"{name: a, lb_policy: LEAST_REQUEST}", OR_CLUSTER_LB_LEAST_REQUEST},
        {"{name: a, lb_policy: RANDOM}", OR_CLUSTER_LB_RANDOM},
    };
    for (size_t i = 0; i < sizeof(lbs) / sizeof(lbs[0]); i++) {
        struct parsed p;
        assert_int_equal(ok1(&p, lbs[i].yaml)->lb_policy, lbs[i].lb);
        parsed_free(&p);
    }
    static const struct {
        const char *yaml;
        enum or_dns_family f;
    } fams[] = {
        {"{name: a, type: STRICT_DNS, dns_lookup_family: AUTO}", OR_DNS_AUTO},
        {"{name: a, type: STRICT_DNS, dns_lookup_family: V4_ONLY}", OR_DNS_V4_ONLY},
        {"{name: a, type: STRICT_DNS, dns_lookup_family: V6_ONLY}", OR_DNS_V6_ONLY},
        {"{name: a, type: STRICT_DNS, dns_lookup_family: V4_PREFERRED}", OR_DNS_V4_PREFERRED},
        {"{name: a, type: STRICT_DNS, dns_lookup_family: ALL}", OR_DNS_ALL},
    };
    for (size_t i = 0; i < sizeof(fams) / sizeof(fams[0]); i++) {
        struct parsed p;
        assert_int_equal(ok1(&p, fams[i].yaml)->dns_lookup_family, fams[i].f);
        parsed_free(&p);
    }
}

static void test_types(void **state)
{
    struct parsed p;
    assert_int_equal(ok1(&p, "{name: a, type: STATIC}")->type, OR_CLUSTER_STATIC);
    parsed_free(&p);
    assert_int_equal(ok1(&p, "{name: a, type: STRICT_DNS}")->type, OR_CLUSTER_STRICT_DNS);
    parsed_free(&p);
    struct or_cluster *c = ok1(
        &p, "{name: a, type: LOGICAL_DNS, " LA("a", "{lb_endpoints: [" SOCK("x.y", 1) "]}") "}");
    assert_int_equal(c->type, OR_CLUSTER_LOGICAL_DNS);
    assert_int_equal(c->n_endpoints, 1);
    parsed_free(&p);
}

static void test_static_addresses(void **state)
{
    struct parsed p;
    struct or_cluster *c =
        ok1(&p, "{name: s, " LA(
                    "s", "{lb_endpoints: [" SOCK("10.1.2.3", 80) "," SOCK(
                             "::1", 443) ", {endpoint: {address: {pipe: {path: /tmp/x.sock}}}},"
                                         "  {endpoint: {address: {pipe: {path: '@abs', mode: 0}}}}"
                                         "]}") "}");
    assert_int_equal(c->n_endpoints, 4);

    const struct sockaddr_in *in = (const struct sockaddr_in *)&c->endpoints[0].addr;
    assert_int_equal(in->sin_family, AF_INET);
    assert_int_equal(ntohs(in->sin_port), 80);
    assert_int_equal(ntohl(in->sin_addr.s_addr), 0x0a010203);
    assert_int_equal(c->endpoints[0].addrlen, sizeof(struct sockaddr_in));

    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&c->endpoints[1].addr;
    assert_int_equal(in6->sin6_family, AF_INET6);
    assert_int_equal(ntohs(in6->sin6_port), 443);
    assert_true(IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr));

    const struct sockaddr_un *un = (const struct sockaddr_un *)&c->endpoints[2].addr;
    assert_int_equal(un->sun_family, AF_UNIX);
    assert_string_equal(un->sun_path, "/tmp/x.sock");
    assert_true(c->endpoints[2].is_pipe);

    const struct sockaddr_un *abs = (const struct sockaddr_un *)&c->endpoints[3].addr;
    assert_int_equal(abs->sun_path[0], '\0');
    assert_memory_equal(abs->sun_path + 1, "abs", 3);
    assert_int_equal(c->endpoints[3].addrlen, offsetof(struct sockaddr_un, sun_path) + 4);

    /* Hosts spell addresses as Envoy does. */
    const char *want[] = {"10.1.2.3:80", "[::1]:443", "/tmp/x.sock", "@abs"};
    for (size_t i = 0; i < 4; i++) {
        const struct or_cluster_endpoint *ep = &c->endpoints[i];
        struct or_host *h = or_host_new((const struct sockaddr *)&ep->addr, ep->addrlen, NULL,
                                        ep->weight, ep->health);
        assert_non_null(h);
        assert_string_equal(h->addr_str, want[i]);
        assert_string_equal(h->hostname, "");
        or_host_unref(h);
    }
    parsed_free(&p);
}

static void test_threshold_first_entry_wins(void **state)
{
    struct parsed p;
    struct or_cluster *c = ok1(&p, "{name: a, circuit_breakers: {thresholds: [{max_connections: 1},"
                                   " {max_connections: 2, max_retries: 9}, {priority: HIGH}]}}");
    assert_int_equal(c->thresholds[OR_CLUSTER_PRIORITY_DEFAULT].max_connections, 1);
    assert_int_equal(c->thresholds[OR_CLUSTER_PRIORITY_DEFAULT].max_retries, 3);
    assert_default_thresholds(&c->thresholds[OR_CLUSTER_PRIORITY_HIGH]);
    parsed_free(&p);

    /* App Mesh writes explicit 2147483647 limits. */
    c = ok1(&p, "{name: a, circuit_breakers: {thresholds: [{max_connections: 2147483647,"
                " max_pending_requests: 2147483647, max_requests: 2147483647, max_retries: 0}]}}");
    assert_int_equal(c->thresholds[0].max_connections, 2147483647);
    assert_int_equal(c->thresholds[0].max_pending_requests, 2147483647);
    assert_int_equal(c->thresholds[0].max_requests, 2147483647);
    assert_int_equal(c->thresholds[0].max_retries, 0);
    parsed_free(&p);
}

static void test_durations(void **state)
{
    struct parsed p;
    assert_int_equal(ok1(&p, "{name: a, connect_timeout: 1.5s}")->connect_timeout_ms, 1500);
    parsed_free(&p);
    assert_int_equal(ok1(&p, "{name: a, connect_timeout: 0.0005s}")->connect_timeout_ms, 0);
    parsed_free(&p);
    assert_int_equal(ok1(&p, "{name: a, dns_refresh_rate: 0.002s}")->dns_refresh_rate_ms, 2);
    parsed_free(&p);
    assert_int_equal(ok1(&p, "{name: a, dns_refresh_rate: 3600s}")->dns_refresh_rate_ms, 3600000);
    parsed_free(&p);
}

static void test_many_clusters(void **state)
{
    struct parsed p;
    translate(&p, "[{name: a}, {name: b, type: STRICT_DNS}, {name: c, lb_policy: RANDOM}]");
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.n, 3);
    assert_string_equal(p.clusters[0]->name, "a");
    assert_string_equal(p.clusters[1]->name, "b");
    assert_string_equal(p.clusters[2]->name, "c");
    parsed_free(&p);
}

/* ---- rejected configs: exact paths ---- */

static void test_errors_cluster_fields(void **state)
{
    bad("[{name: ''}]", "static_resources.clusters[0].name", "at least 1");
    bad("[{name: a}, {connect_timeout: 1s}]", "static_resources.clusters[1].name", "at least 1");
    bad("[{name: a}, {name: b}, {name: a}]", "static_resources.clusters[2].name",
        "duplicate cluster 'a'");
    bad("[{name: a, type: EDS}]", "static_resources.clusters[0].type", "EDS is not supported");
    bad("[{name: a, type: ORIGINAL_DST}]", "static_resources.clusters[0].type",
        "ORIGINAL_DST is not supported");
    bad("[{name: a, connect_timeout: 0s}]", "static_resources.clusters[0].connect_timeout",
        "greater than 0s");
    bad("[{name: a, connect_timeout: -1s}]", "static_resources.clusters[0].connect_timeout",
        "greater than 0s");
    bad("[{name: a, dns_refresh_rate: 0.001s}]", "static_resources.clusters[0].dns_refresh_rate",
        "greater than 1ms");
    bad("[{name: a, lb_policy: RING_HASH}]", "static_resources.clusters[0].lb_policy",
        "RING_HASH is not supported");
    bad("[{name: a, lb_policy: MAGLEV}]", "static_resources.clusters[0].lb_policy",
        "MAGLEV is not supported");
    bad("[{name: a, lb_policy: CLUSTER_PROVIDED}]", "static_resources.clusters[0].lb_policy",
        "CLUSTER_PROVIDED is not supported");
    bad("[{name: a, lb_policy: LOAD_BALANCING_POLICY_CONFIG}]",
        "static_resources.clusters[0].lb_policy", "not supported");
}

static void test_errors_load_assignment(void **state)
{
    const char *p0 = "static_resources.clusters[1].load_assignment.endpoints[0]";
    char want[256];

    bad("[{name: a}, {name: b, load_assignment: {endpoints: []}}]",
        "static_resources.clusters[1].load_assignment.cluster_name", "at least 1");
    bad("[{name: a}, {name: b, " LA("b", "{priority: 1, lb_endpoints: []}") "}]",
        (snprintf(want, sizeof(want), "%s.priority", p0), want), "other than 0");
    bad("[{name: a}, {name: b, " LA("b", "{priority: 129}") "}]",
        (snprintf(want, sizeof(want), "%s.priority", p0), want), "less than or equal to 128");
    bad("[{name: a}, {name: b, " LA("b", "{load_balancing_weight: 0}") "}]",
        (snprintf(want, sizeof(want), "%s.load_balancing_weight", p0), want),
        "greater than or equal to 1");
    bad("[{name: a}, {name: b, " LA(
            "b", "{lb_endpoints: [" SOCK("1.1.1.1",
                                         1) ","
                                            " {endpoint: {address: {socket_address: {address: "
                                            "1.1.1.2}}}, load_balancing_weight: 0}]}") "}]",
        (snprintf(want, sizeof(want), "%s.lb_endpoints[1].load_balancing_weight", p0), want),
        "greater than or equal to 1");
    bad("[{name: a}, {name: b, " LA("b", "{lb_endpoints: [{health_status: HEALTHY}]}") "}]",
        (snprintf(want, sizeof(want), "%s.lb_endpoints[0].endpoint", p0), want), "must be set");
    bad("[{name: a}, {name: b, " LA("b", "{lb_endpoints: [{endpoint: {hostname: h}}]}") "}]",
        (snprintf(want, sizeof(want), "%s.lb_endpoints[0].endpoint.address", p0), want),
        "socket_address or a pipe");
    bad("[{name: a}, {name: b, " LA("b", "{lb_endpoints: [" SOCK("", 80) "]}") "}]",
        (snprintf(want, sizeof(want), "%s.lb_endpoints[0].endpoint.address.socket_address.address",
                  p0),
         want),
        "at least 1");
    bad("[{name: a}, {name: b, " LA("b", "{lb_endpoints: [" SOCK("1.2.3.4", 70000) "]}") "}]",
        (snprintf(want, sizeof(want),
                  "%s.lb_endpoints[0].endpoint.address.socket_address.port_value", p0),
         want),
        "less than or equal to 65535");
    bad("[{name: a}, {name: b, " LA("b",
                                    "{lb_endpoints: [{endpoint: {address: {socket_address: "
                                    "{address: 1.2.3.4, port_value: 53, protocol: UDP}}}}]}") "}]",
        (snprintf(want, sizeof(want), "%s.lb_endpoints[0].endpoint.address.socket_address.protocol",
                  p0),
         want),
        "TCP");
    bad("[{name: a}, {name: b, " LA(
            "b", "{lb_endpoints: [" SOCK("10.0.0.1", 80) "," SOCK("example.com", 80) "]}") "}]",
        "static_resources.clusters[1].load_assignment.endpoints[0].lb_endpoints[1].endpoint."
        "address.socket_address.address",
        "malformed IP address: example.com. Consider setting resolver_name or setting cluster "
        "type to 'STRICT_DNS' or 'LOGICAL_DNS'");
    bad("[{name: a, " LA("a",
                         "{lb_endpoints: []}, {lb_endpoints: [" SOCK("10.0.0.1.5", 80) "]}") "}]",
        "static_resources.clusters[0].load_assignment.endpoints[1].lb_endpoints[0].endpoint."
        "address.socket_address.address",
        "malformed IP address: 10.0.0.1.5");
    bad("[{name: a, " LA("a", "{lb_endpoints: [{endpoint: {address: {pipe: {path: ''}}}}]}") "}]",
        "static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint."
        "address.pipe.path",
        "at least 1");
    bad("[{name: a, " LA("a", "{lb_endpoints: [{endpoint: {address: {pipe: {path: /x, mode: "
                              "512}}}}]}") "}]",
        "static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint."
        "address.pipe.mode",
        "less than or equal to 511");
    char longpath[512];
    snprintf(longpath, sizeof(longpath),
             "[{name: a, " LA(
                 "a", "{lb_endpoints: [{endpoint: {address: {pipe: {path: /%0200d}}}}]}") "}]",
             0);
    bad(longpath,
        "static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint."
        "address.pipe.path",
        "maximum UNIX domain socket path size");
    bad("[{name: a, type: STRICT_DNS, " LA("a", "{lb_endpoints: [{endpoint: {address: {pipe: "
                                                "{path: /x}}}}]}") "}]",
        "static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint."
        "address",
        "STRICT_DNS clusters resolve names");
    bad("[{name: a, " LA("a", "{lb_endpoints: [{endpoint: {address: {socket_address: {address: "
                              "1.1.1.1}}}, load_balancing_weight: 4294967295},"
                              "{endpoint: {address: {socket_address: {address: 1.1.1.2}}},"
                              " load_balancing_weight: 1}]}") "}]",
        "static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints",
        "exceeds 4294967295");
}

static void test_errors_logical_dns(void **state)
{
    const char *msg = "LOGICAL_DNS clusters must have a single locality_lb_endpoint and a single "
                      "lb_endpoint";
    bad("[{name: a, type: LOGICAL_DNS}]", "static_resources.clusters[0].load_assignment", msg);
    bad("[{name: a, type: LOGICAL_DNS, " LA("a", "") "}]",
        "static_resources.clusters[0].load_assignment", msg);
    bad("[{name: a, type: LOGICAL_DNS, " LA(
            "a", "{lb_endpoints: [" SOCK("a.b", 1) "," SOCK("c.d", 1) "]}") "}]",
        "static_resources.clusters[0].load_assignment", msg);
    bad("[{name: a, type: LOGICAL_DNS, " LA(
            "a", "{lb_endpoints: [" SOCK("a.b", 1) "]}, {lb_endpoints: [" SOCK("c.d", 1) "]}") "}]",
        "static_resources.clusters[0].load_assignment", msg);
}

/* Values the YAML loader refuses (undefined enum numbers, invalid Durations) can still come off the
 * wire in xDS: translation must reject them on its own. */
static void test_errors_from_the_wire(void **state)
{
    struct or_err_detail err;
    struct or_cluster *c = NULL;

    Envoy__Config__Cluster__V3__Cluster pb = ENVOY__CONFIG__CLUSTER__V3__CLUSTER__INIT;
    pb.name = "w";
    pb.cluster_discovery_type_case =
        ENVOY__CONFIG__CLUSTER__V3__CLUSTER__CLUSTER_DISCOVERY_TYPE_TYPE;
    pb.type = 42;
    memset(&err, 0, sizeof(err));
    assert_int_equal(or_cluster_from_proto(&pb, "cds[w]", &c, &err), OR_EINVAL);
    assert_string_equal(err.path, "cds[w].type");
    assert_null(c);
    pb.type = ENVOY__CONFIG__CLUSTER__V3__CLUSTER__DISCOVERY_TYPE__STATIC;

    pb.lb_policy = 4; /* reserved (ORIGINAL_DST_LB) */
    assert_int_equal(or_cluster_from_proto(&pb, "cds[w]", &c, &err), OR_EINVAL);
    assert_string_equal(err.path, "cds[w].lb_policy");
    pb.lb_policy = 0;

    pb.dns_lookup_family = 9;
    assert_int_equal(or_cluster_from_proto(&pb, "cds[w]", &c, &err), OR_EINVAL);
    assert_string_equal(err.path, "cds[w].dns_lookup_family");
    pb.dns_lookup_family = 0;

    Google__Protobuf__Duration d = GOOGLE__PROTOBUF__DURATION__INIT;
    d.seconds = 1;
    d.nanos = -5;
    pb.connect_timeout = &d;
    assert_int_equal(or_cluster_from_proto(&pb, "cds[w]", &c, &err), OR_EINVAL);
    assert_string_equal(err.path, "cds[w].connect_timeout");
    assert_string_equal(err.msg, "value must be a valid duration");
    pb.connect_timeout = NULL;

    Envoy__Config__Cluster__V3__CircuitBreakers__Thresholds th =
        ENVOY__CONFIG__CLUSTER__V3__CIRCUIT_BREAKERS__THRESHOLDS__INIT;
    Envoy__Config__Cluster__V3__CircuitBreakers__Thresholds *ths[2] = {&th, &th};
    Envoy__Config__Cluster__V3__CircuitBreakers cb =
        ENVOY__CONFIG__CLUSTER__V3__CIRCUIT_BREAKERS__INIT;
    cb.n_thresholds = 2;
    cb.thresholds = ths;
    pb.circuit_breakers = &cb;
    th.priority = 0;
    assert_int_equal(or_cluster_from_proto(&pb, "cds[w]", &c, &err), 0);
    or_cluster_unref(c);
    c = NULL;
    ths[1] = &(Envoy__Config__Cluster__V3__CircuitBreakers__Thresholds)
                 ENVOY__CONFIG__CLUSTER__V3__CIRCUIT_BREAKERS__THRESHOLDS__INIT;
    ths[1]->priority = 2;
    assert_int_equal(or_cluster_from_proto(&pb, "cds[w]", &c, &err), OR_EINVAL);
    assert_string_equal(err.path, "cds[w].circuit_breakers.thresholds[1].priority");
    pb.circuit_breakers = NULL;

    Envoy__Config__Core__V3__SocketAddress sa = ENVOY__CONFIG__CORE__V3__SOCKET_ADDRESS__INIT;
    sa.address = "1.2.3.4";
    Envoy__Config__Core__V3__Address addr = ENVOY__CONFIG__CORE__V3__ADDRESS__INIT;
    addr.address_case = ENVOY__CONFIG__CORE__V3__ADDRESS__ADDRESS_SOCKET_ADDRESS;
    addr.socket_address = &sa;
    Envoy__Config__Endpoint__V3__Endpoint ep = ENVOY__CONFIG__ENDPOINT__V3__ENDPOINT__INIT;
    ep.address = &addr;
    Envoy__Config__Endpoint__V3__LbEndpoint lbe = ENVOY__CONFIG__ENDPOINT__V3__LB_ENDPOINT__INIT;
    lbe.host_identifier_case = ENVOY__CONFIG__ENDPOINT__V3__LB_ENDPOINT__HOST_IDENTIFIER_ENDPOINT;
    lbe.endpoint = &ep;
    lbe.health_status = 77;
    Envoy__Config__Endpoint__V3__LbEndpoint *lbes[1] = {&lbe};
    Envoy__Config__Endpoint__V3__LocalityLbEndpoints lle =
        ENVOY__CONFIG__ENDPOINT__V3__LOCALITY_LB_ENDPOINTS__INIT;
    lle.n_lb_endpoints = 1;
    lle.lb_endpoints = lbes;
    Envoy__Config__Endpoint__V3__LocalityLbEndpoints *lles[1] = {&lle};
    Envoy__Config__Endpoint__V3__ClusterLoadAssignment la =
        ENVOY__CONFIG__ENDPOINT__V3__CLUSTER_LOAD_ASSIGNMENT__INIT;
    la.cluster_name = "w";
    la.n_endpoints = 1;
    la.endpoints = lles;
    pb.load_assignment = &la;
    assert_int_equal(or_cluster_from_proto(&pb, "cds[w]", &c, &err), OR_EINVAL);
    assert_string_equal(err.path,
                        "cds[w].load_assignment.endpoints[0].lb_endpoints[0].health_status");
    lbe.health_status = ENVOY__CONFIG__CORE__V3__HEALTH_STATUS__DEGRADED;
    assert_int_equal(or_cluster_from_proto(&pb, "cds[w]", &c, &err), 0);
    assert_int_equal(c->endpoints[0].health, OR_HOST_HEALTH_DEGRADED);
    or_cluster_unref(c);
}

/* ---- hosts and host sets ---- */

static void test_sockaddr_helpers(void **state)
{
    struct sockaddr_storage a, b;
    socklen_t al, bl;
    assert_int_equal(or_sockaddr_from_ip("127.0.0.1", 80, &a, &al), 0);
    assert_int_equal(or_sockaddr_from_ip("127.0.0.1", 80, &b, &bl), 0);
    assert_true(or_sockaddr_equal((struct sockaddr *)&a, al, (struct sockaddr *)&b, bl));
    assert_int_equal(or_sockaddr_from_ip("127.0.0.1", 81, &b, &bl), 0);
    assert_false(or_sockaddr_equal((struct sockaddr *)&a, al, (struct sockaddr *)&b, bl));
    assert_int_equal(or_sockaddr_from_ip("::ffff:127.0.0.1", 80, &b, &bl), 0);
    assert_false(or_sockaddr_equal((struct sockaddr *)&a, al, (struct sockaddr *)&b, bl));
    assert_int_equal(or_sockaddr_from_ip("fe80::1%lo", 9, &b, &bl), 0);
    assert_int_equal(b.ss_family, AF_INET6);
    assert_int_not_equal(((struct sockaddr_in6 *)&b)->sin6_scope_id, 0);
    assert_int_equal(or_sockaddr_from_ip("localhost", 80, &b, &bl), OR_EINVAL);
    assert_int_equal(or_sockaddr_from_ip("1.2.3", 80, &b, &bl), OR_EINVAL);
    assert_int_equal(or_sockaddr_from_ip("", 80, &b, &bl), OR_EINVAL);

    char buf[8];
    assert_int_equal(or_sockaddr_format((struct sockaddr *)&a, al, buf, sizeof(buf)), OR_ETOOBIG);
    char big[OR_HOST_ADDR_STR_MAX];
    assert_int_equal(or_sockaddr_format((struct sockaddr *)&a, al, big, sizeof(big)), 12);
    assert_string_equal(big, "127.0.0.1:80");

    assert_int_equal(or_sockaddr_from_pipe("", &b, &bl), OR_EINVAL);
    assert_int_equal(or_sockaddr_from_pipe("/run/x", &b, &bl), 0);
    assert_int_equal(or_sockaddr_format((struct sockaddr *)&b, bl, big, sizeof(big)), 6);
    assert_string_equal(big, "/run/x");
}

static void test_hostset_refcounts(void **state)
{
    struct or_cluster *c = or_cluster_new("rc");
    assert_non_null(c);
    assert_int_equal(
        or_cluster_add_endpoint(c, "10.0.0.1", 80, false, "h1", 2, OR_HOST_HEALTH_HEALTHY), 0);
    assert_int_equal(or_cluster_add_endpoint(c, "not-an-ip", 80, false, NULL, 1, 0), OR_EINVAL);
    c->type = OR_CLUSTER_STRICT_DNS;
    assert_int_equal(or_cluster_add_endpoint(c, "/x", 0, true, NULL, 1, 0), OR_EINVAL);
    assert_int_equal(or_cluster_add_endpoint(c, "name.test", 81, false, NULL, 0, 0), 0);
    assert_int_equal(c->endpoints[1].weight, 1);

    struct or_host *hosts[2];
    for (int i = 0; i < 2; i++) {
        struct sockaddr_storage ss;
        socklen_t len;
        assert_int_equal(or_sockaddr_from_ip(i ? "10.0.0.2" : "10.0.0.1", 80, &ss, &len), 0);
        hosts[i] = or_host_new((struct sockaddr *)&ss, len, "h", (uint32_t)(i + 1) * 10, 0);
        assert_non_null(hosts[i]);
    }
    struct or_hostset *hs1 = or_hostset_new(c, 1, hosts, 2);
    struct or_hostset *hs2 = or_hostset_new(c, 2, hosts + 1, 1);
    assert_non_null(hs1);
    assert_non_null(hs2);
    assert_int_equal(hs1->total_weight, 30);
    assert_int_equal(hs2->total_weight, 20);
    assert_int_equal(hs1->version, 1);
    assert_ptr_equal(hs1->cluster, c);
    assert_int_equal(atomic_load(&c->refs), 3);
    assert_int_equal(atomic_load(&hosts[0]->refs), 2);
    assert_int_equal(atomic_load(&hosts[1]->refs), 3);

    /* A worker's reference, as the owner posts the set. */
    or_hostset_ref(hs1);
    assert_int_equal(atomic_load(&hs1->refs), 2);
    or_hostset_unref(hs1);
    or_hostset_unref(hs1);
    assert_int_equal(atomic_load(&hosts[0]->refs), 1);
    assert_int_equal(atomic_load(&hosts[1]->refs), 2);
    assert_int_equal(atomic_load(&c->refs), 2);

    or_host_unref(hosts[0]);
    or_host_unref(hosts[1]);
    /* hosts[1] and the cluster live on through hs2. */
    assert_int_equal(atomic_load(&hs2->hosts[0]->refs), 1);
    assert_string_equal(hs2->hosts[0]->addr_str, "10.0.0.2:80");
    or_cluster_unref(c);
    assert_string_equal(hs2->cluster->name, "rc");
    or_hostset_unref(hs2);

    /* Empty set, no cluster (tests and placeholders). */
    struct or_hostset *empty = or_hostset_new(NULL, 7, NULL, 0);
    assert_non_null(empty);
    assert_int_equal(empty->n_hosts, 0);
    or_hostset_unref(empty);
    or_hostset_unref(NULL);
    or_host_unref(NULL);
    or_cluster_unref(NULL);
}

static void test_host_new_rejects(void **state)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    ss.ss_family = AF_PACKET;
    assert_null(or_host_new((struct sockaddr *)&ss, sizeof(ss), NULL, 1, 0));
    ss.ss_family = AF_INET;
    assert_null(or_host_new((struct sockaddr *)&ss, 0, NULL, 1, 0));
    assert_null(or_host_new((struct sockaddr *)&ss, sizeof(ss) + 1, NULL, 1, 0));
    struct or_host *h = or_host_new((struct sockaddr *)&ss, sizeof(struct sockaddr_in), NULL, 0, 0);
    assert_non_null(h);
    assert_int_equal(h->weight, 1);
    assert_string_equal(h->addr_str, "0.0.0.0:0");
    or_host_unref(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_every_field),
        cmocka_unit_test(test_lb_policies_and_families),
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_static_addresses),
        cmocka_unit_test(test_threshold_first_entry_wins),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_many_clusters),
        cmocka_unit_test(test_errors_cluster_fields),
        cmocka_unit_test(test_errors_load_assignment),
        cmocka_unit_test(test_errors_logical_dns),
        cmocka_unit_test(test_errors_from_the_wire),
        cmocka_unit_test(test_sockaddr_helpers),
        cmocka_unit_test(test_hostset_refcounts),
        cmocka_unit_test(test_host_new_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
