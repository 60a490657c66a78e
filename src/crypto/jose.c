#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "core/json.h"
#include "crypto/aead.h"
#include "crypto/crypto.h"
#include "crypto/jose.h"

#define STAGE_JWK "crypto.jwk"
#define STAGE_JWS "crypto.jws"
#define STAGE_JWE "crypto.jwe"

/* Curve facts: JOSE name, OpenSSL group, coordinate size, JWS alg, digest. */
struct curve {
	const char *crv;
	const char *group;
	size_t size;
	const char *alg;
	const EVP_MD *(*md)(void);
};

static const struct curve curves[] = {
	{ "P-256", "prime256v1", 32, "ES256", EVP_sha256 },
	{ "P-384", "secp384r1", 48, "ES384", EVP_sha384 },
};

static const struct curve *
curve_of_pkey(EVP_PKEY *pk)
{
	char name[64];
	size_t n = 0;

	if (pk == NULL || EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC ||
	    EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name),
	    &n) != 1)
		return NULL;
	for (size_t i = 0; i < CI_ARRAY_LEN(curves); i++)
		if (strcmp(name, curves[i].group) == 0)	/* public */
			return &curves[i];
	return NULL;
}

static int
b64url_field(const json_t *obj, const char *key, uint8_t **out, size_t *out_size,
    size_t max, const char *stage, struct cinfer_err *e)
{
	const char *s = NULL;

	*out = NULL;
	*out_size = 0;
	if (ci_json_str(obj, key, 1, &s, stage, e) != 0)
		return -1;
	if (strlen(s) > max)
		return ci_fail(e, CINFER_E_LIMIT, stage, "\"%s\" is too long", key);
	if (ci_b64_decode(s, strlen(s), 1, out, out_size, e) != 0)
		return ci_fail(e, CINFER_E_MALFORMED, stage, "\"%s\" is not base64url", key);
	return 0;
}

static EVP_PKEY *
pkey_from_xy(const struct curve *c, const uint8_t *x, const uint8_t *y, struct cinfer_err *e)
{
	uint8_t pt[1 + 2 * 48];
	OSSL_PARAM_BLD *b = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pk = NULL, *ret = NULL;
	EVP_PKEY_CTX *chk = NULL;

	pt[0] = 0x04;
	memcpy(pt + 1, x, c->size);
	memcpy(pt + 1 + c->size, y, c->size);
	b = OSSL_PARAM_BLD_new();
	if (b != NULL &&
	    OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, c->group, 0) == 1 &&
	    OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + 2 * c->size) == 1)
		params = OSSL_PARAM_BLD_to_param(b);
	if (params == NULL) {
		ci_ossl_fail(e, CINFER_E_NOMEM, STAGE_JWK, "building key parameters");
		goto out;
	}
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		ci_ossl_fail(e, CINFER_E_MALFORMED, STAGE_JWK, "not a point on the curve");
		goto out;
	}
	chk = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
	if (chk == NULL || EVP_PKEY_public_check(chk) != 1) {
		ci_ossl_fail(e, CINFER_E_MALFORMED, STAGE_JWK, "not a valid public point");
		goto out;
	}
	ret = pk;
	pk = NULL;
out:
	EVP_PKEY_CTX_free(chk);
	EVP_PKEY_free(pk);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(b);
	return ret;
}

EVP_PKEY *
ci_jwk_parse(const json_t *jwk, struct cinfer_err *e)
{
	static const char *const keys[] = { "kty", "crv", "x", "y", "alg", "use", "kid",
		"key_ops", NULL };
	const char *kty = NULL, *crv = NULL;
	const struct curve *c = NULL;
	uint8_t *x = NULL, *y = NULL;
	size_t xs, ys;
	EVP_PKEY *pk = NULL;

	if (!json_is_object(jwk)) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE_JWK, "JWK is not an object");
		return NULL;
	}
	if (json_object_get(jwk, "d") != NULL) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE_JWK, "JWK carries a private key");
		return NULL;
	}
	if (ci_json_known_keys(jwk, keys, STAGE_JWK, "JWK", e) != 0 ||
	    ci_json_str(jwk, "kty", 1, &kty, STAGE_JWK, e) != 0 ||
	    ci_json_str(jwk, "crv", 1, &crv, STAGE_JWK, e) != 0)
		return NULL;
	if (strcmp(kty, "EC") != 0) {	/* public */
		ci_fail(e, CINFER_E_UNSUPPORTED, STAGE_JWK, "JWK kty must be EC");
		return NULL;
	}
	for (size_t i = 0; i < CI_ARRAY_LEN(curves); i++)
		if (strcmp(crv, curves[i].crv) == 0)	/* public */
			c = &curves[i];
	if (c == NULL) {
		ci_fail(e, CINFER_E_UNSUPPORTED, STAGE_JWK, "JWK crv must be P-256 or P-384");
		return NULL;
	}
	if (b64url_field(jwk, "x", &x, &xs, 128, STAGE_JWK, e) != 0 ||
	    b64url_field(jwk, "y", &y, &ys, 128, STAGE_JWK, e) != 0)
		goto out;
	if (xs != c->size || ys != c->size) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE_JWK, "JWK coordinates must be %zu bytes",
		    c->size);
		goto out;
	}
	pk = pkey_from_xy(c, x, y, e);
