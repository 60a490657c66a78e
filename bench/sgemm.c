/*
 * Benchmark: GFLOP/s of the runtime's SGEMM (ci_sgemm, single thread)
 * against this machine's FP32 FMA peak, measured here with an FMA
 * throughput loop (AVX-512 if the CPU has it, else AVX2+FMA, else scalar),
 * and against the nominal ~210 GFLOP/s per core of issue 9's machine.
 *
 *   bench_sgemm [SECONDS_PER_SHAPE] [portable] [edges]
 *
 * "portable" forces the plain C fallback (the speed before the packed
 * AVX2 kernel, and what CPUs without AVX2+FMA get); "edges" runs only the
 * shapes with edge tiles (M % 6 or N % 16 not 0: ResNet-18's conv GEMMs
 * with packed weights as A, "conv" rows, where "packed" is packed A).
 *
 * Shapes: square 256..2048 and the MiniLM-L6 encoder's (seq 128, hidden
 * 384, FFN 1536) as M x N x K: C[M,N] = A[M,K] B[K,N], row major, no
 * transposes (the MatMul layout); then rows marked "tB" with B transposed
 * (Gemm's transB=1 and the attention scores Q K^T), and batch-1 rows (M = 1,
 * the MLP's first layer). Each shape runs for about the given
 * seconds (default 0.5, at least 2 runs after one warm-up) and reports
 * GFLOP/s of the median and of the best run, and the best run against the
 * peak (both best-case figures, as the machine may be shared); 2 * M * N *
 * K flops per run.
 *
 * Two more columns per shape: "packed" is ci_sgemm_ex with B packed
 * beforehand (ci_sgemm_pack, as MatMul/Gemm weights are at load), 1
 * thread; "2 thr" is the same on a pool of 2 threads (ci_sgemm_ex_pool,
 * what cinfer_model_set_threads(m, 2) gives), with its speedup over packed.
 */
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/parallel.h"
#include "runtime/rt.h"
#include "runtime/sgemm.h"

#define NOMINAL_PEAK 210.0	/* GFLOP/s per core, issue 9 (Zen 5, AVX-512) */
#define FMA_ITERS 10000000L

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * 12 independent accumulators in named registers (an array would live in
 * memory at -O2) cover FMA latency x ports on current cores.
 */
#define FMA12(fma, m, c) do { \
	a0 = fma(a0, m, c); a1 = fma(a1, m, c); a2 = fma(a2, m, c); \
	a3 = fma(a3, m, c); a4 = fma(a4, m, c); a5 = fma(a5, m, c); \
	a6 = fma(a6, m, c); a7 = fma(a7, m, c); a8 = fma(a8, m, c); \
	a9 = fma(a9, m, c); a10 = fma(a10, m, c); a11 = fma(a11, m, c); \
} while (0)

__attribute__((target("avx512f"))) static float
fma_loop_512(long n)
{
	__m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
	__m512 a0 = _mm512_set1_ps(0), a1 = _mm512_set1_ps(1), a2 = _mm512_set1_ps(2);
	__m512 a3 = _mm512_set1_ps(3), a4 = _mm512_set1_ps(4), a5 = _mm512_set1_ps(5);
	__m512 a6 = _mm512_set1_ps(6), a7 = _mm512_set1_ps(7), a8 = _mm512_set1_ps(8);
	__m512 a9 = _mm512_set1_ps(9), a10 = _mm512_set1_ps(10), a11 = _mm512_set1_ps(11);
	float r[16], s = 0;

	for (long it = 0; it < n; it++)
		FMA12(_mm512_fmadd_ps, m, c);
	a0 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
	    _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
	a0 = _mm512_add_ps(a0, _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)));
	_mm512_storeu_ps(r, a0);
	for (int i = 0; i < 16; i++)
		s += r[i];
	return s;
}

