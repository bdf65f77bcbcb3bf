/* Envoy's request header mutations at the connection manager (ConnectionManagerUtility::
 * mutateRequestHeaders): x-forwarded-for, x-forwarded-proto, the trusted client address with
 * xff_num_trusted_hops, x-envoy-internal / x-envoy-external-address, the clean-up of x-envoy-*
 * headers from external clients at the edge, and x-request-id. */
#ifndef OR_HTTP_FORWARDING_H
#define OR_HTTP_FORWARDING_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "proxy/http/headers.h"

struct or_hcm_config;

struct or_forwarding_ctx {
    const struct sockaddr *remote; /* borrowed: the downstream peer */
    const struct sockaddr *local;  /* borrowed: our side of the connection */
    bool tls;                      /* downstream is TLS (x-forwarded-proto https) */
    uint64_t rand1, rand2;         /* randomness for a new x-request-id */
};

/* Applies the mutations to a request's headers (copies go to the headers' arena). 0 or OR_ENOMEM.
 */
int or_forwarding_mutate_request(struct or_headers *h, const struct or_hcm_config *cfg,
                                 const struct or_forwarding_ctx *ctx);
/* Envoy's default internal addresses: RFC 1918, loopback, link-local excluded, IPv6 ULA and ::1. */
bool or_forwarding_is_internal(const struct sockaddr *sa);

#endif
