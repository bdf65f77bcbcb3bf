#include "proxy/config/translate_cluster.h"

#include "envoy/config/endpoint/v3/endpoint.pb-c.h"
#include "proxy/core/err.h"
#include "proxy/upstream/cluster.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_MAX_LEN 256

/* Largest |seconds| of a google.protobuf.Duration. */
#define DURATION_MAX_SECONDS 315576000000LL

/* Fills buf with "<base><fmt...>" (a field path). */
static const char *pathf(char *buf, const char *base, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static const char *pathf(char *buf, const char *base, const char *fmt, ...)
{
    int n = snprintf(buf, PATH_MAX_LEN, "%s", base);
    if (n < 0 || n >= PATH_MAX_LEN)
        return buf;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, PATH_MAX_LEN - (size_t)n, fmt, ap);
    va_end(ap);
    return buf;
}

static int nomem(struct or_err_detail *err)
{
    or_err_set(err, "", "out of memory");
    return OR_ENOMEM;
}

/* Duration -> milliseconds, truncated as Envoy's DurationUtil does. OR_EINVAL unless it is a valid
 * Duration strictly greater than `gt_nanos` (a bound below one second, in nanoseconds so that the
 * proto rule "gt 1ms" stays exact). */
static int duration_ms(const Google__Protobuf__Duration *d, int64_t gt_nanos, const char *gt_text,
                       const char *path, uint64_t *out, struct or_err_detail *err)
{
    int64_t s = d->seconds;
    int32_t ns = d->nanos;
    if (s > DURATION_MAX_SECONDS || s < -DURATION_MAX_SECONDS || ns > 999999999 ||
        ns < -999999999 || (s > 0 && ns < 0) || (s < 0 && ns > 0))
        return or_err_set(err, path, "value must be a valid duration");
    /* Compare (s, ns) > gt without overflow: gt is below one second. */
    if (s < 0 || (s == 0 && (int64_t)ns <= gt_nanos))
        return or_err_set(err, path, "value must be greater than %s", gt_text);
    *out = (uint64_t)s * 1000u + (uint64_t)ns / 1000000u;
    return OR_OK;
}

static int translate_type(const Envoy__Config__Cluster__V3__Cluster *pb, const char *path,
                          struct or_cluster *c, struct or_err_detail *err)
{
    char p[PATH_MAX_LEN];
    if (pb->cluster_discovery_type_case !=
        ENVOY__CONFIG__CLUSTER__V3__CLUSTER__CLUSTER_DISCOVERY_TYPE_TYPE) {
        c->type = OR_CLUSTER_STATIC; /* proto3 default of `type` */
        return OR_OK;
    }
    switch (pb->type) {
    case ENVOY__CONFIG__CLUSTER__V3__CLUSTER__DISCOVERY_TYPE__STATIC:
        c->type = OR_CLUSTER_STATIC;
        return OR_OK;
    case ENVOY__CONFIG__CLUSTER__V3__CLUSTER__DISCOVERY_TYPE__STRICT_DNS:
        c->type = OR_CLUSTER_STRICT_DNS;
        return OR_OK;
    case ENVOY__CONFIG__CLUSTER__V3__CLUSTER__DISCOVERY_TYPE__LOGICAL_DNS:
        c->type = OR_CLUSTER_LOGICAL_DNS;
        return OR_OK;
    case ENVOY__CONFIG__CLUSTER__V3__CLUSTER__DISCOVERY_TYPE__EDS:
        return or_err_set(err, pathf(p, path, ".type"),
                          "cluster type EDS is not supported (STATIC, STRICT_DNS and LOGICAL_DNS "
                          "are)");
    case ENVOY__CONFIG__CLUSTER__V3__CLUSTER__DISCOVERY_TYPE__ORIGINAL_DST:
        return or_err_set(err, pathf(p, path, ".type"),
                          "cluster type ORIGINAL_DST is not supported (STATIC, STRICT_DNS and "
                          "LOGICAL_DNS are)");
    default:
        break;
    }
    return or_err_set(err, pathf(p, path, ".type"), "value must be one of the defined enum values");
}

