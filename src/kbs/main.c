/* cinfer-kbs: the attestation-gated key broker (docs/kbs.md). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>

#include "cinfer/attester.h"
#include "core/json.h"
#include "crypto/crypto.h"
#include "crypto/jose.h"
#include "kbs/kbs_int.h"

#define ST "kbs.main"

/*
 * The --dev policy: the local SIMULATED platform only, debug off, bound to
 * the challenge; pins the all-zero measurement, every --dev-pin, and the
 * cinferd built next to this binary (when there is one).
 */
static json_t *
dev_policy(const char (*pins)[97], size_t npins, struct cinfer_err *e)
{
	json_t *p, *m;
	char self[KBS_PATH_MAX], exe[KBS_PATH_MAX + 16], hex[2 * CINFER_SIM_MEASUREMENT_SIZE + 1];
	uint8_t meas[CINFER_SIM_MEASUREMENT_SIZE] = { 0 };
	ssize_t n;

	p = json_pack("{s:i, s:s, s:s, s:{s:[s]}, s:b, s:b, s:b, s:[]}", "cinfer_policy", 1,
	    "id", "kbs-dev", "description", "cinfer-kbs --dev: local simulated platform",
	    "platforms", "any_of", "sim", "allow_simulated", 1, "allow_debug", 0,
	    "require_report_data_binding", 1, "measurements");
	if (p == NULL) {
		ci_fail(e, CINFER_E_NOMEM, ST, "dev policy");
		return NULL;
	}
	m = json_object_get(p, "measurements");
	ci_hex_encode(meas, sizeof(meas), hex);
	json_array_append_new(m, json_pack("{s:s, s:s}", "value", hex, "comment",
	    "all-zero (cinfer attest default)"));
	for (size_t i = 0; i < npins; i++)
		json_array_append_new(m, json_pack("{s:s, s:s}", "value", pins[i], "comment",
		    "--dev-pin"));
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		struct cinfer_err ign = { 0 };
		self[n] = '\0';
		if (strrchr(self, '/') != NULL)
			*strrchr(self, '/') = '\0';
		snprintf(exe, sizeof(exe), "%s/cinferd", self);
		if (access(exe, R_OK) == 0 && cinfer_sim_measure(exe, NULL, meas, &ign) == 0) {
			ci_hex_encode(meas, sizeof(meas), hex);
			json_array_append_new(m, json_pack("{s:s, s:s}", "value", hex, "comment",
			    "cinferd next to cinfer-kbs"));
		}
	}
	return p;
}

static const char usage[] =
    "usage: cinfer-kbs [options]                run the key broker\n"
    "       cinfer-kbs --dev [--sim DIR] [--dev-pin HEX]...\n"
    "                                           throwaway broker on 127.0.0.1 for development\n"
    "       cinfer-kbs audit verify --db FILE   check the audit hash chain\n"
    "\n"
    "options (also settable as `name = value` lines in --config FILE):\n"
    "  --config FILE            configuration file\n"
    "  --listen ADDR:PORT       listen address (default 127.0.0.1:8443; --dev 127.0.0.1:8787)\n"
    "  --db FILE                SQLite store, one file, WAL (default ./cinfer-kbs.db)\n"
    "  --master-key FILE        32-byte key sealing stored secrets (default <db>.master,\n"
    "                           created 0600 if missing; keep it off the database's disk)\n"
    "  --admin-token-file FILE  bearer token for the admin API\n"
    "  --admin-client-ca FILE   or: TLS client certificates issued by this CA are admins\n"
    "                           (with neither, the admin API is off)\n"
    "  --tls-cert FILE          server certificate chain, PEM (default: generated local CA\n"
    "  --tls-key FILE           and certificate under <db>.tls/)\n"
    "  --sim DIR                trust simulated evidence rooted in DIR (cinfer dev init)\n"
    "  --roots DIR              vendor root certificates (default: built-in data dir)\n"
    "  --policy FILE            policy to install when the store has none\n"
    "  --nonce-ttl SECONDS      lifetime of an auth challenge (default 120)\n"
    "  --token-ttl SECONDS      lifetime of an attestation session/token (default 300)\n"
    "  --drain SECONDS          how long an old key version survives a put (default 86400)\n"
    "  --max-sessions N         concurrent sessions (default 4096)\n"
    "  --max-body BYTES         request body limit (default 2097152)\n"
    "  --rate N --burst N       per-client requests/second and burst (default 50, 100; 0 off)\n"
    "  --log-json               JSON log lines\n"
    "  -v, --verbose            debug logging\n"
    "  -h, --help               this text\n"
    "  --version                print the version\n";

