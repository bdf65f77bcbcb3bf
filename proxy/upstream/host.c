#include "proxy/upstream/host.h"

#include "proxy/core/err.h"
#include "proxy/upstream/cluster.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

static uint32_t counter_blocks;

void or_host_set_counter_blocks(uint32_t n)
{
    counter_blocks = n;
}

struct or_host *or_host_new(const struct sockaddr *sa, socklen_t len, const char *hostname,
                            uint32_t weight, enum or_host_health health)
{
    if (len == 0 || len > sizeof(struct sockaddr_storage))
        return NULL;
    if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6 && sa->sa_family != AF_UNIX)
        return NULL;
    struct or_host *h = calloc(1, sizeof(*h));
    if (h == NULL)
        return NULL;
    h->hostname = strdup(hostname != NULL ? hostname : "");
    if (h->hostname == NULL)
        goto fail_host;
    memcpy(&h->addr, sa, len);
    h->addrlen = len;
    /* A truncated string only happens for paths longer than sun_path, which cannot be built. */
    (void)or_sockaddr_format(sa, len, h->addr_str, sizeof(h->addr_str));
    h->weight = weight != 0 ? weight : 1;
    h->health = health;
    if (counter_blocks > 0) {
        h->counters = calloc(counter_blocks, sizeof(*h->counters));
        if (h->counters == NULL) {
            free(h->hostname);
            goto fail_host;
        }
        h->n_counters = counter_blocks;
    }
    atomic_init(&h->refs, 1);
    return h;

fail_host:
    free(h);
    return NULL;
}

struct or_host *or_host_ref(struct or_host *h)
{
    atomic_fetch_add_explicit(&h->refs, 1, memory_order_relaxed);
    return h;
}

void or_host_unref(struct or_host *h)
{
    if (h == NULL)
        return;
    /* acq_rel: the freeing thread must see every write made by the threads that dropped theirs. */
    if (atomic_fetch_sub_explicit(&h->refs, 1, memory_order_acq_rel) != 1)
        return;
    free(h->hostname);
    free(h->counters);
    free(h);
}

bool or_sockaddr_equal(const struct sockaddr *a, socklen_t alen, const struct sockaddr *b,
                       socklen_t blen)
{
    if (a->sa_family != b->sa_family)
        return false;
    switch (a->sa_family) {
    case AF_INET: {
        const struct sockaddr_in *x = (const struct sockaddr_in *)(const void *)a;
        const struct sockaddr_in *y = (const struct sockaddr_in *)(const void *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    case AF_INET6: {
        const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)(const void *)a;
        const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)(const void *)b;
        return x->sin6_port == y->sin6_port && x->sin6_scope_id == y->sin6_scope_id &&
               memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
    }
    case AF_UNIX:
        return alen == blen && memcmp(a, b, alen) == 0;
    }
    return false;
}

int or_sockaddr_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t buflen)
{
    char ip[INET6_ADDRSTRLEN];
    int n;

    if (buflen == 0)
        return OR_ETOOBIG;
    buf[0] = '\0';
    switch (sa->sa_family) {
    case AF_INET: {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
        n = snprintf(buf, buflen, "%s:%u", ip, (unsigned)ntohs(in->sin_port));
        break;
    }
    case AF_INET6: {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
        n = snprintf(buf, buflen, "[%s]:%u", ip, (unsigned)ntohs(in6->sin6_port));
        break;
    }
    case AF_UNIX: {
        const struct sockaddr_un *un = (const struct sockaddr_un *)(const void *)sa;
        size_t off = offsetof(struct sockaddr_un, sun_path);
        size_t plen = len > off ? len - off : 0;
        if (plen > 0 && un->sun_path[0] == '\0') {
            /* Abstract namespace: Envoy spells it with a leading '@'. */
            n = snprintf(buf, buflen, "@%.*s", (int)(plen - 1), un->sun_path + 1);
        } else {
            n = snprintf(buf, buflen, "%.*s", (int)strnlen(un->sun_path, plen), un->sun_path);
        }
        break;
    }
    default:
        return OR_EINVAL;
    }
    if (n < 0)
        return OR_EINVAL;
    if ((size_t)n >= buflen)
        return OR_ETOOBIG;
    return n;
}

int or_sockaddr_from_ip(const char *ip, uint16_t port, struct sockaddr_storage *out,
                        socklen_t *outlen)
{
    memset(out, 0, sizeof(*out));
    struct sockaddr_in *in = (struct sockaddr_in *)(void *)out;
    if (inet_pton(AF_INET, ip, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        *outlen = sizeof(*in);
        return OR_OK;
    }
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)out;
    if (inet_pton(AF_INET6, ip, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        *outlen = sizeof(*in6);
        return OR_OK;
    }
    if (strchr(ip, ':') == NULL || strchr(ip, '%') == NULL)
        return OR_EINVAL;
    /* A scoped IPv6 literal ("fe80::1%eth0"): only getaddrinfo knows how to map the scope, and
     * AI_NUMERICHOST keeps it from ever touching DNS. */
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_INET6;
    hints.ai_flags = AI_NUMERICHOST;
    if (getaddrinfo(ip, NULL, &hints, &res) != 0 || res == NULL)
        return OR_EINVAL;
    memcpy(in6, res->ai_addr, sizeof(*in6));
    in6->sin6_port = htons(port);
    *outlen = sizeof(*in6);
    freeaddrinfo(res);
    return OR_OK;
}

struct or_hostset *or_hostset_new(struct or_cluster *cluster, uint64_t version,
                                  struct or_host *const *hosts, size_t n)
{
    struct or_hostset *hs = calloc(1, sizeof(*hs) + n * sizeof(hs->hosts[0]));
    if (hs == NULL)
        return NULL;
    atomic_init(&hs->refs, 1);
    hs->cluster = cluster != NULL ? or_cluster_ref(cluster) : NULL;
    hs->version = version;
    hs->n_hosts = n;
    for (size_t i = 0; i < n; i++) {
        hs->hosts[i] = or_host_ref(hosts[i]);
        hs->total_weight += hosts[i]->weight;
    }
    return hs;
}

struct or_hostset *or_hostset_ref(struct or_hostset *hs)
{
    atomic_fetch_add_explicit(&hs->refs, 1, memory_order_relaxed);
    return hs;
}

void or_hostset_unref(struct or_hostset *hs)
{
    if (hs == NULL)
        return;
    if (atomic_fetch_sub_explicit(&hs->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (size_t i = 0; i < hs->n_hosts; i++)
        or_host_unref(hs->hosts[i]);
    or_cluster_unref(hs->cluster);
    free(hs);
}
