/*
 * Shape and data-movement operators: Reshape, Flatten, Squeeze, Unsqueeze,
 * Transpose, Concat, Split, Slice, Gather*, Scatter*, Expand, Tile, Pad,
 * Shape, Size, ConstantOfShape, Range, Identity, Cast, CastLike, Dropout,
 * DepthToSpace, SpaceToDepth, Trilu, OneHot, NonZero, EyeLike, Compress.
 * All are type-generic (element size only) unless they compute values.
 */
#include <math.h>
#include <string.h>

#include "runtime/rt.h"
#include "runtime/ops/ops.h"

static size_t
esz(const struct ci_tensor *t)
{
	return ci_dt_size(t->dtype);
}

static int
need_in(struct ci_kctx *k, size_t n, struct cinfer_err *e)
{
	for (size_t i = 0; i < n; i++)
		if (ci_in(k, i) == NULL)
			return ci_op_fail(k, e, "input %zu missing", i);
	if (ci_dt_size(k->in[0]->dtype) == 0)
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "%s: type %s",
		    k->node->op_type, ci_dt_name(k->in[0]->dtype));
	return 0;
}

static int
is_int_tensor(const struct ci_tensor *t)
{
	return t->dtype == CI_DT_INT64 || t->dtype == CI_DT_INT32;
}

/* Reads a 1-D int tensor (or ints attribute) into v, at most CI_RT_MAX_DIMS*2. */
static int
int_list(struct ci_kctx *k, const struct ci_tensor *t, int64_t *v, size_t max, size_t *n,
    struct cinfer_err *e)
{
	*n = 0;
	if (!is_int_tensor(t) || t->ndim > 1)
		return ci_op_fail(k, e, "expected a 1-D int tensor");
	if (t->count > max)
		return ci_op_fail(k, e, "list of %zu entries", t->count);
	for (size_t i = 0; i < t->count; i++)
		v[i] = ci_tensor_i64(t, i);
	*n = t->count;
	return 0;
}

static int
copy_out(struct ci_kctx *k, const struct ci_tensor *x, int nd, const int64_t *dims,
    struct cinfer_err *e)
{
	if (ci_out(k, 0, x->dtype, nd, dims, e) != 0)
		return -1;
	if (k->out[0] && x->count)
		memcpy(k->out[0]->data, x->data, x->count * esz(x));
	return 0;
}

/* ---- Reshape, Flatten, Squeeze, Unsqueeze, Identity ---------------------------- */
/* Output 0 as input 0 with dims: shares the buffer (ci_out_view). */
static int
view_out(struct ci_kctx *k, int nd, const int64_t *dims, struct cinfer_err *e)
{
	return ci_out_view(k, 0, 0, nd, dims, e);
}

static int
run_reshape(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0);
	int64_t shape[CI_RT_MAX_DIMS], dims[CI_RT_MAX_DIMS];
	size_t ns, prod = 1;
	int infer = -1, allowzero = (int)ci_attr_i(k->node, "allowzero", 0);

	if (need_in(k, 1, e) != 0)
		return -1;
	if (k->opset < 5) {
		const int64_t *s = ci_attr_ints(k->node, "shape", &ns);
		if (ns > CI_RT_MAX_DIMS)
			return ci_op_fail(k, e, "rank");
		if (ns)
			memcpy(shape, s, ns * sizeof(int64_t));
	} else {
		if (ci_in(k, 1) == NULL)
			return ci_op_fail(k, e, "shape missing");
		if (int_list(k, k->in[1], shape, CI_RT_MAX_DIMS, &ns, e) != 0)
			return -1;
	}
	for (size_t i = 0; i < ns; i++) {
		if (shape[i] == 0 && !allowzero) {
			if (i >= (size_t)x->ndim)
				return ci_op_fail(k, e, "0 copies a dimension that does not exist");
			dims[i] = x->dims[i];
		} else if (shape[i] == -1) {
			if (infer >= 0)
				return ci_op_fail(k, e, "two -1 dimensions");
			infer = (int)i;
			dims[i] = 1;
		} else if (shape[i] < 0) {
			return ci_op_fail(k, e, "negative dimension");
		} else {
			dims[i] = shape[i];
		}
		if (dims[i] > 0 && prod > CI_RT_MAX_TENSOR_SIZE / (size_t)dims[i])
			return ci_op_fail(k, e, "too large");
		prod *= (size_t)dims[i];
	}
	if (infer >= 0) {
		if (prod == 0 || x->count % prod != 0)
			return ci_op_fail(k, e, "cannot infer -1");
		dims[infer] = (int64_t)(x->count / prod);
		prod *= (size_t)dims[infer];
	}
	if (prod != x->count)
		return ci_op_fail(k, e, "%zu elements into %zu", x->count, prod);
	return view_out(k, (int)ns, dims, e);
}

static int
run_flatten(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0);
	int64_t dims[2] = { 1, 1 };
	int ax;

	if (need_in(k, 1, e) != 0)
		return -1;
	ax = (int)ci_attr_i(k->node, "axis", 1);
	if (ax < 0)
		ax += x->ndim;
	if (ax < 0 || ax > x->ndim)
		return ci_op_fail(k, e, "axis");
	for (int i = 0; i < x->ndim; i++)
		dims[i < ax ? 0 : 1] *= x->dims[i];
	return view_out(k, 2, dims, e);
}

static int
axes_of(struct ci_kctx *k, size_t in_idx, int64_t *axes, size_t *n, struct cinfer_err *e)
{
	*n = 0;
	if (k->opset < 13) {
		const int64_t *a = ci_attr_ints(k->node, "axes", n);
		if (*n > CI_RT_MAX_DIMS)
			return ci_op_fail(k, e, "too many axes");
		if (*n)
			memcpy(axes, a, *n * sizeof(int64_t));
		return 0;
	}
	if (ci_in(k, in_idx) == NULL)
		return 0;
	return int_list(k, k->in[in_idx], axes, CI_RT_MAX_DIMS, n, e);
}

static int
run_squeeze(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0);
	int64_t axes[CI_RT_MAX_DIMS], dims[CI_RT_MAX_DIMS];
	int drop[CI_RT_MAX_DIMS] = { 0 }, nd = 0;
	size_t na;

	if (need_in(k, 1, e) != 0 || axes_of(k, 1, axes, &na, e) != 0)
		return -1;
	for (size_t i = 0; i < na; i++) {
		int a = ci_axis(axes[i], x->ndim);
		if (a < 0 || x->dims[a] != 1)
			return ci_op_fail(k, e, "axis %lld cannot be squeezed", (long long)axes[i]);
		drop[a] = 1;
	}
	for (int i = 0; i < x->ndim; i++)
		if (na ? !drop[i] : x->dims[i] != 1)
			dims[nd++] = x->dims[i];
	return view_out(k, nd, dims, e);
}

static int
run_unsqueeze(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0);
	int64_t axes[CI_RT_MAX_DIMS], dims[CI_RT_MAX_DIMS];
	int ins[CI_RT_MAX_DIMS] = { 0 }, nd, j = 0;
	size_t na;

	if (need_in(k, 1, e) != 0 || axes_of(k, 1, axes, &na, e) != 0)
		return -1;
	nd = x->ndim + (int)na;
	if (nd > CI_RT_MAX_DIMS || na == 0)
		return ci_op_fail(k, e, "bad axes");
	for (size_t i = 0; i < na; i++) {
		int a = ci_axis(axes[i], nd);
		if (a < 0 || ins[a])
			return ci_op_fail(k, e, "axis %lld", (long long)axes[i]);
		ins[a] = 1;
	}
	for (int i = 0; i < nd; i++)
		dims[i] = ins[i] ? 1 : x->dims[j++];
	return view_out(k, nd, dims, e);
}

static int
run_identity(struct ci_kctx *k, struct cinfer_err *e)
{
	if (need_in(k, 1, e) != 0)
		return -1;
	return view_out(k, k->in[0]->ndim, k->in[0]->dims, e);
}

