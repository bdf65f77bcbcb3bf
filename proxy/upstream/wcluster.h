/* A worker's view of one cluster: its current host set, load balancer state and HTTP/1 connection
 * pools per host. Only the owning worker touches it; the main thread publishes new host sets
 * through the worker's mailbox. Circuit-breaker counts are cluster-wide (shared with the other
 * workers, as Envoy's resource manager), so they are atomics touched when a request or connection
 * starts/ends. */
#ifndef OR_UPSTREAM_WCLUSTER_H
#define OR_UPSTREAM_WCLUSTER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "proxy/upstream/host.h"
#include "proxy/upstream/lb.h"

struct or_cluster;
struct or_uconn;
struct or_worker;
struct or_cluster_stats;
struct or_stats_shard;

/* Cluster-wide counts behind the circuit breakers, kept as one single-writer slot per worker: a
 * worker changes only its own slot (a relaxed load and store, no read-modify-write) and a limit
 * check sums the slots with relaxed loads. Two workers can both pass a check at limit - 1, as two
 * Envoy workers can between its canCreate() and inc(); the limit holds within (workers - 1). */
enum or_load_kind {
    OR_LOAD_CX = 0,  /* open upstream connections */
    OR_LOAD_RQ,      /* requests in flight */
    OR_LOAD_PENDING, /* requests waiting for a connection */
    OR_LOAD_KINDS,
};

struct or_load_slot {
    _Atomic long v[OR_LOAD_KINDS];
    char pad[64 - OR_LOAD_KINDS * sizeof(long)]; /* one cache line per worker */
};

struct or_cluster_load {
    struct or_load_slot *slots; /* owned: one per worker (+1 spare for the main thread) */
    uint32_t n_slots;
};

int or_cluster_load_init(struct or_cluster_load *l, uint32_t n_slots);
void or_cluster_load_deinit(struct or_cluster_load *l);

static inline void or_load_add(struct or_cluster_load *l, uint32_t worker, enum or_load_kind k,
                               long d)
{
    _Atomic long *p = &l->slots[worker].v[k];
    atomic_store_explicit(p, atomic_load_explicit(p, memory_order_relaxed) + d,
                          memory_order_relaxed);
}

static inline long or_load_sum(const struct or_cluster_load *l, enum or_load_kind k)
{
    long n = 0;
    for (uint32_t i = 0; i < l->n_slots; i++)
        n += atomic_load_explicit(&l->slots[i].v[k], memory_order_relaxed);
    return n;
}

/* Someone waiting for a connection to a host (circuit breaker max_connections reached). */
struct or_pool_waiter {
    void (*ready)(struct or_pool_waiter *wt, struct or_uconn *uc); /* uc NULL: the wait failed */
    struct or_pool_waiter *next; /* list link (owned by the waiter itself) */
    struct or_pool_waiter **pprev;
};

struct or_whost {
    struct or_host *host;  /* borrowed through the current host set */
    struct or_uconn *idle; /* owned list of idle keep-alive connections */
    uint32_t n_idle;
    uint32_t active_rq;             /* requests in flight on this worker (least-request) */
    struct or_pool_waiter *waiters; /* FIFO-ish list of waiters for this host */
};

struct or_wcluster {
    const struct or_cluster *cluster;     /* borrowed from the snapshot */
    struct or_cluster_load *load;         /* borrowed from the snapshot */
    struct or_worker *worker;             /* borrowed */
    const struct or_cluster_stats *stats; /* borrowed from the snapshot (NULL in tests) */
    struct or_stats_shard *sh;            /* borrowed: the worker's stats shard */
    struct or_hostset *hs;                /* ref: current host set, NULL until the first one */
    struct or_whost *hosts;               /* owned, hs->n_hosts entries parallel to hs->hosts */
    struct or_lb_host_view *views;        /* owned, parallel too */
    struct or_lb lb;
    uint32_t n_waiters; /* pending requests on this worker */
};

int or_wcluster_init(struct or_wcluster *wc, struct or_worker *w, const struct or_cluster *c,
                     struct or_cluster_load *load);
/* Replaces the host set (takes over the caller's reference). Pools of hosts that remain are kept;
 * idle connections to removed hosts are closed. */
int or_wcluster_set_hosts(struct or_wcluster *wc, struct or_hostset *hs);
void or_wcluster_deinit(struct or_wcluster *wc);
/* Picks a host with the cluster's load balancer; -1 when there is none. */
int or_wcluster_choose(struct or_wcluster *wc);
struct or_whost *or_wcluster_whost(struct or_wcluster *wc, const struct or_host *h);

#endif
