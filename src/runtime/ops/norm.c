/*
 * Normalizations and softmax family: Softmax, LogSoftmax, Hardmax,
 * BatchNormalization (inference), InstanceNormalization,
 * LayerNormalization, LRN, MeanVarianceNormalization.
 */
#include <math.h>
#include <string.h>

#include "runtime/rt.h"
#include "runtime/ops/ops.h"
#include "runtime/vmath.h"

/* Rows per thread chunk: about 16K elements. */
static size_t
row_grain(size_t n)
{
	return n >= 16384 ? 1 : 16384 / n;
}

struct smx_job {
	const float *x;
	float *y;
	size_t n;
	float scale;
};

static void
smx_rows(void *arg, size_t lo, size_t hi)
{
	const struct smx_job *j = arg;

	for (size_t r = lo; r < hi; r++)
		ci_softmax_row(j->x + r * j->n, j->y + r * j->n, j->n, j->scale);
}

static int
need_float(struct ci_kctx *k, size_t n, struct cinfer_err *e)
{
	for (size_t i = 0; i < n; i++) {
		if (ci_in(k, i) == NULL)
			return ci_op_fail(k, e, "input %zu missing", i);
		if (k->in[i]->dtype != CI_DT_FLOAT)
			return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "%s: type %s",
			    k->node->op_type, ci_dt_name(k->in[i]->dtype));
	}
	if (k->out[0] == NULL)
		return ci_op_fail(k, e, "output missing");
	return 0;
}

enum smx { SM_SOFT, SM_LOG, SM_HARD };

static int
softmax(struct ci_kctx *k, enum smx kind, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0);
	int ax;
	size_t outer = 1, n = 1, inner = 1;
	const float *a;
	float *b;

	if (need_float(k, 1, e) != 0)
		return -1;
	ax = ci_axis(ci_attr_i(k->node, "axis", k->opset < 13 ? 1 : -1), x->ndim ? x->ndim : 1);
	if (ax < 0)
		return ci_op_fail(k, e, "axis");
	if (ci_out_like(k, 0, CI_DT_FLOAT, x, e) != 0)
		return -1;
	if (k->opset < 13) {
		/* coerced to 2-D: [prod(dims[:axis]), prod(dims[axis:])] */
		for (int d = 0; d < x->ndim; d++)
			if (d < ax)
				outer *= (size_t)x->dims[d];
			else
				n *= (size_t)x->dims[d];
	} else {
		for (int d = 0; d < x->ndim; d++)
			if (d < ax)
				outer *= (size_t)x->dims[d];
			else if (d == ax)
				n = (size_t)x->dims[d];
			else
				inner *= (size_t)x->dims[d];
	}
	a = x->data;
	b = k->out[0]->data;
	if (kind == SM_SOFT && inner == 1 && n > 0) {
		/* softmax over contiguous rows: the vector row kernel, threaded */
		struct smx_job j = { a, b, n, 1.0f };
		ci_parallel(k, outer, row_grain(n), smx_rows, &j);
		return 0;
	}
	for (size_t o = 0; o < outer; o++)
		for (size_t i = 0; i < inner; i++) {
			const float *p = a + o * n * inner + i;
			float *q = b + o * n * inner + i;
			float mx = -INFINITY;
			double sum = 0;
			size_t arg = 0;
			for (size_t j = 0; j < n; j++)
				if (p[j * inner] > mx) {
					mx = p[j * inner];
					arg = j;
				}
			if (kind == SM_HARD) {
				for (size_t j = 0; j < n; j++)
					q[j * inner] = j == arg ? 1.0f : 0.0f;
				continue;
			}
			for (size_t j = 0; j < n; j++) {
				float v = expf(p[j * inner] - mx);
				if (kind == SM_SOFT)
					q[j * inner] = v;
				sum += v;
			}
			if (kind == SM_SOFT) {
				float inv = (float)(1.0 / sum);
				for (size_t j = 0; j < n; j++)
					q[j * inner] *= inv;
			} else {
				float ls = (float)log(sum);
				for (size_t j = 0; j < n; j++)
					q[j * inner] = p[j * inner] - mx - ls;
			}
		}
	return 0;
}

