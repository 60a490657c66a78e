/*
 * AWS Nitro Enclaves attester: the NSM "Attestation" request over
 * /dev/nsm (Linux drivers/misc/nsm.c, NSM_IOCTL_RAW: CBOR request and
 * response buffers). Request and response follow the NSM API's serde
 * encoding: {"Attestation": {"user_data": .., "nonce": .., "public_key":
 * ..}} and {"Attestation": {"document": bstr}} or {"Error": "<code>"}.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "evidence/nitro.h"

#define STAGE "attester.nitro"

static void
put_opt(struct ci_cbor_w *w, const char *key, const uint8_t *p, size_t size)
{
	ci_cbor_w_text(w, key);
	if (p == NULL)
		ci_cbor_w_head(w, 7, 22);	/* null */
	else
		ci_cbor_w_bytes(w, p, size);
}

int
ci_nsm_attestation_request(const struct cinfer_nitro_attest_opts *o, uint8_t **out,
    size_t *out_size, struct cinfer_err *e)
{
	struct ci_cbor_w w;

	*out = NULL;
	*out_size = 0;
	if ((o->user_data == NULL && o->user_data_size != 0) ||
	    (o->nonce == NULL && o->nonce_size != 0) ||
	    (o->public_key == NULL && o->public_key_size != 0))
		return ci_fail(e, CINFER_E_USAGE, STAGE, "a size without its bytes");
	if (o->user_data_size > CINFER_NITRO_FIELD_MAX || o->nonce_size > CINFER_NITRO_FIELD_MAX ||
	    o->public_key_size > 2 * CINFER_NITRO_FIELD_MAX)
		return ci_fail(e, CINFER_E_USAGE, STAGE, "user_data and nonce take at most %d bytes, "
		    "public_key %d", CINFER_NITRO_FIELD_MAX, 2 * CINFER_NITRO_FIELD_MAX);
	ci_cbor_w_init(&w, CI_NSM_REQUEST_MAX);
	ci_cbor_w_head(&w, 5, 1);
	ci_cbor_w_text(&w, "Attestation");
	ci_cbor_w_head(&w, 5, 3);
	put_opt(&w, "user_data", o->user_data, o->user_data_size);
	put_opt(&w, "nonce", o->nonce, o->nonce_size);
	put_opt(&w, "public_key", o->public_key, o->public_key_size);
	return ci_cbor_w_finish(&w, out, out_size, STAGE, e);
}

int
ci_nsm_attestation_response(const uint8_t *p, size_t size, cbor_item_t **root,
    const uint8_t **doc, size_t *doc_size, struct cinfer_err *e)
{
	static const struct ci_cbor_limits lim = { 4, 16, 0 };
	cbor_item_t *v, *err_item = NULL, *att = NULL;
	char err[64];
	int rc = -1;

	*doc = NULL;
	*doc_size = 0;
	if (ci_cbor_decode(p, size, &lim, NULL, root, STAGE, e) != 0)
		return -1;
	if (cbor_isa_map(*root) && cbor_map_size(*root) == 1) {
		err_item = ci_cbor_map_text(*root, "Error");
		att = ci_cbor_map_text(*root, "Attestation");
	}
	if (err_item != NULL) {
		if (ci_cbor_get_text(err_item, "NSM error", err, sizeof(err), STAGE, e) == 0) {
			ci_str_mask(err);
			ci_fail(e, CINFER_E_IO, STAGE, "the NSM refused the attestation request: %s",
			    err);
		}
		goto out;
	}
	if (att == NULL || !cbor_isa_map(att) || cbor_map_size(att) != 1) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE, "NSM response is neither Attestation nor Error");
		goto out;
	}
	v = ci_cbor_map_text(att, "document");
	if (ci_cbor_get_bytes(v, "NSM document", 1, CI_NITRO_DOC_MAX, doc, doc_size, STAGE,
		e) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0) {
		cbor_decref(root);
		*doc = NULL;
		*doc_size = 0;
	}
	return rc;
}

