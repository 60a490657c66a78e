/*
 * TDX quote verification against every shared TDX vector (with its
 * collateral, at a time inside its window) and against mutations; plus a
 * synthetic chain (test root, PCK CA, PCK with the real SGX extension,
 * TCB signing cert) to exercise revocation and re-signed collateral.
 */
#include "testutil.h"

#include <sys/stat.h>

#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "crypto/crypto.h"
#include "evidence/intel_collateral.h"
#include "evidence/intel_pck.h"
#include "evidence/tdx.h"
#include "evidence/tdx_ccel.h"
#include "evidence/tdx_quote.h"

static int64_t
t_time(const char *s)
{
	int64_t t = 0;
	struct cinfer_err e = { 0 };

	if (ci_time_parse(s, &t, &e) != 0)
		fail_msg("bad time %s", s);
	return t;
}

static void
add_file(struct cinfer_evidence *ev, const char *name, const char *rel)
{
	size_t size = 0;
	uint8_t *p = t_read(t_vector(rel), &size);
	struct cinfer_err e = { 0 };

	assert_int_equal(cinfer_evidence_add_collateral(ev, name, p, size, &e), 0);
	ci_free(p);
}

static void
add_mem(struct cinfer_evidence *ev, const char *name, const void *p, size_t size)
{
	struct cinfer_err e = { 0 };

	assert_int_equal(cinfer_evidence_add_collateral(ev, name, p, size, &e), 0);
}

static void
set_quote(struct cinfer_evidence *ev, const char *rel)
{
	cinfer_evidence_init(ev);
	ev->platform = CINFER_PLATFORM_TDX;
	ev->evidence = t_read(t_vector(rel), &ev->evidence_size);
}

static void
add_hex_blob(struct cinfer_evidence *ev, const char *name, const char *hex)
{
	uint8_t *buf = ci_alloc(strlen(hex) / 2 + 1);
	size_t n = 0;
	struct cinfer_err e = { 0 };

	assert_non_null(buf);
	assert_int_equal(ci_hex_decode(hex, strlen(hex), buf, strlen(hex) / 2 + 1, &n, &e), 0);
	add_mem(ev, name, buf, n);
	ci_free(buf);
}

/* Adds the collateral of a dcap-qvl QuoteCollateralV3 file in PCS shape. */
static void
add_phala(struct cinfer_evidence *ev, const char *rel, int with_crls)
{
	json_error_t je;
	json_t *j = json_load_file(t_vector(rel), 0, &je);
	char *doc;
	size_t cap;

	assert_non_null(j);
	cap = 65536;
	doc = malloc(cap);
	snprintf(doc, cap, "{\"tcbInfo\":%s,\"signature\":\"%s\"}",
	    json_string_value(json_object_get(j, "tcb_info")),
	    json_string_value(json_object_get(j, "tcb_info_signature")));
	add_mem(ev, "tcb_info", doc, strlen(doc));
	snprintf(doc, cap, "{\"enclaveIdentity\":%s,\"signature\":\"%s\"}",
	    json_string_value(json_object_get(j, "qe_identity")),
	    json_string_value(json_object_get(j, "qe_identity_signature")));
	add_mem(ev, "qe_identity", doc, strlen(doc));
	free(doc);
	if (with_crls) {
		add_hex_blob(ev, "pck_crl", json_string_value(json_object_get(j, "pck_crl")));
		add_hex_blob(ev, "root_crl", json_string_value(json_object_get(j, "root_ca_crl")));
	}
	json_decref(j);
}

static struct cinfer_verify_opts
opts_default(void)
{
	struct cinfer_verify_opts o;

	memset(&o, 0, sizeof(o));
	o.roots_dir = t_src("data/roots");
	return o;
}

static int
verify(const struct cinfer_evidence *ev, const char *when, unsigned flags,
    struct cinfer_claims *c, struct cinfer_err *e)
{
	struct cinfer_verify_opts o = opts_default();

	cinfer_claims_init(c, CINFER_PLATFORM_TDX);
	cinfer_err_clear(e);
	return ci_tdx_verify_ex(ev, &o, t_time(when), flags, c, e);
}

#define expect_ok(ev, when, flags, c) do { \
	struct cinfer_err e_ = { 0 }; \
	if (verify((ev), (when), (flags), (c), &e_) != 0) \
		fail_msg("verify failed: %s %s: %s", cinfer_code_name(e_.code), \
		    e_.stage ? e_.stage : "-", e_.msg); \
} while (0)

static void
expect_fail(const struct cinfer_evidence *ev, const char *when, unsigned flags,
    enum cinfer_code code, const char *stage, const char *msg_part)
{
	struct cinfer_claims c;
	struct cinfer_err e = { 0 };

