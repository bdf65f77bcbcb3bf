# The two commands of the README: `make run` and `make test`. Everything else is a helper of theirs.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc)
CONFIG     ?= docs/examples/default.yaml

.PHONY: deps build build-asan build-fuzz run test test-release test-asan test-fuzz bench micro format clean

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

$(ASAN_BUILD)/build.ninja:
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DOR_SANITIZE=ON

build-asan: deps $(ASAN_BUILD)/build.ninja
	cmake --build $(ASAN_BUILD) -j $(JOBS)

$(FUZZ_BUILD)/build.ninja:
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DOR_FUZZ=ON

build-fuzz: deps $(FUZZ_BUILD)/build.ninja
	cmake --build $(FUZZ_BUILD) -j $(JOBS)

run: build
	$(BUILD)/outrider -c $(CONFIG) --concurrency 2

test-release: build
	cd $(BUILD) && ctest --output-on-failure -j 2 --timeout 600

test-asan: build-asan
	cd $(ASAN_BUILD) && ctest --output-on-failure -j 2 --timeout 900

test-fuzz: build-fuzz
	cd $(FUZZ_BUILD) && ctest --output-on-failure -L fuzz -j 2 --timeout 300

test: test-release test-asan test-fuzz

# Load benchmark beside nginx and HAProxy (docs/benchmarks.md); QUICK=1 make bench for < 2 minutes.
bench: build
	OUTRIDER=$(BUILD)/outrider BENCH_OUT=$(BUILD)/bench python3 bench/load/bench.py

# Micro benchmarks (Google Benchmark); MICRO_ARGS e.g. --benchmark_filter=route.
micro: build
	$(BUILD)/or_micro $(MICRO_ARGS)

format:
	clang-format -i $$(git ls-files '*.c' '*.h' '*.cc' | grep -v '^tests/fuzz/corpus')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
