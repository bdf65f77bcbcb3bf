/* Zero-copy forwarding between two sockets with splice(2) through a pipe: socket pages move into
 * the pipe and on to the other socket without being copied to user space (issue 4). Each worker
 * keeps a few empty pipes; the owner (the router) pumps and counts the bytes. */
#ifndef OR_NET_SPLICE_H
#define OR_NET_SPLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define OR_PIPE_CACHE 4

/* One worker's empty pipes. Zero-initialised is a valid empty pool. */
struct or_pipe_pool {
    int fds[OR_PIPE_CACHE][2]; /* owned: [0] read end, [1] write end */
    uint32_t n;                /* cached pipes */
    bool disabled;             /* splice(2) refused sockets once: never try again */
    bool closing;              /* shutdown: pipes given back are closed */
};

/* An empty non-blocking pipe into fds (read end, write end). 0 or a negative enum or_err. */
int or_pipe_get(struct or_pipe_pool *pp, int fds[2]);
/* Gives a pipe back: kept if it is empty (`empty`) and the cache has room, else closed. */
void or_pipe_put(struct or_pipe_pool *pp, int fds[2], bool empty);
/* Closes every cached pipe; later puts close theirs. */
void or_pipe_pool_close(struct or_pipe_pool *pp);
/* splice(2) of up to len bytes from fd_in to fd_out, non-blocking (one end must be a pipe). */
ssize_t or_splice(int fd_in, int fd_out, size_t len);

#endif
