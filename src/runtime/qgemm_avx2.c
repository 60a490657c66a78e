/*
 * AVX2 kernels of the integer GEMM (qgemm.h): 4 rows x 16 columns tiles,
 * vpmaddubsw + vpmaddwd(1) for the U8S8 layout (exact by the packing's
 * check), vpmaddwd on s16 pairs for the S16 layout; the epilogue (zero
 * point correction, float scale and bias) on the tile while it is in
 * registers. Quantization to u8 for DynamicQuantizeLinear.
 *
 * Floating-point contraction stays off: the fused ops must reproduce the
 * unfused graph's separate Mul and Add roundings.
 */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#else
#pragma GCC optimize("fp-contract=off")
#endif
#include <immintrin.h>
#include <string.h>

#include "runtime/qgemm.h"

static inline __m256i
bcast4(const void *p)
{
	int32_t v;

	memcpy(&v, p, 4);
	return _mm256_set1_epi32(v);
}

/* Stores acc (8 columns of row i starting at j0, all inside n). */
static inline __attribute__((always_inline)) void
store8(const struct ci_qgemm_args *g, size_t i, size_t j0, __m256i acc)
{
	__m256i rs = _mm256_set1_epi32(g->rowsum[i]);
	__m256i za = _mm256_set1_epi32(g->za[g->za_per_row ? i : 0]);
	__m256i zb = _mm256_loadu_si256((const __m256i *)(g->zb + j0));
	__m256i cb = _mm256_loadu_si256((const __m256i *)(g->cb + j0));
	__m256i v = _mm256_sub_epi32(_mm256_sub_epi32(acc, _mm256_mullo_epi32(rs, zb)),
	    _mm256_mullo_epi32(za, cb));

	if (g->f) {
		__m256 s = g->scale_per_col ? _mm256_loadu_ps(g->scale + j0) :
		    _mm256_set1_ps(g->scale[0]);
		__m256 r = _mm256_mul_ps(_mm256_cvtepi32_ps(v), s);
		if (g->bias)
			r = _mm256_add_ps(r, _mm256_loadu_ps(g->bias + j0));
		_mm256_storeu_ps(g->f + i * g->ldc + j0, r);
	} else {
		_mm256_storeu_si256((__m256i *)(g->c + i * g->ldc + j0), v);
	}
}

/* A tail panel (fewer than 8 columns left): through the scalar epilogue. */
static void
store_tail(const struct ci_qgemm_args *g, size_t i, size_t j0, size_t cols, __m256i acc)
{
	int32_t t[8];
	int32_t za = g->za[g->za_per_row ? i : 0], rs = g->rowsum[i];

	_mm256_storeu_si256((__m256i *)t, acc);
	for (size_t jj = 0; jj < cols; jj++) {
		size_t j = j0 + jj;
		int32_t v = ci_qgemm_fix(t[jj], rs, g->zb[j], za, g->cb[j]);
		if (g->f) {
			float r = (float)v * g->scale[g->scale_per_col ? j : 0];
			if (g->bias)
				r = r + g->bias[j];
			g->f[i * g->ldc + j] = r;
		} else {
			g->c[i * g->ldc + j] = v;
		}
	}
}

static inline __attribute__((always_inline)) void
store_acc(const struct ci_qgemm_args *g, size_t i, size_t pan, __m256i acc)
{
	size_t j0 = pan * CI_QGEMM_NR;

	if (g->b->n - j0 >= CI_QGEMM_NR)
		store8(g, i, j0, acc);
	else
		store_tail(g, i, j0, g->b->n - j0, acc);
}

/* Adds the weights the X2 packing left out (qgemm.h) to the tile t
 * (row r, panel h: t[r * 2 + h]). */
static void
add_fixes(const struct ci_qgemm_args *g, size_t i, int mr, size_t pan, int np, int32_t t[8][8])
{
	const struct ci_qgemm_b *b = g->b;
	const uint8_t *a = (const uint8_t *)g->a + i * g->lda;

	for (int h = 0; h < np; h++)
		for (uint32_t f = b->fix_start[pan + (size_t)h]; f < b->fix_start[pan + (size_t)h + 1]; f++) {
			const struct ci_qgemm_fix *x = &b->fix[f];
			for (int r = 0; r < mr; r++)
				t[r * 2 + h][x->j] = (int32_t)((uint32_t)t[r * 2 + h][x->j] +
				    (uint32_t)((int32_t)a[(size_t)r * g->lda + x->p] * x->w));
		}
}

