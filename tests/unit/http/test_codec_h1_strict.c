/* HTTP/1 parser rejections: request smuggling shapes and malformed messages, each with the
 * status and Envoy details string, identical whatever the input segmentation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_codec_h1_util.h"

struct reject_case {
    const char *in;
    size_t len;
    unsigned status;
    const char *details;
};

#define L(s) s, sizeof(s) - 1
#define E400 400, "http1.codec_error"
#define CHARS 400, "http1.invalid_characters"
#define CLTE 400, "http1.content_length_and_chunked_not_allowed"
#define BADTE 501, "http1.invalid_transfer_encoding"
#define AUTH 400, "http.invalid_authority"

#define POST "POST / HTTP/1.1\r\nHost: h\r\n"
#define CHUNKED POST "Transfer-Encoding: chunked\r\n\r\n"

static const struct reject_case request_cases[] = {
    /* Content-Length and Transfer-Encoding together, in both orders (Envoy: 400). */
    {L(POST "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), CLTE},
    {L(POST "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"), CLTE},
    {L(POST "Transfer-Encoding: gzip\r\nContent-Length: 5\r\n\r\nhello"), CLTE},
    /* Content-Length: duplicates (even equal: Envoy's balsa disallow_multiple_content_length),
     * lists, signs, non-digits, overflow, empty. */
    {L(POST "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello"), E400},
    {L(POST "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"), E400},
    {L(POST "Content-Length: 5, 5\r\n\r\nhello"), E400},
    {L(POST "Content-Length: +5\r\n\r\nhello"), E400},
    {L(POST "Content-Length: -1\r\n\r\n"), E400},
    {L(POST "Content-Length: 0x5\r\n\r\nhello"), E400},
    {L(POST "Content-Length: 5 5\r\n\r\nhello"), E400},
    {L(POST "Content-Length: 99999999999999999999\r\n\r\n"), E400},
    {L(POST "Content-Length:\r\n\r\n"), E400},
    /* Transfer-Encoding other than exactly "chunked" (Envoy: 501). */
    {L(POST "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"), BADTE},
    {L(POST "Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n"), BADTE},
    {L(POST "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), BADTE},
    {L(POST "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), BADTE},
    {L(POST "Transfer-Encoding: gzip\r\n\r\nabc"), BADTE},
    {L(POST "Transfer-Encoding: identity\r\n\r\n"), BADTE},
    {L(POST "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n"), BADTE},
    {L(POST "Transfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n"), BADTE},
    {L(POST "Transfer-Encoding:\r\n\r\n"), BADTE},
    {L(POST "Transfer-Encoding: chunked\t\r\n\r\n0\r\n\r\n"), BADTE}, /* llhttp: not chunked */
    /* Chunk sizes and chunk framing. */
    {L(CHUNKED "g\r\nhello\r\n0\r\n\r\n"), E400},
    {L(CHUNKED "0x5\r\nhello\r\n0\r\n\r\n"), E400},
    {L(CHUNKED " 5\r\nhello\r\n0\r\n\r\n"), E400},
    {L(CHUNKED "5 \r\nhello\r\n0\r\n\r\n"), E400},
    {L(CHUNKED "-5\r\nhello\r\n0\r\n\r\n"), E400},
    {L(CHUNKED "\r\nhello\r\n0\r\n\r\n"), E400},
    {L(CHUNKED "10000000000000000\r\nx\r\n0\r\n\r\n"), E400},
    {L(CHUNKED "5\nhello\r\n0\r\n\r\n"), E400},
    {L(CHUNKED "5\rhello\r\n0\r\n\r\n"), E400},
    {L(CHUNKED "5\r\nhelloXX0\r\n\r\n"), E400}, /* llhttp 8 loose takes any 2 bytes */
    {L(CHUNKED "5\r\nhello\n0\r\n\r\n"), E400},
    {L(CHUNKED "5\r\nhello\r0\r\n\r\n"), E400},
    {L(CHUNKED "5\r\nhello\r\n0\r\n\n"), E400},    /* llhttp 8 loose accepts the bare LF */
    {L(CHUNKED "5\r\nhello\r\n0\r\n\r"), 0, NULL}, /* incomplete, not an error yet */
    {L(CHUNKED "5\r\nhello\r\n0\r\n\rX"), E400},
    {L(CHUNKED "5;a\x01\r\nhello\r\n0\r\n\r\n"), E400},
    {L(CHUNKED "5;a=\x7f\r\nhello\r\n0\r\n\r\n"), E400},
    {L(CHUNKED "5;=b\r\nhello\r\n0\r\n\r\n"), E400},
    {L(CHUNKED "5;a=\r\nhello\r\n0\r\n\r\n"), E400},
    {L(CHUNKED "5;a=\"b\r\nhello\r\n0\r\n\r\n"), E400},
    {L(CHUNKED "5;a=\"b\\\"c\"\r\nhello\r\n0\r\n\r\n"), E400},
    {L(CHUNKED "5;a=b;c=d\r\nhello\r\n0\r\n\r\n"), E400}, /* llhttp 8 refuses ext after a token */
    {L(CHUNKED "5;a=b\nhello\r\n0\r\n\r\n"), E400},
    {L(CHUNKED "5 ;a=b\r\nhello\r\n0\r\n\r\n"), E400},
    /* Trailers follow the field grammar, and cannot carry framing. */
    {L(CHUNKED "0\r\nX: a\nY: b\r\n\r\n"), E400},
    {L(CHUNKED "0\r\n folded\r\n\r\n"), E400},
    {L(CHUNKED "0\r\nX: a\x01\r\n\r\n"), CHARS},
    {L(CHUNKED "0\r\nTransfer-Encoding: chunked\r\n\r\n"), E400},
    {L(CHUNKED "0\r\nTransfer-Encoding: gzip\r\n\r\n"), E400},
    {L(CHUNKED "0\r\nContent-Length: 5\r\n\r\nhello"), E400},
    /* Line endings: bare LF and bare CR anywhere in the head; the "\r\n\rX" head end. */
    {L("GET / HTTP/1.1\nHost: h\r\n\r\n"), E400},
    {L("GET / HTTP/1.1\r\nHost: h\n\r\n"), E400},
    {L("GET / HTTP/1.1\r\nHost: h\r\n\n"), E400},
    {L("GET / HTTP/1.1\rHost: h\r\n\r\n"), E400},
    {L("GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n"), E400},
    {L("GET / HTTP/1.1\r\nHost: h\r\n\rX"), E400},
    {L("\rGET / HTTP/1.1\r\nHost: h\r\n\r\n"), E400},
    {L("\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"), E400},
    /* Field names: NUL and other CTLs, whitespace inside or before the colon, empty, no colon,
     * separators. */
    {L("GET / HTTP/1.1\r\nHost: h\r\nX\0Y: z\r\n\r\n"), CHARS},
    {L("GET / HTTP/1.1\r\nHost: h\r\nX\x01: z\r\n\r\n"), CHARS},
    {L("GET / HTTP/1.1\r\nHo st: h\r\n\r\n"), E400},
    {L("GET / HTTP/1.1\r\nHost : h\r\n\r\n"), E400},
    {L("GET / HTTP/1.1\r\nHost\t: h\r\n\r\n"), E400},
    {L("GET / HTTP/1.1\r\n: h\r\n\r\n"), E400},
    {L("GET / HTTP/1.1\r\nHost\r\n\r\n"), E400},
    {L("GET / HTTP/1.1\r\nX(y): z\r\n\r\n"), E400},
    {L("GET / HTTP/1.1\r\nX\x80: z\r\n\r\n"), E400},
    /* obs-fold, and whitespace before the first field (CVE-2024-27982's shape). */
    {L("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n"), E400},
    {L("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n"), E400},
    {L("GET / HTTP/1.1\r\n Content-Length: 5\r\nHost: h\r\n\r\nhello"), E400},
    /* Field values: CTLs (HTAB excepted) and DEL. */
    {L("GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n"), CHARS},
    {L("GET / HTTP/1.1\r\nHost: h\r\nX: a\x01\r\n\r\n"), CHARS},
    {L("GET / HTTP/1.1\r\nHost: h\r\nX: a\x1f\r\n\r\n"), CHARS},
    {L("GET / HTTP/1.1\r\nHost: h\r\nX: a\x7f\r\n\r\n"), CHARS},
    {L("GET / HTTP/1.1\r\nHost: h\r\nX: \x0b\r\n\r\n"), CHARS},
    /* Methods. */
    {L("get / HTTP/1.1\r\nHost: h\r\n\r\n"), E400},
    {L("G@T / HTTP/1.1\r\nHost: h\r\n\r\n"), E400},
    {L("FOO / HTTP/1.1\r\nHost: h\r\n\r\n"), E400},
    {L("M-SEARCH * HTTP/1.1\r\nHost: h\r\n\r\n"), E400},
    {L("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), E400},
    {L(" GET / HTTP/1.1\r\nHost: h\r\n\r\n"), E400},
    /* Request targets. */
    {L("GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n"), E400},
    {L("GET /a\x80 HTTP/1.1\r\nHost: h\r\n\r\n"), E400},
    {L("GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n"), E400},
    {L("GET /a\0b HTTP/1.1\r\nHost: h\r\n\r\n"), E400},
    {L("GET  / HTTP/1.1\r\nHost: h\r\n\r\n"), E400},
    {L("GET / b HTTP/1.1\r\nHost: h\r\n\r\n"), E400},
    {L("GET /\r\nHost: h\r\n\r\n"), E400},
    {L("GET http//x/ HTTP/1.1\r\nHost: h\r\n\r\n"), E400},
    {L("GET http://u@x/ HTTP/1.1\r\n\r\n"), 400, "http1.invalid_url"},
    {L("GET ftp://x/ HTTP/1.1\r\n\r\n"), 400, "http1.invalid_scheme"},
    {L("GET x HTTP/1.1\r\nHost: h\r\n\r\n"), E400},
    /* Versions: only 1.0 and 1.1, and 1.0 only when accepted (Envoy: 426 low_version). */
    {L("GET / HTTP/1.2\r\nHost: h\r\n\r\n"), E400},
    {L("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), E400},
    {L("GET / HTTP/0.9\r\nHost: h\r\n\r\n"), E400},
    {L("GET / HTTP/1.10\r\nHost: h\r\n\r\n"), E400},
    {L("GET / http/1.1\r\nHost: h\r\n\r\n"), E400},
    {L("GET / HTTP/1.1 \r\nHost: h\r\n\r\n"), E400},
    {L("GET / HTTP/1.0\r\nHost: h\r\n\r\n"), 426, "low_version"},
    /* Host. */
    {L("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), AUTH},
    {L("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), AUTH},
    {L("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), AUTH},
    /* CONNECT. */
    {L("CONNECT h:443 HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"), 400, "http1.body_disallowed"},
    {L("CONNECT h:443 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"), BADTE},
    {L("CONNECT /x HTTP/1.1\r\n\r\n"), 400, "http1.invalid_url"},
    {L("CONNECT h HTTP/1.1\r\n\r\n"), 400, "http1.invalid_url"},
};

static const struct reject_case response_cases[] = {
    {L("HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), 502,
     "http1.transfer_encoding_not_allowed"},
    {L("HTTP/1.1 100 Continue\r\nContent-Length: 5\r\n\r\n"), 502,
     "http1.content_length_not_allowed"},
    {L("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"), 502,
     "http1.content_length_not_allowed"},
    {L("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc"), 502,
     "http1.invalid_transfer_encoding"},
    {L("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"), 502,
     "http1.content_length_and_chunked_not_allowed"},
    {L("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc"), 502,
     "http1.codec_error"},
    {L("HTTP/1.1 20 OK\r\n\r\n"), 502, "http1.codec_error"},
    {L("HTTP/1.1 099 Odd\r\n\r\n"), 502, "http1.codec_error"},
    {L("HTTP/1.1 2000 OK\r\n\r\n"), 502, "http1.codec_error"},
    {L("HTTP/1.1  200 OK\r\n\r\n"), 502, "http1.codec_error"},
    {L("HTTP/1.1 200 O\x01K\r\n\r\n"), 502, "http1.codec_error"},
    {L("HTTP/2.0 200 OK\r\n\r\n"), 502, "http1.codec_error"},
    {L("HTTP/1.1 200 OK\nContent-Length: 0\n\n"), 502, "http1.codec_error"},
    {L("HTTP/1.1 200 OK\r\nX: a\x01\r\n\r\n"), 502, "http1.invalid_characters"},
    {L("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n"), 502, "http1.codec_error"},
    {L("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXX0\r\n\r\n"), 502,
     "http1.codec_error"},
    {L("ICY 200 OK\r\n\r\n"), 502, "http1.codec_error"},
};

static const enum h1t_mode modes[] = {H1T_WHOLE, H1T_BYTES, H1T_CHAINS, H1T_SPLIT7};

static void run_cases(enum or_h1_kind kind, const struct reject_case *cases, size_t n)
{
    int failures = 0;
    for (size_t i = 0; i < n; i++) {
        const struct reject_case *c = &cases[i];
        size_t len = c->len;
        for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
            struct h1t *t = h1t_new(kind, 0, 0);
            int rc = h1t_feed(t, c->in, len, modes[m]);
            const struct or_h1_error *e = or_h1_parser_error(&t->p);
            bool ok;
            if (c->details == NULL)
                ok = rc == 0 && e->details == NULL && t->messages == 0;
            else
                ok = rc == OR_EPROTO && e->status == c->status && e->details != NULL &&
                     strcmp(e->details, c->details) == 0 && t->messages == 0;
            if (!ok) {
                print_error("case %zu mode %zu: %s%s: rc %d status %u details %s reason %s\n"
                            "want %u %s\nlog:\n%s\n",
                            i, m, kind == OR_H1_REQUEST ? "request " : "response ", c->in, rc,
                            e->status, e->details ? e->details : "-", e->reason ? e->reason : "-",
                            c->status, c->details ? c->details : "-", t->log);
                failures++;
            }
            /* Dead parsers stay dead. */
            if (c->details != NULL)
                assert_int_equal(or_h1_parser_dispatch(&t->p, t->in), OR_EPROTO);
            h1t_free(t);
        }
    }
    assert_int_equal(failures, 0);
}

static void test_request_rejections(void **state)
{
    run_cases(OR_H1_REQUEST, request_cases, sizeof(request_cases) / sizeof(request_cases[0]));
}

static void test_response_rejections(void **state)
{
    run_cases(OR_H1_RESPONSE, response_cases, sizeof(response_cases) / sizeof(response_cases[0]));
}

/* Valid inputs near the rejected ones, to show the checks are not over-eager. */
static void test_accepted_neighbours(void **state)
{
    static const char *const ok[] = {
        "GET / HTTP/1.1\r\nHost: h\r\nX: a\tb \"\xff\"\r\n\r\n", /* HTAB, obs-text */
        "GET / HTTP/1.1\r\nHost: h\r\nX:\r\n\r\n",               /* empty value */
        "GET /a%20b?c=d&e=[f]#frag HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
        "GET / HTTP/1.1\r\nHost:\r\n\r\n",
        "GET / HTTP/1.1\r\n!#$%&'*+-.^_`|~0aZ: v\r\n\r\n",
        POST "Content-Length: 0005\r\n\r\nhello",
        POST "Content-Length:   5   \r\n\r\nhello",
        POST "Transfer-Encoding:  chunked \r\n\r\n0\r\n\r\n",
        CHUNKED "0000\r\n\r\n",
        CHUNKED "5;a;b=\"\";c=d\r\nhello\r\n0\r\n\r\n",
        CHUNKED "ffffffff\r\n",
        "DELETE /x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
            struct h1t *t = h1t_new(OR_H1_REQUEST, 0, 0);
            int rc = h1t_feed(t, ok[i], strlen(ok[i]), modes[m]);
            if (rc != 0)
                print_error("case %zu mode %zu: %s\n%s", i, m, ok[i], t->log);
            assert_int_equal(rc, 0);
            assert_non_null(strstr(t->log, "H["));
            h1t_free(t);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_rejections),
        cmocka_unit_test(test_response_rejections),
        cmocka_unit_test(test_accepted_neighbours),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
