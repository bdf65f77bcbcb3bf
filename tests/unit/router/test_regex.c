/* RE2 shim: full vs partial match, program size limit, errors, groups, replace. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/router/regex.h"

static struct or_regex *re(const char *p)
{
    struct or_err_detail err = {0};
    struct or_regex *r = or_regex_compile(p, strlen(p), &err);
    if (r == NULL)
        fail_msg("compile %s: %s", p, err.msg);
    return r;
}

static void test_full_and_partial(void **state)
{
    struct or_regex *r = re("/api/v[0-9]+");
    assert_true(or_regex_full_match(r, "/api/v12", 8));
    assert_false(or_regex_full_match(r, "/api/v12/x", 10));
    assert_false(or_regex_full_match(r, "x/api/v1", 8));
    assert_true(or_regex_partial_match(r, "x/api/v1/y", 10));
    assert_false(or_regex_partial_match(r, "/api/x", 6));
    /* Not NUL-terminated input: only len bytes count. */
    assert_true(or_regex_full_match(r, "/api/v1ZZZ", 7));
    assert_string_equal(or_regex_pattern(r), "/api/v[0-9]+");
    or_regex_free(r);

    /* Pattern given with an explicit length. */
    struct or_regex *r2 = or_regex_compile("abcdef", 3, NULL);
    assert_non_null(r2);
    assert_true(or_regex_full_match(r2, "abc", 3));
    assert_true(or_regex_full_match(r2, "", 0) == false);
    or_regex_free(r2);

    struct or_regex *empty = re(".*");
    assert_true(or_regex_full_match(empty, "", 0));
    assert_true(or_regex_full_match(empty, NULL, 0));
    or_regex_free(empty);
    or_regex_free(NULL);
}

static void test_errors(void **state)
{
    struct or_err_detail err = {0};
    snprintf(err.path, sizeof(err.path), "%s", "keep");
    assert_null(or_regex_compile("(abc", 4, &err));
    assert_string_equal(err.msg, "missing ): (abc");
    assert_string_equal(err.path, "keep");
    assert_null(or_regex_compile("a**", 3, &err));
    assert_null(or_regex_compile("x{2,1}", 6, &err));
    assert_null(or_regex_compile("(?<name>x)", 10, &err)); /* RE2 wants (?P<name>) */
    assert_null(or_regex_compile("\\1", 2, &err));         /* no backreferences */
    assert_null(or_regex_compile("(abc", 4, NULL));        /* err optional */
}

static void test_program_size(void **state)
{
    struct or_err_detail err = {0};
    /* Envoy's default error level is 100. */
    const char *big = "a{0,200}";
    struct or_regex *r = or_regex_compile(big, strlen(big), &err);
    assert_null(r);
    assert_non_null(strstr(err.msg, "regex 'a{0,200}' RE2 program size of "));
    assert_non_null(strstr(err.msg, "> max program size of 100 set for the error level threshold. "
                                    "Increase configured max program size if necessary."));

    r = or_regex_compile_ex(big, strlen(big), 1000, true, &err);
    assert_non_null(r);
    assert_true(or_regex_program_size(r) > 100);
    or_regex_free(r);

    assert_null(or_regex_compile_ex(big, strlen(big), 50, true, &err));
    assert_non_null(strstr(err.msg, "> max program size of 50. Increase configured"));

    r = or_regex_compile_ex(big, strlen(big), OR_REGEX_NO_PROGRAM_SIZE_LIMIT, false, &err);
    assert_non_null(r);
    or_regex_free(r);

    /* Exactly at the limit is accepted. */
    r = re("abc");
    int size = or_regex_program_size(r);
    or_regex_free(r);
    assert_non_null(r = or_regex_compile_ex("abc", 3, (uint32_t)size, false, &err));
    or_regex_free(r);
    assert_null(or_regex_compile_ex("abc", 3, (uint32_t)size - 1, false, &err));
}

static void test_groups(void **state)
{
    /* Envoy's default tag extractor shape: ^cluster\.((.+?)\.) */
    struct or_regex *r = re("^cluster\\.((.+?)\\.)");
    assert_int_equal(or_regex_capture_count(r), 2);
    struct or_str g[3];
    const char *name = "cluster.backend.upstream_rq_total";
    assert_true(or_regex_match_groups(r, name, strlen(name), false, g, 3));
    assert_true(or_str_eq_lit(g[0], "cluster.backend."));
    assert_true(or_str_eq_lit(g[1], "backend."));
    assert_true(or_str_eq_lit(g[2], "backend"));
    assert_false(or_regex_match_groups(r, name, strlen(name), true, g, 3));
    assert_false(or_regex_match_groups(r, "http.x", 6, false, g, 3));
    or_regex_free(r);

    r = re("(a)|(b)");
    assert_true(or_regex_match_groups(r, "b", 1, true, g, 3));
    assert_null(g[1].ptr);
    assert_true(or_str_eq_lit(g[2], "b"));
    assert_true(or_regex_match_groups(r, "a", 1, true, NULL, 0));
    or_regex_free(r);
}

