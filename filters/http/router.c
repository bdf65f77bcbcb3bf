/* envoy.filters.http.router: the terminal decode filter. Matches the route, picks the cluster and a
 * host, takes an HTTP/1 connection from the worker's pool and streams the request to it and the
 * response back through the encode path, with Envoy's local replies, details and response flags. */
#include "envoy/extensions/filters/http/router/v3/router.pb-c.h"
#include "filters/http/router.h"
#include "proxy/config/snapshot.h"
#include "proxy/core/log.h"
#include "proxy/http/codec_h1.h"
#include "proxy/http/hcm_config.h"
#include "proxy/http/stream.h"
#include "proxy/router/route_table.h"
#include "proxy/stats/blocks.h"
#include "proxy/server/wctx.h"
#include "proxy/upstream/cluster.h"
#include "proxy/upstream/pool.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESET_PREFIX "upstream connect error or disconnect/reset before headers. reset reason: "

struct router_cfg {
    bool suppress_envoy_headers; /* Router.suppress_envoy_headers */
};

enum {
    R_REQ_END = 1 << 0,      /* the downstream request is complete */
    R_HEAD_SENT = 1 << 1,    /* request head written upstream */
    R_CHUNKED = 1 << 2,      /* request body chunked upstream */
    R_RESP_HEADERS = 1 << 3, /* response headers passed downstream */
    R_RESP_END = 1 << 4,     /* response complete */
    R_DONE = 1 << 5,         /* upstream state released */
    R_COUNTED = 1 << 6,      /* counted in rq_active */
    R_PAUSED_DOWN = 1 << 7,  /* we read-disabled the downstream */
    R_TIMER = 1 << 8,        /* the route timeout is armed */
    R_REQ_BODY_END = 1 << 9, /* the request's last byte is in the upstream buffer */
    R_PENDING = 1 << 10,     /* counted in upstream_rq_pending_active */
    R_CHARGED = 1 << 11,     /* the response code was charged to the cluster stats */
    R_SPLICE = 1 << 12,      /* the response body moves by splice(2): pipe, down are set */
};

/* Response bodies with at least this much left after the first read move socket to socket with
 * splice(2) instead of through user space (issue 4). The last SPLICE_TAIL bytes take the normal
 * path so the parser sees the end of the message itself: keep-alive, pool, logs, stats as ever.
 * Below 256 KiB splicing saves nothing on loopback: the response leaves in three pieces instead of
 * two and makes more system calls, which costs what the avoided copy saves (64 KiB: the same CPU
 * per request either way); from there on the copies dominate (1 GiB: CPU per transfer halved). */
#define SPLICE_MIN (256 * 1024)
#define SPLICE_TAIL 16
#define SPLICE_STEP (256 * 1024)
/* Pipe fills per wake-up, so one fast body cannot starve the worker's other connections. */
#define SPLICE_ROUNDS 16

enum { END_NONE = 0, END_HEADERS, END_DATA, END_TRAILERS, END_SENT };

struct router {
    struct or_http_filter base;
    const struct router_cfg *cfg;       /* borrowed */
    const struct or_route_entry *route; /* borrowed from the snapshot's route table */
    struct or_wcluster *wc;             /* borrowed: worker cluster view */
    struct or_host *host;               /* borrowed via uc (or the host set) */
    struct or_uconn *uc;                /* the upstream connection while we use it */
    struct or_pool_waiter waiter;       /* queued for a connection */
    struct or_h1_parser parser;         /* response parser */
    bool parser_init;
    struct evbuffer *pending; /* owned: request bytes waiting for the connection */
    struct event timer;       /* route timeout */
    unsigned flags;
    int end_kind;    /* END_*: how the finished response ends downstream */
    bool keep_alive; /* the response allows reusing the connection */
    bool internal;   /* x-envoy-internal: true (Envoy's internal/external stat scopes) */
    struct or_headers *trailers; /* response trailers (stream arena) */
    uint64_t upstream_start_us;
    /* While R_SPLICE: */
    int pipe[2];          /* owned (worker's pipe pool): [0] read end, [1] write end */
    struct or_conn *down; /* borrowed: the downstream connection taking the body */
    uint64_t splice_left; /* body bytes still to move from the upstream socket into the pipe */
    size_t in_pipe;       /* bytes in the pipe, not yet written downstream */
};

static void up_on_read(struct or_conn *c, void *ctx);
static void up_on_drained(struct or_conn *c, void *ctx);
static void up_on_event(struct or_conn *c, void *ctx, enum or_conn_event ev);
static void up_on_raw_read(struct or_conn *c, void *ctx);
static const struct or_conn_handler up_handler = {.on_read = up_on_read,
                                                  .on_drained = up_on_drained,
                                                  .on_event = up_on_event,
                                                  .on_raw_read = up_on_raw_read};
static void splice_stop(struct router *r);

