/* Fakes for driving a struct or_stream without a connection: one event log shared by a fake codec
 * (what reaches the wire) and a scriptable filter type, so a test states the exact sequence of
 * callbacks it expects as one string, e.g. "A.dh(1) B.dh(1) wire.h(200,0)".
 *
 * Tokens: <filter>.dh(end) .dd(bytes,end) .dt(name=value) .eh(status,end) .ed(bytes,end)
 * .et(name=value) .init .reset .destroy; wire.h(status,end) wire.d(bytes,end)
 * wire.t(name=value) wire.rd(disable) wire.reset. */
#ifndef OR_TEST_STREAM_FAKES_H
#define OR_TEST_STREAM_FAKES_H

#include <event2/buffer.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/http/filter.h"
#include "proxy/http/hcm_config.h"
#include "proxy/http/headers.h"
#include "proxy/http/stream.h"

/* ---- the event log ---- */

struct tlog {
    char buf[16384]; /* tokens separated by one space */
    size_t len;
    bool overflow; /* a token did not fit: the comparison fails loudly */
};

static struct tlog tlog;

static inline void tlog_clear(void)
{
    tlog.len = 0;
    tlog.buf[0] = '\0';
    tlog.overflow = false;
}

__attribute__((format(printf, 1, 2))) static inline void tlog_add(const char *fmt, ...)
{
    char tok[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tok, sizeof(tok), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tok) || tlog.len + (size_t)n + 2 > sizeof(tlog.buf)) {
        tlog.overflow = true;
        return;
    }
    if (tlog.len > 0)
        tlog.buf[tlog.len++] = ' ';
    memcpy(tlog.buf + tlog.len, tok, (size_t)n + 1);
    tlog.len += (size_t)n;
}

/* Copies the readable bytes of b (at most cap-1) as a C string, without draining. */
static inline const char *tlog_bytes(struct evbuffer *b, char *out, size_t cap)
{
    size_t n = evbuffer_get_length(b);
    if (n > cap - 1)
        n = cap - 1;
    ev_ssize_t got = evbuffer_copyout(b, out, n);
    out[got > 0 ? (size_t)got : 0] = '\0';
    return out;
}

/* The log with only the tokens starting with `prefix` ("wire.", "C."), into out. */
static inline const char *tlog_only(const char *prefix, char *out, size_t cap)
{
    size_t plen = strlen(prefix), o = 0;
    const char *p = tlog.buf;
    out[0] = '\0';
    while (*p != '\0') {
        const char *e = strchr(p, ' ');
        size_t n = e != NULL ? (size_t)(e - p) : strlen(p);
        if (n >= plen && memcmp(p, prefix, plen) == 0 && o + n + 2 <= cap) {
            if (o > 0)
                out[o++] = ' ';
            memcpy(out + o, p, n);
            o += n;
            out[o] = '\0';
        }
        p += n;
        while (*p == ' ')
            p++;
    }
    return out;
}

/* ---- the fake codec: records what reaches the downstream ---- */

struct fake_wire {
    struct evbuffer *body; /* owned: every response body byte the codec received */
    unsigned n_headers, n_data, n_trailers, n_reset;
    bool ended; /* an end_stream reached the codec */
};

static inline unsigned tstatus(const struct or_headers *h)
{
    const struct or_str *v = or_headers_get(h, ":status");
    unsigned st = 0;
    for (size_t i = 0; v != NULL && i < v->len; i++)
        st = st * 10 + (unsigned)(v->ptr[i] - '0');
    return st;
}

static inline void tlog_first_header(const char *who, const struct or_headers *t)
{
    if (t == NULL || t->n == 0)
        tlog_add("%s()", who);
    else
        tlog_add("%s(%.*s=%.*s)", who, (int)t->v[0].name.len, t->v[0].name.ptr,
                 (int)t->v[0].value.len, t->v[0].value.ptr);
}

