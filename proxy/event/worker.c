#include "proxy/event/worker.h"
#include "proxy/core/err.h"
#include "proxy/core/log.h"
#include "proxy/event/timer.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

static __thread struct or_worker *current_worker;

struct or_worker *or_worker_current(void)
{
    return current_worker;
}

static void on_mbox(evutil_socket_t fd, short what, void *arg)
{
    struct or_worker *w = arg;
    uint64_t v;
    ssize_t r = read(fd, &v, sizeof(v));
    (void)r;
    pthread_mutex_lock(&w->mbox_lock);
    struct or_worker_msg *m = w->mbox_head;
    w->mbox_head = w->mbox_tail = NULL;
    pthread_mutex_unlock(&w->mbox_lock);
    while (m != NULL) {
        struct or_worker_msg *next = m->next;
        m->cb(w, m->arg);
        free(m);
        m = next;
    }
}

static void run_deferred(struct or_worker *w)
{
    /* Writes first: the connections are still alive; frees come after. */
    while (!or_list_empty(&w->turn_end)) {
        struct or_turn_end *t = OR_CONTAINER_OF(w->turn_end.next, struct or_turn_end, link);
        or_list_remove(&t->link);
        t->cb(t);
    }
    /* Objects freed here may defer more objects: loop until the list stays empty. */
    while (w->deferred != NULL) {
        struct or_deferred *d = w->deferred;
        w->deferred = NULL;
        while (d != NULL) {
            struct or_deferred *next = d->next;
            d->cb(d->obj);
            d = next;
        }
    }
}

static void on_deferred(evutil_socket_t fd, short what, void *arg)
{
    run_deferred(arg);
}

int or_worker_init(struct or_worker *w, uint32_t id)
{
    memset(w, 0, sizeof(*w));
    w->id = id;
    struct event_config *cfg = event_config_new();
    if (cfg == NULL)
        return OR_ENOMEM;
    event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
    w->base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    if (w->base == NULL)
        return OR_ENOMEM;
    pthread_mutex_init(&w->mbox_lock, NULL);
    or_list_init(&w->turn_end);
    or_list_init(&w->conns);
    w->mbox_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->mbox_fd < 0)
        goto fail_base;
    w->mbox_ev = event_new(w->base, w->mbox_fd, EV_READ | EV_PERSIST, on_mbox, w);
    if (w->mbox_ev == NULL || event_add(w->mbox_ev, NULL) != 0)
        goto fail_fd;
    w->deferred_ev = event_new(w->base, -1, 0, on_deferred, w);
    if (w->deferred_ev == NULL)
        goto fail_ev;
    w->empty = evbuffer_new();
    if (w->empty == NULL) {
        event_free(w->deferred_ev);
        goto fail_ev;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    w->rand_state = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)id << 48) ^
                    (uint64_t)(uintptr_t)w;
    return 0;
fail_ev:
    if (w->mbox_ev != NULL)
        event_free(w->mbox_ev);
fail_fd:
    close(w->mbox_fd);
fail_base:
    event_base_free(w->base);
    w->base = NULL;
    return OR_ENOMEM;
}

static void *worker_main(void *arg)
{
    struct or_worker *w = arg;
    current_worker = w;
    event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
    on_deferred(-1, 0, w);
    current_worker = NULL;
    return NULL;
}

int or_worker_start(struct or_worker *w)
{
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
        return OR_ESYS;
    return 0;
}

static void do_exit(struct or_worker *w, void *arg)
{
    event_base_loopexit(w->base, NULL);
}

void or_worker_stop_join(struct or_worker *w)
{
    if (or_worker_post(w, do_exit, NULL) == 0)
        pthread_join(w->thread, NULL);
}

void or_worker_deinit(struct or_worker *w)
{
    /* Frees deferred in the last turn before the loop stopped (none if init failed early). */
    if (w->turn_end.next != NULL)
        run_deferred(w);
    struct or_worker_msg *m = w->mbox_head;
    while (m != NULL) {
        struct or_worker_msg *next = m->next;
        free(m);
        m = next;
    }
    or_timer_lists_free(w);
    while (w->n_bufs > 0)
        evbuffer_free(w->bufs[--w->n_bufs]);
    while (w->n_events > 0)
        free(w->events[--w->n_events]);
    if (w->deferred_ev != NULL)
        event_free(w->deferred_ev);
    if (w->empty != NULL)
        evbuffer_free(w->empty);
    if (w->mbox_ev != NULL)
        event_free(w->mbox_ev);
    if (w->mbox_fd > 0)
        close(w->mbox_fd);
    if (w->base != NULL)
        event_base_free(w->base);
    pthread_mutex_destroy(&w->mbox_lock);
}

int or_worker_post(struct or_worker *w, or_worker_msg_cb cb, void *arg)
{
    struct or_worker_msg *m = malloc(sizeof(*m));
    if (m == NULL)
        return OR_ENOMEM;
    m->cb = cb;
    m->arg = arg;
    m->next = NULL;
    pthread_mutex_lock(&w->mbox_lock);
    if (w->mbox_tail != NULL)
        w->mbox_tail->next = m;
    else
        w->mbox_head = m;
    w->mbox_tail = m;
    pthread_mutex_unlock(&w->mbox_lock);
    uint64_t one = 1;
    ssize_t r = write(w->mbox_fd, &one, sizeof(one));
    (void)r;
    return 0;
}

void or_worker_at_turn_end(struct or_worker *w, struct or_turn_end *t)
{
    if (!or_list_empty(&t->link))
        return; /* already queued */
    if (or_list_empty(&w->turn_end) && w->deferred == NULL)
        event_active(w->deferred_ev, EV_TIMEOUT, 0);
    or_list_insert(w->turn_end.prev, &t->link);
}

void or_worker_defer(struct or_worker *w, struct or_deferred *d, or_deferred_cb cb, void *obj)
{
    d->cb = cb;
    d->obj = obj;
    d->next = w->deferred;
    if (w->deferred == NULL && or_list_empty(&w->turn_end))
        event_active(w->deferred_ev, EV_TIMEOUT, 0);
    w->deferred = d;
}

struct evbuffer *or_worker_buf_get(struct or_worker *w)
{
    if (w->n_bufs > 0)
        return w->bufs[--w->n_bufs];
    return evbuffer_new();
}

void or_worker_buf_put(struct or_worker *w, struct evbuffer *b)
{
    /* A buffer that still holds bytes (or chains) would carry them to its next user. */
    if (w->n_bufs < OR_WORKER_CACHE && evbuffer_get_length(b) == 0)
        w->bufs[w->n_bufs++] = b;
    else
        evbuffer_free(b);
}

struct event *or_worker_event_get(struct or_worker *w)
{
    if (w->n_events > 0)
        return w->events[--w->n_events];
    return malloc(event_get_struct_event_size());
}

void or_worker_event_put(struct or_worker *w, struct event *ev)
{
    if (w->n_events < OR_WORKER_CACHE)
        w->events[w->n_events++] = ev;
    else
        free(ev);
}
