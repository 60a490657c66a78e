/*
 * TopK, CumSum, Einsum (explicit and implicit forms, repeated indices,
 * ellipsis), ReverseSequence, Det, Hann/Hamming/Blackman windows.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/rt.h"
#include "runtime/ops/ops.h"

static void
store_f64(struct ci_tensor *t, size_t i, double v)
{
	ci_convert((uint8_t *)t->data + i * ci_dt_size(t->dtype), t->dtype, &v, CI_DT_DOUBLE, 1);
}

static int
numeric(int dt)
{
	switch (dt) {
	case CI_DT_FLOAT: case CI_DT_DOUBLE: case CI_DT_INT32: case CI_DT_INT64:
	case CI_DT_UINT32: case CI_DT_UINT64: case CI_DT_INT8: case CI_DT_UINT8:
	case CI_DT_INT16: case CI_DT_UINT16:
		return 1;
	default:
		return 0;
	}
}

/* ---- TopK ------------------------------------------------------------------ */
struct kv {
	double v;
	int64_t i;
};

static int
kv_desc(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;

	if (x->v != y->v)
		return x->v > y->v ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

static int
kv_asc(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;

	if (x->v != y->v)
		return x->v < y->v ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

static int
run_topk(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0), *kt = ci_in(k, 1);
	int64_t kk, dims[CI_RT_MAX_DIMS];
	int ax, largest = (int)ci_attr_i(k->node, "largest", 1);
	size_t outer = 1, inner = 1, n;
	struct kv *buf;

	if (x == NULL || (k->opset >= 10 && kt == NULL))
		return ci_op_fail(k, e, "missing input");
	if (!numeric(x->dtype))
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "TopK: type");
	if (k->opset < 10)
		kk = ci_attr_i(k->node, "k", -1);
	else if (kt->count != 1 || kt->dtype != CI_DT_INT64)
		return ci_op_fail(k, e, "K must be one int64");
	else
		kk = ((const int64_t *)kt->data)[0];
	ax = ci_axis(ci_attr_i(k->node, "axis", -1), x->ndim);
	if (ax < 0 || kk < 0 || kk > x->dims[ax])
		return ci_op_fail(k, e, "axis or K out of range");
	memcpy(dims, x->dims, sizeof(dims));
	dims[ax] = kk;
	if (ci_out(k, 0, x->dtype, x->ndim, dims, e) != 0 ||
	    ci_out(k, 1, CI_DT_INT64, x->ndim, dims, e) != 0)
		return -1;
	for (int d = 0; d < ax; d++)
		outer *= (size_t)x->dims[d];
	for (int d = ax + 1; d < x->ndim; d++)
		inner *= (size_t)x->dims[d];
	n = (size_t)x->dims[ax];
	buf = ci_scratch(k, (n ? n : 1) * sizeof(*buf), e);
	if (buf == NULL)
		return -1;
	for (size_t o = 0; o < outer; o++)
		for (size_t i = 0; i < inner; i++) {
			for (size_t j = 0; j < n; j++) {
				buf[j].v = ci_tensor_f64(x, (o * n + j) * inner + i);
				buf[j].i = (int64_t)j;
			}
			qsort(buf, n, sizeof(*buf), largest ? kv_desc : kv_asc);
			for (size_t j = 0; j < (size_t)kk; j++) {
				size_t dst = (o * (size_t)kk + j) * inner + i;
				size_t es = ci_dt_size(x->dtype);
				if (k->out[0])
					memcpy((uint8_t *)k->out[0]->data + dst * es, (const uint8_t *)x->data +
					    ((o * n + (size_t)buf[j].i) * inner + i) * es, es);
				if (k->out[1])
					((int64_t *)k->out[1]->data)[dst] = buf[j].i;
			}
		}
	return 0;
}