	if (verify(ev, when, flags, &c, &e) == 0)
		fail_msg("verification passed; expected %s at %s", cinfer_code_name(code), stage);
	assert_code(e, code);
	if (e.stage == NULL || strcmp(e.stage, stage) != 0)
		fail_msg("stage %s, want %s (%s)", e.stage ? e.stage : "-", stage, e.msg);
	if (msg_part != NULL && strstr(e.msg, msg_part) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", e.msg, msg_part);
}

static void
assert_meas_hex(const struct cinfer_claims *c, const char *name, const char *hex)
{
	const struct cinfer_meas *m = cinfer_claims_meas(c, name);
	char buf[2 * CINFER_MEAS_SIZE_MAX + 1];

	assert_non_null(m);
	ci_hex_encode(m->value, m->size, buf);
	assert_string_equal(buf, hex);
}

static void
assert_hex(const void *p, size_t size, const char *hex)
{
	char buf[2 * 64 + 1];

	ci_hex_encode(p, size, buf);
	assert_string_equal(buf, hex);
}

static void
assert_detail(const struct cinfer_claims *c, const char *name, const char *value)
{
	const char *v = cinfer_claims_detail(c, name);

	if (v == NULL)
		fail_msg("no detail %s", name);
	assert_string_equal(v, value);
}

#define T_2025_10 "2025-10-28T12:00:00Z"

/* ---- every shared vector -------------------------------------------------- */

static void
test_phala_v4_uptodate_full_collateral(void **state)
{
	struct cinfer_evidence ev;
	struct cinfer_claims c;

	(void)state;
	set_quote(&ev, "tdx/phala_v4_quote_b0c06f000000.dat");
	add_phala(&ev, "tdx/phala_collateral_b0c06f000000.json", 1);
	add_file(&ev, "tcb_signing_chain", "roots/intel_tcb_signing_chain_2025.pem");
	expect_ok(&ev, "2025-07-01T00:00:00Z", 0, &c);
	assert_string_equal(c.tcb_status, "UpToDate");
	assert_int_equal(c.tcb_date, t_time("2024-03-13T00:00:00Z"));
	assert_int_equal(c.measurement_size, 48);
	assert_hex(c.measurement, 48, "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7");
	assert_meas_hex(&c, "rtmr0", "44c0197b39157fdd7a4dcc44767f9d6b0bb3977c7a8e347b8492f827fe9d9e5c48aca29b220b80b6a540cf994b9bc9c0");
	assert_meas_hex(&c, "rtmr2", "d833feef2cd945148aa38ead2c53e9b7f138190aaaebfc551dccd829fc207aa3ba80b70870d7330733642e01d48c3132");
	assert_meas_hex(&c, "mrseam", "5b38e33a6487958b72c3c12a938eaa5e3fd4510c51aeeab58c7d5ecee41d7c436489d6c8e4f92f160b7cad34207b00c1");
	assert_hex(c.report_data, 64, "9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9eca3efdbb481601c163cf52493d6e44aed55d51ec39b7e518fadb92c2b523f20");
	assert_int_equal(c.chip_id_size, 6);
	assert_hex(c.chip_id, 6, "b0c06f000000");
	assert_int_equal(c.debug, 0);
	assert_detail(&c, "revocation", "checked");
	/* The PCK CRL expires first (2025-07-19T10:00:35Z). */
	assert_detail(&c, "collateral_next_update", "2025-07-19T10:00:35Z");
	assert_detail(&c, "tee_tcb_svn", "06010300000000000000000000000000");
	assert_detail(&c, "td_attributes", "0000001000000000");
	assert_detail(&c, "xfam", "e702060000000000");
	assert_detail(&c, "tdx_module_id", "TDX_01");
	assert_detail(&c, "qe_svn", "6");
	assert_detail(&c, "pcesvn", "11");
	assert_detail(&c, "quote_version", "4");
	assert_detail(&c, "trailing_bytes", "70");
	assert_null(cinfer_claims_detail(&c, "advisory_ids"));
	cinfer_evidence_clear(&ev);
}

static void
test_phala_v4_default_signing_chain(void **state)
{
	struct cinfer_evidence ev;
	struct cinfer_claims c;

	(void)state;
	/* Without "tcb_signing_chain" the roots dir chains are tried (2025 valid here). */
	set_quote(&ev, "tdx/phala_v4_quote_b0c06f000000.dat");
	add_phala(&ev, "tdx/phala_collateral_b0c06f000000.json", 1);
	expect_ok(&ev, "2025-07-01T00:00:00Z", 0, &c);
	assert_string_equal(c.tcb_status, "UpToDate");
	assert_detail(&c, "tcb_signer", "intel_tcb_signing_chain_2025.pem");
	cinfer_evidence_clear(&ev);
}

static void
test_gotdx_v5_uptodate(void **state)
{
	struct cinfer_evidence ev;
	struct cinfer_claims c;
	json_error_t je;
	json_t *j;

	(void)state;
	/* TCB info from go-tdx-guest (2026-02), QE identity and CRLs current at the same time. */
	set_quote(&ev, "tdx/gotdx_v5_quote.dat");
	add_file(&ev, "tcb_info", "tdx/gotdx_tcbinfo_90c06f000000.json");
	j = json_load_file(t_vector("tdx/phala_collateral_90c06f000000_outdated.json"), 0, &je);
	assert_non_null(j);
	{
		char doc[4096];
		snprintf(doc, sizeof(doc), "{\"enclaveIdentity\":%s,\"signature\":\"%s\"}",
		    json_string_value(json_object_get(j, "qe_identity")),
		    json_string_value(json_object_get(j, "qe_identity_signature")));
		add_mem(&ev, "qe_identity", doc, strlen(doc));
		add_hex_blob(&ev, "pck_crl", json_string_value(json_object_get(j, "pck_crl")));
		add_hex_blob(&ev, "root_crl", json_string_value(json_object_get(j, "root_ca_crl")));
	}
	json_decref(j);
	expect_ok(&ev, "2026-02-20T00:00:00Z", 0, &c);
	assert_string_equal(c.tcb_status, "UpToDate");
	assert_int_equal(c.tcb_date, t_time("2024-11-13T00:00:00Z"));
	assert_detail(&c, "quote_version", "5");
	assert_detail(&c, "td_report", "1.5");
	assert_detail(&c, "tee_tcb_svn2", "0d010400000000000000000000000000");
	assert_detail(&c, "tcb_status_current", "UpToDate");
	assert_detail(&c, "td_relaunch_advised", "false");
	assert_detail(&c, "revocation", "checked");
	assert_hex(c.measurement, 48, "7348651a34b2d2d3462822e3a750ec6110125f36757c78480bbfc69cc0d21fb001a1ced3ee19747dda8f750c3bc8f876");
	assert_meas_hex(&c, "rtmr1", "463acaace1b6e97c76e92e41fe312aa66f3fd4dad60ec7acf169859db0343e3d1e591646795cdc80fbc0ca5f7041d253");
	assert_meas_hex(&c, "mrseam", "7bf063280e94fb051f5dd7b1fc59ce9aac42bb961df8d44b709c9b0ff87a7b4df648657ba6d1189589feab1d5a3c9a9d");
	assert_non_null(cinfer_claims_meas(&c, "mrservicetd"));
	assert_hex(c.report_data, 64, "945eaacf5abc1f719d8666a942fda03d1edcb4490277396093dc5a5289ab9f1e094aed63060cd4a4933a4dd537ed1255c9c79ecb3ed82cd1b486233e31c25c3a");
	assert_hex(c.chip_id, 6, "90c06f000000");
	assert_detail(&c, "qe_svn", "7");
	cinfer_evidence_clear(&ev);
}

static void
test_phala_v5_outdated_no_level(void **state)
{
	struct cinfer_evidence ev;

	(void)state;
	/* PCK SGX component 8 = 3 is below every level: TCB level not supported. */
	set_quote(&ev, "tdx/phala_v5_quote_outdated_90c06f000000.dat");
	add_phala(&ev, "tdx/phala_collateral_90c06f000000_outdated.json", 1);
	expect_fail(&ev, "2026-03-01T00:00:00Z", 0, CINFER_E_STALE, "evidence.tdx.tcb",
	    "no TCB level matches");
	cinfer_evidence_clear(&ev);
}

static void
test_gotdx_spr_2023_no_level(void **state)
{
	struct cinfer_evidence ev;

	(void)state;
	set_quote(&ev, "tdx/gotdx_spr_v4_quote.dat");
	add_file(&ev, "tcb_info", "tdx/gotdx_tcbinfo_50806f000000.json");
	add_file(&ev, "qe_identity", "tdx/gotdx_qe_identity.json");
	add_file(&ev, "pck_crl", "tdx/gotdx_pckcrl_platform.der");
	add_file(&ev, "root_crl", "tdx/gotdx_rootcrl.der");
	/* Collateral, CRLs and the 2018 TCB signing chain are all current here. */
	expect_fail(&ev, "2023-07-01T01:00:00Z", 0, CINFER_E_STALE, "evidence.tdx.tcb",
	    "no TCB level matches");
	cinfer_evidence_clear(&ev);
}

/* Vectors whose window (Oct 2025) has no current PCK CRL among the shared files. */
struct oct_case {
	const char *quote, *tcb_info, *status, *date, *advisories, *mrtd, *fmspc;
	int debug;
};

static const struct oct_case oct_cases[] = {
	{ "tdx/azure_v4_quote.dat", "tdx/intel_tcbinfo_00806f050000_2025-09.json", "OutOfDate",
	    "2023-08-09T00:00:00Z", "INTEL-SA-00960,INTEL-SA-00982,INTEL-SA-00986",
	    "024a32b070383331181619fa387cb4d55d1e38879f989933055ccad5bc2db795d1737b66205949d15469dc8c1ba7ab7b",
	    "00806f050000", 0 },
	{ "tdx/edgeless_v4_quote.dat", "tdx/intel_tcbinfo_00806f050000_2025-09.json", "OutOfDate",
	    "2023-02-15T00:00:00Z", "INTEL-SA-00837,INTEL-SA-00960,INTEL-SA-00982,INTEL-SA-00986",
	    "b65ea009e424e6f761fdd3d7c8962439453b37ecdf62da04f7bc5d327686bb8bafc8a5d24a9c31cee60e4aba87c2f71b",
	    "00806f050000", 0 },
	{ "tdx/gcp_cos113_v4_quote.dat", "tdx/intel_tcbinfo_00806f050000_2025-09.json", "UpToDate",
	    "2024-03-13T00:00:00Z", NULL,
	    "dae67181d3d65e073ad8f95b7907d5e927bfe9761c9ff3e9b89734a45d8954dba41394c7717cb2735396c1d04231f94a",
	    "00806f050000", 0 },
	{ "tdx/trustee_v4_quote_50806f000000.dat", "tdx/intel_tcbinfo_50806f000000_2025-09.json",
	    "OutOfDate", "2023-02-15T00:00:00Z",
	    "INTEL-SA-00837,INTEL-SA-00960,INTEL-SA-00982,INTEL-SA-00986",
	    "705ee9381b8633a9fbe532b52345e8433343d2868959f57889d84ca377c395b689cac1599ccea1b7d420483a9ce5f031",
	    "50806f000000", 1 },
	{ "tdx/trustee_v4_quote_00a06d080000.dat", "tdx/trustee_tcbinfo_00a06d080000.json",
	    "OutOfDate", "2018-01-04T00:00:00Z", NULL,
	    "21e8dead92d6c69d7cbba79816686c03a48485c7df0c11f6f04792d5e1d378f6b8c46615ba6946adccac6becffbb1e88",
	    "00a06d080000", 0 },
	{ "tdx/phala_v4_quote_b0c06f000000.dat", "tdx/intel_tcbinfo_b0c06f000000_2025-09.json",
	    "UpToDate", "2024-03-13T00:00:00Z", NULL,
	    "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7",
	    "b0c06f000000", 0 },
};

static void
oct_evidence(struct cinfer_evidence *ev, const char *quote, const char *tcb_info)
{
	json_error_t je;
	json_t *j;

	set_quote(ev, quote);
	add_file(ev, "tcb_info", tcb_info);
	add_file(ev, "qe_identity", "tdx/trustee_qe_identity.json");
	/* The root CRL from the 2026 bundle is current (2025-03 .. 2026-04); no PCK CRL is. */
	j = json_load_file(t_vector("tdx/phala_collateral_90c06f000000_outdated.json"), 0, &je);
	assert_non_null(j);
	add_hex_blob(ev, "root_crl", json_string_value(json_object_get(j, "root_ca_crl")));
	json_decref(j);
}

static void
test_oct2025_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < CI_ARRAY_LEN(oct_cases); i++) {
		const struct oct_case *k = &oct_cases[i];
		struct cinfer_evidence ev;
		struct cinfer_claims c;
		char fm[13];

		oct_evidence(&ev, k->quote, k->tcb_info);
		/* Fails closed without a PCK CRL... */
		expect_fail(&ev, T_2025_10, 0, CINFER_E_USAGE, "evidence.tdx.crl", "pck_crl");
		/* ...and passes only with the explicit relaxation, saying so. */
		expect_ok(&ev, T_2025_10, CI_TDX_ALLOW_NO_CRL_INSECURE, &c);
		if (strcmp(c.tcb_status, k->status) != 0)
			fail_msg("%s: status %s, want %s", k->quote, c.tcb_status, k->status);
		assert_int_equal(c.tcb_date, t_time(k->date));
		assert_hex(c.measurement, 48, k->mrtd);
		ci_hex_encode(c.chip_id, c.chip_id_size, fm);
		assert_string_equal(fm, k->fmspc);
		assert_int_equal(c.debug, k->debug);
		assert_detail(&c, "revocation", "unchecked");
		if (k->advisories != NULL) {
			const char *a = cinfer_claims_detail(&c, "advisory_ids");
			assert_non_null(a);
			if (strncmp(a, k->advisories, strlen(k->advisories)) != 0)
				fail_msg("%s: advisories %s, want %s", k->quote, a, k->advisories);
		}
		cinfer_evidence_clear(&ev);
	}
}

