/*
 * Winograd F(2x2, 3x3) convolution (conv_winograd.c, conv_winograd_avx2.c):
 * 2-D, 3x3 kernel, strides 1, dilations 1, group 1, pads <= 1, fp32.
 *
 * Weights are transformed once at load (U = G g G^T) into 16 matrices
 * [OC x IC], each packed as a GEMM A operand. A run takes the output in
 * 2x2 tiles, whole tile rows at a time: V = B^T d B of every 4x4 input
 * patch into [16][IC][tiles], 16 GEMMs M_p = U_p V_p, then Y = A^T m A
 * with bias, an optional sum already in y (y += ...) and the activation.
 * 2.25x fewer multiplies than the direct 3x3 conv.
 *
 * The row kernels are static inline here so the same C is compiled twice:
 * portable in conv_winograd.c, with -mavx2 -mfma in conv_winograd_avx2.c.
 */
#ifndef CI_RUNTIME_CONV_WINOGRAD_H
#define CI_RUNTIME_CONV_WINOGRAD_H

#include <stddef.h>
#include <string.h>

#include "runtime/conv.h"
#include "runtime/rt.h"
#include "runtime/sgemm.h"

/* Transformed, packed weights of one conv. */
struct ci_wino {
	size_t oc, ic;
	struct ci_sgemm_packed *u[16];
};

/* From w [oc][ic][3][3]; NULL when out of memory. */
struct ci_wino *ci_wino_prepare(const float *w, size_t oc, size_t ic);
void ci_wino_free(struct ci_wino *wp);

/* Whether ci_wino_run pays for this shape (oc x ic channels, an oh x ow
 * output per image): enough channels, and the tiles' multiplies at most 3/4
 * of the direct conv's (not for tiny outputs such as 1x1 or 3x3). */
int ci_wino_pays(size_t oc, size_t ic, size_t oh, size_t ow);

/*
 * y[n][oc][oh][ow] = act(conv(x) + bias (+ y when acc)), x [n][ic][ih][iw]
 * read with pt rows / pl columns of zero padding before it (pads <= 1; the
 * padding after follows from oh, ow). ep: activation (its bias ignored),
 * bias NULL or oc floats. Threads of k. 0, or -1 (scratch) with e set.
 */
int ci_wino_run(struct ci_kctx *k, const struct ci_wino *wp, const float *x, size_t n,
    size_t ih, size_t iw, size_t pt, size_t pl, size_t oh, size_t ow, const float *bias,
    const struct ci_gemm_epi *ep, int acc, float *y, struct cinfer_err *e);

/* Mode (tests): 0 never, 1 when it pays (the default), 2 whenever the
 * conv qualifies. */
void ci_wino_mode_set(int mode);
int ci_wino_mode_get(void);
/* Tiles per chunk (tests: many chunks on small shapes); 0: by cache size. */
void ci_wino_chunk_set(size_t tiles);
/* Convolutions ci_wino_run computed since process start (tests). */
unsigned long ci_wino_count(void);

/* ---- row kernels (internal) ---------------------------------------------- */

/* One tile row's shape: tw tiles, iw input columns, pl left pad. */
struct ci_wino_row {
	size_t tw, iw, pl;
};

/*
 * Input transform, horizontal part, of one channel's tile row: r[0..3] the
 * 4 input rows (NULL: zero rows); h + (4 * i + b) * hs + t gets row i's
 * d[b] of tile t. pad: 2 * tw + 2 floats of scratch.
 */
static inline void
ci_wino_in_h(const struct ci_wino_row *g, const float *const r[4], float *restrict pad,
    float *restrict h, size_t hs)
{
	size_t tw = g->tw, pw = 2 * tw + 2;

	for (int i = 0; i < 4; i++) {
		float *restrict hi = h + (size_t)i * 4 * hs;
		if (r[i] == NULL) {
			for (size_t b = 0; b < 4; b++)
				memset(hi + b * hs, 0, tw * sizeof(float));
			continue;
		}
		/* pad[c] = input column c - pl, zero outside */
		for (size_t c = 0; c < pw; c++) {
			size_t ix = c - g->pl;
			pad[c] = c >= g->pl && ix < g->iw ? r[i][ix] : 0.0f;
		}
		for (size_t t = 0; t < tw; t++) {
			float d0 = pad[2 * t], d1 = pad[2 * t + 1], d2 = pad[2 * t + 2];
			float d3 = pad[2 * t + 3];
			hi[t] = d0 - d2;
			hi[hs + t] = d1 + d2;
			hi[2 * hs + t] = d2 - d1;
			hi[3 * hs + t] = d1 - d3;
		}
	}
}

