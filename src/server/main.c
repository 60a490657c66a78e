/*
 * cinferd: the model server that runs inside the TEE.
 *
 * Boot: read config -> keys in locked memory -> evidence binding both keys
 * -> attested certificate -> (keys from the broker -> unseal -> load model)
 * -> serve. A failed step stops the boot and says which and why.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <event2/thread.h>
#include <openssl/crypto.h>

#include "cinfer/attester.h"
#include "cinfer/attester_nitro.h"
#include "cinfer/attester_snp.h"
#include "cinfer/attester_tdx.h"
#include "cinfer/channel.h"
#include "cinfer/kbs_client.h"
#include "core/json.h"
#include "crypto/crypto.h"
#include "evidence/evidence_int.h"
#include "server/server.h"

#define STAGE "server.boot"

static const char help[] =
    "usage: cinferd [--config FILE] [options]\n"
    "\n"
    "The cinfer model server. It runs inside a TEE, proves itself with remote\n"
    "attestation, gets its model key from key brokers, and serves inference over\n"
    "TLS 1.3 whose certificate carries its evidence.\n"
    "\n"
    "  --config FILE      JSON configuration (its bytes are part of the measurement)\n"
    "  --listen ADDR:PORT listen here (default 127.0.0.1:8443; port 0 picks one)\n"
    "  --platform P       auto (default: the TEE this runs in), snp, tdx, nitro, cca or sim\n"
    "  --sim DIR          run on the SIMULATED platform with this chip (cinfer dev init)\n"
    "  --model FILE       serve this plain ONNX model (development)\n"
    "  --model-name NAME  its name in /v1/models/NAME/infer (default \"model\")\n"
    "  --bundle FILE      serve this sealed bundle: its header names the key broker(s),\n"
    "                     each of which must accept this server's evidence\n"
    "  --kbs-cacert FILE  CA certificate of the brokers' TLS\n"
    "  --threads N        runtime threads of the inference worker (default 1, at most 64)\n"
    "  --port-file FILE   write the bound port here once listening (for scripts)\n"
    "  --log-json         structured JSON logs\n"
    "\n"
    "Logs carry request ids and timings only, never inputs or outputs.\n";

static int
copy_str(char *dst, size_t size, const char *src, const char *what, struct cinfer_err *e)
{
	if (strlen(src) >= size)
		return ci_fail(e, CINFER_E_USAGE, "server.config", "%s is too long", what);
	strcpy(dst, src);
	return 0;
}

static int
load_config(struct srv_config *c, const char *path, struct cinfer_err *e)
{
	static const char *const keys[] = { "listen", "platform", "sim_dir", "model",
		"kbs_cacert", "threads", "queue_max", "max_batch", "max_wait_ms", "max_body",
		"rate_per_sec", NULL };
	static const char *const mkeys[] = { "name", "path", "bundle", "key_resource", NULL };
	uint8_t *buf = NULL;
	size_t size = 0;
	json_t *root = NULL, *v;
	const char *s = NULL;
	int64_t n;
	int rc = -1;

	if (ci_file_read(path, 1 << 20, &buf, &size, e) != 0 ||
	    ci_json_parse(buf, size, "server.config", &root, e) != 0)
		goto out;
	if (!json_is_object(root) || ci_json_known_keys(root, keys, "server.config", path, e) != 0)
		goto bad;
#define STR(key, dst) do { s = NULL; \
	if (ci_json_str(root, key, 0, &s, "server.config", e) < 0) goto out; \
	if (s != NULL && copy_str(dst, sizeof(dst), s, key, e) != 0) goto out; } while (0)
#define INT(key, dst) do { n = dst; \
	if (ci_json_int(root, key, 0, &n, "server.config", e) < 0) goto out; \
	if (n < 0 || n > INT_MAX) { ci_fail(e, CINFER_E_USAGE, "server.config", "%s out of range", key); goto out; } \
	dst = (int)n; } while (0)
	STR("listen", c->listen);
	STR("platform", c->platform);
	STR("sim_dir", c->sim_dir);
	STR("kbs_cacert", c->kbs_cacert);
	INT("threads", c->threads);
	INT("queue_max", c->queue_max);
	INT("max_batch", c->max_batch);
	INT("max_wait_ms", c->max_wait_ms);
	INT("rate_per_sec", c->rate_per_sec);
	n = (int64_t)c->max_body;
	if (ci_json_int(root, "max_body", 0, &n, "server.config", e) < 0)
		goto out;
	if (n < 1024 || n > (1 << 30)) {
		ci_fail(e, CINFER_E_USAGE, "server.config", "max_body must be 1 KiB to 1 GiB");
		goto out;
	}
	c->max_body = (size_t)n;
	if (c->threads < 1 || c->threads > 64) {
		ci_fail(e, CINFER_E_USAGE, "server.config", "threads must be 1-64");
		goto out;
	}
	v = json_object_get(root, "model");
	if (v != NULL) {
		if (!json_is_object(v) || ci_json_known_keys(v, mkeys, "server.config", "model", e) != 0)
			goto bad;
		s = NULL;
		if (ci_json_str(v, "name", 0, &s, "server.config", e) < 0 ||
		    (s && copy_str(c->model_name, sizeof(c->model_name), s, "model.name", e) != 0))
			goto out;
		s = NULL;
		if (ci_json_str(v, "path", 0, &s, "server.config", e) < 0 ||
		    (s && copy_str(c->model_path, sizeof(c->model_path), s, "model.path", e) != 0))
			goto out;
		s = NULL;
		if (ci_json_str(v, "bundle", 0, &s, "server.config", e) < 0 ||
		    (s && copy_str(c->bundle_path, sizeof(c->bundle_path), s, "model.bundle", e) != 0))
			goto out;
		s = NULL;
		if (ci_json_str(v, "key_resource", 0, &s, "server.config", e) < 0 ||
		    (s && copy_str(c->kbs_resource, sizeof(c->kbs_resource), s, "model.key_resource", e) != 0))
			goto out;
	}
#undef STR
#undef INT
	rc = 0;
	goto out;
bad:
	ci_fail(e, CINFER_E_MALFORMED, "server.config", "%s: bad configuration", path);
out:
	json_decref(root);
	ci_free(buf);
	return rc;
}

/* Evidence binding report_data from the platform chosen at boot. */
int
srv_attest(struct srv *s, const uint8_t report_data[64], struct cinfer_evidence *ev,
    struct cinfer_err *e)
{
	const char *p = s->cfg.platform;

