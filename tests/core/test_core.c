#include "testutil.h"

#include "core/json.h"

static void
test_rd_bounds(void **state)
{
	const uint8_t buf[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	struct ci_rd r, sub;
	uint32_t v32;
	uint64_t v64;
	const uint8_t *p;

	ci_rd_init(&r, buf, sizeof(buf));
	assert_int_equal(ci_rd_u32le(&r, &v32), 0);
	assert_int_equal(v32, 0x04030201);
	assert_int_equal(ci_rd_sub(&r, 3, &sub), 0);
	assert_int_equal(ci_rd_u16be(&sub, (uint16_t *)&v32), 0);
	assert_int_equal(ci_rd_done(&sub), -1);	/* one byte left */
	/* Too long: fails, zeroes, and stays failed. */
	assert_int_equal(ci_rd_u64le(&r, &v64), -1);
	assert_int_equal(v64, 0);
	assert_int_equal(ci_rd_bytes(&r, 1, &p), -1);
	assert_null(p);
	assert_int_equal(ci_rd_done(&r), -1);
	/* A size near SIZE_MAX must not wrap. */
	ci_rd_init(&r, buf, sizeof(buf));
	assert_int_equal(ci_rd_skip(&r, SIZE_MAX), -1);
	assert_true(r.bad);
}

static void
test_hex_b64(void **state)
{
	struct cinfer_err e = { 0 };
	uint8_t out[8], *dec;
	size_t n;
	char hex[17], b64[16];
	const uint8_t in[] = { 0xde, 0xad, 0xbe, 0xef, 0xfb };

	ci_hex_encode(in, 4, hex);
	assert_string_equal(hex, "deadbeef");
	assert_int_equal(ci_hex_decode("DEADbeef", 8, out, sizeof(out), &n, &e), 0);
	assert_int_equal(n, 4);
	assert_memory_equal(out, in, 4);
	assert_int_equal(ci_hex_decode("abc", 3, out, sizeof(out), &n, &e), -1);
	assert_code(e, CINFER_E_MALFORMED);
	cinfer_err_clear(&e);
	assert_int_equal(ci_hex_decode("zz", 2, out, sizeof(out), &n, &e), -1);
	cinfer_err_clear(&e);
	assert_int_equal(ci_hex_decode("001122334455667788", 18, out, sizeof(out), &n, &e), -1);
	assert_code(e, CINFER_E_LIMIT);

	ci_b64_encode(in, 5, b64);
	assert_string_equal(b64, "3q2+7/s=");
	ci_b64url_encode(in, 5, b64);
	assert_string_equal(b64, "3q2-7_s");
	cinfer_err_clear(&e);
	assert_int_equal(ci_b64_decode("3q2+7/s=", 8, 0, &dec, &n, &e), 0);
	assert_int_equal(n, 5);
	assert_memory_equal(dec, in, 5);
	ci_free(dec);
	assert_int_equal(ci_b64_decode("3q2-7_s", 7, 1, &dec, &n, &e), 0);
	assert_memory_equal(dec, in, 5);
	ci_free(dec);
	/* Wrong alphabet, non-canonical tail, impossible length. */
	assert_int_equal(ci_b64_decode("3q2-7_s", 7, 0, &dec, &n, &e), -1);
	cinfer_err_clear(&e);
	assert_int_equal(ci_b64_decode("3q2+7/t=", 8, 0, &dec, &n, &e), -1);
	cinfer_err_clear(&e);
	assert_int_equal(ci_b64_decode("abcde", 5, 0, &dec, &n, &e), -1);
	assert_null(dec);
	assert_int_equal(ci_alloc_live(), 0);
}

static void
test_err_first_wins(void **state)
{
	struct cinfer_err e = { 0 };

	assert_int_equal(ci_fail(&e, CINFER_E_CRYPTO, "a.b", "first %d", 1), -1);
	assert_int_equal(ci_fail(&e, CINFER_E_IO, "c.d", "second"), -1);
	assert_int_equal(e.code, CINFER_E_CRYPTO);
	assert_string_equal(e.stage, "a.b");
	assert_string_equal(e.msg, "first 1");
	/* Control bytes in messages are masked. */
	cinfer_err_clear(&e);
	ci_fail(&e, CINFER_E_MALFORMED, "x", "peer said %s", "a\nb\x1b");
	assert_string_equal(e.msg, "peer said a?b?");
	assert_int_equal(ci_fail(NULL, CINFER_E_IO, "x", "no e"), -1);
	assert_string_equal(cinfer_code_name(CINFER_E_STALE), "stale");
}

static void
test_ct_and_secret(void **state)
{
	struct cinfer_err e = { 0 };
	struct ci_secret s;

	assert_int_equal(ci_ct_eq("abcd", "abcd", 4), 0);
	assert_int_equal(ci_ct_eq("abcd", "abce", 4), -1);
	assert_int_equal(ci_secret_init(&s, 100, &e), 0);
	assert_non_null(s.p);
	memset(s.p, 0xAA, 100);	/* the whole size is writable */
	ci_secret_clear(&s);
	assert_null(s.p);
	ci_secret_clear(&s);	/* idempotent */
}

static void
test_time(void **state)
{
	struct cinfer_err e = { 0 };
	int64_t t;
	char buf[21];

	assert_int_equal(ci_time_parse("2024-02-29T12:34:56Z", &t, &e), 0);
	assert_int_equal(t, 1709210096);
	ci_time_format(t, buf);
	assert_string_equal(buf, "2024-02-29T12:34:56Z");
	assert_int_equal(ci_time_parse("2024-02-29T14:34:56.123+02:00", &t, &e), 0);
	assert_int_equal(t, 1709210096);
	assert_int_equal(ci_time_parse("2024-02-30T00:00:00Z", &t, &e), -1);
	cinfer_err_clear(&e);
	assert_int_equal(ci_time_parse("2024-02-01", &t, &e), -1);
	cinfer_err_clear(&e);
	assert_int_equal(ci_time_parse("2024-02-01T00:00:00Zjunk", &t, &e), -1);
}

static void
test_json_strict(void **state)
{
	static const char *const keys[] = { "a", "b", NULL };
	struct cinfer_err e = { 0 };
	json_t *v;
	const char *doc = "{\"a\": 1,\n \"a\": 2}";

	assert_int_equal(ci_json_parse(doc, strlen(doc), "t", &v, &e), -1);
	assert_non_null(strstr(e.msg, "line 2"));
	cinfer_err_clear(&e);
	doc = "{\"a\": 1, \"c\": true}";
	assert_int_equal(ci_json_parse(doc, strlen(doc), "t", &v, &e), 0);
	assert_int_equal(ci_json_known_keys(v, keys, "t", "doc", &e), -1);
	assert_non_null(strstr(e.msg, "unknown field \"c\""));
	json_decref(v);
}

static void
test_alloc_failure_injection(void **state)
{
	struct cinfer_err e = { 0 };
	uint8_t *dec;
	size_t n;

	ci_alloc_fail_after(0);
	assert_int_equal(ci_b64_decode("AAAA", 4, 0, &dec, &n, &e), -1);
	ci_alloc_fail_after(SIZE_MAX);
	assert_code(e, CINFER_E_NOMEM);
	assert_int_equal(ci_alloc_live(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rd_bounds),
		cmocka_unit_test(test_hex_b64),
		cmocka_unit_test(test_err_first_wins),
		cmocka_unit_test(test_ct_and_secret),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_json_strict),
		cmocka_unit_test(test_alloc_failure_injection),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
