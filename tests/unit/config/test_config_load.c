/* Bootstrap loading: --config-path by extension, --config-yaml merged over it (MergeFrom). */
#include "config_test.h"

#include <unistd.h>

#include "envoy/config/bootstrap/v3/bootstrap.pb-c.h"
#include "envoy/config/cluster/v3/cluster.pb-c.h"
#include "envoy/config/core/v3/address.pb-c.h"

typedef Envoy__Config__Bootstrap__V3__Bootstrap Bootstrap;

static char tmpdir[64];

static int setup(void **state)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/or_cfg_test.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Writes `len` bytes to tmpdir/name and returns the path (static buffer). */
static const char *write_file(const char *name, const void *data, size_t len)
{
    static char path[256];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
    return path;
}

static Bootstrap *load_ok(const char *path, const char *yaml)
{
    struct or_err_detail e;
    Bootstrap *b = NULL;
    memset(&e, 0, sizeof(e));
    int rc = or_config_load_bootstrap(path, yaml, &b, &e);
    if (rc != 0)
        fail_msg("load failed: %s: %s", e.path, e.msg);
    return b;
}

static void load_err(const char *path, const char *yaml, const char *err_path, const char *msg)
{
    struct or_err_detail e;
    Bootstrap *b = NULL;
    memset(&e, 0, sizeof(e));
    int rc = or_config_load_bootstrap(path, yaml, &b, &e);
    if (rc == 0) {
        or_config_free(&b->base);
        fail_msg("accepted, wanted %s", msg);
    }
    assert_null(b);
    if (strcmp(e.path, err_path) != 0 || strstr(e.msg, msg) == NULL)
        fail_msg("error was '%s': '%s'; wanted '%s': '...%s...'", e.path, e.msg, err_path, msg);
}

static const char *const base_yaml =
    "node: {id: base-id, cluster: base-cluster, locality: {region: r1, zone: z1}}\n"
    "admin: {address: {socket_address: {address: 127.0.0.1, port_value: 9901}}}\n"
    "static_resources:\n"
    "  clusters:\n"
    "  - {name: a, connect_timeout: 1s}\n";

static void test_yaml_file(void **state)
{
    const char *p = write_file("b.yaml", base_yaml, strlen(base_yaml));
    Bootstrap *b = load_ok(p, NULL);
    assert_string_equal(b->node->id, "base-id");
    assert_int_equal(b->static_resources->n_clusters, 1);
    or_config_free(&b->base);
    p = write_file("b.yml", base_yaml, strlen(base_yaml));
    b = load_ok(p, "");
    assert_string_equal(b->node->cluster, "base-cluster");
    or_config_free(&b->base);
    /* unknown extensions are read as YAML */
    p = write_file("bootstrap.conf", base_yaml, strlen(base_yaml));
    b = load_ok(p, NULL);
    assert_string_equal(b->node->cluster, "base-cluster");
    or_config_free(&b->base);
}

static void test_json_file(void **state)
{
    const char *json = "{\"node\": {\"id\": \"j\", \"userAgentName\": \"x\"},\n"
                       " \"static_resources\": {\"clusters\": [{\"name\": \"c\", \"lbPolicy\": "
                       "\"MAGLEV\"}]}}\n";
    const char *p = write_file("b.json", json, strlen(json));
    Bootstrap *b = load_ok(p, NULL);
    assert_string_equal(b->node->id, "j");
    assert_string_equal(b->node->user_agent_name, "x");
    assert_int_equal(b->static_resources->clusters[0]->lb_policy,
                     ENVOY__CONFIG__CLUSTER__V3__CLUSTER__LB_POLICY__MAGLEV);
    or_config_free(&b->base);
}

static void test_binary_file(void **state)
{
    Bootstrap *src =
        (Bootstrap *)parse_ok(base_yaml, &envoy__config__bootstrap__v3__bootstrap__descriptor);
    size_t sz = protobuf_c_message_get_packed_size(&src->base);
    uint8_t *buf = malloc(sz);
    protobuf_c_message_pack(&src->base, buf);
    const char *p = write_file("b.pb", buf, sz);
    Bootstrap *b = load_ok(p, NULL);
    assert_string_equal(b->node->id, "base-id");
    assert_int_equal(b->static_resources->clusters[0]->connect_timeout->seconds, 1);
    or_config_free(&b->base);
    /* a field outside our subset (Bootstrap.flags_path = 5) is rejected */
    uint8_t extra[] = {0x2a, 0x01, 'x'};
    uint8_t *buf2 = malloc(sz + sizeof(extra));
    memcpy(buf2, buf, sz);
    memcpy(buf2 + sz, extra, sizeof(extra));
    p = write_file("c.pb", buf2, sz + sizeof(extra));
    load_err(p, NULL, "",
             "unknown or unsupported field number 5 in envoy.config.bootstrap.v3.Bootstrap");
    uint8_t junk[] = {0x0a, 0x7f};
    p = write_file("d.pb", junk, sizeof(junk));
    load_err(p, NULL, "", "not a valid binary envoy.config.bootstrap.v3.Bootstrap");
    free(buf);
    free(buf2);
    or_config_free(&src->base);
}

