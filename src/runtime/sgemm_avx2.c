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
 * layout. Panels are zero-padded at the edges. Edge tiles (m % 6, n % 16)
 * get kernels of their own size rather than a full 6x16 tile: R rows (1..6)
 * times 8 or 16 columns with the last 8 masked (vmaskmovps), or, for 1..4
 * columns, a column-major kernel (one ymm per column of the tile). beta is
 * applied on the first k slice only (later slices accumulate), and beta ==
 * 0 never reads C.
 *
 * Packing buffers are thread-local and fixed (MC*KC + KC*NC floats, 504 KiB
 * per thread that calls ci_sgemm), so a call never allocates.
 *
 * Built with -mavx2 -mfma (area.cmake); sgemm.c only calls it on CPUs that
 * have both.
 */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "runtime/sgemm.h"

#define MR CI_SGEMM_MR
#define NR CI_SGEMM_NR
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

/*
 * dst[q * MR + r] = src[r * lds + q] for 6 rows of 8 (A into a panel): an
 * 8x8 transpose with two zero rows; each column is stored 8 wide (its last
 * two floats are overwritten by the next column), the last one masked.
 */
static inline void
tr6x8(const float *src, size_t lds, float *dst)
{
	__m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + lds);
	__m256 r2 = _mm256_loadu_ps(src + 2 * lds), r3 = _mm256_loadu_ps(src + 3 * lds);
	__m256 r4 = _mm256_loadu_ps(src + 4 * lds), r5 = _mm256_loadu_ps(src + 5 * lds);
	__m256 z = _mm256_setzero_ps();
	__m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
	__m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
	__m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
	__m256 u0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
	__m256 u1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
	__m256 u2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
	__m256 u3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
	__m256 u4 = _mm256_shuffle_ps(t4, z, _MM_SHUFFLE(1, 0, 1, 0));
	__m256 u5 = _mm256_shuffle_ps(t4, z, _MM_SHUFFLE(3, 2, 3, 2));
	__m256 u6 = _mm256_shuffle_ps(t5, z, _MM_SHUFFLE(1, 0, 1, 0));
	__m256 u7 = _mm256_shuffle_ps(t5, z, _MM_SHUFFLE(3, 2, 3, 2));
	__m256i last = _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, 0, 0);

	_mm256_storeu_ps(dst, _mm256_permute2f128_ps(u0, u4, 0x20));
	_mm256_storeu_ps(dst + MR, _mm256_permute2f128_ps(u1, u5, 0x20));
	_mm256_storeu_ps(dst + 2 * MR, _mm256_permute2f128_ps(u2, u6, 0x20));
	_mm256_storeu_ps(dst + 3 * MR, _mm256_permute2f128_ps(u3, u7, 0x20));
	_mm256_storeu_ps(dst + 4 * MR, _mm256_permute2f128_ps(u0, u4, 0x31));
	_mm256_storeu_ps(dst + 5 * MR, _mm256_permute2f128_ps(u1, u5, 0x31));
	_mm256_storeu_ps(dst + 6 * MR, _mm256_permute2f128_ps(u2, u6, 0x31));
	_mm256_maskstore_ps(dst + 7 * MR, last, _mm256_permute2f128_ps(u3, u7, 0x31));
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
			size_t p = 0;
			for (; p + 8 <= kc; p += 8)
				tr6x8(s0 + p, lda, dst + p * MR);
			for (; p < kc; p++) {
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

/*
 * A partial tile (mr < MR or nr < NR) at near the full kernel's speed: R
 * rows (1..MR) times W ymm columns (1: nr <= 8, 2: nr > 8), so the work
 * done is R x 8W, not MR x NR; the last ymm column is loaded from C and
 * stored with the lanes of mask only (vmaskmovps). The panels are
 * zero-padded, so B is always read 8W wide. R and W are constants after
 * inlining (one copy per pair, see kernel_edge).
 */
static inline __attribute__((always_inline)) void
kernel_rw(size_t kc, const float *restrict ap, const float *restrict bp, size_t ldbp,
    float *restrict c, size_t ldc, float alpha, float beta, const int R, const int W,
    __m256i mask)
{
	__m256 x[MR][2];
	__m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);

#pragma GCC unroll 6
	for (int r = 0; r < R; r++) {
		x[r][0] = _mm256_setzero_ps();
		x[r][1] = _mm256_setzero_ps();
		_mm_prefetch((const char *)(c + (size_t)r * ldc), _MM_HINT_T0);
	}
#pragma GCC unroll 4
	for (size_t p = 0; p < kc; p++) {
		__m256 b0 = _mm256_loadu_ps(bp), b1 = W == 2 ? _mm256_loadu_ps(bp + 8) : b0;

#pragma GCC unroll 6
		for (int r = 0; r < R; r++) {
			__m256 av = _mm256_broadcast_ss(ap + r);
			x[r][0] = _mm256_fmadd_ps(av, b0, x[r][0]);
			if (W == 2)
				x[r][1] = _mm256_fmadd_ps(av, b1, x[r][1]);
		}
		ap += MR;
		bp += ldbp;
	}
#pragma GCC unroll 6
	for (int r = 0; r < R; r++) {
		float *cr = c + (size_t)r * ldc, *cl = cr + 8 * (W - 1);
		__m256 last = x[r][W - 1];

		if (W == 2) {
			if (beta == 0.0f)
				_mm256_storeu_ps(cr, _mm256_mul_ps(va, x[r][0]));
			else
				_mm256_storeu_ps(cr, _mm256_fmadd_ps(va, x[r][0],
				    _mm256_mul_ps(vb, _mm256_loadu_ps(cr))));
		}
		if (beta == 0.0f)
			last = _mm256_mul_ps(va, last);
		else
			last = _mm256_fmadd_ps(va, last,
			    _mm256_mul_ps(vb, _mm256_maskload_ps(cl, mask)));
		_mm256_maskstore_ps(cl, mask, last);
	}
}

