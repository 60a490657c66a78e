/*
 * The integer GEMM (src/runtime/qgemm.h) against a naive reference, bit for
 * bit: every u8/s8 combination of A and B, zero points absent, scalar, per
 * row of A and per column of B (including extreme values), full-range
 * weights (which must take the exact s16 layout) and 7-bit ones (which take
 * the vpmaddubsw layout), both layouts forced where valid, on the AVX2 and
 * the portable kernels, odd shapes that cut the 4 x 16 tiles and the
 * 4-deep packing, int32 and float (scale, bias) outputs. Also the
 * quantization helpers against the scalar definition (ties, saturation,
 * NaN) on both paths.
 */
#include <math.h>

#include "testutil.h"

#include "runtime/qgemm.h"
#include "runtime/sgemm.h"

static uint32_t seed = 7;

static uint32_t
rnd(void)
{
	seed = seed * 1664525u + 1013904223u;
	return seed >> 8;
}

static int
cpu_avx2(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

static int32_t
q8(int dt, const uint8_t *p, size_t i)
{
	return dt == CI_DT_UINT8 ? p[i] : (int8_t)p[i];
}

/* Fills n bytes: full range, or values with |v - center| <= 63. */
static void
fill(uint8_t *p, size_t n, int dt, int full)
{
	for (size_t i = 0; i < n; i++) {
		if (full) {
			p[i] = (uint8_t)rnd();
		} else {
			int v = (int)(rnd() % 127) - 63;
			p[i] = (uint8_t)(dt == CI_DT_UINT8 ? v + 128 : v);
		}
	}
}

/* zp mode: 0 none, 1 scalar, 2 per row/column, 3 scalar at the type's extreme. */
static void
check(size_t m, size_t k, size_t n, int adt, int bdt, int zmode, int full, int layout, int fout)
{
	uint8_t *a = malloc(m * k + 1), *b = malloc(k * n + 1), *az = malloc(m + 1), *bz = malloc(n + 1);
	int32_t *ref = malloc((m * n + 1) * sizeof(int32_t)), *c = malloc((m * n + 1) * sizeof(int32_t));
	float *f = malloc((m * n + 1) * sizeof(float)), *scale = malloc((n + 1) * sizeof(float));
	float *bias = malloc((n + 1) * sizeof(float));
	struct ci_qgemm_b pb;
	struct cinfer_err e = { 0 };
	size_t np8;
	int32_t *zb, *cb, *rowsum, *za;
	void *abuf;
	struct ci_qgemm_args g = { 0 };

	assert_non_null(a);
	assert_non_null(f);
	fill(a, m * k, adt, 1);
	fill(b, k * n, bdt, full);
	fill(az, m, adt, 1);
	fill(bz, n, bdt, 1);
	if (zmode == 3) {
		az[0] = adt == CI_DT_UINT8 ? 255 : 0x80;
		bz[0] = bdt == CI_DT_UINT8 ? 255 : 0x80;
	}
	for (size_t j = 0; j < n; j++) {
		scale[j] = (float)(rnd() % 1000) * 1e-4f;
		bias[j] = (float)(rnd() % 1000) * 1e-2f - 5.0f;
	}
	for (size_t i = 0; i < m; i++)
		for (size_t j = 0; j < n; j++) {
			int64_t s = 0;
			int32_t za0 = zmode == 0 ? 0 : q8(adt, az, zmode == 2 ? i : 0);
			int32_t zb0 = zmode == 0 ? 0 : q8(bdt, bz, zmode == 2 ? j : 0);
			for (size_t p = 0; p < k; p++)
				s += (int64_t)(q8(adt, a, i * k + p) - za0) * (q8(bdt, b, p * n + j) - zb0);
			ref[i * n + j] = (int32_t)s;
		}
	assert_int_equal(ci_qgemm_b_pack(&pb, bdt, k, n, b, n, layout, &e), 0);
	if (layout < 0 && full && k > 1)
		assert_int_not_equal(pb.layout, CI_QGEMM_U8S8);	/* would saturate */
	if (layout < 0 && !full)
		assert_int_not_equal(pb.layout, CI_QGEMM_S16);
	np8 = pb.panels * CI_QGEMM_NR + 1;
	zb = malloc(np8 * sizeof(int32_t));
	cb = malloc(np8 * sizeof(int32_t));
	rowsum = malloc((m + 1) * sizeof(int32_t));
	za = malloc((m + 1) * sizeof(int32_t));
	abuf = malloc(m * pb.kp * 2 + 1);
	ci_qgemm_b_zero(&pb, bdt, zmode ? bz : NULL, zmode == 2 ? n : 1, zb, cb);
	for (size_t i = 0; i < m; i++)
		za[i] = (zmode ? q8(adt, az, zmode == 2 ? i : 0) : 0) + (adt == CI_DT_INT8 ? 128 : 0);
	ci_qgemm_a_from_q8(&pb, adt, a, k, m, abuf, rowsum);
	g.m = m;
	g.a = abuf;
	g.lda = pb.kp;
	g.rowsum = rowsum;
	g.za = za;
	g.za_per_row = zmode == 2;
	g.b = &pb;
	g.zb = zb;
	g.cb = cb;
	g.ldc = n;
	if (fout) {
		g.f = f;
		g.scale = scale;
		g.scale_per_col = fout == 1;
		g.bias = fout == 1 ? bias : NULL;
	} else {
		g.c = c;
	}
	ci_qgemm_run(NULL, &g);
	for (size_t i = 0; i < m; i++)
		for (size_t j = 0; j < n; j++) {
			if (fout) {
				float want = (float)ref[i * n + j] * scale[fout == 1 ? j : 0];
				if (fout == 1)
					want = want + bias[j];
				if (memcmp(&want, &f[i * n + j], sizeof(float)) != 0)
					fail_msg("m%zu k%zu n%zu a%d b%d z%d full%d lay%d: [%zu,%zu] %g != %g",
					    m, k, n, adt, bdt, zmode, full, pb.layout, i, j, f[i * n + j], want);
			} else if (c[i * n + j] != ref[i * n + j]) {
				fail_msg("m%zu k%zu n%zu a%d b%d z%d full%d lay%d: [%zu,%zu] %d != %d", m, k, n,
				    adt, bdt, zmode, full, pb.layout, i, j, c[i * n + j], ref[i * n + j]);
			}
		}
	ci_qgemm_b_clear(&pb);
	free(a);
	free(b);
	free(az);
	free(bz);
	free(ref);
	free(c);
	free(f);
	free(scale);
	free(bias);
	free(zb);
	free(cb);
	free(rowsum);
	free(za);
	free(abuf);
}

static const size_t shapes[][3] = {
	{ 1, 1, 1 }, { 1, 7, 8 }, { 7, 17, 33 }, { 33, 7, 17 }, { 4, 4, 16 }, { 5, 64, 24 },
	{ 70, 130, 9 }, { 3, 2, 40 }, { 65, 33, 31 }, { 2, 0, 5 }, { 9, 383, 17 },
};

static void
all_cases(void)
{
	static const int dts[2] = { CI_DT_UINT8, CI_DT_INT8 };

	for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++)
		for (int ai = 0; ai < 2; ai++)
			for (int bi = 0; bi < 2; bi++)
				for (int z = 0; z < 4; z++) {
					size_t m = shapes[s][0], k = shapes[s][1], n = shapes[s][2];
					check(m, k, n, dts[ai], dts[bi], z, 1, -1, 0);
					check(m, k, n, dts[ai], dts[bi], z, 0, -1, 0);
					check(m, k, n, dts[ai], dts[bi], z, 0, CI_QGEMM_S16, 0);
					check(m, k, n, dts[ai], dts[bi], z, 1, CI_QGEMM_S16, z & 1);
					check(m, k, n, dts[ai], dts[bi], z, 0, -1, 1 + (z & 1));
					check(m, k, n, dts[ai], dts[bi], z, 0, CI_QGEMM_U8S8, 0);
					check(m, k, n, dts[ai], dts[bi], z, 1, CI_QGEMM_U8S8X2, 0);
					check(m, k, n, dts[ai], dts[bi], z, 1, CI_QGEMM_U8S8X2, 1);
				}
}

