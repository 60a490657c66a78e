/*
 * `cinfer seal` against real brokers, then unsealing as cinferd would:
 * one broker, and split trust across two brokers that each judge the
 * evidence with their own policy.
 */
#include <sys/stat.h>

#include "kbs/harness.h"

#include "cinfer/seal.h"
#include "cli/cmd_seal.c"	/* the subcommand itself, without the rest of the CLI */

static char *dir, *sim;
static struct t_kbs a, b;
static uint8_t m_good[48], m_other[48];
static char model[4200], toka[4300], tokb[4300];
static uint8_t *plain;
static const size_t plain_size = (3u << 20) + 12345;

static void
set_policy(struct t_kbs *k, const uint8_t *m)
{
	struct cinfer_kbs_client *c = t_client(k, 1);
	struct cinfer_err e = { 0 };
	char *p = t_policy("split", "sim", m, NULL);

	if (cinfer_kbs_admin_set_policy(c, p, strlen(p), &e) != 0)
		fail_msg("policy: %s", e.msg);
	ci_free(p);
	cinfer_kbs_client_free(c);
}

static int
setup(void **state)
{
	struct cinfer_err e = { 0 };
	struct cinfer_sim_init_opts so = { .rsa_bits = 2048 };
	const char *extra[] = { "--rate", "0", NULL };
	char path[4200];

	dir = t_tmpdir();
	snprintf(path, sizeof(path), "%s/sim", dir);
	sim = strdup(path);
	if (cinfer_sim_dev_init(sim, &so, &e) != 0)
		fail_msg("dev init: %s", e.msg);
	memset(m_good, 0x61, 48);
	memset(m_other, 0x62, 48);
	snprintf(path, sizeof(path), "%s/a", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	t_kbs_start(&a, path, sim, extra);
	snprintf(toka, sizeof(toka), "%s/admin-token", path);
	snprintf(path, sizeof(path), "%s/b", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	t_kbs_start(&b, path, sim, extra);
	snprintf(tokb, sizeof(tokb), "%s/admin-token", path);
	set_policy(&a, m_good);
	set_policy(&b, m_good);
	plain = malloc(plain_size);
	assert_int_equal(ci_random(plain, plain_size, &e), 0);
	snprintf(model, sizeof(model), "%s/digits.onnx", dir);
	assert_int_equal(ci_file_write(model, plain, plain_size, 0644, &e), 0);
	return 0;
}

static int
teardown(void **state)
{
	t_kbs_stop_clean(&a);
	t_kbs_stop_clean(&b);
	free(plain);
	free(sim);
	t_rmrf(dir);
	return 0;
}

static void
unseal_with(const char *bundle, const uint8_t *meas, int expect_ok, const char *want_msg)
{
	struct cinfer_bundle_info info;
	struct cinfer_err e = { 0 };
	struct t_ev ev = { .sim = sim };
	const char *cas[2] = { a.ca, b.ca };
	uint8_t key[32];
	struct cinfer_unsealed u;

	memcpy(ev.meas, meas, 48);
	assert_int_equal(cinfer_bundle_read_header(bundle, &info, &e), 0);
	/* The header names the brokers in --kbs order; map each to its CA. */
	if (strcmp(info.brokers[0].url, b.url) == 0) {
		cas[0] = b.ca;
		cas[1] = a.ca;
	}
	if (!expect_ok) {
		assert_int_equal(cinfer_kbs_fetch_bundle_key(&info, cas, t_evidence, &ev, key, &e),
		    -1);
		assert_code(e, CINFER_E_POLICY);
		if (want_msg != NULL && strstr(e.msg, want_msg) == NULL)
			fail_msg("error lacks %s: %s", want_msg, e.msg);
		return;
	}
	if (cinfer_kbs_fetch_bundle_key(&info, cas, t_evidence, &ev, key, &e) != 0)
		fail_msg("fetch key: %s", e.msg);
	if (cinfer_unseal_file(bundle, key, &u, &e) != 0)
		fail_msg("unseal: %s", e.msg);
	assert_int_equal(u.size, plain_size);
	assert_memory_equal(u.data, plain, plain_size);
	cinfer_unsealed_free(&u);
	ci_wipe(key, sizeof(key));
}

static void
test_seal_one_broker(void **state)
{
	char out[4300];
	char *argv[] = { "seal", model, "--kbs", a.url, "--key-id", "digits-1",
		"--admin-token-file", toka, "--cacert", a.ca, "--out", out, "--quiet", NULL };
	struct cinfer_bundle_info info;
	struct cinfer_err e = { 0 };

	snprintf(out, sizeof(out), "%s/one.sealed", dir);
	assert_int_equal(ci_cmd_seal(13, argv), 0);
	assert_int_equal(cinfer_bundle_read_header(out, &info, &e), 0);
	assert_int_equal(info.broker_count, 1);
	assert_int_equal(info.threshold, 1);
	assert_string_equal(info.key_id, "digits-1");
	assert_int_equal(info.brokers[0].key_version, 1);
	unseal_with(out, m_good, 1, NULL);
	/* The one-call form cinferd uses. */
	{
		struct t_ev ev = { .sim = sim };
		struct cinfer_unsealed u;
		memcpy(ev.meas, m_good, 48);
		if (cinfer_kbs_unseal_bundle(out, a.ca, t_evidence, &ev, &u, &e) != 0)
			fail_msg("unseal bundle: %s", e.msg);
		assert_int_equal(u.size, plain_size);
		assert_memory_equal(u.data, plain, plain_size);
		cinfer_unsealed_free(&u);
		memcpy(ev.meas, m_other, 48);
		assert_int_equal(cinfer_kbs_unseal_bundle(out, a.ca, t_evidence, &ev, &u, &e), -1);
		assert_null(u.data);
	}
	/* Evidence with another measurement gets nothing. */
	unseal_with(out, m_other, 0, "measurement_not_pinned");
}

static void
test_seal_split_trust(void **state)
{
	char out[4300];
	char *argv[] = { "seal", model, "--kbs", a.url, "--kbs", b.url, "--key-id", "digits-2",
		"--admin-token-file", toka, "--admin-token-file", tokb, "--cacert", a.ca,
		"--cacert", b.ca, "--out", out, "--quiet", NULL };
	struct cinfer_bundle_info info;
	struct cinfer_err e = { 0 };
	long before;

	snprintf(out, sizeof(out), "%s/split.sealed", dir);
	assert_int_equal(ci_cmd_seal(19, argv), 0);
	assert_int_equal(cinfer_bundle_read_header(out, &info, &e), 0);
	assert_int_equal(info.broker_count, 2);
	assert_int_equal(info.threshold, 2);
	unseal_with(out, m_good, 1, NULL);
	/* Broker B changes its mind: B's own policy refuses, so the key is out of reach. */
	set_policy(&b, m_other);
	before = t_audit_last_seq(&b);
	unseal_with(out, m_good, 0, "broker 1");
	assert_true(t_audit_has(&b, before, "attest", "deny", "measurement_not_pinned"));
	/* One share alone does not open the bundle either. */
	{
		struct cinfer_kbs_client *c = t_client(&a, 0);
		struct t_ev ev = { .sim = sim };
		uint8_t share[64], key[32];
		size_t n;
		struct cinfer_unsealed u;
		memcpy(ev.meas, m_good, 48);
		assert_int_equal(cinfer_kbs_attest(c, t_evidence, &ev, NULL, &e), 0);
		assert_int_equal(cinfer_kbs_get_resource(c, "cinfer/model-key/digits-2", 0, share,
		    sizeof(share), &n, NULL, &e), 0);
		assert_int_equal(n, CINFER_SEAL_SHARE_SIZE);
		memcpy(key, share + 1, 32);
		assert_int_equal(cinfer_unseal_file(out, key, &u, &e), -1);
		assert_code(e, CINFER_E_CRYPTO);
		cinfer_kbs_client_free(c);
	}
	set_policy(&b, m_good);
}

static void
test_seal_usage_errors(void **state)
{
	char *no_token[] = { "seal", model, "--kbs", a.url, "--key-id", "x", NULL };
	char *bad_id[] = { "seal", model, "--kbs", a.url, "--key-id", "../x",
		"--admin-token-file", toka, NULL };
	char *bad_thr[] = { "seal", model, "--kbs", a.url, "--kbs", b.url, "--key-id", "x",
		"--threshold", "3", "--admin-token-file", toka, NULL };
	char *wrong_tok[] = { "seal", model, "--kbs", a.url, "--key-id", "x",
		"--admin-token-file", model, "--cacert", a.ca, "--quiet", NULL };

	assert_int_equal(ci_cmd_seal(6, no_token), 2);
	assert_int_equal(ci_cmd_seal(8, bad_id), 2);
	assert_int_equal(ci_cmd_seal(12, bad_thr), 2);
	/* A file that is not the token (here: the model itself is too big) is refused. */
	assert_true(ci_cmd_seal(11, wrong_tok) != 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seal_one_broker),
		cmocka_unit_test(test_seal_split_trust),
		cmocka_unit_test(test_seal_usage_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
