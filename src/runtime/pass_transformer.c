/*
 * Graph pass: transformer fusions (see graph.h).
 *
 * GELU (exact, erf form) as exporters write it, in any operand order:
 *   u = x * (1/sqrt 2)  or  x / sqrt 2;  v = Erf(u);  w = v + 1;  then
 *   (x * w) * 0.5,  (x * 0.5) * w,  or  x * (w * 0.5)
 * becomes com.cinfer Gelu(x) (ops/elementwise.c). Constants must be float
 * scalars (initializers or Constant nodes) within float rounding of those
 * values (rank 0: a [1] constant could broadcast x up a rank); every
 * intermediate value must have exactly one consumer.
 *
 * Scaled softmax (attention scores): s = x * c or x / c with c a finite
 * float scalar, read only by a Softmax over the last axis (axis = -1, or no
 * axis at opset 13 and later) becomes com.cinfer ScaledSoftmax(x) with
 * attribute scale = c or 1 / c (ops/attention.c).
 *
 * HardSwish as MobileNetV3 / PP-OCR export it: x * Clip(x + 3, 0, 6) / 6 (or
 * times 1/6) becomes com.cinfer HardSwish(x) (ops/elementwise.c).
 */
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "runtime/graph.h"
#include "runtime/transformer.h"

static _Atomic size_t n_gelu, n_ssm, n_hswish;

void
ci_tf_stats_get(struct ci_tf_stats *s)
{
	s->gelu = atomic_load(&n_gelu);
	s->scaled_softmax = atomic_load(&n_ssm);
	s->hardswish = atomic_load(&n_hswish);
}

static int
is_op(const struct ci_graph *g, long i, const char *op)
{
	const struct ci_node *n;

	if (i < 0 || (size_t)i >= g->n_nodes)
		return 0;
	n = &g->nodes[i];
	return n->op_type != NULL && strcmp(n->op_type, op) == 0 &&	/* public */
	    (n->domain[0] == '\0' || strcmp(n->domain, "ai.onnx") == 0) &&	/* public */
	    n->n_attrs == 0 && n->n_in == 2 && n->n_out == 1;
}

/* The float scalar that value name holds if it is a constant. */
static int
scalar(const struct ci_graph *g, const struct ci_gindex *ix, const char *name, float *v)
{
	const struct ci_tensor *t = ci_g_const(ix, name);
	long p;

	if (t == NULL) {
		p = ci_g_producer(ix, name);
		if (p >= 0 && g->nodes[p].op_type != NULL &&
		    strcmp(g->nodes[p].op_type, "Constant") == 0 &&	/* public */
		    g->nodes[p].domain[0] == '\0' && g->nodes[p].n_attrs == 1 &&
		    g->nodes[p].attrs[0].type == CI_AT_TENSOR &&
		    strcmp(g->nodes[p].attrs[0].name, "value") == 0)	/* public */
			t = g->nodes[p].attrs[0].t;
	}
	/* rank 0 only: a [1] or [1,1] constant could raise the rank of x */
	if (t == NULL || t->dtype != CI_DT_FLOAT || t->ndim != 0 || t->count != 1 ||
	    t->data == NULL)
		return 0;
	memcpy(v, t->data, sizeof(*v));
	return 1;
}

/* For a binary node i: which input (0/1) is the constant near want (the
 * other is the operand), or -1. Only input 1 when !commutes. */
static int
const_side(const struct ci_graph *g, const struct ci_gindex *ix, long i, float want, int commutes)
{
	const struct ci_node *n = &g->nodes[i];
	float v;

	for (int s = commutes ? 0 : 1; s < 2; s++)
		if (scalar(g, ix, n->inputs[s], &v) && fabsf(v - want) <= 2e-7f * fabsf(want) + 1e-7f)
			return s;
	return -1;
}

/* The node that solely reads value name, if it is op. */
static long
next_op(const struct ci_graph *g, const struct ci_gindex *ix, const char *name, const char *op)
{
	long c = ci_g_sole_consumer(ix, name);

	return is_op(g, c, op) ? c : -1;
}

