/*
 * AWS Nitro Enclaves attestation document verifier.
 *
 * Order: parse (strict CBOR, every field typed and sized), chain (leaf
 * <- cabundle[1..] <- the pinned AWS Nitro Enclaves root G1 at `at`;
 * cabundle[0] must be byte-identical to the pinned root, never trusted on
 * its own), ES384 over the COSE Sig_structure with the leaf key, document
 * time inside the leaf's validity, then claims. Judging PCRs and debug is
 * the policy's job.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "crypto/crypto.h"
#include "evidence/nitro.h"

#define STAGE "evidence.nitro"
#define STAGE_PARSE "evidence.nitro.parse"
#define STAGE_CHAIN "evidence.nitro.chain"
#define STAGE_SIG "evidence.nitro.signature"
#define STAGE_TIME "evidence.nitro.time"

static int
opt_bytes(const cbor_item_t *map, const char *key, size_t max, struct ci_nitro_bytes *b,
    struct cinfer_err *e)
{
	cbor_item_t *v = ci_cbor_map_text(map, key);

	b->p = NULL;
	b->size = 0;
	if (v == NULL || ci_cbor_is_null(v))
		return 0;
	return ci_cbor_get_bytes(v, key, 0, max, &b->p, &b->size, STAGE_PARSE, e);
}

int
ci_nitro_doc_parse(struct ci_nitro_doc *d, const uint8_t *p, size_t size, struct cinfer_err *e)
{
	static const struct ci_cbor_limits lim = { 8, 1024, 0 };
	cbor_item_t *m, *v;
	struct cbor_pair *pairs;
	cbor_item_t **items;
	size_t n;
	int rc = -1;

	memset(d, 0, sizeof(*d));
	if (size > CI_NITRO_DOC_MAX)
		return ci_fail(e, CINFER_E_LIMIT, STAGE_PARSE, "document of %zu bytes is over the "
		    "limit of %u", size, CI_NITRO_DOC_MAX);
	if (ci_cose_sign1_parse(&d->cose, p, size, STAGE_PARSE, e) != 0)
		return -1;
	if (ci_cbor_decode(d->cose.payload, d->cose.payload_size, &lim, NULL, &d->payload,
		STAGE_PARSE, e) != 0)
		goto out;
	m = d->payload;
	if (!cbor_isa_map(m)) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE_PARSE, "document payload is not a map");
		goto out;
	}
	if (ci_cbor_get_text(ci_cbor_map_text(m, "module_id"), "module_id", d->module_id,
		sizeof(d->module_id), STAGE_PARSE, e) != 0 ||
	    ci_cbor_get_text(ci_cbor_map_text(m, "digest"), "digest", d->digest,
		sizeof(d->digest), STAGE_PARSE, e) != 0 ||
	    ci_cbor_get_uint(ci_cbor_map_text(m, "timestamp"), "timestamp", &d->timestamp_ms,
		STAGE_PARSE, e) != 0)
		goto out;
	if (strcmp(d->digest, "SHA384") != 0) {	/* public */
		ci_fail(e, CINFER_E_UNSUPPORTED, STAGE_PARSE, "digest \"%s\" is not SHA384",
		    d->digest);
		goto out;
	}
	if (d->timestamp_ms == 0 || d->timestamp_ms > (uint64_t)INT64_MAX) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE_PARSE, "timestamp is out of range");
		goto out;
	}
	/* pcrs: {index 0..31: bstr of 48 bytes} */
	v = ci_cbor_map_text(m, "pcrs");
	if (v == NULL || !cbor_isa_map(v) || cbor_map_size(v) == 0 ||
	    cbor_map_size(v) > CI_NITRO_PCR_MAX) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE_PARSE, "pcrs must be a map of 1..%d PCRs",
		    CI_NITRO_PCR_MAX);
		goto out;
	}
	pairs = cbor_map_handle(v);
	n = cbor_map_size(v);
	for (size_t i = 0; i < n; i++) {
		uint64_t idx;
		struct ci_nitro_bytes *b;
		if (ci_cbor_get_uint(pairs[i].key, "PCR index", &idx, STAGE_PARSE, e) != 0)
			goto out;
		if (idx >= CI_NITRO_PCR_MAX) {
			ci_fail(e, CINFER_E_MALFORMED, STAGE_PARSE, "PCR index %llu is out of range",
			    (unsigned long long)idx);
			goto out;
		}
		b = &d->pcr[idx];
		if (ci_cbor_get_bytes(pairs[i].value, "PCR value", CI_SHA384_SIZE, CI_SHA384_SIZE,
			&b->p, &b->size, STAGE_PARSE, e) != 0)
			goto out;
		d->pcr_count++;
	}
	if (d->pcr[0].size == 0) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE_PARSE, "PCR0 is missing");
		goto out;
	}
	if (ci_cbor_get_bytes(ci_cbor_map_text(m, "certificate"), "certificate", 1,
		CI_NITRO_CERT_MAX, &d->certificate.p, &d->certificate.size, STAGE_PARSE, e) != 0)
		goto out;
	v = ci_cbor_map_text(m, "cabundle");
	if (v == NULL || !cbor_isa_array(v) || cbor_array_size(v) == 0 ||
	    cbor_array_size(v) > CI_NITRO_CABUNDLE_MAX) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE_PARSE,
		    "cabundle must be an array of 1..%d certificates", CI_NITRO_CABUNDLE_MAX);
		goto out;
	}
	items = cbor_array_handle(v);
	d->cabundle_count = cbor_array_size(v);
	for (size_t i = 0; i < d->cabundle_count; i++)
		if (ci_cbor_get_bytes(items[i], "cabundle certificate", 1, CI_NITRO_CERT_MAX,
			&d->cabundle[i].p, &d->cabundle[i].size, STAGE_PARSE, e) != 0)
			goto out;
	if (opt_bytes(m, "public_key", CI_NITRO_PUBKEY_MAX, &d->public_key, e) != 0 ||
	    opt_bytes(m, "user_data", CI_NITRO_USER_DATA_MAX, &d->user_data, e) != 0 ||
	    opt_bytes(m, "nonce", CI_NITRO_NONCE_MAX, &d->nonce, e) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		ci_nitro_doc_clear(d);
	return rc;
}

