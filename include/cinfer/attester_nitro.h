/*
 * cinfer attesters for AWS Nitro Enclaves (/dev/nsm) and Arm CCA realms
 * (configfs-tsm).
 */
#ifndef CINFER_ATTESTER_NITRO_H
#define CINFER_ATTESTER_NITRO_H

#include <stddef.h>
#include <stdint.h>

#include "cinfer/err.h"
#include "cinfer/evidence.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CINFER_NSM_DEFAULT_DEV "/dev/nsm"
#define CINFER_NITRO_FIELD_MAX 512	/* user_data and nonce; public_key: 1024 */

/* What the enclave asks the NSM to sign into the document (NULL: absent). */
struct cinfer_nitro_attest_opts {
	const uint8_t *user_data;	/* cinfer binds SHA-512(context||nonce||key): 64 bytes */
	size_t user_data_size;
	const uint8_t *nonce;
	size_t nonce_size;
	const uint8_t *public_key;
	size_t public_key_size;
};

/*
 * Asks the Nitro Security Module for an attestation document (the NSM
 * "Attestation" request over the NSM_IOCTL_RAW ioctl) and returns it as an
 * evidence envelope for platform "nitro". dev NULL: $CINFER_NSM_DEV or
 * /dev/nsm. The returned document must echo user_data, nonce and
 * public_key. ev is initialised here; clear with cinfer_evidence_clear.
 */
int cinfer_nitro_attest(const char *dev, const struct cinfer_nitro_attest_opts *o,
    struct cinfer_evidence *ev, struct cinfer_err *e) __attribute__((warn_unused_result));

/*
 * Asks an Arm CCA realm for its attestation token through configfs-tsm
 * (provider arm_cca_guest), with challenge as the realm challenge, and
 * returns it as an evidence envelope for platform "cca". tsm_root NULL:
 * $CINFER_TSM_ROOT or /sys/kernel/config/tsm/report. The token's realm
 * challenge must equal challenge.
 */
int cinfer_cca_attest(const char *tsm_root, const uint8_t challenge[64],
    struct cinfer_evidence *ev, struct cinfer_err *e) __attribute__((warn_unused_result));

#ifdef __cplusplus
}
#endif
#endif
