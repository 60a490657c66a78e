/* AMD VCEK/VLEK certificate extensions (KDS spec, OID arc 1.3.6.1.4.1.3704.1). */
#ifndef CI_AMD_CERT_H
#define CI_AMD_CERT_H

#include <openssl/x509.h>

#include "core/ci.h"

#define CI_AMD_OID_STRUCT_VERSION "1.3.6.1.4.1.3704.1.1"
#define CI_AMD_OID_PRODUCT_NAME "1.3.6.1.4.1.3704.1.2"
#define CI_AMD_OID_BL_SPL "1.3.6.1.4.1.3704.1.3.1"
#define CI_AMD_OID_TEE_SPL "1.3.6.1.4.1.3704.1.3.2"
#define CI_AMD_OID_SNP_SPL "1.3.6.1.4.1.3704.1.3.3"
#define CI_AMD_OID_UCODE_SPL "1.3.6.1.4.1.3704.1.3.8"
#define CI_AMD_OID_FMC_SPL "1.3.6.1.4.1.3704.1.3.9"
#define CI_AMD_OID_HWID "1.3.6.1.4.1.3704.1.4"
#define CI_AMD_OID_CSP_ID "1.3.6.1.4.1.3704.1.5"

struct ci_amd_cert_ext {
	char product_name[32];	/* "Milan-B0", "Genoa", "Turin"... ("" if absent) */
	int has_tcb;
	int has_fmc;
	uint8_t bl, tee, snp, ucode, fmc;
	uint8_t hwid[64];
	size_t hwid_size;	/* 64, or 8 on Turin; 0 if absent (VLEK) */
	char csp_id[64];	/* VLEK: cloud provider id */
};

/* Reads the AMD extensions of a VCEK or VLEK; missing TCB is an error. */
CI_MUST_CHECK int ci_amd_cert_ext_parse(X509 *x, struct ci_amd_cert_ext *out,
    struct cinfer_err *e);

/* Adds the AMD extensions to a certificate being built (sim chip). */
CI_MUST_CHECK int ci_amd_cert_ext_add(X509 *x, const struct ci_amd_cert_ext *in,
    struct cinfer_err *e);

#endif
