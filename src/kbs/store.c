/* SQLite store of cinfer-kbs: see store.h. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/json.h"
#include "crypto/aead.h"
#include "crypto/crypto.h"
#include "kbs/store.h"

#define ST "kbs.store"
#define ST_AUDIT "kbs.audit"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS resources(path TEXT NOT NULL, version INTEGER NOT NULL,"
    " state TEXT NOT NULL CHECK(state IN ('active','draining','destroyed')),"
    " value BLOB, created INTEGER NOT NULL, destroy_at INTEGER,"
    " PRIMARY KEY(path, version));"
    "CREATE TABLE IF NOT EXISTS policy(id INTEGER PRIMARY KEY, doc BLOB NOT NULL,"
    " digest TEXT NOT NULL, set_at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS revoked(measurement TEXT PRIMARY KEY, reason TEXT,"
    " at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS audit(seq INTEGER PRIMARY KEY, at INTEGER NOT NULL,"
    " event TEXT NOT NULL, client TEXT NOT NULL, detail TEXT NOT NULL,"
    " prev BLOB NOT NULL, hash BLOB NOT NULL);";

static int
db_fail(struct kbs_store *s, struct cinfer_err *e, const char *what)
{
	return ci_fail(e, CINFER_E_IO, ST, "%s: %s", what, sqlite3_errmsg(s->db));
}

static int
exec(struct kbs_store *s, const char *sql, struct cinfer_err *e)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		ci_fail(e, CINFER_E_IO, ST, "%.40s: %s", sql, msg ? msg : "?");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static void
rollback(struct kbs_store *s)
{
	(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static int
load_master(struct kbs_store *s, const char *path, struct cinfer_err *e)
{
	uint8_t *buf = NULL;
	size_t n = 0;
	int fd;

	if (access(path, F_OK) != 0) {
		uint8_t k[32];
		if (ci_random(k, sizeof(k), e) != 0)
			return -1;
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 || write(fd, k, sizeof(k)) != (ssize_t)sizeof(k) || fsync(fd) != 0) {
			ci_wipe(k, sizeof(k));
			if (fd >= 0)
				close(fd);
			return ci_fail(e, CINFER_E_IO, ST, "cannot create master key %s: %s", path,
			    strerror(errno));
		}
		close(fd);
		memcpy(s->master, k, 32);
		ci_wipe(k, sizeof(k));
		return 0;
	}
	if (ci_file_read(path, 64, &buf, &n, e) != 0)
		return -1;
	if (n != 32) {
		ci_wipe(buf, n);
		ci_free(buf);
		return ci_fail(e, CINFER_E_MALFORMED, ST, "master key %s must be 32 bytes", path);
	}
	memcpy(s->master, buf, 32);
	ci_wipe(buf, n);
	ci_free(buf);
	return 0;
}

int
kbs_store_open(struct kbs_store *s, const char *path, const char *master_path,
    struct cinfer_err *e)
{
	memset(s, 0, sizeof(*s));
	if (load_master(s, master_path, e) != 0)
		return -1;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		db_fail(s, e, "open");
		kbs_store_close(s);
		return -1;
	}
	(void)chmod(path, 0600);
	sqlite3_busy_timeout(s->db, 5000);
	if (exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
	    "PRAGMA secure_delete=ON; PRAGMA foreign_keys=ON;", e) != 0 ||
	    exec(s, schema, e) != 0) {
		kbs_store_close(s);
		return -1;
	}
	return 0;
}

void
kbs_store_close(struct kbs_store *s)
{
	if (s->db != NULL)
		sqlite3_close_v2(s->db);
	ci_wipe(s->master, sizeof(s->master));
	s->db = NULL;
}

/* ---- sealing values under the master key -------------------------------- */

