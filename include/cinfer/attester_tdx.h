/*
 * cinfer TDX attester: producing evidence inside an Intel TDX guest.
 *
 * Quotes come from configfs-tsm (/sys/kernel/config/tsm/report, Linux
 * 6.7+, provider "tdx_guest"), which asks the host's quoting service.
 * /dev/tdx_guest's TDX_CMD_GET_REPORT0 gives the TDREPORT (a local,
 * MAC-protected report, not verifiable remotely) that a quote generation
 * service turns into a quote; it is exposed for that use and for checks.
 */
#ifndef CINFER_ATTESTER_TDX_H
#define CINFER_ATTESTER_TDX_H

#include <stdint.h>

#include "cinfer/err.h"
#include "cinfer/evidence.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CINFER_TDX_REPORT_DATA_SIZE 64
#define CINFER_TDX_TDREPORT_SIZE 1024
#define CINFER_TDX_DEFAULT_DEVICE "/dev/tdx_guest"

struct cinfer_tdx_attest_opts {
	const char *tsm_root;	/* NULL: $CINFER_TSM_ROOT or the configfs default */
	const char *device;	/* NULL: $CINFER_TDX_DEVICE or /dev/tdx_guest */
};

/*
 * Gets a quote over report_data through configfs-tsm and returns it as an
 * evidence envelope (platform "tdx", evidence = the quote, no collateral:
 * the verifier fetches that). Fails if the provider is not tdx_guest or the
 * quote's REPORTDATA differs from the request (a racing writer).
 * ev is initialised here; clear it with cinfer_evidence_clear.
 */
int cinfer_tdx_attest(const uint8_t report_data[CINFER_TDX_REPORT_DATA_SIZE],
    const struct cinfer_tdx_attest_opts *o, struct cinfer_evidence *ev, struct cinfer_err *e)
    __attribute__((warn_unused_result));

/* The fields of a TDREPORT_STRUCT that matter to callers (views into it). */
struct cinfer_tdx_tdreport {
	uint8_t report_type[4];		/* type 0x81, subtype, version, reserved */
	uint8_t cpusvn[16];
	uint8_t report_data[64];
	uint8_t tee_tcb_svn[16];
	uint8_t mrseam[48];
	uint8_t mrsignerseam[48];
	uint8_t td_attributes[8];
	uint8_t xfam[8];
	uint8_t mrtd[48];
	uint8_t mrconfigid[48];
	uint8_t mrowner[48];
	uint8_t mrownerconfig[48];
	uint8_t rtmr[4][48];
};

/* TDX_CMD_GET_REPORT0 on device (NULL: default): fills the 1024-byte TDREPORT. */
int cinfer_tdx_get_tdreport(const char *device,
    const uint8_t report_data[CINFER_TDX_REPORT_DATA_SIZE],
    uint8_t out[CINFER_TDX_TDREPORT_SIZE], struct cinfer_err *e)
    __attribute__((warn_unused_result));

/* Parses a TDREPORT (TDX module ABI: REPORTMACSTRUCT, TEE_TCB_INFO, TDINFO). */
int cinfer_tdx_tdreport_parse(const uint8_t *p, size_t size, struct cinfer_tdx_tdreport *out,
    struct cinfer_err *e) __attribute__((warn_unused_result));

#ifdef __cplusplus
}
#endif
#endif
