/*
 * cinfer evidence: platform evidence in, normalized claims out.
 *
 * Every platform verifier (sim, snp, tdx, nitro, cca) checks authenticity
 * (signatures, certificate chains, revocation, collateral) at an explicit
 * time and fills one struct cinfer_claims. Judging the claims is the
 * policy engine's job (policy.h), never the verifier's.
 */
#ifndef CINFER_EVIDENCE_H
#define CINFER_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#include "cinfer/err.h"

#ifdef __cplusplus
extern "C" {
#endif

enum cinfer_platform {
	CINFER_PLATFORM_NONE = 0,
	CINFER_PLATFORM_SIM,
	CINFER_PLATFORM_SNP,
	CINFER_PLATFORM_TDX,
	CINFER_PLATFORM_NITRO,
	CINFER_PLATFORM_CCA,
	CINFER_PLATFORM_COUNT
};

/* "sim", "snp", "tdx", "nitro", "cca"; NULL for others. */
const char *cinfer_platform_name(enum cinfer_platform p);
/* CINFER_PLATFORM_NONE if unknown. */
enum cinfer_platform cinfer_platform_from_name(const char *name);

#define CINFER_MEAS_SIZE_MAX 64
#define CINFER_EXTRA_MEAS_MAX 24
#define CINFER_TCB_MAX 12
#define CINFER_DETAILS_MAX 48

/* A named measurement register: "rtmr0", "pcr4", "rem2", "mrseam"... */
struct cinfer_meas {
	char name[16];
	uint8_t value[CINFER_MEAS_SIZE_MAX];
	size_t size;
};

/* A named TCB component: "bootloader", "tee", "snp", "microcode", "fmc"... */
struct cinfer_tcb {
	char name[16];
	uint64_t value;
};

/* Any further platform claim, already rendered as text (hex for bytes). */
struct cinfer_detail {
	char name[32];
	char value[136];
};

struct cinfer_claims {
	enum cinfer_platform platform;
	int simulated;			/* 1 for the sim platform: never real hardware */
	/* Primary launch measurement: SNP MEASUREMENT, TDX MRTD, Nitro PCR0, CCA RIM. */
	uint8_t measurement[CINFER_MEAS_SIZE_MAX];
	size_t measurement_size;
	struct cinfer_meas extra[CINFER_EXTRA_MEAS_MAX];
	size_t extra_count;
	uint8_t report_data[64];	/* Nitro: user_data; CCA: realm challenge */
	size_t report_data_size;
	uint8_t host_data[64];		/* SNP HOST_DATA, TDX MRCONFIGID, Nitro nonce */
	size_t host_data_size;
	char signer[96];		/* who signed: "vcek:Milan", "pck", "nitro-root-g1"... */
	char tcb_status[40];		/* TDX: "UpToDate"...; others "" */
	int64_t tcb_date;		/* TDX: tcbDate of the selected level (0 unknown) */
	struct cinfer_tcb tcb[CINFER_TCB_MAX];
	size_t tcb_count;
	int debug;			/* 1 if the TEE allows a debugger */
	uint8_t chip_id[64];		/* SNP chip id, TDX FMSPC, Nitro module id hash */
	size_t chip_id_size;
	int64_t produced_at;		/* Unix seconds; 0 if the evidence has no time */
	struct cinfer_detail details[CINFER_DETAILS_MAX];
	size_t detail_count;
};

/* A cert, CRL or collateral item given alongside the evidence. */
struct cinfer_blob {
	char name[48];			/* collateral: "tcb_info", "qe_identity", "crl"... */
	uint8_t *data;
	size_t size;
};

#define CINFER_EVIDENCE_MAX_SIZE (1u << 20)
#define CINFER_BLOBS_MAX 16

/*
 * The JSON envelope {platform, evidence (base64), certs, collateral} in
 * memory. Owns every buffer: free with cinfer_evidence_clear.
 */
struct cinfer_evidence {
	enum cinfer_platform platform;
	uint8_t *evidence;
	size_t evidence_size;
	struct cinfer_blob certs[CINFER_BLOBS_MAX];	/* DER or PEM */
	size_t cert_count;
	struct cinfer_blob collateral[CINFER_BLOBS_MAX];
	size_t collateral_count;
};

/* Trust anchors and knobs for verification. */
struct cinfer_verify_opts {
	int64_t at;			/* verification time, Unix seconds (0: now) */
	const char *roots_dir;		/* vendor roots; NULL: the built-in data dir */
	const char *sim_dir;		/* sim root of trust made by `cinfer dev init` */
	const uint8_t *cca_iak_pub;	/* CCA: IAK public key, JWK or PEM bytes */
	size_t cca_iak_pub_size;
	/*
	 * TDX: accept collateral without PCK/root CRLs. Revocation is then
	 * unchecked: claims say so (detail "revocation": "unchecked") and a
	 * policy rejects it unless it sets allow_unchecked_revocation.
	 */
	int allow_no_crl_insecure;
};

void cinfer_evidence_init(struct cinfer_evidence *ev);
void cinfer_evidence_clear(struct cinfer_evidence *ev);

/* Parses the JSON envelope; returns 0 or -1. */
int cinfer_evidence_parse_json(struct cinfer_evidence *ev, const void *json, size_t size,
    struct cinfer_err *e) __attribute__((warn_unused_result));
/* Returns a new JSON string (free with free()); NULL on failure. */
char *cinfer_evidence_to_json(const struct cinfer_evidence *ev, struct cinfer_err *e);
/* Adds a copy of a cert or collateral item. */
int cinfer_evidence_add_cert(struct cinfer_evidence *ev, const void *p, size_t size,
    struct cinfer_err *e) __attribute__((warn_unused_result));
int cinfer_evidence_add_collateral(struct cinfer_evidence *ev, const char *name,
    const void *p, size_t size, struct cinfer_err *e) __attribute__((warn_unused_result));

/* Checks authenticity and fills claims. 0 authentic, -1 not (see e). */
int cinfer_evidence_verify(const struct cinfer_evidence *ev,
    const struct cinfer_verify_opts *opts, struct cinfer_claims *claims,
    struct cinfer_err *e) __attribute__((warn_unused_result));

/* Claim helpers for verifiers and printers. */
void cinfer_claims_init(struct cinfer_claims *c, enum cinfer_platform p);
int cinfer_claims_add_meas(struct cinfer_claims *c, const char *name, const void *v,
    size_t size);
int cinfer_claims_add_tcb(struct cinfer_claims *c, const char *name, uint64_t value);
int cinfer_claims_add_detail(struct cinfer_claims *c, const char *name, const char *value);
int cinfer_claims_add_detail_hex(struct cinfer_claims *c, const char *name,
    const void *v, size_t size);
const struct cinfer_meas *cinfer_claims_meas(const struct cinfer_claims *c, const char *name);
const char *cinfer_claims_detail(const struct cinfer_claims *c, const char *name);

#ifdef __cplusplus
}
#endif
#endif
