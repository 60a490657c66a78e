/*
 * Control flow: If, Loop, Scan (opset 9+). Bodies are subgraphs built at
 * load (model.c), reading enclosing values by name. Loop iterations are
 * capped (CI_RT_MAX_LOOP) so a hostile model cannot spin forever.
 */
#include <string.h>

#include "runtime/rt.h"
#include "runtime/ops/ops.h"

#define CI_RT_MAX_LOOP (1 << 20)

/* Copies t into output i of the node. */
static int
emit(struct ci_kctx *k, size_t i, const struct ci_tensor *t, struct cinfer_err *e)
{
	if (i >= k->n_out || k->out[i] == NULL)
		return 0;
	if (ci_dt_size(t->dtype) == 0)
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "%s output type",
		    k->node->op_type);
	if (ci_out(k, i, t->dtype, t->ndim, t->dims, e) != 0)
		return -1;
	if (t->count)
		memcpy(k->out[i]->data, t->data, t->count * ci_dt_size(t->dtype));
	return 0;
}

static int
run_if(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *c = ci_in(k, 0);
	struct cinfer_model *sg;
	int rc = 0;

	if (c == NULL || c->count != 1 || c->dtype != CI_DT_BOOL)
		return ci_op_fail(k, e, "cond must be one bool");
	sg = ci_kctx_subgraph(k, *(const uint8_t *)c->data ? "then_branch" : "else_branch");
	if (sg == NULL)
		return ci_op_fail(k, e, "branch missing");
	if (cinfer_model_output_count(sg) != k->n_out)
		return ci_op_fail(k, e, "branch has %zu outputs, node %zu",
		    cinfer_model_output_count(sg), k->n_out);
	if (ci_subgraph_run(sg, NULL, 0, e) != 0)
		return -1;
	for (size_t i = 0; i < k->n_out && rc == 0; i++)
		rc = emit(k, i, ci_subgraph_output(sg, i), e);
	ci_subgraph_release(sg);
	return rc;
}

/* An owned copy of a tensor, kept across iterations. */
struct held {
	struct ci_tensor t;
};

static int
hold(struct held *h, const struct ci_tensor *t, struct cinfer_err *e)
{
	size_t size = t->count * ci_dt_size(t->dtype);

	if (ci_dt_size(t->dtype) == 0)
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "loop value type");
	if (h->t.cap < size || h->t.data == NULL) {
		void *p = ci_realloc(h->t.data, size ? size : 1);
		if (p == NULL)
			return ci_fail(e, CINFER_E_NOMEM, CI_STAGE_OP, "out of memory");
		h->t.data = p;
		h->t.cap = size ? size : 1;
	}
	h->t.dtype = t->dtype;
	h->t.ndim = t->ndim;
	memcpy(h->t.dims, t->dims, sizeof(t->dims));
	h->t.count = t->count;
	if (size && t->data != NULL)	/* NULL data: only size the buffer */
		memcpy(h->t.data, t->data, size);
	return 0;
}

/* Appends slice t to a stacked output (all slices must match). */
static int
stack(struct held *h, const struct ci_tensor *t, size_t iter, size_t limit, struct cinfer_err *e)
{
	size_t es = ci_dt_size(t->dtype), size = t->count * es, need;

	if (es == 0 || t->ndim + 1 > CI_RT_MAX_DIMS)
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "scan output type or rank");
	if (iter == 0) {
		h->t.dtype = t->dtype;
		h->t.ndim = t->ndim + 1;
		memcpy(h->t.dims + 1, t->dims, sizeof(int64_t) * (size_t)t->ndim);
		h->t.dims[0] = 0;
		h->t.count = 0;
	} else if (t->dtype != h->t.dtype || t->ndim + 1 != h->t.ndim ||
	    memcmp(h->t.dims + 1, t->dims, sizeof(int64_t) * (size_t)t->ndim) != 0) {	/* public */
		return ci_fail(e, CINFER_E_MALFORMED, CI_STAGE_OP, "scan output shape changes");
	}
	need = (iter + 1) * size;
	if (need > limit)
		return ci_fail(e, CINFER_E_LIMIT, CI_STAGE_OP, "stacked output too large");
	if (h->t.cap < need) {
		size_t nc = h->t.cap ? h->t.cap * 2 : 64;
		void *p;
		while (nc < need)
			nc *= 2;
		p = ci_realloc(h->t.data, nc);
		if (p == NULL)
			return ci_fail(e, CINFER_E_NOMEM, CI_STAGE_OP, "out of memory");
		h->t.data = p;
		h->t.cap = nc;
	}
	if (size)
		memcpy((uint8_t *)h->t.data + iter * size, t->data, size);
	h->t.dims[0] = (int64_t)(iter + 1);
	h->t.count = (iter + 1) * t->count;
	return 0;
}

