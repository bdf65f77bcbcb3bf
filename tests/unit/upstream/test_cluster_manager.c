/* Cluster manager: STATIC host sets, STRICT_DNS and LOGICAL_DNS over real evdns (hosts file and a
 * loopback DNS server), refresh and change detection, failures keeping the last good hosts,
 * initialization, add/remove, and reference counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <event2/event.h>
#include <unistd.h>

#include "proxy/core/err.h"
#include "proxy/upstream/cluster.h"
#include "proxy/upstream/cluster_manager.h"
#include "proxy/upstream/host.h"
#include "test_dns_server.h"

/* ---- helpers ---- */

#define MAX_EVENTS 64

struct recorder {
    struct or_cluster_manager *cm;
    int hostsets;                        /* on_hostset calls */
    int inits;                           /* on_initialized calls */
    int hostsets_at_init;                /* on_hostset calls seen when on_initialized ran */
    char names[MAX_EVENTS][64];          /* cluster of each on_hostset */
    struct or_hostset *sets[MAX_EVENTS]; /* refs handed to us */
    bool in_api;                         /* set around calls into the manager */
    const char *remove_on_hostset;       /* cluster to remove from inside on_hostset */
};

static void on_hostset(void *ctx, struct or_cluster *c, struct or_hostset *hs)
{
    struct recorder *r = ctx;
    assert_false(r->in_api);
    assert_ptr_equal(hs->cluster, c);
    assert_true(r->hostsets < MAX_EVENTS);
    snprintf(r->names[r->hostsets], sizeof(r->names[0]), "%s", c->name);
    r->sets[r->hostsets++] = hs;
    if (r->remove_on_hostset != NULL) {
        assert_int_equal(or_cluster_manager_remove(r->cm, r->remove_on_hostset), 0);
        r->remove_on_hostset = NULL;
    }
}

static void on_initialized(void *ctx)
{
    struct recorder *r = ctx;
    assert_false(r->in_api);
    r->inits++;
    r->hostsets_at_init = r->hostsets;
}

static const struct or_cluster_manager_cbs cbs = {on_hostset, on_initialized};

static void release_all(struct recorder *r)
{
    for (int i = 0; i < r->hostsets; i++)
        or_hostset_unref(r->sets[i]);
    r->hostsets = 0;
}

/* The latest announced host set of `name`, or NULL. */
static struct or_hostset *last_of(struct recorder *r, const char *name)
{
    for (int i = r->hostsets - 1; i >= 0; i--) {
        if (strcmp(r->names[i], name) == 0)
            return r->sets[i];
    }
    return NULL;
}

static int count_of(struct recorder *r, const char *name)
{
    int n = 0;
    for (int i = 0; i < r->hostsets; i++)
        n += strcmp(r->names[i], name) == 0;
    return n;
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    *(bool *)arg = true;
}

/* Runs the loop until *count >= want; fails after 5 s. */
static void run_until(struct event_base *base, const int *count, int want)
{
    bool timed_out = false;
    struct event *t = evtimer_new(base, on_deadline, &timed_out);
    struct timeval tv = {5, 0};
    evtimer_add(t, &tv);
    while (*count < want && !timed_out)
        event_base_loop(base, EVLOOP_ONCE);
    event_free(t);
    if (timed_out)
        fail_msg("timed out waiting for %d events (got %d)", want, *count);
}

/* Runs the loop for `ms` milliseconds. */
static void run_for(struct event_base *base, int ms)
{
    bool done = false;
    struct event *t = evtimer_new(base, on_deadline, &done);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(t, &tv);
    while (!done)
        event_base_loop(base, EVLOOP_ONCE);
    event_free(t);
}

/* Runs the loop until the DNS server has answered `want` questions in all; fails after 5 s. Waiting
 * for two more questions than before proves a whole refresh went by (each lookup is armed after the
 * previous answer was handled), however slowly the machine runs. */
