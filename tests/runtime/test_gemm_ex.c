/*
 * ci_sgemm_pack / ci_sgemm_ex against a double-precision reference, on both
 * paths (AVX2 when the CPU has it, and portable): every combination of
 * packed / plain A and B, transposes, alpha and beta, odd shapes around the
 * 6x16 tile and the MC/KC/NC blocks, each epilogue (bias per row and per
 * column, every activation). A model packed on one path runs on the other
 * (one layout). The vector GELU's erf approximation is checked against
 * erff over a dense range. Elements of C outside the view are never written.
 * Split over pools of 2 and 3 threads (by columns, by rows, a batch-1 GEMV
 * big enough to split), the result is bit-identical to one thread's.
 */
#include <float.h>
#include <math.h>

#include "testutil.h"

#include "runtime/parallel.h"
#include "runtime/rt.h"
#include "runtime/sgemm.h"

#define GUARD 12345.0f

static uint32_t seed = 7;

static float
rndf(void)
{
	seed = seed * 1664525u + 1013904223u;
	return (float)(seed >> 8) / 8388608.0f - 1.0f;
}

static int
cpu_avx2(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

static double
ref_act(const struct ci_gemm_epi *ep, double v)
{
	double h;

	switch (ep->act) {
	case CI_ACT_NONE: return v;
	case CI_ACT_RELU: return v > 0 ? v : 0;
	case CI_ACT_CLIP: return v < ep->a ? ep->a : v > ep->b ? ep->b : v;
	case CI_ACT_LEAKY: return v >= 0 ? v : v * ep->a;
	case CI_ACT_SIGMOID: return 1.0 / (1.0 + exp(-v));
	case CI_ACT_HARDSIGMOID:
		h = ep->a * v + ep->b;
		return h < 0 ? 0 : h > 1 ? 1 : h;
	case CI_ACT_HARDSWISH:
		h = v / 6.0 + 0.5;
		return v * (h < 0 ? 0 : h > 1 ? 1 : h);
	case CI_ACT_GELU: return 0.5 * v * (1.0 + erf(v / sqrt(2.0)));
	}
	return v;
}

/*
 * One call: packa / packb pack that operand first (from the same data),
 * pack_path is the path active while packing, run_path while running.
 */
static void
check_one(int ta, int tb, size_t m, size_t n, size_t k, float alpha, float beta, int packa,
    int packb, const struct ci_gemm_epi *ep, int pack_path, int run_path)
{
	size_t pad = (m + n + k) % 3;
	size_t lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
	size_t asz = (ta ? k : m) * lda + 1, bsz = (tb ? n : k) * ldb + 1, csz = m * ldc + 1;
	float *a = malloc(asz * sizeof(float)), *b = malloc(bsz * sizeof(float));
	float *c = malloc(csz * sizeof(float)), *c0 = malloc(csz * sizeof(float));
	struct ci_sgemm_packed *pa = NULL, *pb = NULL;

	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_non_null(c0);
	for (size_t i = 0; i < asz; i++)
		a[i] = rndf();
	for (size_t i = 0; i < bsz; i++)
		b[i] = rndf();
	for (size_t i = 0; i < csz; i++)
		c[i] = GUARD;
	for (size_t i = 0; i < m; i++)
		for (size_t j = 0; j < n; j++)
			c[i * ldc + j] = rndf();
	memcpy(c0, c, csz * sizeof(float));
	assert_int_equal(ci_sgemm_path_set(pack_path), 0);
	if (packa) {
		pa = ci_sgemm_pack(CI_SGEMM_A, ta, ta ? k : m, ta ? m : k, a, lda);
		assert_non_null(pa);
		assert_true(ci_sgemm_packed_size(pa) >= m * k * sizeof(float));
	}
	if (packb) {
		pb = ci_sgemm_pack(CI_SGEMM_B, tb, tb ? n : k, tb ? k : n, b, ldb);
		assert_non_null(pb);
		assert_true(ci_sgemm_packed_size(pb) >= n * k * sizeof(float));
	}
	assert_int_equal(ci_sgemm_path_set(run_path), 0);
	ci_sgemm_ex(NULL, ta, tb, m, n, k, alpha, packa ? NULL : a, lda, pa, packb ? NULL : b,
	    ldb, pb, beta, c, ldc, ep);
	for (size_t i = 0; i < m; i++) {
		for (size_t j = 0; j < ldc; j++) {
			float got = c[i * ldc + j];
			double s = 0, sabs = 0, cv, want, tol;

			if (j >= n) {
				if (got != GUARD)
					fail_msg("C[%zu][%zu] outside the view written", i, j);
				continue;
			}
			if (alpha != 0.0f) {
				for (size_t p = 0; p < k; p++) {
					double av = ta ? a[p * lda + i] : a[i * lda + p];
					double bv = tb ? b[j * ldb + p] : b[p * ldb + j];
					s += av * bv;
					sabs += fabs(av * bv);
				}
			}
			cv = beta == 0.0f ? 0.0 : (double)beta * c0[i * ldc + j];
			want = (double)alpha * s + cv;
			tol = 1e-6 + (double)(k + 2) * FLT_EPSILON * (fabs((double)alpha) * sabs + fabs(cv));
			if (ep) {
				double bias = ep->bias ? ep->bias[ep->bias_per_row ? i : j] : 0.0;
				want = ref_act(ep, want + bias);
				tol = 2 * tol + 2e-6 * (1 + fabs(want));
			}
			if (!isfinite(got) || fabs(got - want) > tol)
				fail_msg("ta %d tb %d m %zu n %zu k %zu alpha %g beta %g pack %d%d "
				    "act %d paths %d/%d: C[%zu][%zu] = %.9g, want %.9g (tol %.3g)", ta, tb,
				    m, n, k, (double)alpha, (double)beta, packa, packb,
				    ep ? (int)ep->act : -1, pack_path, run_path, i, j, (double)got, want, tol);
		}
	}
	ci_sgemm_packed_free(pa);
	ci_sgemm_packed_free(pb);
	assert_int_equal(ci_sgemm_path_set(CI_SGEMM_AUTO), 0);
	free(a);
	free(b);
	free(c);
	free(c0);
}

static void
check_paths(int pack_path, int run_path)
{
	static const size_t dims[] = { 1, 2, 6, 7, 16, 17, 33 };
	static const float alphas[] = { 1.0f, -0.5f, 2.0f, 0.0f };
	static const float betas[] = { 0.0f, 1.0f, 0.5f };
	size_t nd = sizeof(dims) / sizeof(dims[0]), t = 0;

	for (size_t x = 0; x < nd; x++)
		for (size_t y = 0; y < nd; y++)
			for (size_t z = 0; z < nd; z++, t++)
				check_one((int)(t & 1), (int)(t >> 1 & 1), dims[x], dims[y], dims[z],
				    alphas[t / 4 % 4], betas[t / 16 % 3], (int)(t / 2 % 2),
				    (int)(t / 3 % 2 || t % 5 == 0), NULL, pack_path, run_path);
	/* across MC / KC / NC blocks, packed and not */
	for (int pk = 0; pk < 4; pk++) {
		check_one(pk & 1, 0, 121, 385, 257, 1.0f, 0.0f, pk & 1, pk >> 1, NULL, pack_path,
		    run_path);
		check_one(0, pk & 1, 1, 517, 300, 1.0f, 1.0f, 0, pk >> 1, NULL, pack_path,
		    run_path);
		check_one(pk >> 1, pk & 1, 250, 40, 530, -1.0f, 0.5f, pk & 1, 1, NULL, pack_path,
		    run_path);
	}
}

static void
test_pack_avx2(void **state)
{
	(void)state;
	if (!cpu_avx2())
		skip();
	check_paths(CI_SGEMM_AVX2, CI_SGEMM_AVX2);
}

static void
test_pack_portable(void **state)
{
	(void)state;
	check_paths(CI_SGEMM_PORTABLE, CI_SGEMM_PORTABLE);
}

/* Packed on one path, run on the other: one layout serves both. */
static void
test_pack_cross(void **state)
{
	(void)state;
	if (!cpu_avx2())
		skip();
	check_one(0, 1, 37, 70, 45, 1.0f, 0.0f, 1, 1, NULL, CI_SGEMM_AVX2, CI_SGEMM_PORTABLE);
	check_one(1, 0, 37, 70, 45, 1.0f, 0.0f, 1, 1, NULL, CI_SGEMM_PORTABLE, CI_SGEMM_AVX2);
}

static void
check_epi(int path)
{
	static const enum ci_act acts[] = { CI_ACT_NONE, CI_ACT_RELU, CI_ACT_CLIP, CI_ACT_LEAKY,
		CI_ACT_SIGMOID, CI_ACT_HARDSIGMOID, CI_ACT_HARDSWISH, CI_ACT_GELU };
	static const size_t shapes[][3] = { { 1, 1, 1 }, { 1, 33, 17 }, { 7, 17, 5 },
		{ 6, 16, 3 }, { 13, 40, 33 }, { 130, 70, 260 }, { 2, 100, 300 } };
	float bias[200];

	for (size_t i = 0; i < 200; i++)
		bias[i] = 3.0f * rndf();
	for (size_t ai = 0; ai < sizeof(acts) / sizeof(acts[0]); ai++) {
		for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
			for (int mode = 0; mode < 3; mode++) {
				struct ci_gemm_epi ep = { .bias = mode ? bias : NULL,
					.bias_per_row = mode == 2, .act = acts[ai], .a = -0.25f, .b = 0.5f };
				if (acts[ai] == CI_ACT_LEAKY)
					ep.a = 0.1f;
				if (acts[ai] == CI_ACT_HARDSIGMOID) {
					ep.a = 0.2f;
					ep.b = 0.5f;
				}
				check_one((int)s & 1, (int)(s >> 1) & 1, shapes[s][0], shapes[s][1],
				    shapes[s][2], 1.0f, mode == 1 ? 1.0f : 0.0f, (int)(s % 2),
				    (int)(s % 3 != 0), &ep, path, path);
			}
		}
	}
}

