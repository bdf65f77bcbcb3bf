#include "proxy/admin/admin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "proxy/admin/admin_internal.h"
#include "proxy/core/log.h"

#define ADMIN_BACKLOG 128
#define ADMIN_MAX_HEADERS_SIZE (60 * 1024) /* Envoy's default max_request_headers_kb */
#define ADMIN_MAX_BODY_SIZE (1024 * 1024)
#define ADMIN_TIMEOUT_S 300

static const char *method_name(enum evhttp_cmd_type t)
{
    switch (t) {
    case EVHTTP_REQ_GET:
        return "GET";
    case EVHTTP_REQ_POST:
        return "POST";
    case EVHTTP_REQ_HEAD:
        return "HEAD";
    case EVHTTP_REQ_PUT:
        return "PUT";
    case EVHTTP_REQ_DELETE:
        return "DELETE";
    case EVHTTP_REQ_OPTIONS:
        return "OPTIONS";
    case EVHTTP_REQ_TRACE:
        return "TRACE";
    case EVHTTP_REQ_CONNECT:
        return "CONNECT";
    case EVHTTP_REQ_PATCH:
        return "PATCH";
    }
    return "UNKNOWN";
}

/* Orders an or_str against a C string the way strcmp orders two C strings. */
static int str_cmp(struct or_str a, const char *b)
{
    size_t blen = strlen(b);
    size_t n = a.len < blen ? a.len : blen;
    int c = n > 0 ? memcmp(a.ptr, b, n) : 0;
    if (c != 0)
        return c;
    return a.len < blen ? -1 : a.len > blen ? 1 : 0;
}

