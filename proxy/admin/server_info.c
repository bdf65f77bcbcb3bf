/* Built-in admin endpoints: /, /help, /ready, /server_info, /hot_restart_version, /quitquitquit. */
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "or_version.h"
#include "proxy/admin/admin_internal.h"
#include "proxy/admin/json.h"
#include "proxy/server/options.h"

static int handle_help(struct or_admin_request *req, struct evbuffer *out, void *ctx)
{
    return or_admin_help(req->admin, out) == 0 ? 200 : 500;
}

static int handle_ready(struct or_admin_request *req, struct evbuffer *out, void *ctx)
{
    struct or_admin *a = req->admin;
    enum or_server_state s = a->ops->state(a->ctx);
    evbuffer_add_printf(out, "%s\n", or_server_state_name(s));
    return s == OR_SERVER_LIVE ? 200 : 503;
}

static int handle_hot_restart_version(struct or_admin_request *req, struct evbuffer *out, void *ctx)
{
    struct or_admin *a = req->admin;
    const char *v = a->ops->hot_restart_version ? a->ops->hot_restart_version(a->ctx)
                                                : or_hot_restart_version();
    evbuffer_add_printf(out, "%s", v);
    return 200;
}

static int handle_quit(struct or_admin_request *req, struct evbuffer *out, void *ctx)
{
    evbuffer_add_printf(out, "OK\n");
    or_admin__schedule_quit(req->admin, req->http);
    return 200;
}

static void key_str(struct or_json *w, const char *k, const char *v)
{
    or_json_key(w, k);
    or_json_string(w, v);
}

static void key_bool(struct or_json *w, const char *k, bool v)
{
    or_json_key(w, k);
    or_json_bool(w, v);
}

static void key_uint(struct or_json *w, const char *k, uint64_t v)
{
    or_json_key(w, k);
    or_json_uint(w, v);
}

static void key_seconds(struct or_json *w, const char *k, uint64_t s)
{
    or_json_key(w, k);
    or_json_duration(w, (int64_t)s, 0);
}

/* envoy.admin.v3.CommandLineOptions, fields in field-number order with every scalar printed
 * (Envoy prints with always_print_primitive_fields), exactly as protobuf lays it out. */
