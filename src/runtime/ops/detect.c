/* Detection helpers: NonMaxSuppression, RoiAlign, GridSample. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/rt.h"
#include "runtime/ops/ops.h"

/* ---- NonMaxSuppression --------------------------------------------------------- */
struct cand {
	float s;
	int64_t i;
};

static int
cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->s != y->s)
		return x->s > y->s ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

static void
corners(const float *b, int center, float *c)
{
	if (center) {
		c[0] = b[1] - b[3] / 2;	/* y1 */
		c[1] = b[0] - b[2] / 2;	/* x1 */
		c[2] = b[1] + b[3] / 2;
		c[3] = b[0] + b[2] / 2;
	} else {
		c[0] = fminf(b[0], b[2]);
		c[1] = fminf(b[1], b[3]);
		c[2] = fmaxf(b[0], b[2]);
		c[3] = fmaxf(b[1], b[3]);
	}
}

static float
iou(const float *a, const float *b, int center)
{
	float ca[4], cb[4], ih, iw, inter, ua;

	corners(a, center, ca);
	corners(b, center, cb);
	ih = fminf(ca[2], cb[2]) - fmaxf(ca[0], cb[0]);
	iw = fminf(ca[3], cb[3]) - fmaxf(ca[1], cb[1]);
	if (ih <= 0 || iw <= 0)
		return 0;
	inter = ih * iw;
	ua = (ca[2] - ca[0]) * (ca[3] - ca[1]) + (cb[2] - cb[0]) * (cb[3] - cb[1]) - inter;
	return ua > 0 ? inter / ua : 0;
}

static int
run_nms(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *bx = ci_in(k, 0), *sc = ci_in(k, 1), *mo = ci_in(k, 2), *it = ci_in(k, 3),
	    *st = ci_in(k, 4);
	int center = (int)ci_attr_i(k->node, "center_point_box", 0);
	int64_t maxo = 0, nb, nc, ns, dims[2];
	float iou_t = 0, score_t = -INFINITY;
	int has_st = st != NULL && st->count == 1;
	struct cand *cands;
	int64_t *sel, nsel = 0, *keep;

	if (bx == NULL || sc == NULL || bx->dtype != CI_DT_FLOAT || sc->dtype != CI_DT_FLOAT ||
	    bx->ndim != 3 || bx->dims[2] != 4 || sc->ndim != 3 || sc->dims[0] != bx->dims[0] ||
	    sc->dims[2] != bx->dims[1])
		return ci_op_fail(k, e, "boxes [B,N,4] and scores [B,C,N] float");
	if (mo && mo->count == 1)
		maxo = ci_tensor_i64(mo, 0);
	if (it && it->count == 1)
		iou_t = (float)ci_tensor_f64(it, 0);
	if (has_st)
		score_t = (float)ci_tensor_f64(st, 0);
	nb = bx->dims[0];
	nc = sc->dims[1];
	ns = bx->dims[1];
	if (maxo < 0)
		maxo = 0;
	if (maxo > ns)
		maxo = ns;
	cands = ci_scratch(k, (size_t)(ns + 1) * sizeof(*cands), e);
	keep = ci_scratch(k, (size_t)(ns + 1) * sizeof(int64_t), e);
	sel = ci_scratch(k, (size_t)(nb * nc * maxo + 1) * 3 * sizeof(int64_t), e);
	if (!cands || !keep || !sel)
		return -1;
	for (int64_t b = 0; b < nb; b++)
		for (int64_t c = 0; c < nc; c++) {
			int64_t n = 0, nk = 0;
			const float *s = (const float *)sc->data + (b * nc + c) * ns;
			const float *boxes = (const float *)bx->data + b * ns * 4;
			for (int64_t i = 0; i < ns; i++)
				if (!has_st || s[i] > score_t) {
					cands[n].s = s[i];
					cands[n].i = i;
					n++;
				}
			qsort(cands, (size_t)n, sizeof(*cands), cand_cmp);
			for (int64_t i = 0; i < n && nk < maxo; i++) {
				int ok = 1;
				for (int64_t j = 0; j < nk && ok; j++)
					if (iou(boxes + cands[i].i * 4, boxes + keep[j] * 4, center) > iou_t)
						ok = 0;
				if (!ok)
					continue;
				keep[nk++] = cands[i].i;
				sel[nsel * 3] = b;
				sel[nsel * 3 + 1] = c;
				sel[nsel * 3 + 2] = cands[i].i;
				nsel++;
			}
		}
	dims[0] = nsel;
	dims[1] = 3;
	if (ci_out(k, 0, CI_DT_INT64, 2, dims, e) != 0)
		return -1;
	memcpy(k->out[0]->data, sel, (size_t)nsel * 3 * sizeof(int64_t));
	return 0;
}