static int translate_lb_policy(const Envoy__Config__Cluster__V3__Cluster *pb, const char *path,
                               struct or_cluster *c, struct or_err_detail *err)
{
    char p[PATH_MAX_LEN];
    const char *name;
    switch (pb->lb_policy) {
    case ENVOY__CONFIG__CLUSTER__V3__CLUSTER__LB_POLICY__ROUND_ROBIN:
        c->lb_policy = OR_CLUSTER_LB_ROUND_ROBIN;
        return OR_OK;
    case ENVOY__CONFIG__CLUSTER__V3__CLUSTER__LB_POLICY__LEAST_REQUEST:
        c->lb_policy = OR_CLUSTER_LB_LEAST_REQUEST;
        return OR_OK;
    case ENVOY__CONFIG__CLUSTER__V3__CLUSTER__LB_POLICY__RANDOM:
        c->lb_policy = OR_CLUSTER_LB_RANDOM;
        return OR_OK;
    case ENVOY__CONFIG__CLUSTER__V3__CLUSTER__LB_POLICY__RING_HASH:
        name = "RING_HASH";
        break;
    case ENVOY__CONFIG__CLUSTER__V3__CLUSTER__LB_POLICY__MAGLEV:
        name = "MAGLEV";
        break;
    case ENVOY__CONFIG__CLUSTER__V3__CLUSTER__LB_POLICY__CLUSTER_PROVIDED:
        name = "CLUSTER_PROVIDED";
        break;
    case ENVOY__CONFIG__CLUSTER__V3__CLUSTER__LB_POLICY__LOAD_BALANCING_POLICY_CONFIG:
        name = "LOAD_BALANCING_POLICY_CONFIG";
        break;
    default:
        return or_err_set(err, pathf(p, path, ".lb_policy"),
                          "value must be one of the defined enum values");
    }
    return or_err_set(err, pathf(p, path, ".lb_policy"),
                      "load balancing policy %s is not supported (ROUND_ROBIN, LEAST_REQUEST and "
                      "RANDOM are)",
                      name);
}

static int translate_circuit_breakers(const Envoy__Config__Cluster__V3__CircuitBreakers *cb,
                                      const char *path, struct or_cluster *c,
                                      struct or_err_detail *err)
{
    char p[PATH_MAX_LEN];
    bool seen[OR_CLUSTER_PRIORITY_COUNT] = {false};
    for (size_t i = 0; i < cb->n_thresholds; i++) {
        const Envoy__Config__Cluster__V3__CircuitBreakers__Thresholds *t = cb->thresholds[i];
        int prio;
        switch (t->priority) {
        case ENVOY__CONFIG__CORE__V3__ROUTING_PRIORITY__DEFAULT:
            prio = OR_CLUSTER_PRIORITY_DEFAULT;
            break;
        case ENVOY__CONFIG__CORE__V3__ROUTING_PRIORITY__HIGH:
            prio = OR_CLUSTER_PRIORITY_HIGH;
            break;
        default:
            return or_err_set(err, pathf(p, path, ".circuit_breakers.thresholds[%zu].priority", i),
                              "value must be one of the defined enum values");
        }
        /* Envoy looks the priority up with find_if: the first entry wins, later ones are unused. */
        if (seen[prio])
            continue;
        seen[prio] = true;
        struct or_cluster_thresholds *th = &c->thresholds[prio];
        if (t->max_connections != NULL)
            th->max_connections = t->max_connections->value;
        if (t->max_pending_requests != NULL)
            th->max_pending_requests = t->max_pending_requests->value;
        if (t->max_requests != NULL)
            th->max_requests = t->max_requests->value;
        if (t->max_retries != NULL)
            th->max_retries = t->max_retries->value;
    }
    return OR_OK;
}

