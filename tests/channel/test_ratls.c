/* Attested certificates: what the client accepts and what it refuses. */
#include "testutil.h"

#include <openssl/x509v3.h>

#include "cinfer/attester.h"
#include "cinfer/channel.h"
#include "crypto/crypto.h"

static char *simdir;
static uint8_t meas[48];

static int
setup(void **state)
{
	struct cinfer_err e = { 0 };
	struct cinfer_sim_init_opts o = { .rsa_bits = 2048 };

	simdir = t_tmpdir();
	if (cinfer_sim_dev_init(simdir, &o, &e) != 0)
		fail_msg("dev init: %s", e.msg);
	memset(meas, 0x42, sizeof(meas));
	return 0;
}

static int
teardown(void **state)
{
	t_rmrf(simdir);
	return 0;
}

static struct cinfer_policy *
policy(const uint8_t *m)
{
	char doc[1024], hex[97];
	struct cinfer_policy *p = NULL;
	struct cinfer_err e = { 0 };

	ci_hex_encode(m, 48, hex);
	snprintf(doc, sizeof(doc), "{\"cinfer_policy\": 1, \"id\": \"c\", \"platforms\": "
	    "{\"any_of\": [\"sim\"]}, \"allow_simulated\": true, \"measurements\": [\"%s\"]}", hex);
	if (cinfer_policy_parse(doc, strlen(doc), &p, &e) != 0)
		fail_msg("policy: %s", e.msg);
	return p;
}

/* A certificate for tls, whose evidence binds bind_tls and bind_rk. */
static X509 *
make_cert(EVP_PKEY *tls, EVP_PKEY *rk, EVP_PKEY *bind_tls, EVP_PKEY *bind_rk, int debug)
{
	struct cinfer_err e = { 0 };
	struct cinfer_evidence ev;
	struct cinfer_sim_attest_opts o = { .measurement = meas, .debug = debug };
	uint8_t rd[64];
	EVP_PKEY *keys[] = { bind_tls, bind_rk, NULL };
	X509 *x;

	assert_int_equal(cinfer_bind_report_data(CINFER_BIND_TLS, NULL, 0, keys, rd, &e), 0);
	if (cinfer_sim_attest(simdir, rd, &o, &ev, &e) != 0)
		fail_msg("attest: %s", e.msg);
	x = cinfer_ratls_cert_new(tls, rk, &ev, ci_time_now(), &e);
	if (x == NULL)
		fail_msg("cert: %s", e.msg);
	cinfer_evidence_clear(&ev);
	return x;
}

static void
test_accepts_bound_cert(void **state)
{
	EVP_PKEY *tls = ci_ec_keygen("P-256", NULL), *rk = ci_ec_keygen("P-256", NULL);
	struct cinfer_policy *p = policy(meas);
	struct cinfer_ratls_verifier v = { .policy = p, .opts.sim_dir = simdir };
	X509 *x = make_cert(tls, rk, tls, rk, 0);

	if (cinfer_ratls_verify_cert(x, &v) != 0)
		fail_msg("%s: %s", v.err.stage, v.err.msg);
	assert_true(v.accepted);
	assert_non_null(v.receipt_key);
	assert_int_equal(EVP_PKEY_eq(v.receipt_key, rk), 1);
	assert_int_equal(EVP_PKEY_eq(v.tls_key, tls), 1);
	assert_true(v.claims.simulated);
	cinfer_ratls_verifier_clear(&v);
	X509_free(x);
	cinfer_policy_free(p);
	EVP_PKEY_free(tls);
	EVP_PKEY_free(rk);
}

/* Evidence lifted from one server into another's certificate must fail. */
static void
test_refuses_evidence_for_other_key(void **state)
{
	EVP_PKEY *tls = ci_ec_keygen("P-256", NULL), *rk = ci_ec_keygen("P-256", NULL);
	EVP_PKEY *thief = ci_ec_keygen("P-256", NULL);
	struct cinfer_policy *p = policy(meas);
	struct cinfer_ratls_verifier v = { .policy = p, .opts.sim_dir = simdir };
	X509 *x = make_cert(thief, rk, tls, rk, 0);

	assert_int_equal(cinfer_ratls_verify_cert(x, &v), -1);
	assert_false(v.accepted);
	assert_code(v.err, CINFER_E_POLICY);
	assert_string_equal(v.decision.reasons[0].code, "report_data_mismatch");
	X509_free(x);
	/* Same with a swapped receipt key. */
	x = make_cert(tls, thief, tls, rk, 0);
	assert_int_equal(cinfer_ratls_verify_cert(x, &v), -1);
	assert_string_equal(v.decision.reasons[0].code, "report_data_mismatch");
	cinfer_ratls_verifier_clear(&v);
	X509_free(x);
	cinfer_policy_free(p);
	EVP_PKEY_free(tls);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(thief);
}

