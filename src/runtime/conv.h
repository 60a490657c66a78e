/*
 * Internal interface of the convolution and pooling kernels (ops/conv.c,
 * ops/pool.c, conv_avx2.c) and of the conv graph pass (pass_conv.c).
 *
 * The row kernels are static inline here so the same C is compiled twice:
 * portable in ops/conv.c and ops/pool.c, with -mavx2 -mfma in conv_avx2.c,
 * where the compiler vectorizes the row loops.
 */
#ifndef CI_RUNTIME_CONV_H
#define CI_RUNTIME_CONV_H

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "runtime/rt.h"
#include "runtime/sgemm.h"
#include "runtime/ops/spatial.h"

/* Counters of pass_conv.c since process start (tests check fusions):
 * BatchNormalizations folded, FusedConv nodes made, constant Mul/Add
 * folded into a following 1x1 conv. */
void ci_pass_conv_stats(unsigned long *bn_folded, unsigned long *fused, unsigned long *in_folded);

/* Depthwise conv over 2-D planes: channel ch of every image reads input
 * plane ch, weights w[(ch % c) * kh * kw], writes output plane ch. */
struct ci_dw_args {
	const float *x, *w, *bias;	/* bias: NULL or c floats */
	float *y;
	const struct ci_spatial *sp;	/* sp->k[0] == 1, sp->in[0] == 1 */
	size_t c;			/* channels of one image */
	int accumulate;			/* y already holds a sum to add to */
	const struct ci_gemm_epi *ep;	/* activation only (bias above) */
};
void ci_conv_dw_portable(const struct ci_dw_args *a, size_t lo, size_t hi);
void ci_conv_dw_avx2(const struct ci_dw_args *a, size_t lo, size_t hi);

/* 2-D MaxPool / AveragePool (no dilation) over planes [lo, hi). */
struct ci_pool_args {
	const float *x;
	float *y;
	const struct ci_spatial *sp;
	int avg, include_pad;
};
void ci_pool2d_portable(const struct ci_pool_args *a, size_t lo, size_t hi);
void ci_pool2d_avx2(const struct ci_pool_args *a, size_t lo, size_t hi);

/* Activation of a row in place (the epilogue's act part). */
static inline void
ci_conv_act_row(const struct ci_gemm_epi *ep, float *restrict y, size_t n)
{
	float a = ep ? ep->a : 0, b = ep ? ep->b : 0;

	switch (ep ? ep->act : CI_ACT_NONE) {
	case CI_ACT_NONE:
		break;
	case CI_ACT_RELU:
		for (size_t i = 0; i < n; i++)
			y[i] = y[i] > 0.0f ? y[i] : 0.0f;
		break;
	case CI_ACT_CLIP:
		for (size_t i = 0; i < n; i++) {
			float v = y[i];
			v = v < a ? a : v;
			y[i] = v > b ? b : v;
		}
		break;
	case CI_ACT_LEAKY:
		for (size_t i = 0; i < n; i++)
			y[i] = y[i] >= 0.0f ? y[i] : y[i] * a;
		break;
	case CI_ACT_HARDSIGMOID:
		for (size_t i = 0; i < n; i++) {
			float h = a * y[i] + b;
			h = h < 0.0f ? 0.0f : h;
			y[i] = h > 1.0f ? 1.0f : h;
		}
		break;
	case CI_ACT_HARDSWISH:
		for (size_t i = 0; i < n; i++) {
			float h = y[i] * (1.0f / 6.0f) + 0.5f;
			h = h < 0.0f ? 0.0f : h;
			h = h > 1.0f ? 1.0f : h;
			y[i] = y[i] * h;
		}
		break;
	case CI_ACT_SIGMOID:
		for (size_t i = 0; i < n; i++)
			y[i] = 1.0f / (1.0f + expf(-y[i]));
		break;
	case CI_ACT_GELU:
		for (size_t i = 0; i < n; i++)
			y[i] = 0.5f * y[i] * (1.0f + erff(y[i] * 0.70710678118654752f));
		break;
	}
}

/* The input affine of sp (in_aff) on n values in place. */
static inline void
ci_conv_in_aff(const struct ci_spatial *sp, float *restrict v, size_t n)
{
	float s = sp->in_s, c = sp->in_c;

	if (!sp->in_aff)
		return;
	for (size_t i = 0; i < n; i++)
		v[i] = v[i] * s + c;
}

/* Output columns [*lo, *hi) whose input column ox * s - pb + kx * d is inside [0, in). */
static inline void
ci_conv_cols(int64_t out, int64_t in, int64_t s, int64_t pb, int64_t off, int64_t *lo,
    int64_t *hi)
{
	int64_t base = off - pb;	/* input column of ox = 0 */
	int64_t l = base >= 0 ? 0 : (-base + s - 1) / s;
	int64_t h = in - 1 - base < 0 ? 0 : (in - 1 - base) / s + 1;

	if (h > out)
		h = out;
	if (l > h)
		l = h;
	*lo = l;
	*hi = h;
}

