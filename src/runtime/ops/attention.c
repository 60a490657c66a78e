/*
 * Attention-score ops of cinfer's internal domain (made by
 * pass_transformer.c): com.cinfer ScaledSoftmax(x) = Softmax(scale * x)
 * over the last axis, one pass over each row instead of a Mul that writes
 * the whole score tensor and a Softmax that reads it back.
 */
#include <math.h>
#include <string.h>

#include "runtime/rt.h"
#include "runtime/ops/ops.h"
#include "runtime/vmath.h"

/* One input, one output, one float attribute "scale" (finite); at load. */
static int
ssm_check(struct ci_kctx *k, struct cinfer_err *e)
{
	const struct ci_node *n = k->node;
	const struct ci_attr *a = ci_node_attr(n, "scale");

	if (n->n_in != 1 || n->inputs[0][0] == '\0' || n->n_out != 1 || n->outputs[0][0] == '\0')
		return ci_op_fail(k, e, "takes one input and one output");
	if (a == NULL || a->type != CI_AT_FLOAT || !isfinite(a->f))
		return ci_op_fail(k, e, "needs a finite float attribute 'scale'");
	if (n->n_attrs != 1)
		return ci_op_fail(k, e, "unknown attributes");
	return 0;
}

struct ssm_job {
	const float *x;
	float *y;
	size_t n;
	float scale;
};

static void
ssm_rows(void *arg, size_t lo, size_t hi)
{
	const struct ssm_job *j = arg;

	for (size_t r = lo; r < hi; r++)
		ci_softmax_row(j->x + r * j->n, j->y + r * j->n, j->n, j->scale);
}

static int
run_scaled_softmax(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0);
	struct ssm_job j;

	if (ssm_check(k, e) != 0)
		return -1;
	if (x == NULL || k->out[0] == NULL)
		return ci_op_fail(k, e, "input or output missing");
	if (x->dtype != CI_DT_FLOAT || x->ndim < 1)
		return ci_op_fail(k, e, "needs a float tensor of rank >= 1");
	if (ci_out_like(k, 0, CI_DT_FLOAT, x, e) != 0)
		return -1;
	j.x = x->data;
	j.y = k->out[0]->data;
	j.n = (size_t)x->dims[x->ndim - 1];
	j.scale = ci_node_attr(k->node, "scale")->f;
	if (j.n == 0 || x->count == 0)
		return 0;
	ci_parallel(k, x->count / j.n, j.n >= 16384 ? 1 : 16384 / j.n, ssm_rows, &j);
	return 0;
}

CI_OP_DEF_INTERNAL(CinferScaledSoftmax, "ScaledSoftmax", run_scaled_softmax, ssm_check);
