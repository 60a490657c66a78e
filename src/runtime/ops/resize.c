/*
 * Resize (opset 10+) and Upsample: nearest (four rounding modes), linear
 * and cubic, every coordinate transformation of opset 11-13, N-d. Each
 * axis gets a table of taps (input index, weight); an output element is
 * the weighted sum over the product of its axes' taps. Out-of-range taps
 * are clamped to the edge, as the ONNX reference pads with edge values.
 */
#include <math.h>
#include <string.h>

#include "runtime/rt.h"
#include "runtime/ops/ops.h"

#define MAX_TAPS 4

enum { M_NEAREST, M_LINEAR, M_CUBIC };
enum { CT_HALF, CT_PYTORCH, CT_ALIGN, CT_ASYM, CT_TFNN, CT_CROP };
enum { N_PFLOOR, N_PCEIL, N_FLOOR, N_CEIL };

struct axis_taps {
	int n;			/* taps per output index */
	int64_t *idx;		/* [out][n] */
	float *w;		/* [out][n] */
	uint8_t *outside;	/* [out]: crop-and-resize extrapolation */
};

static int
lookup(const char *s, const char *const *names, int count)
{
	for (int i = 0; i < count; i++)
		if (strcmp(s, names[i]) == 0)	/* public */
			return i;
	return -1;
}

static void
cubic_coeffs(double r, double a, double *c)
{
	double x;

	x = r + 1;
	c[0] = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
	x = r;
	c[1] = ((a + 2) * x - (a + 3)) * x * x + 1;
	x = 1 - r;
	c[2] = ((a + 2) * x - (a + 3)) * x * x + 1;
	x = 2 - r;
	c[3] = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
}

/*
 * Nearest mode, row by row: the last axis gathers through its index table;
 * an output row whose source row is the one of the row before (upsampling)
 * is a copy of that row. Rows are split over threads.
 */
struct nn_args {
	const struct ci_tensor *x;
	const struct axis_taps *tp;
	const int64_t *dims;
	size_t es, rows, row_out, xs[CI_RT_MAX_DIMS];
	uint8_t *y;
};

static size_t
nn_src_row(const struct nn_args *a, size_t r)
{
	int nd = a->x->ndim;
	size_t src = 0;

	for (int d = nd - 2; d >= 0; d--) {
		size_t i = r % (size_t)a->dims[d];
		r /= (size_t)a->dims[d];
		src += (size_t)a->tp[d].idx[i] * a->xs[d];
	}
	return src;
}

static void
nn_part(void *arg, size_t lo, size_t hi)
{
	const struct nn_args *a = arg;
	const struct axis_taps *last = &a->tp[a->x->ndim - 1];
	size_t prev = SIZE_MAX;

	for (size_t r = lo; r < hi; r++) {
		size_t src = nn_src_row(a, r);
		uint8_t *out = a->y + r * a->row_out * a->es;
		if (src == prev) {
			memcpy(out, out - a->row_out * a->es, a->row_out * a->es);
			continue;
		}
		prev = src;
		if (a->es == 4) {
			const uint32_t *in = (const uint32_t *)a->x->data + src;
			uint32_t *o = (uint32_t *)out;
			for (size_t j = 0; j < a->row_out; j++)
				o[j] = in[last->idx[j]];
		} else {
			const uint8_t *in = (const uint8_t *)a->x->data + src * a->es;
			for (size_t j = 0; j < a->row_out; j++)
				memcpy(out + j * a->es, in + (size_t)last->idx[j] * a->es, a->es);
		}
	}
}

static void
nearest_rows(struct ci_kctx *k, const struct ci_tensor *x, const struct axis_taps *tp,
    const int64_t *dims, size_t es)
{
	struct nn_args a = { .x = x, .tp = tp, .dims = dims, .es = es, .y = k->out[0]->data };
	size_t s = 1;

	for (int d = x->ndim - 1; d >= 0; d--) {
		a.xs[d] = s;
		s *= (size_t)x->dims[d];
	}
	a.row_out = (size_t)dims[x->ndim - 1];
	a.rows = k->out[0]->count / a.row_out;
	ci_parallel(k, a.rows, 32768 / (a.row_out + 1) + 1, nn_part, &a);
}

