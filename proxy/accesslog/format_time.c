/* START_TIME rendering for access log formats (see format_time.h). */
#include "proxy/accesslog/format_time.h"
#include "proxy/core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * START_TIME: absl::FormatTime subset in UTC */

/* Formats one strftime-style segment at a whole second in UTC, with absl's extensions %Ez, %E*z,
 * %E#S, %E*S, %E#f, %E*f, %E4Y and %Z = "UTC". Returns the length written (truncated to cap). */
static size_t fmt_segment(const char *seg, size_t n, const struct tm *tm, char *out, size_t cap)
{
    size_t o = 0;
#define PUT(str, len)                                                                              \
    do {                                                                                           \
        size_t l_ = (len);                                                                         \
        if (l_ > cap - o)                                                                          \
            l_ = cap - o;                                                                          \
        memcpy(out + o, (str), l_);                                                                \
        o += l_;                                                                                   \
    } while (0)
    for (size_t i = 0; i < n;) {
        if (seg[i] != '%' || i + 1 >= n) {
            PUT(seg + i, 1);
            i++;
            continue;
        }
        char tmp[64];
        /* absl extensions on a whole-second time. */
        if (seg[i + 1] == 'E' && i + 2 < n) {
            const char *e = seg + i + 2;
            size_t rem = n - i - 2;
            if (e[0] == 'z') {
                PUT("+00:00", 6);
                i += 3;
                continue;
            }
            if (rem >= 2 && e[0] == '*' && (e[1] == 'z' || e[1] == 'S' || e[1] == 'f')) {
                if (e[1] == 'z')
                    PUT("+00:00", 6);
                else if (e[1] == 'S') {
                    int l = snprintf(tmp, sizeof(tmp), "%02d", tm->tm_sec);
                    PUT(tmp, (size_t)l);
                } /* %E*f: no fraction digits at a whole second */
                i += 4;
                continue;
            }
            if (rem >= 2 && e[0] >= '0' && e[0] <= '9' && (e[1] == 'S' || e[1] == 'f')) {
                int digits = e[0] - '0';
                int l = 0;
                if (e[1] == 'S')
                    l = snprintf(tmp, sizeof(tmp), "%02d%s", tm->tm_sec, digits > 0 ? "." : "");
                for (int d = 0; d < digits; d++)
                    tmp[l++] = '0';
                PUT(tmp, (size_t)l);
                i += 4;
                continue;
            }
            if (rem >= 2 && e[0] == '4' && e[1] == 'Y') {
                int l = snprintf(tmp, sizeof(tmp), "%04d", tm->tm_year + 1900);
                PUT(tmp, (size_t)l);
                i += 4;
                continue;
            }
        }
        /* Plain strftime conversion: %[flags][width][E|O]c */
        size_t j = i + 1;
        while (j < n && strchr("-_0^#", seg[j]) != NULL)
            j++;
        while (j < n && seg[j] >= '0' && seg[j] <= '9')
            j++;
        if (j < n && (seg[j] == 'E' || seg[j] == 'O'))
            j++;
        if (j >= n) {
            PUT(seg + i, n - i);
            break;
        }
        size_t speclen = j - i + 1;
        if (seg[j] == 'Z') {
            PUT("UTC", 3);
        } else if (speclen < 16) {
            char spec[16];
            memcpy(spec, seg + i, speclen);
            spec[speclen] = '\0';
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
            size_t l = strftime(tmp, sizeof(tmp), spec, tm);
#pragma GCC diagnostic pop
            PUT(tmp, l);
        } else {
            PUT(seg + i, speclen);
        }
        i = j + 1;
    }
#undef PUT
    return o;
}

/* True when `s` contains what Envoy's regex "%[-_0^#]*[1-9]*(E|O)?n" finds: a newline
 * conversion, which must not end up in a log line or header. */
bool or_alog__time_has_newline(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%')
            continue;
        size_t j = i + 1;
        while (j < n && strchr("-_0^#", s[j]) != NULL)
            j++;
        while (j < n && s[j] >= '1' && s[j] <= '9')
            j++;
        if (j < n && (s[j] == 'E' || s[j] == 'O'))
            j++;
        if (j < n && s[j] == 'n')
            return true;
    }
    return false;
}

