/*
 * configfs-tsm: the kernel's common report interface for SNP, TDX and CCA
 * guests (Documentation/ABI/testing/configfs-tsm). One entry directory per
 * request: write inblob (64 bytes of report_data), read outblob (the
 * report or quote) and auxblob (SNP certificate table), and check that
 * generation did not move under us (another writer raced the entry).
 */
#ifndef CI_TSM_H
#define CI_TSM_H

#include "core/ci.h"

#define CI_TSM_DEFAULT_ROOT "/sys/kernel/config/tsm/report"
#define CI_TSM_OUT_MAX (1u << 20)

struct ci_tsm_report {
	char provider[32];	/* "sev_guest", "tdx_guest", "arm_cca_guest"... */
	uint8_t *outblob;	/* new (ci_free) */
	size_t outblob_size;
	uint8_t *auxblob;	/* new, may be NULL */
	size_t auxblob_size;
};

/* root NULL: CI_TSM_DEFAULT_ROOT or $CINFER_TSM_ROOT. privlevel < 0: leave unset. */
CI_MUST_CHECK int ci_tsm_get_report(const char *root, const uint8_t inblob[64],
    int privlevel, struct ci_tsm_report *out, struct cinfer_err *e);
void ci_tsm_report_clear(struct ci_tsm_report *r);
/* 1 if the configfs-tsm report directory exists. */
int ci_tsm_available(const char *root);
/* The provider behind configfs-tsm ("sev_guest", "tdx_guest",
 * "arm_cca_guest"...): makes an entry, reads provider, removes it. */
CI_MUST_CHECK int ci_tsm_provider(const char *root, char *buf, size_t size,
    struct cinfer_err *e);

#endif
