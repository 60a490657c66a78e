/* Fuzz target: receipt (compact JWS) parsing up to and including the signature. */
#include <string.h>

#include "cinfer/receipt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cinfer_evidence ev;
	struct cinfer_receipt r;
	struct cinfer_decision d;
	struct cinfer_err e = { 0 };
	static const uint8_t fake[8] = { 0 };

	cinfer_evidence_init(&ev);
	ev.platform = CINFER_PLATFORM_SIM;
	ev.evidence = (uint8_t *)fake;
	ev.evidence_size = sizeof(fake);
	if (cinfer_receipt_verify((const char *)data, size, &ev, NULL, NULL, &r, &d, &e) == 0)
		return 0;
	return 0;
}
