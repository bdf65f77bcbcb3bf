#include "proxy/net/conn.h"
#include "proxy/core/err.h"
#include "proxy/core/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

/* One readv per event fills up to this much; a loop turn reads at most READ_ROUNDS of them so one
 * busy connection cannot starve the others on its worker. */
#define READ_CHUNK 16384
#define READ_ROUNDS 4
#define LINGER_MS 1000

static void on_readable(evutil_socket_t fd, short what, void *arg);
static void on_writable(evutil_socket_t fd, short what, void *arg);
static void on_timer(evutil_socket_t fd, short what, void *arg);

/* Arms the connection's timer, taking one from the worker's cache on first use. 0 or OR_ENOMEM.
 */
static int arm_timer(struct or_conn *c, uint32_t ms)
{
    if (c->timer == NULL) {
        c->timer = or_worker_event_get(c->worker);
        if (c->timer == NULL)
            return OR_ENOMEM;
        evtimer_assign(c->timer, c->worker->base, on_timer, c);
    }
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    return evtimer_add(c->timer, &tv) == 0 ? 0 : OR_ENOMEM;
}

static void drop_timer(struct or_conn *c)
{
    if (c->timer == NULL)
        return;
    event_del(c->timer);
    or_worker_event_put(c->worker, c->timer);
    c->timer = NULL;
}

/* The write event, taken from the worker's cache: most connections never wait to write. */
static struct event *get_wev(struct or_conn *c)
{
    if (c->wev == NULL) {
        c->wev = or_worker_event_get(c->worker);
        if (c->wev == NULL)
            return NULL;
        event_assign(c->wev, c->worker->base, c->fd, EV_WRITE, on_writable, c);
    }
    return c->wev;
}

static void drop_wev(struct or_conn *c)
{
    if (c->wev == NULL)
        return;
    event_del(c->wev);
    or_worker_event_put(c->worker, c->wev);
    c->wev = NULL;
    c->flags &= ~OR_CONN_F_WRITE_ARMED;
}

/* Arms the write event. 0 or OR_ENOMEM. */
static int arm_write(struct or_conn *c)
{
    if (c->flags & OR_CONN_F_WRITE_ARMED)
        return 0;
    if (get_wev(c) == NULL || event_add(c->wev, NULL) != 0)
        return OR_ENOMEM;
    c->flags |= OR_CONN_F_WRITE_ARMED;
    return 0;
}

struct evbuffer *or_conn_out(struct or_conn *c)
{
    if (c->out == NULL)
        c->out = or_worker_buf_get(c->worker);
    return c->out;
}

/* Gives an empty input buffer back to the worker. */
static void release_in(struct or_conn *c)
{
    if (c->in != NULL && evbuffer_get_length(c->in) == 0) {
        or_worker_buf_put(c->worker, c->in);
        c->in = NULL;
    }
}

void or_sockaddr_str(const struct sockaddr *sa, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN];
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
        snprintf(buf, len, "%s:%u", ip, ntohs(s4->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
        snprintf(buf, len, "[%s]:%u", ip, ntohs(s6->sin6_port));
    } else {
        snprintf(buf, len, "unknown");
    }
}

static void flush_queued(struct or_turn_end *t)
{
    or_conn_flush(OR_CONTAINER_OF(t, struct or_conn, flush));
}

void or_conn_flush_soon(struct or_conn *c)
{
    if (!(c->flags & (OR_CONN_F_CLOSED | OR_CONN_F_CONNECTING)))
        or_worker_at_turn_end(c->worker, &c->flush);
}

static struct or_conn *conn_alloc(struct or_worker *w, int fd, const struct or_conn_handler *h,
                                  void *ctx)
{
    struct or_conn *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->fd = fd;
    c->worker = w;
    or_list_insert(&w->conns, &c->link);
    or_turn_end_init(&c->flush, flush_queued);
    c->h = h;
    c->ctx = ctx;
    or_conn_set_buffer_limit(c, 1024 * 1024);
    event_assign(&c->rev, w->base, fd, EV_READ | EV_PERSIST, on_readable, c);
    return c;
}

static void set_nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

struct or_conn *or_conn_new_accepted(struct or_worker *w, int fd, const struct sockaddr *peer,
                                     socklen_t peerlen, const struct or_conn_handler *h, void *ctx)
{
    struct or_conn *c = conn_alloc(w, fd, h, ctx);
    if (c == NULL)
        return NULL;
    if (peerlen > sizeof(c->peer))
        peerlen = sizeof(c->peer);
    memcpy(&c->peer, peer, peerlen);
    set_nodelay(fd);
    event_add(&c->rev, NULL);
    return c;
}

