/*
 * SEV-SNP attester: reports through configfs-tsm or /dev/sev-guest
 * (SNP_GET_EXT_REPORT / SNP_GET_REPORT), sealing keys through
 * SNP_GET_DERIVED_KEY. Layouts: <linux/sev-guest.h> for the ioctl
 * structures; the firmware messages (MSG_REPORT_RSP, MSG_KEY_RSP) from the
 * SEV-SNP ABI specification.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/sev-guest.h>

#include "attester/tsm.h"
#include "cinfer/attester_snp.h"
#include "evidence/snp_certs.h"
#include "evidence/snp_report.h"

#define STAGE "attester.snp"

#define SEV_GUEST_DEFAULT "/dev/sev-guest"
/* exitinfo2 bits 63:32 (vmm_error): the host's answer. */
#define VMM_ERR_INVALID_LEN 1
#define VMM_ERR_BUSY 2
#define CERTS_PAGE 4096u
#define CERTS_FIRST (4 * CERTS_PAGE)		/* the kernel's SEV_FW_BLOB_MAX_SIZE, 16 KiB */
#define CERTS_MAX_SIZE (16 * CERTS_PAGE)	/* room for a kernel that allows more */
/* MSG_REPORT_RSP: status, report_size, reserved to 0x20, then the report. */
#define REPORT_RSP_HDR 0x20
#define KEY_RSP_HDR 0x20

static const char *
sev_guest_path(const char *p)
{
	const char *env = getenv("CINFER_SEV_GUEST");

	if (p != NULL)
		return p;
	return env != NULL && env[0] != '\0' ? env : SEV_GUEST_DEFAULT;
}

static int
open_dev(const char *path, struct cinfer_err *e)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return ci_fail(e, CINFER_E_IO, STAGE, "%s: %s", path, strerror(errno));
	return fd;
}

/* One guest request; fills fw/vmm errors into the message on failure. */
static int
guest_request(int fd, unsigned long req, void *in, void *out, struct cinfer_err *e,
    uint32_t *vmm_error)
{
	struct snp_guest_request_ioctl g;
	int rc;

	memset(&g, 0, sizeof(g));
	g.msg_version = 1;
	g.req_data = (uint64_t)(uintptr_t)in;
	g.resp_data = (uint64_t)(uintptr_t)out;
	do {
		rc = ioctl(fd, req, &g);
	} while (rc < 0 && errno == EINTR);
	*vmm_error = g.vmm_error;
	if (rc < 0) {
		int err = errno;
		if (g.vmm_error == VMM_ERR_INVALID_LEN)
			return -2;	/* the caller grows its buffer */
		return ci_fail(e, CINFER_E_IO, STAGE,
		    "guest request failed: %s (firmware error 0x%x, host error 0x%x)",
		    strerror(err), g.fw_error, g.vmm_error);
	}
	return 0;
}

/* Takes the report out of a MSG_REPORT_RSP. */
static int
report_from_rsp(const uint8_t *rsp, size_t rsp_size, uint8_t **out, struct cinfer_err *e)
{
	struct ci_rd rd;
	uint32_t status, size;
	const uint8_t *rep;

	ci_rd_init(&rd, rsp, rsp_size);
	ci_rd_u32le(&rd, &status);
	ci_rd_u32le(&rd, &size);
	ci_rd_skip(&rd, REPORT_RSP_HDR - 8);
	if (status != 0)
		return ci_fail(e, CINFER_E_IO, STAGE, "firmware refused the report (status 0x%x)",
		    status);
	if (size != CI_SNP_REPORT_SIZE)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE,
		    "firmware returned a %u-byte report, expected %d", size, CI_SNP_REPORT_SIZE);
	if (ci_rd_bytes(&rd, CI_SNP_REPORT_SIZE, &rep) != 0)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "report response is truncated");
	*out = ci_memdup(rep, CI_SNP_REPORT_SIZE);
	if (*out == NULL)
		return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
	return 0;
}

