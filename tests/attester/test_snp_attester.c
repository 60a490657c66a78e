/*
 * SEV-SNP attester against fakes of configfs-tsm and /dev/sev-guest that
 * return stored real reports (fake_tee.h): what the guest asks the kernel
 * for, what comes back, and that the result verifies end to end.
 */
#include "testutil.h"

#include "fake_tee.h"

#include "attester/tsm.h"
#include "cinfer/attester_snp.h"
#include "evidence/snp.h"
#include "evidence/snp_certs.h"
#include "evidence/snp_report.h"

struct case_ {
	const char *report, *cert, *chain, *at;
	uint32_t vmpl;
	enum ci_snp_cert_kind kind;
};

static const struct case_ cases[] = {
	{ "snp/gcp_milan_v5_x25519_bound_report.bin", "snp/gcp_milan_x25519_vcek.pem",
	    "roots/amd_ask_ark_milan.pem", "2026-01-04T09:42:54Z", 1, CI_SNP_CERT_VCEK },
	{ "snp/trustee_milan_vlek_v3_report.bin", "snp/trustee_milan_vlek.der",
	    "roots/amd_ask_ark_milan_vlek.pem", "2025-01-09T22:14:21Z", 1, CI_SNP_CERT_VLEK },
	{ "snp/oak_gcp_genoa_v5_report.bin", "snp/oak_gcp_genoa_vcek.der",
	    "roots/amd_ask_ark_genoa.pem", "2025-09-06T17:21:41Z", 0, CI_SNP_CERT_VCEK },
};

struct loaded {
	uint8_t *report;
	size_t report_size;
	uint8_t *table;
	size_t table_size;
	uint8_t *leaf_der;
	size_t leaf_size;
};

static uint8_t *
to_der(const uint8_t *p, size_t size, size_t *out)
{
	struct cinfer_err e = { 0 };
	X509 *x = ci_x509_parse(p, size, &e);
	unsigned char *der = NULL;
	int n;
	uint8_t *r;

	assert_non_null(x);
	n = i2d_X509(x, &der);
	assert_true(n > 0);
	r = ci_memdup(der, (size_t)n);
	*out = (size_t)n;
	OPENSSL_free(der);
	X509_free(x);
	return r;
}

/* Loads a case; pad adds an unknown-GUID entry of that many bytes. */
static void
load(const struct case_ *c, struct loaded *l, size_t pad)
{
	struct cinfer_err e = { 0 };
	struct ci_snp_cert_entry in[4];
	size_t n = 0, csize, bsize;
	uint8_t *cert = t_read(t_vector(c->cert), &csize);
	uint8_t *bundle = t_read(t_vector(c->chain), &bsize);
	STACK_OF(X509) *sk = ci_x509_parse_bundle(bundle, bsize, &e);
	unsigned char *ask = NULL, *ark = NULL;
	int na, nk;
	uint8_t *padding = NULL;

	assert_non_null(sk);
	memset(l, 0, sizeof(*l));
	l->report = t_read(t_vector(c->report), &l->report_size);
	l->leaf_der = to_der(cert, csize, &l->leaf_size);
	na = i2d_X509(sk_X509_value(sk, 0), &ask);
	nk = i2d_X509(sk_X509_value(sk, 1), &ark);
	memset(in, 0, sizeof(in));
	in[n++] = (struct ci_snp_cert_entry){ .kind = c->kind, .data = l->leaf_der,
		.size = l->leaf_size };
	in[n++] = (struct ci_snp_cert_entry){ .kind = CI_SNP_CERT_ASK, .data = ask, .size = (size_t)na };
	in[n++] = (struct ci_snp_cert_entry){ .kind = CI_SNP_CERT_ARK, .data = ark, .size = (size_t)nk };
	if (pad > 0) {
		padding = calloc(1, pad);
		memset(in[n].guid, 0xee, 16);
		in[n].kind = CI_SNP_CERT_OTHER;
		in[n].data = padding;
		in[n++].size = pad;
	}
	if (ci_snp_cert_table_build(in, n, &l->table, &l->table_size, &e) != 0)
		fail_msg("%s", e.msg);
	free(padding);
	OPENSSL_free(ask);
	OPENSSL_free(ark);
	sk_X509_pop_free(sk, X509_free);
	ci_free(cert);
	ci_free(bundle);
}

