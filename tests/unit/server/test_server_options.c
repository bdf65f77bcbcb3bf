/* Command-line parsing: Envoy's flags, both value forms, defaults, errors and exit codes. */
#include <regex.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "proxy/core/err.h"
#include "proxy/server/options.h"

#define MAXARGS 32

/* Builds argv {"envoy", args..., NULL} in static storage (the options borrow it). */
static char *argv_store[MAXARGS];
static int argc_store;
static char err[512];

static int vparse(struct or_options *o, const char *first, va_list ap)
{
    argc_store = 0;
    argv_store[argc_store++] = (char *)"envoy";
    for (const char *a = first; a != NULL; a = va_arg(ap, const char *)) {
        assert_true(argc_store < MAXARGS - 1);
        argv_store[argc_store++] = (char *)a;
    }
    argv_store[argc_store] = NULL;
    return or_options_parse(argc_store, argv_store, o, err, sizeof(err));
}

/* parse(&o, "--flag", "value", NULL) */
static int parse(struct or_options *o, ...)
{
    va_list ap;
    va_start(ap, o);
    const char *first = va_arg(ap, const char *);
    int rc = vparse(o, first, ap);
    va_end(ap);
    return rc;
}

static void test_defaults(void **state)
{
    struct or_options o;
    assert_int_equal(parse(&o, NULL), 0);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    assert_int_equal(o.concurrency, cpus > 0 ? (uint32_t)cpus : 1);
    assert_false(o.concurrency_set);
    assert_string_equal(o.config_path, "");
    assert_string_equal(o.config_yaml, "");
    assert_int_equal(o.mode, OR_MODE_SERVE);
    assert_int_equal(o.log_level, OR_LOG_INFO);
    assert_string_equal(o.log_format, OR_DEFAULT_LOG_FORMAT);
    assert_string_equal(o.log_path, "");
    assert_string_equal(o.component_log_level, "");
    assert_int_equal(o.drain_time_s, 600);
    assert_int_equal(o.parent_shutdown_time_s, 900);
    assert_int_equal(o.drain_strategy, OR_DRAIN_GRADUAL);
    assert_int_equal(o.file_flush_interval_msec, 10000);
    assert_int_equal(o.restart_epoch, 0);
    assert_int_equal(o.base_id, 0);
    assert_string_equal(o.socket_path, "@envoy_domain_socket");
    assert_int_equal(o.socket_mode, 0);
    assert_int_equal(o.local_address_ip_version, OR_IP_V4);
    assert_string_equal(o.service_cluster, "");
    assert_string_equal(o.service_node, "");
    assert_string_equal(o.service_zone, "");
    assert_string_equal(o.admin_address_path, "");
    assert_string_equal(o.disable_extensions, "");
    assert_false(o.disable_hot_restart);
    assert_false(o.allow_unknown_static_fields);
    assert_int_equal(o.argc, 1);
    assert_ptr_equal(o.argv, argv_store);

    struct or_options d;
    or_options_init(&d);
    assert_int_equal(d.concurrency, o.concurrency);
    assert_int_equal(d.drain_time_s, 600);
}

/* The exact command line the App Mesh agent builds (buildCommandArgs). */
static void test_app_mesh_agent_command_line(void **state)
{
    struct or_options o;
    assert_int_equal(parse(&o, "-c", "/tmp/envoy-config-1.yaml", "-l", "info", "--concurrency", "2",
                           "--drain-time-s", "20", "--disable-hot-restart",
                           "--skip-deprecated-logs", NULL),
                     0);
    assert_string_equal(o.config_path, "/tmp/envoy-config-1.yaml");
    assert_int_equal(o.log_level, OR_LOG_INFO);
    assert_int_equal(o.concurrency, 2);
    assert_true(o.concurrency_set);
    assert_int_equal(o.drain_time_s, 20);
    assert_true(o.disable_hot_restart);
    assert_true(o.skip_deprecated_logs);
}

