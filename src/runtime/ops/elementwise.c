/*
 * Elementwise operators: unary math and activations, broadcasting binary
 * arithmetic, comparisons and logic, variadic Max/Min/Sum/Mean, Where,
 * Clip, PRelu, BitShift.
 */
#include <math.h>
#include <string.h>

#include "runtime/rt.h"
#include "runtime/ops/ops.h"
#include "runtime/vmath.h"

/* Elements per thread below which a float loop is not split (a hand-off to
 * the pool costs about as much as this many cheap elements). */
#define EW_GRAIN 16384

/* the integer kernels are shared by signed and unsigned types */
#pragma GCC diagnostic ignored "-Wtype-limits"

/* ---- broadcasting walk ------------------------------------------------------ */
/*
 * Calls row() for each run of the innermost output dimension with the
 * element offsets of every input and their inner strides (0 or 1).
 */
#define BC_MAX 3
struct bc {
	int nd, nin;
	int64_t dims[CI_RT_MAX_DIMS];
	size_t st[BC_MAX][CI_RT_MAX_DIMS];
};

static int
bc_init(struct bc *b, int nin, struct ci_tensor *const *in, int *nd, int64_t *dims)
{
	int n = 0;
	int64_t d[CI_RT_MAX_DIMS];

	memset(b, 0, sizeof(*b));
	for (int i = 0; i < nin; i++) {
		int64_t nd2[CI_RT_MAX_DIMS];
		int nn;
		if (i == 0) {
			n = in[0]->ndim;
			memcpy(d, in[0]->dims, sizeof(int64_t) * (size_t)n);
			continue;
		}
		if (ci_broadcast(n, d, in[i]->ndim, in[i]->dims, &nn, nd2) != 0)
			return -1;
		n = nn;
		memcpy(d, nd2, sizeof(int64_t) * (size_t)n);
	}
	b->nd = n;
	b->nin = nin;
	memcpy(b->dims, d, sizeof(int64_t) * (size_t)n);
	for (int i = 0; i < nin; i++) {
		size_t s = 1;
		int off = n - in[i]->ndim;
		for (int j = n - 1; j >= 0; j--) {
			int64_t dj = j - off >= 0 ? in[i]->dims[j - off] : 1;
			b->st[i][j] = dj == 1 ? 0 : s;
			s *= (size_t)dj;
		}
	}
	*nd = n;
	memcpy(dims, d, sizeof(int64_t) * (size_t)n);
	return 0;
}

typedef void (*bc_row_fn)(void *ctx, size_t o, const size_t *off, const size_t *inc, size_t n);

static void
bc_walk(const struct bc *b, void *ctx, bc_row_fn row)
{
	size_t total = 1, inner, off[BC_MAX] = { 0 }, inc[BC_MAX];
	int64_t idx[CI_RT_MAX_DIMS] = { 0 };

	for (int j = 0; j < b->nd; j++)
		total *= (size_t)b->dims[j];
	if (total == 0)
		return;
	if (b->nd == 0) {
		size_t z[BC_MAX] = { 0 };
		row(ctx, 0, off, z, 1);
		return;
	}
	inner = (size_t)b->dims[b->nd - 1];
	for (int i = 0; i < b->nin; i++)
		inc[i] = b->st[i][b->nd - 1];
	for (size_t o = 0; o < total; o += inner) {
		row(ctx, o, off, inc, inner);
		/* advance the odometer over the outer dims */
		for (int j = b->nd - 2; j >= 0; j--) {
			idx[j]++;
			for (int i = 0; i < b->nin; i++)
				off[i] += b->st[i][j];
			if (idx[j] < b->dims[j])
				break;
			for (int i = 0; i < b->nin; i++)
				off[i] -= b->st[i][j] * (size_t)b->dims[j];
			idx[j] = 0;
		}
	}
}

/* ---- binary arithmetic -------------------------------------------------- */
enum bop {
	B_ADD, B_SUB, B_MUL, B_DIV, B_POW, B_MOD, B_FMOD, B_MAX, B_MIN, B_EQ, B_LT, B_LE,
	B_GT, B_GE, B_AND, B_OR, B_XOR, B_SHL, B_SHR, B_PRELU
};

struct bin_ctx {
	enum bop op;
	const void *a, *b;
	void *o;
	int dt, odt;
};

static inline double
pymod(double a, double b)
{
	double r = fmod(a, b);
	if (r != 0 && ((r < 0) != (b < 0)))
		r += b;
	return r;
}

#define INT_ROW(T) \
static void \
row_##T(void *vc, size_t o, const size_t *off, const size_t *inc, size_t n) \
{ \
	struct bin_ctx *c = vc; \
	const T *a = (const T *)c->a + off[0], *b = (const T *)c->b + off[1]; \
	size_t ia = inc[0], ib = inc[1]; \
	if (c->odt == CI_DT_BOOL) { \
		uint8_t *y = (uint8_t *)c->o + o; \
		for (size_t i = 0; i < n; i++) { \
			T x = a[i * ia], z = b[i * ib]; \
			switch (c->op) { \
			case B_EQ: y[i] = x == z; break; \
			case B_LT: y[i] = x < z; break; \
			case B_LE: y[i] = x <= z; break; \
			case B_GT: y[i] = x > z; break; \
			case B_GE: y[i] = x >= z; break; \
			case B_AND: y[i] = x && z; break; \
			case B_OR: y[i] = x || z; break; \
			case B_XOR: y[i] = (!!x) ^ (!!z); break; \
			default: y[i] = 0; break; \
			} \
		} \
		return; \
	} \
	T *y = (T *)c->o + o; \
	for (size_t i = 0; i < n; i++) { \
		T x = a[i * ia], z = b[i * ib]; \
		switch (c->op) { \
		case B_ADD: y[i] = (T)(x + z); break; \
		case B_SUB: y[i] = (T)(x - z); break; \
		case B_MUL: y[i] = (T)(x * z); break; \
		case B_DIV: y[i] = z == 0 ? 0 : (T)(x / z); break; \
		case B_MOD: { \
			T r = z == 0 ? 0 : (T)(x % z); \
			if (r != 0 && ((r < 0) != (z < 0))) r = (T)(r + z); \
			y[i] = r; break; } \
		case B_FMOD: y[i] = z == 0 ? 0 : (T)(x % z); break; \
		case B_MAX: y[i] = x > z ? x : z; break; \
		case B_MIN: y[i] = x < z ? x : z; break; \
		case B_SHL: y[i] = (size_t)z >= sizeof(T) * 8 ? 0 : (T)(x << z); break; \
		case B_SHR: y[i] = (size_t)z >= sizeof(T) * 8 ? 0 : (T)(x >> z); break; \
		case B_PRELU: y[i] = x < 0 ? (T)(x * z) : x; break; \
		case B_POW: y[i] = (T)pow((double)x, (double)z); break; \
		default: y[i] = 0; break; \
		} \
	} \
}
INT_ROW(int8_t)
INT_ROW(uint8_t)
INT_ROW(int16_t)
INT_ROW(uint16_t)
INT_ROW(int32_t)
INT_ROW(uint32_t)
INT_ROW(int64_t)
INT_ROW(uint64_t)