out:
	ci_free(x);
	ci_free(y);
	return pk;
}

static int
pkey_xy(EVP_PKEY *pk, const struct curve **cp, uint8_t x[48], uint8_t y[48],
    struct cinfer_err *e)
{
	BIGNUM *bx = NULL, *by = NULL;
	const struct curve *c = curve_of_pkey(pk);
	int rc = -1;

	if (c == NULL)
		return ci_fail(e, CINFER_E_UNSUPPORTED, STAGE_JWK, "key is not EC P-256 or P-384");
	if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_X, &bx) != 1 ||
	    EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_Y, &by) != 1 ||
	    BN_bn2binpad(bx, x, (int)c->size) != (int)c->size ||
	    BN_bn2binpad(by, y, (int)c->size) != (int)c->size) {
		ci_ossl_fail(e, CINFER_E_INTERNAL, STAGE_JWK, "reading public point");
		goto out;
	}
	*cp = c;
	rc = 0;
out:
	BN_free(bx);
	BN_free(by);
	return rc;
}

json_t *
ci_jwk_from_pkey(EVP_PKEY *pk, struct cinfer_err *e)
{
	const struct curve *c = NULL;
	uint8_t x[48], y[48];
	char *xs = NULL, *ys = NULL;
	json_t *j = NULL;

	if (pkey_xy(pk, &c, x, y, e) != 0)
		return NULL;
	xs = ci_b64url_new(x, c->size);
	ys = ci_b64url_new(y, c->size);
	if (xs == NULL || ys == NULL) {
		ci_fail(e, CINFER_E_NOMEM, STAGE_JWK, "encoding JWK");
		goto out;
	}
	j = json_pack("{s:s, s:s, s:s, s:s}", "kty", "EC", "crv", c->crv, "x", xs, "y", ys);
	if (j == NULL)
		ci_fail(e, CINFER_E_NOMEM, STAGE_JWK, "building JWK");
out:
	ci_free(xs);
	ci_free(ys);
	return j;
}

int
ci_jwk_thumbprint(EVP_PKEY *pk, uint8_t out[32], struct cinfer_err *e)
{
	json_t *j = ci_jwk_from_pkey(pk, e);
	char *s;

	if (j == NULL)
		return -1;
	/* crv, kty, x, y: exactly the required members, sorted, no spaces. */
	s = ci_json_dump(j, 0);
	json_decref(j);
	if (s == NULL)
		return ci_fail(e, CINFER_E_NOMEM, STAGE_JWK, "thumbprint");
	ci_sha256(s, strlen(s), out);
	ci_free(s);
	return 0;
}

/* ---- JWS ---------------------------------------------------------------- */

