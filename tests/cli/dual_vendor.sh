#!/usr/bin/env bash
# A two-platform policy (all_of: sim + snp): accepted only when both items
# verify and bind the same report_data. The SNP item is a real GCP Milan report whose
# report_data binds an X25519 key; the simulated one is made here to bind the same report_data.
set -euo pipefail
C=${CINFER_BIN:-build}/cinfer
S=${CINFER_SRC:-.}
V=${CINFER_VECTORS:-$S/../shared/vectors}
export CINFER_ROOTS=$S/data/roots
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
AT=2026-01-04T09:42:54Z
fails=0; passes=0
expect() {
  local want=$1 pat=$2; shift 3
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  if [ "$rc" != "$want" ] || { [ -n "$pat" ] && ! grep -q -- "$pat" <<<"$out"; }; then
    echo "FAIL (exit $rc, wanted $want, pattern '$pat'): $*"; echo "$out" | tail -6; fails=$((fails+1))
  else passes=$((passes+1)); fi
}

/usr/bin/python3 - "$V" "$T" <<'PY'
import base64, json, sys
v, t = sys.argv[1], sys.argv[2]
rep = open(v + "/snp/gcp_milan_v5_x25519_bound_report.bin", "rb").read()
cert = open(v + "/snp/gcp_milan_x25519_vcek.pem", "rb").read()
json.dump({"platform": "snp", "evidence": base64.b64encode(rep).decode(),
           "certs": [base64.b64encode(cert).decode()]}, open(t + "/snp.json", "w"))
open(t + "/rd.hex", "w").write(rep[0x50:0x90].hex())
open(t + "/snp_meas.hex", "w").write(rep[0x90:0xC0].hex())
PY
RD=$(cat "$T/rd.hex")
$C dev init "$T/sim" --valid-from 2025-12-01T00:00:00Z >/dev/null
SIMM=$(printf '11%.0s' $(seq 48))
$C attest --sim "$T/sim" --report-data "$RD" --measurement "$SIMM" --out "$T/sim.json"
$C attest --sim "$T/sim" --report-data "$(printf 'cd%.0s' $(seq 64))" --measurement "$SIMM" --out "$T/sim-other.json"
cat >"$T/dual.json" <<JSON
{"cinfer_policy": 1, "id": "dual", "platforms": {"all_of": ["sim", "snp"]},
 "allow_simulated": true, "allow_unchecked_revocation": true,
 "measurements": [{"platform": "sim", "value": "$SIMM"},
                  {"platform": "snp", "value": "$(cat "$T/snp_meas.hex")"}]}
JSON
D="$C verify --sim $T/sim --policy $T/dual.json --at $AT"
expect 0 "ACCEPTED" -- $D "$T/sim.json" "$T/snp.json" --report-data "$RD"
expect 0 '"decision": "accepted"' -- $D "$T/sim.json" "$T/snp.json" --report-data "$RD" --json
expect 1 "platform_missing" -- $D "$T/snp.json" --report-data "$RD"
expect 1 "report_data_differs" -- $D "$T/sim-other.json" "$T/snp.json" --report-data "$RD"
# Without allow_unchecked_revocation the SNP item (no AMD CRL given) is refused.
sed 's/ "allow_unchecked_revocation": true,//' "$T/dual.json" >"$T/dual-strict.json"
expect 1 "revocation_unchecked" -- $C verify --sim "$T/sim" --policy "$T/dual-strict.json" --at "$AT" "$T/sim.json" "$T/snp.json" --report-data "$RD"
expect 1 "report_data_mismatch" -- $D "$T/sim.json" "$T/snp.json" --report-data "$(printf 'ab%.0s' $(seq 64))"
# A broken item makes the whole set fail authenticity.
/usr/bin/python3 - "$T" <<'PY'
import base64, json, sys
t = sys.argv[1]
d = json.load(open(t + "/snp.json")); r = bytearray(base64.b64decode(d["evidence"])); r[0x90] ^= 1
d["evidence"] = base64.b64encode(bytes(r)).decode(); json.dump(d, open(t + "/snp-bad.json", "w"))
PY
expect 1 "not authentic" -- $D "$T/sim.json" "$T/snp-bad.json" --report-data "$RD"
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