static int
seal_value(struct kbs_store *s, const char *aad, const uint8_t *v, size_t size,
    uint8_t **out, size_t *out_size, struct cinfer_err *e)
{
	uint8_t *b = ci_alloc(12 + size + 16);

	if (b == NULL)
		return ci_fail(e, CINFER_E_NOMEM, ST, "seal");
	if (ci_random(b, 12, e) != 0 ||
	    ci_aead_seal(s->master, b, aad, strlen(aad), v, size, b + 12, b + 12 + size, e) != 0) {
		ci_free(b);
		return -1;
	}
	*out = b;
	*out_size = 12 + size + 16;
	return 0;
}

static int
open_value(struct kbs_store *s, const char *aad, const uint8_t *b, size_t n,
    struct ci_secret *out, struct cinfer_err *e)
{
	if (n < 28)
		return ci_fail(e, CINFER_E_MALFORMED, ST, "stored value too short");
	if (ci_secret_init(out, n - 28, e) != 0)
		return -1;
	if (ci_aead_open(s->master, b, aad, strlen(aad), b + 12, n - 28, b + n - 16, out->p,
	    e) != 0) {
		ci_secret_clear(out);
		return ci_fail(e, CINFER_E_CRYPTO, ST, "stored value fails authentication "
		    "(wrong master key or tampered database)");
	}
	return 0;
}

/* ---- audit chain ---------------------------------------------------------- */

static void
be64(uint8_t b[8], uint64_t v)
{
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (56 - 8 * i));
}

static int
audit_hash(const uint8_t prev[32], int64_t seq, int64_t at, const char *event,
    const char *client, const char *detail, uint8_t out[32], struct cinfer_err *e)
{
	uint8_t bs[8], ba[8];
	static const uint8_t zero = 0;
	struct ci_part parts[] = {
		{ prev, 32 }, { bs, 8 }, { ba, 8 }, { event, strlen(event) }, { &zero, 1 },
		{ client, strlen(client) }, { &zero, 1 }, { detail, strlen(detail) }
	};

	be64(bs, (uint64_t)seq);
	be64(ba, (uint64_t)at);
	return ci_digest_parts(EVP_sha256(), parts, CI_ARRAY_LEN(parts), out, e);
}

