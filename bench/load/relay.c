/* The floor of any user-space proxy on this machine: a byte relay that does only what every
 * HTTP/1.1 proxy must do per request on a keep-alive connection — one read from the client, one
 * write to the upstream, one read from the upstream, one write to the client — and nothing else:
 * no parsing, no headers, no routing, no stats. Each client connection gets its own upstream
 * connection (what a keep-alive pool converges to with one request in flight per connection).
 *
 * The benchmark runs it beside the proxies (bench.py, row "floor") so that a target below what
 * this program reaches is shown to be out of reach of user-space work: its CPU per request is
 * almost all kernel time, and its added latency is the cost of two more socket hops and wake-ups.
 *
 * Usage: or_relay LISTEN_PORT UPSTREAM_PORT   (127.0.0.1 only; prints "ready" when listening)
 * One thread, level-triggered epoll, a 64 KiB buffer per direction, TCP_NODELAY on both sides. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_SIZE 65536
#define MAX_EVENTS 256

struct pipe_end;

/* One direction: bytes read from `fd` wait in `buf` until the peer end's socket takes them. */
struct pipe_end {
    int fd;
    struct pipe_end *peer; /* borrowed: the other side of the same pair */
    char *buf;             /* owned, BUF_SIZE bytes: read from fd, to be written to peer->fd */
    size_t off, len;       /* pending bytes are buf[off .. len) */
    uint32_t events;       /* what epoll watches on fd now */
};

static int ep;
static char listener_tag; /* epoll data of the listening socket */

static void watch(struct pipe_end *e, uint32_t events)
{
    if (e->events == events)
        return;
    struct epoll_event ev = {.events = events, .data.ptr = e};
    epoll_ctl(ep, EPOLL_CTL_MOD, e->fd, &ev);
    e->events = events;
}

static void close_pair(struct pipe_end *a)
{
    struct pipe_end *b = a->peer;
    close(a->fd);
    close(b->fd);
    free(a->buf);
    free(b->buf);
    free(a);
    free(b);
}

/* Writes what `src` holds to its peer; returns -1 when the pair is gone. */
static int drain(struct pipe_end *src)
{
    struct pipe_end *dst = src->peer;
    while (src->off < src->len) {
        ssize_t n = write(dst->fd, src->buf + src->off, src->len - src->off);
        if (n > 0) {
            src->off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            /* Stop reading from src until dst takes the rest. */
            watch(src, src->events & ~(uint32_t)EPOLLIN);
            watch(dst, dst->events | EPOLLOUT);
            return 0;
        }
        return -1;
    }
    src->off = src->len = 0;
    watch(src, src->events | EPOLLIN);
    watch(dst, dst->events & ~(uint32_t)EPOLLOUT);
    return 0;
}

static int on_event(struct pipe_end *e, uint32_t what)
{
    if (what & EPOLLOUT) {
        /* e's socket can take bytes again: what its peer read is waiting. */
        if (drain(e->peer) != 0)
            return -1;
    }
    if ((what & (EPOLLIN | EPOLLHUP | EPOLLERR)) && e->len == 0) {
        ssize_t n = read(e->fd, e->buf, BUF_SIZE);
        if (n == 0 || (n < 0 && errno != EAGAIN))
            return -1;
        if (n > 0) {
            e->len = (size_t)n;
            if (drain(e) != 0)
                return -1;
        }
    }
    return 0;
}

static int tcp_socket(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static struct pipe_end *end_new(int fd)
{
    struct pipe_end *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return NULL;
    e->buf = malloc(BUF_SIZE);
    if (e->buf == NULL) {
        free(e);
        return NULL;
    }
    e->fd = fd;
    e->events = EPOLLIN;
    return e;
}

/* Pairs an accepted client with a new upstream connection (connect on loopback completes at once
 * or within microseconds; writes before it completes fail with EAGAIN and are retried on
 * EPOLLOUT like any other). */
static void on_accept(int lfd, const struct sockaddr_in *up)
{
    for (;;) {
        int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0)
            return;
        int one = 1;
        setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        int ufd = tcp_socket();
        if (ufd < 0 ||
            (connect(ufd, (const struct sockaddr *)up, sizeof(*up)) != 0 && errno != EINPROGRESS)) {
            close(cfd);
            if (ufd >= 0)
                close(ufd);
            continue;
        }
        struct pipe_end *c = end_new(cfd), *u = end_new(ufd);
        if (c == NULL || u == NULL) {
            close(cfd);
            close(ufd);
            if (c)
                free(c->buf), free(c);
            if (u)
                free(u->buf), free(u);
            continue;
        }
        c->peer = u;
        u->peer = c;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &ev);
        ev.data.ptr = u;
        epoll_ctl(ep, EPOLL_CTL_ADD, ufd, &ev);
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s LISTEN_PORT UPSTREAM_PORT\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    struct sockaddr_in la = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct sockaddr_in up = la;
    la.sin_port = htons((uint16_t)strtoul(argv[1], NULL, 10));
    up.sin_port = htons((uint16_t)strtoul(argv[2], NULL, 10));
    int lfd = tcp_socket(), one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(lfd, (struct sockaddr *)&la, sizeof(la)) != 0 || listen(lfd, 4096) != 0) {
        perror("listen");
        return 1;
    }
    ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = &listener_tag};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
    printf("ready\n");
    fflush(stdout);
    struct epoll_event evs[MAX_EVENTS];
    for (;;) {
        int n = epoll_wait(ep, evs, MAX_EVENTS, -1);
        for (int i = 0; i < n; i++) {
            struct pipe_end *e = evs[i].data.ptr;
            if (e == NULL)
                continue; /* its pair was closed earlier in this turn */
            if ((void *)e == &listener_tag) {
                on_accept(lfd, &up);
                continue;
            }
            if (on_event(e, evs[i].events) != 0) {
                /* Later events of this turn may name either end: mark both before freeing. */
                for (int j = i + 1; j < n; j++)
                    if (evs[j].data.ptr == e->peer || evs[j].data.ptr == e)
                        evs[j].data.ptr = NULL;
                close_pair(e);
            }
        }
    }
}
