/*
 * TDX attester against fakes that return stored real quotes:
 * - configfs-tsm: a fake report tree. The kernel populates an entry
 *   directory when it is created; a plain directory cannot, so this test
 *   interposes mkdir()/rmdir() for paths under the fake root only.
 * - /dev/tdx_guest: a regular file stands for the device and ioctl() is
 *   interposed for TDX_CMD_GET_REPORT0 on that descriptor only; the TDREPORT
 *   is assembled from a real quote's TD report body.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cinfer/attester_tdx.h"
#include "evidence/tdx_quote.h"

struct fake {
	char root[256];			/* fake configfs-tsm report dir */
	const uint8_t *outblob;		/* what the provider returns */
	size_t outblob_size;
	const char *provider;
	int mkdirs;
	char dev[256];			/* fake device file */
	const uint8_t *tdreport;	/* 1024 bytes for GET_REPORT0 */
	int ioctls;
};
static struct fake g_fake;

static void
put_file(const char *dir, const char *name, const void *p, size_t size)
{
	char path[600];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return;
	if (write(fd, p, size) != (ssize_t)size)
		abort();
	close(fd);
}

int
mkdir(const char *path, mode_t mode)
{
	int rc = (int)syscall(SYS_mkdirat, AT_FDCWD, path, mode);

	if (rc == 0 && g_fake.root[0] != '\0' &&
	    strncmp(path, g_fake.root, strlen(g_fake.root)) == 0) {
		g_fake.mkdirs++;
		put_file(path, "inblob", "", 0);
		put_file(path, "privlevel", "", 0);
		put_file(path, "outblob", g_fake.outblob, g_fake.outblob_size);
		put_file(path, "generation", "1\n", 2);
		put_file(path, "provider", g_fake.provider, strlen(g_fake.provider));
	}
	return rc;
}

int
rmdir(const char *path)
{
	if (g_fake.root[0] != '\0' && strncmp(path, g_fake.root, strlen(g_fake.root)) == 0) {
		static const char *const names[] = { "inblob", "privlevel", "outblob",
		    "generation", "provider", "auxblob" };
		char p[600];
		for (size_t i = 0; i < CI_ARRAY_LEN(names); i++) {
			snprintf(p, sizeof(p), "%s/%s", path, names[i]);
			(void)syscall(SYS_unlinkat, AT_FDCWD, p, 0);
		}
	}
	return (int)syscall(SYS_unlinkat, AT_FDCWD, path, AT_REMOVEDIR);
}

/* Only the fake device's descriptor is intercepted; everything else goes to the kernel. */
int
ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;
	char link[64], target[512];
	ssize_t n;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n > 0 && g_fake.dev[0] != '\0') {
		target[n] = '\0';
		if (strcmp(target, g_fake.dev) == 0) {
			uint8_t *r = arg;	/* struct tdx_report_req */
			g_fake.ioctls++;
			/* _IOWR('T', 1, 1088 bytes) */
			if (req != (unsigned long)_IOWR('T', 1, uint8_t[1088])) {
				errno = ENOTTY;
				return -1;
			}
			memcpy(r + 64, g_fake.tdreport, 1024);
			memcpy(r + 64 + 128, r, 64);	/* REPORTDATA = request */
			return 0;
		}
	}
	return (int)syscall(SYS_ioctl, fd, req, arg);
}

static void
fake_tsm(const uint8_t *quote, size_t size, const char *provider)
{
	char *d = t_tmpdir();

	memset(&g_fake, 0, sizeof(g_fake));
	snprintf(g_fake.root, sizeof(g_fake.root), "%s", d);
	free(d);
	g_fake.outblob = quote;
	g_fake.outblob_size = size;
	g_fake.provider = provider;
}

static void
test_tsm_quote(void **state)
{
	size_t size = 0;
	uint8_t *quote = t_read(t_vector("tdx/gcp_cos113_v4_quote.dat"), &size);
	struct ci_tdx_quote q;
	struct cinfer_evidence ev;
	struct cinfer_err e = { 0 };
	struct cinfer_tdx_attest_opts o = { 0 };
	uint8_t rd[64];

	(void)state;
	assert_int_equal(ci_tdx_quote_parse(&q, quote, size, &e), 0);
	memcpy(rd, q.body.report_data, 64);
	fake_tsm(quote, size, "tdx_guest\n");
	o.tsm_root = g_fake.root;
	assert_int_equal(cinfer_tdx_attest(rd, &o, &ev, &e), 0);
	assert_int_equal(g_fake.mkdirs, 1);
	assert_int_equal(ev.platform, CINFER_PLATFORM_TDX);
	/* The 8000-byte kernel buffer is cut to the quote. */
	assert_int_equal(ev.evidence_size, q.quote_size);
	assert_int_equal(ev.evidence_size, 8000 - 3065);
	assert_memory_equal(ev.evidence, quote, ev.evidence_size);
	cinfer_evidence_clear(&ev);

	/* A quote for other REPORTDATA (a racing writer) is refused. */
	rd[0] ^= 1;
	assert_int_equal(cinfer_tdx_attest(rd, &o, &ev, &e), -1);
	assert_code(e, CINFER_E_IO);
	assert_non_null(strstr(e.msg, "REPORTDATA"));
	rd[0] ^= 1;

	/* Another provider (an SNP guest) is not a TDX quote source. */
	g_fake.provider = "sev_guest\n";
	cinfer_err_clear(&e);
	assert_int_equal(cinfer_tdx_attest(rd, &o, &ev, &e), -1);
	assert_code(e, CINFER_E_UNSUPPORTED);

	/* Garbage from the provider does not parse. */
	g_fake.provider = "tdx_guest\n";
	g_fake.outblob_size = 100;
	cinfer_err_clear(&e);
	assert_int_equal(cinfer_tdx_attest(rd, &o, &ev, &e), -1);
	assert_code(e, CINFER_E_MALFORMED);
	{
		char *root = strdup(g_fake.root);
		g_fake.root[0] = '\0';
		t_rmrf(root);
	}
	ci_free(quote);
}

