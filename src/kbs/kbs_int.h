/* cinfer-kbs internals shared by its files (never installed). */
#ifndef CI_KBS_INT_H
#define CI_KBS_INT_H

#include <stdatomic.h>

#include <event2/event.h>
#include <event2/http.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "cinfer/evidence.h"
#include "cinfer/policy.h"
#include "kbs/req.h"
#include "kbs/store.h"

#define KBS_PATH_MAX 4096

struct kbs_config {
	char listen[128];		/* ADDR:PORT */
	char db[KBS_PATH_MAX];
	char master_key[KBS_PATH_MAX];	/* default: <db>.master */
	char admin_token_file[KBS_PATH_MAX];
	char admin_client_ca[KBS_PATH_MAX];	/* client certificates from this CA are admins */
	char tls_cert[KBS_PATH_MAX];	/* default: generated under <db>.tls/ */
	char tls_key[KBS_PATH_MAX];
	char sim_dir[KBS_PATH_MAX];	/* trust the simulated platform rooted here */
	char roots_dir[KBS_PATH_MAX];
	char policy_file[KBS_PATH_MAX];	/* loaded at start if the store has none */
	int64_t nonce_ttl;		/* seconds an auth challenge stays valid */
	int64_t token_ttl;		/* seconds an attestation (cookie, token) lasts */
	int64_t drain_default;		/* seconds an old key version stays after put */
	size_t max_sessions;
	size_t max_body;
	double rate;			/* requests per second per client */
	double burst;
	int dev;
	char dev_pins[8][97];		/* extra measurements the --dev policy pins */
	size_t dev_pin_count;
	int log_json;
	int verbose;
};

struct kbs_session {
	uint8_t id[32];			/* cookie value is its base64url */
	int used;			/* slot in use */
	char nonce[64];			/* base64 of 32 random bytes */
	int64_t issued_at;
	int nonce_spent;
	int attested;
	int64_t expires_at;
	EVP_PKEY *tee_pubkey;
	char measurement[2 * CINFER_MEAS_SIZE_MAX + 1];
	char platform[16];
	char client[64];
	uint64_t last_used;
};

struct kbs_bucket {
	char client[64];
	double tokens;
	double last;			/* monotonic seconds */
};

struct kbs_server {
	struct kbs_config cfg;
	struct kbs_store store;
	struct event_base *base;
	struct evhttp *http;
	SSL_CTX *ssl;
	EVP_PKEY *token_key;		/* ES256 signer of attestation tokens */
	char token_kid[24];
	struct cinfer_policy *policy;	/* NULL: every attestation is denied */
	uint8_t policy_digest[32];
	uint8_t admin_token_hash[32];
	int have_admin_token;
	struct kbs_session *sessions;
	struct kbs_bucket buckets[1024];
	uint64_t tick;
	int port;
	struct event *purge_ev;
	atomic_ulong releases;
};

/* server.c */
int kbs_server_start(struct kbs_server *s, struct cinfer_err *e);
void kbs_server_stop(struct kbs_server *s);
/* Replies with JSON (takes body) and status. */
void kbs_reply_json(struct evhttp_request *req, int status, const char *reason,
    const char *body);
void kbs_reply_error(struct evhttp_request *req, int status, const char *reason,
    const char *code, const char *detail);
/* The request body (NUL-terminated copy, ci_free). */
uint8_t *kbs_body(struct evhttp_request *req, size_t *size);
const char *kbs_client(struct evhttp_request *req, char *buf, size_t cap);
struct kbs_session *kbs_session_find(struct kbs_server *s, struct evhttp_request *req);
struct kbs_session *kbs_session_new(struct kbs_server *s, int64_t now);
void kbs_session_drop(struct kbs_session *ss);

/* rcar.c */
void kbs_handle_auth(struct kbs_server *s, struct evhttp_request *req);
void kbs_handle_attest(struct kbs_server *s, struct evhttp_request *req);
void kbs_handle_resource(struct kbs_server *s, struct evhttp_request *req, const char *rest);

/* admin.c */
/* 1 if the request carries the admin token or a client certificate from the admin CA;
 * who gets "token" or the certificate's subject CN. */
int kbs_admin_ok(struct kbs_server *s, struct evhttp_request *req, char *who, size_t cap);
void kbs_handle_admin(struct kbs_server *s, struct evhttp_request *req, const char *rest);
int kbs_policy_install(struct kbs_server *s, const uint8_t *doc, size_t size, int persist,
    const char *client, struct cinfer_err *e);

/* tls.c */
/* Makes ca.pem, cert.pem, key.pem in dir if missing (CN=127.0.0.1, SAN IP and localhost). */
int kbs_tls_generate(const char *dir, struct cinfer_err *e);
/* client_ca: request client certificates and verify them against it (or NULL). */
SSL_CTX *kbs_tls_ctx(const char *cert, const char *key, const char *client_ca,
    struct cinfer_err *e);

#endif
