/* YAML/JSON tree -> protobuf-c message, driven by the message descriptors (proto3 JSON mapping). */
#include "proxy/config/reflect.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "google/protobuf/duration.pb-c.h"
#include "google/protobuf/struct.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "proxy/config/pbutil.h"
#include "proxy/config/types.h"
#include "proxy/config/yaml_tree.h"

/* Node visits allowed per document: aliases make the tree a DAG, and a "billion laughs" document
 * would otherwise expand exponentially into messages. Real configs visit a few thousand nodes. */
#define VISIT_BUDGET 1000000

struct ctx {
    struct or_err_detail *err; /* borrowed */
    char path[sizeof(((struct or_err_detail *)0)->path)];
    size_t plen;
    size_t budget; /* node visits left */
};

static int fail(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct ctx *c, const char *fmt, ...)
{
    if (c->err == NULL)
        return OR_EINVAL;
    snprintf(c->err->path, sizeof(c->err->path), "%s", c->path);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err->msg, sizeof(c->err->msg), fmt, ap);
    va_end(ap);
    return OR_EINVAL;
}

static int oom(struct ctx *c)
{
    fail(c, "out of memory");
    return OR_ENOMEM;
}

static size_t path_append(struct ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static size_t path_append(struct ctx *c, const char *fmt, ...)
{
    size_t old = c->plen;
    if (c->plen < sizeof(c->path) - 1) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(c->path + c->plen, sizeof(c->path) - c->plen, fmt, ap);
        va_end(ap);
        if (n > 0)
            c->plen += (size_t)n;
        if (c->plen > sizeof(c->path) - 1)
            c->plen = sizeof(c->path) - 1;
    }
    return old;
}

static size_t path_field(struct ctx *c, const char *name)
{
    return path_append(c, "%s%s", c->plen ? "." : "", name);
}

static size_t path_index(struct ctx *c, size_t i)
{
    return path_append(c, "[%zu]", i);
}

static size_t path_key(struct ctx *c, const char *key)
{
    return path_append(c, "[\"%s\"]", key);
}

static void path_pop(struct ctx *c, size_t old)
{
    c->plen = old;
    c->path[old] = '\0';
}

static int visit(struct ctx *c)
{
    if (c->budget == 0)
        return fail(c, "document too large after alias expansion");
    c->budget--;
    return 0;
}

static const char *type_name(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return "int32";
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return "int64";
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return "uint32";
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return "uint64";
    case PROTOBUF_C_TYPE_FLOAT:
        return "float";
    case PROTOBUF_C_TYPE_DOUBLE:
        return "double";
    case PROTOBUF_C_TYPE_BOOL:
        return "bool";
    case PROTOBUF_C_TYPE_ENUM:
        return "enum";
    case PROTOBUF_C_TYPE_STRING:
        return "string";
    case PROTOBUF_C_TYPE_BYTES:
        return "bytes";
    case PROTOBUF_C_TYPE_MESSAGE:
        return "message";
    }
    return "value";
}

/* The type with its article, for "expected ..., got a list". */
static const char *type_desc(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_ENUM:
        return "an enum name or number";
    case PROTOBUF_C_TYPE_STRING:
        return "a string";
    case PROTOBUF_C_TYPE_BYTES:
        return "a base64 string";
    case PROTOBUF_C_TYPE_BOOL:
        return "a bool";
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        return "a number";
    case PROTOBUF_C_TYPE_MESSAGE:
        break;
    }
    return "a message";
}

/* ---- scalar text ------------------------------------------------------------------------- */

static bool all_digits(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

/* JSON number syntax (with an optional leading '+', which YAML allows). */
static bool is_number_text(const char *s)
{
    const char *p = s;
    bool digits = false;
    if (*p == '-' || *p == '+')
        p++;
    while (*p >= '0' && *p <= '9') {
        p++;
        digits = true;
    }
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9') {
            p++;
            digits = true;
        }
    }
    if (!digits)
        return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '-' || *p == '+')
            p++;
        if (*p < '0' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return *p == '\0';
}

static bool is_int_text(const char *s)
{
    return all_digits(s[0] == '-' ? s + 1 : s);
}

enum num_rc { NUM_OK = 0, NUM_BAD = -1, NUM_RANGE = -2 };

