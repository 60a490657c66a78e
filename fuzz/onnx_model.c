/*
 * Fuzz target: the ONNX ModelProto reader and the load-time validation
 * (graph resolution, topological order, operator checks). External data is
 * refused (no model folder), so the target touches no files.
 */
#include "cinfer/runtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cinfer_model *m = NULL;
	struct cinfer_err e = { 0 };

	if (cinfer_model_load_mem(data, size, NULL, &m, &e) == 0)
		cinfer_model_free(m);
	return 0;
}
