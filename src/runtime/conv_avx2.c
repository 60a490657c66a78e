/*
 * AVX2+FMA kernels of conv.h (built with -mavx2 -mfma -O3, area.cmake):
 * a depthwise kernel that reads zero-padded copies of the input rows (so
 * every output column takes the same vector path) and keeps 8 outputs in
 * a register while it walks all taps (stride 1 and 2 along the row), and
 * the pooling row kernel, which the compiler vectorizes. Callers check
 * ci_use_avx2().
 */
#include <immintrin.h>

#include "runtime/conv.h"

/* 8 inputs at p, p + s, ... (s 1 or 2); reads p[0 .. 8 * s - 1]. */
static inline __m256
load_s(const float *p, int64_t s)
{
	__m256 a, b;

	if (s == 1)
		return _mm256_loadu_ps(p);
	a = _mm256_loadu_ps(p);
	b = _mm256_loadu_ps(p + 8);
	/* even elements: a0 a2 b0 b2 a4 a6 b4 b6, then 64-bit lanes 0 2 1 3 */
	return _mm256_castpd_ps(_mm256_permute4x64_pd(
	    _mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xd8));
}

/* ci_conv_act_row with vectors (the compiler keeps the selects scalar). */
static void
act_row(const struct ci_gemm_epi *ep, float *y, size_t n)
{
	__m256 va, vb, z = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
	__m256 sixth = _mm256_set1_ps(1.0f / 6.0f), half = _mm256_set1_ps(0.5f);
	size_t i = 0;

	if (ep == NULL || ep->act == CI_ACT_NONE)
		return;
	va = _mm256_set1_ps(ep->a);
	vb = _mm256_set1_ps(ep->b);
	for (; i + 8 <= n; i += 8) {
		__m256 v = _mm256_loadu_ps(y + i), h;
		switch (ep->act) {
		case CI_ACT_RELU:
			v = _mm256_max_ps(v, z);
			break;
		case CI_ACT_CLIP:
			v = _mm256_min_ps(_mm256_max_ps(v, va), vb);
			break;
		case CI_ACT_LEAKY:
			v = _mm256_blendv_ps(v, _mm256_mul_ps(v, va), _mm256_cmp_ps(v, z, _CMP_LT_OQ));
			break;
		case CI_ACT_HARDSIGMOID:
			v = _mm256_min_ps(_mm256_max_ps(_mm256_fmadd_ps(v, va, vb), z), one);
			break;
		case CI_ACT_HARDSWISH:
			h = _mm256_min_ps(_mm256_max_ps(_mm256_fmadd_ps(v, sixth, half), z), one);
			v = _mm256_mul_ps(v, h);
			break;
		default:
			ci_conv_act_row(ep, y + i, n - i);
			return;
		}
		_mm256_storeu_ps(y + i, v);
	}
	ci_conv_act_row(ep, y + i, n - i);
}

/* Zero-padded copies of input rows: slot iy % DW_RING holds row iy. */
#define DW_RING 16
#define DW_MAXW 1024

/* Columns [ox, ox + 8 * NB) of output row oy into yt. */
#define DW_BLOCK(NB)                                                                   \
	do {                                                                           \
		__m256 acc[NB];                                                        \
		for (int j = 0; j < NB; j++)                                           \
			acc[j] = a->accumulate ? _mm256_load_ps(yt + ox + 8 * j) : vb; \
		for (int64_t ky = ky0; ky < ky1; ky++) {                               \
			const float *r = ring[(oy * sh - sp->pb[1] + ky * dh) % DW_RING]; \
			for (int64_t kx = 0; kx < kw; kx++) {                          \
				__m256 wv = _mm256_broadcast_ss(&wc[ky * kw + kx]);    \
				const float *xp = r + ox * sw + kx * dw;               \
				for (int j = 0; j < NB; j++)                           \
					acc[j] = _mm256_fmadd_ps(wv,                   \
					    load_s(xp + 8 * j * sw, sw), acc[j]);      \
			}                                                              \
		}                                                                      \
		for (int j = 0; j < NB; j++)                                           \
			_mm256_store_ps(yt + ox + 8 * j, acc[j]);                      \
	} while (0)

