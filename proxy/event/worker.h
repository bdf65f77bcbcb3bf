/* Worker threads: one event_base each, a mailbox for messages from the main thread, and a
 * deferred-free list drained at the end of each loop turn (Envoy's deferred delete). A connection
 * lives and dies on one worker, so nothing on the data path takes a lock. */
#ifndef OR_EVENT_WORKER_H
#define OR_EVENT_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "proxy/core/list.h"
#include "proxy/core/rand.h"

struct event_base;
struct event;
struct evbuffer;
struct or_worker;

typedef void (*or_worker_msg_cb)(struct or_worker *w, void *arg);
typedef void (*or_deferred_cb)(void *obj);

/* A message posted to a worker. Ownership of `arg` moves to the receiver with the message. */
struct or_worker_msg {
    or_worker_msg_cb cb;
    void *arg;                  /* owned by the message, then by cb */
    struct or_worker_msg *next; /* mailbox list link */
};

struct or_timer_list;

/* Entries kept by each per-worker cache of idle-connection resources (buffers, events). */
#define OR_WORKER_CACHE 64

struct or_deferred {
    or_deferred_cb cb;
    void *obj; /* freed (or released) by cb at the end of the loop turn */
    struct or_deferred *next;
};

struct or_worker {
    uint32_t id; /* 0..concurrency-1 */
    pthread_t thread;
    struct event_base *base; /* owned; EVENT_BASE_FLAG_NOLOCK */
    /* Mailbox: the only lock a worker ever takes, and only when the main thread posts. */
    pthread_mutex_t mbox_lock;
    struct or_worker_msg *mbox_head; /* owned list, FIFO */
    struct or_worker_msg *mbox_tail;
    int mbox_fd;           /* owned eventfd that wakes the loop */
    struct event *mbox_ev; /* owned */
    /* Deferred frees run after the current callbacks of this loop turn, so objects can be dropped
     * from inside their own callbacks. */
    struct or_deferred *deferred; /* owned list */
    struct event *deferred_ev;    /* owned */
    struct or_list turn_end;      /* struct or_turn_end queue, run at the end of the loop turn */
    uint64_t rand_state;          /* per-thread PRNG state for LB and weighted clusters */
    struct evbuffer *empty;       /* owned: an always-empty buffer for end-of-stream events */
    void *ctx;                    /* borrowed: the proxy's per-worker state (struct or_wctx) */
    struct or_timer_list *timer_lists; /* owned: proxy/event/timer.c, one per duration */
    /* Idle connections hold no buffers and no write event: they take them from these caches when
     * bytes move and give them back when done, so once warm no request allocates for them. */
    struct evbuffer *bufs[OR_WORKER_CACHE]; /* owned, each empty */
    uint32_t n_bufs;
    struct event *events[OR_WORKER_CACHE]; /* owned storage for event_assign, none pending */
    uint32_t n_events;
    /* Every struct or_conn of this worker until it is freed (proxy/net/conn.c), so the ones no
     * owner holds any more — lingering after their last response — still go at shutdown. */
    struct or_list conns;
    bool stopping;
};

/* Sets up the event base, mailbox and deferred list; does not start the thread. */
int or_worker_init(struct or_worker *w, uint32_t id);
/* Starts the thread running the loop until or_worker_stop. */
int or_worker_start(struct or_worker *w);
/* Asks the loop to exit (from any thread) and joins it. */
void or_worker_stop_join(struct or_worker *w);
void or_worker_deinit(struct or_worker *w);

/* Posts cb(w, arg) to run on w's thread. Safe from any thread. OR_ENOMEM on failure (arg
 * untouched). */
int or_worker_post(struct or_worker *w, or_worker_msg_cb cb, void *arg);
/* Runs cb(obj) at the end of the current loop turn. Worker thread only. `d` is caller-provided
 * storage (usually embedded in obj) so deferring never allocates. */
void or_worker_defer(struct or_worker *w, struct or_deferred *d, or_deferred_cb cb, void *obj);

/* An empty evbuffer from the cache (or a new one). NULL on OOM. */
struct evbuffer *or_worker_buf_get(struct or_worker *w);
/* Takes b back: cached if it is empty and there is room, freed otherwise. */
void or_worker_buf_put(struct or_worker *w, struct evbuffer *b);
/* Storage for one struct event (to event_assign), from the cache. NULL on OOM. */
struct event *or_worker_event_get(struct or_worker *w);
/* Takes ev back; it must not be pending (event_del it first). */
void or_worker_event_put(struct or_worker *w, struct event *ev);

/* Work to run once at the end of the current loop turn, before deferred frees (e.g. a connection's
 * write: many writes in one turn become one writev). Embedded in its owner; the owner removes it
 * with or_turn_end_cancel if it goes away first. */
struct or_turn_end {
    struct or_list link; /* in the worker's queue; self-linked when not queued */
    void (*cb)(struct or_turn_end *t);
};

static inline void or_turn_end_init(struct or_turn_end *t, void (*cb)(struct or_turn_end *t))
{
    or_list_init(&t->link);
    t->cb = cb;
}

static inline void or_turn_end_cancel(struct or_turn_end *t)
{
    or_list_remove(&t->link);
}

/* Queues t (no-op if already queued). Worker thread only. */
void or_worker_at_turn_end(struct or_worker *w, struct or_turn_end *t);

/* The worker running on this thread, or NULL on the main thread. */
struct or_worker *or_worker_current(void);

/* The worker's PRNG (proxy/core/rand.h) for LB and weighted picks and request ids. */
static inline uint64_t or_worker_rand(struct or_worker *w)
{
    return or_rand_next(&w->rand_state);
}

#endif
