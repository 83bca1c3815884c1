# kvidxkit — build, demo, tests, install.
#   make                  build libkvidxkit.a / libkvidxkit.so and the headers, the
#                         kvidx tool, run the demo
#   make cli              the kvidx command-line tool alone (kvidx/, docs/cli.md)
#   make test             every test that needs only Rust and a C compiler (the
#                         cookbook suite too when the cookbook is found), and
#                         the kvidx tool's
#   make test-cookbook    the cookbook suite; fails without the cookbook
#                         (../shared/seeds/cookbook.md or KVIDX_COOKBOOK=path)
#   make valgrind         every C test program under valgrind memcheck
#   make test-packaging   install into scratch trees and build consumers with
#                         pkg-config and CMake (needs cmake, pkg-config,
#                         libsqlite3-dev, liblmdb-dev; see tests/packaging.sh)
#   make install          PREFIX=/usr/local DESTDIR= LIBDIR=$(PREFIX)/lib INCLUDEDIR=$(PREFIX)/include
#                         BINDIR=$(PREFIX)/bin MANDIR=$(PREFIX)/share/man
#   make uninstall        the same variables
#   make SQLITE=system …  link the system SQLite (>= 3.40) instead of the bundled
#                         one; builds in target/system-sqlite
#   make ROCKSDB=1 …      add the RocksDB engine (links the system librocksdb;
#                         Debian: librocksdb-dev); builds in target/rocksdb
#                         (target/system-sqlite-rocksdb with SQLITE=system), and
#                         test, test-c, valgrind, stress, bench, lint, doc,
#                         install then work on that build
#   make stress          the reliability suite at length (crash loop, thread
#                         stress, damage sweep)
#   make doc              the Rust API documentation (target/doc/kvidxkit), any
#                         rustdoc warning fails
#   make package          cargo package: the crate as published, built from
#                         the package
#   make bench           BENCH_ARGS='--quick lmdb' for a short run of one engine
#   make lint | clean
CARGO ?= cargo
CC    ?= cc
SQLITE ?= bundled
ROCKSDB ?= 0
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=

# One version number, Cargo.toml's; the ABI version (the original's SONAME)
# is beside it, in [package.metadata.kvidxkit].
VERSION := $(shell sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n 1)
ABI     := $(shell sed -n 's/^abi-version *= *"\(.*\)"/\1/p' Cargo.toml)
SONAME  := libkvidxkit.so.$(ABI)

# What the static library needs after it (rustc --print native-static-libs).
RUST_LIBS := -lgcc_s -lutil -lrt -lpthread -lm -ldl
ifeq ($(SQLITE),bundled)
TARGET_DIR := target
FEATURES :=
CLI_FEATURES :=
SQLITE_HEADERS := include/sqlite3.h include/sqlite3ext.h
REQUIRES_PRIVATE :=
REQUIRES :=
STATIC_LIBS := -lm -lpthread -ldl
SHARED_LIBS := -lpthread
else ifeq ($(SQLITE),system)
TARGET_DIR := target/system-sqlite
FEATURES := --no-default-features --features capi,system-sqlite
CLI_FEATURES := --no-default-features --features system-sqlite
SQLITE_HEADERS :=
REQUIRES_PRIVATE := Requires.private: sqlite3
REQUIRES := Requires: sqlite3
STATIC_LIBS := -lsqlite3 -lm -lpthread -ldl
SHARED_LIBS := -lsqlite3 -lpthread
else
$(error SQLITE is bundled or system, not "$(SQLITE)")
endif

# The RocksDB build: its own target directory, the feature, the system
# RocksDB (and the C++ runtime it needs) after a static link, the macro
# under which kvidxkit.h declares kvidxInterfaceRocksdb, its header.
ifeq ($(ROCKSDB),1)
TARGET_DIR := $(if $(filter target,$(TARGET_DIR)),target/rocksdb,$(TARGET_DIR)-rocksdb)
FEATURES += --features rocksdb
STATIC_LIBS := -lrocksdb -lstdc++ $(STATIC_LIBS)
ROCKSDB_LIBS := -lrocksdb -lstdc++
ROCKSDB_CFLAGS := -DKVIDXKIT_HAS_ROCKSDB=1
ROCKSDB_DEFINES := ;KVIDXKIT_HAS_ROCKSDB=1
ENGINES := SQLite3, LMDB and RocksDB
# The kvidx tool on the same build of the library (it opens SQLite3 and LMDB
# stores only).
CLI_FEATURES += --features rocksdb
# cargo test/bench of this build (the default build's commands stay as they are).
BUILD_CARGO := CARGO_TARGET_DIR=$(TARGET_DIR) $(CARGO)
BUILD_FEATURES := $(FEATURES)
BUILD_CLI_FEATURES := $(CLI_FEATURES)
else ifeq ($(ROCKSDB),0)
ROCKSDB_LIBS :=
ROCKSDB_CFLAGS :=
ROCKSDB_DEFINES :=
ENGINES := SQLite3 and LMDB
BUILD_CARGO := $(CARGO)
BUILD_FEATURES :=
BUILD_CLI_FEATURES :=
else
$(error ROCKSDB is 0 or 1, not "$(ROCKSDB)")
endif

