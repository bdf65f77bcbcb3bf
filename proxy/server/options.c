#include "proxy/server/options.h"

#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "or_version.h"
#include "proxy/core/err.h"

/* One row per accepted flag. Values are applied in apply_flag(); cross-flag rules (concurrency vs
 * cpuset, socket mode vs path) run after the whole line is read, as Envoy does after TCLAP. */
enum flag_id {
    F_CONFIG_PATH,
    F_CONFIG_YAML,
    F_MODE,
    F_LOG_LEVEL,
    F_COMPONENT_LOG_LEVEL,
    F_LOG_PATH,
    F_LOG_FORMAT,
    F_LOG_FORMAT_ESCAPED,
    F_FINE_GRAIN_LOGGING,
    F_CONCURRENCY,
    F_CPUSET_THREADS,
    F_SERVICE_CLUSTER,
    F_SERVICE_NODE,
    F_SERVICE_ZONE,
    F_DRAIN_TIME_S,
    F_DRAIN_STRATEGY,
    F_PARENT_SHUTDOWN_TIME_S,
    F_FILE_FLUSH_INTERVAL_MSEC,
    F_BASE_ID,
    F_USE_DYNAMIC_BASE_ID,
    F_BASE_ID_PATH,
    F_RESTART_EPOCH,
    F_HOT_RESTART_VERSION,
    F_DISABLE_HOT_RESTART,
    F_SOCKET_PATH,
    F_SOCKET_MODE,
    F_SKIP_HOT_RESTART_ON_NO_PARENT,
    F_SKIP_HOT_RESTART_PARENT_STATS,
    F_ALLOW_UNKNOWN_STATIC_FIELDS,
    F_ALLOW_UNKNOWN_FIELDS,
    F_REJECT_UNKNOWN_DYNAMIC_FIELDS,
    F_IGNORE_UNKNOWN_DYNAMIC_FIELDS,
    F_ADMIN_ADDRESS_PATH,
    F_LOCAL_ADDRESS_IP_VERSION,
    F_DISABLE_EXTENSIONS,
    F_SKIP_DEPRECATED_LOGS,
    F_ENABLE_MUTEX_TRACING,
    F_ENABLE_CORE_DUMP,
    F_BOOTSTRAP_VERSION,
    F_VERSION,
    F_HELP,
    F__COUNT,
};

enum flag_kind {
    K_SWITCH, /* no value */
    K_STRING, /* any string, "" allowed */
    K_U32,    /* decimal 0..UINT32_MAX */
};

struct flag_def {
    enum flag_id id;
    const char *name;       /* long name without the leading "--" */
    char short_name;        /* 0 when the flag has no short form */
    enum flag_kind kind;    /* whether and how a value follows */
    const char *value_name; /* for --help: "<string>", "<uint32_t>" */
    const char *help;       /* one line for --help */
};

