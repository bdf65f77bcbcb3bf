/* Test harness shared by the HTTP/1 codec tests: a parser whose callbacks write a textual log,
 * fed whole, byte by byte, or as many evbuffer chains at once. */
#ifndef OR_TEST_H1_UTIL_H
#define OR_TEST_H1_UTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "proxy/core/err.h"
#include "proxy/http/codec_h1.h"

struct h1t {
    struct or_h1_parser p;
    struct or_arena arena;
    struct evbuffer *in;
    char log[65536];
    size_t log_len;
    int last_body;              /* the log ends with body bytes: merge the next piece */
    int body_calls;             /* on_body invocations */
    int pause_headers;          /* on_headers returns OR_EAGAIN */
    int auto_resume;            /* feed() resumes after a complete message */
    int messages;               /* on_message_complete count */
    int abort_body;             /* on_body returns this when non-zero */
    const void *first_body_ptr; /* data pointer of the first body chain seen */
    struct or_h1_msg last;
};

static inline void h1t_logf(struct h1t *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static inline void h1t_logf(struct h1t *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->log + t->log_len, sizeof(t->log) - t->log_len, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->log_len += (size_t)n;
    if (t->log_len >= sizeof(t->log))
        t->log_len = sizeof(t->log) - 1;
    t->last_body = 0;
}

static inline void h1t_log_headers(struct h1t *t, const struct or_headers *h)
{
    for (uint32_t i = 0; i < h->n; i++)
        h1t_logf(t, " %.*s=%.*s", (int)h->v[i].name.len, h->v[i].name.ptr, (int)h->v[i].value.len,
                 h->v[i].value.ptr);
}

static inline int h1t_on_headers(void *ctx, struct or_h1_msg *m)
{
    struct h1t *t = ctx;
    t->last = *m;
    h1t_logf(t, "H[v1.%u ka=%d ch=%d cl=%d:%llu exp=%d up=%d inf=%d end=%d]", m->http_minor,
             m->keep_alive, m->chunked, m->has_content_length,
             (unsigned long long)m->content_length, m->expect_continue, m->upgrade,
             m->informational, m->end_stream);
    h1t_log_headers(t, m->headers);
    h1t_logf(t, "\n");
    return t->pause_headers ? OR_EAGAIN : 0;
}

static inline int h1t_on_body(void *ctx, struct evbuffer *b)
{
    struct h1t *t = ctx;
    t->body_calls++;
    if (t->first_body_ptr == NULL) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(b, -1, NULL, &v, 1) >= 1)
            t->first_body_ptr = v.iov_base;
    }
    if (!t->last_body)
        h1t_logf(t, "B:");
    size_t n = evbuffer_get_length(b);
    if (t->log_len + n < sizeof(t->log) - 1) {
        evbuffer_remove(b, t->log + t->log_len, n);
        t->log_len += n;
        t->log[t->log_len] = '\0';
    } else {
        evbuffer_drain(b, n);
    }
    t->last_body = 1;
    return t->abort_body;
}

static inline int h1t_on_trailers(void *ctx, struct or_headers *tr)
{
    struct h1t *t = ctx;
    h1t_logf(t, "\nT:");
    h1t_log_headers(t, tr);
    h1t_logf(t, "\n");
    return 0;
}

static inline int h1t_on_complete(void *ctx)
{
    struct h1t *t = ctx;
    t->messages++;
    h1t_logf(t, "%sC\n", t->last_body ? "\n" : "");
    return 0;
}

static const struct or_h1_callbacks h1t_cb = {
    .on_headers = h1t_on_headers,
    .on_body = h1t_on_body,
    .on_trailers = h1t_on_trailers,
    .on_message_complete = h1t_on_complete,
};

static inline struct h1t *h1t_new(enum or_h1_kind kind, uint32_t max_bytes, uint32_t max_count)
{
    struct h1t *t = calloc(1, sizeof(*t));
    if (t == NULL)
        abort();
    or_arena_init(&t->arena, 0);
    if (or_h1_parser_init(&t->p, kind, &h1t_cb, t, max_bytes, max_count) != 0)
        abort();
    or_h1_parser_set_arena(&t->p, &t->arena);
    t->in = evbuffer_new();
    t->auto_resume = 1;
    return t;
}

static inline void h1t_free(struct h1t *t)
{
    or_h1_parser_deinit(&t->p);
    or_arena_deinit(&t->arena);
    evbuffer_free(t->in);
    free(t);
}

/* Dispatches what is buffered, resuming after each complete message when auto_resume is set
 * (and after on_headers pauses). Returns the first negative result, else 0. */
static inline int h1t_pump(struct h1t *t)
{
    for (;;) {
        int rc = or_h1_parser_dispatch(&t->p, t->in);
        if (rc < 0) {
            const struct or_h1_error *e = or_h1_parser_error(&t->p);
            h1t_logf(t, "E[%d %u %s]\n", rc, e->status, e->details ? e->details : "-");
            return rc;
        }
        if (!or_h1_parser_paused(&t->p) || !t->auto_resume)
            return 0;
        rc = or_h1_parser_resume(&t->p);
        if (rc == OR_ECLOSED) {
            h1t_logf(t, "CLOSED\n");
            return 0;
        }
        if (evbuffer_get_length(t->in) == 0 && t->p.state == OR_H1_S_IDLE)
            return 0;
    }
}

static void h1t_free_ref(const void *data, size_t len, void *arg)
{
    (void)len;
    (void)arg;
    free((void *)data);
}

/* Adds `len` bytes as its own evbuffer chain (no coalescing with earlier bytes). */
static inline void h1t_add_chain(struct evbuffer *b, const char *s, size_t len)
{
    char *copy = malloc(len ? len : 1);
    memcpy(copy, s, len);
    evbuffer_add_reference(b, copy, len, h1t_free_ref, NULL);
}

enum h1t_mode {
    H1T_WHOLE = 0, /* one chain, one dispatch */
    H1T_BYTES,     /* one byte per dispatch */
    H1T_CHAINS,    /* one chain per byte, one dispatch */
    H1T_SPLIT7,    /* chains of 7 bytes, dispatch after each */
};

static inline int h1t_feed(struct h1t *t, const char *s, size_t len, enum h1t_mode mode)
{
    int rc = 0;
    switch (mode) {
    case H1T_WHOLE:
        h1t_add_chain(t->in, s, len);
        return h1t_pump(t);
    case H1T_BYTES:
        for (size_t i = 0; i < len && rc == 0; i++) {
            h1t_add_chain(t->in, s + i, 1);
            rc = h1t_pump(t);
        }
        return rc;
    case H1T_CHAINS:
        for (size_t i = 0; i < len; i++)
            h1t_add_chain(t->in, s + i, 1);
        return h1t_pump(t);
    case H1T_SPLIT7:
        for (size_t i = 0; i < len && rc == 0; i += 7) {
            h1t_add_chain(t->in, s + i, len - i < 7 ? len - i : 7);
            rc = h1t_pump(t);
        }
        return rc;
    }
    return rc;
}

#endif
