/*
 * Attested TLS certificates: build them inside the TEE, check them in the
 * client's handshake. The check is authenticity, then binding, then the
 * client's own policy, and the handshake fails unless all three pass.
 */
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "cinfer/channel.h"
#include "core/json.h"
#include "crypto/crypto.h"

#define STAGE "channel.ratls"
#define CMW_MAX (256u << 10)

int
cinfer_bind_report_data_hashed(const char *context, const uint8_t *nonce, size_t nonce_size,
    const uint8_t (*key_hashes)[32], size_t count, uint8_t out[64], struct cinfer_err *e)
{
	struct ci_part parts[4 + 8];
	uint8_t len[4], zero = 0;
	size_t n = 0;

	if (nonce_size > 1024 || count > 8)
		return ci_fail(e, CINFER_E_LIMIT, "channel.bind", "nonce or key list too long");
	len[0] = (uint8_t)(nonce_size >> 24);
	len[1] = (uint8_t)(nonce_size >> 16);
	len[2] = (uint8_t)(nonce_size >> 8);
	len[3] = (uint8_t)nonce_size;
	parts[n++] = (struct ci_part){ context, strlen(context) };
	parts[n++] = (struct ci_part){ &zero, 1 };
	parts[n++] = (struct ci_part){ len, 4 };
	parts[n++] = (struct ci_part){ nonce, nonce_size };
	for (size_t i = 0; i < count; i++)
		parts[n++] = (struct ci_part){ key_hashes[i], 32 };
	return ci_digest_parts(EVP_sha512(), parts, n, out, e);
}

int
cinfer_bind_report_data(const char *context, const uint8_t *nonce, size_t nonce_size,
    EVP_PKEY *const *keys, uint8_t out[64], struct cinfer_err *e)
{
	uint8_t h[8][32];
	size_t n = 0;

	for (; keys != NULL && *keys != NULL; keys++) {
		if (n == 8)
			return ci_fail(e, CINFER_E_LIMIT, "channel.bind", "too many keys");
		if (ci_pkey_spki_sha256(*keys, h[n++], e) != 0)
			return -1;
	}
	return cinfer_bind_report_data_hashed(context, nonce, nonce_size,
	    (const uint8_t (*)[32])h, n, out, e);
}

static int
add_ext(X509 *x, const char *oid, const unsigned char *p, size_t size)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext = NULL;
	int ok = 0;

	if (obj != NULL && os != NULL && size <= INT32_MAX &&
	    ASN1_OCTET_STRING_set(os, p, (int)size) == 1) {
		ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os);
		ok = ext != NULL && X509_add_ext(x, ext, -1) == 1;
	}
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
	return ok ? 0 : -1;
}

X509 *
cinfer_ratls_cert_new(EVP_PKEY *tls_key, EVP_PKEY *receipt_key,
    const struct cinfer_evidence *ev, int64_t now, struct cinfer_err *e)
{
	X509 *x = X509_new();
	X509_NAME *n = NULL;
	char *env = NULL, *b64 = NULL, *cmw = NULL;
	unsigned char *spki = NULL;
	int spki_size;
	uint8_t serial[16];
	BIGNUM *bn = NULL;
	time_t t = (time_t)now;

	env = cinfer_evidence_to_json(ev, e);
	if (env == NULL || x == NULL)
		goto fail;
	b64 = ci_b64url_new(env, strlen(env));
	cmw = b64 ? ci_alloc(strlen(b64) + sizeof(CINFER_CMW_TYPE) + 16) : NULL;
	if (cmw == NULL) {
		ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
		goto fail;
	}
	sprintf(cmw, "[\"%s\",\"%s\"]", CINFER_CMW_TYPE, b64);
	spki_size = i2d_PUBKEY(receipt_key, &spki);
	if (ci_random(serial, sizeof(serial), e) != 0)
		goto fail;
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	n = X509_NAME_new();
	if (spki_size <= 0 || bn == NULL || n == NULL ||
	    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"cinferd attested TLS",
		-1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)(
		ev->platform == CINFER_PLATFORM_SIM ? "cinfer (SIMULATED platform)" : "cinfer"),
		-1, -1, 0) != 1 ||
	    X509_set_version(x, 2) != 1 || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL ||
	    X509_set_subject_name(x, n) != 1 || X509_set_issuer_name(x, n) != 1 ||
	    X509_time_adj_ex(X509_getm_notBefore(x), 0, -3600, &t) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), 30, 0, &t) == NULL ||
	    X509_set_pubkey(x, tls_key) != 1 ||
	    add_ext(x, CINFER_OID_CMW, (unsigned char *)cmw, strlen(cmw)) != 0 ||
	    add_ext(x, CINFER_OID_RECEIPT_KEY, spki, (size_t)spki_size) != 0 ||
	    X509_sign(x, tls_key, EVP_sha256()) <= 0) {
		ci_ossl_fail(e, CINFER_E_INTERNAL, STAGE, "cannot build the attested certificate");
		goto fail;
	}
	goto done;
