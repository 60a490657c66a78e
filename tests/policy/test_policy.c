#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#include "testutil.h"

#include "cinfer/policy.h"

#define T0 1767225600	/* 2026-01-01T00:00:00Z */

static const char base_policy[] =
    "{\"cinfer_policy\": 1, \"id\": \"t\", \"revision\": 4,\n"
    " \"platforms\": {\"any_of\": [\"sim\", \"snp\"]},\n"
    " \"allow_simulated\": true,\n"
    " \"max_evidence_age_seconds\": 300,\n"
    " \"measurements\": [\n"
    "   {\"value\": \"%s\", \"not_before\": \"2025-12-01T00:00:00Z\", \"not_after\": \"2026-02-01T00:00:00Z\"},\n"
    "   {\"platform\": \"snp\", \"value\": \"%s\"}],\n"
    " \"revoked_measurements\": [{\"value\": \"%s\", \"comment\": \"CVE-0000\"}],\n"
    " \"min_tcb\": {\"sim\": {\"snp\": 8, \"microcode\": 100}, \"snp\": {\"snp\": 8}},\n"
    " \"signers\": [\"sim-vcek:\", \"vcek:\"],\n"
    " \"required_claims\": {\"sim.vmpl\": \"0\"}}";

static char good_hex[97], other_hex[97], revoked_hex[97];

static struct cinfer_policy *
make_policy(const char *doc)
{
	struct cinfer_policy *p = NULL;
	struct cinfer_err e = { 0 };
	char buf[4096];

	snprintf(buf, sizeof(buf), doc, good_hex, other_hex, revoked_hex);
	if (cinfer_policy_parse(buf, strlen(buf), &p, &e) != 0)
		fail_msg("parse: %s", e.msg);
	return p;
}

static void
good_claims(struct cinfer_claims *c)
{
	cinfer_claims_init(c, CINFER_PLATFORM_SIM);
	memset(c->measurement, 0x11, 48);
	c->measurement_size = 48;
	memset(c->report_data, 0x22, 64);
	c->report_data_size = 64;
	strcpy(c->signer, "sim-vcek:SIM-Milan");
	cinfer_claims_add_tcb(c, "snp", 8);
	cinfer_claims_add_tcb(c, "microcode", 115);
	cinfer_claims_add_detail(c, "vmpl", "0");
}

static int
has_reason(const struct cinfer_decision *d, const char *code, int ok)
{
	for (size_t i = 0; i < d->reason_count; i++)
		if (strcmp(d->reasons[i].code, code) == 0 && d->reasons[i].ok == ok)
			return 1;
	return 0;
}

static void
eval(const struct cinfer_policy *p, const struct cinfer_claims *c, int64_t at,
    struct cinfer_decision *d)
{
	uint8_t rd[64];
	struct cinfer_err e = { 0 };
	struct cinfer_policy_input in = { .claims = c, .claims_count = 1, .at = at,
		.expected_report_data = rd, .expected_report_data_size = 64,
		.nonce_issued_at = at - 10 };

	memset(rd, 0x22, sizeof(rd));
	assert_int_equal(cinfer_policy_eval(p, &in, d, &e), 0);
}

/* Only the named code is a failure: each rejection is triggered on its own. */
static void
expect_only(const struct cinfer_decision *d, const char *code)
{
	size_t fails = 0;

	assert_false(d->accepted);
	for (size_t i = 0; i < d->reason_count; i++)
		if (!d->reasons[i].ok) {
			fails++;
			if (strcmp(d->reasons[i].code, code) != 0)
				fail_msg("unexpected failure %s: %s", d->reasons[i].code, d->reasons[i].text);
		}
	assert_int_equal(fails, 1);
	/* Rejections come first. */
	assert_false(d->reasons[0].ok);
}

static int
setup(void **state)
{
	uint8_t v[48];

	memset(v, 0x11, 48);
	ci_hex_encode(v, 48, good_hex);
	memset(v, 0x33, 48);
	ci_hex_encode(v, 48, other_hex);
	memset(v, 0x44, 48);
	ci_hex_encode(v, 48, revoked_hex);
	return 0;
}

