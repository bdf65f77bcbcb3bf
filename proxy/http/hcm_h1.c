#include "proxy/http/hcm_h1.h"
#include "proxy/core/log.h"
#include "proxy/accesslog/access_log.h"
#include "proxy/config/snapshot.h"
#include "proxy/event/timer.h"
#include "proxy/http/codec_h1.h"
#include "proxy/http/forwarding.h"
#include "proxy/http/hcm_config.h"
#include "proxy/http/stream.h"
#include "proxy/http/util.h"
#include "proxy/net/conn.h"
#include "proxy/server/wctx.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    DC_F_CLOSE = 1 << 0,           /* close after the current response */
    DC_F_CHUNKED = 1 << 1,         /* current response is chunked on the wire */
    DC_F_CLOSE_DELIMITED = 1 << 2, /* current response ends at close (HTTP/1.0 without length) */
    DC_F_NO_BODY = 1 << 3,         /* current response carries no body (HEAD, 204, 304) */
    DC_F_DEAD = 1 << 4,            /* connection closed; waiting for deferred free */
    DC_F_IN_DISPATCH = 1 << 5,     /* inside the parser: finishing a stream must not re-enter it */
    DC_F_RESUME = 1 << 6,          /* a stream finished during dispatch: resume the parser after */
    DC_F_WATERMARK = 1 << 7,       /* told the stream we are above the high watermark */
    DC_F_REQ_BODY = 1 << 8,        /* the current request has a body still arriving */
    DC_F_CLEAN_END = 1 << 9,       /* closing after a complete exchange: no lingering read */
    DC_F_RQ_COUNTED = 1 << 10,     /* downstream_rq_active counts the current stream */
};

/* One downstream HTTP/1 connection. Owned by its or_conn's lifetime: freed when the connection
 * closes, at the end of that loop turn. */
/* Packed to 120 bytes (a 128-byte malloc chunk): idle connections are counted by the ten thousand,
 * and everything a request needs lives in its stream and parser. The worker is conn->worker. */
struct dconn {
    struct or_conn *conn;            /* owned (closed with the dconn) */
    struct or_wctx *wctx;            /* borrowed */
    const struct or_hcm_config *cfg; /* borrowed from the snapshot */
    struct or_h1_parser *parser;     /* owned while a request is being read or served; idle
                                        connections hand it back to the worker's free list */
    struct or_stream *stream;        /* owned: the request being served, NULL between requests */
    uint16_t flags;                  /* DC_F_* */
    uint8_t http_minor;              /* of the current request */
    uint32_t listener;               /* index of the listener in the snapshot */
    struct or_timer timer;           /* idle (no stream) or request-headers / request timeouts */
    struct or_list link;             /* in wctx->dconns */
    uint64_t start_us;               /* accept time, for downstream_cx_length_ms */
    struct or_deferred deferred;
};

static void on_conn_read(struct or_conn *c, void *ctx);
static void on_conn_drained(struct or_conn *c, void *ctx);
static void on_conn_event(struct or_conn *c, void *ctx, enum or_conn_event ev);
static const struct or_conn_handler dconn_handler = {
    .on_read = on_conn_read, .on_drained = on_conn_drained, .on_event = on_conn_event};

static void codec_encode_headers(void *ctx, struct or_stream *s, struct or_headers *h, bool end);
static void codec_encode_data(void *ctx, struct or_stream *s, struct evbuffer *b, bool end);
static void codec_encode_trailers(void *ctx, struct or_stream *s, struct or_headers *t);
static void codec_read_disable(void *ctx, struct or_stream *s, bool disable);
static void codec_reset(void *ctx, struct or_stream *s);
static struct or_conn *codec_splice_target(void *ctx, struct or_stream *s);
static const struct or_stream_codec h1_stream_codec = {
    .encode_headers = codec_encode_headers,
    .encode_data = codec_encode_data,
    .encode_trailers = codec_encode_trailers,
    .read_disable = codec_read_disable,
    .reset = codec_reset,
    .splice_target = codec_splice_target,
};

static int on_msg_headers(void *ctx, struct or_h1_msg *msg);
static int on_msg_body(void *ctx, struct evbuffer *chunk);
static int on_msg_trailers(void *ctx, struct or_headers *t);
static int on_msg_complete(void *ctx);
static const struct or_h1_callbacks parser_cbs = {
    .on_headers = on_msg_headers,
    .on_body = on_msg_body,
    .on_trailers = on_msg_trailers,
    .on_message_complete = on_msg_complete,
};

static void on_timer(struct or_timer *t);

