#!/bin/sh
# make test-packaging: kvidxkit as users install and consume it.
#
#  bundled build (the default):
#   - make install into a DESTDIR: the exact tree, no DESTDIR inside the
#     installed files, no sqlite3.h where it would shadow the system's;
#     make uninstall removes everything
#   - make install into a prefix: SONAME, symlinks, the static archive's
#     global symbols (only kvidx* and sqlite3_*: no mdb_*, no Rust symbols)
#   - C programs built with pkg-config (shared and static) run; every
#     tests-c program passes against the installed static and shared library
#   - a program that links the system LMDB statically next to kvidxkit keeps
#     its own LMDB (and kvidxkit its own), whatever the link order
#   - find_package(kvidxkit) and add_subdirectory(kvidxkit) consumers build
#     and run (the original's target names)
#   - a program using SQLite itself and kvidxkit shares one SQLite
#  system-SQLite build (make SQLITE=system, in target/system-sqlite):
#   - installs no sqlite3.h, names sqlite3 in its pkg-config file, links
#     libsqlite3.so.0; every tests-c program passes; the one-SQLite program
#     runs on the system SQLite, linked shared and static; the Rust test
#     suite passes with the system-sqlite feature
#  RocksDB build (make ROCKSDB=1, in target/rocksdb), when librocksdb-dev is
#  installed:
#   - installs kvidxkitAdapterRocksdb.h, links librocksdb, exports
#     kvidxInterfaceRocksdb; its .pc and CMake files define
#     KVIDXKIT_HAS_ROCKSDB and name -lrocksdb -lstdc++ for static links
#   - pkg-config (shared and static), find_package(kvidxkit) and
#     add_subdirectory(kvidxkit) with KVIDXKIT_ENABLE_ROCKSDB=ON consumers
#     see three engines and run
#   - the default build installs no RocksDB header and exports no RocksDB
#     symbol
#  a clone of the repository in a folder with no ../shared: make && make test
#  (skipped with KVIDX_PACKAGING_SKIP_CLONE=1; it costs a full build)
#
# Needs: cargo, cc, cmake, pkg-config, GNU binutils, libsqlite3-dev,
# liblmdb-dev, git (and librocksdb-dev for the RocksDB part). Prints PASS/FAIL lines and a final count; exits non-zero
# on any failure.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
work=$top/target/packaging
rm -rf "$work"
mkdir -p "$work"
pkgdir=$top/tests/packaging
abi=$(sed -n 's/^abi-version *= *"\(.*\)"/\1/p' "$top/Cargo.toml")
soname=libkvidxkit.so.$abi
pass=0
fail=0
CC=${CC:-cc}
MAKE=${MAKE:-make}
cflags="-std=c99 -Wall -Wextra -pedantic -Werror -D_DEFAULT_SOURCE"

# check NAME COMMAND...: runs COMMAND (a shell function or program) with its
# output in a log; PASS or FAIL with the log's end.
n=0
check() {
  name=$1
  shift
  n=$((n + 1))
  log=$work/log.$n
  if "$@" > "$log" 2>&1; then
    pass=$((pass + 1))
    echo "PASS $name"
  else
    fail=$((fail + 1))
    echo "FAIL $name"
    tail -n 40 "$log" | sed 's/^/    /'
  fi
}

fresh_dir() { d=$(mktemp -d "$work/run.XXXXXX"); echo "$d"; }
sorted_tree() { (cd "$1" && find . \( -type f -o -type l \) | sort); }
# has_needed FILE NAME: FILE's dynamic section needs NAME exactly, or NAME's
# shared library of any version (librocksdb → librocksdb.so.7.8).
has_needed() { readelf -d "$1" | grep -qE "NEEDED.*\[$2(\.so[^]]*)?\]"; }

# ---------------------------------------------------------------------------
echo "== bundled SQLite build"
build_bundled() { cd "$top" && $MAKE lib; }
check "make lib (bundled)" build_bundled

