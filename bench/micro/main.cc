// or_micro: Google Benchmark over Outrider's hot paths (bench/micro/bench_*.cc).
//   or_micro [--benchmark_* flags]   time per operation (Google Benchmark)
//   or_micro --list                  case names
//   or_micro --ops N <name>          exactly N operations of one case inside or_micro_loop(), for
//                                    `valgrind --tool=callgrind --toggle-collect=or_micro_loop`
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench/micro/micro.h"

static std::vector<or_micro_case> &cases()
{
    static std::vector<or_micro_case> v;
    return v;
}

int or_micro_register(const or_micro_case &c)
{
    cases().push_back(c);
    return 0;
}

void or_micro_check(bool ok, const char *what)
{
    if (!ok) {
        std::fprintf(stderr, "or_micro: %s failed\n", what);
        std::abort();
    }
}

// The only function callgrind collects in --ops mode: its cost / n is the cost of one operation
// (plus the loop and the indirect call, a handful of instructions).
extern "C" __attribute__((noinline)) void or_micro_loop(const or_micro_case *c, void *state,
                                                        uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        c->op(state);
}

static const or_micro_case *find_case(const char *name)
{
    for (const or_micro_case &c : cases())
        if (std::strcmp(c.name, name) == 0)
            return &c;
    return nullptr;
}

int main(int argc, char **argv)
{
    if (argc == 2 && std::strcmp(argv[1], "--list") == 0) {
        for (const or_micro_case &c : cases())
            std::printf("%s\n", c.name);
        return 0;
    }
    if (argc == 4 && std::strcmp(argv[1], "--ops") == 0) {
        const or_micro_case *c = find_case(argv[3]);
        uint64_t n = std::strtoull(argv[2], nullptr, 10);
        if (c == nullptr || n == 0) {
            std::fprintf(stderr, "usage: or_micro --ops N <name> (see --list)\n");
            return 2;
        }
        void *st = c->setup();
        for (int i = 0; i < 100; i++) // warm: first-time allocations are not per-operation costs
            c->op(st);
        or_micro_loop(c, st, n);
        c->teardown(st);
        std::printf("%s: %llu operations\n", c->name, (unsigned long long)n);
        return 0;
    }
    for (const or_micro_case &c : cases()) {
        or_micro_case cc = c;
        benchmark::RegisterBenchmark(c.name, [cc](benchmark::State &s) {
            void *st = cc.setup();
            for (auto _ : s)
                cc.op(st);
            cc.teardown(st);
        });
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
