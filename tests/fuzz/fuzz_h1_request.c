/* libFuzzer target: the HTTP/1 request parser (fuzz_h1_response.c includes this file with
 * H1_FUZZ_RESPONSE defined for the response parser).
 *
 * Input: 4 control bytes, then the byte stream. Control byte 0 picks options (HTTP/1.0,
 * allow_chunked_length, underscores action, pausing in on_headers, a small header limit), bytes
 * 1-3 seed the generator that cuts the stream into pieces of 1..64 bytes, each added as its own
 * evbuffer chain or appended to the last one, with a dispatch after each piece. For responses the
 * generator also picks what each response answers (HEAD, CONNECT, Upgrade).
 *
 * Checked on every message: header names are lower-case tokens (or pseudo-headers), values carry
 * no CR/LF/NUL and no surrounding whitespace, requests re-encode, no body byte follows an
 * end_stream head, a Content-Length body has exactly that length, and nothing leaks. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "proxy/core/err.h"
#include "proxy/http/codec_h1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifdef H1_FUZZ_RESPONSE
#define KIND OR_H1_RESPONSE
#else
#define KIND OR_H1_REQUEST
#endif

struct fz {
    struct or_h1_parser p;
    struct or_arena arena;
    struct evbuffer *scratch;
    uint32_t rng;
    bool pause_headers;
    bool in_msg;  /* between on_headers and on_message_complete */
    bool no_body; /* end_stream or informational head */
    bool tunnel;
    bool has_cl;
    uint64_t cl;
    uint64_t body;
};

static uint32_t next(struct fz *f)
{
    f->rng ^= f->rng << 13;
    f->rng ^= f->rng >> 17;
    f->rng ^= f->rng << 5;
    return f->rng;
}

static bool tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("!#$%&'*+-.^_`|~", c);
}

static void check_headers(const struct or_headers *h)
{
    for (uint32_t i = 0; i < h->n; i++) {
        struct or_str n = h->v[i].name, v = h->v[i].value;
        if (n.len == 0)
            abort();
        for (size_t j = n.ptr[0] == ':' ? 1 : 0; j < n.len; j++)
            if (!tchar((unsigned char)n.ptr[j]))
                abort();
        for (size_t j = 0; j < v.len; j++)
            if (v.ptr[j] == '\r' || v.ptr[j] == '\n' || v.ptr[j] == '\0')
                abort();
        if (v.len > 0 && (v.ptr[0] == ' ' || v.ptr[0] == '\t' || v.ptr[v.len - 1] == ' ' ||
                          v.ptr[v.len - 1] == '\t'))
            abort();
    }
}

static int on_headers(void *ctx, struct or_h1_msg *m)
{
    struct fz *f = ctx;
    if (f->in_msg && !f->no_body)
        abort(); /* a new head inside a message with a body */
    check_headers(m->headers);
    f->in_msg = true;
    f->no_body = m->end_stream || m->informational;
    f->tunnel = m->upgrade;
    f->has_cl = m->has_content_length;
    f->cl = m->content_length;
    f->body = 0;
    if (m->informational && KIND == OR_H1_REQUEST)
        abort();
#ifndef H1_FUZZ_RESPONSE
    if (or_headers_get(m->headers, ":method") == NULL)
        abort();
    if (or_h1_encode_request_head(f->scratch, m->headers,
                                  m->end_stream ? OR_H1_ENC_END_STREAM : 0) < 0)
        abort();
#else
    if (or_headers_get(m->headers, ":status") == NULL)
        abort();
    if (or_h1_encode_response_head(f->scratch, m->status, m->headers, m->http_minor, 0) < 0)
        abort();
#endif
    evbuffer_drain(f->scratch, evbuffer_get_length(f->scratch));
    if (m->informational)
        f->in_msg = false;
    return f->pause_headers && (next(f) & 1) ? OR_EAGAIN : 0;
}

