#include "proxy/admin/json.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "proxy/core/err.h"

void or_json_init(struct or_json *w, struct evbuffer *out, unsigned indent, unsigned flags)
{
    memset(w, 0, sizeof(*w));
    w->out = out;
    w->indent = indent;
    w->flags = flags;
}

static void put(struct or_json *w, const char *s, size_t len)
{
    if (w->err == 0 && evbuffer_add(w->out, s, len) != 0)
        w->err = OR_ENOMEM;
}

static void put_lit(struct or_json *w, const char *s)
{
    put(w, s, strlen(s));
}

static void newline_indent(struct or_json *w)
{
    static const char spaces[] = "                                ";
    if (w->indent == 0)
        return;
    put(w, "\n", 1);
    size_t n = (size_t)w->depth * w->indent;
    while (n > 0 && w->err == 0) {
        size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;
        put(w, spaces, k);
        n -= k;
    }
}

/* Separator and indentation before a value. Inside an object the key already placed us. */
static bool begin_value(struct or_json *w)
{
    if (w->err != 0)
        return false;
    if (w->after_key) {
        w->after_key = false;
        return true;
    }
    if (w->depth > 0) {
        if (w->in_object[w->depth]) {
            w->err = OR_EINVAL; /* a value inside an object needs a key first */
            return false;
        }
        if (w->has_items[w->depth])
            put(w, ",", 1);
        newline_indent(w);
    }
    return w->err == 0;
}

static void end_value(struct or_json *w)
{
    if (w->depth > 0)
        w->has_items[w->depth] = true;
}

static void open_container(struct or_json *w, bool object)
{
    if (!begin_value(w))
        return;
    if (w->depth >= OR_JSON_MAX_DEPTH) {
        w->err = OR_EINVAL;
        return;
    }
    put(w, object ? "{" : "[", 1);
    w->depth++;
    w->in_object[w->depth] = object;
    w->has_items[w->depth] = false;
}

static void close_container(struct or_json *w, bool object)
{
    if (w->err != 0)
        return;
    if (w->depth == 0 || w->in_object[w->depth] != object || w->after_key) {
        w->err = OR_EINVAL;
        return;
    }
    bool had_items = w->has_items[w->depth];
    w->depth--;
    if (had_items)
        newline_indent(w);
    put(w, object ? "}" : "]", 1);
    end_value(w);
    /* protobuf's printer ends the root container with a newline. */
    if (w->depth == 0 && w->indent > 0)
        put(w, "\n", 1);
}

void or_json_object_begin(struct or_json *w)
{
    open_container(w, true);
}

void or_json_object_end(struct or_json *w)
{
    close_container(w, true);
}

void or_json_array_begin(struct or_json *w)
{
    open_container(w, false);
}

void or_json_array_end(struct or_json *w)
{
    close_container(w, false);
}

/* Decodes one UTF-8 sequence at s (n bytes available). Returns its length and sets *cp, or 0 if
 * the bytes are not well-formed UTF-8 (overlong, surrogate, out of range, truncated). */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xe0) == 0xc0) {
        len = 2;
        v = c & 0x1f;
        min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3;
        v = c & 0x0f;
        min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4;
        v = c & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

int or_json_escape(struct evbuffer *out, const char *str, size_t len, unsigned flags)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    size_t run = 0; /* start of the pending run of bytes copied verbatim */
    size_t i = 0;

    while (i < len) {
        unsigned char c = s[i];
        char esc[8];
        size_t esc_len = 0;
        size_t adv = 1;

        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\' &&
            !((flags & OR_JSON_F_ESCAPE_HTML) && (c == '<' || c == '>'))) {
            i++;
            continue;
        }
        if (c < 0x80) {
            switch (c) {
            case '"':
                memcpy(esc, "\\\"", 2);
                esc_len = 2;
                break;
            case '\\':
                memcpy(esc, "\\\\", 2);
                esc_len = 2;
                break;
            case '\b':
                memcpy(esc, "\\b", 2);
                esc_len = 2;
                break;
            case '\f':
                memcpy(esc, "\\f", 2);
                esc_len = 2;
                break;
            case '\n':
                memcpy(esc, "\\n", 2);
                esc_len = 2;
                break;
            case '\r':
                memcpy(esc, "\\r", 2);
                esc_len = 2;
                break;
            case '\t':
                memcpy(esc, "\\t", 2);
                esc_len = 2;
                break;
            default: /* other C0 controls, DEL, and '<' '>' under OR_JSON_F_ESCAPE_HTML */
                memcpy(esc, "\\u00", 4);
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 0xf];
                esc_len = 6;
                break;
            }
        } else {
            uint32_t cp = 0;
            size_t n = utf8_decode(s + i, len - i, &cp);
            if (n == 0) {
                memcpy(esc, "\xef\xbf\xbd", 3); /* U+FFFD for a byte that is not UTF-8 */
                esc_len = 3;
            } else if ((cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029) {
                /* C1 controls and the JavaScript line terminators, as protobuf escapes them. */
                memcpy(esc, "\\u", 2);
                esc[2] = hex[(cp >> 12) & 0xf];
                esc[3] = hex[(cp >> 8) & 0xf];
                esc[4] = hex[(cp >> 4) & 0xf];
                esc[5] = hex[cp & 0xf];
                esc_len = 6;
                adv = n;
            } else {
                i += n; /* valid UTF-8: kept as is */
                continue;
            }
        }
        if (i > run && evbuffer_add(out, s + run, i - run) != 0)
            return OR_ENOMEM;
        if (evbuffer_add(out, esc, esc_len) != 0)
            return OR_ENOMEM;
        i += adv;
        run = i;
    }
    if (i > run && evbuffer_add(out, s + run, i - run) != 0)
        return OR_ENOMEM;
    return 0;
}

