#include <limits.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "crypto/aead.h"
#include "crypto/crypto.h"

#define STAGE "crypto.aead"

int
ci_aead_seal(const uint8_t key[CI_AEAD_KEY_SIZE], const uint8_t nonce[CI_AEAD_NONCE_SIZE],
    const void *aad, size_t aad_size, const void *pt, size_t size, uint8_t *ct,
    uint8_t tag[CI_AEAD_TAG_SIZE], struct cinfer_err *e)
{
	EVP_CIPHER_CTX *c = NULL;
	int n, rc = -1;

	if (size > INT_MAX || aad_size > INT_MAX)
		return ci_fail(e, CINFER_E_LIMIT, STAGE, "AEAD input of %zu bytes", size);
	c = EVP_CIPHER_CTX_new();
	if (c == NULL)
		return ci_fail(e, CINFER_E_NOMEM, STAGE, "cipher context");
	if (EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce) != 1 ||
	    (aad_size > 0 && EVP_EncryptUpdate(c, NULL, &n, aad, (int)aad_size) != 1) ||
	    (size > 0 && EVP_EncryptUpdate(c, ct, &n, pt, (int)size) != 1) ||
	    EVP_EncryptFinal_ex(c, ct + size, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, CI_AEAD_TAG_SIZE, tag) != 1) {
		ci_ossl_fail(e, CINFER_E_CRYPTO, STAGE, "AES-256-GCM encrypt");
		goto out;
	}
	rc = 0;
out:
	EVP_CIPHER_CTX_free(c);
	return rc;
}

int
ci_aead_open(const uint8_t key[CI_AEAD_KEY_SIZE], const uint8_t nonce[CI_AEAD_NONCE_SIZE],
    const void *aad, size_t aad_size, const void *ct, size_t size,
    const uint8_t tag[CI_AEAD_TAG_SIZE], uint8_t *pt, struct cinfer_err *e)
{
	EVP_CIPHER_CTX *c = NULL;
	uint8_t t[CI_AEAD_TAG_SIZE];
	int n, rc = -1;

	if (size > INT_MAX || aad_size > INT_MAX)
		return ci_fail(e, CINFER_E_LIMIT, STAGE, "AEAD input of %zu bytes", size);
	c = EVP_CIPHER_CTX_new();
	if (c == NULL)
		return ci_fail(e, CINFER_E_NOMEM, STAGE, "cipher context");
	memcpy(t, tag, sizeof(t));
	if (EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce) != 1 ||
	    (aad_size > 0 && EVP_DecryptUpdate(c, NULL, &n, aad, (int)aad_size) != 1) ||
	    (size > 0 && EVP_DecryptUpdate(c, pt, &n, ct, (int)size) != 1) ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, CI_AEAD_TAG_SIZE, t) != 1) {
		ci_ossl_fail(e, CINFER_E_CRYPTO, STAGE, "AES-256-GCM decrypt");
		goto out;
	}
	if (EVP_DecryptFinal_ex(c, pt + size, &n) != 1) {
		ERR_clear_error();
		ci_wipe(pt, size);
		ci_fail(e, CINFER_E_CRYPTO, STAGE, "authentication tag does not match");
		goto out;
	}
	rc = 0;
out:
	EVP_CIPHER_CTX_free(c);
	return rc;
}

int
ci_aes_kw_wrap(const uint8_t kek[32], const uint8_t *in, size_t in_size, uint8_t *out,
    struct cinfer_err *e)
{
	EVP_CIPHER_CTX *c = NULL;
	int n = 0, m = 0, rc = -1;

	if (in_size < 16 || in_size % 8 != 0 || in_size > 4096)
		return ci_fail(e, CINFER_E_USAGE, STAGE, "key wrap of %zu bytes", in_size);
	c = EVP_CIPHER_CTX_new();
	if (c == NULL)
		return ci_fail(e, CINFER_E_NOMEM, STAGE, "cipher context");
	EVP_CIPHER_CTX_set_flags(c, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
	if (EVP_EncryptInit_ex(c, EVP_aes_256_wrap(), NULL, kek, NULL) != 1 ||
	    EVP_EncryptUpdate(c, out, &n, in, (int)in_size) != 1 ||
	    EVP_EncryptFinal_ex(c, out + n, &m) != 1 || (size_t)(n + m) != in_size + 8) {
		ci_ossl_fail(e, CINFER_E_CRYPTO, STAGE, "AES key wrap");
		goto out;
	}
	rc = 0;
out:
	EVP_CIPHER_CTX_free(c);
	return rc;
}

int
ci_aes_kw_unwrap(const uint8_t kek[32], const uint8_t *in, size_t in_size, uint8_t *out,
    struct cinfer_err *e)
{
	EVP_CIPHER_CTX *c = NULL;
	int n = 0, m = 0, rc = -1;

	if (in_size < 24 || in_size % 8 != 0 || in_size > 4096 + 8)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "wrapped key of %zu bytes", in_size);
	c = EVP_CIPHER_CTX_new();
	if (c == NULL)
		return ci_fail(e, CINFER_E_NOMEM, STAGE, "cipher context");
	EVP_CIPHER_CTX_set_flags(c, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
	if (EVP_DecryptInit_ex(c, EVP_aes_256_wrap(), NULL, kek, NULL) != 1 ||
	    EVP_DecryptUpdate(c, out, &n, in, (int)in_size) != 1 ||
	    EVP_DecryptFinal_ex(c, out + n, &m) != 1 || (size_t)(n + m) != in_size - 8) {
		ci_wipe(out, in_size - 8);
		ci_ossl_fail(e, CINFER_E_CRYPTO, STAGE, "AES key unwrap: integrity check failed");
		goto out;
	}
	rc = 0;
out:
	EVP_CIPHER_CTX_free(c);
	return rc;
}
