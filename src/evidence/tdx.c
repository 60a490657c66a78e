/*
 * Intel TDX quote verification: quote signature by the attestation key,
 * QE report signed by the PCK, QE report_data binding the attestation
 * key, PCK chain to the pinned Intel SGX Root CA, CRLs, TCB info and QE
 * identity (signed by the TCB signing key) and TCB level selection.
 * Order: parse, signatures, chain and revocation, collateral, TCB.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/x509v3.h>

#include "crypto/crypto.h"
#include "evidence/intel_collateral.h"
#include "evidence/intel_pck.h"
#include "evidence/tdx.h"
#include "evidence/tdx_ccel.h"
#include "evidence/tdx_quote.h"

#define ST_QUOTE "evidence.tdx.quote"
#define ST_QE "evidence.tdx.qe"
#define ST_CHAIN "evidence.tdx.chain"
#define ST_CRL "evidence.tdx.crl"
#define ST_COLL "evidence.tdx.collateral"
#define ST_TCB "evidence.tdx.tcb"

#define ROOT_FILE "intel/intel_sgx_root_ca.pem"
#define PEM_FILE_MAX (64u << 10)

/* Everything one verification holds; released at out:. */
struct tdx_ctx {
	struct ci_tdx_quote q;
	EVP_PKEY *att_key;
	X509 *root;
	X509 *pck;
	STACK_OF(X509) *roots;
	STACK_OF(X509) *inter;
	X509_CRL *pck_crl;
	X509_CRL *root_crl;
	struct ci_intel_pck_ext ext;
	struct ci_intel_tcb_info *tcb;
	struct ci_intel_qe_identity *qeid;
	struct ci_tdx_tcb_eval ev;		/* launch TCB: TEE_TCB_SVN */
	struct ci_tdx_tcb_eval ev2;		/* current TCB: TEE_TCB_SVN2 (TD 1.5) */
	int has_ev2;
	char roots_buf[4096];
	const char *roots_dir;
	int revocation_checked;
	const char *tcb_signer;
	size_t ccel_events;		/* replayed event log records (0: no log) */
	int64_t next_update;		/* earliest nextUpdate among the collateral */
};

static const struct cinfer_blob *
collateral(const struct cinfer_evidence *ev, const char *name)
{
	for (size_t i = 0; i < ev->collateral_count; i++)
		if (strcmp(ev->collateral[i].name, name) == 0)	/* public */
			return &ev->collateral[i];
	return NULL;
}

static EVP_PKEY *
p256_from_raw(const uint8_t xy[64], struct cinfer_err *e)
{
	uint8_t pt[65];
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *pk = NULL;

	pt[0] = 0x04;
	memcpy(pt + 1, xy, 64);
	if (b == NULL || ctx == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt)) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(b)) == NULL) {
		ci_ossl_fail(e, CINFER_E_NOMEM, ST_QUOTE, "out of memory");
		goto out;
	}
	if (EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		pk = NULL;
		ci_ossl_fail(e, CINFER_E_CRYPTO, ST_QUOTE, "attestation key is not a P-256 point");
	}
out:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(b);
	EVP_PKEY_CTX_free(ctx);
	return pk;
}

static STACK_OF(X509) *
load_pem_file(const char *dir, const char *rel, const char *stage, struct cinfer_err *e)
{
	char path[4200];
	uint8_t *buf = NULL;
	size_t size = 0;
	STACK_OF(X509) *sk;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, rel) >= sizeof(path)) {
		ci_fail(e, CINFER_E_USAGE, stage, "roots path too long");
		return NULL;
	}
	if (ci_file_read(path, PEM_FILE_MAX, &buf, &size, e) != 0)
		return NULL;
	sk = ci_x509_parse_bundle(buf, size, e);
	ci_free(buf);
	if (sk != NULL && sk_X509_num(sk) == 0) {
		sk_X509_free(sk);
		ci_fail(e, CINFER_E_MALFORMED, stage, "%s holds no certificate", path);
		return NULL;
	}
	return sk;
}

/* 1 if a and b have the same DER encoding. */
static int
x509_same(X509 *a, X509 *b)
{
	return X509_cmp(a, b) == 0;
}

static int
is_self_signed(X509 *x)
{
	return X509_check_issued(x, x) == X509_V_OK;
}

/*
 * Adds the certificates of a chain (leaf first) to ctx: the first becomes
 * *leaf when leaf != NULL, CA certificates become intermediates, a root must be
 * byte-identical to the pinned one (and is then dropped).
 */
