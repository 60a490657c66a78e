/*
 * Benchmark: one ONNX model run with cinfer's runtime, for the side-by-side
 * comparison with ONNX Runtime (bench/runtime.sh, bench/runtime/harness.py).
 *
 *   bench_runtime_bench MODEL [--threads N] [--shape D,D,...]... [--iters N]
 *       [--budget SECONDS] [--seed S] [--dump OUT.bin]
 *
 * Inputs are float32, filled from the harness's shared pseudo-random stream
 * (LCG, seed S, values (s >> 8) / 2^23 - 1 in [-1, 1), one stream across the
 * inputs in order), so bench/runtime/ort_bench.cjs feeds the very same
 * values. --shape gives input i's shape (in order); without it the declared
 * shape is used with symbolic dimensions set to 1. One untimed warm-up run
 * (whose outputs --dump writes: per output u32 name length, name, u32 rank,
 * i64 dims, float32 data), then timed runs until --iters runs or --budget
 * seconds have passed (at least --min-runs runs, default 3). Prints one JSON line: median, min,
 * p90 in ms, run count, load time and peak RSS (VmHWM, KiB). On failure
 * the line has "error" and "unsupported" (true when the runtime refused
 * an operator or type) and the exit status is 2.
 * Without arguments it prints how it is driven and exits 0 (bench/run.sh
 * runs every bench_* binary bare).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cinfer/runtime.h"

#define MAX_IN 16
#define MAX_RUNS 100000

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * Peak RSS of this process image: VmHWM. getrusage's ru_maxrss would do,
 * but Linux carries the parent's high-water mark over fork + exec, so a
 * child of a big harness process would report the harness's size.
 */
static long
peak_rss_kib(void)
{
	struct rusage ru;
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (f) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
				break;
		fclose(f);
	}
	if (kib >= 0)
		return kib;
	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return -1;
	return ru.ru_maxrss;
}

static void
json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static int
fail(const char *model, const char *what, const struct cinfer_err *e)
{
	int unsup = e && e->code == CINFER_E_UNSUPPORTED;

	printf("{\"engine\":\"cinfer\",\"model\":");
	json_str(model);
	printf(",\"unsupported\":%s,\"error\":", unsup ? "true" : "false");
	if (e) {
		char buf[300];
		snprintf(buf, sizeof(buf), "%s: %s: %s: %s", what, cinfer_code_name(e->code),
		    e->stage ? e->stage : "?", e->msg);
		json_str(buf);
	} else {
		json_str(what);
	}
	printf("}\n");
	return 2;
}

static int
parse_shape(const char *s, struct cinfer_tensor *t)
{
	char *end;

	t->ndim = 0;
	if (*s == '\0')
		return 0;	/* scalar */
	for (;;) {
		long long v = strtoll(s, &end, 10);
		if (end == s || v < 0 || t->ndim == CINFER_MAX_DIMS)
			return -1;
		t->dims[t->ndim++] = v;
		if (*end == '\0')
			return 0;
		if (*end != ',')
			return -1;
		s = end + 1;
	}
}

