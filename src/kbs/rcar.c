/* The attester-facing endpoints: auth, attest, resource (Trustee's RCAR). */
#include <string.h>

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>

#include "cinfer/kbs.h"
#include "core/json.h"
#include "crypto/crypto.h"
#include "crypto/jose.h"
#include "kbs/kbs_int.h"

#define ST "kbs.rcar"

static void
add_reason(json_t *arr, const char *code, int ok, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
add_reason(json_t *arr, const char *code, int ok, const char *fmt, ...)
{
	char text[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	ci_str_mask(text);
	json_array_append_new(arr, json_pack("{s:s, s:s, s:b}", "code", code, "text", text,
	    "ok", ok));
}

static int
any_rejection(const json_t *arr)
{
	size_t i;
	json_t *r;

	json_array_foreach(arr, i, r)
		if (!json_is_true(json_object_get(r, "ok")))
			return 1;
	return 0;
}

static void
session_tag(const struct kbs_session *ss, char out[17])
{
	uint8_t h[32];

	if (ss == NULL) {
		snprintf(out, 17, "-");
		return;
	}
	ci_sha256(ss->id, sizeof(ss->id), h);
	ci_hex_encode(h, 8, out);
}

/* Appends the decision to the audit chain; logs when that fails (never silently). */
static void
audit(struct kbs_server *s, int64_t now, const char *event, const char *client, json_t *detail)
{
	struct cinfer_err e = { 0 };
	char *d = ci_json_dump(detail, 0);

	if (d == NULL || kbs_audit_append(&s->store, now, event, client, d, &e) != 0)
		ci_log(CI_LOG_ERROR, "kbs.audit", "cannot append %s record: %s", event,
		    d ? e.msg : "out of memory");
	ci_free(d);
}

void
kbs_handle_auth(struct kbs_server *s, struct evhttp_request *req)
{
	struct kbs_auth_req ar;
	struct cinfer_err e = { 0 };
	struct kbs_session *ss;
	uint8_t *body, nonce[32];
	size_t size;
	char cookie[160], *idb = NULL, *nb = NULL, *out = NULL;
	json_t *j = NULL;
	int64_t now = ci_time_now();

	body = kbs_body(req, &size);
	if (body == NULL)
		return kbs_reply_error(req, 503, NULL, "no_memory", "");
	if (kbs_req_auth(body, size, &ar, &e) != 0) {
		kbs_reply_error(req, 400, NULL, "bad_request", e.msg);
		goto out;
	}
	ss = kbs_session_new(s, now);
	if (ss == NULL || ci_random(nonce, sizeof(nonce), &e) != 0) {
		kbs_reply_error(req, 503, NULL, "internal", "cannot start a session");
		goto out;
	}
	nb = ci_b64_new(nonce, sizeof(nonce));
	idb = ci_b64url_new(ss->id, sizeof(ss->id));
	if (nb == NULL || idb == NULL) {
		kbs_session_drop(ss);
		kbs_reply_error(req, 503, NULL, "no_memory", "");
		goto out;
	}
	snprintf(ss->nonce, sizeof(ss->nonce), "%s", nb);
	kbs_client(req, ss->client, sizeof(ss->client));
	snprintf(cookie, sizeof(cookie), "%s=%s; Path=/kbs; Secure; HttpOnly; Max-Age=%lld",
	    CINFER_KBS_COOKIE, idb, (long long)(s->cfg.nonce_ttl + s->cfg.token_ttl));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Set-Cookie", cookie);
	j = json_pack("{s:s, s:{}}", "nonce", nb, "extra-params");
	out = j ? ci_json_dump(j, 0) : NULL;
	kbs_reply_json(req, 200, NULL, out ? out : "{}");
out:
	ci_wipe(cookie, sizeof(cookie));
	if (idb != NULL)
		ci_wipe(idb, strlen(idb));
	ci_free(idb);
	ci_free(nb);
	ci_free(out);
	json_decref(j);
	ci_free(body);
}

static void
deny(struct kbs_server *s, struct evhttp_request *req, int status, int64_t now,
    const char *client, json_t *detail, json_t *reasons)
{
	json_t *rej = json_array(), *r;
	char *out;
	size_t i;

	json_object_set_new(detail, "decision", json_string("deny"));
	json_object_set(detail, "reasons", reasons);
	audit(s, now, "attest", client, detail);
	json_array_foreach(reasons, i, r)
		if (!json_is_true(json_object_get(r, "ok")))
			json_array_append(rej, r);
	r = json_pack("{s:s, s:o}", "error", "attestation_denied", "reasons", rej);
	out = r ? ci_json_dump(r, 0) : NULL;
	kbs_reply_json(req, status, NULL, out ? out : "{\"error\":\"attestation_denied\"}");
	ci_free(out);
	json_decref(r);
	ci_log(CI_LOG_INFO, ST, "attest denied client=%s", client);
}

static char *
make_token(struct kbs_server *s, const struct kbs_session *ss, const struct cinfer_claims *c,
    const char *jwk, int64_t now, struct cinfer_err *e)
{
	char dg[65], *tok = NULL;
	json_t *claims, *pk = json_loads(jwk, 0, NULL);

	ci_hex_encode(s->policy_digest, 32, dg);
	claims = json_pack("{s:s, s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:b, s:o}",
	    "iss", "cinfer-kbs", "iat", (json_int_t)now, "nbf", (json_int_t)now,
	    "exp", (json_int_t)ss->expires_at, "policy_id", cinfer_policy_id(s->policy),
	    "policy_digest", dg, "measurement", ss->measurement,
	    "platform", ss->platform, "simulated", c->simulated,
	    "tee-pubkey", pk ? pk : json_null());
	if (claims == NULL) {
		ci_fail(e, CINFER_E_NOMEM, ST, "token");
		return NULL;
	}
	tok = ci_jwt_sign(s->token_key, s->token_kid, claims, e);
	json_decref(claims);
	return tok;
}

void
kbs_handle_attest(struct kbs_server *s, struct evhttp_request *req)
{
	struct kbs_attest_req ar;
	struct cinfer_err e = { 0 };
	struct cinfer_claims *claims = NULL;
	struct cinfer_decision *d = NULL;
	struct kbs_session *ss;
	struct cinfer_verify_opts vo = { 0 };
	uint8_t *body = NULL, expected[64];
	size_t size;
	int64_t now = ci_time_now();
	char client[64], tag[17], meas[2 * CINFER_MEAS_SIZE_MAX + 1] = "", *tok = NULL;
	json_t *reasons = json_array(), *detail = json_object();
	int revoked;

	memset(&ar, 0, sizeof(ar));
	cinfer_evidence_init(&ar.ev);
	kbs_client(req, client, sizeof(client));
	body = kbs_body(req, &size);
	claims = ci_calloc(1, sizeof(*claims));
	d = ci_calloc(1, sizeof(*d));
	if (body == NULL || claims == NULL || d == NULL || reasons == NULL || detail == NULL) {
		kbs_reply_error(req, 503, NULL, "no_memory", "");
		goto out;
	}
	ss = kbs_session_find(s, req);
	session_tag(ss, tag);
	json_object_set_new(detail, "session", json_string(tag));
	if (kbs_req_attest(body, size, &ar, &e) != 0) {
		/* A malformed body is a client error, but a decision all the same. */
		add_reason(reasons, "bad_request", 0, "%s", e.msg);
		json_object_set_new(detail, "decision", json_string("deny"));
		json_object_set(detail, "reasons", reasons);
		audit(s, now, "attest", client, detail);
		kbs_reply_error(req, 400, NULL, "bad_request", e.msg);
		goto out;
	}
	if (ss == NULL) {
		add_reason(reasons, "no_session", 0, "no valid %s cookie: POST /kbs/v0/auth first",
		    CINFER_KBS_COOKIE);
		deny(s, req, 401, now, client, detail, reasons);
		goto out;
	}
	/* Freshness: the nonce is single use, short lived and this session's own. */
	if (strcmp(ar.nonce, ss->nonce) != 0)	/* public: the nonce was sent in clear */
		add_reason(reasons, "nonce_mismatch", 0,
		    "runtime-data nonce is not the challenge issued to this session");
	else if (ss->nonce_spent)
		add_reason(reasons, "nonce_replayed", 0, "this challenge was already used");
	else if (now - ss->issued_at > s->cfg.nonce_ttl)
		add_reason(reasons, "nonce_expired", 0, "challenge expired %lld s ago",
		    (long long)(now - ss->issued_at - s->cfg.nonce_ttl));
	else
		add_reason(reasons, "nonce_fresh", 1, "challenge is fresh and unused");
	ss->nonce_spent = 1;
	if (any_rejection(reasons)) {
		deny(s, req, 401, now, client, detail, reasons);
		goto out;
	}
	vo.at = now;
	vo.sim_dir = s->cfg.sim_dir[0] ? s->cfg.sim_dir : NULL;
	vo.roots_dir = s->cfg.roots_dir[0] ? s->cfg.roots_dir : NULL;
	json_object_set_new(detail, "platform",
	    json_string(cinfer_platform_name(ar.ev.platform) ?: "none"));
	if (cinfer_evidence_verify(&ar.ev, &vo, claims, &e) != 0) {
		add_reason(reasons, "evidence_invalid", 0, "%s: %s", e.stage ? e.stage : "evidence",
		    e.msg);
		deny(s, req, 401, now, client, detail, reasons);
		goto out;
	}
	add_reason(reasons, "evidence_authentic", 1, "evidence signature and chain verified");
	ci_hex_encode(claims->measurement, claims->measurement_size, meas);
	json_object_set_new(detail, "measurement", json_string(meas));
	json_object_set_new(detail, "simulated", json_boolean(claims->simulated));
	json_object_set_new(detail, "debug", json_boolean(claims->debug));
	cinfer_kbs_report_data(ar.nonce, ar.runtime_data, strlen(ar.runtime_data), expected);
	if (claims->report_data_size != 64 || ci_ct_eq(claims->report_data, expected, 64) != 0)
		add_reason(reasons, "runtime_data_not_bound", 0, "report_data does not bind \""
		    CINFER_KBS_BIND_CONTEXT "\", the nonce and SHA-256(runtime-data): the evidence "
		    "was not made for this challenge and tee-pubkey");
	revoked = kbs_store_is_revoked(&s->store, meas, &e);
	if (revoked != 0)
		add_reason(reasons, "measurement_revoked", 0, revoked > 0 ?
		    "measurement %.16s... was revoked by the operator" :
		    "cannot check revocations (%.16s...)", meas);
	if (s->policy == NULL) {
		add_reason(reasons, "no_policy", 0, "the broker has no policy: set one with "
		    "PUT /kbs/v0/admin/policy");
	} else {
		struct cinfer_policy_input in = {
			.claims = claims, .claims_count = 1, .at = now,
			.expected_report_data = expected, .expected_report_data_size = 64,
			.nonce_issued_at = ss->issued_at,
		};
		char dg[65];

		ci_hex_encode(s->policy_digest, 32, dg);
		json_object_set_new(detail, "policy_id", json_string(cinfer_policy_id(s->policy)));
		json_object_set_new(detail, "policy_digest", json_string(dg));
		if (cinfer_policy_eval(s->policy, &in, d, &e) != 0) {
			add_reason(reasons, "policy_error", 0, "%s", e.msg);
		} else {
			for (size_t i = 0; i < d->reason_count && i < CINFER_REASONS_MAX; i++)
				add_reason(reasons, d->reasons[i].code, d->reasons[i].ok, "%s",
				    d->reasons[i].text);
			if (!d->accepted && !any_rejection(reasons))
				add_reason(reasons, "policy_rejected", 0, "the policy did not accept");
		}
	}
	if (any_rejection(reasons)) {
		deny(s, req, 401, now, client, detail, reasons);
		goto out;
	}
	/* Accepted: the session may now fetch resources, wrapped to tee-pubkey. */
	EVP_PKEY_free(ss->tee_pubkey);
	ss->tee_pubkey = ar.tee_pubkey;
	ar.tee_pubkey = NULL;
	ss->attested = 1;
	ss->expires_at = now + s->cfg.token_ttl;
	snprintf(ss->measurement, sizeof(ss->measurement), "%s", meas);
	snprintf(ss->platform, sizeof(ss->platform), "%s", cinfer_platform_name(claims->platform));
	tok = make_token(s, ss, claims, ar.tee_pubkey_jwk, now, &e);
	json_object_set_new(detail, "decision", json_string("accept"));
	json_object_set(detail, "reasons", reasons);
	audit(s, now, "attest", client, detail);
	if (tok == NULL) {
		kbs_reply_error(req, 503, NULL, "internal", "cannot sign the token");
	} else {
		json_t *j = json_pack("{s:s}", "token", tok);
		char *o = j ? ci_json_dump(j, 0) : NULL;
		kbs_reply_json(req, 200, NULL, o ? o : "{}");
		ci_free(o);
		json_decref(j);
	}
	ci_log(CI_LOG_INFO, ST, "attest accepted client=%s measurement=%.16s", client, meas);
out:
	ci_free(tok);
	kbs_attest_req_clear(&ar);
	json_decref(reasons);
	json_decref(detail);
	ci_free(claims);
	ci_free(d);
	ci_free(body);
}

/* The attester: a live session cookie, or a bearer attestation token. */
static int
resource_auth(struct kbs_server *s, struct evhttp_request *req, int64_t now,
    EVP_PKEY **pub, char *meas, size_t meas_cap, char *tag, struct cinfer_err *e)
{
	struct kbs_session *ss = kbs_session_find(s, req);
	const char *ah = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Authorization");
	json_t *c = NULL;
	int rc = -1;

	session_tag(ss, tag);
	if (ss != NULL && ss->attested && now < ss->expires_at && ss->tee_pubkey != NULL) {
		if (EVP_PKEY_up_ref(ss->tee_pubkey) != 1)
			return ci_fail(e, CINFER_E_NOMEM, ST, "key");
		*pub = ss->tee_pubkey;
		snprintf(meas, meas_cap, "%s", ss->measurement);
		return 0;
	}
	if (ah != NULL && strncmp(ah, "Bearer ", 7) == 0) {	/* public */
		const char *m;
		if (ci_jwt_verify(s->token_key, ah + 7, strlen(ah + 7), now, &c, e) != 0)
			goto out;
		*pub = ci_jwk_parse(json_object_get(c, "tee-pubkey"), e);
		m = json_string_value(json_object_get(c, "measurement"));
		if (*pub == NULL || m == NULL) {
			ci_fail(e, CINFER_E_MALFORMED, ST, "token lacks tee-pubkey or measurement");
			goto out;
		}
		snprintf(meas, meas_cap, "%s", m);
		snprintf(tag, 17, "token");
		rc = 0;
		goto out;
	}
	if (ss != NULL && ss->attested)
		ci_fail(e, CINFER_E_STALE, ST, "attestation expired: attest again");
	else
		ci_fail(e, CINFER_E_POLICY, ST, "not attested: POST /kbs/v0/auth and "
		    "/kbs/v0/attest first");
out:
	json_decref(c);
	return rc;
}

void
kbs_handle_resource(struct kbs_server *s, struct evhttp_request *req, const char *rest)
{
	struct cinfer_err e = { 0 };
	struct kbs_path p;
	struct ci_secret val = { 0 };
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
	EVP_PKEY *pub = NULL;
	uint32_t want = 0, got = 0;
	int64_t now = ci_time_now();
	char client[64], meas[2 * CINFER_MEAS_SIZE_MAX + 1] = "", tag[17] = "-", *out = NULL;
	json_t *detail = json_object(), *jwe = NULL;
	int rc;

	kbs_client(req, client, sizeof(client));
	if (kbs_req_path(rest, &p, &e) != 0 ||
	    kbs_req_version_query(evhttp_uri_get_query(u), &want, &e) != 0) {
		kbs_reply_error(req, 400, NULL, "bad_request", e.msg);
		goto out;
	}
	json_object_set_new(detail, "resource", json_string(p.full));
	if (want != 0)
		json_object_set_new(detail, "version", json_integer(want));
	if (resource_auth(s, req, now, &pub, meas, sizeof(meas), tag, &e) != 0) {
		json_object_set_new(detail, "session", json_string(tag));
		json_object_set_new(detail, "decision", json_string("deny"));
		json_object_set_new(detail, "reasons", json_pack("[{s:s, s:s, s:b}]", "code",
		    e.code == CINFER_E_STALE ? "attestation_expired" : "not_attested", "text",
		    e.msg, "ok", 0));
		audit(s, now, "release", client, detail);
		kbs_reply_error(req, 401, NULL, "unauthorized", e.msg);
		goto out;
	}
	json_object_set_new(detail, "session", json_string(tag));
	json_object_set_new(detail, "measurement", json_string(meas));
	/* Revocation applies to live sessions and tokens too. */
	if (kbs_store_is_revoked(&s->store, meas, &e) != 0) {
		json_object_set_new(detail, "decision", json_string("deny"));
		json_object_set_new(detail, "reasons", json_pack("[{s:s, s:s, s:b}]", "code",
		    "measurement_revoked", "text", "measurement was revoked after attestation",
		    "ok", 0));
		audit(s, now, "release", client, detail);
		kbs_reply_error(req, 403, NULL, "forbidden", "measurement revoked");
		goto out;
	}
	rc = kbs_store_get(&s->store, p.full, want, now, &val, &got, &e);
	if (rc != 0) {
		json_object_set_new(detail, "decision", json_string("deny"));
		json_object_set_new(detail, "reasons", json_pack("[{s:s, s:s, s:b}]", "code",
		    rc > 0 ? "not_found" : "store_error", "text", rc > 0 ?
		    "no such resource or version (or it was destroyed)" : e.msg, "ok", 0));
		audit(s, now, "release", client, detail);
		if (rc > 0)
			kbs_reply_error(req, 404, NULL, "not_found", "no such resource or version");
		else
			kbs_reply_error(req, 503, NULL, "internal", "store error");
		goto out;
	}
	jwe = ci_jwe_encrypt(pub, val.p, val.size, &e);
	out = jwe ? ci_json_dump(jwe, 0) : NULL;
	if (out == NULL) {
		kbs_reply_error(req, 503, NULL, "internal", "cannot encrypt the response");
		goto out;
	}
	json_object_set_new(detail, "version", json_integer(got));
	json_object_set_new(detail, "decision", json_string("release"));
	audit(s, now, "release", client, detail);
	{
		char vb[12];
		snprintf(vb, sizeof(vb), "%u", got);
		evhttp_add_header(evhttp_request_get_output_headers(req), "X-Cinfer-Key-Version",
		    vb);
	}
	kbs_reply_json(req, 200, NULL, out);
	atomic_fetch_add(&s->releases, 1);
	ci_log(CI_LOG_INFO, ST, "released %s v%u client=%s", p.full, got, client);
out:
	ci_secret_clear(&val);
	EVP_PKEY_free(pub);
	json_decref(jwe);
	json_decref(detail);
	ci_free(out);
}