static void
test_oct2025_no_level(void **state)
{
	static const char *const q[][2] = {
		{ "tdx/moemahhouk_v4_quote.dat", "tdx/intel_tcbinfo_90c06f000000_2025-09.json" },
		{ "tdx/trustee_v5_quote_90c06f000000.dat", "tdx/intel_tcbinfo_90c06f000000_2025-09.json" },
		{ "tdx/gotdx_spr_v4_quote.dat", "tdx/intel_tcbinfo_50806f000000_2025-09.json" },
	};

	(void)state;
	for (size_t i = 0; i < CI_ARRAY_LEN(q); i++) {
		struct cinfer_evidence ev;
		oct_evidence(&ev, q[i][0], q[i][1]);
		expect_fail(&ev, T_2025_10, CI_TDX_ALLOW_NO_CRL_INSECURE, CINFER_E_STALE,
		    "evidence.tdx.tcb", "no TCB level matches");
		cinfer_evidence_clear(&ev);
	}
}

static void
test_gcp_claims(void **state)
{
	struct cinfer_evidence ev;
	struct cinfer_claims c;

	(void)state;
	oct_evidence(&ev, "tdx/gcp_cos113_v4_quote.dat", "tdx/intel_tcbinfo_00806f050000_2025-09.json");
	expect_ok(&ev, T_2025_10, CI_TDX_ALLOW_NO_CRL_INSECURE, &c);
	assert_meas_hex(&c, "rtmr0", "3fa2f61f395b7f5feefb4ec2df61297f109ad8abcd6410c1b7df60f21f37b19297fc35e544039c7e1edece752afd17f6");
	assert_meas_hex(&c, "rtmr1", "f62dbc072bd5d3f3438b7b35c39a727f5aea2ffc2473f43723953f530daf62504f0a7944aa62c41a86e8a878c2b122c1");
	assert_meas_hex(&c, "rtmr2", "4969684dc87381fc3b3134176c8d8806eaf0a901859f5f70cfae8d17714b46c10a8de219048c9fc09f11f381a6fbe7c1");
	assert_meas_hex(&c, "rtmr3", "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000");
	assert_meas_hex(&c, "mrseam", "ffc97a88587660fb04e1f7c851300c96ae0b5a463ac46d035d16c2d9f36d0ed1d23775bcbd27deb219e3a3cc28023895");
	assert_true(ci_is_zero(c.report_data, 64));
	assert_detail(&c, "trailing_bytes", "3065");
	assert_detail(&c, "qe_svn", "6");
	assert_detail(&c, "xfam", "e700060000000000");
	assert_detail(&c, "sgx_tcb_comp_svn", "07070202030100030000000000000000");
	cinfer_evidence_clear(&ev);
}

/* ---- mutations of real vectors ------------------------------------------ */

static void
phala_full(struct cinfer_evidence *ev)
{
	set_quote(ev, "tdx/phala_v4_quote_b0c06f000000.dat");
	add_phala(ev, "tdx/phala_collateral_b0c06f000000.json", 1);
}

#define T_PHALA "2025-07-01T00:00:00Z"

static void
flip_and_expect(size_t off, const char *stage, const char *msg_part)
{
	struct cinfer_evidence ev;

	phala_full(&ev);
	assert_true(off < ev.evidence_size);
	ev.evidence[off] ^= 0x01;
	expect_fail(&ev, T_PHALA, 0, CINFER_E_CRYPTO, stage, msg_part);
	cinfer_evidence_clear(&ev);
}

static void
test_bit_flips(void **state)
{
	struct cinfer_evidence ev;
	struct ci_tdx_quote q;
	struct cinfer_err e = { 0 };
	struct cinfer_claims c;
	size_t sig_off, qe_off, auth_off;

	(void)state;
	phala_full(&ev);
	assert_int_equal(ci_tdx_quote_parse(&q, ev.evidence, ev.evidence_size, &e), 0);
	assert_int_equal(q.signed_size, CI_TDX_HEADER_SIZE + CI_TDX_BODY10_SIZE);
	sig_off = (size_t)(q.sig - ev.evidence);
	qe_off = (size_t)(q.qe.raw - ev.evidence);
	auth_off = (size_t)(q.auth_data - ev.evidence);
	assert_true(q.auth_data_size > 0);

	/* Header: user data; body: MRTD, RTMR3, report_data, TD attributes. */
	flip_and_expect(30, "evidence.tdx.quote", "quote signature");
	flip_and_expect(48 + 136 + 5, "evidence.tdx.quote", "quote signature");
	flip_and_expect(48 + 520 - 1, "evidence.tdx.quote", "quote signature");
	flip_and_expect(48 + 520 + 10, "evidence.tdx.quote", "quote signature");
	flip_and_expect(48 + 120, "evidence.tdx.quote", "quote signature");
	/* The signature and the attestation key themselves. */
	flip_and_expect(sig_off + 3, "evidence.tdx.quote", NULL);
	flip_and_expect(sig_off + 64 + 40, "evidence.tdx.quote", NULL);
	/* QE report (MRENCLAVE, ISVSVN), its signature, the auth data. */
	flip_and_expect(qe_off + 70, "evidence.tdx.qe", "QE report signature");
	flip_and_expect(qe_off + 258, "evidence.tdx.qe", "QE report signature");
	flip_and_expect(qe_off + 384 + 7, "evidence.tdx.qe", "QE report signature");
	flip_and_expect(auth_off, "evidence.tdx.qe", "report_data");
	/* Trailing bytes after the quote are outside the format: ignored. */
	ev.evidence[ev.evidence_size - 1] ^= 0x55;
	expect_ok(&ev, T_PHALA, 0, &c);
	cinfer_evidence_clear(&ev);
}

static void
test_truncation_and_layout(void **state)
{
	static const char *const quotes[] = {
		"tdx/phala_v4_quote_b0c06f000000.dat", "tdx/gotdx_v5_quote.dat",
		"tdx/trustee_v5_quote_90c06f000000.dat", "tdx/gotdx_spr_v4_quote.dat",
	};

	(void)state;
	for (size_t i = 0; i < CI_ARRAY_LEN(quotes); i++) {
		size_t size = 0;
		uint8_t *p = t_read(t_vector(quotes[i]), &size);
		struct ci_tdx_quote q;
		struct cinfer_err e = { 0 };

		assert_int_equal(ci_tdx_quote_parse(&q, p, size, &e), 0);
		assert_int_equal(q.quote_size + q.trailing_size, size);
		assert_int_equal(q.cert_type, CI_TDX_CERT_PCK_CHAIN);
		const size_t qsize = q.quote_size;
		const unsigned ver = q.version;
		for (size_t n = 0; n < qsize; n += (n < 700 ? 1 : 97)) {
			cinfer_err_clear(&e);
			if (ci_tdx_quote_parse(&q, p, n, &e) == 0)
				fail_msg("%s: prefix of %zu bytes parsed", quotes[i], n);
			assert_true(e.code == CINFER_E_MALFORMED);
		}
		/* A signature data length one byte too long overruns. */
		{
			size_t off = ver == 4 ? 632 : 702;
			uint32_t len = (uint32_t)p[off] | (uint32_t)p[off + 1] << 8 |
			    (uint32_t)p[off + 2] << 16 | (uint32_t)p[off + 3] << 24;
			uint8_t *m = ci_memdup(p, qsize);
			assert_non_null(m);
			len++;
			m[off] = (uint8_t)len;
			m[off + 1] = (uint8_t)(len >> 8);
			cinfer_err_clear(&e);
			assert_int_equal(ci_tdx_quote_parse(&q, m, qsize, &e), -1);
			assert_code(e, CINFER_E_MALFORMED);
			/* Version 3 and an SGX TEE type are refused as unsupported. */
			memcpy(m, p, qsize);
			m[0] = 3;
			cinfer_err_clear(&e);
			assert_int_equal(ci_tdx_quote_parse(&q, m, qsize, &e), -1);
			assert_code(e, CINFER_E_UNSUPPORTED);
			memcpy(m, p, qsize);
			m[4] = 0;
			cinfer_err_clear(&e);
			assert_int_equal(ci_tdx_quote_parse(&q, m, qsize, &e), -1);
			assert_code(e, CINFER_E_UNSUPPORTED);
			ci_free(m);
		}
		ci_free(p);
	}
}

