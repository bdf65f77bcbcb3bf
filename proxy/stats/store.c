/* The stats store: shards and their page tables, registration by name, lazy counter groups,
 * values summed over shards, counter resets. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <string.h>
#include <sys/types.h>

#include "proxy/stats/stats.h"
#include "proxy/stats/stats_internal.h"

/* Slots 0 and 1 (a gauge's value and used flag) and histogram cell 0 are the sink. */
#define SINK_SLOTS 2u
#define SINK_CELLS 1u

static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

/* ---- pages ---- */

/* Allocates slot page n_pages in every shard, then publishes them. */
/* Shard pages come straight from mmap: zero without a memset, and backed only where a worker
 * writes, so the many slots a cluster reserves but never uses (most upstream_rq_<code>) cost no
 * resident memory and start-up touches nothing. */
#define SLOT_PAGE_BYTES (OR_STATS_PAGE_SLOTS * sizeof(_Atomic uint64_t))
#define HIST_PAGE_BYTES (OR_STATS_HIST_PAGE_CELLS * sizeof(struct or_stats_hist_cell))

static void *zero_pages(size_t n)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void free_pages(void *p, size_t n)
{
    if (p != NULL)
        munmap(p, n);
}

static int add_page(struct or_stats_store *st)
{
    if (st->n_pages >= OR_STATS_MAX_PAGES)
        return OR_ENOMEM;
    uint32_t i;
    for (i = 0; i < st->n_shards; i++) {
        _Atomic uint64_t *p = zero_pages(SLOT_PAGE_BYTES);
        if (p == NULL)
            goto fail;
        atomic_store_explicit(&st->shards[i]->pages[st->n_pages], p, memory_order_release);
    }
    st->n_pages++;
    return 0;
fail:
    /* Nothing handed out a handle into this page yet: take the partial allocation back. */
    while (i-- > 0) {
        _Atomic uint64_t *p =
            atomic_load_explicit(&st->shards[i]->pages[st->n_pages], memory_order_relaxed);
        atomic_store_explicit(&st->shards[i]->pages[st->n_pages], NULL, memory_order_relaxed);
        free_pages(p, SLOT_PAGE_BYTES);
    }
    return OR_ENOMEM;
}

