/* Logging with Envoy's levels, per-component loggers (--component-log-level, POST /logging) and
 * Envoy's --log-format patterns. Thread-safe: each line is one write(2). */
#ifndef OR_CORE_LOG_H
#define OR_CORE_LOG_H

#include <stddef.h>

enum or_log_level {
    OR_LOG_TRACE = 0,
    OR_LOG_DEBUG,
    OR_LOG_INFO,
    OR_LOG_WARN,
    OR_LOG_ERROR,
    OR_LOG_CRITICAL,
    OR_LOG_OFF,
};

/* The lowest level any component logs at: the cheap first check of every log call. */
extern enum or_log_level or_log_level_current;

/* Parses Envoy's level names (trace debug info warn warning error critical off); -1 if unknown. */
int or_log_level_parse(const char *name);
const char *or_log_level_name(enum or_log_level l);
/* Sets every component's level. */
void or_log_set_level(enum or_log_level l);
/* Sets one component's level: 0, or OR_ENOTFOUND for a name that is not a logger. */
int or_log_set_component_level(const char *component, enum or_log_level l);
/* Applies "a:debug,b:trace" (--component-log-level, /logging?paths=): 0 or OR_EINVAL. */
int or_log_apply_component_levels(const char *spec);
/* Writes Envoy's "active loggers:\n  <name>: <level>\n..." listing into buf; returns the length. */
size_t or_log_list(char *buf, size_t len);
/* Sends log lines to `path` instead of stderr (reopened by or_log_reopen); 0 or OR_ESYS. */
int or_log_set_path(const char *path);
int or_log_reopen(void);
/* Envoy's --log-format pattern (spdlog flags %Y %m %d %T %H %M %S %e %f %t %l %L %n %v %%). */
void or_log_set_format(const char *pattern);

void or_log_write(enum or_log_level l, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define OR_LOG(lvl, comp, ...)                                                                     \
    do {                                                                                           \
        if ((lvl) >= or_log_level_current)                                                         \
            or_log_write((lvl), (comp), __VA_ARGS__);                                              \
    } while (0)
#define or_log_trace(comp, ...) OR_LOG(OR_LOG_TRACE, comp, __VA_ARGS__)
#define or_log_debug(comp, ...) OR_LOG(OR_LOG_DEBUG, comp, __VA_ARGS__)
#define or_log_info(comp, ...) OR_LOG(OR_LOG_INFO, comp, __VA_ARGS__)
#define or_log_warn(comp, ...) OR_LOG(OR_LOG_WARN, comp, __VA_ARGS__)
#define or_log_error(comp, ...) OR_LOG(OR_LOG_ERROR, comp, __VA_ARGS__)
#define or_log_critical(comp, ...) OR_LOG(OR_LOG_CRITICAL, comp, __VA_ARGS__)

#endif
