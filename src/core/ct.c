#include <openssl/crypto.h>

#include "core/ci.h"

int
ci_ct_eq(const void *a, const void *b, size_t size)
{
	return CRYPTO_memcmp(a, b, size) == 0 ? 0 : -1;
}

int
ci_is_zero(const void *p, size_t size)
{
	const uint8_t *b = p;
	uint8_t acc = 0;

	for (size_t i = 0; i < size; i++)
		acc |= b[i];
	return acc == 0;
}
