/* HTTP/1 parser: messages, bodies, pipelining, keep-alive, responses, limits, upgrades. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_codec_h1_util.h"

#define CHUNKED_REQ                                                                                \
    "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: "       \
    "1\r\n\r\n"

static const enum h1t_mode all_modes[] = {H1T_WHOLE, H1T_BYTES, H1T_CHAINS, H1T_SPLIT7};

/* Parses `in` in every feeding mode; each must produce exactly `want` and return `rc_want`. */
static void check_log(enum or_h1_kind kind, const struct or_h1_options *o, const char *in,
                      size_t len, int rc_want, const char *want)
{
    for (size_t m = 0; m < sizeof(all_modes) / sizeof(all_modes[0]); m++) {
        struct h1t *t = h1t_new(kind, 0, 0);
        if (o != NULL)
            or_h1_parser_set_options(&t->p, o);
        int rc = h1t_feed(t, in, len, all_modes[m]);
        if (strcmp(t->log, want) != 0 || rc != rc_want) {
            print_error("mode %zu rc %d (want %d)\n--- got ---\n%s--- want ---\n%s", m, rc, rc_want,
                        t->log, want);
            h1t_free(t);
            fail();
        }
        h1t_free(t);
    }
}

#define CHECK(kind, in, want) check_log(kind, NULL, in, sizeof(in) - 1, 0, want)
#define CHECKO(kind, o, in, want) check_log(kind, o, in, sizeof(in) - 1, 0, want)

static void test_simple_get(void **state)
{
    CHECK(OR_H1_REQUEST,
          "GET /index.html?a=b HTTP/1.1\r\nUser-Agent: curl/8\r\nHost: example.com\r\n"
          "Accept: */*\r\n\r\n",
          "H[v1.1 ka=1 ch=0 cl=0:0 exp=0 up=0 inf=0 end=1] :method=GET :path=/index.html?a=b "
          ":authority=example.com user-agent=curl/8 accept=*/*\n"
          "C\n");
}

static void test_header_names_lowercased_values_trimmed(void **state)
{
    CHECK(OR_H1_REQUEST,
          "GET / HTTP/1.1\r\nHost: h\r\nX-Foo:   bar baz \t \r\nX-EMPTY:\r\nx-foo: 2\r\n\r\n",
          "H[v1.1 ka=1 ch=0 cl=0:0 exp=0 up=0 inf=0 end=1] :method=GET :path=/ :authority=h "
          "x-foo=bar baz x-empty= x-foo=2\n"
          "C\n");
}

static void test_content_length_body(void **state)
{
    CHECK(OR_H1_REQUEST,
          "POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world",
          "H[v1.1 ka=1 ch=0 cl=1:11 exp=0 up=0 inf=0 end=0] :method=POST :path=/upload "
          ":authority=h content-length=11\n"
          "B:hello world\n"
          "C\n");
}

static void test_chunked_body_and_trailers(void **state)
{
    CHECK(OR_H1_REQUEST,
          "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
          "5;name=val\r\nhello\r\n"
          "1;q=\"a b\";x\r\n \r\n"
          "00000005\r\nworld\r\n"
          "0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n",
          "H[v1.1 ka=1 ch=1 cl=0:0 exp=0 up=0 inf=0 end=0] :method=POST :path=/ :authority=h "
          "transfer-encoding=chunked\n"
          "B:hello world\n"
          "T: x-checksum=abc x-other=1\n"
          "C\n");
}

static void test_chunked_uppercase_hex_and_te_case(void **state)
{
    CHECK(OR_H1_REQUEST,
          "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n"
          "A\r\n0123456789\r\n0\r\n\r\n",
          "H[v1.1 ka=1 ch=1 cl=0:0 exp=0 up=0 inf=0 end=0] :method=POST :path=/ :authority=h "
          "transfer-encoding=Chunked\n"
          "B:0123456789\n"
          "C\n");
}

