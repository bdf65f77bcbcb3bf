/* Tag extraction with Envoy's default extractors and stats_config.stats_tags (golden cases from
 * Envoy's tag extractor tests and docs), the stats matcher, and configuration errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "envoy/config/bootstrap/v3/bootstrap.pb-c.h"
#include "envoy/config/metrics/v3/stats.pb-c.h"
#include "google/protobuf/wrappers.pb-c.h"
#include "proxy/config/reflect.h"
#include "proxy/stats/stats.h"

/* Registers `name` and checks its tag-extracted name and "tag=value" list (in order). */
static void check_tags(struct or_stats_store *st, const char *name, const char *tx,
                       const char *const *tags)
{
    struct or_stat_info info;
    assert_true(or_stats_counter(st, name) != 0);
    assert_int_equal(or_stats_lookup(st, name, &info), 0);
    if (strcmp(info.tx_name, tx) != 0)
        fail_msg("%s: tag-extracted name %s, want %s", name, info.tx_name, tx);
    uint32_t n = 0;
    while (tags[n] != NULL)
        n++;
    char got[1024] = "";
    for (uint32_t i = 0; i < info.ntags; i++) {
        size_t l = strlen(got);
        snprintf(got + l, sizeof(got) - l, "%s%s=%s", i ? "," : "", info.tag_names[i],
                 info.tag_values[i]);
    }
    char want[1024] = "";
    for (uint32_t i = 0; i < n; i++) {
        size_t l = strlen(want);
        snprintf(want + l, sizeof(want) - l, "%s%s", i ? "," : "", tags[i]);
    }
    if (strcmp(got, want) != 0)
        fail_msg("%s: tags %s, want %s", name, got, want);
}

#define TAGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NO_TAGS ((const char *const[]){NULL})

static void test_default_extractors(void **state)
{
    struct or_stats_store *st = or_stats_store_new(2);
    check_tags(st, "cluster.foo.upstream_rq_2xx", "cluster.upstream_rq_xx",
               TAGS("envoy.response_code_class=2", "envoy.cluster_name=foo"));
    check_tags(st, "cluster.ratelimit.upstream_rq_200", "cluster.upstream_rq",
               TAGS("envoy.response_code=200", "envoy.cluster_name=ratelimit"));
    check_tags(st, "cluster.foo.external.upstream_rq_503", "cluster.external.upstream_rq",
               TAGS("envoy.response_code=503", "envoy.cluster_name=foo"));
    check_tags(st, "cluster.ratelimit.upstream_rq_timeout", "cluster.upstream_rq_timeout",
               TAGS("envoy.cluster_name=ratelimit"));
    check_tags(st, "cluster.ratelimit.ssl.ciphers.ECDHE-RSA-AES128-GCM-SHA256",
               "cluster.ssl.ciphers",
               TAGS("cipher_suite=ECDHE-RSA-AES128-GCM-SHA256", "envoy.cluster_name=ratelimit"));
    check_tags(st, "cluster.grpc_cluster.grpc.grpc_service_1.grpc_method_1.success",
               "cluster.grpc.success",
               TAGS("envoy.grpc_bridge_method=grpc_method_1",
                    "envoy.grpc_bridge_service=grpc_service_1", "envoy.cluster_name=grpc_cluster"));
    check_tags(st, "http.egress.user_agent.ios.downstream_cx_total",
               "http.user_agent.downstream_cx_total",
               TAGS("envoy.http_user_agent=ios", "envoy.http_conn_manager_prefix=egress"));
    check_tags(st, "http.ingress.downstream_rq_5xx", "http.downstream_rq_xx",
               TAGS("envoy.response_code_class=5", "envoy.http_conn_manager_prefix=ingress"));
    check_tags(st, "http.ingress.downstream_rq_time", "http.downstream_rq_time",
               TAGS("envoy.http_conn_manager_prefix=ingress"));
    check_tags(st, "listener.127.0.0.1_3012.downstream_cx_total", "listener.downstream_cx_total",
               TAGS("envoy.listener_address=127.0.0.1_3012"));
    check_tags(st, "listener.[__1]_3012.downstream_cx_total", "listener.downstream_cx_total",
               TAGS("envoy.listener_address=[__1]_3012"));
    check_tags(st, "listener.0.0.0.0_15000.http.ingress.downstream_rq_2xx",
               "listener.http.downstream_rq_xx",
               TAGS("envoy.response_code_class=2", "envoy.http_conn_manager_prefix=ingress",
                    "envoy.listener_address=0.0.0.0_15000"));
    /* "admin" is not a listener address (Envoy's negative match). */
    check_tags(st, "listener.admin.downstream_cx_total", "listener.admin.downstream_cx_total",
               NO_TAGS);
    check_tags(st, "listener_manager.worker_123.dispatcher.loop_duration_us",
               "listener_manager.worker_dispatcher.loop_duration_us", TAGS("envoy.worker_id=123"));
    check_tags(st, "http.rds_connection_manager.rds.route_config.123.update_success",
               "http.rds.update_success",
               TAGS("envoy.rds_route_config=route_config.123",
                    "envoy.http_conn_manager_prefix=rds_connection_manager"));
    check_tags(st, "vhost.vhost_1.vcluster.vcluster_1.upstream_rq_2xx",
               "vhost.vcluster.upstream_rq_xx",
               TAGS("envoy.response_code_class=2", "envoy.virtual_cluster=vcluster_1",
                    "envoy.virtual_host=vhost_1"));
    check_tags(st, "tcp.tcp_prefix.downstream_cx_total", "tcp.downstream_cx_total",
               TAGS("envoy.tcp_prefix=tcp_prefix"));
    check_tags(st, "server.live", "server.live", NO_TAGS);
    check_tags(st, "cluster_manager.active_clusters", "cluster_manager.active_clusters", NO_TAGS);
    check_tags(st, "control_plane.connected_state", "control_plane.connected_state", NO_TAGS);
    or_stats_store_free(st);
}