static int
ioctl_report(const uint8_t rd[64], const struct cinfer_snp_attest_opts *o, uint8_t **report,
    uint8_t **certs, size_t *certs_size, struct cinfer_err *e)
{
	const char *path = sev_guest_path(o->sev_guest);
	struct snp_ext_report_req req;
	struct snp_report_resp *rsp = NULL;
	uint8_t *buf = NULL;
	uint32_t len = CERTS_FIRST, vmm = 0;
	int fd, rc = -1;

	*report = NULL;
	*certs = NULL;
	*certs_size = 0;
	fd = open_dev(path, e);
	if (fd < 0)
		return -1;
	rsp = ci_calloc(1, sizeof(*rsp));
	if (rsp == NULL) {
		ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
		goto out;
	}
	for (int attempt = 0;; attempt++) {
		int r;

		memset(&req, 0, sizeof(req));
		memcpy(req.data.user_data, rd, 64);
		req.data.vmpl = o->vmpl;
		if (o->no_certs) {
			r = guest_request(fd, SNP_GET_REPORT, &req.data, rsp, e, &vmm);
		} else {
			ci_free(buf);
			/* The kernel wants whole pages. */
			buf = ci_calloc(1, len);
			if (buf == NULL) {
				ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
				goto out;
			}
			req.certs_address = (uint64_t)(uintptr_t)buf;
			req.certs_len = len;
			r = guest_request(fd, SNP_GET_EXT_REPORT, &req, rsp, e, &vmm);
		}
		if (r == 0)
			break;
		if (r == -2 && attempt == 0 && req.certs_len > len &&
		    req.certs_len <= CERTS_MAX_SIZE) {
			/* The host said how much room its certificates need. */
			len = (req.certs_len + CERTS_PAGE - 1) / CERTS_PAGE * CERTS_PAGE;
			continue;
		}
		if (r == -2)
			ci_fail(e, CINFER_E_LIMIT, STAGE,
			    "host certificate table needs %u bytes (at most %u taken)",
			    req.certs_len, CERTS_MAX_SIZE);
		goto out;
	}
	if (report_from_rsp(rsp->data, sizeof(rsp->data), report, e) != 0)
		goto out;
	if (!o->no_certs && !ci_is_zero(buf, CI_SNP_CERT_ENTRY_SIZE)) {
		*certs = buf;
		*certs_size = len;
		buf = NULL;
	}
	rc = 0;
out:
	if (rc != 0) {
		ci_free(*report);
		*report = NULL;
	}
	ci_free(buf);
	ci_free(rsp);
	close(fd);
	return rc;
}

static int
tsm_report(const uint8_t rd[64], const struct cinfer_snp_attest_opts *o, uint8_t **report,
    uint8_t **certs, size_t *certs_size, struct cinfer_err *e)
{
	struct ci_tsm_report r;

	*report = NULL;
	*certs = NULL;
	*certs_size = 0;
	if (ci_tsm_get_report(o->tsm_root, rd, (int)o->vmpl, &r, e) != 0)
		return -1;
	if (strcmp(r.provider, "sev_guest") != 0) {	/* public */
		ci_fail(e, CINFER_E_UNSUPPORTED, STAGE,
		    "configfs-tsm provider is \"%s\", not sev_guest", r.provider);
		ci_tsm_report_clear(&r);
		return -1;
	}
	if (r.outblob_size != CI_SNP_REPORT_SIZE) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE, "configfs-tsm returned %zu bytes, not a report",
		    r.outblob_size);
		ci_tsm_report_clear(&r);
		return -1;
	}
	*report = r.outblob;
	if (r.auxblob != NULL && r.auxblob_size > 0) {
		*certs = r.auxblob;
		*certs_size = r.auxblob_size;
	} else {
		ci_free(r.auxblob);
	}
	return 0;
}

/* Adds the signing cert and ASK of a certificate table to ev. */
static int
add_table_certs(struct cinfer_evidence *ev, const uint8_t *tab, size_t size,
    struct cinfer_err *e)
{
	struct ci_snp_cert_table t;
	static const enum ci_snp_cert_kind kinds[] = { CI_SNP_CERT_VCEK, CI_SNP_CERT_VLEK,
		CI_SNP_CERT_ASK };

	if (ci_snp_cert_table_parse(&t, tab, size, e) != 0)
		return -1;
	for (size_t i = 0; i < CI_ARRAY_LEN(kinds); i++) {
		const struct ci_snp_cert_entry *en = ci_snp_cert_table_find(&t, kinds[i]);
		if (en != NULL && cinfer_evidence_add_cert(ev, en->data, en->size, e) != 0)
			return -1;
	}
	return cinfer_evidence_add_collateral(ev, "cert_table", tab, size, e);
}

int
cinfer_snp_attest(const uint8_t report_data[64], const struct cinfer_snp_attest_opts *o,
    struct cinfer_evidence *ev, struct cinfer_err *e)
{
	static const struct cinfer_snp_attest_opts defaults = { 0 };
	struct ci_snp_report rep;
	enum cinfer_snp_backend b;
	uint8_t *report = NULL, *certs = NULL;
	size_t certs_size = 0;
	int rc = -1;

