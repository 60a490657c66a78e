/*
 * Quantization: QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear,
 * MatMulInteger, QLinearMatMul, ConvInteger, QLinearConv. uint8/int8
 * operands, int32 accumulation (exact), float requantization with
 * round-half-to-even and saturation, per-tensor or per-axis parameters.
 */
#include <math.h>
#include <string.h>

#include "runtime/rt.h"
#include "runtime/qgemm.h"
#include "runtime/ops/ops.h"
#include "runtime/ops/spatial.h"

static int
is_q8(int dt)
{
	return dt == CI_DT_UINT8 || dt == CI_DT_INT8;
}

static int32_t
q8_at(const struct ci_tensor *t, size_t i)
{
	return t->dtype == CI_DT_UINT8 ? ((const uint8_t *)t->data)[i] : ((const int8_t *)t->data)[i];
}

static void
q8_store(void *dst, int dt, size_t i, double v)
{
	double r = nearbyint(v);	/* round half to even (default FP mode) */

	if (r != r)
		r = 0;

	if (dt == CI_DT_UINT8)
		((uint8_t *)dst)[i] = (uint8_t)(r < 0 ? 0 : r > 255 ? 255 : r);
	else
		((int8_t *)dst)[i] = (int8_t)(r < -128 ? -128 : r > 127 ? 127 : r);
}

/* Per-tensor or per-axis parameter p for element i of x (axis stride). */
struct qparam {
	const struct ci_tensor *t;
	size_t inner, n;	/* element i uses index (i / inner) % n */
};

static int
qparam_init(struct ci_kctx *k, struct qparam *q, const struct ci_tensor *t,
    const struct ci_tensor *x, int axis_default, struct cinfer_err *e)
{
	q->t = t;
	q->inner = 1;
	q->n = 1;
	if (t == NULL || t->count == 1)
		return 0;
	{
		int ax = ci_axis(ci_attr_i(k->node, "axis", axis_default), x->ndim);
		if (ax < 0 || t->ndim != 1 || t->dims[0] != x->dims[ax])
			return ci_op_fail(k, e, "per-axis parameter does not match axis");
		for (int d = ax + 1; d < x->ndim; d++)
			q->inner *= (size_t)x->dims[d];
		q->n = (size_t)x->dims[ax];
	}
	return 0;
}

static inline size_t
qidx(const struct qparam *q, size_t i)
{
	return q->n == 1 ? 0 : (i / q->inner) % q->n;
}

static int
run_quantize(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0), *sc = ci_in(k, 1), *zp = ci_in(k, 2);
	struct qparam qs, qz;
	int odt = zp ? zp->dtype : CI_DT_UINT8;

	if (x == NULL || sc == NULL || sc->dtype != CI_DT_FLOAT ||
	    (x->dtype != CI_DT_FLOAT && x->dtype != CI_DT_INT32))
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "QuantizeLinear: types");
	if (!is_q8(odt))
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "QuantizeLinear to %s",
		    ci_dt_name(odt));
	if (qparam_init(k, &qs, sc, x, 1, e) != 0 || qparam_init(k, &qz, zp, x, 1, e) != 0)
		return -1;
	if (zp && zp->count != sc->count)
		return ci_op_fail(k, e, "scale and zero point differ in size");
	if (ci_out_like(k, 0, odt, x, e) != 0)
		return -1;
	for (size_t i = 0; i < x->count; i++) {
		double s = ((const float *)sc->data)[qidx(&qs, i)];
		double z = zp ? q8_at(zp, qidx(&qz, i)) : 0;
		double v = ci_tensor_f64(x, i);
		/* divide in float, as the reference does: ties are decided there */
		double r = nearbyint(x->dtype == CI_DT_FLOAT ? (double)((float)v / (float)s) : v / s) + z;
		q8_store(k->out[0]->data, odt, i, r);
	}
	return 0;
}

