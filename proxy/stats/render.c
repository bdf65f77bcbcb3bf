/* /stats output in Envoy's formats.
 *
 * Text (StatsTextRender): counters and gauges merged and sorted by name, "name: value"; then
 * histograms sorted by name, "name: P0(interval,cumulative) P25(..) ... P100(..)" with fmt's "{}"
 * for each number ("nan" for an empty interval), or "name: No recorded values"; with
 * ?histogram_buckets=cumulative|disjoint "name: B0.5(interval,cumulative) ... B3.6e+06(..)".
 *
 * JSON (StatsJsonRender, compact): {"stats":[{"name":"n","value":1},...,{"histograms":
 * {"supported_quantiles":[0,25,50,75,90,95,99,99.5,99.9,100],"computed_quantiles":[{"name":"h",
 * "values":[{"cumulative":c,"interval":i},...]}]}}]}, NaN as null, numbers as fmt::to_string
 * prints them (Envoy's serializeDouble on libstdc++ builds; libc++ builds would print 300000 as
 * 3e+05, the same JSON number); the bucket modes give
 * {"histograms":[{"name":"h","buckets":[{"upper_bound":0.5,"interval":0,"cumulative":0},...]}]}.
 *
 * Prometheus (PrometheusStatsFormatter, exposition 0.0.4): counters, then gauges, then
 * histograms; within each, one group per tag-extracted name ("# TYPE envoy_<name> <type>"
 * followed by one line per stat and an empty line), groups and stats ordered token by token
 * (Envoy's SymbolTable::lessThan). Names get "envoy_" and every character outside [a-zA-Z0-9_]
 * becomes '_'; tag names likewise; tag values escape \ " and newline. Histograms print the
 * cumulative buckets as name_bucket{tags,le="0.5"} .. le="+Inf", then _sum (fmt {:.32g}) and
 * _count. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <event2/buffer.h>

#include "proxy/admin/json.h"
#include "proxy/core/str.h"
#include "proxy/router/regex.h"
#include "proxy/stats/stats.h"
#include "proxy/stats/stats_internal.h"

/* ---- numbers ---- */

/* Shortest decimal digits that read back as v (v finite, > 0): digits without dot, returns the
 * digit count; *exp10 is the exponent of the first digit. */
