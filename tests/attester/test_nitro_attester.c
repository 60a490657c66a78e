/*
 * Nitro attester against a fake /dev/nsm: the ioctl seam decodes the real
 * request (as the NSM would), then answers with a stored real attestation
 * document, an NSM error, or broken responses.
 */
#include "testutil.h"

#include <errno.h>

#include "crypto/crypto.h"
#include "evidence/nitro.h"

#define DOC "nitro/veracruz_2022-11-09_doc.cbor"

enum fake_mode { FAKE_DOC, FAKE_ERROR, FAKE_ERRNO, FAKE_OVERSIZE, FAKE_GARBAGE };

struct fake_nsm {
	enum fake_mode mode;
	const uint8_t *doc;
	size_t doc_size;
	int calls;
	/* what the request asked for */
	uint8_t user_data[1024], nonce[1024], public_key[1024];
	int user_data_size, nonce_size, public_key_size;	/* -1: null */
};

static void
grab(const cbor_item_t *m, const char *key, uint8_t *dst, int *size)
{
	cbor_item_t *v = ci_cbor_map_text(m, key);
	const uint8_t *p;
	size_t n;
	struct cinfer_err e = { 0 };

	assert_non_null(v);
	if (ci_cbor_is_null(v)) {
		*size = -1;
		return;
	}
	assert_int_equal(ci_cbor_get_bytes(v, key, 0, 1024, &p, &n, "fake", &e), 0);
	memcpy(dst, p, n);
	*size = (int)n;
}

static int
fake_ioctl(void *ctx, int fd, unsigned long req, struct ci_nsm_raw *raw)
{
	struct fake_nsm *f = ctx;
	const uint8_t *rq = (const uint8_t *)(uintptr_t)raw->request.addr;
	uint8_t *rs = (uint8_t *)(uintptr_t)raw->response.addr;
	cbor_item_t *root = NULL, *att;
	struct ci_cbor_w w;
	struct cinfer_err e = { 0 };
	uint8_t *out = NULL;
	size_t out_size = 0;

	f->calls++;
	assert_true(fd >= 0);
	assert_int_equal(req, CI_NSM_IOCTL_RAW);
	assert_true(raw->request.len <= CI_NSM_REQUEST_MAX);
	assert_int_equal(raw->response.len, CI_NSM_RESPONSE_MAX);
	/* the request as the NSM reads it: {"Attestation": {user_data, nonce, public_key}} */
	assert_int_equal(ci_cbor_decode(rq, raw->request.len, NULL, NULL, &root, "fake", &e), 0);
	assert_true(cbor_isa_map(root));
	assert_int_equal(cbor_map_size(root), 1);
	att = ci_cbor_map_text(root, "Attestation");
	assert_non_null(att);
	assert_int_equal(cbor_map_size(att), 3);
	grab(att, "user_data", f->user_data, &f->user_data_size);
	grab(att, "nonce", f->nonce, &f->nonce_size);
	grab(att, "public_key", f->public_key, &f->public_key_size);
	cbor_decref(&root);

	ci_cbor_w_init(&w, 1 << 20);
	ci_cbor_w_head(&w, 5, 1);
	switch (f->mode) {
	case FAKE_ERRNO:
		ci_cbor_w_clear(&w);
		errno = ENOTTY;
		return -1;
	case FAKE_ERROR:
		ci_cbor_w_text(&w, "Error");
		ci_cbor_w_text(&w, "InvalidArgument");
		break;
	case FAKE_GARBAGE:
		ci_cbor_w_text(&w, "Attestation");
		ci_cbor_w_text(&w, "document");
		break;
	default:
		ci_cbor_w_text(&w, "Attestation");
		ci_cbor_w_head(&w, 5, 1);
		ci_cbor_w_text(&w, "document");
		ci_cbor_w_bytes(&w, f->doc, f->doc_size);
		break;
	}
	assert_int_equal(ci_cbor_w_finish(&w, &out, &out_size, "fake", &e), 0);
	assert_true(out_size <= raw->response.len);
	memcpy(rs, out, out_size);
	raw->response.len = f->mode == FAKE_OVERSIZE ? CI_NSM_RESPONSE_MAX + 1 : out_size;
	ci_free(out);
	return 0;
}

static uint8_t *canned;	/* {"Attestation": {"document": doc}}, built in setup */
static size_t canned_size;

/* No allocation inside: for the allocation-failure walk. */
static int
canned_ioctl(void *ctx, int fd, unsigned long req, struct ci_nsm_raw *raw)
{
	(void)ctx;
	(void)fd;
	(void)req;
	memcpy((uint8_t *)(uintptr_t)raw->response.addr, canned, canned_size);
	raw->response.len = canned_size;
	return 0;
}

