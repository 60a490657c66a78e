/*
 * Receipts: compact JWS, ES256, header {"alg":"ES256","typ":"cinfer-receipt+jws",
 * "jwk":{EC P-256 public key}}. The key in the header is trusted only because
 * the server's evidence binds its hash; the signature alone proves nothing.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include "cinfer/channel.h"
#include "cinfer/receipt.h"
#include "core/json.h"
#include "crypto/crypto.h"

#define STAGE "receipt"

void
cinfer_receipt_commit(int output, const uint8_t nonce[32], const void *p, size_t size,
    uint8_t out[32])
{
	const char *ctx = output ? "cinfer receipt v1 output" : "cinfer receipt v1 input";
	uint8_t zero = 0;
	struct ci_part parts[] = {
		{ ctx, strlen(ctx) }, { &zero, 1 }, { nonce, 32 }, { p, size },
	};

	if (ci_digest_parts(EVP_sha256(), parts, CI_ARRAY_LEN(parts), out, NULL) != 0)
		memset(out, 0, 32);
}

/* P-256 public key as {"kty":"EC","crv":"P-256","x","y"}. */
static json_t *
jwk_of(EVP_PKEY *k)
{
	uint8_t pub[65], *x = pub + 1, *y = pub + 33;
	size_t n = 0;
	char xs[64], ys[64];

	if (EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &n) != 1 ||
	    n != 65 || pub[0] != 0x04)
		return NULL;
	ci_b64url_encode(x, 32, xs);
	ci_b64url_encode(y, 32, ys);
	return json_pack("{s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256", "x", xs, "y", ys);
}

static EVP_PKEY *
key_of_jwk(const json_t *j, struct cinfer_err *e)
{
	static const char *const keys[] = { "kty", "crv", "x", "y", NULL };
	const char *kty = NULL, *crv = NULL, *xs = NULL, *ys = NULL;
	uint8_t pub[65], *x = NULL, *y = NULL;
	size_t xn = 0, yn = 0;
	OSSL_PARAM_BLD *b = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *k = NULL;

	if (!json_is_object(j) || ci_json_known_keys(j, keys, STAGE, "jwk", e) != 0 ||
	    ci_json_str(j, "kty", 1, &kty, STAGE, e) != 0 ||
	    ci_json_str(j, "crv", 1, &crv, STAGE, e) != 0 ||
	    ci_json_str(j, "x", 1, &xs, STAGE, e) != 0 || ci_json_str(j, "y", 1, &ys, STAGE, e) != 0)
		return NULL;
	if (strcmp(kty, "EC") != 0 || strcmp(crv, "P-256") != 0) {	/* public */
		ci_fail(e, CINFER_E_UNSUPPORTED, STAGE, "receipt key must be an EC P-256 JWK");
		return NULL;
	}
	if (ci_b64_decode(xs, strlen(xs), 1, &x, &xn, e) != 0 ||
	    ci_b64_decode(ys, strlen(ys), 1, &y, &yn, e) != 0 || xn != 32 || yn != 32) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE, "bad JWK coordinates");
		goto out;
	}
	pub[0] = 0x04;
	memcpy(pub + 1, x, 32);
	memcpy(pub + 33, y, 32);
	b = OSSL_PARAM_BLD_new();
	if (b == NULL || OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub)) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(b)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		ci_ossl_fail(e, CINFER_E_MALFORMED, STAGE, "JWK is not a P-256 point");
		k = NULL;
	}
out:
	ci_free(x);
	ci_free(y);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(b);
	return k;
}

static json_t *
hexj(const uint8_t *p, size_t n)
{
	char *h = ci_hex_new(p, n);
	json_t *s = json_string(h ? h : "");

	ci_free(h);
	return s;
}

