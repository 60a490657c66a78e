/* Fuzz target: an attested server certificate (DER) and its extensions. */
#include <openssl/x509.h>

#include "cinfer/channel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *p = data;
	X509 *x = d2i_X509(NULL, &p, (long)size);
	struct cinfer_evidence ev;
	struct cinfer_err e = { 0 };
	EVP_PKEY *rk = NULL;

	if (x == NULL)
		return 0;
	if (cinfer_ratls_cert_parse(x, &ev, &rk, &e) == 0) {
		EVP_PKEY_free(rk);
		cinfer_evidence_clear(&ev);
	}
	X509_free(x);
	return 0;
}