static void arm_timer(struct dconn *d, uint64_t ms)
{
    /* A closed connection's memory goes at the end of the turn: its timer must stay off. */
    if (ms == 0 || (d->flags & DC_F_DEAD)) {
        or_timer_disarm(&d->timer);
        return;
    }
    or_timer_arm(d->conn->worker, &d->timer, ms, on_timer);
}

/* Parsers are per request, not per connection: an idle keep-alive connection holds none. They are
 * recycled per worker so taking one costs no allocation once warm. */
struct or_hcm_parser_slot {
    struct or_h1_parser p;
    struct or_hcm_parser_slot *next; /* free list link */
};

#define MAX_FREE_PARSERS 256

static int parser_get(struct dconn *d)
{
    if (d->parser != NULL)
        return 0;
    struct or_wctx *wc = d->wctx;
    struct or_hcm_parser_slot *slot = wc->free_parsers;
    if (slot != NULL) {
        wc->free_parsers = slot->next;
        wc->n_free_parsers--;
    } else if ((slot = malloc(sizeof(*slot))) == NULL) {
        return OR_ENOMEM;
    }
    if (or_h1_parser_init(&slot->p, OR_H1_REQUEST, &parser_cbs, d,
                          d->cfg->max_request_headers_kb * 1024, 100) != 0) {
        free(slot);
        return OR_ENOMEM;
    }
    d->parser = &slot->p;
    return 0;
}

static void parser_put(struct dconn *d)
{
    if (d->parser == NULL)
        return;
    struct or_hcm_parser_slot *slot = (struct or_hcm_parser_slot *)d->parser;
    struct or_wctx *wc = d->wctx;
    d->parser = NULL;
    or_h1_parser_deinit(&slot->p);
    if (wc->shutting_down || wc->n_free_parsers >= MAX_FREE_PARSERS) {
        free(slot);
        return;
    }
    slot->next = wc->free_parsers;
    wc->free_parsers = slot;
    wc->n_free_parsers++;
}

static void free_dconn(void *obj)
{
    struct dconn *d = obj;
    parser_put(d);
    free(d);
}

/* Streams and their first arena chunk are recycled per worker: no malloc per request once warm. */
#define MAX_FREE_STREAMS 256

static void free_stream(void *obj)
{
    struct or_stream *s = obj;
    struct or_wctx *wc = s->wctx;
    if (wc->shutting_down || wc->n_free_streams >= MAX_FREE_STREAMS) {
        or_stream_deinit(s);
        free(s);
        return;
    }
    or_stream_recycle(s);
    s->next_free = wc->free_streams;
    wc->free_streams = s;
    wc->n_free_streams++;
}

/* Filters may be on the stack (the router finishing a response), so the memory goes at the end of
 * the loop turn; an unfinished stream's filters hear on_reset now so they let go of upstream state.
 */
/* One access log record per stream, written when the stream ends (complete or not). */
static void log_stream(struct dconn *d, struct or_stream *s)
{
    const struct or_hcm_config *cfg = d->cfg;
    if (cfg->n_access_logs == 0)
        return;
    uint64_t now = or_time_us();
    struct or_access_log_info info = {
        .req_headers = s->req.n > 0 ? &s->req : NULL,
        .resp_headers = (s->flags & OR_STREAM_F_HEADERS_ENCODED) ? &s->resp : NULL,
        .start_time = s->start_wall,
        .duration_ns = (int64_t)(now - s->start_us) * 1000,
        .request_duration_ns = s->req_end_us ? (int64_t)(s->req_end_us - s->start_us) * 1000 : -1,
        .request_tx_duration_ns = -1,
        .response_duration_ns =
            s->resp_start_us ? (int64_t)(s->resp_start_us - s->start_us) * 1000 : -1,
        .downstream_tx_end_ns = -1,
        .response_code = (s->flags & OR_STREAM_F_HEADERS_ENCODED) ? s->status : 0,
        .response_code_details = or_str_cstr(s->details),
        .response_flags = s->resp_flags,
        .bytes_received = s->bytes_received,
        .bytes_sent = s->bytes_sent,
        .protocol = d->http_minor == 0 ? OR_STR_LIT("HTTP/1.0") : OR_STR_LIT("HTTP/1.1"),
        .upstream_host = s->upstream_addr,
        .upstream_cluster = or_str_cstr(s->upstream_cluster),
        .downstream_local_addr = or_conn_local_addr(d->conn),
        .downstream_remote_addr = (const struct sockaddr *)&d->conn->peer,
        .route_name = or_str_cstr(s->route_name),
        .local_reply_body = or_str_cstr(s->local_reply_body),
    };
    for (unsigned i = 0; i < cfg->n_access_logs; i++)
        or_access_log_record(cfg->access_logs[i], d->conn->worker->id, &info);
}

