#include "proxy/http/stream.h"
#include "proxy/http/hcm_config.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

uint64_t or_time_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int or_stream_init(struct or_stream *s, struct or_worker *w, struct or_wctx *wctx,
                   const struct or_hcm_config *hcm, const struct or_stream_codec *codec,
                   void *codec_ctx)
{
    memset(s, 0, sizeof(*s));
    or_arena_init(&s->arena, 4096);
    return or_stream_reinit(s, w, wctx, hcm, codec, codec_ctx);
}

int or_stream_reinit(struct or_stream *s, struct or_worker *w, struct or_wctx *wctx,
                     const struct or_hcm_config *hcm, const struct or_stream_codec *codec,
                     void *codec_ctx)
{
    struct or_arena arena = s->arena;
    memset(s, 0, sizeof(*s));
    s->arena = arena;
    or_headers_init(&s->req, &s->arena);
    or_headers_init(&s->resp, &s->arena);
    s->worker = w;
    s->wctx = wctx;
    s->hcm = hcm;
    s->codec = codec;
    s->codec_ctx = codec_ctx;
    s->dec_stopped = -1;
    s->enc_stopped = -1;
    s->start_us = or_time_us();
    clock_gettime(CLOCK_REALTIME, &s->start_wall);
    return 0;
}

int or_stream_create_filters(struct or_stream *s)
{
    const struct or_hcm_config *hcm = s->hcm;
    s->nfilters = hcm->nfilters;
    s->filters =
        or_arena_alloc(&s->arena, sizeof(*s->filters) * (hcm->nfilters ? hcm->nfilters : 1));
    if (s->filters == NULL)
        return OR_ENOMEM;
    for (unsigned i = 0; i < hcm->nfilters; i++) {
        const struct or_http_filter_factory *fac = &hcm->filters[i];
        struct or_http_filter *f = or_arena_calloc(&s->arena, fac->type->inst_size);
        if (f == NULL)
            return OR_ENOMEM;
        f->type = fac->type;
        f->cfg = fac->cfg;
        f->stream = s;
        f->index = i;
        s->filters[i] = f;
        if (f->type->init != NULL)
            f->type->init(f);
    }
    s->enc_headers_next = s->nfilters;
    return 0;
}

void or_stream_abort(struct or_stream *s)
{
    if (s->flags & OR_STREAM_F_ABORTED)
        return;
    s->flags |= OR_STREAM_F_ABORTED | OR_STREAM_F_RESET;
    for (unsigned i = 0; i < s->nfilters && s->filters != NULL; i++) {
        struct or_http_filter *f = s->filters[i];
        if (f != NULL && f->type->on_reset != NULL)
            f->type->on_reset(f);
    }
}

static void stream_release(struct or_stream *s, bool keep_arena)
{
    bool complete = (s->flags & OR_STREAM_F_ENCODE_END) && (s->flags & OR_STREAM_F_DECODE_END);
    if (!complete)
        or_stream_abort(s);
    for (unsigned i = 0; i < s->nfilters && s->filters != NULL; i++) {
        struct or_http_filter *f = s->filters[i];
        if (f != NULL && f->type->on_destroy != NULL)
            f->type->on_destroy(f);
    }
    if (s->dec_buf != NULL)
        evbuffer_free(s->dec_buf);
    if (s->enc_buf != NULL)
        evbuffer_free(s->enc_buf);
    s->dec_buf = s->enc_buf = NULL;
    s->nfilters = 0;
    s->filters = NULL;
    if (keep_arena)
        or_arena_reset(&s->arena);
    else
        or_arena_deinit(&s->arena);
}

void or_stream_deinit(struct or_stream *s)
{
    stream_release(s, false);
}

void or_stream_recycle(struct or_stream *s)
{
    stream_release(s, true);
}

void or_stream_free_arena(struct or_stream *s)
{
    or_arena_deinit(&s->arena);
}

static struct evbuffer *hold_buf(struct evbuffer **slot)
{
    if (*slot == NULL)
        *slot = evbuffer_new();
    return *slot;
}

/* ---- decode (request) path: filters 0..n-1 ---- */

/* Filter i does not get request events yet: the headers have not reached it, or an earlier filter
 * stopped. The stopped filter itself still sees later data and trailers (Envoy). */
static bool dec_held(const struct or_stream *s, unsigned i)
{
    return i >= s->dec_headers_next || (s->dec_stopped >= 0 && (int)i > s->dec_stopped);
}

