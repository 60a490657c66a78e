/*
 * cinferd's HTTP surface, over TLS 1.3 that ends inside the TEE. Handlers
 * run on the event loop; they log request ids and timings, never bodies.
 */
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/keyvalq_struct.h>
#include <openssl/err.h>

#include "cinfer/channel.h"
#include "core/json.h"
#include "crypto/crypto.h"
#include "server/server.h"

#define STAGE "server.http"

static void
reply(struct evhttp_request *req, int code, const char *ctype, const char *body, size_t size)
{
	struct evbuffer *b = evbuffer_new();
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Type", ctype);
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	if (b != NULL)
		evbuffer_add(b, body, size);
	evhttp_send_reply(req, code, NULL, b);
	if (b != NULL)
		evbuffer_free(b);
}

void srv_reply_json(struct evhttp_request *req, int code, json_t *v);
void srv_reply_error(struct evhttp_request *req, int code, const char *reason, const char *text);

void
srv_reply_json(struct evhttp_request *req, int code, json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);

	if (s == NULL) {
		reply(req, 500, "text/plain", "out of memory\n", 14);
		return;
	}
	reply(req, code, "application/json", s, strlen(s));
	free(s);
}

void
srv_reply_error(struct evhttp_request *req, int code, const char *reason, const char *text)
{
	json_t *v = json_pack("{s:s, s:s}", "error", reason, "text", text);

	srv_reply_json(req, code, v);
	json_decref(v);
}

static int
method_is(struct evhttp_request *req, enum evhttp_cmd_type want)
{
	if (evhttp_request_get_command(req) == want)
		return 1;
	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
	    want == EVHTTP_REQ_GET ? "GET" : "POST");
	srv_reply_error(req, 405, "method_not_allowed", "this endpoint takes another method");
	return 0;
}

static void
on_healthz(struct evhttp_request *req, void *arg)
{
	struct srv *s = arg;

	atomic_fetch_add(&s->m.requests, 1);
	if (method_is(req, EVHTTP_REQ_GET))
		reply(req, 200, "text/plain", "ok\n", 3);
}

static void
on_readyz(struct evhttp_request *req, void *arg)
{
	struct srv *s = arg;

	atomic_fetch_add(&s->m.requests, 1);
	if (!method_is(req, EVHTTP_REQ_GET))
		return;
	if (s->draining)
		reply(req, 503, "text/plain", "draining\n", 9);
	else if (s->ready)
		reply(req, 200, "text/plain", "ready\n", 6);
	else
		reply(req, 503, "text/plain", "not ready\n", 10);
}

static void
on_metrics(struct evhttp_request *req, void *arg)
{
	struct srv *s = arg;
	char *body;

	atomic_fetch_add(&s->m.requests, 1);
	if (!method_is(req, EVHTTP_REQ_GET))
		return;
	body = srv_metrics_render(s);
	if (body == NULL) {
		reply(req, 500, "text/plain", "out of memory\n", 14);
		return;
	}
	reply(req, 200, "text/plain; version=0.0.4", body, strlen(body));
	ci_free(body);
}

/* GET /v1/attestation?nonce=HEX: fresh evidence binding the nonce and both keys. */
static void
on_attestation(struct evhttp_request *req, void *arg)
{
	struct srv *s = arg;
	struct evkeyvalq q;
	const char *nonce_hex;
	uint8_t nonce[64], rd[64];
	size_t nonce_size = 0;
	struct cinfer_evidence ev;
	struct cinfer_err e = { 0 };
	char *env;
	json_t *out, *envj;

	atomic_fetch_add(&s->m.requests, 1);
	if (!method_is(req, EVHTTP_REQ_GET))
		return;
	if (s->infer != NULL && !srv_rate_ok(s, req)) {
		atomic_fetch_add(&s->m.rate_limited, 1);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
		srv_reply_error(req, 429, "rate_limited", "too many attestation requests");
		return;
	}
	memset(&q, 0, sizeof(q));
	if (evhttp_parse_query_str(evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req)) ?
		evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req)) : "", &q) != 0) {
		srv_reply_error(req, 400, "bad_query", "cannot parse the query string");
		return;
	}
	nonce_hex = evhttp_find_header(&q, "nonce");
	if (nonce_hex == NULL || ci_hex_decode(nonce_hex, strlen(nonce_hex), nonce, sizeof(nonce),
		&nonce_size, NULL) != 0 || nonce_size < 16) {
		evhttp_clear_headers(&q);
		srv_reply_error(req, 400, "bad_nonce", "give nonce=HEX, 16 to 64 bytes");
		return;
	}
	evhttp_clear_headers(&q);
	if (cinfer_bind_report_data_hashed(CINFER_BIND_TLS, nonce, nonce_size,
		(const uint8_t (*)[32])s->key_sha256, 2, rd, &e) != 0 ||
	    srv_attest(s, rd, &ev, &e) != 0) {
		ci_log(CI_LOG_ERROR, STAGE, "attestation failed: %s: %s", e.stage, e.msg);
		srv_reply_error(req, 500, "attestation_failed", "the platform gave no evidence");
		return;
	}
	atomic_fetch_add(&s->m.attestations, 1);
	env = cinfer_evidence_to_json(&ev, &e);
	cinfer_evidence_clear(&ev);
	envj = env ? json_loads(env, 0, NULL) : NULL;
	free(env);
	{
		/* The key digests let a page recompute report_data; they are the server's
		 * word (a browser can't see the TLS key), `cinfer attest` checks them. */
		char x1[65], x2[65];
		ci_hex_encode(s->key_sha256[0], 32, x1);
		ci_hex_encode(s->key_sha256[1], 32, x2);
		out = json_pack("{s:s, s:[s,s], s:o}", "binding",
		    "report_data = SHA-512(\"cinfer tls v1\" || 0x00 || be32(len) || nonce || "
		    "SHA-256(SPKI tls) || SHA-256(SPKI receipt))", "key_sha256", x1, x2,
		    "evidence", envj ? envj : json_null());
	}
	srv_reply_json(req, 200, out);
	json_decref(out);
}

