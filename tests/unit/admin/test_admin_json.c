/* The JSON writer: protobuf's pretty layout, compact layout, escaping, numbers, misuse. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "proxy/admin/json.h"
#include "proxy/core/err.h"

/* Returns the buffer's bytes as a NUL-terminated malloc'd string and empties it. */
static char *take(struct evbuffer *b)
{
    size_t n = evbuffer_get_length(b);
    char *s = malloc(n + 1);
    assert_non_null(s);
    evbuffer_remove(b, s, n);
    s[n] = '\0';
    return s;
}

static void assert_output(struct evbuffer *b, const char *expect)
{
    char *s = take(b);
    if (strcmp(s, expect) != 0)
        fail_msg("got:\n%s\nexpected:\n%s", s, expect);
    free(s);
}

static void test_pretty_layout(void **state)
{
    struct evbuffer *b = evbuffer_new();
    struct or_json w;
    or_json_init(&w, b, OR_JSON_PROTOBUF_INDENT, OR_JSON_F_ESCAPE_HTML);
    or_json_object_begin(&w);
    or_json_key(&w, "version");
    or_json_string(&w, "abc/1.2.3/Clean/RELEASE/BoringSSL");
    or_json_key(&w, "state");
    or_json_string(&w, "LIVE");
    or_json_key(&w, "opts");
    or_json_object_begin(&w);
    or_json_key(&w, "base_id");
    or_json_uint64_str(&w, 0);
    or_json_key(&w, "concurrency");
    or_json_uint(&w, 2);
    or_json_key(&w, "list");
    or_json_array_begin(&w);
    or_json_string(&w, "a");
    or_json_string(&w, "b");
    or_json_array_end(&w);
    or_json_key(&w, "empty_list");
    or_json_array_begin(&w);
    or_json_array_end(&w);
    or_json_key(&w, "empty_obj");
    or_json_object_begin(&w);
    or_json_object_end(&w);
    or_json_key(&w, "flag");
    or_json_bool(&w, false);
    or_json_object_end(&w);
    or_json_key(&w, "nested");
    or_json_array_begin(&w);
    or_json_object_begin(&w);
    or_json_key(&w, "x");
    or_json_null(&w);
    or_json_object_end(&w);
    or_json_array_end(&w);
    or_json_object_end(&w);
    assert_int_equal(or_json_finish(&w), 0);
    assert_output(b, "{\n"
                     " \"version\": \"abc/1.2.3/Clean/RELEASE/BoringSSL\",\n"
                     " \"state\": \"LIVE\",\n"
                     " \"opts\": {\n"
                     "  \"base_id\": \"0\",\n"
                     "  \"concurrency\": 2,\n"
                     "  \"list\": [\n"
                     "   \"a\",\n"
                     "   \"b\"\n"
                     "  ],\n"
                     "  \"empty_list\": [],\n"
                     "  \"empty_obj\": {},\n"
                     "  \"flag\": false\n"
                     " },\n"
                     " \"nested\": [\n"
                     "  {\n"
                     "   \"x\": null\n"
                     "  }\n"
                     " ]\n"
                     "}\n");
    evbuffer_free(b);
}

static void test_indent_two_and_compact(void **state)
{
    struct evbuffer *b = evbuffer_new();
    struct or_json w;
    or_json_init(&w, b, 2, 0);
    or_json_object_begin(&w);
    or_json_key(&w, "a");
    or_json_array_begin(&w);
    or_json_int(&w, -1);
    or_json_array_end(&w);
    or_json_object_end(&w);
    assert_int_equal(or_json_finish(&w), 0);
    assert_output(b, "{\n  \"a\": [\n    -1\n  ]\n}\n");

    or_json_init(&w, b, 0, 0);
    or_json_object_begin(&w);
    or_json_key(&w, "a");
    or_json_array_begin(&w);
    or_json_int(&w, 1);
    or_json_bool(&w, true);
    or_json_array_end(&w);
    or_json_key(&w, "b");
    or_json_object_begin(&w);
    or_json_object_end(&w);
    or_json_object_end(&w);
    assert_int_equal(or_json_finish(&w), 0);
    assert_output(b, "{\"a\":[1,true],\"b\":{}}");

    /* A scalar at the root. */
    or_json_init(&w, b, 1, 0);
    or_json_string(&w, "x");
    assert_int_equal(or_json_finish(&w), 0);
    assert_output(b, "\"x\"");
    evbuffer_free(b);
}