static int shortest_digits(double v, char digits[24], int *exp10)
{
    char buf[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, sizeof(buf), "%.*e", p - 1, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    int nd = 0;
    const char *c = buf;
    for (; *c != 'e' && *c != '\0'; c++)
        if (*c >= '0' && *c <= '9')
            digits[nd++] = *c;
    *exp10 = *c == 'e' ? (int)strtol(c + 1, NULL, 10) : 0;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
    return nd;
}

static size_t layout_fixed(const char *d, int nd, int e, char *out)
{
    size_t n = 0;
    if (e >= nd - 1) {
        for (int i = 0; i < nd; i++)
            out[n++] = d[i];
        for (int i = 0; i < e - (nd - 1); i++)
            out[n++] = '0';
    } else if (e >= 0) {
        for (int i = 0; i < nd; i++) {
            out[n++] = d[i];
            if (i == e)
                out[n++] = '.';
        }
    } else {
        out[n++] = '0';
        out[n++] = '.';
        for (int i = 0; i < -e - 1; i++)
            out[n++] = '0';
        for (int i = 0; i < nd; i++)
            out[n++] = d[i];
    }
    out[n] = '\0';
    return n;
}

static size_t layout_sci(const char *d, int nd, int e, char *out)
{
    size_t n = 0;
    out[n++] = d[0];
    if (nd > 1) {
        out[n++] = '.';
        for (int i = 1; i < nd; i++)
            out[n++] = d[i];
    }
    /* The exponent of a double has at most 3 digits: "e-308". */
    n += (size_t)snprintf(out + n, 6, "e%c%02d", e < 0 ? '-' : '+', e < 0 ? -e : e);
    return n;
}

/* Sign, zero, NaN and infinities for both styles; returns 0 when v needs digits. */
static size_t special(double *v, char *buf, size_t *off)
{
    *off = 0;
    if (isnan(*v))
        return (size_t)snprintf(buf, 4, "nan");
    if (signbit(*v)) {
        buf[(*off)++] = '-';
        *v = -*v;
    }
    if (isinf(*v))
        return *off + (size_t)snprintf(buf + *off, 4, "inf");
    if (*v == 0) {
        buf[(*off)++] = '0';
        buf[*off] = '\0';
        return *off;
    }
    return 0;
}

size_t or_stats__fmt_double(double v, char *buf)
{
    size_t off, n = special(&v, buf, &off);
    if (n != 0)
        return n;
    char d[24];
    int e, nd = shortest_digits(v, d, &e);
    if (e < -4 || e >= 16)
        return off + layout_sci(d, nd, e, buf + off);
    return off + layout_fixed(d, nd, e, buf + off);
}

/* ---- selection ---- */

struct item {
    const struct or_stat *s; /* borrowed from the store, valid during one render */
    const char *name;        /* borrowed from the list's name scratch: full name */
    const char *tx;          /* borrowed interned string: tag-extracted name (Prometheus only) */
    uint64_t value;          /* counter/gauge value as shown */
    bool used;
};

/* Items and their full names live in mmap'd scratch that goes back to the kernel when the render
 * is done: a scrape of 100,000 stats leaves the heap as it found it. */
struct list {
    struct item *v; /* owned (big_alloc), cap items */
    size_t n;
    size_t cap;
    char *names; /* owned (big_alloc), names_cap bytes */
    size_t names_cap;
};

static void list_free(struct list *l)
{
    or_stats__big_free(l->v, l->cap * sizeof(*l->v));
    or_stats__big_free(l->names, l->names_cap);
    memset(l, 0, sizeof(*l));
}

static bool kind_wanted(const struct or_stat *s, bool counters, bool gauges, bool histograms)
{
    return (s->kind == OR_STAT_COUNTER && counters) || (s->kind == OR_STAT_GAUGE && gauges) ||
           (s->kind == OR_STAT_HISTOGRAM && histograms);
}

/* `tags`: extract the tags of every selected stat (Prometheus). */
static int collect(struct or_stats_store *st, const struct or_stats_render_opts *o, bool counters,
                   bool gauges, bool histograms, bool tags, struct list *out)
{
    memset(out, 0, sizeof(*out));
    /* Upper bounds: scratch pages that are never written cost nothing. */
    size_t n = 0, bytes = 0;
    for (size_t i = 0; i < st->nstats; i++) {
        const struct or_stat *s = &st->stats[i];
        if (kind_wanted(s, counters, gauges, histograms)) {
            n++;
            bytes += or_stats__name_len(st, s) + 1;
        }
    }
    if (n == 0)
        return 0;
    out->v = or_stats__big_alloc(n * sizeof(*out->v));
    out->names = or_stats__big_alloc(bytes);
    if (out->v == NULL || out->names == NULL) {
        or_stats__big_free(out->v, n * sizeof(*out->v));
        or_stats__big_free(out->names, bytes);
        memset(out, 0, sizeof(*out));
        return OR_ENOMEM;
    }
    out->cap = n;
    out->names_cap = bytes;
    char *np = out->names;
    for (size_t i = 0; i < st->nstats; i++) {
        struct or_stat *s = &st->stats[i];
        if (!kind_wanted(s, counters, gauges, histograms))
            continue;
        struct item it = {s, np, NULL, 0, false};
        if (!or_stats__visible(st, s, &it.used, &it.value))
            continue;
        if (o->used_only && !it.used)
            continue;
        size_t len = or_stats__name_len(st, s);
        or_stats__name(st, s, np);
        if (o->filter != NULL && !or_regex_partial_match(o->filter, np, len))
            continue;
        if (tags) {
            if (or_stats__ensure_tags(st, s) != 0) {
                list_free(out);
                return OR_ENOMEM;
            }
            it.tx = or_stats__str(st, s->tx)->s;
        }
        np += len + 1;
        out->v[out->n++] = it;
    }
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct item *)a)->name, ((const struct item *)b)->name);
}

