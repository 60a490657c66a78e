#include <string.h>

#include "crypto/crypto.h"
#include "crypto/shamir.h"

#define STAGE "crypto.shamir"

/* Carry-less multiply modulo x^8+x^4+x^3+x+1, with masks instead of branches. */
static uint8_t
gf_mul(uint8_t a, uint8_t b)
{
	uint8_t r = 0;

	for (int i = 0; i < 8; i++) {
		r ^= (uint8_t)(-(b & 1) & a);
		/* a *= x: if the top bit was set, reduce by 0x1b. */
		a = (uint8_t)((a << 1) ^ (-(a >> 7) & 0x1b));
		b >>= 1;
	}
	return r;
}

/* a^254 = a^-1 (and 0 -> 0), by a fixed square-and-multiply chain. */
static uint8_t
gf_inv(uint8_t a)
{
	uint8_t r, sq = a;

	/* 254 = 0b11111110: r = a^2 * a^4 * ... * a^128. */
	r = 1;
	for (int i = 1; i < 8; i++) {
		sq = gf_mul(sq, sq);
		r = gf_mul(r, sq);
	}
	return r;
}

int
ci_shamir_split(const uint8_t *secret, size_t size, unsigned k, unsigned n,
    uint8_t *const *shares, struct cinfer_err *e)
{
	uint8_t coef[CI_SHAMIR_MAX_SHARES];
	int rc = -1;

	if (k < 2 || k > n || n > CI_SHAMIR_MAX_SHARES || size == 0)
		return ci_fail(e, CINFER_E_USAGE, STAGE, "need 2 <= k <= n <= %d (k=%u n=%u)",
		    CI_SHAMIR_MAX_SHARES, k, n);
	for (unsigned i = 0; i < n; i++)
		shares[i][0] = (uint8_t)(i + 1);
	for (size_t b = 0; b < size; b++) {
		coef[0] = secret[b];
		if (ci_random(coef + 1, k - 1, e) != 0)
			goto out;
		for (unsigned i = 0; i < n; i++) {
			uint8_t x = (uint8_t)(i + 1), y = 0;
			/* Horner: y = (((c[k-1] x + c[k-2]) x + ...) x + c[0]. */
			for (unsigned j = k; j-- > 0;)
				y = (uint8_t)(gf_mul(y, x) ^ coef[j]);
			shares[i][1 + b] = y;
		}
	}
	rc = 0;
out:
	ci_wipe(coef, sizeof(coef));
	return rc;
}

int
ci_shamir_combine(const uint8_t *const *shares, size_t count, size_t share_size,
    uint8_t *secret, struct cinfer_err *e)
{
	uint8_t lag[CI_SHAMIR_MAX_SHARES];

	if (count < 2 || count > CI_SHAMIR_MAX_SHARES || share_size < 2)
		return ci_fail(e, CINFER_E_USAGE, STAGE, "combine needs 2..%d shares",
		    CI_SHAMIR_MAX_SHARES);
	for (size_t i = 0; i < count; i++) {
		if (shares[i][0] == 0)
			return ci_fail(e, CINFER_E_MALFORMED, STAGE, "share with x = 0");
		for (size_t j = 0; j < i; j++)
			if (shares[i][0] == shares[j][0])
				return ci_fail(e, CINFER_E_MALFORMED, STAGE,
				    "two shares with x = %u", shares[i][0]);
	}
	/* Lagrange basis at 0: l_i = prod_{j != i} x_j / (x_j - x_i); minus is xor. */
	for (size_t i = 0; i < count; i++) {
		uint8_t num = 1, den = 1;
		for (size_t j = 0; j < count; j++) {
			if (j == i)
				continue;
			num = gf_mul(num, shares[j][0]);
			den = gf_mul(den, (uint8_t)(shares[j][0] ^ shares[i][0]));
		}
		lag[i] = gf_mul(num, gf_inv(den));
	}
	for (size_t b = 0; b + 1 < share_size; b++) {
		uint8_t s = 0;
		for (size_t i = 0; i < count; i++)
			s ^= gf_mul(shares[i][1 + b], lag[i]);
		secret[b] = s;
	}
	return 0;
}
