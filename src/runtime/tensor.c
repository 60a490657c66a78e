/*
 * TensorProto: decoding (raw_data, typed fields, external data files) and
 * encoding, dtype facts, half-float conversions.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/rt.h"

#define STAGE "runtime.tensor"

static const struct {
	size_t size;
	const char *name;
} dts[CI_DT_COUNT] = {
	[CI_DT_UNDEFINED] = { 0, "undefined" }, [CI_DT_FLOAT] = { 4, "float" },
	[CI_DT_UINT8] = { 1, "uint8" }, [CI_DT_INT8] = { 1, "int8" },
	[CI_DT_UINT16] = { 2, "uint16" }, [CI_DT_INT16] = { 2, "int16" },
	[CI_DT_INT32] = { 4, "int32" }, [CI_DT_INT64] = { 8, "int64" },
	[CI_DT_STRING] = { 0, "string" }, [CI_DT_BOOL] = { 1, "bool" },
	[CI_DT_FLOAT16] = { 2, "float16" }, [CI_DT_DOUBLE] = { 8, "double" },
	[CI_DT_UINT32] = { 4, "uint32" }, [CI_DT_UINT64] = { 8, "uint64" },
	[CI_DT_COMPLEX64] = { 0, "complex64" }, [CI_DT_COMPLEX128] = { 0, "complex128" },
	[CI_DT_BFLOAT16] = { 2, "bfloat16" },
};

size_t
ci_dt_size(int dt)
{
	return dt > 0 && dt < CI_DT_COUNT ? dts[dt].size : 0;
}

const char *
ci_dt_name(int dt)
{
	return dt >= 0 && dt < CI_DT_COUNT ? dts[dt].name : "unknown";
}

size_t
cinfer_dtype_size(int dtype)
{
	return ci_dt_size(dtype);
}

const char *
cinfer_dtype_name(int dtype)
{
	return ci_dt_name(dtype);
}

float
ci_f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h >> 15) << 31, ex = (h >> 10) & 0x1f, man = h & 0x3ff;
	uint32_t bits;
	float f;

	if (ex == 0) {
		f = ldexpf((float)man, -24);
		return sign ? -f : f;
	}
	if (ex == 31)
		bits = sign | 0x7f800000u | (man << 13);
	else
		bits = sign | ((ex + 112) << 23) | (man << 13);
	memcpy(&f, &bits, 4);
	return f;
}

uint16_t
ci_f32_to_f16(float f)
{
	uint32_t x, sign, man;
	int ex;

	memcpy(&x, &f, 4);
	sign = (x >> 16) & 0x8000;
	ex = (int)((x >> 23) & 0xff);
	man = x & 0x7fffff;
	if (ex == 255)
		return (uint16_t)(sign | 0x7c00 | (man ? 0x200 : 0));
	ex = ex - 127 + 15;
	if (ex >= 31)
		return (uint16_t)(sign | 0x7c00);
	if (ex <= 0) {
		uint32_t m, half, rest;
		int shift;
		if (ex < -10)
			return (uint16_t)sign;
		m = man | 0x800000;
		shift = 14 - ex;
		half = 1u << (shift - 1);
		rest = m & ((1u << shift) - 1);
		m >>= shift;
		if (rest > half || (rest == half && (m & 1)))
			m++;
		return (uint16_t)(sign | m);
	}
	{
		uint32_t h = sign | ((uint32_t)ex << 10) | (man >> 13);
		uint32_t rest = man & 0x1fff;
		if (rest > 0x1000 || (rest == 0x1000 && (h & 1)))
			h++;
		return (uint16_t)h;
	}
}

float
ci_bf16_to_f32(uint16_t h)
{
	uint32_t bits = (uint32_t)h << 16;
	float f;

	memcpy(&f, &bits, 4);
	return f;
}

uint16_t
ci_f32_to_bf16(float f)
{
	uint32_t x;

	memcpy(&x, &f, 4);
	if ((x & 0x7fffffff) > 0x7f800000)
		return (uint16_t)((x >> 16) | 0x40);
	x += 0x7fff + ((x >> 16) & 1);
	return (uint16_t)(x >> 16);
}

int
ci_shape_count(int dtype, int ndim, const int64_t *dims, size_t *count, size_t *size,
    struct cinfer_err *e)
{
	size_t c = 1, es = ci_dt_size(dtype);

	*count = 0;
	if (size)
		*size = 0;
	if (es == 0)
		return ci_fail(e, CINFER_E_UNSUPPORTED, STAGE, "dtype %s", ci_dt_name(dtype));
	if (ndim < 0 || ndim > CI_RT_MAX_DIMS)
		return ci_fail(e, CINFER_E_LIMIT, STAGE, "rank %d", ndim);
	for (int i = 0; i < ndim; i++) {
		if (dims[i] < 0)
			return ci_fail(e, CINFER_E_MALFORMED, STAGE, "negative dimension");
		if (dims[i] > 0 && c > CI_RT_MAX_TENSOR_SIZE / (uint64_t)dims[i])
			return ci_fail(e, CINFER_E_LIMIT, STAGE, "tensor too large");
		c *= (size_t)dims[i];
	}
	if (c > CI_RT_MAX_TENSOR_SIZE / es)
		return ci_fail(e, CINFER_E_LIMIT, STAGE, "tensor too large");
	*count = c;
	if (size)
		*size = c * es;
	return 0;
}

void
ci_tensor_clear(struct ci_tensor *t)
{
	if (t == NULL)
		return;
	if (t->owned)
		ci_free(t->data);
	ci_free(t->name);
	memset(t, 0, sizeof(*t));
}

int64_t
ci_tensor_i64(const struct ci_tensor *t, size_t i)
{
	switch (t->dtype) {
	case CI_DT_INT64: return ((const int64_t *)t->data)[i];
	case CI_DT_INT32: return ((const int32_t *)t->data)[i];
	case CI_DT_INT16: return ((const int16_t *)t->data)[i];
	case CI_DT_INT8: return ((const int8_t *)t->data)[i];
	case CI_DT_UINT8: case CI_DT_BOOL: return ((const uint8_t *)t->data)[i];
	case CI_DT_UINT16: return ((const uint16_t *)t->data)[i];
	case CI_DT_UINT32: return ((const uint32_t *)t->data)[i];
	case CI_DT_UINT64: return (int64_t)((const uint64_t *)t->data)[i];
	default: return (int64_t)ci_tensor_f64(t, i);
	}
}

double
ci_tensor_f64(const struct ci_tensor *t, size_t i)
{
	switch (t->dtype) {
	case CI_DT_FLOAT: return ((const float *)t->data)[i];
	case CI_DT_DOUBLE: return ((const double *)t->data)[i];
	case CI_DT_FLOAT16: return ci_f16_to_f32(((const uint16_t *)t->data)[i]);
	case CI_DT_BFLOAT16: return ci_bf16_to_f32(((const uint16_t *)t->data)[i]);
	case CI_DT_UINT64: return (double)((const uint64_t *)t->data)[i];
	default: return (double)ci_tensor_i64(t, i);
	}
}

/* Stores integer v as element i of a tensor of dtype dt (typed-field decode). */
static void
store_int(void *data, int dt, size_t i, uint64_t v)
{
	switch (dt) {
	case CI_DT_INT32: ((int32_t *)data)[i] = (int32_t)(uint32_t)v; break;
	case CI_DT_INT16: ((int16_t *)data)[i] = (int16_t)(uint16_t)v; break;
	case CI_DT_UINT16: case CI_DT_FLOAT16: case CI_DT_BFLOAT16:
		((uint16_t *)data)[i] = (uint16_t)v; break;
	case CI_DT_INT8: ((int8_t *)data)[i] = (int8_t)(uint8_t)v; break;
	case CI_DT_UINT8: ((uint8_t *)data)[i] = (uint8_t)v; break;
	case CI_DT_BOOL: ((uint8_t *)data)[i] = v != 0; break;
	case CI_DT_INT64: case CI_DT_UINT64: ((uint64_t *)data)[i] = v; break;
	case CI_DT_UINT32: ((uint32_t *)data)[i] = (uint32_t)v; break;
	default: break;
	}
}

