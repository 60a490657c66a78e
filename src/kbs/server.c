/* cinfer-kbs HTTP(S) front: libevent evhttp over bufferevent_openssl. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/keyvalq_struct.h>

#include "core/json.h"
#include "crypto/crypto.h"
#include "kbs/kbs_int.h"

#define ST "kbs.http"

static const char *
status_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

void
kbs_reply_json(struct evhttp_request *req, int status, const char *reason, const char *body)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *b = evbuffer_new();

	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "Cache-Control", "no-store");
	if (b != NULL && body != NULL)
		evbuffer_add(b, body, strlen(body));
	evhttp_send_reply(req, status, reason ? reason : status_reason(status), b);
	if (b != NULL)
		evbuffer_free(b);
}

void
kbs_reply_error(struct evhttp_request *req, int status, const char *reason, const char *code,
    const char *detail)
{
	json_t *j = json_pack("{s:s, s:s}", "error", code, "detail", detail ? detail : "");
	char *s = j ? ci_json_dump(j, 0) : NULL;

	kbs_reply_json(req, status, reason, s ? s : "{\"error\":\"internal\"}");
	ci_free(s);
	json_decref(j);
}

uint8_t *
kbs_body(struct evhttp_request *req, size_t *size)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(in);
	uint8_t *p = ci_alloc(n + 1);

	*size = 0;
	if (p == NULL)
		return NULL;
	evbuffer_copyout(in, p, n);
	p[n] = 0;
	*size = n;
	/* Bodies may carry secrets (admin puts): leave no copy in libevent's buffer. */
	if (n > 0) {
		uint8_t *flat = evbuffer_pullup(in, -1);
		if (flat != NULL)
			ci_wipe(flat, n);
		evbuffer_drain(in, n);
	}
	return p;
}

const char *
kbs_client(struct evhttp_request *req, char *buf, size_t cap)
{
	struct evhttp_connection *c = evhttp_request_get_connection(req);
	char *addr = NULL;
	ev_uint16_t port = 0;

	snprintf(buf, cap, "?");
	if (c != NULL) {
		evhttp_connection_get_peer(c, &addr, &port);
		if (addr != NULL)
			snprintf(buf, cap, "%s", addr);
	}
	ci_str_mask(buf);
	return buf;
}

/* ---- sessions ---------------------------------------------------------------- */

void
kbs_session_drop(struct kbs_session *ss)
{
	EVP_PKEY_free(ss->tee_pubkey);
	ci_wipe(ss, sizeof(*ss));
	memset(ss, 0, sizeof(*ss));
}

struct kbs_session *
kbs_session_new(struct kbs_server *s, int64_t now)
{
	struct kbs_session *free_slot = NULL, *oldest = NULL;
	struct cinfer_err e = { 0 };

	for (size_t i = 0; i < s->cfg.max_sessions; i++) {
		struct kbs_session *ss = &s->sessions[i];
		if (ss->used && !ss->attested && now - ss->issued_at > 2 * s->cfg.nonce_ttl + 60)
			kbs_session_drop(ss);
		else if (ss->used && ss->attested && now >= ss->expires_at)
			kbs_session_drop(ss);
		if (!ss->used && free_slot == NULL)
			free_slot = ss;
		if (ss->used && (oldest == NULL || ss->last_used < oldest->last_used))
			oldest = ss;
	}
	if (free_slot == NULL) {
		ci_log(CI_LOG_WARN, ST, "session table full: evicting the least recently used");
		kbs_session_drop(oldest);
		free_slot = oldest;
	}
	if (ci_random(free_slot->id, sizeof(free_slot->id), &e) != 0)
		return NULL;
	free_slot->used = 1;
	free_slot->issued_at = now;
	free_slot->last_used = ++s->tick;
	return free_slot;
}

