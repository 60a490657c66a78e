/* Pooling: MaxPool (with Indices), AveragePool, LpPool, GlobalAveragePool, GlobalMaxPool.
 * 2-D float MaxPool/AveragePool without indices take the row kernels of conv.h. */
#include <math.h>
#include <string.h>

#include "runtime/rt.h"
#include "runtime/conv.h"
#include "runtime/ops/ops.h"
#include "runtime/ops/spatial.h"

enum pk { P_MAX, P_AVG, P_LP };

void
ci_pool2d_portable(const struct ci_pool_args *a, size_t lo, size_t hi)
{
	ci_pool2d_rows(a, lo, hi);
}

static void
pool2d_part(void *arg, size_t lo, size_t hi)
{
	if (ci_use_avx2())
		ci_pool2d_avx2(arg, lo, hi);
	else
		ci_pool2d_portable(arg, lo, hi);
}

static int
pool(struct ci_kctx *k, enum pk kind, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0);
	struct ci_spatial sp = { 0 };
	int64_t dims[CI_RT_MAX_DIMS];
	size_t nc, isz, osz;
	int incl = (int)ci_attr_i(k->node, "count_include_pad", 0);
	int order = (int)ci_attr_i(k->node, "storage_order", 0);
	double p = (double)ci_attr_i(k->node, "p", 2);
	int want_idx = k->n_out > 1 && k->out[1] != NULL;

	if (x == NULL)
		return ci_op_fail(k, e, "input missing");
	if (x->dtype != CI_DT_FLOAT && !(kind == P_MAX && x->dtype == CI_DT_UINT8 && !want_idx))
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "%s: type %s",
		    k->node->op_type, ci_dt_name(x->dtype));
	if (ci_spatial_init(k, x, NULL, kind != P_LP, &sp, e) != 0)
		return -1;
	if (kind != P_MAX && (sp.d[0] != 1 || sp.d[1] != 1 || sp.d[2] != 1))
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "%s with dilations",
		    k->node->op_type);
	dims[0] = x->dims[0];
	dims[1] = x->dims[1];
	for (int i = 0; i < sp.ns; i++)
		dims[2 + i] = sp.out[3 - sp.ns + i];
	if (ci_out(k, 0, x->dtype, x->ndim, dims, e) != 0)
		return -1;
	if (want_idx && ci_out(k, 1, CI_DT_INT64, x->ndim, dims, e) != 0)
		return -1;
	nc = (size_t)(x->dims[0] * x->dims[1]);
	isz = ci_spatial_in(&sp);
	osz = ci_spatial_out(&sp);
	if (kind != P_LP && x->dtype == CI_DT_FLOAT && !want_idx && sp.in[0] == 1 &&
	    sp.k[0] == 1 && sp.out[0] == 1 && sp.d[1] == 1 && sp.d[2] == 1) {
		/* 2-D fast path: row kernels over output columns, threads over planes */
		struct ci_pool_args pa = { .x = x->data, .y = k->out[0]->data, .sp = &sp,
			.avg = kind == P_AVG, .include_pad = incl };
		ci_parallel(k, nc, 65536 / (osz * ci_spatial_k(&sp) + 1) + 1, pool2d_part, &pa);
		return 0;
	}
	for (size_t ch = 0; ch < nc; ch++)
		for (int64_t oz = 0; oz < sp.out[0]; oz++)
			for (int64_t oy = 0; oy < sp.out[1]; oy++)
				for (int64_t ox = 0; ox < sp.out[2]; ox++) {
					double acc = kind == P_MAX ? -INFINITY : 0;
					int64_t cnt = 0, best = -1;
					size_t o = ch * osz + (size_t)((oz * sp.out[1] + oy) * sp.out[2] + ox);
					for (int64_t kz = 0; kz < sp.k[0]; kz++) {
						int64_t iz = oz * sp.s[0] - sp.pb[0] + kz * sp.d[0];
						for (int64_t ky = 0; ky < sp.k[1]; ky++) {
							int64_t iy = oy * sp.s[1] - sp.pb[1] + ky * sp.d[1];
							for (int64_t kx = 0; kx < sp.k[2]; kx++) {
								int64_t ix = ox * sp.s[2] - sp.pb[2] + kx * sp.d[2];
								size_t ii;
								double v;
								if (iz < 0 || iz >= sp.in[0] || iy < 0 || iy >= sp.in[1] ||
								    ix < 0 || ix >= sp.in[2]) {
									/* padding counts where the window is inside the padded input */
									if (incl && iz < sp.in[0] + sp.pe[0] && iy < sp.in[1] + sp.pe[1] &&
									    ix < sp.in[2] + sp.pe[2])
										cnt++;
									continue;
								}
								ii = (size_t)((iz * sp.in[1] + iy) * sp.in[2] + ix);
								v = x->dtype == CI_DT_FLOAT ?
								    ((const float *)x->data)[ch * isz + ii] :
								    ((const uint8_t *)x->data)[ch * isz + ii];
								cnt++;
								if (kind == P_MAX) {
									if (v > acc) {
										acc = v;
										best = (int64_t)ii;
										if (order == 1)
											best = (ix * sp.in[1] + iy) * sp.in[0] + iz;
									}
								} else if (kind == P_AVG) {
									acc += v;
								} else {
									acc += pow(fabs(v), p);
								}
							}
						}
					}
					if (kind == P_AVG)
						acc = cnt ? acc / (double)cnt : 0;
					else if (kind == P_LP)
						acc = pow(acc, 1.0 / p);
					if (x->dtype == CI_DT_FLOAT)
						((float *)k->out[0]->data)[o] = (float)acc;
					else
						((uint8_t *)k->out[0]->data)[o] = (uint8_t)(acc >= 0 && acc <= 255 ? acc : 0);
					if (want_idx)
						((int64_t *)k->out[1]->data)[o] = best < 0 ? 0 :
						    (int64_t)(ch * isz) + best;
				}
	return 0;
}