static int resp_on_headers(void *ctx, struct or_h1_msg *msg);
static int resp_on_body(void *ctx, struct evbuffer *chunk);
static int resp_on_trailers(void *ctx, struct or_headers *t);
static int resp_on_complete(void *ctx);
static const struct or_h1_callbacks resp_cbs = {
    .on_headers = resp_on_headers,
    .on_body = resp_on_body,
    .on_trailers = resp_on_trailers,
    .on_message_complete = resp_on_complete,
};

/* ---- config ---- */

static int router_config_new(const ProtobufCMessage *m, void **cfg, struct or_err_detail *err,
                             const char *path)
{
    struct router_cfg *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return OR_ENOMEM;
    if (m != NULL) {
        const Envoy__Extensions__Filters__Http__Router__V3__Router *r = (const void *)m;
        c->suppress_envoy_headers = r->suppress_envoy_headers;
    }
    *cfg = c;
    return 0;
}

static void router_config_free(void *cfg)
{
    free(cfg);
}

/* ---- helpers ---- */

static struct or_stream *S(struct router *r)
{
    return r->base.stream;
}

/* This worker's /clusters counters of the chosen host. */
static struct or_host_counters *hostc(struct router *r)
{
    return r->host != NULL ? or_host_counters_of(r->host, S(r)->worker->id) : NULL;
}

static struct or_stats_shard *SH(struct router *r)
{
    return S(r)->wctx->sh;
}

/* Envoy's CodeStats: each upstream request's response code, once (also the 503/504 Envoy
 * charges for resets and timeouts). */
static void charge_response(struct router *r, unsigned code)
{
    if ((r->flags & R_CHARGED) || r->wc == NULL || r->wc->stats == NULL)
        return;
    r->flags |= R_CHARGED;
    or_cluster_stats_response(SH(r), r->wc->stats, code, r->internal);
}

static void pending_done(struct router *r)
{
    if (r->flags & R_PENDING) {
        r->flags &= ~R_PENDING;
        or_gauge_dec(SH(r), r->wc->stats->upstream_rq_pending_active);
    }
}

static struct or_whost *whost(struct router *r)
{
    return r->host != NULL ? or_wcluster_whost(r->wc, r->host) : NULL;
}

/* Lets go of everything upstream; the connection goes back to the pool when it can carry another
 * request. Idempotent. */
static void release(struct router *r, bool reusable)
{
    if (r->flags & R_DONE)
        return;
    r->flags |= R_DONE;
    splice_stop(r);
    if (r->flags & R_TIMER) {
        event_del(&r->timer);
        r->flags &= ~R_TIMER;
    }
    if (r->waiter.pprev != NULL)
        or_pool_cancel_wait(r->wc, &r->waiter);
    pending_done(r);
    struct or_whost *wh = whost(r);
    if ((r->flags & R_COUNTED) && r->wc != NULL) {
        or_load_add(r->wc->load, S(r)->worker->id, OR_LOAD_RQ, -1);
        or_gauge_dec(SH(r), r->wc->stats->upstream_rq_active);
        if (wh != NULL && wh->active_rq > 0)
            wh->active_rq--;
        struct or_host_counters *hc = hostc(r);
        if (hc != NULL)
            or_host_count(&hc->rq_active, -1);
        r->flags &= ~R_COUNTED;
    }
    if (r->uc != NULL) {
        struct or_uconn *uc = r->uc;
        r->uc = NULL;
        if (!(r->flags & R_REQ_BODY_END) || !(r->flags & R_RESP_END))
            reusable = false;
        or_pool_release(uc, reusable);
    }
    if (r->pending != NULL) {
        evbuffer_free(r->pending);
        r->pending = NULL;
    }
    if (r->flags & R_PAUSED_DOWN) {
        r->flags &= ~R_PAUSED_DOWN;
        if (!(S(r)->flags & OR_STREAM_F_RESET))
            or_stream_read_disable(S(r), false);
    }
}

/* Circuit-breaker overflow: Envoy's 503 with x-envoy-overloaded unless envoy headers are
 * suppressed. */
static void overflow_reply(struct router *r)
{
    or_counter_inc(S(r)->wctx->sh, r->wc->stats->upstream_rq_pending_overflow);
    static const struct or_header overloaded = {{"x-envoy-overloaded", 18}, {"true", 4}};
    or_stream_send_local_reply_ex(S(r), &r->base, 503, RESET_PREFIX "overflow",
                                  "upstream_reset_before_response_started{overflow}", OR_RF_UO,
                                  &overloaded, r->cfg->suppress_envoy_headers ? 0 : 1);
}