/*
 * A tile of J <= 4 columns (N % 16 in 1..4: ResNet's 49 and 196 columns)
 * the other way round: one ymm holds a column of the tile (its MR rows in
 * lanes 0..5), so a step of k costs one load of the A panel, J broadcasts
 * of B and J FMAs instead of MR of each. S partial sums per column over
 * alternating steps of k hide the FMA latency (4 for J <= 2, else 2). An 8-wide load of the A
 * panel at step p reads 2 floats of step p + 1, so the last step (and any
 * left over from the unrolled loop) uses a masked load.
 */
static inline __attribute__((always_inline)) void
kernel_cols(size_t kc, const float *restrict ap, const float *restrict bp, size_t ldbp,
    float *restrict c, size_t ldc, size_t mr, float alpha, float beta, const int J)
{
	const int S = J <= 2 ? 4 : 2;	/* at most 8 accumulators: no spills */
	__m256 x[4][4];
	__m256i amask = _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, 0, 0);
	float t[4][8] __attribute__((aligned(32)));
	size_t p = 0;

#pragma GCC unroll 4
	for (int s = 0; s < S; s++)
#pragma GCC unroll 4
		for (int j = 0; j < J; j++)
			x[s][j] = _mm256_setzero_ps();
	for (; p + S < kc; p += S) {
#pragma GCC unroll 4
		for (int s = 0; s < S; s++) {
			__m256 av = _mm256_loadu_ps(ap + (p + s) * MR);
			const float *br = bp + (p + s) * ldbp;
#pragma GCC unroll 4
			for (int j = 0; j < J; j++)
				x[s][j] = _mm256_fmadd_ps(av, _mm256_broadcast_ss(br + j), x[s][j]);
		}
	}
	for (; p < kc; p++) {
		__m256 av = _mm256_maskload_ps(ap + p * MR, amask);
#pragma GCC unroll 4
		for (int j = 0; j < J; j++)
			x[0][j] = _mm256_fmadd_ps(av, _mm256_broadcast_ss(bp + p * ldbp + j), x[0][j]);
	}
#pragma GCC unroll 4
	for (int j = 0; j < J; j++) {
		__m256 v = _mm256_add_ps(x[0][j], x[1][j]);
		if (S == 4)
			v = _mm256_add_ps(v, _mm256_add_ps(x[2][j], x[3][j]));
		_mm256_store_ps(t[j], v);
	}
	for (size_t r = 0; r < mr; r++) {
		float *cr = c + r * ldc;
#pragma GCC unroll 4
		for (int j = 0; j < J; j++)
			cr[j] = beta == 0.0f ? alpha * t[j][r] : alpha * t[j][r] + beta * cr[j];
	}
}