static int
run_dropout(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0);

	if (need_in(k, 1, e) != 0)
		return -1;
	if (ci_in(k, 2) && k->in[2]->count == 1 && ci_tensor_i64(k->in[2], 0) != 0)
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "Dropout in training mode");
	if (k->opset < 7 && ci_attr_i(k->node, "is_test", 0) == 0)
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "Dropout in training mode");
	if (view_out(k, x->ndim, x->dims, e) != 0)
		return -1;
	if (k->n_out > 1 && k->out[1]) {
		if (ci_out_like(k, 1, k->opset >= 10 ? CI_DT_BOOL : x->dtype, x, e) != 0)
			return -1;
		if (k->opset >= 10)
			memset(k->out[1]->data, 1, x->count);
		else
			return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "Dropout mask < opset 10");
	}
	return 0;
}

/* ---- Transpose ------------------------------------------------------------------ */


static void
transpose_walk(const struct ci_tensor *x, const int *perm, void *dst)
{
	int nd = x->ndim;
	size_t es = esz(x), st[CI_RT_MAX_DIMS], ost[CI_RT_MAX_DIMS], total = x->count;
	int64_t odims[CI_RT_MAX_DIMS], idx[CI_RT_MAX_DIMS] = { 0 };
	size_t s = 1, inner, src = 0;

	for (int i = nd - 1; i >= 0; i--) {
		st[i] = s;
		s *= (size_t)x->dims[i];
	}
	for (int i = 0; i < nd; i++) {
		odims[i] = x->dims[perm[i]];
		ost[i] = st[perm[i]];
	}
	if (total == 0)
		return;
	if (nd == 0) {
		memcpy(dst, x->data, es);
		return;
	}
	inner = (size_t)odims[nd - 1];
	for (size_t o = 0; o < total; o += inner) {
		uint8_t *d = (uint8_t *)dst + o * es;
		const uint8_t *sp = (const uint8_t *)x->data;
		size_t is = ost[nd - 1];
		if (is == 1) {
			memcpy(d, sp + src * es, inner * es);
		} else if (es == 4) {
			for (size_t i = 0; i < inner; i++)
				((uint32_t *)d)[i] = ((const uint32_t *)sp)[src + i * is];
		} else {
			for (size_t i = 0; i < inner; i++)
				memcpy(d + i * es, sp + (src + i * is) * es, es);
		}
		for (int j = nd - 2; j >= 0; j--) {
			idx[j]++;
			src += ost[j];
			if (idx[j] < odims[j])
				break;
			src -= ost[j] * (size_t)odims[j];
			idx[j] = 0;
		}
	}
}

/*
 * out[c][r] = in[r][c] for an R x C matrix of 4-byte elements, in 8 x 8
 * tiles so that both sides stay in cache lines.
 */
static void
transpose2d_u32(const uint32_t *in, uint32_t *out, size_t rows, size_t cols)
{
	const size_t t = 8;

	for (size_t r0 = 0; r0 < rows; r0 += t) {
		size_t r1 = r0 + t < rows ? r0 + t : rows;
		for (size_t c0 = 0; c0 < cols; c0 += t) {
			size_t c1 = c0 + t < cols ? c0 + t : cols;
			if (r1 - r0 == t && c1 - c0 == t) {
				for (size_t c = c0; c < c0 + 8; c++)
					for (size_t r = r0; r < r0 + 8; r++)
						out[c * rows + r] = in[r * cols + c];
				continue;
			}
			for (size_t c = c0; c < c1; c++)
				for (size_t r = r0; r < r1; r++)
					out[c * rows + r] = in[r * cols + c];
		}
	}
}

/*
 * Permutes x's axes into dst. Axes of size 1 are dropped and axes that stay
 * neighbours are merged first, so the attention permutations reduce to
 * row copies ((0,2,1,3) keeps the last axis) or batched 2-D transposes
 * ((0,2,3,1) is [B, S, H*D] -> [B, H*D, S]); the rest take the walk.
 */
void
ci_transpose(const struct ci_tensor *x, const int *perm, void *dst)
{
	int nd = x->ndim, keep[CI_RT_MAX_DIMS], q[CI_RT_MAX_DIMS] = { 0 }, r = 0, g = 0;
	int gstart[CI_RT_MAX_DIMS], gof[CI_RT_MAX_DIMS], gperm[CI_RT_MAX_DIMS];
	int64_t kd[CI_RT_MAX_DIMS];
	size_t es = esz(x);
	struct ci_tensor m;

	if (x->count == 0 || nd == 0) {
		transpose_walk(x, perm, dst);
		return;
	}
	/* renumber the axes longer than 1 */
	for (int i = 0; i < nd; i++) {
		keep[i] = -1;
		if (x->dims[i] != 1) {
			kd[r] = x->dims[i];
			keep[i] = r++;
		}
	}
	if (r == 0) {
		memcpy(dst, x->data, es);
		return;
	}
	for (int i = 0, j = 0; i < nd; i++)
		if (keep[perm[i]] >= 0)
			q[j++] = keep[perm[i]];
	/* groups: runs of consecutive input axes in output order */
	for (int i = 0; i < r; i++) {
		if (i == 0 || q[i] != q[i - 1] + 1)
			gstart[g++] = q[i];
	}
	/* merged input dims: groups in input order; gof[k] = group of axis k */
	memset(&m, 0, sizeof(m));
	m.dtype = x->dtype;
	m.data = x->data;
	m.count = x->count;
	m.ndim = 0;
	for (int a = 0; a < r; a++) {
		int first = 0;
		for (int k = 0; k < g; k++)
			first |= gstart[k] == a;
		if (first) {
			gof[a] = m.ndim;
			m.dims[m.ndim++] = kd[a];
		} else {
			gof[a] = m.ndim - 1;
			m.dims[m.ndim - 1] *= kd[a];
		}
	}
	for (int k = 0; k < g; k++)
		gperm[k] = gof[gstart[k]];
	if (g == 1) {
		memcpy(dst, x->data, x->count * es);
		return;
	}
	if (es == 4 && gperm[g - 1] == g - 2 && gperm[g - 2] == g - 1) {
		int batched = 1;
		for (int k = 0; k < g - 2; k++)
			batched &= gperm[k] == k;
		if (batched) {
			size_t rows = (size_t)m.dims[g - 2], cols = (size_t)m.dims[g - 1];
			size_t nb = x->count / (rows * cols);
			for (size_t b = 0; b < nb; b++)
				transpose2d_u32((const uint32_t *)x->data + b * rows * cols,
				    (uint32_t *)dst + b * rows * cols, rows, cols);
			return;
		}
	}
	transpose_walk(&m, gperm, dst);
}

static int
run_transpose(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0);
	int perm[CI_RT_MAX_DIMS], seen[CI_RT_MAX_DIMS] = { 0 };
	int64_t dims[CI_RT_MAX_DIMS];
	size_t np;
	const int64_t *p;

	if (need_in(k, 1, e) != 0)
		return -1;
	p = ci_attr_ints(k->node, "perm", &np);
	if (p && np != (size_t)x->ndim)
		return ci_op_fail(k, e, "perm has %zu entries for rank %d", np, x->ndim);
	for (int i = 0; i < x->ndim; i++) {
		int a = p ? ci_axis(p[i], x->ndim) : x->ndim - 1 - i;
		if (a < 0 || seen[a])
			return ci_op_fail(k, e, "perm is not a permutation");
		seen[a] = 1;
		perm[i] = a;
		dims[i] = x->dims[a];
	}
	if (ci_out(k, 0, x->dtype, x->ndim, dims, e) != 0)
		return -1;
	ci_transpose(x, perm, k->out[0]->data);
	return 0;
}