destdir=$work/destdir
install_destdir() { cd "$top" && $MAKE install DESTDIR="$destdir" PREFIX=/usr/local; }
check "make install DESTDIR=... PREFIX=/usr/local" install_destdir
expected_tree() {
  cat <<EOF
./usr/local/bin/kvidx
./usr/local/include/kvidxkit/kvidxkit.h
./usr/local/include/kvidxkit/kvidxkitAdapterLmdb.h
./usr/local/include/kvidxkit/kvidxkitAdapterSqlite3.h
./usr/local/include/kvidxkit/kvidxkitConfig.h
./usr/local/include/kvidxkit/kvidxkitErrors.h
./usr/local/include/kvidxkit/kvidxkitExport.h
./usr/local/include/kvidxkit/kvidxkitIterator.h
./usr/local/include/kvidxkit/kvidxkitRegistry.h
./usr/local/include/kvidxkit/kvidxkitSchema.h
./usr/local/include/kvidxkit/kvidxkitTableDesc.h
./usr/local/include/kvidxkit/sqlite3.h
./usr/local/include/kvidxkit/sqlite3ext.h
./usr/local/lib/cmake/kvidxkit/kvidxkitConfig.cmake
./usr/local/lib/cmake/kvidxkit/kvidxkitConfigVersion.cmake
./usr/local/lib/libkvidxkit.a
./usr/local/lib/libkvidxkit.so
./usr/local/lib/$soname
./usr/local/lib/pkgconfig/kvidxkit-static.pc
./usr/local/lib/pkgconfig/kvidxkit.pc
./usr/local/share/man/man1/kvidx.1
EOF
}
tree_is_expected() {
  sorted_tree "$destdir" > "$work/tree.txt"
  expected_tree | diff -u - "$work/tree.txt"
}
check "installed tree is exactly the expected files" tree_is_expected
echo "   installed tree:"
(cd "$destdir" && find . \( -type f -o -type l \) | sort | while read -r f; do
  if [ -L "$f" ]; then echo "     $f -> $(readlink "$f")"; else echo "     $f ($(stat -c %a "$f"))"; fi
done)
no_destdir_inside() { ! grep -rl "$destdir" "$destdir/usr/local/lib/pkgconfig" "$destdir/usr/local/lib/cmake"; }
check "installed .pc and CMake files do not mention the DESTDIR" no_destdir_inside
no_shadowing() { [ ! -e "$destdir/usr/local/include/sqlite3.h" ] && [ -f "$destdir/usr/local/include/kvidxkit/sqlite3.h" ]; }
check "the bundled sqlite3.h is only in include/kvidxkit/ (shadows no system header)" no_shadowing
installed_tool_runs() {
  "$destdir/usr/local/bin/kvidx" --version | grep -q "^kvidx [0-9]" || return 1
  t=$(mktemp -d "$work/tool.XXXXXX")
  "$destdir/usr/local/bin/kvidx" put "$t/s.sqlite3" 0x2a hello >/dev/null &&
    [ "$("$destdir/usr/local/bin/kvidx" get "$t/s.sqlite3" 42)" = hello ] || return 1
  head -c 200 "$destdir/usr/local/share/man/man1/kvidx.1" | grep -q '^\.TH kvidx 1'
}
check "the installed kvidx runs (no library to find), its man page is roff" installed_tool_runs
uninstall_destdir() {
  cd "$top" && $MAKE uninstall DESTDIR="$destdir" PREFIX=/usr/local || return 1
  left=$(cd "$destdir" && find . \( -type f -o -type l \))
  [ -z "$left" ] || { echo "left behind: $left"; return 1; }
}
check "make uninstall removes every installed file" uninstall_destdir

