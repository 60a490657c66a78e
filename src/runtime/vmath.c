/*
 * Vector math, portable C versions and the dispatch to the AVX2 ones (see
 * vmath.h). The scalar functions spell out the algorithm that
 * vmath_avx2.c runs eight lanes at a time (there with fused multiply-adds).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "runtime/rt.h"
#include "runtime/vmath.h"

/* exp: x = n ln2 + r, |r| <= ln2 / 2 (ln2 in two parts), e^r by a degree-7
 * polynomial (the Cephes expf coefficients), then 2^n applied in two halves
 * so that subnormal and near-overflow results come out right. */
#define EXP_HI 88.8f
#define EXP_LO -104.0f
#define LOG2E 1.44269504088896341f
#define LN2_C1 0.693359375f
#define LN2_C2 -2.12194440e-4f
#define EXP_P0 1.9875691500e-4f
#define EXP_P1 1.3981999507e-3f
#define EXP_P2 8.3334519073e-3f
#define EXP_P3 4.1665795894e-2f
#define EXP_P4 1.6666665459e-1f
#define EXP_P5 5.0000001201e-1f
#define RND_MAGIC 12582912.0f	/* 1.5 * 2^23: adding it rounds to an integer */

/* erf: |x| <= 1: x P(x^2); 1 < |x| < 3.92: 1 - exp(Q(|x| - ERF_MID)); then 1.
 * Least-squares fits (relative for P, absolute in the log for Q), made with
 * tests/runtime/vectors/tf/fit_erf.py. */
#define ERF_SPLIT 1.0f
#define ERF_MAX 3.92f
#define ERF_MID 2.46f
static const float erf_p[7] = {
	1.128379225730896f, -0.3761262893676758f, 0.11283612251281738f,
	-0.026854805648326874f, 0.005190049763768911f, -0.0008024320704862475f,
	7.898097828729078e-05f,
};
static const float erf_q[10] = {
	-7.594217777252197f, -5.277222156524658f, -0.9425696134567261f,
	-0.011211467906832695f, 0.0022512227296829224f, -0.0004396395233925432f,
	8.107207395369187e-05f, -1.3553511053032707e-05f, 1.6449569102405803e-06f,
	-5.307072115101619e-08f,
};

/* tanh: |x| < 0.625: x + x^3 P(x^2) (Cephes tanhf), else 1 - 2 / (e^2|x| + 1). */
#define TANH_SPLIT 0.625f
#define TANH_MAX 9.1f

