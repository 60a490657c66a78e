/* Fuzz target: the JSON evidence envelope, and re-encoding what parses. */
#include <stdlib.h>

#include "cinfer/evidence.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cinfer_evidence ev;
	struct cinfer_err e = { 0 };

	if (cinfer_evidence_parse_json(&ev, data, size, &e) == 0) {
		char *js = cinfer_evidence_to_json(&ev, &e);
		free(js);
		cinfer_evidence_clear(&ev);
	}
	return 0;
}
