#!/bin/sh
# Compiles and runs C test programs against the static and the shared
# library built by `cargo build --release`. Usage: tests-c/run.sh [name...]
# (default: every tests-c/*.c). The cargo test driver (tests/c_programs.rs)
# does the same for `make test`.
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
    if $CC $CFLAGS "$top/tests-c/$n.c" $L -o "$exe" && "$exe" "$dir" > "$dir.log" 2>&1; then
      pass=$((pass+1)); echo "PASS $n ($mode): $(tail -n 1 "$dir.log")"
    else
      fail=$((fail+1)); echo "FAIL $n ($mode)"; tail -n 30 "$dir.log"
    fi
    rm -rf "$dir"
  done
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
