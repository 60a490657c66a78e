/* The verify-before-send client, over libcurl with OpenSSL. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "cinfer/client.h"
#include "client/curl_sink.h"
#include "core/json.h"
#include "crypto/crypto.h"

#define STAGE "client"
#define BODY_MAX (64u << 20)

struct cinfer_client {
	CURL *curl;
	char url[512];
	struct cinfer_ratls_verifier v;
	long timeout_ms;
};

static CURLcode
ssl_ctx_cb(CURL *curl, void *sslctx, void *arg)
{
	(void)curl;
	cinfer_ratls_ctx_set_verifier(sslctx, arg);
	return CURLE_OK;
}

int
cinfer_client_new(const struct cinfer_client_opts *o, struct cinfer_client **out,
    struct cinfer_err *e)
{
	struct cinfer_client *c;

	*out = NULL;
	if (o->policy == NULL)
		return ci_fail(e, CINFER_E_USAGE, STAGE,
		    "a client policy is required: cinfer never sends input to an unchecked server");
	if (o->url == NULL || strncmp(o->url, "https://", 8) != 0 || strlen(o->url) >= sizeof(c->url))
		return ci_fail(e, CINFER_E_USAGE, STAGE, "the server URL must be https://HOST:PORT");
	c = ci_calloc(1, sizeof(*c));
	if (c == NULL)
		return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
	strcpy(c->url, o->url);
	while (strlen(c->url) > 8 && c->url[strlen(c->url) - 1] == '/')
		c->url[strlen(c->url) - 1] = '\0';
	c->v.policy = o->policy;
	c->v.opts = o->verify;
	c->timeout_ms = o->timeout_ms ? o->timeout_ms : 30000;
	c->curl = curl_easy_init();
	if (c->curl == NULL) {
		ci_free(c);
		return ci_fail(e, CINFER_E_NOMEM, STAGE, "curl_easy_init failed");
	}
	*out = c;
	return 0;
}

void
cinfer_client_free(struct cinfer_client *c)
{
	if (c == NULL)
		return;
	curl_easy_cleanup(c->curl);
	cinfer_ratls_verifier_clear(&c->v);
	ci_free(c);
}

const struct cinfer_ratls_verifier *
cinfer_client_verifier(const struct cinfer_client *c)
{
	return &c->v;
}

static size_t
header_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct cinfer_response *r = arg;
	size_t n = size * nitems;
	static const char name[] = "cinfer-receipt:";

	if (n > sizeof(name) && n < 16384 && strncasecmp(buf, name, sizeof(name) - 1) == 0) {
		size_t a = sizeof(name) - 1, b = n;
		while (a < b && (buf[a] == ' ' || buf[a] == '\t'))
			a++;
		while (b > a && (buf[b - 1] == '\r' || buf[b - 1] == '\n' || buf[b - 1] == ' '))
			b--;
		free(r->receipt);
		r->receipt = strndup(buf + a, b - a);
	}
	return n;
}

int
cinfer_client_request(struct cinfer_client *c, const char *method, const char *path,
    const char *content_type, const char *const *headers, const void *body, size_t size,
    struct cinfer_response *r, struct cinfer_err *e)
{
	char url[1024], ctype[128];
	struct curl_slist *hdr = NULL;
	struct ci_curl_sink s = { .max = BODY_MAX };
	char errbuf[CURL_ERROR_SIZE] = "";
	CURLcode cc;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if ((size_t)snprintf(url, sizeof(url), "%s%s", c->url, path) >= sizeof(url))
		return ci_fail(e, CINFER_E_USAGE, STAGE, "URL too long");
	curl_easy_reset(c->curl);
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c->curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_3);
	/* Identity is the evidence, not a name: the callback does all checking. */
	curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYHOST, 0L);
	/*
	 * No TLS session resumption (it would skip the evidence check on a new
	 * connection), but the verified connection itself is kept, so the fresh
	 * evidence check and the input travel over the same TLS session, to the
	 * same server instance even behind a load balancer.
	 */
	curl_easy_setopt(c->curl, CURLOPT_SSL_SESSIONID_CACHE, 0L);
	curl_easy_setopt(c->curl, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb);
	curl_easy_setopt(c->curl, CURLOPT_SSL_CTX_DATA, &c->v);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, ci_curl_sink_write);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
	if (body != NULL) {
		snprintf(ctype, sizeof(ctype), "Content-Type: %s", content_type ? content_type :
		    "application/json");
		hdr = curl_slist_append(hdr, ctype);
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)size);
	}
	hdr = curl_slist_append(hdr, "Expect:");
	for (; headers != NULL && *headers != NULL; headers++)
		hdr = curl_slist_append(hdr, *headers);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdr);
	c->v.done = 0;
	cc = curl_easy_perform(c->curl);
	if (cc == CURLE_OK) {
		long fresh = -1;
		curl_easy_getinfo(c->curl, CURLINFO_NUM_CONNECTS, &fresh);
		/* A new connection must have passed the check just now; a reused one
		 * passed it when it was made (accepted stays set from then). */
		if (fresh != 0 && !c->v.done)
			c->v.accepted = 0;
	}
	if (cc != CURLE_OK) {
		if (c->v.done)
			c->v.accepted = 0;
		if (c->v.done && !c->v.accepted) {
			/* Our check refused the server: report why; nothing was sent. */
			struct cinfer_err *ve = &c->v.err;
			ci_fail(e, ve->code ? ve->code : CINFER_E_CRYPTO, ve->stage ? ve->stage : STAGE,
			    "refused the server before any input was sent: %s", ve->msg);
		} else if (s.over) {
			ci_fail(e, CINFER_E_LIMIT, STAGE, "response larger than %u bytes", BODY_MAX);
		} else {
			ci_fail(e, CINFER_E_IO, STAGE, "%s: %s", url, errbuf[0] ? errbuf :
			    curl_easy_strerror(cc));
		}
		goto out;
	}
	if (!c->v.accepted) {
		ci_fail(e, CINFER_E_INTERNAL, STAGE, "TLS finished without the evidence check");
		goto out;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &r->status);
	r->body = s.p;
	r->body_size = s.n;
	s.p = NULL;
	rc = 0;
