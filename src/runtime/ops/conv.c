/*
 * Conv and ConvTranspose, fp32, 1-D to 3-D, groups, dilations, pads and
 * auto_pad, and com.cinfer FusedConv (pass_conv.c: BatchNorm folded, a
 * residual sum and an activation applied in the epilogue). Conv: weights
 * packed at load; a row kernel for 2-D depthwise convolutions (conv.h),
 * the input itself as the GEMM's B for 1x1/stride-1 convolutions, Winograd
 * F(2x2, 3x3) for 3x3 stride-1 ones (conv_winograd.c), threaded im2col +
 * SGEMM otherwise.
 * ConvTranspose: SGEMM then col2im.
 */
#include <math.h>
#include <string.h>

#include "runtime/rt.h"
#include "runtime/conv.h"
#include "runtime/conv_winograd.h"
#include "runtime/sgemm.h"
#include "runtime/ops/ops.h"
#include "runtime/ops/spatial.h"

struct im2col_args {
	const float *x;
	const struct ci_spatial *sp;
	float *col;
	size_t isz, osz, ksz;
};

/* Unfolds rows [r0, r1) of col: row r = (c, kz, ky, kx), column (oz, oy, ox). */
static void
im2col_rows(void *arg, size_t r0, size_t r1)
{
	const struct im2col_args *a = arg;
	const struct ci_spatial *sp = a->sp;
	size_t k12 = (size_t)(sp->k[1] * sp->k[2]), ow = (size_t)sp->out[2];

	for (size_t r = r0; r < r1; r++) {
		size_t c = r / a->ksz, kk = r % a->ksz;
		int64_t kz = (int64_t)(kk / k12), ky = (int64_t)(kk % k12) / sp->k[2];
		int64_t kx = (int64_t)(kk % k12) % sp->k[2], lo, hi;
		const float *xc = a->x + c * a->isz;
		float *dst = a->col + r * a->osz;
		ci_conv_cols(sp->out[2], sp->in[2], sp->s[2], sp->pb[2], kx * sp->d[2], &lo, &hi);
		for (int64_t oz = 0; oz < sp->out[0]; oz++) {
			int64_t iz = oz * sp->s[0] - sp->pb[0] + kz * sp->d[0];
			for (int64_t oy = 0; oy < sp->out[1]; oy++) {
				int64_t iy = oy * sp->s[1] - sp->pb[1] + ky * sp->d[1], base;
				float *row = dst + (size_t)(oz * sp->out[1] + oy) * ow;
				if (iz < 0 || iz >= sp->in[0] || iy < 0 || iy >= sp->in[1]) {
					memset(row, 0, ow * sizeof(float));
					continue;
				}
				base = (iz * sp->in[1] + iy) * sp->in[2] + kx * sp->d[2] - sp->pb[2];
				memset(row, 0, (size_t)lo * sizeof(float));
				if (sp->s[2] == 1) {
					if (hi > lo)
						memcpy(row + lo, xc + base + lo, (size_t)(hi - lo) * sizeof(float));
				} else {
					for (int64_t ox = lo; ox < hi; ox++)
						row[ox] = xc[base + ox * sp->s[2]];
				}
				if (hi > lo)
					ci_conv_in_aff(sp, row + lo, (size_t)(hi - lo));
				memset(row + hi, 0, (ow - (size_t)hi) * sizeof(float));
			}
		}
	}
}

/* Unfolds columns [j0, j1) of rows [0, rows) into col (rows x (j1 - j0)). */
static void
im2col_cols(const float *x, const struct ci_spatial *sp, size_t isz, size_t ksz, size_t rows,
    size_t j0, size_t j1, float *col)
{
	size_t k12 = (size_t)(sp->k[1] * sp->k[2]), len = j1 - j0;
	size_t plane = (size_t)(sp->out[1] * sp->out[2]), ow = (size_t)sp->out[2];

	for (size_t r = 0; r < rows; r++) {
		size_t c = r / ksz, kk = r % ksz;
		int64_t kz = (int64_t)(kk / k12), ky = (int64_t)(kk % k12) / sp->k[2];
		int64_t kx = (int64_t)(kk % k12) % sp->k[2], lo, hi;
		const float *xc = x + c * isz;
		float *dst = col + r * len - j0;
		ci_conv_cols(sp->out[2], sp->in[2], sp->s[2], sp->pb[2], kx * sp->d[2], &lo, &hi);
		int64_t oz = (int64_t)(j0 / plane), oy = (int64_t)(j0 % plane / ow);
		int64_t ox = (int64_t)(j0 % ow);
		/* walk the output rows the columns cover: no division per row */
		for (size_t j = j0; j < j1; ox = 0, oy = oy + 1 == sp->out[1] ? 0 : oy + 1,
		    oz += oy == 0) {
			int64_t seg = (int64_t)(ow - (size_t)ox), a, b;
			int64_t iz = oz * sp->s[0] - sp->pb[0] + kz * sp->d[0];
			int64_t iy = oy * sp->s[1] - sp->pb[1] + ky * sp->d[1], base;
			if ((size_t)seg > j1 - j)
				seg = (int64_t)(j1 - j);
			if (iz < 0 || iz >= sp->in[0] || iy < 0 || iy >= sp->in[1]) {
				memset(dst + j, 0, (size_t)seg * sizeof(float));
				j += (size_t)seg;
				continue;
			}
			a = lo < ox ? ox : lo > ox + seg ? ox + seg : lo;
			b = hi < a ? a : hi > ox + seg ? ox + seg : hi;
			base = (iz * sp->in[1] + iy) * sp->in[2] + kx * sp->d[2] - sp->pb[2];
			/* out + o is where column o of this output row goes; plain
			 * loops, as rows are short (7..56 columns in ResNet) */
			{
				float *out = dst + j - ox;
				const float *in = xc + base;
				for (int64_t o = ox; o < a; o++)
					out[o] = 0.0f;
				if (sp->s[2] == 1)
					for (int64_t o = a; o < b; o++)
						out[o] = in[o];
				else
					for (int64_t o = a; o < b; o++)
						out[o] = in[o * sp->s[2]];
				for (int64_t o = b; o < ox + seg; o++)
					out[o] = 0.0f;
				if (b > a)
					ci_conv_in_aff(sp, out + a, (size_t)(b - a));
			}
			j += (size_t)seg;
		}
	}
}