char *
ci_jws_sign(EVP_PKEY *key, const char *typ, const char *kid, const void *payload,
    size_t size, struct cinfer_err *e)
{
	const struct curve *c = curve_of_pkey(key);
	json_t *h = NULL;
	char *hs = NULL, *h64 = NULL, *p64 = NULL, *s64 = NULL, *input = NULL, *ret = NULL;
	uint8_t sig[96];
	size_t in_size;

	if (c == NULL) {
		ci_fail(e, CINFER_E_UNSUPPORTED, STAGE_JWS, "signing key is not P-256 or P-384");
		return NULL;
	}
	h = json_pack("{s:s}", "alg", c->alg);
	if (h != NULL && typ != NULL)
		json_object_set_new(h, "typ", json_string(typ));
	if (h != NULL && kid != NULL)
		json_object_set_new(h, "kid", json_string(kid));
	hs = h ? ci_json_dump(h, 0) : NULL;
	h64 = hs ? ci_b64url_new(hs, strlen(hs)) : NULL;
	p64 = ci_b64url_new(payload, size);
	if (h64 == NULL || p64 == NULL ||
	    (typ != NULL && json_object_get(h, "typ") == NULL) ||
	    (kid != NULL && json_object_get(h, "kid") == NULL)) {
		ci_fail(e, CINFER_E_NOMEM, STAGE_JWS, "building JWS");
		goto out;
	}
	in_size = strlen(h64) + 1 + strlen(p64);
	input = ci_alloc(in_size + 1);
	if (input == NULL) {
		ci_fail(e, CINFER_E_NOMEM, STAGE_JWS, "building JWS");
		goto out;
	}
	snprintf(input, in_size + 1, "%s.%s", h64, p64);
	if (ci_ecdsa_sign_raw(key, c->md(), input, in_size, sig, sig + c->size, c->size, e) != 0)
		goto out;
	s64 = ci_b64url_new(sig, 2 * c->size);
	if (s64 == NULL) {
		ci_fail(e, CINFER_E_NOMEM, STAGE_JWS, "building JWS");
		goto out;
	}
	ret = ci_alloc(in_size + 1 + strlen(s64) + 1);
	if (ret == NULL) {
		ci_fail(e, CINFER_E_NOMEM, STAGE_JWS, "building JWS");
		goto out;
	}
	snprintf(ret, in_size + 1 + strlen(s64) + 1, "%s.%s", input, s64);
out:
	json_decref(h);
	ci_free(hs);
	ci_free(h64);
	ci_free(p64);
	ci_free(s64);
	ci_free(input);
	return ret;
}

int
ci_jws_verify(EVP_PKEY *pub, const char *jws, size_t len, uint8_t **payload,
    size_t *payload_size, struct cinfer_err *e)
{
	static const char *const hkeys[] = { "alg", "typ", "kid", NULL };
	const struct curve *c = curve_of_pkey(pub);
	const char *d1, *d2, *alg = NULL;
	uint8_t *hb = NULL, *sig = NULL, *pl = NULL;
	size_t hsize, sig_size, pl_size;
	json_t *h = NULL;
	int rc = -1;

	*payload = NULL;
	*payload_size = 0;
	if (c == NULL)
		return ci_fail(e, CINFER_E_USAGE, STAGE_JWS, "verification key is not EC");
	if (len > CI_JOSE_MAX_SIZE)
		return ci_fail(e, CINFER_E_LIMIT, STAGE_JWS, "JWS of %zu bytes", len);
	d1 = memchr(jws, '.', len);
	d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - jws)) : NULL;
	if (d1 == NULL || d2 == NULL ||
	    memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - jws)) != NULL)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE_JWS, "JWS must have three parts");
	if (ci_b64_decode(jws, (size_t)(d1 - jws), 1, &hb, &hsize, e) != 0 ||
	    ci_b64_decode(d2 + 1, len - (size_t)(d2 + 1 - jws), 1, &sig, &sig_size, e) != 0 ||
	    ci_b64_decode(d1 + 1, (size_t)(d2 - d1 - 1), 1, &pl, &pl_size, e) != 0) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE_JWS, "JWS part is not base64url");
		goto out;
	}
	if (ci_json_parse(hb, hsize, STAGE_JWS, &h, e) != 0 || !json_is_object(h) ||
	    ci_json_known_keys(h, hkeys, STAGE_JWS, "JWS header", e) != 0 ||
	    ci_json_str(h, "alg", 1, &alg, STAGE_JWS, e) != 0) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE_JWS, "bad JWS header");
		goto out;
	}
	if (strcmp(alg, c->alg) != 0) {	/* public */
		ci_fail(e, CINFER_E_CRYPTO, STAGE_JWS, "JWS alg %.16s does not match the key (%s)",
		    alg, c->alg);
		goto out;
	}
	if (sig_size != 2 * c->size) {
		ci_fail(e, CINFER_E_CRYPTO, STAGE_JWS, "JWS signature of %zu bytes", sig_size);
		goto out;
	}
	if (ci_ecdsa_verify_raw(pub, c->md(), jws, (size_t)(d2 - jws), sig, sig + c->size,
	    c->size, STAGE_JWS, e) != 0)
		goto out;
	*payload = pl;
	*payload_size = pl_size;
	pl = NULL;
	rc = 0;
out:
	json_decref(h);
	ci_free(hb);
	ci_free(sig);
	ci_free(pl);
	return rc;
}

