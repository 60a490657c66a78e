/* Fuzz target: public key loading (JWK, PEM, DER) and COSE_Key parsing. */
#include "crypto/cose.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cinfer_err e = { 0 };
	EVP_PKEY *k;

	k = ci_pub_key_load(data, size, &e);
	EVP_PKEY_free(k);
	cinfer_err_clear(&e);
	k = ci_cose_key_parse(data, size, &e);
	EVP_PKEY_free(k);
	return 0;
}
