/*
 * Graph pass: conv fusions (see graph.h). Constants are initializers or
 * Constant nodes (paddle2onnx keeps weights in Constant nodes).
 *
 *   Mul/Add(scalar) -> 1x1 Conv     folded into the weights (s * W) and bias
 *                                   (b + c * rowsum W): a 1x1 conv pads
 *                                   nothing;
 *   Mul/Add(scalar) -> padded Conv  FusedConv in_scale / in_shift, applied
 *                                   where the kernel reads its input (the
 *                                   padding stays 0);
 *   Conv -> BatchNormalization      the BN's constant scale, bias, mean and
 *                                   variance folded into the conv's weights
 *                                   and bias (new constants, or the old ones
 *                                   rewritten when nothing else reads them);
 *   Conv -> Mul/Add(constant)       scalar or per-channel, folded the same;
 *   Conv [-> Add] [-> act]          one com.cinfer FusedConv: the Add's other
 *                                   operand becomes input 3 ("sum", added
 *                                   before the activation), the activation
 *                                   (Relu, Clip with constant bounds,
 *                                   LeakyRelu, HardSigmoid, HardSwish or
 *                                   HardSwish written out as
 *                                   y * Clip(y + 3, 0, 6) / 6, Sigmoid) its
 *                                   "activation" attribute with act_alpha /
 *                                   act_beta.
 *
 * The fused node takes the place of the chain's last node, where every
 * input of the chain (the Add's other operand too) is already computed.
 */
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "runtime/conv.h"
#include "runtime/graph.h"

#define STAGE "runtime.graph.conv"

/* Process-wide counters for tests (pass_conv.c is the only writer). */
static _Atomic unsigned long n_bn_folded, n_fused, n_in_folded;

void
ci_pass_conv_stats(unsigned long *bn_folded, unsigned long *fused, unsigned long *in_folded)
{
	*bn_folded = atomic_load(&n_bn_folded);
	*fused = atomic_load(&n_fused);
	*in_folded = atomic_load(&n_in_folded);
}

static int
onnx_domain(const struct ci_node *n)
{
	return n->domain == NULL || n->domain[0] == '\0' || strcmp(n->domain, "ai.onnx") == 0;	/* public */
}

static int64_t
onnx_opset(const struct ci_model_proto *p)
{
	for (size_t i = 0; i < p->n_opsets; i++)
		if (p->opsets[i].domain == NULL || p->opsets[i].domain[0] == '\0' ||
		    strcmp(p->opsets[i].domain, "ai.onnx") == 0)	/* public */
			return p->opsets[i].version;
	return 1;
}

/* The constant called name: an initializer or a Constant node's value. */
static struct ci_tensor *
cval(struct ci_graph *g, const struct ci_gindex *ix, const char *name)
{
	const struct ci_tensor *t;
	const struct ci_attr *a;
	long p;

	if (name[0] == '\0')
		return NULL;
	t = ci_g_const(ix, name);
	if (t != NULL)
		return (struct ci_tensor *)t;	/* g is ours to edit */
	p = ci_g_producer(ix, name);
	if (p < 0 || g->nodes[p].op_type == NULL || !onnx_domain(&g->nodes[p]) ||
	    strcmp(g->nodes[p].op_type, "Constant") != 0 || g->nodes[p].n_out != 1 ||	/* public */
	    strcmp(g->nodes[p].outputs[0], name) != 0)	/* public */
		return NULL;
	a = ci_node_attr(&g->nodes[p], "value");
	if (a == NULL || a->type != CI_AT_TENSOR || a->t == NULL)
		return NULL;
	return a->t;
}

/* A float constant of count elements, or NULL. */
static struct ci_tensor *
fconst(struct ci_graph *g, const struct ci_gindex *ix, const char *name, size_t count)
{
	struct ci_tensor *t = cval(g, ix, name);

	if (t == NULL || t->dtype != CI_DT_FLOAT || t->count != count || t->data == NULL)
		return NULL;
	return t;
}

