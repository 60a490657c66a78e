/*
 * cinfer key broker protocol facts shared by the broker (cinfer-kbs), its
 * client (kbs_client.h) and anyone writing another client. docs/kbs.md is
 * the reference.
 *
 * The protocol is Trustee's Request-Challenge-Attestation-Response:
 *   POST /kbs/v0/auth      {"version","tee","extra-params"} -> {"nonce","extra-params"}
 *                          + Set-Cookie: kbs-session-id=...
 *   POST /kbs/v0/attest    {"runtime-data":{"nonce","tee-pubkey":JWK},"tee-evidence":{...}}
 *                          -> {"token": JWT}
 *   GET  /kbs/v0/resource/<repo>/<type>/<tag>[?version=N] -> JWE (flattened JSON)
 */
#ifndef CINFER_KBS_H
#define CINFER_KBS_H

#include <stddef.h>
#include <stdint.h>

#include "cinfer/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CINFER_KBS_PROTOCOL_VERSION "0.1.0"
#define CINFER_KBS_COOKIE "kbs-session-id"
#define CINFER_KBS_BIND_CONTEXT "cinfer kbs v1"	/* = CINFER_BIND_KBS of channel.h */
#define CINFER_KBS_NAME_MAX 64	/* repo, type and tag: [A-Za-z0-9._-]{1,64} */
#define CINFER_KBS_MODEL_REPO "cinfer"
#define CINFER_KBS_MODEL_TYPE "model-key"

/*
 * The report_data the evidence must carry, in the framing of
 * cinfer_bind_report_data (channel.h) with context CINFER_BIND_KBS:
 *   SHA-512("cinfer kbs v1" || 0x00 || be32(len(nonce)) || nonce ||
 *           SHA-256(runtime_data))
 * where nonce is the challenge string as sent (its ASCII bytes) and
 * runtime_data the canonical JSON of {"nonce","tee-pubkey"} (sorted keys,
 * no spaces, as produced by cinfer_kbs_runtime_data).
 */
void cinfer_kbs_report_data(const char *nonce, const char *runtime_data,
    size_t runtime_data_size, uint8_t out[64]);

/*
 * Builds the canonical runtime-data JSON for a nonce and a public JWK
 * given as JSON text. Returns a new string (free with free()), or NULL.
 */
char *cinfer_kbs_runtime_data(const char *nonce, const char *tee_pubkey_jwk,
    struct cinfer_err *e);

#ifdef __cplusplus
}
#endif
#endif