/* ---- Concat, Split ---------------------------------------------------------- */
static int
run_concat(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x0 = ci_in(k, 0);
	int64_t dims[CI_RT_MAX_DIMS];
	int ax;
	size_t outer = 1, es, off = 0, orow;

	if (need_in(k, 1, e) != 0)
		return -1;
	ax = ci_axis(ci_attr_i(k->node, "axis", k->opset < 4 ? 1 : 0), x0->ndim);
	if (ax < 0)
		return ci_op_fail(k, e, "axis");
	memcpy(dims, x0->dims, sizeof(dims));
	dims[ax] = 0;
	for (size_t i = 0; i < k->n_in; i++) {
		struct ci_tensor *x = k->in[i];
		if (x == NULL || x->dtype != x0->dtype || x->ndim != x0->ndim)
			return ci_op_fail(k, e, "input %zu differs in type or rank", i);
		for (int d = 0; d < x0->ndim; d++)
			if (d != ax && x->dims[d] != x0->dims[d])
				return ci_op_fail(k, e, "input %zu: dim %d differs", i, d);
		dims[ax] += x->dims[ax];
	}
	if (ci_out(k, 0, x0->dtype, x0->ndim, dims, e) != 0)
		return -1;
	es = esz(x0);
	for (int d = 0; d < ax; d++)
		outer *= (size_t)dims[d];
	orow = k->out[0]->count / (outer ? outer : 1) * es;
	for (size_t i = 0; i < k->n_in; i++) {
		struct ci_tensor *x = k->in[i];
		size_t row = outer ? x->count / outer * es : 0;
		for (size_t o = 0; o < outer && row; o++)
			memcpy((uint8_t *)k->out[0]->data + o * orow + off,
			    (const uint8_t *)x->data + o * row, row);
		off += row;
	}
	return 0;
}

static int
run_split(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0);
	int64_t sizes[CI_RT_MAX_NODE_IO];
	size_t ns = 0, outer = 1, inner = 1, es, off = 0, no = k->n_out;
	int ax;

	if (need_in(k, 1, e) != 0)
		return -1;
	ax = ci_axis(ci_attr_i(k->node, "axis", 0), x->ndim);
	if (ax < 0 || no == 0)
		return ci_op_fail(k, e, "axis");
	if (k->opset < 13) {
		const int64_t *s = ci_attr_ints(k->node, "split", &ns);
		if (ns > CI_RT_MAX_NODE_IO)
			return ci_op_fail(k, e, "split");
		if (ns)
			memcpy(sizes, s, ns * sizeof(int64_t));
	} else if (ci_in(k, 1)) {
		if (int_list(k, k->in[1], sizes, CI_RT_MAX_NODE_IO, &ns, e) != 0)
			return -1;
	}
	if (ns == 0) {
		int64_t d = x->dims[ax];
		int64_t nout = ci_attr_i(k->node, "num_outputs", (int64_t)no);
		int64_t chunk = nout > 0 ? (d + nout - 1) / nout : 0;
		if (nout != (int64_t)no || (k->opset < 18 && d % nout != 0))
			return ci_op_fail(k, e, "cannot split %lld evenly", (long long)d);
		for (size_t i = 0; i < no; i++) {
			int64_t left = d - (int64_t)i * chunk;
			sizes[i] = left < chunk ? (left > 0 ? left : 0) : chunk;
		}
		ns = no;
	}
	if (ns != no)
		return ci_op_fail(k, e, "%zu sizes for %zu outputs", ns, no);
	{
		int64_t sum = 0;
		for (size_t i = 0; i < ns; i++) {
			if (sizes[i] < 0)
				return ci_op_fail(k, e, "negative split");
			sum += sizes[i];
		}
		if (sum != x->dims[ax])
			return ci_op_fail(k, e, "split sizes sum to %lld, axis is %lld",
			    (long long)sum, (long long)x->dims[ax]);
	}
	es = esz(x);
	for (int d = 0; d < ax; d++)
		outer *= (size_t)x->dims[d];
	for (int d = ax + 1; d < x->ndim; d++)
		inner *= (size_t)x->dims[d];
	for (size_t i = 0; i < no; i++) {
		int64_t dims[CI_RT_MAX_DIMS];
		size_t row = (size_t)sizes[i] * inner * es, xrow = (size_t)x->dims[ax] * inner * es;
		memcpy(dims, x->dims, sizeof(dims));
		dims[ax] = sizes[i];
		if (ci_out(k, i, x->dtype, x->ndim, dims, e) != 0)
			return -1;
		if (k->out[i] != NULL)
			for (size_t o = 0; o < outer && row; o++)
				memcpy((uint8_t *)k->out[i]->data + o * row,
				    (const uint8_t *)x->data + o * xrow + off, row);
		off += row;
	}
	return 0;
}

/* ---- Slice ---------------------------------------------------------------- */
static int
run_slice(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0);
	int64_t starts[CI_RT_MAX_DIMS], ends[CI_RT_MAX_DIMS], axes[CI_RT_MAX_DIMS],
	    steps[CI_RT_MAX_DIMS];
	int64_t st[CI_RT_MAX_DIMS], sp[CI_RT_MAX_DIMS], dims[CI_RT_MAX_DIMS];
	size_t ns, ne, na, nst, es;
	int seen[CI_RT_MAX_DIMS] = { 0 };

	if (need_in(k, 1, e) != 0)
		return -1;
	if (k->opset < 10) {
		const int64_t *s = ci_attr_ints(k->node, "starts", &ns);
		const int64_t *en = ci_attr_ints(k->node, "ends", &ne);
		const int64_t *a = ci_attr_ints(k->node, "axes", &na);
		if (ns > CI_RT_MAX_DIMS || ne != ns || (a && na != ns))
			return ci_op_fail(k, e, "starts/ends/axes");
		memcpy(starts, s, ns * sizeof(int64_t));
		memcpy(ends, en, ne * sizeof(int64_t));
		if (a)
			memcpy(axes, a, na * sizeof(int64_t));
		else
			for (size_t i = 0; i < ns; i++)
				axes[i] = (int64_t)i;
		for (size_t i = 0; i < ns; i++)
			steps[i] = 1;
	} else {
		if (ci_in(k, 1) == NULL || ci_in(k, 2) == NULL)
			return ci_op_fail(k, e, "starts/ends missing");
		if (int_list(k, k->in[1], starts, CI_RT_MAX_DIMS, &ns, e) != 0 ||
		    int_list(k, k->in[2], ends, CI_RT_MAX_DIMS, &ne, e) != 0)
			return -1;
		if (ne != ns)
			return ci_op_fail(k, e, "starts and ends differ in length");
		if (ci_in(k, 3)) {
			if (int_list(k, k->in[3], axes, CI_RT_MAX_DIMS, &na, e) != 0)
				return -1;
			if (na != ns)
				return ci_op_fail(k, e, "axes length");
		} else {
			for (size_t i = 0; i < ns; i++)
				axes[i] = (int64_t)i;
		}
		if (ci_in(k, 4)) {
			if (int_list(k, k->in[4], steps, CI_RT_MAX_DIMS, &nst, e) != 0)
				return -1;
			if (nst != ns)
				return ci_op_fail(k, e, "steps length");
		} else {
			for (size_t i = 0; i < ns; i++)
				steps[i] = 1;
		}
	}
	for (int d = 0; d < x->ndim; d++) {
		st[d] = 0;
		sp[d] = 1;
		dims[d] = x->dims[d];
	}
	for (size_t i = 0; i < ns; i++) {
		int a = ci_axis(axes[i], x->ndim);
		int64_t n, s, en, step = steps[i];
		if (a < 0 || seen[a])
			return ci_op_fail(k, e, "axis %lld", (long long)axes[i]);
		seen[a] = 1;
		if (step == 0)
			return ci_op_fail(k, e, "step 0");
		n = x->dims[a];
		s = starts[i];
		en = ends[i];
		if (s < 0)
			s = s < -n ? 0 : s + n;
		if (en < 0)
			en = en < -n ? -1 : en + n;
		if (step > 0) {
			s = s > n ? n : s;
			en = en > n ? n : en < 0 ? 0 : en;
			dims[a] = en > s ? (en - s + step - 1) / step : 0;
		} else {
			s = s > n - 1 ? n - 1 : s;
			en = en > n - 1 ? n - 1 : en;
			dims[a] = s > en ? (s - en + (-step) - 1) / (-step) : 0;
		}
		st[a] = s;
		sp[a] = step;
	}
	if (ci_out(k, 0, x->dtype, x->ndim, dims, e) != 0)
		return -1;
	es = esz(x);
	{
		size_t total = k->out[0]->count, xs[CI_RT_MAX_DIMS], s = 1;
		int64_t idx[CI_RT_MAX_DIMS] = { 0 };
		for (int d = x->ndim - 1; d >= 0; d--) {
			xs[d] = s;
			s *= (size_t)x->dims[d];
		}
		for (size_t o = 0; o < total; o++) {
			size_t src = 0;
			for (int d = 0; d < x->ndim; d++)
				src += (size_t)(st[d] + idx[d] * sp[d]) * xs[d];
			memcpy((uint8_t *)k->out[0]->data + o * es, (const uint8_t *)x->data + src * es, es);
			for (int d = x->ndim - 1; d >= 0; d--) {
				if (++idx[d] < dims[d])
					break;
				idx[d] = 0;
			}
		}
	}
	return 0;
}

