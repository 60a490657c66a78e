/*
 * Conv and ConvTranspose, fp32, 1-D to 3-D, groups, dilations, pads and
 * auto_pad. Conv: a direct loop for depthwise convolutions, the input
 * itself for 1x1/stride-1 convolutions, im2col + SGEMM otherwise.
 * ConvTranspose: SGEMM then col2im.
 */
#include <string.h>

#include "runtime/rt.h"
#include "runtime/ops/ops.h"
#include "runtime/ops/spatial.h"

/* Unfolds one image's channels [c0, c0+cn) into col[(c,kz,ky,kx)][(oz,oy,ox)]. */
static void
im2col(const float *x, size_t cn, const struct ci_spatial *sp, float *col)
{
	size_t osz = ci_spatial_out(sp), isz = ci_spatial_in(sp);

	for (size_t c = 0; c < cn; c++) {
		const float *xc = x + c * isz;
		for (int64_t kz = 0; kz < sp->k[0]; kz++)
			for (int64_t ky = 0; ky < sp->k[1]; ky++)
				for (int64_t kx = 0; kx < sp->k[2]; kx++) {
					float *dst = col;
					col += osz;
					for (int64_t oz = 0; oz < sp->out[0]; oz++) {
						int64_t iz = oz * sp->s[0] - sp->pb[0] + kz * sp->d[0];
						int zok = iz >= 0 && iz < sp->in[0];
						for (int64_t oy = 0; oy < sp->out[1]; oy++) {
							int64_t iy = oy * sp->s[1] - sp->pb[1] + ky * sp->d[1];
							float *row = dst + (size_t)((oz * sp->out[1] + oy) * sp->out[2]);
							const float *src;
							if (!zok || iy < 0 || iy >= sp->in[1]) {
								memset(row, 0, (size_t)sp->out[2] * sizeof(float));
								continue;
							}
							src = xc + (size_t)((iz * sp->in[1] + iy) * sp->in[2]);
							if (sp->s[2] == 1) {
								int64_t ix0 = -sp->pb[2] + kx * sp->d[2];
								for (int64_t ox = 0; ox < sp->out[2]; ox++) {
									int64_t ix = ix0 + ox;
									row[ox] = ix >= 0 && ix < sp->in[2] ? src[ix] : 0.0f;
								}
							} else {
								for (int64_t ox = 0; ox < sp->out[2]; ox++) {
									int64_t ix = ox * sp->s[2] - sp->pb[2] + kx * sp->d[2];
									row[ox] = ix >= 0 && ix < sp->in[2] ? src[ix] : 0.0f;
								}
							}
						}
					}
				}
	}
}

/* Depthwise: one input channel per group, one output channel per group. */
static void
depthwise(const float *x, const float *w, float *y, const struct ci_spatial *sp)
{
	for (int64_t oz = 0; oz < sp->out[0]; oz++)
		for (int64_t oy = 0; oy < sp->out[1]; oy++)
			for (int64_t ox = 0; ox < sp->out[2]; ox++) {
				float s = 0;
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
							s += x[(iz * sp->in[1] + iy) * sp->in[2] + ix] *
							    w[(kz * sp->k[1] + ky) * sp->k[2] + kx];
						}
					}
				}
				y[(oz * sp->out[1] + oy) * sp->out[2] + ox] = s;
			}
}

