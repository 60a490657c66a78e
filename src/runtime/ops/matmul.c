/* MatMul (numpy semantics, batched with broadcasting) and Gemm. */
#include <string.h>

#include "runtime/rt.h"
#include "runtime/ops/ops.h"

static void
matmul_f64(size_t m, size_t n, size_t k, const double *a, const double *b, double *c)
{
	for (size_t i = 0; i < m; i++)
		for (size_t j = 0; j < n; j++) {
			double s = 0;
			for (size_t p = 0; p < k; p++)
				s += a[i * k + p] * b[p * n + j];
			c[i * n + j] = s;
		}
}

static void
matmul_i64(int dt, size_t m, size_t n, size_t k, const void *a, const void *b, void *c)
{
	for (size_t i = 0; i < m; i++)
		for (size_t j = 0; j < n; j++) {
			int64_t s = 0;
			for (size_t p = 0; p < k; p++) {
				if (dt == CI_DT_INT32)
					s += (int64_t)((const int32_t *)a)[i * k + p] *
					    ((const int32_t *)b)[p * n + j];
				else if (dt == CI_DT_INT64)
					s += ((const int64_t *)a)[i * k + p] * ((const int64_t *)b)[p * n + j];
				else
					s += (int64_t)((const uint32_t *)a)[i * k + p] *
					    ((const uint32_t *)b)[p * n + j];
			}
			if (dt == CI_DT_INT64)
				((int64_t *)c)[i * n + j] = s;
			else
				((int32_t *)c)[i * n + j] = (int32_t)s;
		}
}

int
ci_matmul_shape(struct ci_kctx *k, const struct ci_tensor *a, const struct ci_tensor *b,
    int *nd, int64_t *dims, size_t *m, size_t *n, size_t *kk, struct cinfer_err *e)
{
	int ra = a->ndim, rb = b->ndim, nb;
	int64_t bd[CI_RT_MAX_DIMS];

	if (ra < 1 || rb < 1)
		return ci_op_fail(k, e, "scalar operand");
	*m = ra >= 2 ? (size_t)a->dims[ra - 2] : 1;
	*kk = (size_t)a->dims[ra - 1];
	if ((size_t)(rb >= 2 ? b->dims[rb - 2] : b->dims[0]) != *kk)
		return ci_op_fail(k, e, "inner dimensions differ");
	*n = rb >= 2 ? (size_t)b->dims[rb - 1] : 1;
	if (ci_broadcast(ra > 2 ? ra - 2 : 0, a->dims, rb > 2 ? rb - 2 : 0, b->dims, &nb, bd) != 0)
		return ci_op_fail(k, e, "batch dimensions do not broadcast");
	memcpy(dims, bd, sizeof(int64_t) * (size_t)nb);
	*nd = nb;
	if (ra >= 2)
		dims[(*nd)++] = (int64_t)*m;
	if (rb >= 2)
		dims[(*nd)++] = (int64_t)*n;
	return 0;
}

/* Offset (in matrices) of batch index bi of an operand with rank r. */
static size_t
batch_off(const struct ci_tensor *t, int nb, const int64_t *bd, size_t bi)
{
	int r = t->ndim > 2 ? t->ndim - 2 : 0;
	size_t off = 0, stride = 1;

	for (int j = nb - 1; j >= 0; j--) {
		size_t idx = bi % (size_t)bd[j];
		int tj = j - (nb - r);
		bi /= (size_t)bd[j];
		if (tj >= 0) {
			if (t->dims[tj] != 1)
				off += idx * stride;
			stride *= (size_t)t->dims[tj];
		}
	}
	return off;
}