/* A failure before any response byte went downstream: Envoy's 503/504 local reply. */
static void fail_before_headers(struct router *r, unsigned status, const char *body,
                                const char *details, uint32_t flag)
{
    if (r->flags & R_COUNTED) {
        if (flag == OR_RF_UT)
            or_counter_inc(SH(r), r->wc->stats->upstream_rq_timeout);
        if (!(r->flags & R_RESP_HEADERS))
            charge_response(r, status);
    }
    struct or_host_counters *hc = (r->flags & R_COUNTED) ? hostc(r) : NULL;
    if (hc != NULL) {
        or_host_count(flag == OR_RF_UT ? &hc->rq_timeout : &hc->rq_error, 1);
        if (flag == OR_RF_UF)
            or_host_count(&hc->cx_connect_fail, 1);
    }
    release(r, false);
    if (r->flags & R_RESP_HEADERS)
        or_stream_reset(S(r), details, flag);
    else
        or_stream_send_local_reply(S(r), &r->base, status, body, details, flag);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct router *r = arg;
    r->flags &= ~R_TIMER;
    fail_before_headers(r, 504, "upstream request timeout", "upstream_response_timeout", OR_RF_UT);
}

static void arm_route_timeout(struct router *r)
{
    if (r->route == NULL || r->route->timeout_ms == 0 || (r->flags & (R_TIMER | R_DONE)))
        return;
    struct timeval tv = {(time_t)(r->route->timeout_ms / 1000),
                         (suseconds_t)((r->route->timeout_ms % 1000) * 1000)};
    evtimer_assign(&r->timer, S(r)->worker->base, on_timeout, r);
    evtimer_add(&r->timer, &tv);
    r->flags |= R_TIMER;
}

/* Request bytes go straight to the connection once its head is out, else wait in `pending`. */
/* Sends what the upstream connection holds at the end of this loop turn: one writev for the head
 * and the body that came with it, and a request found malformed later in the same bytes is dropped
 * whole (its connection closes first) so nothing of it reaches the upstream. */
static void push(struct router *r)
{
    struct or_stream *s = S(r);
    if (r->uc == NULL || !(r->flags & R_HEAD_SENT))
        return;
    or_conn_flush_soon(r->uc->conn);
    if (r->uc != NULL && or_conn_above_high_watermark(r->uc->conn) && !(r->flags & R_PAUSED_DOWN)) {
        r->flags |= R_PAUSED_DOWN;
        r->uc->conn->flags |= OR_CONN_F_ABOVE_HIGH;
        or_stream_read_disable(s, true);
    }
}

static void send_body(struct router *r, struct evbuffer *b, bool end)
{
    struct evbuffer *out = NULL;
    if (r->uc != NULL && (r->flags & R_HEAD_SENT) && (out = or_conn_out(r->uc->conn)) == NULL) {
        release(r, false);
        or_stream_reset(S(r), "oom", OR_RF_LR);
        return;
    }
    if (out == NULL) {
        if (r->pending == NULL)
            r->pending = evbuffer_new();
        out = r->pending;
    }
    if (r->flags & R_CHUNKED) {
        if (evbuffer_get_length(b) > 0)
            or_h1_encode_chunk(out, b);
        if (end)
            or_h1_encode_last_chunk(out, S(r)->req_trailers);
    } else {
        evbuffer_add_buffer(out, b);
    }
    if (end)
        r->flags |= R_REQ_BODY_END;
    if (out != r->pending) {
        push(r);
        return;
    }
    /* Not connected yet: hold at most one buffer's worth before pushing back. */
    uint32_t limit = r->wc->cluster->per_connection_buffer_limit_bytes;
    if (evbuffer_get_length(out) > limit && !(r->flags & R_PAUSED_DOWN)) {
        r->flags |= R_PAUSED_DOWN;
        or_stream_read_disable(S(r), true);
    }
}

/* The connection is ready: write the request head and whatever body already arrived. */
static void start_request(struct router *r)
{
    struct or_stream *s = S(r);
    struct or_conn *c = r->uc->conn;
    r->upstream_start_us = or_time_us();
    bool end = (s->flags & OR_STREAM_F_DECODE_END) && r->pending == NULL;
    if (!r->parser_init) {
        if (or_h1_parser_init(&r->parser, OR_H1_RESPONSE, &resp_cbs, r, 0, 0) != 0) {
            release(r, false);
            or_stream_reset(s, "oom", OR_RF_LR);
            return;
        }
        r->parser_init = true;
    }
    or_h1_parser_set_arena(&r->parser, &s->arena);
    if (s->flags & OR_STREAM_F_HEAD)
        or_h1_parser_expect_no_body(&r->parser);
    struct evbuffer *out = or_conn_out(c);
    if (out == NULL) {
        release(r, false);
        or_stream_reset(s, "oom", OR_RF_LR);
        return;
    }
    int body = or_h1_encode_request_head(out, &s->req, end ? OR_H1_ENC_END_STREAM : 0);
    if (body < 0) {
        fail_before_headers(r, 502, RESET_PREFIX "protocol error",
                            "upstream_reset_before_response_started{protocol_error}", OR_RF_UC);
        return;
    }
    r->flags |= R_HEAD_SENT;
    if (body == OR_H1_BODY_CHUNKED)
        r->flags |= R_CHUNKED;
    if (end)
        r->flags |= R_REQ_BODY_END;
    if (r->pending != NULL) {
        /* Bytes held before we knew the framing are raw body: frame them now. */
        struct evbuffer *p = r->pending;
        r->pending = NULL;
        bool last = (s->flags & OR_STREAM_F_DECODE_END) != 0;
        r->flags &= ~R_REQ_BODY_END;
        send_body(r, p, last);
        evbuffer_free(p);
        if (r->flags & R_PAUSED_DOWN && !or_conn_above_high_watermark(c)) {
            r->flags &= ~R_PAUSED_DOWN;
            or_stream_read_disable(s, false);
        }
    }
    push(r);
}

