#!/usr/bin/env bash
# Installs the Debian 12 packages cinfer needs, only those missing.
# Usage: tools/install-deps.sh [build|test|demo|fuzz|all]
set -euo pipefail
what=${1:-build}
pkgs=(build-essential cmake pkg-config libssl-dev libjansson-dev libcbor-dev
  libevent-dev libcurl4-openssl-dev libsqlite3-dev libcmocka-dev sqlite3 curl openssl
  python3 git)
case "$what" in
  test|all) pkgs+=(clang libonnx-testdata python3-onnx python3-numpy nodejs npm) ;;
esac
case "$what" in
  bench) pkgs+=(python3-onnx python3-numpy nodejs npm) ;;
esac
case "$what" in
  demo|all) pkgs+=(python3-onnx python3-numpy python3-sklearn) ;;
  fuzz) pkgs+=(clang) ;;
esac
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# node may come from elsewhere (Node 20 is preinstalled on some machines)
if command -v node >/dev/null && command -v npm >/dev/null; then
  keep=(); for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || keep+=("$p"); done
  missing=("${keep[@]}")
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "cinfer: missing Debian packages: ${missing[*]}" >&2
  echo "cinfer: run as root, or: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "cinfer: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
