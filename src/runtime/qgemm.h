/*
 * Integer GEMM for MatMulInteger and the fused quantized MatMuls of
 * pass_quant.c, bit-exact per ONNX:
 *
 *   C[i][j] = sum_p (A[i][p] - za_i) (B[p][j] - zb_j)	(int32, wrapping)
 *
 * computed as sum A B - zb_j rowsum_i - za_i (colsum_j - K zb_j), so the
 * kernels only multiply raw operands. Every type combination reduces to
 * u8 x s8: an s8 A is shifted by +128 (and its zero point too), a u8 B by
 * -128; the differences (a - za), (b - zb) do not change.
 *
 * B (the constant weights) is packed once in panels of 8 columns. Layout
 * CI_QGEMM_U8S8 stores 4 consecutive k of a column together for
 * vpmaddubsw, which saturates its u8 x s8 pair sums to s16: it is chosen
 * only when every pair of adjacent k of every column satisfies
 * 255 (|b0| + |b1|) <= 32767 (or b0, b1 differ in sign), so no sum can
 * saturate. Otherwise CI_QGEMM_S16 stores s16 pairs for vpmaddwd (exact
 * for any values). A is then u8 or u16 (zero-extended) rows, padded with
 * zeros to the packed depth. Each layout has an AVX2 kernel
 * (qgemm_avx2.c) and a portable C one (the same results).
 */
#ifndef CI_RUNTIME_QGEMM_H
#define CI_RUNTIME_QGEMM_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/rt.h"

/*
 * CI_QGEMM_U8S8X2 is U8S8 whose kernel also adds two vpmaddubsw results in
 * s16 before vpmaddwd (3 multiplies per 8 k instead of 4): each s16 lane
 * then sums k = 8g + {0, 1, 4, 5} or {2, 3, 6, 7}, exact while the lane's
 * positive weights sum to <= 128 and its negative ones to >= -128. Weights
 * that break that are moved out of the packed matrix into a short list
 * (fix) added to the tile exactly; chosen when that list is short.
 */
enum ci_qgemm_layout { CI_QGEMM_U8S8 = 0, CI_QGEMM_S16 = 1, CI_QGEMM_U8S8X2 = 2 };

#define CI_QGEMM_NR 8		/* columns per panel */

struct ci_qgemm_fix {
	uint32_t p;		/* row of B (k) */
	uint32_t j;		/* column within the panel */
	int32_t w;		/* the (shifted) weight left out of data */
};

struct ci_qgemm_b {
	size_t k, n;		/* logical shape of B */
	size_t kp;		/* depth padded to a multiple of 4 (X2: of 8) */
	size_t panels;		/* ceil(n / 8) */
	int layout;		/* enum ci_qgemm_layout */
	void *data;		/* panels x kp x 8: int8 (U8S8*) or int16 (S16) */
	int32_t *colsum;	/* n: sum over p of the shifted B */
	int shift;		/* 128 when B was u8 (stored b - 128), else 0 */
	struct ci_qgemm_fix *fix;	/* X2: by panel; panel q has fix[fix_start[q] .. [q + 1]) */
	uint32_t *fix_start;	/* panels + 1, or NULL */
	size_t n_fix;
};

/*
 * Packs b (dtype u8 or s8, k rows x n columns, row stride ldb elements).
 * layout: -1 chooses (U8S8 when exact, see above), or forces one (tests).
 * Returns 0 or -1 (out of memory, sizes over the caps).
 */
CI_MUST_CHECK int ci_qgemm_b_pack(struct ci_qgemm_b *pb, int dtype, size_t k, size_t n,
    const void *b, size_t ldb, int layout, struct cinfer_err *e);
void ci_qgemm_b_clear(struct ci_qgemm_b *pb);

/*
 * B's zero points in the kernels' form: zb[j] (shifted like B) and
 * cb[j] = colsum[j] - k zb[j], for a zero point tensor of B's type with 1
 * or n elements (NULL: 0). zb and cb hold panels * 8 entries each (the
 * padding columns get 0).
 */
