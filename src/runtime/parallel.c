/*
 * Thread pool for data-parallel kernels. The caller of ci_pool_run works as
 * one of the threads. Between runs workers spin on the run counter for a
 * short while (CI_POOL_SPIN_NS, with pause), so the back-to-back kernels of
 * one inference do not pay a futex wake-up each, then block on a condition
 * variable, so an idle model costs no CPU.
 *
 * A run is published as one 64-bit ticket: the run number in the high half,
 * the next chunk index in the low half. Every thread (the caller too) claims
 * chunks by compare-and-swap on the ticket, so a claim succeeds only for the
 * run whose parameters it read: a worker that wakes late, after its run is
 * over, finds the ticket moved on and claims nothing. The caller waits for
 * the chunks to be done (not for every worker to show up), so a descheduled
 * worker on a busy machine holds up nothing it has not claimed.
 *
 * On a busy machine the scheduler tends to leave a woken worker on the
 * caller's CPU (the other CPUs look no less loaded), where the two only
 * take turns. A worker that finds itself on the caller's CPU at the start
 * of a run therefore moves itself off it (its affinity becomes the
 * process's CPUs minus that one; it is widened again the same way if the
 * caller moves), so the two can run at the same time.
 */
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#else
#define cpu_relax() ((void)0)
#endif

#include "runtime/parallel.h"

/* How long an idle worker spins before it blocks, and the caller before it
 * yields its core while waiting for claimed chunks. */
#define CI_POOL_SPIN_NS 50000
#define WAIT_SPIN_NS 200000

struct ci_pool {
	int threads;
	int started;
	pthread_t tid[CI_POOL_MAX];
	pthread_mutex_t mu;
	pthread_cond_t go;
	atomic_int quit;
	atomic_int sleepers;		/* workers blocked (or about to block) on go */
	_Atomic uint64_t ticket;	/* run << 32 | next chunk */
	/* the current run's parameters, written before its ticket */
	_Atomic(ci_par_fn) fn;
	_Atomic(void *) arg;
	atomic_size_t n, chunk, n_chunks;
	atomic_size_t done;		/* chunks finished in the current run */
	atomic_int caller_cpu;		/* where the caller published the run, -1 unknown */
	cpu_set_t allowed;		/* the CPUs the process may use, at creation */
	int n_allowed;
	uint32_t run;			/* caller only */
};

/* Set while this thread runs chunks of a run: a nested ci_pool_run (a
 * kernel calling ci_parallel from its callback) then runs inline. */
static _Thread_local int in_run;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Claims and runs chunks of run `run` until none is left. */
static void
work(struct ci_pool *p, uint32_t run)
{
	uint64_t t = atomic_load_explicit(&p->ticket, memory_order_acquire);

	for (;;) {
		ci_par_fn fn;
		void *arg;
		size_t n, chunk, n_chunks, c, lo, hi;

		if ((uint32_t)(t >> 32) != run)
			return;
		/* read the parameters, then claim: the claim only succeeds if the
		 * ticket (hence the run they belong to) has not moved */
		fn = atomic_load_explicit(&p->fn, memory_order_relaxed);
		arg = atomic_load_explicit(&p->arg, memory_order_relaxed);
		n = atomic_load_explicit(&p->n, memory_order_relaxed);
		chunk = atomic_load_explicit(&p->chunk, memory_order_relaxed);
		n_chunks = atomic_load_explicit(&p->n_chunks, memory_order_relaxed);
		c = (size_t)(t & 0xffffffffu);
		if (c >= n_chunks)
			return;
		if (!atomic_compare_exchange_weak_explicit(&p->ticket, &t, t + 1,
		    memory_order_acq_rel, memory_order_acquire))
			continue;
		lo = c * chunk;
		hi = lo + chunk < n ? lo + chunk : n;
		in_run = 1;
		fn(arg, lo, hi);
		in_run = 0;
		atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
		t = atomic_load_explicit(&p->ticket, memory_order_acquire);
	}
}