/* ---- Gather family -------------------------------------------------------------- */
static int
run_gather(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0), *ind = ci_in(k, 1);
	int64_t dims[CI_RT_MAX_DIMS];
	int ax, nd = 0;
	size_t outer = 1, inner = 1, es;

	if (need_in(k, 2, e) != 0)
		return -1;
	if (!is_int_tensor(ind))
		return ci_op_fail(k, e, "indices type");
	ax = ci_axis(ci_attr_i(k->node, "axis", 0), x->ndim);
	if (ax < 0 || x->ndim - 1 + ind->ndim > CI_RT_MAX_DIMS)
		return ci_op_fail(k, e, "axis or rank");
	for (int d = 0; d < ax; d++) {
		dims[nd++] = x->dims[d];
		outer *= (size_t)x->dims[d];
	}
	for (int d = 0; d < ind->ndim; d++)
		dims[nd++] = ind->dims[d];
	for (int d = ax + 1; d < x->ndim; d++) {
		dims[nd++] = x->dims[d];
		inner *= (size_t)x->dims[d];
	}
	for (size_t i = 0; i < ind->count; i++) {
		int64_t v = ci_tensor_i64(ind, i);
		if (v < -x->dims[ax] || v >= x->dims[ax])
			return ci_op_fail(k, e, "index %lld out of range", (long long)v);
	}
	if (ci_out(k, 0, x->dtype, nd, dims, e) != 0)
		return -1;
	es = esz(x);
	for (size_t o = 0; o < outer; o++)
		for (size_t i = 0; i < ind->count; i++) {
			int64_t v = ci_tensor_i64(ind, i);
			if (v < 0)
				v += x->dims[ax];
			memcpy((uint8_t *)k->out[0]->data + ((o * ind->count) + i) * inner * es,
			    (const uint8_t *)x->data + ((o * (size_t)x->dims[ax]) + (size_t)v) * inner * es,
			    inner * es);
		}
	return 0;
}

static void
strides_of(const struct ci_tensor *t, size_t *st)
{
	size_t s = 1;

	for (int d = t->ndim - 1; d >= 0; d--) {
		st[d] = s;
		s *= (size_t)t->dims[d];
	}
}

static int
run_gather_elements(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0), *ind = ci_in(k, 1);
	size_t xs[CI_RT_MAX_DIMS], es;
	int64_t idx[CI_RT_MAX_DIMS] = { 0 };
	int ax;

	if (need_in(k, 2, e) != 0)
		return -1;
	ax = ci_axis(ci_attr_i(k->node, "axis", 0), x->ndim);
	if (!is_int_tensor(ind) || ind->ndim != x->ndim || ax < 0)
		return ci_op_fail(k, e, "indices rank or axis");
	for (int d = 0; d < x->ndim; d++)
		if (d != ax && ind->dims[d] > x->dims[d])
			return ci_op_fail(k, e, "indices shape");
	if (ci_out_like(k, 0, x->dtype, ind, e) != 0)
		return -1;
	strides_of(x, xs);
	es = esz(x);
	for (size_t o = 0; o < ind->count; o++) {
		int64_t v = ci_tensor_i64(ind, o);
		size_t src = 0;
		if (v < -x->dims[ax] || v >= x->dims[ax])
			return ci_op_fail(k, e, "index out of range");
		if (v < 0)
			v += x->dims[ax];
		for (int d = 0; d < x->ndim; d++)
			src += (size_t)(d == ax ? v : idx[d]) * xs[d];
		memcpy((uint8_t *)k->out[0]->data + o * es, (const uint8_t *)x->data + src * es, es);
		for (int d = x->ndim - 1; d >= 0; d--) {
			if (++idx[d] < ind->dims[d])
				break;
			idx[d] = 0;
		}
	}
	return 0;
}

enum { RED_NONE, RED_ADD, RED_MUL, RED_MAX, RED_MIN };

static int
reduction_of(struct ci_kctx *k, int *r, struct cinfer_err *e)
{
	const char *s = ci_attr_s(k->node, "reduction", "none");

	if (strcmp(s, "none") == 0)	/* public */
		*r = RED_NONE;
	else if (strcmp(s, "add") == 0)	/* public */
		*r = RED_ADD;
	else if (strcmp(s, "mul") == 0)	/* public */
		*r = RED_MUL;
	else if (strcmp(s, "max") == 0)	/* public */
		*r = RED_MAX;
	else if (strcmp(s, "min") == 0)	/* public */
		*r = RED_MIN;
	else
		return ci_op_fail(k, e, "reduction %s", s);
	return 0;
}

static int
scatter_elem(struct ci_tensor *y, size_t di, const struct ci_tensor *u, size_t si, int red,
    struct ci_kctx *k, struct cinfer_err *e)
{
	size_t es = esz(y);

	if (red == RED_NONE) {
		memcpy((uint8_t *)y->data + di * es, (const uint8_t *)u->data + si * es, es);
		return 0;
	}
	if (y->dtype == CI_DT_FLOAT) {
		float *d = (float *)y->data + di, s = ((const float *)u->data)[si];
		*d = red == RED_ADD ? *d + s : red == RED_MUL ? *d * s : red == RED_MAX ?
		    (*d > s ? *d : s) : (*d < s ? *d : s);
		return 0;
	}
	if (y->dtype == CI_DT_INT64) {
		int64_t *d = (int64_t *)y->data + di, s = ((const int64_t *)u->data)[si];
		*d = red == RED_ADD ? *d + s : red == RED_MUL ? *d * s : red == RED_MAX ?
		    (*d > s ? *d : s) : (*d < s ? *d : s);
		return 0;
	}
	return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "%s reduction on %s",
	    k->node->op_type, ci_dt_name(y->dtype));
}

static int
run_scatter_elements(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0), *ind = ci_in(k, 1), *u = ci_in(k, 2);
	size_t xs[CI_RT_MAX_DIMS];
	int64_t idx[CI_RT_MAX_DIMS] = { 0 };
	int ax, red;

	if (need_in(k, 3, e) != 0 || reduction_of(k, &red, e) != 0)
		return -1;
	ax = ci_axis(ci_attr_i(k->node, "axis", 0), x->ndim);
	if (!is_int_tensor(ind) || ind->ndim != x->ndim || ax < 0 || u->dtype != x->dtype ||
	    u->ndim != ind->ndim)
		return ci_op_fail(k, e, "shapes");
	for (int d = 0; d < x->ndim; d++)
		if (u->dims[d] != ind->dims[d] || (d != ax && ind->dims[d] > x->dims[d]))
			return ci_op_fail(k, e, "shapes");
	if (copy_out(k, x, x->ndim, x->dims, e) != 0)
		return -1;
	strides_of(x, xs);
	for (size_t o = 0; o < ind->count; o++) {
		int64_t v = ci_tensor_i64(ind, o);
		size_t dst = 0;
		if (v < -x->dims[ax] || v >= x->dims[ax])
			return ci_op_fail(k, e, "index out of range");
		if (v < 0)
			v += x->dims[ax];
		for (int d = 0; d < x->ndim; d++)
			dst += (size_t)(d == ax ? v : idx[d]) * xs[d];
		if (scatter_elem(k->out[0], dst, u, o, red, k, e) != 0)
			return -1;
		for (int d = x->ndim - 1; d >= 0; d--) {
			if (++idx[d] < ind->dims[d])
				break;
			idx[d] = 0;
		}
	}
	return 0;
}

/* Offset of the slice addressed by index tuple t (length q) in x. */
static int
nd_offset(const struct ci_tensor *x, int bd, const struct ci_tensor *ind, size_t row, size_t q,
    const size_t *xs, size_t *off)
{
	size_t o = 0;

	for (size_t j = 0; j < q; j++) {
		int64_t v = ci_tensor_i64(ind, row * q + j), n = x->dims[bd + (int)j];
		if (v < -n || v >= n)
			return -1;
		if (v < 0)
			v += n;
		o += (size_t)v * xs[bd + (int)j];
	}
	*off = o;
	return 0;
}

