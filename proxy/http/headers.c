#include "proxy/http/headers.h"
#include "proxy/core/err.h"

#include <ctype.h>
#include <string.h>

void or_headers_init(struct or_headers *h, struct or_arena *arena)
{
    memset(h, 0, sizeof(*h));
    h->arena = arena;
}

static int grow(struct or_headers *h)
{
    uint32_t cap = h->cap ? h->cap * 2 : 16;
    struct or_header *v = or_arena_alloc(h->arena, sizeof(*v) * cap);
    if (v == NULL)
        return OR_ENOMEM;
    if (h->n)
        memcpy(v, h->v, sizeof(*v) * h->n);
    h->v = v;
    h->cap = cap;
    return 0;
}

int or_headers_add_ref(struct or_headers *h, struct or_str name, struct or_str value)
{
    if (h->n == h->cap && grow(h) != 0)
        return OR_ENOMEM;
    h->v[h->n].name = name;
    h->v[h->n].value = value;
    h->n++;
    h->bytes += name.len + value.len;
    return 0;
}

int or_headers_add(struct or_headers *h, const char *name, size_t nlen, const char *value,
                   size_t vlen)
{
    char *n = or_arena_alloc(h->arena, nlen + vlen + 2);
    if (n == NULL)
        return OR_ENOMEM;
    for (size_t i = 0; i < nlen; i++)
        n[i] = (char)tolower((unsigned char)name[i]);
    n[nlen] = '\0';
    char *v = n + nlen + 1;
    memcpy(v, value, vlen);
    v[vlen] = '\0';
    return or_headers_add_ref(h, or_str_make(n, nlen), or_str_make(v, vlen));
}

const struct or_str *or_headers_get_n(const struct or_headers *h, const char *name, size_t nlen)
{
    for (uint32_t i = 0; i < h->n; i++)
        if (h->v[i].name.len == nlen && memcmp(h->v[i].name.ptr, name, nlen) == 0)
            return &h->v[i].value;
    return NULL;
}

unsigned or_headers_remove_n(struct or_headers *h, const char *name, size_t nlen)
{
    /* Most calls remove nothing: find the first match before moving any entry. */
    uint32_t i = 0;
    while (i < h->n && !(h->v[i].name.len == nlen && memcmp(h->v[i].name.ptr, name, nlen) == 0))
        i++;
    uint32_t out = i;
    unsigned removed = 0;
    for (; i < h->n; i++) {
        if (h->v[i].name.len == nlen && memcmp(h->v[i].name.ptr, name, nlen) == 0) {
            h->bytes -= h->v[i].name.len + h->v[i].value.len;
            removed++;
            continue;
        }
        h->v[out++] = h->v[i];
    }
    h->n = out;
    return removed;
}

unsigned or_headers_remove_if(struct or_headers *h,
                              bool (*drop)(const struct or_header *e, void *arg), void *arg)
{
    uint32_t out = 0;
    unsigned removed = 0;
    for (uint32_t i = 0; i < h->n; i++) {
        if (drop(&h->v[i], arg)) {
            h->bytes -= h->v[i].name.len + h->v[i].value.len;
            removed++;
            continue;
        }
        if (out != i)
            h->v[out] = h->v[i];
        out++;
    }
    h->n = out;
    return removed;
}

unsigned or_headers_count_n(const struct or_headers *h, const char *name, size_t nlen)
{
    unsigned c = 0;
    for (uint32_t i = 0; i < h->n; i++)
        if (h->v[i].name.len == nlen && memcmp(h->v[i].name.ptr, name, nlen) == 0)
            c++;
    return c;
}

int or_headers_set_n(struct or_headers *h, const char *name, size_t nlen, const char *value,
                     size_t vlen)
{
    or_headers_remove_n(h, name, nlen);
    return or_headers_add(h, name, nlen, value, vlen);
}

int or_headers_copy(struct or_headers *dst, const struct or_headers *src)
{
    for (uint32_t i = 0; i < src->n; i++) {
        const struct or_header *e = &src->v[i];
        if (or_headers_add(dst, e->name.ptr, e->name.len, e->value.ptr, e->value.len) != 0)
            return OR_ENOMEM;
    }
    return 0;
}