/* ---- RoiAlign ---------------------------------------------------------------------- */
static float
bilinear_roi(const float *img, int64_t h, int64_t w, float y, float x, float *wts, int64_t *idx)
{
	int64_t yl, xl, yh, xh;
	float ly, lx, hy, hx;

	if (!(y >= -1.0f && y <= (float)h && x >= -1.0f && x <= (float)w)) {
		wts[0] = wts[1] = wts[2] = wts[3] = 0;
		idx[0] = idx[1] = idx[2] = idx[3] = 0;
		return 0;
	}
	y = y <= 0 ? 0 : y;
	x = x <= 0 ? 0 : x;
	yl = (int64_t)y;
	xl = (int64_t)x;
	if (yl >= h - 1) {
		yh = yl = h - 1;
		y = (float)yl;
	} else {
		yh = yl + 1;
	}
	if (xl >= w - 1) {
		xh = xl = w - 1;
		x = (float)xl;
	} else {
		xh = xl + 1;
	}
	ly = y - (float)yl;
	lx = x - (float)xl;
	hy = 1 - ly;
	hx = 1 - lx;
	wts[0] = hy * hx;
	wts[1] = hy * lx;
	wts[2] = ly * hx;
	wts[3] = ly * lx;
	idx[0] = yl * w + xl;
	idx[1] = yl * w + xh;
	idx[2] = yh * w + xl;
	idx[3] = yh * w + xh;
	(void)img;
	return 1;
}

