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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "proxy/admin/json.h"
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
    uint64_t value;          /* counter/gauge value as shown */
    bool used;
};

struct list {
    struct item *v; /* owned */
    size_t n;
};

static int collect(struct or_stats_store *st, const struct or_stats_render_opts *o, bool counters,
                   bool gauges, bool histograms, struct list *out)
{
    out->v = NULL;
    out->n = 0;
    if (st->nstats == 0)
        return 0;
    out->v = malloc(st->nstats * sizeof(*out->v));
    if (out->v == NULL)
        return OR_ENOMEM;
    for (size_t i = 0; i < st->nstats; i++) {
        const struct or_stat *s = &st->stats[i];
        if ((s->kind == OR_STAT_COUNTER && !counters) || (s->kind == OR_STAT_GAUGE && !gauges) ||
            (s->kind == OR_STAT_HISTOGRAM && !histograms))
            continue;
        struct item it = {s, 0, false};
        if (!or_stats__visible(st, s, &it.used, &it.value))
            continue;
        if (o->used_only && !it.used)
            continue;
        if (o->filter != NULL && !or_regex_partial_match(o->filter, s->name, strlen(s->name)))
            continue;
        out->v[out->n++] = it;
    }
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct item *)a)->s->name, ((const struct item *)b)->s->name);
}

/* Envoy's SymbolTable::lessThan: token by token, a name with fewer tokens first on a tie. */
static int token_cmp(const char *a, const char *b)
{
    for (;;) {
        const char *ea = strchr(a, '.'), *eb = strchr(b, '.');
        size_t la = ea ? (size_t)(ea - a) : strlen(a);
        size_t lb = eb ? (size_t)(eb - b) : strlen(b);
        int c = memcmp(a, b, la < lb ? la : lb);
        if (c != 0)
            return c;
        if (la != lb)
            return la < lb ? -1 : 1;
        if (ea == NULL || eb == NULL)
            return (ea != NULL) - (eb != NULL);
        a = ea + 1;
        b = eb + 1;
    }
}

static int by_group(const void *a, const void *b)
{
    const struct or_stat *x = ((const struct item *)a)->s, *y = ((const struct item *)b)->s;
    int c = token_cmp(x->tx_name, y->tx_name);
    return c != 0 ? c : token_cmp(x->name, y->name);
}

/* ---- text ---- */

static void add_num(struct evbuffer *out, double v)
{
    char buf[48];
    size_t n = or_stats__fmt_double(v, buf);
    evbuffer_add(out, buf, n);
}

static void text_histogram(struct evbuffer *out, const struct or_stat *s,
                           enum or_stats_hist_mode mode)
{
    const struct or_hist_main *m = s->hist;
    evbuffer_add(out, s->name, strlen(s->name));
    if (!m->used) {
        evbuffer_add(out, ": No recorded values\n", 21);
        return;
    }
    evbuffer_add(out, ": ", 2);
    if (mode == OR_STATS_HIST_SUMMARY) {
        for (unsigned i = 0; i < OR_STATS_NQUANTILES; i++) {
            evbuffer_add_printf(out, "%sP%s(", i ? " " : "", or_stats__quantile_labels[i]);
            add_num(out, m->interval.q[i]);
            evbuffer_add(out, ",", 1);
            add_num(out, m->cumulative.q[i]);
            evbuffer_add(out, ")", 1);
        }
    } else {
        for (unsigned i = 0; i < OR_STATS_NBUCKETS; i++) {
            uint64_t iv = m->interval.buckets[i], cv = m->cumulative.buckets[i];
            if (mode == OR_STATS_HIST_DISJOINT && i > 0) {
                iv -= m->interval.buckets[i - 1];
                cv -= m->cumulative.buckets[i - 1];
            }
            evbuffer_add_printf(out, "%sB%g(%llu,%llu)", i ? " " : "", or_stats__buckets[i],
                                (unsigned long long)iv, (unsigned long long)cv);
        }
    }
    evbuffer_add(out, "\n", 1);
}

/* ---- JSON ---- */

static void json_num(struct evbuffer *out, double v)
{
    if (isnan(v)) {
        evbuffer_add(out, "null", 4);
        return;
    }
    char buf[48];
    size_t n = or_stats__fmt_double(v, buf);
    evbuffer_add(out, buf, n);
}

static void json_name(struct evbuffer *out, const char *name)
{
    evbuffer_add(out, "\"", 1);
    or_json_escape(out, name, strlen(name), 0);
    evbuffer_add(out, "\"", 1);
}

