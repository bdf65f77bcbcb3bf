/* Histograms with Envoy's circllhist semantics.
 *
 * Envoy records uint64 samples with hist_insert_intscale(h, v, 0, 1): v lands in the bin with two
 * significant decimal digits, val * 10^(exp-1) .. (val+1) * 10^(exp-1) with val in 10..99; the
 * bins of 1..9 are 0.1 wide ([1, 1.1) ...) and 0 has a bin of its own. Statistics walk the
 * non-empty bins in ascending order: quantiles interpolate linearly inside the bin that holds the
 * quantile's rank (hist_approx_quantile), a bucket counts the samples of every bin whose upper
 * edge is <= the bucket bound (hist_approx_count_below), the sum adds bin midpoints
 * (hist_approx_sum). The floating-point expressions below follow circllhist's operation by
 * operation so that the printed numbers are Envoy's to the last digit. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/stats/stats.h"
#include "proxy/stats/stats_internal.h"

const double or_stats__quantiles[OR_STATS_NQUANTILES] = {0,    0.25, 0.5,   0.75,  0.90,
                                                         0.95, 0.99, 0.995, 0.999, 1};
const char *const or_stats__quantile_labels[OR_STATS_NQUANTILES] = {
    "0", "25", "50", "75", "90", "95", "99", "99.5", "99.9", "100"};
const double or_stats__buckets[OR_STATS_NBUCKETS] = {
    0.5,  1,    5,     10,    25,    50,     100,    250,     500,    1000,
    2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000};

static const uint64_t pow10_u64[20] = {1ull,
                                       10ull,
                                       100ull,
                                       1000ull,
                                       10000ull,
                                       100000ull,
                                       1000000ull,
                                       10000000ull,
                                       100000000ull,
                                       1000000000ull,
                                       10000000000ull,
                                       100000000000ull,
                                       1000000000000ull,
                                       10000000000000ull,
                                       100000000000000ull,
                                       1000000000000000ull,
                                       10000000000000000ull,
                                       100000000000000000ull,
                                       1000000000000000000ull,
                                       10000000000000000000ull};

/* circllhist's power_of_ten[] for the exponents we use: exact doubles. */
static const double pow10_d[OR_STATS_HIST_DECADES] = {1,    10,   100,  1000, 1e4,  1e5,  1e6,
                                                      1e7,  1e8,  1e9,  1e10, 1e11, 1e12, 1e13,
                                                      1e14, 1e15, 1e16, 1e17, 1e18};

bool or_stats__hist_bin(uint64_t v, unsigned *decade, unsigned *idx)
{
    if (v == 0)
        return false;
    /* circllhist takes an int64: larger samples are clamped into the top bin. */
    if (v > (uint64_t)INT64_MAX)
        v = (uint64_t)INT64_MAX;
    if (v < 10) {
        *decade = 0;
        *idx = (unsigned)(v * 10 - 10);
        return true;
    }
    /* k = floor(log10(v)): from the bit length, then one correction. */
    unsigned bits = 64u - (unsigned)__builtin_clzll(v);
    unsigned k = (bits * 1233u) >> 12;
    if (v < pow10_u64[k])
        k--;
    *decade = k;
    *idx = (unsigned)(v / pow10_u64[k - 1] - 10);
    return true;
}

void or_stats__hist_bin_bounds(unsigned decade, unsigned idx, double *lower, double *width)
{
    /* hist_bucket_to_double: (val / 10.0) * 10^exp; width: 10^exp / 10.0. */
    double val = (double)(idx + 10);
    *lower = (val / 10.0) * pow10_d[decade];
    *width = pow10_d[decade] / 10.0;
}