static int
same(const struct ci_nitro_bytes *got, const uint8_t *want, size_t want_size)
{
	if (want == NULL)
		return got->p == NULL;
	return got->p != NULL && got->size == want_size &&
	    memcmp(got->p, want, want_size) == 0;	/* public */
}

int
ci_nitro_attest_with(const char *dev, ci_nsm_ioctl_fn fn, void *ctx,
    const struct cinfer_nitro_attest_opts *o, struct cinfer_evidence *ev, struct cinfer_err *e)
{
	const char *env = getenv("CINFER_NSM_DEV");
	struct cinfer_nitro_attest_opts none = { 0 };
	struct ci_nsm_raw raw;
	struct ci_nitro_doc d;
	uint8_t *req = NULL, *resp = NULL;
	size_t req_size = 0, doc_size = 0;
	const uint8_t *doc;
	cbor_item_t *root = NULL;
	int fd = -1, rc = -1, parsed = 0;

	cinfer_evidence_init(ev);
	if (o == NULL)
		o = &none;
	if (dev == NULL)
		dev = env != NULL && env[0] != '\0' ? env : CINFER_NSM_DEFAULT_DEV;
	if (ci_nsm_attestation_request(o, &req, &req_size, e) != 0)
		return -1;
	resp = ci_alloc(CI_NSM_RESPONSE_MAX);
	if (resp == NULL) {
		ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
		goto out;
	}
	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ci_fail(e, CINFER_E_IO, STAGE, "cannot open the Nitro Security Module %.200s: %s",
		    dev, strerror(errno));
		goto out;
	}
	memset(&raw, 0, sizeof(raw));
	raw.request.addr = (uint64_t)(uintptr_t)req;
	raw.request.len = req_size;
	raw.response.addr = (uint64_t)(uintptr_t)resp;
	raw.response.len = CI_NSM_RESPONSE_MAX;
	if (fn(ctx, fd, CI_NSM_IOCTL_RAW, &raw) != 0) {
		ci_fail(e, CINFER_E_IO, STAGE, "NSM request on %.200s failed: %s", dev,
		    strerror(errno));
		goto out;
	}
	if (raw.response.len == 0 || raw.response.len > CI_NSM_RESPONSE_MAX) {
		ci_fail(e, CINFER_E_IO, STAGE, "NSM returned a response of %llu bytes",
		    (unsigned long long)raw.response.len);
		goto out;
	}
	if (ci_nsm_attestation_response(resp, (size_t)raw.response.len, &root, &doc, &doc_size,
		e) != 0)
		goto out;
	/* The document must echo what we asked for (its signature is the verifier's job). */
	if (ci_nitro_doc_parse(&d, doc, doc_size, e) != 0)
		goto out;
	parsed = 1;
	if (!same(&d.user_data, o->user_data, o->user_data_size) ||
	    !same(&d.nonce, o->nonce, o->nonce_size) ||
	    !same(&d.public_key, o->public_key, o->public_key_size)) {
		ci_fail(e, CINFER_E_IO, STAGE,
		    "NSM document does not carry the requested user_data, nonce and public_key");
		goto out;
	}
	ev->evidence = ci_memdup(doc, doc_size);
	if (ev->evidence == NULL) {
		ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
		goto out;
	}
	ev->evidence_size = doc_size;
	ev->platform = CINFER_PLATFORM_NITRO;
	rc = 0;
out:
	if (parsed)
		ci_nitro_doc_clear(&d);
	if (root != NULL)
		cbor_decref(&root);
	if (fd >= 0)
		close(fd);
	ci_free(req);
	ci_free(resp);
	if (rc != 0)
		cinfer_evidence_clear(ev);
	return rc;
}

static int
nsm_ioctl(void *ctx, int fd, unsigned long req, struct ci_nsm_raw *raw)
{
	(void)ctx;
	return ioctl(fd, req, raw) < 0 ? -1 : 0;
}

int
cinfer_nitro_attest(const char *dev, const struct cinfer_nitro_attest_opts *o,
    struct cinfer_evidence *ev, struct cinfer_err *e)
{
	return ci_nitro_attest_with(dev, nsm_ioctl, NULL, o, ev, e);
}