/* One tile: mr rows from i, np panels from pan; wide: S16 layout, 2: X2. */
static inline __attribute__((always_inline)) void
tile(const struct ci_qgemm_args *g, size_t i, const int mr, size_t pan, const int np,
    const int wide)
{
	const struct ci_qgemm_b *b = g->b;
	size_t kp = b->kp, ps = kp * CI_QGEMM_NR, lda = g->lda;
	const __m256i ones = _mm256_set1_epi16(1);
	__m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00,
	    c21 = c00, c30 = c00, c31 = c00;

	if (wide == 2) {
		const int8_t *w = (const int8_t *)b->data + pan * ps;
		const uint8_t *a = (const uint8_t *)g->a + i * lda;
		for (size_t q = 0; q < kp; q += 8, w += 8 * CI_QGEMM_NR) {
			__m256i b0 = _mm256_loadu_si256((const __m256i *)w), b1 = b0, av, aw;
			__m256i b2 = _mm256_loadu_si256((const __m256i *)(w + 4 * CI_QGEMM_NR)), b3 = b2;
			if (np > 1) {
				b1 = _mm256_loadu_si256((const __m256i *)(w + ps));
				b3 = _mm256_loadu_si256((const __m256i *)(w + ps + 4 * CI_QGEMM_NR));
			}
#define ROW(r) \
			if (mr > r) { \
				av = bcast4(a + r * lda + q); \
				aw = bcast4(a + r * lda + q + 4); \
				c##r##0 = _mm256_add_epi32(c##r##0, _mm256_madd_epi16(_mm256_add_epi16( \
				    _mm256_maddubs_epi16(av, b0), _mm256_maddubs_epi16(aw, b2)), ones)); \
				if (np > 1) \
					c##r##1 = _mm256_add_epi32(c##r##1, _mm256_madd_epi16(_mm256_add_epi16( \
					    _mm256_maddubs_epi16(av, b1), _mm256_maddubs_epi16(aw, b3)), ones)); \
			}
			ROW(0) ROW(1) ROW(2) ROW(3)
#undef ROW
		}
		if (b->fix_start[pan + (size_t)np] != b->fix_start[pan]) {
			int32_t t[8][8];
#define SPILL(r) \
			_mm256_storeu_si256((__m256i *)t[r * 2], c##r##0); \
			_mm256_storeu_si256((__m256i *)t[r * 2 + 1], c##r##1);
#define FILL(r) \
			c##r##0 = _mm256_loadu_si256((const __m256i *)t[r * 2]); \
			c##r##1 = _mm256_loadu_si256((const __m256i *)t[r * 2 + 1]);
			SPILL(0) SPILL(1) SPILL(2) SPILL(3)
			add_fixes(g, i, mr, pan, np, t);
			FILL(0) FILL(1) FILL(2) FILL(3)
#undef SPILL
#undef FILL
		}
	} else if (!wide) {
		const int8_t *w = (const int8_t *)b->data + pan * ps;
		const uint8_t *a = (const uint8_t *)g->a + i * lda;
		for (size_t q = 0; q < kp; q += 4, w += 4 * CI_QGEMM_NR) {
			__m256i b0 = _mm256_loadu_si256((const __m256i *)w), b1 = b0, av;
			if (np > 1)
				b1 = _mm256_loadu_si256((const __m256i *)(w + ps));
#define ROW(r) \
			if (mr > r) { \
				av = bcast4(a + r * lda + q); \
				c##r##0 = _mm256_add_epi32(c##r##0, \
				    _mm256_madd_epi16(_mm256_maddubs_epi16(av, b0), ones)); \
				if (np > 1) \
					c##r##1 = _mm256_add_epi32(c##r##1, \
					    _mm256_madd_epi16(_mm256_maddubs_epi16(av, b1), ones)); \
			}
			ROW(0) ROW(1) ROW(2) ROW(3)
#undef ROW
		}
	} else {
		const int16_t *w = (const int16_t *)b->data + pan * ps;
		const uint16_t *a = (const uint16_t *)g->a + i * lda;
		for (size_t q = 0; q < kp; q += 2, w += 2 * CI_QGEMM_NR) {
			__m256i b0 = _mm256_loadu_si256((const __m256i *)w), b1 = b0, av;
			if (np > 1)
				b1 = _mm256_loadu_si256((const __m256i *)(w + ps));
#define ROW(r) \
			if (mr > r) { \
				av = bcast4(a + r * lda + q); \
				c##r##0 = _mm256_add_epi32(c##r##0, _mm256_madd_epi16(av, b0)); \
				if (np > 1) \
					c##r##1 = _mm256_add_epi32(c##r##1, _mm256_madd_epi16(av, b1)); \
			}
			ROW(0) ROW(1) ROW(2) ROW(3)
#undef ROW
		}
	}