void
ci_nitro_doc_clear(struct ci_nitro_doc *d)
{
	if (d->payload != NULL)
		cbor_decref(&d->payload);
	ci_cose_sign1_clear(&d->cose);
	memset(d, 0, sizeof(*d));
}

int
ci_nitro_doc_time(const uint8_t *p, size_t size, int64_t *t, struct cinfer_err *e)
{
	struct ci_nitro_doc d;

	*t = 0;
	if (ci_nitro_doc_parse(&d, p, size, e) != 0)
		return -1;
	*t = (int64_t)(d.timestamp_ms / 1000);
	ci_nitro_doc_clear(&d);
	return 0;
}

static int
asn1_unix(const ASN1_TIME *a, int64_t *t)
{
	struct tm tm;

	if (a == NULL || ASN1_TIME_to_tm(a, &tm) != 1)
		return -1;
	*t = (int64_t)timegm(&tm);
	return 0;
}

static X509 *
der_cert(const struct ci_nitro_bytes *b, const char *what, struct cinfer_err *e)
{
	const unsigned char *dp = b->p;
	X509 *x = d2i_X509(NULL, &dp, (long)b->size);

	if (x == NULL || dp != b->p + b->size) {
		X509_free(x);
		ERR_clear_error();
		ci_fail(e, CINFER_E_MALFORMED, STAGE_CHAIN, "%s is not one DER certificate", what);
		return NULL;
	}
	return x;
}

/*
 * The chain check without OpenSSL's strict profile: AWS's Nitro leaf
 * certificates carry no Authority Key Identifier, which RFC 5280's strict
 * profile demands. Signatures, validity at `at`, CA basic constraints and
 * key usage are still checked.
 */
static int
verify_chain(X509 *leaf, STACK_OF(X509) *inter, X509 *root, int64_t at, struct cinfer_err *e)
{
	STACK_OF(X509) *roots = sk_X509_new_null();
	int rc;

	if (roots == NULL || !sk_X509_push(roots, root)) {
		sk_X509_free(roots);
		return ci_fail(e, CINFER_E_NOMEM, STAGE_CHAIN, "out of memory");
	}
	rc = ci_x509_verify_chain_ex(leaf, inter, roots, NULL, at, CI_X509_NOT_STRICT, STAGE_CHAIN, e);
	sk_X509_free(roots);	/* the root stays the caller's */
	return rc;
}

