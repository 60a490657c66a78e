/*
 * Winograd F(2x2, 3x3) convolution (see conv_winograd.h). Tile rows are
 * processed in chunks whose transformed input V and GEMM output M stay in
 * L2; with several threads and enough tiles each thread takes a run of
 * chunks, otherwise the 16 GEMMs of the one chunk use the threads.
 */
#include <stdatomic.h>
#include <string.h>

#include "runtime/conv_winograd.h"

static atomic_int wino_mode = 1;
static atomic_ulong wino_runs;
static atomic_size_t wino_chunk_tiles;

void
ci_wino_chunk_set(size_t tiles)
{
	atomic_store_explicit(&wino_chunk_tiles, tiles, memory_order_relaxed);
}

void
ci_wino_mode_set(int mode)
{
	atomic_store_explicit(&wino_mode, mode, memory_order_relaxed);
}

int
ci_wino_mode_get(void)
{
	return atomic_load_explicit(&wino_mode, memory_order_relaxed);
}

unsigned long
ci_wino_count(void)
{
	return atomic_load_explicit(&wino_runs, memory_order_relaxed);
}

void
ci_wino_in_h_portable(const struct ci_wino_row *g, const float *const r[4], float *pad,
    float *h, size_t hs)
{
	ci_wino_in_h(g, r, pad, h, hs);
}

void
ci_wino_in_v_portable(size_t n, const float *h, size_t hs, float *v, size_t vs)
{
	ci_wino_in_v(n, h, hs, v, vs);
}

void
ci_wino_out_row_portable(size_t tw, const float *m, size_t ms, float *y0, float *y1,
    size_t ow, float bias, int acc, const struct ci_gemm_epi *ep, float *s)
{
	ci_wino_out_row(tw, m, ms, y0, y1, ow, bias, acc, ep, s);
}

void
ci_wino_free(struct ci_wino *wp)
{
	if (wp == NULL)
		return;
	for (int p = 0; p < 16; p++)
		ci_sgemm_packed_free(wp->u[p]);
	ci_free(wp);
}

struct ci_wino *
ci_wino_prepare(const float *w, size_t oc, size_t ic)
{
	struct ci_wino *wp = NULL;
	float *u = NULL;
	int ok = 0;

	if (oc == 0 || ic == 0 || oc > SIZE_MAX / 16 / sizeof(float) / ic)
		goto out;
	wp = ci_calloc(1, sizeof(*wp));
	u = ci_alloc(16 * oc * ic * sizeof(float));
	if (wp == NULL || u == NULL)
		goto out;
	wp->oc = oc;
	wp->ic = ic;
	for (size_t o = 0; o < oc; o++)
		for (size_t c = 0; c < ic; c++) {
			const float *g = w + (o * ic + c) * 9;
			double t[4][3], q[4][4];
			/* t = G g (4x3), q = t G^T (4x4) */
			for (int j = 0; j < 3; j++) {
				double g0 = g[j], g1 = g[3 + j], g2 = g[6 + j];
				t[0][j] = g0;
				t[1][j] = 0.5 * (g0 + g1 + g2);
				t[2][j] = 0.5 * (g0 - g1 + g2);
				t[3][j] = g2;
			}
			for (int i = 0; i < 4; i++) {
				q[i][0] = t[i][0];
				q[i][1] = 0.5 * (t[i][0] + t[i][1] + t[i][2]);
				q[i][2] = 0.5 * (t[i][0] - t[i][1] + t[i][2]);
				q[i][3] = t[i][2];
			}
			for (int p = 0; p < 16; p++)
				u[(size_t)p * oc * ic + o * ic + c] = (float)q[p / 4][p % 4];
		}
	for (int p = 0; p < 16; p++) {
		wp->u[p] = ci_sgemm_pack(CI_SGEMM_A, 0, oc, ic, u + (size_t)p * oc * ic, ic);
		if (wp->u[p] == NULL)
			goto out;
	}
	ok = 1;
out:
	if (!ok) {
		ci_wino_free(wp);
		wp = NULL;
	}
	ci_free(u);
	return wp;
}

int
ci_wino_pays(size_t oc, size_t ic, size_t oh, size_t ow)
{
	size_t th = (oh + 1) / 2, tw = (ow + 1) / 2;

	if (oc < 16 || ic < 16 || oh == 0 || ow == 0)
		return 0;
	/* 16 products per tile against 9 per output: at most 3/4 of them */
	return 16 * th * tw * 4 <= 9 * oh * ow * 3;
}

struct wino_job {
	const struct ci_wino *wp;
	const float *x, *bias;
	const struct ci_gemm_epi *ep;
	float *y, *scratch;
	size_t n, ih, iw, pt, pl, oh, ow, th, tw, rows, rpc, parts, per_part;
	int acc, avx2;
};

/* Floats of the small per-thread scratch (pad, h, s) for tw-tile rows and
 * chunk stride cs. */
