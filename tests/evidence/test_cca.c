/*
 * Arm CCA verifier on the shared tokens (facts from MANIFEST.md) and each
 * rejection with its own reason: no IAK, wrong IAK, unsigned FVP platform
 * token, tampered realm and platform tokens, and a realm token whose RAK
 * is not the one the platform challenge names (re-signed here with a test
 * key, so that binding is the only thing wrong).
 */
#include "testutil.h"

#include <openssl/pem.h>

#include "crypto/crypto.h"
#include "evidence/cca.h"

#define EX_TOKEN "cca/trustee_cca_example_token.cbor"
#define FVP_TOKEN "cca/veraison_tfrmm_original_fvp_token.cbor"
#define CPAK "cca/trustee_cpak_pub.json"

#define ZERO64 "0000000000000000000000000000000000000000000000000000000000000000" \
	"0000000000000000000000000000000000000000000000000000000000000000"

static uint8_t *cpak;
static size_t cpak_size;

static int
setup(void **state)
{
	(void)state;
	cpak = t_read(t_vector(CPAK), &cpak_size);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	ci_free(cpak);
	return 0;
}

static void
load_ev(struct cinfer_evidence *ev, const char *rel)
{
	cinfer_evidence_init(ev);
	ev->platform = CINFER_PLATFORM_CCA;
	ev->evidence = t_read(t_vector(rel), &ev->evidence_size);
}

static int
verify(const struct cinfer_evidence *ev, const uint8_t *iak, size_t iak_size,
    struct cinfer_claims *c, struct cinfer_err *e)
{
	struct cinfer_verify_opts o = { 0 };

	o.cca_iak_pub = iak;
	o.cca_iak_pub_size = iak_size;
	cinfer_claims_init(c, CINFER_PLATFORM_CCA);
	return ci_cca_verify(ev, &o, ci_time_now(), c, e);
}

static void
assert_meas_hex(const struct cinfer_meas *m, const char *hex)
{
	char buf[2 * CINFER_MEAS_SIZE_MAX + 1];

	assert_non_null(m);
	ci_hex_encode(m->value, m->size, buf);
	assert_string_equal(buf, hex);
}

