/*
 * SEV-SNP verifier: every shared SNP vector verifies at a time inside its
 * validity with its MANIFEST.md facts asserted, and each mutation is
 * rejected at its own stage: flipped bits, a swapped VCEK, a foreign ARK,
 * a revoked VCEK or ASK (test chain and CRLs made here), a TCB or chip id
 * mismatch, a badly signed VCEK, expired certificates.
 */
#include "testutil.h"

#include <ctype.h>
#include <sys/stat.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "cinfer/evidence.h"
#include "crypto/crypto.h"
#include "evidence/amd_cert.h"
#include "evidence/snp.h"
#include "evidence/snp_certs.h"
#include "evidence/snp_report.h"

struct vec {
	const char *report, *cert, *at, *signer;
	uint32_t version, vmpl, guest_svn;
	uint64_t policy, platform_info;
	int debug;
	struct { unsigned bl, tee, snp, ucode; } tcb;
	uint64_t reported_raw, current_raw;
	const char *measurement, *report_data, *host_data, *chip_id, *id_key_digest, *family_id,
	    *image_id, *report_id;
};

/* Generated from ../shared/vectors/manifest.json (facts of MANIFEST.md). */
static const struct vec vecs[] = {
	{ "snp/gosev_milan_v2_report.bin", "snp/gosev_milan_vcek.der", "2022-10-24T00:55:28Z", "vcek:Milan",
	    2, 0, 0, 0xb0000, 0x1, 1, { 2, 0, 5, 68 }, 0x4405000000000002ull, 0x4405000000000002ull,
	    "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01",
	    "01020304050000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    "3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e53786184ca39e359669a2b76a1936776b564ea464cdce40c05f63c9b610c5068b006b5d",
	    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
	    "00000000000000000000000000000000",
	    "00000000000000000000000000000000",
	    "8edc638e1857c555d21f6b11bda3c8b1b5a09dba4852b4c8ee7aa2f16f22cc0a",
	},
	{ "snp/virtee_milan_v2_report.bin", "snp/virtee_milan_vcek.der", "2023-05-03T19:23:43Z", "vcek:Milan",
	    2, 0, 0, 0x30000, 0x1, 0, { 3, 0, 8, 115 }, 0x7308000000000003ull, 0x7308000000000003ull,
	    "7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f",
	    "d447b55d197491bfe15cf298f9de9986b7a7c4be2468b4f6e2d53b71d7c645810b0f2cdfca0040433be063fc1a8293f0f3f8dae7b79fecb3d1cd82bd6a93ebfd",
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    "d49554ec717f4e5b0fe6b143bcf0405bd7ae304727edf46603f2a76aef6a3abc15d7af38db757039029f0efacfd08e244324884738c72b082e2f87a44d541eb6",
	    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
	    "00000000000000000000000000000000",
	    "00000000000000000000000000000000",
	    "92b3b47d59f0a2a10a74c5678868a80238cf593c01a82f3cffb878e904c28d5b",
	},
	{ "snp/trustee_milan_v2_report.bin", "snp/trustee_milan_vcek.der", "2023-02-23T17:58:26Z", "vcek:Milan",
	    2, 0, 4, 0x3001f, 0x1, 0, { 3, 0, 8, 115 }, 0x7308000000000003ull, 0xce08000000000003ull,
	    "a1f3930413247bb38cfc171579ea3c12d5fe4901f0c792f63fd75d98f1ef827c23500644e0e692e6be917f9050d3d38c",
	    "ec6c52d7533cc2c4f45be7849cf112ab82b2009fe7bd43e71ed08c14400ad7e20000000000000000000000000000000000000000000000000000000000000000",
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    "c38427a30d4c7af9d96f7a15b97269825a64cb76a2352ffd5d18115d89ad473f8e8c0bcd9a5d9286612bad4aadfb4426205a3b9e4fea82301135a170e477524e",
	    "0356215882a825279a85b300b0b742931d113bf7e32dde2e50ffde7ec743ca491ecdd7f336dc28a6e0b2bb57af7a44a3",
	    "01000000000000000000000000000000",
	    "02000000000000000000000000000000",
	    "385eba81216de4776548fcb86f8ead03c1ebc92b6207f3210d9ccebb89c99005",
	},
	{ "snp/trustee_milan_vlek_v3_report.bin", "snp/trustee_milan_vlek.der", "2025-01-09T22:14:21Z", "vlek:Milan",
	    3, 1, 0, 0x30000, 0x27, 0, { 4, 0, 24, 217 }, 0xd918000000000004ull, 0xdc18000000000004ull,
	    "8922ebbdd00ec2c541f36a6e7a82a8773a7accb451ed67bc94e740dbe92c93c4e8c9af857f5ceeb5a493df2a570d7bf0",
	    "819770b7e6ea6df8dd8fd4dd146b073c0bf4f3ce5b0977ecac486e3a05ed1bd54e2a7ac1f5d1ca02e7d7d5ef9f73b8574fd9359e3a480d741a4478e8a7bc27ca",
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
	    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
	    "00000000000000000000000000000000",
	    "00000000000000000000000000000000",
	    "62e04fba700afd93b3a0cc0649b633ee36587fa8a8c2eb5d9b7cd7bc5f4bb057",
	},
	{ "snp/azure_genoa_v3_report.bin", "snp/azure_genoa_vcek.pem", "2025-02-23T02:21:48Z", "vcek:Genoa",
	    3, 0, 65547, 0x3001f, 0x24, 0, { 10, 0, 23, 84 }, 0x541700000000000aull, 0x541700000000000aull,
	    "f57dc09a507c6ecd82369bffb600f0003792f4d99bc26e985ec0c266fc34faf3706faf814c9e61065768a6ff917c89ae",
	    "b581f12e29a2d7d64e5e0b738d563879a78b51c644d0fa0cce02b48699f6bf5f0000000000000000000000000000000000000000000000000000000000000000",
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    "0506ffba875e939c2729d20c74eb72b4c5ba6bf7ea1faaa640141f12c6d64782fb487f68ce69dcd021e914cc0d9244327bc121f0242d6470903ad1d4aaea4ad1",
	    "942fd93ebde6ea7a96efadeafc60f1c6b3d10e703b1dafd7555b92f7f3d32d0e006767648cba5b102af3d65756af4177",
	    "01232000000000000000000000000000",
	    "02000000000000000000000000000000",
	    "8c678f0cba548b25bc8ed1f723231570447886c74b1fa1f7eb23699755cb4801",
	},
	{ "snp/gcp_milan_v5_report.bin", "snp/gcp_milan_vcek.pem", "2026-01-04T06:04:27Z", "vcek:Milan",
	    5, 0, 0, 0x30000, 0x25, 0, { 4, 0, 27, 222 }, 0xde1b000000000004ull, 0xde1b000000000004ull,
	    "b747d55452e0b9e9079770a49e397c5e6d9573581e246da7baac4f28b5cdc5b1b6d19251b8ee600fd16a3708f58406f3",
	    "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    "980cf7b61876cb37fd517cd44ce11c72d43c5408e66ab39138370ec59bc195e063254cb501d87d82f0b8b8dc774bcfe28019447711598f007390e4accc405361",
	    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
	    "00000000000000000000000000000000",
	    "00000000000000000000000000000000",
	    "9a0603343e711e1ec9b6b046023da5378e7c4cac6182e35d4f3ebeb46aef6c80",
	},
	{ "snp/gcp_milan_v5_vmpl1_report.bin", "snp/gcp_milan_vcek.pem", "2026-01-04T06:04:27Z", "vcek:Milan",
	    5, 1, 0, 0x30000, 0x25, 0, { 4, 0, 27, 222 }, 0xde1b000000000004ull, 0xde1b000000000004ull,
	    "b747d55452e0b9e9079770a49e397c5e6d9573581e246da7baac4f28b5cdc5b1b6d19251b8ee600fd16a3708f58406f3",
	    "32fc4f6c1971cbf91566231f8d6153eeb9d093aa94306cb48d39bcc4861a3d395f149876a37bc91332fe493f46294fd135d5b95d363ae96352b8c45f906079f5",
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    "980cf7b61876cb37fd517cd44ce11c72d43c5408e66ab39138370ec59bc195e063254cb501d87d82f0b8b8dc774bcfe28019447711598f007390e4accc405361",
	    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
	    "00000000000000000000000000000000",
	    "00000000000000000000000000000000",
	    "9a0603343e711e1ec9b6b046023da5378e7c4cac6182e35d4f3ebeb46aef6c80",
	},
	{ "snp/gcp_milan_v5_x25519_bound_report.bin", "snp/gcp_milan_x25519_vcek.pem", "2026-01-04T09:42:54Z", "vcek:Milan",
	    5, 1, 0, 0x30000, 0x25, 0, { 4, 0, 27, 222 }, 0xde1b000000000004ull, 0xde1b000000000004ull,
	    "b747d55452e0b9e9079770a49e397c5e6d9573581e246da7baac4f28b5cdc5b1b6d19251b8ee600fd16a3708f58406f3",
	    "3a6753fd4b194de53824d7fd5b45e251cc19a32a71dd5ba3e131fe19f2adbe86d658c147479571226e0f294eb7e44abb6c1673f39a5378ac25cd5d6268b91f1a",
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    "980cf7b61876cb37fd517cd44ce11c72d43c5408e66ab39138370ec59bc195e063254cb501d87d82f0b8b8dc774bcfe28019447711598f007390e4accc405361",
	    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
	    "00000000000000000000000000000000",
	    "00000000000000000000000000000000",
	    "9a0603343e711e1ec9b6b046023da5378e7c4cac6182e35d4f3ebeb46aef6c80",
	},
	{ "snp/oak_gcp_genoa_v5_report.bin", "snp/oak_gcp_genoa_vcek.der", "2025-09-06T17:21:41Z", "vcek:Genoa",
	    5, 0, 0, 0x30000, 0x25, 0, { 10, 0, 25, 84 }, 0x541900000000000aull, 0x541900000000000aull,
	    "c57729018b0a6fb90dc17bb138b0aa35e4401004283ff4a2c24d3739ff3750f52384370e77b7032862a08c440a9bc4dc",
	    "8100555af0ad8e7525be6dffeed0af83e30bbacbf03b76e175e6894d1ed057ce0000000000000000000000000000000000000000000000000000000000000000",
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    "d2421d976f95ce0ba849b7cc5c789122f1e59c77a037272c137ae4d188bb102adbc7c53d0302bff82a432c94a305dec7a7a270ceb19a10f04a83316c6486968d",
	    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
	    "00000000000000000000000000000000",
	    "00000000000000000000000000000000",
	    "e3439f6d05c064ee59d73088059246b9f7e6ae68e7eba9874e68a3f66e83aaa0",
	},
};