/* Inside a transaction. */
static int
audit_append_locked(struct kbs_store *s, int64_t at, const char *event, const char *client,
    const char *detail, struct cinfer_err *e)
{
	sqlite3_stmt *q = NULL;
	uint8_t prev[32] = { 0 }, h[32];
	int64_t seq = 1;
	int rc = -1;

	if (sqlite3_prepare_v2(s->db, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
	    -1, &q, NULL) != SQLITE_OK)
		return db_fail(s, e, "audit head");
	if (sqlite3_step(q) == SQLITE_ROW) {
		seq = sqlite3_column_int64(q, 0) + 1;
		if (sqlite3_column_bytes(q, 1) != 32) {
			ci_fail(e, CINFER_E_MALFORMED, ST_AUDIT, "audit head hash is damaged");
			goto out;
		}
		memcpy(prev, sqlite3_column_blob(q, 1), 32);
	}
	sqlite3_finalize(q);
	q = NULL;
	if (audit_hash(prev, seq, at, event, client, detail, h, e) != 0)
		goto out;
	if (sqlite3_prepare_v2(s->db, "INSERT INTO audit(seq, at, event, client, detail, prev, "
	    "hash) VALUES (?,?,?,?,?,?,?)", -1, &q, NULL) != SQLITE_OK) {
		db_fail(s, e, "audit insert");
		goto out;
	}
	sqlite3_bind_int64(q, 1, seq);
	sqlite3_bind_int64(q, 2, at);
	sqlite3_bind_text(q, 3, event, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, client, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, detail, -1, SQLITE_STATIC);
	sqlite3_bind_blob(q, 6, prev, 32, SQLITE_STATIC);
	sqlite3_bind_blob(q, 7, h, 32, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_DONE) {
		db_fail(s, e, "audit insert");
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(q);
	return rc;
}

int
kbs_audit_append(struct kbs_store *s, int64_t at, const char *event, const char *client,
    const char *detail, struct cinfer_err *e)
{
	if (exec(s, "BEGIN IMMEDIATE", e) != 0)
		return -1;
	if (audit_append_locked(s, at, event, client, detail, e) != 0) {
		rollback(s);
		return -1;
	}
	if (exec(s, "COMMIT", e) != 0) {
		rollback(s);
		return -1;
	}
	return 0;
}

int
kbs_audit_verify(const char *path, const uint8_t *anchor, uint64_t *count, uint8_t head[32],
    struct cinfer_err *e)
{
	int anchored = anchor == NULL;
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	uint8_t prev[32] = { 0 }, h[32];
	int64_t want = 1;
	int rc = -1, step;

	*count = 0;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		ci_fail(e, CINFER_E_IO, ST_AUDIT, "cannot open %s: %s", path,
		    db ? sqlite3_errmsg(db) : "?");
		goto out;
	}
	if (sqlite3_prepare_v2(db, "SELECT seq, at, event, client, detail, prev, hash FROM audit "
	    "ORDER BY seq", -1, &q, NULL) != SQLITE_OK) {
		ci_fail(e, CINFER_E_IO, ST_AUDIT, "%s", sqlite3_errmsg(db));
		goto out;
	}
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(q, 0);
		const char *ev = (const char *)sqlite3_column_text(q, 2);
		const char *cl = (const char *)sqlite3_column_text(q, 3);
		const char *dt = (const char *)sqlite3_column_text(q, 4);

		if (seq != want) {
			ci_fail(e, CINFER_E_CRYPTO, ST_AUDIT, "record %lld missing (next is %lld)",
			    (long long)want, (long long)seq);
			goto out;
		}
		if (sqlite3_column_bytes(q, 5) != 32 || sqlite3_column_bytes(q, 6) != 32 ||
		    memcmp(sqlite3_column_blob(q, 5), prev, 32) != 0) {	/* public */
			ci_fail(e, CINFER_E_CRYPTO, ST_AUDIT, "record %lld does not link to record "
			    "%lld", (long long)seq, (long long)(seq - 1));
			goto out;
		}
		if (audit_hash(prev, seq, sqlite3_column_int64(q, 1), ev ? ev : "", cl ? cl : "",
		    dt ? dt : "", h, e) != 0)
			goto out;
		if (memcmp(h, sqlite3_column_blob(q, 6), 32) != 0) {	/* public */
			ci_fail(e, CINFER_E_CRYPTO, ST_AUDIT, "record %lld was altered (hash does "
			    "not match its contents)", (long long)seq);
			goto out;
		}
		memcpy(prev, h, 32);
		if (anchor != NULL && memcmp(h, anchor, 32) == 0)	/* public */
			anchored = 1;
		want++;
		(*count)++;
	}
	if (step != SQLITE_DONE) {
		ci_fail(e, CINFER_E_IO, ST_AUDIT, "%s", sqlite3_errmsg(db));
		goto out;
	}
	if (!anchored) {
		ci_fail(e, CINFER_E_CRYPTO, ST_AUDIT, "the anchored record is not in the chain "
		    "(records were removed or the chain was rewritten)");
		goto out;
	}
	rc = 0;
out:
	memcpy(head, prev, 32);
	sqlite3_finalize(q);
	sqlite3_close_v2(db);
	return rc;
}

static char *
detail_json(const char *fmt, ...)
{
	va_list ap;
	json_t *j;
	char *s = NULL;

	va_start(ap, fmt);
	j = json_vpack_ex(NULL, 0, fmt, ap);
	va_end(ap);
	if (j != NULL)
		s = ci_json_dump(j, 0);
	json_decref(j);
	return s;
}

/* ---- resources ---------------------------------------------------------- */