/* Envoy's SymbolTable::lessThan: token by token, a name with fewer tokens first on a tie. One
 * pass: at the first difference, a token that ended ('.' or the end) is the shorter one. */
static int token_cmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        unsigned char ca = (unsigned char)*a, cb = (unsigned char)*b;
        if (ca == cb) {
            if (ca == '\0')
                return 0;
            continue;
        }
        bool ea = ca == '.' || ca == '\0', eb = cb == '.' || cb == '\0';
        if (ea && eb)
            return ca == '\0' ? -1 : 1; /* same token, one name has no more */
        if (ea)
            return -1;
        if (eb)
            return 1;
        return ca < cb ? -1 : 1;
    }
}

static int by_group(const void *a, const void *b)
{
    const struct item *x = a, *y = b;
    /* Interned: the same tag-extracted name is the same pointer. */
    int c = x->tx == y->tx ? 0 : token_cmp(x->tx, y->tx);
    return c != 0 ? c : token_cmp(x->name, y->name);
}

/* ---- output ---- */

/* The output is written into mmap'd blocks that the evbuffer references and unmaps once sent:
 * megabytes of /stats output never pass through the malloc heap, so idle RSS is the same before
 * and after a scrape. */
#define WBLOCK (1u << 20)

struct wbuf {
    struct evbuffer *out; /* borrowed */
    char *blk;            /* owned (big_alloc, WBLOCK bytes) until handed to out, NULL = none */
    size_t used;
    int err;
};

static void unmap_block(const void *data, size_t len, void *extra)
{
    or_stats__big_free((void *)(uintptr_t)data, WBLOCK);
}

static void w_flush(struct wbuf *w)
{
    if (w->blk == NULL || w->used == 0)
        return;
    if (evbuffer_add_reference(w->out, w->blk, w->used, unmap_block, NULL) != 0) {
        or_stats__big_free(w->blk, WBLOCK);
        w->err = OR_ENOMEM;
    }
    w->blk = NULL;
    w->used = 0;
}

/* Room for n more bytes in the current block (false: write straight to the evbuffer). */
static bool w_room(struct wbuf *w, size_t n)
{
    if (w->blk != NULL && w->used + n <= WBLOCK)
        return true;
    w_flush(w);
    if (n > WBLOCK)
        return false;
    w->blk = or_stats__big_alloc(WBLOCK);
    return w->blk != NULL;
}

static void w_add(struct wbuf *w, const char *p, size_t n)
{
    if (n == 0)
        return;
    if (!w_room(w, n)) {
        if (evbuffer_add(w->out, p, n) != 0)
            w->err = OR_ENOMEM;
        return;
    }
    memcpy(w->blk + w->used, p, n);
    w->used += n;
}

