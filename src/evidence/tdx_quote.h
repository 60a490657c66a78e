/*
 * Intel TDX quote parsing (quote v4 and v5; TD report body 1.0 and 1.5).
 * Layout: Intel TDX DCAP Quoting Library API, appendix "Quote format".
 * Parsing only: every field is a borrowed view into the input buffer,
 * which must outlive the parsed struct. Nothing is allocated.
 */
#ifndef CI_TDX_QUOTE_H
#define CI_TDX_QUOTE_H

#include "core/ci.h"

#define CI_TDX_HEADER_SIZE 48
#define CI_TDX_BODY10_SIZE 584
#define CI_TDX_BODY15_SIZE 648
#define CI_SGX_REPORT_SIZE 384
#define CI_TDX_SIG_SIZE 64		/* ECDSA P-256 r || s */
#define CI_TDX_ATT_KEY_SIZE 64		/* P-256 point x || y */
#define CI_TDX_SIG_DATA_MAX (256u << 10)
#define CI_TDX_AUTH_DATA_MAX 4096

#define CI_TDX_TEE_TYPE 0x81u
#define CI_TDX_ATT_KEY_ECDSA_P256 2u
#define CI_TDX_BODY_TD10 2u
#define CI_TDX_BODY_TD15 3u

/* Certification data types (QE certification data). */
enum ci_tdx_cert_type {
	CI_TDX_CERT_PPID_CLEAR = 1,
	CI_TDX_CERT_PPID_RSA2048 = 2,
	CI_TDX_CERT_PPID_RSA3072 = 3,
	CI_TDX_CERT_PCK_LEAF = 4,
	CI_TDX_CERT_PCK_CHAIN = 5,
	CI_TDX_CERT_QE_REPORT = 6,
	CI_TDX_CERT_PLATFORM_MANIFEST = 7,
};

/* Intel's QE vendor id, 939a7233-f79c-4ca9-940a-0db3957f0607. */
extern const uint8_t ci_tdx_intel_qe_vendor_id[16];

/* TD report body (TDREPORT's TDINFO + TEE_TCB_INFO parts that the quote carries). */
struct ci_tdx_body {
	const uint8_t *tee_tcb_svn;	/* 16 */
	const uint8_t *mrseam;		/* 48 */
	const uint8_t *mrsignerseam;	/* 48 */
	const uint8_t *seam_attributes;	/* 8 */
	const uint8_t *td_attributes;	/* 8; bit 0 = DEBUG */
	const uint8_t *xfam;		/* 8 */
	const uint8_t *mrtd;		/* 48 */
	const uint8_t *mrconfigid;	/* 48 */
	const uint8_t *mrowner;		/* 48 */
	const uint8_t *mrownerconfig;	/* 48 */
	const uint8_t *rtmr[4];		/* 48 each */
	const uint8_t *report_data;	/* 64 */
	const uint8_t *tee_tcb_svn2;	/* 16; TD 1.5 only, else NULL */
	const uint8_t *mrservicetd;	/* 48; TD 1.5 only, else NULL */
};

/* An SGX enclave report body (the QE's report). */
struct ci_sgx_report {
	const uint8_t *raw;		/* all 384 bytes (the signed message) */
	const uint8_t *cpusvn;		/* 16 */
	uint32_t miscselect;
	const uint8_t *attributes;	/* 16 */
	const uint8_t *mrenclave;	/* 32 */
	const uint8_t *mrsigner;	/* 32 */
	uint16_t isvprodid;
	uint16_t isvsvn;
	const uint8_t *report_data;	/* 64 */
};

struct ci_tdx_quote {
	uint16_t version;		/* 4 or 5 */
	uint16_t att_key_type;
	uint32_t tee_type;
	const uint8_t *qe_vendor_id;	/* 16 */
	const uint8_t *user_data;	/* 20 */
	uint16_t body_type;		/* CI_TDX_BODY_TD10 or _TD15 */
	struct ci_tdx_body body;
	const uint8_t *signed_p;	/* header (+ v5 body descriptor) + body */
	size_t signed_size;
	const uint8_t *sig;		/* 64: attestation key's signature */
	const uint8_t *att_key;		/* 64: attestation public key */
	struct ci_sgx_report qe;
	const uint8_t *qe_sig;		/* 64: QE report signed by the PCK key */
	const uint8_t *auth_data;
	size_t auth_data_size;
	uint16_t cert_type;		/* inner certification data type */
	const uint8_t *cert_data;
	size_t cert_data_size;
	size_t quote_size;		/* bytes covered by the quote format */
	size_t trailing_size;		/* bytes after it in the buffer (ignored) */
};

/*
 * Parses a quote. Bytes after the end given by the signature data length
 * are tolerated (kernel buffers are bigger than the quote) and counted in
 * trailing_size; every nested element must be consumed exactly.
 */
CI_MUST_CHECK int ci_tdx_quote_parse(struct ci_tdx_quote *q, const uint8_t *p, size_t size,
    struct cinfer_err *e);

/* Parses a 384-byte SGX report body. */
CI_MUST_CHECK int ci_sgx_report_parse(struct ci_sgx_report *r, const uint8_t *p, size_t size,
    struct cinfer_err *e);

#endif
