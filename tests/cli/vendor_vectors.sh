#!/usr/bin/env bash
# `cinfer verify` on real vendor evidence from all four TEE families, with
# a few facts from MANIFEST.md, and refusals with their own reasons.
set -euo pipefail
C=${CINFER_BIN:-build}/cinfer
S=${CINFER_SRC:-.}
V=${CINFER_VECTORS:-$S/../shared/vectors}
export CINFER_ROOTS=$S/data/roots
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fails=0; passes=0
expect() { # expect CODE PATTERN -- command...
  local want=$1 pat=$2; shift 3
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  if [ "$rc" != "$want" ] || { [ -n "$pat" ] && ! grep -q -- "$pat" <<<"$out"; }; then
    echo "FAIL (exit $rc, wanted $want, pattern '$pat'): $*"; echo "$out" | tail -4; fails=$((fails+1))
  else passes=$((passes+1)); fi
}

# SEV-SNP: GCP Milan v5 (MANIFEST: VMPL 0, signed by a Milan VCEK).
SNP="$C verify --platform snp --evidence $V/snp/gcp_milan_v5_report.bin --cert $V/snp/gcp_milan_vcek.pem"
expect 0 "signer .*vcek:Milan" -- $SNP --at 2026-01-04T06:04:27Z
expect 0 '"platform": "snp"' -- $SNP --at 2026-01-04T06:04:27Z --json
expect 1 "evidence.snp" -- $C verify --platform snp --evidence "$V/snp/gcp_milan_v5_report.bin" \
  --cert "$V/snp/oak_gcp_genoa_vcek.der" --at 2026-01-04T06:04:27Z
head -c 1000 "$V/snp/gcp_milan_v5_report.bin" >"$T/short.bin"
expect 2 "" -- $C verify --platform snp --evidence "$T/short.bin" --cert "$V/snp/gcp_milan_vcek.pem"

# TDX: trustee quote with Intel's 2025-09 TCB info: OutOfDate; no current PCK CRL
# exists in the vectors, so only the explicit relaxation passes, and says so.
TDX="$C verify --platform tdx --evidence $V/tdx/trustee_v4_quote_50806f000000.dat
  --collateral tcb_info=$V/tdx/intel_tcbinfo_50806f000000_2025-09.json
  --collateral qe_identity=$V/tdx/trustee_qe_identity.json --at 2025-10-28T12:00:00Z"
expect 2 "pck_crl" -- $TDX
expect 0 "tcb_status .*OutOfDate" -- $TDX --insecure-no-crl
expect 0 "revocation .*unchecked" -- $TDX --insecure-no-crl
cat >"$T/tdx-policy.json" <<JSON
{"cinfer_policy": 1, "id": "tdx-strict", "platforms": {"any_of": ["tdx"]},
 "require_report_data_binding": false,
 "measurements": ["705ee9381b8633a9fbe532b52345e8433343d2868959f57889d84ca377c395b689cac1599ccea1b7d420483a9ce5f031"]}
JSON
expect 1 "tcb_status_not_allowed" -- $TDX --insecure-no-crl --policy "$T/tdx-policy.json"
expect 1 "revocation_unchecked" -- $TDX --insecure-no-crl --policy "$T/tdx-policy.json"
expect 1 "debug_enabled" -- $TDX --insecure-no-crl --policy "$T/tdx-policy.json"

# Nitro: verified at the document's own time; the bad-signature copy fails.
for d in cape_2022-09-15_doc evervault_2023-09-18_doc veracruz_2022-11-09_doc; do
  expect 0 "platform .*nitro" -- $C verify --platform nitro --evidence "$V/nitro/$d.cbor" --at document
done
expect 1 "evidence.nitro.signature" -- $C verify --platform nitro --evidence "$V/nitro/veracruz_2022-11-09_doc_badsig.cbor" --at document
expect 1 "expired" -- $C verify --platform nitro --evidence "$V/nitro/veracruz_2022-11-09_doc.cbor" --at 2030-01-01T00:00:00Z

# CCA: needs the IAK; the FVP token has no real platform signature.
expect 0 "platform .*cca" -- $C verify --platform cca --evidence "$V/cca/trustee_cca_example_token.cbor" --iak "$V/cca/trustee_cpak_pub.json"
expect 2 "IAK" -- $C verify --platform cca --evidence "$V/cca/trustee_cca_example_token.cbor"
expect 1 "unsigned" -- $C verify --platform cca --evidence "$V/cca/veraison_tfrmm_original_fvp_token.cbor" --iak "$V/cca/trustee_cpak_pub.json"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
