#!/usr/bin/env bash
# Builds cinfer twice, in two different folders, from the same sources and
# compares the sha256 of every program and the library. Exit 1 on any
# difference.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$src" log -1 --format=%ct 2>/dev/null || echo 0)}
export LC_ALL=C TZ=UTC
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ver=$(git -C "$src" describe --always --dirty 2>/dev/null || echo 0.1.0)
for n in a b; do
  # Copy the tree to two different paths so path leaks would show.
  mkdir -p "$tmp/$n/src-$n$n"
  (cd "$src" && git ls-files -z 2>/dev/null | xargs -0 -I{} cp --parents {} "$tmp/$n/src-$n$n/") \
    || cp -r "$src"/. "$tmp/$n/src-$n$n/"
  cmake -S "$tmp/$n/src-$n$n" -B "$tmp/$n/src-$n$n/build" -DCINFER_VERSION="$ver" >/dev/null
  cmake --build "$tmp/$n/src-$n$n/build" -j "$(nproc)" --target cinfer cinfer-kbs cinferd >/dev/null
done
status=0
for f in cinfer cinfer-kbs cinferd libcinfer.a; do
  a=$tmp/a/src-aa/build/$f; b=$tmp/b/src-bb/build/$f
  [ -e "$a" ] || { echo "repro: $f was not built"; status=1; continue; }
  ha=$(sha256sum "$a" | cut -d' ' -f1); hb=$(sha256sum "$b" | cut -d' ' -f1)
  if [ "$ha" = "$hb" ]; then echo "repro: $f $ha identical"
  else echo "repro: $f DIFFERS ($ha vs $hb)"; status=1; fi
done
exit $status