static void test_pipelined_requests(void **state)
{
    static const char in[] = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
                             "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz"
                             "GET /c HTTP/1.1\r\nHost: h\r\n\r\n";
    /* Without resuming, the parser stops after each message with the rest still buffered. */
    struct h1t *t = h1t_new(OR_H1_REQUEST, 0, 0);
    t->auto_resume = 0;
    h1t_add_chain(t->in, in, sizeof(in) - 1);
    assert_int_equal(or_h1_parser_dispatch(&t->p, t->in), 0);
    assert_true(or_h1_parser_paused(&t->p));
    assert_int_equal(t->messages, 1);
    assert_int_equal(evbuffer_get_length(t->in), sizeof(in) - 1 - 28);
    /* Dispatching while paused does nothing. */
    assert_int_equal(or_h1_parser_dispatch(&t->p, t->in), 0);
    assert_int_equal(t->messages, 1);
    assert_int_equal(or_h1_parser_resume(&t->p), 0);
    assert_int_equal(or_h1_parser_dispatch(&t->p, t->in), 0);
    assert_int_equal(t->messages, 2);
    assert_int_equal(or_h1_parser_resume(&t->p), 0);
    assert_int_equal(or_h1_parser_dispatch(&t->p, t->in), 0);
    assert_int_equal(t->messages, 3);
    assert_int_equal(evbuffer_get_length(t->in), 0);
    h1t_free(t);

    CHECK(OR_H1_REQUEST, in,
          "H[v1.1 ka=1 ch=0 cl=0:0 exp=0 up=0 inf=0 end=1] :method=GET :path=/a :authority=h\n"
          "C\n"
          "H[v1.1 ka=1 ch=0 cl=1:3 exp=0 up=0 inf=0 end=0] :method=POST :path=/b :authority=h "
          "content-length=3\n"
          "B:xyz\n"
          "C\n"
          "H[v1.1 ka=1 ch=0 cl=0:0 exp=0 up=0 inf=0 end=1] :method=GET :path=/c :authority=h\n"
          "C\n");
}

static void test_keep_alive_rules(void **state)
{
    struct or_h1_options o = {.accept_http_10 = true};
    /* HTTP/1.1 with Connection: close: the request after it is never parsed. */
    CHECKO(OR_H1_REQUEST, &o,
           "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\n\r\n",
           "H[v1.1 ka=0 ch=0 cl=0:0 exp=0 up=0 inf=0 end=1] :method=GET :path=/ :authority=h "
           "connection=close\n"
           "C\nCLOSED\n");
    /* A Connection: close trailer closes too (llhttp discards what follows it). */
    CHECKO(OR_H1_REQUEST, &o,
           "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
           "Connection: close\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
           "H[v1.1 ka=1 ch=1 cl=0:0 exp=0 up=0 inf=0 end=0] :method=POST :path=/ :authority=h "
           "transfer-encoding=chunked\n"
           "\nT: connection=close\n"
           "C\nCLOSED\n");
    /* HTTP/1.0 defaults to close. */
    CHECKO(OR_H1_REQUEST, &o, "GET / HTTP/1.0\r\nHost: h\r\n\r\n",
           "H[v1.0 ka=0 ch=0 cl=0:0 exp=0 up=0 inf=0 end=1] :method=GET :path=/ "
           ":authority=h\n"
           "C\nCLOSED\n");
    /* HTTP/1.0 with Transfer-Encoding closes, keep-alive or not (RFC 9112 6.1). */
    CHECKO(OR_H1_REQUEST, &o,
           "POST / HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked"
           "\r\n\r\n1\r\nx\r\n0\r\n\r\n",
           "H[v1.0 ka=0 ch=1 cl=0:0 exp=0 up=0 inf=0 end=0] :method=POST :path=/ :authority=h "
           "connection=keep-alive transfer-encoding=chunked\n"
           "B:x\n"
           "C\nCLOSED\n");
    /* HTTP/1.0 with keep-alive stays open. */
    CHECKO(OR_H1_REQUEST, &o,
           "GET / HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\n\r\nGET /2 HTTP/1.0\r\n\r\n",
           "H[v1.0 ka=1 ch=0 cl=0:0 exp=0 up=0 inf=0 end=1] :method=GET :path=/ :authority=h "
           "connection=keep-alive\n"
           "C\n"
           "H[v1.0 ka=0 ch=0 cl=0:0 exp=0 up=0 inf=0 end=1] :method=GET :path=/2\n"
           "C\nCLOSED\n");
}

static void test_http10_default_host(void **state)
{
    struct or_h1_options o = {.accept_http_10 = true,
                              .default_host_for_http_10 = OR_STR_LIT("fallback.local")};
    CHECKO(OR_H1_REQUEST, &o, "GET / HTTP/1.0\r\nX: y\r\n\r\n",
           "H[v1.0 ka=0 ch=0 cl=0:0 exp=0 up=0 inf=0 end=1] :method=GET :path=/ "
           ":authority=fallback.local x=y\n"
           "C\nCLOSED\n");
}

static void test_expect_continue(void **state)
{
    CHECK(OR_H1_REQUEST,
          "PUT /x HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\nok",
          "H[v1.1 ka=1 ch=0 cl=1:2 exp=1 up=0 inf=0 end=0] :method=PUT :path=/x :authority=h "
          "expect=100-Continue content-length=2\n"
          "B:ok\n"
          "C\n");
}

