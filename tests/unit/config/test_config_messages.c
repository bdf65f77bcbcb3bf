/* Messages, repeated and map fields, oneofs, key spellings, error paths, YAML features (anchors,
 * merges, !ignore) and JSON input. */
#include "config_test.h"

#include "envoy/config/bootstrap/v3/bootstrap.pb-c.h"
#include "envoy/config/cluster/v3/cluster.pb-c.h"
#include "envoy/config/core/v3/base.pb-c.h"
#include "envoy/config/listener/v3/listener.pb-c.h"
#include "envoy/config/route/v3/route.pb-c.h"
#include "envoy/config/route/v3/route_components.pb-c.h"

#define BOOTSTRAP (&envoy__config__bootstrap__v3__bootstrap__descriptor)
#define CLUSTER (&envoy__config__cluster__v3__cluster__descriptor)
#define ROUTE (&envoy__config__route__v3__route__descriptor)
#define META (&envoy__config__core__v3__metadata__descriptor)

typedef Envoy__Config__Bootstrap__V3__Bootstrap Bootstrap;

static const char *const bootstrap_yaml =
    "node:\n"
    "  id: node-1\n"
    "  cluster: mesh\n"
    "  locality: {region: us-east-1, zone: use1-az1, sub_zone: rack7}\n"
    "admin:\n"
    "  address:\n"
    "    socket_address: {address: 127.0.0.1, port_value: 9901}\n"
    "static_resources:\n"
    "  clusters:\n"
    "  - name: a\n"
    "    connect_timeout: 0.25s\n"
    "    load_assignment:\n"
    "      cluster_name: a\n"
    "      endpoints:\n"
    "      - lb_endpoints:\n"
    "        - endpoint:\n"
    "            address:\n"
    "              socket_address: {address: 127.0.0.1, port_value: 8080}\n"
    "        - endpoint: {address: {pipe: {path: /tmp/sock, mode: 384}}}\n"
    "          load_balancing_weight: 3\n"
    "  - name: b\n";

static void test_nested_and_repeated(void **state)
{
    Bootstrap *b = (void *)parse_ok(bootstrap_yaml, BOOTSTRAP);
    assert_string_equal(b->node->id, "node-1");
    assert_string_equal(b->node->locality->sub_zone, "rack7");
    assert_int_equal(b->admin->address->socket_address->port_value, 9901);
    assert_int_equal(b->static_resources->n_clusters, 2);
    assert_int_equal(b->static_resources->n_listeners, 0);
    Envoy__Config__Cluster__V3__Cluster *a = b->static_resources->clusters[0];
    assert_string_equal(a->name, "a");
    assert_string_equal(b->static_resources->clusters[1]->name, "b");
    assert_int_equal(a->connect_timeout->nanos, 250000000);
    Envoy__Config__Endpoint__V3__LocalityLbEndpoints *le = a->load_assignment->endpoints[0];
    assert_int_equal(le->n_lb_endpoints, 2);
    assert_int_equal(le->lb_endpoints[0]->endpoint->address->socket_address->port_value, 8080);
    assert_string_equal(le->lb_endpoints[1]->endpoint->address->pipe->path, "/tmp/sock");
    assert_int_equal(le->lb_endpoints[1]->endpoint->address->pipe->mode, 384);
    assert_int_equal(le->lb_endpoints[1]->load_balancing_weight->value, 3);
    assert_null(le->lb_endpoints[0]->load_balancing_weight);
    or_config_free(&b->base);

    parse_err("static_resources: {clusters: {name: a}}", BOOTSTRAP, "static_resources.clusters",
              "expected a list, got a mapping");
    parse_err("static_resources: {clusters: [~]}", BOOTSTRAP, "static_resources.clusters[0]",
              "list items may not be null");
    parse_err("static_resources: {clusters: [a]}", BOOTSTRAP, "static_resources.clusters[0]",
              "expected a mapping for envoy.config.cluster.v3.Cluster, got a scalar");
    parse_err("node: [1]", BOOTSTRAP, "node",
              "expected a mapping for envoy.config.core.v3.Node, got a list");
    /* repeated strings */
    Envoy__Config__Route__V3__VirtualHost *vh =
        (void *)parse_ok("name: vh\ndomains: [a.com, '*.b.com', 123]",
                         &envoy__config__route__v3__virtual_host__descriptor);
    assert_int_equal(vh->n_domains, 3);
    assert_string_equal(vh->domains[1], "*.b.com");
    assert_string_equal(vh->domains[2], "123");
    or_config_free(&vh->base);
    /* null for a repeated field leaves it empty */
    vh = (void *)parse_ok("domains: null", &envoy__config__route__v3__virtual_host__descriptor);
    assert_int_equal(vh->n_domains, 0);
    or_config_free(&vh->base);
}