char *
ci_jwt_sign(EVP_PKEY *key, const char *kid, const json_t *claims, struct cinfer_err *e)
{
	char *s = ci_json_dump(claims, 0), *r;

	if (s == NULL) {
		ci_fail(e, CINFER_E_NOMEM, STAGE_JWS, "JWT claims");
		return NULL;
	}
	r = ci_jws_sign(key, "JWT", kid, s, strlen(s), e);
	ci_free(s);
	return r;
}

int
ci_jwt_verify(EVP_PKEY *pub, const char *jwt, size_t len, int64_t at, json_t **claims,
    struct cinfer_err *e)
{
	uint8_t *pl = NULL;
	size_t pl_size;
	json_t *c = NULL;
	int64_t exp = 0, nbf = 0;
	int rc = -1;

	*claims = NULL;
	if (ci_jws_verify(pub, jwt, len, &pl, &pl_size, e) != 0)
		return -1;
	if (ci_json_parse(pl, pl_size, STAGE_JWS, &c, e) != 0)
		goto out;
	if (!json_is_object(c) || ci_json_int(c, "exp", 1, &exp, STAGE_JWS, e) != 0 ||
	    ci_json_int(c, "nbf", 0, &nbf, STAGE_JWS, e) < 0) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE_JWS, "JWT claims need a numeric exp");
		goto out;
	}
	if (at == 0)
		at = ci_time_now();
	if (at >= exp) {
		ci_fail(e, CINFER_E_STALE, STAGE_JWS, "JWT expired %lld s ago",
		    (long long)(at - exp));
		goto out;
	}
	if (nbf != 0 && at < nbf) {
		ci_fail(e, CINFER_E_STALE, STAGE_JWS, "JWT not valid yet");
		goto out;
	}
	*claims = c;
	c = NULL;
	rc = 0;
out:
	json_decref(c);
	ci_free(pl);
	return rc;
}

/* ---- Concat KDF and JWE -------------------------------------------------- */

static void
be32(uint8_t b[4], uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

int
ci_concat_kdf(const uint8_t *z, size_t z_size, const char *alg_id, const uint8_t *apu,
    size_t apu_size, const uint8_t *apv, size_t apv_size, uint8_t *out, size_t out_size,
    struct cinfer_err *e)
{
	uint8_t ctr[4], alen[4], ulen[4], vlen[4], bits[4], h[CI_SHA256_SIZE];
	size_t done = 0;
	uint32_t round = 1;
	int rc = -1;

	if (out_size == 0 || out_size > 64 || z_size > 1024 || apu_size > 1024 ||
	    apv_size > 1024 || strlen(alg_id) > 64)
		return ci_fail(e, CINFER_E_USAGE, STAGE_JWE, "Concat KDF sizes");
	if (apu == NULL)
		apu = (const uint8_t *)"";
	if (apv == NULL)
		apv = (const uint8_t *)"";
	be32(alen, (uint32_t)strlen(alg_id));
	be32(ulen, (uint32_t)apu_size);
	be32(vlen, (uint32_t)apv_size);
	be32(bits, (uint32_t)(out_size * 8));
	while (done < out_size) {
		const struct ci_part parts[] = {
			{ ctr, 4 }, { z, z_size }, { alen, 4 }, { alg_id, strlen(alg_id) },
			{ ulen, 4 }, { apu, apu_size }, { vlen, 4 }, { apv, apv_size },
			{ bits, 4 }
		};
		size_t n = out_size - done < sizeof(h) ? out_size - done : sizeof(h);

		be32(ctr, round++);
		if (ci_digest_parts(EVP_sha256(), parts, CI_ARRAY_LEN(parts), h, e) != 0)
			goto out;
		memcpy(out + done, h, n);
		done += n;
	}
	rc = 0;
out:
	ci_wipe(h, sizeof(h));
	return rc;
}

static int
ecdh(EVP_PKEY *priv, EVP_PKEY *peer, uint8_t *z, size_t *z_size, struct cinfer_err *e)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL);
	size_t n = *z_size;
	int rc = -1;

	if (ctx == NULL || EVP_PKEY_derive_init(ctx) != 1 ||
	    EVP_PKEY_derive_set_peer(ctx, peer) != 1 || EVP_PKEY_derive(ctx, z, &n) != 1) {
		ci_ossl_fail(e, CINFER_E_CRYPTO, STAGE_JWE, "ECDH failed");
		goto out;
	}
	*z_size = n;
	rc = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

#define JWE_ALG "ECDH-ES+A256KW"
#define JWE_ENC "A256GCM"

