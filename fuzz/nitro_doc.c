/*
 * Fuzz target: Nitro attestation documents. What parses is also verified
 * (chain and ES384) at its own timestamp against the pinned root.
 */
#include "evidence/nitro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ci_nitro_doc d;
	struct cinfer_err e = { 0 };
	struct cinfer_evidence ev;
	struct cinfer_verify_opts o = { 0 };
	struct cinfer_claims c;
	int64_t t;

	if (ci_nitro_doc_parse(&d, data, size, &e) != 0)
		return 0;
	t = (int64_t)(d.timestamp_ms / 1000);
	ci_nitro_doc_clear(&d);
	cinfer_evidence_init(&ev);
	ev.platform = CINFER_PLATFORM_NITRO;
	ev.evidence = (uint8_t *)data;
	ev.evidence_size = size;
	cinfer_claims_init(&c, CINFER_PLATFORM_NITRO);
	(void)ci_nitro_verify(&ev, &o, t, &c, &e);
	return 0;
}