	cinfer_evidence_init(ev);
	if (o == NULL)
		o = &defaults;
	if (o->vmpl > 3)
		return ci_fail(e, CINFER_E_USAGE, STAGE, "VMPL %u is out of range 0-3", o->vmpl);
	b = o->backend;
	if (b == CINFER_SNP_BACKEND_AUTO)
		b = ci_tsm_available(o->tsm_root) ? CINFER_SNP_BACKEND_TSM :
		    CINFER_SNP_BACKEND_IOCTL;
	if (b == CINFER_SNP_BACKEND_TSM) {
		if (tsm_report(report_data, o, &report, &certs, &certs_size, e) != 0)
			goto out;
	} else if (b == CINFER_SNP_BACKEND_IOCTL) {
		if (ioctl_report(report_data, o, &report, &certs, &certs_size, e) != 0)
			goto out;
	} else {
		ci_fail(e, CINFER_E_USAGE, STAGE, "unknown backend %d", (int)b);
		goto out;
	}
	/* What came back must be a report for what we asked. */
	if (ci_snp_report_parse(&rep, report, CI_SNP_REPORT_SIZE, e) != 0)
		goto out;
	if (memcmp(rep.report_data, report_data, 64) != 0 || rep.vmpl != o->vmpl) {	/* public */
		ci_fail(e, CINFER_E_IO, STAGE,
		    "the platform returned a report for other data or VMPL (%u, asked %u)",
		    rep.vmpl, o->vmpl);
		goto out;
	}
	ev->platform = CINFER_PLATFORM_SNP;
	ev->evidence = report;
	ev->evidence_size = CI_SNP_REPORT_SIZE;
	report = NULL;
	if (certs != NULL && add_table_certs(ev, certs, certs_size, e) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		cinfer_evidence_clear(ev);
	ci_free(report);
	ci_free(certs);
	return rc;
}

int
cinfer_snp_derived_key(const struct cinfer_snp_key_opts *o,
    uint8_t key[CINFER_SNP_DERIVED_KEY_SIZE], struct cinfer_err *e)
{
	struct snp_derived_key_req req;
	struct snp_derived_key_resp rsp;
	struct ci_rd rd;
	uint32_t status = 0, vmm = 0;
	int fd, rc = -1;

	memset(key, 0, CINFER_SNP_DERIVED_KEY_SIZE);
	if (o == NULL)
		return ci_fail(e, CINFER_E_USAGE, STAGE, "no key options");
	if (o->vmpl > 3 || (o->field_select >> 6) != 0)
		return ci_fail(e, CINFER_E_USAGE, STAGE, "bad VMPL or field selection");
	memset(&req, 0, sizeof(req));
	memset(&rsp, 0, sizeof(rsp));
	req.root_key_select = o->use_vmrk ? 1 : 0;
	req.guest_field_select = o->field_select ? o->field_select :
	    CINFER_SNP_KEY_MEASUREMENT | CINFER_SNP_KEY_GUEST_POLICY;
	req.vmpl = o->vmpl;
	req.guest_svn = o->guest_svn;
	req.tcb_version = o->tcb_version;
	fd = open_dev(sev_guest_path(o->sev_guest), e);
	if (fd < 0)
		return -1;
	if (guest_request(fd, SNP_GET_DERIVED_KEY, &req, &rsp, e, &vmm) != 0) {
		ci_fail(e, CINFER_E_IO, STAGE, "SNP_GET_DERIVED_KEY failed");
		goto out;
	}
	/* MSG_KEY_RSP: status, reserved to 0x20, then the 32-byte key. */
	ci_rd_init(&rd, rsp.data, sizeof(rsp.data));
	ci_rd_u32le(&rd, &status);
	ci_rd_skip(&rd, KEY_RSP_HDR - 4);
	if (status != 0) {
		ci_fail(e, CINFER_E_IO, STAGE, "firmware refused the key (status 0x%x)", status);
		goto out;
	}
	if (ci_rd_copy(&rd, key, CINFER_SNP_DERIVED_KEY_SIZE) != 0) {
		ci_fail(e, CINFER_E_INTERNAL, STAGE, "key response layout");
		goto out;
	}
	rc = 0;
out:
	ci_wipe(&rsp, sizeof(rsp));
	close(fd);
	return rc;
}