struct or_conn *or_conn_connect(struct or_worker *w, const struct sockaddr *addr, socklen_t len,
                                uint32_t timeout_ms, const struct or_conn_handler *h, void *ctx)
{
    int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return NULL;
    set_nodelay(fd);
    struct or_conn *c = conn_alloc(w, fd, h, ctx);
    if (c == NULL) {
        close(fd);
        return NULL;
    }
    memcpy(&c->peer, addr, len < sizeof(c->peer) ? len : sizeof(c->peer));
    c->flags |= OR_CONN_F_CONNECTING;
    if (get_wev(c) == NULL) {
        or_list_remove(&c->link);
        free(c);
        close(fd);
        return NULL;
    }
    int r = connect(fd, addr, len);
    if (r != 0 && errno != EINPROGRESS) {
        c->sock_err = errno;
        /* Report the failure from the loop, never from inside the caller's stack. */
        c->flags |= OR_CONN_F_EOF;
        event_active(c->wev, EV_WRITE, 0);
        return c;
    }
    if (arm_write(c) != 0 || (timeout_ms > 0 && arm_timer(c, timeout_ms) != 0)) {
        /* Closing from here would call back into a caller that has no connection yet. */
        drop_wev(c);
        drop_timer(c);
        or_list_remove(&c->link);
        free(c);
        close(fd);
        return NULL;
    }
    return c;
}

void or_conn_set_handler(struct or_conn *c, const struct or_conn_handler *h, void *ctx)
{
    c->h = h;
    c->ctx = ctx;
}

void or_conn_set_buffer_limit(struct or_conn *c, uint32_t limit)
{
    c->high_wm = limit;
}

bool or_conn_above_high_watermark(const struct or_conn *c)
{
    return c->high_wm != 0 && c->out != NULL && evbuffer_get_length(c->out) > c->high_wm;
}

static void free_conn(void *obj)
{
    struct or_conn *c = obj;
    drop_timer(c);
    drop_wev(c);
    if (c->in != NULL)
        or_worker_buf_put(c->worker, c->in);
    if (c->out != NULL)
        or_worker_buf_put(c->worker, c->out);
    or_list_remove(&c->link);
    free(c);
}

void or_conn_close_all(struct or_worker *w)
{
    for (struct or_list *it = w->conns.next; it != &w->conns; it = it->next) {
        struct or_conn *c = OR_CONTAINER_OF(it, struct or_conn, link);
        or_conn_close(c); /* a no-op for one already closed; frees are deferred */
    }
}

void or_conn_close(struct or_conn *c)
{
    if (c->flags & OR_CONN_F_CLOSED)
        return;
    c->flags |= OR_CONN_F_CLOSED;
    or_turn_end_cancel(&c->flush);
    event_del(&c->rev);
    drop_wev(c);
    drop_timer(c);
    close(c->fd);
    c->fd = -1;
    or_worker_defer(c->worker, &c->deferred, free_conn, c);
}