/* ---- CumSum ---------------------------------------------------------------- */
static int
run_cumsum(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0), *at = ci_in(k, 1);
	int excl = (int)ci_attr_i(k->node, "exclusive", 0), rev = (int)ci_attr_i(k->node, "reverse", 0);
	int ax;
	size_t outer = 1, inner = 1, n;

	if (x == NULL || at == NULL || at->count != 1 ||
	    (at->dtype != CI_DT_INT32 && at->dtype != CI_DT_INT64))
		return ci_op_fail(k, e, "inputs");
	if (!numeric(x->dtype))
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "CumSum: type");
	ax = ci_axis(ci_tensor_i64(at, 0), x->ndim);
	if (ax < 0)
		return ci_op_fail(k, e, "axis");
	if (ci_out_like(k, 0, x->dtype, x, e) != 0)
		return -1;
	for (int d = 0; d < ax; d++)
		outer *= (size_t)x->dims[d];
	for (int d = ax + 1; d < x->ndim; d++)
		inner *= (size_t)x->dims[d];
	n = (size_t)x->dims[ax];
	for (size_t o = 0; o < outer; o++)
		for (size_t i = 0; i < inner; i++) {
			double s = 0;
			int64_t si = 0;
			int isf = x->dtype == CI_DT_FLOAT || x->dtype == CI_DT_DOUBLE;
			for (size_t jj = 0; jj < n; jj++) {
				size_t j = rev ? n - 1 - jj : jj, idx = (o * n + j) * inner + i;
				if (isf) {
					double v = ci_tensor_f64(x, idx);
					if (!excl)
						s += v;
					store_f64(k->out[0], idx, s);
					if (excl)
						s += v;
				} else {
					int64_t v = ci_tensor_i64(x, idx), r;
					if (!excl)
						si += v;
					r = si;
					ci_convert((uint8_t *)k->out[0]->data + idx * ci_dt_size(x->dtype),
					    x->dtype, &r, CI_DT_INT64, 1);
					if (excl)
						si += v;
				}
			}
		}
	return 0;
}

/* ---- Einsum ----------------------------------------------------------------- */
#define EIN_MAX 16	/* distinct index letters */

struct ein_term {
	int n;
	int lab[CI_RT_MAX_DIMS];	/* label id per dim */
};

/* Parses one term; '...' expands to ell labels (ids 52..). */
static int
ein_term(const char **p, struct ein_term *t, int ndim, int *ell_n)
{
	int n = 0;

	t->n = 0;
	while (**p && **p != ',' && **p != '-') {
		char c = **p;
		if (c == ' ') {
			(*p)++;
			continue;
		}
		if (c == '.') {
			int en;
			if (strncmp(*p, "...", 3) != 0)
				return -1;
			*p += 3;
			/* labels after the ellipsis are counted later: reserve by rank */
			{
				const char *q = *p;
				int after = 0;
				while (*q && *q != ',' && *q != '-') {
					if ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z'))
						after++;
					q++;
				}
				en = ndim >= 0 ? ndim - n - after : *ell_n;
			}
			if (en < 0 || (*ell_n >= 0 && ndim >= 0 && en != *ell_n && *ell_n != 0 && en != 0))
				return -1;
			if (en > *ell_n)
				*ell_n = en;
			for (int i = 0; i < en; i++) {
				if (n >= CI_RT_MAX_DIMS)
					return -1;
				t->lab[n++] = 52 + (*ell_n - en) + i;
			}
			continue;
		}
		if (c >= 'a' && c <= 'z') {
			if (n >= CI_RT_MAX_DIMS)
				return -1;
			t->lab[n++] = c - 'a';
		} else if (c >= 'A' && c <= 'Z') {
			if (n >= CI_RT_MAX_DIMS)
				return -1;
			t->lab[n++] = 26 + c - 'A';
		} else {
			return -1;
		}
		(*p)++;
	}
	t->n = n;
	return 0;
}

