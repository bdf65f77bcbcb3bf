// RE2 shim: the only C++ in the proxy. Written to build with -fno-exceptions: no try/catch, no
// throwing new on our side, and every extern "C" entry point is noexcept so that an exception from
// inside RE2 (only std::bad_alloc is possible) terminates instead of unwinding through C frames.
// The core headers have no extern "C" guards of their own.
extern "C" {
#include "proxy/core/arena.h"
#include "proxy/core/err.h"
#include "proxy/core/str.h"
}
#include "proxy/router/regex.h"

#include <re2/re2.h>
#include <re2/set.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <new>
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

struct or_regex {
    re2::RE2 re;
    explicit or_regex(const re2::StringPiece &p, const re2::RE2::Options &o) : re(p, o)
    {
    }
};

static void set_msg(struct or_err_detail *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_msg(struct or_err_detail *err, const char *fmt, ...)
{
    if (err == nullptr)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
}

extern "C" struct or_regex *or_regex_compile_ex(const char *pattern, size_t len,
                                                uint32_t max_program_size, bool legacy_limit,
                                                struct or_err_detail *err) noexcept
{
    re2::RE2::Options opts;
    // Envoy builds every safe_regex with RE2::Quiet: defaults plus no logging of errors.
    opts.set_log_errors(false);
    struct or_regex *r = new (std::nothrow) or_regex(re2::StringPiece(pattern, len), opts);
    if (r == nullptr) {
        set_msg(err, "out of memory");
        return nullptr;
    }
    if (!r->re.ok()) {
        // Envoy reports RE2's error text verbatim.
        set_msg(err, "%s", r->re.error().c_str());
        delete r;
        return nullptr;
    }
    if (max_program_size == 0 && !legacy_limit)
        max_program_size = OR_REGEX_DEFAULT_MAX_PROGRAM_SIZE;
    const int size = r->re.ProgramSize();
    if (max_program_size != OR_REGEX_NO_PROGRAM_SIZE_LIMIT && size >= 0 &&
        static_cast<uint32_t>(size) > max_program_size) {
        if (legacy_limit)
            set_msg(err,
                    "regex '%.*s' RE2 program size of %d > max program size of %u. Increase "
                    "configured max program size if necessary.",
                    static_cast<int>(len > 200 ? 200 : len), pattern, size, max_program_size);
        else
            set_msg(err,
                    "regex '%.*s' RE2 program size of %d > max program size of %u set for the "
                    "error level threshold. Increase configured max program size if necessary.",
                    static_cast<int>(len > 200 ? 200 : len), pattern, size, max_program_size);
        delete r;
        return nullptr;
    }
    return r;
}

extern "C" struct or_regex *or_regex_compile(const char *pattern, size_t len,
                                             struct or_err_detail *err) noexcept
{
    return or_regex_compile_ex(pattern, len, 0, false, err);
}

extern "C" bool or_regex_full_match(const struct or_regex *re, const char *s, size_t len) noexcept
{
    return re2::RE2::FullMatch(re2::StringPiece(s, len), re->re);
}

extern "C" bool or_regex_partial_match(const struct or_regex *re, const char *s,
                                       size_t len) noexcept
{
    return re2::RE2::PartialMatch(re2::StringPiece(s, len), re->re);
}

extern "C" bool or_regex_match_groups(const struct or_regex *re, const char *s, size_t len,
                                      bool full, struct or_str *groups, unsigned n) noexcept
{
    // Envoy's tag extractors use at most a handful of groups; 16 keeps this allocation-free.
    enum { MAX_GROUPS = 16 };
    re2::StringPiece sub[MAX_GROUPS];
    if (n > MAX_GROUPS)
        n = MAX_GROUPS;
    const unsigned cap = static_cast<unsigned>(re->re.NumberOfCapturingGroups()) + 1;
    if (n > cap)
        n = cap;
    re2::StringPiece text(s, len);
    if (!re->re.Match(text, 0, len, full ? re2::RE2::ANCHOR_BOTH : re2::RE2::UNANCHORED, sub,
                      static_cast<int>(n)))
        return false;
    for (unsigned i = 0; i < n; i++) {
        if (sub[i].data() == nullptr)
            groups[i] = OR_STR_NULL;
        else
            groups[i] = or_str_make(sub[i].data(), sub[i].size());
    }
    return true;
}

extern "C" int or_regex_capture_count(const struct or_regex *re) noexcept
{
    return re->re.NumberOfCapturingGroups();
}

extern "C" int or_regex_program_size(const struct or_regex *re) noexcept
{
    return re->re.ProgramSize();
}

extern "C" const char *or_regex_pattern(const struct or_regex *re) noexcept
{
    return re->re.pattern().c_str();
}

extern "C" bool or_regex_check_rewrite(const struct or_regex *re, const char *rewrite, size_t rlen,
                                       struct or_err_detail *err) noexcept
{
    std::string why;
    if (re->re.CheckRewriteString(re2::StringPiece(rewrite, rlen), &why))
        return true;
    set_msg(err, "%s", why.c_str());
    return false;
}

extern "C" ssize_t or_regex_replace_all(const struct or_regex *re, const char *s, size_t len,
                                        const char *rewrite, size_t rlen, struct or_arena *a,
                                        struct or_str *out) noexcept
{
    re2::StringPiece rw(rewrite, rlen);
    std::string why;
    if (!re->re.CheckRewriteString(rw, &why))
        return OR_EINVAL;
    std::string str(s, len);
    const int n = re2::RE2::GlobalReplace(&str, re->re, rw);
    char *p = or_arena_strndup(a, str.data(), str.size());
    if (p == nullptr)
        return OR_ENOMEM;
    *out = or_str_make(p, str.size());
    return n;
}

extern "C" void or_regex_free(struct or_regex *re) noexcept
{
    delete re;
}

struct or_regex_set {
    re2::RE2::Set set;
    uint32_t n = 0;
    bool compiled = false;
    explicit or_regex_set(const re2::RE2::Options &o) : set(o, re2::RE2::ANCHOR_BOTH)
    {
    }
};

extern "C" struct or_regex_set *or_regex_set_new(uint64_t max_mem) noexcept
{
    re2::RE2::Options opts;
    opts.set_log_errors(false);
    if (max_mem != 0)
        opts.set_max_mem(static_cast<int64_t>(max_mem));
    return new (std::nothrow) or_regex_set(opts);
}

extern "C" int or_regex_set_add(struct or_regex_set *s, const char *pattern, size_t len,
                                struct or_err_detail *err) noexcept
{
    if (s->compiled) {
        set_msg(err, "regex set already compiled");
        return OR_EINVAL;
    }
    std::string why;
    const int i = s->set.Add(re2::StringPiece(pattern, len), &why);
    if (i < 0) {
        set_msg(err, "%s", why.c_str());
        return OR_EINVAL;
    }
    s->n++;
    return i;
}

extern "C" int or_regex_set_compile(struct or_regex_set *s) noexcept
{
    if (s->compiled)
        return 0;
    if (!s->set.Compile())
        return OR_ENOMEM;
    s->compiled = true;
    return 0;
}

extern "C" int or_regex_set_match(const struct or_regex_set *s, const char *text, size_t len,
                                  or_regex_set_match_cb cb, void *ctx) noexcept
{
    if (!s->compiled)
        return OR_ENOMEM;
    // One vector per thread keeps matching allocation-free once warm (RE2 itself still allocates
    // a small sparse set per call). It is moved out for the call so a callback that matches
    // another set on this thread cannot clobber it.
    re2::RE2::Set::ErrorInfo info;
    info.kind = re2::RE2::Set::kNoError;
    // A first pass without the match list: RE2 allocates its scratch set only when asked for
    // the indices, and most inputs match no pattern of a route table.
    if (!s->set.Match(re2::StringPiece(text, len), nullptr, &info))
        return info.kind == re2::RE2::Set::kNoError ? 0 : OR_ENOMEM;
    static thread_local std::vector<int> tls;
    std::vector<int> v = std::move(tls);
    int rc = 0;
    if (!s->set.Match(re2::StringPiece(text, len), &v, &info)) {
        rc = info.kind == re2::RE2::Set::kNoError ? 0 : OR_ENOMEM;
    } else {
        std::sort(v.begin(), v.end());
        rc = static_cast<int>(v.size());
        for (int i : v)
            if (cb(ctx, static_cast<uint32_t>(i)))
                break;
    }
    v.clear();
    tls = std::move(v);
    return rc;
}

extern "C" uint32_t or_regex_set_count(const struct or_regex_set *s) noexcept
{
    return s->n;
}

extern "C" void or_regex_set_free(struct or_regex_set *s) noexcept
{
    delete s;
}
