/* A codec-neutral HTTP stream (one request/response exchange) and its filter manager. The
 * connection manager creates it when request headers arrive, feeds request events in
 * (or_stream_decode_*), and receives the response through the codec vtable once it has passed the
 * filters' encode path. */
#ifndef OR_HTTP_STREAM_H
#define OR_HTTP_STREAM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "proxy/core/arena.h"
#include "proxy/event/worker.h"
#include "proxy/http/filter.h"
#include "proxy/http/headers.h"

struct evbuffer;
struct or_stream;
struct or_hcm_config;
struct or_wctx;
struct or_conn;

/* Implemented by the connection manager for its protocol (HTTP/1 now, HTTP/2 later). */
struct or_stream_codec {
    void (*encode_headers)(void *ctx, struct or_stream *s, struct or_headers *h, bool end_stream);
    void (*encode_data)(void *ctx, struct or_stream *s, struct evbuffer *b, bool end_stream);
    void (*encode_trailers)(void *ctx, struct or_stream *s, struct or_headers *t);
    /* Stop/restart reading the request body (upstream back-pressure). */
    void (*read_disable)(void *ctx, struct or_stream *s, bool disable);
    /* Abort the response: the downstream sees a reset / close. */
    void (*reset)(void *ctx, struct or_stream *s);
    /* Optional: the downstream connection when the rest of the response body may be written to
     * its socket directly (plain socket, body bytes go out unchanged, nothing queued in front:
     * pending output is written first). NULL otherwise, or if that write failed. */
    struct or_conn *(*splice_target)(void *ctx, struct or_stream *s);
};

/* Envoy response flags (access logs, stats). */
enum {
    OR_RF_NR = 1 << 0,   /* no route */
    OR_RF_UH = 1 << 1,   /* no healthy upstream */
    OR_RF_UF = 1 << 2,   /* upstream connection failure */
    OR_RF_UO = 1 << 3,   /* upstream overflow (circuit breaker) */
    OR_RF_UT = 1 << 4,   /* upstream request timeout */
    OR_RF_UC = 1 << 5,   /* upstream connection termination */
    OR_RF_URX = 1 << 6,  /* retry limit exceeded */
    OR_RF_DC = 1 << 7,   /* downstream connection termination */
    OR_RF_LR = 1 << 8,   /* connection local reset */
    OR_RF_LH = 1 << 9,   /* failed local health check */
    OR_RF_DPE = 1 << 10, /* downstream protocol error */
    OR_RF_SI = 1 << 11,  /* stream idle timeout */
};

enum {
    OR_STREAM_F_DECODE_END = 1 << 0,      /* request fully received from downstream */
    OR_STREAM_F_HEADERS_ENCODED = 1 << 1, /* response headers handed to the codec */
    OR_STREAM_F_ENCODE_END = 1 << 2,      /* response fully handed to the codec */
    OR_STREAM_F_RESET = 1 << 3,           /* reset: no further events */
    OR_STREAM_F_LOCAL_REPLY = 1 << 4,     /* the response is a local reply */
    OR_STREAM_F_HEAD = 1 << 5,            /* request method HEAD */
    OR_STREAM_F_DEC_END_PENDING = 1 << 6, /* end_stream buffered behind a stopped decode filter */
    OR_STREAM_F_ENC_END_PENDING = 1 << 7, /* end_stream buffered behind a stopped encode filter */
    OR_STREAM_F_ABORTED = 1 << 8,         /* filters were told on_reset */
};

struct or_stream {
    struct or_arena arena;               /* owns headers, filter instances, small strings */
    struct or_headers req;               /* request headers (pseudo-headers first) */
    struct or_headers resp;              /* response headers */
    struct or_headers *req_trailers;     /* arena, NULL when none */
    struct or_headers *resp_trailers;    /* borrowed (arena): held behind a stopped encode filter */
    const struct or_stream_codec *codec; /* borrowed: static vtable of the connection manager */
    void *codec_ctx;                     /* borrowed: the connection manager's connection */
    struct or_worker *worker;            /* borrowed */
    struct or_wctx *wctx;                /* borrowed: per-worker proxy state (clusters, pools) */
    const struct or_hcm_config *hcm;     /* borrowed from the snapshot the connection holds */
    struct or_http_filter **filters;     /* arena array of arena instances */
    unsigned nfilters;
    unsigned flags;                      /* OR_STREAM_F_* */
    int dec_stopped;                     /* filter index where decode stopped, -1 if none */
    int enc_stopped;                     /* filter index where encode stopped, -1 if none */
    unsigned dec_headers_next;           /* next filter to get the request headers */
    unsigned enc_headers_next;           /* encode: filters are walked from nfilters-1 down */
    struct evbuffer *dec_buf;            /* owned: request body held behind a stopped filter */
    struct evbuffer *enc_buf;            /* owned: response body held behind a stopped filter */
    unsigned status;                     /* response status once known */
    const char *details;                 /* static string: Envoy's response code details */
    uint32_t resp_flags;                 /* OR_RF_* */
    uint64_t start_us;                   /* monotonic start time */
    uint64_t upstream_service_us;        /* upstream request start → response headers */
    uint64_t bytes_received, bytes_sent; /* body bytes */
    struct or_deferred deferred;         /* storage for the deferred free */
    struct or_stream *next_free;         /* per-worker free list link while recycled */
    /* For access logs and stats, filled as the exchange goes. */
    struct timespec start_wall;           /* CLOCK_REALTIME at the first request byte */
    uint64_t req_end_us;                  /* monotonic: last request byte received, 0 = not yet */
    uint64_t resp_start_us;               /* monotonic: first upstream response byte, 0 = none */
    const struct sockaddr *upstream_addr; /* arena copy of the chosen host's address, or NULL */
    const char *upstream_cluster;         /* borrowed from the snapshot, or NULL */
    const char *route_name;               /* borrowed from the route table, or NULL */
    const char *local_reply_body;         /* arena copy of a local reply's body, or NULL */
};