static void test_escaping(void **state)
{
    struct evbuffer *b = evbuffer_new();

    const char in1[] = "q\" b\\ \b\f\n\r\t \x01\x1f\x7f /";
    assert_int_equal(or_json_escape(b, in1, sizeof(in1) - 1, 0), 0);
    assert_output(b, "q\\\" b\\\\ \\b\\f\\n\\r\\t \\u0001\\u001f\\u007f /");

    /* NUL inside the slice is escaped, not a terminator. */
    assert_int_equal(or_json_escape(b, "a\0b", 3, 0), 0);
    assert_output(b, "a\\u0000b");

    assert_int_equal(or_json_escape(b, "<a>&", 4, OR_JSON_F_ESCAPE_HTML), 0);
    assert_output(b, "\\u003ca\\u003e&");
    assert_int_equal(or_json_escape(b, "<a>", 3, 0), 0);
    assert_output(b, "<a>");

    /* Valid UTF-8 is kept: é (2 bytes), € (3), 😀 (4). */
    const char utf8[] = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
    assert_int_equal(or_json_escape(b, utf8, sizeof(utf8) - 1, OR_JSON_F_ESCAPE_HTML), 0);
    assert_output(b, utf8);

    /* C1 control U+0085 and U+2028/U+2029 are escaped like protobuf does. */
    const char seps[] = "\xc2\x85|\xe2\x80\xa8|\xe2\x80\xa9";
    assert_int_equal(or_json_escape(b, seps, sizeof(seps) - 1, 0), 0);
    assert_output(b, "\\u0085|\\u2028|\\u2029");

    /* Invalid UTF-8: lone continuation, truncated sequence, overlong, surrogate, > U+10FFFF. */
    const char bad[] = "\x80|\xc3|\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80|ok";
    assert_int_equal(or_json_escape(b, bad, sizeof(bad) - 1, 0), 0);
    char *s = take(b);
    const char *r = "\xef\xbf\xbd";
    char expect[128];
    /* One U+FFFD per rejected lead byte; its continuation bytes are then rejected one by one. */
    snprintf(expect, sizeof(expect), "%s|%s|%s%s|%s%s%s|%s%s%s%s|ok", r, r, r, r, r, r, r, r, r, r,
             r);
    assert_string_equal(s, expect);
    free(s);

    /* Through the writer: key and value are escaped, NULL is "". */
    struct or_json w;
    or_json_init(&w, b, 0, OR_JSON_F_ESCAPE_HTML);
    or_json_object_begin(&w);
    or_json_key(&w, "k\"<");
    or_json_string(&w, "line1\nline2");
    or_json_key(&w, "n");
    or_json_string(&w, NULL);
    or_json_key_n(&w, "ab", 1);
    or_json_string_n(&w, "xyz", 2);
    or_json_object_end(&w);
    assert_int_equal(or_json_finish(&w), 0);
    assert_output(b, "{\"k\\\"\\u003c\":\"line1\\nline2\",\"n\":\"\",\"a\":\"xy\"}");
    evbuffer_free(b);
}

