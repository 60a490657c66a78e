/* Fuzz target: the Intel SGX PCK certificate extension (DER) parser. */
#include "evidence/intel_pck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ci_intel_pck_ext x;
	struct cinfer_err e = { 0 };

	if (ci_intel_pck_ext_parse(&x, data, size, &e) == 0 && x.sgx_type > 2)
		__builtin_trap();
	return 0;
}