static int
fuse_gelu(struct ci_graph *g, struct ci_gindex *ix, size_t ei, struct cinfer_err *e)
{
	struct ci_node *en = &g->nodes[ei];
	long p1, a, m1, m2 = -1, h = -1;
	int s;
	const char *x, *out, *other;

	if (en->n_in != 1 || en->n_out != 1 || en->n_attrs != 0 || en->inputs[0][0] == '\0' ||
	    (en->domain[0] != '\0' && strcmp(en->domain, "ai.onnx") != 0))	/* public */
		return 0;
	/* u = x * (1 / sqrt 2) or x / sqrt 2, read only by the Erf */
	p1 = ci_g_producer(ix, en->inputs[0]);
	if (ci_g_sole_consumer(ix, en->inputs[0]) != (long)ei)
		return 0;
	if (is_op(g, p1, "Mul") && (s = const_side(g, ix, p1, 0.70710678f, 1)) >= 0)
		x = g->nodes[p1].inputs[1 - s];
	else if (is_op(g, p1, "Div") && const_side(g, ix, p1, 1.41421356f, 0) == 1)
		x = g->nodes[p1].inputs[0];
	else
		return 0;
	/* w = v + 1 */
	a = next_op(g, ix, en->outputs[0], "Add");
	if (a < 0 || (s = const_side(g, ix, a, 1.0f, 1)) < 0 ||
	    strcmp(g->nodes[a].inputs[1 - s], en->outputs[0]) != 0)	/* public */
		return 0;
	m1 = next_op(g, ix, g->nodes[a].outputs[0], "Mul");
	if (m1 < 0)
		return 0;
	if (const_side(g, ix, m1, 0.5f, 1) >= 0) {
		/* x * (w * 0.5) */
		h = m1;
		m1 = next_op(g, ix, g->nodes[h].outputs[0], "Mul");
		if (m1 < 0)
			return 0;
		s = strcmp(g->nodes[m1].inputs[0], g->nodes[h].outputs[0]) == 0 ? 1 : 0;	/* public */
		if (strcmp(g->nodes[m1].inputs[s], x) != 0)	/* public */
			return 0;
		out = g->nodes[m1].outputs[0];
	} else {
		s = strcmp(g->nodes[m1].inputs[0], g->nodes[a].outputs[0]) == 0 ? 1 : 0;	/* public */
		other = g->nodes[m1].inputs[s];
		if (strcmp(other, x) == 0) {	/* public */
			/* (x * w) * 0.5 */
			m2 = next_op(g, ix, g->nodes[m1].outputs[0], "Mul");
			if (m2 < 0 || const_side(g, ix, m2, 0.5f, 1) < 0)
				return 0;
			out = g->nodes[m2].outputs[0];
		} else {
			/* (x * 0.5) * w: the half is read only here */
			h = ci_g_producer(ix, other);
			if (!is_op(g, h, "Mul") || ci_g_sole_consumer(ix, other) != m1 ||
			    (s = const_side(g, ix, h, 0.5f, 1)) < 0 ||
			    strcmp(g->nodes[h].inputs[1 - s], x) != 0)	/* public */
				return 0;
			out = g->nodes[m1].outputs[0];
		}
	}
	/* the Erf node becomes Gelu(x) -> out (it comes after x's producer
	 * and before every reader of out) */
	if (ci_g_set_op(en, CI_DOMAIN_CINFER, "Gelu", e) != 0 ||
	    ci_g_set_input(en, 0, x, e) != 0 || ci_g_set_output(en, 0, out, e) != 0)
		return -1;
	ci_g_kill(g, (size_t)p1);
	ci_g_kill(g, (size_t)a);
	ci_g_kill(g, (size_t)m1);
	if (m2 >= 0)
		ci_g_kill(g, (size_t)m2);
	if (h >= 0)
		ci_g_kill(g, (size_t)h);
	atomic_fetch_add(&n_gelu, 1);
	return 0;
}

/* Clip node c bounds [lo, hi]: attributes before opset 11, rank-0 constant
 * inputs after; 0 if they are not both there. */
static int
clip_bounds(const struct ci_graph *g, const struct ci_gindex *ix, const struct ci_node *c,
    int opset, float *lo, float *hi)
{
	const struct ci_attr *a, *b;

	if (c->n_out != 1 || c->n_in < 1 || c->inputs[0][0] == '\0')
		return 0;
	if (opset < 11) {
		a = ci_node_attr(c, "min");
		b = ci_node_attr(c, "max");
		if (c->n_in != 1 || c->n_attrs != 2 || a == NULL || b == NULL ||
		    a->type != CI_AT_FLOAT || b->type != CI_AT_FLOAT)
			return 0;
		*lo = a->f;
		*hi = b->f;
		return 1;
	}
	return c->n_in == 3 && c->n_attrs == 0 && scalar(g, ix, c->inputs[1], lo) &&
	    scalar(g, ix, c->inputs[2], hi);
}

static int default_opset(const struct ci_model_proto *p);

/*
 * HardSwish as MobileNetV3 / PP-OCR exports it: x * Clip(x + 3, 0, 6) / 6
 * (or * 1/6), either operand order, -> com.cinfer HardSwish(x).
 */
