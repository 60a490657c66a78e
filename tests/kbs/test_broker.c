/*
 * cinfer-kbs end to end: a real broker process on 127.0.0.1 with a temp
 * store, the sim platform as the TEE, the libcurl client as cinferd.
 */
#include "harness.h"

#include <curl/curl.h>

#include "crypto/crypto.h"
#include "crypto/jose.h"

static char *dir, *sim, *other_sim;
static struct t_kbs kbs;
static uint8_t m_good[48], m_bad[48], m_revoked[48];
static const char *const res = "cinfer/model-key/k1";
static uint8_t secret[32];

static int
setup(void **state)
{
	struct cinfer_err e = { 0 };
	struct cinfer_sim_init_opts so = { .rsa_bits = 2048 };
	char path[4200];
	const char *extra[] = { "--nonce-ttl", "5", "--rate", "0", "--drain", "3600", NULL };
	struct cinfer_kbs_client *c;
	char *pol;
	uint32_t v = 0;

	dir = t_tmpdir();
	snprintf(path, sizeof(path), "%s/sim", dir);
	sim = strdup(path);
	snprintf(path, sizeof(path), "%s/other-sim", dir);
	other_sim = strdup(path);
	if (cinfer_sim_dev_init(sim, &so, &e) != 0 || cinfer_sim_dev_init(other_sim, &so, &e) != 0)
		fail_msg("dev init: %s", e.msg);
	memset(m_good, 0x11, 48);
	memset(m_bad, 0x22, 48);
	memset(m_revoked, 0x33, 48);
	for (int i = 0; i < 32; i++)
		secret[i] = (uint8_t)(0xc0 + i);
	t_kbs_start(&kbs, dir, sim, extra);
	c = t_client(&kbs, 1);
	pol = t_policy("kbs-test", "sim", m_good, m_revoked);
	if (cinfer_kbs_admin_set_policy(c, pol, strlen(pol), &e) != 0)
		fail_msg("policy: %s", e.msg);
	if (cinfer_kbs_admin_put(c, res, secret, sizeof(secret), &v, &e) != 0)
		fail_msg("put: %s", e.msg);
	assert_int_equal(v, 1);
	ci_free(pol);
	cinfer_kbs_client_free(c);
	return 0;
}

static int
teardown(void **state)
{
	t_kbs_stop_clean(&kbs);
	free(sim);
	free(other_sim);
	t_rmrf(dir);
	return 0;
}

static int
fetch(struct t_ev *ev, uint8_t *out, size_t *n, char **token, struct cinfer_err *e)
{
	struct cinfer_kbs_client *c = t_client(&kbs, 0);
	uint32_t got = 0;
	int rc = cinfer_kbs_attest(c, t_evidence, ev, token, e);

	if (rc == 0)
		rc = cinfer_kbs_get_resource(c, res, 0, out, 64, n, &got, e);
	cinfer_kbs_client_free(c);
	return rc;
}