static enum num_rc parse_signed(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (is_int_text(s)) {
        errno = 0;
        long long v = strtoll(s, NULL, 10);
        if (errno == ERANGE || v < min || v > max)
            return NUM_RANGE;
        *out = v;
        return NUM_OK;
    }
    if (!is_number_text(s))
        return NUM_BAD;
    /* proto3 JSON accepts "1e3" or "5.0" for integers when the value is integral. */
    double d = strtod(s, NULL);
    if (!isfinite(d) || d != floor(d))
        return NUM_BAD;
    if (d < (double)min || d >= -(double)INT64_MIN || d > (double)max)
        return NUM_RANGE;
    *out = (int64_t)d;
    return NUM_OK;
}

static enum num_rc parse_unsigned(const char *s, uint64_t max, uint64_t *out)
{
    if (is_int_text(s)) {
        if (s[0] == '-')
            return all_digits(s + 1) && strspn(s + 1, "0") == strlen(s + 1) ? (*out = 0, NUM_OK)
                                                                            : NUM_RANGE;
        errno = 0;
        unsigned long long v = strtoull(s, NULL, 10);
        if (errno == ERANGE || v > max)
            return NUM_RANGE;
        *out = v;
        return NUM_OK;
    }
    if (!is_number_text(s))
        return NUM_BAD;
    double d = strtod(s, NULL);
    if (!isfinite(d) || d != floor(d))
        return NUM_BAD;
    if (d < 0 || d >= 18446744073709551616.0 || d > (double)max)
        return NUM_RANGE;
    *out = (uint64_t)d;
    return NUM_OK;
}

static enum num_rc parse_double(const char *s, bool plain, double *out)
{
    if (strcmp(s, "NaN") == 0 ||
        (plain && (strcmp(s, ".nan") == 0 || strcmp(s, ".NaN") == 0 || strcmp(s, ".NAN") == 0))) {
        *out = NAN;
        return NUM_OK;
    }
    if (strcmp(s, "Infinity") == 0 ||
        (plain && (strcmp(s, ".inf") == 0 || strcmp(s, ".Inf") == 0 || strcmp(s, ".INF") == 0 ||
                   strcmp(s, "+.inf") == 0))) {
        *out = INFINITY;
        return NUM_OK;
    }
    if (strcmp(s, "-Infinity") == 0 ||
        (plain &&
         (strcmp(s, "-.inf") == 0 || strcmp(s, "-.Inf") == 0 || strcmp(s, "-.INF") == 0))) {
        *out = -INFINITY;
        return NUM_OK;
    }
    if (!is_number_text(s))
        return NUM_BAD;
    errno = 0;
    double d = strtod(s, NULL);
    if (errno == ERANGE && isinf(d))
        return NUM_RANGE;
    *out = d;
    return NUM_OK;
}

