/*
 * CCA attester against a fake configfs-tsm tree. On real configfs, mkdir
 * of a report entry makes the kernel create inblob, outblob, generation
 * and provider inside it; a plain directory does not. This test binary
 * therefore defines mkdir() and rmdir() (they take precedence over libc's
 * for the whole program, libcinfer's tsm.c included): under the fake root
 * they create and remove those attribute files, with outblob = a stored
 * real CCA token. Everything else goes to the real system calls.
 */
#include "testutil.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cinfer/attester_nitro.h"
#include "evidence/cca.h"

static char fake_root[4096];
static const uint8_t *fake_outblob;
static size_t fake_outblob_size;
static const char *fake_provider = "arm_cca_guest\n";
static uint8_t last_inblob[64];
static size_t last_inblob_size;
static int entries_made, entries_removed;

static int
under_root(const char *path)
{
	size_t n = strlen(fake_root);

	return n > 0 && strncmp(path, fake_root, n) == 0 && path[n] == '/';
}

static void
put_file(const char *dir, const char *name, const void *p, size_t size)
{
	char path[4300];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, size), (ssize_t)size);
	close(fd);
}

int
mkdir(const char *path, mode_t mode)
{
	int rc = mkdirat(AT_FDCWD, path, mode);

	if (rc == 0 && under_root(path)) {
		put_file(path, "inblob", "", 0);
		put_file(path, "outblob", fake_outblob, fake_outblob_size);
		put_file(path, "generation", "1\n", 2);
		put_file(path, "provider", fake_provider, strlen(fake_provider));
		entries_made++;
	}
	return rc;
}

int
rmdir(const char *path)
{
	if (under_root(path)) {
		static const char *const names[] = { "inblob", "outblob", "generation", "provider" };
		char p[4300];
		int fd;
		snprintf(p, sizeof(p), "%s/inblob", path);
		fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			ssize_t n = read(fd, last_inblob, sizeof(last_inblob));
			last_inblob_size = n > 0 ? (size_t)n : 0;
			close(fd);
		}
		for (size_t i = 0; i < CI_ARRAY_LEN(names); i++) {
			snprintf(p, sizeof(p), "%s/%s", path, names[i]);
			unlink(p);
		}
		entries_removed++;
	}
	return unlinkat(AT_FDCWD, path, AT_REMOVEDIR);
}

static char *tmp;
static uint8_t *token, *cpak;
static size_t token_size, cpak_size;
static uint8_t challenge[64];

static int
setup(void **state)
{
	struct ci_cca_token t;
	struct cinfer_err e = { 0 };

	(void)state;
	tmp = t_tmpdir();
	snprintf(fake_root, sizeof(fake_root), "%s/report", tmp);
	assert_int_equal(mkdirat(AT_FDCWD, fake_root, 0700), 0);
	token = t_read(t_vector("cca/trustee_cca_example_token.cbor"), &token_size);
	cpak = t_read(t_vector("cca/trustee_cpak_pub.json"), &cpak_size);
	assert_int_equal(ci_cca_token_parse(&t, token, token_size, &e), 0);
	memcpy(challenge, t.realm.challenge.p, 64);
	ci_cca_token_clear(&t);
	fake_outblob = token;
	fake_outblob_size = token_size;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	fake_root[0] = '\0';
	ci_free(token);
	ci_free(cpak);
	t_rmrf(tmp);
	return 0;
}

static void
test_attest_and_verify(void **state)
{
	struct cinfer_evidence ev;
	struct cinfer_claims c;
	struct cinfer_verify_opts o = { 0 };
	struct cinfer_err e = { 0 };
	int made = entries_made;

	(void)state;
	if (cinfer_cca_attest(fake_root, challenge, &ev, &e) != 0)
		fail_msg("%s: %s", e.stage, e.msg);
	assert_int_equal(entries_made, made + 1);
	assert_int_equal(entries_removed, entries_made);	/* the entry was cleaned up */
	assert_int_equal(last_inblob_size, 64);
	assert_memory_equal(last_inblob, challenge, 64);	/* the kernel saw our challenge */
	assert_int_equal(ev.platform, CINFER_PLATFORM_CCA);
	assert_int_equal(ev.evidence_size, token_size);
	assert_memory_equal(ev.evidence, token, token_size);
	o.cca_iak_pub = cpak;
	o.cca_iak_pub_size = cpak_size;
	cinfer_claims_init(&c, CINFER_PLATFORM_CCA);
	assert_int_equal(ci_cca_verify(&ev, &o, ci_time_now(), &c, &e), 0);
	assert_int_equal(c.report_data_size, 64);
	assert_memory_equal(c.report_data, challenge, 64);
	cinfer_evidence_clear(&ev);
}

static void
test_failures(void **state)
{
	struct cinfer_evidence ev;
	struct cinfer_err e = { 0 };
	uint8_t other[64];
	static const uint8_t junk[] = { 0xd9, 0x01, 0x8f, 0xa0 };
	char missing[4200];

	(void)state;
	/* the token answers a different challenge */
	memcpy(other, challenge, 64);
	other[0] ^= 1;
	assert_int_equal(cinfer_cca_attest(fake_root, other, &ev, &e), -1);
	assert_code(e, CINFER_E_IO);
	assert_string_equal(e.msg, "the realm token does not carry the requested challenge");
	assert_null(ev.evidence);
	assert_memory_equal(last_inblob, other, 64);
	/* another provider */
	fake_provider = "sev_guest\n";
	cinfer_err_clear(&e);
	assert_int_equal(cinfer_cca_attest(fake_root, challenge, &ev, &e), -1);
	assert_code(e, CINFER_E_UNSUPPORTED);
	assert_non_null(strstr(e.msg, "sev_guest"));
	fake_provider = "arm_cca_guest\n";
	/* an outblob that is not a CCA token */
	fake_outblob = junk;
	fake_outblob_size = sizeof(junk);
	cinfer_err_clear(&e);
	assert_int_equal(cinfer_cca_attest(fake_root, challenge, &ev, &e), -1);
	assert_code(e, CINFER_E_MALFORMED);
	fake_outblob = token;
	fake_outblob_size = token_size;
	/* no configfs-tsm */
	snprintf(missing, sizeof(missing), "%s/absent", tmp);
	cinfer_err_clear(&e);
	assert_int_equal(cinfer_cca_attest(missing, challenge, &ev, &e), -1);
	assert_code(e, CINFER_E_IO);
	assert_int_equal(entries_removed, entries_made);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attest_and_verify),
		cmocka_unit_test(test_failures),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
