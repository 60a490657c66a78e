/* Internal contract between the evidence dispatcher and each platform. */
#ifndef CI_EVIDENCE_INT_H
#define CI_EVIDENCE_INT_H

#include "cinfer/evidence.h"
#include "core/ci.h"

/*
 * A platform verifier: checks authenticity of ev at time `at` (Unix
 * seconds, never 0 here) and fills claims (already initialised for its
 * platform). Returns 0 or -1 with e set. It never judges policy.
 */
typedef int (*ci_evidence_verify_fn)(const struct cinfer_evidence *ev,
    const struct cinfer_verify_opts *opts, int64_t at, struct cinfer_claims *claims,
    struct cinfer_err *e);

int ci_sim_verify(const struct cinfer_evidence *ev, const struct cinfer_verify_opts *opts,
    int64_t at, struct cinfer_claims *claims, struct cinfer_err *e);

/* The primary launch measurement of evidence, parsed but not verified (peek.c). */
CI_MUST_CHECK int ci_evidence_peek_measurement(const struct cinfer_evidence *ev, uint8_t *out,
    size_t cap, size_t *size, struct cinfer_err *e);

/* Directory holding vendor roots: opts->roots_dir, $CINFER_ROOTS, or the data dir. */
const char *ci_roots_dir(const struct cinfer_verify_opts *opts, char *buf, size_t size);

#endif
