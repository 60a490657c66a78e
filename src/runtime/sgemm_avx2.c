/*
 * SGEMM with an AVX2+FMA micro-kernel, in the GotoBLAS/BLIS layout:
 *
 *   for each NC-wide column block of C            (B block lives in L2/L3)
 *     for each KC-deep slice of k:  pack B[KC x NC] into NR-wide panels
 *       for each MC-tall row block: pack A[MC x KC] into MR-tall panels (L2)
 *         for each NR panel of B (stays in L1), for each MR panel of A:
 *           6x16 micro-kernel: 12 ymm accumulators, 2 loads of B and 6
 *           broadcasts of A per step of k, 12 FMAs.
 *
 * Transposes are resolved while packing, so the kernel only ever sees one
 * layout. Panels are zero-padded at the edges: the kernel always computes
 * a full 6x16 tile, edge tiles go through a small buffer and only the valid
 * part is written back. beta is applied on the first k slice only (later
 * slices accumulate), and beta == 0 never reads C.
 *
 * Packing buffers are thread-local and fixed (MC*KC + KC*NC floats, 504 KiB
 * per thread that calls ci_sgemm), so a call never allocates.
 *
 * Built with -mavx2 -mfma (area.cmake); sgemm.c only calls it on CPUs that
 * have both.
 */
#include <immintrin.h>
#include <string.h>

#include "runtime/sgemm.h"

#define MR 6
#define NR 16
#define KC 256
#define MC 120	/* multiple of MR */
#define NC 384	/* multiple of NR */

static _Thread_local float apack[MC * KC] __attribute__((aligned(64)));
static _Thread_local float bpack[KC * NC] __attribute__((aligned(64)));

static inline size_t
min_sz(size_t x, size_t y)
{
	return x < y ? x : y;
}

/* apack = op(A)[i0:i0+mc, p0:p0+kc] as MR-tall panels, each kc steps of MR floats. */
static void
pack_a(int ta, const float *a, size_t lda, size_t i0, size_t mc, size_t p0, size_t kc)
{
	for (size_t ir = 0; ir < mc; ir += MR) {
		size_t mr = min_sz(MR, mc - ir);
		float *dst = apack + ir * kc;

		if (ta) {
			for (size_t p = 0; p < kc; p++) {
				const float *src = a + (p0 + p) * lda + i0 + ir;
				size_t r = 0;
				for (; r < mr; r++)
					dst[p * MR + r] = src[r];
				for (; r < MR; r++)
					dst[p * MR + r] = 0.0f;
			}
		} else if (mr == MR) {
			const float *s0 = a + (i0 + ir) * lda + p0;
			for (size_t p = 0; p < kc; p++) {
				dst[p * MR + 0] = s0[p];
				dst[p * MR + 1] = s0[lda + p];
				dst[p * MR + 2] = s0[2 * lda + p];
				dst[p * MR + 3] = s0[3 * lda + p];
				dst[p * MR + 4] = s0[4 * lda + p];
				dst[p * MR + 5] = s0[5 * lda + p];
			}
		} else {
			for (size_t p = 0; p < kc; p++) {
				size_t r = 0;
				for (; r < mr; r++)
					dst[p * MR + r] = a[(i0 + ir + r) * lda + p0 + p];
				for (; r < MR; r++)
					dst[p * MR + r] = 0.0f;
			}
		}
	}
}

/* dst[q * ldd + i] = src[i * lds + q] for an 8x8 block (B transposed into a panel). */
static inline void
tr8x8(const float *src, size_t lds, float *dst, size_t ldd)
{
	__m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + lds);
	__m256 r2 = _mm256_loadu_ps(src + 2 * lds), r3 = _mm256_loadu_ps(src + 3 * lds);
	__m256 r4 = _mm256_loadu_ps(src + 4 * lds), r5 = _mm256_loadu_ps(src + 5 * lds);
	__m256 r6 = _mm256_loadu_ps(src + 6 * lds), r7 = _mm256_loadu_ps(src + 7 * lds);
	__m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
	__m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
	__m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
	__m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
	__m256 u0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
	__m256 u1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
	__m256 u2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
	__m256 u3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
	__m256 u4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
	__m256 u5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
	__m256 u6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
	__m256 u7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));

	_mm256_storeu_ps(dst, _mm256_permute2f128_ps(u0, u4, 0x20));
	_mm256_storeu_ps(dst + ldd, _mm256_permute2f128_ps(u1, u5, 0x20));
	_mm256_storeu_ps(dst + 2 * ldd, _mm256_permute2f128_ps(u2, u6, 0x20));
	_mm256_storeu_ps(dst + 3 * ldd, _mm256_permute2f128_ps(u3, u7, 0x20));
	_mm256_storeu_ps(dst + 4 * ldd, _mm256_permute2f128_ps(u0, u4, 0x31));
	_mm256_storeu_ps(dst + 5 * ldd, _mm256_permute2f128_ps(u1, u5, 0x31));
	_mm256_storeu_ps(dst + 6 * ldd, _mm256_permute2f128_ps(u2, u6, 0x31));
	_mm256_storeu_ps(dst + 7 * ldd, _mm256_permute2f128_ps(u3, u7, 0x31));
}