int
kbs_store_put(struct kbs_store *s, const char *path, const uint8_t *value, size_t size,
    int64_t drain, int64_t now, const char *event, const char *client, uint32_t *version,
    struct cinfer_err *e)
{
	sqlite3_stmt *q = NULL;
	uint8_t rnd[32], *sealed = NULL;
	size_t sealed_size;
	char aad[256], *detail = NULL;
	int64_t v = 1;
	int rc = -1, drained;

	if (value == NULL) {
		if (ci_random(rnd, sizeof(rnd), e) != 0)
			return -1;
		value = rnd;
		size = sizeof(rnd);
	}
	if (exec(s, "BEGIN IMMEDIATE", e) != 0)
		goto out;
	if (sqlite3_prepare_v2(s->db, "SELECT COALESCE(MAX(version), 0) FROM resources WHERE "
	    "path = ?", -1, &q, NULL) != SQLITE_OK) {
		db_fail(s, e, "version");
		goto fail;
	}
	sqlite3_bind_text(q, 1, path, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_ROW) {
		db_fail(s, e, "version");
		goto fail;
	}
	v = sqlite3_column_int64(q, 0) + 1;
	sqlite3_finalize(q);
	q = NULL;
	if (v > UINT32_MAX) {
		ci_fail(e, CINFER_E_LIMIT, ST, "too many versions");
		goto fail;
	}
	/* The old active version drains (or goes at once with drain 0). */
	if (sqlite3_prepare_v2(s->db, drain > 0 ?
	    "UPDATE resources SET state = 'draining', destroy_at = ? WHERE path = ? AND "
	    "state = 'active'" :
	    "UPDATE resources SET state = 'destroyed', destroy_at = ?, value = NULL WHERE "
	    "path = ? AND state = 'active'", -1, &q, NULL) != SQLITE_OK) {
		db_fail(s, e, "drain");
		goto fail;
	}
	sqlite3_bind_int64(q, 1, now + (drain > 0 ? drain : 0));
	sqlite3_bind_text(q, 2, path, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_DONE) {
		db_fail(s, e, "drain");
		goto fail;
	}
	drained = sqlite3_changes(s->db);
	sqlite3_finalize(q);
	q = NULL;
	snprintf(aad, sizeof(aad), "cinfer-kbs v1|%s|%lld", path, (long long)v);
	if (seal_value(s, aad, value, size, &sealed, &sealed_size, e) != 0)
		goto fail;
	if (sqlite3_prepare_v2(s->db, "INSERT INTO resources(path, version, state, value, "
	    "created) VALUES (?, ?, 'active', ?, ?)", -1, &q, NULL) != SQLITE_OK) {
		db_fail(s, e, "insert");
		goto fail;
	}
	sqlite3_bind_text(q, 1, path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, v);
	sqlite3_bind_blob(q, 3, sealed, (int)sealed_size, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, now);
	if (sqlite3_step(q) != SQLITE_DONE) {
		db_fail(s, e, "insert");
		goto fail;
	}
	sqlite3_finalize(q);
	q = NULL;
	detail = detail_json("{s:s, s:I, s:I, s:b}", "resource", path, "version", (json_int_t)v,
	    "drain_seconds", (json_int_t)(drain > 0 ? drain : 0), "previous_retired", drained > 0);
	if (detail == NULL) {
		ci_fail(e, CINFER_E_NOMEM, ST, "audit detail");
		goto fail;
	}
	if (audit_append_locked(s, now, event, client, detail, e) != 0)
		goto fail;
	if (exec(s, "COMMIT", e) != 0)
		goto fail;
	*version = (uint32_t)v;
	rc = 0;
	goto out;
fail:
	sqlite3_finalize(q);
	q = NULL;
	rollback(s);
out:
	sqlite3_finalize(q);
	ci_wipe(rnd, sizeof(rnd));
	ci_free(sealed);
	ci_free(detail);
	return rc;
}

