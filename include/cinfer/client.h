/*
 * cinfer client: talk to cinferd only after its evidence passes YOUR policy.
 * The check runs inside the TLS handshake; if it fails, the connection is
 * closed before a single byte of input leaves this process.
 */
#ifndef CINFER_CLIENT_H
#define CINFER_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "cinfer/channel.h"
#include "cinfer/err.h"
#include "cinfer/policy.h"

#ifdef __cplusplus
extern "C" {
#endif

struct cinfer_client;	/* one per server; thread-safe: no */

struct cinfer_client_opts {
	const char *url;			/* "https://127.0.0.1:8443" */
	const struct cinfer_policy *policy;	/* required */
	struct cinfer_verify_opts verify;	/* sim dir, roots, time */
	long timeout_ms;			/* 0: 30 s */
};

int cinfer_client_new(const struct cinfer_client_opts *o, struct cinfer_client **out,
    struct cinfer_err *e) __attribute__((warn_unused_result));
void cinfer_client_free(struct cinfer_client *c);

/*
 * Handshake (verifying the certificate's evidence against the policy), then
 * GET /v1/attestation with a fresh random nonce and verify that evidence too:
 * same policy, report_data binding the nonce and the handshake's keys.
 * Returns 0 when both pass. The verifier (claims, decision) stays readable.
 */
int cinfer_client_attest(struct cinfer_client *c, struct cinfer_err *e)
    __attribute__((warn_unused_result));
const struct cinfer_ratls_verifier *cinfer_client_verifier(const struct cinfer_client *c);

/* A request over the verified channel. Returns new body (free with free()). */
struct cinfer_response {
	long status;
	char *body;
	size_t body_size;
	char *receipt;		/* the Cinfer-Receipt header, if any (free()) */
};
/* headers: NULL or a NULL-terminated list of "Name: value" lines. */
int cinfer_client_request(struct cinfer_client *c, const char *method, const char *path,
    const char *content_type, const char *const *headers, const void *body, size_t size,
    struct cinfer_response *r, struct cinfer_err *e) __attribute__((warn_unused_result));
void cinfer_response_clear(struct cinfer_response *r);

#ifdef __cplusplus
}
#endif
#endif