static inline void wire_encode_headers(void *ctx, struct or_stream *s, struct or_headers *h,
                                       bool end_stream)
{
    struct fake_wire *w = ctx;
    w->n_headers++;
    w->ended |= end_stream;
    tlog_add("wire.h(%u,%d)", tstatus(h), end_stream);
}

static inline void wire_encode_data(void *ctx, struct or_stream *s, struct evbuffer *b,
                                    bool end_stream)
{
    struct fake_wire *w = ctx;
    char tmp[256];
    w->n_data++;
    w->ended |= end_stream;
    tlog_add("wire.d(%s,%d)", tlog_bytes(b, tmp, sizeof(tmp)), end_stream);
    /* A real codec moves the bytes to its output buffer. */
    evbuffer_add_buffer(w->body, b);
}

static inline void wire_encode_trailers(void *ctx, struct or_stream *s, struct or_headers *t)
{
    struct fake_wire *w = ctx;
    w->n_trailers++;
    w->ended = true;
    tlog_first_header("wire.t", t);
}

static inline void wire_read_disable(void *ctx, struct or_stream *s, bool disable)
{
    tlog_add("wire.rd(%d)", disable);
}

static inline void wire_reset(void *ctx, struct or_stream *s)
{
    struct fake_wire *w = ctx;
    w->n_reset++;
    tlog_add("wire.reset");
}

static const struct or_stream_codec fake_codec = {
    .encode_headers = wire_encode_headers,
    .encode_data = wire_encode_data,
    .encode_trailers = wire_encode_trailers,
    .read_disable = wire_read_disable,
    .reset = wire_reset,
};

/* ---- the scriptable test filter ---- */

enum tev { EV_DH, EV_DD, EV_DT, EV_EH, EV_ED, EV_ET, EV_N };

struct tfilt;

/* Runs inside a callback after it was logged; returns the status to hand back (dflt is the
 * spec's ret[ev]). May call into the stream (local reply, continue, encode). */
typedef enum or_filter_status (*tf_hook_cb)(struct tfilt *tf, enum tev ev, struct evbuffer *b,
                                            bool end, enum or_filter_status dflt);

struct tspec {
    const char *name;                /* borrowed: log prefix */
    enum or_filter_status ret[EV_N]; /* what each callback returns; CONTINUE when zeroed */
    tf_hook_cb hook;                 /* optional */
    unsigned lr_status;              /* for hooks that send a local reply */
    const char *lr_body;             /* borrowed, static */
};

struct tfilt {
    struct or_http_filter base;
    const struct tspec *spec; /* borrowed: base.cfg */
    unsigned calls[EV_N];     /* how often each callback ran */
};

static inline enum or_filter_status tf_finish(struct tfilt *tf, enum tev ev, struct evbuffer *b,
                                              bool end)
{
    tf->calls[ev]++;
    enum or_filter_status st = tf->spec->ret[ev];
    if (tf->spec->hook != NULL)
        st = tf->spec->hook(tf, ev, b, end, st);
    /* STOP_NO_BUFFER means the filter took the bytes. */
    if (st == OR_FILTER_STOP_NO_BUFFER && b != NULL)
        evbuffer_drain(b, evbuffer_get_length(b));
    return st;
}

static inline void tf_init(struct or_http_filter *f)
{
    struct tfilt *tf = (struct tfilt *)f;
    tf->spec = f->cfg;
    tlog_add("%s.init", tf->spec->name);
}

static inline enum or_filter_status tf_decode_headers(struct or_http_filter *f,
                                                      struct or_headers *h, bool end)
{
    struct tfilt *tf = (struct tfilt *)f;
    tlog_add("%s.dh(%d)", tf->spec->name, end);
    /* Leaves a trace so a test can check every filter worked on the same map, in order. */
    or_headers_add(h, "x-seen", 6, tf->spec->name, strlen(tf->spec->name));
    return tf_finish(tf, EV_DH, NULL, end);
}

