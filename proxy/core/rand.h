/* Fast per-thread pseudo-random numbers for routing decisions (weighted clusters, runtime
 * fractions, load balancing). Not for anything security-sensitive.
 *
 * SplitMix64: one 64-bit word of state, full 2^64 period, passes BigCrush; each worker keeps its
 * own state so there is no sharing. Seed it from getrandom(2) or similar once per thread. */
#ifndef OR_CORE_RAND_H
#define OR_CORE_RAND_H

#include <stdint.h>

/** Next uniformly distributed 64-bit value; advances *state. */
static inline uint64_t or_rand_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/** Adapter with the shape of or_lb_rand_cb: `ctx` is a uint64_t state word. */
static inline uint64_t or_rand_cb(void *ctx)
{
    return or_rand_next((uint64_t *)ctx);
}

#endif
