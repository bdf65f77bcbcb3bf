/* Envoy-compatible stats: counters, gauges and histograms with Envoy's names, tag extraction and
 * admin output formats (/stats, /stats?format=json, /stats/prometheus).
 *
 * Threading model
 * ---------------
 * A store has n_shards shards: one per worker plus one for the main thread (by convention the
 * last one, or_stats_main_shard()). Each shard is written by exactly one thread. A stat is a
 * `uint32_t` handle naming a slot that exists in every shard; recording writes the caller's own
 * shard with a relaxed atomic load followed by a relaxed atomic store of the new value: no lock,
 * no lock-prefixed read-modify-write, no shared cache line with other workers (pages are per
 * shard). The main thread sums the shards when it renders (relaxed loads; every counter and
 * histogram bin only grows, so a sum read while workers write is a value the counter really had
 * at some instant between the first and the last load).
 *
 * Recording costs (x86-64, -O2):
 *   or_counter_add/inc   2 dependent loads (page pointer, slot) + 1 add + 1 store.
 *   or_gauge_add         as a counter, plus one store of 1 to the gauge's "used" slot.
 *   or_histogram_record  a call: ~20 instructions to find the bin (one 64-bit division), then
 *                        load+add+store of the bin. The very first sample that lands in a new
 *                        decade (x10 range) of that histogram on that shard allocates the decade's
 *                        720-byte bin array with calloc() and publishes it with a release store.
 * tests/unit/stats/test_stats_store.c disassembles the inline functions and checks that they
 * contain no `lock` prefix and no xchg/cmpxchg/xadd.
 *
 * Registration (main thread only, any time, also while workers run): names are registered once
 * (idempotent: the same name and kind returns the same handle) and get slots in pages that are
 * allocated for every shard and never move or shrink, so a handle stays valid for the store's
 * lifetime. A handle must reach a worker through a happens-before edge (the snapshot mailbox, or
 * being created before the worker starts). Handle 0 is a valid "sink" that is never rendered: it
 * is what registration returns for a stat rejected by stats_config.stats_matcher, on OOM, or when
 * the name exists with another kind, so recording never needs a check.
 *
 * Main-thread memory (a 1,000-cluster config has ~100,000 stats): a stat's record is 32 bytes. Its
 * name is two interned strings, the part up to and including the last '.' ("cluster.c7.") and the
 * rest ("upstream_rq_total"), so a cluster's ~100 stats share one prefix and all clusters share the
 * suffixes; the name index is one small hash table per prefix. Tag extraction (Envoy's
 * TagProducer: a few RE2 and token matches per name) runs on first need, i.e. the first
 * /stats/prometheus scrape or or_stats_lookup(), and its result (tag-extracted name, tag set) is
 * interned too: the ~100 stats of a cluster share the tag set [envoy.cluster_name=c7]. A histogram
 * gets its main-thread state (merged bins, quantiles) only when a merge first finds a sample, and
 * a merge skips an unused histogram after one look at its cell in each shard. Tables and the
 * render's scratch and output blocks are mmap'd, so a scrape leaves RSS where it was.
 *
 * Histograms follow Envoy's circllhist exactly: a value v lands in the log-linear bin with two
 * significant decimal digits ([200,210) for 203, [1,1.1) for 1, a bin of its own for 0), and
 * quantiles interpolate linearly inside a bin, so identical samples print the same P0..P100 as
 * Envoy (bin width is 1%..10% of the value: the price of Envoy-identical numbers). "interval"
 * values cover the samples between the last two or_stats_merge() calls (Envoy's stats flush,
 * stats_flush_interval, default 5 s), "cumulative" ones everything up to the last merge; like
 * Envoy, histograms show only what was merged.
 *
 * Everything except the recording functions runs on the main thread. */
#ifndef OR_STATS_STATS_H
#define OR_STATS_STATS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proxy/core/err.h"

struct evbuffer;
struct or_regex;
struct or_stats_store;
struct Envoy__Config__Metrics__V3__StatsConfig;

/* Counter/gauge slots: pages of 1024 slots (8 KiB) per shard, at most 4096 pages (4M slots). */
#define OR_STATS_PAGE_SHIFT 10u
#define OR_STATS_PAGE_SLOTS (1u << OR_STATS_PAGE_SHIFT)
#define OR_STATS_MAX_PAGES 4096u
/* Histograms: pages of 64 cells per shard, at most 1024 pages (65536 histograms). */
#define OR_STATS_HIST_PAGE_SHIFT 6u
#define OR_STATS_HIST_PAGE_CELLS (1u << OR_STATS_HIST_PAGE_SHIFT)
#define OR_STATS_MAX_HIST_PAGES 1024u
/* circllhist bins for 0 < v <= INT64_MAX: decade d holds [10^d, 10^(d+1)) (d = 0 covers 1..9 in
 * steps of 1 with bins 0.1 wide), 90 bins of two significant digits each. */
#define OR_STATS_HIST_DECADES 19u
#define OR_STATS_HIST_DECADE_BINS 90u

