#include "proxy/upstream/lb.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/core/err.h"

/* Envoy's kDefaultOverProvisioningFactor, in percent. */
#define OVERPROVISIONING 140u

void or_lb_config_default(struct or_lb_config *c, enum or_lb_policy policy)
{
    memset(c, 0, sizeof(*c));
    c->policy = policy;
    c->choice_count = 2;
    c->active_request_bias = 1.0;
    c->healthy_panic_threshold = 50;
}

int or_lb_init(struct or_lb *lb, const struct or_lb_config *cfg, uint64_t seed)
{
    memset(lb, 0, sizeof(*lb));
    if (cfg->policy != OR_LB_ROUND_ROBIN && cfg->policy != OR_LB_LEAST_REQUEST &&
        cfg->policy != OR_LB_RANDOM)
        return OR_EINVAL;
    lb->cfg = *cfg;
    if (lb->cfg.choice_count == 0)
        lb->cfg.choice_count = 2;
    if (!(lb->cfg.active_request_bias >= 0.0)) /* negative or NaN */
        lb->cfg.active_request_bias = 1.0;
    if (lb->cfg.healthy_panic_threshold > 100)
        lb->cfg.healthy_panic_threshold = 100;
    lb->seed = seed;
    /* Envoy inserts the RR index once per host source, starting at seed_. */
    lb->rr_index[0] = seed;
    lb->rr_index[1] = seed;
    return 0;
}

void or_lb_deinit(struct or_lb *lb)
{
    free(lb->src);
    free(lb->edf);
    lb->src = NULL;
    lb->edf = NULL;
    lb->n_src = lb->cap_src = 0;
    lb->built = false;
}

bool or_lb_in_panic(const struct or_lb *lb)
{
    return lb->panic;
}

static uint32_t host_weight(const struct or_lb_host_view *h)
{
    return h->weight ? h->weight : 1;
}

/* The weight a host carries in the EDF schedule. */
static double edf_weight(const struct or_lb *lb, const struct or_lb_host_view *h)
{
    double w = (double)host_weight(h);
    if (lb->cfg.policy != OR_LB_LEAST_REQUEST)
        return w;
    double bias = lb->cfg.active_request_bias;
    double active = (double)h->active_rq + 1.0;
    if (bias == 1.0)
        return w / active;
    if (bias != 0.0)
        return w / pow(active, bias);
    return w;
}

static bool edf_less(const struct or_lb_edf_entry *a, const struct or_lb_edf_entry *b)
{
    if (a->deadline != b->deadline)
        return a->deadline < b->deadline;
    return a->order < b->order;
}

static void edf_sift_up(struct or_lb_edf_entry *heap, uint32_t i)
{
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!edf_less(&heap[i], &heap[parent]))
            break;
        struct or_lb_edf_entry t = heap[i];
        heap[i] = heap[parent];
        heap[parent] = t;
        i = parent;
    }
}

static void edf_sift_down(struct or_lb_edf_entry *heap, uint32_t n, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && edf_less(&heap[l], &heap[m]))
            m = l;
        if (r < n && edf_less(&heap[r], &heap[m]))
            m = r;
        if (m == i)
            return;
        struct or_lb_edf_entry t = heap[i];
        heap[i] = heap[m];
        heap[m] = t;
        i = m;
    }
}

/* Envoy's EdfScheduler::pickAndAdd: the earliest deadline wins, time advances to it, and the host
 * re-enters one period (1/weight, weight recomputed now) later. The heap size never changes, so
 * the root is replaced in place. */
static uint32_t edf_pick_and_add(struct or_lb *lb, const struct or_lb_host_view *hosts)
{
    struct or_lb_edf_entry *top = &lb->edf[0];
    uint32_t host = top->host;
    lb->edf_time = top->deadline;
    top->deadline = lb->edf_time + 1.0 / edf_weight(lb, &hosts[host]);
    top->order = lb->edf_order++;
    edf_sift_down(lb->edf, lb->n_src, 0);
    return host;
}