static size_t
small_floats(size_t tw, size_t cs)
{
	return (2 * tw + 2) + 16 * cs + 12 * tw + 64;
}

/* Floats of scratch one chunk of rpc tile rows needs (one thread). */
static size_t
chunk_floats(size_t ic, size_t oc, size_t tw, size_t rpc)
{
	size_t cs = (rpc * tw + 15) / 16 * 16;

	return 16 * (ic + oc) * cs + small_floats(tw, cs);
}

/* One chunk: tile rows [r0, r1) (row r: image r / th, tile row r % th),
 * V and M with row stride cs (cn tiles, whole 16-column tiles). */
struct chunk {
	const struct wino_job *j;
	size_t r0, r1, cn, cs, parts;
	float *v, *m, *small;	/* small: parts blocks of small_floats */
};

/* Input transform of channels [c0, c1); sm: small scratch. */
static void
stage_in(const struct chunk *ch, size_t c0, size_t c1, float *sm)
{
	const struct wino_job *j = ch->j;
	size_t ic = j->wp->ic, tw = j->tw, cs = ch->cs, cn = ch->cn;
	float *pad = sm, *h = pad + 2 * tw + 2;
	struct ci_wino_row g = { .tw = tw, .iw = j->iw, .pl = j->pl };

	for (size_t c = c0; c < c1; c++) {
		for (size_t r = ch->r0; r < ch->r1; r++) {
			size_t img = r / j->th, ty = r % j->th;
			const float *xc = j->x + (img * ic + c) * j->ih * j->iw, *rp[4];
			for (size_t i = 0; i < 4; i++) {
				size_t iy = 2 * ty + i - j->pt;	/* wraps when above the input */
				rp[i] = 2 * ty + i >= j->pt && iy < j->ih ? xc + iy * j->iw : NULL;
			}
			if (j->avx2)
				ci_wino_in_h_avx2(&g, rp, pad, h + (r - ch->r0) * tw, cs);
			else
				ci_wino_in_h_portable(&g, rp, pad, h + (r - ch->r0) * tw, cs);
		}
		if (j->avx2)
			ci_wino_in_v_avx2(cn, h, cs, ch->v + c * cs, ic * cs);
		else
			ci_wino_in_v_portable(cn, h, cs, ch->v + c * cs, ic * cs);
		if (cs > cn)	/* finite padding columns (their results are not read) */
			for (size_t p = 0; p < 16; p++)
				memset(ch->v + (p * ic + c) * cs + cn, 0, (cs - cn) * sizeof(float));
	}
}

/* GEMMs of positions [p0, p1) on k's threads (NULL: this one). */
static void
stage_gemm(const struct chunk *ch, struct ci_kctx *k, size_t p0, size_t p1)
{
	const struct ci_wino *wp = ch->j->wp;
	size_t ic = wp->ic, oc = wp->oc, cs = ch->cs;

	for (size_t p = p0; p < p1; p++)
		ci_sgemm_ex(k, 0, 0, oc, cs, ic, 1.0f, NULL, ic, wp->u[p], ch->v + p * ic * cs, cs,
		    NULL, 0.0f, ch->m + p * oc * cs, cs, NULL);
}

/* Output transform and epilogue of output channels [o0, o1). */
static void
stage_out(const struct chunk *ch, size_t o0, size_t o1, float *sm)
{
	const struct wino_job *j = ch->j;
	size_t oc = j->wp->oc, tw = j->tw, cs = ch->cs;
	float *s = sm + (2 * tw + 2) + 16 * cs;

	for (size_t o = o0; o < o1; o++) {
		float b = j->bias ? j->bias[o] : 0.0f;
		for (size_t r = ch->r0; r < ch->r1; r++) {
			size_t img = r / j->th, ty = r % j->th;
			const float *mr = ch->m + o * cs + (r - ch->r0) * tw;
			float *y0 = j->y + ((img * oc + o) * j->oh + 2 * ty) * j->ow;
			float *y1 = 2 * ty + 1 < j->oh ? y0 + j->ow : NULL;
			if (j->avx2)
				ci_wino_out_row_avx2(tw, mr, oc * cs, y0, y1, j->ow, b, j->acc, j->ep, s);
			else
				ci_wino_out_row_portable(tw, mr, oc * cs, y0, y1, j->ow, b, j->acc,
				    j->ep, s);
		}
	}
}

static void
par_in(void *arg, size_t lo, size_t hi)
{
	const struct chunk *ch = arg;
	size_t ic = ch->j->wp->ic;

	for (size_t p = lo; p < hi; p++)
		stage_in(ch, ic * p / ch->parts, ic * (p + 1) / ch->parts,
		    ch->small + p * small_floats(ch->j->tw, ch->cs));
}

static void
par_gemm(void *arg, size_t lo, size_t hi)
{
	stage_gemm(arg, NULL, lo, hi);
}

