/*
 * AMD SEV-SNP verifier. Fixed order: parse the report; gather the signing
 * certificate and any carried ASK/ARK; pick the product family from the
 * VCEK (cross-checked with the report's CPUID); verify the chain to the
 * ARK pinned for that family (a carried ARK must be byte-identical to it);
 * apply CRLs; verify the report's ECDSA P-384 signature; check that the
 * VCEK's TCB and hwID are the report's. Only then are claims filled.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <openssl/pem.h>

#include "crypto/crypto.h"
#include "evidence/amd_cert.h"
#include "evidence/evidence_int.h"
#include "evidence/snp.h"
#include "evidence/snp_certs.h"
#include "evidence/snp_report.h"

#define STAGE "evidence.snp"
#define STAGE_CERTS "evidence.snp.certs"
#define STAGE_FAMILY "evidence.snp.family"
#define STAGE_CHAIN "evidence.snp.chain"
#define STAGE_SIG "evidence.snp.signature"
#define STAGE_TCB "evidence.snp.tcb"
#define STAGE_CHIP "evidence.snp.chip_id"
#define STAGE_ROOTS "evidence.snp.roots"

#define CERTS_MAX 24

struct gathered {
	X509 *leaf;			/* the VCEK or VLEK */
	STACK_OF(X509) *inters;		/* carried ASK/ASVK */
	STACK_OF(X509) *arks;		/* carried self-signed roots */
	size_t total;
};

static void
gathered_clear(struct gathered *g)
{
	X509_free(g->leaf);
	sk_X509_pop_free(g->inters, X509_free);
	sk_X509_pop_free(g->arks, X509_free);
	memset(g, 0, sizeof(*g));
}

static int
same_der(X509 *a, X509 *b)
{
	unsigned char *da = NULL, *db = NULL;
	int na = i2d_X509(a, &da), nb = i2d_X509(b, &db);
	int same = na > 0 && na == nb && memcmp(da, db, (size_t)na) == 0;	/* public */

	OPENSSL_free(da);
	OPENSSL_free(db);
	return same;
}

/* Takes x: files it as leaf, intermediate or root. */
static int
file_cert(struct gathered *g, X509 *x, struct cinfer_err *e)
{
	EVP_PKEY *pk = X509_get0_pubkey(x);

	if (++g->total > CERTS_MAX) {
		X509_free(x);
		return ci_fail(e, CINFER_E_LIMIT, STAGE_CERTS, "more than %d certificates", CERTS_MAX);
	}
	if (pk != NULL && EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC) {
		if (g->leaf == NULL) {
			g->leaf = x;
			return 0;
		}
		if (same_der(g->leaf, x)) {
			X509_free(x);
			return 0;
		}
		X509_free(x);
		return ci_fail(e, CINFER_E_CRYPTO, STAGE_CERTS,
		    "evidence carries two different VCEK/VLEK certificates");
	}
	if (X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) == 0) {
		if (sk_X509_push(g->arks, x) == 0) {
			X509_free(x);
			return ci_fail(e, CINFER_E_NOMEM, STAGE_CERTS, "out of memory");
		}
		return 0;
	}
	if (sk_X509_push(g->inters, x) == 0) {
		X509_free(x);
		return ci_fail(e, CINFER_E_NOMEM, STAGE_CERTS, "out of memory");
	}
	return 0;
}

static int
looks_pem(const uint8_t *p, size_t size)
{
	static const char tag[] = "-----BEGIN";

	for (size_t i = 0; i < size && i < 64; i++) {
		if (isspace(p[i]))
			continue;
		return size - i >= sizeof(tag) - 1 && memcmp(p + i, tag, sizeof(tag) - 1) == 0;	/* public */
	}
	return 0;
}

static int
file_blob(struct gathered *g, const uint8_t *p, size_t size, struct cinfer_err *e)
{
	if (looks_pem(p, size)) {
		STACK_OF(X509) *sk = ci_x509_parse_bundle(p, size, e);
		int rc = 0;

		if (sk == NULL)
			return -1;
		while (sk_X509_num(sk) > 0 && rc == 0)
			rc = file_cert(g, sk_X509_shift(sk), e);
		sk_X509_pop_free(sk, X509_free);
		return rc;
	}
	{
		X509 *x = ci_x509_parse(p, size, e);
		if (x == NULL)
			return -1;
		return file_cert(g, x, e);
	}
}