static const struct or_admin_handler *find_handler(const struct or_admin *a, struct or_str path)
{
    size_t lo = 0, hi = a->nhandlers;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = str_cmp(path, a->handlers[mid].path);
        if (c == 0)
            return &a->handlers[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

int or_admin_add_handler(struct or_admin *a, const struct or_admin_handler *h)
{
    if (h->path == NULL || h->path[0] != '/' || h->cb == NULL || h->help == NULL)
        return OR_EINVAL;
    /* Envoy's rule: these could inject markup into the HTML admin page or make no sense in a
     * path. */
    if (strpbrk(h->path, "&\"'<>?:") != NULL)
        return OR_EINVAL;
    size_t pos = 0;
    while (pos < a->nhandlers) {
        int c = strcmp(h->path, a->handlers[pos].path);
        if (c == 0)
            return OR_EINVAL;
        if (c < 0)
            break;
        pos++;
    }
    if (a->nhandlers == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        struct or_admin_handler *v = realloc(a->handlers, cap * sizeof(*v));
        if (v == NULL)
            return OR_ENOMEM;
        a->handlers = v;
        a->cap = cap;
    }
    memmove(&a->handlers[pos + 1], &a->handlers[pos], (a->nhandlers - pos) * sizeof(*h));
    a->handlers[pos] = *h;
    a->nhandlers++;
    return 0;
}

int or_admin_remove_handler(struct or_admin *a, const char *path)
{
    const struct or_admin_handler *h = find_handler(a, or_str_cstr(path));
    if (h == NULL)
        return OR_ENOTFOUND;
    size_t pos = (size_t)(h - a->handlers);
    memmove(&a->handlers[pos], &a->handlers[pos + 1], (a->nhandlers - pos - 1) * sizeof(*h));
    a->nhandlers--;
    return 0;
}

int or_admin_help(const struct or_admin *a, struct evbuffer *out)
{
    int rc = evbuffer_add_printf(out, "admin commands are:\n") < 0;
    for (size_t i = 0; i < a->nhandlers; i++) {
        const struct or_admin_handler *h = &a->handlers[i];
        rc |= evbuffer_add_printf(out, "  %s%s: %s\n", h->path,
                                  (h->flags & OR_ADMIN_F_MUTATES) ? " (POST)" : "", h->help) < 0;
        for (const struct or_admin_param *p = h->params; p != NULL && p->name != NULL; p++) {
            rc |= evbuffer_add_printf(out, "      %s: %s", p->name, p->help) < 0;
            if (p->choices != NULL) {
                rc |= evbuffer_add_printf(out, "; One of (") < 0;
                for (const char *const *c = p->choices; *c != NULL; c++)
                    rc |= evbuffer_add_printf(out, "%s%s", c == p->choices ? "" : ", ", *c) < 0;
                rc |= evbuffer_add_printf(out, ")") < 0;
            }
            rc |= evbuffer_add_printf(out, "\n") < 0;
        }
    }
    return rc ? OR_ENOMEM : 0;
}

static void send_reply(struct evhttp_request *req, int status, const char *content_type,
                       struct evbuffer *body)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", content_type);
    evhttp_add_header(h, "Cache-Control", "no-cache, max-age=0");
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    evhttp_add_header(h, "Server", "envoy");
    evhttp_send_reply(req, status, NULL, body);
}

/* Splits the request target into path and query. Origin-form ("/p?q") is used raw, so the path
 * matches byte for byte as in Envoy; absolute-form goes through libevent's URI parser. */
static bool split_target(struct evhttp_request *req, struct or_str *path, struct or_str *query)
{
    const char *uri = evhttp_request_get_uri(req);
    if (uri != NULL && uri[0] == '/') {
        const char *q = strchr(uri, '?');
        size_t plen = q != NULL ? (size_t)(q - uri) : strlen(uri);
        *path = or_str_make(uri, plen);
        *query = q != NULL ? or_str_cstr(q + 1) : or_str_make("", 0);
        return true;
    }
    const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
    if (u == NULL)
        return false;
    const char *p = evhttp_uri_get_path(u);
    const char *q = evhttp_uri_get_query(u);
    *path = (p != NULL && p[0] != '\0') ? or_str_cstr(p) : or_str_make("/", 1);
    *query = q != NULL ? or_str_cstr(q) : or_str_make("", 0);
    return true;
}

static void on_request(struct evhttp_request *http_req, void *arg)
{
    struct or_admin *a = arg;
    struct evbuffer *out = evbuffer_new();
    struct or_admin_request req;
    int status;

    if (out == NULL) {
        evhttp_send_error(http_req, 500, NULL);
        return;
    }
    memset(&req, 0, sizeof(req));
    req.admin = a;
    req.method = method_name(evhttp_request_get_command(http_req));
    req.body = evhttp_request_get_input_buffer(http_req);
    req.content_type = OR_ADMIN_CT_TEXT;
    req.http = http_req;

    if (!split_target(http_req, &req.path, &req.query)) {
        evbuffer_add_printf(out, "invalid request target\n");
        send_reply(http_req, 400, OR_ADMIN_CT_TEXT, out);
        evbuffer_free(out);
        return;
    }

    const struct or_admin_handler *h = find_handler(a, req.path);
    if (h == NULL) {
        /* Envoy: "invalid path. " then the help listing, 404. */
        evbuffer_add_printf(out, "invalid path. ");
        or_admin_help(a, out);
        status = 404;
    } else if ((h->flags & OR_ADMIN_F_MUTATES) && strcmp(req.method, "POST") != 0) {
        or_log_error("admin", "admin path \"%s\" mutates state, method=%s rather than POST",
                     h->path, req.method);
        evbuffer_add_printf(out, "Method %s not allowed, POST required.", req.method);
        status = 405;
    } else {
        status = h->cb(&req, out, h->ctx);
        if (status < 100 || status > 599) {
            evbuffer_drain(out, evbuffer_get_length(out));
            evbuffer_add_printf(out, "internal error\n");
            req.content_type = OR_ADMIN_CT_TEXT;
            status = 500;
        }
    }
    size_t body_bytes = evbuffer_get_length(out);
    send_reply(http_req, status, req.content_type, out);
    evbuffer_free(out);
    if (a->log_cb != NULL)
        a->log_cb(a->log_ctx, &req, status, body_bytes);
}

void or_admin_set_log(struct or_admin *a, or_admin_log_cb cb, void *ctx)
{
    a->log_cb = cb;
    a->log_ctx = ctx;
}

static void on_quit_timer(evutil_socket_t fd, short what, void *arg)
{
    struct or_admin *a = arg;
    if (a->ops->quit != NULL)
        a->ops->quit(a->ctx);
}

static void on_quit_reply_done(struct evhttp_request *req, void *arg)
{
    struct or_admin *a = arg;
    /* evhttp still uses the connection after this callback returns: quit from a fresh event. */
    struct timeval now = {0, 0};
    evtimer_add(a->quit_ev, &now);
}

void or_admin__schedule_quit(struct or_admin *a, struct evhttp_request *req)
{
    struct timeval fallback = {1, 0};
    evtimer_add(a->quit_ev, &fallback);
    evhttp_request_set_on_complete_cb(req, on_quit_reply_done, a);
}

static void format_addr(const struct sockaddr_storage *ss, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN];
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
        snprintf(buf, len, "%s:%u", ip, ntohs(sin->sin_port));
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
        snprintf(buf, len, "[%s]:%u", ip, ntohs(sin6->sin6_port));
    } else {
        snprintf(buf, len, "unknown");
    }
}