/* im2col + GEMM by column tiles that stay in cache, parts on threads. */
struct tile_args {
	const float *x, *w;
	const struct ci_spatial *sp;
	const struct ci_sgemm_packed *pa;
	const struct ci_gemm_epi *ep;
	float *y, *scratch, beta;
	size_t isz, osz, ksz, kk, mg, chunk, parts;
};

/* Start of column part p of parts, on a multiple of 16 (the GEMM's tile). */
static size_t
part_start(size_t osz, size_t p, size_t parts)
{
	size_t j = p >= parts ? osz : osz * p / parts / 16 * 16;

	return j < osz ? j : osz;
}

static void
tile_part(void *arg, size_t lo, size_t hi)
{
	const struct tile_args *a = arg;

	for (size_t p = lo; p < hi; p++) {
		size_t j0 = part_start(a->osz, p, a->parts), j1 = part_start(a->osz, p + 1, a->parts);
		float *col = a->scratch + p * a->kk * a->chunk;
		for (size_t j = j0; j < j1; j += a->chunk) {
			size_t je = j + a->chunk < j1 ? j + a->chunk : j1;
			im2col_cols(a->x, a->sp, a->isz, a->ksz, a->kk, j, je, col);
			ci_sgemm_ex(NULL, 0, 0, a->mg, je - j, a->kk, 1.0f, a->w, a->kk, a->pa, col,
			    je - j, NULL, a->beta, a->y + j, a->osz, a->ep);
		}
	}
}

/* 1x1 GEMM over column ranges, one per thread (B is the input itself). */
struct cols_args {
	const float *x, *w;
	const struct ci_sgemm_packed *pa;
	const struct ci_gemm_epi *ep;
	float *y, beta;
	size_t osz, kk, mg, parts;
};

static void
cols_part(void *arg, size_t lo, size_t hi)
{
	const struct cols_args *a = arg;

	for (size_t p = lo; p < hi; p++) {
		size_t j0 = part_start(a->osz, p, a->parts), j1 = part_start(a->osz, p + 1, a->parts);
		ci_sgemm_ex(NULL, 0, 0, a->mg, j1 - j0, a->kk, 1.0f, a->w, a->kk, a->pa, a->x + j0,
		    a->osz, NULL, a->beta, a->y + j0, a->osz, a->ep);
	}
}

/* Depthwise, any rank: one input and one output channel per group; adds
 * to y when acc. */
static void
depthwise(const float *x, const float *w, float *y, const struct ci_spatial *sp, int acc)
{
	for (int64_t oz = 0; oz < sp->out[0]; oz++)
		for (int64_t oy = 0; oy < sp->out[1]; oy++)
			for (int64_t ox = 0; ox < sp->out[2]; ox++) {
				float s = 0;
				size_t o = (size_t)((oz * sp->out[1] + oy) * sp->out[2] + ox);
				for (int64_t kz = 0; kz < sp->k[0]; kz++) {
					int64_t iz = oz * sp->s[0] - sp->pb[0] + kz * sp->d[0];
					if (iz < 0 || iz >= sp->in[0])
						continue;
					for (int64_t ky = 0; ky < sp->k[1]; ky++) {
						int64_t iy = oy * sp->s[1] - sp->pb[1] + ky * sp->d[1];
						if (iy < 0 || iy >= sp->in[1])
							continue;
						for (int64_t kx = 0; kx < sp->k[2]; kx++) {
							int64_t ix = ox * sp->s[2] - sp->pb[2] + kx * sp->d[2];
							if (ix < 0 || ix >= sp->in[2])
								continue;
							float xv = x[(iz * sp->in[1] + iy) * sp->in[2] + ix];
							if (sp->in_aff)
								xv = xv * sp->in_s + sp->in_c;
							s += xv * w[(kz * sp->k[1] + ky) * sp->k[2] + kx];
						}
					}
				}
				y[o] = acc ? y[o] + s : s;
			}
}

void
ci_conv_dw_portable(const struct ci_dw_args *a, size_t lo, size_t hi)
{
	ci_conv_dw_rows(a, lo, hi);
}

static void
dw_part(void *arg, size_t lo, size_t hi)
{
	if (ci_use_avx2())
		ci_conv_dw_avx2(arg, lo, hi);
	else
		ci_conv_dw_portable(arg, lo, hi);
}