static int
run_resize(struct ci_kctx *k, struct cinfer_err *e)
{
	static const char *const modes[] = { "nearest", "linear", "cubic" };
	static const char *const cts[] = { "half_pixel", "pytorch_half_pixel", "align_corners",
		"asymmetric", "tf_half_pixel_for_nn", "tf_crop_and_resize" };
	static const char *const nms[] = { "round_prefer_floor", "round_prefer_ceil", "floor", "ceil" };
	struct ci_tensor *x = ci_in(k, 0), *roi = NULL, *sc = NULL, *sz = NULL;
	int upsample = strcmp(k->node->op_type, "Upsample") == 0;	/* public */
	int mode = lookup(ci_attr_s(k->node, "mode", "nearest"), modes, 3);
	int ct, nm, nd;
	double a = ci_attr_f(k->node, "cubic_coeff_a", -0.75f);
	int excl = (int)ci_attr_i(k->node, "exclude_outside", 0);
	float extrap = ci_attr_f(k->node, "extrapolation_value", 0.0f);
	double scales[CI_RT_MAX_DIMS];
	int64_t dims[CI_RT_MAX_DIMS];
	struct axis_taps tp[CI_RT_MAX_DIMS];
	size_t es;

	if (x == NULL)
		return ci_op_fail(k, e, "input missing");
	nd = x->ndim;
	if (x->dtype != CI_DT_FLOAT && !(mode == M_NEAREST && ci_dt_size(x->dtype) != 0))
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "Resize: type %s",
		    ci_dt_name(x->dtype));
	if (mode < 0)
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "Resize mode");
	if (upsample || k->opset < 11) {
		ct = CT_ASYM;
		nm = N_FLOOR;
		if (mode == M_CUBIC)
			return ci_op_fail(k, e, "cubic needs opset 11");
		if (upsample && k->opset < 9) {
			const struct ci_attr *at = ci_node_attr(k->node, "scales");
			if (at == NULL || at->type != CI_AT_FLOATS || at->n != (size_t)nd)
				return ci_op_fail(k, e, "scales");
			for (int d = 0; d < nd; d++)
				scales[d] = at->floats[d];
		} else {
			sc = ci_in(k, 1);
		}
	} else {
		ct = lookup(ci_attr_s(k->node, "coordinate_transformation_mode", "half_pixel"), cts, 6);
		nm = lookup(ci_attr_s(k->node, "nearest_mode", "round_prefer_floor"), nms, 4);
		if (ct < 0 || nm < 0)
			return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP,
			    "Resize coordinate or nearest mode");
		if (ci_node_attr(k->node, "antialias") || ci_node_attr(k->node, "axes") ||
		    ci_node_attr(k->node, "keep_aspect_ratio_policy"))
			return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "Resize opset-18 attributes");
		roi = ci_in(k, 1);
		sc = ci_in(k, 2);
		sz = ci_in(k, 3);
		if (sc && sc->count == 0)
			sc = NULL;
		if (roi && roi->count == 0)
			roi = NULL;
	}
	if (sz && sz->count > 0) {
		if (sz->dtype != CI_DT_INT64 || sz->count != (size_t)nd || sc)
			return ci_op_fail(k, e, "sizes");
		for (int d = 0; d < nd; d++) {
			dims[d] = ((const int64_t *)sz->data)[d];
			if (dims[d] < 0 || dims[d] > 1 << 24)
				return ci_op_fail(k, e, "sizes");
			scales[d] = x->dims[d] ? (double)(float)((float)dims[d] / (float)x->dims[d]) : 1.0;
		}
	} else {
		if (sc) {
			if (sc->dtype != CI_DT_FLOAT || sc->count != (size_t)nd)
				return ci_op_fail(k, e, "scales");
			for (int d = 0; d < nd; d++)
				scales[d] = ((const float *)sc->data)[d];
		} else if (!(upsample && k->opset < 9)) {
			return ci_op_fail(k, e, "neither scales nor sizes");
		}
		for (int d = 0; d < nd; d++) {
			double o = floor((double)x->dims[d] * scales[d]);
			if (!(scales[d] > 0) || o > (double)(1 << 24))
				return ci_op_fail(k, e, "scale");
			dims[d] = (int64_t)o;
		}
	}
	for (int d = 0; d < nd; d++)
		if (x->dims[d] == 0 && dims[d] != 0)
			return ci_op_fail(k, e, "resizing an empty axis to %lld", (long long)dims[d]);
	if (ct == CT_CROP && (roi == NULL || roi->count != 2 * (size_t)nd || roi->dtype != CI_DT_FLOAT))
		return ci_op_fail(k, e, "roi");
	if (ci_out(k, 0, x->dtype, nd, dims, e) != 0)
		return -1;
	memset(tp, 0, sizeof(tp));
	for (int d = 0; d < nd; d++) {
		int n = mode == M_NEAREST ? 1 : mode == M_LINEAR ? 2 : 4;
		int64_t in = x->dims[d], out = dims[d];
		tp[d].n = n;
		tp[d].idx = ci_scratch(k, (size_t)(out ? out : 1) * (size_t)n * sizeof(int64_t), e);
		tp[d].w = ci_scratch(k, (size_t)(out ? out : 1) * (size_t)n * sizeof(float), e);
		tp[d].outside = ci_scratch(k, (size_t)(out ? out : 1), e);
		if (!tp[d].idx || !tp[d].w || !tp[d].outside)
			return -1;
		for (int64_t o = 0; o < out; o++) {
			double s = scales[d], xo, ow = s * (double)in;	/* unfloored, as the reference */
			int64_t *ix = tp[d].idx + o * n;
			float *w = tp[d].w + o * n;
			tp[d].outside[o] = 0;
			switch (ct) {
			case CT_HALF: xo = (o + 0.5) / s - 0.5; break;
			case CT_PYTORCH: xo = out > 1 ? (o + 0.5) / s - 0.5 : 0; break;
			case CT_ALIGN: xo = ow == 1 ? 0 : (double)o * (double)(in - 1) / (ow - 1); break;
			case CT_ASYM: xo = o / s; break;
			case CT_TFNN: xo = (o + 0.5) / s; break;
			default: {
				double st = ((const float *)roi->data)[d], en = ((const float *)roi->data)[d + nd];
				xo = ow > 1 ? st * (double)(in - 1) + (double)o * (en - st) * (double)(in - 1) /
				    (ow - 1) : 0.5 * (st + en) * (double)(in - 1);
				if (xo < 0 || xo > (double)(in - 1))
					tp[d].outside[o] = 1;
				break;
			}
			}
			if (mode == M_NEAREST) {
				double f = floor(xo), r;
				int64_t v;
				switch (nm) {
				case N_PFLOOR: r = xo - f; v = ci_f2i(r <= 0.5 ? f : f + 1); break;
				case N_PCEIL: r = xo - f; v = ci_f2i(r < 0.5 ? f : f + 1); break;
				case N_FLOOR: v = ci_f2i(f); break;
				default: v = ci_f2i(ceil(xo)); break;
				}
				ix[0] = v < 0 ? 0 : v >= in ? in - 1 : v;
				w[0] = 1;
			} else if (mode == M_LINEAR) {
				double f = floor(xo), r = xo - f;
				int64_t i0 = ci_f2i(f), i1 = i0 + 1;
				ix[0] = i0 < 0 ? 0 : i0 >= in ? in - 1 : i0;
				ix[1] = i1 < 0 ? 0 : i1 >= in ? in - 1 : i1;
				w[0] = (float)(1 - r);
				w[1] = (float)r;
			} else {
				double f = floor(xo), r = xo - f, c[4], sum = 0;
				cubic_coeffs(r, a, c);
				for (int t = 0; t < 4; t++) {
					int64_t i = ci_f2i(f) - 1 + t;
					if (excl && (i < 0 || i >= in))
						c[t] = 0;
					sum += c[t];
					ix[t] = i < 0 ? 0 : i >= in ? in - 1 : i;
				}
				for (int t = 0; t < 4; t++)
					w[t] = (float)(excl && sum != 0 ? c[t] / sum : c[t]);
			}
		}
	}
	es = ci_dt_size(x->dtype);
	if (mode == M_NEAREST && ct != CT_CROP && nd >= 1 && k->out[0]->count > 0) {
		nearest_rows(k, x, tp, dims, es);
		return 0;
	}
	{
		size_t xs[CI_RT_MAX_DIMS], s = 1, total = k->out[0]->count;
		int64_t idx[CI_RT_MAX_DIMS] = { 0 };
		for (int d = nd - 1; d >= 0; d--) {
			xs[d] = s;
			s *= (size_t)x->dims[d];
		}
		for (size_t o = 0; o < total; o++) {
			int outside = 0;
			for (int d = 0; d < nd; d++)
				outside |= tp[d].outside[idx[d]];
			if (mode == M_NEAREST) {
				size_t src = 0;
				for (int d = 0; d < nd; d++)
					src += (size_t)tp[d].idx[idx[d]] * xs[d];
				if (outside && x->dtype == CI_DT_FLOAT)
					((float *)k->out[0]->data)[o] = extrap;
				else
					memcpy((uint8_t *)k->out[0]->data + o * es,
					    (const uint8_t *)x->data + src * es, es);
			} else if (outside) {
				((float *)k->out[0]->data)[o] = extrap;
			} else {
				/* product of taps over axes whose taps are not trivial */
				int t[CI_RT_MAX_DIMS] = { 0 };
				double acc = 0;
				for (;;) {
					double w = 1;
					size_t src = 0;
					int d;
					for (d = 0; d < nd; d++) {
						size_t ti = (size_t)idx[d] * (size_t)tp[d].n + (size_t)t[d];
						w *= tp[d].w[ti];
						src += (size_t)tp[d].idx[ti] * xs[d];
					}
					if (w != 0)
						acc += w * ((const float *)x->data)[src];
					for (d = nd - 1; d >= 0; d--) {
						if (++t[d] < tp[d].n)
							break;
						t[d] = 0;
					}
					if (d < 0)
						break;
				}
				((float *)k->out[0]->data)[o] = (float)acc;
			}
			for (int d = nd - 1; d >= 0; d--) {
				if (++idx[d] < dims[d])
					break;
				idx[d] = 0;
			}
		}
	}
	return 0;
}

CI_OP_DEF(Resize, "Resize", 10, run_resize);
CI_OP_DEF(Upsample, "Upsample", 7, run_resize);
