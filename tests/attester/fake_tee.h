/*
 * Fakes of the SNP guest's kernel interfaces, for tests only. They return
 * stored real reports; nothing else about them is clever.
 *
 * configfs-tsm: in configfs, mkdir of a report entry makes the kernel
 * create its attribute files (inblob, outblob, auxblob, generation,
 * provider, privlevel...) and rmdir drops them. A plain directory does
 * neither, so this file defines mkdir() and rmdir() in the test binary:
 * the static libcinfer's calls bind to them at link time (no LD_PRELOAD),
 * and for entries under g_tsm.root they populate / empty the entry from
 * the configured template; every other path goes straight to the kernel.
 *
 * /dev/sev-guest: ioctl() is defined here the same way. For a descriptor
 * on g_sev.path (any regular file) it plays the guest driver for
 * SNP_GET_REPORT, SNP_GET_EXT_REPORT (including the "certificate buffer
 * too small" round trip) and SNP_GET_DERIVED_KEY; every other descriptor
 * goes to the real ioctl system call.
 *
 * Include from exactly one test file per binary.
 */
#ifndef CI_TEST_FAKE_TEE_H
#define CI_TEST_FAKE_TEE_H

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/sev-guest.h>

#include "crypto/crypto.h"

/* ---- configfs-tsm ------------------------------------------------------ */

struct fake_tsm {
	char root[4096];		/* "" = fake off */
	const uint8_t *outblob;
	size_t outblob_size;
	const uint8_t *auxblob;		/* NULL: the provider has no auxblob */
	size_t auxblob_size;
	const char *provider;		/* "sev_guest\n" style, newline added here */
	int race;			/* generation moves between the two reads */
	/* recorded when an entry is removed */
	uint8_t inblob[128];
	size_t inblob_size;
	char privlevel[16];
	int made, removed;
	pthread_t racer;
	int racer_on;
	char fifo[4200];
};
static struct fake_tsm g_tsm;

static int
fake_write_file(const char *dir, const char *name, const void *p, size_t size)
{
	char path[4200];
	int fd;
	ssize_t w = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (size > 0)
		w = write(fd, p, size);
	close(fd);
	return w == (ssize_t)size ? 0 : -1;
}

static void *
fake_racer(void *arg)
{
	/* The reader reads generation, then outblob (this FIFO), then
	 * generation again: another writer bumps it in between. */
	const char *dir = arg;
	int fd = open(g_tsm.fifo, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	fake_write_file(dir, "generation", "2\n", 2);
	(void)!write(fd, g_tsm.outblob, g_tsm.outblob_size);
	close(fd);
	return NULL;
}

static int
fake_under(const char *root, const char *path)
{
	size_t n = strlen(root);

	return n > 0 && strncmp(path, root, n) == 0 && path[n] == '/' &&
	    strchr(path + n + 1, '/') == NULL;
}

static void
fake_populate(const char *dir)
{
	char prov[64];

	g_tsm.made++;
	fake_write_file(dir, "inblob", NULL, 0);
	fake_write_file(dir, "privlevel", NULL, 0);
	fake_write_file(dir, "privlevel_floor", "0\n", 2);
	snprintf(prov, sizeof(prov), "%s\n", g_tsm.provider ? g_tsm.provider : "sev_guest");
	fake_write_file(dir, "provider", prov, strlen(prov));
	fake_write_file(dir, "generation", "1\n", 2);
	if (g_tsm.auxblob != NULL)
		fake_write_file(dir, "auxblob", g_tsm.auxblob, g_tsm.auxblob_size);
	if (g_tsm.race) {
		static char racer_dir[4200];
		snprintf(racer_dir, sizeof(racer_dir), "%s", dir);
		snprintf(g_tsm.fifo, sizeof(g_tsm.fifo), "%s/outblob", dir);
		if (mkfifo(g_tsm.fifo, 0600) == 0 &&
		    pthread_create(&g_tsm.racer, NULL, fake_racer, racer_dir) == 0)
			g_tsm.racer_on = 1;
	} else if (g_tsm.outblob != NULL) {
		fake_write_file(dir, "outblob", g_tsm.outblob, g_tsm.outblob_size);
	}
}

static void
fake_depopulate(const char *dir)
{
	static const char *const attrs[] = { "inblob", "outblob", "auxblob", "generation",
		"provider", "privlevel", "privlevel_floor" };
	char path[4200];
	int fd;
	ssize_t n;

	g_tsm.removed++;
	snprintf(path, sizeof(path), "%s/inblob", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, g_tsm.inblob, sizeof(g_tsm.inblob));
		g_tsm.inblob_size = n > 0 ? (size_t)n : 0;
		close(fd);
	}
	snprintf(path, sizeof(path), "%s/privlevel", dir);
	memset(g_tsm.privlevel, 0, sizeof(g_tsm.privlevel));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		(void)!read(fd, g_tsm.privlevel, sizeof(g_tsm.privlevel) - 1);
		close(fd);
	}
	if (g_tsm.racer_on) {
		pthread_join(g_tsm.racer, NULL);
		g_tsm.racer_on = 0;
	}
	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, attrs[i]);
		unlink(path);
	}
}