static int translate_dns_family(const Envoy__Config__Cluster__V3__Cluster *pb, const char *path,
                                struct or_cluster *c, struct or_err_detail *err)
{
    char p[PATH_MAX_LEN];
    switch (pb->dns_lookup_family) {
    case ENVOY__CONFIG__CLUSTER__V3__CLUSTER__DNS_LOOKUP_FAMILY__AUTO:
        c->dns_lookup_family = OR_DNS_AUTO;
        return OR_OK;
    case ENVOY__CONFIG__CLUSTER__V3__CLUSTER__DNS_LOOKUP_FAMILY__V4_ONLY:
        c->dns_lookup_family = OR_DNS_V4_ONLY;
        return OR_OK;
    case ENVOY__CONFIG__CLUSTER__V3__CLUSTER__DNS_LOOKUP_FAMILY__V6_ONLY:
        c->dns_lookup_family = OR_DNS_V6_ONLY;
        return OR_OK;
    case ENVOY__CONFIG__CLUSTER__V3__CLUSTER__DNS_LOOKUP_FAMILY__V4_PREFERRED:
        c->dns_lookup_family = OR_DNS_V4_PREFERRED;
        return OR_OK;
    case ENVOY__CONFIG__CLUSTER__V3__CLUSTER__DNS_LOOKUP_FAMILY__ALL:
        c->dns_lookup_family = OR_DNS_ALL;
        return OR_OK;
    default:
        break;
    }
    return or_err_set(err, pathf(p, path, ".dns_lookup_family"),
                      "value must be one of the defined enum values");
}

static int health_of(Envoy__Config__Core__V3__HealthStatus hs, enum or_host_health *out)
{
    switch (hs) {
    case ENVOY__CONFIG__CORE__V3__HEALTH_STATUS__UNKNOWN:
        *out = OR_HOST_HEALTH_UNKNOWN;
        return OR_OK;
    case ENVOY__CONFIG__CORE__V3__HEALTH_STATUS__HEALTHY:
        *out = OR_HOST_HEALTH_HEALTHY;
        return OR_OK;
    case ENVOY__CONFIG__CORE__V3__HEALTH_STATUS__UNHEALTHY:
        *out = OR_HOST_HEALTH_UNHEALTHY;
        return OR_OK;
    case ENVOY__CONFIG__CORE__V3__HEALTH_STATUS__DRAINING:
        *out = OR_HOST_HEALTH_DRAINING;
        return OR_OK;
    case ENVOY__CONFIG__CORE__V3__HEALTH_STATUS__TIMEOUT:
        *out = OR_HOST_HEALTH_TIMEOUT;
        return OR_OK;
    case ENVOY__CONFIG__CORE__V3__HEALTH_STATUS__DEGRADED:
        *out = OR_HOST_HEALTH_DEGRADED;
        return OR_OK;
    default:
        break;
    }
    return OR_EINVAL;
}

/* One LbEndpoint at `path` ("...lb_endpoints[j]"). */
static int translate_lb_endpoint(const Envoy__Config__Endpoint__V3__LbEndpoint *lbe,
                                 const char *path, uint32_t locality_weight, struct or_cluster *c,
                                 struct or_err_detail *err)
{
    char p[PATH_MAX_LEN];
    enum or_host_health health;
    uint32_t weight = 1;

    if (health_of(lbe->health_status, &health) != OR_OK)
        return or_err_set(err, pathf(p, path, ".health_status"),
                          "value must be one of the defined enum values");
    if (lbe->load_balancing_weight != NULL) {
        weight = lbe->load_balancing_weight->value;
        if (weight < 1)
            return or_err_set(err, pathf(p, path, ".load_balancing_weight"),
                              "value must be greater than or equal to 1");
    }
    if (lbe->host_identifier_case !=
            ENVOY__CONFIG__ENDPOINT__V3__LB_ENDPOINT__HOST_IDENTIFIER_ENDPOINT ||
        lbe->endpoint == NULL)
        return or_err_set(err, pathf(p, path, ".endpoint"), "must be set");
    const Envoy__Config__Endpoint__V3__Endpoint *ep = lbe->endpoint;
    const Envoy__Config__Core__V3__Address *addr = ep->address;
    const char *hostname = ep->hostname != NULL ? ep->hostname : "";

    if (addr == NULL || addr->address_case == ENVOY__CONFIG__CORE__V3__ADDRESS__ADDRESS__NOT_SET)
        return or_err_set(err, pathf(p, path, ".endpoint.address"),
                          "must be a socket_address or a pipe");

