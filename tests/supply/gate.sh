#!/usr/bin/env bash
# tools/release.sh and the CI gate tools/supply-check.sh on the built cinferd:
# a consistent build passes; an extra shared-library dependency fails (a) with
# the diff and the accept command; a policy pinning another build or lacking
# provenance fails (b); a different binary fails the attestation check (c);
# a signed release verifies and a tampered one does not; and the measurement
# computed offline is the one a running cinferd proves.
set -euo pipefail
S=${CINFER_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
B=$(cd "${CINFER_BIN:-build}" && pwd)
PY=/usr/bin/python3
T=$(mktemp -d); pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fails=0; passes=0
check() { if eval "$2"; then passes=$((passes+1)); else echo "FAIL: $1"; fails=$((fails+1)); fi; }
gate() { local rc=0; "$S/tools/supply-check.sh" --out "$T/scratch" --sim "$T/sim" "$@" >"$T/gate.out" 2>&1 || rc=$?; echo $rc; }

# A release of the build under test; its outputs are the expectations.
"$B/cinfer" dev init "$T/sim" >/dev/null
openssl genpkey -algorithm ed25519 -out "$T/ed.key" 2>/dev/null
openssl pkey -in "$T/ed.key" -pubout -out "$T/ed.pub"
"$S/tools/release.sh" --bin "$B" --out "$T/rel" --policy "$T/none.json" --sign-key "$T/ed.key" >"$T/rel.log"
for f in cinferd cinferd.json sbom.spdx.json measurement.txt release-policy.json SHA256SUMS SHA256SUMS.sig; do
  check "release wrote $f" '[ -s "$T/rel/$f" ]'
done
M=$(cat "$T/rel/measurement.txt")
check "measurement.txt is cinfer measure of cinferd + config" \
  '[ "$M" = "$("$B/cinfer" measure --program "$B/cinferd" --config "$S/supply/cinferd.json")" ]'
check "the pin names build id and sbom digest" '$PY - "$T/rel" <<'"'"'PY'"'"'
import json, sys
d = sys.argv[1]
p = json.load(open(d + "/release-policy.json"))["measurements"][-1]
ok = p["value"] == open(d + "/measurement.txt").read().strip() and \
     p["build"]["id"] == open(d + "/build-id.txt").read().strip() and \
     p["build"]["sbom_sha256"] == open(d + "/sbom.sha256").read().strip()
sys.exit(0 if ok else 1)
PY'
$PY "$S/tools/sbom.py" --deps "$T/rel/sbom.spdx.json" >"$T/deps.txt"
cp "$T/rel/release-policy.json" "$T/committed.json"
E=(--expected-deps "$T/deps.txt" --committed-policy "$T/committed.json")

# 1. Everything consistent: the gate passes, also as a release build.
rc=$(gate --bin "$B" "${E[@]}")
check "consistent build passes the gate (exit $rc)" '[ "$rc" = 0 ] && grep -q "0 failed" "$T/gate.out"'
rc=$(gate --bin "$B" "${E[@]}" --release)
check "release mode: committed policy pins this build (exit $rc)" \
  '[ "$rc" = 0 ] && grep -q "pins this build" "$T/gate.out"'
[ "$rc" = 0 ] || cat "$T/gate.out"

# 2. The signed release is what these sources build; tampering is caught.
rc=$(gate --bin "$B" "${E[@]}" --release-dir "$T/rel" --pub "$T/ed.pub")
check "signed release verifies and rebuilds identically (exit $rc)" \
  '[ "$rc" = 0 ] && grep -q "signature verifies" "$T/gate.out" && grep -q "rebuilt cinferd is identical" "$T/gate.out"'
cp -r "$T/rel" "$T/rel2"; printf '{"listen": "0.0.0.0:1"}\n' >"$T/rel2/cinferd.json"
rc=$(gate --bin "$B" "${E[@]}" --release-dir "$T/rel2" --pub "$T/ed.pub")
check "a swapped config in the release fails (exit $rc)" \
  '[ "$rc" = 1 ] && grep -q "files differ from SHA256SUMS" "$T/gate.out" && grep -q "rebuilt cinferd.json differs" "$T/gate.out"'
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/ec.key" 2>/dev/null
openssl pkey -in "$T/ec.key" -pubout -out "$T/ec.pub"
rc=$(gate --bin "$B" "${E[@]}" --release-dir "$T/rel" --pub "$T/ec.pub")
check "another key's public half does not verify (exit $rc)" \
  '[ "$rc" = 1 ] && grep -q "SHA256SUMS.sig does not verify" "$T/gate.out"'
"$S/tools/release.sh" --bin "$B" --out "$T/rel3" --policy "$T/none.json" --sign-key "$T/ec.key" >/dev/null
check "ECDSA P-256 signature verifies" \
  'openssl dgst -sha256 -verify "$T/ec.pub" -signature "$T/rel3/SHA256SUMS.sig" "$T/rel3/SHA256SUMS" >/dev/null'
check "the same build releases the same SBOM bytes" 'cmp -s "$T/rel/sbom.spdx.json" "$T/rel3/sbom.spdx.json"'

# 3. An extra dependency: cinferd relinked with libcmocka.
mkdir -p "$T/bin2"
cp "$B/cinfer" "$T/bin2/"
sed 's/^\(CINFER_VERSION:[A-Z]*=.*\)$/\1-cmocka/' "$B/CMakeCache.txt" >"$T/bin2/CMakeCache.txt"
link=$(sed "s| -o cinferd | -o $T/bin2/cinferd |" "$B/CMakeFiles/cinferd.dir/link.txt")
(cd "$B" && eval "$link -Wl,--no-as-needed -lcmocka")
check "relinked cinferd needs libcmocka" 'readelf -d "$T/bin2/cinferd" | grep -q libcmocka'
rc=$(gate --bin "$T/bin2" "${E[@]}")
check "extra dependency fails the gate (exit $rc)" '[ "$rc" = 1 ] && grep -q "FAIL: (a) the SBOM.s dependencies changed" "$T/gate.out"'
check "the diff names the new package" 'grep -Eq "^ +\+libcmocka0=" "$T/gate.out"'
check "the accept command is printed" 'grep -q "tools/sbom.py --deps $T/scratch/sbom.spdx.json > $T/deps.txt" "$T/gate.out"'
[ "$rc" = 1 ] || cat "$T/gate.out"

# 4. A different binary against the shipped release policy: attestation fails.
rc=$(gate --bin "$T/bin2" "${E[@]}" --policy "$T/rel/release-policy.json")
check "different binary is refused by the release policy (exit $rc)" \
  '[ "$rc" = 1 ] && grep -q "FAIL: (c) evidence for the built cinferd is not accepted" "$T/gate.out" && grep -q measurement_not_pinned "$T/gate.out"'
rc=$(gate --bin "$T/bin2" "${E[@]}" --release)
check "release mode: a build the committed policy does not pin fails (b) and (c) (exit $rc)" \
  '[ "$rc" = 1 ] && grep -q "FAIL: (b) committed policy" "$T/gate.out" && grep -q "FAIL: (c)" "$T/gate.out"'

# 5. The committed policy must carry provenance and lint.
$PY - "$T/committed.json" "$T/noprov.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
del d["measurements"][-1]["build"]
json.dump(d, open(sys.argv[2], "w"), indent=2)
PY
rc=$(gate --bin "$B" --expected-deps "$T/deps.txt" --committed-policy "$T/noprov.json")
check "a pin without build provenance fails (b) (exit $rc)" \
  '[ "$rc" = 1 ] && grep -q "does not name its build id and sbom_sha256" "$T/gate.out"'
sed 's/"allow_debug"/"allow_debugger"/' "$T/committed.json" >"$T/typo.json"
rc=$(gate --bin "$B" --expected-deps "$T/deps.txt" --committed-policy "$T/typo.json")
check "a policy that does not lint fails (b) (exit $rc)" \
  '[ "$rc" = 1 ] && grep -q "does not lint" "$T/gate.out" && grep -q "allow_debugger" "$T/gate.out"'

# 6. Rolling a release: the old pin gets a grace end, the new one is added.
"$S/tools/release.sh" --bin "$T/bin2" --out "$T/rel4" --policy "$T/committed.json" --grace-days 7 \
  --days 90 >/dev/null
check "roll: old pin kept with a 7-day grace, new pin with a 90-day window" '$PY - "$T/rel4/release-policy.json" "$M" <<'"'"'PY'"'"'
import json, sys, time
ps = json.load(open(sys.argv[1]))["measurements"]
old = [p for p in ps if p["value"] == sys.argv[2]]
new = [p for p in ps if p["value"] != sys.argv[2]]
t = lambda s: time.mktime(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))
ok = len(old) == 1 and len(new) == 1 and 6.9 < (t(old[0]["not_after"]) - time.time()) / 86400 < 7.1 \
     and 89.9 < (t(new[0]["not_after"]) - t(new[0]["not_before"])) / 86400 < 90.1
