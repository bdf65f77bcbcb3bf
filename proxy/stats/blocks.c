/* Registration of Envoy's stat blocks (blocks.h) and the server gauges refresh. */
#include <malloc.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "proxy/server/state.h"
#include "proxy/stats/blocks.h"
#include "proxy/stats/stats.h"
#include "proxy/stats/stats_internal.h"

struct desc {
    const char *name;
    enum or_stat_kind kind;
    size_t off;
};

#define D_C(T, f, n) {n, OR_STAT_COUNTER, offsetof(T, f)},
#define D_G(T, f, n) {n, OR_STAT_GAUGE, offsetof(T, f)},
#define D_H(T, f, n) {n, OR_STAT_HISTOGRAM, offsetof(T, f)},

#define SERVER_C(f, n) D_C(struct or_server_stats, f, n)
#define SERVER_G(f, n) D_G(struct or_server_stats, f, n)
#define SERVER_H(f, n) D_H(struct or_server_stats, f, n)
static const struct desc server_desc[] = {OR_STATS_SERVER(SERVER_C, SERVER_G, SERVER_H)};

#define HTTP_C(f, n) D_C(struct or_http_stats, f, n)
#define HTTP_G(f, n) D_G(struct or_http_stats, f, n)
#define HTTP_H(f, n) D_H(struct or_http_stats, f, n)
static const struct desc http_desc[] = {OR_STATS_HTTP(HTTP_C, HTTP_G, HTTP_H)};

#define HTTPL_C(f, n) D_C(struct or_http_listener_stats, f, n)
#define HTTPL_G(f, n) D_G(struct or_http_listener_stats, f, n)
#define HTTPL_H(f, n) D_H(struct or_http_listener_stats, f, n)
static const struct desc http_listener_desc[] = {OR_STATS_HTTP_LISTENER(HTTPL_C, HTTPL_G, HTTPL_H)};

#define LIS_C(f, n) D_C(struct or_listener_stats, f, n)
#define LIS_G(f, n) D_G(struct or_listener_stats, f, n)
#define LIS_H(f, n) D_H(struct or_listener_stats, f, n)
static const struct desc listener_desc[] = {OR_STATS_LISTENER(LIS_C, LIS_G, LIS_H)};

#define LM_C(f, n) D_C(struct or_listener_manager_stats, f, n)
#define LM_G(f, n) D_G(struct or_listener_manager_stats, f, n)
#define LM_H(f, n) D_H(struct or_listener_manager_stats, f, n)
static const struct desc listener_manager_desc[] = {OR_STATS_LISTENER_MANAGER(LM_C, LM_G, LM_H)};

#define CM_C(f, n) D_C(struct or_cluster_manager_stats, f, n)
#define CM_G(f, n) D_G(struct or_cluster_manager_stats, f, n)
#define CM_H(f, n) D_H(struct or_cluster_manager_stats, f, n)
static const struct desc cluster_manager_desc[] = {OR_STATS_CLUSTER_MANAGER(CM_C, CM_G, CM_H)};

#define CP_C(f, n) D_C(struct or_control_plane_stats, f, n)
#define CP_G(f, n) D_G(struct or_control_plane_stats, f, n)
#define CP_H(f, n) D_H(struct or_control_plane_stats, f, n)
static const struct desc control_plane_desc[] = {OR_STATS_CONTROL_PLANE(CP_C, CP_G, CP_H)};

#define CL_C(f, n) D_C(struct or_cluster_stats, f, n)
#define CL_G(f, n) D_G(struct or_cluster_stats, f, n)
#define CL_H(f, n) D_H(struct or_cluster_stats, f, n)
static const struct desc cluster_desc[] = {OR_STATS_CLUSTER(CL_C, CL_G, CL_H)};

#define NDESC(a) (sizeof(a) / sizeof((a)[0]))

#define NAME_MAX_LEN 4096

static int register_block(struct or_stats_store *st, const char *prefix, const struct desc *d,
                          size_t n, void *out)
{
    if (strlen(prefix) + 1 > NAME_MAX_LEN / 2)
        return OR_EINVAL;
    /* The prefix is interned once and each suffix is a static string: no name is built. */
    uint32_t p = or_stats__prefix(st, prefix);
    for (size_t i = 0; i < n; i++) {
        uint32_t h = p != 0 ? or_stats__register_split(st, d[i].kind, p, d[i].name, 0) : 0;
        memcpy((char *)out + d[i].off, &h, sizeof(h));
    }
    return 0;
}

/* "<head><sanitized part>." into buf; OR_EINVAL when it does not fit. */
static int scope_prefix(char *buf, size_t len, const char *head, const char *part)
{
    size_t hl = strlen(head);
    if (hl + 2 > len)
        return OR_EINVAL;
    memcpy(buf, head, hl);
    size_t n = or_stats_sanitize_name(part, strlen(part), buf + hl, len - hl - 1);
    if (hl + n + 2 > len)
        return OR_EINVAL;
    buf[hl + n] = '.';
    buf[hl + n + 1] = '\0';
    return 0;
}

int or_stats_register_server(struct or_stats_store *st, struct or_server_stats *out)
{
    if (st == NULL || out == NULL)
        return OR_EINVAL;
    return register_block(st, "server.", server_desc, NDESC(server_desc), out);
}

int or_stats_register_http(struct or_stats_store *st, const char *stat_prefix,
                           struct or_http_stats *out)
{
    char prefix[NAME_MAX_LEN / 2];
    if (st == NULL || stat_prefix == NULL || out == NULL ||
        scope_prefix(prefix, sizeof(prefix), "http.", stat_prefix) != 0)
        return OR_EINVAL;
    return register_block(st, prefix, http_desc, NDESC(http_desc), out);
}