/* Writes v (count floats, taken) as the conv's input slot: in place when
 * the old constant there is read by this node only, else as a new one. */
static int
put_const(struct ci_graph *g, struct ci_gindex *ix, struct ci_node *conv, size_t slot,
    int ndim, const int64_t *dims, float *v, size_t count, struct cinfer_err *e)
{
	const char *old = slot < conv->n_in ? conv->inputs[slot] : "";
	struct ci_tensor t = { 0 }, *it;
	const char *name;

	it = old[0] && ci_g_uses(ix, old) == 1 ? fconst(g, ix, old, count) : NULL;
	if (it != NULL && it->cap >= count * sizeof(float)) {
		memcpy(it->data, v, count * sizeof(float));
		ci_free(v);
		return 0;
	}
	t.dtype = CI_DT_FLOAT;
	t.ndim = ndim;
	memcpy(t.dims, dims, (size_t)ndim * sizeof(int64_t));
	t.count = count;
	t.data = v;
	t.cap = count * sizeof(float);
	t.owned = 1;
	if (ci_g_add_const(g, slot == 1 ? "conv_w" : "conv_b", &t, &name, e) != 0) {
		ci_free(t.data);
		return -1;
	}
	return ci_g_set_input(conv, slot, name, e);
}

/* Conv ci's weights become W[o] * s[o] and its bias b[o] * s[o] + t[o]
 * (s NULL: 1, t NULL: 0); 1 when done, 0 when the conv does not allow it. */
static int
scale_shift(struct ci_graph *g, struct ci_gindex *ix, size_t ci, const float *s,
    const float *t, struct cinfer_err *e)
{
	struct ci_node *conv = &g->nodes[ci];
	const struct ci_tensor *w, *b = NULL;
	int64_t wd[CI_RT_MAX_DIMS], bd[1];
	size_t m, per;
	float *nw = NULL, *nb = NULL;
	int wn;

	w = cval(g, ix, conv->inputs[1]);
	if (w == NULL || w->dtype != CI_DT_FLOAT || w->ndim < 3 || w->dims[0] < 1 || w->data == NULL)
		return 0;
	m = (size_t)w->dims[0];
	per = w->count / m;
	if (conv->n_in > 2 && conv->inputs[2][0] && (b = fconst(g, ix, conv->inputs[2], m)) == NULL)
		return 0;
	nw = ci_alloc(w->count * sizeof(float));
	nb = ci_alloc(m * sizeof(float));
	if (nw == NULL || nb == NULL) {
		ci_free(nw);
		ci_free(nb);
		return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
	}
	for (size_t o = 0; o < m; o++) {
		float so = s ? s[o] : 1.0f, b0 = b ? ((const float *)b->data)[o] : 0.0f;
		for (size_t i = 0; i < per; i++)
			nw[o * per + i] = ((const float *)w->data)[o * per + i] * so;
		nb[o] = b0 * so + (t ? t[o] : 0.0f);
	}
	wn = w->ndim;
	memcpy(wd, w->dims, sizeof(wd));
	bd[0] = (int64_t)m;
	/* w and b may point into g->inits, which put_const may move */
	if (put_const(g, ix, conv, 1, wn, wd, nw, per * m, e) != 0) {
		ci_free(nb);
		return -1;
	}
	if (put_const(g, ix, &g->nodes[ci], 2, 1, bd, nb, m, e) != 0)
		return -1;
	return 1;
}

/* Output channels of conv ci (its constant weight's first dim), or 0. */
static size_t
conv_m(struct ci_graph *g, const struct ci_gindex *ix, size_t ci)
{
	const struct ci_tensor *w = cval(g, ix, g->nodes[ci].inputs[1]);

	return w && w->dtype == CI_DT_FLOAT && w->ndim >= 3 && w->dims[0] >= 1 ? (size_t)w->dims[0] : 0;
}

