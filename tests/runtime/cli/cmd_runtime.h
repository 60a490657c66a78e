/* cinfer CLI: the runtime subcommands (src/cli/cmd_run.c). */
#ifndef CI_CLI_CMD_RUNTIME_H
#define CI_CLI_CMD_RUNTIME_H

/*
 * `cinfer run MODEL.onnx --input [NAME=]FILE.pb ... [--output-dir DIR]
 * [--threads N] [--repeat N]`; argv[0] is "run". Returns the exit code.
 */
int ci_cmd_run(int argc, char **argv);
/* `cinfer inspect MODEL.onnx`; argv[0] is "inspect". Returns the exit code. */
int ci_cmd_inspect(int argc, char **argv);

#endif
