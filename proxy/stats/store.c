/* The stats store: shards and their page tables, registration by name, lazy counter groups,
 * values summed over shards, counter resets.
 *
 * Memory: a 1,000-cluster config registers ~100,000 stats, so the main-thread record is 32 bytes
 * and holds no pointer to a string of its own: names are two interned strings (prefix up to the
 * last '.', suffix), tag-extracted names and tag sets are interned too, and tags are extracted
 * only when an output needs them. Tables use mmap directly (or_stats__big_alloc) so that they
 * grow with mremap instead of copying and leave no holes in the malloc heap. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>

#include "proxy/stats/stats.h"
#include "proxy/stats/stats_internal.h"

/* Slots 0 and 1 (a gauge's value and used flag) and histogram cell 0 are the sink. */
#define SINK_SLOTS 2u
#define SINK_CELLS 1u

/* A hash of n bytes, 8 at a time (names are short; this runs twice per registration). */
static uint32_t bytes_hash(const char *s, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
        s += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, s, n);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    h *= 0xff51afd7ed558ccdull;
    return (uint32_t)(h ^ (h >> 32));
}

/* Integer mixing for id pairs and handles (murmur3's finalizer). */
static uint32_t mix32(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

static uint32_t pair_hash(uint32_t a, uint32_t b)
{
    return mix32(a * 0x9e3779b1u ^ mix32(b));
}

/* ---- big allocations ---- */

void *or_stats__big_alloc(size_t bytes)
{
    if (bytes == 0)
        return NULL;
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void or_stats__big_free(void *p, size_t bytes)
{
    if (p != NULL && bytes != 0)
        munmap(p, bytes);
}

/* Grows a big allocation of `old` bytes to `bytes` (zero-filled tail); NULL on failure (then p is
 * unchanged). */
static void *big_realloc(void *p, size_t old, size_t bytes)
{
    if (p == NULL || old == 0)
        return or_stats__big_alloc(bytes);
    void *n = mremap(p, old, bytes, MREMAP_MAYMOVE);
    return n == MAP_FAILED ? NULL : n;
}

/* Grows the array *v of *cap elements of `size` bytes to hold at least `need`. */
static int big_grow(void **v, size_t *cap, size_t need, size_t size, size_t first)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : first;
    while (n < need)
        n *= 2;
    void *p = big_realloc(*v, *cap * size, n * size);
    if (p == NULL)
        return OR_ENOMEM;
    *v = p;
    *cap = n;
    return 0;
}

/* ---- pages ---- */

/* Shard pages come straight from mmap: zero without a memset, and backed only where a worker
 * writes, so the many slots a cluster reserves but never uses (most upstream_rq_<code>) cost no
 * resident memory and start-up touches nothing. Slot pages are carved from chunks of PAGE_CHUNK
 * pages (one mmap per chunk and shard); each page is unmapped on its own at the end. */
#define SLOT_PAGE_BYTES (OR_STATS_PAGE_SLOTS * sizeof(_Atomic uint64_t))
#define HIST_PAGE_BYTES (OR_STATS_HIST_PAGE_CELLS * sizeof(struct or_stats_hist_cell))
#define PAGE_CHUNK 64u

static int add_page(struct or_stats_store *st)
{
    if (st->n_pages >= OR_STATS_MAX_PAGES)
        return OR_ENOMEM;
    if (st->page_chunk_left == 0) {
        uint32_t pages = OR_STATS_MAX_PAGES - st->n_pages;
        if (pages > PAGE_CHUNK)
            pages = PAGE_CHUNK;
        uint32_t i;
        for (i = 0; i < st->n_shards; i++) {
            char *c = or_stats__big_alloc(pages * SLOT_PAGE_BYTES);
            if (c == NULL)
                goto fail;
            /* The previous chunk of this shard is fully carved: nothing else to do with it. */
            st->page_chunk[i] = c;
        }
        st->page_chunk_left = pages;
        goto carve;
    fail:
        /* Nothing handed out a page of these chunks yet: take them back. */
        while (i-- > 0) {
            or_stats__big_free(st->page_chunk[i], pages * SLOT_PAGE_BYTES);
            st->page_chunk[i] = NULL;
        }
        return OR_ENOMEM;
    }
carve:
    for (uint32_t i = 0; i < st->n_shards; i++) {
        atomic_store_explicit(&st->shards[i]->pages[st->n_pages],
                              (_Atomic uint64_t *)(void *)st->page_chunk[i], memory_order_release);
        st->page_chunk[i] += SLOT_PAGE_BYTES;
    }
    st->page_chunk_left--;
    st->n_pages++;
    return 0;
}

static int add_hist_page(struct or_stats_store *st)
{
    if (st->n_hist_pages >= OR_STATS_MAX_HIST_PAGES)
        return OR_ENOMEM;
    uint32_t i;
    for (i = 0; i < st->n_shards; i++) {
        struct or_stats_hist_cell *p = or_stats__big_alloc(HIST_PAGE_BYTES);
        if (p == NULL)
            goto fail;
        atomic_store_explicit(&st->shards[i]->hist_pages[st->n_hist_pages], p,
                              memory_order_release);
    }
    st->n_hist_pages++;
    return 0;
fail:
    while (i-- > 0) {
        struct or_stats_hist_cell *p = atomic_load_explicit(
            &st->shards[i]->hist_pages[st->n_hist_pages], memory_order_relaxed);
        atomic_store_explicit(&st->shards[i]->hist_pages[st->n_hist_pages], NULL,
                              memory_order_relaxed);
        or_stats__big_free(p, HIST_PAGE_BYTES);
    }
    return OR_ENOMEM;
}

/* n consecutive slots (they may straddle pages: handles map to pages one by one). 0 on OOM. */
static uint32_t slot_alloc(struct or_stats_store *st, uint32_t n)
{
    while ((uint64_t)st->next_slot + n > (uint64_t)st->n_pages * OR_STATS_PAGE_SLOTS) {
        if (add_page(st) != 0)
            return 0;
    }
    uint32_t h = st->next_slot;
    st->next_slot += n;
    return h;
}

static uint32_t cell_alloc(struct or_stats_store *st)
{
    if ((uint64_t)st->next_cell + 1 > (uint64_t)st->n_hist_pages * OR_STATS_HIST_PAGE_CELLS) {
        if (add_hist_page(st) != 0)
            return 0;
    }
    return st->next_cell++;
}

/* ---- interned strings ---- */

#define STR_CHUNK 16384u

static uint32_t str_find_h(const struct or_stats_store *st, const char *s, size_t len, uint32_t h,
                           size_t *slot)
{
    const struct or_stats_strtab *t = &st->strings;
    if (t->slots_cap == 0) {
        *slot = 0;
        return 0;
    }
    size_t mask = t->slots_cap - 1;
    size_t i = h & mask;
    for (;; i = (i + 1) & mask) {
        uint32_t id = t->slots[i];
        if (id == 0)
            break;
        const struct or_stats_str *e = &t->v[id];
        if (e->hash == h && e->len == len && memcmp(e->s, s, len) == 0)
            return id;
    }
    *slot = i;
    return 0;
}

/* Id of s[0..len) when interned, else 0. */
static uint32_t str_find(const struct or_stats_store *st, const char *s, size_t len)
{
    size_t slot;
    return str_find_h(st, s, len, bytes_hash(s, len), &slot);
}

/* Rebuilds an open-addressing table of ids 1..n-1 at twice its size (or `first` slots), each id
 * placed by its hash: both interning tables (strings, tag sets) grow this way. */
static int slots_grow(uint32_t **slots, uint32_t *slots_cap, uint32_t first, uint32_t n,
                      const void *v, size_t stride, size_t hash_off)
{
    uint32_t cap = *slots_cap ? *slots_cap * 2 : first;
    uint32_t *ns = calloc(cap, sizeof(*ns));
    if (ns == NULL)
        return OR_ENOMEM;
    for (uint32_t id = 1; id < n; id++) {
        uint32_t h;
        memcpy(&h, (const char *)v + (size_t)id * stride + hash_off, sizeof(h));
        uint32_t i = h & (cap - 1);
        while (ns[i] != 0)
            i = (i + 1) & (cap - 1);
        ns[i] = id;
    }
    free(*slots);
    *slots = ns;
    *slots_cap = cap;
    return 0;
}

static int str_slots_grow(struct or_stats_strtab *t)
{
    return slots_grow(&t->slots, &t->slots_cap, 1024, t->n, t->v, sizeof(*t->v),
                      offsetof(struct or_stats_str, hash));
}

uint32_t or_stats__str_intern(struct or_stats_store *st, const char *s, size_t len)
{
    struct or_stats_strtab *t = &st->strings;
    if (len > UINT32_MAX - 1)
        return 0;
    uint32_t h = bytes_hash(s, len);
    size_t slot;
    uint32_t id = str_find_h(st, s, len, h, &slot);
    if (id != 0)
        return id;
    if (((size_t)t->n + 1) * 2 > t->slots_cap) {
        if (str_slots_grow(t) != 0)
            return 0;
        (void)str_find_h(st, s, len, h, &slot);
    }
    size_t cap = t->cap, n = t->n ? t->n : 1;
    if (big_grow((void **)&t->v, &cap, n + 1, sizeof(*t->v), 1024) != 0)
        return 0;
    t->cap = (uint32_t)cap;
    if (t->chunk == NULL || t->chunk_used + len + 1 > t->chunk_cap) {
        size_t ccap = len + 1 > STR_CHUNK ? len + 1 : STR_CHUNK;
        char **chunks = realloc(t->chunks, (t->nchunks + 1) * sizeof(*chunks));
        if (chunks == NULL)
            return 0;
        t->chunks = chunks;
        char *c = malloc(ccap);
        if (c == NULL)
            return 0;
        t->chunks[t->nchunks++] = c;
        t->chunk = c;
        t->chunk_used = 0;
        t->chunk_cap = ccap;
    }
    char *copy = t->chunk + t->chunk_used;
    memcpy(copy, s, len);
    copy[len] = '\0';
    t->chunk_used += len + 1;
    id = (uint32_t)n;
    t->v[id] = (struct or_stats_str){copy, (uint32_t)len, h};
    t->n = id + 1;
    t->slots[slot] = id;
    return id;
}

static void strtab_free(struct or_stats_strtab *t)
{
    for (size_t i = 0; i < t->nchunks; i++)
        free(t->chunks[i]);
    free(t->chunks);
    free(t->slots);
    or_stats__big_free(t->v, (size_t)t->cap * sizeof(*t->v));
    memset(t, 0, sizeof(*t));
}

/* ---- tag sets ---- */

static uint32_t tagset_hash(const char *const *names, const char *const *values, uint32_t n)
{
    uint64_t h = n;
    for (uint32_t i = 0; i < n; i++) {
        /* Interned strings: equal strings have equal pointers. */
        h = h * 0x100000001b3ull ^ (uint64_t)(uintptr_t)names[i];
        h = h * 0x100000001b3ull ^ (uint64_t)(uintptr_t)values[i];
    }
    return mix32((uint32_t)(h ^ (h >> 32)));
}

uint32_t or_stats__tagset_intern(struct or_stats_store *st, const char *const *names,
                                 const char *const *values, uint32_t n)
{
    struct or_stats_tagsets *t = &st->tagsets;
    uint32_t h = tagset_hash(names, values, n);
    if (((size_t)t->n + 1) * 2 > t->slots_cap &&
        slots_grow(&t->slots, &t->slots_cap, 256, t->n, t->v, sizeof(*t->v),
                   offsetof(struct or_stats_tagset, hash)) != 0)
        return 0;
    uint32_t mask = t->slots_cap - 1, i = h & mask;
    for (; t->slots[i] != 0; i = (i + 1) & mask) {
        const struct or_stats_tagset *e = &t->v[t->slots[i]];
        if (e->hash != h || e->n != n)
            continue;
        uint32_t k = 0;
        while (k < n && e->names[k] == names[k] && e->values[k] == values[k])
            k++;
        if (k == n)
            return t->slots[i];
    }
    uint32_t id = t->n ? t->n : 1;
    if (id >= t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : 256;
        struct or_stats_tagset *v = realloc(t->v, cap * sizeof(*v));
        if (v == NULL)
            return 0;
        t->v = v;
        t->cap = cap;
    }
    const char **arr = malloc((n ? 2 * (size_t)n : 1) * sizeof(*arr));
    if (arr == NULL)
        return 0;
    for (uint32_t k = 0; k < n; k++) {
        arr[k] = names[k];
        arr[n + k] = values[k];
    }
    t->v[id] = (struct or_stats_tagset){n, h, arr, arr + n};
    t->n = id + 1;
    t->slots[i] = id;
    return id;
}

static void tagsets_free(struct or_stats_tagsets *t)
{
    for (uint32_t id = 1; id < t->n; id++)
        free(t->v[id].names);
    free(t->v);
    free(t->slots);
    memset(t, 0, sizeof(*t));
}

/* ---- store ---- */

_Static_assert(sizeof(struct or_stat) == 32, "a stat record is 32 bytes: there are 100,000s");

static struct or_hist_main empty_hist;

struct or_stats_store *or_stats_store_new(uint32_t n_shards)
{
    struct or_err_detail err;
    if (n_shards == 0)
        return NULL;
    if (empty_hist.interval.q[0] == 0) {
        or_stats__hist_summary_empty(&empty_hist.interval);
        or_stats__hist_summary_empty(&empty_hist.cumulative);
    }
    struct or_stats_store *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return NULL;
    st->shards = calloc(n_shards, sizeof(*st->shards));
    st->page_chunk = calloc(n_shards, sizeof(*st->page_chunk));
    if (st->shards == NULL || st->page_chunk == NULL)
        goto fail;
    st->n_shards = n_shards;
    for (uint32_t i = 0; i < n_shards; i++) {
        st->shards[i] = calloc(1, sizeof(*st->shards[i]));
        if (st->shards[i] == NULL)
            goto fail;
    }
    if (slot_alloc(st, SINK_SLOTS) != 0 || st->n_pages == 0)
        goto fail;
    if (cell_alloc(st) != 0 || st->n_hist_pages == 0)
        goto fail;
    st->scratch = malloc(2 * OR_STATS__MAX_BINS * sizeof(*st->scratch));
    if (st->scratch == NULL)
        goto fail;
    if (or_stats__tagger_new(NULL, &st->tagger, &st->matcher, &err) != 0)
        goto fail;
    return st;
fail:
    or_stats_store_free(st);
    return NULL;
}

const struct or_hist_main *or_stats__hist_of(const struct or_stat *s)
{
    return s->u.hist != NULL ? s->u.hist : &empty_hist;
}

void or_stats_store_free(struct or_stats_store *st)
{
    if (st == NULL)
        return;
    for (size_t i = 0; i < st->nstats; i++)
        if (st->stats[i].kind == OR_STAT_HISTOGRAM)
            or_stats__hist_main_free(st->stats[i].u.hist);
    or_stats__big_free(st->stats, st->cap * sizeof(*st->stats));
    for (size_t i = 0; i < st->ptabs_cap; i++)
        free(st->ptabs[i].e);
    or_stats__big_free(st->ptabs, st->ptabs_cap * sizeof(*st->ptabs));
    or_stats__big_free(st->gauges, st->gauges_cap * sizeof(*st->gauges));
    or_stats__big_free(st->cindex, st->cindex_n * sizeof(*st->cindex));
    or_stats__big_free(st->cell_owner, st->cell_owner_cap * sizeof(*st->cell_owner));
    for (size_t i = 0; i < st->ngroups; i++)
        free(st->groups[i].materialized);
    or_stats__big_free(st->groups, st->gcap * sizeof(*st->groups));
    free(st->gindex);
    if (st->shards != NULL) {
        for (uint32_t i = 0; i < st->n_shards; i++) {
            struct or_stats_shard *sh = st->shards[i];
            if (sh == NULL)
                continue;
            /* Pages carved from one chunk are adjacent: one munmap per run (a munmap per page
             * would split the mapping thousands of times). */
            for (uint32_t p = 0; p < st->n_pages;) {
                char *start = (char *)atomic_load_explicit(&sh->pages[p], memory_order_relaxed);
                uint32_t q = p + 1;
                while (q < st->n_pages &&
                       (char *)atomic_load_explicit(&sh->pages[q], memory_order_relaxed) ==
                           start + (size_t)(q - p) * SLOT_PAGE_BYTES)
                    q++;
                or_stats__big_free(start, (size_t)(q - p) * SLOT_PAGE_BYTES);
                p = q;
            }
            /* The uncarved rest of the current chunk. */
            if (st->page_chunk != NULL && st->page_chunk[i] != NULL)
                or_stats__big_free(st->page_chunk[i], st->page_chunk_left * SLOT_PAGE_BYTES);
            for (uint32_t p = 0; p < st->n_hist_pages; p++) {
                struct or_stats_hist_cell *cells =
                    atomic_load_explicit(&sh->hist_pages[p], memory_order_relaxed);
                if (cells == NULL)
                    continue;
                for (uint32_t c = 0; c < OR_STATS_HIST_PAGE_CELLS; c++)
                    for (unsigned d = 0; d < OR_STATS_HIST_DECADES; d++)
                        free(atomic_load_explicit(&cells[c].decades[d], memory_order_acquire));
                or_stats__big_free(cells, HIST_PAGE_BYTES);
            }
            free(sh);
        }
        free(st->shards);
    }
    free(st->page_chunk);
    free(st->scratch);
    strtab_free(&st->strings);
    tagsets_free(&st->tagsets);
    or_stats__tagger_free(st->tagger);
    or_stats__matcher_free(st->matcher);
    free(st);
}

uint32_t or_stats_store_shards(const struct or_stats_store *st)
{
    return st->n_shards;
}

struct or_stats_shard *or_stats_store_shard(struct or_stats_store *st, uint32_t i)
{
    return i < st->n_shards ? st->shards[i] : NULL;
}

struct or_stats_shard *or_stats_main_shard(struct or_stats_store *st)
{
    return st->shards[st->n_shards - 1];
}

int or_stats_configure(struct or_stats_store *st,
                       const struct Envoy__Config__Metrics__V3__StatsConfig *cfg,
                       struct or_err_detail *err)
{
    struct or_stats_tagger *t = NULL;
    struct or_stats_matcher *m = NULL;
    int rc = or_stats__tagger_new(cfg, &t, &m, err);
    if (rc != 0)
        return rc;
    /* Tag sets name interned strings, never the tagger's: the old one can go now, and every stat
     * is re-tagged (lazily) by the new one. */
    or_stats__tagger_free(st->tagger);
    or_stats__matcher_free(st->matcher);
    st->tagger = t;
    st->matcher = m;
    for (size_t i = 0; i < st->nstats; i++)
        st->stats[i].tags = 0;
    return 0;
}

/* ---- names ---- */

void or_stats__name(const struct or_stats_store *st, const struct or_stat *s, char *buf)
{
    const struct or_stats_str *p = &st->strings.v[s->prefix], *x = &st->strings.v[s->suffix];
    memcpy(buf, p->s, p->len);
    memcpy(buf + p->len, x->s, x->len);
    buf[p->len + x->len] = '\0';
}

/* Length of the prefix of a name: up to and including its last '.'. */
static size_t split_at(const char *name, size_t len)
{
    const char *dot = memrchr(name, '.', len);
    return dot != NULL ? (size_t)(dot - name) + 1 : 0;
}

/* ---- name index ---- */

/* Entries are (tag << IDX_BITS) | (stat index + 1): the tag, 9 more bits of the suffix's hash,
 * lets a probe skip a non-matching record without reading it. */
#define IDX_BITS 23u
#define IDX_MASK ((1u << IDX_BITS) - 1u)
#define IDX_MAX (IDX_MASK - 1u)

static bool idx_tag_eq(uint32_t entry, uint32_t hash)
{
    return (entry >> IDX_BITS) == (hash >> IDX_BITS);
}

static ssize_t index_find_ids(const struct or_stats_store *st, uint32_t prefix, uint32_t suffix)
{
    if (prefix == 0 || suffix == 0 || prefix >= st->ptabs_cap)
        return -1;
    const struct or_stats_ptab *t = &st->ptabs[prefix];
    if (t->cap == 0)
        return -1;
    uint32_t mask = t->cap - 1, hash = mix32(suffix);
    for (uint32_t i = hash & mask;; i = (i + 1) & mask) {
        uint32_t e = t->e[i];
        if (e == 0)
            return -1;
        if (idx_tag_eq(e, hash) && st->stats[(e & IDX_MASK) - 1].suffix == suffix)
            return (ssize_t)((e & IDX_MASK) - 1);
    }
}

/* The record of a full name: a name whose parts were never interned cannot exist. */
static ssize_t index_find(const struct or_stats_store *st, const char *name, size_t len)
{
    size_t plen = split_at(name, len);
    uint32_t p = str_find(st, name, plen);
    if (p == 0)
        return -1;
    return index_find_ids(st, p, str_find(st, name + plen, len - plen));
}

static void ptab_put(uint32_t *e, uint32_t cap, uint32_t suffix, uint32_t v)
{
    uint32_t mask = cap - 1, hash = mix32(suffix);
    uint32_t i = hash & mask;
    while (e[i] != 0)
        i = (i + 1) & mask;
    e[i] = (hash >> IDX_BITS) << IDX_BITS | v;
}

/* Room for one more entry under `prefix`. Tables fill up to 7/8: probes stay within a few cache
 * lines and the hash tags spare reading records. */
static int index_reserve(struct or_stats_store *st, uint32_t prefix)
{
    if (big_grow((void **)&st->ptabs, &st->ptabs_cap, (size_t)prefix + 1, sizeof(*st->ptabs),
                 1024) != 0)
        return OR_ENOMEM;
    struct or_stats_ptab *t = &st->ptabs[prefix];
    if ((t->n + 1) * 8 <= t->cap * 7)
        return 0;
    uint32_t cap = t->cap ? t->cap * 2 : 8;
    uint32_t *e = calloc(cap, sizeof(*e));
    if (e == NULL)
        return OR_ENOMEM;
    for (uint32_t i = 0; i < t->cap; i++)
        if (t->e[i] != 0)
            ptab_put(e, cap, st->stats[(t->e[i] & IDX_MASK) - 1].suffix, t->e[i] & IDX_MASK);
    free(t->e);
    t->e = e;
    t->cap = cap;
    return 0;
}

/* Gauges by handle, for or_gauge_set_main() (~20 per cluster; counters need no such map, see
 * counter_owner()): (slot << 32 | stat index), sorted by slot. Slots are handed out in increasing
 * order, so registration appends, and the flush's calls, cluster after cluster, search nearby. */
static int gauge_add(struct or_stats_store *st, uint32_t h, uint32_t idx)
{
    if (big_grow((void **)&st->gauges, &st->gauges_cap, st->ngauges + 1, sizeof(*st->gauges),
                 1024) != 0)
        return OR_ENOMEM;
    size_t at = st->ngauges;
    while (at > 0 && (uint32_t)(st->gauges[at - 1] >> 32) > h)
        at--;
    memmove(&st->gauges[at + 1], &st->gauges[at], (st->ngauges - at) * sizeof(*st->gauges));
    st->gauges[at] = (uint64_t)h << 32 | idx;
    st->ngauges++;
    return 0;
}

static struct or_stat *gauge_owner(struct or_stats_store *st, uint32_t h)
{
    size_t lo = 0, hi = st->ngauges;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint32_t mh = (uint32_t)(st->gauges[mid] >> 32);
        if (mh == h)
            return h != 0 ? &st->stats[(uint32_t)st->gauges[mid]] : NULL;
        if (mh < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Adds the record for an allocated handle and interned name parts. */
static int add_record(struct or_stats_store *st, enum or_stat_kind kind, uint32_t prefix,
                      uint32_t suffix, uint32_t h, unsigned flags)
{
    if (st->nstats >= IDX_MAX || index_reserve(st, prefix) != 0)
        return OR_ENOMEM;
    if (big_grow((void **)&st->stats, &st->cap, st->nstats + 1, sizeof(*st->stats), 1024) != 0)
        return OR_ENOMEM;
    if (kind == OR_STAT_HISTOGRAM) {
        if (big_grow((void **)&st->cell_owner, &st->cell_owner_cap, (size_t)h + 1,
                     sizeof(*st->cell_owner), 1024) != 0)
            return OR_ENOMEM;
    } else if (kind == OR_STAT_GAUGE) {
        if (gauge_add(st, h, (uint32_t)st->nstats) != 0)
            return OR_ENOMEM;
    }
    uint32_t v = (uint32_t)st->nstats + 1;
    struct or_stat *s = &st->stats[st->nstats];
    memset(s, 0, sizeof(*s));
    s->prefix = prefix;
    s->suffix = suffix;
    s->kind = (uint8_t)kind;
    s->flags = (uint8_t)flags;
    s->h = h;
    if (kind == OR_STAT_HISTOGRAM)
        st->cell_owner[h] = v;

    struct or_stats_ptab *t = &st->ptabs[prefix];
    ptab_put(t->e, t->cap, suffix, v);
    t->n++;
    st->nstats++;
    return 0;
}

/* An existing stat's handle (0 for another kind), or -1 when (p, x) names none. */
static int64_t existing(struct or_stats_store *st, enum or_stat_kind kind, uint32_t p, uint32_t x,
                        unsigned flags)
{
    ssize_t i = index_find_ids(st, p, x);
    if (i < 0)
        return -1;
    struct or_stat *s = &st->stats[i];
    if (s->kind != kind)
        return 0;
    if (!(flags & OR_STATS_F_LAZY))
        s->flags &= (uint8_t)~OR_STATS_F_LAZY;
    return s->h;
}

/* Handle and record for a new stat with interned name parts. */
static uint32_t add_new(struct or_stats_store *st, enum or_stat_kind kind, uint32_t p, uint32_t x,
                        unsigned flags)
{
    uint32_t h;
    switch (kind) {
    case OR_STAT_COUNTER:
        h = slot_alloc(st, 1);
        break;
    case OR_STAT_GAUGE:
        h = slot_alloc(st, 2);
        break;
    case OR_STAT_HISTOGRAM:
        h = cell_alloc(st);
        break;
    default:
        return 0;
    }
    if (h == 0)
        return 0;
    /* On failure the slots stay allocated and unused: never reused, so never aliased. */
    if (add_record(st, kind, p, x, h, flags & OR_STATS_F_LAZY) != 0)
        return 0;
    return h;
}

uint32_t or_stats_register(struct or_stats_store *st, enum or_stat_kind kind, const char *name,
                           unsigned flags)
{
    if (st == NULL || name == NULL || (unsigned)kind > OR_STAT_HISTOGRAM)
        return 0;
    size_t len = strlen(name), plen = split_at(name, len);
    /* Blocks register ~100 names with one prefix in a row: compare with the last one first. */
    uint32_t p = st->last_prefix;
    if (p == 0 || st->strings.v[p].len != plen || memcmp(st->strings.v[p].s, name, plen) != 0)
        p = str_find(st, name, plen);
    uint32_t x = p != 0 ? str_find(st, name + plen, len - plen) : 0;
    int64_t h = existing(st, kind, p, x, flags);
    if (h >= 0)
        return (uint32_t)h;
    if (st->matcher != NULL && or_stats__matcher_rejects(st->matcher, name))
        return 0;
    if (p == 0)
        p = or_stats__str_intern(st, name, plen);
    if (x == 0)
        x = or_stats__str_intern(st, name + plen, len - plen);
    if (p == 0 || x == 0)
        return 0;
    st->last_prefix = p;
    return add_new(st, kind, p, x, flags);
}

uint32_t or_stats__prefix(struct or_stats_store *st, const char *prefix)
{
    size_t len = strlen(prefix);
    if (len > 0 && prefix[len - 1] != '.')
        return 0;
    return or_stats__str_intern(st, prefix, len);
}

uint32_t or_stats__register_split(struct or_stats_store *st, enum or_stat_kind kind,
                                  uint32_t prefix, const char *suffix, unsigned flags)
{
    if (prefix == 0 || (unsigned)kind > OR_STAT_HISTOGRAM)
        return 0;
    /* Suffixes are the blocks' static strings: a cache keyed by their address spares hashing. */
    struct or_stats_sfx *c = &st->sfx_cache[((uintptr_t)suffix >> 3) % OR_STATS__SFX_CACHE];
    if (c->ptr != suffix) {
        size_t len = strlen(suffix);
        bool dotted = memchr(suffix, '.', len) != NULL;
        uint32_t id = dotted ? 0 : or_stats__str_intern(st, suffix, len);
        if (!dotted && id == 0)
            return 0;
        *c = (struct or_stats_sfx){suffix, id, dotted};
    }
    uint32_t x = c->id;
    if (c->dotted) {
        /* "tracing.client_enabled": the name splits elsewhere; the general path. */
        const struct or_stats_str *p = or_stats__str(st, prefix);
        size_t slen = strlen(suffix), n = (size_t)p->len + slen;
        char buf[512];
        char *name = n < sizeof(buf) ? buf : malloc(n + 1);
        if (name == NULL)
            return 0;
        memcpy(name, p->s, p->len);
        memcpy(name + p->len, suffix, slen + 1);
        uint32_t h = or_stats_register(st, kind, name, flags);
        if (name != buf)
            free(name);
        return h;
    }
    int64_t h = existing(st, kind, prefix, x, flags);
    if (h >= 0)
        return (uint32_t)h;
    if (st->matcher != NULL) {
        const struct or_stats_str *p = or_stats__str(st, prefix), *sx = or_stats__str(st, x);
        char buf[512];
        size_t n = (size_t)p->len + sx->len;
        char *name = n < sizeof(buf) ? buf : malloc(n + 1);
        if (name == NULL)
            return 0;
        memcpy(name, p->s, p->len);
        memcpy(name + p->len, sx->s, sx->len + 1);
        bool rejected = or_stats__matcher_rejects(st->matcher, name);
        if (name != buf)
            free(name);
        if (rejected)
            return 0;
    }
    return add_new(st, kind, prefix, x, flags);
}

uint32_t or_stats_counter(struct or_stats_store *st, const char *name)
{
    return or_stats_register(st, OR_STAT_COUNTER, name, 0);
}

uint32_t or_stats_gauge(struct or_stats_store *st, const char *name)
{
    return or_stats_register(st, OR_STAT_GAUGE, name, 0);
}

uint32_t or_stats_histogram(struct or_stats_store *st, const char *name)
{
    return or_stats_register(st, OR_STAT_HISTOGRAM, name, 0);
}

/* Group lookup by (prefix, stem) ids: a hash table, as registrations grow with clusters. */
static ssize_t group_find(const struct or_stats_store *st, uint32_t prefix, uint32_t stem)
{
    if (st->gindex_cap == 0 || prefix == 0 || stem == 0)
        return -1;
    size_t mask = st->gindex_cap - 1;
    for (size_t i = pair_hash(prefix, stem) & mask;; i = (i + 1) & mask) {
        uint32_t v = st->gindex[i];
        if (v == 0)
            return -1;
        const struct or_stats_group *g = &st->groups[v - 1];
        if (g->prefix == prefix && g->stem == stem)
            return (ssize_t)(v - 1);
    }
}

static void gindex_put(uint32_t *idx, size_t cap, const struct or_stats_group *g, uint32_t v)
{
    size_t mask = cap - 1;
    size_t i = pair_hash(g->prefix, g->stem) & mask;
    while (idx[i] != 0)
        i = (i + 1) & mask;
    idx[i] = v;
}

static int gindex_reserve(struct or_stats_store *st, size_t n)
{
    if (n * 2 <= st->gindex_cap)
        return 0;
    size_t cap = st->gindex_cap ? st->gindex_cap * 2 : 256;
    while (n * 2 > cap)
        cap *= 2;
    uint32_t *idx = calloc(cap, sizeof(*idx));
    if (idx == NULL)
        return OR_ENOMEM;
    for (size_t i = 0; i < st->ngroups; i++)
        gindex_put(idx, cap, &st->groups[i], (uint32_t)i + 1);
    free(st->gindex);
    st->gindex = idx;
    st->gindex_cap = cap;
    return 0;
}

uint32_t or_stats_counter_group(struct or_stats_store *st, const char *prefix, const char *stem,
                                uint32_t first, uint32_t count)
{
    if (st == NULL || prefix == NULL || stem == NULL || count == 0 ||
        count > OR_STATS_PAGE_SLOTS * 64u)
        return 0;
    uint32_t p = str_find(st, prefix, strlen(prefix)), x = str_find(st, stem, strlen(stem));
    ssize_t found = group_find(st, p, x);
    if (found >= 0) {
        const struct or_stats_group *g = &st->groups[found];
        return g->first == first && g->count == count ? g->base : 0;
    }
    if (p == 0)
        p = or_stats__str_intern(st, prefix, strlen(prefix));
    if (x == 0)
        x = or_stats__str_intern(st, stem, strlen(stem));
    if (p == 0 || x == 0 || gindex_reserve(st, st->ngroups + 1) != 0 ||
        big_grow((void **)&st->groups, &st->gcap, st->ngroups + 1, sizeof(*st->groups), 256) != 0)
        return 0;
    uint32_t base = slot_alloc(st, count);
    if (base == 0)
        return 0;
    struct or_stats_group *g = &st->groups[st->ngroups];
    *g = (struct or_stats_group){p, x, first, count, base, NULL};
    st->ngroups++;
    gindex_put(st->gindex, st->gindex_cap, g, (uint32_t)st->ngroups);
    return g->base;
}

size_t or_stats_sanitize_name(const char *in, size_t len, char *out, size_t outlen)
{
    if (len > 0 && in[len - 1] == '.')
        len--;
    if (len > 0 && in[0] == '.') {
        in++;
        len--;
    }
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == ':') {
            /* "://" and ":/" collapse into one '_', as Envoy's StrReplaceAll does. */
            if (i + 2 < len && in[i + 1] == '/' && in[i + 2] == '/')
                i += 2;
            else if (i + 1 < len && in[i + 1] == '/')
                i += 1;
            c = '_';
        } else if (c == '\0') {
            c = '_';
        }
        if (n + 1 < outlen)
            out[n] = c;
        n++;
    }
    if (outlen > 0)
        out[n < outlen ? n : outlen - 1] = '\0';
    return n;
}

/* ---- values ---- */

void or_gauge_set_main(struct or_stats_store *st, uint32_t h, uint64_t v)
{
    struct or_stat *s = gauge_owner(st, h);
    if (s != NULL) {
        s->u.main_value = v;
        s->main_set = true;
    }
}

uint64_t or_stats__counter_raw(struct or_stats_store *st, uint32_t h)
{
    uint64_t sum = 0;
    for (uint32_t i = 0; i < st->n_shards; i++)
        sum += atomic_load_explicit(or_stats__slot(st->shards[i], h), memory_order_relaxed);
    return sum;
}

uint64_t or_stats__gauge_read(struct or_stats_store *st, const struct or_stat *s, bool *used)
{
    uint64_t sum = s->u.main_value;
    bool u = s->main_set;
    for (uint32_t i = 0; i < st->n_shards; i++) {
        sum += atomic_load_explicit(or_stats__slot(st->shards[i], s->h), memory_order_relaxed);
        if (atomic_load_explicit(or_stats__slot(st->shards[i], s->h + 1), memory_order_relaxed))
            u = true;
    }
    if (used != NULL)
        *used = u;
    /* Shards see an inc on one worker and the dec on another at different instants: a transient
     * negative total reads as 0, never as 2^64 - 1. */
    return (int64_t)sum < 0 ? 0 : sum;
}

bool or_stats__visible(struct or_stats_store *st, const struct or_stat *s, bool *used,
                       uint64_t *value)
{
    bool u = false;
    uint64_t v = 0;
    switch (s->kind) {
    case OR_STAT_COUNTER: {
        uint64_t raw = or_stats__counter_raw(st, s->h);
        u = raw != 0;
        v = raw >= s->u.reset_base ? raw - s->u.reset_base : 0;
        break;
    }
    case OR_STAT_GAUGE:
        v = or_stats__gauge_read(st, s, &u);
        break;
    case OR_STAT_HISTOGRAM:
        if (s->u.hist != NULL) {
            u = s->u.hist->used;
            v = s->u.hist->cumulative.count;
        }
        break;
    }
    if (used != NULL)
        *used = u;
    if (value != NULL)
        *value = v;
    return u || !(s->flags & OR_STATS_F_LAZY);
}

/* Whether any shard has a non-zero slot in [h, h + n): a branch-free OR over each page run, as
 * a render checks the ~1,500 group slots of every cluster. */
static bool any_nonzero(struct or_stats_store *st, uint32_t h, uint32_t n)
{
    for (uint32_t i = 0; i < st->n_shards; i++) {
        uint32_t at = h, left = n;
        while (left > 0) {
            uint32_t in_page = OR_STATS_PAGE_SLOTS - (at & (OR_STATS_PAGE_SLOTS - 1u));
            uint32_t k = left < in_page ? left : in_page;
            _Atomic uint64_t *p = or_stats__slot(st->shards[i], at);
            uint64_t acc = 0;
            for (uint32_t j = 0; j < k; j++)
                acc |= atomic_load_explicit(&p[j], memory_order_relaxed);
            if (acc != 0)
                return true;
            at += k;
            left -= k;
        }
    }
    return false;
}

int or_stats__materialize(struct or_stats_store *st)
{
    char name[4096];
    for (size_t gi = 0; gi < st->ngroups; gi++) {
        /* Re-read each time: add_record() never moves groups, only stats. */
        struct or_stats_group *g = &st->groups[gi];
        if (!any_nonzero(st, g->base, g->count))
            continue;
        for (uint32_t i = 0; i < g->count; i++) {
            if ((g->materialized != NULL && (g->materialized[i / 8] & (1u << (i % 8)))) ||
                or_stats__counter_raw(st, g->base + i) == 0)
                continue;
            if (g->materialized == NULL) {
                g->materialized = calloc((g->count + 7) / 8, 1);
                if (g->materialized == NULL)
                    return OR_ENOMEM;
            }
            const struct or_stats_str *p = or_stats__str(st, g->prefix);
            const struct or_stats_str *x = or_stats__str(st, g->stem);
            int n = snprintf(name, sizeof(name), "%s%s%u", p->s, x->s, g->first + i);
            if (n < 0 || (size_t)n >= sizeof(name) ||
                (st->matcher != NULL && or_stats__matcher_rejects(st->matcher, name))) {
                g->materialized[i / 8] |= (uint8_t)(1u << (i % 8)); /* counted, never shown:
                                                                       Envoy's null counter */
                continue;
            }
            if (index_find(st, name, (size_t)n) < 0) {
                size_t plen = split_at(name, (size_t)n);
                uint32_t pid = or_stats__str_intern(st, name, plen);
                uint32_t xid = or_stats__str_intern(st, name + plen, (size_t)n - plen);
                if (pid == 0 || xid == 0 ||
                    add_record(st, OR_STAT_COUNTER, pid, xid, g->base + i, 0) != 0)
                    return OR_ENOMEM;
            }
            g->materialized[i / 8] |= (uint8_t)(1u << (i % 8));
        }
    }
    return 0;
}

void or_stats_merge(struct or_stats_store *st)
{
    /* Histograms only, through the cell map: no walk over every counter and gauge. */
    for (uint32_t c = SINK_CELLS; c < st->next_cell && c < st->cell_owner_cap; c++)
        if (st->cell_owner[c] != 0)
            (void)or_stats__hist_merge(st, &st->stats[st->cell_owner[c] - 1]);
}

void or_stats_reset_counters(struct or_stats_store *st)
{
    (void)or_stats__materialize(st);
    for (size_t i = 0; i < st->nstats; i++) {
        struct or_stat *s = &st->stats[i];
        if (s->kind == OR_STAT_COUNTER)
            s->u.reset_base = or_stats__counter_raw(st, s->h);
    }
    st->resets++;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The counter record of slot h, through the sorted (slot, index) array. */
static const struct or_stat *counter_owner(struct or_stats_store *st, uint32_t h)
{
    if (st->cindex == NULL || st->cindex_nstats != st->nstats) {
        or_stats__big_free(st->cindex, st->cindex_n * sizeof(*st->cindex));
        st->cindex = NULL;
        st->cindex_n = 0;
        size_t n = 0;
        for (size_t i = 0; i < st->nstats; i++)
            n += st->stats[i].kind == OR_STAT_COUNTER;
        if (n == 0)
            return NULL;
        uint64_t *v = or_stats__big_alloc(n * sizeof(*v));
        if (v == NULL)
            return NULL;
        n = 0;
        for (size_t i = 0; i < st->nstats; i++)
            if (st->stats[i].kind == OR_STAT_COUNTER)
                v[n++] = (uint64_t)st->stats[i].h << 32 | i;
        qsort(v, n, sizeof(*v), cmp_u64);
        st->cindex = v;
        st->cindex_n = n;
        st->cindex_nstats = st->nstats;
    }
    size_t lo = 0, hi = st->cindex_n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint32_t mh = (uint32_t)(st->cindex[mid] >> 32);
        if (mh == h)
            return &st->stats[(uint32_t)st->cindex[mid]];
        if (mh < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

uint64_t or_stats_counter_value(struct or_stats_store *st, uint32_t h)
{
    uint64_t raw = or_stats__counter_raw(st, h);
    if (st->resets == 0)
        return raw; /* no base yet: no need to find the record */
    const struct or_stat *s = counter_owner(st, h);
    uint64_t base = s != NULL ? s->u.reset_base : 0;
    return raw >= base ? raw - base : 0;
}

uint64_t or_stats_gauge_value(struct or_stats_store *st, uint32_t h)
{
    const struct or_stat *s = gauge_owner(st, h);
    return s != NULL ? or_stats__gauge_read(st, s, NULL) : 0;
}

int or_stats__ensure_tags(struct or_stats_store *st, struct or_stat *s)
{
    if (s->tags != 0)
        return 0;
    char buf[512];
    size_t len = or_stats__name_len(st, s);
    char *name = len < sizeof(buf) ? buf : malloc(len + 1);
    if (name == NULL)
        return OR_ENOMEM;
    or_stats__name(st, s, name);
    uint32_t tx = 0, tags = 0;
    int rc = or_stats__tagger_apply(st->tagger, st, name, len, &tx, &tags);
    if (name != buf)
        free(name);
    if (rc != 0)
        return rc;
    s->tx = tx;
    s->tags = tags;
    return 0;
}

int or_stats_lookup(struct or_stats_store *st, const char *name, struct or_stat_info *out)
{
    if (or_stats__materialize(st) != 0)
        return OR_ENOMEM;
    ssize_t i = index_find(st, name, strlen(name));
    if (i < 0)
        return OR_ENOTFOUND;
    struct or_stat *s = &st->stats[i];
    memset(out, 0, sizeof(*out));
    if (!or_stats__visible(st, s, &out->used, &out->value))
        return OR_ENOTFOUND;
    if (or_stats__ensure_tags(st, s) != 0)
        return OR_ENOMEM;
    const struct or_stats_tagset *t = &st->tagsets.v[s->tags];
    out->kind = (enum or_stat_kind)s->kind;
    out->tx_name = or_stats__str(st, s->tx)->s;
    out->ntags = t->n;
    out->tag_names = t->names;
    out->tag_values = t->values;
    return 0;
}