/* Opens, binds and listens a TCP socket for ip:port. */
static int listen_tcp(struct or_admin *a, const struct or_admin_listen *addr, int *fd_out,
                      struct or_err_detail *err)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    char shown[INET6_ADDRSTRLEN + 16];
    int one = 1;

    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    if (addr->ip == NULL)
        return or_err_set(err, "admin.address", "admin address needs an IP or a pipe path");
    if (inet_pton(AF_INET, addr->ip, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(addr->port);
        sslen = sizeof(*sin);
    } else if (inet_pton(AF_INET6, addr->ip, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(addr->port);
        sslen = sizeof(*sin6);
    } else {
        return or_err_set(err, "admin.address.socket_address.address", "malformed IP address: %s",
                          addr->ip);
    }
    format_addr(&ss, shown, sizeof(shown));

    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail_errno;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0)
        goto fail_close;
    if (ss.ss_family == AF_INET6) {
        int v6only = addr->ipv4_compat ? 0 : 1;
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) != 0)
            goto fail_close;
    }
    if (bind(fd, (struct sockaddr *)&ss, sslen) != 0)
        goto fail_close;
    if (listen(fd, ADMIN_BACKLOG) != 0)
        goto fail_close;
    a->bound_len = sizeof(a->bound);
    if (getsockname(fd, (struct sockaddr *)&a->bound, &a->bound_len) != 0)
        goto fail_close;
    *fd_out = fd;
    return 0;

fail_close : {
    int e = errno;
    close(fd);
    errno = e;
}
fail_errno:
    or_err_set(err, "admin.address", "cannot bind '%s': %s", shown, strerror(errno));
    return OR_ESYS;
}

/* Opens, binds and listens a unix socket; "@name" binds in the abstract namespace. */
static int listen_pipe(struct or_admin *a, const struct or_admin_listen *addr, int *fd_out,
                       struct or_err_detail *err)
{
    struct sockaddr_un sun;
    const char *path = addr->pipe_path;
    bool abstract = path[0] == '@';
    size_t plen = strlen(path);
    socklen_t sunlen;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (plen == 0 || plen >= sizeof(sun.sun_path))
        return or_err_set(err, "admin.address.pipe.path", "invalid pipe path '%s'", path);
    if (abstract) {
        /* Linux abstract socket: leading NUL, no file, the name is the rest. */
        memcpy(sun.sun_path + 1, path + 1, plen - 1);
        sunlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
    } else {
        memcpy(sun.sun_path, path, plen);
        sunlen = (socklen_t)sizeof(sun);
    }

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail_errno;
    if (!abstract) {
        /* Envoy unlinks a stale socket before binding. Only a socket: never clobber a file. */
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
            unlink(path);
    }
    if (bind(fd, (struct sockaddr *)&sun, sunlen) != 0)
        goto fail_close;
    if (!abstract) {
        a->pipe_path = strdup(path);
        if (a->pipe_path == NULL) {
            unlink(path);
            close(fd);
            return OR_ENOMEM;
        }
        if (addr->pipe_mode != 0 && chmod(path, (mode_t)addr->pipe_mode) != 0)
            goto fail_close;
    }
    if (listen(fd, ADMIN_BACKLOG) != 0)
        goto fail_close;
    memcpy(&a->bound, &sun, sizeof(sun));
    a->bound_len = sunlen;
    *fd_out = fd;
    return 0;

fail_close : {
    int e = errno;
    close(fd);
    errno = e;
}
fail_errno:
    or_err_set(err, "admin.address", "cannot bind '%s': %s", path, strerror(errno));
    return OR_ESYS;
}

int or_admin_start(struct or_admin **out, struct event_base *base,
                   const struct or_admin_listen *addr, const struct or_admin_ops *ops, void *ctx,
                   struct or_err_detail *err)
{
    int rc;
    int fd = -1;

    *out = NULL;
    if (ops == NULL || ops->state == NULL)
        return or_err_set(err, "", "admin: ops->state is required");
    struct or_admin *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return OR_ENOMEM;
    a->base = base;
    a->ops = ops;
    a->ctx = ctx;

    rc = or_admin__add_builtin(a);
    if (rc != 0)
        goto fail_admin;
    rc = OR_ENOMEM;
    a->quit_ev = evtimer_new(base, on_quit_timer, a);
    if (a->quit_ev == NULL)
        goto fail_admin;
    a->http = evhttp_new(base);
    if (a->http == NULL)
        goto fail_admin;
    evhttp_set_gencb(a->http, on_request, a);
    evhttp_set_allowed_methods(a->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                            EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                            EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
    evhttp_set_max_headers_size(a->http, ADMIN_MAX_HEADERS_SIZE);
    evhttp_set_max_body_size(a->http, ADMIN_MAX_BODY_SIZE);
    evhttp_set_timeout(a->http, ADMIN_TIMEOUT_S);

    if (addr->pipe_path != NULL)
        rc = listen_pipe(a, addr, &fd, err);
    else
        rc = listen_tcp(a, addr, &fd, err);
    if (rc != 0)
        goto fail_admin;
    if (evhttp_accept_socket_with_handle(a->http, fd) == NULL) {
        /* Only on OOM. libevent may already have closed fd (it does when the listener was made
         * but not attached), so leaking it beats closing a descriptor someone else now owns. */
        rc = OR_ENOMEM;
        or_err_set(err, "admin.address", "cannot listen on the admin socket");
        goto fail_admin;
    }
    *out = a;
    return 0;

fail_admin:
    or_admin_stop(a);
    return rc;
}

void or_admin_stop(struct or_admin *a)
{
    if (a == NULL)
        return;
    if (a->http != NULL)
        evhttp_free(a->http);
    if (a->quit_ev != NULL)
        event_free(a->quit_ev);
    if (a->pipe_path != NULL) {
        unlink(a->pipe_path);
        free(a->pipe_path);
    }
    free(a->handlers);
    free(a);
}

uint16_t or_admin_port(const struct or_admin *a)
{
    if (a->bound.ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)&a->bound)->sin_port);
    if (a->bound.ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)&a->bound)->sin6_port);
    return 0;
}

