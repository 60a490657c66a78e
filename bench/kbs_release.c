/*
 * Key-release round trip against a running cinfer-kbs: for each release a
 * new client (new TLS 1.3 connection per request), POST /kbs/v0/auth, sim
 * evidence bound to the nonce and tee-pubkey, POST /kbs/v0/attest, GET the
 * resource, decrypt the JWE. Prints median/p90 latency and releases/s.
 * usage: kbs_release URL CA_PEM SIM_DIR RESOURCE N
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cinfer/attester.h"
#include "cinfer/kbs_client.h"

static int
evidence(const uint8_t rd[64], void *arg, char **json, struct cinfer_err *e)
{
	struct cinfer_evidence ev;
	struct cinfer_sim_attest_opts o = { 0 };	/* all-zero measurement: --dev pins it */

	if (cinfer_sim_attest(arg, rd, &o, &ev, e) != 0)
		return -1;
	*json = cinfer_evidence_to_json(&ev, e);
	cinfer_evidence_clear(&ev);
	return *json ? 0 : -1;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	int n = argc > 5 ? atoi(argv[5]) : 0;
	double *lat, t0, total;

	if (argc != 6 || n <= 0) {
		fprintf(stderr, "usage: kbs_release URL CA_PEM SIM_DIR RESOURCE N\n");
		return 2;
	}
	lat = calloc((size_t)n, sizeof(*lat));
	t0 = now();
	for (int i = 0; i < n; i++) {
		struct cinfer_kbs_client_opts o = { .url = argv[1], .cacert = argv[2],
			.fresh_connection = 1 };
		struct cinfer_kbs_client *c = NULL;
		struct cinfer_err e = { 0 };
		uint8_t out[256];
		size_t got = 0;
		double s = now();

		if (cinfer_kbs_client_new(&o, &c, &e) != 0 ||
		    cinfer_kbs_attest(c, evidence, argv[3], NULL, &e) != 0 ||
		    cinfer_kbs_get_resource(c, argv[4], 0, out, sizeof(out), &got, NULL, &e) != 0) {
			fprintf(stderr, "release %d failed: %s\n", i, e.msg);
			return 1;
		}
		lat[i] = now() - s;
		cinfer_kbs_client_free(c);
	}
	total = now() - t0;
	qsort(lat, (size_t)n, sizeof(*lat), cmp);
	printf("key releases: %d sequential, each auth+attest+resource on new TLS connections\n",
	    n);
	printf("median %.2f ms  p90 %.2f ms  min %.2f ms  max %.2f ms\n", lat[n / 2] * 1e3,
	    lat[(n * 9) / 10] * 1e3, lat[0] * 1e3, lat[n - 1] * 1e3);
	printf("throughput %.1f releases/s (one client)\n", n / total);
	free(lat);
	return 0;
}
