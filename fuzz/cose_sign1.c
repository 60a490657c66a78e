/* Fuzz target: the strict CBOR walker and COSE_Sign1 parsing, then the Sig_structure. */
#include "crypto/cose.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ci_cose_sign1 m;
	struct cinfer_err e = { 0 };
	uint8_t *tbs = NULL;
	size_t tbs_size = 0;

	if (ci_cose_sign1_parse(&m, data, size, "fuzz", &e) == 0) {
		if (ci_cose_sig_structure(m.protected_hdr, m.protected_size, m.payload,
			m.payload_size, &tbs, &tbs_size, "fuzz", &e) == 0)
			ci_free(tbs);
		ci_cose_sign1_clear(&m);
	}
	return 0;
}
