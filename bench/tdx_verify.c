/*
 * TDX verification time with warm collateral: the quote, TCB info, QE
 * identity and CRLs are already in memory (as a broker's cache holds
 * them); each iteration runs the whole ci_tdx_verify (parse, 3 ECDSA
 * signatures over quote/QE/collateral x2, PCK chain, CRLs, TCB levels).
 *
 * Usage: tdx_verify [ITERATIONS]   (vectors from $CINFER_VECTORS or
 * ../shared/vectors, roots from $CINFER_ROOTS or data/roots)
 * Build: cc -O2 -Iinclude -Isrc bench/tdx_verify.c build/libcinfer.a \
 *        $(pkg-config --libs openssl jansson libcbor libcurl) -lm -o tdx_verify
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/ci.h"
#include "evidence/tdx.h"
#include "evidence/tdx_quote.h"

static const char *
vec(const char *rel)
{
	static char buf[4][4096];
	static int n;
	const char *base = getenv("CINFER_VECTORS");
	char *p = buf[n++ % 4];

	snprintf(p, 4096, "%s/%s", base ? base : "../shared/vectors", rel);
	return p;
}

static int
add_hex(struct cinfer_evidence *ev, const char *name, const char *hex, struct cinfer_err *e)
{
	size_t n = 0, cap = strlen(hex) / 2 + 1;
	uint8_t *b = ci_alloc(cap);
	int rc;

	if (b == NULL || ci_hex_decode(hex, strlen(hex), b, cap, &n, e) != 0) {
		ci_free(b);
		return -1;
	}
	rc = cinfer_evidence_add_collateral(ev, name, b, n, e);
	ci_free(b);
	return rc;
}

static int
load(struct cinfer_evidence *ev, struct cinfer_err *e)
{
	json_error_t je;
	json_t *j;
	char doc[32768];

	cinfer_evidence_init(ev);
	ev->platform = CINFER_PLATFORM_TDX;
	if (ci_file_read(vec("tdx/phala_v4_quote_b0c06f000000.dat"), 1u << 20, &ev->evidence,
	    &ev->evidence_size, e) != 0)
		return -1;
	j = json_load_file(vec("tdx/phala_collateral_b0c06f000000.json"), 0, &je);
	if (j == NULL)
		return ci_fail(e, CINFER_E_IO, "bench", "cannot load collateral: %s", je.text);
	snprintf(doc, sizeof(doc), "{\"tcbInfo\":%s,\"signature\":\"%s\"}",
	    json_string_value(json_object_get(j, "tcb_info")),
	    json_string_value(json_object_get(j, "tcb_info_signature")));
	if (cinfer_evidence_add_collateral(ev, "tcb_info", doc, strlen(doc), e) != 0)
		goto bad;
	snprintf(doc, sizeof(doc), "{\"enclaveIdentity\":%s,\"signature\":\"%s\"}",
	    json_string_value(json_object_get(j, "qe_identity")),
	    json_string_value(json_object_get(j, "qe_identity_signature")));
	if (cinfer_evidence_add_collateral(ev, "qe_identity", doc, strlen(doc), e) != 0 ||
	    add_hex(ev, "pck_crl", json_string_value(json_object_get(j, "pck_crl")), e) != 0 ||
	    add_hex(ev, "root_crl", json_string_value(json_object_get(j, "root_ca_crl")), e) != 0)
		goto bad;
	json_decref(j);
	return 0;
bad:
	json_decref(j);
	return -1;
}

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	int iters = argc > 1 ? atoi(argv[1]) : 200;
	struct cinfer_evidence ev;
	struct cinfer_verify_opts o;
	struct cinfer_err e = { 0 };
	int64_t at = 0;
	double *t, *tp;

	if (iters < 1 || iters > 100000)
		iters = 200;
	memset(&o, 0, sizeof(o));
	o.roots_dir = getenv("CINFER_ROOTS") ? getenv("CINFER_ROOTS") : "data/roots";
	if (load(&ev, &e) != 0 || ci_time_parse("2025-07-01T00:00:00Z", &at, &e) != 0) {
		fprintf(stderr, "tdx_verify: %s\n", e.msg);
		return 1;
	}
	t = calloc((size_t)iters, sizeof(*t));
	tp = calloc((size_t)iters, sizeof(*tp));
	for (int i = -5; i < iters; i++) {	/* 5 warm-up rounds */
		struct cinfer_claims c;
		struct ci_tdx_quote q;
		double t0 = now_us(), t1;
		cinfer_claims_init(&c, CINFER_PLATFORM_TDX);
		if (ci_tdx_verify(&ev, &o, at, &c, &e) != 0) {
			fprintf(stderr, "tdx_verify: %s: %s\n", e.stage, e.msg);
			return 1;
		}
		t1 = now_us();
		if (ci_tdx_quote_parse(&q, ev.evidence, ev.evidence_size, &e) != 0)
			return 1;
		if (i >= 0) {
			t[i] = t1 - t0;
			tp[i] = now_us() - t1;
		}
	}
	qsort(t, (size_t)iters, sizeof(*t), cmp_d);
	qsort(tp, (size_t)iters, sizeof(*tp), cmp_d);
	printf("tdx_verify: %d iterations, full verify median %.0f us, p90 %.0f us, min %.0f us; "
	    "quote parse alone median %.2f us\n", iters, t[iters / 2], t[iters * 9 / 10], t[0],
	    tp[iters / 2]);
	free(t);
	free(tp);
	cinfer_evidence_clear(&ev);
	return 0;
}
