/*
 * MatMul (numpy semantics, batched with broadcasting) and Gemm.
 *
 * A constant float B (a 2-D initializer: the weights) is packed once at
 * load by the prepare hooks into the SGEMM's panel layout (sgemm.h) and
 * kept as the node's state; every run multiplies against the packed copy,
 * on the model's threads, with Gemm's C fused as a bias where it is a row
 * or a column. MatMul of [..., m, k] by a 2-D B is one GEMM of all the
 * leading rows.
 */
#include <string.h>

#include "runtime/rt.h"
#include "runtime/ops/ops.h"
#include "runtime/sgemm.h"

/* What the prepare hooks keep: op(B) packed, and the shape it came from. */
struct mm_state {
	struct ci_sgemm_packed *pb;
	int64_t bdims[2];	/* of the B tensor as stored */
	int tb;
	float *bias;		/* Gemm: beta * C when C is a constant row, else NULL */
	size_t n_bias;
};

static void
mm_state_free(void *p)
{
	struct mm_state *st = p;

	if (st == NULL)
		return;
	ci_sgemm_packed_free(st->pb);
	ci_free(st->bias);
	ci_free(st);
}

/* Packs input 1 (B, float, 2-D, constant) as op(B) for later runs. */
static int
prepare_b(struct ci_kctx *k, int tb, struct mm_state **out, struct cinfer_err *e)
{
	const struct ci_tensor *b = ci_in(k, 1);
	struct mm_state *st;

	*out = NULL;
	if (!ci_in_const(k, 1) || b->dtype != CI_DT_FLOAT || b->ndim != 2 || b->count == 0)
		return 0;
	st = ci_calloc(1, sizeof(*st));
	if (st == NULL)
		return ci_fail(e, CINFER_E_NOMEM, CI_STAGE_OP, "packing weights");
	st->bdims[0] = b->dims[0];
	st->bdims[1] = b->dims[1];
	st->tb = tb;
	st->pb = ci_sgemm_pack(CI_SGEMM_B, tb, (size_t)b->dims[0], (size_t)b->dims[1], b->data,
	    (size_t)b->dims[1]);
	if (st->pb == NULL) {
		ci_free(st);
		return ci_fail(e, CINFER_E_NOMEM, CI_STAGE_OP, "packing weights");
	}
	*out = st;
	return 0;
}

/* The packed B for this run, if prepare made one for this very tensor. */
static const struct mm_state *
packed_b(const struct ci_kctx *k, const struct ci_tensor *b, int tb)
{
	const struct mm_state *st = ci_state_get(k);

	if (st == NULL || !ci_in_const(k, 1) || b->ndim != 2 || b->dims[0] != st->bdims[0] ||
	    b->dims[1] != st->bdims[1] || tb != st->tb || st->pb == NULL)
		return NULL;
	return st;
}

static int
prepare_matmul(struct ci_kctx *k, struct cinfer_err *e)
{
	struct mm_state *st;

	if (ci_in(k, 0) != NULL && ci_in(k, 0)->dtype != CI_DT_FLOAT)
		return 0;
	if (prepare_b(k, 0, &st, e) != 0)
		return -1;
	if (st) {
		ci_state_set(k, st, mm_state_free);
		ci_const_drop(k, 1);	/* runs read the packed copy only */
	}
	return 0;
}

/* Batched float MatMul of small matrices: one whole product per item. */
struct mm_batch {
	const struct ci_tensor *a, *b;
	float *y;
	int nb;
	const int64_t *bd;
	size_t m, n, kk;
};

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

static void
mm_batch_part(void *arg, size_t lo, size_t hi)
{
	const struct mm_batch *w = arg;

	for (size_t bi = lo; bi < hi; bi++) {
		const float *pa = (const float *)w->a->data + batch_off(w->a, w->nb, w->bd, bi) *
		    w->m * w->kk;
		const float *pb = (const float *)w->b->data + batch_off(w->b, w->nb, w->bd, bi) *
		    w->kk * w->n;
		ci_sgemm_ex(NULL, 0, 0, w->m, w->n, w->kk, 1.0f, pa, w->kk, NULL, pb, w->n, NULL,
		    0.0f, w->y + bi * w->m * w->n, w->n, NULL);
	}
}

/*
 * The float MatMul with B 1-D or 2-D (packed or not): every leading row of
 * A in one GEMM. y gets m_all x n.
 */
