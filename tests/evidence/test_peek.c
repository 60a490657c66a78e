/* The launch measurement read from evidence equals what verification claims. */
#include "testutil.h"

#include "cinfer/evidence.h"
#include "evidence/evidence_int.h"
#include "evidence/nitro.h"

static void
load(struct cinfer_evidence *ev, enum cinfer_platform p, const char *rel)
{
	size_t n = 0;

	cinfer_evidence_init(ev);
	ev->platform = p;
	ev->evidence = t_read(t_vector(rel), &n);
	ev->evidence_size = n;
}

static void
add_cert(struct cinfer_evidence *ev, const char *rel)
{
	size_t n = 0;
	uint8_t *b = t_read(t_vector(rel), &n);

	assert_int_equal(cinfer_evidence_add_cert(ev, b, n, NULL), 0);
	ci_free(b);
}

/* peek == claims.measurement of a successful verification. */
static void
same_as_verified(struct cinfer_evidence *ev, struct cinfer_verify_opts *o)
{
	struct cinfer_claims c;
	struct cinfer_err e = { 0 };
	uint8_t m[64];
	size_t n = 0;

	assert_int_equal(ci_evidence_peek_measurement(ev, m, sizeof(m), &n, &e), 0);
	if (cinfer_evidence_verify(ev, o, &c, &e) != 0)
		fail_msg("verify: %s: %s", e.stage, e.msg);
	assert_int_equal(n, c.measurement_size);
	assert_memory_equal(m, c.measurement, n);
}

static void
test_snp(void **state)
{
	struct cinfer_evidence ev;
	struct cinfer_verify_opts o = { .roots_dir = t_src("data/roots") };

	load(&ev, CINFER_PLATFORM_SNP, "snp/gcp_milan_v5_report.bin");
	add_cert(&ev, "snp/gcp_milan_vcek.pem");
	assert_int_equal(ci_time_parse("2026-01-04T06:04:27Z", &o.at, NULL), 0);
	same_as_verified(&ev, &o);
	cinfer_evidence_clear(&ev);
}

static void
test_nitro(void **state)
{
	struct cinfer_evidence ev;
	struct cinfer_verify_opts o = { .roots_dir = t_src("data/roots") };

	load(&ev, CINFER_PLATFORM_NITRO, "nitro/cape_2022-09-15_doc.cbor");
	assert_int_equal(ci_nitro_doc_time(ev.evidence, ev.evidence_size, &o.at, NULL), 0);
	same_as_verified(&ev, &o);
	cinfer_evidence_clear(&ev);
}

static void
test_cca(void **state)
{
	struct cinfer_evidence ev;
	size_t n = 0;
	uint8_t *iak = t_read(t_vector("cca/trustee_cpak_pub.json"), &n);
	struct cinfer_verify_opts o = { .cca_iak_pub = iak, .cca_iak_pub_size = n };

	load(&ev, CINFER_PLATFORM_CCA, "cca/trustee_cca_example_token.cbor");
	same_as_verified(&ev, &o);
	cinfer_evidence_clear(&ev);
	ci_free(iak);
}

static void
test_tdx_and_garbage(void **state)
{
	struct cinfer_evidence ev;
	struct cinfer_err e = { 0 };
	uint8_t m[64];
	char hex[129];
	size_t n = 0;

	/* MRTD of this quote, as MANIFEST.md gives it. */
	load(&ev, CINFER_PLATFORM_TDX, "tdx/trustee_v4_quote_50806f000000.dat");
	assert_int_equal(ci_evidence_peek_measurement(&ev, m, sizeof(m), &n, &e), 0);
	ci_hex_encode(m, n, hex);
	assert_string_equal(hex, "705ee9381b8633a9fbe532b52345e8433343d2868959f57889d84ca377c395b6"
	    "89cac1599ccea1b7d420483a9ce5f031");
	/* Truncated evidence is an error, never a read past the end. */
	ev.evidence_size = 100;
	assert_int_equal(ci_evidence_peek_measurement(&ev, m, sizeof(m), &n, &e), -1);
	assert_int_equal(n, 0);
	cinfer_evidence_clear(&ev);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snp),
		cmocka_unit_test(test_nitro),
		cmocka_unit_test(test_cca),
		cmocka_unit_test(test_tdx_and_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