static void
test_refuses_policy_mismatch_and_debug(void **state)
{
	EVP_PKEY *tls = ci_ec_keygen("P-256", NULL), *rk = ci_ec_keygen("P-256", NULL);
	uint8_t other[48];
	struct cinfer_policy *p;
	struct cinfer_ratls_verifier v = { .opts.sim_dir = simdir };
	X509 *x = make_cert(tls, rk, tls, rk, 0);

	memset(other, 0x43, sizeof(other));
	p = policy(other);
	v.policy = p;
	assert_int_equal(cinfer_ratls_verify_cert(x, &v), -1);
	assert_string_equal(v.decision.reasons[0].code, "measurement_not_pinned");
	cinfer_policy_free(p);
	X509_free(x);

	p = policy(meas);
	v.policy = p;
	x = make_cert(tls, rk, tls, rk, 1);
	assert_int_equal(cinfer_ratls_verify_cert(x, &v), -1);
	assert_string_equal(v.decision.reasons[0].code, "debug_enabled");
	/* No policy at all: never accepted. */
	v.policy = NULL;
	assert_int_equal(cinfer_ratls_verify_cert(x, &v), -1);
	assert_code(v.err, CINFER_E_USAGE);
	cinfer_ratls_verifier_clear(&v);
	X509_free(x);
	cinfer_policy_free(p);
	EVP_PKEY_free(tls);
	EVP_PKEY_free(rk);
}

/* A certificate whose evidence extension was altered fails authenticity. */
static void
test_refuses_tampered_extension(void **state)
{
	EVP_PKEY *tls = ci_ec_keygen("P-256", NULL), *rk = ci_ec_keygen("P-256", NULL);
	struct cinfer_policy *p = policy(meas);
	struct cinfer_ratls_verifier v = { .policy = p, .opts.sim_dir = simdir };
	X509 *x = make_cert(tls, rk, tls, rk, 0);
	ASN1_OBJECT *obj = OBJ_txt2obj(CINFER_OID_CMW, 1);
	int idx = X509_get_ext_by_OBJ(x, obj, -1);
	ASN1_OCTET_STRING *d = X509_EXTENSION_get_data(X509_get_ext(x, idx));
	unsigned char *bytes = (unsigned char *)ASN1_STRING_get0_data(d);
	int n = ASN1_STRING_length(d);

	/* Flip a base64url character inside the evidence: JSON still parses. */
	assert_true(n > 500);
	bytes[n / 2] = bytes[n / 2] == 'A' ? 'B' : 'A';
	assert_int_equal(cinfer_ratls_verify_cert(x, &v), -1);
	assert_false(v.accepted);
	assert_true(v.err.code == CINFER_E_CRYPTO || v.err.code == CINFER_E_MALFORMED);
	ASN1_OBJECT_free(obj);
	X509_free(x);
	cinfer_policy_free(p);
	EVP_PKEY_free(tls);
	EVP_PKEY_free(rk);
}

static void
test_binding_separates_contexts(void **state)
{
	EVP_PKEY *k = ci_ec_keygen("P-256", NULL);
	EVP_PKEY *keys[] = { k, NULL };
	uint8_t a[64], b[64], c[64];
	const uint8_t nonce[16] = { 1 };

	assert_int_equal(cinfer_bind_report_data(CINFER_BIND_TLS, nonce, 16, keys, a, NULL), 0);
	assert_int_equal(cinfer_bind_report_data(CINFER_BIND_KBS, nonce, 16, keys, b, NULL), 0);
	assert_int_equal(cinfer_bind_report_data(CINFER_BIND_TLS, nonce, 15, keys, c, NULL), 0);
	assert_memory_not_equal(a, b, 64);
	assert_memory_not_equal(a, c, 64);
	EVP_PKEY_free(k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts_bound_cert),
		cmocka_unit_test(test_refuses_evidence_for_other_key),
		cmocka_unit_test(test_refuses_policy_mismatch_and_debug),
		cmocka_unit_test(test_refuses_tampered_extension),
		cmocka_unit_test(test_binding_separates_contexts),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
