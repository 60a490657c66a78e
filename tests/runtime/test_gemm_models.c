/*
 * MatMul / Gemm with weights packed at load, on small models written by
 * tools/gen_gemm_vectors.py (expected outputs computed by numpy in double):
 * N-D MatMul as one GEMM, Gemm with transB / alpha / beta and C as a
 * column bias, a row bias and a full matrix, batch-1 GEMV, transA; on both
 * SGEMM paths, packed on one path and run on the other, at 1 and 2 threads
 * (the split must not change a single bit).
 *
 * The MatMul + Add (+ Relu | com.cinfer Gelu) fusion (pass_gemm.c): the
 * fused model agrees with the plain one (ci_graph_optimize_enable(0)) and
 * with numpy, the fusions counted are the ones expected (a MatMul whose
 * output is a graph output is left alone), and com.cinfer FusedMatMul
 * written in a file is checked like any op: unknown activation or
 * attribute refused at load, wrong bias or W shapes refused at run.
 */
#include <math.h>

#include "testutil.h"

#include "cinfer/runtime.h"
#include "runtime/graph.h"
#include "runtime/pass_gemm.h"
#include "runtime/rt.h"
#include "runtime/sgemm.h"

#define MAX_IO 8

static const char *
vec(const char *rel)
{
	static char buf[4][4096];
	static int n;
	char *p = buf[n++ % 4];

	snprintf(p, 4096, "%s", t_src("tests/runtime/vectors/"));
	strncat(p, rel, 4095 - strlen(p));
	return p;
}

