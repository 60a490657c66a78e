#!/usr/bin/env bash
# The CI supply-chain gate. Rebuilds cinferd (tools/release.sh into a scratch
# folder), regenerates its SBOM, measurement and release policy, and fails when
#   (a) the SBOM's Debian dependency list differs from supply/sbom-deps.txt;
#   (b) the committed supply/release-policy.json is not a well-formed release
#       policy (lint, every pin names its build and SBOM), or, for a release
#       build (HEAD is exactly a tag, or --release), does not pin this very
#       build's measurement and SBOM digest;
#   (c) the attestation check fails: simulated evidence for the built cinferd
#       and its config must be ACCEPTED by the release policy, and evidence for
#       a different binary must be rejected with measurement_not_pinned.
# With --release-dir DIR --pub KEY it also checks a signed release: the
# signature over SHA256SUMS, every listed file, and that the rebuilt cinferd
# and SBOM are byte-identical to the released ones.
# docs/supply-chain.md explains what is gated and why.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
usage() {
  cat <<'EOF'
usage: tools/supply-check.sh [options]
  --bin DIR            use cinfer/cinferd built in DIR (default: rebuild in build-release)
  --out DIR            scratch release folder (default out/supply-check)
  --expected-deps FILE expected package=version list (default supply/sbom-deps.txt)
  --committed-policy F committed release policy (default supply/release-policy.json)
  --release            this is a release build: the committed policy must pin it
                       (automatic when HEAD is exactly an annotated tag)
  --policy FILE        run the attestation check against this policy instead
  --release-dir DIR    a published release to check against the rebuild ...
  --pub KEY            ... and the public key its SHA256SUMS.sig must verify with
  --sim DIR            simulated root of trust for (c) (default: a fresh `cinfer dev init`)
EOF
}
bin= out=out/supply-check deps=$src/supply/sbom-deps.txt committed=$src/supply/release-policy.json
release=auto policy= rdir= pub= sim=
while [ $# -gt 0 ]; do
  case $1 in
    --bin) bin=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --expected-deps) deps=$2; shift 2 ;;
    --committed-policy) committed=$2; shift 2 ;;
    --release) release=1; shift ;;
    --policy) policy=$2; shift 2 ;;
    --release-dir) rdir=$2; shift 2 ;;
    --pub) pub=$2; shift 2 ;;
    --sim) sim=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "supply-check: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
PY=/usr/bin/python3
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fails=0; passes=0
pass() { echo "supply-check: ok: $*"; passes=$((passes+1)); }
fail() { echo "supply-check: FAIL: $*"; fails=$((fails+1)); }

# Rebuild and regenerate. The scratch release policy pins only this build
# (the committed policy is judged on its own in (b)).
rel=(--out "$out" --grace-days 0 --policy "$T/none.json")
[ -z "$bin" ] || rel+=(--bin "$bin")
if ! "$src/tools/release.sh" "${rel[@]}" >"$T/release.log" 2>&1; then
  cat "$T/release.log"; echo "supply-check: FAIL: the release build failed"; exit 1
fi
out=$(cd "$out" && pwd)
[ -n "$bin" ] || bin=$src/build-release
C=$bin/cinfer
ver=$(cat "$out/build-id.txt"); M=$(cat "$out/measurement.txt"); S=$(cat "$out/sbom.sha256")
echo "supply-check: build $ver, measurement ${M:0:16}..., sbom ${S:0:16}..."
if [ "$release" = auto ]; then
  tag=$(git -C "$src" describe --exact-match 2>/dev/null || true)
  if [ -n "$tag" ] && [ "$tag" = "$ver" ]; then release=1; else release=0; fi
fi

# (a) The dependency set.
$PY "$src/tools/sbom.py" --deps "$out/sbom.spdx.json" >"$T/deps.txt"
if [ ! -f "$deps" ]; then
  fail "(a) no expected dependency list $deps"
elif diff -u --label "expected (${deps#"$src"/})" --label "built (SBOM of $ver)" "$deps" "$T/deps.txt" >"$T/deps.diff"; then
  pass "(a) SBOM dependencies match $(basename "$deps") ($(wc -l <"$T/deps.txt") Debian packages)"
else
  fail "(a) the SBOM's dependencies changed:"
  sed 's/^/    /' "$T/deps.diff"
  echo "    If this change is intended, accept it and commit the file:"
  echo "      /usr/bin/python3 tools/sbom.py --deps $out/sbom.spdx.json > ${deps#"$src"/}"
fi
# The SBOM describes the bytes it claims to.
if $PY - "$out" <<'PY'
import hashlib, json, sys
d = sys.argv[1]
doc = json.load(open(d + "/sbom.spdx.json"))
want = {"./cinferd": d + "/cinferd", "./cinferd.json": d + "/cinferd.json"}
got = {f["fileName"]: {c["algorithm"]: c["checksumValue"] for c in f["checksums"]}
       for f in doc["files"] if f["fileName"] in want}
ok = doc["spdxVersion"] == "SPDX-2.3" and set(got) == set(want)
for n, p in want.items():
    ok = ok and got.get(n, {}).get("SHA256") == hashlib.sha256(open(p, "rb").read()).hexdigest()
sys.exit(0 if ok else 1)
PY
then pass "(a) SBOM names the built cinferd and config by sha256"
else fail "(a) the SBOM does not describe the built cinferd/config"; fi

# (b) The committed release policy.
if [ ! -f "$committed" ]; then
  fail "(b) no committed release policy $committed"