    const char *address;
    uint16_t port = 0;
    bool is_pipe = false;
    if (addr->address_case == ENVOY__CONFIG__CORE__V3__ADDRESS__ADDRESS_PIPE) {
        const Envoy__Config__Core__V3__Pipe *pipe = addr->pipe;
        if (c->type != OR_CLUSTER_STATIC)
            return or_err_set(err, pathf(p, path, ".endpoint.address"),
                              "%s clusters resolve names: the address must be a socket_address",
                              or_cluster_type_name(c->type));
        if (pipe == NULL || pipe->path == NULL || pipe->path[0] == '\0')
            return or_err_set(err, pathf(p, path, ".endpoint.address.pipe.path"),
                              "value length must be at least 1 characters");
        if (pipe->mode > 0777)
            return or_err_set(err, pathf(p, path, ".endpoint.address.pipe.mode"),
                              "value must be less than or equal to 511");
        address = pipe->path;
        is_pipe = true;
    } else {
        const Envoy__Config__Core__V3__SocketAddress *sa = addr->socket_address;
        if (sa == NULL || sa->address == NULL || sa->address[0] == '\0')
            return or_err_set(err, pathf(p, path, ".endpoint.address.socket_address.address"),
                              "value length must be at least 1 characters");
        if (sa->protocol != ENVOY__CONFIG__CORE__V3__SOCKET_ADDRESS__PROTOCOL__TCP)
            return or_err_set(err, pathf(p, path, ".endpoint.address.socket_address.protocol"),
                              "only TCP endpoints are supported");
        if (sa->port_specifier_case ==
            ENVOY__CONFIG__CORE__V3__SOCKET_ADDRESS__PORT_SPECIFIER_PORT_VALUE) {
            if (sa->port_value > 65535)
                return or_err_set(err,
                                  pathf(p, path, ".endpoint.address.socket_address.port_value"),
                                  "value must be less than or equal to 65535");
            port = (uint16_t)sa->port_value;
        }
        address = sa->address;
    }

    int rc = or_cluster_add_endpoint(c, address, port, is_pipe, hostname, weight, health);
    if (rc == OR_ENOMEM)
        return nomem(err);
    if (rc != OR_OK) {
        if (is_pipe)
            return or_err_set(err, pathf(p, path, ".endpoint.address.pipe.path"),
                              "path \"%s\" exceeds the maximum UNIX domain socket path size",
                              address);
        return or_err_set(err, pathf(p, path, ".endpoint.address.socket_address.address"),
                          "malformed IP address: %s. Consider setting resolver_name or setting "
                          "cluster type to 'STRICT_DNS' or 'LOGICAL_DNS'",
                          address);
    }
    c->endpoints[c->n_endpoints - 1].locality_weight = locality_weight;
    return OR_OK;
}

static int translate_load_assignment(const Envoy__Config__Endpoint__V3__ClusterLoadAssignment *la,
                                     const char *path, struct or_cluster *c,
                                     struct or_err_detail *err)
{
    char p[PATH_MAX_LEN];
    char lp[PATH_MAX_LEN];
    char ep[PATH_MAX_LEN];

    if (la == NULL) {
        if (c->type == OR_CLUSTER_LOGICAL_DNS)
            goto fail_logical;
        return OR_OK;
    }
    if (la->cluster_name == NULL || la->cluster_name[0] == '\0')
        return or_err_set(err, pathf(p, path, ".load_assignment.cluster_name"),
                          "value length must be at least 1 characters");
    if (c->type == OR_CLUSTER_LOGICAL_DNS &&
        (la->n_endpoints != 1 || la->endpoints[0]->n_lb_endpoints != 1))
        goto fail_logical;

    for (size_t i = 0; i < la->n_endpoints; i++) {
        const Envoy__Config__Endpoint__V3__LocalityLbEndpoints *lle = la->endpoints[i];
        pathf(lp, path, ".load_assignment.endpoints[%zu]", i);
        uint32_t locality_weight = 0;
        if (lle->load_balancing_weight != NULL) {
            locality_weight = lle->load_balancing_weight->value;
            if (locality_weight < 1)
                return or_err_set(err, pathf(p, lp, ".load_balancing_weight"),
                                  "value must be greater than or equal to 1");
        }
        if (lle->priority > 128)
            return or_err_set(err, pathf(p, lp, ".priority"),
                              "value must be less than or equal to 128");
        if (lle->priority != 0)
            return or_err_set(err, pathf(p, lp, ".priority"),
                              "priorities other than 0 are not supported");
        uint64_t weight_sum = 0;
        for (size_t j = 0; j < lle->n_lb_endpoints; j++) {
            pathf(ep, lp, ".lb_endpoints[%zu]", j);
            int rc = translate_lb_endpoint(lle->lb_endpoints[j], ep, locality_weight, c, err);
            if (rc != OR_OK)
                return rc;
            weight_sum += c->endpoints[c->n_endpoints - 1].weight;
            if (weight_sum > UINT32_MAX)
                return or_err_set(err, pathf(p, lp, ".lb_endpoints"),
                                  "The sum of weights of all upstream hosts in a locality exceeds "
                                  "%u",
                                  UINT32_MAX);
        }
    }
    return OR_OK;

fail_logical:
    return or_err_set(err, pathf(p, path, ".load_assignment"),
                      "LOGICAL_DNS clusters must have a single locality_lb_endpoint and a single "
                      "lb_endpoint");
}