static void decode_headers_from(struct or_stream *s, unsigned from)
{
    /* end_stream rides on the headers only if nothing is held behind them: a held end_stream
     * (even on an empty frame) goes out as data, so no filter sees end_stream twice. */
    bool end = (s->flags & OR_STREAM_F_DECODE_END) && !(s->flags & OR_STREAM_F_DEC_END_PENDING) &&
               (s->dec_buf == NULL || evbuffer_get_length(s->dec_buf) == 0) &&
               s->req_trailers == NULL;
    for (unsigned i = from; i < s->nfilters; i++) {
        struct or_http_filter *f = s->filters[i];
        s->dec_headers_next = i + 1;
        if (f->type->decode_headers == NULL)
            continue;
        enum or_filter_status st = f->type->decode_headers(f, &s->req, end);
        if (s->flags & (OR_STREAM_F_RESET | OR_STREAM_F_LOCAL_REPLY))
            return;
        if (st != OR_FILTER_CONTINUE) {
            s->dec_stopped = (int)i;
            return;
        }
    }
    s->dec_stopped = -1;
}

static void decode_data_from(struct or_stream *s, unsigned from, struct evbuffer *b, bool end)
{
    for (unsigned i = from; i < s->nfilters; i++) {
        if (dec_held(s, i)) {
            evbuffer_add_buffer(hold_buf(&s->dec_buf), b);
            if (end)
                s->flags |= OR_STREAM_F_DEC_END_PENDING;
            return;
        }
        struct or_http_filter *f = s->filters[i];
        if (f->type->decode_data == NULL)
            continue;
        enum or_filter_status st = f->type->decode_data(f, b, end);
        if (s->flags & (OR_STREAM_F_RESET | OR_STREAM_F_LOCAL_REPLY))
            return;
        if (st == OR_FILTER_CONTINUE)
            continue;
        if (st == OR_FILTER_STOP_AND_BUFFER || st == OR_FILTER_STOP_ITERATION) {
            evbuffer_add_buffer(hold_buf(&s->dec_buf), b);
            if (end)
                s->flags |= OR_STREAM_F_DEC_END_PENDING;
            s->dec_stopped = (int)i;
        } else if (end && i + 1 < s->nfilters) {
            /* STOP_NO_BUFFER took the last bytes: keep the end_stream so continue sends an
             * empty end frame (Envoy's empty buffer). Not for the terminal filter. */
            s->flags |= OR_STREAM_F_DEC_END_PENDING;
            s->dec_stopped = (int)i;
        }
        return;
    }
}

static void decode_trailers_from(struct or_stream *s, unsigned from)
{
    for (unsigned i = from; i < s->nfilters; i++) {
        if (dec_held(s, i))
            return; /* req_trailers waits for the stopped filter to continue */
        struct or_http_filter *f = s->filters[i];
        if (f->type->decode_trailers == NULL)
            continue;
        enum or_filter_status st = f->type->decode_trailers(f, s->req_trailers);
        if (s->flags & (OR_STREAM_F_RESET | OR_STREAM_F_LOCAL_REPLY))
            return;
        if (st != OR_FILTER_CONTINUE) {
            s->dec_stopped = (int)i;
            return;
        }
    }
}

void or_stream_decode_headers(struct or_stream *s, bool end_stream)
{
    if (end_stream) {
        s->flags |= OR_STREAM_F_DECODE_END;
        s->req_end_us = or_time_us();
    }
    decode_headers_from(s, 0);
}

void or_stream_decode_data(struct or_stream *s, struct evbuffer *b, bool end_stream)
{
    if (end_stream) {
        s->flags |= OR_STREAM_F_DECODE_END;
        s->req_end_us = or_time_us();
    }
    s->bytes_received += evbuffer_get_length(b);
    if (s->flags & (OR_STREAM_F_RESET | OR_STREAM_F_LOCAL_REPLY)) {
        evbuffer_drain(b, evbuffer_get_length(b));
        return;
    }
    decode_data_from(s, 0, b, end_stream);
}

void or_stream_decode_trailers(struct or_stream *s, struct or_headers *t)
{
    s->flags |= OR_STREAM_F_DECODE_END;
    s->req_trailers = t;
    if (s->flags & (OR_STREAM_F_RESET | OR_STREAM_F_LOCAL_REPLY))
        return;
    /* Up to and including a stopped filter (a buffering filter learns the request ended; the
     * router, which stops on headers, gets them); the filters after it wait for continue. */
    decode_trailers_from(s, 0);
}