static void got_conn(struct router *r, struct or_uconn *uc, bool connected)
{
    r->uc = uc;
    r->host = uc->host;
    if (connected)
        start_request(r);
}

static void waiter_ready(struct or_pool_waiter *wt, struct or_uconn *uc)
{
    struct router *r = (struct router *)((char *)wt - offsetof(struct router, waiter));
    pending_done(r);
    if (uc == NULL) {
        fail_before_headers(r, 503, RESET_PREFIX "connection failure",
                            "upstream_reset_before_response_started{connection_failure}", OR_RF_UF);
        return;
    }
    or_pool_adopt(uc, &up_handler, r);
    got_conn(r, uc, uc->connected);
}

/* ---- decode path ---- */

static const char *pick_cluster(struct router *r, size_t *len)
{
    const struct or_route_entry *re = r->route;
    struct or_stream *s = S(r);
    switch (re->kind) {
    case OR_ROUTE_CLUSTER:
        *len = re->cluster.len;
        return re->cluster.ptr;
    case OR_ROUTE_WEIGHTED_CLUSTERS: {
        const char *n = or_route_pick_weighted(re, or_worker_rand(s->worker));
        *len = n != NULL ? strlen(n) : 0;
        return n;
    }
    case OR_ROUTE_CLUSTER_HEADER: {
        char name[128];
        if (re->cluster.len >= sizeof(name))
            return NULL;
        memcpy(name, re->cluster.ptr, re->cluster.len);
        name[re->cluster.len] = '\0';
        const struct or_str *v = or_headers_get(&s->req, name);
        if (v == NULL)
            return NULL;
        *len = v->len;
        return v->ptr;
    }
    default:
        return NULL;
    }
}

static void add_timeout_header(struct router *r)
{
    struct or_stream *s = S(r);
    if (r->cfg->suppress_envoy_headers || r->route->timeout_ms == 0)
        return;
    char v[OR_U64_DEC_MAX];
    size_t n = or_u64_dec(v, r->route->timeout_ms);
    or_headers_set(&s->req, "x-envoy-expected-rq-timeout-ms", v, n);
}

static int rewrite_request(struct router *r)
{
    struct or_stream *s = S(r);
    const struct or_route_entry *re = r->route;
    if (re->prefix_rewrite.len > 0) {
        const struct or_str *path = or_headers_get(&s->req, ":path");
        struct or_str np;
        if (path != NULL) {
            int rc = or_route_rewrite_path(re, *path, &s->arena, &np);
            if (rc < 0)
                return rc;
            if (rc == 1) {
                /* Envoy keeps the original path for the upstream to see. */
                or_headers_add(&s->req, "x-envoy-original-path", 21, path->ptr, path->len);
                or_headers_set(&s->req, ":path", np.ptr, np.len);
            }
        }
    }
    if (re->host_rewrite.len > 0)
        or_headers_set(&s->req, ":authority", re->host_rewrite.ptr, re->host_rewrite.len);
    add_timeout_header(r);
    return 0;
}

static enum or_filter_status route_direct(struct router *r)
{
    struct or_stream *s = S(r);
    const struct or_route_entry *re = r->route;
    if (re->kind == OR_ROUTE_DIRECT_RESPONSE) {
        char *body = NULL;
        if (re->direct.body.len > 0) {
            body = or_arena_strndup(&s->arena, re->direct.body.ptr, re->direct.body.len);
            if (body == NULL) {
                or_stream_reset(s, "oom", OR_RF_LR);
                return OR_FILTER_STOP_ITERATION;
            }
        }
        or_stream_send_local_reply(s, &r->base, re->direct.status, body, "direct_response", 0);
        return OR_FILTER_STOP_ITERATION;
    }
    struct or_str loc;
    unsigned status = 301;
    if (or_route_redirect_location(re, &s->req, &s->arena, &loc, &status) != 0) {
        or_stream_send_local_reply(s, &r->base, 500, NULL, "redirect_failed", 0);
        return OR_FILTER_STOP_ITERATION;
    }
    /* A redirect is a bodiless local reply with a Location header. */
    s->flags |= OR_STREAM_F_LOCAL_REPLY;
    s->details = "direct_response";
    or_headers_init(&s->resp, &s->arena);
    char num[8];
    int n = snprintf(num, sizeof(num), "%u", status);
    or_headers_add(&s->resp, ":status", 7, num, (size_t)n);
    or_headers_add_ref(&s->resp, OR_STR_LIT("location"), loc);
    or_stream_encode_headers(s, &r->base, true);
    return OR_FILTER_STOP_ITERATION;
}