static void write_options(struct or_json *w, const struct or_options *o)
{
    or_json_object_begin(w);
    or_json_key(w, "base_id");
    or_json_uint64_str(w, o->base_id);                                          /* 1 */
    key_uint(w, "concurrency", o->concurrency);                                 /* 2 */
    key_str(w, "config_path", o->config_path);                                  /* 3 */
    key_str(w, "config_yaml", o->config_yaml);                                  /* 4 */
    key_bool(w, "allow_unknown_static_fields", o->allow_unknown_static_fields); /* 5 */
    key_str(w, "admin_address_path", o->admin_address_path);                    /* 6 */
    key_str(w, "local_address_ip_version",
            or_options_ip_version_name(o->local_address_ip_version)); /* 7 */
    key_str(w, "log_level", or_log_level_name(o->log_level));         /* 8 */
    key_str(w, "component_log_level", o->component_log_level);        /* 9 */
    key_str(w, "log_format", o->log_format);                          /* 10 */
    key_str(w, "log_path", o->log_path);                              /* 11 */
    key_str(w, "service_cluster", o->service_cluster);                /* 13 */
    key_str(w, "service_node", o->service_node);                      /* 14 */
    key_str(w, "service_zone", o->service_zone);                      /* 15 */
    or_json_key(w, "file_flush_interval");                            /* 16 */
    or_json_duration(w, o->file_flush_interval_msec / 1000,
                     (int32_t)(o->file_flush_interval_msec % 1000) * 1000000);
    key_seconds(w, "drain_time", o->drain_time_s);                                  /* 17 */
    key_seconds(w, "parent_shutdown_time", o->parent_shutdown_time_s);              /* 18 */
    key_str(w, "mode", or_options_mode_name(o->mode));                              /* 19 */
    key_bool(w, "disable_hot_restart", o->disable_hot_restart);                     /* 22 */
    key_bool(w, "enable_mutex_tracing", o->enable_mutex_tracing);                   /* 23 */
    key_uint(w, "restart_epoch", o->restart_epoch);                                 /* 24 */
    key_bool(w, "cpuset_threads", o->cpuset_threads);                               /* 25 */
    key_bool(w, "reject_unknown_dynamic_fields", o->reject_unknown_dynamic_fields); /* 26 */
    key_bool(w, "log_format_escaped", o->log_format_escaped);                       /* 27 */
    or_json_key(w, "disabled_extensions");                                          /* 28 */
    or_json_array_begin(w);
    if (o->disable_extensions[0] != '\0') {
        /* absl::StrSplit(value, ','): empty items are kept. */
        const char *p = o->disable_extensions;
        for (;;) {
            const char *c = strchr(p, ',');
            or_json_string_n(w, p, c != NULL ? (size_t)(c - p) : strlen(p));
            if (c == NULL)
                break;
            p = c + 1;
        }
    }
    or_json_array_end(w);
    key_bool(w, "ignore_unknown_dynamic_fields", o->ignore_unknown_dynamic_fields);  /* 30 */
    key_bool(w, "use_dynamic_base_id", o->use_dynamic_base_id);                      /* 31 */
    key_str(w, "base_id_path", o->base_id_path);                                     /* 32 */
    key_str(w, "drain_strategy", or_options_drain_strategy_name(o->drain_strategy)); /* 33 */
    key_bool(w, "enable_fine_grain_logging", o->enable_fine_grain_logging);          /* 34 */
    key_str(w, "socket_path", o->socket_path);                                       /* 35 */
    key_uint(w, "socket_mode", o->socket_mode);                                      /* 36 */
    key_bool(w, "enable_core_dump", o->enable_core_dump);                            /* 37 */
    or_json_key(w, "stats_tag");                                                     /* 38 */
    or_json_array_begin(w);
    or_json_array_end(w);
    key_bool(w, "skip_hot_restart_on_no_parent", o->skip_hot_restart_on_no_parent); /* 39 */
    key_bool(w, "skip_hot_restart_parent_stats", o->skip_hot_restart_parent_stats); /* 40 */
    or_json_object_end(w);
}

static bool nonempty(const char *s)
{
    return s != NULL && s[0] != '\0';
}

/* envoy.config.core.v3.Node in field-number order: id 1, cluster 2, metadata 3, locality 4,
 * user_agent_name 6, user_agent_build_version 8, extensions 9, client_features 10,
 * listening_addresses 11, dynamic_parameters 12. */
static void write_node(struct or_json *w, struct or_admin *a)
{
    struct or_admin_node n;
    unsigned major = 0, minor = 0, patch = 0;

    memset(&n, 0, sizeof(n));
    if (a->ops->node != NULL)
        a->ops->node(a->ctx, &n);
    if (sscanf(OR_VERSION, "%u.%u.%u", &major, &minor, &patch) != 3)
        major = minor = patch = 0;

    or_json_object_begin(w);
    key_str(w, "id", n.id);
    key_str(w, "cluster", n.cluster);
    if (a->ops->write_node_metadata != NULL) {
        or_json_key(w, "metadata");
        a->ops->write_node_metadata(a->ctx, w);
    }
    if (nonempty(n.region) || nonempty(n.zone) || nonempty(n.sub_zone)) {
        or_json_key(w, "locality");
        or_json_object_begin(w);
        key_str(w, "region", n.region);
        key_str(w, "zone", n.zone);
        key_str(w, "sub_zone", n.sub_zone);
        or_json_object_end(w);
    }
    key_str(w, "user_agent_name", n.user_agent_name != NULL ? n.user_agent_name : "envoy");
    or_json_key(w, "user_agent_build_version");
    or_json_object_begin(w);
    or_json_key(w, "version");
    or_json_object_begin(w);
    key_uint(w, "major_number", major);
    key_uint(w, "minor_number", minor);
    key_uint(w, "patch", patch);
    or_json_object_end(w);
    or_json_key(w, "metadata");
    or_json_object_begin(w);
    key_str(w, "revision.sha", OR_GIT_SHA);
    key_str(w, "revision.status", "Clean");
    key_str(w, "build.type", OR_BUILD_KIND);
    key_str(w, "ssl.version", "BoringSSL");
    or_json_object_end(w);
    or_json_object_end(w);
    or_json_key(w, "extensions");
    or_json_array_begin(w);
    or_json_array_end(w);
    or_json_key(w, "client_features");
    or_json_array_begin(w);
    or_json_array_end(w);
    or_json_key(w, "listening_addresses");
    or_json_array_begin(w);
    or_json_array_end(w);
    or_json_key(w, "dynamic_parameters");
    or_json_object_begin(w);
    or_json_object_end(w);
    or_json_object_end(w);
}