void or_stream_continue_decoding(struct or_stream *s, struct or_http_filter *f)
{
    if (s->flags & (OR_STREAM_F_RESET | OR_STREAM_F_LOCAL_REPLY))
        return;
    unsigned from = f->index + 1;
    s->dec_stopped = -1;
    if (s->dec_headers_next <= from) {
        decode_headers_from(s, from);
        if (s->flags & (OR_STREAM_F_RESET | OR_STREAM_F_LOCAL_REPLY))
            return;
    }
    /* Even when the headers stopped again (at the router they always do), the held body and
     * trailers go on up to the filter that stopped: decode_*_from hold them only beyond it. */
    if ((s->dec_buf != NULL && evbuffer_get_length(s->dec_buf) > 0) ||
        (s->flags & OR_STREAM_F_DEC_END_PENDING)) {
        struct evbuffer *b = s->dec_buf != NULL ? s->dec_buf : evbuffer_new();
        if (b == NULL) {
            or_stream_reset(s, "oom", OR_RF_LR);
            return;
        }
        s->dec_buf = NULL;
        bool end = (s->flags & OR_STREAM_F_DEC_END_PENDING) != 0;
        s->flags &= ~OR_STREAM_F_DEC_END_PENDING;
        decode_data_from(s, from, b, end);
        evbuffer_free(b);
        if (s->flags & (OR_STREAM_F_RESET | OR_STREAM_F_LOCAL_REPLY))
            return;
    }
    if (s->req_trailers != NULL)
        decode_trailers_from(s, from);
}

/* ---- encode (response) path: filters before the injecting one, in reverse, then the codec ---- */

static int encode_start(const struct or_http_filter *f, const struct or_stream *s)
{
    return f != NULL ? (int)f->index - 1 : (int)s->nfilters - 1;
}

static void encode_headers_from(struct or_stream *s, int from, bool end)
{
    for (int i = from; i >= 0; i--) {
        struct or_http_filter *f = s->filters[i];
        s->enc_headers_next = (unsigned)i;
        if (f->type->encode_headers == NULL)
            continue;
        enum or_filter_status st = f->type->encode_headers(f, &s->resp, end);
        if (s->flags & OR_STREAM_F_RESET)
            return;
        if (st != OR_FILTER_CONTINUE) {
            s->enc_stopped = i;
            if (end) /* headers-only response: the end_stream waits with the headers */
                s->flags |= OR_STREAM_F_ENC_END_PENDING;
            return;
        }
    }
    s->enc_stopped = -1;
    s->enc_headers_next = 0;
    s->flags |= OR_STREAM_F_HEADERS_ENCODED;
    if (end)
        s->flags |= OR_STREAM_F_ENCODE_END;
    s->codec->encode_headers(s->codec_ctx, s, &s->resp, end);
}

static void encode_data_from(struct or_stream *s, int from, struct evbuffer *b, bool end)
{
    for (int i = from; i >= 0; i--) {
        struct or_http_filter *f = s->filters[i];
        if (s->enc_stopped >= 0 && i < s->enc_stopped) {
            /* The headers stopped at a later filter: hold the bytes until it continues. */
            evbuffer_add_buffer(hold_buf(&s->enc_buf), b);
            if (end)
                s->flags |= OR_STREAM_F_ENC_END_PENDING;
            return;
        }
        if (f->type->encode_data == NULL)
            continue;
        enum or_filter_status st = f->type->encode_data(f, b, end);
        if (s->flags & OR_STREAM_F_RESET)
            return;
        if (st == OR_FILTER_CONTINUE)
            continue;
        if (st == OR_FILTER_STOP_AND_BUFFER || st == OR_FILTER_STOP_ITERATION) {
            evbuffer_add_buffer(hold_buf(&s->enc_buf), b);
            if (end)
                s->flags |= OR_STREAM_F_ENC_END_PENDING;
            s->enc_stopped = i;
        } else if (end) {
            /* STOP_NO_BUFFER took the last bytes: continue still owes the codec an end_stream. */
            s->flags |= OR_STREAM_F_ENC_END_PENDING;
            s->enc_stopped = i;
        }
        return;
    }
    if (!(s->flags & OR_STREAM_F_HEADERS_ENCODED)) {
        evbuffer_add_buffer(hold_buf(&s->enc_buf), b);
        if (end)
            s->flags |= OR_STREAM_F_ENC_END_PENDING;
        return;
    }
    if (end)
        s->flags |= OR_STREAM_F_ENCODE_END;
    s->bytes_sent += evbuffer_get_length(b);
    s->codec->encode_data(s->codec_ctx, s, b, end);
}

