#include "proxy/server/server.h"
#include "proxy/accesslog/access_log.h"
#include "proxy/admin/admin.h"
#include "proxy/admin/config_dump.h"
#include "proxy/admin/json.h"
#include "envoy/extensions/access_loggers/file/v3/file.pb-c.h"
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include "proxy/config/load.h"
#include "proxy/config/reflect.h"
#include "proxy/config/snapshot.h"
#include "proxy/core/log.h"
#include "proxy/http/hcm_h1.h"
#include "proxy/net/conn.h"
#include "proxy/server/state.h"
#include "proxy/stats/blocks.h"
#include "proxy/stats/stats.h"
#include "proxy/stats/stats_admin.h"
#include "or_version.h"
#include "proxy/server/wctx.h"
#include "proxy/upstream/cluster.h"
#include "proxy/upstream/cluster_manager.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

struct server {
    const struct or_options *opts;                 /* borrowed */
    Envoy__Config__Bootstrap__V3__Bootstrap *boot; /* owned */
    struct or_snapshot *snap;                      /* owned */
    struct event_base *base;                       /* owned: the main thread's loop */
    struct or_admin *admin;                        /* owned */
    struct or_cluster_manager *cm;                 /* owned */
    struct or_worker *workers;                     /* owned array */
    struct or_wctx *wctxs;                         /* owned array, parallel to workers */
    uint32_t n_workers;
    uint32_t started_workers;
    struct or_listen_socket *socks; /* owned: [listener * n_workers + worker] */
    enum or_server_state state;
    bool hc_failed;            /* POST /healthcheck/fail */
    bool shutting_down;        /* exit once in-flight requests are done */
    struct event *drain_timer; /* owned: end of the graceful drain window */
    struct event *exit_poll;   /* owned: waits for in-flight requests */
    uint64_t exit_deadline_ms; /* monotonic: give up waiting then */
    bool *drain_mask;          /* owned, per listener: part of the drain */
    time_t start;
    struct event *sig_term;                   /* owned */
    struct event *sig_int;                    /* owned */
    struct event *sig_usr1;                   /* owned: reopen access logs */
    bool alog_started;                        /* access log manager running */
    struct or_stats_store *stats;             /* owned */
    struct or_server_stats ss;                /* server.* handles */
    struct or_listener_manager_stats lms;     /* listener_manager.* handles */
    struct or_cluster_manager_stats cms;      /* cluster_manager.* handles */
    struct or_control_plane_stats cps;        /* control_plane.* handles */
    struct event *stats_timer;                /* owned: the stats flush */
    struct or_admin_dump_src dump;            /* read by /config_dump, /clusters, /listeners */
    struct or_access_log_config **admin_logs; /* owned: admin.access_log(_path) */
    unsigned n_admin_logs;
    int exit_code;
};

/* ---- admin callbacks ---- */

/* Envoy reports DRAINING while health checks are failed, whatever the lifecycle says. */
static enum or_server_state admin_state(void *ctx)
{
    struct server *s = ctx;
    if (s->hc_failed && s->state == OR_SERVER_LIVE)
        return OR_SERVER_DRAINING;
    return s->state;
}

static uint64_t admin_uptime(void *ctx)
{
    return (uint64_t)(time(NULL) - ((struct server *)ctx)->start);
}

static void admin_node(void *ctx, struct or_admin_node *out)
{
    struct server *s = ctx;
    const Envoy__Config__Core__V3__Node *n = s->boot->node;
    if (n == NULL)
        return;
    out->id = n->id;
    out->cluster = n->cluster;
    if (n->locality != NULL) {
        out->region = n->locality->region;
        out->zone = n->locality->zone;
        out->sub_zone = n->locality->sub_zone;
    }
    if (n->user_agent_name != NULL && n->user_agent_name[0] != '\0')
        out->user_agent_name = n->user_agent_name;
}

/* node.metadata (a google.protobuf.Struct) as /server_info shows it, written by the reflection
 * layer's JSON printer. */
static void admin_node_metadata(void *ctx, struct or_json *w)
{
    struct server *s = ctx;
    char *json = NULL;
    size_t len = 0;
    const Envoy__Config__Core__V3__Node *n = s->boot->node;
    if (n != NULL && n->metadata != NULL &&
        or_config_to_json(&n->metadata->base, true, &json, &len) == 0) {
        while (len > 0 && json[len - 1] == '\n')
            len--; /* the printer ends documents with a newline; this is a value */
        or_json_raw(w, json, len);
    } else {
        or_json_raw(w, "{}", 2);
    }
    free(json);
}

static const struct or_options *admin_options(void *ctx)
{
    return ((struct server *)ctx)->opts;
}

static void begin_shutdown(struct server *s, const char *why);

static void admin_quit(void *ctx)
{
    begin_shutdown(ctx, "quitquitquit");
}