/* Folds BN node bi into conv ci; 0 also when it does not apply (*done 0). */
static int
fold_bn(struct ci_graph *g, struct ci_gindex *ix, size_t ci, size_t bi, int *done,
    struct cinfer_err *e)
{
	struct ci_node *conv = &g->nodes[ci], *bn = &g->nodes[bi];
	const struct ci_tensor *sc, *bb, *mu, *var;
	size_t m = conv_m(g, ix, ci);
	float *s = NULL, *t = NULL;
	double eps = ci_attr_f(bn, "epsilon", 1e-5f);
	int rc = -1;

	*done = 0;
	if (m == 0 || bn->n_in != 5 || (bn->n_out > 1 && bn->outputs[1][0]) ||
	    (bn->n_out > 2 && bn->outputs[2][0]) || (bn->n_out > 3 && bn->outputs[3][0]) ||
	    (bn->n_out > 4 && bn->outputs[4][0]) || ci_attr_i(bn, "training_mode", 0) != 0 ||
	    ci_attr_i(bn, "spatial", 1) != 1 || ci_attr_i(bn, "is_test", 1) != 1 ||
	    strcmp(bn->inputs[0], conv->outputs[0]) != 0)	/* public */
		return 0;
	sc = fconst(g, ix, bn->inputs[1], m);
	bb = fconst(g, ix, bn->inputs[2], m);
	mu = fconst(g, ix, bn->inputs[3], m);
	var = fconst(g, ix, bn->inputs[4], m);
	if (sc == NULL || bb == NULL || mu == NULL || var == NULL || !(eps >= 0))
		return 0;
	s = ci_alloc(m * sizeof(float));
	t = ci_alloc(m * sizeof(float));
	if (s == NULL || t == NULL) {
		ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
		goto out;
	}
	for (size_t o = 0; o < m; o++) {
		double so = ((const float *)sc->data)[o] / sqrt(((const float *)var->data)[o] + eps);
		s[o] = (float)so;
		t[o] = (float)(((const float *)bb->data)[o] - ((const float *)mu->data)[o] * so);
	}
	rc = scale_shift(g, ix, ci, s, t, e);
	if (rc <= 0)
		goto out;
	rc = -1;
	if (ci_g_set_output(&g->nodes[ci], 0, g->nodes[bi].outputs[0], e) != 0)
		goto out;
	ci_g_kill(g, bi);
	*done = 1;
	atomic_fetch_add(&n_bn_folded, 1);
	rc = 0;
out:
	ci_free(s);
	ci_free(t);
	return rc;
}

/* Folds a Mul or Add by a constant scalar or per-channel vector after conv
 * ci (node ni, the sole consumer of its output); *done 1 when it did. */
static int
fold_affine(struct ci_graph *g, struct ci_gindex *ix, size_t ci, size_t ni, int *done,
    struct cinfer_err *e)
{
	const struct ci_node *n = &g->nodes[ni];
	const char *out = g->nodes[ci].outputs[0], *other;
	const struct ci_tensor *c, *w;
	size_t m = conv_m(g, ix, ci);
	int mul, rc = -1;
	float *v = NULL;

	*done = 0;
	if (m == 0 || !onnx_domain(n) || n->n_in != 2 || n->n_out != 1)
		return 0;
	mul = strcmp(n->op_type, "Mul") == 0;	/* public */
	if (!mul && strcmp(n->op_type, "Add") != 0)	/* public */
		return 0;
	other = strcmp(n->inputs[0], out) == 0 ? n->inputs[1] : n->inputs[0];	/* public */
	if (strcmp(other, out) == 0)	/* public */
		return 0;
	c = cval(g, ix, other);
	w = cval(g, ix, g->nodes[ci].inputs[1]);
	if (c == NULL || c->dtype != CI_DT_FLOAT || c->data == NULL || w == NULL ||
	    c->ndim > w->ndim)
		return 0;
	if (c->count != 1) {
		/* per channel: [M, 1, ...] right-aligned on [N, M, spatial...] */
		int ch = c->ndim - (w->ndim - 1);
		if (c->count != m || ch < 0 || c->dims[ch] != (int64_t)m)
			return 0;
	}
	v = ci_alloc(m * sizeof(float));
	if (v == NULL)
		return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
	for (size_t o = 0; o < m; o++)
		v[o] = ((const float *)c->data)[c->count == 1 ? 0 : o];
	rc = scale_shift(g, ix, ci, mul ? v : NULL, mul ? NULL : v, e);
	if (rc <= 0)
		goto out;
	rc = -1;
	if (ci_g_set_output(&g->nodes[ci], 0, g->nodes[ni].outputs[0], e) != 0)
		goto out;
	ci_g_kill(g, ni);
	*done = 1;
	rc = 0;
out:
	ci_free(v);
	return rc;
}

