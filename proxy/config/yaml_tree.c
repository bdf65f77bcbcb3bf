/* YAML/JSON text -> or_ynode tree with libyaml's event parser. */
#include "proxy/config/yaml_tree.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Deep enough for any Envoy config (a Bootstrap reaches about 40 levels through an HCM Any), low
 * enough that the recursive consumers cannot exhaust the stack. */
#define MAX_DEPTH 128
/* Anchors are looked up linearly; configs use a handful. */
#define MAX_ANCHORS 4096

struct anchor {
    const char *name;      /* arena-owned */
    struct or_ynode *node; /* arena-owned */
};

struct builder {
    struct or_ytree *t;                /* borrowed */
    struct or_err_detail *err;         /* borrowed */
    struct or_ynode *stack[MAX_DEPTH]; /* open collections, arena-owned */
    size_t depth;
    struct anchor *anchors; /* arena-owned */
    size_t n_anchors;
    size_t cap_anchors;
    bool have_root;
};

bool or_ynode_is_null(const struct or_ynode *n)
{
    if (n == NULL)
        return true;
    if (n->kind != OR_YNODE_SCALAR || !n->plain)
        return false;
    return n->len == 0 || strcmp(n->str, "~") == 0 || strcmp(n->str, "null") == 0 ||
           strcmp(n->str, "Null") == 0 || strcmp(n->str, "NULL") == 0;
}

const struct or_ynode *or_ynode_get(const struct or_ynode *map, const char *key)
{
    size_t klen = strlen(key);
    if (map == NULL || map->kind != OR_YNODE_MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++) {
        const struct or_ynode *k = map->items[2 * i];
        if (k->len == klen && memcmp(k->str, key, klen) == 0)
            return map->items[2 * i + 1];
    }
    return NULL;
}

const char *or_ynode_kind_name(const struct or_ynode *n)
{
    switch (n->kind) {
    case OR_YNODE_MAP:
        return "a mapping";
    case OR_YNODE_SEQ:
        return "a list";
    case OR_YNODE_SCALAR:
        break;
    }
    return "a scalar";
}

static int ensure_cap(struct or_arena *a, struct or_ynode *n, size_t want)
{
    if (want <= n->cap)
        return 0;
    size_t cap = n->cap ? n->cap * 2 : 8;
    while (cap < want)
        cap *= 2;
    struct or_ynode **items = or_arena_alloc(a, cap * sizeof(*items));
    if (items == NULL)
        return OR_ENOMEM;
    if (n->n)
        memcpy(items, n->items, n->n * sizeof(*items));
    n->items = items;
    n->cap = cap;
    return 0;
}

static int fail(struct builder *b, const yaml_event_t *ev, const char *msg)
{
    return or_err_set(b->err, "", "invalid YAML at line %zu column %zu: %s",
                      (size_t)ev->start_mark.line + 1, (size_t)ev->start_mark.column + 1, msg);
}

static int add_child(struct builder *b, const yaml_event_t *ev, struct or_ynode *child)
{
    if (b->depth == 0) {
        if (b->have_root)
            return fail(b, ev, "more than one root node");
        b->t->root = child;
        b->have_root = true;
        return 0;
    }
    struct or_ynode *parent = b->stack[b->depth - 1];
    /* While a mapping is open its `n` counts keys and values; it becomes a pair count at close. */
    if (parent->kind == OR_YNODE_MAP && parent->n % 2 == 0 && child->kind != OR_YNODE_SCALAR)
        return fail(b, ev, "mapping keys must be scalars");
    if (ensure_cap(&b->t->arena, parent, parent->n + 1) != 0)
        return or_err_set(b->err, "", "out of memory");
    parent->items[parent->n++] = child;
    return 0;
}

