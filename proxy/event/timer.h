/* Timeouts without a libevent event per owner. Every timer of one worker with the same duration
 * and callback sits on one FIFO list: appending at now + duration keeps the list ordered by
 * deadline, so arming and disarming are O(1) and one libevent timer per list, armed for the head,
 * serves them all (nginx and HAProxy keep their connection timeouts the same way). An idle
 * connection then pays 24 bytes for its timeout instead of a 128-byte struct event. */
#ifndef OR_EVENT_TIMER_H
#define OR_EVENT_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#include "proxy/core/list.h"
#include "proxy/event/worker.h"

struct or_timer;
typedef void (*or_timer_cb)(struct or_timer *t);

/* Embedded in its owner; the owner finds itself with OR_CONTAINER_OF in the callback. */
struct or_timer {
    struct or_list link;  /* in its duration's list; self-linked when not armed */
    uint64_t deadline_ms; /* monotonic, from or_timer_now_ms() */
};

static inline void or_timer_init(struct or_timer *t)
{
    or_list_init(&t->link);
    t->deadline_ms = 0;
}

static inline bool or_timer_armed(const struct or_timer *t)
{
    return !or_list_empty(&t->link);
}

/* Stops t; a no-op when it is not armed. */
static inline void or_timer_disarm(struct or_timer *t)
{
    or_list_remove(&t->link);
}

/* (Re)arms t to run cb(t) once, ms milliseconds from now, on w's thread; ms == 0 disarms. Worker
 * thread only. OR_ENOMEM (t left disarmed) when the first timer of a new duration cannot get its
 * list. */
int or_timer_arm(struct or_worker *w, struct or_timer *t, uint64_t ms, or_timer_cb cb);

/* Monotonic milliseconds. */
uint64_t or_timer_now_ms(void);

/* Frees the worker's timer lists (or_worker_deinit); timers still armed are left disarmed. */
void or_timer_lists_free(struct or_worker *w);

#endif
