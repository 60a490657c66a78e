/*
 * cinfer seal MODEL.onnx --kbs URL [--kbs URL2 ...] --key-id ID
 *     [--threshold K] [--admin-token-file F]... [--cacert F]... [--out FILE]
 *
 * Makes a fresh data key, stores it (or one Shamir share per broker) in the
 * brokers through their admin API, then writes the sealed bundle. Self
 * contained (no other cli/ file needed) so tests can drive it directly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cinfer/kbs_client.h"
#include "cinfer/seal.h"
#include "cli/cli.h"
#include "cli/cmd_seal.h"
#include "crypto/crypto.h"

static const char seal_help[] =
    "usage: cinfer seal MODEL --kbs URL [--kbs URL ...] --key-id ID [options]\n"
    "\n"
    "Encrypts MODEL into MODEL.sealed (AES-256-GCM chunks, docs/sealed-bundle.md)\n"
    "under a fresh data key, and stores that key in the key broker through its\n"
    "admin API as resource cinfer/model-key/ID. With several --kbs the key is split\n"
    "into shares (Shamir, k-of-n), one per broker: each broker checks the enclave's\n"
    "evidence against its own policy before it releases its share.\n"
    "\n"
    "  --kbs URL               broker (https://host:port); repeat for split trust\n"
    "  --key-id ID             key name, [A-Za-z0-9._-]{1,64}\n"
    "  --threshold K           shares needed to unseal (default: all of them)\n"
    "  --admin-token-file F    admin bearer token (one for all brokers, or one per --kbs)\n"
    "  --cacert F              broker CA certificate (one for all, or one per --kbs)\n"
    "  --out FILE              output (default: MODEL with .onnx replaced by .sealed)\n"
    "  --chunk-size BYTES      plaintext bytes per chunk (default 1048576)\n"
    "  --quiet                 no progress\n";

#define MAXB CINFER_SEAL_MAX_BROKERS

struct seal_args {
	const char *model, *key_id, *out;
	const char *kbs[MAXB], *tok[MAXB], *ca[MAXB];
	size_t nkbs, ntok, nca;
	unsigned threshold;
	uint32_t chunk;
	int quiet;
};

static int
progress(uint64_t done, uint64_t total, void *arg)
{
	int *last = arg;
	int pct = total ? (int)(done * 100 / total) : 100;

	if (pct != *last) {
		fprintf(stderr, "\rsealing: %3d%% (%llu of %llu MiB)", pct,
		    (unsigned long long)(done >> 20), (unsigned long long)(total >> 20));
		if (done == total)
			fputc('\n', stderr);
		*last = pct;
	}
	return 0;
}

static int
read_token(const char *path, char *out, size_t cap)
{
	struct cinfer_err e = { 0 };
	uint8_t *b = NULL;
	size_t n = 0;

	if (ci_file_read(path, 4096, &b, &n, &e) != 0) {
		fprintf(stderr, "cinfer seal: %s\n", e.msg);
		return -1;
	}
	while (n > 0 && (b[n - 1] == '\n' || b[n - 1] == '\r' || b[n - 1] == ' '))
		n--;
	if (n == 0 || n >= cap) {
		fprintf(stderr, "cinfer seal: bad admin token in %s\n", path);
		ci_wipe(b, n);
		ci_free(b);
		return -1;
	}
	memcpy(out, b, n);
	out[n] = '\0';
	ci_wipe(b, n);
	ci_free(b);
	return 0;
}

static int
parse(int argc, char **argv, struct seal_args *a)
{
	memset(a, 0, sizeof(*a));
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int takes = 1;
		if (strcmp(o, "--quiet") == 0) {
			a->quiet = 1;
			takes = 0;
		} else if (o[0] != '-' && a->model == NULL) {
			a->model = o;
			takes = 0;
		} else if (v == NULL) {
			fprintf(stderr, "cinfer seal: %s needs a value (see --help)\n", o);
			return -1;
		} else if (strcmp(o, "--kbs") == 0 && a->nkbs < MAXB) {
			a->kbs[a->nkbs++] = v;
		} else if (strcmp(o, "--admin-token-file") == 0 && a->ntok < MAXB) {
			a->tok[a->ntok++] = v;
		} else if (strcmp(o, "--cacert") == 0 && a->nca < MAXB) {
			a->ca[a->nca++] = v;
		} else if (strcmp(o, "--key-id") == 0) {
			a->key_id = v;
		} else if (strcmp(o, "--out") == 0) {
			a->out = v;
		} else if (strcmp(o, "--threshold") == 0) {
			a->threshold = (unsigned)strtoul(v, NULL, 10);
			if (a->threshold == 0) {
				fprintf(stderr, "cinfer seal: --threshold wants a number\n");
				return -1;
			}
		} else if (strcmp(o, "--chunk-size") == 0) {
			a->chunk = (uint32_t)strtoul(v, NULL, 10);
		} else {
			fprintf(stderr, "cinfer seal: unexpected %s (see --help)\n", o);
			return -1;
		}
		i += takes;
	}
	if (a->model == NULL || a->nkbs == 0 || a->key_id == NULL) {
		fprintf(stderr, "cinfer seal: give MODEL, --kbs URL and --key-id ID (see --help)\n");
		return -1;
	}
	if (!cinfer_seal_key_id_valid(a->key_id)) {
		fprintf(stderr, "cinfer seal: --key-id must be [A-Za-z0-9._-]{1,%d}\n",
		    CINFER_SEAL_KEY_ID_MAX);
		return -1;
	}
	if (a->threshold == 0)
		a->threshold = (unsigned)a->nkbs;
	if (a->nkbs == 1 ? a->threshold != 1 : (a->threshold < 2 || a->threshold > a->nkbs)) {
		fprintf(stderr, "cinfer seal: --threshold must be 2..%zu with %zu brokers (1 with "
		    "one)\n", a->nkbs, a->nkbs);
		return -1;
	}
	if ((a->ntok > 1 && a->ntok != a->nkbs) || (a->nca > 1 && a->nca != a->nkbs)) {
		fprintf(stderr, "cinfer seal: give one --admin-token-file/--cacert for all brokers "
		    "or one per --kbs\n");
		return -1;
	}
	if (a->ntok == 0) {
		fprintf(stderr, "cinfer seal: --admin-token-file is required (the admin API is "
		    "never anonymous)\n");
		return -1;
	}
	return 0;
}

int
ci_cmd_seal(int argc, char **argv)
{
	struct seal_args a;
	struct cinfer_bundle_info info;
	struct cinfer_err e = { 0 };
	uint8_t key[CINFER_SEAL_KEY_SIZE], shares[MAXB][CINFER_SEAL_SHARE_SIZE];
	char res[128], outbuf[4096], token[4096];
	int rc = CLI_ERROR, last = -1;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(seal_help, stdout);
			return CLI_OK;
		}
	if (parse(argc, argv, &a) != 0)
		return CLI_USAGE;
	if (a.out == NULL) {
		size_t n = strlen(a.model);
		if (n > 5 && strcmp(a.model + n - 5, ".onnx") == 0)
			snprintf(outbuf, sizeof(outbuf), "%.*s.sealed", (int)(n - 5), a.model);
		else
			snprintf(outbuf, sizeof(outbuf), "%s.sealed", a.model);
		a.out = outbuf;
	}
	if (access(a.model, R_OK) != 0) {
		fprintf(stderr, "cinfer seal: cannot read %s\n", a.model);
		return CLI_USAGE;
	}
	memset(&info, 0, sizeof(info));
	info.chunk_size = a.chunk;
	snprintf(info.key_id, sizeof(info.key_id), "%s", a.key_id);
	info.threshold = (uint8_t)a.threshold;
	info.broker_count = (uint8_t)a.nkbs;
	snprintf(res, sizeof(res), "%s/%s/%s", CINFER_KBS_MODEL_REPO, CINFER_KBS_MODEL_TYPE,
	    a.key_id);
	if (ci_random(key, sizeof(key), &e) != 0)
		goto fail;
	if (a.nkbs > 1 && cinfer_seal_split_key(key, a.threshold, (unsigned)a.nkbs, shares,
	    &e) != 0)
		goto fail;
	for (size_t i = 0; i < a.nkbs; i++) {
		struct cinfer_kbs_client_opts o = { .url = a.kbs[i],
			.cacert = a.nca == 0 ? NULL : a.ca[a.nca == 1 ? 0 : i] };
		struct cinfer_kbs_client *c = NULL;
		int r;

		if (read_token(a.tok[a.ntok == 1 ? 0 : i], token, sizeof(token)) != 0) {
			rc = CLI_USAGE;
			goto out;
		}
		o.admin_token = token;
		if (strlen(a.kbs[i]) > CINFER_SEAL_URL_MAX) {
			fprintf(stderr, "cinfer seal: URL too long\n");
			rc = CLI_USAGE;
			goto out;
		}
		snprintf(info.brokers[i].url, sizeof(info.brokers[i].url), "%s", a.kbs[i]);
		r = cinfer_kbs_client_new(&o, &c, &e);
		if (r == 0)
			r = a.nkbs == 1 ?
			    cinfer_kbs_admin_put(c, res, key, sizeof(key), &info.brokers[i].key_version,
			    &e) :
			    cinfer_kbs_admin_put(c, res, shares[i], CINFER_SEAL_SHARE_SIZE,
			    &info.brokers[i].key_version, &e);
		cinfer_kbs_client_free(c);
		ci_wipe(token, sizeof(token));
		if (r != 0)
			goto fail;
		if (!a.quiet)
			fprintf(stderr, "stored %s %s v%u at %s\n", a.nkbs == 1 ? "key" : "share", res,
			    info.brokers[i].key_version, a.kbs[i]);
	}
	if (cinfer_seal_file(a.model, a.out, key, &info, a.quiet ? NULL : progress, &last,
	    &e) != 0)
		goto fail;
	{
		char dg[65];
		ci_hex_encode(info.model_digest, 32, dg);
		printf("sealed %s -> %s\n  model sha256 %s\n  key %s (%u of %u broker%s)\n", a.model,
		    a.out, dg, res, info.threshold, info.broker_count, info.broker_count > 1 ? "s" :
		    "");
	}
	rc = CLI_OK;
	goto out;
fail:
	fprintf(stderr, "cinfer seal: %s%s%s\n", e.stage ? e.stage : "", e.stage ? ": " : "",
	    e.msg);
	rc = e.code == CINFER_E_USAGE || e.code == CINFER_E_MALFORMED ? CLI_USAGE :
	    e.code == CINFER_E_POLICY || e.code == CINFER_E_CRYPTO ? CLI_REJECTED : CLI_ERROR;
out:
	ci_wipe(key, sizeof(key));
	ci_wipe(shares, sizeof(shares));
	ci_wipe(token, sizeof(token));
	return rc;
}
