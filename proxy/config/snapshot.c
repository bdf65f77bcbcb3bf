#include "proxy/config/snapshot.h"
#include "proxy/config/translate_cluster.h"
#include "proxy/config/translate_route.h"
#include "proxy/router/route_table.h"
#include "proxy/upstream/cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* qsort has no context argument: the comparison reads the clusters through this. */
static __thread struct or_cluster **sort_clusters;

static int cmp_by_name(const void *a, const void *b)
{
    return strcmp(sort_clusters[*(const uint32_t *)a]->name,
                  sort_clusters[*(const uint32_t *)b]->name);
}

void or_snapshot_free(struct or_snapshot *s)
{
    if (s == NULL)
        return;
    for (uint32_t i = 0; i < s->n_listeners; i++)
        or_listener_rt_deinit(&s->listeners[i]);
    free(s->listeners);
    for (uint32_t i = 0; i < s->n_clusters; i++)
        or_cluster_unref(s->clusters[i]);
    free(s->clusters);
    for (uint32_t i = 0; s->loads != NULL && i < s->n_clusters; i++)
        or_cluster_load_deinit(&s->loads[i]);
    free(s->loads);
    free(s->by_name);
    free(s->cstats);
    free(s);
}

static bool has_cluster(void *ctx, const char *name)
{
    return or_snapshot_cluster_index(ctx, name, strlen(name)) >= 0;
}

int or_snapshot_build(const Envoy__Config__Bootstrap__V3__Bootstrap *b, struct or_snapshot **out,
                      struct or_err_detail *err)
{
    char p[256];
    struct or_snapshot *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return OR_ENOMEM;
    const Envoy__Config__Bootstrap__V3__Bootstrap__StaticResources *sr = b->static_resources;
    size_t nl = sr != NULL ? sr->n_listeners : 0;
    size_t nc = sr != NULL ? sr->n_clusters : 0;
    s->listeners = calloc(nl ? nl : 1, sizeof(*s->listeners));
    s->clusters = calloc(nc ? nc : 1, sizeof(*s->clusters));
    s->loads = calloc(nc ? nc : 1, sizeof(*s->loads));
    s->by_name = calloc(nc ? nc : 1, sizeof(*s->by_name));
    if (s->listeners == NULL || s->clusters == NULL || s->loads == NULL || s->by_name == NULL)
        goto fail_nomem;
    for (size_t i = 0; i < nc; i++) {
        snprintf(p, sizeof(p), "static_resources.clusters[%zu]", i);
        if (or_cluster_from_proto(sr->clusters[i], p, &s->clusters[i], err) != 0)
            goto fail;
        s->n_clusters++;
        s->by_name[i] = (uint32_t)i;
    }
    sort_clusters = s->clusters;
    qsort(s->by_name, nc, sizeof(*s->by_name), cmp_by_name);
    for (size_t i = 1; i < nc; i++) {
        if (strcmp(s->clusters[s->by_name[i]]->name, s->clusters[s->by_name[i - 1]]->name) == 0) {
            snprintf(p, sizeof(p), "static_resources.clusters[%u].name", s->by_name[i]);
            or_err_set(err, p, "cluster manager: duplicate cluster '%s' found",
                       s->clusters[s->by_name[i]]->name);
            goto fail;
        }
    }
    for (size_t i = 0; i < nl; i++) {
        snprintf(p, sizeof(p), "static_resources.listeners[%zu]", i);
        if (or_listener_from_proto(sr->listeners[i], p, &s->listeners[i], err) != 0)
            goto fail;
        s->n_listeners++;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(s->listeners[j].name, s->listeners[i].name) == 0) {
                snprintf(p, sizeof(p), "static_resources.listeners[%zu].name", i);
                or_err_set(err, p, "error adding listener: duplicate listener name '%s'",
                           s->listeners[i].name);
                goto fail;
            }
            if (strcmp(s->listeners[j].addr_str, s->listeners[i].addr_str) == 0 &&
                strstr(s->listeners[i].addr_str, ":0") == NULL) {
                snprintf(p, sizeof(p), "static_resources.listeners[%zu].address", i);
                or_err_set(err, p, "error adding listener '%s': address %s already in use by '%s'",
                           s->listeners[i].name, s->listeners[i].addr_str, s->listeners[j].name);
                goto fail;
            }
        }
    }
    /* Envoy validates the clusters of a static route table (validate_clusters defaults to true when
     * the table is inline): a route to a cluster that does not exist rejects the config. */
    for (uint32_t i = 0; i < s->n_listeners; i++) {
        snprintf(p, sizeof(p),
                 "static_resources.listeners[%u].filter_chains[0].filters[0].typed_config."
                 "route_config",
                 i);
        if (or_route_table_validate_clusters(s->listeners[i].hcm->routes, p, has_cluster, s, err) !=
            0)
            goto fail;
    }
    *out = s;
    return 0;
fail_nomem:
    or_err_set(err, NULL, "out of memory");
fail:
    or_snapshot_free(s);
    return OR_EINVAL;
}

int or_snapshot_cluster_index(const struct or_snapshot *s, const char *name, size_t len)
{
    size_t lo = 0, hi = s->n_clusters;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *n = s->clusters[s->by_name[mid]]->name;
        int c = strncmp(n, name, len);
        if (c == 0 && n[len] != '\0')
            c = 1;
        if (c == 0)
            return (int)s->by_name[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

int or_snapshot_register_stats(struct or_snapshot *s, struct or_stats_store *st)
{
    s->cstats = calloc(s->n_clusters ? s->n_clusters : 1, sizeof(*s->cstats));
    if (s->cstats == NULL)
        return OR_ENOMEM;
    for (uint32_t i = 0; i < s->n_clusters; i++)
        if (or_stats_register_cluster(st, s->clusters[i]->stat_name, &s->cstats[i]) != 0)
            return OR_ENOMEM;
    for (uint32_t i = 0; i < s->n_listeners; i++) {
        struct or_listener_rt *l = &s->listeners[i];
        if (or_stats_register_listener(st, l->addr_str, &l->stats) != 0 ||
            or_stats_register_http(st, l->hcm->stat_prefix, &l->hcm->stats) != 0 ||
            or_stats_register_http_listener(st, l->addr_str, l->hcm->stat_prefix,
                                            &l->hcm->lstats) != 0)
            return OR_ENOMEM;
    }
    return 0;
}