#define FLT_ROW(T, POW, FMOD) \
static void \
row_##T(void *vc, size_t o, const size_t *off, const size_t *inc, size_t n) \
{ \
	struct bin_ctx *c = vc; \
	const T *a = (const T *)c->a + off[0], *b = (const T *)c->b + off[1]; \
	size_t ia = inc[0], ib = inc[1]; \
	if (c->odt == CI_DT_BOOL) { \
		uint8_t *y = (uint8_t *)c->o + o; \
		for (size_t i = 0; i < n; i++) { \
			T x = a[i * ia], z = b[i * ib]; \
			switch (c->op) { \
			case B_EQ: y[i] = x == z; break; \
			case B_LT: y[i] = x < z; break; \
			case B_LE: y[i] = x <= z; break; \
			case B_GT: y[i] = x > z; break; \
			case B_GE: y[i] = x >= z; break; \
			default: y[i] = 0; break; \
			} \
		} \
		return; \
	} \
	T *y = (T *)c->o + o; \
	switch (c->op) { \
	case B_ADD: \
		if (ia && ib) { for (size_t i = 0; i < n; i++) y[i] = a[i] + b[i]; } \
		else { for (size_t i = 0; i < n; i++) y[i] = a[i * ia] + b[i * ib]; } \
		return; \
	case B_SUB: for (size_t i = 0; i < n; i++) y[i] = a[i * ia] - b[i * ib]; return; \
	case B_MUL: \
		if (ia && ib) { for (size_t i = 0; i < n; i++) y[i] = a[i] * b[i]; } \
		else { for (size_t i = 0; i < n; i++) y[i] = a[i * ia] * b[i * ib]; } \
		return; \
	case B_DIV: for (size_t i = 0; i < n; i++) y[i] = a[i * ia] / b[i * ib]; return; \
	default: break; \
	} \
	for (size_t i = 0; i < n; i++) { \
		T x = a[i * ia], z = b[i * ib]; \
		switch (c->op) { \
		case B_POW: y[i] = POW(x, z); break; \
		case B_MOD: y[i] = (T)pymod(x, z); break; \
		case B_FMOD: y[i] = FMOD(x, z); break; \
		case B_MAX: y[i] = (isnan(x) || x > z) ? x : z; break; \
		case B_MIN: y[i] = (isnan(x) || x < z) ? x : z; break; \
		case B_PRELU: y[i] = x < 0 ? x * z : x; break; \
		default: y[i] = 0; break; \
		} \
	} \
}
typedef float float_t_;
typedef double double_t_;
FLT_ROW(float_t_, powf, fmodf)
FLT_ROW(double_t_, pow, fmod)

static bc_row_fn
row_for(int dt)
{
	switch (dt) {
	case CI_DT_FLOAT: return row_float_t_;
	case CI_DT_DOUBLE: return row_double_t_;
	case CI_DT_INT8: return row_int8_t;
	case CI_DT_UINT8: case CI_DT_BOOL: return row_uint8_t;
	case CI_DT_INT16: return row_int16_t;
	case CI_DT_UINT16: return row_uint16_t;
	case CI_DT_INT32: return row_int32_t;
	case CI_DT_UINT32: return row_uint32_t;
	case CI_DT_INT64: return row_int64_t;
	case CI_DT_UINT64: return row_uint64_t;
	default: return NULL;
	}
}

/* A float copy of a float16 tensor, in scratch memory. */
static int
to_f32(struct ci_kctx *k, const struct ci_tensor *t, struct ci_tensor *f, struct cinfer_err *e)
{
	*f = *t;
	f->dtype = CI_DT_FLOAT;
	f->data = ci_scratch(k, t->count * sizeof(float) + 4, e);
	if (f->data == NULL)
		return -1;
	ci_convert(f->data, CI_DT_FLOAT, t->data, CI_DT_FLOAT16, t->count);
	return 0;
}

/* ---- float fast paths: same shape, scalar, last-axis vector, per channel ---- */
/* y[i] = a[i*sa] op b[i*sb] with strides 0 or 1, one loop per case so each
 * vectorizes. */
#define SPAN_CASES(OPX) \
	if (sa && sb) { for (size_t i = 0; i < n; i++) y[i] = a[i] OPX b[i]; } \
	else if (sa) { float z = b[0]; for (size_t i = 0; i < n; i++) y[i] = a[i] OPX z; } \
	else { float x = a[0]; for (size_t i = 0; i < n; i++) y[i] = x OPX b[i]; }

static void
fspan(enum bop op, const float *a, int sa, const float *b, int sb, float *y, size_t n)
{
	if (ci_use_avx2()) {
		ci_vbinary_avx2(op == B_ADD ? 0 : op == B_SUB ? 1 : op == B_MUL ? 2 : 3, a, sa, b, sb,
		    y, n);
		return;
	}
	switch (op) {
	case B_ADD: SPAN_CASES(+) break;
	case B_SUB: SPAN_CASES(-) break;
	case B_MUL: SPAN_CASES(*) break;
	default: SPAN_CASES(/) break;
	}
}

/* an operand's layout: all of y, one value, a last-axis vector, or one
 * value per row (per channel: [C, 1, 1] against [N, C, H, W]) */
enum fmode { FM_FULL, FM_SCALAR, FM_ROW, FM_CHAN };

struct fbin_job {
	enum bop op;
	const float *a, *b;
	float *y;
	enum fmode ma, mb;
	size_t inner;		/* row length (FM_ROW: the vector's length) */
	size_t ca, cb;		/* FM_CHAN: values, cycled over the rows */
};

static const float *
fbin_src(const float *p, enum fmode m, size_t r, size_t w, size_t c)
{
	switch (m) {
	case FM_FULL: return p + r * w;
	case FM_CHAN: return p + r % c;
	default: return p;
	}
}

/* rows [lo, hi) of inner elements */
static void
fbin_rows(void *arg, size_t lo, size_t hi)
{
	const struct fbin_job *j = arg;
	size_t w = j->inner;

	for (size_t r = lo; r < hi; r++)
		fspan(j->op, fbin_src(j->a, j->ma, r, w, j->ca), j->ma == FM_FULL || j->ma == FM_ROW,
		    fbin_src(j->b, j->mb, r, w, j->cb), j->mb == FM_FULL || j->mb == FM_ROW,
		    j->y + r * w, w);
}

/*
 * t's layout against y. FM_CHAN: t's dims (aligned right) are 1 except a
 * run [d0, d1] equal to y's, followed by at least one dim of y over 1;
 * *w is then the row length (the product of y's dims after d1).
 */
