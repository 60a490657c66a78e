/*
 * The simulated platform: a development root of trust shaped like AMD's
 * (ARK -> ASK -> VCEK) and an attester that emits reports with the exact
 * SEV-SNP byte layout. Nothing here is a TEE; every certificate says so.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "cinfer/attester.h"
#include "core/json.h"
#include "crypto/crypto.h"
#include "evidence/amd_cert.h"
#include "evidence/snp_report.h"

#define STAGE "attester.sim"

static int
path_join(char *buf, size_t size, const char *dir, const char *name, struct cinfer_err *e)
{
	if ((size_t)snprintf(buf, size, "%s/%s", dir, name) >= size)
		return ci_fail(e, CINFER_E_USAGE, STAGE, "path too long");
	return 0;
}

static X509_NAME *
sim_name(const char *cn)
{
	X509_NAME *n = X509_NAME_new();

	if (n == NULL ||
	    X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC, (const unsigned char *)"US", -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
		(const unsigned char *)"cinfer SIMULATED platform (not a TEE)", -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_ASC,
		(const unsigned char *)"Engineering", -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) != 1) {
		X509_NAME_free(n);
		return NULL;
	}
	return n;
}

static int
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	ok = ext != NULL && X509_add_ext(x, ext, -1) == 1;
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

/* Signs with RSA-PSS, SHA-384, salt 48, as AMD's ARK and ASK do. */
static int
sign_pss(X509 *x, EVP_PKEY *key)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int ok = ctx != NULL &&
	    EVP_DigestSignInit(ctx, &pctx, EVP_sha384(), NULL, key) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 48) == 1 &&
	    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha384()) == 1 &&
	    X509_sign_ctx(x, ctx) > 0;

	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

static X509 *
make_cert(const char *cn, EVP_PKEY *subject_key, X509 *issuer, EVP_PKEY *issuer_key,
    int64_t now, int64_t days, int ca, long serial, const struct ci_amd_cert_ext *amd,
    struct cinfer_err *e)
{
	X509 *x = X509_new();
	X509_NAME *n = sim_name(cn);

	if (x == NULL || n == NULL || X509_set_version(x, 2) != 1 ||
	    ASN1_INTEGER_set(X509_get_serialNumber(x), serial) != 1 ||
	    X509_set_subject_name(x, n) != 1 ||
	    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n) != 1 ||
	    X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, (time_t *)&now) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, (time_t *)&now) == NULL ||
	    X509_set_pubkey(x, subject_key) != 1)
		goto fail;
	if (add_ext(x, issuer ? issuer : x, NID_basic_constraints,
		ca ? "critical,CA:TRUE" : "critical,CA:FALSE") != 0 ||
	    add_ext(x, issuer ? issuer : x, NID_key_usage,
		ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature") != 0 ||
	    add_ext(x, issuer ? issuer : x, NID_subject_key_identifier, "hash") != 0)
		goto fail;
	if (issuer != NULL && add_ext(x, issuer, NID_authority_key_identifier, "keyid:always") != 0)
		goto fail;
	if (amd != NULL && ci_amd_cert_ext_add(x, amd, e) != 0)
		goto fail;
	if (sign_pss(x, issuer_key) != 0)
		goto fail;
	X509_NAME_free(n);
	return x;
fail:
	ci_ossl_fail(e, CINFER_E_INTERNAL, STAGE, "cannot make certificate");
	X509_NAME_free(n);
	X509_free(x);
	return NULL;
}

static int
write_pem_cert(const char *dir, const char *name, X509 *x, struct cinfer_err *e)
{
	char path[4096];
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long n;
	int rc = -1;

	if (b == NULL || PEM_write_bio_X509(b, x) != 1) {
		ci_ossl_fail(e, CINFER_E_INTERNAL, STAGE, "cannot encode certificate");
		goto out;
	}
	n = BIO_get_mem_data(b, &data);
	if (path_join(path, sizeof(path), dir, name, e) != 0 ||
	    ci_file_write(path, data, (size_t)n, 0644, e) != 0)
		goto out;
	rc = 0;
out:
	BIO_free(b);
	return rc;
}