/* ---- per-node state: activation and weights packed at load ---------------- */
struct conv_state {
	struct ci_gemm_epi act;		/* act, a, b (bias is set per run) */
	int in_aff;			/* FusedConv in_scale / in_shift */
	float in_s, in_c;
	size_t ng, mg, kk;		/* groups, rows and depth of each packed block */
	struct ci_sgemm_packed **pa;	/* ng blocks, or NULL */
	struct ci_wino *wino;		/* Winograd weights (3x3 s1), or NULL */
};

static void
conv_state_free(void *p)
{
	struct conv_state *st = p;

	if (st == NULL)
		return;
	for (size_t i = 0; st->pa && i < st->ng; i++)
		ci_sgemm_packed_free(st->pa[i]);
	ci_free(st->pa);
	ci_wino_free(st->wino);
	ci_free(st);
}

static int
is_fused(const struct ci_kctx *k)
{
	return k->node->domain != NULL && strcmp(k->node->domain, "com.cinfer") == 0;	/* public */
}

/* A finite float attribute (def when absent); 0 when not. */
static int
in_param(const struct ci_node *n, const char *name, float def, float *v)
{
	const struct ci_attr *a = ci_node_attr(n, name);

	*v = def;
	if (a == NULL)
		return 1;
	if (a->type != CI_AT_FLOAT || !isfinite(a->f))
		return 0;
	*v = a->f;
	return 1;
}

/* FusedConv's attributes: Conv's plus activation, act_alpha, act_beta and
 * the input affine in_scale, in_shift (into sp's in_aff, in_s, in_c). */
static int
parse_act(struct ci_kctx *k, struct ci_gemm_epi *ep, struct ci_spatial *sp,
    struct cinfer_err *e)
{
	static const char *const known[] = { "auto_pad", "dilations", "group", "kernel_shape",
		"pads", "strides", "activation", "act_alpha", "act_beta", "in_scale", "in_shift" };
	static const struct { const char *name; enum ci_act act; int np; } acts[] = {
		{ "", CI_ACT_NONE, 0 }, { "Relu", CI_ACT_RELU, 0 }, { "Clip", CI_ACT_CLIP, 2 },
		{ "LeakyRelu", CI_ACT_LEAKY, 1 }, { "HardSigmoid", CI_ACT_HARDSIGMOID, 2 },
		{ "HardSwish", CI_ACT_HARDSWISH, 0 }, { "Sigmoid", CI_ACT_SIGMOID, 0 },
	};
	const struct ci_node *n = k->node;
	const struct ci_attr *aa, *ab, *as;
	const char *s;
	size_t i;

	memset(ep, 0, sizeof(*ep));
	ep->bias_per_row = 1;
	sp->in_aff = 0;
	sp->in_s = 1.0f;
	sp->in_c = 0.0f;
	if (!is_fused(k))
		return 0;
	if (n->n_in < 2 || n->n_in > 4 || n->n_out != 1)
		return ci_op_fail(k, e, "FusedConv takes 2 to 4 inputs and 1 output");
	for (size_t j = 0; j < n->n_attrs; j++) {
		for (i = 0; i < CI_ARRAY_LEN(known); i++)
			if (strcmp(n->attrs[j].name, known[i]) == 0)	/* public */
				break;
		if (i == CI_ARRAY_LEN(known))
			return ci_op_fail(k, e, "FusedConv: unknown attribute %s", n->attrs[j].name);
	}
	as = ci_node_attr(n, "activation");
	aa = ci_node_attr(n, "act_alpha");
	ab = ci_node_attr(n, "act_beta");
	if ((as && as->type != CI_AT_STRING) || (aa && aa->type != CI_AT_FLOAT) ||
	    (ab && ab->type != CI_AT_FLOAT))
		return ci_op_fail(k, e, "FusedConv: attribute types");
	s = as ? as->s : "";
	for (i = 0; i < CI_ARRAY_LEN(acts); i++)
		if (strcmp(s, acts[i].name) == 0)	/* public */
			break;
	if (i == CI_ARRAY_LEN(acts))
		return ci_op_fail(k, e, "FusedConv: activation %.40s", s);
	if ((acts[i].np >= 1) != (aa != NULL) || (acts[i].np >= 2) != (ab != NULL))
		return ci_op_fail(k, e, "FusedConv: parameters of activation %s", s);
	ep->act = acts[i].act;
	ep->a = aa ? aa->f : 0.0f;
	ep->b = ab ? ab->f : 0.0f;
	if (!in_param(n, "in_scale", 1.0f, &sp->in_s) || !in_param(n, "in_shift", 0.0f, &sp->in_c))
		return ci_op_fail(k, e, "FusedConv: in_scale / in_shift");
	sp->in_aff = sp->in_s != 1.0f || sp->in_c != 0.0f;
	if (ep->act == CI_ACT_CLIP && !(ep->a <= ep->b))
		return ci_op_fail(k, e, "FusedConv: Clip bounds");
	if ((ep->act == CI_ACT_LEAKY || ep->act == CI_ACT_HARDSIGMOID) &&
	    !(isfinite(ep->a) && isfinite(ep->b)))
		return ci_op_fail(k, e, "FusedConv: activation parameters");
	return 0;
}

