/* START_TIME rendering for access log formats: an absl::FormatTime subset in UTC, compiled once
 * per operator and cached per second (Envoy's DateFormatter). Internal to proxy/accesslog. */
#ifndef OR_ACCESSLOG_FORMAT_TIME_H
#define OR_ACCESSLOG_FORMAT_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum { T_END, T_FRAC, T_SECS };

/* START_TIME is rendered as segments formatted at whole seconds, each followed by the fraction
 * digits, the epoch seconds or nothing (the last one): Envoy's DateFormatter. */
struct tpiece {
    char *seg; /* owned */
    size_t seglen;
    uint8_t kind;
    uint8_t width; /* T_FRAC: 1..9 digits */
};

struct tspec {
    struct tpiece *p; /* owned */
    unsigned n;
};

struct tcache {
    int64_t sec;
    bool valid;
    size_t *ends; /* owned: end offset of each piece's segment text in buf */
    char buf[512];
};

bool or_alog__time_has_newline(const char *s, size_t n);
int or_alog__tspec_compile(struct tspec *t, const char *s, size_t n);
void or_alog__tspec_free(struct tspec *t);
size_t or_alog__time_render(const struct tspec *t, const struct timespec *ts, struct tcache *tc,
                            char *out, size_t cap);

#endif