static void
test_example_token(void **state)
{
	struct cinfer_evidence ev;
	struct cinfer_claims c;
	struct cinfer_err e = { 0 };
	char hex[129];

	(void)state;
	load_ev(&ev, EX_TOKEN);
	if (verify(&ev, cpak, cpak_size, &c, &e) != 0)
		fail_msg("%s: %s", e.stage, e.msg);
	assert_int_equal(c.platform, CINFER_PLATFORM_CCA);
	assert_int_equal(c.measurement_size, 64);
	ci_hex_encode(c.measurement, 64, hex);
	assert_string_equal(hex, "ae87fbf7f105e71a7827cb6f0896889c73d2beaf4830d4f9cb05e3e96c3fc7b4"
	    "faa04caf36a26bd094cf9c7b738617e4c189aaee184dedda5d7a03c39dbdac7c");
	assert_int_equal(c.extra_count, 4);
	assert_meas_hex(cinfer_claims_meas(&c, "rem0"), ZERO64);
	assert_meas_hex(cinfer_claims_meas(&c, "rem3"), ZERO64);
	assert_null(cinfer_claims_meas(&c, "rem4"));
	assert_int_equal(c.report_data_size, 64);
	ci_hex_encode(c.report_data, 64, hex);
	assert_string_equal(hex, "57e979ae2618de0c1ab73144c440d741cf9236dc9d52ed190053382a4d190252"
	    "f9f0370403c35dcb155fb4362d73c66d5b0494bf939315d3dc52b8cdc8b85a96");
	assert_string_equal(cinfer_claims_detail(&c, "personalization"), ZERO64);
	assert_string_equal(cinfer_claims_detail(&c, "hash_algo"), "sha-512");
	assert_string_equal(cinfer_claims_detail(&c, "rak_hash_algo"), "sha-256");
	assert_string_equal(cinfer_claims_detail(&c, "platform_hash_algo"), "sha-256");
	assert_string_equal(cinfer_claims_detail(&c, "lifecycle"), "secured (0x3003)");
	assert_string_equal(cinfer_claims_detail(&c, "profile"), "http://arm.com/CCA-SSD/1.0.0");
	assert_string_equal(cinfer_claims_detail(&c, "implementation_id"),
	    "7f454c4602010100000000000000000003003e00010000005058000000000000");
	assert_string_equal(cinfer_claims_detail(&c, "instance_id"),
	    "0107060504030201000f0e0d0c0b0a090817161514131211101f1e1d1c1b1a1918");
	assert_string_equal(cinfer_claims_detail(&c, "platform_config"), "cfcfcfcf");
	assert_string_equal(cinfer_claims_detail(&c, "platform_challenge"),
	    "b5973cb68baa9fc55558786b7ec67f69e40df5ba5aa921cd0c27f40587a011ea");
	assert_string_equal(cinfer_claims_detail(&c, "verification_service"),
	    "https://veraison.example/.well-known/veraison/verification");
	assert_string_equal(cinfer_claims_detail(&c, "sw_count"), "13");
	assert_string_equal(cinfer_claims_detail(&c, "sw_components"),
	    "RSE_BL1_2 RSE_BL2 RSE_S AP_BL1 AP_BL2 SCP_BL1 SCP_BL2 AP_BL31 RMM HW_CONFIG "
	    "FW_CONFIG TB_FW_CONFIG SOC_FW_CONFIG");
	assert_string_equal(cinfer_claims_detail(&c, "sw0.RSE_BL1_2"),
	    "9a271f2a916b0b6ee6cecb2426f0b3206ef074578be55d9bc94f6f3fe3ab86aa");
	assert_string_equal(cinfer_claims_detail(&c, "sw8.RMM"),
	    "a1fb50e6c86fae1679ef3351296fd6713411a08cf8dd1790a4fd05fae8688164");
	assert_string_equal(cinfer_claims_detail(&c, "sw12.SOC_FW_CONFIG"),
	    "e6c21e8d260fe71882debdb339d2402a2ca7648529bc2303f48649bce0380017");
	assert_int_equal(c.chip_id_size, 33);
	assert_int_equal(c.debug, 0);
	assert_int_equal(c.produced_at, 0);
	assert_int_equal(strncmp(c.signer, "cca-iak:", 8), 0);
	assert_int_equal(strlen(c.signer), 8 + 16);
	cinfer_evidence_clear(&ev);
}