static void
test_gemm_avx2(void **state)
{
	(void)state;
	if (!cpu_avx2())
		skip();
	assert_int_equal(ci_sgemm_path_set(CI_SGEMM_AVX2), 0);
	all_cases();
	assert_int_equal(ci_sgemm_path_set(CI_SGEMM_AUTO), 0);
}

static void
test_gemm_portable(void **state)
{
	(void)state;
	assert_int_equal(ci_sgemm_path_set(CI_SGEMM_PORTABLE), 0);
	all_cases();
	assert_int_equal(ci_sgemm_path_set(CI_SGEMM_AUTO), 0);
}

/* The saturation bounds: a pair 64 + 64 is exact (255 * 128 <= 32767), a
 * pair 64 + 65 of one sign is not; opposite signs always are. X2 lanes
 * (k = 0, 1, 4, 5 and 2, 3, 6, 7) follow the same bound per sign, and a few
 * weights over it go to the fix list. */
static void
test_layout_choice(void **state)
{
	int8_t b[4] = { 64, 64, -65, 127 };	/* k = 4, n = 1 */
	int8_t big[256 * 8] = { 0 };
	struct ci_qgemm_b pb;
	struct cinfer_err e = { 0 };

	(void)state;
	assert_int_equal(ci_qgemm_b_pack(&pb, CI_DT_INT8, 4, 1, b, 1, -1, &e), 0);
	assert_int_equal(pb.layout, CI_QGEMM_U8S8X2);
	assert_int_equal(pb.n_fix, 0);
	ci_qgemm_b_clear(&pb);
	b[1] = 65;	/* no room for a fix list in 4 weights: pairs checked */
	assert_int_equal(ci_qgemm_b_pack(&pb, CI_DT_INT8, 4, 1, b, 1, -1, &e), 0);
	assert_int_equal(pb.layout, CI_QGEMM_S16);
	ci_qgemm_b_clear(&pb);
	assert_int_equal(ci_qgemm_b_pack(&pb, CI_DT_INT8, 4, 1, b, 1, CI_QGEMM_U8S8X2, &e), 0);
	assert_int_equal(pb.n_fix, 1);
	ci_qgemm_b_clear(&pb);
	b[0] = -64;
	b[1] = -64;
	assert_int_equal(ci_qgemm_b_pack(&pb, CI_DT_INT8, 4, 1, b, 1, -1, &e), 0);
	assert_int_equal(pb.layout, CI_QGEMM_U8S8X2);
	ci_qgemm_b_clear(&pb);
	/* one lane over (40 + 40 + 40 + 10 = 130 in k 8, 9, 12, 13 of column 3) */
	big[8 * 8 + 3] = 40;
	big[9 * 8 + 3] = 40;
	big[12 * 8 + 3] = 40;
	big[13 * 8 + 3] = 10;
	big[2 * 8 + 5] = -100;
	big[3 * 8 + 5] = 100;
	assert_int_equal(ci_qgemm_b_pack(&pb, CI_DT_INT8, 256, 8, big, 8, -1, &e), 0);
	assert_int_equal(pb.layout, CI_QGEMM_U8S8X2);
	assert_int_equal(pb.n_fix, 1);
	assert_int_equal(pb.fix[0].w, 40);
	assert_int_equal(pb.fix[0].j, 3);
	ci_qgemm_b_clear(&pb);
	/* three lanes over: more fixes than 256 * 8 / 1024, pairs are exact */
	for (int c = 0; c < 3; c++) {
		big[16 * 8 + c] = 40;
		big[17 * 8 + c] = 40;
		big[20 * 8 + c] = 40;
		big[21 * 8 + c] = 40;
	}
	assert_int_equal(ci_qgemm_b_pack(&pb, CI_DT_INT8, 256, 8, big, 8, -1, &e), 0);
	assert_int_equal(pb.layout, CI_QGEMM_U8S8);
	ci_qgemm_b_clear(&pb);
}