static const char *
roots(void)
{
	return t_src("data/roots");
}

static int64_t
t_time(const char *s)
{
	int64_t t = 0;
	struct cinfer_err e = { 0 };

	if (ci_time_parse(s, &t, &e) != 0)
		fail_msg("time %s: %s", s, e.msg);
	return t;
}

static void
unhex(const char *h, uint8_t *out, size_t size)
{
	size_t n = 0;
	struct cinfer_err e = { 0 };

	if (ci_hex_decode(h, strlen(h), out, size, &n, &e) != 0 || n != size)
		fail_msg("bad hex %s", h);
}

static void
ev_load(struct cinfer_evidence *ev, const char *report, const char *cert)
{
	struct cinfer_err e = { 0 };
	size_t size;
	uint8_t *buf;

	cinfer_evidence_init(ev);
	ev->platform = CINFER_PLATFORM_SNP;
	buf = t_read(t_vector(report), &size);
	ev->evidence = ci_memdup(buf, size);
	ev->evidence_size = size;
	ci_free(buf);
	if (cert != NULL) {
		buf = t_read(t_vector(cert), &size);
		if (cinfer_evidence_add_cert(ev, buf, size, &e) != 0)
			fail_msg("add cert: %s", e.msg);
		ci_free(buf);
	}
}

static void
ev_add_file(struct cinfer_evidence *ev, const char *collateral, const char *path)
{
	struct cinfer_err e = { 0 };
	size_t size;
	uint8_t *buf = t_read(path, &size);
	int rc = collateral ? cinfer_evidence_add_collateral(ev, collateral, buf, size, &e) :
	    cinfer_evidence_add_cert(ev, buf, size, &e);

	if (rc != 0)
		fail_msg("add: %s", e.msg);
	ci_free(buf);
}

static int
verify_at(const struct cinfer_evidence *ev, const char *roots_dir, int64_t at,
    struct cinfer_claims *c, struct cinfer_err *e)
{
	struct cinfer_verify_opts o = { .roots_dir = roots_dir };

	cinfer_claims_init(c, CINFER_PLATFORM_SNP);
	return ci_snp_verify(ev, &o, at, c, e);
}

static void
expect_fail(const struct cinfer_evidence *ev, const char *roots_dir, int64_t at,
    enum cinfer_code code, const char *stage, const char *msg_part)
{
	struct cinfer_claims c;
	struct cinfer_err e = { 0 };

