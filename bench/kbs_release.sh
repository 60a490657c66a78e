#!/usr/bin/env bash
# Key-release round trip benchmark: starts `cinfer-kbs --dev` (throwaway
# store, sim platform), stores a 32-byte key, then times N releases
# (auth + attest + resource, new TLS connection each) with one client, and
# with CLIENTS clients in parallel. Usage: bench/kbs_release.sh [BUILD] [N] [CLIENTS]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}; N=${2:-200}; P=${3:-2}
work=$(mktemp -d /tmp/cinfer-bench-kbs-XXXXXX)
trap 'kill $kbs 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
cc -std=gnu17 -O2 -D_GNU_SOURCE -Iinclude -Isrc bench/kbs_release.c "$B/libcinfer.a" \
  $(pkg-config --libs openssl jansson libcbor libcurl) -lm -lpthread -o "$work/kbs_release"
"$B/cinfer-kbs" --dev --listen 127.0.0.1:0 --rate 0 >"$work/out" 2>"$work/log" &
kbs=$!
for _ in $(seq 100); do grep -q '^Policy:' "$work/out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^URL: //p' "$work/out"); ca=$(sed -n 's/^CA certificate: //p' "$work/out")
tok=$(sed -n 's/^Admin token: //p' "$work/out"); sim=$(sed -n 's/^Sim dir: //p' "$work/out")
head -c 32 /dev/urandom >"$work/key"
curl -sf --cacert "$ca" -X PUT -H "Authorization: Bearer $tok" --data-binary @"$work/key" \
  "$url/kbs/v0/admin/resource/cinfer/model-key/bench" >/dev/null
echo "cinfer-kbs $(git describe --always --dirty 2>/dev/null), $(nproc) cores, $(date -u +%FT%TZ)"
"$work/kbs_release" "$url" "$ca" "$sim" cinfer/model-key/bench "$N"
start=$(date +%s.%N)
for i in $(seq "$P"); do
  "$work/kbs_release" "$url" "$ca" "$sim" cinfer/model-key/bench "$N" >"$work/par$i" &
done
wait $(jobs -p | grep -v "^$kbs$") 2>/dev/null || true
end=$(date +%s.%N)
awk -v n="$N" -v p="$P" -v s="$start" -v e="$end" \
  'BEGIN { printf "parallel: %d clients x %d releases in %.2f s = %.1f releases/s\n", p, n, e - s, p * n / (e - s) }'
