/* Codec-neutral header map. Names are lower-case; requests carry the pseudo-headers :method, :path,
 * :authority (HTTP/1 Host) and :scheme, responses :status, on both protocols (HAProxy's HTX idea).
 * Entries and copied bytes live in the owning stream's arena. Order of insertion is kept. */
#ifndef OR_HTTP_HEADERS_H
#define OR_HTTP_HEADERS_H

#include <stdint.h>
#include <string.h>

#include "proxy/core/arena.h"
#include "proxy/core/str.h"

struct or_header {
    struct or_str name;  /* lower-case; arena or static bytes */
    struct or_str value; /* arena or static bytes */
};

struct or_headers {
    struct or_header *v;    /* arena-owned array */
    uint32_t n;             /* entries in use */
    uint32_t cap;           /* entries allocated */
    uint64_t bytes;         /* sum of name+value lengths, for size limits */
    struct or_arena *arena; /* borrowed: the stream's arena */
};

void or_headers_init(struct or_headers *h, struct or_arena *arena);
/* Appends, copying name (lower-cased) and value into the arena. OR_ENOMEM on failure. */
int or_headers_add(struct or_headers *h, const char *name, size_t nlen, const char *value,
                   size_t vlen);
/* Appends without copying: both slices must outlive the map (static strings, arena bytes). Name
 * must already be lower-case. */
int or_headers_add_ref(struct or_headers *h, struct or_str name, struct or_str value);
/* Replaces every entry named `name` by one with `value` (copied), or appends. */
int or_headers_set_n(struct or_headers *h, const char *name, size_t nlen, const char *value,
                     size_t vlen);
/* First value of `name` (lower-case), or NULL. */
const struct or_str *or_headers_get_n(const struct or_headers *h, const char *name, size_t nlen);
/* Removes every entry named `name`; returns how many. */
unsigned or_headers_remove_n(struct or_headers *h, const char *name, size_t nlen);
unsigned or_headers_count_n(const struct or_headers *h, const char *name, size_t nlen);
/* Removes, in one pass, every entry `drop(entry, arg)` accepts; returns how many. For removing a
 * set of names (hop-by-hop, untrusted x-envoy-*) without one scan per name. */
unsigned or_headers_remove_if(struct or_headers *h,
                              bool (*drop)(const struct or_header *e, void *arg), void *arg);

/* The same for NUL-terminated names. Inline so that the length of a literal name (nearly every
 * caller) is folded at compile time instead of measured on every request. */
static inline int or_headers_set(struct or_headers *h, const char *name, const char *value,
                                 size_t vlen)
{
    return or_headers_set_n(h, name, strlen(name), value, vlen);
}
static inline const struct or_str *or_headers_get(const struct or_headers *h, const char *name)
{
    return or_headers_get_n(h, name, strlen(name));
}
static inline unsigned or_headers_remove(struct or_headers *h, const char *name)
{
    return or_headers_remove_n(h, name, strlen(name));
}
static inline unsigned or_headers_count(const struct or_headers *h, const char *name)
{
    return or_headers_count_n(h, name, strlen(name));
}
/* Deep copy of src into dst's arena (dst initialised by the caller). */
int or_headers_copy(struct or_headers *dst, const struct or_headers *src);

#endif
