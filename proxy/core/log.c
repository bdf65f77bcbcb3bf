#include "proxy/core/log.h"
#include "proxy/core/err.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum or_log_level or_log_level_current = OR_LOG_INFO;
static int log_fd = 2;

static const char *const level_names[] = {"trace", "debug",    "info", "warning",
                                          "error", "critical", "off"};

int or_log_level_parse(const char *name)
{
    if (strcmp(name, "warn") == 0)
        return OR_LOG_WARN;
    for (int i = 0; i <= OR_LOG_OFF; i++)
        if (strcmp(name, level_names[i]) == 0)
            return i;
    return -1;
}

const char *or_log_level_name(enum or_log_level l)
{
    return level_names[l];
}

void or_log_set_level(enum or_log_level l)
{
    or_log_level_current = l;
}

int or_log_set_path(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return OR_ESYS;
    if (log_fd > 2)
        close(log_fd);
    log_fd = fd;
    return 0;
}

void or_log_write(enum or_log_level l, const char *component, const char *fmt, ...)
{
    char line[2048];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    /* Envoy's default layout: [%Y-%m-%d %T.%e][%t][%l][%n] %v */
    int n = snprintf(line, sizeof(line), "[%04d-%02d-%02d %02d:%02d:%02d.%03ld][%d][%s][%s] ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (long)(tv.tv_usec / 1000), (int)gettid(), level_names[l], component);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    line[len++] = '\n';
    ssize_t w = write(log_fd, line, len);
    (void)w;
}