/* YAML 1.1 booleans as yaml-cpp (Envoy's YAML reader) knows them; quoted only "true"/"false". */
static int parse_bool(const struct or_ynode *n)
{
    static const char *const t[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
    static const char *const f[] = {"false", "False", "FALSE", "no", "No",
                                    "NO",    "off",   "Off",   "OFF"};
    size_t lim = n->plain ? sizeof(t) / sizeof(t[0]) : 1;
    for (size_t i = 0; i < lim; i++) {
        if (strcmp(n->str, t[i]) == 0)
            return 1;
        if (strcmp(n->str, f[i]) == 0)
            return 0;
    }
    return -1;
}

static char *dup_string(struct ctx *c, const struct or_ynode *n, int *rc)
{
    if (memchr(n->str, '\0', n->len) != NULL) {
        *rc = fail(c, "strings may not contain NUL characters");
        return NULL;
    }
    char *s = malloc(n->len + 1);
    if (s == NULL) {
        *rc = oom(c);
        return NULL;
    }
    memcpy(s, n->str, n->len + 1);
    *rc = 0;
    return s;
}

/* Parses scalar node `n` as a value of singular field type `f->type` into `dst`. */
static int set_scalar(struct ctx *c, const ProtobufCFieldDescriptor *f, const struct or_ynode *n,
                      void *dst)
{
    int rc;
    if (n->kind != OR_YNODE_SCALAR)
        return fail(c, "expected %s, got %s", type_desc(f->type), or_ynode_kind_name(n));
    if (strlen(n->str) != n->len)
        return fail(c, "values may not contain NUL characters");
    const char *s = n->str;
    int64_t sv = 0;
    uint64_t uv = 0;
    double dv = 0;
    enum num_rc nr = NUM_OK;
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        nr = parse_signed(s, INT32_MIN, INT32_MAX, &sv);
        if (nr == NUM_OK)
            *(int32_t *)dst = (int32_t)sv;
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        nr = parse_signed(s, INT64_MIN, INT64_MAX, &sv);
        if (nr == NUM_OK)
            *(int64_t *)dst = sv;
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        nr = parse_unsigned(s, UINT32_MAX, &uv);
        if (nr == NUM_OK)
            *(uint32_t *)dst = (uint32_t)uv;
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        nr = parse_unsigned(s, UINT64_MAX, &uv);
        if (nr == NUM_OK)
            *(uint64_t *)dst = uv;
        break;
    case PROTOBUF_C_TYPE_FLOAT:
        nr = parse_double(s, n->plain, &dv);
        if (nr == NUM_OK && isfinite(dv) && fabs(dv) > FLT_MAX)
            nr = NUM_RANGE;
        if (nr == NUM_OK)
            *(float *)dst = (float)dv;
        break;
    case PROTOBUF_C_TYPE_DOUBLE:
        nr = parse_double(s, n->plain, &dv);
        if (nr == NUM_OK)
            *(double *)dst = dv;
        break;
    case PROTOBUF_C_TYPE_BOOL: {
        int b = parse_bool(n);
        if (b < 0)
            return fail(c, "invalid bool '%.64s': expected true or false", s);
        *(protobuf_c_boolean *)dst = b;
        return 0;
    }
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumDescriptor *ed = f->descriptor;
        const ProtobufCEnumValue *ev = NULL;
        if (is_int_text(s)) {
            nr = parse_signed(s, INT32_MIN, INT32_MAX, &sv);
            if (nr == NUM_OK)
                ev = protobuf_c_enum_descriptor_get_value(ed, (int)sv);
        } else {
            ev = protobuf_c_enum_descriptor_get_value_by_name(ed, s);
        }
        if (ev == NULL)
            return fail(c, "unknown value '%.64s' for enum %s", s, ed->name);
        *(int *)dst = ev->value;
        return 0;
    }
    case PROTOBUF_C_TYPE_STRING: {
        char *str = dup_string(c, n, &rc);
        if (str == NULL)
            return rc;
        *(char **)dst = str;
        return 0;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        ProtobufCBinaryData *bd = dst;
        bool bad;
        size_t blen = 0;
        uint8_t *data = or_pb_base64_decode(s, n->len, &blen, &bad);
        if (data == NULL)
            return bad ? fail(c, "invalid base64 in bytes value '%.64s'", s) : oom(c);
        bd->data = data;
        bd->len = blen;
        return 0;
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        return fail(c, "internal error: message field parsed as a scalar");
    }
    if (nr == NUM_BAD)
        return fail(c, "invalid %s value '%.64s'", type_name(f->type), s);
    if (nr == NUM_RANGE)
        return fail(c, "value '%.64s' out of range for %s", s, type_name(f->type));
    return 0;
}

/* ---- messages ---------------------------------------------------------------------------- */

static int fill_message(struct ctx *c, const struct or_ynode *n, ProtobufCMessage *m,
                        bool skip_type_key);

static int new_message(struct ctx *c, const struct or_ynode *n, const ProtobufCMessageDescriptor *d,
                       ProtobufCMessage **out)
{
    ProtobufCMessage *m = malloc(d->sizeof_message);
    if (m == NULL)
        return oom(c);
    d->message_init(m);
    int rc = fill_message(c, n, m, false);
    if (rc != 0) {
        protobuf_c_message_free_unpacked(m, NULL);
        return rc;
    }
    *out = m;
    return 0;
}

static int fill_value(struct ctx *c, const struct or_ynode *n, Google__Protobuf__Value *v);

static int new_value(struct ctx *c, const struct or_ynode *n, Google__Protobuf__Value **out)
{
    Google__Protobuf__Value *v = malloc(sizeof(*v));
    if (v == NULL)
        return oom(c);
    google__protobuf__value__init(v);
    int rc = fill_value(c, n, v);
    if (rc != 0) {
        protobuf_c_message_free_unpacked(&v->base, NULL);
        return rc;
    }
    *out = v;
    return 0;
}

