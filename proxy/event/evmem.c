#include "proxy/event/evmem.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Classes are powers of two from 64 B (class 0) to 64 KiB (class 10) of usable size: libevent
 * itself rounds chains to powers of two from 1 KiB, so a chain fills its class exactly. */
#define MIN_SHIFT 6u
#define NCLASS 11u
#define MAX_CLASS_SIZE ((size_t)1 << (MIN_SHIFT + NCLASS - 1u))
#define LARGE 0xffu

/* In front of every block; 16 bytes keep the caller's pointer 16-byte aligned like malloc's. */
struct hdr {
    size_t size; /* usable bytes */
    uint8_t cls; /* size class, LARGE for a plain malloc */
    uint8_t pad[7];
};

struct free_block {
    struct free_block *next; /* owned by the list it is on */
};

struct thread_cache {
    struct free_block *head[NCLASS]; /* owned: blocks (their headers) ready for reuse */
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

static unsigned class_of(size_t n)
{
    if (n <= ((size_t)1 << MIN_SHIFT))
        return 0;
    /* ceil(log2(n)) - MIN_SHIFT */
    return (unsigned)(64 - __builtin_clzll((unsigned long long)(n - 1))) - MIN_SHIFT;
}

static uint32_t class_limit(unsigned cls)
{
    uint32_t n = (uint32_t)(OR_EVMEM_CLASS_BYTES >> (MIN_SHIFT + cls));
    return n > OR_EVMEM_MIN_BLOCKS ? n : OR_EVMEM_MIN_BLOCKS;
}

void *or_evmem_malloc(size_t n)
{
    if (n > MAX_CLASS_SIZE) {
        struct hdr *h = malloc(sizeof(*h) + n);
        if (h == NULL)
            return NULL;
        h->size = n;
        h->cls = LARGE;
        return h + 1;
    }
    unsigned cls = class_of(n);
    struct thread_cache *c = cache();
    struct hdr *h;
    if (c != NULL && c->head[cls] != NULL) {
        struct free_block *b = c->head[cls];
        c->head[cls] = b->next;
        c->n[cls]--;
        c->bytes -= (size_t)1 << (MIN_SHIFT + cls);
        h = (struct hdr *)b;
    } else {
        h = malloc(sizeof(*h) + ((size_t)1 << (MIN_SHIFT + cls)));
        if (h == NULL)
            return NULL;
    }
    h->size = (size_t)1 << (MIN_SHIFT + cls);
    h->cls = (uint8_t)cls;
    return h + 1;
}

void or_evmem_free(void *p)
{
    if (p == NULL)
        return;
    struct hdr *h = (struct hdr *)p - 1;
    unsigned cls = h->cls;
    struct thread_cache *c = cls == LARGE ? NULL : cache();
    if (c == NULL || c->n[cls] >= class_limit(cls)) {
        free(h);
        return;
    }
    struct free_block *b = (struct free_block *)h;
    b->next = c->head[cls];
    c->head[cls] = b;
    c->n[cls]++;
    c->bytes += (size_t)1 << (MIN_SHIFT + cls);
}

void *or_evmem_realloc(void *p, size_t n)
{
    if (p == NULL)
        return or_evmem_malloc(n);
    if (n == 0) {
        or_evmem_free(p);
        return NULL;
    }
    struct hdr *h = (struct hdr *)p - 1;
    if (n <= h->size)
        return p;
    void *q = or_evmem_malloc(n);
    if (q == NULL)
        return NULL;
    memcpy(q, p, h->size);
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
