/* What an access log record is made of: a plain struct the connection manager fills when a stream
 * ends, with no dependency on the stream code. Everything is borrowed for the duration of one
 * or_access_log_record() call; formatting copies what it needs.
 *
 * "Unset" values print as "-" in text formats (or "" with omit_empty_values) and as null in typed
 * JSON (or the key is left out with omit_empty_values), exactly as Envoy's optional StreamInfo
 * fields do. Strings are unset when ptr is NULL; durations when negative; addresses when NULL. */
#ifndef OR_ACCESSLOG_INFO_H
#define OR_ACCESSLOG_INFO_H

#include <stdint.h>
#include <time.h>

#include "proxy/core/str.h"

struct or_headers;
struct sockaddr;

struct or_access_log_info {
    const struct or_headers *req_headers;   /* borrowed, NULL = none (%REQ% prints "-") */
    const struct or_headers *resp_headers;  /* borrowed, NULL = none */
    const struct or_headers *resp_trailers; /* borrowed, NULL = none */

    struct timespec start_time; /* CLOCK_REALTIME when the request's first byte arrived */
    /* Nanoseconds measured from start_time (monotonic differences); negative = not reached. */
    int64_t duration_ns;            /* %DURATION%: until the stream completed (last byte out) */
    int64_t request_duration_ns;    /* %REQUEST_DURATION%: last request byte received */
    int64_t request_tx_duration_ns; /* %REQUEST_TX_DURATION%: last request byte sent upstream */
    int64_t response_duration_ns;   /* %RESPONSE_DURATION%: first upstream response byte */
    int64_t downstream_tx_end_ns;   /* last response byte sent downstream (RESPONSE_TX_DURATION);
                                       negative = use duration_ns */
    unsigned response_code;         /* 0 = no response was started (Envoy logs 0) */
    struct or_str response_code_details;          /* borrowed, e.g. "via_upstream" */
    struct or_str connection_termination_details; /* borrowed */
    uint32_t response_flags;                      /* OR_AL_RF_* (= OR_RF_*) */
    uint64_t bytes_received;                      /* request body bytes */
    uint64_t bytes_sent;                          /* response body bytes */
    struct or_str protocol;                       /* borrowed: "HTTP/1.0", "HTTP/1.1", "HTTP/2" */
    struct or_str upstream_protocol;              /* borrowed */

    const struct sockaddr *upstream_host;       /* borrowed: selected host (%UPSTREAM_HOST%) */
    const struct sockaddr *upstream_local_addr; /* borrowed: local side of the upstream conn */
    struct or_str upstream_cluster;             /* borrowed: alt_stat_name, else cluster name */
    struct or_str upstream_transport_failure_reason; /* borrowed; spaces print as '_' */
    uint32_t upstream_attempt_count;                 /* %UPSTREAM_REQUEST_ATTEMPT_COUNT% */

    const struct sockaddr *downstream_local_addr;  /* borrowed: accepted socket's local address */
    const struct sockaddr *downstream_remote_addr; /* borrowed: peer, or the XFF-derived client */
    const struct sockaddr *downstream_direct_remote_addr; /* borrowed: physical peer; NULL = same
                                                              as downstream_remote_addr */
    uint64_t connection_id;                               /* %CONNECTION_ID% (0 = none, as Envoy) */
    struct or_str route_name;                             /* borrowed: Route.name */
    struct or_str requested_server_name;                  /* borrowed: TLS SNI */
    struct or_str local_reply_body;                       /* borrowed: body of a local reply */
};

#endif