static inline void
ci_conv_dw_rows(const struct ci_dw_args *a, size_t lo, size_t hi)
{
	const struct ci_spatial *sp = a->sp;
	int64_t ih = sp->in[1], iw = sp->in[2], oh = sp->out[1], ow = sp->out[2];
	int64_t kh = sp->k[1], kw = sp->k[2], sh = sp->s[1], sw = sp->s[2];
	int64_t dh = sp->d[1], dw = sp->d[2];
	size_t isz = (size_t)(ih * iw), osz = (size_t)(oh * ow), ksz = (size_t)(kh * kw);

	for (size_t ch = lo; ch < hi; ch++) {
		const float *xc = a->x + ch * isz, *wc = a->w + (ch % a->c) * ksz;
		float bv = a->bias ? a->bias[ch % a->c] : 0.0f;
		float *yc = a->y + ch * osz;
		for (int64_t oy = 0; oy < oh; oy++) {
			float *restrict yr = yc + oy * ow;
			if (a->accumulate)
				for (int64_t ox = 0; ox < ow; ox++)
					yr[ox] += bv;
			else
				for (int64_t ox = 0; ox < ow; ox++)
					yr[ox] = bv;
			for (int64_t ky = 0; ky < kh; ky++) {
				int64_t iy = oy * sh - sp->pb[1] + ky * dh;
				const float *restrict xr;
				if (iy < 0 || iy >= ih)
					continue;
				xr = xc + iy * iw;
				for (int64_t kx = 0; kx < kw; kx++) {
					float wv = wc[ky * kw + kx];
					int64_t l, h, off = kx * dw - sp->pb[2];
					ci_conv_cols(ow, iw, sw, sp->pb[2], kx * dw, &l, &h);
					if (sp->in_aff) {
						float s = sp->in_s, c = sp->in_c;
						for (int64_t ox = l; ox < h; ox++)
							yr[ox] += wv * (xr[ox * sw + off] * s + c);
					} else if (sw == 1) {
						const float *restrict xs = xr + off;
						for (int64_t ox = l; ox < h; ox++)
							yr[ox] += wv * xs[ox];
					} else if (sw == 2) {
						const float *restrict xs = xr + off;
						for (int64_t ox = l; ox < h; ox++)
							yr[ox] += wv * xs[2 * ox];
					} else {
						for (int64_t ox = l; ox < h; ox++)
							yr[ox] += wv * xr[ox * sw + off];
					}
				}
			}
			ci_conv_act_row(a->ep, yr, (size_t)ow);
		}
	}
}

static inline void
ci_pool2d_rows(const struct ci_pool_args *a, size_t lo, size_t hi)
{
	const struct ci_spatial *sp = a->sp;
	int64_t ih = sp->in[1], iw = sp->in[2], oh = sp->out[1], ow = sp->out[2];
	int64_t kh = sp->k[1], kw = sp->k[2], sh = sp->s[1], sw = sp->s[2];
	size_t isz = (size_t)(ih * iw), osz = (size_t)(oh * ow);

	for (size_t ch = lo; ch < hi; ch++) {
		const float *xc = a->x + ch * isz;
		float *yc = a->y + ch * osz;
		for (int64_t oy = 0; oy < oh; oy++) {
			float *restrict yr = yc + oy * ow;
			int64_t rows = 0, prow = 0;
			for (int64_t ox = 0; ox < ow; ox++)
				yr[ox] = a->avg ? 0.0f : -INFINITY;
			for (int64_t ky = 0; ky < kh; ky++) {
				int64_t iy = oy * sh - sp->pb[1] + ky;
				const float *restrict xr;
				if (iy < ih + sp->pe[1])
					prow++;
				if (iy < 0 || iy >= ih)
					continue;
				rows++;
				xr = xc + iy * iw;
				for (int64_t kx = 0; kx < kw; kx++) {
					int64_t l, h, off = kx - sp->pb[2];
					const float *restrict xs = xr + off;
					ci_conv_cols(ow, iw, sw, sp->pb[2], kx, &l, &h);
					if (a->avg) {
						if (sw == 1)
							for (int64_t ox = l; ox < h; ox++)
								yr[ox] += xs[ox];
						else
							for (int64_t ox = l; ox < h; ox++)
								yr[ox] += xs[ox * sw];
					} else if (sw == 1) {
						for (int64_t ox = l; ox < h; ox++)
							yr[ox] = xs[ox] > yr[ox] ? xs[ox] : yr[ox];
					} else if (sw == 2) {
						for (int64_t ox = l; ox < h; ox++)
							yr[ox] = xs[2 * ox] > yr[ox] ? xs[2 * ox] : yr[ox];
					} else {
						for (int64_t ox = l; ox < h; ox++)
							yr[ox] = xs[ox * sw] > yr[ox] ? xs[ox * sw] : yr[ox];
					}
				}
			}
			if (!a->avg)
				continue;
			for (int64_t ox = 0; ox < ow; ox++) {
				/* window columns inside the input, or inside the padded input */
				int64_t x0 = ox * sw - sp->pb[2], cols = 0, pcols = 0, cnt;
				for (int64_t kx = 0; kx < kw; kx++) {
					int64_t ix = x0 + kx;
					cols += ix >= 0 && ix < iw;
					pcols += ix < iw + sp->pe[2];
				}
				cnt = a->include_pad ? prow * pcols : rows * cols;
				yr[ox] = cnt ? yr[ox] / (float)cnt : 0.0f;
			}
		}
	}
}

#endif
