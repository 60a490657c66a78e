/*
 * Vector math, AVX2+FMA versions (built with -mavx2 -mfma; see vmath.h and
 * vmath.c, whose scalar functions are the same algorithm). Tails shorter
 * than a vector go through an 8-float buffer, so every element sees the
 * same arithmetic.
 */
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "runtime/vmath.h"

static inline __m256
exp8(__m256 x)
{
	const __m256 c1 = _mm256_set1_ps(0.693359375f), c2 = _mm256_set1_ps(-2.12194440e-4f);
	__m256 n, r, p, r2;
	__m256i ni, n1, n2;

	/* min/max return the second operand when either is NaN: NaN stays */
	x = _mm256_min_ps(_mm256_set1_ps(88.8f), _mm256_max_ps(_mm256_set1_ps(-104.0f), x));
	n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
	    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
	r = _mm256_fnmadd_ps(n, c1, x);
	r = _mm256_fnmadd_ps(n, c2, r);
	p = _mm256_set1_ps(1.9875691500e-4f);
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
	r2 = _mm256_mul_ps(r, r);
	p = _mm256_add_ps(_mm256_fmadd_ps(p, r2, r), _mm256_set1_ps(1.0f));
	ni = _mm256_cvtps_epi32(n);
	/* n / 2 rounded toward zero, as in C */
	n1 = _mm256_srai_epi32(_mm256_add_epi32(ni, _mm256_srli_epi32(ni, 31)), 1);
	n2 = _mm256_sub_epi32(ni, n1);
	n1 = _mm256_slli_epi32(_mm256_add_epi32(n1, _mm256_set1_epi32(127)), 23);
	n2 = _mm256_slli_epi32(_mm256_add_epi32(n2, _mm256_set1_epi32(127)), 23);
	p = _mm256_mul_ps(p, _mm256_castsi256_ps(n1));
	return _mm256_mul_ps(p, _mm256_castsi256_ps(n2));
}

static inline __m256
erf_small8(__m256 x)
{
	__m256 z = _mm256_mul_ps(x, x), p;

	p = _mm256_set1_ps(7.898097828729078e-05f);
	p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-0.0008024320704862475f));
	p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(0.005190049763768911f));
	p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-0.026854805648326874f));
	p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(0.11283612251281738f));
	p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-0.3761262893676758f));
	p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(1.128379225730896f));
	return _mm256_mul_ps(x, p);
}

static inline __m256
erf8(__m256 x)
{
	const __m256 sign = _mm256_set1_ps(-0.0f);
	__m256 a = _mm256_andnot_ps(sign, x), t, q, big, small;
	__m256 le = _mm256_cmp_ps(a, _mm256_set1_ps(1.0f), _CMP_LE_OQ);
	int mask = _mm256_movemask_ps(le);

	/* whole vectors on one side of the split skip the other side's work
	 * (the lanes compute the same either way) */
	if (mask == 0xff)
		return erf_small8(x);
	t = _mm256_sub_ps(_mm256_min_ps(_mm256_set1_ps(3.92f), a), _mm256_set1_ps(2.46f));
	q = _mm256_set1_ps(-5.307072115101619e-08f);
	q = _mm256_fmadd_ps(q, t, _mm256_set1_ps(1.6449569102405803e-06f));
	q = _mm256_fmadd_ps(q, t, _mm256_set1_ps(-1.3553511053032707e-05f));
	q = _mm256_fmadd_ps(q, t, _mm256_set1_ps(8.107207395369187e-05f));
	q = _mm256_fmadd_ps(q, t, _mm256_set1_ps(-0.0004396395233925432f));
	q = _mm256_fmadd_ps(q, t, _mm256_set1_ps(0.0022512227296829224f));
	q = _mm256_fmadd_ps(q, t, _mm256_set1_ps(-0.011211467906832695f));
	q = _mm256_fmadd_ps(q, t, _mm256_set1_ps(-0.9425696134567261f));
	q = _mm256_fmadd_ps(q, t, _mm256_set1_ps(-5.277222156524658f));
	q = _mm256_fmadd_ps(q, t, _mm256_set1_ps(-7.594217777252197f));
	big = _mm256_sub_ps(_mm256_set1_ps(1.0f), exp8(q));
	big = _mm256_or_ps(big, _mm256_and_ps(sign, x));
	if (mask == 0)
		return big;
	small = erf_small8(x);
	/* NaN compares false: takes big, which is NaN too (min keeps it) */
	return _mm256_blendv_ps(big, small, le);
}

static inline __m256
tanh8(__m256 x)
{
	const __m256 sign = _mm256_set1_ps(-0.0f);
	__m256 a = _mm256_andnot_ps(sign, x), z, p, small, big, e;

	z = _mm256_mul_ps(x, x);
	p = _mm256_set1_ps(-5.70498872745e-3f);
	p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(2.06390887954e-2f));
	p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-5.37397155531e-2f));
	p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(1.33314422036e-1f));
	p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-3.33332819422e-1f));
	small = _mm256_fmadd_ps(_mm256_mul_ps(p, z), x, x);
	e = exp8(_mm256_mul_ps(_mm256_set1_ps(2.0f), _mm256_min_ps(_mm256_set1_ps(9.1f), a)));
	big = _mm256_sub_ps(_mm256_set1_ps(1.0f),
	    _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, _mm256_set1_ps(1.0f))));
	big = _mm256_or_ps(big, _mm256_and_ps(sign, x));
	return _mm256_blendv_ps(big, small, _mm256_cmp_ps(a, _mm256_set1_ps(0.625f), _CMP_LT_OQ));
}