static void
test_epi_avx2(void **state)
{
	(void)state;
	if (!cpu_avx2())
		skip();
	check_epi(CI_SGEMM_AVX2);
}

static void
test_epi_portable(void **state)
{
	(void)state;
	check_epi(CI_SGEMM_PORTABLE);
}

/* The vector GELU against the scalar reference over [-8, 8] (1x1 GEMMs). */
static void
test_gelu_accuracy(void **state)
{
	struct ci_gemm_epi ep = { .act = CI_ACT_GELU };
	float one = 1.0f, x[16], y[16];
	double worst = 0;

	(void)state;
	if (!cpu_avx2())
		skip();
	assert_int_equal(ci_sgemm_path_set(CI_SGEMM_AVX2), 0);
	for (int i = -80000; i <= 80000; i += 16) {
		for (int q = 0; q < 16; q++)
			x[q] = (float)(i + q) / 10000.0f;
		/* y[1 x 16] = 1 x x[1 x 16], fused GELU */
		ci_sgemm_ex(NULL, 0, 0, 1, 16, 1, 1.0f, &one, 1, NULL, x, 16, NULL, 0.0f, y, 16, &ep);
		for (int q = 0; q < 16; q++) {
			double want = 0.5 * x[q] * (1.0 + erf(x[q] / sqrt(2.0)));
			double err = fabs(y[q] - want);
			if (err > worst)
				worst = err;
		}
	}
	assert_int_equal(ci_sgemm_path_set(CI_SGEMM_AUTO), 0);
	if (worst > 2e-6)
		fail_msg("GELU max abs error %.3g", worst);
}

