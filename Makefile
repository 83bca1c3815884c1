# kvidxkit — build, demo, tests, benchmark.
#   make        build libkvidxkit.a / libkvidxkit.so and the headers, run the demo
#   make test   every test: Rust API, C programs (static and shared), cookbook, headers
#   make bench  benchmark against the raw engine (prints a table)
CARGO ?= cargo
CC    ?= cc
LIB   := target/release
OUT   := target/demo
CFLAGS := -std=c99 -Wall -Wextra -pedantic -Werror -O2 -Iinclude
STATIC_LIBS := -lm -lpthread -ldl

.PHONY: all lib demo test test-c bench lint clean valgrind

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
