/*
 * Graph pass: quantized MatMuls (see graph.h).
 *
 * 1. DynamicQuantizeLinear(x) -> MatMulInteger(x_q, W, x_zp[, W_zp])
 *    -> Cast(to float) -> Mul(., Mul(x_scale, W_scale)) [-> Add(., bias)]
 *    (the form ORT's dynamic quantizer writes; Mul(., x_scale) without a
 *    weight scale too) becomes com.cinfer DynQMatMul(x, W, W_scale, W_zp,
 *    bias), which computes the same operations in the same order, so the
 *    results are identical.
 * 2. MatMul(DequantizeLinear(QuantizeLinear(x, s, z), s, z),
 *    DequantizeLinear(W, W_scale, W_zp)) [-> Add(., bias)] becomes
 *    com.cinfer QDQMatMul(x, W, W_scale, W_zp, bias, s, z): an integer
 *    product scaled once, equal to the float MatMul of the dequantized
 *    values up to float rounding.
 * 3. What is left of DequantizeLinear with only constant inputs (weights
 *    outside those patterns) is folded into a float initializer at load.
 *
 * W, the scales, zero points and bias must be true constants; every fused
 * intermediate must have exactly one consumer and not be a graph output.
 */
#include <stdatomic.h>
#include <string.h>

#include "runtime/graph.h"
#include "runtime/pass_quant.h"

static _Atomic size_t n_dynq, n_qdq, n_folded;

void
ci_pass_quant_counts(size_t *dynq, size_t *qdq, size_t *folded)
{
	*dynq = atomic_load(&n_dynq);
	*qdq = atomic_load(&n_qdq);
	*folded = atomic_load(&n_folded);
}

static int
is_op(const struct ci_node *n, const char *op)
{
	return n->op_type && n->domain[0] == '\0' && strcmp(n->op_type, op) == 0;	/* public */
}

static int
has_in(const struct ci_node *n, size_t i)
{
	return i < n->n_in && n->inputs[i][0] != '\0';
}

static int
is_q8(int dt)
{
	return dt == CI_DT_UINT8 || dt == CI_DT_INT8;
}

/* The sole consumer of value v if it is op, else NULL. */
static struct ci_node *
next_op(struct ci_graph *g, struct ci_gindex *ix, const char *v, const char *op, long *idx)
{
	long c = ci_g_sole_consumer(ix, v);

	if (c < 0 || !is_op(&g->nodes[c], op))
		return NULL;
	*idx = c;
	return &g->nodes[c];
}

/* A constant float vector usable as a per-column parameter of n columns. */
static const struct ci_tensor *
col_param(struct ci_gindex *ix, const char *name, int dtype, size_t n, int allow_n)
{
	const struct ci_tensor *t = ci_g_const(ix, name);

	if (t == NULL || t->dtype != dtype || t->ndim > 1)
		return NULL;
	if (t->count != 1 && !(allow_n && t->count == n))
		return NULL;
	return t;
}

/* Turns node n into op of com.cinfer with exactly count inputs. */
static int
rewrite(struct ci_node *n, const char *op, const char *const *in, size_t count,
    struct cinfer_err *e)
{
	if (ci_g_set_op(n, CI_DOMAIN_CINFER, op, e) != 0)
		return -1;
	for (size_t i = 0; i < n->n_attrs; i++)
		ci_attr_clear(&n->attrs[i]);
	n->n_attrs = 0;
	for (size_t i = 0; i < count; i++)
		if (ci_g_set_input(n, i, in[i] ? in[i] : "", e) != 0)
			return -1;
	for (size_t i = count; i < n->n_in; i++) {
		ci_free(n->inputs[i]);
		n->inputs[i] = NULL;
	}
	if (n->n_in > count)
		n->n_in = count;
	return 0;
}

