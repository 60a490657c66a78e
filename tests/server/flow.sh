#!/usr/bin/env bash
# The product flow with real processes: the demo end to end; a server that
# the broker refuses does not boot; a marker sent as input appears in no log
# or file the server or the broker wrote.
set -euo pipefail
B=${CINFER_BIN:-build}
S=${CINFER_SRC:-.}
T=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$T"; }
trap cleanup EXIT
fails=0; passes=0
check() { if eval "$2"; then passes=$((passes+1)); else echo "FAIL: $1"; fails=$((fails+1)); fi; }
wait_for() { for _ in $(seq 300); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }

# 1. The demo, as a newcomer runs it.
out=$(TMPDIR=$T "$S/tools/demo.sh" "$B" 2>&1) && rc=0 || rc=$?
check "demo runs end to end (rc $rc)" '[ $rc -eq 0 ]'
[ $rc -eq 0 ] || { echo "--- demo output (tail):"; tail -25 <<<"$out"; }
check "demo shows the receipt check" 'grep -q "receipt OK" <<<"$out"'
check "demo shows the refusal" 'grep -q "No input was sent" <<<"$out"'
check "demo cleaned up after itself" '[ -z "$(ls "$T" | grep cinfer-demo)" ]'

# 2. A broker that does not pin this build refuses; cinferd stops at boot with the reason.
"$B/cinfer" dev init "$T/sim" >/dev/null
printf '{"listen": "127.0.0.1:0"}\n' >"$T/cinferd.json"
M=$("$B/cinfer" measure --program "$B/cinferd" --config "$T/cinferd.json")
mkdir -p "$T/kbsdir"
"$B/cinfer-kbs" --dev --sim "$T/sim" --listen 127.0.0.1:0 >"$T/kbs1.out" 2>"$T/kbs1.log" &
pids+=($!)
wait_for "$T/kbs1.out" '^Policy:'
URL=$(sed -n 's/^URL: //p' "$T/kbs1.out"); CA=$(sed -n 's/^CA certificate: //p' "$T/kbs1.out")
TOK=$(sed -n 's/^Admin token file: //p' "$T/kbs1.out")
cp "$S/models/digits.onnx" "$T/m.onnx"
"$B/cinfer" seal "$T/m.onnx" --kbs "$URL" --key-id m --admin-token-file "$TOK" --cacert "$CA" --quiet >/dev/null
rc=0; timeout 60 "$B/cinferd" --config "$T/cinferd.json" --sim "$T/sim" --bundle "$T/m.sealed" \
  --kbs-cacert "$CA" --port-file "$T/port1" 2>"$T/refused.log" || rc=$?
check "cinferd refuses to boot when the broker denies (rc $rc)" '[ $rc -ne 0 ] && [ ! -s "$T/port1" ]'
check "boot failure names the stage and the broker's reason" 'grep -q "boot stopped" "$T/refused.log" && grep -q "measurement_not_pinned" "$T/refused.log"'
check "the broker logged the denial" 'grep -q "attest denied" "$T/kbs1.log"'

# 3. Same broker with the build pinned: boots; a marker input leaves no trace anywhere.
"$B/cinfer-kbs" --dev --sim "$T/sim" --dev-pin "$M" --listen 127.0.0.1:0 >"$T/kbs2.out" 2>"$T/kbs2.log" &
pids+=($!)
wait_for "$T/kbs2.out" '^Policy:'
URL=$(sed -n 's/^URL: //p' "$T/kbs2.out"); CA=$(sed -n 's/^CA certificate: //p' "$T/kbs2.out")
TOK=$(sed -n 's/^Admin token file: //p' "$T/kbs2.out"); STORE=$(sed -n 's/^Store: \([^ ]*\).*/\1/p' "$T/kbs2.out")
"$B/cinfer" seal "$T/m.onnx" --kbs "$URL" --key-id m --admin-token-file "$TOK" --cacert "$CA" --quiet >/dev/null
"$B/cinferd" --config "$T/cinferd.json" --sim "$T/sim" --bundle "$T/m.sealed" --model-name m \
  --kbs-cacert "$CA" --port-file "$T/port2" 2>"$T/server.log" &
pids+=($!)
wait_for "$T/server.log" '6/6 serving' || true
check "cinferd boots once the broker pins its measurement" 'grep -q "6/6 serving" "$T/server.log"'
U=https://127.0.0.1:$(cat "$T/port2")
"$B/cinfer" policy init "$T/pol.json" --id c --platform sim --allow-simulated >/dev/null
"$B/cinfer" policy pin "$T/pol.json" --measurement "$M" >/dev/null
MARK=4242.125
printf '{"dtype":"float32","shape":[1,64],"data":[%s%s]}\n' "$MARK" "$(printf ',0%.0s' $(seq 63))" >"$T/px.json"
out=$("$B/cinfer" infer "$U" --policy "$T/pol.json" --sim "$T/sim" --model m --input pixels="$T/px.json" --save "$T/save") && rc=0 || rc=$?
check "inference through the sealed model works (rc $rc)" '[ $rc -eq 0 ] && grep -q "argmax" <<<"$out"'
POLDG=$(sed -n 's/.*kbs.admin: policy kbs-dev digest=\([0-9a-f]*\).*/\1/p' "$T/kbs2.log" | tail -1)
RPOL=$(/usr/bin/python3 -c "
import base64, json, sys
p = open('$T/save/receipt.jws').read().split('.')[1]
print(json.loads(base64.urlsafe_b64decode(p + '=' * (-len(p) % 4)))['policy_sha256'])")
check "receipt names the broker policy that released the key ($RPOL vs $POLDG)" '[ -n "$POLDG" ] && [ "${RPOL#$POLDG}" != "$RPOL" ]'
# Everything the server and broker wrote: logs, the broker's store, sealed files, the sim dir.
check "marker in no server or broker log" '! grep -q "$MARK" "$T"/*.log'
check "marker in no broker store file" '! grep -rq "$MARK" "$STORE"'
check "marker in no file beside the server" '! grep -rlq --exclude=px.json --exclude-dir=save "$MARK" "$T"'
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
