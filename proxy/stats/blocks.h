/* Envoy's stat blocks with Envoy's exact names, as X-macros (Envoy's ALL_*_STATS), and the structs
 * of handles they register into. Each entry is (field, "name"); the name is appended to the
 * block's prefix:
 *
 *   server.                          OR_STATS_SERVER
 *   http.<stat_prefix>.              OR_STATS_HTTP (connection manager, tracing and router stats)
 *   listener.<addr>.http.<prefix>.   OR_STATS_HTTP_LISTENER
 *   listener.<addr>.                 OR_STATS_LISTENER (<addr> e.g. "0.0.0.0_15000")
 *   listener_manager.                OR_STATS_LISTENER_MANAGER
 *   cluster_manager.                 OR_STATS_CLUSTER_MANAGER
 *   cluster.<name>.                  OR_STATS_CLUSTER (+ Envoy's dynamic per-response stats)
 *   control_plane.                   OR_STATS_CONTROL_PLANE
 *
 * Every block function registers on the main thread and is idempotent (a CDS update of cluster
 * "foo" gets the same handles back, so values carry on). Variable name parts are sanitized with
 * or_stats_sanitize_name() (':' -> '_'), as Envoy's scopes do. */
#ifndef OR_STATS_BLOCKS_H
#define OR_STATS_BLOCKS_H

#include <stdbool.h>
#include <stdint.h>

#include "proxy/stats/stats.h"

/* C: counter, G: gauge, H: histogram. */

#define OR_STATS_SERVER(C, G, H)                                                                   \
    C(debug_assertion_failures, "debug_assertion_failures")                                        \
    C(dropped_stat_flushes, "dropped_stat_flushes")                                                \
    C(dynamic_unknown_fields, "dynamic_unknown_fields")                                            \
    C(envoy_bug_failures, "envoy_bug_failures")                                                    \
    C(static_unknown_fields, "static_unknown_fields")                                              \
    C(wip_protos, "wip_protos")                                                                    \
    G(concurrency, "concurrency")                                                                  \
    G(days_until_first_cert_expiring, "days_until_first_cert_expiring")                            \
    G(hot_restart_epoch, "hot_restart_epoch")                                                      \
    G(hot_restart_generation, "hot_restart_generation")                                            \
    G(live, "live")                                                                                \
    G(memory_allocated, "memory_allocated")                                                        \
    G(memory_heap_size, "memory_heap_size")                                                        \
    G(memory_physical_size, "memory_physical_size")                                                \
    G(parent_connections, "parent_connections")                                                    \
    G(seconds_until_first_ocsp_response_expiring, "seconds_until_first_ocsp_response_expiring")    \
    G(state, "state")                                                                              \
    G(stats_recent_lookups, "stats_recent_lookups")                                                \
    G(total_connections, "total_connections")                                                      \
    G(uptime, "uptime")                                                                            \
    G(version, "version")                                                                          \
    H(initialization_time_ms, "initialization_time_ms")

/* Connection manager (ALL_HTTP_CONN_MAN_STATS), its tracing stats and the router filter's stats,
 * all under http.<stat_prefix>. */
