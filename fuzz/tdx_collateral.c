/*
 * Fuzz target: Intel PCS collateral (TCB info / QE identity JSON): the
 * signed-document splitter, both parsers and the TCB level selection.
 */
#include <string.h>

#include "core/ci.h"
#include "evidence/intel_collateral.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ci_intel_tcb_info t;
	static struct ci_intel_qe_identity qi;
	struct ci_intel_signed s;
	struct ci_tdx_tcb_eval ev;
	struct cinfer_err e = { 0 };
	uint8_t svn[16], tee[16], mr48[48] = { 0 }, attr8[8] = { 0 }, mr32[32] = { 0 },
	    attr16[16] = { 0 };

	for (size_t i = 0; i < 16; i++) {
		svn[i] = size > i ? data[i] : 0;
		tee[i] = size > 16 + i ? data[16 + i] : 0;
	}
	if (ci_intel_signed_split(data, size, "tcbInfo", &s, &e) == 0 &&
	    ci_intel_tcb_info_parse(&t, s.body, s.body_size, &e) == 0) {
		memset(&qi, 0, sizeof(qi));
		qi.level_count = 1;
		qi.levels[0].status = CI_TCB_OUT_OF_DATE;
		if (ci_tdx_tcb_evaluate(&t, &qi, svn, 13, tee, mr48, attr8, mr32, 0, 4, 0, attr16,
		    &ev, &e) == 0 && ev.platform == NULL)
			__builtin_trap();	/* success always names a level */
		ci_intel_tcb_info_clear(&t);
	}
	cinfer_err_clear(&e);
	if (ci_intel_signed_split(data, size, "enclaveIdentity", &s, &e) == 0 &&
	    ci_intel_qe_identity_parse(&qi, s.body, s.body_size, &e) == 0)
		ci_intel_qe_identity_clear(&qi);
	return 0;
}
