/* Sealed bundles: round trip, and tamper / truncate / reorder / splice fail. */
#include <fcntl.h>
#include <unistd.h>

#include "testutil.h"

#include "cinfer/seal.h"

static char *dir;
static char model[4200], sealed[4200], sealed2[4200];
static uint8_t key[32], key2[32];
static uint8_t *plain;
static const size_t plain_size = 5 * 1024 + 100;	/* 6 chunks of 1 KiB */

static void
write_file(const char *path, const void *p, size_t n)
{
	struct cinfer_err e = { 0 };

	if (ci_file_write(path, p, n, 0644, &e) != 0)
		fail_msg("%s", e.msg);
}

static void
seal_to(const char *out, const uint8_t *k, struct cinfer_bundle_info *info)
{
	struct cinfer_err e = { 0 };

	memset(info, 0, sizeof(*info));
	info->chunk_size = 1024;
	strcpy(info->key_id, "model-a");
	info->threshold = 1;
	info->broker_count = 1;
	strcpy(info->brokers[0].url, "https://127.0.0.1:1");
	info->brokers[0].key_version = 3;
	if (cinfer_seal_file(model, out, k, info, NULL, NULL, &e) != 0)
		fail_msg("seal: %s", e.msg);
}

static int
setup(void **state)
{
	struct cinfer_bundle_info info;

	dir = t_tmpdir();
	snprintf(model, sizeof(model), "%s/m.onnx", dir);
	snprintf(sealed, sizeof(sealed), "%s/m.sealed", dir);
	snprintf(sealed2, sizeof(sealed2), "%s/m2.sealed", dir);
	plain = malloc(plain_size);
	for (size_t i = 0; i < plain_size; i++)
		plain[i] = (uint8_t)(i * 7 + (i >> 8));
	write_file(model, plain, plain_size);
	memset(key, 0x42, 32);
	memset(key2, 0x43, 32);
	seal_to(sealed, key, &info);
	seal_to(sealed2, key2, &info);
	return 0;
}

static int
teardown(void **state)
{
	free(plain);
	t_rmrf(dir);
	return 0;
}

static int
try_unseal(const uint8_t *b, size_t n, const uint8_t *k, struct cinfer_err *e)
{
	struct cinfer_unsealed u;
	int rc = cinfer_unseal_mem(b, n, k, &u, e);

	if (rc == 0) {
		assert_int_equal(u.size, plain_size);
		assert_memory_equal(u.data, plain, plain_size);
		cinfer_unsealed_free(&u);
	} else {
		assert_null(u.data);
	}
	return rc;
}

static void
test_round_trip(void **state)
{
	struct cinfer_err e = { 0 };
	struct cinfer_unsealed u;
	struct cinfer_bundle_info h;

	assert_int_equal(cinfer_unseal_file(sealed, key, &u, &e), 0);
	assert_int_equal(u.size, plain_size);
	assert_memory_equal(u.data, plain, plain_size);
	cinfer_unsealed_free(&u);
	cinfer_unsealed_free(&u);
	assert_int_equal(cinfer_bundle_read_header(sealed, &h, &e), 0);
	assert_string_equal(h.key_id, "model-a");
	assert_int_equal(h.brokers[0].key_version, 3);
	assert_int_equal(h.chunk_size, 1024);
	assert_int_equal(h.plaintext_size, plain_size);
	assert_int_equal(cinfer_unseal_file(sealed, key2, &u, &e), -1);
	assert_code(e, CINFER_E_CRYPTO);
}

static void
test_tamper_every_region(void **state)
{
	size_t n;
	uint8_t *b = t_read(sealed, &n);
	struct cinfer_bundle_info h;
	struct cinfer_err e = { 0 };

	assert_int_equal(cinfer_bundle_parse_header(b, n, &h, &e), 0);
	/* A flipped bit anywhere (header, ciphertext, tags) is caught. */
	for (size_t off = 0; off < n; off += 97) {
		cinfer_err_clear(&e);
		b[off] ^= 0x10;
		if (try_unseal(b, n, key, &e) == 0)
			fail_msg("flip at %zu accepted", off);
		b[off] ^= 0x10;
	}
	assert_int_equal(try_unseal(b, n, key, &e), 0);
	ci_free(b);
}

static void
test_truncate_and_extend(void **state)
{
	size_t n;
	uint8_t *b = t_read(sealed, &n);
	struct cinfer_err e = { 0 };
	struct cinfer_bundle_info h;
	uint8_t *big = malloc(n + 1040);

	assert_int_equal(cinfer_bundle_parse_header(b, n, &h, &e), 0);
	/* Drop the last chunk, and cut mid-chunk. */
	assert_int_equal(try_unseal(b, n - (100 + 16), key, &e), -1);
	assert_non_null(strstr(e.msg, "truncated"));
	cinfer_err_clear(&e);
	assert_int_equal(try_unseal(b, n - 5, key, &e), -1);
	cinfer_err_clear(&e);
	assert_int_equal(try_unseal(b, 20, key, &e), -1);
	/* A truncated file on disk gives the same clear error. */
	{
		char p[4300];
		snprintf(p, sizeof(p), "%s/trunc.sealed", dir);
		write_file(p, b, n - 116);
		struct cinfer_unsealed u;
		cinfer_err_clear(&e);
		assert_int_equal(cinfer_unseal_file(p, key, &u, &e), -1);
		assert_non_null(strstr(e.msg, "truncated"));
	}
	/* Appending a copy of a chunk. */
	memcpy(big, b, n);
	memcpy(big + n, b + h.header_size, 1040);
	cinfer_err_clear(&e);
	assert_int_equal(try_unseal(big, n + 1040, key, &e), -1);
	free(big);
	ci_free(b);
}