static int add_hist_page(struct or_stats_store *st)
{
    if (st->n_hist_pages >= OR_STATS_MAX_HIST_PAGES)
        return OR_ENOMEM;
    uint32_t i;
    for (i = 0; i < st->n_shards; i++) {
        struct or_stats_hist_cell *p = zero_pages(HIST_PAGE_BYTES);
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
        free_pages(p, HIST_PAGE_BYTES);
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

/* ---- store ---- */

struct or_stats_store *or_stats_store_new(uint32_t n_shards)
{
    struct or_err_detail err;
    if (n_shards == 0)
        return NULL;
    struct or_stats_store *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return NULL;
    st->shards = calloc(n_shards, sizeof(*st->shards));
    if (st->shards == NULL)
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

static void stat_free_fields(struct or_stat *s)
{
    free(s->name);
    free(s->tx_name);
    free(s->tag_names);
    free(s->tag_values);
    if (s->hist != NULL) {
        for (unsigned d = 0; d < OR_STATS_HIST_DECADES; d++)
            free(s->hist->prev[d]);
        free(s->hist);
    }
}

void or_stats_store_free(struct or_stats_store *st)
{
    if (st == NULL)
        return;
    for (size_t i = 0; i < st->nstats; i++)
        stat_free_fields(&st->stats[i]);
    free(st->stats);
    free(st->index);
    free(st->slot_owner);
    free(st->cell_owner);
    for (size_t i = 0; i < st->ngroups; i++) {
        free(st->groups[i].prefix);
        free(st->groups[i].stem);
        free(st->groups[i].materialized);
    }
    free(st->groups);
    free(st->gindex);
    if (st->shards != NULL) {
        for (uint32_t i = 0; i < st->n_shards; i++) {
            struct or_stats_shard *sh = st->shards[i];
            if (sh == NULL)
                continue;
            for (uint32_t p = 0; p < st->n_pages; p++)
                free_pages(atomic_load_explicit(&sh->pages[p], memory_order_relaxed),
                           SLOT_PAGE_BYTES);
            for (uint32_t p = 0; p < st->n_hist_pages; p++) {
                struct or_stats_hist_cell *cells =
                    atomic_load_explicit(&sh->hist_pages[p], memory_order_relaxed);
                if (cells == NULL)
                    continue;
                for (uint32_t c = 0; c < OR_STATS_HIST_PAGE_CELLS; c++)
                    for (unsigned d = 0; d < OR_STATS_HIST_DECADES; d++)
                        free(atomic_load_explicit(&cells[c].decades[d], memory_order_acquire));
                free_pages(cells, HIST_PAGE_BYTES);
            }
            free(sh);
        }
        free(st->shards);
    }
    free(st->scratch);
    or_stats__tagger_free(st->retired);
    or_stats__intern_free(&st->tag_values);
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
    /* Stats borrow their tag names from the tagger: the old one goes only once every stat names
     * the new one's (if a re-tag fails it stays, retired, until the store goes). */
    struct or_stats_tagger *old = st->tagger;
    or_stats__matcher_free(st->matcher);
    st->tagger = t;
    st->matcher = m;
    for (size_t i = 0; i < st->nstats && rc == 0; i++)
        rc = or_stats__tagger_apply(st->tagger, &st->stats[i], &st->tag_values);
    if (rc == 0) {
        or_stats__tagger_free(old);
    } else {
        or_stats__tagger_free(st->retired);
        st->retired = old;
    }
    return rc;
}

/* ---- name index ---- */

static ssize_t index_find(const struct or_stats_store *st, const char *name)
{
    if (st->index_cap == 0)
        return -1;
    size_t mask = st->index_cap - 1;
    for (size_t i = name_hash(name) & mask;; i = (i + 1) & mask) {
        uint32_t v = st->index[i];
        if (v == 0)
            return -1;
        if (strcmp(st->stats[v - 1].name, name) == 0)
            return (ssize_t)(v - 1);
    }
}

static void index_put(uint32_t *index, size_t cap, const char *name, uint32_t v)
{
    size_t mask = cap - 1;
    size_t i = name_hash(name) & mask;
    while (index[i] != 0)
        i = (i + 1) & mask;
    index[i] = v;
}

/* Keeps the table at most half full. */
static int index_reserve(struct or_stats_store *st, size_t n)
{
    if (n * 2 <= st->index_cap)
        return 0;
    size_t cap = st->index_cap ? st->index_cap * 2 : 1024;
    while (n * 2 > cap)
        cap *= 2;
    uint32_t *idx = calloc(cap, sizeof(*idx));
    if (idx == NULL)
        return OR_ENOMEM;
    for (size_t i = 0; i < st->nstats; i++)
        index_put(idx, cap, st->stats[i].name, (uint32_t)i + 1);
    free(st->index);
    st->index = idx;
    st->index_cap = cap;
    return 0;
}

/* Main-thread map from a handle to its record (index + 1, 0 = none), so that setting or reading
 * one stat by handle costs O(1). */
static int owner_set(uint32_t **map, size_t *cap, uint32_t h, uint32_t v)
{
    if (h >= *cap) {
        size_t n = *cap ? *cap : 1024;
        while (n <= h)
            n *= 2;
        uint32_t *m = realloc(*map, n * sizeof(*m));
        if (m == NULL)
            return OR_ENOMEM;
        memset(m + *cap, 0, (n - *cap) * sizeof(*m));
        *map = m;
        *cap = n;
    }
    (*map)[h] = v;
    return 0;
}

static struct or_stat *owner_get(struct or_stats_store *st, enum or_stat_kind kind, uint32_t h)
{
    uint32_t *map = kind == OR_STAT_HISTOGRAM ? st->cell_owner : st->slot_owner;
    size_t cap = kind == OR_STAT_HISTOGRAM ? st->cell_owner_cap : st->slot_owner_cap;
    if (h == 0 || h >= cap || map[h] == 0)
        return NULL;
    struct or_stat *s = &st->stats[map[h] - 1];
    return s->kind == kind ? s : NULL;
}

/* Adds the record for an allocated handle. */
static int add_record(struct or_stats_store *st, enum or_stat_kind kind, const char *name,
                      uint32_t h, unsigned flags)
{
    if (index_reserve(st, st->nstats + 1) != 0)
        return OR_ENOMEM;
    if (st->nstats == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 256;
        struct or_stat *n = realloc(st->stats, cap * sizeof(*n));
        if (n == NULL)
            return OR_ENOMEM;
        st->stats = n;
        st->cap = cap;
    }
    struct or_stat *s = &st->stats[st->nstats];
    memset(s, 0, sizeof(*s));
    s->name = strdup(name);
    if (s->name == NULL)
        goto fail;
    s->kind = (uint8_t)kind;
    s->flags = (uint8_t)flags;
    s->h = h;
    if (kind == OR_STAT_HISTOGRAM) {
        s->hist = calloc(1, sizeof(*s->hist));
        if (s->hist == NULL)
            goto fail;
        or_stats__hist_summary_empty(&s->hist->interval);
        or_stats__hist_summary_empty(&s->hist->cumulative);
    }
    if (or_stats__tagger_apply(st->tagger, s, &st->tag_values) != 0)
        goto fail;
    if (kind == OR_STAT_HISTOGRAM) {
        if (owner_set(&st->cell_owner, &st->cell_owner_cap, h, (uint32_t)st->nstats + 1) != 0)
            goto fail;
    } else if (owner_set(&st->slot_owner, &st->slot_owner_cap, h, (uint32_t)st->nstats + 1) != 0) {
        goto fail;
    }
    index_put(st->index, st->index_cap, s->name, (uint32_t)st->nstats + 1);
    st->nstats++;
    return 0;
fail:
    stat_free_fields(s);
    return OR_ENOMEM;
}

uint32_t or_stats_register(struct or_stats_store *st, enum or_stat_kind kind, const char *name,
                           unsigned flags)
{
    if (st == NULL || name == NULL)
        return 0;
    ssize_t i = index_find(st, name);
    if (i >= 0) {
        struct or_stat *s = &st->stats[i];
        if (s->kind != kind)
            return 0;
        if (!(flags & OR_STATS_F_LAZY))
            s->flags &= (uint8_t)~OR_STATS_F_LAZY;
        return s->h;
    }
    if (st->matcher != NULL && or_stats__matcher_rejects(st->matcher, name))
        return 0;
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
    if (add_record(st, kind, name, h, flags & OR_STATS_F_LAZY) != 0)
        return 0;
    return h;
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

static uint64_t group_hash(const char *prefix, const char *stem)
{
    return name_hash(prefix) * 31u ^ name_hash(stem);
}

/* Group lookup by (prefix, stem): a hash table, as registrations grow with clusters. */
static ssize_t group_find(const struct or_stats_store *st, const char *prefix, const char *stem)
{
    if (st->gindex_cap == 0)
        return -1;
    size_t mask = st->gindex_cap - 1;
    for (size_t i = group_hash(prefix, stem) & mask;; i = (i + 1) & mask) {
        uint32_t v = st->gindex[i];
        if (v == 0)
            return -1;
        const struct or_stats_group *g = &st->groups[v - 1];
        if (strcmp(g->prefix, prefix) == 0 && strcmp(g->stem, stem) == 0)
            return (ssize_t)(v - 1);
    }
}

static void gindex_put(uint32_t *idx, size_t cap, const struct or_stats_group *g, uint32_t v)
{
    size_t mask = cap - 1;
    size_t i = group_hash(g->prefix, g->stem) & mask;
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
    ssize_t found = group_find(st, prefix, stem);
    if (found >= 0) {
        const struct or_stats_group *g = &st->groups[found];
        return g->first == first && g->count == count ? g->base : 0;
    }
    if (gindex_reserve(st, st->ngroups + 1) != 0)
        return 0;
    if (st->ngroups == st->gcap) {
        size_t cap = st->gcap ? st->gcap * 2 : 16;
        struct or_stats_group *n = realloc(st->groups, cap * sizeof(*n));
        if (n == NULL)
            return 0;
        st->groups = n;
        st->gcap = cap;
    }
    struct or_stats_group *g = &st->groups[st->ngroups];
    memset(g, 0, sizeof(*g));
    g->prefix = strdup(prefix);
    g->stem = strdup(stem);
    g->materialized = calloc(count, 1);
    if (g->prefix == NULL || g->stem == NULL || g->materialized == NULL)
        goto fail;
    g->base = slot_alloc(st, count);
    if (g->base == 0)
        goto fail;
    g->first = first;
    g->count = count;
    st->ngroups++;
    gindex_put(st->gindex, st->gindex_cap, g, (uint32_t)st->ngroups);
    return g->base;
fail:
    free(g->prefix);
    free(g->stem);
    free(g->materialized);
    return 0;
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
    struct or_stat *s = owner_get(st, OR_STAT_GAUGE, h);
    if (s != NULL) {
        s->main_value = v;
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
    uint64_t sum = s->main_value;
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
        v = raw >= s->reset_base ? raw - s->reset_base : 0;
        break;
    }
    case OR_STAT_GAUGE:
        v = or_stats__gauge_read(st, s, &u);
        break;
    case OR_STAT_HISTOGRAM:
        u = s->hist->used;
        v = s->hist->cumulative.count;
        break;
    }
    if (used != NULL)
        *used = u;
    if (value != NULL)
        *value = v;
    return u || !(s->flags & OR_STATS_F_LAZY);
}

int or_stats__materialize(struct or_stats_store *st)
{
    char name[4096];
    for (size_t gi = 0; gi < st->ngroups; gi++) {
        /* Re-read each time: add_record() never moves groups, only stats. */
        struct or_stats_group *g = &st->groups[gi];
        for (uint32_t i = 0; i < g->count; i++) {
            if (g->materialized[i] || or_stats__counter_raw(st, g->base + i) == 0)
                continue;
            int n = snprintf(name, sizeof(name), "%s%s%u", g->prefix, g->stem, g->first + i);
            if (n < 0 || (size_t)n >= sizeof(name) ||
                (st->matcher != NULL && or_stats__matcher_rejects(st->matcher, name))) {
                g->materialized[i] = 1; /* counted, never shown: Envoy's null counter */
                continue;
            }
            if (index_find(st, name) < 0 &&
                add_record(st, OR_STAT_COUNTER, name, g->base + i, 0) != 0)
                return OR_ENOMEM;
            g->materialized[i] = 1;
        }
    }
    return 0;
}

void or_stats_merge(struct or_stats_store *st)
{
    for (size_t i = 0; i < st->nstats; i++)
        if (st->stats[i].kind == OR_STAT_HISTOGRAM)
            (void)or_stats__hist_merge(st, &st->stats[i]);
}

void or_stats_reset_counters(struct or_stats_store *st)
{
    (void)or_stats__materialize(st);
    for (size_t i = 0; i < st->nstats; i++) {
        struct or_stat *s = &st->stats[i];
        if (s->kind == OR_STAT_COUNTER)
            s->reset_base = or_stats__counter_raw(st, s->h);
    }
}

uint64_t or_stats_counter_value(struct or_stats_store *st, uint32_t h)
{
    uint64_t raw = or_stats__counter_raw(st, h);
    const struct or_stat *s = owner_get(st, OR_STAT_COUNTER, h);
    uint64_t base = s != NULL ? s->reset_base : 0;
    return raw >= base ? raw - base : 0;
}

uint64_t or_stats_gauge_value(struct or_stats_store *st, uint32_t h)
{
    const struct or_stat *s = owner_get(st, OR_STAT_GAUGE, h);
    return s != NULL ? or_stats__gauge_read(st, s, NULL) : 0;
}

int or_stats_lookup(struct or_stats_store *st, const char *name, struct or_stat_info *out)
{
    if (or_stats__materialize(st) != 0)
        return OR_ENOMEM;
    ssize_t i = index_find(st, name);
    if (i < 0)
        return OR_ENOTFOUND;
    const struct or_stat *s = &st->stats[i];
    memset(out, 0, sizeof(*out));
    if (!or_stats__visible(st, s, &out->used, &out->value))
        return OR_ENOTFOUND;
    out->kind = (enum or_stat_kind)s->kind;
    out->tx_name = s->tx_name;
    out->ntags = s->ntags;
    out->tag_names = (const char *const *)s->tag_names;
    out->tag_values = (const char *const *)s->tag_values;
    return 0;
}

const char *or_stats__intern(struct or_stats_intern *in, const char *s, size_t n)
{
    if ((in->n + 1) * 2 > in->cap) {
        size_t cap = in->cap ? in->cap * 2 : 256;
        char **slots = calloc(cap, sizeof(*slots));
        if (slots == NULL)
            return NULL;
        for (size_t i = 0; i < in->cap; i++) {
            if (in->slots[i] == NULL)
                continue;
            size_t j = name_hash(in->slots[i]) & (cap - 1);
            while (slots[j] != NULL)
                j = (j + 1) & (cap - 1);
            slots[j] = in->slots[i];
        }
        free(in->slots);
        in->slots = slots;
        in->cap = cap;
    }
    uint64_t h = 1469598103934665603ull; /* FNV-1a, as name_hash over the n bytes */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    size_t mask = in->cap - 1;
    size_t j = h & mask;
    for (; in->slots[j] != NULL; j = (j + 1) & mask)
        if (strncmp(in->slots[j], s, n) == 0 && in->slots[j][n] == '\0')
            return in->slots[j];
    char *copy = strndup(s, n);
    if (copy == NULL)
        return NULL;
    in->slots[j] = copy;
    in->n++;
    return copy;
}

void or_stats__intern_free(struct or_stats_intern *in)
{
    for (size_t i = 0; i < in->cap; i++)
        free(in->slots[i]);
    free(in->slots);
    memset(in, 0, sizeof(*in));
}
