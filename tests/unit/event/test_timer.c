/* Per-worker timer lists (proxy/event/timer.c): FIFO per duration, re-arm and disarm in O(1),
 * callbacks that arm more timers, and the worker's buffer and event caches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>

#include "proxy/event/timer.h"
#include "proxy/event/worker.h"

struct owner {
    struct or_timer t;
    int id;
    int fired;
};

static int order[16];
static int n_order;
static struct or_worker *cur;

static void on_fire(struct or_timer *t)
{
    struct owner *o = OR_CONTAINER_OF(t, struct owner, t);
    o->fired++;
    if (n_order < 16)
        order[n_order++] = o->id;
}

/* Runs the loop until `n` callbacks have run (or a 2 s safety limit passes). */
static void run_until(struct or_worker *w, int n)
{
    uint64_t end = or_timer_now_ms() + 2000;
    while (n_order < n && or_timer_now_ms() < end)
        event_base_loop(w->base, EVLOOP_ONCE);
}

static int setup(void **state)
{
    static struct or_worker w;
    assert_int_equal(or_worker_init(&w, 0), 0);
    n_order = 0;
    cur = &w;
    *state = &w;
    return 0;
}

static int teardown(void **state)
{
    or_worker_deinit(*state);
    return 0;
}

static void test_fifo_same_duration(void **state)
{
    struct or_worker *w = *state;
    struct owner o[3] = {{.id = 0}, {.id = 1}, {.id = 2}};
    for (int i = 0; i < 3; i++) {
        or_timer_init(&o[i].t);
        assert_int_equal(or_timer_arm(w, &o[i].t, 20, on_fire), 0);
        assert_true(or_timer_armed(&o[i].t));
    }
    /* Re-arming moves the first to the back of the list. */
    assert_int_equal(or_timer_arm(w, &o[0].t, 20, on_fire), 0);
    run_until(w, 3);
    assert_int_equal(n_order, 3);
    assert_int_equal(order[0], 1);
    assert_int_equal(order[1], 2);
    assert_int_equal(order[2], 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(o[i].fired, 1);
        assert_false(or_timer_armed(&o[i].t));
    }
    /* The emptied list went away with its last timer. */
    assert_null(w->timer_lists);
}

static void test_disarm_and_zero(void **state)
{
    struct or_worker *w = *state;
    struct owner a = {.id = 1}, b = {.id = 2}, c = {.id = 3};
    or_timer_init(&a.t);
    or_timer_init(&b.t);
    or_timer_init(&c.t);
    assert_int_equal(or_timer_arm(w, &a.t, 10, on_fire), 0);
    assert_int_equal(or_timer_arm(w, &b.t, 10, on_fire), 0);
    assert_int_equal(or_timer_arm(w, &c.t, 30, on_fire), 0);
    or_timer_disarm(&a.t);
    or_timer_disarm(&a.t);                                  /* twice is harmless */
    assert_int_equal(or_timer_arm(w, &b.t, 0, on_fire), 0); /* 0 disarms */
    assert_false(or_timer_armed(&b.t));
    uint64_t t0 = or_timer_now_ms();
    run_until(w, 1);
    assert_int_equal(n_order, 1);
    assert_int_equal(order[0], 3);
    assert_true(or_timer_now_ms() - t0 >= 29);
    assert_int_equal(a.fired + b.fired, 0);
}

static void test_durations_interleave(void **state)
{
    struct or_worker *w = *state;
    struct owner slow = {.id = 1}, fast = {.id = 2};
    or_timer_init(&slow.t);
    or_timer_init(&fast.t);
    assert_int_equal(or_timer_arm(w, &slow.t, 40, on_fire), 0);
    assert_int_equal(or_timer_arm(w, &fast.t, 5, on_fire), 0);
    run_until(w, 2);
    assert_int_equal(order[0], 2);
    assert_int_equal(order[1], 1);
}

static struct owner chain[3];

/* Re-arms itself once and arms its neighbour on the same list: neither runs in this pass. */
static void on_chain(struct or_timer *t)
{
    struct owner *o = OR_CONTAINER_OF(t, struct owner, t);
    o->fired++;
    order[n_order++] = o->id;
    if (o->id == 0 && o->fired == 1) {
        or_timer_arm(cur, &o->t, 5, on_chain);
        or_timer_arm(cur, &chain[1].t, 5, on_chain);
    }
}

static void test_callback_arms_same_list(void **state)
{
    struct or_worker *w = *state;
    for (int i = 0; i < 3; i++) {
        chain[i] = (struct owner){.id = i};
        or_timer_init(&chain[i].t);
    }
    assert_int_equal(or_timer_arm(w, &chain[0].t, 5, on_chain), 0);
    run_until(w, 1);
    assert_int_equal(n_order, 1);
    run_until(w, 3);
    assert_int_equal(n_order, 3);
    assert_int_equal(chain[0].fired, 2);
    assert_int_equal(chain[1].fired, 1);
    assert_int_equal(chain[2].fired, 0);
}

static void test_deinit_with_armed(void **state)
{
    struct or_worker *w = *state;
    struct owner a = {.id = 1};
    or_timer_init(&a.t);
    assert_int_equal(or_timer_arm(w, &a.t, 100000, on_fire), 0);
    or_timer_lists_free(w);
    assert_false(or_timer_armed(&a.t));
    assert_null(w->timer_lists);
}

static void test_caches(void **state)
{
    struct or_worker *w = *state;
    struct evbuffer *b = or_worker_buf_get(w);
    assert_non_null(b);
    or_worker_buf_put(w, b);
    assert_int_equal(w->n_bufs, 1);
    assert_ptr_equal(or_worker_buf_get(w), b);
    /* A buffer with bytes is freed, never cached. */
    evbuffer_add(b, "x", 1);
    or_worker_buf_put(w, b);
    assert_int_equal(w->n_bufs, 0);
    struct evbuffer *many[OR_WORKER_CACHE + 2];
    for (int i = 0; i < OR_WORKER_CACHE + 2; i++)
        many[i] = or_worker_buf_get(w);
    for (int i = 0; i < OR_WORKER_CACHE + 2; i++)
        or_worker_buf_put(w, many[i]);
    assert_int_equal(w->n_bufs, OR_WORKER_CACHE);
    struct event *ev = or_worker_event_get(w);
    assert_non_null(ev);
    or_worker_event_put(w, ev);
    assert_int_equal(w->n_events, 1);
    assert_ptr_equal(or_worker_event_get(w), ev);
    or_worker_event_put(w, ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fifo_same_duration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disarm_and_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_durations_interleave, setup, teardown),
        cmocka_unit_test_setup_teardown(test_callback_arms_same_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deinit_with_armed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_caches, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
