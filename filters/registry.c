/* The one table of HTTP filters, ordered by type URL for bsearch. Adding a filter = one line here:
 * no constructors or linker sections, which static linking would silently drop. */
#include "filters/http/router.h"
#include "proxy/http/filter.h"

#include <stdlib.h>
#include <string.h>

static const struct or_http_filter_type *const http_filters[] = {
    &or_router_filter_type, /* type.googleapis.com/envoy.extensions.filters.http.router.v3.Router */
};

#define N_HTTP_FILTERS (sizeof(http_filters) / sizeof(http_filters[0]))

static int cmp_url(const void *key, const void *elem)
{
    const struct or_http_filter_type *const *t = elem;
    return strcmp(key, (*t)->type_url);
}

const struct or_http_filter_type *or_http_filter_find_by_type_url(const char *type_url)
{
    const struct or_http_filter_type *const *t =
        bsearch(type_url, http_filters, N_HTTP_FILTERS, sizeof(http_filters[0]), cmp_url);
    return t != NULL ? *t : NULL;
}

const struct or_http_filter_type *or_http_filter_find_by_name(const char *name)
{
    for (size_t i = 0; i < N_HTTP_FILTERS; i++) {
        const struct or_http_filter_type *t = http_filters[i];
        if (strcmp(t->name, name) == 0 ||
            (t->legacy_name != NULL && strcmp(t->legacy_name, name) == 0))
            return t;
    }
    return NULL;
}
