/* libcurl client of the key broker: see include/cinfer/kbs_client.h. */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cinfer/channel.h"
#include "cinfer/kbs_client.h"
#include "client/curl_sink.h"
#include "core/json.h"
#include "crypto/crypto.h"
#include "crypto/jose.h"

#define ST "kbs.client"
#define RESP_MAX (4u << 20)

void
cinfer_kbs_report_data(const char *nonce, const char *runtime_data, size_t size,
    uint8_t out[64])
{
	uint8_t h[1][CI_SHA256_SIZE];

	/* The project-wide framing of channel.h with the KBS context. */
	ci_sha256(runtime_data, size, h[0]);
	if (cinfer_bind_report_data_hashed(CINFER_BIND_KBS, (const uint8_t *)nonce, strlen(nonce),
	    (const uint8_t (*)[32])h, 1, out, NULL) != 0)
		memset(out, 0, 64);	/* cannot match any evidence */
}

char *
cinfer_kbs_runtime_data(const char *nonce, const char *jwk, struct cinfer_err *e)
{
	json_t *k = NULL, *rd = NULL;
	char *s = NULL, *r = NULL;

	if (ci_json_parse(jwk, strlen(jwk), ST, &k, e) != 0)
		return NULL;
	rd = json_pack("{s:s, s:O}", "nonce", nonce, "tee-pubkey", k);
	s = rd ? ci_json_dump(rd, 0) : NULL;
	if (s == NULL)
		ci_fail(e, CINFER_E_NOMEM, ST, "runtime-data");
	else
		r = strdup(s);
	ci_free(s);
	json_decref(rd);
	json_decref(k);
	return r;
}

struct cinfer_kbs_client {
	CURL *h;
	char *url;
	char *cacert;
	char *admin;
	char *tee;
	long timeout_ms;
	int fresh;
	EVP_PKEY *tee_key;
	char errbuf[CURL_ERROR_SIZE];
};

int
cinfer_kbs_client_new(const struct cinfer_kbs_client_opts *o, struct cinfer_kbs_client **out,
    struct cinfer_err *e)
{
	struct cinfer_kbs_client *c;

	*out = NULL;
	if (o == NULL || o->url == NULL || strncmp(o->url, "https://", 8) != 0)
		return ci_fail(e, CINFER_E_USAGE, ST, "broker URL must start with https://");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return ci_fail(e, CINFER_E_INTERNAL, ST, "curl_global_init");
	c = ci_calloc(1, sizeof(*c));
	if (c == NULL)
		return ci_fail(e, CINFER_E_NOMEM, ST, "client");
	c->url = ci_strdup(o->url);
	c->cacert = o->cacert ? ci_strdup(o->cacert) : NULL;
	c->admin = o->admin_token ? ci_strdup(o->admin_token) : NULL;
	c->tee = ci_strdup(o->tee ? o->tee : "sample");
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 30000;
	c->fresh = o->fresh_connection;
	c->h = curl_easy_init();
	if (c->url == NULL || c->tee == NULL || c->h == NULL || (o->cacert && !c->cacert) ||
	    (o->admin_token && !c->admin)) {
		cinfer_kbs_client_free(c);
		return ci_fail(e, CINFER_E_NOMEM, ST, "client");
	}
	while (strlen(c->url) > 8 && c->url[strlen(c->url) - 1] == '/')
		c->url[strlen(c->url) - 1] = '\0';
	curl_easy_setopt(c->h, CURLOPT_COOKIEFILE, "");	/* in-memory cookie engine */
	*out = c;
	return 0;
}

void
cinfer_kbs_client_free(struct cinfer_kbs_client *c)
{
	if (c == NULL)
		return;
	if (c->h != NULL)
		curl_easy_cleanup(c->h);
	if (c->admin != NULL) {
		ci_wipe(c->admin, strlen(c->admin));
		ci_free(c->admin);
	}
	ci_free(c->url);
	ci_free(c->cacert);
	ci_free(c->tee);
	EVP_PKEY_free(c->tee_key);
	ci_free(c);
}

