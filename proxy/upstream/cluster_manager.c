#include "proxy/upstream/cluster_manager.h"

#include "proxy/core/err.h"
#include "proxy/core/log.h"

#include <event2/event.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

struct cm_entry;

/* One DNS name of a STRICT_DNS or LOGICAL_DNS cluster (Envoy's ResolveTarget). */
struct cm_target {
    struct cm_entry *entry;               /* borrowed: the owning entry */
    const struct or_cluster_endpoint *ep; /* borrowed from entry->cluster */
    struct or_dns_query *query;           /* in flight, or NULL */
    struct event *timer;                  /* owned: the next refresh */
    size_t n_hosts;
    struct or_host **hosts; /* owned array of refs: the last good answer */
    bool answered;          /* the first lookup has finished (well or not) */
};

struct cm_entry {
    struct or_cluster_manager *cm; /* borrowed: back pointer */
    struct or_cluster *cluster;    /* ref */
    struct or_hostset *hostset;    /* ref: the latest host set, NULL before the first */
    uint64_t version;              /* of the latest host set */
    bool started;
    bool dirty;    /* a target's hosts changed since hostset was built */
    bool announce; /* hostset not yet given to on_hostset */
    size_t n_targets;
    struct cm_target *targets; /* owned */
};

struct or_cluster_manager {
    struct event_base *base; /* borrowed */
    char *resolv_conf;       /* owned copy of the DNS options, NULL = default */
    char *hosts_file;        /* owned, NULL = default */
    struct or_dns *dns;      /* owned; made for the first DNS cluster */
    struct or_cluster_manager_cbs cbs;
    void *ctx;                 /* borrowed: the owner's */
    struct cm_entry **entries; /* owned array of owned entries, in add order */
    size_t n_entries;
    size_t cap_entries;
    struct event *notify_ev; /* owned: runs the owner's callbacks from the loop */
    bool started;
    bool initialized; /* on_initialized has run */
};

static void schedule_notify(struct or_cluster_manager *cm)
{
    event_active(cm->notify_ev, 0, 0);
}

static struct cm_entry *find_entry(const struct or_cluster_manager *cm, const char *name,
                                   size_t *idx)
{
    for (size_t i = 0; i < cm->n_entries; i++) {
        if (strcmp(cm->entries[i]->cluster->name, name) == 0) {
            if (idx != NULL)
                *idx = i;
            return cm->entries[i];
        }
    }
    return NULL;
}

/* Makes e->hostset the next version holding `hosts`, to be announced. */
static int publish(struct cm_entry *e, struct or_host *const *hosts, size_t n)
{
    struct or_hostset *hs = or_hostset_new(e->cluster, e->version + 1, hosts, n);
    if (hs == NULL)
        return OR_ENOMEM;
    or_hostset_unref(e->hostset);
    e->hostset = hs;
    e->version++;
    e->announce = true;
    e->dirty = false;
    or_log_debug("upstream", "cluster %s: host set version %llu with %zu hosts", e->cluster->name,
                 (unsigned long long)e->version, n);
    schedule_notify(e->cm);
    return OR_OK;
}

static void start_static(struct cm_entry *e)
{
    const struct or_cluster *c = e->cluster;
    struct or_host **hosts = calloc(c->n_endpoints + 1, sizeof(*hosts));
    size_t n = 0;
    if (hosts == NULL)
        goto fail;
    for (; n < c->n_endpoints; n++) {
        const struct or_cluster_endpoint *ep = &c->endpoints[n];
        hosts[n] = or_host_new((const struct sockaddr *)&ep->addr, ep->addrlen, ep->hostname,
                               ep->weight, ep->health);
        if (hosts[n] == NULL)
            goto fail;
    }
    if (publish(e, hosts, n) != OR_OK)
        goto fail;
    for (size_t i = 0; i < n; i++)
        or_host_unref(hosts[i]);
    free(hosts);
    return;

fail:
    /* Out of memory at start: the cluster stays without hosts rather than half-built. */
    or_log_error("upstream", "cluster %s: out of memory building its hosts", c->name);
    for (size_t i = 0; i < n; i++)
        or_host_unref(hosts[i]);
    free(hosts);
    if (publish(e, NULL, 0) != OR_OK)
        e->announce = false;
}

/* After any target answered: builds the cluster's host set from every target once all of them have
 * answered at least once, and again whenever one of them changed. */