sys.exit(0 if ok else 1)
PY'
RD=$(openssl rand -hex 64)
"$B/cinfer" attest --sim "$T/sim" --report-data "$RD" --program "$B/cinferd" --config "$S/supply/cinferd.json" --out "$T/old.json"
V=("$B/cinfer" verify --sim "$T/sim" "$T/old.json" --report-data "$RD" --policy "$T/rel4/release-policy.json")
check "old build accepted during the grace" '"${V[@]}" >/dev/null'
rc=0; out=$("${V[@]}" --at "$(date -u -d '+10 days' +%Y-%m-%dT%H:%M:%SZ)") || rc=$?
check "old build refused after the grace (measurement_expired, exit $rc)" '[ $rc -eq 1 ] && grep -q measurement_expired <<<"$out"'

# 7. The offline measurement is what a running cinferd proves.
cp "$T/rel/cinferd" "$T/rel/cinferd.json" "$T/"
"$T/cinferd" --config "$T/cinferd.json" --listen 127.0.0.1:0 --sim "$T/sim" --port-file "$T/port" 2>"$T/log" &
pid=$!
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.1; done
rc=0; out=$("$B/cinfer" attest "https://127.0.0.1:$(cat "$T/port")" --policy "$T/rel/release-policy.json" --sim "$T/sim") || rc=$?
check "running release cinferd is TRUSTED by the release policy (exit $rc)" '[ $rc -eq 0 ] && grep -q "TRUSTED" <<<"$out" && grep -q "$M" <<<"$out"'
[ $rc -eq 0 ] || { echo "$out"; tail -5 "$T/log"; }