static void test_string_flags_both_forms(void **state)
{
    static const struct {
        const char *flag;
        size_t off;
    } cases[] = {
        {"config-path", offsetof(struct or_options, config_path)},
        {"config-yaml", offsetof(struct or_options, config_yaml)},
        {"log-path", offsetof(struct or_options, log_path)},
        {"log-format", offsetof(struct or_options, log_format)},
        {"service-cluster", offsetof(struct or_options, service_cluster)},
        {"service-node", offsetof(struct or_options, service_node)},
        {"service-zone", offsetof(struct or_options, service_zone)},
        {"base-id-path", offsetof(struct or_options, base_id_path)},
        {"socket-path", offsetof(struct or_options, socket_path)},
        {"admin-address-path", offsetof(struct or_options, admin_address_path)},
        {"disable-extensions", offsetof(struct or_options, disable_extensions)},
        {"component-log-level", offsetof(struct or_options, component_log_level)},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct or_options o;
        char flag[64], eq[128];
        const char *value = strcmp(cases[i].flag, "component-log-level") == 0 ? "upstream:debug"
                            : strcmp(cases[i].flag, "socket-path") == 0       ? "@sock"
                                                                              : "v a=l";
        snprintf(flag, sizeof(flag), "--%s", cases[i].flag);
        snprintf(eq, sizeof(eq), "--%s=%s", cases[i].flag, value);

        assert_int_equal(parse(&o, flag, value, NULL), 0);
        assert_string_equal(*(const char **)((char *)&o + cases[i].off), value);
        assert_int_equal(parse(&o, eq, NULL), 0);
        assert_string_equal(*(const char **)((char *)&o + cases[i].off), value);
    }
}

static void test_short_forms(void **state)
{
    struct or_options o;
    assert_int_equal(parse(&o, "-c", "a.yaml", "-l", "debug", NULL), 0);
    assert_string_equal(o.config_path, "a.yaml");
    assert_int_equal(o.log_level, OR_LOG_DEBUG);
    assert_int_equal(parse(&o, "--config-path=b.json", "--log-level=trace", NULL), 0);
    assert_string_equal(o.config_path, "b.json");
    assert_int_equal(o.log_level, OR_LOG_TRACE);
    /* A value may start with '-' and contain '=': it is taken verbatim. */
    assert_int_equal(parse(&o, "-c", "-weird=name", NULL), 0);
    assert_string_equal(o.config_path, "-weird=name");
    /* "--flag=" gives an empty string. */
    assert_int_equal(parse(&o, "--config-yaml=", NULL), 0);
    assert_string_equal(o.config_yaml, "");
}

static void test_numeric_flags(void **state)
{
    struct or_options o;
    assert_int_equal(parse(&o, "--concurrency", "7", "--drain-time-s=30",
                           "--parent-shutdown-time-s", "45", "--file-flush-interval-msec=250",
                           "--base-id", "3", "--restart-epoch", "0", "--bootstrap-version=3", NULL),
                     0);
    assert_int_equal(o.concurrency, 7);
    assert_int_equal(o.drain_time_s, 30);
    assert_int_equal(o.parent_shutdown_time_s, 45);
    assert_int_equal(o.file_flush_interval_msec, 250);
    assert_int_equal(o.base_id, 3);
    assert_int_equal(o.restart_epoch, 0);
    assert_int_equal(o.bootstrap_version, 3);
    assert_int_equal(parse(&o, "--drain-time-s", "4294967295", NULL), 0);
    assert_int_equal(o.drain_time_s, 4294967295u);
}

static void test_concurrency_rules(void **state)
{
    struct or_options o;
    /* Envoy: std::max(1U, concurrency). */
    assert_int_equal(parse(&o, "--concurrency", "0", NULL), 0);
    assert_int_equal(o.concurrency, 1);

    cpu_set_t set;
    CPU_ZERO(&set);
    assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
    assert_int_equal(parse(&o, "--cpuset-threads", NULL), 0);
    assert_true(o.cpuset_threads);
    assert_int_equal(o.concurrency, (uint32_t)CPU_COUNT(&set));

    /* An explicit --concurrency wins over --cpuset-threads, in either order. */
    assert_int_equal(parse(&o, "--cpuset-threads", "--concurrency", "5", NULL), 0);
    assert_int_equal(o.concurrency, 5);
    assert_int_equal(parse(&o, "--concurrency=5", "--cpuset-threads", NULL), 0);
    assert_int_equal(o.concurrency, 5);
}