static int
run_gather_nd(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0), *ind = ci_in(k, 1);
	int bd = (int)ci_attr_i(k->node, "batch_dims", 0), nd = 0;
	int64_t dims[CI_RT_MAX_DIMS];
	size_t q, xs[CI_RT_MAX_DIMS], inner = 1, es, rows, batch = 1, per_batch;

	if (need_in(k, 2, e) != 0)
		return -1;
	if (!is_int_tensor(ind) || ind->ndim < 1 || bd < 0 || bd >= ind->ndim || bd >= x->ndim)
		return ci_op_fail(k, e, "indices");
	q = (size_t)ind->dims[ind->ndim - 1];
	if ((int)q + bd > x->ndim)
		return ci_op_fail(k, e, "index tuple too long");
	for (int d = 0; d < bd; d++)
		if (ind->dims[d] != x->dims[d])
			return ci_op_fail(k, e, "batch dims differ");
	for (int d = 0; d < ind->ndim - 1; d++)
		dims[nd++] = ind->dims[d];
	for (int d = bd + (int)q; d < x->ndim; d++) {
		if (nd >= CI_RT_MAX_DIMS)
			return ci_op_fail(k, e, "rank");
		dims[nd++] = x->dims[d];
		inner *= (size_t)x->dims[d];
	}
	if (ci_out(k, 0, x->dtype, nd, dims, e) != 0)
		return -1;
	strides_of(x, xs);
	es = esz(x);
	rows = q ? ind->count / q : 0;
	for (int d = 0; d < bd; d++)
		batch *= (size_t)x->dims[d];
	per_batch = batch ? rows / batch : 0;
	for (size_t r = 0; r < rows; r++) {
		size_t off, b = per_batch ? r / per_batch : 0;
		if (nd_offset(x, bd, ind, r, q, xs, &off) != 0)
			return ci_op_fail(k, e, "index out of range");
		off += b * (bd > 0 ? xs[bd - 1] : 0);
		memcpy((uint8_t *)k->out[0]->data + r * inner * es, (const uint8_t *)x->data + off * es,
		    inner * es);
	}
	return 0;
}

static int
run_scatter_nd(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0), *ind = ci_in(k, 1), *u = ci_in(k, 2);
	size_t q, xs[CI_RT_MAX_DIMS], inner = 1, rows;
	int red;

	if (need_in(k, 3, e) != 0 || reduction_of(k, &red, e) != 0)
		return -1;
	if (!is_int_tensor(ind) || ind->ndim < 1 || u->dtype != x->dtype)
		return ci_op_fail(k, e, "indices");
	q = (size_t)ind->dims[ind->ndim - 1];
	if ((int)q > x->ndim)
		return ci_op_fail(k, e, "index tuple too long");
	for (int d = (int)q; d < x->ndim; d++)
		inner *= (size_t)x->dims[d];
	rows = q ? ind->count / q : 0;
	if (u->count != rows * inner)
		return ci_op_fail(k, e, "updates shape");
	if (copy_out(k, x, x->ndim, x->dims, e) != 0)
		return -1;
	strides_of(x, xs);
	for (size_t r = 0; r < rows; r++) {
		size_t off;
		if (nd_offset(x, 0, ind, r, q, xs, &off) != 0)
			return ci_op_fail(k, e, "index out of range");
		for (size_t i = 0; i < inner; i++)
			if (scatter_elem(k->out[0], off + i, u, r * inner + i, red, k, e) != 0)
				return -1;
	}
	return 0;
}

/* ---- Expand, Tile ------------------------------------------------------------ */
/* Copies x broadcast to the output's shape (output already made). */
static void
broadcast_copy(const struct ci_tensor *x, struct ci_tensor *y)
{
	size_t es = esz(x), st[CI_RT_MAX_DIMS], s = 1;
	int64_t idx[CI_RT_MAX_DIMS] = { 0 };
	int off = y->ndim - x->ndim;

	for (int d = y->ndim - 1; d >= 0; d--) {
		int xd = d - off;
		int64_t n = xd >= 0 ? x->dims[xd] : 1;
		st[d] = n == 1 ? 0 : s;
		s *= (size_t)n;
	}
	for (size_t o = 0; o < y->count; o++) {
		size_t src = 0;
		for (int d = 0; d < y->ndim; d++)
			src += st[d] * (size_t)idx[d];
		memcpy((uint8_t *)y->data + o * es, (const uint8_t *)x->data + src * es, es);
		for (int d = y->ndim - 1; d >= 0; d--) {
			if (++idx[d] < y->dims[d])
				break;
			idx[d] = 0;
		}
	}
}

static int
run_expand(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0);
	int64_t shape[CI_RT_MAX_DIMS], dims[CI_RT_MAX_DIMS];
	size_t ns;
	int nd;

	if (need_in(k, 2, e) != 0 || int_list(k, k->in[1], shape, CI_RT_MAX_DIMS, &ns, e) != 0)
		return -1;
	if (ci_broadcast(x->ndim, x->dims, (int)ns, shape, &nd, dims) != 0)
		return ci_op_fail(k, e, "shape does not broadcast");
	if (ci_out(k, 0, x->dtype, nd, dims, e) != 0)
		return -1;
	broadcast_copy(x, k->out[0]);
	return 0;
}

static int
run_tile(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0);
	int64_t rep[CI_RT_MAX_DIMS], dims[CI_RT_MAX_DIMS], idx[CI_RT_MAX_DIMS] = { 0 };
	size_t nr, xs[CI_RT_MAX_DIMS], es;

	if (need_in(k, 2, e) != 0 || int_list(k, k->in[1], rep, CI_RT_MAX_DIMS, &nr, e) != 0)
		return -1;
	if (nr != (size_t)x->ndim)
		return ci_op_fail(k, e, "repeats length");
	for (int d = 0; d < x->ndim; d++) {
		if (rep[d] < 0 || (rep[d] > 0 && x->dims[d] > INT64_MAX / rep[d]))
			return ci_op_fail(k, e, "repeats");
		dims[d] = x->dims[d] * rep[d];
	}
	if (ci_out(k, 0, x->dtype, x->ndim, dims, e) != 0)
		return -1;
	strides_of(x, xs);
	es = esz(x);
	for (size_t o = 0; o < k->out[0]->count; o++) {
		size_t src = 0;
		for (int d = 0; d < x->ndim; d++)
			src += (size_t)(idx[d] % x->dims[d]) * xs[d];
		memcpy((uint8_t *)k->out[0]->data + o * es, (const uint8_t *)x->data + src * es, es);
		for (int d = x->ndim - 1; d >= 0; d--) {
			if (++idx[d] < dims[d])
				break;
			idx[d] = 0;
		}
	}
	return 0;
}

