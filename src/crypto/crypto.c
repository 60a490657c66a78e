#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509_vfy.h>

#include "crypto/crypto.h"

int
ci_ossl_fail(struct cinfer_err *e, enum cinfer_code code, const char *stage, const char *what)
{
	unsigned long err = ERR_peek_last_error();
	char buf[128] = "";

	if (err != 0)
		ERR_error_string_n(err, buf, sizeof(buf));
	ERR_clear_error();
	return ci_fail(e, code, stage, "%s%s%s", what, buf[0] ? ": " : "", buf);
}

int
ci_random(void *buf, size_t size, struct cinfer_err *e)
{
	if (size > INT32_MAX || RAND_bytes(buf, (int)size) != 1)
		return ci_ossl_fail(e, CINFER_E_INTERNAL, "crypto.random", "RAND_bytes failed");
	return 0;
}

int
ci_digest(const EVP_MD *md, const void *p, size_t size, uint8_t *out, struct cinfer_err *e)
{
	if (EVP_Digest(p, size, out, NULL, md, NULL) != 1)
		return ci_ossl_fail(e, CINFER_E_INTERNAL, "crypto.digest", "digest failed");
	return 0;
}

void
ci_sha256(const void *p, size_t size, uint8_t out[CI_SHA256_SIZE])
{
	(void)!ci_digest(EVP_sha256(), p, size, out, NULL);
}

void
ci_sha384(const void *p, size_t size, uint8_t out[CI_SHA384_SIZE])
{
	(void)!ci_digest(EVP_sha384(), p, size, out, NULL);
}

void
ci_sha512(const void *p, size_t size, uint8_t out[CI_SHA512_SIZE])
{
	(void)!ci_digest(EVP_sha512(), p, size, out, NULL);
}

int
ci_digest_parts(const EVP_MD *md, const struct ci_part *parts, size_t count, uint8_t *out,
    struct cinfer_err *e)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int rc = -1;

	if (ctx == NULL || EVP_DigestInit_ex(ctx, md, NULL) != 1)
		goto out;
	for (size_t i = 0; i < count; i++)
		if (parts[i].size != 0 && EVP_DigestUpdate(ctx, parts[i].p, parts[i].size) != 1)
			goto out;
	if (EVP_DigestFinal_ex(ctx, out, NULL) != 1)
		goto out;
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	if (rc != 0)
		return ci_ossl_fail(e, CINFER_E_INTERNAL, "crypto.digest", "digest failed");
	return 0;
}

int
ci_ecdsa_verify_raw(EVP_PKEY *pub, const EVP_MD *md, const void *msg, size_t size,
    const uint8_t *r, const uint8_t *s, size_t comp_size, const char *stage,
    struct cinfer_err *e)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *br = BN_bin2bn(r, (int)comp_size, NULL);
	BIGNUM *bs = BN_bin2bn(s, (int)comp_size, NULL);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *der = NULL;
	int der_size, ok = 0, rc = -1;

	if (sig == NULL || br == NULL || bs == NULL || ctx == NULL) {
		ci_ossl_fail(e, CINFER_E_NOMEM, stage, "out of memory");
		goto out;
	}
	if (ECDSA_SIG_set0(sig, br, bs) != 1) {
		ci_ossl_fail(e, CINFER_E_INTERNAL, stage, "ECDSA_SIG_set0");
		goto out;
	}
	br = bs = NULL;
	der_size = i2d_ECDSA_SIG(sig, &der);
	if (der_size <= 0) {
		ci_ossl_fail(e, CINFER_E_INTERNAL, stage, "i2d_ECDSA_SIG");
		goto out;
	}
	if (EVP_DigestVerifyInit(ctx, NULL, md, NULL, pub) != 1) {
		ci_ossl_fail(e, CINFER_E_CRYPTO, stage, "key cannot verify ECDSA");
		goto out;
	}
	ok = EVP_DigestVerify(ctx, der, (size_t)der_size, msg, size);
	if (ok != 1) {
		ERR_clear_error();
		ci_fail(e, CINFER_E_CRYPTO, stage, "ECDSA signature does not verify");
		goto out;
	}
	rc = 0;
out:
	OPENSSL_free(der);
	BN_free(br);
	BN_free(bs);
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(ctx);
	return rc;
}

