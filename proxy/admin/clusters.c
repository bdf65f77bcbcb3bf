/* GET /clusters in Envoy's text and JSON forms. */
#include "proxy/admin/clusters.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "envoy/admin/v3/clusters.pb-c.h"
#include "google/protobuf/wrappers.pb-c.h"
#include "proxy/admin/listeners.h"
#include "proxy/core/arena.h"
#include "proxy/core/err.h"
#include "proxy/upstream/cluster.h"
#include "proxy/upstream/host.h"

void or_admin_host_stats_sum(const struct or_host *h, struct or_admin_host_stats *out)
{
    memset(out, 0, sizeof(*out));
    for (uint32_t i = 0; h->counters != NULL && i < h->n_counters; i++) {
        const struct or_host_counters *c = &h->counters[i];
        out->cx_active += atomic_load_explicit(&c->cx_active, memory_order_relaxed);
        out->cx_connect_fail += atomic_load_explicit(&c->cx_connect_fail, memory_order_relaxed);
        out->cx_total += atomic_load_explicit(&c->cx_total, memory_order_relaxed);
        out->rq_active += atomic_load_explicit(&c->rq_active, memory_order_relaxed);
        out->rq_error += atomic_load_explicit(&c->rq_error, memory_order_relaxed);
        out->rq_success += atomic_load_explicit(&c->rq_success, memory_order_relaxed);
        out->rq_timeout += atomic_load_explicit(&c->rq_timeout, memory_order_relaxed);
        out->rq_total += atomic_load_explicit(&c->rq_total, memory_order_relaxed);
    }
}

static void host_stats(const struct or_admin_cluster_view *v, const struct or_host *h,
                       or_admin_host_stats_cb cb, void *ctx, struct or_admin_host_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (cb != NULL)
        cb(ctx, v->cluster, h, out);
    else
        or_admin_host_stats_sum(h, out);
}

/* Envoy's HostUtility::healthFlagsToString for the flags a configured health_status sets
 * (HostImplBase::setEdsHealthFlag): no active health checks or outlier detection here. */
static const char *health_flags(enum or_host_health h)
{
    switch (h) {
    case OR_HOST_HEALTH_UNHEALTHY:
    case OR_HOST_HEALTH_TIMEOUT:
        return "/failed_eds_health";
    case OR_HOST_HEALTH_DEGRADED:
        return "/degraded_eds_health";
    case OR_HOST_HEALTH_DRAINING:
        return "/eds_status_draining";
    default:
        return "healthy";
    }
}

/* fmt's "{}" for a double (Envoy prints success rates with it): the shortest text that reads back
 * as the same value, with ".0" added to integral values ("-1.0", "43.2"). */
static void format_rate(double v, char *buf, size_t len)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    if (strpbrk(buf, ".eEn") == NULL && strlen(buf) + 3 <= len)
        strcat(buf, ".0");
}

static const char *const priority_names[OR_CLUSTER_PRIORITY_COUNT] = {"default", "high"};

static int write_cluster_text(const struct or_admin_cluster_view *v, or_admin_host_stats_cb cb,
                              void *ctx, struct evbuffer *out)
{
    const struct or_cluster *c = v->cluster;
    const char *n = c->name;
    int bad = evbuffer_add_printf(out, "%s::observability_name::%s\n", n, n) < 0;
    for (int p = 0; p < OR_CLUSTER_PRIORITY_COUNT; p++) {
        const struct or_cluster_thresholds *t = &c->thresholds[p];
        const char *pn = priority_names[p];
        bad |= evbuffer_add_printf(out,
                                   "%s::%s_priority::max_connections::%u\n"
                                   "%s::%s_priority::max_pending_requests::%u\n"
                                   "%s::%s_priority::max_requests::%u\n"
                                   "%s::%s_priority::max_retries::%u\n",
                                   n, pn, t->max_connections, n, pn, t->max_pending_requests, n, pn,
                                   t->max_requests, n, pn, t->max_retries) < 0;
    }
    bad |= evbuffer_add_printf(out, "%s::added_via_api::%s\n", n,
                               v->added_via_api ? "true" : "false") < 0;
    char rate[40];
    format_rate(-1.0, rate, sizeof(rate));
    for (size_t i = 0; v->hosts != NULL && i < v->hosts->n_hosts; i++) {
        const struct or_host *h = v->hosts->hosts[i];
        const char *a = h->addr_str;
        struct or_admin_host_stats s;
        host_stats(v, h, cb, ctx, &s);
        /* Sorted by stat name, as Envoy's std::map of counters and gauges. */
        bad |=
            evbuffer_add_printf(
                out,
                "%s::%s::cx_active::%llu\n"
                "%s::%s::cx_connect_fail::%llu\n"
                "%s::%s::cx_total::%llu\n"
                "%s::%s::rq_active::%llu\n"
                "%s::%s::rq_error::%llu\n"
                "%s::%s::rq_success::%llu\n"
                "%s::%s::rq_timeout::%llu\n"
                "%s::%s::rq_total::%llu\n",
                n, a, (unsigned long long)s.cx_active, n, a, (unsigned long long)s.cx_connect_fail,
                n, a, (unsigned long long)s.cx_total, n, a, (unsigned long long)s.rq_active, n, a,
                (unsigned long long)s.rq_error, n, a, (unsigned long long)s.rq_success, n, a,
                (unsigned long long)s.rq_timeout, n, a, (unsigned long long)s.rq_total) < 0;
        bad |=
            evbuffer_add_printf(out,
                                "%s::%s::hostname::%s\n"
                                "%s::%s::health_flags::%s\n"
                                "%s::%s::weight::%u\n"
                                "%s::%s::region::\n"
                                "%s::%s::zone::\n"
                                "%s::%s::sub_zone::\n"
                                "%s::%s::canary::false\n"
                                "%s::%s::priority::0\n"
                                "%s::%s::success_rate::%s\n"
                                "%s::%s::local_origin_success_rate::%s\n",
                                n, a, h->hostname, n, a, health_flags(h->health), n, a, h->weight,
                                n, a, n, a, n, a, n, a, n, a, n, a, rate, n, a, rate) < 0;
    }
    return bad ? OR_ENOMEM : 0;
}

