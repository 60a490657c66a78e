/* `cinfer snp ...`: SEV-SNP helper commands. */
#ifndef CI_CLI_CMD_SNP_H
#define CI_CLI_CMD_SNP_H

/*
 * argv[0] is "snp", argv[1] the subcommand ("certs"). Returns the exit
 * code: 0 done, 1 failed, 2 usage.
 */
int ci_cmd_snp(int argc, char **argv);

#endif
