/* Immutable per-cluster configuration, translated from envoy.config.cluster.v3.Cluster on the main
 * thread (proxy/config/translate_cluster.h) and shared read-only with the workers by reference
 * count. The count is touched when a snapshot or host set takes or drops the cluster, never per
 * request. Runtime state (current hosts, DNS) lives in the cluster manager and host sets. */
#ifndef OR_UPSTREAM_CLUSTER_H
#define OR_UPSTREAM_CLUSTER_H

#include "proxy/upstream/dns.h"
#include "proxy/upstream/host.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* Cluster.type (service discovery). EDS and ORIGINAL_DST are config errors for now. */
enum or_cluster_type {
    OR_CLUSTER_STATIC = 0,
    OR_CLUSTER_STRICT_DNS = 1,
    OR_CLUSTER_LOGICAL_DNS = 2,
};

/* Cluster.lb_policy. The load balancer module (proxy/upstream/lb.h) has its own enum; the values
 * here are those of Cluster.LbPolicy, so a mapping is a switch, not a table. */
enum or_cluster_lb {
    OR_CLUSTER_LB_ROUND_ROBIN = 0,
    OR_CLUSTER_LB_LEAST_REQUEST = 1,
    OR_CLUSTER_LB_RANDOM = 3,
};

/* core.v3.RoutingPriority: index into or_cluster.thresholds. */
enum or_cluster_priority {
    OR_CLUSTER_PRIORITY_DEFAULT = 0,
    OR_CLUSTER_PRIORITY_HIGH = 1,
    OR_CLUSTER_PRIORITY_COUNT = 2,
};

/* Envoy's circuit breaker defaults for a priority without thresholds. */
#define OR_CLUSTER_DEFAULT_MAX_CONNECTIONS 1024u
#define OR_CLUSTER_DEFAULT_MAX_PENDING_REQUESTS 1024u
#define OR_CLUSTER_DEFAULT_MAX_REQUESTS 1024u
#define OR_CLUSTER_DEFAULT_MAX_RETRIES 3u
/* Other Envoy defaults. */
#define OR_CLUSTER_DEFAULT_CONNECT_TIMEOUT_MS 5000u
#define OR_CLUSTER_DEFAULT_BUFFER_LIMIT (1024u * 1024u)
#define OR_CLUSTER_DEFAULT_DNS_REFRESH_MS 5000u

/* CircuitBreakers.Thresholds for one priority. */
struct or_cluster_thresholds {
    uint32_t max_connections;
    uint32_t max_pending_requests;
    uint32_t max_requests;
    uint32_t max_retries;
};

/* One configured endpoint (load_assignment.endpoints[].lb_endpoints[]), in config order. */
struct or_cluster_endpoint {
    char *address; /* owned: the IP literal (STATIC), the DNS name (STRICT_DNS,
                    * LOGICAL_DNS) or the Unix socket path (Address.pipe, STATIC) */
    uint16_t port; /* socket_address.port_value; 0 for a pipe */
    bool is_pipe;
    char *hostname;               /* owned, never NULL: Endpoint.hostname, "" if unset */
    uint32_t weight;              /* LbEndpoint.load_balancing_weight, default 1 */
    uint32_t locality_weight;     /* LocalityLbEndpoints.load_balancing_weight, 0 if unset */
    enum or_host_health health;   /* LbEndpoint.health_status */
    struct sockaddr_storage addr; /* STATIC only: the parsed address, port included */
    socklen_t addrlen;            /* 0 for DNS endpoints */
};

struct or_cluster {
    atomic_uint refs; /* owners: the cluster manager, host sets, snapshots */
    char *name;       /* owned: Cluster.name, unique */
    char *stat_name;  /* owned: name with ':' turned into '_' (Envoy's stats rule) */
    enum or_cluster_type type;
    enum or_cluster_lb lb_policy;
    uint64_t connect_timeout_ms;                                        /* default 5000 */
    uint32_t per_connection_buffer_limit_bytes;                         /* default 1 MiB */
    struct or_cluster_thresholds thresholds[OR_CLUSTER_PRIORITY_COUNT]; /* DEFAULT, HIGH */
    enum or_dns_family dns_lookup_family; /* DNS types only; default AUTO */
    uint64_t dns_refresh_rate_ms;         /* DNS types only; default 5000 */
    size_t n_endpoints;
    struct or_cluster_endpoint *endpoints; /* owned array, flattened over localities */
};

/* Makes an empty cluster with one reference and every field at Envoy's default: STATIC,
 * ROUND_ROBIN, 5 s connect timeout, 1 MiB buffer limit, default circuit breakers for both
 * priorities, AUTO lookups refreshed every 5 s, no endpoints. `name` is copied. NULL on OOM. */
struct or_cluster *or_cluster_new(const char *name);

/* Appends an endpoint (strings copied; weight 0 is taken as 1). Set c->type first: a STATIC cluster
 * takes an IP literal or, with is_pipe, a socket path ("@name" = abstract), parsed here; DNS
 * clusters take names and no pipes. Returns 0, OR_EINVAL (not an IP, path too long, pipe in a DNS
 * cluster) or OR_ENOMEM. Meant for translation and tests: a cluster is immutable once shared. */
int or_cluster_add_endpoint(struct or_cluster *c, const char *address, uint16_t port, bool is_pipe,
                            const char *hostname, uint32_t weight, enum or_host_health health);

/* Takes a reference (any thread); returns c for chaining. */
struct or_cluster *or_cluster_ref(struct or_cluster *c);
/* Drops a reference (any thread); the last frees the cluster. NULL is a no-op. */
void or_cluster_unref(struct or_cluster *c);

/* Builds a Unix socket address from an Address.pipe path ("@name" = abstract namespace). OR_EINVAL
 * if the path is empty or longer than sun_path. */
int or_sockaddr_from_pipe(const char *path, struct sockaddr_storage *out, socklen_t *outlen);

const char *or_cluster_type_name(enum or_cluster_type t);
const char *or_cluster_lb_name(enum or_cluster_lb lb);

#endif