static void
unload(struct loaded *l)
{
	ci_free(l->report);
	ci_free(l->table);
	ci_free(l->leaf_der);
}

static void
verify_end_to_end(const struct cinfer_evidence *ev, const char *at)
{
	struct cinfer_verify_opts o = { .roots_dir = t_src("data/roots") };
	struct cinfer_claims c;
	struct cinfer_err e = { 0 };
	int64_t t = 0;

	assert_int_equal(ci_time_parse(at, &t, &e), 0);
	cinfer_claims_init(&c, CINFER_PLATFORM_SNP);
	if (ci_snp_verify(ev, &o, t, &c, &e) != 0)
		fail_msg("verify: %s: %s", e.stage, e.msg);
	assert_memory_equal(c.report_data, ev->evidence + 0x50, 64);
}

static char *
fake_tsm_on(void)
{
	char *dir = t_tmpdir();

	memset(&g_tsm, 0, sizeof(g_tsm));
	snprintf(g_tsm.root, sizeof(g_tsm.root), "%s/report", dir);
	assert_int_equal(mkdir(g_tsm.root, 0700), 0);
	return dir;
}

static void
fake_tsm_off(char *dir)
{
	g_tsm.root[0] = '\0';
	t_rmrf(dir);
}

static void
test_tsm_reports(void **state)
{
	for (size_t i = 0; i < CI_ARRAY_LEN(cases); i++) {
		const struct case_ *c = &cases[i];
		struct loaded l;
		struct cinfer_evidence ev;
		struct cinfer_err e = { 0 };
		struct cinfer_snp_attest_opts o = { .backend = CINFER_SNP_BACKEND_TSM,
			.vmpl = c->vmpl };
		char *dir = fake_tsm_on();
		char want_pl[16];

		load(c, &l, 0);
		g_tsm.outblob = l.report;
		g_tsm.outblob_size = l.report_size;
		g_tsm.auxblob = l.table;
		g_tsm.auxblob_size = l.table_size;
		o.tsm_root = g_tsm.root;
		if (cinfer_snp_attest(l.report + 0x50, &o, &ev, &e) != 0)
			fail_msg("%s: %s", c->report, e.msg);
		/* What the guest told the kernel. */
		assert_int_equal(g_tsm.made, 1);
		assert_int_equal(g_tsm.removed, 1);
		assert_int_equal(g_tsm.inblob_size, 64);
		assert_memory_equal(g_tsm.inblob, l.report + 0x50, 64);
		snprintf(want_pl, sizeof(want_pl), "%u\n", c->vmpl);
		assert_string_equal(g_tsm.privlevel, want_pl);
		/* What it made of the answer. */
		assert_int_equal(ev.platform, CINFER_PLATFORM_SNP);
		assert_int_equal(ev.evidence_size, CI_SNP_REPORT_SIZE);
		assert_memory_equal(ev.evidence, l.report, CI_SNP_REPORT_SIZE);
		assert_int_equal(ev.cert_count, 2);
		assert_int_equal(ev.certs[0].size, l.leaf_size);
		assert_memory_equal(ev.certs[0].data, l.leaf_der, l.leaf_size);
		assert_int_equal(ev.collateral_count, 1);
		assert_string_equal(ev.collateral[0].name, "cert_table");
		assert_int_equal(ev.collateral[0].size, l.table_size);
		verify_end_to_end(&ev, c->at);
		cinfer_evidence_clear(&ev);
		unload(&l);
		fake_tsm_off(dir);
	}
}

