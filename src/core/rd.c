#include <string.h>

#include "core/ci.h"

void
ci_rd_init(struct ci_rd *r, const void *p, size_t size)
{
	r->p = p;
	r->left = p == NULL ? 0 : size;
	r->bad = 0;
}

/* The one place that decides whether n more bytes exist. */
static const uint8_t *
take(struct ci_rd *r, size_t n)
{
	const uint8_t *p;

	if (r->bad || n > r->left) {
		r->bad = 1;
		return NULL;
	}
	p = r->p;
	r->p += n;
	r->left -= n;
	return p;
}

int
ci_rd_u8(struct ci_rd *r, uint8_t *v)
{
	const uint8_t *p = take(r, 1);

	*v = p ? p[0] : 0;
	return p ? 0 : -1;
}

int
ci_rd_u16le(struct ci_rd *r, uint16_t *v)
{
	const uint8_t *p = take(r, 2);

	*v = p ? (uint16_t)(p[0] | p[1] << 8) : 0;
	return p ? 0 : -1;
}

int
ci_rd_u32le(struct ci_rd *r, uint32_t *v)
{
	const uint8_t *p = take(r, 4);

	*v = p ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24 : 0;
	return p ? 0 : -1;
}

int
ci_rd_u64le(struct ci_rd *r, uint64_t *v)
{
	uint32_t lo = 0, hi = 0;

	if (ci_rd_u32le(r, &lo) != 0 || ci_rd_u32le(r, &hi) != 0) {
		*v = 0;
		return -1;
	}
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

int
ci_rd_u16be(struct ci_rd *r, uint16_t *v)
{
	const uint8_t *p = take(r, 2);

	*v = p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
	return p ? 0 : -1;
}

int
ci_rd_u32be(struct ci_rd *r, uint32_t *v)
{
	const uint8_t *p = take(r, 4);

	*v = p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3] : 0;
	return p ? 0 : -1;
}

int
ci_rd_u64be(struct ci_rd *r, uint64_t *v)
{
	uint32_t hi = 0, lo = 0;

	if (ci_rd_u32be(r, &hi) != 0 || ci_rd_u32be(r, &lo) != 0) {
		*v = 0;
		return -1;
	}
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

int
ci_rd_bytes(struct ci_rd *r, size_t n, const uint8_t **v)
{
	*v = take(r, n);
	return *v ? 0 : -1;
}

int
ci_rd_copy(struct ci_rd *r, void *dst, size_t n)
{
	const uint8_t *p = take(r, n);

	if (p == NULL) {
		memset(dst, 0, n);
		return -1;
	}
	memcpy(dst, p, n);
	return 0;
}

int
ci_rd_skip(struct ci_rd *r, size_t n)
{
	return take(r, n) ? 0 : -1;
}

int
ci_rd_sub(struct ci_rd *r, size_t n, struct ci_rd *sub)
{
	const uint8_t *p = take(r, n);

	sub->p = p;
	sub->left = p ? n : 0;
	sub->bad = p ? 0 : 1;
	return p ? 0 : -1;
}

int
ci_rd_done(const struct ci_rd *r)
{
	return (r->bad || r->left != 0) ? -1 : 0;
}
