/* A TCP connection owned by one worker: fd, read/write events, input and output evbuffers, and the
 * handler (HTTP connection manager, upstream client) that consumes its events. Plain sockets only
 * for now; the transport vtable for TLS comes with its own issue. */
#ifndef OR_NET_CONN_H
#define OR_NET_CONN_H

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "proxy/event/worker.h"

struct evbuffer;
struct or_conn;

/* An IPv4 or IPv6 socket address in 28 bytes instead of sockaddr_storage's 128: connections keep
 * two, and idle connections are counted by the ten thousand. */
union or_inet_addr {
    struct sockaddr sa;
    struct sockaddr_in in4;
    struct sockaddr_in6 in6;
};

enum or_conn_event {
    OR_CONN_EV_EOF = 1,      /* peer closed its write side; bytes already read stay in `in` */
    OR_CONN_EV_ERROR,        /* reset or socket error: the connection is gone */
    OR_CONN_EV_CONNECTED,    /* outbound connect completed */
    OR_CONN_EV_CONNECT_FAIL, /* outbound connect refused/failed */
    OR_CONN_EV_CONNECT_TIMEOUT,
};

/* Callbacks into the owner of the connection. Each may close the connection (the struct stays valid
 * until the end of the loop turn). */
struct or_conn_handler {
    void (*on_read)(struct or_conn *c, void *ctx);    /* new bytes in c->in */
    void (*on_drained)(struct or_conn *c, void *ctx); /* c->out fell to the low watermark */
    void (*on_event)(struct or_conn *c, void *ctx, enum or_conn_event ev);
    /* Optional: runs instead of the read into c->in while OR_CONN_F_RAW is set (the owner moves
     * the bytes itself, e.g. splice(2)); the owner reports EOF and errors with or_conn_raw_end. */
    void (*on_raw_read)(struct or_conn *c, void *ctx);
};

enum {
    OR_CONN_F_READ_DISABLED = 1 << 0,     /* owner asked for no reads (back-pressure) */
    OR_CONN_F_CONNECTING = 1 << 1,        /* outbound connect in progress */
    OR_CONN_F_CLOSED = 1 << 2,            /* fd closed, waiting for deferred free */
    OR_CONN_F_EOF = 1 << 3,               /* read side saw EOF */
    OR_CONN_F_CLOSE_AFTER_FLUSH = 1 << 4, /* close once `out` is written */
    OR_CONN_F_WRITE_ARMED = 1 << 5,       /* write event pending */
    OR_CONN_F_LINGER = 1 << 6,            /* write side shut, discarding input until EOF or timer */
    OR_CONN_F_ABOVE_HIGH = 1 << 7,  /* out passed the high watermark; on_drained fires below low */
    OR_CONN_F_NO_LINGER = 1 << 8,   /* close after flush without the lingering read */
    OR_CONN_F_LOCAL_KNOWN = 1 << 9, /* `local` holds the socket's address */
    OR_CONN_F_RAW = 1 << 10,        /* readiness goes to h->on_raw_read, nothing is read */
};

/* An idle connection holds the read event, the addresses and counters, nothing else: buffers,
 * the write event and the timer come from per-worker caches while bytes move and go back when
 * the connection falls quiet (issue 4: 10,000 idle keep-alive connections). */
struct or_conn {
    int fd;
    uint32_t flags;           /* OR_CONN_F_* */
    struct or_worker *worker; /* borrowed: the thread that owns this connection */
    struct event rev;         /* read readiness: the one event an idle connection keeps */
    struct event *wev;        /* owned (worker cache) while a write or a connect waits */
    struct event *timer;      /* owned (worker cache) while needed: connect timeout, linger */
    struct or_list link;      /* in worker->conns until freed */
    /* Owned, NULL while empty (worker cache). Bytes are there when on_read runs; elsewhere use
     * or_conn_in_len(). Write through or_conn_out(), which supplies a buffer. */
    struct evbuffer *in;
    struct evbuffer *out;
    const struct or_conn_handler *h; /* borrowed: static vtable of the owner */
    void *ctx;                       /* borrowed: the owner */
    uint32_t high_wm; /* out above this: owner should stop producing; on_drained at half */
    int sock_err;     /* errno of a failed connect */
    uint64_t rx_bytes, tx_bytes; /* totals for stats and access logs */
    union or_inet_addr peer;     /* remote address (IPv4/IPv6; a Unix peer is not kept) */
    union or_inet_addr local;    /* local address: use or_conn_local_addr() */
    /* A closed connection is never flushed: the queued write and the deferred free share storage
     * (or_conn_close cancels the one before it uses the other). */
    union {
        struct or_turn_end flush;    /* queued write (or_conn_flush_soon) */
        struct or_deferred deferred; /* storage for the deferred free */
    };
};

