/* HTTP/1 upstream connection pools, per worker × cluster × host: idle keep-alive connections are
 * reused LIFO; new ones are opened while the cluster's max_connections allows; beyond that requests
 * wait (max_pending_requests) for a connection to be released. */
#ifndef OR_UPSTREAM_POOL_H
#define OR_UPSTREAM_POOL_H

#include <stdbool.h>

#include "proxy/net/conn.h"
#include "proxy/upstream/wcluster.h"

struct or_uconn {
    struct or_conn *conn;   /* owned; closed with the uconn */
    struct or_wcluster *wc; /* borrowed: the worker's cluster view */
    struct or_host *host;   /* ref: kept while the connection lives, across host set updates */
    struct or_uconn *next;  /* idle list link */
    bool connected;         /* the TCP connect completed */
    bool idle;              /* in the host's idle list */
    uint32_t requests;      /* requests served */
};

enum or_pool_result {
    OR_POOL_READY = 0,      /* *out is an idle, connected connection */
    OR_POOL_CONNECTING = 1, /* *out is connecting: CONNECTED/CONNECT_FAIL/TIMEOUT come to h */
    OR_POOL_QUEUED = 2,     /* wt->ready fires later */
    OR_POOL_OVERFLOW = -1,  /* max_pending_requests reached */
    OR_POOL_FAILED = -2,    /* could not even start a connection */
};

/* Gets a connection to host index `hi` of wc for one request; h/ctx receive its events. */
enum or_pool_result or_pool_acquire(struct or_wcluster *wc, int hi, const struct or_conn_handler *h,
                                    void *ctx, struct or_pool_waiter *wt, struct or_uconn **out);
/* Gives a waiter's connection its new owner (call from wt->ready). */
void or_pool_adopt(struct or_uconn *uc, const struct or_conn_handler *h, void *ctx);
/* Stops waiting (the request went away). */
void or_pool_cancel_wait(struct or_wcluster *wc, struct or_pool_waiter *wt);
/* Ends one request's use: reusable → idle list (or straight to a waiter), else closed. */
void or_pool_release(struct or_uconn *uc, bool reusable);
/* Closes every idle connection of a host (host removed). */
void or_pool_close_idle(struct or_whost *wh);

#endif