static int
cpu_avx2(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

static void
read_pb(const char *model, const char *name, struct cinfer_tensor *t)
{
	char rel[256];
	size_t size;
	uint8_t *buf;
	struct cinfer_err e = { 0 };

	snprintf(rel, sizeof(rel), "%s_%s.pb", model, name);
	buf = t_read(vec(rel), &size);
	if (cinfer_tensor_read_pb(buf, size, t, NULL, &e) != 0)
		fail_msg("%s: %s", rel, e.msg);
	ci_free(buf);
}

static struct cinfer_model *
load(const char *model, int pack_path)
{
	char rel[256];
	struct cinfer_model *m = NULL;
	struct cinfer_err e = { 0 };

	snprintf(rel, sizeof(rel), "%s.onnx", model);
	assert_int_equal(ci_sgemm_path_set(pack_path), 0);
	if (cinfer_model_load(vec(rel), &m, &e) != 0)
		fail_msg("%s: %s", rel, e.msg);
	assert_int_equal(ci_sgemm_path_set(CI_SGEMM_AUTO), 0);
	return m;
}

/* Runs m on its inputs (model_X*.pb); out gets every output. */
static void
run(struct cinfer_model *m, const char *model, int threads, int run_path,
    struct cinfer_tensor *out, size_t *n_out)
{
	struct cinfer_tensor in[MAX_IO];
	size_t n_in = cinfer_model_input_count(m);
	struct cinfer_err e = { 0 };

	assert_true(n_in <= MAX_IO);
	*n_out = cinfer_model_output_count(m);
	assert_true(*n_out <= MAX_IO);
	for (size_t i = 0; i < n_in; i++)
		read_pb(model, cinfer_model_input_name(m, i), &in[i]);
	cinfer_model_set_threads(m, threads);
	assert_int_equal(ci_sgemm_path_set(run_path), 0);
	if (cinfer_model_run(m, in, n_in, out, *n_out, &e) != 0)
		fail_msg("%s: run: %s", model, e.msg);
	assert_int_equal(ci_sgemm_path_set(CI_SGEMM_AUTO), 0);
	for (size_t i = 0; i < n_in; i++)
		cinfer_tensor_clear(&in[i]);
}

/* Every output against model_NAME.pb within atol + rtol. */
static void
check_outputs(struct cinfer_model *m, const char *model, const struct cinfer_tensor *out,
    size_t n_out, double tol)
{
	for (size_t i = 0; i < n_out; i++) {
		struct cinfer_tensor want;
		const float *g = out[i].data, *w;
		const char *name = cinfer_model_output_name(m, i);

		read_pb(model, name, &want);
		w = want.data;
		assert_int_equal(out[i].ndim, want.ndim);
		for (int d = 0; d < want.ndim; d++)
			assert_int_equal(out[i].dims[d], want.dims[d]);
		assert_int_equal(out[i].size, want.size);
		for (size_t j = 0; j < want.size / sizeof(float); j++)
			if (!(fabs((double)g[j] - w[j]) <= tol * (1 + fabs(w[j]))))
				fail_msg("%s %s[%zu] = %.9g, want %.9g", model, name, j, (double)g[j],
				    (double)w[j]);
		cinfer_tensor_clear(&want);
	}
}

static void
clear_all(struct cinfer_tensor *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cinfer_tensor_clear(&t[i]);
}

/* On every path pair and at 1 and 2 threads; 2 threads bit-equal to 1. */
static void
check_model(const char *model)
{
	static const int paths[][2] = { { CI_SGEMM_PORTABLE, CI_SGEMM_PORTABLE },
		{ CI_SGEMM_AVX2, CI_SGEMM_AVX2 }, { CI_SGEMM_AVX2, CI_SGEMM_PORTABLE },
		{ CI_SGEMM_PORTABLE, CI_SGEMM_AVX2 } };

	for (size_t p = 0; p < 4; p++) {
		struct cinfer_tensor o1[MAX_IO], o2[MAX_IO];
		size_t n1, n2;
		struct cinfer_model *m;

		if (!cpu_avx2() && (paths[p][0] != CI_SGEMM_PORTABLE || paths[p][1] !=
		    CI_SGEMM_PORTABLE))
			continue;
		m = load(model, paths[p][0]);
		run(m, model, 1, paths[p][1], o1, &n1);
		check_outputs(m, model, o1, n1, 2e-5);
		run(m, model, 2, paths[p][1], o2, &n2);
		assert_int_equal(n1, n2);
		for (size_t i = 0; i < n1; i++) {
			assert_int_equal(o1[i].size, o2[i].size);
			assert_memory_equal(o1[i].data, o2[i].data, o1[i].size);
		}
		clear_all(o1, n1);
		clear_all(o2, n2);
		cinfer_model_free(m);
	}
	assert_int_equal(ci_alloc_live(), 0);
}

static void
test_gemm_ops(void **state)
{
	(void)state;
	check_model("gemm_ops");
}

static void
test_fuse(void **state)
{
	struct cinfer_tensor o1[MAX_IO], o2[MAX_IO];
	size_t n1, n2, before = ci_pass_gemm_fused();
	struct cinfer_model *m;

	(void)state;
	/* fused: Relu absorbed, plain bias, bias as Add's first input; Y4 not */
	m = load("gemm_fuse", CI_SGEMM_AUTO);
	assert_int_equal(ci_pass_gemm_fused() - before, 3);
	run(m, "gemm_fuse", 1, CI_SGEMM_AUTO, o1, &n1);
	check_outputs(m, "gemm_fuse", o1, n1, 2e-5);
	cinfer_model_free(m);
	ci_graph_optimize_enable(0);
	m = load("gemm_fuse", CI_SGEMM_AUTO);
	ci_graph_optimize_enable(1);
	assert_int_equal(ci_pass_gemm_fused() - before, 3);
	run(m, "gemm_fuse", 1, CI_SGEMM_AUTO, o2, &n2);
	check_outputs(m, "gemm_fuse", o2, n2, 2e-5);
	assert_int_equal(n1, n2);
	for (size_t i = 0; i < n1; i++) {
		const float *x = o1[i].data, *y = o2[i].data;
		assert_int_equal(o1[i].size, o2[i].size);
		for (size_t j = 0; j < o1[i].size / sizeof(float); j++)
			assert_true(fabs((double)x[j] - y[j]) <= 1e-5 * (1 + fabs(y[j])));
	}
	clear_all(o1, n1);
	clear_all(o2, n2);
	cinfer_model_free(m);
	/* every path and thread count, fused */
	check_model("gemm_fuse");
	assert_int_equal(ci_alloc_live(), 0);
}

/* MatMul + Add + com.cinfer Gelu: one FusedMatMul with the GELU epilogue. */
static void
test_fuse_gelu(void **state)
{
	size_t before = ci_pass_gemm_fused();

	(void)state;
	check_model("gemm_fuse_gelu");
	assert_true(ci_pass_gemm_fused() - before >= 1);
}

static void
test_fused_direct(void **state)
{
	(void)state;
	check_model("gemm_fused_gelu");
	check_model("gemm_fused_none");
}

static void
expect_load_fail(const char *model)
{
	char rel[256];
	struct cinfer_model *m = NULL;
	struct cinfer_err e = { 0 };

	snprintf(rel, sizeof(rel), "%s.onnx", model);
	assert_int_equal(cinfer_model_load(vec(rel), &m, &e), -1);
	assert_null(m);
	assert_code(e, CINFER_E_MALFORMED);
}

static void
expect_run_fail(const char *model)
{
	struct cinfer_model *m = load(model, CI_SGEMM_AUTO);
	struct cinfer_tensor in, out;
	struct cinfer_err e = { 0 };

	read_pb(model, "X", &in);
	assert_int_equal(cinfer_model_run(m, &in, 1, &out, 1, &e), -1);
	assert_code(e, CINFER_E_MALFORMED);
	cinfer_tensor_clear(&in);
	cinfer_model_free(m);
}

static void
test_fused_bad(void **state)
{
	(void)state;
	expect_load_fail("gemm_fused_badact");
	expect_load_fail("gemm_fused_badattr");
	expect_run_fail("gemm_fused_badbias");
	expect_run_fail("gemm_fused_badw");
	assert_int_equal(ci_alloc_live(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gemm_ops),
		cmocka_unit_test(test_fuse),
		cmocka_unit_test(test_fuse_gelu),
		cmocka_unit_test(test_fused_direct),
		cmocka_unit_test(test_fused_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