static void json_histograms(struct evbuffer *out, const struct list *h,
                            enum or_stats_hist_mode mode)
{
    if (mode == OR_STATS_HIST_SUMMARY) {
        evbuffer_add_printf(out, "{\"histograms\":{\"supported_quantiles\":[");
        for (unsigned i = 0; i < OR_STATS_NQUANTILES; i++)
            evbuffer_add_printf(out, "%s%s", i ? "," : "", or_stats__quantile_labels[i]);
        evbuffer_add_printf(out, "],\"computed_quantiles\":[");
        for (size_t k = 0; k < h->n; k++) {
            const struct or_hist_main *m = h->v[k].s->hist;
            evbuffer_add_printf(out, "%s{\"name\":", k ? "," : "");
            json_name(out, h->v[k].s->name);
            evbuffer_add_printf(out, ",\"values\":[");
            for (unsigned i = 0; i < OR_STATS_NQUANTILES; i++) {
                evbuffer_add_printf(out, "%s{\"cumulative\":", i ? "," : "");
                json_num(out, m->cumulative.q[i]);
                evbuffer_add_printf(out, ",\"interval\":");
                json_num(out, m->interval.q[i]);
                evbuffer_add(out, "}", 1);
            }
            evbuffer_add(out, "]}", 2);
        }
        evbuffer_add(out, "]}}", 3);
        return;
    }
    evbuffer_add_printf(out, "{\"histograms\":[");
    for (size_t k = 0; k < h->n; k++) {
        const struct or_hist_main *m = h->v[k].s->hist;
        evbuffer_add_printf(out, "%s{\"name\":", k ? "," : "");
        json_name(out, h->v[k].s->name);
        evbuffer_add_printf(out, ",\"buckets\":[");
        for (unsigned i = 0; i < OR_STATS_NBUCKETS; i++) {
            uint64_t iv = m->interval.buckets[i], cv = m->cumulative.buckets[i];
            if (mode == OR_STATS_HIST_DISJOINT && i > 0) {
                iv -= m->interval.buckets[i - 1];
                cv -= m->cumulative.buckets[i - 1];
            }
            evbuffer_add_printf(out, "%s{\"upper_bound\":", i ? "," : "");
            json_num(out, or_stats__buckets[i]);
            evbuffer_add_printf(out, ",\"interval\":%llu,\"cumulative\":%llu}",
                                (unsigned long long)iv, (unsigned long long)cv);
        }
        evbuffer_add(out, "]}", 2);
    }
    evbuffer_add(out, "]}", 2);
}

/* ---- Prometheus ---- */

static void prom_sanitized(struct evbuffer *out, const char *s)
{
    char buf[256];
    size_t n = 0;
    for (; *s != '\0'; s++) {
        char c = *s;
        bool ok =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        buf[n++] = ok ? c : '_';
        if (n == sizeof(buf)) {
            evbuffer_add(out, buf, n);
            n = 0;
        }
    }
    evbuffer_add(out, buf, n);
}

static void prom_value_escaped(struct evbuffer *out, const char *s)
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
        evbuffer_add(out, s, (size_t)(p - s));
        if (esc == NULL)
            return;
        evbuffer_add(out, esc, strlen(esc));
        s = p + 1;
    }
}

/* name="value",... without braces; returns whether anything was written. */
static bool prom_tags(struct evbuffer *out, const struct or_stat *s)
{
    for (uint32_t i = 0; i < s->ntags; i++) {
        if (i > 0)
            evbuffer_add(out, ",", 1);
        prom_sanitized(out, s->tag_names[i]);
        evbuffer_add(out, "=\"", 2);
        prom_value_escaped(out, s->tag_values[i]);
        evbuffer_add(out, "\"", 1);
    }
    return s->ntags > 0;
}

static void prom_name(struct evbuffer *out, const struct or_stat *s, const char *suffix)
{
    evbuffer_add(out, "envoy_", 6);
    prom_sanitized(out, s->tx_name);
    evbuffer_add(out, suffix, strlen(suffix));
}