static int
run_einsum(struct ci_kctx *k, struct cinfer_err *e)
{
	const char *eq = ci_attr_s(k->node, "equation", NULL), *p;
	struct ein_term in[8], out;
	int nin = (int)k->n_in, ell = 0, uses[64] = { 0 }, map[64], nl = 0, letters[EIN_MAX];
	int64_t size[64], dims[CI_RT_MAX_DIMS];
	int dt;

	if (eq == NULL || nin < 1 || nin > 8)
		return ci_op_fail(k, e, "equation or inputs");
	dt = k->in[0] ? k->in[0]->dtype : 0;
	for (int i = 0; i < nin; i++)
		if (k->in[i] == NULL || k->in[i]->dtype != dt)
			return ci_op_fail(k, e, "inputs must share a type");
	if (!numeric(dt))
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "Einsum: type");
	for (int i = 0; i < 64; i++)
		size[i] = -1;
	p = eq;
	for (int i = 0; i < nin; i++) {
		int en = -1;
		while (*p == ' ')
			p++;
		if (ein_term(&p, &in[i], k->in[i]->ndim, &en) != 0 || in[i].n != k->in[i]->ndim)
			return ci_op_fail(k, e, "term %d does not match its input", i);
		if (en > ell)
			ell = en;
		for (int d = 0; d < in[i].n; d++) {
			int l = in[i].lab[d];
			int64_t s = k->in[i]->dims[d];
			/* ellipsis dims broadcast: keep the larger of 1 and n */
			if (size[l] < 0 || size[l] == 1)
				size[l] = s;
			else if (s != size[l] && !(l >= 52 && s == 1))
				return ci_op_fail(k, e, "index sizes differ");
			uses[l]++;
		}
		if (i + 1 < nin) {
			if (*p != ',')
				return ci_op_fail(k, e, "equation has too few terms");
			p++;
		}
	}
	while (*p == ' ')
		p++;
	if (p[0] == '-' && p[1] == '>') {
		int en = ell;
		p += 2;
		while (*p == ' ')
			p++;
		if (ein_term(&p, &out, -1, &en) != 0 || *p != '\0')
			return ci_op_fail(k, e, "bad output term");
	} else if (*p == '\0') {
		/* implicit: ellipsis dims, then letters used once, alphabetical */
		out.n = 0;
		for (int i = 0; i < ell; i++)
			out.lab[out.n++] = 52 + i;
		for (int l = 0; l < 52; l++)
			if (uses[l] == 1) {
				if (out.n >= CI_RT_MAX_DIMS)
					return ci_op_fail(k, e, "output rank");
				out.lab[out.n++] = l;
			}
	} else {
		return ci_op_fail(k, e, "too many terms");
	}
	for (int d = 0; d < out.n; d++) {
		if (size[out.lab[d]] < 0)
			return ci_op_fail(k, e, "output index not in any input");
		dims[d] = size[out.lab[d]];
	}
	for (int l = 0; l < 64; l++) {
		map[l] = -1;
		if (size[l] >= 0) {
			if (nl >= EIN_MAX)
				return ci_op_fail(k, e, "too many indices");
			map[l] = nl;
			letters[nl++] = l;
		}
	}
	if (ci_out(k, 0, dt, out.n, dims, e) != 0)
		return -1;
	{
		int64_t idx[EIN_MAX] = { 0 };
		double *acc;
		size_t ist[8][EIN_MAX], ost[EIN_MAX];
		uint64_t total = 1;
		memset(ist, 0, sizeof(ist));
		memset(ost, 0, sizeof(ost));
		for (int i = 0; i < nl; i++) {
			if (size[letters[i]] > 0 && total > (1ull << 32) / (uint64_t)size[letters[i]])
				return ci_op_fail(k, e, "einsum too large for the generic loop");
			total *= (uint64_t)size[letters[i]];
		}
		for (int i = 0; i < nin; i++) {
			size_t s = 1;
			for (int d = in[i].n - 1; d >= 0; d--) {
				if (k->in[i]->dims[d] != 1)
					ist[i][map[in[i].lab[d]]] += s;
				s *= (size_t)k->in[i]->dims[d];
			}
		}
		{
			size_t s = 1;
			for (int d = out.n - 1; d >= 0; d--) {
				ost[map[out.lab[d]]] += s;
				s *= (size_t)dims[d];
			}
		}
		acc = ci_scratch(k, (k->out[0]->count + 1) * sizeof(double), e);
		if (acc == NULL)
			return -1;
		memset(acc, 0, (k->out[0]->count + 1) * sizeof(double));
		for (uint64_t t = 0; t < total; t++) {
			double v = 1;
			size_t o = 0;
			for (int i = 0; i < nin; i++) {
				size_t off = 0;
				for (int l = 0; l < nl; l++)
					off += ist[i][l] * (size_t)idx[l];
				v *= ci_tensor_f64(k->in[i], off);
			}
			for (int l = 0; l < nl; l++)
				o += ost[l] * (size_t)idx[l];
			acc[o] += v;
			for (int l = nl - 1; l >= 0; l--) {
				if (++idx[l] < size[letters[l]])
					break;
				idx[l] = 0;
			}
		}
		for (size_t i = 0; i < k->out[0]->count; i++)
			store_f64(k->out[0], i, acc[i]);
	}
	return 0;
}

