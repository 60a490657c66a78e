/*
 * Fuzz target: JOSE inputs the broker and its client parse: a JWK, a JWE
 * (flattened JSON) decrypted with a fixed P-256 key, and a JWS/JWT
 * verified with it. The first byte picks which.
 */
#include <string.h>

#include "core/json.h"
#include "crypto/crypto.h"
#include "crypto/jose.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A throwaway key for fuzzing only; the corpus was made with it. */
static const char key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg69P3JmH92NoQNU7e\n"
    "lyaFfhkaCakpfJK5iKVZBvoacOuhRANCAASyuzLFs0ia5cZJnbpy736oE3/oFaJO\n"
    "qTiEVyy6N90PgR22A/qfioFTeoobsWiVzkpeweIvzsBH+TIlDRgX1S3o\n"
    "-----END PRIVATE KEY-----\n";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cinfer_err e = { 0 };
	EVP_PKEY *k;
	json_t *j = NULL;

	if (size == 0 || size > 65536)
		return 0;
	k = ci_pkey_parse_private(key_pem, sizeof(key_pem) - 1, &e);
	if (k == NULL)
		return 0;
	switch (data[0] % 3) {
	case 0:
		if (ci_json_parse(data + 1, size - 1, "fuzz", &j, &e) == 0) {
			EVP_PKEY *p = ci_jwk_parse(j, &e);
			if (p != NULL) {
				json_t *back = ci_jwk_from_pkey(p, &e);
				json_decref(back);
			}
			EVP_PKEY_free(p);
		}
		break;
	case 1:
		if (ci_json_parse(data + 1, size - 1, "fuzz", &j, &e) == 0) {
			struct ci_secret s;
			if (ci_jwe_decrypt(k, j, &s, &e) == 0)
				ci_secret_clear(&s);
		}
		break;
	default: {
		json_t *c = NULL;
		if (ci_jwt_verify(k, (const char *)data + 1, size - 1, 1, &c, &e) == 0)
			json_decref(c);
		break;
	}
	}
	json_decref(j);
	EVP_PKEY_free(k);
	return 0;
}
