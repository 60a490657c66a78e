/*
 * Verifier for the simulated platform. The report has SEV-SNP's layout and
 * is checked like one: ECDSA P-384 by the chip key, chain VCEK <- ASK <-
 * ARK to the ARK pinned in the configured sim directory (never one carried
 * in the evidence), VCEK TCB and hwID equal to the report's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "evidence/amd_cert.h"
#include "evidence/evidence_int.h"
#include "evidence/snp_report.h"

#define STAGE "evidence.sim"

static int
load_sim_file(const char *dir, const char *name, uint8_t **buf, size_t *size,
    struct cinfer_err *e)
{
	char path[4096];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return ci_fail(e, CINFER_E_USAGE, STAGE, "sim directory path too long");
	return ci_file_read(path, 1 << 20, buf, size, e);
}

int
ci_sim_verify(const struct cinfer_evidence *ev, const struct cinfer_verify_opts *opts,
    int64_t at, struct cinfer_claims *claims, struct cinfer_err *e)
{
	const char *dir = opts->sim_dir ? opts->sim_dir : getenv("CINFER_SIM_DIR");
	struct ci_snp_report rep;
	struct ci_amd_cert_ext ext;
	uint8_t *ark_pem = NULL, *vcek_file = NULL, *ask_file = NULL, r[48], s[48];
	size_t ark_size = 0, vcek_fsize = 0, ask_fsize = 0;
	STACK_OF(X509) *roots = NULL, *inter = NULL;
	X509 *vcek = NULL;
	EVP_PKEY *pub = NULL;
	int rc = -1;

	if (ci_snp_report_parse(&rep, ev->evidence, ev->evidence_size, e) != 0)
		return -1;
	if (dir == NULL)
		return ci_fail(e, CINFER_E_USAGE, STAGE,
		    "no simulated root of trust configured (give --sim DIR or set CINFER_SIM_DIR)");
	if (load_sim_file(dir, "ark.pem", &ark_pem, &ark_size, e) != 0)
		goto out;
	roots = ci_x509_parse_bundle(ark_pem, ark_size, e);
	if (roots == NULL)
		goto out;
	inter = sk_X509_new_null();
	if (inter == NULL) {
		ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
		goto out;
	}
	/* certs[0] is the VCEK, the rest are intermediates. */
	if (ev->cert_count > 0) {
		vcek = ci_x509_parse(ev->certs[0].data, ev->certs[0].size, e);
		if (vcek == NULL)
			goto out;
		for (size_t i = 1; i < ev->cert_count; i++) {
			X509 *x = ci_x509_parse(ev->certs[i].data, ev->certs[i].size, e);
			if (x == NULL || !sk_X509_push(inter, x)) {
				X509_free(x);
				goto out;
			}
		}
	} else {
		X509 *x;
		if (load_sim_file(dir, "vcek.pem", &vcek_file, &vcek_fsize, e) != 0 ||
		    load_sim_file(dir, "ask.pem", &ask_file, &ask_fsize, e) != 0)
			goto out;
		vcek = ci_x509_parse(vcek_file, vcek_fsize, e);
		x = ci_x509_parse(ask_file, ask_fsize, e);
		if (vcek == NULL || x == NULL || !sk_X509_push(inter, x)) {
			X509_free(x);
			goto out;
		}
	}
	if (ci_x509_verify_chain(vcek, inter, roots, NULL, at, "evidence.sim.chain", e) != 0)
		goto out;
	pub = X509_get_pubkey(vcek);
	if (pub == NULL || EVP_PKEY_get_base_id(pub) != EVP_PKEY_EC || EVP_PKEY_get_bits(pub) != 384) {
		ci_fail(e, CINFER_E_CRYPTO, "evidence.sim.chain", "chip key is not ECDSA P-384");
		goto out;
	}
	if (rep.signing_key != CI_SNP_KEY_VCEK) {
		ci_fail(e, CINFER_E_CRYPTO, "evidence.sim.signature",
		    "report says it is not signed by the chip key (VCEK)");
		goto out;
	}
	ci_snp_report_sig_be(&rep, r, s);
	if (!ci_is_zero(rep.sig_r + 48, 24) || !ci_is_zero(rep.sig_s + 48, 24)) {
		ci_fail(e, CINFER_E_CRYPTO, "evidence.sim.signature", "signature padding is not zero");
		goto out;
	}
	if (ci_ecdsa_verify_raw(pub, EVP_sha384(), rep.signed_part, CI_SNP_SIGNED_SIZE, r, s, 48,
		"evidence.sim.signature", e) != 0)
		goto out;
	if (ci_amd_cert_ext_parse(vcek, &ext, e) != 0)
		goto out;
	if (ext.hwid_size != 64 || memcmp(ext.hwid, rep.chip_id, 64) != 0) {	/* public */
		ci_fail(e, CINFER_E_CRYPTO, "evidence.sim.tcb", "report chip id differs from the VCEK hwID");
		goto out;
	}
	if (ext.bl != rep.reported_tcb.bootloader || ext.tee != rep.reported_tcb.tee ||
	    ext.snp != rep.reported_tcb.snp || ext.ucode != rep.reported_tcb.microcode) {
		ci_fail(e, CINFER_E_CRYPTO, "evidence.sim.tcb",
		    "reported TCB (bl %u tee %u snp %u ucode %u) differs from the VCEK's "
		    "(bl %u tee %u snp %u ucode %u)", rep.reported_tcb.bootloader,
		    rep.reported_tcb.tee, rep.reported_tcb.snp, rep.reported_tcb.microcode,
		    ext.bl, ext.tee, ext.snp, ext.ucode);
		goto out;
	}
	ci_snp_report_claims(&rep, claims);
	claims->simulated = 1;
	snprintf(claims->signer, sizeof(claims->signer), "sim-vcek:%s", ext.product_name);
	{
		uint8_t fp[32];
		X509 *root = sk_X509_value(roots, 0);
		unsigned int n = 0;
		if (X509_digest(root, EVP_sha256(), fp, &n) == 1 && n == 32)
			cinfer_claims_add_detail_hex(claims, "root_sha256", fp, 32);
	}
	rc = 0;
out:
	ci_free(ark_pem);
	ci_free(vcek_file);
	ci_free(ask_file);
	EVP_PKEY_free(pub);
	X509_free(vcek);
	sk_X509_pop_free(roots, X509_free);
	sk_X509_pop_free(inter, X509_free);
	return rc;
}
