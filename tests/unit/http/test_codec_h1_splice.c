/* HTTP/1 parser: body bytes moved past the parser (splice(2), issue 4). The parser must end the
 * message exactly where it would have, keep both framers in step, and refuse outside a
 * Content-Length body. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_codec_h1_util.h"

static int feed_str(struct h1t *t, const char *s)
{
    return h1t_feed(t, s, strlen(s), H1T_WHOLE);
}

/* 20 body bytes: 4 parsed, 12 skipped, the last 4 parsed again; the message ends and the next
 * response on the connection parses normally. */
static void test_skip_middle_of_body(void **state)
{
    struct h1t *t = h1t_new(OR_H1_RESPONSE, 0, 0);
    assert_int_equal(feed_str(t, "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nabcd"), 0);
    assert_int_equal(or_h1_parser_body_left(&t->p), 16);
    assert_int_equal(or_h1_parser_body_consumed_externally(&t->p, 12), 0);
    assert_int_equal(or_h1_parser_body_left(&t->p), 4);
    /* At least one byte stays for the parser. */
    assert_int_equal(or_h1_parser_body_consumed_externally(&t->p, 4), OR_EINVAL);
    assert_int_equal(feed_str(t, "wxyz"), 0);
    assert_int_equal(t->messages, 1);
    assert_int_equal(or_h1_parser_body_left(&t->p), 0);
    assert_int_equal(feed_str(t, "HTTP/1.1 204 No Content\r\n\r\n"), 0);
    assert_int_equal(t->messages, 2);
    assert_string_equal(t->log, "H[v1.1 ka=1 ch=0 cl=1:20 exp=0 up=0 inf=0 end=0] :status=200 "
                                "content-length=20\n"
                                "B:abcdwxyz\n"
                                "C\n"
                                "H[v1.1 ka=1 ch=0 cl=0:0 exp=0 up=0 inf=0 end=1] :status=204\n"
                                "C\n");
    h1t_free(t);
}

/* Bytes after the shortened body belong to the next message: the framers still agree. */
static void test_skip_then_excess_bytes(void **state)
{
    struct h1t *t = h1t_new(OR_H1_RESPONSE, 0, 0);
    t->auto_resume = 0;
    assert_int_equal(feed_str(t, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"), 0);
    assert_int_equal(or_h1_parser_body_left(&t->p), 10);
    assert_int_equal(or_h1_parser_body_consumed_externally(&t->p, 9), 0);
    const char *next = "HTTP/1.1 204 No Content\r\n\r\n";
    assert_int_equal(feed_str(t, "z"), 0);
    assert_int_equal(t->messages, 1);
    assert_true(or_h1_parser_paused(&t->p));
    h1t_add_chain(t->in, next, strlen(next));
    assert_int_equal(evbuffer_get_length(t->in), strlen(next));
    assert_int_equal(or_h1_parser_resume(&t->p), 0);
    assert_int_equal(h1t_pump(t), 0);
    assert_int_equal(t->messages, 2);
    h1t_free(t);
}

/* Chunked, close-delimited and bodiless messages have nothing to skip. */
static void test_refused_outside_length_body(void **state)
{
    struct h1t *t = h1t_new(OR_H1_RESPONSE, 0, 0);
    assert_int_equal(feed_str(t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"),
                     0);
    assert_int_equal(or_h1_parser_body_left(&t->p), 0);
    assert_int_equal(or_h1_parser_body_consumed_externally(&t->p, 1), OR_EINVAL);
    h1t_free(t);

    t = h1t_new(OR_H1_RESPONSE, 0, 0);
    assert_int_equal(feed_str(t, "HTTP/1.1 200 OK\r\n\r\nclose-delimited"), 0);
    assert_int_equal(or_h1_parser_body_left(&t->p), 0);
    assert_int_equal(or_h1_parser_body_consumed_externally(&t->p, 1), OR_EINVAL);
    h1t_free(t);

    t = h1t_new(OR_H1_RESPONSE, 0, 0);
    t->auto_resume = 0;
    or_h1_parser_expect_no_body(&t->p);
    assert_int_equal(feed_str(t, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"), 0);
    assert_int_equal(or_h1_parser_body_left(&t->p), 0);
    h1t_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_skip_middle_of_body),
        cmocka_unit_test(test_skip_then_excess_bytes),
        cmocka_unit_test(test_refused_outside_length_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
