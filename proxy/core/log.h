/* Logging with Envoy's levels. Thread-safe: one write(2) per line. */
#ifndef OR_CORE_LOG_H
#define OR_CORE_LOG_H

enum or_log_level {
    OR_LOG_TRACE = 0,
    OR_LOG_DEBUG,
    OR_LOG_INFO,
    OR_LOG_WARN,
    OR_LOG_ERROR,
    OR_LOG_CRITICAL,
    OR_LOG_OFF,
};

extern enum or_log_level or_log_level_current;

/* Parses Envoy's level names (trace debug info warn warning error critical off); -1 if unknown. */
int or_log_level_parse(const char *name);
const char *or_log_level_name(enum or_log_level l);
void or_log_set_level(enum or_log_level l);
/* Sends log lines to `path` instead of stderr; 0 or OR_ESYS. */
int or_log_set_path(const char *path);

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