static int
write_key(const char *dir, const char *name, EVP_PKEY *k, struct cinfer_err *e)
{
	char path[4096];
	BIO *b = BIO_new(BIO_s_secmem());
	char *data;
	long n;
	int rc = -1;

	if (b == NULL || PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) != 1) {
		ci_ossl_fail(e, CINFER_E_INTERNAL, STAGE, "cannot encode key");
		goto out;
	}
	n = BIO_get_mem_data(b, &data);
	if (path_join(path, sizeof(path), dir, name, e) != 0 ||
	    ci_file_write(path, data, (size_t)n, 0600, e) != 0)
		goto out;
	rc = 0;
out:
	BIO_free(b);
	return rc;
}

int
cinfer_sim_dev_init(const char *dir, const struct cinfer_sim_init_opts *o, struct cinfer_err *e)
{
	struct cinfer_sim_init_opts def = { 0 };
	EVP_PKEY *ark_key = NULL, *ask_key = NULL, *vcek_key = NULL;
	X509 *ark = NULL, *ask = NULL, *vcek = NULL;
	struct ci_amd_cert_ext amd;
	uint8_t chip_id[64];
	char path[4096], *hex = NULL, *js = NULL;
	json_t *chip = NULL;
	int64_t now;
	int bits, rc = -1;

	if (o == NULL)
		o = &def;
	now = o->now ? o->now : ci_time_now();
	bits = o->rsa_bits ? o->rsa_bits : 4096;
	if (bits < 2048 || bits > 8192)
		return ci_fail(e, CINFER_E_USAGE, STAGE, "RSA size %d is out of 2048-8192", bits);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return ci_fail(e, CINFER_E_IO, STAGE, "%s: %s", dir, strerror(errno));
	if (path_join(path, sizeof(path), dir, "vcek.key", e) != 0)
		return -1;
	if (!o->force && access(path, F_OK) == 0)
		return ci_fail(e, CINFER_E_USAGE, STAGE,
		    "%s already holds a simulated chip (use --force to replace it)", dir);

	memset(&amd, 0, sizeof(amd));
	strcpy(amd.product_name, "SIM-Milan");
	amd.bl = o->tcb_bl ? o->tcb_bl : 3;
	amd.tee = o->tcb_tee;
	amd.snp = o->tcb_snp ? o->tcb_snp : 8;
	amd.ucode = o->tcb_ucode ? o->tcb_ucode : 115;
	if (ci_random(chip_id, sizeof(chip_id), e) != 0)
		goto out;
	memcpy(amd.hwid, chip_id, 64);
	amd.hwid_size = 64;

	ark_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	ask_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	vcek_key = ci_ec_keygen("P-384", e);
	if (ark_key == NULL || ask_key == NULL || vcek_key == NULL) {
		ci_ossl_fail(e, CINFER_E_INTERNAL, STAGE, "key generation failed");
		goto out;
	}
	ark = make_cert("ARK-SIMULATED", ark_key, NULL, ark_key, now, 25 * 366, 1, 1, NULL, e);
	if (ark == NULL)
		goto out;
	ask = make_cert("SEV-SIMULATED", ask_key, ark, ark_key, now, 25 * 366, 1, 2, NULL, e);
	if (ask == NULL)
		goto out;
	vcek = make_cert("SEV-VCEK-SIMULATED", vcek_key, ask, ask_key, now, 7 * 366, 0, 3, &amd, e);
	if (vcek == NULL)
		goto out;

	hex = ci_hex_new(chip_id, sizeof(chip_id));
	chip = json_pack("{s:s, s:s, s:s, s:{s:i, s:i, s:i, s:i}}",
	    "warning", "SIMULATED platform: not a TEE, for development and tests only",
	    "product", amd.product_name, "chip_id", hex ? hex : "",
	    "tcb", "bootloader", amd.bl, "tee", amd.tee, "snp", amd.snp, "microcode", amd.ucode);
	js = chip ? ci_json_dump(chip, 1) : NULL;
	if (hex == NULL || js == NULL) {
		ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
		goto out;
	}
	if (write_key(dir, "vcek.key", vcek_key, e) != 0 ||
	    write_pem_cert(dir, "ark.pem", ark, e) != 0 ||
	    write_pem_cert(dir, "ask.pem", ask, e) != 0 ||
	    write_pem_cert(dir, "vcek.pem", vcek, e) != 0 ||
	    path_join(path, sizeof(path), dir, "chip.json", e) != 0 ||
	    ci_file_write(path, js, strlen(js), 0644, e) != 0)
		goto out;
	rc = 0;
out:
	ci_free(hex);
	ci_free(js);
	json_decref(chip);
	X509_free(ark);
	X509_free(ask);
	X509_free(vcek);
	EVP_PKEY_free(ark_key);
	EVP_PKEY_free(ask_key);
	EVP_PKEY_free(vcek_key);
	return rc;
}