static void
test_tsm_failures(void **state)
{
	struct loaded l;
	struct cinfer_evidence ev;
	struct cinfer_snp_attest_opts o = { .backend = CINFER_SNP_BACKEND_TSM, .vmpl = 1 };
	uint8_t other[64];
	char *dir = fake_tsm_on();

	load(&cases[0], &l, 0);
	g_tsm.outblob = l.report;
	g_tsm.outblob_size = l.report_size;
	o.tsm_root = g_tsm.root;

	/* A report for other report_data: refused. */
	{
		struct cinfer_err e = { 0 };
		memset(other, 0x42, sizeof(other));
		assert_int_equal(cinfer_snp_attest(other, &o, &ev, &e), -1);
		assert_code(e, CINFER_E_IO);
		assert_non_null(strstr(e.msg, "other data"));
		assert_memory_equal(g_tsm.inblob, other, 64);
	}
	/* Or at another VMPL. */
	{
		struct cinfer_err e = { 0 };
		struct cinfer_snp_attest_opts o2 = o;
		o2.vmpl = 0;
		assert_int_equal(cinfer_snp_attest(l.report + 0x50, &o2, &ev, &e), -1);
		assert_code(e, CINFER_E_IO);
	}
	/* No auxblob: a report without certificates. */
	{
		struct cinfer_err e = { 0 };
		assert_int_equal(cinfer_snp_attest(l.report + 0x50, &o, &ev, &e), 0);
		assert_int_equal(ev.cert_count, 0);
		assert_int_equal(ev.collateral_count, 0);
		cinfer_evidence_clear(&ev);
	}
	/* Another writer moved the entry's generation. */
	{
		struct cinfer_err e = { 0 };
		g_tsm.race = 1;
		assert_int_equal(cinfer_snp_attest(l.report + 0x50, &o, &ev, &e), -1);
		assert_code(e, CINFER_E_IO);
		assert_non_null(strstr(e.msg, "generation 1 -> 2"));
		g_tsm.race = 0;
	}
	/* A TDX provider behind configfs-tsm. */
	{
		struct cinfer_err e = { 0 };
		g_tsm.provider = "tdx_guest";
		assert_int_equal(cinfer_snp_attest(l.report + 0x50, &o, &ev, &e), -1);
		assert_code(e, CINFER_E_UNSUPPORTED);
		g_tsm.provider = NULL;
	}
	/* A certificate table that does not parse. */
	{
		struct cinfer_err e = { 0 };
		uint8_t junk[40];
		memset(junk, 0x11, sizeof(junk));
		g_tsm.auxblob = junk;
		g_tsm.auxblob_size = sizeof(junk);
		assert_int_equal(cinfer_snp_attest(l.report + 0x50, &o, &ev, &e), -1);
		assert_code(e, CINFER_E_MALFORMED);
		g_tsm.auxblob = NULL;
	}
	/* Every entry made was removed again. */
	assert_int_equal(g_tsm.made, g_tsm.removed);
	unload(&l);
	fake_tsm_off(dir);
}

/* The configfs-tsm API the TDX and CCA attesters share: no privlevel
 * written when not asked, the provider passed through, entries removed. */
static void
test_tsm_api(void **state)
{
	struct ci_tsm_report r;
	struct cinfer_err e = { 0 };
	size_t size;
	uint8_t *quote = t_read(t_vector("tdx/gotdx_v5_quote.dat"), &size);
	uint8_t in[64];
	char *dir = fake_tsm_on(), prov[32];

	g_tsm.outblob = quote;
	g_tsm.outblob_size = size;
	g_tsm.provider = "tdx_guest";
	memset(in, 0x5c, sizeof(in));
	assert_true(ci_tsm_available(g_tsm.root));
	assert_int_equal(ci_tsm_get_report(g_tsm.root, in, -1, &r, &e), 0);
	assert_string_equal(r.provider, "tdx_guest");
	assert_int_equal(r.outblob_size, size);
	assert_memory_equal(r.outblob, quote, size);
	assert_null(r.auxblob);
	assert_int_equal(g_tsm.inblob_size, 64);
	assert_memory_equal(g_tsm.inblob, in, 64);
	assert_string_equal(g_tsm.privlevel, "");
	ci_tsm_report_clear(&r);
	assert_int_equal(ci_tsm_provider(g_tsm.root, prov, sizeof(prov), &e), 0);
	assert_string_equal(prov, "tdx_guest");
	assert_int_equal(g_tsm.made, 2);
	assert_int_equal(g_tsm.removed, 2);
	/* Through $CINFER_TSM_ROOT too. */
	setenv("CINFER_TSM_ROOT", g_tsm.root, 1);
	assert_int_equal(ci_tsm_get_report(NULL, in, 2, &r, &e), 0);
	assert_string_equal(g_tsm.privlevel, "2\n");
	ci_tsm_report_clear(&r);
	unsetenv("CINFER_TSM_ROOT");
	ci_free(quote);
	fake_tsm_off(dir);
	assert_false(ci_tsm_available("/nonexistent/tsm/report"));
}

