/* Helpers shared by the tests (cmocka). */
#ifndef CI_TESTUTIL_H
#define CI_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/ci.h"

/* Path of a shared vector (../shared/vectors beside the repo). */
static inline const char *
t_vector(const char *rel)
{
	static char buf[4][4096];
	static int n;
	const char *base = getenv("CINFER_VECTORS");
	char *p = buf[n++ % 4];

	snprintf(p, 4096, "%s/%s", base ? base : "../../shared/vectors", rel);
	return p;
}

static inline const char *
t_src(const char *rel)
{
	static char buf[4][4096];
	static int n;
	const char *base = getenv("CINFER_SRC");
	char *p = buf[n++ % 4];

	snprintf(p, 4096, "%s/%s", base ? base : "..", rel);
	return p;
}

/* Reads a whole file or fails the test. */
static inline uint8_t *
t_read(const char *path, size_t *size)
{
	uint8_t *buf = NULL;
	struct cinfer_err e = { 0 };

	if (ci_file_read(path, 64u << 20, &buf, size, &e) != 0)
		fail_msg("cannot read %s: %s", path, e.msg);
	return buf;
}

/* A fresh temporary directory (removed by the caller with t_rmrf). */
static inline char *
t_tmpdir(void)
{
	char tmpl[] = "/tmp/cinfer-test-XXXXXX";
	char *d = mkdtemp(tmpl);

	assert_non_null(d);
	return strdup(d);
}

static inline void
t_rmrf(char *dir)
{
	char cmd[4200];

	if (dir == NULL)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)!system(cmd);
	free(dir);
}

#define assert_code(e, c) do { \
	if ((e).code != (c)) \
		fail_msg("expected code %s, got %s (%s: %s)", cinfer_code_name(c), \
		    cinfer_code_name((e).code), (e).stage ? (e).stage : "-", (e).msg); \
} while (0)

#endif
