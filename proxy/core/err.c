#include "proxy/core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int or_err_set(struct or_err_detail *e, const char *path, const char *fmt, ...)
{
    if (e == NULL)
        return OR_EINVAL;
    if (path != NULL)
        snprintf(e->path, sizeof(e->path), "%s", path);
    if (fmt != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
        va_end(ap);
    }
    return OR_EINVAL;
}

void or_err_format(const struct or_err_detail *e, char *buf, size_t len)
{
    if (e->path[0] != '\0')
        snprintf(buf, len, "%s: %s", e->path, e->msg);
    else
        snprintf(buf, len, "%s", e->msg);
}

const char *or_strerror(int err)
{
    switch (err) {
    case OR_OK:
        return "ok";
    case OR_ENOMEM:
        return "out of memory";
    case OR_EAGAIN:
        return "try again";
    case OR_EPROTO:
        return "protocol error";
    case OR_ECLOSED:
        return "closed";
    case OR_EINVAL:
        return "invalid argument";
    case OR_ENOTFOUND:
        return "not found";
    case OR_ETOOBIG:
        return "too big";
    case OR_ESYS:
        return "system error";
    }
    return "unknown error";
}
