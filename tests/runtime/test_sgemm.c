/*
 * ci_sgemm against a plain triple loop in double precision: both paths
 * (the packed AVX2+FMA kernel when the CPU has it, and the portable C
 * fallback, each forced with ci_sgemm_path_set), all four transpose
 * combinations, alpha/beta combinations, padded leading dimensions, sizes
 * 0 and 1, tails of the 6x16 tile and shapes crossing the MC/KC/NC blocks.
 * The error bound is scaled by k (|err| <= (k + 2) * eps * sum |alpha a b| +
 * |beta c|). Also: beta == 0 never reads C (NaN in C does not leak),
 * alpha == 0 never reads A or B, elements of C outside the m x n view are
 * never written, and concurrent calls from two threads agree.
 */
#include <float.h>
#include <math.h>
#include <pthread.h>

#include "testutil.h"

#include "runtime/rt.h"
#include "runtime/sgemm.h"

#define GUARD 12345.0f

static uint32_t seed = 1;

static float
rndf(void)
{
	seed = seed * 1664525u + 1013904223u;
	return (float)(seed >> 8) / 8388608.0f - 1.0f;
}

static size_t
rndn(size_t max)
{
	seed = seed * 1664525u + 1013904223u;
	return (size_t)((seed >> 8) % (uint32_t)(max + 1));
}

static int
cpu_avx2(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

/*
 * One call checked against the reference. A is stored as op(A) m x k (ta:
 * k x m), B as k x n (tb: n x k), leading dimensions padded by pad; C is m
 * rows of ldc = n + pad with guard values in the padding. cnan fills C with
 * NaN (only valid with beta == 0); abnan fills A and B with NaN (only valid
 * with alpha == 0).
 */
static void
check_one(int ta, int tb, size_t m, size_t n, size_t k, float alpha, float beta, size_t pad,
    int cnan, int abnan)
{
	size_t lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
	size_t arows = ta ? k : m, brows = tb ? n : k;
	size_t asz = arows * lda + 1, bsz = brows * ldb + 1, csz = m * ldc + 1;
	float *a = malloc(asz * sizeof(float)), *b = malloc(bsz * sizeof(float));
	float *c = malloc(csz * sizeof(float)), *c0 = malloc(csz * sizeof(float));

	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_non_null(c0);
	for (size_t i = 0; i < asz; i++)
		a[i] = abnan ? NAN : rndf();
	for (size_t i = 0; i < bsz; i++)
		b[i] = abnan ? NAN : rndf();
	for (size_t i = 0; i < csz; i++)
		c[i] = GUARD;
	for (size_t i = 0; i < m; i++)
		for (size_t j = 0; j < n; j++)
			c[i * ldc + j] = cnan ? NAN : rndf();
	memcpy(c0, c, csz * sizeof(float));

	ci_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);

	for (size_t i = 0; i < m; i++) {
		for (size_t j = 0; j < ldc; j++) {
			float got = c[i * ldc + j];
			if (j >= n) {
				if (got != GUARD)
					fail_msg("C[%zu][%zu] outside the view written (m %zu n %zu k %zu)",
					    i, j, m, n, k);
				continue;
			}
			double s = 0, sabs = 0;
			if (alpha != 0.0f) {
				for (size_t p = 0; p < k; p++) {
					double av = ta ? a[p * lda + i] : a[i * lda + p];
					double bv = tb ? b[j * ldb + p] : b[p * ldb + j];
					s += av * bv;
					sabs += fabs(av * bv);
				}
			}
			double cv = beta == 0.0f ? 0.0 : (double)beta * c0[i * ldc + j];
			double want = (double)alpha * s + cv;
			double tol = 1e-6 + (double)(k + 2) * FLT_EPSILON *
			    (fabs((double)alpha) * sabs + fabs(cv));
			if (!isfinite(got) || fabs(got - want) > tol)
				fail_msg("ta %d tb %d m %zu n %zu k %zu alpha %g beta %g pad %zu: "
				    "C[%zu][%zu] = %.9g, want %.9g (tol %.3g)", ta, tb, m, n, k,
				    (double)alpha, (double)beta, pad, i, j, (double)got, want, tol);
		}
	}
	free(a);
	free(b);
	free(c);
	free(c0);
}

static const float alphas[] = { 1.0f, -0.5f, 2.0f, 0.0f };
static const float betas[] = { 0.0f, 1.0f, 0.5f, -1.0f };