int
cinfer_kbs_request(struct cinfer_kbs_client *c, const char *method, const char *path,
    const void *body, size_t size, int admin, long *status, char **resp, struct cinfer_err *e)
{
	struct curl_slist *hdrs = NULL;
	struct ci_curl_sink b = { .max = RESP_MAX };
	char *url = NULL, *auth = NULL;
	CURLcode cc;
	int rc = -1;

	*status = 0;
	if (resp != NULL)
		*resp = NULL;
	if (admin && c->admin == NULL)
		return ci_fail(e, CINFER_E_USAGE, ST, "no admin token given");
	url = ci_alloc(strlen(c->url) + strlen(path) + 1);
	if (url == NULL)
		return ci_fail(e, CINFER_E_NOMEM, ST, "url");
	snprintf(url, strlen(c->url) + strlen(path) + 1, "%s%s", c->url, path);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	if (admin) {
		size_t an = strlen(c->admin) + 32;
		auth = ci_alloc(an);
		if (auth == NULL) {
			ci_fail(e, CINFER_E_NOMEM, ST, "auth");
			goto out;
		}
		snprintf(auth, an, "Authorization: Bearer %s", c->admin);
		hdrs = curl_slist_append(hdrs, auth);
	}
	curl_easy_setopt(c->h, CURLOPT_URL, url);
	curl_easy_setopt(c->h, CURLOPT_HTTPGET, 1L);	/* reset a previous POST body */
	curl_easy_setopt(c->h, CURLOPT_CUSTOMREQUEST, method);
	if (body != NULL || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)size);
	}
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, ci_curl_sink_write);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c->h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(c->h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_3);
	curl_easy_setopt(c->h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c->h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c->h, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c->h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
	if (c->cacert != NULL)
		curl_easy_setopt(c->h, CURLOPT_CAINFO, c->cacert);
	curl_easy_setopt(c->h, CURLOPT_FRESH_CONNECT, (long)c->fresh);
	curl_easy_setopt(c->h, CURLOPT_FORBID_REUSE, (long)c->fresh);
	c->errbuf[0] = 0;
	cc = curl_easy_perform(c->h);
	if (cc != CURLE_OK) {
		ci_fail(e, CINFER_E_IO, ST, "%s %s: %s", method, path,
		    b.over ? "response too large" : c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, status);
	if (resp != NULL) {
		*resp = b.p ? b.p : strdup("");
		b.p = NULL;
		if (*resp == NULL) {
			ci_fail(e, CINFER_E_NOMEM, ST, "response");
			goto out;
		}
	}
	rc = 0;
out:
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, NULL);
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	if (auth != NULL) {
		ci_wipe(auth, strlen(auth));
		ci_free(auth);
	}
	free(b.p);
	ci_free(url);
	return rc;
}

/* Puts the broker's error text (with reasons) into e. */
static int
http_fail(long status, const char *what, const char *resp, struct cinfer_err *e)
{
	json_t *j = resp ? json_loads(resp, 0, NULL) : NULL;
	char text[160] = "";
	enum cinfer_code code = status == 401 || status == 403 ? CINFER_E_POLICY :
	    status == 404 ? CINFER_E_USAGE : status == 400 ? CINFER_E_MALFORMED : CINFER_E_IO;
	json_t *rs = j ? json_object_get(j, "reasons") : NULL;

	if (json_is_array(rs)) {
		size_t i, n = 0;
		json_t *r;
		json_array_foreach(rs, i, r) {
			const char *cd = json_string_value(json_object_get(r, "code"));
			n += (size_t)snprintf(text + n, n < sizeof(text) ? sizeof(text) - n : 0, "%s%s",
			    i ? "," : "", cd ? cd : "?");
			if (n >= sizeof(text))
				break;
		}
	} else if (j != NULL && json_string_value(json_object_get(j, "detail")) != NULL) {
		snprintf(text, sizeof(text), "%s", json_string_value(json_object_get(j, "detail")));
	}
	ci_str_mask(text);
	json_decref(j);
	return ci_fail(e, code, ST, "%s: HTTP %ld%s%s", what, status, text[0] ? ": " : "", text);
}