static void
test_tsm_missing(void **state)
{
	struct cinfer_evidence ev;
	struct cinfer_err e = { 0 };
	struct cinfer_tdx_attest_opts o = { .tsm_root = "/nonexistent/tsm/report" };
	uint8_t rd[64] = { 0 };

	(void)state;
	memset(&g_fake, 0, sizeof(g_fake));
	assert_int_equal(cinfer_tdx_attest(rd, &o, &ev, &e), -1);
	assert_code(e, CINFER_E_IO);
}

/* A TDREPORT carrying a real quote's TD report body at the ABI offsets. */
static void
tdreport_from_quote(const struct ci_tdx_quote *q, uint8_t out[1024])
{
	const struct ci_tdx_body *b = &q->body;

	memset(out, 0, 1024);
	out[0] = 0x81;
	memcpy(out + 128, b->report_data, 64);
	memcpy(out + 256 + 8, b->tee_tcb_svn, 16);
	memcpy(out + 256 + 24, b->mrseam, 48);
	memcpy(out + 256 + 72, b->mrsignerseam, 48);
	memcpy(out + 512, b->td_attributes, 8);
	memcpy(out + 520, b->xfam, 8);
	memcpy(out + 528, b->mrtd, 48);
	memcpy(out + 576, b->mrconfigid, 48);
	memcpy(out + 624, b->mrowner, 48);
	memcpy(out + 672, b->mrownerconfig, 48);
	for (int i = 0; i < 4; i++)
		memcpy(out + 720 + 48 * i, b->rtmr[i], 48);
}

static void
test_device_report0(void **state)
{
	size_t size = 0;
	uint8_t *quote = t_read(t_vector("tdx/phala_v4_quote_b0c06f000000.dat"), &size);
	struct ci_tdx_quote q;
	struct cinfer_err e = { 0 };
	uint8_t stored[1024], got[1024], rd[64];
	struct cinfer_tdx_tdreport t;
	char *dir = t_tmpdir();
	int fd;

	(void)state;
	assert_int_equal(ci_tdx_quote_parse(&q, quote, size, &e), 0);
	tdreport_from_quote(&q, stored);
	memset(&g_fake, 0, sizeof(g_fake));
	snprintf(g_fake.dev, sizeof(g_fake.dev), "%s/tdx_guest", dir);
	fd = open(g_fake.dev, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	g_fake.tdreport = stored;
	for (int i = 0; i < 64; i++)
		rd[i] = (uint8_t)(i * 7);
	assert_int_equal(cinfer_tdx_get_tdreport(g_fake.dev, rd, got, &e), 0);
	assert_int_equal(g_fake.ioctls, 1);
	assert_int_equal(cinfer_tdx_tdreport_parse(got, sizeof(got), &t, &e), 0);
	assert_memory_equal(t.report_data, rd, 64);
	assert_memory_equal(t.mrtd, q.body.mrtd, 48);
	assert_memory_equal(t.rtmr[2], q.body.rtmr[2], 48);
	assert_memory_equal(t.mrseam, q.body.mrseam, 48);
	assert_memory_equal(t.tee_tcb_svn, q.body.tee_tcb_svn, 16);
	assert_memory_equal(t.td_attributes, q.body.td_attributes, 8);
	assert_memory_equal(t.xfam, q.body.xfam, 8);
	/* Wrong sizes and types are refused. */
	assert_int_equal(cinfer_tdx_tdreport_parse(got, 1000, &t, &e), -1);
	got[0] = 0;
	cinfer_err_clear(&e);
	assert_int_equal(cinfer_tdx_tdreport_parse(got, sizeof(got), &t, &e), -1);
	assert_code(e, CINFER_E_MALFORMED);
	/* No device: an I/O error naming it. */
	cinfer_err_clear(&e);
	assert_int_equal(cinfer_tdx_get_tdreport("/nonexistent/tdx_guest", rd, got, &e), -1);
	assert_code(e, CINFER_E_IO);
	memset(&g_fake, 0, sizeof(g_fake));
	t_rmrf(dir);
	ci_free(quote);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tsm_quote),
		cmocka_unit_test(test_tsm_missing),
		cmocka_unit_test(test_device_report0),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
