#include "proxy/upstream/wcluster.h"
#include "proxy/core/err.h"
#include "proxy/event/worker.h"
#include "proxy/upstream/cluster.h"
#include "proxy/upstream/pool.h"

#include <stdlib.h>
#include <string.h>

static enum or_lb_policy lb_policy_of(const struct or_cluster *c)
{
    switch (c->lb_policy) {
    case OR_CLUSTER_LB_LEAST_REQUEST:
        return OR_LB_LEAST_REQUEST;
    case OR_CLUSTER_LB_RANDOM:
        return OR_LB_RANDOM;
    case OR_CLUSTER_LB_ROUND_ROBIN:
        break;
    }
    return OR_LB_ROUND_ROBIN;
}

int or_wcluster_init(struct or_wcluster *wc, struct or_worker *w, const struct or_cluster *c,
                     struct or_cluster_load *load)
{
    memset(wc, 0, sizeof(*wc));
    wc->cluster = c;
    wc->load = load;
    wc->worker = w;
    struct or_lb_config cfg;
    or_lb_config_default(&cfg, lb_policy_of(c));
    return or_lb_init(&wc->lb, &cfg, or_worker_rand(w));
}

static bool host_healthy(const struct or_host *h)
{
    return h->health == OR_HOST_HEALTH_UNKNOWN || h->health == OR_HOST_HEALTH_HEALTHY ||
           h->health == OR_HOST_HEALTH_DEGRADED;
}

int or_wcluster_set_hosts(struct or_wcluster *wc, struct or_hostset *hs)
{
    size_t n = hs->n_hosts;
    struct or_whost *hosts = calloc(n ? n : 1, sizeof(*hosts));
    struct or_lb_host_view *views = calloc(n ? n : 1, sizeof(*views));
    if (hosts == NULL || views == NULL) {
        free(hosts);
        free(views);
        or_hostset_unref(hs);
        return OR_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        hosts[i].host = hs->hosts[i];
        struct or_whost *old = or_wcluster_whost(wc, hs->hosts[i]);
        if (old != NULL) {
            /* Same host object: its pool and counters carry over. */
            hosts[i].idle = old->idle;
            hosts[i].n_idle = old->n_idle;
            hosts[i].active_rq = old->active_rq;
            hosts[i].waiters = old->waiters;
            if (hosts[i].waiters != NULL)
                hosts[i].waiters->pprev = &hosts[i].waiters;
            old->idle = NULL;
            old->n_idle = 0;
            old->waiters = NULL;
            old->host = NULL;
        }
        views[i].weight = hs->hosts[i]->weight;
        views[i].active_rq = hosts[i].active_rq;
        views[i].healthy = host_healthy(hs->hosts[i]);
    }
    /* What is left in the old array belongs to removed hosts. */
    struct or_whost *old_hosts = wc->hosts;
    size_t old_n = wc->hs != NULL ? wc->hs->n_hosts : 0;
    struct or_hostset *old_hs = wc->hs;
    wc->hosts = hosts;
    wc->views = NULL;
    wc->hs = hs;
    for (size_t i = 0; i < old_n; i++) {
        if (old_hosts[i].host == NULL)
            continue;
        or_pool_close_idle(&old_hosts[i]);
        while (old_hosts[i].waiters != NULL) {
            struct or_pool_waiter *wt = old_hosts[i].waiters;
            or_pool_cancel_wait(wc, wt);
            wt->ready(wt, NULL);
        }
    }
    free(old_hosts);
    or_hostset_unref(old_hs);
    free(wc->views);
    wc->views = views;
    return or_lb_refresh(&wc->lb, views, (uint32_t)n);
}

void or_wcluster_deinit(struct or_wcluster *wc)
{
    size_t n = wc->hs != NULL ? wc->hs->n_hosts : 0;
    for (size_t i = 0; i < n; i++)
        or_pool_close_idle(&wc->hosts[i]);
    free(wc->hosts);
    free(wc->views);
    or_hostset_unref(wc->hs);
    wc->hs = NULL;
    or_lb_deinit(&wc->lb);
}

int or_wcluster_choose(struct or_wcluster *wc)
{
    if (wc->hs == NULL || wc->hs->n_hosts == 0)
        return -1;
    uint32_t n = (uint32_t)wc->hs->n_hosts;
    for (uint32_t i = 0; i < n; i++)
        wc->views[i].active_rq = wc->hosts[i].active_rq;
    return or_lb_choose(&wc->lb, wc->views, n, or_rand_cb, &wc->worker->rand_state);
}

struct or_whost *or_wcluster_whost(struct or_wcluster *wc, const struct or_host *h)
{
    size_t n = wc->hs != NULL ? wc->hs->n_hosts : 0;
    for (size_t i = 0; i < n; i++)
        if (wc->hosts[i].host == h)
            return &wc->hosts[i];
    return NULL;
}

int or_cluster_load_init(struct or_cluster_load *l, uint32_t n_slots)
{
    l->slots = calloc(n_slots ? n_slots : 1, sizeof(*l->slots));
    if (l->slots == NULL)
        return OR_ENOMEM;
    l->n_slots = n_slots ? n_slots : 1;
    return 0;
}

void or_cluster_load_deinit(struct or_cluster_load *l)
{
    free(l->slots);
    l->slots = NULL;
    l->n_slots = 0;
}