static char *
fake_sev_on(void)
{
	char *dir = t_tmpdir();
	struct cinfer_err e = { 0 };

	memset(&g_sev, 0, sizeof(g_sev));
	snprintf(g_sev.path, sizeof(g_sev.path), "%s/sev-guest", dir);
	assert_int_equal(ci_file_write(g_sev.path, "", 0, 0600, &e), 0);
	return dir;
}

static void
fake_sev_off(char *dir)
{
	g_sev.path[0] = '\0';
	t_rmrf(dir);
}

static void
test_ioctl_reports(void **state)
{
	for (size_t i = 0; i < CI_ARRAY_LEN(cases); i++) {
		const struct case_ *c = &cases[i];
		struct loaded l;
		struct cinfer_evidence ev;
		struct cinfer_err e = { 0 };
		struct cinfer_snp_attest_opts o = { .backend = CINFER_SNP_BACKEND_IOCTL,
			.vmpl = c->vmpl };
		char *dir = fake_sev_on();

		/* The first case's table outgrows the first 16 KiB buffer. */
		load(c, &l, i == 0 ? 20000 : 0);
		g_sev.report = l.report;
		g_sev.certs = l.table;
		g_sev.certs_size = l.table_size;
		o.sev_guest = g_sev.path;
		if (cinfer_snp_attest(l.report + 0x50, &o, &ev, &e) != 0)
			fail_msg("%s: %s", c->report, e.msg);
		assert_int_equal(g_sev.ext_calls, i == 0 ? 2 : 1);
		assert_int_equal(g_sev.short_buffer_calls, i == 0 ? 1 : 0);
		assert_memory_equal(g_sev.user_data, l.report + 0x50, 64);
		assert_int_equal(g_sev.vmpl, c->vmpl);
		assert_memory_equal(ev.evidence, l.report, CI_SNP_REPORT_SIZE);
		assert_int_equal(ev.cert_count, 2);
		assert_memory_equal(ev.certs[0].data, l.leaf_der, l.leaf_size);
		assert_string_equal(ev.collateral[0].name, "cert_table");
		assert_true(ev.collateral[0].size >= l.table_size);
		assert_int_equal(ev.collateral[0].size % 4096, 0);
		verify_end_to_end(&ev, c->at);
		cinfer_evidence_clear(&ev);
		unload(&l);
		fake_sev_off(dir);
	}
}

