#include "proxy/upstream/dns.h"

#include "proxy/core/err.h"
#include "proxy/core/log.h"

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_RESOLV_CONF "/etc/resolv.conf"
#define DEFAULT_HOSTS "/etc/hosts"

struct or_dns {
    struct event_base *base;      /* borrowed */
    struct evdns_base *evdns;     /* owned */
    struct or_dns_query *queries; /* list of queries whose callback is still due */
};

struct or_dns_query {
    struct or_dns *dns; /* borrowed; NULL once detached (cancelled or resolver freed) */
    or_dns_cb cb;
    void *arg; /* borrowed: the caller's */
    enum or_dns_family family;
    struct event *deliver_ev; /* owned: hands a synchronous evdns answer to the next loop turn */
    bool in_resolve;          /* inside evdns_getaddrinfo(): answers must be deferred */
    bool in_flight;           /* evdns still owes us exactly one callback */
    int status;               /* answer kept for deferred delivery */
    size_t n_addrs;
    struct sockaddr_storage *addrs; /* owned */
    struct or_dns_query *prev;      /* links in dns->queries */
    struct or_dns_query *next;
    char name[];
};

const char *or_dns_family_name(enum or_dns_family f)
{
    switch (f) {
    case OR_DNS_AUTO:
        return "AUTO";
    case OR_DNS_V4_ONLY:
        return "V4_ONLY";
    case OR_DNS_V6_ONLY:
        return "V6_ONLY";
    case OR_DNS_V4_PREFERRED:
        return "V4_PREFERRED";
    case OR_DNS_ALL:
        return "ALL";
    }
    return "UNKNOWN";
}

/* evdns logs through libevent's global logger, which prints "[msg] ..." to stderr; its messages
 * (nameserver up/down, bad replies) belong in ours. Envoy logs DNS trouble at debug level. */
static void evdns_log(int is_warning, const char *msg)
{
    if (is_warning)
        or_log_warn("dns", "%s", msg);
    else
        or_log_debug("dns", "%s", msg);
}

struct or_dns *or_dns_new(struct event_base *base, const struct or_dns_options *opts)
{
    const char *resolv =
        opts != NULL && opts->resolv_conf != NULL ? opts->resolv_conf : DEFAULT_RESOLV_CONF;
    const char *hosts = opts != NULL && opts->hosts != NULL ? opts->hosts : DEFAULT_HOSTS;

    struct or_dns *dns = calloc(1, sizeof(*dns));
    if (dns == NULL)
        return NULL;
    dns->base = base;
    evdns_set_log_fn(evdns_log); /* process-wide; setting it again is harmless */
    /* DISABLE_WHEN_INACTIVE: an idle resolver must not keep event_base_dispatch() running. */
    dns->evdns = evdns_base_new(base, EVDNS_BASE_DISABLE_WHEN_INACTIVE);
    if (dns->evdns == NULL)
        goto fail_dns;
    /* The hosts file is loaded on its own below so that a broken resolv.conf cannot lose it. */
    int rc = evdns_base_resolv_conf_parse(
        dns->evdns, DNS_OPTION_NAMESERVERS | DNS_OPTION_SEARCH | DNS_OPTION_MISC, resolv);
    if (rc != 0) {
        /* 1-5: unreadable; 6: no nameserver lines. evdns falls back to 127.0.0.1 either way. */
        or_log_info("dns", "%s: %s; using 127.0.0.1 as nameserver", resolv,
                    rc == 6 ? "no nameserver configured" : "cannot be read");
    }
    /* 0x20 case randomisation makes evdns drop answers from resolvers that do not echo the
     * question's case byte for byte; c-ares (Envoy's resolver) does not randomise either. */
    evdns_base_set_option(dns->evdns, "randomize-case:", "0");
    if (evdns_base_load_hosts(dns->evdns, hosts) != 0)
        or_log_info("dns", "%s cannot be read; no hosts-file names", hosts);
    return dns;

fail_dns:
    free(dns);
    return NULL;
}

static void unlink_query(struct or_dns_query *q)
{
    if (q->prev != NULL)
        q->prev->next = q->next;
    else if (q->dns != NULL)
        q->dns->queries = q->next;
    if (q->next != NULL)
        q->next->prev = q->prev;
    q->prev = q->next = NULL;
}

static void free_query(struct or_dns_query *q)
{
    if (q->deliver_ev != NULL)
        event_free(q->deliver_ev);
    free(q->addrs);
    free(q);
}