static int add_anchor(struct builder *b, const yaml_event_t *ev, const yaml_char_t *name,
                      struct or_ynode *node)
{
    if (name == NULL)
        return 0;
    /* A redefined anchor shadows the old one for later aliases, as YAML says. */
    if (b->n_anchors == MAX_ANCHORS)
        return fail(b, ev, "too many anchors");
    if (b->n_anchors == b->cap_anchors) {
        size_t cap = b->cap_anchors ? b->cap_anchors * 2 : 16;
        struct anchor *a = or_arena_alloc(&b->t->arena, cap * sizeof(*a));
        if (a == NULL)
            return or_err_set(b->err, "", "out of memory");
        if (b->n_anchors)
            memcpy(a, b->anchors, b->n_anchors * sizeof(*a));
        b->anchors = a;
        b->cap_anchors = cap;
    }
    const char *copy =
        or_arena_strndup(&b->t->arena, (const char *)name, strlen((const char *)name));
    if (copy == NULL)
        return or_err_set(b->err, "", "out of memory");
    b->anchors[b->n_anchors].name = copy;
    b->anchors[b->n_anchors].node = node;
    b->n_anchors++;
    return 0;
}

static struct or_ynode *new_node(struct builder *b, const yaml_event_t *ev, enum or_ynode_kind kind,
                                 const yaml_char_t *tag)
{
    struct or_ynode *n = or_arena_calloc(&b->t->arena, sizeof(*n));
    if (n == NULL)
        return NULL;
    n->kind = kind;
    n->line = (unsigned)ev->start_mark.line + 1;
    n->col = (unsigned)ev->start_mark.column + 1;
    n->ignore = tag != NULL && strcmp((const char *)tag, "!ignore") == 0;
    return n;
}

static bool key_eq(const struct or_ynode *a, const struct or_ynode *b)
{
    return a->len == b->len && memcmp(a->str, b->str, a->len) == 0;
}

static bool is_merge_key(const struct or_ynode *k)
{
    return k->plain && k->len == 2 && memcmp(k->str, "<<", 2) == 0;
}

static bool has_key(struct or_ynode **items, size_t pairs, const struct or_ynode *key)
{
    for (size_t i = 0; i < pairs; i++)
        if (key_eq(items[2 * i], key))
            return true;
    return false;
}

static int append_pair(struct builder *b, struct or_ynode **items, size_t *pairs, size_t cap,
                       struct or_ynode *k, struct or_ynode *v)
{
    if (*pairs * 2 + 2 > cap)
        return OR_ENOMEM; /* cannot happen: cap counts every candidate pair */
    items[2 * *pairs] = k;
    items[2 * *pairs + 1] = v;
    (*pairs)++;
    return 0;
}

/* Rebuilds a closed mapping: drops !ignore keys, rejects duplicate keys, expands `<<` merges
 * (explicit keys win, then earlier merge sources win over later ones). */
static int close_map(struct builder *b, const yaml_event_t *ev, struct or_ynode *m)
{
    size_t raw = m->n / 2, candidates = 0;
    for (size_t i = 0; i < raw; i++) {
        const struct or_ynode *k = m->items[2 * i], *v = m->items[2 * i + 1];
        if (k->ignore)
            continue;
        if (!is_merge_key(k)) {
            candidates++;
            continue;
        }
        if (v->kind == OR_YNODE_MAP) {
            candidates += v->n;
        } else if (v->kind == OR_YNODE_SEQ) {
            for (size_t j = 0; j < v->n; j++) {
                if (v->items[j]->kind != OR_YNODE_MAP)
                    return fail(b, ev, "a '<<' merge list may only hold mappings");
                candidates += v->items[j]->n;
            }
        } else {
            return fail(b, ev, "a '<<' merge value must be a mapping or a list of mappings");
        }
    }
    struct or_ynode **items = or_arena_alloc(&b->t->arena, (candidates * 2 + 1) * sizeof(*items));
    if (items == NULL)
        return or_err_set(b->err, "", "out of memory");
    size_t pairs = 0, cap = candidates * 2;
    for (size_t i = 0; i < raw; i++) {
        struct or_ynode *k = m->items[2 * i], *v = m->items[2 * i + 1];
        if (k->ignore || is_merge_key(k))
            continue;
        if (has_key(items, pairs, k)) {
            char msg[160];
            snprintf(msg, sizeof(msg), "duplicate key '%.100s'", k->str);
            return or_err_set(b->err, "", "invalid YAML at line %u column %u: %s", k->line, k->col,
                              msg);
        }
        append_pair(b, items, &pairs, cap, k, v);
    }
    for (size_t i = 0; i < raw; i++) {
        struct or_ynode *k = m->items[2 * i], *v = m->items[2 * i + 1];
        if (k->ignore || !is_merge_key(k))
            continue;
        size_t nsrc = v->kind == OR_YNODE_MAP ? 1 : v->n;
        for (size_t s = 0; s < nsrc; s++) {
            struct or_ynode *src = v->kind == OR_YNODE_MAP ? v : v->items[s];
            for (size_t j = 0; j < src->n; j++) {
                struct or_ynode *sk = src->items[2 * j];
                if (!has_key(items, pairs, sk))
                    append_pair(b, items, &pairs, cap, sk, src->items[2 * j + 1]);
            }
        }
    }
    m->items = items;
    m->n = pairs;
    m->cap = cap;
    return 0;
}