static void test_unknown_field_paths(void **state)
{
    parse_err("static_resources:\n  clusters:\n  - name: a\n    lb_polcy: RANDOM\n", BOOTSTRAP,
              "static_resources.clusters[0].lb_polcy",
              "unknown or unsupported field 'lb_polcy' in envoy.config.cluster.v3.Cluster");
    parse_err(bootstrap_yaml, CLUSTER, "node",
              "unknown or unsupported field 'node' in envoy.config.cluster.v3.Cluster");
    parse_err("static_resources:\n  clusters:\n  - name: a\n  - name: b\n    load_assignment:\n"
              "      endpoints:\n      - lb_endpoints:\n        - endpoint:\n"
              "            address: {socket_address: {port: 80}}\n",
              BOOTSTRAP,
              "static_resources.clusters[1].load_assignment.endpoints[0].lb_endpoints[0].endpoint."
              "address.socket_address.port",
              "unknown or unsupported field 'port' in envoy.config.core.v3.SocketAddress");
    /* a field Envoy has but our subset does not */
    parse_err("dynamic_resources: {}", BOOTSTRAP, "dynamic_resources",
              "unknown or unsupported field 'dynamic_resources' in "
              "envoy.config.bootstrap.v3.Bootstrap");
    parse_err("static_resources: {clusters: [{name: a, type: NOPE}]}", BOOTSTRAP,
              "static_resources.clusters[0].type", "unknown value 'NOPE'");
    /* a NUL inside a key must not select the field named by its prefix */
    parse_err("\"name\\0x\": a", CLUSTER, "name", "unknown or unsupported field");
    parse_err("static_resources: {clusters: [{name: a, connect_timeout: 5}]}", BOOTSTRAP,
              "static_resources.clusters[0].connect_timeout", "invalid duration '5'");
}

static void test_lower_camel(void **state)
{
    Bootstrap *b = (void *)parse_ok(
        "staticResources:\n  clusters:\n  - name: a\n    connectTimeout: 1s\n    lbPolicy: "
        "RING_HASH\n    perConnectionBufferLimitBytes: 32768\n    dnsLookupFamily: V4_ONLY\n"
        "node: {userAgentName: outrider, locality: {subZone: z}}\n",
        BOOTSTRAP);
    Envoy__Config__Cluster__V3__Cluster *c = b->static_resources->clusters[0];
    assert_int_equal(c->connect_timeout->seconds, 1);
    assert_int_equal(c->lb_policy, ENVOY__CONFIG__CLUSTER__V3__CLUSTER__LB_POLICY__RING_HASH);
    assert_int_equal(c->per_connection_buffer_limit_bytes->value, 32768);
    assert_int_equal(c->dns_lookup_family,
                     ENVOY__CONFIG__CLUSTER__V3__CLUSTER__DNS_LOOKUP_FAMILY__V4_ONLY);
    assert_string_equal(b->node->user_agent_name, "outrider");
    assert_string_equal(b->node->locality->sub_zone, "z");
    or_config_free(&b->base);

    /* snake and camel spellings of one field are the same field */
    parse_err("name: a\nconnect_timeout: 1s\nconnectTimeout: 2s\n", CLUSTER, "connect_timeout",
              "field 'connect_timeout' is set twice");
    /* only protoc's json_name is accepted, not other spellings */
    parse_err("ConnectTimeout: 1s", CLUSTER, "ConnectTimeout", "unknown or unsupported field");
    parse_err("connect-timeout: 1s", CLUSTER, "connect-timeout", "unknown or unsupported field");
}

static void test_oneof(void **state)
{
    Envoy__Config__Route__V3__Route *r =
        (void *)parse_ok("match: {prefix: /}\nroute: {cluster: a}", ROUTE);
    assert_int_equal(r->match->path_specifier_case,
                     ENVOY__CONFIG__ROUTE__V3__ROUTE_MATCH__PATH_SPECIFIER_PREFIX);
    assert_string_equal(r->match->prefix, "/");
    assert_int_equal(r->action_case, ENVOY__CONFIG__ROUTE__V3__ROUTE__ACTION_ROUTE);
    assert_string_equal(r->route->cluster, "a");
    or_config_free(&r->base);

    parse_err("match: {prefix: /, path: /x}", ROUTE, "match.path",
              "'path' and 'prefix' cannot both be set: they are members of one oneof");
    parse_err("match: {prefix: /}\nroute: {cluster: a}\ndirect_response: {status: 200}", ROUTE,
              "direct_response", "'direct_response' and 'route' cannot both be set");
    parse_err("match: {safe_regex: {regex: a}, path: /x}", ROUTE, "match.path",
              "cannot both be set");
    /* a null member does not count as set */
    r = (void *)parse_ok("match: {prefix: null, path: /x}", ROUTE);
    assert_int_equal(r->match->path_specifier_case,
                     ENVOY__CONFIG__ROUTE__V3__ROUTE_MATCH__PATH_SPECIFIER_PATH);
    or_config_free(&r->base);
    /* message members of a oneof */
    r = (void *)parse_ok(
        "match: {safe_regex: {google_re2: {}, regex: '^/a.*'}}\n"
        "redirect: {https_redirect: true, path_redirect: /b, response_code: FOUND}",
        ROUTE);
    assert_string_equal(r->match->safe_regex->regex, "^/a.*");
    assert_non_null(r->match->safe_regex->google_re2);
    assert_int_equal(
        r->redirect->scheme_rewrite_specifier_case,
        ENVOY__CONFIG__ROUTE__V3__REDIRECT_ACTION__SCHEME_REWRITE_SPECIFIER_HTTPS_REDIRECT);
    assert_true(r->redirect->https_redirect);
    assert_string_equal(r->redirect->path_redirect, "/b");
    or_config_free(&r->base);
}

