/* protobuf-c message -> proto3 JSON with snake_case names, the form of Envoy's /config_dump. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "google/protobuf/duration.pb-c.h"
#include "google/protobuf/struct.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "proxy/config/pbutil.h"
#include "proxy/config/reflect.h"
#include "proxy/config/types.h"

struct jw {
    char *buf; /* owned until handed to the caller */
    size_t len;
    size_t cap;
    bool oom;
    bool pretty;
};

/* An open JSON object or array being written. */
struct jscope {
    struct jw *w; /* borrowed */
    int indent;
    bool any; /* at least one member written */
};

static void put(struct jw *w, const char *s, size_t n)
{
    if (w->oom)
        return;
    if (w->len + n + 1 > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < w->len + n + 1)
            cap *= 2;
        char *nb = realloc(w->buf, cap);
        if (nb == NULL) {
            w->oom = true;
            return;
        }
        w->buf = nb;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

static void puts_(struct jw *w, const char *s)
{
    put(w, s, strlen(s));
}

static void newline(struct jw *w, int indent)
{
    if (!w->pretty)
        return;
    put(w, "\n", 1);
    for (int i = 0; i < indent; i++)
        put(w, " ", 1);
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when the bytes are not valid UTF-8. */
static size_t utf8_len(const unsigned char *p, size_t avail)
{
    unsigned c = p[0];
    size_t n;
    unsigned min;
    if (c < 0x80)
        return 1;
    if ((c & 0xE0) == 0xC0) {
        n = 2;
        min = 0x80;
        c &= 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3;
        min = 0x800;
        c &= 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4;
        min = 0x10000;
        c &= 0x07;
    } else {
        return 0;
    }
    if (n > avail)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    return n;
}

static unsigned utf8_decode(const unsigned char *p, size_t n)
{
    unsigned c = n == 1 ? p[0] : n == 2 ? p[0] & 0x1Fu : n == 3 ? p[0] & 0x0Fu : p[0] & 0x07u;
    for (size_t i = 1; i < n; i++)
        c = (c << 6) | (p[i] & 0x3Fu);
    return c;
}

static void put_string(struct jw *w, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    put(w, "\"", 1);
    for (size_t i = 0; i < len;) {
        unsigned char ch = p[i];
        char esc[8];
        if (ch == '"' || ch == '\\') {
            esc[0] = '\\';
            esc[1] = (char)ch;
            put(w, esc, 2);
            i++;
        } else if (ch < 0x20) {
            switch (ch) {
            case '\n':
                puts_(w, "\\n");
                break;
            case '\r':
                puts_(w, "\\r");
                break;
            case '\t':
                puts_(w, "\\t");
                break;
            case '\b':
                puts_(w, "\\b");
                break;
            case '\f':
                puts_(w, "\\f");
                break;
            default:
                snprintf(esc, sizeof(esc), "\\u%04x", ch);
                puts_(w, esc);
            }
            i++;
        } else if (ch == 0x7F) {
            puts_(w, "\\u007f");
            i++;
        } else if (ch < 0x80) {
            put(w, (const char *)p + i, 1);
            i++;
        } else {
            size_t n = utf8_len(p + i, len - i);
            unsigned cp = n ? utf8_decode(p + i, n) : 0;
            if (n == 0) {
                puts_(w, "\\ufffd"); /* wire strings are not checked for UTF-8; JSON must be */
                i++;
            } else if ((cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF ||
                       cp == 0xFFFE || cp == 0xFFFF) {
                /* Line breaks and non-printables for YAML (which reads our JSON back) and for
                 * JavaScript consumers: escaped, the text stays the same. */
                snprintf(esc, sizeof(esc), "\\u%04x", cp);
                puts_(w, esc);
                i += n;
            } else {
                put(w, (const char *)p + i, n);
                i += n;
            }
        }
    }
    put(w, "\"", 1);
}

static void put_cstring(struct jw *w, const char *s)
{
    put_string(w, s ? s : "", s ? strlen(s) : 0);
}

static void scope_open(struct jscope *sc, struct jw *w, int indent, const char *open)
{
    sc->w = w;
    sc->indent = indent;
    sc->any = false;
    puts_(w, open);
}

static void scope_item(struct jscope *sc)
{
    if (sc->any)
        put(sc->w, ",", 1);
    newline(sc->w, sc->indent + 1);
    sc->any = true;
}

static void scope_key(struct jscope *sc, const char *key, size_t len)
{
    scope_item(sc);
    put_string(sc->w, key, len);
    puts_(sc->w, sc->w->pretty ? ": " : ":");
}

static void scope_close(struct jscope *sc, const char *close)
{
    if (sc->any)
        newline(sc->w, sc->indent);
    puts_(sc->w, close);
}

static void put_double(struct jw *w, double v)
{
    char buf[40];
    if (isnan(v)) {
        puts_(w, "\"NaN\"");
    } else if (isinf(v)) {
        puts_(w, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    } else {
        or_pb_format_double(v, buf, sizeof(buf));
        puts_(w, buf);
    }
}

static void put_float(struct jw *w, float v)
{
    char buf[40];
    if (isnan(v) || isinf(v)) {
        put_double(w, (double)v);
    } else {
        or_pb_format_float(v, buf, sizeof(buf));
        puts_(w, buf);
    }
}

static void write_message(struct jw *w, const ProtobufCMessage *m, int indent);
static void write_fields(struct jscope *sc, const ProtobufCMessage *m);

/* One value of field `f`'s type stored at `p` (an element of a repeated field, or a singular). */
static void write_value(struct jw *w, const ProtobufCFieldDescriptor *f, const void *p, int indent)
{
    char buf[48];
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        snprintf(buf, sizeof(buf), "%d", *(const int32_t *)p);
        puts_(w, buf);
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        snprintf(buf, sizeof(buf), "%u", *(const uint32_t *)p);
        puts_(w, buf);
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        snprintf(buf, sizeof(buf), "\"%lld\"", (long long)*(const int64_t *)p);
        puts_(w, buf);
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        snprintf(buf, sizeof(buf), "\"%llu\"", (unsigned long long)*(const uint64_t *)p);
        puts_(w, buf);
        break;
    case PROTOBUF_C_TYPE_FLOAT:
        put_float(w, *(const float *)p);
        break;
    case PROTOBUF_C_TYPE_DOUBLE:
        put_double(w, *(const double *)p);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        puts_(w, *(const protobuf_c_boolean *)p ? "true" : "false");
        break;
    case PROTOBUF_C_TYPE_ENUM: {
        int v = *(const int *)p;
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, v);
        if (ev != NULL) {
            put_cstring(w, ev->name);
        } else {
            snprintf(buf, sizeof(buf), "%d", v);
            puts_(w, buf);
        }
        break;
    }
    case PROTOBUF_C_TYPE_STRING:
        put_cstring(w, *(const char *const *)p);
        break;
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *bd = p;
        char *b64 = or_pb_base64_encode(bd->data, bd->len);
        if (b64 == NULL) {
            w->oom = true;
            break;
        }
        put_cstring(w, b64);
        free(b64);
        break;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub = *(const ProtobufCMessage *const *)p;
        if (sub == NULL)
            puts_(w, "null");
        else
            write_message(w, sub, indent);
        break;
    }
    }
}

/* A map entry's key as JSON object key text. */
static void write_map_key(struct jscope *sc, const ProtobufCMessage *entry)
{
    const ProtobufCFieldDescriptor *kf = &entry->descriptor->fields[0];
    const void *p = (const char *)entry + kf->offset;
    char buf[48];
    switch (kf->type) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(const char *const *)p;
        scope_key(sc, s ? s : "", s ? strlen(s) : 0);
        return;
    }
    case PROTOBUF_C_TYPE_BOOL:
        snprintf(buf, sizeof(buf), "%s", *(const protobuf_c_boolean *)p ? "true" : "false");
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        snprintf(buf, sizeof(buf), "%lld", (long long)*(const int64_t *)p);
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        snprintf(buf, sizeof(buf), "%llu", (unsigned long long)*(const uint64_t *)p);
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        snprintf(buf, sizeof(buf), "%u", *(const uint32_t *)p);
        break;
    default:
        snprintf(buf, sizeof(buf), "%d", *(const int32_t *)p);
        break;
    }
    scope_key(sc, buf, strlen(buf));
}