static enum fmode
fmode_of(const struct ci_tensor *t, const struct ci_tensor *y, int *ok, size_t *w)
{
	int off = y->ndim - t->ndim, d0 = -1, d1 = -1;

	if (t->count == y->count)
		return FM_FULL;
	if (t->count == 1)
		return FM_SCALAR;
	/* only the last dimension is not 1, and it is the output's last */
	if (t->ndim >= 1 && y->ndim >= 1 && t->dims[t->ndim - 1] == y->dims[y->ndim - 1] &&
	    (size_t)t->dims[t->ndim - 1] == t->count)
		return FM_ROW;
	for (int d = 0; off >= 0 && d < t->ndim; d++) {
		if (t->dims[d] == 1)
			continue;
		if (t->dims[d] != y->dims[off + d] || (d1 >= 0 && d1 != d - 1)) {
			*ok = 0;
			return FM_FULL;
		}
		if (d0 < 0)
			d0 = d;
		d1 = d;
	}
	if (off >= 0 && d1 >= 0) {
		*w = 1;
		for (int d = off + d1 + 1; d < y->ndim; d++)
			*w *= (size_t)y->dims[d];
		if (*w > 1)
			return FM_CHAN;
	}
	*ok = 0;
	return FM_FULL;
}

/* Float Add/Sub/Mul/Div whose operands are full, scalar, a last-axis vector
 * or per channel; 1 if done, 0 if the general walk must run. */
static int
fbin_fast(struct ci_kctx *k, const struct ci_tensor *a, const struct ci_tensor *b,
    enum bop op, struct ci_tensor *y)
{
	struct fbin_job j = { op, a->data, b->data, y->data, FM_FULL, FM_FULL, 0, a->count,
		b->count };
	int ok = 1;
	size_t rows, wa = 0, wb = 0;

	if (y->count == 0)
		return 1;
	j.ma = fmode_of(a, y, &ok, &wa);
	j.mb = fmode_of(b, y, &ok, &wb);
	if (!ok || (j.ma != FM_FULL && j.mb != FM_FULL))
		return 0;
	if (j.ma == FM_CHAN || j.mb == FM_CHAN) {
		j.inner = j.ma == FM_CHAN ? wa : wb;
	} else if (j.ma == FM_ROW || j.mb == FM_ROW) {
		j.inner = (size_t)y->dims[y->ndim - 1];
	} else {
		/* full/scalar: any row length will do; keep spans long */
		j.inner = y->count;
		for (size_t w = 4096; w >= 64; w /= 2)
			if (y->count % w == 0 && y->count / w >= 2) {
				j.inner = w;
				break;
			}
	}
	rows = y->count / j.inner;
	ci_parallel(k, rows, j.inner >= EW_GRAIN ? 1 : EW_GRAIN / j.inner, fbin_rows, &j);
	return 1;
}

/* a (op) b -> out (dtype odt). */
static int
binary_to(struct ci_kctx *k, size_t oi, const struct ci_tensor *a, const struct ci_tensor *b,
    enum bop op, int odt, struct cinfer_err *e)
{
	struct bc bcs;
	struct ci_tensor *in2[2] = { (struct ci_tensor *)a, (struct ci_tensor *)b };
	int nd;
	int64_t dims[CI_RT_MAX_DIMS];
	struct bin_ctx c;
	bc_row_fn fn;
	struct ci_tensor af, bf;
	float *tmp = NULL;
	int h16 = a->dtype == CI_DT_FLOAT16 && b->dtype == CI_DT_FLOAT16;

	if (h16) {
		/* float16: compute in fp32, round once at the end */
		if (to_f32(k, a, &af, e) != 0 || to_f32(k, b, &bf, e) != 0)
			return -1;
		a = &af;
		b = &bf;
	}
	fn = row_for(a->dtype);
	if (fn == NULL)
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "%s: type %s",
		    k->node->op_type, ci_dt_name(a->dtype));
	if (a->dtype != b->dtype)
		return ci_op_fail(k, e, "mixed types %s and %s", ci_dt_name(a->dtype),
		    ci_dt_name(b->dtype));
	if (bc_init(&bcs, 2, in2, &nd, dims) != 0)
		return ci_op_fail(k, e, "shapes do not broadcast");
	if (ci_out(k, oi, odt, nd, dims, e) != 0)
		return -1;
	if (h16 && odt == CI_DT_FLOAT16) {
		tmp = ci_scratch(k, k->out[oi]->count * sizeof(float) + 4, e);
		if (tmp == NULL)
			return -1;
	}
	if (!h16 && a->dtype == CI_DT_FLOAT && odt == CI_DT_FLOAT &&
	    (op == B_ADD || op == B_SUB || op == B_MUL || op == B_DIV) &&
	    fbin_fast(k, a, b, op, k->out[oi]))
		return 0;
	c.op = op;
	c.a = a->data;
	c.b = b->data;
	c.o = tmp ? (void *)tmp : k->out[oi]->data;
	c.dt = a->dtype;
	c.odt = tmp ? CI_DT_FLOAT : odt;
	bc_walk(&bcs, &c, fn);
	if (tmp)
		ci_convert(k->out[oi]->data, CI_DT_FLOAT16, tmp, CI_DT_FLOAT, k->out[oi]->count);
	return 0;
}

static int
need(struct ci_kctx *k, size_t n_in, struct cinfer_err *e)
{
	for (size_t i = 0; i < n_in; i++)
		if (ci_in(k, i) == NULL)
			return ci_op_fail(k, e, "input %zu missing", i);
	if (k->n_out < 1 || k->out[0] == NULL)
		return ci_op_fail(k, e, "output missing");
	return 0;
}

/*
 * Before opset 7, binary ops broadcast only with broadcast=1, and then B's
 * shape matches A's dims starting at "axis" (default: the trailing dims).
 * Returns in *bv a view of B with trailing 1s that numpy rules align the
 * same way.
 */
static int
legacy_b(struct ci_kctx *k, const struct ci_tensor *a, const struct ci_tensor *b,
    struct ci_tensor *bv, struct cinfer_err *e)
{
	const struct ci_attr *ax = ci_node_attr(k->node, "axis");
	int bc = (int)ci_attr_i(k->node, "broadcast", 0);

	*bv = *b;
	if (k->opset >= 7 || strcmp(k->node->op_type, "PRelu") == 0)	/* public */
		return 0;
	if (!bc) {
		if (a->ndim != b->ndim || memcmp(a->dims, b->dims, sizeof(int64_t) * (size_t)a->ndim))	/* public */
			return ci_op_fail(k, e, "shapes differ and broadcast=0");
		return 0;
	}
	if (ax != NULL) {
		int axis = ci_axis(ax->i, a->ndim);
		if (axis < 0 || axis + b->ndim > a->ndim)
			return ci_op_fail(k, e, "legacy broadcast axis");
		for (int d = b->ndim; d < a->ndim - axis; d++)
			bv->dims[d] = 1;
		bv->ndim = a->ndim - axis;
	}
	return 0;
}