prefix=$work/prefix
install_prefix() { cd "$top" && $MAKE install PREFIX="$prefix"; }
check "make install PREFIX=$prefix" install_prefix
lib=$prefix/lib
soname_is_set() {
  readelf -d "$lib/$soname" | grep SONAME
  readelf -d "$lib/$soname" | grep -q "SONAME.*\[$soname\]"
}
check "readelf -d: SONAME $soname" soname_is_set
symlinks_ok() { [ "$(readlink "$lib/libkvidxkit.so")" = "$soname" ] && [ -f "$lib/$soname" ] && [ ! -L "$lib/$soname" ]; }
check "libkvidxkit.so -> $soname" symlinks_ok
static_globals() {
  nm -g --defined-only "$lib/libkvidxkit.a" | awk 'NF == 3 { print $3 }' > "$work/globals.txt"
  others=$(grep -v -E '^(kvidx|sqlite3_)' "$work/globals.txt")
  [ -z "$others" ] || { echo "unexpected global symbols:"; echo "$others" | head -20; return 1; }
  nk=$(grep -c '^kvidx' "$work/globals.txt"); ns=$(grep -c '^sqlite3_' "$work/globals.txt")
  echo "kvidx*: $nk, sqlite3_*: $ns"
  [ "$nk" -ge 160 ] && [ "$ns" -ge 200 ] && grep -qx kvidxSqlite3ApplyConfig "$work/globals.txt" &&
    grep -qx kvidxSetError "$work/globals.txt" && ! grep -q '^mdb_' "$work/globals.txt"
}
check "libkvidxkit.a: only kvidx* and sqlite3_* are global (no mdb_*, no Rust symbols)" static_globals