static int
run_dequantize(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0), *sc = ci_in(k, 1), *zp = ci_in(k, 2);
	struct qparam qs, qz;

	if (x == NULL || sc == NULL || sc->dtype != CI_DT_FLOAT ||
	    !(is_q8(x->dtype) || x->dtype == CI_DT_INT32))
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "DequantizeLinear: types");
	if (zp && zp->dtype != x->dtype)
		return ci_op_fail(k, e, "zero point type");
	if (qparam_init(k, &qs, sc, x, 1, e) != 0 || qparam_init(k, &qz, zp, x, 1, e) != 0)
		return -1;
	if (ci_out_like(k, 0, CI_DT_FLOAT, x, e) != 0)
		return -1;
	for (size_t i = 0; i < x->count; i++) {
		float s = ((const float *)sc->data)[qidx(&qs, i)];
		int64_t z = zp ? ci_tensor_i64(zp, qidx(&qz, i)) : 0;
		((float *)k->out[0]->data)[i] = (float)(ci_tensor_i64(x, i) - z) * s;
	}
	return 0;
}

struct qz_job {
	const float *x;
	float scale, zp;
	uint8_t *dst;
};

static void
qz_part(void *arg, size_t lo, size_t hi)
{
	struct qz_job *j = arg;

	ci_q8_quantize_u8(j->x + lo, hi - lo, j->scale, j->zp, j->dst + lo);
}

/* u8 quantization of n floats on k's threads (DynamicQuantizeLinear). */
static void
quantize_par(struct ci_kctx *k, const float *x, size_t n, float scale, uint8_t zp, uint8_t *dst)
{
	struct qz_job j = { x, scale, zp, dst };

	ci_parallel(k, n, 16384, qz_part, &j);
}

static int
run_dynamic_quantize(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0);
	float mn, mx, scale;
	uint8_t zp;

	if (x == NULL || x->dtype != CI_DT_FLOAT)
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "DynamicQuantizeLinear: type");
	ci_q8_minmax_par(k, x->data, x->count, &mn, &mx);
	ci_q8_dyn_params(mn, mx, &scale, &zp);
	if (ci_out_like(k, 0, CI_DT_UINT8, x, e) != 0 || ci_out(k, 1, CI_DT_FLOAT, 0, NULL, e) != 0 ||
	    ci_out(k, 2, CI_DT_UINT8, 0, NULL, e) != 0)
		return -1;
	if (k->out[0])
		quantize_par(k, x->data, x->count, scale, zp, k->out[0]->data);
	if (k->out[1])
		*(float *)k->out[1]->data = scale;
	if (k->out[2])
		*(uint8_t *)k->out[2]->data = zp;
	return 0;
}

/*
 * Packed constant B of an integer matmul (prepare hooks), with its zero
 * point in the kernels' form when that is constant too.
 */
struct qmm_state {
	struct ci_qgemm_b pb;
	int b_dtype;
	int32_t *zb, *cb;	/* panels * 8 each; NULL: zero point not constant */
	float *scale;		/* fused ops: W_scale per column (n), or NULL */
};

static void
qmm_state_free(void *p)
{
	struct qmm_state *s = p;

	if (s == NULL)
		return;
	ci_qgemm_b_clear(&s->pb);
	ci_free(s->zb);
	ci_free(s->cb);
	ci_free(s->scale);
	ci_free(s);
}

/* Packs input bi (2-D q8 constant) and zero point zi (if constant or absent). */
static int
qmm_prepare(struct ci_kctx *k, size_t bi, size_t zi, struct cinfer_err *e)
{
	const struct ci_tensor *b = ci_in(k, bi), *bz = ci_in(k, zi);
	struct qmm_state *s;
	int zconst = zi >= k->n_in || k->node->inputs[zi][0] == '\0' || ci_in_const(k, zi);
	size_t n;

	if (!ci_in_const(k, bi) || b->ndim != 2 || !is_q8(b->dtype))
		return 0;	/* run checks and takes the general path */
	if (bz && (bz->dtype != b->dtype || (bz->count != 1 && bz->count != (size_t)b->dims[1])))
		return ci_op_fail(k, e, "zero point type or shape");
	s = ci_calloc(1, sizeof(*s));
	if (s == NULL)
		return ci_fail(e, CINFER_E_NOMEM, CI_STAGE_OP, "out of memory");
	s->b_dtype = b->dtype;
	if (ci_qgemm_b_pack(&s->pb, b->dtype, (size_t)b->dims[0], (size_t)b->dims[1], b->data,
	    (size_t)b->dims[1], -1, e) != 0) {
		ci_free(s);
		return -1;
	}
	n = s->pb.panels * CI_QGEMM_NR + 1;
	if (zconst) {
		s->zb = ci_calloc(n, sizeof(int32_t));
		s->cb = ci_calloc(n, sizeof(int32_t));
		if (s->zb == NULL || s->cb == NULL) {
			qmm_state_free(s);
			return ci_fail(e, CINFER_E_NOMEM, CI_STAGE_OP, "out of memory");
		}
		ci_qgemm_b_zero(&s->pb, b->dtype, bz ? bz->data : NULL, bz ? bz->count : 1, s->zb,
		    s->cb);
	}
	ci_state_set(k, s, qmm_state_free);
	return 0;
}