/* Stops the callback from ever running. The memory goes now, or when evdns calls back (evdns has no
 * safe cancel: evdns_getaddrinfo_cancel defers a callback that reads the evdns_base, which may be
 * freed by then, so a detached lookup simply runs to its end). */
static void detach_query(struct or_dns_query *q)
{
    unlink_query(q);
    q->dns = NULL;
    q->cb = NULL;
    if (q->deliver_ev != NULL) {
        event_free(q->deliver_ev);
        q->deliver_ev = NULL;
    }
    if (!q->in_flight)
        free_query(q);
}

void or_dns_free(struct or_dns *dns)
{
    if (dns == NULL)
        return;
    while (dns->queries != NULL)
        detach_query(dns->queries);
    /* fail_requests=1: lookups on the wire get a SHUTDOWN callback on the next loop turn, which
     * frees both evdns's request and our detached query; with 0 both would leak. */
    evdns_base_free(dns->evdns, 1);
    free(dns);
}

void or_dns_cancel(struct or_dns_query *q)
{
    if (q != NULL && q->dns != NULL)
        detach_query(q);
}

static bool have_addr(const struct sockaddr_storage *addrs, size_t n,
                      const struct sockaddr_storage *a)
{
    for (size_t i = 0; i < n; i++) {
        if (addrs[i].ss_family != a->ss_family)
            continue;
        if (a->ss_family == AF_INET) {
            const struct sockaddr_in *x = (const struct sockaddr_in *)(const void *)&addrs[i];
            const struct sockaddr_in *y = (const struct sockaddr_in *)(const void *)a;
            if (x->sin_addr.s_addr == y->sin_addr.s_addr)
                return true;
        } else {
            const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)(const void *)&addrs[i];
            const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)(const void *)a;
            if (memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0 &&
                x->sin6_scope_id == y->sin6_scope_id)
                return true;
        }
    }
    return false;
}

/* Appends the addresses of family `fam` from `res` to q->addrs, without duplicates, port 0. */
static void take_family(struct or_dns_query *q, const struct evutil_addrinfo *res, int fam)
{
    for (const struct evutil_addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        if (ai->ai_family != fam || ai->ai_addr == NULL)
            continue;
        size_t len = fam == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
        if (ai->ai_addrlen < len)
            continue;
        struct sockaddr_storage ss;
        memset(&ss, 0, sizeof(ss));
        memcpy(&ss, ai->ai_addr, len);
        if (fam == AF_INET)
            ((struct sockaddr_in *)(void *)&ss)->sin_port = 0;
        else
            ((struct sockaddr_in6 *)(void *)&ss)->sin6_port = 0;
        if (!have_addr(q->addrs, q->n_addrs, &ss))
            q->addrs[q->n_addrs++] = ss;
    }
}

static bool has_family(const struct evutil_addrinfo *res, int fam)
{
    for (const struct evutil_addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        if (ai->ai_family == fam)
            return true;
    }
    return false;
}

/* Turns an evdns answer into q->status / q->addrs, applying the lookup family's preference. */
static void store_answer(struct or_dns_query *q, int result, const struct evutil_addrinfo *res)
{
    if (result != 0) {
        /* evdns reports NXDOMAIN as NONAME; an empty answer comes back as FAIL, like a timeout
         * or a refusal, so only NXDOMAIN is "not found" here. */
        if (result == EVUTIL_EAI_NONAME || result == EVUTIL_EAI_NODATA)
            q->status = OR_ENOTFOUND;
        else if (result == EVUTIL_EAI_MEMORY)
            q->status = OR_ENOMEM;
        else
            q->status = OR_EAGAIN;
        or_log_debug("dns", "%s (%s): %s", q->name, or_dns_family_name(q->family),
                     evutil_gai_strerror(result));
        return;
    }
    size_t max = 0;
    for (const struct evutil_addrinfo *ai = res; ai != NULL; ai = ai->ai_next)
        max++;
    if (max > 0) {
        q->addrs = calloc(max, sizeof(q->addrs[0]));
        if (q->addrs == NULL) {
            q->status = OR_ENOMEM;
            return;
        }
    }
    bool v4 = has_family(res, AF_INET), v6 = has_family(res, AF_INET6);
    switch (q->family) {
    case OR_DNS_V4_ONLY:
        take_family(q, res, AF_INET);
        break;
    case OR_DNS_V6_ONLY:
        take_family(q, res, AF_INET6);
        break;
    case OR_DNS_AUTO:
        take_family(q, res, v6 ? AF_INET6 : AF_INET);
        break;
    case OR_DNS_V4_PREFERRED:
        take_family(q, res, v4 ? AF_INET : AF_INET6);
        break;
    case OR_DNS_ALL:
        take_family(q, res, AF_INET);
        take_family(q, res, AF_INET6);
        break;
    }
    q->status = q->n_addrs > 0 ? OR_OK : OR_ENOTFOUND;
}

