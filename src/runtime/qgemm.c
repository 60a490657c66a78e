/*
 * Integer GEMM (see qgemm.h): B packing, A preparation, quantization, the
 * portable kernel and the threaded driver. The AVX2 kernels are in
 * qgemm_avx2.c.
 */
/* no contraction: the float epilogue must round like the separate Mul and
 * Add of the unfused graph, whatever -march the library is built with */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#else
#pragma GCC optimize("fp-contract=off")
#endif
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/qgemm.h"

#define STAGE "runtime.qgemm"

static int32_t
q8v(int dtype, const void *p, size_t i)
{
	return dtype == CI_DT_UINT8 ? ((const uint8_t *)p)[i] : ((const int8_t *)p)[i];
}

void
ci_qgemm_b_clear(struct ci_qgemm_b *pb)
{
	if (pb == NULL)
		return;
	ci_free(pb->data);
	ci_free(pb->colsum);
	ci_free(pb->fix);
	ci_free(pb->fix_start);
	memset(pb, 0, sizeof(*pb));
}

/* Whether every adjacent pair of k (0-1, 2-3, ...) keeps vpmaddubsw exact. */
static int
maddubs_exact(int dtype, size_t k, size_t n, const void *b, size_t ldb, int shift)
{
	for (size_t p = 0; p + 1 < k; p += 2)
		for (size_t j = 0; j < n; j++) {
			int32_t w0 = q8v(dtype, b, p * ldb + j) - shift;
			int32_t w1 = q8v(dtype, b, (p + 1) * ldb + j) - shift;
			if ((w0 < 0) == (w1 < 0) && 255 * (abs(w0) + abs(w1)) > 32767)
				return 0;
		}
	return 1;
}

/*
 * X2 lanes: moves weights out of lane-unsafe groups of wm (k x n, shifted
 * values) into fix, largest first. Returns the count, or SIZE_MAX once it
 * passes limit (then wm is partly clipped: the caller starts over).
 */
static size_t
x2_clip(int16_t *wm, size_t k, size_t n, struct ci_qgemm_fix *fix, size_t limit)
{
	static const int lane[2][4] = { { 0, 1, 4, 5 }, { 2, 3, 6, 7 } };
	size_t nf = 0;

	for (size_t j = 0; j < n; j++)
		for (size_t g = 0; g < k; g += 8)
			for (int l = 0; l < 2; l++)
				for (;;) {
					int32_t pos = 0, neg = 0, big = 0;
					size_t at = 0;
					for (int t = 0; t < 4; t++) {
						size_t p = g + (size_t)lane[l][t];
						int32_t w = p < k ? wm[p * n + j] : 0;
						if (w > 0)
							pos += w;
						else
							neg += w;
					}
					if (pos <= 128 && neg >= -128)
						break;
					for (int t = 0; t < 4; t++) {
						size_t p = g + (size_t)lane[l][t];
						int32_t w = p < k ? wm[p * n + j] : 0;
						if ((pos > 128 && w > big) || (pos <= 128 && -w > big)) {
							big = w > 0 ? w : -w;
							at = p;
						}
					}
					if (nf >= limit)
						return SIZE_MAX;
					fix[nf].p = (uint32_t)at;
					fix[nf].j = (uint32_t)j;	/* column; made panel-relative later */
					fix[nf].w = wm[at * n + j];
					nf++;
					wm[at * n + j] = 0;
				}
	return nf;
}

static int
fix_cmp(const void *a, const void *b)
{
	const struct ci_qgemm_fix *x = a, *y = b;

	if (x->j != y->j)
		return x->j < y->j ? -1 : 1;
	return x->p < y->p ? -1 : x->p > y->p;
}

