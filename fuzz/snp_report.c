/* Fuzz target: the SEV-SNP report parser (also used by the sim platform). */
#include "cinfer/evidence.h"
#include "evidence/snp_report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ci_snp_report r;
	struct cinfer_err e = { 0 };
	struct cinfer_claims c;

	if (ci_snp_report_parse(&r, data, size, &e) == 0) {
		cinfer_claims_init(&c, CINFER_PLATFORM_SNP);
		ci_snp_report_claims(&r, &c);
	}
	return 0;
}