/* Grows a repeated field's array by one slot; the caller fills it and then bumps the count. */
static void *grow_repeated(struct ctx *c, void *base, const ProtobufCFieldDescriptor *f)
{
    size_t *np = (size_t *)((char *)base + f->quantifier_offset);
    void **arr = (void **)((char *)base + f->offset);
    size_t esz = or_pb_elem_size(f->type);
    void *na = realloc(*arr, (*np + 1) * esz);
    if (na == NULL) {
        oom(c);
        return NULL;
    }
    *arr = na;
    memset((char *)na + *np * esz, 0, esz);
    return (char *)na + *np * esz;
}

static int fill_struct(struct ctx *c, const struct or_ynode *n, Google__Protobuf__Struct *st)
{
    if (n->kind != OR_YNODE_MAP)
        return fail(c, "expected a mapping for google.protobuf.Struct, got %s",
                    or_ynode_kind_name(n));
    for (size_t i = 0; i < n->n; i++) {
        const struct or_ynode *k = n->items[2 * i], *v = n->items[2 * i + 1];
        size_t old = path_field(c, k->str);
        Google__Protobuf__Struct__FieldsEntry *e = malloc(sizeof(*e));
        if (e == NULL)
            return oom(c);
        google__protobuf__struct__fields_entry__init(e);
        int rc;
        char *key = dup_string(c, k, &rc);
        if (key != NULL) {
            e->key = key;
            rc = new_value(c, v, &e->value);
        }
        void *slot =
            rc == 0 ? grow_repeated(c, st, &google__protobuf__struct__descriptor.fields[0]) : NULL;
        if (slot == NULL) {
            protobuf_c_message_free_unpacked(&e->base, NULL);
            return rc ? rc : OR_ENOMEM;
        }
        *(Google__Protobuf__Struct__FieldsEntry **)slot = e;
        st->n_fields++;
        path_pop(c, old);
    }
    return 0;
}

static int fill_list(struct ctx *c, const struct or_ynode *n, Google__Protobuf__ListValue *l)
{
    if (n->kind != OR_YNODE_SEQ)
        return fail(c, "expected a list for google.protobuf.ListValue, got %s",
                    or_ynode_kind_name(n));
    for (size_t i = 0; i < n->n; i++) {
        size_t old = path_index(c, i);
        Google__Protobuf__Value *v = NULL;
        int rc = new_value(c, n->items[i], &v);
        if (rc != 0)
            return rc;
        void *slot = grow_repeated(c, l, &google__protobuf__list_value__descriptor.fields[0]);
        if (slot == NULL) {
            protobuf_c_message_free_unpacked(&v->base, NULL);
            return OR_ENOMEM;
        }
        *(Google__Protobuf__Value **)slot = v;
        l->n_values++;
        path_pop(c, old);
    }
    return 0;
}

/* Envoy reads untyped YAML scalars like yaml-cpp: null, then bool, then number, else string. */
static int fill_value(struct ctx *c, const struct or_ynode *n, Google__Protobuf__Value *v)
{
    int rc = visit(c);
    if (rc != 0)
        return rc;
    if (or_ynode_is_null(n)) {
        v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NULL_VALUE;
        v->null_value = GOOGLE__PROTOBUF__NULL_VALUE__NULL_VALUE;
        return 0;
    }
    if (n->kind == OR_YNODE_MAP) {
        Google__Protobuf__Struct *st = malloc(sizeof(*st));
        if (st == NULL)
            return oom(c);
        google__protobuf__struct__init(st);
        v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE;
        v->struct_value = st;
        return fill_struct(c, n, st);
    }
    if (n->kind == OR_YNODE_SEQ) {
        Google__Protobuf__ListValue *l = malloc(sizeof(*l));
        if (l == NULL)
            return oom(c);
        google__protobuf__list_value__init(l);
        v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE;
        v->list_value = l;
        return fill_list(c, n, l);
    }
    if (n->plain) {
        int b = parse_bool(n);
        if (b >= 0) {
            v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE;
            v->bool_value = b;
            return 0;
        }
        if (is_number_text(n->str)) {
            v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE;
            v->number_value = strtod(n->str, NULL);
            return 0;
        }
    }
    char *s = dup_string(c, n, &rc);
    if (s == NULL)
        return rc;
    v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE;
    v->string_value = s;
    return 0;
}