int
ci_qgemm_b_pack(struct ci_qgemm_b *pb, int dtype, size_t k, size_t n, const void *b, size_t ldb,
    int layout, struct cinfer_err *e)
{
	size_t kp, panels = (n + CI_QGEMM_NR - 1) / CI_QGEMM_NR, es, nf = 0, limit;
	int shift = dtype == CI_DT_UINT8 ? 128 : 0;
	int16_t *wm = NULL;
	struct ci_qgemm_fix *fix = NULL;
	int rc = -1;

	memset(pb, 0, sizeof(*pb));
	if (dtype != CI_DT_UINT8 && dtype != CI_DT_INT8)
		return ci_fail(e, CINFER_E_INTERNAL, STAGE, "B type");
	if (k > CI_RT_MAX_TENSOR_SIZE || n > CI_RT_MAX_TENSOR_SIZE || k > UINT32_MAX ||
	    n > UINT32_MAX || (panels && k + 8 > CI_RT_MAX_TENSOR_SIZE / panels / (2 * CI_QGEMM_NR)))
		return ci_fail(e, CINFER_E_LIMIT, STAGE, "B too large");
	/* the shifted weights, then the fix list for X2 (at most k n / 1024 entries) */
	wm = ci_alloc(k * n * sizeof(int16_t) + 1);
	/* each fix costs m scalar multiply-adds: keep them under ~1/1024 of the work */
	limit = layout == CI_QGEMM_U8S8X2 ? k * n : k * n / 1024;
	fix = ci_alloc((limit + 1) * sizeof(*fix));
	if (wm == NULL || fix == NULL) {
		ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
		goto out;
	}
	for (size_t p = 0; p < k; p++)
		for (size_t j = 0; j < n; j++)
			wm[p * n + j] = (int16_t)(q8v(dtype, b, p * ldb + j) - shift);
	pb->colsum = ci_calloc(n + 1, sizeof(int32_t));
	if (pb->colsum == NULL) {
		ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
		goto out;
	}
	for (size_t p = 0; p < k; p++)
		for (size_t j = 0; j < n; j++)
			pb->colsum[j] = (int32_t)((uint32_t)pb->colsum[j] + (uint32_t)wm[p * n + j]);
	if (layout < 0 || layout == CI_QGEMM_U8S8X2) {
		nf = x2_clip(wm, k, n, fix, limit);
		if (nf != SIZE_MAX) {
			layout = CI_QGEMM_U8S8X2;
		} else {
			nf = 0;
			for (size_t p = 0; p < k; p++)	/* start over from the source */
				for (size_t j = 0; j < n; j++)
					wm[p * n + j] = (int16_t)(q8v(dtype, b, p * ldb + j) - shift);
			layout = maddubs_exact(dtype, k, n, b, ldb, shift) ? CI_QGEMM_U8S8 : CI_QGEMM_S16;
		}
	}
	kp = layout == CI_QGEMM_U8S8X2 ? (k + 7) & ~(size_t)7 : (k + 3) & ~(size_t)3;
	es = layout == CI_QGEMM_S16 ? 2 : 1;
	pb->k = k;
	pb->n = n;
	pb->kp = kp;
	pb->panels = panels;
	pb->layout = layout;
	pb->shift = shift;
	pb->data = ci_calloc(panels * kp * CI_QGEMM_NR + 1, es);
	if (pb->data == NULL) {
		ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
		goto out;
	}
	if (layout == CI_QGEMM_U8S8X2) {
		pb->fix_start = ci_calloc(panels + 2, sizeof(uint32_t));
		pb->fix = ci_alloc((nf + 1) * sizeof(*fix));
		if (pb->fix_start == NULL || pb->fix == NULL) {
			ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
			goto out;
		}
		qsort(fix, nf, sizeof(*fix), fix_cmp);
		for (size_t f = 0; f < nf; f++) {
			pb->fix_start[fix[f].j / CI_QGEMM_NR + 1]++;
			pb->fix[f] = fix[f];
			pb->fix[f].j = fix[f].j % CI_QGEMM_NR;
		}
		for (size_t q = 0; q < panels; q++)
			pb->fix_start[q + 1] += pb->fix_start[q];
		pb->n_fix = nf;
	}
	for (size_t p = 0; p < k; p++)
		for (size_t j = 0; j < n; j++) {
			int32_t w = wm[p * n + j];
			size_t pan = j / CI_QGEMM_NR, jj = j % CI_QGEMM_NR, o;
			if (layout != CI_QGEMM_S16) {
				o = pan * kp * CI_QGEMM_NR + (p / 4) * 4 * CI_QGEMM_NR + jj * 4 + p % 4;
				((int8_t *)pb->data)[o] = (int8_t)w;
			} else {
				o = pan * kp * CI_QGEMM_NR + (p / 2) * 2 * CI_QGEMM_NR + jj * 2 + p % 2;
				((int16_t *)pb->data)[o] = (int16_t)w;
			}
		}
	rc = 0;
out:
	ci_free(wm);
	ci_free(fix);
	if (rc != 0)
		ci_qgemm_b_clear(pb);
	return rc;
}