static void update_entry(struct cm_entry *e)
{
    size_t total = 0;
    for (size_t i = 0; i < e->n_targets; i++) {
        if (!e->targets[i].answered)
            return;
        total += e->targets[i].n_hosts;
    }
    if (e->hostset != NULL && !e->dirty)
        return;
    struct or_host **all = calloc(total + 1, sizeof(*all));
    if (all == NULL) {
        or_log_error("upstream", "cluster %s: out of memory publishing hosts", e->cluster->name);
        return; /* dirty stays set: the next answer retries */
    }
    size_t n = 0;
    for (size_t i = 0; i < e->n_targets; i++) {
        for (size_t j = 0; j < e->targets[i].n_hosts; j++)
            all[n++] = e->targets[i].hosts[j];
    }
    if (publish(e, all, n) != OR_OK)
        or_log_error("upstream", "cluster %s: out of memory publishing hosts", e->cluster->name);
    free(all);
}

static struct or_host *find_host(struct or_host *const *hosts, size_t n,
                                 const struct sockaddr_storage *sa, socklen_t len)
{
    for (size_t i = 0; i < n; i++) {
        if (or_sockaddr_equal((const struct sockaddr *)&hosts[i]->addr, hosts[i]->addrlen,
                              (const struct sockaddr *)sa, len))
            return hosts[i];
    }
    return NULL;
}

static void arm_refresh(struct cm_target *t)
{
    uint64_t ms = t->entry->cluster->dns_refresh_rate_ms;
    struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(t->timer, &tv);
}

/* Replaces t's hosts with one per address (port from the endpoint), keeping the host objects of
 * addresses it already had; *changed tells whether the set of addresses changed. 0 or OR_ENOMEM
 * (t unchanged). */
static int apply_answer(struct cm_target *t, const struct sockaddr_storage *addrs, size_t n,
                        bool *changed)
{
    const struct or_cluster_endpoint *ep = t->ep;
    struct sockaddr_storage *want = calloc(n + 1, sizeof(*want));
    socklen_t *lens = calloc(n + 1, sizeof(*lens));
    struct or_host **hosts = NULL;
    size_t made = 0;
    int rc = OR_ENOMEM;

    *changed = false;
    if (want == NULL || lens == NULL)
        goto out;
    for (size_t i = 0; i < n; i++) {
        want[i] = addrs[i];
        if (want[i].ss_family == AF_INET) {
            ((struct sockaddr_in *)(void *)&want[i])->sin_port = htons(ep->port);
            lens[i] = sizeof(struct sockaddr_in);
        } else {
            ((struct sockaddr_in6 *)(void *)&want[i])->sin6_port = htons(ep->port);
            lens[i] = sizeof(struct sockaddr_in6);
        }
    }
    /* Both lists are free of duplicates (the resolver removes them), so equal sizes plus inclusion
     * means the same set. */
    bool same = n == t->n_hosts;
    for (size_t i = 0; same && i < n; i++)
        same = find_host(t->hosts, t->n_hosts, &want[i], lens[i]) != NULL;
    if (same) {
        rc = OR_OK;
        goto out;
    }
    hosts = calloc(n + 1, sizeof(*hosts));
    if (hosts == NULL)
        goto out;
    const char *hostname = ep->hostname[0] != '\0' ? ep->hostname : ep->address;
    for (; made < n; made++) {
        struct or_host *old = find_host(t->hosts, t->n_hosts, &want[made], lens[made]);
        hosts[made] = old != NULL ? or_host_ref(old)
                                  : or_host_new((const struct sockaddr *)&want[made], lens[made],
                                                hostname, ep->weight, ep->health);
        if (hosts[made] == NULL)
            goto out;
    }
    for (size_t i = 0; i < t->n_hosts; i++)
        or_host_unref(t->hosts[i]);
    free(t->hosts);
    t->hosts = hosts;
    t->n_hosts = n;
    hosts = NULL;
    made = 0;
    *changed = true;
    rc = OR_OK;

out:
    for (size_t i = 0; i < made; i++)
        or_host_unref(hosts[i]);
    free(hosts);
    free(lens);
    free(want);
    return rc;
}

static void on_dns_answer(void *arg, int status, const struct sockaddr_storage *addrs, size_t n)
{
    struct cm_target *t = arg;
    struct cm_entry *e = t->entry;
    bool logical = e->cluster->type == OR_CLUSTER_LOGICAL_DNS;
    t->query = NULL;
    /* Envoy (c-ares resolver, dns_nodata_noname_is_success) takes NXDOMAIN as a good answer with no
     * records: a STRICT_DNS name that stops existing loses its hosts, while LOGICAL_DNS ignores
     * empty answers and keeps its address. Other failures keep the last good hosts for both. */
    if (status == OR_OK || (status == OR_ENOTFOUND && !logical)) {
        /* LOGICAL_DNS connects to the first address only (Envoy's logical host). */
        if (status != OR_OK)
            n = 0;
        else if (logical && n > 1)
            n = 1;
        bool changed = false;
        if (apply_answer(t, addrs, n, &changed) != OR_OK) {
            or_log_error("upstream", "cluster %s: out of memory applying DNS answer for %s",
                         e->cluster->name, t->ep->address);
        } else if (changed) {
            or_log_debug("upstream", "cluster %s: %s now resolves to %zu addresses",
                         e->cluster->name, t->ep->address, n);
            e->dirty = true;
        }
    } else {
        or_log_debug("upstream", "cluster %s: DNS resolution of %s failed: %s; keeping %zu hosts",
                     e->cluster->name, t->ep->address, or_strerror(status), t->n_hosts);
    }
    t->answered = true;
    arm_refresh(t);
    update_entry(e);
}

