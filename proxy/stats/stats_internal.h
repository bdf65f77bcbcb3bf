/* Stats internals shared by store.c (registration, values), hist.c (bins, merge, quantiles),
 * tags.c (tag extraction, stats matcher) and render.c (output formats). Main thread only. */
#ifndef OR_STATS_STATS_INTERNAL_H
#define OR_STATS_STATS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proxy/stats/stats.h"

/* Envoy's supported quantiles (0, .25, .5, .75, .9, .95, .99, .995, .999, 1) and default
 * histogram buckets (0.5 .. 3600000). */
#define OR_STATS_NQUANTILES 10u
#define OR_STATS_NBUCKETS 19u
extern const double or_stats__quantiles[OR_STATS_NQUANTILES];
extern const char *const or_stats__quantile_labels[OR_STATS_NQUANTILES]; /* "0" .. "99.5" .. */
extern const double or_stats__buckets[OR_STATS_NBUCKETS];

/* What Envoy's HistogramStatisticsImpl computes from one circllhist. */
struct or_hist_summary {
    double q[OR_STATS_NQUANTILES];       /* NaN when there is no sample */
    uint64_t buckets[OR_STATS_NBUCKETS]; /* samples in bins whose upper edge <= bucket */
    uint64_t count;                      /* samples */
    double sum;                          /* sum of bin midpoints, circllhist's approx sum */
};

/* Main-thread state of one histogram. */
struct or_hist_main {
    uint64_t prev_zero;                    /* cumulative zero-bin count at the last merge */
    uint64_t *prev[OR_STATS_HIST_DECADES]; /* owned, NULL = all 0: bins at the last merge */
    struct or_hist_summary interval;       /* samples between the last two merges */
    struct or_hist_summary cumulative;     /* every sample up to the last merge */
    bool used;                             /* a sample was merged (Envoy's ParentHistogram) */
};

/* One non-empty bin, in ascending order, as circllhist walks them. */
struct or_hist_bin {
    double lower;
    double width;
    uint64_t count;
};

/* Interned strings, numbered from 1 (0 = none): name prefixes and suffixes, tag-extracted names,
 * tag names and values. Every distinct string is stored once, in chunks that never move, so a
 * string's pointer stays valid for the store's lifetime. */
struct or_stats_str {
    const char *s; /* borrowed from a chunk of the table */
    uint32_t len;
    uint32_t hash;
};

struct or_stats_strtab {
    struct or_stats_str *v; /* owned (big_alloc), v[0] unused */
    uint32_t n;             /* ids in use + 1 */
    uint32_t cap;
    uint32_t *slots; /* owned open-addressing table of ids, 0 = empty */
    uint32_t slots_cap;
    char *chunk; /* borrowed: the chunk being filled (owned through `chunks`) */
    size_t chunk_used;
    size_t chunk_cap;
    char **chunks; /* owned array of owned chunks */
    size_t nchunks;
};

/* A tag set: the tags of a stat in extraction order. All ~100 stats of a cluster share one. */
struct or_stats_tagset {
    uint32_t n;
    uint32_t hash;
    const char **names;  /* owned array of 2n interned strings: n names, then the n values */
    const char **values; /* borrowed: names + n */
};

struct or_stats_tagsets {
    struct or_stats_tagset *v; /* owned, v[0] unused */
    uint32_t n;
    uint32_t cap;
    uint32_t *slots; /* owned open-addressing table of ids, 0 = empty */
    uint32_t slots_cap;
};

/* A registered stat (main thread): 32 bytes. The name is the concatenation of two interned strings
 * (everything up to and including the last '.', and the rest), so that the ~100 stats of a cluster
 * share one prefix and the ~1000 clusters share their suffixes. Tags are extracted on first need
 * (Prometheus output, or_stats_lookup): a stat whose `tags` is 0 has not been tagged yet. */
struct or_stat {
    uint32_t prefix; /* string id */
    uint32_t suffix; /* string id */
    uint32_t tx;     /* string id of the tag-extracted name, valid once tags != 0 */
    uint32_t tags;   /* tag set id, 0 = not extracted yet */
    uint32_t h;      /* slot (counter, gauge) or histogram cell index */
    uint8_t kind;    /* enum or_stat_kind */
    uint8_t flags;   /* OR_STATS_F_* */
    bool main_set;   /* gauge: or_gauge_set_main() was called */
    uint8_t pad;
    union {
        uint64_t reset_base;       /* counter: raw sum at the last /reset_counters */
        uint64_t main_value;       /* gauge: the main-thread part */
        struct or_hist_main *hist; /* histogram: owned, NULL until the first merged sample */
    } u;
};

