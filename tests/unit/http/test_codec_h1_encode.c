/* HTTP/1 encoders: byte-exact heads, Envoy's framing choices, chunk framing, round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_codec_h1_util.h"

struct enc {
    struct or_arena arena;
    struct or_headers h;
    struct evbuffer *out;
};

static int setup(void **state)
{
    struct enc *e = calloc(1, sizeof(*e));
    or_arena_init(&e->arena, 0);
    or_headers_init(&e->h, &e->arena);
    e->out = evbuffer_new();
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct enc *e = *state;
    evbuffer_free(e->out);
    or_arena_deinit(&e->arena);
    free(e);
    return 0;
}

static void add(struct enc *e, const char *n, const char *v)
{
    assert_int_equal(or_headers_add(&e->h, n, strlen(n), v, strlen(v)), 0);
}

/* Drains the output and compares it byte for byte. */
static void expect_out(struct enc *e, const char *want)
{
    size_t len = evbuffer_get_length(e->out);
    char *got = malloc(len + 1);
    evbuffer_remove(e->out, got, len);
    got[len] = '\0';
    if (len != strlen(want) || memcmp(got, want, len) != 0)
        print_error("got:\n%s\nwant:\n%s\n", got, want);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(got, want, len);
    free(got);
}

static void reset_headers(struct enc *e)
{
    or_headers_init(&e->h, &e->arena);
}

static void test_response_chunked_by_default(void **state)
{
    struct enc *e = *state;
    add(e, ":status", "200");
    add(e, "content-type", "text/plain");
    add(e, "x-multi", "a");
    add(e, "x-multi", "b");
    assert_int_equal(or_h1_encode_response_head(e->out, 200, &e->h, 1, 0), OR_H1_BODY_CHUNKED);
    expect_out(e, "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nx-multi: a\r\nx-multi: b\r\n"
                  "transfer-encoding: chunked\r\n\r\n");
}

static void test_response_content_length(void **state)
{
    struct enc *e = *state;
    add(e, "content-length", "12");
    add(e, "transfer-encoding", "chunked"); /* the encoder owns framing: dropped */
    assert_int_equal(or_h1_encode_response_head(e->out, 404, &e->h, 1, 0), OR_H1_BODY_RAW);
    expect_out(e, "HTTP/1.1 404 Not Found\r\ncontent-length: 12\r\n\r\n");
}

static void test_response_header_only(void **state)
{
    struct enc *e = *state;
    add(e, "server", "outrider");
    assert_int_equal(or_h1_encode_response_head(e->out, 503, &e->h, 1, OR_H1_ENC_END_STREAM),
                     OR_H1_BODY_NONE);
    expect_out(e, "HTTP/1.1 503 Service Unavailable\r\nserver: outrider\r\ncontent-length: 0\r\n"
                  "\r\n");
}

static void test_response_bodiless_statuses(void **state)
{
    struct enc *e = *state;
    assert_int_equal(or_h1_encode_response_head(e->out, 204, NULL, 1, OR_H1_ENC_END_STREAM),
                     OR_H1_BODY_NONE);
    expect_out(e, "HTTP/1.1 204 No Content\r\n\r\n");
    assert_int_equal(or_h1_encode_response_head(e->out, 304, NULL, 1, 0), OR_H1_BODY_NONE);
    expect_out(e, "HTTP/1.1 304 Not Modified\r\n\r\n");
    assert_int_equal(or_h1_encode_response_head(e->out, 100, NULL, 1, 0), OR_H1_BODY_NONE);
    expect_out(e, "HTTP/1.1 100 Continue\r\n\r\n");
    assert_int_equal(or_h1_encode_response_head(e->out, 299, NULL, 1, OR_H1_ENC_END_STREAM),
                     OR_H1_BODY_NONE);
    expect_out(e, "HTTP/1.1 299 Unknown\r\ncontent-length: 0\r\n\r\n");
}

static void test_response_head_request(void **state)
{
    struct enc *e = *state;
    /* Envoy announces chunked on a HEAD response without a length, but sends no body. */
    assert_int_equal(or_h1_encode_response_head(e->out, 200, NULL, 1, OR_H1_ENC_HEAD),
                     OR_H1_BODY_NONE);
    expect_out(e, "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n");
    add(e, "content-length", "42");
    assert_int_equal(
        or_h1_encode_response_head(e->out, 200, &e->h, 1, OR_H1_ENC_HEAD | OR_H1_ENC_END_STREAM),
        OR_H1_BODY_NONE);
    expect_out(e, "HTTP/1.1 200 OK\r\ncontent-length: 42\r\n\r\n");
}

