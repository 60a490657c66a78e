/*
 * AWS Nitro Enclaves verifier on every real document in the shared
 * vectors (facts from MANIFEST.md), and each mutation rejected with its
 * own reason: bad signature, flipped PCR, wrong root, expired leaf.
 */
#include "testutil.h"

#include <sys/stat.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "evidence/nitro.h"

struct nitro_vec {
	const char *file;
	uint64_t timestamp_ms;
	const char *module_id;
	const char *pcr0;	/* full hex */
	int debug;
	int user_data_size;	/* -1: absent */
	int nonce_size;
	int public_key_size;
	const char *user_data_hex;	/* when <= 64 bytes */
	const char *nonce_hex;
};

#define PCR1_AWS "bcdf05fefccaa8e55bf2c8d6dee9e79bbff31e34bf28a99aa19e6b29c37ee80b214a414b7607236edf26fcb78654e63f"
#define ZERO48 "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"

static const struct nitro_vec vecs[] = {
	{ "nitro/cape_2022-09-15_doc.cbor", 1663263808848ull,
	  "i-0697c9729fa547b20-enc0183422ede9a5dc8",
	  "ea4212ee889ba1b4dbfe744aadecca8b1930de60a3a1ce3b0c79f42b231700fc561c3d9b34f0565ed9eb6f460996624c",
	  0, 250, 12, 32, NULL, NULL },
	{ "nitro/cape_2022-09-28_key_doc.cbor", 1664379207680ull,
	  "i-020f5b14d2f96fea8-enc018384b6a26e54f4",
	  "0637ca1a138452c76fd6430fb28b05ebc30a8779c66cf3388c28e9c320811eb3e8031c91516de42361c7dfca4a4550ab",
	  0, 746, 12, 32, NULL, NULL },
	{ "nitro/evervault_2023-09-18_doc.cbor", 1695049410860ull,
	  "i-0918f6c55e3b61d89-enc018aa8b8e2285d13", ZERO48, 1, 91, 256, -1, NULL, NULL },
	{ "nitro/evervault_beta_2022-10-13_doc.cbor", 1665651482136ull,
	  "i-020b6af9246d90e92-enc0183d09086c24190",
	  "f4d48b81a460c9916d1e685119074bf24660afd3e34fae9fca0a0d28d9d5599936332687e6f66fc890ac8cf150142d8b",
	  0, -1, 256, -1, NULL, NULL },
	{ "nitro/evervault_beta_2023-01-18_san_doc.cbor", 1674047239280ull,
	  "i-0ec0e572c8263d8ff-enc0185c4fd382eeb25",
	  "d265a83faa7b4fa0d73b82b6d06253e894445922937d0ee5a74fe4891da9817611a71e71b98e5329232902de3cf419af",
	  0, 120, 256, -1, NULL, NULL },
	{ "nitro/evervault_beta_debug_2022-10-12_doc.cbor", 1665582606081ull,
	  "i-03ad7cdb817437eeb-enc0183cc7569b3f6e1", ZERO48, 1, 13, -1, 19,
	  "68656c6c6f2c20776f726c6421", NULL },
	{ "nitro/veracruz_2022-11-09_doc.cbor", 1668034320696ull,
	  "i-04fd167167daacf3b-enc01845e97d0b3eb4e",
	  "22f9e1c949208da55eb01b9b9fc88f87454f77ba133f0d82320b509621c92482152a99d0a12335b97178c02d6f977d01",
	  0, 32, 32, -1, "7c37108079b3e8a36d8a7970de1d6d4ff1461e0e35d9557c4d789df5e0576620",
	  "c678c86135de539d183acff58886d98dfb9823041af9f934bf909ac0f8d96245" },
};

static struct cinfer_verify_opts
opts_default(void)
{
	struct cinfer_verify_opts o = { 0 };

	o.roots_dir = t_src("data/roots");
	return o;
}

static void
load_ev(struct cinfer_evidence *ev, const char *rel)
{
	cinfer_evidence_init(ev);
	ev->platform = CINFER_PLATFORM_NITRO;
	ev->evidence = t_read(t_vector(rel), &ev->evidence_size);
}