static void
test_wrong_collateral(void **state)
{
	struct cinfer_evidence ev;
	struct cinfer_claims c;

	(void)state;
	/* Expired: the PCK CRL's nextUpdate (2025-07-19T10:00:35Z) has passed. */
	phala_full(&ev);
	expect_fail(&ev, "2025-07-19T10:00:36Z", 0, CINFER_E_STALE, "evidence.tdx.crl", "expired");
	/* Not yet issued. */
	expect_fail(&ev, "2025-06-19T10:20:00Z", 0, CINFER_E_STALE, "evidence.tdx.collateral",
	    "QE identity is issued after");
	cinfer_evidence_clear(&ev);

	/* Expired TCB info (nextUpdate 2025-10-29T18:04:58Z), everything else current. */
	oct_evidence(&ev, "tdx/gcp_cos113_v4_quote.dat", "tdx/intel_tcbinfo_00806f050000_2025-09.json");
	expect_ok(&ev, "2025-10-29T18:04:57Z", CI_TDX_ALLOW_NO_CRL_INSECURE, &c);
	expect_fail(&ev, "2025-10-29T18:04:58Z", CI_TDX_ALLOW_NO_CRL_INSECURE, CINFER_E_STALE,
	    "evidence.tdx.collateral", "TCB info expired");
	cinfer_evidence_clear(&ev);

	/* TCB info for another FMSPC. */
	set_quote(&ev, "tdx/phala_v4_quote_b0c06f000000.dat");
	add_file(&ev, "tcb_info", "tdx/intel_tcbinfo_00806f050000_2025-09.json");
	add_file(&ev, "qe_identity", "tdx/trustee_qe_identity.json");
	expect_fail(&ev, T_2025_10, CI_TDX_ALLOW_NO_CRL_INSECURE, CINFER_E_CRYPTO,
	    "evidence.tdx.collateral", "FMSPC 00806f050000");
	cinfer_evidence_clear(&ev);

	/* Missing collateral. */
	set_quote(&ev, "tdx/phala_v4_quote_b0c06f000000.dat");
	expect_fail(&ev, T_PHALA, CI_TDX_ALLOW_NO_CRL_INSECURE, CINFER_E_USAGE,
	    "evidence.tdx.collateral", "tcb_info");
	expect_fail(&ev, T_PHALA, 0, CINFER_E_USAGE, "evidence.tdx.crl", "pck_crl");
	cinfer_evidence_clear(&ev);

	/* A 2018-signed TCB info verified after the 2018 TCB signing cert expired. */
	set_quote(&ev, "tdx/gotdx_spr_v4_quote.dat");
	add_file(&ev, "tcb_info", "tdx/gotdx_tcbinfo_50806f000000.json");
	add_file(&ev, "qe_identity", "tdx/gotdx_qe_identity.json");
	add_file(&ev, "tcb_signing_chain", "roots/intel_tcb_signing_chain_2018.pem");
	expect_fail(&ev, "2025-06-01T00:00:00Z", CI_TDX_ALLOW_NO_CRL_INSECURE, CINFER_E_STALE,
	    "evidence.tdx.collateral", "expired");
	cinfer_evidence_clear(&ev);
}

/* Replaces the first occurrence of from with to in collateral item name. */
static void
edit_collateral(struct cinfer_evidence *ev, const char *name, const char *from, const char *to)
{
	for (size_t i = 0; i < ev->collateral_count; i++) {
		struct cinfer_blob *b = &ev->collateral[i];
		char *s, *hit;
		size_t n;
		if (strcmp(b->name, name) != 0)
			continue;
		s = ci_alloc(b->size + strlen(to) + 1);
		assert_non_null(s);
		memcpy(s, b->data, b->size);
		s[b->size] = '\0';
		hit = strstr(s, from);
		assert_non_null(hit);
		n = (size_t)(hit - s);
		memcpy(s + n, to, strlen(to));
		memcpy(s + n + strlen(to), b->data + n + strlen(from), b->size - n - strlen(from));
		b->size = b->size - strlen(from) + strlen(to);
		ci_free(b->data);
		b->data = (uint8_t *)s;
		return;
	}
	fail_msg("no collateral %s", name);
}

static void
test_broken_collateral_signature(void **state)
{
	struct cinfer_evidence ev;

	(void)state;
	phala_full(&ev);
	edit_collateral(&ev, "tcb_info", "\"tcbEvaluationDataNumber\":17", "\"tcbEvaluationDataNumber\":18");
	expect_fail(&ev, T_PHALA, 0, CINFER_E_CRYPTO, "evidence.tdx.collateral",
	    "TCB info signature");
	cinfer_evidence_clear(&ev);

	phala_full(&ev);
	edit_collateral(&ev, "qe_identity", "\"isvsvn\":4", "\"isvsvn\":1");
	expect_fail(&ev, T_PHALA, 0, CINFER_E_CRYPTO, "evidence.tdx.collateral",
	    "QE identity signature");
	cinfer_evidence_clear(&ev);

	/* A signature made by someone else (the signature field of the QE identity). */
	set_quote(&ev, "tdx/gotdx_v5_quote.dat");
	add_file(&ev, "tcb_info", "tdx/gotdx_tcbinfo_90c06f000000.json");
	add_file(&ev, "qe_identity", "tdx/trustee_qe_identity.json");
	edit_collateral(&ev, "tcb_info", "\"signature\":\"", "\"signature\":\"00");
	expect_fail(&ev, "2026-02-20T00:00:00Z", CI_TDX_ALLOW_NO_CRL_INSECURE, CINFER_E_MALFORMED,
	    "evidence.tdx.collateral", "signature");
	cinfer_evidence_clear(&ev);

	/* Extra fields around the signed object are refused. */
	phala_full(&ev);
	edit_collateral(&ev, "tcb_info", "{\"tcbInfo\"", "{\"x\":1,\"tcbInfo\"");
	expect_fail(&ev, T_PHALA, 0, CINFER_E_MALFORMED, "evidence.tdx.collateral", "\"x\"");
	cinfer_evidence_clear(&ev);
}

static void
test_alloc_failures(void **state)
{
	struct cinfer_evidence ev;
	size_t live;

	(void)state;
	phala_full(&ev);
	live = ci_alloc_live();
	for (size_t n = 0;; n++) {
		struct cinfer_claims c;
		struct cinfer_err e = { 0 };
		struct cinfer_verify_opts o = opts_default();
		int rc;

		cinfer_claims_init(&c, CINFER_PLATFORM_TDX);
		ci_alloc_fail_after(n);
		rc = ci_tdx_verify(&ev, &o, t_time(T_PHALA), &c, &e);
		ci_alloc_fail_after(SIZE_MAX);
		assert_int_equal(ci_alloc_live(), live);
		if (rc == 0) {
			assert_string_equal(c.tcb_status, "UpToDate");
			break;
		}
		if (e.code != CINFER_E_NOMEM && e.code != CINFER_E_IO)
			fail_msg("allocation %zu failing gave %s: %s", n, cinfer_code_name(e.code), e.msg);
		assert_true(n < 1000);
	}
	cinfer_evidence_clear(&ev);
}