static void count_stream_end(struct dconn *d, struct or_stream *s)
{
    if (!(d->flags & DC_F_RQ_COUNTED))
        return;
    d->flags &= ~DC_F_RQ_COUNTED;
    or_wctx_streams_add(d->wctx, -1);
    struct or_stats_shard *sh = d->wctx->sh;
    const struct or_http_stats *hs = &d->cfg->stats;
    or_gauge_dec(sh, hs->downstream_rq_active);
    if (s->flags & OR_STREAM_F_HEADERS_ENCODED) {
        or_http_stats_response(sh, hs, &d->cfg->lstats, s->status);
        or_histogram_record(sh, hs->downstream_rq_time, (or_time_us() - s->start_us) / 1000);
    }
}

static void destroy_stream(struct dconn *d)
{
    struct or_stream *s = d->stream;
    if (s == NULL)
        return;
    d->stream = NULL;
    count_stream_end(d, s);
    log_stream(d, s);
    if (!((s->flags & OR_STREAM_F_ENCODE_END) && (s->flags & OR_STREAM_F_DECODE_END)))
        or_stream_abort(s);
    or_worker_defer(d->conn->worker, &s->deferred, free_stream, s);
}

static void dconn_close(struct dconn *d, bool flush)
{
    if (d->flags & DC_F_DEAD)
        return;
    d->flags |= DC_F_DEAD;
    or_timer_disarm(&d->timer);
    {
        struct or_stats_shard *sh = d->wctx->sh;
        const struct or_http_stats *hs = &d->cfg->stats;
        const struct or_listener_stats *ls = &d->wctx->snap->listeners[d->listener].stats;
        or_gauge_dec(sh, ls->downstream_cx_active);
        or_counter_inc(sh, ls->downstream_cx_destroy);
        or_histogram_record(sh, ls->downstream_cx_length_ms, (or_time_us() - d->start_us) / 1000);
        or_gauge_dec(sh, hs->downstream_cx_active);
        or_gauge_dec(sh, hs->downstream_cx_http1_active);
        or_counter_inc(sh, hs->downstream_cx_destroy);
        or_counter_add(sh, hs->downstream_cx_rx_bytes_total, d->conn->rx_bytes);
        or_counter_add(sh, hs->downstream_cx_tx_bytes_total, d->conn->tx_bytes);
    }
    or_list_remove(&d->link);
    destroy_stream(d);
    if (flush && (d->flags & DC_F_CLEAN_END))
        or_conn_close_after_flush_nolinger(d->conn);
    else if (flush)
        or_conn_close_after_flush(d->conn);
    else
        or_conn_close(d->conn);
    /* The conn may still linger to flush; it no longer calls back into us. */
    or_conn_set_handler(d->conn, &dconn_handler, NULL);
    or_worker_defer(d->conn->worker, &d->deferred, free_dconn, d);
}

void or_hcm_h1_accept(struct or_worker *w, struct or_wctx *wctx, const struct or_hcm_config *cfg,
                      uint32_t listener, int fd, const struct sockaddr *peer, socklen_t peerlen)
{
    struct dconn *d = calloc(1, sizeof(*d));
    if (d == NULL) {
        close(fd);
        return;
    }
    d->wctx = wctx;
    d->cfg = cfg;
    d->listener = listener;
    d->conn = or_conn_new_accepted(w, fd, peer, peerlen, &dconn_handler, d);
    if (d->conn == NULL) {
        close(fd);
        free(d);
        return;
    }
    or_conn_set_buffer_limit(d->conn, cfg->buffer_limit);
    or_timer_init(&d->timer);
    arm_timer(d, cfg->idle_timeout_ms);
    d->start_us = or_time_us();
    struct or_stats_shard *sh = wctx->sh;
    const struct or_listener_stats *ls = &wctx->snap->listeners[listener].stats;
    or_counter_inc(sh, ls->downstream_cx_total);
    or_gauge_inc(sh, ls->downstream_cx_active);
    or_counter_inc(sh, cfg->stats.downstream_cx_total);
    or_counter_inc(sh, cfg->stats.downstream_cx_http1_total);
    or_gauge_inc(sh, cfg->stats.downstream_cx_active);
    or_gauge_inc(sh, cfg->stats.downstream_cx_http1_active);
    or_list_insert(&wctx->dconns, &d->link);
}

