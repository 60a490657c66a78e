/*
 * Internal SGEMM paths (sgemm.c dispatches between them). ci_sgemm itself
 * is declared in rt.h.
 */
#ifndef CI_RUNTIME_SGEMM_H
#define CI_RUNTIME_SGEMM_H

#include <stddef.h>

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

/* The paths themselves, same contract as ci_sgemm. */
void ci_sgemm_portable(int ta, int tb, size_t m, size_t n, size_t k, float alpha,
    const float *a, size_t lda, const float *b, size_t ldb, float beta,
    float *c, size_t ldc);
/* Only call when the CPU has AVX2 and FMA (sgemm_avx2.c is built with -mavx2 -mfma). */
void ci_sgemm_avx2(int ta, int tb, size_t m, size_t n, size_t k, float alpha,
    const float *a, size_t lda, const float *b, size_t ldb, float beta,
    float *c, size_t ldc);

#endif