#define EDGE_CASE(R) \
	case R: \
		if (nr > 8) \
			kernel_rw(kc, ap, bp, ldbp, c, ldc, alpha, beta, R, 2, mask); \
		else \
			kernel_rw(kc, ap, bp, ldbp, c, ldc, alpha, beta, R, 1, mask); \
		break

/* Lanes 0..n-1 of a vmaskmovps mask (n in 1..8). */
static inline __m256i
lanes(size_t n)
{
	static const int32_t m[16] = { -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0 };

	return _mm256_loadu_si256((const __m256i *)(m + 8 - n));
}

/* A partial tile: mr rows (1..MR) and nr columns (1..NR) of C. */
static void
kernel_edge(size_t kc, const float *ap, const float *bp, size_t ldbp, float *c, size_t ldc,
    size_t mr, size_t nr, float alpha, float beta)
{
	__m256i mask = lanes(nr > 8 ? nr - 8 : nr);

	switch (nr) {
	case 1:
		kernel_cols(kc, ap, bp, ldbp, c, ldc, mr, alpha, beta, 1);
		return;
	case 2:
		kernel_cols(kc, ap, bp, ldbp, c, ldc, mr, alpha, beta, 2);
		return;
	case 3:
		kernel_cols(kc, ap, bp, ldbp, c, ldc, mr, alpha, beta, 3);
		return;
	case 4:
		kernel_cols(kc, ap, bp, ldbp, c, ldc, mr, alpha, beta, 4);
		return;
	default:
		break;
	}
	switch (mr) {
	EDGE_CASE(1);
	EDGE_CASE(2);
	EDGE_CASE(3);
	EDGE_CASE(4);
	EDGE_CASE(5);
	default:
		if (nr > 8)
			kernel_rw(kc, ap, bp, ldbp, c, ldc, alpha, beta, MR, 2, mask);
		else
			kernel_rw(kc, ap, bp, ldbp, c, ldc, alpha, beta, MR, 1, mask);
		break;
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
	if (j < n) {
		/* the last n % 8 columns, masked (vmaskmovps never touches the others) */
		__m256i mask = lanes(n - j);
		__m256 x0 = _mm256_setzero_ps(), x1 = _mm256_setzero_ps();
		size_t p = 0;

		for (; p + 2 <= k; p += 2) {
			x0 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + p * inca),
			    _mm256_maskload_ps(b + p * ldb + j, mask), x0);
			x1 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + (p + 1) * inca),
			    _mm256_maskload_ps(b + (p + 1) * ldb + j, mask), x1);
		}
		if (p < k)
			x0 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + p * inca),
			    _mm256_maskload_ps(b + p * ldb + j, mask), x0);
		x0 = _mm256_mul_ps(va, _mm256_add_ps(x0, x1));
		if (beta != 0.0f)
			x0 = _mm256_fmadd_ps(_mm256_set1_ps(beta), _mm256_maskload_ps(c + j, mask), x0);
		_mm256_maskstore_ps(c + j, mask, x0);
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

/* ---- fused epilogue on a finished tile of C (still in L1) ---------------- */

/*
 * erf(x) as x P(x^2) / Q(x^2) on [-4, 4] (|erf| rounds to 1 beyond), the
 * rational minimax form Eigen and XLA use for float; max abs error about
 * 2e-7 against erff (test_gemm_ex checks it).
 */
static inline __m256
erf8(__m256 x)
{
	__m256 z, p, q;

	x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-4.0f)), _mm256_set1_ps(4.0f));
	z = _mm256_mul_ps(x, x);
	p = _mm256_set1_ps(-2.72614225801306e-10f);
	p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(2.77068142495902e-08f));
	p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-2.10102402082508e-06f));
	p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-5.69250639462346e-05f));
	p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-7.34990630326855e-04f));
	p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-2.95459980854025e-03f));
	p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-1.60960333262415e-02f));
	p = _mm256_mul_ps(p, x);
	q = _mm256_set1_ps(-1.45660718464996e-05f);
	q = _mm256_fmadd_ps(q, z, _mm256_set1_ps(-2.13374055278905e-04f));
	q = _mm256_fmadd_ps(q, z, _mm256_set1_ps(-1.68282697438203e-03f));
	q = _mm256_fmadd_ps(q, z, _mm256_set1_ps(-7.37332916720468e-03f));
	q = _mm256_fmadd_ps(q, z, _mm256_set1_ps(-1.42647390514189e-02f));
	return _mm256_div_ps(p, q);
}

