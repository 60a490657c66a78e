/*
 * Internal SGEMM paths (sgemm.c dispatches between them). ci_sgemm itself
 * is declared in rt.h.
 */
#ifndef CI_RUNTIME_SGEMM_H
#define CI_RUNTIME_SGEMM_H

#include <stddef.h>

#include "runtime/rt.h"

/* Which implementation ci_sgemm uses. */
enum ci_sgemm_path {
	CI_SGEMM_AUTO = 0,	/* best one this CPU supports (the default) */
	CI_SGEMM_PORTABLE,	/* plain C, any CPU */
	CI_SGEMM_AVX2,		/* packed AVX2+FMA micro-kernel */
};

/*
 * Forces a path (tests and benchmarks); CI_SGEMM_AUTO restores the run-time
 * choice. Returns 0, or -1 if the CPU cannot run that path (nothing changes).
 */
int ci_sgemm_path_set(enum ci_sgemm_path path);
/* The path ci_sgemm takes now (never CI_SGEMM_AUTO). */
enum ci_sgemm_path ci_sgemm_path_get(void);

/*
 * A constant GEMM operand packed once (at load, from an op's prepare hook)
 * in the layout the current path wants. role: which operand it is; op(X)
 * is X (rows x cols, leading dimension ld) or its transpose when trans.
 * For CI_SGEMM_A op(X) is m x k, for CI_SGEMM_B it is k x n.
 * NULL when out of memory.
 */
enum ci_sgemm_role { CI_SGEMM_A = 0, CI_SGEMM_B = 1 };
struct ci_sgemm_packed;
struct ci_sgemm_packed *ci_sgemm_pack(enum ci_sgemm_role role, int trans, size_t rows,
    size_t cols, const float *x, size_t ld);
void ci_sgemm_packed_free(struct ci_sgemm_packed *p);
/* Bytes it holds (for RSS accounting in docs and tests). */
size_t ci_sgemm_packed_size(const struct ci_sgemm_packed *p);

/* Applied to each element of C after the product (fused, while C is hot). */
enum ci_act { CI_ACT_NONE = 0, CI_ACT_RELU, CI_ACT_CLIP, CI_ACT_LEAKY, CI_ACT_SIGMOID,
	CI_ACT_HARDSIGMOID, CI_ACT_HARDSWISH, CI_ACT_GELU };
struct ci_gemm_epi {
	const float *bias;	/* NULL: none */
	int bias_per_row;	/* 1: bias[i] for row i (conv), 0: bias[j] for column j */
	enum ci_act act;
	float a, b;		/* CLIP: min, max; LEAKY: alpha; HARDSIGMOID: alpha, beta */
};
/* The epilogue on its own, over an m x n block of C (the reference). */
void ci_gemm_epi_apply(const struct ci_gemm_epi *ep, size_t i0, size_t m, size_t j0, size_t n,
    float *c, size_t ldc);

/*
 * C = epi(alpha * op(A) op(B) + beta * C), split over k's threads (k NULL:
 * the caller's thread only). pa / pb, when not NULL, replace a / b (then
 * ta / tb and lda / ldb are ignored: the packing fixed them). epi NULL: none.
 * It splits over threads (ci_parallel) only when each gets at least 2^19
 * multiply-adds (rows < 6: 2^19 weights); called from inside a
 * ci_parallel callback it runs on that thread only (the pool does not nest).
 */
void ci_sgemm_ex(struct ci_kctx *k, int ta, int tb, size_t m, size_t n, size_t kk,
    float alpha, const float *a, size_t lda, const struct ci_sgemm_packed *pa,
    const float *b, size_t ldb, const struct ci_sgemm_packed *pb, float beta,
    float *c, size_t ldc, const struct ci_gemm_epi *epi);

/*
 * ---- internals shared by sgemm.c and sgemm_avx2.c ----
 *
 * A packed operand keeps op(X) in the micro-kernel's panel layout over the
 * whole depth k, so any KC x NC (MC x KC) block of it is a set of panel
 * slices and a run never repacks it:
 *   B (k x n): ceil(n / NR) panels of NR columns; element (p, j) at
 *     data[(j / NR) * NR * k + p * NR + j % NR];
 *   A (m x k): ceil(m / MR) panels of MR rows; element (i, p) at
 *     data[(i / MR) * MR * k + p * MR + i % MR];
 * zero-padded past the last column (row). Both paths read this layout.
 */
#define CI_SGEMM_MR 6
#define CI_SGEMM_NR 16
struct ci_sgemm_packed {
	enum ci_sgemm_role role;
	size_t rows, cols;	/* of op(X) */
	size_t panels;		/* B: ceil(cols / NR), A: ceil(rows / MR) */
	float *data;
};

/* One GEMM call, as ci_sgemm_ex got it (a / b unused when pa / pb are set). */
struct ci_gemm_job {
	int ta, tb;
	size_t m, n, k;
	float alpha, beta;
	const float *a;
	size_t lda;
	const struct ci_sgemm_packed *pa;
	const float *b;
	size_t ldb;
	const struct ci_sgemm_packed *pb;
	float *c;
	size_t ldc;
	const struct ci_gemm_epi *epi;	/* NULL or one that does something */
};
/*
 * Computes C[i0:i1, j0:j1] of the job completely (all of k, beta, the
 * epilogue). i0 is a multiple of CI_SGEMM_MR and j0 of CI_SGEMM_NR unless
 * it is the whole range. Blocks of one job may run concurrently.
 */
void ci_sgemm_avx2_block(const struct ci_gemm_job *g, size_t i0, size_t i1, size_t j0,
    size_t j1);
void ci_sgemm_portable_block(const struct ci_gemm_job *g, size_t i0, size_t i1, size_t j0,
    size_t j1);
/* The activation of ep on one value (the scalar reference). */
float ci_gemm_act(const struct ci_gemm_epi *ep, float v);

/* ci_sgemm_ex on pool's threads rather than a model's (benchmarks, tests);
 * pool NULL: the caller's thread only. */
struct ci_pool;
void ci_sgemm_ex_pool(struct ci_pool *pool, int ta, int tb, size_t m, size_t n, size_t kk,
    float alpha, const float *a, size_t lda, const struct ci_sgemm_packed *pa,
    const float *b, size_t ldb, const struct ci_sgemm_packed *pb, float beta,
    float *c, size_t ldc, const struct ci_gemm_epi *epi);

/* The paths themselves, same contract as ci_sgemm. */
void ci_sgemm_portable(int ta, int tb, size_t m, size_t n, size_t k, float alpha,
    const float *a, size_t lda, const float *b, size_t ldb, float beta,
    float *c, size_t ldc);
/* Only call when the CPU has AVX2 and FMA (sgemm_avx2.c is built with -mavx2 -mfma). */
void ci_sgemm_avx2(int ta, int tb, size_t m, size_t n, size_t k, float alpha,
    const float *a, size_t lda, const float *b, size_t ldb, float beta,
    float *c, size_t ldc);

#endif
