/* HTTP filters with Envoy's decode/encode semantics: a stream runs the configured filters in order
 * on the request (decode) and in reverse on the response (encode). A callback returns CONTINUE to
 * pass the event on, or stops iteration; a stopped filter resumes the chain later with
 * or_stream_continue_decoding/encoding, or answers with or_stream_send_local_reply. The router is
 * the terminal decode filter. Filter types register in one table in filters/registry.c. */
#ifndef OR_HTTP_FILTER_H
#define OR_HTTP_FILTER_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>

#include "proxy/core/err.h"
#include "proxy/http/headers.h"

struct evbuffer;
struct or_stream;
struct or_http_filter;

enum or_filter_status {
    OR_FILTER_CONTINUE = 0,    /* pass the event to the next filter */
    OR_FILTER_STOP_ITERATION,  /* stop here; later events still reach this filter */
    OR_FILTER_STOP_AND_BUFFER, /* data: stop, and the manager buffers what arrives */
    OR_FILTER_STOP_NO_BUFFER,  /* data: stop, the filter took the bytes (drained them) */
};

struct or_http_filter_type {
    const char *name;     /* Envoy name, "envoy.filters.http.router" */
    const char *type_url; /* "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" */
    const char *legacy_name; /* older Envoy name accepted too ("envoy.router"), or NULL */
    const ProtobufCMessageDescriptor *config_desc; /* the typed_config message */
    /* Main thread: turns the unpacked typed_config (NULL when absent) into an immutable config
     * shared by all workers through the snapshot. 0 or OR_EINVAL with err filled. */
    int (*config_new)(const ProtobufCMessage *m, void **cfg, struct or_err_detail *err,
                      const char *path);
    void (*config_free)(void *cfg);
    size_t inst_size; /* per-stream instance, arena-allocated; struct or_http_filter first */
    bool terminal;    /* must be last in the chain (router) */
    void (*init)(struct or_http_filter *f);
    enum or_filter_status (*decode_headers)(struct or_http_filter *f, struct or_headers *h,
                                            bool end_stream);
    enum or_filter_status (*decode_data)(struct or_http_filter *f, struct evbuffer *b,
                                         bool end_stream);
    enum or_filter_status (*decode_trailers)(struct or_http_filter *f, struct or_headers *t);
    enum or_filter_status (*encode_headers)(struct or_http_filter *f, struct or_headers *h,
                                            bool end_stream);
    enum or_filter_status (*encode_data)(struct or_http_filter *f, struct evbuffer *b,
                                         bool end_stream);
    enum or_filter_status (*encode_trailers)(struct or_http_filter *f, struct or_headers *t);
    /* The downstream connection is going away or the stream was reset: release upstream state. */
    void (*on_reset)(struct or_http_filter *f);
    /* The stream is being destroyed (after on_reset if any). */
    void (*on_destroy)(struct or_http_filter *f);
    /* Downstream output drained below its low watermark / rose above the high one. */
    void (*on_downstream_watermark)(struct or_http_filter *f, bool above_high);
};

/* Base of every filter instance. */
struct or_http_filter {
    const struct or_http_filter_type *type; /* borrowed: static vtable */
    const void *cfg;                        /* borrowed: immutable config in the snapshot */
    struct or_stream *stream;               /* borrowed: the stream that owns this instance */
    unsigned index;                         /* position in the chain */
};

/* A configured filter in an HCM's chain: type + its immutable config. Owned by the snapshot. */
struct or_http_filter_factory {
    const struct or_http_filter_type *type; /* borrowed: static vtable */
    void *cfg;                              /* owned: freed with type->config_free */
};

/* filters/registry.c: lookup by type URL (exact) or by name (legacy configs without typed_config).
 */
const struct or_http_filter_type *or_http_filter_find_by_type_url(const char *type_url);
const struct or_http_filter_type *or_http_filter_find_by_name(const char *name);

#endif
