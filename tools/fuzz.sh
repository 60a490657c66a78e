#!/usr/bin/env bash
# Builds every fuzz/<target>.c with clang's libFuzzer (+ASan+UBSan) and runs
# each for N seconds from its corpus. Crashes are saved under build-fuzz/.
# Usage: tools/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}; shift || true
B=build-fuzz
CC=clang cmake -S . -B $B -DCINFER_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug -DCINFER_WERROR=OFF >/dev/null
cmake --build $B -j "$(nproc)" >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in fuzz/*.c; do targets+=("$(basename "$f" .c)"); done
fi
fail=0
for t in "${targets[@]}"; do
  corpus=fuzz/corpus/$t
  work=$B/corpus-$t
  mkdir -p "$work" "$B/crashes/$t"
  [ -d "$corpus" ] && cp -n "$corpus"/* "$work"/ 2>/dev/null || true
  printf 'fuzz %-20s %ss ... ' "$t" "$secs"
  if "$B/fuzz_$t" -max_total_time="$secs" -timeout=5 -rss_limit_mb=2048 -max_len=262144 \
      -artifact_prefix="$B/crashes/$t/" -print_final_stats=0 "$work" >"$B/fuzz-$t.log" 2>&1; then
    echo "ok ($(grep -c . <(ls "$work")) corpus files)"
  else
    echo "FAILED: see $B/fuzz-$t.log"; tail -30 "$B/fuzz-$t.log"; fail=1
  fi
done
exit $fail
