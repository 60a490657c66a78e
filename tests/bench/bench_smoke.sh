#!/usr/bin/env bash
# Smoke test of the runtime benchmark harness (bench/runtime.sh, issue 9):
# QUICK mode on the MLP only, both engines. Installs onnxruntime-node with npm
# (--ignore-scripts) into the build folder and fails loudly if that fails.
# Checks that both engines ran, their outputs agreed, and the table has a
# numeric cinfer/ORT ratio and geometric mean.
set -euo pipefail
src=${CINFER_SRC:?}
build=${CINFER_BIN:-$PWD}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
QUICK=1 MODELS=mlp timeout 120 bash "$src/bench/runtime.sh" "$build" >"$out" 2>&1 || {
  cat "$out"; echo "bench_smoke: harness failed" >&2; exit 1; }
cat "$out"
fail() { echo "bench_smoke: $*" >&2; exit 1; }
grep -q '^check mlp: ok' "$out" || fail "outputs of cinfer and ORT do not agree"
rows=$(grep -c '^| mlp |' "$out" || true)
[ "$rows" = 2 ] || fail "expected 2 mlp rows (1 and 2 threads), got $rows"
# columns: | model | threads | batch | cinfer ms | ORT ms | ratio | ...
awk -F'|' '/^\| mlp \|/ {
  for (i = 5; i <= 7; i++) { v = $i; gsub(/ /, "", v); if (v !~ /^[0-9]+\.[0-9]+$/ || v + 0 <= 0) bad = 1 }
  n++ } END { exit (n == 2 && !bad) ? 0 : 1 }' "$out" || fail "a latency or ratio cell is not a positive number"
grep -Eq '^geometric mean of cinfer/ORT ratios: [0-9]+\.[0-9]+ over 2 rows' "$out" ||
  fail "no numeric geometric mean"
echo "bench_smoke: ok"
