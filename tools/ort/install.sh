#!/usr/bin/env bash
# Installs the ONNX Runtime reference and the real models (tools/ort/
# package.json, versions pinned) into DIR/node_modules with
# `npm install --ignore-scripts`: onnxruntime-node ships its linux-x64
# binding in the tarball, so no postinstall download is needed.
# Usage: tools/ort/install.sh DIR. Fails loudly when npm cannot install.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:?usage: install.sh DIR}
mkdir -p "$dir"
cp "$here/package.json" "$dir/package.json"
if [ -f "$dir/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node" ] &&
   [ -f "$dir/node_modules/.cinfer-stamp" ] && cmp -s "$here/package.json" "$dir/node_modules/.cinfer-stamp"; then
  exit 0
fi
command -v npm >/dev/null || { echo "install.sh: npm not found (apt-get install npm)" >&2; exit 1; }
(cd "$dir" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error) || {
  echo "install.sh: npm install failed in $dir" >&2; exit 1; }
test -f "$dir/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node" || {
  echo "install.sh: onnxruntime-node has no linux-x64 binding" >&2; exit 1; }
cp "$here/package.json" "$dir/node_modules/.cinfer-stamp"
