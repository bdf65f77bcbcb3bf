/* envoy.config.route.v3.RouteConfiguration -> struct or_route_table (proxy/router/route_table.h),
 * on the main thread.
 *
 * Every field of our RouteConfiguration subset is implemented or rejected with its path; a field
 * that a later, larger subset adds but this translator does not know is rejected too ("field not
 * supported"), so nothing is ever silently ignored:
 *   name                      kept (messages, introspection)
 *   virtual_hosts[]           name (non-empty), domains (>= 1, no NUL/CR/LF, unique across the
 *                             table, one "*"), routes
 *   routes[].name             kept
 *   routes[].metadata         accepted, inert (only filters would read it)
 *   routes[].match            required: prefix | path | safe_regex (required, RE2, max program
 *                             size 100 or google_re2.max_program_size), case_sensitive, headers[]
 *                             (name non-empty; exact/prefix/suffix/contains/safe_regex (deprecated
 *                             forms), range, present, string_match with ignore_case, invert_match)
 *   routes[].route            cluster (non-empty) | weighted_clusters (clusters >= 1, names
 *                             required, sum of weights in (0, 2^32); total_weight is deprecated
 *                             and ignored, as current Envoy does), prefix_rewrite,
 *                             host_rewrite_literal, timeout (default 15 s, 0 disables)
 *   routes[].redirect         https_redirect | scheme_redirect, host_redirect, port_redirect,
 *                             path_redirect | prefix_rewrite, response_code, strip_query
 *   routes[].direct_response  status in [200, 600), body DataSource (filename read now,
 *                             inline_bytes, inline_string; at most 4096 bytes as Envoy's default)
 * Header-valued strings (domains, rewrites, redirect parts) may not contain NUL, CR or LF, as
 * Envoy's proto rules say. Messages follow Envoy's wording where Envoy has one. */
#ifndef OR_CONFIG_TRANSLATE_ROUTE_H
#define OR_CONFIG_TRANSLATE_ROUTE_H

#include <stdbool.h>

#include "envoy/config/route/v3/route.pb-c.h"
#include "proxy/core/err.h"

struct or_route_table;

/**
 * Translates a RouteConfiguration.
 * @param path  the configuration's own field path for errors, e.g.
 *              "static_resources.listeners[0].filter_chains[0].filters[0].typed_config
 *              .route_config"; errors extend it ("....virtual_hosts[1].routes[0].match
 *              .safe_regex.regex"). NULL or "" for none.
 * @param out   on success a new table (free with or_route_table_free()).
 * @return 0, OR_EINVAL with `err` filled, or OR_ENOMEM.
 */
int or_route_table_from_proto(const Envoy__Config__Route__V3__RouteConfiguration *rc,
                              const char *path, struct or_route_table **out,
                              struct or_err_detail *err);

typedef bool (*or_route_has_cluster_cb)(void *ctx, const char *cluster);

/**
 * Envoy's validate_clusters: every cluster a route names (cluster, weighted_clusters[].name) must
 * exist. cluster_header routes are not checked (their cluster is only known per request).
 * @param path  same base path as given to or_route_table_from_proto().
 * @return 0, or OR_EINVAL with "route: unknown cluster 'x'" / "route: unknown weighted cluster
 *         'x'" at "<path>.virtual_hosts[i].routes[j].route.cluster" (or
 *         ".route.weighted_clusters.clusters[k].name").
 */
int or_route_table_validate_clusters(const struct or_route_table *t, const char *path,
                                     or_route_has_cluster_cb has_cluster, void *ctx,
                                     struct or_err_detail *err);

#endif