export PKG_CONFIG_PATH="$lib/pkgconfig"
echo "   pkg-config --cflags --libs kvidxkit:        $(pkg-config --cflags --libs kvidxkit)"
echo "   pkg-config --cflags --libs kvidxkit-static: $(pkg-config --cflags --libs kvidxkit-static)"
echo "   pkg-config --static --libs kvidxkit:        $(pkg-config --static --libs kvidxkit)"
pc_shared() {
  d=$(fresh_dir)
  # shellcheck disable=SC2046
  $CC $cflags "$pkgdir/consumer.c" $(pkg-config --cflags --libs kvidxkit) \
    -Wl,-rpath,"$(pkg-config --variable=libdir kvidxkit)" -o "$d/consumer" || return 1
  has_needed "$d/consumer" "$soname" || { echo "no NEEDED $soname"; return 1; }
  "$d/consumer" "$d"
}
check "pkg-config --cflags --libs kvidxkit: shared consumer builds, records $soname, runs" pc_shared
pc_static() {
  d=$(fresh_dir)
  # shellcheck disable=SC2046
  $CC $cflags "$pkgdir/consumer.c" $(pkg-config --cflags --libs --static kvidxkit-static) -o "$d/consumer" || return 1
  ! readelf -d "$d/consumer" | grep -q libkvidxkit || { echo "linked the shared library"; return 1; }
  "$d/consumer" "$d"
}
check "pkg-config --static kvidxkit-static: static consumer builds without libkvidxkit.so, runs" pc_static
pc_private() {
  libs=$(pkg-config --static --libs kvidxkit)
  echo "$libs"
  for l in -lkvidxkit -lpthread -ldl -lm; do echo "$libs" | grep -q -- "$l" || return 1; done
}
check "pkg-config --static --libs kvidxkit names what the archive needs (Libs.private)" pc_private
installed_c_programs() {
  KVIDX_LIB="$lib" KVIDX_INCLUDE="$prefix/include/kvidxkit" KVIDX_OUT="$work/ctest-bundled" "$top/tests-c/run.sh"
}
check "every tests-c program (incl. per_engine, export's CSV case) against the installed libraries" installed_c_programs
one_sqlite_bundled() {
  d=$(fresh_dir)
  # shellcheck disable=SC2046
  $CC $cflags "$pkgdir/sqlite_shared.c" $(pkg-config --cflags --libs kvidxkit) -Wl,-rpath,"$lib" -o "$d/shared" &&
    "$d/shared" "$d" || return 1
  d=$(fresh_dir)
  # shellcheck disable=SC2046
  $CC $cflags "$pkgdir/sqlite_shared.c" $(pkg-config --cflags --libs kvidxkit-static) -o "$d/static" &&
    "$d/static" "$d"
}
check "SQLite API used directly and through kvidxSqlite3Handle: one (bundled) SQLite, shared and static" one_sqlite_bundled
system_header_unshadowed() {
  # A program that does not use kvidxkit but has the install's include
  # directory on its path still gets the system's sqlite3.h.
  d=$(fresh_dir)
  printf '#include <sqlite3.h>\n#include <stdio.h>\nint main(void) { puts(SQLITE_VERSION); return 0; }\n' > "$d/v.c"
  $CC -I"$prefix/include" "$d/v.c" -o "$d/v" && "$d/v" > "$d/out" || return 1
  sys=$(sed -n 's/^#define SQLITE_VERSION *"\(.*\)"/\1/p' /usr/include/sqlite3.h)
  echo "got $(cat "$d/out"), system $sys"
  [ "$(cat "$d/out")" = "$sys" ]
}
check "-I\$prefix/include does not shadow the system sqlite3.h" system_header_unshadowed
lmdb_no_clash() {
  d=$(fresh_dir)
  cat > "$d/app.c" <<'EOF'
#include <lmdb.h>
#include <stdio.h>
#include <string.h>
#include "kvidxkit.h"
int main(int argc, char **argv) {
    char path[4096];
    const char *err = NULL;
    kvidxInstance db;
    uint64_t n = 0;
    (void)argc;
    memset(&db, 0, sizeof db);
    printf("application's LMDB: %s\n", mdb_version(NULL, NULL, NULL));
    if (strcmp(mdb_version(NULL, NULL, NULL), MDB_VERSION_STRING) != 0) return 2;
    snprintf(path, sizeof path, "%s/env", argv[1]);
    db.interface = kvidxInterfaceLmdb;
    if (!kvidxOpen(&db, path, &err) || !kvidxInsert(&db, 1, 1, 1, "x", 1)) return 3;
    kvidxGetKeyCount(&db, &n);
    return kvidxClose(&db) && n == 1 ? 0 : 4;
}
EOF
  # shellcheck disable=SC2046
  $CC $cflags "$d/app.c" /usr/lib/x86_64-linux-gnu/liblmdb.a $(pkg-config --cflags --libs kvidxkit-static) -o "$d/a1" &&
    "$d/a1" "$(fresh_dir)" || return 1
  # shellcheck disable=SC2046
  $CC $cflags "$d/app.c" $(pkg-config --cflags --libs kvidxkit-static) /usr/lib/x86_64-linux-gnu/liblmdb.a -o "$d/a2" &&
    "$d/a2" "$(fresh_dir)"
}
check "static link with the system's liblmdb.a, both orders: each keeps its own LMDB" lmdb_no_clash

cmake_find_package() {
  b=$work/cmake-find-package
  cmake -S "$pkgdir/find_package" -B "$b" -DCMAKE_PREFIX_PATH="$prefix" &&
    cmake --build "$b" || return 1
  for t in static shared default; do d=$(fresh_dir); "$b/consumer-$t" "$d" || return 1; done
  ! readelf -d "$b/consumer-static" | grep -q libkvidxkit && has_needed "$b/consumer-shared" "$soname"
}
check "CMake find_package(kvidxkit): kvidxkit::kvidxkit-static / -library / kvidxkit::kvidxkit" cmake_find_package
cmake_subdirectory() {
  s=$work/subdirectory-src
  b=$work/subdirectory-build
  mkdir -p "$s" && cp "$pkgdir/subdirectory/CMakeLists.txt" "$s/" && cp "$pkgdir/consumer.c" "$work/" &&
    ln -s "$top" "$s/kvidxkit" || return 1
  # cargo's build directory of this checkout is reused (no second full build).
  cmake -S "$s" -B "$b" -DKVIDXKIT_CARGO_TARGET_DIR="$top/target" && cmake --build "$b" || return 1
  for t in static library; do d=$(fresh_dir); "$b/consumer-$t" "$d" || return 1; done
  ! readelf -d "$b/consumer-static" | grep -q libkvidxkit && has_needed "$b/consumer-library" "$soname" &&
    [ -f "$b/kvidxkit/kvidxkit/kvidxkit.so" ]
}
check "CMake add_subdirectory(kvidxkit) with the original's targets kvidxkit-static / kvidxkit-library" cmake_subdirectory
cmake_options() {
  b=$work/cmake-options
  ! cmake -S "$top" -B "$b" -DKVIDXKIT_ENABLE_SQLITE3=OFF -DKVIDXKIT_ENABLE_LMDB=OFF > "$b.log" 2>&1 &&
    grep -q "At least one adapter" "$b.log"
}
check "CMake: the original's rule that at least one adapter is enabled" cmake_options

