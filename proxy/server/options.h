/* Envoy-compatible command line: the flags AWS App Mesh's agent, ECS/EKS tooling and users pass to
 * /usr/bin/envoy, with Envoy's defaults and Envoy's errors. The parsed values are reported back by
 * /server_info as envoy.admin.v3.CommandLineOptions.
 *
 * Accepted forms: "--flag value", "--flag=value", "-c value", "-l value", "-h", and "--" (ignore
 * the rest, as Envoy's TCLAP does). Envoy itself only takes "--flag value"; "--flag=value" is a
 * harmless superset. Unknown flags, positional arguments, missing values, bad numbers and a flag
 * given twice are errors, as in Envoy. --help and --version act when reached, left to right, so
 * "--version --bogus" prints the version while "--bogus --version" is an error (TCLAP's order). */
#ifndef OR_SERVER_OPTIONS_H
#define OR_SERVER_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "proxy/core/log.h"

/* Envoy's default --log-format. Reported verbatim by /server_info; the logger decides what of it
 * it renders. */
#define OR_DEFAULT_LOG_FORMAT "[%Y-%m-%d %T.%e][%t][%l][%n] [%g:%#] %v"

/* What or_options_parse() returns besides 0 and OR_EINVAL: the process should print with
 * or_options_print_exit() and exit with status 0 without serving. */
enum or_options_exit {
    OR_OPTIONS_EXIT_VERSION = 1,             /* --version: version line on stdout */
    OR_OPTIONS_EXIT_HELP = 2,                /* -h/--help: usage on stdout */
    OR_OPTIONS_EXIT_HOT_RESTART_VERSION = 3, /* --hot-restart-version: "disabled" on stderr */
};

/* --mode; the numbers are envoy.admin.v3.CommandLineOptions.Mode's. */
enum or_mode {
    OR_MODE_SERVE = 0,     /* validate the config, then serve */
    OR_MODE_VALIDATE = 1,  /* validate the config and exit: no sockets, no workers */
    OR_MODE_INIT_ONLY = 2, /* load and initialise everything, then exit without serving */
};

/* --drain-strategy; numbers as CommandLineOptions.DrainStrategy. */
enum or_drain_strategy {
    OR_DRAIN_GRADUAL = 0,   /* discourage connections increasingly over the drain time */
    OR_DRAIN_IMMEDIATE = 1, /* discourage all connections for the whole drain time */
};

/* --local-address-ip-version; numbers as CommandLineOptions.IpVersion. */
enum or_ip_version {
    OR_IP_V4 = 0,
    OR_IP_V6 = 1,
};

/* Every string points into argv (or is a static default) and is never NULL: unset strings are "".
 * argv must outlive the struct, which holds for main()'s argv. */
struct or_options {
    int argc;    /* as given to or_options_parse() */
    char **argv; /* borrowed: the original command line, e.g. for the startup log line */

    const char *config_path;         /* borrowed: -c/--config-path */
    const char *config_yaml;         /* borrowed: --config-yaml, merged over the file */
    enum or_mode mode;               /* --mode serve|validate|init_only */
    enum or_log_level log_level;     /* -l/--log-level, default info ("warn" = warning) */
    const char *component_log_level; /* borrowed: --component-log-level "a:debug,b:trace" (syntax
                                        and levels checked; component names are not) */
    const char *log_path;            /* borrowed: --log-path, "" = stderr */
    const char *log_format;          /* borrowed: --log-format, default OR_DEFAULT_LOG_FORMAT */
    bool log_format_escaped;         /* --log-format-escaped */
    bool enable_fine_grain_logging;  /* --enable-fine-grain-logging (accepted, recorded) */

    uint32_t concurrency; /* --concurrency; default online cores; 0 means 1, as Envoy */
    bool concurrency_set; /* --concurrency was given */
    bool cpuset_threads;  /* --cpuset-threads: default concurrency from the CPU affinity mask */

    const char *service_cluster; /* borrowed: --service-cluster, overrides node.cluster if set */
    const char *service_node;    /* borrowed: --service-node, overrides node.id if set */
    const char *service_zone;    /* borrowed: --service-zone, overrides node.locality.zone */

    uint32_t drain_time_s;                 /* --drain-time-s, default 600 */
    enum or_drain_strategy drain_strategy; /* --drain-strategy gradual|immediate */
    uint32_t parent_shutdown_time_s;       /* --parent-shutdown-time-s, default 900 (hot restart
                                              only: recorded) */
    uint32_t file_flush_interval_msec;     /* --file-flush-interval-msec, default 10000 */