static enum or_filter_status router_decode_headers(struct or_http_filter *f, struct or_headers *h,
                                                   bool end_stream)
{
    struct router *r = (struct router *)f;
    struct or_stream *s = f->stream;
    r->cfg = f->cfg;
    const struct or_str *xi = or_headers_get(h, "x-envoy-internal");
    r->internal = xi != NULL && or_str_eq_lit(*xi, "true");
    r->route = or_route_table_match(s->hcm->routes, h, NULL);
    if (r->route != NULL && r->route->name.len > 0)
        s->route_name = r->route->name.ptr;
    if (r->route == NULL) {
        or_counter_inc(s->wctx->sh, s->hcm->stats.no_route);
        or_stream_send_local_reply(s, f, 404, NULL, "route_not_found", OR_RF_NR);
        return OR_FILTER_STOP_ITERATION;
    }
    if (r->route->kind == OR_ROUTE_DIRECT_RESPONSE || r->route->kind == OR_ROUTE_REDIRECT)
        return route_direct(r);
    size_t nlen = 0;
    const char *cname = pick_cluster(r, &nlen);
    int ci = cname != NULL ? or_snapshot_cluster_index(s->wctx->snap, cname, nlen) : -1;
    if (ci < 0) {
        or_counter_inc(s->wctx->sh, s->hcm->stats.no_cluster);
        or_stream_send_local_reply(s, f, 503, NULL, "cluster_not_found", 0);
        return OR_FILTER_STOP_ITERATION;
    }
    r->wc = &s->wctx->clusters[ci];
    int hi = or_wcluster_choose(r->wc);
    if (hi < 0) {
        or_counter_inc(s->wctx->sh, r->wc->stats->upstream_cx_none_healthy);
        or_stream_send_local_reply(s, f, 503, "no healthy upstream", "no_healthy_upstream",
                                   OR_RF_UH);
        return OR_FILTER_STOP_ITERATION;
    }
    const struct or_cluster *c = r->wc->cluster;
    long active = or_load_sum(r->wc->load, OR_LOAD_RQ);
    if ((uint64_t)active >= c->thresholds[OR_CLUSTER_PRIORITY_DEFAULT].max_requests) {
        overflow_reply(r);
        return OR_FILTER_STOP_ITERATION;
    }
    if (rewrite_request(r) != 0) {
        or_stream_reset(s, "oom", OR_RF_LR);
        return OR_FILTER_STOP_ITERATION;
    }
    or_load_add(r->wc->load, s->worker->id, OR_LOAD_RQ, 1);
    r->flags |= R_COUNTED;
    or_counter_inc(s->wctx->sh, r->wc->stats->upstream_rq_total);
    or_gauge_inc(s->wctx->sh, r->wc->stats->upstream_rq_active);
    r->host = r->wc->hs->hosts[hi];
    s->upstream_cluster = r->wc->cluster->name;
    struct sockaddr_storage *ua = or_arena_alloc(&s->arena, sizeof(*ua));
    if (ua != NULL) {
        memcpy(ua, &r->host->addr, r->host->addrlen);
        s->upstream_addr = (struct sockaddr *)ua;
    }
    r->wc->hosts[hi].active_rq++;
    struct or_host_counters *hc = hostc(r);
    if (hc != NULL) {
        or_host_count(&hc->rq_total, 1);
        or_host_count(&hc->rq_active, 1);
    }
    if (end_stream)
        r->flags |= R_REQ_END;
    struct or_uconn *uc = NULL;
    r->waiter.ready = waiter_ready;
    switch (or_pool_acquire(r->wc, hi, &up_handler, r, &r->waiter, &uc)) {
    case OR_POOL_READY:
        got_conn(r, uc, true);
        break;
    case OR_POOL_CONNECTING:
        got_conn(r, uc, false);
        break;
    case OR_POOL_QUEUED:
        r->flags |= R_PENDING;
        or_counter_inc(s->wctx->sh, r->wc->stats->upstream_rq_pending_total);
        or_gauge_inc(s->wctx->sh, r->wc->stats->upstream_rq_pending_active);
        break;
    case OR_POOL_OVERFLOW:
        release(r, false);
        overflow_reply(r);
        return OR_FILTER_STOP_ITERATION;
    case OR_POOL_FAILED:
        fail_before_headers(r, 503, RESET_PREFIX "connection failure",
                            "upstream_reset_before_response_started{connection_failure}", OR_RF_UF);
        return OR_FILTER_STOP_ITERATION;
    }
    if (end_stream && !(r->flags & R_DONE))
        arm_route_timeout(r);
    return OR_FILTER_STOP_ITERATION;
}

static enum or_filter_status router_decode_data(struct or_http_filter *f, struct evbuffer *b,
                                                bool end_stream)
{
    struct router *r = (struct router *)f;
    if (r->flags & R_DONE) {
        evbuffer_drain(b, evbuffer_get_length(b));
        return OR_FILTER_STOP_NO_BUFFER;
    }
    if (end_stream)
        r->flags |= R_REQ_END;
    send_body(r, b, end_stream);
    if (end_stream && !(r->flags & R_DONE))
        arm_route_timeout(r);
    return OR_FILTER_STOP_NO_BUFFER;
}