static void test_response_http10(void **state)
{
    struct enc *e = *state;
    add(e, "connection", "close");
    assert_int_equal(or_h1_encode_response_head(e->out, 200, &e->h, 0, 0), OR_H1_BODY_RAW);
    expect_out(e, "HTTP/1.0 200 OK\r\nconnection: close\r\n\r\n");
}

static void test_response_connect_and_upgrade(void **state)
{
    struct enc *e = *state;
    assert_int_equal(or_h1_encode_response_head(e->out, 200, NULL, 1, OR_H1_ENC_CONNECT),
                     OR_H1_BODY_RAW);
    expect_out(e, "HTTP/1.1 200 OK\r\n\r\n");
    /* A refused CONNECT is an ordinary response. */
    assert_int_equal(or_h1_encode_response_head(e->out, 403, NULL, 1, OR_H1_ENC_CONNECT),
                     OR_H1_BODY_CHUNKED);
    expect_out(e, "HTTP/1.1 403 Forbidden\r\ntransfer-encoding: chunked\r\n\r\n");
    add(e, "connection", "Upgrade");
    add(e, "upgrade", "websocket");
    assert_int_equal(or_h1_encode_response_head(e->out, 101, &e->h, 1, 0), OR_H1_BODY_RAW);
    expect_out(e, "HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\n"
                  "upgrade: websocket\r\n\r\n");
}

static void test_refuses_splitting(void **state)
{
    struct enc *e = *state;
    add(e, "x", "a\r\nInjected: yes");
    assert_int_equal(or_h1_encode_response_head(e->out, 200, &e->h, 1, 0), OR_EINVAL);
    assert_int_equal(evbuffer_get_length(e->out), 0);
    reset_headers(e);
    assert_int_equal(or_headers_add(&e->h, "x", 1, "a\0b", 3), 0);
    assert_int_equal(or_h1_encode_response_head(e->out, 200, &e->h, 1, 0), OR_EINVAL);
    reset_headers(e);
    add(e, "x\ny", "v");
    assert_int_equal(or_h1_encode_response_head(e->out, 200, &e->h, 1, 0), OR_EINVAL);
    assert_int_equal(or_h1_encode_response_head(e->out, 99, NULL, 1, 0), OR_EINVAL);
    assert_int_equal(evbuffer_get_length(e->out), 0);
}

static void test_request_heads(void **state)
{
    struct enc *e = *state;
    add(e, ":method", "GET");
    add(e, ":scheme", "http");
    add(e, ":path", "/a?b=c");
    add(e, ":authority", "svc.local:8080");
    add(e, "user-agent", "x");
    assert_int_equal(or_h1_encode_request_head(e->out, &e->h, OR_H1_ENC_END_STREAM),
                     OR_H1_BODY_NONE);
    expect_out(e, "GET /a?b=c HTTP/1.1\r\nhost: svc.local:8080\r\nuser-agent: x\r\n\r\n");

    reset_headers(e);
    add(e, ":method", "POST");
    add(e, ":path", "/");
    add(e, ":authority", "h");
    assert_int_equal(or_h1_encode_request_head(e->out, &e->h, OR_H1_ENC_END_STREAM),
                     OR_H1_BODY_NONE);
    expect_out(e, "POST / HTTP/1.1\r\nhost: h\r\ncontent-length: 0\r\n\r\n");
    assert_int_equal(or_h1_encode_request_head(e->out, &e->h, 0), OR_H1_BODY_CHUNKED);
    expect_out(e, "POST / HTTP/1.1\r\nhost: h\r\ntransfer-encoding: chunked\r\n\r\n");
    add(e, "content-length", "3");
    assert_int_equal(or_h1_encode_request_head(e->out, &e->h, 0), OR_H1_BODY_RAW);
    expect_out(e, "POST / HTTP/1.1\r\nhost: h\r\ncontent-length: 3\r\n\r\n");

    reset_headers(e);
    add(e, ":method", "CONNECT");
    add(e, ":authority", "db:5432");
    assert_int_equal(or_h1_encode_request_head(e->out, &e->h, 0), OR_H1_BODY_RAW);
    expect_out(e, "CONNECT db:5432 HTTP/1.1\r\nhost: db:5432\r\n\r\n");

    reset_headers(e);
    add(e, ":method", "GET");
    add(e, ":path", "/chat");
    add(e, ":authority", "h");
    add(e, "connection", "upgrade");
    add(e, "upgrade", "websocket");
    assert_int_equal(or_h1_encode_request_head(e->out, &e->h, 0), OR_H1_BODY_RAW);
    expect_out(e, "GET /chat HTTP/1.1\r\nhost: h\r\nconnection: upgrade\r\nupgrade: websocket\r\n"
                  "\r\n");

    reset_headers(e);
    add(e, ":method", "GET");
    assert_int_equal(or_h1_encode_request_head(e->out, &e->h, 0), OR_EINVAL);
    add(e, ":path", "/a b");
    assert_int_equal(or_h1_encode_request_head(e->out, &e->h, 0), OR_EINVAL);
    assert_int_equal(evbuffer_get_length(e->out), 0);
}