static void test_pause_in_headers(void **state)
{
    /* on_headers pauses a bodiless request; resume + dispatch with nothing buffered must still
     * finish the message. */
    static const char in[] = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
    struct h1t *t = h1t_new(OR_H1_REQUEST, 0, 0);
    t->pause_headers = 1;
    t->auto_resume = 0;
    h1t_add_chain(t->in, in, sizeof(in) - 1);
    assert_int_equal(or_h1_parser_dispatch(&t->p, t->in), 0);
    assert_true(or_h1_parser_paused(&t->p));
    assert_int_equal(t->messages, 0);
    assert_int_equal(evbuffer_get_length(t->in), 0);
    assert_int_equal(or_h1_parser_resume(&t->p), 0);
    assert_int_equal(or_h1_parser_dispatch(&t->p, t->in), 0);
    assert_int_equal(t->messages, 1);
    h1t_free(t);

    /* With a body, the pause happens before any body byte is consumed. */
    static const char in2[] = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbody";
    t = h1t_new(OR_H1_REQUEST, 0, 0);
    t->pause_headers = 1;
    t->auto_resume = 0;
    h1t_add_chain(t->in, in2, sizeof(in2) - 1);
    assert_int_equal(or_h1_parser_dispatch(&t->p, t->in), 0);
    assert_int_equal(evbuffer_get_length(t->in), 4);
    assert_int_equal(t->body_calls, 0);
    assert_int_equal(or_h1_parser_resume(&t->p), 0);
    assert_int_equal(or_h1_parser_dispatch(&t->p, t->in), 0);
    assert_int_equal(t->messages, 1);
    assert_non_null(strstr(t->log, "B:body\nC\n"));
    h1t_free(t);
}

static void test_body_zero_copy(void **state)
{
    /* A body arriving in its own chain is handed over as that very chain. */
    static char big[65536];
    memset(big, 'z', sizeof(big));
    struct h1t *t = h1t_new(OR_H1_REQUEST, 0, 0);
    static const char head[] = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 65536\r\n\r\n";
    h1t_add_chain(t->in, head, sizeof(head) - 1);
    evbuffer_add_reference(t->in, big, sizeof(big), NULL, NULL);
    assert_int_equal(h1t_pump(t), 0);
    assert_int_equal(t->messages, 1);
    assert_ptr_equal(t->first_body_ptr, big);
    assert_int_equal(t->body_calls, 1);
    h1t_free(t);
}

static void test_body_streams(void **state)
{
    /* Body bytes are delivered as they arrive, never held back. */
    struct h1t *t = h1t_new(OR_H1_REQUEST, 0, 0);
    static const char head[] = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc";
    h1t_add_chain(t->in, head, sizeof(head) - 1);
    assert_int_equal(h1t_pump(t), 0);
    assert_int_equal(t->body_calls, 1);
    assert_int_equal(t->messages, 0);
    h1t_add_chain(t->in, "defghij", 7);
    assert_int_equal(h1t_pump(t), 0);
    assert_int_equal(t->body_calls, 2);
    assert_int_equal(t->messages, 1);
    h1t_free(t);
}

static void test_callback_abort(void **state)
{
    struct h1t *t = h1t_new(OR_H1_REQUEST, 0, 0);
    t->abort_body = OR_ENOMEM;
    static const char in[] = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc";
    h1t_add_chain(t->in, in, sizeof(in) - 1);
    assert_int_equal(or_h1_parser_dispatch(&t->p, t->in), OR_ENOMEM);
    /* Sticky. */
    assert_int_equal(or_h1_parser_dispatch(&t->p, t->in), OR_ENOMEM);
    h1t_free(t);
}

static void test_header_size_limit(void **state)
{
    /* The raw head (start line, fields, CRLFs) may be exactly max bytes. */
    char in[400];
    const char *pre = "GET / HTTP/1.1\r\nHost: h\r\nX: ";
    size_t plen = strlen(pre);
    for (int over = 0; over <= 1; over++) {
        size_t total = 200 + (size_t)over;
        memcpy(in, pre, plen);
        size_t vlen = total - plen - 4;
        memset(in + plen, 'v', vlen);
        memcpy(in + plen + vlen, "\r\n\r\n", 4);
        for (size_t m = 0; m < 4; m++) {
            struct h1t *t = h1t_new(OR_H1_REQUEST, 200, 0);
            int rc = h1t_feed(t, in, total, all_modes[m]);
            if (over) {
                assert_int_equal(rc, OR_EPROTO);
                assert_int_equal(or_h1_parser_error(&t->p)->status, 431);
                assert_string_equal(or_h1_parser_error(&t->p)->details, "http1.headers_too_large");
            } else {
                assert_int_equal(rc, 0);
                assert_int_equal(t->messages, 1);
            }
            h1t_free(t);
        }
    }
    /* Trailers have the same budget of their own. */
    char tr[600];
    int n = snprintf(tr, sizeof(tr),
                     "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
                     "X: %0300d\r\n\r\n",
                     0);
    struct h1t *t = h1t_new(OR_H1_REQUEST, 200, 0);
    assert_int_equal(h1t_feed(t, tr, (size_t)n, H1T_WHOLE), OR_EPROTO);
    assert_int_equal(or_h1_parser_error(&t->p)->status, 431);
    assert_string_equal(or_h1_parser_error(&t->p)->details, "http1.headers_too_large");
    h1t_free(t);
}

