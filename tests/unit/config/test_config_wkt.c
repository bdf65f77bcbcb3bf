/* Well-known types: Duration, Timestamp, wrappers, Struct/Value/ListValue, Any and the registry. */
#include "config_test.h"

#include <math.h>

#include "envoy/config/bootstrap/v3/bootstrap.pb-c.h"
#include "envoy/config/cluster/v3/cluster.pb-c.h"
#include "envoy/config/listener/v3/listener.pb-c.h"
#include "envoy/extensions/filters/http/router/v3/router.pb-c.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb-c.h"
#include "google/protobuf/duration.pb-c.h"
#include "google/protobuf/struct.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "google/protobuf/wrappers.pb-c.h"

#define DUR (&google__protobuf__duration__descriptor)
#define TS (&google__protobuf__timestamp__descriptor)
#define CLUSTER (&envoy__config__cluster__v3__cluster__descriptor)
#define LISTENER (&envoy__config__listener__v3__listener__descriptor)
#define HCM                                                                                        \
    (&envoy__extensions__filters__network__http_connection_manager__v3__http_connection_manager__descriptor)
#define ROUTER (&envoy__extensions__filters__http__router__v3__router__descriptor)

typedef Envoy__Extensions__Filters__Network__HttpConnectionManager__V3__HttpConnectionManager Hcm;

static void check_duration(const char *text, int64_t sec, int32_t nanos)
{
    Google__Protobuf__Duration *d = (void *)parse_ok(text, DUR);
    if (d->seconds != sec || d->nanos != nanos)
        fail_msg("%s -> %lld.%d", text, (long long)d->seconds, d->nanos);
    or_config_free(&d->base);
}

static void test_duration(void **state)
{
    check_duration("0.25s", 0, 250000000);
    check_duration("15s", 15, 0);
    check_duration("\"1.000000001s\"", 1, 1);
    check_duration("-1.5s", -1, -500000000);
    check_duration("0s", 0, 0);
    check_duration("315576000000s", 315576000000LL, 0);
    parse_err("15", DUR, "", "invalid duration '15'");
    parse_err("1.5", DUR, "", "invalid duration");
    parse_err("1m", DUR, "", "invalid duration '1m'");
    parse_err("1.s", DUR, "", "invalid duration");
    parse_err(".5s", DUR, "", "invalid duration");
    parse_err("1.0000000001s", DUR, "", "invalid duration"); /* more than 9 fraction digits */
    parse_err("315576000001s", DUR, "", "duration out of range");
    parse_err("{seconds: 1}", DUR, "", "expected a duration string, got a mapping");
    parse_err("name: a\nconnect_timeout: 1 s", CLUSTER, "connect_timeout", "invalid duration");

    Envoy__Config__Cluster__V3__Cluster *c = (void *)parse_ok("dns_refresh_rate: 5.5s", CLUSTER);
    assert_int_equal(c->dns_refresh_rate->seconds, 5);
    assert_int_equal(c->dns_refresh_rate->nanos, 500000000);
    assert_null(c->connect_timeout);
    assert_json(&c->base, "{\"dns_refresh_rate\":\"5.500s\"}");
    or_config_free(&c->base);
}

static void test_timestamp(void **state)
{
    Google__Protobuf__Timestamp *t = (void *)parse_ok("1972-01-01T10:00:20.021Z", TS);
    assert_int_equal(t->seconds, 63108020);
    assert_int_equal(t->nanos, 21000000);
    assert_json(&t->base, "\"1972-01-01T10:00:20.021Z\"");
    or_config_free(&t->base);
    t = (void *)parse_ok("'2024-02-29T23:59:59+01:30'", TS);
    assert_int_equal(t->seconds, 1709251199 - 5400);
    or_config_free(&t->base);
    t = (void *)parse_ok("0001-01-01T00:00:00Z", TS);
    assert_true(t->seconds == -62135596800LL);
    assert_json(&t->base, "\"0001-01-01T00:00:00Z\"");
    or_config_free(&t->base);
    t = (void *)parse_ok("1969-12-31T23:59:59.5Z", TS);
    assert_int_equal(t->seconds, -1);
    assert_int_equal(t->nanos, 500000000);
    assert_json(&t->base, "\"1969-12-31T23:59:59.500Z\"");
    or_config_free(&t->base);
    parse_err("2023-02-29T00:00:00Z", TS, "", "invalid timestamp");
    parse_err("2023-01-01 00:00:00Z", TS, "", "invalid timestamp");
    parse_err("2023-01-01T00:00:00", TS, "", "invalid timestamp");
    parse_err("2023-13-01T00:00:00Z", TS, "", "invalid timestamp");
    parse_err("1700000000", TS, "", "invalid timestamp");
}