/* The stats whose name starts with one prefix: an open-addressing table of entries
 * (hash tag << 23 | stat index + 1), keyed by the suffix's string id. */
struct or_stats_ptab {
    uint32_t *e; /* owned, cap entries, 0 = empty */
    uint32_t cap;
    uint32_t n;
};

/* A lazily materialised counter array (or_stats_counter_group). */
struct or_stats_group {
    uint32_t prefix;       /* string id */
    uint32_t stem;         /* string id */
    uint32_t first;        /* number of element 0 */
    uint32_t count;        /* elements */
    uint32_t base;         /* handle of element 0 */
    uint8_t *materialized; /* owned bitmap of count bits, NULL = none yet: set once the element is
                              an or_stat (or rejected) */
};

struct or_stats_tagger;
struct or_stats_matcher;

/* A cached suffix id, keyed by the address of a block's static suffix string. */
struct or_stats_sfx {
    const char *ptr; /* borrowed: a static string */
    uint32_t id;     /* 0 when dotted */
    bool dotted;     /* the suffix has a '.': registered through the full name */
};

#define OR_STATS__SFX_CACHE 512u

struct or_stats_store {
    uint32_t n_shards;
    struct or_stats_shard **shards; /* owned array of owned shards */
    uint32_t next_slot;             /* first free counter/gauge slot */
    uint32_t n_pages;               /* slot pages allocated in every shard */
    uint32_t next_cell;             /* first free histogram cell */
    uint32_t n_hist_pages;          /* cell pages allocated in every shard */
    char **page_chunk;              /* owned array (per shard) of borrowed mmap chunk cursors */
    uint32_t page_chunk_left;       /* slot pages left in every shard's current chunk */

    struct or_stat *stats; /* owned (big_alloc) array */
    size_t nstats;
    size_t cap;
    /* Name index, one small table per name prefix (a cluster's ~100 stats sit together, so
     * registering a block touches one table, not 100 random places of a global one). */
    struct or_stats_ptab *ptabs; /* owned (big_alloc), indexed by prefix string id */
    size_t ptabs_cap;
    uint64_t *gauges; /* owned (big_alloc): (slot << 32 | stat index) of every gauge, sorted */
    size_t ngauges;
    size_t gauges_cap;
    uint64_t resets; /* or_stats_reset_counters() calls */
    /* (slot << 32 | stat index) of every counter, sorted, built on the first
     * or_stats_counter_value() after a reset (tests; never on the data or start-up path). */
    uint64_t *cindex; /* owned (big_alloc), NULL = not built */
    size_t cindex_n;
    size_t cindex_nstats; /* nstats when built */
    uint32_t *cell_owner; /* owned (big_alloc): histogram cell -> stat index + 1 (0 = none) */
    size_t cell_owner_cap;

    struct or_stats_group *groups; /* owned (big_alloc) array */
    size_t ngroups;
    size_t gcap;
    uint32_t *gindex;  /* owned open-addressing table of (group index + 1), 0 = empty */
    size_t gindex_cap; /* power of two */

    struct or_stats_tagger *tagger; /* owned: default tags unless configured otherwise */
    struct or_stats_strtab strings; /* owned: every interned string */
    struct or_stats_sfx sfx_cache[OR_STATS__SFX_CACHE];
    uint32_t last_prefix;             /* string id of the last registered name's prefix, 0 = none */
    struct or_stats_tagsets tagsets;  /* owned: every distinct tag set */
    struct or_stats_matcher *matcher; /* owned, NULL = accept every name */

    struct or_hist_bin *scratch; /* owned: 2 * OR_STATS__MAX_BINS bins for merges */
};

#define OR_STATS__MAX_BINS (1u + OR_STATS_HIST_DECADES * OR_STATS_HIST_DECADE_BINS)

/* ---- store.c ---- */

/* Raw counter sum over shards (before the reset base). */
uint64_t or_stats__counter_raw(struct or_stats_store *st, uint32_t h);
/* Gauge value and used flag. */
uint64_t or_stats__gauge_read(struct or_stats_store *st, const struct or_stat *s, bool *used);
/* Turns every non-zero lazy group element into an or_stat. Returns 0 or OR_ENOMEM. */
int or_stats__materialize(struct or_stats_store *st);
/* Whether a stat is shown at all (lazy stats only once used). Also yields the value. */
bool or_stats__visible(struct or_stats_store *st, const struct or_stat *s, bool *used,
                       uint64_t *value);
