/* TDX CC event log replay into RTMR0..3. */
#include <string.h>

#include "crypto/crypto.h"
#include "evidence/tdx_ccel.h"

#define STAGE "evidence.tdx.ccel"
#define EV_NO_ACTION 3u
#define ALG_SHA384 0x000cu
#define ALGS_MAX 8

struct alg {
	uint16_t id;
	uint16_t size;
};

/* The SHA-1-format first record carrying TCG_EfiSpecIDEvent. */
static int
parse_spec_header(struct ci_rd *r, struct alg *algs, uint32_t *nalgs, struct cinfer_err *e)
{
	uint32_t idx = 0, type = 0, esize = 0;
	struct ci_rd ev;
	const uint8_t *sig = NULL;
	uint8_t uintn = 0, vsize = 0;

	ci_rd_u32le(r, &idx);
	ci_rd_u32le(r, &type);
	ci_rd_skip(r, 20);
	ci_rd_u32le(r, &esize);
	if (r->bad || type != EV_NO_ACTION || esize > 4096 || ci_rd_sub(r, esize, &ev) != 0)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "event log lacks its Spec ID header");
	ci_rd_bytes(&ev, 16, &sig);
	ci_rd_skip(&ev, 4 + 3);	/* platformClass, version minor/major, errata */
	ci_rd_u8(&ev, &uintn);
	ci_rd_u32le(&ev, nalgs);
	if (ev.bad || memcmp(sig, "Spec ID Event03\0", 16) != 0)	/* public */
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "event log is not crypto-agile (Spec ID Event03)");
	if (*nalgs == 0 || *nalgs > ALGS_MAX)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "event log lists %u algorithms", *nalgs);
	for (uint32_t i = 0; i < *nalgs; i++) {
		ci_rd_u16le(&ev, &algs[i].id);
		ci_rd_u16le(&ev, &algs[i].size);
		if (algs[i].size == 0 || algs[i].size > 64)
			return ci_fail(e, CINFER_E_MALFORMED, STAGE, "digest size %u", algs[i].size);
	}
	ci_rd_u8(&ev, &vsize);
	ci_rd_skip(&ev, vsize);
	if (ci_rd_done(&ev) != 0)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "bad Spec ID event");
	return 0;
}

static int
rest_is_padding(const struct ci_rd *r)
{
	for (size_t i = 0; i < r->left; i++)
		if (r->p[i] != 0xff && r->p[i] != 0x00)
			return 0;
	return 1;
}

int
ci_tdx_ccel_replay(const uint8_t *log, size_t size, uint8_t rtmr[4][48], size_t *count,
    struct cinfer_err *e)
{
	struct ci_rd r;
	struct alg algs[ALGS_MAX];
	uint32_t nalgs = 0;
	size_t n = 0;

	memset(rtmr, 0, 4 * 48);
	*count = 0;
	ci_rd_init(&r, log, size);
	if (parse_spec_header(&r, algs, &nalgs, e) != 0)
		return -1;
	while (r.left > 0 && !rest_is_padding(&r)) {
		uint32_t idx = 0, type = 0, dcount = 0, esize = 0;
		const uint8_t *sha384 = NULL;

		if (n >= CI_CCEL_EVENTS_MAX)
			return ci_fail(e, CINFER_E_LIMIT, STAGE, "more than %d events", CI_CCEL_EVENTS_MAX);
		ci_rd_u32le(&r, &idx);
		ci_rd_u32le(&r, &type);
		ci_rd_u32le(&r, &dcount);
		if (r.bad || dcount != nalgs)
			return ci_fail(e, CINFER_E_MALFORMED, STAGE, "event %zu: bad digest count", n);
		for (uint32_t i = 0; i < dcount; i++) {
			uint16_t id = 0;
			const uint8_t *d = NULL;
			uint32_t k;
			ci_rd_u16le(&r, &id);
			for (k = 0; k < nalgs && algs[k].id != id; k++)
				;
			if (r.bad || k == nalgs)
				return ci_fail(e, CINFER_E_MALFORMED, STAGE, "event %zu: unknown digest 0x%x",
				    n, id);
			ci_rd_bytes(&r, algs[k].size, &d);
			if (id == ALG_SHA384 && algs[k].size == 48)
				sha384 = d;
		}
		ci_rd_u32le(&r, &esize);
		if (r.bad || esize > CI_CCEL_EVENT_DATA_MAX || ci_rd_skip(&r, esize) != 0)
			return ci_fail(e, CINFER_E_MALFORMED, STAGE, "event %zu: truncated", n);
		n++;
		if (type == EV_NO_ACTION)
			continue;
		if (sha384 == NULL)
			return ci_fail(e, CINFER_E_MALFORMED, STAGE, "event %zu has no SHA-384 digest", n);
		if (idx < 1 || idx > 4)
			return ci_fail(e, CINFER_E_MALFORMED, STAGE, "event %zu: CC MR index %u", n, idx);
		{
			uint8_t buf[96];
			memcpy(buf, rtmr[idx - 1], 48);
			memcpy(buf + 48, sha384, 48);
			ci_sha384(buf, sizeof(buf), rtmr[idx - 1]);
		}
		(*count)++;
	}
	return 0;
}