static const struct flag_def flags[] = {
    {F_CONFIG_PATH, "config-path", 'c', K_STRING, "string", "Path to configuration file"},
    {F_CONFIG_YAML, "config-yaml", 0, K_STRING, "string",
     "Inline YAML configuration, merges with the contents of --config-path"},
    {F_MODE, "mode", 0, K_STRING, "string",
     "One of 'serve' (default; validate configs and then serve traffic normally), 'validate' "
     "(validate configs and exit) or 'init_only' (initialise and exit)"},
    {F_LOG_LEVEL, "log-level", 'l', K_STRING, "string",
     "Log levels: [trace][debug][info][warning|warn][error][critical][off]; default is [info]"},
    {F_COMPONENT_LOG_LEVEL, "component-log-level", 0, K_STRING, "string",
     "Comma separated list of component log levels. For example upstream:debug,config:trace"},
    {F_LOG_PATH, "log-path", 0, K_STRING, "string", "Path to logfile"},
    {F_LOG_FORMAT, "log-format", 0, K_STRING, "string",
     "Log message format in spdlog syntax; default is \"" OR_DEFAULT_LOG_FORMAT "\""},
    {F_LOG_FORMAT_ESCAPED, "log-format-escaped", 0, K_SWITCH, NULL,
     "Escape c-style escape sequences in the application logs"},
    {F_FINE_GRAIN_LOGGING, "enable-fine-grain-logging", 0, K_SWITCH, NULL,
     "Logger mode: enable file level log control (accepted, not implemented)"},
    {F_CONCURRENCY, "concurrency", 0, K_U32, "uint32_t",
     "# of worker threads to run (default: online CPUs; 0 means 1)"},
    {F_CPUSET_THREADS, "cpuset-threads", 0, K_SWITCH, NULL,
     "Get the default # of worker threads from cpuset size"},
    {F_SERVICE_CLUSTER, "service-cluster", 0, K_STRING, "string", "Cluster name"},
    {F_SERVICE_NODE, "service-node", 0, K_STRING, "string", "Node name"},
    {F_SERVICE_ZONE, "service-zone", 0, K_STRING, "string", "Zone name"},
    {F_DRAIN_TIME_S, "drain-time-s", 0, K_U32, "uint32_t",
     "Hot restart and LDS removal drain time in seconds (default 600)"},
    {F_DRAIN_STRATEGY, "drain-strategy", 0, K_STRING, "string",
     "Drain sequence behaviour, one of 'gradual' (default) or 'immediate'"},
    {F_PARENT_SHUTDOWN_TIME_S, "parent-shutdown-time-s", 0, K_U32, "uint32_t",
     "Hot restart parent shutdown time in seconds (default 900; recorded only)"},
    {F_FILE_FLUSH_INTERVAL_MSEC, "file-flush-interval-msec", 0, K_U32, "uint32_t",
     "Interval for log flushing in msec (default 10000)"},
    {F_BASE_ID, "base-id", 0, K_U32, "uint32_t",
     "base ID so that multiple envoys can run on the same host if needed (recorded only)"},
    {F_USE_DYNAMIC_BASE_ID, "use-dynamic-base-id", 0, K_SWITCH, NULL,
     "the server chooses a base ID dynamically (recorded only)"},
    {F_BASE_ID_PATH, "base-id-path", 0, K_STRING, "string",
     "path to which the base ID is written (recorded only)"},
    {F_RESTART_EPOCH, "restart-epoch", 0, K_U32, "uint32_t",
     "hot restart epoch #; hot restart is not supported, so only 0 is accepted"},
    {F_HOT_RESTART_VERSION, "hot-restart-version", 0, K_SWITCH, NULL,
     "hot restart compatibility version"},
    {F_DISABLE_HOT_RESTART, "disable-hot-restart", 0, K_SWITCH, NULL,
     "Disable hot restart functionality (it is never enabled)"},
    {F_SOCKET_PATH, "socket-path", 0, K_STRING, "string",
     "Path to hot restart socket file (recorded only)"},
    {F_SOCKET_MODE, "socket-mode", 0, K_STRING, "string",
     "Socket file permission, octal (recorded only)"},
    {F_SKIP_HOT_RESTART_ON_NO_PARENT, "skip-hot-restart-on-no-parent", 0, K_SWITCH, NULL,
     "Skip hot restart if there is no parent (recorded only)"},
    {F_SKIP_HOT_RESTART_PARENT_STATS, "skip-hot-restart-parent-stats", 0, K_SWITCH, NULL,
     "Skip hot restart parent stats (recorded only)"},
    {F_ALLOW_UNKNOWN_STATIC_FIELDS, "allow-unknown-static-fields", 0, K_SWITCH, NULL,
     "accepted for compatibility; unknown static fields are still rejected"},
    {F_ALLOW_UNKNOWN_FIELDS, "allow-unknown-fields", 0, K_SWITCH, NULL,
     "deprecated alias of --allow-unknown-static-fields"},
    {F_REJECT_UNKNOWN_DYNAMIC_FIELDS, "reject-unknown-dynamic-fields", 0, K_SWITCH, NULL,
     "reject unknown fields in dynamic configuration"},
    {F_IGNORE_UNKNOWN_DYNAMIC_FIELDS, "ignore-unknown-dynamic-fields", 0, K_SWITCH, NULL,
     "ignore unknown fields in dynamic configuration"},
    {F_ADMIN_ADDRESS_PATH, "admin-address-path", 0, K_STRING, "string", "Admin address path"},
    {F_LOCAL_ADDRESS_IP_VERSION, "local-address-ip-version", 0, K_STRING, "string",
     "The local IP address version (v4 or v6)"},
    {F_DISABLE_EXTENSIONS, "disable-extensions", 0, K_STRING, "string",
     "Comma-separated list of extensions to disable"},
    {F_SKIP_DEPRECATED_LOGS, "skip-deprecated-logs", 0, K_SWITCH, NULL,
     "Skip the logging of deprecated field warnings during Protobuf message validation"},
    {F_ENABLE_MUTEX_TRACING, "enable-mutex-tracing", 0, K_SWITCH, NULL,
     "Enable mutex contention tracing functionality (recorded only)"},
    {F_ENABLE_CORE_DUMP, "enable-core-dump", 0, K_SWITCH, NULL, "Enable core dumps"},
    {F_BOOTSTRAP_VERSION, "bootstrap-version", 0, K_U32, "uint32_t",
     "API version of the bootstrap; only 3 is supported"},
    {F_VERSION, "version", 0, K_SWITCH, NULL, "Displays version information and exits."},
    {F_HELP, "help", 'h', K_SWITCH, NULL, "Displays usage information and exits."},
};

