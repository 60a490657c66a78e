/*
 * Arm CCA attestation tokens: CBOR tag 399 wrapping a map
 * {44234: platform token, 44241: realm token}, each a byte string holding
 * a COSE_Sign1. The realm token is signed by the Realm Attestation Key
 * (RAK) given in its own claims; the platform token by the CCA Platform
 * Attestation Key (IAK/CPAK) and its challenge is the hash of the RAK.
 * Internal to libcinfer.
 */
#ifndef CI_CCA_H
#define CI_CCA_H

#include "crypto/cose.h"
#include "evidence/evidence_int.h"

#define CI_CCA_TOKEN_MAX (64u << 10)
#define CI_CCA_TAG_COLLECTION 399
#define CI_CCA_KEY_PLATFORM 44234
#define CI_CCA_KEY_REALM 44241
#define CI_CCA_SW_MAX 32
#define CI_CCA_REM_COUNT 4

/* Platform claim keys (CCA Security Domain profile). */
#define CI_CCA_P_PROFILE 265
#define CI_CCA_P_CHALLENGE 10
#define CI_CCA_P_IMPL_ID 2396
#define CI_CCA_P_INSTANCE_ID 256
#define CI_CCA_P_CONFIG 2401
#define CI_CCA_P_LIFECYCLE 2395
#define CI_CCA_P_SW_COMPONENTS 2399
#define CI_CCA_P_VERIFICATION_SERVICE 2400
#define CI_CCA_P_HASH_ALGO 2402
/* Realm claim keys (RMM specification). */
#define CI_CCA_R_CHALLENGE 10
#define CI_CCA_R_PROFILE 265
#define CI_CCA_R_PERSONALIZATION 44235
#define CI_CCA_R_HASH_ALGO 44236
#define CI_CCA_R_PUB_KEY 44237
#define CI_CCA_R_RIM 44238
#define CI_CCA_R_REM 44239
#define CI_CCA_R_PUB_KEY_HASH_ALGO 44240

struct ci_cca_bytes {
	const uint8_t *p;	/* borrowed; NULL if absent */
	size_t size;
};

struct ci_cca_sw {
	char type[48];		/* "" if absent */
	char version[48];
	char hash_alg[16];
	struct ci_cca_bytes measurement, signer_id;
};

struct ci_cca_platform {
	struct ci_cose_sign1 cose;
	cbor_item_t *claims;	/* owned */
	char profile[96];
	struct ci_cca_bytes challenge, impl_id, instance_id, config;
	uint64_t lifecycle;
	char hash_algo[16];
	char verification_service[128];	/* "" if absent */
	struct ci_cca_sw sw[CI_CCA_SW_MAX];
	size_t sw_count;
};

struct ci_cca_realm {
	struct ci_cose_sign1 cose;
	cbor_item_t *claims;	/* owned */
	char profile[96];	/* "" if absent (older tokens) */
	struct ci_cca_bytes challenge, personalization, rak, rim;
	struct ci_cca_bytes rem[CI_CCA_REM_COUNT];
	char hash_algo[16];	/* measurement hash algorithm */
	char rak_hash_algo[16];
};

struct ci_cca_token {
	cbor_item_t *root;	/* owned: the collection map */
	struct ci_cca_platform plat;
	struct ci_cca_realm realm;
};

/* Parses the collection and both tokens' claims (no signature checked). */
CI_MUST_CHECK int ci_cca_token_parse(struct ci_cca_token *t, const uint8_t *p, size_t size,
    struct cinfer_err *e);
void ci_cca_token_clear(struct ci_cca_token *t);

/* "secured", "non-cca-platform-debug"... for a PSA/CCA lifecycle value. */
const char *ci_cca_lifecycle_name(uint64_t lifecycle);

/*
 * The platform verifier (ci_evidence_verify_fn). opts->cca_iak_pub (JWK or
 * PEM) is required. CCA tokens carry no time; `at` is not used.
 */
int ci_cca_verify(const struct cinfer_evidence *ev, const struct cinfer_verify_opts *opts,
    int64_t at, struct cinfer_claims *claims, struct cinfer_err *e);

#endif
