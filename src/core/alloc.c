#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/ci.h"

/*
 * Each block carries a small header with its size so that live
 * allocations can be counted; tests use the counter to prove that no
 * path leaks, and the fail-after knob to prove every path handles NULL.
 */
struct hdr {
	size_t size;
	size_t pad;	/* keep 16-byte alignment */
};

static atomic_size_t live;
static atomic_size_t fail_after = SIZE_MAX;

void
ci_alloc_fail_after(size_t n)
{
	atomic_store(&fail_after, n);
}

size_t
ci_alloc_live(void)
{
	return atomic_load(&live);
}

static int
should_fail(void)
{
	size_t n = atomic_load(&fail_after);

	if (n == SIZE_MAX)
		return 0;
	if (n == 0)
		return 1;
	atomic_store(&fail_after, n - 1);
	return 0;
}

void *
ci_alloc(size_t size)
{
	struct hdr *h;

	if (should_fail() || size > SIZE_MAX - sizeof(*h))
		return NULL;
	h = malloc(sizeof(*h) + size);
	if (h == NULL)
		return NULL;
	h->size = size;
	atomic_fetch_add(&live, 1);
	return h + 1;
}

void *
ci_calloc(size_t count, size_t size)
{
	void *p;

	if (size != 0 && count > SIZE_MAX / size)
		return NULL;
	p = ci_alloc(count * size);
	if (p != NULL)
		memset(p, 0, count * size);
	return p;
}

void *
ci_realloc(void *p, size_t size)
{
	struct hdr *h, *n;

	if (p == NULL)
		return ci_alloc(size);
	if (should_fail() || size > SIZE_MAX - sizeof(*h))
		return NULL;
	h = (struct hdr *)p - 1;
	n = realloc(h, sizeof(*n) + size);
	if (n == NULL)
		return NULL;
	n->size = size;
	return n + 1;
}

void
ci_free(void *p)
{
	if (p == NULL)
		return;
	atomic_fetch_sub(&live, 1);
	free((struct hdr *)p - 1);
}

void *
ci_memdup(const void *p, size_t size)
{
	void *q = ci_alloc(size ? size : 1);

	if (q != NULL && size != 0)
		memcpy(q, p, size);
	return q;
}

char *
ci_strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *q = ci_alloc(len + 1);

	if (q == NULL)
		return NULL;
	memcpy(q, s, len);
	q[len] = '\0';
	return q;
}

char *
ci_strdup(const char *s)
{
	return ci_memdup(s, strlen(s) + 1);
}