static int
fuse_hardswish(const struct ci_model_proto *p, struct ci_graph *g, struct ci_gindex *ix,
    size_t ci, struct cinfer_err *e)
{
	struct ci_node *cn = &g->nodes[ci];
	long a, m, d;
	float lo, hi;
	int s;
	const char *x;

	if ((cn->domain[0] != '\0' && strcmp(cn->domain, "ai.onnx") != 0) ||	/* public */
	    !clip_bounds(g, ix, cn, default_opset(p), &lo, &hi) || lo != 0.0f || hi != 6.0f)
		return 0;
	a = ci_g_producer(ix, cn->inputs[0]);
	if (!is_op(g, a, "Add") || ci_g_sole_consumer(ix, cn->inputs[0]) != (long)ci ||
	    (s = const_side(g, ix, a, 3.0f, 1)) < 0)
		return 0;
	x = g->nodes[a].inputs[1 - s];
	m = next_op(g, ix, cn->outputs[0], "Mul");
	if (m < 0)
		return 0;
	s = strcmp(g->nodes[m].inputs[0], cn->outputs[0]) == 0 ? 1 : 0;	/* public */
	if (strcmp(g->nodes[m].inputs[s], x) != 0)	/* public */
		return 0;
	d = next_op(g, ix, g->nodes[m].outputs[0], "Div");
	if (d >= 0) {
		if (const_side(g, ix, d, 6.0f, 0) != 1)
			return 0;
	} else {
		d = next_op(g, ix, g->nodes[m].outputs[0], "Mul");
		if (d < 0 || const_side(g, ix, d, 1.0f / 6.0f, 1) < 0)
			return 0;
	}
	if (ci_g_set_op(cn, CI_DOMAIN_CINFER, "HardSwish", e) != 0)
		return -1;
	for (size_t i = 0; i < cn->n_attrs; i++)
		ci_attr_clear(&cn->attrs[i]);
	cn->n_attrs = 0;
	for (size_t i = 1; i < cn->n_in; i++) {
		ci_free(cn->inputs[i]);
		cn->inputs[i] = NULL;
	}
	cn->n_in = 1;
	if (ci_g_set_input(cn, 0, x, e) != 0 ||
	    ci_g_set_output(cn, 0, g->nodes[d].outputs[0], e) != 0)
		return -1;
	ci_g_kill(g, (size_t)a);
	ci_g_kill(g, (size_t)m);
	ci_g_kill(g, (size_t)d);
	atomic_fetch_add(&n_hswish, 1);
	return 0;
}

static int
default_opset(const struct ci_model_proto *p)
{
	for (size_t i = 0; i < p->n_opsets; i++)
		if (p->opsets[i].domain[0] == '\0' || strcmp(p->opsets[i].domain, "ai.onnx") == 0)	/* public */
			return (int)p->opsets[i].version;
	return 0;
}

static int
fuse_scaled_softmax(const struct ci_model_proto *p, struct ci_graph *g, struct ci_gindex *ix,
    size_t si, struct cinfer_err *e)
{
	struct ci_node *sn = &g->nodes[si];
	const struct ci_attr *ax;
	long m;
	float c, scale;
	int side;
	const char *x;

	if (sn->n_in != 1 || sn->n_out != 1 || sn->inputs[0][0] == '\0' ||
	    (sn->domain[0] != '\0' && strcmp(sn->domain, "ai.onnx") != 0))	/* public */
		return 0;
	ax = ci_node_attr(sn, "axis");
	if (sn->n_attrs > 1 || (sn->n_attrs == 1 && ax == NULL))
		return 0;
	if (ax ? ax->type != CI_AT_INT || ax->i != -1 : default_opset(p) < 13)
		return 0;
	m = ci_g_producer(ix, sn->inputs[0]);
	if (ci_g_sole_consumer(ix, sn->inputs[0]) != (long)si)
		return 0;
	if (is_op(g, m, "Mul")) {
		side = scalar(g, ix, g->nodes[m].inputs[1], &c) ? 1 :
		    scalar(g, ix, g->nodes[m].inputs[0], &c) ? 0 : -1;
		scale = c;
	} else if (is_op(g, m, "Div")) {
		side = scalar(g, ix, g->nodes[m].inputs[1], &c) && c != 0.0f ? 1 : -1;
		scale = 1.0f / c;
	} else {
		return 0;
	}
	if (side < 0 || !isfinite(scale))
		return 0;
	x = g->nodes[m].inputs[1 - side];
	if (ci_g_set_op(sn, CI_DOMAIN_CINFER, "ScaledSoftmax", e) != 0 ||
	    ci_g_set_input(sn, 0, x, e) != 0)
		return -1;
	for (size_t a = 0; a < sn->n_attrs; a++)
		ci_attr_clear(&sn->attrs[a]);
	sn->n_attrs = 0;
	if (ci_g_attr_f(sn, "scale", scale, e) != 0)
		return -1;
	ci_g_kill(g, (size_t)m);
	atomic_fetch_add(&n_ssm, 1);
	return 0;
}

int
ci_pass_transformer(struct ci_model_proto *p, struct ci_graph *g, struct ci_gindex *ix,
    struct cinfer_err *e)
{
	for (size_t i = 0; i < g->n_nodes; i++) {
		const struct ci_node *n = &g->nodes[i];
		if (n->op_type == NULL)
			continue;
		if (strcmp(n->op_type, "Erf") == 0 && fuse_gelu(g, ix, i, e) != 0)	/* public */
			return -1;
		if (strcmp(n->op_type, "Clip") == 0 &&	/* public */
		    fuse_hardswish(p, g, ix, i, e) != 0)
			return -1;
		if (strcmp(n->op_type, "Softmax") == 0 &&	/* public */
		    fuse_scaled_softmax(p, g, ix, i, e) != 0)
			return -1;
	}
	return 0;
}
