/* Per-thread free lists for libevent's memory: evbuffer chains, events and buffers come and go
 * several times per request (a 32 KiB chain for each read, a 1 KiB one for each encoded head), and
 * glibc serves sizes above its 1 KiB thread cache from its bins — locked, searched and coalesced
 * every time. */
#ifndef OR_EVENT_EVMEM_H
#define OR_EVENT_EVMEM_H

#include <stddef.h>

/**
 * Routes libevent's allocations through size-class free lists kept per thread (64 B .. 64 KiB
 * classes, no per-block header; smaller requests go to malloc; each class keeps at most
 * OR_EVMEM_CLASS_BYTES of free blocks per thread, larger requests go straight to malloc). Must run
 * before the first libevent call. Under AddressSanitizer it does nothing, so use-after-free in
 * buffers stays visible.
 */
void or_evmem_install(void);

/** Free bytes each size class may keep per thread (at least OR_EVMEM_MIN_BLOCKS blocks). glibc
 * would keep these bytes as well: the process sets M_TRIM_THRESHOLD to 64 MiB (main.c). */
#define OR_EVMEM_CLASS_BYTES (256u << 10)
#define OR_EVMEM_MIN_BLOCKS 8u

/* What the calling thread's free lists hold now, in bytes (for tests and /memory). */
size_t or_evmem_cached_bytes(void);

/* The allocator itself, exported for tests. */
void *or_evmem_malloc(size_t n);
void *or_evmem_realloc(void *p, size_t n);
void or_evmem_free(void *p);

#endif