static const struct or_admin_ops admin_ops = {
    .state = admin_state,
    .uptime_s = admin_uptime,
    .node = admin_node,
    .write_node_metadata = admin_node_metadata,
    .options = admin_options,
    .quit = admin_quit,
};

/* ---- worker messages ---- */

struct hostset_msg {
    uint32_t cluster;      /* index in the snapshot */
    struct or_hostset *hs; /* ref, handed to the worker */
};

static void on_hostset_msg(struct or_worker *w, void *arg)
{
    struct hostset_msg *m = arg;
    struct or_wctx *wc = w->ctx;
    or_wcluster_set_hosts(&wc->clusters[m->cluster], m->hs);
    free(m);
}

static void on_accept(struct or_worker *w, void *ctx, int fd, const struct sockaddr *peer,
                      socklen_t peerlen)
{
    struct or_listener_rt *l = ctx;
    struct or_wctx *wc = w->ctx;
    or_hcm_h1_accept(w, wc, l->hcm, (uint32_t)(l - wc->snap->listeners), fd, peer, peerlen);
}

static void on_start_listeners(struct or_worker *w, void *arg)
{
    struct server *s = arg;
    struct or_wctx *wc = w->ctx;
    for (uint32_t i = 0; i < s->snap->n_listeners; i++)
        or_listen_start(&s->socks[i * s->n_workers + w->id], w, on_accept, &s->snap->listeners[i]);
    (void)wc;
}

/* Marks the listeners in the server's drain mask as draining on this worker: busy connections close
 * after their response, idle ones now. */
static void on_drain(struct or_worker *w, void *arg)
{
    struct server *s = arg;
    struct or_wctx *wc = w->ctx;
    for (uint32_t i = 0; i < s->snap->n_listeners; i++)
        if (s->drain_mask[i])
            wc->draining[i] = true;
    or_hcm_h1_drain(wc);
}

/* Stops accepting on the drained listeners: new connections are refused from now on. */
static void on_stop_accepting(struct or_worker *w, void *arg)
{
    struct server *s = arg;
    /* Closing (not just unwatching) the socket makes the kernel refuse new connections. */
    for (uint32_t i = 0; i < s->snap->n_listeners; i++)
        if (s->drain_mask[i] && s->socks[i * s->n_workers + w->id].fd >= 0)
            or_listen_close(&s->socks[i * s->n_workers + w->id]);
}

static void on_shutdown(struct or_worker *w, void *arg)
{
    struct server *s = arg;
    struct or_wctx *wc = w->ctx;
    for (uint32_t i = 0; i < s->snap->n_listeners; i++)
        or_listen_stop(&s->socks[i * s->n_workers + w->id]);
    or_hcm_h1_close_all(wc);
    for (uint32_t i = 0; i < wc->n_clusters; i++)
        or_wcluster_deinit(&wc->clusters[i]);
    /* What is left has no owner: connections lingering after their last response. */
    or_conn_close_all(w);
    event_base_loopexit(w->base, NULL);
}

static void flush_stats(struct server *s);

/* ---- cluster manager callbacks (main thread) ---- */

static void cm_on_hostset(void *ctx, struct or_cluster *c, struct or_hostset *hs)
{
    struct server *s = ctx;
    int ci = or_snapshot_cluster_index(s->snap, c->name, strlen(c->name));
    if (ci >= 0) {
        uint64_t healthy = 0;
        for (size_t h = 0; h < hs->n_hosts; h++)
            healthy += hs->hosts[h]->health != OR_HOST_HEALTH_UNHEALTHY &&
                       hs->hosts[h]->health != OR_HOST_HEALTH_DRAINING &&
                       hs->hosts[h]->health != OR_HOST_HEALTH_TIMEOUT;
        or_gauge_set_main(s->stats, s->snap->cstats[ci].membership_total, hs->n_hosts);
        or_gauge_set_main(s->stats, s->snap->cstats[ci].membership_healthy, healthy);
        for (uint32_t i = 0; i < s->n_workers; i++) {
            struct hostset_msg *m = malloc(sizeof(*m));
            if (m == NULL)
                continue;
            m->cluster = (uint32_t)ci;
            m->hs = or_hostset_ref(hs);
            if (or_worker_post(&s->workers[i], on_hostset_msg, m) != 0) {
                or_hostset_unref(m->hs);
                free(m);
            }
        }
    }
    or_hostset_unref(hs);
}

static void cm_on_initialized(void *ctx)
{
    struct server *s = ctx;
    for (uint32_t i = 0; i < s->n_workers; i++)
        or_worker_post(&s->workers[i], on_start_listeners, s);
    s->state = OR_SERVER_LIVE;
    flush_stats(s); /* server.state and server.live follow the lifecycle at once */
    or_log_info("main", "all clusters initialized; listeners started, server LIVE");
}

