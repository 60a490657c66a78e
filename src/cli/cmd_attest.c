/* cinfer attest: produce evidence (today: the simulated platform). */
#include <stdlib.h>
#include <string.h>

#include "cinfer/attester.h"
#include "cli/cli.h"

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

	if (cli_help_wanted(argc, argv)) {
		fputs(attest_help, stdout);
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