	if (verify_at(ev, roots_dir, at, &c, &e) == 0)
		fail_msg("accepted, expected %s at %s", cinfer_code_name(code), stage);
	assert_code(e, code);
	if (e.stage == NULL || strcmp(e.stage, stage) != 0)
		fail_msg("stage %s, expected %s (%s)", e.stage ? e.stage : "-", stage, e.msg);
	if (msg_part != NULL && strstr(e.msg, msg_part) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", e.msg, msg_part);
}

static void
assert_detail(const struct cinfer_claims *c, const char *name, const char *want)
{
	const char *v = cinfer_claims_detail(c, name);

	if (v == NULL || strcmp(v, want) != 0)
		fail_msg("detail %s = %s, expected %s", name, v ? v : "(none)", want);
}

static uint64_t
tcb_claim(const struct cinfer_claims *c, const char *name)
{
	for (size_t i = 0; i < c->tcb_count; i++)
		if (strcmp(c->tcb[i].name, name) == 0)
			return c->tcb[i].value;
	fail_msg("no tcb claim %s", name);
	return 0;
}

static void
check_facts(const struct vec *v, const struct cinfer_claims *c)
{
	uint8_t b[64];
	char s[64];

	assert_int_equal(c->platform, CINFER_PLATFORM_SNP);
	assert_int_equal(c->simulated, 0);
	assert_string_equal(c->signer, v->signer);
	assert_int_equal(c->measurement_size, 48);
	unhex(v->measurement, b, 48);
	assert_memory_equal(c->measurement, b, 48);
	assert_int_equal(c->report_data_size, 64);
	unhex(v->report_data, b, 64);
	assert_memory_equal(c->report_data, b, 64);
	assert_int_equal(c->host_data_size, 32);
	unhex(v->host_data, b, 32);
	assert_memory_equal(c->host_data, b, 32);
	assert_int_equal(c->chip_id_size, 64);
	unhex(v->chip_id, b, 64);
	assert_memory_equal(c->chip_id, b, 64);
	assert_int_equal(c->debug, v->debug);
	assert_int_equal(tcb_claim(c, "bootloader"), v->tcb.bl);
	assert_int_equal(tcb_claim(c, "tee"), v->tcb.tee);
	assert_int_equal(tcb_claim(c, "snp"), v->tcb.snp);
	assert_int_equal(tcb_claim(c, "microcode"), v->tcb.ucode);
	snprintf(s, sizeof(s), "%016llx", (unsigned long long)v->reported_raw);
	assert_detail(c, "reported_tcb", s);
	snprintf(s, sizeof(s), "%016llx", (unsigned long long)v->current_raw);
	assert_detail(c, "current_tcb", s);
	snprintf(s, sizeof(s), "%u", v->version);
	assert_detail(c, "version", s);
	snprintf(s, sizeof(s), "%u", v->vmpl);
	assert_detail(c, "vmpl", s);
	snprintf(s, sizeof(s), "%u", v->guest_svn);
	assert_detail(c, "guest_svn", s);
	snprintf(s, sizeof(s), "0x%llx", (unsigned long long)v->policy);
	assert_detail(c, "guest_policy", s);
	snprintf(s, sizeof(s), "0x%llx", (unsigned long long)v->platform_info);
	assert_detail(c, "platform_info", s);
	assert_detail(c, "policy_debug", v->debug ? "true" : "false");
	assert_detail(c, "policy_migrate_ma", "false");
	assert_detail(c, "policy_smt", "true");
	assert_detail(c, "policy_single_socket", "false");
	assert_detail(c, "id_key_digest", v->id_key_digest);
	assert_detail(c, "family_id", v->family_id);
	assert_detail(c, "image_id", v->image_id);
	assert_detail(c, "report_id", v->report_id);
	assert_detail(c, "signing_key", strncmp(v->signer, "vlek", 4) == 0 ? "vlek" : "vcek");
	assert_detail(c, "revocation", "unchecked");
}

static void
test_vectors_verify(void **state)
{
	for (size_t i = 0; i < CI_ARRAY_LEN(vecs); i++) {
		const struct vec *v = &vecs[i];
		struct cinfer_evidence ev;
		struct cinfer_claims c;
		struct cinfer_err e = { 0 };

		ev_load(&ev, v->report, v->cert);
		ci_snp_cache_clear();
		if (verify_at(&ev, roots(), t_time(v->at), &c, &e) != 0)
			fail_msg("%s: %s: %s", v->report, e.stage, e.msg);
		check_facts(v, &c);
		/* Again, from the warm chain cache: same verdict, same facts. */
		if (verify_at(&ev, roots(), t_time(v->at), &c, &e) != 0)
			fail_msg("%s (warm): %s: %s", v->report, e.stage, e.msg);
		check_facts(v, &c);
		cinfer_evidence_clear(&ev);
	}
}

/* The chain carried in the evidence (ASK+ARK as KDS serves them) is fine
 * when its ARK is the pinned one. */
static void
test_carried_chain(void **state)
{
	struct cinfer_evidence ev;
	struct cinfer_claims c;
	struct cinfer_err e = { 0 };

	ev_load(&ev, vecs[0].report, vecs[0].cert);
	ev_add_file(&ev, NULL, t_vector("roots/amd_ask_ark_milan.pem"));
	if (verify_at(&ev, roots(), t_time(vecs[0].at), &c, &e) != 0)
		fail_msg("%s: %s", e.stage, e.msg);
	check_facts(&vecs[0], &c);
	cinfer_evidence_clear(&ev);

	/* VLEK with its ASVK+ARK. */
	ev_load(&ev, vecs[3].report, vecs[3].cert);
	ev_add_file(&ev, NULL, t_vector("roots/amd_ask_ark_milan_vlek.pem"));
	if (verify_at(&ev, roots(), t_time(vecs[3].at), &c, &e) != 0)
		fail_msg("%s: %s", e.stage, e.msg);
	check_facts(&vecs[3], &c);
	assert_detail(&c, "vlek_csp_id", "CN=cc-us-east-2.amazonaws.com");
	cinfer_evidence_clear(&ev);
}

/* The same certificates delivered as an extended-report certificate table. */
static void
test_cert_table_collateral(void **state)
{
	struct cinfer_evidence ev;
	struct cinfer_claims c;
	struct cinfer_err e = { 0 };
	struct ci_snp_cert_entry in[3];
	uint8_t *vcek, *bundle, *table = NULL;
	size_t vcek_size, bundle_size, table_size = 0;
	STACK_OF(X509) *sk;
	unsigned char *der[2] = { NULL, NULL };
	int n[2];

	vcek = t_read(t_vector(vecs[1].cert), &vcek_size);
	bundle = t_read(t_vector("roots/amd_ask_ark_milan.pem"), &bundle_size);
	sk = ci_x509_parse_bundle(bundle, bundle_size, &e);
	assert_non_null(sk);
	n[0] = i2d_X509(sk_X509_value(sk, 0), &der[0]);
	n[1] = i2d_X509(sk_X509_value(sk, 1), &der[1]);
	memset(in, 0, sizeof(in));
	in[0] = (struct ci_snp_cert_entry){ .kind = CI_SNP_CERT_VCEK, .data = vcek, .size = vcek_size };
	in[1] = (struct ci_snp_cert_entry){ .kind = CI_SNP_CERT_ASK, .data = der[0], .size = (size_t)n[0] };
	in[2] = (struct ci_snp_cert_entry){ .kind = CI_SNP_CERT_ARK, .data = der[1], .size = (size_t)n[1] };
	if (ci_snp_cert_table_build(in, 3, &table, &table_size, &e) != 0)
		fail_msg("build: %s", e.msg);
	ev_load(&ev, vecs[1].report, NULL);
	if (cinfer_evidence_add_collateral(&ev, "cert_table", table, table_size, &e) != 0)
		fail_msg("%s", e.msg);
	if (verify_at(&ev, roots(), t_time(vecs[1].at), &c, &e) != 0)
		fail_msg("%s: %s", e.stage, e.msg);
	check_facts(&vecs[1], &c);
	assert_detail(&c, "certs_from", "cert_table");
	cinfer_evidence_clear(&ev);

	/* No certificate at all: a usage error that says where to get one. */
	ev_load(&ev, vecs[1].report, NULL);
	expect_fail(&ev, roots(), t_time(vecs[1].at), CINFER_E_USAGE, "evidence.snp.certs",
	    "cinfer snp certs");
	cinfer_evidence_clear(&ev);

	OPENSSL_free(der[0]);
	OPENSSL_free(der[1]);
	sk_X509_pop_free(sk, X509_free);
	ci_free(table);
	ci_free(vcek);
	ci_free(bundle);
}

/* Which stage must reject a flip at this offset of a report of version v?
 * NULL: any early stage (layout fields whose meaning the flip changes). */
static const char *
flip_stage(size_t off, uint32_t v)
{
	if (off < 0x04 || (off >= 0x30 && off < 0x38) || (off >= 0x48 && off < 0x50))
		return NULL;			/* version, VMPL, sig algo, key info */
	if (off >= 0x188 && off < 0x18B)
		return v >= 3 ? NULL : "evidence.snp.report";	/* CPUID or reserved */
	if (off == 0x0A)
		return NULL;			/* policy byte with the must-be-one bit 17 */
	if ((off >= 0x4C && off < 0x50) || (off >= 0x18B && off < 0x1A0) || off == 0x1EB ||
	    off == 0x1EF || off >= (v >= 5 ? 0x208u : 0x1F8u))
		return "evidence.snp.report";	/* reserved, must be zero */
	return "evidence.snp.signature";
}

static void
test_bit_flips(void **state)
{
	size_t tried = 0;

	for (size_t i = 0; i < CI_ARRAY_LEN(vecs); i++) {
		const struct vec *v = &vecs[i];
		struct cinfer_evidence ev;
		int64_t at = t_time(v->at);

		ev_load(&ev, v->report, v->cert);
		/* A prime stride walks every field across the vectors; the
		 * signature's r and s and their padding are covered too. */
		for (size_t off = i % 7; off < CI_SNP_REPORT_SIZE; off += 7) {
			const char *want = off < CI_SNP_SIGNED_SIZE ? flip_stage(off, v->version) :
			    (off - 0x2A0 < 48 || (off - 0x2A0 >= 72 && off - 0x2A0 < 120)) ?
			    "evidence.snp.signature" : "evidence.snp.report";
			struct cinfer_claims c;
			struct cinfer_err e = { 0 };
			uint8_t bit = (uint8_t)(1u << ((off / 7) % 8));

			ev.evidence[off] ^= bit;
			if (verify_at(&ev, roots(), at, &c, &e) == 0)
				fail_msg("%s: flip at 0x%zx accepted", v->report, off);
			if (want != NULL) {
				if (strcmp(e.stage, want) != 0)
					fail_msg("%s: flip at 0x%zx: stage %s (%s), expected %s",
					    v->report, off, e.stage, e.msg, want);
				assert_code(e, strcmp(want, "evidence.snp.signature") == 0 ?
				    CINFER_E_CRYPTO : CINFER_E_MALFORMED);
			} else if (strncmp(e.stage, "evidence.snp", 12) != 0) {
				fail_msg("flip at 0x%zx: stage %s", off, e.stage);
			}
			ev.evidence[off] ^= bit;
			tried++;
		}
		cinfer_evidence_clear(&ev);
	}
	assert_true(tried > 1500);
}

static void
test_swapped_vcek(void **state)
{
	struct cinfer_evidence ev;

	/* Another Milan chip's VCEK: chain fine, signature not. */
	ev_load(&ev, vecs[0].report, vecs[1].cert);
	expect_fail(&ev, roots(), t_time(vecs[1].at), CINFER_E_CRYPTO,
	    "evidence.snp.signature", NULL);
	cinfer_evidence_clear(&ev);
	/* Genoa chips' VCEKs for each other's reports. */
	ev_load(&ev, vecs[4].report, vecs[8].cert);
	expect_fail(&ev, roots(), t_time(vecs[8].at), CINFER_E_CRYPTO,
	    "evidence.snp.signature", NULL);
	cinfer_evidence_clear(&ev);
	ev_load(&ev, vecs[8].report, vecs[4].cert);
	expect_fail(&ev, roots(), t_time(vecs[8].at), CINFER_E_CRYPTO,
	    "evidence.snp.signature", NULL);
	cinfer_evidence_clear(&ev);
	/* (GCP's two Milan VCEKs share chip and TCB, hence the key: VCEKs are
	 * derived from both, so one verifies the other's report, correctly.) */
	/* A Genoa VCEK for a Milan v5 report: the CPUID says Milan. */
	ev_load(&ev, vecs[5].report, vecs[8].cert);
	expect_fail(&ev, roots(), t_time(vecs[5].at), CINFER_E_CRYPTO, "evidence.snp.family",
	    "is Milan but the VCEK is Genoa's");
	cinfer_evidence_clear(&ev);
	/* A VCEK for a VLEK-signed report. */
	ev_load(&ev, vecs[3].report, vecs[5].cert);
	expect_fail(&ev, roots(), t_time(vecs[5].at), CINFER_E_CRYPTO, "evidence.snp.certs",
	    "not a VLEK");
	cinfer_evidence_clear(&ev);
}

static void
test_foreign_ark(void **state)
{
	struct cinfer_evidence ev;
	char *dir = t_tmpdir(), path[4200];
	size_t size;
	uint8_t *buf;
	struct cinfer_err e = { 0 };

	/* Genoa's ASK+ARK carried with a Milan VCEK. */
	ev_load(&ev, vecs[0].report, vecs[0].cert);
	ev_add_file(&ev, NULL, t_vector("roots/amd_ask_ark_genoa.pem"));
	expect_fail(&ev, roots(), t_time(vecs[0].at), CINFER_E_CRYPTO, "evidence.snp.chain",
	    "is not the pinned Milan ARK");
	cinfer_evidence_clear(&ev);

	/* Turin's ARK alone. */
	ev_load(&ev, vecs[4].report, vecs[4].cert);
	buf = t_read(t_vector("roots/amd_ask_ark_turin_vcek.pem"), &size);
	{
		STACK_OF(X509) *sk = ci_x509_parse_bundle(buf, size, &e);
		unsigned char *der = NULL;
		int n = i2d_X509(sk_X509_value(sk, 1), &der);
		if (cinfer_evidence_add_cert(&ev, der, (size_t)n, &e) != 0)
			fail_msg("%s", e.msg);
		OPENSSL_free(der);
		sk_X509_pop_free(sk, X509_free);
	}
	ci_free(buf);
	expect_fail(&ev, roots(), t_time(vecs[4].at), CINFER_E_CRYPTO, "evidence.snp.chain",
	    "is not the pinned Genoa ARK");
	cinfer_evidence_clear(&ev);

	/* The right ARK, but the VLEK chain's ASVK carried for a VCEK. */
	ev_load(&ev, vecs[0].report, vecs[0].cert);
	ev_add_file(&ev, NULL, t_vector("roots/amd_ask_ark_milan_vlek.pem"));
	expect_fail(&ev, roots(), t_time(vecs[0].at), CINFER_E_CRYPTO, "evidence.snp.chain",
	    "SEV-VLEK-Milan in the evidence did not issue the VCEK");
	cinfer_evidence_clear(&ev);
	/* No roots at all: an I/O error, never a pass. */
	ev_load(&ev, vecs[0].report, vecs[0].cert);
	expect_fail(&ev, "/nonexistent/roots", t_time(vecs[0].at), CINFER_E_IO,
	    "evidence.snp.roots", NULL);
	cinfer_evidence_clear(&ev);

	/* A roots directory whose Milan pin is really Genoa's bundle. */
	snprintf(path, sizeof(path), "%s/amd", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/amd/milan_vcek.pem", dir);
	buf = t_read(t_vector("roots/amd_ask_ark_genoa.pem"), &size);
	assert_int_equal(ci_file_write(path, buf, size, 0600, &e), 0);
	ci_free(buf);
	ev_load(&ev, vecs[0].report, vecs[0].cert);
	ci_snp_cache_clear();
	expect_fail(&ev, dir, t_time(vecs[0].at), CINFER_E_CRYPTO, "evidence.snp.chain",
	    "was issued by SEV-Milan, not by the ASK (SEV-Genoa)");
	cinfer_evidence_clear(&ev);
	t_rmrf(dir);
}

static void
test_bad_signature_vcek(void **state)
{
	struct cinfer_evidence ev;
	struct cinfer_err e = { 0 };
	const char *certs[] = { "snp/trustee_vcek_hwid_raw_badsig.der",
		"snp/trustee_vcek_hwid_octetstring.der" };

	for (size_t i = 0; i < 2; i++) {
		struct ci_amd_cert_ext ext;
		size_t size;
		uint8_t *buf = t_read(t_vector(certs[i]), &size);
		X509 *x = ci_x509_parse(buf, size, &e);

		/* Both hwID encodings parse to 00 01 .. 3f. */
		assert_non_null(x);
		assert_int_equal(ci_amd_cert_ext_parse(x, &ext, &e), 0);
		assert_int_equal(ext.hwid_size, 64);
		for (int k = 0; k < 64; k++)
			assert_int_equal(ext.hwid[k], k);
		assert_int_equal(ext.ucode, i == 0 ? 169 : 30);
		X509_free(x);
		ci_free(buf);

		ev_load(&ev, vecs[2].report, certs[i]);
		expect_fail(&ev, roots(), t_time("2024-01-01T00:00:00Z"), CINFER_E_CRYPTO,
		    "evidence.snp.chain", "signature does not verify with the ASK key");
		cinfer_evidence_clear(&ev);
	}
}

static void
test_validity_window(void **state)
{
	struct cinfer_evidence ev;

	ev_load(&ev, vecs[0].report, vecs[0].cert);
	ci_snp_cache_clear();
	expect_fail(&ev, roots(), t_time("2029-09-25T00:00:00Z"), CINFER_E_STALE,
	    "evidence.snp.chain", "VCEK/VLEK has expired");
	expect_fail(&ev, roots(), t_time("2022-09-23T00:00:00Z"), CINFER_E_STALE,
	    "evidence.snp.chain", "not yet valid");
	/* Warm cache must not stretch the window either. */
	{
		struct cinfer_claims c;
		struct cinfer_err e = { 0 };
		assert_int_equal(verify_at(&ev, roots(), t_time(vecs[0].at), &c, &e), 0);
	}
	expect_fail(&ev, roots(), t_time("2029-09-25T00:00:00Z"), CINFER_E_STALE,
	    "evidence.snp.chain", "has expired");
	cinfer_evidence_clear(&ev);
	/* The VLEK lives one year only. */
	ev_load(&ev, vecs[3].report, vecs[3].cert);
	expect_fail(&ev, roots(), t_time("2026-01-01T00:00:00Z"), CINFER_E_STALE,
	    "evidence.snp.chain", "has expired");
	cinfer_evidence_clear(&ev);
}

static void
test_turin_vcek_chain(void **state)
{
	struct cinfer_err e = { 0 };
	struct ci_amd_cert_ext ext;
	struct ci_snp_chain ch = { 0 };
	size_t size, bsize;
	uint8_t *buf = t_read(t_vector("snp/virtee_turin_vcek.der"), &size);
	uint8_t *bundle = t_read(t_src("data/roots/amd/turin_vcek.pem"), &bsize);
	X509 *x = ci_x509_parse(buf, size, &e);
	STACK_OF(X509) *sk = ci_x509_parse_bundle(bundle, bsize, &e);
	const uint8_t hwid[8] = { 0x1e, 0x55, 0x0a, 0x8e, 0xe5, 0xcf, 0x9f, 0x4d };

	assert_non_null(x);
	assert_non_null(sk);
	assert_int_equal(ci_amd_cert_ext_parse(x, &ext, &e), 0);
	assert_string_equal(ext.product_name, "Turin");
	assert_int_equal(ci_snp_family_from_product(ext.product_name), CI_SNP_FAMILY_TURIN);
	assert_true(ext.has_fmc);
	assert_int_equal(ext.fmc, 0);
	assert_int_equal(ext.ucode, 9);
	assert_int_equal(ext.hwid_size, 8);
	assert_memory_equal(ext.hwid, hwid, 8);
	ch.leaf = x;
	ch.inter = sk_X509_value(sk, 0);
	ch.ark = sk_X509_value(sk, 1);
	ci_snp_cache_clear();
	if (ci_snp_chain_verify(&ch, t_time("2025-01-01T00:00:00Z"), &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(ch.cache_hit, 0);
	/* Warm: the same three certificates inside their window hit the cache... */
	assert_int_equal(ci_snp_chain_verify(&ch, t_time("2026-06-01T00:00:00Z"), &e), 0);
	assert_int_equal(ch.cache_hit, 1);
	/* ...outside it they do not, and fail as stale. */
	assert_int_equal(ci_snp_chain_verify(&ch, t_time("2032-01-01T00:00:00Z"), &e), -1);
	assert_code(e, CINFER_E_STALE);
	assert_int_equal(ch.cache_hit, 0);
	memset(&e, 0, sizeof(e));
	/* Milan's ASK did not issue it. */
	{
		uint8_t *mb;
		size_t ms;
		STACK_OF(X509) *msk;
		struct cinfer_err e2 = { 0 };
		mb = t_read(t_src("data/roots/amd/milan_vcek.pem"), &ms);
		msk = ci_x509_parse_bundle(mb, ms, &e2);
		ch.inter = sk_X509_value(msk, 0);
		ch.ark = sk_X509_value(msk, 1);
		assert_int_equal(ci_snp_chain_verify(&ch, t_time("2025-01-01T00:00:00Z"), &e2), -1);
		assert_code(e2, CINFER_E_CRYPTO);
		sk_X509_pop_free(msk, X509_free);
		ci_free(mb);
	}
	sk_X509_pop_free(sk, X509_free);
	X509_free(x);
	ci_free(buf);
	ci_free(bundle);
}

static void
test_family_from_cpuid(void **state)
{
	assert_int_equal(ci_snp_family_from_cpuid(0x19, 0x01), CI_SNP_FAMILY_MILAN);
	assert_int_equal(ci_snp_family_from_cpuid(0x19, 0x11), CI_SNP_FAMILY_GENOA);
	assert_int_equal(ci_snp_family_from_cpuid(0x19, 0xA0), CI_SNP_FAMILY_GENOA);
	assert_int_equal(ci_snp_family_from_cpuid(0x1A, 0x02), CI_SNP_FAMILY_TURIN);
	assert_int_equal(ci_snp_family_from_cpuid(0x17, 0x31), CI_SNP_FAMILY_UNKNOWN);
	assert_int_equal(ci_snp_family_from_product("Milan-B0"), CI_SNP_FAMILY_MILAN);
	assert_int_equal(ci_snp_family_from_product("Genoa"), CI_SNP_FAMILY_GENOA);
	assert_int_equal(ci_snp_family_from_product("Milano"), CI_SNP_FAMILY_UNKNOWN);
}

/* ---- a test ARK/ASK/VCEK chain, for CRLs, TCB mismatches and Turin ---- */

struct test_chain {
	EVP_PKEY *ark_key, *ask_key, *vcek_key;
	X509 *ark, *ask, *vcek;
	char *dir;		/* roots dir with amd/<family>_vcek.pem */
	int64_t now;
};

static X509_NAME *
amd_name(const char *cn)
{
	X509_NAME *n = X509_NAME_new();

	X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_ASC, (const unsigned char *)"Engineering", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC, (const unsigned char *)"US", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
	    (const unsigned char *)"cinfer test (not AMD)", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	return n;
}

static void
sign_pss(void *obj, int is_crl, EVP_PKEY *key)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;

	assert_int_equal(EVP_DigestSignInit(ctx, &pctx, EVP_sha384(), NULL, key), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 48), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha384()), 1);
	if (is_crl)
		assert_true(X509_CRL_sign_ctx(obj, ctx) > 0);
	else
		assert_true(X509_sign_ctx(obj, ctx) > 0);
	EVP_MD_CTX_free(ctx);
}

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

static X509 *
mk_cert(const char *cn, EVP_PKEY *key, const char *issuer_cn, EVP_PKEY *issuer_key,
    long serial, int64_t now, int ca, const struct ci_amd_cert_ext *amd)
{
	X509 *x = X509_new();
	X509_NAME *sn = amd_name(cn), *in = amd_name(issuer_cn);
	time_t t = (time_t)now;
	struct cinfer_err e = { 0 };

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_set_subject_name(x, sn);
	X509_set_issuer_name(x, in);
	X509_time_adj_ex(X509_getm_notBefore(x), -30, 0, &t);
	X509_time_adj_ex(X509_getm_notAfter(x), 3650, 0, &t);
	X509_set_pubkey(x, key);
	if (ca) {
		add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
	}
	if (amd != NULL)
		assert_int_equal(ci_amd_cert_ext_add(x, amd, &e), 0);
	sign_pss(x, 0, issuer_key);
	X509_NAME_free(sn);
	X509_NAME_free(in);
	return x;
}

static void
pem_append(BIO *b, X509 *x)
{
	assert_int_equal(PEM_write_bio_X509(b, x), 1);
}

static void
chain_make(struct test_chain *tc, const char *family, const struct ci_amd_cert_ext *amd)
{
	char ark_cn[32], ask_cn[32], path[4200], lower[16];
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long n;
	struct cinfer_err e = { 0 };

	memset(tc, 0, sizeof(*tc));
	tc->now = t_time("2026-01-04T06:04:27Z");
	tc->ark_key = EVP_RSA_gen(2048);
	tc->ask_key = EVP_RSA_gen(2048);
	tc->vcek_key = ci_ec_keygen("P-384", &e);
	assert_non_null(tc->vcek_key);
	snprintf(ark_cn, sizeof(ark_cn), "ARK-%s", family);
	snprintf(ask_cn, sizeof(ask_cn), "SEV-%s", family);
	tc->ark = mk_cert(ark_cn, tc->ark_key, ark_cn, tc->ark_key, 1, tc->now, 1, NULL);
	tc->ask = mk_cert(ask_cn, tc->ask_key, ark_cn, tc->ark_key, 2, tc->now, 1, NULL);
	tc->vcek = mk_cert("SEV-VCEK", tc->vcek_key, ask_cn, tc->ask_key, 3, tc->now, 0, amd);
	tc->dir = t_tmpdir();
	snprintf(path, sizeof(path), "%s/amd", tc->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	for (size_t i = 0; i <= strlen(family); i++)
		lower[i] = (char)tolower((unsigned char)family[i]);
	snprintf(path, sizeof(path), "%s/amd/%s_vcek.pem", tc->dir, lower);
	pem_append(b, tc->ask);
	pem_append(b, tc->ark);
	n = BIO_get_mem_data(b, &data);
	assert_int_equal(ci_file_write(path, data, (size_t)n, 0600, &e), 0);
	BIO_free(b);
}

static void
chain_clear(struct test_chain *tc)
{
	EVP_PKEY_free(tc->ark_key);
	EVP_PKEY_free(tc->ask_key);
	EVP_PKEY_free(tc->vcek_key);
	X509_free(tc->ark);
	X509_free(tc->ask);
	X509_free(tc->vcek);
	t_rmrf(tc->dir);
}

static void
resign(uint8_t *rep, EVP_PKEY *key)
{
	uint8_t r[48], s[48];
	struct cinfer_err e = { 0 };

	assert_int_equal(ci_ecdsa_sign_raw(key, EVP_sha384(), rep, CI_SNP_SIGNED_SIZE, r, s, 48,
	    &e), 0);
	for (int i = 0; i < 48; i++) {
		rep[0x2A0 + i] = r[47 - i];
		rep[0x2A0 + 72 + i] = s[47 - i];
	}
}

static void
ev_with(struct cinfer_evidence *ev, const uint8_t *rep, X509 *leaf)
{
	unsigned char *der = NULL;
	int n = i2d_X509(leaf, &der);
	struct cinfer_err e = { 0 };

	cinfer_evidence_init(ev);
	ev->platform = CINFER_PLATFORM_SNP;
	ev->evidence = ci_memdup(rep, CI_SNP_REPORT_SIZE);
	ev->evidence_size = CI_SNP_REPORT_SIZE;
	assert_int_equal(cinfer_evidence_add_cert(ev, der, (size_t)n, &e), 0);
	OPENSSL_free(der);
}

static void
add_crl(struct cinfer_evidence *ev, X509 *issuer, EVP_PKEY *key, int64_t this_upd,
    int64_t next_upd, X509 *revoked)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t1 = ASN1_TIME_set(NULL, (time_t)this_upd);
	ASN1_TIME *t2 = ASN1_TIME_set(NULL, (time_t)next_upd);
	unsigned char *der = NULL;
	struct cinfer_err e = { 0 };
	int n;

	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer));
	X509_CRL_set1_lastUpdate(crl, t1);
	X509_CRL_set1_nextUpdate(crl, t2);
	if (revoked != NULL) {
		X509_REVOKED *r = X509_REVOKED_new();
		X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(revoked));
		X509_REVOKED_set_revocationDate(r, t1);
		X509_CRL_add0_revoked(crl, r);
	}
	X509_CRL_sort(crl);
	sign_pss(crl, 1, key);
	n = i2d_X509_CRL(crl, &der);
	assert_true(n > 0);
	assert_int_equal(cinfer_evidence_add_collateral(ev, "crl", der, (size_t)n, &e), 0);
	OPENSSL_free(der);
	ASN1_TIME_free(t1);
	ASN1_TIME_free(t2);
	X509_CRL_free(crl);
}

