/*
 * Single-precision GEMM, row major: C = alpha * op(A) op(B) + beta * C.
 *
 * ci_sgemm picks an implementation at run time from the CPU's features:
 * the packed AVX2+FMA kernel (sgemm_avx2.c, built with -mavx2 -mfma, see
 * area.cmake) when the CPU has both, else the portable path below. Tests
 * force either one with ci_sgemm_path_set.
 *
 * The portable path is a plain blocked kernel: B is packed panel by panel
 * (transposes resolved while packing), four rows of C are updated per pass
 * so each packed B row is loaded once for four FMAs; the inner loop is left
 * to the compiler's vectorizer (-O3, see area.cmake).
 *
 * Contract of every path: beta == 0 means C is not read (NaN or Inf in C do
 * not leak); alpha == 0 or k == 0 means A and B are not read.
 */
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "runtime/parallel.h"
#include "runtime/rt.h"
#include "runtime/sgemm.h"

#define KC 256

static inline float
a_at(int ta, const float *a, size_t lda, size_t i, size_t p)
{
	return ta ? a[p * lda + i] : a[i * lda + p];
}

void
ci_sgemm_portable(int ta, int tb, size_t m, size_t n, size_t k, float alpha, const float *a,
    size_t lda, const float *b, size_t ldb, float beta, float *c, size_t ldc)
{
	float bp[KC * 64];
	float *pk;

	for (size_t i = 0; i < m; i++) {
		float *ci = c + i * ldc;
		if (beta == 0.0f)
			memset(ci, 0, n * sizeof(float));
		else if (beta != 1.0f)
			for (size_t j = 0; j < n; j++)
				ci[j] *= beta;
	}
	if (k == 0 || alpha == 0.0f)
		return;
	pk = bp;
	for (size_t p0 = 0; p0 < k; p0 += KC) {
		size_t kc = k - p0 < KC ? k - p0 : KC;
		for (size_t j0 = 0; j0 < n; j0 += 64) {
			size_t nc = n - j0 < 64 ? n - j0 : 64;
			/* pack B[p0:p0+kc, j0:j0+nc] as kc rows of nc */
			for (size_t p = 0; p < kc; p++) {
				float *dst = pk + p * nc;
				if (tb) {
					for (size_t j = 0; j < nc; j++)
						dst[j] = b[(j0 + j) * ldb + p0 + p];
				} else {
					memcpy(dst, b + (p0 + p) * ldb + j0, nc * sizeof(float));
				}
			}
			size_t i = 0;
			for (; i + 4 <= m; i += 4) {
				float acc[4][64];
				memset(acc, 0, sizeof(acc));
				for (size_t p = 0; p < kc; p++) {
					const float *br = pk + p * nc;
					float a0 = a_at(ta, a, lda, i, p0 + p);
					float a1 = a_at(ta, a, lda, i + 1, p0 + p);
					float a2 = a_at(ta, a, lda, i + 2, p0 + p);
					float a3 = a_at(ta, a, lda, i + 3, p0 + p);
					for (size_t j = 0; j < nc; j++) {
						float bv = br[j];
						acc[0][j] += a0 * bv;
						acc[1][j] += a1 * bv;
						acc[2][j] += a2 * bv;
						acc[3][j] += a3 * bv;
					}
				}
				for (size_t r = 0; r < 4; r++) {
					float *cr = c + (i + r) * ldc + j0;
					for (size_t j = 0; j < nc; j++)
						cr[j] += alpha * acc[r][j];
				}
			}
			for (; i < m; i++) {
				float acc[64];
				memset(acc, 0, sizeof(acc));
				for (size_t p = 0; p < kc; p++) {
					const float *br = pk + p * nc;
					float a0 = a_at(ta, a, lda, i, p0 + p);
					for (size_t j = 0; j < nc; j++)
						acc[j] += a0 * br[j];
				}
				float *cr = c + i * ldc + j0;
				for (size_t j = 0; j < nc; j++)
					cr[j] += alpha * acc[j];
			}
		}
	}
}