int or_admin_clusters_text(const struct or_admin_cluster_view *v, size_t n,
                           or_admin_host_stats_cb stats, void *ctx, struct evbuffer *out)
{
    for (size_t i = 0; i < n; i++)
        if (write_cluster_text(&v[i], stats, ctx, out) != 0)
            return OR_ENOMEM;
    return 0;
}

/* ---- JSON ---- */

static Google__Protobuf__UInt32Value *u32(struct or_arena *a, uint32_t v)
{
    Google__Protobuf__UInt32Value *w = (Google__Protobuf__UInt32Value *)or_admin__pb_new(
        a, &google__protobuf__uint32_value__descriptor);
    if (w != NULL)
        w->value = v;
    return w;
}

static Envoy__Config__Cluster__V3__CircuitBreakers *circuit_breakers(struct or_arena *a,
                                                                     const struct or_cluster *c)
{
    Envoy__Config__Cluster__V3__CircuitBreakers *cb =
        (Envoy__Config__Cluster__V3__CircuitBreakers *)or_admin__pb_new(
            a, &envoy__config__cluster__v3__circuit_breakers__descriptor);
    if (cb == NULL)
        return NULL;
    cb->thresholds = or_arena_alloc(a, OR_CLUSTER_PRIORITY_COUNT * sizeof(*cb->thresholds));
    if (cb->thresholds == NULL)
        return NULL;
    for (int p = 0; p < OR_CLUSTER_PRIORITY_COUNT; p++) {
        const struct or_cluster_thresholds *t = &c->thresholds[p];
        Envoy__Config__Cluster__V3__CircuitBreakers__Thresholds *th =
            (Envoy__Config__Cluster__V3__CircuitBreakers__Thresholds *)or_admin__pb_new(
                a, &envoy__config__cluster__v3__circuit_breakers__thresholds__descriptor);
        if (th == NULL)
            return NULL;
        th->priority = p == OR_CLUSTER_PRIORITY_HIGH
                           ? ENVOY__CONFIG__CORE__V3__ROUTING_PRIORITY__HIGH
                           : ENVOY__CONFIG__CORE__V3__ROUTING_PRIORITY__DEFAULT;
        th->max_connections = u32(a, t->max_connections);
        th->max_pending_requests = u32(a, t->max_pending_requests);
        th->max_requests = u32(a, t->max_requests);
        th->max_retries = u32(a, t->max_retries);
        if (th->max_connections == NULL || th->max_pending_requests == NULL ||
            th->max_requests == NULL || th->max_retries == NULL)
            return NULL;
        cb->thresholds[cb->n_thresholds++] = th;
    }
    return cb;
}

/* HostHealthStatus as Envoy's setHealthFlag sets it from the EDS flags. */
static Envoy__Config__Core__V3__HealthStatus eds_health(enum or_host_health h)
{
    switch (h) {
    case OR_HOST_HEALTH_UNHEALTHY:
    case OR_HOST_HEALTH_TIMEOUT:
        return ENVOY__CONFIG__CORE__V3__HEALTH_STATUS__UNHEALTHY;
    case OR_HOST_HEALTH_DEGRADED:
        return ENVOY__CONFIG__CORE__V3__HEALTH_STATUS__DEGRADED;
    case OR_HOST_HEALTH_DRAINING:
        return ENVOY__CONFIG__CORE__V3__HEALTH_STATUS__DRAINING;
    default:
        return ENVOY__CONFIG__CORE__V3__HEALTH_STATUS__HEALTHY;
    }
}

