#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attester/tsm.h"
#include "crypto/crypto.h"

#define STAGE "attester.tsm"

static const char *
tsm_root(const char *root)
{
	const char *env = getenv("CINFER_TSM_ROOT");

	if (root != NULL)
		return root;
	return env != NULL && env[0] != '\0' ? env : CI_TSM_DEFAULT_ROOT;
}

int
ci_tsm_available(const char *root)
{
	struct stat st;

	return stat(tsm_root(root), &st) == 0 && S_ISDIR(st.st_mode);
}

static int
write_attr(const char *dir, const char *name, const void *p, size_t size, struct cinfer_err *e)
{
	char path[4096];
	int fd;
	ssize_t w;

	if ((size_t)snprintf(path, sizeof(path), "%.4000s/%.64s", dir, name) >= sizeof(path))
		return ci_fail(e, CINFER_E_USAGE, STAGE, "path too long");
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return ci_fail(e, CINFER_E_IO, STAGE, "%s: %s", path, strerror(errno));
	w = write(fd, p, size);
	if (w < 0 || (size_t)w != size) {
		int err = errno;
		close(fd);
		return ci_fail(e, CINFER_E_IO, STAGE, "%s: %s", path, w < 0 ? strerror(err) : "short write");
	}
	close(fd);
	return 0;
}

static int
read_attr(const char *dir, const char *name, size_t max, uint8_t **out, size_t *size,
    struct cinfer_err *e)
{
	char path[4096];

	if ((size_t)snprintf(path, sizeof(path), "%.4000s/%.64s", dir, name) >= sizeof(path))
		return ci_fail(e, CINFER_E_USAGE, STAGE, "path too long");
	return ci_file_read(path, max, out, size, e);
}

static int
read_generation(const char *dir, long *gen, struct cinfer_err *e)
{
	uint8_t *buf = NULL;
	size_t n = 0;
	char *end;

	if (read_attr(dir, "generation", 64, &buf, &n, e) != 0)
		return -1;
	*gen = strtol((char *)buf, &end, 10);
	if (end == (char *)buf) {
		ci_free(buf);
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "generation is not a number");
	}
	ci_free(buf);
	return 0;
}

/* Makes a fresh report entry under root; its path goes to dir. */
static int
make_entry(const char *root, char *dir, size_t size, struct cinfer_err *e)
{
	char name[40];
	uint8_t rnd[8];

	root = tsm_root(root);
	if (ci_random(rnd, sizeof(rnd), e) != 0)
		return -1;
	ci_hex_encode(rnd, sizeof(rnd), name + 7);
	memcpy(name, "cinfer-", 7);
	if ((size_t)snprintf(dir, size, "%.4000s/%.39s", root, name) >= size)
		return ci_fail(e, CINFER_E_USAGE, STAGE, "configfs path too long");
	if (mkdir(dir, 0700) != 0)
		return ci_fail(e, CINFER_E_IO, STAGE, "cannot create report entry %s: %s", dir,
		    strerror(errno));
	return 0;
}

/* First line of an attribute, masked, cut to size. */
static int
read_line_attr(const char *dir, const char *name, char *buf, size_t size,
    struct cinfer_err *e)
{
	uint8_t *p = NULL;
	size_t n = 0;

	buf[0] = '\0';
	if (read_attr(dir, name, 256, &p, &n, e) != 0)
		return -1;
	n = strcspn((char *)p, "\n");
	if (n >= size)
		n = size - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	ci_str_mask(buf);
	ci_free(p);
	return 0;
}

int
ci_tsm_provider(const char *root, char *buf, size_t size, struct cinfer_err *e)
{
	char dir[4096];
	int rc;

	buf[0] = '\0';
	if (make_entry(root, dir, sizeof(dir), e) != 0)
		return -1;
	rc = read_line_attr(dir, "provider", buf, size, e);
	if (rmdir(dir) != 0)
		ci_log(CI_LOG_WARN, STAGE, "could not remove report entry %s", dir);
	return rc;
}

int
ci_tsm_get_report(const char *root, const uint8_t inblob[64], int privlevel,
    struct ci_tsm_report *out, struct cinfer_err *e)
{
	char dir[4096];
	long gen0 = 0, gen1 = 0;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (make_entry(root, dir, sizeof(dir), e) != 0)
		return -1;
	if (privlevel >= 0) {
		char pl[16];
		int n = snprintf(pl, sizeof(pl), "%d\n", privlevel);
		if (write_attr(dir, "privlevel", pl, (size_t)n, e) != 0)
			goto out;
	}
	if (write_attr(dir, "inblob", inblob, 64, e) != 0 || read_generation(dir, &gen0, e) != 0)
		goto out;
	if (read_attr(dir, "outblob", CI_TSM_OUT_MAX, &out->outblob, &out->outblob_size, e) != 0)
		goto out;
	/* auxblob exists only where the provider has certificates to give. */
	if (read_attr(dir, "auxblob", CI_TSM_OUT_MAX, &out->auxblob, &out->auxblob_size, NULL) != 0) {
		out->auxblob = NULL;
		out->auxblob_size = 0;
	}
	if (read_generation(dir, &gen1, e) != 0)
		goto out;
	if (gen1 != gen0) {
		ci_fail(e, CINFER_E_IO, STAGE,
		    "report entry changed while reading (generation %ld -> %ld); retry", gen0, gen1);
		goto out;
	}
	(void)read_line_attr(dir, "provider", out->provider, sizeof(out->provider), NULL);
	if (out->outblob_size == 0) {
		ci_fail(e, CINFER_E_IO, STAGE, "provider returned an empty report");
		goto out;
	}
	rc = 0;
out:
	if (rmdir(dir) != 0 && rc == 0)
		ci_log(CI_LOG_WARN, STAGE, "could not remove report entry %s", dir);
	if (rc != 0)
		ci_tsm_report_clear(out);
	return rc;
}

void
ci_tsm_report_clear(struct ci_tsm_report *r)
{
	ci_free(r->outblob);
	ci_free(r->auxblob);
	memset(r, 0, sizeof(*r));
}