static void
test_full_flow(void **state)
{
	struct t_ev ev = { .sim = sim };
	struct cinfer_err e = { 0 };
	uint8_t out[64];
	size_t n = 0;
	char *token = NULL;
	long before = t_audit_last_seq(&kbs);

	memcpy(ev.meas, m_good, 48);
	if (fetch(&ev, out, &n, &token, &e) != 0)
		fail_msg("flow: %s", e.msg);
	assert_int_equal(n, 32);
	assert_memory_equal(out, secret, 32);
	/* The token is the broker's ES256 JWT naming policy, platform and measurement. */
	assert_non_null(token);
	{
		char *d1 = strchr(token, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
		uint8_t *pl = NULL;
		size_t pls;
		json_t *c;
		assert_non_null(d2);
		assert_int_equal(ci_b64_decode(d1 + 1, (size_t)(d2 - d1 - 1), 1, &pl, &pls, &e), 0);
		c = json_loadb((char *)pl, pls, 0, NULL);
		assert_string_equal(json_string_value(json_object_get(c, "policy_id")), "kbs-test");
		assert_string_equal(json_string_value(json_object_get(c, "platform")), "sim");
		assert_int_equal(strlen(json_string_value(json_object_get(c, "measurement"))), 96);
		assert_true(json_integer_value(json_object_get(c, "exp")) > ci_time_now());
		assert_non_null(json_object_get(c, "tee-pubkey"));
		json_decref(c);
		ci_free(pl);
	}
	free(token);
	assert_true(t_audit_has(&kbs, before, "attest", "accept", NULL));
	assert_true(t_audit_has(&kbs, before, "release", "release", NULL));
}

static size_t
sink(char *p, size_t size, size_t n, void *arg)
{
	json_t **j = arg;

	*j = json_loadb(p, size * n, 0, NULL);
	return size * n;
}

/* GET a resource with only the attestation token, no cookie. */
static long
get_with_token(const char *token, const char *path, json_t **body)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hd = NULL;
	char url[512], auth[4096];
	long st = 0;

	*body = NULL;
	snprintf(url, sizeof(url), "%s/kbs/v0/resource/%s", kbs.url, path);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	hd = curl_slist_append(hd, auth);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CAINFO, kbs.ca);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	assert_int_equal(curl_easy_perform(h), CURLE_OK);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
	curl_slist_free_all(hd);
	curl_easy_cleanup(h);
	return st;
}

static void
test_bearer_token(void **state)
{
	struct t_ev ev = { .sim = sim };
	struct cinfer_err e = { 0 };
	uint8_t out[64];
	size_t n = 0;
	char *token = NULL, *forged;
	json_t *b;

	memcpy(ev.meas, m_good, 48);
	assert_int_equal(fetch(&ev, out, &n, &token, &e), 0);
	/* The token alone fetches the resource, still wrapped to the attested key. */
	assert_int_equal(get_with_token(token, res, &b), 200);
	assert_non_null(json_object_get(b, "encrypted_key"));
	assert_non_null(json_object_get(b, "ciphertext"));
	json_decref(b);
	/* A token with a changed payload is refused. */
	forged = strdup(token);
	forged[strchr(forged, '.') - forged + 5] ^= 1;
	assert_int_equal(get_with_token(forged, res, &b), 401);
	json_decref(b);
	free(forged);
	free(token);
}

static void
expect_denied(struct t_ev *ev, const char *code)
{
	struct cinfer_err e = { 0 };
	uint8_t out[64];
	size_t n = 0;
	long before = t_audit_last_seq(&kbs);

	if (fetch(ev, out, &n, NULL, &e) == 0)
		fail_msg("released although %s", code);
	assert_code(e, CINFER_E_POLICY);
	if (strstr(e.msg, code) == NULL)
		fail_msg("client error lacks %s: %s", code, e.msg);
	if (!t_audit_has(&kbs, before, "attest", "deny", code))
		fail_msg("audit lacks a deny with %s", code);
}

static void
test_rejected_measurement(void **state)
{
	struct t_ev ev = { .sim = sim };

	memcpy(ev.meas, m_bad, 48);
	expect_denied(&ev, "measurement_not_pinned");
}

static void
test_debug_bit(void **state)
{
	struct t_ev ev = { .sim = sim, .debug = 1 };

	memcpy(ev.meas, m_good, 48);
	expect_denied(&ev, "debug_enabled");
}

static void
test_report_data_not_binding(void **state)
{
	struct t_ev ev = { .sim = sim, .unbound = 1 };

	memcpy(ev.meas, m_good, 48);
	expect_denied(&ev, "runtime_data_not_bound");
	expect_denied(&ev, "report_data_mismatch");
}

static void
test_untrusted_root(void **state)
{
	struct t_ev ev = { .sim = other_sim };

	memcpy(ev.meas, m_good, 48);
	expect_denied(&ev, "evidence_invalid");
}