#define BINOP(fn, op, boolout) \
static int \
fn(struct ci_kctx *k, struct cinfer_err *e) \
{ \
	struct ci_tensor bv; \
	if (need(k, 2, e) != 0 || legacy_b(k, k->in[0], k->in[1], &bv, e) != 0) \
		return -1; \
	return binary_to(k, 0, k->in[0], &bv, op, \
	    (boolout) ? CI_DT_BOOL : k->in[0]->dtype, e); \
}
BINOP(run_add, B_ADD, 0)
BINOP(run_sub, B_SUB, 0)
BINOP(run_mul, B_MUL, 0)
BINOP(run_div, B_DIV, 0)
BINOP(run_equal, B_EQ, 1)
BINOP(run_less, B_LT, 1)
BINOP(run_less_eq, B_LE, 1)
BINOP(run_greater, B_GT, 1)
BINOP(run_greater_eq, B_GE, 1)
BINOP(run_and, B_AND, 1)
BINOP(run_or, B_OR, 1)
BINOP(run_xor, B_XOR, 1)

/* PRelu: before opset 7 a 1-D slope of C values applies per channel (axis 1). */
static int
run_prelu(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor sv;

	if (need(k, 2, e) != 0)
		return -1;
	sv = *k->in[1];
	if (k->opset < 7 && sv.ndim == 1 && k->in[0]->ndim >= 2 && sv.dims[0] == k->in[0]->dims[1] &&
	    sv.dims[0] != 1) {
		sv.ndim = k->in[0]->ndim - 1;
		for (int d = 1; d < sv.ndim; d++)
			sv.dims[d] = 1;
	}
	return binary_to(k, 0, k->in[0], &sv, B_PRELU, k->in[0]->dtype, e);
}

static int
run_mod(struct ci_kctx *k, struct cinfer_err *e)
{
	if (need(k, 2, e) != 0)
		return -1;
	return binary_to(k, 0, k->in[0], k->in[1],
	    ci_attr_i(k->node, "fmod", 0) ? B_FMOD : B_MOD, k->in[0]->dtype, e);
}

static int
run_bitshift(struct ci_kctx *k, struct cinfer_err *e)
{
	const char *d = ci_attr_s(k->node, "direction", "");

	if (need(k, 2, e) != 0)
		return -1;
	if (strcmp(d, "LEFT") != 0 && strcmp(d, "RIGHT") != 0)	/* public */
		return ci_op_fail(k, e, "direction '%s'", d);
	switch (k->in[0]->dtype) {
	case CI_DT_UINT8: case CI_DT_UINT16: case CI_DT_UINT32: case CI_DT_UINT64: break;
	default: return ci_op_fail(k, e, "type %s", ci_dt_name(k->in[0]->dtype));
	}
	return binary_to(k, 0, k->in[0], k->in[1], d[0] == 'L' ? B_SHL : B_SHR,
	    k->in[0]->dtype, e);
}

/* Pow allows different base and exponent types: compute in double. */
static int
run_pow(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *a, *b;
	struct bc bcs;
	int nd;
	int64_t dims[CI_RT_MAX_DIMS];
	struct ci_tensor *in2[2];

	if (need(k, 2, e) != 0)
		return -1;
	a = k->in[0];
	b = k->in[1];
	if (a->dtype == b->dtype && (a->dtype == CI_DT_FLOAT || a->dtype == CI_DT_DOUBLE))
		return binary_to(k, 0, a, b, B_POW, a->dtype, e);
	in2[0] = a;
	in2[1] = b;
	if (ci_dt_size(a->dtype) == 0 || ci_dt_size(b->dtype) == 0 || a->dtype == CI_DT_FLOAT16 ||
	    a->dtype == CI_DT_BFLOAT16 || b->dtype == CI_DT_FLOAT16 || b->dtype == CI_DT_BFLOAT16)
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "Pow: types");
	if (bc_init(&bcs, 2, in2, &nd, dims) != 0)
		return ci_op_fail(k, e, "shapes do not broadcast");
	if (ci_out(k, 0, a->dtype, nd, dims, e) != 0)
		return -1;
	{
		/* explicit index walk: small tensors only in practice */
		size_t total = k->out[0]->count;
		int64_t idx[CI_RT_MAX_DIMS] = { 0 };
		struct ci_tensor *y = k->out[0];
		for (size_t o = 0; o < total; o++) {
			size_t oa = 0, ob = 0;
			double v;
			for (int j = 0; j < nd; j++) {
				oa += bcs.st[0][j] * (size_t)idx[j];
				ob += bcs.st[1][j] * (size_t)idx[j];
			}
			v = pow(ci_tensor_f64(a, oa), ci_tensor_f64(b, ob));
			switch (y->dtype) {
			case CI_DT_FLOAT: ((float *)y->data)[o] = (float)v; break;
			case CI_DT_DOUBLE: ((double *)y->data)[o] = v; break;
			case CI_DT_INT32: ((int32_t *)y->data)[o] = (int32_t)ci_f2i(v); break;
			case CI_DT_INT64: ((int64_t *)y->data)[o] = ci_f2i(v); break;
			default: return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "Pow: types");
			}
			for (int j = nd - 1; j >= 0; j--) {
				if (++idx[j] < dims[j])
					break;
				idx[j] = 0;
			}
		}
	}
	return 0;
}

