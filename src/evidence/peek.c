/*
 * The launch measurement of one's own evidence, without judging it: cinferd
 * names its measurement in receipts and logs, and on hardware only the
 * evidence knows it. Parsing only; authenticity is the verifiers' job.
 */
#include <string.h>

#include "evidence/cca.h"
#include "evidence/evidence_int.h"
#include "evidence/nitro.h"
#include "evidence/snp_report.h"
#include "evidence/tdx_quote.h"

#define STAGE "evidence.peek"

static int
put(uint8_t *out, size_t cap, size_t *size, const uint8_t *p, size_t n, struct cinfer_err *e)
{
	if (p == NULL || n == 0 || n > cap)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "evidence carries no launch measurement");
	memcpy(out, p, n);
	*size = n;
	return 0;
}

int
ci_evidence_peek_measurement(const struct cinfer_evidence *ev, uint8_t *out, size_t cap,
    size_t *size, struct cinfer_err *e)
{
	int rc = -1;

	*size = 0;
	switch (ev->platform) {
	case CINFER_PLATFORM_SIM:
	case CINFER_PLATFORM_SNP: {
		struct ci_snp_report r;
		if (ci_snp_report_parse(&r, ev->evidence, ev->evidence_size, e) == 0)
			rc = put(out, cap, size, r.measurement, sizeof(r.measurement), e);
		break;
	}
	case CINFER_PLATFORM_TDX: {
		struct ci_tdx_quote q;
		if (ci_tdx_quote_parse(&q, ev->evidence, ev->evidence_size, e) == 0)
			rc = put(out, cap, size, q.body.mrtd, 48, e);
		break;
	}
	case CINFER_PLATFORM_NITRO: {
		struct ci_nitro_doc d;
		if (ci_nitro_doc_parse(&d, ev->evidence, ev->evidence_size, e) == 0) {
			rc = put(out, cap, size, d.pcr[0].p, d.pcr[0].size, e);
			ci_nitro_doc_clear(&d);
		}
		break;
	}
	case CINFER_PLATFORM_CCA: {
		struct ci_cca_token t;
		if (ci_cca_token_parse(&t, ev->evidence, ev->evidence_size, e) == 0) {
			rc = put(out, cap, size, t.realm.rim.p, t.realm.rim.size, e);
			ci_cca_token_clear(&t);
		}
		break;
	}
	default:
		rc = ci_fail(e, CINFER_E_USAGE, STAGE, "evidence has no platform");
	}
	return rc;
}
