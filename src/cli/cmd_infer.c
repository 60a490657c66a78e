/* cinfer infer: verify the server, then send input, then check the receipt. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cinfer/client.h"
#include "cinfer/receipt.h"
#include "cli/cli.h"
#include "core/json.h"
#include "crypto/crypto.h"

static const char infer_help[] =
    "usage: cinfer infer URL --policy FILE --model NAME --input NAME=FILE... [options]\n"
    "\n"
    "1. Checks the server's evidence against YOUR policy inside the TLS handshake,\n"
    "   then fresh evidence bound to a random nonce. Refuses (exit 1) otherwise:\n"
    "   no input leaves this process before both checks pass.\n"
    "2. Sends the inputs; FILE is a JSON tensor {\"dtype\", \"shape\", \"data\"}.\n"
    "3. Checks the signed receipt: signature, key bound by the evidence, and the\n"
    "   commitments to exactly what was sent and received.\n"
    "\n"
    "  --policy FILE      the client's pinned policy (required)\n"
    "  --model NAME       model name on the server\n"
    "  --input NAME=FILE  one per model input\n"
    "  --sim DIR          simulated root of trust (for SIMULATED servers)\n"
    "  --roots DIR        vendor roots\n"
    "  --save DIR         keep evidence.json, receipt.jws, request.json, response.json,\n"
    "                     nonce.hex for `cinfer receipt verify` later\n"
    "  --json             print the server's response body as is\n";

static int
save_file(const char *dir, const char *name, const void *p, size_t size)
{
	char path[4096];
	struct cinfer_err e = { 0 };

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (ci_file_write(path, p, size, 0600, &e) != 0) {
		cli_report("--save", &e);
		return -1;
	}
	return 0;
}

static void
print_outputs(const char *body, size_t size)
{
	json_t *root = json_loadb(body, size, 0, NULL), *outs, *t;
	const char *name;

	outs = json_object_get(root, "outputs");
	json_object_foreach(outs, name, t) {
		json_t *data = json_object_get(t, "data"), *shape = json_object_get(t, "shape");
		char *sh = json_dumps(shape, JSON_COMPACT);
		size_t n = json_array_size(data), cols = n, best = 0;
		printf("output %s %s %s\n", name, json_string_value(json_object_get(t, "dtype")),
		    sh ? sh : "?");
		free(sh);
		if (json_array_size(shape) == 2)
			cols = (size_t)json_integer_value(json_array_get(shape, 1));
		for (size_t row = 0; cols > 0 && row * cols < n && row < 16; row++) {
			double bv = -1e300;
			for (size_t k = 0; k < cols; k++) {
				double v = json_number_value(json_array_get(data, row * cols + k));
				if (v > bv) {
					bv = v;
					best = k;
				}
			}
			printf("  row %zu: argmax %zu (%.4f)\n", row, best, bv);
		}
	}
	json_decref(root);
}

int
ci_cmd_infer(int argc, char **argv)
{
	const char *url = NULL, *policy_path = NULL, *model = NULL, *save = NULL, *v;
	const char *inputs[16];
	int n_inputs = 0, json_out = 0, rc = CLI_ERROR;
	struct cinfer_client_opts o = { 0 };
	struct cinfer_client *c = NULL;
	struct cinfer_policy *pol = NULL;
	struct cinfer_err e = { 0 };
	struct cinfer_response r = { 0 };
	json_t *req = NULL, *ins;
	char *body = NULL, path[256], nonce_hex[65], hdr[128];
	uint8_t nonce[32];

	if (cli_help_wanted(argc, argv)) {
		fputs(infer_help, stdout);
		return CLI_OK;
	}
	for (int i = 1; i < argc; i++) {
		if (cli_opt(argc, argv, &i, "--policy", &policy_path) ||
		    cli_opt(argc, argv, &i, "--model", &model) ||
		    cli_opt(argc, argv, &i, "--sim", &o.verify.sim_dir) ||
		    cli_opt(argc, argv, &i, "--roots", &o.verify.roots_dir) ||
		    cli_opt(argc, argv, &i, "--save", &save))
			continue;
		if (cli_opt(argc, argv, &i, "--input", &v)) {
			if (n_inputs == 16 || strchr(v, '=') == NULL) {
				fprintf(stderr, "cinfer infer: --input NAME=FILE (at most 16)\n");
				return CLI_USAGE;
			}
			inputs[n_inputs++] = v;
		} else if (strcmp(argv[i], "--json") == 0) {
			json_out = 1;
		} else if (argv[i][0] != '-' && url == NULL) {
			url = argv[i];
		} else {
			fprintf(stderr, "cinfer infer: unexpected %s (see --help)\n", argv[i]);
			return CLI_USAGE;
		}
	}
	if (url == NULL || policy_path == NULL || model == NULL || n_inputs == 0) {
		fprintf(stderr, "cinfer infer: give URL, --policy, --model and --input (see --help)\n");
		return CLI_USAGE;
	}
	if (cinfer_policy_load(policy_path, &pol, &e) != 0)
		return cli_report(policy_path, &e);
	/* Read every input before connecting: a bad file must not cost a round trip. */
	ins = json_object();
	req = json_pack("{s:o}", "inputs", ins);
	for (int i = 0; i < n_inputs; i++) {
		char name[128];
		const char *eq = strchr(inputs[i], '=');
		json_error_t je;
		json_t *t;
		snprintf(name, sizeof(name), "%.*s", (int)(eq - inputs[i]), inputs[i]);
		t = json_load_file(eq + 1, JSON_REJECT_DUPLICATES, &je);
		if (t == NULL) {
			fprintf(stderr, "%s:%d:%d: %s\n", eq + 1, je.line, je.column, je.text);
			rc = CLI_USAGE;
			goto out;
		}
		json_object_set_new(ins, name, t);
	}
	body = json_dumps(req, JSON_COMPACT);
	o.url = url;
	o.policy = pol;
	if (body == NULL || cinfer_client_new(&o, &c, &e) != 0) {
		rc = cli_report("infer", &e);
		goto out;
	}
	printf("[1/3] verifying %s against policy \"%s\" revision %lld ...\n", url,
	    cinfer_policy_id(pol), (long long)cinfer_policy_revision(pol));
	if (cinfer_client_attest(c, &e) != 0) {
		const struct cinfer_ratls_verifier *vv = cinfer_client_verifier(c);
		printf("REFUSED: %s: %s\n", e.stage ? e.stage : "attest", e.msg);
		cli_print_decision(stdout, &vv->decision);
		printf("No input was sent.\n");
		rc = e.code == CINFER_E_IO ? CLI_ERROR : CLI_REJECTED;
		goto out;
	}
	{
		const struct cinfer_ratls_verifier *vv = cinfer_client_verifier(c);
		char hex[2 * CINFER_MEAS_SIZE_MAX + 1];
		ci_hex_encode(vv->claims.measurement, vv->claims.measurement_size, hex);
		printf("      trusted: %s%s, measurement %.32s...\n",
		    cinfer_platform_name(vv->claims.platform),
		    vv->claims.simulated ? " (SIMULATED)" : "", hex);
	}
	if (ci_random(nonce, sizeof(nonce), &e) != 0) {
		rc = cli_report("infer", &e);
		goto out;
	}
	ci_hex_encode(nonce, 32, nonce_hex);
	snprintf(hdr, sizeof(hdr), "Cinfer-Nonce: %s", nonce_hex);
	snprintf(path, sizeof(path), "/v1/models/%s/infer", model);
	printf("[2/3] sending %zu bytes of input over the verified channel ...\n", strlen(body));
	{
		const char *hdrs[] = { hdr, NULL };
		if (cinfer_client_request(c, "POST", path, "application/json", hdrs, body, strlen(body),
			&r, &e) != 0) {
			rc = cli_report("infer", &e);
			goto out;
		}
	}
	if (r.status != 200) {
		printf("server answered %ld: %.*s\n", r.status, (int)(r.body_size > 400 ? 400 : r.body_size),
		    r.body ? r.body : "");
		rc = CLI_ERROR;
		goto out;
	}
	printf("[3/3] checking the receipt ...\n");
	{
		const struct cinfer_ratls_verifier *vv = cinfer_client_verifier(c);
		struct cinfer_evidence ev;
		struct cinfer_receipt rec;
		struct cinfer_decision d;
		uint8_t in_c[32], out_c[32];
		if (r.receipt == NULL) {
			printf("NO RECEIPT: the server did not sign its answer\n");
			rc = CLI_REJECTED;
			goto out;
		}
		if (vv->evidence_json == NULL ||
		    cinfer_evidence_parse_json(&ev, vv->evidence_json, strlen(vv->evidence_json), &e) != 0 ||
		    cinfer_receipt_verify(r.receipt, strlen(r.receipt), &ev, pol, &o.verify, &rec, &d,
			&e) != 0) {
			if (vv->evidence_json != NULL)
				cinfer_evidence_clear(&ev);
			printf("BAD RECEIPT: %s: %s\n", e.stage ? e.stage : "receipt", e.msg);
			rc = CLI_REJECTED;
			goto out;
		}
		cinfer_evidence_clear(&ev);
		cinfer_receipt_commit(0, nonce, body, strlen(body), in_c);
		cinfer_receipt_commit(1, nonce, r.body, r.body_size, out_c);
		if (ci_ct_eq(in_c, rec.input_commitment, 32) != 0 ||
		    ci_ct_eq(out_c, rec.output_commitment, 32) != 0 ||
		    ci_ct_eq(nonce, rec.client_nonce, 32) != 0) {
			printf("BAD RECEIPT: it does not commit to this request and response\n");
			rc = CLI_REJECTED;
			goto out;
		}
		printf("      receipt %s: signed by the attested server, commits to this input "
		    "and output, model %s\n", rec.session, rec.model_name);
		if (save != NULL) {
			mkdir(save, 0700);
			if (save_file(save, "evidence.json", vv->evidence_json, strlen(vv->evidence_json)) ||
			    save_file(save, "receipt.jws", r.receipt, strlen(r.receipt)) ||
			    save_file(save, "request.json", body, strlen(body)) ||
			    save_file(save, "response.json", r.body, r.body_size) ||
			    save_file(save, "nonce.hex", nonce_hex, 64))
				goto out;
			printf("      saved to %s/ (check later: cinfer receipt verify %s/receipt.jws "
			    "--evidence %s/evidence.json --policy ...)\n", save, save, save);
		}
	}
	if (json_out)
		printf("%.*s\n", (int)r.body_size, r.body);
	else
		print_outputs(r.body, r.body_size);
	rc = CLI_OK;
out:
	if (body != NULL) {
		ci_wipe(body, strlen(body));
		free(body);
	}
	if (r.body != NULL)
		ci_wipe(r.body, r.body_size);
	cinfer_response_clear(&r);
	json_decref(req);
	cinfer_client_free(c);
	cinfer_policy_free(pol);
	return rc;
}
