/* cinfer verify: authenticity first, then (optionally) a policy's judgement. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "cli/cli.h"
#include "crypto/crypto.h"

static const char verify_help[] =
    "usage: cinfer verify EVIDENCE.json [options]\n"
    "       cinfer verify --platform P --evidence FILE [--cert FILE]... [--collateral [NAME=]FILE]... [options]\n"
    "\n"
    "Checks that evidence is genuine (signatures, certificate chains, revocation,\n"
    "collateral) and, with --policy, whether it is acceptable. Prints the claims,\n"
    "the decision and every reason.\n"
    "\n"
    "  --policy FILE        judge the claims against this policy (without it: authenticity only)\n"
    "  --at RFC3339         verify at this time instead of now (e.g. 2024-05-01T00:00:00Z)\n"
    "  --report-data HEX    the report_data the evidence must bind (64 bytes)\n"
    "  --nonce-time RFC3339 when the bound nonce was issued (for max_evidence_age_seconds)\n"
    "  --json               print {\"decision\", \"reasons\", \"claims\"} as JSON\n"
    "  --sim DIR            simulated root of trust (or $CINFER_SIM_DIR)\n"
    "  --roots DIR          vendor root certificates (default: the installed data dir)\n"
    "  --iak FILE           Arm CCA: the platform's IAK public key (JWK or PEM)\n"
    "  --platform P         raw artifacts: sim, snp, tdx, nitro or cca\n"
    "  --evidence FILE      raw artifacts: the report, quote, document or token\n"
    "  --cert FILE          raw artifacts: a certificate (leaf first), PEM or DER; repeatable\n"
    "  --collateral [NAME=]FILE  raw artifacts: CRL, TCB info, QE identity...; repeatable\n"
    "\n"
    "Exit: 0 accepted (or authentic, without --policy), 1 rejected, 2 bad input or usage.\n";

/* Names a collateral file by its content when the user gave no NAME=. */
static const char *
guess_collateral(enum cinfer_platform plat, const uint8_t *p, size_t size)
{
	if (memmem(p, size, "\"tcbInfo\"", 9) != NULL)
		return "tcb_info";
	if (memmem(p, size, "\"enclaveIdentity\"", 17) != NULL)
		return "qe_identity";
	if (plat == CINFER_PLATFORM_TDX) {
		X509_CRL *crl = ci_x509_crl_parse(p, size, NULL);
		const char *name = "pck_crl";
		if (crl != NULL) {
			char buf[256];
			X509_NAME_oneline(X509_CRL_get_issuer(crl), buf, sizeof(buf));
			if (strstr(buf, "Root CA") != NULL)
				name = "root_crl";
		}
		X509_CRL_free(crl);
		return name;
	}
	return "crl";
}

static int
load_raw(struct cinfer_evidence *ev, const char *platform, const char *evidence,
    const char **certs, int ncerts, const char **coll, int ncoll, struct cinfer_err *e)
{
	uint8_t *buf = NULL;
	size_t size = 0;

	cinfer_evidence_init(ev);
	ev->platform = cinfer_platform_from_name(platform);
	if (ev->platform == CINFER_PLATFORM_NONE)
		return ci_fail(e, CINFER_E_USAGE, "cli", "unknown platform \"%s\" (sim, snp, tdx, "
		    "nitro, cca)", platform);
	if (ci_file_read(evidence, CINFER_EVIDENCE_MAX_SIZE, &ev->evidence, &ev->evidence_size, e) != 0)
		return -1;
	for (int i = 0; i < ncerts; i++) {
		if (ci_file_read(certs[i], CINFER_EVIDENCE_MAX_SIZE, &buf, &size, e) != 0 ||
		    cinfer_evidence_add_cert(ev, buf, size, e) != 0)
			goto fail;
		ci_free(buf);
		buf = NULL;
	}
	for (int i = 0; i < ncoll; i++) {
		const char *eq = strchr(coll[i], '='), *path = eq ? eq + 1 : coll[i];
		char name[48];
		if (ci_file_read(path, CINFER_EVIDENCE_MAX_SIZE, &buf, &size, e) != 0)
			goto fail;
		if (eq != NULL)
			snprintf(name, sizeof(name), "%.*s", (int)(eq - coll[i]), coll[i]);
		else
			snprintf(name, sizeof(name), "%s", guess_collateral(ev->platform, buf, size));
		if (cinfer_evidence_add_collateral(ev, name, buf, size, e) != 0)
			goto fail;
		ci_free(buf);
		buf = NULL;
	}
	return 0;
fail:
	ci_free(buf);
	cinfer_evidence_clear(ev);
	return -1;
}