static int
run_matmul(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *a = ci_in(k, 0), *b = ci_in(k, 1), *y;
	int nd, nb;
	int64_t dims[CI_RT_MAX_DIMS], bd[CI_RT_MAX_DIMS];
	size_t m, n, kk, batches = 1, es;

	if (a == NULL || b == NULL)
		return ci_op_fail(k, e, "missing input");
	if (a->dtype != b->dtype)
		return ci_op_fail(k, e, "mixed types");
	switch (a->dtype) {
	case CI_DT_FLOAT: case CI_DT_DOUBLE: case CI_DT_INT32: case CI_DT_INT64:
	case CI_DT_UINT32:
		break;
	default:
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "MatMul: type %s",
		    ci_dt_name(a->dtype));
	}
	if (ci_matmul_shape(k, a, b, &nd, dims, &m, &n, &kk, e) != 0)
		return -1;
	if (ci_out(k, 0, a->dtype, nd, dims, e) != 0)
		return -1;
	y = k->out[0];
	if (ci_broadcast(a->ndim > 2 ? a->ndim - 2 : 0, a->dims, b->ndim > 2 ? b->ndim - 2 : 0,
	    b->dims, &nb, bd) != 0)
		return ci_op_fail(k, e, "batch");
	for (int j = 0; j < nb; j++)
		batches *= (size_t)bd[j];
	es = ci_dt_size(a->dtype);
	for (size_t bi = 0; bi < batches; bi++) {
		const uint8_t *pa = (const uint8_t *)a->data + batch_off(a, nb, bd, bi) * m * kk * es;
		const uint8_t *pb = (const uint8_t *)b->data + batch_off(b, nb, bd, bi) * kk * n * es;
		uint8_t *pc = (uint8_t *)y->data + bi * m * n * es;
		if (a->dtype == CI_DT_FLOAT)
			ci_sgemm(0, 0, m, n, kk, 1.0f, (const float *)pa, kk, (const float *)pb, n, 0.0f,
			    (float *)pc, n);
		else if (a->dtype == CI_DT_DOUBLE)
			matmul_f64(m, n, kk, (const double *)pa, (const double *)pb, (double *)pc);
		else
			matmul_i64(a->dtype, m, n, kk, pa, pb, pc);
	}
	return 0;
}

static int
run_gemm(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *a = ci_in(k, 0), *b = ci_in(k, 1), *c = ci_in(k, 2), *y;
	int ta = (int)ci_attr_i(k->node, "transA", 0), tb = (int)ci_attr_i(k->node, "transB", 0);
	float alpha = ci_attr_f(k->node, "alpha", 1.0f), beta = ci_attr_f(k->node, "beta", 1.0f);
	size_t m, n, kk;
	int64_t dims[2];

	if (a == NULL || b == NULL)
		return ci_op_fail(k, e, "missing input");
	if (a->dtype != CI_DT_FLOAT || b->dtype != CI_DT_FLOAT || (c && c->dtype != CI_DT_FLOAT))
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "Gemm: only float");
	if (a->ndim != 2 || b->ndim != 2)
		return ci_op_fail(k, e, "A and B must be matrices");
	m = (size_t)(ta ? a->dims[1] : a->dims[0]);
	kk = (size_t)(ta ? a->dims[0] : a->dims[1]);
	n = (size_t)(tb ? b->dims[0] : b->dims[1]);
	if ((size_t)(tb ? b->dims[1] : b->dims[0]) != kk)
		return ci_op_fail(k, e, "inner dimensions differ");
	dims[0] = (int64_t)m;
	dims[1] = (int64_t)n;
	if (c) {
		int nd;
		int64_t bd[CI_RT_MAX_DIMS];
		if (c->ndim > 2 || ci_broadcast(2, dims, c->ndim, c->dims, &nd, bd) != 0 ||
		    bd[0] != dims[0] || bd[1] != dims[1])
			return ci_op_fail(k, e, "C does not broadcast to (M, N)");
	}
	if (ci_out(k, 0, CI_DT_FLOAT, 2, dims, e) != 0)
		return -1;
	y = k->out[0];
	if (c && beta != 0.0f) {
		const float *cv = c->data;
		float *yv = y->data;
		size_t sm = c->ndim == 2 && c->dims[0] != 1 ? 1 : 0;
		size_t sn = c->ndim >= 1 && c->dims[c->ndim - 1] != 1 ? 1 : 0;
		size_t ldc = c->ndim >= 1 ? (size_t)c->dims[c->ndim - 1] : 1;
		for (size_t i = 0; i < m; i++)
			for (size_t j = 0; j < n; j++)
				yv[i * n + j] = beta * cv[i * sm * ldc + j * sn];
		ci_sgemm(ta, tb, m, n, kk, alpha, a->data, (size_t)a->dims[1], b->data,
		    (size_t)b->dims[1], 1.0f, y->data, n);
	} else {
		ci_sgemm(ta, tb, m, n, kk, alpha, a->data, (size_t)a->dims[1], b->data,
		    (size_t)b->dims[1], 0.0f, y->data, n);
	}
	return 0;
}

CI_OP_DEF(Gemm, "Gemm", 1, run_gemm);
CI_OP_DEF(MatMul, "MatMul", 1, run_matmul);
