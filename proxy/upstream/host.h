/* Upstream hosts and host sets.
 *
 * A host is one connectable address of a cluster (an IP and port, or a Unix socket path). A host
 * set is the immutable list of a cluster's hosts at one moment. Both are built on the main thread
 * and shared read-only with the workers, so both carry an atomic reference count. The count is
 * touched only when a host set is published to a worker or released by one, never per request: a
 * worker holds one reference to each cluster's current host set and reads hosts through it for
 * free.
 *
 * Hosts keep their identity across DNS refreshes: when a STRICT_DNS name still resolves to an
 * address, the new host set shares that address's `struct or_host` with the old one, so anything a
 * worker keys by host pointer (connection pools, per-host LB state) survives the update. */
#ifndef OR_UPSTREAM_HOST_H
#define OR_UPSTREAM_HOST_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct or_cluster;

/* Health of a host as configured (LbEndpoint.health_status); values follow core.v3.HealthStatus.
 * Envoy treats UNHEALTHY, DRAINING and TIMEOUT as unhealthy and DEGRADED as degraded. */
enum or_host_health {
    OR_HOST_HEALTH_UNKNOWN = 0,
    OR_HOST_HEALTH_HEALTHY = 1,
    OR_HOST_HEALTH_UNHEALTHY = 2,
    OR_HOST_HEALTH_DRAINING = 3,
    OR_HOST_HEALTH_TIMEOUT = 4,
    OR_HOST_HEALTH_DEGRADED = 5,
};

/* Longest "ip:port" ("[v6]:port") or Unix socket path ("@abstract" or "/path") plus the NUL. */
#define OR_HOST_ADDR_STR_MAX 112

/* Per-host counters for /clusters, one block per worker: each block is written only by its worker
 * (a relaxed load and store, no read-modify-write), and the admin thread sums the blocks. */
struct or_host_counters {
    _Atomic uint64_t cx_active;
    _Atomic uint64_t cx_connect_fail;
    _Atomic uint64_t cx_total;
    _Atomic uint64_t rq_active;
    _Atomic uint64_t rq_error;
    _Atomic uint64_t rq_success;
    _Atomic uint64_t rq_timeout;
    _Atomic uint64_t rq_total;
    char pad[64]; /* keeps two workers' blocks off one cache line */
};

/* Number of counter blocks each new host is given (the worker count); set once at start-up. */
void or_host_set_counter_blocks(uint32_t n);

static inline void or_host_count(_Atomic uint64_t *c, int64_t d)
{
    uint64_t v = atomic_load_explicit(c, memory_order_relaxed);
    atomic_store_explicit(c, v + (uint64_t)d, memory_order_relaxed);
}

struct or_host {
    atomic_uint refs;             /* owners: host sets and the cluster manager */
    struct sockaddr_storage addr; /* AF_INET, AF_INET6 (port set) or AF_UNIX */
    socklen_t addrlen;            /* bytes of addr that matter (for connect) */
    /* "10.0.0.1:80", "[::1]:80", "/tmp/s", "@abstract": Envoy's spelling in stats, /clusters and
     * x-envoy headers. */
    char addr_str[OR_HOST_ADDR_STR_MAX];
    /* Owned, never NULL: Endpoint.hostname, or the name a DNS cluster resolved; "" for a STATIC
     * endpoint without one. */
    char *hostname;
    uint32_t weight;                   /* load_balancing_weight, >= 1 */
    enum or_host_health health;        /* configured health_status */
    struct or_host_counters *counters; /* owned: or_host_set_counter_blocks() blocks, or NULL */
    uint32_t n_counters;
};

struct or_hostset {
    atomic_uint refs;           /* owners: the cluster manager, each worker, messages in flight */
    struct or_cluster *cluster; /* ref: the configuration these hosts belong to */
    uint64_t version;           /* 1 for a cluster's first host set, +1 for each change */
    uint64_t total_weight;      /* sum of the hosts' weights */
    size_t n_hosts;
    struct or_host *hosts[]; /* refs, in endpoint order (DNS answers in resolver order) */
};

/* The calling worker's block of h, or NULL when the host has none (tests, the main thread). */
static inline struct or_host_counters *or_host_counters_of(const struct or_host *h, uint32_t worker)
{
    return h->counters != NULL && worker < h->n_counters ? &h->counters[worker] : NULL;
}

/* Makes a host with one reference. `sa` is copied (port included); `hostname` is copied (NULL means
 * ""). `weight` 0 is taken as 1. Returns NULL on OOM or if `len` does not fit a sockaddr_storage or
 * the family is not AF_INET, AF_INET6 or AF_UNIX. */
struct or_host *or_host_new(const struct sockaddr *sa, socklen_t len, const char *hostname,
                            uint32_t weight, enum or_host_health health);
/* Takes a reference (any thread); returns h for chaining. */
struct or_host *or_host_ref(struct or_host *h);
/* Drops a reference (any thread); the last one frees the host. NULL is a no-op. */
void or_host_unref(struct or_host *h);

/* True when both addresses are the same family, address and port (or the same socket path). */
bool or_sockaddr_equal(const struct sockaddr *a, socklen_t alen, const struct sockaddr *b,
                       socklen_t blen);
/* Writes the Envoy spelling of an address ("1.2.3.4:80", "[::1]:80", "/path", "@name") into buf.
 * Returns the length written (without the NUL), or a negative or_err (OR_EINVAL: unknown family,
 * OR_ETOOBIG: buf too small; buf then holds a truncated, NUL-terminated string). */
int or_sockaddr_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t buflen);
/* Parses an IP literal (dotted IPv4, or IPv6 without brackets, optional %scope) into *out with
 * `port`. OR_EINVAL if `ip` is not an IP literal: no DNS lookup ever happens here. */
int or_sockaddr_from_ip(const char *ip, uint16_t port, struct sockaddr_storage *out,
                        socklen_t *outlen);

/* Makes a host set with one reference. Takes a new reference on `cluster` (may be NULL in tests)
 * and on each of the n hosts; the caller keeps its own references. NULL on OOM. */
struct or_hostset *or_hostset_new(struct or_cluster *cluster, uint64_t version,
                                  struct or_host *const *hosts, size_t n);
/* Takes a reference (any thread); returns hs for chaining. */
struct or_hostset *or_hostset_ref(struct or_hostset *hs);
/* Drops a reference (any thread); the last releases the hosts and the cluster. NULL is a no-op. */
void or_hostset_unref(struct or_hostset *hs);

#endif
