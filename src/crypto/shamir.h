/*
 * Shamir k-of-n secret sharing over GF(2^8) (AES polynomial 0x11b), byte
 * by byte. Arithmetic on secret bytes is constant time (no tables, no
 * branches on secrets); share x-coordinates are public. Internal.
 *
 * A share is 1 + size bytes: x (1..255), then one y byte per secret byte.
 */
#ifndef CI_SHAMIR_H
#define CI_SHAMIR_H

#include "core/ci.h"

#define CI_SHAMIR_MAX_SHARES 16

/* Writes n shares of size + 1 bytes each to shares[0..n-1]; 2 <= k <= n <= 16. */
CI_MUST_CHECK int ci_shamir_split(const uint8_t *secret, size_t size, unsigned k, unsigned n,
    uint8_t *const *shares, struct cinfer_err *e);

/*
 * Recovers the secret (size = share_size - 1) from count shares with
 * distinct nonzero x. With fewer than k shares the result is garbage, not
 * an error: callers authenticate the secret (the bundle's first chunk tag).
 */
CI_MUST_CHECK int ci_shamir_combine(const uint8_t *const *shares, size_t count,
    size_t share_size, uint8_t *secret, struct cinfer_err *e);

#endif
