/* AES-256-GCM helpers (96-bit nonce, 128-bit tag). Internal to libcinfer. */
#ifndef CI_AEAD_H
#define CI_AEAD_H

#include "core/ci.h"

#define CI_AEAD_KEY_SIZE 32
#define CI_AEAD_NONCE_SIZE 12
#define CI_AEAD_TAG_SIZE 16

/* Encrypts pt (pt may equal ct); writes the tag. */
CI_MUST_CHECK int ci_aead_seal(const uint8_t key[CI_AEAD_KEY_SIZE],
    const uint8_t nonce[CI_AEAD_NONCE_SIZE], const void *aad, size_t aad_size,
    const void *pt, size_t size, uint8_t *ct, uint8_t tag[CI_AEAD_TAG_SIZE],
    struct cinfer_err *e);

/*
 * Decrypts and checks the tag; on a bad tag fails with CINFER_E_CRYPTO and
 * wipes pt, so no unauthenticated plaintext reaches the caller.
 */
CI_MUST_CHECK int ci_aead_open(const uint8_t key[CI_AEAD_KEY_SIZE],
    const uint8_t nonce[CI_AEAD_NONCE_SIZE], const void *aad, size_t aad_size,
    const void *ct, size_t size, const uint8_t tag[CI_AEAD_TAG_SIZE], uint8_t *pt,
    struct cinfer_err *e);

/* AES key wrap (RFC 3394) with a 256-bit KEK; out holds in_size + 8 bytes. */
CI_MUST_CHECK int ci_aes_kw_wrap(const uint8_t kek[32], const uint8_t *in, size_t in_size,
    uint8_t *out, struct cinfer_err *e);
/* out holds in_size - 8 bytes; integrity failure: CINFER_E_CRYPTO. */
CI_MUST_CHECK int ci_aes_kw_unwrap(const uint8_t kek[32], const uint8_t *in, size_t in_size,
    uint8_t *out, struct cinfer_err *e);

#endif
