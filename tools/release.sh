#!/usr/bin/env bash
# Builds a cinferd release reproducibly and writes its supply-chain artefacts:
#   OUT/cinferd              the server binary
#   OUT/cinferd.json         the configuration it is launched with (measured too)
#   OUT/measurement.txt      its launch measurement (cinfer measure), 96 hex
#   OUT/sbom.spdx.json       SPDX 2.3 SBOM (tools/sbom.py); OUT/sbom.sha256 its digest
#   OUT/build-id.txt         the version compiled in (git describe)
#   OUT/release-policy.json  the release policy with a pin naming this build
#   OUT/SHA256SUMS           manifest of the files above; SHA256SUMS.sig with --sign-key
# docs/supply-chain.md explains each step and how to roll a release.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
usage() {
  cat <<'EOF'
usage: tools/release.sh [options]
  --out DIR          where to write the release (default out/release)
  --version V        build id compiled in (default: git describe --always --dirty)
  --build DIR        build folder (default build-release)
  --bin DIR          use cinfer and cinferd already built in DIR (its CMakeCache
                     names the version) instead of building
  --config FILE      launch configuration (default supply/cinferd.json)
  --policy FILE      policy to extend (default supply/release-policy.json, or a new one)
  --days N           the new pin is valid for N days from now (default: no end)
  --grace-days N     earlier pins with no end get not_after = now + N days (default 14;
                     0 leaves them open-ended)
  --update           write the new policy back to supply/release-policy.json and the
                     dependency list to supply/sbom-deps.txt (rolling a release)
  --sign-key KEY     sign SHA256SUMS with this Ed25519 or ECDSA private key (PEM)
EOF
}
out=out/release ver= bdir= bin= cfg=$src/supply/cinferd.json policy= days= grace=14 update=0 key=
while [ $# -gt 0 ]; do
  case $1 in
    --out) out=$2; shift 2 ;;
    --version) ver=$2; shift 2 ;;
    --build) bdir=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    --config) cfg=$2; shift 2 ;;
    --policy) policy=$2; shift 2 ;;
    --days) days=$2; shift 2 ;;
    --grace-days) grace=$2; shift 2 ;;
    --update) update=1; shift ;;
    --sign-key) key=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "release: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$src" log -1 --format=%ct 2>/dev/null || echo 0)}
export LC_ALL=C TZ=UTC
PY=/usr/bin/python3
say() { echo "release: $*"; }

# 1. The binaries.
if [ -n "$bin" ]; then
  bin=$(cd "$bin" && pwd)
  bv=$(sed -n 's/^CINFER_VERSION:[A-Z]*=//p' "$bin/CMakeCache.txt" 2>/dev/null || true)
  [ -n "$bv" ] || bv=$("$bin/cinfer" --version | awk '{print $2}')
  if [ -n "$ver" ] && [ "$ver" != "$bv" ]; then
    echo "release: $bin was built as version $bv, not $ver" >&2; exit 2
  fi
  ver=$bv
  if grep -q '^CINFER_SANITIZE:BOOL=ON' "$bin/CMakeCache.txt" 2>/dev/null; then
    say "note: $bin is a sanitizer build (not a shippable release)"
  fi
else
  [ -n "$ver" ] || ver=$(git -C "$src" describe --always --dirty 2>/dev/null || echo 0.1.0)
  bin=${bdir:-$src/build-release}
  say "building cinfer and cinferd $ver in $bin (SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH)"
  cmake -S "$src" -B "$bin" -DCINFER_VERSION="$ver" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCINFER_SANITIZE=OFF -DCINFER_FUZZ=OFF >/dev/null
  cmake --build "$bin" -j 2 --target cinfer cinferd >/dev/null
fi
C=$bin/cinfer
head=$(git -C "$src" describe --always --dirty 2>/dev/null || true)
case $ver in
  *-dirty) say "note: $ver is built from uncommitted changes: not a release anyone can rebuild" ;;
esac
if [ -n "$head" ] && [ "$head" != "$ver" ]; then
  say "note: build id $ver is not this checkout's git describe ($head); the SBOM lists this checkout's sources"