#define OR_STATS_HTTP(C, G, H)                                                                     \
    C(downstream_cx_delayed_close_timeout, "downstream_cx_delayed_close_timeout")                  \
    C(downstream_cx_destroy, "downstream_cx_destroy")                                              \
    C(downstream_cx_destroy_active_rq, "downstream_cx_destroy_active_rq")                          \
    C(downstream_cx_destroy_local, "downstream_cx_destroy_local")                                  \
    C(downstream_cx_destroy_local_active_rq, "downstream_cx_destroy_local_active_rq")              \
    C(downstream_cx_destroy_remote, "downstream_cx_destroy_remote")                                \
    C(downstream_cx_destroy_remote_active_rq, "downstream_cx_destroy_remote_active_rq")            \
    C(downstream_cx_drain_close, "downstream_cx_drain_close")                                      \
    C(downstream_cx_http1_total, "downstream_cx_http1_total")                                      \
    C(downstream_cx_http2_total, "downstream_cx_http2_total")                                      \
    C(downstream_cx_http3_total, "downstream_cx_http3_total")                                      \
    C(downstream_cx_idle_timeout, "downstream_cx_idle_timeout")                                    \
    C(downstream_cx_max_duration_reached, "downstream_cx_max_duration_reached")                    \
    C(downstream_cx_max_requests_reached, "downstream_cx_max_requests_reached")                    \
    C(downstream_cx_overload_disable_keepalive, "downstream_cx_overload_disable_keepalive")        \
    C(downstream_cx_protocol_error, "downstream_cx_protocol_error")                                \
    C(downstream_cx_rx_bytes_total, "downstream_cx_rx_bytes_total")                                \
    C(downstream_cx_ssl_total, "downstream_cx_ssl_total")                                          \
    C(downstream_cx_total, "downstream_cx_total")                                                  \
    C(downstream_cx_tx_bytes_total, "downstream_cx_tx_bytes_total")                                \
    C(downstream_cx_upgrades_total, "downstream_cx_upgrades_total")                                \
    C(downstream_flow_control_paused_reading_total,                                                \
      "downstream_flow_control_paused_reading_total")                                              \
    C(downstream_flow_control_resumed_reading_total,                                               \
      "downstream_flow_control_resumed_reading_total")                                             \
    C(downstream_rq_1xx, "downstream_rq_1xx")                                                      \
    C(downstream_rq_2xx, "downstream_rq_2xx")                                                      \
    C(downstream_rq_3xx, "downstream_rq_3xx")                                                      \
    C(downstream_rq_4xx, "downstream_rq_4xx")                                                      \
    C(downstream_rq_5xx, "downstream_rq_5xx")                                                      \
    C(downstream_rq_completed, "downstream_rq_completed")                                          \
    C(downstream_rq_failed_path_normalization, "downstream_rq_failed_path_normalization")          \
    C(downstream_rq_header_timeout, "downstream_rq_header_timeout")                                \
    C(downstream_rq_http1_total, "downstream_rq_http1_total")                                      \
    C(downstream_rq_http2_total, "downstream_rq_http2_total")                                      \
    C(downstream_rq_http3_total, "downstream_rq_http3_total")                                      \
    C(downstream_rq_idle_timeout, "downstream_rq_idle_timeout")                                    \
    C(downstream_rq_max_duration_reached, "downstream_rq_max_duration_reached")                    \
    C(downstream_rq_non_relative_path, "downstream_rq_non_relative_path")                          \
    C(downstream_rq_overload_close, "downstream_rq_overload_close")                                \
    C(downstream_rq_redirected_with_normalized_path,                                               \
      "downstream_rq_redirected_with_normalized_path")                                             \
    C(downstream_rq_rejected_via_ip_detection, "downstream_rq_rejected_via_ip_detection")          \
    C(downstream_rq_response_before_rq_complete, "downstream_rq_response_before_rq_complete")      \
    C(downstream_rq_rx_reset, "downstream_rq_rx_reset")                                            \
    C(downstream_rq_timeout, "downstream_rq_timeout")                                              \
    C(downstream_rq_too_large, "downstream_rq_too_large")                                          \
    C(downstream_rq_too_many_premature_resets, "downstream_rq_too_many_premature_resets")          \
    C(downstream_rq_total, "downstream_rq_total")                                                  \
    C(downstream_rq_tx_reset, "downstream_rq_tx_reset")                                            \
    C(downstream_rq_ws_on_non_ws_route, "downstream_rq_ws_on_non_ws_route")                        \
    C(rs_too_large, "rs_too_large")                                                                \
    G(downstream_cx_active, "downstream_cx_active")                                                \
    G(downstream_cx_http1_active, "downstream_cx_http1_active")                                    \
    G(downstream_cx_http2_active, "downstream_cx_http2_active")                                    \
    G(downstream_cx_http3_active, "downstream_cx_http3_active")                                    \
    G(downstream_cx_rx_bytes_buffered, "downstream_cx_rx_bytes_buffered")                          \
    G(downstream_cx_ssl_active, "downstream_cx_ssl_active")                                        \
    G(downstream_cx_tx_bytes_buffered, "downstream_cx_tx_bytes_buffered")                          \
    G(downstream_cx_upgrades_active, "downstream_cx_upgrades_active")                              \
    G(downstream_rq_active, "downstream_rq_active")                                                \
    H(downstream_cx_length_ms, "downstream_cx_length_ms")                                          \
    H(downstream_rq_time, "downstream_rq_time")                                                    \
    C(tracing_client_enabled, "tracing.client_enabled")                                            \
    C(tracing_health_check, "tracing.health_check")                                                \
    C(tracing_not_traceable, "tracing.not_traceable")                                              \
    C(tracing_random_sampling, "tracing.random_sampling")                                          \
    C(tracing_service_forced, "tracing.service_forced")                                            \
    C(no_cluster, "no_cluster")                                                                    \
    C(no_route, "no_route")                                                                        \
    C(passthrough_internal_redirect_bad_location, "passthrough_internal_redirect_bad_location")    \
    C(passthrough_internal_redirect_no_route, "passthrough_internal_redirect_no_route")            \
    C(passthrough_internal_redirect_predicate, "passthrough_internal_redirect_predicate")          \
    C(passthrough_internal_redirect_too_many_redirects,                                            \
      "passthrough_internal_redirect_too_many_redirects")                                          \
    C(passthrough_internal_redirect_unsafe_scheme, "passthrough_internal_redirect_unsafe_scheme")  \
    C(rq_direct_response, "rq_direct_response")                                                    \
    C(rq_redirect, "rq_redirect")                                                                  \
    C(rq_reset_after_downstream_response_started, "rq_reset_after_downstream_response_started")    \
    C(rq_total, "rq_total")