# ---------------------------------------------------------------------------
echo "== system SQLite build (make SQLITE=system)"
build_system() { cd "$top" && $MAKE lib SQLITE=system; }
check "make lib SQLITE=system" build_system
sprefix=$work/prefix-system
install_system() { cd "$top" && $MAKE install SQLITE=system PREFIX="$sprefix"; }
check "make install SQLITE=system PREFIX=$sprefix" install_system
slib=$sprefix/lib
system_layout() {
  [ ! -e "$sprefix/include/kvidxkit/sqlite3.h" ] && [ ! -e "$sprefix/include/sqlite3.h" ] || { echo "sqlite3.h installed"; return 1; }
  has_needed "$slib/$soname" libsqlite3.so.0 || { echo "no NEEDED libsqlite3.so.0"; return 1; }
  readelf -d "$slib/$soname" | grep -q "SONAME.*\[$soname\]" || return 1
  ! nm -g --defined-only "$slib/libkvidxkit.a" | grep -q ' sqlite3_' || { echo "defines sqlite3_*"; return 1; }
  ! nm -D --defined-only "$slib/$soname" | grep -q ' sqlite3_' || { echo ".so defines sqlite3_*"; return 1; }
  grep -q '^Requires.private: sqlite3' "$slib/pkgconfig/kvidxkit.pc" &&
    grep -q '^Requires: sqlite3' "$slib/pkgconfig/kvidxkit-static.pc"
}
check "system build: no sqlite3.h installed, links libsqlite3.so.0, defines no sqlite3_*, .pc names sqlite3" system_layout
system_c_programs() {
  KVIDX_LIB="$slib" KVIDX_INCLUDE="$sprefix/include/kvidxkit" KVIDX_STATIC_LIBS="-lsqlite3 -lm -lpthread -ldl" \
    KVIDX_SHARED_LIBS="-lsqlite3 -lpthread" KVIDX_OUT="$work/ctest-system" "$top/tests-c/run.sh"
}
check "system build: every tests-c program against the installed static and shared library" system_c_programs
one_sqlite_system() {
  export PKG_CONFIG_PATH="$slib/pkgconfig"
  d=$(fresh_dir)
  # shellcheck disable=SC2046
  $CC $cflags "$pkgdir/sqlite_shared.c" $(pkg-config --cflags --libs kvidxkit sqlite3) -Wl,-rpath,"$slib" \
    -o "$d/shared" && "$d/shared" "$d" || return 1
  has_needed "$d/shared" libsqlite3.so.0 || return 1
  d=$(fresh_dir)
  # shellcheck disable=SC2046
  $CC $cflags "$pkgdir/sqlite_shared.c" $(pkg-config --cflags --libs kvidxkit-static) -o "$d/static" &&
    "$d/static" "$d" && has_needed "$d/static" libsqlite3.so.0
}
check "system build: the application's SQLite and kvidxkit's are the system's one (shared and static)" one_sqlite_system
export PKG_CONFIG_PATH="$lib/pkgconfig"
system_rust_tests() {
  cd "$top" && CARGO_TARGET_DIR=target/system-sqlite cargo test --release --no-default-features \
    --features capi,system-sqlite --tests > "$work/system-cargo-test.log" 2>&1 || {
    grep -E '^test .*FAILED|panicked' "$work/system-cargo-test.log" | head -20; return 1; }
  grep '^test result:' "$work/system-cargo-test.log" | awk '{ n += $4 } END { print n " tests passed" }'
}
check "system build: the whole Rust and C test suite (cargo test --features capi,system-sqlite)" system_rust_tests

