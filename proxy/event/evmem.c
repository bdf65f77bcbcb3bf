#include "proxy/event/evmem.h"

#include <event2/event.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Classes are powers of two from 64 B (class 0) to 64 KiB (class 10) of usable size: libevent
 * itself rounds chains to powers of two from 1 KiB, so a chain fills its class exactly. Requests
 * under 64 B (the 16-byte evmap entry every fd gets) go to malloc unrounded.
 *
 * No header in front of the blocks: a block's class comes from malloc_usable_size() when it is
 * freed, so the 16-byte evmap entry every connection's fd gets costs malloc's 32 bytes, not a
 * padded class block (10,000 idle connections are 10,000 fds). A block of usable size u goes to
 * class floor(log2(u)): it can serve any request of that class. */
#define MIN_SHIFT 6u
#define NCLASS 11u
#define MIN_CLASS_SIZE ((size_t)1 << MIN_SHIFT)
#define MAX_CLASS_SIZE ((size_t)1 << (MIN_SHIFT + NCLASS - 1u))
/* A block within this much of its class size was made for the class (malloc adds a word or so);
 * bigger slack means a plain allocation of an odd size, which goes back to malloc. */
#define CLASS_SLACK 64u

struct free_block {
    struct free_block *next; /* owned by the list it is on */
};

struct thread_cache {
    struct free_block *head[NCLASS]; /* owned: blocks ready for reuse */
    uint32_t n[NCLASS];
    size_t bytes;
};

static __thread struct thread_cache *tc;
static pthread_key_t tc_key;
static pthread_once_t tc_once = PTHREAD_ONCE_INIT;

/* Gives a finished thread's blocks back to malloc. */
static void tc_release(void *arg)
{
    struct thread_cache *c = arg;
    for (unsigned i = 0; i < NCLASS; i++) {
        while (c->head[i] != NULL) {
            struct free_block *b = c->head[i];
            c->head[i] = b->next;
            free(b);
        }
    }
    free(c);
}

static void tc_key_init(void)
{
    pthread_key_create(&tc_key, tc_release);
}

static struct thread_cache *cache(void)
{
    if (tc == NULL) {
        pthread_once(&tc_once, tc_key_init);
        tc = calloc(1, sizeof(*tc));
        if (tc != NULL)
            pthread_setspecific(tc_key, tc);
    }
    return tc;
}

/* ceil(log2(n)) - MIN_SHIFT, for MIN_CLASS_SIZE <= n <= MAX_CLASS_SIZE */
static unsigned class_up(size_t n)
{
    return (unsigned)(64 - __builtin_clzll((unsigned long long)(n - 1))) - MIN_SHIFT;
}

static uint32_t class_limit(unsigned cls)
{
    uint32_t n = (uint32_t)(OR_EVMEM_CLASS_BYTES >> (MIN_SHIFT + cls));
    return n > OR_EVMEM_MIN_BLOCKS ? n : OR_EVMEM_MIN_BLOCKS;
}

void *or_evmem_malloc(size_t n)
{
    if (n < MIN_CLASS_SIZE || n > MAX_CLASS_SIZE)
        return malloc(n);
    unsigned cls = class_up(n);
    struct thread_cache *c = cache();
    if (c != NULL && c->head[cls] != NULL) {
        struct free_block *b = c->head[cls];
        c->head[cls] = b->next;
        c->n[cls]--;
        c->bytes -= (size_t)1 << (MIN_SHIFT + cls);
        return b;
    }
    return malloc((size_t)1 << (MIN_SHIFT + cls));
}

void or_evmem_free(void *p)
{
    if (p == NULL)
        return;
    size_t u = malloc_usable_size(p);
    if (u < MIN_CLASS_SIZE || u > MAX_CLASS_SIZE + CLASS_SLACK) {
        free(p);
        return;
    }
    /* floor(log2(u)) - MIN_SHIFT */
    unsigned cls = (unsigned)(63 - __builtin_clzll((unsigned long long)u)) - MIN_SHIFT;
    if (cls >= NCLASS)
        cls = NCLASS - 1;
    size_t size = (size_t)1 << (MIN_SHIFT + cls);
    struct thread_cache *c = cache();
    if (c == NULL || u - size > CLASS_SLACK || c->n[cls] >= class_limit(cls)) {
        free(p);
        return;
    }
    struct free_block *b = p;
    b->next = c->head[cls];
    c->head[cls] = b;
    c->n[cls]++;
    c->bytes += size;
}

void *or_evmem_realloc(void *p, size_t n)
{
    if (p == NULL)
        return or_evmem_malloc(n);
    if (n == 0) {
        or_evmem_free(p);
        return NULL;
    }
    size_t u = malloc_usable_size(p);
    if (n <= u)
        return p;
    void *q = or_evmem_malloc(n);
    if (q == NULL)
        return NULL;
    memcpy(q, p, u);
    or_evmem_free(p);
    return q;
}

size_t or_evmem_cached_bytes(void)
{
    return tc != NULL ? tc->bytes : 0;
}

void or_evmem_install(void)
{
#if !defined(__SANITIZE_ADDRESS__)
    event_set_mem_functions(or_evmem_malloc, or_evmem_realloc, or_evmem_free);
#endif
}
