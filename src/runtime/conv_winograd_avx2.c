/* The Winograd row kernels (conv_winograd.h) built with -mavx2 -mfma; the
 * input transform's stride-2 part with explicit deinterleaving. */
#include <immintrin.h>

#include "runtime/conv_winograd.h"

/* Even and odd elements of the 16 floats a, b (in order). */
static inline __m256
even8(__m256 a, __m256 b)
{
	return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(
	    _mm256_shuffle_ps(a, b, 0x88)), 0xD8));
}

static inline __m256
odd8(__m256 a, __m256 b)
{
	return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(
	    _mm256_shuffle_ps(a, b, 0xDD)), 0xD8));
}

void
ci_wino_in_h_avx2(const struct ci_wino_row *g, const float *const r[4], float *pad,
    float *h, size_t hs)
{
	size_t tw = g->tw, pw = 2 * tw + 2;

	for (int i = 0; i < 4; i++) {
		float *restrict hi = h + (size_t)i * 4 * hs;
		size_t n, t = 0;
		if (r[i] == NULL) {
			for (size_t b = 0; b < 4; b++)
				memset(hi + b * hs, 0, tw * sizeof(float));
			continue;
		}
		/* pad[c] = input column c - pl, zero outside */
		n = g->iw < pw - g->pl ? g->iw : pw - g->pl;
		memset(pad, 0, g->pl * sizeof(float));
		memcpy(pad + g->pl, r[i], n * sizeof(float));
		memset(pad + g->pl + n, 0, (pw - g->pl - n) * sizeof(float));
		for (; t + 8 <= tw; t += 8) {
			const float *p = pad + 2 * t;
			__m256 a = _mm256_loadu_ps(p), b = _mm256_loadu_ps(p + 8);
			__m256 c = _mm256_loadu_ps(p + 2), d = _mm256_loadu_ps(p + 10);
			__m256 d0 = even8(a, b), d1 = odd8(a, b), d2 = even8(c, d), d3 = odd8(c, d);
			_mm256_storeu_ps(hi + t, _mm256_sub_ps(d0, d2));
			_mm256_storeu_ps(hi + hs + t, _mm256_add_ps(d1, d2));
			_mm256_storeu_ps(hi + 2 * hs + t, _mm256_sub_ps(d2, d1));
			_mm256_storeu_ps(hi + 3 * hs + t, _mm256_sub_ps(d1, d3));
		}
		for (; t < tw; t++) {
			float d0 = pad[2 * t], d1 = pad[2 * t + 1], d2 = pad[2 * t + 2];
			float d3 = pad[2 * t + 3];
			hi[t] = d0 - d2;
			hi[hs + t] = d1 + d2;
			hi[2 * hs + t] = d2 - d1;
			hi[3 * hs + t] = d1 - d3;
		}
	}
}

void
ci_wino_in_v_avx2(size_t n, const float *h, size_t hs, float *v, size_t vs)
{
	ci_wino_in_v(n, h, hs, v, vs);
}

void
ci_wino_out_row_avx2(size_t tw, const float *m, size_t ms, float *y0, float *y1, size_t ow,
    float bias, int acc, const struct ci_gemm_epi *ep, float *s)
{
	ci_wino_out_row(tw, m, ms, y0, y1, ow, bias, acc, ep, s);
}