	if (strcmp(p, "sim") == 0) {
		struct cinfer_sim_attest_opts o = { .measurement = s->measurement };
		return cinfer_sim_attest(s->cfg.sim_dir, report_data, &o, ev, e);
	}
	if (strcmp(p, "snp") == 0) {
		struct cinfer_snp_attest_opts o = { .backend = CINFER_SNP_BACKEND_AUTO };
		return cinfer_snp_attest(report_data, &o, ev, e);
	}
	if (strcmp(p, "tdx") == 0)
		return cinfer_tdx_attest(report_data, NULL, ev, e);
	if (strcmp(p, "nitro") == 0) {
		struct cinfer_nitro_attest_opts o = { .user_data = report_data, .user_data_size = 64 };
		return cinfer_nitro_attest(NULL, &o, ev, e);
	}
	if (strcmp(p, "cca") == 0)
		return cinfer_cca_attest(NULL, report_data, ev, e);
	return ci_fail(e, CINFER_E_USAGE, "server.attest", "unknown platform \"%.15s\" (auto, sim, "
	    "snp, tdx, nitro, cca)", p);
}

/* "auto": the TEE this process runs in; the simulator only when asked for. */
static int
choose_platform(struct srv *s, struct cinfer_err *e)
{
	enum cinfer_platform p;

	if (strcmp(s->cfg.platform, "auto") != 0)
		return 0;
	if (s->cfg.sim_dir[0] != '\0') {
		strcpy(s->cfg.platform, "sim");
		return 0;
	}
	p = cinfer_attester_detect(NULL);
	if (p == CINFER_PLATFORM_NONE || cinfer_platform_name(p) == NULL)
		return ci_fail(e, CINFER_E_UNSUPPORTED, "server.attest", "no TEE found (no "
		    "/dev/sev-guest, /dev/tdx_guest, /dev/nsm or configfs-tsm provider); for "
		    "development run the SIMULATED platform with --sim DIR");
	snprintf(s->cfg.platform, sizeof(s->cfg.platform), "%s", cinfer_platform_name(p));
	return 0;
}