/* One histogram in one shard. */
struct or_stats_hist_cell {
    _Atomic uint64_t zero; /* samples equal to 0 */
    /* owned by the store, allocated by the shard's writer on first use of the decade, NULL
     * before: bin counts for values 10^d .. 10^(d+1)-1 */
    _Atomic(_Atomic uint64_t *) decades[OR_STATS_HIST_DECADES];
};

/* One thread's slots. Page tables are fixed arrays, so a page, once published, never moves. */
struct or_stats_shard {
    _Atomic(_Atomic uint64_t *) pages[OR_STATS_MAX_PAGES]; /* owned by the store */
    _Atomic(struct or_stats_hist_cell *) hist_pages[OR_STATS_MAX_HIST_PAGES]; /* owned */
};

enum or_stat_kind {
    OR_STAT_COUNTER = 0,
    OR_STAT_GAUGE = 1,
    OR_STAT_HISTOGRAM = 2,
};

/* Registration flags. */
#define OR_STATS_F_LAZY                                                                            \
    0x1u /* hidden from every output until used: Envoy's dynamically created                       \
            stats (cluster.<c>.upstream_rq_2xx, external.upstream_rq_time) */

/* ---- store ---- */

/**
 * Creates a store with `n_shards` shards (workers + 1). Shard i is for worker i; the last one is
 * the main thread's. Default tag extraction is on (as an absent stats_config).
 * @return NULL on OOM or n_shards == 0.
 */
struct or_stats_store *or_stats_store_new(uint32_t n_shards);

/** Frees everything. Workers must no longer record. NULL is a no-op. */
void or_stats_store_free(struct or_stats_store *st);

/** Number of shards. */
uint32_t or_stats_store_shards(const struct or_stats_store *st);

/** Shard `i` (< or_stats_store_shards()); its pointer never changes. */
struct or_stats_shard *or_stats_store_shard(struct or_stats_store *st, uint32_t i);

/** The main thread's shard (the last one). */
struct or_stats_shard *or_stats_main_shard(struct or_stats_store *st);

/**
 * Applies bootstrap stats_config (NULL = Envoy's defaults): stats_tags, use_all_default_tags,
 * stats_matcher. Call it before registering stats: tags of stats already registered are
 * recomputed (on their next use), but the matcher only affects later registrations. On error
 * (err->path below "stats_config", e.g. "stats_config.stats_tags[1].regex") the previous
 * configuration stays.
 * @return 0, OR_EINVAL or OR_ENOMEM.
 */
int or_stats_configure(struct or_stats_store *st,
                       const struct Envoy__Config__Metrics__V3__StatsConfig *cfg,
                       struct or_err_detail *err);

/* ---- registration (main thread) ---- */

/**
 * Registers (or finds) the stat `name` of `kind`. Names are used verbatim: callers sanitize the
 * variable parts with or_stats_sanitize_name(). Costs two string hashes and one lookup when it
 * exists; otherwise also a 32-byte record (tags are extracted later, see above) and, every 1024
 * slots, a page per shard.
 * @return the handle, or 0 (the sink) when rejected by the stats matcher, on OOM, or when `name`
 *         is registered with another kind.
 */
uint32_t or_stats_register(struct or_stats_store *st, enum or_stat_kind kind, const char *name,
                           unsigned flags);

/** Shorthands for or_stats_register(st, kind, name, 0). */
uint32_t or_stats_counter(struct or_stats_store *st, const char *name);
uint32_t or_stats_gauge(struct or_stats_store *st, const char *name);
uint32_t or_stats_histogram(struct or_stats_store *st, const char *name);

/**
 * A lazily shown counter array: element i is the counter "<prefix><stem><first + i>" at handle
 * base + i (consecutive handles), e.g. prefix "cluster.foo.", stem "upstream_rq_", first 100,
 * count 500 for Envoy's per-code counters. Elements cost one slot per shard and no metadata until
 * the main thread first sees them non-zero, when they become ordinary stats. Idempotent on
 * (prefix, stem, first, count). Names of elements must not also be registered one by one.
 * @return the base handle, or 0 on OOM (then every element is the sink: record only through
 *         or_stats_group_handle()).
 */
uint32_t or_stats_counter_group(struct or_stats_store *st, const char *prefix, const char *stem,
                                uint32_t first, uint32_t count);

/** Handle of element `i` of a group (0 when the group failed to register or i >= count). */
static inline uint32_t or_stats_group_handle(uint32_t base, uint32_t count, uint32_t i)
{
    return (base != 0 && i < count) ? base + i : 0;
}

/**
 * Envoy's Stats::Utility::sanitizeStatsName for a variable name part: drops one leading and one
 * trailing '.', replaces "://", ":/", ':' and NUL with '_'. Writes at most outlen bytes including
 * the NUL; returns the full length (like snprintf).
 */
size_t or_stats_sanitize_name(const char *in, size_t len, char *out, size_t outlen);

/* ---- recording (any thread, on its own shard) ---- */

static inline _Atomic uint64_t *or_stats__slot(struct or_stats_shard *s, uint32_t h)
{
    /* Relaxed: the page was published before the handle reached this thread. */
    _Atomic uint64_t *page =
        atomic_load_explicit(&s->pages[h >> OR_STATS_PAGE_SHIFT], memory_order_relaxed);
    return page + (h & (OR_STATS_PAGE_SLOTS - 1u));
}