static bool in_panic(const struct or_lb *lb, uint32_t healthy, uint32_t total)
{
    uint32_t threshold = lb->cfg.healthy_panic_threshold;
    uint64_t availability = total ? (uint64_t)OVERPROVISIONING * healthy / total : 0;
    if (availability > 100)
        availability = 100;
    if (availability == 0 && threshold == 0)
        return false;
    if (availability == 100)
        return false;
    double healthy_percent = total ? 100.0 * healthy / total : 0.0;
    return healthy_percent < (double)threshold;
}

int or_lb_refresh(struct or_lb *lb, const struct or_lb_host_view *hosts, uint32_t n)
{
    if (n > lb->cap_src) {
        uint32_t *src = malloc(sizeof(*src) * n);
        struct or_lb_edf_entry *edf = malloc(sizeof(*edf) * n);
        if (src == NULL || edf == NULL) {
            free(src);
            free(edf);
            return OR_ENOMEM;
        }
        free(lb->src);
        free(lb->edf);
        lb->src = src;
        lb->edf = edf;
        lb->cap_src = n;
    }
    uint32_t healthy = 0;
    for (uint32_t i = 0; i < n; i++)
        if (hosts[i].healthy)
            healthy++;
    lb->panic = in_panic(lb, healthy, n);
    lb->source = lb->panic ? 1 : 0;
    lb->n_src = 0;
    for (uint32_t i = 0; i < n; i++)
        if (lb->panic || hosts[i].healthy)
            lb->src[lb->n_src++] = i;
    lb->n_hosts = n;
    lb->built = true;

    /* Equal weights: no schedule, the unweighted picks are exact and cheaper (Envoy skips EDF
     * creation too). */
    lb->edf_on = false;
    for (uint32_t i = 1; i < lb->n_src; i++)
        if (host_weight(&hosts[lb->src[i]]) != host_weight(&hosts[lb->src[0]])) {
            lb->edf_on = true;
            break;
        }
    if (!lb->edf_on || lb->cfg.policy == OR_LB_RANDOM)
        return 0;

    lb->edf_time = 0.0;
    lb->edf_order = 0;
    for (uint32_t i = 0; i < lb->n_src; i++) {
        struct or_lb_edf_entry *e = &lb->edf[i];
        e->host = lb->src[i];
        e->deadline = 1.0 / edf_weight(lb, &hosts[e->host]);
        e->order = lb->edf_order++;
        edf_sift_up(lb->edf, i);
    }
    /* Offset each worker's schedule by seed % n picks, as Envoy does on every refresh. */
    uint64_t skip = lb->seed % lb->n_src;
    for (uint64_t i = 0; i < skip; i++)
        edf_pick_and_add(lb, hosts);
    return 0;
}

static uint32_t p2c_pick(struct or_lb *lb, const struct or_lb_host_view *hosts, or_lb_rand_cb rnd,
                         void *rctx)
{
    uint32_t best = lb->src[rnd(rctx) % lb->n_src];
    for (uint32_t c = 1; c < lb->cfg.choice_count; c++) {
        uint32_t cand = lb->src[rnd(rctx) % lb->n_src];
        if (hosts[cand].active_rq < hosts[best].active_rq)
            best = cand;
    }
    return best;
}

int or_lb_choose(struct or_lb *lb, const struct or_lb_host_view *hosts, uint32_t n,
                 or_lb_rand_cb rnd, void *rctx)
{
    if (!lb->built || n != lb->n_hosts) {
        int rc = or_lb_refresh(lb, hosts, n);
        if (rc != 0)
            return rc;
    }
    if (lb->n_src == 0)
        return OR_ENOTFOUND;
    switch (lb->cfg.policy) {
    case OR_LB_ROUND_ROBIN:
        if (lb->edf_on)
            return (int)edf_pick_and_add(lb, hosts);
        return (int)lb->src[lb->rr_index[lb->source]++ % lb->n_src];
    case OR_LB_LEAST_REQUEST:
        if (lb->edf_on)
            return (int)edf_pick_and_add(lb, hosts);
        return (int)p2c_pick(lb, hosts, rnd, rctx);
    case OR_LB_RANDOM:
        return (int)lb->src[rnd(rctx) % lb->n_src];
    }
    return OR_EINVAL;
}