#define OUT(r) \
	if (mr > r) { \
		store_acc(g, i + r, pan, c##r##0); \
		if (np > 1) \
			store_acc(g, i + r, pan + 1, c##r##1); \
	}
	OUT(0) OUT(1) OUT(2) OUT(3)
#undef OUT
}

#define TILES(wide) \
	static void tile_##wide(const struct ci_qgemm_args *g, size_t i, int mr, size_t pan, int np) \
	{ \
		switch (mr * 2 + np - 1) { \
		case 2: tile(g, i, 1, pan, 1, wide); break; \
		case 3: tile(g, i, 1, pan, 2, wide); break; \
		case 4: tile(g, i, 2, pan, 1, wide); break; \
		case 5: tile(g, i, 2, pan, 2, wide); break; \
		case 6: tile(g, i, 3, pan, 1, wide); break; \
		case 7: tile(g, i, 3, pan, 2, wide); break; \
		case 8: tile(g, i, 4, pan, 1, wide); break; \
		default: tile(g, i, 4, pan, 2, wide); break; \
		} \
	}
TILES(0)
TILES(1)
TILES(2)
#undef TILES

void
ci_qgemm_block_avx2(const struct ci_qgemm_args *g, size_t i0, size_t i1, size_t p0, size_t p1)
{
	int layout = g->b->layout;

	for (size_t pan = p0; pan < p1; pan += 2) {
		int np = p1 - pan >= 2 ? 2 : 1;
		for (size_t i = i0; i < i1; i += 4) {
			int mr = i1 - i >= 4 ? 4 : (int)(i1 - i);
			if (layout == CI_QGEMM_U8S8X2)
				tile_2(g, i, mr, pan, np);
			else if (layout == CI_QGEMM_S16)
				tile_1(g, i, mr, pan, np);
			else
				tile_0(g, i, mr, pan, np);
		}
	}
}

uint32_t
ci_q8_quantize_u8_avx2(const float *x, size_t n, float scale, float zp, uint8_t *dst)
{
	__m256i sum = _mm256_setzero_si256();
	uint64_t s4[4];
	uint32_t total;
	const __m256 s = _mm256_set1_ps(scale), z = _mm256_set1_ps(zp);
	const __m256 lo = _mm256_setzero_ps(), hi = _mm256_set1_ps(255.0f);
	const __m256i perm = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
	size_t i = 0;

	for (; i + 32 <= n; i += 32) {
		__m256i q[4];
		for (int t = 0; t < 4; t++) {
			__m256 v = _mm256_div_ps(_mm256_loadu_ps(x + i + 8 * t), s);
			v = _mm256_add_ps(_mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT |
			    _MM_FROUND_NO_EXC), z);
			v = _mm256_min_ps(_mm256_max_ps(v, lo), hi);	/* NaN: 0 */
			q[t] = _mm256_cvtps_epi32(v);
		}
		__m256i w01 = _mm256_packus_epi32(q[0], q[1]), w23 = _mm256_packus_epi32(q[2], q[3]);
		__m256i b = _mm256_packus_epi16(w01, w23);
		sum = _mm256_add_epi64(sum, _mm256_sad_epu8(b, _mm256_setzero_si256()));
		_mm256_storeu_si256((__m256i *)(dst + i), _mm256_permutevar8x32_epi32(b, perm));
	}
	_mm256_storeu_si256((__m256i *)s4, sum);
	total = (uint32_t)(s4[0] + s4[1] + s4[2] + s4[3]);
	for (; i < n; i++) {
		float v = __builtin_nearbyintf(x[i] / scale) + zp;
		dst[i] = (uint8_t)(!(v > 0) ? 0 : v > 255 ? 255 : v);
		total += dst[i];
	}
	return total;
}

void
ci_q8_minmax_avx2(const float *x, size_t n, float *mn, float *mx)
{
	__m256 lo = _mm256_setzero_ps(), hi = lo;
	float l[8], h[8], rl, rh;
	size_t i = 0;

	/* min(v, acc): acc when v is NaN, like the scalar v < acc ? v : acc */
	for (; i + 8 <= n; i += 8) {
		__m256 v = _mm256_loadu_ps(x + i);
		lo = _mm256_min_ps(v, lo);
		hi = _mm256_max_ps(v, hi);
	}
	_mm256_storeu_ps(l, lo);
	_mm256_storeu_ps(h, hi);
	rl = 0;
	rh = 0;
	for (int t = 0; t < 8; t++) {
		rl = l[t] < rl ? l[t] : rl;
		rh = h[t] > rh ? h[t] : rh;
	}
	for (; i < n; i++) {
		rl = x[i] < rl ? x[i] : rl;
		rh = x[i] > rh ? x[i] : rh;
	}
	*mn = rl;
	*mx = rh;
}
