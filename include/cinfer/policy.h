/*
 * cinfer policy: a versioned JSON document that says which evidence is
 * acceptable. Evaluation never stops at the first problem: it returns the
 * decision and every reason, each as a stable machine code plus plain text.
 * docs/policy.md is the reference for the document and the codes.
 */
#ifndef CINFER_POLICY_H
#define CINFER_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "cinfer/err.h"
#include "cinfer/evidence.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CINFER_POLICY_MAX_SIZE (1u << 20)
#define CINFER_REASONS_MAX 48

struct cinfer_policy;	/* opaque, immutable after parse: thread-safe: yes */

/* Parses and validates; errors name line and column, or the unknown field. */
int cinfer_policy_parse(const void *json, size_t size, struct cinfer_policy **out,
    struct cinfer_err *e) __attribute__((warn_unused_result));
int cinfer_policy_load(const char *path, struct cinfer_policy **out, struct cinfer_err *e)
    __attribute__((warn_unused_result));
void cinfer_policy_free(struct cinfer_policy *p);	/* NULL is a no-op */

const char *cinfer_policy_id(const struct cinfer_policy *p);
int64_t cinfer_policy_revision(const struct cinfer_policy *p);
/* SHA-256 of the policy document's bytes as given. */
void cinfer_policy_digest(const struct cinfer_policy *p, uint8_t out[32]);
/* 1 if the policy requires report_data binding. */
int cinfer_policy_requires_binding(const struct cinfer_policy *p);

struct cinfer_reason {
	char code[40];		/* stable: "measurement_not_pinned", ... */
	char text[224];		/* plain words for people */
	int ok;			/* 1: a check that passed; 0: a reason to reject */
};

struct cinfer_decision {
	int accepted;
	struct cinfer_reason reasons[CINFER_REASONS_MAX];
	size_t reason_count;
};

struct cinfer_policy_input {
	const struct cinfer_claims *claims;	/* one per evidence item (all_of: several) */
	size_t claims_count;
	int64_t at;				/* evaluation time; 0: now */
	/* What report_data must be (e.g. SHA-512 over context, nonce, key); NULL: not checked. */
	const uint8_t *expected_report_data;
	size_t expected_report_data_size;
	/* When the freshness nonce bound into report_data was issued; 0: unknown. */
	int64_t nonce_issued_at;
	/*
	 * 1 when this evidence proves identity only and freshness is checked on
	 * other, nonce-bound evidence right after (attested TLS: the certificate's
	 * boot evidence, then /v1/attestation). The age check then defers.
	 */
	int freshness_checked_elsewhere;
};

/*
 * Evaluates. Returns 0 with d filled (accepted or not), -1 only on misuse.
 * Rejections come first in d->reasons, then the checks that passed.
 */
int cinfer_policy_eval(const struct cinfer_policy *p, const struct cinfer_policy_input *in,
    struct cinfer_decision *d, struct cinfer_err *e);

#ifdef __cplusplus
}
#endif
#endif