/* bpack = op(B)[p0:p0+kc, j0:j0+nc] as NR-wide panels, each kc steps of NR floats. */
static void
pack_b(int tb, const float *b, size_t ldb, size_t p0, size_t kc, size_t j0, size_t nc)
{
	for (size_t jr = 0; jr < nc; jr += NR) {
		size_t nr = min_sz(NR, nc - jr);
		float *dst = bpack + jr * kc;

		if (tb && nr == NR) {
			const float *src = b + (j0 + jr) * ldb + p0;
			size_t p = 0;
			for (; p + 8 <= kc; p += 8) {
				tr8x8(src + p, ldb, dst + p * NR, NR);
				tr8x8(src + 8 * ldb + p, ldb, dst + p * NR + 8, NR);
			}
			for (; p < kc; p++)
				for (size_t j = 0; j < NR; j++)
					dst[p * NR + j] = src[j * ldb + p];
		} else if (tb) {
			memset(dst, 0, kc * NR * sizeof(float));
			for (size_t j = 0; j < nr; j++) {
				const float *src = b + (j0 + jr + j) * ldb + p0;
				for (size_t p = 0; p < kc; p++)
					dst[p * NR + j] = src[p];
			}
		} else if (nr == NR) {
			for (size_t p = 0; p < kc; p++) {
				const float *src = b + (p0 + p) * ldb + j0 + jr;
				_mm256_store_ps(dst + p * NR, _mm256_loadu_ps(src));
				_mm256_store_ps(dst + p * NR + 8, _mm256_loadu_ps(src + 8));
			}
		} else {
			for (size_t p = 0; p < kc; p++) {
				const float *src = b + (p0 + p) * ldb + j0 + jr;
				size_t j = 0;
				for (; j < nr; j++)
					dst[p * NR + j] = src[j];
				for (; j < NR; j++)
					dst[p * NR + j] = 0.0f;
			}
		}
	}
}

#define KSTEP(r, x0, x1) do { \
	__m256 av_ = _mm256_broadcast_ss(ap + (r)); \
	x0 = _mm256_fmadd_ps(av_, b0, x0); \
	x1 = _mm256_fmadd_ps(av_, b1, x1); \
} while (0)

#define STORE(r, x0, x1) do { \
	float *cr_ = c + (r) * ldc; \
	if (beta == 0.0f) { \
		_mm256_storeu_ps(cr_, _mm256_mul_ps(va, x0)); \
		_mm256_storeu_ps(cr_ + 8, _mm256_mul_ps(va, x1)); \
	} else { \
		_mm256_storeu_ps(cr_, _mm256_fmadd_ps(va, x0, \
		    _mm256_mul_ps(vb, _mm256_loadu_ps(cr_)))); \
		_mm256_storeu_ps(cr_ + 8, _mm256_fmadd_ps(va, x1, \
		    _mm256_mul_ps(vb, _mm256_loadu_ps(cr_ + 8)))); \
	} \
} while (0)

/*
 * C[6x16] = alpha * Apanel Bpanel + beta * C (C not read when beta == 0).
 * Rows of the B panel are ldbp floats apart: NR when packed, ldb when B is
 * read in place (few rows of A, see ci_sgemm_avx2).
 */
static inline __attribute__((always_inline)) void
kernel(size_t kc, const float *restrict ap, const float *restrict bp, size_t ldbp,
    float *restrict c, size_t ldc, float alpha, float beta)
{
	__m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
	__m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
	__m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
	__m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
	__m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
	__m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
	__m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);

	for (int r = 0; r < MR; r++) {
		_mm_prefetch((const char *)(c + (size_t)r * ldc), _MM_HINT_T0);
		_mm_prefetch((const char *)(c + (size_t)r * ldc + NR - 1), _MM_HINT_T0);
	}