/* ---- Pad ------------------------------------------------------------------- */
static int
run_pad(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0);
	const char *mode = ci_attr_s(k->node, "mode", "constant");
	int64_t pads[2 * CI_RT_MAX_DIMS], dims[CI_RT_MAX_DIMS], idx[CI_RT_MAX_DIMS] = { 0 };
	int64_t pb[CI_RT_MAX_DIMS] = { 0 }, pe[CI_RT_MAX_DIMS] = { 0 };
	size_t np, xs[CI_RT_MAX_DIMS], es;
	uint8_t cval[16] = { 0 };
	int m;

	if (need_in(k, 1, e) != 0)
		return -1;
	es = esz(x);
	if (strcmp(mode, "constant") == 0)	/* public */
		m = 0;
	else if (strcmp(mode, "reflect") == 0)	/* public */
		m = 1;
	else if (strcmp(mode, "edge") == 0)	/* public */
		m = 2;
	else
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "Pad mode %s", mode);
	if (k->opset < 11) {
		const int64_t *p = ci_attr_ints(k->node, "pads", &np);
		float v = ci_attr_f(k->node, "value", 0.0f);
		if (np > 2 * CI_RT_MAX_DIMS)
			return ci_op_fail(k, e, "pads");
		memcpy(pads, p, np * sizeof(int64_t));
		if (x->dtype != CI_DT_FLOAT)
			return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "Pad-2 on non-float");
		memcpy(cval, &v, 4);
	} else {
		if (ci_in(k, 1) == NULL || int_list(k, k->in[1], pads, 2 * CI_RT_MAX_DIMS, &np, e) != 0)
			return ci_op_fail(k, e, "pads");
		if (ci_in(k, 2) && k->in[2]->count > 0) {
			if (k->in[2]->dtype != x->dtype)
				return ci_op_fail(k, e, "constant_value type");
			memcpy(cval, k->in[2]->data, es);
		}
		if (ci_in(k, 3))
			return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "Pad axes");
	}
	if (np != 2 * (size_t)x->ndim)
		return ci_op_fail(k, e, "pads has %zu entries for rank %d", np, x->ndim);
	for (int d = 0; d < x->ndim; d++) {
		pb[d] = pads[d];
		pe[d] = pads[d + x->ndim];
		dims[d] = x->dims[d] + pb[d] + pe[d];
		if (dims[d] < 0)
			return ci_op_fail(k, e, "negative size");
		if (m != 0 && x->dims[d] == 0 && dims[d] > 0)
			return ci_op_fail(k, e, "cannot %s-pad an empty axis", mode);
		if (m == 1 && (pb[d] >= x->dims[d] || pe[d] >= x->dims[d]) && (pb[d] > 0 || pe[d] > 0))
			return ci_op_fail(k, e, "reflect pad larger than the axis");
	}
	if (ci_out(k, 0, x->dtype, x->ndim, dims, e) != 0)
		return -1;
	strides_of(x, xs);
	for (size_t o = 0; o < k->out[0]->count; o++) {
		size_t src = 0;
		int inside = 1;
		for (int d = 0; d < x->ndim; d++) {
			int64_t i = idx[d] - pb[d], n = x->dims[d];
			if (i < 0 || i >= n) {
				if (m == 0) {
					inside = 0;
					break;
				}
				if (m == 2) {
					i = i < 0 ? 0 : n - 1;
				} else {
					/* reflect (no edge repeat); periodic in 2n-2 */
					int64_t p = 2 * n - 2;
					if (p == 0) {
						i = 0;
					} else {
						i = i % p;
						if (i < 0)
							i += p;
						if (i >= n)
							i = p - i;
					}
				}
			}
			src += (size_t)i * xs[d];
		}
		memcpy((uint8_t *)k->out[0]->data + o * es,
		    inside ? (const uint8_t *)x->data + src * es : cval, es);
		for (int d = x->ndim - 1; d >= 0; d--) {
			if (++idx[d] < dims[d])
				break;
			idx[d] = 0;
		}
	}
	return 0;
}

/* ---- Shape, Size, ConstantOfShape, Range, EyeLike ------------------------ */
static int
run_shape(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0);
	int64_t start, end, n;

	if (x == NULL)
		return ci_op_fail(k, e, "input missing");
	start = ci_attr_i(k->node, "start", 0);
	end = ci_attr_i(k->node, "end", x->ndim);
	if (start < 0)
		start += x->ndim;
	if (end < 0)
		end += x->ndim;
	start = start < 0 ? 0 : start > x->ndim ? x->ndim : start;
	end = end < 0 ? 0 : end > x->ndim ? x->ndim : end;
	n = end > start ? end - start : 0;
	if (ci_out(k, 0, CI_DT_INT64, 1, &n, e) != 0)
		return -1;
	for (int64_t i = 0; i < n; i++)
		((int64_t *)k->out[0]->data)[i] = x->dims[start + i];
	return 0;
}

static int
run_size(struct ci_kctx *k, struct cinfer_err *e)
{
	if (ci_in(k, 0) == NULL)
		return ci_op_fail(k, e, "input missing");
	if (ci_out(k, 0, CI_DT_INT64, 0, NULL, e) != 0)
		return -1;
	*(int64_t *)k->out[0]->data = (int64_t)k->in[0]->count;
	return 0;
}

static int
run_constant_of_shape(struct ci_kctx *k, struct cinfer_err *e)
{
	const struct ci_attr *a = ci_node_attr(k->node, "value");
	int64_t dims[CI_RT_MAX_DIMS];
	size_t nd, es;
	int dt = CI_DT_FLOAT;
	uint8_t val[16] = { 0 };

	if (ci_in(k, 0) == NULL || int_list(k, k->in[0], dims, CI_RT_MAX_DIMS, &nd, e) != 0)
		return ci_op_fail(k, e, "shape");
	if (a && a->t) {
		if (a->t->count != 1 || ci_dt_size(a->t->dtype) == 0)
			return ci_op_fail(k, e, "value must be one element");
		dt = a->t->dtype;
		memcpy(val, a->t->data, ci_dt_size(dt));
	}
	if (ci_out(k, 0, dt, (int)nd, dims, e) != 0)
		return -1;
	es = ci_dt_size(dt);
	for (size_t i = 0; i < k->out[0]->count; i++)
		memcpy((uint8_t *)k->out[0]->data + i * es, val, es);
	return 0;
}

static int
run_range(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *s = ci_in(k, 0), *l = ci_in(k, 1), *d = ci_in(k, 2);
	int64_t n;

	if (s == NULL || l == NULL || d == NULL || s->count != 1 || l->count != 1 || d->count != 1 ||
	    s->dtype != l->dtype || s->dtype != d->dtype)
		return ci_op_fail(k, e, "start, limit, delta must be scalars of one type");
	{
		double st = ci_tensor_f64(s, 0), li = ci_tensor_f64(l, 0), de = ci_tensor_f64(d, 0);
		double c;
		if (de == 0)
			return ci_op_fail(k, e, "delta 0");
		c = ceil((li - st) / de);
		if (!(c < 1e9))
			return ci_op_fail(k, e, "range too long");
		n = c > 0 ? (int64_t)c : 0;
		if (ci_out(k, 0, s->dtype, 1, &n, e) != 0)
			return -1;
		for (int64_t i = 0; i < n; i++) {
			switch (s->dtype) {
			case CI_DT_FLOAT:
				((float *)k->out[0]->data)[i] = ((const float *)s->data)[0] +
				    (float)i * ((const float *)d->data)[0];
				break;
			case CI_DT_DOUBLE:
				((double *)k->out[0]->data)[i] = st + (double)i * de;
				break;
			case CI_DT_INT32:
				((int32_t *)k->out[0]->data)[i] = (int32_t)(ci_tensor_i64(s, 0) +
				    i * ci_tensor_i64(d, 0));
				break;
			case CI_DT_INT64:
				((int64_t *)k->out[0]->data)[i] = ci_tensor_i64(s, 0) + i * ci_tensor_i64(d, 0);
				break;
			case CI_DT_INT16:
				((int16_t *)k->out[0]->data)[i] = (int16_t)(ci_tensor_i64(s, 0) +
				    i * ci_tensor_i64(d, 0));
				break;
			default:
				return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "Range type");
			}
		}
	}
	return 0;
}

static void
store_f64(void *dst, int dt, size_t i, double v)
{
	ci_convert((uint8_t *)dst + i * ci_dt_size(dt), dt, &v, CI_DT_DOUBLE, 1);
}

static int
run_eyelike(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0);
	int dt;
	int64_t kk = ci_attr_i(k->node, "k", 0);

	if (x == NULL || x->ndim != 2)
		return ci_op_fail(k, e, "input must be 2-D");
	dt = (int)ci_attr_i(k->node, "dtype", x->dtype);
	if (ci_dt_size(dt) == 0)
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "EyeLike dtype");
	if (ci_out_like(k, 0, dt, x, e) != 0)
		return -1;
	memset(k->out[0]->data, 0, x->count * ci_dt_size(dt));
	for (int64_t i = 0; i < x->dims[0]; i++) {
		int64_t j = i + kk;
		if (j >= 0 && j < x->dims[1])
			store_f64(k->out[0]->data, dt, (size_t)(i * x->dims[1] + j), 1.0);
	}
	return 0;
}

/* ---- Cast ------------------------------------------------------------------ */
static int
is_float_dt(int dt)
{
	return dt == CI_DT_FLOAT || dt == CI_DT_DOUBLE || dt == CI_DT_FLOAT16 ||
	    dt == CI_DT_BFLOAT16;
}

