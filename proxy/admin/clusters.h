/* GET /clusters: upstream cluster status in Envoy's formats (ClustersHandler).
 *
 * Text (default), per cluster, then per host of its current host set:
 *
 *   <cluster>::observability_name::<cluster>
 *   <cluster>::default_priority::max_connections::1024      (+ max_pending_requests, max_requests,
 *   <cluster>::high_priority::max_connections::1024            max_retries, for both priorities)
 *   <cluster>::added_via_api::false
 *   <cluster>::<ip:port>::cx_active::0                     the 8 host stats, sorted by name:
 *                                                          cx_active cx_connect_fail cx_total
 *                                                          rq_active rq_error rq_success rq_timeout
 *                                                          rq_total
 *   <cluster>::<ip:port>::hostname::<h>
 *   <cluster>::<ip:port>::health_flags::healthy            or "/failed_eds_health" (UNHEALTHY,
 *                                                          TIMEOUT), "/degraded_eds_health",
 *                                                          "/eds_status_draining"
 *   <cluster>::<ip:port>::weight::1
 *   <cluster>::<ip:port>::region::  / zone:: / sub_zone::  (locality is not kept: always empty)
 *   <cluster>::<ip:port>::canary::false
 *   <cluster>::<ip:port>::priority::0
 *   <cluster>::<ip:port>::success_rate::-1.0               no outlier detection: always -1
 *   <cluster>::<ip:port>::local_origin_success_rate::-1.0
 *
 * ?format=json: envoy.admin.v3.Clusters, pretty-printed. Unset/zero proto3 fields are omitted as
 * protobuf does (a host stat at 0 is {"name": "rq_error"}), host stats are listed counters first
 * (cx_connect_fail cx_total rq_error rq_success rq_timeout rq_total) then gauges (cx_active
 * rq_active), as Envoy's ALL_HOST_STATS. */
#ifndef OR_ADMIN_CLUSTERS_H
#define OR_ADMIN_CLUSTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evbuffer;
struct or_cluster;
struct or_host;
struct or_hostset;

/* Envoy's per-host stats (ALL_HOST_STATS), summed over the workers. */
struct or_admin_host_stats {
    uint64_t cx_active, cx_connect_fail, cx_total, rq_active, rq_error, rq_success, rq_timeout,
        rq_total;
};

/* Fills *out (zeroed before the call) with the current stats of host `h` of cluster `c`. Runs on
 * the admin (main) thread. */
typedef void (*or_admin_host_stats_cb)(void *ctx, const struct or_cluster *c,
                                       const struct or_host *h, struct or_admin_host_stats *out);

/* The default when no callback is given: the sum of h->counters over its per-worker blocks
 * (relaxed loads). *out is overwritten. */
void or_admin_host_stats_sum(const struct or_host *h, struct or_admin_host_stats *out);

/* One cluster as /clusters shows it. */
struct or_admin_cluster_view {
    const struct or_cluster *cluster; /* borrowed */
    const struct or_hostset *hosts;   /* borrowed: the current host set; NULL = none yet */
    bool added_via_api;               /* CDS cluster (false for static_resources) */
};

/* Writes the text form of `n` clusters into `out`. `stats` NULL = or_admin_host_stats_sum.
 * 0 or OR_ENOMEM. */
int or_admin_clusters_text(const struct or_admin_cluster_view *v, size_t n,
                           or_admin_host_stats_cb stats, void *ctx, struct evbuffer *out);

/* Writes envoy.admin.v3.Clusters as pretty JSON with a final newline. 0 or OR_ENOMEM. */
int or_admin_clusters_json(const struct or_admin_cluster_view *v, size_t n,
                           or_admin_host_stats_cb stats, void *ctx, struct evbuffer *out);

#endif