static void
le64(uint8_t out[8], uint64_t v)
{
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(v >> (8 * i));
}

int
cinfer_sim_measure(const char *program_path, const char *config_path,
    uint8_t out[CINFER_SIM_MEASUREMENT_SIZE], struct cinfer_err *e)
{
	static const char ctx[] = "cinfer sim launch v1";	/* NUL included below */
	uint8_t *prog = NULL, *cfg = NULL, plen[8], clen[8];
	size_t psize = 0, csize = 0;
	int rc = -1;

	if (ci_file_read(program_path, (size_t)1 << 31, &prog, &psize, e) != 0)
		goto out;
	if (config_path != NULL && ci_file_read(config_path, 1 << 24, &cfg, &csize, e) != 0)
		goto out;
	le64(plen, psize);
	le64(clen, csize);
	{
		struct ci_part parts[] = {
			{ ctx, sizeof(ctx) }, { plen, 8 }, { prog, psize },
			{ clen, 8 }, { cfg, csize },
		};
		if (ci_digest_parts(EVP_sha384(), parts, CI_ARRAY_LEN(parts), out, e) != 0)
			goto out;
	}
	rc = 0;
out:
	ci_free(prog);
	ci_free(cfg);
	return rc;
}

static void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static int
read_file_in(const char *dir, const char *name, uint8_t **buf, size_t *size,
    struct cinfer_err *e)
{
	char path[4096];

	if (path_join(path, sizeof(path), dir, name, e) != 0)
		return -1;
	return ci_file_read(path, 1 << 20, buf, size, e);
}