/* Verifies at the document's own time; returns rc, fills c and e. */
static int
verify_at_doc_time(const struct cinfer_evidence *ev, const struct cinfer_verify_opts *o,
    int64_t shift, struct cinfer_claims *c, struct cinfer_err *e)
{
	int64_t t = 0;
	struct cinfer_err pe = { 0 };

	if (ci_nitro_doc_time(ev->evidence, ev->evidence_size, &t, &pe) != 0)
		fail_msg("doc time: %s", pe.msg);
	cinfer_claims_init(c, CINFER_PLATFORM_NITRO);
	return ci_nitro_verify(ev, o, t + shift, c, e);
}

static void
hex_of(const uint8_t *p, size_t n, char *out)
{
	ci_hex_encode(p, n, out);
}

static void
test_vectors(void **state)
{
	struct cinfer_verify_opts o = opts_default();

	(void)state;
	for (size_t i = 0; i < CI_ARRAY_LEN(vecs); i++) {
		const struct nitro_vec *v = &vecs[i];
		struct cinfer_evidence ev;
		struct cinfer_claims c;
		struct cinfer_err e = { 0 };
		const struct cinfer_meas *m;
		char hex[2 * 64 + 1];
		int64_t t = 0;

		load_ev(&ev, v->file);
		assert_int_equal(ci_nitro_doc_time(ev.evidence, ev.evidence_size, &t, &e), 0);
		assert_int_equal(t, (int64_t)(v->timestamp_ms / 1000));
		if (verify_at_doc_time(&ev, &o, 0, &c, &e) != 0)
			fail_msg("%s: %s: %s", v->file, e.stage, e.msg);
		assert_int_equal(c.platform, CINFER_PLATFORM_NITRO);
		assert_int_equal(c.simulated, 0);
		assert_int_equal(c.measurement_size, 48);
		hex_of(c.measurement, 48, hex);
		assert_string_equal(hex, v->pcr0);
		assert_int_equal(c.debug, v->debug);
		assert_int_equal(c.produced_at, (int64_t)(v->timestamp_ms / 1000));
		assert_string_equal(cinfer_claims_detail(&c, "module_id"), v->module_id);
		assert_string_equal(cinfer_claims_detail(&c, "digest"), "SHA384");
		assert_string_equal(cinfer_claims_detail(&c, "pcr_count"), "16");
		assert_string_equal(cinfer_claims_detail(&c, "cabundle_count"), "4");
		assert_string_equal(cinfer_claims_detail(&c, "root_sha256"),
		    "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b");
		assert_string_equal(c.signer, "nitro-root-g1");
		assert_int_equal(c.chip_id_size, 32);
		/* pcr0..pcr8 all present in these documents */
		assert_int_equal(c.extra_count, 9);
		m = cinfer_claims_meas(&c, "pcr0");
		assert_non_null(m);
		assert_memory_equal(m->value, c.measurement, 48);
		m = cinfer_claims_meas(&c, "pcr1");
		assert_non_null(m);
		hex_of(m->value, m->size, hex);
		assert_string_equal(hex, v->debug ? ZERO48 : PCR1_AWS);
		assert_null(cinfer_claims_meas(&c, "pcr9"));
		if (v->user_data_size < 0) {
			assert_int_equal(c.report_data_size, 0);
			assert_null(cinfer_claims_detail(&c, "user_data_size"));
		} else {
			char num[16];
			snprintf(num, sizeof(num), "%d", v->user_data_size);
			assert_string_equal(cinfer_claims_detail(&c, "user_data_size"), num);
			assert_non_null(cinfer_claims_detail(&c, "user_data_sha256"));
			assert_int_equal(c.report_data_size,
			    v->user_data_size <= 64 ? (size_t)v->user_data_size : 0);
		}
		if (v->user_data_hex != NULL) {
			hex_of(c.report_data, c.report_data_size, hex);
			assert_string_equal(hex, v->user_data_hex);
			assert_string_equal(cinfer_claims_detail(&c, "user_data"), v->user_data_hex);
		}
		assert_int_equal(c.host_data_size,
		    v->nonce_size >= 0 && v->nonce_size <= 64 ? (size_t)v->nonce_size : 0);
		if (v->nonce_hex != NULL) {
			hex_of(c.host_data, c.host_data_size, hex);
			assert_string_equal(hex, v->nonce_hex);
		}
		if (v->public_key_size < 0)
			assert_null(cinfer_claims_detail(&c, "public_key_size"));
		else
			assert_non_null(cinfer_claims_detail(&c, "public_key"));
		cinfer_evidence_clear(&ev);
	}
}

