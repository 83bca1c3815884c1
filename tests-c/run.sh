#!/bin/sh
# Compiles and runs C test programs against the static and the shared
# library. Usage: tests-c/run.sh [name...] (default: every tests-c/*.c).
# The cargo test driver (tests/c_programs.rs) does the same for `make test`.
#
# Environment:
#   VALGRIND=1   run each program under valgrind memcheck (errors and
#                definite leaks fail it): `make valgrind`
#   KVIDX_LIB    directory of libkvidxkit.a / libkvidxkit.so (default: the
#                libraries of `cargo build --release`, target/release)
#   KVIDX_STATIC_LIB  the static library (default: $KVIDX_LIB/libkvidxkit.a;
#                `make test-c` and `make valgrind` use the prelinked archive
#                that `make install` installs)
#   KVIDX_INCLUDE  directories of the headers, in -I order (default: include)
#   KVIDX_STATIC_LIBS  what a static link needs after libkvidxkit.a
#                (default: -lm -lpthread -ldl; a system-SQLite build adds
#                -lsqlite3)
#   KVIDX_SHARED_LIBS  what a shared link needs after -lkvidxkit (default:
#                -lpthread; with a system-SQLite build, programs that call
#                SQLite themselves link it themselves: -lsqlite3)
#   KVIDX_CFLAGS   more compiler flags (a RocksDB build: -DKVIDXKIT_HAS_ROCKSDB=1)
#   KVIDX_OUT    where programs and logs go (default: target/ctest)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
lib=${KVIDX_LIB:-$top/target/release}
static_lib=${KVIDX_STATIC_LIB:-$lib/libkvidxkit.a}
inc=${KVIDX_INCLUDE:-$top/include}
static_libs=${KVIDX_STATIC_LIBS:--lm -lpthread -ldl}
shared_libs=${KVIDX_SHARED_LIBS:--lpthread}
out=${KVIDX_OUT:-$top/target/ctest}
mkdir -p "$out"
CC=${CC:-cc}
CFLAGS="-std=c99 -Wall -Wextra -pedantic -Werror -D_DEFAULT_SOURCE -O1 -g -I$top/tests-c"
for d in $inc; do CFLAGS="$CFLAGS -I$d"; done
CFLAGS="$CFLAGS ${KVIDX_CFLAGS:-}"
# Programs linked with the shared library record its SONAME: give the
# build directory the file name the SONAME names (an install has it).
soname=$(sed -n 's/^abi-version *= *"\(.*\)"/libkvidxkit.so.\1/p' "$top/Cargo.toml")
if [ -f "$lib/libkvidxkit.so" ] && [ ! -e "$lib/$soname" ]; then ln -s libkvidxkit.so "$lib/$soname"; fi
names=${*:-$(cd "$top/tests-c" && ls *.c | sed 's/\.c$//')}
pass=0; fail=0
for n in $names; do
  for mode in static shared; do
    if [ $mode = static ]; then L="$static_lib $static_libs"; else L="-L$lib -lkvidxkit -Wl,-rpath,$lib $shared_libs"; fi
    exe="$out/$n-$mode"
    dir=$(mktemp -d "$out/$n-$mode.XXXXXX")
    run=""
    # --fair-sched=yes: valgrind runs one thread at a time; without a fair
    # hand-over, a thread spinning on the instance lock keeps the CPU from
    # the one holding it (threads.c: 243 s under valgrind, 15 s with it).
    if [ "${VALGRIND:-0}" = 1 ]; then export KVIDX_VALGRIND=1; run="valgrind -q --fair-sched=yes --error-exitcode=1 --leak-check=full --show-possibly-lost=no --errors-for-leak-kinds=definite"; fi
    if $CC $CFLAGS "$top/tests-c/$n.c" $L -o "$exe" && $run "$exe" "$dir" > "$dir.log" 2>&1; then
      pass=$((pass+1)); echo "PASS $n ($mode): $(tail -n 1 "$dir.log")"
    else
      fail=$((fail+1)); echo "FAIL $n ($mode)"; tail -n 30 "$dir.log" 2>/dev/null
    fi
    rm -rf "$dir"
  done
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
