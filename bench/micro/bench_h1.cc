// HTTP/1 codec: request and response parsing (bytes in an evbuffer -> header map), and the
// request / response head encoders (header map -> bytes in an evbuffer).
#include <cstring>
#include <string>

#include "bench/micro/micro.h"

namespace
{

// What wrk sends (the load benchmark's keep-alive scenarios).
const char kReqSmall[] = "GET /100 HTTP/1.1\r\nHost: 127.0.0.1:10000\r\n\r\n";

// A browser-like request: 11 fields, ~600 bytes.
const char kReqBrowser[] =
    "GET /api/v1/products/12345/reviews?page=2&sort=recent HTTP/1.1\r\n"
    "Host: shop.example.com\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0\r\n"
    "Accept: application/json, text/plain, */*\r\n"
    "Accept-Language: en-US,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Referer: https://shop.example.com/products/12345\r\n"
    "Cookie: session=8f14e45fceea167a5a36dedd4bea2543; theme=dark; consent=1\r\n"
    "X-Request-Id: 1b4e28ba-2fa1-11d2-883f-0016d3cca427\r\n"
    "X-Forwarded-For: 10.1.2.3\r\n"
    "Connection: keep-alive\r\n"
    "\r\n";

// What the nginx origin answers for /100: this head and 100 body bytes (see kResp100()).
const char kResp100Head[] = "HTTP/1.1 200 OK\r\n"
                            "Server: nginx/1.22.1\r\n"
                            "Date: Wed, 26 Nov 2025 04:51:00 GMT\r\n"
                            "Content-Type: application/octet-stream\r\n"
                            "Content-Length: 100\r\n"
                            "Connection: keep-alive\r\n"
                            "\r\n";

const std::string &kResp100()
{
    static const std::string r = std::string(kResp100Head) + std::string(99, 'x') + "\n";
    return r;
}

struct parse_state {
    or_h1_parser p;
    or_arena arena;
    evbuffer *in;
    const char *msg;
    size_t len;
    unsigned complete;
};

int on_headers(void *, or_h1_msg *)
{
    return 0;
}

int on_body(void *, evbuffer *chunk)
{
    return evbuffer_drain(chunk, evbuffer_get_length(chunk));
}

int on_complete(void *ctx)
{
    static_cast<parse_state *>(ctx)->complete++;
    return 0;
}

const or_h1_callbacks kCallbacks = {on_headers, on_body, nullptr, on_complete};

void *parse_setup(or_h1_kind kind, const char *msg, size_t len)
{
    parse_state *s = new parse_state();
    or_micro_check(or_h1_parser_init(&s->p, kind, &kCallbacks, s, 0, 0) == 0, "parser init");
    or_arena_init(&s->arena, 0);
    or_h1_parser_set_arena(&s->p, &s->arena);
    s->in = evbuffer_new();
    s->msg = msg;
    s->len = len;
    return s;
}

// One message: the bytes arrive in the input buffer (a copy, as a socket read makes), are parsed
// into a header map in the stream arena, and the parser is made ready for the next message.
void parse_op(void *st)
{
    parse_state *s = static_cast<parse_state *>(st);
    evbuffer_add(s->in, s->msg, s->len);
    int rc = or_h1_parser_dispatch(&s->p, s->in);
    or_arena_reset(&s->arena);
    if (rc != 0 || or_h1_parser_resume(&s->p) != 0 || evbuffer_get_length(s->in) != 0)
        or_micro_check(false, "parse");
}

void parse_teardown(void *st)
{
    parse_state *s = static_cast<parse_state *>(st);
    or_micro_check(s->complete > 0, "parse completed messages");
    or_h1_parser_deinit(&s->p);
    or_arena_deinit(&s->arena);
    evbuffer_free(s->in);
    delete s;
}

void *req_small_setup()
{
    return parse_setup(OR_H1_REQUEST, kReqSmall, sizeof(kReqSmall) - 1);
}

void *req_browser_setup()
{
    return parse_setup(OR_H1_REQUEST, kReqBrowser, sizeof(kReqBrowser) - 1);
}

void *resp_100_setup()
{
    return parse_setup(OR_H1_RESPONSE, kResp100().data(), kResp100().size());
}

// ---- encoders

struct encode_state {
    or_arena arena;
    or_headers h;
    evbuffer *out;
};

void add(or_headers *h, const char *name, const char *value)
{
    or_micro_check(or_headers_add(h, name, std::strlen(name), value, std::strlen(value)) == 0,
                   "headers add");
}

// The response Outrider sends for the origin's /100 answer (Envoy adds
// x-envoy-upstream-service-time and rewrites server).
void *encode_response_setup()
{
    encode_state *s = new encode_state();
    or_arena_init(&s->arena, 0);
    or_headers_init(&s->h, &s->arena);
    add(&s->h, ":status", "200");
    add(&s->h, "server", "envoy");
    add(&s->h, "date", "Wed, 26 Nov 2025 04:51:00 GMT");
    add(&s->h, "content-type", "application/octet-stream");
    add(&s->h, "content-length", "100");
    add(&s->h, "x-envoy-upstream-service-time", "0");
    s->out = evbuffer_new();
    return s;
}

void encode_response_op(void *st)
{
    encode_state *s = static_cast<encode_state *>(st);
    int rc = or_h1_encode_response_head(s->out, 200, &s->h, 1, 0);
    if (rc < 0)
        or_micro_check(false, "encode response head");
    evbuffer_drain(s->out, evbuffer_get_length(s->out));
}

// The upstream request for wrk's GET after the HCM's header mutations.
void *encode_request_setup()
{
    encode_state *s = new encode_state();
    or_arena_init(&s->arena, 0);
    or_headers_init(&s->h, &s->arena);
    add(&s->h, ":method", "GET");
    add(&s->h, ":path", "/100");
    add(&s->h, ":authority", "127.0.0.1:10000");
    add(&s->h, ":scheme", "http");
    add(&s->h, "x-forwarded-proto", "http");
    add(&s->h, "x-request-id", "1b4e28ba-2fa1-41d2-883f-0016d3cca427");
    add(&s->h, "x-envoy-expected-rq-timeout-ms", "15000");
    s->out = evbuffer_new();
    return s;
}

void encode_request_op(void *st)
{
    encode_state *s = static_cast<encode_state *>(st);
    int rc = or_h1_encode_request_head(s->out, &s->h, OR_H1_ENC_END_STREAM);
    if (rc < 0)
        or_micro_check(false, "encode request head");
    evbuffer_drain(s->out, evbuffer_get_length(s->out));
}

void encode_teardown(void *st)
{
    encode_state *s = static_cast<encode_state *>(st);
    evbuffer_free(s->out);
    or_arena_deinit(&s->arena);
    delete s;
}

} // namespace

OR_MICRO_CASE(h1_parse_request_wrk, req_small_setup, parse_op, parse_teardown);
OR_MICRO_CASE(h1_parse_request_browser, req_browser_setup, parse_op, parse_teardown);
OR_MICRO_CASE(h1_parse_response_100B, resp_100_setup, parse_op, parse_teardown);
OR_MICRO_CASE(h1_encode_response_head, encode_response_setup, encode_response_op, encode_teardown);
OR_MICRO_CASE(h1_encode_request_head, encode_request_setup, encode_request_op, encode_teardown);
