#!/usr/bin/env bash
# cinferd on the simulated platform, checked by `cinfer attest` with a
# pinned policy; a mismatching policy is refused before any request reaches
# the server, which the server's own counters prove.
set -euo pipefail
B=${CINFER_BIN:-build}
T=$(mktemp -d); pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fails=0; passes=0
check() { if eval "$2"; then passes=$((passes+1)); else echo "FAIL: $1"; fails=$((fails+1)); fi; }

"$B/cinfer" dev init "$T/sim" >/dev/null
printf '{"listen": "127.0.0.1:0", "threads": 1}\n' >"$T/cinferd.json"
"$B/cinferd" --config "$T/cinferd.json" --sim "$T/sim" --port-file "$T/port" 2>"$T/log" &
pid=$!
for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
P=$(cat "$T/port"); U=https://127.0.0.1:$P
M=$("$B/cinfer" measure --program "$B/cinferd" --config "$T/cinferd.json")
"$B/cinfer" policy init "$T/good.json" --id good --platform sim --allow-simulated >/dev/null
"$B/cinfer" policy pin "$T/good.json" --measurement "$M" >/dev/null
"$B/cinfer" policy init "$T/bad.json" --id bad --platform sim --allow-simulated >/dev/null
"$B/cinfer" policy pin "$T/bad.json" --measurement "$(openssl rand -hex 48)" >/dev/null
"$B/cinfer" policy init "$T/nosim.json" --id nosim --platform sim >/dev/null
"$B/cinfer" policy pin "$T/nosim.json" --measurement "$M" >/dev/null

reqs() { curl -sk "$U/metrics" | awk '/^cinfer_requests_total/ {print $2}'; }

out=$("$B/cinfer" attest "$U" --policy "$T/good.json" --sim "$T/sim") && rc=0 || rc=$?
check "pinned policy accepts (rc $rc)" '[ $rc -eq 0 ] && grep -q "TRUSTED" <<<"$out" && grep -q SIMULATED <<<"$out"'
check "measurement printed" 'grep -q "$M" <<<"$out"'

before=$(reqs)
out=$("$B/cinfer" attest "$U" --policy "$T/bad.json" --sim "$T/sim") && rc=0 || rc=$?
after=$(reqs)
check "other pin refused (rc $rc)" '[ $rc -eq 1 ] && grep -q measurement_not_pinned <<<"$out"'
check "refused client sent no request (metrics $before -> $after)" '[ $((after - before)) -eq 1 ]'

out=$("$B/cinfer" attest "$U" --policy "$T/nosim.json" --sim "$T/sim") && rc=0 || rc=$?
check "simulated refused without allow_simulated" '[ $rc -eq 1 ] && grep -q simulated_not_allowed <<<"$out"'

"$B/cinfer" dev init "$T/other" >/dev/null
out=$("$B/cinfer" attest "$U" --policy "$T/good.json" --sim "$T/other") && rc=0 || rc=$?
check "wrong root refused" '[ $rc -eq 1 ] && grep -q "evidence.sim.chain" <<<"$out"'

# An age limit: the certificate's boot evidence defers, the nonce-bound one is fresh.
/usr/bin/python3 - "$T/good.json" "$T/aged.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); d["max_evidence_age_seconds"] = 300
json.dump(d, open(sys.argv[2], "w"))
PY
out=$("$B/cinfer" attest "$U" --policy "$T/aged.json" --sim "$T/sim") && rc=0 || rc=$?
check "max_evidence_age policy accepts fresh evidence (rc $rc)" '[ $rc -eq 0 ] && grep -q evidence_fresh <<<"$out"'

out=$("$B/cinfer" attest "$U" --policy "$T/good.json" --sim "$T/sim" --json)
check "json decision" 'grep -q "\"decision\": \"accepted\"" <<<"$out"'

code=$(curl -sk -o /dev/null -w '%{http_code}' "$U/v1/attestation?nonce=zz")
check "bad nonce is 400 ($code)" '[ "$code" = 400 ]'
code=$(curl -sk -o /dev/null -w '%{http_code}' -X POST "$U/healthz")
check "wrong method is 405 ($code)" '[ "$code" = 405 ]'
code=$(curl -sk -o /dev/null -w '%{http_code}' "$U/nope")
check "unknown endpoint is 404 ($code)" '[ "$code" = 404 ]'
check "TLS 1.2 refused" '! curl -sk --tls-max 1.2 "$U/healthz" >/dev/null 2>&1'
check "metrics exposition" 'curl -sk "$U/metrics" | grep -q "^cinfer_inference_seconds_bucket{le=\"+Inf\"}"'

# Without a TEE and without --sim, cinferd refuses to boot instead of simulating.
rc=0; env CINFER_DEV_DIR="$T/nodev" CINFER_TSM_ROOT="$T/notsm" timeout 30 "$B/cinferd" --listen 127.0.0.1:0 2>"$T/notee.log" || rc=$?
check "no TEE and no --sim: boot refused (rc $rc)" '[ $rc -ne 0 ] && grep -q "no TEE found" "$T/notee.log"'

kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
check "boot narrated in log" 'grep -q "3/6 evidence produced" "$T/log"'
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