/*
 * Integer matmul core: y[b][i][j] = sum_p (a - az[i]) (b - bz[j]).
 * az: scalar or per row of A (M); bz: scalar or per column of B (N).
 * Writes int32 to out (batches * m * n), made by mkout once the shape is known.
 */
static int
int_matmul(struct ci_kctx *k, const struct ci_tensor *a, const struct ci_tensor *b,
    const struct ci_tensor *az, const struct ci_tensor *bz, int32_t **acc, int *nd,
    int64_t *dims, int direct, struct cinfer_err *e)
{
	size_t m, n, kk, batches, na, nb2;
	int nbd;
	int64_t bd[CI_RT_MAX_DIMS];
	const struct qmm_state *st = ci_state_get(k);
	struct ci_qgemm_b tmp = { 0 };
	int32_t *za, *zb = NULL, *cb = NULL, *rowsum;
	void *abuf;
	int rc = -1;

	if (!is_q8(a->dtype) || !is_q8(b->dtype))
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "%s: types", k->node->op_type);
	if ((az && az->dtype != a->dtype) || (bz && bz->dtype != b->dtype))
		return ci_op_fail(k, e, "zero point type");
	if (ci_matmul_shape(k, a, b, nd, dims, &m, &n, &kk, e) != 0)
		return -1;
	if ((az && az->count != 1 && az->count != m) || (bz && bz->count != 1 && bz->count != n))
		return ci_op_fail(k, e, "zero point shape");
	if (ci_broadcast(a->ndim > 2 ? a->ndim - 2 : 0, a->dims, b->ndim > 2 ? b->ndim - 2 : 0,
	    b->dims, &nbd, bd) != 0)
		return ci_op_fail(k, e, "batch");
	batches = 1;
	for (int d = 0; d < nbd; d++)
		batches *= (size_t)bd[d];
	if (direct) {
		if (ci_out(k, 0, CI_DT_INT32, *nd, dims, e) != 0)
			return -1;
		*acc = k->out[0]->data;
	} else {
		*acc = ci_scratch(k, batches * m * n * sizeof(int32_t) + 1, e);
		if (*acc == NULL)
			return -1;
	}
	if (m == 0 || n == 0 || batches == 0)
		return 0;
	na = kk > 0 ? a->count / (m * kk) : 1;
	nb2 = kk > 0 ? b->count / (kk * n) : 1;
	if (st && (b->ndim != 2 || st->pb.k != kk || st->pb.n != n || st->b_dtype != b->dtype))
		st = NULL;	/* cannot happen for a constant B; stay safe */
	{
		size_t kp = (kk + 3) & ~(size_t)3, np8 = (n + CI_QGEMM_NR - 1) / CI_QGEMM_NR * CI_QGEMM_NR;
		abuf = ci_scratch(k, m * kp * 2 + 1, e);
		rowsum = ci_scratch(k, m * sizeof(int32_t) + 1, e);
		za = ci_scratch(k, m * sizeof(int32_t) + 1, e);
		if (st == NULL || st->zb == NULL) {
			zb = ci_scratch(k, np8 * sizeof(int32_t) + 1, e);
			cb = ci_scratch(k, np8 * sizeof(int32_t) + 1, e);
		}
		if (!abuf || !rowsum || !za || (st == NULL || st->zb == NULL ? !zb || !cb : 0))
			return -1;
	}
	for (size_t i = 0; i < (az && az->count != 1 ? m : 1); i++)
		za[i] = (az ? q8_at(az, i) : 0) + (a->dtype == CI_DT_INT8 ? 128 : 0);
	for (size_t bi = 0; bi < batches; bi++) {
		/* batch dims broadcast only as whole stacks here (same count or 1) */
		size_t ao = (na == 1 ? 0 : bi % (na ? na : 1)) * m * kk;
		size_t bo = (nb2 == 1 ? 0 : bi % (nb2 ? nb2 : 1)) * kk * n;
		const struct ci_qgemm_b *pb = st ? &st->pb : &tmp;
		struct ci_qgemm_args g = { 0 };
		if (st == NULL && (bi == 0 || nb2 != 1)) {
			ci_qgemm_b_clear(&tmp);
			if (ci_qgemm_b_pack(&tmp, b->dtype, kk, n, (const uint8_t *)b->data + bo, n, -1,
			    e) != 0)
				goto out;
		}
		if (st == NULL || st->zb == NULL)
			ci_qgemm_b_zero(pb, b->dtype, bz ? bz->data : NULL, bz ? bz->count : 1, zb, cb);
		ci_qgemm_a_from_q8(pb, a->dtype, (const uint8_t *)a->data + ao, kk, m, abuf, rowsum);
		g.m = m;
		g.a = abuf;
		g.lda = pb->kp;
		g.rowsum = rowsum;
		g.za = za;
		g.za_per_row = az && az->count != 1;
		g.b = pb;
		g.zb = st && st->zb ? st->zb : zb;
		g.cb = st && st->zb ? st->cb : cb;
		g.c = *acc + bi * m * n;
		g.ldc = n;
		ci_qgemm_run(k, &g);
	}
	rc = 0;
