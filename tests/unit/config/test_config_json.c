/* Message -> proto3 JSON (the /config_dump form) and JSON -> message -> JSON round trips. */
#include "config_test.h"

#include <math.h>

#include "envoy/config/bootstrap/v3/bootstrap.pb-c.h"
#include "envoy/config/cluster/v3/cluster.pb-c.h"
#include "envoy/config/route/v3/route_components.pb-c.h"
#include "envoy/type/v3/range.pb-c.h"
#include "google/protobuf/duration.pb-c.h"
#include "google/protobuf/struct.pb-c.h"

#define BOOTSTRAP (&envoy__config__bootstrap__v3__bootstrap__descriptor)

static void test_scalars_out(void **state)
{
    parse_json_eq("start: -5\nend: 9223372036854775807", &envoy__type__v3__int64_range__descriptor,
                  "{\"start\":\"-5\",\"end\":\"9223372036854775807\"}");
    parse_json_eq("start: 0\nend: 0", &envoy__type__v3__int64_range__descriptor, "{}");
    parse_json_eq("start: 0.1\nend: 1e300", &envoy__type__v3__double_range__descriptor,
                  "{\"start\":0.1,\"end\":1e+300}");
    parse_json_eq("start: .nan\nend: -.inf", &envoy__type__v3__double_range__descriptor,
                  "{\"start\":\"NaN\",\"end\":\"-Infinity\"}");
    parse_json_eq("0.1", &google__protobuf__float_value__descriptor, "0.1");
    parse_json_eq("16777217", &google__protobuf__float_value__descriptor, "16777216");
    parse_json_eq("name: \"q\\\"b\\\\s\\n\\t\\u0001\\u00e9/\"",
                  &envoy__config__cluster__v3__cluster__descriptor,
                  "{\"name\":\"q\\\"b\\\\s\\n\\t\\u0001\xc3\xa9/\"}");
    /* YAML line breaks and non-printables are escaped so the JSON reads back (found by fuzzing) */
    parse_json_eq("name: \"a\\N\\x7f\\u2028\\uFEFF\\x9fb\"",
                  &envoy__config__cluster__v3__cluster__descriptor,
                  "{\"name\":\"a\\u0085\\u007f\\u2028\\ufeff\\u009fb\"}");
    parse_json_eq("inline_bytes: /+8=", &envoy__config__core__v3__data_source__descriptor,
                  "{\"inline_bytes\":\"/+8=\"}");
    parse_json_eq("inline_bytes: ''", &envoy__config__core__v3__data_source__descriptor,
                  "{\"inline_bytes\":\"\"}");
    /* proto3 default enum values are omitted, oneof members are not */
    parse_json_eq("lb_policy: ROUND_ROBIN\ntype: STATIC",
                  &envoy__config__cluster__v3__cluster__descriptor, "{\"type\":\"STATIC\"}");
    parse_json_eq("port_value: 0", &envoy__config__core__v3__socket_address__descriptor,
                  "{\"port_value\":0}");

    /* strings off the wire may hold invalid UTF-8; the JSON stays valid */
    Envoy__Config__Cluster__V3__Cluster c = ENVOY__CONFIG__CLUSTER__V3__CLUSTER__INIT;
    c.name = "a\xff"
             "b\xc3";
    assert_json(&c.base, "{\"name\":\"a\\ufffdb\\ufffd\"}");
    /* an undefined enum number prints as the number */
    c.name = "";
    c.lb_policy = 42;
    assert_json(&c.base, "{\"lb_policy\":42}");
}