static void
test_debug_public_key(void **state)
{
	struct cinfer_verify_opts o = opts_default();
	struct cinfer_evidence ev;
	struct cinfer_claims c;
	struct cinfer_err e = { 0 };

	(void)state;
	load_ev(&ev, "nitro/evervault_beta_debug_2022-10-12_doc.cbor");
	assert_int_equal(verify_at_doc_time(&ev, &o, 0, &c, &e), 0);
	assert_int_equal(c.debug, 1);
	assert_string_equal(cinfer_claims_detail(&c, "public_key"),
	    "6d7920737570657220736563726574206b6579");
	assert_string_equal(cinfer_claims_detail(&c, "mode"), "debug (PCR0-2 all zero)");
	/* PCR3 and PCR4 (parent instance) are set even in debug mode */
	assert_false(ci_is_zero(cinfer_claims_meas(&c, "pcr3")->value, 48));
	cinfer_evidence_clear(&ev);
}

static void
test_bad_signature(void **state)
{
	struct cinfer_verify_opts o = opts_default();
	struct cinfer_evidence ev;
	struct cinfer_claims c;
	struct cinfer_err e = { 0 };

	(void)state;
	load_ev(&ev, "nitro/veracruz_2022-11-09_doc_badsig.cbor");
	assert_int_equal(verify_at_doc_time(&ev, &o, 0, &c, &e), -1);
	assert_code(e, CINFER_E_CRYPTO);
	assert_string_equal(e.stage, "evidence.nitro.signature");
	assert_non_null(strstr(e.msg, "ES384 signature over the document does not verify"));
	assert_int_equal(c.measurement_size, 0);	/* nothing claimed */
	cinfer_evidence_clear(&ev);
}

static void
test_flipped_pcr(void **state)
{
	struct cinfer_verify_opts o = opts_default();
	struct cinfer_evidence ev;
	struct cinfer_claims c;
	struct cinfer_err e = { 0 };
	uint8_t pcr0[48];
	uint8_t *at;

	(void)state;
	load_ev(&ev, "nitro/veracruz_2022-11-09_doc.cbor");
	assert_int_equal(ci_hex_decode(vecs[6].pcr0, 96, pcr0, 48, NULL, &e), 0);
	at = memmem(ev.evidence, ev.evidence_size, pcr0, 48);
	assert_non_null(at);
	at[47] ^= 0x01;
	/* still parses, with the flipped value */
	{
		struct ci_nitro_doc d;
		assert_int_equal(ci_nitro_doc_parse(&d, ev.evidence, ev.evidence_size, &e), 0);
		assert_int_equal(d.pcr[0].p[47], pcr0[47] ^ 0x01);
		ci_nitro_doc_clear(&d);
	}
	assert_int_equal(verify_at_doc_time(&ev, &o, 0, &c, &e), -1);
	assert_code(e, CINFER_E_CRYPTO);
	assert_string_equal(e.stage, "evidence.nitro.signature");
	cinfer_evidence_clear(&ev);
}