/* Whether all of attribute name's n values are 1 (or it is absent). */
static int
attr_ones(const struct ci_node *n, const char *name)
{
	size_t len;
	const int64_t *v = ci_attr_ints(n, name, &len);

	for (size_t i = 0; v && i < len; i++)
		if (v[i] != 1)
			return 0;
	return 1;
}

/* A constant 2-D 3x3 conv with strides and dilations 1, one group, enough
 * channels: Winograd F(2x2, 3x3) (pads and sizes are checked per run). */
static int
wino_qualifies(const struct ci_kctx *k, const struct ci_tensor *w, int64_t g, int in_aff)
{
	return ci_wino_mode_get() != 0 && ci_in_const(k, 1) && w->dtype == CI_DT_FLOAT &&
	    w->ndim == 4 && w->dims[2] == 3 && w->dims[3] == 3 && w->dims[0] >= 16 &&
	    w->dims[1] >= 16 && g == 1 && !in_aff && attr_ones(k->node, "strides") &&
	    attr_ones(k->node, "dilations");
}

/* Packs st->ng groups of weights, each rows x cols (op: transposed when
 * trans), as GEMM A operands into st->pa. -1: out of memory. */
static int
pack_groups(struct conv_state *st, int trans, size_t rows, size_t cols, const float *w)
{
	st->pa = ci_calloc(st->ng, sizeof(*st->pa));
	if (st->pa == NULL)
		return -1;
	for (size_t gi = 0; gi < st->ng; gi++) {
		st->pa[gi] = ci_sgemm_pack(CI_SGEMM_A, trans, rows, cols, w + gi * rows * cols, cols);
		if (st->pa[gi] == NULL)
			return -1;
	}
	return 0;
}

static int
prepare_conv(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *w = ci_in(k, 1);
	struct conv_state *st;
	int64_t g = ci_attr_i(k->node, "group", 1);
	struct ci_gemm_epi act;
	struct ci_spatial in = { 0 };

	if (parse_act(k, &act, &in, e) != 0)
		return -1;
	st = ci_calloc(1, sizeof(*st));
	if (st == NULL)
		return ci_fail(e, CINFER_E_NOMEM, CI_STAGE_OP, "out of memory");
	st->act = act;
	st->in_aff = in.in_aff;
	st->in_s = in.in_s;
	st->in_c = in.in_c;
	if (wino_qualifies(k, w, g, in.in_aff)) {
		st->wino = ci_wino_prepare(w->data, (size_t)w->dims[0], (size_t)w->dims[1]);
		if (st->wino == NULL)
			goto nomem;
	} else if (ci_in_const(k, 1) && w->dtype == CI_DT_FLOAT && w->ndim >= 3 && w->dims[0] >= 1 &&
	    w->dims[1] >= 1 && g >= 1 && w->dims[0] % g == 0 && w->count > 0) {
		size_t m = (size_t)w->dims[0], mg = m / (size_t)g, kk = w->count / m;
		if (!(mg == 1 && w->dims[1] == 1)) {
			st->ng = (size_t)g;
			st->mg = mg;
			st->kk = kk;
			if (pack_groups(st, 0, mg, kk, w->data) != 0)
				goto nomem;
		}
	}
	ci_state_set(k, st, conv_state_free);
	return 0;
nomem:
	conv_state_free(st);
	return ci_fail(e, CINFER_E_NOMEM, CI_STAGE_OP, "out of memory");
}

/* Whether s broadcasts into dims (ndim) without growing it. */
static int
same_or_into(const struct ci_tensor *s, int ndim, const int64_t *dims)
{
	if (s->ndim > ndim)
		return 0;
	for (int d = 0; d < s->ndim; d++) {
		int64_t n = s->dims[d], want = dims[ndim - s->ndim + d];
		if (n != want && n != 1)
			return 0;
	}
	return 1;
}

/* y = s (add 0) or y += s (add 1), s broadcast to y's shape (numpy rules,
 * s no larger than y). */
static int
bcast_into(struct ci_kctx *k, const struct ci_tensor *s, struct ci_tensor *y, int add,
    struct cinfer_err *e)
{
	int64_t st[CI_RT_MAX_DIMS], idx[CI_RT_MAX_DIMS] = { 0 }, acc = 1, off = 0;
	const float *sd = s->data;
	float *yd = y->data;
	int same = s->ndim == y->ndim;

	if (s->dtype != CI_DT_FLOAT || s->ndim > y->ndim)
		return ci_op_fail(k, e, "sum input type or rank");
	for (int d = 0; d < s->ndim && same; d++)
		same = s->dims[d] == y->dims[d];
	if (same && !add) {
		if (sd != yd)
			memcpy(yd, sd, y->count * sizeof(float));
		return 0;
	}
	for (int d = y->ndim - 1; d >= 0; d--) {
		int sdim = d - (y->ndim - s->ndim);
		int64_t n = sdim >= 0 ? s->dims[sdim] : 1;
		if (n != 1 && n != y->dims[d])
			return ci_op_fail(k, e, "sum input does not broadcast to the output");
		st[d] = n == 1 ? 0 : acc;
		acc *= n;
	}
	for (size_t i = 0; i < y->count; i++) {
		yd[i] = add ? yd[i] + sd[off] : sd[off];
		for (int d = y->ndim - 1; d >= 0; d--) {
			off += st[d];
			if (++idx[d] < y->dims[d])
				break;
			off -= st[d] * y->dims[d];
			idx[d] = 0;
		}
	}
	return 0;
}