static void
test_wrong_platform(void **state)
{
	struct cinfer_kbs_client *c = t_client(&kbs, 1);
	struct cinfer_err e = { 0 };
	struct t_ev ev = { .sim = sim };
	char *snp = t_policy("kbs-test-snp", "snp", m_good, NULL);
	char *back = t_policy("kbs-test", "sim", m_good, m_revoked);

	memcpy(ev.meas, m_good, 48);
	assert_int_equal(cinfer_kbs_admin_set_policy(c, snp, strlen(snp), &e), 0);
	expect_denied(&ev, "platform_not_allowed");
	assert_int_equal(cinfer_kbs_admin_set_policy(c, back, strlen(back), &e), 0);
	ci_free(snp);
	ci_free(back);
	cinfer_kbs_client_free(c);
}

static void
test_revoked_measurement(void **state)
{
	struct cinfer_kbs_client *c = t_client(&kbs, 1);
	struct cinfer_err e = { 0 };
	struct t_ev ev = { .sim = sim };
	uint8_t out[64];
	size_t n;
	char hex[97];

	memcpy(ev.meas, m_revoked, 48);
	assert_int_equal(fetch(&ev, out, &n, NULL, &e), 0);	/* pinned: released */
	ci_hex_encode(m_revoked, 48, hex);
	assert_int_equal(cinfer_kbs_admin_revoke(c, hex, "CVE-TEST-1", &e), 0);
	expect_denied(&ev, "measurement_revoked");
	cinfer_kbs_client_free(c);
}

/* Raw RCAR by hand, to replay and to wait out the nonce. */
struct raw {
	struct cinfer_kbs_client *c;
	char *body;
};

static void
raw_prepare(struct raw *r, int wait_seconds)
{
	struct cinfer_err e = { 0 };
	char *resp = NULL, *rd_s, *ev_s = NULL;
	long st;
	json_t *ch, *rd, *att, *jwk;
	EVP_PKEY *k = ci_ec_keygen("P-256", &e);
	uint8_t rdata[64];
	struct t_ev ev = { .sim = sim };
	const char *auth = "{\"version\":\"0.1.0\",\"tee\":\"sample\",\"extra-params\":{}}";

	memcpy(ev.meas, m_good, 48);
	r->c = t_client(&kbs, 0);
	assert_int_equal(cinfer_kbs_request(r->c, "POST", "/kbs/v0/auth", auth, strlen(auth), 0,
	    &st, &resp, &e), 0);
	assert_int_equal(st, 200);
	ch = json_loads(resp, 0, NULL);
	jwk = ci_jwk_from_pkey(k, &e);
	rd = json_pack("{s:s, s:O}", "nonce", json_string_value(json_object_get(ch, "nonce")),
	    "tee-pubkey", jwk);
	rd_s = ci_json_dump(rd, 0);
	cinfer_kbs_report_data(json_string_value(json_object_get(ch, "nonce")), rd_s,
	    strlen(rd_s), rdata);
	assert_int_equal(t_evidence(rdata, &ev, &ev_s, &e), 0);
	att = json_pack("{s:O, s:o}", "runtime-data", rd, "tee-evidence",
	    json_loads(ev_s, 0, NULL));
	r->body = ci_json_dump(att, 0);
	if (wait_seconds > 0)
		sleep((unsigned)wait_seconds);
	free(resp);
	free(ev_s);
	ci_free(rd_s);
	json_decref(att);
	json_decref(rd);
	json_decref(jwk);
	json_decref(ch);
	EVP_PKEY_free(k);
}

static long
raw_attest(struct raw *r, char **resp)
{
	struct cinfer_err e = { 0 };
	long st = 0;

	assert_int_equal(cinfer_kbs_request(r->c, "POST", "/kbs/v0/attest", r->body,
	    strlen(r->body), 0, &st, resp, &e), 0);
	return st;
}

