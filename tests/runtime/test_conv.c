/*
 * Convolution and pooling kernels and the conv graph pass.
 *
 * Kernels: single Conv / MaxPool / AveragePool models on odd shapes (pads,
 * asymmetric pads, strides, dilations, groups, 1x1 with and without im2col,
 * depthwise 3x3/5x5/1x7 with strides 1-3, channel multipliers, 1-D, 3-D,
 * auto_pad, batch 2, ceil_mode, count_include_pad) against references
 * computed by naive float64 loops (tests/runtime/vectors/conv/gen.py), on
 * the AVX2 and the portable paths, with 1 and 2 threads.
 *
 * Pass: Conv + BatchNormalization + Add + activation chains (ResNet block
 * with a late downsample branch, a MobileNet/PP-OCR-like stack with
 * HardSwish, depthwise, HardSigmoid, Clip inputs, LeakyRelu, Sigmoid and a
 * broadcast sum; depthwise convs with every activation, a folded constant
 * Mul/Add and HardSwish written out as y * Clip(y + 3, 0, 6) / 6) run with
 * the pass on and off must agree, and the pass's
 * counters prove the folds and fusions happened. FusedConv nodes written
 * in a model file with bad attributes must not load.
 */
#include <math.h>

#include "rt_testutil.h"

#include "cinfer/runtime.h"
#include "runtime/conv.h"
#include "runtime/graph.h"
#include "runtime/sgemm.h"

static const char *const kernels[] = {
	"3x3_pad", "3x3_s2_asym", "5x5_dil2", "group2", "1x1", "1x1_s2", "dw3x3",
	"dw5x5_s2", "dw3x3_dil", "dw_same", "dw_s3_big", "dw_mult", "dw_wide", "dw_wide_s2",
	"tile", "tile_s2", "1x1_wide",
	"1d", "3d",
	"max3_s2", "max2_ceil", "max5_s1", "max_s3", "avg3_excl", "avg3_incl", "avg2_ceil",
	"gavg", "gmax", "convt_s2", "convt_g2",
};

static void
check_kernels(void)
{
	for (size_t i = 0; i < CI_ARRAY_LEN(kernels); i++)
		for (int threads = 1; threads <= 2; threads++) {
			struct cinfer_tensor in = { 0 }, want = { 0 }, got = { 0 };
			char name[128], what[160];
			snprintf(name, sizeof(name), "k_%s_in.pb", kernels[i]);
			rt_read_pb("conv", name, &in);
			snprintf(name, sizeof(name), "k_%s_out.pb", kernels[i]);
			rt_read_pb("conv", name, &want);
			snprintf(name, sizeof(name), "k_%s.onnx", kernels[i]);
			rt_run_model("conv", name, &in, threads, &got);
			snprintf(what, sizeof(what), "%s, %d threads, path %d", kernels[i], threads,
			    (int)ci_sgemm_path_get());
			rt_assert_close(what, &got, &want, 1e-4);
			cinfer_tensor_clear(&in);
			cinfer_tensor_clear(&want);
			cinfer_tensor_clear(&got);
		}
}

static void
test_kernels_auto(void **state)
{
	(void)state;
	check_kernels();
}

static void
test_kernels_portable(void **state)
{
	(void)state;
	assert_int_equal(ci_sgemm_path_set(CI_SGEMM_PORTABLE), 0);
	check_kernels();
	assert_int_equal(ci_sgemm_path_set(CI_SGEMM_AUTO), 0);
}