static int on_event(struct builder *b, const yaml_event_t *ev, bool *done)
{
    struct or_ynode *n;
    switch (ev->type) {
    case YAML_NO_EVENT:
    case YAML_STREAM_START_EVENT:
    case YAML_DOCUMENT_END_EVENT:
        return 0;
    case YAML_STREAM_END_EVENT:
        *done = true;
        return 0;
    case YAML_DOCUMENT_START_EVENT:
        if (b->have_root)
            return fail(b, ev, "only one YAML document is allowed");
        return 0;
    case YAML_SCALAR_EVENT: {
        const char *tag = (const char *)ev->data.scalar.tag;
        n = new_node(b, ev, OR_YNODE_SCALAR, ev->data.scalar.tag);
        if (n == NULL)
            return or_err_set(b->err, "", "out of memory");
        n->len = ev->data.scalar.length;
        n->str = or_arena_strndup(&b->t->arena, (const char *)ev->data.scalar.value, n->len);
        if (n->str == NULL)
            return or_err_set(b->err, "", "out of memory");
        /* `!!str 5` and "5" are strings; a plain 5 may be a number (decided per field type). */
        n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
                   (tag == NULL || strcmp(tag, "tag:yaml.org,2002:str") != 0);
        if (add_anchor(b, ev, ev->data.scalar.anchor, n) != 0)
            return OR_EINVAL;
        return add_child(b, ev, n);
    }
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        bool map = ev->type == YAML_MAPPING_START_EVENT;
        if (b->depth == MAX_DEPTH)
            return fail(b, ev, "nesting deeper than 128 levels");
        n = new_node(b, ev, map ? OR_YNODE_MAP : OR_YNODE_SEQ,
                     map ? ev->data.mapping_start.tag : ev->data.sequence_start.tag);
        if (n == NULL)
            return or_err_set(b->err, "", "out of memory");
        n->open = true;
        if (add_anchor(b, ev, map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor,
                       n) != 0)
            return OR_EINVAL;
        if (add_child(b, ev, n) != 0)
            return OR_EINVAL;
        b->stack[b->depth++] = n;
        return 0;
    }
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        n = b->stack[--b->depth];
        n->open = false;
        return n->kind == OR_YNODE_MAP ? close_map(b, ev, n) : 0;
    case YAML_ALIAS_EVENT: {
        const char *name = (const char *)ev->data.alias.anchor;
        for (size_t i = b->n_anchors; i-- > 0;) {
            if (strcmp(b->anchors[i].name, name) != 0)
                continue;
            if (b->anchors[i].node->open)
                return fail(b, ev, "an alias may not refer to an enclosing node");
            return add_child(b, ev, b->anchors[i].node);
        }
        char msg[160];
        snprintf(msg, sizeof(msg), "unknown anchor '%.100s'", name);
        return fail(b, ev, msg);
    }
    }
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static long hex4(const char *p, const char *end)
{
    if (end - p < 4)
        return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* JSON writes characters beyond the BMP as UTF-16 surrogate pairs ("\ud83d\ude00"), which libyaml
 * rejects. For JSON-looking text, rewrite each pair inside a double-quoted string as the YAML
 * escape "\U0001f600" (shorter, so the copy never grows). Returns NULL when nothing needs to
 * change (or on OOM, where libyaml then reports the escape as invalid). */
static char *fix_surrogates(const char *text, size_t len, size_t *out_len)
{
    const char *p = text, *end = text + len;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    if (p == end || (*p != '{' && *p != '['))
        return NULL;
    if (memmem(text, len, "\\u", 2) == NULL && memmem(text, len, "\\U", 2) == NULL)
        return NULL;
    char *out = NULL, *o = NULL;
    bool in_str = false;
    for (p = text; p < end; p++) {
        if (!in_str) {
            if (*p == '"')
                in_str = true;
        } else if (*p == '"') {
            in_str = false;
        } else if (*p == '\\' && p + 1 < end) {
            long hi = (p[1] == 'u' || p[1] == 'U') ? hex4(p + 2, end) : -1;
            long lo = -1;
            if (hi >= 0xD800 && hi <= 0xDBFF && end - p >= 12 && p[6] == '\\' &&
                (p[7] == 'u' || p[7] == 'U'))
                lo = hex4(p + 8, end);
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                if (out == NULL) {
                    out = malloc(len + 1);
                    if (out == NULL)
                        return NULL;
                    memcpy(out, text, (size_t)(p - text));
                    o = out + (p - text);
                }
                unsigned long cp =
                    0x10000 + (((unsigned long)hi - 0xD800) << 10) + ((unsigned long)lo - 0xDC00);
                char esc[16];
                snprintf(esc, sizeof(esc), "\\U%08lX", cp);
                memcpy(o, esc, 10);
                o += 10;
                p += 11;
                continue;
            }
            if (o != NULL)
                *o++ = *p;
            p++; /* the escaped character is copied below */
        }
        if (o != NULL)
            *o++ = *p;
    }
    if (out == NULL)
        return NULL;
    *out_len = (size_t)(o - out);
    return out;
}

