/*
 * Intel PCS collateral for TDX: TCB info (v3, id "TDX") and QE identity
 * (v2, id "TD_QE") JSON documents, and the TCB level selection that turns
 * them into a TCB status. Layout: Intel PCS API v4 documentation.
 *
 * Each document is {"tcbInfo"|"enclaveIdentity": {...}, "signature": hex},
 * where the signature (ECDSA P-256/SHA-256, r||s) covers the exact bytes
 * of the inner object as they appear in the document.
 */
#ifndef CI_INTEL_COLLATERAL_H
#define CI_INTEL_COLLATERAL_H

#include <jansson.h>

#include "core/ci.h"

#define CI_INTEL_COLLATERAL_MAX (1u << 20)
#define CI_INTEL_LEVELS_MAX 64
#define CI_INTEL_MODULES_MAX 8

enum ci_intel_tcb_status {
	CI_TCB_UP_TO_DATE = 0,
	CI_TCB_SW_HARDENING_NEEDED,
	CI_TCB_CONFIG_NEEDED,
	CI_TCB_CONFIG_AND_SW_HARDENING_NEEDED,
	CI_TCB_OUT_OF_DATE,
	CI_TCB_OUT_OF_DATE_CONFIG_NEEDED,
	CI_TCB_REVOKED,
	CI_TCB_STATUS_COUNT
};

/* Intel's exact strings: "UpToDate", "SWHardeningNeeded", ... */
const char *ci_intel_tcb_status_name(enum ci_intel_tcb_status s);

/* The signed part of a PCS document: borrowed view + decoded signature. */
struct ci_intel_signed {
	const uint8_t *body;
	size_t body_size;
	uint8_t sig[64];
};

/* Walks the top-level object {"<key>": {...}, "signature": "<128 hex>"}. */
CI_MUST_CHECK int ci_intel_signed_split(const uint8_t *p, size_t size, const char *key,
    struct ci_intel_signed *out, struct cinfer_err *e);

struct ci_intel_level {
	uint8_t sgx[16];		/* TCB info platform levels */
	uint16_t pcesvn;
	uint8_t tdx[16];
	uint16_t isvsvn;		/* QE identity and TDX module levels */
	int64_t date;
	enum ci_intel_tcb_status status;
	const json_t *advisories;	/* array of strings or NULL; borrowed from root */
};

struct ci_intel_module_id {
	char id[16];			/* "TDX_01"... */
	uint8_t mrsigner[48];
	uint8_t attributes[8];
	uint8_t attributes_mask[8];
	size_t level_count;
	struct ci_intel_level levels[CI_INTEL_LEVELS_MAX];
};

struct ci_intel_tcb_info {
	json_t *root;			/* owned */
	int64_t version;
	int64_t issue_date, next_update;
	int64_t eval_number;
	uint8_t fmspc[6];
	uint8_t pceid[2];
	int64_t tcb_type;
	int has_module;
	uint8_t module_mrsigner[48];
	uint8_t module_attributes[8];
	uint8_t module_attributes_mask[8];
	size_t module_count;
	struct ci_intel_module_id modules[CI_INTEL_MODULES_MAX];
	size_t level_count;
	struct ci_intel_level levels[CI_INTEL_LEVELS_MAX];
};

struct ci_intel_qe_identity {
	json_t *root;			/* owned */
	int64_t version;
	int64_t issue_date, next_update;
	int64_t eval_number;
	uint32_t miscselect, miscselect_mask;
	uint8_t attributes[16], attributes_mask[16];
	uint8_t mrsigner[32];
	uint16_t isvprodid;
	size_t level_count;
	struct ci_intel_level levels[CI_INTEL_LEVELS_MAX];
};

/* Parse the inner objects (the signed bodies). Clear with the _clear functions. */
CI_MUST_CHECK int ci_intel_tcb_info_parse(struct ci_intel_tcb_info *t, const uint8_t *p,
    size_t size, struct cinfer_err *e);
void ci_intel_tcb_info_clear(struct ci_intel_tcb_info *t);
CI_MUST_CHECK int ci_intel_qe_identity_parse(struct ci_intel_qe_identity *q, const uint8_t *p,
    size_t size, struct cinfer_err *e);
void ci_intel_qe_identity_clear(struct ci_intel_qe_identity *q);

/* What the TCB evaluation found. Level pointers borrow from the parsed documents. */
struct ci_tdx_tcb_eval {
	const struct ci_intel_level *platform;	/* matching TCB info level */
	const struct ci_intel_module_id *module;	/* NULL when none applies */
	const struct ci_intel_level *module_level;
	const struct ci_intel_level *qe;	/* matching QE identity level */
	enum ci_intel_tcb_status status;	/* converged */
	int64_t tcb_date;			/* earliest date among the matched levels */
};

/*
 * TDX TCB level selection (Intel QVL's TcbLevelCheck / TdxModuleCheck):
 * first platform level with every PCK SGX component SVN, the PCE SVN and
 * every TEE_TCB_SVN byte >= the level's (bytes 0-1 skipped when the TDX
 * module identity decides them); TDX module identity "TDX_%02X" of
 * TEE_TCB_SVN[1] (mrsignerseam and seam attributes must match), first
 * level with TEE_TCB_SVN[0] >= isvsvn; QE identity: mrsigner, isvprodid,
 * masked miscselect and attributes must match, first level with QE
 * isvsvn >= isvsvn. Statuses converge as QVL does.
 * Fails (stage "evidence.tdx.tcb") when no level matches or an identity
 * does not match; never fails for a status (Revoked included).
 */
CI_MUST_CHECK int ci_tdx_tcb_evaluate(const struct ci_intel_tcb_info *t,
    const struct ci_intel_qe_identity *qi, const uint8_t pck_comp_svn[16], uint16_t pck_pcesvn,
    const uint8_t tee_tcb_svn[16], const uint8_t mrsignerseam[48],
    const uint8_t seam_attributes[8], const uint8_t qe_mrsigner[32], uint16_t qe_isvprodid,
    uint16_t qe_isvsvn, uint32_t qe_miscselect, const uint8_t qe_attributes[16],
    struct ci_tdx_tcb_eval *out, struct cinfer_err *e);

#endif
