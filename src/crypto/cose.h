/*
 * Strict CBOR and COSE_Sign1 (RFC 8949, RFC 9052) for attestation evidence.
 * Internal to libcinfer.
 *
 * Every untrusted CBOR buffer is first walked by ci_cbor_check() with the
 * byte reader: one item, definite lengths only, no reserved or float
 * encodings, only false/true/null as simple values, UTF-8 text, integer or
 * text map keys without duplicates, a depth and an item-count limit, and
 * at most one tag, at the top. Only then is it handed to libcbor, so
 * libcbor never sees a length it could over-allocate for or a nesting it
 * could recurse on.
 */
#ifndef CI_COSE_H
#define CI_COSE_H

#include <cbor.h>
#include <openssl/evp.h>

#include "core/ci.h"

#define CI_CBOR_DEPTH_MAX 16
#define CI_CBOR_ITEMS_MAX 8192
#define CI_CBOR_MAP_PAIRS_MAX 512
#define CI_COSE_SIZE_MAX (256u << 10)
#define CI_COSE_TAG_SIGN1 18

struct ci_cbor_limits {
	unsigned max_depth;	/* 0: CI_CBOR_DEPTH_MAX */
	size_t max_items;	/* 0: CI_CBOR_ITEMS_MAX */
	int allow_tag;		/* a tag may wrap the top item (and nothing else) */
};

/* Walks exactly one item filling all of p..size; 0 or -1 (MALFORMED/LIMIT). */
CI_MUST_CHECK int ci_cbor_check(const uint8_t *p, size_t size,
    const struct ci_cbor_limits *lim, const char *stage, struct cinfer_err *e);

/*
 * ci_cbor_check, then libcbor. A top-level tag is stripped: *tag gets its
 * value (or UINT64_MAX if there was none; tag may be NULL only when
 * lim->allow_tag is 0). Returns a new item in *out (cbor_decref).
 */
CI_MUST_CHECK int ci_cbor_decode(const uint8_t *p, size_t size,
    const struct ci_cbor_limits *lim, uint64_t *tag, cbor_item_t **out, const char *stage,
    struct cinfer_err *e);

/*
 * Typed access to decoded items. Map lookups return a borrowed value or
 * NULL when absent (ci_cbor_check has ruled out duplicate keys). Getters
 * fail with "<what> must be ..." messages.
 */
cbor_item_t *ci_cbor_map_int(const cbor_item_t *map, int64_t key);
cbor_item_t *ci_cbor_map_text(const cbor_item_t *map, const char *key);
CI_MUST_CHECK int ci_cbor_get_int(const cbor_item_t *it, const char *what, int64_t *v,
    const char *stage, struct cinfer_err *e);
CI_MUST_CHECK int ci_cbor_get_uint(const cbor_item_t *it, const char *what, uint64_t *v,
    const char *stage, struct cinfer_err *e);
/* Byte string of min..max bytes; borrows from it. */
CI_MUST_CHECK int ci_cbor_get_bytes(const cbor_item_t *it, const char *what, size_t min,
    size_t max, const uint8_t **p, size_t *size, const char *stage, struct cinfer_err *e);
/* Text of 1..dst_size-1 bytes without NUL, copied NUL-terminated. */
CI_MUST_CHECK int ci_cbor_get_text(const cbor_item_t *it, const char *what, char *dst,
    size_t dst_size, const char *stage, struct cinfer_err *e);
int ci_cbor_is_null(const cbor_item_t *it);

/* A small definite-length CBOR writer with a size cap (sticky failure). */
struct ci_cbor_w {
	uint8_t *p;		/* new (ci_free), or taken by ci_cbor_w_finish */
	size_t size, cap, max;
	int bad;		/* 1: out of memory or over max */
};
void ci_cbor_w_init(struct ci_cbor_w *w, size_t max);
void ci_cbor_w_head(struct ci_cbor_w *w, unsigned major, uint64_t v);
void ci_cbor_w_int(struct ci_cbor_w *w, int64_t v);
void ci_cbor_w_bytes(struct ci_cbor_w *w, const void *p, size_t size);
void ci_cbor_w_text(struct ci_cbor_w *w, const char *s);
void ci_cbor_w_raw(struct ci_cbor_w *w, const void *p, size_t size);
/* Hands the buffer to *out (ci_free) or fails NOMEM/LIMIT; clears w. */
CI_MUST_CHECK int ci_cbor_w_finish(struct ci_cbor_w *w, uint8_t **out, size_t *size,
    const char *stage, struct cinfer_err *e);
