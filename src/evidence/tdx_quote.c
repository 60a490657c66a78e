/* Intel TDX quote v4/v5 parser: bounds-checked walk with ci_rd, no allocation. */
#include <string.h>

#include "evidence/tdx_quote.h"

#define STAGE "evidence.tdx.parse"

const uint8_t ci_tdx_intel_qe_vendor_id[16] = {
	0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
	0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07,
};

int
ci_sgx_report_parse(struct ci_sgx_report *r, const uint8_t *p, size_t size,
    struct cinfer_err *e)
{
	struct ci_rd rd;

	memset(r, 0, sizeof(*r));
	if (size != CI_SGX_REPORT_SIZE)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "QE report is %zu bytes, want %u",
		    size, CI_SGX_REPORT_SIZE);
	ci_rd_init(&rd, p, size);
	r->raw = p;
	ci_rd_bytes(&rd, 16, &r->cpusvn);
	ci_rd_u32le(&rd, &r->miscselect);
	ci_rd_skip(&rd, 28);
	ci_rd_bytes(&rd, 16, &r->attributes);
	ci_rd_bytes(&rd, 32, &r->mrenclave);
	ci_rd_skip(&rd, 32);
	ci_rd_bytes(&rd, 32, &r->mrsigner);
	ci_rd_skip(&rd, 96);
	ci_rd_u16le(&rd, &r->isvprodid);
	ci_rd_u16le(&rd, &r->isvsvn);
	ci_rd_skip(&rd, 60);
	ci_rd_bytes(&rd, 64, &r->report_data);
	if (ci_rd_done(&rd) != 0)
		return ci_fail(e, CINFER_E_INTERNAL, STAGE, "QE report layout");
	return 0;
}

static int
parse_body(struct ci_rd *r, uint16_t type, struct ci_tdx_body *b)
{
	ci_rd_bytes(r, 16, &b->tee_tcb_svn);
	ci_rd_bytes(r, 48, &b->mrseam);
	ci_rd_bytes(r, 48, &b->mrsignerseam);
	ci_rd_bytes(r, 8, &b->seam_attributes);
	ci_rd_bytes(r, 8, &b->td_attributes);
	ci_rd_bytes(r, 8, &b->xfam);
	ci_rd_bytes(r, 48, &b->mrtd);
	ci_rd_bytes(r, 48, &b->mrconfigid);
	ci_rd_bytes(r, 48, &b->mrowner);
	ci_rd_bytes(r, 48, &b->mrownerconfig);
	for (int i = 0; i < 4; i++)
		ci_rd_bytes(r, 48, &b->rtmr[i]);
	ci_rd_bytes(r, 64, &b->report_data);
	if (type == CI_TDX_BODY_TD15) {
		ci_rd_bytes(r, 16, &b->tee_tcb_svn2);
		ci_rd_bytes(r, 48, &b->mrservicetd);
	}
	return r->bad ? -1 : 0;
}

/* QE report certification data (type 6): QE report, its signature, auth data, PCK cert data. */
static int
parse_qe_cert_data(struct ci_rd *r, struct ci_tdx_quote *q, struct cinfer_err *e)
{
	const uint8_t *rep = NULL;
	uint16_t auth_size = 0;
	uint32_t csize = 0;

	ci_rd_bytes(r, CI_SGX_REPORT_SIZE, &rep);
	ci_rd_bytes(r, CI_TDX_SIG_SIZE, &q->qe_sig);
	ci_rd_u16le(r, &auth_size);
	if (r->bad)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "truncated QE report certification data");
	if (auth_size > CI_TDX_AUTH_DATA_MAX)
		return ci_fail(e, CINFER_E_LIMIT, STAGE, "QE auth data of %u bytes", auth_size);
	ci_rd_bytes(r, auth_size, &q->auth_data);
	q->auth_data_size = auth_size;
	ci_rd_u16le(r, &q->cert_type);
	ci_rd_u32le(r, &csize);
	if (r->bad)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "truncated QE auth data");
	if (csize > r->left)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE,
		    "PCK certification data of %u bytes overruns the quote (%zu left)", csize, r->left);
	ci_rd_bytes(r, csize, &q->cert_data);
	q->cert_data_size = csize;
	if (ci_rd_done(r) != 0)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE,
		    "%zu unexpected bytes after the PCK certification data", r->left);
	if (q->cert_type < CI_TDX_CERT_PPID_CLEAR || q->cert_type > CI_TDX_CERT_PLATFORM_MANIFEST ||
	    q->cert_type == CI_TDX_CERT_QE_REPORT)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "bad PCK certification data type %u",
		    q->cert_type);
	return ci_sgx_report_parse(&q->qe, rep, CI_SGX_REPORT_SIZE, e);
}