static uint8_t *
real_report(const char *name)
{
	size_t size;
	uint8_t *p = t_read(t_vector(name), &size);

	assert_int_equal(size, CI_SNP_REPORT_SIZE);
	return p;
}

static void
milan_ext(const uint8_t *rep, struct ci_amd_cert_ext *amd)
{
	struct ci_snp_report r;
	struct cinfer_err e = { 0 };

	assert_int_equal(ci_snp_report_parse(&r, rep, CI_SNP_REPORT_SIZE, &e), 0);
	memset(amd, 0, sizeof(*amd));
	strcpy(amd->product_name, "Milan-B0");
	amd->bl = r.reported_tcb.bootloader;
	amd->tee = r.reported_tcb.tee;
	amd->snp = r.reported_tcb.snp;
	amd->ucode = r.reported_tcb.microcode;
	memcpy(amd->hwid, r.chip_id, 64);
	amd->hwid_size = 64;
}

static void
test_revocation(void **state)
{
	struct test_chain tc;
	struct ci_amd_cert_ext amd;
	struct cinfer_evidence ev;
	struct cinfer_claims c;
	struct cinfer_err e = { 0 };
	uint8_t *rep = real_report("snp/gcp_milan_v5_report.bin");
	int64_t day = 86400;

	milan_ext(rep, &amd);
	chain_make(&tc, "Milan", &amd);
	resign(rep, tc.vcek_key);

	/* Good without CRLs, and with clean ones from both CAs. */
	ev_with(&ev, rep, tc.vcek);
	if (verify_at(&ev, tc.dir, tc.now, &c, &e) != 0)
		fail_msg("%s: %s", e.stage, e.msg);
	add_crl(&ev, tc.ark, tc.ark_key, tc.now - day, tc.now + 30 * day, NULL);
	add_crl(&ev, tc.ask, tc.ask_key, tc.now - day, tc.now + 30 * day, NULL);
	if (verify_at(&ev, tc.dir, tc.now, &c, &e) != 0)
		fail_msg("%s: %s", e.stage, e.msg);
	assert_detail(&c, "revocation", "checked (2 CRLs)");
	assert_string_equal(c.signer, "vcek:Milan");
	/* Past its nextUpdate: stale, fail closed. */
	expect_fail(&ev, tc.dir, tc.now + 31 * day, CINFER_E_STALE, "evidence.snp.crl",
	    "expired");
	expect_fail(&ev, tc.dir, tc.now - 2 * day, CINFER_E_STALE, "evidence.snp.crl",
	    "not yet valid");
	cinfer_evidence_clear(&ev);

	/* The VCEK revoked by its ASK. */
	ev_with(&ev, rep, tc.vcek);
	add_crl(&ev, tc.ask, tc.ask_key, tc.now - day, tc.now + 30 * day, tc.vcek);
	expect_fail(&ev, tc.dir, tc.now, CINFER_E_CRYPTO, "evidence.snp.crl",
	    "VCEK/VLEK (serial 03) is revoked by the ASK CRL");
	cinfer_evidence_clear(&ev);

	/* The ASK revoked by the ARK (AMD's own CRL shape). */
	ev_with(&ev, rep, tc.vcek);
	add_crl(&ev, tc.ark, tc.ark_key, tc.now - day, tc.now + 30 * day, tc.ask);
	expect_fail(&ev, tc.dir, tc.now, CINFER_E_CRYPTO, "evidence.snp.crl",
	    "ASK (serial 02) is revoked by the ARK CRL");
	cinfer_evidence_clear(&ev);

	/* A CRL under the ARK's name but signed by another key. */
	ev_with(&ev, rep, tc.vcek);
	add_crl(&ev, tc.ark, tc.ask_key, tc.now - day, tc.now + 30 * day, NULL);
	expect_fail(&ev, tc.dir, tc.now, CINFER_E_CRYPTO, "evidence.snp.crl",
	    "does not verify with the ARK key");
	cinfer_evidence_clear(&ev);

	/* A CRL of some other CA. */
	ev_with(&ev, rep, tc.vcek);
	add_crl(&ev, tc.vcek, tc.ark_key, tc.now - day, tc.now + 30 * day, NULL);
	expect_fail(&ev, tc.dir, tc.now, CINFER_E_CRYPTO, "evidence.snp.crl",
	    "belongs to no CA of this chain");
	cinfer_evidence_clear(&ev);

	/* Garbage where a CRL should be. */
	ev_with(&ev, rep, tc.vcek);
	assert_int_equal(cinfer_evidence_add_collateral(&ev, "crl", "nonsense", 8, &e), 0);
	{
		struct cinfer_err e2 = { 0 };
		assert_int_equal(verify_at(&ev, tc.dir, tc.now, &c, &e2), -1);
		assert_code(e2, CINFER_E_MALFORMED);
	}
	cinfer_evidence_clear(&ev);

	/* The test ARK is not AMD's: with the shipped roots it fails. */
	ev_with(&ev, rep, tc.vcek);
	expect_fail(&ev, roots(), tc.now, CINFER_E_CRYPTO, "evidence.snp.chain", NULL);
	cinfer_evidence_clear(&ev);

	chain_clear(&tc);
	ci_free(rep);
}