static void
test_collateral_parsers(void **state)
{
	struct ci_intel_signed s;
	struct ci_intel_tcb_info *t = ci_calloc(1, sizeof(*t));
	struct ci_intel_qe_identity *q = ci_calloc(1, sizeof(*q));
	struct cinfer_err e = { 0 };
	size_t size = 0;
	uint8_t *p;

	(void)state;
	assert_non_null(t);
	assert_non_null(q);
	p = t_read(t_vector("tdx/gotdx_tcbinfo_90c06f000000.json"), &size);
	assert_int_equal(ci_intel_signed_split(p, size, "tcbInfo", &s, &e), 0);
	assert_int_equal(ci_intel_tcb_info_parse(t, s.body, s.body_size, &e), 0);
	assert_int_equal(t->level_count, 3);
	assert_int_equal(t->module_count, 2);
	assert_string_equal(t->modules[1].id, "TDX_01");
	assert_int_equal(t->modules[1].level_count, 3);
	assert_int_equal(t->levels[0].pcesvn, 13);
	assert_int_equal(t->levels[0].sgx[4], 4);
	assert_int_equal(t->levels[1].status, CI_TCB_OUT_OF_DATE);
	assert_int_equal(t->eval_number, 18);
	ci_intel_tcb_info_clear(t);
	/* The wrong key name does not split. */
	assert_int_equal(ci_intel_signed_split(p, size, "enclaveIdentity", &s, &e), -1);
	ci_free(p);

	p = t_read(t_vector("tdx/gotdx_qe_identity.json"), &size);
	assert_int_equal(ci_intel_signed_split(p, size, "enclaveIdentity", &s, &e), 0);
	assert_int_equal(ci_intel_qe_identity_parse(q, s.body, s.body_size, &e), 0);
	assert_int_equal(q->isvprodid, 2);
	assert_int_equal(q->miscselect_mask, 0xffffffffu);
	assert_int_equal(q->level_count, 1);
	assert_int_equal(q->levels[0].isvsvn, 4);
	ci_intel_qe_identity_clear(q);
	ci_free(p);
	ci_free(t);
	ci_free(q);
}

static void
test_pck_extension(void **state)
{
	struct cinfer_evidence ev;
	struct ci_tdx_quote q;
	struct cinfer_err e = { 0 };
	STACK_OF(X509) *sk;
	struct ci_intel_pck_ext x;
	char hex[33];

	(void)state;
	set_quote(&ev, "tdx/azure_v4_quote.dat");
	assert_int_equal(ci_tdx_quote_parse(&q, ev.evidence, ev.evidence_size, &e), 0);
	sk = ci_x509_parse_bundle(q.cert_data, strnlen((const char *)q.cert_data, q.cert_data_size), &e);
	assert_non_null(sk);
	assert_int_equal(sk_X509_num(sk), 3);
	assert_int_equal(ci_intel_pck_ext_from_cert(&x, sk_X509_value(sk, 0), &e), 0);
	ci_hex_encode(x.fmspc, 6, hex);
	assert_string_equal(hex, "00806f050000");
	ci_hex_encode(x.cpusvn, 16, hex);
	assert_string_equal(hex, "06060202030100030000000000000000");
	assert_int_equal(x.pcesvn, 11);
	assert_int_equal(x.comp_svn[0], 6);
	assert_int_equal(x.comp_svn[7], 3);
	/* The CA certificate has no SGX extension. */
	assert_int_equal(ci_intel_pck_ext_from_cert(&x, sk_X509_value(sk, 1), &e), -1);
	sk_X509_pop_free(sk, X509_free);
	cinfer_evidence_clear(&ev);
}

/* ---- a synthetic chain: test root, PCK CA, PCK, TCB signer ---------------- */

struct synth {
	EVP_PKEY *root_k, *ca_k, *pck_k, *tcb_k, *att_k, *fake_k;
	X509 *root, *ca, *pck, *tcb, *fake_ca;
	int with_fake;			/* 1: fake_ca before ca in the quote, 2: after */
	char *dir;		/* roots dir holding the test root */
};

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
mk_cert(const char *cn, X509 *issuer, EVP_PKEY *issuer_k, EVP_PKEY *pub, int ca, long serial,
    X509 *sgx_from)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();

	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const uint8_t *)"cinfer test", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const uint8_t *)cn, -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : n);
	X509_NAME_free(n);
	ASN1_TIME_set(X509_getm_notBefore(x), (time_t)t_time("2020-01-01T00:00:00Z"));
	ASN1_TIME_set(X509_getm_notAfter(x), (time_t)t_time("2040-01-01T00:00:00Z"));
	X509_set_pubkey(x, pub);
	add_ext(x, issuer != NULL ? issuer : x, NID_subject_key_identifier, "hash");
	add_ext(x, issuer != NULL ? issuer : x, NID_authority_key_identifier, "keyid:always");
	if (ca) {
		add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		add_ext(x, x, NID_basic_constraints, "critical,CA:FALSE");
		add_ext(x, x, NID_key_usage, "critical,digitalSignature,nonRepudiation");
	}
	if (sgx_from != NULL) {
		ASN1_OBJECT *o = OBJ_txt2obj(CI_INTEL_SGX_EXT_OID, 1);
		int idx = X509_get_ext_by_OBJ(sgx_from, o, -1);
		assert_true(idx >= 0);
		assert_int_equal(X509_add_ext(x, X509_get_ext(sgx_from, idx), -1), 1);
		ASN1_OBJECT_free(o);
	}
	assert_true(X509_sign(x, issuer_k, EVP_sha256()) > 0);
	return x;
}

static void
pem_append(char **buf, size_t *size, X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long n;

	assert_int_equal(PEM_write_bio_X509(b, x), 1);
	n = BIO_get_mem_data(b, &p);
	*buf = realloc(*buf, *size + (size_t)n + 1);
	memcpy(*buf + *size, p, (size_t)n);
	*size += (size_t)n;
	(*buf)[*size] = '\0';
	BIO_free(b);
}

static void
synth_init(struct synth *s, X509 *real_pck)
{
	char path[4200], *pem = NULL;
	size_t pem_size = 0;
	struct cinfer_err e = { 0 };

	memset(s, 0, sizeof(*s));
	s->root_k = ci_ec_keygen("P-256", &e);
	s->ca_k = ci_ec_keygen("P-256", &e);
	s->pck_k = ci_ec_keygen("P-256", &e);
	s->tcb_k = ci_ec_keygen("P-256", &e);
	s->att_k = ci_ec_keygen("P-256", &e);
	assert_non_null(s->att_k);
	s->root = mk_cert("Test SGX Root CA", NULL, s->root_k, s->root_k, 1, 1, NULL);
	s->ca = mk_cert("Test SGX PCK Platform CA", s->root, s->root_k, s->ca_k, 1, 2, NULL);
	s->pck = mk_cert("Test SGX PCK Certificate", s->ca, s->ca_k, s->pck_k, 0, 0x1234, real_pck);
	s->tcb = mk_cert("Test SGX TCB Signing", s->root, s->root_k, s->tcb_k, 0, 3, NULL);
	/* A look-alike of the PCK CA: same subject, same key id, another key, bad signature. */
	s->fake_k = ci_ec_keygen("P-256", &e);
	{
		const ASN1_OCTET_STRING *skid = X509_get0_subject_key_id(s->ca);
		char hex[80];
		X509 *x = X509_new();
		X509_EXTENSION *ext;
		assert_non_null(skid);
		ci_hex_encode(ASN1_STRING_get0_data(skid), (size_t)ASN1_STRING_length(skid), hex);
		X509_set_version(x, 2);
		ASN1_INTEGER_set(X509_get_serialNumber(x), 99);
		X509_set_subject_name(x, X509_get_subject_name(s->ca));
		X509_set_issuer_name(x, X509_get_subject_name(s->root));
		ASN1_TIME_set(X509_getm_notBefore(x), (time_t)t_time("2020-01-01T00:00:00Z"));
		ASN1_TIME_set(X509_getm_notAfter(x), (time_t)t_time("2040-01-01T00:00:00Z"));
		X509_set_pubkey(x, s->fake_k);
		ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_key_identifier, hex);
		assert_non_null(ext);
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
		add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
		assert_true(X509_sign(x, s->fake_k, EVP_sha256()) > 0);
		s->fake_ca = x;
	}
	s->dir = t_tmpdir();
	snprintf(path, sizeof(path), "%s/intel", s->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	pem_append(&pem, &pem_size, s->root);
	snprintf(path, sizeof(path), "%s/intel/intel_sgx_root_ca.pem", s->dir);
	assert_int_equal(ci_file_write(path, pem, pem_size, 0600, &e), 0);
	free(pem);
}

static void
synth_clear(struct synth *s)
{
	EVP_PKEY_free(s->root_k);
	EVP_PKEY_free(s->ca_k);
	EVP_PKEY_free(s->pck_k);
	EVP_PKEY_free(s->tcb_k);
	EVP_PKEY_free(s->att_k);
	EVP_PKEY_free(s->fake_k);
	X509_free(s->fake_ca);
	X509_free(s->root);
	X509_free(s->ca);
	X509_free(s->pck);
	X509_free(s->tcb);
	t_rmrf(s->dir);
}