static inline __m256
sigmoid8(__m256 x)
{
	/* as ci_sigmoidf: e^-|x| never overflows; e s is the value for x < 0 */
	__m256 e = exp8(_mm256_or_ps(x, _mm256_set1_ps(-0.0f)));
	__m256 s = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_add_ps(_mm256_set1_ps(1.0f), e));

	return _mm256_blendv_ps(s, _mm256_mul_ps(e, s), x);
}

static inline __m256
gelu8(__m256 x)
{
	__m256 h = _mm256_mul_ps(_mm256_set1_ps(0.5f), x);
	__m256 f = erf8(_mm256_mul_ps(x, _mm256_set1_ps(0.70710678118654752f)));

	return _mm256_mul_ps(h, _mm256_add_ps(_mm256_set1_ps(1.0f), f));
}

#define VLOOP8(name, f8) \
void \
name(const float *x, float *y, size_t n) \
{ \
	size_t i = 0; \
	for (; i + 8 <= n; i += 8) \
		_mm256_storeu_ps(y + i, f8(_mm256_loadu_ps(x + i))); \
	if (i < n) { \
		float buf[8] = { 0 }; \
		memcpy(buf, x + i, (n - i) * sizeof(float)); \
		_mm256_storeu_ps(buf, f8(_mm256_loadu_ps(buf))); \
		memcpy(y + i, buf, (n - i) * sizeof(float)); \
	} \
}
VLOOP8(ci_vexp_avx2, exp8)
VLOOP8(ci_verf_avx2, erf8)
VLOOP8(ci_vtanh_avx2, tanh8)
VLOOP8(ci_vsigmoid_avx2, sigmoid8)
VLOOP8(ci_vgelu_avx2, gelu8)

/* clamps with the constant first: min/max return v when it is NaN */
void
ci_vhardsigmoid_avx2(const float *x, float *y, size_t n, float alpha, float beta)
{
	const __m256 a = _mm256_set1_ps(alpha), b = _mm256_set1_ps(beta);
	const __m256 z = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		__m256 v = _mm256_fmadd_ps(a, _mm256_loadu_ps(x + i), b);
		_mm256_storeu_ps(y + i, _mm256_min_ps(one, _mm256_max_ps(z, v)));
	}
	for (; i < n; i++) {
		float v = alpha * x[i] + beta;
		v = v < 0.0f ? 0.0f : v;
		y[i] = v > 1.0f ? 1.0f : v;
	}
}

void
ci_vhardswish_avx2(const float *x, float *y, size_t n)
{
	const __m256 a = _mm256_set1_ps(1.0f / 6.0f), b = _mm256_set1_ps(0.5f);
	const __m256 z = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		__m256 xv = _mm256_loadu_ps(x + i);
		__m256 v = _mm256_fmadd_ps(a, xv, b);
		_mm256_storeu_ps(y + i, _mm256_mul_ps(xv, _mm256_min_ps(one, _mm256_max_ps(z, v))));
	}
	for (; i < n; i++) {
		float v = x[i] * (1.0f / 6.0f) + 0.5f;
		v = v < 0.0f ? 0.0f : v;
		y[i] = x[i] * (v > 1.0f ? 1.0f : v);
	}
}

/* y[i] = a[i*sa] op b[i*sb], op 0..3 = + - * / (strides 0 or 1, not both 0) */
#define BIN8(OPV, OPS) \
	if (sa && sb) { \
		for (; i + 8 <= n; i += 8) \
			_mm256_storeu_ps(y + i, OPV(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i))); \
		for (; i < n; i++) y[i] = a[i] OPS b[i]; \
	} else if (sa) { \
		__m256 bv = _mm256_set1_ps(b[0]); \
		for (; i + 8 <= n; i += 8) \
			_mm256_storeu_ps(y + i, OPV(_mm256_loadu_ps(a + i), bv)); \
		for (; i < n; i++) y[i] = a[i] OPS b[0]; \
	} else { \
		__m256 av = _mm256_set1_ps(a[0]); \
		for (; i + 8 <= n; i += 8) \
			_mm256_storeu_ps(y + i, OPV(av, _mm256_loadu_ps(b + i))); \
		for (; i < n; i++) y[i] = a[0] OPS b[i]; \
	}

void
ci_vbinary_avx2(int op, const float *a, int sa, const float *b, int sb, float *y, size_t n)
{
	size_t i = 0;

	switch (op) {
	case 0: BIN8(_mm256_add_ps, +) break;
	case 1: BIN8(_mm256_sub_ps, -) break;
	case 2: BIN8(_mm256_mul_ps, *) break;
	default: BIN8(_mm256_div_ps, /) break;
	}
}