static void deliver(struct or_dns_query *q)
{
    or_dns_cb cb = q->cb;
    void *arg = q->arg;
    /* Unlinked first: the callback may free the resolver, which must not see this query. */
    unlink_query(q);
    q->dns = NULL;
    cb(arg, q->status, q->addrs, q->n_addrs);
    free_query(q);
}

static void on_deliver(evutil_socket_t fd, short what, void *arg)
{
    deliver(arg);
}

static void on_evdns(int result, struct evutil_addrinfo *res, void *arg)
{
    struct or_dns_query *q = arg;
    q->in_flight = false;
    if (q->dns == NULL) {
        /* Detached: nobody wants the answer any more. */
        if (res != NULL)
            evutil_freeaddrinfo(res);
        free_query(q);
        return;
    }
    store_answer(q, result, res);
    if (res != NULL)
        evutil_freeaddrinfo(res);
    if (q->in_resolve)
        event_active(q->deliver_ev, 0, 0);
    else
        deliver(q);
}

/* An IP literal is its own answer. evdns would send an address of the other family to the
 * nameserver as a name (an A query for "fd00::1"), so literals never reach it. */
static bool answer_literal(struct or_dns_query *q)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *in = (struct sockaddr_in *)(void *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)&ss;
    if (inet_pton(AF_INET, q->name, &in->sin_addr) == 1)
        ss.ss_family = AF_INET;
    else if (inet_pton(AF_INET6, q->name, &in6->sin6_addr) == 1)
        ss.ss_family = AF_INET6;
    else
        return false;
    bool wanted = !(q->family == OR_DNS_V4_ONLY && ss.ss_family != AF_INET) &&
                  !(q->family == OR_DNS_V6_ONLY && ss.ss_family != AF_INET6);
    if (!wanted) {
        q->status = OR_ENOTFOUND;
        return true;
    }
    q->addrs = calloc(1, sizeof(*q->addrs));
    if (q->addrs == NULL) {
        q->status = OR_ENOMEM;
        return true;
    }
    q->addrs[0] = ss;
    q->n_addrs = 1;
    q->status = OR_OK;
    return true;
}

struct or_dns_query *or_dns_resolve(struct or_dns *dns, const char *name, enum or_dns_family family,
                                    or_dns_cb cb, void *arg)
{
    size_t len = strlen(name);
    struct or_dns_query *q = calloc(1, sizeof(*q) + len + 1);
    if (q == NULL)
        return NULL;
    memcpy(q->name, name, len + 1);
    q->cb = cb;
    q->arg = arg;
    q->family = family;
    q->deliver_ev = event_new(dns->base, -1, 0, on_deliver, q);
    if (q->deliver_ev == NULL)
        goto fail_query;
    q->dns = dns;
    q->next = dns->queries;
    if (q->next != NULL)
        q->next->prev = q;
    dns->queries = q;

    if (answer_literal(q)) {
        event_active(q->deliver_ev, 0, 0);
        return q;
    }

    struct evutil_addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    switch (family) {
    case OR_DNS_V4_ONLY:
        hints.ai_family = AF_INET;
        break;
    case OR_DNS_V6_ONLY:
        hints.ai_family = AF_INET6;
        break;
    default:
        hints.ai_family = AF_UNSPEC;
        break;
    }
    /* One entry per address: without a socket type evutil lists each address once per protocol. */
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;

    q->in_flight = true;
    q->in_resolve = true;
    struct evdns_getaddrinfo_request *req =
        evdns_getaddrinfo(dns->evdns, name, NULL, &hints, on_evdns, q);
    q->in_resolve = false;
    if (req == NULL && q->in_flight) {
        /* evdns gave up without calling back (it always should); report it like OOM. */
        q->in_flight = false;
        q->status = OR_ENOMEM;
        event_active(q->deliver_ev, 0, 0);
    }
    /* The evdns request handle is not kept: see detach_query for why we never cancel it. */
    return q;

fail_query:
    free(q);
    return NULL;
}
