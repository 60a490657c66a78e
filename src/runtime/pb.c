/*
 * Protobuf wire format, read through ci_rd views only: every length is
 * compared with the bytes left, every LEN field becomes its own sub-view.
 */
#include <string.h>

#include "runtime/rt.h"

int
ci_pb_varint(struct ci_rd *r, uint64_t *v)
{
	uint64_t x = 0;

	*v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		uint8_t b;
		if (ci_rd_u8(r, &b) != 0)
			return -1;
		if (shift == 63 && (b & 0x7e) != 0) {
			r->bad = 1;	/* more than 64 bits */
			return -1;
		}
		x |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0) {
			*v = x;
			return 0;
		}
	}
	r->bad = 1;
	return -1;
}

int
ci_pb_next(struct ci_rd *r, struct ci_pb_field *f, struct cinfer_err *e)
{
	uint64_t key, len;

	memset(f, 0, sizeof(*f));
	if (r->bad)
		return ci_fail(e, CINFER_E_MALFORMED, "runtime.pb", "bad reader");
	if (r->left == 0)
		return 0;
	if (ci_pb_varint(r, &key) != 0)
		return ci_fail(e, CINFER_E_MALFORMED, "runtime.pb", "truncated key");
	if (key >> 3 == 0 || key >> 3 > 0x1fffffff)
		return ci_fail(e, CINFER_E_MALFORMED, "runtime.pb", "field number 0");
	f->num = (uint32_t)(key >> 3);
	f->wt = (uint32_t)(key & 7);
	switch (f->wt) {
	case CI_PB_VARINT:
		if (ci_pb_varint(r, &f->v) != 0)
			return ci_fail(e, CINFER_E_MALFORMED, "runtime.pb", "truncated varint");
		break;
	case CI_PB_I64:
		if (ci_rd_u64le(r, &f->v) != 0)
			return ci_fail(e, CINFER_E_MALFORMED, "runtime.pb", "truncated fixed64");
		break;
	case CI_PB_I32: {
		uint32_t v32;
		if (ci_rd_u32le(r, &v32) != 0)
			return ci_fail(e, CINFER_E_MALFORMED, "runtime.pb", "truncated fixed32");
		f->v = v32;
		break;
	}
	case CI_PB_LEN:
		if (ci_pb_varint(r, &len) != 0 || len > r->left)
			return ci_fail(e, CINFER_E_MALFORMED, "runtime.pb",
			    "field %u: length past end", f->num);
		if (ci_rd_sub(r, (size_t)len, &f->sub) != 0)
			return ci_fail(e, CINFER_E_MALFORMED, "runtime.pb", "truncated");
		break;
	default:
		/* groups (3, 4) are not used by onnx.proto */
		return ci_fail(e, CINFER_E_MALFORMED, "runtime.pb",
		    "field %u: wire type %u", f->num, f->wt);
	}
	return 1;
}

int
ci_pb_str(const struct ci_pb_field *f, char **out, struct cinfer_err *e)
{
	const uint8_t *p;
	struct ci_rd r = f->sub;
	size_t n = r.left;

	*out = NULL;
	if (f->wt != CI_PB_LEN)
		return ci_fail(e, CINFER_E_MALFORMED, "runtime.pb", "field %u: not a string", f->num);
	if (n > CI_RT_MAX_NAME)
		return ci_fail(e, CINFER_E_LIMIT, "runtime.pb", "string of %zu bytes", n);
	if (ci_rd_bytes(&r, n, &p) != 0)
		return ci_fail(e, CINFER_E_MALFORMED, "runtime.pb", "truncated string");
	if (n > 0 && memchr(p, 0, n) != NULL)
		return ci_fail(e, CINFER_E_MALFORMED, "runtime.pb", "NUL inside a string");
	*out = ci_alloc(n + 1);
	if (*out == NULL)
		return ci_fail(e, CINFER_E_NOMEM, "runtime.pb", "out of memory");
	if (n > 0)
		memcpy(*out, p, n);
	(*out)[n] = '\0';
	return 0;
}