static void
sign_raw(EVP_PKEY *k, const void *msg, size_t size, uint8_t sig[64])
{
	struct cinfer_err e = { 0 };

	assert_int_equal(ci_ecdsa_sign_raw(k, EVP_sha256(), msg, size, sig, sig + 32, 32, &e), 0);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

/*
 * Re-issues a real quote (header and body kept) under the synthetic keys:
 * new attestation key and signature, QE report bound to it and signed by
 * the test PCK, certification data = PEM(pck, ca[, root]).
 */
static void
synth_quote(const struct synth *s, const uint8_t *real, size_t real_size, int with_root,
    uint8_t **out, size_t *out_size)
{
	struct ci_tdx_quote q;
	struct cinfer_err e = { 0 };
	uint8_t att[65], qe[CI_SGX_REPORT_SIZE], h[32], *p;
	size_t att_size = 0, pem_size = 0, cd_size, sig_size, size;
	char *pem = NULL;

	assert_int_equal(ci_tdx_quote_parse(&q, real, real_size, &e), 0);
	assert_int_equal(EVP_PKEY_get_octet_string_param(s->att_k, "pub", att, sizeof(att),
	    &att_size), 1);
	assert_int_equal(att_size, 65);
	pem_append(&pem, &pem_size, s->pck);
	if (s->with_fake == 1)
		pem_append(&pem, &pem_size, s->fake_ca);
	pem_append(&pem, &pem_size, s->ca);
	if (s->with_fake == 2)
		pem_append(&pem, &pem_size, s->fake_ca);
	if (with_root)
		pem_append(&pem, &pem_size, s->root);
	pem_size++;	/* keep the NUL, as the QE does */
	memcpy(qe, q.qe.raw, sizeof(qe));
	{
		struct ci_part parts[] = { { att + 1, 64 }, { q.auth_data, q.auth_data_size } };
		assert_int_equal(ci_digest_parts(EVP_sha256(), parts, 2, h, &e), 0);
	}
	memcpy(qe + 320, h, 32);
	memset(qe + 352, 0, 32);
	cd_size = CI_SGX_REPORT_SIZE + 64 + 2 + q.auth_data_size + 2 + 4 + pem_size;
	sig_size = 64 + 64 + 2 + 4 + cd_size;
	size = q.signed_size + 4 + sig_size;
	p = ci_alloc(size);
	assert_non_null(p);
	memcpy(p, q.signed_p, q.signed_size);
	{
		uint8_t *w = p + q.signed_size;
		put32(w, (uint32_t)sig_size);
		w += 4;
		sign_raw(s->att_k, p, q.signed_size, w);
		memcpy(w + 64, att + 1, 64);
		w += 128;
		put16(w, 6);
		put32(w + 2, (uint32_t)cd_size);
		w += 6;
		memcpy(w, qe, sizeof(qe));
		sign_raw(s->pck_k, qe, sizeof(qe), w + CI_SGX_REPORT_SIZE);
		w += CI_SGX_REPORT_SIZE + 64;
		put16(w, (uint16_t)q.auth_data_size);
		memcpy(w + 2, q.auth_data, q.auth_data_size);
		w += 2 + q.auth_data_size;
		put16(w, 5);
		put32(w + 2, (uint32_t)pem_size);
		memcpy(w + 6, pem, pem_size);
		assert_true(w + 6 + pem_size == p + size);
	}
	free(pem);
	*out = p;
	*out_size = size;
}

static uint8_t *
crl_der(X509 *issuer, EVP_PKEY *k, const long *revoked, size_t n, const char *this_up,
    const char *next_up, size_t *size)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_new();
	uint8_t *der = NULL, *copy;
	int len;

	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer));
	ASN1_TIME_set(t, (time_t)t_time(this_up));
	X509_CRL_set1_lastUpdate(crl, t);
	ASN1_TIME_set(t, (time_t)t_time(next_up));
	X509_CRL_set1_nextUpdate(crl, t);
	for (size_t i = 0; i < n; i++) {
		X509_REVOKED *r = X509_REVOKED_new();
		ASN1_INTEGER *sn = ASN1_INTEGER_new();
		ASN1_INTEGER_set(sn, revoked[i]);
		X509_REVOKED_set_serialNumber(r, sn);
		ASN1_TIME_set(t, (time_t)t_time(this_up));
		X509_REVOKED_set_revocationDate(r, t);
		X509_CRL_add0_revoked(crl, r);
		ASN1_INTEGER_free(sn);
	}
	X509_CRL_sort(crl);
	assert_true(X509_CRL_sign(crl, k, EVP_sha256()) > 0);
	len = i2d_X509_CRL(crl, &der);
	assert_true(len > 0);
	copy = ci_memdup(der, (size_t)len);
	*size = (size_t)len;
	OPENSSL_free(der);
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
	return copy;
}

/* Signs a PCS document body with the test TCB signer and adds it. */
static void
add_signed_doc(struct cinfer_evidence *ev, EVP_PKEY *k, const char *name, const char *key,
    const char *body)
{
	uint8_t sig[64];
	char hex[129], *doc;
	size_t cap = strlen(body) + 256;

	sign_raw(k, body, strlen(body), sig);
	ci_hex_encode(sig, 64, hex);
	doc = malloc(cap);
	snprintf(doc, cap, "{\"%s\":%s,\"signature\":\"%s\"}", key, body, hex);
	add_mem(ev, name, doc, strlen(doc));
	free(doc);
}

static char *
str_replace_all(const char *s, const char *from, const char *to)
{
	size_t cap = strlen(s) * 2 + 64, o = 0;
	char *out = malloc(cap);

	while (*s != '\0') {
		if (strncmp(s, from, strlen(from)) == 0) {
			memcpy(out + o, to, strlen(to));
			o += strlen(to);
			s += strlen(from);
		} else {
			out[o++] = *s++;
		}
	}
	out[o] = '\0';
	return out;
}

struct synth_opts {
	const long *pck_revoked;	/* serials in the PCK CRL */
	size_t pck_revoked_count;
	const long *root_revoked;
	size_t root_revoked_count;
	const char *tcb_from, *tcb_to;	/* edit TCB info before signing */
	const char *qe_from, *qe_to;	/* edit QE identity before signing */
	int pck_crl_by_root;		/* sign the PCK CRL with the wrong key */
	const char *crl_next;		/* PCK CRL nextUpdate */
	int without_root;		/* leave the root out of the quote */
	int ca_signs_collateral;	/* the PCK CA key signs TCB info and QE identity */
	int fake_ca;			/* look-alike CA (same name and key id) signs the PCK CRL;
					   1: placed before the real CA, 2: after */
};

static void
synth_evidence(struct synth *s, const struct synth_opts *o, struct cinfer_evidence *ev)
{
	json_error_t je;
	json_t *j = json_load_file(t_vector("tdx/phala_collateral_b0c06f000000.json"), 0, &je);
	size_t real_size = 0, crl_size = 0;
	uint8_t *real = t_read(t_vector("tdx/phala_v4_quote_b0c06f000000.dat"), &real_size);
	uint8_t *crl;
	char *body, *pem = NULL;
	size_t pem_size = 0;

	assert_non_null(j);
	cinfer_evidence_init(ev);
	ev->platform = CINFER_PLATFORM_TDX;
	s->with_fake = o->fake_ca;
	synth_quote(s, real, real_size, !o->without_root, &ev->evidence, &ev->evidence_size);
	ci_free(real);
	body = str_replace_all(json_string_value(json_object_get(j, "tcb_info")),
	    o->tcb_from ? o->tcb_from : "\x01", o->tcb_to ? o->tcb_to : "\x01");
	add_signed_doc(ev, o->ca_signs_collateral ? s->ca_k : s->tcb_k, "tcb_info", "tcbInfo", body);
	free(body);
	body = str_replace_all(json_string_value(json_object_get(j, "qe_identity")),
	    o->qe_from ? o->qe_from : "\x01", o->qe_to ? o->qe_to : "\x01");
	add_signed_doc(ev, o->ca_signs_collateral ? s->ca_k : s->tcb_k, "qe_identity",
	    "enclaveIdentity", body);
	free(body);
	json_decref(j);
	crl = crl_der(s->ca, o->fake_ca ? s->fake_k : o->pck_crl_by_root ? s->root_k : s->ca_k,
	    o->pck_revoked,
	    o->pck_revoked_count, "2025-06-01T00:00:00Z",
	    o->crl_next ? o->crl_next : "2025-08-01T00:00:00Z", &crl_size);
	add_mem(ev, "pck_crl", crl, crl_size);
	ci_free(crl);
	crl = crl_der(s->root, s->root_k, o->root_revoked, o->root_revoked_count,
	    "2025-06-01T00:00:00Z", "2026-06-01T00:00:00Z", &crl_size);
	add_mem(ev, "root_crl", crl, crl_size);
	ci_free(crl);
	pem_append(&pem, &pem_size, o->ca_signs_collateral ? s->ca : s->tcb);
	pem_append(&pem, &pem_size, s->root);
	add_mem(ev, "tcb_signing_chain", pem, pem_size);
	free(pem);
}