void
ci_qgemm_b_zero(const struct ci_qgemm_b *pb, int dtype, const void *zp, size_t zp_count,
    int32_t *zb, int32_t *cb)
{
	for (size_t j = 0; j < pb->n; j++) {
		int32_t z = zp ? q8v(dtype, zp, zp_count == 1 ? 0 : j) : 0;
		zb[j] = z - pb->shift;
		cb[j] = (int32_t)((uint32_t)pb->colsum[j] - (uint32_t)pb->k * (uint32_t)zb[j]);
	}
	for (size_t j = pb->n; j < pb->panels * CI_QGEMM_NR; j++)
		zb[j] = cb[j] = 0;
}

/* Pads row i of dst from its u8 values already at dst (U8S8) or widens. */
static void
a_row_finish(const struct ci_qgemm_b *pb, uint8_t *row8, void *dst_row)
{
	if (pb->layout == CI_QGEMM_S16) {
		uint16_t *d = dst_row;
		for (size_t p = 0; p < pb->k; p++)
			d[p] = row8[p];
		for (size_t p = pb->k; p < pb->kp; p++)
			d[p] = 0;
	} else {
		for (size_t p = pb->k; p < pb->kp; p++)
			row8[p] = 0;
	}
}

/* Where a row's u8 values go before a_row_finish: the row itself (U8S8) or
 * its upper half (S16; widening forward never overwrites unread bytes). */
static uint8_t *
a_row8(const struct ci_qgemm_b *pb, void *dst, size_t i)
{
	uint8_t *row = (uint8_t *)dst + i * pb->kp * ci_qgemm_a_elsize(pb);

	return pb->layout == CI_QGEMM_S16 ? row + pb->kp : row;
}

void
ci_qgemm_a_from_q8(const struct ci_qgemm_b *pb, int dtype, const void *a, size_t lda, size_t m,
    void *dst, int32_t *rowsum)
{
	for (size_t i = 0; i < m; i++) {
		uint8_t *r8 = a_row8(pb, dst, i);
		if (dtype == CI_DT_UINT8)
			memcpy(r8, (const uint8_t *)a + i * lda, pb->k);
		else
			for (size_t p = 0; p < pb->k; p++)
				r8[p] = (uint8_t)(((const int8_t *)a)[i * lda + p] + 128);
		uint32_t sum = 0;
		for (size_t p = 0; p < pb->k; p++)
			sum += r8[p];
		rowsum[i] = (int32_t)sum;
		a_row_finish(pb, r8, (uint8_t *)dst + i * pb->kp * ci_qgemm_a_elsize(pb));
	}
}

/* ---- quantization ---------------------------------------------------------- */
static uint32_t
quantize_u8_portable(const float *x, size_t n, float scale, float zp, uint8_t *dst)
{
	uint32_t s = 0;

	if (scale == 0) {
		memset(dst, 0, n);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		float v = nearbyintf(x[i] / scale) + zp;
		dst[i] = (uint8_t)(!(v > 0) ? 0 : v > 255 ? 255 : v);	/* NaN: 0 */
		s += dst[i];
	}
	return s;
}

uint32_t
ci_q8_quantize_u8(const float *x, size_t n, float scale, float zp, uint8_t *dst)
{
	if (ci_use_avx2() && scale != 0)
		return ci_q8_quantize_u8_avx2(x, n, scale, zp, dst);
	return quantize_u8_portable(x, n, scale, zp, dst);
}