fail:
	X509_free(x);
	x = NULL;
done:
	BN_free(bn);
	X509_NAME_free(n);
	OPENSSL_free(spki);
	free(env);
	ci_free(b64);
	ci_free(cmw);
	return x;
}

static ASN1_OCTET_STRING *
ext_data(X509 *x, const char *oid, int *count)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	ASN1_OCTET_STRING *d = NULL;
	int idx = -1;

	*count = 0;
	if (obj == NULL)
		return NULL;
	while ((idx = X509_get_ext_by_OBJ(x, obj, idx)) >= 0) {
		(*count)++;
		d = X509_EXTENSION_get_data(X509_get_ext(x, idx));
	}
	ASN1_OBJECT_free(obj);
	return d;
}

int
cinfer_ratls_cert_parse(X509 *cert, struct cinfer_evidence *ev, EVP_PKEY **receipt_key,
    struct cinfer_err *e)
{
	ASN1_OCTET_STRING *cmw, *rk;
	json_t *arr = NULL;
	uint8_t *env = NULL;
	size_t env_size = 0;
	const unsigned char *p;
	int n1, n2, rc = -1;

	cinfer_evidence_init(ev);
	*receipt_key = NULL;
	cmw = ext_data(cert, CINFER_OID_CMW, &n1);
	rk = ext_data(cert, CINFER_OID_RECEIPT_KEY, &n2);
	if (cmw == NULL || n1 != 1)
		return ci_fail(e, CINFER_E_CRYPTO, STAGE,
		    "server certificate carries %s evidence extension", n1 ? "more than one" : "no");
	if (rk == NULL || n2 != 1)
		return ci_fail(e, CINFER_E_CRYPTO, STAGE, "server certificate lacks its receipt key");
	if ((size_t)ASN1_STRING_length(cmw) > CMW_MAX)
		return ci_fail(e, CINFER_E_LIMIT, STAGE, "evidence extension too large");
	if (ci_json_parse(ASN1_STRING_get0_data(cmw), (size_t)ASN1_STRING_length(cmw), STAGE, &arr, e) != 0)
		return -1;
	if (!json_is_array(arr) || json_array_size(arr) != 2 ||
	    !json_is_string(json_array_get(arr, 0)) || !json_is_string(json_array_get(arr, 1)) ||
	    strcmp(json_string_value(json_array_get(arr, 0)), CINFER_CMW_TYPE) != 0) {	/* public */
		ci_fail(e, CINFER_E_MALFORMED, STAGE, "evidence extension is not a cinfer CMW record");
		goto out;
	}
	if (ci_b64_decode(json_string_value(json_array_get(arr, 1)),
		json_string_length(json_array_get(arr, 1)), 1, &env, &env_size, e) != 0 ||
	    cinfer_evidence_parse_json(ev, env, env_size, e) != 0)
		goto out;
	p = ASN1_STRING_get0_data(rk);
	*receipt_key = d2i_PUBKEY(NULL, &p, ASN1_STRING_length(rk));
	if (*receipt_key == NULL || p != ASN1_STRING_get0_data(rk) + ASN1_STRING_length(rk)) {
		EVP_PKEY_free(*receipt_key);
		*receipt_key = NULL;
		ERR_clear_error();
		ci_fail(e, CINFER_E_MALFORMED, STAGE, "receipt key extension is not a public key");
		goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		cinfer_evidence_clear(ev);
	ci_free(env);
	json_decref(arr);
	return rc;
}

int
cinfer_ratls_verify_cert(X509 *cert, struct cinfer_ratls_verifier *v)
{
	struct cinfer_evidence ev;
	EVP_PKEY *rk = NULL, *tls = NULL;
	uint8_t expect[64];
	unsigned int n = 0;
	int rc = -1;

	v->done = 1;
	v->accepted = 0;
	cinfer_err_clear(&v->err);
	memset(&v->decision, 0, sizeof(v->decision));
	if (v->policy == NULL)
		return ci_fail(&v->err, CINFER_E_USAGE, STAGE,
		    "no client policy: cinfer never sends input to an unchecked server");
	X509_digest(cert, EVP_sha256(), v->cert_sha256, &n);
	if (cinfer_ratls_cert_parse(cert, &ev, &rk, &v->err) != 0)
		return -1;
	tls = X509_get0_pubkey(cert);
	{
		EVP_PKEY *keys[] = { tls, rk, NULL };
		if (tls == NULL || cinfer_bind_report_data(CINFER_BIND_TLS, NULL, 0, keys, expect,
			&v->err) != 0)
			goto out;
	}
	if (cinfer_evidence_verify(&ev, &v->opts, &v->claims, &v->err) != 0)
		goto out;
	{
		struct cinfer_policy_input in = { .claims = &v->claims, .claims_count = 1,
			.at = v->opts.at, .expected_report_data = expect,
			.expected_report_data_size = 64, .freshness_checked_elsewhere = 1 };
		if (cinfer_policy_eval(v->policy, &in, &v->decision, &v->err) != 0)
			goto out;
	}
	if (!v->decision.accepted) {
		ci_fail(&v->err, CINFER_E_POLICY, "channel.ratls.policy",
		    "the server's evidence is authentic but the client policy rejects it");
		goto out;
	}
	v->accepted = 1;
	EVP_PKEY_free(v->receipt_key);
	v->receipt_key = rk;
	rk = NULL;
	EVP_PKEY_free(v->tls_key);
	v->tls_key = tls;
	EVP_PKEY_up_ref(tls);
	free(v->evidence_json);
	v->evidence_json = cinfer_evidence_to_json(&ev, NULL);
	rc = 0;
out:
	EVP_PKEY_free(rk);
	cinfer_evidence_clear(&ev);
	return rc;
}

static int
verify_cb(X509_STORE_CTX *sctx, void *arg)
{
	struct cinfer_ratls_verifier *v = arg;
	X509 *leaf = X509_STORE_CTX_get0_cert(sctx);

	if (leaf == NULL || cinfer_ratls_verify_cert(leaf, v) != 0) {
		X509_STORE_CTX_set_error(sctx, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	X509_STORE_CTX_set_error(sctx, X509_V_OK);
	return 1;
}

void
cinfer_ratls_ctx_set_verifier(SSL_CTX *ctx, struct cinfer_ratls_verifier *v)
{
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_cert_verify_callback(ctx, verify_cb, v);
}

void
cinfer_ratls_verifier_clear(struct cinfer_ratls_verifier *v)
{
	EVP_PKEY_free(v->receipt_key);
	v->receipt_key = NULL;
	EVP_PKEY_free(v->tls_key);
	v->tls_key = NULL;
	free(v->evidence_json);
	v->evidence_json = NULL;
}
