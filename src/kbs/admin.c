/* The admin API: never anonymous (bearer token compared in constant time). */
#include <string.h>

#include <event2/bufferevent_ssl.h>
#include <event2/keyvalq_struct.h>
#include <openssl/x509.h>

#include "core/json.h"
#include "crypto/crypto.h"
#include "kbs/kbs_int.h"

#define ST "kbs.admin"
#define VALUE_MAX (64u << 10)

int
kbs_admin_ok(struct kbs_server *s, struct evhttp_request *req, char *who, size_t cap)
{
	const char *h = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Authorization");
	uint8_t got[32];
	int ok = 0;

	snprintf(who, cap, "-");
	if (s->have_admin_token && h != NULL && strncmp(h, "Bearer ", 7) == 0) {	/* public */
		/* Hash first so the comparison is fixed-size and constant time. */
		ci_sha256(h + 7, strlen(h + 7), got);
		ok = ci_ct_eq(got, s->admin_token_hash, 32) == 0;
		ci_wipe(got, sizeof(got));
		if (ok) {
			snprintf(who, cap, "token");
			return 1;
		}
	}
	if (s->cfg.admin_client_ca[0] != '\0') {
		struct evhttp_connection *c = evhttp_request_get_connection(req);
		struct bufferevent *bev = c ? evhttp_connection_get_bufferevent(c) : NULL;
		SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
		X509 *peer = ssl ? SSL_get0_peer_certificate(ssl) : NULL;

		/* The handshake verified it against --admin-client-ca. */
		if (peer != NULL && SSL_get_verify_result(ssl) == X509_V_OK) {
			char cn[64] = "?";
			X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn,
			    sizeof(cn));
			ci_str_mask(cn);
			snprintf(who, cap, "cert:%s", cn);
			return 1;
		}
	}
	return 0;
}

int
kbs_policy_install(struct kbs_server *s, const uint8_t *doc, size_t size, int persist,
    const char *client, struct cinfer_err *e)
{
	struct cinfer_policy *p = NULL;
	uint8_t dg[32];
	char hex[65];

	if (cinfer_policy_parse(doc, size, &p, e) != 0)
		return -1;
	cinfer_policy_digest(p, dg);
	ci_hex_encode(dg, 32, hex);
	if (persist && kbs_store_policy_set(&s->store, doc, size, hex, ci_time_now(), client,
	    e) != 0) {
		cinfer_policy_free(p);
		return -1;
	}
	cinfer_policy_free(s->policy);
	s->policy = p;
	memcpy(s->policy_digest, dg, 32);
	ci_log(CI_LOG_INFO, ST, "policy %s digest=%.16s", cinfer_policy_id(p), hex);
	return 0;
}

static void
reply_version(struct evhttp_request *req, const char *path, uint32_t v)
{
	json_t *j = json_pack("{s:s, s:I}", "resource", path, "version", (json_int_t)v);
	char *o = j ? ci_json_dump(j, 0) : NULL;

	kbs_reply_json(req, 200, NULL, o ? o : "{}");
	ci_free(o);
	json_decref(j);
}

