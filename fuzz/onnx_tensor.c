/* Fuzz target: the ONNX TensorProto reader (.pb input files of `cinfer run`). */
#include "cinfer/runtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cinfer_tensor t;
	struct cinfer_err e = { 0 };
	char *name = NULL;

	if (cinfer_tensor_read_pb(data, size, &t, &name, &e) == 0) {
		cinfer_tensor_clear(&t);
		cinfer_buf_free(name);
	}
	return 0;
}