/*
 * An elementwise Mul or Add by a constant scalar right before a 1x1 conv
 * (which pads nothing, so every input element meets every weight): the
 * conv of s * u is the conv of u with weights s * W, the conv of u + c
 * adds c * (sum of W's row) to the bias. *done 1 when one was folded.
 */
static int
fold_input_affine(struct ci_graph *g, struct ci_gindex *ix, size_t ci, long *via, int *done,
    struct cinfer_err *e)
{
	const char *xname = g->nodes[ci].inputs[0], *u;
	const struct ci_tensor *w, *c;
	long pi = ci_g_producer(ix, xname);
	const struct ci_node *pn;
	size_t m, per;
	float v, *nv;
	int mul, one = 1;

	*done = 0;
	/* the index still names the node folded last time as the reader */
	if (pi < 0 || g->nodes[pi].op_type == NULL || ci_g_sole_consumer(ix, xname) != *via)
		return 0;
	pn = &g->nodes[pi];
	if (!onnx_domain(pn) || pn->n_in != 2 || pn->n_out != 1 ||
	    strcmp(pn->outputs[0], xname) != 0)	/* public */
		return 0;
	mul = strcmp(pn->op_type, "Mul") == 0;	/* public */
	if (!mul && strcmp(pn->op_type, "Add") != 0)	/* public */
		return 0;
	w = cval(g, ix, g->nodes[ci].inputs[1]);
	if (w == NULL || w->dtype != CI_DT_FLOAT || w->ndim < 3 || w->dims[0] < 1 || w->data == NULL)
		return 0;
	for (int d = 2; d < w->ndim; d++)
		one = one && w->dims[d] == 1;
	/* which input is the constant scalar */
	c = cval(g, ix, pn->inputs[1]);
	u = pn->inputs[0];
	if (c == NULL || c->count != 1) {
		c = cval(g, ix, pn->inputs[0]);
		u = pn->inputs[1];
	}
	if (c == NULL || c->count != 1 || c->dtype != CI_DT_FLOAT || c->data == NULL ||
	    c->ndim > w->ndim || cval(g, ix, u) != NULL || u[0] == '\0')
		return 0;
	v = *(const float *)c->data;
	if (!isfinite(v))
		return 0;
	m = (size_t)w->dims[0];
	per = w->count / m;
	if (!one) {
		/* padded: FusedConv applies x * in_scale + in_shift where it
		 * reads the input; an outer Mul scales both, an outer Add
		 * shifts by in_scale * c */
		struct ci_node *cn = &g->nodes[ci];
		float a = ci_attr_f(cn, "in_scale", 1.0f), b = ci_attr_f(cn, "in_shift", 0.0f);
		if (mul)
			a *= v;
		else
			b += a * v;
		if (!isfinite(a) || !isfinite(b) || ci_g_set_op(cn, CI_DOMAIN_CINFER, "FusedConv", e) != 0 ||
		    ci_g_attr_f(cn, "in_scale", a, e) != 0 || ci_g_attr_f(cn, "in_shift", b, e) != 0)
			return isfinite(a) && isfinite(b) ? -1 : 0;
	} else if (mul) {
		int64_t wd[CI_RT_MAX_DIMS];
		int wn = w->ndim;
		nv = ci_alloc(w->count * sizeof(float));
		if (nv == NULL)
			return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
		for (size_t i = 0; i < w->count; i++)
			nv[i] = ((const float *)w->data)[i] * v;
		memcpy(wd, w->dims, sizeof(wd));
		if (put_const(g, ix, &g->nodes[ci], 1, wn, wd, nv, m * per, e) != 0)
			return -1;
	} else {
		int rc;
		nv = ci_alloc(m * sizeof(float));
		if (nv == NULL)
			return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
		for (size_t o = 0; o < m; o++) {
			double rs = 0;
			for (size_t i = 0; i < per; i++)
				rs += ((const float *)w->data)[o * per + i];
			nv[o] = (float)(v * rs);
		}
		rc = scale_shift(g, ix, ci, NULL, nv, e);
		ci_free(nv);
		if (rc <= 0)
			return rc;
	}
	{
		char *un = ci_strdup(u);
		int rc;
		if (un == NULL)
			return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
		rc = ci_g_set_input(&g->nodes[ci], 0, un, e);
		ci_free(un);
		if (rc != 0)
			return -1;
	}
	ci_g_kill(g, (size_t)pi);
	*via = pi;
	*done = 1;
	atomic_fetch_add(&n_in_folded, 1);
	return 0;
}