static void
test_wrong_root(void **state)
{
	struct cinfer_verify_opts o = opts_default();
	struct cinfer_evidence ev;
	struct cinfer_claims c;
	struct cinfer_err e = { 0 };
	char *dir = t_tmpdir(), path[4200];
	uint8_t *other;
	size_t other_size;

	(void)state;
	/* a pinned root that is some other P-384 root (Intel's SGX root here) */
	snprintf(path, sizeof(path), "%s/aws", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, CI_NITRO_ROOT_FILE);
	other = t_read(t_vector("roots/intel_sgx_root_ca.pem"), &other_size);
	assert_int_equal(ci_file_write(path, other, other_size, 0600, &e), 0);
	o.roots_dir = dir;
	load_ev(&ev, "nitro/cape_2022-09-15_doc.cbor");
	assert_int_equal(verify_at_doc_time(&ev, &o, 0, &c, &e), -1);
	assert_code(e, CINFER_E_CRYPTO);
	assert_string_equal(e.stage, "evidence.nitro.chain");
	assert_string_equal(e.msg, "cabundle root is not the pinned AWS Nitro Enclaves root G1");
	/* no root file at all: an I/O error naming the file */
	cinfer_err_clear(&e);
	unlink(path);
	assert_int_equal(verify_at_doc_time(&ev, &o, 0, &c, &e), -1);
	assert_code(e, CINFER_E_IO);
	assert_non_null(strstr(e.msg, "aws_nitro_enclaves_root_g1.pem"));
	ci_free(other);
	cinfer_evidence_clear(&ev);
	t_rmrf(dir);
}

static void
test_expired_leaf(void **state)
{
	struct cinfer_verify_opts o = opts_default();
	struct cinfer_evidence ev;
	struct cinfer_claims c;
	struct cinfer_err e = { 0 };

	(void)state;
	load_ev(&ev, "nitro/evervault_beta_2022-10-13_doc.cbor");
	/* the leaf lives 08:57:59..11:58:02; 4 hours after the document it is expired */
	assert_int_equal(verify_at_doc_time(&ev, &o, 4 * 3600, &c, &e), -1);
	assert_code(e, CINFER_E_STALE);
	assert_string_equal(e.stage, "evidence.nitro.chain");
	assert_non_null(strstr(e.msg, "certificate has expired (depth 0)"));
	/* 2h59m after: still inside the window */
	cinfer_err_clear(&e);
	assert_int_equal(verify_at_doc_time(&ev, &o, 2 * 3600 + 59 * 60, &c, &e), 0);
	/* a day before: not yet valid */
	cinfer_err_clear(&e);
	assert_int_equal(verify_at_doc_time(&ev, &o, -86400, &c, &e), -1);
	assert_code(e, CINFER_E_STALE);
	assert_non_null(strstr(e.msg, "not yet valid"));
	/* today: the leaf expired long ago */
	cinfer_err_clear(&e);
	cinfer_claims_init(&c, CINFER_PLATFORM_NITRO);
	assert_int_equal(ci_nitro_verify(&ev, &o, ci_time_now(), &c, &e), -1);
	assert_code(e, CINFER_E_STALE);
	cinfer_evidence_clear(&ev);
}

/*
 * Re-encodes a parsed document's payload (AWS's field order and shortest
 * encodings), optionally without cabundle[drop], and wraps it with the
 * original protected header and signature.
 */
