/*
 * Helpers shared by the runtime kernel tests: read a TensorProto vector,
 * load and run a model twice (the second run reuses what prepare kept),
 * compare float tensors with a relative + absolute tolerance. Paths are
 * under tests/runtime/vectors/<dir>/.
 */
#ifndef CI_RT_TESTUTIL_H
#define CI_RT_TESTUTIL_H

#include <math.h>

#include "testutil.h"

#include "cinfer/runtime.h"

static inline void
rt_read_pb(const char *dir, const char *rel, struct cinfer_tensor *t)
{
	char path[512];
	struct cinfer_err e = { 0 };
	size_t size;
	uint8_t *buf;

	snprintf(path, sizeof(path), "tests/runtime/vectors/%s/%s", dir, rel);
	buf = t_read(t_src(path), &size);
	assert_int_equal(cinfer_tensor_read_pb(buf, size, t, NULL, &e), 0);
	ci_free(buf);
}

/* Loads and runs model rel on in twice; out gets the first output. */
static inline void
rt_run_model(const char *dir, const char *rel, const struct cinfer_tensor *in, int threads,
    struct cinfer_tensor *out)
{
	char path[512];
	struct cinfer_model *m = NULL;
	struct cinfer_err e = { 0 };

	snprintf(path, sizeof(path), "tests/runtime/vectors/%s/%s", dir, rel);
	if (cinfer_model_load(t_src(path), &m, &e) != 0)
		fail_msg("%s: load: %s", rel, e.msg);
	cinfer_model_set_threads(m, threads);
	if (cinfer_model_run(m, in, 1, out, 1, &e) != 0)
		fail_msg("%s: run: %s", rel, e.msg);
	/* a second run reuses the state prepared at load */
	cinfer_tensor_clear(out);
	if (cinfer_model_run(m, in, 1, out, 1, &e) != 0)
		fail_msg("%s: run 2: %s", rel, e.msg);
	cinfer_model_free(m);
}

static inline void
rt_assert_close(const char *what, const struct cinfer_tensor *got,
    const struct cinfer_tensor *want, double tol)
{
	const float *g = got->data, *w = want->data;
	size_t n = want->size / sizeof(float);

	assert_int_equal(got->ndim, want->ndim);
	for (int d = 0; d < want->ndim; d++)
		assert_int_equal(got->dims[d], want->dims[d]);
	assert_int_equal(got->size, want->size);
	for (size_t i = 0; i < n; i++)
		if (!(fabs((double)g[i] - w[i]) <= tol + tol * fabs((double)w[i])))
			fail_msg("%s: element %zu: %.9g, want %.9g", what, i, (double)g[i],
			    (double)w[i]);
}

#endif