static int
run_roialign(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0), *rois = ci_in(k, 1), *bi = ci_in(k, 2);
	const char *mode = ci_attr_s(k->node, "mode", "avg");
	const char *ctm = ci_attr_s(k->node, "coordinate_transformation_mode",
	    k->opset >= 16 ? "half_pixel" : "output_half_pixel");
	int64_t oh = ci_attr_i(k->node, "output_height", 1), ow = ci_attr_i(k->node, "output_width", 1);
	int64_t sr = ci_attr_i(k->node, "sampling_ratio", 0), nr, c, h, w, dims[4];
	float scale = ci_attr_f(k->node, "spatial_scale", 1.0f);
	int is_max = strcmp(mode, "max") == 0, half = strcmp(ctm, "half_pixel") == 0;	/* public */

	if (x == NULL || rois == NULL || bi == NULL || x->dtype != CI_DT_FLOAT || x->ndim != 4 ||
	    rois->dtype != CI_DT_FLOAT || rois->ndim != 2 || rois->dims[1] != 4 ||
	    bi->count != (size_t)rois->dims[0] || (bi->dtype != CI_DT_INT64 && bi->dtype != CI_DT_INT32))
		return ci_op_fail(k, e, "inputs");
	if ((!is_max && strcmp(mode, "avg") != 0) ||	/* public */
	    (!half && strcmp(ctm, "output_half_pixel") != 0))	/* public */
		return ci_op_fail(k, e, "mode or coordinate_transformation_mode");
	if (oh < 1 || ow < 1 || oh > 4096 || ow > 4096 || sr < 0 || sr > 1024)
		return ci_op_fail(k, e, "output size or sampling_ratio");
	nr = rois->dims[0];
	c = x->dims[1];
	h = x->dims[2];
	w = x->dims[3];
	dims[0] = nr;
	dims[1] = c;
	dims[2] = oh;
	dims[3] = ow;
	if (ci_out(k, 0, CI_DT_FLOAT, 4, dims, e) != 0)
		return -1;
	for (int64_t r = 0; r < nr; r++) {
		const float *roi = (const float *)rois->data + r * 4;
		int64_t b = ci_tensor_i64(bi, (size_t)r);
		float off = half ? 0.5f : 0.0f;
		float x1 = roi[0] * scale - off, y1 = roi[1] * scale - off;
		float x2 = roi[2] * scale - off, y2 = roi[3] * scale - off;
		float rw = x2 - x1, rh = y2 - y1, bw, bh;
		int64_t gh, gw;
		if (b < 0 || b >= x->dims[0])
			return ci_op_fail(k, e, "batch index out of range");
		if (!half) {
			rw = fmaxf(rw, 1.0f);
			rh = fmaxf(rh, 1.0f);
		}
		bh = rh / (float)oh;
		bw = rw / (float)ow;
		gh = sr > 0 ? sr : ci_f2i(ceil((double)rh / (double)oh));
		gw = sr > 0 ? sr : ci_f2i(ceil((double)rw / (double)ow));
		if (gh < 0 || gw < 0 || gh > 1024 || gw > 1024)
			return ci_op_fail(k, e, "sampling grid");
		for (int64_t ch = 0; ch < c; ch++) {
			const float *img = (const float *)x->data + (b * c + ch) * h * w;
			for (int64_t py = 0; py < oh; py++)
				for (int64_t px = 0; px < ow; px++) {
					float acc = 0, mx = 0;
					int first = 1;
					int64_t cnt = gh * gw > 1 ? gh * gw : 1;
					for (int64_t iy = 0; iy < gh; iy++) {
						float yy = y1 + (float)py * bh + ((float)iy + 0.5f) * bh / (float)gh;
						for (int64_t ix = 0; ix < gw; ix++) {
							float xx = x1 + (float)px * bw + ((float)ix + 0.5f) * bw / (float)gw;
							float wt[4];
							int64_t id[4];
							bilinear_roi(img, h, w, yy, xx, wt, id);
							if (is_max) {
								for (int q = 0; q < 4; q++) {
									float v = wt[q] * img[id[q]];
									if (first || v > mx)
										mx = v;
									first = 0;
								}
							} else {
								for (int q = 0; q < 4; q++)
									acc += wt[q] * img[id[q]];
							}
						}
					}
					((float *)k->out[0]->data)[((r * c + ch) * oh + py) * ow + px] =
					    is_max ? mx : acc / (float)cnt;
				}
		}
	}
	return 0;
}

/* ---- GridSample (PyTorch grid_sample semantics, 4-D) ----------------------------- */
enum { GP_ZEROS, GP_BORDER, GP_REFLECT };

static double
reflect(double x, double lo2, double hi2)
{
	/* reflects x into [lo2/2, hi2/2] (twice-scaled bounds, as PyTorch) */
	double mn, span, ex, fl;

	if (lo2 == hi2)
		return 0;
	mn = lo2 / 2;
	span = (hi2 - lo2) / 2;
	x = fabs(x - mn);
	ex = fmod(x, span);
	fl = floor(x / span);
	return ((int64_t)fl % 2 == 0) ? ex + mn : span - ex + mn;
}

static double
gs_coord(double x, int64_t size, int pad, int align)
{
	if (pad == GP_BORDER) {
		x = x < 0 ? 0 : x > (double)(size - 1) ? (double)(size - 1) : x;
	} else if (pad == GP_REFLECT) {
		x = align ? reflect(x, 0, 2.0 * (double)(size - 1)) : reflect(x, -1, 2.0 * (double)size - 1);
		x = x < 0 ? 0 : x > (double)(size - 1) ? (double)(size - 1) : x;
	}
	return x;
}

static double
gs_pixel(const float *img, int64_t h, int64_t w, int64_t y, int64_t x)
{
	if (y < 0 || y >= h || x < 0 || x >= w)
		return 0;
	return img[y * w + x];
}

static void
cubic_w(double t, double *c)
{
	const double a = -0.75;
	double x;

	x = t + 1;
	c[0] = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
	x = t;
	c[1] = ((a + 2) * x - (a + 3)) * x * x + 1;
	x = 1 - t;
	c[2] = ((a + 2) * x - (a + 3)) * x * x + 1;
	x = 2 - t;
	c[3] = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
}

