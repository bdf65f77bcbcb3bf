#include "proxy/upstream/cluster.h"

#include "proxy/core/err.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

struct or_cluster *or_cluster_new(const char *name)
{
    struct or_cluster *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->name = strdup(name);
    if (c->name == NULL)
        goto fail_cluster;
    c->stat_name = strdup(name);
    if (c->stat_name == NULL)
        goto fail_name;
    for (char *p = c->stat_name; *p != '\0'; p++) {
        if (*p == ':')
            *p = '_';
    }
    atomic_init(&c->refs, 1);
    c->type = OR_CLUSTER_STATIC;
    c->lb_policy = OR_CLUSTER_LB_ROUND_ROBIN;
    c->connect_timeout_ms = OR_CLUSTER_DEFAULT_CONNECT_TIMEOUT_MS;
    c->per_connection_buffer_limit_bytes = OR_CLUSTER_DEFAULT_BUFFER_LIMIT;
    for (int p = 0; p < OR_CLUSTER_PRIORITY_COUNT; p++) {
        c->thresholds[p] = (struct or_cluster_thresholds){
            .max_connections = OR_CLUSTER_DEFAULT_MAX_CONNECTIONS,
            .max_pending_requests = OR_CLUSTER_DEFAULT_MAX_PENDING_REQUESTS,
            .max_requests = OR_CLUSTER_DEFAULT_MAX_REQUESTS,
            .max_retries = OR_CLUSTER_DEFAULT_MAX_RETRIES,
        };
    }
    c->dns_lookup_family = OR_DNS_AUTO;
    c->dns_refresh_rate_ms = OR_CLUSTER_DEFAULT_DNS_REFRESH_MS;
    return c;

fail_name:
    free(c->name);
fail_cluster:
    free(c);
    return NULL;
}

int or_sockaddr_from_pipe(const char *path, struct sockaddr_storage *out, socklen_t *outlen)
{
    struct sockaddr_un *un = (struct sockaddr_un *)(void *)out;
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof(un->sun_path))
        return OR_EINVAL;
    memset(out, 0, sizeof(*out));
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, path, len);
    if (path[0] == '@') {
        /* Abstract namespace: the name is the bytes after the leading NUL, no terminator. */
        un->sun_path[0] = '\0';
        *outlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    } else {
        *outlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
    }
    return OR_OK;
}

int or_cluster_add_endpoint(struct or_cluster *c, const char *address, uint16_t port, bool is_pipe,
                            const char *hostname, uint32_t weight, enum or_host_health health)
{
    struct or_cluster_endpoint ep;
    memset(&ep, 0, sizeof(ep));
    if (c->type == OR_CLUSTER_STATIC) {
        int rc = is_pipe ? or_sockaddr_from_pipe(address, &ep.addr, &ep.addrlen)
                         : or_sockaddr_from_ip(address, port, &ep.addr, &ep.addrlen);
        if (rc != OR_OK)
            return rc;
    } else if (is_pipe) {
        return OR_EINVAL;
    }
    ep.port = is_pipe ? 0 : port;
    ep.is_pipe = is_pipe;
    ep.weight = weight != 0 ? weight : 1;
    ep.health = health;

    struct or_cluster_endpoint *eps =
        realloc(c->endpoints, (c->n_endpoints + 1) * sizeof(c->endpoints[0]));
    if (eps == NULL)
        return OR_ENOMEM;
    c->endpoints = eps;
    ep.address = strdup(address);
    if (ep.address == NULL)
        return OR_ENOMEM;
    ep.hostname = strdup(hostname != NULL ? hostname : "");
    if (ep.hostname == NULL)
        goto fail_address;
    c->endpoints[c->n_endpoints++] = ep;
    return OR_OK;

fail_address:
    free(ep.address);
    return OR_ENOMEM;
}

struct or_cluster *or_cluster_ref(struct or_cluster *c)
{
    atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
    return c;
}

void or_cluster_unref(struct or_cluster *c)
{
    if (c == NULL)
        return;
    if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (size_t i = 0; i < c->n_endpoints; i++) {
        free(c->endpoints[i].address);
        free(c->endpoints[i].hostname);
    }
    free(c->endpoints);
    free(c->stat_name);
    free(c->name);
    free(c);
}

const char *or_cluster_type_name(enum or_cluster_type t)
{
    switch (t) {
    case OR_CLUSTER_STATIC:
        return "STATIC";
    case OR_CLUSTER_STRICT_DNS:
        return "STRICT_DNS";
    case OR_CLUSTER_LOGICAL_DNS:
        return "LOGICAL_DNS";
    }
    return "UNKNOWN";
}

const char *or_cluster_lb_name(enum or_cluster_lb lb)
{
    switch (lb) {
    case OR_CLUSTER_LB_ROUND_ROBIN:
        return "ROUND_ROBIN";
    case OR_CLUSTER_LB_LEAST_REQUEST:
        return "LEAST_REQUEST";
    case OR_CLUSTER_LB_RANDOM:
        return "RANDOM";
    }
    return "UNKNOWN";
}