/* ---- ReverseSequence ------------------------------------------------------------ */
static int
run_reverse_sequence(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0), *sl = ci_in(k, 1);
	int ba = (int)ci_attr_i(k->node, "batch_axis", 1), ta = (int)ci_attr_i(k->node, "time_axis", 0);
	size_t xs[CI_RT_MAX_DIMS], s = 1, es;
	int64_t idx[CI_RT_MAX_DIMS] = { 0 };

	if (x == NULL || sl == NULL || x->ndim < 2 || (ba != 0 && ba != 1) || ta != 1 - ba ||
	    sl->dtype != CI_DT_INT64 || sl->count != (size_t)x->dims[ba] || ci_dt_size(x->dtype) == 0)
		return ci_op_fail(k, e, "inputs or axes");
	for (size_t i = 0; i < sl->count; i++) {
		int64_t v = ((const int64_t *)sl->data)[i];
		if (v < 0 || v > x->dims[ta])
			return ci_op_fail(k, e, "sequence length out of range");
	}
	if (ci_out_like(k, 0, x->dtype, x, e) != 0)
		return -1;
	for (int d = x->ndim - 1; d >= 0; d--) {
		xs[d] = s;
		s *= (size_t)x->dims[d];
	}
	es = ci_dt_size(x->dtype);
	for (size_t o = 0; o < x->count; o++) {
		int64_t len = ((const int64_t *)sl->data)[idx[ba]], t = idx[ta];
		size_t src = o;
		if (t < len)
			src = o - (size_t)t * xs[ta] + (size_t)(len - 1 - t) * xs[ta];
		memcpy((uint8_t *)k->out[0]->data + o * es, (const uint8_t *)x->data + src * es, es);
		for (int d = x->ndim - 1; d >= 0; d--) {
			if (++idx[d] < x->dims[d])
				break;
			idx[d] = 0;
		}
	}
	return 0;
}

/* ---- Det --------------------------------------------------------------------- */
static int
run_det(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0);
	size_t n, mats;
	double *a;

	if (x == NULL || x->ndim < 2 || x->dims[x->ndim - 1] != x->dims[x->ndim - 2] ||
	    (x->dtype != CI_DT_FLOAT && x->dtype != CI_DT_DOUBLE))
		return ci_op_fail(k, e, "input must be [..., M, M] float");
	n = (size_t)x->dims[x->ndim - 1];
	if (n > 4096)
		return ci_op_fail(k, e, "matrix too large");
	if (ci_out(k, 0, x->dtype, x->ndim - 2, x->dims, e) != 0)
		return -1;
	mats = k->out[0]->count;
	a = ci_scratch(k, (n * n + 1) * sizeof(double), e);
	if (a == NULL)
		return -1;
	for (size_t m = 0; m < mats; m++) {
		double det = 1;
		for (size_t i = 0; i < n * n; i++)
			a[i] = ci_tensor_f64(x, m * n * n + i);
		for (size_t c = 0; c < n; c++) {
			size_t piv = c;
			for (size_t r = c + 1; r < n; r++)
				if (fabs(a[r * n + c]) > fabs(a[piv * n + c]))
					piv = r;
			if (a[piv * n + c] == 0) {
				det = 0;
				break;
			}
			if (piv != c) {
				for (size_t j = 0; j < n; j++) {
					double t = a[c * n + j];
					a[c * n + j] = a[piv * n + j];
					a[piv * n + j] = t;
				}
				det = -det;
			}
			det *= a[c * n + c];
			for (size_t r = c + 1; r < n; r++) {
				double f = a[r * n + c] / a[c * n + c];
				for (size_t j = c; j < n; j++)
					a[r * n + j] -= f * a[c * n + j];
			}
		}
		store_f64(k->out[0], m, det);
	}
	return 0;
}