static int
write_outputs(const char *path, const struct cinfer_model *m, const struct cinfer_tensor *out,
    size_t n_out)
{
	FILE *f = fopen(path, "wb");
	int rc = -1;

	if (!f)
		return -1;
	for (size_t i = 0; i < n_out; i++) {
		const char *name = cinfer_model_output_name(m, i);
		uint32_t len = (uint32_t)strlen(name), rank = (uint32_t)out[i].ndim;
		size_t count = 1;

		if (out[i].dtype != CINFER_DT_FLOAT)
			goto out;	/* every benchmark model has float outputs */
		for (int d = 0; d < out[i].ndim; d++)
			count *= (size_t)out[i].dims[d];
		if (fwrite(&len, 4, 1, f) != 1 || fwrite(name, 1, len, f) != len ||
		    fwrite(&rank, 4, 1, f) != 1 ||
		    fwrite(out[i].dims, 8, rank, f) != rank ||
		    fwrite(out[i].data, 4, count, f) != count)
			goto out;
	}
	rc = 0;
out:
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

int
main(int argc, char **argv)
{
	struct cinfer_err e = { 0 };
	struct cinfer_model *m = NULL;
	struct cinfer_tensor in[MAX_IN], *out = NULL;
	const char *model, *dump = NULL;
	int threads = 1, iters = 20, min_runs = 3, n_shape = 0, runs = 0, rc = 2;
	double budget = 2.0, t0, load_ms, *ms = NULL;
	uint32_t seed = 1;
	size_t n_in = 0, n_out = 0;

	if (argc < 2) {
		printf("runtime_bench: driven by bench/runtime.sh (usage: bench_runtime_bench MODEL "
		    "[--threads N] [--shape D,..]... [--iters N] [--budget S] [--min-runs N] [--seed S] "
		    "[--dump FILE])\n");
		return 0;
	}
	memset(in, 0, sizeof(in));
	model = argv[1];
	for (int i = 2; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			return fail(model, "usage: option without value", NULL);
		if (strcmp(argv[i], "--threads") == 0) {
			threads = atoi(v);
		} else if (strcmp(argv[i], "--iters") == 0) {
			iters = atoi(v);
		} else if (strcmp(argv[i], "--min-runs") == 0) {
			min_runs = atoi(v);
		} else if (strcmp(argv[i], "--budget") == 0) {
			budget = atof(v);
		} else if (strcmp(argv[i], "--seed") == 0) {
			seed = (uint32_t)strtoul(v, NULL, 10);
		} else if (strcmp(argv[i], "--dump") == 0) {
			dump = v;
		} else if (strcmp(argv[i], "--shape") == 0) {
			if (n_shape == MAX_IN || parse_shape(v, &in[n_shape]) != 0)
				return fail(model, "usage: bad --shape", NULL);
			n_shape++;
		} else {
			return fail(model, "usage: unknown option", NULL);
		}
		i++;
	}
	if (iters < 1 || iters > MAX_RUNS)
		iters = iters < 1 ? 1 : MAX_RUNS;

	t0 = now_ms();
	if (cinfer_model_load(model, &m, &e) != 0)
		return fail(model, "load", &e);
	load_ms = now_ms() - t0;
	cinfer_model_set_threads(m, threads);
	n_in = cinfer_model_input_count(m);
	n_out = cinfer_model_output_count(m);
	if (n_in > MAX_IN) {
		rc = fail(model, "too many inputs", NULL);
		goto out;
	}
	for (size_t i = 0; i < n_in; i++) {
		int dt, nd;
		int64_t dims[CINFER_MAX_DIMS];
		size_t count = 1;

		if (cinfer_model_input_info(m, i, &dt, &nd, dims) != 0) {
			rc = fail(model, "input info", NULL);
			goto out;
		}
		if (dt != CINFER_DT_FLOAT) {
			rc = fail(model, "input is not float32", NULL);
			goto out;
		}
		if ((int)i >= n_shape) {
			if (nd < 0) {
				rc = fail(model, "input of unknown rank needs --shape", NULL);
				goto out;
			}
			in[i].ndim = nd;
			for (int d = 0; d < nd; d++)
				in[i].dims[d] = dims[d] < 0 ? 1 : dims[d];
		}
		in[i].dtype = CINFER_DT_FLOAT;
		for (int d = 0; d < in[i].ndim; d++)
			count *= (size_t)in[i].dims[d];
		in[i].size = count * sizeof(float);
		in[i].data = malloc(in[i].size ? in[i].size : 1);
		if (!in[i].data) {
			rc = fail(model, "out of memory", NULL);
			goto out;
		}
		for (size_t j = 0; j < count; j++) {
			seed = seed * 1664525u + 1013904223u;
			((float *)in[i].data)[j] = (float)(seed >> 8) / 8388608.0f - 1.0f;
		}
	}
	out = calloc(n_out ? n_out : 1, sizeof(*out));
	ms = calloc((size_t)iters, sizeof(*ms));
	if (!out || !ms) {
		rc = fail(model, "out of memory", NULL);
		goto out;
	}

	/* warm-up, checked by the harness through --dump */
	if (cinfer_model_run(m, in, n_in, out, n_out, &e) != 0) {
		rc = fail(model, "run", &e);
		goto out;
	}
	if (dump && write_outputs(dump, m, out, n_out) != 0) {
		rc = fail(model, "cannot write --dump (non-float output?)", NULL);
		goto out;
	}
	for (size_t i = 0; i < n_out; i++)
		cinfer_tensor_clear(&out[i]);

	t0 = now_ms();
	while (runs < iters && (runs < min_runs || now_ms() - t0 < budget * 1e3)) {
		double s = now_ms();
		if (cinfer_model_run(m, in, n_in, out, n_out, &e) != 0) {
			rc = fail(model, "run", &e);
			goto out;
		}
		ms[runs++] = now_ms() - s;
		for (size_t i = 0; i < n_out; i++)
			cinfer_tensor_clear(&out[i]);
	}
	qsort(ms, (size_t)runs, sizeof(*ms), cmp_double);
	printf("{\"engine\":\"cinfer\",\"model\":");
	json_str(model);
	printf(",\"threads\":%d,\"runs\":%d,\"median_ms\":%.4f,\"min_ms\":%.4f,"
	    "\"p90_ms\":%.4f,\"load_ms\":%.2f,\"rss_kib\":%ld,\"samples_ms\":[",
	    threads, runs, runs % 2 ? ms[runs / 2] : (ms[runs / 2 - 1] + ms[runs / 2]) / 2,
	    ms[0], ms[(runs * 9) / 10 < runs ? (runs * 9) / 10 : runs - 1], load_ms,
	    peak_rss_kib());
	for (int i = 0; i < runs; i++)
		printf("%s%.4f", i ? "," : "", ms[i]);
	printf("]}\n");
	rc = 0;
out:
	if (out)
		for (size_t i = 0; i < n_out; i++)
			cinfer_tensor_clear(&out[i]);
	free(out);
	free(ms);
	for (size_t i = 0; i < n_in; i++)
		free(in[i].data);
	cinfer_model_free(m);
	return rc;
}
