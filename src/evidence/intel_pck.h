/*
 * Intel SGX PCK certificate extensions (OID 1.2.840.113741.1.13.1): the
 * platform's TCB (16 SGX component SVNs, PCE SVN, CPUSVN), PCE-ID and
 * FMSPC. Layout: Intel SGX PCK Certificate and CRL Profile.
 */
#ifndef CI_INTEL_PCK_H
#define CI_INTEL_PCK_H

#include <openssl/x509.h>

#include "core/ci.h"

#define CI_INTEL_SGX_EXT_OID "1.2.840.113741.1.13.1"
#define CI_INTEL_SGX_EXT_MAX 4096

struct ci_intel_pck_ext {
	uint8_t ppid[16];
	uint8_t comp_svn[16];		/* SGX TCB component SVNs 1..16 */
	uint16_t pcesvn;
	uint8_t cpusvn[16];
	uint8_t pceid[2];
	uint8_t fmspc[6];
	int sgx_type;			/* 0 standard, 1 scalable, 2 scalable+integrity; -1 absent */
};

/* Parses the DER value of the SGX extension (a SEQUENCE of {OID, value}). */
CI_MUST_CHECK int ci_intel_pck_ext_parse(struct ci_intel_pck_ext *x, const uint8_t *der,
    size_t size, struct cinfer_err *e);
/* Finds the SGX extension in cert and parses it. */
CI_MUST_CHECK int ci_intel_pck_ext_from_cert(struct ci_intel_pck_ext *x, X509 *cert,
    struct cinfer_err *e);

#endif