__attribute__((target("avx2,fma"))) static float
fma_loop_256(long n)
{
	__m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
	__m256 a0 = _mm256_set1_ps(0), a1 = _mm256_set1_ps(1), a2 = _mm256_set1_ps(2);
	__m256 a3 = _mm256_set1_ps(3), a4 = _mm256_set1_ps(4), a5 = _mm256_set1_ps(5);
	__m256 a6 = _mm256_set1_ps(6), a7 = _mm256_set1_ps(7), a8 = _mm256_set1_ps(8);
	__m256 a9 = _mm256_set1_ps(9), a10 = _mm256_set1_ps(10), a11 = _mm256_set1_ps(11);
	float r[8], s = 0;

	for (long it = 0; it < n; it++)
		FMA12(_mm256_fmadd_ps, m, c);
	a0 = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
	    _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
	a0 = _mm256_add_ps(a0, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
	_mm256_storeu_ps(r, a0);
	for (int i = 0; i < 8; i++)
		s += r[i];
	return s;
}

static float
fma_loop_scalar(long n)
{
	float a[12], s = 0;

	for (int i = 0; i < 12; i++)
		a[i] = (float)i;
	for (long it = 0; it < n; it++)
		for (int i = 0; i < 12; i++)
			a[i] = a[i] * 0.999999f + 1e-7f;
	for (int i = 0; i < 12; i++)
		s += a[i];
	return s;
}

/* Best of 10 (the machine may be shared): GFLOP/s of one core's FMA units; *isa names the path. */
static double
fma_peak(const char **isa)
{
	int width;
	double best = 0;
	volatile float sink = 0;

	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f")) {
		*isa = "AVX-512";
		width = 16;
	} else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
		*isa = "AVX2+FMA";
		width = 8;
	} else {
		*isa = "scalar";
		width = 1;
	}
	for (int rep = 0; rep < 10; rep++) {
		long n = width == 1 ? FMA_ITERS / 4 : FMA_ITERS;
		double t = now_s();
		sink += width == 16 ? fma_loop_512(n) : width == 8 ? fma_loop_256(n) :
		    fma_loop_scalar(n);
		t = now_s() - t;
		double g = 2.0 * width * 12.0 * (double)n / t / 1e9;
		best = g > best ? g : best;
	}
	(void)sink;
	return best;
}

static float *
rnd(size_t n, uint32_t *s)
{
	float *p = malloc(n * sizeof(float));

	if (!p) {
		fprintf(stderr, "sgemm: out of memory\n");
		exit(1);
	}
	for (size_t i = 0; i < n; i++) {
		*s = *s * 1664525u + 1013904223u;
		p[i] = (float)(*s >> 8) / 8388608.0f - 1.0f;
	}
	return p;
}

static struct ci_pool *pool2;

/*
 * One call: mode 0 ci_sgemm, 1 ci_sgemm_ex with packed B, 2 the same on
 * pool2; "conv" shapes (conv_a set) pass pb as a packed A instead (the conv
 * layout: weights M x K packed, im2col columns K x N plain).
 */
static int conv_a;

static void
call(int mode, int tb, size_t m, size_t n, size_t k, const float *a, const float *b,
    size_t ldb, const struct ci_sgemm_packed *pb, float *c)
{
	if (mode == 0)
		ci_sgemm(0, tb, m, n, k, 1.0f, a, k, b, ldb, 0.0f, c, n);
	else if (conv_a)
		ci_sgemm_ex_pool(mode == 2 ? pool2 : NULL, 0, tb, m, n, k, 1.0f, NULL, k, pb, b,
		    ldb, NULL, 0.0f, c, n, NULL);
	else
		ci_sgemm_ex_pool(mode == 2 ? pool2 : NULL, 0, tb, m, n, k, 1.0f, a, k, NULL, NULL,
		    ldb, pb, 0.0f, c, n, NULL);
}

/* Median and best ms over about secs of runs. */
static void
time_mode(int mode, int tb, size_t m, size_t n, size_t k, const float *a, const float *b,
    size_t ldb, const struct ci_sgemm_packed *pb, float *c, double secs, double *med,
    double *best, int *nruns)
{
	static double ms[1000];
	double t0;
	int runs = 0;

	call(mode, tb, m, n, k, a, b, ldb, pb, c);	/* warm-up */
	t0 = now_s();
	while (runs < 1000 && (runs < 2 || now_s() - t0 < secs)) {
		double t = now_s();
		call(mode, tb, m, n, k, a, b, ldb, pb, c);
		ms[runs++] = (now_s() - t) * 1e3;
	}
	qsort(ms, (size_t)runs, sizeof(ms[0]), cmp_double);
	*med = runs % 2 ? ms[runs / 2] : (ms[runs / 2 - 1] + ms[runs / 2]) / 2;
	*best = ms[0];
	*nruns = runs;
}

static void
run_shape_t(const char *label, int tb, size_t m, size_t n, size_t k, double secs, double peak)
{
	uint32_t seed = 7;
	float *a = rnd(m * k, &seed), *b = rnd(k * n, &seed), *c = rnd(m * n, &seed);
	size_t ldb = tb ? k : n;
	struct ci_sgemm_packed *pb = conv_a ? ci_sgemm_pack(CI_SGEMM_A, 0, m, k, a, k) :
	    ci_sgemm_pack(CI_SGEMM_B, tb, tb ? n : k, tb ? k : n, b, ldb);
	double flop = 2.0 * (double)m * (double)n * (double)k;
	double med, best, pmed, pbest, tmed, tbest;
	int runs, pruns, truns;

	if (pb == NULL) {
		fprintf(stderr, "sgemm: out of memory\n");
		exit(1);
	}
	time_mode(0, tb, m, n, k, a, b, ldb, pb, c, secs, &med, &best, &runs);
	time_mode(1, tb, m, n, k, a, b, ldb, pb, c, secs, &pmed, &pbest, &pruns);
	if (pool2)
		time_mode(2, tb, m, n, k, a, b, ldb, pb, c, secs, &tmed, &tbest, &truns);
	else
		tmed = tbest = pbest;
	printf("| %-22s | %5zu | %5zu | %5zu | %9.3f | %7.1f | %7.1f | %5.1f%% | %5.1f%% | %4d "
	    "| %7.1f | %5.1f%% | %7.1f | %4.2fx |\n", label, m, n, k, med, flop / (med / 1e3) / 1e9,
	    flop / (best / 1e3) / 1e9, 100.0 * flop / (best / 1e3) / 1e9 / peak,
	    100.0 * flop / (best / 1e3) / 1e9 / NOMINAL_PEAK, runs, flop / (pbest / 1e3) / 1e9,
	    100.0 * flop / (pbest / 1e3) / 1e9 / peak, flop / (tbest / 1e3) / 1e9, pbest / tbest);
	fflush(stdout);
	ci_sgemm_packed_free(pb);
	free(a);
	free(b);
	free(c);
}

