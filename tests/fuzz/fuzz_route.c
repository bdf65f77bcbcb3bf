/* libFuzzer target: arbitrary :authority, :path and headers against a fixed route table, then
 * every per-request operation on the matched route (weighted pick, path rewrite, redirect
 * Location).
 *
 * Input: lines separated by '\n'. Line 1 is :authority, line 2 is :path, each further line is a
 * header "name:value" (no ':' = name with an empty value; a leading ':' is part of the name, so
 * ":method:CONNECT" sets :method). The first 8 bytes, when present, also seed the random value. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/router/route_table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct or_route_table *table;

static void must(int rc)
{
    if (rc != 0)
        abort();
}

static void route(struct or_route_builder *b, const char *name, enum or_path_match k, const char *p)
{
    must(or_route_builder_add_route(b, name));
    if (k == OR_PATH_REGEX)
        must(or_route_builder_match_regex(b, p, strlen(p), 0, false, NULL));
    else
        must(or_route_builder_match_path(b, k, p, p ? strlen(p) : 0, NULL));
}

static void header(struct or_route_builder *b, const char *name, enum or_header_match_kind kind,
                   enum or_string_match_kind sk, const char *v, bool ic, bool invert)
{
    struct or_header_match_spec s = {.name = name, .kind = kind, .invert = invert};
    s.sm.kind = sk;
    s.sm.value = v;
    s.sm.len = v ? strlen(v) : 0;
    s.sm.ignore_case = ic;
    s.present = true;
    s.range_start = -100;
    s.range_end = 100;
    must(or_route_builder_match_header(b, &s, NULL));
}

static struct or_route_table *build(void)
{
    struct or_route_builder *b = or_route_builder_new("fuzz", "route_config");
    if (b == NULL)
        abort();
    static const char *const domains[][4] = {
        {"exact.com", "exact.com:8080", NULL},
        {"*.suffix.com", "*-x.suffix.com", NULL},
        {"prefix.*", "p.*", NULL},
        {"*", NULL},
    };
    for (int v = 0; v < 4; v++) {
        char name[8] = "vh0";
        name[2] = (char)('0' + v);
        must(or_route_builder_add_vhost(b, name));
        for (int d = 0; domains[v][d] != NULL; d++)
            must(or_route_builder_add_domain(b, domains[v][d], strlen(domains[v][d])));

        route(b, "connect", OR_PATH_CONNECT, NULL);
        must(or_route_builder_action_cluster(b, "connect"));

        route(b, "exact", OR_PATH_EXACT, "/exact");
        must(or_route_builder_case_sensitive(b, false));
        must(or_route_builder_prefix_rewrite(b, "/rewritten", 10));
        must(or_route_builder_action_cluster(b, "c1"));

        route(b, "regex", OR_PATH_REGEX, "/re/[a-z]+/(\\d+)?");
        must(or_route_builder_prefix_rewrite(b, "/r", 2));
        must(or_route_builder_action_cluster(b, "c2"));

        route(b, "sep", OR_PATH_SEPARATED_PREFIX, "/sep");
        header(b, "x-range", OR_HM_RANGE, OR_SM_EXACT, NULL, false, false);
        must(or_route_builder_action_weighted(b, "w1", 1));
        must(or_route_builder_action_weighted(b, "w2", 0));
        must(or_route_builder_action_weighted(b, "w3", 7));

        route(b, "headers", OR_PATH_PREFIX, "/h");
        header(b, "x-a", OR_HM_STRING, OR_SM_PREFIX, "ab", true, false);
        header(b, "x-b", OR_HM_STRING, OR_SM_REGEX, "[0-9]{2,4}", false, true);
        header(b, "x-c", OR_HM_STRING, OR_SM_CONTAINS, "Mid", true, false);
        header(b, "x-d", OR_HM_EXACT_LEGACY, OR_SM_EXACT, "", false, false);
        must(or_route_builder_action_cluster_header(b, "x-cluster"));

        route(b, "present", OR_PATH_PREFIX, "/p");
        header(b, "x-p", OR_HM_PRESENT, OR_SM_EXACT, NULL, false, true);
        header(b, "x-s", OR_HM_STRING, OR_SM_SUFFIX, "end", false, false);
        must(or_route_builder_match_query(
            b, "q", &(struct or_string_match_spec){.kind = OR_SM_EXACT, .value = "1", .len = 1},
            NULL));
        must(or_route_builder_match_query(b, "flag", NULL, NULL));
        must(or_route_builder_action_direct(b, 302, "moved", 5));

        route(b, "grpc", OR_PATH_PREFIX, "/g");
        must(or_route_builder_match_grpc(b));
        must(or_route_builder_runtime_fraction(b, 50, 100, NULL));
        must(or_route_builder_action_cluster(b, "grpc"));

        static const struct or_redirect_action ras[] = {
            {.scheme = OR_STR_LIT("https"), .strip_query = true},
            {.host = OR_STR_LIT("h.example"), .port = 8443, .status = 307},
            {.path_kind = OR_REDIRECT_PATH_REPLACE, .path = OR_STR_LIT("/new?x=1")},
            {.path_kind = OR_REDIRECT_PATH_REPLACE, .path = OR_STR_LIT("rel")},
            {.path_kind = OR_REDIRECT_PREFIX, .path = OR_STR_LIT("/pre")},
        };
        for (size_t i = 0; i < sizeof(ras) / sizeof(ras[0]); i++) {
            char p[4] = "/r0";
            p[2] = (char)('0' + i);
            route(b, "redirect", OR_PATH_PREFIX, p);
            must(or_route_builder_action_redirect(b, &ras[i]));
        }

        route(b, "all", OR_PATH_PREFIX, "");
        must(or_route_builder_action_cluster(b, "all"));
    }
    struct or_route_table *t = NULL;
    must(or_route_builder_finish(b, &t, NULL));
    return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (table == NULL)
        table = build();
    struct or_arena arena;
    or_arena_init(&arena, 0);
    struct or_headers h;
    or_headers_init(&h, &arena);

    uint64_t rnd = 0;
    if (size >= 8)
        memcpy(&rnd, data, 8);
    const char *p = (const char *)data, *end = p + size;
    int line = 0;
    while (p <= end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t len = (size_t)(le - p);
        if (line == 0)
            or_headers_add(&h, ":authority", 10, p, len);
        else if (line == 1)
            or_headers_add(&h, ":path", 5, p, len);
        else if (len > 0) {
            const char *colon = memchr(p + 1, ':', len - 1);
            if (colon == NULL)
                or_headers_add(&h, p, len, "", 0);
            else
                or_headers_add(&h, p, (size_t)(colon - p), colon + 1, (size_t)(le - colon - 1));
        }
        line++;
        if (nl == NULL)
            break;
        p = nl + 1;
    }

    const struct or_vhost *vh = NULL;
    const struct or_route_entry *r = or_route_table_match_ex(table, &h, rnd, &vh);
    if (r != NULL) {
        if (r->vhost != vh)
            abort();
        if (r->kind == OR_ROUTE_WEIGHTED_CLUSTERS) {
            const char *c = or_route_pick_weighted(r, rnd);
            if (c == NULL || (c[0] != 'w') || strcmp(c, "w2") == 0)
                abort(); /* w2 has weight 0: never picked */
        }
        const struct or_str *path = or_headers_get(&h, ":path");
        struct or_str out;
        if (path != NULL && or_route_rewrite_path(r, *path, &arena, &out) < 0)
            abort();
        struct or_str loc;
        unsigned status = 0;
        int rc = or_route_redirect_location(r, &h, &arena, &loc, &status);
        if (rc == 0 && (loc.len < 4 || loc.ptr[loc.len] != '\0'))
            abort();
    }
    or_arena_deinit(&arena);
    return 0;
}