static void test_replace(void **state)
{
    struct or_arena a;
    or_arena_init(&a, 0);
    struct or_str out;
    struct or_regex *r = re("^/service/([^/]+)(/.*)$");
    assert_int_equal(
        or_regex_replace_all(r, "/service/foo/v1/api", 19, "\\2/instance/\\1", 14, &a, &out), 1);
    assert_true(or_str_eq_lit(out, "/v1/api/instance/foo"));
    assert_int_equal(or_regex_replace_all(r, "/other", 6, "x", 1, &a, &out), 0);
    assert_true(or_str_eq_lit(out, "/other"));
    struct or_err_detail err = {0};
    assert_true(or_regex_check_rewrite(r, "\\1\\2", 4, &err));
    assert_false(or_regex_check_rewrite(r, "\\3", 2, &err));
    assert_true(strlen(err.msg) > 0);
    assert_int_equal(or_regex_replace_all(r, "/service/a/b", 12, "\\3", 2, &a, &out), OR_EINVAL);
    or_regex_free(r);

    r = re("o");
    assert_int_equal(or_regex_replace_all(r, "foo boo", 7, "0", 1, &a, &out), 4);
    assert_true(or_str_eq_lit(out, "f00 b00"));
    or_regex_free(r);
    or_arena_deinit(&a);
}

struct seen {
    uint32_t idx[16];
    unsigned n;
    unsigned stop_after; /* stop once this many were seen (0: never) */
};

static bool on_match(void *ctx, uint32_t i)
{
    struct seen *s = ctx;
    s->idx[s->n++] = i;
    return s->stop_after != 0 && s->n >= s->stop_after;
}

static void test_set(void **state)
{
    struct or_regex_set *s = or_regex_set_new(0);
    assert_non_null(s);
    static const char *const pats[] = {"/a/[0-9]+", "/a/.*", ".*", "/b", "(?i)/A/1"};
    for (unsigned i = 0; i < 5; i++)
        assert_int_equal(or_regex_set_add(s, pats[i], strlen(pats[i]), NULL), (int)i);
    struct or_err_detail err = {0};
    assert_int_equal(or_regex_set_add(s, "(", 1, &err), OR_EINVAL);
    assert_true(strlen(err.msg) > 0);
    assert_int_equal(or_regex_set_count(s), 5);
    assert_int_equal(or_regex_set_compile(s), 0);

    /* Whole-input matches only, reported in ascending order. */
    struct seen got = {0};
    assert_int_equal(or_regex_set_match(s, "/a/1", 4, on_match, &got), 4);
    assert_int_equal(got.n, 4);
    assert_int_equal(got.idx[0], 0);
    assert_int_equal(got.idx[1], 1);
    assert_int_equal(got.idx[2], 2);
    assert_int_equal(got.idx[3], 4);
    got = (struct seen){.stop_after = 1};
    assert_int_equal(or_regex_set_match(s, "/a/1x", 5, on_match, &got), 2);
    assert_int_equal(got.n, 1);
    assert_int_equal(got.idx[0], 1);
    got = (struct seen){0};
    assert_int_equal(or_regex_set_match(s, "/bb", 3, on_match, &got), 1); /* only ".*" */
    assert_int_equal(got.idx[0], 2);
    /* Only len bytes count. */
    got = (struct seen){0};
    assert_int_equal(or_regex_set_match(s, "/bXXX", 2, on_match, &got), 2);
    or_regex_set_free(s);

    s = or_regex_set_new(0);
    assert_int_equal(or_regex_set_add(s, "/x", 2, NULL), 0);
    assert_int_equal(or_regex_set_compile(s), 0);
    got = (struct seen){0};
    assert_int_equal(or_regex_set_match(s, "/y", 2, on_match, &got), 0);
    assert_int_equal(got.n, 0);
    or_regex_set_free(s);

    /* A program beyond the memory budget: compile reports it, the caller falls back. */
    s = or_regex_set_new(2048);
    assert_int_equal(or_regex_set_add(s, "[a-z]{50}[0-9]{50}", 18, NULL), 0);
    assert_int_equal(or_regex_set_compile(s), OR_ENOMEM);
    assert_true(or_regex_set_match(s, "a", 1, on_match, &got) < 0);
    or_regex_set_free(s);
    or_regex_set_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_and_partial), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_program_size),     cmocka_unit_test(test_groups),
        cmocka_unit_test(test_replace),          cmocka_unit_test(test_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