static void
matmul_flat(struct ci_kctx *k, const struct ci_tensor *a, const struct ci_tensor *b,
    size_t kk, size_t n, struct ci_tensor *y)
{
	const struct mm_state *st = packed_b(k, b, 0);
	size_t m_all = y->count / n;	/* y->count != 0, so n != 0 */

	ci_sgemm_ex(k, 0, 0, m_all, n, kk, 1.0f, a->data, kk, NULL, st ? NULL : b->data, n,
	    st ? st->pb : NULL, 0.0f, y->data, n, NULL);
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
	if (a->dtype == CI_DT_FLOAT && b->ndim <= 2) {
		if (y->count != 0)
			matmul_flat(k, a, b, kk, n, y);
		return 0;
	}
	if (ci_broadcast(a->ndim > 2 ? a->ndim - 2 : 0, a->dims, b->ndim > 2 ? b->ndim - 2 : 0,
	    b->dims, &nb, bd) != 0)
		return ci_op_fail(k, e, "batch");
	for (int j = 0; j < nb; j++)
		batches *= (size_t)bd[j];
	es = ci_dt_size(a->dtype);
	if (a->dtype == CI_DT_FLOAT && y->count != 0) {
		/* attention-sized products: whole matrices per thread */
		struct mm_batch w = { .a = a, .b = b, .y = y->data, .nb = nb, .bd = bd, .m = m,
			.n = n, .kk = kk };
		size_t per = m * n * (kk ? kk : 1);
		size_t grain = per >= ((size_t)1 << 19) ? 1 : ((size_t)1 << 19) / (per ? per : 1);
		if (per >= ((size_t)1 << 22)) {
			/* big enough to split each product instead */
			for (size_t bi = 0; bi < batches; bi++)
				ci_sgemm_ex(k, 0, 0, m, n, kk, 1.0f, (const float *)a->data +
				    batch_off(a, nb, bd, bi) * m * kk, kk, NULL, (const float *)b->data +
				    batch_off(b, nb, bd, bi) * kk * n, n, NULL, 0.0f,
				    (float *)y->data + bi * m * n, n, NULL);
		} else {
			ci_parallel(k, batches, grain, mm_batch_part, &w);
		}
		return 0;
	}
	for (size_t bi = 0; bi < batches; bi++) {
		const uint8_t *pa = (const uint8_t *)a->data + batch_off(a, nb, bd, bi) * m * kk * es;
		const uint8_t *pb = (const uint8_t *)b->data + batch_off(b, nb, bd, bi) * kk * n * es;
		uint8_t *pc = (uint8_t *)y->data + bi * m * n * es;
		if (a->dtype == CI_DT_DOUBLE)
			matmul_f64(m, n, kk, (const double *)pa, (const double *)pb, (double *)pc);
		else
			matmul_i64(a->dtype, m, n, kk, pa, pb, pc);
	}
	return 0;
}

static int
prepare_gemm(struct ci_kctx *k, struct cinfer_err *e)
{
	const struct ci_tensor *c = ci_in(k, 2);
	int tb = (int)ci_attr_i(k->node, "transB", 0);
	float beta = ci_attr_f(k->node, "beta", 1.0f);
	struct mm_state *st;

	if (ci_in(k, 0) != NULL && ci_in(k, 0)->dtype != CI_DT_FLOAT)
		return 0;
	if (prepare_b(k, tb != 0, &st, e) != 0)
		return -1;
	if (st == NULL)
		return 0;
	/* a constant C that is one row [N] or [1, N]: beta * C as a column bias */
	if (ci_in_const(k, 2) && c->dtype == CI_DT_FLOAT && beta != 0.0f && c->count > 1 &&
	    (c->ndim == 1 || (c->ndim == 2 && c->dims[0] == 1))) {
		const float *cv = c->data;
		st->bias = ci_alloc(c->count * sizeof(float));
		if (st->bias == NULL) {
			mm_state_free(st);
			return ci_fail(e, CINFER_E_NOMEM, CI_STAGE_OP, "Gemm bias");
		}
		for (size_t j = 0; j < c->count; j++)
			st->bias[j] = beta * cv[j];
		st->n_bias = c->count;
	}
	ci_state_set(k, st, mm_state_free);
	ci_const_drop(k, 1);	/* runs read the packed copy only */
	return 0;
}

static int
run_gemm(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *a = ci_in(k, 0), *b = ci_in(k, 1), *c = ci_in(k, 2), *y;
	int ta = (int)ci_attr_i(k->node, "transA", 0), tb = (int)ci_attr_i(k->node, "transB", 0);
	float alpha = ci_attr_f(k->node, "alpha", 1.0f), beta = ci_attr_f(k->node, "beta", 1.0f);
	const struct mm_state *st;
	struct ci_gemm_epi epi = { 0 };
	float gbeta = 0.0f;
	size_t m, n, kk;
	int64_t dims[2];

	if (a == NULL || b == NULL)
		return ci_op_fail(k, e, "missing input");
	if (a->dtype != CI_DT_FLOAT || b->dtype != CI_DT_FLOAT || (c && c->dtype != CI_DT_FLOAT))
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "Gemm: only float");
	if (a->ndim != 2 || b->ndim != 2)
		return ci_op_fail(k, e, "A and B must be matrices");
	ta = ta != 0;
	tb = tb != 0;
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
	if (y->count == 0)
		return 0;
	st = packed_b(k, b, tb);
	if (c && beta != 0.0f) {
		int row = c->ndim == 1 || (c->ndim == 2 && c->dims[0] == 1);
		int col = c->ndim == 2 && c->dims[1] == 1 && c->dims[0] != 1;

		if (st && st->bias && row && st->n_bias == n) {
			epi.bias = st->bias;
		} else if ((row && c->count == n) || (col && c->count == m)) {
			/* beta * C as a bias per column (one row) or per row (one column) */
			if (beta == 1.0f) {
				epi.bias = c->data;
			} else {
				const float *cv = c->data;
				float *bs = ci_scratch(k, c->count * sizeof(float), e);
				if (bs == NULL)
					return -1;
				for (size_t j = 0; j < c->count; j++)
					bs[j] = beta * cv[j];
				epi.bias = bs;
			}
			epi.bias_per_row = col;
		} else {
			const float *cv = c->data;
			float *yv = y->data;
			size_t sm = c->ndim == 2 && c->dims[0] != 1 ? 1 : 0;
			size_t sn = c->ndim >= 1 && c->dims[c->ndim - 1] != 1 ? 1 : 0;
			size_t ldc = c->ndim >= 1 ? (size_t)c->dims[c->ndim - 1] : 1;
			for (size_t i = 0; i < m; i++)
				for (size_t j = 0; j < n; j++)
					yv[i * n + j] = beta * cv[i * sm * ldc + j * sn];
			gbeta = 1.0f;
		}
	}
	ci_sgemm_ex(k, ta, tb, m, n, kk, alpha, a->data, (size_t)a->dims[1], NULL,
	    st ? NULL : b->data, (size_t)b->dims[1], st ? st->pb : NULL, gbeta, y->data, n, &epi);
	return 0;
}

