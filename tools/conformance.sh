#!/usr/bin/env bash
# Runs the ONNX backend conformance suite (node/ and simple/ of Debian's
# libonnx-testdata) against the runtime: `make conformance` calls this.
# Usage: tools/conformance.sh [BUILD_DIR] [FILTER]
set -euo pipefail
cd "$(dirname "$0")/.."
b=${1:-build}
[ -n "${2:-}" ] && export CINFER_CONFORMANCE_FILTER=$2
if [ -z "${CINFER_ONNX_TESTDATA:-}" ]; then
  d=$(dpkg -L libonnx-testdata 2>/dev/null | grep -m1 '/data/node$' || true)
  [ -n "$d" ] && export CINFER_ONNX_TESTDATA=${d%/node}
fi
cmake --build "$b" --target runtime_test_conformance -j2 >/dev/null
exec "$b/runtime_test_conformance"
