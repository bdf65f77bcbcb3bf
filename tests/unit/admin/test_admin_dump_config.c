/* /config_dump: the dump built from a loaded bootstrap round-trips through our own loader (its JSON
 * parses onto envoy.admin.v3.ConfigDump and every Any unpacks to exactly the configured message),
 * in Envoy's part order and layout; ?resource=, ?mask=, ?name_regex= and ?include_eds with
 * Envoy's semantics and error texts; the loaded bootstrap is never modified. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "envoy/admin/v3/config_dump.pb-c.h"
#include "envoy/admin/v3/config_dump_shared.pb-c.h"
#include "envoy/config/endpoint/v3/endpoint.pb-c.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb-c.h"
#include "proxy/admin/config_dump.h"
#include "proxy/config/reflect.h"
#include "proxy/config/snapshot.h"
#include "proxy/core/err.h"
#include "proxy/router/regex.h"
#include "proxy/upstream/cluster_manager.h"

#define HCM_URL                                                                                    \
    "type.googleapis.com/"                                                                         \
    "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
#define ROUTER_URL "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"

static const char bootstrap_yaml[] =
    "node: {id: n1, cluster: c1, locality: {zone: z}}\n"
    "admin: {address: {socket_address: {address: 127.0.0.1, port_value: 9901}}}\n"
    "static_resources:\n"
    "  listeners:\n"
    "  - name: ingress\n"
    "    address: {socket_address: {address: 0.0.0.0, port_value: 15000}}\n"
    "    traffic_direction: INBOUND\n"
    "    filter_chains:\n"
    "    - filters:\n"
    "      - name: envoy.filters.network.http_connection_manager\n"
    "        typed_config:\n"
    "          '@type': " HCM_URL "\n"
    "          stat_prefix: ingress\n"
    "          route_config:\n"
    "            name: local_route\n"
    "            virtual_hosts:\n"
    "            - {name: all, domains: ['*'], routes: [{match: {prefix: /}, route: {cluster: app, "
    "timeout: 15s}}]}\n"
    "          http_filters: [{name: envoy.filters.http.router, typed_config: {'@type': " ROUTER_URL
    "}}]\n"
    "  - name: egress\n"
    "    address: {socket_address: {address: 127.0.0.1, port_value: 15001}}\n"
    "    filter_chains:\n"
    "    - filters:\n"
    "      - name: envoy.filters.network.http_connection_manager\n"
    "        typed_config:\n"
    "          '@type': " HCM_URL "\n"
    "          stat_prefix: egress\n"
    "          route_config:\n"
    "            name: egress_route\n"
    "            virtual_hosts:\n"
    "            - {name: svc, domains: [svc], routes: [{match: {prefix: /}, route: {cluster: "
    "svc}}]}\n"
    "  clusters:\n"
    "  - name: app\n"
    "    connect_timeout: 0.25s\n"
    "    load_assignment:\n"
    "      cluster_name: app\n"
    "      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, "
    "port_value: 8080}}}}]}]\n"
    "  - name: svc\n"
    "    type: STATIC\n"
    "    circuit_breakers: {thresholds: [{max_connections: 7}]}\n"
    "    load_assignment:\n"
    "      cluster_name: svc\n"
    "      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 10.0.0.2, "
    "port_value: 80}}, hostname: svc-host}, load_balancing_weight: 3, health_status: "
    "DEGRADED}]}]\n";

/* 2024-01-02T03:04:05.678Z */
#define LAST_UPDATED_MS 1704164645678LL

struct fixture {
    Envoy__Config__Bootstrap__V3__Bootstrap *boot;
    struct or_snapshot *snap;
    struct or_admin_dump_src src;
    uint8_t *boot_bytes; /* the bootstrap packed before any dump, to prove it is never changed */
    size_t boot_len;
};

static uint8_t *pack(const ProtobufCMessage *m, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *b = malloc(*len + 1);
    assert_non_null(b);
    protobuf_c_message_pack(m, b);
    return b;
}