static void test_map(void **state)
{
    Envoy__Config__Core__V3__Metadata *m = (void *)parse_ok(
        "filter_metadata:\n  envoy.lb: {canary: true, weight: 2}\n  'k2': {}\n", META);
    assert_int_equal(m->n_filter_metadata, 2);
    assert_string_equal(m->filter_metadata[0]->key, "envoy.lb");
    assert_int_equal(m->filter_metadata[0]->value->n_fields, 2);
    assert_string_equal(m->filter_metadata[1]->key, "k2");
    assert_int_equal(m->filter_metadata[1]->value->n_fields, 0);
    or_config_free(&m->base);

    parse_err("filter_metadata: [a]", META, "filter_metadata", "expected a mapping, got a list");
    parse_err("filter_metadata: {a: 1}", META, "filter_metadata[\"a\"]",
              "expected a mapping for google.protobuf.Struct, got a scalar");
    parse_err("filter_metadata: {a: ~}", META, "filter_metadata[\"a\"]",
              "map values may not be null");
    parse_err("filter_metadata: {a: {}, a: {}}", META, "", "duplicate key 'a'");
    parse_json_eq("filterMetadata: {x: {y: [1, two, null, {z: false}]}}", META,
                  "{\"filter_metadata\":{\"x\":{\"y\":[1,\"two\",null,{\"z\":false}]}}}");
}

static void test_null_and_empty(void **state)
{
    Bootstrap *b = (void *)parse_ok("node: ~\nadmin: null\nstatic_resources: {}", BOOTSTRAP);
    assert_null(b->node);
    assert_null(b->admin);
    assert_non_null(b->static_resources);
    or_config_free(&b->base);
    b = (void *)parse_ok("{}", BOOTSTRAP);
    assert_null(b->static_resources);
    or_config_free(&b->base);
    parse_err("", BOOTSTRAP, "", "empty configuration");
    parse_err("# only a comment\n", BOOTSTRAP, "", "empty configuration");
    parse_err("~", BOOTSTRAP, "", "empty configuration");
    parse_err("- a\n- b\n", BOOTSTRAP, "",
              "expected a mapping for envoy.config.bootstrap.v3.Bootstrap, got a list");
    parse_err("just a string", BOOTSTRAP, "", "got a scalar");
}

static void test_yaml_errors(void **state)
{
    parse_err("node: {id: a\n", BOOTSTRAP, "", "invalid YAML at line 2");
    parse_err("a: 1\n---\nb: 2\n", BOOTSTRAP, "", "only one YAML document");
    parse_err("node:\n  id: a\n  id: b\n", BOOTSTRAP, "", "duplicate key 'id'");
    parse_err("node: *nope\n", BOOTSTRAP, "", "unknown anchor 'nope'");
    parse_err("node: &a {id: *a}\n", BOOTSTRAP, "", "alias may not refer to an enclosing node");
    parse_err("? [a]\n: b\n", BOOTSTRAP, "", "mapping keys must be scalars");
    /* 200 levels of nesting */
    char deep[1024];
    size_t o = 0;
    for (int i = 0; i < 200; i++)
        deep[o++] = '[';
    for (int i = 0; i < 200; i++)
        deep[o++] = ']';
    deep[o] = '\0';
    char doc[1100];
    snprintf(doc, sizeof(doc), "node: {metadata: {x: %s}}", deep);
    parse_err(doc, BOOTSTRAP, "", "nesting deeper than 128 levels");
}