/* Loads the pinned root and returns its DER encoding too. */
static X509 *
load_root(const struct cinfer_verify_opts *opts, uint8_t **der, size_t *der_size,
    struct cinfer_err *e)
{
	char buf[4096], path[4200];
	const char *dir = ci_roots_dir(opts, buf, sizeof(buf));
	uint8_t *pem = NULL, *d = NULL;
	size_t pem_size = 0;
	X509 *root = NULL;
	int n;

	*der = NULL;
	*der_size = 0;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, CI_NITRO_ROOT_FILE) >= sizeof(path)) {
		ci_fail(e, CINFER_E_USAGE, STAGE_CHAIN, "roots directory path too long");
		return NULL;
	}
	if (ci_file_read(path, 64 * 1024, &pem, &pem_size, e) != 0) {
		ci_fail(e, CINFER_E_IO, STAGE_CHAIN, "cannot read the AWS Nitro root %s", path);
		return NULL;
	}
	root = ci_x509_parse(pem, pem_size, e);
	ci_free(pem);
	if (root == NULL)
		return NULL;
	n = i2d_X509(root, NULL);
	if (n <= 0 || (d = ci_alloc((size_t)n)) == NULL) {
		X509_free(root);
		ci_fail(e, CINFER_E_NOMEM, STAGE_CHAIN, "out of memory");
		return NULL;
	}
	{
		unsigned char *w = d;
		if (i2d_X509(root, &w) != n) {
			ci_free(d);
			X509_free(root);
			ci_fail(e, CINFER_E_INTERNAL, STAGE_CHAIN, "cannot encode the root");
			return NULL;
		}
	}
	*der = d;
	*der_size = (size_t)n;
	return root;
}

static void
add_bytes_claims(struct cinfer_claims *c, const char *name, const struct ci_nitro_bytes *b)
{
	char key[32], num[24];
	uint8_t h[CI_SHA256_SIZE];

	if (b->p == NULL)
		return;
	snprintf(key, sizeof(key), "%s_size", name);
	snprintf(num, sizeof(num), "%zu", b->size);
	cinfer_claims_add_detail(c, key, num);
	if (b->size <= 64)
		cinfer_claims_add_detail_hex(c, name, b->p, b->size);
	ci_sha256(b->p, b->size, h);
	snprintf(key, sizeof(key), "%s_sha256", name);
	cinfer_claims_add_detail_hex(c, key, h, sizeof(h));
}

static void
fill_claims(const struct ci_nitro_doc *d, X509 *leaf, const uint8_t *root_der,
    size_t root_size, struct cinfer_claims *c)
{
	char num[32], cn[128];
	uint8_t h[CI_SHA256_SIZE];

	memcpy(c->measurement, d->pcr[0].p, d->pcr[0].size);
	c->measurement_size = d->pcr[0].size;
	for (unsigned i = 0; i <= 8; i++) {
		char name[8];
		if (d->pcr[i].size == 0)
			continue;
		snprintf(name, sizeof(name), "pcr%u", i);
		cinfer_claims_add_meas(c, name, d->pcr[i].p, d->pcr[i].size);
	}
	/* A debug-mode enclave reports PCR0, PCR1 and PCR2 as all zero. */
	c->debug = 1;
	for (unsigned i = 0; i <= 2; i++)
		if (d->pcr[i].size == 0 || !ci_is_zero(d->pcr[i].p, d->pcr[i].size))
			c->debug = 0;
	if (d->user_data.p != NULL && d->user_data.size <= sizeof(c->report_data)) {
		memcpy(c->report_data, d->user_data.p, d->user_data.size);
		c->report_data_size = d->user_data.size;
	}
	if (d->nonce.p != NULL && d->nonce.size <= sizeof(c->host_data)) {
		memcpy(c->host_data, d->nonce.p, d->nonce.size);
		c->host_data_size = d->nonce.size;
	}
	snprintf(c->signer, sizeof(c->signer), "nitro-root-g1");
	ci_sha256(d->module_id, strlen(d->module_id), c->chip_id);
	c->chip_id_size = CI_SHA256_SIZE;
	c->produced_at = (int64_t)(d->timestamp_ms / 1000);
	cinfer_claims_add_detail(c, "module_id", d->module_id);
	cinfer_claims_add_detail(c, "digest", d->digest);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)d->timestamp_ms);
	cinfer_claims_add_detail(c, "timestamp_ms", num);
	add_bytes_claims(c, "user_data", &d->user_data);
	add_bytes_claims(c, "nonce", &d->nonce);
	add_bytes_claims(c, "public_key", &d->public_key);
	snprintf(num, sizeof(num), "%zu", d->pcr_count);
	cinfer_claims_add_detail(c, "pcr_count", num);
	snprintf(num, sizeof(num), "%zu", d->cabundle_count);
	cinfer_claims_add_detail(c, "cabundle_count", num);
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(leaf), NID_commonName, cn,
		sizeof(cn)) > 0)
		cinfer_claims_add_detail(c, "leaf_cn", cn);
	ci_sha256(root_der, root_size, h);
	cinfer_claims_add_detail_hex(c, "root_sha256", h, sizeof(h));
	if (c->debug)
		cinfer_claims_add_detail(c, "mode", "debug (PCR0-2 all zero)");
}