static void write_fields(struct jscope *sc, const ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    const char *base = (const char *)m;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (!or_pb_field_is_set(m, f))
            continue;
        scope_key(sc, f->name, strlen(f->name));
        if (f->label != PROTOBUF_C_LABEL_REPEATED) {
            write_value(sc->w, f, base + f->offset, sc->indent + 1);
            continue;
        }
        size_t n = *(const size_t *)(base + f->quantifier_offset);
        const char *arr = *(const char *const *)(base + f->offset);
        struct jscope inner;
        if (or_pb_is_map_field(f)) {
            scope_open(&inner, sc->w, sc->indent + 1, "{");
            for (size_t j = 0; j < n; j++) {
                const ProtobufCMessage *e = ((const ProtobufCMessage *const *)arr)[j];
                const ProtobufCFieldDescriptor *vf = &e->descriptor->fields[1];
                write_map_key(&inner, e);
                write_value(sc->w, vf, (const char *)e + vf->offset, inner.indent + 1);
            }
            scope_close(&inner, "}");
            continue;
        }
        size_t esz = or_pb_elem_size(f->type);
        scope_open(&inner, sc->w, sc->indent + 1, "[");
        for (size_t j = 0; j < n; j++) {
            scope_item(&inner);
            write_value(sc->w, f, arr + j * esz, inner.indent + 1);
        }
        scope_close(&inner, "]");
    }
}

static void write_struct(struct jw *w, const Google__Protobuf__Struct *st, int indent);

