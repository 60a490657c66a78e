/*
 * cinfer-kbs state: one SQLite file in WAL mode, synchronous=FULL. Every
 * mutation and its audit record commit in one transaction, so a crash
 * (kill -9) at any moment leaves either the old or the new state, with a
 * matching audit chain. Secret values are sealed (AES-256-GCM) under a
 * master key kept in a separate file.
 */
#ifndef CI_KBS_STORE_H
#define CI_KBS_STORE_H

#include <sqlite3.h>

#include "core/ci.h"

struct kbs_store {
	sqlite3 *db;
	uint8_t master[32];
};

CI_MUST_CHECK int kbs_store_open(struct kbs_store *s, const char *path,
    const char *master_path, struct cinfer_err *e);
void kbs_store_close(struct kbs_store *s);

/* Appends one audit record (own transaction). detail: JSON text. */
CI_MUST_CHECK int kbs_audit_append(struct kbs_store *s, int64_t at, const char *event,
    const char *client, const char *detail, struct cinfer_err *e);
/*
 * Checks the whole chain of the database at path; *count records, head
 * gets the last record's hash. anchor (or NULL): a hash recorded earlier
 * (e.g. copied elsewhere); the chain must contain it, which also catches
 * the removal of the newest records back past it.
 */
CI_MUST_CHECK int kbs_audit_verify(const char *path, const uint8_t *anchor, uint64_t *count,
    uint8_t head[32], struct cinfer_err *e);

/*
 * Adds a new active version of a resource (value NULL: 32 random bytes);
 * the previous active version drains for drain seconds and is then
 * destroyed. event: "put" or "rotate" (audited with client).
 */
CI_MUST_CHECK int kbs_store_put(struct kbs_store *s, const char *path, const uint8_t *value,
    size_t size, int64_t drain, int64_t now, const char *event, const char *client,
    uint32_t *version, struct cinfer_err *e);
/* 0 found (out filled, locked memory), 1 not found (or destroyed), -1 error. */
int kbs_store_get(struct kbs_store *s, const char *path, uint32_t version, int64_t now,
    struct ci_secret *out, uint32_t *got_version, struct cinfer_err *e);
/* Destroys drained versions whose time has come; returns how many, or -1. */
int kbs_store_purge(struct kbs_store *s, int64_t now, struct cinfer_err *e);

CI_MUST_CHECK int kbs_store_policy_set(struct kbs_store *s, const void *doc, size_t size,
    const char *digest_hex, int64_t now, const char *client, struct cinfer_err *e);
/* 0 found (new buffer, ci_free), 1 none, -1 error. */
int kbs_store_policy_get(struct kbs_store *s, uint8_t **doc, size_t *size,
    struct cinfer_err *e);

CI_MUST_CHECK int kbs_store_revoke(struct kbs_store *s, const char *meas_hex,
    const char *reason, int64_t now, const char *client, struct cinfer_err *e);
/* 1 revoked, 0 not, -1 error. */
int kbs_store_is_revoked(struct kbs_store *s, const char *meas_hex, struct cinfer_err *e);

/* Sealed key-value metadata (e.g. the token signing key). 1: absent. */
int kbs_store_meta_get(struct kbs_store *s, const char *k, struct ci_secret *out,
    struct cinfer_err *e);
CI_MUST_CHECK int kbs_store_meta_set(struct kbs_store *s, const char *k, const void *v,
    size_t size, struct cinfer_err *e);

/* Audit records after seq as a JSON array text (new, ci_free). */
char *kbs_store_audit_json(struct kbs_store *s, int64_t after, int limit,
    struct cinfer_err *e);

#endif