static void put_quoted(struct or_json *w, const char *s, size_t len)
{
    put(w, "\"", 1);
    if (w->err == 0 && or_json_escape(w->out, s, len, w->flags) != 0)
        w->err = OR_ENOMEM;
    put(w, "\"", 1);
}

void or_json_key_n(struct or_json *w, const char *key, size_t len)
{
    if (w->err != 0)
        return;
    if (w->depth == 0 || !w->in_object[w->depth] || w->after_key) {
        w->err = OR_EINVAL;
        return;
    }
    if (w->has_items[w->depth])
        put(w, ",", 1);
    newline_indent(w);
    put_quoted(w, key, len);
    put_lit(w, w->indent > 0 ? ": " : ":");
    w->after_key = true;
}

void or_json_key(struct or_json *w, const char *key)
{
    or_json_key_n(w, key, strlen(key));
}

void or_json_string_n(struct or_json *w, const char *s, size_t len)
{
    if (!begin_value(w))
        return;
    put_quoted(w, s != NULL ? s : "", s != NULL ? len : 0);
    end_value(w);
}

void or_json_string(struct or_json *w, const char *s)
{
    or_json_string_n(w, s, s != NULL ? strlen(s) : 0);
}

void or_json_raw(struct or_json *w, const char *json, size_t len)
{
    if (!begin_value(w))
        return;
    put(w, json, len);
    end_value(w);
}

void or_json_bool(struct or_json *w, bool v)
{
    or_json_raw(w, v ? "true" : "false", v ? 4 : 5);
}

void or_json_null(struct or_json *w)
{
    or_json_raw(w, "null", 4);
}

void or_json_int(struct or_json *w, int64_t v)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%" PRId64, v);
    or_json_raw(w, buf, (size_t)n);
}

void or_json_uint(struct or_json *w, uint64_t v)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%" PRIu64, v);
    or_json_raw(w, buf, (size_t)n);
}

void or_json_int64_str(struct or_json *w, int64_t v)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "\"%" PRId64 "\"", v);
    or_json_raw(w, buf, (size_t)n);
}

void or_json_uint64_str(struct or_json *w, uint64_t v)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "\"%" PRIu64 "\"", v);
    or_json_raw(w, buf, (size_t)n);
}

void or_json_double(struct or_json *w, double v)
{
    char buf[40];
    int n;
    if (isnan(v)) {
        or_json_raw(w, "\"NaN\"", 5);
        return;
    }
    if (isinf(v)) {
        if (v > 0)
            or_json_raw(w, "\"Infinity\"", 10);
        else
            or_json_raw(w, "\"-Infinity\"", 11);
        return;
    }
    /* protobuf's SimpleDtoa: 15 significant digits when that reads back exactly, else 17. */
    n = snprintf(buf, sizeof(buf), "%.15g", v);
    if (strtod(buf, NULL) != v)
        n = snprintf(buf, sizeof(buf), "%.17g", v);
    or_json_raw(w, buf, (size_t)n);
}

void or_json_duration(struct or_json *w, int64_t seconds, int32_t nanos)
{
    char buf[48];
    int n;
    bool neg = seconds < 0 || nanos < 0;
    uint64_t s = seconds < 0 ? (uint64_t)0 - (uint64_t)seconds : (uint64_t)seconds;
    uint32_t ns = nanos < 0 ? (uint32_t)(-(int64_t)nanos) : (uint32_t)nanos;

    if (ns == 0)
        n = snprintf(buf, sizeof(buf), "\"%s%" PRIu64 "s\"", neg ? "-" : "", s);
    else if (ns % 1000000 == 0)
        n = snprintf(buf, sizeof(buf), "\"%s%" PRIu64 ".%03us\"", neg ? "-" : "", s, ns / 1000000);
    else if (ns % 1000 == 0)
        n = snprintf(buf, sizeof(buf), "\"%s%" PRIu64 ".%06us\"", neg ? "-" : "", s, ns / 1000);
    else
        n = snprintf(buf, sizeof(buf), "\"%s%" PRIu64 ".%09us\"", neg ? "-" : "", s, ns);
    or_json_raw(w, buf, (size_t)n);
}

int or_json_finish(struct or_json *w)
{
    if (w->err != 0)
        return w->err;
    if (w->depth != 0 || w->after_key)
        return OR_EINVAL;
    return 0;
}