json_t *
ci_jwe_encrypt(EVP_PKEY *recipient, const void *pt, size_t size, struct cinfer_err *e)
{
	const struct curve *c = curve_of_pkey(recipient);
	EVP_PKEY *eph = NULL;
	json_t *hdr = NULL, *epk = NULL, *ret = NULL;
	uint8_t z[64], kek[32], cek[32], wrapped[40], iv[CI_AEAD_NONCE_SIZE],
	    tag[CI_AEAD_TAG_SIZE];
	uint8_t *ct = NULL;
	size_t z_size = sizeof(z);
	char *hs = NULL, *h64 = NULL, *ek64 = NULL, *iv64 = NULL, *ct64 = NULL, *tag64 = NULL;

	if (c == NULL) {
		ci_fail(e, CINFER_E_UNSUPPORTED, STAGE_JWE, "recipient key is not P-256 or P-384");
		return NULL;
	}
	if (size > CI_JOSE_MAX_SIZE) {
		ci_fail(e, CINFER_E_LIMIT, STAGE_JWE, "plaintext of %zu bytes", size);
		return NULL;
	}
	eph = ci_ec_keygen(c->crv, e);
	if (eph == NULL || ecdh(eph, recipient, z, &z_size, e) != 0 ||
	    ci_concat_kdf(z, z_size, JWE_ALG, NULL, 0, NULL, 0, kek, sizeof(kek), e) != 0 ||
	    ci_random(cek, sizeof(cek), e) != 0 || ci_random(iv, sizeof(iv), e) != 0 ||
	    ci_aes_kw_wrap(kek, cek, sizeof(cek), wrapped, e) != 0)
		goto out;
	epk = ci_jwk_from_pkey(eph, e);
	if (epk == NULL)
		goto out;
	hdr = json_pack("{s:s, s:s, s:O}", "alg", JWE_ALG, "enc", JWE_ENC, "epk", epk);
	hs = hdr ? ci_json_dump(hdr, 0) : NULL;
	h64 = hs ? ci_b64url_new(hs, strlen(hs)) : NULL;
	ct = ci_alloc(size + 1);
	if (h64 == NULL || ct == NULL) {
		ci_fail(e, CINFER_E_NOMEM, STAGE_JWE, "building JWE");
		goto out;
	}
	/* AAD is the ASCII of the encoded protected header (RFC 7516 5.1 step 14). */
	if (ci_aead_seal(cek, iv, h64, strlen(h64), pt, size, ct, tag, e) != 0)
		goto out;
	ek64 = ci_b64url_new(wrapped, sizeof(wrapped));
	iv64 = ci_b64url_new(iv, sizeof(iv));
	ct64 = ci_b64url_new(ct, size);
	tag64 = ci_b64url_new(tag, sizeof(tag));
	if (ek64 == NULL || iv64 == NULL || ct64 == NULL || tag64 == NULL) {
		ci_fail(e, CINFER_E_NOMEM, STAGE_JWE, "building JWE");
		goto out;
	}
	ret = json_pack("{s:s, s:s, s:s, s:s, s:s}", "protected", h64, "encrypted_key", ek64,
	    "iv", iv64, "ciphertext", ct64, "tag", tag64);
	if (ret == NULL)
		ci_fail(e, CINFER_E_NOMEM, STAGE_JWE, "building JWE");
out:
	ci_wipe(z, sizeof(z));
	ci_wipe(kek, sizeof(kek));
	ci_wipe(cek, sizeof(cek));
	EVP_PKEY_free(eph);
	json_decref(hdr);
	json_decref(epk);
	ci_free(ct);
	ci_free(hs);
	ci_free(h64);
	ci_free(ek64);
	ci_free(iv64);
	ci_free(ct64);
	ci_free(tag64);
	return ret;
}

