// Header map (proxy/http/headers.h): building a request map, lookups, and the mutations the
// connection manager and router make on every request.
#include <cstring>

#include "bench/micro/micro.h"

namespace
{

struct kv {
    const char *name;
    const char *value;
};

// A request as the HTTP/1 parser hands it over (pseudo-headers first, names lower-case).
const kv kRequest[] = {
    {":method", "GET"},
    {":path", "/api/v1/products/12345/reviews?page=2"},
    {":authority", "shop.example.com"},
    {"user-agent", "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0"},
    {"accept", "application/json, text/plain, */*"},
    {"accept-language", "en-US,en;q=0.5"},
    {"accept-encoding", "gzip, deflate, br"},
    {"referer", "https://shop.example.com/products/12345"},
    {"cookie", "session=8f14e45fceea167a5a36dedd4bea2543; theme=dark"},
    {"x-forwarded-for", "10.1.2.3"},
    {"connection", "keep-alive"},
};
const size_t kRequestN = sizeof(kRequest) / sizeof(kRequest[0]);

struct hstate {
    or_arena arena;  // per-operation arena, reset after each operation
    or_arena fixed;  // holds `req` for the whole run
    or_headers req;  // the request above
    or_headers work; // built in `arena` by the operation
};

void fill(or_headers *h)
{
    for (size_t i = 0; i < kRequestN; i++)
        or_micro_check(or_headers_add(h, kRequest[i].name, std::strlen(kRequest[i].name),
                                      kRequest[i].value, std::strlen(kRequest[i].value)) == 0,
                       "headers add");
}

void *setup()
{
    hstate *s = new hstate();
    or_arena_init(&s->arena, 0);
    or_arena_init(&s->fixed, 0);
    or_headers_init(&s->req, &s->fixed);
    fill(&s->req);
    return s;
}

void teardown(void *st)
{
    hstate *s = static_cast<hstate *>(st);
    or_arena_deinit(&s->arena);
    or_arena_deinit(&s->fixed);
    delete s;
}

// 11 adds (copy + lower-case) into a fresh map.
void add11_op(void *st)
{
    hstate *s = static_cast<hstate *>(st);
    or_headers_init(&s->work, &s->arena);
    fill(&s->work);
    or_arena_reset(&s->arena);
}

// Lookup of a field in the middle of the map ("accept-encoding", the 7th of 11).
void get_hit_op(void *st)
{
    hstate *s = static_cast<hstate *>(st);
    if (or_headers_get(&s->req, "accept-encoding") == nullptr)
        or_micro_check(false, "get hit");
}

// Lookup of an absent field: every entry is compared (what most Envoy header checks do).
void get_miss_op(void *st)
{
    hstate *s = static_cast<hstate *>(st);
    if (or_headers_get(&s->req, "x-envoy-upstream-rq-timeout-ms") != nullptr)
        or_micro_check(false, "get miss");
}

// What the HCM and router do to a request on its way upstream: copy into the stream arena, drop
// hop-by-hop connection, set x-forwarded-proto, add x-request-id, read :authority and :path.
void mutate_op(void *st)
{
    hstate *s = static_cast<hstate *>(st);
    or_headers_init(&s->work, &s->arena);
    int rc = or_headers_copy(&s->work, &s->req);
    or_headers_remove(&s->work, "connection");
    rc |= or_headers_set(&s->work, "x-forwarded-proto", "http", 4);
    rc |= or_headers_add(&s->work, "x-request-id", 12, "1b4e28ba-2fa1-41d2-883f-0016d3cca427", 36);
    if (rc != 0 || or_headers_get(&s->work, ":authority") == nullptr ||
        or_headers_get(&s->work, ":path") == nullptr)
        or_micro_check(false, "mutate");
    or_arena_reset(&s->arena);
}

} // namespace

OR_MICRO_CASE(headers_add_11, setup, add11_op, teardown);
OR_MICRO_CASE(headers_get_hit, setup, get_hit_op, teardown);
OR_MICRO_CASE(headers_get_miss, setup, get_miss_op, teardown);
OR_MICRO_CASE(headers_request_mutations, setup, mutate_op, teardown);