static void
quant_cases(void)
{
	float x[203];
	uint8_t got[203];
	static const float scales[] = { 0.5f, 0.1f, 3.0f, 1e-20f, 0.0f };

	for (size_t i = 0; i < 203; i++)
		x[i] = ((float)(rnd() % 20001) - 10000.0f) / 100.0f;
	x[3] = 2.5f;	/* ties, with scale 1: round half to even */
	x[4] = -0.5f;
	x[5] = NAN;
	x[6] = INFINITY;
	x[7] = -INFINITY;
	x[8] = 1e30f;
	x[9] = -0.0f;
	for (size_t s = 0; s < sizeof(scales) / sizeof(scales[0]); s++)
		for (int zp = 0; zp < 256; zp += 85) {
			uint32_t sum = ci_q8_quantize_u8(x, 203, scales[s], (float)zp, got), want_sum = 0;
			for (size_t i = 0; i < 203; i++)
				want_sum += got[i];
			assert_int_equal(sum, want_sum);
			for (size_t i = 0; i < 203; i++) {
				float v = scales[s] == 0 ? 0 : nearbyintf(x[i] / scales[s]) + (float)zp;
				uint8_t want = (uint8_t)(!(v > 0) ? 0 : v > 255 ? 255 : v);
				if (got[i] != want)
					fail_msg("x %g scale %g zp %d: %d != %d", x[i], scales[s], zp, got[i], want);
			}
		}
	{
		float mn, mx, sc;
		uint8_t zp;
		ci_q8_minmax(x, 203, &mn, &mx);
		assert_true(mn == -INFINITY && mx == INFINITY);
		ci_q8_minmax(x + 10, 193, &mn, &mx);
		for (size_t i = 10; i < 203; i++)
			assert_true(x[i] >= mn && x[i] <= mx);
		assert_true(mn <= 0 && mx >= 0);
		ci_q8_dyn_params(-1.0f, 3.0f, &sc, &zp);
		assert_true(sc == 4.0f / 255.0f);
		assert_int_equal(zp, 64);
	}
}

static void
test_quantize(void **state)
{
	(void)state;
	assert_int_equal(ci_sgemm_path_set(CI_SGEMM_PORTABLE), 0);
	quant_cases();
	if (cpu_avx2()) {
		assert_int_equal(ci_sgemm_path_set(CI_SGEMM_AVX2), 0);
		quant_cases();
	}
	assert_int_equal(ci_sgemm_path_set(CI_SGEMM_AUTO), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gemm_avx2),
		cmocka_unit_test(test_gemm_portable),
		cmocka_unit_test(test_layout_choice),
		cmocka_unit_test(test_quantize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