/* Envoy flags we deliberately refuse, each with the reason, rather than accept as a silent no-op
 * that would change what the operator expects. */
static const struct {
    const char *name;
    const char *why;
} refused[] = {
    {"stats-tag", "universal stats tags (--stats-tag) are not supported"},
};

#define NFLAGS (sizeof(flags) / sizeof(flags[0]))

const char *or_build_version(void)
{
    return OR_GIT_SHA "/" OR_VERSION "/Clean/" OR_BUILD_KIND "/BoringSSL";
}

const char *or_hot_restart_version(void)
{
    return "disabled";
}

const char *or_options_mode_name(enum or_mode m)
{
    switch (m) {
    case OR_MODE_SERVE:
        return "Serve";
    case OR_MODE_VALIDATE:
        return "Validate";
    case OR_MODE_INIT_ONLY:
        return "InitOnly";
    }
    return "Serve";
}

const char *or_options_drain_strategy_name(enum or_drain_strategy d)
{
    return d == OR_DRAIN_IMMEDIATE ? "Immediate" : "Gradual";
}

const char *or_options_ip_version_name(enum or_ip_version v)
{
    return v == OR_IP_V6 ? "v6" : "v4";
}

static uint32_t online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (uint32_t)n : 1;
}

/* Envoy's OptionsImplPlatform::getCpuCount(): the size of the affinity mask, so a process pinned
 * with taskset or a cpuset cgroup gets one worker per CPU it may run on. */
static uint32_t affinity_cpus(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0)
        return online_cpus();
    int n = CPU_COUNT(&set);
    return n > 0 ? (uint32_t)n : 1;
}

void or_options_init(struct or_options *o)
{
    memset(o, 0, sizeof(*o));
    o->config_path = "";
    o->config_yaml = "";
    o->mode = OR_MODE_SERVE;
    o->log_level = OR_LOG_INFO;
    o->component_log_level = "";
    o->log_path = "";
    o->log_format = OR_DEFAULT_LOG_FORMAT;
    o->concurrency = online_cpus();
    o->service_cluster = "";
    o->service_node = "";
    o->service_zone = "";
    o->drain_time_s = 600;
    o->drain_strategy = OR_DRAIN_GRADUAL;
    o->parent_shutdown_time_s = 900;
    o->file_flush_interval_msec = 10000;
    o->base_id_path = "";
    o->socket_path = "@envoy_domain_socket";
    o->socket_mode = 0;
    o->admin_address_path = "";
    o->local_address_ip_version = OR_IP_V4;
    o->disable_extensions = "";
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return OR_EINVAL;
}

/* Strict decimal: digits only, no sign, no spaces, fits in 32 bits. */
static bool parse_u32(const char *s, uint32_t *out)
{
    if (*s == '\0')
        return false;
    uint64_t v = 0;
    for (const char *p = s; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > UINT32_MAX)
            return false;
    }
    *out = (uint32_t)v;
    return true;
}

static bool parse_octal_mode(const char *s, uint32_t *out)
{
    if (*s == '\0')
        return false;
    uint32_t v = 0;
    for (const char *p = s; *p != '\0'; p++) {
        if (*p < '0' || *p > '7')
            return false;
        v = v * 8 + (uint32_t)(*p - '0');
        if (v > 07777)
            return false;
    }
    *out = v;
    return true;
}

/* Envoy's parseComponentLogLevels(): "name:level[,name:level...]", each item exactly one colon and
 * a known level. Component names are left to the logger, which owns the registry. */
