/* cinfer dev init DIR: a simulated root of trust for development. */
#include <string.h>

#include "cinfer/attester.h"
#include "cli/cli.h"

static const char dev_help[] =
    "usage: cinfer dev init DIR [--force]\n"
    "\n"
    "Makes a SIMULATED root of trust and chip in DIR, shaped like AMD's:\n"
    "ark.pem (root) -> ask.pem -> vcek.pem (chip key, P-384, with TCB and hwID\n"
    "extensions), vcek.key (private, mode 0600) and chip.json. Every certificate is\n"
    "named SIMULATED. Policies reject this platform unless they set allow_simulated.\n"
    "\n"
    "  --force     replace an existing simulated chip in DIR\n";

int
ci_cmd_dev(int argc, char **argv)
{
	struct cinfer_sim_init_opts o = { 0 };
	struct cinfer_err e = { 0 };
	const char *dir = NULL;

	if (cli_help_wanted(argc, argv) || argc < 2) {
		fputs(dev_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_USAGE : CLI_OK;
	}
	if (strcmp(argv[1], "init") != 0) {
		fprintf(stderr, "cinfer dev: unknown subcommand %s (see --help)\n", argv[1]);
		return CLI_USAGE;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--force") == 0)
			o.force = 1;
		else if (argv[i][0] != '-' && dir == NULL)
			dir = argv[i];
		else {
			fprintf(stderr, "cinfer dev init: unexpected %s\n", argv[i]);
			return CLI_USAGE;
		}
	}
	if (dir == NULL) {
		fprintf(stderr, "cinfer dev init: give a directory\n");
		return CLI_USAGE;
	}
	if (cinfer_sim_dev_init(dir, &o, &e) != 0)
		return cli_report("dev init", &e);
	printf("SIMULATED root of trust written to %s\n"
	    "  ark.pem   root (RSA, RSA-PSS), pin this one\n"
	    "  ask.pem   intermediate\n"
	    "  vcek.pem  chip key certificate (P-384)\n"
	    "  vcek.key  chip private key (keep it private; mode 0600)\n"
	    "This is not a TEE: evidence from it is labelled SIMULATED everywhere.\n", dir);
	return CLI_OK;
}