static int fill_any(struct ctx *c, const struct or_ynode *n, Google__Protobuf__Any *any)
{
    if (n->kind != OR_YNODE_MAP)
        return fail(c, "expected a mapping with '@type' for google.protobuf.Any, got %s",
                    or_ynode_kind_name(n));
    const struct or_ynode *t = or_ynode_get(n, "@type");
    if (t == NULL) {
        if (n->n == 0)
            return 0;
        return fail(c, "missing '@type' in google.protobuf.Any");
    }
    if (t->kind != OR_YNODE_SCALAR || or_ynode_is_null(t) || strlen(t->str) != t->len)
        return fail(c, "'@type' must be a type URL string");
    if (strchr(t->str, '/') == NULL)
        return fail(c, "invalid type URL '%.128s': expected 'type.googleapis.com/<message name>'",
                    t->str);
    const ProtobufCMessageDescriptor *d = or_config_type_find(t->str);
    if (d == NULL)
        return fail(c, "unsupported @type '%.200s'", t->str);

    ProtobufCMessage *inner = malloc(d->sizeof_message);
    if (inner == NULL)
        return oom(c);
    d->message_init(inner);
    int rc = 0;
    if (or_pb_is_wkt_special(d)) {
        /* Types with their own JSON form carry it under "value". */
        const struct or_ynode *val = NULL;
        for (size_t i = 0; i < n->n && rc == 0; i++) {
            const struct or_ynode *k = n->items[2 * i];
            if (strcmp(k->str, "value") == 0) {
                val = n->items[2 * i + 1];
            } else if (strcmp(k->str, "@type") != 0) {
                size_t old = path_field(c, k->str);
                rc = fail(c, "unknown or unsupported field '%.64s' in google.protobuf.Any of %s",
                          k->str, d->name);
                path_pop(c, old);
            }
        }
        /* A null "value" is the JSON null for a Value and the default for the others. */
        if (rc == 0 && val != NULL &&
            (!or_ynode_is_null(val) || d == &google__protobuf__value__descriptor))
            rc = fill_message(c, val, inner, false);
    } else {
        rc = fill_message(c, n, inner, true);
    }
    if (rc == 0) {
        size_t sz = protobuf_c_message_get_packed_size(inner);
        uint8_t *buf = malloc(sz ? sz : 1);
        char *url = malloc(t->len + 1);
        if (buf == NULL || url == NULL) {
            free(buf);
            free(url);
            rc = oom(c);
        } else {
            protobuf_c_message_pack(inner, buf);
            memcpy(url, t->str, t->len + 1);
            any->type_url = url;
            any->value.data = buf;
            any->value.len = sz;
        }
    }
    protobuf_c_message_free_unpacked(inner, NULL);
    return rc;
}

static const ProtobufCFieldDescriptor *find_field(const ProtobufCMessageDescriptor *d,
                                                  const char *key, size_t len)
{
    if (strlen(key) != len) /* a NUL inside the key must not match a field by its prefix */
        return NULL;
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, key);
    if (f != NULL)
        return f;
    for (unsigned i = 0; i < d->n_fields; i++) {
        char json[128];
        or_pb_json_name(d->fields[i].name, json, sizeof(json));
        if (strcmp(json, key) == 0)
            return &d->fields[i];
    }
    return NULL;
}

static const ProtobufCFieldDescriptor *field_by_id(const ProtobufCMessageDescriptor *d, uint32_t id)
{
    return protobuf_c_message_descriptor_get_field(d, (unsigned)id);
}

/* One element of a repeated field, or a map entry's value: message types recurse. */
static int parse_into(struct ctx *c, const ProtobufCFieldDescriptor *f, const struct or_ynode *v,
                      void *dst)
{
    if (f->type == PROTOBUF_C_TYPE_MESSAGE)
        return new_message(c, v, f->descriptor, (ProtobufCMessage **)dst);
    return set_scalar(c, f, v, dst);
}

static bool is_value_field(const ProtobufCFieldDescriptor *f)
{
    return f->type == PROTOBUF_C_TYPE_MESSAGE &&
           f->descriptor == &google__protobuf__value__descriptor;
}