# ---------------------------------------------------------------------------
default_has_no_rocksdb() {
  [ ! -e "$prefix/include/kvidxkit/kvidxkitAdapterRocksdb.h" ] || { echo "RocksDB header installed"; return 1; }
  ! nm -D --defined-only "$lib/$soname" | grep -q 'kvidx.*Rocksdb' || { echo "RocksDB symbols exported"; return 1; }
  ! has_needed "$lib/$soname" librocksdb || { echo "links librocksdb"; return 1; }
  ! grep -q ROCKSDB "$lib/pkgconfig/kvidxkit.pc" &&
    ! grep INTERFACE_COMPILE_DEFINITIONS "$prefix/lib/cmake/kvidxkit/kvidxkitConfig.cmake" | grep -q ROCKSDB
}
check "default build: no RocksDB header, symbol, library or definition" default_has_no_rocksdb

if [ -f /usr/include/rocksdb/c.h ]; then
  echo "== RocksDB build (make ROCKSDB=1, in target/rocksdb)"
  build_rocksdb() { cd "$top" && $MAKE lib ROCKSDB=1; }
  check "make lib ROCKSDB=1" build_rocksdb
  rprefix=$work/prefix-rocksdb
  install_rocksdb() { cd "$top" && $MAKE install ROCKSDB=1 PREFIX="$rprefix"; }
  check "make install ROCKSDB=1 PREFIX=$rprefix" install_rocksdb
  rlib=$rprefix/lib
  rocksdb_layout() {
    [ -f "$rprefix/include/kvidxkit/kvidxkitAdapterRocksdb.h" ] || { echo "no kvidxkitAdapterRocksdb.h"; return 1; }
    has_needed "$rlib/$soname" librocksdb || { echo "no NEEDED librocksdb"; return 1; }
    nm -D --defined-only "$rlib/$soname" | grep -q ' kvidxInterfaceRocksdb$' || { echo "no kvidxInterfaceRocksdb"; return 1; }
    nm -g --defined-only "$rlib/libkvidxkit.a" | grep -q ' kvidxRocksdbApplyConfig$' || { echo "archive: no kvidxRocksdb*"; return 1; }
    PKG_CONFIG_PATH="$rlib/pkgconfig" pkg-config --cflags kvidxkit | grep -q -- '-DKVIDXKIT_HAS_ROCKSDB=1' &&
      PKG_CONFIG_PATH="$rlib/pkgconfig" pkg-config --libs kvidxkit-static | grep -q -- '-lrocksdb -lstdc++' &&
      grep -q 'KVIDXKIT_HAS_ROCKSDB=1' "$rlib/cmake/kvidxkit/kvidxkitConfig.cmake"
  }
  check "RocksDB build: header, librocksdb, kvidxInterfaceRocksdb, KVIDXKIT_HAS_ROCKSDB and -lrocksdb in .pc/CMake" rocksdb_layout
  rocksdb_pc() {
    for pc in kvidxkit kvidxkit-static; do
      d=$(fresh_dir)
      # shellcheck disable=SC2046
      $CC $cflags "$pkgdir/consumer.c" $(PKG_CONFIG_PATH="$rlib/pkgconfig" pkg-config --cflags --libs $pc) \
        -Wl,-rpath,"$rlib" -o "$d/consumer" || return 1
      "$d/consumer" "$d" > "$d/out" || { cat "$d/out"; return 1; }
      grep -qx '3 engines' "$d/out" || { cat "$d/out"; return 1; }
    done
  }
  check "RocksDB build: pkg-config consumers (shared, static) see and use three engines" rocksdb_pc
  rocksdb_find_package() {
    b=$work/cmake-find-package-rocksdb
    cmake -S "$pkgdir/find_package" -B "$b" -DCMAKE_PREFIX_PATH="$rprefix" && cmake --build "$b" || return 1
    for t in static shared default; do
      d=$(fresh_dir); "$b/consumer-$t" "$d" > "$d/out" && grep -qx '3 engines' "$d/out" || { cat "$d/out"; return 1; }
    done
  }
  check "RocksDB build: CMake find_package(kvidxkit) consumers see three engines" rocksdb_find_package
  rocksdb_subdirectory() {
    s=$work/subdirectory-rocksdb-src
    b=$work/subdirectory-rocksdb-build
    mkdir -p "$s" && cp "$pkgdir/subdirectory/CMakeLists.txt" "$s/" && cp "$pkgdir/consumer.c" "$work/" &&
      ln -s "$top" "$s/kvidxkit" || return 1
    cmake -S "$s" -B "$b" -DKVIDXKIT_ENABLE_ROCKSDB=ON -DKVIDXKIT_CARGO_TARGET_DIR="$top/target/rocksdb" &&
      cmake --build "$b" || return 1
    for t in static library; do
      d=$(fresh_dir); "$b/consumer-$t" "$d" > "$d/out" && grep -qx '3 engines' "$d/out" || { cat "$d/out"; return 1; }
    done
  }
  check "RocksDB build: CMake add_subdirectory(kvidxkit) with KVIDXKIT_ENABLE_ROCKSDB=ON" rocksdb_subdirectory