static inline __m256
act8(const struct ci_gemm_epi *ep, __m256 v)
{
	__m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f), h;

	switch (ep->act) {
	case CI_ACT_RELU:
		return _mm256_max_ps(v, zero);
	case CI_ACT_CLIP:
		/* as the reference: v < lo ? lo : v > hi ? hi : v (NaN passes) */
		h = _mm256_blendv_ps(v, _mm256_set1_ps(ep->a),
		    _mm256_cmp_ps(v, _mm256_set1_ps(ep->a), _CMP_LT_OQ));
		return _mm256_blendv_ps(h, _mm256_set1_ps(ep->b),
		    _mm256_cmp_ps(v, _mm256_set1_ps(ep->b), _CMP_GT_OQ));
	case CI_ACT_LEAKY:
		return _mm256_blendv_ps(_mm256_mul_ps(v, _mm256_set1_ps(ep->a)), v,
		    _mm256_cmp_ps(v, zero, _CMP_GE_OQ));
	case CI_ACT_HARDSIGMOID:
		h = _mm256_fmadd_ps(_mm256_set1_ps(ep->a), v, _mm256_set1_ps(ep->b));
		return _mm256_min_ps(_mm256_max_ps(h, zero), one);
	case CI_ACT_HARDSWISH:
		h = _mm256_fmadd_ps(v, _mm256_set1_ps(1.0f / 6.0f), _mm256_set1_ps(0.5f));
		return _mm256_mul_ps(v, _mm256_min_ps(_mm256_max_ps(h, zero), one));
	case CI_ACT_GELU:
		h = erf8(_mm256_mul_ps(v, _mm256_set1_ps(0.70710678118654752f)));
		return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), v), _mm256_add_ps(one, h));
	default:
		return v;
	}
}

/* The epilogue over C[i:i+mr, j:j+nr] (c points at its first element). */
static void
epi_tile(const struct ci_gemm_epi *ep, float *c, size_t ldc, size_t i, size_t mr, size_t j,
    size_t nr)
{
	if (ep->act == CI_ACT_SIGMOID) {
		ci_gemm_epi_apply(ep, i, mr, j, nr, c, ldc);
		return;
	}
	for (size_t r = 0; r < mr; r++) {
		float *row = c + r * ldc;
		size_t q = 0;

		for (; q + 8 <= nr; q += 8) {
			__m256 v = _mm256_loadu_ps(row + q);
			if (ep->bias)
				v = _mm256_add_ps(v, ep->bias_per_row ?
				    _mm256_set1_ps(ep->bias[i + r]) : _mm256_loadu_ps(ep->bias + j + q));
			_mm256_storeu_ps(row + q, act8(ep, v));
		}
		if (q < nr) {
			/* the last nr % 8 columns, masked */
			__m256i mask = lanes(nr - q);
			__m256 v = _mm256_maskload_ps(row + q, mask);
			if (ep->bias)
				v = _mm256_add_ps(v, ep->bias_per_row ? _mm256_set1_ps(ep->bias[i + r]) :
				    _mm256_maskload_ps(ep->bias + j + q, mask));
			_mm256_maskstore_ps(row + q, mask, act8(ep, v));
		}
	}
}