/* A scalar float constant (0-d or one element), or NAN-free failure. */
static int
scalar(struct ci_graph *g, const struct ci_gindex *ix, const char *name, float *v)
{
	const struct ci_tensor *t = cval(g, ix, name);

	if (t == NULL || t->dtype != CI_DT_FLOAT || t->count != 1 || t->data == NULL)
		return -1;
	*v = *(const float *)t->data;
	return 0;
}

/* Whether node a is an activation FusedConv can apply; fills its attrs. */
static int
activation(struct ci_graph *g, const struct ci_gindex *ix, const struct ci_node *a, int64_t opset,
    const char **name, float *alpha, float *beta, int *nparams)
{
	*nparams = 0;
	if (!onnx_domain(a) || a->n_out != 1 || a->n_in < 1)
		return 0;
	if (strcmp(a->op_type, "Relu") == 0 || strcmp(a->op_type, "HardSwish") == 0 ||	/* public */
	    strcmp(a->op_type, "Sigmoid") == 0) {	/* public */
		*name = a->op_type;
		return a->n_in == 1;
	}
	if (strcmp(a->op_type, "LeakyRelu") == 0) {	/* public */
		*name = a->op_type;
		*alpha = ci_attr_f(a, "alpha", 0.01f);
		*nparams = 1;
		return a->n_in == 1;
	}
	if (strcmp(a->op_type, "HardSigmoid") == 0) {	/* public */
		*name = a->op_type;
		*alpha = ci_attr_f(a, "alpha", 0.2f);
		*beta = ci_attr_f(a, "beta", 0.5f);
		*nparams = 2;
		return a->n_in == 1;
	}
	if (strcmp(a->op_type, "Clip") == 0) {	/* public */
		*name = a->op_type;
		*alpha = -INFINITY;
		*beta = INFINITY;
		*nparams = 2;
		if (opset < 11) {
			*alpha = ci_attr_f(a, "min", -3.402823466e38f);
			*beta = ci_attr_f(a, "max", 3.402823466e38f);
			return a->n_in == 1;
		}
		if (a->n_in > 3)
			return 0;
		if (a->n_in > 1 && a->inputs[1][0] && scalar(g, ix, a->inputs[1], alpha) != 0)
			return 0;
		if (a->n_in > 2 && a->inputs[2][0] && scalar(g, ix, a->inputs[2], beta) != 0)
			return 0;
		return *alpha == *alpha && *beta == *beta && *alpha <= *beta;
	}
	return 0;
}

/* Whether value name is the constant scalar v. */
static int
is_scalar(struct ci_graph *g, const struct ci_gindex *ix, const char *name, float v)
{
	float x;

	return scalar(g, ix, name, &x) == 0 && x == v;
}

/* The other input of binary node n besides value y, or NULL. */
static const char *
other_in(const struct ci_node *n, const char *y)
{
	if (n->n_in != 2 || n->n_out != 1 || strcmp(n->inputs[0], n->inputs[1]) == 0)	/* public */
		return NULL;
	if (strcmp(n->inputs[0], y) == 0)	/* public */
		return n->inputs[1];
	if (strcmp(n->inputs[1], y) == 0)	/* public */
		return n->inputs[0];
	return NULL;
}