static int add_metric(struct or_arena *a, Envoy__Admin__V3__HostStatus *hs, const char *name,
                      uint64_t value, bool gauge)
{
    Envoy__Admin__V3__SimpleMetric *m = (Envoy__Admin__V3__SimpleMetric *)or_admin__pb_new(
        a, &envoy__admin__v3__simple_metric__descriptor);
    if (m == NULL)
        return OR_ENOMEM;
    m->name = (char *)name;
    m->value = value;
    m->type = gauge ? ENVOY__ADMIN__V3__SIMPLE_METRIC__TYPE__GAUGE
                    : ENVOY__ADMIN__V3__SIMPLE_METRIC__TYPE__COUNTER;
    hs->stats[hs->n_stats++] = m;
    return 0;
}

static Envoy__Admin__V3__HostStatus *host_status(struct or_arena *a,
                                                 const struct or_admin_cluster_view *v,
                                                 const struct or_host *h, or_admin_host_stats_cb cb,
                                                 void *ctx)
{
    Envoy__Admin__V3__HostStatus *hs = (Envoy__Admin__V3__HostStatus *)or_admin__pb_new(
        a, &envoy__admin__v3__host_status__descriptor);
    if (hs == NULL)
        return NULL;
    hs->address = or_admin__pb_address(a, (const struct sockaddr *)&h->addr, h->addrlen);
    hs->hostname = h->hostname;
    hs->weight = h->weight;
    hs->locality = (Envoy__Config__Core__V3__Locality *)or_admin__pb_new(
        a, &envoy__config__core__v3__locality__descriptor);
    hs->health_status = (Envoy__Admin__V3__HostHealthStatus *)or_admin__pb_new(
        a, &envoy__admin__v3__host_health_status__descriptor);
    hs->stats = or_arena_alloc(a, 8 * sizeof(*hs->stats));
    if (hs->address == NULL || hs->locality == NULL || hs->health_status == NULL ||
        hs->stats == NULL)
        return NULL;
    hs->health_status->eds_health_status = eds_health(h->health);
    struct or_admin_host_stats s;
    host_stats(v, h, cb, ctx, &s);
    if (add_metric(a, hs, "cx_connect_fail", s.cx_connect_fail, false) != 0 ||
        add_metric(a, hs, "cx_total", s.cx_total, false) != 0 ||
        add_metric(a, hs, "rq_error", s.rq_error, false) != 0 ||
        add_metric(a, hs, "rq_success", s.rq_success, false) != 0 ||
        add_metric(a, hs, "rq_timeout", s.rq_timeout, false) != 0 ||
        add_metric(a, hs, "rq_total", s.rq_total, false) != 0 ||
        add_metric(a, hs, "cx_active", s.cx_active, true) != 0 ||
        add_metric(a, hs, "rq_active", s.rq_active, true) != 0)
        return NULL;
    return hs;
}

static Envoy__Admin__V3__ClusterStatus *cluster_status(struct or_arena *a,
                                                       const struct or_admin_cluster_view *v,
                                                       or_admin_host_stats_cb cb, void *ctx)
{
    Envoy__Admin__V3__ClusterStatus *cs = (Envoy__Admin__V3__ClusterStatus *)or_admin__pb_new(
        a, &envoy__admin__v3__cluster_status__descriptor);
    if (cs == NULL)
        return NULL;
    cs->name = v->cluster->name;
    cs->observability_name = v->cluster->name;
    cs->added_via_api = v->added_via_api;
    if ((cs->circuit_breakers = circuit_breakers(a, v->cluster)) == NULL)
        return NULL;
    size_t nh = v->hosts != NULL ? v->hosts->n_hosts : 0;
    cs->host_statuses = or_arena_alloc(a, (nh ? nh : 1) * sizeof(*cs->host_statuses));
    if (cs->host_statuses == NULL)
        return NULL;
    for (size_t i = 0; i < nh; i++) {
        Envoy__Admin__V3__HostStatus *hs = host_status(a, v, v->hosts->hosts[i], cb, ctx);
        if (hs == NULL)
            return NULL;
        cs->host_statuses[cs->n_host_statuses++] = hs;
    }
    return cs;
}

int or_admin_clusters_json(const struct or_admin_cluster_view *v, size_t n,
                           or_admin_host_stats_cb stats, void *ctx, struct evbuffer *out)
{
    struct or_arena a;
    int rc = OR_ENOMEM;
    or_arena_init(&a, 0);
    Envoy__Admin__V3__Clusters *cl =
        (Envoy__Admin__V3__Clusters *)or_admin__pb_new(&a, &envoy__admin__v3__clusters__descriptor);
    if (cl == NULL)
        goto out;
    cl->cluster_statuses = or_arena_alloc(&a, (n ? n : 1) * sizeof(*cl->cluster_statuses));
    if (cl->cluster_statuses == NULL)
        goto out;
    for (size_t i = 0; i < n; i++) {
        Envoy__Admin__V3__ClusterStatus *cs = cluster_status(&a, &v[i], stats, ctx);
        if (cs == NULL)
            goto out;
        cl->cluster_statuses[cl->n_cluster_statuses++] = cs;
    }
    rc = or_admin__pb_write_json(&cl->base, out);
out:
    or_arena_deinit(&a);
    return rc;
}