/* Keys, core dumps and memory: before anything secret exists. */
static int
harden(struct cinfer_err *e)
{
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return ci_fail(e, CINFER_E_INTERNAL, STAGE, "cannot disable core dumps: %s",
		    strerror(errno));
	{
		struct rlimit rl = { 0, 0 };
		(void)setrlimit(RLIMIT_CORE, &rl);
	}
	/* OpenSSL keeps private key material in this locked, no-dump heap. */
	if (CRYPTO_secure_malloc_init(1 << 20, 32) == 0)
		ci_log(CI_LOG_WARN, STAGE, "OpenSSL secure heap unavailable; keys are in ordinary memory");
	if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0)
		ci_log(CI_LOG_WARN, STAGE, "mlockall refused (%s): memory may be swapped; raise "
		    "RLIMIT_MEMLOCK in production", strerror(errno));
	return 0;
}

static void
on_drain_tick(evutil_socket_t fd, short what, void *arg)
{
	struct srv *s = arg;
	struct timespec ts;
	double now;

	(void)fd;
	(void)what;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	if (atomic_load(&s->m.queue_depth) == 0 || now >= s->drain_deadline) {
		ci_log(CI_LOG_INFO, "server", "drained (%d left): stopping",
		    atomic_load(&s->m.queue_depth));
		event_base_loopexit(s->base, NULL);
	}
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct srv *s = arg;
	struct timeval tick = { 0, 50000 };
	struct timespec ts;

	if (s->draining) {
		ci_log(CI_LOG_WARN, "server", "signal %d again: stopping now", (int)sig);
		event_base_loopexit(s->base, NULL);
		return;
	}
	/* Drain: /readyz turns 503 so balancers stop sending, new inferences get 503,
	 * queued ones are answered; then stop (at most 10 s). */
	s->draining = 1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	s->drain_deadline = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + 10.0;
	ci_log(CI_LOG_INFO, "server", "signal %d: draining (%d queued)", (int)sig,
	    atomic_load(&s->m.queue_depth));
	s->drain_timer = event_new(s->base, -1, EV_PERSIST, on_drain_tick, s);
	if (s->drain_timer == NULL || event_add(s->drain_timer, &tick) != 0)
		event_base_loopexit(s->base, NULL);
}

/* Evidence for the key broker: report_data as the broker's protocol binds it. */
static int
kbs_evidence(const uint8_t rd[64], void *arg, char **json, struct cinfer_err *e)
{
	struct cinfer_evidence ev;

	if (srv_attest(arg, rd, &ev, e) != 0)
		return -1;
	*json = cinfer_evidence_to_json(&ev, e);
	cinfer_evidence_clear(&ev);
	return *json != NULL ? 0 : -1;
}

/* Reads the model into locked memory (plain ONNX: development only). */
static int
load_model(struct srv *s, struct cinfer_err *e)
{
	uint8_t *buf = NULL;
	size_t size = 0;
	int rc;

	if (s->cfg.bundle_path[0] != '\0') {
		ci_log(CI_LOG_INFO, STAGE, "4/6 attesting to the key broker(s) named in %s",
		    s->cfg.bundle_path);
		if (cinfer_kbs_unseal_bundle_ex(s->cfg.bundle_path, s->cfg.kbs_cacert[0] ?
			s->cfg.kbs_cacert : NULL, kbs_evidence, s, &s->unsealed, s->policy_sha256, e) != 0)
			return -1;
		if (srv_infer_start(s, s->unsealed.data, s->unsealed.size, e) != 0)
			return -1;
		ci_log(CI_LOG_INFO, STAGE, "5/6 model \"%s\" unsealed into locked memory and loaded "
		    "(%zu bytes)", s->cfg.model_name, s->unsealed.size);
		return 0;
	}
	if (s->cfg.model_path[0] == '\0') {
		ci_log(CI_LOG_WARN, STAGE, "4/6 no model configured: serving attestation only");
		return 0;
	}
	ci_log(CI_LOG_WARN, STAGE, "4/6 no key broker: loading a PLAIN model (development only)");
	if (ci_file_read(s->cfg.model_path, (size_t)1 << 31, &buf, &size, e) != 0)
		return -1;
	rc = ci_secret_init(&s->model_plain, size, e);
	if (rc == 0) {
		memcpy(s->model_plain.p, buf, size);
		ci_wipe(buf, size);
	}
	ci_free(buf);
	if (rc != 0 || srv_infer_start(s, s->model_plain.p, s->model_plain.size, e) != 0)
		return -1;
	ci_log(CI_LOG_INFO, STAGE, "5/6 model \"%s\" loaded (%zu bytes, locked memory%s)",
	    s->cfg.model_name, size, s->model_plain.locked ? "" : " NOT locked");
	return 0;
}