static inline float
hmax8(__m256 v)
{
	__m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));

	m = _mm_max_ps(m, _mm_movehl_ps(m, m));
	m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
	return _mm_cvtss_f32(m);
}

static inline float
hsum8(__m256 v)
{
	__m128 m = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));

	m = _mm_add_ps(m, _mm_movehl_ps(m, m));
	m = _mm_add_ss(m, _mm_shuffle_ps(m, m, 1));
	return _mm_cvtss_f32(m);
}

/* lanes [0, r) set, for r in [0, 8] */
static inline __m256i
tail_mask(size_t r)
{
	static const int32_t m[16] = { -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0 };

	return _mm256_loadu_si256((const __m256i *)(m + 8 - r));
}

void
ci_softmax_row_avx2(const float *x, float *y, size_t n, float scale)
{
	const __m256 sc = _mm256_set1_ps(scale), ninf = _mm256_set1_ps(-INFINITY);
	__m256 mx = ninf, sum = _mm256_setzero_ps(), m8, inv;
	size_t i = 0, r = n % 8, nv = n - r;
	__m256i tm = tail_mask(r);

	for (i = 0; i < nv; i += 8)
		mx = _mm256_max_ps(mx, _mm256_mul_ps(_mm256_loadu_ps(x + i), sc));
	if (r) {
		__m256 v = _mm256_mul_ps(_mm256_maskload_ps(x + nv, tm), sc);
		mx = _mm256_max_ps(mx, _mm256_blendv_ps(ninf, v, _mm256_castsi256_ps(tm)));
	}
	m8 = _mm256_set1_ps(hmax8(mx));
	for (i = 0; i < nv; i += 8) {
		__m256 v = exp8(_mm256_fmsub_ps(_mm256_loadu_ps(x + i), sc, m8));
		_mm256_storeu_ps(y + i, v);
		sum = _mm256_add_ps(sum, v);
	}
	if (r) {
		__m256 v = exp8(_mm256_fmsub_ps(_mm256_maskload_ps(x + nv, tm), sc, m8));
		v = _mm256_and_ps(v, _mm256_castsi256_ps(tm));
		_mm256_maskstore_ps(y + nv, tm, v);
		sum = _mm256_add_ps(sum, v);
	}
	inv = _mm256_set1_ps(1.0f / hsum8(sum));
	for (i = 0; i < nv; i += 8)
		_mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(y + i), inv));
	if (r)
		_mm256_maskstore_ps(y + nv, tm,
		    _mm256_mul_ps(_mm256_maskload_ps(y + nv, tm), inv));
}

void
ci_layernorm_row_avx2(const float *x, float *y, size_t n, const float *w, const float *b,
    float eps, float *mean, float *inv)
{
	size_t r = n % 8, nv = n - r, i;
	__m256i tm = tail_mask(r);
	__m256 s0 = _mm256_setzero_ps(), s1 = s0, m8, iv8;
	float m, iv;

	for (i = 0; i + 16 <= nv; i += 16) {
		s0 = _mm256_add_ps(s0, _mm256_loadu_ps(x + i));
		s1 = _mm256_add_ps(s1, _mm256_loadu_ps(x + i + 8));
	}
	for (; i < nv; i += 8)
		s0 = _mm256_add_ps(s0, _mm256_loadu_ps(x + i));
	if (r)
		s1 = _mm256_add_ps(s1, _mm256_maskload_ps(x + nv, tm));
	m = hsum8(_mm256_add_ps(s0, s1)) / (float)n;
	m8 = _mm256_set1_ps(m);
	s0 = s1 = _mm256_setzero_ps();
	for (i = 0; i + 16 <= nv; i += 16) {
		__m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(x + i), m8);
		__m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 8), m8);
		s0 = _mm256_fmadd_ps(d0, d0, s0);
		s1 = _mm256_fmadd_ps(d1, d1, s1);
	}
	for (; i < nv; i += 8) {
		__m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(x + i), m8);
		s0 = _mm256_fmadd_ps(d0, d0, s0);
	}
	if (r) {
		__m256 d = _mm256_sub_ps(_mm256_maskload_ps(x + nv, tm), m8);
		d = _mm256_and_ps(d, _mm256_castsi256_ps(tm));
		s1 = _mm256_fmadd_ps(d, d, s1);
	}
	iv = 1.0f / sqrtf(hsum8(_mm256_add_ps(s0, s1)) / (float)n + eps);
	iv8 = _mm256_set1_ps(iv);
	for (i = 0; i < nv; i += 8) {
		__m256 d = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), m8), iv8);
		__m256 bb = b ? _mm256_loadu_ps(b + i) : _mm256_setzero_ps();
		_mm256_storeu_ps(y + i, _mm256_fmadd_ps(d, _mm256_loadu_ps(w + i), bb));
	}
	for (i = nv; i < n; i++)
		y[i] = (x[i] - m) * iv * w[i] + (b ? b[i] : 0.0f);
	*mean = m;
	*inv = iv;
}