/* ---- m == 1 against a packed B: read each weight once, streaming ---------- */
static void
gemv_packed(const struct ci_gemm_job *g, size_t i0, size_t j0, size_t j1)
{
	const struct ci_sgemm_packed *pb = g->pb;
	size_t k = g->k, inca = g->ta ? g->lda : 1;
	__m256 va = _mm256_set1_ps(g->alpha);

	for (size_t j = j0; j < j1; j += NR) {
		const float *bp = pb->data + j / NR * NR * k;
		__m256 x0 = _mm256_setzero_ps(), x1 = _mm256_setzero_ps();
		__m256 y0 = _mm256_setzero_ps(), y1 = _mm256_setzero_ps();
		size_t p = 0, nr = min_sz(NR, j1 - j);
		float t[NR] __attribute__((aligned(32)));

		for (; p + 2 <= k; p += 2) {
			__m256 a0 = _mm256_broadcast_ss(g->a + p * inca);
			__m256 a1 = _mm256_broadcast_ss(g->a + (p + 1) * inca);
			_mm_prefetch((const char *)(bp + (p + 16) * NR), _MM_HINT_T0);
			_mm_prefetch((const char *)(bp + (p + 17) * NR), _MM_HINT_T0);
			x0 = _mm256_fmadd_ps(a0, _mm256_loadu_ps(bp + p * NR), x0);
			x1 = _mm256_fmadd_ps(a0, _mm256_loadu_ps(bp + p * NR + 8), x1);
			y0 = _mm256_fmadd_ps(a1, _mm256_loadu_ps(bp + (p + 1) * NR), y0);
			y1 = _mm256_fmadd_ps(a1, _mm256_loadu_ps(bp + (p + 1) * NR + 8), y1);
		}
		if (p < k) {
			__m256 a0 = _mm256_broadcast_ss(g->a + p * inca);
			x0 = _mm256_fmadd_ps(a0, _mm256_loadu_ps(bp + p * NR), x0);
			x1 = _mm256_fmadd_ps(a0, _mm256_loadu_ps(bp + p * NR + 8), x1);
		}
		x0 = _mm256_mul_ps(va, _mm256_add_ps(x0, y0));
		x1 = _mm256_mul_ps(va, _mm256_add_ps(x1, y1));
		if (nr == NR) {
			float *c = g->c + j;
			if (g->beta != 0.0f) {
				__m256 vb = _mm256_set1_ps(g->beta);
				x0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c), x0);
				x1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c + 8), x1);
			}
			_mm256_storeu_ps(c, x0);
			_mm256_storeu_ps(c + 8, x1);
		} else {
			_mm256_store_ps(t, x0);
			_mm256_store_ps(t + 8, x1);
			for (size_t q = 0; q < nr; q++)
				g->c[j + q] = g->beta == 0.0f ? t[q] : t[q] + g->beta * g->c[j + q];
		}
		if (g->epi)
			epi_tile(g->epi, g->c + j, g->ldc, i0, 1, j, nr);
	}
}

/* ---- the blocked driver --------------------------------------------------- */
static void
scale_block(const struct ci_gemm_job *g, size_t i0, size_t i1, size_t j0, size_t j1)
{
	for (size_t i = i0; i < i1; i++) {
		float *ci = g->c + i * g->ldc + j0;
		if (g->beta == 0.0f)
			memset(ci, 0, (j1 - j0) * sizeof(float));
		else if (g->beta != 1.0f)
			for (size_t j = 0; j < j1 - j0; j++)
				ci[j] *= g->beta;
	}
}

