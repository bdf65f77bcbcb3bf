/* A tiny authoritative DNS server on 127.0.0.1 for the DNS and cluster manager tests: answers A and
 * AAAA questions from a table the test edits between lookups (NXDOMAIN for unknown names, an empty
 * NOERROR answer for a known name without records of the asked type, SERVFAIL on request). It runs
 * on the test's own event_base, and resolv_conf_path points evdns at it, so no query ever leaves
 * the machine. Header-only (static functions) so each test executable includes its own copy. */
#ifndef OR_TEST_DNS_SERVER_H
#define OR_TEST_DNS_SERVER_H

#include <arpa/inet.h>
#include <ctype.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FAKE_DNS_MAX_RECORDS 32

struct fake_dns_record {
    char name[128]; /* lower case, no trailing dot */
    int family;     /* AF_INET (A) or AF_INET6 (AAAA) */
    unsigned char addr[16];
};

struct fake_dns {
    int fd;
    uint16_t port;
    struct event *ev; /* owned */
    struct fake_dns_record recs[FAKE_DNS_MAX_RECORDS];
    size_t n_recs;
    unsigned queries;          /* questions answered so far */
    char servfail_name[128];   /* questions for this name get SERVFAIL ("" = none) */
    char resolv_conf_path[64]; /* "nameserver 127.0.0.1:<port>", removed by stop */
};

static void fake_dns_lower(char *s)
{
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

/* Adds an address ("1.2.3.4" or "::1") for `name`. */
static void fake_dns_add(struct fake_dns *f, const char *name, const char *addr)
{
    if (f->n_recs == FAKE_DNS_MAX_RECORDS)
        abort();
    struct fake_dns_record *r = &f->recs[f->n_recs];
    snprintf(r->name, sizeof(r->name), "%s", name);
    fake_dns_lower(r->name);
    if (inet_pton(AF_INET, addr, r->addr) == 1)
        r->family = AF_INET;
    else if (inet_pton(AF_INET6, addr, r->addr) == 1)
        r->family = AF_INET6;
    else
        abort();
    f->n_recs++;
}

/* Makes questions for `name` fail with SERVFAIL (NULL: none). */
static void fake_dns_servfail(struct fake_dns *f, const char *name)
{
    snprintf(f->servfail_name, sizeof(f->servfail_name), "%s", name != NULL ? name : "");
    fake_dns_lower(f->servfail_name);
}

/* Forgets every record of `name` (it becomes NXDOMAIN). */
static void fake_dns_remove(struct fake_dns *f, const char *name)
{
    char lname[128];
    snprintf(lname, sizeof(lname), "%s", name);
    fake_dns_lower(lname);
    size_t k = 0;
    for (size_t i = 0; i < f->n_recs; i++) {
        if (strcmp(f->recs[i].name, lname) != 0)
            f->recs[k++] = f->recs[i];
    }
    f->n_recs = k;
}

static void fake_dns_put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

static void fake_dns_on_read(evutil_socket_t fd, short what, void *arg)
{
    struct fake_dns *f = arg;
    unsigned char q[512], r[1024];
    struct sockaddr_storage from;
    socklen_t fromlen = sizeof(from);
    ssize_t n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fromlen);
    if (n < 12)
        return;
    /* Question: labels, type, class. */
    char name[256];
    size_t nl = 0, off = 12;
    while (off < (size_t)n && q[off] != 0) {
        size_t len = q[off++];
        if (len > 63 || off + len > (size_t)n || nl + len + 1 >= sizeof(name))
            return;
        if (nl > 0)
            name[nl++] = '.';
        memcpy(name + nl, q + off, len);
        nl += len;
        off += len;
    }
    name[nl] = '\0';
    fake_dns_lower(name);
    off++; /* the root label */
    if (off + 4 > (size_t)n)
        return;
    uint16_t qtype = (uint16_t)(q[off] << 8 | q[off + 1]);
    size_t qend = off + 4;
    f->queries++;

    bool known = false;
    size_t an = 0;
    bool servfail = f->servfail_name[0] != '\0' && strcmp(f->servfail_name, name) == 0;
    memcpy(r, q, qend);
    size_t w = qend;
    for (size_t i = 0; i < f->n_recs; i++) {
        const struct fake_dns_record *rec = &f->recs[i];
        if (servfail || strcmp(rec->name, name) != 0)
            continue;
        known = true;
        int fam = qtype == 1 ? AF_INET : qtype == 28 ? AF_INET6 : -1;
        if (rec->family != fam)
            continue;
        size_t alen = fam == AF_INET ? 4 : 16;
        if (w + 12 + alen > sizeof(r))
            break;
        fake_dns_put16(r + w, 0xc00c); /* name: pointer to the question */
        fake_dns_put16(r + w + 2, qtype);
        fake_dns_put16(r + w + 4, 1); /* IN */
        fake_dns_put16(r + w + 6, 0); /* TTL 60 */
        fake_dns_put16(r + w + 8, 60);
        fake_dns_put16(r + w + 10, (uint16_t)alen);
        memcpy(r + w + 12, rec->addr, alen);
        w += 12 + alen;
        an++;
    }
    /* Flags: response, authoritative, recursion desired copied, recursion available, rcode. */
    int rcode = servfail ? 2 : known ? 0 : 3;
    uint16_t flags = (uint16_t)(0x8000 | 0x0400 | (q[2] & 0x01) << 8 | 0x0080 | rcode);
    fake_dns_put16(r + 2, flags);
    fake_dns_put16(r + 4, 1);
    fake_dns_put16(r + 6, (uint16_t)an);
    fake_dns_put16(r + 8, 0);
    fake_dns_put16(r + 10, 0);
    sendto(fd, r, w, 0, (struct sockaddr *)&from, fromlen);
}

/* Binds 127.0.0.1:<ephemeral> and writes a resolv.conf naming it. 0 or -1. */
static int fake_dns_start(struct fake_dns *f, struct event_base *base)
{
    memset(f, 0, sizeof(*f));
    f->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (f->fd < 0)
        return -1;
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sin);
    if (bind(f->fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
        getsockname(f->fd, (struct sockaddr *)&sin, &len) != 0)
        return -1;
    f->port = ntohs(sin.sin_port);
    f->ev = event_new(base, f->fd, EV_READ | EV_PERSIST, fake_dns_on_read, f);
    if (f->ev == NULL || event_add(f->ev, NULL) != 0)
        return -1;
    snprintf(f->resolv_conf_path, sizeof(f->resolv_conf_path), "/tmp/or_test_resolv_XXXXXX");
    int tfd = mkstemp(f->resolv_conf_path);
    if (tfd < 0)
        return -1;
    char text[128];
    int tl = snprintf(text, sizeof(text), "nameserver 127.0.0.1:%u\noptions timeout:2 attempts:1\n",
                      (unsigned)f->port);
    ssize_t wr = write(tfd, text, (size_t)tl);
    close(tfd);
    return wr == tl ? 0 : -1;
}

static void fake_dns_stop(struct fake_dns *f)
{
    if (f->ev != NULL)
        event_free(f->ev);
    f->ev = NULL;
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    if (f->resolv_conf_path[0] != '\0')
        unlink(f->resolv_conf_path);
}

/* Writes `text` into a new temporary file whose name goes to path (64 bytes). 0 or -1. */
static int fake_dns_write_file(char *path, const char *text)
{
    snprintf(path, 64, "/tmp/or_test_dnsfile_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    size_t len = strlen(text);
    ssize_t wr = write(fd, text, len);
    close(fd);
    return wr == (ssize_t)len ? 0 : -1;
}

#endif