/* Input transform, vertical part, over n tiles: v + p * vs + j. */
static inline void
ci_wino_in_v(size_t n, const float *h, size_t hs, float *v, size_t vs)
{
	for (size_t b = 0; b < 4; b++) {
		const float *restrict h0 = h + b * hs, *restrict h1 = h + (4 + b) * hs;
		const float *restrict h2 = h + (8 + b) * hs, *restrict h3 = h + (12 + b) * hs;
		float *restrict v0 = v + b * vs, *restrict v1 = v + (4 + b) * vs;
		float *restrict v2 = v + (8 + b) * vs, *restrict v3 = v + (12 + b) * vs;
		for (size_t t = 0; t < n; t++) {
			v0[t] = h0[t] - h2[t];
			v1[t] = h1[t] + h2[t];
			v2[t] = h2[t] - h1[t];
			v3[t] = h1[t] - h3[t];
		}
	}
}

/*
 * Output transform of one output channel's tile row and its epilogue: m +
 * p * ms + j the GEMM result of position p, tile j; y0 / y1 the two output
 * rows (y1 NULL past the output's end), ow columns of them written as
 * act(value + bias (+ y when acc)). s: 12 * tw floats of scratch.
 */
static inline void
ci_wino_out_row(size_t tw, const float *m, size_t ms, float *y0, float *y1, size_t ow,
    float bias, int acc, const struct ci_gemm_epi *ep, float *restrict s)
{
	float *restrict o = s + 8 * tw;

	for (size_t b = 0; b < 4; b++) {
		const float *restrict m0 = m + b * ms, *restrict m1 = m + (4 + b) * ms;
		const float *restrict m2 = m + (8 + b) * ms, *restrict m3 = m + (12 + b) * ms;
		float *restrict s0 = s + b * tw, *restrict s1 = s + (4 + b) * tw;
		for (size_t t = 0; t < tw; t++) {
			s0[t] = m0[t] + m1[t] + m2[t];
			s1[t] = m1[t] - m2[t] - m3[t];
		}
	}
	for (int i = 0; i < 2; i++) {
		const float *restrict a = s + (size_t)i * 4 * tw;
		float *restrict yr = i ? y1 : y0;
		if (yr == NULL)
			break;
		for (size_t t = 0; t < tw; t++) {
			o[2 * t] = a[t] + a[tw + t] + a[2 * tw + t] + bias;
			o[2 * t + 1] = a[tw + t] - a[2 * tw + t] - a[3 * tw + t] + bias;
		}
		if (acc)
			for (size_t x = 0; x < ow; x++)
				o[x] += yr[x];
		ci_conv_act_row(ep, o, ow);
		memcpy(yr, o, ow * sizeof(float));
	}
}

/* Portable and AVX2 builds of the two kernels. */
void ci_wino_in_h_portable(const struct ci_wino_row *g, const float *const r[4], float *pad,
    float *h, size_t hs);
void ci_wino_in_h_avx2(const struct ci_wino_row *g, const float *const r[4], float *pad,
    float *h, size_t hs);
void ci_wino_in_v_portable(size_t n, const float *h, size_t hs, float *v, size_t vs);
void ci_wino_in_v_avx2(size_t n, const float *h, size_t hs, float *v, size_t vs);
void ci_wino_out_row_portable(size_t tw, const float *m, size_t ms, float *y0, float *y1,
    size_t ow, float bias, int acc, const struct ci_gemm_epi *ep, float *s);
void ci_wino_out_row_avx2(size_t tw, const float *m, size_t ms, float *y0, float *y1,
    size_t ow, float bias, int acc, const struct ci_gemm_epi *ep, float *s);

#endif