void or_hcm_h1_drain(struct or_wctx *wctx)
{
    struct or_list *it = wctx->dconns.next;
    while (it != &wctx->dconns) {
        struct dconn *d = OR_CONTAINER_OF(it, struct dconn, link);
        it = it->next;
        /* Idle, or still reading a request head: nothing accepted to finish. */
        if (wctx->draining[d->listener] && !(d->flags & DC_F_RQ_COUNTED))
            dconn_close(d, true);
    }
}

void or_hcm_h1_close_all(struct or_wctx *wctx)
{
    wctx->shutting_down = true;
    while (wctx->free_streams != NULL) {
        struct or_stream *s = wctx->free_streams;
        wctx->free_streams = s->next_free;
        or_stream_free_arena(s);
        free(s);
    }
    wctx->n_free_streams = 0;
    while (wctx->free_parsers != NULL) {
        struct or_hcm_parser_slot *slot = wctx->free_parsers;
        wctx->free_parsers = slot->next;
        free(slot);
    }
    wctx->n_free_parsers = 0;
    while (!or_list_empty(&wctx->dconns)) {
        struct dconn *d = OR_CONTAINER_OF(wctx->dconns.next, struct dconn, link);
        dconn_close(d, false);
    }
    /* The streams gave their pipes back above. */
    or_pipe_pool_close(&wctx->pipes);
}

/* ---- streams ---- */

static struct or_stream *new_stream(struct dconn *d)
{
    if (parser_get(d) != 0)
        return NULL;
    struct or_wctx *wc = d->wctx;
    struct or_stream *s = wc->free_streams;
    if (s != NULL) {
        wc->free_streams = s->next_free;
        wc->n_free_streams--;
        or_stream_reinit(s, d->conn->worker, wc, d->cfg, &h1_stream_codec, d);
    } else {
        s = malloc(sizeof(*s));
        if (s == NULL)
            return NULL;
        or_stream_init(s, d->conn->worker, wc, d->cfg, &h1_stream_codec, d);
    }
    d->stream = s;
    d->flags &= ~(DC_F_CHUNKED | DC_F_CLOSE_DELIMITED | DC_F_NO_BODY | DC_F_WATERMARK |
                  DC_F_REQ_BODY | DC_F_CLEAN_END);
    or_h1_parser_set_arena(d->parser, &s->arena);
    /* Request timeouts run from the first byte of the request. */
    uint64_t t = d->cfg->request_headers_timeout_ms;
    if (d->cfg->request_timeout_ms != 0 && (t == 0 || d->cfg->request_timeout_ms < t))
        t = d->cfg->request_timeout_ms;
    arm_timer(d, t);
    return s;
}

static void dispatch(struct dconn *d);

/* The response is out and the request is in: the exchange is over. */
static void stream_done(struct dconn *d)
{
    struct or_stream *s = d->stream;
    if (s == NULL)
        return;
    if (!(s->flags & OR_STREAM_F_DECODE_END)) {
        /* Answered before the request finished arriving: the rest of it cannot be framed away
         * safely, so this connection ends here (Envoy does the same on HTTP/1). */
        d->flags |= DC_F_CLOSE;
    } else if (or_conn_in_len(d->conn) == 0) {
        /* Whole request read, nothing more sent: closing needs no lingering read. */
        d->flags |= DC_F_CLEAN_END;
    }
    destroy_stream(d);
    if (d->flags & DC_F_CLOSE) {
        dconn_close(d, true);
        return;
    }
    arm_timer(d, d->cfg->idle_timeout_ms);
    if (d->flags & DC_F_IN_DISPATCH) {
        d->flags |= DC_F_RESUME;
        return;
    }
    /* The next request, pipelined or not, gets a fresh parser. */
    parser_put(d);
    if (or_conn_in_len(d->conn) > 0)
        dispatch(d);
}

/* Once the response is complete the exchange is over; a request still arriving then means the
 * connection closes (stream_done). */
static void maybe_done(struct dconn *d)
{
    struct or_stream *s = d->stream;
    if (s != NULL && (s->flags & OR_STREAM_F_ENCODE_END))
        stream_done(d);
}

