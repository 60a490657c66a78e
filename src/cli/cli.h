/* The cinfer command-line tool: one file per subcommand. */
#ifndef CI_CLI_H
#define CI_CLI_H

#include <stdio.h>

#include "cinfer/evidence.h"
#include "cinfer/policy.h"
#include "core/ci.h"

/* Exit codes shared by every subcommand. */
enum { CLI_OK = 0, CLI_REJECTED = 1, CLI_USAGE = 2, CLI_ERROR = 3 };

int ci_cmd_verify(int argc, char **argv);
int ci_cmd_attest(int argc, char **argv);
int ci_cmd_dev(int argc, char **argv);
int ci_cmd_policy(int argc, char **argv);
int ci_cmd_measure(int argc, char **argv);
int ci_cmd_infer(int argc, char **argv);
int ci_cmd_receipt(int argc, char **argv);

/* Prints "cinfer: <stage>: <msg>" to stderr; returns the exit code for e. */
int cli_report(const char *what, const struct cinfer_err *e);
/* Exit code for a failure code: usage/malformed -> 2, crypto/policy/stale -> 1, else 3. */
int cli_code(enum cinfer_code c);
/* 1 if argv[i] equals opt and a value follows (then *val is set and i advanced). */
int cli_opt(int argc, char **argv, int *i, const char *opt, const char **val);
int cli_help_wanted(int argc, char **argv);

/* Printing claims and decisions, for people and as JSON. */
void cli_print_claims(FILE *f, const struct cinfer_claims *c);
void cli_print_decision(FILE *f, const struct cinfer_decision *d);
/* Returns a new jansson object (json_t *) describing c. */
void *cli_claims_json(const struct cinfer_claims *c);

#endif