static int
fill_sum(struct ci_kctx *k, const struct ci_tensor *s, struct ci_tensor *y, struct cinfer_err *e)
{
	return bcast_into(k, s, y, 0, e);
}

static int
conv_body(struct ci_kctx *k, const struct conv_state *st, const struct ci_tensor *x,
    const struct ci_tensor *w, const struct ci_tensor *b, const struct ci_spatial *spp,
    int64_t g, struct ci_gemm_epi ep, float beta, struct ci_tensor *y, struct cinfer_err *e)
{
	struct ci_spatial sp = *spp;
	size_t n = (size_t)x->dims[0], c = (size_t)x->dims[1], m = (size_t)w->dims[0];
	size_t cg = c / (size_t)g, mg = m / (size_t)g, osz, isz, ksz;
	int direct, acc = beta != 0.0f;
	float *col = NULL;

	osz = ci_spatial_out(&sp);
	isz = ci_spatial_in(&sp);
	ksz = ci_spatial_k(&sp);
	if (y->count == 0)
		return 0;
	if (cg == 1 && mg == 1) {
		struct ci_dw_args da = { .x = x->data, .w = w->data, .bias = b ? b->data : NULL,
			.y = y->data, .sp = &sp, .c = c, .accumulate = acc,
			.ep = &ep };
		size_t work = osz * ksz + 1;
		if (sp.k[0] == 1 && sp.in[0] == 1 && sp.out[0] == 1) {
			ci_parallel(k, n * c, 32768 / work + 1, dw_part, &da);
			return 0;
		}
		for (size_t ch = 0; ch < n * c; ch++) {
			float *yc = (float *)y->data + ch * osz;
			depthwise((const float *)x->data + ch * isz,
			    (const float *)w->data + (ch % c) * ksz, yc, &sp, acc);
			ep.bias = b ? (const float *)b->data + ch % c : NULL;
			ci_gemm_epi_apply(&ep, 0, 1, 0, osz, yc, osz);
		}
		return 0;
	}
	if (st && st->wino && g == 1 && sp.ns == 2 && !sp.in_aff && sp.k[1] == 3 && sp.k[2] == 3 &&
	    sp.s[1] == 1 && sp.s[2] == 1 && sp.d[1] == 1 && sp.d[2] == 1 && sp.pb[1] <= 1 &&
	    sp.pb[2] <= 1 && sp.pe[1] <= 1 && sp.pe[2] <= 1 && c == st->wino->ic &&
	    m == st->wino->oc && (ci_wino_mode_get() == 2 || (ci_wino_mode_get() == 1 &&
	    ci_wino_pays(m, c, (size_t)sp.out[1], (size_t)sp.out[2]))))
		return ci_wino_run(k, st->wino, x->data, n, (size_t)sp.in[1], (size_t)sp.in[2],
		    (size_t)sp.pb[1], (size_t)sp.pb[2], (size_t)sp.out[1], (size_t)sp.out[2],
		    b ? b->data : NULL, &ep, acc, y->data, e);
	direct = !sp.in_aff && ksz == 1 && sp.s[0] == 1 && sp.s[1] == 1 && sp.s[2] == 1 && sp.pb[0] == 0 &&
	    sp.pb[1] == 0 && sp.pb[2] == 0 && sp.pe[0] == 0 && sp.pe[1] == 0 && sp.pe[2] == 0;
	if (st && !(st->pa && st->ng == (size_t)g && st->mg == mg && st->kk == cg * ksz))
		st = NULL;
	if (!direct) {
		/* column tiles of about 512 KiB of im2col each, one run of tiles
		 * per thread, when there are enough columns for every thread */
		size_t kk = cg * ksz, chunk = (131072 / kk + 15) / 16 * 16, parts;
		if (chunk < 64)
			chunk = 64;
		if (chunk > 4096)
			chunk = 4096;
		parts = k->threads > 1 ? (size_t)k->threads : 1;
		if (osz >= chunk * parts && kk <= SIZE_MAX / sizeof(float) / chunk / parts) {
			struct tile_args ta = { .sp = &sp, .beta = beta, .isz = isz, .osz = osz,
				.ksz = ksz, .kk = kk, .mg = mg, .chunk = chunk, .parts = parts };
			ta.scratch = ci_scratch(k, parts * kk * chunk * sizeof(float), e);
			if (ta.scratch == NULL)
				return -1;
			for (size_t in = 0; in < n; in++)
				for (size_t gi = 0; gi < (size_t)g; gi++) {
					ta.x = (const float *)x->data + (in * c + gi * cg) * isz;
					ta.w = (const float *)w->data + gi * mg * kk;
					ta.pa = st ? st->pa[gi] : NULL;
					ta.y = (float *)y->data + (in * m + gi * mg) * osz;
					ep.bias = b ? (const float *)b->data + gi * mg : NULL;
					ta.ep = &ep;
					ci_parallel(k, parts, 1, tile_part, &ta);
				}
			return 0;
		}
		if (cg * ksz > SIZE_MAX / sizeof(float) / (osz ? osz : 1))
			return ci_op_fail(k, e, "too large");
		col = ci_scratch(k, cg * ksz * osz * sizeof(float), e);
		if (col == NULL)
			return -1;
	}
	for (size_t in = 0; in < n; in++)
		for (size_t gi = 0; gi < (size_t)g; gi++) {
			const float *xg = (const float *)x->data + (in * c + gi * cg) * isz;
			const float *wg = (const float *)w->data + gi * mg * cg * ksz;
			float *yg = (float *)y->data + (in * m + gi * mg) * osz;
			const float *bm = xg;
			ep.bias = b ? (const float *)b->data + gi * mg : NULL;
			if (direct && k->threads > 1 && osz >= 256 * (size_t)k->threads) {
				/* wide 1x1: each thread takes a slice of the columns */
				struct cols_args ca = { .x = xg, .w = wg, .pa = st ? st->pa[gi] : NULL,
					.ep = &ep, .y = yg, .beta = beta, .osz = osz, .kk = cg,
					.mg = mg, .parts = (size_t)k->threads };
				ci_parallel(k, ca.parts, 1, cols_part, &ca);
				continue;
			}
			if (!direct) {
				struct im2col_args ia = { .x = xg, .sp = &sp, .col = col, .isz = isz,
					.osz = osz, .ksz = ksz };
				ci_parallel(k, cg * ksz, 16384 / (osz ? osz : 1) + 1, im2col_rows, &ia);
				bm = col;
			}
			ci_sgemm_ex(k, 0, 0, mg, osz, cg * ksz, 1.0f, wg, cg * ksz,
			    st ? st->pa[gi] : NULL, bm, osz, NULL, beta, yg, osz, &ep);
		}
	return 0;
}