static void test_header_count_limit(void **state)
{
    char in[4096];
    for (int extra = 0; extra <= 1; extra++) {
        size_t off = (size_t)snprintf(in, sizeof(in), "GET / HTTP/1.1\r\nHost: h\r\n");
        /* Host counts: 10 fields are allowed, the 11th is refused (Envoy: size() > max). */
        for (int i = 0; i < 9 + extra; i++)
            off += (size_t)snprintf(in + off, sizeof(in) - off, "X%d: v\r\n", i);
        off += (size_t)snprintf(in + off, sizeof(in) - off, "\r\n");
        struct h1t *t = h1t_new(OR_H1_REQUEST, 0, 10);
        int rc = h1t_feed(t, in, off, H1T_WHOLE);
        if (extra) {
            assert_int_equal(rc, OR_EPROTO);
            assert_int_equal(or_h1_parser_error(&t->p)->status, 431);
            assert_string_equal(or_h1_parser_error(&t->p)->details, "http1.too_many_headers");
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(t->messages, 1);
        }
        h1t_free(t);
    }
}

static void test_underscores(void **state)
{
    static const char in[] = "GET / HTTP/1.1\r\nHost: h\r\nX_Foo: 1\r\nX-Bar: 2\r\n\r\n";
    struct or_h1_options o = {.underscores = OR_H1_UNDERSCORES_DROP};
    check_log(OR_H1_REQUEST, &o, in, sizeof(in) - 1, 0,
              "H[v1.1 ka=1 ch=0 cl=0:0 exp=0 up=0 inf=0 end=1] :method=GET :path=/ :authority=h "
              "x-bar=2\n"
              "C\n");
    struct h1t *t = h1t_new(OR_H1_REQUEST, 0, 0);
    or_h1_parser_set_options(&t->p, &o);
    assert_int_equal(h1t_feed(t, in, sizeof(in) - 1, H1T_WHOLE), 0);
    assert_int_equal(or_h1_parser_stats(&t->p)->dropped_underscore_headers, 1);
    h1t_free(t);

    o.underscores = OR_H1_UNDERSCORES_REJECT;
    t = h1t_new(OR_H1_REQUEST, 0, 0);
    or_h1_parser_set_options(&t->p, &o);
    assert_int_equal(h1t_feed(t, in, sizeof(in) - 1, H1T_WHOLE), OR_EPROTO);
    assert_int_equal(or_h1_parser_error(&t->p)->status, 400);
    assert_string_equal(or_h1_parser_error(&t->p)->details, "http1.unexpected_underscore");
    assert_int_equal(or_h1_parser_stats(&t->p)->rejected_underscore_headers, 1);
    h1t_free(t);

    /* Default: allowed. */
    check_log(OR_H1_REQUEST, NULL, in, sizeof(in) - 1, 0,
              "H[v1.1 ka=1 ch=0 cl=0:0 exp=0 up=0 inf=0 end=1] :method=GET :path=/ :authority=h "
              "x_foo=1 x-bar=2\n"
              "C\n");
}

static void test_absolute_form_and_options(void **state)
{
    CHECK(OR_H1_REQUEST,
          "GET HTTP://Example.com:8080/p?q=1 HTTP/1.1\r\nHost: ignored\r\nA: b\r\n\r\n",
          "H[v1.1 ka=1 ch=0 cl=0:0 exp=0 up=0 inf=0 end=1] :method=GET :path=/p?q=1 "
          ":authority=Example.com:8080 :scheme=http a=b\n"
          "C\n");
    CHECK(OR_H1_REQUEST, "GET https://h.example HTTP/1.1\r\n\r\n",
          "H[v1.1 ka=1 ch=0 cl=0:0 exp=0 up=0 inf=0 end=1] :method=GET :path=/ "
          ":authority=h.example :scheme=https\n"
          "C\n");
    CHECK(OR_H1_REQUEST, "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
          "H[v1.1 ka=1 ch=0 cl=0:0 exp=0 up=0 inf=0 end=1] :method=OPTIONS :path=* "
          ":authority=h\n"
          "C\n");
}

