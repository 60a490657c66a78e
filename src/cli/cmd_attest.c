/* cinfer attest: produce evidence (today: the simulated platform). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cinfer/attester.h"
#include "cinfer/client.h"
#include "cli/cli.h"

static const char attest_url_help[] =
    "usage: cinfer attest URL --policy FILE [--sim DIR] [--roots DIR] [--json]\n"
    "\n"
    "Connects to a cinferd, checks the evidence in its TLS certificate and a fresh\n"
    "one bound to a random nonce against YOUR policy, and says in plain words what\n"
    "is running there. Exit 0 if the policy accepts it, 1 if not.\n";

static int
attest_url(int argc, char **argv)
{
	const char *url = argv[1], *policy_path = NULL, *sim = NULL, *roots = NULL;
	struct cinfer_client_opts o = { 0 };
	struct cinfer_client *c = NULL;
	struct cinfer_policy *pol = NULL;
	struct cinfer_err e = { 0 };
	const struct cinfer_ratls_verifier *v;
	int json = 0, rc;

	for (int i = 2; i < argc; i++) {
		if (cli_opt(argc, argv, &i, "--policy", &policy_path) ||
		    cli_opt(argc, argv, &i, "--sim", &sim) || cli_opt(argc, argv, &i, "--roots", &roots))
			continue;
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
			continue;
		}
		fprintf(stderr, "cinfer attest: unknown argument %s (see --help)\n", argv[i]);
		return CLI_USAGE;
	}
	if (policy_path == NULL) {
		fprintf(stderr, "cinfer attest: --policy FILE is required: trust is what YOUR policy says\n");
		return CLI_USAGE;
	}
	if (cinfer_policy_load(policy_path, &pol, &e) != 0)
		return cli_report(policy_path, &e);
	o.url = url;
	o.policy = pol;
	o.verify.sim_dir = sim;
	o.verify.roots_dir = roots;
	if (cinfer_client_new(&o, &c, &e) != 0) {
		cinfer_policy_free(pol);
		return cli_report("attest", &e);
	}
	rc = cinfer_client_attest(c, &e);
	v = cinfer_client_verifier(c);
	if (json) {
		json_t *out = json_object(), *rs = json_array();
		char *str;
		for (size_t i = 0; i < v->decision.reason_count; i++)
			json_array_append_new(rs, json_pack("{s:s, s:s, s:b}", "code",
			    v->decision.reasons[i].code, "text", v->decision.reasons[i].text, "ok",
			    v->decision.reasons[i].ok));
		if (rc != 0 && v->decision.reason_count == 0)
			json_array_append_new(rs, json_pack("{s:s, s:s, s:b}", "code", "evidence_rejected",
			    "text", e.msg, "ok", 0));
		json_object_set_new(out, "decision", json_string(rc == 0 ? "accepted" : "rejected"));
		json_object_set_new(out, "reasons", rs);
		json_object_set_new(out, "claims", v->done ? (json_t *)cli_claims_json(&v->claims) : json_null());
		str = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (str)
			printf("%s\n", str);
		free(str);
		json_decref(out);
	} else if (rc != 0) {
		printf("NOT TRUSTED: %s\n  %s: %s\n", url, e.stage ? e.stage : "attest", e.msg);
		if (v->decision.reason_count > 0)
			cli_print_decision(stdout, &v->decision);
	} else {
		char hex[2 * CINFER_MEAS_SIZE_MAX + 1];
		ci_hex_encode(v->claims.measurement, v->claims.measurement_size, hex);
		printf("TRUSTED: %s\n", url);
		printf("  platform     %s%s\n", cinfer_platform_name(v->claims.platform),
		    v->claims.simulated ? " (SIMULATED: no hardware protection, development only)" : "");
		printf("  measurement  %s\n", hex);
		printf("  debug        %s\n", v->claims.debug ? "ON" : "off");
		printf("  policy       \"%s\" revision %lld accepts it; fresh evidence bound to a "
		    "random nonce and to this TLS key\n", cinfer_policy_id(pol),
		    (long long)cinfer_policy_revision(pol));
		cli_print_decision(stdout, &v->decision);
	}
	cinfer_client_free(c);
	cinfer_policy_free(pol);
	if (rc == 0)
		return CLI_OK;
	return e.code == CINFER_E_IO ? CLI_ERROR : CLI_REJECTED;
}

static const char attest_help[] =
    "usage: cinfer attest --sim DIR --report-data HEX [options]\n"
    "\n"
    "Produces evidence as a JSON envelope {platform, evidence, certs, collateral}.\n"
    "With --sim, a SIMULATED report (SEV-SNP v3 layout, signed by the development\n"
    "chip key that `cinfer dev init DIR` made). It proves nothing about hardware.\n"
    "\n"
    "  --sim DIR             the simulated chip (from `cinfer dev init`)\n"
    "  --report-data HEX     up to 64 bytes bound into the report (zero-padded)\n"
    "  --program FILE        measure this program ...\n"
    "  --config FILE         ... with this configuration (see `cinfer measure`)\n"
    "  --measurement HEX     or give the 48-byte measurement directly\n"
    "  --host-data HEX       32 bytes of host data\n"
    "  --debug               set the DEBUG guest policy bit (policies reject it)\n"
    "  --out FILE            write the envelope here instead of standard output\n";

int
ci_cmd_attest(int argc, char **argv)
{
	const char *sim = NULL, *rd_hex = NULL, *prog = NULL, *cfg = NULL, *meas_hex = NULL;
	const char *host_hex = NULL, *out = NULL;
	struct cinfer_sim_attest_opts o = { 0 };
	struct cinfer_evidence ev;
	struct cinfer_err e = { 0 };
	uint8_t rd[64] = { 0 }, meas[48] = { 0 }, host[32] = { 0 };
	size_t n = 0;
	char *js;
	int rc;

	if (argc > 1 && strncmp(argv[1], "https://", 8) == 0) {
		if (cli_help_wanted(argc, argv)) {
			fputs(attest_url_help, stdout);
			return CLI_OK;
		}
		return attest_url(argc, argv);
	}
	if (cli_help_wanted(argc, argv)) {
		fputs(attest_help, stdout);
		fputs("\n", stdout);
		fputs(attest_url_help, stdout);
		return CLI_OK;
	}
	for (int i = 1; i < argc; i++) {
		if (cli_opt(argc, argv, &i, "--sim", &sim) ||
		    cli_opt(argc, argv, &i, "--report-data", &rd_hex) ||
		    cli_opt(argc, argv, &i, "--program", &prog) ||
		    cli_opt(argc, argv, &i, "--config", &cfg) ||
		    cli_opt(argc, argv, &i, "--measurement", &meas_hex) ||
		    cli_opt(argc, argv, &i, "--host-data", &host_hex) ||
		    cli_opt(argc, argv, &i, "--out", &out))
			continue;
		if (strcmp(argv[i], "--debug") == 0) {
			o.debug = 1;
			continue;
		}
		fprintf(stderr, "cinfer attest: unknown argument %s (see --help)\n", argv[i]);
		return CLI_USAGE;
	}
	if (sim == NULL) {
		fprintf(stderr, "cinfer attest: only the simulated platform can attest from the "
		    "command line here; give --sim DIR (see --help)\n");
		return CLI_USAGE;
	}
	if (rd_hex == NULL) {
		fprintf(stderr, "cinfer attest: --report-data HEX is required (bind a nonce or key)\n");
		return CLI_USAGE;
	}
	if (ci_hex_decode(rd_hex, strlen(rd_hex), rd, sizeof(rd), &n, &e) != 0)
		return cli_report("--report-data", &e);
	if (meas_hex != NULL && prog != NULL) {
		fprintf(stderr, "cinfer attest: give --measurement or --program, not both\n");
		return CLI_USAGE;
	}
	if (meas_hex != NULL) {
		if (ci_hex_decode(meas_hex, strlen(meas_hex), meas, sizeof(meas), &n, &e) != 0 || n != 48) {
			fprintf(stderr, "cinfer attest: --measurement must be 48 bytes of hex\n");
			return CLI_USAGE;
		}
	} else if (prog != NULL && cinfer_sim_measure(prog, cfg, meas, &e) != 0) {
		return cli_report("measure", &e);
	}
	if (host_hex != NULL &&
	    (ci_hex_decode(host_hex, strlen(host_hex), host, sizeof(host), &n, &e) != 0 || n != 32)) {
		fprintf(stderr, "cinfer attest: --host-data must be 32 bytes of hex\n");
		return CLI_USAGE;
	}
	o.measurement = meas;
	o.host_data = host;
	if (cinfer_sim_attest(sim, rd, &o, &ev, &e) != 0)
		return cli_report("attest", &e);
	js = cinfer_evidence_to_json(&ev, &e);
	cinfer_evidence_clear(&ev);
	if (js == NULL)
		return cli_report("attest", &e);
	if (out != NULL) {
		rc = ci_file_write(out, js, strlen(js), 0644, &e) == 0 ? CLI_OK : cli_report(out, &e);
	} else {
		printf("%s\n", js);
		rc = CLI_OK;
	}
	free(js);
	return rc;
}
