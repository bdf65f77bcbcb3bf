/* HTTP/1.1 codec on llhttp: a parser that turns bytes from an evbuffer into header maps, body
 * chunks and trailers, and encoders that append message heads and chunk framing to an evbuffer.
 * It does no I/O. The server side (HTTP connection manager) parses requests and encodes responses;
 * the upstream client parses responses and encodes requests.
 *
 * Strictness: every byte is checked against RFC 9112 by our own scanner (codec_h1_scan.h) before
 * llhttp sees it, because llhttp 8.1 (Debian) is lenient in places that allow request smuggling
 * (bare CR after chunk data, "\r\n\rX" ending a head, obs-fold, spaces in header names, ...).
 * Rejections carry the HTTP status and the response-code details string Envoy uses. */
#ifndef OR_HTTP_CODEC_H1_H
#define OR_HTTP_CODEC_H1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <llhttp.h>

#include "proxy/core/arena.h"
#include "proxy/core/str.h"
#include "proxy/http/codec_h1_scan.h"
#include "proxy/http/headers.h"

struct evbuffer;

/* Envoy's response-code details for HTTP/1 codec rejections
 * (source/common/http/http1/codec_impl.cc, Http1ResponseCodeDetailValues). */
#define OR_H1_DETAILS_CODEC_ERROR "http1.codec_error"
#define OR_H1_DETAILS_INVALID_CHARACTERS "http1.invalid_characters"
#define OR_H1_DETAILS_HEADERS_TOO_LARGE "http1.headers_too_large"
#define OR_H1_DETAILS_TOO_MANY_HEADERS "http1.too_many_headers"
#define OR_H1_DETAILS_CL_AND_CHUNKED "http1.content_length_and_chunked_not_allowed"
#define OR_H1_DETAILS_INVALID_TE "http1.invalid_transfer_encoding"
#define OR_H1_DETAILS_BODY_DISALLOWED "http1.body_disallowed"
#define OR_H1_DETAILS_TE_NOT_ALLOWED "http1.transfer_encoding_not_allowed"
#define OR_H1_DETAILS_CL_NOT_ALLOWED "http1.content_length_not_allowed"
#define OR_H1_DETAILS_UNDERSCORE "http1.unexpected_underscore"
#define OR_H1_DETAILS_INVALID_URL "http1.invalid_url"
#define OR_H1_DETAILS_INVALID_SCHEME "http1.invalid_scheme"
/* Not http1.*: StreamInfo::ResponseCodeDetails::LowVersion and
 * SharedResponseCodeDetails::InvalidAuthority. */
#define OR_H1_DETAILS_LOW_VERSION "low_version"
#define OR_H1_DETAILS_INVALID_AUTHORITY "http.invalid_authority"

/* Envoy's defaults: max_request_headers_kb 60, MAX_RESPONSE_HEADERS_KB 80, max_headers_count 100.
 */
#define OR_H1_DEFAULT_MAX_REQUEST_HEADER_BYTES (60u * 1024u)
#define OR_H1_DEFAULT_MAX_RESPONSE_HEADER_BYTES (80u * 1024u)
#define OR_H1_DEFAULT_MAX_HEADERS_COUNT 100u

enum or_h1_kind {
    OR_H1_REQUEST = 0,  /* server side: parses requests */
    OR_H1_RESPONSE = 1, /* client side: parses responses */
};

/* HttpProtocolOptions.headers_with_underscores_action (applies to the request parser only). */
enum or_h1_underscores {
    OR_H1_UNDERSCORES_ALLOW = 0,
    OR_H1_UNDERSCORES_REJECT = 1, /* 400 http1.unexpected_underscore */
    OR_H1_UNDERSCORES_DROP = 2,   /* header dropped, stats.dropped_underscore_headers++ */
};

/* Envoy http_protocol_options knobs the codec honours; zero-initialised means Envoy's defaults. */
struct or_h1_options {
    bool accept_http_10;                    /* else HTTP/1.0 requests get 426 low_version */
    struct or_str default_host_for_http_10; /* borrowed: becomes :authority when 1.0 has no Host */
    bool allow_chunked_length;              /* CL + chunked: drop CL instead of 400 */
    enum or_h1_underscores underscores;     /* request parser only */
};