#pragma GCC unroll 4
	for (size_t p = 0; p < kc; p++) {
		__m256 b0 = _mm256_loadu_ps(bp), b1 = _mm256_loadu_ps(bp + 8);

		KSTEP(0, c00, c01);
		KSTEP(1, c10, c11);
		KSTEP(2, c20, c21);
		KSTEP(3, c30, c31);
		KSTEP(4, c40, c41);
		KSTEP(5, c50, c51);
		ap += MR;
		bp += ldbp;
	}
	STORE(0, c00, c01);
	STORE(1, c10, c11);
	STORE(2, c20, c21);
	STORE(3, c30, c31);
	STORE(4, c40, c41);
	STORE(5, c50, c51);
}

/* A partial tile (mr < MR or nr < NR): full kernel into a buffer, valid part written back. */
static void
kernel_edge(size_t kc, const float *ap, const float *bp, size_t ldbp, float *c, size_t ldc,
    size_t mr, size_t nr, float alpha, float beta)
{
	float t[MR * NR] __attribute__((aligned(32)));

	kernel(kc, ap, bp, ldbp, t, NR, 1.0f, 0.0f);
	for (size_t r = 0; r < mr; r++) {
		float *cr = c + r * ldc;
		const float *tr = t + r * NR;
		if (beta == 0.0f)
			for (size_t j = 0; j < nr; j++)
				cr[j] = alpha * tr[j];
		else
			for (size_t j = 0; j < nr; j++)
				cr[j] = alpha * tr[j] + beta * cr[j];
	}
}

static inline float
hsum(__m256 v)
{
	__m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));

	x = _mm_add_ps(x, _mm_movehl_ps(x, x));
	x = _mm_add_ss(x, _mm_movehdup_ps(x));
	return _mm_cvtss_f32(x);
}

static inline float
scale_out(float acc, float alpha, float beta, const float *c)
{
	return beta == 0.0f ? alpha * acc : alpha * acc + beta * *c;
}

static inline void
store8(float *c, __m256 acc, __m256 va, float beta)
{
	if (beta == 0.0f)
		_mm256_storeu_ps(c, _mm256_mul_ps(va, acc));
	else
		_mm256_storeu_ps(c, _mm256_fmadd_ps(va, acc,
		    _mm256_mul_ps(_mm256_set1_ps(beta), _mm256_loadu_ps(c))));
}

/* m == 1, B not transposed: c[j] = alpha * sum_p a[p * inca] b[p][j] (+ beta c[j]). */
static void
gemv_n(size_t n, size_t k, float alpha, const float *a, size_t inca, const float *b,
    size_t ldb, float beta, float *c)
{
	__m256 va = _mm256_set1_ps(alpha);
	size_t j = 0;

	for (; j + 32 <= n; j += 32) {
		__m256 x0 = _mm256_setzero_ps(), x1 = _mm256_setzero_ps();
		__m256 x2 = _mm256_setzero_ps(), x3 = _mm256_setzero_ps();
		for (size_t p = 0; p < k; p++) {
			const float *br = b + p * ldb + j;
			__m256 av = _mm256_broadcast_ss(a + p * inca);
			x0 = _mm256_fmadd_ps(av, _mm256_loadu_ps(br), x0);
			x1 = _mm256_fmadd_ps(av, _mm256_loadu_ps(br + 8), x1);
			x2 = _mm256_fmadd_ps(av, _mm256_loadu_ps(br + 16), x2);
			x3 = _mm256_fmadd_ps(av, _mm256_loadu_ps(br + 24), x3);
		}
		store8(c + j, x0, va, beta);
		store8(c + j + 8, x1, va, beta);
		store8(c + j + 16, x2, va, beta);
		store8(c + j + 24, x3, va, beta);
	}
	for (; j + 8 <= n; j += 8) {
		__m256 x0 = _mm256_setzero_ps();
		for (size_t p = 0; p < k; p++)
			x0 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + p * inca),
			    _mm256_loadu_ps(b + p * ldb + j), x0);
		store8(c + j, x0, va, beta);
	}
	for (; j < n; j++) {
		float acc = 0.0f;
		for (size_t p = 0; p < k; p++)
			acc += a[p * inca] * b[p * ldb + j];
		c[j] = scale_out(acc, alpha, beta, c + j);
	}
}