fi
for f in "$C" "$bin/cinferd" "$cfg"; do
  [ -f "$f" ] || { echo "release: missing $f" >&2; exit 2; }
done

# 2. The image and what describes it.
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out"/SHA256SUMS "$out"/SHA256SUMS.sig
install -m 0755 "$bin/cinferd" "$out/cinferd"
install -m 0644 "$cfg" "$out/cinferd.json"
printf '%s\n' "$ver" >"$out/build-id.txt"
M=$("$C" measure --program "$out/cinferd" --config "$out/cinferd.json")
printf '%s\n' "$M" >"$out/measurement.txt"
# The SBOM's date: the last commit that changed anything outside supply/, so
# committing a release's own artefacts (supply/) does not change its SBOM.
sbom_epoch=$(git -C "$src" log -1 --format=%ct -- . ':(exclude)supply' 2>/dev/null || true)
SOURCE_DATE_EPOCH=${sbom_epoch:-$SOURCE_DATE_EPOCH} \
  $PY "$src/tools/sbom.py" --program "$out/cinferd" --config "$out/cinferd.json" --version "$ver" \
  --src "$src" --out "$out/sbom.spdx.json"
S=$(sha256sum "$out/sbom.spdx.json" | cut -d' ' -f1)
printf '%s\n' "$S" >"$out/sbom.sha256"
say "cinferd $(sha256sum "$out/cinferd" | cut -d' ' -f1)"
say "measurement $M"
say "sbom sha256 $S"

# 3. The release policy: earlier pins get a grace end, this build gets a pin.
P=$out/release-policy.json
[ -n "$policy" ] || policy=$src/supply/release-policy.json
if [ -f "$policy" ]; then
  cp "$policy" "$P"
else
  "$C" policy init "$P" --id cinferd-release --platform sim --allow-simulated >/dev/null
fi
$PY - "$P" "$ver" "$M" "$grace" <<'PY'
import json, sys, time
path, ver, meas, grace = sys.argv[1], sys.argv[2], sys.argv[3].lower(), int(sys.argv[4])
doc = json.load(open(path))
end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + grace * 86400))
keep = []
for p in doc.get("measurements", []):
    if isinstance(p, str):
        p = {"value": p}
    if p.get("register", "measurement") == "measurement" and \
       (p["value"].lower() == meas or p.get("build", {}).get("id") == ver):
        continue                        # re-releasing this build: replaced below
    if grace > 0 and "not_after" not in p and p.get("register", "measurement") == "measurement":
        p["not_after"] = end            # grace for the previous release
    keep.append(p)
doc["measurements"] = keep
open(path, "w").write(json.dumps(doc, indent=2) + "\n")
PY
pin=("$C" policy pin "$P" --platform sim --measurement "$M" --build-id "$ver" --sbom-sha256 "$S"
     --comment "cinferd $ver (tools/release.sh)")
[ -z "$days" ] || pin+=(--days "$days")
"${pin[@]}" >/dev/null
"$C" policy lint "$P" | sed 's/^/release: /'

# 4. Manifest and signature.
(cd "$out" && sha256sum build-id.txt cinferd cinferd.json measurement.txt release-policy.json \
  sbom.sha256 sbom.spdx.json >SHA256SUMS)
if [ -n "$key" ]; then
  if openssl pkey -in "$key" -noout -text 2>/dev/null | head -1 | grep -qi 'ED25519'; then
    openssl pkeyutl -sign -inkey "$key" -rawin -in "$out/SHA256SUMS" -out "$out/SHA256SUMS.sig"
  else
    openssl dgst -sha256 -sign "$key" -out "$out/SHA256SUMS.sig" "$out/SHA256SUMS"
  fi
  say "signed SHA256SUMS -> SHA256SUMS.sig"
fi

# 5. Rolling a release: the committed expectations follow.
if [ "$update" = 1 ]; then
  cp "$P" "$src/supply/release-policy.json"
  $PY "$src/tools/sbom.py" --deps "$out/sbom.spdx.json" >"$src/supply/sbom-deps.txt"
  say "updated supply/release-policy.json and supply/sbom-deps.txt; review and commit them"
fi
say "wrote $out"