void or_conn_reset(struct or_conn *c)
{
    if (c->flags & OR_CONN_F_CLOSED)
        return;
    struct linger l = {1, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    or_conn_close(c);
}

const struct sockaddr *or_conn_local_addr(struct or_conn *c)
{
    if (!(c->flags & OR_CONN_F_LOCAL_KNOWN) && c->fd >= 0) {
        socklen_t ll = sizeof(c->local);
        if (getsockname(c->fd, (struct sockaddr *)&c->local, &ll) == 0)
            c->flags |= OR_CONN_F_LOCAL_KNOWN;
    }
    return (const struct sockaddr *)&c->local;
}

static void start_linger(struct or_conn *c)
{
    if (c->flags & OR_CONN_F_NO_LINGER) {
        or_conn_close(c);
        return;
    }
    shutdown(c->fd, SHUT_WR);
    c->flags |= OR_CONN_F_LINGER;
    c->flags &= ~OR_CONN_F_READ_DISABLED;
    if (c->in != NULL) {
        evbuffer_drain(c->in, evbuffer_get_length(c->in));
        release_in(c);
    }
    if (c->flags & OR_CONN_F_EOF) {
        or_conn_close(c);
        return;
    }
    event_add(&c->rev, NULL);
    arm_timer(c, LINGER_MS);
}

void or_conn_close_after_flush(struct or_conn *c)
{
    if (c->flags & (OR_CONN_F_CLOSED | OR_CONN_F_LINGER))
        return;
    c->flags |= OR_CONN_F_CLOSE_AFTER_FLUSH;
    or_conn_flush(c);
}

void or_conn_close_after_flush_nolinger(struct or_conn *c)
{
    c->flags |= OR_CONN_F_NO_LINGER;
    or_conn_close_after_flush(c);
}

void or_conn_read_disable(struct or_conn *c, bool disable)
{
    if (c->flags & (OR_CONN_F_CLOSED | OR_CONN_F_LINGER))
        return;
    if (disable) {
        if (!(c->flags & OR_CONN_F_READ_DISABLED)) {
            c->flags |= OR_CONN_F_READ_DISABLED;
            event_del(&c->rev);
        }
    } else if (c->flags & OR_CONN_F_READ_DISABLED) {
        c->flags &= ~OR_CONN_F_READ_DISABLED;
        if (!(c->flags & (OR_CONN_F_EOF | OR_CONN_F_CONNECTING)))
            event_add(&c->rev, NULL);
        /* Bytes read before the pause are still waiting for the owner. */
        if (or_conn_in_len(c) > 0 && c->h->on_read != NULL)
            event_active(&c->rev, EV_READ, 0);
    }
}

/* Everything queued is written: the buffer and the write event go back to the worker. */
static void after_write(struct or_conn *c)
{
    if (c->out != NULL) {
        or_worker_buf_put(c->worker, c->out);
        c->out = NULL;
    }
    /* An armed event may already sit in this turn's active queue: it goes back after firing. */
    if (!(c->flags & OR_CONN_F_WRITE_ARMED))
        drop_wev(c);
    if (c->flags & OR_CONN_F_CLOSE_AFTER_FLUSH) {
        start_linger(c);
        return;
    }
    if (c->flags & OR_CONN_F_ABOVE_HIGH) {
        c->flags &= ~OR_CONN_F_ABOVE_HIGH;
        if (c->h->on_drained != NULL)
            c->h->on_drained(c, c->ctx);
    }
}

void or_conn_flush(struct or_conn *c)
{
    if (c->flags & (OR_CONN_F_CLOSED | OR_CONN_F_CONNECTING | OR_CONN_F_LINGER))
        return;
    while (c->out != NULL && evbuffer_get_length(c->out) > 0) {
        int n = evbuffer_write(c->out, c->fd);
        if (n > 0) {
            c->tx_bytes += (uint64_t)n;
            continue;
        }
        /* Unless the write event cannot be had (OOM), the socket is full: wait for it. */
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) &&
            arm_write(c) == 0) {
            if (c->high_wm != 0 && evbuffer_get_length(c->out) > c->high_wm)
                c->flags |= OR_CONN_F_ABOVE_HIGH;
            return;
        }
        /* EPIPE / ECONNRESET: the peer is gone. */
        or_conn_fail(c);
        return;
    }
    after_write(c);
}

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
    struct or_conn *c = arg;
    c->flags &= ~OR_CONN_F_WRITE_ARMED;
    if (c->flags & OR_CONN_F_CLOSED)
        return;
    if (c->flags & OR_CONN_F_CONNECTING) {
        int err = 0;
        socklen_t el = sizeof(err);
        if (c->flags & OR_CONN_F_EOF)
            err = c->sock_err ? c->sock_err : ECONNREFUSED;
        else if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
            err = errno;
        c->flags &= ~(OR_CONN_F_CONNECTING | OR_CONN_F_EOF);
        drop_timer(c);
        c->sock_err = err;
        if (err != 0) {
            or_conn_close(c);
            c->h->on_event(c, c->ctx, OR_CONN_EV_CONNECT_FAIL);
            return;
        }
        if (!(c->flags & OR_CONN_F_READ_DISABLED))
            event_add(&c->rev, NULL);
        c->h->on_event(c, c->ctx, OR_CONN_EV_CONNECTED);
        if (!(c->flags & OR_CONN_F_CLOSED))
            or_conn_flush(c);
        return;
    }
    or_conn_flush(c);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct or_conn *c = arg;
    if (c->flags & OR_CONN_F_LINGER) {
        or_conn_close(c);
        return;
    }
    if (c->flags & OR_CONN_F_CONNECTING) {
        or_conn_close(c);
        c->h->on_event(c, c->ctx, OR_CONN_EV_CONNECT_TIMEOUT);
    }
}