struct kbs_session *
kbs_session_find(struct kbs_server *s, struct evhttp_request *req)
{
	const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "Cookie");
	char val[96];
	uint8_t *id = NULL;
	size_t n = 0;
	struct cinfer_err e = { 0 };
	struct kbs_session *hit = NULL;

	if (h == NULL || kbs_req_cookie(h, val, sizeof(val)) != 0)
		return NULL;
	if (ci_b64_decode(val, strlen(val), 1, &id, &n, &e) != 0)
		return NULL;
	if (n == 32) {
		for (size_t i = 0; i < s->cfg.max_sessions; i++) {
			struct kbs_session *ss = &s->sessions[i];
			/* Constant time: session ids are bearer secrets. */
			if (ss->used && ci_ct_eq(ss->id, id, 32) == 0)
				hit = ss;
		}
	}
	ci_wipe(id, n);
	ci_free(id);
	if (hit != NULL)
		hit->last_used = ++s->tick;
	return hit;
}

/* ---- rate limits --------------------------------------------------------- */

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 1 if allowed. A token bucket per client address. */
static int
rate_ok(struct kbs_server *s, const char *client)
{
	struct kbs_bucket *b = NULL, *lru = &s->buckets[0];
	double now = mono();

	if (s->cfg.rate <= 0)
		return 1;
	for (size_t i = 0; i < CI_ARRAY_LEN(s->buckets); i++) {
		if (strcmp(s->buckets[i].client, client) == 0) {	/* public */
			b = &s->buckets[i];
			break;
		}
		if (s->buckets[i].last < lru->last)
			lru = &s->buckets[i];
	}
	if (b == NULL) {
		b = lru;
		snprintf(b->client, sizeof(b->client), "%s", client);
		b->tokens = s->cfg.burst;
		b->last = now;
	}
	b->tokens += (now - b->last) * s->cfg.rate;
	if (b->tokens > s->cfg.burst)
		b->tokens = s->cfg.burst;
	b->last = now;
	if (b->tokens < 1)
		return 0;
	b->tokens -= 1;
	return 1;
}

/* ---- routing -------------------------------------------------------------- */

static void
method_not_allowed(struct evhttp_request *req, const char *allow)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
	kbs_reply_error(req, 405, NULL, "method_not_allowed", allow);
}

static void
route(struct evhttp_request *req, void *arg)
{
	struct kbs_server *s = arg;
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
	const char *path = u ? evhttp_uri_get_path(u) : NULL;
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	char client[64];

	kbs_client(req, client, sizeof(client));
	if (!rate_ok(s, client)) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
		kbs_reply_error(req, 429, NULL, "rate_limited", "too many requests from this client");
		ci_log(CI_LOG_WARN, ST, "rate limited client=%s", client);
		return;
	}
	if (path == NULL) {
		kbs_reply_error(req, 400, NULL, "bad_request", "no path");
		return;
	}
	if (strcmp(path, "/kbs/v0/auth") == 0) {	/* public */
		if (m != EVHTTP_REQ_POST)
			return method_not_allowed(req, "POST");
		return kbs_handle_auth(s, req);
	}
	if (strcmp(path, "/kbs/v0/attest") == 0) {	/* public */
		if (m != EVHTTP_REQ_POST)
			return method_not_allowed(req, "POST");
		return kbs_handle_attest(s, req);
	}
	if (strncmp(path, "/kbs/v0/resource/", 17) == 0) {	/* public */
		if (m == EVHTTP_REQ_GET)
			return kbs_handle_resource(s, req, path + 17);
		if (m == EVHTTP_REQ_POST || m == EVHTTP_REQ_PUT) {
			/* Trustee-style registration: an admin put. */
			char rest[KBS_PATH_MAX];
			snprintf(rest, sizeof(rest), "resource/%s", path + 17);
			return kbs_handle_admin(s, req, rest);
		}
		return method_not_allowed(req, "GET, POST, PUT");
	}
	if (strncmp(path, "/kbs/v0/admin/", 14) == 0)	/* public */
		return kbs_handle_admin(s, req, path + 14);
	if (strcmp(path, "/healthz") == 0) {	/* public */
		if (m != EVHTTP_REQ_GET)
			return method_not_allowed(req, "GET");
		return kbs_reply_json(req, 200, NULL, "{\"status\":\"ok\"}");
	}
	kbs_reply_error(req, 404, NULL, "not_found", "no such endpoint");
}