static void
test_accepts(void **state)
{
	struct cinfer_policy *p = make_policy(base_policy);
	struct cinfer_claims c;
	struct cinfer_decision d;

	good_claims(&c);
	eval(p, &c, T0, &d);
	for (size_t i = 0; i < d.reason_count; i++)
		if (!d.reasons[i].ok)
			fail_msg("%s: %s", d.reasons[i].code, d.reasons[i].text);
	assert_true(d.accepted);
	assert_true(has_reason(&d, "measurement_pinned", 1));
	assert_true(has_reason(&d, "simulated_allowed", 1));
	assert_true(has_reason(&d, "report_data_bound", 1));
	assert_string_equal(cinfer_policy_id(p), "t");
	assert_int_equal(cinfer_policy_revision(p), 4);
	cinfer_policy_free(p);
}

static void
test_each_rejection_alone(void **state)
{
	struct cinfer_policy *p = make_policy(base_policy);
	struct cinfer_claims c;
	struct cinfer_decision d;

	good_claims(&c);
	memset(c.measurement, 0x55, 48);
	eval(p, &c, T0, &d);
	expect_only(&d, "measurement_not_pinned");

	good_claims(&c);
	eval(p, &c, T0 + 40 * 86400, &d);	/* after not_after */
	expect_only(&d, "measurement_expired");

	good_claims(&c);
	eval(p, &c, T0 - 40 * 86400, &d);	/* before not_before */
	expect_only(&d, "measurement_not_yet_valid");

	good_claims(&c);
	c.debug = 1;
	eval(p, &c, T0, &d);
	expect_only(&d, "debug_enabled");

	good_claims(&c);
	c.tcb[1].value = 99;
	eval(p, &c, T0, &d);
	expect_only(&d, "tcb_below_minimum");

	good_claims(&c);
	strcpy(c.signer, "someone-else");
	eval(p, &c, T0, &d);
	expect_only(&d, "signer_not_allowed");

	good_claims(&c);
	c.produced_at = T0 - 3600;	/* stale */
	eval(p, &c, T0, &d);
	expect_only(&d, "evidence_too_old");

	good_claims(&c);
	c.report_data[63] ^= 1;
	eval(p, &c, T0, &d);
	expect_only(&d, "report_data_mismatch");

	good_claims(&c);
	strcpy(c.details[0].value, "1");
	eval(p, &c, T0, &d);
	expect_only(&d, "claim_mismatch");

	good_claims(&c);
	c.platform = CINFER_PLATFORM_TDX;
	c.simulated = 0;
	eval(p, &c, T0, &d);
	assert_false(d.accepted);
	assert_true(has_reason(&d, "platform_not_allowed", 0));
	cinfer_policy_free(p);
}

static void
test_revoked_wins_over_pin(void **state)
{
	static const char doc[] =
	    "{\"cinfer_policy\": 1, \"id\": \"r\", \"platforms\": {\"any_of\": [\"sim\"]},"
	    " \"allow_simulated\": true, \"require_report_data_binding\": false,"
	    " \"measurements\": [\"%s\"], \"revoked_measurements\": [\"%s\", \"%s\"]}";
	struct cinfer_policy *p;
	struct cinfer_claims c;
	struct cinfer_decision d;
	struct cinfer_err e = { 0 };
	char buf[1024];

	snprintf(buf, sizeof(buf), doc, good_hex, good_hex, other_hex);
	assert_int_equal(cinfer_policy_parse(buf, strlen(buf), &p, &e), 0);
	good_claims(&c);
	{
		struct cinfer_policy_input in = { .claims = &c, .claims_count = 1, .at = T0 };
		assert_int_equal(cinfer_policy_eval(p, &in, &d, &e), 0);
	}
	expect_only(&d, "measurement_revoked");
	cinfer_policy_free(p);
}

