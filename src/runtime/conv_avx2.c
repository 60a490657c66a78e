/*
 * AVX2+FMA kernels of conv.h (built with -mavx2 -mfma -O3, area.cmake):
 * a depthwise kernel that keeps 32 outputs of a row in registers while it
 * walks all taps (stride 1 and 2 along the row), and the pooling row
 * kernel, which the compiler vectorizes. Callers check ci_use_avx2().
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

/* One output row's columns [ox, ox + 8 * NB) where every tap is inside. */
#define DW_BLOCK(NB)                                                                   \
	do {                                                                           \
		__m256 acc[NB];                                                        \
		for (int j = 0; j < NB; j++)                                           \
			acc[j] = a->accumulate ?                                       \
			    _mm256_add_ps(_mm256_loadu_ps(yr + ox + 8 * j), vb) : vb;  \
		for (int64_t ky = ky0; ky < ky1; ky++) {                               \
			const float *xr = xc + (oy * sh - sp->pb[1] + ky * dh) * iw;   \
			for (int64_t kx = 0; kx < kw; kx++) {                          \
				__m256 wv = _mm256_broadcast_ss(&wc[ky * kw + kx]);    \
				const float *xp = xr + ox * sw + kx * dw - sp->pb[2];  \
				for (int j = 0; j < NB; j++)                           \
					acc[j] = _mm256_fmadd_ps(wv,                   \
					    load_s(xp + 8 * j * sw, sw), acc[j]);      \
			}                                                              \
		}                                                                      \
		for (int j = 0; j < NB; j++)                                           \
			_mm256_storeu_ps(yr + ox + 8 * j, acc[j]);                     \
	} while (0)

/* Column ox of row oy, any position (bounds checked per tap). */
static inline float
dw_one(const struct ci_dw_args *a, const float *xc, const float *wc, float bv, float y0,
    int64_t oy, int64_t ox)
{
	const struct ci_spatial *sp = a->sp;
	float s = a->accumulate ? y0 + bv : bv;

	for (int64_t ky = 0; ky < sp->k[1]; ky++) {
		int64_t iy = oy * sp->s[1] - sp->pb[1] + ky * sp->d[1];
		if (iy < 0 || iy >= sp->in[1])
			continue;
		for (int64_t kx = 0; kx < sp->k[2]; kx++) {
			int64_t ix = ox * sp->s[2] - sp->pb[2] + kx * sp->d[2];
			if (ix >= 0 && ix < sp->in[2])
				s += wc[ky * sp->k[2] + kx] * xc[iy * sp->in[2] + ix];
		}
	}
	return s;
}

void
ci_conv_dw_avx2(const struct ci_dw_args *a, size_t lo, size_t hi)
{
	const struct ci_spatial *sp = a->sp;
	int64_t ih = sp->in[1], iw = sp->in[2], oh = sp->out[1], ow = sp->out[2];
	int64_t kh = sp->k[1], kw = sp->k[2], sh = sp->s[1], sw = sp->s[2];
	int64_t dh = sp->d[1], dw = sp->d[2], l0, h0, l1, h1, cl, ch_;
	size_t isz = (size_t)(ih * iw), osz = (size_t)(oh * ow), ksz = (size_t)(kh * kw);

	if (sw != 1 && sw != 2) {
		ci_conv_dw_rows(a, lo, hi);
		return;
	}
	/* columns where every tap is inside the row; stride 2 loads 8 * 2
	 * floats from the block's first tap, one past the last one it uses */
	ci_conv_cols(ow, iw - (sw == 2), sw, sp->pb[2], 0, &l0, &h0);
	ci_conv_cols(ow, iw - (sw == 2), sw, sp->pb[2], (kw - 1) * dw, &l1, &h1);
	cl = l0 > l1 ? l0 : l1;
	ch_ = h0 < h1 ? h0 : h1;
	if (ch_ < cl)
		ch_ = cl;
	for (size_t ch = lo; ch < hi; ch++) {
		const float *xc = a->x + ch * isz, *wc = a->w + (ch % a->c) * ksz;
		float bv = a->bias ? a->bias[ch % a->c] : 0.0f;
		__m256 vb = _mm256_set1_ps(bv);
		float *yc = a->y + ch * osz;
		for (int64_t oy = 0; oy < oh; oy++) {
			float *yr = yc + oy * ow;
			int64_t ky0 = 0, ky1 = kh, ox;
			/* taps inside the input rows: ky in [ky0, ky1) */
			while (ky0 < kh && oy * sh - sp->pb[1] + ky0 * dh < 0)
				ky0++;
			while (ky1 > ky0 && oy * sh - sp->pb[1] + (ky1 - 1) * dh >= ih)
				ky1--;
			for (ox = 0; ox < cl; ox++)
				yr[ox] = dw_one(a, xc, wc, bv, yr[ox], oy, ox);
			for (; ox + 32 <= ch_; ox += 32)
				DW_BLOCK(4);
			for (; ox + 8 <= ch_; ox += 8)
				DW_BLOCK(1);
			for (; ox < ow; ox++)
				yr[ox] = dw_one(a, xc, wc, bv, yr[ox], oy, ox);
			ci_conv_act_row(a->ep, yr, (size_t)ow);
		}
	}
}

void
ci_pool2d_avx2(const struct ci_pool_args *a, size_t lo, size_t hi)
{
	ci_pool2d_rows(a, lo, hi);
}