void
ci_conv_dw_avx2(const struct ci_dw_args *a, size_t lo, size_t hi)
{
	const struct ci_spatial *sp = a->sp;
	int64_t ih = sp->in[1], iw = sp->in[2], oh = sp->out[1], ow = sp->out[2];
	int64_t kh = sp->k[1], kw = sp->k[2], sh = sp->s[1], sw = sp->s[2];
	int64_t dh = sp->d[1], dw = sp->d[2], pl = sp->pb[2];
	int64_t owr = (ow + 7) / 8 * 8, need = (owr - 1) * sw + (kw - 1) * dw + 1 + (sw == 2);
	size_t isz = (size_t)(ih * iw), osz = (size_t)(oh * ow), ksz = (size_t)(kh * kw);
	float ring[DW_RING][DW_MAXW] __attribute__((aligned(32)));
	float yt[DW_MAXW] __attribute__((aligned(32)));
	int64_t tag[DW_RING];

	if ((sw != 1 && sw != 2) || (kh - 1) * dh + 1 > DW_RING || need > DW_MAXW ||
	    owr > DW_MAXW) {
		ci_conv_dw_rows(a, lo, hi);
		return;
	}
	for (size_t ch = lo; ch < hi; ch++) {
		const float *xc = a->x + ch * isz, *wc = a->w + (ch % a->c) * ksz;
		float bv = a->bias ? a->bias[ch % a->c] : 0.0f;
		__m256 vb = _mm256_set1_ps(bv);
		float *yc = a->y + ch * osz;
		for (int i = 0; i < DW_RING; i++)
			tag[i] = -1;
		for (int64_t oy = 0; oy < oh; oy++) {
			float *yr = yc + oy * ow;
			int64_t ky0 = 0, ky1 = kh, ox;
			/* taps inside the input rows: ky in [ky0, ky1) */
			while (ky0 < kh && oy * sh - sp->pb[1] + ky0 * dh < 0)
				ky0++;
			while (ky1 > ky0 && oy * sh - sp->pb[1] + (ky1 - 1) * dh >= ih)
				ky1--;
			for (int64_t ky = ky0; ky < ky1; ky++) {
				int64_t iy = oy * sh - sp->pb[1] + ky * dh, l, h;
				float *r = ring[iy % DW_RING];
				if (tag[iy % DW_RING] == iy)
					continue;
				tag[iy % DW_RING] = iy;
				/* r[p] = x[iy][p - pl] inside the row, 0 outside */
				l = pl < need ? pl : need;
				h = pl + iw < need ? pl + iw : need;
				memset(r, 0, (size_t)l * sizeof(float));
				if (h > l) {
					memcpy(r + l, xc + iy * iw + (l - pl), (size_t)(h - l) * sizeof(float));
					ci_conv_in_aff(sp, r + l, (size_t)(h - l));
				}
				if (h < l)
					h = l;
				memset(r + h, 0, (size_t)(need - h) * sizeof(float));
			}
			if (a->accumulate) {
				for (int64_t j = 0; j < ow; j++)
					yt[j] = yr[j] + bv;
				for (int64_t j = ow; j < owr; j++)
					yt[j] = 0.0f;
			}
			/* 4 or 2 independent FMA chains where the row allows: one
			 * chain of kh * kw dependent FMAs is latency bound */
			for (ox = 0; ox + 32 <= owr; ox += 32)
				DW_BLOCK(4);
			for (; ox + 16 <= owr; ox += 16)
				DW_BLOCK(2);
			for (; ox < owr; ox += 8)
				DW_BLOCK(1);
			act_row(a->ep, yt, (size_t)ow);
			memcpy(yr, yt, (size_t)ow * sizeof(float));
		}
	}
}

void
ci_pool2d_avx2(const struct ci_pool_args *a, size_t lo, size_t hi)
{
	ci_pool2d_rows(a, lo, hi);
}