/*
 * Every edge tile: rows left over from the 6-row panels (m % 6 in 1..5, on
 * its own and after full panels) times columns left over from the 16-wide
 * panels (n % 16 in 1..15, the same), at depths around the kernels'
 * unrolling (1..9) and across a KC block, rotating packed / plain A and B,
 * transposes, alpha, beta and every epilogue (none, each activation, bias
 * per row and per column).
 */
static void
check_edges(int path)
{
	static const size_t ks[] = { 1, 2, 3, 4, 5, 8, 9, 37, 261 };
	static const float alphas[] = { 1.0f, -0.5f, 2.0f };
	static const float betas[] = { 0.0f, 1.0f, 0.5f };
	float bias[64];
	size_t t = 0;

	for (size_t i = 0; i < 64; i++)
		bias[i] = rndf();
	for (size_t m = 1; m <= 12; m++) {
		for (size_t n = 1; n <= 32; n++) {
			for (size_t ki = 0; ki < sizeof(ks) / sizeof(ks[0]); ki++, t++) {
				struct ci_gemm_epi ep = { .bias = t % 3 ? bias : NULL,
					.bias_per_row = t % 3 == 1, .act = (enum ci_act)(t / 3 % 8),
					.a = t / 3 % 8 == CI_ACT_CLIP ? -0.25f : 0.1f, .b = 0.6f };
				size_t k = ks[ki];

				if (k == 261 && (m + n) % 4 != 0)
					continue;	/* a sample of the deep ones */
				check_one((int)(t & 1), (int)(t >> 1 & 1), m, n, k, alphas[t % 3],
				    betas[t / 7 % 3], (int)(t / 4 % 2), (int)(t / 8 % 2),
				    t % 5 == 4 ? NULL : &ep, path, path);
			}
		}
	}
}