int
ci_tdx_quote_parse(struct ci_tdx_quote *q, const uint8_t *p, size_t size, struct cinfer_err *e)
{
	struct ci_rd r, sig, cd;
	uint16_t r16;
	uint32_t body_size = 0, sig_size = 0, cd_size = 0;
	uint16_t cd_type = 0;

	memset(q, 0, sizeof(*q));
	ci_rd_init(&r, p, size);
	ci_rd_u16le(&r, &q->version);
	ci_rd_u16le(&r, &q->att_key_type);
	ci_rd_u32le(&r, &q->tee_type);
	ci_rd_u16le(&r, &r16);	/* reserved */
	ci_rd_u16le(&r, &r16);	/* reserved */
	ci_rd_bytes(&r, 16, &q->qe_vendor_id);
	ci_rd_bytes(&r, 20, &q->user_data);
	if (r.bad)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "quote of %zu bytes is shorter than its header",
		    size);
	if (q->version != 4 && q->version != 5)
		return ci_fail(e, CINFER_E_UNSUPPORTED, STAGE, "quote version %u (want 4 or 5)",
		    q->version);
	if (q->tee_type != CI_TDX_TEE_TYPE)
		return ci_fail(e, CINFER_E_UNSUPPORTED, STAGE, "TEE type 0x%x is not TDX", q->tee_type);
	if (q->att_key_type != CI_TDX_ATT_KEY_ECDSA_P256)
		return ci_fail(e, CINFER_E_UNSUPPORTED, STAGE, "attestation key type %u (want 2, P-256)",
		    q->att_key_type);
	if (q->version == 4) {
		q->body_type = CI_TDX_BODY_TD10;
		body_size = CI_TDX_BODY10_SIZE;
	} else {
		ci_rd_u16le(&r, &q->body_type);
		ci_rd_u32le(&r, &body_size);
		if (r.bad)
			return ci_fail(e, CINFER_E_MALFORMED, STAGE, "truncated v5 body descriptor");
		if (q->body_type == CI_TDX_BODY_TD10 && body_size == CI_TDX_BODY10_SIZE)
			;
		else if (q->body_type == CI_TDX_BODY_TD15 && body_size == CI_TDX_BODY15_SIZE)
			;
		else
			return ci_fail(e, CINFER_E_MALFORMED, STAGE,
			    "v5 body type %u with size %u (want 2/584 or 3/648)", q->body_type, body_size);
	}
	if (parse_body(&r, q->body_type, &q->body) != 0)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "truncated TD report body");
	q->signed_p = p;
	q->signed_size = size - r.left;

	ci_rd_u32le(&r, &sig_size);
	if (r.bad)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "missing signature data length");
	if (sig_size > CI_TDX_SIG_DATA_MAX)
		return ci_fail(e, CINFER_E_LIMIT, STAGE, "signature data of %u bytes", sig_size);
	if (sig_size > r.left)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE,
		    "signature data of %u bytes overruns the quote (%zu left)", sig_size, r.left);
	ci_rd_sub(&r, sig_size, &sig);
	q->quote_size = size - r.left;
	q->trailing_size = r.left;

	ci_rd_bytes(&sig, CI_TDX_SIG_SIZE, &q->sig);
	ci_rd_bytes(&sig, CI_TDX_ATT_KEY_SIZE, &q->att_key);
	ci_rd_u16le(&sig, &cd_type);
	ci_rd_u32le(&sig, &cd_size);
	if (sig.bad)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "truncated signature data");
	if (cd_type != CI_TDX_CERT_QE_REPORT)
		return ci_fail(e, CINFER_E_UNSUPPORTED, STAGE,
		    "certification data type %u (want 6, QE report)", cd_type);
	if (cd_size != sig.left)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE,
		    "certification data of %u bytes, signature data has %zu left", cd_size, sig.left);
	ci_rd_sub(&sig, cd_size, &cd);
	return parse_qe_cert_data(&cd, q, e);
}