/* The string id of a registration prefix (empty, or ending with '.'): 0 on OOM or when `prefix`
 * does not end with '.'. */
uint32_t or_stats__prefix(struct or_stats_store *st, const char *prefix);
/* or_stats_register() of prefix + suffix, for the blocks: `prefix` from or_stats__prefix(),
 * `suffix` a string that lives as long as the process (its address keys a cache). */
uint32_t or_stats__register_split(struct or_stats_store *st, enum or_stat_kind kind,
                                  uint32_t prefix, const char *suffix, unsigned flags);
/* Interns s[0..len): its id, 0 on OOM. */
uint32_t or_stats__str_intern(struct or_stats_store *st, const char *s, size_t len);
/* The string of an id (not 0). */
static inline const struct or_stats_str *or_stats__str(const struct or_stats_store *st, uint32_t id)
{
    return &st->strings.v[id];
}
/* Length of a stat's full name. */
static inline size_t or_stats__name_len(const struct or_stats_store *st, const struct or_stat *s)
{
    return (size_t)st->strings.v[s->prefix].len + st->strings.v[s->suffix].len;
}
/* Writes a stat's full name and a NUL into buf (or_stats__name_len() + 1 bytes). */
void or_stats__name(const struct or_stats_store *st, const struct or_stat *s, char *buf);
/* Interns a tag set of n (interned) names and values: its id, 0 on OOM. */
uint32_t or_stats__tagset_intern(struct or_stats_store *st, const char *const *names,
                                 const char *const *values, uint32_t n);
/* Extracts the tags of a stat unless that was done already. Returns 0 or OR_ENOMEM. */
int or_stats__ensure_tags(struct or_stats_store *st, struct or_stat *s);
/* Histogram main-thread state (a shared empty one before the first merged sample). */
const struct or_hist_main *or_stats__hist_of(const struct or_stat *s);
/* mmap-backed allocations for tables and render scratch: returned to the kernel when freed, so
 * that they neither fragment the heap nor raise malloc's dynamic mmap threshold. */
void *or_stats__big_alloc(size_t bytes);
void or_stats__big_free(void *p, size_t bytes);

/* ---- hist.c ---- */

/* Bin of a sample: decade (0..18) and index within it (0..89); false for 0 (the zero bin). */
bool or_stats__hist_bin(uint64_t v, unsigned *decade, unsigned *idx);
/* Lower edge and width of a bin exactly as circllhist computes them. */
void or_stats__hist_bin_bounds(unsigned decade, unsigned idx, double *lower, double *width);
/* Envoy's statistics over ascending non-empty bins. */
void or_stats__hist_summarize(const struct or_hist_bin *bins, size_t n,
                              struct or_hist_summary *out);
/* Merges histogram `s` (see or_stats_merge); a histogram that never had a sample costs one look
 * at its cell in each shard. Returns 0 or OR_ENOMEM. */
int or_stats__hist_merge(struct or_stats_store *st, struct or_stat *s);
/* Frees a histogram's main-thread state. */
void or_stats__hist_main_free(struct or_hist_main *m);
/* An empty summary: NaN quantiles, zero buckets. */
void or_stats__hist_summary_empty(struct or_hist_summary *out);

/* ---- tags.c ---- */

/* Builds the tag producer and stats matcher from cfg (NULL = defaults). err paths start with
 * "stats_config". */
int or_stats__tagger_new(const struct Envoy__Config__Metrics__V3__StatsConfig *cfg,
                         struct or_stats_tagger **tagger, struct or_stats_matcher **matcher,
                         struct or_err_detail *err);
void or_stats__tagger_free(struct or_stats_tagger *t);
void or_stats__matcher_free(struct or_stats_matcher *m);
/* Envoy's TagProducerImpl::produceTags for the full name `name` (len bytes): interns the
 * tag-extracted name (*tx) and the tag set (*tags) in the store. Returns 0 or OR_ENOMEM. */
int or_stats__tagger_apply(const struct or_stats_tagger *t, struct or_stats_store *st,
                           const char *name, size_t len, uint32_t *tx, uint32_t *tags);
/* Envoy's StatsMatcherImpl::rejects. */
bool or_stats__matcher_rejects(const struct or_stats_matcher *m, const char *name);

/* ---- render.c ---- */

/* Shortest round-trip text of v as fmt::format("{}") prints it (fixed for 1e-4 <= |v| < 1e16,
 * else d.ddde+XX); "nan", "inf". Returns the length; buf needs 32 bytes. */
size_t or_stats__fmt_double(double v, char *buf);
#endif
