#!/usr/bin/env bash
# Instructions per operation of the micro benchmark cases, counted by callgrind: exact and
# independent of the load of a shared machine (perf has no hardware counters here).
# Each case runs 100 warm-up operations, then OPS operations inside or_micro_loop(), the only
# function callgrind collects (its loop and indirect call add ~5 instructions per operation).
# Usage: bench/micro/callgrind.sh [case ...]   (default: every case; names from `or_micro --list`)
#   OR_MICRO=path (default build/or_micro), OPS=n (default 2000). The table also goes to
#   build/bench/callgrind.tsv and each profile to build/bench/callgrind/<case>.out, for
#   `callgrind_annotate --inclusive=yes` (OR_BENCH_OUT to change the directory).
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
MICRO=${OR_MICRO:-$here/build/or_micro}
OPS=${OPS:-2000}
OUT=${OR_BENCH_OUT:-$here/build/bench}
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind is not installed" >&2; exit 1; }
[ -x "$MICRO" ] || { echo "callgrind.sh: $MICRO is missing (make build)" >&2; exit 1; }
work=$(mktemp -d /tmp/or-callgrind.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$OUT/callgrind"

if [ $# -gt 0 ]; then cases=("$@"); else mapfile -t cases < <("$MICRO" --list); fi
printf "case\tops\tinstructions_per_op\n" > "$work/tsv"
printf "%-40s %14s\n" "case" "instr/op"
for c in "${cases[@]}"; do
  timeout 300 valgrind --tool=callgrind --collect-atstart=no --toggle-collect=or_micro_loop \
    --callgrind-out-file="$work/$c.out" "$MICRO" --ops "$OPS" "$c" > "$work/$c.log" 2>&1 || {
    echo "callgrind.sh: $c failed:" >&2; tail -5 "$work/$c.log" >&2; exit 1; }
  ir=$(awk '/^summary:/ {print $2}' "$work/$c.out")
  cp "$work/$c.out" "$OUT/callgrind/$c.out"
  per=$(awk -v ir="$ir" -v n="$OPS" 'BEGIN {printf "%.0f", ir / n}')
  printf "%-40s %14s\n" "$c" "$per"
  printf "%s\t%s\t%s\n" "$c" "$OPS" "$per" >> "$work/tsv"
done
cp "$work/tsv" "$OUT/callgrind.tsv"
echo "(written to $OUT/callgrind.tsv)"