/* One parsed message head. Valid during on_headers; `headers` lives on in the message arena. */
struct or_h1_msg {
    struct or_headers *headers; /* arena-owned. Requests: :method :path :authority (from Host;
                                   :scheme only for absolute-form targets); responses: :status;
                                   then the regular headers, names lower-cased, order kept */
    unsigned method;            /* enum llhttp_method (requests) */
    unsigned status;            /* responses */
    unsigned http_minor;        /* 0 or 1 */
    bool keep_alive;            /* llhttp_should_keep_alive: false = close after this exchange */
    bool chunked;               /* Transfer-Encoding: chunked */
    bool has_content_length;
    uint64_t content_length;
    bool expect_continue; /* request had "Expect: 100-continue" (header left in place) */
    bool upgrade;         /* Upgrade (request, or 101 to one) or CONNECT (request, or 2xx to
                             one): after on_headers every byte is tunnelled raw via on_body */
    bool connect;         /* method CONNECT (request) */
    bool informational;   /* 1xx response (not an upgrade): no body and no
                             on_message_complete follow; the final response comes next */
    bool end_stream;      /* no body follows: on_message_complete comes next */
};

/* Callbacks return 0 to continue or a negative value to abort dispatch (returned by dispatch).
 * on_headers may also return OR_EAGAIN: the parser pauses after it (before any body byte) and
 * continues on or_h1_parser_resume. After on_message_complete it always pauses, so OR_EAGAIN from
 * on_trailers / on_message_complete means nothing more. on_body cannot pause: take the bytes and
 * read-disable the connection (Envoy's watermarks). */
struct or_h1_callbacks {
    int (*on_headers)(void *ctx, struct or_h1_msg *msg);
    /* Body bytes, de-chunked, MOVED out of the input buffer without copying: take them all
     * (evbuffer_add_buffer); whatever is left is discarded. Raw tunnel bytes after an upgrade. */
    int (*on_body)(void *ctx, struct evbuffer *chunk);
    /* Optional (NULL: trailers are checked and dropped, Envoy's enable_trailers false). */
    int (*on_trailers)(void *ctx, struct or_headers *trailers);
    int (*on_message_complete)(void *ctx);
};

/* Why dispatch failed: the status to answer with (requests; 502 for responses) and Envoy's
 * details string. `reason` is a fixed human text for debug logs. */
struct or_h1_error {
    unsigned status;     /* 400, 426, 431, 501; 502 on the response parser; 0 = callback abort */
    const char *details; /* static string, NULL when no error */
    const char *reason;  /* static string */
};

/* Counters the connection manager folds into Envoy's http1.* codec stats. */
struct or_h1_stats {
    uint64_t dropped_underscore_headers;  /* http1.dropped_headers_with_underscores */
    uint64_t rejected_underscore_headers; /* http1.requests_rejected_with_underscores_in_headers */
};

/* A pending name, value or URL: bytes in the current segment (zero copy) or in `acc`. */
struct or_h1_frag {
    const char *ptr; /* borrowed: segment bytes while !in_acc */
    uint32_t len;
    uint32_t off; /* offset in acc while in_acc */
    bool in_acc;
};

enum or_h1_state {
    OR_H1_S_IDLE = 0, /* between messages */
    OR_H1_S_MSG,      /* inside a message */
    OR_H1_S_PAUSED,   /* paused by on_headers */
    OR_H1_S_DONE,     /* paused after on_message_complete, waiting for resume */
    OR_H1_S_TUNNEL,   /* after an upgrade: raw bytes */
    OR_H1_S_CLOSED,   /* the last message said Connection: close (or HTTP/1.0) */
    OR_H1_S_ERROR,    /* dead: dispatch keeps returning the error */
};

/* Embed it (e.g. in the connection) and never move it after init (llhttp points back at it);
 * all fields are private. */