static Envoy__Config__Metrics__V3__TagSpecifier *spec(const char *name, const char *regex,
                                                      const char *fixed)
{
    Envoy__Config__Metrics__V3__TagSpecifier *t = calloc(1, sizeof(*t));
    envoy__config__metrics__v3__tag_specifier__init(t);
    t->tag_name = (char *)name;
    if (regex != NULL) {
        t->tag_value_case = ENVOY__CONFIG__METRICS__V3__TAG_SPECIFIER__TAG_VALUE_REGEX;
        t->regex = (char *)regex;
    } else if (fixed != NULL) {
        t->tag_value_case = ENVOY__CONFIG__METRICS__V3__TAG_SPECIFIER__TAG_VALUE_FIXED_VALUE;
        t->fixed_value = (char *)fixed;
    }
    return t;
}

static void free_specs(Envoy__Config__Metrics__V3__StatsConfig *c)
{
    for (size_t i = 0; i < c->n_stats_tags; i++)
        free(c->stats_tags[i]);
}

/* The tags App Mesh's agent always adds (REFERENCE.md §1.3) plus a fixed mesh tag. */
static void test_appmesh_stats_tags(void **state)
{
    Envoy__Config__Metrics__V3__TagSpecifier *tags[] = {
        spec("appmesh.listener_protocol", ".*?\\.ingress\\.((\\w+?)\\.)[0-9]+?\\.(.+?)$", NULL),
        spec("appmesh.listener_port", ".*?\\.ingress\\.\\w+?\\.(([0-9]+?)\\.)(.+?)$", NULL),
        spec("envoy_rds_route_config", ".*?\\.ingress\\.\\w+?\\.[0-9]+?\\.rds\\.((.*?)\\.)(.+?)$",
             NULL),
        spec("appmesh.mesh", NULL, "demo"),
    };
    Envoy__Config__Metrics__V3__StatsConfig cfg = ENVOY__CONFIG__METRICS__V3__STATS_CONFIG__INIT;
    cfg.stats_tags = tags;
    cfg.n_stats_tags = 4;
    struct or_stats_store *st = or_stats_store_new(2);
    struct or_err_detail err = {{0}, {0}};
    assert_int_equal(or_stats_configure(st, &cfg, &err), 0);

    check_tags(st, "http.ingress.http.8080.downstream_rq_2xx", "http.downstream_rq_xx",
               TAGS("envoy.response_code_class=2", "appmesh.listener_protocol=http",
                    "appmesh.listener_port=8080", "appmesh.mesh=demo",
                    "envoy.http_conn_manager_prefix=ingress"));
    check_tags(st, "cluster.cds_ingress_mesh_vn_http_8080.upstream_rq_200", "cluster.upstream_rq",
               TAGS("envoy.response_code=200", "appmesh.mesh=demo",
                    "envoy.cluster_name=cds_ingress_mesh_vn_http_8080"));

    /* Prometheus renders them as labels, tag names sanitized. */
    struct evbuffer *b = evbuffer_new();
    assert_int_equal(or_stats_render(st, OR_STATS_FMT_PROMETHEUS, NULL, b), 0);
    size_t n = evbuffer_get_length(b);
    char *s = calloc(1, n + 1);
    evbuffer_remove(b, s, n);
    assert_non_null(strstr(
        s,
        "# TYPE envoy_http_downstream_rq_xx counter\n"
        "envoy_http_downstream_rq_xx{envoy_response_code_class=\"2\","
        "appmesh_listener_protocol=\"http\",appmesh_listener_port=\"8080\",appmesh_mesh=\"demo\","
        "envoy_http_conn_manager_prefix=\"ingress\"} 0\n\n"));
    free(s);
    evbuffer_free(b);

    free_specs(&cfg);
    or_stats_store_free(st);
}