# 8. Rolling a release through git: release --update, commit supply/ a day
# later, tag it with the build id. At the tag the gate is strict (the
# committed policy must pin this build) and passes: supply/ is not compiled
# and the SBOM's date and sources ignore it.
R=$T/repo
git clone -q "$S" "$R"
ver=$(cat "$T/rel/build-id.txt")
"$R/tools/release.sh" --bin "$B" --out "$T/relR" --update >/dev/null
check "release --update wrote supply/" '! git -C "$R" diff --quiet -- supply'
when=$(( $(git -C "$R" log -1 --format=%ct) + 86400 ))
GIT_COMMITTER_DATE="$when +0000" GIT_AUTHOR_DATE="$when +0000" \
  git -C "$R" -c user.name=ci -c user.email=ci@invalid commit -qam "supply: release $ver"
git -C "$R" -c user.name=ci -c user.email=ci@invalid tag -f -a "$ver" -m "release $ver" >/dev/null 2>&1
rc=0; "$R/tools/supply-check.sh" --bin "$B" --out "$T/scratchR" --sim "$T/sim" >"$T/gateR.out" 2>&1 || rc=$?
check "at the release tag the gate is strict and passes (exit $rc)" \
  '[ $rc -eq 0 ] && grep -q "pins this build $ver" "$T/gateR.out"'
[ $rc -eq 0 ] || cat "$T/gateR.out"
check "the tag's SBOM is the released one" 'cmp -s "$T/relR/sbom.spdx.json" "$T/scratchR/sbom.spdx.json"'

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
