/*
 * cinfer-kbs durability: kill -9 during key rotations loses nothing, the
 * audit chain detects tampering, and per-client rate limits hold.
 */
#include <sqlite3.h>
#include <sys/stat.h>
#include <time.h>

#include "harness.h"

static char *dir, *sim;

static int
setup(void **state)
{
	struct cinfer_err e = { 0 };
	struct cinfer_sim_init_opts so = { .rsa_bits = 2048 };
	char path[4200];

	dir = t_tmpdir();
	snprintf(path, sizeof(path), "%s/sim", dir);
	sim = strdup(path);
	if (cinfer_sim_dev_init(sim, &so, &e) != 0)
		fail_msg("dev init: %s", e.msg);
	return 0;
}

static int
teardown(void **state)
{
	free(sim);
	t_rmrf(dir);
	return 0;
}

static int64_t
q_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *q;
	int64_t v = -1;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	if (sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

static int
audit_verify(const char *db, char *out, size_t cap)
{
	char cmd[8400];
	FILE *p;
	size_t n;
	int st;

	snprintf(cmd, sizeof(cmd), "'%s' audit verify --db '%s' 2>&1", t_bin("cinfer-kbs"), db);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, cap - 1, p);
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
test_kill9_during_rotation(void **state)
{
	const char *extra[] = { "--rate", "0", NULL };
	const char *path = "cinfer/model-key/crash";
	struct t_kbs k;
	struct cinfer_err e = { 0 };
	uint32_t acked = 0, v = 0;
	char out[512];
	unsigned seed = (unsigned)time(NULL);

	srand(seed);
	for (int round = 0; round < 6; round++) {
		struct cinfer_kbs_client *c;
		pid_t killer;
		sqlite3 *db;
		int64_t maxv, active, rotates, puts;

		t_kbs_start(&k, dir, sim, extra);
		c = t_client(&k, 1);
		if (round == 0) {
			assert_int_equal(cinfer_kbs_admin_put(c, path, "first-version-value-0123456789ab",
			    32, &v, &e), 0);
			acked = v;
		}
		killer = fork();
		assert_true(killer >= 0);
		if (killer == 0) {
			struct timespec ts = { 0, (long)(20 + rand() % 300) * 1000000L };
			nanosleep(&ts, NULL);
			kill(k.pid, SIGKILL);
			_exit(0);
		}
		/* Rotate as fast as possible until the broker dies under us. */
		for (int i = 0; i < 100000; i++) {
			cinfer_err_clear(&e);
			if (cinfer_kbs_admin_rotate(c, path, 3600, &v, &e) != 0)
				break;
			assert_int_equal(v, acked + 1);	/* nothing acknowledged was lost */
			acked = v;
		}
		waitpid(killer, NULL, 0);
		waitpid(k.pid, NULL, 0);
		k.pid = 0;
		cinfer_kbs_client_free(c);
		/* The store as it was left: consistent, and everything acknowledged is there. */
		assert_int_equal(sqlite3_open(k.db, &db), SQLITE_OK);
		assert_int_equal(q_int(db, "SELECT COUNT(*) FROM pragma_integrity_check "
		    "WHERE integrity_check = 'ok'"), 1);
		maxv = q_int(db, "SELECT MAX(version) FROM resources WHERE path = "
		    "'cinfer/model-key/crash'");
		active = q_int(db, "SELECT COUNT(*) FROM resources WHERE path = "
		    "'cinfer/model-key/crash' AND state = 'active'");
		rotates = q_int(db, "SELECT COUNT(*) FROM audit WHERE event = 'rotate'");
		puts = q_int(db, "SELECT COUNT(*) FROM audit WHERE event = 'put'");
		assert_true(maxv >= acked);
		assert_true(maxv <= acked + 1);	/* at most the one in flight */
		assert_int_equal(active, 1);
		assert_int_equal(q_int(db, "SELECT COUNT(*) FROM resources WHERE path = "
		    "'cinfer/model-key/crash'"), maxv);
		/* Each version and its audit record commit together. */
		assert_int_equal(rotates + puts, maxv);
		sqlite3_close(db);
		if (audit_verify(k.db, out, sizeof(out)) != 0)
			fail_msg("round %d: %s", round, out);
		acked = (uint32_t)maxv;
	}
	/* A restarted broker serves the latest version and a drained one. */
	{
		struct t_ev ev = { .sim = sim };
		struct cinfer_kbs_client *c;
		uint8_t buf[64];
		size_t n;
		uint32_t got = 0;
		char *pol;
		uint8_t m[48];

		memset(m, 0x44, 48);
		memcpy(ev.meas, m, 48);
		t_kbs_start(&k, dir, sim, extra);
		c = t_client(&k, 1);
		pol = t_policy("crash", "sim", m, NULL);
		assert_int_equal(cinfer_kbs_admin_set_policy(c, pol, strlen(pol), &e), 0);
		assert_int_equal(cinfer_kbs_attest(c, t_evidence, &ev, NULL, &e), 0);
		assert_int_equal(cinfer_kbs_get_resource(c, path, 0, buf, sizeof(buf), &n, &got, &e),
		    0);
		assert_int_equal(got, acked);
		assert_int_equal(cinfer_kbs_get_resource(c, path, 1, buf, sizeof(buf), &n, &got, &e),
		    0);
		assert_memory_equal(buf, "first-version-value-0123456789ab", 32);
		ci_free(pol);
		cinfer_kbs_client_free(c);
		t_kbs_stop_clean(&k);
	}
	print_message("kill -9 rounds done (seed %u), %u versions\n", seed, acked);
}

static void
test_audit_tamper_detected(void **state)
{
	char db2[4300], out[512], cmd[9000];
	sqlite3 *db;
	int64_t n;

	/* The store from the previous test has a long chain; tamper with copies. */
	snprintf(db2, sizeof(db2), "%s/tamper.db", dir);
	snprintf(cmd, sizeof(cmd), "cp '%s/kbs.db' '%s'", dir, db2);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(audit_verify(db2, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "OK"));
	assert_int_equal(sqlite3_open(db2, &db), SQLITE_OK);
	n = q_int(db, "SELECT COUNT(*) FROM audit");
	assert_true(n > 5);
	/* Rewrite a decision. */
	assert_int_equal(sqlite3_exec(db, "UPDATE audit SET detail = replace(detail, 'crash', "
	    "'other') WHERE seq = 3", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(audit_verify(db2, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "record 3 was altered"));
	/* Drop a record (after repairing the first edit by deleting it too). */
	assert_int_equal(sqlite3_exec(db, "DELETE FROM audit WHERE seq = 3", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(audit_verify(db2, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "record 3 missing"));
	/* Renumbering to hide the gap breaks the link instead. */
	assert_int_equal(sqlite3_exec(db, "UPDATE audit SET seq = seq - 1 WHERE seq > 3", NULL,
	    NULL, NULL), SQLITE_OK);
	assert_int_equal(audit_verify(db2, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "BROKEN"));
	/* Cutting off the newest records is invisible to the chain alone, but not to an
	 * anchor: the head hash copied elsewhere earlier. */
	sqlite3_close(db);
	snprintf(cmd, sizeof(cmd), "cp '%s/kbs.db' '%s'", dir, db2);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(audit_verify(db2, out, sizeof(out)), 0);
	{
		char *h = strstr(out, "head "), anchor[65], vcmd[9000];
		FILE *p;
		size_t k;
		int st;
		assert_non_null(h);
		memcpy(anchor, h + 5, 64);
		anchor[64] = '\0';
		assert_int_equal(sqlite3_open(db2, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, "DELETE FROM audit WHERE seq > 4", NULL, NULL,
		    NULL), SQLITE_OK);
		sqlite3_close(db);
		assert_int_equal(audit_verify(db2, out, sizeof(out)), 0);
		snprintf(vcmd, sizeof(vcmd), "'%s' audit verify --db '%s' --anchor %s 2>&1",
		    t_bin("cinfer-kbs"), db2, anchor);
		p = popen(vcmd, "r");
		k = fread(out, 1, sizeof(out) - 1, p);
		out[k] = '\0';
		st = pclose(p);
		assert_int_equal(WEXITSTATUS(st), 1);
		assert_non_null(strstr(out, "anchored record is not in the chain"));
	}
	/* Changing a timestamp. */
	snprintf(cmd, sizeof(cmd), "cp '%s/kbs.db' '%s'", dir, db2);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(sqlite3_open(db2, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE audit SET at = at + 1 WHERE seq = 2", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(audit_verify(db2, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "record 2"));
}

static void
test_rate_limit(void **state)
{
	const char *extra[] = { "--rate", "1", "--burst", "3", NULL };
	char d2[4300];
	struct t_kbs k;
	struct cinfer_kbs_client *c;
	struct cinfer_err e = { 0 };
	int limited = 0, ok = 0;
	time_t t0;

	snprintf(d2, sizeof(d2), "%s/rl", dir);
	assert_int_equal(mkdir(d2, 0700), 0);
	t_kbs_start(&k, d2, NULL, extra);
	c = t_client(&k, 0);
	t0 = time(NULL);
	for (int i = 0; i < 8; i++) {
		char *resp = NULL;
		long st = 0;
		assert_int_equal(cinfer_kbs_request(c, "GET", "/healthz", NULL, 0, 0, &st, &resp, &e),
		    0);
		if (st == 429) {
			limited++;
			assert_non_null(strstr(resp, "rate_limited"));
		} else if (st == 200) {
			ok++;
		}
		free(resp);
	}
	/* Burst 3, then one per second: however slow this machine is. */
	assert_true(ok >= 3);
	assert_true(ok <= 3 + (int)(time(NULL) - t0) + 1);
	assert_true(limited >= 8 - (3 + (int)(time(NULL) - t0) + 1));
	assert_true(limited >= 1 || time(NULL) - t0 >= 4);
	cinfer_kbs_client_free(c);
	t_kbs_stop_clean(&k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill9_during_rotation),
		cmocka_unit_test(test_audit_tamper_detected),
		cmocka_unit_test(test_rate_limit),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