static void test_missing_host_is_hcm_business(void **state)
{
    /* Envoy's HCM (not the codec) answers 400 missing_host_header: no :authority here. */
    CHECK(OR_H1_REQUEST, "GET / HTTP/1.1\r\nA: b\r\n\r\n",
          "H[v1.1 ka=1 ch=0 cl=0:0 exp=0 up=0 inf=0 end=1] :method=GET :path=/ a=b\n"
          "C\n");
}

static void test_h2c_upgrade_ignored(void **state)
{
    CHECK(OR_H1_REQUEST,
          "GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings, keep-alive\r\n"
          "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n",
          "H[v1.1 ka=1 ch=0 cl=0:0 exp=0 up=0 inf=0 end=1] :method=GET :path=/ :authority=h "
          "connection=keep-alive\n"
          "C\n");
}

static void test_websocket_upgrade_tunnels(void **state)
{
    CHECK(OR_H1_REQUEST,
          "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
          "\x81\x05hello raw GET / HTTP/1.1\r\n",
          "H[v1.1 ka=1 ch=0 cl=0:0 exp=0 up=1 inf=0 end=0] :method=GET :path=/ws :authority=h "
          "connection=Upgrade upgrade=websocket\n"
          "B:\x81\x05hello raw GET / HTTP/1.1\r\n");
    struct h1t *t = h1t_new(OR_H1_REQUEST, 0, 0);
    static const char in[] = "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n"
                             "Upgrade: websocket\r\n\r\nabc";
    assert_int_equal(h1t_feed(t, in, sizeof(in) - 1, H1T_WHOLE), 0);
    assert_int_equal(or_h1_parser_finish(&t->p), 0);
    assert_int_equal(t->messages, 1);
    h1t_free(t);
}

static void test_connect(void **state)
{
    CHECK(OR_H1_REQUEST, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\nTLS",
          "H[v1.1 ka=1 ch=0 cl=0:0 exp=0 up=1 inf=0 end=0] :method=CONNECT "
          ":authority=example.com:443\n"
          "B:TLS");
    CHECK(OR_H1_REQUEST, "CONNECT [::1]:443 HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
          "H[v1.1 ka=1 ch=0 cl=0:0 exp=0 up=1 inf=0 end=0] :method=CONNECT :authority=[::1]:443\n");
}

static void test_leading_empty_lines(void **state)
{
    CHECK(OR_H1_REQUEST, "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
          "H[v1.1 ka=1 ch=0 cl=0:0 exp=0 up=0 inf=0 end=1] :method=GET :path=/ :authority=h\n"
          "C\n");
}

static void test_finish_request(void **state)
{
    struct h1t *t = h1t_new(OR_H1_REQUEST, 0, 0);
    assert_int_equal(or_h1_parser_finish(&t->p), 0); /* nothing in flight */
    h1t_free(t);

    t = h1t_new(OR_H1_REQUEST, 0, 0);
    static const char in[] = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc";
    assert_int_equal(h1t_feed(t, in, sizeof(in) - 1, H1T_WHOLE), 0);
    assert_int_equal(or_h1_parser_finish(&t->p), OR_ECLOSED);
    assert_int_equal(t->messages, 0);
    h1t_free(t);

    t = h1t_new(OR_H1_REQUEST, 0, 0);
    assert_int_equal(h1t_feed(t, "GET / HT", 8, H1T_WHOLE), 0);
    assert_int_equal(or_h1_parser_finish(&t->p), OR_ECLOSED);
    h1t_free(t);
}

/* ---- responses ---- */

static void test_response_basic(void **state)
{
    CHECK(OR_H1_RESPONSE,
          "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
          "H[v1.1 ka=1 ch=0 cl=1:5 exp=0 up=0 inf=0 end=0] :status=200 content-type=text/plain "
          "content-length=5\n"
          "B:hello\n"
          "C\n");
    CHECK(OR_H1_RESPONSE, "HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n",
          "H[v1.1 ka=1 ch=0 cl=1:0 exp=0 up=0 inf=0 end=1] :status=404 content-length=0\n"
          "C\n");
}

static void test_response_chunked(void **state)
{
    CHECK(OR_H1_RESPONSE,
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
          "H[v1.1 ka=1 ch=1 cl=0:0 exp=0 up=0 inf=0 end=0] :status=200 "
          "transfer-encoding=chunked\n"
          "B:abcde\n"
          "C\n");
}