static int set_map(struct ctx *c, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                   const struct or_ynode *v)
{
    const ProtobufCMessageDescriptor *ed = f->descriptor;
    if (v->kind != OR_YNODE_MAP)
        return fail(c, "expected a mapping, got %s", or_ynode_kind_name(v));
    for (size_t i = 0; i < v->n; i++) {
        const struct or_ynode *k = v->items[2 * i], *val = v->items[2 * i + 1];
        size_t old = path_key(c, k->str);
        ProtobufCMessage *e = malloc(ed->sizeof_message);
        if (e == NULL)
            return oom(c);
        ed->message_init(e);
        /* JSON map keys are always strings; the key's own type decides how to read them. */
        struct or_ynode key = *k;
        key.plain = true;
        int rc = set_scalar(c, &ed->fields[0], &key, (char *)e + ed->fields[0].offset);
        if (rc == 0) {
            const ProtobufCFieldDescriptor *vf = &ed->fields[1];
            if (or_ynode_is_null(val) && !is_value_field(vf))
                rc = fail(c, "map values may not be null");
            else if (is_value_field(vf))
                rc = new_value(c, val, (Google__Protobuf__Value **)((char *)e + vf->offset));
            else
                rc = parse_into(c, vf, val, (char *)e + vf->offset);
        }
        void *slot = rc == 0 ? grow_repeated(c, m, f) : NULL;
        if (slot == NULL) {
            protobuf_c_message_free_unpacked(e, NULL);
            return rc ? rc : OR_ENOMEM;
        }
        *(ProtobufCMessage **)slot = e;
        (*(size_t *)((char *)m + f->quantifier_offset))++;
        path_pop(c, old);
    }
    return 0;
}

static int set_repeated(struct ctx *c, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                        const struct or_ynode *v)
{
    if (or_pb_is_map_field(f))
        return set_map(c, m, f, v);
    if (v->kind != OR_YNODE_SEQ)
        return fail(c, "expected a list, got %s", or_ynode_kind_name(v));
    for (size_t i = 0; i < v->n; i++) {
        const struct or_ynode *item = v->items[i];
        size_t old = path_index(c, i);
        int rc = visit(c);
        if (rc != 0)
            return rc;
        if (or_ynode_is_null(item) && !is_value_field(f))
            return fail(c, "list items may not be null");
        void *slot = grow_repeated(c, m, f);
        if (slot == NULL)
            return OR_ENOMEM;
        if (is_value_field(f))
            rc = new_value(c, item, (Google__Protobuf__Value **)slot);
        else
            rc = parse_into(c, f, item, slot);
        if (rc != 0)
            return rc;
        (*(size_t *)((char *)m + f->quantifier_offset))++;
        path_pop(c, old);
    }
    return 0;
}

static int set_field(struct ctx *c, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                     const struct or_ynode *v)
{
    char *base = (char *)m;
    int rc = visit(c);
    if (rc != 0)
        return rc;
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return or_ynode_is_null(v) ? 0 : set_repeated(c, m, f, v);
    /* null leaves a field unset, except a Value, where it is the JSON null. */
    if (or_ynode_is_null(v) && !is_value_field(f))
        return 0;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        uint32_t *oneof_case = (uint32_t *)(base + f->quantifier_offset);
        if (*oneof_case != 0 && *oneof_case != f->id) {
            const ProtobufCFieldDescriptor *other = field_by_id(m->descriptor, *oneof_case);
            return fail(c, "'%s' and '%s' cannot both be set: they are members of one oneof",
                        f->name, other ? other->name : "?");
        }
    }
    if (is_value_field(f))
        rc = new_value(c, v, (Google__Protobuf__Value **)(base + f->offset));
    else
        rc = parse_into(c, f, v, base + f->offset);
    if (rc != 0)
        return rc;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        *(uint32_t *)(base + f->quantifier_offset) = f->id;
    else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_MESSAGE &&
             f->type != PROTOBUF_C_TYPE_STRING)
        *(protobuf_c_boolean *)(base + f->quantifier_offset) = 1;
    return 0;
}

