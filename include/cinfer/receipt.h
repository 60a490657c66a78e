/*
 * cinfer receipts: a JWS (ES256, compact) signed by the server's receipt
 * key, which the server's evidence binds. Anyone holding the receipt, the
 * evidence and a policy can check offline what ran on what.
 */
#ifndef CINFER_RECEIPT_H
#define CINFER_RECEIPT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "cinfer/err.h"
#include "cinfer/evidence.h"
#include "cinfer/policy.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CINFER_RECEIPT_MAX_SIZE (16u << 10)

struct cinfer_receipt {
	char session[40];		/* request id, hex */
	int64_t iat;			/* when the answer was made */
	enum cinfer_platform platform;
	int simulated;
	uint8_t measurement[CINFER_MEAS_SIZE_MAX];
	size_t measurement_size;
	char model_name[64];
	uint8_t model_sha256[32];
	uint8_t policy_sha256[32];	/* the broker policy that released the key; zero if none */
	uint8_t tls_key_sha256[32];	/* SHA-256 of the TLS key's SPKI (for the binding) */
	uint8_t client_nonce[32];
	uint8_t input_commitment[32];
	uint8_t output_commitment[32];
};

/* SHA-256("cinfer receipt v1 input|output" || 0x00 || nonce || bytes). */
void cinfer_receipt_commit(int output, const uint8_t nonce[32], const void *p, size_t size,
    uint8_t out[32]);

/* Returns a new compact JWS (free with free()). */
char *cinfer_receipt_sign(EVP_PKEY *receipt_key, const struct cinfer_receipt *r,
    struct cinfer_err *e);

/*
 * Verifies a receipt against the server's evidence: the JWS signature by the
 * key in its header, that key and the TLS key bound by the evidence's
 * report_data ("cinfer tls v1"), the evidence authentic and (if policy is
 * given) accepted, and the receipt's platform/measurement equal to the
 * evidence's. Fills r and d. Returns 0 if all holds.
 */
int cinfer_receipt_verify(const char *jws, size_t size, const struct cinfer_evidence *ev,
    const struct cinfer_policy *policy, const struct cinfer_verify_opts *opts,
    struct cinfer_receipt *r, struct cinfer_decision *d, struct cinfer_err *e)
    __attribute__((warn_unused_result));

#ifdef __cplusplus
}
#endif
#endif