static int
take_chain(struct tdx_ctx *c, STACK_OF(X509) *sk, X509 **leaf, STACK_OF(X509) *inter,
    const char *stage, struct cinfer_err *e)
{
	while (sk_X509_num(sk) > 0) {
		X509 *x = sk_X509_shift(sk);
		if (leaf != NULL && *leaf == NULL) {
			*leaf = x;
			continue;
		}
		if (is_self_signed(x)) {
			int same = x509_same(x, c->root);
			X509_free(x);
			if (!same)
				return ci_fail(e, CINFER_E_CRYPTO, stage,
				    "chain carries a root that is not the pinned Intel SGX Root CA");
			continue;
		}
		if (sk_X509_push(inter, x) == 0) {
			X509_free(x);
			return ci_fail(e, CINFER_E_NOMEM, stage, "out of memory");
		}
	}
	return 0;
}

static int
load_pck_chain(struct tdx_ctx *c, const struct cinfer_evidence *ev, struct cinfer_err *e)
{
	const struct ci_tdx_quote *q = &c->q;
	STACK_OF(X509) *sk = NULL;
	int rc = -1;

	c->inter = sk_X509_new_null();
	if (c->inter == NULL)
		return ci_fail(e, CINFER_E_NOMEM, ST_CHAIN, "out of memory");
	if (q->cert_type == CI_TDX_CERT_PCK_CHAIN || q->cert_type == CI_TDX_CERT_PCK_LEAF) {
		size_t n = q->cert_data_size;
		/* The PEM text may end with NUL bytes (C strings); nothing else may follow. */
		while (n > 0 && q->cert_data[n - 1] == '\0')
			n--;
		if (n == 0)
			return ci_fail(e, CINFER_E_MALFORMED, ST_CHAIN, "empty PCK certification data");
		sk = ci_x509_parse_bundle(q->cert_data, n, e);
		if (sk == NULL)
			return -1;
		if (sk_X509_num(sk) == 0 ||
		    (q->cert_type == CI_TDX_CERT_PCK_LEAF && sk_X509_num(sk) != 1)) {
			ci_fail(e, CINFER_E_MALFORMED, ST_CHAIN,
			    "PCK certification data type %u holds %d certificates", q->cert_type,
			    sk_X509_num(sk));
			goto out;
		}
		if (take_chain(c, sk, &c->pck, c->inter, ST_CHAIN, e) != 0)
			goto out;
	} else if (q->cert_type > CI_TDX_CERT_PCK_LEAF) {
		return ci_fail(e, CINFER_E_UNSUPPORTED, ST_CHAIN,
		    "PCK certification data type %u is not supported", q->cert_type);
	}
	/* Certificates given beside the quote: the PCK (if the quote has none) and CAs. */
	for (size_t i = 0; i < ev->cert_count; i++) {
		STACK_OF(X509) *more = ci_x509_parse_bundle(ev->certs[i].data, ev->certs[i].size, e);
		int r;
		if (more == NULL)
			goto out;
		r = take_chain(c, more, c->pck == NULL ? &c->pck : NULL, c->inter, ST_CHAIN, e);
		sk_X509_pop_free(more, X509_free);
		if (r != 0)
			goto out;
	}
	if (c->pck == NULL) {
		ci_fail(e, CINFER_E_MALFORMED, ST_CHAIN,
		    "no PCK certificate (certification data type %u, %zu certs given)", q->cert_type,
		    ev->cert_count);
		goto out;
	}
	rc = 0;
out:
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

static X509_CRL *
load_crl(const struct cinfer_evidence *ev, const char *name, struct cinfer_err *e)
{
	const struct cinfer_blob *b = collateral(ev, name);
	X509_CRL *crl;

	if (b == NULL)
		return NULL;
	crl = ci_x509_crl_parse(b->data, b->size, e);
	if (crl == NULL)
		ci_fail(e, CINFER_E_MALFORMED, ST_CRL, "collateral \"%s\" is not a CRL", name);
	return crl;
}

static int
asn1_time_to_unix(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

/* Checks that crl is issued and signed by issuer and current at `at`. */
static int
check_crl(X509_CRL *crl, X509 *issuer, const char *name, int64_t at, struct cinfer_err *e)
{
	EVP_PKEY *pk = X509_get0_pubkey(issuer);
	int64_t this_up = 0, next_up = 0;

	if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0)
		return ci_fail(e, CINFER_E_CRYPTO, ST_CRL, "%s is not issued by %s", name,
		    "the certificate it must cover");
	if (pk == NULL || X509_CRL_verify(crl, pk) != 1) {
		ERR_clear_error();
		return ci_fail(e, CINFER_E_CRYPTO, ST_CRL, "%s signature does not verify", name);
	}
	if (asn1_time_to_unix(X509_CRL_get0_lastUpdate(crl), &this_up) != 0 ||
	    asn1_time_to_unix(X509_CRL_get0_nextUpdate(crl), &next_up) != 0)
		return ci_fail(e, CINFER_E_MALFORMED, ST_CRL, "%s lacks thisUpdate or nextUpdate",
		    name);
	if (at < this_up)
		return ci_fail(e, CINFER_E_STALE, ST_CRL, "%s is not yet valid at the verification time",
		    name);
	if (at >= next_up)
		return ci_fail(e, CINFER_E_STALE, ST_CRL, "%s expired (nextUpdate passed)", name);
	return 0;
}

static int
not_revoked(X509_CRL *crl, X509 *x, const char *what, struct cinfer_err *e)
{
	X509_REVOKED *rev = NULL;

	if (crl != NULL && X509_CRL_get0_by_cert(crl, &rev, x) == 1)
		return ci_fail(e, CINFER_E_CRYPTO, ST_CRL, "%s certificate is revoked", what);
	return 0;
}

/* 1 if cand's name and key id match x's issuer and cand's key signed x. */
static int
signed_by(X509 *x, X509 *cand)
{
	EVP_PKEY *pk = X509_get0_pubkey(cand);
	int ok = X509_check_issued(cand, x) == X509_V_OK && pk != NULL && X509_verify(x, pk) == 1;

	ERR_clear_error();
	return ok;
}

/*
 * Finds the certificate that issued x: the root or one of inter, by
 * signature (a look-alike with the same name and key id never qualifies).
 */
static X509 *
issuer_of(X509 *x, STACK_OF(X509) *inter, X509 *root)
{
	if (signed_by(x, root))
		return root;
	for (int i = 0; i < sk_X509_num(inter); i++)
		if (signed_by(x, sk_X509_value(inter, i)))
			return sk_X509_value(inter, i);
	return NULL;
}

static int
verify_pck_chain(struct tdx_ctx *c, const struct cinfer_evidence *ev, int64_t at, unsigned flags,
    struct cinfer_err *e)
{
	X509 *ca;

	if (ci_x509_verify_chain(c->pck, c->inter, c->roots, NULL, at, ST_CHAIN, e) != 0)
		return -1;
	if (X509_check_ca(c->pck) != 0)
		return ci_fail(e, CINFER_E_CRYPTO, ST_CHAIN, "PCK certificate is a CA certificate");
	ca = issuer_of(c->pck, c->inter, c->root);
	if (ca == NULL || ca == c->root)
		return ci_fail(e, CINFER_E_CRYPTO, ST_CHAIN,
		    "PCK certificate is not issued by an Intel PCK CA");
	if (issuer_of(ca, c->inter, c->root) != c->root)
		return ci_fail(e, CINFER_E_CRYPTO, ST_CHAIN, "PCK CA is not issued by the root");

	c->pck_crl = load_crl(ev, "pck_crl", e);
	c->root_crl = load_crl(ev, "root_crl", e);
	if ((collateral(ev, "pck_crl") != NULL && c->pck_crl == NULL) ||
	    (collateral(ev, "root_crl") != NULL && c->root_crl == NULL))
		return -1;
	if ((c->pck_crl == NULL || c->root_crl == NULL) && !(flags & CI_TDX_ALLOW_NO_CRL_INSECURE))
		return ci_fail(e, CINFER_E_USAGE, ST_CRL,
		    "collateral \"%s\" is required (revocation cannot be checked without it)",
		    c->pck_crl == NULL ? "pck_crl" : "root_crl");
	if (c->pck_crl != NULL &&
	    (check_crl(c->pck_crl, ca, "PCK CRL", at, e) != 0 ||
	    not_revoked(c->pck_crl, c->pck, "PCK", e) != 0))
		return -1;
	if (c->root_crl != NULL &&
	    (check_crl(c->root_crl, c->root, "root CA CRL", at, e) != 0 ||
	    not_revoked(c->root_crl, ca, "PCK CA", e) != 0))
		return -1;
	c->revocation_checked = c->pck_crl != NULL && c->root_crl != NULL;
	for (int i = 0; i < 2; i++) {
		X509_CRL *crl = i == 0 ? c->pck_crl : c->root_crl;
		int64_t t = 0;
		if (crl != NULL && asn1_time_to_unix(X509_CRL_get0_nextUpdate(crl), &t) == 0 &&
		    (c->next_update == 0 || t < c->next_update))
			c->next_update = t;
	}
	if (!c->revocation_checked)
		ci_log(CI_LOG_WARN, ST_CRL, "TDX verification without %s: revocation unchecked",
		    c->pck_crl == NULL ? "pck_crl" : "root_crl");
	return 0;
}

/* Picks the TCB signing certificate valid at `at` and chaining to the pinned root. */
static int
load_tcb_signer(struct tdx_ctx *c, const struct cinfer_evidence *ev, int64_t at,
    X509 **signer, struct cinfer_err *e)
{
	static const char *const files[] = {
		"intel/intel_tcb_signing_chain_2025.pem",
		"intel/intel_tcb_signing_chain_2018.pem",
	};
	const struct cinfer_blob *b = collateral(ev, "tcb_signing_chain");
	struct cinfer_err last = { 0 };

	*signer = NULL;
	for (size_t i = 0; i < (b != NULL ? 1 : CI_ARRAY_LEN(files)); i++) {
		STACK_OF(X509) *sk, *inter = sk_X509_new_null();
		X509 *leaf = NULL;
		int ok;

		cinfer_err_clear(&last);
		if (inter == NULL)
			return ci_fail(e, CINFER_E_NOMEM, ST_COLL, "out of memory");
		sk = b != NULL ? ci_x509_parse_bundle(b->data, b->size, &last) :
		    load_pem_file(c->roots_dir, files[i], ST_COLL, &last);
		ok = sk != NULL && sk_X509_num(sk) > 0 &&
		    take_chain(c, sk, &leaf, inter, ST_COLL, &last) == 0 &&
		    ci_x509_verify_chain(leaf, inter, c->roots, NULL, at, ST_COLL, &last) == 0 &&
		    (c->root_crl == NULL || not_revoked(c->root_crl, leaf, "TCB signing", &last) == 0);
		/* Issued by the root itself, and not a CA (the PCK CAs never sign collateral). */
		if (ok && (issuer_of(leaf, inter, c->root) != c->root || X509_check_ca(leaf) != 0)) {
			ci_fail(&last, CINFER_E_CRYPTO, ST_COLL,
			    "TCB signing certificate is not an end-entity certificate of the root");
			ok = 0;
		}
		if (sk != NULL && sk_X509_num(sk) == 0 && last.code == CINFER_OK)
			ci_fail(&last, CINFER_E_MALFORMED, ST_COLL, "empty TCB signing chain");
		sk_X509_pop_free(sk, X509_free);
		sk_X509_pop_free(inter, X509_free);
		if (ok) {
			*signer = leaf;
			c->tcb_signer = b != NULL ? "collateral" : files[i] + 6;
			return 0;
		}
		X509_free(leaf);
	}
	if (e != NULL && e->code == CINFER_OK)
		*e = last;
	if (e != NULL && e->code == CINFER_OK)
		ci_fail(e, CINFER_E_CRYPTO, ST_COLL, "no TCB signing certificate");
	return -1;
}

static int
check_window(const char *what, int64_t issue, int64_t next, int64_t at, struct cinfer_err *e)
{
	if (at < issue)
		return ci_fail(e, CINFER_E_STALE, ST_COLL, "%s is issued after the verification time",
		    what);
	if (at >= next)
		return ci_fail(e, CINFER_E_STALE, ST_COLL, "%s expired (nextUpdate passed)", what);
	return 0;
}

static int
load_collateral(struct tdx_ctx *c, const struct cinfer_evidence *ev, int64_t at,
    struct cinfer_err *e)
{
	const struct cinfer_blob *tb = collateral(ev, "tcb_info");
	const struct cinfer_blob *qb = collateral(ev, "qe_identity");
	struct ci_intel_signed ts, qs;
	X509 *signer = NULL;
	EVP_PKEY *pk;
	int rc = -1;

	if (tb == NULL || qb == NULL)
		return ci_fail(e, CINFER_E_USAGE, ST_COLL, "collateral \"%s\" is required",
		    tb == NULL ? "tcb_info" : "qe_identity");
	if (ci_intel_signed_split(tb->data, tb->size, "tcbInfo", &ts, e) != 0 ||
	    ci_intel_signed_split(qb->data, qb->size, "enclaveIdentity", &qs, e) != 0 ||
	    load_tcb_signer(c, ev, at, &signer, e) != 0)
		return -1;
	pk = X509_get0_pubkey(signer);
	if (pk == NULL) {
		ci_ossl_fail(e, CINFER_E_MALFORMED, ST_COLL, "TCB signing key");
		goto out;
	}
	if (ci_ecdsa_verify_raw(pk, EVP_sha256(), ts.body, ts.body_size, ts.sig, ts.sig + 32, 32,
	    ST_COLL, NULL) != 0) {
		ci_fail(e, CINFER_E_CRYPTO, ST_COLL, "TCB info signature does not verify");
		goto out;
	}
	if (ci_ecdsa_verify_raw(pk, EVP_sha256(), qs.body, qs.body_size, qs.sig, qs.sig + 32, 32,
	    ST_COLL, NULL) != 0) {
		ci_fail(e, CINFER_E_CRYPTO, ST_COLL, "QE identity signature does not verify");
		goto out;
	}
	c->tcb = ci_calloc(1, sizeof(*c->tcb));
	c->qeid = ci_calloc(1, sizeof(*c->qeid));
	if (c->tcb == NULL || c->qeid == NULL) {
		ci_fail(e, CINFER_E_NOMEM, ST_COLL, "out of memory");
		goto out;
	}
	if (ci_intel_tcb_info_parse(c->tcb, ts.body, ts.body_size, e) != 0 ||
	    ci_intel_qe_identity_parse(c->qeid, qs.body, qs.body_size, e) != 0)
		goto out;
	if (check_window("TCB info", c->tcb->issue_date, c->tcb->next_update, at, e) != 0 ||
	    check_window("QE identity", c->qeid->issue_date, c->qeid->next_update, at, e) != 0)
		goto out;
	if (c->next_update == 0 || c->tcb->next_update < c->next_update)
		c->next_update = c->tcb->next_update;
	if (c->qeid->next_update < c->next_update)
		c->next_update = c->qeid->next_update;
	if (memcmp(c->tcb->fmspc, c->ext.fmspc, 6) != 0 ||	/* public */
	    memcmp(c->tcb->pceid, c->ext.pceid, 2) != 0) {	/* public */
		char f[13];
		ci_hex_encode(c->tcb->fmspc, 6, f);
		ci_fail(e, CINFER_E_CRYPTO, ST_COLL,
		    "TCB info is for FMSPC %s / PCE-ID, not this platform's", f);
		goto out;
	}
	rc = 0;
out:
	X509_free(signer);
	return rc;
}

static void
add_hex(struct cinfer_claims *cl, const char *name, const void *p, size_t size)
{
	(void)cinfer_claims_add_detail_hex(cl, name, p, size);
}

/* Appends the level's advisory ids to buf (comma-separated, without repeats). */
static void
add_advisories(char *buf, size_t size, const struct ci_intel_level *l)
{
	size_t i;
	json_t *a;

	if (l == NULL || l->advisories == NULL)
		return;
	json_array_foreach(l->advisories, i, a) {
		const char *s = json_string_value(a);
		size_t have = strlen(buf), n = strlen(s);
		const char *hit = strstr(buf, s);
		if (hit != NULL && (hit[n] == ',' || hit[n] == '\0'))
			continue;
		if (have + n + 2 > size)
			return;
		if (have > 0)
			buf[have++] = ',';
		memcpy(buf + have, s, n + 1);
	}
}

/* Splits a long comma-separated list over "name", "name_2", ... details. */
static void
add_list_detail(struct cinfer_claims *cl, const char *name, const char *list)
{
	char part[sizeof(cl->details[0].value)], nm[32];
	int idx = 1;

	while (*list != '\0') {
		size_t n = strlen(list);
		if (n >= sizeof(part)) {
			n = sizeof(part) - 1;
			while (n > 0 && list[n] != ',')
				n--;
			if (n == 0)
				n = sizeof(part) - 1;
		}
		memcpy(part, list, n);
		part[n] = '\0';
		if (idx == 1)
			snprintf(nm, sizeof(nm), "%s", name);
		else
			snprintf(nm, sizeof(nm), "%s_%d", name, idx);
		(void)cinfer_claims_add_detail(cl, nm, part);
		list += n;
		if (*list == ',')
			list++;
		idx++;
	}
}

static void
fill_claims(const struct tdx_ctx *c, struct cinfer_claims *cl)
{
	const struct ci_tdx_quote *q = &c->q;
	const struct ci_tdx_body *b = &q->body;
	static const char *const rtmr_names[4] = { "rtmr0", "rtmr1", "rtmr2", "rtmr3" };
	char adv[1024] = "", num[32];
	const char *st = ci_intel_tcb_status_name(c->ev.status);
	ASN1_INTEGER *serial = X509_get_serialNumber(c->pck);

	memcpy(cl->measurement, b->mrtd, 48);
	cl->measurement_size = 48;
	for (int i = 0; i < 4; i++)
		(void)cinfer_claims_add_meas(cl, rtmr_names[i], b->rtmr[i], 48);
	(void)cinfer_claims_add_meas(cl, "mrseam", b->mrseam, 48);
	(void)cinfer_claims_add_meas(cl, "mrsignerseam", b->mrsignerseam, 48);
	if (b->mrservicetd != NULL)
		(void)cinfer_claims_add_meas(cl, "mrservicetd", b->mrservicetd, 48);
	memcpy(cl->report_data, b->report_data, 64);
	cl->report_data_size = 64;
	memcpy(cl->host_data, b->mrconfigid, 48);
	cl->host_data_size = 48;
	snprintf(cl->signer, sizeof(cl->signer), "intel-pck");
	snprintf(cl->tcb_status, sizeof(cl->tcb_status), "%s", st);
	cl->tcb_date = c->ev.tcb_date;
	cl->debug = (b->td_attributes[0] & 0x01) != 0;
	memcpy(cl->chip_id, c->ext.fmspc, 6);
	cl->chip_id_size = 6;
	cl->produced_at = 0;

	(void)cinfer_claims_add_tcb(cl, "tdx_module_svn", b->tee_tcb_svn[0]);
	(void)cinfer_claims_add_tcb(cl, "tdx_module_ver", b->tee_tcb_svn[1]);
	(void)cinfer_claims_add_tcb(cl, "pcesvn", c->ext.pcesvn);
	(void)cinfer_claims_add_tcb(cl, "qe_svn", q->qe.isvsvn);
	(void)cinfer_claims_add_tcb(cl, "tcb_eval_num", (uint64_t)c->tcb->eval_number);

	snprintf(num, sizeof(num), "%u", q->version);
	(void)cinfer_claims_add_detail(cl, "quote_version", num);
	(void)cinfer_claims_add_detail(cl, "td_report", q->body_type == CI_TDX_BODY_TD15 ? "1.5" : "1.0");
	add_hex(cl, "mrconfigid", b->mrconfigid, 48);
	add_hex(cl, "mrowner", b->mrowner, 48);
	add_hex(cl, "mrownerconfig", b->mrownerconfig, 48);
	add_hex(cl, "td_attributes", b->td_attributes, 8);
	add_hex(cl, "seam_attributes", b->seam_attributes, 8);
	add_hex(cl, "xfam", b->xfam, 8);
	add_hex(cl, "tee_tcb_svn", b->tee_tcb_svn, 16);
	if (b->tee_tcb_svn2 != NULL)
		add_hex(cl, "tee_tcb_svn2", b->tee_tcb_svn2, 16);
	add_hex(cl, "fmspc", c->ext.fmspc, 6);
	add_hex(cl, "pceid", c->ext.pceid, 2);
	snprintf(num, sizeof(num), "%u", c->ext.pcesvn);
	(void)cinfer_claims_add_detail(cl, "pcesvn", num);
	add_hex(cl, "cpusvn", c->ext.cpusvn, 16);
	add_hex(cl, "sgx_tcb_comp_svn", c->ext.comp_svn, 16);
	if (serial != NULL && serial->length > 0 && serial->length <= 32)
		add_hex(cl, "pck_serial", serial->data, (size_t)serial->length);
	snprintf(num, sizeof(num), "%u", q->qe.isvsvn);
	(void)cinfer_claims_add_detail(cl, "qe_svn", num);
	snprintf(num, sizeof(num), "%u", q->qe.isvprodid);
	(void)cinfer_claims_add_detail(cl, "qe_isvprodid", num);
	add_hex(cl, "qe_mrenclave", q->qe.mrenclave, 32);
	add_hex(cl, "qe_mrsigner", q->qe.mrsigner, 32);
	add_hex(cl, "qe_vendor_id", q->qe_vendor_id, 16);
	(void)cinfer_claims_add_detail(cl, "tcb_status_platform",
	    ci_intel_tcb_status_name(c->ev.platform->status));
	if (c->ev.module != NULL) {
		(void)cinfer_claims_add_detail(cl, "tdx_module_id", c->ev.module->id);
		(void)cinfer_claims_add_detail(cl, "tcb_status_module",
		    ci_intel_tcb_status_name(c->ev.module_level->status));
	}
	(void)cinfer_claims_add_detail(cl, "tcb_status_qe", ci_intel_tcb_status_name(c->ev.qe->status));
	snprintf(num, sizeof(num), "%lld", (long long)c->tcb->eval_number);
	(void)cinfer_claims_add_detail(cl, "tcb_eval_num", num);
	(void)cinfer_claims_add_detail(cl, "tcb_signer", c->tcb_signer);
	(void)cinfer_claims_add_detail(cl, "revocation", c->revocation_checked ? "checked" : "unchecked");
	{
		char tbuf[21];
		ci_time_format(c->next_update, tbuf);
		(void)cinfer_claims_add_detail(cl, "collateral_next_update", tbuf);
	}
	add_advisories(adv, sizeof(adv), c->ev.platform);
	add_advisories(adv, sizeof(adv), c->ev.module_level);
	add_advisories(adv, sizeof(adv), c->ev.qe);
	if (c->has_ev2) {
		add_advisories(adv, sizeof(adv), c->ev2.platform);
		add_advisories(adv, sizeof(adv), c->ev2.module_level);
		(void)cinfer_claims_add_detail(cl, "tcb_status_current",
		    ci_intel_tcb_status_name(c->ev2.status));
		/* Relaunching would move the TD to the better current module. */
		(void)cinfer_claims_add_detail(cl, "td_relaunch_advised",
		    c->ev.status != CI_TCB_UP_TO_DATE && c->ev2.status == CI_TCB_UP_TO_DATE ?
		    "true" : "false");
	}
	add_list_detail(cl, "advisory_ids", adv);
	if (c->ccel_events > 0) {
		snprintf(num, sizeof(num), "%zu", c->ccel_events);
		(void)cinfer_claims_add_detail(cl, "ccel_events", num);
	}
	if (q->trailing_size > 0) {
		snprintf(num, sizeof(num), "%zu", q->trailing_size);
		(void)cinfer_claims_add_detail(cl, "trailing_bytes", num);
	}
}

int
ci_tdx_verify_ex(const struct cinfer_evidence *ev, const struct cinfer_verify_opts *opts,
    int64_t at, unsigned flags, struct cinfer_claims *claims, struct cinfer_err *e)
{
	struct tdx_ctx c;
	uint8_t h[CI_SHA256_SIZE];
	struct ci_part parts[3];
	EVP_PKEY *pck_key;
	int rc = -1;

	memset(&c, 0, sizeof(c));
	if (ev->evidence == NULL)
		return ci_fail(e, CINFER_E_USAGE, "evidence.tdx.parse", "no quote");
	if (ci_tdx_quote_parse(&c.q, ev->evidence, ev->evidence_size, e) != 0)
		return -1;
	if (memcmp(c.q.qe_vendor_id, ci_tdx_intel_qe_vendor_id, 16) != 0)	/* public */
		return ci_fail(e, CINFER_E_UNSUPPORTED, "evidence.tdx.parse",
		    "QE vendor is not Intel");

	/* 1. The attestation key signs header and body. */
	c.att_key = p256_from_raw(c.q.att_key, e);
	if (c.att_key == NULL)
		goto out;
	if (ci_ecdsa_verify_raw(c.att_key, EVP_sha256(), c.q.signed_p, c.q.signed_size, c.q.sig,
	    c.q.sig + 32, 32, ST_QUOTE, NULL) != 0) {
		ci_fail(e, CINFER_E_CRYPTO, ST_QUOTE,
		    "quote signature does not verify with the attestation key");
		goto out;
	}

	/* 2. PCK chain to the pinned root, revocation. */
	c.roots_dir = ci_roots_dir(opts, c.roots_buf, sizeof(c.roots_buf));
	c.roots = load_pem_file(c.roots_dir, ROOT_FILE, ST_CHAIN, e);
	if (c.roots == NULL)
		goto out;
	c.root = sk_X509_value(c.roots, 0);
	if (sk_X509_num(c.roots) != 1 || !is_self_signed(c.root)) {
		ci_fail(e, CINFER_E_USAGE, ST_CHAIN, "%s/%s must hold one self-signed root",
		    c.roots_dir, ROOT_FILE);
		goto out;
	}
	if (load_pck_chain(&c, ev, e) != 0 || verify_pck_chain(&c, ev, at, flags, e) != 0 ||
	    ci_intel_pck_ext_from_cert(&c.ext, c.pck, e) != 0)
		goto out;

	/* 3. The PCK signs the QE report; the QE report binds the attestation key. */
	pck_key = X509_get0_pubkey(c.pck);
	if (pck_key == NULL || EVP_PKEY_get_base_id(pck_key) != EVP_PKEY_EC) {
		ci_fail(e, CINFER_E_CRYPTO, ST_QE, "PCK key is not an EC key");
		goto out;
	}
	if (ci_ecdsa_verify_raw(pck_key, EVP_sha256(), c.q.qe.raw, CI_SGX_REPORT_SIZE, c.q.qe_sig,
	    c.q.qe_sig + 32, 32, ST_QE, NULL) != 0) {
		ci_fail(e, CINFER_E_CRYPTO, ST_QE, "QE report signature does not verify with the PCK");
		goto out;
	}
	parts[0] = (struct ci_part){ c.q.att_key, CI_TDX_ATT_KEY_SIZE };
	parts[1] = (struct ci_part){ c.q.auth_data, c.q.auth_data_size };
	if (c.q.auth_data_size == 0)
		parts[1] = parts[2];
	if (ci_digest_parts(EVP_sha256(), parts, 2, h, e) != 0)
		goto out;
	if (memcmp(h, c.q.qe.report_data, 32) != 0 ||	/* public */
	    !ci_is_zero(c.q.qe.report_data + 32, 32)) {
		ci_fail(e, CINFER_E_CRYPTO, ST_QE,
		    "QE report_data is not SHA-256(attestation key || auth data)");
		goto out;
	}

	/* 4. Collateral and TCB level. */
	if (load_collateral(&c, ev, at, e) != 0)
		goto out;
	if (ci_tdx_tcb_evaluate(c.tcb, c.qeid, c.ext.comp_svn, c.ext.pcesvn, c.q.body.tee_tcb_svn,
	    c.q.body.mrsignerseam, c.q.body.seam_attributes, c.q.qe.mrsigner, c.q.qe.isvprodid,
	    c.q.qe.isvsvn, c.q.qe.miscselect, c.q.qe.attributes, &c.ev, e) != 0)
		goto out;
	/*
	 * TD 1.5: the module may have been updated under the running TD
	 * (TD-preserving update); TEE_TCB_SVN2 is the current module's. Like
	 * QVL, both must evaluate; the launch status is the TD's status and the
	 * current one is reported beside it.
	 */
	if (c.q.body.tee_tcb_svn2 != NULL) {
		if (ci_tdx_tcb_evaluate(c.tcb, c.qeid, c.ext.comp_svn, c.ext.pcesvn,
		    c.q.body.tee_tcb_svn2, c.q.body.mrsignerseam, c.q.body.seam_attributes,
		    c.q.qe.mrsigner, c.q.qe.isvprodid, c.q.qe.isvsvn, c.q.qe.miscselect,
		    c.q.qe.attributes, &c.ev2, e) != 0)
			goto out;
		c.has_ev2 = 1;
	}
	if (c.ev.status == CI_TCB_REVOKED || (c.has_ev2 && c.ev2.status == CI_TCB_REVOKED)) {
		ci_fail(e, CINFER_E_CRYPTO, ST_TCB, "TCB level is Revoked");
		goto out;
	}
	/* 5. Optional CC event log: it must replay to the quote's RTMRs. */
	if (collateral(ev, "ccel_log") != NULL) {
		const struct cinfer_blob *b = collateral(ev, "ccel_log");
		uint8_t rtmr[4][48];
		size_t events = 0;
		if (ci_tdx_ccel_replay(b->data, b->size, rtmr, &events, e) != 0)
			goto out;
		for (int i = 0; i < 4; i++)
			if (memcmp(rtmr[i], c.q.body.rtmr[i], 48) != 0) {	/* public */
				ci_fail(e, CINFER_E_CRYPTO, "evidence.tdx.ccel",
				    "event log replays to a different RTMR%d", i);
				goto out;
			}
		c.ccel_events = events;
	}
	fill_claims(&c, claims);
	rc = 0;
out:
	EVP_PKEY_free(c.att_key);
	X509_free(c.pck);
	sk_X509_pop_free(c.roots, X509_free);
	sk_X509_pop_free(c.inter, X509_free);
	X509_CRL_free(c.pck_crl);
	X509_CRL_free(c.root_crl);
	if (c.tcb != NULL)
		ci_intel_tcb_info_clear(c.tcb);
	if (c.qeid != NULL)
		ci_intel_qe_identity_clear(c.qeid);
	ci_free(c.tcb);
	ci_free(c.qeid);
	return rc;
}

int
ci_tdx_verify(const struct cinfer_evidence *ev, const struct cinfer_verify_opts *opts,
    int64_t at, struct cinfer_claims *claims, struct cinfer_err *e)
{
	return ci_tdx_verify_ex(ev, opts, at, opts != NULL && opts->allow_no_crl_insecure ?
	    CI_TDX_ALLOW_NO_CRL_INSECURE : 0, claims, e);
}
