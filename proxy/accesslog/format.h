/* Envoy's substitution format language (access logs, and later local reply bodies), compiled once
 * on the main thread into an op list and rendered by workers without locks or system calls.
 *
 * Text formats follow Envoy's parser: `%%` is a literal '%', a command is
 * `%COMMAND(SUBCOMMAND):LENGTH%` with COMMAND in [A-Z0-9_], no newline is added. JSON formats
 * (google.protobuf.Struct) print one object per line followed by '\n'; string values are formats,
 * numbers are constants, nested objects and lists are allowed. In typed JSON (Envoy's json_format
 * in SubstitutionFormatString) a value made of exactly one operator keeps the operator's type:
 * numbers for %RESPONSE_CODE%, %DURATION%, %BYTES_*% ..., null when unset; anything else is a
 * string with "-" for unset parts. Keys come out in configuration order (sorted with
 * json_format_options.sort_properties). */
#ifndef OR_ACCESSLOG_FORMAT_H
#define OR_ACCESSLOG_FORMAT_H

#include <stdbool.h>
#include <stddef.h>

#include "envoy/config/core/v3/substitution_format_string.pb-c.h"
#include "google/protobuf/struct.pb-c.h"
#include "proxy/accesslog/info.h"
#include "proxy/core/err.h"

struct or_alog_format;
struct or_alog_cache;

/* Envoy's default access log format (SubstitutionFormatUtils::DEFAULT_FORMAT), newline included. */
extern const char OR_ALOG_DEFAULT_FORMAT[];

/* A growable output line; `oom` sticks once an allocation failed (the line is then dropped). */
struct or_alog_buf {
    char *p;    /* owned, malloc'd */
    size_t len; /* bytes in use */
    size_t cap; /* bytes allocated */
    bool oom;   /* an append failed */
};

void or_alog_buf_free(struct or_alog_buf *b);

/* Compiles a text format. `path` names the field in errors: on a bad format returns OR_EINVAL
 * with err->path = path and err->msg = Envoy's message (e.g. "Not supported field in StreamInfo:
 * FOO"). omit_empty prints unset values as "" instead of "-". OR_ENOMEM on allocation failure. */
int or_alog_format_compile_text(const char *text, size_t len, bool omit_empty,
                                struct or_alog_format **out, struct or_err_detail *err,
                                const char *path);

/* Compiles a JSON format. typed: SubstitutionFormatString.json_format semantics (see above);
 * untyped: the deprecated FileAccessLog.json_format (every value a string, "-" when unset).
 * Errors name the member, e.g. "<path>.my_key". */
int or_alog_format_compile_json(const Google__Protobuf__Struct *s, bool typed, bool omit_empty,
                                bool sort_keys, struct or_alog_format **out,
                                struct or_err_detail *err, const char *path);

/* Compiles a core.v3.SubstitutionFormatString (text_format, text_format_source {inline_string,
 * inline_bytes, filename (read now)}, json_format; omit_empty_values; json_format_options).
 * `path` is the path of the SubstitutionFormatString itself. */
int or_alog_format_from_proto(const Envoy__Config__Core__V3__SubstitutionFormatString *sfs,
                              struct or_alog_format **out, struct or_err_detail *err,
                              const char *path);

void or_alog_format_free(struct or_alog_format *f);

/* Per-thread state for rendering one format (the START_TIME second cache). NULL on OOM. */
struct or_alog_cache *or_alog_cache_new(const struct or_alog_format *f);
void or_alog_cache_free(struct or_alog_cache *c);

/* Appends the formatted record to `out`. `cache` may be NULL (slower START_TIME). Never fails:
 * on OOM out->oom is set. */
void or_alog_format_render(const struct or_alog_format *f, const struct or_access_log_info *info,
                           struct or_alog_cache *cache, struct or_alog_buf *out);

#endif
