// evbuffer moves: the body path hands chains from one buffer to the next without copying; the
// copy and the socket round trip are here to show what a move saves and what the syscall floor
// of one small exchange is on this machine.
#include <cstring>
#include <sys/socket.h>
#include <unistd.h>

#include "bench/micro/micro.h"

namespace
{

struct estate {
    evbuffer *a;
    evbuffer *b;
    size_t len;
    int fds[2];
    char *bytes;
};

void *make(size_t len)
{
    estate *s = new estate();
    s->a = evbuffer_new();
    s->b = evbuffer_new();
    s->len = len;
    s->bytes = new char[len];
    std::memset(s->bytes, 'x', len);
    or_micro_check(evbuffer_add(s->a, s->bytes, len) == 0, "evbuffer_add");
    s->fds[0] = s->fds[1] = -1;
    return s;
}

void teardown(void *st)
{
    estate *s = static_cast<estate *>(st);
    evbuffer_free(s->a);
    evbuffer_free(s->b);
    if (s->fds[0] >= 0) {
        close(s->fds[0]);
        close(s->fds[1]);
    }
    delete[] s->bytes;
    delete s;
}

// Two whole-buffer moves (a -> b -> a): chains change hands, no byte is copied.
void move_op(void *st)
{
    estate *s = static_cast<estate *>(st);
    if (evbuffer_add_buffer(s->b, s->a) != 0 || evbuffer_add_buffer(s->a, s->b) != 0)
        or_micro_check(false, "move");
}

// Two partial moves of 4 KiB + 1 byte (a -> b -> a): whole chains move, the split one copies.
void move_part_op(void *st)
{
    estate *s = static_cast<estate *>(st);
    if (evbuffer_remove_buffer(s->a, s->b, 4097) != 4097 ||
        evbuffer_remove_buffer(s->b, s->a, 4097) != 4097)
        or_micro_check(false, "remove_buffer");
}

// For comparison: copying the bytes in and draining them.
void copy_op(void *st)
{
    estate *s = static_cast<estate *>(st);
    if (evbuffer_add(s->b, s->bytes, s->len) != 0 || evbuffer_drain(s->b, s->len) != 0)
        or_micro_check(false, "copy");
}

void *m100()
{
    return make(100);
}
void *m16k()
{
    return make(16384);
}
void *m1m()
{
    return make(1 << 20);
}
void *m64k()
{
    return make(65536);
}

// One write and one read of 100 bytes through a connected Unix socket pair: the syscall cost a
// proxy pays at least four times per proxied request (read and write on each side).
void *sock100()
{
    estate *s = static_cast<estate *>(make(100));
    or_micro_check(socketpair(AF_UNIX, SOCK_STREAM, 0, s->fds) == 0, "socketpair");
    return s;
}

void sock_op(void *st)
{
    estate *s = static_cast<estate *>(st);
    if (evbuffer_write(s->a, s->fds[0]) != (int)s->len ||
        evbuffer_read(s->a, s->fds[1], -1) != (int)s->len)
        or_micro_check(false, "socket round trip");
}

} // namespace

OR_MICRO_CASE(evbuffer_move_100B_x2, m100, move_op, teardown);
OR_MICRO_CASE(evbuffer_move_16KiB_x2, m16k, move_op, teardown);
OR_MICRO_CASE(evbuffer_move_1MiB_x2, m1m, move_op, teardown);
OR_MICRO_CASE(evbuffer_move_4KiB_of_64KiB_x2, m64k, move_part_op, teardown);
OR_MICRO_CASE(evbuffer_copy_16KiB, m16k, copy_op, teardown);
OR_MICRO_CASE(evbuffer_socketpair_write_read_100B, sock100, sock_op, teardown);