LIB  := $(TARGET_DIR)/release
# What `make install` installs, staged: the prelinked archive, the headers.
DIST := $(TARGET_DIR)/dist
# kvidxkitAdapterRocksdb.h declares functions only a RocksDB build has.
HEADERS := $(filter-out $(if $(filter 1,$(ROCKSDB)),,include/kvidxkitAdapterRocksdb.h),$(wildcard include/kvidxkit*.h))
OUT  := $(TARGET_DIR)/demo
CFLAGS := -std=c99 -Wall -Wextra -pedantic -Werror -O2 -I$(DIST)/include/kvidxkit $(ROCKSDB_CFLAGS)

CMAKEDIR := $(LIBDIR)/cmake/kvidxkit
PCDIR    := $(LIBDIR)/pkgconfig

.PHONY: all lib cli demo test test-features test-cookbook test-c test-packaging valgrind stress bench lint doc package clean install uninstall

all: lib cli demo

lib:
	CARGO_TARGET_DIR=$(TARGET_DIR) $(CARGO) build --release $(FEATURES)
	@# A program linked with the shared library needs the file its SONAME names.
	@ln -sf libkvidxkit.so $(LIB)/$(SONAME)
	pkg/prelink.sh $(LIB)/libkvidxkit.a $(DIST)/libkvidxkit.a
	@rm -rf $(DIST)/include && mkdir -p $(DIST)/include/kvidxkit
	@cp $(HEADERS) $(SQLITE_HEADERS) $(DIST)/include/kvidxkit/

# The kvidx tool (a package of its own: its crates are not the library's).
cli:
	CARGO_TARGET_DIR=$(TARGET_DIR) $(CARGO) build --release -p kvidx $(CLI_FEATURES)

demo: lib
	@mkdir -p $(OUT)
	$(CC) $(CFLAGS) examples/demo.c $(DIST)/libkvidxkit.a $(STATIC_LIBS) -o $(OUT)/demo
	@rm -f $(OUT)/demo.sqlite3*
	$(OUT)/demo $(OUT)/demo.sqlite3

test:
	$(BUILD_CARGO) test --release --doc $(BUILD_FEATURES)
	$(BUILD_CARGO) test --release --lib $(BUILD_FEATURES)
	$(BUILD_CARGO) test --release --tests $(BUILD_FEATURES)
	$(BUILD_CARGO) test --release -p kvidx $(BUILD_CLI_FEATURES)

# The Rust API with one engine and no C API (the feature sets a Rust program
# may choose), each in its own target directory.
test-features:
	CARGO_TARGET_DIR=target/features $(CARGO) test --release --no-default-features --features lmdb --tests
	CARGO_TARGET_DIR=target/features $(CARGO) test --release --no-default-features --features sqlite,bundled-sqlite --tests

test-cookbook:
	KVIDX_REQUIRE_COOKBOOK=1 $(BUILD_CARGO) test --release --test cookbook $(BUILD_FEATURES)

# The C programs alone, outside cargo, against this build's libraries.
test-c: lib
	KVIDX_LIB=$(CURDIR)/$(LIB) KVIDX_STATIC_LIB=$(CURDIR)/$(DIST)/libkvidxkit.a KVIDX_INCLUDE=$(CURDIR)/$(DIST)/include/kvidxkit \
	  KVIDX_STATIC_LIBS="$(STATIC_LIBS)" KVIDX_SHARED_LIBS="$(SHARED_LIBS)" KVIDX_CFLAGS="$(ROCKSDB_CFLAGS)" \
	  KVIDX_OUT=$(CURDIR)/$(TARGET_DIR)/ctest tests-c/run.sh

# Every C test program under valgrind memcheck, static and shared (errors
# and definite leaks fail; asan_ctas.c is the 1 MiB-value primitives case).
valgrind: lib
	KVIDX_LIB=$(CURDIR)/$(LIB) KVIDX_STATIC_LIB=$(CURDIR)/$(DIST)/libkvidxkit.a KVIDX_INCLUDE=$(CURDIR)/$(DIST)/include/kvidxkit \
	  KVIDX_STATIC_LIBS="$(STATIC_LIBS)" KVIDX_SHARED_LIBS="$(SHARED_LIBS)" KVIDX_CFLAGS="$(ROCKSDB_CFLAGS)" \
	  KVIDX_OUT=$(CURDIR)/$(TARGET_DIR)/ctest VALGRIND=1 tests-c/run.sh

test-packaging:
	tests/packaging.sh

# The reliability suite at length (KVIDX_STRESS=1): 500 crash-loop trials per
# engine and sync setting, 30 s of thread stress per engine and library, and
# the larger damaged-storage sweep; `make test` runs each briefly.
stress:
	KVIDX_STRESS=1 $(BUILD_CARGO) test --release --tests $(BUILD_FEATURES)

BENCH_ARGS ?=
bench:
	$(BUILD_CARGO) bench --bench kvidx_bench $(BUILD_FEATURES) -- $(BENCH_ARGS)