int
ci_nitro_verify(const struct cinfer_evidence *ev, const struct cinfer_verify_opts *opts,
    int64_t at, struct cinfer_claims *claims, struct cinfer_err *e)
{
	struct ci_nitro_doc d;
	X509 *root = NULL, *leaf = NULL;
	STACK_OF(X509) *inter = NULL;
	EVP_PKEY *pub = NULL;
	uint8_t *root_der = NULL;
	size_t root_size = 0;
	int64_t doc_t, nb, na;
	int rc = -1;

	if (ci_nitro_doc_parse(&d, ev->evidence, ev->evidence_size, e) != 0)
		return -1;
	/* chain */
	root = load_root(opts, &root_der, &root_size, e);
	if (root == NULL)
		goto out;
	if (d.cabundle[0].size != root_size ||
	    memcmp(d.cabundle[0].p, root_der, root_size) != 0) {	/* public */
		ci_fail(e, CINFER_E_CRYPTO, STAGE_CHAIN,
		    "cabundle root is not the pinned AWS Nitro Enclaves root G1");
		goto out;
	}
	leaf = der_cert(&d.certificate, "certificate", e);
	inter = sk_X509_new_null();
	if (leaf == NULL || inter == NULL) {
		if (leaf != NULL)
			ci_fail(e, CINFER_E_NOMEM, STAGE_CHAIN, "out of memory");
		goto out;
	}
	for (size_t i = 1; i < d.cabundle_count; i++) {
		X509 *x = der_cert(&d.cabundle[i], "cabundle certificate", e);
		if (x == NULL)
			goto out;
		if (!sk_X509_push(inter, x)) {
			X509_free(x);
			ci_fail(e, CINFER_E_NOMEM, STAGE_CHAIN, "out of memory");
			goto out;
		}
	}
	if (verify_chain(leaf, inter, root, at, e) != 0)
		goto out;
	/* signature */
	if (d.cose.alg != CI_COSE_ES384) {
		ci_fail(e, CINFER_E_CRYPTO, STAGE_SIG, "document is signed with %s, not ES384",
		    ci_cose_alg_name(d.cose.alg));
		goto out;
	}
	pub = X509_get_pubkey(leaf);
	if (pub == NULL) {
		ci_ossl_fail(e, CINFER_E_CRYPTO, STAGE_SIG, "leaf certificate has no usable key");
		goto out;
	}
	if (ci_cose_sign1_verify(&d.cose, pub, STAGE_SIG, e) != 0) {
		if (e != NULL && strcmp(e->msg, "ECDSA signature does not verify") == 0) /* public */
			snprintf(e->msg, sizeof(e->msg),
			    "ES384 signature over the document does not verify with its leaf "
			    "certificate");
		goto out;
	}
	/* time: the leaf signed the document while it was valid, not from the future */
	doc_t = (int64_t)(d.timestamp_ms / 1000);
	if (asn1_unix(X509_get0_notBefore(leaf), &nb) != 0 ||
	    asn1_unix(X509_get0_notAfter(leaf), &na) != 0) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE_TIME, "leaf certificate validity is unreadable");
		goto out;
	}
	if (doc_t < nb || doc_t > na) {
		ci_fail(e, CINFER_E_CRYPTO, STAGE_TIME,
		    "document timestamp %lld is outside its leaf certificate's validity "
		    "(%lld..%lld)", (long long)doc_t, (long long)nb, (long long)na);
		goto out;
	}
	if (doc_t - CI_NITRO_SKEW > at) {
		ci_fail(e, CINFER_E_STALE, STAGE_TIME,
		    "document timestamp %lld is after the verification time %lld", (long long)doc_t,
		    (long long)at);
		goto out;
	}
	fill_claims(&d, leaf, root_der, root_size, claims);
	rc = 0;