/* Per-listener connection manager stats (CONN_MAN_LISTENER_STATS). */
#define OR_STATS_HTTP_LISTENER(C, G, H)                                                            \
    C(downstream_rq_1xx, "downstream_rq_1xx")                                                      \
    C(downstream_rq_2xx, "downstream_rq_2xx")                                                      \
    C(downstream_rq_3xx, "downstream_rq_3xx")                                                      \
    C(downstream_rq_4xx, "downstream_rq_4xx")                                                      \
    C(downstream_rq_5xx, "downstream_rq_5xx")                                                      \
    C(downstream_rq_completed, "downstream_rq_completed")

#define OR_STATS_LISTENER(C, G, H)                                                                 \
    C(downstream_cx_destroy, "downstream_cx_destroy")                                              \
    C(downstream_cx_overflow, "downstream_cx_overflow")                                            \
    C(downstream_cx_overload_reject, "downstream_cx_overload_reject")                              \
    C(downstream_cx_total, "downstream_cx_total")                                                  \
    C(downstream_cx_transport_socket_connect_timeout,                                              \
      "downstream_cx_transport_socket_connect_timeout")                                            \
    C(downstream_global_cx_overflow, "downstream_global_cx_overflow")                              \
    C(downstream_pre_cx_timeout, "downstream_pre_cx_timeout")                                      \
    C(no_filter_chain_match, "no_filter_chain_match")                                              \
    G(downstream_cx_active, "downstream_cx_active")                                                \
    G(downstream_pre_cx_active, "downstream_pre_cx_active")                                        \
    H(downstream_cx_length_ms, "downstream_cx_length_ms")

#define OR_STATS_LISTENER_MANAGER(C, G, H)                                                         \
    C(listener_added, "listener_added")                                                            \
    C(listener_create_failure, "listener_create_failure")                                          \
    C(listener_create_success, "listener_create_success")                                          \
    C(listener_in_place_updated, "listener_in_place_updated")                                      \
    C(listener_modified, "listener_modified")                                                      \
    C(listener_removed, "listener_removed")                                                        \
    C(listener_stopped, "listener_stopped")                                                        \
    G(total_filter_chains_draining, "total_filter_chains_draining")                                \
    G(total_listeners_active, "total_listeners_active")                                            \
    G(total_listeners_draining, "total_listeners_draining")                                        \
    G(total_listeners_warming, "total_listeners_warming")                                          \
    G(workers_started, "workers_started")

#define OR_STATS_CLUSTER_MANAGER(C, G, H)                                                          \
    C(cluster_added, "cluster_added")                                                              \
    C(cluster_modified, "cluster_modified")                                                        \
    C(cluster_removed, "cluster_removed")                                                          \
    C(cluster_updated, "cluster_updated")                                                          \
    C(cluster_updated_via_merge, "cluster_updated_via_merge")                                      \
    C(update_merge_cancelled, "update_merge_cancelled")                                            \
    C(update_out_of_merge_window, "update_out_of_merge_window")                                    \
    G(active_clusters, "active_clusters")                                                          \
    G(warming_clusters, "warming_clusters")

#define OR_STATS_CONTROL_PLANE(C, G, H)                                                            \
    C(rate_limit_enforced, "rate_limit_enforced")                                                  \
    G(connected_state, "connected_state")                                                          \
    G(pending_requests, "pending_requests")

