/*
 * cinfer key broker client (libcurl): the RCAR flow auth -> attest ->
 * resource against cinfer-kbs (or a Trustee KBS speaking the same
 * protocol), plus the admin calls `cinfer seal` needs. Evidence comes from
 * a callback, so any platform's attester plugs in. An object belongs to one
 * thread at a time.
 */
#ifndef CINFER_KBS_CLIENT_H
#define CINFER_KBS_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "cinfer/err.h"
#include "cinfer/kbs.h"
#include "cinfer/seal.h"

#ifdef __cplusplus
extern "C" {
#endif

struct cinfer_kbs_client;

struct cinfer_kbs_client_opts {
	const char *url;		/* "https://host:port" */
	const char *cacert;		/* PEM CA file; NULL: the system store */
	const char *admin_token;	/* for the admin calls; NULL: none */
	const char *tee;		/* "tee" field of auth; NULL: "sample" */
	long timeout_ms;		/* per request; 0: 30 s */
	int fresh_connection;		/* new TLS connection for every request */
};

/*
 * Produces evidence whose report_data is exactly report_data, as the JSON
 * envelope of evidence.h. *json: new string, freed by the client with free().
 */
typedef int (*cinfer_kbs_evidence_fn)(const uint8_t report_data[64], void *arg,
    char **json, struct cinfer_err *e);

int cinfer_kbs_client_new(const struct cinfer_kbs_client_opts *o,
    struct cinfer_kbs_client **out, struct cinfer_err *e) __attribute__((warn_unused_result));
void cinfer_kbs_client_free(struct cinfer_kbs_client *c);	/* NULL is a no-op */

/*
 * auth + attest with a fresh ephemeral P-256 key. token: if non-NULL, the
 * broker's attestation token (new string, free()). On refusal the error
 * (code POLICY) carries the broker's reasons.
 */
int cinfer_kbs_attest(struct cinfer_kbs_client *c, cinfer_kbs_evidence_fn evidence, void *arg,
    char **token, struct cinfer_err *e) __attribute__((warn_unused_result));

/* GET /kbs/v0/resource/<path>[?version=N] and decrypts the JWE into out. */
int cinfer_kbs_get_resource(struct cinfer_kbs_client *c, const char *path, uint32_t version,
    uint8_t *out, size_t cap, size_t *out_size, uint32_t *got_version, struct cinfer_err *e)
    __attribute__((warn_unused_result));

/* Admin: store a new version of a resource; returns its version. */
int cinfer_kbs_admin_put(struct cinfer_kbs_client *c, const char *path, const void *value,
    size_t size, uint32_t *version, struct cinfer_err *e) __attribute__((warn_unused_result));
int cinfer_kbs_admin_rotate(struct cinfer_kbs_client *c, const char *path, int64_t drain_seconds,
    uint32_t *version, struct cinfer_err *e) __attribute__((warn_unused_result));
int cinfer_kbs_admin_set_policy(struct cinfer_kbs_client *c, const void *doc, size_t size,
    struct cinfer_err *e) __attribute__((warn_unused_result));
int cinfer_kbs_admin_revoke(struct cinfer_kbs_client *c, const char *measurement_hex,
    const char *reason, struct cinfer_err *e) __attribute__((warn_unused_result));

/*
 * Any request (method "GET", "POST", ...; path from the root). admin: send
 * the admin token. *resp: new NUL-terminated body (free()); *status: HTTP.
 */
int cinfer_kbs_request(struct cinfer_kbs_client *c, const char *method, const char *path,
    const void *body, size_t size, int admin, long *status, char **resp,
    struct cinfer_err *e) __attribute__((warn_unused_result));

/*
 * For an unsealer (cinferd): fetches the bundle's data key from its brokers
 * (one, or threshold shares), each attesting with evidence from the
 * callback. cacerts: one per broker, or NULL.
 */
int cinfer_kbs_fetch_bundle_key(const struct cinfer_bundle_info *info,
    const char *const *cacerts, cinfer_kbs_evidence_fn evidence, void *arg,
    uint8_t key[CINFER_SEAL_KEY_SIZE], struct cinfer_err *e)
    __attribute__((warn_unused_result));

/*
 * All of it for cinferd: reads the bundle header at path, fetches the key
 * (cinfer_kbs_fetch_bundle_key), unseals into locked memory, wipes the key.
 * cacert: one CA file for every broker, or NULL.
 */
int cinfer_kbs_unseal_bundle(const char *path, const char *cacert,
    cinfer_kbs_evidence_fn evidence, void *arg, struct cinfer_unsealed *out,
    struct cinfer_err *e) __attribute__((warn_unused_result));

/*
 * The same, also returning which broker policy released the key: the
 * broker's policy digest (from its attestation token), or with several
 * brokers SHA-256 over their digests in bundle order. Receipts carry it.
 */
int cinfer_kbs_fetch_bundle_key_ex(const struct cinfer_bundle_info *info,
    const char *const *cacerts, cinfer_kbs_evidence_fn evidence, void *arg,
    uint8_t key[CINFER_SEAL_KEY_SIZE], uint8_t policy_sha256[32], struct cinfer_err *e)
    __attribute__((warn_unused_result));
int cinfer_kbs_unseal_bundle_ex(const char *path, const char *cacert,
    cinfer_kbs_evidence_fn evidence, void *arg, struct cinfer_unsealed *out,
    uint8_t policy_sha256[32], struct cinfer_err *e) __attribute__((warn_unused_result));

#ifdef __cplusplus
}
#endif
#endif