out:
	EVP_PKEY_free(pub);
	X509_free(leaf);
	X509_free(root);
	sk_X509_pop_free(inter, X509_free);
	ci_free(root_der);
	ci_nitro_doc_clear(&d);
	return rc;
}

/* ---- attested TLS ------------------------------------------------------------ */

int
ci_nitro_doc_from_cert(const uint8_t *cert, size_t size, uint8_t **doc, size_t *doc_size,
    struct cinfer_err *e)
{
	X509 *x = ci_x509_parse(cert, size, e);
	GENERAL_NAMES *names = NULL;
	uint8_t *buf = NULL;
	int rc = -1;

	*doc = NULL;
	*doc_size = 0;
	if (x == NULL)
		return -1;
	names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		const char *s;
		const char *dot;
		size_t len, n = 0;
		struct ci_cose_sign1 m;
		if (g->type != GEN_DNS || g->d.dNSName == NULL)
			continue;
		s = (const char *)ASN1_STRING_get0_data(g->d.dNSName);
		len = (size_t)ASN1_STRING_length(g->d.dNSName);
		dot = memchr(s, '.', len);
		if (dot != NULL)
			len = (size_t)(dot - s);
		if (len < 128 || len % 2 != 0 || len / 2 > CI_NITRO_DOC_MAX)
			continue;
		buf = ci_alloc(len / 2);
		if (buf == NULL) {
			ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
			goto out;
		}
		if (ci_hex_decode(s, len, buf, len / 2, &n, NULL) != 0 ||
		    ci_cose_sign1_parse(&m, buf, n, STAGE, NULL) != 0) {
			ci_free(buf);
			buf = NULL;
			continue;
		}
		ci_cose_sign1_clear(&m);
		*doc = buf;
		*doc_size = n;
		buf = NULL;
		rc = 0;
		goto out;
	}
	ci_fail(e, CINFER_E_MALFORMED, STAGE,
	    "certificate carries no attestation document in its subject alternative names");
out:
	ERR_clear_error();
	ci_free(buf);
	GENERAL_NAMES_free(names);
	X509_free(x);
	return rc;
}

int
ci_nitro_check_cert_binding(const struct cinfer_claims *claims, const uint8_t *cert,
    size_t size, struct cinfer_err *e)
{
	X509 *x;
	const char *want = cinfer_claims_detail(claims, "user_data_sha256");
	unsigned char *spki = NULL;
	uint8_t h[CI_SHA256_SIZE];
	char hex[2 * CI_SHA256_SIZE + 1];
	int n, rc = -1;

	if (claims->platform != CINFER_PLATFORM_NITRO || want == NULL)
		return ci_fail(e, CINFER_E_CRYPTO, STAGE, "the document has no user_data to bind "
		    "a certificate");
	x = ci_x509_parse(cert, size, e);
	if (x == NULL)
		return -1;
	n = i2d_PUBKEY(X509_get0_pubkey(x), &spki);
	if (n <= 0) {
		ci_ossl_fail(e, CINFER_E_MALFORMED, STAGE, "certificate key cannot be encoded");
		goto out;
	}
	ci_sha256(spki, (size_t)n, h);
	ci_hex_encode(h, sizeof(h), hex);
	if (strcmp(hex, want) != 0) {	/* public */
		ci_fail(e, CINFER_E_CRYPTO, STAGE,
		    "document user_data is not the certificate's public key (SPKI)");
		goto out;
	}
	rc = 0;
out:
	OPENSSL_free(spki);
	X509_free(x);
	return rc;
}
