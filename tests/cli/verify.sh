#!/usr/bin/env bash
# End-to-end CLI checks of `cinfer verify` on the simulated platform: one
# accepted case and each rejection reason on its own, with exit codes.
set -euo pipefail
C=${CINFER_BIN:-build}/cinfer
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fails=0; passes=0
ok()   { passes=$((passes+1)); }
bad()  { echo "FAIL: $*"; fails=$((fails+1)); }
expect() { # expect CODE GREP-PATTERN -- command...
  local want=$1 pat=$2; shift 3
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  if [ "$rc" != "$want" ]; then bad "exit $rc, wanted $want: $*"; echo "$out" | tail -5; return; fi
  if [ -n "$pat" ] && ! grep -q -- "$pat" <<<"$out"; then bad "no '$pat' in output of: $*"; echo "$out" | tail -5; return; fi
  ok
}

$C dev init "$T/sim" >/dev/null
$C dev init "$T/other" >/dev/null
RD=$(printf '5a%.0s' $(seq 64))
printf 'model=digits\n' >"$T/cfg"
M=$($C measure --program "$C" --config "$T/cfg")
$C attest --sim "$T/sim" --report-data "$RD" --program "$C" --config "$T/cfg" --out "$T/ev.json"
$C attest --sim "$T/sim" --report-data "$RD" --program "$C" --config "$T/cfg" --debug --out "$T/dbg.json"
$C policy init "$T/pol.json" --id test --platform sim --allow-simulated >/dev/null
$C policy pin "$T/pol.json" --measurement "$M" --days 30 >/dev/null
cp "$T/pol.json" "$T/other-pol.json"
$C policy init "$T/other-pol.json" --id other --platform sim --allow-simulated >/dev/null
$C policy pin "$T/other-pol.json" --measurement "$(printf '77%.0s' $(seq 48))" >/dev/null
$C policy init "$T/nosim.json" --id nosim --platform sim >/dev/null
$C policy pin "$T/nosim.json" --measurement "$M" >/dev/null

V="$C verify --sim $T/sim"
expect 0 "AUTHENTIC"            -- $V "$T/ev.json"
expect 0 "ACCEPTED"             -- $V "$T/ev.json" --policy "$T/pol.json" --report-data "$RD"
expect 0 '"decision": "accepted"' -- $V "$T/ev.json" --policy "$T/pol.json" --report-data "$RD" --json
expect 1 "measurement_not_pinned" -- $V "$T/ev.json" --policy "$T/other-pol.json" --report-data "$RD"
expect 1 "debug_enabled"        -- $V "$T/dbg.json" --policy "$T/pol.json" --report-data "$RD"
expect 1 "simulated_not_allowed" -- $V "$T/ev.json" --policy "$T/nosim.json" --report-data "$RD"
expect 1 "report_data_mismatch" -- $V "$T/ev.json" --policy "$T/pol.json" --report-data "$(printf '00%.0s' $(seq 64))"
expect 1 "report_data_unchecked" -- $V "$T/ev.json" --policy "$T/pol.json"
expect 1 "measurement_expired"  -- $V "$T/ev.json" --policy "$T/pol.json" --report-data "$RD" --at "$(date -u -d '+60 days' +%Y-%m-%dT%H:%M:%SZ)"
expect 1 "evidence.sim.chain"   -- $C verify --sim "$T/other" "$T/ev.json"
expect 1 "has expired"          -- $V "$T/ev.json" --at 2040-01-01T00:00:00Z

# Raw artifacts: flip one signature bit, truncate the report.
/usr/bin/python3 - "$T" <<'PY'
import base64, json, sys
t = sys.argv[1]
ev = json.load(open(t + "/ev.json"))
rep = bytearray(base64.b64decode(ev["evidence"]))
open(t + "/report.bin", "wb").write(rep)
open(t + "/trunc.bin", "wb").write(rep[:700])
rep[0x2A0] ^= 1
open(t + "/flip.bin", "wb").write(rep)
for i, c in enumerate(ev["certs"]):
    open(f"{t}/cert{i}.pem", "wb").write(base64.b64decode(c))
PY
R="$C verify --sim $T/sim --platform sim --cert $T/cert0.pem --cert $T/cert1.pem"
expect 0 "AUTHENTIC"            -- $R --evidence "$T/report.bin"
expect 1 "does not verify"      -- $R --evidence "$T/flip.bin"
expect 2 "700 bytes"            -- $R --evidence "$T/trunc.bin"
expect 2 "unknown platform"     -- $C verify --platform sgx --evidence "$T/report.bin"
expect 2 "give EVIDENCE.json"   -- $C verify
expect 0 "usage: cinfer verify" -- $C verify --help

# Lint points at line and column, and names unknown fields.
printf '{\n  "cinfer_policy": 1,\n  "id": "x",\n  "platforms": {"any_of": ["sim"]},\n  "colour": "blue"\n}\n' >"$T/typo.json"
expect 2 "typo.json:5:3: error: .*unknown field \"colour\"" -- $C policy lint "$T/typo.json"
printf '{\n  "cinfer_policy": 1,\n  "id": "x",,\n}\n' >"$T/syntax.json"
expect 2 "syntax.json:3:" -- $C policy lint "$T/syntax.json"
expect 0 "ok: policy \"test\" revision 2" -- $C policy lint "$T/pol.json"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