/* ---- windows ------------------------------------------------------------------ */
static int
window(struct ci_kctx *k, int kind, struct cinfer_err *e)
{
	struct ci_tensor *s = ci_in(k, 0);
	int periodic = (int)ci_attr_i(k->node, "periodic", 1);
	int dt = (int)ci_attr_i(k->node, "output_datatype", CI_DT_FLOAT);
	int64_t n;
	double nn;

	if (s == NULL || s->count != 1 || (s->dtype != CI_DT_INT32 && s->dtype != CI_DT_INT64))
		return ci_op_fail(k, e, "size must be one integer");
	n = ci_tensor_i64(s, 0);
	if (n < 0 || n > 1 << 24 || !numeric(dt))
		return ci_op_fail(k, e, "size or output_datatype");
	if (ci_out(k, 0, dt, 1, &n, e) != 0)
		return -1;
	nn = (double)(periodic ? n : n - 1);
	for (int64_t i = 0; i < n; i++) {
		double x = nn > 0 ? 2 * M_PI * (double)i / nn : 0, v;
		if (kind == 0)
			v = 0.5 - 0.5 * cos(x);
		else if (kind == 1)
			v = 25.0 / 46.0 - (1 - 25.0 / 46.0) * cos(x);
		else
			v = 0.42 - 0.5 * cos(x) + 0.08 * cos(2 * x);
		store_f64(k->out[0], (size_t)i, v);
	}
	return 0;
}

static int run_hann(struct ci_kctx *k, struct cinfer_err *e) { return window(k, 0, e); }
static int run_hamming(struct ci_kctx *k, struct cinfer_err *e) { return window(k, 1, e); }
static int run_blackman(struct ci_kctx *k, struct cinfer_err *e) { return window(k, 2, e); }

/* ---- Unique ------------------------------------------------------------------ */
struct uq {
	const struct ci_tensor *x;
	size_t outer, n, inner;
};

/* Lexicographic order of slices a and b along the axis. */
static int
slice_cmp(const struct uq *u, size_t a, size_t b)
{
	for (size_t o = 0; o < u->outer; o++)
		for (size_t i = 0; i < u->inner; i++) {
			double va = ci_tensor_f64(u->x, (o * u->n + a) * u->inner + i);
			double vb = ci_tensor_f64(u->x, (o * u->n + b) * u->inner + i);
			if (va != vb)
				return va < vb ? -1 : 1;
		}
	return 0;
}

/* Stable merge sort of slice indices (ties keep index order). */
static void
msort(const struct uq *u, int64_t *v, int64_t *tmp, size_t n)
{
	size_t h, i, j, o;

	if (n < 2)
		return;
	h = n / 2;
	msort(u, v, tmp, h);
	msort(u, v + h, tmp, n - h);
	for (i = 0, j = h, o = 0; i < h || j < n;) {
		if (j >= n || (i < h && slice_cmp(u, (size_t)v[i], (size_t)v[j]) <= 0))
			tmp[o++] = v[i++];
		else
			tmp[o++] = v[j++];
	}
	memcpy(v, tmp, n * sizeof(*v));
}

