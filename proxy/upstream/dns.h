/* Asynchronous DNS for STRICT_DNS and LOGICAL_DNS clusters: main thread, libevent's evdns.
 *
 * Names in the hosts file (/etc/hosts) are answered without any network traffic, so "localhost"
 * works on a machine with no nameserver. Nameservers, search domains and options come from
 * resolv.conf; a missing or empty resolv.conf is not an error (evdns then asks 127.0.0.1, as c-ares
 * would), it only makes lookups of names outside the hosts file fail.
 *
 * Lookup families follow Envoy's Cluster.DnsLookupFamily:
 *   V4_ONLY       A records only.
 *   V6_ONLY       AAAA records only.
 *   AUTO          IPv6 addresses if there are any, else IPv4 (Envoy: "V6 preferred").
 *   V4_PREFERRED  IPv4 addresses if there are any, else IPv6.
 *   ALL           both families, IPv4 first.
 * Envoy's c-ares resolver asks AUTO and V4_PREFERRED one family after the other; we ask both at
 * once (one evdns AF_UNSPEC lookup) and keep the preferred family: the answer is the same, one
 * round trip shorter, and a hosts-file name never falls through to the network because one family
 * is missing.
 *
 * Callbacks always run from the event loop, never inside or_dns_resolve(), so callers need no
 * re-entrancy guards. */
#ifndef OR_UPSTREAM_DNS_H
#define OR_UPSTREAM_DNS_H

#include <stddef.h>
#include <sys/socket.h>

struct event_base;
struct or_dns;
struct or_dns_query;

/* Values equal Cluster.DnsLookupFamily's. */
enum or_dns_family {
    OR_DNS_AUTO = 0,
    OR_DNS_V4_ONLY = 1,
    OR_DNS_V6_ONLY = 2,
    OR_DNS_V4_PREFERRED = 3,
    OR_DNS_ALL = 4,
};

struct or_dns_options {
    const char *resolv_conf; /* borrowed; NULL: "/etc/resolv.conf" */
    const char *hosts;       /* borrowed; NULL: "/etc/hosts" */
};

/* Result of one lookup. `status` is 0 with n >= 1 addresses, or:
 *   OR_ENOTFOUND  the name does not exist (NXDOMAIN), or a hosts-file name or IP literal has no
 *                 address of the wanted family;
 *   OR_EAGAIN     any other failure: timeout, server failure, refusal, and also an empty answer
 *                 from a nameserver (evdns reports it like a failure);
 *   OR_ENOMEM     out of memory.
 * IP literals are answered without a lookup.
 * `addrs` (AF_INET / AF_INET6, port 0, duplicates removed) is only valid during the call. The query
 * is finished and freed when the callback returns. */
typedef void (*or_dns_cb)(void *arg, int status, const struct sockaddr_storage *addrs, size_t n);

/* Makes a resolver on `base` (main thread). Reading resolv.conf or the hosts file may fail without
 * failing this (the failure is logged). NULL on OOM. */
struct or_dns *or_dns_new(struct event_base *base, const struct or_dns_options *opts);

/* Frees the resolver. Queries still running are dropped: their callbacks never run. A lookup that
 * was waiting on the network is released by libevent on the event loop's next turn, so a process
 * that frees its resolver right before event_base_free should run one event_base_loop(base,
 * EVLOOP_NONBLOCK) in between to keep leak checkers quiet. */
void or_dns_free(struct or_dns *dns);

/* Starts resolving `name` (copied). cb(arg, ...) runs exactly once from the event loop unless the
 * query is cancelled first. Returns the query handle, valid until the callback returns or
 * or_dns_cancel; NULL on OOM (cb never runs). */
struct or_dns_query *or_dns_resolve(struct or_dns *dns, const char *name, enum or_dns_family family,
                                    or_dns_cb cb, void *arg);

/* Cancels a query whose callback has not run yet: the callback never runs. */
void or_dns_cancel(struct or_dns_query *q);

/* Name of a family for logs ("AUTO", "V4_ONLY", ...). */
const char *or_dns_family_name(enum or_dns_family f);

#endif