void or_histogram_record(struct or_stats_shard *s, uint32_t h, uint64_t value)
{
    struct or_stats_hist_cell *page =
        atomic_load_explicit(&s->hist_pages[h >> OR_STATS_HIST_PAGE_SHIFT], memory_order_relaxed);
    struct or_stats_hist_cell *c = &page[h & (OR_STATS_HIST_PAGE_CELLS - 1u)];
    unsigned d, idx;
    _Atomic uint64_t *slot;
    if (!or_stats__hist_bin(value, &d, &idx)) {
        slot = &c->zero;
    } else {
        /* Only this thread ever stores into decades[d] of this shard. */
        _Atomic uint64_t *bins = atomic_load_explicit(&c->decades[d], memory_order_relaxed);
        if (bins == NULL) {
            bins = calloc(OR_STATS_HIST_DECADE_BINS, sizeof(*bins));
            if (bins == NULL)
                return; /* the sample is lost, the data path goes on */
            atomic_store_explicit(&c->decades[d], bins, memory_order_release);
        }
        slot = &bins[idx];
    }
    atomic_store_explicit(slot, atomic_load_explicit(slot, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

void or_stats__hist_summary_empty(struct or_hist_summary *out)
{
    memset(out, 0, sizeof(*out));
    for (unsigned i = 0; i < OR_STATS_NQUANTILES; i++)
        out->q[i] = NAN;
}

void or_stats__hist_summarize(const struct or_hist_bin *bins, size_t n, struct or_hist_summary *out)
{
    double total = 0.0;
    uint64_t count = 0;
    double sum = 0.0;
    or_stats__hist_summary_empty(out);

    for (size_t i = 0; i < n; i++) {
        total += (double)bins[i].count;
        count += bins[i].count;
        /* hist_bucket_midpoint: 0 for the zero bin, else lower + width / 2. */
        double mid = bins[i].width == 0 ? 0 : bins[i].lower + bins[i].width / 2.0;
        sum += mid * (double)bins[i].count;
    }
    out->count = count;
    out->sum = sum;

    for (unsigned b = 0; b < OR_STATS_NBUCKETS; b++) {
        uint64_t below = 0;
        for (size_t i = 0; i < n; i++) {
            if (bins[i].lower + bins[i].width <= or_stats__buckets[b])
                below += bins[i].count;
            else
                break;
        }
        out->buckets[b] = below;
    }

    if (total == 0 || n == 0)
        return; /* NaN quantiles */

    /* hist_approx_quantile: walk bins and (ascending) quantile ranks together. */
    double q[OR_STATS_NQUANTILES];
    for (unsigned i = 0; i < OR_STATS_NQUANTILES; i++)
        q[i] = total * or_stats__quantiles[i];
    size_t ib = 0;
    double width = bins[0].width, left = bins[0].lower;
    double lower_cnt = 0.0, upper_cnt = (double)bins[0].count;
    for (unsigned i = 0; i < OR_STATS_NQUANTILES; i++) {
        while (ib + 1 < n && upper_cnt < q[i]) {
            ib++;
            width = bins[ib].width;
            left = bins[ib].lower;
            lower_cnt = upper_cnt;
            upper_cnt = lower_cnt + (double)bins[ib].count;
        }
        if (lower_cnt == q[i])
            out->q[i] = left;
        else if (upper_cnt == q[i])
            out->q[i] = left + width;
        else if (width == 0)
            out->q[i] = left;
        else
            out->q[i] = left + (q[i] - lower_cnt) / (upper_cnt - lower_cnt) * width;
    }
}

static struct or_stats_hist_cell *cell_of(struct or_stats_shard *sh, uint32_t h)
{
    struct or_stats_hist_cell *page =
        atomic_load_explicit(&sh->hist_pages[h >> OR_STATS_HIST_PAGE_SHIFT], memory_order_acquire);
    return &page[h & (OR_STATS_HIST_PAGE_CELLS - 1u)];
}

/* Whether any shard holds a sample of cell h. */
static bool cell_has_samples(struct or_stats_store *st, uint32_t h)
{
    for (uint32_t i = 0; i < st->n_shards; i++) {
        const struct or_stats_hist_cell *c = cell_of(st->shards[i], h);
        if (atomic_load_explicit(&c->zero, memory_order_relaxed) != 0)
            return true;
        for (unsigned d = 0; d < OR_STATS_HIST_DECADES; d++)
            if (atomic_load_explicit(&c->decades[d], memory_order_relaxed) != NULL)
                return true;
    }
    return false;
}

void or_stats__hist_main_free(struct or_hist_main *m)
{
    if (m == NULL)
        return;
    for (unsigned d = 0; d < OR_STATS_HIST_DECADES; d++)
        free(m->prev[d]);
    free(m);
}

int or_stats__hist_merge(struct or_stats_store *st, struct or_stat *s)
{
    struct or_hist_main *m = s->u.hist;
    if (m == NULL) {
        /* Most histograms never see a sample (a cluster's internal.upstream_rq_time...): until
         * one does, it has no main-thread state and a merge is this look. */
        if (!cell_has_samples(st, s->h))
            return 0;
        m = calloc(1, sizeof(*m));
        if (m == NULL)
            return OR_ENOMEM;
        or_stats__hist_summary_empty(&m->interval);
        or_stats__hist_summary_empty(&m->cumulative);
        s->u.hist = m;
    }
    struct or_hist_bin *cum = st->scratch;
    struct or_hist_bin *itv = st->scratch + OR_STATS__MAX_BINS;
    size_t nc = 0, ni = 0;
    int rc = 0;

    uint64_t zero = 0;
    for (uint32_t i = 0; i < st->n_shards; i++)
        zero += atomic_load_explicit(&cell_of(st->shards[i], s->h)->zero, memory_order_relaxed);
    if (zero != 0)
        cum[nc++] = (struct or_hist_bin){0, 0, zero};
    if (zero > m->prev_zero)
        itv[ni++] = (struct or_hist_bin){0, 0, zero - m->prev_zero};
    m->prev_zero = zero;

    for (unsigned d = 0; d < OR_STATS_HIST_DECADES; d++) {
        uint64_t cur[OR_STATS_HIST_DECADE_BINS];
        bool any = false;
        memset(cur, 0, sizeof(cur));
        for (uint32_t i = 0; i < st->n_shards; i++) {
            /* Acquire pairs with the writer's release store of a freshly calloc'd decade. */
            _Atomic uint64_t *bins = atomic_load_explicit(&cell_of(st->shards[i], s->h)->decades[d],
                                                          memory_order_acquire);
            if (bins == NULL)
                continue;
            any = true;
            for (unsigned b = 0; b < OR_STATS_HIST_DECADE_BINS; b++)
                cur[b] += atomic_load_explicit(&bins[b], memory_order_relaxed);
        }
        if (!any)
            continue;
        uint64_t *prev = m->prev[d];
        for (unsigned b = 0; b < OR_STATS_HIST_DECADE_BINS; b++) {
            if (cur[b] == 0)
                continue;
            double lower, width;
            or_stats__hist_bin_bounds(d, b, &lower, &width);
            cum[nc++] = (struct or_hist_bin){lower, width, cur[b]};
            uint64_t before = prev != NULL ? prev[b] : 0;
            if (cur[b] > before)
                itv[ni++] = (struct or_hist_bin){lower, width, cur[b] - before};
        }
        if (prev == NULL) {
            prev = calloc(OR_STATS_HIST_DECADE_BINS, sizeof(*prev));
            if (prev == NULL) {
                rc = OR_ENOMEM; /* the next interval will include these samples again */
                continue;
            }
            m->prev[d] = prev;
        }
        memcpy(prev, cur, sizeof(cur));
    }

    or_stats__hist_summarize(itv, ni, &m->interval);
    or_stats__hist_summarize(cum, nc, &m->cumulative);
    m->used = m->cumulative.count != 0;
    return rc;
}