/* A local reply from the connection manager itself (codec errors, timeouts, refused upgrades). */
static void hcm_local_reply(struct dconn *d, unsigned status, const char *body, const char *details,
                            uint32_t flag)
{
    if (d->flags & DC_F_DEAD)
        return;
    d->flags |= DC_F_CLOSE;
    if (d->stream == NULL && new_stream(d) == NULL) {
        dconn_close(d, false);
        return;
    }
    struct or_stream *s = d->stream;
    /* The request is abandoned: mark it complete so the reply finishes the exchange. */
    s->flags |= OR_STREAM_F_DECODE_END;
    or_stream_send_local_reply(s, NULL, status, body, details, flag);
}

/* ---- parser callbacks ---- */

static void add_forwarding_headers(struct dconn *d, struct or_stream *s)
{
    struct or_forwarding_ctx fc = {
        .remote = (const struct sockaddr *)&d->conn->peer,
        .local = d->cfg->use_remote_address ? or_conn_local_addr(d->conn) : NULL,
        .tls = false,
        .rand1 = or_worker_rand(d->conn->worker),
        .rand2 = or_worker_rand(d->conn->worker),
    };
    or_forwarding_mutate_request(&s->req, d->cfg, &fc);
}

/* What strip_hop_by_hop drops, decided entry by entry in header order. */
struct hop_ctx {
    /* The first Connection value, copied: the entry it came from moves while entries are
     * removed. conn.ptr NULL when absent (the bytes are the arena's and stay). */
    struct or_str conn;
    bool request;
    int8_t te_drop; /* request TE: -1 undecided, else what the first TE entry decided */
};

/* Does the Connection value list `name` (lower-case) as one of its comma-separated tokens? */
static bool conn_lists(struct or_str conn, struct or_str name)
{
    const char *p = conn.ptr, *end = conn.ptr + conn.len;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
            p++;
        const char *st = p;
        while (p < end && *p != ',')
            p++;
        const char *e = p;
        while (e > st && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if ((size_t)(e - st) == name.len && name.len < 64 &&
            strncasecmp(st, name.ptr, name.len) == 0)
            return true;
    }
    return false;
}

static bool is_hop_by_hop(const struct or_header *e, void *arg)
{
    struct hop_ctx *hc = arg;
    struct or_str n = e->name;
    if (or_str_eq_lit(n, "connection") || or_str_eq_lit(n, "keep-alive") ||
        or_str_eq_lit(n, "proxy-connection") || or_str_eq_lit(n, "transfer-encoding") ||
        or_str_eq_lit(n, "upgrade"))
        return true;
    if (hc->request && or_str_eq_lit(n, "te")) {
        /* TE survives only as "trailers"; the first TE decides for all, as a lookup would. */
        if (hc->te_drop < 0)
            hc->te_drop = !or_str_case_eq(e->value, OR_STR_LIT("trailers"));
        if (hc->te_drop)
            return true;
    }
    /* Headers named in Connection are hop-by-hop too, but never what the proxy itself depends
     * on. */
    if (hc->conn.ptr == NULL || n.len == 0 || n.ptr[0] == ':' || or_str_eq_lit(n, "host") ||
        or_str_eq_lit(n, "content-length") || or_str_eq_lit(n, "x-request-id"))
        return false;
    return conn_lists(hc->conn, n);
}

/* Hop-by-hop headers are the connection's, not the message's (RFC 9110 §7.6.1): one pass. */
static void strip_hop_by_hop(struct or_headers *h, bool request)
{
    const struct or_str *conn = or_headers_get(h, "connection");
    struct hop_ctx hc = {conn != NULL ? *conn : OR_STR_NULL, request, -1};
    or_headers_remove_if(h, is_hop_by_hop, &hc);
}

