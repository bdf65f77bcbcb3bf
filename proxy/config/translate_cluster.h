/* envoy.config.cluster.v3.Cluster -> struct or_cluster (proxy/upstream/cluster.h), main thread.
 *
 * Every field of our Cluster subset is implemented or rejected with its path:
 *   name               required, non-empty; unique across clusters (or_clusters_from_protos or
 *                      the caller checks)
 *   type               STATIC (default), STRICT_DNS, LOGICAL_DNS; EDS, ORIGINAL_DST: errors for now
 *   connect_timeout    > 0, default 5 s
 *   per_connection_buffer_limit_bytes   default 1 MiB
 *   lb_policy          ROUND_ROBIN (default), LEAST_REQUEST, RANDOM; the others are errors
 *   circuit_breakers   thresholds for DEFAULT and HIGH (the first entry of a priority wins, as in
 *                      Envoy); unset values take Envoy's defaults 1024 / 1024 / 1024 / 3
 *   dns_refresh_rate   > 1 ms, default 5 s (DNS types only)
 *   dns_lookup_family  AUTO (default), V4_ONLY, V6_ONLY, V4_PREFERRED, ALL
 *   load_assignment    cluster_name required (Envoy's proto rule, static clusters included);
 *                      endpoints[].priority must be 0; load_balancing_weight >= 1 (locality and
 *                      endpoint; 1 per endpoint by default); endpoint.address a TCP
 *                      socket_address (port_value <= 65535, unset = 0 as in Envoy) or, for
 *                      STATIC only, a pipe; STATIC needs IP literals; LOGICAL_DNS needs exactly
 *                      one locality with exactly one endpoint; endpoint.hostname and
 *                      health_status are kept; locality and metadata are inert.
 * Messages follow Envoy's: the proto constraint wording, "malformed IP address: ...", "LOGICAL_DNS
 * clusters must have a single locality_lb_endpoint and a single lb_endpoint". */
#ifndef OR_CONFIG_TRANSLATE_CLUSTER_H
#define OR_CONFIG_TRANSLATE_CLUSTER_H

#include "envoy/config/cluster/v3/cluster.pb-c.h"
#include "proxy/core/err.h"

#include <stddef.h>

struct or_cluster;

/* Translates one Cluster. `path` is the cluster's own field path for errors, e.g.
 * "static_resources.clusters[1]"; error paths extend it
 * ("...clusters[1].load_assignment.endpoints[0]
 * .lb_endpoints[0].endpoint.address.socket_address.address"). On success *out holds a new cluster
 * with one reference (release with or_cluster_unref). Returns 0, OR_EINVAL with `err` filled, or
 * OR_ENOMEM (err says "out of memory"). */
int or_cluster_from_proto(const Envoy__Config__Cluster__V3__Cluster *pb, const char *path,
                          struct or_cluster **out, struct or_err_detail *err);

/* Translates n clusters, paths "<path_prefix>[i]", and rejects a repeated name at
 * "<path_prefix>[i].name" ("cluster manager: duplicate cluster '<name>' found", Envoy's words).
 * On success *out is a malloc'd array of n new references (free with or_clusters_free); on failure
 * nothing is kept. */
int or_clusters_from_protos(Envoy__Config__Cluster__V3__Cluster *const *pbs, size_t n,
                            const char *path_prefix, struct or_cluster ***out,
                            struct or_err_detail *err);

/* Drops one reference on each of the n clusters and frees the array. NULL is a no-op. */
void or_clusters_free(struct or_cluster **clusters, size_t n);

#endif
