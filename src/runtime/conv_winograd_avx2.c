/* The Winograd row kernels (conv_winograd.h) built with -mavx2 -mfma. */
#include "runtime/conv_winograd.h"

void
ci_wino_in_row_avx2(const struct ci_wino_row *g, const float *const r[4], float *pad,
    float *h, float *v, size_t vs)
{
	ci_wino_in_row(g, r, pad, h, v, vs);
}

void
ci_wino_out_row_avx2(size_t tw, const float *m, size_t ms, float *y0, float *y1, size_t ow,
    float bias, int acc, const struct ci_gemm_epi *ep, float *s)
{
	ci_wino_out_row(tw, m, ms, y0, y1, ow, bias, acc, ep, s);
}
