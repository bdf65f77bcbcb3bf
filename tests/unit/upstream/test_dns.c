/* or_dns: hosts-file answers without network, lookup families with Envoy's preferences, answers
 * from a real (loopback) DNS server, failures, cancellation and teardown with queries in flight. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <unistd.h>

#include "proxy/core/err.h"
#include "proxy/upstream/dns.h"
#include "test_dns_server.h"

/* ---- helpers ---- */

struct answer {
    int calls;
    int status;
    size_t n;
    char addrs[8][64]; /* textual, in order */
};

/* Set while or_dns_resolve runs: a callback must never see it. */
static bool resolving;

static void on_answer(void *arg, int status, const struct sockaddr_storage *addrs, size_t n)
{
    struct answer *a = arg;
    assert_false(resolving);
    a->calls++;
    a->status = status;
    a->n = n;
    for (size_t i = 0; i < n && i < 8; i++) {
        if (addrs[i].ss_family == AF_INET) {
            const struct sockaddr_in *in = (const struct sockaddr_in *)&addrs[i];
            assert_int_equal(in->sin_port, 0);
            inet_ntop(AF_INET, &in->sin_addr, a->addrs[i], sizeof(a->addrs[i]));
        } else {
            assert_int_equal(addrs[i].ss_family, AF_INET6);
            const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&addrs[i];
            assert_int_equal(in6->sin6_port, 0);
            inet_ntop(AF_INET6, &in6->sin6_addr, a->addrs[i], sizeof(a->addrs[i]));
        }
    }
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    *(bool *)arg = true;
}

/* Runs the loop until *count >= want, failing after 5 s. */
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
        fail_msg("timed out waiting for %d callbacks (got %d)", want, *count);
}

/* Runs the loop for `ms` milliseconds (to show that something does NOT happen). */
static void run_for(struct event_base *base, int ms)
{
    bool done = false;
    struct event *t = evtimer_new(base, on_deadline, &done);
    struct timeval tv = {0, ms * 1000};
    evtimer_add(t, &tv);
    while (!done)
        event_base_loop(base, EVLOOP_ONCE);
    event_free(t);
}

static struct answer resolve(struct event_base *base, struct or_dns *dns, const char *name,
                             enum or_dns_family fam)
{
    struct answer a;
    memset(&a, 0, sizeof(a));
    resolving = true;
    struct or_dns_query *q = or_dns_resolve(dns, name, fam, on_answer, &a);
    resolving = false;
    assert_non_null(q);
    assert_int_equal(a.calls, 0); /* never inside or_dns_resolve, even for hosts-file names */
    run_until(base, &a.calls, 1);
    return a;
}

