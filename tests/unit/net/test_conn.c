/* Connections over a socketpair: an idle connection holds no buffers and no write event (issue 4),
 * a blocked write takes the write event and gives it back once drained, bytes the owner leaves
 * in `in` stay there, and EOF reaches the owner. */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>

#include "proxy/event/timer.h"
#include "proxy/event/worker.h"
#include "proxy/net/conn.h"

struct fixture {
    struct or_worker w;
    struct or_conn *c;
    int peer;      /* the other end of the socketpair */
    int reads;     /* on_read calls */
    int drained;   /* on_drained calls */
    int events[8]; /* on_event calls by kind */
    bool consume;  /* on_read drains c->in */
    bool echo;     /* on_read writes the bytes back */
    bool close_on_event;
};

static void on_read(struct or_conn *c, void *ctx)
{
    struct fixture *f = ctx;
    f->reads++;
    if (f->echo) {
        evbuffer_add_buffer(or_conn_out(c), c->in);
        or_conn_flush_soon(c);
    } else if (f->consume) {
        evbuffer_drain(c->in, evbuffer_get_length(c->in));
    }
}

static void on_drained(struct or_conn *c, void *ctx)
{
    struct fixture *f = ctx;
    f->drained++;
}

static void on_event(struct or_conn *c, void *ctx, enum or_conn_event ev)
{
    struct fixture *f = ctx;
    f->events[ev]++;
    if (f->close_on_event) {
        or_conn_close(c);
        f->c = NULL; /* freed at the end of this loop turn */
    }
}

static const struct or_conn_handler handler = {
    .on_read = on_read, .on_drained = on_drained, .on_event = on_event};

static void turn(struct fixture *f)
{
    event_base_loop(f->w.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
}

/* Runs loop turns until *counter reaches n (2 s at most). */
static void run_until(struct fixture *f, int *counter, int n)
{
    uint64_t end = or_timer_now_ms() + 2000;
    while (*counter < n && or_timer_now_ms() < end)
        event_base_loop(f->w.base, EVLOOP_ONCE);
}

static int setup(void **state)
{
    static struct fixture f;
    memset(&f, 0, sizeof(f));
    assert_int_equal(or_worker_init(&f.w, 0), 0);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(1234)};
    peer.sin_addr.s_addr = htonl(0x7f000001);
    f.c = or_conn_new_accepted(&f.w, sv[0], (struct sockaddr *)&peer, sizeof(peer), &handler, &f);
    assert_non_null(f.c);
    f.peer = sv[1];
    f.consume = true;
    f.close_on_event = true;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->c != NULL && !(f->c->flags & OR_CONN_F_CLOSED))
        or_conn_close(f->c);
    turn(f); /* deferred free */
    close(f->peer);
    or_worker_deinit(&f->w);
    return 0;
}

static void test_idle_holds_nothing(void **state)
{
    struct fixture *f = *state;
    struct or_conn *c = f->c;
    assert_null(c->in);
    assert_null(c->out);
    assert_null(c->wev);
    assert_null(c->timer);
    f->echo = true;
    for (int round = 1; round <= 3; round++) {
        assert_int_equal(write(f->peer, "hello", 5), 5);
        run_until(f, &f->reads, round);
        assert_int_equal(f->reads, round);
        turn(f); /* the queued write runs at the end of the turn */
        char buf[16];
        ssize_t n = read(f->peer, buf, sizeof(buf));
        assert_int_equal(n, 5);
        assert_memory_equal(buf, "hello", 5);
        /* Quiet again: both buffers are back in the worker's cache. */
        assert_null(c->in);
        assert_null(c->out);
        assert_null(c->wev);
        assert_true(f->w.n_bufs >= 1);
    }
    assert_int_equal(c->rx_bytes, 15);
    assert_int_equal(c->tx_bytes, 15);
    assert_ptr_equal(or_conn_local_addr(c), (const struct sockaddr *)&c->local);
}

static void test_unconsumed_bytes_stay(void **state)
{
    struct fixture *f = *state;
    struct or_conn *c = f->c;
    f->consume = false;
    assert_int_equal(write(f->peer, "abc", 3), 3);
    run_until(f, &f->reads, 1);
    assert_non_null(c->in);
    assert_int_equal(or_conn_in_len(c), 3);
    /* Paused and resumed: the bytes already read are offered again. */
    or_conn_read_disable(c, true);
    f->consume = true;
    or_conn_read_disable(c, false);
    run_until(f, &f->reads, 2);
    assert_int_equal(f->reads, 2);
    assert_int_equal(or_conn_in_len(c), 0);
    assert_null(c->in);
}

static void test_blocked_write(void **state)
{
    struct fixture *f = *state;
    struct or_conn *c = f->c;
    int small = 4096;
    setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    or_conn_set_buffer_limit(c, 64 * 1024);
    static char big[1 << 20];
    memset(big, 'x', sizeof(big));
    struct evbuffer *out = or_conn_out(c);
    assert_non_null(out);
    evbuffer_add(out, big, sizeof(big));
    or_conn_flush(c);
    assert_true(c->flags & OR_CONN_F_WRITE_ARMED);
    assert_non_null(c->wev);
    assert_true(or_conn_above_high_watermark(c));
    assert_true(c->flags & OR_CONN_F_ABOVE_HIGH);
    size_t got = 0;
    uint64_t end = or_timer_now_ms() + 5000;
    while (got < sizeof(big) && or_timer_now_ms() < end) {
        char buf[65536];
        ssize_t n = read(f->peer, buf, sizeof(buf));
        if (n > 0)
            got += (size_t)n;
        else
            assert_true(n < 0 && errno == EAGAIN);
        turn(f);
    }
    assert_int_equal(got, sizeof(big));
    turn(f);
    assert_int_equal(c->tx_bytes, sizeof(big));
    assert_int_equal(f->drained, 1);
    assert_null(c->out);
    assert_null(c->wev);
    assert_false(c->flags & OR_CONN_F_WRITE_ARMED);
}

static void test_eof(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(write(f->peer, "bye", 3), 3);
    shutdown(f->peer, SHUT_WR);
    run_until(f, &f->events[OR_CONN_EV_EOF], 1);
    assert_int_equal(f->reads, 1);
    assert_int_equal(f->events[OR_CONN_EV_EOF], 1);
    assert_null(f->c);
}

static void test_close_after_flush(void **state)
{
    struct fixture *f = *state;
    struct or_conn *c = f->c;
    evbuffer_add(or_conn_out(c), "last", 4);
    or_conn_close_after_flush_nolinger(c);
    assert_true(c->flags & OR_CONN_F_CLOSED);
    char buf[8];
    assert_int_equal(read(f->peer, buf, sizeof(buf)), 4);
    assert_int_equal(read(f->peer, buf, sizeof(buf)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_idle_holds_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unconsumed_bytes_stay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blocked_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eof, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_after_flush, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