void
ci_sgemm_avx2_block(const struct ci_gemm_job *g, size_t i0, size_t i1, size_t j0, size_t j1)
{
	const struct ci_gemm_epi *ep = g->epi;
	size_t k = g->k, m = i1 - i0, n = j1 - j0;
	int ta = g->ta, tb = g->tb;

	if (m == 0 || n == 0)
		return;
	if (k == 0 || g->alpha == 0.0f) {
		/* C = beta * C without reading A or B (nor C when beta == 0) */
		scale_block(g, i0, i1, j0, j1);
		if (ep)
			ci_gemm_epi_apply(ep, i0, m, j0, n, g->c + i0 * g->ldc + j0, g->ldc);
		return;
	}
	if (m == 1 && g->pa == NULL && (g->pb || !tb || !ta)) {
		const float *a = g->a + (ta ? i0 : i0 * g->lda);
		float *c = g->c + i0 * g->ldc;

		if (g->pb) {
			struct ci_gemm_job r = *g;
			r.a = a;
			r.c = c;
			gemv_packed(&r, i0, j0, j1);
			return;
		}
		if (!tb)
			gemv_n(n, k, g->alpha, a, ta ? g->lda : 1, g->b + j0, g->ldb, g->beta, c + j0);
		else
			gemv_t(n, k, g->alpha, a, g->b + j0 * g->ldb, g->ldb, g->beta, c + j0);
		if (ep)
			epi_tile(ep, c + j0, g->ldc, i0, 1, j0, n);
		return;
	}
	if (m <= MR && !tb && g->pa == NULL && g->pb == NULL) {
		/*
		 * One panel of A (batch-1 layers): each element of B is used once,
		 * so B is read in place, not packed; only a column tail narrower
		 * than NR is packed (zero-padded) into bpack.
		 */
		for (size_t pc = 0; pc < k; pc += KC) {
			size_t kc = min_sz(KC, k - pc);
			float bk = pc == 0 ? g->beta : 1.0f;
			int last = pc + kc == k;

			pack_a(ta, g->a, g->lda, i0, m, pc, kc);
			for (size_t jr = j0; jr < j1; jr += NR) {
				size_t nr = min_sz(NR, j1 - jr);
				float *cp = g->c + i0 * g->ldc + jr;

				if (nr < NR) {
					pack_b(0, g->b, g->ldb, pc, kc, jr, nr);
					kernel_edge(kc, apack, bpack, NR, cp, g->ldc, m, nr, g->alpha, bk);
				} else if (m < MR) {
					kernel_edge(kc, apack, g->b + pc * g->ldb + jr, g->ldb, cp, g->ldc,
					    m, nr, g->alpha, bk);
				} else {
					kernel(kc, apack, g->b + pc * g->ldb + jr, g->ldb, cp, g->ldc,
					    g->alpha, bk);
				}
				if (last && ep)
					epi_tile(ep, cp, g->ldc, i0, m, jr, nr);
			}
		}
		return;
	}
	for (size_t jc = j0; jc < j1; jc += NC) {
		size_t nc = min_sz(NC, j1 - jc);
		for (size_t pc = 0; pc < k; pc += KC) {
			size_t kc = min_sz(KC, k - pc);
			float bk = pc == 0 ? g->beta : 1.0f;
			int last = pc + kc == k;
			const float *bbase;
			size_t bstride;

			if (g->pb) {
				/* jc is a multiple of NR: whole panels, sliced at pc */
				bbase = g->pb->data + jc / NR * NR * k + pc * NR;
				bstride = NR * k;
			} else {
				pack_b(tb, g->b, g->ldb, pc, kc, jc, nc);
				bbase = bpack;
				bstride = NR * kc;
			}
			for (size_t ic = i0; ic < i1; ic += MC) {
				size_t mc = min_sz(MC, i1 - ic);
				const float *abase;
				size_t astride;

				if (g->pa) {
					abase = g->pa->data + ic / MR * MR * k + pc * MR;
					astride = MR * k;
				} else {
					pack_a(ta, g->a, g->lda, ic, mc, pc, kc);
					abase = apack;
					astride = MR * kc;
				}
				for (size_t jr = 0; jr < nc; jr += NR) {
					size_t nr = min_sz(NR, nc - jr);
					const float *bp = bbase + jr / NR * bstride;
					for (size_t ir = 0; ir < mc; ir += MR) {
						size_t mr = min_sz(MR, mc - ir);
						float *cp = g->c + (ic + ir) * g->ldc + jc + jr;
						const float *ap = abase + ir / MR * astride;

						if (mr == MR && nr == NR)
							kernel(kc, ap, bp, NR, cp, g->ldc, g->alpha, bk);
						else
							kernel_edge(kc, ap, bp, NR, cp, g->ldc, mr, nr,
							    g->alpha, bk);
						if (last && ep)
							epi_tile(ep, cp, g->ldc, ic + ir, mr, jc + jr, nr);
					}
				}
			}
		}
	}
}

void
ci_sgemm_avx2(int ta, int tb, size_t m, size_t n, size_t k, float alpha, const float *a,
    size_t lda, const float *b, size_t ldb, float beta, float *c, size_t ldc)
{
	struct ci_gemm_job g = { .ta = ta, .tb = tb, .m = m, .n = n, .k = k, .alpha = alpha,
		.beta = beta, .a = a, .lda = lda, .b = b, .ldb = ldb, .c = c, .ldc = ldc };

	ci_sgemm_avx2_block(&g, 0, m, 0, n);
}
