/* Fuzz target: the TDX CC event log (CCEL) parser and RTMR replay. */
#include "evidence/tdx_ccel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t rtmr[4][48];
	size_t n = 0;
	struct cinfer_err e = { 0 };

	if (ci_tdx_ccel_replay(data, size, rtmr, &n, &e) == 0 && n > (size_t)CI_CCEL_EVENTS_MAX)
		__builtin_trap();
	return 0;
}