static _Atomic int forced = CI_SGEMM_AUTO;

static int
cpu_has_avx2(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

int
ci_sgemm_path_set(enum ci_sgemm_path path)
{
	if (path == CI_SGEMM_AVX2 && !cpu_has_avx2())
		return -1;
	if (path != CI_SGEMM_AUTO && path != CI_SGEMM_PORTABLE && path != CI_SGEMM_AVX2)
		return -1;
	atomic_store_explicit(&forced, (int)path, memory_order_relaxed);
	return 0;
}

enum ci_sgemm_path
ci_sgemm_path_get(void)
{
	int p = atomic_load_explicit(&forced, memory_order_relaxed);

	if (p != CI_SGEMM_AUTO)
		return (enum ci_sgemm_path)p;
	return cpu_has_avx2() ? CI_SGEMM_AVX2 : CI_SGEMM_PORTABLE;
}

int
ci_use_avx2(void)
{
	return ci_sgemm_path_get() == CI_SGEMM_AVX2;
}

void
ci_sgemm(int ta, int tb, size_t m, size_t n, size_t k, float alpha, const float *a,
    size_t lda, const float *b, size_t ldb, float beta, float *c, size_t ldc)
{
	if (ci_sgemm_path_get() == CI_SGEMM_AVX2)
		ci_sgemm_avx2(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
	else
		ci_sgemm_portable(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

/* ---- packed operands, the fused epilogue, threads ---------------------------
 * The packed layout (sgemm.h) is the AVX2 micro-kernel's panels over the
 * whole depth; the portable path reads it too, so a model packed at load
 * runs on either path. */
#define MR CI_SGEMM_MR
#define NR CI_SGEMM_NR

/* Multiply-adds below which one more thread does not pay for its wake-up
 * (~10 us of one core's FMA throughput). */
#define MIN_WORK_PER_THREAD ((size_t)1 << 19)

struct ci_sgemm_packed *
ci_sgemm_pack(enum ci_sgemm_role role, int trans, size_t rows, size_t cols, const float *x,
    size_t ld)
{
	struct ci_sgemm_packed *p;
	size_t r = trans ? cols : rows, c = trans ? rows : cols;	/* op(X) is r x c */
	size_t w = role == CI_SGEMM_B ? NR : MR;
	size_t panels = role == CI_SGEMM_B ? (c + NR - 1) / NR : (r + MR - 1) / MR;
	size_t depth = role == CI_SGEMM_B ? r : c;

	if (depth != 0 && panels > SIZE_MAX / sizeof(float) / w / depth)
		return NULL;
	p = ci_calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->role = role;
	p->rows = r;
	p->cols = c;
	p->panels = panels;
	p->data = ci_calloc(panels * w * depth + 1, sizeof(float));
	if (p->data == NULL) {
		ci_free(p);
		return NULL;
	}
	/* element (i, j) of op(X) */
#define OPX(i, j) (trans ? x[(j) * ld + (i)] : x[(i) * ld + (j)])
	if (role == CI_SGEMM_B) {
		for (size_t jp = 0; jp < panels; jp++) {
			float *dst = p->data + jp * NR * r;
			size_t nr = c - jp * NR < NR ? c - jp * NR : NR;
			for (size_t q = 0; q < nr; q++)
				for (size_t k = 0; k < r; k++)
					dst[k * NR + q] = OPX(k, jp * NR + q);
		}
	} else {
		for (size_t ip = 0; ip < panels; ip++) {
			float *dst = p->data + ip * MR * c;
			size_t mr = r - ip * MR < MR ? r - ip * MR : MR;
			for (size_t q = 0; q < mr; q++)
				for (size_t k = 0; k < c; k++)
					dst[k * MR + q] = OPX(ip * MR + q, k);
		}
	}
#undef OPX
	return p;
}

void
ci_sgemm_packed_free(struct ci_sgemm_packed *p)
{
	if (p == NULL)
		return;
	ci_free(p->data);
	ci_free(p);
}

size_t
ci_sgemm_packed_size(const struct ci_sgemm_packed *p)
{
	if (p == NULL)
		return 0;
	return (p->panels * (p->role == CI_SGEMM_B ? NR * p->rows : MR * p->cols) + 1) *
	    sizeof(float) + sizeof(*p);
}

float
ci_gemm_act(const struct ci_gemm_epi *ep, float v)
{
	switch (ep->act) {
	case CI_ACT_NONE: return v;
	case CI_ACT_RELU: return v > 0.0f ? v : 0.0f;
	case CI_ACT_CLIP: return v < ep->a ? ep->a : v > ep->b ? ep->b : v;
	case CI_ACT_LEAKY: return v >= 0.0f ? v : v * ep->a;
	case CI_ACT_SIGMOID: return 1.0f / (1.0f + expf(-v));
	case CI_ACT_HARDSIGMOID: {
		float h = ep->a * v + ep->b;
		return h < 0.0f ? 0.0f : h > 1.0f ? 1.0f : h;
	}
	case CI_ACT_HARDSWISH: {
		float h = v / 6.0f + 0.5f;
		return v * (h < 0.0f ? 0.0f : h > 1.0f ? 1.0f : h);
	}
	case CI_ACT_GELU: return 0.5f * v * (1.0f + erff(v * 0.70710678118654752f));
	}
	return v;
}

void
ci_gemm_epi_apply(const struct ci_gemm_epi *ep, size_t i0, size_t m, size_t j0, size_t n,
    float *c, size_t ldc)
{
	if (ep == NULL || (ep->bias == NULL && ep->act == CI_ACT_NONE))
		return;
	for (size_t i = 0; i < m; i++) {
		float *row = c + i * ldc;
		for (size_t j = 0; j < n; j++) {
			float v = row[j];
			if (ep->bias)
				v += ep->bias_per_row ? ep->bias[i0 + i] : ep->bias[j0 + j];
			row[j] = ci_gemm_act(ep, v);
		}
	}
}

static inline float
op_a(const struct ci_gemm_job *g, size_t i, size_t p)
{
	if (g->pa)
		return g->pa->data[i / MR * MR * g->k + p * MR + i % MR];
	return g->ta ? g->a[p * g->lda + i] : g->a[i * g->lda + p];
}

void
ci_sgemm_portable_block(const struct ci_gemm_job *g, size_t i0, size_t i1, size_t j0,
    size_t j1)
{
	size_t m = i1 - i0, n = j1 - j0, k = g->k;
	float *c = g->c + i0 * g->ldc + j0;

	if (m == 0 || n == 0)
		return;
	if (g->pa == NULL && g->pb == NULL) {
		const float *a = g->ta ? g->a + i0 : g->a + i0 * g->lda;
		const float *b = g->tb ? g->b + j0 * g->ldb : g->b + j0;
		ci_sgemm_portable(g->ta, g->tb, m, n, k, g->alpha, a, g->lda, b, g->ldb, g->beta,
		    c, g->ldc);
		ci_gemm_epi_apply(g->epi, i0, m, j0, n, c, g->ldc);
		return;
	}
	for (size_t i = i0; i < i1; i++) {
		float *ci = g->c + i * g->ldc;
		for (size_t j = j0; j < j1; j++) {
			float acc = 0.0f;

			if (k != 0 && g->alpha != 0.0f) {
				if (g->pb) {
					const float *bp = g->pb->data + j / NR * NR * k + j % NR;
					for (size_t p = 0; p < k; p++)
						acc += op_a(g, i, p) * bp[p * NR];
				} else {
					for (size_t p = 0; p < k; p++)
						acc += op_a(g, i, p) *
						    (g->tb ? g->b[j * g->ldb + p] : g->b[p * g->ldb + j]);
				}
			}
			ci[j] = g->beta == 0.0f ? g->alpha * acc : g->alpha * acc + g->beta * ci[j];
		}
	}
	ci_gemm_epi_apply(g->epi, i0, m, j0, n, c, g->ldc);
}

struct ex_split {
	const struct ci_gemm_job *g;
	int by_rows;		/* units are MR rows, else NR columns */
	int avx2;
};

static void
ex_part(void *arg, size_t lo, size_t hi)
{
	const struct ex_split *s = arg;
	const struct ci_gemm_job *g = s->g;
	size_t i0 = 0, i1 = g->m, j0 = 0, j1 = g->n;

	if (s->by_rows) {
		i0 = lo * MR;
		i1 = hi * MR < g->m ? hi * MR : g->m;
	} else {
		j0 = lo * NR;
		j1 = hi * NR < g->n ? hi * NR : g->n;
	}
	if (s->avx2)
		ci_sgemm_avx2_block(g, i0, i1, j0, j1);
	else
		ci_sgemm_portable_block(g, i0, i1, j0, j1);
}

/* ci_sgemm_ex on k's threads, or pool's when k is NULL. */
static void
sgemm_ex(struct ci_kctx *k, struct ci_pool *pool, const struct ci_gemm_job *g)
{
	struct ex_split s = { .g = g, .avx2 = ci_use_avx2() };
	size_t threads = 1, units, nthr, work;
	size_t tiles_m = (g->m + MR - 1) / MR, tiles_n = (g->n + NR - 1) / NR;

	if (g->m == 0 || g->n == 0)
		return;
	if (k != NULL && k->threads > 1)
		threads = (size_t)k->threads;
	else if (k == NULL && pool != NULL)
		threads = (size_t)ci_pool_threads(pool);
	/*
	 * Few rows (batch-1 layers) are bound by reading B: ~20 us for a
	 * 784 x 512 GEMV here, where a second thread saves little and, on a
	 * busy machine, often lands on the caller's core; they count one unit
	 * per weight, so they split only from 2^20 weights (4 MB) up.
	 */
	work = (g->m < MR ? 1 : g->m) * g->n;
	work = g->k != 0 && work > SIZE_MAX / g->k ? SIZE_MAX : work * (g->k ? g->k : 1);
	nthr = work / MIN_WORK_PER_THREAD;
	if (nthr > threads)
		nthr = threads;
	/* columns when there are enough (B is packed or read once per thread) */
	s.by_rows = tiles_n < 2 * nthr && tiles_m > tiles_n;
	units = s.by_rows ? tiles_m : tiles_n;
	if (units < nthr)
		nthr = units;
	if (nthr < 2)
		ex_part(&s, 0, units);
	else if (k != NULL)
		ci_parallel(k, units, units / nthr, ex_part, &s);
	else
		ci_pool_run(pool, units, units / nthr, ex_part, &s);
}

#define JOB struct ci_gemm_job g = { .ta = ta, .tb = tb, .m = m, .n = n, .k = kk, \
	.alpha = alpha, .beta = beta, .a = a, .lda = lda, .pa = pa, .b = b, .ldb = ldb, .pb = pb, \
	.c = c, .ldc = ldc, \
	.epi = epi && (epi->bias != NULL || epi->act != CI_ACT_NONE) ? epi : NULL }

void
ci_sgemm_ex(struct ci_kctx *k, int ta, int tb, size_t m, size_t n, size_t kk, float alpha,
    const float *a, size_t lda, const struct ci_sgemm_packed *pa, const float *b, size_t ldb,
    const struct ci_sgemm_packed *pb, float beta, float *c, size_t ldc,
    const struct ci_gemm_epi *epi)
{
	JOB;

	sgemm_ex(k, NULL, &g);
}

void
ci_sgemm_ex_pool(struct ci_pool *pool, int ta, int tb, size_t m, size_t n, size_t kk,
    float alpha, const float *a, size_t lda, const struct ci_sgemm_packed *pa,
    const float *b, size_t ldb, const struct ci_sgemm_packed *pb, float beta, float *c,
    size_t ldc, const struct ci_gemm_epi *epi)
{
	JOB;

	sgemm_ex(NULL, pool, &g);
}