static void wait_queries(struct event_base *base, const struct fake_dns *srv, unsigned want)
{
    bool timed_out = false;
    struct event *t = evtimer_new(base, on_deadline, &timed_out);
    struct timeval tv = {5, 0};
    evtimer_add(t, &tv);
    while (srv->queries < want && !timed_out)
        event_base_loop(base, EVLOOP_ONCE);
    event_free(t);
    if (timed_out)
        fail_msg("timed out waiting for %u DNS questions (got %u)", want, srv->queries);
}

static struct or_cluster *make_cluster(const char *name, enum or_cluster_type type)
{
    struct or_cluster *c = or_cluster_new(name);
    assert_non_null(c);
    c->type = type;
    return c;
}

static void add_ep(struct or_cluster *c, const char *addr, uint16_t port, const char *hostname,
                   uint32_t weight)
{
    assert_int_equal(
        or_cluster_add_endpoint(c, addr, port, false, hostname, weight, OR_HOST_HEALTH_UNKNOWN), 0);
}

/* Adds c to the manager and drops the test's own reference. */
static void add_cluster(struct recorder *r, struct or_cluster *c)
{
    r->in_api = true;
    assert_int_equal(or_cluster_manager_add(r->cm, c), 0);
    r->in_api = false;
    or_cluster_unref(c);
}

static void start(struct recorder *r)
{
    r->in_api = true;
    assert_int_equal(or_cluster_manager_start(r->cm), 0);
    r->in_api = false;
}