/* The optional Add(v, bias) after the product (bias a constant float [n]). */
static long
bias_add(struct ci_graph *g, struct ci_gindex *ix, const char *v, size_t n, const char **bias)
{
	long ai;
	struct ci_node *ad = next_op(g, ix, v, "Add", &ai);
	const char *other;
	const struct ci_tensor *b;

	if (ad == NULL || ad->n_in != 2 || ad->n_out != 1)
		return -1;
	other = strcmp(ad->inputs[0], v) == 0 ? ad->inputs[1] : ad->inputs[0];	/* public */
	b = ci_g_const(ix, other);
	if (b == NULL || b->dtype != CI_DT_FLOAT || b->ndim != 1 || b->count != n)
		return -1;
	*bias = other;
	return ai;
}

/* Pattern 1 from the DynamicQuantizeLinear node di. */
static int
fuse_dynq(struct ci_graph *g, struct ci_gindex *ix, size_t di, struct cinfer_err *e)
{
	struct ci_node *dq = &g->nodes[di], *mm, *cs, *mu, *ms = NULL, *last;
	long mi, ci, ui, si = -1, ai, li;
	const struct ci_tensor *w, *ws = NULL;
	const char *wz = NULL, *bias = NULL, *other, *in[5];
	size_t n;

	if (dq->n_in != 1 || dq->n_out != 3 || !dq->outputs[0][0] || !dq->outputs[1][0] ||
	    !dq->outputs[2][0])
		return 0;
	mm = next_op(g, ix, dq->outputs[0], "MatMulInteger", &mi);
	if (mm == NULL || mm->n_in < 3 || mm->n_out != 1 ||
	    strcmp(mm->inputs[0], dq->outputs[0]) != 0 ||	/* public */
	    strcmp(mm->inputs[2], dq->outputs[2]) != 0 ||	/* public */
	    ci_g_sole_consumer(ix, dq->outputs[2]) != mi)
		return 0;
	w = ci_g_const(ix, mm->inputs[1]);
	if (w == NULL || w->ndim != 2 || !is_q8(w->dtype))
		return 0;
	n = (size_t)w->dims[1];
	if (has_in(mm, 3)) {
		if (col_param(ix, mm->inputs[3], w->dtype, n, 1) == NULL)
			return 0;
		wz = mm->inputs[3];
	}
	cs = next_op(g, ix, mm->outputs[0], "Cast", &ci);
	if (cs == NULL || cs->n_out != 1 || ci_attr_i(cs, "to", 0) != CI_DT_FLOAT)
		return 0;
	mu = next_op(g, ix, cs->outputs[0], "Mul", &ui);
	if (mu == NULL || mu->n_in != 2 || mu->n_out != 1)
		return 0;
	other = strcmp(mu->inputs[0], cs->outputs[0]) == 0 ? mu->inputs[1] : mu->inputs[0];	/* public */
	if (strcmp(other, dq->outputs[1]) != 0) {	/* public */
		/* other = Mul(x_scale, W_scale) */
		const char *s2;
		si = ci_g_producer(ix, other);
		if (si < 0 || !is_op(&g->nodes[si], "Mul") || ci_g_sole_consumer(ix, other) != ui)
			return 0;
		ms = &g->nodes[si];
		if (ms->n_in != 2 || ms->n_out != 1)
			return 0;
		if (strcmp(ms->inputs[0], dq->outputs[1]) == 0)	/* public */
			s2 = ms->inputs[1];
		else if (strcmp(ms->inputs[1], dq->outputs[1]) == 0)	/* public */
			s2 = ms->inputs[0];
		else
			return 0;
		ws = col_param(ix, s2, CI_DT_FLOAT, n, 1);
		if (ws == NULL || ci_g_sole_consumer(ix, dq->outputs[1]) != si)
			return 0;
		in[2] = s2;
	} else {
		struct ci_tensor one = { 0 };
		const char *nm;
		if (ci_g_sole_consumer(ix, dq->outputs[1]) != ui)
			return 0;
		one.dtype = CI_DT_FLOAT;
		one.count = 1;
		one.data = ci_alloc(sizeof(float));
		if (one.data == NULL)
			return ci_fail(e, CINFER_E_NOMEM, "runtime.graph", "out of memory");
		*(float *)one.data = 1.0f;
		one.cap = sizeof(float);
		one.owned = 1;
		if (ci_g_add_const(g, "one", &one, &nm, e) != 0) {
			ci_free(one.data);
			return -1;
		}
		/* g->inits moved: w and ws are not used below */
		in[2] = nm;
	}
	li = ui;
	ai = bias_add(g, ix, mu->outputs[0], n, &bias);
	if (ai >= 0)
		li = ai;
	in[0] = dq->inputs[0];
	in[1] = mm->inputs[1];
	in[3] = wz;
	in[4] = bias;
	last = &g->nodes[li];
	{
		/* copies: rewrite frees the node's own input strings */
		char *cp[5] = { 0 };
		int rc = 0;
		for (int i = 0; i < 5 && rc == 0; i++)
			if (in[i] && (cp[i] = ci_strdup(in[i])) == NULL)
				rc = ci_fail(e, CINFER_E_NOMEM, "runtime.graph", "out of memory");
		if (rc == 0)
			rc = rewrite(last, "DynQMatMul", (const char *const *)cp, bias ? 5 : 4, e);
		for (int i = 0; i < 5; i++)
			ci_free(cp[i]);
		if (rc != 0)
			return -1;
	}
	ci_g_kill(g, di);
	ci_g_kill(g, (size_t)mi);
	ci_g_kill(g, (size_t)ci);
	if (si >= 0)
		ci_g_kill(g, (size_t)si);
	if (li != ui)
		ci_g_kill(g, (size_t)ui);
	atomic_fetch_add(&n_dynq, 1);
	return 0;
}

