/* Load-balancing algorithms over a host array, with Envoy's semantics. Pure: no locks, no I/O,
 * no clock. One `struct or_lb` per worker per cluster (Envoy keeps one LB per worker too), so
 * the round-robin index and the EDF schedule are plain memory.
 *
 * Envoy behaviour reproduced:
 *  - Host source: healthy hosts, or every host when the cluster is in panic (healthy percentage
 *    below `healthy_panic_threshold`, default 50%, with Envoy's 1.4 overprovisioning shortcut:
 *    no panic when healthy * 1.4 >= total). Threshold 0 with no healthy host: no host.
 *  - ROUND_ROBIN: equal weights -> plain rotation starting at a per-LB random offset (seed);
 *    different weights -> earliest-deadline-first schedule (deadline += 1/weight, ties by
 *    insertion order), pre-advanced by seed % n picks so workers do not pick in lock-step.
 *  - LEAST_REQUEST: equal weights -> choice_count (default 2) random draws with replacement,
 *    keep the one with strictly fewer active requests (first draw wins ties); different
 *    weights -> EDF where a host re-enters with weight / (active_rq + 1)^active_request_bias
 *    (bias default 1.0) each time it is picked.
 *  - RANDOM: uniform over the source, weights ignored (as Envoy).
 * Hosts' `weight` and `healthy` are read at or_lb_refresh() (Envoy rebuilds on host set
 * change); `active_rq` is read at every or_lb_choose(). */
#ifndef OR_UPSTREAM_LB_H
#define OR_UPSTREAM_LB_H

#include <stdbool.h>
#include <stdint.h>

enum or_lb_policy {
    OR_LB_ROUND_ROBIN = 0,
    OR_LB_LEAST_REQUEST,
    OR_LB_RANDOM,
};

/* What the LB needs to know about one host. */
struct or_lb_host_view {
    uint32_t weight;    /* load_balancing_weight (0 is treated as 1) */
    uint32_t active_rq; /* requests in flight on the host */
    int healthy;        /* non-zero: eligible outside panic mode */
};

struct or_lb_config {
    enum or_lb_policy policy;
    uint32_t choice_count;            /* LEAST_REQUEST draws; 0 = Envoy default 2 */
    double active_request_bias;       /* LEAST_REQUEST weighted; <0 or NaN = 1.0 (Envoy clamps) */
    uint32_t healthy_panic_threshold; /* percent (clamped to 100); Envoy default 50 */
};

/* One entry of the EDF schedule. */
struct or_lb_edf_entry {
    double deadline;
    uint64_t order; /* insertion order: breaks deadline ties */
    uint32_t host;  /* index into the caller's host array */
};

typedef uint64_t (*or_lb_rand_cb)(void *ctx);

struct or_lb {
    struct or_lb_config cfg;
    uint64_t seed;               /* per-LB random value, Envoy's seed_ */
    uint64_t rr_index[2];        /* per host source (healthy, all); kept across refreshes */
    uint32_t n_hosts;            /* size of the host array the source was built from */
    uint32_t *src;               /* owned: indexes of the hosts in the current source */
    uint32_t n_src;              /* entries in src */
    uint32_t cap_src;            /* allocated entries in src and edf */
    int source;                  /* 0: healthy hosts, 1: all hosts */
    bool panic;                  /* source is "all hosts" because of the panic threshold */
    bool built;                  /* or_lb_refresh() has run */
    struct or_lb_edf_entry *edf; /* owned: min-heap of n_src entries; used when edf_on */
    bool edf_on;                 /* weights in the source differ */
    double edf_time;             /* deadline of the last pick */
    uint64_t edf_order;          /* next insertion order */
};

/** Fills `c` with Envoy's defaults for `policy`. */
void or_lb_config_default(struct or_lb_config *c, enum or_lb_policy policy);

/**
 * Prepares an LB. `seed` should be a random value per worker (Envoy draws one per LB).
 * No host set yet: call or_lb_refresh() (or just or_lb_choose(), which builds on first use).
 * @return 0 or OR_EINVAL (unknown policy).
 */
int or_lb_init(struct or_lb *lb, const struct or_lb_config *cfg, uint64_t seed);

/**
 * Rebuilds the host source (health, panic, weights, EDF schedule) from `hosts`. Call whenever
 * the host set, a host's health or a weight changes.
 * @return 0 or OR_ENOMEM (the LB then keeps its previous schedule).
 */
int or_lb_refresh(struct or_lb *lb, const struct or_lb_host_view *hosts, uint32_t n);

/**
 * Picks a host. Rebuilds first when `n` differs from the last refresh.
 * @param rnd  uniform 64-bit random source (e.g. or_rand_cb from proxy/core/rand.h).
 * @return index into `hosts` (>= 0), OR_ENOTFOUND when there is no eligible host, OR_ENOMEM.
 */
int or_lb_choose(struct or_lb *lb, const struct or_lb_host_view *hosts, uint32_t n,
                 or_lb_rand_cb rnd, void *rctx);

/** True when the last refresh put the cluster in panic (stat `lb_healthy_panic`). */
bool or_lb_in_panic(const struct or_lb *lb);

/** Frees what or_lb_refresh() allocated. */
void or_lb_deinit(struct or_lb *lb);

#endif