static void test_durations_out(void **state)
{
    Google__Protobuf__Duration d = GOOGLE__PROTOBUF__DURATION__INIT;
    const struct {
        int64_t s;
        int32_t n;
        const char *want;
    } cases[] = {
        {1, 500000000, "\"1.500s\""},
        {0, 0, "\"0s\""},
        {0, 1000, "\"0.000001s\""},
        {5, 1, "\"5.000000001s\""},
        {-1, -500000000, "\"-1.500s\""},
        {0, -250000000, "\"-0.250s\""},
        {315576000000LL, 0, "\"315576000000s\""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        d.seconds = cases[i].s;
        d.nanos = cases[i].n;
        assert_json(&d.base, cases[i].want);
    }
}

static void test_pretty(void **state)
{
    ProtobufCMessage *m = parse_ok("node: {id: a, metadata: {}}\n"
                                   "static_resources: {clusters: [{name: x, connect_timeout: 1s},"
                                   " {name: y}]}",
                                   BOOTSTRAP);
    char *json = NULL;
    size_t len = 0;
    assert_int_equal(or_config_to_json(m, true, &json, &len), 0);
    const char *want = "{\n"
                       " \"node\": {\n"
                       "  \"id\": \"a\",\n"
                       "  \"metadata\": {}\n"
                       " },\n"
                       " \"static_resources\": {\n"
                       "  \"clusters\": [\n"
                       "   {\n"
                       "    \"name\": \"x\",\n"
                       "    \"connect_timeout\": \"1s\"\n"
                       "   },\n"
                       "   {\n"
                       "    \"name\": \"y\"\n"
                       "   }\n"
                       "  ]\n"
                       " }\n"
                       "}";
    if (strcmp(json, want) != 0)
        fail_msg("got:\n%s\nwant:\n%s", json, want);
    assert_int_equal(len, strlen(want));
    free(json);
    or_config_free(m);

    Envoy__Config__Bootstrap__V3__Bootstrap empty = ENVOY__CONFIG__BOOTSTRAP__V3__BOOTSTRAP__INIT;
    assert_int_equal(or_config_to_json(&empty.base, true, &json, NULL), 0);
    assert_string_equal(json, "{}");
    free(json);
}

/* A config using every kind of field in the subset. */
static const char *const rich =
    "node:\n"
    "  id: n1\n"
    "  cluster: c1\n"
    "  user_agent_name: outrider\n"
    "  metadata: {a: 1, b: [true, null, x], c: {d: 2.5}}\n"
    "  locality: {region: r, zone: z, sub_zone: s}\n"
    "admin:\n"
    "  access_log_path: /dev/null\n"
    "  address: {pipe: {path: /tmp/admin, mode: 420}}\n"
    "static_resources:\n"
    "  listeners:\n"
    "  - name: l1\n"
    "    address: {socket_address: {protocol: TCP, address: 0.0.0.0, port_value: 80, "
    "ipv4_compat: true}}\n"
    "    per_connection_buffer_limit_bytes: 1024\n"
    "    traffic_direction: INBOUND\n"
    "    metadata: {filter_metadata: {x: {y: z}}}\n"
    "    filter_chains:\n"
    "    - name: fc\n"
    "      filters:\n"
    "      - name: envoy.filters.network.http_connection_manager\n"
    "        typed_config:\n"
    "          '@type': type.googleapis.com/envoy.extensions.filters.network."
    "http_connection_manager.v3.HttpConnectionManager\n"
    "          codec_type: HTTP2\n"
    "          stat_prefix: in\n"
    "          use_remote_address: true\n"
    "          xff_num_trusted_hops: 2\n"
    "          generate_request_id: false\n"
    "          server_name: srv\n"
    "          common_http_protocol_options: {idle_timeout: 300s}\n"
    "          stream_idle_timeout: 0.5s\n"
    "          request_timeout: 0s\n"
    "          request_headers_timeout: 10s\n"
    "          max_request_headers_kb: 60\n"
    "          route_config:\n"
    "            name: rc\n"
    "            virtual_hosts:\n"
    "            - name: vh\n"
    "              domains: ['*']\n"
    "              routes:\n"
    "              - name: r1\n"
    "                match:\n"
    "                  prefix: /api\n"
    "                  case_sensitive: false\n"
    "                  headers:\n"
    "                  - {name: x-a, exact_match: v}\n"
    "                  - {name: x-b, safe_regex_match: {google_re2: {}, regex: 'a.*'}}\n"
    "                  - {name: x-c, range_match: {start: 1, end: 10}}\n"
    "                  - {name: x-d, present_match: true, invert_match: true}\n"
    "                  - {name: x-e, prefix_match: p}\n"
    "                  - {name: x-f, suffix_match: s}\n"
    "                  - {name: x-g, string_match: {contains: c, ignore_case: true}}\n"
    "                route:\n"
    "                  weighted_clusters:\n"
    "                    clusters: [{name: a, weight: 30}, {name: b, weight: 70}]\n"
    "                    total_weight: 100\n"
    "                  prefix_rewrite: /\n"
    "                  host_rewrite_literal: h\n"
    "                  timeout: 15s\n"
    "                metadata: {filter_metadata: {m: {k: v}}}\n"
    "              - match: {path: /exact}\n"
    "                redirect: {https_redirect: true, host_redirect: h, port_redirect: 443, "
    "prefix_rewrite: /p, response_code: PERMANENT_REDIRECT, strip_query: true}\n"
    "              - match: {safe_regex: {regex: '^/r$'}}\n"
    "                direct_response: {status: 503, body: {inline_string: down}}\n"
    "              - match: {prefix: /f}\n"
    "                direct_response: {status: 200, body: {filename: /etc/hostname}}\n"
    "              - match: {prefix: /b}\n"
    "                direct_response: {status: 200, body: {inline_bytes: AAE=}}\n"
    "              - match: {prefix: /s}\n"
    "                redirect: {scheme_redirect: http, path_redirect: /x}\n"
    "          http_filters:\n"
    "          - name: envoy.filters.http.router\n"
    "            typed_config:\n"
    "              '@type': type.googleapis.com/envoy.extensions.filters.http.router.v3.Router\n"
    "  clusters:\n"
    "  - name: a\n"
    "    type: STRICT_DNS\n"
    "    connect_timeout: 0.25s\n"
    "    lb_policy: LEAST_REQUEST\n"
    "    per_connection_buffer_limit_bytes: 65536\n"
    "    dns_lookup_family: V4_ONLY\n"
    "    dns_refresh_rate: 5s\n"
    "    circuit_breakers:\n"
    "      thresholds:\n"
    "      - {priority: HIGH, max_connections: 1, max_pending_requests: 2, max_requests: 3, "
    "max_retries: 4}\n"
    "    load_assignment:\n"
    "      cluster_name: a\n"
    "      endpoints:\n"
    "      - locality: {zone: z}\n"
    "        load_balancing_weight: 5\n"
    "        priority: 1\n"
    "        lb_endpoints:\n"
    "        - endpoint: {address: {socket_address: {address: a.local, port_value: 8080}}, "
    "hostname: a-host}\n"
    "          health_status: HEALTHY\n"
    "          load_balancing_weight: 2\n"
    "          metadata: {filter_metadata: {envoy.lb: {canary: true}}}\n";

static void test_round_trip(void **state)
{
    ProtobufCMessage *m = parse_ok(rich, BOOTSTRAP);
    char *json1 = NULL, *json2 = NULL, *json3 = NULL;
    assert_int_equal(or_config_to_json(m, false, &json1, NULL), 0);
    /* JSON back in (as JSON, through the same loader) gives the same message */
    ProtobufCMessage *m2 = parse_ok(json1, BOOTSTRAP);
    assert_int_equal(or_config_to_json(m2, false, &json2, NULL), 0);
    assert_string_equal(json1, json2);
    /* so does the pretty form */
    free(json2);
    assert_int_equal(or_config_to_json(m2, true, &json2, NULL), 0);
    ProtobufCMessage *m3 = parse_ok(json2, BOOTSTRAP);
    assert_int_equal(or_config_to_json(m3, false, &json3, NULL), 0);
    assert_string_equal(json1, json3);
    /* binary equality too */
    size_t s1 = protobuf_c_message_get_packed_size(m), s3 = protobuf_c_message_get_packed_size(m3);
    assert_int_equal(s1, s3);
    uint8_t *b1 = malloc(s1), *b3 = malloc(s3);
    protobuf_c_message_pack(m, b1);
    protobuf_c_message_pack(m3, b3);
    assert_memory_equal(b1, b3, s1);
    /* a deep copy prints the same */
    ProtobufCMessage *copy = or_config_dup(m);
    assert_json(copy, json1);
    assert_non_null(strstr(json1, "\"request_timeout\":\"0s\""));
    assert_non_null(strstr(json1, "\"generate_request_id\":false"));
    assert_non_null(strstr(json1, "\"range_match\":{\"start\":\"1\",\"end\":\"10\"}"));
    assert_non_null(strstr(json1, "\"weight\":30"));
    free(b1);
    free(b3);
    free(json1);
    free(json2);
    free(json3);
    or_config_free(copy);
    or_config_free(m);
    or_config_free(m2);
    or_config_free(m3);
}

static void test_any_out(void **state)
{
    /* An Any of a type we do not know keeps its bytes visible. */
    Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
    uint8_t bytes[] = {1, 2, 3};
    any.type_url = "type.googleapis.com/foo.Bar";
    any.value.data = bytes;
    any.value.len = sizeof(bytes);
    assert_json(&any.base, "{\"@type\":\"type.googleapis.com/foo.Bar\",\"value\":\"AQID\"}");
    Google__Protobuf__Any empty = GOOGLE__PROTOBUF__ANY__INIT;
    assert_json(&empty.base, "{}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars_out), cmocka_unit_test(test_durations_out),
        cmocka_unit_test(test_pretty),      cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_any_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
