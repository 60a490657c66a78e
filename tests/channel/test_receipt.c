/* Receipts: signed, bound to the evidence, checked offline. */
#include "testutil.h"

#include "cinfer/attester.h"
#include "cinfer/channel.h"
#include "cinfer/receipt.h"
#include "crypto/crypto.h"

static char *simdir;
static uint8_t meas[48];
static EVP_PKEY *tls, *rk;
static struct cinfer_evidence ev;	/* binds tls and rk */
static struct cinfer_verify_opts vo;

static int
setup(void **state)
{
	struct cinfer_err e = { 0 };
	struct cinfer_sim_init_opts o = { .rsa_bits = 2048 };
	struct cinfer_sim_attest_opts ao = { .measurement = meas };
	uint8_t rd[64];

	simdir = t_tmpdir();
	if (cinfer_sim_dev_init(simdir, &o, &e) != 0)
		fail_msg("dev init: %s", e.msg);
	memset(meas, 0x42, sizeof(meas));
	tls = ci_ec_keygen("P-256", NULL);
	rk = ci_ec_keygen("P-256", NULL);
	{
		EVP_PKEY *keys[] = { tls, rk, NULL };
		assert_int_equal(cinfer_bind_report_data(CINFER_BIND_TLS, NULL, 0, keys, rd, &e), 0);
	}
	assert_int_equal(cinfer_sim_attest(simdir, rd, &ao, &ev, &e), 0);
	vo.sim_dir = simdir;
	return 0;
}

static int
teardown(void **state)
{
	cinfer_evidence_clear(&ev);
	EVP_PKEY_free(tls);
	EVP_PKEY_free(rk);
	t_rmrf(simdir);
	return 0;
}

static void
fill(struct cinfer_receipt *r)
{
	memset(r, 0, sizeof(*r));
	strcpy(r->session, "00112233445566778899aabbccddeeff");
	r->iat = 1767225600;
	r->platform = CINFER_PLATFORM_SIM;
	r->simulated = 1;
	memcpy(r->measurement, meas, 48);
	r->measurement_size = 48;
	strcpy(r->model_name, "digits");
	memset(r->model_sha256, 0x01, 32);
	assert_int_equal(ci_pkey_spki_sha256(tls, r->tls_key_sha256, NULL), 0);
	memset(r->client_nonce, 0x07, 32);
	cinfer_receipt_commit(0, r->client_nonce, "in", 2, r->input_commitment);
	cinfer_receipt_commit(1, r->client_nonce, "out", 3, r->output_commitment);
}

static struct cinfer_policy *
policy(uint8_t byte)
{
	char doc[1024], hex[97];
	uint8_t m[48];
	struct cinfer_policy *p = NULL;

	memset(m, byte, 48);
	ci_hex_encode(m, 48, hex);
	snprintf(doc, sizeof(doc), "{\"cinfer_policy\": 1, \"id\": \"r\", \"platforms\": "
	    "{\"any_of\": [\"sim\"]}, \"allow_simulated\": true, \"measurements\": [\"%s\"]}", hex);
	assert_int_equal(cinfer_policy_parse(doc, strlen(doc), &p, NULL), 0);
	return p;
}

static void
test_round_trip(void **state)
{
	struct cinfer_receipt r, back;
	struct cinfer_decision d;
	struct cinfer_err e = { 0 };
	struct cinfer_policy *p = policy(0x42);
	char *jws;

	fill(&r);
	jws = cinfer_receipt_sign(rk, &r, &e);
	assert_non_null(jws);
	if (cinfer_receipt_verify(jws, strlen(jws), &ev, p, &vo, &back, &d, &e) != 0)
		fail_msg("%s: %s", e.stage, e.msg);
	assert_true(d.accepted);
	assert_string_equal(back.model_name, "digits");
	assert_memory_equal(back.input_commitment, r.input_commitment, 32);
	assert_memory_equal(back.output_commitment, r.output_commitment, 32);
	assert_int_equal(back.iat, r.iat);
	free(jws);
	cinfer_policy_free(p);
}

static void
test_tampering(void **state)
{
	struct cinfer_receipt r, back;
	struct cinfer_decision d;
	struct cinfer_err e = { 0 };
	char *jws, *dot;

	fill(&r);
	jws = cinfer_receipt_sign(rk, &r, &e);
	/* A changed payload character breaks the signature. */
	dot = strchr(jws, '.');
	dot[5] = dot[5] == 'A' ? 'B' : 'A';
	assert_int_equal(cinfer_receipt_verify(jws, strlen(jws), &ev, NULL, &vo, &back, &d, &e), -1);
	assert_true(e.code == CINFER_E_CRYPTO || e.code == CINFER_E_MALFORMED);
	free(jws);

	/* Signed by a key the evidence does not bind. */
	cinfer_err_clear(&e);
	{
		EVP_PKEY *other = ci_ec_keygen("P-256", NULL);
		jws = cinfer_receipt_sign(other, &r, &e);
		assert_int_equal(cinfer_receipt_verify(jws, strlen(jws), &ev, NULL, &vo, &back, &d, &e), -1);
		assert_code(e, CINFER_E_CRYPTO);
		assert_string_equal(e.stage, "receipt.binding");
		free(jws);
		EVP_PKEY_free(other);
	}

	/* A measurement claim that is not the evidence's. */
	cinfer_err_clear(&e);
	r.measurement[0] ^= 1;
	jws = cinfer_receipt_sign(rk, &r, &e);
	assert_int_equal(cinfer_receipt_verify(jws, strlen(jws), &ev, NULL, &vo, &back, &d, &e), -1);
	assert_string_equal(e.stage, "receipt.claims");
	free(jws);

	/* Garbage and oversize inputs get clear errors. */
	cinfer_err_clear(&e);
	assert_int_equal(cinfer_receipt_verify("a.b", 3, &ev, NULL, &vo, &back, &d, &e), -1);
	assert_code(e, CINFER_E_MALFORMED);
}

static void
test_policy_rejects_signer(void **state)
{
	struct cinfer_receipt r, back;
	struct cinfer_decision d;
	struct cinfer_err e = { 0 };
	struct cinfer_policy *p = policy(0x99);
	char *jws;

	fill(&r);
	jws = cinfer_receipt_sign(rk, &r, &e);
	assert_int_equal(cinfer_receipt_verify(jws, strlen(jws), &ev, p, &vo, &back, &d, &e), -1);
	assert_code(e, CINFER_E_POLICY);
	assert_string_equal(d.reasons[0].code, "measurement_not_pinned");
	free(jws);
	cinfer_policy_free(p);
}

static void
test_commitments_are_salted(void **state)
{
	uint8_t n1[32] = { 1 }, n2[32] = { 2 }, a[32], b[32], c[32];

	cinfer_receipt_commit(0, n1, "7", 1, a);
	cinfer_receipt_commit(0, n2, "7", 1, b);
	cinfer_receipt_commit(1, n1, "7", 1, c);
	assert_memory_not_equal(a, b, 32);
	assert_memory_not_equal(a, c, 32);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_tampering),
		cmocka_unit_test(test_policy_rejects_signer),
		cmocka_unit_test(test_commitments_are_salted),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
