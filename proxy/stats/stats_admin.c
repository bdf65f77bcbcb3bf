/* Admin endpoints over the stats store: /stats (text, json, prometheus), /stats/prometheus and
 * POST /reset_counters, with Envoy's query parameters and error messages (StatsParams::parse). */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "proxy/admin/admin.h"
#include "proxy/router/regex.h"
#include "proxy/stats/stats.h"
#include "proxy/stats/stats_admin.h"

struct params {
    struct or_stats_render_opts opts;
    enum or_stats_format fmt;
    struct or_regex *filter; /* owned */
};

/* Decoded value of `name` when present and non-empty (Envoy ignores "?format=" etc.). Returns
 * a malloc'd string or NULL. */
static char *query_value(const struct or_admin_request *req, const char *name)
{
    size_t cap = req->query.len + 1;
    char *buf = malloc(cap);
    if (buf == NULL)
        return NULL;
    ssize_t n = or_admin_query_get(req, name, buf, cap);
    if (n <= 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Fills p; on a bad parameter writes Envoy's message and returns 400. */
static int parse_params(const struct or_admin_request *req, struct evbuffer *out, struct params *p)
{
    memset(p, 0, sizeof(*p));
    p->opts.used_only = or_admin_query_has(req, "usedonly");

    char *v = query_value(req, "filter");
    if (v != NULL) {
        p->filter = or_regex_compile_ex(v, strlen(v), OR_REGEX_NO_PROGRAM_SIZE_LIMIT, false, NULL);
        free(v);
        if (p->filter == NULL) {
            evbuffer_add_printf(out, "Invalid re2 regex");
            return 400;
        }
        p->opts.filter = p->filter;
    }

    v = query_value(req, "histogram_buckets");
    if (v != NULL) {
        if (strcmp(v, "cumulative") == 0) {
            p->opts.hist_mode = OR_STATS_HIST_CUMULATIVE;
        } else if (strcmp(v, "disjoint") == 0) {
            p->opts.hist_mode = OR_STATS_HIST_DISJOINT;
        } else if (strcmp(v, "none") != 0 && strcmp(v, "summary") != 0) {
            free(v);
            evbuffer_add_printf(out,
                                "usage: /stats?histogram_buckets=(cumulative|disjoint|none)\n");
            return 400;
        }
        free(v);
    }

    v = query_value(req, "type");
    if (v != NULL) {
        static const struct {
            const char *label;
            enum or_stats_type type;
        } types[] = {{"All", OR_STATS_TYPE_ALL},
                     {"Counters", OR_STATS_TYPE_COUNTERS},
                     {"Gauges", OR_STATS_TYPE_GAUGES},
                     {"Histograms", OR_STATS_TYPE_HISTOGRAMS},
                     {"TextReadouts", OR_STATS_TYPE_TEXT_READOUTS}};
        size_t i;
        for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
            if (strcmp(v, types[i].label) == 0)
                break;
        free(v);
        if (i == sizeof(types) / sizeof(types[0])) {
            evbuffer_add_printf(out, "invalid &type= param");
            return 400;
        }
        p->opts.type = types[i].type;
    }

    v = query_value(req, "format");
    if (v != NULL) {
        int rc = 0;
        if (strcmp(v, "prometheus") == 0) {
            p->fmt = OR_STATS_FMT_PROMETHEUS;
        } else if (strcmp(v, "json") == 0) {
            p->fmt = OR_STATS_FMT_JSON;
        } else if (strcmp(v, "text") == 0) {
            p->fmt = OR_STATS_FMT_TEXT;
        } else if (strcmp(v, "html") == 0) {
            /* What an Envoy built without the admin HTML pages answers. */
            evbuffer_add_printf(out, "HTML output was disabled by building with "
                                     "--define=admin_html=disabled");
            rc = 400;
        } else if (strcmp(v, "active-html") == 0) {
            evbuffer_add_printf(out, "Active HTML output was disabled by building with "
                                     "--define=admin_html=disabled");
            rc = 400;
        } else {
            evbuffer_add_printf(out,
                                "usage: /stats?format=(html|active-html|json|prometheus|text)\n\n");
            rc = 400;
        }
        free(v);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int handle_stats(struct or_admin_request *req, struct evbuffer *out, bool prometheus,
                        struct or_stats_store *st)
{
    struct params p;
    int code = parse_params(req, out, &p);
    if (code == 0) {
        enum or_stats_format fmt = prometheus ? OR_STATS_FMT_PROMETHEUS : p.fmt;
        if (fmt == OR_STATS_FMT_JSON)
            req->content_type = OR_ADMIN_CT_JSON;
        code = or_stats_render(st, fmt, &p.opts, out) == 0 ? 200 : 500;
    }
    or_regex_free(p.filter);
    return code;
}

static int h_stats(struct or_admin_request *req, struct evbuffer *out, void *ctx)
{
    return handle_stats(req, out, false, ctx);
}

static int h_prometheus(struct or_admin_request *req, struct evbuffer *out, void *ctx)
{
    return handle_stats(req, out, true, ctx);
}

static int h_reset_counters(struct or_admin_request *req, struct evbuffer *out, void *ctx)
{
    or_stats_reset_counters(ctx);
    evbuffer_add(out, "OK\n", 3);
    return 200;
}

static const char *const format_choices[] = {"html", "active-html", "text", "json", NULL};
static const char *const type_choices[] = {"All",    "Counters",     "Histograms",
                                           "Gauges", "TextReadouts", NULL};
static const char *const bucket_choices[] = {"cumulative", "disjoint", "none", NULL};

static const struct or_admin_param stats_params[] = {
    {"usedonly", "Only include stats that have been written by system since restart", NULL},
    {"filter", "Regular expression (Google re2) for filtering stats", NULL},
    {"format", "Format to use", format_choices},
    {"type", "Stat types to include.", type_choices},
    {"histogram_buckets", "Histogram bucket display mode", bucket_choices},
    {NULL, NULL, NULL},
};

static const struct or_admin_param prometheus_params[] = {
    {"usedonly", "Only include stats that have been written by system since restart", NULL},
    {"text_readouts",
     "Render text_readouts as new gaugues with value 0 (increases Prometheus data size)", NULL},
    {"filter", "Regular expression (Google re2) for filtering stats", NULL},
    {NULL, NULL, NULL},
};

int or_stats_admin_register(struct or_admin *a, struct or_stats_store *st)
{
    const struct or_admin_handler handlers[] = {
        {"/stats", "print server stats", 0, h_stats, st, stats_params},
        {"/stats/prometheus", "print server stats in prometheus format", 0, h_prometheus, st,
         prometheus_params},
        {"/reset_counters", "reset all counters to zero", OR_ADMIN_F_MUTATES, h_reset_counters, st,
         NULL},
    };
    if (a == NULL || st == NULL)
        return OR_EINVAL;
    for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++) {
        int rc = or_admin_add_handler(a, &handlers[i]);
        if (rc != 0)
            return rc;
    }
    return 0;
}
