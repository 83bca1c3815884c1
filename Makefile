# kvidxkit — build, demo, tests, benchmark.
#   make        build libkvidxkit.a / libkvidxkit.so and the headers, run the demo
#   make test   every test: Rust API, C programs (static and shared), cookbook, headers
#   make bench  benchmark against the raw engine (prints a table)
#   make stress the reliability suite at length (crash loop, thread stress, damage sweep)
CARGO ?= cargo
CC    ?= cc
LIB   := target/release
OUT   := target/demo
CFLAGS := -std=c99 -Wall -Wextra -pedantic -Werror -O2 -Iinclude
STATIC_LIBS := -lm -lpthread -ldl

.PHONY: all lib demo test test-c bench lint clean valgrind stress

all: lib demo

lib:
	$(CARGO) build --release

demo: lib
	@mkdir -p $(OUT)
	$(CC) $(CFLAGS) examples/demo.c $(LIB)/libkvidxkit.a $(STATIC_LIBS) -o $(OUT)/demo
	@rm -f $(OUT)/demo.sqlite3*
	$(OUT)/demo $(OUT)/demo.sqlite3

test:
	$(CARGO) test --release --tests

# The C programs alone, outside cargo (uses the libraries built by `make lib`).
test-c: lib
	tests-c/run.sh

bench:
	$(CARGO) bench --bench kvidx_bench

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --release --all-targets -- -D warnings

clean:
	$(CARGO) clean

# Every C test program under valgrind memcheck, static and shared (slow;
# the large-value program also runs under valgrind in make test).
valgrind: lib
	VALGRIND=1 tests-c/run.sh

# The reliability suite at length (KVIDX_STRESS=1): 500 crash-loop trials per
# engine and sync setting, 30 s of thread stress per engine and library, and
# the larger damaged-storage sweep; `make test` runs each briefly.
stress:
	KVIDX_STRESS=1 $(CARGO) test --release --tests