/* Waits for a run other than seen (or quit); returns its number. */
static uint32_t
wait_run(struct ci_pool *p, uint32_t seen)
{
	uint64_t start = now_ns();
	uint32_t r;

	for (unsigned i = 0;; i++) {
		r = (uint32_t)(atomic_load_explicit(&p->ticket, memory_order_acquire) >> 32);
		if (r != seen || atomic_load_explicit(&p->quit, memory_order_relaxed))
			return r;
		cpu_relax();
		if ((i & 63) == 63 && now_ns() - start > CI_POOL_SPIN_NS)
			break;
	}
	pthread_mutex_lock(&p->mu);
	atomic_fetch_add(&p->sleepers, 1);	/* seq_cst: pairs with ci_pool_run */
	for (;;) {
		r = (uint32_t)(atomic_load(&p->ticket) >> 32);
		if (r != seen || atomic_load(&p->quit))
			break;
		pthread_cond_wait(&p->go, &p->mu);
	}
	atomic_fetch_sub(&p->sleepers, 1);
	pthread_mutex_unlock(&p->mu);
	return r;
}

/* Moves the calling worker off the caller's CPU if it is on it. */
static void
leave_caller_cpu(struct ci_pool *p, int *avoided)
{
	int caller = atomic_load_explicit(&p->caller_cpu, memory_order_relaxed);
	cpu_set_t set;

	if (caller < 0 || caller == *avoided || p->n_allowed < 2 || sched_getcpu() != caller ||
	    !CPU_ISSET(caller, &p->allowed))
		return;
	memcpy(&set, &p->allowed, sizeof(set));
	CPU_CLR(caller, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0)
		*avoided = caller;
}

static void *
worker(void *arg)
{
	struct ci_pool *p = arg;
	uint32_t seen = 0;
	int avoided = -1;

	for (;;) {
		seen = wait_run(p, seen);
		if (atomic_load(&p->quit))
			break;
		leave_caller_cpu(p, &avoided);
		work(p, seen);
	}
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
	atomic_store(&p->caller_cpu, -1);
	if (sched_getaffinity(0, sizeof(p->allowed), &p->allowed) == 0)
		p->n_allowed = CPU_COUNT(&p->allowed);
	if (pthread_mutex_init(&p->mu, NULL) != 0) {
		ci_free(p);
		return NULL;
	}
	if (pthread_cond_init(&p->go, NULL) != 0) {
		pthread_mutex_destroy(&p->mu);
		ci_free(p);
		return NULL;
	}
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
	atomic_store(&p->quit, 1);
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->started; i++)
		pthread_join(p->tid[i], NULL);
	pthread_cond_destroy(&p->go);
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
	size_t chunks, chunk, n_chunks;
	uint64_t start;

	if (grain == 0)
		grain = 1;
	chunks = n / grain;
	if (chunks > (size_t)p->threads)
		chunks = (size_t)p->threads;
	if (chunks < 2 || p->started == 0 || in_run) {
		fn(arg, 0, n);
		return;
	}
	chunk = (n + chunks - 1) / chunks;
	n_chunks = (n + chunk - 1) / chunk;
	/* no claim of the previous run can succeed any more: its chunks are
	 * all done, so these stores are not seen by a run in progress */
	atomic_store_explicit(&p->fn, fn, memory_order_relaxed);
	atomic_store_explicit(&p->arg, arg, memory_order_relaxed);
	atomic_store_explicit(&p->n, n, memory_order_relaxed);
	atomic_store_explicit(&p->chunk, chunk, memory_order_relaxed);
	atomic_store_explicit(&p->n_chunks, n_chunks, memory_order_relaxed);
	atomic_store_explicit(&p->done, 0, memory_order_relaxed);
	atomic_store_explicit(&p->caller_cpu, sched_getcpu(), memory_order_relaxed);
	p->run++;
	atomic_store(&p->ticket, (uint64_t)p->run << 32);	/* seq_cst: publishes */
	if (atomic_load(&p->sleepers) > 0) {
		pthread_mutex_lock(&p->mu);
		pthread_cond_broadcast(&p->go);
		pthread_mutex_unlock(&p->mu);
	}
	work(p, p->run);
	start = now_ns();
	for (unsigned i = 0; atomic_load_explicit(&p->done, memory_order_acquire) < n_chunks; i++) {
		if (i >= 64 && now_ns() - start > WAIT_SPIN_NS)
			sched_yield();	/* a claimed chunk's thread was descheduled */
		else
			cpu_relax();
	}
}