/* readv straight into reserved evbuffer space: evbuffer_read caps each call at 4 KiB. */
static ssize_t read_some(struct or_conn *c)
{
    if (c->in == NULL && (c->in = or_worker_buf_get(c->worker)) == NULL) {
        errno = ENOMEM;
        return -1;
    }
    struct evbuffer_iovec v[2];
    int nv = evbuffer_reserve_space(c->in, READ_CHUNK, v, 2);
    if (nv <= 0)
        return -1;
    struct iovec iov[2];
    for (int i = 0; i < nv; i++) {
        iov[i].iov_base = v[i].iov_base;
        iov[i].iov_len = v[i].iov_len;
    }
    ssize_t n = readv(c->fd, iov, nv);
    if (n <= 0) {
        int e = errno;
        evbuffer_commit_space(c->in, v, 0);
        if (evbuffer_get_length(c->in) == 0) {
            /* Still holds the reserved (empty) chain: not worth caching. Rare: the socket was
             * readable, so this is EOF, an error or a spurious wake-up. */
            evbuffer_free(c->in);
            c->in = NULL;
        }
        errno = e;
        return n;
    }
    size_t left = (size_t)n;
    for (int i = 0; i < nv; i++) {
        size_t take = v[i].iov_len < left ? v[i].iov_len : left;
        v[i].iov_len = take;
        left -= take;
    }
    evbuffer_commit_space(c->in, v, nv);
    return n;
}

void or_conn_set_raw(struct or_conn *c, bool on)
{
    if (on)
        c->flags |= OR_CONN_F_RAW;
    else
        c->flags &= ~OR_CONN_F_RAW;
}

void or_conn_fail(struct or_conn *c)
{
    or_conn_close(c);
    c->h->on_event(c, c->ctx, OR_CONN_EV_ERROR);
}

void or_conn_raw_end(struct or_conn *c, bool error)
{
    if (c->flags & OR_CONN_F_CLOSED)
        return;
    c->flags &= ~OR_CONN_F_RAW;
    c->flags |= OR_CONN_F_EOF;
    event_del(&c->rev);
    c->h->on_event(c, c->ctx, error ? OR_CONN_EV_ERROR : OR_CONN_EV_EOF);
}

int or_conn_wait_writable(struct or_conn *c, event_callback_fn cb, void *arg)
{
    if (c->flags & OR_CONN_F_CLOSED)
        return OR_ECLOSED;
    if (c->wev != NULL)
        event_del(c->wev);
    else if ((c->wev = or_worker_event_get(c->worker)) == NULL)
        return OR_ENOMEM;
    event_assign(c->wev, c->worker->base, c->fd, EV_WRITE, cb, arg);
    if (event_add(c->wev, NULL) != 0)
        return OR_ENOMEM;
    /* Armed: a flush of the (empty) output at the end of the turn must not take the event away. */
    c->flags |= OR_CONN_F_WRITE_ARMED;
    return 0;
}

void or_conn_wait_writable_cancel(struct or_conn *c)
{
    /* The next ordinary write takes a fresh event with the connection's own callback. */
    drop_wev(c);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct or_conn *c = arg;
    if (c->flags & OR_CONN_F_CLOSED)
        return;
    if (c->flags & OR_CONN_F_LINGER) {
        char scratch[4096];
        ssize_t n;
        while ((n = read(c->fd, scratch, sizeof(scratch))) > 0)
            ;
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            or_conn_close(c);
        return;
    }
    if ((c->flags & OR_CONN_F_RAW) && c->h->on_raw_read != NULL) {
        c->h->on_raw_read(c, c->ctx);
        return;
    }
    bool got = false;
    int event = 0;
    for (int round = 0; round < READ_ROUNDS; round++) {
        ssize_t n = read_some(c);
        if (n > 0) {
            c->rx_bytes += (uint64_t)n;
            got = true;
            if ((size_t)n < READ_CHUNK)
                break;
            continue;
        }
        if (n == 0) {
            event = OR_CONN_EV_EOF;
        } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            event = OR_CONN_EV_ERROR;
        }
        break;
    }
    if (event != 0) {
        c->flags |= OR_CONN_F_EOF;
        event_del(&c->rev);
    }
    if ((got || (what & EV_READ && or_conn_in_len(c) > 0)) && c->h->on_read != NULL)
        c->h->on_read(c, c->ctx);
    if (event != 0 && !(c->flags & OR_CONN_F_CLOSED))
        c->h->on_event(c, c->ctx, (enum or_conn_event)event);
    /* Whatever the owner consumed, the empty buffer goes back: idle connections hold none. */
    if (!(c->flags & OR_CONN_F_CLOSED))
        release_in(c);
}