struct or_h1_parser {
    llhttp_t ll;
    struct or_h1_scan scan;
    enum or_h1_kind kind;
    enum or_h1_state state;
    const struct or_h1_callbacks *cb; /* borrowed */
    void *ctx;                        /* borrowed */
    struct or_arena *arena;           /* borrowed: arena of the next/current message */
    struct or_h1_options opts;
    uint32_t max_header_bytes;
    uint32_t max_headers_count;
    struct or_h1_msg msg;
    struct or_headers *trailers; /* arena-owned, NULL until a trailer field arrives */
    struct or_h1_error err;
    int err_code; /* sticky negative dispatch result in OR_H1_S_ERROR */
    struct or_h1_stats stats;

    /* dispatch context */
    struct evbuffer *in;   /* borrowed during dispatch */
    struct evbuffer *body; /* owned: hands body bytes to on_body */
    const char *seg;       /* borrowed: first segment of `in` being executed */
    size_t seg_drained;    /* bytes of seg already removed from `in` by on_body */
    int cb_ret;            /* negative return of a user callback */
    bool cb_paused;        /* a user callback asked to pause */

    /* head accumulation */
    char *acc; /* owned (malloc): fragments that spanned segments */
    uint32_t acc_len;
    uint32_t acc_cap;
    struct or_h1_frag url;
    struct or_h1_frag name;
    struct or_h1_frag value;
    uint32_t nfields;    /* header (or trailer) fields kept so far */
    int32_t host_idx;    /* index of the host entry, -1 */
    int32_t upgrade_idx; /* index of the upgrade entry, -1 */
    uint8_t host_count;
    uint8_t cl_count;
    uint8_t te_count;
    bool te_chunked_only; /* every Transfer-Encoding value was exactly "chunked" */
    bool in_trailers;
    bool skip_field;     /* the current field is dropped (underscores) */
    unsigned expect_req; /* OR_H1_EXPECT_* for the next response */
};

/* Request flags for the response parser (what the response answers). */
#define OR_H1_EXPECT_HEAD 0x1    /* HEAD: no body whatever the headers say */
#define OR_H1_EXPECT_CONNECT 0x2 /* CONNECT: a 2xx starts a tunnel */
#define OR_H1_EXPECT_UPGRADE 0x4 /* Upgrade request: a 101 starts a tunnel */

/* Initialises an embedded parser. max_header_bytes bounds the raw head (start line, fields,
 * CRLFs; Envoy max_request_headers_kb * 1024), 0 = 60 KiB for requests, 80 KiB for responses;
 * max_headers_count 0 = 100. OR_ENOMEM on failure. */
int or_h1_parser_init(struct or_h1_parser *p, enum or_h1_kind kind,
                      const struct or_h1_callbacks *cb, void *ctx, uint32_t max_header_bytes,
                      uint32_t max_headers_count);
/* Frees what init allocated. */
void or_h1_parser_deinit(struct or_h1_parser *p);
/* Copies the options (strings stay borrowed). Call before the first dispatch. */
void or_h1_parser_set_options(struct or_h1_parser *p, const struct or_h1_options *o);
/* Arena for the headers of the NEXT message (kept until changed). Required before dispatch. */
void or_h1_parser_set_arena(struct or_h1_parser *p, struct or_arena *a);
/* Response parser: tells what the request of the next response was (OR_H1_EXPECT_*); forgotten
 * when that response completes (before its on_message_complete). */
void or_h1_parser_expect(struct or_h1_parser *p, unsigned flags);
/* Response parser: the request was HEAD (shorthand for or_h1_parser_expect(HEAD)). */
void or_h1_parser_expect_no_body(struct or_h1_parser *p);
/* Parses what it can from `in`, draining what it consumed (body bytes are moved out). Returns 0
 * (needs more, or paused: check or_h1_parser_paused) or a negative error: OR_EPROTO with
 * or_h1_parser_error() saying what to answer, or a callback's negative value. After a message is
 * complete the parser pauses itself (one message at a time; the next one's bytes stay in `in`).
 * In the tunnel state (after an upgrade) every byte goes to on_body. */
int or_h1_parser_dispatch(struct or_h1_parser *p, struct evbuffer *in);
/* Continues after a pause; dispatch again to parse what is buffered. Returns OR_ECLOSED when the
 * connection cannot carry another message (Connection: close / HTTP/1.0 without keep-alive). */
