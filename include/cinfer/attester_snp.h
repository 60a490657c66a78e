/*
 * cinfer SEV-SNP attester: producing evidence inside an SNP guest, through
 * configfs-tsm (/sys/kernel/config/tsm/report) or /dev/sev-guest, and
 * measurement-bound sealing keys (SNP_GET_DERIVED_KEY). Also platform
 * auto-detection for every attester.
 */
#ifndef CINFER_ATTESTER_SNP_H
#define CINFER_ATTESTER_SNP_H

#include <stdint.h>

#include "cinfer/err.h"
#include "cinfer/evidence.h"

#ifdef __cplusplus
extern "C" {
#endif

enum cinfer_snp_backend {
	CINFER_SNP_BACKEND_AUTO = 0,	/* configfs-tsm if present, else /dev/sev-guest */
	CINFER_SNP_BACKEND_TSM,
	CINFER_SNP_BACKEND_IOCTL,
};

struct cinfer_snp_attest_opts {
	enum cinfer_snp_backend backend;
	uint32_t vmpl;			/* VMPL to report at, 0-3 (configfs: privlevel) */
	const char *tsm_root;		/* NULL: $CINFER_TSM_ROOT or the kernel's */
	const char *sev_guest;		/* NULL: $CINFER_SEV_GUEST or /dev/sev-guest */
	int no_certs;			/* ioctl: plain SNP_GET_REPORT, no cert table */
};

/*
 * Asks the platform for a report binding report_data and returns it as an
 * evidence envelope: evidence = the raw report; certs = the VCEK or VLEK
 * (and ASK) from the host's certificate table when it has one; collateral
 * "cert_table" = that table as given. Checks that the report carries the
 * requested report_data and VMPL. ev is initialised here (clear it with
 * cinfer_evidence_clear). 0 or -1.
 */
int cinfer_snp_attest(const uint8_t report_data[64], const struct cinfer_snp_attest_opts *o,
    struct cinfer_evidence *ev, struct cinfer_err *e) __attribute__((warn_unused_result));

/* GUEST_FIELD_SELECT bits of MSG_KEY_REQ: what the derived key is bound to. */
#define CINFER_SNP_KEY_GUEST_POLICY (1u << 0)
#define CINFER_SNP_KEY_IMAGE_ID (1u << 1)
#define CINFER_SNP_KEY_FAMILY_ID (1u << 2)
#define CINFER_SNP_KEY_MEASUREMENT (1u << 3)
#define CINFER_SNP_KEY_GUEST_SVN (1u << 4)
#define CINFER_SNP_KEY_TCB_VERSION (1u << 5)

struct cinfer_snp_key_opts {
	const char *sev_guest;		/* NULL: $CINFER_SEV_GUEST or /dev/sev-guest */
	int use_vmrk;			/* root key: 0 the VCEK, 1 the VM root key */
	uint64_t field_select;		/* 0: MEASUREMENT | GUEST_POLICY */
	uint32_t vmpl;			/* must be >= the caller's VMPL */
	uint32_t guest_svn;		/* used if GUEST_SVN is selected */
	uint64_t tcb_version;		/* used if TCB_VERSION is selected */
};

#define CINFER_SNP_DERIVED_KEY_SIZE 32

/* SNP_GET_DERIVED_KEY: a 32-byte key only this guest (as selected) can
 * derive again; wipe it after use. 0 or -1. */
int cinfer_snp_derived_key(const struct cinfer_snp_key_opts *o,
    uint8_t key[CINFER_SNP_DERIVED_KEY_SIZE], struct cinfer_err *e)
    __attribute__((warn_unused_result));

/* ---- platform auto-detection (src/attester/detect.c) ----------------- */

struct cinfer_detect_opts {
	const char *dev_dir;		/* NULL: $CINFER_DEV_DIR or "/dev" */
	const char *tsm_root;		/* NULL: $CINFER_TSM_ROOT or the kernel's */
};

/*
 * Which TEE this process runs in: SNP (/dev/sev-guest or configfs-tsm
 * provider sev_guest), TDX (/dev/tdx_guest or tdx_guest), Nitro (/dev/nsm),
 * CCA (configfs-tsm provider arm_cca_guest). CINFER_PLATFORM_NONE if none;
 * never SIM (that is the caller's explicit choice).
 */
enum cinfer_platform cinfer_attester_detect(const struct cinfer_detect_opts *o);

#ifdef __cplusplus
}
#endif
#endif