void ci_qgemm_b_zero(const struct ci_qgemm_b *pb, int dtype, const void *zp, size_t zp_count,
    int32_t *zb, int32_t *cb);

/* Elements of one A row as the kernels read it (kp), and its element size. */
static inline size_t
ci_qgemm_a_elsize(const struct ci_qgemm_b *pb)
{
	return pb->layout == CI_QGEMM_S16 ? 2 : 1;	/* u8 for both U8S8 forms */
}

/*
 * A from a q8 tensor (dtype u8 or s8, m rows of pb->k, row stride lda):
 * writes m rows of pb->kp elements to dst (u8 or u16 per layout, zero
 * padded, s8 shifted by +128) and rowsum[i].
 */
void ci_qgemm_a_from_q8(const struct ci_qgemm_b *pb, int dtype, const void *a, size_t lda,
    size_t m, void *dst, int32_t *rowsum);

/*
 * Quantizes float rows to u8 as QuantizeLinear / DynamicQuantizeLinear do
 * (x / scale in float, round half to even, + zp, saturate to [0, 255], NaN
 * to 0; scale 0 gives 0) into the A form above, on k's threads. x: m rows
 * of pb->k floats, stride ldx.
 */
void ci_qgemm_a_quantize(struct ci_kctx *k, const struct ci_qgemm_b *pb, const float *x,
    size_t ldx, size_t m, float scale, float zp, void *dst, int32_t *rowsum);

/* The u8 quantization alone (DynamicQuantizeLinear's output), n elements;
 * returns the sum of the outputs (mod 2^32). */
uint32_t ci_q8_quantize_u8(const float *x, size_t n, float scale, float zp, uint8_t *dst);
/* min(0, min x) and max(0, max x), NaN ignored (DynamicQuantizeLinear). */
void ci_q8_minmax(const float *x, size_t n, float *mn, float *mx);
/* DynamicQuantizeLinear's scale and zero point from that range. */
void ci_q8_dyn_params(float mn, float mx, float *scale, uint8_t *zp);
/* The same on k's threads. */
void ci_q8_minmax_par(struct ci_kctx *k, const float *x, size_t n, float *mn, float *mx);

/* One product. */
struct ci_qgemm_args {
	size_t m;
	const void *a;		/* m rows of lda elements (see ci_qgemm_a_*) */
	size_t lda;
	const int32_t *rowsum;	/* m */
	const int32_t *za;	/* A's zero point (shifted): za[i] or za[0] */
	int za_per_row;
	const struct ci_qgemm_b *b;
	const int32_t *zb, *cb;	/* panels * 8 each, from ci_qgemm_b_zero */
	/* Output: int32 C, or float (float)C * scale[j or 0] (+ bias[j]). */
	int32_t *c;
	float *f;
	size_t ldc;
	const float *scale;
	int scale_per_col;
	const float *bias;	/* NULL: none */
};

/* Runs it on k's threads (k NULL: this thread). */
void ci_qgemm_run(struct ci_kctx *k, const struct ci_qgemm_args *g);

/* Rows [i0, i1) x panels [p0, p1) of one product (the kernels). */
void ci_qgemm_block_portable(const struct ci_qgemm_args *g, size_t i0, size_t i1, size_t p0,
    size_t p1);
/* Only when the CPU has AVX2 (qgemm_avx2.c). */
void ci_qgemm_block_avx2(const struct ci_qgemm_args *g, size_t i0, size_t i1, size_t p0,
    size_t p1);
uint32_t ci_q8_quantize_u8_avx2(const float *x, size_t n, float scale, float zp, uint8_t *dst);
void ci_q8_minmax_avx2(const float *x, size_t n, float *mn, float *mx);

/* Shared epilogue of one value: v = acc - rowsum zb - za cb (wrapping). */
static inline int32_t
ci_qgemm_fix(int32_t acc, int32_t rowsum, int32_t zb, int32_t za, int32_t cb)
{
	return (int32_t)((uint32_t)acc - (uint32_t)rowsum * (uint32_t)zb -
	    (uint32_t)za * (uint32_t)cb);
}

#endif