int or_h1_parser_resume(struct or_h1_parser *p);
/* The peer closed its side. Completes a response delimited by close (and a tunnel) with
 * on_message_complete; 0 if no message was in progress; OR_ECLOSED if one was cut short. */
int or_h1_parser_finish(struct or_h1_parser *p);
/* True while paused by a callback or after a complete message. */
bool or_h1_parser_paused(const struct or_h1_parser *p);
/* True after a complete message that was not keep-alive. */
bool or_h1_parser_closed(const struct or_h1_parser *p);
/* The error of the last failed dispatch (details NULL if none). */
const struct or_h1_error *or_h1_parser_error(const struct or_h1_parser *p);
/* Content-Length body bytes of the current message not yet seen by the parser (0 outside a
 * Content-Length body, or when nothing is being parsed). */
uint64_t or_h1_parser_body_left(const struct or_h1_parser *p);
/* n body bytes of the current Content-Length body went from the socket to their destination
 * without passing through the parser (splice(2)): both the scanner and llhttp skip them. At least
 * one byte must stay for the parser, so the end of the message is its own. 0 or OR_EINVAL (not
 * in a Content-Length body, or n too large). */
int or_h1_parser_body_consumed_externally(struct or_h1_parser *p, uint64_t n);
/* Codec counters for stats. */
const struct or_h1_stats *or_h1_parser_stats(const struct or_h1_parser *p);

/* Encoding. The head of a message is written with one contiguous evbuffer reservation. Header
 * entries whose name starts with ':' are skipped (:authority becomes Host on requests), and so is
 * transfer-encoding: the encoder chooses the framing with Envoy's rules (encodeHeadersBase) and
 * returns it. Names or values holding CR, LF or NUL are refused (OR_EINVAL) so a filter cannot
 * split a message. */
enum or_h1_body {
    OR_H1_BODY_NONE = 0,    /* nothing may follow the head (end_stream, HEAD, 204, 304, 1xx) */
    OR_H1_BODY_RAW = 1,     /* body bytes as they are: content-length, HTTP/1.0 close-delimited,
                               upgrade or CONNECT tunnel */
    OR_H1_BODY_CHUNKED = 2, /* or_h1_encode_chunk / or_h1_encode_last_chunk */
};

#define OR_H1_ENC_END_STREAM 0x1 /* headers only: no body follows */
#define OR_H1_ENC_HEAD 0x2       /* response to a HEAD request */
#define OR_H1_ENC_CONNECT 0x4    /* response to a CONNECT request */
#define OR_H1_ENC_NO_CHUNKED 0x8 /* never chunk (Envoy disable_chunk_encoding_) */

/* "HTTP/1.<minor> <status> <reason>\r\n" + headers + "\r\n". Returns enum or_h1_body or a
 * negative error (OR_EINVAL, OR_ENOMEM). */
int or_h1_encode_response_head(struct evbuffer *out, unsigned status, const struct or_headers *h,
                               unsigned http_minor, unsigned flags);
/* "<:method> <:path> HTTP/1.1\r\n" (CONNECT: "<:authority>") + Host from :authority + headers.
 * A bodiless request (end_stream) gets "content-length: 0" unless its method never carries a body
 * (GET HEAD DELETE TRACE CONNECT). Returns enum or_h1_body or a negative error (OR_EINVAL when
 * :method, or :path outside CONNECT, is missing). Flags: OR_H1_ENC_END_STREAM, _NO_CHUNKED. */
int or_h1_encode_request_head(struct evbuffer *out, const struct or_headers *h, unsigned flags);
/* "<hex len>\r\n" + data (moved) + "\r\n"; nothing for empty data, which would end the body. */
int or_h1_encode_chunk(struct evbuffer *out, struct evbuffer *data);
/* "0\r\n" + trailers (may be NULL; pseudo-headers skipped) + "\r\n". */
int or_h1_encode_last_chunk(struct evbuffer *out, const struct or_headers *trailers);
/* Envoy's reason phrase for a status ("Unknown" if it has none). */
const char *or_h1_reason_phrase(unsigned status);

#endif
