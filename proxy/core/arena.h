/* Per-stream arena: bump allocation for headers and small objects, freed all at once when the
 * stream ends, with cleanup hooks for things that own outside resources (ngx_pool_cleanup_add). */
#ifndef OR_CORE_ARENA_H
#define OR_CORE_ARENA_H

#include <stddef.h>

struct or_arena_chunk;

typedef void (*or_arena_cleanup_cb)(void *data);

struct or_arena_cleanup {
    or_arena_cleanup_cb cb;
    void *data;
    struct or_arena_cleanup *next; /* arena-allocated, runs in reverse order of registration */
};

struct or_arena {
    struct or_arena_chunk *chunks;     /* owned: malloc'd chunk list, newest first */
    char *cur;                         /* next free byte in chunks */
    char *end;                         /* end of the current chunk */
    struct or_arena_cleanup *cleanups; /* arena-owned list */
    size_t chunk_size;                 /* default size of a new chunk */
};

/* Chunks of `chunk_size` bytes (0 = 4 KiB); larger allocations get a chunk of their own. */
void or_arena_init(struct or_arena *a, size_t chunk_size);
/* Runs cleanups, frees every chunk but the first (kept for reuse), and rewinds. */
void or_arena_reset(struct or_arena *a);
/* Runs cleanups and frees all chunks. */
void or_arena_deinit(struct or_arena *a);
/* 16-byte aligned; NULL on OOM. */
void *or_arena_alloc(struct or_arena *a, size_t n);
void *or_arena_calloc(struct or_arena *a, size_t n);
/* Copies n bytes and appends a NUL; NULL on OOM. */
char *or_arena_strndup(struct or_arena *a, const char *s, size_t n);
/* Registers cb(data) to run at reset/deinit; OR_ENOMEM on failure. */
int or_arena_on_cleanup(struct or_arena *a, or_arena_cleanup_cb cb, void *data);

#endif
