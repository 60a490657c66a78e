/* Thin OpenSSL wrappers. Internal to libcinfer. */
#ifndef CI_CRYPTO_H
#define CI_CRYPTO_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "core/ci.h"

#define CI_SHA256_SIZE 32
#define CI_SHA384_SIZE 48
#define CI_SHA512_SIZE 64

/* Drains OpenSSL's error queue into e (first failure wins); returns -1. */
int ci_ossl_fail(struct cinfer_err *e, enum cinfer_code code, const char *stage,
    const char *what);

CI_MUST_CHECK int ci_random(void *buf, size_t size, struct cinfer_err *e);

/* One-shot digests; md is EVP_sha256() etc. out must hold EVP_MD_get_size(md). */
CI_MUST_CHECK int ci_digest(const EVP_MD *md, const void *p, size_t size, uint8_t *out,
    struct cinfer_err *e);
void ci_sha256(const void *p, size_t size, uint8_t out[CI_SHA256_SIZE]);
void ci_sha384(const void *p, size_t size, uint8_t out[CI_SHA384_SIZE]);
void ci_sha512(const void *p, size_t size, uint8_t out[CI_SHA512_SIZE]);

/* Digest over count parts in order; a part may be empty (p NULL, size 0). */
struct ci_part {
	const void *p;
	size_t size;
};
CI_MUST_CHECK int ci_digest_parts(const EVP_MD *md, const struct ci_part *parts, size_t count,
    uint8_t *out, struct cinfer_err *e);

/*
 * ECDSA with raw big-endian r and s of comp_size bytes each (P-256: 32,
 * P-384: 48). verify: 0 valid, -1 invalid or error (code CRYPTO).
 */
CI_MUST_CHECK int ci_ecdsa_verify_raw(EVP_PKEY *pub, const EVP_MD *md, const void *msg,
    size_t size, const uint8_t *r, const uint8_t *s, size_t comp_size,
    const char *stage, struct cinfer_err *e);
CI_MUST_CHECK int ci_ecdsa_sign_raw(EVP_PKEY *key, const EVP_MD *md, const void *msg,
    size_t size, uint8_t *r, uint8_t *s, size_t comp_size, struct cinfer_err *e);

/* Generates an EC key on "P-256" or "P-384". */
EVP_PKEY *ci_ec_keygen(const char *curve, struct cinfer_err *e);

/* PEM or DER. Returns new objects (free with X509_free / EVP_PKEY_free). */
X509 *ci_x509_parse(const void *p, size_t size, struct cinfer_err *e);
/* Loads every certificate in a PEM bundle, in order; returns new stack. */
STACK_OF(X509) *ci_x509_parse_bundle(const void *p, size_t size, struct cinfer_err *e);
X509_CRL *ci_x509_crl_parse(const void *p, size_t size, struct cinfer_err *e);
EVP_PKEY *ci_pkey_parse_private(const void *p, size_t size, struct cinfer_err *e);
EVP_PKEY *ci_pkey_parse_public(const void *p, size_t size, struct cinfer_err *e);

/*
 * Verifies leaf up to one of roots at time at, with optional untrusted
 * intermediates and CRLs (when crls is non-NULL and non-empty, every
 * certificate in the chain must be covered by a CRL of its issuer).
 */
CI_MUST_CHECK int ci_x509_verify_chain(X509 *leaf, STACK_OF(X509) *intermediates,
    STACK_OF(X509) *roots, STACK_OF(X509_CRL) *crls, int64_t at, const char *stage,
    struct cinfer_err *e);
/*
 * The same with a choice: CI_X509_NOT_STRICT drops OpenSSL's RFC 5280
 * strict profile (for vendor leaves without an Authority Key Identifier);
 * signatures, validity, CA constraints and key usage are still checked.
 */
#define CI_X509_NOT_STRICT 1u
CI_MUST_CHECK int ci_x509_verify_chain_ex(X509 *leaf, STACK_OF(X509) *intermediates,
    STACK_OF(X509) *roots, STACK_OF(X509_CRL) *crls, int64_t at, unsigned flags,
    const char *stage, struct cinfer_err *e);

/* SHA-256 of the DER encoding of a public key (SubjectPublicKeyInfo). */
CI_MUST_CHECK int ci_pkey_spki_sha256(EVP_PKEY *pk, uint8_t out[CI_SHA256_SIZE],
    struct cinfer_err *e);

#endif