/* Whether the DequantizeLinear / QuantizeLinear node has no blocked
 * quantization and no output type other than its zero point's. */
static int
plain_q(const struct ci_node *n)
{
	return ci_attr_i(n, "block_size", 0) == 0 && ci_node_attr(n, "output_dtype") == NULL;
}

/* Two constant scalars named a and b hold the same bytes. */
static int
same_const(struct ci_gindex *ix, const char *a, const char *b)
{
	const struct ci_tensor *x, *y;

	if (strcmp(a, b) == 0)	/* public */
		return 1;
	x = ci_g_const(ix, a);
	y = ci_g_const(ix, b);
	return x && y && x->dtype == y->dtype && x->count == 1 && y->count == 1 &&
	    memcmp(x->data, y->data, ci_dt_size(x->dtype)) == 0;	/* public */
}

/* Pattern 2 from the MatMul node mi. */
static int
fuse_qdq(struct ci_graph *g, struct ci_gindex *ix, size_t mi, struct cinfer_err *e)
{
	struct ci_node *mm = &g->nodes[mi], *da, *qa, *dw;
	long dai, qai, dwi, ai, li = (long)mi;
	const struct ci_tensor *w, *xs, *ws;
	const char *bias = NULL, *in[7];
	size_t n;

	if (mm->n_in != 2 || mm->n_out != 1)
		return 0;
	dai = ci_g_producer(ix, mm->inputs[0]);
	dwi = ci_g_producer(ix, mm->inputs[1]);
	if (dai < 0 || dwi < 0 || dai == dwi || ci_g_sole_consumer(ix, mm->inputs[0]) != (long)mi ||
	    ci_g_sole_consumer(ix, mm->inputs[1]) != (long)mi)
		return 0;
	da = &g->nodes[dai];
	dw = &g->nodes[dwi];
	if (!is_op(da, "DequantizeLinear") || !is_op(dw, "DequantizeLinear") || !plain_q(da) ||
	    !plain_q(dw) || da->n_in < 2 || dw->n_in < 2)
		return 0;
	/* weights: constant 2-D q8, scale per tensor or per column (axis 1) */
	w = ci_g_const(ix, dw->inputs[0]);
	if (w == NULL || w->ndim != 2 || !is_q8(w->dtype))
		return 0;
	n = (size_t)w->dims[1];
	{
		int64_t ax = ci_attr_i(dw, "axis", 1);
		ws = col_param(ix, dw->inputs[1], CI_DT_FLOAT, n, ax == 1 || ax == -1);
		if (ws == NULL)
			return 0;
	}
	if (has_in(dw, 2) && col_param(ix, dw->inputs[2], w->dtype, n, ws->count == n) == NULL)
		return 0;
	/* activation: Q then DQ with the same constant scalar parameters */
	qai = ci_g_producer(ix, da->inputs[0]);
	if (qai < 0 || !is_op(&g->nodes[qai], "QuantizeLinear") ||
	    ci_g_sole_consumer(ix, da->inputs[0]) != dai)
		return 0;
	qa = &g->nodes[qai];
	if (!plain_q(qa) || qa->n_in < 2 || qa->n_out != 1)
		return 0;
	xs = col_param(ix, da->inputs[1], CI_DT_FLOAT, 1, 0);
	if (xs == NULL || !same_const(ix, qa->inputs[1], da->inputs[1]) ||
	    has_in(qa, 2) != has_in(da, 2))
		return 0;
	if (has_in(da, 2)) {
		const struct ci_tensor *xz = ci_g_const(ix, da->inputs[2]);
		if (xz == NULL || !is_q8(xz->dtype) || xz->count != 1 || xz->ndim > 1 ||
		    !same_const(ix, qa->inputs[2], da->inputs[2]))
			return 0;
	}
	ai = bias_add(g, ix, mm->outputs[0], n, &bias);
	if (ai >= 0)
		li = ai;
	in[0] = qa->inputs[0];
	in[1] = dw->inputs[0];
	in[2] = dw->inputs[1];
	in[3] = has_in(dw, 2) ? dw->inputs[2] : NULL;
	in[4] = bias;
	in[5] = da->inputs[1];
	in[6] = has_in(da, 2) ? da->inputs[2] : NULL;
	{
		char *cp[7] = { 0 };
		int rc = 0;
		for (int i = 0; i < 7 && rc == 0; i++)
			if (in[i] && (cp[i] = ci_strdup(in[i])) == NULL)
				rc = ci_fail(e, CINFER_E_NOMEM, "runtime.graph", "out of memory");
		if (rc == 0)
			rc = rewrite(&g->nodes[li], "QDQMatMul", (const char *const *)cp, 7, e);
		for (int i = 0; i < 7; i++)
			ci_free(cp[i]);
		if (rc != 0)
			return -1;
	}
	ci_g_kill(g, (size_t)qai);
	ci_g_kill(g, (size_t)dai);
	ci_g_kill(g, (size_t)dwi);
	if (li != (long)mi)
		ci_g_kill(g, mi);
	atomic_fetch_add(&n_qdq, 1);
	return 0;
}