/** Adds n to counter h: a relaxed load and a relaxed store; only this shard's thread writes. */
static inline void or_counter_add(struct or_stats_shard *s, uint32_t h, uint64_t n)
{
    _Atomic uint64_t *p = or_stats__slot(s, h);
    atomic_store_explicit(p, atomic_load_explicit(p, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

/** Adds 1 to counter h (see or_counter_add). */
static inline void or_counter_inc(struct or_stats_shard *s, uint32_t h)
{
    or_counter_add(s, h, 1);
}

/** Adds a signed delta to this shard's part of gauge h and marks it used (two plain stores). */
static inline void or_gauge_add(struct or_stats_shard *s, uint32_t h, int64_t delta)
{
    _Atomic uint64_t *p = or_stats__slot(s, h);
    atomic_store_explicit(p, atomic_load_explicit(p, memory_order_relaxed) + (uint64_t)delta,
                          memory_order_relaxed);
    atomic_store_explicit(or_stats__slot(s, h + 1u), 1, memory_order_relaxed);
}

static inline void or_gauge_inc(struct or_stats_shard *s, uint32_t h)
{
    or_gauge_add(s, h, 1);
}

static inline void or_gauge_dec(struct or_stats_shard *s, uint32_t h)
{
    or_gauge_add(s, h, -1);
}

/** Records one sample in histogram h (Envoy records milliseconds, bytes, counts as integers). */
void or_histogram_record(struct or_stats_shard *s, uint32_t h, uint64_t value);

/**
 * Main thread: sets the absolute part of gauge h (server.*, membership_total, active_clusters...).
 * The rendered value is this plus every shard's deltas.
 */
void or_gauge_set_main(struct or_stats_store *st, uint32_t h, uint64_t v);

/* ---- reading and maintenance (main thread) ---- */

/**
 * Envoy's stats flush for histograms: sums every shard's bins, computes the interval (since the
 * previous merge) and cumulative quantiles and buckets that the outputs show. Call it every
 * stats_flush_interval (5 s by default) from a main-thread timer.
 */
void or_stats_merge(struct or_stats_store *st);

/** POST /reset_counters: every counter reads 0 afterwards (gauges and histograms are kept). */
void or_stats_reset_counters(struct or_stats_store *st);

/** Current value of counter h (since the last reset). */
uint64_t or_stats_counter_value(struct or_stats_store *st, uint32_t h);
/** Current value of gauge h (main part + shard deltas, clamped at 0 like Envoy's uint64 gauge). */
uint64_t or_stats_gauge_value(struct or_stats_store *st, uint32_t h);

/** A stat's state as the outputs would show it. */
struct or_stat_info {
    enum or_stat_kind kind;
    bool used;
    uint64_t value;                /* counter/gauge value; histogram: cumulative sample count */
    const char *tx_name;           /* borrowed (store lifetime): tag-extracted name */
    uint32_t ntags;                /* tags, in extraction order */
    const char *const *tag_names;  /* borrowed (store lifetime), ntags entries */
    const char *const *tag_values; /* borrowed (store lifetime), ntags entries */
};

/**
 * Looks a stat up by full name (lazy-group elements included once used).
 * @return 0 or OR_ENOTFOUND.
 */
int or_stats_lookup(struct or_stats_store *st, const char *name, struct or_stat_info *out);

/* ---- rendering (main thread) ---- */

enum or_stats_format {
    OR_STATS_FMT_TEXT = 0,
    OR_STATS_FMT_JSON,
    OR_STATS_FMT_PROMETHEUS,
};

/* /stats?type= */
enum or_stats_type {
    OR_STATS_TYPE_ALL = 0,
    OR_STATS_TYPE_COUNTERS,
    OR_STATS_TYPE_GAUGES,
    OR_STATS_TYPE_HISTOGRAMS,
    OR_STATS_TYPE_TEXT_READOUTS,
};

/* /stats?histogram_buckets= */
enum or_stats_hist_mode {
    OR_STATS_HIST_SUMMARY = 0, /* P0(i,c) ... P100(i,c) (default, "none") */
    OR_STATS_HIST_CUMULATIVE,  /* B0.5(i,c) ... counts of samples <= bound */
    OR_STATS_HIST_DISJOINT,    /* B0.5(i,c) ... counts per bucket */
};

struct or_stats_render_opts {
    bool used_only;                    /* ?usedonly */
    const struct or_regex *filter;     /* borrowed: ?filter=, RE2 partial match on the full name */
    enum or_stats_type type;           /* ?type= (text and JSON) */
    enum or_stats_hist_mode hist_mode; /* ?histogram_buckets= (text and JSON) */
};

/**
 * Writes the stats in Envoy's layout for `fmt` into out. `opts` may be NULL (everything).
 * @return 0 or OR_ENOMEM.
 */
int or_stats_render(struct or_stats_store *st, enum or_stats_format fmt,
                    const struct or_stats_render_opts *opts, struct evbuffer *out);

#endif
