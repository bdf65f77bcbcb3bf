/* Per-virtual-host route index: the route a linear, in-order scan would pick, found in time
 * (almost) independent of the number of routes.
 *
 * Envoy picks the FIRST route in config order whose whole match succeeds. The index narrows the
 * routes whose path matcher can succeed to a few candidate lists, each sorted by config index:
 *  - prefix and path_separated_prefix routes: a hash of lower-cased keys probed at every distinct
 *    key length along the (lower-cased) path, so one pass over the path yields every prefix that
 *    can match, whatever its case sensitivity;
 *  - exact-path routes: the same hash, keyed by the whole lower-cased path;
 *  - safe_regex routes: one RE2::Set over all path regexes of the vhost (full match), one DFA
 *    pass giving every matching regex;
 *  - everything else (connect_matcher, future path kinds): an "always check" list.
 * Each candidate is then checked with the full matcher (headers, query, runtime fraction, grpc,
 * case), and the smallest fully-matching config index over all lists wins. Because the lists
 * partition the routes whose path can match, this is exactly the linear scan's answer. A list is
 * abandoned as soon as its next index is not smaller than the best found so far, and the regex
 * set is not run at all when a better route is already known.
 *
 * A prefix key with many header-conditioned routes (the same prefix, one route per tenant)
 * gets a second level: when most of its routes require an exact value of one header, those
 * routes are hashed by that value, so only the routes for the request's value are checked.
 *
 * Immutable after or_route_index_build(); matching takes no locks and allocates nothing of its
 * own (RE2::Set allocates a small scratch set per regex pass).
 */
#ifndef OR_ROUTER_ROUTE_INDEX_H
#define OR_ROUTER_ROUTE_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proxy/core/arena.h"
#include "proxy/core/str.h"
#include "proxy/http/headers.h"
#include "proxy/router/route_table.h"

struct or_route_index;

/**
 * Builds the index of `vh` (whose routes array is final) with every allocation in `a`; the regex
 * set is freed by an arena cleanup. Never fails for a valid table except on OOM.
 * @return 0 with *out set, OR_ENOMEM.
 */
int or_route_index_build(struct or_arena *a, const struct or_vhost *vh,
                         struct or_route_index **out);

/**
 * The first route of `vh` (config order) that fully matches, as the linear scan.
 * @param path  the request's :path with its query (NULL when the request has none).
 */
const struct or_route_entry *or_route_index_match(const struct or_route_index *ix,
                                                  const struct or_vhost *vh,
                                                  const struct or_headers *h,
                                                  const struct or_str *path, uint64_t rnd);

/** Bytes the index holds in the arena (the RE2 set's own memory is not included). */
size_t or_route_index_bytes(const struct or_route_index *ix);

/** Whether the vhost's path regexes run as one RE2 set (false: none, or the set did not fit). */
bool or_route_index_has_regex_set(const struct or_route_index *ix);

/**
 * The full route matcher of route_table.c (internal, for the index): path matcher (skipped when
 * `path_checked`, e.g. after the regex set matched), runtime fraction, grpc, headers, query.
 */
bool or_route__matches(const struct or_route_entry *r, const struct or_headers *h,
                       const struct or_str *path, uint64_t rnd, bool path_checked);

/** :path without query and fragment, as every path matcher sees it (internal). */
struct or_str or_route__path_only(struct or_str path);

#endif
