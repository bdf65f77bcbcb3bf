#include "proxy/core/arena.h"
#include "proxy/core/err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct or_arena_chunk {
    struct or_arena_chunk *next; /* older chunk */
    size_t size;                 /* usable bytes after the header */
    _Alignas(16) char data[];
};

#define ALIGN16(n) (((n) + 15) & ~(size_t)15)

void or_arena_init(struct or_arena *a, size_t chunk_size)
{
    memset(a, 0, sizeof(*a));
    a->chunk_size = chunk_size ? chunk_size : 4096;
}

static void run_cleanups(struct or_arena *a)
{
    while (a->cleanups != NULL) {
        struct or_arena_cleanup *c = a->cleanups;
        a->cleanups = c->next;
        c->cb(c->data);
    }
}

void or_arena_reset(struct or_arena *a)
{
    run_cleanups(a);
    struct or_arena_chunk *keep = NULL;
    /* Keep the oldest standard-size chunk: the common stream never needs a second one. */
    while (a->chunks != NULL) {
        struct or_arena_chunk *c = a->chunks;
        a->chunks = c->next;
        if (a->chunks == NULL && c->size == a->chunk_size)
            keep = c;
        else
            free(c);
    }
    a->chunks = keep;
    if (keep != NULL) {
        keep->next = NULL;
        a->cur = keep->data;
        a->end = keep->data + keep->size;
    } else {
        a->cur = a->end = NULL;
    }
}

void or_arena_deinit(struct or_arena *a)
{
    run_cleanups(a);
    while (a->chunks != NULL) {
        struct or_arena_chunk *c = a->chunks;
        a->chunks = c->next;
        free(c);
    }
    a->cur = a->end = NULL;
}

void *or_arena_alloc(struct or_arena *a, size_t n)
{
    n = ALIGN16(n ? n : 1);
    if (a->cur == NULL || (size_t)(a->end - a->cur) < n) {
        size_t size = n > a->chunk_size ? n : a->chunk_size;
        struct or_arena_chunk *c = malloc(sizeof(*c) + size);
        if (c == NULL)
            return NULL;
        c->size = size;
        if (size > a->chunk_size && a->chunks != NULL) {
            /* An oversized block: link it behind the current chunk so bumping continues there. */
            c->next = a->chunks->next;
            a->chunks->next = c;
            return c->data;
        }
        c->next = a->chunks;
        a->chunks = c;
        a->cur = c->data;
        a->end = c->data + size;
    }
    void *p = a->cur;
    a->cur += n;
    return p;
}

void *or_arena_calloc(struct or_arena *a, size_t n)
{
    void *p = or_arena_alloc(a, n);
    if (p != NULL)
        memset(p, 0, n);
    return p;
}

char *or_arena_strndup(struct or_arena *a, const char *s, size_t n)
{
    char *p = or_arena_alloc(a, n + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

int or_arena_on_cleanup(struct or_arena *a, or_arena_cleanup_cb cb, void *data)
{
    struct or_arena_cleanup *c = or_arena_alloc(a, sizeof(*c));
    if (c == NULL)
        return OR_ENOMEM;
    c->cb = cb;
    c->data = data;
    c->next = a->cleanups;
    a->cleanups = c;
    return 0;
}