static void
held_free(struct held *h, size_t n)
{
	for (size_t i = 0; h && i < n; i++)
		ci_free(h[i].t.data);
	ci_free(h);
}

static int
run_loop(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *mt = ci_in(k, 0), *ct = ci_in(k, 1);
	struct cinfer_model *sg = ci_kctx_subgraph(k, "body");
	size_t nc = k->n_in >= 2 ? k->n_in - 2 : 0, nsc, nbo;
	int64_t maxt = -1, it = 0;
	uint8_t cond = 1;
	struct held *carry = NULL, *scans = NULL;
	struct ci_tensor itt = { 0 }, condt = { 0 }, **bin = NULL;
	int rc = -1;

	if (sg == NULL || k->n_in < 2)
		return ci_op_fail(k, e, "body or inputs missing");
	nbo = cinfer_model_output_count(sg);
	if (cinfer_model_input_count(sg) != nc + 2 || nbo < nc + 1 || k->n_out != nbo - 1)
		return ci_op_fail(k, e, "body signature does not match the node");
	nsc = nbo - 1 - nc;
	if (mt) {
		if (mt->count != 1 || mt->dtype != CI_DT_INT64)
			return ci_op_fail(k, e, "M must be one int64");
		maxt = ((const int64_t *)mt->data)[0];
	}
	if (ct) {
		if (ct->count != 1 || ct->dtype != CI_DT_BOOL)
			return ci_op_fail(k, e, "cond must be one bool");
		cond = *(const uint8_t *)ct->data;
	}
	carry = ci_calloc(nc + 1, sizeof(*carry));
	scans = ci_calloc(nsc + 1, sizeof(*scans));
	bin = ci_calloc(nc + 3, sizeof(*bin));
	if (!carry || !scans || !bin) {
		ci_fail(e, CINFER_E_NOMEM, CI_STAGE_OP, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nc; i++) {
		if (k->in[2 + i] == NULL) {
			ci_op_fail(k, e, "loop-carried input %zu missing", i);
			goto out;
		}
		if (hold(&carry[i], k->in[2 + i], e) != 0)
			goto out;
	}
	itt.dtype = CI_DT_INT64;
	itt.count = 1;
	itt.data = &it;
	condt.dtype = CI_DT_BOOL;
	condt.count = 1;
	condt.data = &cond;
	while ((maxt < 0 || it < maxt) && cond) {
		const struct ci_tensor *co;
		if (it >= CI_RT_MAX_LOOP) {
			ci_fail(e, CINFER_E_LIMIT, CI_STAGE_OP, "Loop ran %d iterations", CI_RT_MAX_LOOP);
			goto out;
		}
		bin[0] = &itt;
		bin[1] = &condt;
		for (size_t i = 0; i < nc; i++)
			bin[2 + i] = &carry[i].t;
		if (ci_subgraph_run(sg, bin, nc + 2, e) != 0)
			goto out;
		co = ci_subgraph_output(sg, 0);
		if (co->count != 1 || co->dtype != CI_DT_BOOL) {
			ci_subgraph_release(sg);
			ci_op_fail(k, e, "body cond must be one bool");
			goto out;
		}
		cond = *(const uint8_t *)co->data;
		for (size_t i = 0; i < nc; i++)
			if (hold(&carry[i], ci_subgraph_output(sg, 1 + i), e) != 0) {
				ci_subgraph_release(sg);
				goto out;
			}
		for (size_t i = 0; i < nsc; i++)
			if (stack(&scans[i], ci_subgraph_output(sg, 1 + nc + i), (size_t)it,
			    CI_RT_MAX_TENSOR_SIZE, e) != 0) {
				ci_subgraph_release(sg);
				goto out;
			}
		ci_subgraph_release(sg);
		it++;
	}
	for (size_t i = 0; i < nc; i++)
		if (emit(k, i, &carry[i].t, e) != 0)
			goto out;
	for (size_t i = 0; i < nsc; i++) {
		if (it == 0) {
			int64_t z = 0;
			if (ci_out(k, nc + i, CI_DT_FLOAT, 1, &z, e) != 0)
				goto out;
			continue;
		}
		if (emit(k, nc + i, &scans[i].t, e) != 0)
			goto out;
	}
	rc = 0;
out:
	held_free(carry, nc);
	held_free(scans, nsc);
	ci_free(bin);
	return rc;
}

/* Scan (opset 9+): N state inputs, M scanned inputs, K scan outputs. */
static int
run_scan(struct ci_kctx *k, struct cinfer_err *e)
{
	struct cinfer_model *sg = ci_kctx_subgraph(k, "body");
	int64_t m = ci_attr_i(k->node, "num_scan_inputs", 0);
	size_t nin = k->n_in, n, nk, ia_n, oa_n, id_n, od_n;
	const int64_t *iax = ci_attr_ints(k->node, "scan_input_axes", &ia_n);
	const int64_t *oax = ci_attr_ints(k->node, "scan_output_axes", &oa_n);
	const int64_t *idir = ci_attr_ints(k->node, "scan_input_directions", &id_n);
	const int64_t *odir = ci_attr_ints(k->node, "scan_output_directions", &od_n);
	struct held *state = NULL, *outs = NULL, *slices = NULL;
	struct ci_tensor **bin = NULL;
	int64_t len = -1;
	int rc = -1;

	if (sg == NULL || m < 1 || (size_t)m > nin)
		return ci_op_fail(k, e, "body or num_scan_inputs");
	n = nin - (size_t)m;
	if (cinfer_model_input_count(sg) != nin || cinfer_model_output_count(sg) < n ||
	    cinfer_model_output_count(sg) != k->n_out)
		return ci_op_fail(k, e, "body signature does not match the node");
	nk = k->n_out - n;
	if ((iax && ia_n != (size_t)m) || (idir && id_n != (size_t)m) || (oax && oa_n != nk) ||
	    (odir && od_n != nk))
		return ci_op_fail(k, e, "axes/directions lengths");
	state = ci_calloc(n + 1, sizeof(*state));
	outs = ci_calloc(nk + 1, sizeof(*outs));
	slices = ci_calloc((size_t)m + 1, sizeof(*slices));
	bin = ci_calloc(nin + 1, sizeof(*bin));
	if (!state || !outs || !slices || !bin) {
		ci_fail(e, CINFER_E_NOMEM, CI_STAGE_OP, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nin; i++)
		if (k->in[i] == NULL || ci_dt_size(k->in[i]->dtype) == 0) {
			ci_op_fail(k, e, "input %zu missing or of unsupported type", i);
			goto out;
		}
	for (size_t i = 0; i < n; i++)
		if (hold(&state[i], k->in[i], e) != 0)
			goto out;
	for (int64_t j = 0; j < m; j++) {
		const struct ci_tensor *x = k->in[n + (size_t)j];
		int ax = ci_axis(iax ? iax[j] : 0, x->ndim);
		if (ax < 0) {
			ci_op_fail(k, e, "scan input axis");
			goto out;
		}
		if (len >= 0 && x->dims[ax] != len) {
			ci_op_fail(k, e, "scan inputs differ in length");
			goto out;
		}
		len = x->dims[ax];
	}
	for (int64_t t = 0; t < len; t++) {
		for (size_t i = 0; i < n; i++)
			bin[i] = &state[i].t;
		for (int64_t j = 0; j < m; j++) {
			const struct ci_tensor *x = k->in[n + (size_t)j];
			int ax = ci_axis(iax ? iax[j] : 0, x->ndim), d2 = 0;
			int64_t pos = idir && idir[j] ? len - 1 - t : t;
			size_t outer = 1, inner = 1, es = ci_dt_size(x->dtype);
			struct ci_tensor sl = { 0 };
			for (int d = 0; d < x->ndim; d++) {
				if (d < ax)
					outer *= (size_t)x->dims[d];
				else if (d > ax)
					inner *= (size_t)x->dims[d];
				if (d != ax)
					sl.dims[d2++] = x->dims[d];
			}
			sl.dtype = x->dtype;
			sl.ndim = x->ndim - 1;
			sl.count = outer * inner;
			/* gather the slice through hold()'s buffer */
			if (hold(&slices[j], &sl, e) != 0)
				goto out;
			for (size_t o = 0; o < outer; o++)
				memcpy((uint8_t *)slices[j].t.data + o * inner * es, (const uint8_t *)x->data +
				    ((o * (size_t)len + (size_t)pos) * inner) * es, inner * es);
			bin[n + (size_t)j] = &slices[j].t;
		}
		if (ci_subgraph_run(sg, bin, nin, e) != 0)
			goto out;
		for (size_t i = 0; i < n; i++)
			if (hold(&state[i], ci_subgraph_output(sg, i), e) != 0) {
				ci_subgraph_release(sg);
				goto out;
			}
		for (size_t i = 0; i < nk; i++)
			if (stack(&outs[i], ci_subgraph_output(sg, n + i), (size_t)t, CI_RT_MAX_TENSOR_SIZE,
			    e) != 0) {
				ci_subgraph_release(sg);
				goto out;
			}
		ci_subgraph_release(sg);
	}
	for (size_t i = 0; i < n; i++)
		if (emit(k, i, &state[i].t, e) != 0)
			goto out;
	for (size_t i = 0; i < nk; i++) {
		struct ci_tensor *s = &outs[i].t;
		int ax;
		if (len <= 0) {
			ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "Scan over an empty sequence");
			goto out;
		}
		if (odir && odir[i]) {
			/* reverse the stacking order */
			size_t row = s->count / (size_t)len * ci_dt_size(s->dtype);
			for (int64_t a = 0, b = len - 1; a < b; a++, b--)
				for (size_t q = 0; q < row; q++) {
					uint8_t *pa = (uint8_t *)s->data + (size_t)a * row + q;
					uint8_t *pb = (uint8_t *)s->data + (size_t)b * row + q;
					uint8_t tmp = *pa;
					*pa = *pb;
					*pb = tmp;
				}
		}
		ax = ci_axis(oax ? oax[i] : 0, s->ndim);
		if (ax < 0) {
			ci_op_fail(k, e, "scan output axis");
			goto out;
		}
		if (ax == 0) {
			if (emit(k, n + i, s, e) != 0)
				goto out;
		} else {
			int perm[CI_RT_MAX_DIMS];
			int64_t dims[CI_RT_MAX_DIMS];
			for (int d = 0, q = 1; d < s->ndim; d++)
				perm[d] = d == ax ? 0 : q++;
			for (int d = 0; d < s->ndim; d++)
				dims[d] = s->dims[perm[d]];
			if (ci_out(k, n + i, s->dtype, s->ndim, dims, e) != 0)
				goto out;
			if (k->out[n + i])
				ci_transpose(s, perm, k->out[n + i]->data);
		}
	}
	rc = 0;
out:
	held_free(state, n);
	held_free(outs, nk);
	held_free(slices, (size_t)m);
	ci_free(bin);
	return rc;
}

CI_OP_DEF(If, "If", 1, run_if);
CI_OP_DEF(Loop, "Loop", 1, run_loop);
CI_OP_DEF(Scan, "Scan", 9, run_scan);