int
kbs_store_get(struct kbs_store *s, const char *path, uint32_t version, int64_t now,
    struct ci_secret *out, uint32_t *got_version, struct cinfer_err *e)
{
	sqlite3_stmt *q = NULL;
	char aad[256];
	int rc = -1, step;

	memset(out, 0, sizeof(*out));
	if (sqlite3_prepare_v2(s->db, version != 0 ?
	    "SELECT version, value, state, destroy_at FROM resources WHERE path = ?1 AND "
	    "version = ?2" :
	    "SELECT version, value, state, destroy_at FROM resources WHERE path = ?1 AND "
	    "state = 'active' ORDER BY version DESC LIMIT 1", -1, &q, NULL) != SQLITE_OK)
		return db_fail(s, e, "get");
	sqlite3_bind_text(q, 1, path, -1, SQLITE_STATIC);
	if (version != 0)
		sqlite3_bind_int64(q, 2, version);
	step = sqlite3_step(q);
	if (step == SQLITE_DONE) {
		rc = 1;
		goto out;
	}
	if (step != SQLITE_ROW) {
		db_fail(s, e, "get");
		goto out;
	}
	{
		const char *state = (const char *)sqlite3_column_text(q, 2);
		int64_t v = sqlite3_column_int64(q, 0);

		if (state == NULL || strcmp(state, "destroyed") == 0 ||	/* public */
		    (strcmp(state, "draining") == 0 &&	/* public */
		    sqlite3_column_int64(q, 3) <= now)) {
			rc = 1;
			goto out;
		}
		snprintf(aad, sizeof(aad), "cinfer-kbs v1|%s|%lld", path, (long long)v);
		if (open_value(s, aad, sqlite3_column_blob(q, 1), (size_t)sqlite3_column_bytes(q,
		    1), out, e) != 0)
			goto out;
		*got_version = (uint32_t)v;
	}
	rc = 0;
out:
	sqlite3_finalize(q);
	return rc;
}

int
kbs_store_purge(struct kbs_store *s, int64_t now, struct cinfer_err *e)
{
	sqlite3_stmt *q = NULL, *u = NULL;
	int n = 0, step;

	if (exec(s, "BEGIN IMMEDIATE", e) != 0)
		return -1;
	if (sqlite3_prepare_v2(s->db, "SELECT path, version FROM resources WHERE state = "
	    "'draining' AND destroy_at <= ?", -1, &q, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "UPDATE resources SET state = 'destroyed', value = NULL "
	    "WHERE path = ? AND version = ?", -1, &u, NULL) != SQLITE_OK) {
		db_fail(s, e, "purge");
		goto fail;
	}
	sqlite3_bind_int64(q, 1, now);
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		const char *path = (const char *)sqlite3_column_text(q, 0);
		int64_t v = sqlite3_column_int64(q, 1);
		char *d;

		sqlite3_reset(u);
		sqlite3_bind_text(u, 1, path, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(u, 2, v);
		if (sqlite3_step(u) != SQLITE_DONE) {
			db_fail(s, e, "purge");
			goto fail;
		}
		d = detail_json("{s:s, s:I}", "resource", path, "version", (json_int_t)v);
		if (d == NULL || audit_append_locked(s, now, "destroy", "kbs", d, e) != 0) {
			ci_free(d);
			goto fail;
		}
		ci_free(d);
		n++;
	}
	if (step != SQLITE_DONE) {
		db_fail(s, e, "purge");
		goto fail;
	}
	sqlite3_finalize(q);
	sqlite3_finalize(u);
	if (exec(s, "COMMIT", e) != 0) {
		rollback(s);
		return -1;
	}
	return n;
fail:
	sqlite3_finalize(q);
	sqlite3_finalize(u);
	rollback(s);
	return -1;
}

/* ---- policy, revocations, meta ------------------------------------------ */

