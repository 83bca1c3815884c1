#!/bin/sh
# Compiles and runs C test programs against the static and the shared
# library built by `cargo build --release`. Usage: tests-c/run.sh [name...]
# (default: every tests-c/*.c). The cargo test driver (tests/c_programs.rs)
# does the same for `make test`. With VALGRIND=1 each program runs under
# valgrind memcheck (errors and definite leaks fail it): `make valgrind`.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
lib="$top/target/release"
out="$top/target/ctest"
mkdir -p "$out"
CC=${CC:-cc}
CFLAGS="-std=c99 -Wall -Wextra -pedantic -Werror -D_DEFAULT_SOURCE -O1 -g -I$top/include -I$top/tests-c"
names=${*:-$(cd "$top/tests-c" && ls *.c | sed 's/\.c$//')}
pass=0; fail=0
for n in $names; do
  for mode in static shared; do
    if [ $mode = static ]; then L="$lib/libkvidxkit.a -lm -lpthread -ldl"; else L="-L$lib -lkvidxkit -Wl,-rpath,$lib -lpthread"; fi
    exe="$out/$n-$mode"
    dir=$(mktemp -d "$out/$n-$mode.XXXXXX")
    run=""
    if [ "${VALGRIND:-0}" = 1 ]; then run="valgrind -q --error-exitcode=1 --leak-check=full --show-possibly-lost=no --errors-for-leak-kinds=definite"; fi
    if $CC $CFLAGS "$top/tests-c/$n.c" $L -o "$exe" && $run "$exe" "$dir" > "$dir.log" 2>&1; then
      pass=$((pass+1)); echo "PASS $n ($mode): $(tail -n 1 "$dir.log")"
    else
      fail=$((fail+1)); echo "FAIL $n ($mode)"; tail -n 30 "$dir.log"
    fi
    rm -rf "$dir"
  done
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