static void test_switches(void **state)
{
    struct or_options o;
    assert_int_equal(parse(&o, "--log-format-escaped", "--enable-fine-grain-logging",
                           "--cpuset-threads", "--use-dynamic-base-id", "--disable-hot-restart",
                           "--skip-hot-restart-on-no-parent", "--skip-hot-restart-parent-stats",
                           "--allow-unknown-static-fields", "--reject-unknown-dynamic-fields",
                           "--ignore-unknown-dynamic-fields", "--skip-deprecated-logs",
                           "--enable-mutex-tracing", "--enable-core-dump", NULL),
                     0);
    assert_true(o.log_format_escaped);
    assert_true(o.enable_fine_grain_logging);
    assert_true(o.cpuset_threads);
    assert_true(o.use_dynamic_base_id);
    assert_true(o.disable_hot_restart);
    assert_true(o.skip_hot_restart_on_no_parent);
    assert_true(o.skip_hot_restart_parent_stats);
    assert_true(o.allow_unknown_static_fields);
    assert_true(o.reject_unknown_dynamic_fields);
    assert_true(o.ignore_unknown_dynamic_fields);
    assert_true(o.skip_deprecated_logs);
    assert_true(o.enable_mutex_tracing);
    assert_true(o.enable_core_dump);

    /* The deprecated spelling sets the same option. */
    assert_int_equal(parse(&o, "--allow-unknown-fields", NULL), 0);
    assert_true(o.allow_unknown_static_fields);
}

static void test_enumerated_values(void **state)
{
    struct or_options o;
    assert_int_equal(parse(&o, "--mode", "validate", NULL), 0);
    assert_int_equal(o.mode, OR_MODE_VALIDATE);
    assert_int_equal(parse(&o, "--mode=init_only", NULL), 0);
    assert_int_equal(o.mode, OR_MODE_INIT_ONLY);
    assert_int_equal(parse(&o, "--mode", "serve", NULL), 0);
    assert_int_equal(o.mode, OR_MODE_SERVE);

    static const struct {
        const char *name;
        enum or_log_level l;
    } levels[] = {{"trace", OR_LOG_TRACE},       {"debug", OR_LOG_DEBUG},  {"info", OR_LOG_INFO},
                  {"warn", OR_LOG_WARN},         {"warning", OR_LOG_WARN}, {"error", OR_LOG_ERROR},
                  {"critical", OR_LOG_CRITICAL}, {"off", OR_LOG_OFF}};
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
        assert_int_equal(parse(&o, "-l", levels[i].name, NULL), 0);
        assert_int_equal(o.log_level, levels[i].l);
    }

    assert_int_equal(parse(&o, "--drain-strategy", "immediate", NULL), 0);
    assert_int_equal(o.drain_strategy, OR_DRAIN_IMMEDIATE);
    assert_int_equal(parse(&o, "--drain-strategy=gradual", NULL), 0);
    assert_int_equal(o.drain_strategy, OR_DRAIN_GRADUAL);

    assert_int_equal(parse(&o, "--local-address-ip-version", "v6", NULL), 0);
    assert_int_equal(o.local_address_ip_version, OR_IP_V6);
    assert_int_equal(parse(&o, "--local-address-ip-version=v4", NULL), 0);
    assert_int_equal(o.local_address_ip_version, OR_IP_V4);

    /* Socket mode is octal and only counts for a filesystem socket path. */
    assert_int_equal(parse(&o, "--socket-path", "/tmp/hr.sock", "--socket-mode", "644", NULL), 0);
    assert_int_equal(o.socket_mode, 0644);
    assert_int_equal(parse(&o, "--socket-path", "/tmp/hr.sock", NULL), 0);
    assert_int_equal(o.socket_mode, 0600);
    assert_int_equal(parse(&o, "--socket-mode", "644", NULL), 0);
    assert_int_equal(o.socket_mode, 0);

    assert_int_equal(parse(&o, "--component-log-level", "upstream:debug,config:trace,a:warn", NULL),
                     0);
    assert_string_equal(o.component_log_level, "upstream:debug,config:trace,a:warn");

    assert_string_equal(or_options_mode_name(OR_MODE_SERVE), "Serve");
    assert_string_equal(or_options_mode_name(OR_MODE_VALIDATE), "Validate");
    assert_string_equal(or_options_mode_name(OR_MODE_INIT_ONLY), "InitOnly");
    assert_string_equal(or_options_drain_strategy_name(OR_DRAIN_GRADUAL), "Gradual");
    assert_string_equal(or_options_drain_strategy_name(OR_DRAIN_IMMEDIATE), "Immediate");
    assert_string_equal(or_options_ip_version_name(OR_IP_V4), "v4");
    assert_string_equal(or_options_ip_version_name(OR_IP_V6), "v6");
}