static int on_msg_headers(void *ctx, struct or_h1_msg *msg)
{
    struct dconn *d = ctx;
    struct or_stream *s = d->stream;
    s->req = *msg->headers;
    or_counter_inc(d->wctx->sh, d->cfg->stats.downstream_rq_total);
    or_counter_inc(d->wctx->sh, d->cfg->stats.downstream_rq_http1_total);
    or_gauge_inc(d->wctx->sh, d->cfg->stats.downstream_rq_active);
    d->flags |= DC_F_RQ_COUNTED;
    or_wctx_streams_add(d->wctx, 1); /* in flight: shutdown waits for it */
    d->http_minor = (uint8_t)msg->http_minor;
    if (!msg->keep_alive)
        d->flags |= DC_F_CLOSE;
    const struct or_str *method = or_headers_get(&s->req, ":method");
    if (method != NULL && or_str_eq_lit(*method, "HEAD"))
        s->flags |= OR_STREAM_F_HEAD;
    if (or_headers_get(&s->req, ":authority") == NULL) {
        /* Envoy's connection manager requires a host on every request (HTTP/1.0 gets 426 from the
         * codec before this). */
        hcm_local_reply(d, 400, "Bad Request", "missing_host_header", OR_RF_DPE);
        return OR_EAGAIN;
    }
    if (msg->upgrade || msg->connect) {
        /* No upgrade_configs are supported yet: Envoy refuses an unconfigured upgrade with 403. */
        hcm_local_reply(d, 403, NULL, "upgrade_failed", 0);
        return OR_EAGAIN;
    }
    if (msg->expect_continue) {
        /* Envoy answers 100-continue itself and does not forward Expect (proxy_100_continue off).
         */
        or_headers_remove(&s->req, "expect");
        struct evbuffer *out = or_conn_out(d->conn);
        if (out != NULL)
            evbuffer_add(out, "HTTP/1.1 100 Continue\r\n\r\n", 25);
        or_conn_flush_soon(d->conn);
    }
    strip_hop_by_hop(&s->req, true);
    if (!msg->end_stream)
        d->flags |= DC_F_REQ_BODY;
    if (or_headers_get(&s->req, ":scheme") == NULL)
        or_headers_add_ref(&s->req, OR_STR_LIT(":scheme"), OR_STR_LIT("http"));
    add_forwarding_headers(d, s);
    if (d->cfg->request_timeout_ms != 0)
        arm_timer(d, d->cfg->request_timeout_ms);
    else
        arm_timer(d, d->cfg->stream_idle_timeout_ms);
    if (or_stream_create_filters(s) != 0) {
        hcm_local_reply(d, 500, "Internal Server Error", "filter_chain_not_created", 0);
        return OR_EAGAIN;
    }
    or_stream_decode_headers(s, msg->end_stream);
    return 0;
}

static int on_msg_body(void *ctx, struct evbuffer *chunk)
{
    struct dconn *d = ctx;
    if (d->stream == NULL) {
        evbuffer_drain(chunk, evbuffer_get_length(chunk));
        return 0;
    }
    or_stream_decode_data(d->stream, chunk, false);
    return 0;
}

static int on_msg_trailers(void *ctx, struct or_headers *t)
{
    struct dconn *d = ctx;
    if (d->stream != NULL) {
        d->flags &= ~DC_F_REQ_BODY;
        or_stream_decode_trailers(d->stream, t);
    }
    return 0;
}

static int on_msg_complete(void *ctx)
{
    struct dconn *d = ctx;
    struct or_stream *s = d->stream;
    if (s == NULL)
        return 0;
    if (d->cfg->request_timeout_ms != 0)
        arm_timer(d, d->cfg->stream_idle_timeout_ms);
    if (d->flags & DC_F_REQ_BODY) {
        d->flags &= ~DC_F_REQ_BODY;
        or_stream_decode_data(s, d->conn->worker->empty, true);
    } else {
        s->flags |= OR_STREAM_F_DECODE_END;
    }
    if (d->stream != NULL)
        maybe_done(d);
    return 0;
}

static void dispatch(struct dconn *d)
{
    while (!(d->flags & DC_F_DEAD)) {
        if (d->stream == NULL) {
            if (or_conn_in_len(d->conn) == 0)
                return;
            if (new_stream(d) == NULL) {
                dconn_close(d, false);
                return;
            }
        } else if (or_h1_parser_paused(d->parser)) {
            return;
        }
        d->flags |= DC_F_IN_DISPATCH;
        /* No input buffer means nothing to parse: the always-empty one stands in. */
        struct evbuffer *in = d->conn->in != NULL ? d->conn->in : d->conn->worker->empty;
        int r = or_h1_parser_dispatch(d->parser, in);
        d->flags &= ~DC_F_IN_DISPATCH;
        if (d->flags & DC_F_DEAD)
            return;
        if (r < 0) {
            const struct or_h1_error *e = or_h1_parser_error(d->parser);
            unsigned status = e->status ? e->status : 400;
            const char *details = e->details ? e->details : "http1.codec_error";
            if (d->stream != NULL && (d->stream->flags & OR_STREAM_F_HEADERS_ENCODED)) {
                or_stream_reset(d->stream, details, OR_RF_DPE);
                return;
            }
            or_counter_inc(d->wctx->sh, d->cfg->stats.downstream_cx_protocol_error);
            /* Whatever was already headed upstream is dropped: its framing is in doubt. */
            destroy_stream(d);
            hcm_local_reply(d, status, or_h1_reason_phrase(status), details, OR_RF_DPE);
            return;
        }
        if (d->flags & DC_F_RESUME) {
            /* The stream finished inside the parser: now it is safe to let the parser go. */
            d->flags &= ~DC_F_RESUME;
            parser_put(d);
            continue;
        }
        return;
    }
}