/* Cluster stats: config-update, endpoint, lb and traffic groups, the default transport socket
 * match and circuit breakers of both priorities (the "remaining_*" gauges only exist with
 * track_remaining, so they are not here). */
#define OR_STATS_CLUSTER(C, G, H)                                                                  \
    C(assignment_stale, "assignment_stale")                                                        \
    C(assignment_timeout_received, "assignment_timeout_received")                                  \
    C(assignment_use_cached, "assignment_use_cached")                                              \
    C(update_attempt, "update_attempt")                                                            \
    C(update_empty, "update_empty")                                                                \
    C(update_failure, "update_failure")                                                            \
    C(update_no_rebuild, "update_no_rebuild")                                                      \
    C(update_success, "update_success")                                                            \
    G(version, "version")                                                                          \
    G(warming_state, "warming_state")                                                              \
    G(max_host_weight, "max_host_weight")                                                          \
    C(membership_change, "membership_change")                                                      \
    G(membership_degraded, "membership_degraded")                                                  \
    G(membership_excluded, "membership_excluded")                                                  \
    G(membership_healthy, "membership_healthy")                                                    \
    G(membership_total, "membership_total")                                                        \
    C(lb_healthy_panic, "lb_healthy_panic")                                                        \
    C(lb_local_cluster_not_ok, "lb_local_cluster_not_ok")                                          \
    C(lb_recalculate_zone_structures, "lb_recalculate_zone_structures")                            \
    C(lb_subsets_created, "lb_subsets_created")                                                    \
    C(lb_subsets_fallback, "lb_subsets_fallback")                                                  \
    C(lb_subsets_fallback_panic, "lb_subsets_fallback_panic")                                      \
    C(lb_subsets_removed, "lb_subsets_removed")                                                    \
    C(lb_subsets_selected, "lb_subsets_selected")                                                  \
    C(lb_zone_cluster_too_small, "lb_zone_cluster_too_small")                                      \
    C(lb_zone_no_capacity_left, "lb_zone_no_capacity_left")                                        \
    C(lb_zone_number_differs, "lb_zone_number_differs")                                            \
    C(lb_zone_routing_all_directly, "lb_zone_routing_all_directly")                                \
    C(lb_zone_routing_cross_zone, "lb_zone_routing_cross_zone")                                    \
    C(lb_zone_routing_sampled, "lb_zone_routing_sampled")                                          \
    G(lb_subsets_active, "lb_subsets_active")                                                      \
    C(bind_errors, "bind_errors")                                                                  \
    C(original_dst_host_invalid, "original_dst_host_invalid")                                      \
    C(retry_or_shadow_abandoned, "retry_or_shadow_abandoned")                                      \
    C(upstream_cx_close_notify, "upstream_cx_close_notify")                                        \
    C(upstream_cx_connect_attempts_exceeded, "upstream_cx_connect_attempts_exceeded")              \
    C(upstream_cx_connect_fail, "upstream_cx_connect_fail")                                        \
    C(upstream_cx_connect_timeout, "upstream_cx_connect_timeout")                                  \
    C(upstream_cx_connect_with_0_rtt, "upstream_cx_connect_with_0_rtt")                            \
    C(upstream_cx_destroy, "upstream_cx_destroy")                                                  \
    C(upstream_cx_destroy_local, "upstream_cx_destroy_local")                                      \
    C(upstream_cx_destroy_local_with_active_rq, "upstream_cx_destroy_local_with_active_rq")        \
    C(upstream_cx_destroy_remote, "upstream_cx_destroy_remote")                                    \
    C(upstream_cx_destroy_remote_with_active_rq, "upstream_cx_destroy_remote_with_active_rq")      \
    C(upstream_cx_destroy_with_active_rq, "upstream_cx_destroy_with_active_rq")                    \
    C(upstream_cx_http1_total, "upstream_cx_http1_total")                                          \
    C(upstream_cx_http2_total, "upstream_cx_http2_total")                                          \
    C(upstream_cx_http3_total, "upstream_cx_http3_total")                                          \
    C(upstream_cx_idle_timeout, "upstream_cx_idle_timeout")                                        \
    C(upstream_cx_max_duration_reached, "upstream_cx_max_duration_reached")                        \
    C(upstream_cx_max_requests, "upstream_cx_max_requests")                                        \
    C(upstream_cx_none_healthy, "upstream_cx_none_healthy")                                        \
    C(upstream_cx_overflow, "upstream_cx_overflow")                                                \
    C(upstream_cx_pool_overflow, "upstream_cx_pool_overflow")                                      \
    C(upstream_cx_protocol_error, "upstream_cx_protocol_error")                                    \
    C(upstream_cx_rx_bytes_total, "upstream_cx_rx_bytes_total")                                    \
    C(upstream_cx_total, "upstream_cx_total")                                                      \
    C(upstream_cx_tx_bytes_total, "upstream_cx_tx_bytes_total")                                    \
    C(upstream_flow_control_backed_up_total, "upstream_flow_control_backed_up_total")              \
    C(upstream_flow_control_drained_total, "upstream_flow_control_drained_total")                  \
    C(upstream_flow_control_paused_reading_total, "upstream_flow_control_paused_reading_total")    \
    C(upstream_flow_control_resumed_reading_total, "upstream_flow_control_resumed_reading_total")  \
    C(upstream_internal_redirect_failed_total, "upstream_internal_redirect_failed_total")          \
    C(upstream_internal_redirect_succeeded_total, "upstream_internal_redirect_succeeded_total")    \
    C(upstream_rq_cancelled, "upstream_rq_cancelled")                                              \
    C(upstream_rq_completed, "upstream_rq_completed")                                              \
    C(upstream_rq_maintenance_mode, "upstream_rq_maintenance_mode")                                \
    C(upstream_rq_max_duration_reached, "upstream_rq_max_duration_reached")                        \
    C(upstream_rq_pending_failure_eject, "upstream_rq_pending_failure_eject")                      \
    C(upstream_rq_pending_overflow, "upstream_rq_pending_overflow")                                \
    C(upstream_rq_pending_total, "upstream_rq_pending_total")                                      \
    C(upstream_rq_0rtt, "upstream_rq_0rtt")                                                        \
    C(upstream_rq_per_try_timeout, "upstream_rq_per_try_timeout")                                  \
    C(upstream_rq_per_try_idle_timeout, "upstream_rq_per_try_idle_timeout")                        \
    C(upstream_rq_retry, "upstream_rq_retry")                                                      \
    C(upstream_rq_retry_backoff_exponential, "upstream_rq_retry_backoff_exponential")              \
    C(upstream_rq_retry_backoff_ratelimited, "upstream_rq_retry_backoff_ratelimited")              \
    C(upstream_rq_retry_limit_exceeded, "upstream_rq_retry_limit_exceeded")                        \
    C(upstream_rq_retry_overflow, "upstream_rq_retry_overflow")                                    \
    C(upstream_rq_retry_success, "upstream_rq_retry_success")                                      \
    C(upstream_rq_rx_reset, "upstream_rq_rx_reset")                                                \
    C(upstream_rq_timeout, "upstream_rq_timeout")                                                  \
    C(upstream_rq_total, "upstream_rq_total")                                                      \
    C(upstream_rq_tx_reset, "upstream_rq_tx_reset")                                                \
    C(upstream_http3_broken, "upstream_http3_broken")                                              \
    G(upstream_cx_active, "upstream_cx_active")                                                    \
    G(upstream_cx_rx_bytes_buffered, "upstream_cx_rx_bytes_buffered")                              \
    G(upstream_cx_tx_bytes_buffered, "upstream_cx_tx_bytes_buffered")                              \
    G(upstream_rq_active, "upstream_rq_active")                                                    \
    G(upstream_rq_pending_active, "upstream_rq_pending_active")                                    \
    H(upstream_cx_connect_ms, "upstream_cx_connect_ms")                                            \
    H(upstream_cx_length_ms, "upstream_cx_length_ms")                                              \
    C(default_total_match_count, "default.total_match_count")                                      \
    G(cb_default_cx_open, "circuit_breakers.default.cx_open")                                      \
    G(cb_default_cx_pool_open, "circuit_breakers.default.cx_pool_open")                            \
    G(cb_default_rq_open, "circuit_breakers.default.rq_open")                                      \
    G(cb_default_rq_pending_open, "circuit_breakers.default.rq_pending_open")                      \
    G(cb_default_rq_retry_open, "circuit_breakers.default.rq_retry_open")                          \
    G(cb_high_cx_open, "circuit_breakers.high.cx_open")                                            \
    G(cb_high_cx_pool_open, "circuit_breakers.high.cx_pool_open")                                  \
    G(cb_high_rq_open, "circuit_breakers.high.rq_open")                                            \
    G(cb_high_rq_pending_open, "circuit_breakers.high.rq_pending_open")                            \
    G(cb_high_rq_retry_open, "circuit_breakers.high.rq_retry_open")