static int fill_generic(struct ctx *c, const struct or_ynode *n, ProtobufCMessage *m,
                        bool skip_type_key)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    unsigned char seen_small[64];
    unsigned char *seen = seen_small;
    int rc = 0;

    if (n->kind != OR_YNODE_MAP)
        return fail(c, "expected a mapping for %s, got %s", d->name, or_ynode_kind_name(n));
    if (d->n_fields > sizeof(seen_small)) {
        seen = calloc(d->n_fields, 1);
        if (seen == NULL)
            return oom(c);
    } else {
        memset(seen, 0, sizeof(seen_small));
    }
    for (size_t i = 0; i < n->n && rc == 0; i++) {
        const struct or_ynode *k = n->items[2 * i], *v = n->items[2 * i + 1];
        if (skip_type_key && strcmp(k->str, "@type") == 0)
            continue;
        const ProtobufCFieldDescriptor *f = find_field(d, k->str, k->len);
        if (f == NULL) {
            size_t old = path_field(c, k->str);
            rc = fail(c, "unknown or unsupported field '%.64s' in %s", k->str, d->name);
            path_pop(c, old);
            break;
        }
        size_t old = path_field(c, f->name);
        size_t idx = (size_t)(f - d->fields);
        if (seen[idx])
            rc = fail(c, "field '%s' is set twice", f->name);
        else
            rc = set_field(c, m, f, v);
        seen[idx] = 1;
        if (rc == 0)
            path_pop(c, old);
    }
    if (seen != seen_small)
        free(seen);
    return rc;
}

static int fill_message(struct ctx *c, const struct or_ynode *n, ProtobufCMessage *m,
                        bool skip_type_key)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    const char *why;
    int rc = visit(c);
    if (rc != 0)
        return rc;
    if (d == &google__protobuf__duration__descriptor ||
        d == &google__protobuf__timestamp__descriptor) {
        bool dur = d == &google__protobuf__duration__descriptor;
        int64_t sec;
        int32_t nanos;
        if (n->kind != OR_YNODE_SCALAR)
            return fail(c, "expected a %s string, got %s", dur ? "duration" : "timestamp",
                        or_ynode_kind_name(n));
        if (strlen(n->str) != n->len)
            return fail(c, "values may not contain NUL characters");
        if ((dur ? or_pb_parse_duration(n->str, &sec, &nanos, &why)
                 : or_pb_parse_timestamp(n->str, &sec, &nanos, &why)) != 0)
            return fail(c, "invalid %s '%.64s': %s", dur ? "duration" : "timestamp", n->str, why);
        if (dur) {
            ((Google__Protobuf__Duration *)m)->seconds = sec;
            ((Google__Protobuf__Duration *)m)->nanos = nanos;
        } else {
            ((Google__Protobuf__Timestamp *)m)->seconds = sec;
            ((Google__Protobuf__Timestamp *)m)->nanos = nanos;
        }
        return 0;
    }
    if (or_pb_is_wrapper(d))
        return set_scalar(c, &d->fields[0], n, (char *)m + d->fields[0].offset);
    if (d == &google__protobuf__struct__descriptor)
        return fill_struct(c, n, (Google__Protobuf__Struct *)m);
    if (d == &google__protobuf__value__descriptor)
        return fill_value(c, n, (Google__Protobuf__Value *)m);
    if (d == &google__protobuf__list_value__descriptor)
        return fill_list(c, n, (Google__Protobuf__ListValue *)m);
    if (d == &google__protobuf__any__descriptor)
        return fill_any(c, n, (Google__Protobuf__Any *)m);
    return fill_generic(c, n, m, skip_type_key);
}

int or_config_parse(const char *text, size_t len, const ProtobufCMessageDescriptor *desc,
                    ProtobufCMessage **out, struct or_err_detail *err)
{
    struct or_ytree tree;
    struct ctx c;
    int rc;

    *out = NULL;
    memset(&c, 0, sizeof(c));
    c.err = err;
    c.budget = VISIT_BUDGET;
    rc = or_ytree_parse(&tree, text, len, err);
    if (rc == 0 && or_ynode_is_null(tree.root))
        rc = or_err_set(err, "", "empty configuration: expected a mapping for %s", desc->name);
    if (rc == 0)
        rc = new_message(&c, tree.root, desc, out);
    or_ytree_free(&tree);
    return rc;
}

/* ---- wire-side helpers ------------------------------------------------------------------- */

struct walk {
    struct or_err_detail *err; /* borrowed */
    char path[sizeof(((struct or_err_detail *)0)->path)];
    size_t plen;
};

static int walk_fail(struct walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int walk_fail(struct walk *w, const char *fmt, ...)
{
    if (w->err == NULL)
        return OR_EINVAL;
    snprintf(w->err->path, sizeof(w->err->path), "%s", w->path);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err->msg, sizeof(w->err->msg), fmt, ap);
    va_end(ap);
    return OR_EINVAL;
}

