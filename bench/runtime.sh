#!/usr/bin/env bash
# cinfer's ONNX runtime against ONNX Runtime, side by side (issue 9); run by
# bench/run.sh (`make bench`) with the build dir as $1.
# QUICK=1: ~1 minute smoke run; MODELS=a,b: a subset. See bench/runtime/harness.py.
set -euo pipefail
S=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "${1:-build}" && pwd)
exec /usr/bin/python3 "$S/bench/runtime/harness.py" "$B"
