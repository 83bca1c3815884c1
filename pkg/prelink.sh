#!/bin/sh
# pkg/prelink.sh IN.a OUT.a — the installed static library.
#
# cargo's staticlib is an archive of every object of the crate graph: the
# Rust standard library, rusqlite, the bundled LMDB (unprefixed mdb_*
# symbols) and, in the default build, the bundled SQLite. Linked as is, a
# program that also links another LMDB, another Rust static library or
# another SQLite gets clashing or, worse, silently interposed symbols (its
# own mdb_* calls served by our LMDB, or ours by its). So the installed
# archive holds ONE relocatable object instead:
#   1. ld -r of the whole archive;
#   2. every symbol made local except the public API: kvidx* and, when the
#      library contains SQLite (bundled build), sqlite3_*;
#   3. ld -r --gc-sections from those symbols, dropping unreachable code
#      (including references to SQLite functions newer than the system's,
#      in a system-SQLite build), and --strip-unneeded.
# The result links with the same flags, exports the same API and is about a
# tenth of the size. Needs GNU binutils (ld, objcopy, nm, ar); on systems
# without them (or not Linux) the archive is copied unchanged.
# OUT.a is only replaced when its content changes.
set -eu
in=$1
out=$2
LD=${LD:-ld}
OBJCOPY=${OBJCOPY:-objcopy}
NM=${NM:-nm}
AR=${AR:-ar}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kvidxkit-prelink.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

if [ "$(uname -s)" != Linux ] || ! command -v "$LD" >/dev/null || ! command -v "$OBJCOPY" >/dev/null \
   || ! "$LD" --version 2>/dev/null | grep -q 'GNU ld'; then
  echo "prelink.sh: no GNU ld/objcopy on this system: $out is cargo's archive, unchanged" >&2
  cp "$in" "$tmp/lib.a"
else
  # The public API the archive defines: the roots of the reachable code.
  "$NM" -g --defined-only "$in" 2>/dev/null \
    | awk '$2 ~ /^[A-Z]$/ && ($3 ~ /^kvidx/ || $3 ~ /^sqlite3_/) { print "-u " $3 }' | sort -u > "$tmp/roots"
  [ -s "$tmp/roots" ] || { echo "prelink.sh: no kvidx* symbol in $in" >&2; exit 1; }
  "$LD" -r -o "$tmp/all.o" --whole-archive "$in"
  # .llvmbc/.llvmcmd (embedded bitcode) and .llvm_addrsig do not survive
  # merging; keeping them would confuse tools (LLVM linker plugins).
  "$OBJCOPY" --wildcard --keep-global-symbol='kvidx*' --keep-global-symbol='sqlite3_*' \
    --remove-section=.llvmbc --remove-section=.llvmcmd --remove-section=.llvm_addrsig \
    "$tmp/all.o" "$tmp/public.o"
  # shellcheck disable=SC2046
  "$LD" -r --gc-sections $(cat "$tmp/roots") -o "$tmp/reachable.o" "$tmp/public.o"
  "$OBJCOPY" --strip-unneeded "$tmp/reachable.o" "$tmp/kvidxkit.o"
  (cd "$tmp" && "$AR" rcs lib.a kvidxkit.o)
fi
if ! cmp -s "$tmp/lib.a" "$out" 2>/dev/null; then
  mkdir -p "$(dirname "$out")"
  cp "$tmp/lib.a" "$out.tmp.$$"
  mv -f "$out.tmp.$$" "$out"
fi
