/*
 * Vector math (src/runtime/vmath.c, vmath_avx2.c) against libm in double
 * rounded to float: exp, erf, tanh, sigmoid with max-ulp bounds, exact GELU
 * with a bound that allows for the cancellation in 1 + erf, over a strided
 * walk of all float bit patterns (denormals, huge, inf, NaN included) and a
 * dense walk of [-12, 12]; for the AVX2 path (when the CPU has it) and the
 * portable one, on lengths that exercise the vector tails. Then the
 * Softmax and LayerNormalization row kernels against double references on
 * odd lengths; HardSigmoid/HardSwish and the binary spans, AVX2 vs C.
 */
#include <float.h>
#include <math.h>

#include "testutil.h"

#include "runtime/rt.h"
#include "runtime/sgemm.h"
#include "runtime/vmath.h"

static int
cpu_avx2(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

/* distance in representable floats (both finite or same inf) */
static uint32_t
ulps(float a, float b)
{
	int32_t ia, ib;

	memcpy(&ia, &a, 4);
	memcpy(&ib, &b, 4);
	if (ia < 0)
		ia = INT32_MIN - ia;
	if (ib < 0)
		ib = INT32_MIN - ib;
	return ia > ib ? (uint32_t)((int64_t)ia - ib) : (uint32_t)((int64_t)ib - ia);
}

enum fn { F_EXP, F_ERF, F_TANH, F_SIG, F_GELU };

static double
ref(enum fn f, double x)
{
	switch (f) {
	case F_EXP: return exp(x);
	case F_ERF: return erf(x);
	case F_TANH: return tanh(x);
	case F_SIG: return 1.0 / (1.0 + exp(-x));
	default: return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
	}
}

static void
run(enum fn f, const float *x, float *y, size_t n)
{
	switch (f) {
	case F_EXP: ci_vexp(x, y, n); break;
	case F_ERF: ci_verf(x, y, n); break;
	case F_TANH: ci_vtanh(x, y, n); break;
	case F_SIG: ci_vsigmoid(x, y, n); break;
	default: ci_vgelu(x, y, n); break;
	}
}

#define CHUNK 4099	/* odd: the AVX2 tail runs each time */

/* Checks one chunk; returns the max ulp error seen (GELU: 0 on success). */
static uint32_t
check_chunk(enum fn f, const float *x, size_t n)
{
	float y[CHUNK];
	uint32_t worst = 0;

	run(f, x, y, n);
	for (size_t i = 0; i < n; i++) {
		float r = (float)ref(f, x[i]);
		if (isnan(x[i]) || isnan(r)) {
			if (!isnan(y[i]))
				fail_msg("fn %d x %a: got %a, want NaN", f, x[i], y[i]);
			continue;
		}
		if (isinf(r) || isinf(y[i])) {
			if (y[i] != r)
				fail_msg("fn %d x %a: got %a, want %a", f, x[i], y[i], r);
			continue;
		}
		if (f == F_GELU) {
			double tol = 4 * (double)nextafterf(fabsf(r), INFINITY) -
			    4 * (double)fabsf(r) + 1.5e-7 * fabs((double)x[i]) + 1e-44;
			if (fabs((double)y[i] - ref(f, x[i])) > tol)
				fail_msg("gelu x %a: got %a, want %a", x[i], y[i], r);
			continue;
		}
		uint32_t u = ulps(y[i], r);
		if (u > worst)
			worst = u;
	}
	return worst;
}

static void
sweep(enum fn f, uint32_t bound)
{
	static float x[CHUNK];
	size_t n = 0;
	uint32_t worst = 0;

	/* every 1021st bit pattern: both signs, denormals, huge, inf, NaN */
	for (uint64_t b = 0; b <= 0xffffffffu; b += 1021) {
		uint32_t u = (uint32_t)b;
		memcpy(&x[n++], &u, 4);
		if (n == CHUNK) {
			uint32_t w = check_chunk(f, x, n);
			worst = w > worst ? w : worst;
			n = 0;
		}
	}
	/* dense over the interesting range, plus the edges */
	for (float v = -12.0f; v <= 12.0f; v += 1.0f / 4096) {
		x[n++] = v;
		if (n == CHUNK) {
			uint32_t w = check_chunk(f, x, n);
			worst = w > worst ? w : worst;
			n = 0;
		}
	}
	{
		const float edge[] = { 0.0f, -0.0f, INFINITY, -INFINITY, NAN, 1e-45f, -1e-45f,
			1.17549435e-38f, 88.72f, 88.73f, -87.3f, -103.9f, -104.5f, 1.0f, -1.0f,
			0.625f, 3.92f, 9.1f, FLT_MAX, -FLT_MAX };
		for (size_t i = 0; i < CI_ARRAY_LEN(edge) && n < CHUNK; i++)
			x[n++] = edge[i];
	}
	{
		uint32_t w = check_chunk(f, x, n);
		worst = w > worst ? w : worst;
	}
	if (worst > bound)
		fail_msg("fn %d: %u ulp > %u", f, worst, bound);
}

static void
all_fns(void)
{
	sweep(F_EXP, 2);
	sweep(F_ERF, 3);
	sweep(F_TANH, 3);
	sweep(F_SIG, 3);
	sweep(F_GELU, 0);
}

static void
test_avx2(void **state)
{
	(void)state;
	if (!cpu_avx2())
		skip();
	assert_int_equal(ci_sgemm_path_set(CI_SGEMM_AVX2), 0);
	assert_true(ci_use_avx2());
	all_fns();
	ci_sgemm_path_set(CI_SGEMM_AUTO);
}

static void
test_portable(void **state)
{
	(void)state;
	assert_int_equal(ci_sgemm_path_set(CI_SGEMM_PORTABLE), 0);
	assert_false(ci_use_avx2());
	all_fns();
	ci_sgemm_path_set(CI_SGEMM_AUTO);
}

static uint32_t seed = 7;

static float
rndf(void)
{
	seed = seed * 1664525u + 1013904223u;
	return (float)(seed >> 8) / 8388608.0f - 1.0f;
}

static void
rows(void)
{
	static const size_t lens[] = { 1, 2, 7, 8, 9, 15, 16, 17, 33, 128, 383, 384, 1000 };
	float x[1000], y[1000], w[1000], b[1000];

	for (size_t t = 0; t < CI_ARRAY_LEN(lens); t++) {
		size_t n = lens[t];
		double mx = -INFINITY, s = 0, mean = 0, var = 0, inv;
		float scale = t % 2 ? 0.125f : 3.0f, m, iv;
		for (size_t i = 0; i < n; i++) {
			x[i] = rndf() * 8;
			w[i] = rndf();
			b[i] = rndf();
		}
		ci_softmax_row(x, y, n, scale);
		for (size_t i = 0; i < n; i++)
			mx = fmax(mx, (double)x[i] * scale);
		for (size_t i = 0; i < n; i++)
			s += exp((double)x[i] * scale - mx);
		for (size_t i = 0; i < n; i++) {
			double r = exp((double)x[i] * scale - mx) / s;
			if (fabs(y[i] - r) > 3e-7 * r * (fabs((double)x[i] * scale) + fabs(mx) + 8))
				fail_msg("softmax n %zu i %zu: %g vs %g", n, i, y[i], r);
		}
		for (size_t i = 0; i < n; i++)
			mean += x[i];
		mean /= (double)n;
		for (size_t i = 0; i < n; i++)
			var += (x[i] - mean) * (x[i] - mean);
		inv = 1.0 / sqrt(var / (double)n + 1e-5);
		ci_layernorm_row(x, y, n, w, t % 3 ? b : NULL, 1e-5f, &m, &iv);
		assert_true(fabs(m - mean) <= 1e-5 * (fabs(mean) + 1));
		assert_true(fabs(iv - inv) <= 1e-5 * inv);
		for (size_t i = 0; i < n; i++) {
			double r = (x[i] - mean) * inv * w[i] + (t % 3 ? b[i] : 0);
			if (fabs(y[i] - r) > 1e-5 * (fabs(r) + 1))
				fail_msg("layernorm n %zu i %zu: %g vs %g", n, i, y[i], r);
		}
		/* in place gives the same as out of place */
		memcpy(w + 0, x, n * sizeof(float));
		ci_softmax_row(x, y, n, scale);
		ci_softmax_row(w, w, n, scale);
		assert_memory_equal(w, y, n * sizeof(float));
	}
}

static void
test_rows(void **state)
{
	(void)state;
	if (cpu_avx2()) {
		assert_int_equal(ci_sgemm_path_set(CI_SGEMM_AVX2), 0);
		rows();
	}
	assert_int_equal(ci_sgemm_path_set(CI_SGEMM_PORTABLE), 0);
	rows();
	ci_sgemm_path_set(CI_SGEMM_AUTO);
}

/* Clamps and the AVX2 binary spans against plain C on odd lengths. */
static void
test_clamps_binary(void **state)
{
	static const size_t lens[] = { 1, 7, 8, 9, 17, 33, 100 };
	float x[100], b[100], y[100], z[100];

	(void)state;
	if (!cpu_avx2())
		skip();
	for (size_t t = 0; t < CI_ARRAY_LEN(lens); t++) {
		size_t n = lens[t];
		for (size_t i = 0; i < n; i++) {
			x[i] = rndf() * 10;
			b[i] = rndf() * 3 + 4;
		}
		x[n / 2] = NAN;
		for (int hs = 0; hs < 2; hs++) {
			assert_int_equal(ci_sgemm_path_set(CI_SGEMM_AVX2), 0);
			if (hs)
				ci_vhardswish(x, y, n);
			else
				ci_vhardsigmoid(x, y, n, 0.2f, 0.5f);
			assert_int_equal(ci_sgemm_path_set(CI_SGEMM_PORTABLE), 0);
			if (hs)
				ci_vhardswish(x, z, n);
			else
				ci_vhardsigmoid(x, z, n, 0.2f, 0.5f);
			for (size_t i = 0; i < n; i++) {
				if (isnan(z[i]) || isnan(y[i])) {
					assert_true(isnan(z[i]) && isnan(y[i]));
					continue;
				}
				assert_true(fabsf(y[i] - z[i]) <= 1e-6f * (fabsf(z[i]) + 1));
			}
		}
		for (int op = 0; op < 4; op++)
			for (int sa = 0; sa < 2; sa++)
				for (int sb = !sa; sb < 2; sb++) {
					ci_vbinary_avx2(op, x, sa, b, sb, y, n);
					for (size_t i = 0; i < n; i++) {
						float p = x[sa ? i : 0], q = b[sb ? i : 0];
						float r = op == 0 ? p + q : op == 1 ? p - q :
						    op == 2 ? p * q : p / q;
						assert_memory_equal(&y[i], &r, sizeof(r));
					}
				}
	}
	ci_sgemm_path_set(CI_SGEMM_AUTO);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_avx2),
		cmocka_unit_test(test_portable),
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_clamps_binary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
