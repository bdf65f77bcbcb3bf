#include "proxy/event/timer.h"
#include "proxy/core/err.h"

#include <event2/event.h>
#include <event2/event_struct.h>
#include <stdlib.h>
#include <time.h>

/* All armed timers of one worker with one duration and callback, oldest deadline first. */
struct or_timer_list {
    struct or_list timers;      /* struct or_timer.link, FIFO = deadline order */
    uint64_t ms;                /* the duration every timer here was armed with */
    or_timer_cb cb;             /* run for each expired timer */
    struct or_worker *w;        /* borrowed: the owning worker */
    struct event ev;            /* fires at (or before) the head's deadline */
    bool pending;               /* ev is armed */
    struct or_timer_list *next; /* in w->timer_lists */
};

uint64_t or_timer_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void list_arm(struct or_timer_list *l, uint64_t ms)
{
    if (ms == 0)
        ms = 1;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
    if (evtimer_add(&l->ev, &tv) == 0)
        l->pending = true;
}

static void on_list_timer(evutil_socket_t fd, short what, void *arg)
{
    struct or_timer_list *l = arg;
    l->pending = false;
    uint64_t now = or_timer_now_ms();
    /* A callback may arm timers on this very list: they land behind `now` and wait their turn. */
    while (!or_list_empty(&l->timers)) {
        struct or_timer *t = OR_CONTAINER_OF(l->timers.next, struct or_timer, link);
        if (t->deadline_ms > now) {
            /* Heads that moved away left the event early; also covers a coarse libevent clock. */
            list_arm(l, t->deadline_ms - now);
            return;
        }
        or_list_remove(&t->link);
        l->cb(t);
    }
    /* Nothing left: a duration that came with an old config should not stay forever. No timer
     * points at its list, and libevent lets a non-persistent event go inside its callback. */
    for (struct or_timer_list **pp = &l->w->timer_lists; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == l) {
            *pp = l->next;
            free(l);
            return;
        }
    }
}

static struct or_timer_list *list_find(struct or_worker *w, uint64_t ms, or_timer_cb cb)
{
    for (struct or_timer_list *l = w->timer_lists; l != NULL; l = l->next)
        if (l->ms == ms && l->cb == cb)
            return l;
    struct or_timer_list *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return NULL;
    or_list_init(&l->timers);
    l->ms = ms;
    l->cb = cb;
    l->w = w;
    evtimer_assign(&l->ev, w->base, on_list_timer, l);
    l->next = w->timer_lists;
    w->timer_lists = l;
    return l;
}

int or_timer_arm(struct or_worker *w, struct or_timer *t, uint64_t ms, or_timer_cb cb)
{
    or_list_remove(&t->link);
    if (ms == 0)
        return 0;
    struct or_timer_list *l = list_find(w, ms, cb);
    if (l == NULL)
        return OR_ENOMEM;
    t->deadline_ms = or_timer_now_ms() + ms;
    or_list_insert(l->timers.prev, &t->link);
    /* A pending event is due no later than this deadline: it re-arms for the head when it fires. */
    if (!l->pending)
        list_arm(l, ms);
    return 0;
}

void or_timer_lists_free(struct or_worker *w)
{
    while (w->timer_lists != NULL) {
        struct or_timer_list *l = w->timer_lists;
        w->timer_lists = l->next;
        while (!or_list_empty(&l->timers))
            or_list_remove(l->timers.next);
        if (l->pending)
            event_del(&l->ev);
        free(l);
    }
}
