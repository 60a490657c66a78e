#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/ci.h"

int
ci_file_read(const char *path, size_t max, uint8_t **out, size_t *out_size,
    struct cinfer_err *e)
{
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0;
	int fd, rc = -1;

	*out = NULL;
	*out_size = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ci_fail(e, CINFER_E_IO, "core.file", "%s: %s", path, strerror(errno));
	for (;;) {
		ssize_t got;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			uint8_t *nb;
			if (cap > max) {
				ci_fail(e, CINFER_E_LIMIT, "core.file",
				    "%s: larger than %zu bytes", path, max);
				goto out;
			}
			nb = ci_realloc(buf, ncap + 1);
			if (nb == NULL) {
				ci_fail(e, CINFER_E_NOMEM, "core.file", "%s: out of memory", path);
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		got = read(fd, buf + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			ci_fail(e, CINFER_E_IO, "core.file", "%s: %s", path, strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	if (n > max) {
		ci_fail(e, CINFER_E_LIMIT, "core.file", "%s: larger than %zu bytes", path, max);
		goto out;
	}
	if (buf == NULL) {
		buf = ci_alloc(1);
		if (buf == NULL) {
			ci_fail(e, CINFER_E_NOMEM, "core.file", "out of memory");
			goto out;
		}
	}
	buf[n] = '\0';
	*out = buf;
	*out_size = n;
	buf = NULL;
	rc = 0;
out:
	ci_free(buf);
	close(fd);
	return rc;
}

int
ci_file_write(const char *path, const void *p, size_t size, int mode, struct cinfer_err *e)
{
	char tmp[4096];
	const uint8_t *b = p;
	size_t off = 0;
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
		return ci_fail(e, CINFER_E_USAGE, "core.file", "path too long");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return ci_fail(e, CINFER_E_IO, "core.file", "%s: %s", tmp, strerror(errno));
	while (off < size) {
		ssize_t w = write(fd, b + off, size - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int err = errno;
			close(fd);
			unlink(tmp);
			return ci_fail(e, CINFER_E_IO, "core.file", "%s: %s", tmp, strerror(err));
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0) {
		int err = errno;
		close(fd);
		unlink(tmp);
		return ci_fail(e, CINFER_E_IO, "core.file", "%s: %s", tmp, strerror(err));
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		int err = errno;
		unlink(tmp);
		return ci_fail(e, CINFER_E_IO, "core.file", "%s: %s", path, strerror(err));
	}
	return 0;
}
