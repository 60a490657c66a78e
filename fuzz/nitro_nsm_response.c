/* Fuzz target: NSM responses as the attester reads them from /dev/nsm. */
#include "evidence/nitro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cbor_item_t *root = NULL;
	const uint8_t *doc;
	size_t doc_size;
	struct cinfer_err e = { 0 };

	if (ci_nsm_attestation_response(data, size, &root, &doc, &doc_size, &e) == 0)
		cbor_decref(&root);
	return 0;
}
