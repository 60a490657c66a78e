/* cinfer receipt verify: check a receipt offline. */
#include <string.h>

#include "cinfer/receipt.h"
#include "cli/cli.h"

static const char receipt_help[] =
    "usage: cinfer receipt verify RECEIPT --evidence E.json --policy P [options]\n"
    "\n"
    "Checks offline that RECEIPT (a compact JWS) was signed by a server whose\n"
    "evidence E binds the signing key, that E is authentic and P accepts it, and,\n"
    "given the request and response bodies and the nonce, that the receipt commits\n"
    "to exactly those bytes.\n"
    "\n"
    "  --evidence FILE   the server's evidence envelope (cinfer infer --save keeps it)\n"
    "  --policy FILE     the policy to judge the server by\n"
    "  --request FILE --response FILE --nonce HEX   check the commitments too\n"
    "  --sim DIR --roots DIR --at RFC3339            as for cinfer verify\n";

int
ci_cmd_receipt(int argc, char **argv)
{
	const char *file = NULL, *evp = NULL, *polp = NULL, *reqp = NULL, *resp = NULL;
	const char *nonce_hex = NULL, *at = NULL;
	struct cinfer_verify_opts o = { 0 };
	struct cinfer_err e = { 0 };
	struct cinfer_policy *pol = NULL;
	struct cinfer_evidence ev;
	struct cinfer_receipt r;
	struct cinfer_decision d;
	uint8_t *jws = NULL, *evb = NULL, *rq = NULL, *rs = NULL, nonce[32], c[32];
	size_t jn = 0, en = 0, qn = 0, sn = 0, nn = 0;
	int rc = CLI_ERROR;

	cinfer_evidence_init(&ev);
	if (argc < 2 || cli_help_wanted(argc, argv) || strcmp(argv[1], "verify") != 0) {
		fputs(receipt_help, argc < 2 ? stderr : stdout);
		return argc >= 2 && cli_help_wanted(argc, argv) ? CLI_OK : CLI_USAGE;
	}
	for (int i = 2; i < argc; i++) {
		if (cli_opt(argc, argv, &i, "--evidence", &evp) ||
		    cli_opt(argc, argv, &i, "--policy", &polp) ||
		    cli_opt(argc, argv, &i, "--request", &reqp) ||
		    cli_opt(argc, argv, &i, "--response", &resp) ||
		    cli_opt(argc, argv, &i, "--nonce", &nonce_hex) ||
		    cli_opt(argc, argv, &i, "--sim", &o.sim_dir) ||
		    cli_opt(argc, argv, &i, "--roots", &o.roots_dir) ||
		    cli_opt(argc, argv, &i, "--at", &at))
			continue;
		if (argv[i][0] != '-' && file == NULL)
			file = argv[i];
		else {
			fprintf(stderr, "cinfer receipt verify: unexpected %s\n", argv[i]);
			return CLI_USAGE;
		}
	}
	if (file == NULL || evp == NULL || polp == NULL) {
		fprintf(stderr, "cinfer receipt verify: give RECEIPT, --evidence and --policy\n");
		return CLI_USAGE;
	}
	if ((reqp || resp || nonce_hex) && !(reqp && resp && nonce_hex)) {
		fprintf(stderr, "cinfer receipt verify: --request, --response and --nonce go together\n");
		return CLI_USAGE;
	}
	if (at != NULL && ci_time_parse(at, &o.at, &e) != 0)
		return cli_report("--at", &e);
	if (cinfer_policy_load(polp, &pol, &e) != 0)
		return cli_report(polp, &e);
	if (ci_file_read(file, CINFER_RECEIPT_MAX_SIZE, &jws, &jn, &e) != 0 ||
	    ci_file_read(evp, 8u << 20, &evb, &en, &e) != 0 ||
	    cinfer_evidence_parse_json(&ev, evb, en, &e) != 0) {
		rc = cli_report("receipt", &e);
		goto out;
	}
	while (jn > 0 && (jws[jn - 1] == '\n' || jws[jn - 1] == '\r' || jws[jn - 1] == ' '))
		jn--;
	if (cinfer_receipt_verify((char *)jws, jn, &ev, pol, &o, &r, &d, &e) != 0) {
		printf("receipt REJECTED: %s: %s\n", e.stage ? e.stage : "receipt", e.msg);
		cli_print_decision(stdout, &d);
		rc = cli_code(e.code) == CLI_USAGE ? CLI_USAGE : CLI_REJECTED;
		goto out;
	}
	if (reqp != NULL) {
		if (ci_file_read(reqp, 64u << 20, &rq, &qn, &e) != 0 ||
		    ci_file_read(resp, 64u << 20, &rs, &sn, &e) != 0 ||
		    ci_hex_decode(nonce_hex, strlen(nonce_hex), nonce, 32, &nn, &e) != 0 || nn != 32) {
			rc = e.code ? cli_report("receipt", &e) : CLI_USAGE;
			goto out;
		}
		cinfer_receipt_commit(0, nonce, rq, qn, c);
		if (ci_ct_eq(c, r.input_commitment, 32) != 0) {
			printf("receipt REJECTED: it does not commit to this request\n");
			rc = CLI_REJECTED;
			goto out;
		}
		cinfer_receipt_commit(1, nonce, rs, sn, c);
		if (ci_ct_eq(c, r.output_commitment, 32) != 0) {
			printf("receipt REJECTED: it does not commit to this response\n");
			rc = CLI_REJECTED;
			goto out;
		}
	}
	{
		char t[21], hex[65];
		ci_time_format(r.iat, t);
		ci_hex_encode(r.model_sha256, 32, hex);
		printf("receipt OK: session %s at %s\n", r.session, t);
		printf("  signed by a %s%s server that policy \"%s\" revision %lld accepts\n",
		    cinfer_platform_name(r.platform), r.simulated ? " (SIMULATED)" : "",
		    cinfer_policy_id(pol), (long long)cinfer_policy_revision(pol));
		printf("  model %s sha256 %s\n", r.model_name, hex);
		printf("  commitments %s\n", reqp ? "match the given request and response" :
		    "present (give --request/--response/--nonce to check them)");
	}
	rc = CLI_OK;
out:
	cinfer_evidence_clear(&ev);
	cinfer_policy_free(pol);
	ci_free(jws);
	ci_free(evb);
	ci_free(rq);
	ci_free(rs);
	return rc;
}