static int
gather(const struct cinfer_evidence *ev, struct gathered *g, int *from_table,
    struct cinfer_err *e)
{
	g->inters = sk_X509_new_null();
	g->arks = sk_X509_new_null();
	if (g->inters == NULL || g->arks == NULL)
		return ci_fail(e, CINFER_E_NOMEM, STAGE_CERTS, "out of memory");
	for (size_t i = 0; i < ev->cert_count; i++)
		if (file_blob(g, ev->certs[i].data, ev->certs[i].size, e) != 0)
			return -1;
	for (size_t i = 0; i < ev->collateral_count; i++) {
		struct ci_snp_cert_table t;

		if (strcmp(ev->collateral[i].name, "cert_table") != 0)	/* public */
			continue;
		if (ci_snp_cert_table_parse(&t, ev->collateral[i].data, ev->collateral[i].size,
			e) != 0)
			return -1;
		for (size_t j = 0; j < t.count; j++) {
			if (t.entry[j].kind == CI_SNP_CERT_OTHER)
				continue;
			if (file_blob(g, t.entry[j].data, t.entry[j].size, e) != 0)
				return -1;
			*from_table = 1;
		}
	}
	if (g->leaf == NULL)
		return ci_fail(e, CINFER_E_USAGE, STAGE_CERTS,
		    "no VCEK or VLEK given (in certs or a cert_table); fetch it with "
		    "`cinfer snp certs`");
	return 0;
}

/* Family from "SEV-Milan" / "SEV-VLEK-Genoa" issuer names. */
static enum ci_snp_family
family_from_issuer(X509 *leaf)
{
	char cn[64];
	const char *p = cn;

	if (X509_NAME_get_text_by_NID(X509_get_issuer_name(leaf), NID_commonName, cn,
		sizeof(cn)) < 0)
		return CI_SNP_FAMILY_UNKNOWN;
	if (strncmp(p, "SEV-", 4) != 0)	/* public */
		return CI_SNP_FAMILY_UNKNOWN;
	p += 4;
	if (strncmp(p, "VLEK-", 5) == 0)	/* public */
		p += 5;
	return ci_snp_family_from_product(p);
}

static int
leaf_cn_is(X509 *leaf, const char *want)
{
	char cn[64];

	return X509_NAME_get_text_by_NID(X509_get_subject_name(leaf), NID_commonName, cn,
	    sizeof(cn)) >= 0 && strcmp(cn, want) == 0;	/* public */
}

/* The pinned intermediate and ARK of <roots>/amd/<family>_<kind>.pem. */
static int
load_pinned(const struct cinfer_verify_opts *opts, enum ci_snp_family fam, int vlek,
    X509 **inter, X509 **ark, char *path, size_t path_size, struct cinfer_err *e)
{
	char buf[4096], lower[16];
	const char *dir = ci_roots_dir(opts, buf, sizeof(buf));
	const char *name = ci_snp_family_name(fam);
	size_t i;

	for (i = 0; name[i] != '\0' && i + 1 < sizeof(lower); i++)
		lower[i] = (char)tolower((unsigned char)name[i]);
	lower[i] = '\0';
	if ((size_t)snprintf(path, path_size, "%s/amd/%s_%s.pem", dir, lower,
		vlek ? "vlek" : "vcek") >= path_size)
		return ci_fail(e, CINFER_E_USAGE, STAGE_ROOTS, "roots path too long");
	return ci_snp_pinned_load(path, inter, ark, e);
}

static int
cert_sha256(X509 *x, uint8_t out[32])
{
	unsigned int n = 0;

	return X509_digest(x, EVP_sha256(), out, &n) == 1 && n == 32 ? 0 : -1;
}

static void
add_cert_detail(struct cinfer_claims *c, const char *name, X509 *x)
{
	uint8_t fp[32];

	if (cert_sha256(x, fp) == 0)
		cinfer_claims_add_detail_hex(c, name, fp, 32);
}

static int
check_tcb(const struct ci_snp_report *rep, const struct ci_amd_cert_ext *ext, int vlek,
    struct cinfer_err *e)
{
	const struct ci_snp_tcb *t = &rep->reported_tcb;
	const char *who = vlek ? "VLEK" : "VCEK";

	if (rep->turin && !ext->has_fmc)
		return ci_fail(e, CINFER_E_CRYPTO, STAGE_TCB,
		    "Turin report but the %s has no FMC SPL", who);
	if (!rep->turin && ext->has_fmc)
		return ci_fail(e, CINFER_E_CRYPTO, STAGE_TCB,
		    "the %s has an FMC SPL but the report is not Turin's", who);
	if (ext->bl != t->bootloader || ext->tee != t->tee || ext->snp != t->snp ||
	    ext->ucode != t->microcode || (rep->turin && ext->fmc != t->fmc))
		return ci_fail(e, CINFER_E_CRYPTO, STAGE_TCB,
		    "reported TCB (fmc %u bl %u tee %u snp %u ucode %u) differs from the %s's "
		    "(fmc %u bl %u tee %u snp %u ucode %u)", t->fmc, t->bootloader, t->tee, t->snp,
		    t->microcode, who, ext->fmc, ext->bl, ext->tee, ext->snp, ext->ucode);
	return 0;
}

