#!/usr/bin/env bash
# `make demo`: the whole attested flow on the SIMULATED platform, narrated in
# the seven steps of the design, then one refusal. Starts a key broker and a
# model server on 127.0.0.1 and stops both at the end.
# Usage: tools/demo.sh [BUILD_DIR]
set -euo pipefail
B=${1:-build}
S=$(cd "$(dirname "$0")/.." && pwd)
C="$B/cinfer"
W=$(mktemp -d "${TMPDIR:-/tmp}/cinfer-demo.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$W"
}
trap cleanup EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
note() { printf '   %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
wait_for() { # file pattern
  for _ in $(seq 300); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "demo: timed out waiting for $2 in $1" >&2; cat "$1" >&2; exit 1
}

say "0. Setup: a SIMULATED root of trust (this machine has no TEE)"
printf '$ %s\n' "cinfer dev init $W/sim"
"$C" dev init "$W/sim" >/dev/null
note "ARK -> ASK -> VCEK chain shaped like AMD's, every certificate named SIMULATED."
printf '{"listen": "127.0.0.1:0", "threads": 1}\n' >"$W/cinferd.json"
M=$("$C" measure --program "$B/cinferd" --config "$W/cinferd.json")
note "expected launch measurement of this cinferd build + config (reproducible, offline):"
note "$M"

"$B/cinfer-kbs" --dev --sim "$W/sim" --dev-pin "$M" --listen 127.0.0.1:0 >"$W/kbs.out" 2>"$W/kbs.log" &
pids+=($!)
wait_for "$W/kbs.out" '^Policy:'
KBS=$(sed -n 's/^URL: //p' "$W/kbs.out")
KBS_CA=$(sed -n 's/^CA certificate: //p' "$W/kbs.out")
KBS_TOKEN=$(sed -n 's/^Admin token file: //p' "$W/kbs.out")
note "key broker (cinfer-kbs --dev) at $KBS; its policy pins the measurement above"

say "1. Seal the model: weights encrypted, data key stored in the broker"
cp "$S/models/digits.onnx" "$W/digits.onnx"
run "$C" seal "$W/digits.onnx" --kbs "$KBS" --key-id digits --admin-token-file "$KBS_TOKEN" \
    --cacert "$KBS_CA" --quiet
note "digits.sealed can sit on any untrusted disk: $(stat -c %s "$W/digits.sealed") bytes, AES-256-GCM chunks"

say "2-4. cinferd boots: keys -> evidence binding them -> broker checks it -> data key released"
"$B/cinferd" --config "$W/cinferd.json" --sim "$W/sim" --bundle "$W/digits.sealed" \
    --model-name digits --kbs-cacert "$KBS_CA" --port-file "$W/port" 2>"$W/cinferd.log" &
pids+=($!)
wait_for "$W/cinferd.log" '6/6 serving'
grep -E 'server.boot' "$W/cinferd.log" | sed 's/^[^ ]* /   /'
U=https://127.0.0.1:$(cat "$W/port")
note "broker's audit log: $(grep -c 'release\|accept' "$W/kbs.log" || true) release/accept lines; decisions are hash-chained in its SQLite store"

say "5. The client checks the server against ITS OWN pinned policy before sending anything"
"$C" policy init "$W/client.json" --id demo-client --platform sim --allow-simulated >/dev/null
"$C" policy pin "$W/client.json" --measurement "$M" --days 30 --build-id demo >/dev/null
run "$C" attest "$U" --policy "$W/client.json" --sim "$W/sim"

say "6. Inference over the verified channel; 7. a signed receipt commits to input and output"
/usr/bin/python3 -c "
import json
d = json.load(open('$S/models/digits_samples.json'))
json.dump({'dtype': 'float32', 'shape': [4, 64], 'data': sum(d['pixels'][:4], [])}, open('$W/px.json', 'w'))
print('   true labels of the 4 images:', d['labels'][:4])"
run "$C" infer "$U" --policy "$W/client.json" --sim "$W/sim" --model digits \
    --input pixels="$W/px.json" --save "$W/out"
note "later, offline, anyone can check the receipt:"
run "$C" receipt verify "$W/out/receipt.jws" --evidence "$W/out/evidence.json" \
    --policy "$W/client.json" --sim "$W/sim" --request "$W/out/request.json" \
    --response "$W/out/response.json" --nonce "$(cat "$W/out/nonce.hex")"
note "inputs never touch the server's disk or logs: the log has request ids and timings only:"
grep 'server.infer' "$W/cinferd.log" | sed 's/^[^ ]* /   /'

say "Refusal: a client whose policy pins another build refuses before sending"
"$C" policy init "$W/other.json" --id other-build --platform sim --allow-simulated >/dev/null
"$C" policy pin "$W/other.json" --measurement "$(openssl rand -hex 48)" >/dev/null
set +e
run "$C" infer "$U" --policy "$W/other.json" --sim "$W/sim" --model digits --input pixels="$W/px.json"
rc=$?
set -e
[ "$rc" -eq 1 ] || { echo "demo: expected a refusal (exit 1), got $rc" >&2; exit 1; }
note "(exit $rc: refused, as it should be)"

say "Done. Everything above ran on the SIMULATED platform: it shows the flow, not hardware protection."
