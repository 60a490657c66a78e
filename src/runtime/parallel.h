/*
 * The runtime's persistent thread pool (one per loaded model, made by
 * cinfer_model_set_threads). Kernels use it through ci_parallel (rt.h).
 */
#ifndef CI_RUNTIME_PARALLEL_H
#define CI_RUNTIME_PARALLEL_H

#include <stddef.h>

#include "runtime/rt.h"

#define CI_POOL_MAX 64		/* threads of one pool, the caller included */

struct ci_pool;
/* threads counts the caller, which works too: threads - 1 workers start.
 * NULL when they cannot start. */
struct ci_pool *ci_pool_new(int threads);
void ci_pool_free(struct ci_pool *p);
/* Splits [0, n) into chunks of at least grain items and runs them on the
 * pool and the caller; returns when every chunk is done. One run at a time. */
void ci_pool_run(struct ci_pool *p, size_t n, size_t grain, ci_par_fn fn, void *arg);
int ci_pool_threads(const struct ci_pool *p);

#endif
