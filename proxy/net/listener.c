#include "proxy/net/listener.h"
#include "proxy/core/log.h"

#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

/* Bounded so one worker's accept burst does not starve its established connections. */
#define ACCEPT_BURST 64

static void on_accept(evutil_socket_t fd, short what, void *arg)
{
    struct or_listen_socket *s = arg;
    for (int i = 0; i < ACCEPT_BURST; i++) {
        struct sockaddr_storage peer;
        socklen_t plen = sizeof(peer);
        int cfd = accept4(fd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno == EMFILE || errno == ENFILE)
                or_log_warn("listener", "accept: %s", strerror(errno));
            return;
        }
        s->cb(s->worker, s->ctx, cfd, (struct sockaddr *)&peer, plen);
    }
}

int or_listen_open(const struct sockaddr *addr, socklen_t len, uint32_t count,
                   struct or_listen_socket *socks, bool v6only, struct or_err_detail *err)
{
    struct sockaddr_storage bind_addr;
    memcpy(&bind_addr, addr, len);
    uint32_t opened = 0;
    for (; opened < count; opened++) {
        struct or_listen_socket *s = &socks[opened];
        memset(s, 0, sizeof(*s));
        s->fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (s->fd < 0)
            goto fail;
        int one = 1;
        setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        setsockopt(s->fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
        if (addr->sa_family == AF_INET6) {
            int v6 = v6only ? 1 : 0;
            setsockopt(s->fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6, sizeof(v6));
        }
        if (bind(s->fd, (struct sockaddr *)&bind_addr, len) != 0 || listen(s->fd, 4096) != 0) {
            close(s->fd);
            goto fail;
        }
        if (opened == 0) {
            /* Port 0: every worker's socket must share the port the kernel picked for the first. */
            struct sockaddr_storage got;
            socklen_t gl = sizeof(got);
            getsockname(s->fd, (struct sockaddr *)&got, &gl);
            if (got.ss_family == AF_INET)
                ((struct sockaddr_in *)&bind_addr)->sin_port =
                    ((struct sockaddr_in *)&got)->sin_port;
            else if (got.ss_family == AF_INET6)
                ((struct sockaddr_in6 *)&bind_addr)->sin6_port =
                    ((struct sockaddr_in6 *)&got)->sin6_port;
        }
    }
    return 0;
fail:
    or_err_set(err, NULL, "cannot bind listener socket: %s", strerror(errno));
    while (opened > 0)
        close(socks[--opened].fd);
    return OR_ESYS;
}

int or_listen_start(struct or_listen_socket *s, struct or_worker *w, or_accept_cb cb, void *ctx)
{
    s->worker = w;
    s->cb = cb;
    s->ctx = ctx;
    event_assign(&s->ev, w->base, s->fd, EV_READ | EV_PERSIST, on_accept, s);
    if (event_add(&s->ev, NULL) != 0)
        return OR_ESYS;
    s->enabled = 1;
    return 0;
}

void or_listen_stop(struct or_listen_socket *s)
{
    if (s->enabled) {
        event_del(&s->ev);
        s->enabled = 0;
    }
}

void or_listen_close(struct or_listen_socket *s)
{
    or_listen_stop(s);
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}

uint16_t or_listen_port(const struct or_listen_socket *s)
{
    struct sockaddr_storage got;
    socklen_t gl = sizeof(got);
    if (getsockname(s->fd, (struct sockaddr *)&got, &gl) != 0)
        return 0;
    if (got.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&got)->sin_port);
    if (got.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&got)->sin6_port);
    return 0;
}