else
  echo "== RocksDB build: not checked (no /usr/include/rocksdb/c.h: apt-get install librocksdb-dev)"
fi

# ---------------------------------------------------------------------------
if [ "${KVIDX_PACKAGING_SKIP_CLONE:-0}" = 1 ]; then
  # What a clone without ../shared changes is the cookbook's absence: the
  # suite must say it did not run and still pass.
  echo "== fresh clone: not cloned (KVIDX_PACKAGING_SKIP_CLONE=1); the cookbook's absence only"
  no_cookbook() {
    cd "$top" && env -u KVIDX_REQUIRE_COOKBOOK KVIDX_COOKBOOK="$work/no-such-cookbook.md" \
      cargo test --release --test cookbook > "$work/no-cookbook.log" 2>&1 || { tail -n 20 "$work/no-cookbook.log"; return 1; }
    grep "cookbook suite NOT RUN" "$work/no-cookbook.log" &&
      grep -q '^test result: ok\. 0 passed; 0 failed; [1-9][0-9]* not run (no cookbook)' "$work/no-cookbook.log"
  }
  check "without the cookbook: the cookbook suite reports NOT RUN and passes" no_cookbook
else
  echo "== a fresh clone in a folder with no ../shared (full build, a few minutes)"
  fresh_clone() {
    c=$work/elsewhere/kvidxkit
    mkdir -p "$work/elsewhere" && git clone -q "$top" "$c" || return 1
    [ ! -e "$work/elsewhere/shared" ] || return 1
    (cd "$c" && env -u KVIDX_COOKBOOK -u CARGO_TARGET_DIR $MAKE) || return 1
    (cd "$c" && env -u KVIDX_COOKBOOK -u CARGO_TARGET_DIR $MAKE test) > "$work/clone-test.log" 2>&1 || {
      tail -n 30 "$work/clone-test.log"; return 1; }
    grep "cookbook suite NOT RUN" "$work/clone-test.log" || return 1
    last=$(grep '^test result:' "$work/clone-test.log" | tail -n 1)
    echo "last line: $last"
    echo "$last" | grep -q '^test result: ok\. [1-9][0-9]* passed; 0 failed'
  }
  check "git clone into a folder without ../shared: make && make test pass (cookbook reported not run)" fresh_clone
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