/* ---- connection events ---- */

static void on_conn_read(struct or_conn *c, void *ctx)
{
    struct dconn *d = ctx;
    if (d == NULL)
        return;
    dispatch(d);
}

static void on_conn_drained(struct or_conn *c, void *ctx)
{
    struct dconn *d = ctx;
    if (d == NULL || d->stream == NULL || !(d->flags & DC_F_WATERMARK))
        return;
    d->flags &= ~DC_F_WATERMARK;
    struct or_stream *s = d->stream;
    for (unsigned i = 0; i < s->nfilters; i++)
        if (s->filters[i]->type->on_downstream_watermark != NULL)
            s->filters[i]->type->on_downstream_watermark(s->filters[i], false);
}

static void on_conn_event(struct or_conn *c, void *ctx, enum or_conn_event ev)
{
    struct dconn *d = ctx;
    if (d == NULL)
        return;
    if (d->stream != NULL) {
        /* The client went away mid-exchange (Envoy: downstream connection termination). */
        d->stream->resp_flags |= OR_RF_DC;
    }
    dconn_close(d, false);
}

static void on_timer(struct or_timer *t)
{
    struct dconn *d = OR_CONTAINER_OF(t, struct dconn, timer);
    struct or_stream *s = d->stream;
    if (s == NULL) {
        dconn_close(d, false); /* idle timeout */
        return;
    }
    if (s->filters == NULL) {
        /* Still reading the request headers. */
        or_counter_inc(d->wctx->sh, d->cfg->stats.downstream_rq_timeout);
        if (d->cfg->request_headers_timeout_ms != 0)
            hcm_local_reply(d, 408, "request header timeout", "request_header_timeout", 0);
        else
            hcm_local_reply(d, 408, "request timeout", "request_overall_timeout", 0);
        return;
    }
    if (!(s->flags & OR_STREAM_F_DECODE_END) && d->cfg->request_timeout_ms != 0) {
        d->flags |= DC_F_CLOSE;
        or_counter_inc(d->wctx->sh, d->cfg->stats.downstream_rq_timeout);
        or_stream_send_local_reply(s, NULL, 408, "request timeout", "request_overall_timeout", 0);
        return;
    }
    /* Stream idle timeout. */
    d->flags |= DC_F_CLOSE;
    if (!(s->flags & OR_STREAM_F_HEADERS_ENCODED))
        or_stream_send_local_reply(s, NULL, 408, "stream timeout", "stream_idle_timeout", OR_RF_SI);
    else
        or_stream_reset(s, "stream_idle_timeout", OR_RF_SI);
}

/* ---- stream codec: the response towards the client ---- */

static void codec_encode_headers(void *ctx, struct or_stream *s, struct or_headers *h, bool end)
{
    struct dconn *d = ctx;
    unsigned status = s->status ? s->status : 200;
    strip_hop_by_hop(h, false);
    /* server_name lives in the snapshot, which outlives the stream: no copy. */
    or_headers_remove(h, "server");
    or_headers_add_ref(h, OR_STR_LIT("server"), or_str_cstr(d->cfg->server_name));
    if (or_headers_get(h, "date") == NULL) {
        struct or_str date = or_http_date_now();
        or_headers_add(h, "date", 4, date.ptr, date.len);
    }
    bool has_cl = or_headers_get(h, "content-length") != NULL;
    bool head = (s->flags & OR_STREAM_F_HEAD) != 0;
    /* Draining: each connection ends after its current response (Envoy's HTTP/1 drain). */
    if (d->wctx->draining[d->listener])
        d->flags |= DC_F_CLOSE;
    /* An HTTP/1.0 client without a length gets a body delimited by close. */
    if (!end && !has_cl && d->http_minor == 0 && !head && status != 204 && status != 304)
        d->flags |= DC_F_CLOSE;
    if (d->flags & DC_F_CLOSE)
        or_headers_add_ref(h, OR_STR_LIT("connection"), OR_STR_LIT("close"));
    else if (d->http_minor == 0)
        or_headers_add_ref(h, OR_STR_LIT("connection"), OR_STR_LIT("keep-alive"));
    unsigned flags = (end ? OR_H1_ENC_END_STREAM : 0) | (head ? OR_H1_ENC_HEAD : 0);
    struct evbuffer *out = or_conn_out(d->conn);
    int body =
        out != NULL ? or_h1_encode_response_head(out, status, h, d->http_minor, flags) : OR_ENOMEM;
    if (body < 0) {
        or_log_debug("http", "cannot encode response head: %s", or_strerror(body));
        or_stream_reset(s, "codec_error", OR_RF_LR);
        return;
    }
    if (body == OR_H1_BODY_NONE)
        d->flags |= DC_F_NO_BODY;
    else if (body == OR_H1_BODY_CHUNKED)
        d->flags |= DC_F_CHUNKED;
    else if (!has_cl)
        d->flags |= DC_F_CLOSE_DELIMITED | DC_F_CLOSE;
    or_conn_flush_soon(d->conn);
    if (end && !(d->flags & DC_F_DEAD))
        maybe_done(d);
}

