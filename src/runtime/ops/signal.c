/* Signal processing: DFT, STFT, MelWeightMatrix (opset 17), in double. */
#include <math.h>
#include <string.h>

#include "runtime/rt.h"
#include "runtime/ops/ops.h"

static void
store(struct ci_tensor *t, size_t i, double v)
{
	ci_convert((uint8_t *)t->data + i * ci_dt_size(t->dtype), t->dtype, &v, CI_DT_DOUBLE, 1);
}

/* One DFT of length len over n complex inputs (zero padded or cut). */
static void
dft1(const double *re, const double *im, int64_t n, int64_t len, int inverse, int64_t bins,
    double *ore, double *oim)
{
	for (int64_t kk = 0; kk < bins; kk++) {
		double sr = 0, si = 0;
		for (int64_t j = 0; j < n && j < len; j++) {
			double a = 2 * M_PI * (double)((j * kk) % len) / (double)len * (inverse ? 1 : -1);
			sr += re[j] * cos(a) - im[j] * sin(a);
			si += re[j] * sin(a) + im[j] * cos(a);
		}
		ore[kk] = inverse ? sr / (double)len : sr;
		oim[kk] = inverse ? si / (double)len : si;
	}
}

static int
is_fp(int dt)
{
	return dt == CI_DT_FLOAT || dt == CI_DT_DOUBLE;
}

static int
run_dft(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0), *dl = ci_in(k, 1);
	int inverse = (int)ci_attr_i(k->node, "inverse", 0), onesided = (int)ci_attr_i(k->node, "onesided", 0);
	int ax, nd;
	int64_t n, len, bins, dims[CI_RT_MAX_DIMS], comps;
	size_t outer = 1, inner = 1;
	double *re, *im, *ore, *oim;

	if (x == NULL || !is_fp(x->dtype) || x->ndim < 2)
		return ci_op_fail(k, e, "input");
	nd = x->ndim;
	comps = x->dims[nd - 1];
	if (comps != 1 && comps != 2)
		return ci_op_fail(k, e, "last dim must be 1 (real) or 2 (complex)");
	ax = ci_axis(ci_attr_i(k->node, "axis", 1), nd - 1);
	if (ax < 0 || (onesided && inverse))
		return ci_op_fail(k, e, "axis or onesided inverse");
	n = x->dims[ax];
	len = dl && dl->count == 1 ? ci_tensor_i64(dl, 0) : n;
	if (len < 1 || len > 1 << 16)
		return ci_op_fail(k, e, "dft_length");
	bins = onesided ? len / 2 + 1 : len;
	memcpy(dims, x->dims, sizeof(dims));
	dims[ax] = bins;
	dims[nd - 1] = 2;
	if (ci_out(k, 0, x->dtype, nd, dims, e) != 0)
		return -1;
	for (int d = 0; d < ax; d++)
		outer *= (size_t)x->dims[d];
	for (int d = ax + 1; d < nd - 1; d++)
		inner *= (size_t)x->dims[d];
	re = ci_scratch(k, (size_t)(n + 1) * sizeof(double), e);
	im = ci_scratch(k, (size_t)(n + 1) * sizeof(double), e);
	ore = ci_scratch(k, (size_t)(bins + 1) * sizeof(double), e);
	oim = ci_scratch(k, (size_t)(bins + 1) * sizeof(double), e);
	if (!re || !im || !ore || !oim)
		return -1;
	for (size_t o = 0; o < outer; o++)
		for (size_t i = 0; i < inner; i++) {
			for (int64_t j = 0; j < n; j++) {
				size_t b = ((o * (size_t)n + (size_t)j) * inner + i) * (size_t)comps;
				re[j] = ci_tensor_f64(x, b);
				im[j] = comps == 2 ? ci_tensor_f64(x, b + 1) : 0;
			}
			dft1(re, im, n, len, inverse, bins, ore, oim);
			for (int64_t kk = 0; kk < bins; kk++) {
				size_t b = ((o * (size_t)bins + (size_t)kk) * inner + i) * 2;
				store(k->out[0], b, ore[kk]);
				store(k->out[0], b + 1, oim[kk]);
			}
		}
	return 0;
}

