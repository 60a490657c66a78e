/*
 * The strict CBOR walker, COSE_Sign1 parse/sign/verify and the public key
 * loaders that the Nitro and CCA verifiers stand on.
 */
#include "testutil.h"

#include <openssl/pem.h>

#include "crypto/cose.h"
#include "crypto/crypto.h"

static int
check(const uint8_t *p, size_t n, int allow_tag, struct cinfer_err *e)
{
	struct ci_cbor_limits lim = { 0, 0, allow_tag };

	cinfer_err_clear(e);
	return ci_cbor_check(p, n, &lim, "test", e);
}

#define CHECK_OK(...) do { \
	static const uint8_t b_[] = { __VA_ARGS__ }; \
	struct cinfer_err e_ = { 0 }; \
	if (check(b_, sizeof(b_), 1, &e_) != 0) \
		fail_msg("line %d: %s", __LINE__, e_.msg); \
} while (0)

#define CHECK_BAD(code, needle, ...) do { \
	static const uint8_t b_[] = { __VA_ARGS__ }; \
	struct cinfer_err e_ = { 0 }; \
	assert_int_equal(check(b_, sizeof(b_), 1, &e_), -1); \
	assert_code(e_, code); \
	if (strstr(e_.msg, needle) == NULL) \
		fail_msg("line %d: \"%s\" lacks \"%s\"", __LINE__, e_.msg, needle); \
} while (0)

