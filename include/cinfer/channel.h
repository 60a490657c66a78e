/*
 * cinfer channel: attested TLS 1.3. The server's certificate carries its
 * evidence and its receipt-signing public key; the evidence's report_data
 * binds both keys. A client accepts the handshake only if the evidence is
 * authentic AND its own pinned policy accepts it, so no input is sent to
 * anything else.
 */
#ifndef CINFER_CHANNEL_H
#define CINFER_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "cinfer/err.h"
#include "cinfer/evidence.h"
#include "cinfer/policy.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * X.509 extensions of an attested certificate. The evidence rides in the
 * TCG DICE conceptual-message-wrapper extension as a JSON CMW record
 * ["application/vnd.cinfer.evidence+json", base64url(envelope)]; the receipt
 * key sits in a cinfer extension as a DER SubjectPublicKeyInfo.
 */
#define CINFER_OID_CMW "2.23.133.5.4.9"
/* 2.25.<UUID 8124343e-b8ac-4c67-bf0b-736a6078b30b>: an OID needing no registry (X.667). */
#define CINFER_OID_RECEIPT_KEY "2.25.171658393797760405032203954836047704843"
#define CINFER_CMW_TYPE "application/vnd.cinfer.evidence+json"

/* Binding contexts: report_data never mixes purposes. */
#define CINFER_BIND_TLS "cinfer tls v1"
#define CINFER_BIND_KBS "cinfer kbs v1"
#define CINFER_BIND_RECEIPT "cinfer receipt v1"

/*
 * report_data = SHA-512(context || 0x00 || be32(nonce_size) || nonce ||
 *                       SHA-256(SPKI of key[0]) || SHA-256(SPKI of key[1]) ...)
 * keys may be NULL-terminated list of public (or private) keys.
 */
int cinfer_bind_report_data(const char *context, const uint8_t *nonce, size_t nonce_size,
    EVP_PKEY *const *keys, uint8_t out[64], struct cinfer_err *e);

/* The same, from the keys' SPKI SHA-256 hashes (for offline checks). */
int cinfer_bind_report_data_hashed(const char *context, const uint8_t *nonce, size_t nonce_size,
    const uint8_t (*key_hashes)[32], size_t count, uint8_t out[64], struct cinfer_err *e);

/* Builds a self-signed attested certificate for tls_key. Returns new X509. */
X509 *cinfer_ratls_cert_new(EVP_PKEY *tls_key, EVP_PKEY *receipt_key,
    const struct cinfer_evidence *ev, int64_t now, struct cinfer_err *e);

/* Pulls the evidence and receipt key out of a certificate. */
int cinfer_ratls_cert_parse(X509 *cert, struct cinfer_evidence *ev, EVP_PKEY **receipt_key,
    struct cinfer_err *e) __attribute__((warn_unused_result));

/* What a client checks, and what it found. */
struct cinfer_ratls_verifier {
	const struct cinfer_policy *policy;	/* required: verify-before-send */
	struct cinfer_verify_opts opts;
	/* results, filled during the handshake */
	int done;
	int accepted;
	struct cinfer_err err;			/* authenticity failure, if any */
	struct cinfer_claims claims;
	struct cinfer_decision decision;
	EVP_PKEY *receipt_key;			/* new ref when accepted; free with EVP_PKEY_free */
	EVP_PKEY *tls_key;			/* the server certificate's key, likewise */
	char *evidence_json;			/* the certificate's evidence envelope (free()) */
	uint8_t cert_sha256[32];
};

/*
 * Checks an attested certificate: evidence authentic at opts.at (or now),
 * report_data == binding of (the cert's key, the receipt key), policy accepts.
 * Returns 0 if accepted; the verifier holds the claims and every reason.
 */
int cinfer_ratls_verify_cert(X509 *cert, struct cinfer_ratls_verifier *v);

/* Installs the check as the SSL_CTX's certificate verification (client side). */
void cinfer_ratls_ctx_set_verifier(SSL_CTX *ctx, struct cinfer_ratls_verifier *v);
void cinfer_ratls_verifier_clear(struct cinfer_ratls_verifier *v);

#ifdef __cplusplus
}
#endif
#endif
