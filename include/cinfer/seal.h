/*
 * cinfer sealed model bundles (docs/sealed-bundle.md).
 *
 * A bundle is a header (format version, AEAD, chunk size, plaintext size,
 * model digest, key id, the brokers holding the key or its shares with the
 * key version at each, a random salt) followed by AES-256-GCM chunks. The
 * chunk key is HKDF-SHA256(data key, salt, "cinfer bundle v1"); chunk i's
 * nonce is be64(i) || be32(last) and its AAD is SHA-256(header) || be64(i)
 * || last, so tampering, truncation, reordering and splicing between
 * bundles all fail authentication.
 */
#ifndef CINFER_SEAL_H
#define CINFER_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "cinfer/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CINFER_SEAL_VERSION 1
#define CINFER_SEAL_KEY_SIZE 32
#define CINFER_SEAL_SHARE_SIZE 33	/* x, then 32 bytes */
#define CINFER_SEAL_MAX_BROKERS 16
#define CINFER_SEAL_KEY_ID_MAX 64
#define CINFER_SEAL_URL_MAX 512
#define CINFER_SEAL_HEADER_MAX 16384
#define CINFER_SEAL_CHUNK_MIN 1024u
#define CINFER_SEAL_CHUNK_MAX (64u << 20)
#define CINFER_SEAL_CHUNK_DEFAULT (1u << 20)
#define CINFER_SEAL_TAG_SIZE 16

struct cinfer_bundle_broker {
	char url[CINFER_SEAL_URL_MAX + 1];	/* untrusted hint: where the key lives */
	uint32_t key_version;			/* the broker's version of the key/share */
};

struct cinfer_bundle_info {
	uint16_t version;
	uint32_t chunk_size;
	uint64_t plaintext_size;
	uint8_t model_digest[32];		/* SHA-256 of the plaintext model */
	char key_id[CINFER_SEAL_KEY_ID_MAX + 1];	/* [A-Za-z0-9._-]+ */
	uint8_t threshold;			/* 1: whole key at brokers[0]; k: k-of-n shares */
	uint8_t broker_count;
	struct cinfer_bundle_broker brokers[CINFER_SEAL_MAX_BROKERS];
	uint8_t salt[32];
	size_t header_size;			/* bytes before the first chunk */
	uint8_t header_digest[32];		/* SHA-256 of those bytes */
};

/* 1 if s is a valid key id. */
int cinfer_seal_key_id_valid(const char *s);

/* Parses a header from the start of p (p may hold more). */
int cinfer_bundle_parse_header(const void *p, size_t size, struct cinfer_bundle_info *out,
    struct cinfer_err *e) __attribute__((warn_unused_result));
int cinfer_bundle_read_header(const char *path, struct cinfer_bundle_info *out,
    struct cinfer_err *e) __attribute__((warn_unused_result));

/* Progress: bytes done of total; return nonzero to abort. May be NULL. */
typedef int (*cinfer_seal_progress_fn)(uint64_t done, uint64_t total, void *arg);

/*
 * Seals in_path into out_path (written to a temp file, fsynced, renamed).
 * info: the caller fills chunk_size (0: default), key_id, threshold,
 * broker_count and brokers[]; everything else is computed and filled here.
 */
int cinfer_seal_file(const char *in_path, const char *out_path,
    const uint8_t key[CINFER_SEAL_KEY_SIZE], struct cinfer_bundle_info *info,
    cinfer_seal_progress_fn progress, void *arg, struct cinfer_err *e)
    __attribute__((warn_unused_result));

/* A plaintext model in locked, no-dump memory. */
struct cinfer_unsealed {
	const uint8_t *data;
	size_t size;
	void *priv;
};

/*
 * Streams the bundle at path through authentication into locked memory,
 * one chunk at a time, then checks the model digest. On any failure
 * nothing is returned (the partial plaintext is wiped).
 */
int cinfer_unseal_file(const char *path, const uint8_t key[CINFER_SEAL_KEY_SIZE],
    struct cinfer_unsealed *out, struct cinfer_err *e) __attribute__((warn_unused_result));
/* Same over a bundle already in memory. */
int cinfer_unseal_mem(const void *p, size_t size, const uint8_t key[CINFER_SEAL_KEY_SIZE],
    struct cinfer_unsealed *out, struct cinfer_err *e) __attribute__((warn_unused_result));
/* Wipes and unmaps; NULL-safe and idempotent. */
void cinfer_unsealed_free(struct cinfer_unsealed *u);

/* Splits a data key into n shares (k of which recover it). */
int cinfer_seal_split_key(const uint8_t key[CINFER_SEAL_KEY_SIZE], unsigned k, unsigned n,
    uint8_t shares[][CINFER_SEAL_SHARE_SIZE], struct cinfer_err *e)
    __attribute__((warn_unused_result));
/* Combines count shares back into the key (garbage with too few: unseal then fails). */
int cinfer_seal_combine_key(const uint8_t shares[][CINFER_SEAL_SHARE_SIZE], size_t count,
    uint8_t key[CINFER_SEAL_KEY_SIZE], struct cinfer_err *e)
    __attribute__((warn_unused_result));

#ifdef __cplusplus
}
#endif
#endif