static int
run_conv(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0), *w = ci_in(k, 1), *b = ci_in(k, 2), *sum = NULL;
	const struct conv_state *st = ci_state_get(k);
	struct ci_spatial sp = { 0 };
	struct ci_gemm_epi ep;
	int64_t g = ci_attr_i(k->node, "group", 1), dims[CI_RT_MAX_DIMS];
	size_t n, c, m;
	struct ci_tensor *y, tmp = { 0 };
	int64_t bd[CI_RT_MAX_DIMS];
	int bn;

	struct ci_spatial in = { 0 };

	if (st != NULL) {
		ep = st->act;
		in.in_aff = st->in_aff;
		in.in_s = st->in_s;
		in.in_c = st->in_c;
	} else if (parse_act(k, &ep, &in, e) != 0) {
		return -1;
	}
	if (is_fused(k))
		sum = ci_in(k, 3);
	if (x == NULL || w == NULL)
		return ci_op_fail(k, e, "missing input");
	if (x->dtype != CI_DT_FLOAT || w->dtype != CI_DT_FLOAT || (b && b->dtype != CI_DT_FLOAT))
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "Conv: type %s",
		    ci_dt_name(x->dtype));
	if (w->ndim != x->ndim || x->ndim < 3)
		return ci_op_fail(k, e, "weight rank");
	if (ci_spatial_init(k, x, w->dims + 2, 0, &sp, e) != 0)
		return -1;
	sp.in_aff = in.in_aff;
	sp.in_s = in.in_s;
	sp.in_c = in.in_c;
	n = (size_t)x->dims[0];
	c = (size_t)x->dims[1];
	m = (size_t)w->dims[0];
	if (g < 1 || c % (size_t)g != 0 || m % (size_t)g != 0 || (size_t)w->dims[1] != c / (size_t)g)
		return ci_op_fail(k, e, "channels %zu, group %lld, weight %lld", c, (long long)g,
		    (long long)w->dims[1]);
	if (b && (b->ndim != 1 || (size_t)b->dims[0] != m))
		return ci_op_fail(k, e, "bias size");
	dims[0] = (int64_t)n;
	dims[1] = (int64_t)m;
	for (int i = 0; i < sp.ns; i++)
		dims[2 + i] = sp.out[3 - sp.ns + i];
	if (sum == NULL || same_or_into(sum, x->ndim, dims)) {
		if (ci_out(k, 0, CI_DT_FLOAT, x->ndim, dims, e) != 0)
			return -1;
		if (sum && fill_sum(k, sum, k->out[0], e) != 0)
			return -1;
		return conv_body(k, st, x, w, b, &sp, g, ep, sum ? 1.0f : 0.0f, k->out[0], e);
	}
	/* the sum is larger than the conv's output (Add broadcast it): conv
	 * with its bias into scratch, then act(conv + sum) on the Add's shape */
	if (sum->dtype != CI_DT_FLOAT ||
	    ci_broadcast(x->ndim, dims, sum->ndim, sum->dims, &bn, bd) != 0)
		return ci_op_fail(k, e, "sum input does not broadcast with the conv output");
	tmp.dtype = CI_DT_FLOAT;
	tmp.ndim = x->ndim;
	memcpy(tmp.dims, dims, sizeof(tmp.dims));
	tmp.count = 1;
	for (int d = 0; d < x->ndim; d++)
		tmp.count *= (size_t)dims[d];
	tmp.data = ci_scratch(k, tmp.count * sizeof(float) + 1, e);
	if (tmp.data == NULL)
		return -1;
	{
		struct ci_gemm_epi none = { .bias_per_row = 1 };
		if (conv_body(k, st, x, w, b, &sp, g, none, 0.0f, &tmp, e) != 0)
			return -1;
	}
	if (ci_out(k, 0, CI_DT_FLOAT, bn, bd, e) != 0)
		return -1;
	y = k->out[0];
	if (bcast_into(k, &tmp, y, 0, e) != 0 || bcast_into(k, sum, y, 1, e) != 0)
		return -1;
	ci_conv_act_row(&ep, y->data, y->count);
	return 0;
}

