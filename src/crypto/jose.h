/*
 * Minimal JOSE for the key broker: JWK (EC P-256 / P-384 public keys),
 * JWS compact ES256 / ES384 and JWTs, JWE flattened JSON serialisation
 * with ECDH-ES+A256KW and A256GCM (RFC 7516, 7518). Nothing else is
 * accepted: "alg" and "enc" are checked against this list, never trusted.
 * Internal to libcinfer.
 */
#ifndef CI_JOSE_H
#define CI_JOSE_H

#include <jansson.h>
#include <openssl/evp.h>

#include "core/ci.h"

#define CI_JOSE_MAX_SIZE (1u << 20)	/* any JWS/JWE/JWT text we accept */

/* Parses {"kty":"EC","crv":"P-256"|"P-384","x","y"}; the point must be on
 * the curve. A private "d" is refused. Returns a new key or NULL. */
EVP_PKEY *ci_jwk_parse(const json_t *jwk, struct cinfer_err *e);
/* Public JWK of an EC key (new reference), NULL on failure. */
json_t *ci_jwk_from_pkey(EVP_PKEY *pk, struct cinfer_err *e);
/* RFC 7638 thumbprint (SHA-256 over the required members, sorted). */
CI_MUST_CHECK int ci_jwk_thumbprint(EVP_PKEY *pk, uint8_t out[32], struct cinfer_err *e);

/* JWS compact: header {"alg","typ"?,"kid"?}, alg from the key's curve. Returns new string. */
char *ci_jws_sign(EVP_PKEY *key, const char *typ, const char *kid, const void *payload,
    size_t size, struct cinfer_err *e);
/* Verifies; returns the payload (new, free with ci_free). */
CI_MUST_CHECK int ci_jws_verify(EVP_PKEY *pub, const char *jws, size_t len,
    uint8_t **payload, size_t *payload_size, struct cinfer_err *e);

/* JWT: claims serialised with sorted keys. */
char *ci_jwt_sign(EVP_PKEY *key, const char *kid, const json_t *claims, struct cinfer_err *e);
/* Verifies the signature, then "exp" (required) and "nbf" (optional) at time at. */
CI_MUST_CHECK int ci_jwt_verify(EVP_PKEY *pub, const char *jwt, size_t len, int64_t at,
    json_t **claims, struct cinfer_err *e);

/* Concat KDF (NIST SP 800-56A, RFC 7518 4.6.2) with SHA-256. */
CI_MUST_CHECK int ci_concat_kdf(const uint8_t *z, size_t z_size, const char *alg_id,
    const uint8_t *apu, size_t apu_size, const uint8_t *apv, size_t apv_size,
    uint8_t *out, size_t out_size, struct cinfer_err *e);

/* JWE flattened JSON {protected, encrypted_key, iv, ciphertext, tag} to an EC public key. */
json_t *ci_jwe_encrypt(EVP_PKEY *recipient, const void *pt, size_t size,
    struct cinfer_err *e);
/* Decrypts into locked memory (out is initialised here; clear with ci_secret_clear). */
CI_MUST_CHECK int ci_jwe_decrypt(EVP_PKEY *priv, const json_t *jwe, struct ci_secret *out,
    struct cinfer_err *e);

#endif
