#include "proxy/upstream/pool.h"
#include "proxy/core/log.h"
#include "proxy/event/worker.h"
#include "proxy/stats/blocks.h"
#include "proxy/upstream/cluster.h"

#include <event2/buffer.h>
#include <stdlib.h>

static void idle_on_read(struct or_conn *c, void *ctx);
static void idle_on_event(struct or_conn *c, void *ctx, enum or_conn_event ev);
static const struct or_conn_handler idle_handler = {
    .on_read = idle_on_read, .on_drained = NULL, .on_event = idle_on_event};

static void uconn_destroy(struct or_uconn *uc)
{
    const struct or_cluster_stats *cs = uc->wc->stats;
    if (cs != NULL) {
        struct or_stats_shard *sh = uc->wc->sh;
        or_gauge_dec(sh, cs->upstream_cx_active);
        or_counter_inc(sh, cs->upstream_cx_destroy);
        or_counter_add(sh, cs->upstream_cx_rx_bytes_total, uc->conn->rx_bytes);
        or_counter_add(sh, cs->upstream_cx_tx_bytes_total, uc->conn->tx_bytes);
    }
    or_load_add(uc->wc->load, uc->wc->worker->id, OR_LOAD_CX, -1);
    struct or_host_counters *hc = or_host_counters_of(uc->host, uc->wc->worker->id);
    if (hc != NULL)
        or_host_count(&hc->cx_active, -1);
    or_conn_close(uc->conn);
    or_host_unref(uc->host);
    free(uc);
}

static void idle_remove(struct or_whost *wh, struct or_uconn *uc)
{
    struct or_uconn **pp = &wh->idle;
    while (*pp != NULL && *pp != uc)
        pp = &(*pp)->next;
    if (*pp == uc) {
        *pp = uc->next;
        wh->n_idle--;
    }
    uc->idle = false;
    uc->next = NULL;
}

/* An idle connection that speaks or closes is done: HTTP/1 servers send nothing unasked. */
static void idle_drop(struct or_uconn *uc)
{
    struct or_whost *wh = or_wcluster_whost(uc->wc, uc->host);
    if (wh != NULL)
        idle_remove(wh, uc);
    uconn_destroy(uc);
}

static void idle_on_read(struct or_conn *c, void *ctx)
{
    idle_drop(ctx);
}

static void idle_on_event(struct or_conn *c, void *ctx, enum or_conn_event ev)
{
    idle_drop(ctx);
}

static struct or_uconn *uconn_connect(struct or_wcluster *wc, struct or_host *host,
                                      const struct or_conn_handler *h, void *ctx)
{
    struct or_uconn *uc = calloc(1, sizeof(*uc));
    if (uc == NULL)
        return NULL;
    uc->wc = wc;
    uc->host = or_host_ref(host);
    uc->conn = or_conn_connect(wc->worker, (struct sockaddr *)&host->addr, host->addrlen,
                               wc->cluster->connect_timeout_ms, h, ctx);
    if (uc->conn == NULL) {
        or_host_unref(uc->host);
        free(uc);
        return NULL;
    }
    or_conn_set_buffer_limit(uc->conn, wc->cluster->per_connection_buffer_limit_bytes);
    or_load_add(wc->load, wc->worker->id, OR_LOAD_CX, 1);
    struct or_host_counters *hc = or_host_counters_of(host, wc->worker->id);
    if (hc != NULL) {
        or_host_count(&hc->cx_total, 1);
        or_host_count(&hc->cx_active, 1);
    }
    if (wc->stats != NULL) {
        or_counter_inc(wc->sh, wc->stats->upstream_cx_total);
        or_counter_inc(wc->sh, wc->stats->upstream_cx_http1_total);
        or_gauge_inc(wc->sh, wc->stats->upstream_cx_active);
    }
    return uc;
}