static int run_maxpool(struct ci_kctx *k, struct cinfer_err *e) { return pool(k, P_MAX, e); }
static int run_avgpool(struct ci_kctx *k, struct cinfer_err *e) { return pool(k, P_AVG, e); }
static int run_lppool(struct ci_kctx *k, struct cinfer_err *e) { return pool(k, P_LP, e); }

struct global_args {
	const float *x;
	float *y;
	size_t sp;
	int is_max;
};

/* Planes [lo, hi): 8 running sums or maxima (vectorizable), then combined. */
static void
global_part(void *arg, size_t lo, size_t hi)
{
	const struct global_args *a = arg;

	for (size_t c = lo; c < hi; c++) {
		const float *p = a->x + c * a->sp;
		float acc[8], r;
		size_t i = 0;
		for (int j = 0; j < 8; j++)
			acc[j] = a->is_max ? -INFINITY : 0.0f;
		if (a->is_max) {
			for (; i + 8 <= a->sp; i += 8)
				for (int j = 0; j < 8; j++)
					acc[j] = p[i + j] > acc[j] ? p[i + j] : acc[j];
		} else {
			for (; i + 8 <= a->sp; i += 8)
				for (int j = 0; j < 8; j++)
					acc[j] += p[i + j];
		}
		r = acc[0];
		for (int j = 1; j < 8; j++)
			r = a->is_max ? (acc[j] > r ? acc[j] : r) : r + acc[j];
		for (; i < a->sp; i++)
			r = a->is_max ? (p[i] > r ? p[i] : r) : r + p[i];
		a->y[c] = a->is_max ? r : a->sp ? r / (float)a->sp : 0.0f;
	}
}

static int
global(struct ci_kctx *k, int is_max, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0);
	int64_t dims[CI_RT_MAX_DIMS];
	size_t nc, sp = 1;

	if (x == NULL || x->ndim < 3)
		return ci_op_fail(k, e, "input must have spatial dims");
	if (x->dtype != CI_DT_FLOAT)
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "%s: type", k->node->op_type);
	for (int d = 0; d < x->ndim; d++) {
		dims[d] = d < 2 ? x->dims[d] : 1;
		if (d >= 2)
			sp *= (size_t)x->dims[d];
	}
	if (ci_out(k, 0, CI_DT_FLOAT, x->ndim, dims, e) != 0)
		return -1;
	nc = (size_t)(x->dims[0] * x->dims[1]);
	{
		struct global_args ga = { .x = x->data, .y = k->out[0]->data, .sp = sp,
			.is_max = is_max };
		ci_parallel(k, nc, 65536 / (sp + 1) + 1, global_part, &ga);
	}
	return 0;
}