out:
	ci_qgemm_b_clear(&tmp);
	return rc;
}

static int
run_matmul_integer(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *a = ci_in(k, 0), *b = ci_in(k, 1);
	int32_t *acc;
	int nd;
	int64_t dims[CI_RT_MAX_DIMS];

	if (a == NULL || b == NULL)
		return ci_op_fail(k, e, "missing input");
	return int_matmul(k, a, b, ci_in(k, 2), ci_in(k, 3), &acc, &nd, dims, 1, e);
}

static int
prep_matmul_integer(struct ci_kctx *k, struct cinfer_err *e)
{
	return qmm_prepare(k, 1, 3, e);
}

static int
prep_qlinear_matmul(struct ci_kctx *k, struct cinfer_err *e)
{
	return qmm_prepare(k, 3, 5, e);
}

static int
run_qlinear_matmul(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *a = ci_in(k, 0), *as = ci_in(k, 1), *az = ci_in(k, 2), *b = ci_in(k, 3),
	    *bs = ci_in(k, 4), *bz = ci_in(k, 5), *ys = ci_in(k, 6), *yz = ci_in(k, 7);
	int32_t *acc;
	int nd;
	int64_t dims[CI_RT_MAX_DIMS];
	size_t n;

	if (!a || !as || !az || !b || !bs || !bz || !ys || !yz)
		return ci_op_fail(k, e, "missing input");
	if (as->dtype != CI_DT_FLOAT || bs->dtype != CI_DT_FLOAT || ys->dtype != CI_DT_FLOAT ||
	    ys->count != 1 || yz->count != 1 || !is_q8(yz->dtype))
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "QLinearMatMul: parameters");
	if (int_matmul(k, a, b, az, bz, &acc, &nd, dims, 0, e) != 0)
		return -1;
	n = nd ? (size_t)dims[nd - 1] : 1;
	if ((as->count != 1 && as->count != (nd >= 2 ? (size_t)dims[nd - 2] : 1)) ||
	    (bs->count != 1 && bs->count != n))
		return ci_op_fail(k, e, "scale shape");
	if (ci_out(k, 0, yz->dtype, nd, dims, e) != 0)
		return -1;
	for (size_t i = 0; i < k->out[0]->count; i++) {
		size_t row = n ? i / n : 0, col = n ? i % n : 0;
		double s = (double)((const float *)as->data)[as->count == 1 ? 0 : row % as->count] *
		    ((const float *)bs->data)[bs->count == 1 ? 0 : col] / ((const float *)ys->data)[0];
		q8_store(k->out[0]->data, yz->dtype, i, (double)acc[i] * s + q8_at(yz, 0));
	}
	return 0;
}

/* Integer convolution: acc[n][m][out] = sum (x - xz)(w - wz[m]); direct loops. */
static int
int_conv(struct ci_kctx *k, const struct ci_tensor *x, const struct ci_tensor *w,
    const struct ci_tensor *xz, const struct ci_tensor *wz, int32_t **acc, int64_t *dims,
    struct cinfer_err *e)
{
	struct ci_spatial sp = { 0 };
	int64_t g = ci_attr_i(k->node, "group", 1);
	size_t n, c, m, cg, mg, osz, isz, ksz;
	int32_t xzv;