static void test_response_no_body_statuses(void **state)
{
    /* 204 and 304 never have a body, whatever Content-Length says (llhttp would wait for it). */
    CHECK(OR_H1_RESPONSE,
          "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n"
          "HTTP/1.1 204 No Content\r\n\r\n",
          "H[v1.1 ka=1 ch=0 cl=1:5 exp=0 up=0 inf=0 end=1] :status=304 content-length=5\n"
          "C\n"
          "H[v1.1 ka=1 ch=0 cl=0:0 exp=0 up=0 inf=0 end=1] :status=204\n"
          "C\n");
    /* A 204 with Content-Length: 0 loses the header (Envoy papers over it). */
    CHECK(OR_H1_RESPONSE, "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n",
          "H[v1.1 ka=1 ch=0 cl=0:0 exp=0 up=0 inf=0 end=1] :status=204\n"
          "C\n");
}

static void test_response_head(void **state)
{
    static const char in[] = "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"
                             "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    struct h1t *t = h1t_new(OR_H1_RESPONSE, 0, 0);
    t->auto_resume = 0;
    or_h1_parser_expect_no_body(&t->p);
    h1t_add_chain(t->in, in, sizeof(in) - 1);
    assert_int_equal(or_h1_parser_dispatch(&t->p, t->in), 0);
    assert_int_equal(t->messages, 1);
    assert_true(t->last.end_stream);
    assert_int_equal(t->last.content_length, 1234);
    /* The expectation lasts for one response only. */
    assert_int_equal(or_h1_parser_resume(&t->p), 0);
    assert_int_equal(or_h1_parser_dispatch(&t->p, t->in), 0);
    assert_int_equal(t->messages, 2);
    assert_string_equal(t->log, "H[v1.1 ka=1 ch=0 cl=1:1234 exp=0 up=0 inf=0 end=1] :status=200 "
                                "content-length=1234\n"
                                "C\n"
                                "H[v1.1 ka=1 ch=0 cl=1:2 exp=0 up=0 inf=0 end=0] :status=200 "
                                "content-length=2\n"
                                "B:ok\n"
                                "C\n");
    h1t_free(t);
}

static void test_response_100_continue(void **state)
{
    CHECK(OR_H1_RESPONSE,
          "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx",
          "H[v1.1 ka=1 ch=0 cl=0:0 exp=0 up=0 inf=1 end=1] :status=100\n"
          "H[v1.1 ka=1 ch=0 cl=1:1 exp=0 up=0 inf=0 end=0] :status=201 content-length=1\n"
          "B:x\n"
          "C\n");
}

static void test_response_1xx_any_version(void **state)
{
    CHECK(OR_H1_RESPONSE,
          "HTTP/1.0 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nConnection: close\r\n"
          "Link: </s.css>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx",
          "H[v1.0 ka=1 ch=0 cl=0:0 exp=0 up=0 inf=1 end=1] :status=100\n"
          "H[v1.1 ka=1 ch=0 cl=0:0 exp=0 up=0 inf=1 end=1] :status=103 connection=close "
          "link=</s.css>\n"
          "H[v1.1 ka=1 ch=0 cl=1:1 exp=0 up=0 inf=0 end=0] :status=201 content-length=1\n"
          "B:x\n"
          "C\n");
}

static void test_response_close_delimited(void **state)
{
    for (size_t m = 0; m < 4; m++) {
        struct h1t *t = h1t_new(OR_H1_RESPONSE, 0, 0);
        static const char in[] = "HTTP/1.0 200 OK\r\nServer: old\r\n\r\nall of this is body";
        assert_int_equal(h1t_feed(t, in, sizeof(in) - 1, all_modes[m]), 0);
        assert_int_equal(t->messages, 0);
        assert_int_equal(or_h1_parser_finish(&t->p), 0);
        assert_int_equal(t->messages, 1);
        assert_string_equal(t->log, "H[v1.0 ka=0 ch=0 cl=0:0 exp=0 up=0 inf=0 end=0] "
                                    ":status=200 server=old\n"
                                    "B:all of this is body\n"
                                    "C\n");
        assert_true(or_h1_parser_closed(&t->p));
        h1t_free(t);
    }
    /* EOF while on_headers holds the parser still ends a close-delimited body. */
    struct h1t *tp = h1t_new(OR_H1_RESPONSE, 0, 0);
    tp->pause_headers = 1;
    tp->auto_resume = 0;
    static const char hd[] = "HTTP/1.0 200 OK\r\n\r\n";
    h1t_add_chain(tp->in, hd, sizeof(hd) - 1);
    assert_int_equal(or_h1_parser_dispatch(&tp->p, tp->in), 0);
    assert_true(or_h1_parser_paused(&tp->p));
    assert_int_equal(or_h1_parser_finish(&tp->p), 0);
    assert_int_equal(tp->messages, 1);
    h1t_free(tp);

    /* A Content-Length body cut short by EOF is an error. */
    struct h1t *t = h1t_new(OR_H1_RESPONSE, 0, 0);
    static const char in[] = "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc";
    assert_int_equal(h1t_feed(t, in, sizeof(in) - 1, H1T_WHOLE), 0);
    assert_int_equal(or_h1_parser_finish(&t->p), OR_ECLOSED);
    h1t_free(t);
}

