#!/usr/bin/env bash
# Load test of cinferd on 127.0.0.1 (simulated platform, the digits model):
# requests/s and latency at several concurrencies, plus what was shed.
# Usage: bench/load.sh [BUILD_DIR] [SECONDS]
set -euo pipefail
B=${1:-build}
SECS=${2:-5}
S=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d); pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$T"' EXIT
"$B/cinfer" dev init "$T/sim" >/dev/null
printf '{"listen": "127.0.0.1:0", "queue_max": 64, "max_batch": 8, "max_wait_ms": 1}\n' >"$T/c.json"
"$B/cinferd" --config "$T/c.json" --sim "$T/sim" --model "$S/models/digits.onnx" --model-name digits \
  --port-file "$T/port" 2>"$T/log" &
pid=$!
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.1; done
U=https://127.0.0.1:$(cat "$T/port")/v1/models/digits/infer
/usr/bin/python3 -c "
import json
d = json.load(open('$S/models/digits_samples.json'))
json.dump({'inputs': {'pixels': {'dtype': 'float32', 'shape': [1, 64], 'data': d['pixels'][0]}}}, open('$T/body.json', 'w'))"
printf '%-6s %9s %9s %9s %9s %7s\n' conc "req/s" "p50 ms" "p99 ms" "ok" "shed"
for c in 1 8 32 128; do
  j=$("$B/bench_load" "$U" "$T/body.json" "$c" "$SECS")
  /usr/bin/python3 -c "
import json,sys; r=json.loads(sys.argv[1])
print('%-6d %9.1f %9.3f %9.3f %9d %7d' % (r['concurrency'], r['rps'], r['p50_ms'], r['p99_ms'], r['ok'], r['shed_503']))" "$j"
done
batches=$(grep -o 'batch=[0-9]*' "$T/log" | sort | uniq -c | sort -rn | head -4 | awk '{printf "%s(%s) ", $2, $1}')
echo "server batch sizes seen: $batches"