/* ConvTranspose: output channels [lo, hi) of one group summed from col. */
struct col2im_args {
	const float *col;
	float *y;
	const struct ci_spatial *sp;
	size_t isz, osz;
};

static void
col2im_part(void *arg, size_t lo, size_t hi)
{
	const struct col2im_args *a = arg;
	const struct ci_spatial *sp = a->sp;
	size_t ksz = ci_spatial_k(sp);

	for (size_t mo = lo; mo < hi; mo++)
		for (size_t kk = 0; kk < ksz; kk++) {
			int64_t kz = (int64_t)kk / (sp->k[1] * sp->k[2]);
			int64_t ky = (int64_t)kk / sp->k[2] % sp->k[1], kx = (int64_t)kk % sp->k[2];
			const float *cr = a->col + (mo * ksz + kk) * a->isz;
			float *yo = a->y + mo * a->osz;
			for (int64_t iz = 0; iz < sp->in[0]; iz++) {
				int64_t oz = iz * sp->s[0] - sp->pb[0] + kz * sp->d[0];
				if (oz < 0 || oz >= sp->out[0])
					continue;
				for (int64_t iy = 0; iy < sp->in[1]; iy++) {
					int64_t oy = iy * sp->s[1] - sp->pb[1] + ky * sp->d[1];
					if (oy < 0 || oy >= sp->out[1])
						continue;
					for (int64_t ix = 0; ix < sp->in[2]; ix++) {
						int64_t ox = ix * sp->s[2] - sp->pb[2] + kx * sp->d[2];
						if (ox < 0 || ox >= sp->out[2])
							continue;
						yo[(oz * sp->out[1] + oy) * sp->out[2] + ox] +=
						    cr[(iz * sp->in[1] + iy) * sp->in[2] + ix];
					}
				}
			}
		}
}

/* ConvTranspose's weights [C, M/g, k...], each group's W^T packed once. */
static int
prepare_convt(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *w = ci_in(k, 1);
	int64_t g = ci_attr_i(k->node, "group", 1);
	struct conv_state *st;

	if (!ci_in_const(k, 1) || w->dtype != CI_DT_FLOAT || w->ndim < 3 || w->dims[0] < 1 ||
	    g < 1 || w->dims[0] % g != 0 || w->count == 0)
		return 0;
	st = ci_calloc(1, sizeof(*st));
	if (st == NULL)
		return ci_fail(e, CINFER_E_NOMEM, CI_STAGE_OP, "out of memory");
	st->ng = (size_t)g;
	st->kk = (size_t)w->dims[0] / (size_t)g;	/* cg: the GEMM's depth */
	st->mg = w->count / (size_t)w->dims[0];		/* M/g * kernel: its rows */
	if (pack_groups(st, 1, st->kk, st->mg, w->data) != 0)
		goto nomem;
	ci_state_set(k, st, conv_state_free);
	return 0;
nomem:
	conv_state_free(st);
	return ci_fail(e, CINFER_E_NOMEM, CI_STAGE_OP, "out of memory");
}