static void test_wrappers(void **state)
{
    Hcm *h = (void *)parse_ok("stat_prefix: x\nuse_remote_address: true\n"
                              "generate_request_id: false\nmax_request_headers_kb: 96",
                              HCM);
    assert_non_null(h->use_remote_address);
    assert_true(h->use_remote_address->value);
    assert_non_null(h->generate_request_id); /* set to false is not unset */
    assert_false(h->generate_request_id->value);
    assert_int_equal(h->max_request_headers_kb->value, 96);
    assert_json(&h->base, "{\"stat_prefix\":\"x\",\"use_remote_address\":true,"
                          "\"generate_request_id\":false,\"max_request_headers_kb\":96}");
    or_config_free(&h->base);
    h = (void *)parse_ok("use_remote_address: ~", HCM);
    assert_null(h->use_remote_address);
    or_config_free(&h->base);
    parse_err("use_remote_address: {value: true}", HCM, "use_remote_address",
              "expected a bool, got a mapping");
    parse_err("max_request_headers_kb: -1", HCM, "max_request_headers_kb",
              "out of range for uint32");

    parse_json_eq("\"-12\"", &google__protobuf__int64_value__descriptor, "\"-12\"");
    parse_json_eq("7", &google__protobuf__int32_value__descriptor, "7");
    parse_json_eq("1.5", &google__protobuf__double_value__descriptor, "1.5");
    parse_json_eq("'hi'", &google__protobuf__string_value__descriptor, "\"hi\"");
    parse_json_eq("AAEC", &google__protobuf__bytes_value__descriptor, "\"AAEC\"");
    parse_json_eq("true", &google__protobuf__bool_value__descriptor, "true");
}

static void test_struct_value(void **state)
{
    const char *yaml = "s: str\n"
                       "q: '5'\n"
                       "n: 5\n"
                       "f: -2.5e3\n"
                       "b: true\n"
                       "y: yes\n"
                       "z: ~\n"
                       "l: [1, [2], {k: v}]\n"
                       "m: {nested: {deeper: []}}\n";
    Google__Protobuf__Struct *st = (void *)parse_ok(yaml, &google__protobuf__struct__descriptor);
    assert_int_equal(st->n_fields, 9);
    assert_int_equal(st->fields[1]->value->kind_case, GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE);
    assert_int_equal(st->fields[2]->value->kind_case, GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE);
    assert_true(st->fields[3]->value->number_value == -2500.0);
    assert_int_equal(st->fields[6]->value->kind_case, GOOGLE__PROTOBUF__VALUE__KIND_NULL_VALUE);
    assert_json(&st->base, "{\"s\":\"str\",\"q\":\"5\",\"n\":5,\"f\":-2500,\"b\":true,\"y\":true,"
                           "\"z\":null,\"l\":[1,[2],{\"k\":\"v\"}],\"m\":{\"nested\":{\"deeper\":[]"
                           "}}}");
    or_config_free(&st->base);

    parse_json_eq("[1, a, ~]", &google__protobuf__list_value__descriptor, "[1,\"a\",null]");
    parse_json_eq("~x", &google__protobuf__value__descriptor, "\"~x\"");
    parse_json_eq("{a: 1}", &google__protobuf__value__descriptor, "{\"a\":1}");
    parse_err("[1]", &google__protobuf__struct__descriptor, "",
              "expected a mapping for google.protobuf.Struct, got a list");
    parse_err("{a: 1}", &google__protobuf__list_value__descriptor, "",
              "expected a list for google.protobuf.ListValue");

    /* Struct inside a message: the Node's metadata */
    Envoy__Config__Core__V3__Node *node = (void *)parse_ok(
        "id: x\nmetadata: {k: [a, {b: 1}]}", &envoy__config__core__v3__node__descriptor);
    assert_int_equal(node->metadata->n_fields, 1);
    assert_json(&node->base, "{\"id\":\"x\",\"metadata\":{\"k\":[\"a\",{\"b\":1}]}}");
    or_config_free(&node->base);
    parse_err("metadata: {k: \"a\\0b\"}", &envoy__config__core__v3__node__descriptor, "metadata.k",
              "NUL");
}