static void
test_simulated_needs_opt_in(void **state)
{
	static const char doc[] =
	    "{\"cinfer_policy\": 1, \"id\": \"s\", \"platforms\": {\"any_of\": [\"sim\"]},"
	    " \"measurements\": [\"%s\"]}";
	struct cinfer_policy *p;
	struct cinfer_claims c;
	struct cinfer_decision d;
	struct cinfer_err e = { 0 };
	char buf[1024];
	uint8_t rd[64];

	snprintf(buf, sizeof(buf), doc, good_hex);
	assert_int_equal(cinfer_policy_parse(buf, strlen(buf), &p, &e), 0);
	good_claims(&c);
	memset(rd, 0x22, 64);
	{
		struct cinfer_policy_input in = { .claims = &c, .claims_count = 1, .at = T0,
			.expected_report_data = rd, .expected_report_data_size = 64 };
		assert_int_equal(cinfer_policy_eval(p, &in, &d, &e), 0);
	}
	expect_only(&d, "simulated_not_allowed");
	/* Binding required by default: without an expected value, reject. */
	{
		struct cinfer_policy_input in = { .claims = &c, .claims_count = 1, .at = T0 };
		assert_int_equal(cinfer_policy_eval(p, &in, &d, &e), 0);
	}
	assert_true(has_reason(&d, "report_data_unchecked", 0));
	cinfer_policy_free(p);
}

static void
test_all_of(void **state)
{
	static const char doc[] =
	    "{\"cinfer_policy\": 1, \"id\": \"dual\", \"platforms\": {\"all_of\": [\"sim\", \"snp\"]},"
	    " \"allow_simulated\": true, \"require_report_data_binding\": false,"
	    " \"measurements\": [{\"platform\": \"sim\", \"value\": \"%s\"},"
	    "   {\"platform\": \"snp\", \"value\": \"%s\"}]}";
	struct cinfer_policy *p;
	struct cinfer_claims c[2];
	struct cinfer_decision d;
	struct cinfer_err e = { 0 };
	char buf[1024];

	snprintf(buf, sizeof(buf), doc, good_hex, other_hex);
	assert_int_equal(cinfer_policy_parse(buf, strlen(buf), &p, &e), 0);
	good_claims(&c[0]);
	good_claims(&c[1]);
	c[1].platform = CINFER_PLATFORM_SNP;
	c[1].simulated = 0;
	memset(c[1].measurement, 0x33, 48);
	{
		struct cinfer_policy_input in = { .claims = c, .claims_count = 2, .at = T0 };
		assert_int_equal(cinfer_policy_eval(p, &in, &d, &e), 0);
		assert_true(d.accepted);
		/* One alone is not enough. */
		in.claims_count = 1;
		assert_int_equal(cinfer_policy_eval(p, &in, &d, &e), 0);
		expect_only(&d, "platform_missing");
		/* Both must bind the same report_data. */
		in.claims_count = 2;
		c[1].report_data[0] ^= 1;
		assert_int_equal(cinfer_policy_eval(p, &in, &d, &e), 0);
		expect_only(&d, "report_data_differs");
	}
	cinfer_policy_free(p);
}

static void
test_tdx_status_and_grace(void **state)
{
	static const char doc[] =
	    "{\"cinfer_policy\": 1, \"id\": \"tdx\", \"platforms\": {\"any_of\": [\"tdx\"]},"
	    " \"require_report_data_binding\": false, \"measurements\": [\"%s\"],"
	    " \"tdx\": {\"allowed_tcb_status\": [\"UpToDate\", \"SWHardeningNeeded\"],"
	    "  \"out_of_date_grace_days\": 30}}";
	struct cinfer_policy *p;
	struct cinfer_claims c;
	struct cinfer_decision d;
	struct cinfer_err e = { 0 };
	char buf[1024];
	struct cinfer_policy_input in = { .claims = &c, .claims_count = 1, .at = T0 };

	snprintf(buf, sizeof(buf), doc, good_hex);
	assert_int_equal(cinfer_policy_parse(buf, strlen(buf), &p, &e), 0);
	cinfer_claims_init(&c, CINFER_PLATFORM_TDX);
	memset(c.measurement, 0x11, 48);
	c.measurement_size = 48;
	strcpy(c.tcb_status, "SWHardeningNeeded");
	assert_int_equal(cinfer_policy_eval(p, &in, &d, &e), 0);
	assert_true(d.accepted);
	strcpy(c.tcb_status, "OutOfDate");
	c.tcb_date = T0 - 10 * 86400;
	assert_int_equal(cinfer_policy_eval(p, &in, &d, &e), 0);
	assert_true(d.accepted);
	assert_true(has_reason(&d, "tcb_out_of_date_in_grace", 1));
	c.tcb_date = T0 - 40 * 86400;
	assert_int_equal(cinfer_policy_eval(p, &in, &d, &e), 0);
	expect_only(&d, "tcb_status_not_allowed");
	strcpy(c.tcb_status, "Revoked");
	assert_int_equal(cinfer_policy_eval(p, &in, &d, &e), 0);
	expect_only(&d, "tcb_status_not_allowed");
	cinfer_policy_free(p);
}

