#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/ci.h"

static const char *const code_names[] = {
	[CINFER_OK] = "ok",
	[CINFER_E_NOMEM] = "nomem",
	[CINFER_E_MALFORMED] = "malformed",
	[CINFER_E_LIMIT] = "limit",
	[CINFER_E_CRYPTO] = "crypto",
	[CINFER_E_POLICY] = "policy",
	[CINFER_E_STALE] = "stale",
	[CINFER_E_IO] = "io",
	[CINFER_E_USAGE] = "usage",
	[CINFER_E_UNSUPPORTED] = "unsupported",
	[CINFER_E_INTERNAL] = "internal",
};
_Static_assert(sizeof(code_names) / sizeof(code_names[0]) == CINFER_CODE_COUNT,
    "code_names must name every code");

const char *
cinfer_code_name(enum cinfer_code code)
{
	if ((unsigned)code >= CINFER_CODE_COUNT)
		return "unknown";
	return code_names[code];
}

void
cinfer_err_clear(struct cinfer_err *e)
{
	if (e == NULL)
		return;
	e->code = CINFER_OK;
	e->stage = NULL;
	e->msg[0] = '\0';
}

int
ci_fail(struct cinfer_err *e, enum cinfer_code code, const char *stage,
    const char *fmt, ...)
{
	va_list ap;

	if (e == NULL || e->code != CINFER_OK)
		return -1;
	e->code = code;
	e->stage = stage;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	ci_str_mask(e->msg);
	return -1;
}

void
ci_str_mask(char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c >= 0x7f)
			*s = '?';
	}
}