char *
cinfer_receipt_sign(EVP_PKEY *key, const struct cinfer_receipt *r, struct cinfer_err *e)
{
	json_t *hdr = NULL, *pl = NULL;
	char *hs = NULL, *ps = NULL, *h64 = NULL, *p64 = NULL, *input = NULL, *out = NULL;
	uint8_t sig[64];
	char s64[90];
	const char *pn = cinfer_platform_name(r->platform);
	size_t n;

	hdr = json_pack("{s:s, s:s, s:o}", "alg", "ES256", "typ", "cinfer-receipt+jws", "jwk",
	    jwk_of(key));
	pl = json_pack("{s:s, s:s, s:I, s:s, s:b, s:o, s:{s:s, s:o}, s:o, s:o, s:o, s:o, s:o}",
	    "typ", "cinfer-receipt/v1", "session", r->session, "iat", (json_int_t)r->iat,
	    "platform", pn ? pn : "unknown", "simulated", r->simulated,
	    "measurement", hexj(r->measurement, r->measurement_size),
	    "model", "name", r->model_name, "sha256", hexj(r->model_sha256, 32),
	    "policy_sha256", hexj(r->policy_sha256, 32),
	    "tls_key_sha256", hexj(r->tls_key_sha256, 32),
	    "client_nonce", hexj(r->client_nonce, 32),
	    "input_commitment", hexj(r->input_commitment, 32),
	    "output_commitment", hexj(r->output_commitment, 32));
	if (hdr == NULL || pl == NULL)
		goto nomem;
	hs = json_dumps(hdr, JSON_COMPACT | JSON_SORT_KEYS);
	ps = json_dumps(pl, JSON_COMPACT | JSON_SORT_KEYS);
	h64 = hs ? ci_b64url_new(hs, strlen(hs)) : NULL;
	p64 = ps ? ci_b64url_new(ps, strlen(ps)) : NULL;
	if (h64 == NULL || p64 == NULL)
		goto nomem;
	n = strlen(h64) + 1 + strlen(p64);
	input = malloc(n + 1 + sizeof(s64));
	if (input == NULL)
		goto nomem;
	sprintf(input, "%s.%s", h64, p64);
	if (ci_ecdsa_sign_raw(key, EVP_sha256(), input, n, sig, sig + 32, 32, e) != 0)
		goto out;
	ci_b64url_encode(sig, 64, s64);
	sprintf(input + n, ".%s", s64);
	out = input;
	input = NULL;
	goto out;
nomem:
	ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
out:
	free(input);
	free(hs);
	free(ps);
	ci_free(h64);
	ci_free(p64);
	json_decref(hdr);
	json_decref(pl);
	return out;
}

static int
hex_field(const json_t *o, const char *k, uint8_t *dst, size_t size, struct cinfer_err *e)
{
	return ci_json_hex(o, k, 1, dst, size, size, NULL, STAGE, e);
}

int
cinfer_receipt_verify(const char *jws, size_t size, const struct cinfer_evidence *ev,
    const struct cinfer_policy *policy, const struct cinfer_verify_opts *opts,
    struct cinfer_receipt *r, struct cinfer_decision *d, struct cinfer_err *e)
{
	static const char *const hkeys[] = { "alg", "typ", "jwk", NULL };
	static const char *const pkeys[] = { "typ", "session", "iat", "platform", "simulated",
		"measurement", "model", "policy_sha256", "tls_key_sha256", "client_nonce",
		"input_commitment", "output_commitment", NULL };
	const char *dot1, *dot2, *s = NULL;
	uint8_t *hb = NULL, *pb = NULL, *sb = NULL, rk_hash[32], hashes[2][32], expect[64];
	size_t hn = 0, pn = 0, sn = 0, ms = 0;
	json_t *hdr = NULL, *pl = NULL, *model;
	EVP_PKEY *rk = NULL;
	struct cinfer_claims claims;
	int sim = 0, rc = -1;