/* Max, Min, Sum, Mean: fold the inputs pairwise into the output. */
static int
variadic(struct ci_kctx *k, enum bop op, int mean, struct cinfer_err *e)
{
	struct ci_tensor *in[64];
	size_t n = 0;
	struct bc bcs;
	int nd;
	int64_t dims[CI_RT_MAX_DIMS];
	struct ci_tensor acc, f16in[8];
	void *tmp;
	int h16;

	for (size_t i = 0; i < k->n_in; i++)
		if (k->in[i] != NULL) {
			if (n >= CI_ARRAY_LEN(in))
				return ci_op_fail(k, e, "too many inputs");
			in[n++] = k->in[i];
		}
	if (n == 0 || k->out[0] == NULL)
		return ci_op_fail(k, e, "no inputs");
	for (size_t i = 1; i < n; i++)
		if (in[i]->dtype != in[0]->dtype)
			return ci_op_fail(k, e, "mixed types");
	h16 = in[0]->dtype == CI_DT_FLOAT16 && n <= CI_ARRAY_LEN(f16in);
	for (size_t i = 0; h16 && i < n; i++) {
		if (to_f32(k, in[i], &f16in[i], e) != 0)
			return -1;
		in[i] = &f16in[i];
	}
	if (row_for(in[0]->dtype) == NULL)
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "%s: type %s",
		    k->node->op_type, ci_dt_name(in[0]->dtype));
	nd = in[0]->ndim;
	memcpy(dims, in[0]->dims, sizeof(dims));
	for (size_t i = 1; i < n; i++) {
		int64_t d2[CI_RT_MAX_DIMS];
		int n2;
		if (ci_broadcast(nd, dims, in[i]->ndim, in[i]->dims, &n2, d2) != 0)
			return ci_op_fail(k, e, "shapes do not broadcast");
		nd = n2;
		memcpy(dims, d2, sizeof(dims));
	}
	if (ci_out(k, 0, h16 ? CI_DT_FLOAT16 : in[0]->dtype, nd, dims, e) != 0)
		return -1;
	acc = *k->out[0];
	if (h16) {
		acc.dtype = CI_DT_FLOAT;
		acc.data = ci_scratch(k, acc.count * sizeof(float) + 4, e);
		if (acc.data == NULL)
			return -1;
	}
	{
		/* out = broadcast(in[0]) via out = in0 (op) identity: copy by walk */
		size_t es = ci_dt_size(acc.dtype);
		struct ci_tensor *pair[2] = { &acc, in[0] };
		struct bc b2;
		int nd2;
		int64_t d2[CI_RT_MAX_DIMS];
		tmp = ci_scratch(k, acc.count * es, e);
		if (tmp == NULL)
			return -1;
		/* broadcast in[0] to the output shape: out = in0 + 0*out is not
		 * type-safe; instead copy element by element with the walk. */
		if (bc_init(&b2, 2, pair, &nd2, d2) != 0)
			return ci_op_fail(k, e, "broadcast");
		{
			int64_t idx[CI_RT_MAX_DIMS] = { 0 };
			for (size_t o = 0; o < acc.count; o++) {
				size_t oi = 0;
				for (int j = 0; j < nd2; j++)
					oi += b2.st[1][j] * (size_t)idx[j];
				memcpy((uint8_t *)acc.data + o * es, (const uint8_t *)in[0]->data + oi * es, es);
				for (int j = nd2 - 1; j >= 0; j--) {
					if (++idx[j] < d2[j])
						break;
					idx[j] = 0;
				}
			}
		}
		for (size_t i = 1; i < n; i++) {
			struct ci_tensor *p2[2] = { &acc, in[i] };
			struct bin_ctx c;
			memcpy(tmp, acc.data, acc.count * es);
			if (bc_init(&bcs, 2, p2, &nd2, d2) != 0)
				return ci_op_fail(k, e, "broadcast");
			c.op = op;
			c.a = tmp;
			c.b = in[i]->data;
			c.o = acc.data;
			c.dt = c.odt = acc.dtype;
			bc_walk(&bcs, &c, row_for(acc.dtype));
		}
	}
	if (mean) {
		for (size_t i = 0; i < acc.count; i++) {
			if (acc.dtype == CI_DT_FLOAT)
				((float *)acc.data)[i] /= (float)n;
			else if (acc.dtype == CI_DT_DOUBLE)
				((double *)acc.data)[i] /= (double)n;
			else
				return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "Mean: type");
		}
	}
	if (h16)
		ci_convert(k->out[0]->data, CI_DT_FLOAT16, acc.data, CI_DT_FLOAT, acc.count);
	return 0;
}

static int run_max(struct ci_kctx *k, struct cinfer_err *e) { return variadic(k, B_MAX, 0, e); }
static int run_min(struct ci_kctx *k, struct cinfer_err *e) { return variadic(k, B_MIN, 0, e); }
static int run_sum(struct ci_kctx *k, struct cinfer_err *e) { return variadic(k, B_ADD, 0, e); }
static int run_mean(struct ci_kctx *k, struct cinfer_err *e) { return variadic(k, B_ADD, 1, e); }

/* ---- unary ------------------------------------------------------------------ */
enum uop {
	U_ABS, U_ACOS, U_ACOSH, U_ASIN, U_ASINH, U_ATAN, U_ATANH, U_CEIL, U_COS, U_COSH,
	U_ERF, U_EXP, U_FLOOR, U_LOG, U_NEG, U_RECIP, U_ROUND, U_SIGMOID, U_SIGN, U_SIN,
	U_SINH, U_SOFTPLUS, U_SOFTSIGN, U_SQRT, U_TAN, U_TANH, U_RELU, U_LEAKY, U_ELU,
	U_SELU, U_HSIG, U_HSWISH, U_THRELU, U_CELU, U_SHRINK, U_GELU, U_MISH
};

static double
uapply(enum uop op, double x, double p, double q)
{
	switch (op) {
	case U_ABS: return fabs(x);
	case U_ACOS: return acos(x);
	case U_ACOSH: return acosh(x);
	case U_ASIN: return asin(x);
	case U_ASINH: return asinh(x);
	case U_ATAN: return atan(x);
	case U_ATANH: return atanh(x);
	case U_CEIL: return ceil(x);
	case U_COS: return cos(x);
	case U_COSH: return cosh(x);
	case U_ERF: return erf(x);
	case U_EXP: return exp(x);
	case U_FLOOR: return floor(x);
	case U_LOG: return log(x);
	case U_NEG: return -x;
	case U_RECIP: return 1.0 / x;
	case U_ROUND: return nearbyint(x);
	case U_SIGMOID: return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
	case U_SIGN: return x > 0 ? 1 : x < 0 ? -1 : 0;
	case U_SIN: return sin(x);
	case U_SINH: return sinh(x);
	case U_SOFTPLUS: return x > 30 ? x : log1p(exp(x));
	case U_SOFTSIGN: return x / (1.0 + fabs(x));
	case U_SQRT: return sqrt(x);
	case U_TAN: return tan(x);
	case U_TANH: return tanh(x);
	case U_RELU: return x > 0 ? x : 0;
	case U_LEAKY: return x >= 0 ? x : x * p;
	case U_ELU: return x >= 0 ? x : p * (exp(x) - 1.0);
	case U_SELU: return x > 0 ? q * x : q * (p * exp(x) - p);
	case U_HSIG: { double v = p * x + q; return v < 0 ? 0 : v > 1 ? 1 : v; }
	case U_HSWISH: { double v = x / 6.0 + 0.5; return x * (v < 0 ? 0 : v > 1 ? 1 : v); }
	case U_THRELU: return x > p ? x : 0;
	case U_CELU: return (x > 0 ? x : 0) + fmin(0.0, p * (exp(x / p) - 1.0));
	case U_SHRINK: return x < -q ? x + p : x > q ? x - p : 0;
	case U_GELU: return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
	case U_MISH: return x * tanh(log1p(exp(x)));
	}
	return 0;
}

/* Float unary ops with a vector kernel, run in chunks over the threads. */
struct ujob {
	enum uop op;
	const float *x;
	float *y;
	float p, q;
};

static int
vec_op(enum uop op)
{
	switch (op) {
	case U_RELU: case U_ABS: case U_NEG: case U_SQRT: case U_EXP: case U_ERF:
	case U_TANH: case U_SIGMOID: case U_HSIG: case U_HSWISH: case U_GELU: case U_LEAKY:
		return 1;
	default:
		return 0;
	}
}

