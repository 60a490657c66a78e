/*
 * TDX attester: quotes through configfs-tsm (ci_tsm_get_report) and the
 * TDREPORT through /dev/tdx_guest (TDX_CMD_GET_REPORT0).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "attester/tsm.h"
#include "cinfer/attester_tdx.h"
#include "evidence/tdx_quote.h"

#define STAGE "attester.tdx"

/* <linux/tdx-guest.h> (Linux 6.2+); Debian 12's linux-libc-dev lacks it. */
struct ci_tdx_report_req {
	uint8_t reportdata[CINFER_TDX_REPORT_DATA_SIZE];
	uint8_t tdreport[CINFER_TDX_TDREPORT_SIZE];
};
#define CI_TDX_CMD_GET_REPORT0 _IOWR('T', 1, struct ci_tdx_report_req)

int
cinfer_tdx_attest(const uint8_t report_data[CINFER_TDX_REPORT_DATA_SIZE],
    const struct cinfer_tdx_attest_opts *o, struct cinfer_evidence *ev, struct cinfer_err *e)
{
	struct ci_tsm_report rep;
	struct ci_tdx_quote q;
	int rc = -1;

	cinfer_evidence_init(ev);
	if (ci_tsm_get_report(o != NULL ? o->tsm_root : NULL, report_data, -1, &rep, e) != 0)
		return -1;
	if (rep.provider[0] != '\0' && strcmp(rep.provider, "tdx_guest") != 0) {	/* public */
		ci_fail(e, CINFER_E_UNSUPPORTED, STAGE, "configfs-tsm provider is \"%s\", not tdx_guest",
		    rep.provider);
		goto out;
	}
	if (ci_tdx_quote_parse(&q, rep.outblob, rep.outblob_size, e) != 0)
		goto out;
	if (memcmp(q.body.report_data, report_data, CINFER_TDX_REPORT_DATA_SIZE) != 0) {	/* public */
		ci_fail(e, CINFER_E_IO, STAGE,
		    "quote REPORTDATA differs from the request (another writer raced the entry)");
		goto out;
	}
	ev->platform = CINFER_PLATFORM_TDX;
	/* Only the quote itself: drop the padding of the kernel's buffer. */
	ev->evidence = ci_memdup(rep.outblob, q.quote_size);
	if (ev->evidence == NULL) {
		ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
		goto out;
	}
	ev->evidence_size = q.quote_size;
	rc = 0;
out:
	ci_tsm_report_clear(&rep);
	if (rc != 0)
		cinfer_evidence_clear(ev);
	return rc;
}

int
cinfer_tdx_get_tdreport(const char *device, const uint8_t report_data[CINFER_TDX_REPORT_DATA_SIZE],
    uint8_t out[CINFER_TDX_TDREPORT_SIZE], struct cinfer_err *e)
{
	const char *env = getenv("CINFER_TDX_DEVICE");
	struct ci_tdx_report_req *req;
	int fd, rc = -1;

	if (device == NULL)
		device = env != NULL && env[0] != '\0' ? env : CINFER_TDX_DEFAULT_DEVICE;
	req = ci_calloc(1, sizeof(*req));
	if (req == NULL)
		return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
	memcpy(req->reportdata, report_data, CINFER_TDX_REPORT_DATA_SIZE);
	fd = open(device, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ci_fail(e, CINFER_E_IO, STAGE, "%s: %s", device, strerror(errno));
		goto out;
	}
	if (ioctl(fd, CI_TDX_CMD_GET_REPORT0, req) != 0) {
		ci_fail(e, CINFER_E_IO, STAGE, "%s: TDX_CMD_GET_REPORT0: %s", device, strerror(errno));
		goto out;
	}
	if (memcmp(req->tdreport + 128, report_data, CINFER_TDX_REPORT_DATA_SIZE) != 0) {	/* public */
		ci_fail(e, CINFER_E_IO, STAGE, "TDREPORT does not carry the requested REPORTDATA");
		goto out;
	}
	memcpy(out, req->tdreport, CINFER_TDX_TDREPORT_SIZE);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	ci_free(req);
	return rc;
}

int
cinfer_tdx_tdreport_parse(const uint8_t *p, size_t size, struct cinfer_tdx_tdreport *t,
    struct cinfer_err *e)
{
	struct ci_rd r;

	memset(t, 0, sizeof(*t));
	if (size != CINFER_TDX_TDREPORT_SIZE)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "TDREPORT of %zu bytes, want 1024", size);
	ci_rd_init(&r, p, size);
	/* REPORTMACSTRUCT (256) */
	ci_rd_copy(&r, t->report_type, 4);
	ci_rd_skip(&r, 12);
	ci_rd_copy(&r, t->cpusvn, 16);
	ci_rd_skip(&r, 48 + 48);	/* TEE_TCB_INFO and TEE_INFO hashes */
	ci_rd_copy(&r, t->report_data, 64);
	ci_rd_skip(&r, 32 + 32);	/* reserved, MAC */
	/* TEE_TCB_INFO (239) */
	ci_rd_skip(&r, 8);		/* valid */
	ci_rd_copy(&r, t->tee_tcb_svn, 16);
	ci_rd_copy(&r, t->mrseam, 48);
	ci_rd_copy(&r, t->mrsignerseam, 48);
	ci_rd_skip(&r, 8 + 16 + 95);	/* attributes, tee_tcb_svn2, reserved */
	ci_rd_skip(&r, 17);		/* reserved */
	/* TDINFO (512) */
	ci_rd_copy(&r, t->td_attributes, 8);
	ci_rd_copy(&r, t->xfam, 8);
	ci_rd_copy(&r, t->mrtd, 48);
	ci_rd_copy(&r, t->mrconfigid, 48);
	ci_rd_copy(&r, t->mrowner, 48);
	ci_rd_copy(&r, t->mrownerconfig, 48);
	for (int i = 0; i < 4; i++)
		ci_rd_copy(&r, t->rtmr[i], 48);
	ci_rd_skip(&r, 48 + 64);	/* servtd_hash, reserved */
	if (ci_rd_done(&r) != 0)
		return ci_fail(e, CINFER_E_INTERNAL, STAGE, "TDREPORT layout");
	if (t->report_type[0] != 0x81)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "TDREPORT type 0x%02x is not TDX",
		    t->report_type[0]);
	return 0;
}