static struct or_dns *get_dns(struct or_cluster_manager *cm)
{
    if (cm->dns == NULL) {
        struct or_dns_options opts = {.resolv_conf = cm->resolv_conf, .hosts = cm->hosts_file};
        cm->dns = or_dns_new(cm->base, &opts);
    }
    return cm->dns;
}

static void resolve_target(struct cm_target *t)
{
    struct cm_entry *e = t->entry;
    struct or_dns *dns = get_dns(e->cm);
    if (dns != NULL) {
        t->query =
            or_dns_resolve(dns, t->ep->address, e->cluster->dns_lookup_family, on_dns_answer, t);
    }
    if (t->query == NULL) {
        or_log_error("upstream", "cluster %s: cannot start DNS resolution of %s: out of memory",
                     e->cluster->name, t->ep->address);
        t->answered = true;
        arm_refresh(t);
        update_entry(e);
    }
}

static void on_refresh(evutil_socket_t fd, short what, void *arg)
{
    resolve_target(arg);
}

static void start_entry(struct cm_entry *e)
{
    if (e->started)
        return;
    e->started = true;
    if (e->cluster->type == OR_CLUSTER_STATIC) {
        start_static(e);
        return;
    }
    if (e->n_targets == 0) {
        /* A STRICT_DNS cluster without endpoints is valid and simply empty. */
        update_entry(e);
        return;
    }
    for (size_t i = 0; i < e->n_targets; i++)
        resolve_target(&e->targets[i]);
}

static void free_entry(struct cm_entry *e)
{
    for (size_t i = 0; i < e->n_targets; i++) {
        struct cm_target *t = &e->targets[i];
        or_dns_cancel(t->query);
        if (t->timer != NULL)
            event_free(t->timer);
        for (size_t j = 0; j < t->n_hosts; j++)
            or_host_unref(t->hosts[j]);
        free(t->hosts);
    }
    free(e->targets);
    or_hostset_unref(e->hostset);
    or_cluster_unref(e->cluster);
    free(e);
}

struct announcement {
    struct or_cluster *cluster; /* ref */
    struct or_hostset *hs;      /* ref, handed to on_hostset */
};

static void on_notify(evutil_socket_t fd, short what, void *arg)
{
    struct or_cluster_manager *cm = arg;
    size_t n = 0;
    for (size_t i = 0; i < cm->n_entries; i++)
        n += cm->entries[i]->announce;

    /* Collect first, call after: the owner may add or remove clusters from its callbacks. */
    struct announcement *list = n > 0 ? calloc(n, sizeof(*list)) : NULL;
    if (n > 0 && list == NULL) {
        or_log_error("upstream", "out of memory announcing host sets; retrying");
        schedule_notify(cm);
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < cm->n_entries && k < n; i++) {
        struct cm_entry *e = cm->entries[i];
        if (!e->announce)
            continue;
        list[k].cluster = or_cluster_ref(e->cluster);
        list[k].hs = or_hostset_ref(e->hostset);
        e->announce = false;
        k++;
    }
    for (size_t i = 0; i < k; i++) {
        if (cm->cbs.on_hostset != NULL)
            cm->cbs.on_hostset(cm->ctx, list[i].cluster, list[i].hs);
        else
            or_hostset_unref(list[i].hs);
        or_cluster_unref(list[i].cluster);
    }
    free(list);

    if (!cm->started || cm->initialized)
        return;
    /* Initialized means every cluster's first host set has been handed over; one still waiting
     * (including one the callbacks above just added) has scheduled another round. */
    for (size_t i = 0; i < cm->n_entries; i++) {
        if (cm->entries[i]->hostset == NULL || cm->entries[i]->announce)
            return;
    }
    cm->initialized = true;
    if (cm->cbs.on_initialized != NULL)
        cm->cbs.on_initialized(cm->ctx);
}