static int on_body(void *ctx, struct evbuffer *b)
{
    struct fz *f = ctx;
    size_t n = evbuffer_get_length(b);
    if (!f->in_msg || f->no_body || n == 0)
        abort();
    f->body += n;
    if (f->has_cl && !f->tunnel && f->body > f->cl)
        abort();
    /* Take some, leave the rest: the parser must discard it. */
    evbuffer_drain(b, n / 2);
    return 0;
}

static int on_trailers(void *ctx, struct or_headers *t)
{
    struct fz *f = ctx;
    if (!f->in_msg)
        abort();
    check_headers(t);
    return 0;
}

static int on_complete(void *ctx)
{
    struct fz *f = ctx;
    if (!f->in_msg && !f->tunnel)
        abort();
    if (f->has_cl && !f->no_body && !f->tunnel && f->body != f->cl)
        abort();
    f->in_msg = false;
    return 0;
}

static const struct or_h1_callbacks cbs = {
    .on_headers = on_headers,
    .on_body = on_body,
    .on_trailers = on_trailers,
    .on_message_complete = on_complete,
};

static void set_expect(struct fz *f)
{
#ifdef H1_FUZZ_RESPONSE
    uint32_t r = next(f) % 8;
    or_h1_parser_expect(&f->p, r == 0   ? OR_H1_EXPECT_HEAD
                               : r == 1 ? OR_H1_EXPECT_CONNECT
                               : r == 2 ? OR_H1_EXPECT_UPGRADE
                                        : 0);
#else
    (void)f;
#endif
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    static struct fz f;
    memset(&f, 0, sizeof(f));
    uint8_t ctl = data[0];
    f.rng = ((uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 | data[3]) | 1;
    f.pause_headers = ctl & 0x10;
    data += 4;
    size -= 4;

    or_arena_init(&f.arena, 0);
    f.scratch = evbuffer_new();
    if (or_h1_parser_init(&f.p, KIND, &cbs, &f, (ctl & 0x20) ? 256 : 0, (ctl & 0x40) ? 4 : 0) != 0)
        abort();
    struct or_h1_options o = {
        .accept_http_10 = ctl & 0x01,
        .allow_chunked_length = ctl & 0x02,
        .underscores = (enum or_h1_underscores)((ctl >> 2) % 3),
        .default_host_for_http_10 = (ctl & 0x80) ? OR_STR_LIT("default.host") : OR_STR_NULL,
    };
    or_h1_parser_set_options(&f.p, &o);
    or_h1_parser_set_arena(&f.p, &f.arena);
    set_expect(&f);

    struct evbuffer *in = evbuffer_new();
    size_t off = 0;
    int rc = 0;
    while (off < size && rc >= 0) {
        size_t piece = 1 + next(&f) % 64;
        if (piece > size - off)
            piece = size - off;
        if (next(&f) & 1)
            evbuffer_add_reference(in, data + off, piece, NULL, NULL);
        else
            evbuffer_add(in, data + off, piece);
        off += piece;
        for (int guard = 0; guard < 1000; guard++) {
            rc = or_h1_parser_dispatch(&f.p, in);
            if (rc < 0) {
                const struct or_h1_error *e = or_h1_parser_error(&f.p);
                if (rc == OR_EPROTO && e->details == NULL)
                    abort();
                /* The scanner and llhttp must never disagree on framing. */
                if (e->reason != NULL && strcmp(e->reason, "parser desynchronised") == 0)
                    abort();
                break;
            }
            if (!or_h1_parser_paused(&f.p))
                break;
            bool done = f.p.state == OR_H1_S_DONE;
            if (or_h1_parser_resume(&f.p) != 0)
                break;
            if (done) {
                /* A fresh arena per message, like a stream's. */
                or_arena_reset(&f.arena);
                set_expect(&f);
            }
        }
    }
    if (rc >= 0)
        (void)or_h1_parser_finish(&f.p);
    /* Input that stayed behind holds references to `data`: drop them before returning. */
    evbuffer_free(in);
    or_h1_parser_deinit(&f.p);
    evbuffer_free(f.scratch);
    or_arena_deinit(&f.arena);
    return 0;
}