static int
run_conv(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0), *w = ci_in(k, 1), *b = ci_in(k, 2);
	struct ci_spatial sp = { 0 };
	int64_t g = ci_attr_i(k->node, "group", 1), dims[CI_RT_MAX_DIMS];
	size_t n, c, m, cg, mg, osz, isz, ksz;
	int direct;
	float *col = NULL;

	if (x == NULL || w == NULL)
		return ci_op_fail(k, e, "missing input");
	if (x->dtype != CI_DT_FLOAT || w->dtype != CI_DT_FLOAT || (b && b->dtype != CI_DT_FLOAT))
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "Conv: type %s",
		    ci_dt_name(x->dtype));
	if (w->ndim != x->ndim || x->ndim < 3)
		return ci_op_fail(k, e, "weight rank");
	if (ci_spatial_init(k, x, w->dims + 2, 0, &sp, e) != 0)
		return -1;
	n = (size_t)x->dims[0];
	c = (size_t)x->dims[1];
	m = (size_t)w->dims[0];
	if (g < 1 || c % (size_t)g != 0 || m % (size_t)g != 0 || (size_t)w->dims[1] != c / (size_t)g)
		return ci_op_fail(k, e, "channels %zu, group %lld, weight %lld", c, (long long)g,
		    (long long)w->dims[1]);
	if (b && (b->ndim != 1 || (size_t)b->dims[0] != m))
		return ci_op_fail(k, e, "bias size");
	cg = c / (size_t)g;
	mg = m / (size_t)g;
	dims[0] = (int64_t)n;
	dims[1] = (int64_t)m;
	for (int i = 0; i < sp.ns; i++)
		dims[2 + i] = sp.out[3 - sp.ns + i];
	if (ci_out(k, 0, CI_DT_FLOAT, x->ndim, dims, e) != 0)
		return -1;
	osz = ci_spatial_out(&sp);
	isz = ci_spatial_in(&sp);
	ksz = ci_spatial_k(&sp);
	direct = ksz == 1 && sp.s[0] == 1 && sp.s[1] == 1 && sp.s[2] == 1 && sp.pb[0] == 0 &&
	    sp.pb[1] == 0 && sp.pb[2] == 0 && sp.pe[0] == 0 && sp.pe[1] == 0 && sp.pe[2] == 0;
	if (!direct && !(cg == 1 && mg == 1)) {
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
			float *yg = (float *)k->out[0]->data + (in * m + gi * mg) * osz;
			if (cg == 1 && mg == 1) {
				depthwise(xg, wg, yg, &sp);
				continue;
			}
			if (direct) {
				ci_sgemm(0, 0, mg, osz, cg, 1.0f, wg, cg, xg, osz, 0.0f, yg, osz);
				continue;
			}
			im2col(xg, cg, &sp, col);
			ci_sgemm(0, 0, mg, osz, cg * ksz, 1.0f, wg, cg * ksz, col, osz, 0.0f, yg, osz);
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

static int
run_conv_transpose(struct ci_kctx *k, struct cinfer_err *e)
{
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
	for (size_t in = 0; in < n; in++)
		for (size_t gi = 0; gi < (size_t)g; gi++) {
			const float *xg = (const float *)x->data + (in * c + gi * cg) * isz;
			const float *wg = (const float *)w->data + gi * cg * mg * ksz;
			float *yg = (float *)k->out[0]->data + (in * m + gi * mg) * osz;
			/* col[(m,k)][i] = sum_c W[c][(m,k)] x[c][i] */
			ci_sgemm(1, 0, mg * ksz, isz, cg, 1.0f, wg, mg * ksz, xg, isz, 0.0f, col, isz);
			for (size_t mo = 0; mo < mg; mo++)
				for (int64_t kz = 0; kz < sp.k[0]; kz++)
					for (int64_t ky = 0; ky < sp.k[1]; ky++)
						for (int64_t kx = 0; kx < sp.k[2]; kx++) {
							const float *cr = col + ((mo * (size_t)sp.k[0] + (size_t)kz) *
							    (size_t)sp.k[1] * (size_t)sp.k[2] +
							    (size_t)(ky * sp.k[2] + kx)) * isz;
							float *yo = yg + mo * osz;
							for (int64_t iz = 0; iz < sp.in[0]; iz++) {
								int64_t oz = iz * sp.s[0] - sp.pb[0] + kz * sp.d[0];
								if (oz < 0 || oz >= sp.out[0])
									continue;
								for (int64_t iy = 0; iy < sp.in[1]; iy++) {
									int64_t oy = iy * sp.s[1] - sp.pb[1] + ky * sp.d[1];
									if (oy < 0 || oy >= sp.out[1])
										continue;
									for (int64_t ix = 0; ix < sp.in[2]; ix++) {
										int64_t ox = ix * sp.s[2] - sp.pb[2] + kx * sp.d[2];
										if (ox < 0 || ox >= sp.out[2])
											continue;
										yo[(oz * sp.out[1] + oy) * sp.out[2] + ox] +=
										    cr[(iz * sp.in[1] + iy) * sp.in[2] + ix];
									}
								}
							}
						}
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

CI_OP_DEF(Conv, "Conv", 1, run_conv);
CI_OP_DEF(ConvTranspose, "ConvTranspose", 1, run_conv_transpose);