static int
check_chip_id(const struct ci_snp_report *rep, const struct ci_amd_cert_ext *ext,
    struct cinfer_claims *claims, struct cinfer_err *e)
{
	size_t n = rep->turin ? 8 : 64;

	if (ci_is_zero(rep->chip_id, 64)) {
		/* MASK_CHIP_ID: the firmware zeroes the id; the VCEK signature
		 * still ties the report to the chip. */
		cinfer_claims_add_detail(claims, "chip_id_masked", "true");
		return 0;
	}
	if (ext->hwid_size == 0)
		return ci_fail(e, CINFER_E_CRYPTO, STAGE_CHIP, "the VCEK carries no hwID");
	if (ext->hwid_size != n)
		return ci_fail(e, CINFER_E_CRYPTO, STAGE_CHIP,
		    "the VCEK hwID is %zu bytes, this product's chip id is %zu", ext->hwid_size, n);
	if (memcmp(ext->hwid, rep->chip_id, n) != 0)	/* public */
		return ci_fail(e, CINFER_E_CRYPTO, STAGE_CHIP,
		    "the report's chip id differs from the VCEK hwID (a VCEK of another chip)");
	if (rep->turin && !ci_is_zero(rep->chip_id + 8, 56))
		return ci_fail(e, CINFER_E_MALFORMED, STAGE_CHIP,
		    "Turin chip id has bytes beyond its 8");
	return 0;
}

