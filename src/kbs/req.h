/*
 * Parsers for every request body and path the broker accepts. Pure (no
 * SQLite, no libevent) so that fuzz/kbs_request.c can drive them.
 */
#ifndef CI_KBS_REQ_H
#define CI_KBS_REQ_H

#include <openssl/evp.h>

#include "cinfer/evidence.h"
#include "cinfer/kbs.h"
#include "core/ci.h"

#define KBS_STAGE_REQ "kbs.request"
#define KBS_NONCE_MAX 128

struct kbs_auth_req {
	char version[16];
	char tee[32];
};

struct kbs_attest_req {
	char nonce[KBS_NONCE_MAX + 1];
	EVP_PKEY *tee_pubkey;
	char *tee_pubkey_jwk;		/* canonical JSON text of the JWK */
	char *runtime_data;		/* canonical JSON text of runtime-data */
	struct cinfer_evidence ev;
};

struct kbs_path {
	char repo[CINFER_KBS_NAME_MAX + 1];
	char type[CINFER_KBS_NAME_MAX + 1];
	char tag[CINFER_KBS_NAME_MAX + 1];
	char full[3 * (CINFER_KBS_NAME_MAX + 1)];	/* "repo/type/tag" */
};

struct kbs_rotate_req {
	int64_t drain_seconds;		/* -1: the configured default */
	uint8_t *value;			/* NULL: a fresh random 32-byte key */
	size_t value_size;
};

struct kbs_revoke_req {
	uint8_t measurement[CINFER_MEAS_SIZE_MAX];
	size_t measurement_size;
	char reason[128];
};

CI_MUST_CHECK int kbs_req_auth(const void *p, size_t size, struct kbs_auth_req *out,
    struct cinfer_err *e);
CI_MUST_CHECK int kbs_req_attest(const void *p, size_t size, struct kbs_attest_req *out,
    struct cinfer_err *e);
void kbs_attest_req_clear(struct kbs_attest_req *r);
/* rest: "repo/type/tag" (no leading slash). */
CI_MUST_CHECK int kbs_req_path(const char *rest, struct kbs_path *out, struct cinfer_err *e);
CI_MUST_CHECK int kbs_req_rotate(const void *p, size_t size, struct kbs_rotate_req *out,
    struct cinfer_err *e);
void kbs_rotate_req_clear(struct kbs_rotate_req *r);
CI_MUST_CHECK int kbs_req_revoke(const void *p, size_t size, struct kbs_revoke_req *out,
    struct cinfer_err *e);
/* Query "version=N" (or empty): *version = 0 when absent. */
CI_MUST_CHECK int kbs_req_version_query(const char *query, uint32_t *version,
    struct cinfer_err *e);
/* Finds "kbs-session-id=" in a Cookie header; copies at most cap-1 chars. */
int kbs_req_cookie(const char *header, char *out, size_t cap);

#endif
