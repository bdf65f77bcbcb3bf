#include "proxy/router/route_index.h"

#include <stdlib.h>
#include <string.h>

#include "proxy/core/err.h"
#include "proxy/router/regex.h"

/* Memory budget of a vhost's regex set (program + DFA cache, grown lazily as inputs need new
 * states; a full cache is reset, never a failure). 250 regexes take ~35 KiB of program and ~180
 * KiB of cache after 20,000 distinct paths. A set that does not fit falls back to the regexes. */
#define REGEX_SET_MAX_MEM (2u << 20)
/* A key's route list gets a header dispatch from this many routes on. */
#define DISPATCH_MIN_ROUTES 8u

enum key_kind {
    KEY_PREFIX = 0, /* prefix and path_separated_prefix: key is a prefix of the path */
    KEY_EXACT,      /* path: key is the whole path */
};

/* Route indices [first, first + count) of an ids array, ascending. */
struct ri_list {
    uint32_t first;
    uint32_t count;
};

struct ri_dispatch;

/* One slot of an open-addressing hash: a distinct lower-cased path key (or, in a dispatch, a
 * header value) and the routes it selects. */
struct ri_slot {
    const char *key; /* table- or arena-owned, lower-case for path keys; NULL = empty slot */
    uint32_t len;
    uint32_t hash; /* key hash, low bit replaced by the enum key_kind (0 in a dispatch) */
    struct ri_list list;
    const struct ri_dispatch *dispatch; /* arena-owned; NULL: check the list */
};

/* Second level for a key whose routes mostly require one header to equal a value. */
struct ri_dispatch {
    struct or_str name;          /* lower-case header name (table-owned) */
    const uint32_t *ids;         /* arena-owned: rest, then each value's routes */
    struct ri_list rest;         /* routes of the key without that requirement */
    const struct ri_slot *slots; /* arena-owned, value -> list */
    uint32_t mask;
};

struct or_route_index {
    const struct ri_slot *slots; /* arena-owned, power-of-two sized; NULL when no keys */
    uint32_t mask;
    const uint32_t *ids;         /* arena-owned: the route lists of all path keys */
    const uint32_t *prefix_lens; /* arena-owned: distinct prefix key lengths, ascending */
    uint32_t n_prefix_lens;
    const uint32_t *later_min; /* arena-owned, n_prefix_lens + 1 entries: smallest route index
                                * of the keys of length >= prefix_lens[k], exact keys included;
                                * once the best match is below it, the path walk can stop */
    uint32_t n_exact;          /* exact keys (0: no need to hash the whole path) */
    const uint32_t *regex_ids; /* arena-owned: route index of each regex set pattern */
    uint32_t n_regex;
    struct or_regex_set *set; /* owned through an arena cleanup; NULL: check regex_ids */
    const uint32_t *always;   /* arena-owned: routes checked for every request */
    uint32_t n_always;
    size_t bytes;
};

/* ------------------------------------------------------------------------------------------ */
/* Hashing                                                                                     */

static inline unsigned char lc(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

#define FNV_SEED 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static inline uint64_t fnv_step(uint64_t h, unsigned char c)
{
    return (h ^ c) * FNV_PRIME;
}

static inline uint32_t fnv_final(uint64_t h)
{
    h ^= h >> 32;
    h *= 0x9e3779b97f4a7c15ULL;
    return (uint32_t)(h >> 32);
}

/* Hash with the key kind in the low bit, so both kinds share one table. */
static inline uint32_t tag(uint32_t hash, uint32_t kind)
{
    return (hash & ~1u) | kind;
}

static uint32_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = FNV_SEED;
    for (size_t i = 0; i < n; i++)
        h = fnv_step(h, (unsigned char)s[i]);
    return fnv_final(h);
}

/* `key` is lower-case; `s` is compared case-insensitively (path keys). */
static bool key_eq_ci(const char *s, const char *key, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lc((unsigned char)s[i]) != (unsigned char)key[i])
            return false;
    return true;
}

static const struct ri_slot *path_probe(const struct or_route_index *ix, const char *s, uint32_t n,
                                        uint32_t hash, uint32_t kind)
{
    hash = tag(hash, kind);
    for (uint32_t i = hash & ix->mask;; i = (i + 1) & ix->mask) {
        const struct ri_slot *sl = &ix->slots[i];
        if (sl->key == NULL)
            return NULL;
        if (sl->hash == hash && sl->len == n && key_eq_ci(s, sl->key, n))
            return sl;
    }
}