static void encode_trailers_from(struct or_stream *s, int from, struct or_headers *t)
{
    for (int i = from; i >= 0; i--) {
        struct or_http_filter *f = s->filters[i];
        if (s->enc_stopped >= 0 && i < s->enc_stopped) {
            s->resp_trailers = t; /* behind the held headers/body, until continue */
            return;
        }
        if (f->type->encode_trailers == NULL)
            continue;
        enum or_filter_status st = f->type->encode_trailers(f, t);
        if (s->flags & OR_STREAM_F_RESET)
            return;
        if (st != OR_FILTER_CONTINUE) {
            s->enc_stopped = i;
            s->resp_trailers = t;
            return;
        }
    }
    if (!(s->flags & OR_STREAM_F_HEADERS_ENCODED)) {
        s->resp_trailers = t;
        return;
    }
    s->flags |= OR_STREAM_F_ENCODE_END;
    s->codec->encode_trailers(s->codec_ctx, s, t);
}

/* After a reset or a complete response (a local reply ended it while the router was still
 * streaming) nothing more may reach the codec. */
#define ENCODE_DONE (OR_STREAM_F_RESET | OR_STREAM_F_ENCODE_END)

void or_stream_encode_headers(struct or_stream *s, struct or_http_filter *f, bool end_stream)
{
    if (s->flags & ENCODE_DONE)
        return;
    const struct or_str *st = or_headers_get(&s->resp, ":status");
    if (st != NULL) {
        unsigned v = 0;
        for (size_t i = 0; i < st->len && i < 3; i++)
            v = v * 10 + (unsigned)(st->ptr[i] - '0');
        s->status = v;
    }
    encode_headers_from(s, encode_start(f, s), end_stream);
}

void or_stream_encode_data(struct or_stream *s, struct or_http_filter *f, struct evbuffer *b,
                           bool end_stream)
{
    if (s->flags & ENCODE_DONE) {
        evbuffer_drain(b, evbuffer_get_length(b));
        return;
    }
    encode_data_from(s, encode_start(f, s), b, end_stream);
}

void or_stream_encode_trailers(struct or_stream *s, struct or_http_filter *f, struct or_headers *t)
{
    if (s->flags & ENCODE_DONE)
        return;
    encode_trailers_from(s, encode_start(f, s), t);
}

void or_stream_continue_encoding(struct or_stream *s, struct or_http_filter *f)
{
    if (s->flags & ENCODE_DONE)
        return;
    int from = (int)f->index - 1;
    s->enc_stopped = -1;
    if (!(s->flags & OR_STREAM_F_HEADERS_ENCODED)) {
        bool end = (s->enc_buf == NULL || evbuffer_get_length(s->enc_buf) == 0) &&
                   (s->flags & OR_STREAM_F_ENC_END_PENDING) && s->resp_trailers == NULL;
        if (end)
            s->flags &= ~OR_STREAM_F_ENC_END_PENDING;
        encode_headers_from(s, from, end);
        if (end || (s->flags & OR_STREAM_F_RESET))
            return;
    }
    /* Even if the headers stopped again, the held body and trailers go on up to that filter. */
    if ((s->enc_buf != NULL && evbuffer_get_length(s->enc_buf) > 0) ||
        (s->flags & OR_STREAM_F_ENC_END_PENDING)) {
        struct evbuffer *b = s->enc_buf != NULL ? s->enc_buf : evbuffer_new();
        if (b == NULL) {
            or_stream_reset(s, "oom", OR_RF_LR);
            return;
        }
        s->enc_buf = NULL;
        bool end = (s->flags & OR_STREAM_F_ENC_END_PENDING) != 0;
        s->flags &= ~OR_STREAM_F_ENC_END_PENDING;
        encode_data_from(s, from, b, end);
        evbuffer_free(b);
        if (s->flags & OR_STREAM_F_RESET)
            return;
    }
    if (s->resp_trailers != NULL) {
        struct or_headers *t = s->resp_trailers;
        s->resp_trailers = NULL;
        encode_trailers_from(s, from, t);
    }
}