/* Sets up a stream; filters come from hcm's chain. 0 or OR_ENOMEM. */
int or_stream_init(struct or_stream *s, struct or_worker *w, struct or_wctx *wctx,
                   const struct or_hcm_config *hcm, const struct or_stream_codec *codec,
                   void *codec_ctx);
/* Re-initialises a stream whose arena survived or_stream_deinit (per-worker free lists): like
 * or_stream_init without allocating. */
int or_stream_reinit(struct or_stream *s, struct or_worker *w, struct or_wctx *wctx,
                     const struct or_hcm_config *hcm, const struct or_stream_codec *codec,
                     void *codec_ctx);
/* Creates the filter instances (after the request headers exist, before decode_headers). */
int or_stream_create_filters(struct or_stream *s);
/* Tells every filter the stream is over (on_reset if not complete, then on_destroy) and frees what
 * the stream owns (not the struct itself). */
void or_stream_deinit(struct or_stream *s);
/* The same, but the arena's first chunk stays for the stream's next life (or_stream_reinit); a
 * recycled stream that is not reused is finished with or_stream_free_arena. */
void or_stream_recycle(struct or_stream *s);
void or_stream_free_arena(struct or_stream *s);
/* Marks the stream reset and tells the filters (on_reset) at once, so they detach from upstream
 * state; memory stays valid until or_stream_deinit. Idempotent. */
void or_stream_abort(struct or_stream *s);

/* Request events from the codec. */
void or_stream_decode_headers(struct or_stream *s, bool end_stream);
void or_stream_decode_data(struct or_stream *s, struct evbuffer *b, bool end_stream);
void or_stream_decode_trailers(struct or_stream *s, struct or_headers *t);

/* Called by a filter: resume the chain after the filter that stopped. */
void or_stream_continue_decoding(struct or_stream *s, struct or_http_filter *f);
void or_stream_continue_encoding(struct or_stream *s, struct or_http_filter *f);

/* Response events injected by filter f (the router, or a filter answering itself): they run the
 * encode path of the filters before f (in reverse) and end in the codec. */
void or_stream_encode_headers(struct or_stream *s, struct or_http_filter *f, bool end_stream);
void or_stream_encode_data(struct or_stream *s, struct or_http_filter *f, struct evbuffer *b,
                           bool end_stream);
void or_stream_encode_trailers(struct or_stream *s, struct or_http_filter *f, struct or_headers *t);

/* Envoy's sendLocalReply: a complete response with a text/plain body, from filter f (NULL: from the
 * connection manager, before any filter). details is a static string. If response headers were
 * already sent the stream is reset instead. */
void or_stream_send_local_reply(struct or_stream *s, struct or_http_filter *f, unsigned status,
                                const char *body, const char *details, uint32_t resp_flag);
/* The same with extra response headers (e.g. the router's x-envoy-overloaded), copied. */
void or_stream_send_local_reply_ex(struct or_stream *s, struct or_http_filter *f, unsigned status,
                                   const char *body, const char *details, uint32_t resp_flag,
                                   const struct or_header *extra, unsigned n_extra);
/* Aborts the stream towards the downstream (after headers were sent). */
void or_stream_reset(struct or_stream *s, const char *details, uint32_t resp_flag);

/* For filter f (the router) holding response body bytes to forward: the downstream connection
 * whose socket may take them directly, bypassing the encode path, when no filter between f and
 * the codec looks at body data and nothing is held or queued in front of them (see the codec's
 * splice_target). Counting them in bytes_sent is the caller's job. NULL: use
 * or_stream_encode_data. May write pending output, and so fail and reset the stream. */
struct or_conn *or_stream_splice_target(struct or_stream *s, struct or_http_filter *f);

/* Back-pressure from the upstream side onto the request body. */
void or_stream_read_disable(struct or_stream *s, bool disable);

uint64_t or_time_us(void);

#endif