static void test_response_connect_and_upgrade(void **state)
{
    struct h1t *t = h1t_new(OR_H1_RESPONSE, 0, 0);
    or_h1_parser_expect(&t->p, OR_H1_EXPECT_CONNECT);
    static const char in[] = "HTTP/1.1 200 Connection established\r\n\r\nraw bytes";
    assert_int_equal(h1t_feed(t, in, sizeof(in) - 1, H1T_WHOLE), 0);
    assert_string_equal(t->log, "H[v1.1 ka=1 ch=0 cl=0:0 exp=0 up=1 inf=0 end=0] :status=200\n"
                                "B:raw bytes");
    h1t_free(t);

    t = h1t_new(OR_H1_RESPONSE, 0, 0);
    or_h1_parser_expect(&t->p, OR_H1_EXPECT_UPGRADE);
    static const char in2[] = "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\n"
                              "Upgrade: websocket\r\n\r\nframes";
    assert_int_equal(h1t_feed(t, in2, sizeof(in2) - 1, H1T_BYTES), 0);
    assert_string_equal(t->log, "H[v1.1 ka=1 ch=0 cl=0:0 exp=0 up=1 inf=0 end=0] :status=101 "
                                "connection=upgrade upgrade=websocket\n"
                                "B:frames");
    h1t_free(t);
}