static void
test_iak_forms(void **state)
{
	struct cinfer_evidence ev;
	struct cinfer_claims c;
	struct cinfer_err e = { 0 };
	EVP_PKEY *k, *other;
	BIO *b;
	char *pem;
	long n;
	char signer[96];

	(void)state;
	load_ev(&ev, EX_TOKEN);
	assert_int_equal(verify(&ev, cpak, cpak_size, &c, &e), 0);
	snprintf(signer, sizeof(signer), "%s", c.signer);
	/* the same key as PEM */
	k = ci_pub_key_load(cpak, cpak_size, &e);
	assert_non_null(k);
	b = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_PUBKEY(b, k), 1);
	n = BIO_get_mem_data(b, &pem);
	assert_true(n > 0);
	assert_int_equal(verify(&ev, (uint8_t *)pem, (size_t)n, &c, &e), 0);
	assert_string_equal(c.signer, signer);
	BIO_free(b);
	/* no IAK */
	assert_int_equal(verify(&ev, NULL, 0, &c, &e), -1);
	assert_code(e, CINFER_E_USAGE);
	assert_string_equal(e.stage, "evidence.cca.iak");
	assert_non_null(strstr(e.msg, "no IAK configured"));
	/* some other P-384 key */
	cinfer_err_clear(&e);
	other = ci_ec_keygen("P-384", &e);
	assert_non_null(other);
	b = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_PUBKEY(b, other), 1);
	n = BIO_get_mem_data(b, &pem);
	assert_int_equal(verify(&ev, (uint8_t *)pem, (size_t)n, &c, &e), -1);
	assert_code(e, CINFER_E_CRYPTO);
	assert_string_equal(e.stage, "evidence.cca.platform");
	assert_string_equal(e.msg, "platform token signature does not verify with the configured IAK");
	assert_int_equal(c.measurement_size, 0);
	BIO_free(b);
	/* a P-256 key cannot verify ES384 */
	cinfer_err_clear(&e);
	EVP_PKEY_free(other);
	other = ci_ec_keygen("P-256", &e);
	b = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_PUBKEY(b, other), 1);
	n = BIO_get_mem_data(b, &pem);
	assert_int_equal(verify(&ev, (uint8_t *)pem, (size_t)n, &c, &e), -1);
	assert_code(e, CINFER_E_CRYPTO);
	assert_non_null(strstr(e.msg, "does not match the key's curve"));
	BIO_free(b);
	/* a JWK with a private part is refused */
	{
		static const char jwk_d[] = "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"IShnxS4rlQiwpCCpBW"
		    "DzlNLfqiG911FP8akBr-fh94uxHU5m-Kijivp2r2oxxN6M\",\"y\":\"hM4tr8mWQli1P61xh3T0ViD"
		    "REbF26DGOEYfbAjWjGNN7pZf-6A4OTHYqEryz6m7U\",\"d\":\"AA\"}";
		cinfer_err_clear(&e);
		assert_int_equal(verify(&ev, (const uint8_t *)jwk_d, sizeof(jwk_d) - 1, &c, &e), -1);
		assert_code(e, CINFER_E_USAGE);
		assert_non_null(strstr(e.msg, "private key"));
	}
	/* garbage */
	cinfer_err_clear(&e);
	assert_int_equal(verify(&ev, (const uint8_t *)"{\"kty\":\"RSA\"}", 13, &c, &e), -1);
	assert_string_equal(e.stage, "evidence.cca.iak");
	EVP_PKEY_free(other);
	EVP_PKEY_free(k);
	cinfer_evidence_clear(&ev);
}

static void
test_fvp_token(void **state)
{
	struct cinfer_evidence ev;
	struct cinfer_claims c;
	struct cinfer_err e = { 0 };
	struct ci_cca_token t;
	char hex[129];

	(void)state;
	load_ev(&ev, FVP_TOKEN);
	/* parses, with its facts */
	assert_int_equal(ci_cca_token_parse(&t, ev.evidence, ev.evidence_size, &e), 0);
	assert_int_equal(t.plat.cose.alg, CI_COSE_ALG_NONE);
	assert_int_equal(t.plat.cose.protected_size, 0);
	assert_int_equal(t.plat.cose.sig_size, 64);
	assert_int_equal(t.realm.cose.alg, CI_COSE_ES384);
	assert_int_equal(t.plat.sw_count, 4);
	assert_string_equal(t.plat.sw[0].type, "BL");
	assert_string_equal(t.plat.sw[0].version, "3.4.2");
	assert_string_equal(t.plat.verification_service, "whatever.com");
	assert_int_equal(t.plat.impl_id.size, 64);
	assert_string_equal(t.realm.hash_algo, "sha-256");
	assert_int_equal(t.realm.rim.size, 32);
	ci_hex_encode(t.realm.rim.p, 32, hex);
	assert_string_equal(hex, "7a56c95cf74d7a251a1e61c72f86026f19cb07b6fe098c47125ee6de81927474");
	assert_string_equal(ci_cca_lifecycle_name(t.plat.lifecycle), "secured");
	ci_cca_token_clear(&t);
	/* and is rejected because its platform part is not really signed */
	assert_int_equal(verify(&ev, cpak, cpak_size, &c, &e), -1);
	assert_code(e, CINFER_E_CRYPTO);
	assert_string_equal(e.stage, "evidence.cca.platform");
	assert_string_equal(e.msg, "platform token is unsigned: its protected header names no "
	    "algorithm (an FVP or emulator token, 64-byte placeholder signature)");
	cinfer_evidence_clear(&ev);
}

