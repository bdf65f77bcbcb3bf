/* The admin HTTP server: Envoy's admin interface (/ready, /server_info, /help, /quitquitquit, ...)
 * on the main thread's event_base, over TCP or a unix socket, served by libevent's evhttp.
 *
 * Endpoints live in one table sorted by path and are matched exactly on the path without its query
 * string, as Envoy does. An endpoint flagged OR_ADMIN_F_MUTATES (Envoy's mutates_server_state)
 * answers any method but POST with 405 "Method <M> not allowed, POST required." (Envoy's current
 * behaviour; very old Envoys used 400). An unknown path gets 404 with "invalid path. " followed by
 * the /help listing. Non-mutating endpoints answer every method, like Envoy's.
 *
 * Every response carries Envoy's admin headers: content-type (text/plain; charset=UTF-8 unless the
 * handler chose another), cache-control: no-cache, max-age=0, x-content-type-options: nosniff.
 *
 * Threading: everything here runs on the thread that runs `base` (the main thread). */
#ifndef OR_ADMIN_ADMIN_H
#define OR_ADMIN_ADMIN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "proxy/core/err.h"
#include "proxy/core/str.h"
#include "proxy/server/state.h"

struct event_base;
struct evbuffer;
struct evhttp_request;
struct or_admin;
struct or_json;
struct or_options;

#define OR_ADMIN_CT_TEXT "text/plain; charset=UTF-8"
#define OR_ADMIN_CT_JSON "application/json"
#define OR_ADMIN_CT_HTML "text/html; charset=UTF-8"

/* Where admin listens: bootstrap admin.address as either socket_address or pipe. */
struct or_admin_listen {
    const char *ip;        /* borrowed: numeric IPv4/IPv6 ("127.0.0.1", "::"); NULL with a pipe */
    uint16_t port;         /* 0 picks a free port: read it back with or_admin_port() */
    bool ipv4_compat;      /* IPv6 ip only: also accept IPv4 (IPV6_V6ONLY off), Envoy's
                              socket_address.ipv4_compat */
    const char *pipe_path; /* borrowed: unix socket path, "@name" for the abstract namespace; when
                              set, ip/port are ignored. An existing socket file there is replaced */
    uint32_t pipe_mode;    /* pipe.mode: chmod() after bind when non-zero (e.g. 0600) */
};

/* The node identity /server_info shows. The server passes its effective node: the bootstrap node
 * with --service-node/--service-cluster/--service-zone applied. */
struct or_admin_node {
    const char *id;              /* borrowed, NULL = "" */
    const char *cluster;         /* borrowed, NULL = "" */
    const char *region;          /* borrowed: locality is printed when any of the three is set */
    const char *zone;            /* borrowed */
    const char *sub_zone;        /* borrowed */
    const char *user_agent_name; /* borrowed, NULL = "envoy" */
};

/* Callbacks into the server. `state` is required; every other member may be NULL. */
struct or_admin_ops {
    /* Current lifecycle state (/ready, /server_info). */
    enum or_server_state (*state)(void *ctx);
    /* Seconds since the server started (uptime_current_epoch == uptime_all_epochs: no hot
     * restart). NULL reports 0. */
    uint64_t (*uptime_s)(void *ctx);
    /* Fills *out (zeroed before the call). NULL shows an empty node. */
    void (*node)(void *ctx, struct or_admin_node *out);
    /* Writes node.metadata (a google.protobuf.Struct) as exactly one JSON object value. NULL
     * leaves "metadata" out, as protobuf does for an unset message field. */
    void (*write_node_metadata)(void *ctx, struct or_json *w);
    /* The command line the server runs with. NULL shows Envoy's defaults. */
    const struct or_options *(*options)(void *ctx);
    /* NULL = or_hot_restart_version() ("disabled"). */
    const char *(*hot_restart_version)(void *ctx);
    /* POST /quitquitquit: called once the "OK\n" reply has been written (or after 1 s if the
     * client went away), from a fresh event callback, so it may call or_admin_stop() and break
     * the loop. NULL: the endpoint answers but does nothing. */
    void (*quit)(void *ctx);
};

/* One admin request, valid during the handler call only. */
struct or_admin_request {
    struct or_admin *admin;      /* borrowed */
    const char *method;          /* static: "GET", "POST", "HEAD", ... */
    struct or_str path;          /* borrowed: request path without query, e.g. "/stats" */
    struct or_str query;         /* borrowed: raw query after '?', empty when none */
    struct evbuffer *body;       /* borrowed: the request body (possibly empty) */
    const char *content_type;    /* response content type: OR_ADMIN_CT_TEXT unless the handler
                                    sets another (static string) */
    struct evhttp_request *http; /* borrowed: libevent's request, for request headers and
                                    evhttp_request_set_on_complete_cb() */
};

