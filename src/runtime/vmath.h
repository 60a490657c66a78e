/*
 * Vector math for the runtime's float kernels: exp, erf, tanh, sigmoid,
 * exact GELU, and the row kernels of Softmax and LayerNormalization.
 *
 * Each function has a portable C version (vmath.c) and an AVX2+FMA version
 * (vmath_avx2.c) of the same algorithm: Cody-Waite range reduction and a
 * polynomial for exp; a polynomial in x^2 (|x| <= 1) and 1 - exp(poly(|x|))
 * above for erf; a polynomial near 0 and 1 - 2 / (exp(2|x|) + 1) above for
 * tanh. Both stay within a few ulp of the correctly rounded result
 * (tests/runtime/test_tf_vmath.c asserts the bounds), keep NaN, and give
 * the right limits at +-inf. The ci_v* entry points take the AVX2 path when
 * ci_use_avx2() (rt.h). x and y may be the same array.
 */
#ifndef CI_RUNTIME_VMATH_H
#define CI_RUNTIME_VMATH_H

#include <stddef.h>

/* scalar portable versions (the reference of the vector paths) */
float ci_expf(float x);
float ci_erff(float x);
float ci_tanhf(float x);
float ci_sigmoidf(float x);
float ci_geluf(float x);	/* 0.5 x (1 + erf(x / sqrt(2))) */

/* y[i] = f(x[i]) for i < n */
void ci_vexp(const float *x, float *y, size_t n);
void ci_verf(const float *x, float *y, size_t n);
void ci_vtanh(const float *x, float *y, size_t n);
void ci_vsigmoid(const float *x, float *y, size_t n);
void ci_vgelu(const float *x, float *y, size_t n);
/* max(0, min(1, alpha x + beta)), and x times that with 1/6, 1/2 */
void ci_vhardsigmoid(const float *x, float *y, size_t n, float alpha, float beta);
void ci_vhardswish(const float *x, float *y, size_t n);

/* y = softmax(scale * x) over one row of n (n >= 1). */
void ci_softmax_row(const float *x, float *y, size_t n, float scale);
/*
 * y = (x - mean) / sqrt(var + eps) * w + b over one row of n (n >= 1); b may
 * be NULL. *mean and *inv (1 / sqrt(var + eps)) are set.
 */
void ci_layernorm_row(const float *x, float *y, size_t n, const float *w, const float *b,
    float eps, float *mean, float *inv);

/* The AVX2+FMA paths: call only when ci_use_avx2(). */
void ci_vexp_avx2(const float *x, float *y, size_t n);
void ci_verf_avx2(const float *x, float *y, size_t n);
void ci_vtanh_avx2(const float *x, float *y, size_t n);
void ci_vsigmoid_avx2(const float *x, float *y, size_t n);
void ci_vgelu_avx2(const float *x, float *y, size_t n);
void ci_vhardsigmoid_avx2(const float *x, float *y, size_t n, float alpha, float beta);
void ci_vhardswish_avx2(const float *x, float *y, size_t n);
/* y[i] = a[i * sa] op b[i * sb] with op 0..3 = + - * / and strides 0 or 1
 * (not both 0); the portable loops live with their caller (elementwise.c). */
void ci_vbinary_avx2(int op, const float *a, int sa, const float *b, int sb, float *y,
    size_t n);
void ci_softmax_row_avx2(const float *x, float *y, size_t n, float scale);
void ci_layernorm_row_avx2(const float *x, float *y, size_t n, const float *w,
    const float *b, float eps, float *mean, float *inv);

#endif