static void
flip_and_expect(const char *rel, const uint8_t *needle, size_t nsize, const char *stage,
    const char *msg)
{
	struct cinfer_evidence ev;
	struct cinfer_claims c;
	struct cinfer_err e = { 0 };
	uint8_t *at;

	load_ev(&ev, rel);
	at = memmem(ev.evidence, ev.evidence_size, needle, nsize);
	assert_non_null(at);
	at[nsize - 1] ^= 0x80;
	assert_int_equal(verify(&ev, cpak, cpak_size, &c, &e), -1);
	assert_code(e, CINFER_E_CRYPTO);
	assert_string_equal(e.stage, stage);
	assert_string_equal(e.msg, msg);
	cinfer_evidence_clear(&ev);
}

static void
test_tampered(void **state)
{
	uint8_t rim[64], sw[32];
	struct cinfer_err e = { 0 };

	(void)state;
	assert_int_equal(ci_hex_decode("ae87fbf7f105e71a7827cb6f0896889c73d2beaf4830d4f9cb05e3e96c3fc7b4"
	    "faa04caf36a26bd094cf9c7b738617e4c189aaee184dedda5d7a03c39dbdac7c", 128, rim, 64, NULL,
	    &e), 0);
	flip_and_expect(EX_TOKEN, rim, 64, "evidence.cca.realm",
	    "realm token signature does not verify with the RAK in its claims");
	assert_int_equal(ci_hex_decode("a1fb50e6c86fae1679ef3351296fd6713411a08cf8dd1790a4fd05fae8688164",
	    64, sw, 32, NULL, &e), 0);
	flip_and_expect(EX_TOKEN, sw, 32, "evidence.cca.platform",
	    "platform token signature does not verify with the configured IAK");
}

/* tag 399 {44234: platform, 44241: realm} */
static void
make_token(const uint8_t *plat, size_t plat_size, const uint8_t *realm, size_t realm_size,
    uint8_t **out, size_t *out_size)
{
	struct ci_cbor_w w;
	struct cinfer_err e = { 0 };

	ci_cbor_w_init(&w, 1 << 20);
	ci_cbor_w_head(&w, 6, CI_CCA_TAG_COLLECTION);
	ci_cbor_w_head(&w, 5, 2);
	ci_cbor_w_int(&w, CI_CCA_KEY_PLATFORM);
	ci_cbor_w_bytes(&w, plat, plat_size);
	ci_cbor_w_int(&w, CI_CCA_KEY_REALM);
	ci_cbor_w_bytes(&w, realm, realm_size);
	assert_int_equal(ci_cbor_w_finish(&w, out, out_size, "test", &e), 0);
}

/* A copy of payload with the bytes old replaced by new (same size, found once). */
static uint8_t *
replaced(const uint8_t *payload, size_t size, const uint8_t *old, const uint8_t *new_,
    size_t n)
{
	uint8_t *p = ci_memdup(payload, size), *at;

	assert_non_null(p);
	at = memmem(p, size, old, n);
	assert_non_null(at);
	assert_null(memmem(at + 1, size - (size_t)(at + 1 - p), old, n));
	memcpy(at, new_, n);
	return p;
}