static int
run_gridsample(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0), *g = ci_in(k, 1);
	const char *mode = ci_attr_s(k->node, "mode", "bilinear");
	const char *pm = ci_attr_s(k->node, "padding_mode", "zeros");
	int align = (int)ci_attr_i(k->node, "align_corners", 0), m, pad;
	int64_t n, c, h, w, oh, ow, dims[4];

	if (x == NULL || g == NULL || x->dtype != CI_DT_FLOAT || g->dtype != CI_DT_FLOAT ||
	    x->ndim != 4 || g->ndim != 4 || g->dims[3] != 2 || g->dims[0] != x->dims[0])
		return ci_op_fail(k, e, "X [N,C,H,W] and grid [N,H,W,2] float");
	m = strcmp(mode, "bilinear") == 0 ? 0 : strcmp(mode, "nearest") == 0 ? 1 :	/* public */
	    strcmp(mode, "bicubic") == 0 ? 2 : -1;	/* public */
	pad = strcmp(pm, "zeros") == 0 ? GP_ZEROS : strcmp(pm, "border") == 0 ? GP_BORDER :	/* public */
	    strcmp(pm, "reflection") == 0 ? GP_REFLECT : -1;	/* public */
	if (m < 0 || pad < 0)
		return ci_op_fail(k, e, "mode or padding_mode");
	n = x->dims[0];
	c = x->dims[1];
	h = x->dims[2];
	w = x->dims[3];
	oh = g->dims[1];
	ow = g->dims[2];
	dims[0] = n;
	dims[1] = c;
	dims[2] = oh;
	dims[3] = ow;
	if (ci_out(k, 0, CI_DT_FLOAT, 4, dims, e) != 0)
		return -1;
	for (int64_t b = 0; b < n; b++)
		for (int64_t ch = 0; ch < c; ch++) {
			const float *img = (const float *)x->data + (b * c + ch) * h * w;
			for (int64_t i = 0; i < oh; i++)
				for (int64_t j = 0; j < ow; j++) {
					const float *gp = (const float *)g->data + ((b * oh + i) * ow + j) * 2;
					double gx = gp[0], gy = gp[1], xx, yy, v = 0;
					xx = align ? (gx + 1) / 2 * (double)(w - 1) : ((gx + 1) * (double)w - 1) / 2;
					yy = align ? (gy + 1) / 2 * (double)(h - 1) : ((gy + 1) * (double)h - 1) / 2;
					if (m == 2) {
						double fx = floor(xx), fy = floor(yy), cx[4], cy[4];
						cubic_w(xx - fx, cx);
						cubic_w(yy - fy, cy);
						for (int p = 0; p < 4; p++)
							for (int q = 0; q < 4; q++) {
								double py = fy - 1 + p, qx = fx - 1 + q;
								if (pad != GP_ZEROS) {
									py = gs_coord(py, h, pad, align);
									qx = gs_coord(qx, w, pad, align);
								}
								v += cy[p] * cx[q] * gs_pixel(img, h, w, ci_f2i(py), ci_f2i(qx));
							}
					} else {
						xx = gs_coord(xx, w, pad, align);
						yy = gs_coord(yy, h, pad, align);
						if (m == 1) {
							v = gs_pixel(img, h, w, ci_f2i(nearbyint(yy)), ci_f2i(nearbyint(xx)));
						} else {
							double fx = floor(xx), fy = floor(yy), tx = xx - fx, ty = yy - fy;
							int64_t x0 = ci_f2i(fx), y0 = ci_f2i(fy);
							v = (1 - ty) * ((1 - tx) * gs_pixel(img, h, w, y0, x0) +
							    tx * gs_pixel(img, h, w, y0, x0 + 1)) +
							    ty * ((1 - tx) * gs_pixel(img, h, w, y0 + 1, x0) +
							    tx * gs_pixel(img, h, w, y0 + 1, x0 + 1));
						}
					}
					((float *)k->out[0]->data)[((b * c + ch) * oh + i) * ow + j] = (float)v;
				}
		}
	return 0;
}

CI_OP_DEF(GridSample, "GridSample", 16, run_gridsample);
CI_OP_DEF(NonMaxSuppression, "NonMaxSuppression", 10, run_nms);
CI_OP_DEF(RoiAlign, "RoiAlign", 10, run_roialign);
