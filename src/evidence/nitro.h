/*
 * AWS Nitro Enclaves attestation documents: a COSE_Sign1 (ES384) whose
 * payload is a CBOR map {module_id, digest, timestamp, pcrs, certificate,
 * cabundle, public_key, user_data, nonce}, signed by the enclave's leaf
 * certificate, chained through cabundle to the AWS Nitro Enclaves root G1.
 * Internal to libcinfer.
 */
#ifndef CI_NITRO_H
#define CI_NITRO_H

#include <sys/ioctl.h>

#include "cinfer/attester_nitro.h"
#include "crypto/cose.h"
#include "evidence/evidence_int.h"

#define CI_NITRO_DOC_MAX (64u << 10)
#define CI_NITRO_PCR_MAX 32		/* NSM has 32 PCRs (0..31) */
#define CI_NITRO_CABUNDLE_MAX 8
#define CI_NITRO_CERT_MAX 1024		/* per the AWS document spec */
#define CI_NITRO_USER_DATA_MAX 1024	/* spec: 512; leave room */
#define CI_NITRO_NONCE_MAX 1024
#define CI_NITRO_PUBKEY_MAX 1024
#define CI_NITRO_ROOT_FILE "aws/aws_nitro_enclaves_root_g1.pem"
#define CI_NITRO_SKEW 300		/* seconds a document may be ahead of `at` */

struct ci_nitro_bytes {
	const uint8_t *p;	/* borrowed from the document; NULL if absent or null */
	size_t size;
};

/* A parsed (not yet verified) document; views borrow from cose.root. */
struct ci_nitro_doc {
	struct ci_cose_sign1 cose;
	cbor_item_t *payload;		/* owned: the decoded payload map */
	char module_id[128];
	char digest[16];		/* "SHA384" */
	uint64_t timestamp_ms;
	struct ci_nitro_bytes pcr[CI_NITRO_PCR_MAX];	/* size 0: not present */
	size_t pcr_count;
	struct ci_nitro_bytes certificate;
	struct ci_nitro_bytes cabundle[CI_NITRO_CABUNDLE_MAX];
	size_t cabundle_count;
	struct ci_nitro_bytes public_key, user_data, nonce;
};

/* Parses and checks every field's type and size. */
CI_MUST_CHECK int ci_nitro_doc_parse(struct ci_nitro_doc *d, const uint8_t *p, size_t size,
    struct cinfer_err *e);
void ci_nitro_doc_clear(struct ci_nitro_doc *d);

/*
 * The platform verifier (ci_evidence_verify_fn): ES384 by the leaf, chain
 * to the pinned root at `at`, document time inside the leaf's validity.
 */
int ci_nitro_verify(const struct cinfer_evidence *ev, const struct cinfer_verify_opts *opts,
    int64_t at, struct cinfer_claims *claims, struct cinfer_err *e);

/*
 * The document's own timestamp in Unix seconds, UNAUTHENTICATED: for a
 * caller that chooses to verify "at the document's time" (leaf certs live
 * ~3 hours). The signature and chain are still checked at that time.
 */
CI_MUST_CHECK int ci_nitro_doc_time(const uint8_t *p, size_t size, int64_t *t,
    struct cinfer_err *e);

/*
 * Attested TLS (Evervault Cages beta): finds a COSE_Sign1 document carried
 * hex-encoded as the first label of a SAN dNSName of cert (DER or PEM).
 * Returns a new buffer (ci_free).
 */
CI_MUST_CHECK int ci_nitro_doc_from_cert(const uint8_t *cert, size_t size, uint8_t **doc,
    size_t *doc_size, struct cinfer_err *e);

/*
 * Checks that verified claims bind cert: the document's user_data equals
 * the DER SubjectPublicKeyInfo of cert's key (compared through the
 * "user_data_sha256" claim). 0 bound, -1 (CRYPTO) not.
 */
CI_MUST_CHECK int ci_nitro_check_cert_binding(const struct cinfer_claims *claims,
    const uint8_t *cert, size_t size, struct cinfer_err *e);

/* ---- attester internals (src/attester/nitro.c) ------------------------------ */

#define CI_NSM_REQUEST_MAX 0x1000
#define CI_NSM_RESPONSE_MAX 0x3000

/* Linux uapi <linux/nsm.h> (6.8+), repeated so older headers build. */
struct ci_nsm_iovec {
	uint64_t addr;
	uint64_t len;
};
struct ci_nsm_raw {
	struct ci_nsm_iovec request;
	struct ci_nsm_iovec response;
};
#define CI_NSM_IOCTL_RAW _IOWR(0x0A, 0x0, struct ci_nsm_raw)

/* The ioctl seam: the real one is ioctl(2); tests give a fake device. */
typedef int (*ci_nsm_ioctl_fn)(void *ctx, int fd, unsigned long req, struct ci_nsm_raw *raw);

int ci_nitro_attest_with(const char *dev, ci_nsm_ioctl_fn fn, void *ctx,
    const struct cinfer_nitro_attest_opts *o, struct cinfer_evidence *ev, struct cinfer_err *e);

/* NSM request {"Attestation": {user_data, nonce, public_key}} (absent: null). */
CI_MUST_CHECK int ci_nsm_attestation_request(const struct cinfer_nitro_attest_opts *o,
    uint8_t **out, size_t *out_size, struct cinfer_err *e);
/*
 * NSM response: {"Attestation": {"document": bstr}} gives the document
 * (borrowed from *root, which the caller frees with cbor_decref);
 * {"Error": "..."} fails with the NSM error name.
 */
CI_MUST_CHECK int ci_nsm_attestation_response(const uint8_t *p, size_t size,
    cbor_item_t **root, const uint8_t **doc, size_t *doc_size, struct cinfer_err *e);

#endif
