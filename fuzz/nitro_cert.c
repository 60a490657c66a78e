/* Fuzz target: finding a Nitro document in a TLS certificate's SANs. */
#include "evidence/nitro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *doc = NULL;
	size_t doc_size = 0;
	struct cinfer_err e = { 0 };

	if (ci_nitro_doc_from_cert(data, size, &doc, &doc_size, &e) == 0)
		ci_free(doc);
	return 0;
}
