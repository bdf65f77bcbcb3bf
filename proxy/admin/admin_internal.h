/* Admin internals shared by admin.c (server, dispatch) and server_info.c (built-in endpoints). */
#ifndef OR_ADMIN_ADMIN_INTERNAL_H
#define OR_ADMIN_ADMIN_INTERNAL_H

#include <stddef.h>
#include <sys/socket.h>

#include "proxy/admin/admin.h"

struct event;
struct evhttp;

struct or_admin {
    struct event_base *base;           /* borrowed: the main thread's loop */
    struct evhttp *http;               /* owned: closes the listener and connections when freed */
    const struct or_admin_ops *ops;    /* borrowed */
    void *ctx;                         /* borrowed: passed to every op */
    struct or_admin_handler *handlers; /* owned array, sorted by strcmp(path) */
    size_t nhandlers;                  /* entries in use */
    size_t cap;                        /* entries allocated */
    struct event *quit_ev;             /* owned: runs ops->quit outside the request's callbacks */
    struct sockaddr_storage bound;     /* the listening address after bind */
    socklen_t bound_len;               /* its length */
    char *pipe_path;        /* owned: pipe file to unlink on stop; NULL if none/abstract */
    or_admin_log_cb log_cb; /* admin access log, or NULL */
    void *log_ctx;          /* borrowed */
};

/* Registers /, /help, /ready, /server_info, /hot_restart_version and /quitquitquit. */
int or_admin__add_builtin(struct or_admin *a);

/* Arms ops->quit: on reply completion, at the latest after 1 s. */
void or_admin__schedule_quit(struct or_admin *a, struct evhttp_request *req);

#endif
