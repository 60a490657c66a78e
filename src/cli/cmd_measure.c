/* cinfer measure: the launch measurement a build will have. */
#include <string.h>

#include "cinfer/attester.h"
#include "cli/cli.h"

static const char measure_help[] =
    "usage: cinfer measure --program FILE [--config FILE]\n"
    "\n"
    "Prints the expected launch measurement (48 bytes, hex) of the simulated\n"
    "platform for this program binary and configuration:\n"
    "SHA-384(\"cinfer sim launch v1\\0\" || le64(len) || program || le64(len) || config).\n"
    "Pin the printed value in a policy with `cinfer policy pin`.\n";

int
ci_cmd_measure(int argc, char **argv)
{
	const char *prog = NULL, *cfg = NULL;
	struct cinfer_err e = { 0 };
	uint8_t m[48];
	char hex[97];

	if (cli_help_wanted(argc, argv)) {
		fputs(measure_help, stdout);
		return CLI_OK;
	}
	for (int i = 1; i < argc; i++) {
		if (cli_opt(argc, argv, &i, "--program", &prog) || cli_opt(argc, argv, &i, "--config", &cfg))
			continue;
		fprintf(stderr, "cinfer measure: unknown argument %s (see --help)\n", argv[i]);
		return CLI_USAGE;
	}
	if (prog == NULL) {
		fprintf(stderr, "cinfer measure: --program FILE is required\n");
		return CLI_USAGE;
	}
	if (cinfer_sim_measure(prog, cfg, m, &e) != 0)
		return cli_report("measure", &e);
	ci_hex_encode(m, sizeof(m), hex);
	printf("%s\n", hex);
	return CLI_OK;
}
