/*
 * Single-precision GEMM, row major: C = alpha * op(A) op(B) + beta * C.
 * A plain blocked kernel: B is packed panel by panel (transposes resolved
 * while packing), four rows of C are updated per pass so each packed B row
 * is loaded once for four FMAs; the inner loop is left to the compiler's
 * vectorizer (-O3, see area.cmake). Issue 9 replaces this with packed
 * AVX-512/AVX2 micro-kernels chosen at run time.
 */
#include <string.h>

#include "runtime/rt.h"

#define KC 256

static inline float
a_at(int ta, const float *a, size_t lda, size_t i, size_t p)
{
	return ta ? a[p * lda + i] : a[i * lda + p];
}

void
ci_sgemm(int ta, int tb, size_t m, size_t n, size_t k, float alpha, const float *a,
    size_t lda, const float *b, size_t ldb, float beta, float *c, size_t ldc)
{
	float bp[KC * 64];
	float *pk;

	for (size_t i = 0; i < m; i++) {
		float *ci = c + i * ldc;
		if (beta == 0.0f)
			memset(ci, 0, n * sizeof(float));
		else if (beta != 1.0f)
			for (size_t j = 0; j < n; j++)
				ci[j] *= beta;
	}
	if (k == 0 || alpha == 0.0f)
		return;
	pk = bp;
	for (size_t p0 = 0; p0 < k; p0 += KC) {
		size_t kc = k - p0 < KC ? k - p0 : KC;
		for (size_t j0 = 0; j0 < n; j0 += 64) {
			size_t nc = n - j0 < 64 ? n - j0 : 64;
			/* pack B[p0:p0+kc, j0:j0+nc] as kc rows of nc */
			for (size_t p = 0; p < kc; p++) {
				float *dst = pk + p * nc;
				if (tb) {
					for (size_t j = 0; j < nc; j++)
						dst[j] = b[(j0 + j) * ldb + p0 + p];
				} else {
					memcpy(dst, b + (p0 + p) * ldb + j0, nc * sizeof(float));
				}
			}
			size_t i = 0;
			for (; i + 4 <= m; i += 4) {
				float acc[4][64];
				memset(acc, 0, sizeof(acc));
				for (size_t p = 0; p < kc; p++) {
					const float *br = pk + p * nc;
					float a0 = a_at(ta, a, lda, i, p0 + p);
					float a1 = a_at(ta, a, lda, i + 1, p0 + p);
					float a2 = a_at(ta, a, lda, i + 2, p0 + p);
					float a3 = a_at(ta, a, lda, i + 3, p0 + p);
					for (size_t j = 0; j < nc; j++) {
						float bv = br[j];
						acc[0][j] += a0 * bv;
						acc[1][j] += a1 * bv;
						acc[2][j] += a2 * bv;
						acc[3][j] += a3 * bv;
					}
				}
				for (size_t r = 0; r < 4; r++) {
					float *cr = c + (i + r) * ldc + j0;
					for (size_t j = 0; j < nc; j++)
						cr[j] += alpha * acc[r][j];
				}
			}
			for (; i < m; i++) {
				float acc[64];
				memset(acc, 0, sizeof(acc));
				for (size_t p = 0; p < kc; p++) {
					const float *br = pk + p * nc;
					float a0 = a_at(ta, a, lda, i, p0 + p);
					for (size_t j = 0; j < nc; j++)
						acc[j] += a0 * br[j];
				}
				float *cr = c + i * ldc + j0;
				for (size_t j = 0; j < nc; j++)
					cr[j] += alpha * acc[j];
			}
		}
	}
}
