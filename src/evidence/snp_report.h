/* SEV-SNP ATTESTATION_REPORT (versions 2, 3 and 5): layout and parser. */
#ifndef CI_SNP_REPORT_H
#define CI_SNP_REPORT_H

#include "core/ci.h"

#define CI_SNP_REPORT_SIZE 0x4A0
#define CI_SNP_SIGNED_SIZE 0x2A0	/* bytes covered by the signature */
#define CI_SNP_SIG_COMP_SIZE 72		/* r and s, little-endian, zero-padded */

/* GUEST POLICY bits. */
#define CI_SNP_POLICY_SMT (1ull << 16)
#define CI_SNP_POLICY_RESERVED1 (1ull << 17)
#define CI_SNP_POLICY_MIGRATE_MA (1ull << 18)
#define CI_SNP_POLICY_DEBUG (1ull << 19)
#define CI_SNP_POLICY_SINGLE_SOCKET (1ull << 20)

/* SIGNING_KEY field (bits 4:2 of the key info word). */
enum ci_snp_signing_key { CI_SNP_KEY_VCEK = 0, CI_SNP_KEY_VLEK = 1, CI_SNP_KEY_NONE = 7 };

/* A TCB_VERSION split into its SPLs; the byte layout differs on Turin. */
struct ci_snp_tcb {
	uint64_t raw;
	uint8_t fmc;		/* Turin only; 0 otherwise */
	uint8_t bootloader;
	uint8_t tee;
	uint8_t snp;
	uint8_t microcode;
};

struct ci_snp_report {
	uint32_t version;
	uint32_t guest_svn;
	uint64_t policy;
	uint8_t family_id[16];
	uint8_t image_id[16];
	uint32_t vmpl;
	uint32_t sig_algo;
	struct ci_snp_tcb current_tcb;
	uint64_t platform_info;
	uint32_t key_info;		/* author_key_en, mask_chip_key, signing_key */
	int author_key_en;
	int mask_chip_key;
	enum ci_snp_signing_key signing_key;
	uint8_t report_data[64];
	uint8_t measurement[48];
	uint8_t host_data[32];
	uint8_t id_key_digest[48];
	uint8_t author_key_digest[48];
	uint8_t report_id[32];
	uint8_t report_id_ma[32];
	struct ci_snp_tcb reported_tcb;
	uint8_t cpuid_fam_id;		/* v3+; 0 in v2 */
	uint8_t cpuid_mod_id;
	uint8_t cpuid_step;
	int turin;			/* family 1Ah: Turin TCB layout, 8-byte chip id */
	uint8_t chip_id[64];
	struct ci_snp_tcb committed_tcb;
	uint8_t current_build, current_minor, current_major;
	uint8_t committed_build, committed_minor, committed_major;
	struct ci_snp_tcb launch_tcb;
	uint64_t launch_mit_vector;	/* v5+ */
	uint64_t current_mit_vector;	/* v5+ */
	uint8_t sig_r[CI_SNP_SIG_COMP_SIZE];	/* little-endian as in the report */
	uint8_t sig_s[CI_SNP_SIG_COMP_SIZE];
	const uint8_t *signed_part;	/* borrowed: the first 0x2A0 bytes */
};

/* Parses a report; the buffer must outlive r (signed_part borrows it). */
CI_MUST_CHECK int ci_snp_report_parse(struct ci_snp_report *r, const uint8_t *p,
    size_t size, struct cinfer_err *e);

/* Decodes a raw TCB_VERSION for the given layout. */
void ci_snp_tcb_decode(uint64_t raw, int turin, struct ci_snp_tcb *t);
/* Encodes SPLs back into a raw TCB_VERSION. */
uint64_t ci_snp_tcb_encode(const struct ci_snp_tcb *t, int turin);

struct cinfer_claims;
/* Fills the normalized claims every SNP-shaped report carries. */
void ci_snp_report_claims(const struct ci_snp_report *r, struct cinfer_claims *c);
/* Signed part's signature as big-endian r||s of 48 bytes each. */
void ci_snp_report_sig_be(const struct ci_snp_report *r, uint8_t r_be[48], uint8_t s_be[48]);

#endif