static void
test_ioctl_variants(void **state)
{
	struct loaded l;
	struct cinfer_evidence ev;
	struct cinfer_snp_attest_opts o = { .backend = CINFER_SNP_BACKEND_IOCTL };
	char *dir = fake_sev_on();

	load(&cases[2], &l, 0);
	g_sev.report = l.report;
	o.sev_guest = g_sev.path;
	/* Plain SNP_GET_REPORT. */
	{
		struct cinfer_err e = { 0 };
		o.no_certs = 1;
		assert_int_equal(cinfer_snp_attest(l.report + 0x50, &o, &ev, &e), 0);
		assert_int_equal(g_sev.report_calls, 1);
		assert_int_equal(g_sev.ext_calls, 0);
		assert_int_equal(ev.cert_count, 0);
		cinfer_evidence_clear(&ev);
		o.no_certs = 0;
	}
	/* Host without certificates: extended request, empty table. */
	{
		struct cinfer_err e = { 0 };
		assert_int_equal(cinfer_snp_attest(l.report + 0x50, &o, &ev, &e), 0);
		assert_int_equal(g_sev.ext_calls, 1);
		assert_int_equal(ev.cert_count, 0);
		assert_int_equal(ev.collateral_count, 0);
		cinfer_evidence_clear(&ev);
	}
	/* Firmware says no. */
	{
		struct cinfer_err e = { 0 };
		g_sev.fw_status = 0x16;
		assert_int_equal(cinfer_snp_attest(l.report + 0x50, &o, &ev, &e), -1);
		assert_code(e, CINFER_E_IO);
		assert_non_null(strstr(e.msg, "status 0x16"));
		g_sev.fw_status = 0;
	}
	/* A response claiming another size. */
	{
		struct cinfer_err e = { 0 };
		g_sev.report_size = 1000;
		assert_int_equal(cinfer_snp_attest(l.report + 0x50, &o, &ev, &e), -1);
		assert_code(e, CINFER_E_MALFORMED);
		g_sev.report_size = 0;
	}
	/* Bad VMPL is the caller's error; a missing device is an I/O one. */
	{
		struct cinfer_err e = { 0 };
		o.vmpl = 4;
		assert_int_equal(cinfer_snp_attest(l.report + 0x50, &o, &ev, &e), -1);
		assert_code(e, CINFER_E_USAGE);
		o.vmpl = 0;
	}
	{
		struct cinfer_err e = { 0 };
		struct cinfer_snp_attest_opts o2 = o;
		o2.sev_guest = "/nonexistent/sev-guest";
		assert_int_equal(cinfer_snp_attest(l.report + 0x50, &o2, &ev, &e), -1);
		assert_code(e, CINFER_E_IO);
	}
	unload(&l);
	fake_sev_off(dir);
}

static void
test_derived_key(void **state)
{
	struct loaded l;
	char *dir = fake_sev_on();
	uint8_t key[32], want[32];
	struct cinfer_err e = { 0 };
	struct cinfer_snp_key_opts o = { 0 };

	load(&cases[0], &l, 0);
	g_sev.report = l.report;
	o.sev_guest = g_sev.path;
	o.vmpl = 1;
	assert_int_equal(cinfer_snp_derived_key(&o, key, &e), 0);
	assert_int_equal(g_sev.key_calls, 1);
	assert_int_equal(g_sev.key_req.root_key_select, 0);
	assert_int_equal(g_sev.key_req.guest_field_select,
	    CINFER_SNP_KEY_MEASUREMENT | CINFER_SNP_KEY_GUEST_POLICY);
	assert_int_equal(g_sev.key_req.vmpl, 1);
	fake_derive(&g_sev.key_req, want);
	assert_memory_equal(key, want, 32);

	/* Bound to more fields and the VM root key: a different key. */
	o.use_vmrk = 1;
	o.field_select = CINFER_SNP_KEY_MEASUREMENT | CINFER_SNP_KEY_GUEST_SVN |
	    CINFER_SNP_KEY_TCB_VERSION;
	o.guest_svn = 7;
	o.tcb_version = 0xde1b000000000004ull;
	assert_int_equal(cinfer_snp_derived_key(&o, want, &e), 0);
	assert_int_equal(g_sev.key_req.root_key_select, 1);
	assert_int_equal(g_sev.key_req.guest_svn, 7);
	assert_true(g_sev.key_req.tcb_version == 0xde1b000000000004ull);
	assert_memory_not_equal(key, want, 32);

	/* Refusals leave no key behind. */
	g_sev.fw_status = 0x27;
	memset(key, 0xaa, sizeof(key));
	{
		struct cinfer_err e2 = { 0 };
		assert_int_equal(cinfer_snp_derived_key(&o, key, &e2), -1);
		assert_code(e2, CINFER_E_IO);
		assert_true(ci_is_zero(key, 32));
	}
	{
		struct cinfer_err e2 = { 0 };
		o.field_select = 1u << 7;
		assert_int_equal(cinfer_snp_derived_key(&o, key, &e2), -1);
		assert_code(e2, CINFER_E_USAGE);
	}
	unload(&l);
	fake_sev_off(dir);
}