int or_ytree_parse(struct or_ytree *t, const char *text, size_t len, struct or_err_detail *err)
{
    struct builder b;
    yaml_parser_t parser;
    size_t fixed_len = 0;
    char *fixed = fix_surrogates(text, len, &fixed_len);
    int rc = 0;

    or_arena_init(&t->arena, 16384);
    t->root = NULL;
    memset(&b, 0, sizeof(b));
    b.t = t;
    b.err = err;
    if (!yaml_parser_initialize(&parser)) {
        free(fixed);
        return or_err_set(err, "", "out of memory");
    }
    if (fixed != NULL)
        yaml_parser_set_input_string(&parser, (const unsigned char *)fixed, fixed_len);
    else
        yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    for (bool done = false; !done;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            if (parser.error == YAML_MEMORY_ERROR)
                rc = or_err_set(err, "", "out of memory");
            else
                rc = or_err_set(err, "", "invalid YAML at line %zu column %zu: %s%s%s",
                                (size_t)parser.problem_mark.line + 1,
                                (size_t)parser.problem_mark.column + 1,
                                parser.problem ? parser.problem : "syntax error",
                                parser.context ? " " : "", parser.context ? parser.context : "");
            break;
        }
        rc = on_event(&b, &ev, &done);
        yaml_event_delete(&ev);
        if (rc != 0)
            break;
    }
    yaml_parser_delete(&parser);
    free(fixed);
    if (rc != 0)
        t->root = NULL;
    return rc;
}

void or_ytree_free(struct or_ytree *t)
{
    or_arena_deinit(&t->arena);
    t->root = NULL;
}