static void check_watermark(struct dconn *d, struct or_stream *s)
{
    if (!(d->flags & DC_F_WATERMARK) && or_conn_above_high_watermark(d->conn)) {
        d->flags |= DC_F_WATERMARK;
        d->conn->flags |= OR_CONN_F_ABOVE_HIGH;
        for (unsigned i = 0; i < s->nfilters; i++)
            if (s->filters[i]->type->on_downstream_watermark != NULL)
                s->filters[i]->type->on_downstream_watermark(s->filters[i], true);
    }
}

static void codec_encode_data(void *ctx, struct or_stream *s, struct evbuffer *b, bool end)
{
    struct dconn *d = ctx;
    struct evbuffer *out = NULL;
    if (!(d->flags & DC_F_NO_BODY) && (out = or_conn_out(d->conn)) == NULL) {
        evbuffer_drain(b, evbuffer_get_length(b));
        or_stream_reset(s, "oom", OR_RF_LR);
        return;
    }
    if (d->flags & DC_F_NO_BODY) {
        evbuffer_drain(b, evbuffer_get_length(b));
    } else if (d->flags & DC_F_CHUNKED) {
        if (evbuffer_get_length(b) > 0)
            or_h1_encode_chunk(out, b);
        if (end)
            or_h1_encode_last_chunk(out, NULL);
    } else {
        evbuffer_add_buffer(out, b);
    }
    or_conn_flush_soon(d->conn);
    if (d->flags & DC_F_DEAD)
        return;
    if (end) {
        if (d->flags & DC_F_CLOSE_DELIMITED)
            d->flags |= DC_F_CLOSE;
        maybe_done(d);
        return;
    }
    check_watermark(d, s);
}

static void codec_encode_trailers(void *ctx, struct or_stream *s, struct or_headers *t)
{
    struct dconn *d = ctx;
    struct evbuffer *out;
    if ((d->flags & DC_F_CHUNKED) && !(d->flags & DC_F_NO_BODY) &&
        (out = or_conn_out(d->conn)) != NULL)
        or_h1_encode_last_chunk(out, t);
    or_conn_flush_soon(d->conn);
    if (!(d->flags & DC_F_DEAD))
        maybe_done(d);
}

static void codec_read_disable(void *ctx, struct or_stream *s, bool disable)
{
    struct dconn *d = ctx;
    if (!(d->flags & DC_F_DEAD))
        or_conn_read_disable(d->conn, disable);
}

static void codec_reset(void *ctx, struct or_stream *s)
{
    struct dconn *d = ctx;
    /* HTTP/1 has no stream reset: the connection goes. Bytes already queued are flushed first so
     * the client sees a truncated message rather than a stall. */
    if (s->flags & OR_STREAM_F_HEADERS_ENCODED)
        dconn_close(d, true);
    else
        dconn_close(d, false);
}

static struct or_conn *codec_splice_target(void *ctx, struct or_stream *s)
{
    struct dconn *d = ctx;
    /* Only a body that goes out byte for byte: Content-Length framing on a plain socket. */
    if (d->flags & (DC_F_DEAD | DC_F_CHUNKED | DC_F_CLOSE_DELIMITED | DC_F_NO_BODY))
        return NULL;
    struct or_conn *c = d->conn;
    if (c->flags & (OR_CONN_F_CLOSED | OR_CONN_F_LINGER | OR_CONN_F_CLOSE_AFTER_FLUSH))
        return NULL;
    /* Everything queued goes first: the head and the body bytes already read. */
    if (c->out != NULL && evbuffer_get_length(c->out) > 0) {
        or_conn_flush(c);
        if ((d->flags & DC_F_DEAD) || (c->flags & OR_CONN_F_CLOSED) ||
            (c->out != NULL && evbuffer_get_length(c->out) > 0))
            return NULL;
    }
    return c;
}