static struct bufferevent *
bevcb(struct event_base *base, void *arg)
{
	struct kbs_server *s = arg;
	SSL *ssl = SSL_new(s->ssl);

	if (ssl == NULL)
		return NULL;
	return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
	    BEV_OPT_CLOSE_ON_FREE);
}

static void
purge_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kbs_server *s = arg;
	struct cinfer_err e = { 0 };
	int n = kbs_store_purge(&s->store, ci_time_now(), &e);

	if (n < 0)
		ci_log(CI_LOG_ERROR, "kbs.store", "purge failed: %s", e.msg);
	else if (n > 0)
		ci_log(CI_LOG_INFO, "kbs.store", "destroyed %d drained key version(s)", n);
}

int
kbs_server_start(struct kbs_server *s, struct cinfer_err *e)
{
	char host[128];
	const char *colon = strrchr(s->cfg.listen, ':');
	struct evhttp_bound_socket *bs;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct timeval one = { 1, 0 };
	long port;
	char *end;

	if (colon == NULL || (size_t)(colon - s->cfg.listen) >= sizeof(host))
		return ci_fail(e, CINFER_E_USAGE, ST, "--listen wants ADDR:PORT");
	memcpy(host, s->cfg.listen, (size_t)(colon - s->cfg.listen));
	host[colon - s->cfg.listen] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 0 || port > 65535)
		return ci_fail(e, CINFER_E_USAGE, ST, "bad port in --listen");
	s->sessions = ci_calloc(s->cfg.max_sessions, sizeof(*s->sessions));
	s->base = event_base_new();
	s->http = s->base ? evhttp_new(s->base) : NULL;
	if (s->sessions == NULL || s->http == NULL)
		return ci_fail(e, CINFER_E_NOMEM, ST, "event loop");
	evhttp_set_bevcb(s->http, bevcb, s);
	evhttp_set_max_body_size(s->http, (ev_ssize_t)s->cfg.max_body);
	evhttp_set_max_headers_size(s->http, 16384);
	evhttp_set_timeout(s->http, 30);
	evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
	    EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_gencb(s->http, route, s);
	bs = evhttp_bind_socket_with_handle(s->http, host, (ev_uint16_t)port);
	if (bs == NULL)
		return ci_fail(e, CINFER_E_IO, ST, "cannot listen on %s", s->cfg.listen);
	if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &sl) != 0)
		return ci_fail(e, CINFER_E_IO, ST, "getsockname");
	/* Accepted sockets inherit it: no Nagle delay between TLS records of a reply. */
	{
		int one_i = 1;
		(void)setsockopt(evhttp_bound_socket_get_fd(bs), IPPROTO_TCP, TCP_NODELAY, &one_i,
		    sizeof(one_i));
	}
	s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
	s->purge_ev = event_new(s->base, -1, EV_PERSIST, purge_cb, s);
	if (s->purge_ev == NULL || event_add(s->purge_ev, &one) != 0)
		return ci_fail(e, CINFER_E_NOMEM, ST, "timer");
	purge_cb(-1, 0, s);
	return 0;
}

void
kbs_server_stop(struct kbs_server *s)
{
	if (s->purge_ev != NULL)
		event_free(s->purge_ev);
	if (s->http != NULL)
		evhttp_free(s->http);
	if (s->base != NULL)
		event_base_free(s->base);
	if (s->sessions != NULL) {
		for (size_t i = 0; i < s->cfg.max_sessions; i++)
			if (s->sessions[i].used)
				kbs_session_drop(&s->sessions[i]);
		ci_free(s->sessions);
	}
	SSL_CTX_free(s->ssl);
	EVP_PKEY_free(s->token_key);
	cinfer_policy_free(s->policy);
	kbs_store_close(&s->store);
	ci_wipe(s->admin_token_hash, sizeof(s->admin_token_hash));
	memset(s, 0, sizeof(*s));
}
