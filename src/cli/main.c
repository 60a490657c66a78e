/*
 * cinfer: seal models, make and pin policies, attest and verify evidence,
 * run models. Only this folder prints and exits; the library never does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "cli/cli.h"
#include "cli/cmd_runtime.h"
#include "cli/cmd_seal.h"
#include "cli/cmd_snp.h"

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct cmd cmds[] = {
	{ "attest", ci_cmd_attest, "produce evidence (simulated platform: --sim DIR)" },
	{ "dev", ci_cmd_dev, "developer tools: `dev init DIR` makes a simulated root of trust" },
	{ "inspect", ci_cmd_inspect, "list a model's inputs, outputs, opsets and operators" },
	{ "infer", ci_cmd_infer, "verify a server, send inputs, check the signed receipt" },
	{ "measure", ci_cmd_measure, "compute the expected launch measurement of a build" },
	{ "policy", ci_cmd_policy, "policy documents: init, lint, pin" },
	{ "receipt", ci_cmd_receipt, "check a receipt offline: `receipt verify`" },
	{ "run", ci_cmd_run, "run an ONNX model on TensorProto (.pb) inputs, locally" },
	{ "seal", ci_cmd_seal, "encrypt a model into a sealed bundle; its key goes to the key broker(s)" },
	{ "snp", ci_cmd_snp, "AMD SEV-SNP certificates: `snp certs` (cache first, KDS if asked)" },
	{ "verify", ci_cmd_verify, "verify evidence, judge it against a policy, explain why" },
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: cinfer COMMAND [ARGS...]\n\n"
	    "cinfer verifies TEE evidence against pinned policies and runs models\n"
	    "confidentially. Commands:\n\n");
	for (size_t i = 0; i < CI_ARRAY_LEN(cmds); i++)
		fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f, "\n`cinfer COMMAND --help` describes each. Exit codes: 0 ok/accepted, "
	    "1 rejected, 2 bad input or usage, 3 other error.\n");
}

int
cli_code(enum cinfer_code c)
{
	switch (c) {
	case CINFER_E_USAGE:
	case CINFER_E_MALFORMED:
	case CINFER_E_LIMIT:
	case CINFER_E_UNSUPPORTED:
		return CLI_USAGE;
	case CINFER_E_CRYPTO:
	case CINFER_E_POLICY:
	case CINFER_E_STALE:
		return CLI_REJECTED;
	default:
		return CLI_ERROR;
	}
}

int
cli_report(const char *what, const struct cinfer_err *e)
{
	fprintf(stderr, "cinfer: %s: %s%s%s\n", what, e->stage ? e->stage : "",
	    e->stage ? ": " : "", e->msg);
	return cli_code(e->code);
}

int
cli_opt(int argc, char **argv, int *i, const char *opt, const char **val)
{
	size_t n = strlen(opt);

	if (strncmp(argv[*i], opt, n) == 0 && argv[*i][n] == '=') {
		*val = argv[*i] + n + 1;
		return 1;
	}
	if (strcmp(argv[*i], opt) != 0)
		return 0;
	if (*i + 1 >= argc) {
		fprintf(stderr, "cinfer: %s needs a value\n", opt);
		exit(CLI_USAGE);
	}
	*val = argv[++*i];
	return 1;
}

int
cli_help_wanted(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

int
main(int argc, char **argv)
{
	int rc;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_USAGE : CLI_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("cinfer %s\n", CINFER_VERSION);
		return CLI_OK;
	}
	for (size_t i = 0; i < CI_ARRAY_LEN(cmds); i++) {
		if (strcmp(argv[1], cmds[i].name) == 0) {
			rc = cmds[i].fn(argc - 1, argv + 1);
			fflush(stdout);
			return rc;
		}
	}
	fprintf(stderr, "cinfer: unknown command \"%s\"\n\n", argv[1]);
	usage(stderr);
	return CLI_USAGE;
}