static int
is_op(const struct ci_node *n, const char *op)
{
	return n->op_type != NULL && onnx_domain(n) && strcmp(n->op_type, op) == 0;	/* public */
}

/*
 * HardSwish written out (paddle2onnx): y * Clip(y + 3, 0, 6) / 6, y read by
 * the Add and the Mul only. Returns the last node (the Div, or a Mul by
 * 1/6) and kills the others, or -1 when the pattern is not there.
 */
static long
hswish_tail(struct ci_graph *g, struct ci_gindex *ix, const char *y, int64_t opset)
{
	long add = -1, mul = -1, clip, mul2, last;
	const char *o;
	float lo = 0, hi = 0;

	if (ci_g_uses(ix, y) != 2)
		return -1;
	for (size_t i = 0; i < g->n_nodes; i++) {
		const struct ci_node *n = &g->nodes[i];
		if (n->op_type == NULL || (o = other_in(n, y)) == NULL)
			continue;
		if (is_op(n, "Add") && is_scalar(g, ix, o, 3.0f))
			add = (long)i;
		else if (is_op(n, "Mul"))
			mul = (long)i;
	}
	if (add < 0 || mul < 0)
		return -1;
	clip = ci_g_sole_consumer(ix, g->nodes[add].outputs[0]);
	if (clip < 0 || !is_op(&g->nodes[clip], "Clip") || g->nodes[clip].n_out != 1)
		return -1;
	if (opset < 11) {
		if (g->nodes[clip].n_in != 1)
			return -1;
		lo = ci_attr_f(&g->nodes[clip], "min", -1.0f);
		hi = ci_attr_f(&g->nodes[clip], "max", -1.0f);
	} else if (g->nodes[clip].n_in != 3 || scalar(g, ix, g->nodes[clip].inputs[1], &lo) != 0 ||
	    scalar(g, ix, g->nodes[clip].inputs[2], &hi) != 0) {
		return -1;
	}
	if (lo != 0.0f || hi != 6.0f)
		return -1;
	o = other_in(&g->nodes[mul], y);
	if (o == NULL || strcmp(o, g->nodes[clip].outputs[0]) != 0 ||	/* public */
	    ci_g_sole_consumer(ix, o) != mul)
		return -1;
	mul2 = ci_g_sole_consumer(ix, g->nodes[mul].outputs[0]);
	if (mul2 < 0)
		return -1;
	o = other_in(&g->nodes[mul2], g->nodes[mul].outputs[0]);
	if (o == NULL || !((is_op(&g->nodes[mul2], "Div") && is_scalar(g, ix, o, 6.0f) &&
	    strcmp(g->nodes[mul2].inputs[0], g->nodes[mul].outputs[0]) == 0) ||	/* public */
	    (is_op(&g->nodes[mul2], "Mul") && is_scalar(g, ix, o, 1.0f / 6.0f))))
		return -1;
	last = mul2;
	ci_g_kill(g, (size_t)add);
	ci_g_kill(g, (size_t)clip);
	ci_g_kill(g, (size_t)mul);
	return last;
}

/* Fuses the Add and activation after conv ci (BN already folded). */
static int
fuse(struct ci_model_proto *p, struct ci_graph *g, struct ci_gindex *ix, size_t ci,
    struct cinfer_err *e)
{
	const char *out = g->nodes[ci].outputs[0], *aname = NULL, *sum = NULL;
	float alpha = 0, beta = 0;
	int np = 0;
	long next = ci_g_sole_consumer(ix, out), last = -1, add = -1;
	int64_t opset = onnx_opset(p);
	struct ci_node tmp;