static const struct ri_slot *value_probe(const struct ri_dispatch *d, struct or_str v)
{
    uint32_t hash = tag(hash_bytes(v.ptr, v.len), 0);
    for (uint32_t i = hash & d->mask;; i = (i + 1) & d->mask) {
        const struct ri_slot *sl = &d->slots[i];
        if (sl->key == NULL)
            return NULL;
        if (sl->hash == hash && sl->len == v.len &&
            (v.len == 0 || memcmp(sl->key, v.ptr, v.len) == 0))
            return sl;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Matching                                                                                    */

struct match_ctx {
    const struct or_route_index *ix;
    const struct or_vhost *vh;
    const struct or_headers *h;
    const struct or_str *path;
    uint64_t rnd;
    uint32_t best; /* smallest fully-matching index so far; UINT32_MAX: none */
};

/* The first fully-matching route of an ascending list, if it beats the best so far. */
static void scan(struct match_ctx *c, const uint32_t *ids, uint32_t n, bool path_checked)
{
    for (uint32_t i = 0; i < n; i++) {
        uint32_t id = ids[i];
        if (id >= c->best)
            return;
        if (or_route__matches(&c->vh->routes[id], c->h, c->path, c->rnd, path_checked)) {
            c->best = id;
            return;
        }
    }
}

static void scan_slot(struct match_ctx *c, const struct ri_slot *sl)
{
    const struct ri_dispatch *d = sl->dispatch;
    if (c->ix->ids[sl->list.first] >= c->best)
        return;
    if (d == NULL) {
        scan(c, c->ix->ids + sl->list.first, sl->list.count, false);
        return;
    }
    /* Dispatched routes need the header to have exactly the hashed value; with several values
     * Envoy compares them joined, so scan the whole list then. */
    uint32_t count = 0;
    struct or_str v = OR_STR_NULL;
    for (uint32_t i = 0; i < c->h->n && count < 2; i++) {
        const struct or_header *e = &c->h->v[i];
        if (e->name.len == d->name.len && memcmp(e->name.ptr, d->name.ptr, d->name.len) == 0) {
            if (count++ == 0)
                v = e->value;
        }
    }
    if (count > 1) {
        scan(c, c->ix->ids + sl->list.first, sl->list.count, false);
        return;
    }
    scan(c, d->ids + d->rest.first, d->rest.count, false);
    if (count == 1) {
        const struct ri_slot *vs = value_probe(d, v);
        if (vs != NULL)
            scan(c, d->ids + vs->list.first, vs->list.count, false);
    }
}

static bool on_regex(void *ctx, uint32_t i)
{
    struct match_ctx *c = ctx;
    uint32_t id = c->ix->regex_ids[i];
    if (id >= c->best)
        return true;
    if (or_route__matches(&c->vh->routes[id], c->h, c->path, c->rnd, true)) {
        c->best = id;
        return true;
    }
    return false;
}

const struct or_route_entry *or_route_index_match(const struct or_route_index *ix,
                                                  const struct or_vhost *vh,
                                                  const struct or_headers *h,
                                                  const struct or_str *path, uint64_t rnd)
{
    struct match_ctx c = {ix, vh, h, path, rnd, UINT32_MAX};
    if (path != NULL) {
        struct or_str p = or_route__path_only(*path);
        if (ix->slots != NULL) {
            /* One pass: the running hash of the lower-cased path is probed at each prefix key
             * length, and at the end for exact keys. */
            uint64_t hv = FNV_SEED;
            uint32_t li = 0;
            const uint32_t nl = ix->n_prefix_lens;
            if (nl > 0 && ix->prefix_lens[0] == 0) {
                const struct ri_slot *sl = path_probe(ix, p.ptr, 0, fnv_final(hv), KEY_PREFIX);
                if (sl != NULL)
                    scan_slot(&c, sl);
                li++;
            }
            size_t stop = ix->n_exact ? p.len : 0;
            if (nl > 0 && ix->prefix_lens[nl - 1] > stop)
                stop = ix->prefix_lens[nl - 1] < p.len ? ix->prefix_lens[nl - 1] : p.len;
            for (size_t i = 0; i < stop; i++) {
                hv = fnv_step(hv, lc((unsigned char)p.ptr[i]));
                if (li < nl && ix->prefix_lens[li] == i + 1) {
                    if (c.best <= ix->later_min[li])
                        break;
                    li++;
                    const struct ri_slot *sl =
                        path_probe(ix, p.ptr, (uint32_t)i + 1, fnv_final(hv), KEY_PREFIX);
                    if (sl != NULL)
                        scan_slot(&c, sl);
                }
            }
            if (ix->n_exact && p.len <= UINT32_MAX && c.best > ix->later_min[nl]) {
                const struct ri_slot *sl =
                    path_probe(ix, p.ptr, (uint32_t)p.len, fnv_final(hv), KEY_EXACT);
                if (sl != NULL)
                    scan_slot(&c, sl);
            }
        }
        if (ix->n_regex > 0 && ix->regex_ids[0] < c.best) {
            int rc = -1;
            if (ix->set != NULL)
                rc = or_regex_set_match(ix->set, p.ptr ? p.ptr : "", p.len, on_regex, &c);
            if (rc < 0)
                scan(&c, ix->regex_ids, ix->n_regex, false);
        }
    }
    scan(&c, ix->always, ix->n_always, false);
    return c.best == UINT32_MAX ? NULL : &vh->routes[c.best];
}

size_t or_route_index_bytes(const struct or_route_index *ix)
{
    return ix->bytes;
}

bool or_route_index_has_regex_set(const struct or_route_index *ix)
{
    return ix->set != NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Building                                                                                    */

static void *ix_alloc(struct or_arena *a, struct or_route_index *ix, size_t n)
{
    if (n == 0)
        n = 1;
    ix->bytes += n;
    return or_arena_calloc(a, n);
}

static uint32_t pow2_slots(uint32_t n)
{
    uint32_t s = 8;
    while (s < n * 2 + 2)
        s *= 2;
    return s;
}

/* Finds or adds `key` (hash already tagged) in `slots`; returns the slot. A new slot borrows
 * `key`. */
static struct ri_slot *slot_upsert(struct ri_slot *slots, uint32_t mask, const char *key,
                                   uint32_t len, uint32_t hash)
{
    for (uint32_t i = hash & mask;; i = (i + 1) & mask) {
        struct ri_slot *sl = &slots[i];
        if (sl->key == NULL) {
            sl->key = key;
            sl->len = len;
            sl->hash = hash;
            return sl;
        }
        if (sl->hash == hash && sl->len == len && (len == 0 || memcmp(sl->key, key, len) == 0))
            return sl;
    }
}

/* A header requirement a dispatch can hash: the header must equal one exact, case-sensitive,
 * non-empty-or-given value, or the route cannot match. */
static bool dispatchable(const struct or_header_matcher *m)
{
    if (m->invert || m->treat_missing_as_empty)
        return false;
    if (m->kind == OR_HM_STRING)
        return m->sm.kind == OR_SM_EXACT && !m->sm.ignore_case;
    /* The legacy exact_match with an empty value matches any value. */
    return m->kind == OR_HM_EXACT_LEGACY && m->sm.value.len > 0;
}

/* The route's first hashable requirement on header `name`, or NULL. */
static const struct or_header_matcher *requirement(const struct or_route_entry *r,
                                                   struct or_str name)
{
    for (uint32_t i = 0; i < r->match.n_headers; i++) {
        const struct or_header_matcher *m = &r->match.headers[i];
        if (dispatchable(m) && or_str_eq(m->name, name))
            return m;
    }
    return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Builds a dispatch for a key's ascending route list when at least half of its routes require
 * one header value; leaves *out NULL when not worth it. */
static int build_dispatch(struct or_arena *a, struct or_route_index *ix, const struct or_vhost *vh,
                          const uint32_t *ids, uint32_t n, const struct ri_dispatch **out)
{
    *out = NULL;
    if (n < DISPATCH_MIN_ROUTES)
        return 0;
    /* The header name the most routes can be dispatched on. Each distinct name is counted once
     * per route that names it first; generated configs use one name, so this stays cheap. */
    struct or_str name = OR_STR_NULL;
    uint32_t best = 0;
    for (uint32_t k = 0; k < n && best * 2 < n; k++) {
        const struct or_route_entry *r = &vh->routes[ids[k]];
        for (uint32_t q = 0; q < r->match.n_headers; q++) {
            const struct or_header_matcher *m = &r->match.headers[q];
            if (!dispatchable(m) || or_str_eq(m->name, name))
                continue;
            uint32_t same = 0;
            for (uint32_t j = 0; j < n; j++)
                same += requirement(&vh->routes[ids[j]], m->name) != NULL;
            if (same > best) {
                best = same;
                name = m->name;
            }
        }
    }
    if (best * 2 < n || best == 0)
        return 0;

    /* Per route: the value it requires of `name`, or none (ptr NULL). */
    struct or_str *val = calloc(n, sizeof(*val));
    uint32_t *slot_of = calloc(n, sizeof(*slot_of));
    if (val == NULL || slot_of == NULL) {
        free(val);
        free(slot_of);
        return OR_ENOMEM;
    }
    uint32_t n_disp = 0;
    for (uint32_t j = 0; j < n; j++) {
        const struct or_header_matcher *m = requirement(&vh->routes[ids[j]], name);
        if (m != NULL) {
            val[j] = m->sm.value.ptr ? m->sm.value : OR_STR_LIT("");
            n_disp++;
        }
    }
    int rc = OR_ENOMEM;
    struct ri_dispatch *d = ix_alloc(a, ix, sizeof(*d));
    uint32_t nslots = pow2_slots(n_disp);
    struct ri_slot *slots = ix_alloc(a, ix, sizeof(*slots) * nslots);
    uint32_t *dids = ix_alloc(a, ix, sizeof(*dids) * n);
    if (d == NULL || slots == NULL || dids == NULL)
        goto out;
    d->name = name;
    d->mask = nslots - 1;
    for (uint32_t j = 0; j < n; j++) {
        if (val[j].ptr == NULL) {
            d->rest.count++;
            continue;
        }
        struct ri_slot *sl = slot_upsert(slots, d->mask, val[j].ptr, (uint32_t)val[j].len,
                                         tag(hash_bytes(val[j].ptr, val[j].len), 0));
        sl->list.count++;
        slot_of[j] = (uint32_t)(sl - slots);
    }
    /* Lay out: rest first, then each value's routes; ids stay ascending within each list. */
    uint32_t off = d->rest.count;
    for (uint32_t s = 0; s < nslots; s++) {
        if (slots[s].key != NULL) {
            slots[s].list.first = off;
            off += slots[s].list.count;
            slots[s].list.count = 0;
        }
    }
    d->rest.count = 0;
    for (uint32_t j = 0; j < n; j++) {
        if (val[j].ptr == NULL) {
            dids[d->rest.count++] = ids[j];
        } else {
            struct ri_slot *sl = &slots[slot_of[j]];
            dids[sl->list.first + sl->list.count++] = ids[j];
        }
    }
    d->ids = dids;
    d->slots = slots;
    *out = d;
    rc = 0;
out:
    free(val);
    free(slot_of);
    return rc;
}

static void set_cleanup(void *p)
{
    or_regex_set_free(p);
}

/* One RE2 set over the vhost's path regexes; leaves ix->set NULL when it cannot be built (the
 * regex routes are then checked one by one, as before). */
static int build_regex_set(struct or_arena *a, struct or_route_index *ix, const struct or_vhost *vh)
{
    if (ix->n_regex < 2)
        return 0;
    struct or_regex_set *s = or_regex_set_new(REGEX_SET_MAX_MEM);
    if (s == NULL)
        return OR_ENOMEM;
    for (uint32_t i = 0; i < ix->n_regex; i++) {
        struct or_str pat = vh->routes[ix->regex_ids[i]].match.path;
        int rc = or_regex_set_add(s, pat.ptr ? pat.ptr : "", pat.len, NULL);
        if (rc != (int)i) {
            /* Cannot happen for a pattern RE2 compiled alone; stay correct regardless. */
            or_regex_set_free(s);
            return rc == OR_ENOMEM ? OR_ENOMEM : 0;
        }
    }
    if (or_regex_set_compile(s) != 0) {
        or_regex_set_free(s);
        return 0;
    }
    if (or_arena_on_cleanup(a, set_cleanup, s) != 0) {
        or_regex_set_free(s);
        return OR_ENOMEM;
    }
    ix->set = s;
    return 0;
}

/* Lower-case key of a prefix/exact route: its own path when already lower-case (the usual
 * case), else a copy in `scratch` (at least len bytes). */
static const char *lower_key(struct or_str path, char *scratch)
{
    size_t i = 0;
    while (i < path.len && lc((unsigned char)path.ptr[i]) == (unsigned char)path.ptr[i])
        i++;
    if (i == path.len)
        return path.ptr ? path.ptr : "";
    for (i = 0; i < path.len; i++)
        scratch[i] = (char)lc((unsigned char)path.ptr[i]);
    return scratch;
}

/* Which structure of the index a route goes to. */
enum ix_kind {
    IX_KEYED,  /* prefix, path_separated_prefix, exact: the key hash */
    IX_REGEX,  /* the RE2 set */
    IX_ALWAYS, /* checked on every request */
    IX_N_KINDS,
};

static enum ix_kind ix_kind(const struct or_route_match *m)
{
    switch (m->path_kind) {
    case OR_PATH_PREFIX:
    case OR_PATH_SEPARATED_PREFIX:
    case OR_PATH_EXACT:
        /* Keys beyond 2 GiB cannot come from a config; the guard keeps lengths in 32 bits. */
        return m->path.len < UINT32_MAX / 2 ? IX_KEYED : IX_ALWAYS;
    case OR_PATH_REGEX:
        return IX_REGEX;
    default:
        return IX_ALWAYS;
    }
}

/* The prefix/exact part: keys hashed first into a scratch table sized for every route, then
 * moved to an arena table sized for the distinct keys (one prefix with 250 header variants is
 * one key, not 250). */
static int build_keys(struct or_arena *a, struct or_route_index *ix, const struct or_vhost *vh,
                      uint32_t n_keyed)
{
    const uint32_t n = vh->n_routes;
    int rc = OR_ENOMEM;
    uint32_t tslots = pow2_slots(n_keyed);
    size_t scratch_len = 0;
    for (uint32_t i = 0; i < n; i++)
        if (vh->routes[i].match.path_kind != OR_PATH_REGEX)
            scratch_len += vh->routes[i].match.path.len;
    struct ri_slot *tmp = calloc(tslots, sizeof(*tmp));
    uint32_t *slot_of = malloc(sizeof(*slot_of) * n);
    uint32_t *moved = malloc(sizeof(*moved) * tslots);
    uint32_t *lens = malloc(sizeof(*lens) * n_keyed);
    char *scratch = malloc(scratch_len + 1);
    if (tmp == NULL || slot_of == NULL || moved == NULL || lens == NULL || scratch == NULL)
        goto out;

    uint32_t n_keys = 0, n_lens = 0;
    size_t soff = 0;
    for (uint32_t i = 0; i < n; i++) {
        const struct or_route_entry *r = &vh->routes[i];
        slot_of[i] = UINT32_MAX;
        if (ix_kind(&r->match) != IX_KEYED)
            continue;
        uint32_t len = (uint32_t)r->match.path.len;
        const char *key = lower_key(r->match.path, scratch + soff);
        uint32_t kind = r->match.path_kind == OR_PATH_EXACT ? KEY_EXACT : KEY_PREFIX;
        struct ri_slot *sl =
            slot_upsert(tmp, tslots - 1, key, len, tag(hash_bytes(key, len), kind));
        if (sl->list.count++ == 0) {
            n_keys++;
            if (key == scratch + soff)
                soff += len; /* keep the copy: the slot borrows it */
            if (kind == KEY_EXACT)
                ix->n_exact++;
            else
                lens[n_lens++] = len;
        }
        slot_of[i] = (uint32_t)(sl - tmp);
    }

    uint32_t nslots = pow2_slots(n_keys);
    struct ri_slot *slots = ix_alloc(a, ix, sizeof(*slots) * nslots);
    uint32_t *ids = ix_alloc(a, ix, sizeof(*ids) * n_keyed);
    if (slots == NULL || ids == NULL)
        goto out;
    uint32_t off = 0;
    for (uint32_t t = 0; t < tslots; t++) {
        const struct ri_slot *ts = &tmp[t];
        if (ts->key == NULL)
            continue;
        const char *key = ts->key;
        if (key >= scratch && key <= scratch + scratch_len) {
            char *copy = ix_alloc(a, ix, ts->len + 1);
            if (copy == NULL)
                goto out;
            memcpy(copy, key, ts->len);
            key = copy;
        }
        struct ri_slot *sl = slot_upsert(slots, nslots - 1, key, ts->len, ts->hash);
        sl->list.first = off;
        off += ts->list.count;
        moved[t] = (uint32_t)(sl - slots);
    }
    /* Routes are visited in config order, so every list comes out ascending. */
    for (uint32_t i = 0; i < n; i++) {
        if (slot_of[i] == UINT32_MAX)
            continue;
        struct ri_slot *sl = &slots[moved[slot_of[i]]];
        ids[sl->list.first + sl->list.count++] = i;
    }
    for (uint32_t s = 0; s < nslots; s++) {
        if (slots[s].key == NULL)
            continue;
        rc = build_dispatch(a, ix, vh, ids + slots[s].list.first, slots[s].list.count,
                            &slots[s].dispatch);
        if (rc != 0)
            goto out;
    }
    rc = OR_ENOMEM;

    qsort(lens, n_lens, sizeof(*lens), cmp_u32);
    uint32_t *pl = ix_alloc(a, ix, sizeof(*pl) * (n_lens ? n_lens : 1));
    /* later_min[k]: the smallest route index over prefix keys of length >= pl[k] and exact
     * keys; later_min[n_prefix_lens] covers exact keys alone. */
    uint32_t *lm = ix_alloc(a, ix, sizeof(*lm) * (n_lens + 1));
    if (pl == NULL || lm == NULL)
        goto out;
    for (uint32_t k = 0; k < n_lens; k++)
        if (ix->n_prefix_lens == 0 || pl[ix->n_prefix_lens - 1] != lens[k])
            pl[ix->n_prefix_lens++] = lens[k];
    for (uint32_t k = 0; k <= ix->n_prefix_lens; k++)
        lm[k] = UINT32_MAX;
    for (uint32_t s = 0; s < nslots; s++) {
        const struct ri_slot *sl = &slots[s];
        if (sl->key == NULL)
            continue;
        uint32_t k = ix->n_prefix_lens;
        if ((sl->hash & 1u) == KEY_PREFIX)
            for (k = 0; pl[k] != sl->len;)
                k++;
        if (ids[sl->list.first] < lm[k])
            lm[k] = ids[sl->list.first];
    }
    for (uint32_t k = ix->n_prefix_lens; k-- > 0;)
        if (lm[k + 1] < lm[k])
            lm[k] = lm[k + 1];
    ix->prefix_lens = pl;
    ix->later_min = lm;
    ix->slots = slots;
    ix->mask = nslots - 1;
    ix->ids = ids;
    rc = 0;
out:
    free(tmp);
    free(slot_of);
    free(moved);
    free(lens);
    free(scratch);
    return rc;
}

int or_route_index_build(struct or_arena *a, const struct or_vhost *vh, struct or_route_index **out)
{
    const uint32_t n = vh->n_routes;
    struct or_route_index tmp = {0};
    struct or_route_index *ix = ix_alloc(a, &tmp, sizeof(*ix));
    if (ix == NULL)
        return OR_ENOMEM;
    ix->bytes = tmp.bytes;

    uint32_t counts[IX_N_KINDS] = {0};
    for (uint32_t i = 0; i < n; i++)
        counts[ix_kind(&vh->routes[i].match)]++;
    uint32_t n_keyed = counts[IX_KEYED];
    uint32_t *regex_ids = ix_alloc(a, ix, sizeof(*regex_ids) * counts[IX_REGEX]);
    uint32_t *always = ix_alloc(a, ix, sizeof(*always) * counts[IX_ALWAYS]);
    if (regex_ids == NULL || always == NULL)
        return OR_ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        enum ix_kind k = ix_kind(&vh->routes[i].match);
        if (k == IX_REGEX)
            regex_ids[ix->n_regex++] = i;
        else if (k == IX_ALWAYS)
            always[ix->n_always++] = i;
    }
    ix->regex_ids = regex_ids;
    ix->always = always;
    int rc;
    if (n_keyed && (rc = build_keys(a, ix, vh, n_keyed)) != 0)
        return rc;
    if ((rc = build_regex_set(a, ix, vh)) != 0)
        return rc;
    *out = ix;
    return 0;
}