static int run_softmax(struct ci_kctx *k, struct cinfer_err *e) { return softmax(k, SM_SOFT, e); }
static int run_logsoftmax(struct ci_kctx *k, struct cinfer_err *e) { return softmax(k, SM_LOG, e); }
static int run_hardmax(struct ci_kctx *k, struct cinfer_err *e) { return softmax(k, SM_HARD, e); }

static int
run_batchnorm(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0);
	float eps = ci_attr_f(k->node, "epsilon", 1e-5f);
	size_t c, sp = 1;

	if (ci_attr_i(k->node, "training_mode", 0) != 0 || k->n_out > 1)
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "BatchNormalization training mode");
	if (k->opset < 9 && ci_attr_i(k->node, "spatial", 1) == 0)
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "BatchNormalization spatial=0");
	if (need_float(k, 5, e) != 0)
		return -1;
	if (x->ndim < 2)
		return ci_op_fail(k, e, "rank < 2");
	c = (size_t)x->dims[1];
	for (size_t i = 1; i < 5; i++)
		if (k->in[i]->count != c)
			return ci_op_fail(k, e, "parameter %zu has %zu values, need %zu", i,
			    k->in[i]->count, c);
	for (int d = 2; d < x->ndim; d++)
		sp *= (size_t)x->dims[d];
	if (ci_out_like(k, 0, CI_DT_FLOAT, x, e) != 0)
		return -1;
	{
		const float *s = k->in[1]->data, *bi = k->in[2]->data, *mu = k->in[3]->data,
		    *var = k->in[4]->data, *a = x->data;
		float *y = k->out[0]->data;
		size_t n = (size_t)x->dims[0];
		for (size_t b = 0; b < n; b++)
			for (size_t ch = 0; ch < c; ch++) {
				float g = s[ch] / sqrtf(var[ch] + eps), h = bi[ch] - mu[ch] * g;
				const float *p = a + (b * c + ch) * sp;
				float *q = y + (b * c + ch) * sp;
				for (size_t i = 0; i < sp; i++)
					q[i] = p[i] * g + h;
			}
	}
	return 0;
}

static int
run_instancenorm(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0);
	float eps = ci_attr_f(k->node, "epsilon", 1e-5f);
	size_t c, sp = 1, n;

	if (need_float(k, 3, e) != 0)
		return -1;
	if (x->ndim < 2)
		return ci_op_fail(k, e, "rank < 2");
	c = (size_t)x->dims[1];
	n = (size_t)x->dims[0];
	if (k->in[1]->count != c || k->in[2]->count != c)
		return ci_op_fail(k, e, "scale/bias size");
	for (int d = 2; d < x->ndim; d++)
		sp *= (size_t)x->dims[d];
	if (ci_out_like(k, 0, CI_DT_FLOAT, x, e) != 0)
		return -1;
	for (size_t b = 0; b < n; b++)
		for (size_t ch = 0; ch < c; ch++) {
			const float *p = (const float *)x->data + (b * c + ch) * sp;
			float *q = (float *)k->out[0]->data + (b * c + ch) * sp;
			double mean = 0, var = 0;
			float g, h;
			for (size_t i = 0; i < sp; i++)
				mean += p[i];
			mean /= (double)(sp ? sp : 1);
			for (size_t i = 0; i < sp; i++)
				var += (p[i] - mean) * (p[i] - mean);
			var /= (double)(sp ? sp : 1);
			g = (float)(((const float *)k->in[1]->data)[ch] / sqrt(var + eps));
			h = ((const float *)k->in[2]->data)[ch] - (float)mean * g;
			for (size_t i = 0; i < sp; i++)
				q[i] = p[i] * g + h;
		}
	return 0;
}

/* Element i of a tensor broadcast (trailing-aligned) to a row of length n. */
static int
row_param(const struct ci_tensor *t, size_t n, const int64_t *dims, int nd)
{
	/* accepts a shape that numpy-broadcasts to dims (the normalized shape) */
	int off = nd - t->ndim;

	if (off < 0)
		return -1;
	for (int d = 0; d < t->ndim; d++)
		if (t->dims[d] != 1 && t->dims[d] != dims[off + d])
			return -1;
	(void)n;
	return 0;
}