static int
synth_verify(struct synth *s, const struct cinfer_evidence *ev, struct cinfer_claims *c,
    struct cinfer_err *e)
{
	struct cinfer_verify_opts o;

	memset(&o, 0, sizeof(o));
	o.roots_dir = s->dir;
	cinfer_claims_init(c, CINFER_PLATFORM_TDX);
	cinfer_err_clear(e);
	return ci_tdx_verify(ev, &o, t_time(T_PHALA), c, e);
}

static void
synth_expect(struct synth *s, const struct synth_opts *o, enum cinfer_code code,
    const char *stage, const char *msg_or_status)
{
	struct cinfer_evidence ev;
	struct cinfer_claims c;
	struct cinfer_err e = { 0 };
	int rc;

	synth_evidence(s, o, &ev);
	rc = synth_verify(s, &ev, &c, &e);
	if (code == CINFER_OK) {
		if (rc != 0)
			fail_msg("synthetic quote failed: %s: %s", e.stage, e.msg);
		assert_string_equal(c.tcb_status, msg_or_status);
		assert_detail(&c, "revocation", "checked");
	} else {
		if (rc == 0)
			fail_msg("synthetic quote passed; want %s", stage);
		assert_code(e, code);
		assert_string_equal(e.stage, stage);
		if (strstr(e.msg, msg_or_status) == NULL)
			fail_msg("message \"%s\" lacks \"%s\"", e.msg, msg_or_status);
	}
	cinfer_evidence_clear(&ev);
}

static X509 *
real_pck(void)
{
	size_t size = 0;
	uint8_t *p = t_read(t_vector("tdx/phala_v4_quote_b0c06f000000.dat"), &size);
	struct ci_tdx_quote q;
	struct cinfer_err e = { 0 };
	X509 *x;

	assert_int_equal(ci_tdx_quote_parse(&q, p, size, &e), 0);
	x = ci_x509_parse(q.cert_data, strnlen((const char *)q.cert_data, q.cert_data_size), &e);
	assert_non_null(x);
	ci_free(p);
	return x;
}

static void
test_synthetic_chain(void **state)
{
	struct synth s;
	X509 *rp = real_pck();
	static const long pck_serial[] = { 0x77, 0x1234, 0x9999 };
	static const long ca_serial[] = { 2 };
	static const long other_serial[] = { 0x77 };

	(void)state;
	synth_init(&s, rp);
	X509_free(rp);
	/* The generator itself is sound: all checks pass, UpToDate. */
	synth_expect(&s, &(struct synth_opts){ 0 }, CINFER_OK, NULL, "UpToDate");
	/* A CRL listing other serials does not matter. */
	synth_expect(&s, &(struct synth_opts){ .pck_revoked = other_serial, .pck_revoked_count = 1 },
	    CINFER_OK, NULL, "UpToDate");
	/* The PCK listed in the PCK CRL: authenticity fails. */
	synth_expect(&s, &(struct synth_opts){ .pck_revoked = pck_serial, .pck_revoked_count = 3 },
	    CINFER_E_CRYPTO, "evidence.tdx.crl", "PCK certificate is revoked");
	/* The PCK CA listed in the root CRL. */
	synth_expect(&s, &(struct synth_opts){ .root_revoked = ca_serial, .root_revoked_count = 1 },
	    CINFER_E_CRYPTO, "evidence.tdx.crl", "PCK CA certificate is revoked");
	/* A PCK CRL signed by the wrong key. */
	synth_expect(&s, &(struct synth_opts){ .pck_crl_by_root = 1 }, CINFER_E_CRYPTO,
	    "evidence.tdx.crl", "signature");
	/* An expired PCK CRL. */
	synth_expect(&s, &(struct synth_opts){ .crl_next = "2025-06-30T00:00:00Z" }, CINFER_E_STALE,
	    "evidence.tdx.crl", "expired");
	/* A Revoked TCB level fails closed. */
	synth_expect(&s, &(struct synth_opts){ .tcb_from = "UpToDate", .tcb_to = "Revoked" },
	    CINFER_E_CRYPTO, "evidence.tdx.tcb", "Revoked");
	/* A revoked QE level also fails closed. */
	synth_expect(&s, &(struct synth_opts){ .qe_from = "UpToDate", .qe_to = "Revoked" },
	    CINFER_E_CRYPTO, "evidence.tdx.tcb", "Revoked");
	/* Other statuses are returned for the policy, converged as QVL does. */
	synth_expect(&s, &(struct synth_opts){ .tcb_from = "UpToDate", .tcb_to = "SWHardeningNeeded" },
	    CINFER_OK, NULL, "SWHardeningNeeded");
	synth_expect(&s, &(struct synth_opts){ .tcb_from = "\"tcbStatus\":\"UpToDate\"",
	    .tcb_to = "\"tcbStatus\":\"ConfigurationAndSWHardeningNeeded\"" },
	    CINFER_OK, NULL, "ConfigurationAndSWHardeningNeeded");
	synth_expect(&s, &(struct synth_opts){ .qe_from = "UpToDate", .qe_to = "OutOfDate" },
	    CINFER_OK, NULL, "OutOfDate");
	synth_expect(&s, &(struct synth_opts){ .tcb_from = "UpToDate", .tcb_to = "ConfigurationNeeded",
	    .qe_from = "UpToDate", .qe_to = "OutOfDate" }, CINFER_OK, NULL,
	    "OutOfDateConfigurationNeeded");
	/* A QE identity for another signer. */
	synth_expect(&s, &(struct synth_opts){ .qe_from = "DC9E2A7C", .qe_to = "DC9E2A7D" },
	    CINFER_E_CRYPTO, "evidence.tdx.tcb", "MRSIGNER");
	/* TDX module identity whose mrsigner differs from MRSIGNERSEAM. */
	synth_expect(&s, &(struct synth_opts){ .tcb_from = "\"id\":\"TDX_01\",\"mrsigner\":\"0000",
	    .tcb_to = "\"id\":\"TDX_01\",\"mrsigner\":\"0100" }, CINFER_E_CRYPTO, "evidence.tdx.tcb",
	    "MRSIGNERSEAM");
	/*
	 * A look-alike CA (same name and key id, attacker's key) put in the quote
	 * before the real one must not become the judge of the PCK CRL.
	 */
	synth_expect(&s, &(struct synth_opts){ .fake_ca = 1, .pck_revoked = other_serial,
	    .pck_revoked_count = 1 }, CINFER_E_CRYPTO, "evidence.tdx.chain", "certificate chain");
	synth_expect(&s, &(struct synth_opts){ .fake_ca = 2, .pck_revoked = other_serial,
	    .pck_revoked_count = 1 }, CINFER_E_CRYPTO, "evidence.tdx.crl", "signature");
	/* Collateral signed by a CA key chaining to the root is not TCB signing. */
	synth_expect(&s, &(struct synth_opts){ .ca_signs_collateral = 1 }, CINFER_E_CRYPTO,
	    "evidence.tdx.collateral", "not an end-entity");
	/* Without the root in the quote the chain still ends at the pinned root. */
	synth_expect(&s, &(struct synth_opts){ .without_root = 1 }, CINFER_OK, NULL, "UpToDate");
	synth_clear(&s);
}

static void
test_wrong_root(void **state)
{
	struct synth s;
	X509 *rp = real_pck();
	struct cinfer_evidence ev;
	struct cinfer_claims c;
	struct cinfer_err e = { 0 };
	struct cinfer_verify_opts o = opts_default();

	(void)state;
	synth_init(&s, rp);
	X509_free(rp);
	/* A real quote against a roots dir pinning another root. */
	phala_full(&ev);
	assert_int_equal(synth_verify(&s, &ev, &c, &e), -1);
	assert_code(e, CINFER_E_CRYPTO);
	assert_string_equal(e.stage, "evidence.tdx.chain");
	assert_non_null(strstr(e.msg, "not the pinned"));
	cinfer_evidence_clear(&ev);
	/* A synthetic quote (its own root inside) against the real Intel root. */
	synth_evidence(&s, &(struct synth_opts){ 0 }, &ev);
	cinfer_claims_init(&c, CINFER_PLATFORM_TDX);
	cinfer_err_clear(&e);
	assert_int_equal(ci_tdx_verify(&ev, &o, t_time(T_PHALA), &c, &e), -1);
	assert_code(e, CINFER_E_CRYPTO);
	assert_string_equal(e.stage, "evidence.tdx.chain");
	cinfer_evidence_clear(&ev);
	/* ...and without its root: no path to the Intel root. */
	synth_evidence(&s, &(struct synth_opts){ .without_root = 1 }, &ev);
	cinfer_err_clear(&e);
	assert_int_equal(ci_tdx_verify(&ev, &o, t_time(T_PHALA), &c, &e), -1);
	assert_code(e, CINFER_E_CRYPTO);
	assert_string_equal(e.stage, "evidence.tdx.chain");
	cinfer_evidence_clear(&ev);
	synth_clear(&s);
}

