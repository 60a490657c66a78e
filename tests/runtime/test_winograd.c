/*
 * Winograd F(2x2, 3x3) convolution (conv_winograd.c).
 *
 * 3x3 stride-1 Conv models on odd shapes (odd and even H/W, 1x1 spatial,
 * pads 0, 1 and asymmetric, batch 2, channels not multiples of 8, with and
 * without bias, Conv + Add + Relu fused into a FusedConv with a residual
 * sum) against references computed by naive float64 loops
 * (tests/runtime/vectors/wino/gen.py), with Winograd forced, on the AVX2
 * and the portable paths, 1 and 2 threads, chunks by cache size and of 16
 * tiles (many chunks per run and per thread); the Winograd counter proves
 * the path was taken. With Winograd off the plain conv path must give the
 * same results, and the automatic mode must skip shapes where it does not
 * pay (1x1 spatial) yet still be right.
 */
#include <math.h>

#include "rt_testutil.h"

#include "cinfer/runtime.h"
#include "runtime/conv_winograd.h"
#include "runtime/graph.h"
#include "runtime/sgemm.h"

static const char *const cases[] = {
	"odd_b2", "even_p0", "one", "asym", "resid", "parts", "wide",
};

/* Every case with mode, threads 1 and 2, chunk sizes auto and 16; wino:
 * whether each run must have taken the Winograd path (-1: don't care). */
static void
check(int mode, int wino)
{
	static const size_t chunks[] = { 0, 16 };

	ci_wino_mode_set(mode);
	for (size_t i = 0; i < CI_ARRAY_LEN(cases); i++)
		for (int threads = 1; threads <= 2; threads++)
			for (size_t ch = 0; ch < CI_ARRAY_LEN(chunks); ch++) {
				struct cinfer_tensor in = { 0 }, want = { 0 }, got = { 0 };
				char name[128], what[200];
				unsigned long n0 = ci_wino_count(), n1;
				int one = strcmp(cases[i], "one") == 0;	/* public */
				ci_wino_chunk_set(chunks[ch]);
				snprintf(name, sizeof(name), "w_%s_in.pb", cases[i]);
				rt_read_pb("wino", name, &in);
				snprintf(name, sizeof(name), "w_%s_out.pb", cases[i]);
				rt_read_pb("wino", name, &want);
				snprintf(name, sizeof(name), "w_%s.onnx", cases[i]);
				rt_run_model("wino", name, &in, threads, &got);
				n1 = ci_wino_count();
				snprintf(what, sizeof(what), "%s, mode %d, %d threads, chunk %zu, path %d",
				    cases[i], mode, threads, chunks[ch], (int)ci_sgemm_path_get());
				rt_assert_close(what, &got, &want, 1e-4);
				if (wino == 1 && n1 != n0 + 2)
					fail_msg("%s: Winograd not taken", what);
				if (wino == 0 && n1 != n0)
					fail_msg("%s: Winograd taken", what);
				/* automatic: 1x1 outputs don't pay, the others do */
				if (wino == -1 && n1 != n0 + (one ? 0 : 2))
					fail_msg("%s: automatic choice", what);
				cinfer_tensor_clear(&in);
				cinfer_tensor_clear(&want);
				cinfer_tensor_clear(&got);
			}
	ci_wino_chunk_set(0);
	ci_wino_mode_set(1);
}

static void
test_forced_auto(void **state)
{
	(void)state;
	check(2, 1);
}

static void
test_forced_portable(void **state)
{
	(void)state;
	assert_int_equal(ci_sgemm_path_set(CI_SGEMM_PORTABLE), 0);
	check(2, 1);
	assert_int_equal(ci_sgemm_path_set(CI_SGEMM_AUTO), 0);
}

static void
test_off_and_automatic(void **state)
{
	(void)state;
	check(0, 0);
	check(1, -1);
}

/* The residual case with the conv pass off (Conv, Add, Relu apart) agrees. */
static void
test_unfused(void **state)
{
	struct cinfer_tensor in = { 0 }, want = { 0 }, got = { 0 };
	unsigned long n0 = ci_wino_count();

	(void)state;
	ci_graph_optimize_enable(0);
	ci_wino_mode_set(2);
	rt_read_pb("wino", "w_resid_in.pb", &in);
	rt_read_pb("wino", "w_resid_out.pb", &want);
	rt_run_model("wino", "w_resid.onnx", &in, 2, &got);
	ci_graph_optimize_enable(1);
	ci_wino_mode_set(1);
	rt_assert_close("resid unfused", &got, &want, 1e-4);
	assert_int_equal(ci_wino_count(), n0 + 2);
	cinfer_tensor_clear(&in);
	cinfer_tensor_clear(&want);
	cinfer_tensor_clear(&got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forced_auto),
		cmocka_unit_test(test_forced_portable),
		cmocka_unit_test(test_off_and_automatic),
		cmocka_unit_test(test_unfused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