static void
test_rak_binding(void **state)
{
	struct cinfer_evidence ev, forged;
	struct cinfer_claims c;
	struct cinfer_err e = { 0 };
	struct ci_cca_token t;
	EVP_PKEY *rak2, *iak2;
	uint8_t pt[97], *realm_payload, *realm2, *plat_payload, *plat2, *tok, h[32];
	size_t realm2_size, plat2_size, tok_size;
	BIO *b;
	char *pem;
	long n;

	(void)state;
	load_ev(&ev, EX_TOKEN);
	assert_int_equal(ci_cca_token_parse(&t, ev.evidence, ev.evidence_size, &e), 0);
	assert_int_equal(t.realm.rak.size, 97);
	/* a realm token with a different RAK, correctly signed by that RAK */
	rak2 = ci_ec_keygen("P-384", &e);
	assert_non_null(rak2);
	assert_int_equal(ci_ec_pub_point(rak2, pt, sizeof(pt)), 97);
	realm_payload = replaced(t.realm.cose.payload, t.realm.cose.payload_size, t.realm.rak.p,
	    pt, 97);
	assert_int_equal(ci_cose_sign1_make(rak2, 1, realm_payload, t.realm.cose.payload_size,
	    &realm2, &realm2_size, &e), 0);
	/* ... next to the original, genuinely signed platform token */
	{
		const uint8_t *pp;
		size_t ps;
		assert_int_equal(ci_cbor_get_bytes(ci_cbor_map_int(t.root, CI_CCA_KEY_PLATFORM), "p",
		    1, 1 << 20, &pp, &ps, "test", &e), 0);
		make_token(pp, ps, realm2, realm2_size, &tok, &tok_size);
	}
	cinfer_evidence_init(&forged);
	forged.platform = CINFER_PLATFORM_CCA;
	forged.evidence = tok;
	forged.evidence_size = tok_size;
	assert_int_equal(verify(&forged, cpak, cpak_size, &c, &e), -1);
	assert_code(e, CINFER_E_CRYPTO);
	assert_string_equal(e.stage, "evidence.cca.binding");
	assert_string_equal(e.msg, "platform challenge is not the sha-256 hash of the realm's RAK: "
	    "the realm token is not bound to this platform token");
	cinfer_evidence_clear(&forged);

	/* control: a platform token naming sha-256(new RAK), signed by a test IAK, verifies */
	iak2 = ci_ec_keygen("P-384", &e);
	assert_non_null(iak2);
	ci_sha256(pt, 97, h);
	plat_payload = replaced(t.plat.cose.payload, t.plat.cose.payload_size,
	    t.plat.challenge.p, h, 32);
	assert_int_equal(ci_cose_sign1_make(iak2, 1, plat_payload, t.plat.cose.payload_size,
	    &plat2, &plat2_size, &e), 0);
	make_token(plat2, plat2_size, realm2, realm2_size, &tok, &tok_size);
	cinfer_evidence_init(&forged);
	forged.platform = CINFER_PLATFORM_CCA;
	forged.evidence = tok;
	forged.evidence_size = tok_size;
	b = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_PUBKEY(b, iak2), 1);
	n = BIO_get_mem_data(b, &pem);
	cinfer_err_clear(&e);
	if (verify(&forged, (uint8_t *)pem, (size_t)n, &c, &e) != 0)
		fail_msg("control: %s: %s", e.stage, e.msg);
	assert_string_equal(cinfer_claims_detail(&c, "platform_challenge"),
	    cinfer_claims_detail(&c, "rak_sha256"));
	/* and the genuine CPAK does not verify the test IAK's platform token */
	assert_int_equal(verify(&forged, cpak, cpak_size, &c, &e), -1);
	assert_string_equal(e.stage, "evidence.cca.platform");
	BIO_free(b);
	cinfer_evidence_clear(&forged);

	ci_free(realm_payload);
	ci_free(plat_payload);
	ci_free(realm2);
	ci_free(plat2);
	EVP_PKEY_free(rak2);
	EVP_PKEY_free(iak2);
	ci_cca_token_clear(&t);
	cinfer_evidence_clear(&ev);
}

/* ---- synthetic tokens: every claim chosen by the test ------------------- */

static uint8_t *
sign_payload(EVP_PKEY *key, struct ci_cbor_w *w, size_t *size)
{
	struct cinfer_err e = { 0 };
	uint8_t *payload, *out;
	size_t psize;

	assert_int_equal(ci_cbor_w_finish(w, &payload, &psize, "test", &e), 0);
	assert_int_equal(ci_cose_sign1_make(key, 1, payload, psize, &out, size, &e), 0);
	ci_free(payload);
	return out;
}