static void expect_error(const char *contains, ...)
{
    struct or_options o;
    va_list ap;
    va_start(ap, contains);
    const char *first = va_arg(ap, const char *);
    int rc = vparse(&o, first, ap);
    va_end(ap);
    assert_int_equal(rc, OR_EINVAL);
    if (strstr(err, contains) == NULL)
        fail_msg("error '%s' does not contain '%s'", err, contains);
    assert_null(strchr(err, '\n'));
}

static void test_errors(void **state)
{
    expect_error("unknown argument '--bogus'", "--bogus", NULL);
    expect_error("unknown argument '--bogus=1'", "--bogus=1", NULL);
    expect_error("unknown argument '-x'", "-x", NULL);
    expect_error("unknown argument 'file.yaml'", "file.yaml", NULL);
    expect_error("unknown argument '-cfoo'", "-cfoo", NULL);
    expect_error("unknown argument '-'", "-", NULL);
    expect_error("missing a value for argument '-c'", "-c", NULL);
    expect_error("missing a value for argument '--concurrency'", "--concurrency", NULL);
    expect_error("'abc'", "--concurrency", "abc", NULL);
    expect_error("'-1'", "--concurrency", "-1", NULL);
    expect_error("'4294967296'", "--drain-time-s", "4294967296", NULL);
    expect_error("'10s'", "--drain-time-s=10s", NULL);
    expect_error("''", "--concurrency=", NULL);
    expect_error("given more than once", "-c", "a", "--config-path", "b", NULL);
    expect_error("given more than once", "--disable-hot-restart", "--disable-hot-restart", NULL);
    expect_error("takes no value", "--disable-hot-restart=true", NULL);
    expect_error("error: unknown mode 'bogus'", "--mode", "bogus", NULL);
    expect_error("error: invalid log level specified 'loud'", "-l", "loud", NULL);
    expect_error("error: unknown IP address version 'v5'", "--local-address-ip-version", "v5",
                 NULL);
    expect_error("error: unknown drain-strategy 'slow'", "--drain-strategy", "slow", NULL);
    expect_error("hot restart is not supported", "--restart-epoch", "1", NULL);
    expect_error("only version 3", "--bootstrap-version", "2", NULL);
    expect_error("error: invalid socket-mode '999'", "--socket-path", "/x", "--socket-mode", "999",
                 NULL);
    expect_error("component log level not correctly specified 'upstream'", "--component-log-level",
                 "upstream", NULL);
    expect_error("component log level not correctly specified 'a:b:c'", "--component-log-level",
                 "x:info,a:b:c", NULL);
    expect_error("invalid log level specified 'loud'", "--component-log-level", "upstream:loud",
                 NULL);
    expect_error("not supported", "--stats-tag", "a:b", NULL);
    expect_error("must not be empty", "--socket-path=", NULL);

    /* err may be NULL. */
    struct or_options o;
    char *argv[] = {(char *)"envoy", (char *)"--bogus", NULL};
    assert_int_equal(or_options_parse(2, argv, &o, NULL, 0), OR_EINVAL);
}