/* envoy.admin.v3.ServerInfo as Envoy prints it (protobuf pretty JSON, 1-space indent, field-number
 * order). The "state" line is the only one naming the state, which is what the ECS/EKS health
 * check `grep state | grep -q LIVE` relies on. */
static int handle_server_info(struct or_admin_request *req, struct evbuffer *out, void *ctx)
{
    struct or_admin *a = req->admin;
    struct or_json w;
    struct or_options defaults;
    const struct or_options *o = a->ops->options ? a->ops->options(a->ctx) : NULL;
    uint64_t up = a->ops->uptime_s ? a->ops->uptime_s(a->ctx) : 0;
    const char *hrv = a->ops->hot_restart_version ? a->ops->hot_restart_version(a->ctx)
                                                  : or_hot_restart_version();

    if (o == NULL) {
        or_options_init(&defaults);
        o = &defaults;
    }
    or_json_init(&w, out, OR_JSON_PROTOBUF_INDENT, OR_JSON_F_ESCAPE_HTML);
    or_json_object_begin(&w);
    key_str(&w, "version", or_build_version());
    key_str(&w, "state", or_server_state_name(a->ops->state(a->ctx)));
    key_seconds(&w, "uptime_current_epoch", up);
    key_seconds(&w, "uptime_all_epochs", up);
    key_str(&w, "hot_restart_version", hrv);
    or_json_key(&w, "command_line_options");
    write_options(&w, o);
    or_json_key(&w, "node");
    write_node(&w, a);
    or_json_object_end(&w);
    if (or_json_finish(&w) != 0) {
        evbuffer_drain(out, evbuffer_get_length(out));
        evbuffer_add_printf(out, "failed to render server_info\n");
        return 500;
    }
    req->content_type = OR_ADMIN_CT_JSON;
    return 200;
}

int or_admin__add_builtin(struct or_admin *a)
{
    static const struct {
        const char *path;
        const char *help;
        unsigned flags;
        or_admin_handler_cb cb;
    } builtin[] = {
        {"/", "Admin home page", 0, handle_help},
        {"/help", "print out list of admin commands", 0, handle_help},
        {"/hot_restart_version", "print the hot restart compatibility version", 0,
         handle_hot_restart_version},
        {"/quitquitquit", "exit the server", OR_ADMIN_F_MUTATES, handle_quit},
        {"/ready", "print server state, return 200 if LIVE, otherwise return 503", 0, handle_ready},
        {"/server_info", "print server version/status information", 0, handle_server_info},
    };
    for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++) {
        struct or_admin_handler h = {
            .path = builtin[i].path,
            .help = builtin[i].help,
            .flags = builtin[i].flags,
            .cb = builtin[i].cb,
            .ctx = a,
        };
        int rc = or_admin_add_handler(a, &h);
        if (rc != 0)
            return rc;
    }
    return 0;
}
