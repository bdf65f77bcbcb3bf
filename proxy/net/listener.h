/* Listening sockets: one per worker per listener, bound with SO_REUSEPORT so the kernel spreads
 * connections across workers without a shared accept lock. Sockets are opened on the main thread
 * (so a bind error fails start-up, and port 0 resolves once) and then handed to the workers. */
#ifndef OR_NET_LISTENER_H
#define OR_NET_LISTENER_H

#include <event2/event_struct.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "proxy/core/err.h"
#include "proxy/event/worker.h"

struct or_listen_socket;

/* Called on the worker for each accepted, non-blocking fd; the callee owns fd. */
typedef void (*or_accept_cb)(struct or_worker *w, void *ctx, int fd, const struct sockaddr *peer,
                             socklen_t peerlen);

struct or_listen_socket {
    int fd;                   /* owned */
    struct event ev;          /* accept readiness, on the owning worker's base */
    struct or_worker *worker; /* borrowed */
    or_accept_cb cb;
    void *ctx; /* borrowed: the listener runtime of the current snapshot */
    int enabled;
};

/* Opens `count` SO_REUSEPORT sockets on addr (port 0 → one kernel-chosen port shared by all).
 * Fills socks[0..count-1]. On failure err says why; nothing stays open. */
int or_listen_open(const struct sockaddr *addr, socklen_t len, uint32_t count,
                   struct or_listen_socket *socks, bool v6only, struct or_err_detail *err);
/* Starts accepting on the worker (call on the worker thread or before it starts). */
int or_listen_start(struct or_listen_socket *s, struct or_worker *w, or_accept_cb cb, void *ctx);
/* Stops accepting (the socket stays open: drain keeps it for in-flight connections' sake). */
void or_listen_stop(struct or_listen_socket *s);
void or_listen_close(struct or_listen_socket *s);
/* Port the socket is bound to. */
uint16_t or_listen_port(const struct or_listen_socket *s);

#endif
