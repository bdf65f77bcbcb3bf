/* Small HTTP helpers shared by the connection managers and the router. */
#ifndef OR_HTTP_UTIL_H
#define OR_HTTP_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "proxy/core/str.h"

/* RFC 7231 IMF-fixdate of now, cached per thread and refreshed once a second. */
struct or_str or_http_date_now(void);
/* A random (v4) UUID in 36 chars + NUL from two 64-bit random words, Envoy's x-request-id format.
 */
void or_uuid4(char out[37], uint64_t r1, uint64_t r2);

#endif