static int
run_stft(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0), *fs = ci_in(k, 1), *win = ci_in(k, 2), *fl = ci_in(k, 3);
	int onesided = (int)ci_attr_i(k->node, "onesided", 1);
	int64_t step, flen, slen, comps, frames, bins, dims[4];
	double *re, *im, *ore, *oim;

	if (x == NULL || fs == NULL || !is_fp(x->dtype) || x->ndim != 3 || fs->count != 1)
		return ci_op_fail(k, e, "signal [B,N,1|2] and frame_step");
	comps = x->dims[2];
	slen = x->dims[1];
	step = ci_tensor_i64(fs, 0);
	if (fl && fl->count == 1)
		flen = ci_tensor_i64(fl, 0);
	else if (win)
		flen = (int64_t)win->count;
	else
		return ci_op_fail(k, e, "need window or frame_length");
	if ((comps != 1 && comps != 2) || step < 1 || flen < 1 || flen > slen || flen > 1 << 16 ||
	    (win && ((int64_t)win->count != flen || !is_fp(win->dtype))) || (onesided && comps == 2))
		return ci_op_fail(k, e, "frame parameters");
	frames = (slen - flen) / step + 1;
	bins = onesided ? flen / 2 + 1 : flen;
	dims[0] = x->dims[0];
	dims[1] = frames;
	dims[2] = bins;
	dims[3] = 2;
	if (ci_out(k, 0, x->dtype, 4, dims, e) != 0)
		return -1;
	re = ci_scratch(k, (size_t)(flen + 1) * sizeof(double), e);
	im = ci_scratch(k, (size_t)(flen + 1) * sizeof(double), e);
	ore = ci_scratch(k, (size_t)(bins + 1) * sizeof(double), e);
	oim = ci_scratch(k, (size_t)(bins + 1) * sizeof(double), e);
	if (!re || !im || !ore || !oim)
		return -1;
	for (int64_t b = 0; b < x->dims[0]; b++)
		for (int64_t f = 0; f < frames; f++) {
			for (int64_t j = 0; j < flen; j++) {
				size_t s = (size_t)((b * slen + f * step + j) * comps);
				double w = win ? ci_tensor_f64(win, (size_t)j) : 1;
				re[j] = ci_tensor_f64(x, s) * w;
				im[j] = comps == 2 ? ci_tensor_f64(x, s + 1) * w : 0;
			}
			dft1(re, im, flen, flen, 0, bins, ore, oim);
			for (int64_t kk = 0; kk < bins; kk++) {
				size_t o = (size_t)(((b * frames + f) * bins + kk) * 2);
				store(k->out[0], o, ore[kk]);
				store(k->out[0], o + 1, oim[kk]);
			}
		}
	return 0;
}

static int
run_melweight(struct ci_kctx *k, struct cinfer_err *e)
{
	struct ci_tensor *nm = ci_in(k, 0), *dl = ci_in(k, 1), *sr = ci_in(k, 2), *lo = ci_in(k, 3),
	    *hi = ci_in(k, 4);
	int dt = (int)ci_attr_i(k->node, "output_datatype", CI_DT_FLOAT);
	int64_t nmel, dlen, rate, bins, dims[2], *fb;
	double lmel, hmel, step;

	if (!nm || !dl || !sr || !lo || !hi || nm->count != 1 || dl->count != 1 || sr->count != 1 ||
	    lo->count != 1 || hi->count != 1 || ci_dt_size(dt) == 0)
		return ci_op_fail(k, e, "inputs");
	nmel = ci_tensor_i64(nm, 0);
	dlen = ci_tensor_i64(dl, 0);
	rate = ci_tensor_i64(sr, 0);
	if (nmel < 1 || nmel > 4096 || dlen < 1 || dlen > 1 << 20 || rate < 1)
		return ci_op_fail(k, e, "sizes");
	bins = dlen / 2 + 1;
	dims[0] = bins;
	dims[1] = nmel;
	if (ci_out(k, 0, dt, 2, dims, e) != 0)
		return -1;
	fb = ci_scratch(k, (size_t)(nmel + 2) * sizeof(int64_t), e);
	if (fb == NULL)
		return -1;
	lmel = 2595 * log10(1 + ci_tensor_f64(lo, 0) / 700);
	hmel = 2595 * log10(1 + ci_tensor_f64(hi, 0) / 700);
	step = (hmel - lmel) / (double)(nmel + 2);
	for (int64_t i = 0; i < nmel + 2; i++) {
		double f = 700 * (pow(10, ((double)i * step + lmel) / 2595) - 1);
		fb[i] = ci_f2i(floor((double)(dlen + 1) * f / (double)rate));
		if (fb[i] < 0 || fb[i] >= bins)
			return ci_op_fail(k, e, "band edge outside the spectrum");
	}
	memset(k->out[0]->data, 0, k->out[0]->count * ci_dt_size(dt));
	for (int64_t i = 0; i < nmel; i++) {
		int64_t l = fb[i], c = fb[i + 1], h = fb[i + 2];
		if (c == l)
			store(k->out[0], (size_t)(c * nmel + i), 1);
		else
			for (int64_t j = l; j <= c; j++)
				store(k->out[0], (size_t)(j * nmel + i), (double)(j - l) / (double)(c - l));
		if (h > c)
			for (int64_t j = c; j < h; j++)
				store(k->out[0], (size_t)(j * nmel + i), (double)(h - j) / (double)(h - c));
	}
	return 0;
}

CI_OP_DEF(DFT, "DFT", 17, run_dft);
CI_OP_DEF(MelWeightMatrix, "MelWeightMatrix", 17, run_melweight);
CI_OP_DEF(STFT, "STFT", 17, run_stft);