int
ci_snp_verify(const struct cinfer_evidence *ev, const struct cinfer_verify_opts *opts,
    int64_t at, struct cinfer_claims *claims, struct cinfer_err *e)
{
	struct ci_snp_report rep;
	struct ci_amd_cert_ext ext;
	struct gathered g = { 0 };
	struct ci_snp_chain chain = { 0 };
	enum ci_snp_family fam, cpu_fam;
	STACK_OF(X509_CRL) *crls = NULL;
	X509 *pin_inter = NULL, *pin_ark = NULL;
	uint8_t r[48], s[48];
	char path[4096], v[96];
	int vlek, from_table = 0, rc = -1;

	if (ci_snp_report_parse(&rep, ev->evidence, ev->evidence_size, e) != 0)
		return -1;
	if (rep.signing_key == CI_SNP_KEY_NONE || rep.mask_chip_key)
		return ci_fail(e, CINFER_E_CRYPTO, STAGE_SIG,
		    "report is not signed (MASK_CHIP_KEY or no signing key)");
	vlek = rep.signing_key == CI_SNP_KEY_VLEK;

	if (gather(ev, &g, &from_table, e) != 0)
		goto out;
	if (!leaf_cn_is(g.leaf, vlek ? "SEV-VLEK" : "SEV-VCEK")) {
		ci_fail(e, CINFER_E_CRYPTO, STAGE_CERTS,
		    "report is signed by the %s but the certificate given is not a %s",
		    vlek ? "VLEK" : "VCEK", vlek ? "VLEK" : "VCEK");
		goto out;
	}
	if (ci_amd_cert_ext_parse(g.leaf, &ext, e) != 0)
		goto out;

	/* Family: the certificate says which ARK; the report's CPUID must agree. */
	fam = ext.product_name[0] != '\0' ? ci_snp_family_from_product(ext.product_name) :
	    family_from_issuer(g.leaf);
	if (fam == CI_SNP_FAMILY_UNKNOWN) {
		ci_fail(e, CINFER_E_UNSUPPORTED, STAGE_FAMILY,
		    "unknown product \"%s\" (Milan, Genoa and Turin are supported)",
		    ext.product_name);
		goto out;
	}
	if (rep.version >= 3) {
		cpu_fam = ci_snp_family_from_cpuid(rep.cpuid_fam_id, rep.cpuid_mod_id);
		if (cpu_fam != fam) {
			ci_fail(e, CINFER_E_CRYPTO, STAGE_FAMILY,
			    "report CPUID %02xh/%02xh is %s but the %s is %s's",
			    rep.cpuid_fam_id, rep.cpuid_mod_id,
			    cpu_fam ? ci_snp_family_name(cpu_fam) : "no known SNP product",
			    vlek ? "VLEK" : "VCEK", ci_snp_family_name(fam));
			goto out;
		}
	} else if (fam == CI_SNP_FAMILY_TURIN) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE_FAMILY,
		    "Turin reports are version 3 or later, this one is version %u", rep.version);
		goto out;
	}

	/* Chain to the pinned ARK; never to one carried in the evidence. */
	if (load_pinned(opts, fam, vlek, &pin_inter, &pin_ark, path, sizeof(path), e) != 0)
		goto out;
	for (int i = 0; i < sk_X509_num(g.arks); i++) {
		X509 *x = sk_X509_value(g.arks, i);
		if (!same_der(x, pin_ark)) {
			char cn[64] = "?";
			X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn,
			    sizeof(cn));
			ci_str_mask(cn);
			ci_fail(e, CINFER_E_CRYPTO, STAGE_CHAIN,
			    "the ARK in the evidence (%s) is not the pinned %s ARK", cn,
			    ci_snp_family_name(fam));
			goto out;
		}
	}
	chain.leaf = g.leaf;
	chain.ark = pin_ark;
	chain.inter = pin_inter;
	for (int i = 0; i < sk_X509_num(g.inters); i++) {
		X509 *x = sk_X509_value(g.inters, i);
		if (X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(g.leaf)) != 0) {
			char cn[64] = "?";
			X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn,
			    sizeof(cn));
			ci_str_mask(cn);
			ci_fail(e, CINFER_E_CRYPTO, STAGE_CHAIN,
			    "certificate %s in the evidence did not issue the %s", cn,
			    vlek ? "VLEK" : "VCEK");
			goto out;
		}
		if (chain.inter != pin_inter && !same_der(chain.inter, x)) {
			ci_fail(e, CINFER_E_CRYPTO, STAGE_CHAIN,
			    "evidence carries two different intermediates");
			goto out;
		}
		/* A carried ASK is used (it may be newer than ours), but it must
		 * chain to the pinned ARK like any other. */
		chain.inter = x;
	}
	if (ci_snp_chain_verify(&chain, at, e) != 0)
		goto out;

	/* Revocation, fail closed: every CRL given must be good and clean. */
	crls = sk_X509_CRL_new_null();
	if (crls == NULL) {
		ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < ev->collateral_count; i++) {
		X509_CRL *crl;
		if (strcmp(ev->collateral[i].name, "crl") != 0)	/* public */
			continue;
		crl = ci_x509_crl_parse(ev->collateral[i].data, ev->collateral[i].size, e);
		if (crl == NULL)
			goto out;
		if (sk_X509_CRL_push(crls, crl) == 0) {
			X509_CRL_free(crl);
			ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
			goto out;
		}
	}
	if (ci_snp_chain_check_crls(&chain, crls, at, e) != 0)
		goto out;

	/* The report's signature. */
	ci_snp_report_sig_be(&rep, r, s);
	if (ci_ecdsa_verify_raw(X509_get0_pubkey(g.leaf), EVP_sha384(), rep.signed_part,
		CI_SNP_SIGNED_SIZE, r, s, 48, STAGE_SIG, e) != 0)
		goto out;

	/* The certificate must describe this chip at this TCB. */
	if (check_tcb(&rep, &ext, vlek, e) != 0)
		goto out;
	if (!vlek && check_chip_id(&rep, &ext, claims, e) != 0)
		goto out;

	ci_snp_report_claims(&rep, claims);
	claims->simulated = 0;
	snprintf(claims->signer, sizeof(claims->signer), "%s:%s", vlek ? "vlek" : "vcek",
	    ci_snp_family_name(fam));
	cinfer_claims_add_detail(claims, "product_name", ext.product_name);
	if (vlek && ext.csp_id[0] != '\0')
		cinfer_claims_add_detail(claims, "vlek_csp_id", ext.csp_id);
	add_cert_detail(claims, "ark_sha256", chain.ark);
	add_cert_detail(claims, "ask_sha256", chain.inter);
	add_cert_detail(claims, vlek ? "vlek_sha256" : "vcek_sha256", g.leaf);
	if (sk_X509_CRL_num(crls) > 0) {
		snprintf(v, sizeof(v), "checked (%d CRL%s)", sk_X509_CRL_num(crls),
		    sk_X509_CRL_num(crls) == 1 ? "" : "s");
		cinfer_claims_add_detail(claims, "revocation", v);
	} else {
		cinfer_claims_add_detail(claims, "revocation", "unchecked");
	}
	if (from_table)
		cinfer_claims_add_detail(claims, "certs_from", "cert_table");
	rc = 0;
out:
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	X509_free(pin_inter);
	X509_free(pin_ark);
	gathered_clear(&g);
	return rc;
}