/* The typed field that carries elements of dt, and its wire type. */
static int
typed_field(int dt, uint32_t *wt)
{
	switch (dt) {
	case CI_DT_FLOAT: *wt = CI_PB_I32; return 4;
	case CI_DT_INT32: case CI_DT_INT16: case CI_DT_INT8: case CI_DT_UINT16:
	case CI_DT_UINT8: case CI_DT_BOOL: case CI_DT_FLOAT16: case CI_DT_BFLOAT16:
		*wt = CI_PB_VARINT; return 5;
	case CI_DT_INT64: *wt = CI_PB_VARINT; return 7;
	case CI_DT_DOUBLE: *wt = CI_PB_I64; return 10;
	case CI_DT_UINT32: case CI_DT_UINT64: *wt = CI_PB_VARINT; return 11;
	default: *wt = 0; return 0;
	}
}

/*
 * Walks the typed data field of msg; stores into data (when non-NULL) and
 * counts elements. Handles both packed and unpacked encodings.
 */
static int
walk_typed(struct ci_rd msg, int dt, void *data, size_t cap, size_t *n,
    struct cinfer_err *e)
{
	struct ci_pb_field f;
	uint32_t wt;
	int num = typed_field(dt, &wt), rc;

	*n = 0;
	while ((rc = ci_pb_next(&msg, &f, e)) == 1) {
		if ((int)f.num != num)
			continue;
		if (f.wt == wt) {
			if (data && *n < cap) {
				if (dt == CI_DT_FLOAT) {
					uint32_t u = (uint32_t)f.v;
					memcpy((float *)data + *n, &u, 4);
				} else if (dt == CI_DT_DOUBLE) {
					memcpy((double *)data + *n, &f.v, 8);
				} else {
					store_int(data, dt, *n, f.v);
				}
			}
			(*n)++;
		} else if (f.wt == CI_PB_LEN) {
			struct ci_rd p = f.sub;
			while (p.left > 0) {
				uint64_t v = 0;
				if (wt == CI_PB_VARINT) {
					if (ci_pb_varint(&p, &v) != 0)
						return ci_fail(e, CINFER_E_MALFORMED, STAGE, "bad packed varint");
				} else if (wt == CI_PB_I32) {
					uint32_t u;
					if (ci_rd_u32le(&p, &u) != 0)
						return ci_fail(e, CINFER_E_MALFORMED, STAGE, "bad packed float");
					v = u;
				} else {
					if (ci_rd_u64le(&p, &v) != 0)
						return ci_fail(e, CINFER_E_MALFORMED, STAGE, "bad packed double");
				}
				if (data && *n < cap) {
					if (dt == CI_DT_FLOAT) {
						uint32_t u = (uint32_t)v;
						memcpy((float *)data + *n, &u, 4);
					} else if (dt == CI_DT_DOUBLE) {
						memcpy((double *)data + *n, &v, 8);
					} else {
						store_int(data, dt, *n, v);
					}
				}
				(*n)++;
				if (*n > CI_RT_MAX_TENSOR_SIZE)
					return ci_fail(e, CINFER_E_LIMIT, STAGE, "too many elements");
			}
		} else {
			return ci_fail(e, CINFER_E_MALFORMED, STAGE, "field %u: wire type %u",
			    f.num, f.wt);
		}
	}
	return rc < 0 ? -1 : 0;
}