static void
test_reorder_chunks(void **state)
{
	size_t n;
	uint8_t *b = t_read(sealed, &n), tmp[1040];
	struct cinfer_err e = { 0 };
	struct cinfer_bundle_info h;
	uint8_t *c1, *c2;

	assert_int_equal(cinfer_bundle_parse_header(b, n, &h, &e), 0);
	c1 = b + h.header_size;
	c2 = c1 + 1040;
	memcpy(tmp, c1, 1040);
	memcpy(c1, c2, 1040);
	memcpy(c2, tmp, 1040);
	assert_int_equal(try_unseal(b, n, key, &e), -1);
	assert_code(e, CINFER_E_CRYPTO);
	assert_non_null(strstr(e.msg, "chunk 0"));
	ci_free(b);
}

static void
test_splice_between_bundles(void **state)
{
	size_t n, n2;
	uint8_t *a = t_read(sealed, &n);
	uint8_t *b = t_read(sealed2, &n2);
	struct cinfer_err e = { 0 };
	struct cinfer_bundle_info ha, hb;

	assert_int_equal(cinfer_bundle_parse_header(a, n, &ha, &e), 0);
	assert_int_equal(cinfer_bundle_parse_header(b, n2, &hb, &e), 0);
	/* Same key for both: re-seal the second with key so only the salt/header differ. */
	{
		struct cinfer_bundle_info info;
		seal_to(sealed2, key, &info);
		ci_free(b);
		b = t_read(sealed2, &n2);
	}
	assert_int_equal(n, n2);
	/* Chunk 2 of bundle b spliced into bundle a. */
	memcpy(a + ha.header_size + 2 * 1040, b + ha.header_size + 2 * 1040, 1040);
	assert_int_equal(try_unseal(a, n, key, &e), -1);
	assert_code(e, CINFER_E_CRYPTO);
	assert_non_null(strstr(e.msg, "chunk 2"));
	/* Header of b on the chunks of a. */
	ci_free(a);
	a = t_read(sealed, &n);
	memcpy(a, b, ha.header_size);
	cinfer_err_clear(&e);
	assert_int_equal(try_unseal(a, n, key, &e), -1);
	ci_free(a);
	ci_free(b);
}

static void
test_split_key_unseal(void **state)
{
	struct cinfer_err e = { 0 };
	uint8_t sh[3][CINFER_SEAL_SHARE_SIZE], two[2][CINFER_SEAL_SHARE_SIZE], k[32];
	size_t n;
	uint8_t *b = t_read(sealed, &n);

	assert_int_equal(cinfer_seal_split_key(key, 2, 3, sh, &e), 0);
	memcpy(two[0], sh[2], CINFER_SEAL_SHARE_SIZE);
	memcpy(two[1], sh[0], CINFER_SEAL_SHARE_SIZE);
	assert_int_equal(cinfer_seal_combine_key((const uint8_t (*)[33])two, 2, k, &e), 0);
	assert_memory_equal(k, key, 32);
	assert_int_equal(try_unseal(b, n, k, &e), 0);
	/* A wrong share gives a wrong key, and the bundle refuses it. */
	two[1][5] ^= 1;
	assert_int_equal(cinfer_seal_combine_key((const uint8_t (*)[33])two, 2, k, &e), 0);
	assert_int_equal(try_unseal(b, n, k, &e), -1);
	ci_free(b);
}

static void
test_empty_model(void **state)
{
	struct cinfer_err e = { 0 };
	struct cinfer_bundle_info info = { .threshold = 1, .broker_count = 1 };
	struct cinfer_unsealed u;
	char empty[4300], out[4300];

	snprintf(empty, sizeof(empty), "%s/empty", dir);
	snprintf(out, sizeof(out), "%s/empty.sealed", dir);
	write_file(empty, "", 0);
	strcpy(info.key_id, "e");
	assert_int_equal(cinfer_seal_file(empty, out, key, &info, NULL, NULL, &e), 0);
	assert_int_equal(cinfer_unseal_file(out, key, &u, &e), 0);
	assert_int_equal(u.size, 0);
	cinfer_unsealed_free(&u);
	strcpy(info.key_id, "../x");
	assert_int_equal(cinfer_seal_file(empty, out, key, &info, NULL, NULL, &e), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_tamper_every_region),
		cmocka_unit_test(test_truncate_and_extend),
		cmocka_unit_test(test_reorder_chunks),
		cmocka_unit_test(test_splice_between_bundles),
		cmocka_unit_test(test_split_key_unseal),
		cmocka_unit_test(test_empty_model),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