static void
print_json(const struct cinfer_claims *c, int authentic, const struct cinfer_err *ve,
    const struct cinfer_decision *d, int have_policy)
{
	json_t *o = json_object(), *rs = json_array();
	const char *dec;
	char *s;

	if (!authentic) {
		char code[64];
		snprintf(code, sizeof(code), "evidence_%s", cinfer_code_name(ve->code));
		json_array_append_new(rs, json_pack("{s:s, s:s, s:s}", "code", code, "stage",
		    ve->stage ? ve->stage : "", "text", ve->msg));
		dec = "rejected";
	} else if (have_policy) {
		for (size_t i = 0; i < d->reason_count; i++)
			json_array_append_new(rs, json_pack("{s:s, s:s, s:b}", "code", d->reasons[i].code,
			    "text", d->reasons[i].text, "ok", d->reasons[i].ok));
		dec = d->accepted ? "accepted" : "rejected";
	} else {
		json_array_append_new(rs, json_pack("{s:s, s:s, s:b}", "code", "authentic", "text",
		    "signatures, certificate chain and revocation checked; no policy was given, so "
		    "nothing about what runs was judged", "ok", 1));
		dec = "authentic";
	}
	json_object_set_new(o, "decision", json_string(dec));
	json_object_set_new(o, "reasons", rs);
	json_object_set_new(o, "claims", authentic ? (json_t *)cli_claims_json(c) : json_null());
	s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (s != NULL)
		printf("%s\n", s);
	free(s);
	json_decref(o);
}