static void
reencode(const struct ci_nitro_doc *d, size_t drop, uint8_t **out, size_t *out_size)
{
	struct ci_cbor_w w, cw;
	struct cinfer_err e = { 0 };
	uint8_t *payload;
	size_t payload_size, nb = d->cabundle_count - (drop < d->cabundle_count);
	const struct ci_nitro_bytes *opt[3] = { &d->public_key, &d->user_data, &d->nonce };
	static const char *const optn[3] = { "public_key", "user_data", "nonce" };

	ci_cbor_w_init(&w, 1 << 20);
	ci_cbor_w_head(&w, 5, 9);
	ci_cbor_w_text(&w, "module_id");
	ci_cbor_w_text(&w, d->module_id);
	ci_cbor_w_text(&w, "digest");
	ci_cbor_w_text(&w, d->digest);
	ci_cbor_w_text(&w, "timestamp");
	ci_cbor_w_int(&w, (int64_t)d->timestamp_ms);
	ci_cbor_w_text(&w, "pcrs");
	ci_cbor_w_head(&w, 5, d->pcr_count);
	for (unsigned i = 0; i < CI_NITRO_PCR_MAX; i++)
		if (d->pcr[i].size != 0) {
			ci_cbor_w_int(&w, i);
			ci_cbor_w_bytes(&w, d->pcr[i].p, d->pcr[i].size);
		}
	ci_cbor_w_text(&w, "certificate");
	ci_cbor_w_bytes(&w, d->certificate.p, d->certificate.size);
	ci_cbor_w_text(&w, "cabundle");
	ci_cbor_w_head(&w, 4, nb);
	for (size_t i = 0; i < d->cabundle_count; i++)
		if (i != drop)
			ci_cbor_w_bytes(&w, d->cabundle[i].p, d->cabundle[i].size);
	for (int i = 0; i < 3; i++) {
		ci_cbor_w_text(&w, optn[i]);
		if (opt[i]->p == NULL)
			ci_cbor_w_head(&w, 7, 22);
		else
			ci_cbor_w_bytes(&w, opt[i]->p, opt[i]->size);
	}
	assert_int_equal(ci_cbor_w_finish(&w, &payload, &payload_size, "test", &e), 0);
	ci_cbor_w_init(&cw, 1 << 20);
	ci_cbor_w_head(&cw, 4, 4);
	ci_cbor_w_bytes(&cw, d->cose.protected_hdr, d->cose.protected_size);
	ci_cbor_w_head(&cw, 5, 0);
	ci_cbor_w_bytes(&cw, payload, payload_size);
	ci_cbor_w_bytes(&cw, d->cose.sig, d->cose.sig_size);
	assert_int_equal(ci_cbor_w_finish(&cw, out, out_size, "test", &e), 0);
	ci_free(payload);
}

static void
test_cabundle_gap(void **state)
{
	struct cinfer_verify_opts o = opts_default();
	struct cinfer_evidence ev, mod;
	struct cinfer_claims c;
	struct cinfer_err e = { 0 };
	struct ci_nitro_doc d;

	(void)state;
	load_ev(&ev, "nitro/veracruz_2022-11-09_doc.cbor");
	assert_int_equal(ci_nitro_doc_parse(&d, ev.evidence, ev.evidence_size, &e), 0);
	/* control: re-encoding every field gives back the very same bytes */
	cinfer_evidence_init(&mod);
	mod.platform = CINFER_PLATFORM_NITRO;
	reencode(&d, SIZE_MAX, &mod.evidence, &mod.evidence_size);
	assert_int_equal(mod.evidence_size, ev.evidence_size);
	assert_memory_equal(mod.evidence, ev.evidence, ev.evidence_size);
	cinfer_evidence_clear(&mod);
	/* without the zonal intermediate the chain has a gap */
	cinfer_evidence_init(&mod);
	mod.platform = CINFER_PLATFORM_NITRO;
	reencode(&d, 2, &mod.evidence, &mod.evidence_size);
	assert_int_equal(verify_at_doc_time(&mod, &o, 0, &c, &e), -1);
	assert_code(e, CINFER_E_CRYPTO);
	assert_string_equal(e.stage, "evidence.nitro.chain");
	assert_non_null(strstr(e.msg, "unable to get local issuer certificate"));
	cinfer_evidence_clear(&mod);
	/* without the root: cabundle[0] is now an intermediate, not the pinned root */
	cinfer_evidence_init(&mod);
	mod.platform = CINFER_PLATFORM_NITRO;
	reencode(&d, 0, &mod.evidence, &mod.evidence_size);
	cinfer_err_clear(&e);
	assert_int_equal(verify_at_doc_time(&mod, &o, 0, &c, &e), -1);
	assert_string_equal(e.msg, "cabundle root is not the pinned AWS Nitro Enclaves root G1");
	cinfer_evidence_clear(&mod);
	ci_nitro_doc_clear(&d);
	cinfer_evidence_clear(&ev);
}