	if (!is_q8(x->dtype) || !is_q8(w->dtype))
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "%s: types", k->node->op_type);
	if (w->ndim != x->ndim || x->ndim < 3 || (xz && (xz->count != 1 || xz->dtype != x->dtype)) ||
	    (wz && wz->dtype != w->dtype))
		return ci_op_fail(k, e, "shapes or zero points");
	if (ci_spatial_init(k, x, w->dims + 2, 0, &sp, e) != 0)
		return -1;
	n = (size_t)x->dims[0];
	c = (size_t)x->dims[1];
	m = (size_t)w->dims[0];
	if (g < 1 || c % (size_t)g || m % (size_t)g || (size_t)w->dims[1] != c / (size_t)g)
		return ci_op_fail(k, e, "channels/group");
	if (wz && wz->count != 1 && wz->count != m)
		return ci_op_fail(k, e, "weight zero point shape");
	cg = c / (size_t)g;
	mg = m / (size_t)g;
	dims[0] = (int64_t)n;
	dims[1] = (int64_t)m;
	for (int i = 0; i < sp.ns; i++)
		dims[2 + i] = sp.out[3 - sp.ns + i];
	osz = ci_spatial_out(&sp);
	isz = ci_spatial_in(&sp);
	ksz = ci_spatial_k(&sp);
	*acc = ci_scratch(k, n * m * osz * sizeof(int32_t) + 1, e);
	if (*acc == NULL)
		return -1;
	xzv = xz ? q8_at(xz, 0) : 0;
	for (size_t in = 0; in < n; in++)
		for (size_t oc = 0; oc < m; oc++) {
			size_t gi = oc / mg;
			int32_t wzv = wz ? q8_at(wz, wz->count == 1 ? 0 : oc) : 0;
			for (int64_t oz = 0; oz < sp.out[0]; oz++)
				for (int64_t oy = 0; oy < sp.out[1]; oy++)
					for (int64_t ox = 0; ox < sp.out[2]; ox++) {
						int32_t s = 0;
						for (size_t ci = 0; ci < cg; ci++)
							for (int64_t kz = 0; kz < sp.k[0]; kz++)
								for (int64_t ky = 0; ky < sp.k[1]; ky++)
									for (int64_t kx = 0; kx < sp.k[2]; kx++) {
										int64_t iz = oz * sp.s[0] - sp.pb[0] + kz * sp.d[0];
										int64_t iy = oy * sp.s[1] - sp.pb[1] + ky * sp.d[1];
										int64_t ix = ox * sp.s[2] - sp.pb[2] + kx * sp.d[2];
										int32_t xv = xzv;	/* padding is the zero point */
										if (iz >= 0 && iz < sp.in[0] && iy >= 0 && iy < sp.in[1] &&
										    ix >= 0 && ix < sp.in[2])
											xv = q8_at(x, (in * c + gi * cg + ci) * isz +
											    (size_t)((iz * sp.in[1] + iy) * sp.in[2] + ix));
										s += (xv - xzv) * (q8_at(w, (oc * cg + ci) * ksz +
										    (size_t)((kz * sp.k[1] + ky) * sp.k[2] + kx)) - wzv);
									}
						(*acc)[(in * m + oc) * osz + (size_t)((oz * sp.out[1] + oy) * sp.out[2] + ox)] = s;
					}
		}
	return 0;
}

static int
run_conv_integer(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0), *w = ci_in(k, 1);
	int32_t *acc;
	int64_t dims[CI_RT_MAX_DIMS];

	if (x == NULL || w == NULL)
		return ci_op_fail(k, e, "missing input");
	if (int_conv(k, x, w, ci_in(k, 2), ci_in(k, 3), &acc, dims, e) != 0)
		return -1;
	if (ci_out(k, 0, CI_DT_INT32, x->ndim, dims, e) != 0)
		return -1;
	memcpy(k->out[0]->data, acc, k->out[0]->count * sizeof(int32_t));
	return 0;
}