static uint8_t *
realm_token(EVP_PKEY *rak, const uint8_t *rak_claim, size_t rak_size, const char *rak_algo,
    const uint8_t challenge[64], size_t *size)
{
	struct ci_cbor_w w;
	uint8_t m[32];

	memset(m, 0x11, sizeof(m));
	ci_cbor_w_init(&w, 1 << 16);
	ci_cbor_w_head(&w, 5, 7);
	ci_cbor_w_int(&w, CI_CCA_R_CHALLENGE);
	ci_cbor_w_bytes(&w, challenge, 64);
	ci_cbor_w_int(&w, CI_CCA_R_PERSONALIZATION);
	ci_cbor_w_bytes(&w, challenge, 64);
	ci_cbor_w_int(&w, CI_CCA_R_HASH_ALGO);
	ci_cbor_w_text(&w, "sha-256");
	ci_cbor_w_int(&w, CI_CCA_R_PUB_KEY);
	ci_cbor_w_bytes(&w, rak_claim, rak_size);
	ci_cbor_w_int(&w, CI_CCA_R_RIM);
	ci_cbor_w_bytes(&w, m, sizeof(m));
	ci_cbor_w_int(&w, CI_CCA_R_REM);
	ci_cbor_w_head(&w, 4, 4);
	for (int i = 0; i < 4; i++)
		ci_cbor_w_bytes(&w, m, sizeof(m));
	ci_cbor_w_int(&w, CI_CCA_R_PUB_KEY_HASH_ALGO);
	ci_cbor_w_text(&w, rak_algo);
	return sign_payload(rak, &w, size);
}

static uint8_t *
platform_token(EVP_PKEY *iak, const uint8_t *challenge, size_t challenge_size,
    uint64_t lifecycle, size_t *size)
{
	struct ci_cbor_w w;
	uint8_t id[33];

	memset(id, 0x01, sizeof(id));
	ci_cbor_w_init(&w, 1 << 16);
	ci_cbor_w_head(&w, 5, 8);
	ci_cbor_w_int(&w, CI_CCA_P_PROFILE);
	ci_cbor_w_text(&w, "tag:arm.com,2023:cca_platform#1.0.0");
	ci_cbor_w_int(&w, CI_CCA_P_CHALLENGE);
	ci_cbor_w_bytes(&w, challenge, challenge_size);
	ci_cbor_w_int(&w, CI_CCA_P_IMPL_ID);
	ci_cbor_w_bytes(&w, id, 32);
	ci_cbor_w_int(&w, CI_CCA_P_INSTANCE_ID);
	ci_cbor_w_bytes(&w, id, 33);
	ci_cbor_w_int(&w, CI_CCA_P_CONFIG);
	ci_cbor_w_bytes(&w, id, 4);
	ci_cbor_w_int(&w, CI_CCA_P_LIFECYCLE);
	ci_cbor_w_int(&w, (int64_t)lifecycle);
	ci_cbor_w_int(&w, CI_CCA_P_SW_COMPONENTS);
	ci_cbor_w_head(&w, 4, 1);
	ci_cbor_w_head(&w, 5, 3);
	ci_cbor_w_int(&w, 1);
	ci_cbor_w_text(&w, "BL");
	ci_cbor_w_int(&w, 2);
	ci_cbor_w_bytes(&w, id, 32);
	ci_cbor_w_int(&w, 5);
	ci_cbor_w_bytes(&w, id, 32);
	ci_cbor_w_int(&w, CI_CCA_P_HASH_ALGO);
	ci_cbor_w_text(&w, "sha-256");
	return sign_payload(iak, &w, size);
}

struct synth {
	int cose_key_rak;
	const char *rak_algo;
	const EVP_MD *md;	/* NULL: challenge of 32 zero bytes */
	uint64_t lifecycle;
};