void
kbs_handle_admin(struct kbs_server *s, struct evhttp_request *req, const char *rest)
{
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	struct cinfer_err e = { 0 };
	struct kbs_path p;
	uint8_t *body = NULL;
	size_t size = 0;
	char client[64], who[160], cred[80];
	uint32_t v = 0;

	kbs_client(req, client, sizeof(client));
	if (!kbs_admin_ok(s, req, cred, sizeof(cred))) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
		    "Bearer realm=\"cinfer-kbs admin\"");
		kbs_reply_error(req, 401, NULL, "unauthorized", "admin API needs the bearer token");
		ci_log(CI_LOG_WARN, ST, "admin request without a valid token client=%s", client);
		return;
	}
	snprintf(who, sizeof(who), "admin(%s)@%s", cred, client);
	body = kbs_body(req, &size);
	if (body == NULL) {
		kbs_reply_error(req, 503, NULL, "no_memory", "");
		return;
	}
	if (strncmp(rest, "resource/", 9) == 0) {	/* public */
		if (m != EVHTTP_REQ_PUT && m != EVHTTP_REQ_POST) {
			evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "PUT, POST");
			kbs_reply_error(req, 405, NULL, "method_not_allowed", "PUT, POST");
		} else if (kbs_req_path(rest + 9, &p, &e) != 0) {
			kbs_reply_error(req, 400, NULL, "bad_request", e.msg);
		} else if (size == 0 || size > VALUE_MAX) {
			kbs_reply_error(req, 400, NULL, "bad_request", "value must be 1..65536 bytes");
		} else if (kbs_store_put(&s->store, p.full, body, size, s->cfg.drain_default,
		    ci_time_now(), "put", who, &v, &e) != 0) {
			kbs_reply_error(req, 503, NULL, "store_error", e.msg);
		} else {
			reply_version(req, p.full, v);
			ci_log(CI_LOG_INFO, ST, "put %s v%u", p.full, v);
		}
	} else if (strncmp(rest, "rotate/", 7) == 0) {	/* public */
		struct kbs_rotate_req rr;
		if (m != EVHTTP_REQ_POST) {
			evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "POST");
			kbs_reply_error(req, 405, NULL, "method_not_allowed", "POST");
		} else if (kbs_req_path(rest + 7, &p, &e) != 0 ||
		    kbs_req_rotate(body, size, &rr, &e) != 0) {
			kbs_reply_error(req, 400, NULL, "bad_request", e.msg);
		} else {
			struct ci_secret cur;
			uint32_t cv;
			int rc = kbs_store_get(&s->store, p.full, 0, ci_time_now(), &cur, &cv, &e);
			ci_secret_clear(&cur);
			if (rc > 0) {
				kbs_reply_error(req, 404, NULL, "not_found", "no active version to rotate");
			} else if (rc < 0 || kbs_store_put(&s->store, p.full, rr.value, rr.value_size,
			    rr.drain_seconds >= 0 ? rr.drain_seconds : s->cfg.drain_default,
			    ci_time_now(), "rotate", who, &v, &e) != 0) {
				kbs_reply_error(req, 503, NULL, "store_error", e.msg);
			} else {
				reply_version(req, p.full, v);
				ci_log(CI_LOG_INFO, ST, "rotated %s to v%u", p.full, v);
			}
			kbs_rotate_req_clear(&rr);
		}
	} else if (strcmp(rest, "policy") == 0) {	/* public */
		if (m == EVHTTP_REQ_GET) {
			uint8_t *doc = NULL;
			size_t n = 0;
			int rc = kbs_store_policy_get(&s->store, &doc, &n, &e);
			if (rc == 0)
				kbs_reply_json(req, 200, NULL, (const char *)doc);
			else
				kbs_reply_error(req, 404, NULL, "not_found", "no policy set");
			ci_free(doc);
		} else if (m == EVHTTP_REQ_PUT || m == EVHTTP_REQ_POST) {
			if (kbs_policy_install(s, body, size, 1, who, &e) != 0)
				kbs_reply_error(req, e.code == CINFER_E_IO ? 503 : 400, NULL,
				    "bad_policy", e.msg);
			else
				kbs_reply_json(req, 200, NULL, "{\"status\":\"ok\"}");
		} else {
			evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
			    "GET, PUT, POST");
			kbs_reply_error(req, 405, NULL, "method_not_allowed", "GET, PUT, POST");
		}
	} else if (strcmp(rest, "revoke") == 0) {	/* public */
		struct kbs_revoke_req rv;
		char hex[2 * CINFER_MEAS_SIZE_MAX + 1];
		if (m != EVHTTP_REQ_POST) {
			evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "POST");
			kbs_reply_error(req, 405, NULL, "method_not_allowed", "POST");
		} else if (kbs_req_revoke(body, size, &rv, &e) != 0) {
			kbs_reply_error(req, 400, NULL, "bad_request", e.msg);
		} else {
			ci_hex_encode(rv.measurement, rv.measurement_size, hex);
			if (kbs_store_revoke(&s->store, hex, rv.reason, ci_time_now(), who, &e) != 0)
				kbs_reply_error(req, 503, NULL, "store_error", e.msg);
			else
				kbs_reply_json(req, 200, NULL, "{\"status\":\"ok\"}");
		}
	} else if (strcmp(rest, "audit") == 0) {	/* public */
		const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
		long long after = 0;
		char *o;
		if (m != EVHTTP_REQ_GET) {
			evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET");
			kbs_reply_error(req, 405, NULL, "method_not_allowed", "GET");
			goto out;
		}
		if (q != NULL && sscanf(q, "after=%lld", &after) != 1) {
			kbs_reply_error(req, 400, NULL, "bad_request", "only ?after=SEQ is understood");
			goto out;
		}
		o = kbs_store_audit_json(&s->store, after, 1000, &e);
		if (o == NULL)
			kbs_reply_error(req, 503, NULL, "store_error", e.msg);
		else
			kbs_reply_json(req, 200, NULL, o);
		ci_free(o);
	} else {
		kbs_reply_error(req, 404, NULL, "not_found", "no such admin endpoint");
	}
out:
	ci_wipe(body, size);
	ci_free(body);
}