static enum or_filter_status router_decode_trailers(struct or_http_filter *f, struct or_headers *t)
{
    struct router *r = (struct router *)f;
    if (r->flags & R_DONE)
        return OR_FILTER_STOP_ITERATION;
    r->flags |= R_REQ_END;
    send_body(r, S(r)->worker->empty, true);
    arm_route_timeout(r);
    return OR_FILTER_STOP_ITERATION;
}

/* ---- upstream connection events ---- */

static void finish_response(struct router *r);
static void maybe_splice(struct router *r);

static void dispatch_response(struct router *r)
{
    /* A connection holding no input buffer has nothing to parse: the always-empty one stands in.
     */
    struct evbuffer *in = r->uc->conn->in != NULL ? r->uc->conn->in : S(r)->worker->empty;
    int rc = or_h1_parser_dispatch(&r->parser, in);
    if (rc < 0 && !(r->flags & R_DONE) && !(S(r)->flags & OR_STREAM_F_RESET)) {
        fail_before_headers(r, 502, RESET_PREFIX "protocol error",
                            "upstream_reset_before_response_started{protocol_error}", OR_RF_UC);
        return;
    }
    if ((r->flags & R_RESP_END) && r->end_kind != END_SENT && !(r->flags & R_DONE))
        finish_response(r);
    else
        maybe_splice(r);
}

/* ---- zero-copy response bodies: upstream socket -> pipe -> downstream socket ---- */

/* Leaves the splice path: the pipe goes back (closed if it still holds bytes), the downstream's
 * write wait is cancelled and the upstream reads into its buffer again. Idempotent. */
static void splice_stop(struct router *r)
{
    if (!(r->flags & R_SPLICE))
        return;
    r->flags &= ~R_SPLICE;
    if (r->down != NULL && !(r->down->flags & OR_CONN_F_CLOSED))
        or_conn_wait_writable_cancel(r->down);
    r->down = NULL;
    or_pipe_put(&S(r)->wctx->pipes, r->pipe, r->in_pipe == 0);
    r->in_pipe = 0;
    if (r->uc != NULL) {
        or_conn_set_raw(r->uc->conn, false);
        or_conn_read_disable(r->uc->conn, false);
    }
}

static void on_down_writable(evutil_socket_t fd, short what, void *arg);

/* splice(2) cannot write to the downstream socket: what the pipe holds goes out the normal way,
 * in order (the downstream's output is empty while splicing). 0 or OR_EINVAL. */
static int pipe_to_out(struct router *r)
{
    struct evbuffer *out = or_conn_out(r->down);
    if (out == NULL)
        return OR_EINVAL;
    while (r->in_pipe > 0) {
        int n = evbuffer_read(out, r->pipe[0], (int)r->in_pipe);
        if (n <= 0)
            return OR_EINVAL;
        r->in_pipe -= (size_t)n;
        S(r)->bytes_sent += (uint64_t)n;
    }
    or_conn_flush_soon(r->down);
    return 0;
}

/* Moves body bytes until the upstream has none ready, the downstream socket is full, the spliced
 * part of the body is through, or the round budget is spent (the upstream's readiness brings us
 * back then). Every byte is counted where the read and write paths count theirs. */