static int
verify_synth(const struct synth *sy, struct cinfer_claims *c, struct cinfer_err *e)
{
	EVP_PKEY *rak = ci_ec_keygen("P-384", e), *iak = ci_ec_keygen("P-384", e);
	uint8_t pt[97], ck[128], chal[64], h[64], *realm, *plat, *tok;
	size_t ck_size = 0, realm_size, plat_size, tok_size, hsize = 32;
	struct cinfer_evidence ev;
	BIO *b = BIO_new(BIO_s_mem());
	char *pem;
	long n;
	int rc;

	assert_non_null(rak);
	assert_non_null(iak);
	assert_int_equal(ci_ec_pub_point(rak, pt, sizeof(pt)), 97);
	if (sy->cose_key_rak) {
		/* {1: 2, -1: 2, -2: x, -3: y} */
		static const uint8_t hd[] = { 0xa4, 0x01, 0x02, 0x20, 0x02, 0x21, 0x58, 0x30 };
		memcpy(ck, hd, sizeof(hd));
		memcpy(ck + sizeof(hd), pt + 1, 48);
		ck[sizeof(hd) + 48] = 0x22;
		ck[sizeof(hd) + 49] = 0x58;
		ck[sizeof(hd) + 50] = 0x30;
		memcpy(ck + sizeof(hd) + 51, pt + 49, 48);
		ck_size = sizeof(hd) + 99;
	} else {
		memcpy(ck, pt, 97);
		ck_size = 97;
	}
	memset(chal, 0x5a, sizeof(chal));
	memset(h, 0, sizeof(h));
	if (sy->md != NULL) {
		unsigned int hs = 0;
		assert_int_equal(EVP_Digest(ck, ck_size, h, &hs, sy->md, NULL), 1);
		hsize = hs;
	}
	realm = realm_token(rak, ck, ck_size, sy->rak_algo, chal, &realm_size);
	plat = platform_token(iak, h, hsize, sy->lifecycle, &plat_size);
	make_token(plat, plat_size, realm, realm_size, &tok, &tok_size);
	cinfer_evidence_init(&ev);
	ev.platform = CINFER_PLATFORM_CCA;
	ev.evidence = tok;
	ev.evidence_size = tok_size;
	assert_int_equal(PEM_write_bio_PUBKEY(b, iak), 1);
	n = BIO_get_mem_data(b, &pem);
	rc = verify(&ev, (uint8_t *)pem, (size_t)n, c, e);
	if (rc == 0)
		assert_memory_equal(c->report_data, chal, 64);
	cinfer_evidence_clear(&ev);
	BIO_free(b);
	ci_free(realm);
	ci_free(plat);
	EVP_PKEY_free(rak);
	EVP_PKEY_free(iak);
	return rc;
}

