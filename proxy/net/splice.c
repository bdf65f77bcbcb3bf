#include "proxy/net/splice.h"
#include "proxy/core/err.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

/* A larger pipe takes more socket fragments per call (one pipe slot per fragment). */
#define PIPE_BYTES (256 * 1024)

int or_pipe_get(struct or_pipe_pool *pp, int fds[2])
{
    if (pp->n > 0) {
        pp->n--;
        fds[0] = pp->fds[pp->n][0];
        fds[1] = pp->fds[pp->n][1];
        return 0;
    }
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
        return errno == EMFILE || errno == ENFILE ? OR_ENOMEM : OR_EINVAL;
    /* Best effort: the default 64 KiB works too. */
    (void)fcntl(fds[1], F_SETPIPE_SZ, PIPE_BYTES);
    return 0;
}

void or_pipe_put(struct or_pipe_pool *pp, int fds[2], bool empty)
{
    if (fds[0] < 0)
        return;
    if (empty && !pp->closing && pp->n < OR_PIPE_CACHE) {
        pp->fds[pp->n][0] = fds[0];
        pp->fds[pp->n][1] = fds[1];
        pp->n++;
    } else {
        close(fds[0]);
        close(fds[1]);
    }
    fds[0] = fds[1] = -1;
}

void or_pipe_pool_close(struct or_pipe_pool *pp)
{
    pp->closing = true;
    while (pp->n > 0) {
        pp->n--;
        close(pp->fds[pp->n][0]);
        close(pp->fds[pp->n][1]);
    }
}

ssize_t or_splice(int fd_in, int fd_out, size_t len)
{
    return splice(fd_in, NULL, fd_out, NULL, len, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
}
