/*
 * AMD SEV-SNP verification: report signature by the VCEK or VLEK, chain
 * VCEK <- ASK <- ARK / VLEK <- ASVK <- ARK (RSA-PSS) to the ARK pinned for
 * the product family, AMD CRLs, and the VCEK's TCB and hwID against the
 * report. Internal to libcinfer.
 */
#ifndef CI_EVIDENCE_SNP_H
#define CI_EVIDENCE_SNP_H

#include <openssl/x509.h>

#include "cinfer/evidence.h"
#include "core/ci.h"

/*
 * The SNP platform verifier (ci_evidence_verify_fn). Inputs:
 *   ev->evidence                the raw ATTESTATION_REPORT (1184 bytes)
 *   ev->certs[]                 the VCEK or VLEK (DER or PEM) and optionally
 *                               the ASK/ASVK and ARK (a PEM bundle is fine);
 *                               a carried ARK must be byte-identical to the
 *                               pinned one
 *   collateral "crl"            AMD CRLs (DER or PEM), each signed by a CA
 *                               of the chain; a listed certificate fails
 *   collateral "cert_table"     the extended report's certificate table
 *                               (GUID table), a source of the same certs
 * Roots: <roots>/amd/<family>_<vcek|vlek>.pem (ASK/ASVK then ARK).
 */
int ci_snp_verify(const struct cinfer_evidence *ev, const struct cinfer_verify_opts *opts,
    int64_t at, struct cinfer_claims *claims, struct cinfer_err *e);

/* Product families, each with its own ARK. */
enum ci_snp_family {
	CI_SNP_FAMILY_UNKNOWN = 0,
	CI_SNP_FAMILY_MILAN,
	CI_SNP_FAMILY_GENOA,
	CI_SNP_FAMILY_TURIN,
};

/* "Milan", "Genoa", "Turin"; "" for unknown. */
const char *ci_snp_family_name(enum ci_snp_family f);
/* From a VCEK productName ("Milan-B0", "Genoa", "Turin"...) or a KDS name. */
enum ci_snp_family ci_snp_family_from_product(const char *product);
/* From the report's CPUID family and model (v3+); UNKNOWN if not SNP-capable. */
enum ci_snp_family ci_snp_family_from_cpuid(uint8_t fam, uint8_t model);

/*
 * Chain checks (snp_chain.c). Each link is verified by hand: issuer name,
 * signature (X509_verify, RSA-PSS for AMD-signed links), validity at `at`,
 * CA bit on the issuer. OpenSSL's X509_verify_cert is not used because
 * AMD's VCEKs lack the Authority Key Identifier that strict mode demands.
 */
struct ci_snp_chain {
	X509 *leaf;		/* borrowed from the caller */
	X509 *inter;		/* ASK or ASVK */
	X509 *ark;		/* the pinned ARK */
	int cache_hit;		/* links were taken from the warm cache */
};

/* Verifies leaf <- inter <- ark (ark self-signed) at time at. */
CI_MUST_CHECK int ci_snp_chain_verify(struct ci_snp_chain *c, int64_t at,
    struct cinfer_err *e);

/*
 * Applies CRLs: each must be signed by the ARK or the intermediate of c,
 * be current at `at` (thisUpdate <= at <= nextUpdate), and must not list
 * the intermediate or the leaf. Anything else fails closed.
 */
CI_MUST_CHECK int ci_snp_chain_check_crls(const struct ci_snp_chain *c,
    STACK_OF(X509_CRL) *crls, int64_t at, struct cinfer_err *e);

/*
 * Loads a pinned bundle (one intermediate, one self-signed ARK, PEM) and
 * returns new references to both (X509_free each). Parsed bundles are
 * kept in memory and reused while the file's identity (device, inode,
 * size, mtime) is unchanged.
 */
CI_MUST_CHECK int ci_snp_pinned_load(const char *path, X509 **inter, X509 **ark,
    struct cinfer_err *e);

/* Empties the process-wide caches: verified chains and CRLs, pinned bundles. */
void ci_snp_cache_clear(void);

#endif
