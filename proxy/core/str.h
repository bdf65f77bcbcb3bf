/* Borrowed byte slices: a pointer and a length, never NUL-terminated by contract. */
#ifndef OR_CORE_STR_H
#define OR_CORE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

struct or_str {
    const char *ptr; /* borrowed: whoever made the slice keeps the bytes alive */
    size_t len;
};

#define OR_STR_LIT(s) ((struct or_str){(s), sizeof(s) - 1})
#define OR_STR_NULL ((struct or_str){NULL, 0})

static inline struct or_str or_str_make(const char *p, size_t len)
{
    return (struct or_str){p, len};
}

static inline struct or_str or_str_cstr(const char *s)
{
    return (struct or_str){s, s ? strlen(s) : 0};
}

static inline bool or_str_eq(struct or_str a, struct or_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static inline bool or_str_eq_lit(struct or_str a, const char *lit)
{
    return or_str_eq(a, or_str_cstr(lit));
}

static inline bool or_str_case_eq(struct or_str a, struct or_str b)
{
    return a.len == b.len && (a.len == 0 || strncasecmp(a.ptr, b.ptr, a.len) == 0);
}

static inline bool or_str_has_prefix(struct or_str s, struct or_str prefix)
{
    return s.len >= prefix.len && memcmp(s.ptr, prefix.ptr, prefix.len) == 0;
}

/* Decimal digits of v into out (at least OR_U64_DEC_MAX bytes, not NUL-terminated); returns how
 * many. For the numbers written on every request (service time, lengths, log fields), where
 * snprintf's format parsing costs more than the digits. */
#define OR_U64_DEC_MAX 20
static inline size_t or_u64_dec(char *out, uint64_t v)
{
    char tmp[OR_U64_DEC_MAX];
    size_t n = 0;
    do {
        tmp[sizeof(tmp) - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    memcpy(out, tmp + sizeof(tmp) - n, n);
    return n;
}

#endif