static void assert_same_message(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
    assert_ptr_equal(a->descriptor, b->descriptor);
    size_t la, lb;
    uint8_t *pa = pack(a, &la), *pb = pack(b, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(pa, pb, la);
    free(pa);
    free(pb);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct or_err_detail err;
    ProtobufCMessage *m = NULL;
    memset(&err, 0, sizeof(err));
    if (or_config_parse(bootstrap_yaml, strlen(bootstrap_yaml),
                        &envoy__config__bootstrap__v3__bootstrap__descriptor, &m, &err) != 0) {
        print_error("%s: %s\n", err.path, err.msg);
        return -1;
    }
    f->boot = (Envoy__Config__Bootstrap__V3__Bootstrap *)m;
    if (or_snapshot_build(f->boot, &f->snap, &err) != 0) {
        print_error("%s: %s\n", err.path, err.msg);
        return -1;
    }
    f->src.bootstrap = f->boot;
    f->src.snapshot = f->snap;
    f->src.last_updated_ms = LAST_UPDATED_MS;
    f->boot_bytes = pack(&f->boot->base, &f->boot_len);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    /* No dump may have written into the borrowed bootstrap. */
    size_t len;
    uint8_t *now = pack(&f->boot->base, &len);
    assert_int_equal(len, f->boot_len);
    assert_memory_equal(now, f->boot_bytes, len);
    free(now);
    free(f->boot_bytes);
    or_snapshot_free(f->snap);
    or_config_free(&f->boot->base);
    free(f);
    return 0;
}

/* Runs the dump; returns the status, the body in *body (malloc'd). */
static int run(const struct fixture *f, const struct or_admin_dump_query *q, char **body,
               bool *is_json)
{
    struct evbuffer *b = evbuffer_new();
    bool json = false;
    int status = or_admin_config_dump(&f->src, q, b, &json);
    size_t n = evbuffer_get_length(b);
    *body = malloc(n + 1);
    evbuffer_remove(b, *body, n);
    (*body)[n] = '\0';
    evbuffer_free(b);
    if (is_json != NULL)
        *is_json = json;
    return status;
}

/* The JSON parsed back onto ConfigDump with our loader. */
static Envoy__Admin__V3__ConfigDump *load_dump(const char *json)
{
    ProtobufCMessage *m = NULL;
    struct or_err_detail err;
    memset(&err, 0, sizeof(err));
    if (or_config_parse(json, strlen(json), &envoy__admin__v3__config_dump__descriptor, &m, &err) !=
        0)
        fail_msg("dump does not load back: %s: %s\n%s", err.path, err.msg, json);
    return (Envoy__Admin__V3__ConfigDump *)m;
}

static ProtobufCMessage *unpack(const Google__Protobuf__Any *any,
                                const ProtobufCMessageDescriptor *want)
{
    ProtobufCMessage *m = NULL;
    struct or_err_detail err;
    memset(&err, 0, sizeof(err));
    if (or_config_unpack_any(any, want, &m, &err, "any") != 0)
        fail_msg("unpack %s: %s: %s", any->type_url, err.path, err.msg);
    return m;
}

static const ProtobufCMessage *hcm_route_config(const Envoy__Config__Listener__V3__Listener *l,
                                                ProtobufCMessage **hcm_out)
{
    *hcm_out = unpack(
        l->filter_chains[0]->filters[0]->typed_config,
        &envoy__extensions__filters__network__http_connection_manager__v3__http_connection_manager__descriptor);
    return &((Envoy__Extensions__Filters__Network__HttpConnectionManager__V3__HttpConnectionManager
                  *)*hcm_out)
                ->route_config->base;
}

/* ---- the whole dump ---- */

static void test_full_dump_round_trip(void **state)
{
    struct fixture *f = *state;
    char *json;
    bool is_json;
    assert_int_equal(run(f, NULL, &json, &is_json), 200);
    assert_true(is_json);
    Envoy__Admin__V3__ConfigDump *cd = load_dump(json);
    static const char *const types[] = {
        "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump",
        "type.googleapis.com/envoy.admin.v3.ClustersConfigDump",
        "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
        "type.googleapis.com/envoy.admin.v3.ScopedRoutesConfigDump",
        "type.googleapis.com/envoy.admin.v3.RoutesConfigDump",
        "type.googleapis.com/envoy.admin.v3.SecretsConfigDump",
    };
    assert_int_equal(cd->n_configs, 6);
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(cd->configs[i]->type_url, types[i]);

    /* Bootstrap: the loaded one, with node.user_agent_name defaulted as Envoy does. */
    Envoy__Admin__V3__BootstrapConfigDump *bd = (Envoy__Admin__V3__BootstrapConfigDump *)unpack(
        cd->configs[0], &envoy__admin__v3__bootstrap_config_dump__descriptor);
    assert_string_equal(bd->bootstrap->node->user_agent_name, "envoy");
    assert_int_equal(bd->last_updated->seconds, LAST_UPDATED_MS / 1000);
    assert_int_equal(bd->last_updated->nanos, 678000000);
    Envoy__Config__Core__V3__Node node = *f->boot->node;
    node.user_agent_name = "envoy";
    Envoy__Config__Bootstrap__V3__Bootstrap want = *f->boot;
    want.node = &node;
    assert_same_message(&bd->bootstrap->base, &want.base);
    or_config_free(&bd->base);

    /* Clusters: every static cluster exactly as configured, in config order. */
    Envoy__Admin__V3__ClustersConfigDump *cl = (Envoy__Admin__V3__ClustersConfigDump *)unpack(
        cd->configs[1], &envoy__admin__v3__clusters_config_dump__descriptor);
    assert_string_equal(cl->version_info, "");
    assert_int_equal(cl->n_static_clusters, 2);
    assert_int_equal(cl->n_dynamic_active_clusters, 0);
    for (size_t i = 0; i < 2; i++) {
        ProtobufCMessage *c = unpack(cl->static_clusters[i]->cluster,
                                     &envoy__config__cluster__v3__cluster__descriptor);
        assert_same_message(c, &f->boot->static_resources->clusters[i]->base);
        assert_int_equal(cl->static_clusters[i]->last_updated->seconds, LAST_UPDATED_MS / 1000);
        or_config_free(c);
    }
    or_config_free(&cl->base);

    /* Listeners, and the inline route configs of their HTTP connection managers. */
    Envoy__Admin__V3__ListenersConfigDump *ld = (Envoy__Admin__V3__ListenersConfigDump *)unpack(
        cd->configs[2], &envoy__admin__v3__listeners_config_dump__descriptor);
    Envoy__Admin__V3__RoutesConfigDump *rd = (Envoy__Admin__V3__RoutesConfigDump *)unpack(
        cd->configs[4], &envoy__admin__v3__routes_config_dump__descriptor);
    assert_int_equal(ld->n_static_listeners, 2);
    assert_int_equal(rd->n_static_route_configs, 2);
    assert_int_equal(rd->n_dynamic_route_configs, 0);
    for (size_t i = 0; i < 2; i++) {
        const Envoy__Config__Listener__V3__Listener *orig = f->boot->static_resources->listeners[i];
        ProtobufCMessage *l = unpack(ld->static_listeners[i]->listener,
                                     &envoy__config__listener__v3__listener__descriptor);
        assert_same_message(l, &orig->base);
        or_config_free(l);
        ProtobufCMessage *hcm;
        const ProtobufCMessage *want_rc = hcm_route_config(orig, &hcm);
        ProtobufCMessage *rc = unpack(rd->static_route_configs[i]->route_config,
                                      &envoy__config__route__v3__route_configuration__descriptor);
        assert_same_message(rc, want_rc);
        assert_non_null(rd->static_route_configs[i]->last_updated);
        or_config_free(rc);
        or_config_free(hcm);
    }
    or_config_free(&ld->base);
    or_config_free(&rd->base);

    /* Nothing scoped, no secrets: the parts are present and empty, as in Envoy. */
    assert_int_equal(cd->configs[3]->value.len, 0);
    assert_int_equal(cd->configs[5]->value.len, 0);
    or_config_free(&cd->base);
    free(json);
}

/* Envoy's layout: protobuf's pretty printer, "@type" first, RFC 3339 timestamps, a final newline.
 */
static void test_full_dump_layout(void **state)
{
    struct fixture *f = *state;
    char *json;
    assert_int_equal(run(f, NULL, &json, NULL), 200);
    static const char head[] =
        "{\n"
        " \"configs\": [\n"
        "  {\n"
        "   \"@type\": \"type.googleapis.com/envoy.admin.v3.BootstrapConfigDump\",\n"
        "   \"bootstrap\": {\n"
        "    \"node\": {\n"
        "     \"id\": \"n1\",\n"
        "     \"cluster\": \"c1\",\n"
        "     \"locality\": {\n"
        "      \"zone\": \"z\"\n"
        "     },\n"
        "     \"user_agent_name\": \"envoy\"\n"
        "    },\n";
    assert_memory_equal(json, head, sizeof(head) - 1);
    assert_non_null(strstr(json, "\n   \"last_updated\": \"2024-01-02T03:04:05.678Z\"\n"));
    assert_non_null(strstr(json, "\n   \"static_clusters\": [\n    {\n     \"cluster\": {\n"
                                 "      \"@type\": "
                                 "\"type.googleapis.com/envoy.config.cluster.v3.Cluster\",\n"
                                 "      \"name\": \"app\",\n"));
    assert_non_null(strstr(json, "  {\n   \"@type\": "
                                 "\"type.googleapis.com/envoy.admin.v3.ScopedRoutesConfigDump\"\n"
                                 "  },\n"));
    assert_non_null(strstr(json, "\"timeout\": \"15s\""));
    size_t n = strlen(json);
    assert_true(n > 9);
    assert_string_equal(json + n - 9, "  }\n ]\n}\n");
    free(json);
}

/* No bootstrap at all (and no HCM): bootstrap, clusters, listeners and secrets parts only. */
static void test_empty_source(void **state)
{
    struct or_admin_dump_src src;
    memset(&src, 0, sizeof(src));
    struct evbuffer *b = evbuffer_new();
    bool json;
    assert_int_equal(or_admin_config_dump(&src, NULL, b, &json), 200);
    size_t n = evbuffer_get_length(b);
    char *s = malloc(n + 1);
    evbuffer_remove(b, s, n);
    s[n] = '\0';
    Envoy__Admin__V3__ConfigDump *cd = load_dump(s);
    assert_int_equal(cd->n_configs, 4);
    assert_string_equal(cd->configs[3]->type_url,
                        "type.googleapis.com/envoy.admin.v3.SecretsConfigDump");
    assert_non_null(strstr(s, "\"user_agent_name\": \"envoy\""));
    assert_non_null(strstr(s, "\"last_updated\": \"1970-01-01T00:00:00Z\""));
    or_config_free(&cd->base);
    free(s);
    evbuffer_free(b);
}

/* ---- ?resource= ---- */

static void test_resource(void **state)
{
    struct fixture *f = *state;
    struct or_admin_dump_query q = {.resource = "static_clusters"};
    char *json;
    bool is_json;
    assert_int_equal(run(f, &q, &json, &is_json), 200);
    assert_true(is_json);
    Envoy__Admin__V3__ConfigDump *cd = load_dump(json);
    assert_int_equal(cd->n_configs, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(cd->configs[i]->type_url,
                            "type.googleapis.com/envoy.admin.v3.ClustersConfigDump.StaticCluster");
        Envoy__Admin__V3__ClustersConfigDump__StaticCluster *sc =
            (Envoy__Admin__V3__ClustersConfigDump__StaticCluster *)unpack(
                cd->configs[i],
                &envoy__admin__v3__clusters_config_dump__static_cluster__descriptor);
        ProtobufCMessage *c = unpack(sc->cluster, &envoy__config__cluster__v3__cluster__descriptor);
        assert_same_message(c, &f->boot->static_resources->clusters[i]->base);
        or_config_free(c);
        or_config_free(&sc->base);
    }
    or_config_free(&cd->base);
    free(json);

    q.resource = "static_route_configs";
    assert_int_equal(run(f, &q, &json, NULL), 200);
    cd = load_dump(json);
    assert_int_equal(cd->n_configs, 2);
    assert_string_equal(cd->configs[1]->type_url,
                        "type.googleapis.com/envoy.admin.v3.RoutesConfigDump.StaticRouteConfig");
    or_config_free(&cd->base);
    free(json);

    q.resource = "dynamic_active_clusters";
    assert_int_equal(run(f, &q, &json, NULL), 200);
    assert_string_equal(json, "{}\n");
    free(json);

    q.resource = "bootstrap";
    assert_int_equal(run(f, &q, &json, &is_json), 400);
    assert_false(is_json);
    assert_string_equal(
        json, "bootstrap is not a repeated field. Use ?mask=bootstrap to get only this field");
    free(json);

    q.resource = "nope";
    assert_int_equal(run(f, &q, &json, NULL), 404);
    assert_string_equal(json, "nope not found in config dump");
    free(json);
}

/* ---- ?mask= ---- */

static void test_mask_all_parts(void **state)
{
    struct fixture *f = *state;
    struct or_admin_dump_query q = {.mask = "static_clusters"};
    char *json;
    /* Only ClustersConfigDump has the field: the other parts are left out. */
    assert_int_equal(run(f, &q, &json, NULL), 200);
    Envoy__Admin__V3__ConfigDump *cd = load_dump(json);
    assert_int_equal(cd->n_configs, 1);
    Envoy__Admin__V3__ClustersConfigDump *cl = (Envoy__Admin__V3__ClustersConfigDump *)unpack(
        cd->configs[0], &envoy__admin__v3__clusters_config_dump__descriptor);
    assert_int_equal(cl->n_static_clusters, 2);
    or_config_free(&cl->base);
    or_config_free(&cd->base);
    free(json);

    /* Through singular messages: only node.id and the timestamp of the bootstrap survive. */
    q.mask = "bootstrap.node.id,last_updated";
    assert_int_equal(run(f, &q, &json, NULL), 200);
    cd = load_dump(json);
    assert_int_equal(cd->n_configs, 1);
    Envoy__Admin__V3__BootstrapConfigDump *bd = (Envoy__Admin__V3__BootstrapConfigDump *)unpack(
        cd->configs[0], &envoy__admin__v3__bootstrap_config_dump__descriptor);
    assert_string_equal(bd->bootstrap->node->id, "n1");
    assert_string_equal(bd->bootstrap->node->cluster, "");
    assert_null(bd->bootstrap->node->locality);
    assert_null(bd->bootstrap->static_resources);
    assert_null(bd->bootstrap->admin);
    assert_non_null(bd->last_updated);
    or_config_free(&bd->base);
    or_config_free(&cd->base);
    free(json);

    /* A shorter path covers a longer one. */
    q.mask = "bootstrap.node.id,bootstrap.node";
    assert_int_equal(run(f, &q, &json, NULL), 200);
    assert_non_null(strstr(json, "\"zone\": \"z\""));
    assert_null(strstr(json, "static_resources"));
    free(json);

    /* Paths cannot go through repeated fields. */
    q.mask = "static_clusters.cluster";
    assert_int_equal(run(f, &q, &json, NULL), 400);
    assert_string_equal(
        json,
        "FieldMask static_clusters.cluster could not be successfully applied to any configs.");
    free(json);
}

static void test_mask_with_resource(void **state)
{
    struct fixture *f = *state;
    struct or_admin_dump_query q = {.resource = "static_clusters", .mask = "cluster.name"};
    char *json;
    assert_int_equal(run(f, &q, &json, NULL), 200);
    Envoy__Admin__V3__ConfigDump *cd = load_dump(json);
    assert_int_equal(cd->n_configs, 2);
    Envoy__Admin__V3__ClustersConfigDump__StaticCluster *sc =
        (Envoy__Admin__V3__ClustersConfigDump__StaticCluster *)unpack(
            cd->configs[1], &envoy__admin__v3__clusters_config_dump__static_cluster__descriptor);
    assert_null(sc->last_updated);
    Envoy__Config__Cluster__V3__Cluster *c = (Envoy__Config__Cluster__V3__Cluster *)unpack(
        sc->cluster, &envoy__config__cluster__v3__cluster__descriptor);
    assert_string_equal(c->name, "svc");
    assert_null(c->load_assignment);
    assert_null(c->circuit_breakers);
    or_config_free(&c->base);
    or_config_free(&sc->base);
    or_config_free(&cd->base);
    assert_non_null(strstr(json, "   \"cluster\": {\n    \"@type\": "
                                 "\"type.googleapis.com/envoy.config.cluster.v3.Cluster\",\n"
                                 "    \"name\": \"svc\"\n   }\n"));
    free(json);

    /* Outer and inner paths together; a bare path to the Any keeps the whole resource. */
    q.mask = "last_updated,cluster";
    assert_int_equal(run(f, &q, &json, NULL), 200);
    assert_non_null(strstr(json, "\"load_assignment\""));
    assert_non_null(strstr(json, "\"last_updated\""));
    free(json);

    q.mask = "cluster.nope,last_updated";
    assert_int_equal(run(f, &q, &json, NULL), 400);
    assert_string_equal(json, "FieldMask paths: \"cluster.nope\"\npaths: \"last_updated\"\n"
                              " could not be successfully used.");
    free(json);
}

/* ---- ?name_regex= ---- */

static void test_name_regex(void **state)
{
    struct fixture *f = *state;
    static const char pattern[] = "app|ingress|local_.*";
    struct or_regex *re = or_regex_compile(pattern, strlen(pattern), NULL);
    assert_non_null(re);
    struct or_admin_dump_query q = {.name_re = re};
    char *json;
    assert_int_equal(run(f, &q, &json, NULL), 200);
    Envoy__Admin__V3__ConfigDump *cd = load_dump(json);
    assert_int_equal(cd->n_configs, 6);
    Envoy__Admin__V3__ClustersConfigDump *cl = (Envoy__Admin__V3__ClustersConfigDump *)unpack(
        cd->configs[1], &envoy__admin__v3__clusters_config_dump__descriptor);
    Envoy__Admin__V3__ListenersConfigDump *ld = (Envoy__Admin__V3__ListenersConfigDump *)unpack(
        cd->configs[2], &envoy__admin__v3__listeners_config_dump__descriptor);
    Envoy__Admin__V3__RoutesConfigDump *rd = (Envoy__Admin__V3__RoutesConfigDump *)unpack(
        cd->configs[4], &envoy__admin__v3__routes_config_dump__descriptor);
    assert_int_equal(cl->n_static_clusters, 1);
    assert_int_equal(ld->n_static_listeners, 1);
    assert_int_equal(rd->n_static_route_configs, 1);
    Envoy__Config__Route__V3__RouteConfiguration *rc =
        (Envoy__Config__Route__V3__RouteConfiguration *)unpack(
            rd->static_route_configs[0]->route_config,
            &envoy__config__route__v3__route_configuration__descriptor);
    assert_string_equal(rc->name, "local_route");
    or_config_free(&rc->base);
    or_config_free(&cl->base);
    or_config_free(&ld->base);
    or_config_free(&rd->base);
    or_config_free(&cd->base);
    free(json);

    /* Full match, not partial: "ap" matches nothing. */
    or_regex_free(re);
    re = or_regex_compile("ap", 2, NULL);
    q.name_re = re;
    q.resource = "static_clusters";
    assert_int_equal(run(f, &q, &json, NULL), 200);
    assert_string_equal(json, "{}\n");
    free(json);
    or_regex_free(re);
}

/* ---- ?include_eds ---- */

static void test_include_eds(void **state)
{
    struct fixture *f = *state;
    struct event_base *base = event_base_new();
    struct or_cluster_manager_cbs cbs = {NULL, NULL};
    struct or_cluster_manager *cm = or_cluster_manager_new(base, NULL, &cbs, NULL);
    assert_non_null(cm);
    for (uint32_t i = 0; i < f->snap->n_clusters; i++)
        assert_int_equal(or_cluster_manager_add(cm, f->snap->clusters[i]), 0);
    assert_int_equal(or_cluster_manager_start(cm), 0);
    f->src.cm = cm;

    struct or_admin_dump_query q = {.include_eds = true};
    char *json;
    assert_int_equal(run(f, &q, &json, NULL), 200);
    Envoy__Admin__V3__ConfigDump *cd = load_dump(json);
    assert_int_equal(cd->n_configs, 7);
    assert_string_equal(cd->configs[2]->type_url,
                        "type.googleapis.com/envoy.admin.v3.EndpointsConfigDump");
    Envoy__Admin__V3__EndpointsConfigDump *ed = (Envoy__Admin__V3__EndpointsConfigDump *)unpack(
        cd->configs[2], &envoy__admin__v3__endpoints_config_dump__descriptor);
    assert_int_equal(ed->n_static_endpoint_configs, 2);
    Envoy__Config__Endpoint__V3__ClusterLoadAssignment *cla =
        (Envoy__Config__Endpoint__V3__ClusterLoadAssignment *)unpack(
            ed->static_endpoint_configs[1]->endpoint_config,
            &envoy__config__endpoint__v3__cluster_load_assignment__descriptor);
    assert_string_equal(cla->cluster_name, "svc");
    assert_int_equal(cla->n_endpoints, 1);
    assert_int_equal(cla->endpoints[0]->n_lb_endpoints, 1);
    const Envoy__Config__Endpoint__V3__LbEndpoint *lb = cla->endpoints[0]->lb_endpoints[0];
    assert_string_equal(lb->endpoint->address->socket_address->address, "10.0.0.2");
    assert_int_equal(lb->endpoint->address->socket_address->port_value, 80);
    assert_string_equal(lb->endpoint->hostname, "svc-host");
    assert_int_equal(lb->load_balancing_weight->value, 3);
    assert_int_equal(lb->health_status, ENVOY__CONFIG__CORE__V3__HEALTH_STATUS__DEGRADED);
    or_config_free(&cla->base);
    or_config_free(&ed->base);
    or_config_free(&cd->base);
    free(json);

    /* The /clusters views now come from the manager, with host sets. */
    struct or_admin_cluster_view *v = NULL;
    assert_int_equal(or_admin_dump_cluster_views(&f->src, &v), 2);
    assert_non_null(v[0].hosts);
    assert_int_equal(v[0].hosts->n_hosts, 1);
    free(v);

    f->src.cm = NULL;
    or_cluster_manager_free(cm);
    event_base_loop(base, EVLOOP_NONBLOCK);
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_full_dump_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_dump_layout, setup, teardown),
        cmocka_unit_test(test_empty_source),
        cmocka_unit_test_setup_teardown(test_resource, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mask_all_parts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mask_with_resource, setup, teardown),
        cmocka_unit_test_setup_teardown(test_name_regex, setup, teardown),
        cmocka_unit_test_setup_teardown(test_include_eds, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