static void
test_edges_avx2(void **state)
{
	(void)state;
	if (!cpu_avx2())
		skip();
	check_edges(CI_SGEMM_AVX2);
}

static void
test_edges_portable(void **state)
{
	(void)state;
	check_edges(CI_SGEMM_PORTABLE);
}

/* ci_sgemm_ex_pool on 2 and 3 threads against the caller alone: same bits. */
static void
check_split(size_t m, size_t n, size_t k, int packa, int packb, int path)
{
	size_t asz = m * k, bsz = k * n, csz = m * n;
	float *a = malloc(asz * sizeof(float)), *b = malloc(bsz * sizeof(float));
	float *c1 = malloc(csz * sizeof(float)), *c2 = malloc(csz * sizeof(float));
	float bias[4096];
	struct ci_gemm_epi ep = { .bias = bias, .act = CI_ACT_GELU };
	struct ci_sgemm_packed *pa, *pb;

	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c1);
	assert_non_null(c2);
	assert_true(n <= 4096);
	for (size_t i = 0; i < asz; i++)
		a[i] = rndf();
	for (size_t i = 0; i < bsz; i++)
		b[i] = rndf();
	for (size_t i = 0; i < n; i++)
		bias[i] = rndf();
	assert_int_equal(ci_sgemm_path_set(path), 0);
	pa = packa ? ci_sgemm_pack(CI_SGEMM_A, 0, m, k, a, k) : NULL;
	pb = packb ? ci_sgemm_pack(CI_SGEMM_B, 0, k, n, b, n) : NULL;
	ci_sgemm_ex_pool(NULL, 0, 0, m, n, k, 1.0f, a, k, pa, b, n, pb, 0.0f, c1, n, &ep);
	for (int threads = 2; threads <= 3; threads++) {
		struct ci_pool *pool = ci_pool_new(threads);
		assert_non_null(pool);
		for (int r = 0; r < 3; r++) {
			memset(c2, 0, csz * sizeof(float));
			ci_sgemm_ex_pool(pool, 0, 0, m, n, k, 1.0f, a, k, pa, b, n, pb, 0.0f, c2, n, &ep);
			assert_memory_equal(c1, c2, csz * sizeof(float));
		}
		ci_pool_free(pool);
	}
	assert_int_equal(ci_sgemm_path_set(CI_SGEMM_AUTO), 0);
	ci_sgemm_packed_free(pa);
	ci_sgemm_packed_free(pb);
	free(a);
	free(b);
	free(c1);
	free(c2);
}

static void
test_split(void **state)
{
	int paths[2] = { CI_SGEMM_PORTABLE, CI_SGEMM_AVX2 };

	(void)state;
	for (int p = cpu_avx2() ? 1 : 0; p >= 0; p--) {
		check_split(128, 389, 131, 0, 1, paths[p]);	/* by columns, packed B */
		check_split(133, 389, 131, 1, 0, paths[p]);	/* packed A */
		check_split(700, 20, 100, 0, 0, paths[p]);	/* by rows */
		check_split(1, 2050, 600, 0, 1, paths[p]);	/* batch-1 GEMV, 1.2 M weights */
		check_split(3, 2050, 600, 0, 0, paths[p]);
		/* edge tiles on both threads: ResNet-18's layer 3 / 4 conv GEMMs, cut down */
		check_split(256, 196, 300, 1, 0, paths[p]);
		check_split(514, 49, 260, 1, 0, paths[p]);
		check_split(125, 1001, 70, 0, 1, paths[p]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pack_avx2),
		cmocka_unit_test(test_pack_portable),
		cmocka_unit_test(test_pack_cross),
		cmocka_unit_test(test_epi_avx2),
		cmocka_unit_test(test_epi_portable),
		cmocka_unit_test(test_gelu_accuracy),
		cmocka_unit_test(test_edges_avx2),
		cmocka_unit_test(test_edges_portable),
		cmocka_unit_test(test_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