static void
test_cbor_walker(void **state)
{
	struct cinfer_err e = { 0 };
	uint8_t deep[40];
	uint8_t *many;

	(void)state;
	CHECK_OK(0x00);
	CHECK_OK(0x3b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
	CHECK_OK(0x83, 0x01, 0x62, 'h', 'i', 0xf6);
	CHECK_OK(0xa2, 0x01, 0x02, 0x20, 0x40);
	CHECK_OK(0xa2, 0x61, 'a', 0xf4, 0x61, 'b', 0xf5);
	CHECK_OK(0xd2, 0x80);			/* tag 18 at the top */
	CHECK_OK(0x63, 0xe2, 0x82, 0xac);	/* "€" */
	CHECK_BAD(CINFER_E_MALFORMED, "indefinite", 0x9f, 0x01, 0xff);
	CHECK_BAD(CINFER_E_MALFORMED, "indefinite", 0x5f, 0x41, 0x00, 0xff);
	CHECK_BAD(CINFER_E_MALFORMED, "indefinite", 0xbf, 0xff);
	CHECK_BAD(CINFER_E_MALFORMED, "reserved", 0x1c);
	CHECK_BAD(CINFER_E_MALFORMED, "float", 0xf9, 0x3c, 0x00);
	CHECK_BAD(CINFER_E_MALFORMED, "float", 0xf7);	/* undefined */
	CHECK_BAD(CINFER_E_MALFORMED, "duplicate", 0xa2, 0x01, 0x00, 0x01, 0x00);
	/* the same key in a longer encoding is still a duplicate */
	CHECK_BAD(CINFER_E_MALFORMED, "duplicate", 0xa2, 0x01, 0x00, 0x18, 0x01, 0x00);
	CHECK_BAD(CINFER_E_MALFORMED, "duplicate", 0xa2, 0x61, 'a', 0x00, 0x61, 'a', 0x01);
	CHECK_BAD(CINFER_E_MALFORMED, "map key", 0xa1, 0x41, 0x00, 0x00);
	CHECK_BAD(CINFER_E_MALFORMED, "unexpected CBOR tag", 0x81, 0xd2, 0x80);
	CHECK_BAD(CINFER_E_MALFORMED, "unexpected CBOR tag", 0xd2, 0xd2, 0x80);
	CHECK_BAD(CINFER_E_MALFORMED, "UTF-8", 0x62, 0xc0, 0x80);	/* overlong */
	CHECK_BAD(CINFER_E_MALFORMED, "UTF-8", 0x63, 0xed, 0xa0, 0x80);	/* surrogate */
	CHECK_BAD(CINFER_E_MALFORMED, "overruns", 0x5a, 0xff, 0xff, 0xff, 0xff, 0x00);
	CHECK_BAD(CINFER_E_MALFORMED, "overruns", 0x9b, 0x10, 0, 0, 0, 0, 0, 0, 0, 0x00);
	CHECK_BAD(CINFER_E_MALFORMED, "overruns", 0x82, 0x01);
	CHECK_BAD(CINFER_E_MALFORMED, "truncated", 0x19, 0x01);
	CHECK_BAD(CINFER_E_MALFORMED, "after the CBOR item", 0x01, 0x02);
	CHECK_BAD(CINFER_E_LIMIT, "pairs", 0xb9, 0xff, 0xff);
	/* no tag where none is allowed */
	{
		static const uint8_t t[] = { 0xd2, 0x80 };
		assert_int_equal(check(t, sizeof(t), 0, &e), -1);
		assert_code(e, CINFER_E_MALFORMED);
	}
	/* depth */
	memset(deep, 0x81, sizeof(deep));
	deep[sizeof(deep) - 1] = 0x00;
	assert_int_equal(check(deep, sizeof(deep), 0, &e), -1);
	assert_code(e, CINFER_E_LIMIT);
	assert_int_equal(check(deep + sizeof(deep) - 1 - CI_CBOR_DEPTH_MAX, CI_CBOR_DEPTH_MAX + 1, 0,
	    &e), 0);
	/* item count */
	many = ci_alloc(3 + CI_CBOR_ITEMS_MAX);
	assert_non_null(many);
	many[0] = 0x99;
	many[1] = (uint8_t)(CI_CBOR_ITEMS_MAX >> 8);
	many[2] = (uint8_t)CI_CBOR_ITEMS_MAX;
	memset(many + 3, 0x00, CI_CBOR_ITEMS_MAX);
	assert_int_equal(check(many, 3 + CI_CBOR_ITEMS_MAX, 0, &e), -1);
	assert_code(e, CINFER_E_LIMIT);
	many[1] = (uint8_t)((CI_CBOR_ITEMS_MAX - 1) >> 8);
	many[2] = (uint8_t)(CI_CBOR_ITEMS_MAX - 1);
	assert_int_equal(check(many, 3 + CI_CBOR_ITEMS_MAX - 1, 0, &e), 0);
	ci_free(many);
	assert_int_equal(check(NULL, 0, 0, &e), -1);
}

static void
test_cbor_getters(void **state)
{
	/* {1: -35, "t": "ab", 2: h'0102', 3: null, -1: 18446744073709551615} */
	static const uint8_t m[] = { 0xa5, 0x01, 0x38, 0x22, 0x61, 't', 0x62, 'a', 'b', 0x02, 0x42,
		0x01, 0x02, 0x03, 0xf6, 0x20, 0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct cinfer_err e = { 0 };
	cbor_item_t *it = NULL;
	int64_t v;
	uint64_t u;
	const uint8_t *p;
	size_t n;
	char txt[4];

	(void)state;
	assert_int_equal(ci_cbor_decode(m, sizeof(m), NULL, NULL, &it, "test", &e), 0);
	assert_int_equal(ci_cbor_get_int(ci_cbor_map_int(it, 1), "alg", &v, "test", &e), 0);
	assert_int_equal(v, -35);
	assert_int_equal(ci_cbor_get_uint(ci_cbor_map_int(it, 1), "alg", &u, "test", &e), -1);
	cinfer_err_clear(&e);
	assert_int_equal(ci_cbor_get_text(ci_cbor_map_text(it, "t"), "t", txt, sizeof(txt), "test",
	    &e), 0);
	assert_string_equal(txt, "ab");
	assert_int_equal(ci_cbor_get_text(ci_cbor_map_text(it, "t"), "t", txt, 2, "test", &e), -1);
	assert_code(e, CINFER_E_LIMIT);
	cinfer_err_clear(&e);
	assert_int_equal(ci_cbor_get_bytes(ci_cbor_map_int(it, 2), "b", 2, 2, &p, &n, "test", &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ci_cbor_get_bytes(ci_cbor_map_int(it, 2), "b", 3, 8, &p, &n, "test", &e), -1);
	cinfer_err_clear(&e);
	assert_true(ci_cbor_is_null(ci_cbor_map_int(it, 3)));
	assert_null(ci_cbor_map_int(it, 4));
	assert_null(ci_cbor_map_text(it, "u"));
	assert_int_equal(ci_cbor_get_int(ci_cbor_map_int(it, -1), "big", &v, "test", &e), -1);
	assert_code(e, CINFER_E_LIMIT);
	cinfer_err_clear(&e);
	assert_int_equal(ci_cbor_get_uint(ci_cbor_map_int(it, 9), "x", &u, "test", &e), -1);
	assert_string_equal(e.msg, "x is missing");
	cbor_decref(&it);
}

static void
test_writer(void **state)
{
	struct ci_cbor_w w;
	struct cinfer_err e = { 0 };
	uint8_t *out;
	size_t n;
	static const uint8_t want[] = { 0x85, 0x17, 0x18, 0x18, 0x39, 0x01, 0x00, 0x1a, 0x00, 0x01,
		0x00, 0x00, 0x1b, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00 };

	(void)state;
	ci_cbor_w_init(&w, 64);
	ci_cbor_w_head(&w, 4, 5);
	ci_cbor_w_int(&w, 23);
	ci_cbor_w_int(&w, 24);
	ci_cbor_w_int(&w, -257);
	ci_cbor_w_int(&w, 65536);
	ci_cbor_w_int(&w, 4294967296ll);
	assert_int_equal(ci_cbor_w_finish(&w, &out, &n, "test", &e), 0);
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(out, want, n);
	ci_free(out);
	ci_cbor_w_init(&w, 4);
	ci_cbor_w_bytes(&w, "12345", 5);
	assert_int_equal(ci_cbor_w_finish(&w, &out, &n, "test", &e), -1);
	assert_code(e, CINFER_E_LIMIT);
}

/* Builds [prot, unprot, payload, sig] from raw parts. */
static void
build(const uint8_t *prot, size_t prot_size, const uint8_t *unprot, size_t unprot_size,
    int payload_null, uint8_t **out, size_t *n)
{
	struct ci_cbor_w w;
	struct cinfer_err e = { 0 };

	ci_cbor_w_init(&w, 4096);
	ci_cbor_w_head(&w, 4, 4);
	ci_cbor_w_bytes(&w, prot, prot_size);
	ci_cbor_w_raw(&w, unprot, unprot_size);
	if (payload_null)
		ci_cbor_w_head(&w, 7, 22);
	else
		ci_cbor_w_bytes(&w, "hi", 2);
	ci_cbor_w_bytes(&w, "", 0);
	assert_int_equal(ci_cbor_w_finish(&w, out, n, "test", &e), 0);
}

static void
test_cose_headers(void **state)
{
	static const uint8_t es384[] = { 0xa1, 0x01, 0x38, 0x22 };
	static const uint8_t crit[] = { 0xa2, 0x01, 0x38, 0x22, 0x02, 0x81, 0x01 };
	static const uint8_t ps256[] = { 0xa1, 0x01, 0x38, 0x24 };
	static const uint8_t notmap[] = { 0x01 };
	static const uint8_t empty_map[] = { 0xa0 };
	static const uint8_t unprot_alg[] = { 0xa1, 0x01, 0x26 };
	static const uint8_t unprot_kid[] = { 0xa1, 0x04, 0x41, 0x00 };
	struct ci_cose_sign1 m;
	struct cinfer_err e = { 0 };
	uint8_t *b;
	size_t n;

	(void)state;
	build(es384, sizeof(es384), empty_map, 1, 0, &b, &n);
	assert_int_equal(ci_cose_sign1_parse(&m, b, n, "test", &e), 0);
	assert_int_equal(m.alg, CI_COSE_ES384);
	assert_int_equal(m.tagged, 0);
	assert_int_equal(m.payload_size, 2);
	ci_cose_sign1_clear(&m);
	ci_free(b);
	build(es384, sizeof(es384), unprot_kid, sizeof(unprot_kid), 0, &b, &n);
	assert_int_equal(ci_cose_sign1_parse(&m, b, n, "test", &e), 0);
	ci_cose_sign1_clear(&m);
	ci_free(b);
	build(empty_map, 1, empty_map, 1, 0, &b, &n);
	assert_int_equal(ci_cose_sign1_parse(&m, b, n, "test", &e), 0);
	assert_int_equal(m.alg, CI_COSE_ALG_NONE);
	ci_cose_sign1_clear(&m);
	ci_free(b);
	build(crit, sizeof(crit), empty_map, 1, 0, &b, &n);
	assert_int_equal(ci_cose_sign1_parse(&m, b, n, "test", &e), -1);
	assert_code(e, CINFER_E_UNSUPPORTED);
	assert_non_null(strstr(e.msg, "crit"));
	ci_free(b);
	cinfer_err_clear(&e);
	build(ps256, sizeof(ps256), empty_map, 1, 0, &b, &n);
	assert_int_equal(ci_cose_sign1_parse(&m, b, n, "test", &e), -1);
	assert_code(e, CINFER_E_UNSUPPORTED);
	assert_non_null(strstr(e.msg, "-37"));
	ci_free(b);
	cinfer_err_clear(&e);
	build(notmap, sizeof(notmap), empty_map, 1, 0, &b, &n);
	assert_int_equal(ci_cose_sign1_parse(&m, b, n, "test", &e), -1);
	assert_code(e, CINFER_E_MALFORMED);
	ci_free(b);
	cinfer_err_clear(&e);
	build(es384, sizeof(es384), unprot_alg, sizeof(unprot_alg), 0, &b, &n);
	assert_int_equal(ci_cose_sign1_parse(&m, b, n, "test", &e), -1);
	assert_non_null(strstr(e.msg, "unprotected"));
	ci_free(b);
	cinfer_err_clear(&e);
	build(es384, sizeof(es384), empty_map, 1, 1, &b, &n);
	assert_int_equal(ci_cose_sign1_parse(&m, b, n, "test", &e), -1);
	assert_non_null(strstr(e.msg, "detached"));
	ci_free(b);
}

static void
test_sign_verify(void **state)
{
	static const char *const curves[] = { "P-256", "P-384", "P-521" };
	static const int64_t algs[] = { CI_COSE_ES256, CI_COSE_ES384, CI_COSE_ES512 };
	static const uint8_t payload[] = "the payload";

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct cinfer_err e = { 0 };
		EVP_PKEY *k = ci_ec_keygen(curves[i], &e), *other = ci_ec_keygen("P-384", &e), *pub;
		struct ci_cose_sign1 m;
		uint8_t *msg, pt[133];
		size_t n, ptn;

		assert_non_null(k);
		assert_int_equal(ci_cose_alg_for_key(k), algs[i]);
		assert_int_equal(ci_cose_sign1_make(k, (int)(i & 1), payload, sizeof(payload), &msg, &n,
		    &e), 0);
		assert_int_equal(ci_cose_sign1_parse(&m, msg, n, "test", &e), 0);
		assert_int_equal(m.alg, algs[i]);
		assert_int_equal(m.tagged, (int)(i & 1));
		assert_memory_equal(m.payload, payload, sizeof(payload));
		/* verify with the public half only, rebuilt from its point */
		ptn = ci_ec_pub_point(k, pt, sizeof(pt));
		assert_true(ptn > 0);
		pub = ci_ec_pub_from_point(curves[i], pt, ptn, &e);
		assert_non_null(pub);
		if (ci_cose_sign1_verify(&m, pub, "test", &e) != 0)
			fail_msg("%s: %s", curves[i], e.msg);
		/* another key */
		cinfer_err_clear(&e);
		if (i == 1) {
			assert_int_equal(ci_cose_sign1_verify(&m, other, "test", &e), -1);
			assert_string_equal(e.msg, "ECDSA signature does not verify");
		} else {
			assert_int_equal(ci_cose_sign1_verify(&m, other, "test", &e), -1);
			assert_non_null(strstr(e.msg, "does not match the key's curve"));
		}
		/* a flipped payload byte */
		cinfer_err_clear(&e);
		((uint8_t *)m.payload)[0] ^= 1;
		assert_int_equal(ci_cose_sign1_verify(&m, pub, "test", &e), -1);
		assert_code(e, CINFER_E_CRYPTO);
		ci_cose_sign1_clear(&m);
		ci_free(msg);
		EVP_PKEY_free(k);
		EVP_PKEY_free(other);
		EVP_PKEY_free(pub);
	}
}

static void
test_keys(void **state)
{
	struct cinfer_err e = { 0 };
	uint8_t *jwk, *ck, *pem, pt[97], bad[97];
	size_t jwk_size, ck_size, pem_size;
	EVP_PKEY *a, *b, *c, *d;

	(void)state;
	jwk = t_read(t_vector("cca/trustee_cpak_pub.json"), &jwk_size);
	ck = t_read(t_src("fuzz/corpus/cose_key/cpak_cose_key.cbor"), &ck_size);
	pem = t_read(t_src("fuzz/corpus/cose_key/cpak.pem"), &pem_size);
	a = ci_pub_key_load(jwk, jwk_size, &e);
	b = ci_cose_key_parse(ck, ck_size, &e);
	c = ci_pub_key_load(pem, pem_size, &e);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_int_equal(EVP_PKEY_eq(a, b), 1);
	assert_int_equal(EVP_PKEY_eq(a, c), 1);
	assert_int_equal(ci_cose_alg_for_key(a), CI_COSE_ES384);
	/* a point off the curve */
	assert_int_equal(ci_ec_pub_point(a, pt, sizeof(pt)), 97);
	memcpy(bad, pt, 97);
	bad[96] ^= 1;
	d = ci_ec_pub_from_point("P-384", bad, 97, &e);
	assert_null(d);
	assert_code(e, CINFER_E_MALFORMED);
	cinfer_err_clear(&e);
	assert_null(ci_ec_pub_from_point("P-384", pt, 65, &e));
	cinfer_err_clear(&e);
	assert_null(ci_ec_pub_from_point("P-192", pt, 49, &e));
	assert_code(e, CINFER_E_UNSUPPORTED);
	/* JWK mistakes */
	cinfer_err_clear(&e);
	{
		static const char j[] = "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"AA\",\"y\":\"AA\"}";
		assert_null(ci_pub_key_load((const uint8_t *)j, sizeof(j) - 1, &e));
	}
	assert_non_null(strstr(e.msg, "48 bytes"));
	cinfer_err_clear(&e);
	{
		static const char j[] = "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"AA\",\"y\":\"AA\",\"zz\":1}";
		assert_null(ci_pub_key_load((const uint8_t *)j, sizeof(j) - 1, &e));
	}
	assert_code(e, CINFER_E_MALFORMED);
	cinfer_err_clear(&e);
	assert_null(ci_pub_key_load((const uint8_t *)"", 0, &e));
	assert_code(e, CINFER_E_USAGE);
	/* an RSA key is refused */
	{
		EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
		BIO *bio = BIO_new(BIO_s_mem());
		char *p;
		long n;
		assert_non_null(rsa);
		assert_int_equal(PEM_write_bio_PUBKEY(bio, rsa), 1);
		n = BIO_get_mem_data(bio, &p);
		cinfer_err_clear(&e);
		assert_null(ci_pub_key_load((uint8_t *)p, (size_t)n, &e));
		assert_code(e, CINFER_E_UNSUPPORTED);
		BIO_free(bio);
		EVP_PKEY_free(rsa);
	}
	/* COSE_Key with a private part */
	{
		uint8_t *priv = ci_alloc(ck_size + 3);
		memcpy(priv, ck, ck_size);
		priv[0] = 0xa5;
		priv[ck_size] = 0x23;	/* -4 */
		priv[ck_size + 1] = 0x41;
		priv[ck_size + 2] = 0x01;
		cinfer_err_clear(&e);
		assert_null(ci_cose_key_parse(priv, ck_size + 3, &e));
		assert_code(e, CINFER_E_USAGE);
		ci_free(priv);
	}
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
	EVP_PKEY_free(c);
	ci_free(jwk);
	ci_free(ck);
	ci_free(pem);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cbor_walker),
		cmocka_unit_test(test_cbor_getters),
		cmocka_unit_test(test_writer),
		cmocka_unit_test(test_cose_headers),
		cmocka_unit_test(test_sign_verify),
		cmocka_unit_test(test_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