static int
run_conv_transpose(struct ci_kctx *k, struct cinfer_err *e)
{
	const struct conv_state *pk = ci_state_get(k);
	struct ci_tensor *x = ci_in(k, 0), *w = ci_in(k, 1), *b = ci_in(k, 2);
	int64_t g = ci_attr_i(k->node, "group", 1), dims[CI_RT_MAX_DIMS];
	size_t nk, nst, nd, np, nop, nos;
	const int64_t *ks = ci_attr_ints(k->node, "kernel_shape", &nk);
	const int64_t *st = ci_attr_ints(k->node, "strides", &nst);
	const int64_t *dl = ci_attr_ints(k->node, "dilations", &nd);
	const int64_t *pd = ci_attr_ints(k->node, "pads", &np);
	const int64_t *op = ci_attr_ints(k->node, "output_padding", &nop);
	const int64_t *os = ci_attr_ints(k->node, "output_shape", &nos);
	const char *ap = ci_attr_s(k->node, "auto_pad", "NOTSET");
	struct ci_spatial sp = { 0 };
	int ns, off;
	size_t n, c, m, cg, mg, isz, osz, ksz;
	float *col;

	if (x == NULL || w == NULL)
		return ci_op_fail(k, e, "missing input");
	if (x->dtype != CI_DT_FLOAT || w->dtype != CI_DT_FLOAT || (b && b->dtype != CI_DT_FLOAT))
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "ConvTranspose: type");
	ns = x->ndim - 2;
	if (ns < 1 || ns > 3 || w->ndim != x->ndim)
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "ConvTranspose: rank %d", x->ndim);
	if ((ks && nk != (size_t)ns) || (st && nst != (size_t)ns) || (dl && nd != (size_t)ns) ||
	    (pd && np != 2 * (size_t)ns) || (op && nop != (size_t)ns) ||
	    (os && nos != (size_t)ns && nos != (size_t)x->ndim))
		return ci_op_fail(k, e, "attribute lengths");
	n = (size_t)x->dims[0];
	c = (size_t)x->dims[1];
	if (g < 1 || c % (size_t)g != 0 || (size_t)w->dims[0] != c)
		return ci_op_fail(k, e, "channels/group");
	cg = c / (size_t)g;
	mg = (size_t)w->dims[1];
	m = mg * (size_t)g;
	if (b && (size_t)b->count != m)
		return ci_op_fail(k, e, "bias size");
	off = 3 - ns;
	for (int i = 0; i < 3; i++) {
		sp.in[i] = sp.k[i] = sp.s[i] = sp.d[i] = sp.out[i] = 1;
		sp.pb[i] = sp.pe[i] = 0;
	}
	sp.ns = ns;
	for (int i = 0; i < ns; i++) {
		int j = off + i;
		int64_t ek, opad = op ? op[i] : 0, full;
		sp.in[j] = x->dims[2 + i];
		sp.k[j] = ks ? ks[i] : w->dims[2 + i];
		sp.s[j] = st ? st[i] : 1;
		sp.d[j] = dl ? dl[i] : 1;
		if (sp.k[j] != w->dims[2 + i] || sp.s[j] < 1 || sp.d[j] < 1 || sp.s[j] > 1 << 16 ||
		    sp.d[j] > 1 << 16 || opad < 0 || opad > 1 << 16)
			return ci_op_fail(k, e, "kernel, stride or dilation");
		ek = (sp.k[j] - 1) * sp.d[j] + 1;
		full = sp.s[j] * (sp.in[j] - 1) + opad + ek;
		if (os || strcmp(ap, "SAME_UPPER") == 0 || strcmp(ap, "SAME_LOWER") == 0) {	/* public */
			int64_t want = os ? os[nos == (size_t)ns ? i : 2 + i] : sp.in[j] * sp.s[j];
			int64_t tot = full - want;
			if (tot < 0)
				tot = 0;	/* the output grows at the end */
			if (strcmp(ap, "SAME_UPPER") == 0) {	/* public */
				sp.pb[j] = tot / 2;
				sp.pe[j] = tot - tot / 2;
			} else {
				sp.pb[j] = tot - tot / 2;
				sp.pe[j] = tot / 2;
			}
			sp.out[j] = want;
		} else {
			sp.pb[j] = pd ? pd[i] : 0;
			sp.pe[j] = pd ? pd[i + ns] : 0;
			if (sp.pb[j] < 0 || sp.pe[j] < 0)
				return ci_op_fail(k, e, "pads");
			sp.out[j] = full - sp.pb[j] - sp.pe[j];
		}
		if (sp.out[j] < 0 || sp.out[j] > 1 << 24)
			return ci_op_fail(k, e, "output size");
	}
	dims[0] = (int64_t)n;
	dims[1] = (int64_t)m;
	for (int i = 0; i < ns; i++)
		dims[2 + i] = sp.out[off + i];
	if (ci_out(k, 0, CI_DT_FLOAT, x->ndim, dims, e) != 0)
		return -1;
	isz = ci_spatial_in(&sp);
	osz = ci_spatial_out(&sp);
	ksz = ci_spatial_k(&sp);
	col = ci_scratch(k, mg * ksz * isz * sizeof(float), e);
	if (col == NULL)
		return -1;
	memset(k->out[0]->data, 0, k->out[0]->count * sizeof(float));
	if (pk && !(pk->pa && pk->ng == (size_t)g && pk->kk == cg && pk->mg == mg * ksz))
		pk = NULL;
	for (size_t in = 0; in < n; in++)
		for (size_t gi = 0; gi < (size_t)g; gi++) {
			const float *xg = (const float *)x->data + (in * c + gi * cg) * isz;
			const float *wg = (const float *)w->data + gi * cg * mg * ksz;
			float *yg = (float *)k->out[0]->data + (in * m + gi * mg) * osz;
			struct col2im_args ca = { .col = col, .y = yg, .sp = &sp, .isz = isz,
				.osz = osz };
			/* col[(m,k)][i] = sum_c W[c][(m,k)] x[c][i] */
			ci_sgemm_ex(k, 1, 0, mg * ksz, isz, cg, 1.0f, wg, mg * ksz,
			    pk ? pk->pa[gi] : NULL, xg, isz, NULL, 0.0f, col, isz, NULL);
			ci_parallel(k, mg, 1, col2im_part, &ca);
		}
	if (b)
		for (size_t in = 0; in < n; in++)
			for (size_t oc = 0; oc < m; oc++) {
				float bv = ((const float *)b->data)[oc];
				float *y = (float *)k->out[0]->data + (in * m + oc) * osz;
				for (size_t i = 0; i < osz; i++)
					y[i] += bv;
			}
	return 0;
}

CI_OP_DEF_PREP(Conv, "Conv", 1, run_conv, prepare_conv);
CI_OP_DEF_INTERNAL(FusedConv, "FusedConv", run_conv, prepare_conv);
CI_OP_DEF_PREP(ConvTranspose, "ConvTranspose", 1, run_conv_transpose, prepare_convt);