static void test_anchors(void **state)
{
    const char *yaml = "static_resources:\n"
                       "  clusters:\n"
                       "  - &base\n"
                       "    name: a\n"
                       "    connect_timeout: 2s\n"
                       "    lb_policy: RANDOM\n"
                       "  - <<: *base\n"
                       "    name: b\n"
                       "  - *base\n"
                       "node:\n"
                       "  id: &id the-id\n"
                       "  cluster: *id\n";
    Bootstrap *b = (void *)parse_ok(yaml, BOOTSTRAP);
    assert_int_equal(b->static_resources->n_clusters, 3);
    Envoy__Config__Cluster__V3__Cluster **c = b->static_resources->clusters;
    assert_string_equal(c[0]->name, "a");
    assert_string_equal(c[1]->name, "b"); /* explicit key wins over the merge */
    assert_int_equal(c[1]->connect_timeout->seconds, 2);
    assert_int_equal(c[1]->lb_policy, ENVOY__CONFIG__CLUSTER__V3__CLUSTER__LB_POLICY__RANDOM);
    assert_string_equal(c[2]->name, "a");
    assert_ptr_not_equal(c[0], c[2]); /* aliases are copied: each message is freed once */
    assert_string_equal(b->node->cluster, "the-id");
    or_config_free(&b->base);

    /* Envoy's !ignore: a section only for anchors */
    b = (void *)parse_ok("!ignore defs:\n  addr: &addr {address: 10.0.0.1, port_value: 80}\n"
                         "admin: {address: {socket_address: *addr}}\n",
                         BOOTSTRAP);
    assert_string_equal(b->admin->address->socket_address->address, "10.0.0.1");
    or_config_free(&b->base);

    /* merge of a list of mappings: earlier ones win */
    b = (void *)parse_ok("node:\n  <<: [{id: first}, {id: second, cluster: c}]\n", BOOTSTRAP);
    assert_string_equal(b->node->id, "first");
    assert_string_equal(b->node->cluster, "c");
    or_config_free(&b->base);
    parse_err("node: {<<: 5}", BOOTSTRAP, "", "merge value must be a mapping");

    /* exponential alias expansion is bounded */
    const char *laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                         "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                         "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                         "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                         "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                         "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                         "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
    ProtobufCMessage *m = NULL;
    struct or_err_detail e;
    memset(&e, 0, sizeof(e));
    assert_int_equal(
        or_config_parse(laughs, strlen(laughs), &google__protobuf__struct__descriptor, &m, &e),
        OR_EINVAL);
    assert_null(m);
    assert_non_null(strstr(e.msg, "too large after alias expansion"));
}

static void test_json_input(void **state)
{
    const char *json = "{\n"
                       "  \"node\": {\"id\": \"n\\/1 \\\"q\\\" \\u00e9 \\ud83d\\ude00\\t\",\n"
                       "\t\"metadata\": {\"a\": [1, 2.5, true, null, \"s\"], \"b\": {}}},\n"
                       "  \"staticResources\": {\"clusters\": [{\"name\":\"c\",\"type\":\"EDS\","
                       "\"connectTimeout\":\"1.5s\"}]}\n"
                       "}\n";
    Bootstrap *b = (void *)parse_ok(json, BOOTSTRAP);
    assert_string_equal(b->node->id, "n/1 \"q\" \xc3\xa9 \xf0\x9f\x98\x80\t");
    assert_int_equal(b->node->metadata->n_fields, 2);
    assert_string_equal(b->static_resources->clusters[0]->name, "c");
    assert_int_equal(b->static_resources->clusters[0]->connect_timeout->nanos, 500000000);
    or_config_free(&b->base);

    /* surrogate pair rewriting must not touch text outside strings or escaped backslashes */
    b = (void *)parse_ok(
        "{\"node\": {\"id\": \"\\\\ud83d\\\\ude00\", \"cluster\": \"\\uD83D\\uDE00x\"}}",
        BOOTSTRAP);
    assert_string_equal(b->node->id, "\\ud83d\\ude00");
    assert_string_equal(b->node->cluster, "\xf0\x9f\x98\x80x");
    or_config_free(&b->base);

    parse_err("{\"node\": {\"id\": \"\\ud83d\"}}", BOOTSTRAP, "", "invalid YAML");
    parse_err("{\"node\": {\"idd\": 1}}", BOOTSTRAP, "node.idd", "unknown or unsupported field");
    parse_err("{\"node\": {\"id\": 1,}", BOOTSTRAP, "", "invalid YAML");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nested_and_repeated),
        cmocka_unit_test(test_unknown_field_paths),
        cmocka_unit_test(test_lower_camel),
        cmocka_unit_test(test_oneof),
        cmocka_unit_test(test_map),
        cmocka_unit_test(test_null_and_empty),
        cmocka_unit_test(test_yaml_errors),
        cmocka_unit_test(test_anchors),
        cmocka_unit_test(test_json_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