/* The trust page (web/), embedded at build time so it is part of the measurement. */
struct srv_web_asset {
	const char *path, *ctype;
	const unsigned char *data;
	size_t size;
};
extern const struct srv_web_asset srv_web_assets[];

static void
on_asset(struct evhttp_request *req, void *arg)
{
	const struct srv_web_asset *a = arg;
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *b;
	enum evhttp_cmd_type m = evhttp_request_get_command(req);

	if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD) {
		evhttp_add_header(h, "Allow", "GET, HEAD");
		srv_reply_error(req, 405, "method_not_allowed", "GET this page");
		return;
	}
	evhttp_add_header(h, "Content-Type", a->ctype);
	evhttp_add_header(h, "Content-Security-Policy", "default-src 'self'; script-src 'self'; "
	    "style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; "
	    "form-action 'none'; frame-ancestors 'none'; object-src 'none'");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	evhttp_add_header(h, "Cache-Control", "no-store");
	b = evbuffer_new();
	if (b != NULL)
		evbuffer_add_reference(b, a->data, a->size, NULL, NULL);
	evhttp_send_reply(req, 200, NULL, b);
	if (b != NULL)
		evbuffer_free(b);
}

static struct bufferevent *
bevcb(struct event_base *base, void *arg)
{
	struct srv *s = arg;
	SSL *ssl = SSL_new(s->ssl_ctx);

	if (ssl == NULL)
		return NULL;
	atomic_fetch_add(&s->m.connections, 1);
	return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
}

int
srv_http_start(struct srv *s, struct cinfer_err *e)
{
	char host[128], *colon;
	long port;

	s->ssl_ctx = SSL_CTX_new(TLS_server_method());
	if (s->ssl_ctx == NULL ||
	    SSL_CTX_set_min_proto_version(s->ssl_ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_use_certificate(s->ssl_ctx, s->cert) != 1 ||
	    SSL_CTX_use_PrivateKey(s->ssl_ctx, s->tls_key) != 1 ||
	    SSL_CTX_check_private_key(s->ssl_ctx) != 1) {
		ERR_clear_error();
		return ci_fail(e, CINFER_E_INTERNAL, STAGE, "cannot set up TLS 1.3");
	}
	SSL_CTX_set_options(s->ssl_ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
	snprintf(host, sizeof(host), "%s", s->cfg.listen);
	colon = strrchr(host, ':');
	if (colon == NULL)
		return ci_fail(e, CINFER_E_USAGE, STAGE, "listen must be ADDR:PORT");
	*colon = '\0';
	port = strtol(colon + 1, NULL, 10);
	if (port < 0 || port > 65535)
		return ci_fail(e, CINFER_E_USAGE, STAGE, "bad port in %s", s->cfg.listen);
	s->http = evhttp_new(s->base);
	if (s->http == NULL)
		return ci_fail(e, CINFER_E_NOMEM, STAGE, "evhttp_new failed");
	evhttp_set_bevcb(s->http, bevcb, s);
	evhttp_set_max_body_size(s->http, (ev_ssize_t)s->cfg.max_body);
	evhttp_set_max_headers_size(s->http, 16384);
	evhttp_set_timeout(s->http, 30);
	evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
	    EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_cb(s->http, "/healthz", on_healthz, s);
	evhttp_set_cb(s->http, "/readyz", on_readyz, s);
	evhttp_set_cb(s->http, "/metrics", on_metrics, s);
	evhttp_set_cb(s->http, "/v1/attestation", on_attestation, s);
	srv_http_routes_extra(s);
	for (const struct srv_web_asset *a = srv_web_assets; a->path != NULL; a++) {
		evhttp_set_cb(s->http, a->path, on_asset, (void *)a);
		if (strcmp(a->path, "/index.html") == 0)	/* public */
			evhttp_set_cb(s->http, "/", on_asset, (void *)a);
	}
	evhttp_set_gencb(s->http, srv_http_gencb, s);
	{
		struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(s->http, host,
		    (ev_uint16_t)port);
		if (bs == NULL)
			return ci_fail(e, CINFER_E_IO, STAGE, "cannot listen on %s", s->cfg.listen);
		{
			/* Small TLS records must not wait for delayed ACKs (Nagle): accepted
			 * sockets inherit this from the listener on Linux. */
			int one = 1;
			(void)setsockopt(evhttp_bound_socket_get_fd(bs), IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof(one));
		}
		if (port == 0) {
			/* Report the port the kernel chose (tests use port 0). */
			struct sockaddr_storage ss;
			socklen_t len = sizeof(ss);
			evutil_socket_t fd = evhttp_bound_socket_get_fd(bs);
			if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
				port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
				snprintf(s->cfg.listen, sizeof(s->cfg.listen), "%.100s:%ld", host, port);
			}
		}
	}
	return 0;
}