static void
ujob_run(void *arg, size_t lo, size_t hi)
{
	const struct ujob *j = arg;
	const float *a = j->x + lo;
	float *b = j->y + lo;
	size_t n = hi - lo;

	switch (j->op) {
	case U_RELU:
		for (size_t i = 0; i < n; i++)
			b[i] = a[i] > 0 ? a[i] : 0;
		break;
	case U_LEAKY:
		for (size_t i = 0; i < n; i++)
			b[i] = a[i] >= 0 ? a[i] : a[i] * j->p;
		break;
	case U_ABS:
		for (size_t i = 0; i < n; i++)
			b[i] = fabsf(a[i]);
		break;
	case U_NEG:
		for (size_t i = 0; i < n; i++)
			b[i] = -a[i];
		break;
	case U_SQRT:
		for (size_t i = 0; i < n; i++)
			b[i] = sqrtf(a[i]);
		break;
	case U_EXP: ci_vexp(a, b, n); break;
	case U_ERF: ci_verf(a, b, n); break;
	case U_TANH: ci_vtanh(a, b, n); break;
	case U_SIGMOID: ci_vsigmoid(a, b, n); break;
	case U_GELU: ci_vgelu(a, b, n); break;
	case U_HSIG: ci_vhardsigmoid(a, b, n, j->p, j->q); break;
	case U_HSWISH: ci_vhardswish(a, b, n); break;
	default: break;
	}
}

static int
unary(struct ci_kctx *k, enum uop op, double p, double q, struct cinfer_err *e)
{
	struct ci_tensor *x, *y;
	size_t n;

	if (need(k, 1, e) != 0)
		return -1;
	x = k->in[0];
	if (ci_out_like(k, 0, x->dtype, x, e) != 0)
		return -1;
	y = k->out[0];
	n = x->count;
	switch (x->dtype) {
	case CI_DT_FLOAT: {
		const float *a = x->data;
		float *b = y->data;
		if (vec_op(op)) {
			struct ujob j = { op, a, b, (float)p, (float)q };
			ci_parallel(k, n, EW_GRAIN, ujob_run, &j);
			return 0;
		}
		for (size_t i = 0; i < n; i++)
			b[i] = (float)uapply(op, a[i], p, q);
		return 0;
	}
	case CI_DT_DOUBLE: {
		const double *a = x->data;
		double *b = y->data;
		for (size_t i = 0; i < n; i++)
			b[i] = uapply(op, a[i], p, q);
		return 0;
	}
	case CI_DT_FLOAT16: {
		const uint16_t *a = x->data;
		uint16_t *b = y->data;
		for (size_t i = 0; i < n; i++)
			b[i] = ci_f32_to_f16((float)uapply(op, ci_f16_to_f32(a[i]), p, q));
		return 0;
	}
	case CI_DT_INT8: case CI_DT_INT16: case CI_DT_INT32: case CI_DT_INT64:
	case CI_DT_UINT8: case CI_DT_UINT16: case CI_DT_UINT32: case CI_DT_UINT64:
		if (op != U_ABS && op != U_NEG && op != U_SIGN && op != U_RELU)
			break;
		for (size_t i = 0; i < n; i++) {
			int64_t v = ci_tensor_i64(x, i), r;
			switch (op) {
			case U_ABS: r = v < 0 ? -v : v; break;
			case U_NEG: r = -v; break;
			case U_SIGN: r = v > 0 ? 1 : v < 0 ? -1 : 0; break;
			default: r = v > 0 ? v : 0; break;
			}
			switch (x->dtype) {
			case CI_DT_INT8: ((int8_t *)y->data)[i] = (int8_t)r; break;
			case CI_DT_INT16: ((int16_t *)y->data)[i] = (int16_t)r; break;
			case CI_DT_INT32: ((int32_t *)y->data)[i] = (int32_t)r; break;
			case CI_DT_INT64: ((int64_t *)y->data)[i] = r; break;
			case CI_DT_UINT8: ((uint8_t *)y->data)[i] = (uint8_t)r; break;
			case CI_DT_UINT16: ((uint16_t *)y->data)[i] = (uint16_t)r; break;
			case CI_DT_UINT32: ((uint32_t *)y->data)[i] = (uint32_t)r; break;
			default: ((uint64_t *)y->data)[i] = (uint64_t)r; break;
			}
		}
		return 0;
	default:
		break;
	}
	return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "%s: type %s", k->node->op_type,
	    ci_dt_name(x->dtype));
}

#define UNOP(fn, op) \
static int fn(struct ci_kctx *k, struct cinfer_err *e) { return unary(k, op, 0, 0, e); }
UNOP(run_abs, U_ABS)
UNOP(run_acos, U_ACOS)
UNOP(run_acosh, U_ACOSH)
UNOP(run_asin, U_ASIN)
UNOP(run_asinh, U_ASINH)
UNOP(run_atan, U_ATAN)
UNOP(run_atanh, U_ATANH)
UNOP(run_ceil, U_CEIL)
UNOP(run_cos, U_COS)
UNOP(run_cosh, U_COSH)
UNOP(run_erf, U_ERF)
UNOP(run_exp, U_EXP)
UNOP(run_floor, U_FLOOR)
UNOP(run_log, U_LOG)
UNOP(run_neg, U_NEG)
UNOP(run_recip, U_RECIP)
UNOP(run_round, U_ROUND)
UNOP(run_sigmoid, U_SIGMOID)
UNOP(run_sign, U_SIGN)
UNOP(run_sin, U_SIN)
UNOP(run_sinh, U_SINH)
UNOP(run_softplus, U_SOFTPLUS)
UNOP(run_softsign, U_SOFTSIGN)
UNOP(run_sqrt, U_SQRT)
UNOP(run_tan, U_TAN)
UNOP(run_tanh, U_TANH)
UNOP(run_relu, U_RELU)
UNOP(run_hardswish, U_HSWISH)
UNOP(run_mish, U_MISH)

static int
run_leaky(struct ci_kctx *k, struct cinfer_err *e)
{
	return unary(k, U_LEAKY, ci_attr_f(k->node, "alpha", 0.01f), 0, e);
}

static int
run_elu(struct ci_kctx *k, struct cinfer_err *e)
{
	return unary(k, U_ELU, ci_attr_f(k->node, "alpha", 1.0f), 0, e);
}

static int
run_selu(struct ci_kctx *k, struct cinfer_err *e)
{
	return unary(k, U_SELU, ci_attr_f(k->node, "alpha", 1.67326319217681884765625f),
	    ci_attr_f(k->node, "gamma", 1.05070102214813232421875f), e);
}

static int
run_hardsigmoid(struct ci_kctx *k, struct cinfer_err *e)
{
	return unary(k, U_HSIG, ci_attr_f(k->node, "alpha", 0.2f), ci_attr_f(k->node, "beta", 0.5f), e);
}

static int
run_threlu(struct ci_kctx *k, struct cinfer_err *e)
{
	return unary(k, U_THRELU, ci_attr_f(k->node, "alpha", 1.0f), 0, e);
}

static int
run_celu(struct ci_kctx *k, struct cinfer_err *e)
{
	return unary(k, U_CELU, ci_attr_f(k->node, "alpha", 1.0f), 0, e);
}

static int
run_shrink(struct ci_kctx *k, struct cinfer_err *e)
{
	return unary(k, U_SHRINK, ci_attr_f(k->node, "bias", 0.0f),
	    ci_attr_f(k->node, "lambd", 0.5f), e);
}