int
kbs_store_policy_set(struct kbs_store *s, const void *doc, size_t size, const char *digest_hex,
    int64_t now, const char *client, struct cinfer_err *e)
{
	sqlite3_stmt *q = NULL;
	char *d = NULL;

	if (exec(s, "BEGIN IMMEDIATE", e) != 0)
		return -1;
	if (sqlite3_prepare_v2(s->db, "INSERT INTO policy(doc, digest, set_at) VALUES (?,?,?)",
	    -1, &q, NULL) != SQLITE_OK) {
		db_fail(s, e, "policy");
		goto fail;
	}
	sqlite3_bind_blob(q, 1, doc, (int)size, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, digest_hex, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, now);
	if (sqlite3_step(q) != SQLITE_DONE) {
		db_fail(s, e, "policy");
		goto fail;
	}
	sqlite3_finalize(q);
	q = NULL;
	d = detail_json("{s:s}", "policy_digest", digest_hex);
	if (d == NULL || audit_append_locked(s, now, "set-policy", client, d, e) != 0 ||
	    exec(s, "COMMIT", e) != 0)
		goto fail;
	ci_free(d);
	return 0;
fail:
	ci_free(d);
	sqlite3_finalize(q);
	rollback(s);
	return -1;
}

int
kbs_store_policy_get(struct kbs_store *s, uint8_t **doc, size_t *size, struct cinfer_err *e)
{
	sqlite3_stmt *q = NULL;
	int rc = -1, step;

	*doc = NULL;
	*size = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT doc FROM policy ORDER BY id DESC LIMIT 1", -1, &q,
	    NULL) != SQLITE_OK)
		return db_fail(s, e, "policy");
	step = sqlite3_step(q);
	if (step == SQLITE_DONE) {
		rc = 1;
	} else if (step == SQLITE_ROW) {
		*size = (size_t)sqlite3_column_bytes(q, 0);
		*doc = ci_alloc(*size + 1);
		if (*doc == NULL) {
			ci_fail(e, CINFER_E_NOMEM, ST, "policy");
		} else {
			memcpy(*doc, sqlite3_column_blob(q, 0), *size);
			(*doc)[*size] = 0;
			rc = 0;
		}
	} else {
		db_fail(s, e, "policy");
	}
	sqlite3_finalize(q);
	return rc;
}

int
kbs_store_revoke(struct kbs_store *s, const char *meas_hex, const char *reason, int64_t now,
    const char *client, struct cinfer_err *e)
{
	sqlite3_stmt *q = NULL;
	char *d = NULL;

	if (exec(s, "BEGIN IMMEDIATE", e) != 0)
		return -1;
	if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO revoked(measurement, reason, at) "
	    "VALUES (?,?,?)", -1, &q, NULL) != SQLITE_OK) {
		db_fail(s, e, "revoke");
		goto fail;
	}
	sqlite3_bind_text(q, 1, meas_hex, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, now);
	if (sqlite3_step(q) != SQLITE_DONE) {
		db_fail(s, e, "revoke");
		goto fail;
	}
	sqlite3_finalize(q);
	q = NULL;
	d = detail_json("{s:s, s:s}", "measurement", meas_hex, "reason", reason);
	if (d == NULL || audit_append_locked(s, now, "revoke", client, d, e) != 0 ||
	    exec(s, "COMMIT", e) != 0)
		goto fail;
	ci_free(d);
	return 0;
fail:
	ci_free(d);
	sqlite3_finalize(q);
	rollback(s);
	return -1;
}

int
kbs_store_is_revoked(struct kbs_store *s, const char *meas_hex, struct cinfer_err *e)
{
	sqlite3_stmt *q = NULL;
	int step;

	if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM revoked WHERE measurement = ?", -1, &q,
	    NULL) != SQLITE_OK)
		return db_fail(s, e, "revoked");
	sqlite3_bind_text(q, 1, meas_hex, -1, SQLITE_STATIC);
	step = sqlite3_step(q);
	sqlite3_finalize(q);
	if (step == SQLITE_ROW)
		return 1;
	if (step == SQLITE_DONE)
		return 0;
	return db_fail(s, e, "revoked");
}