static void
test_auto_backend(void **state)
{
	struct loaded l;
	struct cinfer_evidence ev;
	struct cinfer_err e = { 0 };
	struct cinfer_snp_attest_opts o = { .vmpl = 1 };
	char *tdir = fake_tsm_on(), *sdir = fake_sev_on();

	load(&cases[0], &l, 0);
	g_tsm.outblob = l.report;
	g_tsm.outblob_size = l.report_size;
	g_sev.report = l.report;
	o.tsm_root = g_tsm.root;
	o.sev_guest = g_sev.path;
	/* configfs-tsm is preferred when present... */
	assert_int_equal(cinfer_snp_attest(l.report + 0x50, &o, &ev, &e), 0);
	assert_int_equal(g_tsm.made, 1);
	assert_int_equal(g_sev.ext_calls, 0);
	cinfer_evidence_clear(&ev);
	/* ...and /dev/sev-guest otherwise. */
	o.tsm_root = "/nonexistent/tsm/report";
	assert_int_equal(cinfer_snp_attest(l.report + 0x50, &o, &ev, &e), 0);
	assert_int_equal(g_sev.ext_calls, 1);
	cinfer_evidence_clear(&ev);
	unload(&l);
	fake_tsm_off(tdir);
	fake_sev_off(sdir);
}

static void
test_detect(void **state)
{
	char *dev = t_tmpdir(), path[4200];
	char *tdir = fake_tsm_on();
	struct cinfer_err e = { 0 };
	struct cinfer_detect_opts o = { .dev_dir = dev, .tsm_root = "/nonexistent/tsm" };
	static const struct {
		const char *node;
		enum cinfer_platform p;
	} nodes[] = {
		{ "sev-guest", CINFER_PLATFORM_SNP },
		{ "tdx_guest", CINFER_PLATFORM_TDX },
		{ "nsm", CINFER_PLATFORM_NITRO },
	};

	assert_int_equal(cinfer_attester_detect(&o), CINFER_PLATFORM_NONE);
	for (size_t i = 0; i < CI_ARRAY_LEN(nodes); i++) {
		snprintf(path, sizeof(path), "%s/%s", dev, nodes[i].node);
		assert_int_equal(ci_file_write(path, "", 0, 0600, &e), 0);
		assert_int_equal(cinfer_attester_detect(&o), nodes[i].p);
		unlink(path);
	}
	/* Only configfs-tsm: its provider names the TEE. */
	o.tsm_root = g_tsm.root;
	g_tsm.provider = "sev_guest";
	assert_int_equal(cinfer_attester_detect(&o), CINFER_PLATFORM_SNP);
	g_tsm.provider = "arm_cca_guest";
	assert_int_equal(cinfer_attester_detect(&o), CINFER_PLATFORM_CCA);
	g_tsm.provider = "tdx_guest";
	assert_int_equal(cinfer_attester_detect(&o), CINFER_PLATFORM_TDX);
	g_tsm.provider = "something_new";
	assert_int_equal(cinfer_attester_detect(&o), CINFER_PLATFORM_NONE);
	assert_int_equal(g_tsm.made, g_tsm.removed);
	fake_tsm_off(tdir);
	t_rmrf(dev);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tsm_reports),
		cmocka_unit_test(test_tsm_failures),
		cmocka_unit_test(test_tsm_api),
		cmocka_unit_test(test_ioctl_reports),
		cmocka_unit_test(test_ioctl_variants),
		cmocka_unit_test(test_derived_key),
		cmocka_unit_test(test_auto_backend),
		cmocka_unit_test(test_detect),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