int
ci_cmd_verify(int argc, char **argv)
{
	const char *certs[CINFER_BLOBS_MAX], *coll[CINFER_BLOBS_MAX];
	const char *file = NULL, *policy_path = NULL, *at_s = NULL, *rd_hex = NULL, *val;
	const char *platform = NULL, *evidence = NULL, *nonce_s = NULL, *iak = NULL;
	int ncerts = 0, ncoll = 0, json = 0, rc = CLI_ERROR;
	struct cinfer_verify_opts opts = { 0 };
	struct cinfer_evidence ev;
	struct cinfer_claims claims;
	struct cinfer_err e = { 0 }, ve = { 0 };
	struct cinfer_policy *pol = NULL;
	struct cinfer_decision d;
	uint8_t *buf = NULL, rd[64], *iak_buf = NULL;
	size_t size = 0, rd_size = 0, iak_size = 0;
	int64_t nonce_time = 0;
	int authentic;

	cinfer_evidence_init(&ev);
	if (cli_help_wanted(argc, argv)) {
		fputs(verify_help, stdout);
		return CLI_OK;
	}
	for (int i = 1; i < argc; i++) {
		if (cli_opt(argc, argv, &i, "--policy", &policy_path) ||
		    cli_opt(argc, argv, &i, "--at", &at_s) ||
		    cli_opt(argc, argv, &i, "--report-data", &rd_hex) ||
		    cli_opt(argc, argv, &i, "--nonce-time", &nonce_s) ||
		    cli_opt(argc, argv, &i, "--sim", &opts.sim_dir) ||
		    cli_opt(argc, argv, &i, "--roots", &opts.roots_dir) ||
		    cli_opt(argc, argv, &i, "--iak", &iak) ||
		    cli_opt(argc, argv, &i, "--platform", &platform) ||
		    cli_opt(argc, argv, &i, "--evidence", &evidence))
			continue;
		if (cli_opt(argc, argv, &i, "--cert", &val)) {
			if (ncerts == CINFER_BLOBS_MAX)
				goto toomany;
			certs[ncerts++] = val;
		} else if (cli_opt(argc, argv, &i, "--collateral", &val)) {
			if (ncoll == CINFER_BLOBS_MAX)
				goto toomany;
			coll[ncoll++] = val;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "cinfer verify: unknown option %s (see --help)\n", argv[i]);
			return CLI_USAGE;
		} else if (file == NULL) {
			file = argv[i];
		} else {
			fprintf(stderr, "cinfer verify: one evidence file at a time\n");
			return CLI_USAGE;
		}
	}
	if ((file == NULL) == (evidence == NULL) || (evidence != NULL && platform == NULL)) {
		fprintf(stderr, "cinfer verify: give EVIDENCE.json, or --platform P --evidence FILE "
		    "(see --help)\n");
		return CLI_USAGE;
	}
	if (at_s != NULL && ci_time_parse(at_s, &opts.at, &e) != 0)
		return cli_report("--at", &e);
	if (nonce_s != NULL && ci_time_parse(nonce_s, &nonce_time, &e) != 0)
		return cli_report("--nonce-time", &e);
	if (rd_hex != NULL && ci_hex_decode(rd_hex, strlen(rd_hex), rd, sizeof(rd), &rd_size, &e) != 0)
		return cli_report("--report-data", &e);
	if (iak != NULL) {
		if (ci_file_read(iak, 1 << 16, &iak_buf, &iak_size, &e) != 0)
			return cli_report("--iak", &e);
		opts.cca_iak_pub = iak_buf;
		opts.cca_iak_pub_size = iak_size;
	}
	if (policy_path != NULL && cinfer_policy_load(policy_path, &pol, &e) != 0) {
		rc = cli_report(policy_path, &e);
		goto out;
	}
	if (file != NULL) {
		if (ci_file_read(file, 8u << 20, &buf, &size, &e) != 0 ||
		    cinfer_evidence_parse_json(&ev, buf, size, &e) != 0) {
			rc = cli_report(file, &e);
			goto out;
		}
	} else if (load_raw(&ev, platform, evidence, certs, ncerts, coll, ncoll, &e) != 0) {
		rc = cli_report("evidence", &e);
		goto out;
	}
	if (opts.at == 0)
		opts.at = ci_time_now();
	authentic = cinfer_evidence_verify(&ev, &opts, &claims, &ve) == 0;
	if (!authentic && cli_code(ve.code) == CLI_USAGE && ve.code != CINFER_E_MALFORMED &&
	    ve.code != CINFER_E_LIMIT) {
		rc = cli_report("verify", &ve);
		goto out;
	}
	memset(&d, 0, sizeof(d));
	if (authentic && pol != NULL) {
		struct cinfer_policy_input in = { .claims = &claims, .claims_count = 1, .at = opts.at,
			.expected_report_data = rd_hex ? rd : NULL, .expected_report_data_size = rd_size,
			.nonce_issued_at = nonce_time };
		if (cinfer_policy_eval(pol, &in, &d, &e) != 0) {
			rc = cli_report("policy", &e);
			goto out;
		}
	}
	if (json) {
		print_json(&claims, authentic, &ve, &d, pol != NULL);
	} else if (!authentic) {
		printf("evidence REJECTED: not authentic\n  %s: %s\n", ve.stage ? ve.stage : "verify",
		    ve.msg);
	} else {
		char t[21];
		ci_time_format(opts.at, t);
		cli_print_claims(stdout, &claims);
		printf("\nauthenticity: signatures and certificate chain verified at %s\n", t);
		if (pol == NULL) {
			printf("decision: AUTHENTIC (no --policy given: nothing about what runs was judged)\n");
		} else {
			printf("decision: %s by policy \"%s\" revision %lld\n",
			    d.accepted ? "ACCEPTED" : "REJECTED", cinfer_policy_id(pol),
			    (long long)cinfer_policy_revision(pol));
			cli_print_decision(stdout, &d);
		}
		if (claims.simulated)
			printf("note: SIMULATED platform: this evidence proves nothing about hardware.\n");
	}
	if (!authentic)
		rc = ve.code == CINFER_E_MALFORMED || ve.code == CINFER_E_LIMIT ? CLI_USAGE : CLI_REJECTED;
	else if (pol != NULL)
		rc = d.accepted ? CLI_OK : CLI_REJECTED;
	else
		rc = CLI_OK;
out:
	cinfer_policy_free(pol);
	cinfer_evidence_clear(&ev);
	ci_free(buf);
	ci_free(iak_buf);
	return rc;
toomany:
	fprintf(stderr, "cinfer verify: at most %d --cert and %d --collateral\n", CINFER_BLOBS_MAX,
	    CINFER_BLOBS_MAX);
	return CLI_USAGE;
}