void
ci_q8_minmax(const float *x, size_t n, float *mn, float *mx)
{
	float lo = 0, hi = 0;

	if (ci_use_avx2()) {
		ci_q8_minmax_avx2(x, n, mn, mx);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		lo = x[i] < lo ? x[i] : lo;
		hi = x[i] > hi ? x[i] : hi;
	}
	*mn = lo;
	*mx = hi;
}

void
ci_q8_dyn_params(float mn, float mx, float *scale, uint8_t *zp)
{
	float s = (mx - mn) / 255.0f;
	float z = s == 0 ? 0 : nearbyintf((0 - mn) / s);

	*scale = s;
	*zp = (uint8_t)(!(z > 0) ? 0 : z > 255 ? 255 : z);
}

#define MM_CHUNKS 64
struct mm_job {
	const float *x;
	size_t n, chunk;
	float lo[MM_CHUNKS], hi[MM_CHUNKS];
};

static void
mm_part(void *arg, size_t lo, size_t hi)
{
	struct mm_job *j = arg;

	for (size_t c = lo; c < hi; c++) {
		size_t a = c * j->chunk, b = a + j->chunk < j->n ? a + j->chunk : j->n;
		if (a >= b) {
			j->lo[c] = j->hi[c] = 0;
			continue;
		}
		ci_q8_minmax(j->x + a, b - a, &j->lo[c], &j->hi[c]);
	}
}

void
ci_q8_minmax_par(struct ci_kctx *k, const float *x, size_t n, float *mn, float *mx)
{
	struct mm_job j = { .x = x, .n = n };
	size_t chunks;

	if (k == NULL || k->threads <= 1 || n < 32768) {
		ci_q8_minmax(x, n, mn, mx);
		return;
	}
	j.chunk = (n + MM_CHUNKS - 1) / MM_CHUNKS;
	chunks = (n + j.chunk - 1) / j.chunk;
	ci_parallel(k, chunks, 1, mm_part, &j);
	*mn = 0;
	*mx = 0;
	for (size_t c = 0; c < chunks; c++) {
		*mn = j.lo[c] < *mn ? j.lo[c] : *mn;
		*mx = j.hi[c] > *mx ? j.hi[c] : *mx;
	}
}

struct qa_job {
	const struct ci_qgemm_b *pb;
	const float *x;
	size_t ldx;
	float scale, zp;
	void *dst;
	int32_t *rowsum;
};

static void
qa_rows(void *arg, size_t lo, size_t hi)
{
	struct qa_job *j = arg;

	for (size_t i = lo; i < hi; i++) {
		uint8_t *r8 = a_row8(j->pb, j->dst, i);
		j->rowsum[i] = (int32_t)ci_q8_quantize_u8(j->x + i * j->ldx, j->pb->k, j->scale, j->zp,
		    r8);
		a_row_finish(j->pb, r8, (uint8_t *)j->dst + i * j->pb->kp * ci_qgemm_a_elsize(j->pb));
	}
}

void
ci_qgemm_a_quantize(struct ci_kctx *k, const struct ci_qgemm_b *pb, const float *x, size_t ldx,
    size_t m, float scale, float zp, void *dst, int32_t *rowsum)
{
	struct qa_job j = { pb, x, ldx, scale, zp, dst, rowsum };
	size_t grain = pb->k ? 16384 / pb->k + 1 : m + 1;

	if (k)
		ci_parallel(k, m, grain, qa_rows, &j);
	else
		qa_rows(&j, 0, m);
}

