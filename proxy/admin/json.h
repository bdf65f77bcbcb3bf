/* A small streaming JSON writer into an evbuffer, laid out like protobuf's JSON printer
 * (JsonPrintOptions.add_whitespace) so admin output is byte-for-byte Envoy's shape:
 *
 *   {
 *    "key": "value",
 *    "list": [
 *     1
 *    ],
 *    "empty": {}
 *   }
 *
 * one field per line, `indent` spaces per level (protobuf uses 1), "key": value with one space,
 * "{}" / "[]" for empty containers and a newline after the root container. indent 0 gives compact
 * output ({"key":"value"}).
 *
 * Strings are escaped as protobuf does: '"' '\\' and C0 controls (\b \f \n \r \t, else \u00XX),
 * DEL, C1 controls and U+2028/U+2029 as \uXXXX; '<' and '>' as \u003c / \u003e when
 * OR_JSON_F_ESCAPE_HTML is set (protobuf always does). Other non-ASCII is kept as UTF-8; invalid
 * UTF-8 bytes become U+FFFD so the output is always valid JSON.
 *
 * Calls never fail individually: the first error (OR_ENOMEM, or OR_EINVAL for misuse such as a
 * value where a key is required or nesting deeper than OR_JSON_MAX_DEPTH) is kept in `err` and
 * later calls do nothing. Check or_json_finish(). */
#ifndef OR_ADMIN_JSON_H
#define OR_ADMIN_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evbuffer;

#define OR_JSON_MAX_DEPTH 64

#define OR_JSON_F_ESCAPE_HTML 0x1u /* escape '<' '>' as \u003c \u003e (protobuf's behaviour) */

struct or_json {
    struct evbuffer *out; /* borrowed: output is appended here */
    unsigned indent;      /* spaces per nesting level; 0 = compact */
    unsigned flags;       /* OR_JSON_F_* */
    int depth;            /* open containers */
    int err;              /* first error, 0 if none */
    bool after_key;       /* a key was written: the next value goes right after it */
    bool in_object[OR_JSON_MAX_DEPTH + 1]; /* container at this depth is an object */
    bool has_items[OR_JSON_MAX_DEPTH + 1]; /* container at this depth has an element already */
};

/* Protobuf/Envoy admin layout: 1-space indent, HTML escaping. */
#define OR_JSON_PROTOBUF_INDENT 1

void or_json_init(struct or_json *w, struct evbuffer *out, unsigned indent, unsigned flags);

void or_json_object_begin(struct or_json *w);
void or_json_object_end(struct or_json *w);
void or_json_array_begin(struct or_json *w);
void or_json_array_end(struct or_json *w);

/* Object member name; must be followed by exactly one value (scalar or container). */
void or_json_key(struct or_json *w, const char *key);
void or_json_key_n(struct or_json *w, const char *key, size_t len);

/* NULL writes "" (proto3 strings are never null). */
void or_json_string(struct or_json *w, const char *s);
void or_json_string_n(struct or_json *w, const char *s, size_t len);
void or_json_bool(struct or_json *w, bool v);
void or_json_null(struct or_json *w);
/* 32-bit and smaller proto integers: bare numbers. */
void or_json_int(struct or_json *w, int64_t v);
void or_json_uint(struct or_json *w, uint64_t v);
/* proto3 int64/uint64: quoted decimal strings ("0"). */
void or_json_int64_str(struct or_json *w, int64_t v);
void or_json_uint64_str(struct or_json *w, uint64_t v);
/* Shortest text that reads back as the same double; NaN/±Inf as "NaN"/"Infinity"/"-Infinity"
 * strings (proto3 JSON). */
void or_json_double(struct or_json *w, double v);
/* google.protobuf.Duration: "600s", "0.010s", "1.000000500s" (0, 3, 6 or 9 fraction digits). */
void or_json_duration(struct or_json *w, int64_t seconds, int32_t nanos);
/* A pre-rendered JSON value, copied verbatim (the caller vouches for its validity). */
void or_json_raw(struct or_json *w, const char *json, size_t len);

/* Returns w->err, or OR_EINVAL if containers are still open. */
int or_json_finish(struct or_json *w);

/* Appends the escaped form of s[0..len) (no surrounding quotes) to out, with OR_JSON_F_* flags.
 * For other writers of JSON (access logs). Returns 0 or OR_ENOMEM. */
int or_json_escape(struct evbuffer *out, const char *s, size_t len, unsigned flags);

#endif
