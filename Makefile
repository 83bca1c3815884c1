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

# ---- fuzzing (docs/fuzzing.md) ---------------------------------------------
#   make fuzz        every fuzz target for FUZZ_SECONDS (nightly toolchain;
#                    installs cargo-fuzz from crates.io if missing). New corpus
#                    inputs go to fuzz/corpus/<target>/, crashes to
#                    fuzz/artifacts/<target>/; make test replays both.
#   make fuzz-cmin   minimise the corpus of every target (keeps every edge covered)
FUZZ_SECONDS   ?= 60
FUZZ_TARGETS   ?= import_binary import_json import_csv ops
FUZZ_SANITIZER ?= none
FUZZ_FLAGS     ?=

.PHONY: fuzz fuzz-cmin fuzz-tool

fuzz-tool:
	@$(CARGO) +nightly fuzz --version >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked

fuzz: fuzz-tool
	cd fuzz && for t in $(FUZZ_TARGETS); do \
	  $(CARGO) +nightly fuzz run -O -s $(FUZZ_SANITIZER) $$t -- \
	    -max_total_time=$(FUZZ_SECONDS) -timeout=10 -print_final_stats=1 $(FUZZ_FLAGS) || exit 1; \
	done

fuzz-cmin: fuzz-tool
	cd fuzz && for t in $(FUZZ_TARGETS); do \
	  $(CARGO) +nightly fuzz cmin -O -s $(FUZZ_SANITIZER) $$t -- -use_counters=0 || exit 1; \
	done