static inline enum or_filter_status tf_decode_data(struct or_http_filter *f, struct evbuffer *b,
                                                   bool end)
{
    struct tfilt *tf = (struct tfilt *)f;
    char tmp[256];
    tlog_add("%s.dd(%s,%d)", tf->spec->name, tlog_bytes(b, tmp, sizeof(tmp)), end);
    return tf_finish(tf, EV_DD, b, end);
}

static inline enum or_filter_status tf_decode_trailers(struct or_http_filter *f,
                                                       struct or_headers *t)
{
    struct tfilt *tf = (struct tfilt *)f;
    char who[64];
    snprintf(who, sizeof(who), "%s.dt", tf->spec->name);
    tlog_first_header(who, t);
    return tf_finish(tf, EV_DT, NULL, true);
}

static inline enum or_filter_status tf_encode_headers(struct or_http_filter *f,
                                                      struct or_headers *h, bool end)
{
    struct tfilt *tf = (struct tfilt *)f;
    tlog_add("%s.eh(%u,%d)", tf->spec->name, tstatus(h), end);
    return tf_finish(tf, EV_EH, NULL, end);
}

static inline enum or_filter_status tf_encode_data(struct or_http_filter *f, struct evbuffer *b,
                                                   bool end)
{
    struct tfilt *tf = (struct tfilt *)f;
    char tmp[256];
    tlog_add("%s.ed(%s,%d)", tf->spec->name, tlog_bytes(b, tmp, sizeof(tmp)), end);
    return tf_finish(tf, EV_ED, b, end);
}

static inline enum or_filter_status tf_encode_trailers(struct or_http_filter *f,
                                                       struct or_headers *t)
{
    struct tfilt *tf = (struct tfilt *)f;
    char who[64];
    snprintf(who, sizeof(who), "%s.et", tf->spec->name);
    tlog_first_header(who, t);
    return tf_finish(tf, EV_ET, NULL, true);
}

static inline void tf_on_reset(struct or_http_filter *f)
{
    tlog_add("%s.reset", ((struct tfilt *)f)->spec->name);
}

static inline void tf_on_destroy(struct or_http_filter *f)
{
    tlog_add("%s.destroy", ((struct tfilt *)f)->spec->name);
}

static const struct or_http_filter_type tfilter_type = {
    .name = "test.filter",
    .inst_size = sizeof(struct tfilt),
    .init = tf_init,
    .decode_headers = tf_decode_headers,
    .decode_data = tf_decode_data,
    .decode_trailers = tf_decode_trailers,
    .encode_headers = tf_encode_headers,
    .encode_data = tf_encode_data,
    .encode_trailers = tf_encode_trailers,
    .on_reset = tf_on_reset,
    .on_destroy = tf_on_destroy,
};

/* A filter with no callbacks at all: the manager must step over it. */
static const struct or_http_filter_type tnull_type = {
    .name = "test.null",
    .inst_size = sizeof(struct or_http_filter),
};

/* ---- fixture: one stream, its chain and the wire ---- */

#define FX_MAX_FILTERS 8

struct fx {
    struct tspec spec[FX_MAX_FILTERS];
    struct or_http_filter_factory fac[FX_MAX_FILTERS];
    char names[FX_MAX_FILTERS][2];
    struct or_hcm_config hcm; /* only filters/nfilters are read by the stream */
    struct or_stream s;
    struct fake_wire wire;
    bool live; /* s needs or_stream_deinit */
};

/* Declares the chain, one letter per filter ('-' = a filter without callbacks). 'R' is a
 * router-like terminal filter: it stops on request headers and trailers and takes the body
 * (STOP_NO_BUFFER), as filters/http/router.c does. */
