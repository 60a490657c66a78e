/*
 * Arm CCA attester: the realm's attestation token through configfs-tsm
 * (provider arm_cca_guest; inblob = the 64-byte realm challenge, outblob =
 * the tag-399 CCA token).
 */
#include <string.h>

#include "attester/tsm.h"
#include "cinfer/attester_nitro.h"
#include "evidence/cca.h"

#define STAGE "attester.cca"

int
cinfer_cca_attest(const char *tsm_root, const uint8_t challenge[64], struct cinfer_evidence *ev,
    struct cinfer_err *e)
{
	struct ci_tsm_report rep;
	struct ci_cca_token t;
	int rc = -1, parsed = 0;

	cinfer_evidence_init(ev);
	if (ci_tsm_get_report(tsm_root, challenge, -1, &rep, e) != 0)
		return -1;
	if (rep.provider[0] != '\0' && strcmp(rep.provider, "arm_cca_guest") != 0) {	/* public */
		ci_fail(e, CINFER_E_UNSUPPORTED, STAGE,
		    "configfs-tsm provider is %s, not arm_cca_guest (not an Arm CCA realm)",
		    rep.provider);
		goto out;
	}
	if (ci_cca_token_parse(&t, rep.outblob, rep.outblob_size, e) != 0)
		goto out;
	parsed = 1;
	if (memcmp(t.realm.challenge.p, challenge, 64) != 0) {	/* public */
		ci_fail(e, CINFER_E_IO, STAGE, "the realm token does not carry the requested challenge");
		goto out;
	}
	ev->platform = CINFER_PLATFORM_CCA;
	ev->evidence = rep.outblob;
	ev->evidence_size = rep.outblob_size;
	rep.outblob = NULL;
	rep.outblob_size = 0;
	rc = 0;
out:
	if (parsed)
		ci_cca_token_clear(&t);
	ci_tsm_report_clear(&rep);
	return rc;
}