static int
run_unique(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0);
	const struct ci_attr *aa = ci_node_attr(k->node, "axis");
	int sorted = (int)ci_attr_i(k->node, "sorted", 1), ax = -1;
	struct uq u;
	int64_t *ord, *tmp, *grp, *first, *cnt, *rank, ng = 0, dims[CI_RT_MAX_DIMS];
	size_t es;

	if (x == NULL || !numeric(x->dtype))
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "Unique: type");
	u.x = x;
	u.outer = 1;
	u.inner = 1;
	if (aa) {
		ax = ci_axis(aa->i, x->ndim);
		if (ax < 0)
			return ci_op_fail(k, e, "axis");
		for (int d = 0; d < ax; d++)
			u.outer *= (size_t)x->dims[d];
		for (int d = ax + 1; d < x->ndim; d++)
			u.inner *= (size_t)x->dims[d];
		u.n = (size_t)x->dims[ax];
	} else {
		u.n = x->count;
	}
	ord = ci_scratch(k, (u.n + 1) * sizeof(int64_t), e);
	tmp = ci_scratch(k, (u.n + 1) * sizeof(int64_t), e);
	grp = ci_scratch(k, (u.n + 1) * sizeof(int64_t), e);
	first = ci_scratch(k, (u.n + 1) * sizeof(int64_t), e);
	cnt = ci_scratch(k, (u.n + 1) * sizeof(int64_t), e);
	rank = ci_scratch(k, (u.n + 1) * sizeof(int64_t), e);
	if (!ord || !tmp || !grp || !first || !cnt || !rank)
		return -1;
	for (size_t i = 0; i < u.n; i++)
		ord[i] = (int64_t)i;
	msort(&u, ord, tmp, u.n);
	/* groups in sorted order; first[g] = smallest index, grp[slice] = g */
	for (size_t i = 0; i < u.n; i++) {
		if (i == 0 || slice_cmp(&u, (size_t)ord[i - 1], (size_t)ord[i]) != 0) {
			first[ng] = ord[i];
			cnt[ng] = 0;
			ng++;
		}
		grp[ord[i]] = ng - 1;
		cnt[ng - 1]++;
	}
	/* output position of each group */
	if (sorted) {
		for (int64_t g = 0; g < ng; g++)
			rank[g] = g;
	} else {
		int64_t r = 0;
		for (size_t i = 0; i < u.n; i++) {
			int64_t g = grp[i];
			if (first[g] == (int64_t)i)
				rank[g] = r++;
		}
	}
	if (aa) {
		memcpy(dims, x->dims, sizeof(dims));
		dims[ax] = ng;
		if (ci_out(k, 0, x->dtype, x->ndim, dims, e) != 0)
			return -1;
	} else if (ci_out(k, 0, x->dtype, 1, &ng, e) != 0) {
		return -1;
	}
	{
		int64_t nn = (int64_t)u.n;
		if (ci_out(k, 1, CI_DT_INT64, 1, &ng, e) != 0 || ci_out(k, 2, CI_DT_INT64, 1, &nn, e) != 0 ||
		    ci_out(k, 3, CI_DT_INT64, 1, &ng, e) != 0)
			return -1;
	}
	es = ci_dt_size(x->dtype);
	for (int64_t g = 0; g < ng; g++) {
		int64_t r = rank[g];
		for (size_t o = 0; o < u.outer; o++)
			memcpy((uint8_t *)k->out[0]->data + ((o * (size_t)ng + (size_t)r) * u.inner) * es,
			    (const uint8_t *)x->data + ((o * u.n + (size_t)first[g]) * u.inner) * es,
			    u.inner * es);
		if (k->n_out > 1 && k->out[1])
			((int64_t *)k->out[1]->data)[r] = first[g];
		if (k->n_out > 3 && k->out[3])
			((int64_t *)k->out[3]->data)[r] = cnt[g];
	}
	if (k->n_out > 2 && k->out[2])
		for (size_t i = 0; i < u.n; i++)
			((int64_t *)k->out[2]->data)[i] = rank[grp[i]];
	return 0;
}

CI_OP_DEF(BlackmanWindow, "BlackmanWindow", 17, run_blackman);
CI_OP_DEF(CumSum, "CumSum", 11, run_cumsum);
CI_OP_DEF(Det, "Det", 11, run_det);
CI_OP_DEF(Einsum, "Einsum", 12, run_einsum);
CI_OP_DEF(HammingWindow, "HammingWindow", 17, run_hamming);
CI_OP_DEF(HannWindow, "HannWindow", 17, run_hann);
CI_OP_DEF(ReverseSequence, "ReverseSequence", 10, run_reverse_sequence);
CI_OP_DEF(TopK, "TopK", 1, run_topk);
CI_OP_DEF(Unique, "Unique", 11, run_unique);