int
cinfer_sim_attest(const char *dir, const uint8_t report_data[64],
    const struct cinfer_sim_attest_opts *o, struct cinfer_evidence *ev, struct cinfer_err *e)
{
	struct cinfer_sim_attest_opts def = { 0 };
	uint8_t rep[CI_SNP_REPORT_SIZE], r[48], s[48];
	uint8_t *key_pem = NULL, *vcek_pem = NULL, *ask_pem = NULL;
	size_t key_size = 0, vcek_size = 0, ask_size = 0;
	EVP_PKEY *key = NULL;
	X509 *vcek = NULL;
	struct ci_amd_cert_ext amd;
	uint64_t tcb;
	int rc = -1;

	cinfer_evidence_init(ev);
	if (o == NULL)
		o = &def;
	if (o->vmpl > 3)
		return ci_fail(e, CINFER_E_USAGE, STAGE, "VMPL must be 0-3");
	if (read_file_in(dir, "vcek.key", &key_pem, &key_size, e) != 0 ||
	    read_file_in(dir, "vcek.pem", &vcek_pem, &vcek_size, e) != 0 ||
	    read_file_in(dir, "ask.pem", &ask_pem, &ask_size, e) != 0) {
		ci_fail(e, CINFER_E_IO, STAGE, "no simulated chip in %s (run `cinfer dev init`)", dir);
		goto out;
	}
	key = ci_pkey_parse_private(key_pem, key_size, e);
	vcek = ci_x509_parse(vcek_pem, vcek_size, e);
	if (key == NULL || vcek == NULL || ci_amd_cert_ext_parse(vcek, &amd, e) != 0)
		goto out;

	/* The fields of an SEV-SNP ATTESTATION_REPORT, version 3. */
	memset(rep, 0, sizeof(rep));
	put32(rep + 0x00, 3);
	put32(rep + 0x04, o->guest_svn);
	{
		uint64_t pol = CI_SNP_POLICY_SMT | CI_SNP_POLICY_RESERVED1 |
		    (o->debug ? CI_SNP_POLICY_DEBUG : 0);
		le64(rep + 0x08, pol);
	}
	put32(rep + 0x30, o->vmpl);
	put32(rep + 0x34, 1);	/* ECDSA P-384 with SHA-384 */
	{
		struct ci_snp_tcb t = { .bootloader = amd.bl, .tee = amd.tee, .snp = amd.snp,
			.microcode = amd.ucode };
		tcb = ci_snp_tcb_encode(&t, 0);
	}
	le64(rep + 0x38, tcb);	/* current */
	le64(rep + 0x40, 1);	/* platform info: SMT enabled */
	put32(rep + 0x48, 0);	/* signed by the VCEK */
	memcpy(rep + 0x50, report_data, 64);
	if (o->measurement != NULL)
		memcpy(rep + 0x90, o->measurement, 48);
	if (o->host_data != NULL)
		memcpy(rep + 0xC0, o->host_data, 32);
	if (ci_random(rep + 0x140, 32, e) != 0)	/* report id */
		goto out;
	le64(rep + 0x180, tcb);	/* reported */
	rep[0x188] = 0x19;	/* family 19h (Milan-like TCB layout) */
	rep[0x189] = 0x01;
	rep[0x18A] = 0x01;
	memcpy(rep + 0x1A0, amd.hwid, 64);
	le64(rep + 0x1E0, tcb);	/* committed */
	rep[0x1E8] = 7;	/* current build, minor, major: 1.55.7 */
	rep[0x1E9] = 55;
	rep[0x1EA] = 1;
	rep[0x1EC] = 7;
	rep[0x1ED] = 55;
	rep[0x1EE] = 1;
	le64(rep + 0x1F0, tcb);	/* launch */
	if (ci_ecdsa_sign_raw(key, EVP_sha384(), rep, CI_SNP_SIGNED_SIZE, r, s, 48, e) != 0)
		goto out;
	/* r and s are stored little-endian in 72-byte fields. */
	for (int i = 0; i < 48; i++) {
		rep[0x2A0 + i] = r[47 - i];
		rep[0x2A0 + 72 + i] = s[47 - i];
	}
	ev->platform = CINFER_PLATFORM_SIM;
	ev->evidence = ci_memdup(rep, sizeof(rep));
	if (ev->evidence == NULL) {
		ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
		goto out;
	}
	ev->evidence_size = sizeof(rep);
	if (cinfer_evidence_add_cert(ev, vcek_pem, vcek_size, e) != 0 ||
	    cinfer_evidence_add_cert(ev, ask_pem, ask_size, e) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		cinfer_evidence_clear(ev);
	if (key_pem != NULL)
		ci_wipe(key_pem, key_size);
	ci_free(key_pem);
	ci_free(vcek_pem);
	ci_free(ask_pem);
	EVP_PKEY_free(key);
	X509_free(vcek);
	return rc;
}