static int check_component_log_levels(const char *s, char *err, size_t errlen)
{
    if (*s == '\0')
        return 0;
    const char *item = s;
    for (;;) {
        const char *end = strchr(item, ',');
        size_t len = end != NULL ? (size_t)(end - item) : strlen(item);
        const char *colon = memchr(item, ':', len);
        if (colon == NULL || memchr(colon + 1, ':', len - (size_t)(colon - item) - 1) != NULL)
            return fail(err, errlen, "error: component log level not correctly specified '%.*s'",
                        (int)len, item);
        char level[32];
        size_t llen = len - (size_t)(colon - item) - 1;
        if (llen >= sizeof(level))
            return fail(err, errlen, "error: invalid log level specified '%.*s'", (int)llen,
                        colon + 1);
        memcpy(level, colon + 1, llen);
        level[llen] = '\0';
        if (or_log_level_parse(level) < 0)
            return fail(err, errlen, "error: invalid log level specified '%s'", level);
        if (end == NULL)
            return 0;
        item = end + 1;
    }
}

static const struct flag_def *find_long(const char *name, size_t len)
{
    for (size_t i = 0; i < NFLAGS; i++)
        if (strlen(flags[i].name) == len && memcmp(flags[i].name, name, len) == 0)
            return &flags[i];
    return NULL;
}

static const struct flag_def *find_short(char c)
{
    for (size_t i = 0; i < NFLAGS; i++)
        if (flags[i].short_name == c)
            return &flags[i];
    return NULL;
}