/* Is rel a safe relative path (no absolute, no "..", no empty parts)? */
static int
safe_relpath(const char *rel)
{
	const char *p = rel;

	if (rel[0] == '\0' || rel[0] == '/')
		return 0;
	while (*p) {
		const char *q = strchr(p, '/');
		size_t n = q ? (size_t)(q - p) : strlen(p);
		if (n == 0 || (n == 2 && p[0] == '.' && p[1] == '.') || (n == 1 && p[0] == '.'))
			return 0;
		if (memchr(p, '\\', n) != NULL)
			return 0;
		p += n;
		if (*p == '/')
			p++;
	}
	return 1;
}

static int
read_external(const char *dir, const char *loc, uint64_t off, int has_len, uint64_t len,
    void *dst, size_t size, struct cinfer_err *e)
{
	char path[4096];
	struct stat st;
	int fd = -1, rc = -1;
	size_t got = 0;

	if (dir == NULL)
		return ci_fail(e, CINFER_E_UNSUPPORTED, STAGE, "external data without a model folder");
	if (!safe_relpath(loc))
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "external data path not inside the model folder");
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, loc) >= sizeof(path))
		return ci_fail(e, CINFER_E_LIMIT, STAGE, "external data path too long");
	if (has_len && len != size)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "external data length %llu, need %zu",
		    (unsigned long long)len, size);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return ci_fail(e, CINFER_E_IO, STAGE, "external data %s: %s", loc, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		ci_fail(e, CINFER_E_IO, STAGE, "external data %s: not a file", loc);
		goto out;
	}
	if (off > (uint64_t)st.st_size || size > (uint64_t)st.st_size - off) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE, "external data %s: range past end", loc);
		goto out;
	}
	while (dst != NULL && got < size) {
		ssize_t n = pread(fd, (uint8_t *)dst + got, size - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ci_fail(e, CINFER_E_IO, STAGE, "external data %s: short read", loc);
			goto out;
		}
		got += (size_t)n;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

static int
parse_external_entry(struct ci_rd r, char **key, char **val, struct cinfer_err *e)
{
	struct ci_pb_field f;
	int rc;

	while ((rc = ci_pb_next(&r, &f, e)) == 1) {
		if (f.num == 1 && *key == NULL) {
			if (ci_pb_str(&f, key, e) != 0)
				return -1;
		} else if (f.num == 2 && *val == NULL) {
			if (ci_pb_str(&f, val, e) != 0)
				return -1;
		}
	}
	if (rc < 0)
		return -1;
	if (*key == NULL || *val == NULL)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "external_data entry incomplete");
	return 0;
}