static char *devdir;
static char devpath[4200];
static uint8_t *doc;
static size_t doc_size;
static struct ci_nitro_doc parsed;

static int
setup(void **state)
{
	struct cinfer_err e = { 0 };
	FILE *f;

	(void)state;
	devdir = t_tmpdir();
	snprintf(devpath, sizeof(devpath), "%s/nsm", devdir);
	f = fopen(devpath, "w");	/* a file stands in for the device node */
	assert_non_null(f);
	fclose(f);
	doc = t_read(t_vector(DOC), &doc_size);
	assert_int_equal(ci_nitro_doc_parse(&parsed, doc, doc_size, &e), 0);
	{
		struct ci_cbor_w w;
		ci_cbor_w_init(&w, 1 << 20);
		ci_cbor_w_head(&w, 5, 1);
		ci_cbor_w_text(&w, "Attestation");
		ci_cbor_w_head(&w, 5, 1);
		ci_cbor_w_text(&w, "document");
		ci_cbor_w_bytes(&w, doc, doc_size);
		assert_int_equal(ci_cbor_w_finish(&w, &canned, &canned_size, "fake", &e), 0);
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	ci_nitro_doc_clear(&parsed);
	ci_free(canned);
	ci_free(doc);
	t_rmrf(devdir);
	return 0;
}

/* Asks for exactly what the stored document carries. */
static struct cinfer_nitro_attest_opts
matching_opts(void)
{
	struct cinfer_nitro_attest_opts o = { 0 };

	o.user_data = parsed.user_data.p;
	o.user_data_size = parsed.user_data.size;
	o.nonce = parsed.nonce.p;
	o.nonce_size = parsed.nonce.size;
	return o;
}

static void
test_attest_and_verify(void **state)
{
	struct fake_nsm f = { FAKE_DOC, NULL, 0, 0, { 0 }, { 0 }, { 0 }, 0, 0, 0 };
	struct cinfer_nitro_attest_opts o = matching_opts();
	struct cinfer_evidence ev;
	struct cinfer_claims c;
	struct cinfer_verify_opts vo = { 0 };
	struct cinfer_err e = { 0 };

	(void)state;
	f.doc = doc;
	f.doc_size = doc_size;
	if (ci_nitro_attest_with(devpath, fake_ioctl, &f, &o, &ev, &e) != 0)
		fail_msg("%s: %s", e.stage, e.msg);
	assert_int_equal(f.calls, 1);
	/* the NSM saw our fields, and null for the absent public_key */
	assert_int_equal(f.user_data_size, 32);
	assert_memory_equal(f.user_data, parsed.user_data.p, 32);
	assert_int_equal(f.nonce_size, 32);
	assert_memory_equal(f.nonce, parsed.nonce.p, 32);
	assert_int_equal(f.public_key_size, -1);
	assert_int_equal(ev.platform, CINFER_PLATFORM_NITRO);
	assert_int_equal(ev.evidence_size, doc_size);
	assert_memory_equal(ev.evidence, doc, doc_size);
	/* what came out verifies as real Nitro evidence, binding our user_data */
	vo.roots_dir = t_src("data/roots");
	cinfer_claims_init(&c, CINFER_PLATFORM_NITRO);
	assert_int_equal(ci_nitro_verify(&ev, &vo, (int64_t)(parsed.timestamp_ms / 1000), &c, &e), 0);
	assert_int_equal(c.report_data_size, 32);
	assert_memory_equal(c.report_data, parsed.user_data.p, 32);
	assert_memory_equal(c.host_data, parsed.nonce.p, 32);
	/* and survives the JSON envelope */
	{
		char *js = cinfer_evidence_to_json(&ev, &e);
		struct cinfer_evidence back;
		assert_non_null(js);
		assert_int_equal(cinfer_evidence_parse_json(&back, js, strlen(js), &e), 0);
		assert_int_equal(back.platform, CINFER_PLATFORM_NITRO);
		assert_memory_equal(back.evidence, doc, doc_size);
		cinfer_evidence_clear(&back);
		free(js);
	}
	cinfer_evidence_clear(&ev);
}

static void
test_not_echoed(void **state)
{
	struct fake_nsm f = { FAKE_DOC, NULL, 0, 0, { 0 }, { 0 }, { 0 }, 0, 0, 0 };
	struct cinfer_nitro_attest_opts o = matching_opts();
	struct cinfer_evidence ev;
	struct cinfer_err e = { 0 };
	uint8_t other[64] = { 1, 2, 3 }, pk[5] = { 9, 9, 9, 9, 9 };

	(void)state;
	f.doc = doc;
	f.doc_size = doc_size;
	o.user_data = other;
	o.user_data_size = sizeof(other);
	assert_int_equal(ci_nitro_attest_with(devpath, fake_ioctl, &f, &o, &ev, &e), -1);
	assert_code(e, CINFER_E_IO);
	assert_string_equal(e.msg,
	    "NSM document does not carry the requested user_data, nonce and public_key");
	assert_null(ev.evidence);
	assert_int_equal(f.user_data_size, 64);
	/* a public_key the document does not carry */
	o = matching_opts();
	o.public_key = pk;
	o.public_key_size = sizeof(pk);
	cinfer_err_clear(&e);
	assert_int_equal(ci_nitro_attest_with(devpath, fake_ioctl, &f, &o, &ev, &e), -1);
	assert_code(e, CINFER_E_IO);
	assert_int_equal(f.public_key_size, 5);
}

static void
test_device_failures(void **state)
{
	struct fake_nsm f = { FAKE_ERROR, NULL, 0, 0, { 0 }, { 0 }, { 0 }, 0, 0, 0 };
	struct cinfer_nitro_attest_opts o = matching_opts();
	struct cinfer_evidence ev;
	struct cinfer_err e = { 0 };
	uint8_t big[513] = { 0 };
	char missing[4300];

	(void)state;
	f.doc = doc;
	f.doc_size = doc_size;
	assert_int_equal(ci_nitro_attest_with(devpath, fake_ioctl, &f, &o, &ev, &e), -1);
	assert_code(e, CINFER_E_IO);
	assert_string_equal(e.msg, "the NSM refused the attestation request: InvalidArgument");
	f.mode = FAKE_ERRNO;
	cinfer_err_clear(&e);
	assert_int_equal(ci_nitro_attest_with(devpath, fake_ioctl, &f, &o, &ev, &e), -1);
	assert_code(e, CINFER_E_IO);
	assert_non_null(strstr(e.msg, strerror(ENOTTY)));
	f.mode = FAKE_OVERSIZE;
	cinfer_err_clear(&e);
	assert_int_equal(ci_nitro_attest_with(devpath, fake_ioctl, &f, &o, &ev, &e), -1);
	assert_code(e, CINFER_E_IO);
	assert_non_null(strstr(e.msg, "12289 bytes"));
	f.mode = FAKE_GARBAGE;
	cinfer_err_clear(&e);
	assert_int_equal(ci_nitro_attest_with(devpath, fake_ioctl, &f, &o, &ev, &e), -1);
	assert_code(e, CINFER_E_MALFORMED);
	/* no device: the real ioctl path never runs */
	snprintf(missing, sizeof(missing), "%s/absent", devdir);
	cinfer_err_clear(&e);
	assert_int_equal(cinfer_nitro_attest(missing, &o, &ev, &e), -1);
	assert_code(e, CINFER_E_IO);
	assert_non_null(strstr(e.msg, "cannot open the Nitro Security Module"));
	/* a regular file is not the NSM: the real ioctl fails (ENOTTY) */
	cinfer_err_clear(&e);
	assert_int_equal(cinfer_nitro_attest(devpath, &o, &ev, &e), -1);
	assert_code(e, CINFER_E_IO);
	assert_non_null(strstr(e.msg, "NSM request"));
	/* oversized fields never reach the device */
	f.calls = 0;
	o.user_data = big;
	o.user_data_size = sizeof(big);
	cinfer_err_clear(&e);
	assert_int_equal(ci_nitro_attest_with(devpath, fake_ioctl, &f, &o, &ev, &e), -1);
	assert_code(e, CINFER_E_USAGE);
	assert_int_equal(f.calls, 0);
}

static void
test_alloc_failures(void **state)
{
	struct fake_nsm f = { FAKE_DOC, NULL, 0, 0, { 0 }, { 0 }, { 0 }, 0, 0, 0 };
	struct cinfer_nitro_attest_opts o = matching_opts();
	struct cinfer_evidence ev;
	size_t live = ci_alloc_live();

	(void)state;
	f.doc = doc;
	f.doc_size = doc_size;
	for (size_t n = 0;; n++) {
		struct cinfer_err e = { 0 };
		int rc;
		ci_alloc_fail_after(n);
		rc = ci_nitro_attest_with(devpath, canned_ioctl, &f, &o, &ev, &e);
		ci_alloc_fail_after(SIZE_MAX);
		if (rc == 0) {
			cinfer_evidence_clear(&ev);
			break;
		}
		assert_true(e.code == CINFER_E_NOMEM);
		assert_true(n < 100);
	}
	assert_int_equal(ci_alloc_live(), live);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attest_and_verify),
		cmocka_unit_test(test_not_echoed),
		cmocka_unit_test(test_device_failures),
		cmocka_unit_test(test_alloc_failures),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