#define OR_STATS__FIELD(f, n) uint32_t f;

struct or_server_stats {
    OR_STATS_SERVER(OR_STATS__FIELD, OR_STATS__FIELD, OR_STATS__FIELD)
};

struct or_http_stats {
    OR_STATS_HTTP(OR_STATS__FIELD, OR_STATS__FIELD, OR_STATS__FIELD)
};

struct or_http_listener_stats {
    OR_STATS_HTTP_LISTENER(OR_STATS__FIELD, OR_STATS__FIELD, OR_STATS__FIELD)
};

struct or_listener_stats {
    OR_STATS_LISTENER(OR_STATS__FIELD, OR_STATS__FIELD, OR_STATS__FIELD)
};

struct or_listener_manager_stats {
    OR_STATS_LISTENER_MANAGER(OR_STATS__FIELD, OR_STATS__FIELD, OR_STATS__FIELD)
};

struct or_cluster_manager_stats {
    OR_STATS_CLUSTER_MANAGER(OR_STATS__FIELD, OR_STATS__FIELD, OR_STATS__FIELD)
};

struct or_control_plane_stats {
    OR_STATS_CONTROL_PLANE(OR_STATS__FIELD, OR_STATS__FIELD, OR_STATS__FIELD)
};

/* Envoy's CodeStats categories for upstream responses: every response is charged to ALL and to
 * one of EXTERNAL / INTERNAL (x-envoy-internal requests). */
