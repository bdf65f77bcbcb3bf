/* RE2 behind a C interface: Envoy's safe_regex engine (GoogleRE2) for route, header and query
 * matchers, regex rewrites and stats tag/filter expressions.
 *
 * A compiled `struct or_regex` is immutable after or_regex_compile() and may be used from any
 * number of threads at once (RE2 objects are thread-safe for matching). No C++ exception ever
 * crosses this interface: every entry point is noexcept and allocation failures are reported as
 * NULL / OR_ENOMEM. */
#ifndef OR_ROUTER_REGEX_H
#define OR_ROUTER_REGEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proxy/core/arena.h"
#include "proxy/core/err.h"
#include "proxy/core/str.h"

#ifdef __cplusplus
extern "C" {
#define OR_REGEX_NOEXCEPT noexcept
#else
#define OR_REGEX_NOEXCEPT
#endif

/* Envoy's runtime default for `re2.max_program_size.error_level`: a pattern whose RE2 program is
 * larger is rejected at config time. */
#define OR_REGEX_DEFAULT_MAX_PROGRAM_SIZE 100u
/* Pass as max_program_size to disable the check (e.g. for patterns the proxy itself owns). */
#define OR_REGEX_NO_PROGRAM_SIZE_LIMIT UINT32_MAX

struct or_regex;

/**
 * Compiles `pattern` (len bytes, need not be NUL-terminated) with Envoy's defaults: RE2 syntax,
 * UTF-8, no logging, and a maximum program size of OR_REGEX_DEFAULT_MAX_PROGRAM_SIZE.
 * @return the compiled regex, or NULL with err->msg set (RE2's own message for a syntax error,
 *         Envoy's wording for an oversized program, "out of memory" on OOM). err->path is left
 *         alone so the caller can name the config field. `err` may be NULL.
 */
struct or_regex *or_regex_compile(const char *pattern, size_t len,
                                  struct or_err_detail *err) OR_REGEX_NOEXCEPT;

/**
 * As or_regex_compile() with an explicit program size limit. 0 means the default (100).
 * When `legacy_limit` is true the limit comes from the deprecated
 * RegexMatcher.google_re2.max_program_size field: it is taken as is (0 rejects every pattern)
 * and the error message is the one Envoy uses for that field.
 */
struct or_regex *or_regex_compile_ex(const char *pattern, size_t len, uint32_t max_program_size,
                                     bool legacy_limit,
                                     struct or_err_detail *err) OR_REGEX_NOEXCEPT;

/** True when the WHOLE of s[0..len) matches (Envoy safe_regex semantics, RE2::FullMatch). */
bool or_regex_full_match(const struct or_regex *re, const char *s, size_t len) OR_REGEX_NOEXCEPT;

/** True when some substring of s[0..len) matches (RE2::PartialMatch, e.g. /stats?filter=). */
bool or_regex_partial_match(const struct or_regex *re, const char *s, size_t len) OR_REGEX_NOEXCEPT;

/**
 * Match with capture groups. groups[0] is the whole match, groups[i] the i-th capture group
 * (OR_STR_NULL when that group did not participate). Slices point into `s`.
 * @param full  true: the whole input must match; false: first match anywhere.
 * @param n     number of slots in `groups`, at most 1 + or_regex_capture_count(re); 0 allowed.
 * @return true on a match.
 */
bool or_regex_match_groups(const struct or_regex *re, const char *s, size_t len, bool full,
                           struct or_str *groups, unsigned n) OR_REGEX_NOEXCEPT;

/** Number of capturing groups in the pattern. */
int or_regex_capture_count(const struct or_regex *re) OR_REGEX_NOEXCEPT;

/** RE2 program size (what the max program size check compares). */
int or_regex_program_size(const struct or_regex *re) OR_REGEX_NOEXCEPT;

/** The pattern as compiled (NUL-terminated, owned by `re`). */
const char *or_regex_pattern(const struct or_regex *re) OR_REGEX_NOEXCEPT;

/**
 * Replaces every non-overlapping match in s[0..len) by `rewrite` (which may use \0..\9 to refer
 * to groups), as RE2::GlobalReplace / Envoy's regex_rewrite substitution.
 * @param out  set to the result, allocated in `a` (NUL-terminated).
 * @return number of replacements made (>= 0), OR_EINVAL when `rewrite` refers to a group the
 *         pattern lacks, OR_ENOMEM.
 */
ssize_t or_regex_replace_all(const struct or_regex *re, const char *s, size_t len,
                             const char *rewrite, size_t rlen, struct or_arena *a,
                             struct or_str *out) OR_REGEX_NOEXCEPT;

/**
 * Checks a rewrite string against the pattern (\N references within range) at config time.
 * @return true when valid; otherwise false with err->msg set.
 */
bool or_regex_check_rewrite(const struct or_regex *re, const char *rewrite, size_t rlen,
                            struct or_err_detail *err) OR_REGEX_NOEXCEPT;

/** Frees `re` (NULL is fine). */
void or_regex_free(struct or_regex *re) OR_REGEX_NOEXCEPT;

/* ---- regex sets: many full-match patterns run in one pass (RE2::Set, ANCHOR_BOTH) ---- */

struct or_regex_set;

/** Called with each matching pattern index, ascending; return true to stop. */
typedef bool (*or_regex_set_match_cb)(void *ctx, uint32_t index);

/**
 * An empty set whose patterns will be matched against the whole input (safe_regex semantics).
 * @param max_mem  RE2 memory budget for the compiled program and its DFA cache (0 = RE2's
 *                 default, 8 MiB). The cache grows only as inputs need new states.
 * @return NULL on OOM.
 */
struct or_regex_set *or_regex_set_new(uint64_t max_mem) OR_REGEX_NOEXCEPT;

/**
 * Adds a pattern (Envoy's RE2 options, as or_regex_compile()). Indices are 0, 1, ... in order of
 * successful calls. Not after or_regex_set_compile().
 * @return the pattern's index, OR_EINVAL with err->msg set (RE2's parse error), OR_ENOMEM.
 */
int or_regex_set_add(struct or_regex_set *s, const char *pattern, size_t len,
                     struct or_err_detail *err) OR_REGEX_NOEXCEPT;

/**
 * Compiles the set; after this only or_regex_set_match() may be called.
 * @return 0, or OR_ENOMEM when the program does not fit the memory budget (the caller then
 *         matches the patterns one by one).
 */
int or_regex_set_compile(struct or_regex_set *s) OR_REGEX_NOEXCEPT;

/**
 * Runs every pattern over s[0..len) in one DFA pass and calls `cb` with the index of each
 * pattern that matches the WHOLE input, in ascending order, until `cb` returns true. Thread-safe
 * on a compiled set; `cb` may use other regexes but must not re-enter this set.
 * @return the number of matching patterns (>= 0, including those after `cb` stopped), or
 *         OR_ENOMEM when RE2 gave up (DFA out of memory): nothing was reported and the caller
 *         must match the patterns one by one.
 */
int or_regex_set_match(const struct or_regex_set *s, const char *text, size_t len,
                       or_regex_set_match_cb cb, void *ctx) OR_REGEX_NOEXCEPT;

/** Number of patterns added. */
uint32_t or_regex_set_count(const struct or_regex_set *s) OR_REGEX_NOEXCEPT;

/** Frees `s` (NULL is fine). */
void or_regex_set_free(struct or_regex_set *s) OR_REGEX_NOEXCEPT;

#ifdef __cplusplus
}
#endif

#endif