static void
test_tcb_and_chip_mismatch(void **state)
{
	struct test_chain tc;
	struct ci_amd_cert_ext amd;
	struct cinfer_evidence ev;
	uint8_t *rep = real_report("snp/gcp_milan_v5_report.bin");

	/* VCEK issued for microcode 221, report says 222. */
	milan_ext(rep, &amd);
	amd.ucode--;
	chain_make(&tc, "Milan", &amd);
	resign(rep, tc.vcek_key);
	ev_with(&ev, rep, tc.vcek);
	expect_fail(&ev, tc.dir, tc.now, CINFER_E_CRYPTO, "evidence.snp.tcb",
	    "differs from the VCEK's");
	cinfer_evidence_clear(&ev);
	chain_clear(&tc);

	/* VCEK of another chip (hwID differs), TCB equal. */
	milan_ext(rep, &amd);
	amd.hwid[5] ^= 1;
	chain_make(&tc, "Milan", &amd);
	resign(rep, tc.vcek_key);
	ev_with(&ev, rep, tc.vcek);
	expect_fail(&ev, tc.dir, tc.now, CINFER_E_CRYPTO, "evidence.snp.chip_id",
	    "differs from the VCEK hwID");
	cinfer_evidence_clear(&ev);
	chain_clear(&tc);
	ci_free(rep);
}