static void test_config_variants(void **state)
{
    struct or_err_detail err = {{0}, {0}};
    /* use_all_default_tags: false leaves only the configured tags. */
    Envoy__Config__Metrics__V3__TagSpecifier *tags[] = {
        spec("envoy.cluster_name", NULL, NULL), /* no regex: Envoy's default for that name */
        spec("my_tag", "^cluster\\.\\w+\\.(my_(\\w+)\\.)", NULL),
    };
    Google__Protobuf__BoolValue no = GOOGLE__PROTOBUF__BOOL_VALUE__INIT;
    Envoy__Config__Metrics__V3__StatsConfig cfg = ENVOY__CONFIG__METRICS__V3__STATS_CONFIG__INIT;
    cfg.use_all_default_tags = &no;
    cfg.stats_tags = tags;
    cfg.n_stats_tags = 2;
    struct or_stats_store *st = or_stats_store_new(1);
    /* Stats registered before the configuration get their tags recomputed. */
    assert_true(or_stats_counter(st, "cluster.a.my_x.upstream_rq_2xx") != 0);
    assert_int_equal(or_stats_configure(st, &cfg, &err), 0);
    check_tags(st, "cluster.a.my_x.upstream_rq_2xx", "cluster.upstream_rq_2xx",
               TAGS("envoy.cluster_name=a", "my_tag=x"));
    check_tags(st, "http.ingress.downstream_rq_2xx", "http.ingress.downstream_rq_2xx", NO_TAGS);
    or_stats_store_free(st);

    /* Errors name the field. */
    st = or_stats_store_new(1);
    free(tags[0]);
    tags[0] = spec("", "x", NULL);
    cfg.n_stats_tags = 1;
    cfg.use_all_default_tags = NULL;
    assert_int_equal(or_stats_configure(st, &cfg, &err), OR_EINVAL);
    assert_string_equal(err.path, "stats_config.stats_tags[0]");
    assert_string_equal(err.msg, "tag_name cannot be empty");
    free(tags[0]);
    tags[0] = spec("no.such.default", NULL, NULL);
    assert_int_equal(or_stats_configure(st, &cfg, &err), OR_EINVAL);
    assert_string_equal(err.msg, "No regex specified for tag specifier and no default regex for "
                                 "name: 'no.such.default'");
    free(tags[0]);
    tags[0] = spec("bad", "(unclosed", NULL);
    assert_int_equal(or_stats_configure(st, &cfg, &err), OR_EINVAL);
    assert_string_equal(err.path, "stats_config.stats_tags[0].regex");
    assert_non_null(strstr(err.msg, "Invalid regex '(unclosed'"));
    /* The previous (default) configuration is still in force. */
    check_tags(st, "cluster.b.upstream_cx_total", "cluster.upstream_cx_total",
               TAGS("envoy.cluster_name=b"));
    free(tags[0]);
    free(tags[1]);
    or_stats_store_free(st);
}