/* ---- kernels ---------------------------------------------------------------- */
static void
store_row(const struct ci_qgemm_args *g, size_t i, size_t j0, size_t cols, const int32_t *acc)
{
	int32_t za = g->za[g->za_per_row ? i : 0], rs = g->rowsum[i];

	for (size_t jj = 0; jj < cols; jj++) {
		size_t j = j0 + jj;
		int32_t v = ci_qgemm_fix(acc[jj], rs, g->zb[j], za, g->cb[j]);
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

void
ci_qgemm_block_portable(const struct ci_qgemm_args *g, size_t i0, size_t i1, size_t p0, size_t p1)
{
	const struct ci_qgemm_b *b = g->b;
	size_t kp = b->kp;

	for (size_t pan = p0; pan < p1; pan++) {
		size_t j0 = pan * CI_QGEMM_NR;
		size_t cols = b->n - j0 < CI_QGEMM_NR ? b->n - j0 : CI_QGEMM_NR;
		for (size_t i = i0; i < i1; i++) {
			uint32_t acc[CI_QGEMM_NR] = { 0 };
			int32_t out[CI_QGEMM_NR];
			if (b->layout != CI_QGEMM_S16) {
				const uint8_t *a = (const uint8_t *)g->a + i * g->lda;
				const int8_t *w = (const int8_t *)b->data + pan * kp * CI_QGEMM_NR;
				for (size_t q = 0; q < kp; q += 4, w += 4 * CI_QGEMM_NR)
					for (size_t jj = 0; jj < CI_QGEMM_NR; jj++)
						for (size_t t = 0; t < 4; t++)
							acc[jj] += (uint32_t)((int32_t)a[q + t] * w[jj * 4 + t]);
				a = (const uint8_t *)g->a + i * g->lda;
				for (size_t f = b->fix_start ? b->fix_start[pan] : 0;
				    b->fix_start && f < b->fix_start[pan + 1]; f++)
					acc[b->fix[f].j] += (uint32_t)((int32_t)a[b->fix[f].p] * b->fix[f].w);
			} else {
				const uint16_t *a = (const uint16_t *)g->a + i * g->lda;
				const int16_t *w = (const int16_t *)b->data + pan * kp * CI_QGEMM_NR;
				for (size_t q = 0; q < kp; q += 2, w += 2 * CI_QGEMM_NR)
					for (size_t jj = 0; jj < CI_QGEMM_NR; jj++)
						for (size_t t = 0; t < 2; t++)
							acc[jj] += (uint32_t)((int32_t)a[q + t] * w[jj * 2 + t]);
			}
			for (size_t jj = 0; jj < CI_QGEMM_NR; jj++)
				out[jj] = (int32_t)acc[jj];
			store_row(g, i, j0, cols, out);
		}
	}
}

/* ---- driver ------------------------------------------------------------------ */
#define ROWS_PER_TASK 64
#define PANELS_PER_TASK 2

struct run_job {
	const struct ci_qgemm_args *g;
	size_t rtasks, ptasks;
	int avx2;
};

static void
run_tasks(void *arg, size_t lo, size_t hi)
{
	struct run_job *j = arg;
	const struct ci_qgemm_args *g = j->g;

	for (size_t t = lo; t < hi; t++) {
		size_t rt = t / j->ptasks, pt = t % j->ptasks;
		size_t i0 = rt * ROWS_PER_TASK, i1 = i0 + ROWS_PER_TASK < g->m ? i0 + ROWS_PER_TASK : g->m;
		size_t p0 = pt * PANELS_PER_TASK;
		size_t p1 = p0 + PANELS_PER_TASK < g->b->panels ? p0 + PANELS_PER_TASK : g->b->panels;
		if (j->avx2)
			ci_qgemm_block_avx2(g, i0, i1, p0, p1);
		else
			ci_qgemm_block_portable(g, i0, i1, p0, p1);
	}
}

void
ci_qgemm_run(struct ci_kctx *k, const struct ci_qgemm_args *g)
{
	struct run_job j = { .g = g, .avx2 = ci_use_avx2() };
	size_t per_task, grain;

	if (g->m == 0 || g->b->n == 0)
		return;
	j.rtasks = (g->m + ROWS_PER_TASK - 1) / ROWS_PER_TASK;
	j.ptasks = (g->b->panels + PANELS_PER_TASK - 1) / PANELS_PER_TASK;
	/* about 256K multiply-adds per thread at least */
	per_task = ROWS_PER_TASK * PANELS_PER_TASK * CI_QGEMM_NR * (g->b->kp ? g->b->kp : 1);
	grain = per_task >= 262144 ? 1 : 262144 / per_task;
	if (k)
		ci_parallel(k, j.rtasks * j.ptasks, grain, run_tasks, &j);
	else
		run_tasks(&j, 0, j.rtasks * j.ptasks);
}