int
kbs_store_meta_get(struct kbs_store *s, const char *k, struct ci_secret *out,
    struct cinfer_err *e)
{
	sqlite3_stmt *q = NULL;
	char aad[128];
	int rc = -1, step;

	memset(out, 0, sizeof(*out));
	if (sqlite3_prepare_v2(s->db, "SELECT v FROM meta WHERE k = ?", -1, &q, NULL) !=
	    SQLITE_OK)
		return db_fail(s, e, "meta");
	sqlite3_bind_text(q, 1, k, -1, SQLITE_STATIC);
	step = sqlite3_step(q);
	if (step == SQLITE_DONE) {
		rc = 1;
	} else if (step == SQLITE_ROW) {
		snprintf(aad, sizeof(aad), "cinfer-kbs meta|%s", k);
		rc = open_value(s, aad, sqlite3_column_blob(q, 0),
		    (size_t)sqlite3_column_bytes(q, 0), out, e);
	} else {
		db_fail(s, e, "meta");
	}
	sqlite3_finalize(q);
	return rc;
}

int
kbs_store_meta_set(struct kbs_store *s, const char *k, const void *v, size_t size,
    struct cinfer_err *e)
{
	sqlite3_stmt *q = NULL;
	uint8_t *sealed = NULL;
	size_t n;
	char aad[128];
	int rc = -1;

	snprintf(aad, sizeof(aad), "cinfer-kbs meta|%s", k);
	if (seal_value(s, aad, v, size, &sealed, &n, e) != 0)
		return -1;
	if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO meta(k, v) VALUES (?, ?)", -1, &q,
	    NULL) != SQLITE_OK) {
		db_fail(s, e, "meta");
		goto out;
	}
	sqlite3_bind_text(q, 1, k, -1, SQLITE_STATIC);
	sqlite3_bind_blob(q, 2, sealed, (int)n, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_DONE) {
		db_fail(s, e, "meta");
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(q);
	ci_free(sealed);
	return rc;
}

char *
kbs_store_audit_json(struct kbs_store *s, int64_t after, int limit, struct cinfer_err *e)
{
	sqlite3_stmt *q = NULL;
	json_t *arr = json_array();
	char *out = NULL;

	if (arr == NULL || sqlite3_prepare_v2(s->db, "SELECT seq, at, event, client, detail FROM "
	    "audit WHERE seq > ? ORDER BY seq LIMIT ?", -1, &q, NULL) != SQLITE_OK) {
		ci_fail(e, CINFER_E_IO, ST, "audit query");
		goto out;
	}
	sqlite3_bind_int64(q, 1, after);
	sqlite3_bind_int(q, 2, limit);
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *dt = (const char *)sqlite3_column_text(q, 4);
		json_t *d = json_loads(dt ? dt : "null", JSON_DECODE_ANY, NULL);
		json_t *row = json_pack("{s:I, s:I, s:s, s:s, s:o}", "seq",
		    (json_int_t)sqlite3_column_int64(q, 0), "at", (json_int_t)sqlite3_column_int64(q,
		    1), "event", (const char *)sqlite3_column_text(q, 2), "client",
		    (const char *)sqlite3_column_text(q, 3), "detail", d ? d : json_null());
		if (row == NULL || json_array_append_new(arr, row) != 0) {
			ci_fail(e, CINFER_E_NOMEM, ST, "audit json");
			goto out;
		}
	}
	out = ci_json_dump(arr, 0);
	if (out == NULL)
		ci_fail(e, CINFER_E_NOMEM, ST, "audit json");
out:
	sqlite3_finalize(q);
	json_decref(arr);
	return out;
}
