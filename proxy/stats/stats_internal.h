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

/* A registered stat (main thread). */
struct or_stat {
    char *name;              /* owned: full name */
    char *tx_name;           /* owned: tag-extracted name (a copy of name when no tag applied) */
    const char **tag_names;  /* owned array of strings borrowed from the tagger (its extractor
                                names live as long as the store), ntags entries */
    const char **tag_values; /* owned array of strings interned in the store, ntags entries */
    uint32_t ntags;
    uint32_t h;                /* slot (counter, gauge) or histogram cell index */
    uint8_t kind;              /* enum or_stat_kind */
    uint8_t flags;             /* OR_STATS_F_* */
    bool main_set;             /* gauge: or_gauge_set_main() was called */
    uint64_t reset_base;       /* counter: raw sum at the last /reset_counters */
    uint64_t main_value;       /* gauge: the main-thread part */
    struct or_hist_main *hist; /* owned, histograms only */
};

/* A lazily materialised counter array (or_stats_counter_group). */
struct or_stats_group {
    char *prefix;          /* owned */
    char *stem;            /* owned */
    uint32_t first;        /* number of element 0 */
    uint32_t count;        /* elements */
    uint32_t base;         /* handle of element 0 */
    uint8_t *materialized; /* owned, count bytes: 1 once the element is an or_stat (or rejected) */
};

struct or_stats_tagger;
struct or_stats_matcher;

/* Tag values repeat across a scope's stats (a cluster's name in ~130 of them): one copy each,
 * kept until the store goes. */
struct or_stats_intern {
    char **slots; /* owned open-addressing table of owned strings, NULL = empty */
    size_t cap;   /* power of two */
    size_t n;
};

/* A stable copy of s[0..n) (NUL-terminated), shared with every equal string; NULL on OOM. */
const char *or_stats__intern(struct or_stats_intern *in, const char *s, size_t n);
void or_stats__intern_free(struct or_stats_intern *in);

struct or_stats_store {
    uint32_t n_shards;
    struct or_stats_shard **shards; /* owned array of owned shards */
    uint32_t next_slot;             /* first free counter/gauge slot */
    uint32_t n_pages;               /* slot pages allocated in every shard */
    uint32_t next_cell;             /* first free histogram cell */
    uint32_t n_hist_pages;          /* cell pages allocated in every shard */

    struct or_stat *stats; /* owned array */
    size_t nstats;
    size_t cap;
    uint32_t *index;      /* owned open-addressing table of (stat index + 1), 0 = empty */
    size_t index_cap;     /* power of two */
    uint32_t *slot_owner; /* owned: counter/gauge slot -> stat index + 1 (0 = none) */
    size_t slot_owner_cap;
    uint32_t *cell_owner; /* owned: histogram cell -> stat index + 1 */
    size_t cell_owner_cap;

    struct or_stats_group *groups; /* owned array */
    size_t ngroups;
    size_t gcap;
    uint32_t *gindex;  /* owned open-addressing table of (group index + 1), 0 = empty */
    size_t gindex_cap; /* power of two */

    struct or_stats_tagger *tagger;    /* owned: default tags unless configured otherwise */
    struct or_stats_tagger *retired;   /* owned: a replaced tagger some stats may still name */
    struct or_stats_intern tag_values; /* owned: interned tag values */
    struct or_stats_matcher *matcher;  /* owned, NULL = accept every name */

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

/* ---- hist.c ---- */

/* Bin of a sample: decade (0..18) and index within it (0..89); false for 0 (the zero bin). */
bool or_stats__hist_bin(uint64_t v, unsigned *decade, unsigned *idx);
/* Lower edge and width of a bin exactly as circllhist computes them. */
void or_stats__hist_bin_bounds(unsigned decade, unsigned idx, double *lower, double *width);
/* Envoy's statistics over ascending non-empty bins. */
void or_stats__hist_summarize(const struct or_hist_bin *bins, size_t n,
                              struct or_hist_summary *out);
/* Merges histogram `s` (see or_stats_merge). Returns 0 or OR_ENOMEM. */
int or_stats__hist_merge(struct or_stats_store *st, struct or_stat *s);
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
/* Envoy's TagProducerImpl::produceTags: fills s->tx_name, tag_names, tag_values, ntags (owned
 * by s; previous values are freed). Returns 0 or OR_ENOMEM. */
int or_stats__tagger_apply(const struct or_stats_tagger *t, struct or_stat *s,
                           struct or_stats_intern *values);
/* Envoy's StatsMatcherImpl::rejects. */
bool or_stats__matcher_rejects(const struct or_stats_matcher *m, const char *name);

/* ---- render.c ---- */

/* Shortest round-trip text of v as fmt::format("{}") prints it (fixed for 1e-4 <= |v| < 1e16,
 * else d.ddde+XX); "nan", "inf". Returns the length; buf needs 32 bytes. */
size_t or_stats__fmt_double(double v, char *buf);
#endif