static const char *const listener_yaml =
    "name: ingress\n"
    "address: {socket_address: {address: 0.0.0.0, port_value: 15000}}\n"
    "filter_chains:\n"
    "- filters:\n"
    "  - name: envoy.filters.network.http_connection_manager\n"
    "    typed_config:\n"
    "      '@type': type.googleapis.com/"
    "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager\n"
    "      stat_prefix: ingress_http\n"
    "      codec_type: AUTO\n"
    "      route_config:\n"
    "        name: local\n"
    "        virtual_hosts:\n"
    "        - name: all\n"
    "          domains: ['*']\n"
    "          routes:\n"
    "          - match: {prefix: /}\n"
    "            route: {cluster: backend, timeout: 3s}\n"
    "      http_filters:\n"
    "      - name: envoy.filters.http.router\n"
    "        typed_config:\n"
    "          '@type': type.googleapis.com/envoy.extensions.filters.http.router.v3.Router\n"
    "          suppress_envoy_headers: true\n";

static void test_any(void **state)
{
    Envoy__Config__Listener__V3__Listener *l = (void *)parse_ok(listener_yaml, LISTENER);
    Envoy__Config__Listener__V3__Filter *f = l->filter_chains[0]->filters[0];
    assert_int_equal(f->config_type_case,
                     ENVOY__CONFIG__LISTENER__V3__FILTER__CONFIG_TYPE_TYPED_CONFIG);
    assert_non_null(strstr(f->typed_config->type_url, "HttpConnectionManager"));

    ProtobufCMessage *m = NULL;
    struct or_err_detail e;
    memset(&e, 0, sizeof(e));
    assert_int_equal(or_config_unpack_any(f->typed_config, HCM, &m, &e, "x"), 0);
    Hcm *h = (Hcm *)m;
    assert_string_equal(h->stat_prefix, "ingress_http");
    assert_string_equal(h->route_config->virtual_hosts[0]->routes[0]->route->cluster, "backend");
    assert_int_equal(h->route_config->virtual_hosts[0]->routes[0]->route->timeout->seconds, 3);
    assert_int_equal(h->n_http_filters, 1);

    ProtobufCMessage *r = NULL;
    assert_int_equal(or_config_unpack_any(h->http_filters[0]->typed_config, NULL, &r, &e, ""), 0);
    assert_ptr_equal(r->descriptor, ROUTER);
    assert_true(
        ((Envoy__Extensions__Filters__Http__Router__V3__Router *)r)->suppress_envoy_headers);
    or_config_free(r);

    /* the wrong expected type */
    assert_int_equal(or_config_unpack_any(h->http_filters[0]->typed_config, HCM, &r, &e,
                                          "http_filters[0].typed_config"),
                     OR_EINVAL);
    assert_null(r);
    assert_string_equal(e.path, "http_filters[0].typed_config");
    assert_non_null(strstr(e.msg, "expected @type 'type.googleapis.com/envoy.extensions.filters."
                                  "network.http_connection_manager.v3.HttpConnectionManager'"));
    or_config_free(m);

    /* JSON of the listener expands both Anys, "@type" first */
    char *json = NULL;
    assert_int_equal(or_config_to_json(&l->base, false, &json, NULL), 0);
    assert_non_null(strstr(json,
                           "\"typed_config\":{\"@type\":\"type.googleapis.com/envoy.extensions."
                           "filters.network.http_connection_manager.v3.HttpConnectionManager\","
                           "\"stat_prefix\":\"ingress_http\""));
    assert_non_null(strstr(json, "{\"@type\":\"type.googleapis.com/envoy.extensions.filters.http."
                                 "router.v3.Router\",\"suppress_envoy_headers\":true}"));
    assert_non_null(strstr(json, "\"timeout\":\"3s\""));
    free(json);
    or_config_free(&l->base);

    /* errors inside an Any name the full path through it */
    parse_err("filter_chains:\n- filters:\n  - name: hcm\n    typed_config:\n"
              "      '@type': type.googleapis.com/envoy.extensions.filters.network."
              "http_connection_manager.v3.HttpConnectionManager\n"
              "      route_config: {virtual_hosts: [{name: a, routes: [{match: {prefx: /}}]}]}\n",
              LISTENER,
              "filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0]."
              "match.prefx",
              "unknown or unsupported field 'prefx' in envoy.config.route.v3.RouteMatch");
    parse_err("filter_chains: [{filters: [{name: x, typed_config: {'@type': "
              "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua, inline_code: x}}]}]",
              LISTENER, "filter_chains[0].filters[0].typed_config",
              "unsupported @type 'type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua'");
    parse_err("filter_chains: [{filters: [{name: x, typed_config: {stat_prefix: a}}]}]", LISTENER,
              "filter_chains[0].filters[0].typed_config", "missing '@type'");
    parse_err("filter_chains: [{filters: [{name: x, typed_config: {'@type': Router}}]}]", LISTENER,
              "filter_chains[0].filters[0].typed_config", "invalid type URL 'Router'");
    parse_err("filter_chains: [{filters: [{name: x, typed_config: []}]}]", LISTENER,
              "filter_chains[0].filters[0].typed_config", "expected a mapping with '@type'");

    /* well-known types inside Any use "value" */
    Envoy__Config__Core__V3__Metadata *md = (void *)parse_ok(
        "typed_filter_metadata:\n"
        "  a: {'@type': type.googleapis.com/google.protobuf.Duration, value: 1.5s}\n"
        "  b: {'@type': type.googleapis.com/google.protobuf.Struct, value: {x: 1}}\n"
        "  c: {'@type': type.googleapis.com/google.protobuf.UInt32Value, value: 7}\n"
        "  d: {}\n",
        &envoy__config__core__v3__metadata__descriptor);
    assert_json(
        &md->base,
        "{\"typed_filter_metadata\":{"
        "\"a\":{\"@type\":\"type.googleapis.com/google.protobuf.Duration\",\"value\":\"1.500s\"},"
        "\"b\":{\"@type\":\"type.googleapis.com/google.protobuf.Struct\",\"value\":{\"x\":1}},"
        "\"c\":{\"@type\":\"type.googleapis.com/google.protobuf.UInt32Value\",\"value\":7},"
        "\"d\":{}}}");
    or_config_free(&md->base);
    parse_err("typed_filter_metadata: {a: {'@type': type.googleapis.com/google.protobuf.Duration, "
              "seconds: 1}}",
              &envoy__config__core__v3__metadata__descriptor,
              "typed_filter_metadata[\"a\"].seconds", "unknown or unsupported field 'seconds'");
}