/* A Turin report (CPUID 1Ah, FMC SPL, 8-byte chip id) through the whole
 * verifier with a test chain: there is no public Turin report. */
static void
test_turin_layout(void **state)
{
	struct test_chain tc;
	struct ci_amd_cert_ext amd;
	struct cinfer_evidence ev;
	struct cinfer_claims c;
	struct cinfer_err e = { 0 };
	uint8_t *rep = real_report("snp/gcp_milan_v5_report.bin");
	struct ci_snp_tcb t = { .fmc = 1, .bootloader = 2, .tee = 3, .snp = 4, .microcode = 5 };
	uint64_t raw = ci_snp_tcb_encode(&t, 1);

	for (int k = 0; k < 8; k++) {
		rep[0x38 + k] = (uint8_t)(raw >> (8 * k));	/* current */
		rep[0x180 + k] = (uint8_t)(raw >> (8 * k));	/* reported */
	}
	rep[0x188] = 0x1A;
	rep[0x189] = 0x02;
	memset(rep + 0x1A8, 0, 56);
	memset(&amd, 0, sizeof(amd));
	strcpy(amd.product_name, "Turin");
	amd.has_fmc = 1;
	amd.fmc = 1;
	amd.bl = 2;
	amd.tee = 3;
	amd.snp = 4;
	amd.ucode = 5;
	memcpy(amd.hwid, rep + 0x1A0, 8);
	amd.hwid_size = 8;
	chain_make(&tc, "Turin", &amd);
	resign(rep, tc.vcek_key);
	ev_with(&ev, rep, tc.vcek);
	if (verify_at(&ev, tc.dir, tc.now, &c, &e) != 0)
		fail_msg("%s: %s", e.stage, e.msg);
	assert_string_equal(c.signer, "vcek:Turin");
	assert_int_equal(c.chip_id_size, 8);
	assert_memory_equal(c.chip_id, rep + 0x1A0, 8);
	assert_int_equal(tcb_claim(&c, "fmc"), 1);
	assert_int_equal(tcb_claim(&c, "bootloader"), 2);
	assert_int_equal(tcb_claim(&c, "tee"), 3);
	assert_int_equal(tcb_claim(&c, "snp"), 4);
	assert_int_equal(tcb_claim(&c, "microcode"), 5);
	assert_detail(&c, "reported_tcb_spl", "fmc=1 bl=2 tee=3 snp=4 ucode=5");
	cinfer_evidence_clear(&ev);

	/* Its FMC SPL is part of the cross-check. */
	rep[0x180] = 9;
	resign(rep, tc.vcek_key);
	ev_with(&ev, rep, tc.vcek);
	expect_fail(&ev, tc.dir, tc.now, CINFER_E_CRYPTO, "evidence.snp.tcb", "fmc 9");
	cinfer_evidence_clear(&ev);
	chain_clear(&tc);
	ci_free(rep);
}