static void
test_replayed_nonce(void **state)
{
	struct raw r;
	char *resp = NULL;
	long before;

	raw_prepare(&r, 0);
	assert_int_equal(raw_attest(&r, &resp), 200);
	free(resp);
	before = t_audit_last_seq(&kbs);
	assert_int_equal(raw_attest(&r, &resp), 401);
	assert_non_null(strstr(resp, "nonce_replayed"));
	free(resp);
	assert_true(t_audit_has(&kbs, before, "attest", "deny", "nonce_replayed"));
	/* The same evidence on a new session: its nonce is not that session's. */
	{
		struct raw r2;
		raw_prepare(&r2, 0);
		ci_free(r2.body);
		r2.body = r.body;
		before = t_audit_last_seq(&kbs);
		assert_int_equal(raw_attest(&r2, &resp), 401);
		free(resp);
		assert_true(t_audit_has(&kbs, before, "attest", "deny", "nonce_mismatch"));
		cinfer_kbs_client_free(r2.c);
	}
	ci_free(r.body);
	cinfer_kbs_client_free(r.c);
}

static void
test_expired_nonce(void **state)
{
	struct raw r;
	char *resp = NULL;
	long before = t_audit_last_seq(&kbs);

	raw_prepare(&r, 7);	/* --nonce-ttl 5; the clock has whole seconds */
	assert_int_equal(raw_attest(&r, &resp), 401);
	assert_non_null(strstr(resp, "nonce_expired"));
	free(resp);
	assert_true(t_audit_has(&kbs, before, "attest", "deny", "nonce_expired"));
	ci_free(r.body);
	cinfer_kbs_client_free(r.c);
}

static void
test_resource_needs_attestation(void **state)
{
	struct cinfer_kbs_client *c = t_client(&kbs, 0);
	struct cinfer_err e = { 0 };
	char *resp = NULL;
	long st, before = t_audit_last_seq(&kbs);

	assert_int_equal(cinfer_kbs_request(c, "GET", "/kbs/v0/resource/cinfer/model-key/k1", NULL,
	    0, 0, &st, &resp, &e), 0);
	assert_int_equal(st, 401);
	free(resp);
	assert_true(t_audit_has(&kbs, before, "release", "deny", "not_attested"));
	cinfer_kbs_client_free(c);
}

static void
test_http_errors(void **state)
{
	struct cinfer_kbs_client *c = t_client(&kbs, 0), *bad;
	struct cinfer_kbs_client_opts o = { .url = kbs.url, .cacert = kbs.ca,
		.admin_token = "wrong-token-wrong-token" };
	struct cinfer_err e = { 0 };
	char *resp = NULL, *big;
	long st;
	size_t bigsz = 3u << 20;

	assert_int_equal(cinfer_kbs_request(c, "GET", "/kbs/v0/nope", NULL, 0, 0, &st, &resp, &e),
	    0);
	assert_int_equal(st, 404);
	free(resp);
	assert_int_equal(cinfer_kbs_request(c, "GET", "/kbs/v0/auth", NULL, 0, 0, &st, &resp, &e),
	    0);
	assert_int_equal(st, 405);
	free(resp);
	assert_int_equal(cinfer_kbs_request(c, "DELETE", "/kbs/v0/attest", NULL, 0, 0, &st, &resp,
	    &e), 0);
	assert_int_equal(st, 405);
	free(resp);
	assert_int_equal(cinfer_kbs_request(c, "POST", "/kbs/v0/auth", "{\"version\":", 11, 0, &st,
	    &resp, &e), 0);
	assert_int_equal(st, 400);
	assert_non_null(strstr(resp, "line 1"));
	free(resp);
	assert_int_equal(cinfer_kbs_request(c, "POST", "/kbs/v0/auth", "{\"tee\":\"x\",\"v\":1}",
	    17, 0, &st, &resp, &e), 0);
	assert_int_equal(st, 400);
	free(resp);
	assert_int_equal(cinfer_kbs_request(c, "GET", "/kbs/v0/resource/a/../b", NULL, 0, 0, &st,
	    &resp, &e), 0);
	assert_true(st == 400 || st == 404);
	free(resp);
	/* Bodies over --max-body (2 MiB) are refused before parsing. */
	big = malloc(bigsz);
	memset(big, ' ', bigsz);
	if (cinfer_kbs_request(c, "POST", "/kbs/v0/attest", big, bigsz, 0, &st, &resp, &e) == 0) {
		assert_int_equal(st, 413);
		free(resp);
	}	/* else: the server closed the connection mid-upload, also a refusal */
	free(big);
	/* Admin: never anonymous, and a wrong token is refused. */
	assert_int_equal(cinfer_kbs_request(c, "GET", "/kbs/v0/admin/audit", NULL, 0, 0, &st,
	    &resp, &e), 0);
	assert_int_equal(st, 401);
	free(resp);
	assert_int_equal(cinfer_kbs_client_new(&o, &bad, &e), 0);
	assert_int_equal(cinfer_kbs_request(bad, "GET", "/kbs/v0/admin/audit", NULL, 0, 1, &st,
	    &resp, &e), 0);
	assert_int_equal(st, 401);
	free(resp);
	assert_int_equal(cinfer_kbs_request(bad, "PUT", "/kbs/v0/admin/resource/a/b/c", "x", 1, 1,
	    &st, &resp, &e), 0);
	assert_int_equal(st, 401);
	free(resp);
	cinfer_kbs_client_free(bad);
	cinfer_kbs_client_free(c);
}