static int
boot(struct srv *s, const char *port_file, struct cinfer_err *e)
{
	uint8_t rd[64];
	char exe[PATH_MAX], hex[2 * sizeof(s->measurement) + 1];
	ssize_t n;

	if (choose_platform(s, e) != 0)
		return -1;
	ci_log(CI_LOG_INFO, STAGE, "1/6 configuration read (platform %s)", s->cfg.platform);
	if (harden(e) != 0)
		return -1;
	s->tls_key = ci_ec_keygen("P-256", e);
	s->receipt_key = s->tls_key ? ci_ec_keygen("P-256", e) : NULL;
	if (s->receipt_key == NULL)
		return -1;
	ci_log(CI_LOG_INFO, STAGE, "2/6 TLS and receipt keys generated in locked memory");
	if (strcmp(s->cfg.platform, "sim") == 0) {
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (n <= 0)
			return ci_fail(e, CINFER_E_IO, STAGE, "cannot find my own binary");
		exe[n] = '\0';
		if (cinfer_sim_measure(exe, s->cfg.config_path[0] ? s->cfg.config_path : NULL,
			s->measurement, e) != 0)
			return -1;
		s->measurement_size = 48;
		ci_hex_encode(s->measurement, 48, hex);
		ci_log(CI_LOG_WARN, STAGE, "SIMULATED platform: no hardware protection; "
		    "measurement %s", hex);
	}
	/* The keys' digests are fixed for the process: every binding reuses them. */
	if (ci_pkey_spki_sha256(s->tls_key, s->key_sha256[0], e) != 0 ||
	    ci_pkey_spki_sha256(s->receipt_key, s->key_sha256[1], e) != 0 ||
	    cinfer_bind_report_data_hashed(CINFER_BIND_TLS, NULL, 0,
		(const uint8_t (*)[32])s->key_sha256, 2, rd, e) != 0 ||
	    srv_attest(s, rd, &s->boot_evidence, e) != 0)
		return -1;
	if (strcmp(s->cfg.platform, "sim") != 0) {
		/* On hardware the evidence itself says what was launched. */
		if (ci_evidence_peek_measurement(&s->boot_evidence, s->measurement,
			sizeof(s->measurement), &s->measurement_size, e) != 0)
			return -1;
		ci_hex_encode(s->measurement, s->measurement_size, hex);
		ci_log(CI_LOG_INFO, STAGE, "%s launch measurement %s", s->cfg.platform, hex);
	}
	ci_log(CI_LOG_INFO, STAGE, "3/6 evidence produced; report_data binds both keys");
	if (load_model(s, e) != 0)
		return -1;
	s->cert = cinfer_ratls_cert_new(s->tls_key, s->receipt_key, &s->boot_evidence,
	    ci_time_now(), e);
	if (s->cert == NULL)
		return -1;
	if (srv_http_start(s, e) != 0)
		return -1;
	/* The port file first: scripts that see "serving" may read it at once. */
	if (port_file != NULL) {
		const char *p = strrchr(s->cfg.listen, ':') + 1;
		if (ci_file_write(port_file, p, strlen(p), 0644, e) != 0)
			return -1;
	}
	ci_log(CI_LOG_INFO, STAGE, "6/6 serving on https://%s (TLS 1.3, attested certificate)",
	    s->cfg.listen);
	return 0;
}