struct or_cluster_manager *or_cluster_manager_new(struct event_base *base,
                                                  const struct or_dns_options *dns_opts,
                                                  const struct or_cluster_manager_cbs *cbs,
                                                  void *ctx)
{
    struct or_cluster_manager *cm = calloc(1, sizeof(*cm));
    if (cm == NULL)
        return NULL;
    cm->base = base;
    if (cbs != NULL)
        cm->cbs = *cbs;
    cm->ctx = ctx;
    if (dns_opts != NULL && dns_opts->resolv_conf != NULL) {
        cm->resolv_conf = strdup(dns_opts->resolv_conf);
        if (cm->resolv_conf == NULL)
            goto fail_cm;
    }
    if (dns_opts != NULL && dns_opts->hosts != NULL) {
        cm->hosts_file = strdup(dns_opts->hosts);
        if (cm->hosts_file == NULL)
            goto fail_cm;
    }
    cm->notify_ev = event_new(base, -1, 0, on_notify, cm);
    if (cm->notify_ev == NULL)
        goto fail_cm;
    return cm;

fail_cm:
    free(cm->hosts_file);
    free(cm->resolv_conf);
    free(cm);
    return NULL;
}

void or_cluster_manager_free(struct or_cluster_manager *cm)
{
    if (cm == NULL)
        return;
    for (size_t i = 0; i < cm->n_entries; i++)
        free_entry(cm->entries[i]);
    free(cm->entries);
    event_free(cm->notify_ev);
    or_dns_free(cm->dns);
    free(cm->hosts_file);
    free(cm->resolv_conf);
    free(cm);
}

int or_cluster_manager_add(struct or_cluster_manager *cm, struct or_cluster *c)
{
    if (find_entry(cm, c->name, NULL) != NULL)
        return OR_EINVAL;
    if (cm->n_entries == cm->cap_entries) {
        size_t cap = cm->cap_entries ? cm->cap_entries * 2 : 8;
        struct cm_entry **entries = realloc(cm->entries, cap * sizeof(*entries));
        if (entries == NULL)
            return OR_ENOMEM;
        cm->entries = entries;
        cm->cap_entries = cap;
    }
    struct cm_entry *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return OR_ENOMEM;
    e->cm = cm;
    if (c->type != OR_CLUSTER_STATIC) {
        /* LOGICAL_DNS has exactly one endpoint (translation checks it); extra ones are ignored. */
        e->n_targets = c->type == OR_CLUSTER_LOGICAL_DNS && c->n_endpoints > 1 ? 1 : c->n_endpoints;
        e->targets = calloc(e->n_targets + 1, sizeof(*e->targets));
        if (e->targets == NULL)
            goto fail_entry;
        for (size_t i = 0; i < e->n_targets; i++) {
            struct cm_target *t = &e->targets[i];
            t->entry = e;
            t->ep = &c->endpoints[i];
            t->timer = evtimer_new(cm->base, on_refresh, t);
            if (t->timer == NULL)
                goto fail_entry;
        }
    }
    e->cluster = or_cluster_ref(c);
    cm->entries[cm->n_entries++] = e;
    if (cm->started)
        start_entry(e);
    return OR_OK;

fail_entry:
    free_entry(e);
    return OR_ENOMEM;
}

int or_cluster_manager_remove(struct or_cluster_manager *cm, const char *name)
{
    size_t idx;
    struct cm_entry *e = find_entry(cm, name, &idx);
    if (e == NULL)
        return OR_ENOTFOUND;
    memmove(&cm->entries[idx], &cm->entries[idx + 1],
            (cm->n_entries - idx - 1) * sizeof(cm->entries[0]));
    cm->n_entries--;
    free_entry(e);
    /* The removed cluster may have been the last one initialization waited for. */
    if (cm->started && !cm->initialized)
        schedule_notify(cm);
    return OR_OK;
}

int or_cluster_manager_start(struct or_cluster_manager *cm)
{
    if (cm->started)
        return OR_OK;
    cm->started = true;
    /* Index loop: nothing here adds entries, but start_entry must not see a stale count. */
    for (size_t i = 0; i < cm->n_entries; i++)
        start_entry(cm->entries[i]);
    schedule_notify(cm);
    return OR_OK;
}

bool or_cluster_manager_initialized(const struct or_cluster_manager *cm)
{
    return cm->initialized;
}

struct or_cluster *or_cluster_manager_get(const struct or_cluster_manager *cm, const char *name)
{
    struct cm_entry *e = find_entry(cm, name, NULL);
    return e != NULL ? e->cluster : NULL;
}

struct or_hostset *or_cluster_manager_hostset(const struct or_cluster_manager *cm, const char *name)
{
    struct cm_entry *e = find_entry(cm, name, NULL);
    return e != NULL ? e->hostset : NULL;
}

size_t or_cluster_manager_count(const struct or_cluster_manager *cm)
{
    return cm->n_entries;
}

struct or_cluster *or_cluster_manager_at(const struct or_cluster_manager *cm, size_t i)
{
    return i < cm->n_entries ? cm->entries[i]->cluster : NULL;
}
