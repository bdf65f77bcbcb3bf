// Micro benchmark registry. Each case is a setup, an operation and a teardown, so the same code
// runs under Google Benchmark (time per operation) and under callgrind (instructions per
// operation: `or_micro --ops N <name>` runs exactly N operations inside or_micro_loop()).
#ifndef OR_BENCH_MICRO_H
#define OR_BENCH_MICRO_H

#include <cstdint>

// Our headers are C with no extern "C" guards of their own.
extern "C" {
#include <event2/buffer.h>

#include "proxy/core/arena.h"
#include "proxy/core/err.h"
#include "proxy/core/str.h"
#include "proxy/http/codec_h1.h"
#include "proxy/http/headers.h"
#include "proxy/router/route_table.h"
}

struct or_micro_case {
    const char *name;
    void *(*setup)();        // returns the case state (owned by the caller until teardown)
    void (*op)(void *state); // one operation; must leave the state ready for the next one
    void (*teardown)(void *state);
};

// Adds a case (called from static initialisers, one per case).
int or_micro_register(const or_micro_case &c);

// Aborts with a message when a call that cannot fail in a benchmark does.
void or_micro_check(bool ok, const char *what);

#define OR_MICRO_CASE(name, setup, op, teardown)                                                   \
    static const int or_micro_reg_##name = or_micro_register({#name, setup, op, teardown})

#endif