static int
run_gelu(struct ci_kctx *k, struct cinfer_err *e)
{
	const char *a = ci_attr_s(k->node, "approximate", "none");

	if (strcmp(a, "none") != 0)	/* public */
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "Gelu approximate=%s", a);
	return unary(k, U_GELU, 0, 0, e);
}

/*
 * com.cinfer Gelu (made by pass_transformer.c from the erf-form subgraph):
 * y = 0.5 x (1 + erf(x / sqrt 2)), float only, one input, one output, no
 * attributes; checked at load (prepare) and again when it runs.
 */
static int
cinfer_gelu_check(struct ci_kctx *k, struct cinfer_err *e)
{
	const struct ci_node *n = k->node;

	if (n->n_in != 1 || n->inputs[0][0] == '\0' || n->n_out != 1 || n->outputs[0][0] == '\0')
		return ci_op_fail(k, e, "takes one input and one output");
	if (n->n_attrs != 0)
		return ci_op_fail(k, e, "unknown attribute '%s'", n->attrs[0].name);
	return 0;
}

static int
run_cinfer_gelu(struct ci_kctx *k, struct cinfer_err *e)
{
	if (cinfer_gelu_check(k, e) != 0 || need(k, 1, e) != 0)
		return -1;
	if (k->in[0]->dtype != CI_DT_FLOAT)
		return ci_op_fail(k, e, "type %s (float only)", ci_dt_name(k->in[0]->dtype));
	return unary(k, U_GELU, 0, 0, e);
}

/* com.cinfer HardSwish (pass_transformer.c): the same checks as Gelu. */
static int
run_cinfer_hardswish(struct ci_kctx *k, struct cinfer_err *e)
{
	if (cinfer_gelu_check(k, e) != 0 || need(k, 1, e) != 0)
		return -1;
	if (k->in[0]->dtype != CI_DT_FLOAT)
		return ci_op_fail(k, e, "type %s (float only)", ci_dt_name(k->in[0]->dtype));
	return unary(k, U_HSWISH, 0, 0, e);
}

static int
run_not(struct ci_kctx *k, struct cinfer_err *e)
{
	if (need(k, 1, e) != 0)
		return -1;
	if (k->in[0]->dtype != CI_DT_BOOL)
		return ci_op_fail(k, e, "type");
	if (ci_out_like(k, 0, CI_DT_BOOL, k->in[0], e) != 0)
		return -1;
	for (size_t i = 0; i < k->in[0]->count; i++)
		((uint8_t *)k->out[0]->data)[i] = !((const uint8_t *)k->in[0]->data)[i];
	return 0;
}

static int
run_isnan(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x;

	if (need(k, 1, e) != 0)
		return -1;
	x = k->in[0];
	if (x->dtype != CI_DT_FLOAT && x->dtype != CI_DT_DOUBLE && x->dtype != CI_DT_FLOAT16)
		return ci_op_fail(k, e, "type");
	if (ci_out_like(k, 0, CI_DT_BOOL, x, e) != 0)
		return -1;
	for (size_t i = 0; i < x->count; i++)
		((uint8_t *)k->out[0]->data)[i] = isnan(ci_tensor_f64(x, i)) != 0;
	return 0;
}

static int
run_isinf(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x;
	int pos = (int)ci_attr_i(k->node, "detect_positive", 1);
	int neg = (int)ci_attr_i(k->node, "detect_negative", 1);

	if (need(k, 1, e) != 0)
		return -1;
	x = k->in[0];
	if (x->dtype != CI_DT_FLOAT && x->dtype != CI_DT_DOUBLE && x->dtype != CI_DT_FLOAT16)
		return ci_op_fail(k, e, "type");
	if (ci_out_like(k, 0, CI_DT_BOOL, x, e) != 0)
		return -1;
	for (size_t i = 0; i < x->count; i++) {
		double v = ci_tensor_f64(x, i);
		((uint8_t *)k->out[0]->data)[i] = isinf(v) && ((v > 0 && pos) || (v < 0 && neg));
	}
	return 0;
}

/* Clip: attributes min/max before opset 11, optional inputs after. */
static int
run_clip(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x, *y;
	double lo = -INFINITY, hi = INFINITY;
	int has_lo = 0, has_hi = 0;

	if (need(k, 1, e) != 0)
		return -1;
	x = k->in[0];
	if (k->opset < 11) {
		lo = ci_attr_f(k->node, "min", -INFINITY);
		hi = ci_attr_f(k->node, "max", INFINITY);
		has_lo = has_hi = 1;
	} else {
		if (ci_in(k, 1)) {
			if (k->in[1]->count != 1 || k->in[1]->dtype != x->dtype)
				return ci_op_fail(k, e, "min must be a scalar of the input type");
			lo = ci_tensor_f64(k->in[1], 0);
			has_lo = 1;
		}
		if (ci_in(k, 2)) {
			if (k->in[2]->count != 1 || k->in[2]->dtype != x->dtype)
				return ci_op_fail(k, e, "max must be a scalar of the input type");
			hi = ci_tensor_f64(k->in[2], 0);
			has_hi = 1;
		}
	}
	if (ci_out_like(k, 0, x->dtype, x, e) != 0)
		return -1;
	y = k->out[0];
	if (x->dtype == CI_DT_FLOAT) {
		const float *a = x->data;
		float *b = y->data;
		float l = has_lo ? (float)lo : -INFINITY, h = has_hi ? (float)hi : INFINITY;
		for (size_t i = 0; i < x->count; i++) {
			float v = a[i];
			v = v < l ? l : v;
			b[i] = v > h ? h : v;
		}
		return 0;
	}
	switch (x->dtype) {
	case CI_DT_DOUBLE: case CI_DT_INT8: case CI_DT_UINT8: case CI_DT_INT16:
	case CI_DT_UINT16: case CI_DT_INT32: case CI_DT_UINT32: case CI_DT_INT64:
	case CI_DT_UINT64:
		break;
	default:
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "Clip: type %s",
		    ci_dt_name(x->dtype));
	}
	for (size_t i = 0; i < x->count; i++) {
		if (x->dtype == CI_DT_DOUBLE) {
			double v = ((const double *)x->data)[i];
			v = has_lo && v < lo ? lo : v;
			((double *)y->data)[i] = has_hi && v > hi ? hi : v;
		} else {
			int64_t v = ci_tensor_i64(x, i);
			int64_t l = has_lo ? ci_tensor_i64(k->in[1], 0) : INT64_MIN;
			int64_t h = has_hi ? ci_tensor_i64(k->in[2], 0) : INT64_MAX;
			v = v < l ? l : v > h ? h : v;
			switch (x->dtype) {
			case CI_DT_INT8: ((int8_t *)y->data)[i] = (int8_t)v; break;
			case CI_DT_UINT8: ((uint8_t *)y->data)[i] = (uint8_t)v; break;
			case CI_DT_INT16: ((int16_t *)y->data)[i] = (int16_t)v; break;
			case CI_DT_UINT16: ((uint16_t *)y->data)[i] = (uint16_t)v; break;
			case CI_DT_INT32: ((int32_t *)y->data)[i] = (int32_t)v; break;
			case CI_DT_UINT32: ((uint32_t *)y->data)[i] = (uint32_t)v; break;
			case CI_DT_INT64: ((int64_t *)y->data)[i] = v; break;
			default: ((uint64_t *)y->data)[i] = (uint64_t)v; break;
			}
		}
	}
	return 0;
}