static void test_exit_codes(void **state)
{
    struct or_options o;
    assert_int_equal(parse(&o, "--version", NULL), OR_OPTIONS_EXIT_VERSION);
    assert_int_equal(parse(&o, "--help", NULL), OR_OPTIONS_EXIT_HELP);
    assert_int_equal(parse(&o, "-h", NULL), OR_OPTIONS_EXIT_HELP);
    assert_int_equal(parse(&o, "--hot-restart-version", NULL), OR_OPTIONS_EXIT_HOT_RESTART_VERSION);
    assert_int_equal(parse(&o, "--hot-restart-version", "--disable-hot-restart", NULL),
                     OR_OPTIONS_EXIT_HOT_RESTART_VERSION);
    /* Left to right, as TCLAP: --version acts before a later bad flag is seen. */
    assert_int_equal(parse(&o, "--version", "--bogus", NULL), OR_OPTIONS_EXIT_VERSION);
    assert_int_equal(parse(&o, "--bogus", "--version", NULL), OR_EINVAL);
    /* --hot-restart-version only after a clean parse. */
    assert_int_equal(parse(&o, "--hot-restart-version", "--mode", "x", NULL), OR_EINVAL);
}

static void test_ignore_rest(void **state)
{
    struct or_options o;
    assert_int_equal(parse(&o, "-c", "a.yaml", "--", "--bogus", "positional", NULL), 0);
    assert_string_equal(o.config_path, "a.yaml");
}

static char *capture(void (*fn)(FILE *, const char *), const char *argv0)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    fn(f, argv0);
    fclose(f);
    return buf;
}

static void test_version_output(void **state)
{
    char *out = capture(or_options_print_version, "/usr/bin/envoy");
    regex_t re;
    assert_int_equal(regcomp(&re,
                             "^\n/usr/bin/envoy  version: [0-9a-f]{40}/[0-9]+\\.[0-9]+\\.[0-9]+/"
                             "Clean/(RELEASE|DEBUG)/BoringSSL\n\n$",
                             REG_EXTENDED),
                     0);
    if (regexec(&re, out, 0, NULL, 0) != 0)
        fail_msg("bad --version output: '%s'", out);
    regfree(&re);

    char expect[256];
    snprintf(expect, sizeof(expect), "\n/usr/bin/envoy  version: %s\n\n", or_build_version());
    assert_string_equal(out, expect);
    free(out);

    assert_string_equal(or_hot_restart_version(), "disabled");
}

static void test_help_output(void **state)
{
    char *out = capture(or_options_print_help, "envoy");
    assert_non_null(strstr(out, "-c <string>,  --config-path <string>"));
    assert_non_null(strstr(out, "--concurrency <uint32_t>"));
    assert_non_null(strstr(out, "--disable-hot-restart\n"));
    assert_non_null(strstr(out, "--skip-deprecated-logs\n"));
    assert_non_null(strstr(out, "-h,  --help\n"));
    free(out);
    out = capture(or_options_print_usage, "envoy");
    assert_non_null(strstr(out, "envoy --help"));
    free(out);
}

static void test_command_line(void **state)
{
    struct or_options o;
    char buf[64];
    assert_int_equal(parse(&o, "-c", "x.yaml", "--concurrency", "2", NULL), 0);
    size_t n = or_options_command_line(&o, buf, sizeof(buf));
    assert_string_equal(buf, "envoy -c x.yaml --concurrency 2");
    assert_int_equal(n, strlen("envoy -c x.yaml --concurrency 2"));
    char small[8];
    n = or_options_command_line(&o, small, sizeof(small));
    assert_string_equal(small, "envoy -");
    assert_int_equal(n, strlen("envoy -c x.yaml --concurrency 2"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_app_mesh_agent_command_line),
        cmocka_unit_test(test_string_flags_both_forms),
        cmocka_unit_test(test_short_forms),
        cmocka_unit_test(test_numeric_flags),
        cmocka_unit_test(test_concurrency_rules),
        cmocka_unit_test(test_switches),
        cmocka_unit_test(test_enumerated_values),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_exit_codes),
        cmocka_unit_test(test_ignore_rest),
        cmocka_unit_test(test_version_output),
        cmocka_unit_test(test_help_output),
        cmocka_unit_test(test_command_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