int
ci_ecdsa_sign_raw(EVP_PKEY *key, const EVP_MD *md, const void *msg, size_t size,
    uint8_t *r, uint8_t *s, size_t comp_size, struct cinfer_err *e)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char der[160];
	const unsigned char *dp = der;
	size_t der_size = sizeof(der);
	ECDSA_SIG *sig = NULL;
	int rc = -1;

	if (ctx == NULL || EVP_DigestSignInit(ctx, NULL, md, NULL, key) != 1 ||
	    EVP_DigestSign(ctx, der, &der_size, msg, size) != 1) {
		ci_ossl_fail(e, CINFER_E_CRYPTO, "crypto.ecdsa", "signing failed");
		goto out;
	}
	sig = d2i_ECDSA_SIG(NULL, &dp, (long)der_size);
	if (sig == NULL ||
	    BN_bn2binpad(ECDSA_SIG_get0_r(sig), r, (int)comp_size) != (int)comp_size ||
	    BN_bn2binpad(ECDSA_SIG_get0_s(sig), s, (int)comp_size) != (int)comp_size) {
		ci_ossl_fail(e, CINFER_E_INTERNAL, "crypto.ecdsa", "bad signature encoding");
		goto out;
	}
	rc = 0;
out:
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(ctx);
	return rc;
}

EVP_PKEY *
ci_ec_keygen(const char *curve, struct cinfer_err *e)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);

	if (k == NULL)
		ci_ossl_fail(e, CINFER_E_INTERNAL, "crypto.keygen", "EC key generation failed");
	return k;
}

static int
looks_pem(const void *p, size_t size)
{
	return size >= 11 && memmem(p, size < 4096 ? size : 4096, "-----BEGIN", 10) != NULL;
}

X509 *
ci_x509_parse(const void *p, size_t size, struct cinfer_err *e)
{
	X509 *x = NULL;

	if (size > INT32_MAX) {
		ci_fail(e, CINFER_E_LIMIT, "crypto.x509", "certificate too large");
		return NULL;
	}
	if (looks_pem(p, size)) {
		BIO *b = BIO_new_mem_buf(p, (int)size);
		if (b != NULL)
			x = PEM_read_bio_X509(b, NULL, NULL, NULL);
		BIO_free(b);
	} else {
		const unsigned char *dp = p;
		x = d2i_X509(NULL, &dp, (long)size);
		if (x != NULL && dp != (const unsigned char *)p + size) {
			X509_free(x);
			ci_fail(e, CINFER_E_MALFORMED, "crypto.x509",
			    "trailing bytes after DER certificate");
			return NULL;
		}
	}
	if (x == NULL)
		ci_ossl_fail(e, CINFER_E_MALFORMED, "crypto.x509", "not an X.509 certificate");
	return x;
}

STACK_OF(X509) *
ci_x509_parse_bundle(const void *p, size_t size, struct cinfer_err *e)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	BIO *b = NULL;
	X509 *x;

	if (sk == NULL || size > INT32_MAX)
		goto fail;
	if (!looks_pem(p, size)) {
		x = ci_x509_parse(p, size, e);
		if (x == NULL || !sk_X509_push(sk, x)) {
			X509_free(x);
			goto fail;
		}
		return sk;
	}
	b = BIO_new_mem_buf(p, (int)size);
	if (b == NULL)
		goto fail;
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			goto fail;
		}
	}
	ERR_clear_error();	/* the loop ends on "no start line" */
	BIO_free(b);
	if (sk_X509_num(sk) == 0) {
		ci_fail(e, CINFER_E_MALFORMED, "crypto.x509", "no certificate in PEM bundle");
		sk_X509_free(sk);
		return NULL;
	}
	return sk;
fail:
	BIO_free(b);
	sk_X509_pop_free(sk, X509_free);
	ci_ossl_fail(e, CINFER_E_MALFORMED, "crypto.x509", "cannot read certificate bundle");
	return NULL;
}

X509_CRL *
ci_x509_crl_parse(const void *p, size_t size, struct cinfer_err *e)
{
	X509_CRL *c = NULL;

	if (size > INT32_MAX) {
		ci_fail(e, CINFER_E_LIMIT, "crypto.crl", "CRL too large");
		return NULL;
	}
	if (looks_pem(p, size)) {
		BIO *b = BIO_new_mem_buf(p, (int)size);
		if (b != NULL)
			c = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
		BIO_free(b);
	} else {
		const unsigned char *dp = p;
		c = d2i_X509_CRL(NULL, &dp, (long)size);
	}
	if (c == NULL)
		ci_ossl_fail(e, CINFER_E_MALFORMED, "crypto.crl", "not an X.509 CRL");
	return c;
}

