/*
 * Intel TDX evidence verifier (quote v4/v5 + Intel PCS collateral).
 *
 * ev->evidence is the raw quote. Collateral, by name:
 *   "tcb_info"          TDX TCB info JSON for the PCK's FMSPC (required)
 *   "qe_identity"       TD_QE identity JSON (required)
 *   "pck_crl"           CRL of the PCK issuer CA, DER or PEM (required)
 *   "root_crl"          Intel SGX Root CA CRL, DER or PEM (required)
 *   "tcb_signing_chain" PEM, TCB signing cert first (optional: else the
 *                       chains in <roots>/intel/ are tried)
 * ev->certs may carry the PCK chain when the quote's certification data
 * does not (types 1-4). The Intel SGX Root CA comes from
 * <roots>/intel/intel_sgx_root_ca.pem, never from the quote.
 */
#ifndef CI_EVIDENCE_TDX_H
#define CI_EVIDENCE_TDX_H

#include "evidence/evidence_int.h"

/* Relaxations for ci_tdx_verify_ex; ci_tdx_verify uses none. */
enum {
	/*
	 * Accept a missing "pck_crl" and/or "root_crl" (revocation of the PCK
	 * and its CA is then unchecked; claims detail "revocation" says so).
	 * CRLs that are given are still checked in full.
	 */
	CI_TDX_ALLOW_NO_CRL_INSECURE = 1u << 0,
};

/* The ci_evidence_verify_fn for CINFER_PLATFORM_TDX. */
int ci_tdx_verify(const struct cinfer_evidence *ev, const struct cinfer_verify_opts *opts,
    int64_t at, struct cinfer_claims *claims, struct cinfer_err *e);

int ci_tdx_verify_ex(const struct cinfer_evidence *ev, const struct cinfer_verify_opts *opts,
    int64_t at, unsigned flags, struct cinfer_claims *claims, struct cinfer_err *e);

#endif
