/*
 * Broker request parsers, JOSE and bundle parsing under allocation
 * failures: every failure is NOMEM and nothing leaks on any path. Also the
 * parsers' refusals, one by one.
 */
#include "testutil.h"

#include "cinfer/seal.h"
#include "crypto/crypto.h"
#include "kbs/req.c"	/* cinfer-kbs is a program, not part of libcinfer */

static uint8_t *
corpus(const char *name, size_t *size)
{
	char rel[256];
	uint8_t *b;

	snprintf(rel, sizeof(rel), "fuzz/corpus/%s", name);
	b = t_read(t_src(rel), size);
	return b;
}

typedef int (*parse_fn)(const uint8_t *p, size_t n, struct cinfer_err *e);

static int
p_attest(const uint8_t *p, size_t n, struct cinfer_err *e)
{
	struct kbs_attest_req r;
	int rc = kbs_req_attest(p, n, &r, e);

	if (rc == 0)
		kbs_attest_req_clear(&r);
	return rc;
}

static int
p_bundle(const uint8_t *p, size_t n, struct cinfer_err *e)
{
	struct cinfer_unsealed u;
	uint8_t key[32];
	int rc;

	memset(key, 0x42, sizeof(key));
	rc = cinfer_unseal_mem(p, n, key, &u, e);
	if (rc == 0)
		cinfer_unsealed_free(&u);
	return rc;
}

static void
torture(parse_fn fn, const uint8_t *p, size_t n)
{
	size_t live = ci_alloc_live();

	for (size_t k = 0;; k++) {
		struct cinfer_err e = { 0 };
		int rc;

		ci_alloc_fail_after(k);
		rc = fn(p + 1, n - 1, &e);	/* corpus files start with a selector byte */
		ci_alloc_fail_after(SIZE_MAX);
		if (rc == 0)
			break;
		if (e.code != CINFER_E_NOMEM)
			fail_msg("allocation %zu: %s (%s: %s)", k, cinfer_code_name(e.code),
			    e.stage ? e.stage : "-", e.msg);
		assert_true(k < 10000);
	}
	assert_int_equal(ci_alloc_live(), live);
}

static void
test_attest_body_alloc_failures(void **state)
{
	size_t n;
	uint8_t *b = corpus("kbs_request/attest.json", &n);

	torture(p_attest, b, n);
	ci_free(b);
}

static void
test_bundle_alloc_failures(void **state)
{
	size_t n;
	uint8_t *b = corpus("bundle_header/small.sealed", &n);
	uint8_t *with_sel = malloc(n + 1);

	with_sel[0] = 0;
	memcpy(with_sel + 1, b, n);
	torture(p_bundle, with_sel, n + 1);
	free(with_sel);
	ci_free(b);
}

static void
expect_bad(const char *body, enum cinfer_code code)
{
	struct cinfer_err e = { 0 };
	struct kbs_attest_req r;

	if (kbs_req_attest(body, strlen(body), &r, &e) == 0)
		fail_msg("accepted: %s", body);
	assert_code(e, code);
}

static void
test_attest_refusals(void **state)
{
	expect_bad("[]", CINFER_E_MALFORMED);
	expect_bad("{\"runtime-data\":{}, \"tee-evidence\":{}}", CINFER_E_MALFORMED);
	expect_bad("{\"runtime-data\":{\"nonce\":\"n\"}, \"tee-evidence\":{}, \"x\":1}",
	    CINFER_E_MALFORMED);
	/* A private JWK is refused; so is RSA. */
	expect_bad("{\"runtime-data\":{\"nonce\":\"n\",\"tee-pubkey\":{\"kty\":\"EC\","
	    "\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\",\"d\":\"AA\"}},\"tee-evidence\":{}}",
	    CINFER_E_MALFORMED);
	expect_bad("{\"runtime-data\":{\"nonce\":\"n\",\"tee-pubkey\":{\"kty\":\"RSA\","
	    "\"crv\":\"P-256\"}},\"tee-evidence\":{}}", CINFER_E_UNSUPPORTED);
	expect_bad("{\"runtime-data\":{\"nonce\":\"n\",\"tee-pubkey\":{}},\"tee-evidence\":{},"
	    "\"init-data\":{\"a\":1}}", CINFER_E_UNSUPPORTED);
}