/* Applies one flag's value. Returns 0, OR_EINVAL, or a positive enum or_options_exit. */
static int apply_flag(struct or_options *o, const struct flag_def *f, const char *v, char *err,
                      size_t errlen)
{
    uint32_t n = 0;
    if (f->kind == K_U32 && !parse_u32(v, &n))
        return fail(err, errlen, "error: couldn't read argument value from string '%s' for --%s", v,
                    f->name);

    switch (f->id) {
    case F_CONFIG_PATH:
        o->config_path = v;
        break;
    case F_CONFIG_YAML:
        o->config_yaml = v;
        break;
    case F_MODE:
        if (strcmp(v, "serve") == 0)
            o->mode = OR_MODE_SERVE;
        else if (strcmp(v, "validate") == 0)
            o->mode = OR_MODE_VALIDATE;
        else if (strcmp(v, "init_only") == 0)
            o->mode = OR_MODE_INIT_ONLY;
        else
            return fail(err, errlen, "error: unknown mode '%s'", v);
        break;
    case F_LOG_LEVEL: {
        int l = or_log_level_parse(v);
        if (l < 0)
            return fail(err, errlen, "error: invalid log level specified '%s'", v);
        o->log_level = (enum or_log_level)l;
        break;
    }
    case F_COMPONENT_LOG_LEVEL:
        if (check_component_log_levels(v, err, errlen) != 0)
            return OR_EINVAL;
        o->component_log_level = v;
        break;
    case F_LOG_PATH:
        o->log_path = v;
        break;
    case F_LOG_FORMAT:
        o->log_format = v;
        break;
    case F_LOG_FORMAT_ESCAPED:
        o->log_format_escaped = true;
        break;
    case F_FINE_GRAIN_LOGGING:
        o->enable_fine_grain_logging = true;
        break;
    case F_CONCURRENCY:
        o->concurrency = n;
        o->concurrency_set = true;
        break;
    case F_CPUSET_THREADS:
        o->cpuset_threads = true;
        break;
    case F_SERVICE_CLUSTER:
        o->service_cluster = v;
        break;
    case F_SERVICE_NODE:
        o->service_node = v;
        break;
    case F_SERVICE_ZONE:
        o->service_zone = v;
        break;
    case F_DRAIN_TIME_S:
        o->drain_time_s = n;
        break;
    case F_DRAIN_STRATEGY:
        if (strcmp(v, "gradual") == 0)
            o->drain_strategy = OR_DRAIN_GRADUAL;
        else if (strcmp(v, "immediate") == 0)
            o->drain_strategy = OR_DRAIN_IMMEDIATE;
        else
            return fail(err, errlen, "error: unknown drain-strategy '%s'", v);
        break;
    case F_PARENT_SHUTDOWN_TIME_S:
        o->parent_shutdown_time_s = n;
        break;
    case F_FILE_FLUSH_INTERVAL_MSEC:
        o->file_flush_interval_msec = n;
        break;
    case F_BASE_ID:
        o->base_id = n;
        break;
    case F_USE_DYNAMIC_BASE_ID:
        o->use_dynamic_base_id = true;
        break;
    case F_BASE_ID_PATH:
        o->base_id_path = v;
        break;
    case F_RESTART_EPOCH:
        if (n != 0)
            return fail(err, errlen,
                        "error: --restart-epoch %u: hot restart is not supported, only epoch 0 is "
                        "accepted",
                        n);
        o->restart_epoch = n;
        break;
    case F_HOT_RESTART_VERSION:
        /* Acted on after the whole line parsed cleanly, as Envoy does. */
        break;
    case F_DISABLE_HOT_RESTART:
        o->disable_hot_restart = true;
        break;
    case F_SOCKET_PATH:
        if (*v == '\0')
            return fail(err, errlen, "error: --socket-path must not be empty");
        o->socket_path = v;
        break;
    case F_SOCKET_MODE:
        /* Checked after parsing: Envoy ignores the mode for abstract ('@') socket paths. */
        break;
    case F_SKIP_HOT_RESTART_ON_NO_PARENT:
        o->skip_hot_restart_on_no_parent = true;
        break;
    case F_SKIP_HOT_RESTART_PARENT_STATS:
        o->skip_hot_restart_parent_stats = true;
        break;
    case F_ALLOW_UNKNOWN_STATIC_FIELDS:
    case F_ALLOW_UNKNOWN_FIELDS:
        o->allow_unknown_static_fields = true;
        break;
    case F_REJECT_UNKNOWN_DYNAMIC_FIELDS:
        o->reject_unknown_dynamic_fields = true;
        break;
    case F_IGNORE_UNKNOWN_DYNAMIC_FIELDS:
        o->ignore_unknown_dynamic_fields = true;
        break;
    case F_ADMIN_ADDRESS_PATH:
        o->admin_address_path = v;
        break;
    case F_LOCAL_ADDRESS_IP_VERSION:
        if (strcmp(v, "v4") == 0)
            o->local_address_ip_version = OR_IP_V4;
        else if (strcmp(v, "v6") == 0)
            o->local_address_ip_version = OR_IP_V6;
        else
            return fail(err, errlen, "error: unknown IP address version '%s'", v);
        break;
    case F_DISABLE_EXTENSIONS:
        o->disable_extensions = v;
        break;
    case F_SKIP_DEPRECATED_LOGS:
        o->skip_deprecated_logs = true;
        break;
    case F_ENABLE_MUTEX_TRACING:
        o->enable_mutex_tracing = true;
        break;
    case F_ENABLE_CORE_DUMP:
        o->enable_core_dump = true;
        break;
    case F_BOOTSTRAP_VERSION:
        if (n != 3)
            return fail(err, errlen, "error: --bootstrap-version %u: only version 3 is supported",
                        n);
        o->bootstrap_version = n;
        break;
    case F_VERSION:
        return OR_OPTIONS_EXIT_VERSION;
    case F_HELP:
        return OR_OPTIONS_EXIT_HELP;
    case F__COUNT:
        break;
    }
    return 0;
}