EVP_PKEY *
ci_pkey_parse_private(const void *p, size_t size, struct cinfer_err *e)
{
	BIO *b = size <= INT32_MAX ? BIO_new_mem_buf(p, (int)size) : NULL;
	EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	if (k == NULL)
		ci_ossl_fail(e, CINFER_E_MALFORMED, "crypto.key", "not a PEM private key");
	return k;
}

EVP_PKEY *
ci_pkey_parse_public(const void *p, size_t size, struct cinfer_err *e)
{
	EVP_PKEY *k = NULL;

	if (size > INT32_MAX) {
		ci_fail(e, CINFER_E_LIMIT, "crypto.key", "key too large");
		return NULL;
	}
	if (looks_pem(p, size)) {
		BIO *b = BIO_new_mem_buf(p, (int)size);
		if (b != NULL)
			k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
		BIO_free(b);
	} else {
		const unsigned char *dp = p;
		k = d2i_PUBKEY(NULL, &dp, (long)size);
	}
	if (k == NULL)
		ci_ossl_fail(e, CINFER_E_MALFORMED, "crypto.key", "not a public key");
	return k;
}

int
ci_x509_verify_chain(X509 *leaf, STACK_OF(X509) *intermediates, STACK_OF(X509) *roots,
    STACK_OF(X509_CRL) *crls, int64_t at, const char *stage, struct cinfer_err *e)
{
	return ci_x509_verify_chain_ex(leaf, intermediates, roots, crls, at, 0, stage, e);
}

int
ci_x509_verify_chain_ex(X509 *leaf, STACK_OF(X509) *intermediates, STACK_OF(X509) *roots,
    STACK_OF(X509_CRL) *crls, int64_t at, unsigned opts, const char *stage, struct cinfer_err *e)
{
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	unsigned long flags = X509_V_FLAG_USE_CHECK_TIME |
	    ((opts & CI_X509_NOT_STRICT) ? 0 : X509_V_FLAG_X509_STRICT);
	int rc = -1;

	if (st == NULL || ctx == NULL) {
		ci_ossl_fail(e, CINFER_E_NOMEM, stage, "out of memory");
		goto out;
	}
	for (int i = 0; i < sk_X509_num(roots); i++)
		if (X509_STORE_add_cert(st, sk_X509_value(roots, i)) != 1) {
			ci_ossl_fail(e, CINFER_E_INTERNAL, stage, "cannot add root");
			goto out;
		}
	if (X509_STORE_CTX_init(ctx, st, leaf, intermediates) != 1) {
		ci_ossl_fail(e, CINFER_E_INTERNAL, stage, "cannot start chain check");
		goto out;
	}
	if (crls != NULL && sk_X509_CRL_num(crls) > 0) {
		X509_STORE_CTX_set0_crls(ctx, crls);
		flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
	}
	X509_STORE_CTX_set_flags(ctx, flags);
	X509_STORE_CTX_set_time(ctx, 0, (time_t)at);
	if (X509_verify_cert(ctx) != 1) {
		int err = X509_STORE_CTX_get_error(ctx);
		int depth = X509_STORE_CTX_get_error_depth(ctx);
		enum cinfer_code code = CINFER_E_CRYPTO;
		if (err == X509_V_ERR_CERT_HAS_EXPIRED || err == X509_V_ERR_CERT_NOT_YET_VALID ||
		    err == X509_V_ERR_CRL_HAS_EXPIRED || err == X509_V_ERR_CRL_NOT_YET_VALID)
			code = CINFER_E_STALE;
		ERR_clear_error();
		ci_fail(e, code, stage, "certificate chain: %s (depth %d)",
		    X509_verify_cert_error_string(err), depth);
		goto out;
	}
	rc = 0;
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	return rc;
}

int
ci_pkey_spki_sha256(EVP_PKEY *pk, uint8_t out[CI_SHA256_SIZE], struct cinfer_err *e)
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(pk, &der);

	if (n <= 0)
		return ci_ossl_fail(e, CINFER_E_INTERNAL, "crypto.key", "cannot encode public key");
	ci_sha256(der, (size_t)n, out);
	OPENSSL_free(der);
	return 0;
}