static inline void fx_chain(struct fx *x, const char *letters)
{
    size_t n = strlen(letters);
    x->hcm.nfilters = (unsigned)n;
    x->hcm.filters = x->fac;
    for (size_t i = 0; i < n && i < FX_MAX_FILTERS; i++) {
        x->names[i][0] = letters[i];
        x->names[i][1] = '\0';
        x->spec[i].name = x->names[i];
        x->fac[i].type = letters[i] == '-' ? &tnull_type : &tfilter_type;
        x->fac[i].cfg = &x->spec[i];
        if (letters[i] == 'R') {
            x->spec[i].ret[EV_DH] = OR_FILTER_STOP_ITERATION;
            x->spec[i].ret[EV_DD] = OR_FILTER_STOP_NO_BUFFER;
            x->spec[i].ret[EV_DT] = OR_FILTER_STOP_ITERATION;
        }
    }
}

/* Initialises the stream with request headers for `method` and creates the filters, as the
 * connection manager does; then clears the log. Returns the stream. */
static inline struct or_stream *fx_start_opts(struct fx *x, const char *method, bool create)
{
    struct or_stream *s = &x->s;
    if (or_stream_init(s, NULL, NULL, &x->hcm, &fake_codec, &x->wire) != 0)
        abort();
    x->live = true;
    or_headers_add(&s->req, ":method", 7, method, strlen(method));
    or_headers_add(&s->req, ":path", 5, "/", 1);
    or_headers_add(&s->req, ":authority", 10, "example", 7);
    if (strcmp(method, "HEAD") == 0)
        s->flags |= OR_STREAM_F_HEAD;
    if (create && or_stream_create_filters(s) != 0)
        abort();
    tlog_clear();
    return s;
}

static inline struct or_stream *fx_start(struct fx *x, const char *method)
{
    return fx_start_opts(x, method, true);
}

static inline struct fx *fx_new(void)
{
    struct fx *x = calloc(1, sizeof(*x));
    if (x == NULL)
        abort();
    x->wire.body = evbuffer_new();
    tlog_clear();
    return x;
}

static inline void fx_free(struct fx *x)
{
    if (x->live)
        or_stream_deinit(&x->s);
    evbuffer_free(x->wire.body);
    free(x);
}

static inline struct or_http_filter *fx_f(struct fx *x, unsigned i)
{
    return x->s.filters[i];
}

/* Request body chunk from the codec; returns the bytes the stream left in the codec's buffer
 * (it must take or drop them all). */
static inline size_t fx_req_data(struct fx *x, const char *bytes, bool end)
{
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, bytes, strlen(bytes));
    or_stream_decode_data(&x->s, b, end);
    size_t left = evbuffer_get_length(b);
    evbuffer_free(b);
    return left;
}

/* Trailers map in the stream's arena with one entry. */
static inline struct or_headers *fx_trailers(struct fx *x, const char *name, const char *value)
{
    struct or_headers *t = or_arena_alloc(&x->s.arena, sizeof(*t));
    if (t == NULL)
        abort();
    or_headers_init(t, &x->s.arena);
    or_headers_add(t, name, strlen(name), value, strlen(value));
    return t;
}

/* Response headers injected by filter index `from` (the router's role). */
static inline void fx_resp_headers(struct fx *x, unsigned from, unsigned status, bool end)
{
    char num[16];
    int n = snprintf(num, sizeof(num), "%u", status);
    or_headers_init(&x->s.resp, &x->s.arena);
    or_headers_add(&x->s.resp, ":status", 7, num, (size_t)n);
    or_stream_encode_headers(&x->s, fx_f(x, from), end);
}

/* Response body chunk injected by filter index `from`; returns the bytes left in the buffer. */
static inline size_t fx_resp_data(struct fx *x, unsigned from, const char *bytes, bool end)
{
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, bytes, strlen(bytes));
    or_stream_encode_data(&x->s, fx_f(x, from), b, end);
    size_t left = evbuffer_get_length(b);
    evbuffer_free(b);
    return left;
}

#endif