/* Wraps an accepted, non-blocking fd. Reads start at once. NULL on OOM (fd left open). */
struct or_conn *or_conn_new_accepted(struct or_worker *w, int fd, const struct sockaddr *peer,
                                     socklen_t peerlen, const struct or_conn_handler *h, void *ctx);
/* Starts a non-blocking connect; OR_CONN_EV_CONNECTED / _CONNECT_FAIL / _CONNECT_TIMEOUT follow.
 * NULL on immediate failure. */
struct or_conn *or_conn_connect(struct or_worker *w, const struct sockaddr *addr, socklen_t len,
                                uint32_t timeout_ms, const struct or_conn_handler *h, void *ctx);
/* Bytes waiting in c->in (0 when the connection holds no input buffer). */
static inline size_t or_conn_in_len(const struct or_conn *c)
{
    return c->in != NULL ? evbuffer_get_length(c->in) : 0;
}
/* c->out, taken from the worker's cache when the connection holds none. NULL on OOM. */
struct evbuffer *or_conn_out(struct or_conn *c);
/* Changes the owner (pool hand-over). */
void or_conn_set_handler(struct or_conn *c, const struct or_conn_handler *h, void *ctx);
/* Sets the buffer limit: high watermark = limit, low = limit / 2 (Envoy's watermark scheme). */
void or_conn_set_buffer_limit(struct or_conn *c, uint32_t limit);
/* Writes c->out at the end of this loop turn (one writev for everything queued in the turn). A
 * connection closed before then writes nothing more. */
void or_conn_flush_soon(struct or_conn *c);
/* Writes c->out now as far as the socket takes it, arming the write event for the rest. */
void or_conn_flush(struct or_conn *c);
bool or_conn_above_high_watermark(const struct or_conn *c);
/* Stops or restarts reading (back-pressure towards the peer). */
void or_conn_read_disable(struct or_conn *c, bool disable);
/* Closes now: events removed, fd closed, struct freed at the end of the loop turn. Pending output
 * is dropped. */
void or_conn_close(struct or_conn *c);
/* The socket failed (a write to it did: EPIPE, ECONNRESET): closes it and tells the owner
 * OR_CONN_EV_ERROR, as a failed flush does. */
void or_conn_fail(struct or_conn *c);
/* Closes every connection of the worker still open — owned or lingering — without calling their
 * owners: for shutdown, once the owners are gone. Worker thread; frees at the end of the turn. */
void or_conn_close_all(struct or_worker *w);
/* Closes once c->out is written, then shuts the write side and discards input until the peer closes
 * or a short timer fires, so the peer reads our last response before any reset. */
void or_conn_close_after_flush(struct or_conn *c);
/* Closes once c->out is written, without lingering: for an exchange that ended cleanly (the
 * peer sent its whole request and asked to close), where nothing more is expected from it. */
void or_conn_close_after_flush_nolinger(struct or_conn *c);
/* Our side's address (looked up on first use: most connections never need it). */
const struct sockaddr *or_conn_local_addr(struct or_conn *c);
/* Closes with a TCP RST (SO_LINGER 0): used when a response cannot be completed. */
void or_conn_reset(struct or_conn *c);
/* Hands read readiness to h->on_raw_read (on) or back to the normal read into c->in (off). */
void or_conn_set_raw(struct or_conn *c, bool on);
/* The owner in raw mode saw EOF (error false) or a socket error (true) on c: the read side is done
 * and h->on_event follows, as if the normal read had seen it. */
void or_conn_raw_end(struct or_conn *c, bool error);
/* Calls cb(fd, EV_WRITE, arg) once when c's socket is writable, with c's write event (worker
 * cache). Only while c->out is empty and nothing else writes to c: the owner writes itself. 0 or
 * OR_ENOMEM. */
int or_conn_wait_writable(struct or_conn *c, event_callback_fn cb, void *arg);
/* Cancels or_conn_wait_writable; the write event goes back to the worker. */
void or_conn_wait_writable_cancel(struct or_conn *c);
/* "ip:port" of an address into buf. */
void or_sockaddr_str(const struct sockaddr *sa, char *buf, size_t len);

#endif