static int
parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

int
ci_tensor_parse(struct ci_rd *r, const char *dir, struct ci_tensor *t, struct cinfer_err *e)
{
	struct ci_rd msg = *r, raw = { 0 };
	struct ci_pb_field f;
	int rc, have_raw = 0, ext = 0, have_len = 0, nd = 0;
	uint64_t ext_off = 0, ext_len = 0;
	char *ext_loc = NULL;
	size_t size = 0, n = 0;
	int64_t dims[CI_RT_MAX_DIMS];

	memset(t, 0, sizeof(*t));
	t->dtype = CI_DT_UNDEFINED;
	while ((rc = ci_pb_next(&msg, &f, e)) == 1) {
		switch (f.num) {
		case 1:		/* dims: packed or not */
			if (f.wt == CI_PB_VARINT) {
				if (nd >= CI_RT_MAX_DIMS)
					goto toomany;
				dims[nd++] = (int64_t)f.v;
			} else if (f.wt == CI_PB_LEN) {
				struct ci_rd p = f.sub;
				while (p.left > 0) {
					uint64_t v;
					if (nd >= CI_RT_MAX_DIMS)
						goto toomany;
					if (ci_pb_varint(&p, &v) != 0) {
						ci_fail(e, CINFER_E_MALFORMED, STAGE, "bad dims");
						goto fail;
					}
					dims[nd++] = (int64_t)v;
				}
			} else {
				ci_fail(e, CINFER_E_MALFORMED, STAGE, "bad dims");
				goto fail;
			}
			break;
		case 2:
			if (f.wt != CI_PB_VARINT || f.v >= CI_DT_COUNT) {
				ci_fail(e, CINFER_E_UNSUPPORTED, STAGE, "data_type %llu",
				    (unsigned long long)f.v);
				goto fail;
			}
			t->dtype = (int)f.v;
			break;
		case 3:
			ci_fail(e, CINFER_E_UNSUPPORTED, STAGE, "segmented tensor");
			goto fail;
		case 8:
			if (t->name != NULL || ci_pb_str(&f, &t->name, e) != 0) {
				ci_fail(e, CINFER_E_MALFORMED, STAGE, "tensor name");
				goto fail;
			}
			break;
		case 9:
			if (f.wt != CI_PB_LEN) {
				ci_fail(e, CINFER_E_MALFORMED, STAGE, "raw_data");
				goto fail;
			}
			raw = f.sub;
			have_raw = 1;
			break;
		case 13: {
			char *k = NULL, *v = NULL;
			if (f.wt != CI_PB_LEN || parse_external_entry(f.sub, &k, &v, e) != 0) {
				ci_free(k);
				ci_free(v);
				ci_fail(e, CINFER_E_MALFORMED, STAGE, "external_data");
				goto fail;
			}
			if (strcmp(k, "location") == 0) {	/* public */
				ci_free(ext_loc);
				ext_loc = v;
				v = NULL;
			} else if (strcmp(k, "offset") == 0) {	/* public */
				if (parse_u64(v, &ext_off) != 0)
					rc = -1;
			} else if (strcmp(k, "length") == 0) {	/* public */
				if (parse_u64(v, &ext_len) != 0)
					rc = -1;
				have_len = 1;
			}
			ci_free(k);
			ci_free(v);
			if (rc < 0) {
				ci_fail(e, CINFER_E_MALFORMED, STAGE, "external_data number");
				goto fail;
			}
			break;
		}
		case 14:
			if (f.wt != CI_PB_VARINT || f.v > 1) {
				ci_fail(e, CINFER_E_MALFORMED, STAGE, "data_location");
				goto fail;
			}
			ext = f.v == 1;
			break;
		default:
			break;
		}
	}
	if (rc < 0)
		goto fail;
	t->ndim = nd;
	memcpy(t->dims, dims, sizeof(int64_t) * (size_t)nd);
	if (ci_shape_count(t->dtype, nd, dims, &t->count, &size, e) != 0)
		goto fail;
	/* check that the data is there before sizing anything by the shape */
	if (ext) {
		if (ext_loc == NULL) {
			ci_fail(e, CINFER_E_MALFORMED, STAGE, "external data without location");
			goto fail;
		}
	} else if (have_raw) {
		if (raw.left != size) {
			ci_fail(e, CINFER_E_MALFORMED, STAGE, "raw_data has %zu bytes, shape needs %zu",
			    raw.left, size);
			goto fail;
		}
	} else {
		if (walk_typed(*r, t->dtype, NULL, 0, &n, e) != 0)
			goto fail;
		if (n != t->count) {
			ci_fail(e, CINFER_E_MALFORMED, STAGE, "%zu values, shape needs %zu", n, t->count);
			goto fail;
		}
	}
	if (ext && read_external(dir, ext_loc, ext_off, have_len, ext_len, NULL, size, e) != 0)
		goto fail;	/* range check only */
	t->data = ci_alloc(size ? size : 1);
	if (t->data == NULL) {
		ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
		goto fail;
	}
	t->cap = size ? size : 1;
	t->owned = 1;
	if (ext) {
		if (read_external(dir, ext_loc, ext_off, have_len, ext_len, t->data, size, e) != 0)
			goto fail;
	} else if (have_raw) {
		if (size > 0 && ci_rd_copy(&raw, t->data, size) != 0) {
			ci_fail(e, CINFER_E_MALFORMED, STAGE, "raw_data");
			goto fail;
		}
	} else if (n > 0 && walk_typed(*r, t->dtype, t->data, t->count, &n, e) != 0) {
		goto fail;
	}
	ci_free(ext_loc);
	return 0;
toomany:
	ci_fail(e, CINFER_E_LIMIT, STAGE, "more than %d dims", CI_RT_MAX_DIMS);
fail:
	ci_free(ext_loc);
	ci_tensor_clear(t);
	return -1;
}