static void
test_synthetic(void **state)
{
	struct cinfer_claims c;
	struct cinfer_err e = { 0 };
	struct synth sy;

	(void)state;
	/* RAK as a COSE_Key (later RMM versions), challenge = sha-256 over its bytes */
	sy = (struct synth){ 1, "sha-256", EVP_sha256(), 0x3000 };
	if (verify_synth(&sy, &c, &e) != 0)
		fail_msg("cose_key: %s: %s", e.stage, e.msg);
	assert_string_equal(cinfer_claims_detail(&c, "platform_challenge"),
	    cinfer_claims_detail(&c, "rak_sha256"));
	assert_string_equal(cinfer_claims_detail(&c, "profile"),
	    "tag:arm.com,2023:cca_platform#1.0.0");
	assert_string_equal(cinfer_claims_detail(&c, "sw_components"), "BL");
	assert_int_equal(c.debug, 0);
	/* sha-512 RAK hash: a 64-byte platform challenge */
	sy = (struct synth){ 0, "sha-512", EVP_sha512(), 0x30ff };
	if (verify_synth(&sy, &c, &e) != 0)
		fail_msg("sha-512: %s: %s", e.stage, e.msg);
	assert_int_equal(strlen(cinfer_claims_detail(&c, "platform_challenge")), 128);
	/* a platform in a debug lifecycle state: authentic, and flagged */
	sy = (struct synth){ 0, "sha-256", EVP_sha256(), 0x5001 };
	assert_int_equal(verify_synth(&sy, &c, &e), 0);
	assert_int_equal(c.debug, 1);
	assert_string_equal(cinfer_claims_detail(&c, "lifecycle"),
	    "recoverable-cca-platform-debug (0x5001)");
	sy = (struct synth){ 0, "sha-256", EVP_sha256(), 0x4000 };
	assert_int_equal(verify_synth(&sy, &c, &e), 0);
	assert_int_equal(c.debug, 1);
	/* a RAK hash algorithm we do not know */
	sy = (struct synth){ 0, "sha3-256", EVP_sha256(), 0x3000 };
	assert_int_equal(verify_synth(&sy, &c, &e), -1);
	assert_code(e, CINFER_E_UNSUPPORTED);
	assert_string_equal(e.stage, "evidence.cca.binding");
	/* the hash algorithm named, but the challenge made with another */
	cinfer_err_clear(&e);
	sy = (struct synth){ 0, "sha-384", EVP_sha256(), 0x3000 };
	assert_int_equal(verify_synth(&sy, &c, &e), -1);
	assert_string_equal(e.stage, "evidence.cca.binding");
	assert_non_null(strstr(e.msg, "sha-384 hash"));
	/* a lifecycle over 16 bits does not parse */
	cinfer_err_clear(&e);
	sy = (struct synth){ 0, "sha-256", EVP_sha256(), 0x10000 };
	assert_int_equal(verify_synth(&sy, &c, &e), -1);
	assert_code(e, CINFER_E_MALFORMED);
}

static void
test_malformed(void **state)
{
	struct cinfer_evidence ev;
	struct cinfer_claims c;
	struct cinfer_err e = { 0 };
	uint8_t *buf;
	size_t n;

	(void)state;
	/* a Nitro document is not a CCA token */
	load_ev(&ev, "nitro/veracruz_2022-11-09_doc.cbor");
	assert_int_equal(verify(&ev, cpak, cpak_size, &c, &e), -1);
	assert_code(e, CINFER_E_MALFORMED);
	assert_string_equal(e.msg, "not a CCA attestation token (CBOR tag 399 expected)");
	cinfer_evidence_clear(&ev);
	/* truncations at every length fail cleanly */
	load_ev(&ev, EX_TOKEN);
	n = ev.evidence_size;
	buf = ci_memdup(ev.evidence, n);
	for (size_t k = 0; k < n; k += 7) {
		struct ci_cca_token t;
		cinfer_err_clear(&e);
		assert_int_equal(ci_cca_token_parse(&t, buf, k, &e), -1);
		assert_true(e.code == CINFER_E_MALFORMED || e.code == CINFER_E_LIMIT);
	}
	ci_free(buf);
	cinfer_evidence_clear(&ev);
}

static void
test_alloc_failures(void **state)
{
	struct cinfer_evidence ev;
	struct cinfer_claims c;
	size_t live;

	(void)state;
	load_ev(&ev, EX_TOKEN);
	live = ci_alloc_live();
	for (size_t n = 0;; n++) {
		struct cinfer_err e = { 0 };
		int rc;
		ci_alloc_fail_after(n);
		rc = verify(&ev, cpak, cpak_size, &c, &e);
		ci_alloc_fail_after(SIZE_MAX);
		if (rc == 0)
			break;
		if (e.code != CINFER_E_NOMEM)
			fail_msg("n=%zu: unexpected %s: %s: %s", n, cinfer_code_name(e.code), e.stage,
			    e.msg);
		assert_true(n < 200);
	}
	assert_int_equal(ci_alloc_live(), live);
	cinfer_evidence_clear(&ev);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_token),
		cmocka_unit_test(test_iak_forms),
		cmocka_unit_test(test_fvp_token),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_rak_binding),
		cmocka_unit_test(test_synthetic),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_alloc_failures),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