int or_stats_register_http_listener(struct or_stats_store *st, const char *listener,
                                    const char *stat_prefix, struct or_http_listener_stats *out)
{
    char a[NAME_MAX_LEN / 4], prefix[NAME_MAX_LEN / 2];
    if (st == NULL || listener == NULL || stat_prefix == NULL || out == NULL ||
        scope_prefix(a, sizeof(a), "listener.", listener) != 0)
        return OR_EINVAL;
    int n = snprintf(prefix, sizeof(prefix), "%shttp.", a);
    if (n < 0 || (size_t)n >= sizeof(prefix) ||
        scope_prefix(a, sizeof(a), prefix, stat_prefix) != 0)
        return OR_EINVAL;
    return register_block(st, a, http_listener_desc, NDESC(http_listener_desc), out);
}

int or_stats_register_listener(struct or_stats_store *st, const char *listener,
                               struct or_listener_stats *out)
{
    char prefix[NAME_MAX_LEN / 2];
    if (st == NULL || listener == NULL || out == NULL ||
        scope_prefix(prefix, sizeof(prefix), "listener.", listener) != 0)
        return OR_EINVAL;
    return register_block(st, prefix, listener_desc, NDESC(listener_desc), out);
}

int or_stats_register_listener_manager(struct or_stats_store *st,
                                       struct or_listener_manager_stats *out)
{
    if (st == NULL || out == NULL)
        return OR_EINVAL;
    return register_block(st, "listener_manager.", listener_manager_desc,
                          NDESC(listener_manager_desc), out);
}

int or_stats_register_cluster_manager(struct or_stats_store *st,
                                      struct or_cluster_manager_stats *out)
{
    if (st == NULL || out == NULL)
        return OR_EINVAL;
    return register_block(st, "cluster_manager.", cluster_manager_desc, NDESC(cluster_manager_desc),
                          out);
}

int or_stats_register_control_plane(struct or_stats_store *st, struct or_control_plane_stats *out)
{
    if (st == NULL || out == NULL)
        return OR_EINVAL;
    return register_block(st, "control_plane.", control_plane_desc, NDESC(control_plane_desc), out);
}

int or_stats_register_cluster(struct or_stats_store *st, const char *name,
                              struct or_cluster_stats *out)
{
    static const char *const cat_prefix[OR_RQ_NCATEGORIES] = {"", "external.", "internal."};
    static const char *const cls_name[5] = {"upstream_rq_1xx", "upstream_rq_2xx", "upstream_rq_3xx",
                                            "upstream_rq_4xx", "upstream_rq_5xx"};
    char prefix[NAME_MAX_LEN / 2], cat[NAME_MAX_LEN / 2 + 16], stem[32];
    if (st == NULL || name == NULL || out == NULL ||
        scope_prefix(prefix, sizeof(prefix), "cluster.", name) != 0)
        return OR_EINVAL;
    int rc = register_block(st, prefix, cluster_desc, NDESC(cluster_desc), out);
    if (rc != 0)
        return rc;
    struct or_cluster_rq_stats *rq = &out->rq;
    for (unsigned c = 0; c < OR_RQ_NCATEGORIES; c++) {
        snprintf(cat, sizeof(cat), "%s%s", prefix, cat_prefix[c]);
        uint32_t p = or_stats__prefix(st, cat);
        /* upstream_rq_completed of ALL is the eager block counter (same name, same handle). */
        rq->completed[c] = or_stats__register_split(st, OR_STAT_COUNTER, p, "upstream_rq_completed",
                                                    OR_STATS_F_LAZY);
        for (unsigned k = 0; k < 5; k++)
            rq->cls[c][k] =
                or_stats__register_split(st, OR_STAT_COUNTER, p, cls_name[k], OR_STATS_F_LAZY);
        snprintf(stem, sizeof(stem), "%supstream_rq_", cat_prefix[c]);
        rq->codes[c] = or_stats_counter_group(st, prefix, stem, OR_RQ_CODE_FIRST, OR_RQ_CODE_COUNT);
        rq->rq_time[c] =
            or_stats__register_split(st, OR_STAT_HISTOGRAM, p, "upstream_rq_time", OR_STATS_F_LAZY);
    }
    return 0;
}

void or_stats_server_refresh(struct or_stats_store *st, const struct or_server_stats *ss,
                             int server_state, uint64_t uptime_s)
{
    or_gauge_set_main(st, ss->state, (uint64_t)server_state);
    or_gauge_set_main(st, ss->live, server_state == OR_SERVER_LIVE ? 1 : 0);
    or_gauge_set_main(st, ss->uptime, uptime_s);
    struct mallinfo2 mi = mallinfo2();
    or_gauge_set_main(st, ss->memory_allocated, (uint64_t)(mi.uordblks + mi.hblkhd));
    or_gauge_set_main(st, ss->memory_heap_size, (uint64_t)(mi.arena + mi.hblkhd));
    FILE *f = fopen("/proc/self/statm", "r");
    if (f != NULL) {
        unsigned long long size = 0, resident = 0;
        if (fscanf(f, "%llu %llu", &size, &resident) == 2)
            or_gauge_set_main(st, ss->memory_physical_size,
                              resident * (unsigned long long)sysconf(_SC_PAGESIZE));
        fclose(f);
    }
}

uint64_t or_stats_version_number(const char *sha)
{
    uint64_t v = 0;
    for (int i = 0; i < 6; i++) {
        char c = sha != NULL ? sha[i] : '\0';
        int d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return 0;
        v = v * 16 + (uint64_t)d;
    }
    return v;
}