/* Writes the response body into `out` and returns the HTTP status (200, 400, 503, ...). A status
 * outside 100..599 is answered as 500. Must not call or_admin_stop(). */
typedef int (*or_admin_handler_cb)(struct or_admin_request *req, struct evbuffer *out, void *ctx);

/* A documented query parameter, shown by /help as "      name: help[; One of (a, b)]". */
struct or_admin_param {
    const char *name;           /* borrowed (static); NULL ends a params array */
    const char *help;           /* borrowed (static) */
    const char *const *choices; /* borrowed (static), NULL-terminated; NULL for free-form */
};

#define OR_ADMIN_F_MUTATES 0x1u /* POST only; listed as "(POST)" by /help */

struct or_admin_handler {
    const char *path;                    /* borrowed (static): "/server_info" */
    const char *help;                    /* borrowed (static): one line for /help */
    unsigned flags;                      /* OR_ADMIN_F_* */
    or_admin_handler_cb cb;              /* the endpoint */
    void *ctx;                           /* borrowed: passed to cb */
    const struct or_admin_param *params; /* borrowed (static), NULL-name-terminated; may be NULL */
};

/* Binds, listens and starts serving on `base`, with the built-in endpoints /, /help, /ready,
 * /server_info, /hot_restart_version and /quitquitquit registered. `ops` and `ctx` are borrowed and
 * must outlive the admin. Errors: OR_EINVAL (bad address: err says which), OR_ESYS (socket, bind,
 * listen failed: err has "cannot bind '<addr>': <strerror>"), OR_ENOMEM. `err` gets the field path
 * "admin.address". */
int or_admin_start(struct or_admin **out, struct event_base *base,
                   const struct or_admin_listen *addr, const struct or_admin_ops *ops, void *ctx,
                   struct or_err_detail *err);

/* Called after every admin response is sent (the admin access log): the request, its status and
 * the response body length. NULL cb turns it off. */
typedef void (*or_admin_log_cb)(void *ctx, const struct or_admin_request *req, int status,
                                size_t body_bytes);
void or_admin_set_log(struct or_admin *a, or_admin_log_cb cb, void *ctx);

/* Closes the listener and every admin connection, removes a pipe file it created, frees `a`.
 * NULL is a no-op. Never call it from inside a handler (use ops->quit, which runs later). */
void or_admin_stop(struct or_admin *a);

/* The bound TCP port (the real one when 0 was asked for); 0 for a pipe. */
uint16_t or_admin_port(const struct or_admin *a);

/* The listening address as Envoy prints it: "127.0.0.1:9901", "[::1]:9901", or the pipe path.
 * Returns the length like snprintf. */
size_t or_admin_address(const struct or_admin *a, char *buf, size_t len);

/* --admin-address-path: writes or_admin_address() (no newline, as Envoy) to `path`. 0 or OR_ESYS
 * (errno set). */
int or_admin_write_address_file(const struct or_admin *a, const char *path);

/* Adds an endpoint; `h` is copied, its strings and params are borrowed. Errors: OR_EINVAL (path
 * not starting with '/', containing one of & " ' < > ? : (Envoy's rule), or already registered),
 * OR_ENOMEM. */
int or_admin_add_handler(struct or_admin *a, const struct or_admin_handler *h);

/* Removes the endpoint at `path`: 0 or OR_ENOTFOUND. */
int or_admin_remove_handler(struct or_admin *a, const char *path);

/* Writes Envoy's help listing ("admin commands are:\n" then one line per endpoint, sorted). */
int or_admin_help(const struct or_admin *a, struct evbuffer *out);

/* Query string helpers. Iterates "k=v&k2&..." from *cursor (start with req->query): returns true
 * with the raw (still percent-encoded) key and value slices, value empty for "k" without '='. */
bool or_admin_query_next(struct or_str *cursor, struct or_str *key, struct or_str *value);

/* Percent-decodes `in` into out (NUL-terminated); '+' is kept (Envoy does not turn it into a
 * space). Returns the decoded length or OR_ETOOBIG when out is too small. */
ssize_t or_admin_url_decode(struct or_str in, char *out, size_t outlen);

/* The decoded value of the first query parameter whose decoded name is `name`. Returns its length
 * (0 for "?name" or "?name="), OR_ENOTFOUND, or OR_ETOOBIG. */
ssize_t or_admin_query_get(const struct or_admin_request *req, const char *name, char *out,
                           size_t outlen);

/* True if the query has a parameter `name` (with or without a value): "?graceful". */
bool or_admin_query_has(const struct or_admin_request *req, const char *name);

#endif
