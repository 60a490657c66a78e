/*
 * Graph pass: GEMM fusions (see graph.h).
 *
 *   MatMul(A, W) -> Add(., b) [-> Relu | com.cinfer Gelu]
 *     => com.cinfer FusedMatMul(A, W, b) activation = "" | "Relu" | "Gelu"
 *
 * when W is a constant 2-D float [k, n], b a constant 1-D float [n], and
 * each intermediate value has exactly one consumer and is not a graph
 * output. The bias and activation then run in the GEMM's epilogue while
 * each tile of the output is in L1, instead of two more passes over it.
 * FusedMatMul is in ops/matmul.c.
 */
#include <stdatomic.h>
#include <string.h>

#include "runtime/graph.h"
#include "runtime/pass_gemm.h"

static atomic_size_t fused;

size_t
ci_pass_gemm_fused(void)
{
	return atomic_load(&fused);
}

static int
is_op(const struct ci_node *n, const char *domain, const char *op)
{
	const char *d = n->domain ? n->domain : "";

	if (strcmp(domain, "") == 0 && strcmp(d, "ai.onnx") == 0)	/* public */
		d = "";
	return n->op_type != NULL && strcmp(n->op_type, op) == 0 && strcmp(d, domain) == 0;	/* public */
}

static int
float_const(const struct ci_gindex *ix, const char *name, int ndim, const struct ci_tensor **t)
{
	*t = ci_g_const(ix, name);
	return *t != NULL && (*t)->dtype == CI_DT_FLOAT && (*t)->ndim == ndim;
}

/* Fuses at MatMul node i if the pattern holds; 1 if it did. */
static int
fuse_one(struct ci_graph *g, struct ci_gindex *ix, size_t i, struct cinfer_err *e)
{
	struct ci_node *mm = &g->nodes[i], *add, *act = NULL;
	const struct ci_tensor *w, *b;
	const char *bias, *actname = "";
	long ai, ci;

	if (!is_op(mm, "", "MatMul") || mm->n_in != 2 || mm->n_out != 1 || mm->n_attrs != 0)
		return 0;
	if (!float_const(ix, mm->inputs[1], 2, &w))
		return 0;
	ai = ci_g_sole_consumer(ix, mm->outputs[0]);
	if (ai < 0)
		return 0;
	add = &g->nodes[ai];
	if (!is_op(add, "", "Add") || add->n_in != 2 || add->n_out != 1)
		return 0;
	bias = strcmp(add->inputs[0], mm->outputs[0]) == 0 ? add->inputs[1] : add->inputs[0];	/* public */
	if (strcmp(bias, mm->outputs[0]) == 0)	/* public: Add(x, x) */
		return 0;
	if (!float_const(ix, bias, 1, &b) || b->dims[0] != w->dims[1])
		return 0;
	ci = ci_g_sole_consumer(ix, add->outputs[0]);
	if (ci >= 0) {
		struct ci_node *c = &g->nodes[ci];
		if (c->n_in == 1 && c->n_out == 1 && is_op(c, "", "Relu")) {
			act = c;
			actname = "Relu";
		} else if (c->n_in == 1 && c->n_out == 1 && c->n_attrs == 0 &&
		    is_op(c, CI_DOMAIN_CINFER, "Gelu")) {
			act = c;
			actname = "Gelu";
		}
	}
	if (ci_g_set_input(mm, 2, bias, e) != 0 ||
	    ci_g_set_output(mm, 0, act ? act->outputs[0] : add->outputs[0], e) != 0 ||
	    ci_g_set_op(mm, CI_DOMAIN_CINFER, "FusedMatMul", e) != 0 ||
	    ci_g_attr_s(mm, "activation", actname, e) != 0)
		return -1;
	ci_g_kill(g, (size_t)ai);
	if (act)
		ci_g_kill(g, (size_t)ci);
	atomic_fetch_add(&fused, 1);
	return 1;
}

int
ci_pass_gemm(struct ci_model_proto *p, struct ci_graph *g, struct ci_gindex *ix,
    struct cinfer_err *e)
{
	(void)p;
	for (size_t i = 0; i < g->n_nodes; i++) {
		if (g->nodes[i].op_type == NULL)
			continue;
		if (fuse_one(g, ix, i, e) < 0)
			return -1;
	}
	return 0;
}