static void pump(struct router *r)
{
    struct or_stream *s = S(r);
    struct or_conn *up = r->uc->conn;
    struct or_conn *down = r->down;
    for (int round = 0;;) {
        if (r->in_pipe > 0) {
            ssize_t n = or_splice(r->pipe[0], down->fd, r->in_pipe);
            if (n > 0) {
                r->in_pipe -= (size_t)n;
                down->tx_bytes += (uint64_t)n;
                s->bytes_sent += (uint64_t)n;
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && errno == EAGAIN) {
                /* Nothing more from the upstream until the pipe is empty again. */
                or_conn_read_disable(up, true);
                if (or_conn_wait_writable(down, on_down_writable, r) == 0)
                    return;
            } else if (n < 0 && errno == EINVAL && pipe_to_out(r) == 0) {
                s->wctx->pipes.disabled = true;
                splice_stop(r);
                return;
            }
            /* EPIPE / ECONNRESET: the client is gone; the downstream error path takes it. */
            splice_stop(r);
            or_conn_fail(down);
            return;
        }
        if (r->splice_left == 0) {
            /* The tail arrives through the normal read and ends the message there. */
            splice_stop(r);
            return;
        }
        if (round++ == SPLICE_ROUNDS) {
            or_conn_read_disable(up, false);
            return;
        }
        size_t want = r->splice_left < SPLICE_STEP ? (size_t)r->splice_left : SPLICE_STEP;
        ssize_t n = or_splice(up->fd, r->pipe[1], want);
        if (n > 0) {
            or_h1_parser_body_consumed_externally(&r->parser, (uint64_t)n);
            r->splice_left -= (uint64_t)n;
            r->in_pipe = (size_t)n;
            up->rx_bytes += (uint64_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            or_conn_read_disable(up, false);
            return;
        }
        if (n < 0 && errno == EINVAL) {
            /* No splice(2) for these sockets: the normal path, now and for good on this worker.
             * Nothing was taken out of the socket by this call. */
            s->wctx->pipes.disabled = true;
            splice_stop(r);
            return;
        }
        /* EOF in the middle of the body, or a socket error: the normal EOF / reset handling
         * (a truncated response downstream). */
        splice_stop(r);
        or_conn_raw_end(up, n < 0);
        return;
    }
}

static void on_down_writable(evutil_socket_t fd, short what, void *arg)
{
    struct router *r = arg;
    if (!(r->flags & R_SPLICE))
        return;
    or_conn_wait_writable_cancel(r->down);
    pump(r);
}

static void up_on_raw_read(struct or_conn *c, void *ctx)
{
    struct router *r = ctx;
    if (!(r->flags & R_SPLICE) || r->uc == NULL) {
        or_conn_set_raw(c, false);
        return;
    }
    pump(r);
}

/* After the parser ran: moves the rest of a large Content-Length body with splice(2) when every
 * byte before it has gone out and nothing between here and the client's socket changes bytes. */
static void maybe_splice(struct router *r)
{
    struct or_stream *s = S(r);
    struct or_wctx *wc = s->wctx;
    if ((r->flags & (R_DONE | R_RESP_END | R_SPLICE)) || !(r->flags & R_RESP_HEADERS) ||
        (s->flags & OR_STREAM_F_RESET) || wc->pipes.disabled || r->uc == NULL)
        return;
    struct or_conn *up = r->uc->conn;
    uint64_t left = or_h1_parser_body_left(&r->parser);
    if (left < SPLICE_MIN || or_conn_in_len(up) > 0 ||
        (up->flags & (OR_CONN_F_CLOSED | OR_CONN_F_EOF | OR_CONN_F_LINGER)))
        return;
    struct or_conn *down = or_stream_splice_target(s, &r->base);
    /* Writing what was queued may have failed and reset the stream. */
    if (down == NULL || (r->flags & R_DONE) || (s->flags & OR_STREAM_F_RESET) || r->uc == NULL)
        return;
    if (or_pipe_get(&wc->pipes, r->pipe) != 0)
        return;
    or_log_trace("router", "splicing %llu response body bytes",
                 (unsigned long long)(left - SPLICE_TAIL));
    r->flags |= R_SPLICE;
    r->down = down;
    r->splice_left = left - SPLICE_TAIL;
    r->in_pipe = 0;
    or_conn_set_raw(up, true);
    pump(r);
}

static void up_on_read(struct or_conn *c, void *ctx)
{
    struct router *r = ctx;
    if (r->flags & R_DONE || r->uc == NULL)
        return;
    if (!(r->flags & R_HEAD_SENT)) {
        /* A server talking before it was asked: not HTTP/1 we can trust. */
        fail_before_headers(r, 502, RESET_PREFIX "protocol error",
                            "upstream_reset_before_response_started{protocol_error}", OR_RF_UC);
        return;
    }
    dispatch_response(r);
}

static void up_on_drained(struct or_conn *c, void *ctx)
{
    struct router *r = ctx;
    if ((r->flags & R_PAUSED_DOWN) && !(r->flags & R_DONE)) {
        r->flags &= ~R_PAUSED_DOWN;
        or_stream_read_disable(S(r), false);
    }
}

static void up_on_event(struct or_conn *c, void *ctx, enum or_conn_event ev)
{
    struct router *r = ctx;
    if (r->flags & R_DONE)
        return;
    switch (ev) {
    case OR_CONN_EV_CONNECTED:
        r->uc->connected = true;
        start_request(r);
        return;
    case OR_CONN_EV_CONNECT_FAIL: {
        or_counter_inc(SH(r), r->wc->stats->upstream_cx_connect_fail);
        /* Envoy's text since 1.2x carries the transport failure reason. */
        char *body = or_arena_alloc(&S(r)->arena, 256);
        if (body != NULL)
            snprintf(body, 256,
                     RESET_PREFIX "remote connection failure, transport failure reason: "
                                  "delayed connect error: %s",
                     strerror(c->sock_err ? c->sock_err : ECONNREFUSED));
        fail_before_headers(r, 503, body != NULL ? body : RESET_PREFIX "connection failure",
                            "upstream_reset_before_response_started{remote_connection_failure}",
                            OR_RF_UF);
        return;
    }
    case OR_CONN_EV_CONNECT_TIMEOUT:
        or_counter_inc(SH(r), r->wc->stats->upstream_cx_connect_fail);
        or_counter_inc(SH(r), r->wc->stats->upstream_cx_connect_timeout);
        fail_before_headers(r, 503, RESET_PREFIX "connection timeout",
                            "upstream_reset_before_response_started{connection_timeout}", OR_RF_UF);
        return;
    case OR_CONN_EV_EOF:
        /* Parse what came before the close; a close-delimited body ends here. */
        if (or_conn_in_len(c) > 0)
            dispatch_response(r);
        if (r->flags & R_DONE)
            return;
        if (or_h1_parser_finish(&r->parser) == 0 && (r->flags & R_RESP_END)) {
            finish_response(r);
            return;
        }
        break;
    case OR_CONN_EV_ERROR:
        break;
    }
    if (r->flags & R_DONE)
        return;
    fail_before_headers(r, 503, RESET_PREFIX "connection termination",
                        "upstream_reset_before_response_started{connection_termination}", OR_RF_UC);
}

/* ---- response parser callbacks ---- */

static int resp_on_headers(void *ctx, struct or_h1_msg *msg)
{
    struct router *r = ctx;
    struct or_stream *s = S(r);
    if (msg->informational)
        return 0; /* 100 Continue was answered by us already; Envoy drops upstream 1xx here */
    s->resp = *msg->headers;
    s->details = "via_upstream";
    s->resp_start_us = or_time_us();
    uint64_t us = s->resp_start_us - r->upstream_start_us;
    s->upstream_service_us = us;
    if (!r->cfg->suppress_envoy_headers) {
        char v[OR_U64_DEC_MAX];
        size_t n = or_u64_dec(v, us / 1000);
        or_headers_add(&s->resp, "x-envoy-upstream-service-time", 29, v, n);
    }
    charge_response(r, msg->status);
    struct or_host_counters *hc = hostc(r);
    if (hc != NULL)
        or_host_count(msg->status >= 500 ? &hc->rq_error : &hc->rq_success, 1);
    r->flags |= R_RESP_HEADERS;
    r->keep_alive = msg->keep_alive;
    if (msg->end_stream) {
        /* Sent after the parser returns, once the connection is back in the pool. */
        r->end_kind = END_HEADERS;
        return 0;
    }
    or_stream_encode_headers(s, &r->base, false);
    return (s->flags & OR_STREAM_F_RESET) ? OR_ECLOSED : 0;
}

static int resp_on_body(void *ctx, struct evbuffer *chunk)
{
    struct router *r = ctx;
    struct or_stream *s = S(r);
    if (s->flags & OR_STREAM_F_RESET)
        return OR_ECLOSED;
    or_stream_encode_data(s, &r->base, chunk, false);
    return (s->flags & OR_STREAM_F_RESET) ? OR_ECLOSED : 0;
}

static int resp_on_trailers(void *ctx, struct or_headers *t)
{
    struct router *r = ctx;
    r->end_kind = END_TRAILERS;
    r->trailers = t;
    return 0;
}

static int resp_on_complete(void *ctx)
{
    struct router *r = ctx;
    r->flags |= R_RESP_END;
    if (r->end_kind == END_NONE)
        r->end_kind = END_DATA;
    return 0;
}

/* The response is complete: hand the connection back (reusable unless the server said close), then
 * end the stream downstream. */
static void finish_response(struct router *r)
{
    struct or_stream *s = S(r);
    int kind = r->end_kind;
    r->end_kind = END_SENT;
    if (r->wc->stats != NULL)
        or_cluster_stats_rq_time(SH(r), r->wc->stats, r->internal,
                                 (or_time_us() - r->upstream_start_us) / 1000);
    release(r, r->keep_alive && !or_h1_parser_closed(&r->parser));
    if (s->flags & OR_STREAM_F_RESET)
        return;
    if (kind == END_HEADERS) {
        or_stream_encode_headers(s, &r->base, true);
    } else if (kind == END_TRAILERS) {
        or_stream_encode_trailers(s, &r->base, r->trailers);
    } else {
        or_stream_encode_data(s, &r->base, s->worker->empty, true);
    }
}

/* ---- lifecycle ---- */

static void router_on_downstream_watermark(struct or_http_filter *f, bool above)
{
    struct router *r = (struct router *)f;
    if (r->uc != NULL && !(r->flags & R_DONE))
        or_conn_read_disable(r->uc->conn, above);
}

static void router_on_reset(struct or_http_filter *f)
{
    release((struct router *)f, false);
}

static void router_on_destroy(struct or_http_filter *f)
{
    struct router *r = (struct router *)f;
    release(r, false);
    if (r->parser_init)
        or_h1_parser_deinit(&r->parser);
}

const struct or_http_filter_type or_router_filter_type = {
    .name = "envoy.filters.http.router",
    .type_url = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
    .legacy_name = "envoy.router",
    .config_desc = &envoy__extensions__filters__http__router__v3__router__descriptor,
    .config_new = router_config_new,
    .config_free = router_config_free,
    .inst_size = sizeof(struct router),
    .terminal = true,
    .decode_headers = router_decode_headers,
    .decode_data = router_decode_data,
    .decode_trailers = router_decode_trailers,
    .on_reset = router_on_reset,
    .on_destroy = router_on_destroy,
    .on_downstream_watermark = router_on_downstream_watermark,
};
