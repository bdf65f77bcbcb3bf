/* Error codes and config error details shared by every module. */
#ifndef OR_CORE_ERR_H
#define OR_CORE_ERR_H

#include <stddef.h>

/* Functions return 0 or a negative enum or_err; size functions return ssize_t (negative = error).
 */
enum or_err {
    OR_OK = 0,
    OR_ENOMEM = -1,    /* allocation failed: the data path resets the stream or connection */
    OR_EAGAIN = -2,    /* would block / back-pressure: try again when the peer drains */
    OR_EPROTO = -3,    /* the peer broke the protocol */
    OR_ECLOSED = -4,   /* the peer or the socket is gone */
    OR_EINVAL = -5,    /* bad argument or bad configuration */
    OR_ENOTFOUND = -6, /* lookup found nothing */
    OR_ETOOBIG = -7,   /* a size limit was hit (headers, buffers) */
    OR_ESYS = -8,      /* a system call failed: errno says why */
};

/* Filled by config loading and translation so a rejected config (and later an xDS NACK) says which
 * field and why. `path` is the full field path, e.g. "static_resources.clusters[0].lb_policy". */
struct or_err_detail {
    char path[256]; /* field path, "" when not about one field */
    char msg[512];  /* human-readable reason */
};

/* Sets both parts of `e` (either may be NULL to leave it alone). Always returns OR_EINVAL so
 * callers can write `return or_err_set(e, path, "...", ...);`. */
int or_err_set(struct or_err_detail *e, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes "path: msg" (or just msg) into buf. */
void or_err_format(const struct or_err_detail *e, char *buf, size_t len);

const char *or_strerror(int err);

#endif
