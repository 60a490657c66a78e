/*
 * Shared geometry of convolution and pooling: kernel, strides, dilations,
 * pads (explicit or auto_pad) and output sizes, always padded to three
 * spatial dimensions (1-D and 2-D use leading size-1 dims).
 */
#ifndef CI_RUNTIME_OPS_SPATIAL_H
#define CI_RUNTIME_OPS_SPATIAL_H

#include <string.h>

#include "runtime/rt.h"

struct ci_spatial {
	int ns;			/* real spatial dims (1..3) */
	int64_t in[3], k[3], s[3], d[3], pb[3], pe[3], out[3];
	/* convs only: the input is read as x * in_s + in_c (a FusedConv's
	 * folded affine; padding stays 0) when in_aff */
	int in_aff;
	float in_s, in_c;
};

/*
 * x: [N, C, spatial...]; kernel: ns sizes (NULL: kernel_shape attribute).
 * pool: ceil_mode applies. Fills sp with dims shifted to the last slots.
 */
static inline int
ci_spatial_init(struct ci_kctx *k, const struct ci_tensor *x, const int64_t *kernel, int pool,
    struct ci_spatial *sp, struct cinfer_err *e)
{
	size_t nk, nst, nd, np;
	const int64_t *ks = ci_attr_ints(k->node, "kernel_shape", &nk);
	const int64_t *st = ci_attr_ints(k->node, "strides", &nst);
	const int64_t *dl = ci_attr_ints(k->node, "dilations", &nd);
	const int64_t *pd = ci_attr_ints(k->node, "pads", &np);
	const char *ap = ci_attr_s(k->node, "auto_pad", "NOTSET");
	int ceil_mode = pool ? (int)ci_attr_i(k->node, "ceil_mode", 0) : 0;
	int ns = x->ndim - 2, off;

	if (ns < 1 || ns > 3)
		return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "%s: %d spatial dims",
		    k->node->op_type, ns);
	if (kernel == NULL && (ks == NULL || nk != (size_t)ns))
		return ci_op_fail(k, e, "kernel_shape");
	if (kernel != NULL && ks != NULL && nk != (size_t)ns)
		return ci_op_fail(k, e, "kernel_shape");
	if ((st && nst != (size_t)ns) || (dl && nd != (size_t)ns) || (pd && np != 2 * (size_t)ns))
		return ci_op_fail(k, e, "strides, dilations or pads length");
	off = 3 - ns;
	sp->ns = ns;
	sp->in_aff = 0;
	sp->in_s = 1.0f;
	sp->in_c = 0.0f;
	for (int i = 0; i < 3; i++) {
		sp->in[i] = sp->k[i] = sp->s[i] = sp->d[i] = sp->out[i] = 1;
		sp->pb[i] = sp->pe[i] = 0;
	}
	for (int i = 0; i < ns; i++) {
		int j = off + i;
		sp->in[j] = x->dims[2 + i];
		sp->k[j] = kernel ? kernel[i] : ks[i];
		sp->s[j] = st ? st[i] : 1;
		sp->d[j] = dl ? dl[i] : 1;
		sp->pb[j] = pd ? pd[i] : 0;
		sp->pe[j] = pd ? pd[i + ns] : 0;
		if (sp->k[j] < 1 || sp->s[j] < 1 || sp->d[j] < 1 || sp->pb[j] < 0 || sp->pe[j] < 0 ||
		    sp->k[j] > 1 << 16 || sp->s[j] > 1 << 16 || sp->d[j] > 1 << 16 ||
		    sp->pb[j] > 1 << 16 || sp->pe[j] > 1 << 16)
			return ci_op_fail(k, e, "kernel, stride, dilation or pad out of range");
	}
	for (int i = 0; i < ns; i++) {
		int j = off + i;
		int64_t ek = (sp->k[j] - 1) * sp->d[j] + 1;
		if (strcmp(ap, "SAME_UPPER") == 0 || strcmp(ap, "SAME_LOWER") == 0) {	/* public */
			int64_t o = (sp->in[j] + sp->s[j] - 1) / sp->s[j];
			int64_t tot = (o - 1) * sp->s[j] + ek - sp->in[j];
			if (tot < 0)
				tot = 0;
			if (ap[5] == 'U') {
				sp->pb[j] = tot / 2;
				sp->pe[j] = tot - tot / 2;
			} else {
				sp->pe[j] = tot / 2;
				sp->pb[j] = tot - tot / 2;
			}
			sp->out[j] = o;
		} else if (strcmp(ap, "VALID") == 0) {	/* public */
			sp->pb[j] = sp->pe[j] = 0;
			sp->out[j] = sp->in[j] >= ek ? (sp->in[j] - ek) / sp->s[j] + 1 : 0;
		} else if (strcmp(ap, "NOTSET") == 0 || ap[0] == '\0') {	/* public */
			int64_t span = sp->in[j] + sp->pb[j] + sp->pe[j] - ek;
			if (span < 0) {
				sp->out[j] = 0;
			} else if (ceil_mode) {
				sp->out[j] = (span + sp->s[j] - 1) / sp->s[j] + 1;
				if ((sp->out[j] - 1) * sp->s[j] >= sp->in[j] + sp->pb[j])
					sp->out[j]--;
			} else {
				sp->out[j] = span / sp->s[j] + 1;
			}
		} else {
			return ci_op_fail(k, e, "auto_pad %s", ap);
		}
	}
	return 0;
}

static inline size_t
ci_spatial_in(const struct ci_spatial *sp)
{
	return (size_t)(sp->in[0] * sp->in[1] * sp->in[2]);
}

static inline size_t
ci_spatial_out(const struct ci_spatial *sp)
{
	return (size_t)(sp->out[0] * sp->out[1] * sp->out[2]);
}

static inline size_t
ci_spatial_k(const struct ci_spatial *sp)
{
	return (size_t)(sp->k[0] * sp->k[1] * sp->k[2]);
}

#endif