void
ci_convert(void *dst, int ddt, const void *src, int sdt, size_t n)
{
	struct ci_tensor s = { .dtype = sdt, .data = (void *)src };

	for (size_t i = 0; i < n; i++) {
		if (is_float_dt(sdt) || is_float_dt(ddt)) {
			double v = ci_tensor_f64(&s, i);
			switch (ddt) {
			case CI_DT_FLOAT: ((float *)dst)[i] = (float)v; continue;
			case CI_DT_DOUBLE: ((double *)dst)[i] = v; continue;
			case CI_DT_FLOAT16: ((uint16_t *)dst)[i] = ci_f32_to_f16(
				sdt == CI_DT_DOUBLE ? (float)v : (float)v); continue;
			case CI_DT_BFLOAT16: {
				/* truncation, as the ONNX reference (before opset 19) does */
				float f = (float)v;
				uint32_t u;
				memcpy(&u, &f, 4);
				((uint16_t *)dst)[i] = (uint16_t)(u >> 16);
				continue;
			}
			case CI_DT_BOOL: ((uint8_t *)dst)[i] = v != 0; continue;
			default: break;
			}
			/* float to integer: truncate; out of range and NaN give 0 or the limit */
			if (isnan(v))
				v = 0;
			v = trunc(v);
			switch (ddt) {
			case CI_DT_INT8: ((int8_t *)dst)[i] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v); break;
			case CI_DT_UINT8: ((uint8_t *)dst)[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v); break;
			case CI_DT_INT16: ((int16_t *)dst)[i] = (int16_t)(v < -32768 ? -32768 : v > 32767 ? 32767 : v); break;
			case CI_DT_UINT16: ((uint16_t *)dst)[i] = (uint16_t)(v < 0 ? 0 : v > 65535 ? 65535 : v); break;
			case CI_DT_INT32: ((int32_t *)dst)[i] = (int32_t)(v < -2147483648.0 ? -2147483648.0 :
			    v > 2147483647.0 ? 2147483647.0 : v); break;
			case CI_DT_UINT32: ((uint32_t *)dst)[i] = (uint32_t)(v < 0 ? 0 : v > 4294967295.0 ?
			    4294967295.0 : v); break;
			case CI_DT_INT64: ((int64_t *)dst)[i] = v < -9.2e18 ? INT64_MIN : v > 9.2e18 ?
			    INT64_MAX : (int64_t)v; break;
			case CI_DT_UINT64: ((uint64_t *)dst)[i] = v < 0 ? 0 : v > 1.8e19 ? UINT64_MAX :
			    (uint64_t)v; break;
			default: break;
			}
			continue;
		}
		{
			int64_t v = ci_tensor_i64(&s, i);
			switch (ddt) {
			case CI_DT_INT8: ((int8_t *)dst)[i] = (int8_t)v; break;
			case CI_DT_UINT8: ((uint8_t *)dst)[i] = (uint8_t)v; break;
			case CI_DT_BOOL: ((uint8_t *)dst)[i] = v != 0; break;
			case CI_DT_INT16: ((int16_t *)dst)[i] = (int16_t)v; break;
			case CI_DT_UINT16: ((uint16_t *)dst)[i] = (uint16_t)v; break;
			case CI_DT_INT32: ((int32_t *)dst)[i] = (int32_t)v; break;
			case CI_DT_UINT32: ((uint32_t *)dst)[i] = (uint32_t)v; break;
			case CI_DT_INT64: ((int64_t *)dst)[i] = v; break;
			case CI_DT_UINT64: ((uint64_t *)dst)[i] = (uint64_t)v; break;
			default: break;
			}
		}
	}
}

static int
cast_to(struct ci_kctx *k, int to, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0);

	if (need_in(k, 1, e) != 0)
		return -1;
	if (ci_dt_size(to) == 0)
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "Cast to %s", ci_dt_name(to));
	if (ci_out_like(k, 0, to, x, e) != 0)
		return -1;
	if (to == x->dtype)
		memcpy(k->out[0]->data, x->data, x->count * esz(x));
	else
		ci_convert(k->out[0]->data, to, x->data, x->dtype, x->count);
	return 0;
}

static int
run_cast(struct ci_kctx *k, struct cinfer_err *e)
{
	return cast_to(k, (int)ci_attr_i(k->node, "to", 0), e);
}

static int
run_castlike(struct ci_kctx *k, struct cinfer_err *e)
{
	if (ci_in(k, 1) == NULL)
		return ci_op_fail(k, e, "target missing");
	return cast_to(k, k->in[1]->dtype, e);
}

/* ---- DepthToSpace, SpaceToDepth ---------------------------------------------- */
static int
d2s(struct ci_kctx *k, int inverse, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0);
	int64_t b = ci_attr_i(k->node, "blocksize", 0), n, c, h, w, dims[4];
	int crd = strcmp(ci_attr_s(k->node, "mode", "DCR"), "CRD") == 0;	/* public */
	size_t es;

	if (need_in(k, 1, e) != 0)
		return -1;
	if (x->ndim != 4 || b <= 0 || b > 4096)
		return ci_op_fail(k, e, "input must be 4-D with blocksize > 0");
	n = x->dims[0];
	c = x->dims[1];
	h = x->dims[2];
	w = x->dims[3];
	if (!inverse) {
		if (c % (b * b) != 0)
			return ci_op_fail(k, e, "channels not divisible");
		dims[0] = n; dims[1] = c / (b * b); dims[2] = h * b; dims[3] = w * b;
	} else {
		if (h % b != 0 || w % b != 0)
			return ci_op_fail(k, e, "spatial not divisible");
		dims[0] = n; dims[1] = c * b * b; dims[2] = h / b; dims[3] = w / b;
	}
	if (ci_out(k, 0, x->dtype, 4, dims, e) != 0)
		return -1;
	es = esz(x);
	if (!inverse) {
		int64_t oc = dims[1];
		for (int64_t in = 0; in < n; in++)
			for (int64_t ic = 0; ic < oc; ic++)
				for (int64_t y = 0; y < h * b; y++)
					for (int64_t xx = 0; xx < w * b; xx++) {
						int64_t by = y % b, bx = xx % b, sc;
						sc = crd ? ic * b * b + by * b + bx : (by * b + bx) * oc + ic;
						memcpy((uint8_t *)k->out[0]->data +
						    (size_t)(((in * oc + ic) * h * b + y) * w * b + xx) * es,
						    (const uint8_t *)x->data +
						    (size_t)(((in * c + sc) * h + y / b) * w + xx / b) * es, es);
					}
	} else {
		for (int64_t in = 0; in < n; in++)
			for (int64_t ic = 0; ic < c; ic++)
				for (int64_t y = 0; y < h; y++)
					for (int64_t xx = 0; xx < w; xx++) {
						int64_t by = y % b, bx = xx % b;
						int64_t oc = (by * b + bx) * c + ic;
						memcpy((uint8_t *)k->out[0]->data +
						    (size_t)(((in * dims[1] + oc) * dims[2] + y / b) * dims[3] + xx / b) * es,
						    (const uint8_t *)x->data + (size_t)(((in * c + ic) * h + y) * w + xx) * es, es);
					}
	}
	return 0;
}

static int run_d2s(struct ci_kctx *k, struct cinfer_err *e) { return d2s(k, 0, e); }
static int run_s2d(struct ci_kctx *k, struct cinfer_err *e) { return d2s(k, 1, e); }

/* ---- Trilu, OneHot, NonZero, Compress ---------------------------------------- */
static int
run_trilu(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0);
	int upper = (int)ci_attr_i(k->node, "upper", 1);
	int64_t kk = 0, r, c;
	size_t es, mats;

	if (need_in(k, 1, e) != 0)
		return -1;
	if (x->ndim < 2)
		return ci_op_fail(k, e, "rank < 2");
	if (ci_in(k, 1)) {
		if (k->in[1]->count != 1 || !is_int_tensor(k->in[1]))
			return ci_op_fail(k, e, "k");
		kk = ci_tensor_i64(k->in[1], 0);
	}
	if (copy_out(k, x, x->ndim, x->dims, e) != 0)
		return -1;
	r = x->dims[x->ndim - 2];
	c = x->dims[x->ndim - 1];
	es = esz(x);
	mats = r > 0 && c > 0 ? x->count / (size_t)(r * c) : 0;
	for (size_t m = 0; m < mats; m++)
		for (int64_t i = 0; i < r; i++)
			for (int64_t j = 0; j < c; j++) {
				int keep = upper ? j - i >= kk : j - i <= kk;
				if (!keep)
					memset((uint8_t *)k->out[0]->data + (m * (size_t)(r * c) +
					    (size_t)(i * c + j)) * es, 0, es);
			}
	return 0;
}