/* Where(cond, x, y) with three-way broadcasting. */
struct where_ctx {
	const uint8_t *c;
	const uint8_t *x, *y;
	uint8_t *o;
	size_t es;
};

static void
where_row(void *vc, size_t o, const size_t *off, const size_t *inc, size_t n)
{
	struct where_ctx *w = vc;

	for (size_t i = 0; i < n; i++) {
		const uint8_t *src = w->c[off[0] + i * inc[0]] ?
		    w->x + (off[1] + i * inc[1]) * w->es : w->y + (off[2] + i * inc[2]) * w->es;
		memcpy(w->o + (o + i) * w->es, src, w->es);
	}
}

static int
run_where(struct ci_kctx *k, struct cinfer_err *e)
{
	struct bc b;
	int nd;
	int64_t dims[CI_RT_MAX_DIMS];
	struct where_ctx w;

	if (need(k, 3, e) != 0)
		return -1;
	if (k->in[0]->dtype != CI_DT_BOOL || k->in[1]->dtype != k->in[2]->dtype ||
	    ci_dt_size(k->in[1]->dtype) == 0)
		return ci_op_fail(k, e, "types");
	if (bc_init(&b, 3, k->in, &nd, dims) != 0)
		return ci_op_fail(k, e, "shapes do not broadcast");
	if (ci_out(k, 0, k->in[1]->dtype, nd, dims, e) != 0)
		return -1;
	w.c = k->in[0]->data;
	w.x = k->in[1]->data;
	w.y = k->in[2]->data;
	w.o = k->out[0]->data;
	w.es = ci_dt_size(k->in[1]->dtype);
	bc_walk(&b, &w, where_row);
	return 0;
}

CI_OP_DEF(Abs, "Abs", 1, run_abs);
CI_OP_DEF(Acos, "Acos", 7, run_acos);
CI_OP_DEF(Acosh, "Acosh", 9, run_acosh);
CI_OP_DEF(Add, "Add", 1, run_add);
CI_OP_DEF(And, "And", 1, run_and);
CI_OP_DEF(Asin, "Asin", 7, run_asin);
CI_OP_DEF(Asinh, "Asinh", 9, run_asinh);
CI_OP_DEF(Atan, "Atan", 7, run_atan);
CI_OP_DEF(Atanh, "Atanh", 9, run_atanh);
CI_OP_DEF(BitShift, "BitShift", 11, run_bitshift);
CI_OP_DEF(Ceil, "Ceil", 1, run_ceil);
CI_OP_DEF(Celu, "Celu", 12, run_celu);
CI_OP_DEF(Clip, "Clip", 1, run_clip);
CI_OP_DEF(Cos, "Cos", 7, run_cos);
CI_OP_DEF(Cosh, "Cosh", 9, run_cosh);
CI_OP_DEF(Div, "Div", 1, run_div);
CI_OP_DEF(Elu, "Elu", 1, run_elu);
CI_OP_DEF(Equal, "Equal", 1, run_equal);
CI_OP_DEF(Erf, "Erf", 9, run_erf);
CI_OP_DEF(Exp, "Exp", 1, run_exp);
CI_OP_DEF(Floor, "Floor", 1, run_floor);
CI_OP_DEF(Gelu, "Gelu", 20, run_gelu);
CI_OP_DEF(Greater, "Greater", 1, run_greater);
CI_OP_DEF(GreaterOrEqual, "GreaterOrEqual", 12, run_greater_eq);
CI_OP_DEF(HardSigmoid, "HardSigmoid", 1, run_hardsigmoid);
CI_OP_DEF(HardSwish, "HardSwish", 14, run_hardswish);
CI_OP_DEF(IsInf, "IsInf", 10, run_isinf);
CI_OP_DEF(IsNaN, "IsNaN", 9, run_isnan);
CI_OP_DEF(LeakyRelu, "LeakyRelu", 1, run_leaky);
CI_OP_DEF(Less, "Less", 1, run_less);
CI_OP_DEF(LessOrEqual, "LessOrEqual", 12, run_less_eq);
CI_OP_DEF(Log, "Log", 1, run_log);
CI_OP_DEF(Max, "Max", 6, run_max);
CI_OP_DEF(Mean, "Mean", 6, run_mean);
CI_OP_DEF(Min, "Min", 6, run_min);
CI_OP_DEF(Mish, "Mish", 18, run_mish);
CI_OP_DEF(Mod, "Mod", 10, run_mod);
CI_OP_DEF(Mul, "Mul", 1, run_mul);
CI_OP_DEF(Neg, "Neg", 1, run_neg);
CI_OP_DEF(Not, "Not", 1, run_not);
CI_OP_DEF(Or, "Or", 1, run_or);
CI_OP_DEF(PRelu, "PRelu", 1, run_prelu);
CI_OP_DEF(Pow, "Pow", 1, run_pow);
CI_OP_DEF(Reciprocal, "Reciprocal", 1, run_recip);
CI_OP_DEF(Relu, "Relu", 1, run_relu);
CI_OP_DEF(Round, "Round", 11, run_round);
CI_OP_DEF(Selu, "Selu", 1, run_selu);
CI_OP_DEF(Shrink, "Shrink", 9, run_shrink);
CI_OP_DEF(Sigmoid, "Sigmoid", 1, run_sigmoid);
CI_OP_DEF(Sign, "Sign", 9, run_sign);
CI_OP_DEF(Sin, "Sin", 7, run_sin);
CI_OP_DEF(Sinh, "Sinh", 9, run_sinh);
CI_OP_DEF(Softplus, "Softplus", 1, run_softplus);
CI_OP_DEF(Softsign, "Softsign", 1, run_softsign);
CI_OP_DEF(Sqrt, "Sqrt", 1, run_sqrt);
CI_OP_DEF(Sub, "Sub", 1, run_sub);
CI_OP_DEF(Sum, "Sum", 6, run_sum);
CI_OP_DEF(Tan, "Tan", 7, run_tan);
CI_OP_DEF(Tanh, "Tanh", 1, run_tanh);
CI_OP_DEF(ThresholdedRelu, "ThresholdedRelu", 10, run_threlu);
CI_OP_DEF(Where, "Where", 9, run_where);
CI_OP_DEF(Xor, "Xor", 1, run_xor);
CI_OP_DEF_INTERNAL(CinferGelu, "Gelu", run_cinfer_gelu, cinfer_gelu_check);
CI_OP_DEF_INTERNAL(CinferHardSwish, "HardSwish", run_cinfer_hardswish, cinfer_gelu_check);