static void test_allow_chunked_length(void **state)
{
    /* Envoy's allow_chunked_length: CL next to chunked is dropped instead of refused... */
    struct or_h1_options o = {.allow_chunked_length = true};
    CHECKO(OR_H1_REQUEST, &o,
           "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n"
           "2\r\nab\r\n0\r\n\r\n",
           "H[v1.1 ka=1 ch=1 cl=0:0 exp=0 up=0 inf=0 end=0] :method=POST :path=/ :authority=h "
           "transfer-encoding=chunked\n"
           "B:ab\n"
           "C\n");
    /* ...but llhttp's lenient flag must never turn an unknown coding into read-until-close. */
    static const struct {
        const char *in;
        unsigned status;
        const char *details;
    } bad[] = {
        {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\nabc", 501,
         "http1.invalid_transfer_encoding"},
        {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\t\r\n\r\ncoding\n\r\n", 501,
         "http1.invalid_transfer_encoding"},
        /* Envoy drops CL only next to chunked; any other coding with CL is still a 400. */
        {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: gzip\r\n\r\nabc",
         400, "http1.content_length_and_chunked_not_allowed"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct h1t *t = h1t_new(OR_H1_REQUEST, 0, 0);
        or_h1_parser_set_options(&t->p, &o);
        assert_int_equal(h1t_feed(t, bad[i].in, strlen(bad[i].in), H1T_WHOLE), OR_EPROTO);
        assert_int_equal(or_h1_parser_error(&t->p)->status, bad[i].status);
        assert_string_equal(or_h1_parser_error(&t->p)->details, bad[i].details);
        assert_int_equal(t->body_calls, 0);
        h1t_free(t);
    }
}

static int count_complete(void *ctx)
{
    (*(int *)ctx)++;
    return 0;
}

static int drop_body(void *ctx, struct evbuffer *b)
{
    (void)ctx;
    (void)b; /* leaves the bytes: the parser discards them */
    return 0;
}

static int noop_headers(void *ctx, struct or_h1_msg *m)
{
    (void)ctx;
    (void)m;
    return 0;
}

static void test_trailers_dropped_without_callback(void **state)
{
    static const struct or_h1_callbacks cb = {
        .on_headers = noop_headers,
        .on_body = drop_body,
        .on_message_complete = count_complete,
    };
    int done = 0;
    struct or_h1_parser p;
    struct or_arena a;
    or_arena_init(&a, 0);
    assert_int_equal(or_h1_parser_init(&p, OR_H1_REQUEST, &cb, &done, 0, 0), 0);
    or_h1_parser_set_arena(&p, &a);
    struct evbuffer *in = evbuffer_new();
    static const char req[] = CHUNKED_REQ;
    evbuffer_add(in, req, sizeof(req) - 1);
    assert_int_equal(or_h1_parser_dispatch(&p, in), 0);
    assert_int_equal(done, 1);
    assert_int_equal(evbuffer_get_length(in), 0);
    evbuffer_free(in);
    or_h1_parser_deinit(&p);
    or_arena_deinit(&a);
}

static int expect_next_head(void *ctx)
{
    struct or_h1_parser *p = ctx;
    /* The pool sends the next request (a HEAD) from inside the completion callback. */
    or_h1_parser_expect_no_body(p);
    return 0;
}

static void test_expect_set_during_completion(void **state)
{
    static const struct or_h1_callbacks cb = {
        .on_headers = noop_headers,
        .on_body = drop_body,
        .on_message_complete = expect_next_head,
    };
    struct or_h1_parser p;
    struct or_arena a;
    or_arena_init(&a, 0);
    assert_int_equal(or_h1_parser_init(&p, OR_H1_RESPONSE, &cb, &p, 0, 0), 0);
    or_h1_parser_set_arena(&p, &a);
    or_h1_parser_expect_no_body(&p);
    struct evbuffer *in = evbuffer_new();
    static const char rsp[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n"
                              "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n";
    evbuffer_add(in, rsp, sizeof(rsp) - 1);
    assert_int_equal(or_h1_parser_dispatch(&p, in), 0);
    assert_int_equal(or_h1_parser_resume(&p), 0);
    assert_int_equal(or_h1_parser_dispatch(&p, in), 0);
    /* Both answered HEAD: nothing was read as a body, nothing is left. */
    assert_true(or_h1_parser_paused(&p));
    assert_int_equal(evbuffer_get_length(in), 0);
    evbuffer_free(in);
    or_h1_parser_deinit(&p);
    or_arena_deinit(&a);
}

static void test_extraneous_response_bytes_stay(void **state)
{
    /* After a complete response the parser stops; what follows is the caller's to judge
     * (Envoy: "extraneous data after response complete" is a protocol error). */
    struct h1t *t = h1t_new(OR_H1_RESPONSE, 0, 0);
    t->auto_resume = 0;
    static const char rsp[] = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxJUNK";
    h1t_add_chain(t->in, rsp, sizeof(rsp) - 1);
    assert_int_equal(or_h1_parser_dispatch(&t->p, t->in), 0);
    assert_int_equal(t->messages, 1);
    assert_int_equal(evbuffer_get_length(t->in), 4);
    h1t_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_get),
        cmocka_unit_test(test_header_names_lowercased_values_trimmed),
        cmocka_unit_test(test_content_length_body),
        cmocka_unit_test(test_chunked_body_and_trailers),
        cmocka_unit_test(test_chunked_uppercase_hex_and_te_case),
        cmocka_unit_test(test_pipelined_requests),
        cmocka_unit_test(test_keep_alive_rules),
        cmocka_unit_test(test_http10_default_host),
        cmocka_unit_test(test_expect_continue),
        cmocka_unit_test(test_pause_in_headers),
        cmocka_unit_test(test_body_zero_copy),
        cmocka_unit_test(test_body_streams),
        cmocka_unit_test(test_callback_abort),
        cmocka_unit_test(test_header_size_limit),
        cmocka_unit_test(test_header_count_limit),
        cmocka_unit_test(test_underscores),
        cmocka_unit_test(test_absolute_form_and_options),
        cmocka_unit_test(test_missing_host_is_hcm_business),
        cmocka_unit_test(test_h2c_upgrade_ignored),
        cmocka_unit_test(test_websocket_upgrade_tunnels),
        cmocka_unit_test(test_connect),
        cmocka_unit_test(test_leading_empty_lines),
        cmocka_unit_test(test_finish_request),
        cmocka_unit_test(test_response_basic),
        cmocka_unit_test(test_response_chunked),
        cmocka_unit_test(test_response_no_body_statuses),
        cmocka_unit_test(test_response_head),
        cmocka_unit_test(test_response_100_continue),
        cmocka_unit_test(test_response_1xx_any_version),
        cmocka_unit_test(test_response_close_delimited),
        cmocka_unit_test(test_response_connect_and_upgrade),
        cmocka_unit_test(test_trailers_dropped_without_callback),
        cmocka_unit_test(test_allow_chunked_length),
        cmocka_unit_test(test_expect_set_during_completion),
        cmocka_unit_test(test_extraneous_response_bytes_stay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