int
ci_jwe_decrypt(EVP_PKEY *priv, const json_t *jwe, struct ci_secret *out, struct cinfer_err *e)
{
	static const char *const keys[] = { "protected", "encrypted_key", "iv", "ciphertext",
		"tag", "aad", "header", "unprotected", NULL };
	static const char *const hkeys[] = { "alg", "enc", "epk", "kid", "typ", "cty", "apu",
		"apv", NULL };
	const struct curve *c = curve_of_pkey(priv);
	const char *h64 = NULL, *alg = NULL, *enc = NULL;
	uint8_t *hb = NULL, *ek = NULL, *iv = NULL, *ct = NULL, *tag = NULL;
	uint8_t *apu = NULL, *apv = NULL;
	size_t hsize, ek_size, iv_size, ct_size, tag_size, apu_size = 0, apv_size = 0;
	uint8_t z[64], kek[32], cek[32];
	size_t z_size = sizeof(z);
	json_t *h = NULL;
	EVP_PKEY *epk = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (c == NULL)
		return ci_fail(e, CINFER_E_USAGE, STAGE_JWE, "private key is not EC");
	if (!json_is_object(jwe))
		return ci_fail(e, CINFER_E_MALFORMED, STAGE_JWE, "JWE is not an object");
	if (ci_json_known_keys(jwe, keys, STAGE_JWE, "JWE", e) != 0)
		return -1;
	if (json_object_get(jwe, "aad") != NULL || json_object_get(jwe, "header") != NULL ||
	    json_object_get(jwe, "unprotected") != NULL)
		return ci_fail(e, CINFER_E_UNSUPPORTED, STAGE_JWE,
		    "JWE with aad or unprotected headers");
	if (ci_json_str(jwe, "protected", 1, &h64, STAGE_JWE, e) != 0)
		return -1;
	if (strlen(h64) > 4096)
		return ci_fail(e, CINFER_E_LIMIT, STAGE_JWE, "protected header too long");
	if (ci_b64_decode(h64, strlen(h64), 1, &hb, &hsize, e) != 0 ||
	    ci_json_parse(hb, hsize, STAGE_JWE, &h, e) != 0)
		goto out;
	if (!json_is_object(h) || ci_json_known_keys(h, hkeys, STAGE_JWE, "JWE header", e) != 0 ||
	    ci_json_str(h, "alg", 1, &alg, STAGE_JWE, e) != 0 ||
	    ci_json_str(h, "enc", 1, &enc, STAGE_JWE, e) != 0) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE_JWE, "bad JWE protected header");
		goto out;
	}
	if (strcmp(alg, JWE_ALG) != 0 || strcmp(enc, JWE_ENC) != 0) {	/* public */
		ci_fail(e, CINFER_E_UNSUPPORTED, STAGE_JWE, "JWE must be " JWE_ALG " with " JWE_ENC);
		goto out;
	}
	if (json_object_get(h, "apu") != NULL &&
	    b64url_field(h, "apu", &apu, &apu_size, 1024, STAGE_JWE, e) != 0)
		goto out;
	if (json_object_get(h, "apv") != NULL &&
	    b64url_field(h, "apv", &apv, &apv_size, 1024, STAGE_JWE, e) != 0)
		goto out;
	epk = ci_jwk_parse(json_object_get(h, "epk"), e);
	if (epk == NULL)
		goto out;
	if (curve_of_pkey(epk) != c) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE_JWE, "epk is on another curve");
		goto out;
	}
	if (b64url_field(jwe, "encrypted_key", &ek, &ek_size, 128, STAGE_JWE, e) != 0 ||
	    b64url_field(jwe, "iv", &iv, &iv_size, 64, STAGE_JWE, e) != 0 ||
	    b64url_field(jwe, "tag", &tag, &tag_size, 64, STAGE_JWE, e) != 0 ||
	    b64url_field(jwe, "ciphertext", &ct, &ct_size, 2 * CI_JOSE_MAX_SIZE, STAGE_JWE,
	    e) != 0)
		goto out;
	if (ek_size != 40 || iv_size != CI_AEAD_NONCE_SIZE || tag_size != CI_AEAD_TAG_SIZE) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE_JWE, "JWE key, iv or tag has the wrong size");
		goto out;
	}
	if (ecdh(priv, epk, z, &z_size, e) != 0 ||
	    ci_concat_kdf(z, z_size, JWE_ALG, apu, apu_size, apv, apv_size, kek, sizeof(kek),
	    e) != 0 || ci_aes_kw_unwrap(kek, ek, ek_size, cek, e) != 0)
		goto out;
	if (ci_secret_init(out, ct_size, e) != 0)
		goto out;
	if (ci_aead_open(cek, iv, h64, strlen(h64), ct, ct_size, tag, out->p, e) != 0) {
		ci_secret_clear(out);
		goto out;
	}
	rc = 0;
out:
	ci_wipe(z, sizeof(z));
	ci_wipe(kek, sizeof(kek));
	ci_wipe(cek, sizeof(cek));
	EVP_PKEY_free(epk);
	json_decref(h);
	ci_free(hb);
	ci_free(ek);
	ci_free(iv);
	ci_free(ct);
	ci_free(tag);
	ci_free(apu);
	ci_free(apv);
	return rc;
}