static void test_unpack_any_wire(void **state)
{
    struct or_err_detail e;
    ProtobufCMessage *m = NULL;
    memset(&e, 0, sizeof(e));
    /* A Cluster with an extra field 99 (varint 1) that our subset does not know. */
    uint8_t wire[] = {0x0a, 0x01, 'c', 0x98, 0x06, 0x01};
    Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
    any.type_url = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
    any.value.data = wire;
    any.value.len = sizeof(wire);
    assert_int_equal(or_config_unpack_any(&any, CLUSTER, &m, &e, "resources[0]"), OR_EINVAL);
    assert_string_equal(e.path, "resources[0]");
    assert_string_equal(
        e.msg, "unknown or unsupported field number 99 in envoy.config.cluster.v3.Cluster");
    /* An undefined enum number (lb_policy = 42). */
    uint8_t wire2[] = {0x0a, 0x01, 'c', 0x30, 42};
    any.value.data = wire2;
    any.value.len = sizeof(wire2);
    assert_int_equal(or_config_unpack_any(&any, CLUSTER, &m, &e, "resources[0]"), OR_EINVAL);
    assert_string_equal(e.path, "resources[0].lb_policy");
    assert_string_equal(e.msg,
                        "unknown value 42 for enum envoy.config.cluster.v3.Cluster.LbPolicy");
    /* Unknown field deep inside: circuit_breakers.thresholds[0] field 9. */
    uint8_t wire3[] = {0x0a, 0x01, 'c', 0x52, 0x04, 0x0a, 0x02, 0x48, 0x01};
    any.value.data = wire3;
    any.value.len = sizeof(wire3);
    assert_int_equal(or_config_unpack_any(&any, NULL, &m, &e, NULL), OR_EINVAL);
    assert_string_equal(e.path, "circuit_breakers.thresholds[0]");
    assert_non_null(strstr(e.msg, "field number 9 in envoy.config.cluster.v3.CircuitBreakers."
                                  "Thresholds"));
    /* Garbage bytes. */
    uint8_t wire4[] = {0x0a, 0x05, 'c'};
    any.value.data = wire4;
    any.value.len = sizeof(wire4);
    assert_int_equal(or_config_unpack_any(&any, NULL, &m, &e, "r"), OR_EINVAL);
    assert_non_null(strstr(e.msg, "malformed envoy.config.cluster.v3.Cluster"));
    /* Unregistered type and empty Any. */
    any.type_url = "type.googleapis.com/envoy.config.core.v3.Address";
    assert_int_equal(or_config_unpack_any(&any, NULL, &m, &e, "r"), OR_EINVAL);
    assert_non_null(strstr(e.msg, "unsupported @type"));
    any.type_url = "";
    assert_int_equal(or_config_unpack_any(&any, NULL, &m, &e, "r"), OR_EINVAL);
    assert_null(m);
    /* Valid. */
    any.type_url = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
    uint8_t wire5[] = {0x0a, 0x01, 'c', 0x30, 0x03};
    any.value.data = wire5;
    any.value.len = sizeof(wire5);
    assert_int_equal(or_config_unpack_any(&any, CLUSTER, &m, &e, "r"), 0);
    assert_int_equal(((Envoy__Config__Cluster__V3__Cluster *)m)->lb_policy,
                     ENVOY__CONFIG__CLUSTER__V3__CLUSTER__LB_POLICY__RANDOM);
    or_config_free(m);
}