	if (next >= 0 && g->nodes[next].op_type && onnx_domain(&g->nodes[next]) &&
	    strcmp(g->nodes[next].op_type, "Add") == 0 && g->nodes[next].n_in == 2 &&	/* public */
	    g->nodes[next].n_out == 1 &&
	    strcmp(g->nodes[next].inputs[0], g->nodes[next].inputs[1]) != 0) {	/* public */
		const struct ci_node *a = &g->nodes[next];
		sum = strcmp(a->inputs[0], out) == 0 ? a->inputs[1] : a->inputs[0];	/* public */
		if (sum[0] && cval(g, ix, sum) == NULL) {
			add = next;
			last = next;
			next = ci_g_sole_consumer(ix, a->outputs[0]);
		} else {
			sum = NULL;
		}
	}
	if (next >= 0 && g->nodes[next].op_type &&
	    activation(g, ix, &g->nodes[next], opset, &aname, &alpha, &beta, &np)) {
		last = next;
	} else {
		long h = hswish_tail(g, ix, add >= 0 ? g->nodes[add].outputs[0] : out, opset);
		aname = NULL;
		if (h >= 0) {
			aname = "HardSwish";
			np = 0;
			last = h;
		}
	}
	if (last < 0)
		return 0;
	{
		struct ci_node *conv = &g->nodes[ci];
		if (ci_g_set_op(conv, CI_DOMAIN_CINFER, "FusedConv", e) != 0 ||
		    ci_g_set_output(conv, 0, g->nodes[last].outputs[0], e) != 0)
			return -1;
		if (sum && (ci_g_set_input(conv, 2, conv->n_in > 2 ? conv->inputs[2] : "", e) != 0 ||
		    ci_g_set_input(conv, 3, sum, e) != 0))
			return -1;
		if (ci_g_attr_s(conv, "activation", aname ? aname : "", e) != 0)
			return -1;
		if (np >= 1 && ci_g_attr_f(conv, "act_alpha", alpha, e) != 0)
			return -1;
		if (np >= 2 && ci_g_attr_f(conv, "act_beta", beta, e) != 0)
			return -1;
	}
	if (add >= 0 && add != last)
		ci_g_kill(g, (size_t)add);
	/* the fused node moves to the last node's slot */
	tmp = g->nodes[last];
	g->nodes[last] = g->nodes[ci];
	g->nodes[ci] = tmp;
	ci_g_kill(g, ci);
	atomic_fetch_add(&n_fused, 1);
	return 0;
}

int
ci_pass_conv(struct ci_model_proto *p, struct ci_graph *g, struct ci_gindex *ix,
    struct cinfer_err *e)
{
	for (size_t i = 0; i < g->n_nodes; i++) {
		struct ci_node *n = &g->nodes[i];
		long c, via;
		int done = 0;

		if (n->op_type == NULL || !onnx_domain(n) || strcmp(n->op_type, "Conv") != 0 ||	/* public */
		    n->n_in < 2 || n->n_out != 1 || n->outputs[0][0] == '\0')
			continue;
		/* a constant affine on a 1x1 conv's input goes into its weights */
		via = (long)i;
		do {
			if (fold_input_affine(g, ix, i, &via, &done, e) != 0)
				return -1;
		} while (done);
		n = &g->nodes[i];
		c = ci_g_sole_consumer(ix, n->outputs[0]);
		if (c >= 0 && g->nodes[c].op_type && onnx_domain(&g->nodes[c]) &&
		    strcmp(g->nodes[c].op_type, "BatchNormalization") == 0 &&	/* public */
		    fold_bn(g, ix, i, (size_t)c, &done, e) != 0)
			return -1;
		/* then Mul / Add by constants (a learnable affine after the conv) */
		do {
			c = ci_g_sole_consumer(ix, g->nodes[i].outputs[0]);
			if (c < 0 || g->nodes[c].op_type == NULL)
				break;
			if (fold_affine(g, ix, i, (size_t)c, &done, e) != 0)
				return -1;
		} while (done);
		/* the index knows the BN's output as made by the BN: look its
		 * consumers up by name, which the index still has */
		if (fuse(p, g, ix, i, e) != 0)
			return -1;
	}
	return 0;
}