static void expect(struct event_base *base, struct or_dns *dns, const char *name,
                   enum or_dns_family fam, const char *const *want)
{
    struct answer a = resolve(base, dns, name, fam);
    size_t n = 0;
    while (want[n] != NULL)
        n++;
    if (n == 0) {
        assert_true(a.status == OR_ENOTFOUND || a.status == OR_EAGAIN);
        assert_int_equal(a.n, 0);
        return;
    }
    if (a.status != 0)
        fail_msg("%s/%s: status %d", name, or_dns_family_name(fam), a.status);
    assert_int_equal(a.n, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(a.addrs[i], want[i]);
}

#define WANT(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NONE ((const char *const[]){NULL})

struct fixture {
    struct event_base *base;
    struct fake_dns server;
    char hosts_path[64];
    struct or_dns *dns;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->base = event_base_new();
    assert_non_null(f->base);
    assert_int_equal(fake_dns_start(&f->server, f->base), 0);
    assert_int_equal(fake_dns_write_file(f->hosts_path, "127.0.0.1 multi.test\n"
                                                        "127.0.0.2 multi.test\n"
                                                        "::1 multi.test\n"
                                                        "::2 six.test\n"
                                                        "127.0.0.3 four.test\n"
                                                        "127.0.0.3 four.test\n"),
                     0);
    struct or_dns_options opts = {.resolv_conf = f->server.resolv_conf_path,
                                  .hosts = f->hosts_path};
    f->dns = or_dns_new(f->base, &opts);
    assert_non_null(f->dns);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    or_dns_free(f->dns);
    /* Lookups that were on the wire are released on the next turn (see or_dns_free). */
    event_base_loop(f->base, EVLOOP_NONBLOCK);
    fake_dns_stop(&f->server);
    unlink(f->hosts_path);
    event_base_free(f->base);
    free(f);
    return 0;
}

/* ---- tests ---- */

static void test_localhost_system_files(void **state)
{
    struct event_base *base = event_base_new();
    struct or_dns *dns = or_dns_new(base, NULL); /* /etc/resolv.conf and /etc/hosts */
    assert_non_null(dns);
    struct answer a = resolve(base, dns, "localhost", OR_DNS_V4_ONLY);
    assert_int_equal(a.status, 0);
    bool found = false;
    for (size_t i = 0; i < a.n; i++)
        found |= strcmp(a.addrs[i], "127.0.0.1") == 0;
    assert_true(found);
    /* AUTO prefers IPv6: whatever this machine's /etc/hosts says, it is loopback and answered
     * from the file. */
    a = resolve(base, dns, "localhost", OR_DNS_AUTO);
    assert_int_equal(a.status, 0);
    for (size_t i = 0; i < a.n; i++)
        assert_true(strncmp(a.addrs[i], "127.", 4) == 0 || strcmp(a.addrs[i], "::1") == 0);
    or_dns_free(dns);
    event_base_free(base);
}

static void test_hosts_file_families(void **state)
{
    struct fixture *f = *state;
    expect(f->base, f->dns, "multi.test", OR_DNS_AUTO, WANT("::1"));
    expect(f->base, f->dns, "multi.test", OR_DNS_V4_ONLY, WANT("127.0.0.1", "127.0.0.2"));
    expect(f->base, f->dns, "multi.test", OR_DNS_V6_ONLY, WANT("::1"));
    expect(f->base, f->dns, "multi.test", OR_DNS_V4_PREFERRED, WANT("127.0.0.1", "127.0.0.2"));
    expect(f->base, f->dns, "multi.test", OR_DNS_ALL, WANT("127.0.0.1", "127.0.0.2", "::1"));
    expect(f->base, f->dns, "MULTI.test", OR_DNS_V4_ONLY, WANT("127.0.0.1", "127.0.0.2"));
    expect(f->base, f->dns, "six.test", OR_DNS_AUTO, WANT("::2"));
    expect(f->base, f->dns, "six.test", OR_DNS_V4_PREFERRED, WANT("::2"));
    expect(f->base, f->dns, "six.test", OR_DNS_V4_ONLY, NONE);
    expect(f->base, f->dns, "four.test", OR_DNS_AUTO, WANT("127.0.0.3")); /* duplicates removed */
    expect(f->base, f->dns, "four.test", OR_DNS_V6_ONLY, NONE);
    /* Hosts-file names never reach the nameserver, even for a family the file lacks. */
    assert_int_equal(f->server.queries, 0);
}

static void test_ip_literals(void **state)
{
    struct fixture *f = *state;
    expect(f->base, f->dns, "127.0.0.9", OR_DNS_AUTO, WANT("127.0.0.9"));
    expect(f->base, f->dns, "fd00::7", OR_DNS_ALL, WANT("fd00::7"));
    expect(f->base, f->dns, "fd00::7", OR_DNS_AUTO, WANT("fd00::7"));
    struct answer a = resolve(f->base, f->dns, "fd00::7", OR_DNS_V4_ONLY);
    assert_int_equal(a.status, OR_ENOTFOUND);
    a = resolve(f->base, f->dns, "127.0.0.9", OR_DNS_V6_ONLY);
    assert_int_equal(a.status, OR_ENOTFOUND);
    /* Literals never reach the nameserver. */
    assert_int_equal(f->server.queries, 0);
}

static void test_server_answers(void **state)
{
    struct fixture *f = *state;
    fake_dns_add(&f->server, "svc.test", "10.1.1.1");
    fake_dns_add(&f->server, "svc.test", "10.1.1.2");
    fake_dns_add(&f->server, "svc.test", "fd00::1");
    fake_dns_add(&f->server, "v4.test", "10.2.2.2");
    expect(f->base, f->dns, "svc.test", OR_DNS_ALL, WANT("10.1.1.1", "10.1.1.2", "fd00::1"));
    expect(f->base, f->dns, "svc.test", OR_DNS_AUTO, WANT("fd00::1"));
    expect(f->base, f->dns, "svc.test", OR_DNS_V4_PREFERRED, WANT("10.1.1.1", "10.1.1.2"));
    expect(f->base, f->dns, "svc.test", OR_DNS_V4_ONLY, WANT("10.1.1.1", "10.1.1.2"));
    expect(f->base, f->dns, "svc.test", OR_DNS_V6_ONLY, WANT("fd00::1"));
    expect(f->base, f->dns, "v4.test", OR_DNS_AUTO, WANT("10.2.2.2"));
    expect(f->base, f->dns, "v4.test", OR_DNS_V6_ONLY, NONE);
    assert_true(f->server.queries > 0);

    struct answer a = resolve(f->base, f->dns, "gone.test", OR_DNS_AUTO);
    assert_int_equal(a.status, OR_ENOTFOUND); /* NXDOMAIN */
    fake_dns_servfail(&f->server, "v4.test");
    a = resolve(f->base, f->dns, "v4.test", OR_DNS_V4_ONLY);
    assert_int_equal(a.status, OR_EAGAIN);
    fake_dns_servfail(&f->server, NULL);
    expect(f->base, f->dns, "v4.test", OR_DNS_V4_ONLY, WANT("10.2.2.2"));
    fake_dns_remove(&f->server, "svc.test");
    expect(f->base, f->dns, "svc.test", OR_DNS_V4_ONLY, NONE);
}

static void test_cancel(void **state)
{
    struct fixture *f = *state;
    struct answer a;
    memset(&a, 0, sizeof(a));

    /* A hosts-file answer waiting for its loop turn. */
    struct or_dns_query *q = or_dns_resolve(f->dns, "multi.test", OR_DNS_AUTO, on_answer, &a);
    assert_non_null(q);
    or_dns_cancel(q);

    /* A query on the wire: cancelled before the server answers; the answer arrives and is
     * dropped. */
    fake_dns_add(&f->server, "slow.test", "10.9.9.9");
    q = or_dns_resolve(f->dns, "slow.test", OR_DNS_V4_ONLY, on_answer, &a);
    assert_non_null(q);
    or_dns_cancel(q);
    while (f->server.queries < 1)
        event_base_loop(f->base, EVLOOP_ONCE); /* the fake server's socket keeps the loop busy */
    run_for(f->base, 50);
    assert_int_equal(a.calls, 0);

    /* Later queries still work. */
    expect(f->base, f->dns, "slow.test", OR_DNS_V4_ONLY, WANT("10.9.9.9"));
}

static void test_free_with_queries_in_flight(void **state)
{
    struct fixture *f = *state;
    struct answer a;
    memset(&a, 0, sizeof(a));
    fake_dns_add(&f->server, "inflight.test", "10.3.3.3");
    assert_non_null(or_dns_resolve(f->dns, "inflight.test", OR_DNS_ALL, on_answer, &a));
    assert_non_null(or_dns_resolve(f->dns, "multi.test", OR_DNS_ALL, on_answer, &a));
    or_dns_free(f->dns);
    f->dns = NULL;
    run_for(f->base, 100);
    assert_int_equal(a.calls, 0);
}

static void test_missing_files(void **state)
{
    struct event_base *base = event_base_new();
    struct or_dns_options opts = {.resolv_conf = "/nonexistent/resolv.conf",
                                  .hosts = "/nonexistent/hosts"};
    struct or_dns *dns = or_dns_new(base, &opts);
    assert_non_null(dns);
    struct answer a = resolve(base, dns, "10.0.0.1", OR_DNS_V4_ONLY);
    assert_int_equal(a.status, 0);
    assert_string_equal(a.addrs[0], "10.0.0.1");
    or_dns_free(dns);
    event_base_free(base);
}

struct free_in_cb {
    struct or_dns *dns;
    int calls;
};

static void on_answer_free(void *arg, int status, const struct sockaddr_storage *addrs, size_t n)
{
    struct free_in_cb *x = arg;
    x->calls++;
    or_dns_free(x->dns);
}

static void test_callback_frees_resolver(void **state)
{
    struct fixture *f = *state;
    struct free_in_cb x = {.dns = f->dns};
    struct answer other;
    memset(&other, 0, sizeof(other));
    assert_non_null(or_dns_resolve(f->dns, "multi.test", OR_DNS_AUTO, on_answer_free, &x));
    assert_non_null(or_dns_resolve(f->dns, "four.test", OR_DNS_AUTO, on_answer, &other));
    f->dns = NULL;
    run_until(f->base, &x.calls, 1);
    run_for(f->base, 50);
    assert_int_equal(x.calls, 1);
    assert_int_equal(other.calls, 0); /* dropped with the resolver */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_localhost_system_files),
        cmocka_unit_test_setup_teardown(test_hosts_file_families, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ip_literals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_answers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_with_queries_in_flight, setup, teardown),
        cmocka_unit_test(test_missing_files),
        cmocka_unit_test_setup_teardown(test_callback_frees_resolver, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
