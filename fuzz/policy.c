/* Fuzz target: policy documents, then an evaluation against fixed claims. */
#include "cinfer/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cinfer_policy *p = NULL;
	struct cinfer_err e = { 0 };

	if (cinfer_policy_parse(data, size, &p, &e) == 0) {
		struct cinfer_claims c;
		struct cinfer_decision d;
		struct cinfer_policy_input in = { .claims = &c, .claims_count = 1, .at = 1767225600 };
		cinfer_claims_init(&c, CINFER_PLATFORM_TDX);
		c.measurement_size = 48;
		c.report_data_size = 64;
		cinfer_claims_add_tcb(&c, "snp", 3);
		(void)cinfer_policy_eval(p, &in, &d, &e);
		cinfer_policy_free(p);
	}
	return 0;
}