/* ---- local replies ---- */

void or_stream_send_local_reply(struct or_stream *s, struct or_http_filter *f, unsigned status,
                                const char *body, const char *details, uint32_t resp_flag)
{
    or_stream_send_local_reply_ex(s, f, status, body, details, resp_flag, NULL, 0);
}

void or_stream_send_local_reply_ex(struct or_stream *s, struct or_http_filter *f, unsigned status,
                                   const char *body, const char *details, uint32_t resp_flag,
                                   const struct or_header *extra, unsigned n_extra)
{
    if (s->flags & OR_STREAM_F_RESET)
        return;
    s->details = details;
    s->resp_flags |= resp_flag;
    if (s->flags & OR_STREAM_F_HEADERS_ENCODED) {
        /* Too late for a clean answer: Envoy resets the stream. */
        or_stream_reset(s, details, resp_flag);
        return;
    }
    s->flags |= OR_STREAM_F_LOCAL_REPLY;
    or_headers_init(&s->resp, &s->arena);
    char num[24];
    int n = snprintf(num, sizeof(num), "%u", status);
    or_headers_add(&s->resp, ":status", 7, num, (size_t)n);
    size_t blen = body != NULL ? strlen(body) : 0;
    if (blen > 0)
        s->local_reply_body = or_arena_strndup(&s->arena, body, blen);
    if (blen > 0) {
        n = snprintf(num, sizeof(num), "%zu", blen);
        or_headers_add(&s->resp, "content-length", 14, num, (size_t)n);
        or_headers_add_ref(&s->resp, OR_STR_LIT("content-type"), OR_STR_LIT("text/plain"));
    }
    for (unsigned i = 0; i < n_extra; i++)
        or_headers_add(&s->resp, extra[i].name.ptr, extra[i].name.len, extra[i].value.ptr,
                       extra[i].value.len);
    bool head = (s->flags & OR_STREAM_F_HEAD) != 0;
    bool body_follows = blen > 0 && !head;
    /* Local replies skip filters after the sender; the sender is f (NULL = before every filter).
     * If a response is already inside the chain (an encode filter holds it), those filters are
     * mid-response: like Envoy's sendDirectLocalReply, drop what is held, go to the codec. */
    int from = encode_start(f, s);
    if (s->enc_headers_next < s->nfilters) {
        from = -1;
        s->enc_stopped = -1;
        s->flags &= ~OR_STREAM_F_ENC_END_PENDING;
        s->resp_trailers = NULL;
        if (s->enc_buf != NULL)
            evbuffer_drain(s->enc_buf, evbuffer_get_length(s->enc_buf));
    }
    s->status = status;
    encode_headers_from(s, from, !body_follows);
    if (body_follows && !(s->flags & OR_STREAM_F_RESET)) {
        struct evbuffer *b = evbuffer_new();
        if (b == NULL) {
            or_stream_reset(s, details, resp_flag);
            return;
        }
        evbuffer_add(b, body, blen);
        encode_data_from(s, from, b, true);
        evbuffer_free(b);
    }
}

void or_stream_reset(struct or_stream *s, const char *details, uint32_t resp_flag)
{
    if (s->flags & OR_STREAM_F_RESET)
        return;
    if (details != NULL && s->details == NULL)
        s->details = details;
    s->resp_flags |= resp_flag;
    s->flags |= OR_STREAM_F_RESET;
    s->codec->reset(s->codec_ctx, s);
}

struct or_conn *or_stream_splice_target(struct or_stream *s, struct or_http_filter *f)
{
    if ((s->flags & (ENCODE_DONE | OR_STREAM_F_ENC_END_PENDING)) ||
        !(s->flags & OR_STREAM_F_HEADERS_ENCODED) || s->enc_stopped >= 0 ||
        (s->enc_buf != NULL && evbuffer_get_length(s->enc_buf) > 0) ||
        s->codec->splice_target == NULL)
        return NULL;
    /* A filter that sees body data might change it: every byte must pass through it. */
    for (int i = encode_start(f, s); i >= 0; i--)
        if (s->filters[i]->type->encode_data != NULL)
            return NULL;
    return s->codec->splice_target(s->codec_ctx, s);
}

void or_stream_read_disable(struct or_stream *s, bool disable)
{
    s->codec->read_disable(s->codec_ctx, s, disable);
}