static void
test_debug_claim(void **state)
{
	struct cinfer_evidence ev;
	struct cinfer_claims c;
	struct cinfer_err e = { 0 };

	/* go-sev-guest's report allows a debugger: authentic, but the claim
	 * says so for the policy engine to refuse. */
	ev_load(&ev, vecs[0].report, vecs[0].cert);
	assert_int_equal(verify_at(&ev, roots(), t_time(vecs[0].at), &c, &e), 0);
	assert_int_equal(c.debug, 1);
	assert_detail(&c, "policy_debug", "true");
	cinfer_evidence_clear(&ev);
}

static void
test_x25519_binding(void **state)
{
	struct cinfer_evidence ev;
	struct cinfer_claims c;
	struct cinfer_err e = { 0 };
	uint8_t in[64], h[64];

	ev_load(&ev, vecs[7].report, vecs[7].cert);
	assert_int_equal(verify_at(&ev, roots(), t_time(vecs[7].at), &c, &e), 0);
	unhex("df82306ff38a9da023854af947d02a878cfab1b40a793823ff41dc51213b96aa", in, 32);
	unhex("03a8107030fabeac06b0df4ef865763918b5e2a9fa030e20025a4315dab4b2a6", in + 32, 32);
	ci_sha512(in, 64, h);
	assert_memory_equal(c.report_data, h, 64);
	cinfer_evidence_clear(&ev);
}

