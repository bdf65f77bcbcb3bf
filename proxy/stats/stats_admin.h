/* The stats admin endpoints. */
#ifndef OR_STATS_STATS_ADMIN_H
#define OR_STATS_STATS_ADMIN_H

struct or_admin;
struct or_stats_store;

/**
 * Registers on the admin server (main thread):
 *   GET  /stats             text; ?format=json|prometheus|text, ?usedonly, ?filter=<RE2, partial
 *                           match on the full name>, ?type=All|Counters|Gauges|Histograms|
 *                           TextReadouts, ?histogram_buckets=cumulative|disjoint|none
 *   GET  /stats/prometheus  exposition format 0.0.4 (?usedonly, ?filter=)
 *   POST /reset_counters    every counter back to 0, "OK\n"
 * Bad parameters answer 400 with Envoy's message ("Invalid re2 regex", "invalid &type= param",
 * "usage: /stats?format=(html|active-html|json|prometheus|text)\n\n", ...). `st` is borrowed and
 * must outlive the handlers (or_admin_stop() first).
 * @return 0, OR_EINVAL (NULL argument or a path already registered), OR_ENOMEM.
 */
int or_stats_admin_register(struct or_admin *a, struct or_stats_store *st);

#endif
