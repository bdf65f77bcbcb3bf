/* Immutable configuration of one HTTP connection manager (a network filter on a listener's filter
 * chain), translated from envoy.extensions.filters.network.http_connection_manager.v3 and owned by
 * the snapshot. Workers only read it. */
#ifndef OR_HTTP_HCM_CONFIG_H
#define OR_HTTP_HCM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "proxy/http/filter.h"
#include "proxy/stats/blocks.h"

struct or_route_table;
struct or_access_log_config;

enum or_codec_type {
    OR_CODEC_AUTO = 0,
    OR_CODEC_HTTP1 = 1,
    OR_CODEC_HTTP2 = 2,
};

struct or_hcm_config {
    char *stat_prefix; /* owned */
    enum or_codec_type codec_type;
    struct or_route_table *routes;          /* owned: inline route_config */
    struct or_http_filter_factory *filters; /* owned array, router last */
    unsigned nfilters;
    bool use_remote_address;
    uint32_t xff_num_trusted_hops;
    bool generate_request_id;            /* default true */
    char *server_name;                   /* owned; default "envoy" */
    uint64_t idle_timeout_ms;            /* downstream connection idle, default 1 h; 0 = none */
    uint64_t stream_idle_timeout_ms;     /* default 5 min; 0 = none */
    uint64_t request_timeout_ms;         /* whole request; 0 = none (default) */
    uint64_t request_headers_timeout_ms; /* headers; 0 = none (default) */
    uint32_t max_request_headers_kb;     /* default 60 */
    uint32_t buffer_limit;               /* listener per_connection_buffer_limit_bytes */
    struct or_access_log_config **access_logs; /* owned array of owned configs */
    unsigned n_access_logs;
    struct or_http_stats stats;           /* http.<stat_prefix>. handles */
    struct or_http_listener_stats lstats; /* listener.<addr>.http.<stat_prefix>. handles */
};

void or_hcm_config_free(struct or_hcm_config *c);

#endif