__attribute__((format(printf, 2, 3))) static void w_printf(struct wbuf *w, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0) {
        w->err = OR_ENOMEM;
        return;
    }
    if ((size_t)n < sizeof(buf)) {
        w_add(w, buf, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (big == NULL) {
        w->err = OR_ENOMEM;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    w_add(w, big, (size_t)n);
    free(big);
}

/* Hands the last block over; returns rc, or OR_ENOMEM if any write failed. */
static int w_finish(struct wbuf *w, int rc)
{
    w_flush(w);
    return rc != 0 ? rc : w->err;
}

/* Merge sort with mmap'd scratch: glibc's qsort would malloc a copy of the array (megabytes),
 * and freeing it raises malloc's mmap threshold so that later frees stay in the heap. */
typedef int (*item_cmp_cb)(const void *a, const void *b);

static void merge_runs(const struct item *a, size_t na, const struct item *b, size_t nb,
                       struct item *out, item_cmp_cb cmp)
{
    size_t i = 0, j = 0, k = 0;
    while (i < na && j < nb)
        out[k++] = cmp(&b[j], &a[i]) < 0 ? b[j++] : a[i++];
    while (i < na)
        out[k++] = a[i++];
    while (j < nb)
        out[k++] = b[j++];
}

static void sort_items(struct item *v, size_t n, item_cmp_cb cmp)
{
    enum { RUN = 16 };
    if (n < 2)
        return;
    struct item *tmp = or_stats__big_alloc(n * sizeof(*tmp));
    if (tmp == NULL) {
        qsort(v, n, sizeof(*v), cmp);
        return;
    }
    for (size_t s = 0; s < n; s += RUN) {
        size_t e = s + RUN < n ? s + RUN : n;
        for (size_t i = s + 1; i < e; i++) {
            struct item x = v[i];
            size_t j = i;
            for (; j > s && cmp(&x, &v[j - 1]) < 0; j--)
                v[j] = v[j - 1];
            v[j] = x;
        }
    }
    struct item *src = v, *dst = tmp;
    for (size_t w = RUN; w < n; w *= 2) {
        for (size_t i = 0; i < n; i += 2 * w) {
            size_t na = i + w < n ? w : n - i;
            size_t nb = i + na < n ? (i + na + w < n ? w : n - i - na) : 0;
            merge_runs(src + i, na, src + i + na, nb, dst + i, cmp);
        }
        struct item *t = src;
        src = dst;
        dst = t;
    }
    if (src != v)
        memcpy(v, src, n * sizeof(*v));
    or_stats__big_free(tmp, n * sizeof(*tmp));
}

/* ---- text ---- */

static void add_num(struct wbuf *out, double v)
{
    char buf[48];
    size_t n = or_stats__fmt_double(v, buf);
    w_add(out, buf, n);
}

static void text_histogram(struct wbuf *out, const struct item *it, enum or_stats_hist_mode mode)
{
    const struct or_hist_main *m = or_stats__hist_of(it->s);
    w_add(out, it->name, strlen(it->name));
    if (!m->used) {
        w_add(out, ": No recorded values\n", 21);
        return;
    }
    w_add(out, ": ", 2);
    if (mode == OR_STATS_HIST_SUMMARY) {
        for (unsigned i = 0; i < OR_STATS_NQUANTILES; i++) {
            w_printf(out, "%sP%s(", i ? " " : "", or_stats__quantile_labels[i]);
            add_num(out, m->interval.q[i]);
            w_add(out, ",", 1);
            add_num(out, m->cumulative.q[i]);
            w_add(out, ")", 1);
        }
    } else {
        for (unsigned i = 0; i < OR_STATS_NBUCKETS; i++) {
            uint64_t iv = m->interval.buckets[i], cv = m->cumulative.buckets[i];
            if (mode == OR_STATS_HIST_DISJOINT && i > 0) {
                iv -= m->interval.buckets[i - 1];
                cv -= m->cumulative.buckets[i - 1];
            }
            w_printf(out, "%sB%g(%llu,%llu)", i ? " " : "", or_stats__buckets[i],
                     (unsigned long long)iv, (unsigned long long)cv);
        }
    }
    w_add(out, "\n", 1);
}

/* ---- JSON ---- */

static void json_num(struct wbuf *out, double v)
{
    if (isnan(v)) {
        w_add(out, "null", 4);
        return;
    }
    char buf[48];
    size_t n = or_stats__fmt_double(v, buf);
    w_add(out, buf, n);
}

static void json_name(struct wbuf *out, const char *name)
{
    size_t len = strlen(name), i = 0;
    while (i < len && (unsigned char)name[i] >= 0x20 && (unsigned char)name[i] < 0x7f &&
           name[i] != '"' && name[i] != '\\')
        i++;
    w_add(out, "\"", 1);
    if (i == len) {
        w_add(out, name, len);
    } else {
        /* Rare: the admin's escaper, through a temporary buffer. */
        struct evbuffer *tmp = evbuffer_new();
        if (tmp == NULL) {
            out->err = OR_ENOMEM;
            return;
        }
        or_json_escape(tmp, name, len, 0);
        size_t n = evbuffer_get_length(tmp);
        w_add(out, (const char *)evbuffer_pullup(tmp, (ssize_t)n), n);
        evbuffer_free(tmp);
    }
    w_add(out, "\"", 1);
}

static void json_histograms(struct wbuf *out, const struct list *h, enum or_stats_hist_mode mode)
{
    if (mode == OR_STATS_HIST_SUMMARY) {
        w_printf(out, "{\"histograms\":{\"supported_quantiles\":[");
        for (unsigned i = 0; i < OR_STATS_NQUANTILES; i++)
            w_printf(out, "%s%s", i ? "," : "", or_stats__quantile_labels[i]);
        w_printf(out, "],\"computed_quantiles\":[");
        for (size_t k = 0; k < h->n; k++) {
            const struct or_hist_main *m = or_stats__hist_of(h->v[k].s);
            w_printf(out, "%s{\"name\":", k ? "," : "");
            json_name(out, h->v[k].name);
            w_printf(out, ",\"values\":[");
            for (unsigned i = 0; i < OR_STATS_NQUANTILES; i++) {
                w_printf(out, "%s{\"cumulative\":", i ? "," : "");
                json_num(out, m->cumulative.q[i]);
                w_printf(out, ",\"interval\":");
                json_num(out, m->interval.q[i]);
                w_add(out, "}", 1);
            }
            w_add(out, "]}", 2);
        }
        w_add(out, "]}}", 3);
        return;
    }
    w_printf(out, "{\"histograms\":[");
    for (size_t k = 0; k < h->n; k++) {
        const struct or_hist_main *m = or_stats__hist_of(h->v[k].s);
        w_printf(out, "%s{\"name\":", k ? "," : "");
        json_name(out, h->v[k].name);
        w_printf(out, ",\"buckets\":[");
        for (unsigned i = 0; i < OR_STATS_NBUCKETS; i++) {
            uint64_t iv = m->interval.buckets[i], cv = m->cumulative.buckets[i];
            if (mode == OR_STATS_HIST_DISJOINT && i > 0) {
                iv -= m->interval.buckets[i - 1];
                cv -= m->cumulative.buckets[i - 1];
            }
            w_printf(out, "%s{\"upper_bound\":", i ? "," : "");
            json_num(out, or_stats__buckets[i]);
            w_printf(out, ",\"interval\":%llu,\"cumulative\":%llu}", (unsigned long long)iv,
                     (unsigned long long)cv);
        }
        w_add(out, "]}", 2);
    }
    w_add(out, "]}", 2);
}

/* ---- Prometheus ---- */

/* Per-render text that many lines repeat: "envoy_<sanitized tag-extracted name>" once per group,
 * and the label text of each tag set once (a cluster's ~100 stats and a histogram's 22 lines
 * share it). Kept in one mmap'd buffer, addressed by offsets since it may move as it grows. */
struct prom {
    const struct or_stats_store *st; /* borrowed */
    char *buf;                       /* owned (mmap) */
    size_t used;
    size_t cap;
    uint32_t *tag_off; /* owned (big_alloc): per tag set id, UINT32_MAX = not rendered yet */
    uint32_t *tag_len; /* borrowed: tag_off + ntagsets */
    size_t ntagsets;
    int err;
};

static bool pb_reserve(struct prom *pr, size_t more)
{
    if (pr->used + more <= pr->cap)
        return true;
    size_t cap = pr->cap ? pr->cap * 2 : 65536;
    while (pr->used + more > cap)
        cap *= 2;
    void *p = pr->buf == NULL
                  ? mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
                  : mremap(pr->buf, pr->cap, cap, MREMAP_MAYMOVE);
    if (p == MAP_FAILED) {
        pr->err = OR_ENOMEM;
        return false;
    }
    pr->buf = p;
    pr->cap = cap;
    return true;
}

static void pb_add(struct prom *pr, const char *s, size_t n)
{
    if (pb_reserve(pr, n)) {
        memcpy(pr->buf + pr->used, s, n);
        pr->used += n;
    }
}

/* Every character outside [a-zA-Z0-9_] becomes '_'. */
static void pb_sanitized(struct prom *pr, const char *s)
{
    size_t n = strlen(s);
    if (!pb_reserve(pr, n))
        return;
    char *o = pr->buf + pr->used;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        o[i] = ok ? c : '_';
    }
    pr->used += n;
}

static void pb_value_escaped(struct prom *pr, const char *s)
{
    for (const char *p = s;; p++) {
        const char *esc = NULL;
        if (*p == '\\')
            esc = "\\\\";
        else if (*p == '\n')
            esc = "\\n";
        else if (*p == '"')
            esc = "\\\"";
        else if (*p != '\0')
            continue;
        pb_add(pr, s, (size_t)(p - s));
        if (esc == NULL)
            return;
        pb_add(pr, esc, strlen(esc));
        s = p + 1;
    }
}

/* name="value",... (no braces) of tag set `set`, rendered on first use. */
static struct or_str prom_tags(struct prom *pr, uint32_t set)
{
    if (set >= pr->ntagsets || pr->err != 0)
        return or_str_make("", 0);
    if (pr->tag_off[set] == UINT32_MAX) {
        const struct or_stats_tagset *t = &pr->st->tagsets.v[set];
        size_t start = pr->used;
        for (uint32_t i = 0; i < t->n; i++) {
            if (i > 0)
                pb_add(pr, ",", 1);
            pb_sanitized(pr, t->names[i]);
            pb_add(pr, "=\"", 2);
            pb_value_escaped(pr, t->values[i]);
            pb_add(pr, "\"", 1);
        }
        if (pr->err != 0 || pr->used > UINT32_MAX)
            return or_str_make("", 0);
        pr->tag_off[set] = (uint32_t)start;
        pr->tag_len[set] = (uint32_t)(pr->used - start);
    }
    return or_str_make(pr->buf + pr->tag_off[set], pr->tag_len[set]);
}

static void prom_histogram(struct wbuf *out, struct or_str name, struct or_str tags,
                           const struct item *it)
{
    const struct or_hist_summary *c = &or_stats__hist_of(it->s)->cumulative;
    char num[64];
    for (unsigned i = 0; i <= OR_STATS_NBUCKETS; i++) {
        w_add(out, name.ptr, name.len);
        w_add(out, "_bucket{", 8);
        w_add(out, tags.ptr, tags.len);
        if (tags.len > 0)
            w_add(out, ",", 1);
        if (i < OR_STATS_NBUCKETS) {
            snprintf(num, sizeof(num), "%.32g", or_stats__buckets[i]);
            w_printf(out, "le=\"%s\"} %llu\n", num, (unsigned long long)c->buckets[i]);
        } else {
            w_printf(out, "le=\"+Inf\"} %llu\n", (unsigned long long)c->count);
        }
    }
    w_add(out, name.ptr, name.len);
    w_add(out, "_sum{", 5);
    w_add(out, tags.ptr, tags.len);
    snprintf(num, sizeof(num), "%.32g", c->sum);
    w_printf(out, "} %s\n", num);
    w_add(out, name.ptr, name.len);
    w_add(out, "_count{", 7);
    w_add(out, tags.ptr, tags.len);
    w_printf(out, "} %llu\n", (unsigned long long)c->count);
}

static void prom_section(struct prom *pr, struct wbuf *out, struct list *l, const char *type)
{
    if (l->n > 1)
        sort_items(l->v, l->n, by_group);
    for (size_t i = 0; i < l->n && pr->err == 0;) {
        const struct item *first = &l->v[i];
        size_t name_off = pr->used;
        pb_add(pr, "envoy_", 6);
        pb_sanitized(pr, first->tx);
        size_t name_len = pr->used - name_off;
        if (pr->err != 0)
            break;
        w_add(out, "# TYPE ", 7);
        w_add(out, pr->buf + name_off, name_len);
        w_printf(out, " %s\n", type);
        size_t j = i;
        for (; j < l->n && (l->v[j].tx == first->tx || strcmp(l->v[j].tx, first->tx) == 0); j++) {
            const struct item *it = &l->v[j];
            struct or_str tags = prom_tags(pr, it->s->tags);
            /* After prom_tags: rendering a tag set may move the buffer. */
            struct or_str name = or_str_make(pr->buf + name_off, name_len);
            if (it->s->kind == OR_STAT_HISTOGRAM) {
                prom_histogram(out, name, tags, it);
                continue;
            }
            w_add(out, name.ptr, name.len);
            w_add(out, "{", 1);
            w_add(out, tags.ptr, tags.len);
            w_printf(out, "} %llu\n", (unsigned long long)it->value);
        }
        w_add(out, "\n", 1);
        i = j;
    }
}

/* ---- entry point ---- */

int or_stats_render(struct or_stats_store *st, enum or_stats_format fmt,
                    const struct or_stats_render_opts *opts, struct evbuffer *evb)
{
    struct wbuf wb = {evb, NULL, 0, 0}, *out = &wb;
    static const struct or_stats_render_opts all = {0};
    const struct or_stats_render_opts *o = opts != NULL ? opts : &all;
    struct list cg = {0}, h = {0};
    int rc = or_stats__materialize(st);
    if (rc != 0)
        return rc;

    if (fmt == OR_STATS_FMT_PROMETHEUS) {
        struct list c = {0}, g = {0};
        rc = collect(st, o, true, false, false, true, &c);
        if (rc == 0)
            rc = collect(st, o, false, true, false, true, &g);
        if (rc == 0)
            rc = collect(st, o, false, false, true, true, &h);
        struct prom pr = {st, NULL, 0, 0, NULL, NULL, st->tagsets.n, 0};
        if (rc == 0 && pr.ntagsets > 0) {
            pr.tag_off = or_stats__big_alloc(pr.ntagsets * 2 * sizeof(uint32_t));
            if (pr.tag_off == NULL)
                rc = OR_ENOMEM;
            else
                memset(pr.tag_off, 0xff, pr.ntagsets * sizeof(uint32_t));
            pr.tag_len = pr.tag_off != NULL ? pr.tag_off + pr.ntagsets : NULL;
        }
        if (rc == 0) {
            prom_section(&pr, out, &c, "counter");
            prom_section(&pr, out, &g, "gauge");
            prom_section(&pr, out, &h, "histogram");
            rc = pr.err;
        }
        or_stats__big_free(pr.tag_off, pr.ntagsets * 2 * sizeof(uint32_t));
        if (pr.buf != NULL)
            munmap(pr.buf, pr.cap);
        list_free(&c);
        list_free(&g);
        list_free(&h);
        return w_finish(out, rc);
    }

    bool want_c = o->type == OR_STATS_TYPE_ALL || o->type == OR_STATS_TYPE_COUNTERS;
    bool want_g = o->type == OR_STATS_TYPE_ALL || o->type == OR_STATS_TYPE_GAUGES;
    bool want_h = o->type == OR_STATS_TYPE_ALL || o->type == OR_STATS_TYPE_HISTOGRAMS;
    rc = collect(st, o, want_c, want_g, false, false, &cg);
    if (rc == 0)
        rc = collect(st, o, false, false, want_h, false, &h);
    if (rc != 0)
        goto done;
    if (cg.n > 1)
        sort_items(cg.v, cg.n, by_name);
    if (h.n > 1)
        sort_items(h.v, h.n, by_name);

    if (fmt == OR_STATS_FMT_TEXT) {
        for (size_t i = 0; i < cg.n; i++)
            w_printf(out, "%s: %llu\n", cg.v[i].name, (unsigned long long)cg.v[i].value);
        for (size_t i = 0; i < h.n; i++)
            text_histogram(out, &h.v[i], o->hist_mode);
        goto done;
    }

    w_add(out, "{\"stats\":[", 10);
    for (size_t i = 0; i < cg.n; i++) {
        w_printf(out, "%s{\"name\":", i ? "," : "");
        json_name(out, cg.v[i].name);
        w_printf(out, ",\"value\":%llu}", (unsigned long long)cg.v[i].value);
    }
    if (h.n > 0) {
        if (cg.n > 0)
            w_add(out, ",", 1);
        json_histograms(out, &h, o->hist_mode);
    }
    w_add(out, "]}", 2);
done:
    list_free(&cg);
    list_free(&h);
    return w_finish(out, rc);
}
