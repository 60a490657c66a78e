/* cinfer policy: init, lint and pin policy documents. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/json.h"

static const char policy_help[] =
    "usage: cinfer policy init FILE --id ID --platform P[,P...] [--all-of] [--allow-simulated]\n"
    "       cinfer policy lint FILE\n"
    "       cinfer policy pin FILE --measurement HEX [options]\n"
    "\n"
    "init   writes a new policy (revision 1) that accepts the given platforms and\n"
    "       pins nothing yet (so it accepts nothing until you pin a measurement).\n"
    "lint   checks a policy; errors point at FILE:LINE:COLUMN and name unknown fields.\n"
    "pin    adds a pinned measurement with an optional validity window and bumps\n"
    "       the revision. Options:\n"
    "         --platform P         pin for this platform only\n"
    "         --register NAME      a register other than the launch measurement\n"
    "                              (rtmr0..3, pcr0..8, rem0..3)\n"
    "         --not-before RFC3339 --not-after RFC3339   the window\n"
    "         --days N             shorthand: window from now for N days\n"
    "         --build-id ID --sbom-sha256 HEX --comment TEXT   provenance\n"
    "\n"
    "docs/policy.md is the reference for every field and reason code.\n";

/* Line and column (1-based) of the first occurrence of "name" in text. */
static int
locate(const char *text, size_t size, const char *name, int *line, int *col)
{
	char needle[80];
	const char *hit;

	snprintf(needle, sizeof(needle), "\"%s\"", name);
	hit = memmem(text, size, needle, strlen(needle));
	if (hit == NULL)
		return -1;
	*line = 1;
	*col = 1;
	for (const char *p = text; p < hit; p++) {
		if (*p == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
	return 0;
}

static int
lint(const char *path)
{
	struct cinfer_err e = { 0 };
	struct cinfer_policy *p = NULL;
	uint8_t *buf = NULL, dg[32];
	size_t size = 0;
	char hex[65];
	int line, col;

	if (ci_file_read(path, CINFER_POLICY_MAX_SIZE, &buf, &size, &e) != 0)
		return cli_report(path, &e);
	if (cinfer_policy_parse(buf, size, &p, &e) != 0) {
		const char *q = strstr(e.msg, "field \"");
		char name[64] = "";
		if (q != NULL) {
			q += 7;
			snprintf(name, sizeof(name), "%.*s", (int)strcspn(q, "\""), q);
		}
		if (strncmp(e.msg, "line ", 5) == 0) {
			/* Syntax errors already say where. */
			int l = 0, c = 0;
			const char *rest = e.msg;
			if (sscanf(e.msg, "line %d column %d:", &l, &c) == 2 && (rest = strchr(e.msg, ':')))
				fprintf(stderr, "%s:%d:%d: error: %s\n", path, l, c, rest + 2);
			else
				fprintf(stderr, "%s: error: %s\n", path, e.msg);
		} else if (name[0] && locate((char *)buf, size, name, &line, &col) == 0) {
			fprintf(stderr, "%s:%d:%d: error: %s\n", path, line, col, e.msg);
		} else {
			fprintf(stderr, "%s: error: %s\n", path, e.msg);
		}
		ci_free(buf);
		return CLI_USAGE;
	}
	cinfer_policy_digest(p, dg);
	ci_hex_encode(dg, 32, hex);
	printf("%s: ok: policy \"%s\" revision %lld, sha256 %s\n", path, cinfer_policy_id(p),
	    (long long)cinfer_policy_revision(p), hex);
	cinfer_policy_free(p);
	ci_free(buf);
	return CLI_OK;
}

static int
save(const char *path, json_t *doc)
{
	struct cinfer_err e = { 0 };
	struct cinfer_policy *p = NULL;
	char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	int rc;

	if (s == NULL) {
		fprintf(stderr, "cinfer policy: out of memory\n");
		return CLI_ERROR;
	}
	/* Never write a document we would refuse to read. */
	if (cinfer_policy_parse(s, strlen(s), &p, &e) != 0) {
		free(s);
		return cli_report("policy would be invalid", &e);
	}
	cinfer_policy_free(p);
	{
		size_t n = strlen(s);
		char *t = realloc(s, n + 2);
		if (t == NULL) {
			free(s);
			return CLI_ERROR;
		}
		s = t;
		s[n] = '\n';
		s[n + 1] = '\0';
	}
	rc = ci_file_write(path, s, strlen(s), 0644, &e) == 0 ? CLI_OK : cli_report(path, &e);
	free(s);
	return rc;
}

static int
init(int argc, char **argv)
{
	const char *path = NULL, *id = NULL, *plats = NULL;
	int all_of = 0, allow_sim = 0;
	json_t *doc, *list;
	char *copy, *tok, *save_ptr = NULL;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (cli_opt(argc, argv, &i, "--id", &id) || cli_opt(argc, argv, &i, "--platform", &plats))
			continue;
		if (strcmp(argv[i], "--all-of") == 0)
			all_of = 1;
		else if (strcmp(argv[i], "--allow-simulated") == 0)
			allow_sim = 1;
		else if (argv[i][0] != '-' && path == NULL)
			path = argv[i];
		else {
			fprintf(stderr, "cinfer policy init: unexpected %s\n", argv[i]);
			return CLI_USAGE;
		}
	}
	if (path == NULL || id == NULL || plats == NULL) {
		fprintf(stderr, "cinfer policy init: give FILE, --id and --platform (see --help)\n");
		return CLI_USAGE;
	}
	list = json_array();
	copy = strdup(plats);
	for (tok = strtok_r(copy, ",", &save_ptr); tok; tok = strtok_r(NULL, ",", &save_ptr))
		json_array_append_new(list, json_string(tok));
	free(copy);
	doc = json_pack("{s:i, s:s, s:i, s:{s:o}, s:b, s:b, s:b, s:[], s:[]}", "cinfer_policy", 1,
	    "id", id, "revision", 1, "platforms", all_of ? "all_of" : "any_of", list,
	    "allow_simulated", allow_sim, "allow_debug", 0, "require_report_data_binding", 1,
	    "measurements", "revoked_measurements");
	if (doc == NULL) {
		fprintf(stderr, "cinfer policy init: cannot build the document\n");
		return CLI_ERROR;
	}
	rc = save(path, doc);
	json_decref(doc);
	if (rc == CLI_OK)
		printf("wrote %s: policy \"%s\" revision 1 (pin a measurement next: cinfer policy pin)\n",
		    path, id);
	return rc;
}

static int
pin(int argc, char **argv)
{
	const char *path = NULL, *meas = NULL, *plat = NULL, *reg = NULL, *nb = NULL, *na = NULL;
	const char *days = NULL, *build = NULL, *sbom = NULL, *comment = NULL;
	struct cinfer_err e = { 0 };
	json_error_t je;
	json_t *doc, *pins, *p, *rev;
	char nbuf[21], abuf[21];
	int64_t t;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (cli_opt(argc, argv, &i, "--measurement", &meas) ||
		    cli_opt(argc, argv, &i, "--platform", &plat) ||
		    cli_opt(argc, argv, &i, "--register", &reg) ||
		    cli_opt(argc, argv, &i, "--not-before", &nb) ||
		    cli_opt(argc, argv, &i, "--not-after", &na) ||
		    cli_opt(argc, argv, &i, "--days", &days) ||
		    cli_opt(argc, argv, &i, "--build-id", &build) ||
		    cli_opt(argc, argv, &i, "--sbom-sha256", &sbom) ||
		    cli_opt(argc, argv, &i, "--comment", &comment))
			continue;
		if (argv[i][0] != '-' && path == NULL)
			path = argv[i];
		else {
			fprintf(stderr, "cinfer policy pin: unexpected %s\n", argv[i]);
			return CLI_USAGE;
		}
	}
	if (path == NULL || meas == NULL) {
		fprintf(stderr, "cinfer policy pin: give FILE and --measurement HEX (see --help)\n");
		return CLI_USAGE;
	}
	if ((nb != NULL && ci_time_parse(nb, &t, &e) != 0) || (na != NULL && ci_time_parse(na, &t, &e) != 0))
		return cli_report("window", &e);
	if (days != NULL) {
		long n = strtol(days, NULL, 10);
		if (n <= 0 || n > 3650 || nb != NULL || na != NULL) {
			fprintf(stderr, "cinfer policy pin: --days takes 1-3650 and replaces the window\n");
			return CLI_USAGE;
		}
		ci_time_format(ci_time_now(), nbuf);
		ci_time_format(ci_time_now() + n * 86400, abuf);
		nb = nbuf;
		na = abuf;
	}
	doc = json_load_file(path, JSON_PRESERVE_ORDER | JSON_REJECT_DUPLICATES, &je);
	if (doc == NULL) {
		fprintf(stderr, "%s:%d:%d: error: %s\n", path, je.line, je.column, je.text);
		return CLI_USAGE;
	}
	pins = json_object_get(doc, "measurements");
	if (pins == NULL) {
		pins = json_array();
		json_object_set_new(doc, "measurements", pins);
	}
	p = json_object();
	if (plat)
		json_object_set_new(p, "platform", json_string(plat));
	if (reg)
		json_object_set_new(p, "register", json_string(reg));
	json_object_set_new(p, "value", json_string(meas));
	if (nb)
		json_object_set_new(p, "not_before", json_string(nb));
	if (na)
		json_object_set_new(p, "not_after", json_string(na));
	if (build || sbom) {
		json_t *b = json_object();
		if (build)
			json_object_set_new(b, "id", json_string(build));
		if (sbom)
			json_object_set_new(b, "sbom_sha256", json_string(sbom));
		json_object_set_new(p, "build", b);
	}
	if (comment)
		json_object_set_new(p, "comment", json_string(comment));
	if (!json_is_array(pins) || json_array_append_new(pins, p) != 0) {
		json_decref(doc);
		fprintf(stderr, "%s: measurements is not a list\n", path);
		return CLI_USAGE;
	}
	rev = json_object_get(doc, "revision");
	json_object_set_new(doc, "revision",
	    json_integer(json_is_integer(rev) ? json_integer_value(rev) + 1 : 1));
	rc = save(path, doc);
	if (rc == CLI_OK)
		printf("pinned %.16s... in %s (revision %lld)\n", meas, path,
		    (long long)json_integer_value(json_object_get(doc, "revision")));
	json_decref(doc);
	return rc;
}

int
ci_cmd_policy(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(policy_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_USAGE : CLI_OK;
	}
	if (cli_help_wanted(argc, argv)) {
		fputs(policy_help, stdout);
		return CLI_OK;
	}
	if (strcmp(argv[1], "lint") == 0) {
		if (argc != 3) {
			fprintf(stderr, "cinfer policy lint: give one FILE\n");
			return CLI_USAGE;
		}
		return lint(argv[2]);
	}
	if (strcmp(argv[1], "init") == 0)
		return init(argc - 1, argv + 1);
	if (strcmp(argv[1], "pin") == 0)
		return pin(argc - 1, argv + 1);
	fprintf(stderr, "cinfer policy: unknown subcommand %s (see --help)\n", argv[1]);
	return CLI_USAGE;
}
