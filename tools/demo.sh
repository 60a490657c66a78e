#!/usr/bin/env bash
# `make demo`: the attested flow on the SIMULATED platform, narrated.
# Usage: tools/demo.sh [BUILD_DIR]
set -euo pipefail
B=${1:-build}
C="$B/cinfer"
W=$(mktemp -d "${TMPDIR:-/tmp}/cinfer-demo.XXXXXX")
trap 'rm -rf "$W"' EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

say "0. A SIMULATED root of trust (there is no TEE on this machine)"
run "$C" dev init "$W/sim"

say "1. The expected launch measurement of this build, pinned in a policy"
printf 'listen=127.0.0.1:8443\nmodel=digits\n' >"$W/server.conf"
M=$("$C" measure --program "$B/cinfer" --config "$W/server.conf")
echo "expected measurement: $M"
run "$C" policy init "$W/policy.json" --id demo --platform sim --allow-simulated
run "$C" policy pin "$W/policy.json" --measurement "$M" --days 30 --build-id "$(git describe --always 2>/dev/null || echo dev)"
run "$C" policy lint "$W/policy.json"

say "2. The (simulated) TEE produces evidence binding a fresh nonce"
NONCE=$(openssl rand -hex 32)
RD=$(printf 'cinfer demo v1%s' "$NONCE" | openssl dgst -sha512 -r | cut -d' ' -f1)
echo "report_data = SHA-512(\"cinfer demo v1\" || nonce) = ${RD:0:32}..."
run "$C" attest --sim "$W/sim" --report-data "$RD" --program "$B/cinfer" --config "$W/server.conf" --out "$W/evidence.json"

say "3. The verifier checks the signature, the chain to the pinned root, and the policy"
run "$C" verify "$W/evidence.json" --sim "$W/sim" --policy "$W/policy.json" --report-data "$RD"

say "4. A policy that pins another build refuses the same evidence, and says why"
cp "$W/policy.json" "$W/other.json"
"$C" policy init "$W/other.json" --id other-build --platform sim --allow-simulated >/dev/null
"$C" policy pin "$W/other.json" --measurement "$(openssl rand -hex 48)" >/dev/null
set +e
run "$C" verify "$W/evidence.json" --sim "$W/sim" --policy "$W/other.json" --report-data "$RD"
rc=$?
set -e
[ "$rc" -eq 1 ] || { echo "demo: expected a refusal (exit 1), got $rc" >&2; exit 1; }
echo "(exit $rc: rejected, as it should be)"

say "Done. Every SIMULATED decision above is labelled as such: no hardware was involved."
