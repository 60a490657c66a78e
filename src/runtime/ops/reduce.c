/* Reductions: Reduce{Sum,Mean,Max,Min,Prod,L1,L2,LogSum,LogSumExp,SumSquare}, ArgMax, ArgMin. */
#include <math.h>
#include <string.h>

#include "runtime/rt.h"
#include "runtime/ops/ops.h"

enum red { R_SUM, R_MEAN, R_MAX, R_MIN, R_PROD, R_L1, R_L2, R_LOGSUM, R_LOGSUMEXP, R_SUMSQ };

static int
numeric(int dt)
{
	switch (dt) {
	case CI_DT_FLOAT: case CI_DT_DOUBLE: case CI_DT_INT32: case CI_DT_INT64:
	case CI_DT_UINT32: case CI_DT_UINT64: case CI_DT_INT8: case CI_DT_UINT8:
	case CI_DT_FLOAT16:
		return 1;
	default:
		return 0;
	}
}

/* Fills mask[] from the axes (attribute before axes_opset, input 1 after). */
static int
reduce_axes(struct ci_kctx *k, int rank, int axes_opset, int *mask, int *noop,
    struct cinfer_err *e)
{
	int64_t axes[CI_RT_MAX_DIMS];
	size_t na = 0;

	*noop = 0;
	memset(mask, 0, sizeof(int) * CI_RT_MAX_DIMS);
	if (k->opset < axes_opset) {
		const int64_t *a = ci_attr_ints(k->node, "axes", &na);
		if (na > CI_RT_MAX_DIMS)
			return ci_op_fail(k, e, "axes");
		if (na)
			memcpy(axes, a, na * sizeof(int64_t));
	} else if (ci_in(k, 1) != NULL) {
		const struct ci_tensor *t = k->in[1];
		if (t->dtype != CI_DT_INT64 || t->ndim > 1 || t->count > CI_RT_MAX_DIMS)
			return ci_op_fail(k, e, "axes input");
		na = t->count;
		for (size_t i = 0; i < na; i++)
			axes[i] = ((const int64_t *)t->data)[i];
	}
	if (na == 0) {
		if (k->opset >= axes_opset && ci_attr_i(k->node, "noop_with_empty_axes", 0)) {
			*noop = 1;
			return 0;
		}
		for (int d = 0; d < rank; d++)
			mask[d] = 1;
		return 0;
	}
	for (size_t i = 0; i < na; i++) {
		int a = ci_axis(axes[i], rank);
		if (a < 0)
			return ci_op_fail(k, e, "axis %lld", (long long)axes[i]);
		mask[a] = 1;
	}
	return 0;
}

static int
reduce(struct ci_kctx *k, enum red op, int axes_opset, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0), *y;
	int mask[CI_RT_MAX_DIMS], noop, keep = (int)ci_attr_i(k->node, "keepdims", 1), nd = 0;
	int64_t dims[CI_RT_MAX_DIMS], idx[CI_RT_MAX_DIMS] = { 0 };
	size_t ost[CI_RT_MAX_DIMS], s = 1, per;
	double *acc;

	if (x == NULL || k->out[0] == NULL)
		return ci_op_fail(k, e, "input missing");
	if (!numeric(x->dtype))
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "%s: type %s",
		    k->node->op_type, ci_dt_name(x->dtype));
	if (reduce_axes(k, x->ndim, axes_opset, mask, &noop, e) != 0)
		return -1;
	if (noop) {
		if (ci_out_like(k, 0, x->dtype, x, e) != 0)
			return -1;
		memcpy(k->out[0]->data, x->data, x->count * ci_dt_size(x->dtype));
		return 0;
	}
	for (int d = 0; d < x->ndim; d++) {
		if (mask[d] && !keep)
			continue;
		dims[nd++] = mask[d] ? 1 : x->dims[d];
	}
	if (ci_out(k, 0, x->dtype, nd, dims, e) != 0)
		return -1;
	y = k->out[0];
	/* strides of the kept layout, indexed by input dim (0 for reduced) */
	for (int d = x->ndim - 1; d >= 0; d--) {
		ost[d] = mask[d] ? 0 : s;
		if (!mask[d])
			s *= (size_t)x->dims[d];
	}
	acc = ci_scratch(k, (y->count ? y->count : 1) * sizeof(double), e);
	if (acc == NULL)
		return -1;
	per = y->count ? x->count / y->count : 0;
	for (size_t i = 0; i < y->count; i++)
		acc[i] = op == R_MAX ? -INFINITY : op == R_MIN ? INFINITY : op == R_PROD ? 1 : 0;
	if (op == R_LOGSUMEXP) {
		/* stable: subtract the max of each group first */
		double *mx = ci_scratch(k, (y->count ? y->count : 1) * sizeof(double), e);
		if (mx == NULL)
			return -1;
		for (size_t i = 0; i < y->count; i++)
			mx[i] = -INFINITY;
		for (size_t i = 0; i < x->count; i++) {
			size_t o = 0;
			double v = ci_tensor_f64(x, i);
			for (int d = 0; d < x->ndim; d++)
				o += ost[d] * (size_t)idx[d];
			if (v > mx[o])
				mx[o] = v;
			for (int d = x->ndim - 1; d >= 0; d--) {
				if (++idx[d] < x->dims[d])
					break;
				idx[d] = 0;
			}
		}
		memset(idx, 0, sizeof(idx));
		for (size_t i = 0; i < x->count; i++) {
			size_t o = 0;
			for (int d = 0; d < x->ndim; d++)
				o += ost[d] * (size_t)idx[d];
			acc[o] += exp(ci_tensor_f64(x, i) - mx[o]);
			for (int d = x->ndim - 1; d >= 0; d--) {
				if (++idx[d] < x->dims[d])
					break;
				idx[d] = 0;
			}
		}
		for (size_t i = 0; i < y->count; i++)
			acc[i] = isinf(mx[i]) ? mx[i] : log(acc[i]) + mx[i];
	} else {
		for (size_t i = 0; i < x->count; i++) {
			size_t o = 0;
			double v = ci_tensor_f64(x, i);
			for (int d = 0; d < x->ndim; d++)
				o += ost[d] * (size_t)idx[d];
			switch (op) {
			case R_SUM: case R_MEAN: case R_LOGSUM: acc[o] += v; break;
			case R_MAX: if (v > acc[o] || isnan(v)) acc[o] = v; break;
			case R_MIN: if (v < acc[o] || isnan(v)) acc[o] = v; break;
			case R_PROD: acc[o] *= v; break;
			case R_L1: acc[o] += fabs(v); break;
			case R_L2: case R_SUMSQ: acc[o] += v * v; break;
			default: break;
			}
			for (int d = x->ndim - 1; d >= 0; d--) {
				if (++idx[d] < x->dims[d])
					break;
				idx[d] = 0;
			}
		}
		for (size_t i = 0; i < y->count; i++) {
			if (op == R_MEAN)
				acc[i] = per ? acc[i] / (double)per : NAN;
			else if (op == R_L2)
				acc[i] = sqrt(acc[i]);
			else if (op == R_LOGSUM)
				acc[i] = log(acc[i]);
		}
	}
	if (x->dtype == CI_DT_INT32 || x->dtype == CI_DT_INT64 || x->dtype == CI_DT_INT8 ||
	    x->dtype == CI_DT_UINT8 || x->dtype == CI_DT_UINT32 || x->dtype == CI_DT_UINT64)
		for (size_t i = 0; i < y->count; i++)
			acc[i] = floor(acc[i]);
	ci_convert(y->data, y->dtype, acc, CI_DT_DOUBLE, y->count);
	return 0;
}

