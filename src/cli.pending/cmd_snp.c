/*
 * cinfer snp certs: gets the certificates an SEV-SNP report needs, offline
 * first.
 *
 *   cinfer snp certs --report R [--cert-table T] [--kds-url URL]
 *       [--cache DIR] [--out DIR] [--product Milan|Genoa|Turin]
 *       [--chain] [--crl] [--no-wait]
 *
 * With --cert-table (the extended report's GUID table, e.g. configfs-tsm
 * auxblob) the certificates are taken from it and nothing is fetched.
 * Otherwise the VCEK for the report's chip id and reported TCB comes from
 * the cache, or from AMD KDS (default https://kdsintf.amd.com) at most once
 * per 10 s; --chain and --crl also get the family's ASK+ARK and CRL.
 * Files written to --out (default "."): vcek.der or vlek.der, ask.der,
 * ark.der, cert_chain.pem, crl.der.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd_snp.h"
#include "evidence/snp_certs.h"
#include "evidence/snp_report.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: cinfer snp certs --report FILE [--cert-table FILE] [--kds-url URL]\n"
	    "                        [--cache DIR] [--out DIR] [--product NAME]\n"
	    "                        [--chain] [--crl] [--no-wait]\n");
}

static int
put(const char *dir, const char *name, const uint8_t *p, size_t size)
{
	char path[4200];
	struct cinfer_err e = { 0 };

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (ci_file_write(path, p, size, 0644, &e) != 0) {
		fprintf(stderr, "cinfer snp certs: %s\n", e.msg);
		return -1;
	}
	printf("wrote %s (%zu bytes)\n", path, size);
	return 0;
}

static const char *
default_cache(char *buf, size_t size)
{
	const char *env = getenv("CINFER_CACHE_DIR");
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");

	if (env != NULL && env[0] != '\0')
		snprintf(buf, size, "%s/snp", env);
	else if (xdg != NULL && xdg[0] != '\0')
		snprintf(buf, size, "%s/cinfer/snp", xdg);
	else
		snprintf(buf, size, "%s/.cache/cinfer/snp", home ? home : ".");
	return buf;
}

static int
from_table(const char *path, const char *out)
{
	struct ci_snp_cert_table t;
	struct cinfer_err e = { 0 };
	uint8_t *buf = NULL;
	size_t size = 0;
	int rc = 1;

	if (ci_file_read(path, CI_SNP_CERT_TABLE_MAX_SIZE, &buf, &size, &e) != 0 ||
	    ci_snp_cert_table_parse(&t, buf, size, &e) != 0) {
		fprintf(stderr, "cinfer snp certs: %s\n", e.msg);
		goto out;
	}
	for (size_t i = 0; i < t.count; i++) {
		char name[32];
		if (t.entry[i].kind == CI_SNP_CERT_OTHER)
			continue;
		snprintf(name, sizeof(name), "%s.der", ci_snp_cert_kind_name(t.entry[i].kind));
		if (put(out, name, t.entry[i].data, t.entry[i].size) != 0)
			goto out;
	}
	rc = 0;
out:
	ci_free(buf);
	return rc;
}

static int
certs(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "report", required_argument, NULL, 'r' },
		{ "cert-table", required_argument, NULL, 't' },
		{ "kds-url", required_argument, NULL, 'k' },
		{ "cache", required_argument, NULL, 'c' },
		{ "out", required_argument, NULL, 'o' },
		{ "product", required_argument, NULL, 'p' },
		{ "chain", no_argument, NULL, 'C' },
		{ "crl", no_argument, NULL, 'L' },
		{ "no-wait", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *report = NULL, *table = NULL, *out = ".", *product = NULL;
	struct ci_snp_kds k = { 0 };
	struct ci_snp_report r;
	struct ci_snp_vcek_id id;
	struct cinfer_err e = { 0 };
	enum ci_snp_family hint = CI_SNP_FAMILY_UNKNOWN;
	char cache[4096];
	uint8_t *rep = NULL, *got = NULL;
	size_t rep_size = 0, got_size = 0;
	int want_chain = 0, want_crl = 0, fetched = 0, c, rc = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': report = optarg; break;
		case 't': table = optarg; break;
		case 'k': k.url = optarg; break;
		case 'c': k.cache_dir = optarg; break;
		case 'o': out = optarg; break;
		case 'p': product = optarg; break;
		case 'C': want_chain = 1; break;
		case 'L': want_crl = 1; break;
		case 'n': k.no_wait = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || (report == NULL && table == NULL)) {
		usage(stderr);
		return 2;
	}
	if (table != NULL)
		return from_table(table, out);
	if (product != NULL) {
		hint = ci_snp_family_from_product(product);
		if (hint == CI_SNP_FAMILY_UNKNOWN) {
			fprintf(stderr, "cinfer snp certs: unknown product %s\n", product);
			return 2;
		}
	}
	if (k.cache_dir == NULL)
		k.cache_dir = default_cache(cache, sizeof(cache));
	if (ci_file_read(report, 1 << 20, &rep, &rep_size, &e) != 0 ||
	    ci_snp_report_parse(&r, rep, rep_size, &e) != 0 ||
	    ci_snp_vcek_id_from_report(&r, hint, &id, &e) != 0 ||
	    ci_snp_kds_get_vcek(&k, &id, &got, &got_size, &fetched, &e) != 0)
		goto fail;
	printf("VCEK for %s chip %02x%02x%02x%02x... %s\n", ci_snp_family_name(id.family),
	    id.hwid[0], id.hwid[1], id.hwid[2], id.hwid[3],
	    fetched ? "fetched from KDS" : "found in the cache");
	if (put(out, "vcek.der", got, got_size) != 0)
		goto out;
	ci_free(got);
	got = NULL;
	if (want_chain) {
		if (ci_snp_kds_get_family_file(&k, id.family, "vcek", "cert_chain", &got, &got_size,
			&fetched, &e) != 0)
			goto fail;
		if (put(out, "cert_chain.pem", got, got_size) != 0)
			goto out;
		ci_free(got);
		got = NULL;
	}
	if (want_crl) {
		if (ci_snp_kds_get_family_file(&k, id.family, "vcek", "crl", &got, &got_size,
			&fetched, &e) != 0)
			goto fail;
		if (put(out, "crl.der", got, got_size) != 0)
			goto out;
	}
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "cinfer snp certs: %s\n", e.msg);
out:
	ci_free(rep);
	ci_free(got);
	return rc;
}

int
ci_cmd_snp(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "certs") == 0)
		return certs(argc - 1, argv + 1);
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "cinfer snp: unknown command %s\n", argv[1]);
	usage(stderr);
	return 2;
}
