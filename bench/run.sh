#!/usr/bin/env bash
# `make bench`: every benchmark in bench/, one after another, on this machine.
# Usage: bench/run.sh [BUILD_DIR]
set -euo pipefail
B=${1:-build}
S=$(cd "$(dirname "$0")/.." && pwd)
export CINFER_VECTORS=${CINFER_VECTORS:-$S/../shared/vectors}
export CINFER_ROOTS=${CINFER_ROOTS:-$S/data/roots}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "date:    $(date -u +%Y-%m-%dT%H:%M:%SZ)  commit: $(git -C "$S" describe --always --dirty 2>/dev/null || echo ?)"
for b in "$B"/bench_*; do
  [ -x "$b" ] || continue
  echo
  echo "== $(basename "$b")"
  (cd "$S" && "$b")
done
for s in "$S"/bench/*.sh; do
  [ "$(basename "$s")" = run.sh ] && continue
  [ -x "$s" ] || continue
  echo
  echo "== $(basename "$s")"
  "$s" "$B"
done