static int
run_qlinear_conv(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0), *xs = ci_in(k, 1), *xz = ci_in(k, 2), *w = ci_in(k, 3),
	    *ws = ci_in(k, 4), *wz = ci_in(k, 5), *ys = ci_in(k, 6), *yz = ci_in(k, 7), *b = ci_in(k, 8);
	int32_t *acc;
	int64_t dims[CI_RT_MAX_DIMS];
	size_t m, osz;

	if (!x || !xs || !xz || !w || !ws || !wz || !ys || !yz)
		return ci_op_fail(k, e, "missing input");
	if (xs->dtype != CI_DT_FLOAT || ws->dtype != CI_DT_FLOAT || ys->dtype != CI_DT_FLOAT ||
	    xs->count != 1 || ys->count != 1 || yz->count != 1 || !is_q8(yz->dtype) ||
	    (b && b->dtype != CI_DT_INT32))
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "QLinearConv: parameters");
	if (int_conv(k, x, w, xz, wz, &acc, dims, e) != 0)
		return -1;
	m = (size_t)dims[1];
	if ((ws->count != 1 && ws->count != m) || (b && b->count != m))
		return ci_op_fail(k, e, "scale or bias shape");
	if (ci_out(k, 0, yz->dtype, x->ndim, dims, e) != 0)
		return -1;
	osz = m && dims[0] ? k->out[0]->count / (m * (size_t)dims[0]) : 0;
	for (size_t i = 0; i < k->out[0]->count; i++) {
		size_t oc = osz ? (i / osz) % m : 0;
		double s = (double)((const float *)xs->data)[0] *
		    ((const float *)ws->data)[ws->count == 1 ? 0 : oc] / ((const float *)ys->data)[0];
		int64_t v = (int64_t)acc[i] + (b ? ((const int32_t *)b->data)[oc] : 0);
		q8_store(k->out[0]->data, yz->dtype, i, (double)v * s + q8_at(yz, 0));
	}
	return 0;
}

/*
 * Fused quantized MatMuls (com.cinfer, made by pass_quant.c; a model file
 * may name them too, so everything is checked):
 *
 *   DynQMatMul(x, W, W_scale, W_zero_point?, bias?)
 *     = DynamicQuantizeLinear(x) -> MatMulInteger(x_q, W, x_zp, W_zp)
 *       -> Cast(float) -> Mul(x_scale * W_scale) [-> Add(bias)]
 *   QDQMatMul(x, W, W_scale, W_zero_point?, bias?, x_scale, x_zero_point?)
 *     = MatMul(DequantizeLinear(QuantizeLinear(x)), DequantizeLinear(W))
 *       [-> Add(bias)]
 *
 * x: float [..., K] (QDQMatMul: or int32, as QuantizeLinear allows); W: u8/s8 [K, N]; W_scale: float, 1 or N elements
 * (rank <= 1); W_zero_point: W's type, 1 or N; bias: float [N]; x_scale:
 * float scalar; x_zero_point: u8/s8 scalar. Output float [..., N] =
 * (float)acc * (x_scale * W_scale[j]) + bias[j]: the same operations as
 * the unfused DynamicQuantizeLinear form, so its results are identical;
 * the Q/DQ form differs from float MatMul by float rounding only.
 */
#define QF_X 0
#define QF_W 1
#define QF_WS 2
#define QF_WZ 3
#define QF_BIAS 4
#define QF_XS 5
#define QF_XZ 6

static int
is_dynq(const struct ci_kctx *k)
{
	return strcmp(k->node->op_type, "DynQMatMul") == 0;	/* public */
}

static int
qf_check_params(struct ci_kctx *k, const struct ci_tensor *w, struct cinfer_err *e)
{
	const struct ci_tensor *ws = ci_in(k, QF_WS), *wz = ci_in(k, QF_WZ),
	    *bias = ci_in(k, QF_BIAS), *xs = ci_in(k, QF_XS), *xz = ci_in(k, QF_XZ);
	size_t n = (size_t)w->dims[1];

	if (ws && (ws->dtype != CI_DT_FLOAT || ws->ndim > 1 || (ws->count != 1 && ws->count != n)))
		return ci_op_fail(k, e, "W_scale must be float with 1 or N elements");
	if (wz && (wz->dtype != w->dtype || wz->ndim > 1 || (wz->count != 1 && wz->count != n)))
		return ci_op_fail(k, e, "W_zero_point must be W's type with 1 or N elements");
	if (bias && (bias->dtype != CI_DT_FLOAT || bias->ndim != 1 || bias->count != n))
		return ci_op_fail(k, e, "bias must be float [N]");
	if (xs && (xs->dtype != CI_DT_FLOAT || xs->count != 1 || xs->ndim > 1))
		return ci_op_fail(k, e, "x_scale must be a float scalar");
	if (xz && (!is_q8(xz->dtype) || xz->count != 1 || xz->ndim > 1))
		return ci_op_fail(k, e, "x_zero_point must be a u8/s8 scalar");
	return 0;
}