/* Every fixed edge shape and a batch of random ones, on the current path. */
static void
check_path(void)
{
	static const size_t dims[] = { 0, 1, 2, 5, 6, 7, 15, 16, 17, 31 };
	size_t nd = sizeof(dims) / sizeof(dims[0]);

	/* small shapes: every dim combination, rotating transposes, alpha, beta, pad */
	size_t t = 0;
	for (size_t x = 0; x < nd; x++)
		for (size_t y = 0; y < nd; y++)
			for (size_t z = 0; z < nd; z++, t++)
				check_one((int)(t & 1), (int)((t >> 1) & 1), dims[x], dims[y], dims[z],
				    alphas[(t / 4) % 4], betas[(t / 16) % 4], (t / 3) % 3, 0, 0);
	/* 1x1x1 in every mode */
	for (int ta = 0; ta < 2; ta++)
		for (int tb = 0; tb < 2; tb++)
			for (size_t ia = 0; ia < 4; ia++)
				for (size_t ib = 0; ib < 4; ib++)
					check_one(ta, tb, 1, 1, 1, alphas[ia], betas[ib], ta + tb, 0, 0);
	/* random shapes up to a few blocks (MC 120, KC 256, NC 384) */
	for (int r = 0; r < 40; r++) {
		size_t m = 1 + rndn(r < 8 ? 260 : 70), n = 1 + rndn(r < 8 ? 800 : 90);
		size_t k = 1 + rndn(r < 8 ? 600 : 90);
		check_one(r & 1, (r >> 1) & 1, m, n, k, alphas[(size_t)r % 3],
		    betas[(size_t)(r / 3) % 4], rndn(5), 0, 0);
	}
	/* few rows (m == 1: vector paths; m <= 6: B read in place) */
	static const size_t fn[] = { 16, 33, 100 }, fk[] = { 1, 17, 300 };
	t = 0;
	for (size_t mm = 1; mm <= 7; mm++)
		for (size_t x = 0; x < 3; x++)
			for (size_t z = 0; z < 3; z++, t++)
				check_one((int)(t & 1), (int)((t >> 1) & 1), mm, fn[x], fk[z],
				    alphas[(t / 4) % 3], betas[(t / 3) % 4], t % 3, 0, 0);
	for (int ta = 0; ta < 2; ta++)
		for (int tb = 0; tb < 2; tb++)
			check_one(ta, tb, 1, 512, 784, 1.0f, 0.5f, (size_t)(ta + tb), 0, 0);
	/* exact block boundaries and one past them */
	check_one(0, 0, 120, 384, 256, 1.0f, 0.0f, 0, 0, 0);
	check_one(0, 0, 121, 385, 257, 1.0f, 1.0f, 0, 0, 0);
	check_one(1, 1, 240, 400, 512, -1.0f, 0.5f, 2, 0, 0);
	/* MiniLM shapes (the ones that matter for speed) */
	check_one(0, 0, 128, 384, 384, 1.0f, 0.0f, 0, 0, 0);
	check_one(0, 1, 128, 128, 32, 0.125f, 0.0f, 0, 0, 0);
}

/* beta == 0 with NaN in C, and alpha == 0 with NaN in A and B, for every transpose. */
static void
check_nan(void)
{
	for (int ta = 0; ta < 2; ta++) {
		for (int tb = 0; tb < 2; tb++) {
			check_one(ta, tb, 13, 37, 300, 1.0f, 0.0f, 1, 1, 0);
			check_one(ta, tb, 6, 16, 8, -2.0f, 0.0f, 0, 1, 0);
			check_one(ta, tb, 1, 1, 1, 1.0f, 0.0f, 0, 1, 0);
			check_one(ta, tb, 1, 45, 20, 1.0f, 0.0f, 1, 1, 0);
			check_one(ta, tb, 4, 45, 20, 1.0f, 0.0f, 0, 1, 0);
			check_one(ta, tb, 9, 20, 7, 0.0f, 0.5f, 2, 0, 1);
			check_one(ta, tb, 9, 20, 7, 0.0f, 0.0f, 2, 1, 1);
			check_one(ta, tb, 9, 20, 0, 1.0f, 0.0f, 0, 1, 0);
		}
	}
}

