/* An immutable configuration snapshot: listeners with their HTTP connection manager configs and
 * route tables, and clusters. Built on the main thread by one translation from the Envoy messages
 * (bootstrap static_resources now, xDS resources later), accepted or rejected whole, then shared
 * read-only with the workers. */
#ifndef OR_CONFIG_SNAPSHOT_H
#define OR_CONFIG_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "envoy/config/bootstrap/v3/bootstrap.pb-c.h"
#include "proxy/core/err.h"
#include "proxy/http/hcm_config.h"
#include "proxy/stats/blocks.h"
#include "proxy/upstream/wcluster.h"

struct or_cluster;

enum or_traffic_direction {
    OR_TRAFFIC_UNSPECIFIED = 0,
    OR_TRAFFIC_INBOUND = 1,
    OR_TRAFFIC_OUTBOUND = 2,
};

struct or_listener_rt {
    char *name;                   /* owned */
    struct sockaddr_storage addr; /* where to bind */
    socklen_t addrlen;
    char addr_str[128]; /* "ip:port" for logs, stats and /listeners */
    enum or_traffic_direction direction;
    bool v6only;                    /* IPv6 without ipv4_compat */
    struct or_hcm_config *hcm;      /* owned: the chain's http_connection_manager */
    struct or_listener_stats stats; /* listener.<addr>. handles */
};

struct or_snapshot {
    struct or_listener_rt *listeners; /* owned array */
    uint32_t n_listeners;
    struct or_cluster **clusters;  /* refs, in config order */
    struct or_cluster_load *loads; /* owned, parallel to clusters */
    uint32_t n_clusters;
    uint32_t *by_name;               /* owned: cluster indexes sorted by name */
    struct or_cluster_stats *cstats; /* owned, parallel to clusters (or_snapshot_register_stats) */
};

/* Translates bootstrap static_resources. On error err names the field path and nothing is kept. */
int or_snapshot_build(const Envoy__Config__Bootstrap__V3__Bootstrap *b, struct or_snapshot **out,
                      struct or_err_detail *err);
void or_snapshot_free(struct or_snapshot *s);
/* Registers the stats of every listener, connection manager and cluster of s in st (main thread,
 * before workers use s). 0 or OR_ENOMEM. */
int or_snapshot_register_stats(struct or_snapshot *s, struct or_stats_store *st);
/* Index of the cluster called name, or -1. */
int or_snapshot_cluster_index(const struct or_snapshot *s, const char *name, size_t len);

/* Translates one Listener (path: its field path for errors). */
int or_listener_from_proto(const Envoy__Config__Listener__V3__Listener *l, const char *path,
                           struct or_listener_rt *out, struct or_err_detail *err);
void or_listener_rt_deinit(struct or_listener_rt *l);

#endif