/* Pattern 3: DequantizeLinear(const x, const scale[, const zp]) folded. */
static int
fold_dq(struct ci_graph *g, struct ci_gindex *ix, size_t di, struct cinfer_err *e)
{
	struct ci_node *dq = &g->nodes[di];
	const struct ci_tensor *x, *s, *z = NULL;
	struct ci_tensor t = { 0 };
	size_t inner = 1, axn = 1, size;
	const char *nm;
	char *out;
	int ax = 0;

	if (dq->n_in < 2 || dq->n_out != 1 || !plain_q(dq) || ci_g_uses(ix, dq->outputs[0]) >= CI_G_PINNED)
		return 0;
	x = ci_g_const(ix, dq->inputs[0]);
	s = ci_g_const(ix, dq->inputs[1]);
	if (x == NULL || s == NULL || !(is_q8(x->dtype) || x->dtype == CI_DT_INT32) ||
	    s->dtype != CI_DT_FLOAT)
		return 0;
	if (has_in(dq, 2)) {
		z = ci_g_const(ix, dq->inputs[2]);
		if (z == NULL || z->dtype != x->dtype || z->count != s->count)
			return 0;
	}
	if (s->count != 1) {
		ax = (int)ci_attr_i(dq, "axis", 1);
		ax = ax < 0 ? ax + x->ndim : ax;
		if (ax < 0 || ax >= x->ndim || s->ndim != 1 || s->dims[0] != x->dims[ax])
			return 0;
		for (int d = ax + 1; d < x->ndim; d++)
			inner *= (size_t)x->dims[d];
		axn = (size_t)x->dims[ax];
	}
	if (ci_shape_count(CI_DT_FLOAT, x->ndim, x->dims, &t.count, &size, e) != 0)
		return -1;
	t.dtype = CI_DT_FLOAT;
	t.ndim = x->ndim;
	memcpy(t.dims, x->dims, sizeof(t.dims));
	t.data = ci_alloc(size + 1);
	if (t.data == NULL)
		return ci_fail(e, CINFER_E_NOMEM, "runtime.graph", "out of memory");
	t.cap = size + 1;
	t.owned = 1;
	for (size_t i = 0; i < x->count; i++) {
		size_t p = axn == 1 ? 0 : (i / inner) % axn;
		int64_t v, zv = 0;
		if (x->dtype == CI_DT_INT32) {
			v = ((const int32_t *)x->data)[i];
			zv = z ? ((const int32_t *)z->data)[p] : 0;
		} else if (x->dtype == CI_DT_UINT8) {
			v = ((const uint8_t *)x->data)[i];
			zv = z ? ((const uint8_t *)z->data)[p] : 0;
		} else {
			v = ((const int8_t *)x->data)[i];
			zv = z ? ((const int8_t *)z->data)[p] : 0;
		}
		((float *)t.data)[i] = (float)(v - zv) * ((const float *)s->data)[p];
	}
	out = ci_strdup(dq->outputs[0]);
	if (out == NULL) {
		ci_free(t.data);
		return ci_fail(e, CINFER_E_NOMEM, "runtime.graph", "out of memory");
	}
	if (ci_g_add_const(g, out, &t, &nm, e) != 0) {
		ci_free(t.data);
		ci_free(out);
		return -1;
	}
	/* every reader of the old value reads the folded constant */
	for (size_t i = 0; i < g->n_nodes; i++) {
		struct ci_node *n = &g->nodes[i];
		if (n->op_type == NULL)
			continue;
		for (size_t j = 0; j < n->n_in; j++)
			if (strcmp(n->inputs[j], out) == 0 &&	/* public */
			    ci_g_set_input(n, j, nm, e) != 0) {
				ci_free(out);
				return -1;
			}
	}
	ci_free(out);
	ci_g_kill(g, di);
	atomic_fetch_add(&n_folded, 1);
	return 0;
}

int
ci_pass_quant(struct ci_model_proto *p, struct ci_graph *g, struct ci_gindex *ix,
    struct cinfer_err *e)
{
	size_t count = g->n_nodes;

	(void)p;
	for (size_t i = 0; i < count; i++) {
		if (is_op(&g->nodes[i], "DynamicQuantizeLinear") && fuse_dynq(g, ix, i, e) != 0)
			return -1;
		if (is_op(&g->nodes[i], "MatMul") && fuse_qdq(g, ix, i, e) != 0)
			return -1;
	}
	for (size_t i = 0; i < count; i++)
		if (is_op(&g->nodes[i], "DequantizeLinear") && fold_dq(g, ix, i, e) != 0)
			return -1;
	return 0;
}
