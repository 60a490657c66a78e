/*
 * Thread pool for data-parallel kernels. The caller of ci_pool_run works
 * as one of the threads; workers sleep on a condition variable between
 * runs. A run hands out chunk indices with an atomic counter, so a slow
 * (descheduled) thread does not hold up the others' chunks.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "runtime/parallel.h"

struct ci_pool {
	int threads;
	pthread_t tid[CI_POOL_MAX];
	int started;
	pthread_mutex_t mu;
	pthread_cond_t go, done;
	unsigned long gen;		/* run number, under mu */
	int quit;
	int busy;			/* workers still in the current run */
	/* the current run */
	ci_par_fn fn;
	void *arg;
	size_t n, chunk, n_chunks;
	atomic_size_t next;
};

static void
work(struct ci_pool *p)
{
	size_t c;

	while ((c = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed)) < p->n_chunks) {
		size_t lo = c * p->chunk, hi = lo + p->chunk;
		p->fn(p->arg, lo, hi < p->n ? hi : p->n);
	}
}

static void *
worker(void *arg)
{
	struct ci_pool *p = arg;
	unsigned long seen = 0;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->quit && p->gen == seen)
			pthread_cond_wait(&p->go, &p->mu);
		if (p->quit)
			break;
		seen = p->gen;
		pthread_mutex_unlock(&p->mu);
		work(p);
		pthread_mutex_lock(&p->mu);
		if (--p->busy == 0)
			pthread_cond_signal(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct ci_pool *
ci_pool_new(int threads)
{
	struct ci_pool *p;

	if (threads < 2 || threads > CI_POOL_MAX)
		return NULL;
	p = ci_calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->threads = threads;
	if (pthread_mutex_init(&p->mu, NULL) != 0) {
		ci_free(p);
		return NULL;
	}
	pthread_cond_init(&p->go, NULL);
	pthread_cond_init(&p->done, NULL);
	for (int i = 0; i < threads - 1; i++) {
		if (pthread_create(&p->tid[i], NULL, worker, p) != 0) {
			ci_pool_free(p);
			return NULL;
		}
		p->started++;
	}
	return p;
}

void
ci_pool_free(struct ci_pool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->quit = 1;
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->started; i++)
		pthread_join(p->tid[i], NULL);
	pthread_cond_destroy(&p->go);
	pthread_cond_destroy(&p->done);
	pthread_mutex_destroy(&p->mu);
	ci_free(p);
}

int
ci_pool_threads(const struct ci_pool *p)
{
	return p ? p->threads : 1;
}

void
ci_pool_run(struct ci_pool *p, size_t n, size_t grain, ci_par_fn fn, void *arg)
{
	size_t chunks, chunk;

	if (grain == 0)
		grain = 1;
	chunks = n / grain;
	if (chunks > (size_t)p->threads)
		chunks = (size_t)p->threads;
	if (chunks < 2) {
		fn(arg, 0, n);
		return;
	}
	chunk = (n + chunks - 1) / chunks;
	pthread_mutex_lock(&p->mu);
	p->fn = fn;
	p->arg = arg;
	p->n = n;
	p->chunk = chunk;
	p->n_chunks = (n + chunk - 1) / chunk;
	atomic_store_explicit(&p->next, 0, memory_order_relaxed);
	p->busy = p->started;
	p->gen++;
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
	work(p);
	pthread_mutex_lock(&p->mu);
	while (p->busy > 0)
		pthread_cond_wait(&p->done, &p->mu);
	pthread_mutex_unlock(&p->mu);
}