int mkdir(const char *path, mode_t mode);
int rmdir(const char *path);

int
mkdir(const char *path, mode_t mode)
{
	int rc = (int)syscall(SYS_mkdirat, AT_FDCWD, path, mode);

	if (rc == 0 && fake_under(g_tsm.root, path))
		fake_populate(path);
	return rc;
}

int
rmdir(const char *path)
{
	if (fake_under(g_tsm.root, path))
		fake_depopulate(path);
	return (int)syscall(SYS_unlinkat, AT_FDCWD, path, AT_REMOVEDIR);
}

/* ---- /dev/sev-guest ------------------------------------------------------ */

struct fake_sev {
	char path[4096];		/* "" = fake off */
	const uint8_t *report;		/* 1184 bytes */
	const uint8_t *certs;		/* the host's certificate table, or NULL */
	size_t certs_size;
	uint32_t fw_status;		/* MSG_*_RSP status to return */
	uint32_t report_size;		/* 0: 1184 */
	/* recorded */
	uint8_t user_data[64];
	uint32_t vmpl;
	int report_calls, ext_calls, short_buffer_calls, key_calls;
	struct snp_derived_key_req key_req;
};
static struct fake_sev g_sev;

/* The fake's derived key: SHA-256(measurement || field_select || root select). */
static void
fake_derive(const struct snp_derived_key_req *r, uint8_t key[32])
{
	uint8_t in[48 + 8 + 4];

	memcpy(in, g_sev.report + 0x90, 48);
	memcpy(in + 48, &r->guest_field_select, 8);
	memcpy(in + 56, &r->root_key_select, 4);
	ci_sha256(in, sizeof(in), key);
}

static void
fake_put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static int
fake_sev_ioctl(unsigned long req, struct snp_guest_request_ioctl *g)
{
	if (g->msg_version != 1) {
		errno = EINVAL;
		return -1;
	}
	if (req == SNP_GET_REPORT || req == SNP_GET_EXT_REPORT) {
		struct snp_report_req *rr = (struct snp_report_req *)(uintptr_t)g->req_data;
		struct snp_report_resp *rsp = (struct snp_report_resp *)(uintptr_t)g->resp_data;

		if (req == SNP_GET_EXT_REPORT) {
			struct snp_ext_report_req *er = (struct snp_ext_report_req *)rr;
			uint32_t need = (uint32_t)((g_sev.certs_size + 4095) / 4096 * 4096);

			g_sev.ext_calls++;
			if (er->certs_len % 4096 != 0) {
				errno = EINVAL;
				return -1;
			}
			if (g_sev.certs != NULL && er->certs_len < need) {
				g_sev.short_buffer_calls++;
				er->certs_len = need;
				g->exitinfo2 = (uint64_t)1 << 32;	/* INVALID_LEN */
				errno = EIO;
				return -1;
			}
			memset((void *)(uintptr_t)er->certs_address, 0, er->certs_len);
			if (g_sev.certs != NULL)
				memcpy((void *)(uintptr_t)er->certs_address, g_sev.certs,
				    g_sev.certs_size);
		} else {
			g_sev.report_calls++;
		}
		memcpy(g_sev.user_data, rr->user_data, 64);
		g_sev.vmpl = rr->vmpl;
		memset(rsp, 0, sizeof(*rsp));
		fake_put32(rsp->data, g_sev.fw_status);
		fake_put32(rsp->data + 4, g_sev.report_size ? g_sev.report_size : 1184);
		memcpy(rsp->data + 0x20, g_sev.report, 1184);
		g->exitinfo2 = 0;
		return 0;
	}
	if (req == SNP_GET_DERIVED_KEY) {
		struct snp_derived_key_req *kr = (struct snp_derived_key_req *)(uintptr_t)g->req_data;
		struct snp_derived_key_resp *rsp = (struct snp_derived_key_resp *)(uintptr_t)g->resp_data;

		g_sev.key_calls++;
		g_sev.key_req = *kr;
		memset(rsp, 0, sizeof(*rsp));
		fake_put32(rsp->data, g_sev.fw_status);
		if (g_sev.fw_status == 0)
			fake_derive(kr, rsp->data + 0x20);
		return 0;
	}
	errno = ENOTTY;
	return -1;
}

int ioctl(int fd, unsigned long req, ...);

int
ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;
	struct stat st, want;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (g_sev.path[0] != '\0' && fstat(fd, &st) == 0 && stat(g_sev.path, &want) == 0 &&
	    st.st_dev == want.st_dev && st.st_ino == want.st_ino)
		return fake_sev_ioctl(req, arg);
	return (int)syscall(SYS_ioctl, fd, req, arg);
}

#endif