elif ! "$C" policy lint "$committed" >"$T/lint" 2>&1; then
  fail "(b) $committed does not lint:"; sed 's/^/    /' "$T/lint"
else
  pass "(b) $(sed "s|^$src/||" "$T/lint")"
  if $PY - "$committed" "$ver" "$M" "$S" "$release" >"$T/pins" 2>&1 <<'PY'
import json, re, sys
path, ver, meas, sbom, release = sys.argv[1:6]
doc = json.load(open(path))
bad, mine = [], None
pins = [p for p in doc.get("measurements", [])]
if not doc.get("platforms", {}).get("any_of") or "sim" not in doc["platforms"]["any_of"]:
    bad.append('platforms.any_of must list "sim" (the measured launch is the simulated one)')
if not pins:
    bad.append("pins nothing")
for i, p in enumerate(pins):
    if isinstance(p, str):
        bad.append("pin %d is a bare value: no build provenance" % i); continue
    b = p.get("build", {})
    if not b.get("id") or not re.fullmatch(r"[0-9a-f]{64}", b.get("sbom_sha256", "")):
        bad.append("pin %d (%s...) does not name its build id and sbom_sha256" % (i, p["value"][:16]))
    if b.get("id") == ver and p.get("register", "measurement") == "measurement":
        mine = p
if mine is not None:
    if mine["value"].lower() != meas:
        bad.append("the pin for build %s has measurement %s..., this build measures %s..."
                   % (ver, mine["value"][:16], meas[:16]))
    if mine["build"].get("sbom_sha256") != sbom:
        bad.append("the pin for build %s names sbom %s..., this build's SBOM is %s..."
                   % (ver, mine["build"].get("sbom_sha256", "")[:16], sbom[:16]))
    if not bad:
        print("pins this build %s: measurement and sbom_sha256 match" % ver)
elif release == "1":
    bad.append("release build %s is not pinned (roll it: tools/release.sh --update)" % ver)
else:
    print("does not pin build %s (not a release build: the attestation check uses the "
          "regenerated policy)" % ver)
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
PY
  then pass "(b) committed policy $(cat "$T/pins")"
  else fail "(b) committed policy:"; sed 's/^/    /' "$T/pins"; fi
fi

# (c) Attestation: the built image must be accepted, another binary refused.
if [ -z "$policy" ]; then
  if [ "$release" = 1 ]; then policy=$committed; else policy=$out/release-policy.json; fi
fi
if [ -z "$sim" ]; then sim=$T/sim; "$C" dev init "$sim" >/dev/null; fi
RD=$(openssl rand -hex 64)
"$C" attest --sim "$sim" --report-data "$RD" --program "$out/cinferd" \
  --config "$out/cinferd.json" --out "$T/ev.json"
rc=0; "$C" verify --sim "$sim" "$T/ev.json" --policy "$policy" --report-data "$RD" >"$T/v1" 2>&1 || rc=$?
if [ $rc -eq 0 ] && grep -q ACCEPTED "$T/v1"; then
  pass "(c) evidence for cinferd $ver is ACCEPTED by $(basename "$policy")"
else
  fail "(c) evidence for the built cinferd is not accepted by $policy (exit $rc):"
  sed 's/^/    /' "$T/v1"
fi
cp "$out/cinferd" "$T/cinferd.other"; printf '\0' >>"$T/cinferd.other"
"$C" attest --sim "$sim" --report-data "$RD" --program "$T/cinferd.other" \
  --config "$out/cinferd.json" --out "$T/ev2.json"
rc=0; "$C" verify --sim "$sim" "$T/ev2.json" --policy "$policy" --report-data "$RD" >"$T/v2" 2>&1 || rc=$?
if [ $rc -eq 1 ] && grep -q measurement_not_pinned "$T/v2"; then
  pass "(c) evidence for a different binary is rejected (measurement_not_pinned)"
else
  fail "(c) evidence for a different binary was not rejected as unpinned (exit $rc)"
  sed 's/^/    /' "$T/v2"
fi

# A published, signed release must be exactly what the sources build.
if [ -n "$rdir" ]; then
  if [ -n "$pub" ]; then
    if openssl pkey -pubin -in "$pub" -noout -text 2>/dev/null | head -1 | grep -qi ED25519; then
      sig=(openssl pkeyutl -verify -pubin -inkey "$pub" -rawin -in "$rdir/SHA256SUMS" -sigfile "$rdir/SHA256SUMS.sig")
    else
      sig=(openssl dgst -sha256 -verify "$pub" -signature "$rdir/SHA256SUMS.sig" "$rdir/SHA256SUMS")
    fi
    if [ -f "$rdir/SHA256SUMS.sig" ] && "${sig[@]}" >/dev/null 2>&1; then
      pass "(release) SHA256SUMS signature verifies with $(basename "$pub")"
    else
      fail "(release) SHA256SUMS.sig does not verify with $pub"
    fi
  fi
  if (cd "$rdir" && sha256sum --quiet -c SHA256SUMS) >"$T/sums" 2>&1; then
    pass "(release) every file matches SHA256SUMS"
  else
    fail "(release) files differ from SHA256SUMS:"; sed 's/^/    /' "$T/sums"
  fi
  for f in cinferd cinferd.json sbom.spdx.json measurement.txt; do
    if cmp -s "$rdir/$f" "$out/$f"; then pass "(release) rebuilt $f is identical to the released one"
    else fail "(release) rebuilt $f differs from $rdir/$f (not reproducible from these sources)"; fi
  done
fi

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
