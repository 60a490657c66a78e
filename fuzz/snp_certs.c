/*
 * Fuzz target: the SEV-SNP extended report's certificate table (GUID
 * table) and, in each entry or the whole input, an X.509 certificate with
 * AMD's VCEK/VLEK extensions (TCB SPLs, hwID, productName, CSP id).
 */
#include <openssl/x509.h>

#include "crypto/crypto.h"
#include "evidence/amd_cert.h"
#include "evidence/snp.h"
#include "evidence/snp_certs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
cert(const uint8_t *p, size_t size)
{
	struct cinfer_err e = { 0 };
	struct ci_amd_cert_ext ext;
	X509 *x = ci_x509_parse(p, size, &e);

	if (x == NULL)
		return;
	if (ci_amd_cert_ext_parse(x, &ext, &e) == 0)
		(void)ci_snp_family_from_product(ext.product_name);
	X509_free(x);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ci_snp_cert_table t;
	struct cinfer_err e = { 0 };

	if (ci_snp_cert_table_parse(&t, data, size, &e) == 0) {
		for (size_t i = 0; i < t.count; i++)
			cert(t.entry[i].data, t.entry[i].size);
	} else {
		cert(data, size);
	}
	return 0;
}
