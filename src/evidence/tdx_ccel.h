/*
 * TDX CC event log (the ACPI CCEL area): TCG PC Client crypto-agile log,
 * first record the SHA-1-format TCG_EfiSpecIDEvent header, then
 * TCG_PCR_EVENT2 records whose index is a CC MR index (1..4 = RTMR0..3).
 * Replay: RTMR = SHA-384(RTMR || digest) for every record but EV_NO_ACTION.
 */
#ifndef CI_TDX_CCEL_H
#define CI_TDX_CCEL_H

#include "core/ci.h"

#define CI_CCEL_EVENTS_MAX 65536
#define CI_CCEL_EVENT_DATA_MAX (1u << 20)

/* Replays log into rtmr (starting from zero); *count gets the records extended. */
CI_MUST_CHECK int ci_tdx_ccel_replay(const uint8_t *log, size_t size, uint8_t rtmr[4][48],
    size_t *count, struct cinfer_err *e);

#endif
