/* cinfer attesters: producing evidence inside a TEE (or the simulator). */
#ifndef CINFER_ATTESTER_H
#define CINFER_ATTESTER_H

#include <stdint.h>

#include "cinfer/err.h"
#include "cinfer/evidence.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CINFER_SIM_MEASUREMENT_SIZE 48

/* Options of `cinfer dev init`. */
struct cinfer_sim_init_opts {
	int force;		/* overwrite an existing directory's keys */
	int rsa_bits;		/* ARK and ASK key size; 0: 4096 like AMD's */
	int64_t now;		/* 0: current time (certificate validity starts here) */
	uint8_t tcb_bl, tcb_tee, tcb_snp, tcb_ucode;	/* 0s: defaults 3, 0, 8, 115 */
};

/*
 * Makes a development root of trust in dir: ark.pem, ask.pem (RSA, RSA-PSS
 * signatures, like AMD's), vcek.pem (P-384, AMD TCB and hwID extensions),
 * vcek.key (0600) and chip.json. Every subject says SIMULATED.
 */
int cinfer_sim_dev_init(const char *dir, const struct cinfer_sim_init_opts *o,
    struct cinfer_err *e);

/*
 * The simulated launch measurement:
 * SHA-384("cinfer sim launch v1" || 0 || le64(len) || program || le64(len) || config).
 * config may be NULL (empty).
 */
int cinfer_sim_measure(const char *program_path, const char *config_path,
    uint8_t out[CINFER_SIM_MEASUREMENT_SIZE], struct cinfer_err *e);

struct cinfer_sim_attest_opts {
	const uint8_t *measurement;	/* 48 bytes; NULL: all zero */
	const uint8_t *host_data;	/* 32 bytes; NULL: all zero */
	int debug;			/* set the DEBUG guest policy bit */
	uint32_t guest_svn;
	uint32_t vmpl;
};

/*
 * Emits an SEV-SNP v3-layout report signed by the simulated chip key, as
 * an evidence envelope carrying the VCEK and ASK (never the ARK: verifiers
 * pin that). ev is initialised here; clear it with cinfer_evidence_clear.
 */
int cinfer_sim_attest(const char *dir, const uint8_t report_data[64],
    const struct cinfer_sim_attest_opts *o, struct cinfer_evidence *ev,
    struct cinfer_err *e);

#ifdef __cplusplus
}
#endif
#endif
