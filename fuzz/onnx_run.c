/*
 * Fuzz target: load a model and run it. Every graph input with a static
 * shape of at most 4096 elements is fed a fixed pattern, so the kernels'
 * own validation (shapes, indices, attributes) faces hostile graphs. The
 * arena is capped at 8 MiB to bound the work per input.
 */
#include <string.h>

#include "cinfer/runtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_IN 16

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cinfer_model *m = NULL;
	struct cinfer_err e = { 0 };
	struct cinfer_tensor in[MAX_IN], out[MAX_IN];
	static uint8_t buf[MAX_IN][4096 * 8];
	size_t nin, nout;

	if (cinfer_model_load_mem(data, size, NULL, &m, &e) != 0)
		return 0;
	nin = cinfer_model_input_count(m);
	nout = cinfer_model_output_count(m);
	if (nin > MAX_IN || nout > MAX_IN)
		goto out;
	cinfer_model_set_memory_limit(m, (size_t)8 << 20);
	memset(in, 0, sizeof(in));
	for (size_t i = 0; i < nin; i++) {
		int dt, nd;
		int64_t dims[CINFER_MAX_DIMS];
		size_t count = 1, es;
		if (cinfer_model_input_info(m, i, &dt, &nd, dims) != 0 || nd < 0 ||
		    (es = cinfer_dtype_size(dt)) == 0)
			goto out;
		for (int d = 0; d < nd; d++) {
			if (dims[d] < 0 || dims[d] > 4096 || count * (size_t)dims[d] > 4096)
				goto out;
			count *= (size_t)dims[d];
		}
		for (size_t b = 0; b < count * es; b++)
			buf[i][b] = (uint8_t)(b * 37 + i);
		if (dt == CINFER_DT_BOOL)
			for (size_t b = 0; b < count; b++)
				buf[i][b] &= 1;
		in[i].dtype = dt;
		in[i].ndim = nd;
		memcpy(in[i].dims, dims, sizeof(int64_t) * (size_t)nd);
		in[i].data = buf[i];
		in[i].size = count * es;
	}
	if (cinfer_model_run(m, in, nin, out, nout, &e) == 0)
		for (size_t o = 0; o < nout; o++)
			cinfer_tensor_clear(&out[o]);
out:
	cinfer_model_free(m);
	return 0;
}