static void
test_alloc_failures(void **state)
{
	struct cinfer_evidence ev;

	ev_load(&ev, vecs[1].report, vecs[1].cert);
	for (size_t n = 0;; n++) {
		struct cinfer_claims c;
		struct cinfer_err e = { 0 };
		size_t live = ci_alloc_live();
		int rc;

		ci_alloc_fail_after(n);
		rc = verify_at(&ev, roots(), t_time(vecs[1].at), &c, &e);
		ci_alloc_fail_after(SIZE_MAX);
		assert_int_equal(ci_alloc_live(), live);
		if (rc == 0)
			break;
		assert_code(e, CINFER_E_NOMEM);
		assert_true(n < 100);
	}
	cinfer_evidence_clear(&ev);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors_verify),
		cmocka_unit_test(test_carried_chain),
		cmocka_unit_test(test_cert_table_collateral),
		cmocka_unit_test(test_bit_flips),
		cmocka_unit_test(test_swapped_vcek),
		cmocka_unit_test(test_foreign_ark),
		cmocka_unit_test(test_bad_signature_vcek),
		cmocka_unit_test(test_validity_window),
		cmocka_unit_test(test_turin_vcek_chain),
		cmocka_unit_test(test_family_from_cpuid),
		cmocka_unit_test(test_revocation),
		cmocka_unit_test(test_tcb_and_chip_mismatch),
		cmocka_unit_test(test_turin_layout),
		cmocka_unit_test(test_debug_claim),
		cmocka_unit_test(test_x25519_binding),
		cmocka_unit_test(test_alloc_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