    /* Hot restart: not supported. The flags are accepted so launch scripts work unchanged. */
    uint64_t base_id;         /* --base-id (recorded) */
    bool use_dynamic_base_id; /* --use-dynamic-base-id (recorded) */
    const char *base_id_path; /* borrowed: --base-id-path (recorded, never written) */
    uint32_t restart_epoch;   /* --restart-epoch: only 0 is accepted */
    bool disable_hot_restart; /* --disable-hot-restart */
    const char *socket_path;  /* borrowed: --socket-path, default "@envoy_domain_socket" */
    uint32_t socket_mode;     /* --socket-mode (octal, default 600; 0 for '@' paths) */
    bool skip_hot_restart_on_no_parent; /* --skip-hot-restart-on-no-parent (recorded) */
    bool skip_hot_restart_parent_stats; /* --skip-hot-restart-parent-stats (recorded) */

    /* Unknown fields. We always reject unknown fields in static config, even with
     * --allow-unknown-static-fields: the flag is accepted (and reported) so Envoy command lines
     * keep working, and the server should log a warning that it does not relax validation. A
     * config with no unknown fields behaves identically; one with them fails loudly with the
     * field's path instead of being half-applied. */
    bool allow_unknown_static_fields;   /* --allow-unknown-static-fields (or the deprecated
                                           --allow-unknown-fields) */
    bool reject_unknown_dynamic_fields; /* --reject-unknown-dynamic-fields */
    bool ignore_unknown_dynamic_fields; /* --ignore-unknown-dynamic-fields */

    const char *admin_address_path;              /* borrowed: --admin-address-path */
    enum or_ip_version local_address_ip_version; /* --local-address-ip-version v4|v6 */
    const char *disable_extensions;              /* borrowed: --disable-extensions "a/b,c/d" */
    bool skip_deprecated_logs;                   /* --skip-deprecated-logs */
    bool enable_mutex_tracing;                   /* --enable-mutex-tracing (recorded) */
    bool enable_core_dump;                       /* --enable-core-dump: main sets RLIMIT_CORE */
    uint32_t bootstrap_version;                  /* --bootstrap-version: only 3 (0 = not given) */
};

/* Fills `o` with Envoy's defaults (concurrency = online CPUs, at least 1). */
void or_options_init(struct or_options *o);

/* Parses argv[1..argc-1] into `o` (or_options_init() first, internally). Returns
 *   0                     run with these options;
 *   OR_EINVAL             bad command line: `err` holds a one-line message (no trailing newline);
 *                         print it and or_options_print_usage() to stderr and exit 1;
 *   enum or_options_exit  (> 0) --version, --help or --hot-restart-version: call
 *                         or_options_print_exit() and exit 0.
 * `err` may be NULL. Prints nothing itself. */
int or_options_parse(int argc, char **argv, struct or_options *o, char *err, size_t errlen);

/* Envoy's --version output on `out`: "\n<argv0>  version: <or_build_version()>\n\n". */
void or_options_print_version(FILE *out, const char *argv0);
/* Brief usage (the line Envoy prints after a parse error) plus "--help" pointer. */
void or_options_print_usage(FILE *out, const char *argv0);
/* Full --help listing of every accepted flag. */
void or_options_print_help(FILE *out, const char *argv0);
/* Prints what a positive or_options_parse() result asks for, on the stream Envoy uses (stdout for
 * version/help, stderr for the hot restart version). */
void or_options_print_exit(int code, const char *argv0);

/* "<40-hex sha>/<x.y.z>/Clean/<RELEASE|DEBUG>/BoringSSL", Envoy's version layout. Static. */
const char *or_build_version(void);
/* Hot restart compatibility version: always "disabled" (hot restart is not implemented, which is
 * what Envoy reports under --disable-hot-restart). Static. */
const char *or_hot_restart_version(void);

/* Envoy's proto enum names for /server_info: "Serve"/"Validate"/"InitOnly",
 * "Gradual"/"Immediate", "v4"/"v6". Static strings. */
const char *or_options_mode_name(enum or_mode m);
const char *or_options_drain_strategy_name(enum or_drain_strategy d);
const char *or_options_ip_version_name(enum or_ip_version v);

/* Joins argv with single spaces into buf (always NUL-terminated when len > 0). Returns the length
 * the whole line needs, like snprintf. */
size_t or_options_command_line(const struct or_options *o, char *buf, size_t len);

#endif