int or_options_parse(int argc, char **argv, struct or_options *o, char *err, size_t errlen)
{
    bool seen[F__COUNT] = {false};
    const char *socket_mode = "600";

    or_options_init(o);
    o->argc = argc;
    o->argv = argv;
    if (err != NULL && errlen > 0)
        err[0] = '\0';

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const struct flag_def *f = NULL;
        const char *value = NULL; /* from "--flag=value" */

        if (strcmp(arg, "--") == 0)
            break; /* TCLAP's ignore_rest */
        if (arg[0] == '-' && arg[1] == '-' && arg[2] != '\0') {
            const char *name = arg + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
            f = find_long(name, len);
            if (f == NULL) {
                for (size_t r = 0; r < sizeof(refused) / sizeof(refused[0]); r++)
                    if (strlen(refused[r].name) == len && memcmp(refused[r].name, name, len) == 0)
                        return fail(err, errlen, "error: %s", refused[r].why);
                return fail(err, errlen, "error: unknown argument '%s'", arg);
            }
            if (eq != NULL)
                value = eq + 1;
        } else if (arg[0] == '-' && arg[1] != '\0' && arg[1] != '-' && arg[2] == '\0') {
            f = find_short(arg[1]);
            if (f == NULL)
                return fail(err, errlen, "error: unknown argument '%s'", arg);
        } else {
            return fail(err, errlen, "error: unknown argument '%s'", arg);
        }

        if (seen[f->id])
            return fail(err, errlen, "error: argument '--%s' given more than once", f->name);
        seen[f->id] = true;

        if (f->kind == K_SWITCH) {
            if (value != NULL)
                return fail(err, errlen, "error: argument '--%s' takes no value", f->name);
        } else if (value == NULL) {
            if (i + 1 >= argc)
                return fail(err, errlen, "error: missing a value for argument '%s'", arg);
            value = argv[++i];
        }

        if (f->id == F_SOCKET_MODE) {
            socket_mode = value;
            continue;
        }
        int rc = apply_flag(o, f, value != NULL ? value : "", err, errlen);
        if (rc != 0)
            return rc;
    }

    /* Envoy: --cpuset-threads only picks the default; an explicit --concurrency wins. */
    if (!o->concurrency_set && o->cpuset_threads)
        o->concurrency = affinity_cpus();
    if (o->concurrency == 0)
        o->concurrency = 1;

    if (o->socket_path[0] == '@') {
        o->socket_mode = 0;
    } else if (!parse_octal_mode(socket_mode, &o->socket_mode)) {
        return fail(err, errlen, "error: invalid socket-mode '%s'", socket_mode);
    }

    if (seen[F_HOT_RESTART_VERSION])
        return OR_OPTIONS_EXIT_HOT_RESTART_VERSION;
    return 0;
}

void or_options_print_version(FILE *out, const char *argv0)
{
    /* TCLAP's StdOutput::version(): blank line, "<prog>  version: <v>", blank line. */
    fprintf(out, "\n%s  version: %s\n\n", argv0, or_build_version());
}

void or_options_print_usage(FILE *out, const char *argv0)
{
    fprintf(out,
            "\nBrief USAGE: \n   %s  [-c <string>] [--config-yaml <string>] [-l <string>] "
            "[--concurrency <uint32_t>] [--mode <string>] [...]\n\n"
            "For complete USAGE and HELP type: \n   %s --help\n\n",
            argv0, argv0);
}

void or_options_print_help(FILE *out, const char *argv0)
{
    fprintf(out, "\nUSAGE: \n\n   %s  [options]\n\nWhere: \n\n", argv0);
    for (size_t i = 0; i < NFLAGS; i++) {
        const struct flag_def *f = &flags[i];
        if (f->short_name != 0 && f->value_name != NULL)
            fprintf(out, "   -%c <%s>,  --%s <%s>\n", f->short_name, f->value_name, f->name,
                    f->value_name);
        else if (f->short_name != 0)
            fprintf(out, "   -%c,  --%s\n", f->short_name, f->name);
        else if (f->value_name != NULL)
            fprintf(out, "   --%s <%s>\n", f->name, f->value_name);
        else
            fprintf(out, "   --%s\n", f->name);
        fprintf(out, "     %s\n\n", f->help);
    }
    fprintf(out, "   --,  --ignore_rest\n     Ignores the rest of the labeled arguments following "
                 "this flag.\n\n");
}

void or_options_print_exit(int code, const char *argv0)
{
    switch (code) {
    case OR_OPTIONS_EXIT_VERSION:
        or_options_print_version(stdout, argv0);
        break;
    case OR_OPTIONS_EXIT_HELP:
        or_options_print_help(stdout, argv0);
        break;
    case OR_OPTIONS_EXIT_HOT_RESTART_VERSION:
        /* Envoy writes the bare version to stderr, without a newline. */
        fputs(or_hot_restart_version(), stderr);
        break;
    default:
        break;
    }
    fflush(stdout);
    fflush(stderr);
}

size_t or_options_command_line(const struct or_options *o, char *buf, size_t len)
{
    size_t need = 0;
    if (len > 0)
        buf[0] = '\0';
    for (int i = 0; i < o->argc && o->argv != NULL; i++) {
        const char *piece[2] = {" ", o->argv[i]};
        for (int k = i > 0 ? 0 : 1; k < 2; k++) {
            size_t plen = strlen(piece[k]);
            if (need + 1 < len) {
                size_t room = len - 1 - need;
                size_t n = plen < room ? plen : room;
                memcpy(buf + need, piece[k], n);
                buf[need + n] = '\0';
            }
            need += plen;
        }
    }
    return need;
}