static void
test_rotation_and_drain(void **state)
{
	struct cinfer_kbs_client *adm = t_client(&kbs, 1), *c = t_client(&kbs, 0);
	struct cinfer_err e = { 0 };
	struct t_ev ev = { .sim = sim };
	const char *path = "cinfer/model-key/rot";
	uint8_t v1[32], out[64];
	size_t n;
	uint32_t ver = 0, got = 0;
	char *resp;
	long st;

	memset(v1, 0x5c, 32);
	memcpy(ev.meas, m_good, 48);
	assert_int_equal(cinfer_kbs_admin_put(adm, path, v1, 32, &ver, &e), 0);
	assert_int_equal(ver, 1);
	assert_int_equal(cinfer_kbs_admin_rotate(adm, path, 5, &ver, &e), 0);
	assert_int_equal(ver, 2);
	assert_int_equal(cinfer_kbs_attest(c, t_evidence, &ev, NULL, &e), 0);
	assert_int_equal(cinfer_kbs_get_resource(c, path, 0, out, sizeof(out), &n, &got, &e), 0);
	assert_int_equal(got, 2);
	assert_memory_not_equal(out, v1, 32);
	/* During the drain the old version is still served to bundles that name it. */
	assert_int_equal(cinfer_kbs_get_resource(c, path, 1, out, sizeof(out), &n, &got, &e), 0);
	assert_int_equal(got, 1);
	assert_memory_equal(out, v1, 32);
	sleep(7);	/* drain 5 s, purge timer 1 s */
	assert_int_equal(cinfer_kbs_get_resource(c, path, 1, out, sizeof(out), &n, &got, &e), -1);
	assert_non_null(strstr(e.msg, "404"));
	assert_true(t_audit_event(&kbs, 0, "rotate", path));
	assert_true(t_audit_event(&kbs, 0, "destroy", path));
	/* Rotating something that does not exist is a 404. */
	assert_int_equal(cinfer_kbs_request(adm, "POST", "/kbs/v0/admin/rotate/a/b/none", "{}", 2,
	    1, &st, &resp, &e), 0);
	assert_int_equal(st, 404);
	free(resp);
	cinfer_kbs_client_free(adm);
	cinfer_kbs_client_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_flow),
		cmocka_unit_test(test_bearer_token),
		cmocka_unit_test(test_rejected_measurement),
		cmocka_unit_test(test_debug_bit),
		cmocka_unit_test(test_report_data_not_binding),
		cmocka_unit_test(test_untrusted_root),
		cmocka_unit_test(test_wrong_platform),
		cmocka_unit_test(test_replayed_nonce),
		cmocka_unit_test(test_expired_nonce),
		cmocka_unit_test(test_resource_needs_attestation),
		cmocka_unit_test(test_http_errors),
		cmocka_unit_test(test_rotation_and_drain),
		cmocka_unit_test(test_revoked_measurement),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
