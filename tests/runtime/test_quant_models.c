/*
 * pass_quant.c's fusions on small generated models
 * (tests/runtime/vectors/quant/gen_quant_models.py): the optimized graph
 * against the plain one (ci_graph_optimize_enable(0)). The dynamic form
 * must be bit-identical (same operations in the same order); the Q/DQ form
 * equal within float rounding. On the AVX2 and the portable kernels, at 1
 * and 2 threads; the counters show the rewrites happened (and that the
 * activation read by a second node was left alone). Then com.cinfer
 * DynQMatMul / QDQMatMul nodes with bad inputs or attributes are refused
 * at load.
 */
#include <math.h>

#include "testutil.h"

#include "cinfer/runtime.h"
#include "runtime/graph.h"
#include "runtime/pass_quant.h"
#include "runtime/sgemm.h"

#define DIR "tests/runtime/vectors/quant/"

static int
cpu_avx2(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

/* Runs model path on a fixed input; returns the output (caller clears). */
static void
run(const char *path, int optimize, int threads, struct cinfer_tensor *out)
{
	struct cinfer_model *m = NULL;
	struct cinfer_err e = { 0 };
	struct cinfer_tensor in = { 0 };
	float x[2 * 5 * 37];
	uint32_t s = 12345;

	for (size_t i = 0; i < 2 * 5 * 37; i++) {
		s = s * 1664525u + 1013904223u;
		x[i] = ((float)(s >> 8) / 8388608.0f - 1.0f) * 3.0f;
	}
	x[5] = 0.0f;
	in.dtype = CINFER_DT_FLOAT;
	in.ndim = 3;
	in.dims[0] = 2;
	in.dims[1] = 5;
	in.dims[2] = 37;
	in.data = x;
	in.size = sizeof(x);
	ci_graph_optimize_enable(optimize);
	if (cinfer_model_load(t_src(path), &m, &e) != 0)
		fail_msg("load %s: %s", path, e.msg);
	ci_graph_optimize_enable(1);
	cinfer_model_set_threads(m, threads);
	memset(out, 0, sizeof(*out));
	if (cinfer_model_run(m, &in, 1, out, 1, &e) != 0)
		fail_msg("run %s: %s", path, e.msg);
	cinfer_model_free(m);
}

static void
compare(const char *path, int exact, size_t want_dynq, size_t want_qdq, size_t want_fold)
{
	struct cinfer_tensor ref, got;
	size_t d0, q0, f0, d1, q1, f1;

	run(path, 0, 1, &ref);
	for (int threads = 1; threads <= 2; threads++) {
		ci_pass_quant_counts(&d0, &q0, &f0);
		run(path, 1, threads, &got);
		ci_pass_quant_counts(&d1, &q1, &f1);
		assert_int_equal(d1 - d0, want_dynq);
		assert_int_equal(q1 - q0, want_qdq);
		assert_int_equal(f1 - f0, want_fold);
		assert_int_equal(got.size, ref.size);
		assert_int_equal(got.ndim, ref.ndim);
		for (size_t i = 0; i < ref.size / sizeof(float); i++) {
			float a = ((float *)ref.data)[i], b = ((float *)got.data)[i];
			if (exact ? memcmp(&a, &b, sizeof(a)) != 0 : !(fabsf(a - b) <= 1e-4f + 1e-4f * fabsf(a)))
				fail_msg("%s threads %d [%zu]: fused %.9g, plain %.9g", path, threads, i, b, a);
		}
		cinfer_tensor_clear(&got);
	}
	cinfer_tensor_clear(&ref);
}

static void
both_paths(void (*fn)(void))
{
	assert_int_equal(ci_sgemm_path_set(CI_SGEMM_PORTABLE), 0);
	fn();
	if (cpu_avx2()) {
		assert_int_equal(ci_sgemm_path_set(CI_SGEMM_AVX2), 0);
		fn();
	}
	assert_int_equal(ci_sgemm_path_set(CI_SGEMM_AUTO), 0);
}

static void
dynq(void)
{
	compare(DIR "dynq.onnx", 1, 3, 0, 0);
}

static void
qdq(void)
{
	compare(DIR "qdq.onnx", 0, 0, 3, 1);
}

static void
test_dynq(void **state)
{
	(void)state;
	both_paths(dynq);
}

static void
test_qdq(void **state)
{
	(void)state;
	both_paths(qdq);
}

static void
test_bad_nodes(void **state)
{
	static const char *const bad[] = {
		"bad_dynq_attr.onnx", "bad_dynq_w_rank.onnx", "bad_dynq_scale_type.onnx",
		"bad_dynq_scale_len.onnx", "bad_dynq_zp_type.onnx", "bad_dynq_bias_len.onnx",
		"bad_dynq_inputs.onnx", "bad_qdq_inputs.onnx", "bad_qdq_xzp.onnx",
		"bad_qdq_noscale.onnx",
	};
	char path[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cinfer_model *m = NULL;
		struct cinfer_err e = { 0 };
		snprintf(path, sizeof(path), DIR "%s", bad[i]);
		if (cinfer_model_load(t_src(path), &m, &e) == 0) {
			cinfer_model_free(m);
			fail_msg("%s loaded", bad[i]);
		}
		assert_int_not_equal(e.code, CINFER_OK);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dynq),
		cmocka_unit_test(test_qdq),
		cmocka_unit_test(test_bad_nodes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