static void
test_parse_errors(void **state)
{
	static const struct {
		const char *doc;
		const char *want;
	} bad[] = {
		{ "{\"cinfer_policy\": 1, \"id\": \"x\", \"platforms\": {\"any_of\": [\"sim\"]}, \"colour\": 1}",
		  "unknown field \"colour\"" },
		{ "{\"cinfer_policy\": 2, \"id\": \"x\", \"platforms\": {\"any_of\": [\"sim\"]}}",
		  "version 2" },
		{ "{\"cinfer_policy\": 1, \"id\": \"x\", \"platforms\": {\"any_of\": [\"sgx\"]}}",
		  "unknown platform" },
		{ "{\"cinfer_policy\": 1, \"id\": \"x\", \"platforms\": {\"all_of\": [\"snp\"]}}",
		  "two or more" },
		{ "{\"cinfer_policy\": 1, \"id\": \"x\", \"platforms\": {\"any_of\": [\"snp\"]},"
		  " \"measurements\": [{\"value\": \"zz\"}]}", "hex" },
		{ "{\"cinfer_policy\": 1, \"id\": \"x\", \"platforms\": {\"any_of\": [\"snp\"]},"
		  " \"measurements\": [{\"value\": \"00\", \"not_before\": \"2026-01-02T00:00:00Z\","
		  " \"not_after\": \"2026-01-01T00:00:00Z\"}]}", "not after" },
		{ "{\"cinfer_policy\": 1, \"id\": \"x\", \"platforms\": {\"any_of\": [\"tdx\"]},"
		  " \"tdx\": {\"allowed_tcb_status\": [\"Revoked\"]}}", "never be allowed" },
		{ "{\"cinfer_policy\": 1,\n \"id\": \"x\",,}", "line 2" },
		{ "[]", "JSON object" },
	};

	for (size_t i = 0; i < CI_ARRAY_LEN(bad); i++) {
		struct cinfer_policy *p = NULL;
		struct cinfer_err e = { 0 };
		assert_int_equal(cinfer_policy_parse(bad[i].doc, strlen(bad[i].doc), &p, &e), -1);
		assert_null(p);
		if (strstr(e.msg, bad[i].want) == NULL)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, e.msg, bad[i].want);
	}
	assert_int_equal(ci_alloc_live(), 0);
}

static void
test_alloc_failures(void **state)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), base_policy, good_hex, other_hex, revoked_hex);
	for (size_t n = 0;; n++) {
		struct cinfer_policy *p = NULL;
		struct cinfer_err e = { 0 };
		int rc;
		ci_alloc_fail_after(n);
		rc = cinfer_policy_parse(buf, strlen(buf), &p, &e);
		ci_alloc_fail_after(SIZE_MAX);
		if (rc == 0) {
			cinfer_policy_free(p);
			break;
		}
		assert_code(e, CINFER_E_NOMEM);
	}
	assert_int_equal(ci_alloc_live(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_each_rejection_alone),
		cmocka_unit_test(test_revoked_wins_over_pin),
		cmocka_unit_test(test_simulated_needs_opt_in),
		cmocka_unit_test(test_all_of),
		cmocka_unit_test(test_tdx_status_and_grace),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_alloc_failures),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