size_t or_admin_address(const struct or_admin *a, char *buf, size_t len)
{
    char tmp[sizeof(struct sockaddr_un) + 16];
    if (a->bound.ss_family == AF_UNIX) {
        const struct sockaddr_un *sun = (const struct sockaddr_un *)&a->bound;
        if (sun->sun_path[0] == '\0') {
            size_t n = a->bound_len - offsetof(struct sockaddr_un, sun_path) - 1;
            snprintf(tmp, sizeof(tmp), "@%.*s", (int)n, sun->sun_path + 1);
        } else {
            snprintf(tmp, sizeof(tmp), "%s", sun->sun_path);
        }
    } else {
        format_addr(&a->bound, tmp, sizeof(tmp));
    }
    return (size_t)snprintf(buf, len, "%s", tmp);
}

int or_admin_write_address_file(const struct or_admin *a, const char *path)
{
    char buf[sizeof(struct sockaddr_un) + 16];
    size_t n = or_admin_address(a, buf, sizeof(buf));
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return OR_ESYS;
    ssize_t w = write(fd, buf, n);
    int e = errno;
    if (close(fd) != 0 || w != (ssize_t)n) {
        errno = w < 0 ? e : EIO;
        return OR_ESYS;
    }
    return 0;
}

bool or_admin_query_next(struct or_str *cursor, struct or_str *key, struct or_str *value)
{
    while (cursor->len > 0) {
        const char *p = cursor->ptr;
        const char *amp = memchr(p, '&', cursor->len);
        size_t len = amp != NULL ? (size_t)(amp - p) : cursor->len;
        cursor->ptr += len + (amp != NULL ? 1 : 0);
        cursor->len -= len + (amp != NULL ? 1 : 0);
        if (len == 0)
            continue; /* "a&&b" */
        const char *eq = memchr(p, '=', len);
        if (eq != NULL) {
            *key = or_str_make(p, (size_t)(eq - p));
            *value = or_str_make(eq + 1, len - (size_t)(eq - p) - 1);
        } else {
            *key = or_str_make(p, len);
            *value = or_str_make(p + len, 0);
        }
        return true;
    }
    return false;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

ssize_t or_admin_url_decode(struct or_str in, char *out, size_t outlen)
{
    size_t n = 0;
    for (size_t i = 0; i < in.len; i++) {
        char c = in.ptr[i];
        if (c == '%' && i + 2 < in.len) {
            int hi = hexval(in.ptr[i + 1]);
            int lo = hexval(in.ptr[i + 2]);
            if (hi >= 0 && lo >= 0) {
                c = (char)(hi * 16 + lo);
                i += 2;
            }
        }
        if (n + 1 >= outlen)
            return OR_ETOOBIG;
        out[n++] = c;
    }
    if (outlen == 0)
        return OR_ETOOBIG;
    out[n] = '\0';
    return (ssize_t)n;
}

ssize_t or_admin_query_get(const struct or_admin_request *req, const char *name, char *out,
                           size_t outlen)
{
    struct or_str cur = req->query, k, v;
    char kbuf[256];
    while (or_admin_query_next(&cur, &k, &v)) {
        ssize_t kn = or_admin_url_decode(k, kbuf, sizeof(kbuf));
        if (kn < 0 || strcmp(kbuf, name) != 0)
            continue;
        return or_admin_url_decode(v, out, outlen);
    }
    return OR_ENOTFOUND;
}

bool or_admin_query_has(const struct or_admin_request *req, const char *name)
{
    struct or_str cur = req->query, k, v;
    char kbuf[256];
    while (or_admin_query_next(&cur, &k, &v)) {
        ssize_t kn = or_admin_url_decode(k, kbuf, sizeof(kbuf));
        if (kn >= 0 && strcmp(kbuf, name) == 0)
            return true;
    }
    return false;
}