static void assert_hosts(const struct or_hostset *hs, const char *const *want)
{
    size_t n = 0;
    while (want[n] != NULL)
        n++;
    if (hs->n_hosts != n)
        fail_msg("%zu hosts, want %zu", hs->n_hosts, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(hs->hosts[i]->addr_str, want[i]);
}

#define WANT(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NONE ((const char *const[]){NULL})

struct fixture {
    struct event_base *base;
    struct fake_dns server;
    char hosts_path[64];
    struct recorder rec;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->base = event_base_new();
    assert_non_null(f->base);
    assert_int_equal(fake_dns_start(&f->server, f->base), 0);
    assert_int_equal(fake_dns_write_file(f->hosts_path, "127.0.0.1 multi.test\n"
                                                        "127.0.0.2 multi.test\n"
                                                        "::1 multi.test\n"),
                     0);
    struct or_dns_options opts = {.resolv_conf = f->server.resolv_conf_path,
                                  .hosts = f->hosts_path};
    f->rec.cm = or_cluster_manager_new(f->base, &opts, &cbs, &f->rec);
    assert_non_null(f->rec.cm);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    or_cluster_manager_free(f->rec.cm);
    /* Host sets handed out outlive the manager. */
    for (int i = 0; i < f->rec.hostsets; i++) {
        assert_int_equal(atomic_load(&f->rec.sets[i]->refs), 1);
        for (size_t j = 0; j < f->rec.sets[i]->n_hosts; j++)
            assert_non_null(f->rec.sets[i]->hosts[j]->hostname);
    }
    release_all(&f->rec);
    event_base_loop(f->base, EVLOOP_NONBLOCK); /* lookups still on the wire (see or_dns_free) */
    fake_dns_stop(&f->server);
    unlink(f->hosts_path);
    event_base_free(f->base);
    free(f);
    return 0;
}

/* ---- tests ---- */

static void test_static_hostsets(void **state)
{
    struct fixture *f = *state;
    struct recorder *r = &f->rec;

    struct or_cluster *a = make_cluster("a", OR_CLUSTER_STATIC);
    add_ep(a, "10.0.0.1", 80, "one.example", 2);
    add_ep(a, "::1", 8443, NULL, 1);
    assert_int_equal(
        or_cluster_add_endpoint(a, "/tmp/a.sock", 0, true, NULL, 1, OR_HOST_HEALTH_UNHEALTHY), 0);
    add_cluster(r, a);
    add_cluster(r, make_cluster("empty", OR_CLUSTER_STATIC));
    assert_null(or_cluster_manager_hostset(r->cm, "a"));

    start(r);
    /* Nothing is announced from inside start(). */
    assert_int_equal(r->hostsets, 0);
    assert_false(or_cluster_manager_initialized(r->cm));
    run_until(f->base, &r->inits, 1);

    assert_int_equal(r->hostsets, 2);
    assert_int_equal(r->hostsets_at_init, 2);
    assert_true(or_cluster_manager_initialized(r->cm));
    struct or_hostset *hs = last_of(r, "a");
    assert_non_null(hs);
    assert_int_equal(hs->version, 1);
    assert_hosts(hs, WANT("10.0.0.1:80", "[::1]:8443", "/tmp/a.sock"));
    assert_string_equal(hs->hosts[0]->hostname, "one.example");
    assert_string_equal(hs->hosts[1]->hostname, "");
    assert_int_equal(hs->hosts[0]->weight, 2);
    assert_int_equal(hs->hosts[2]->health, OR_HOST_HEALTH_UNHEALTHY);
    assert_int_equal(hs->total_weight, 4);
    assert_string_equal(hs->cluster->name, "a");
    /* The manager keeps one reference, the announcement gave us another. */
    assert_ptr_equal(or_cluster_manager_hostset(r->cm, "a"), hs);
    assert_int_equal(atomic_load(&hs->refs), 2);
    assert_int_equal(atomic_load(&hs->hosts[0]->refs), 1);

    struct or_hostset *empty = last_of(r, "empty");
    assert_non_null(empty);
    assert_int_equal(empty->n_hosts, 0);

    assert_int_equal(or_cluster_manager_count(r->cm), 2);
    assert_string_equal(or_cluster_manager_at(r->cm, 0)->name, "a");
    assert_string_equal(or_cluster_manager_at(r->cm, 1)->name, "empty");
    assert_null(or_cluster_manager_at(r->cm, 2));
    assert_ptr_equal(or_cluster_manager_get(r->cm, "a"), hs->cluster);
    assert_null(or_cluster_manager_get(r->cm, "nope"));
    /* The cluster: one reference from the manager, one from each host set. */
    assert_int_equal(atomic_load(&hs->cluster->refs), 2);

    /* Nothing changes later: no more announcements. */
    run_for(f->base, 50);
    assert_int_equal(r->hostsets, 2);
    assert_int_equal(r->inits, 1);
}

static void test_no_clusters(void **state)
{
    struct fixture *f = *state;
    start(&f->rec);
    start(&f->rec); /* twice is fine */
    assert_int_equal(f->rec.inits, 0);
    run_until(f->base, &f->rec.inits, 1);
    assert_int_equal(f->rec.hostsets, 0);
    run_for(f->base, 20);
    assert_int_equal(f->rec.inits, 1);
}

/* The brief's case: "localhost" via the machine's own /etc/hosts, no nameserver needed. */
static void test_strict_dns_localhost_system(void **state)
{
    struct event_base *base = event_base_new();
    struct recorder rec;
    memset(&rec, 0, sizeof(rec));
    rec.cm = or_cluster_manager_new(base, NULL, &cbs, &rec);
    assert_non_null(rec.cm);

    struct or_cluster *c = make_cluster("local", OR_CLUSTER_STRICT_DNS);
    c->dns_lookup_family = OR_DNS_V4_ONLY;
    add_ep(c, "localhost", 8080, NULL, 1);
    add_cluster(&rec, c);
    struct or_cluster *c2 = make_cluster("local_auto", OR_CLUSTER_STRICT_DNS);
    add_ep(c2, "localhost", 9090, "backend.example", 1);
    add_cluster(&rec, c2);
    start(&rec);
    run_until(base, &rec.inits, 1);

    struct or_hostset *hs = last_of(&rec, "local");
    assert_non_null(hs);
    assert_true(hs->n_hosts >= 1);
    bool found = false;
    for (size_t i = 0; i < hs->n_hosts; i++) {
        found |= strcmp(hs->hosts[i]->addr_str, "127.0.0.1:8080") == 0;
        assert_string_equal(hs->hosts[i]->hostname, "localhost"); /* the DNS name */
    }
    assert_true(found);

    hs = last_of(&rec, "local_auto");
    assert_non_null(hs);
    assert_true(hs->n_hosts >= 1);
    for (size_t i = 0; i < hs->n_hosts; i++) {
        const char *s = hs->hosts[i]->addr_str;
        assert_true(strncmp(s, "127.", 4) == 0 || strcmp(s, "[::1]:9090") == 0);
        assert_string_equal(hs->hosts[i]->hostname, "backend.example"); /* Endpoint.hostname */
    }

    or_cluster_manager_free(rec.cm);
    release_all(&rec);
    event_base_loop(base, EVLOOP_NONBLOCK);
    event_base_free(base);
}

static void test_strict_dns_refresh(void **state)
{
    struct fixture *f = *state;
    struct recorder *r = &f->rec;
    fake_dns_add(&f->server, "svc.test", "10.0.0.1");
    fake_dns_add(&f->server, "svc.test", "10.0.0.2");

    struct or_cluster *c = make_cluster("dns", OR_CLUSTER_STRICT_DNS);
    c->dns_lookup_family = OR_DNS_V4_ONLY;
    c->dns_refresh_rate_ms = 20;
    add_ep(c, "svc.test", 80, NULL, 3);
    add_ep(c, "multi.test", 81, "m.example", 1);
    add_cluster(r, c);
    start(r);
    run_until(f->base, &r->inits, 1);

    struct or_hostset *v1 = last_of(r, "dns");
    assert_non_null(v1);
    assert_int_equal(v1->version, 1);
    assert_hosts(v1, WANT("10.0.0.1:80", "10.0.0.2:80", "127.0.0.1:81", "127.0.0.2:81"));
    assert_string_equal(v1->hosts[0]->hostname, "svc.test");
    assert_string_equal(v1->hosts[2]->hostname, "m.example");
    assert_int_equal(v1->hosts[0]->weight, 3);
    assert_int_equal(v1->total_weight, 3 + 3 + 1 + 1);

    /* Refreshes that return the same addresses publish nothing. */
    wait_queries(f->base, &f->server, f->server.queries + 2);
    assert_int_equal(count_of(r, "dns"), 1);

    /* A new address: version 2, keeping the host objects that did not change. */
    fake_dns_add(&f->server, "svc.test", "10.0.0.3");
    int first = r->hostsets;
    run_until(f->base, &r->hostsets, first + 1);
    struct or_hostset *v2 = last_of(r, "dns");
    assert_int_equal(v2->version, 2);
    assert_hosts(v2,
                 WANT("10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80", "127.0.0.1:81", "127.0.0.2:81"));
    assert_ptr_equal(v2->hosts[0], v1->hosts[0]);
    assert_ptr_equal(v2->hosts[1], v1->hosts[1]);
    assert_ptr_equal(v2->hosts[3], v1->hosts[2]);
    assert_ptr_equal(or_cluster_manager_hostset(r->cm, "dns"), v2);

    /* Same set in another order: not a change. */
    fake_dns_remove(&f->server, "svc.test");
    fake_dns_add(&f->server, "svc.test", "10.0.0.3");
    fake_dns_add(&f->server, "svc.test", "10.0.0.1");
    fake_dns_add(&f->server, "svc.test", "10.0.0.2");
    wait_queries(f->base, &f->server, f->server.queries + 2);
    assert_int_equal(count_of(r, "dns"), 2);

    /* The server fails: the last good hosts stay. */
    fake_dns_servfail(&f->server, "svc.test");
    wait_queries(f->base, &f->server, f->server.queries + 2);
    assert_int_equal(count_of(r, "dns"), 2);
    assert_ptr_equal(or_cluster_manager_hostset(r->cm, "dns"), v2);
    fake_dns_servfail(&f->server, NULL);

    /* The name stops existing (NXDOMAIN): an answer with no addresses, as in Envoy. */
    fake_dns_remove(&f->server, "svc.test");
    int before = r->hostsets;
    run_until(f->base, &r->hostsets, before + 1);
    struct or_hostset *v3 = last_of(r, "dns");
    assert_int_equal(v3->version, 3);
    assert_hosts(v3, WANT("127.0.0.1:81", "127.0.0.2:81"));
    assert_ptr_equal(v3->hosts[0], v1->hosts[2]);

    /* It comes back with one address. */
    fake_dns_add(&f->server, "svc.test", "10.0.0.9");
    before = r->hostsets;
    run_until(f->base, &r->hostsets, before + 1);
    struct or_hostset *v4 = last_of(r, "dns");
    assert_int_equal(v4->version, 4);
    assert_hosts(v4, WANT("10.0.0.9:80", "127.0.0.1:81", "127.0.0.2:81"));
    assert_int_equal(r->inits, 1);
}

static void test_strict_dns_families(void **state)
{
    struct fixture *f = *state;
    struct recorder *r = &f->rec;
    fake_dns_add(&f->server, "dual.test", "10.1.0.1");
    fake_dns_add(&f->server, "dual.test", "fd00::1");
    static const struct {
        const char *name;
        enum or_dns_family fam;
    } cs[] = {
        {"auto", OR_DNS_AUTO}, {"v4", OR_DNS_V4_ONLY},          {"v6", OR_DNS_V6_ONLY},
        {"all", OR_DNS_ALL},   {"v4pref", OR_DNS_V4_PREFERRED},
    };
    for (size_t i = 0; i < sizeof(cs) / sizeof(cs[0]); i++) {
        struct or_cluster *c = make_cluster(cs[i].name, OR_CLUSTER_STRICT_DNS);
        c->dns_lookup_family = cs[i].fam;
        add_ep(c, "dual.test", 443, NULL, 1);
        add_cluster(r, c);
    }
    start(r);
    run_until(f->base, &r->inits, 1);
    assert_hosts(last_of(r, "auto"), WANT("[fd00::1]:443"));
    assert_hosts(last_of(r, "v4"), WANT("10.1.0.1:443"));
    assert_hosts(last_of(r, "v6"), WANT("[fd00::1]:443"));
    assert_hosts(last_of(r, "all"), WANT("10.1.0.1:443", "[fd00::1]:443"));
    assert_hosts(last_of(r, "v4pref"), WANT("10.1.0.1:443"));
}

static void test_logical_dns_first_address(void **state)
{
    struct fixture *f = *state;
    struct recorder *r = &f->rec;
    fake_dns_add(&f->server, "logical.test", "10.0.0.5");
    fake_dns_add(&f->server, "logical.test", "10.0.0.6");
    fake_dns_add(&f->server, "logical.test", "10.0.0.7");

    struct or_cluster *c = make_cluster("logical", OR_CLUSTER_LOGICAL_DNS);
    c->dns_lookup_family = OR_DNS_V4_ONLY;
    c->dns_refresh_rate_ms = 20;
    add_ep(c, "logical.test", 9000, NULL, 1);
    add_cluster(r, c);
    start(r);
    run_until(f->base, &r->inits, 1);
    struct or_hostset *v1 = last_of(r, "logical");
    assert_hosts(v1, WANT("10.0.0.5:9000"));
    assert_string_equal(v1->hosts[0]->hostname, "logical.test");

    /* Other addresses moving around change nothing: only the first one counts. */
    fake_dns_remove(&f->server, "logical.test");
    fake_dns_add(&f->server, "logical.test", "10.0.0.5");
    fake_dns_add(&f->server, "logical.test", "10.0.0.8");
    wait_queries(f->base, &f->server, f->server.queries + 2);
    assert_int_equal(count_of(r, "logical"), 1);

    /* A new first address is a new host. */
    fake_dns_remove(&f->server, "logical.test");
    fake_dns_add(&f->server, "logical.test", "10.0.0.6");
    fake_dns_add(&f->server, "logical.test", "10.0.0.5");
    int before = r->hostsets;
    run_until(f->base, &r->hostsets, before + 1);
    struct or_hostset *v2 = last_of(r, "logical");
    assert_int_equal(v2->version, 2);
    assert_hosts(v2, WANT("10.0.0.6:9000"));

    /* NXDOMAIN and server failures: LOGICAL_DNS keeps its address. */
    fake_dns_remove(&f->server, "logical.test");
    wait_queries(f->base, &f->server, f->server.queries + 2);
    fake_dns_add(&f->server, "logical.test", "10.0.0.7");
    fake_dns_servfail(&f->server, "logical.test");
    wait_queries(f->base, &f->server, f->server.queries + 2);
    assert_int_equal(count_of(r, "logical"), 2);
    assert_ptr_equal(or_cluster_manager_hostset(r->cm, "logical"), v2);
}

static void test_dns_failure_still_initializes(void **state)
{
    struct fixture *f = *state;
    struct recorder *r = &f->rec;
    fake_dns_servfail(&f->server, "broken.test");
    struct or_cluster *s = make_cluster("static", OR_CLUSTER_STATIC);
    add_ep(s, "127.0.0.1", 1, NULL, 1);
    add_cluster(r, s);
    struct or_cluster *c = make_cluster("gone", OR_CLUSTER_STRICT_DNS);
    add_ep(c, "gone.test", 80, NULL, 1);
    add_ep(c, "multi.test", 80, NULL, 1);
    add_cluster(r, c);
    struct or_cluster *b = make_cluster("broken", OR_CLUSTER_STRICT_DNS);
    b->dns_lookup_family = OR_DNS_V4_ONLY;
    add_ep(b, "broken.test", 80, NULL, 1);
    add_cluster(r, b);
    struct or_cluster *l = make_cluster("gone_logical", OR_CLUSTER_LOGICAL_DNS);
    add_ep(l, "gone.test", 80, NULL, 1);
    add_cluster(r, l);
    add_cluster(r, make_cluster("no_endpoints", OR_CLUSTER_STRICT_DNS));
    start(r);
    run_until(f->base, &r->inits, 1);
    /* Every cluster was announced before initialization, the failed ones too. */
    assert_int_equal(r->hostsets_at_init, 5);
    assert_hosts(last_of(r, "gone"), WANT("[::1]:80")); /* AUTO: the hosts file's IPv6 */
    assert_hosts(last_of(r, "broken"), NONE);
    assert_hosts(last_of(r, "gone_logical"), NONE);
    assert_hosts(last_of(r, "no_endpoints"), NONE);
    assert_int_equal(last_of(r, "gone_logical")->version, 1);
}

static void test_add_remove(void **state)
{
    struct fixture *f = *state;
    struct recorder *r = &f->rec;
    struct or_cluster *a = make_cluster("a", OR_CLUSTER_STATIC);
    add_ep(a, "10.0.0.1", 80, NULL, 1);
    add_cluster(r, a);

    struct or_cluster *dup = make_cluster("a", OR_CLUSTER_STATIC);
    assert_int_equal(or_cluster_manager_add(r->cm, dup), OR_EINVAL);
    assert_int_equal(atomic_load(&dup->refs), 1);
    or_cluster_unref(dup);
    assert_int_equal(or_cluster_manager_remove(r->cm, "nope"), OR_ENOTFOUND);

    /* A DNS cluster whose lookup is still on the wire when it is removed. */
    fake_dns_add(&f->server, "svc.test", "10.0.0.1");
    struct or_cluster *d = make_cluster("d", OR_CLUSTER_STRICT_DNS);
    add_ep(d, "svc.test", 80, NULL, 1);
    add_cluster(r, d);
    start(r);
    r->in_api = true;
    assert_int_equal(or_cluster_manager_remove(r->cm, "d"), 0);
    r->in_api = false;
    assert_null(or_cluster_manager_get(r->cm, "d"));
    run_until(f->base, &r->inits, 1);
    run_for(f->base, 50);
    assert_int_equal(count_of(r, "d"), 0);
    assert_int_equal(count_of(r, "a"), 1);

    /* Added after initialization: starts at once, announced, no second on_initialized. */
    struct or_cluster *b = make_cluster("b", OR_CLUSTER_STRICT_DNS);
    add_ep(b, "multi.test", 7, NULL, 1);
    b->dns_lookup_family = OR_DNS_V4_ONLY;
    add_cluster(r, b);
    run_until(f->base, &r->hostsets, 2);
    assert_hosts(last_of(r, "b"), WANT("127.0.0.1:7", "127.0.0.2:7"));
    assert_int_equal(r->inits, 1);
    assert_int_equal(or_cluster_manager_count(r->cm), 2);

    /* Removing drops the manager's references; announced host sets stay valid. */
    struct or_hostset *hs = last_of(r, "b");
    assert_int_equal(atomic_load(&hs->refs), 2);
    assert_int_equal(or_cluster_manager_remove(r->cm, "b"), 0);
    assert_int_equal(atomic_load(&hs->refs), 1);
    assert_int_equal(atomic_load(&hs->cluster->refs), 1);
    assert_string_equal(hs->cluster->name, "b");
}

/* The owner may change the manager from inside its callbacks. */
static void test_remove_from_callback(void **state)
{
    struct fixture *f = *state;
    struct recorder *r = &f->rec;
    struct or_cluster *a = make_cluster("a", OR_CLUSTER_STATIC);
    add_ep(a, "10.0.0.1", 80, NULL, 1);
    add_cluster(r, a);
    struct or_cluster *b = make_cluster("b", OR_CLUSTER_STATIC);
    add_ep(b, "10.0.0.2", 80, NULL, 1);
    add_cluster(r, b);
    r->remove_on_hostset = "b";
    start(r);
    run_until(f->base, &r->inits, 1);
    /* Both were collected before the callbacks ran; b's set is still valid after removal. */
    assert_int_equal(r->hostsets, 2);
    assert_string_equal(r->sets[1]->cluster->name, "b");
    assert_int_equal(or_cluster_manager_count(r->cm), 1);
}

/* A cluster that waits for DNS holds initialization back while the others are ready. */
static void test_init_waits_for_dns(void **state)
{
    struct fixture *f = *state;
    struct recorder *r = &f->rec;
    struct or_cluster *s = make_cluster("s", OR_CLUSTER_STATIC);
    add_cluster(r, s);
    struct or_cluster *d = make_cluster("d", OR_CLUSTER_STRICT_DNS);
    add_ep(d, "late.test", 80, NULL, 1);
    add_cluster(r, d);
    /* No nameserver answer yet: stop the fake server from reading. */
    event_del(f->server.ev);
    fake_dns_add(&f->server, "late.test", "10.7.7.7");
    start(r);
    run_until(f->base, &r->hostsets, 1);
    run_for(f->base, 50);
    assert_int_equal(r->inits, 0);
    assert_string_equal(r->names[0], "s");
    event_add(f->server.ev, NULL);
    run_until(f->base, &r->inits, 1);
    assert_hosts(last_of(r, "d"), WANT("10.7.7.7:80"));
    assert_int_equal(r->hostsets_at_init, 2);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_static_hostsets),
        T(test_no_clusters),
        cmocka_unit_test(test_strict_dns_localhost_system),
        T(test_strict_dns_refresh),
        T(test_strict_dns_families),
        T(test_logical_dns_first_address),
        T(test_dns_failure_still_initializes),
        T(test_add_remove),
        T(test_remove_from_callback),
        T(test_init_waits_for_dns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