enum or_pool_result or_pool_acquire(struct or_wcluster *wc, int hi, const struct or_conn_handler *h,
                                    void *ctx, struct or_pool_waiter *wt, struct or_uconn **out)
{
    struct or_whost *wh = &wc->hosts[hi];
    if (wh->idle != NULL) {
        struct or_uconn *uc = wh->idle;
        idle_remove(wh, uc);
        or_conn_set_handler(uc->conn, h, ctx);
        *out = uc;
        return OR_POOL_READY;
    }
    const struct or_cluster *c = wc->cluster;
    long cx = or_load_sum(wc->load, OR_LOAD_CX);
    if ((uint64_t)cx < c->thresholds[OR_CLUSTER_PRIORITY_DEFAULT].max_connections) {
        struct or_uconn *uc = uconn_connect(wc, wh->host, h, ctx);
        if (uc == NULL)
            return OR_POOL_FAILED;
        *out = uc;
        return OR_POOL_CONNECTING;
    }
    long pending = or_load_sum(wc->load, OR_LOAD_PENDING);
    if ((uint64_t)pending >= c->thresholds[OR_CLUSTER_PRIORITY_DEFAULT].max_pending_requests)
        return OR_POOL_OVERFLOW;
    or_load_add(wc->load, wc->worker->id, OR_LOAD_PENDING, 1);
    wt->next = wh->waiters;
    if (wh->waiters != NULL)
        wh->waiters->pprev = &wt->next;
    wt->pprev = &wh->waiters;
    wh->waiters = wt;
    wc->n_waiters++;
    return OR_POOL_QUEUED;
}

void or_pool_adopt(struct or_uconn *uc, const struct or_conn_handler *h, void *ctx)
{
    or_conn_set_handler(uc->conn, h, ctx);
}

static void waiter_unlink(struct or_wcluster *wc, struct or_pool_waiter *wt)
{
    *wt->pprev = wt->next;
    if (wt->next != NULL)
        wt->next->pprev = wt->pprev;
    wt->next = NULL;
    wt->pprev = NULL;
    wc->n_waiters--;
    or_load_add(wc->load, wc->worker->id, OR_LOAD_PENDING, -1);
}

void or_pool_cancel_wait(struct or_wcluster *wc, struct or_pool_waiter *wt)
{
    if (wt->pprev != NULL)
        waiter_unlink(wc, wt);
}

static struct or_pool_waiter *last_waiter(struct or_whost *wh)
{
    struct or_pool_waiter *wt = wh->waiters;
    while (wt != NULL && wt->next != NULL)
        wt = wt->next;
    return wt;
}

void or_pool_release(struct or_uconn *uc, bool reusable)
{
    struct or_wcluster *wc = uc->wc;
    struct or_whost *wh = or_wcluster_whost(wc, uc->host);
    uc->requests++;
    if (!uc->connected || (uc->conn->flags & (OR_CONN_F_CLOSED | OR_CONN_F_EOF)) ||
        or_conn_in_len(uc->conn) > 0)
        reusable = false;
    if (wh == NULL)
        reusable = false; /* the host left the cluster */
    if (!reusable) {
        struct or_host *host = or_host_ref(uc->host);
        uconn_destroy(uc);
        /* A slot opened: the oldest waiter of this host gets a fresh connection. */
        if (wh != NULL && wh->waiters != NULL) {
            struct or_pool_waiter *wt = last_waiter(wh);
            waiter_unlink(wc, wt);
            struct or_uconn *nc = uconn_connect(wc, host, &idle_handler, NULL);
            wt->ready(wt, nc);
        }
        or_host_unref(host);
        return;
    }
    if (wh->waiters != NULL) {
        struct or_pool_waiter *wt = last_waiter(wh);
        waiter_unlink(wc, wt);
        wt->ready(wt, uc);
        return;
    }
    or_conn_set_handler(uc->conn, &idle_handler, uc);
    or_conn_read_disable(uc->conn, false);
    uc->idle = true;
    uc->next = wh->idle;
    wh->idle = uc;
    wh->n_idle++;
}

void or_pool_close_idle(struct or_whost *wh)
{
    while (wh->idle != NULL) {
        struct or_uconn *uc = wh->idle;
        idle_remove(wh, uc);
        uconn_destroy(uc);
    }
}
