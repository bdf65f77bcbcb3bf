/* The cluster manager (main thread): owns the clusters, turns their endpoints into host sets (at
 * once for STATIC, by DNS for STRICT_DNS and LOGICAL_DNS) and tells its owner when a host set
 * changes, so the owner can post it to the workers. Workers never call into the manager.
 *
 * Lifecycle:
 *   cm = or_cluster_manager_new(base, NULL, &cbs, ctx);
 *   or_cluster_manager_add(cm, cluster) ...        one per cluster (the manager takes a reference)
 *   or_cluster_manager_start(cm);                  STATIC host sets built, DNS lookups started
 *   ... event loop: on_hostset(ctx, cluster, hs) once per cluster for its first host set, then on
 *       every change; on_initialized(ctx) once, after every cluster has had its first host set ...
 *   or_cluster_manager_free(cm);
 *
 * Host set rules (Envoy's):
 *   STATIC       One host set with every endpoint, built at start (possibly empty).
 *   STRICT_DNS   Every endpoint's name is resolved and all its addresses become hosts, with the
 *                endpoint's port, weight and health, and its hostname (the DNS name if unset).
 *                Each name is resolved again dns_refresh_rate after its last answer. The first
 *                host set is built once every name has answered or failed once; after that a new
 *                host set is published only when the set of addresses changes (not the order).
 *   LOGICAL_DNS  Like STRICT_DNS with its single endpoint, keeping only the first address.
 *   NXDOMAIN     An answer with no addresses, as in Envoy since its resolver stopped calling it a
 *                failure: a STRICT_DNS name loses its hosts; LOGICAL_DNS ignores empty answers.
 *   Failures     Timeouts, server failures, refusals (and an empty NOERROR answer, which evdns
 *                reports the same way) keep the last good hosts. A cluster whose first lookups
 *                all fail still counts as initialized, with an empty host set, as in Envoy.
 *
 * Callbacks run only from the event loop (a deferred event), never inside a call into the manager,
 * and never while the manager is mid-update: the owner may add and remove clusters from inside them
 * (but must not free the manager there). */
#ifndef OR_UPSTREAM_CLUSTER_MANAGER_H
#define OR_UPSTREAM_CLUSTER_MANAGER_H

#include "proxy/upstream/cluster.h"
#include "proxy/upstream/dns.h"
#include "proxy/upstream/host.h"

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct or_cluster_manager;

struct or_cluster_manager_cbs {
    /* A cluster's first host set (possibly empty) or a changed one. The callee owns one reference
     * to hs and releases it with or_hostset_unref (typically after taking one per worker it posts
     * hs to). `cluster` is borrowed for the call; hs->cluster holds its own reference to it. */
    void (*on_hostset)(void *ctx, struct or_cluster *cluster, struct or_hostset *hs);
    /* Runs once after or_cluster_manager_start, when every cluster added so far has had its first
     * host set announced (at once when there are no clusters). May be NULL. */
    void (*on_initialized)(void *ctx);
};

/* Makes a manager on `base`. `dns_opts` (copied; NULL = the system's files) configures the
 * resolver, which is only made when the first DNS cluster is started. `cbs` is copied; `ctx` is
 * passed back. NULL on OOM. */
struct or_cluster_manager *or_cluster_manager_new(struct event_base *base,
                                                  const struct or_dns_options *dns_opts,
                                                  const struct or_cluster_manager_cbs *cbs,
                                                  void *ctx);

/* Stops every lookup and timer and drops every reference the manager holds (clusters, host sets,
 * hosts). Host sets already handed out stay valid until their holders release them. See
 * or_dns_free() about running one non-blocking loop turn before event_base_free. */
void or_cluster_manager_free(struct or_cluster_manager *cm);

/* Adds a cluster; the manager takes its own reference. After or_cluster_manager_start the cluster
 * starts at once. OR_EINVAL if a cluster of that name exists, OR_ENOMEM. */
int or_cluster_manager_add(struct or_cluster_manager *cm, struct or_cluster *c);

/* Removes a cluster: its lookups stop and the manager's references go; an announcement still
 * pending for it is dropped. OR_ENOTFOUND if there is no such cluster. */
int or_cluster_manager_remove(struct or_cluster_manager *cm, const char *name);

/* Builds STATIC host sets and starts DNS for the clusters added so far; later additions start on
 * their own. Calling it twice is a no-op. Returns 0 (a DNS cluster whose lookup cannot start counts
 * as failed and retries at its refresh rate). */
int or_cluster_manager_start(struct or_cluster_manager *cm);

/* True once on_initialized has been called. */
bool or_cluster_manager_initialized(const struct or_cluster_manager *cm);

/* The cluster named `name` (borrowed), or NULL. */
struct or_cluster *or_cluster_manager_get(const struct or_cluster_manager *cm, const char *name);

/* The latest host set of `name` (borrowed; take a reference to keep it), or NULL if there is no
 * such cluster or it has no host set yet. */
struct or_hostset *or_cluster_manager_hostset(const struct or_cluster_manager *cm,
                                              const char *name);

/* Clusters in the order they were added, for admin output: count, then 0..count-1 (borrowed). */
size_t or_cluster_manager_count(const struct or_cluster_manager *cm);
struct or_cluster *or_cluster_manager_at(const struct or_cluster_manager *cm, size_t i);

#endif