static int run_gavg(struct ci_kctx *k, struct cinfer_err *e) { return global(k, 0, e); }
static int run_gmax(struct ci_kctx *k, struct cinfer_err *e) { return global(k, 1, e); }

static int
run_maxunpool(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0), *ind = ci_in(k, 1), *os = ci_in(k, 2);
	struct ci_spatial sp = { 0 };
	int64_t dims[CI_RT_MAX_DIMS] = { 0 }, def[CI_RT_MAX_DIMS] = { 0 };
	size_t es, dplane = 1, oplane = 1;

	if (x == NULL || ind == NULL || ind->dtype != CI_DT_INT64 || ind->count != x->count ||
	    ci_dt_size(x->dtype) == 0)
		return ci_op_fail(k, e, "X and int64 indices of the same shape");
	if (ci_spatial_init(k, x, NULL, 0, &sp, e) != 0)
		return -1;
	/* indices address the default output; output_shape may enlarge it */
	def[0] = x->dims[0];
	def[1] = x->dims[1];
	for (int i = 0; i < sp.ns; i++) {
		int j = 3 - sp.ns + i;
		def[2 + i] = (sp.in[j] - 1) * sp.s[j] + sp.k[j] - sp.pb[j] - sp.pe[j];
		if (def[2 + i] < 1)
			return ci_op_fail(k, e, "output size");
	}
	memcpy(dims, def, sizeof(dims));
	if (os && os->count > 0) {
		if (os->dtype != CI_DT_INT64 || os->count != (size_t)x->ndim)
			return ci_op_fail(k, e, "output_shape");
		for (int d = 0; d < x->ndim; d++) {
			dims[d] = ((const int64_t *)os->data)[d];
			if ((d < 2 && dims[d] != def[d]) || dims[d] < def[d])
				return ci_op_fail(k, e, "output_shape smaller than the unpooled shape");
		}
	}
	for (int d = 2; d < x->ndim; d++) {
		dplane *= (size_t)def[d];
		oplane *= (size_t)dims[d];
	}
	if (ci_out(k, 0, x->dtype, x->ndim, dims, e) != 0)
		return -1;
	es = ci_dt_size(x->dtype);
	memset(k->out[0]->data, 0, k->out[0]->count * es);
	for (size_t i = 0; i < x->count; i++) {
		int64_t v = ((const int64_t *)ind->data)[i];
		size_t plane, r, dst = 0, mul = 1;
		if (v < 0 || (uint64_t)v >= dplane * (size_t)(def[0] * def[1]))
			return ci_op_fail(k, e, "index %lld out of range", (long long)v);
		plane = (size_t)v / dplane;
		r = (size_t)v % dplane;
		for (int d = x->ndim - 1; d >= 2; d--) {
			dst += (r % (size_t)def[d]) * mul;
			r /= (size_t)def[d];
			mul *= (size_t)dims[d];
		}
		dst += plane * oplane;
		memcpy((uint8_t *)k->out[0]->data + dst * es, (const uint8_t *)x->data + i * es, es);
	}
	return 0;
}

CI_OP_DEF(AveragePool, "AveragePool", 1, run_avgpool);
CI_OP_DEF(GlobalAveragePool, "GlobalAveragePool", 1, run_gavg);
CI_OP_DEF(GlobalMaxPool, "GlobalMaxPool", 1, run_gmax);
CI_OP_DEF(LpPool, "LpPool", 11, run_lppool);
CI_OP_DEF(MaxPool, "MaxPool", 1, run_maxpool);
CI_OP_DEF(MaxUnpool, "MaxUnpool", 9, run_maxunpool);
