/*
 * Benchmark: SEV-SNP verify time (ci_snp_verify) with a warm chain cache
 * and with a cold one, on a real report (GCP Milan v5) and its VCEK.
 *
 *   cc -O2 -D_GNU_SOURCE -Iinclude -Isrc bench/snp_verify.c build/libcinfer.a \
 *       $(pkg-config --libs openssl jansson libcbor libcurl) -lpthread -lm -o snp_verify
 *   ./snp_verify [VECTORS_DIR] [ROOTS_DIR] [ITERATIONS]
 *
 * Prints the median, p10 and p90 in microseconds for each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cinfer/evidence.h"
#include "core/ci.h"
#include "evidence/snp.h"

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int
run(const struct cinfer_evidence *ev, const struct cinfer_verify_opts *o, int64_t at, int n,
    int cold, const char *label)
{
	double *t = calloc((size_t)n, sizeof(double));

	if (t == NULL)
		return -1;
	for (int i = 0; i < n; i++) {
		struct cinfer_claims c;
		struct cinfer_err e = { 0 };
		double t0;

		if (cold)
			ci_snp_cache_clear();
		cinfer_claims_init(&c, CINFER_PLATFORM_SNP);
		t0 = now_us();
		if (ci_snp_verify(ev, o, at, &c, &e) != 0) {
			fprintf(stderr, "verify failed: %s: %s\n", e.stage, e.msg);
			free(t);
			return -1;
		}
		t[i] = now_us() - t0;
	}
	qsort(t, (size_t)n, sizeof(double), cmp_double);
	printf("snp verify %-5s n=%d median %.0f us  p10 %.0f us  p90 %.0f us\n", label, n,
	    t[n / 2], t[n / 10], t[n * 9 / 10]);
	free(t);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *vec = argc > 1 ? argv[1] : "../shared/vectors";
	const char *roots = argc > 2 ? argv[2] : "data/roots";
	int n = argc > 3 ? atoi(argv[3]) : 200;
	char path[4096];
	struct cinfer_evidence ev;
	struct cinfer_verify_opts o = { .roots_dir = roots };
	struct cinfer_err e = { 0 };
	uint8_t *buf;
	size_t size;
	int64_t at;

	if (n < 10)
		n = 10;
	cinfer_evidence_init(&ev);
	ev.platform = CINFER_PLATFORM_SNP;
	snprintf(path, sizeof(path), "%s/snp/gcp_milan_v5_report.bin", vec);
	if (ci_file_read(path, 1 << 20, &ev.evidence, &ev.evidence_size, &e) != 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/snp/gcp_milan_vcek.pem", vec);
	if (ci_file_read(path, 1 << 20, &buf, &size, &e) != 0 ||
	    cinfer_evidence_add_cert(&ev, buf, size, &e) != 0)
		goto fail;
	ci_free(buf);
	if (ci_time_parse("2026-01-04T06:04:27Z", &at, &e) != 0)
		goto fail;
	{
		struct cinfer_claims c;
		cinfer_claims_init(&c, CINFER_PLATFORM_SNP);
		if (ci_snp_verify(&ev, &o, at, &c, &e) != 0)	/* warms the cache */
			goto fail;
	}
	if (run(&ev, &o, at, n, 0, "warm") != 0 || run(&ev, &o, at, n / 4, 1, "cold") != 0)
		return 1;
	cinfer_evidence_clear(&ev);
	return 0;
fail:
	fprintf(stderr, "snp_verify: %s\n", e.msg);
	return 1;
}