static void
test_strict_parse(void **state)
{
	struct cinfer_evidence ev;
	struct ci_nitro_doc d;
	struct cinfer_err e = { 0 };
	uint8_t *buf, *at;
	size_t n;

	(void)state;
	load_ev(&ev, "nitro/veracruz_2022-11-09_doc.cbor");
	n = ev.evidence_size;
	buf = ci_alloc(n + 1);
	assert_non_null(buf);
	/* truncated */
	assert_int_equal(ci_nitro_doc_parse(&d, ev.evidence, n - 1, &e), -1);
	assert_code(e, CINFER_E_MALFORMED);
	/* trailing byte */
	cinfer_err_clear(&e);
	memcpy(buf, ev.evidence, n);
	buf[n] = 0;
	assert_int_equal(ci_nitro_doc_parse(&d, buf, n + 1, &e), -1);
	assert_code(e, CINFER_E_MALFORMED);
	assert_non_null(strstr(e.msg, "1 bytes after the CBOR item"));
	/* indefinite-length top array */
	cinfer_err_clear(&e);
	memcpy(buf, ev.evidence, n);
	assert_int_equal(buf[0], 0x84);
	buf[0] = 0x9f;
	buf[n] = 0xff;
	assert_int_equal(ci_nitro_doc_parse(&d, buf, n + 1, &e), -1);
	assert_code(e, CINFER_E_MALFORMED);
	assert_non_null(strstr(e.msg, "indefinite-length"));
	/* a digest other than SHA384 */
	cinfer_err_clear(&e);
	memcpy(buf, ev.evidence, n);
	at = memmem(buf, n, "SHA384", 6);
	assert_non_null(at);
	memcpy(at, "SHA256", 6);
	assert_int_equal(ci_nitro_doc_parse(&d, buf, n, &e), -1);
	assert_code(e, CINFER_E_UNSUPPORTED);
	assert_non_null(strstr(e.msg, "SHA256"));
	/* the key "timestamp" renamed: missing field */
	cinfer_err_clear(&e);
	memcpy(buf, ev.evidence, n);
	at = memmem(buf, n, "timestamp", 9);
	assert_non_null(at);
	at[0] = 'T';
	assert_int_equal(ci_nitro_doc_parse(&d, buf, n, &e), -1);
	assert_code(e, CINFER_E_MALFORMED);
	assert_string_equal(e.msg, "timestamp is missing");
	/* a COSE tag other than 18 */
	cinfer_err_clear(&e);
	buf[0] = 0xd1;	/* tag 17 */
	memcpy(buf + 1, ev.evidence, n);
	assert_int_equal(ci_nitro_doc_parse(&d, buf, n + 1, &e), -1);
	assert_code(e, CINFER_E_MALFORMED);
	/* tag 18 is accepted */
	cinfer_err_clear(&e);
	buf[0] = 0xd2;
	if (ci_nitro_doc_parse(&d, buf, n + 1, &e) != 0)
		fail_msg("tag 18: %s", e.msg);
	assert_int_equal(d.cose.tagged, 1);
	ci_nitro_doc_clear(&d);
	ci_free(buf);
	cinfer_evidence_clear(&ev);
}

static void
test_alloc_failures(void **state)
{
	struct cinfer_verify_opts o = opts_default();
	struct cinfer_evidence ev;
	struct cinfer_claims c;
	int64_t t = 0;
	size_t live;

	(void)state;
	load_ev(&ev, "nitro/veracruz_2022-11-09_doc.cbor");
	assert_int_equal(ci_nitro_doc_time(ev.evidence, ev.evidence_size, &t, NULL), 0);
	live = ci_alloc_live();
	for (size_t n = 0;; n++) {
		struct cinfer_err e = { 0 };
		int rc;
		cinfer_claims_init(&c, CINFER_PLATFORM_NITRO);
		ci_alloc_fail_after(n);
		rc = ci_nitro_verify(&ev, &o, t, &c, &e);
		ci_alloc_fail_after(SIZE_MAX);
		if (rc == 0)
			break;
		/* a failed allocation may surface as NOMEM or as the file-read error */
		if (e.code != CINFER_E_NOMEM && e.code != CINFER_E_IO)
			fail_msg("n=%zu: unexpected %s: %s", n, cinfer_code_name(e.code), e.msg);
		assert_true(n < 100);
	}
	assert_int_equal(ci_alloc_live(), live);
	cinfer_evidence_clear(&ev);
}

