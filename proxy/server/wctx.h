/* The proxy's state on one worker: the configuration snapshot it serves, its view of every cluster
 * (host sets, load balancers, connection pools), its live connections and drain flags. Touched only
 * by its own thread, except at start-up and shutdown when no loop runs, and `active_streams`, which
 * the main thread reads while draining. */
#ifndef OR_SERVER_WCTX_H
#define OR_SERVER_WCTX_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "proxy/core/list.h"
#include "proxy/event/worker.h"
#include "proxy/net/listener.h"
#include "proxy/net/splice.h"
#include "proxy/upstream/wcluster.h"

struct or_snapshot;
struct or_stream;
struct or_hcm_parser_slot;
struct or_stats_shard;

struct or_wctx {
    struct or_worker *w;          /* borrowed */
    struct or_snapshot *snap;     /* borrowed: the server keeps it alive while workers run */
    struct or_wcluster *clusters; /* owned, one per snapshot cluster */
    uint32_t n_clusters;
    struct or_list dconns;     /* live downstream connections (for shutdown and drain) */
    bool *draining;            /* owned, per snapshot listener: answer with Connection: close */
    struct or_stats_shard *sh; /* borrowed: this worker's stats shard */
    _Atomic uint64_t active_streams; /* written by this worker only (load+store), read by main */
    struct or_stream *free_streams;  /* owned free list (or_stream.next_free) */
    uint32_t n_free_streams;
    struct or_hcm_parser_slot *free_parsers; /* owned free list of HTTP/1 parsers */
    uint32_t n_free_parsers;
    bool shutting_down;        /* free streams for real instead of recycling them */
    struct or_pipe_pool pipes; /* splice(2) pipes of the router's zero-copy bodies */
};

/* Single-writer counter update: a plain load and store, no read-modify-write on the data path. */
static inline void or_wctx_streams_add(struct or_wctx *wc, int64_t d)
{
    uint64_t v = atomic_load_explicit(&wc->active_streams, memory_order_relaxed);
    atomic_store_explicit(&wc->active_streams, v + (uint64_t)d, memory_order_relaxed);
}

#endif