int
main(int argc, char **argv)
{
	struct srv s;
	struct cinfer_err e = { 0 };
	const char *config = NULL, *port_file = NULL;
	int rc = 1;

	memset(&s, 0, sizeof(s));
	snprintf(s.cfg.listen, sizeof(s.cfg.listen), "127.0.0.1:8443");
	snprintf(s.cfg.platform, sizeof(s.cfg.platform), "auto");
	snprintf(s.cfg.model_name, sizeof(s.cfg.model_name), "model");
	s.cfg.threads = 1;
	s.cfg.queue_max = 64;
	s.cfg.max_batch = 8;
	s.cfg.max_wait_ms = 2;
	s.cfg.max_body = 4u << 20;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(help, stdout);
			return 0;
		}
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			config = argv[++i];
	}
	if (config != NULL) {
		if (copy_str(s.cfg.config_path, sizeof(s.cfg.config_path), config, "--config", &e) != 0 ||
		    load_config(&s.cfg, config, &e) != 0)
			goto fail;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--config") == 0) {
			i++;
		} else if (strcmp(a, "--log-json") == 0) {
			ci_log_set_json(1);
		} else if (v == NULL) {
			fprintf(stderr, "cinferd: %s needs a value (see --help)\n", a);
			return 2;
		} else if (strcmp(a, "--listen") == 0) {
			i++;
			if (copy_str(s.cfg.listen, sizeof(s.cfg.listen), v, a, &e) != 0)
				goto fail;
		} else if (strcmp(a, "--platform") == 0) {
			i++;
			if (copy_str(s.cfg.platform, sizeof(s.cfg.platform), v, a, &e) != 0)
				goto fail;
		} else if (strcmp(a, "--sim") == 0) {
			i++;
			if (copy_str(s.cfg.sim_dir, sizeof(s.cfg.sim_dir), v, a, &e) != 0)
				goto fail;
			strcpy(s.cfg.platform, "sim");
		} else if (strcmp(a, "--model") == 0) {
			i++;
			if (copy_str(s.cfg.model_path, sizeof(s.cfg.model_path), v, a, &e) != 0)
				goto fail;
		} else if (strcmp(a, "--model-name") == 0) {
			i++;
			if (copy_str(s.cfg.model_name, sizeof(s.cfg.model_name), v, a, &e) != 0)
				goto fail;
		} else if (strcmp(a, "--bundle") == 0) {
			i++;
			if (copy_str(s.cfg.bundle_path, sizeof(s.cfg.bundle_path), v, a, &e) != 0)
				goto fail;
		} else if (strcmp(a, "--kbs-cacert") == 0) {
			i++;
			if (copy_str(s.cfg.kbs_cacert, sizeof(s.cfg.kbs_cacert), v, a, &e) != 0)
				goto fail;
		} else if (strcmp(a, "--threads") == 0) {
			i++;
			s.cfg.threads = atoi(v);
			if (s.cfg.threads < 1 || s.cfg.threads > 64) {
				fprintf(stderr, "cinferd: --threads takes 1-64\n");
				return 2;
			}
		} else if (strcmp(a, "--port-file") == 0) {
			port_file = argv[++i];
		} else {
			fprintf(stderr, "cinferd: unknown option %s (see --help)\n", a);
			return 2;
		}
	}
	evthread_use_pthreads();
	signal(SIGPIPE, SIG_IGN);
	s.base = event_base_new();
	if (s.base == NULL) {
		ci_fail(&e, CINFER_E_NOMEM, STAGE, "event_base_new failed");
		goto fail;
	}
	if (boot(&s, port_file, &e) != 0)
		goto fail;
	s.sigint = evsignal_new(s.base, SIGINT, on_signal, &s);
	s.sigterm = evsignal_new(s.base, SIGTERM, on_signal, &s);
	event_add(s.sigint, NULL);
	event_add(s.sigterm, NULL);
	event_base_dispatch(s.base);
	rc = 0;
	goto out;
fail:
	ci_log(CI_LOG_ERROR, e.stage ? e.stage : STAGE, "boot stopped: %s", e.msg);
	fprintf(stderr, "cinferd: boot stopped at %s: %s\n", e.stage ? e.stage : STAGE, e.msg);
out:
	if (s.sigint)
		event_free(s.sigint);
	if (s.sigterm)
		event_free(s.sigterm);
	if (s.drain_timer)
		event_free(s.drain_timer);
	srv_infer_stop(&s);
	if (s.http)
		evhttp_free(s.http);
	if (s.base)
		event_base_free(s.base);
	SSL_CTX_free(s.ssl_ctx);
	X509_free(s.cert);
	EVP_PKEY_free(s.tls_key);
	EVP_PKEY_free(s.receipt_key);
	cinfer_evidence_clear(&s.boot_evidence);
	ci_secret_clear(&s.model_plain);
	if (s.unsealed.data != NULL)
		cinfer_unsealed_free(&s.unsealed);
	return rc;
}