static size_t walk_append(struct walk *w, int n)
{
    if (n > 0)
        w->plen += (size_t)n;
    if (w->plen > sizeof(w->path) - 1)
        w->plen = sizeof(w->path) - 1;
    return w->plen;
}

static size_t walk_push_name(struct walk *w, const char *name)
{
    size_t old = w->plen;
    walk_append(w, snprintf(w->path + w->plen, sizeof(w->path) - w->plen, "%s%s",
                            w->plen ? "." : "", name));
    return old;
}

static size_t walk_push_index(struct walk *w, size_t index)
{
    size_t old = w->plen;
    walk_append(w, snprintf(w->path + w->plen, sizeof(w->path) - w->plen, "[%zu]", index));
    return old;
}

static void walk_pop(struct walk *w, size_t old)
{
    w->plen = old;
    w->path[old] = '\0';
}

static int check_msg(struct walk *w, const ProtobufCMessage *m, unsigned depth)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    const char *base = (const char *)m;
    if (depth > 100)
        return walk_fail(w, "message nesting too deep");
    if (m->n_unknown_fields > 0)
        return walk_fail(w, "unknown or unsupported field number %u in %s",
                         (unsigned)m->unknown_fields[0].tag, d->name);
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE && f->type != PROTOBUF_C_TYPE_ENUM)
            continue;
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)(base + f->quantifier_offset) != f->id)
            continue;
        size_t n = 1;
        const char *arr = base + f->offset;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            n = *(const size_t *)(base + f->quantifier_offset);
            arr = *(const char *const *)(base + f->offset);
        }
        size_t old = walk_push_name(w, f->name);
        for (size_t j = 0; j < n; j++) {
            size_t old2 = f->label == PROTOBUF_C_LABEL_REPEATED ? walk_push_index(w, j) : w->plen;
            if (f->type == PROTOBUF_C_TYPE_ENUM) {
                int v = ((const int *)arr)[j];
                if (protobuf_c_enum_descriptor_get_value(f->descriptor, v) == NULL)
                    return walk_fail(w, "unknown value %d for enum %s", v,
                                     ((const ProtobufCEnumDescriptor *)f->descriptor)->name);
            } else {
                const ProtobufCMessage *sub = ((const ProtobufCMessage *const *)arr)[j];
                if (sub != NULL) {
                    int rc = check_msg(w, sub, depth + 1);
                    if (rc != 0)
                        return rc;
                }
            }
            walk_pop(w, old2);
        }
        walk_pop(w, old);
    }
    return 0;
}

int or_config_check_unknown(const ProtobufCMessage *m, struct or_err_detail *err, const char *path)
{
    struct walk w;
    memset(&w, 0, sizeof(w));
    w.err = err;
    if (path != NULL) {
        snprintf(w.path, sizeof(w.path), "%s", path);
        w.plen = strlen(w.path);
    }
    return check_msg(&w, m, 0);
}

int or_config_unpack_any(const Google__Protobuf__Any *any, const ProtobufCMessageDescriptor *expect,
                         ProtobufCMessage **out, struct or_err_detail *err, const char *path)
{
    const char *p = path ? path : "";
    *out = NULL;
    if (any == NULL || any->type_url == NULL || any->type_url[0] == '\0')
        return or_err_set(err, p, "missing '@type' in google.protobuf.Any");
    const ProtobufCMessageDescriptor *d = or_config_type_find(any->type_url);
    if (d == NULL)
        return or_err_set(err, p, "unsupported @type '%.200s'", any->type_url);
    if (expect != NULL && d != expect)
        return or_err_set(err, p, "expected @type 'type.googleapis.com/%s', got '%.200s'",
                          expect->name, any->type_url);
    ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, any->value.len, any->value.data);
    if (m == NULL)
        return or_err_set(err, p, "malformed %s in google.protobuf.Any", d->name);
    int rc = or_config_check_unknown(m, err, p);
    if (rc != 0) {
        protobuf_c_message_free_unpacked(m, NULL);
        return rc;
    }
    *out = m;
    return 0;
}

void or_config_free(ProtobufCMessage *m)
{
    if (m != NULL)
        protobuf_c_message_free_unpacked(m, NULL);
}