/* ---- encoding --------------------------------------------------------------- */
struct wbuf {
	uint8_t *p;
	size_t n, cap;
	int bad;
};

static void
wput(struct wbuf *w, const void *p, size_t n)
{
	if (w->bad)
		return;
	if (w->cap - w->n < n) {
		size_t nc = w->cap ? w->cap : 256;
		uint8_t *np;
		while (nc - w->n < n) {
			if (nc > SIZE_MAX / 2) {
				w->bad = 1;
				return;
			}
			nc *= 2;
		}
		np = ci_realloc(w->p, nc);
		if (np == NULL) {
			w->bad = 1;
			return;
		}
		w->p = np;
		w->cap = nc;
	}
	memcpy(w->p + w->n, p, n);
	w->n += n;
}

static void
wvarint(struct wbuf *w, uint64_t v)
{
	uint8_t b[10];
	size_t n = 0;

	do {
		b[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			b[n] |= 0x80;
		n++;
	} while (v);
	wput(w, b, n);
}

int
ci_tensor_encode(const struct ci_tensor *t, const char *name, uint8_t **out,
    size_t *out_size, struct cinfer_err *e)
{
	struct wbuf w = { 0 };
	size_t size = t->count * ci_dt_size(t->dtype);

	*out = NULL;
	*out_size = 0;
	for (int i = 0; i < t->ndim; i++) {
		wvarint(&w, 1 << 3 | CI_PB_VARINT);
		wvarint(&w, (uint64_t)t->dims[i]);
	}
	wvarint(&w, 2 << 3 | CI_PB_VARINT);
	wvarint(&w, (uint64_t)t->dtype);
	if (name && name[0]) {
		wvarint(&w, 8 << 3 | CI_PB_LEN);
		wvarint(&w, strlen(name));
		wput(&w, name, strlen(name));
	}
	wvarint(&w, 9 << 3 | CI_PB_LEN);
	wvarint(&w, size);
	if (size)
		wput(&w, t->data, size);
	if (w.bad) {
		ci_free(w.p);
		return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
	}
	*out = w.p;
	*out_size = w.n;
	return 0;
}