lint: doc
	$(CARGO) fmt --all --check
	$(BUILD_CARGO) clippy --release --all-targets $(BUILD_FEATURES) -- -D warnings
	$(BUILD_CARGO) clippy --release -p kvidx --all-targets $(BUILD_CLI_FEATURES) -- -D warnings

doc:
	RUSTDOCFLAGS="-D warnings" $(BUILD_CARGO) doc --no-deps $(BUILD_FEATURES)

package:
	$(CARGO) package

clean:
	$(CARGO) clean

# ---------------------------------------------------------------------------
# Installation. Headers go to $(INCLUDEDIR)/kvidxkit/ (the bundled build adds
# its sqlite3.h there, where it cannot shadow the system's for programs that
# do not use kvidxkit); kvidxkit.pc and the CMake package point there.

PC_LIBDIR := $(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))
PC_INCDIR := $(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))
FILL = sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@ABI@|$(ABI)|g' -e 's|@SQLITE@|$(SQLITE)|g' \
	-e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(PC_LIBDIR)|g' -e 's|@INCLUDEDIR@|$(PC_INCDIR)|g' \
	-e 's|@REQUIRES_PRIVATE@|$(REQUIRES_PRIVATE)|g' -e 's|@REQUIRES@|$(REQUIRES)|g' \
	-e 's|@LIBS_PRIVATE@|$(strip $(ROCKSDB_LIBS) $(RUST_LIBS))|g' -e 's|@ROCKSDB_CFLAGS@|$(if $(ROCKSDB_CFLAGS), $(ROCKSDB_CFLAGS),)|g' \
	-e 's|@ROCKSDB_DEFINES@|$(ROCKSDB_DEFINES)|g' -e 's|@ENGINES@|$(ENGINES)|g' -e 's|@ROCKSDB@|$(ROCKSDB)|g' \
	-e 's|@VERSION_MAJOR_MINOR@|$(basename $(VERSION))|g' \
	-e "s|@CMAKEDIR_TO_LIBDIR@|$$(realpath -m --relative-to=$(CMAKEDIR) $(LIBDIR))|g" \
	-e "s|@CMAKEDIR_TO_INCLUDEDIR@|$$(realpath -m --relative-to=$(CMAKEDIR) $(INCLUDEDIR))|g"

install: lib cli
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR)/kvidxkit $(DESTDIR)$(PCDIR) $(DESTDIR)$(CMAKEDIR)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 $(LIB)/kvidx $(DESTDIR)$(BINDIR)/kvidx
	$(LIB)/kvidx manpage > $(DESTDIR)$(MANDIR)/man1/kvidx.1 && chmod 644 $(DESTDIR)$(MANDIR)/man1/kvidx.1
	install -m 644 $(DIST)/libkvidxkit.a $(DESTDIR)$(LIBDIR)/libkvidxkit.a
	install -m 755 $(LIB)/libkvidxkit.so $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libkvidxkit.so
	install -m 644 $(DIST)/include/kvidxkit/*.h $(DESTDIR)$(INCLUDEDIR)/kvidxkit/
	$(FILL) pkg/kvidxkit.pc.in | sed '/^Version:/{n;/^$$/d;}' > $(DESTDIR)$(PCDIR)/kvidxkit.pc
	$(FILL) pkg/kvidxkit-static.pc.in | sed '/^Version:/{n;/^$$/d;}' > $(DESTDIR)$(PCDIR)/kvidxkit-static.pc
	$(FILL) pkg/kvidxkitConfig.cmake.in > $(DESTDIR)$(CMAKEDIR)/kvidxkitConfig.cmake
	$(FILL) pkg/kvidxkitConfigVersion.cmake.in > $(DESTDIR)$(CMAKEDIR)/kvidxkitConfigVersion.cmake
	chmod 644 $(DESTDIR)$(PCDIR)/kvidxkit.pc $(DESTDIR)$(PCDIR)/kvidxkit-static.pc $(DESTDIR)$(CMAKEDIR)/*.cmake
	@echo "installed kvidxkit $(VERSION) ($(SQLITE) SQLite) into $(DESTDIR)$(PREFIX); run ldconfig if $(LIBDIR) is a system library directory"

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/kvidx $(DESTDIR)$(MANDIR)/man1/kvidx.1
	rm -f $(DESTDIR)$(LIBDIR)/libkvidxkit.a $(DESTDIR)$(LIBDIR)/libkvidxkit.so $(DESTDIR)$(LIBDIR)/$(SONAME)
	rm -f $(DESTDIR)$(PCDIR)/kvidxkit.pc $(DESTDIR)$(PCDIR)/kvidxkit-static.pc
	rm -f $(DESTDIR)$(CMAKEDIR)/kvidxkitConfig.cmake $(DESTDIR)$(CMAKEDIR)/kvidxkitConfigVersion.cmake
	rm -f $(addprefix $(DESTDIR)$(INCLUDEDIR)/kvidxkit/,$(notdir $(HEADERS)) kvidxkitAdapterRocksdb.h sqlite3.h sqlite3ext.h)
	-rmdir $(DESTDIR)$(INCLUDEDIR)/kvidxkit $(DESTDIR)$(CMAKEDIR) 2>/dev/null

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