/* Key order and spacing of runtime-data do not matter: the binding is canonical. */
static void
test_runtime_data_canonical(void **state)
{
	size_t n;
	uint8_t *b = corpus("kbs_request/attest.json", &n);
	json_t *j = json_loadb((const char *)b + 1, n - 1, 0, NULL), *rd, *ev;
	struct kbs_attest_req r;
	struct cinfer_err e = { 0 };
	const char *nonce;
	char *pk, *want, body[16384];
	char *evs;

	assert_non_null(j);
	rd = json_object_get(j, "runtime-data");
	ev = json_object_get(j, "tee-evidence");
	nonce = json_string_value(json_object_get(rd, "nonce"));
	pk = ci_json_dump(json_object_get(rd, "tee-pubkey"), 0);
	want = cinfer_kbs_runtime_data(nonce, pk, &e);
	assert_non_null(want);
	evs = ci_json_dump(ev, 0);
	/* tee-pubkey first, keys of the JWK reversed, spaces everywhere. */
	snprintf(body, sizeof(body), "{ \"tee-evidence\" : %s , \"runtime-data\" : { "
	    "\"tee-pubkey\" : { \"y\" : \"%s\", \"x\" : \"%s\", \"kty\" : \"EC\", "
	    "\"crv\" : \"P-256\" }, \"nonce\" : \"%s\" } }", evs,
	    json_string_value(json_object_get(json_object_get(rd, "tee-pubkey"), "y")),
	    json_string_value(json_object_get(json_object_get(rd, "tee-pubkey"), "x")), nonce);
	assert_int_equal(kbs_req_attest(body, strlen(body), &r, &e), 0);
	assert_string_equal(r.runtime_data, want);
	/* And the evidence in the corpus was made for exactly this binding. */
	{
		uint8_t rdata[64];
		cinfer_kbs_report_data(nonce, want, strlen(want), rdata);
		/* The corpus' sim root is gone; compare the raw report_data field instead
		 * (SNP layout: offset 0x50). */
		assert_true(r.ev.evidence_size > 0x50 + 64);
		assert_memory_equal(r.ev.evidence + 0x50, rdata, 64);
	}
	kbs_attest_req_clear(&r);
	free(want);
	ci_free(pk);
	ci_free(evs);
	json_decref(j);
	ci_free(b);
}

static void
test_paths_and_small_parsers(void **state)
{
	struct cinfer_err e = { 0 };
	struct kbs_path p;
	struct kbs_auth_req a;
	struct kbs_revoke_req rv;
	struct kbs_rotate_req ro;
	uint32_t v;
	char c[96];
	const char *bad[] = { "a/b", "a/b/c/d", "a/../c", ".a/b/c", "a/b/", "/a/b", "a//c",
		"a/b/c%2f", "a/b/\xc3\xa9", NULL };

	assert_int_equal(kbs_req_path("cinfer/model-key/digits-1.v2", &p, &e), 0);
	assert_string_equal(p.full, "cinfer/model-key/digits-1.v2");
	for (size_t i = 0; bad[i] != NULL; i++)
		if (kbs_req_path(bad[i], &p, &e) == 0)
			fail_msg("path %s accepted", bad[i]);
	assert_int_equal(kbs_req_version_query("version=7", &v, &e), 0);
	assert_int_equal(v, 7);
	assert_int_equal(kbs_req_version_query(NULL, &v, &e), 0);
	assert_int_equal(v, 0);
	assert_int_equal(kbs_req_version_query("version=0", &v, &e), -1);
	assert_int_equal(kbs_req_version_query("version=1x", &v, &e), -1);
	assert_int_equal(kbs_req_version_query("v=1", &v, &e), -1);
	assert_int_equal(kbs_req_version_query("version=99999999999", &v, &e), -1);
	assert_int_equal(kbs_req_cookie("x=1; kbs-session-id=abc; y=2", c, sizeof(c)), 0);
	assert_string_equal(c, "abc");
	assert_int_equal(kbs_req_cookie("kbs-session-idX=abc", c, sizeof(c)), -1);
	cinfer_err_clear(&e);
	assert_int_equal(kbs_req_auth("{\"version\":\"1.0\",\"tee\":\"x\"}", 27, &a, &e), -1);
	assert_code(e, CINFER_E_UNSUPPORTED);
	cinfer_err_clear(&e);
	assert_int_equal(kbs_req_revoke("{\"measurement\":\"zz\"}", 20, &rv, &e), -1);
	assert_int_equal(kbs_req_rotate("{\"drain_seconds\":-5}", 20, &ro, &e), -1);
	assert_int_equal(kbs_req_rotate("", 0, &ro, &e), 0);
	assert_int_equal(ro.drain_seconds, -1);
	assert_null(ro.value);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attest_body_alloc_failures),
		cmocka_unit_test(test_bundle_alloc_failures),
		cmocka_unit_test(test_attest_refusals),
		cmocka_unit_test(test_runtime_data_canonical),
		cmocka_unit_test(test_paths_and_small_parsers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