/* Runs f_name with the pass on and off; returns the folds and fusions made. */
static void
check_fused(const char *name, unsigned long want_bn, unsigned long want_fused,
    unsigned long want_in)
{
	struct cinfer_tensor in = { 0 }, plain = { 0 }, opt = { 0 };
	char path[128];
	unsigned long bn0, f0, bn1, f1, i0, i1;

	snprintf(path, sizeof(path), "f_%s_in.pb", name);
	rt_read_pb("conv", path, &in);
	snprintf(path, sizeof(path), "f_%s.onnx", name);
	ci_graph_optimize_enable(0);
	ci_pass_conv_stats(&bn0, &f0, &i0);
	rt_run_model("conv", path, &in, 1, &plain);
	ci_pass_conv_stats(&bn1, &f1, &i1);
	assert_int_equal(bn1 - bn0, 0);
	assert_int_equal(f1 - f0, 0);
	assert_int_equal(i1 - i0, 0);
	ci_graph_optimize_enable(1);
	for (int threads = 1; threads <= 2; threads++) {
		ci_pass_conv_stats(&bn0, &f0, &i0);
		rt_run_model("conv", path, &in, threads, &opt);
		ci_pass_conv_stats(&bn1, &f1, &i1);
		assert_int_equal(bn1 - bn0, want_bn);
		assert_int_equal(f1 - f0, want_fused);
		assert_int_equal(i1 - i0, want_in);
		rt_assert_close(name, &opt, &plain, 1e-4);
		cinfer_tensor_clear(&opt);
	}
	cinfer_tensor_clear(&in);
	cinfer_tensor_clear(&plain);
}

static void
test_fusion(void **state)
{
	(void)state;
	/* 4 BN folded; c0+relu, c1+relu, c2+downsample sum+relu, c3+identity sum+relu */
	check_fused("resblock", 4, 4, 0);
	/* 3 BN folded; HardSwish, Relu, HardSigmoid, Clip, LeakyRelu, Sigmoid, broadcast sum */
	check_fused("mobile", 3, 7, 0);
	/* 7 BN folded; each depthwise conv with its activation (the last one
	 * after a folded Mul/Add and a written-out HardSwish) */
	check_fused("dwacts", 7, 7, 0);
	/* a sum larger than the conv output (the Add broadcasts the conv) */
	check_fused("bigsum", 0, 1, 0);
	/* 8 Add/Mul by scalars folded into the next conv: weights of two 1x1,
	 * in_scale / in_shift of a padded 3x3 and a depthwise 3x3 */
	check_fused("inaffine", 0, 3, 8);
	assert_int_equal(ci_sgemm_path_set(CI_SGEMM_PORTABLE), 0);
	check_fused("resblock", 4, 4, 0);
	check_fused("mobile", 3, 7, 0);
	check_fused("dwacts", 7, 7, 0);
	assert_int_equal(ci_sgemm_path_set(CI_SGEMM_AUTO), 0);
}

static void
test_bad_attributes(void **state)
{
	static const char *const bad[] = { "bad_act", "bad_attr", "bad_clip", "bad_leaky",
		"bad_extra", "bad_type" };
	struct cinfer_model *m = NULL;
	struct cinfer_err e = { 0 };
	char path[256];
	float x[3 * 8 * 8];
	struct cinfer_tensor in = { .dtype = CINFER_DT_FLOAT, .ndim = 4, .dims = { 1, 3, 8, 8 },
		.data = x, .size = sizeof(x) }, out = { 0 };

	(void)state;
	for (size_t i = 0; i < CI_ARRAY_LEN(bad); i++) {
		snprintf(path, sizeof(path), "tests/runtime/vectors/conv/%s.onnx", bad[i]);
		memset(&e, 0, sizeof(e));
		if (cinfer_model_load(t_src(path), &m, &e) == 0)
			fail_msg("%s loaded", bad[i]);
	}
	/* a well-formed FusedConv in a model file runs (Clip to [-1, 1]) */
	for (size_t i = 0; i < CI_ARRAY_LEN(x); i++)
		x[i] = (float)((int)(i * 37 % 19) - 9);
	rt_run_model("conv", "ok_fused.onnx", &in, 1, &out);
	assert_int_equal(out.size, 4 * 8 * 8 * sizeof(float));
	for (size_t i = 0; i < 4 * 8 * 8; i++) {
		float v = ((const float *)out.data)[i];
		assert_true(v >= -1.0f && v <= 1.0f);
	}
	cinfer_tensor_clear(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernels_auto),
		cmocka_unit_test(test_kernels_portable),
		cmocka_unit_test(test_fusion),
		cmocka_unit_test(test_bad_attributes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
