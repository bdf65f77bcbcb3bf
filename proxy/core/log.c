#include "proxy/core/log.h"
#include "proxy/core/err.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum or_log_level or_log_level_current = OR_LOG_INFO;

static const char *const level_names[] = {"trace", "debug",    "info", "warning",
                                          "error", "critical", "off"};
static const char level_short[] = {'T', 'D', 'I', 'W', 'E', 'C', 'O'};

/* Envoy's logger names that Outrider's components log under, sorted for /logging. */
static struct {
    const char *name;
    _Atomic int level;
} components[] = {
    {"admin", OR_LOG_INFO},   {"config", OR_LOG_INFO},   {"connection", OR_LOG_INFO},
    {"dns", OR_LOG_INFO},     {"filter", OR_LOG_INFO},   {"http", OR_LOG_INFO},
    {"http2", OR_LOG_INFO},   {"listener", OR_LOG_INFO}, {"main", OR_LOG_INFO},
    {"misc", OR_LOG_INFO},    {"pool", OR_LOG_INFO},     {"router", OR_LOG_INFO},
    {"runtime", OR_LOG_INFO}, {"upstream", OR_LOG_INFO},
};
#define N_COMPONENTS (sizeof(components) / sizeof(components[0]))

static _Atomic int log_fd = 2;
static char log_path[4096];
static char log_format[256] = "[%Y-%m-%d %T.%e][%t][%l][%n] %v";

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

static void recompute_min(void)
{
    int min = OR_LOG_OFF;
    for (size_t i = 0; i < N_COMPONENTS; i++)
        if (components[i].level < min)
            min = components[i].level;
    or_log_level_current = (enum or_log_level)min;
}

void or_log_set_level(enum or_log_level l)
{
    for (size_t i = 0; i < N_COMPONENTS; i++)
        components[i].level = (int)l;
    recompute_min();
}

int or_log_set_component_level(const char *component, enum or_log_level l)
{
    for (size_t i = 0; i < N_COMPONENTS; i++) {
        if (strcmp(components[i].name, component) == 0) {
            components[i].level = (int)l;
            recompute_min();
            return 0;
        }
    }
    return OR_ENOTFOUND;
}

int or_log_apply_component_levels(const char *spec)
{
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s", spec);
    char *save = NULL;
    for (char *item = strtok_r(buf, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(item, ':');
        if (colon == NULL)
            return OR_EINVAL;
        *colon = '\0';
        int lvl = or_log_level_parse(colon + 1);
        if (lvl < 0 || or_log_set_component_level(item, (enum or_log_level)lvl) != 0)
            return OR_EINVAL;
    }
    return 0;
}

size_t or_log_list(char *buf, size_t len)
{
    size_t n = (size_t)snprintf(buf, len, "active loggers:\n");
    for (size_t i = 0; i < N_COMPONENTS && n < len; i++)
        n += (size_t)snprintf(buf + n, len - n, "  %s: %s\n", components[i].name,
                              level_names[components[i].level]);
    return n < len ? n : len - 1;
}

int or_log_set_path(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return OR_ESYS;
    if (path != log_path)
        snprintf(log_path, sizeof(log_path), "%s", path);
    int old = atomic_exchange(&log_fd, fd);
    if (old > 2)
        close(old);
    return 0;
}

int or_log_reopen(void)
{
    return log_path[0] != '\0' ? or_log_set_path(log_path) : 0;
}

void or_log_set_format(const char *pattern)
{
    snprintf(log_format, sizeof(log_format), "%s", pattern);
}

static int component_level(const char *component)
{
    for (size_t i = 0; i < N_COMPONENTS; i++)
        if (strcmp(components[i].name, component) == 0)
            return components[i].level;
    return (int)or_log_level_current;
}

/* Renders the spdlog-style pattern; unknown flags are kept as written. */
static size_t render(char *out, size_t cap, enum or_log_level l, const char *component,
                     const char *msg)
{
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = 0;
    for (const char *p = log_format; *p != '\0' && n + 1 < cap; p++) {
        if (*p != '%' || p[1] == '\0') {
            out[n++] = *p;
            continue;
        }
        p++;
        int w = 0;
        size_t room = cap - n;
        switch (*p) {
        case 'Y':
            w = snprintf(out + n, room, "%04d", tm.tm_year + 1900);
            break;
        case 'm':
            w = snprintf(out + n, room, "%02d", tm.tm_mon + 1);
            break;
        case 'd':
            w = snprintf(out + n, room, "%02d", tm.tm_mday);
            break;
        case 'H':
            w = snprintf(out + n, room, "%02d", tm.tm_hour);
            break;
        case 'M':
            w = snprintf(out + n, room, "%02d", tm.tm_min);
            break;
        case 'S':
            w = snprintf(out + n, room, "%02d", tm.tm_sec);
            break;
        case 'T':
            w = snprintf(out + n, room, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
            break;
        case 'e':
            w = snprintf(out + n, room, "%03ld", (long)(tv.tv_usec / 1000));
            break;
        case 'f':
            w = snprintf(out + n, room, "%06ld", (long)tv.tv_usec);
            break;
        case 't':
            w = snprintf(out + n, room, "%d", (int)gettid());
            break;
        case 'l':
            w = snprintf(out + n, room, "%s", level_names[l]);
            break;
        case 'L':
            w = snprintf(out + n, room, "%c", level_short[l]);
            break;
        case 'n':
            w = snprintf(out + n, room, "%s", component);
            break;
        case 'v':
            w = snprintf(out + n, room, "%s", msg);
            break;
        case '%':
            w = snprintf(out + n, room, "%%");
            break;
        case 'g': /* source file and line: C has no per-call site names here */
        case '#':
            break;
        default:
            w = snprintf(out + n, room, "%%%c", *p);
            break;
        }
        if (w > 0)
            n += (size_t)w < room ? (size_t)w : room - 1;
    }
    out[n] = '\0';
    /* Envoy's default pattern has "[%g:%#] ": drop the empty "[:] " it leaves. */
    char *hole = strstr(out, "[:] ");
    if (hole != NULL) {
        memmove(hole, hole + 4, strlen(hole + 4) + 1);
        n -= 4;
    }
    return n;
}

void or_log_write(enum or_log_level l, const char *component, const char *fmt, ...)
{
    if ((int)l < component_level(component))
        return;
    char msg[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    char line[2048];
    size_t len = render(line, sizeof(line) - 1, l, component, msg);
    line[len++] = '\n';
    ssize_t w = write(atomic_load(&log_fd), line, len);
    (void)w;
}
