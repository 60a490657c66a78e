/* cinfer: one error type for the whole library. */
#ifndef CINFER_ERR_H
#define CINFER_ERR_H

#ifdef __cplusplus
extern "C" {
#endif

enum cinfer_code {
	CINFER_OK = 0,
	CINFER_E_NOMEM,		/* allocation failed */
	CINFER_E_MALFORMED,	/* input does not parse */
	CINFER_E_LIMIT,		/* parses, but over a cap */
	CINFER_E_CRYPTO,	/* signature, MAC or chain fails */
	CINFER_E_POLICY,	/* genuine, but not acceptable */
	CINFER_E_STALE,		/* collateral, nonce or TCB out of date */
	CINFER_E_IO,		/* file, socket or device */
	CINFER_E_USAGE,		/* caller passed bad arguments */
	CINFER_E_UNSUPPORTED,	/* valid, but not something we handle */
	CINFER_E_INTERNAL,	/* our bug */
	CINFER_CODE_COUNT
};

struct cinfer_err {
	enum cinfer_code code;
	const char *stage;	/* static string, e.g. "evidence.snp.chain" */
	char msg[192];		/* for people; never secret bytes */
};

/* Stable lower-case name of a code ("malformed", "crypto", ...). */
const char *cinfer_code_name(enum cinfer_code code);

/* Clears e so that the next failure is recorded. e may be NULL. */
void cinfer_err_clear(struct cinfer_err *e);

#ifdef __cplusplus
}
#endif
#endif