static int
qf_check_node(struct ci_kctx *k, struct cinfer_err *e)
{
	const struct ci_node *n = k->node;
	int dyn = is_dynq(k);

	if (n->n_attrs != 0)
		return ci_op_fail(k, e, "no attributes allowed");
	if (n->n_out != 1 || n->n_in < (dyn ? 3u : 6u) || n->n_in > (dyn ? 5u : 7u))
		return ci_op_fail(k, e, "wrong number of inputs or outputs");
	for (size_t i = 0; i < n->n_in; i++)
		if (n->inputs[i][0] == '\0' && i != QF_WZ && i != QF_BIAS && i != QF_XZ)
			return ci_op_fail(k, e, "input %zu is required", i);
	return 0;
}

static int
prep_qfused(struct ci_kctx *k, struct cinfer_err *e)
{
	const struct ci_tensor *w = ci_in(k, QF_W), *ws = ci_in(k, QF_WS);
	struct qmm_state *s;

	if (qf_check_node(k, e) != 0)
		return -1;
	if (w == NULL)
		return 0;	/* not constant: packed per run */
	if (w->ndim != 2 || !is_q8(w->dtype))
		return ci_op_fail(k, e, "W must be a u8/s8 matrix");
	if (qf_check_params(k, w, e) != 0)
		return -1;
	if (qmm_prepare(k, QF_W, QF_WZ, e) != 0)
		return -1;
	s = ci_state_get(k);
	if (s && ws && ci_in_const(k, QF_WS)) {
		size_t n = (size_t)w->dims[1];
		s->scale = ci_alloc((n + 1) * sizeof(float));
		if (s->scale == NULL)
			return ci_fail(e, CINFER_E_NOMEM, CI_STAGE_OP, "out of memory");
		for (size_t j = 0; j < n; j++)
			s->scale[j] = ((const float *)ws->data)[ws->count == 1 ? 0 : j];
	}
	return 0;
}