int
cinfer_kbs_attest(struct cinfer_kbs_client *c, cinfer_kbs_evidence_fn evidence, void *arg,
    char **token, struct cinfer_err *e)
{
	json_t *req = NULL, *ch = NULL, *jwk = NULL, *rd = NULL, *ev = NULL, *att = NULL;
	char *body = NULL, *resp = NULL, *jwk_s = NULL, *rd_s = NULL, *ev_s = NULL;
	const char *nonce;
	uint8_t report_data[64];
	long status;
	int rc = -1;

	if (token != NULL)
		*token = NULL;
	EVP_PKEY_free(c->tee_key);
	c->tee_key = ci_ec_keygen("P-256", e);
	if (c->tee_key == NULL)
		return -1;
	req = json_pack("{s:s, s:s, s:{}}", "version", CINFER_KBS_PROTOCOL_VERSION, "tee", c->tee,
	    "extra-params");
	body = req ? ci_json_dump(req, 0) : NULL;
	if (body == NULL) {
		ci_fail(e, CINFER_E_NOMEM, ST, "auth");
		goto out;
	}
	if (cinfer_kbs_request(c, "POST", "/kbs/v0/auth", body, strlen(body), 0, &status, &resp,
	    e) != 0)
		goto out;
	if (status != 200) {
		http_fail(status, "auth", resp, e);
		goto out;
	}
	if (ci_json_parse(resp, strlen(resp), ST, &ch, e) != 0)
		goto out;
	nonce = json_string_value(json_object_get(ch, "nonce"));
	if (nonce == NULL || strlen(nonce) > 128) {
		ci_fail(e, CINFER_E_MALFORMED, ST, "challenge has no nonce");
		goto out;
	}
	jwk = ci_jwk_from_pkey(c->tee_key, e);
	if (jwk == NULL)
		goto out;
	rd = json_pack("{s:s, s:O}", "nonce", nonce, "tee-pubkey", jwk);
	rd_s = rd ? ci_json_dump(rd, 0) : NULL;
	if (rd_s == NULL) {
		ci_fail(e, CINFER_E_NOMEM, ST, "runtime-data");
		goto out;
	}
	cinfer_kbs_report_data(nonce, rd_s, strlen(rd_s), report_data);
	if (evidence(report_data, arg, &ev_s, e) != 0)
		goto out;
	if (ci_json_parse(ev_s, strlen(ev_s), ST, &ev, e) != 0)
		goto out;
	att = json_pack("{s:O, s:O}", "runtime-data", rd, "tee-evidence", ev);
	ci_free(body);
	body = att ? ci_json_dump(att, 0) : NULL;
	if (body == NULL) {
		ci_fail(e, CINFER_E_NOMEM, ST, "attestation");
		goto out;
	}
	free(resp);
	resp = NULL;
	if (cinfer_kbs_request(c, "POST", "/kbs/v0/attest", body, strlen(body), 0, &status, &resp,
	    e) != 0)
		goto out;
	if (status != 200) {
		http_fail(status, "attest", resp, e);
		goto out;
	}
	if (token != NULL) {
		json_t *t = json_loads(resp, 0, NULL);
		const char *ts = json_string_value(json_object_get(t, "token"));
		*token = ts ? strdup(ts) : NULL;
		json_decref(t);
	}
	rc = 0;
out:
	json_decref(req);
	json_decref(ch);
	json_decref(jwk);
	json_decref(rd);
	json_decref(ev);
	json_decref(att);
	ci_free(body);
	ci_free(jwk_s);
	ci_free(rd_s);
	free(ev_s);
	free(resp);
	return rc;
}

int
cinfer_kbs_get_resource(struct cinfer_kbs_client *c, const char *path, uint32_t version,
    uint8_t *out, size_t cap, size_t *out_size, uint32_t *got_version, struct cinfer_err *e)
{
	char url[512], *resp = NULL;
	struct ci_secret s = { 0 };
	json_t *j = NULL;
	long status;
	int rc = -1;

	*out_size = 0;
	if (c->tee_key == NULL)
		return ci_fail(e, CINFER_E_USAGE, ST, "attest before fetching resources");
	if (version != 0)
		snprintf(url, sizeof(url), "/kbs/v0/resource/%s?version=%u", path, version);
	else
		snprintf(url, sizeof(url), "/kbs/v0/resource/%s", path);
	if (cinfer_kbs_request(c, "GET", url, NULL, 0, 0, &status, &resp, e) != 0)
		return -1;
	if (status != 200) {
		http_fail(status, "resource", resp, e);
		goto out;
	}
	if (got_version != NULL) {
		struct curl_header *h = NULL;
		*got_version = 0;
		if (curl_easy_header(c->h, "X-Cinfer-Key-Version", 0, CURLH_HEADER, -1, &h) ==
		    CURLHE_OK && h != NULL)
			*got_version = (uint32_t)strtoul(h->value, NULL, 10);
	}
	if (ci_json_parse(resp, strlen(resp), ST, &j, e) != 0 ||
	    ci_jwe_decrypt(c->tee_key, j, &s, e) != 0)
		goto out;
	if (s.size > cap) {
		ci_fail(e, CINFER_E_LIMIT, ST, "resource of %zu bytes is over %zu", s.size, cap);
		goto out;
	}
	memcpy(out, s.p, s.size);
	*out_size = s.size;
	rc = 0;
out:
	ci_secret_clear(&s);
	json_decref(j);
	free(resp);
	return rc;
}

