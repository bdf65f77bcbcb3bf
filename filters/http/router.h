/* envoy.filters.http.router */
#ifndef OR_FILTERS_HTTP_ROUTER_H
#define OR_FILTERS_HTTP_ROUTER_H

#include "proxy/http/filter.h"

extern const struct or_http_filter_type or_router_filter_type;

#endif