static const struct or_cluster_manager_cbs cm_cbs = {
    .on_hostset = cm_on_hostset,
    .on_initialized = cm_on_initialized,
};

/* ---- drain and shutdown (main thread) ---- */

static void post_all(struct server *s, or_worker_msg_cb cb)
{
    for (uint32_t i = 0; i < s->started_workers; i++)
        or_worker_post(&s->workers[i], cb, s);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t in_flight(const struct server *s)
{
    uint64_t n = 0;
    for (uint32_t i = 0; i < s->started_workers; i++)
        n += atomic_load_explicit(&s->wctxs[i].active_streams, memory_order_relaxed);
    return n;
}

static void on_drain_window_over(evutil_socket_t fd, short what, void *arg)
{
    struct server *s = arg;
    or_log_info("main", "drain window over: listeners stop accepting");
    post_all(s, on_stop_accepting);
}

/* Starts draining the listeners selected by inbound_only. Graceful: they keep accepting for
 * --drain-time-s (answering with Connection: close), then refuse; otherwise they refuse now. */
static void start_drain(struct server *s, bool inbound_only, bool graceful)
{
    for (uint32_t i = 0; i < s->snap->n_listeners; i++)
        if (!inbound_only || s->snap->listeners[i].direction == OR_TRAFFIC_INBOUND)
            s->drain_mask[i] = true;
    if (s->state == OR_SERVER_LIVE)
        s->state = OR_SERVER_DRAINING;
    flush_stats(s);
    post_all(s, on_drain);
    if (!graceful) {
        post_all(s, on_stop_accepting);
        return;
    }
    if (s->drain_timer == NULL)
        s->drain_timer = evtimer_new(s->base, on_drain_window_over, s);
    struct timeval tv = {(time_t)s->opts->drain_time_s, 0};
    evtimer_add(s->drain_timer, &tv);
}

static void on_exit_poll(evutil_socket_t fd, short what, void *arg)
{
    struct server *s = arg;
    uint64_t n = in_flight(s);
    if (n == 0 || now_ms() >= s->exit_deadline_ms) {
        if (n != 0)
            or_log_warn("main", "drain time over with %llu request(s) in flight",
                        (unsigned long long)n);
        event_base_loopbreak(s->base);
        return;
    }
    struct timeval tv = {0, 10000};
    evtimer_add(s->exit_poll, &tv);
}

/* SIGTERM, SIGINT, /quitquitquit: stop accepting, let in-flight requests finish (bounded by
 * --drain-time-s), then exit 0. */
static void begin_shutdown(struct server *s, const char *why)
{
    if (s->shutting_down) {
        event_base_loopbreak(s->base); /* asked twice: go now */
        return;
    }
    s->shutting_down = true;
    or_log_info("main", "shutting down (%s): draining %llu in-flight request(s)", why,
                (unsigned long long)in_flight(s));
    for (uint32_t i = 0; i < s->snap->n_listeners; i++)
        s->drain_mask[i] = true;
    s->state = OR_SERVER_DRAINING;
    flush_stats(s);
    post_all(s, on_drain);
    post_all(s, on_stop_accepting);
    s->exit_deadline_ms = now_ms() + (uint64_t)s->opts->drain_time_s * 1000u;
    s->exit_poll = evtimer_new(s->base, on_exit_poll, s);
    struct timeval tv = {0, 10000};
    evtimer_add(s->exit_poll, &tv);
}

static void reopen_logs(void)
{
    or_access_log_reopen_all();
    or_log_reopen();
}

static void on_sigusr1(evutil_socket_t sig, short what, void *arg)
{
    or_log_info("main", "caught SIGUSR1: reopening access logs");
    reopen_logs();
}

static int handle_reopen_logs(struct or_admin_request *req, struct evbuffer *out, void *ctx)
{
    reopen_logs();
    evbuffer_add_printf(out, "OK\n");
    return 200;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    begin_shutdown(arg, sig == SIGTERM ? "SIGTERM" : "SIGINT");
}

/* ---- admin endpoints owned by the server ---- */

static int handle_drain_listeners(struct or_admin_request *req, struct evbuffer *out, void *ctx)
{
    struct server *s = ctx;
    start_drain(s, or_admin_query_has(req, "inboundonly"), or_admin_query_has(req, "graceful"));
    evbuffer_add_printf(out, "OK\n");
    return 200;
}

static int handle_hc_fail(struct or_admin_request *req, struct evbuffer *out, void *ctx)
{
    ((struct server *)ctx)->hc_failed = true;
    flush_stats(ctx);
    evbuffer_add_printf(out, "OK\n");
    return 200;
}

static int handle_hc_ok(struct or_admin_request *req, struct evbuffer *out, void *ctx)
{
    ((struct server *)ctx)->hc_failed = false;
    flush_stats(ctx);
    evbuffer_add_printf(out, "OK\n");
    return 200;
}

static int handle_logging(struct or_admin_request *req, struct evbuffer *out, void *ctx)
{
    char v[512];
    char list[2048];
    int status = 200;
    if (or_admin_query_get(req, "level", v, sizeof(v)) >= 0) {
        int lvl = or_log_level_parse(v);
        if (lvl < 0)
            status = 400;
        else
            or_log_set_level((enum or_log_level)lvl);
    } else if (or_admin_query_get(req, "paths", v, sizeof(v)) >= 0) {
        if (or_log_apply_component_levels(v) != 0)
            status = 400;
    } else if (req->query.len > 0) {
        /* ?<logger>=<level> */
        struct or_str cur = req->query, key, val;
        while (or_admin_query_next(&cur, &key, &val)) {
            char k[64], lv[32];
            if (or_admin_url_decode(key, k, sizeof(k)) < 0 ||
                or_admin_url_decode(val, lv, sizeof(lv)) < 0) {
                status = 400;
                break;
            }
            int lvl = or_log_level_parse(lv);
            if (lvl < 0 || or_log_set_component_level(k, (enum or_log_level)lvl) != 0) {
                status = 400;
                break;
            }
        }
    }
    if (status != 200)
        evbuffer_add_printf(out, "error: invalid logger or level\n");
    or_log_list(list, sizeof(list));
    evbuffer_add(out, list, strlen(list));
    return status;
}

/* Envoy's /memory (envoy.admin.v3.Memory, uint64 as strings) from glibc's allocator. */
static int handle_memory(struct or_admin_request *req, struct evbuffer *out, void *ctx)
{
    struct mallinfo2 mi = mallinfo2();
    long pages = 0, page = sysconf(_SC_PAGESIZE);
    FILE *f = fopen("/proc/self/statm", "r");
    if (f != NULL) {
        long size;
        if (fscanf(f, "%ld %ld", &size, &pages) != 2)
            pages = 0;
        fclose(f);
    }
    req->content_type = OR_ADMIN_CT_JSON;
    evbuffer_add_printf(out,
                        "{\n \"allocated\": \"%zu\",\n \"heap_size\": \"%zu\",\n"
                        " \"pageheap_unmapped\": \"0\",\n \"pageheap_free\": \"%zu\",\n"
                        " \"total_thread_cache\": \"0\",\n \"total_physical_bytes\": \"%ld\"\n}\n",
                        mi.uordblks + mi.hblkhd, mi.arena + mi.hblkhd, mi.fordblks, pages * page);
    return 200;
}

static const struct or_admin_handler server_handlers[] = {
    {"/memory", "print current allocation/heap usage", 0, handle_memory, NULL, NULL},
    {"/drain_listeners",
     "drain listeners (?graceful: keep accepting for --drain-time-s; ?inboundonly)",
     OR_ADMIN_F_MUTATES, handle_drain_listeners, NULL, NULL},
    {"/healthcheck/fail", "cause the server to fail health checks", OR_ADMIN_F_MUTATES,
     handle_hc_fail, NULL, NULL},
    {"/healthcheck/ok", "cause the server to pass health checks", OR_ADMIN_F_MUTATES, handle_hc_ok,
     NULL, NULL},
    {"/reopen_logs", "reopen access logs", OR_ADMIN_F_MUTATES, handle_reopen_logs, NULL, NULL},
    {"/logging", "query/change logging levels (?level=, ?paths=a:lvl,b:lvl, ?<logger>=<level>)",
     OR_ADMIN_F_MUTATES, handle_logging, NULL, NULL},
};

static int register_admin_handlers(struct server *s)
{
    for (size_t i = 0; i < sizeof(server_handlers) / sizeof(server_handlers[0]); i++) {
        struct or_admin_handler h = server_handlers[i];
        h.ctx = s;
        if (or_admin_add_handler(s->admin, &h) != 0)
            return -1;
    }
    return 0;
}

/* ---- start-up ---- */

static void apply_cli_node_overrides(struct server *s)
{
    const struct or_options *o = s->opts;
    if (o->service_node[0] == '\0' && o->service_cluster[0] == '\0' && o->service_zone[0] == '\0')
        return;
    Envoy__Config__Core__V3__Node *n = s->boot->node;
    if (n == NULL) {
        n = malloc(sizeof(*n));
        if (n == NULL)
            return;
        envoy__config__core__v3__node__init(n);
        s->boot->node = n;
    }
    if (o->service_node[0] != '\0') {
        if (n->id != protobuf_c_empty_string)
            free(n->id);
        n->id = strdup(o->service_node);
    }
    if (o->service_cluster[0] != '\0') {
        if (n->cluster != protobuf_c_empty_string)
            free(n->cluster);
        n->cluster = strdup(o->service_cluster);
    }
    if (o->service_zone[0] != '\0') {
        if (n->locality == NULL) {
            n->locality = malloc(sizeof(*n->locality));
            if (n->locality == NULL)
                return;
            envoy__config__core__v3__locality__init(n->locality);
        }
        if (n->locality->zone != protobuf_c_empty_string)
            free(n->locality->zone);
        n->locality->zone = strdup(o->service_zone);
    }
}

static int load_config(struct server *s)
{
    struct or_err_detail err = {{0}, {0}};
    char msg[1024];
    const char *path = s->opts->config_path;
    const char *yaml = s->opts->config_yaml;
    if (or_config_load_bootstrap(path[0] ? path : NULL, yaml[0] ? yaml : NULL, &s->boot, &err) !=
        0) {
        or_err_format(&err, msg, sizeof(msg));
        fprintf(stderr, "error initializing configuration '%s': %s\n", path, msg);
        return -1;
    }
    apply_cli_node_overrides(s);
    if (or_snapshot_build(s->boot, &s->snap, &err) != 0) {
        or_err_format(&err, msg, sizeof(msg));
        fprintf(stderr, "error initializing configuration '%s': %s\n", path, msg);
        return -1;
    }
    return 0;
}

/* Stats flush (Envoy's stats_flush_interval, 5 s): server gauges, circuit-breaker gauges computed
 * from the cluster-wide counters, then the merge that histograms are read from. */
static void flush_stats(struct server *s)
{
    or_stats_server_refresh(s->stats, &s->ss, (int)admin_state(s), admin_uptime(s));
    struct or_stats_shard *sh = or_stats_main_shard(s->stats);
    for (uint32_t i = 0; i < s->snap->n_clusters; i++) {
        const struct or_cluster *c = s->snap->clusters[i];
        const struct or_cluster_thresholds *t = &c->thresholds[OR_CLUSTER_PRIORITY_DEFAULT];
        const struct or_cluster_stats *cs = &s->snap->cstats[i];
        struct or_cluster_load *l = &s->snap->loads[i];
        or_gauge_set_main(s->stats, cs->cb_default_cx_open,
                          (uint64_t)or_load_sum(l, OR_LOAD_CX) >= t->max_connections);
        or_gauge_set_main(s->stats, cs->cb_default_rq_open,
                          (uint64_t)or_load_sum(l, OR_LOAD_RQ) >= t->max_requests);
        or_gauge_set_main(s->stats, cs->cb_default_rq_pending_open,
                          (uint64_t)or_load_sum(l, OR_LOAD_PENDING) >= t->max_pending_requests);
    }
    (void)sh;
    or_stats_merge(s->stats);
}

static void on_stats_timer(evutil_socket_t fd, short what, void *arg)
{
    flush_stats(arg);
}

static int setup_stats(struct server *s)
{
    struct or_err_detail err = {{0}, {0}};
    s->stats = or_stats_store_new(s->n_workers + 1);
    if (s->stats == NULL)
        return -1;
    if (or_stats_configure(s->stats, s->boot->stats_config, &err) != 0) {
        char msg[1024];
        or_err_format(&err, msg, sizeof(msg));
        fprintf(stderr, "error initializing configuration '%s': %s\n", s->opts->config_path, msg);
        return -1;
    }
    if (or_stats_register_server(s->stats, &s->ss) != 0 ||
        or_stats_register_listener_manager(s->stats, &s->lms) != 0 ||
        or_stats_register_cluster_manager(s->stats, &s->cms) != 0 ||
        or_stats_register_control_plane(s->stats, &s->cps) != 0 ||
        or_snapshot_register_stats(s->snap, s->stats) != 0)
        return -1;
    or_gauge_set_main(s->stats, s->ss.concurrency, s->n_workers);
    or_gauge_set_main(s->stats, s->ss.version, or_stats_version_number(OR_GIT_SHA));
    or_gauge_set_main(s->stats, s->cms.active_clusters, s->snap->n_clusters);
    or_gauge_set_main(s->stats, s->lms.total_listeners_active, s->snap->n_listeners);
    or_gauge_set_main(s->stats, s->cps.connected_state, 0); /* no xDS yet */
    s->stats_timer = event_new(s->base, -1, EV_PERSIST, on_stats_timer, s);
    struct timeval tv = {5, 0};
    if (s->stats_timer == NULL || event_add(s->stats_timer, &tv) != 0)
        return -1;
    flush_stats(s);
    return 0;
}

/* ---- admin access log ---- */

static void admin_log(void *ctx, const struct or_admin_request *req, int status, size_t body_bytes)
{
    struct server *s = ctx;
    struct or_arena arena;
    struct or_headers h;
    or_arena_init(&arena, 2048);
    or_headers_init(&h, &arena);
    or_headers_add(&h, ":method", 7, req->method, strlen(req->method));
    const char *uri = evhttp_request_get_uri(req->http);
    if (uri != NULL)
        or_headers_add(&h, ":path", 5, uri, strlen(uri));
    const struct evkeyvalq *in = evhttp_request_get_input_headers(req->http);
    for (const struct evkeyval *kv = in->tqh_first; kv != NULL; kv = kv->next.tqe_next) {
        if (strcasecmp(kv->key, "host") == 0)
            or_headers_add(&h, ":authority", 10, kv->value, strlen(kv->value));
        else
            or_headers_add(&h, kv->key, strlen(kv->key), kv->value, strlen(kv->value));
    }
    struct or_access_log_info info = {
        .req_headers = &h,
        .request_duration_ns = -1,
        .request_tx_duration_ns = -1,
        .response_duration_ns = -1,
        .downstream_tx_end_ns = -1,
        .response_code = (unsigned)status,
        .response_code_details = OR_STR_LIT("admin_filter_response"),
        .bytes_sent = body_bytes,
        .protocol = OR_STR_LIT("HTTP/1.1"),
    };
    clock_gettime(CLOCK_REALTIME, &info.start_time);
    for (unsigned i = 0; i < s->n_admin_logs; i++)
        or_access_log_record(s->admin_logs[i], or_access_log_main_slot(), &info);
    or_arena_deinit(&arena);
}

/* admin.access_log_path (deprecated) is a file logger with Envoy's default format. */
static int admin_log_path_config(const char *path, struct or_access_log_config **out,
                                 struct or_err_detail *err)
{
    Envoy__Extensions__AccessLoggers__File__V3__FileAccessLog fal;
    /* The init function, not the macro: the macro names deprecated fields (clang warns). */
    envoy__extensions__access_loggers__file__v3__file_access_log__init(&fal);
    fal.path = (char *)path;
    size_t len = protobuf_c_message_get_packed_size(&fal.base);
    uint8_t *buf = malloc(len ? len : 1);
    if (buf == NULL)
        return OR_ENOMEM;
    protobuf_c_message_pack(&fal.base, buf);
    Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
    any.type_url = "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog";
    any.value.data = buf;
    any.value.len = len;
    Envoy__Config__Accesslog__V3__AccessLog al = ENVOY__CONFIG__ACCESSLOG__V3__ACCESS_LOG__INIT;
    al.name = "envoy.access_loggers.file";
    al.config_type_case = ENVOY__CONFIG__ACCESSLOG__V3__ACCESS_LOG__CONFIG_TYPE_TYPED_CONFIG;
    al.typed_config = &any;
    int r = or_access_log_config_new(&al, "admin.access_log_path", out, err);
    free(buf);
    return r;
}

static int setup_admin_logs(struct server *s)
{
    const Envoy__Config__Bootstrap__V3__Admin *a = s->boot->admin;
    bool has_path = a->access_log_path != NULL && a->access_log_path[0] != '\0';
    size_t n = a->n_access_log + (has_path ? 1 : 0);
    if (n == 0)
        return 0;
    s->admin_logs = calloc(n, sizeof(*s->admin_logs));
    if (s->admin_logs == NULL)
        return -1;
    struct or_err_detail err = {{0}, {0}};
    int r = 0;
    for (size_t i = 0; i < a->n_access_log && r == 0; i++) {
        char p[64];
        snprintf(p, sizeof(p), "admin.access_log[%zu]", i);
        r = or_access_log_config_new(a->access_log[i], p, &s->admin_logs[s->n_admin_logs], &err);
        if (r == 0)
            s->n_admin_logs++;
    }
    if (r == 0 && has_path) {
        r = admin_log_path_config(a->access_log_path, &s->admin_logs[s->n_admin_logs], &err);
        if (r == 0)
            s->n_admin_logs++;
    }
    if (r != 0) {
        char msg[1024];
        or_err_format(&err, msg, sizeof(msg));
        fprintf(stderr, "error initializing configuration '%s': %s\n", s->opts->config_path, msg);
        return -1;
    }
    or_admin_set_log(s->admin, admin_log, s);
    return 0;
}

static int start_admin(struct server *s)
{
    const Envoy__Config__Bootstrap__V3__Admin *a = s->boot->admin;
    if (a == NULL || a->address == NULL)
        return 0; /* Envoy runs without an admin endpoint when none is configured. */
    struct or_admin_listen l;
    memset(&l, 0, sizeof(l));
    if (a->address->address_case == ENVOY__CONFIG__CORE__V3__ADDRESS__ADDRESS_PIPE) {
        l.pipe_path = a->address->pipe->path;
        l.pipe_mode = a->address->pipe->mode;
    } else if (a->address->address_case ==
               ENVOY__CONFIG__CORE__V3__ADDRESS__ADDRESS_SOCKET_ADDRESS) {
        l.ip = a->address->socket_address->address;
        l.port = (uint16_t)a->address->socket_address->port_value;
        l.ipv4_compat = a->address->socket_address->ipv4_compat;
    }
    struct or_err_detail err = {{0}, {0}};
    if (or_admin_start(&s->admin, s->base, &l, &admin_ops, s, &err) != 0) {
        char msg[1024];
        or_err_format(&err, msg, sizeof(msg));
        fprintf(stderr, "error initializing admin: %s\n", msg);
        return -1;
    }
    if (register_admin_handlers(s) != 0 || or_stats_admin_register(s->admin, s->stats) != 0 ||
        setup_admin_logs(s) != 0)
        return -1;
    if (s->opts->admin_address_path[0] != '\0')
        or_admin_write_address_file(s->admin, s->opts->admin_address_path);
    char addr[128];
    or_admin_address(s->admin, addr, sizeof(addr));
    or_log_info("main", "admin address: %s", addr);
    return 0;
}

static int open_listeners(struct server *s)
{
    uint32_t nl = s->snap->n_listeners;
    s->socks = calloc((size_t)nl * s->n_workers + 1, sizeof(*s->socks));
    if (s->socks == NULL)
        return -1;
    for (uint32_t i = 0; i < nl * s->n_workers; i++)
        s->socks[i].fd = -1;
    for (uint32_t i = 0; i < nl; i++) {
        struct or_listener_rt *l = &s->snap->listeners[i];
        struct or_err_detail err = {{0}, {0}};
        if (or_listen_open((struct sockaddr *)&l->addr, l->addrlen, s->n_workers,
                           &s->socks[i * s->n_workers], l->v6only, &err) != 0) {
            fprintf(stderr, "cannot bind '%s' for listener '%s': %s\n", l->addr_str, l->name,
                    err.msg);
            return -1;
        }
        or_log_info("main", "listener '%s' on %s", l->name, l->addr_str);
    }
    return 0;
}

static int start_workers(struct server *s)
{
    s->workers = calloc(s->n_workers, sizeof(*s->workers));
    s->wctxs = calloc(s->n_workers, sizeof(*s->wctxs));
    if (s->workers == NULL || s->wctxs == NULL)
        return -1;
    for (uint32_t c = 0; c < s->snap->n_clusters; c++)
        if (or_cluster_load_init(&s->snap->loads[c], s->n_workers) != 0)
            return -1;
    for (uint32_t i = 0; i < s->n_workers; i++) {
        struct or_worker *w = &s->workers[i];
        struct or_wctx *wc = &s->wctxs[i];
        if (or_worker_init(w, i) != 0)
            return -1;
        w->ctx = wc;
        wc->w = w;
        wc->snap = s->snap;
        or_list_init(&wc->dconns);
        wc->draining = calloc(s->snap->n_listeners + 1, sizeof(*wc->draining));
        if (wc->draining == NULL)
            return -1;
        wc->n_clusters = s->snap->n_clusters;
        wc->clusters = calloc(wc->n_clusters + 1, sizeof(*wc->clusters));
        if (wc->clusters == NULL)
            return -1;
        for (uint32_t c = 0; c < wc->n_clusters; c++)
            if (or_wcluster_init(&wc->clusters[c], w, s->snap->clusters[c], &s->snap->loads[c]) !=
                0)
                return -1;
        wc->sh = or_stats_store_shard(s->stats, i);
        for (uint32_t c = 0; c < wc->n_clusters; c++) {
            wc->clusters[c].stats = &s->snap->cstats[c];
            wc->clusters[c].sh = wc->sh;
        }
    }
    for (uint32_t i = 0; i < s->n_workers; i++) {
        if (or_worker_start(&s->workers[i]) != 0)
            return -1;
        s->started_workers++;
    }
    return 0;
}

static void stop_workers(struct server *s)
{
    for (uint32_t i = 0; i < s->started_workers; i++) {
        or_worker_post(&s->workers[i], on_shutdown, s);
        pthread_join(s->workers[i].thread, NULL);
    }
    for (uint32_t i = 0; s->workers != NULL && i < s->n_workers; i++) {
        if (s->workers[i].base == NULL)
            continue;
        if (i >= s->started_workers)
            for (uint32_t c = 0; c < s->wctxs[i].n_clusters; c++)
                or_wcluster_deinit(&s->wctxs[i].clusters[c]);
        free(s->wctxs[i].clusters);
        free(s->wctxs[i].draining);
        or_worker_deinit(&s->workers[i]);
    }
    free(s->workers);
    free(s->wctxs);
}

static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int or_server_main(const struct or_options *opts)
{
    struct server srv;
    struct server *s = &srv;
    memset(s, 0, sizeof(*s));
    s->opts = opts;
    s->state = OR_SERVER_PRE_INITIALIZING;
    s->start = time(NULL);
    s->exit_code = 1;
    if (opts->allow_unknown_static_fields)
        or_log_warn("main", "--allow-unknown-static-fields is accepted, but unknown fields are "
                            "still rejected");
    /* Access log files are opened while the config is translated: the writer must exist first. */
    struct or_access_log_manager_opts aopts = {
        .n_workers = opts->concurrency ? opts->concurrency : 1,
        .flush_interval_ms = opts->file_flush_interval_msec,
        .no_thread = opts->mode == OR_MODE_VALIDATE,
    };
    if (or_access_log_manager_start(&aopts) != 0) {
        fprintf(stderr, "cannot start the access log writer\n");
        goto out;
    }
    s->alog_started = true;
    if (load_config(s) != 0)
        goto out;
    if (opts->mode == OR_MODE_VALIDATE) {
        printf("configuration '%s' OK\n", opts->config_path);
        s->exit_code = 0;
        goto out;
    }
    signal(SIGPIPE, SIG_IGN);
    s->drain_mask = calloc(s->snap->n_listeners + 1, sizeof(*s->drain_mask));
    if (s->drain_mask == NULL)
        goto out;
    raise_fd_limit();
    s->n_workers = opts->concurrency ? opts->concurrency : 1;
    s->base = event_base_new();
    if (s->base == NULL)
        goto out;
    if (setup_stats(s) != 0 || start_admin(s) != 0)
        goto out;
    s->state = OR_SERVER_INITIALIZING;
    if (open_listeners(s) != 0)
        goto out;
    if (start_workers(s) != 0)
        goto out;
    or_host_set_counter_blocks(s->n_workers);
    s->cm = or_cluster_manager_new(s->base, NULL, &cm_cbs, s);
    if (s->cm == NULL)
        goto out;
    for (uint32_t i = 0; i < s->snap->n_clusters; i++)
        or_cluster_manager_add(s->cm, s->snap->clusters[i]);
    s->dump = (struct or_admin_dump_src){.bootstrap = s->boot,
                                         .snapshot = s->snap,
                                         .cm = s->cm,
                                         .last_updated_ms = (int64_t)s->start * 1000};
    if (or_admin_dump_register(s->admin, &s->dump) != 0)
        goto out;
    if (opts->mode == OR_MODE_INIT_ONLY) {
        s->exit_code = 0;
        goto out;
    }
    s->sig_term = evsignal_new(s->base, SIGTERM, on_signal, s);
    s->sig_int = evsignal_new(s->base, SIGINT, on_signal, s);
    s->sig_usr1 = evsignal_new(s->base, SIGUSR1, on_sigusr1, s);
    evsignal_add(s->sig_term, NULL);
    evsignal_add(s->sig_int, NULL);
    evsignal_add(s->sig_usr1, NULL);
    or_cluster_manager_start(s->cm);
    or_log_info("main", "starting main dispatch loop with %u worker(s)", s->n_workers);
    event_base_dispatch(s->base);
    s->state = OR_SERVER_DRAINING;
    s->exit_code = 0;
    or_log_info("main", "exiting");
out:
    stop_workers(s);
    if (s->socks != NULL) {
        for (uint32_t i = 0; s->snap != NULL && i < s->snap->n_listeners * s->n_workers; i++)
            if (s->socks[i].fd >= 0)
                or_listen_close(&s->socks[i]);
        free(s->socks);
    }
    or_cluster_manager_free(s->cm);
    or_admin_stop(s->admin);
    if (s->stats_timer != NULL)
        event_free(s->stats_timer);
    if (s->drain_timer != NULL)
        event_free(s->drain_timer);
    if (s->exit_poll != NULL)
        event_free(s->exit_poll);
    free(s->drain_mask);
    if (s->sig_term != NULL)
        event_free(s->sig_term);
    if (s->sig_int != NULL)
        event_free(s->sig_int);
    if (s->sig_usr1 != NULL)
        event_free(s->sig_usr1);
    if (s->base != NULL) {
        /* Let the resolver finish its cancellations before the base goes. */
        event_base_loop(s->base, EVLOOP_NONBLOCK);
        event_base_free(s->base);
    }
    /* Workers are gone: write out what they logged before the configs (and files) go. */
    if (s->alog_started)
        or_access_log_manager_stop();
    for (unsigned i = 0; i < s->n_admin_logs; i++)
        or_access_log_config_free(s->admin_logs[i]);
    free(s->admin_logs);
    or_snapshot_free(s->snap);
    or_stats_store_free(s->stats);
    if (s->boot != NULL)
        or_config_free(&s->boot->base);
    return s->exit_code;
}