static int
run_qfused(struct ci_kctx *k, struct cinfer_err *e)
{
	const struct ci_tensor *x = ci_in(k, QF_X), *w = ci_in(k, QF_W), *ws = ci_in(k, QF_WS),
	    *wz = ci_in(k, QF_WZ), *bias = ci_in(k, QF_BIAS);
	const struct qmm_state *st = ci_state_get(k);
	struct ci_qgemm_b tmp = { 0 };
	const struct ci_qgemm_b *pb;
	struct ci_qgemm_args g = { 0 };
	int64_t dims[CI_RT_MAX_DIMS];
	size_t m, kk, n, np8;
	float xs, xzf, *scale;
	int32_t za, *zb, *cb, *rowsum;
	void *abuf;
	int rc = -1;

	if (qf_check_node(k, e) != 0)
		return -1;
	if (!x || !w || !ws || (!is_dynq(k) && !ci_in(k, QF_XS)))
		return ci_op_fail(k, e, "missing input");
	if (!(x->dtype == CI_DT_FLOAT || (x->dtype == CI_DT_INT32 && !is_dynq(k))) || x->ndim < 1 ||
	    w->ndim != 2 || !is_q8(w->dtype))
		return ci_op_fail(k, e, "x must be float (QDQMatMul: or int32), W a u8/s8 matrix");
	if (qf_check_params(k, w, e) != 0)
		return -1;
	kk = (size_t)w->dims[0];
	n = (size_t)w->dims[1];
	if ((size_t)x->dims[x->ndim - 1] != kk)
		return ci_op_fail(k, e, "x's last dimension is not W's rows");
	m = 1;
	for (int d = 0; d < x->ndim - 1; d++)
		m *= (size_t)x->dims[d];
	memcpy(dims, x->dims, sizeof(dims));
	dims[x->ndim - 1] = (int64_t)n;
	if (ci_out(k, 0, CI_DT_FLOAT, x->ndim, dims, e) != 0)
		return -1;
	if (m == 0 || n == 0)
		return 0;
	if (st && (st->pb.k != kk || st->pb.n != n || st->b_dtype != w->dtype))
		st = NULL;
	if (st == NULL && ci_qgemm_b_pack(&tmp, w->dtype, kk, n, w->data, n, -1, e) != 0)
		return -1;
	pb = st ? &st->pb : &tmp;
	np8 = pb->panels * CI_QGEMM_NR + 1;
	abuf = ci_scratch(k, m * pb->kp * ci_qgemm_a_elsize(pb) + 1, e);
	rowsum = ci_scratch(k, m * sizeof(int32_t) + 1, e);
	scale = ci_scratch(k, (n + 1) * sizeof(float), e);
	zb = st && st->zb ? st->zb : ci_scratch(k, np8 * sizeof(int32_t), e);
	cb = st && st->zb ? st->cb : ci_scratch(k, np8 * sizeof(int32_t), e);
	if (!abuf || !rowsum || !scale || !zb || !cb)
		goto out;
	if (!(st && st->zb))
		ci_qgemm_b_zero(pb, w->dtype, wz ? wz->data : NULL, wz ? wz->count : 1, zb, cb);
	if (is_dynq(k)) {
		float mn, mx;
		uint8_t zp;
		ci_q8_minmax_par(k, x->data, x->count, &mn, &mx);
		ci_q8_dyn_params(mn, mx, &xs, &zp);
		xzf = zp;
	} else {
		const struct ci_tensor *xsz = ci_in(k, QF_XZ);
		xs = *(const float *)ci_in(k, QF_XS)->data;
		xzf = xsz ? (float)(q8_at(xsz, 0) + (xsz->dtype == CI_DT_INT8 ? 128 : 0)) : 0;
	}
	za = (int32_t)xzf;
	for (size_t j = 0; j < n; j++)
		scale[j] = xs * (st && st->scale ? st->scale[j] :
		    ((const float *)ws->data)[ws->count == 1 ? 0 : j]);
	if (x->dtype == CI_DT_INT32) {
		/* QuantizeLinear of int32 divides in double (run_quantize) */
		uint8_t *q = ci_scratch(k, m * kk + 1, e);
		if (q == NULL)
			goto out;
		for (size_t i = 0; i < m * kk; i++) {
			double r = nearbyint(((const int32_t *)x->data)[i] / (double)xs) + xzf;
			q[i] = (uint8_t)(!(r > 0) ? 0 : r > 255 ? 255 : r);
		}
		ci_qgemm_a_from_q8(pb, CI_DT_UINT8, q, kk, m, abuf, rowsum);
	} else {
		ci_qgemm_a_quantize(k, pb, x->data, kk, m, xs, xzf, abuf, rowsum);
	}
	g.m = m;
	g.a = abuf;
	g.lda = pb->kp;
	g.rowsum = rowsum;
	g.za = &za;
	g.b = pb;
	g.zb = zb;
	g.cb = cb;
	g.f = k->out[0]->data;
	g.ldc = n;
	g.scale = scale;
	g.scale_per_col = 1;
	g.bias = bias ? bias->data : NULL;
	ci_qgemm_run(k, &g);
	rc = 0;
out:
	ci_qgemm_b_clear(&tmp);
	return rc;
}

CI_OP_DEF(ConvInteger, "ConvInteger", 10, run_conv_integer);
CI_OP_DEF(DequantizeLinear, "DequantizeLinear", 10, run_dequantize);
CI_OP_DEF(DynamicQuantizeLinear, "DynamicQuantizeLinear", 11, run_dynamic_quantize);
CI_OP_DEF_PREP(MatMulInteger, "MatMulInteger", 10, run_matmul_integer, prep_matmul_integer);
CI_OP_DEF(QLinearConv, "QLinearConv", 10, run_qlinear_conv);
CI_OP_DEF_PREP(QLinearMatMul, "QLinearMatMul", 10, run_qlinear_matmul,
    prep_qlinear_matmul);
CI_OP_DEF(QuantizeLinear, "QuantizeLinear", 10, run_quantize);
CI_OP_DEF_INTERNAL(DynQMatMul, "DynQMatMul", run_qfused, prep_qfused);
CI_OP_DEF_INTERNAL(QDQMatMul, "QDQMatMul", run_qfused, prep_qfused);