static void test_errors(void **state)
{
    load_err(NULL, NULL, "", "at least one of --config-path or --config-yaml");
    load_err("", "", "", "at least one of --config-path or --config-yaml");
    load_err("/nonexistent/x.yaml", NULL, "", "unable to read config file '/nonexistent/x.yaml'");
    load_err(tmpdir, NULL, "", "unable to read config file");
    const char *p = write_file("empty.yaml", "", 0);
    load_err(p, NULL, "", "is empty");
    load_err(p, "node: {id: x}", "", "is empty");
    p = write_file("comment.yaml", "# nothing\n", 10);
    load_err(p, NULL, "", "empty configuration");
    p = write_file("bad.yaml", "static_resources: {clusters: [{nme: a}]}", 40);
    struct or_err_detail e;
    Bootstrap *b = NULL;
    memset(&e, 0, sizeof(e));
    assert_int_equal(or_config_load_bootstrap(p, NULL, &b, &e), OR_EINVAL);
    assert_string_equal(e.path, "static_resources.clusters[0].nme");
    char want[512];
    snprintf(want, sizeof(want),
             "%s: unknown or unsupported field 'nme' in envoy.config.cluster.v3.Cluster", p);
    assert_string_equal(e.msg, want);
    load_err(NULL, "admin: {adress: {}}", "admin.adress", "--config-yaml: unknown or unsupported");
    p = write_file("ok.yaml", base_yaml, strlen(base_yaml));
    load_err(p, "admin: [", "", "--config-yaml: invalid YAML");
    p = write_file("x.pb_text", "node {}", 7);
    load_err(p, NULL, "", "not supported");
}

static void test_yaml_only(void **state)
{
    Bootstrap *b = load_ok(NULL, "node: {id: only}");
    assert_string_equal(b->node->id, "only");
    or_config_free(&b->base);
}

static void test_merge(void **state)
{
    const char *p = write_file("base.yaml", base_yaml, strlen(base_yaml));
    Bootstrap *b = load_ok(p, "node: {id: override-id, locality: {zone: z2}}\n"
                              "admin: {address: {pipe: {path: /tmp/admin.sock}}}\n"
                              "static_resources: {clusters: [{name: b}]}\n");
    /* scalars replace, other fields of merged messages stay */
    assert_string_equal(b->node->id, "override-id");
    assert_string_equal(b->node->cluster, "base-cluster");
    assert_string_equal(b->node->locality->region, "r1");
    assert_string_equal(b->node->locality->zone, "z2");
    /* a oneof member replaces the other one */
    assert_int_equal(b->admin->address->address_case,
                     ENVOY__CONFIG__CORE__V3__ADDRESS__ADDRESS_PIPE);
    assert_string_equal(b->admin->address->pipe->path, "/tmp/admin.sock");
    /* repeated fields append */
    assert_int_equal(b->static_resources->n_clusters, 2);
    assert_string_equal(b->static_resources->clusters[0]->name, "a");
    assert_string_equal(b->static_resources->clusters[1]->name, "b");
    or_config_free(&b->base);

    /* the same oneof member merges recursively; a default proto3 scalar does not override */
    b = load_ok(p, "admin: {address: {socket_address: {port_value: 9902}}}\nnode: {id: ''}");
    assert_string_equal(b->admin->address->socket_address->address, "127.0.0.1");
    assert_int_equal(b->admin->address->socket_address->port_value, 9902);
    assert_string_equal(b->node->id, "base-id");
    or_config_free(&b->base);
}

static void test_merge_dup_api(void **state)
{
    const ProtobufCMessageDescriptor *d = &envoy__config__cluster__v3__cluster__descriptor;
    ProtobufCMessage *a = parse_ok("name: a\nlb_policy: RANDOM\ncircuit_breakers: {thresholds: "
                                   "[{max_connections: 1}]}",
                                   d);
    ProtobufCMessage *b = parse_ok("type: EDS\ncircuit_breakers: {thresholds: [{priority: HIGH}]}"
                                   "\nconnect_timeout: 2s",
                                   d);
    ProtobufCMessage *copy = or_config_dup(a);
    assert_non_null(copy);
    assert_ptr_not_equal(copy, a);
    assert_int_equal(or_config_merge(a, b), 0);
    assert_json(a, "{\"name\":\"a\",\"type\":\"EDS\",\"connect_timeout\":\"2s\",\"lb_policy\":"
                   "\"RANDOM\",\"circuit_breakers\":{\"thresholds\":[{\"max_connections\":1},"
                   "{\"priority\":\"HIGH\"}]}}");
    assert_json(copy, "{\"name\":\"a\",\"lb_policy\":\"RANDOM\",\"circuit_breakers\":{"
                      "\"thresholds\":[{\"max_connections\":1}]}}");
    ProtobufCMessage *other = parse_ok("{}", &envoy__config__core__v3__node__descriptor);
    assert_int_equal(or_config_merge(a, other), OR_EINVAL);
    or_config_free(other);
    or_config_free(a);
    or_config_free(b);
    or_config_free(copy);
    or_config_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yaml_file),     cmocka_unit_test(test_json_file),
        cmocka_unit_test(test_binary_file),   cmocka_unit_test(test_errors),
        cmocka_unit_test(test_yaml_only),     cmocka_unit_test(test_merge),
        cmocka_unit_test(test_merge_dup_api),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
