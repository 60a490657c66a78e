/*
 * The thread pool (parallel.c): over many runs with odd n and grain, on
 * pools of 2..5 threads, every index is covered exactly once and every
 * chunk but the last has at least grain items; runs right after one
 * another (workers spinning) and after a pause (workers asleep on the
 * condition variable); pools freed while busy-idle, asleep, and right after
 * starting; the inline paths (one chunk, no pool, ci_parallel on a context
 * without a model) run on the caller's thread in one call; a run started
 * from inside a chunk (nested) runs inline and covers its range.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "testutil.h"

#include "runtime/parallel.h"
#include "runtime/rt.h"

#define NMAX 1000

struct cover {
	atomic_int hits[NMAX];
	atomic_int calls;
	atomic_int short_chunks;	/* chunks under grain that do not end at n */
	size_t n, grain;
	pthread_t caller;
	atomic_int off_caller;		/* calls made on another thread */
};

static void
cover_fn(void *arg, size_t lo, size_t hi)
{
	struct cover *c = arg;

	atomic_fetch_add(&c->calls, 1);
	if (!pthread_equal(pthread_self(), c->caller))
		atomic_fetch_add(&c->off_caller, 1);
	if (hi - lo < c->grain && hi != c->n)
		atomic_fetch_add(&c->short_chunks, 1);
	for (size_t i = lo; i < hi; i++)
		atomic_fetch_add(&c->hits[i], 1);
}

static void
pause_us(long us)
{
	struct timespec ts = { 0, us * 1000 };

	nanosleep(&ts, NULL);
}

static void
check_run(struct ci_pool *p, size_t n, size_t grain, struct cover *c)
{
	memset(c, 0, sizeof(*c));
	c->n = n;
	c->grain = grain;
	c->caller = pthread_self();
	ci_pool_run(p, n, grain, cover_fn, c);
	for (size_t i = 0; i < n; i++)
		if (atomic_load(&c->hits[i]) != 1)
			fail_msg("n %zu grain %zu: index %zu covered %d times", n, grain, i,
			    atomic_load(&c->hits[i]));
	assert_int_equal(atomic_load(&c->short_chunks), 0);
	if (n > 0)
		assert_true(atomic_load(&c->calls) >= 1);
}

static void
test_cover(void **state)
{
	static struct cover c;
	static const size_t grains[] = { 0, 1, 2, 3, 7, 13, 64, 999 };

	(void)state;
	for (int threads = 2; threads <= 5; threads++) {
		struct ci_pool *p = ci_pool_new(threads);
		assert_non_null(p);
		assert_int_equal(ci_pool_threads(p), threads);
		for (int r = 0; r < 600; r++) {
			size_t n = (size_t)(r * 37 % NMAX), grain = grains[r % 8];
			check_run(p, n, grain, &c);
			if (r % 97 == 0)
				pause_us(200 + 100 * threads);	/* workers go to sleep */
		}
		ci_pool_free(p);
	}
	assert_int_equal(ci_alloc_live(), 0);
}

/* One chunk's worth (n <= 2 grain - 1): a single call on the caller's thread. */
static void
test_inline(void **state)
{
	static struct cover c;
	struct ci_pool *p = ci_pool_new(2);
	struct ci_kctx k = { 0 };

	(void)state;
	assert_null(ci_pool_new(1));
	assert_null(ci_pool_new(0));
	assert_null(ci_pool_new(CI_POOL_MAX + 1));
	assert_int_equal(ci_pool_threads(NULL), 1);
	assert_non_null(p);
	check_run(p, 5, 3, &c);
	assert_int_equal(atomic_load(&c.calls), 1);
	assert_int_equal(atomic_load(&c.off_caller), 0);
	check_run(p, 1, 1, &c);
	assert_int_equal(atomic_load(&c.calls), 1);
	ci_pool_free(p);
	/* a context without a model (or with one thread): inline, one call */
	memset(&c, 0, sizeof(c));
	c.n = 100;
	c.grain = 1;
	c.caller = pthread_self();
	k.threads = 4;
	ci_parallel(&k, 100, 1, cover_fn, &c);
	assert_int_equal(atomic_load(&c.calls), 1);
	assert_int_equal(atomic_load(&c.off_caller), 0);
	for (size_t i = 0; i < 100; i++)
		assert_int_equal(atomic_load(&c.hits[i]), 1);
	assert_int_equal(ci_alloc_live(), 0);
}

static struct ci_pool *nest_pool;
static atomic_int nest_hits[64 * 64];

static void
nest_inner(void *arg, size_t lo, size_t hi)
{
	size_t row = *(size_t *)arg;

	for (size_t i = lo; i < hi; i++)
		atomic_fetch_add(&nest_hits[row * 64 + i], 1);
}

static void
nest_outer(void *arg, size_t lo, size_t hi)
{
	(void)arg;
	for (size_t r = lo; r < hi; r++)
		ci_pool_run(nest_pool, 64, 1, nest_inner, &r);
}

static void
test_nested(void **state)
{
	(void)state;
	nest_pool = ci_pool_new(3);
	assert_non_null(nest_pool);
	for (int rep = 0; rep < 50; rep++) {
		memset(nest_hits, 0, sizeof(nest_hits));
		ci_pool_run(nest_pool, 64, 1, nest_outer, NULL);
		for (size_t i = 0; i < 64 * 64; i++)
			assert_int_equal(atomic_load(&nest_hits[i]), 1);
	}
	ci_pool_free(nest_pool);
	assert_int_equal(ci_alloc_live(), 0);
}

/* Freed right after starting, while spinning, and while asleep. */
static void
test_free_idle(void **state)
{
	static struct cover c;

	(void)state;
	for (int i = 0; i < 20; i++) {
		struct ci_pool *p = ci_pool_new(2 + i % 3);
		assert_non_null(p);
		if (i % 2)
			check_run(p, 50, 1, &c);
		if (i % 4 == 3)
			pause_us(2000);
		ci_pool_free(p);
	}
	ci_pool_free(NULL);
	assert_int_equal(ci_alloc_live(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cover),
		cmocka_unit_test(test_inline),
		cmocka_unit_test(test_free_idle),
		cmocka_unit_test(test_nested),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