static void
test_avx2(void **state)
{
	(void)state;
	if (!cpu_avx2()) {
		/* no such path on this CPU: forcing it must be refused */
		assert_int_equal(ci_sgemm_path_set(CI_SGEMM_AVX2), -1);
		assert_int_equal(ci_sgemm_path_get(), CI_SGEMM_PORTABLE);
		return;
	}
	assert_int_equal(ci_sgemm_path_set(CI_SGEMM_AVX2), 0);
	assert_int_equal(ci_sgemm_path_get(), CI_SGEMM_AVX2);
	check_path();
	check_nan();
	assert_int_equal(ci_sgemm_path_set(CI_SGEMM_AUTO), 0);
}

static void
test_portable(void **state)
{
	(void)state;
	assert_int_equal(ci_sgemm_path_set(CI_SGEMM_PORTABLE), 0);
	assert_int_equal(ci_sgemm_path_get(), CI_SGEMM_PORTABLE);
	check_path();
	check_nan();
	assert_int_equal(ci_sgemm_path_set(CI_SGEMM_AUTO), 0);
}

static void
test_auto(void **state)
{
	(void)state;
	assert_int_equal(ci_sgemm_path_set(CI_SGEMM_AUTO), 0);
	assert_int_equal(ci_sgemm_path_get(), cpu_avx2() ? CI_SGEMM_AVX2 : CI_SGEMM_PORTABLE);
	assert_int_equal(ci_sgemm_path_set((enum ci_sgemm_path)42), -1);
	assert_int_equal(ci_sgemm_path_get(), cpu_avx2() ? CI_SGEMM_AVX2 : CI_SGEMM_PORTABLE);
	/* the paths agree with each other closely on a MiniLM shape */
	size_t m = 128, n = 384, k = 384;
	float *a = malloc(m * k * sizeof(float)), *b = malloc(k * n * sizeof(float));
	float *c1 = malloc(m * n * sizeof(float)), *c2 = malloc(m * n * sizeof(float));
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c1);
	assert_non_null(c2);
	for (size_t i = 0; i < m * k; i++)
		a[i] = rndf();
	for (size_t i = 0; i < k * n; i++)
		b[i] = rndf();
	ci_sgemm(0, 0, m, n, k, 1.0f, a, k, b, n, 0.0f, c1, n);
	assert_int_equal(ci_sgemm_path_set(CI_SGEMM_PORTABLE), 0);
	ci_sgemm(0, 0, m, n, k, 1.0f, a, k, b, n, 0.0f, c2, n);
	assert_int_equal(ci_sgemm_path_set(CI_SGEMM_AUTO), 0);
	for (size_t i = 0; i < m * n; i++)
		assert_true(fabsf(c1[i] - c2[i]) <= 1e-3f);
	free(a);
	free(b);
	free(c1);
	free(c2);
}

struct job {
	const float *a, *b;
	float *c;
	size_t m, n, k;
};

static void *
run_job(void *arg)
{
	struct job *j = arg;

	for (int r = 0; r < 4; r++)
		ci_sgemm(0, 1, j->m, j->n, j->k, 1.0f, j->a, j->k, j->b, j->k, 0.0f, j->c, j->n);
	return NULL;
}

/* Two threads at once (thread-local packing buffers): same result as one call alone. */
static void
test_threads(void **state)
{
	size_t m = 150, n = 200, k = 300;
	float *a = malloc(m * k * sizeof(float)), *b = malloc(n * k * sizeof(float));
	float *c[3];
	struct job jobs[2];
	pthread_t th[2];

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	for (size_t i = 0; i < m * k; i++)
		a[i] = rndf();
	for (size_t i = 0; i < n * k; i++)
		b[i] = rndf();
	for (int i = 0; i < 3; i++) {
		c[i] = calloc(m * n, sizeof(float));
		assert_non_null(c[i]);
	}
	ci_sgemm(0, 1, m, n, k, 1.0f, a, k, b, k, 0.0f, c[2], n);
	for (int i = 0; i < 2; i++) {
		jobs[i] = (struct job){ a, b, c[i], m, n, k };
		assert_int_equal(pthread_create(&th[i], NULL, run_job, &jobs[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	assert_memory_equal(c[0], c[2], m * n * sizeof(float));
	assert_memory_equal(c[1], c[2], m * n * sizeof(float));
	free(a);
	free(b);
	for (int i = 0; i < 3; i++)
		free(c[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_avx2),
		cmocka_unit_test(test_portable),
		cmocka_unit_test(test_auto),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