enum {
	O_CONFIG = 256, O_LISTEN, O_DB, O_MASTER, O_ADMIN, O_ADMIN_CA, O_CERT, O_KEY, O_SIM, O_ROOTS,
	O_POLICY, O_NONCE_TTL, O_TOKEN_TTL, O_DRAIN, O_MAX_SESS, O_MAX_BODY, O_RATE, O_BURST,
	O_LOG_JSON, O_DEV, O_DEV_PIN, O_VERSION
};

static const struct option longopts[] = {
	{ "config", required_argument, NULL, O_CONFIG },
	{ "listen", required_argument, NULL, O_LISTEN },
	{ "db", required_argument, NULL, O_DB },
	{ "master-key", required_argument, NULL, O_MASTER },
	{ "admin-token-file", required_argument, NULL, O_ADMIN },
	{ "admin-client-ca", required_argument, NULL, O_ADMIN_CA },
	{ "tls-cert", required_argument, NULL, O_CERT },
	{ "tls-key", required_argument, NULL, O_KEY },
	{ "sim", required_argument, NULL, O_SIM },
	{ "roots", required_argument, NULL, O_ROOTS },
	{ "policy", required_argument, NULL, O_POLICY },
	{ "nonce-ttl", required_argument, NULL, O_NONCE_TTL },
	{ "token-ttl", required_argument, NULL, O_TOKEN_TTL },
	{ "drain", required_argument, NULL, O_DRAIN },
	{ "max-sessions", required_argument, NULL, O_MAX_SESS },
	{ "max-body", required_argument, NULL, O_MAX_BODY },
	{ "rate", required_argument, NULL, O_RATE },
	{ "burst", required_argument, NULL, O_BURST },
	{ "log-json", no_argument, NULL, O_LOG_JSON },
	{ "dev", no_argument, NULL, O_DEV },
	{ "dev-pin", required_argument, NULL, O_DEV_PIN },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, O_VERSION },
	{ NULL, 0, NULL, 0 }
};

static int
set_str(char *dst, size_t cap, const char *v, const char *name)
{
	if (strlen(v) >= cap) {
		fprintf(stderr, "cinfer-kbs: --%s is too long\n", name);
		return -1;
	}
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int
set_num(int64_t *dst, const char *v, int64_t lo, int64_t hi, const char *name)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0 || *end != '\0' || end == v || n < lo || n > hi) {
		fprintf(stderr, "cinfer-kbs: --%s wants a number in %lld..%lld\n", name,
		    (long long)lo, (long long)hi);
		return -1;
	}
	*dst = n;
	return 0;
}