static void test_stats_matcher(void **state)
{
    Envoy__Type__Matcher__V3__StringMatcher p1 = ENVOY__TYPE__MATCHER__V3__STRING_MATCHER__INIT;
    p1.match_pattern_case = ENVOY__TYPE__MATCHER__V3__STRING_MATCHER__MATCH_PATTERN_PREFIX;
    p1.prefix = "cluster.";
    Envoy__Type__Matcher__V3__StringMatcher p2 = ENVOY__TYPE__MATCHER__V3__STRING_MATCHER__INIT;
    p2.match_pattern_case = ENVOY__TYPE__MATCHER__V3__STRING_MATCHER__MATCH_PATTERN_SUFFIX;
    p2.suffix = "CONNECTED_STATE";
    p2.ignore_case = true;
    Envoy__Type__Matcher__V3__StringMatcher *pats[] = {&p1, &p2};
    Envoy__Type__Matcher__V3__ListStringMatcher list =
        ENVOY__TYPE__MATCHER__V3__LIST_STRING_MATCHER__INIT;
    list.patterns = pats;
    list.n_patterns = 2;
    Envoy__Config__Metrics__V3__StatsMatcher m = ENVOY__CONFIG__METRICS__V3__STATS_MATCHER__INIT;
    m.stats_matcher_case = ENVOY__CONFIG__METRICS__V3__STATS_MATCHER__STATS_MATCHER_INCLUSION_LIST;
    m.inclusion_list = &list;
    Envoy__Config__Metrics__V3__StatsConfig cfg = ENVOY__CONFIG__METRICS__V3__STATS_CONFIG__INIT;
    cfg.stats_matcher = &m;
    struct or_err_detail err = {{0}, {0}};
    struct or_stats_store *st = or_stats_store_new(1);
    assert_int_equal(or_stats_configure(st, &cfg, &err), 0);
    assert_true(or_stats_counter(st, "cluster.a.upstream_rq_total") != 0);
    assert_true(or_stats_gauge(st, "control_plane.connected_state") != 0);
    /* Rejected: the sink handle, harmless to record into, never shown. */
    uint32_t h = or_stats_counter(st, "http.ingress.downstream_rq_total");
    assert_int_equal(h, 0);
    or_counter_inc(or_stats_store_shard(st, 0), h);
    struct or_stat_info info;
    assert_int_equal(or_stats_lookup(st, "http.ingress.downstream_rq_total", &info), OR_ENOTFOUND);
    or_stats_store_free(st);

    m.stats_matcher_case = ENVOY__CONFIG__METRICS__V3__STATS_MATCHER__STATS_MATCHER_EXCLUSION_LIST;
    m.exclusion_list = &list;
    st = or_stats_store_new(1);
    assert_int_equal(or_stats_configure(st, &cfg, &err), 0);
    assert_int_equal(or_stats_counter(st, "cluster.a.upstream_rq_total"), 0);
    assert_true(or_stats_counter(st, "http.ingress.downstream_rq_total") != 0);
    or_stats_store_free(st);

    m.stats_matcher_case = ENVOY__CONFIG__METRICS__V3__STATS_MATCHER__STATS_MATCHER_REJECT_ALL;
    m.reject_all = true;
    st = or_stats_store_new(1);
    assert_int_equal(or_stats_configure(st, &cfg, &err), 0);
    assert_int_equal(or_stats_gauge(st, "server.live"), 0);
    or_stats_store_free(st);
}

/* bootstrap.stats_config through the real YAML loader, as the server will apply it. */
static void test_bootstrap_yaml(void **state)
{
    static const char yaml[] = "stats_config:\n"
                               "  use_all_default_tags: true\n"
                               "  stats_tags:\n"
                               "  - tag_name: appmesh.mesh\n"
                               "    fixed_value: demo\n"
                               "  - tag_name: appmesh.listener_port\n"
                               "    regex: '.*?\\.ingress\\.\\w+?\\.(([0-9]+?)\\.)(.+?)$'\n"
                               "  stats_matcher:\n"
                               "    exclusion_list:\n"
                               "      patterns:\n"
                               "      - safe_regex: {regex: '.*\\.tracing\\..*'}\n";
    ProtobufCMessage *m = NULL;
    struct or_err_detail err = {{0}, {0}};
    int rc = or_config_parse(yaml, sizeof(yaml) - 1,
                             &envoy__config__bootstrap__v3__bootstrap__descriptor, &m, &err);
    if (rc != 0)
        fail_msg("parse: %s: %s", err.path, err.msg);
    const Envoy__Config__Bootstrap__V3__Bootstrap *b = (const void *)m;
    assert_non_null(b->stats_config);
    struct or_stats_store *st = or_stats_store_new(1);
    assert_int_equal(or_stats_configure(st, b->stats_config, &err), 0);
    check_tags(st, "http.ingress.http.8080.downstream_rq_total", "http.http.downstream_rq_total",
               TAGS("appmesh.mesh=demo", "appmesh.listener_port=8080",
                    "envoy.http_conn_manager_prefix=ingress"));
    assert_int_equal(or_stats_counter(st, "http.ingress.tracing.random_sampling"), 0);
    or_stats_store_free(st);
    or_config_free(m);

    /* A TagSpecifier without tag_name is refused with its path. */
    static const char bad[] = "stats_config: {stats_tags: [{regex: 'a(b)'}]}\n";
    assert_int_equal(or_config_parse(bad, sizeof(bad) - 1,
                                     &envoy__config__bootstrap__v3__bootstrap__descriptor, &m,
                                     &err),
                     0);
    b = (const void *)m;
    st = or_stats_store_new(1);
    assert_int_equal(or_stats_configure(st, b->stats_config, &err), OR_EINVAL);
    assert_string_equal(err.path, "stats_config.stats_tags[0]");
    or_stats_store_free(st);
    or_config_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_extractors), cmocka_unit_test(test_appmesh_stats_tags),
        cmocka_unit_test(test_config_variants),    cmocka_unit_test(test_stats_matcher),
        cmocka_unit_test(test_bootstrap_yaml),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