static int
version_reply(long status, const char *what, const char *resp, uint32_t *version,
    struct cinfer_err *e)
{
	json_t *j;
	json_int_t v;

	if (status != 200)
		return http_fail(status, what, resp, e);
	j = json_loads(resp, 0, NULL);
	v = json_integer_value(json_object_get(j, "version"));
	json_decref(j);
	if (v <= 0 || v > UINT32_MAX)
		return ci_fail(e, CINFER_E_MALFORMED, ST, "%s: no version in reply", what);
	*version = (uint32_t)v;
	return 0;
}

int
cinfer_kbs_admin_put(struct cinfer_kbs_client *c, const char *path, const void *value,
    size_t size, uint32_t *version, struct cinfer_err *e)
{
	char url[512], *resp = NULL;
	long status;
	int rc;

	snprintf(url, sizeof(url), "/kbs/v0/admin/resource/%s", path);
	if (cinfer_kbs_request(c, "PUT", url, value, size, 1, &status, &resp, e) != 0)
		return -1;
	rc = version_reply(status, "put", resp, version, e);
	free(resp);
	return rc;
}

int
cinfer_kbs_admin_rotate(struct cinfer_kbs_client *c, const char *path, int64_t drain,
    uint32_t *version, struct cinfer_err *e)
{
	char url[512], body[64], *resp = NULL;
	long status;
	int rc;

	snprintf(url, sizeof(url), "/kbs/v0/admin/rotate/%s", path);
	snprintf(body, sizeof(body), "{\"drain_seconds\":%lld}", (long long)drain);
	if (cinfer_kbs_request(c, "POST", url, body, strlen(body), 1, &status, &resp, e) != 0)
		return -1;
	rc = version_reply(status, "rotate", resp, version, e);
	free(resp);
	return rc;
}

int
cinfer_kbs_admin_set_policy(struct cinfer_kbs_client *c, const void *doc, size_t size,
    struct cinfer_err *e)
{
	char *resp = NULL;
	long status;
	int rc = 0;

	if (cinfer_kbs_request(c, "PUT", "/kbs/v0/admin/policy", doc, size, 1, &status, &resp,
	    e) != 0)
		return -1;
	if (status != 200)
		rc = http_fail(status, "set policy", resp, e);
	free(resp);
	return rc;
}

int
cinfer_kbs_admin_revoke(struct cinfer_kbs_client *c, const char *meas, const char *reason,
    struct cinfer_err *e)
{
	json_t *j = json_pack("{s:s, s:s}", "measurement", meas, "reason", reason ? reason : "");
	char *body = j ? ci_json_dump(j, 0) : NULL, *resp = NULL;
	long status;
	int rc = -1;

	if (body == NULL) {
		json_decref(j);
		return ci_fail(e, CINFER_E_NOMEM, ST, "revoke");
	}
	if (cinfer_kbs_request(c, "POST", "/kbs/v0/admin/revoke", body, strlen(body), 1, &status,
	    &resp, e) == 0)
		rc = status == 200 ? 0 : http_fail(status, "revoke", resp, e);
	free(resp);
	ci_free(body);
	json_decref(j);
	return rc;
}

/*
 * The policy digest from an attestation token the broker sent us over TLS
 * (the broker is authenticated by its certificate; the JWT's signature is
 * for third parties). Zero if the token has none.
 */
static void
token_policy_digest(const char *token, uint8_t out[32])
{
	const char *d1 = token ? strchr(token, '.') : NULL;
	const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	uint8_t *pl = NULL;
	size_t n = 0;
	json_t *j = NULL;

	memset(out, 0, 32);
	if (d2 == NULL || ci_b64_decode(d1 + 1, (size_t)(d2 - d1 - 1), 1, &pl, &n, NULL) != 0)
		return;
	if (ci_json_parse(pl, n, ST, &j, NULL) == 0)
		(void)ci_json_hex(j, "policy_digest", 0, out, 32, 32, NULL, ST, NULL);
	json_decref(j);
	ci_free(pl);
}

int
cinfer_kbs_fetch_bundle_key(const struct cinfer_bundle_info *info, const char *const *cacerts,
    cinfer_kbs_evidence_fn evidence, void *arg, uint8_t key[CINFER_SEAL_KEY_SIZE],
    struct cinfer_err *e)
{
	return cinfer_kbs_fetch_bundle_key_ex(info, cacerts, evidence, arg, key, NULL, e);
}

