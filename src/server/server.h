/* cinferd internals: one event loop for I/O, a worker pool for inference. */
#ifndef CI_SERVER_H
#define CI_SERVER_H

#include <pthread.h>
#include <stdatomic.h>

#include <event2/event.h>
#include <event2/http.h>
#include <openssl/ssl.h>

#include "cinfer/evidence.h"
#include "cinfer/seal.h"
#include "core/ci.h"


struct srv_config {
	char listen[128];		/* "127.0.0.1:8443" */
	char platform[16];		/* "sim" or "auto" */
	char sim_dir[1024];
	char model_name[64];
	char model_path[1024];		/* plain ONNX (development) */
	char bundle_path[1024];		/* sealed bundle (production) */
	char kbs_cacert[1024];
	char kbs_resource[256];		/* repo/type/tag of the data key */
	int threads;
	int queue_max;
	int max_batch;
	int max_wait_ms;
	size_t max_body;
	int rate_per_sec;		/* per client address; 0: off */
	char config_path[1024];		/* measured with the binary */
};

/* Latency histogram buckets, seconds. */
#define SRV_BUCKETS 12

struct srv_metrics {
	atomic_ullong requests;
	atomic_ullong connections;
	atomic_ullong infer_ok;
	atomic_ullong infer_err;
	atomic_ullong shed;
	atomic_ullong rate_limited;
	atomic_ullong attestations;
	atomic_ullong bucket[SRV_BUCKETS + 1];	/* last: +Inf */
	atomic_ullong latency_us_sum;
	atomic_int queue_depth;
};

struct srv {
	struct srv_config cfg;
	struct event_base *base;
	struct evhttp *http;
	SSL_CTX *ssl_ctx;
	EVP_PKEY *tls_key;		/* private keys live in OpenSSL's secure heap */
	EVP_PKEY *receipt_key;
	uint8_t key_sha256[2][32];	/* SPKI SHA-256 of tls_key, receipt_key: fixed at boot */
	X509 *cert;
	struct cinfer_evidence boot_evidence;
	uint8_t measurement[64];
	size_t measurement_size;
	int ready;
	int draining;			/* SIGTERM: finish what is queued, take nothing new */
	double drain_deadline;
	struct event *drain_timer;
	struct srv_metrics m;
	struct event *sigint, *sigterm;
	uint64_t next_request_id;
	struct srv_infer *infer;
	struct ci_secret model_plain;	/* plain model bytes (development), locked memory */
	struct cinfer_unsealed unsealed;	/* model from a sealed bundle, locked memory */
	uint8_t model_sha256[32];
	uint8_t policy_sha256[32];	/* broker policy that released the key; 0 if none */
};

/* infer.c */
int srv_infer_start(struct srv *s, const uint8_t *model, size_t size, struct cinfer_err *e);
void srv_infer_stop(struct srv *s);
void srv_http_gencb(struct evhttp_request *req, void *arg);
void srv_http_routes_extra(struct srv *s);
/* 1 if the client may make another request now (per-address token bucket). */
int srv_rate_ok(struct srv *s, struct evhttp_request *req);

/* main.c: produce evidence binding report_data on the configured platform. */
int srv_attest(struct srv *s, const uint8_t report_data[64], struct cinfer_evidence *ev,
    struct cinfer_err *e);
/* http.c */
int srv_http_start(struct srv *s, struct cinfer_err *e);
/* metrics.c */
void srv_metrics_observe(struct srv_metrics *m, uint64_t us);
char *srv_metrics_render(const struct srv *s);	/* new (ci_free) */

#endif