enum or_rq_category {
    OR_RQ_ALL = 0,  /* cluster.<c>.upstream_rq_* */
    OR_RQ_EXTERNAL, /* cluster.<c>.external.upstream_rq_* */
    OR_RQ_INTERNAL, /* cluster.<c>.internal.upstream_rq_* */
    OR_RQ_NCATEGORIES,
};

#define OR_RQ_CODE_FIRST 100u
#define OR_RQ_CODE_COUNT 500u /* upstream_rq_100 .. upstream_rq_599 */

/* Envoy's dynamically created per-response cluster stats: shown once used, like Envoy. */
struct or_cluster_rq_stats {
    uint32_t completed[OR_RQ_NCATEGORIES]; /* [OR_RQ_ALL] is the block's upstream_rq_completed */
    uint32_t cls[OR_RQ_NCATEGORIES][5];    /* upstream_rq_1xx .. upstream_rq_5xx */
    uint32_t codes[OR_RQ_NCATEGORIES];     /* group base: upstream_rq_<code>, code 100..599 */
    uint32_t rq_time[OR_RQ_NCATEGORIES];   /* upstream_rq_time histograms (ms) */
};

struct or_cluster_stats {
    OR_STATS_CLUSTER(OR_STATS__FIELD, OR_STATS__FIELD, OR_STATS__FIELD)
    struct or_cluster_rq_stats rq;
};

/* ---- registration (main thread) ----
 * Each returns 0, or OR_EINVAL for a NULL argument or a name too long (> 4000 bytes). Handles of
 * stats the stats matcher rejects are 0 (the sink), so recording needs no checks. */

int or_stats_register_server(struct or_stats_store *st, struct or_server_stats *out);
/** http.<stat_prefix>. (HttpConnectionManager.stat_prefix). */
int or_stats_register_http(struct or_stats_store *st, const char *stat_prefix,
                           struct or_http_stats *out);
/** listener.<listener>.http.<stat_prefix>. — `listener` as for or_stats_register_listener. */
int or_stats_register_http_listener(struct or_stats_store *st, const char *listener,
                                    const char *stat_prefix, struct or_http_listener_stats *out);
/**
 * listener.<listener>. — `listener` is Listener.stat_prefix when set, otherwise the listen
 * address as Envoy prints it ("0.0.0.0:15000", "[::]:15001"); it is sanitized here
 * ("0.0.0.0_15000", "[__]_15001").
 */
int or_stats_register_listener(struct or_stats_store *st, const char *listener,
                               struct or_listener_stats *out);
int or_stats_register_listener_manager(struct or_stats_store *st,
                                       struct or_listener_manager_stats *out);
