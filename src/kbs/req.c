/* Request parsing for cinfer-kbs: every body is untrusted and checked here. */
#include <string.h>

#include "core/json.h"
#include "crypto/jose.h"
#include "kbs/req.h"

#define ST KBS_STAGE_REQ

static int
copy_str(const json_t *o, const char *key, int required, char *dst, size_t cap,
    struct cinfer_err *e)
{
	const char *s = NULL;
	int rc = ci_json_str(o, key, required, &s, ST, e);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (strlen(s) >= cap)
		return ci_fail(e, CINFER_E_LIMIT, ST, "\"%s\" longer than %zu", key, cap - 1);
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

int
kbs_req_auth(const void *p, size_t size, struct kbs_auth_req *out, struct cinfer_err *e)
{
	static const char *const keys[] = { "version", "tee", "extra-params", NULL };
	json_t *j = NULL, *x;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (ci_json_parse(p, size, ST, &j, e) != 0)
		return -1;
	if (!json_is_object(j)) {
		ci_fail(e, CINFER_E_MALFORMED, ST, "auth request must be a JSON object");
		goto out;
	}
	if (ci_json_known_keys(j, keys, ST, "auth request", e) != 0 ||
	    copy_str(j, "version", 1, out->version, sizeof(out->version), e) != 0 ||
	    copy_str(j, "tee", 1, out->tee, sizeof(out->tee), e) != 0)
		goto out;
	x = json_object_get(j, "extra-params");
	if (x != NULL && !json_is_object(x) && !json_is_string(x)) {
		ci_fail(e, CINFER_E_MALFORMED, ST, "\"extra-params\" must be an object or string");
		goto out;
	}
	/* Major version 0 only. */
	if (strncmp(out->version, "0.", 2) != 0) {	/* public */
		ci_fail(e, CINFER_E_UNSUPPORTED, ST, "protocol version \"%s\" (want 0.x)",
		    out->version);
		ci_str_mask(e->msg);
		goto out;
	}
	rc = 0;
out:
	json_decref(j);
	return rc;
}

void
kbs_attest_req_clear(struct kbs_attest_req *r)
{
	if (r == NULL)
		return;
	EVP_PKEY_free(r->tee_pubkey);
	ci_free(r->tee_pubkey_jwk);
	ci_free(r->runtime_data);
	cinfer_evidence_clear(&r->ev);
	memset(r, 0, sizeof(*r));
	cinfer_evidence_init(&r->ev);
}

int
kbs_req_attest(const void *p, size_t size, struct kbs_attest_req *out, struct cinfer_err *e)
{
	static const char *const keys[] = { "runtime-data", "tee-evidence", "init-data", NULL };
	static const char *const rkeys[] = { "nonce", "tee-pubkey", NULL };
	json_t *j = NULL, *rd, *pk, *ev, *canon = NULL;
	char *evs = NULL;
	const char *evp;
	size_t evsize;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	cinfer_evidence_init(&out->ev);
	if (ci_json_parse(p, size, ST, &j, e) != 0)
		return -1;
	if (!json_is_object(j)) {
		ci_fail(e, CINFER_E_MALFORMED, ST, "attestation must be a JSON object");
		goto out;
	}
	if (ci_json_known_keys(j, keys, ST, "attestation", e) != 0)
		goto out;
	if (json_object_get(j, "init-data") != NULL && !json_is_null(json_object_get(j,
	    "init-data"))) {
		ci_fail(e, CINFER_E_UNSUPPORTED, ST, "\"init-data\" is not supported");
		goto out;
	}
	rd = json_object_get(j, "runtime-data");
	if (!json_is_object(rd)) {
		ci_fail(e, CINFER_E_MALFORMED, ST, "\"runtime-data\" must be an object");
		goto out;
	}
	if (ci_json_known_keys(rd, rkeys, ST, "runtime-data", e) != 0 ||
	    copy_str(rd, "nonce", 1, out->nonce, sizeof(out->nonce), e) != 0)
		goto out;
	pk = json_object_get(rd, "tee-pubkey");
	if (pk == NULL) {
		ci_fail(e, CINFER_E_MALFORMED, ST, "runtime-data needs \"tee-pubkey\"");
		goto out;
	}
	out->tee_pubkey = ci_jwk_parse(pk, e);
	if (out->tee_pubkey == NULL)
		goto out;
	/* Canonical forms: what the evidence's report_data must bind. */
	out->tee_pubkey_jwk = ci_json_dump(pk, 0);
	canon = json_pack("{s:s, s:O}", "nonce", out->nonce, "tee-pubkey", pk);
	out->runtime_data = canon ? ci_json_dump(canon, 0) : NULL;
	if (out->tee_pubkey_jwk == NULL || out->runtime_data == NULL) {
		ci_fail(e, CINFER_E_NOMEM, ST, "runtime-data");
		goto out;
	}
	ev = json_object_get(j, "tee-evidence");
	if (json_is_string(ev)) {
		/* Some clients send the evidence as JSON text. */
		evp = json_string_value(ev);
		evsize = json_string_length(ev);
	} else if (json_is_object(ev)) {
		evs = ci_json_dump(ev, 0);
		if (evs == NULL) {
			ci_fail(e, CINFER_E_NOMEM, ST, "evidence");
			goto out;
		}
		evp = evs;
		evsize = strlen(evs);
	} else {
		ci_fail(e, CINFER_E_MALFORMED, ST, "\"tee-evidence\" must be an object");
		goto out;
	}
	if (cinfer_evidence_parse_json(&out->ev, evp, evsize, e) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		kbs_attest_req_clear(out);
	json_decref(canon);
	json_decref(j);
	ci_free(evs);
	return rc;
}

static int
name_ok(const char *s, size_t n)
{
	if (n == 0 || n > CINFER_KBS_NAME_MAX || s[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int
kbs_req_path(const char *rest, struct kbs_path *out, struct cinfer_err *e)
{
	const char *a = rest, *b, *c;
	size_t la, lb, lc;

	memset(out, 0, sizeof(*out));
	b = strchr(a, '/');
	c = b ? strchr(b + 1, '/') : NULL;
	if (b == NULL || c == NULL || strchr(c + 1, '/') != NULL)
		return ci_fail(e, CINFER_E_MALFORMED, ST, "resource path must be repo/type/tag");
	la = (size_t)(b - a);
	lb = (size_t)(c - b - 1);
	lc = strlen(c + 1);
	if (!name_ok(a, la) || !name_ok(b + 1, lb) || !name_ok(c + 1, lc))
		return ci_fail(e, CINFER_E_MALFORMED, ST,
		    "resource names must be [A-Za-z0-9._-]{1,%d}", CINFER_KBS_NAME_MAX);
	memcpy(out->repo, a, la);
	memcpy(out->type, b + 1, lb);
	memcpy(out->tag, c + 1, lc);
	snprintf(out->full, sizeof(out->full), "%s/%s/%s", out->repo, out->type, out->tag);
	return 0;
}

void
kbs_rotate_req_clear(struct kbs_rotate_req *r)
{
	if (r == NULL)
		return;
	if (r->value != NULL) {
		ci_wipe(r->value, r->value_size);
		ci_free(r->value);
	}
	memset(r, 0, sizeof(*r));
}

int
kbs_req_rotate(const void *p, size_t size, struct kbs_rotate_req *out, struct cinfer_err *e)
{
	static const char *const keys[] = { "drain_seconds", "value", NULL };
	json_t *j = NULL;
	const char *v = NULL;
	int rc = -1, r;

	memset(out, 0, sizeof(*out));
	out->drain_seconds = -1;
	if (size == 0)
		return 0;
	if (ci_json_parse(p, size, ST, &j, e) != 0)
		return -1;
	if (!json_is_object(j)) {
		ci_fail(e, CINFER_E_MALFORMED, ST, "rotate request must be a JSON object");
		goto out;
	}
	if (ci_json_known_keys(j, keys, ST, "rotate request", e) != 0 ||
	    ci_json_int(j, "drain_seconds", 0, &out->drain_seconds, ST, e) < 0)
		goto out;
	if (out->drain_seconds < -1 || out->drain_seconds > 366 * 86400LL) {
		ci_fail(e, CINFER_E_LIMIT, ST, "drain_seconds out of range");
		goto out;
	}
	r = ci_json_str(j, "value", 0, &v, ST, e);
	if (r < 0)
		goto out;
	if (r == 0) {
		if (strlen(v) > 16384 || ci_b64_decode(v, strlen(v), 0, &out->value,
		    &out->value_size, e) != 0 || out->value_size == 0) {
			ci_fail(e, CINFER_E_MALFORMED, ST, "\"value\" must be base64 (1..12 KiB)");
			goto out;
		}
	}
	rc = 0;
out:
	if (rc != 0)
		kbs_rotate_req_clear(out);
	json_decref(j);
	return rc;
}

int
kbs_req_revoke(const void *p, size_t size, struct kbs_revoke_req *out, struct cinfer_err *e)
{
	static const char *const keys[] = { "measurement", "reason", NULL };
	json_t *j = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (ci_json_parse(p, size, ST, &j, e) != 0)
		return -1;
	if (!json_is_object(j)) {
		ci_fail(e, CINFER_E_MALFORMED, ST, "revoke request must be a JSON object");
		goto out;
	}
	if (ci_json_known_keys(j, keys, ST, "revoke request", e) != 0 ||
	    ci_json_hex(j, "measurement", 1, out->measurement, 1, CINFER_MEAS_SIZE_MAX,
	    &out->measurement_size, ST, e) != 0 ||
	    copy_str(j, "reason", 0, out->reason, sizeof(out->reason), e) != 0)
		goto out;
	ci_str_mask(out->reason);
	rc = 0;
out:
	json_decref(j);
	return rc;
}

int
kbs_req_version_query(const char *query, uint32_t *version, struct cinfer_err *e)
{
	uint64_t v = 0;
	const char *d;

	*version = 0;
	if (query == NULL || query[0] == '\0')
		return 0;
	if (strncmp(query, "version=", 8) != 0)	/* public */
		return ci_fail(e, CINFER_E_MALFORMED, ST, "only ?version=N is understood");
	d = query + 8;
	if (*d == '\0' || strlen(d) > 9)
		return ci_fail(e, CINFER_E_MALFORMED, ST, "bad version");
	for (; *d; d++) {
		if (*d < '0' || *d > '9')
			return ci_fail(e, CINFER_E_MALFORMED, ST, "bad version");
		v = v * 10 + (uint64_t)(*d - '0');
	}
	if (v == 0)
		return ci_fail(e, CINFER_E_MALFORMED, ST, "versions start at 1");
	*version = (uint32_t)v;
	return 0;
}

int
kbs_req_cookie(const char *h, char *out, size_t cap)
{
	static const char name[] = CINFER_KBS_COOKIE "=";
	const char *p = h;

	out[0] = '\0';
	if (h == NULL)
		return -1;
	while (*p) {
		size_t n;
		while (*p == ' ' || *p == ';')
			p++;
		n = strcspn(p, ";");
		if (n > sizeof(name) - 1 && strncmp(p, name, sizeof(name) - 1) == 0) {	/* public */
			size_t vlen = n - (sizeof(name) - 1);
			if (vlen >= cap)
				return -1;
			memcpy(out, p + sizeof(name) - 1, vlen);
			out[vlen] = '\0';
			while (vlen > 0 && out[vlen - 1] == ' ')
				out[--vlen] = '\0';
			return 0;
		}
		p += n;
	}
	return -1;
}