static void write_pb_value(struct jw *w, const Google__Protobuf__Value *v, int indent)
{
    struct jscope sc;
    switch (v->kind_case) {
    case GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE:
        put_double(w, v->number_value);
        return;
    case GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE:
        put_cstring(w, v->string_value);
        return;
    case GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE:
        puts_(w, v->bool_value ? "true" : "false");
        return;
    case GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE:
        if (v->struct_value != NULL) {
            write_struct(w, v->struct_value, indent);
            return;
        }
        puts_(w, "{}");
        return;
    case GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE:
        scope_open(&sc, w, indent, "[");
        for (size_t i = 0; v->list_value != NULL && i < v->list_value->n_values; i++) {
            scope_item(&sc);
            write_pb_value(w, v->list_value->values[i], indent + 1);
        }
        scope_close(&sc, "]");
        return;
    case GOOGLE__PROTOBUF__VALUE__KIND_NULL_VALUE:
    default:
        puts_(w, "null");
        return;
    }
}

static void write_struct(struct jw *w, const Google__Protobuf__Struct *st, int indent)
{
    struct jscope sc;
    scope_open(&sc, w, indent, "{");
    for (size_t i = 0; i < st->n_fields; i++) {
        const Google__Protobuf__Struct__FieldsEntry *e = st->fields[i];
        scope_key(&sc, e->key ? e->key : "", e->key ? strlen(e->key) : 0);
        if (e->value != NULL)
            write_pb_value(w, e->value, indent + 1);
        else
            puts_(w, "null");
    }
    scope_close(&sc, "}");
}

static void write_any(struct jw *w, const Google__Protobuf__Any *any, int indent)
{
    struct jscope sc;
    scope_open(&sc, w, indent, "{");
    if (any->type_url != NULL && any->type_url[0] != '\0') {
        const ProtobufCMessageDescriptor *d = or_config_type_find(any->type_url);
        ProtobufCMessage *inner =
            d ? protobuf_c_message_unpack(d, NULL, any->value.len, any->value.data) : NULL;
        scope_key(&sc, "@type", 5);
        put_cstring(w, any->type_url);
        if (inner != NULL && or_pb_is_wkt_special(d)) {
            scope_key(&sc, "value", 5);
            write_message(w, inner, indent + 1);
        } else if (inner != NULL) {
            write_fields(&sc, inner);
        } else if (any->value.len > 0) {
            /* Not a type we know: keep the bytes visible rather than dropping them. */
            char *b64 = or_pb_base64_encode(any->value.data, any->value.len);
            if (b64 == NULL) {
                w->oom = true;
            } else {
                scope_key(&sc, "value", 5);
                put_cstring(w, b64);
                free(b64);
            }
        }
        if (inner != NULL)
            protobuf_c_message_free_unpacked(inner, NULL);
    }
    scope_close(&sc, "}");
}

static void write_message(struct jw *w, const ProtobufCMessage *m, int indent)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    char buf[64];
    if (d == &google__protobuf__duration__descriptor) {
        const Google__Protobuf__Duration *du = (const Google__Protobuf__Duration *)m;
        or_pb_format_duration(du->seconds, du->nanos, buf, sizeof(buf));
        put_cstring(w, buf);
        return;
    }
    if (d == &google__protobuf__timestamp__descriptor) {
        const Google__Protobuf__Timestamp *ts = (const Google__Protobuf__Timestamp *)m;
        if (or_pb_format_timestamp(ts->seconds, ts->nanos, buf, sizeof(buf)) != 0)
            snprintf(buf, sizeof(buf), "invalid timestamp");
        put_cstring(w, buf);
        return;
    }
    if (or_pb_is_wrapper(d)) {
        write_value(w, &d->fields[0], (const char *)m + d->fields[0].offset, indent);
        return;
    }
    if (d == &google__protobuf__struct__descriptor) {
        write_struct(w, (const Google__Protobuf__Struct *)m, indent);
        return;
    }
    if (d == &google__protobuf__value__descriptor) {
        write_pb_value(w, (const Google__Protobuf__Value *)m, indent);
        return;
    }
    if (d == &google__protobuf__list_value__descriptor) {
        const Google__Protobuf__ListValue *l = (const Google__Protobuf__ListValue *)m;
        struct jscope sc;
        scope_open(&sc, w, indent, "[");
        for (size_t i = 0; i < l->n_values; i++) {
            scope_item(&sc);
            write_pb_value(w, l->values[i], indent + 1);
        }
        scope_close(&sc, "]");
        return;
    }
    if (d == &google__protobuf__any__descriptor) {
        write_any(w, (const Google__Protobuf__Any *)m, indent);
        return;
    }
    struct jscope sc;
    scope_open(&sc, w, indent, "{");
    write_fields(&sc, m);
    scope_close(&sc, "}");
}

int or_config_to_json(const ProtobufCMessage *m, bool pretty, char **out, size_t *len)
{
    struct jw w;
    memset(&w, 0, sizeof(w));
    w.pretty = pretty;
    *out = NULL;
    write_message(&w, m, 0);
    if (w.oom || w.buf == NULL) {
        free(w.buf);
        return OR_ENOMEM;
    }
    *out = w.buf;
    if (len != NULL)
        *len = w.len;
    return 0;
}