static void
test_tls_cert_binding(void **state)
{
	struct cinfer_verify_opts o = opts_default();
	struct cinfer_evidence ev;
	struct cinfer_claims c;
	struct cinfer_err e = { 0 };
	uint8_t *cert, *doc, *want, *cert2;
	size_t cert_size, doc_size, want_size, cert2_size;

	(void)state;
	/* Evervault Cages beta: the document is hex in a SAN dNSName */
	cert = t_read(t_vector("nitro/evervault_beta_2023-01-18_tls_cert_doc_in_san.der"),
	    &cert_size);
	want = t_read(t_vector("nitro/evervault_beta_2023-01-18_san_doc.cbor"), &want_size);
	assert_int_equal(ci_nitro_doc_from_cert(cert, cert_size, &doc, &doc_size, &e), 0);
	assert_int_equal(doc_size, 4775);
	assert_int_equal(doc_size, want_size);
	assert_memory_equal(doc, want, doc_size);
	cinfer_evidence_init(&ev);
	ev.platform = CINFER_PLATFORM_NITRO;
	ev.evidence = doc;
	ev.evidence_size = doc_size;
	assert_int_equal(verify_at_doc_time(&ev, &o, 0, &c, &e), 0);
	assert_int_equal(c.debug, 0);
	assert_int_equal(ci_nitro_check_cert_binding(&c, cert, cert_size, &e), 0);
	/* GA: user_data is the SPKI of a separately stored TLS cert */
	cert2 = t_read(t_vector("nitro/evervault_2023-09-18_tls_cert.der"), &cert2_size);
	assert_int_equal(ci_nitro_check_cert_binding(&c, cert2, cert2_size, &e), -1);
	assert_code(e, CINFER_E_CRYPTO);
	assert_string_equal(e.msg, "document user_data is not the certificate's public key (SPKI)");
	cinfer_evidence_clear(&ev);
	load_ev(&ev, "nitro/evervault_2023-09-18_doc.cbor");
	cinfer_err_clear(&e);
	assert_int_equal(verify_at_doc_time(&ev, &o, 0, &c, &e), 0);
	assert_int_equal(ci_nitro_check_cert_binding(&c, cert2, cert2_size, &e), 0);
	/* a cert with no document in its SANs */
	cinfer_err_clear(&e);
	assert_int_equal(ci_nitro_doc_from_cert(cert2, cert2_size, &doc, &doc_size, &e), -1);
	assert_code(e, CINFER_E_MALFORMED);
	/* a document without user_data binds nothing */
	cinfer_evidence_clear(&ev);
	load_ev(&ev, "nitro/evervault_beta_2022-10-13_doc.cbor");
	assert_int_equal(verify_at_doc_time(&ev, &o, 0, &c, &e), 0);
	cinfer_err_clear(&e);
	assert_int_equal(ci_nitro_check_cert_binding(&c, cert2, cert2_size, &e), -1);
	assert_code(e, CINFER_E_CRYPTO);
	cinfer_evidence_clear(&ev);
	ci_free(cert);
	ci_free(cert2);
	ci_free(want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_debug_public_key),
		cmocka_unit_test(test_bad_signature),
		cmocka_unit_test(test_flipped_pcr),
		cmocka_unit_test(test_wrong_root),
		cmocka_unit_test(test_expired_leaf),
		cmocka_unit_test(test_cabundle_gap),
		cmocka_unit_test(test_strict_parse),
		cmocka_unit_test(test_alloc_failures),
		cmocka_unit_test(test_tls_cert_binding),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