int or_stats_register_cluster_manager(struct or_stats_store *st,
                                      struct or_cluster_manager_stats *out);
int or_stats_register_control_plane(struct or_stats_store *st, struct or_control_plane_stats *out);
/** cluster.<alt_stat_name or name>. with the lazy per-response stats in out->rq. */
int or_stats_register_cluster(struct or_stats_store *st, const char *name,
                              struct or_cluster_stats *out);

/**
 * Main thread, every stats flush before or_stats_merge(): server.live, server.state,
 * server.uptime and the memory gauges (glibc mallinfo2: allocated = in-use bytes incl. mmapped
 * chunks, heap size = arena + mmapped bytes; physical size = resident set from /proc/self/statm).
 */
void or_stats_server_refresh(struct or_stats_store *st, const struct or_server_stats *ss,
                             int server_state /* enum or_server_state */, uint64_t uptime_s);

/** Envoy's server.version: the first 6 hex digits of the build SHA as a number (0 if not hex). */
uint64_t or_stats_version_number(const char *sha);

/* ---- data-path helpers (worker thread, its own shard) ---- */

/* Handle of downstream_rq_<cls>xx in an HTTP block (cls 1..5), 0 otherwise. */
#define OR_STATS__RQ_CLASS(b, cls)                                                                 \
    ((cls) == 1   ? (b)->downstream_rq_1xx                                                         \
     : (cls) == 2 ? (b)->downstream_rq_2xx                                                         \
     : (cls) == 3 ? (b)->downstream_rq_3xx                                                         \
     : (cls) == 4 ? (b)->downstream_rq_4xx                                                         \
     : (cls) == 5 ? (b)->downstream_rq_5xx                                                         \
                  : 0u)

/**
 * HCM: a response with `code` went downstream (Envoy charges it when the stream completes):
 * downstream_rq_<N>xx and downstream_rq_completed in http.<prefix>. and, when `ls` is not NULL,
 * in listener.<addr>.http.<prefix>.
 */
static inline void or_http_stats_response(struct or_stats_shard *s, const struct or_http_stats *hs,
                                          const struct or_http_listener_stats *ls, unsigned code)
{
    unsigned cls = code / 100u;
    if (hs != NULL) {
        or_counter_inc(s, OR_STATS__RQ_CLASS(hs, cls));
        or_counter_inc(s, hs->downstream_rq_completed);
    }
    if (ls != NULL) {
        or_counter_inc(s, OR_STATS__RQ_CLASS(ls, cls));
        or_counter_inc(s, ls->downstream_rq_completed);
    }
}

/**
 * Router: Envoy's CodeStats::chargeResponseStat for an upstream response (also for the 504/503
 * Envoy charges on upstream timeout or reset): upstream_rq_completed, upstream_rq_<N>xx and
 * upstream_rq_<code>, each for the cluster and for its external./internal. category.
 */
static inline void or_cluster_stats_response(struct or_stats_shard *s,
                                             const struct or_cluster_stats *cs, unsigned code,
                                             bool internal)
{
    const struct or_cluster_rq_stats *rq = &cs->rq;
    unsigned cat = internal ? OR_RQ_INTERNAL : OR_RQ_EXTERNAL;
    unsigned cats[2] = {OR_RQ_ALL, cat};
    for (unsigned i = 0; i < 2; i++) {
        unsigned c = cats[i];
        or_counter_inc(s, rq->completed[c]);
        if (code >= OR_RQ_CODE_FIRST && code < OR_RQ_CODE_FIRST + OR_RQ_CODE_COUNT) {
            or_counter_inc(s, rq->cls[c][code / 100u - 1u]);
            or_counter_inc(
                s, or_stats_group_handle(rq->codes[c], OR_RQ_CODE_COUNT, code - OR_RQ_CODE_FIRST));
        }
    }
}

/** Router: Envoy's chargeResponseTiming: upstream_rq_time and its category, in milliseconds. */
static inline void or_cluster_stats_rq_time(struct or_stats_shard *s,
                                            const struct or_cluster_stats *cs, bool internal,
                                            uint64_t ms)
{
    or_histogram_record(s, cs->rq.rq_time[OR_RQ_ALL], ms);
    or_histogram_record(s, cs->rq.rq_time[internal ? OR_RQ_INTERNAL : OR_RQ_EXTERNAL], ms);
}

#endif