static float
pow2i(int32_t n)
{
	uint32_t u = (uint32_t)(n + 127) << 23;
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

float
ci_expf(float x)
{
	float n, r, p;
	int32_t ni, n1;

	if (x != x)
		return x;
	x = x < EXP_LO ? EXP_LO : x > EXP_HI ? EXP_HI : x;
	n = (x * LOG2E + RND_MAGIC) - RND_MAGIC;
	r = x - n * LN2_C1;
	r = r - n * LN2_C2;
	p = EXP_P0;
	p = p * r + EXP_P1;
	p = p * r + EXP_P2;
	p = p * r + EXP_P3;
	p = p * r + EXP_P4;
	p = p * r + EXP_P5;
	p = (p * (r * r) + r) + 1.0f;
	ni = (int32_t)n;
	n1 = ni / 2;
	return p * pow2i(n1) * pow2i(ni - n1);
}

float
ci_erff(float x)
{
	float a = fabsf(x), y;

	if (x != x)
		return x;
	if (a <= ERF_SPLIT) {
		float z = x * x, p = erf_p[6];
		for (int i = 5; i >= 0; i--)
			p = p * z + erf_p[i];
		return x * p;
	}
	a = a < ERF_MAX ? a : ERF_MAX;
	{
		float t = a - ERF_MID, q = erf_q[9];
		for (int i = 8; i >= 0; i--)
			q = q * t + erf_q[i];
		y = 1.0f - ci_expf(q);
	}
	return copysignf(y, x);
}

float
ci_tanhf(float x)
{
	float a = fabsf(x), y;

	if (x != x)
		return x;
	if (a < TANH_SPLIT) {
		float z = x * x;
		float p = -5.70498872745e-3f;
		p = p * z + 2.06390887954e-2f;
		p = p * z - 5.37397155531e-2f;
		p = p * z + 1.33314422036e-1f;
		p = p * z - 3.33332819422e-1f;
		return (p * z) * x + x;
	}
	a = a < TANH_MAX ? a : TANH_MAX;
	y = 1.0f - 2.0f / (ci_expf(2.0f * a) + 1.0f);
	return copysignf(y, x);
}

float
ci_sigmoidf(float x)
{
	/* e^-|x| never overflows: 1 / (1 + e) for x >= 0, e / (1 + e) below */
	float e = ci_expf(-fabsf(x)), s = 1.0f / (1.0f + e);

	return x >= 0 ? s : e * s;
}

float
ci_geluf(float x)
{
	return 0.5f * x * (1.0f + ci_erff(x * 0.70710678118654752f));
}

#define VLOOP(name, scalar) \
void \
name(const float *x, float *y, size_t n) \
{ \
	if (ci_use_avx2()) { \
		name##_avx2(x, y, n); \
		return; \
	} \
	for (size_t i = 0; i < n; i++) \
		y[i] = scalar(x[i]); \
}
VLOOP(ci_vexp, ci_expf)
VLOOP(ci_verf, ci_erff)
VLOOP(ci_vtanh, ci_tanhf)
VLOOP(ci_vsigmoid, ci_sigmoidf)
VLOOP(ci_vgelu, ci_geluf)

/* NaN stays NaN (the comparisons are false), as in the reference. */
void
ci_vhardsigmoid(const float *x, float *y, size_t n, float alpha, float beta)
{
	if (ci_use_avx2()) {
		ci_vhardsigmoid_avx2(x, y, n, alpha, beta);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		float v = alpha * x[i] + beta;
		v = v < 0.0f ? 0.0f : v;
		y[i] = v > 1.0f ? 1.0f : v;
	}
}

void
ci_vhardswish(const float *x, float *y, size_t n)
{
	if (ci_use_avx2()) {
		ci_vhardswish_avx2(x, y, n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		float v = x[i] * (1.0f / 6.0f) + 0.5f;
		v = v < 0.0f ? 0.0f : v;
		y[i] = x[i] * (v > 1.0f ? 1.0f : v);
	}
}

void
ci_softmax_row(const float *x, float *y, size_t n, float scale)
{
	float mx = -INFINITY, sum = 0.0f, inv;

	if (ci_use_avx2()) {
		ci_softmax_row_avx2(x, y, n, scale);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		float v = x[i] * scale;
		mx = v > mx ? v : mx;
	}
	for (size_t i = 0; i < n; i++) {
		float v = ci_expf(x[i] * scale - mx);
		y[i] = v;
		sum += v;
	}
	inv = 1.0f / sum;
	for (size_t i = 0; i < n; i++)
		y[i] *= inv;
}

void
ci_layernorm_row(const float *x, float *y, size_t n, const float *w, const float *b,
    float eps, float *mean, float *inv)
{
	double s = 0, v = 0;
	float m, iv;

	if (ci_use_avx2()) {
		ci_layernorm_row_avx2(x, y, n, w, b, eps, mean, inv);
		return;
	}
	for (size_t i = 0; i < n; i++)
		s += x[i];
	m = (float)(s / (double)n);
	for (size_t i = 0; i < n; i++)
		v += (double)(x[i] - m) * (x[i] - m);
	iv = (float)(1.0 / sqrt(v / (double)n + eps));
	for (size_t i = 0; i < n; i++)
		y[i] = (x[i] - m) * iv * w[i] + (b ? b[i] : 0.0f);
	*mean = m;
	*inv = iv;
}
