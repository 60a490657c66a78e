/* Fuzz target: the Intel TDX quote parser (v4/v5, QE certification data). */
#include "evidence/tdx_quote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ci_tdx_quote q;
	struct cinfer_err e = { 0 };
	volatile uint8_t sink = 0;

	if (ci_tdx_quote_parse(&q, data, size, &e) == 0) {
		/* Touch every view so ASan checks its bounds. */
		sink ^= q.body.mrtd[47] ^ q.body.report_data[63] ^ q.qe.report_data[63] ^ q.qe_sig[63];
		if (q.body.mrservicetd != NULL)
			sink ^= q.body.mrservicetd[47];
		if (q.auth_data_size > 0)
			sink ^= q.auth_data[q.auth_data_size - 1];
		if (q.cert_data_size > 0)
			sink ^= q.cert_data[q.cert_data_size - 1];
	}
	(void)sink;
	return 0;
}