static int tspec_add(struct tspec *t, const char *seg, size_t seglen, uint8_t kind, uint8_t width)
{
    struct tpiece *p = realloc(t->p, (t->n + 1) * sizeof(*p));
    if (p == NULL)
        return OR_ENOMEM;
    t->p = p;
    char *s = malloc(seglen + 1);
    if (s == NULL)
        return OR_ENOMEM;
    memcpy(s, seg, seglen);
    s[seglen] = '\0';
    p[t->n++] = (struct tpiece){s, seglen, kind, width};
    return 0;
}

/* Splits a START_TIME format at Envoy's specifiers "(%([1-9])?f)|(%s)" (leftmost match at every
 * position, as std::regex_search does). The empty format is Envoy's default
 * "%Y-%m-%dT%H:%M:%S.%3fZ" (milliseconds, truncated). */
int or_alog__tspec_compile(struct tspec *t, const char *s, size_t n)
{
    int rc;
    if (n == 0) {
        static const char def[] = "%Y-%m-%dT%H:%M:%S.";
        if ((rc = tspec_add(t, def, sizeof(def) - 1, T_FRAC, 3)) != 0)
            return rc;
        return tspec_add(t, "Z", 1, T_END, 0);
    }
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%' || i + 1 >= n)
            continue;
        uint8_t kind = T_END, width = 0;
        size_t mlen = 0;
        if (s[i + 1] == 'f') {
            kind = T_FRAC, width = 9, mlen = 2;
        } else if (s[i + 1] >= '1' && s[i + 1] <= '9' && i + 2 < n && s[i + 2] == 'f') {
            kind = T_FRAC, width = (uint8_t)(s[i + 1] - '0'), mlen = 3;
        } else if (s[i + 1] == 's') {
            kind = T_SECS, mlen = 2;
        }
        if (mlen == 0)
            continue;
        if ((rc = tspec_add(t, s + start, i - start, kind, width)) != 0)
            return rc;
        start = i + mlen;
        i = start - 1;
    }
    return tspec_add(t, s + start, n - start, T_END, 0);
}

void or_alog__tspec_free(struct tspec *t)
{
    for (unsigned i = 0; i < t->n; i++)
        free(t->p[i].seg);
    free(t->p);
}

/* Formats every segment of `t` at second `sec` into tc (buf + ends). */
static void tcache_fill(const struct tspec *t, int64_t sec, struct tcache *tc)
{
    struct tm tm;
    time_t tt = (time_t)sec;
    if (gmtime_r(&tt, &tm) == NULL)
        memset(&tm, 0, sizeof(tm));
    size_t o = 0;
    for (unsigned i = 0; i < t->n; i++) {
        o += fmt_segment(t->p[i].seg, t->p[i].seglen, &tm, tc->buf + o, sizeof(tc->buf) - o);
        tc->ends[i] = o;
    }
    tc->sec = sec;
    tc->valid = true;
}

/* Renders START_TIME into out (cap bytes); returns the length. */
size_t or_alog__time_render(const struct tspec *t, const struct timespec *ts, struct tcache *tc,
                            char *out, size_t cap)
{
    struct tcache local;
    size_t local_ends[64];
    if (tc == NULL || tc->ends == NULL) {
        if (t->n > 64)
            return 0;
        local.ends = local_ends;
        local.valid = false;
        tc = &local;
    }
    if (!tc->valid || tc->sec != (int64_t)ts->tv_sec)
        tcache_fill(t, (int64_t)ts->tv_sec, tc);
    char frac[10];
    long ns = ts->tv_nsec;
    if (ns < 0 || ns > 999999999)
        ns = 0;
    snprintf(frac, sizeof(frac), "%09ld", ns);
    char secs[24];
    int secs_len = snprintf(secs, sizeof(secs), "%lld", (long long)ts->tv_sec);
    size_t o = 0, prev = 0;
    for (unsigned i = 0; i < t->n; i++) {
        size_t sl = tc->ends[i] - prev;
        const char *add = NULL;
        size_t addlen = 0;
        if (t->p[i].kind == T_FRAC)
            add = frac, addlen = t->p[i].width;
        else if (t->p[i].kind == T_SECS)
            add = secs, addlen = (size_t)secs_len;
        if (sl > cap - o)
            sl = cap - o;
        memcpy(out + o, tc->buf + prev, sl);
        o += sl;
        if (addlen > cap - o)
            addlen = cap - o;
        if (addlen)
            memcpy(out + o, add, addlen);
        o += addlen;
        prev = tc->ends[i];
    }
    return o;
}
