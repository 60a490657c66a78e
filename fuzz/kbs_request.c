/*
 * Fuzz target: every request body and path cinfer-kbs parses (src/kbs/req.c,
 * compiled in here since cinfer-kbs is not part of libcinfer). The first
 * byte picks the parser; the rest is the input.
 */
#include <stdlib.h>
#include <string.h>

#include "kbs/req.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cinfer_err e = { 0 };
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	char *s;

	if (size == 0)
		return 0;
	s = malloc(n + 1);
	if (s == NULL)
		return 0;
	memcpy(s, p, n);
	s[n] = '\0';
	switch (data[0] % 7) {
	case 0: {
		struct kbs_auth_req r;
		if (kbs_req_auth(p, n, &r, &e) != 0)
			break;
		break;
	}
	case 1: {
		struct kbs_attest_req r;
		if (kbs_req_attest(p, n, &r, &e) == 0) {
			uint8_t rd[64];
			cinfer_kbs_report_data(r.nonce, r.runtime_data, strlen(r.runtime_data), rd);
			kbs_attest_req_clear(&r);
		}
		break;
	}
	case 2: {
		struct kbs_rotate_req r;
		if (kbs_req_rotate(p, n, &r, &e) == 0)
			kbs_rotate_req_clear(&r);
		break;
	}
	case 3: {
		struct kbs_revoke_req r;
		if (kbs_req_revoke(p, n, &r, &e) != 0)
			break;
		break;
	}
	case 4: {
		struct kbs_path r;
		if (kbs_req_path(s, &r, &e) != 0)
			break;
		break;
	}
	case 5: {
		char out[96];
		(void)kbs_req_cookie(s, out, sizeof(out));
		break;
	}
	default: {
		uint32_t v;
		if (kbs_req_version_query(s, &v, &e) != 0)
			break;
		break;
	}
	}
	free(s);
	return 0;
}