/* Applies one option (from argv or the config file). */
static int
apply(struct kbs_config *c, int opt, const char *v)
{
	int64_t n;
	const char *name = "option";

	for (size_t i = 0; longopts[i].name != NULL; i++)
		if (longopts[i].val == opt)
			name = longopts[i].name;
	switch (opt) {
	case O_LISTEN: return set_str(c->listen, sizeof(c->listen), v, name);
	case O_DB: return set_str(c->db, sizeof(c->db), v, name);
	case O_MASTER: return set_str(c->master_key, sizeof(c->master_key), v, name);
	case O_ADMIN: return set_str(c->admin_token_file, sizeof(c->admin_token_file), v, name);
	case O_ADMIN_CA: return set_str(c->admin_client_ca, sizeof(c->admin_client_ca), v, name);
	case O_CERT: return set_str(c->tls_cert, sizeof(c->tls_cert), v, name);
	case O_KEY: return set_str(c->tls_key, sizeof(c->tls_key), v, name);
	case O_SIM: return set_str(c->sim_dir, sizeof(c->sim_dir), v, name);
	case O_ROOTS: return set_str(c->roots_dir, sizeof(c->roots_dir), v, name);
	case O_POLICY: return set_str(c->policy_file, sizeof(c->policy_file), v, name);
	case O_NONCE_TTL: return set_num(&c->nonce_ttl, v, 1, 86400, name);
	case O_TOKEN_TTL: return set_num(&c->token_ttl, v, 1, 7 * 86400, name);
	case O_DRAIN: return set_num(&c->drain_default, v, 0, 366 * 86400LL, name);
	case O_MAX_SESS:
		if (set_num(&n, v, 16, 1 << 20, name) != 0)
			return -1;
		c->max_sessions = (size_t)n;
		return 0;
	case O_MAX_BODY:
		if (set_num(&n, v, 1024, 64 << 20, name) != 0)
			return -1;
		c->max_body = (size_t)n;
		return 0;
	case O_RATE:
		if (set_num(&n, v, 0, 1000000, name) != 0)
			return -1;
		c->rate = (double)n;
		return 0;
	case O_BURST:
		if (set_num(&n, v, 1, 1000000, name) != 0)
			return -1;
		c->burst = (double)n;
		return 0;
	case O_LOG_JSON: c->log_json = 1; return 0;
	case O_DEV: c->dev = 1; return 0;
	case O_DEV_PIN:
		if (c->dev_pin_count >= CI_ARRAY_LEN(c->dev_pins) || strlen(v) != 96 ||
		    strspn(v, "0123456789abcdefABCDEF") != 96) {
			fprintf(stderr, "cinfer-kbs: --dev-pin wants 96 hex digits (at most 8 pins)\n");
			return -1;
		}
		snprintf(c->dev_pins[c->dev_pin_count++], sizeof(c->dev_pins[0]), "%s", v);
		return 0;
	case 'v': c->verbose = 1; return 0;
	default: return -1;
	}
}

static int
load_config(struct kbs_config *c, const char *path)
{
	struct cinfer_err e = { 0 };
	uint8_t *buf = NULL;
	size_t n;
	char *line, *save = NULL;
	int lineno = 0, rc = 0;

	if (ci_file_read(path, 1 << 20, &buf, &n, &e) != 0) {
		fprintf(stderr, "cinfer-kbs: %s\n", e.msg);
		return -1;
	}
	for (line = strtok_r((char *)buf, "\n", &save); line != NULL && rc == 0;
	    line = strtok_r(NULL, "\n", &save)) {
		char *k = line, *v, *end;
		size_t i;
		lineno++;
		while (*k == ' ' || *k == '\t')
			k++;
		if (*k == '#' || *k == '\0' || *k == '\r')
			continue;
		v = k + strcspn(k, " \t=");
		end = v;
		while (*v == ' ' || *v == '\t' || *v == '=')
			v++;
		*end = '\0';
		end = v + strlen(v);
		while (end > v && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			*--end = '\0';
		for (i = 0; longopts[i].name != NULL; i++)
			if (strcmp(longopts[i].name, k) == 0)	/* public */
				break;
		if (longopts[i].name == NULL || longopts[i].val == O_CONFIG ||
		    longopts[i].val == 'h' || longopts[i].val == O_VERSION) {
			fprintf(stderr, "cinfer-kbs: %s:%d: unknown setting \"%.40s\"\n", path, lineno,
			    k);
			rc = -1;
		} else if (longopts[i].has_arg == no_argument) {
			if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || *v == '\0')	/* public */
				rc = apply(c, longopts[i].val, "");
		} else if (apply(c, longopts[i].val, v) != 0) {
			fprintf(stderr, "cinfer-kbs: %s:%d: bad value for %s\n", path, lineno, k);
			rc = -1;
		}
	}
	ci_free(buf);
	return rc;
}

static int
load_admin_token(struct kbs_server *s, const char *path, struct cinfer_err *e)
{
	uint8_t *buf = NULL;
	size_t n = 0;

	if (ci_file_read(path, 4096, &buf, &n, e) != 0)
		return -1;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		n--;
	if (n < 16) {
		ci_wipe(buf, n);
		ci_free(buf);
		return ci_fail(e, CINFER_E_USAGE, ST, "admin token in %s is shorter than 16 bytes",
		    path);
	}
	ci_sha256(buf, n, s->admin_token_hash);
	s->have_admin_token = 1;
	ci_wipe(buf, n);
	ci_free(buf);
	return 0;
}