static void prom_histogram(struct evbuffer *out, const struct or_stat *s)
{
    const struct or_hist_summary *c = &s->hist->cumulative;
    char num[64];
    for (unsigned i = 0; i <= OR_STATS_NBUCKETS; i++) {
        prom_name(out, s, "_bucket{");
        if (prom_tags(out, s))
            evbuffer_add(out, ",", 1);
        if (i < OR_STATS_NBUCKETS) {
            snprintf(num, sizeof(num), "%.32g", or_stats__buckets[i]);
            evbuffer_add_printf(out, "le=\"%s\"} %llu\n", num, (unsigned long long)c->buckets[i]);
        } else {
            evbuffer_add_printf(out, "le=\"+Inf\"} %llu\n", (unsigned long long)c->count);
        }
    }
    prom_name(out, s, "_sum{");
    prom_tags(out, s);
    snprintf(num, sizeof(num), "%.32g", c->sum);
    evbuffer_add_printf(out, "} %s\n", num);
    prom_name(out, s, "_count{");
    prom_tags(out, s);
    evbuffer_add_printf(out, "} %llu\n", (unsigned long long)c->count);
}

static void prom_section(struct evbuffer *out, struct list *l, const char *type)
{
    qsort(l->v, l->n, sizeof(*l->v), by_group);
    for (size_t i = 0; i < l->n;) {
        const struct or_stat *first = l->v[i].s;
        evbuffer_add(out, "# TYPE ", 7);
        prom_name(out, first, "");
        evbuffer_add_printf(out, " %s\n", type);
        size_t j = i;
        for (; j < l->n && strcmp(l->v[j].s->tx_name, first->tx_name) == 0; j++) {
            const struct or_stat *s = l->v[j].s;
            if (s->kind == OR_STAT_HISTOGRAM) {
                prom_histogram(out, s);
                continue;
            }
            prom_name(out, s, "{");
            prom_tags(out, s);
            evbuffer_add_printf(out, "} %llu\n", (unsigned long long)l->v[j].value);
        }
        evbuffer_add(out, "\n", 1);
        i = j;
    }
}

/* ---- entry point ---- */

int or_stats_render(struct or_stats_store *st, enum or_stats_format fmt,
                    const struct or_stats_render_opts *opts, struct evbuffer *out)
{
    static const struct or_stats_render_opts all = {0};
    const struct or_stats_render_opts *o = opts != NULL ? opts : &all;
    struct list cg = {0}, h = {0};
    int rc = or_stats__materialize(st);
    if (rc != 0)
        return rc;

    if (fmt == OR_STATS_FMT_PROMETHEUS) {
        struct list c = {0}, g = {0};
        rc = collect(st, o, true, false, false, &c);
        if (rc == 0)
            rc = collect(st, o, false, true, false, &g);
        if (rc == 0)
            rc = collect(st, o, false, false, true, &h);
        if (rc == 0) {
            prom_section(out, &c, "counter");
            prom_section(out, &g, "gauge");
            prom_section(out, &h, "histogram");
        }
        free(c.v);
        free(g.v);
        free(h.v);
        return rc;
    }

    bool want_c = o->type == OR_STATS_TYPE_ALL || o->type == OR_STATS_TYPE_COUNTERS;
    bool want_g = o->type == OR_STATS_TYPE_ALL || o->type == OR_STATS_TYPE_GAUGES;
    bool want_h = o->type == OR_STATS_TYPE_ALL || o->type == OR_STATS_TYPE_HISTOGRAMS;
    rc = collect(st, o, want_c, want_g, false, &cg);
    if (rc == 0)
        rc = collect(st, o, false, false, want_h, &h);
    if (rc != 0)
        goto done;
    qsort(cg.v, cg.n, sizeof(*cg.v), by_name);
    qsort(h.v, h.n, sizeof(*h.v), by_name);

    if (fmt == OR_STATS_FMT_TEXT) {
        for (size_t i = 0; i < cg.n; i++)
            evbuffer_add_printf(out, "%s: %llu\n", cg.v[i].s->name,
                                (unsigned long long)cg.v[i].value);
        for (size_t i = 0; i < h.n; i++)
            text_histogram(out, h.v[i].s, o->hist_mode);
        goto done;
    }

    evbuffer_add(out, "{\"stats\":[", 10);
    for (size_t i = 0; i < cg.n; i++) {
        evbuffer_add_printf(out, "%s{\"name\":", i ? "," : "");
        json_name(out, cg.v[i].s->name);
        evbuffer_add_printf(out, ",\"value\":%llu}", (unsigned long long)cg.v[i].value);
    }
    if (h.n > 0) {
        if (cg.n > 0)
            evbuffer_add(out, ",", 1);
        json_histograms(out, &h, o->hist_mode);
    }
    evbuffer_add(out, "]}", 2);
done:
    free(cg.v);
    free(h.v);
    return rc;
}
