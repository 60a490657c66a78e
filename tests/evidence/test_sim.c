#include "testutil.h"

#include "cinfer/attester.h"
#include "cinfer/evidence.h"
#include "evidence/snp_report.h"

static char *simdir;

static int
setup(void **state)
{
	struct cinfer_err e = { 0 };
	struct cinfer_sim_init_opts o = { .rsa_bits = 2048 };

	simdir = t_tmpdir();
	if (cinfer_sim_dev_init(simdir, &o, &e) != 0)
		fail_msg("dev init: %s", e.msg);
	return 0;
}

static int
teardown(void **state)
{
	t_rmrf(simdir);
	return 0;
}

static void
attest(struct cinfer_evidence *ev, int debug)
{
	struct cinfer_err e = { 0 };
	uint8_t rd[64], meas[48];
	struct cinfer_sim_attest_opts o = { .measurement = meas, .debug = debug };

	memset(rd, 0x5a, sizeof(rd));
	memset(meas, 0x11, sizeof(meas));
	if (cinfer_sim_attest(simdir, rd, &o, ev, &e) != 0)
		fail_msg("attest: %s", e.msg);
}

static int
verify(const struct cinfer_evidence *ev, const char *dir, struct cinfer_claims *c,
    struct cinfer_err *e)
{
	struct cinfer_verify_opts o = { .sim_dir = dir };

	return cinfer_evidence_verify(ev, &o, c, e);
}

static void
test_accepts_and_claims(void **state)
{
	struct cinfer_evidence ev;
	struct cinfer_claims c;
	struct cinfer_err e = { 0 };
	uint8_t rd[64];

	attest(&ev, 0);
	assert_int_equal(ev.evidence_size, CI_SNP_REPORT_SIZE);
	if (verify(&ev, simdir, &c, &e) != 0)
		fail_msg("verify: %s: %s", e.stage, e.msg);
	assert_int_equal(c.platform, CINFER_PLATFORM_SIM);
	assert_true(c.simulated);
	assert_int_equal(c.measurement_size, 48);
	assert_int_equal(c.measurement[0], 0x11);
	memset(rd, 0x5a, sizeof(rd));
	assert_memory_equal(c.report_data, rd, 64);
	assert_false(c.debug);
	assert_string_equal(cinfer_claims_detail(&c, "vmpl"), "0");
	assert_string_equal(cinfer_claims_detail(&c, "version"), "3");
	cinfer_evidence_clear(&ev);
	attest(&ev, 1);
	assert_int_equal(verify(&ev, simdir, &c, &e), 0);
	assert_true(c.debug);
	cinfer_evidence_clear(&ev);
}

static void
test_envelope_round_trip(void **state)
{
	struct cinfer_evidence ev, back;
	struct cinfer_claims c;
	struct cinfer_err e = { 0 };
	char *js;

	attest(&ev, 0);
	js = cinfer_evidence_to_json(&ev, &e);
	assert_non_null(js);
	assert_int_equal(cinfer_evidence_parse_json(&back, js, strlen(js), &e), 0);
	assert_int_equal(back.evidence_size, ev.evidence_size);
	assert_memory_equal(back.evidence, ev.evidence, ev.evidence_size);
	assert_int_equal(back.cert_count, 2);
	assert_int_equal(verify(&back, simdir, &c, &e), 0);
	free(js);
	cinfer_evidence_clear(&ev);
	cinfer_evidence_clear(&back);
}

/* Every bit of the signed part is covered by the signature. */
static void
test_flipped_bits_rejected(void **state)
{
	struct cinfer_evidence ev;
	struct cinfer_claims c;
	const size_t offsets[] = { 0x08, 0x50, 0x90, 0xC0, 0x1A0, 0x29F, 0x2A0, 0x2A0 + 72 };

	attest(&ev, 0);
	for (size_t i = 0; i < CI_ARRAY_LEN(offsets); i++) {
		struct cinfer_err e = { 0 };
		ev.evidence[offsets[i]] ^= 0x01;
		assert_int_equal(verify(&ev, simdir, &c, &e), -1);
		ev.evidence[offsets[i]] ^= 0x01;
		/* The chip-id flip is caught by the signature before the hwID check. */
		if (e.code != CINFER_E_CRYPTO && e.code != CINFER_E_MALFORMED)
			fail_msg("offset %#zx: %s", offsets[i], e.msg);
	}
	cinfer_evidence_clear(&ev);
}

static void
test_wrong_root_rejected(void **state)
{
	struct cinfer_evidence ev;
	struct cinfer_claims c;
	struct cinfer_err e = { 0 };
	struct cinfer_sim_init_opts o = { .rsa_bits = 2048 };
	char *other = t_tmpdir();

	assert_int_equal(cinfer_sim_dev_init(other, &o, &e), 0);
	attest(&ev, 0);
	assert_int_equal(verify(&ev, other, &c, &e), -1);
	assert_code(e, CINFER_E_CRYPTO);
	assert_string_equal(e.stage, "evidence.sim.chain");
	cinfer_evidence_clear(&ev);
	t_rmrf(other);
}

static void
test_expired_chain_is_stale(void **state)
{
	struct cinfer_evidence ev;
	struct cinfer_claims c;
	struct cinfer_err e = { 0 };
	struct cinfer_verify_opts o = { .sim_dir = simdir, .at = ci_time_now() + 8 * 366 * 86400LL };

	attest(&ev, 0);
	assert_int_equal(cinfer_evidence_verify(&ev, &o, &c, &e), -1);
	assert_code(e, CINFER_E_STALE);
	cinfer_evidence_clear(&ev);
}

static void
test_truncated_is_malformed(void **state)
{
	struct cinfer_evidence ev;
	struct cinfer_claims c;

	attest(&ev, 0);
	for (size_t n = 0; n < ev.evidence_size; n += 97) {
		struct cinfer_err e = { 0 };
		size_t keep = ev.evidence_size;
		ev.evidence_size = n;
		assert_int_equal(verify(&ev, simdir, &c, &e), -1);
		ev.evidence_size = keep;
		assert_code(e, CINFER_E_MALFORMED);
	}
	cinfer_evidence_clear(&ev);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts_and_claims),
		cmocka_unit_test(test_envelope_round_trip),
		cmocka_unit_test(test_flipped_bits_rejected),
		cmocka_unit_test(test_wrong_root_rejected),
		cmocka_unit_test(test_expired_chain_is_stale),
		cmocka_unit_test(test_truncated_is_malformed),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