static void test_numbers(void **state)
{
    struct evbuffer *b = evbuffer_new();
    struct or_json w;
    or_json_init(&w, b, 0, 0);
    or_json_array_begin(&w);
    or_json_int(&w, INT64_MIN);
    or_json_uint(&w, UINT64_MAX);
    or_json_int64_str(&w, -5);
    or_json_uint64_str(&w, 18446744073709551615ull);
    or_json_double(&w, 1.0);
    or_json_double(&w, 0.1);
    or_json_double(&w, 1.0 / 3.0);
    or_json_double(&w, 1e20);
    or_json_double(&w, NAN);
    or_json_double(&w, INFINITY);
    or_json_double(&w, -INFINITY);
    or_json_array_end(&w);
    assert_int_equal(or_json_finish(&w), 0);
    assert_output(b, "[-9223372036854775808,18446744073709551615,\"-5\",\"18446744073709551615\","
                     "1,0.1,0.33333333333333331,1e+20,\"NaN\",\"Infinity\",\"-Infinity\"]");

    or_json_init(&w, b, 0, 0);
    or_json_array_begin(&w);
    or_json_duration(&w, 600, 0);
    or_json_duration(&w, 0, 10000000);
    or_json_duration(&w, 1, 500000);
    or_json_duration(&w, 1, 500);
    or_json_duration(&w, 0, 0);
    or_json_duration(&w, -1, -500000000);
    or_json_array_end(&w);
    assert_int_equal(or_json_finish(&w), 0);
    assert_output(b, "[\"600s\",\"0.010s\",\"1.000500s\",\"1.000000500s\",\"0s\",\"-1.500s\"]");

    or_json_init(&w, b, 0, 0);
    or_json_object_begin(&w);
    or_json_key(&w, "raw");
    or_json_raw(&w, "{\"pre\":1}", 9);
    or_json_object_end(&w);
    assert_int_equal(or_json_finish(&w), 0);
    assert_output(b, "{\"raw\":{\"pre\":1}}");
    evbuffer_free(b);
}

static void test_misuse(void **state)
{
    struct evbuffer *b = evbuffer_new();
    struct or_json w;

    /* Value in an object without a key. */
    or_json_init(&w, b, 1, 0);
    or_json_object_begin(&w);
    or_json_string(&w, "x");
    assert_int_equal(or_json_finish(&w), OR_EINVAL);
    evbuffer_drain(b, evbuffer_get_length(b));

    /* Key inside an array. */
    or_json_init(&w, b, 1, 0);
    or_json_array_begin(&w);
    or_json_key(&w, "k");
    assert_int_equal(or_json_finish(&w), OR_EINVAL);
    evbuffer_drain(b, evbuffer_get_length(b));

    /* Unclosed container, dangling key, mismatched close. */
    or_json_init(&w, b, 1, 0);
    or_json_object_begin(&w);
    assert_int_equal(or_json_finish(&w), OR_EINVAL);
    or_json_key(&w, "k");
    assert_int_equal(or_json_finish(&w), OR_EINVAL);
    or_json_object_end(&w);
    assert_int_equal(or_json_finish(&w), OR_EINVAL);
    evbuffer_drain(b, evbuffer_get_length(b));

    or_json_init(&w, b, 1, 0);
    or_json_array_begin(&w);
    or_json_object_end(&w);
    assert_int_equal(or_json_finish(&w), OR_EINVAL);
    evbuffer_drain(b, evbuffer_get_length(b));

    /* Two keys in a row. */
    or_json_init(&w, b, 0, 0);
    or_json_object_begin(&w);
    or_json_key(&w, "a");
    or_json_key(&w, "b");
    assert_int_equal(or_json_finish(&w), OR_EINVAL);
    evbuffer_drain(b, evbuffer_get_length(b));

    /* Nesting limit. */
    or_json_init(&w, b, 0, 0);
    for (int i = 0; i < OR_JSON_MAX_DEPTH; i++)
        or_json_array_begin(&w);
    assert_int_equal(w.err, 0);
    or_json_array_begin(&w);
    assert_int_equal(or_json_finish(&w), OR_EINVAL);
    evbuffer_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pretty_layout), cmocka_unit_test(test_indent_two_and_compact),
        cmocka_unit_test(test_escaping),      cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_misuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