static int
run_onehot(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *ind = ci_in(k, 0), *dep = ci_in(k, 1), *val = ci_in(k, 2);
	int64_t depth, dims[CI_RT_MAX_DIMS];
	int ax, nd;
	size_t outer = 1, inner = 1, es;

	if (ind == NULL || dep == NULL || val == NULL || dep->count != 1 || val->count != 2 ||
	    ci_dt_size(val->dtype) == 0)
		return ci_op_fail(k, e, "inputs");
	if (!isfinite(ci_tensor_f64(dep, 0)))
		return ci_op_fail(k, e, "depth is not a number");
	depth = ci_f2i(ci_tensor_f64(dep, 0));
	nd = ind->ndim + 1;
	if (depth < 1 || depth > (1 << 24) || nd > CI_RT_MAX_DIMS)
		return ci_op_fail(k, e, "depth or rank");
	ax = ci_axis(ci_attr_i(k->node, "axis", -1), nd);
	if (ax < 0)
		return ci_op_fail(k, e, "axis");
	for (int d = 0, j = 0; d < nd; d++)
		dims[d] = d == ax ? depth : ind->dims[j++];
	if (ci_out(k, 0, val->dtype, nd, dims, e) != 0)
		return -1;
	for (int d = 0; d < ax; d++)
		outer *= (size_t)dims[d];
	for (int d = ax + 1; d < nd; d++)
		inner *= (size_t)dims[d];
	es = esz(val);
	for (size_t o = 0; o < outer; o++)
		for (int64_t dd = 0; dd < depth; dd++)
			for (size_t i = 0; i < inner; i++) {
				int64_t v = ci_f2i(ci_tensor_f64(ind, o * inner + i));
				if (v < 0)
					v += depth;
				memcpy((uint8_t *)k->out[0]->data + ((o * (size_t)depth + (size_t)dd) * inner + i) * es,
				    (const uint8_t *)val->data + (v == dd ? es : 0), es);
			}
	return 0;
}

static int
nonzero_at(const struct ci_tensor *x, size_t i)
{
	size_t es = esz(x);
	const uint8_t *p = (const uint8_t *)x->data + i * es;

	if (x->dtype == CI_DT_FLOAT)
		return *(const float *)p != 0.0f;
	if (x->dtype == CI_DT_DOUBLE)
		return *(const double *)p != 0.0;
	for (size_t b = 0; b < es; b++)
		if (p[b])
			return 1;
	return 0;
}

static int
run_nonzero(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0);
	size_t nz = 0, j = 0;
	int64_t dims[2];
	int r;

	if (need_in(k, 1, e) != 0)
		return -1;
	for (size_t i = 0; i < x->count; i++)
		nz += (size_t)nonzero_at(x, i);
	r = x->ndim ? x->ndim : 1;
	dims[0] = r;
	dims[1] = (int64_t)nz;
	if (ci_out(k, 0, CI_DT_INT64, 2, dims, e) != 0)
		return -1;
	for (size_t i = 0; i < x->count; i++) {
		size_t rem = i;
		if (!nonzero_at(x, i))
			continue;
		for (int d = x->ndim - 1; d >= 0; d--) {
			((int64_t *)k->out[0]->data)[(size_t)d * nz + j] = (int64_t)(rem % (size_t)x->dims[d]);
			rem /= (size_t)x->dims[d];
		}
		if (x->ndim == 0)
			((int64_t *)k->out[0]->data)[j] = 0;
		j++;
	}
	return 0;
}

static int
run_compress(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0), *c = ci_in(k, 1);
	const struct ci_attr *aa = ci_node_attr(k->node, "axis");
	int64_t dims[CI_RT_MAX_DIMS];
	size_t outer = 1, inner = 1, es, len, sel = 0, j = 0;
	int ax = 0, nd;

	if (need_in(k, 2, e) != 0 || c->dtype != CI_DT_BOOL || c->ndim != 1)
		return ci_op_fail(k, e, "condition must be 1-D bool");
	if (aa) {
		ax = ci_axis(aa->i, x->ndim);
		if (ax < 0)
			return ci_op_fail(k, e, "axis");
		len = (size_t)x->dims[ax];
		for (int d = 0; d < ax; d++)
			outer *= (size_t)x->dims[d];
		for (int d = ax + 1; d < x->ndim; d++)
			inner *= (size_t)x->dims[d];
	} else {
		len = x->count;
	}
	for (size_t i = 0; i < c->count && i < len; i++)
		sel += ((const uint8_t *)c->data)[i] != 0;
	if (aa) {
		memcpy(dims, x->dims, sizeof(dims));
		dims[ax] = (int64_t)sel;
		nd = x->ndim;
	} else {
		dims[0] = (int64_t)sel;
		nd = 1;
	}
	if (ci_out(k, 0, x->dtype, nd, dims, e) != 0)
		return -1;
	es = esz(x);
	for (size_t o = 0; o < outer; o++)
		for (size_t i = 0; i < c->count && i < len; i++)
			if (((const uint8_t *)c->data)[i])
				memcpy((uint8_t *)k->out[0]->data + (j++) * inner * es,
				    (const uint8_t *)x->data + (o * len + i) * inner * es, inner * es);
	return 0;
}

CI_OP_DEF(Cast, "Cast", 6, run_cast);
CI_OP_DEF(CastLike, "CastLike", 15, run_castlike);
CI_OP_DEF(Compress, "Compress", 9, run_compress);
CI_OP_DEF(Concat, "Concat", 4, run_concat);
CI_OP_DEF(ConstantOfShape, "ConstantOfShape", 9, run_constant_of_shape);
CI_OP_DEF(DepthToSpace, "DepthToSpace", 1, run_d2s);
CI_OP_DEF(Dropout, "Dropout", 7, run_dropout);
CI_OP_DEF(Expand, "Expand", 8, run_expand);
CI_OP_DEF(EyeLike, "EyeLike", 9, run_eyelike);
CI_OP_DEF(Flatten, "Flatten", 1, run_flatten);
CI_OP_DEF(Gather, "Gather", 1, run_gather);
CI_OP_DEF(GatherElements, "GatherElements", 11, run_gather_elements);
CI_OP_DEF(GatherND, "GatherND", 11, run_gather_nd);
CI_OP_DEF(Identity, "Identity", 1, run_identity);
CI_OP_DEF(NonZero, "NonZero", 9, run_nonzero);
CI_OP_DEF(OneHot, "OneHot", 9, run_onehot);
CI_OP_DEF(Pad, "Pad", 2, run_pad);
CI_OP_DEF(Range, "Range", 11, run_range);
CI_OP_DEF(Reshape, "Reshape", 1, run_reshape);
CI_OP_DEF(Scatter, "Scatter", 9, run_scatter_elements);
CI_OP_DEF(ScatterElements, "ScatterElements", 11, run_scatter_elements);
CI_OP_DEF(ScatterND, "ScatterND", 11, run_scatter_nd);
CI_OP_DEF(Shape, "Shape", 1, run_shape);
CI_OP_DEF(Size, "Size", 1, run_size);
CI_OP_DEF(Slice, "Slice", 1, run_slice);
CI_OP_DEF(SpaceToDepth, "SpaceToDepth", 1, run_s2d);
CI_OP_DEF(Split, "Split", 2, run_split);
CI_OP_DEF(Squeeze, "Squeeze", 1, run_squeeze);
CI_OP_DEF(Tile, "Tile", 6, run_tile);
CI_OP_DEF(Transpose, "Transpose", 1, run_transpose);
CI_OP_DEF(Trilu, "Trilu", 14, run_trilu);
CI_OP_DEF(Unsqueeze, "Unsqueeze", 1, run_unsqueeze);