int
cinfer_kbs_fetch_bundle_key_ex(const struct cinfer_bundle_info *info, const char *const *cacerts,
    cinfer_kbs_evidence_fn evidence, void *arg, uint8_t key[CINFER_SEAL_KEY_SIZE],
    uint8_t policy_sha256[32], struct cinfer_err *e)
{
	uint8_t shares[CINFER_SEAL_MAX_BROKERS][CINFER_SEAL_SHARE_SIZE];
	uint8_t digests[CINFER_SEAL_MAX_BROKERS][32];
	char path[256];
	size_t got = 0, need = info->broker_count == 1 ? 1 : info->threshold;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/%s/%s", CINFER_KBS_MODEL_REPO, CINFER_KBS_MODEL_TYPE,
	    info->key_id);
	for (size_t i = 0; i < info->broker_count && got < need; i++) {
		struct cinfer_kbs_client_opts o = { .url = info->brokers[i].url,
			.cacert = cacerts ? cacerts[i] : NULL };
		struct cinfer_kbs_client *c = NULL;
		struct cinfer_err one = { 0 };
		uint8_t buf[64];
		size_t n = 0;
		char *token = NULL;

		if (cinfer_kbs_client_new(&o, &c, &one) != 0 ||
		    cinfer_kbs_attest(c, evidence, arg, &token, &one) != 0 ||
		    cinfer_kbs_get_resource(c, path, info->brokers[i].key_version, buf, sizeof(buf),
		    &n, NULL, &one) != 0) {
			cinfer_kbs_client_free(c);
			free(token);
			/* Keep the first broker's refusal: it says why. */
			ci_fail(e, one.code, one.stage, "broker %zu (%s): %s", i, info->brokers[i].url,
			    one.msg);
			continue;
		}
		cinfer_kbs_client_free(c);
		token_policy_digest(token, digests[got]);
		free(token);
		if (n != (need == 1 ? CINFER_SEAL_KEY_SIZE : CINFER_SEAL_SHARE_SIZE)) {
			ci_wipe(buf, sizeof(buf));
			ci_fail(e, CINFER_E_MALFORMED, ST, "broker %zu returned %zu bytes", i, n);
			continue;
		}
		memcpy(shares[got++], buf, n);
		ci_wipe(buf, sizeof(buf));
	}
	if (got < need) {
		ci_fail(e, CINFER_E_POLICY, ST, "only %zu of %zu key shares released", got, need);
		goto out;
	}
	if (policy_sha256 != NULL) {
		/* One broker: its policy digest; several: SHA-256 over theirs, in order. */
		if (got == 1)
			memcpy(policy_sha256, digests[0], 32);
		else
			ci_sha256(digests, got * 32, policy_sha256);
	}
	if (need == 1) {
		memcpy(key, shares[0], CINFER_SEAL_KEY_SIZE);
	} else if (cinfer_seal_combine_key((const uint8_t (*)[CINFER_SEAL_SHARE_SIZE])shares, got,
	    key, e) != 0) {
		goto out;
	}
	cinfer_err_clear(e);
	rc = 0;
out:
	ci_wipe(shares, sizeof(shares));
	return rc;
}

int
cinfer_kbs_unseal_bundle(const char *path, const char *cacert, cinfer_kbs_evidence_fn evidence,
    void *arg, struct cinfer_unsealed *out, struct cinfer_err *e)
{
	return cinfer_kbs_unseal_bundle_ex(path, cacert, evidence, arg, out, NULL, e);
}

int
cinfer_kbs_unseal_bundle_ex(const char *path, const char *cacert, cinfer_kbs_evidence_fn evidence,
    void *arg, struct cinfer_unsealed *out, uint8_t policy_sha256[32], struct cinfer_err *e)
{
	struct cinfer_bundle_info *info = ci_calloc(1, sizeof(*info));
	const char *cas[CINFER_SEAL_MAX_BROKERS];
	uint8_t key[CINFER_SEAL_KEY_SIZE];
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (info == NULL)
		return ci_fail(e, CINFER_E_NOMEM, ST, "bundle header");
	for (size_t i = 0; i < CINFER_SEAL_MAX_BROKERS; i++)
		cas[i] = cacert;
	if (cinfer_bundle_read_header(path, info, e) == 0 &&
	    cinfer_kbs_fetch_bundle_key_ex(info, cas, evidence, arg, key, policy_sha256, e) == 0)
		rc = cinfer_unseal_file(path, key, out, e);
	ci_wipe(key, sizeof(key));
	ci_free(info);
	return rc;
}