static int
load_token_key(struct kbs_server *s, struct cinfer_err *e)
{
	struct ci_secret sec;
	int rc = kbs_store_meta_get(&s->store, "token_key", &sec, e);
	uint8_t tp[32];

	if (rc < 0)
		return -1;
	if (rc == 0) {
		s->token_key = ci_pkey_parse_private(sec.p, sec.size, e);
		ci_secret_clear(&sec);
		if (s->token_key == NULL)
			return -1;
	} else {
		BIO *b = BIO_new(BIO_s_secmem());
		char *p = NULL;
		long n;
		s->token_key = ci_ec_keygen("P-256", e);
		if (s->token_key == NULL || b == NULL ||
		    PEM_write_bio_PrivateKey(b, s->token_key, NULL, NULL, 0, NULL, NULL) != 1) {
			BIO_free(b);
			return ci_ossl_fail(e, CINFER_E_INTERNAL, ST, "token key");
		}
		n = BIO_get_mem_data(b, &p);
		rc = kbs_store_meta_set(&s->store, "token_key", p, (size_t)n, e);
		BIO_free(b);
		if (rc != 0)
			return -1;
	}
	if (ci_jwk_thumbprint(s->token_key, tp, e) != 0)
		return -1;
	ci_hex_encode(tp, 8, s->token_kid);
	return 0;
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	ci_log(CI_LOG_INFO, ST, "signal %d: stopping", (int)sig);
	event_base_loopexit(arg, NULL);
}

static const char audit_usage[] = "usage: cinfer-kbs audit verify --db FILE [--anchor HEX]\n";

/* Keys live in this process: no core dumps, no ptrace by others, OpenSSL's secure heap. */
static void
harden(void)
{
	struct rlimit rl = { 0, 0 };

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		ci_log(CI_LOG_WARN, ST, "cannot disable core dumps: %s", strerror(errno));
	(void)setrlimit(RLIMIT_CORE, &rl);
	if (CRYPTO_secure_malloc_init(1 << 20, 32) == 0)
		ci_log(CI_LOG_WARN, ST, "OpenSSL secure heap unavailable; the token key is in "
		    "ordinary memory");
}

static int
audit_main(int argc, char **argv)
{
	struct cinfer_err e = { 0 };
	const char *db = NULL, *anchor_hex = NULL;
	uint8_t anchor[32], head[32];
	char head_hex[65];
	size_t n_anchor = 0;
	uint64_t n = 0;

	if (argc < 2 || strcmp(argv[1], "verify") != 0) {	/* public */
		fputs(audit_usage, stderr);
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)	/* public */
			db = argv[++i];
		else if (strcmp(argv[i], "--anchor") == 0 && i + 1 < argc)	/* public */
			anchor_hex = argv[++i];
		else {
			fputs(audit_usage, stderr);
			return 2;
		}
	}
	if (db == NULL) {
		fprintf(stderr, "cinfer-kbs audit verify: --db FILE is required\n");
		return 2;
	}
	if (anchor_hex != NULL && (ci_hex_decode(anchor_hex, strlen(anchor_hex), anchor,
	    sizeof(anchor), &n_anchor, &e) != 0 || n_anchor != 32)) {
		fprintf(stderr, "cinfer-kbs audit verify: --anchor wants 64 hex digits\n");
		return 2;
	}
	if (kbs_audit_verify(db, anchor_hex ? anchor : NULL, &n, head, &e) != 0) {
		printf("audit chain BROKEN after %llu good records: %s\n", (unsigned long long)n,
		    e.msg);
		return 1;
	}
	ci_hex_encode(head, 32, head_hex);
	printf("audit chain OK: %llu records\nhead %s\n", (unsigned long long)n, head_hex);
	return 0;
}

static void
rm_tree(const char *dir)
{
	char cmd[KBS_PATH_MAX + 32];

	/* Only ever our own mkdtemp directory under /tmp. */
	if (strncmp(dir, "/tmp/cinfer-kbs-dev-", 20) != 0 || strchr(dir, '\'') != NULL)	/* public */
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)!system(cmd);
}