#define REDOP(fn, op, ao) \
static int fn(struct ci_kctx *k, struct cinfer_err *e) { return reduce(k, op, ao, e); }
REDOP(run_sum, R_SUM, 13)
REDOP(run_mean, R_MEAN, 18)
REDOP(run_max, R_MAX, 18)
REDOP(run_min, R_MIN, 18)
REDOP(run_prod, R_PROD, 18)
REDOP(run_l1, R_L1, 18)
REDOP(run_l2, R_L2, 18)
REDOP(run_logsum, R_LOGSUM, 18)
REDOP(run_logsumexp, R_LOGSUMEXP, 18)
REDOP(run_sumsq, R_SUMSQ, 18)

static int
arg(struct ci_kctx *k, int is_max, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0);
	int keep = (int)ci_attr_i(k->node, "keepdims", 1);
	int last = (int)ci_attr_i(k->node, "select_last_index", 0), ax, nd = 0;
	int64_t dims[CI_RT_MAX_DIMS];
	size_t outer = 1, inner = 1, n;

	if (x == NULL || k->out[0] == NULL)
		return ci_op_fail(k, e, "input missing");
	if (!numeric(x->dtype))
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "%s: type", k->node->op_type);
	ax = ci_axis(ci_attr_i(k->node, "axis", 0), x->ndim);
	if (ax < 0 || x->dims[ax] == 0)
		return ci_op_fail(k, e, "axis");
	for (int d = 0; d < x->ndim; d++) {
		if (d == ax) {
			if (keep)
				dims[nd++] = 1;
			continue;
		}
		dims[nd++] = x->dims[d];
		if (d < ax)
			outer *= (size_t)x->dims[d];
		else
			inner *= (size_t)x->dims[d];
	}
	if (ci_out(k, 0, CI_DT_INT64, nd, dims, e) != 0)
		return -1;
	n = (size_t)x->dims[ax];
	for (size_t o = 0; o < outer; o++)
		for (size_t i = 0; i < inner; i++) {
			size_t best = 0;
			double bv = ci_tensor_f64(x, o * n * inner + i);
			for (size_t j = 1; j < n; j++) {
				double v = ci_tensor_f64(x, (o * n + j) * inner + i);
				int better = is_max ? (last ? v >= bv : v > bv) : (last ? v <= bv : v < bv);
				if (better) {
					bv = v;
					best = j;
				}
			}
			((int64_t *)k->out[0]->data)[o * inner + i] = (int64_t)best;
		}
	return 0;
}

static int run_argmax(struct ci_kctx *k, struct cinfer_err *e) { return arg(k, 1, e); }
static int run_argmin(struct ci_kctx *k, struct cinfer_err *e) { return arg(k, 0, e); }

CI_OP_DEF(ArgMax, "ArgMax", 1, run_argmax);
CI_OP_DEF(ArgMin, "ArgMin", 1, run_argmin);
CI_OP_DEF(ReduceL1, "ReduceL1", 1, run_l1);
CI_OP_DEF(ReduceL2, "ReduceL2", 1, run_l2);
CI_OP_DEF(ReduceLogSum, "ReduceLogSum", 1, run_logsum);
CI_OP_DEF(ReduceLogSumExp, "ReduceLogSumExp", 1, run_logsumexp);
CI_OP_DEF(ReduceMax, "ReduceMax", 1, run_max);
CI_OP_DEF(ReduceMean, "ReduceMean", 1, run_mean);
CI_OP_DEF(ReduceMin, "ReduceMin", 1, run_min);
CI_OP_DEF(ReduceProd, "ReduceProd", 1, run_prod);
CI_OP_DEF(ReduceSum, "ReduceSum", 1, run_sum);
CI_OP_DEF(ReduceSumSquare, "ReduceSumSquare", 1, run_sumsq);