void ci_cbor_w_clear(struct ci_cbor_w *w);

/* COSE algorithms we verify: ECDSA with the matching curve and hash. */
enum ci_cose_alg {
	CI_COSE_ALG_NONE = 0,	/* no alg in the protected header */
	CI_COSE_ES256 = -7,
	CI_COSE_ES384 = -35,
	CI_COSE_ES512 = -36,
};

/* A decoded COSE_Sign1; the views borrow from root. */
struct ci_cose_sign1 {
	cbor_item_t *root;	/* owned (the untagged array) */
	int tagged;		/* 1 if it came as tag 18 */
	int64_t alg;		/* from the protected header; CI_COSE_ALG_NONE if absent */
	const uint8_t *protected_hdr;	/* the protected bstr's content (maybe empty) */
	size_t protected_size;
	const uint8_t *payload;
	size_t payload_size;
	const uint8_t *sig;
	size_t sig_size;
};

/*
 * Parses [protected: bstr .cbor map, unprotected: map, payload: bstr,
 * signature: bstr], optionally tagged 18. Rejects a detached (nil)
 * payload, "crit" headers, an alg in the unprotected bucket and
 * algorithms other than ES256/ES384/ES512 (a missing alg is reported as
 * CI_COSE_ALG_NONE for the caller to judge).
 */
CI_MUST_CHECK int ci_cose_sign1_parse(struct ci_cose_sign1 *m, const uint8_t *p, size_t size,
    const char *stage, struct cinfer_err *e);
void ci_cose_sign1_clear(struct ci_cose_sign1 *m);

/* Sig_structure ["Signature1", protected, h'' (external_aad), payload]; new buffer. */
CI_MUST_CHECK int ci_cose_sig_structure(const uint8_t *prot, size_t prot_size,
    const uint8_t *payload, size_t payload_size, uint8_t **out, size_t *out_size,
    const char *stage, struct cinfer_err *e);

/*
 * Verifies m's signature with pub: m->alg must be ES256/384/512, pub an EC
 * key on the matching curve (P-256/384/521), the signature r||s of the
 * matching size. 0 valid; -1 (CRYPTO) otherwise.
 */
CI_MUST_CHECK int ci_cose_sign1_verify(const struct ci_cose_sign1 *m, EVP_PKEY *pub,
    const char *stage, struct cinfer_err *e);

/*
 * Signs payload as a COSE_Sign1 with protected header {1: alg} (alg from
 * the key's curve) and an empty unprotected map; tag: wrap in tag 18.
 * For tests, fakes and tools. Returns a new buffer (ci_free).
 */
CI_MUST_CHECK int ci_cose_sign1_make(EVP_PKEY *key, int tag, const uint8_t *payload,
    size_t payload_size, uint8_t **out, size_t *out_size, struct cinfer_err *e);

/* COSE alg for an EC key's curve (CI_COSE_ALG_NONE if unsupported). */
int64_t ci_cose_alg_for_key(EVP_PKEY *pk);
/* "ES384" etc.; "none" for CI_COSE_ALG_NONE, "unknown" otherwise. */
const char *ci_cose_alg_name(int64_t alg);

/* ---- public keys --------------------------------------------------------- */

/* EC public key from an uncompressed SEC1 point (04||x||y) on "P-256", "P-384" or "P-521". */
EVP_PKEY *ci_ec_pub_from_point(const char *curve, const uint8_t *pt, size_t size,
    struct cinfer_err *e);
/* Uncompressed SEC1 point of an EC key into buf; returns its size, 0 on failure. */
size_t ci_ec_pub_point(EVP_PKEY *pk, uint8_t *buf, size_t buf_size);
/* COSE_Key EC2 map {1: 2, -1: crv (1/2/3), -2: x, -3: y} (no private part). */
EVP_PKEY *ci_cose_key_parse(const uint8_t *p, size_t size, struct cinfer_err *e);
/*
 * A public key given as a JWK (EC: kty, crv P-256/P-384/P-521, x, y; no
 * "d"), PEM or DER SubjectPublicKeyInfo. Only EC keys are accepted.
 */
EVP_PKEY *ci_pub_key_load(const uint8_t *p, size_t size, struct cinfer_err *e);

#endif
