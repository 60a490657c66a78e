/*
 * Fuzz target: sealed bundles. Parses the header, then runs the whole
 * streaming unseal with a fixed key (the corpus was sealed with it), so
 * chunk framing, truncation and the tag checks are exercised too.
 */
#include <string.h>

#include "cinfer/seal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cinfer_bundle_info h;
	struct cinfer_err e = { 0 };
	struct cinfer_unsealed u;
	uint8_t key[CINFER_SEAL_KEY_SIZE];

	if (cinfer_bundle_parse_header(data, size, &h, &e) != 0)
		return 0;
	/* Bound the work: the model must be no larger than what was given. */
	if (h.plaintext_size > size)
		return 0;
	memset(key, 0x42, sizeof(key));
	if (cinfer_unseal_mem(data, size, key, &u, &e) == 0)
		cinfer_unsealed_free(&u);
	return 0;
}
