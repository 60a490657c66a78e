/*
 * The depthwise and pooling row kernels of conv.h compiled with -mavx2
 * -mfma -O3 (area.cmake): the row loops vectorize over output columns.
 * Callers check ci_use_avx2() first.
 */
#include "runtime/conv.h"

void
ci_conv_dw_avx2(const struct ci_dw_args *a, size_t lo, size_t hi)
{
	ci_conv_dw_rows(a, lo, hi);
}

void
ci_pool2d_avx2(const struct ci_pool_args *a, size_t lo, size_t hi)
{
	ci_pool2d_rows(a, lo, hi);
}