static void test_chunks(void **state)
{
    struct enc *e = *state;
    struct evbuffer *d = evbuffer_new();
    evbuffer_add(d, "hello", 5);
    assert_int_equal(or_h1_encode_chunk(e->out, d), 0);
    assert_int_equal(evbuffer_get_length(d), 0);
    expect_out(e, "5\r\nhello\r\n");
    assert_int_equal(or_h1_encode_chunk(e->out, d), 0); /* empty: nothing, never "0\r\n" */
    assert_int_equal(evbuffer_get_length(e->out), 0);
    char big[0x1abc];
    memset(big, 'q', sizeof(big));
    evbuffer_add(d, big, sizeof(big));
    assert_int_equal(or_h1_encode_chunk(e->out, d), 0);
    char hdr[8];
    evbuffer_remove(e->out, hdr, 6);
    assert_memory_equal(hdr, "1abc\r\n", 6);
    assert_int_equal(evbuffer_get_length(e->out), sizeof(big) + 2);
    evbuffer_drain(e->out, sizeof(big) + 2);
    evbuffer_free(d);

    assert_int_equal(or_h1_encode_last_chunk(e->out, NULL), 0);
    expect_out(e, "0\r\n\r\n");
    add(e, "grpc-status", "0");
    add(e, "grpc-message", "ok");
    assert_int_equal(or_h1_encode_last_chunk(e->out, &e->h), 0);
    expect_out(e, "0\r\ngrpc-status: 0\r\ngrpc-message: ok\r\n\r\n");
}

static void test_reason_phrases(void **state)
{
    assert_string_equal(or_h1_reason_phrase(200), "OK");
    assert_string_equal(or_h1_reason_phrase(426), "Upgrade Required");
    assert_string_equal(or_h1_reason_phrase(431), "Request Header Fields Too Large");
    assert_string_equal(or_h1_reason_phrase(501), "Not Implemented");
    assert_string_equal(or_h1_reason_phrase(418), "Unknown");
    assert_string_equal(or_h1_reason_phrase(999), "Unknown");
    assert_string_equal(or_h1_reason_phrase(100000), "Unknown");
}

/* Encode a chunked request, parse it back: same head, same body, same trailers. */
static void test_round_trip(void **state)
{
    struct enc *e = *state;
    add(e, ":method", "PUT");
    add(e, ":path", "/obj");
    add(e, ":authority", "store");
    add(e, "x-meta", "v1");
    struct h1t *t = h1t_new(OR_H1_REQUEST, 0, 0);
    assert_int_equal(or_h1_encode_request_head(t->in, &e->h, 0), OR_H1_BODY_CHUNKED);
    struct evbuffer *d = evbuffer_new();
    for (int i = 0; i < 3; i++) {
        evbuffer_add_printf(d, "part%d;", i);
        assert_int_equal(or_h1_encode_chunk(t->in, d), 0);
    }
    reset_headers(e);
    add(e, "x-sum", "3");
    assert_int_equal(or_h1_encode_last_chunk(t->in, &e->h), 0);
    assert_int_equal(h1t_pump(t), 0);
    assert_string_equal(t->log, "H[v1.1 ka=1 ch=1 cl=0:0 exp=0 up=0 inf=0 end=0] :method=PUT "
                                ":path=/obj :authority=store x-meta=v1 "
                                "transfer-encoding=chunked\n"
                                "B:part0;part1;part2;\n"
                                "T: x-sum=3\n"
                                "C\n");
    evbuffer_free(d);
    h1t_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_response_chunked_by_default, setup, teardown),
        cmocka_unit_test_setup_teardown(test_response_content_length, setup, teardown),
        cmocka_unit_test_setup_teardown(test_response_header_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_response_bodiless_statuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_response_head_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_response_http10, setup, teardown),
        cmocka_unit_test_setup_teardown(test_response_connect_and_upgrade, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_splitting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_heads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chunks, setup, teardown),
        cmocka_unit_test(test_reason_phrases),
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