	memset(r, 0, sizeof(*r));
	memset(d, 0, sizeof(*d));
	if (size > CINFER_RECEIPT_MAX_SIZE || memchr(jws, '\0', size) != NULL)
		return ci_fail(e, CINFER_E_LIMIT, STAGE, "receipt too large or not text");
	dot1 = memchr(jws, '.', size);
	dot2 = dot1 ? memchr(dot1 + 1, '.', size - (size_t)(dot1 + 1 - jws)) : NULL;
	if (dot2 == NULL || memchr(dot2 + 1, '.', size - (size_t)(dot2 + 1 - jws)) != NULL)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "a receipt is a compact JWS: a.b.c");
	if (ci_b64_decode(jws, (size_t)(dot1 - jws), 1, &hb, &hn, e) != 0 ||
	    ci_b64_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), 1, &pb, &pn, e) != 0 ||
	    ci_b64_decode(dot2 + 1, size - (size_t)(dot2 + 1 - jws), 1, &sb, &sn, e) != 0 ||
	    ci_json_parse(hb, hn, STAGE, &hdr, e) != 0 || ci_json_parse(pb, pn, STAGE, &pl, e) != 0)
		goto out;
	if (!json_is_object(hdr) || ci_json_known_keys(hdr, hkeys, STAGE, "header", e) != 0 ||
	    ci_json_str(hdr, "alg", 1, &s, STAGE, e) != 0)
		goto out;
	if (strcmp(s, "ES256") != 0) {	/* public */
		ci_fail(e, CINFER_E_UNSUPPORTED, STAGE, "receipt alg %.16s (only ES256)", s);
		goto out;
	}
	rk = key_of_jwk(json_object_get(hdr, "jwk"), e);
	if (rk == NULL)
		goto out;
	if (sn != 64) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE, "ES256 signature must be 64 bytes");
		goto out;
	}
	if (ci_ecdsa_verify_raw(rk, EVP_sha256(), jws, (size_t)(dot2 - jws), sb, sb + 32, 32,
		"receipt.signature", e) != 0)
		goto out;
	/* Payload fields. */
	if (!json_is_object(pl) || ci_json_known_keys(pl, pkeys, STAGE, "payload", e) != 0 ||
	    ci_json_str(pl, "typ", 1, &s, STAGE, e) != 0)
		goto out;
	if (strcmp(s, "cinfer-receipt/v1") != 0) {	/* public */
		ci_fail(e, CINFER_E_MALFORMED, STAGE, "not a cinfer receipt");
		goto out;
	}
	if (ci_json_str(pl, "session", 1, &s, STAGE, e) != 0)
		goto out;
	snprintf(r->session, sizeof(r->session), "%s", s);
	ci_str_mask(r->session);
	if (ci_json_int(pl, "iat", 1, &r->iat, STAGE, e) != 0 ||
	    ci_json_str(pl, "platform", 1, &s, STAGE, e) != 0 ||
	    ci_json_bool(pl, "simulated", 1, &sim, STAGE, e) != 0 ||
	    ci_json_hex(pl, "measurement", 1, r->measurement, 1, sizeof(r->measurement), &ms, STAGE, e) != 0 ||
	    hex_field(pl, "policy_sha256", r->policy_sha256, 32, e) != 0 ||
	    hex_field(pl, "tls_key_sha256", r->tls_key_sha256, 32, e) != 0 ||
	    hex_field(pl, "client_nonce", r->client_nonce, 32, e) != 0 ||
	    hex_field(pl, "input_commitment", r->input_commitment, 32, e) != 0 ||
	    hex_field(pl, "output_commitment", r->output_commitment, 32, e) != 0)
		goto out;
	r->platform = cinfer_platform_from_name(s);
	r->simulated = sim;
	r->measurement_size = ms;
	model = json_object_get(pl, "model");
	s = NULL;
	if (!json_is_object(model) || ci_json_str(model, "name", 1, &s, STAGE, e) != 0 ||
	    hex_field(model, "sha256", r->model_sha256, 32, e) != 0) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE, "receipt model must be {name, sha256}");
		goto out;
	}
	snprintf(r->model_name, sizeof(r->model_name), "%s", s);
	ci_str_mask(r->model_name);
	/* The evidence must bind this receipt key (with the TLS key named in the receipt). */
	if (ci_pkey_spki_sha256(rk, rk_hash, e) != 0)
		goto out;
	memcpy(hashes[0], r->tls_key_sha256, 32);
	memcpy(hashes[1], rk_hash, 32);
	if (cinfer_bind_report_data_hashed(CINFER_BIND_TLS, NULL, 0, (const uint8_t (*)[32])hashes,
		2, expect, e) != 0)
		goto out;
	if (cinfer_evidence_verify(ev, opts, &claims, e) != 0)
		goto out;
	if (claims.report_data_size != 64 || ci_ct_eq(claims.report_data, expect, 64) != 0) {
		ci_fail(e, CINFER_E_CRYPTO, "receipt.binding",
		    "the evidence does not bind this receipt's signing key");
		goto out;
	}
	if (claims.platform != r->platform || claims.measurement_size != r->measurement_size ||
	    memcmp(claims.measurement, r->measurement, ms) != 0 ||	/* public */
	    claims.simulated != r->simulated) {
		ci_fail(e, CINFER_E_CRYPTO, "receipt.claims",
		    "the receipt's platform or measurement differs from the evidence");
		goto out;
	}
	if (policy != NULL) {
		struct cinfer_policy_input in = { .claims = &claims, .claims_count = 1,
			.at = opts ? opts->at : 0, .expected_report_data = expect,
			.expected_report_data_size = 64 };
		if (cinfer_policy_eval(policy, &in, d, e) != 0)
			goto out;
		if (!d->accepted) {
			ci_fail(e, CINFER_E_POLICY, "receipt.policy",
			    "the receipt is genuine, but the policy rejects the server that signed it");
			goto out;
		}
	}
	rc = 0;
out:
	EVP_PKEY_free(rk);
	json_decref(hdr);
	json_decref(pl);
	ci_free(hb);
	ci_free(pb);
	ci_free(sb);
	return rc;
}