static void test_registry(void **state)
{
    size_t n = or_config_type_count();
    assert_true(n > 10);
    for (size_t i = 1; i < n; i++)
        assert_true(strcmp(or_config_type_at(i - 1)->name, or_config_type_at(i)->name) < 0);
    for (size_t i = 0; i < n; i++) {
        char url[256];
        snprintf(url, sizeof(url), "type.googleapis.com/%s", or_config_type_at(i)->name);
        assert_ptr_equal(or_config_type_find(url), or_config_type_at(i));
        assert_ptr_equal(or_config_type_find(or_config_type_at(i)->name), or_config_type_at(i));
    }
    assert_ptr_equal(or_config_type_find("type.googleapis.com/envoy.config.bootstrap.v3.Bootstrap"),
                     &envoy__config__bootstrap__v3__bootstrap__descriptor);
    assert_ptr_equal(or_config_type_find("example.com/x/y/envoy.config.cluster.v3.Cluster"),
                     CLUSTER);
    assert_ptr_equal(or_config_type_find("type.googleapis.com/envoy.extensions.filters.http."
                                         "router.v3.Router"),
                     ROUTER);
    assert_null(or_config_type_find("type.googleapis.com/envoy.config.cluster.v3.Clusterx"));
    assert_null(or_config_type_find("type.googleapis.com/"));
    assert_null(or_config_type_find(""));
    assert_null(or_config_type_find(NULL));
    assert_null(or_config_type_find("type.googleapis.com/envoy.config.cluster.v2.Cluster"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration), cmocka_unit_test(test_timestamp),
        cmocka_unit_test(test_wrappers), cmocka_unit_test(test_struct_value),
        cmocka_unit_test(test_any),      cmocka_unit_test(test_unpack_any_wire),
        cmocka_unit_test(test_registry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