static float
param_at(const struct ci_tensor *t, const int64_t *dims, int nd, size_t i)
{
	/* i is a flat index into the normalized shape */
	size_t src = 0, s = 1;
	int off = nd - t->ndim;

	for (int d = nd - 1; d >= 0; d--) {
		size_t idx = i % (size_t)dims[d];
		i /= (size_t)dims[d];
		if (d >= off) {
			int64_t td = t->dims[d - off];
			if (td != 1)
				src += idx * s;
			s *= (size_t)td;
		}
	}
	return ((const float *)t->data)[src];
}

struct ln_job {
	const float *x;
	float *y;
	size_t n;
	const float *w, *b;
	float eps;
	float *mean, *inv;	/* optional outputs, one per row */
};

static void
ln_rows(void *arg, size_t lo, size_t hi)
{
	const struct ln_job *j = arg;

	for (size_t r = lo; r < hi; r++) {
		float m, iv;
		ci_layernorm_row(j->x + r * j->n, j->y + r * j->n, j->n, j->w, j->b, j->eps, &m,
		    &iv);
		if (j->mean)
			j->mean[r] = m;
		if (j->inv)
			j->inv[r] = iv;
	}
}

static int
run_layernorm(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0), *sc = ci_in(k, 1), *bi = ci_in(k, 2);
	float eps = ci_attr_f(k->node, "epsilon", 1e-5f);
	int ax, nn;
	size_t outer = 1, n = 1;
	int64_t sdims[CI_RT_MAX_DIMS];
	float *w = NULL, *bb = NULL;

	if (need_float(k, 2, e) != 0 || (bi && bi->dtype != CI_DT_FLOAT))
		return -1;
	ax = ci_axis(ci_attr_i(k->node, "axis", -1), x->ndim);
	if (ax < 0)
		return ci_op_fail(k, e, "axis");
	for (int d = 0; d < x->ndim; d++)
		if (d < ax)
			outer *= (size_t)x->dims[d];
		else
			n *= (size_t)x->dims[d];
	nn = x->ndim - ax;
	memcpy(sdims, x->dims + ax, sizeof(int64_t) * (size_t)nn);
	if (row_param(sc, n, sdims, nn) != 0 || (bi && row_param(bi, n, sdims, nn) != 0))
		return ci_op_fail(k, e, "scale/bias do not broadcast to the normalized shape");
	if (ci_out_like(k, 0, CI_DT_FLOAT, x, e) != 0)
		return -1;
	{
		int64_t sd[CI_RT_MAX_DIMS];
		memcpy(sd, x->dims, sizeof(sd));
		for (int d = ax; d < x->ndim; d++)
			sd[d] = 1;
		if (k->n_out > 1 && ci_out(k, 1, CI_DT_FLOAT, x->ndim, sd, e) != 0)
			return -1;
		if (k->n_out > 2 && ci_out(k, 2, CI_DT_FLOAT, x->ndim, sd, e) != 0)
			return -1;
	}
	if (n == 0 || outer == 0)
		return 0;
	/* scale and bias of the full normalized shape are used in place */
	if (sc->count == n) {
		w = sc->data;
	} else {
		w = ci_scratch(k, n * sizeof(float), e);
		if (w == NULL)
			return -1;
		for (size_t i = 0; i < n; i++)
			w[i] = param_at(sc, sdims, nn, i);
	}
	if (bi && bi->count == n) {
		bb = bi->data;
	} else if (bi) {
		bb = ci_scratch(k, n * sizeof(float), e);
		if (bb == NULL)
			return -1;
		for (size_t i = 0; i < n; i++)
			bb[i] = param_at(bi, sdims, nn, i);
	}
	{
		struct ln_job j = { x->data, k->out[0]->data, n, w, bb, eps,
			k->n_out > 1 && k->out[1] ? k->out[1]->data : NULL,
			k->n_out > 2 && k->out[2] ? k->out[2]->data : NULL };
		ci_parallel(k, outer, row_grain(n), ln_rows, &j);
	}
	return 0;
}