int
main(int argc, char **argv)
{
	struct kbs_server *s;
	struct kbs_config *c;
	struct cinfer_err e = { 0 };
	char devdir[64] = "", tlsdir[KBS_PATH_MAX + 8], ca_path[KBS_PATH_MAX + 16] = "";
	char token_b64[64] = "";
	struct event *sig_int = NULL, *sig_term = NULL;
	int opt, rc = 1;

	if (argc >= 2 && strcmp(argv[1], "audit") == 0)	/* public */
		return audit_main(argc - 1, argv + 1);
	s = ci_calloc(1, sizeof(*s));
	if (s == NULL)
		return 1;
	c = &s->cfg;
	snprintf(c->db, sizeof(c->db), "cinfer-kbs.db");
	c->nonce_ttl = 120;
	c->token_ttl = 300;
	c->drain_default = 86400;
	c->max_sessions = 4096;
	c->max_body = 2u << 20;
	c->rate = 50;
	c->burst = 100;
	/* The config file first, so flags override it. */
	for (int i = 1; i < argc; i++) {
		const char *cf = NULL;
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)	/* public */
			cf = argv[i + 1];
		else if (strncmp(argv[i], "--config=", 9) == 0)	/* public */
			cf = argv[i] + 9;
		if (cf != NULL && load_config(c, cf) != 0)
			goto out;
	}
	while ((opt = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(usage, stdout);
			rc = 0;
			goto out;
		}
		if (opt == O_VERSION) {
			printf("cinfer-kbs %s\n", CINFER_VERSION);
			rc = 0;
			goto out;
		}
		if (opt == O_CONFIG)
			continue;
		if (opt == '?' || apply(c, opt, optarg ? optarg : "") != 0) {
			fputs(usage, stderr);
			rc = 2;
			goto out;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "cinfer-kbs: unexpected argument \"%s\"\n", argv[optind]);
		rc = 2;
		goto out;
	}
	ci_log_set_json(c->log_json);
	ci_log_set_level(c->verbose ? CI_LOG_DEBUG : CI_LOG_INFO);
	signal(SIGPIPE, SIG_IGN);
	harden();
	if (c->dev) {
		uint8_t tok[32];
		char path[KBS_PATH_MAX + 32];
		snprintf(devdir, sizeof(devdir), "/tmp/cinfer-kbs-dev-XXXXXX");
		if (mkdtemp(devdir) == NULL) {
			fprintf(stderr, "cinfer-kbs: mkdtemp: %s\n", strerror(errno));
			goto out;
		}
		if (c->listen[0] == '\0')
			snprintf(c->listen, sizeof(c->listen), "127.0.0.1:8787");
		snprintf(c->db, sizeof(c->db), "%s/kbs.db", devdir);
		if (ci_random(tok, sizeof(tok), &e) != 0)
			goto fail;
		ci_b64url_encode(tok, sizeof(tok), token_b64);
		ci_wipe(tok, sizeof(tok));
		snprintf(c->admin_token_file, sizeof(c->admin_token_file), "%s/admin-token", devdir);
		if (ci_file_write(c->admin_token_file, token_b64, strlen(token_b64), 0600, &e) != 0)
			goto fail;
		if (c->sim_dir[0] == '\0') {
			struct cinfer_sim_init_opts so = { .rsa_bits = 2048 };
			snprintf(path, sizeof(path), "%s/sim", devdir);
			if (cinfer_sim_dev_init(path, &so, &e) != 0)
				goto fail;
			snprintf(c->sim_dir, sizeof(c->sim_dir), "%.*s", KBS_PATH_MAX - 1, path);
		}
	}
	if (c->listen[0] == '\0')
		snprintf(c->listen, sizeof(c->listen), "127.0.0.1:8443");
	if (c->master_key[0] == '\0')
		snprintf(c->master_key, sizeof(c->master_key), "%.*s.master", KBS_PATH_MAX - 8,
		    c->db);
	if (c->tls_cert[0] == '\0' || c->tls_key[0] == '\0') {
		snprintf(tlsdir, sizeof(tlsdir), "%s.tls", c->db);
		if (kbs_tls_generate(tlsdir, &e) != 0)
			goto fail;
		snprintf(c->tls_cert, sizeof(c->tls_cert), "%.*s/cert.pem", KBS_PATH_MAX - 16,
		    tlsdir);
		snprintf(c->tls_key, sizeof(c->tls_key), "%.*s/key.pem", KBS_PATH_MAX - 16, tlsdir);
		snprintf(ca_path, sizeof(ca_path), "%s/ca.pem", tlsdir);
	}
	if (kbs_store_open(&s->store, c->db, c->master_key, &e) != 0 ||
	    load_token_key(s, &e) != 0)
		goto fail;
	if (c->admin_token_file[0] != '\0' && load_admin_token(s, c->admin_token_file, &e) != 0)
		goto fail;
	if (!s->have_admin_token && c->admin_client_ca[0] == '\0')
		ci_log(CI_LOG_WARN, ST, "no --admin-token-file or --admin-client-ca: the admin API "
		    "is disabled");
	s->ssl = kbs_tls_ctx(c->tls_cert, c->tls_key, c->admin_client_ca, &e);
	if (s->ssl == NULL)
		goto fail;
	/* Policy: the stored one, else --policy, else (dev) the sim policy. */
	{
		uint8_t *doc = NULL;
		size_t n = 0;
		int r = kbs_store_policy_get(&s->store, &doc, &n, &e);
		if (r < 0)
			goto fail;
		if (r == 0) {
			if (kbs_policy_install(s, doc, n, 0, "kbs", &e) != 0)
				ci_log(CI_LOG_ERROR, ST, "stored policy does not load: %s", e.msg);
			ci_free(doc);
			cinfer_err_clear(&e);
		} else if (c->policy_file[0] != '\0') {
			if (ci_file_read(c->policy_file, CINFER_POLICY_MAX_SIZE, &doc, &n, &e) != 0 ||
			    kbs_policy_install(s, doc, n, 1, "kbs", &e) != 0) {
				ci_free(doc);
				goto fail;
			}
			ci_free(doc);
		} else if (c->dev) {
			json_t *dp = dev_policy((const char (*)[97])c->dev_pins, c->dev_pin_count, &e);
			char *ds = dp ? ci_json_dump(dp, 1) : NULL;
			json_decref(dp);
			if (ds == NULL || kbs_policy_install(s, (const uint8_t *)ds, strlen(ds), 1,
			    "kbs", &e) != 0) {
				ci_free(ds);
				goto fail;
			}
			ci_free(ds);
		}
		if (s->policy == NULL)
			ci_log(CI_LOG_WARN, ST, "no policy: every attestation will be denied until "
			    "one is set");
	}
	if (c->sim_dir[0] != '\0')
		ci_log(CI_LOG_WARN, ST, "trusting SIMULATED evidence rooted in %s", c->sim_dir);
	if (kbs_server_start(s, &e) != 0)
		goto fail;
	{
		char host[128];
		snprintf(host, sizeof(host), "%.*s", (int)(strrchr(c->listen, ':') - c->listen),
		    c->listen);
		printf("URL: https://%s:%d\n", host, s->port);
	}
	printf("CA certificate: %s\n", ca_path[0] ? ca_path : c->tls_cert);
	if (c->dev) {
		printf("Admin token: %s\n", token_b64);
		printf("Admin token file: %s\n", c->admin_token_file);
		printf("Sim dir: %s\n", c->sim_dir);
		printf("Store: %s (throwaway, removed on exit)\n", devdir);
		printf("Policy: kbs-dev (SIMULATED platform only; GET /kbs/v0/admin/policy shows "
		    "the pins)\n");
	}
	fflush(stdout);
	ci_wipe(token_b64, sizeof(token_b64));
	sig_int = evsignal_new(s->base, SIGINT, on_signal, s->base);
	sig_term = evsignal_new(s->base, SIGTERM, on_signal, s->base);
	if (sig_int == NULL || sig_term == NULL || event_add(sig_int, NULL) != 0 ||
	    event_add(sig_term, NULL) != 0) {
		ci_fail(&e, CINFER_E_INTERNAL, ST, "signal handlers");
		goto fail;
	}
	ci_log(CI_LOG_INFO, ST, "listening port=%d db=%s", s->port, c->db);
	event_base_dispatch(s->base);
	ci_log(CI_LOG_INFO, ST, "stopping");
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "cinfer-kbs: %s%s%s\n", e.stage ? e.stage : "", e.stage ? ": " : "",
	    e.msg);
out:
	if (sig_int != NULL)
		event_free(sig_int);
	if (sig_term != NULL)
		event_free(sig_term);
	kbs_server_stop(s);
	ci_free(s);
	if (devdir[0] != '\0')
		rm_tree(devdir);
	return rc;
}
