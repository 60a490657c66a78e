#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "core/ci.h"

void
ci_wipe(void *p, size_t size)
{
	if (p != NULL && size != 0)
		OPENSSL_cleanse(p, size);
}

/*
 * A secret gets its own anonymous mapping: page-aligned so it can be
 * locked (no swap) and marked MADV_DONTDUMP (no core file), with a
 * guard page after it so an overrun faults instead of reading the next
 * secret. If mlock is refused (RLIMIT_MEMLOCK) we carry on unlocked and
 * say so in s->locked; core dumps are still excluded.
 */
int
ci_secret_init(struct ci_secret *s, size_t size, struct cinfer_err *e)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t page = pg > 0 ? (size_t)pg : 4096;
	size_t body, map;
	uint8_t *m;

	memset(s, 0, sizeof(*s));
	if (size > (SIZE_MAX >> 1))
		return ci_fail(e, CINFER_E_LIMIT, "core.secret", "secret of %zu bytes", size);
	body = (size + page - 1) / page * page;
	if (body == 0)
		body = page;
	map = body + page;
	m = mmap(NULL, map, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return ci_fail(e, CINFER_E_NOMEM, "core.secret", "mmap of %zu bytes failed", map);
	(void)madvise(m, map, MADV_DONTDUMP);
	(void)madvise(m, map, MADV_DONTFORK);
	if (mprotect(m + body, page, PROT_NONE) != 0) {
		munmap(m, map);
		return ci_fail(e, CINFER_E_NOMEM, "core.secret", "guard page failed");
	}
	s->locked = mlock(m, body) == 0;
	/* Right-align small secrets against the guard page. */
	s->p = m + (body - size);
	s->size = size;
	s->map_size = map;
	return 0;
}

void
ci_secret_clear(struct ci_secret *s)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t page = pg > 0 ? (size_t)pg : 4096;
	uint8_t *base;
	size_t body;

	if (s == NULL || s->p == NULL)
		return;
	body = s->map_size - page;
	base = s->p - (body - s->size);
	OPENSSL_cleanse(base, body);
	if (s->locked)
		munlock(base, body);
	munmap(base, s->map_size);
	memset(s, 0, sizeof(*s));
}