static void
run_shape(const char *label, size_t m, size_t n, size_t k, double secs, double peak)
{
	run_shape_t(label, 0, m, n, k, secs, peak);
}

/* A conv's GEMM: weights (M x K) packed as A, "packed" columns are packed A. */
static void
run_conv(const char *label, size_t m, size_t n, size_t k, double secs, double peak)
{
	conv_a = 1;
	run_shape_t(label, 0, m, n, k, secs, peak);
	conv_a = 0;
}

static void
run_squares(double secs, double peak)
{
	for (size_t s = 256; s <= 2048; s *= 2) {
		char label[32];
		snprintf(label, sizeof(label), "square %zu", s);
		run_shape(label, s, s, s, secs, peak);
	}
}

int
main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 0.5;
	const char *isa = "?";
	double peak = fma_peak(&isa);
	int edges_only = argc > 2 && strcmp(argv[argc - 1], "edges") == 0;

	if (argc > 2 && strcmp(argv[2], "portable") == 0 &&
	    ci_sgemm_path_set(CI_SGEMM_PORTABLE) != 0) {
		fprintf(stderr, "sgemm: cannot force the portable path\n");
		return 1;
	}

	pool2 = ci_pool_new(2);
	printf("FMA peak (1 core, %s, measured): %.1f GFLOP/s; nominal (issue 9): %.0f GFLOP/s\n",
	    isa, peak, NOMINAL_PEAK);
	printf("ci_sgemm path: %s\n", ci_sgemm_path_get() == CI_SGEMM_AVX2 ? "AVX2+FMA packed" :
	    "portable C");
	printf("ci_sgemm, 1 thread, row major, no transposes unless tB; GFLOP/s of the median and of the "
	    "best run; %% of peak from the best run (peak is a best-case figure too); packed: B "
	    "packed beforehand, best run; 2 thr: packed on 2 threads, best run, speedup\n\n");
	printf("| %-22s | %5s | %5s | %5s | %9s | %7s | %7s | %6s | %6s | %4s | %7s | %6s | %7s | "
	    "%5s |\n", "shape", "M", "N", "K", "median ms", "GFLOP/s", "best", "% peak", "% 210",
	    "runs", "packed", "% peak", "2 thr", "x");
	printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	if (!edges_only)
		run_squares(secs, peak);
	/* edge tiles: M % 6 != 0 and / or N % 16 != 0 */
	run_conv("conv R18 l1 64x3136", 64, 3136, 576, secs, peak);
	run_conv("conv R18 l2 128x784", 128, 784, 1152, secs, peak);
	run_conv("conv R18 l3 256x196", 256, 196, 2304, secs, peak);
	run_conv("conv 64x196x576", 64, 196, 576, secs, peak);
	run_conv("conv R18 l4 512x49", 512, 49, 4608, secs, peak);
	run_shape("edge 100^3", 100, 100, 100, secs, peak);
	run_shape("edge 128x196x576", 128, 196, 576, secs, peak);
	run_shape("edge 61x49x333", 61, 49, 333, secs, peak);
	if (edges_only) {
		run_shape_t("MiniLM attn QK^T tB", 1, 128, 128, 32, secs, peak);
		ci_pool_free(pool2);
		return 0;
	}
	run_shape("MiniLM QKV/out proj", 128, 384, 384, secs, peak);
	run_shape("MiniLM FFN up", 128, 1536, 384, secs, peak);
	run_shape("MiniLM FFN down", 128, 384, 1536, secs, peak);
	run_shape("MiniLM b8 FFN up", 1024, 1536, 384, secs, peak);
	run_shape_t("square 1024 tB", 1, 1024, 1024, 1024, secs, peak);
	run_shape_t("MiniLM attn QK^T tB", 1, 128, 128, 32, secs, peak);
	run_shape("MiniLM attn PV", 128, 32, 128, secs, peak);
	run_shape("MLP b1 784->512", 1, 512, 784, secs, peak);
	run_shape_t("MLP b1 784->512 tB", 1, 1, 512, 784, secs, peak);
	ci_pool_free(pool2);
	return 0;
}