int or_cluster_from_proto(const Envoy__Config__Cluster__V3__Cluster *pb, const char *path,
                          struct or_cluster **out, struct or_err_detail *err)
{
    char p[PATH_MAX_LEN];
    int rc;

    *out = NULL;
    if (pb->name == NULL || pb->name[0] == '\0')
        return or_err_set(err, pathf(p, path, ".name"),
                          "value length must be at least 1 characters");
    struct or_cluster *c = or_cluster_new(pb->name);
    if (c == NULL)
        return nomem(err);

    if ((rc = translate_type(pb, path, c, err)) != OR_OK)
        goto fail;
    if (pb->connect_timeout != NULL) {
        rc = duration_ms(pb->connect_timeout, 0, "0s", pathf(p, path, ".connect_timeout"),
                         &c->connect_timeout_ms, err);
        if (rc != OR_OK)
            goto fail;
    }
    if (pb->per_connection_buffer_limit_bytes != NULL)
        c->per_connection_buffer_limit_bytes = pb->per_connection_buffer_limit_bytes->value;
    if ((rc = translate_lb_policy(pb, path, c, err)) != OR_OK)
        goto fail;
    if (pb->circuit_breakers != NULL &&
        (rc = translate_circuit_breakers(pb->circuit_breakers, path, c, err)) != OR_OK)
        goto fail;
    if (pb->dns_refresh_rate != NULL) {
        rc = duration_ms(pb->dns_refresh_rate, 1000000, "1ms", pathf(p, path, ".dns_refresh_rate"),
                         &c->dns_refresh_rate_ms, err);
        if (rc != OR_OK)
            goto fail;
    }
    if ((rc = translate_dns_family(pb, path, c, err)) != OR_OK)
        goto fail;
    if ((rc = translate_load_assignment(pb->load_assignment, path, c, err)) != OR_OK)
        goto fail;
    *out = c;
    return OR_OK;

fail:
    or_cluster_unref(c);
    return rc;
}

int or_clusters_from_protos(Envoy__Config__Cluster__V3__Cluster *const *pbs, size_t n,
                            const char *path_prefix, struct or_cluster ***out,
                            struct or_err_detail *err)
{
    char p[PATH_MAX_LEN];
    size_t done = 0;
    int rc;

    *out = NULL;
    struct or_cluster **cs = calloc(n + 1, sizeof(*cs));
    if (cs == NULL)
        return nomem(err);
    for (; done < n; done++) {
        rc = or_cluster_from_proto(pbs[done], pathf(p, path_prefix, "[%zu]", done), &cs[done], err);
        if (rc != OR_OK)
            goto fail;
        /* Quadratic, but a bootstrap has tens of clusters and CDS checks names on its own. */
        for (size_t j = 0; j < done; j++) {
            if (strcmp(cs[j]->name, cs[done]->name) == 0) {
                done++; /* cs[done] is valid: release it too */
                rc =
                    or_err_set(err, pathf(p, path_prefix, "[%zu].name", done - 1),
                               "cluster manager: duplicate cluster '%s' found", cs[done - 1]->name);
                goto fail;
            }
        }
    }
    *out = cs;
    return OR_OK;

fail:
    or_clusters_free(cs, done);
    return rc;
}

void or_clusters_free(struct or_cluster **clusters, size_t n)
{
    if (clusters == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        or_cluster_unref(clusters[i]);
    free(clusters);
}