static void
par_out(void *arg, size_t lo, size_t hi)
{
	const struct chunk *ch = arg;
	size_t oc = ch->j->wp->oc;

	for (size_t p = lo; p < hi; p++)
		stage_out(ch, oc * p / ch->parts, oc * (p + 1) / ch->parts,
		    ch->small + p * small_floats(ch->j->tw, ch->cs));
}

/* Tile rows [r0, r1) in chunks of rpc rows on this thread; ws scratch. */
static void
wino_rows(const struct wino_job *j, size_t r0, size_t r1, float *ws)
{
	for (size_t r = r0; r < r1; r += j->rpc) {
		struct chunk ch = { .j = j, .r0 = r, .r1 = r + j->rpc < r1 ? r + j->rpc : r1,
			.parts = 1 };
		ch.cn = (ch.r1 - ch.r0) * j->tw;
		ch.cs = (ch.cn + 15) / 16 * 16;
		ch.v = ws;
		ch.m = ch.v + 16 * j->wp->ic * ch.cs;
		ch.small = ch.m + 16 * j->wp->oc * ch.cs;
		stage_in(&ch, 0, j->wp->ic, ch.small);
		stage_gemm(&ch, NULL, 0, 16);
		stage_out(&ch, 0, j->wp->oc, ch.small);
	}
}

static void
wino_part(void *arg, size_t lo, size_t hi)
{
	const struct wino_job *j = arg;

	for (size_t p = lo; p < hi; p++)
		wino_rows(j, j->rows * p / j->parts, j->rows * (p + 1) / j->parts,
		    j->scratch + p * j->per_part);
}

/* All tile rows as one chunk, each stage split over k's threads. */
static void
wino_shared(struct ci_kctx *k, const struct wino_job *j, size_t threads)
{
	struct chunk ch = { .j = j, .r0 = 0, .r1 = j->rows, .parts = threads };

	ch.cn = j->rows * j->tw;
	ch.cs = (ch.cn + 15) / 16 * 16;
	ch.v = j->scratch;
	ch.m = ch.v + 16 * j->wp->ic * ch.cs;
	ch.small = ch.m + 16 * j->wp->oc * ch.cs;
	ci_parallel(k, threads, 1, par_in, &ch);
	ci_parallel(k, 16, 1, par_gemm, &ch);
	ci_parallel(k, threads, 1, par_out, &ch);
}

int
ci_wino_run(struct ci_kctx *k, const struct ci_wino *wp, const float *x, size_t n,
    size_t ih, size_t iw, size_t pt, size_t pl, size_t oh, size_t ow, const float *bias,
    const struct ci_gemm_epi *ep, int acc, float *y, struct cinfer_err *e)
{
	struct wino_job j = { .wp = wp, .x = x, .bias = bias, .ep = ep, .y = y, .n = n,
		.ih = ih, .iw = iw, .pt = pt, .pl = pl, .oh = oh, .ow = ow, .acc = acc,
		.avx2 = ci_use_avx2() };
	size_t target, threads = k && k->threads > 1 ? (size_t)k->threads : 1;

	if (n == 0 || oh == 0 || ow == 0)
		return 0;
	j.th = (oh + 1) / 2;
	j.tw = (ow + 1) / 2;
	j.rows = n * j.th;
	/* V and M of a chunk in about 768 KiB */
	target = 196608 / (16 * (wp->ic + wp->oc));
	if (target < 16)
		target = 16;
	if (atomic_load_explicit(&wino_chunk_tiles, memory_order_relaxed) != 0)
		target = atomic_load_explicit(&wino_chunk_tiles, memory_order_relaxed);
	j.rpc = (target + j.tw - 1) / j.tw;
	if (j.rpc > j.rows)
		j.rpc = j.rows;
	j.parts = threads > 1 && j.rows >= 2 * threads && j.rows * j.tw >= 96 * threads ?
	    threads : 1;
	if (j.parts > 1 && j.rpc > j.rows / j.parts)
		j.rpc = j.rows / j.parts;
	if (threads > 1 && j.parts == 1) {
		/* few tiles: one chunk, every stage split over the threads */
		size_t cs = (j.rows * j.tw + 15) / 16 * 16;
		j.scratch = ci_scratch(k, (16 * (wp->ic + wp->oc) * cs +
		    threads * small_floats(j.tw, cs)) * sizeof(float), e);
		if (j.scratch == NULL)
			return -1;
		wino_shared(k, &j, threads);
	} else {
		j.per_part = chunk_floats(wp->ic, wp->oc, j.tw, j.rpc);
		j.scratch = ci_scratch(k, j.parts * j.per_part * sizeof(float), e);
		if (j.scratch == NULL)
			return -1;
		if (j.parts > 1)
			ci_parallel(k, j.parts, 1, wino_part, &j);
		else
			wino_rows(&j, 0, j.rows, j.scratch);
	}
	atomic_fetch_add_explicit(&wino_runs, 1, memory_order_relaxed);
	return 0;
}
