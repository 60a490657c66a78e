/*
 * Fuzz target: CCA attestation tokens. What parses is also verified with
 * the sample CPAK (the public TF-M key that signs the example token).
 */
#include <string.h>

#include "evidence/cca.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char cpak[] = "{\"crv\":\"P-384\",\"kty\":\"EC\","
    "\"x\":\"IShnxS4rlQiwpCCpBWDzlNLfqiG911FP8akBr-fh94uxHU5m-Kijivp2r2oxxN6M\","
    "\"y\":\"hM4tr8mWQli1P61xh3T0ViDREbF26DGOEYfbAjWjGNN7pZf-6A4OTHYqEryz6m7U\"}";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ci_cca_token t;
	struct cinfer_err e = { 0 };
	struct cinfer_evidence ev;
	struct cinfer_verify_opts o = { 0 };
	struct cinfer_claims c;

	if (ci_cca_token_parse(&t, data, size, &e) != 0)
		return 0;
	ci_cca_token_clear(&t);
	cinfer_evidence_init(&ev);
	ev.platform = CINFER_PLATFORM_CCA;
	ev.evidence = (uint8_t *)data;
	ev.evidence_size = size;
	o.cca_iak_pub = (const uint8_t *)cpak;
	o.cca_iak_pub_size = strlen(cpak);
	cinfer_claims_init(&c, CINFER_PLATFORM_CCA);
	(void)ci_cca_verify(&ev, &o, 1, &c, &e);
	return 0;
}
