/* GET /config_dump, and the registration of the three dump endpoints (/config_dump, /clusters,
 * /listeners).
 *
 * /config_dump is the reverse of the reflection layer: an envoy.admin.v3.ConfigDump message is
 * built from the loaded Bootstrap with protobuf-c, each part packed into a google.protobuf.Any, and
 * printed by or_config_to_json (pretty, 1-space indent, "@type" first, a final newline), so the
 * output is Envoy's JSON shape and loads back through our own loader and the real Envoy protos.
 *
 * The parts, in Envoy's order (its ConfigTracker keys, sorted):
 *   BootstrapConfigDump     {bootstrap, last_updated}; node.user_agent_name defaults to "envoy"
 *   ClustersConfigDump      {static_clusters: [{cluster: Any(Cluster), last_updated}]}
 *   EndpointsConfigDump     only with ?include_eds: static_endpoint_configs built from the
 *                           current host sets (ClusterLoadAssignment per cluster)
 *   ListenersConfigDump     {static_listeners: [{listener: Any(Listener), last_updated}]}
 *   ScopedRoutesConfigDump  {} (present once some listener has an HTTP connection manager)
 *   RoutesConfigDump        {static_route_configs: [{route_config: Any(RouteConfiguration),
 *                           last_updated}]}: the inline route_config of every HCM, listener order
 *   SecretsConfigDump       {}
 *
 * Query parameters, with Envoy's semantics and messages:
 *   ?resource=<field>   only the elements of that repeated field of the first part that has it,
 *                       each as its own Any (e.g. ClustersConfigDump.StaticCluster); 404
 *                       "<r> not found in config dump"; 400 "<r> is not a repeated field. Use
 *                       ?mask=<r> to get only this field"
 *   ?mask=<a.b,c>       a google.protobuf.FieldMask applied to every part (parts where a path does
 *                       not resolve are left out; none left: 400), or with ?resource= to every
 *                       element, where paths through its Any field ("cluster.name") trim inside
 *                       the Any (invalid: 400)
 *   ?name_regex=<re2>   only clusters / listeners / route configs / endpoints whose name matches
 *                       the whole RE2 pattern (bad pattern: 400)
 *   ?include_eds        adds EndpointsConfigDump (when there are clusters)
 *
 * Redaction: Envoy replaces fields marked sensitive (TLS private keys, passwords) with
 * "[redacted]". Our API subset has no such field yet (no TLS), so there is nothing to redact; the
 * TLS work must add it here.
 *
 * Threading: main (admin) thread only. */
#ifndef OR_ADMIN_CONFIG_DUMP_H
#define OR_ADMIN_CONFIG_DUMP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "envoy/config/bootstrap/v3/bootstrap.pb-c.h"
#include "proxy/admin/clusters.h"
#include "proxy/admin/listeners.h"

struct evbuffer;
struct or_admin;
struct or_cluster_manager;
struct or_regex;
struct or_snapshot;

/* Where the dump endpoints read the server's state. Every field is read at request time, so the
 * owner may update them (e.g. set `cm` once the cluster manager exists, or swap `snapshot`). */
struct or_admin_dump_src {
    /* borrowed: the bootstrap as loaded, CLI overrides applied. NULL dumps an empty one. */
    const Envoy__Config__Bootstrap__V3__Bootstrap *bootstrap;
    /* borrowed: the listeners of /listeners; also the clusters of /clusters while `cm` is NULL.
     * May be NULL (no listeners). */
    const struct or_snapshot *snapshot;
    /* borrowed, may be NULL: the clusters and their current host sets (/clusters, include_eds) */
    const struct or_cluster_manager *cm;
    or_admin_host_stats_cb host_stats; /* NULL = or_admin_host_stats_sum (the hosts' counters) */
    void *host_stats_ctx;              /* borrowed: passed to host_stats */
    int64_t last_updated_ms;           /* wall clock, ms since the epoch: when the config was
                                          loaded (every last_updated field) */
};

/* What /config_dump was asked for. */
struct or_admin_dump_query {
    const char *resource;           /* borrowed, NULL = every part */
    const char *mask;               /* borrowed, NULL = no mask: comma-separated FieldMask paths */
    const struct or_regex *name_re; /* borrowed, NULL = every name */
    bool include_eds;
};

/* Builds /config_dump for `q` (NULL = no parameters) into `out`. Returns the HTTP status: 200 with
 * the JSON (*is_json set), 400/404 with Envoy's error text, 500 on OOM (empty body). */
int or_admin_config_dump(const struct or_admin_dump_src *src, const struct or_admin_dump_query *q,
                         struct evbuffer *out, bool *is_json);

/* The clusters /clusters shows: one view per cluster of src->cm (in the order they were added)
 * with its current host set, or the snapshot's clusters without hosts while src->cm is NULL.
 * Returns the count; *out is malloc'd (free it; NULL when the count is 0) or the count is
 * OR_ENOMEM. */
ssize_t or_admin_dump_cluster_views(const struct or_admin_dump_src *src,
                                    struct or_admin_cluster_view **out);

/* Registers GET /config_dump, /clusters and /listeners on `a`, reading `src` at every request.
 * `src` is borrowed and must outlive `a`. `a` NULL is a no-op (no admin configured). Returns 0,
 * or the error of or_admin_add_handler (OR_EINVAL: a path already registered, OR_ENOMEM). */
int or_admin_dump_register(struct or_admin *a, const struct or_admin_dump_src *src);

#endif