static int
run_lrn(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0);
	float alpha = ci_attr_f(k->node, "alpha", 1e-4f), beta = ci_attr_f(k->node, "beta", 0.75f);
	float bias = ci_attr_f(k->node, "bias", 1.0f);
	int64_t size = ci_attr_i(k->node, "size", 0);
	size_t c, sp = 1;

	if (need_float(k, 1, e) != 0)
		return -1;
	if (x->ndim < 3 || size <= 0)
		return ci_op_fail(k, e, "rank or size");
	c = (size_t)x->dims[1];
	for (int d = 2; d < x->ndim; d++)
		sp *= (size_t)x->dims[d];
	if (ci_out_like(k, 0, CI_DT_FLOAT, x, e) != 0)
		return -1;
	for (int64_t b = 0; b < x->dims[0]; b++)
		for (size_t ch = 0; ch < c; ch++)
			for (size_t i = 0; i < sp; i++) {
				int64_t lo = (int64_t)ch - (size - 1) / 2, hi = (int64_t)ch + size / 2;
				double s = 0;
				const float *base = (const float *)x->data + (size_t)b * c * sp;
				for (int64_t j = lo < 0 ? 0 : lo; j <= hi && j < (int64_t)c; j++) {
					float v = base[(size_t)j * sp + i];
					s += (double)v * v;
				}
				((float *)k->out[0]->data)[((size_t)b * c + ch) * sp + i] =
				    (float)(base[ch * sp + i] / pow(bias + alpha / (double)size * s, beta));
			}
	return 0;
}

static int
run_mvn(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0);
	size_t na;
	const int64_t *axes = ci_attr_ints(k->node, "axes", &na);
	static const int64_t def[3] = { 0, 2, 3 };
	int mask[CI_RT_MAX_DIMS] = { 0 };
	int64_t idx[CI_RT_MAX_DIMS] = { 0 };
	size_t ost[CI_RT_MAX_DIMS], s = 1, groups, per;
	double *mean, *var;

	if (need_float(k, 1, e) != 0)
		return -1;
	if (axes == NULL) {
		axes = def;
		na = 3;
	}
	for (size_t i = 0; i < na; i++) {
		int a = ci_axis(axes[i], x->ndim);
		if (a < 0)
			return ci_op_fail(k, e, "axis");
		mask[a] = 1;
	}
	for (int d = x->ndim - 1; d >= 0; d--) {
		ost[d] = mask[d] ? 0 : s;
		if (!mask[d])
			s *= (size_t)x->dims[d];
	}
	groups = s;
	per = groups ? x->count / groups : 0;
	if (ci_out_like(k, 0, CI_DT_FLOAT, x, e) != 0)
		return -1;
	mean = ci_scratch(k, (groups + 1) * sizeof(double), e);
	var = ci_scratch(k, (groups + 1) * sizeof(double), e);
	if (mean == NULL || var == NULL)
		return -1;
	memset(mean, 0, groups * sizeof(double));
	memset(var, 0, groups * sizeof(double));
	for (int pass = 0; pass < 3; pass++) {
		memset(idx, 0, sizeof(idx));
		for (size_t i = 0; i < x->count; i++) {
			size_t o = 0;
			double v = ((const float *)x->data)[i];
			for (int d = 0; d < x->ndim; d++)
				o += ost[d] * (size_t)idx[d];
			if (pass == 0)
				mean[o] += v / (double)per;
			else if (pass == 1)
				var[o] += (v - mean[o]) * (v - mean[o]) / (double)per;
			else
				((float *)k->out[0]->data)[i] = (float)((v - mean[o]) / (sqrt(var[o]) + 1e-9));
			for (int d = x->ndim - 1; d >= 0; d--) {
				if (++idx[d] < x->dims[d])
					break;
				idx[d] = 0;
			}
		}
	}
	return 0;
}

CI_OP_DEF(BatchNormalization, "BatchNormalization", 6, run_batchnorm);
CI_OP_DEF(Hardmax, "Hardmax", 1, run_hardmax);
CI_OP_DEF(InstanceNormalization, "InstanceNormalization", 6, run_instancenorm);
CI_OP_DEF(LayerNormalization, "LayerNormalization", 17, run_layernorm);
CI_OP_DEF(LogSoftmax, "LogSoftmax", 1, run_logsoftmax);
CI_OP_DEF(LRN, "LRN", 1, run_lrn);
CI_OP_DEF(MeanVarianceNormalization, "MeanVarianceNormalization", 9, run_mvn);
CI_OP_DEF(Softmax, "Softmax", 1, run_softmax);