/* m == 1, A row contiguous, B transposed: c[j] = alpha * dot(a, b[j]) (+ beta c[j]). */
static void
gemv_t(size_t n, size_t k, float alpha, const float *a, const float *b, size_t ldb,
    float beta, float *c)
{
	for (size_t j = 0; j < n; j++) {
		const float *br = b + j * ldb;
		__m256 x0 = _mm256_setzero_ps(), x1 = _mm256_setzero_ps();
		size_t p = 0;
		for (; p + 16 <= k; p += 16) {
			x0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + p), _mm256_loadu_ps(br + p), x0);
			x1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + p + 8), _mm256_loadu_ps(br + p + 8),
			    x1);
		}
		float acc = hsum(_mm256_add_ps(x0, x1));
		for (; p < k; p++)
			acc += a[p] * br[p];
		c[j] = scale_out(acc, alpha, beta, c + j);
	}
}

void
ci_sgemm_avx2(int ta, int tb, size_t m, size_t n, size_t k, float alpha, const float *a,
    size_t lda, const float *b, size_t ldb, float beta, float *c, size_t ldc)
{
	if (m == 0 || n == 0)
		return;
	if (k == 0 || alpha == 0.0f) {
		/* C = beta * C without reading A or B (nor C when beta == 0) */
		for (size_t i = 0; i < m; i++) {
			float *ci = c + i * ldc;
			if (beta == 0.0f)
				memset(ci, 0, n * sizeof(float));
			else if (beta != 1.0f)
				for (size_t j = 0; j < n; j++)
					ci[j] *= beta;
		}
		return;
	}
	if (m == 1 && !tb) {
		gemv_n(n, k, alpha, a, ta ? lda : 1, b, ldb, beta, c);
		return;
	}
	if (m == 1 && !ta) {
		gemv_t(n, k, alpha, a, b, ldb, beta, c);
		return;
	}
	if (m <= MR && !tb) {
		/*
		 * One panel of A (batch-1 layers): each element of B is used once,
		 * so B is read in place, not packed; only a column tail narrower
		 * than NR is packed (zero-padded) into bpack.
		 */
		for (size_t pc = 0; pc < k; pc += KC) {
			size_t kc = min_sz(KC, k - pc);
			float bk = pc == 0 ? beta : 1.0f;

			pack_a(ta, a, lda, 0, m, pc, kc);
			for (size_t jr = 0; jr < n; jr += NR) {
				size_t nr = min_sz(NR, n - jr);
				float *cp = c + jr;

				if (nr < NR) {
					pack_b(0, b, ldb, pc, kc, jr, nr);
					kernel_edge(kc, apack, bpack, NR, cp, ldc, m, nr, alpha, bk);
				} else if (m < MR) {
					kernel_edge(kc, apack, b + pc * ldb + jr, ldb, cp, ldc, m, nr,
					    alpha, bk);
				} else {
					kernel(kc, apack, b + pc * ldb + jr, ldb, cp, ldc, alpha, bk);
				}
			}
		}
		return;
	}
	for (size_t jc = 0; jc < n; jc += NC) {
		size_t nc = min_sz(NC, n - jc);
		for (size_t pc = 0; pc < k; pc += KC) {
			size_t kc = min_sz(KC, k - pc);
			float bk = pc == 0 ? beta : 1.0f;

			pack_b(tb, b, ldb, pc, kc, jc, nc);
			for (size_t ic = 0; ic < m; ic += MC) {
				size_t mc = min_sz(MC, m - ic);

				pack_a(ta, a, lda, ic, mc, pc, kc);
				for (size_t jr = 0; jr < nc; jr += NR) {
					size_t nr = min_sz(NR, nc - jr);
					for (size_t ir = 0; ir < mc; ir += MR) {
						size_t mr = min_sz(MR, mc - ir);
						float *cp = c + (ic + ir) * ldc + jc + jr;
						const float *ap = apack + ir * kc;
						const float *bp = bpack + jr * kc;

						if (mr == MR && nr == NR)
							kernel(kc, ap, bp, NR, cp, ldc, alpha, bk);
						else
							kernel_edge(kc, ap, bp, NR, cp, ldc, mr, nr,
							    alpha, bk);
					}
				}
			}
		}
	}
}