out:
	free(s.p);
	curl_slist_free_all(hdr);
	if (rc != 0) {
		free(r->receipt);
		r->receipt = NULL;
	}
	return rc;
}

void
cinfer_response_clear(struct cinfer_response *r)
{
	free(r->body);
	free(r->receipt);
	memset(r, 0, sizeof(*r));
}

int
cinfer_client_attest(struct cinfer_client *c, struct cinfer_err *e)
{
	uint8_t nonce[32], expect[64];
	char hex[65], path[128];
	struct cinfer_response r;
	struct cinfer_evidence ev;
	struct cinfer_claims claims;
	struct cinfer_decision d;
	json_t *root = NULL;
	char *env = NULL;
	int rc = -1;

	cinfer_evidence_init(&ev);
	if (ci_random(nonce, sizeof(nonce), e) != 0)
		return -1;
	ci_hex_encode(nonce, sizeof(nonce), hex);
	snprintf(path, sizeof(path), "/v1/attestation?nonce=%s", hex);
	if (cinfer_client_request(c, "GET", path, NULL, NULL, NULL, 0, &r, e) != 0)
		return -1;
	if (r.status != 200) {
		ci_fail(e, CINFER_E_IO, STAGE, "/v1/attestation answered %ld", r.status);
		goto out;
	}
	if (ci_json_parse(r.body, r.body_size, STAGE, &root, e) != 0)
		goto out;
	env = json_dumps(json_object_get(root, "evidence"), JSON_COMPACT);
	if (env == NULL || cinfer_evidence_parse_json(&ev, env, strlen(env), e) != 0) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE, "/v1/attestation returned no evidence");
		goto out;
	}
	{
		EVP_PKEY *keys[] = { c->v.tls_key, c->v.receipt_key, NULL };
		if (cinfer_bind_report_data(CINFER_BIND_TLS, nonce, sizeof(nonce), keys, expect, e) != 0)
			goto out;
	}
	if (cinfer_evidence_verify(&ev, &c->v.opts, &claims, e) != 0)
		goto out;
	{
		struct cinfer_policy_input in = { .claims = &claims, .claims_count = 1,
			.at = c->v.opts.at, .expected_report_data = expect,
			.expected_report_data_size = 64, .nonce_issued_at = c->v.opts.at ?
			c->v.opts.at : ci_time_now() };
		if (cinfer_policy_eval(c->v.policy, &in, &d, e) != 0)
			goto out;
	}
	/* The fresh evidence is the one to report: it proves liveness too. */
	c->v.claims = claims;
	c->v.decision = d;
	if (!d.accepted) {
		ci_fail(e, CINFER_E_POLICY, "client.fresh", "fresh evidence is rejected by the policy");
		goto out;
	}
	rc = 0;
out:
	free(env);
	json_decref(root);
	cinfer_evidence_clear(&ev);
	cinfer_response_clear(&r);
	return rc;
}