static void
test_gcp_ccel_replay(void **state)
{
	struct cinfer_evidence ev;
	struct cinfer_claims c;
	size_t size = 0, events = 0;
	uint8_t *log = t_read(t_vector("tdx/gcp_cos113_ccel_data.bin"), &size);
	uint8_t rtmr[4][48];
	struct cinfer_err e = { 0 };

	(void)state;
	assert_int_equal(ci_tdx_ccel_replay(log, size, rtmr, &events, &e), 0);
	assert_int_equal(events, 43);
	oct_evidence(&ev, "tdx/gcp_cos113_v4_quote.dat", "tdx/intel_tcbinfo_00806f050000_2025-09.json");
	add_mem(&ev, "ccel_log", log, size);
	expect_ok(&ev, T_2025_10, CI_TDX_ALLOW_NO_CRL_INSECURE, &c);
	assert_detail(&c, "ccel_events", "43");
	cinfer_evidence_clear(&ev);
	/* One changed digest byte in the log no longer replays to the RTMRs. */
	oct_evidence(&ev, "tdx/gcp_cos113_v4_quote.dat", "tdx/intel_tcbinfo_00806f050000_2025-09.json");
	log[0xbc] ^= 1;
	add_mem(&ev, "ccel_log", log, size);
	expect_fail(&ev, T_2025_10, CI_TDX_ALLOW_NO_CRL_INSECURE, CINFER_E_CRYPTO, "evidence.tdx.ccel",
	    "RTMR");
	cinfer_evidence_clear(&ev);
	/* Truncated in the middle of a record. */
	cinfer_err_clear(&e);
	assert_int_equal(ci_tdx_ccel_replay(log, 0x100, rtmr, &events, &e), -1);
	assert_code(e, CINFER_E_MALFORMED);
	ci_free(log);
}

static void
test_envelope_roundtrip(void **state)
{
	struct cinfer_evidence ev, back;
	struct cinfer_claims c;
	struct cinfer_err e = { 0 };
	char *json;

	(void)state;
	/* The quote and its collateral survive the JSON envelope unchanged. */
	phala_full(&ev);
	json = cinfer_evidence_to_json(&ev, &e);
	assert_non_null(json);
	assert_int_equal(cinfer_evidence_parse_json(&back, json, strlen(json), &e), 0);
	free(json);
	assert_int_equal(back.platform, CINFER_PLATFORM_TDX);
	assert_int_equal(back.collateral_count, 4);
	expect_ok(&back, T_PHALA, 0, &c);
	assert_string_equal(c.tcb_status, "UpToDate");
	cinfer_evidence_clear(&back);
	cinfer_evidence_clear(&ev);
}

static void
test_tcb_evaluate_module_paths(void **state)
{
	struct ci_intel_signed sp;
	struct ci_intel_tcb_info *t = ci_calloc(1, sizeof(*t));
	struct ci_intel_qe_identity *q = ci_calloc(1, sizeof(*q));
	struct ci_tdx_tcb_eval ev;
	struct cinfer_err e = { 0 };
	size_t size = 0;
	uint8_t *tp = t_read(t_vector("tdx/gotdx_tcbinfo_90c06f000000.json"), &size);
	uint8_t *qp;
	size_t qsize = 0;
	const uint8_t sgx[16] = { 3, 3, 2, 2, 4, 1, 0, 5 };
	uint8_t tee[16] = { 6, 1, 3 };
	const uint8_t zero48[48] = { 0 }, attr8[8] = { 0 }, qattr[16] = { 0x11 };
	uint8_t mrsigner[32];
	size_t n = 0;

	(void)state;
	assert_int_equal(ci_intel_signed_split(tp, size, "tcbInfo", &sp, &e), 0);
	assert_int_equal(ci_intel_tcb_info_parse(t, sp.body, sp.body_size, &e), 0);
	qp = t_read(t_vector("tdx/gotdx_qe_identity.json"), &qsize);
	assert_int_equal(ci_intel_signed_split(qp, qsize, "enclaveIdentity", &sp, &e), 0);
	assert_int_equal(ci_intel_qe_identity_parse(q, sp.body, sp.body_size, &e), 0);
	assert_int_equal(ci_hex_decode("dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5",
	    64, mrsigner, 32, &n, &e), 0);

#define EVAL(svn_qe) ci_tdx_tcb_evaluate(t, q, sgx, 13, tee, zero48, attr8, mrsigner, 2, \
	    (svn_qe), 0, qattr, &ev, &e)
	/* Module TDX_01 SVN 6: UpToDate everywhere. */
	assert_int_equal(EVAL(4), 0);
	assert_int_equal(ev.status, CI_TCB_UP_TO_DATE);
	assert_string_equal(ev.module->id, "TDX_01");
	assert_int_equal(ev.tcb_date, t_time("2023-02-15T00:00:00Z"));	/* QE level is oldest */
	/* Module SVN 4: the module level is OutOfDate, so is the TD. */
	tee[0] = 4;
	assert_int_equal(EVAL(4), 0);
	assert_int_equal(ev.status, CI_TCB_OUT_OF_DATE);
	assert_int_equal(ev.module_level->status, CI_TCB_OUT_OF_DATE);
	assert_int_equal(ev.platform->status, CI_TCB_UP_TO_DATE);
	/* Module SVN 1: below every module level. */
	tee[0] = 1;
	cinfer_err_clear(&e);
	assert_int_equal(EVAL(4), -1);
	assert_code(e, CINFER_E_STALE);
	/* Module version 2: no TDX_02 identity. */
	tee[0] = 6;
	tee[1] = 2;
	cinfer_err_clear(&e);
	assert_int_equal(EVAL(4), -1);
	assert_code(e, CINFER_E_UNSUPPORTED);
	/* TDX_03, SVN 3: UpToDate; TEE_TCB_SVN[2] below the level's 3 after that: OutOfDate level. */
	tee[1] = 3;
	tee[0] = 3;
	assert_int_equal(EVAL(4), 0);
	assert_string_equal(ev.module->id, "TDX_03");
	assert_int_equal(ev.status, CI_TCB_UP_TO_DATE);
	tee[2] = 2;
	assert_int_equal(EVAL(4), 0);
	assert_int_equal(ev.status, CI_TCB_OUT_OF_DATE);
	assert_int_equal(ev.platform, &t->levels[1]);
	/* QE SVN below the QE identity's only level. */
	cinfer_err_clear(&e);
	assert_int_equal(EVAL(3), -1);
	assert_code(e, CINFER_E_STALE);
	assert_non_null(strstr(e.msg, "QE ISVSVN"));
	/* QE with the DEBUG attribute set (masked in): refused. */
	{
		uint8_t dbg[16] = { 0x13 };
		cinfer_err_clear(&e);
		assert_int_equal(ci_tdx_tcb_evaluate(t, q, sgx, 13, tee, zero48, attr8, mrsigner, 2, 4,
		    0, dbg, &ev, &e), -1);
		assert_code(e, CINFER_E_CRYPTO);
	}
#undef EVAL
	ci_intel_tcb_info_clear(t);
	ci_intel_qe_identity_clear(q);
	ci_free(t);
	ci_free(q);
	ci_free(tp);
	ci_free(qp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phala_v4_uptodate_full_collateral),
		cmocka_unit_test(test_phala_v4_default_signing_chain),
		cmocka_unit_test(test_gotdx_v5_uptodate),
		cmocka_unit_test(test_phala_v5_outdated_no_level),
		cmocka_unit_test(test_gotdx_spr_2023_no_level),
		cmocka_unit_test(test_oct2025_vectors),
		cmocka_unit_test(test_oct2025_no_level),
		cmocka_unit_test(test_gcp_claims),
		cmocka_unit_test(test_bit_flips),
		cmocka_unit_test(test_truncation_and_layout),
		cmocka_unit_test(test_wrong_collateral),
		cmocka_unit_test(test_broken_collateral_signature),
		cmocka_unit_test(test_alloc_failures),
		cmocka_unit_test(test_collateral_parsers),
		cmocka_unit_test(test_pck_extension),
		cmocka_unit_test(test_synthetic_chain),
		cmocka_unit_test(test_wrong_root),
		cmocka_unit_test(test_gcp_ccel_replay),
		cmocka_unit_test(test_envelope_roundtrip),
		cmocka_unit_test(test_tcb_evaluate_module_paths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