/*
 * com.cinfer FusedMatMul(A, W, bias), made by pass_gemm.c: MatMul(A, W) +
 * bias[n] with an activation ("" | "Relu" | "Gelu", exact erf GELU) fused
 * into the GEMM's epilogue. W is 2-D [k, n]; A is [..., k].
 */
static int
fused_act(struct ci_kctx *k, enum ci_act *act, struct cinfer_err *e)
{
	const char *s = ci_attr_s(k->node, "activation", "");

	for (size_t i = 0; i < k->node->n_attrs; i++)
		if (strcmp(k->node->attrs[i].name, "activation") != 0)	/* public */
			return ci_op_fail(k, e, "unknown attribute %.64s", k->node->attrs[i].name);
	if (ci_node_attr(k->node, "activation") != NULL &&
	    ci_node_attr(k->node, "activation")->type != CI_AT_STRING)
		return ci_op_fail(k, e, "activation must be a string");
	if (strcmp(s, "") == 0)	/* public */
		*act = CI_ACT_NONE;
	else if (strcmp(s, "Relu") == 0)	/* public */
		*act = CI_ACT_RELU;
	else if (strcmp(s, "Gelu") == 0)	/* public */
		*act = CI_ACT_GELU;
	else
		return ci_op_fail(k, e, "activation %.32s not supported", s);
	if (k->n_in != 3 || k->n_out != 1)
		return ci_op_fail(k, e, "takes 3 inputs (A, W, bias) and 1 output");
	return 0;
}

static int
prepare_fused(struct ci_kctx *k, struct cinfer_err *e)
{
	struct mm_state *st;
	enum ci_act act;

	if (fused_act(k, &act, e) != 0)
		return -1;
	if (prepare_b(k, 0, &st, e) != 0)
		return -1;
	if (st) {
		ci_state_set(k, st, mm_state_free);
		ci_const_drop(k, 1);	/* runs read the packed copy only */
	}
	return 0;
}

static int
run_fused(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *a = ci_in(k, 0), *w = ci_in(k, 1), *bias = ci_in(k, 2);
	struct ci_gemm_epi epi = { 0 };
	const struct mm_state *st;
	int nd;
	int64_t dims[CI_RT_MAX_DIMS];
	size_t m, n, kk;

	if (fused_act(k, &epi.act, e) != 0)
		return -1;
	if (a == NULL || w == NULL || bias == NULL)
		return ci_op_fail(k, e, "missing input");
	if (a->dtype != CI_DT_FLOAT || w->dtype != CI_DT_FLOAT || bias->dtype != CI_DT_FLOAT)
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "FusedMatMul: only float");
	if (w->ndim != 2 || a->ndim < 1)
		return ci_op_fail(k, e, "W must be a matrix, A at least a vector");
	if (ci_matmul_shape(k, a, w, &nd, dims, &m, &n, &kk, e) != 0)
		return -1;
	if (bias->ndim != 1 || (size_t)bias->dims[0] != n)
		return ci_op_fail(k, e, "bias must be [%zu]", n);
	if (ci_out(k, 0, CI_DT_FLOAT, nd, dims, e) != 0)
		return -1;
	if (k->out[0]->count == 0)
		return 0;
	st = packed_b(k, w, 0);
	epi.bias = bias->data;
	ci_sgemm_ex(k, 0, 0, k->out[0]->count / n, n, kk, 1.0f, a->data, kk, NULL,
	    st ? NULL : w->data, n, st ? st->pb : NULL, 0.0f, k->out[0]->data, n, &epi);
	return 0;
}

CI_OP_DEF_PREP(Gemm, "Gemm", 1, run_gemm, prepare_gemm);
CI_OP_DEF_INTERNAL(FusedMatMul, "FusedMatMul", run_fused, prepare_fused);
CI_OP_DEF_PREP(MatMul, "MatMul", 1, run_matmul, prepare_matmul);
