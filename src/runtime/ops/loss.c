/*
 * Loss functions that the ONNX test suite runs in inference graphs:
 * NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (reductions none,
 * sum, mean; class weights; ignore_index). Computed in double.
 */
#include <math.h>
#include <string.h>

#include "runtime/rt.h"
#include "runtime/ops/ops.h"

enum { RED_NONE, RED_SUM, RED_MEAN };

static void
store(struct ci_tensor *t, size_t i, double v)
{
	if (t->dtype == CI_DT_FLOAT)
		((float *)t->data)[i] = (float)v;
	else
		((double *)t->data)[i] = v;
}

/*
 * lp: log-probabilities [N, C, D] (flattened D), as double via getter.
 * Writes the loss into output 0 by the reduction.
 */
static int
nll(struct ci_kctx *k, const struct ci_tensor *in, const double *lp, const struct ci_tensor *tg,
    const struct ci_tensor *w, struct cinfer_err *e)
{
	const char *rs = ci_attr_s(k->node, "reduction", "mean");
	const struct ci_attr *iia = ci_node_attr(k->node, "ignore_index");
	int red, has_ii = iia != NULL && iia->type == CI_AT_INT;
	int64_t ii = has_ii ? iia->i : 0, dims[CI_RT_MAX_DIMS];
	size_t n = (size_t)in->dims[0], c = (size_t)in->dims[1], dsz = 1;
	double sum = 0, wsum = 0;

	if (strcmp(rs, "none") == 0)	/* public */
		red = RED_NONE;
	else if (strcmp(rs, "sum") == 0)	/* public */
		red = RED_SUM;
	else if (strcmp(rs, "mean") == 0)	/* public */
		red = RED_MEAN;
	else
		return ci_op_fail(k, e, "reduction %s", rs);
	for (int d = 2; d < in->ndim; d++)
		dsz *= (size_t)in->dims[d];
	if ((tg->dtype != CI_DT_INT64 && tg->dtype != CI_DT_INT32) || tg->ndim != in->ndim - 1 ||
	    tg->dims[0] != in->dims[0])
		return ci_op_fail(k, e, "target shape or type");
	for (int d = 1; d < tg->ndim; d++)
		if (tg->dims[d] != in->dims[d + 1])
			return ci_op_fail(k, e, "target shape");
	if (w && (w->count != c || w->dtype != in->dtype))
		return ci_op_fail(k, e, "weight shape");
	if (red == RED_NONE) {
		if (ci_out(k, 0, in->dtype, tg->ndim, tg->dims, e) != 0)
			return -1;
	} else if (ci_out(k, 0, in->dtype, 0, dims, e) != 0) {
		return -1;
	}
	for (size_t b = 0; b < n; b++)
		for (size_t i = 0; i < dsz; i++) {
			int64_t t = ci_tensor_i64(tg, b * dsz + i);
			double l = 0, wt = 0;
			if (!(has_ii && t == ii)) {
				if (t < 0 || (size_t)t >= c)
					return ci_op_fail(k, e, "target %lld out of range", (long long)t);
				wt = w ? ci_tensor_f64(w, (size_t)t) : 1.0;
				l = -lp[(b * c + (size_t)t) * dsz + i] * wt;
			}
			if (red == RED_NONE)
				store(k->out[0], b * dsz + i, l);
			sum += l;
			wsum += wt;
		}
	if (red == RED_SUM)
		store(k->out[0], 0, sum);
	else if (red == RED_MEAN)
		store(k->out[0], 0, sum / wsum);
	return 0;
}

static int
check_in(struct ci_kctx *k, const struct ci_tensor *in, const struct ci_tensor *tg,
    struct cinfer_err *e)
{
	if (in == NULL || tg == NULL)
		return ci_op_fail(k, e, "missing input");
	if (in->dtype != CI_DT_FLOAT && in->dtype != CI_DT_DOUBLE)
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "%s: type", k->node->op_type);
	if (in->ndim < 2)
		return ci_op_fail(k, e, "input rank");
	return 0;
}

static int
run_nll(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *in = ci_in(k, 0), *tg = ci_in(k, 1);
	double *lp;

	if (check_in(k, in, tg, e) != 0)
		return -1;
	lp = ci_scratch(k, (in->count + 1) * sizeof(double), e);
	if (lp == NULL)
		return -1;
	for (size_t i = 0; i < in->count; i++)
		lp[i] = ci_tensor_f64(in, i);
	return nll(k, in, lp, tg, ci_in(k, 2), e);
}

static int
run_sce(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *in = ci_in(k, 0), *tg = ci_in(k, 1);
	double *lp;
	size_t n, c, dsz = 1;

	if (check_in(k, in, tg, e) != 0)
		return -1;
	n = (size_t)in->dims[0];
	c = (size_t)in->dims[1];
	for (int d = 2; d < in->ndim; d++)
		dsz *= (size_t)in->dims[d];
	lp = ci_scratch(k, (in->count + 1) * sizeof(double), e);
	if (lp == NULL)
		return -1;
	for (size_t b = 0; b < n; b++)
		for (size_t i = 0; i < dsz; i++) {
			double mx = -INFINITY, s = 0;
			for (size_t j = 0; j < c; j++) {
				double v = ci_tensor_f64(in, (b * c + j) * dsz + i);
				mx = v > mx ? v : mx;
			}
			for (size_t j = 0; j < c; j++)
				s += exp(ci_tensor_f64(in, (b * c + j) * dsz + i) - mx);
			for (size_t j = 0; j < c; j++)
				lp[(b * c + j) * dsz + i] = ci_tensor_f64(in, (b * c + j) * dsz + i) - mx - log(s);
		}
	if (nll(k, in, lp, tg, ci_in(k, 2), e) != 0)
		return -1;
	if (k->n_out > 1 && k->out[1]) {
		if (ci_out_like(k, 1, in->dtype, in, e) != 0)
			return -1;
		for (size_t i = 0; i < in->count; i++)
			store(k->out[1], i, lp[i]);
	}
	return 0;
}

CI_OP_DEF(NegativeLogLikelihoodLoss, "NegativeLogLikelihoodLoss", 12, run_nll);
CI_OP_DEF(SoftmaxCrossEntropyLoss, "SoftmaxCrossEntropyLoss", 12, run_sce);
