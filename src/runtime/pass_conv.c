/*
 * Graph pass: conv fusions (see graph.h).
 *
 *   Conv -> BatchNormalization      the BN's constant scale, bias, mean and
 *                                   variance folded into the conv's weights
 *                                   and bias (new constants, or the old ones
 *                                   rewritten when nothing else reads them);
 *   Conv [-> BN] [-> Add] [-> act]  one com.cinfer FusedConv: the Add's other
 *                                   operand becomes input 3 ("sum", added
 *                                   before the activation), the activation
 *                                   (Relu, Clip with constant bounds,
 *                                   LeakyRelu, HardSigmoid, HardSwish,
 *                                   Sigmoid) its "activation" attribute with
 *                                   act_alpha / act_beta.
 *
 * The fused node takes the place of the chain's last node, where every
 * input of the chain (the Add's other operand too) is already computed.
 */
#include <math.h>
#include <string.h>

#include "runtime/graph.h"

#define STAGE "runtime.graph.conv"

/* Process-wide counters for tests (pass_conv.c is the only writer). */
#include <stdatomic.h>
static _Atomic unsigned long n_bn_folded, n_fused;

void ci_pass_conv_stats(unsigned long *bn_folded, unsigned long *fused);

void
ci_pass_conv_stats(unsigned long *bn_folded, unsigned long *fused)
{
	*bn_folded = atomic_load(&n_bn_folded);
	*fused = atomic_load(&n_fused);
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

/* A float constant of count elements, or NULL. */
static const struct ci_tensor *
fconst(const struct ci_gindex *ix, const char *name, size_t count)
{
	const struct ci_tensor *t = name[0] ? ci_g_const(ix, name) : NULL;

	if (t == NULL || t->dtype != CI_DT_FLOAT || t->count != count || t->data == NULL)
		return NULL;
	return t;
}

/* Slot of initializer name in g->inits (it exists: fconst found it). */
static struct ci_tensor *
init_of(struct ci_graph *g, const char *name)
{
	for (size_t i = 0; i < g->n_inits; i++)
		if (strcmp(g->inits[i].name, name) == 0)	/* public */
			return &g->inits[i];
	return NULL;
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

	if (old[0] && ci_g_uses(ix, old) == 1 && fconst(ix, old, count) != NULL &&
	    (it = init_of(g, old)) != NULL) {
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

/* Folds BN node bi into conv ci; 0 also when it does not apply (*done 0). */
static int
fold_bn(struct ci_graph *g, struct ci_gindex *ix, size_t ci, size_t bi, int *done,
    struct cinfer_err *e)
{
	struct ci_node *conv = &g->nodes[ci], *bn = &g->nodes[bi];
	const struct ci_tensor *w, *b = NULL, *sc, *bb, *mu, *var;
	size_t m, per;
	float *nw = NULL, *nb = NULL;
	double eps = ci_attr_f(bn, "epsilon", 1e-5f);
	int rc = -1;

	*done = 0;
	if (bn->n_in != 5 || (bn->n_out > 1 && bn->outputs[1][0]) ||
	    (bn->n_out > 2 && bn->outputs[2][0]) || (bn->n_out > 3 && bn->outputs[3][0]) ||
	    (bn->n_out > 4 && bn->outputs[4][0]) || ci_attr_i(bn, "training_mode", 0) != 0 ||
	    ci_attr_i(bn, "spatial", 1) != 1 || ci_attr_i(bn, "is_test", 1) != 1 ||
	    strcmp(bn->inputs[0], conv->outputs[0]) != 0)	/* public */
		return 0;
	w = ci_g_const(ix, conv->inputs[1]);
	if (w == NULL || w->dtype != CI_DT_FLOAT || w->ndim < 3 || w->dims[0] < 1 || w->data == NULL)
		return 0;
	m = (size_t)w->dims[0];
	per = w->count / m;
	if (conv->n_in > 2 && conv->inputs[2][0] && (b = fconst(ix, conv->inputs[2], m)) == NULL)
		return 0;
	sc = fconst(ix, bn->inputs[1], m);
	bb = fconst(ix, bn->inputs[2], m);
	mu = fconst(ix, bn->inputs[3], m);
	var = fconst(ix, bn->inputs[4], m);
	if (sc == NULL || bb == NULL || mu == NULL || var == NULL || !(eps >= 0))
		return 0;
	nw = ci_alloc(w->count * sizeof(float));
	nb = ci_alloc(m * sizeof(float));
	if (nw == NULL || nb == NULL) {
		ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
		goto out;
	}
	for (size_t o = 0; o < m; o++) {
		double v = ((const float *)var->data)[o] + eps;
		double s = ((const float *)sc->data)[o] / sqrt(v);
		double b0 = b ? ((const float *)b->data)[o] : 0.0;
		for (size_t i = 0; i < per; i++)
			nw[o * per + i] = (float)(((const float *)w->data)[o * per + i] * s);
		nb[o] = (float)((b0 - ((const float *)mu->data)[o]) * s +
		    ((const float *)bb->data)[o]);
	}
	{
		int64_t wd[CI_RT_MAX_DIMS], bd[1] = { (int64_t)m };
		int wn = w->ndim;
		memcpy(wd, w->dims, sizeof(wd));
		/* w, b and the BN's tensors point into g->inits: done with them */
		rc = put_const(g, ix, conv, 1, wn, wd, nw, per * m, e);
		nw = NULL;
		if (rc == 0)
			rc = put_const(g, ix, conv, 2, 1, bd, nb, m, e);
		nb = NULL;
		if (rc != 0)
			goto out;
	}
	conv = &g->nodes[ci];
	if (ci_g_set_output(conv, 0, g->nodes[bi].outputs[0], e) != 0)
		goto out;
	ci_g_kill(g, bi);
	*done = 1;
	atomic_fetch_add(&n_bn_folded, 1);
	rc = 0;
out:
	ci_free(nw);
	ci_free(nb);
	return rc;
}

/* A scalar float constant (0-d or one element), or NAN-free failure. */
static int
scalar(const struct ci_gindex *ix, const char *name, float *v)
{
	const struct ci_tensor *t = name[0] ? ci_g_const(ix, name) : NULL;

	if (t == NULL || t->dtype != CI_DT_FLOAT || t->count != 1 || t->data == NULL)
		return -1;
	*v = *(const float *)t->data;
	return 0;
}

/* Whether node a is an activation FusedConv can apply; fills its attrs. */
static int
activation(const struct ci_gindex *ix, const struct ci_node *a, int64_t opset,
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
		if (a->n_in > 1 && a->inputs[1][0] && scalar(ix, a->inputs[1], alpha) != 0)
			return 0;
		if (a->n_in > 2 && a->inputs[2][0] && scalar(ix, a->inputs[2], beta) != 0)
			return 0;
		return *alpha == *alpha && *beta == *beta && *alpha <= *beta;
	}
	return 0;
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
		if (sum[0] && ci_g_const(ix, sum) == NULL) {
			add = next;
			last = next;
			next = ci_g_sole_consumer(ix, a->outputs[0]);
		} else {
			sum = NULL;
		}
	}
	if (next >= 0 && g->nodes[next].op_type &&
	    activation(ix, &g->nodes[next], opset, &aname, &alpha, &beta, &np))
		last = next;
	else
		aname = NULL;
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
		long c;
		int done = 0;

		if (n->op_type == NULL || !onnx_domain(n) || strcmp(n->op_type, "Conv") != 0 ||	/* public */
		    n->n_in < 2 || n->n_out != 1 || n->outputs[0][0] == '\0')
			continue;
		c = ci_g_sole_consumer(ix, n->outputs[0]);
		if (c >= 0 && g->nodes[c].op_type && onnx_domain(&g->nodes[c]) &&
		    strcmp(g->nodes[c].op_type, "BatchNormalization") == 0 &&	/* public */
		    fold_bn(g, ix, i, (size_t)c, &done, e) != 0)
			return -1;
		/* the index knows the BN's output as made by the BN: look its
		 * consumers up by name, which the index still has */
		if (fuse(p, g, ix, i, e) != 0)
			return -1;
	}
	return 0;
}
