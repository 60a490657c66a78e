#include <string.h>

#include "core/ci.h"

static const char hexdig[] = "0123456789abcdef";
static const char b64std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t
ci_hex_size(size_t size)
{
	return size * 2;
}

void
ci_hex_encode(const void *src, size_t size, char *dst)
{
	const uint8_t *s = src;

	for (size_t i = 0; i < size; i++) {
		dst[2 * i] = hexdig[s[i] >> 4];
		dst[2 * i + 1] = hexdig[s[i] & 15];
	}
	dst[2 * size] = '\0';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
ci_hex_decode(const char *src, size_t len, uint8_t *dst, size_t dst_size,
    size_t *out_size, struct cinfer_err *e)
{
	if (len % 2 != 0)
		return ci_fail(e, CINFER_E_MALFORMED, "core.hex",
		    "hex string has odd length %zu", len);
	if (len / 2 > dst_size)
		return ci_fail(e, CINFER_E_LIMIT, "core.hex",
		    "hex string of %zu bytes, at most %zu allowed", len / 2, dst_size);
	for (size_t i = 0; i < len; i += 2) {
		int hi = hexval(src[i]), lo = hexval(src[i + 1]);
		if (hi < 0 || lo < 0)
			return ci_fail(e, CINFER_E_MALFORMED, "core.hex",
			    "not a hex digit at offset %zu", hi < 0 ? i : i + 1);
		dst[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	if (out_size != NULL)
		*out_size = len / 2;
	return 0;
}

size_t
ci_b64_size(size_t size)
{
	return (size + 2) / 3 * 4;
}

static void
b64_encode(const uint8_t *s, size_t size, char *d, const char *alpha, int pad)
{
	size_t i = 0;

	for (; i + 3 <= size; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		*d++ = alpha[v >> 18 & 63];
		*d++ = alpha[v >> 12 & 63];
		*d++ = alpha[v >> 6 & 63];
		*d++ = alpha[v & 63];
	}
	if (size - i == 1) {
		uint32_t v = (uint32_t)s[i] << 16;
		*d++ = alpha[v >> 18 & 63];
		*d++ = alpha[v >> 12 & 63];
		if (pad) {
			*d++ = '=';
			*d++ = '=';
		}
	} else if (size - i == 2) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
		*d++ = alpha[v >> 18 & 63];
		*d++ = alpha[v >> 12 & 63];
		*d++ = alpha[v >> 6 & 63];
		if (pad)
			*d++ = '=';
	}
	*d = '\0';
}

void
ci_b64_encode(const void *src, size_t size, char *dst)
{
	b64_encode(src, size, dst, b64std, 1);
}

void
ci_b64url_encode(const void *src, size_t size, char *dst)
{
	b64_encode(src, size, dst, b64url, 0);
}

static int
b64val(char c, int url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

int
ci_b64_decode(const char *src, size_t len, int url, uint8_t **out,
    size_t *out_size, struct cinfer_err *e)
{
	const char *stage = url ? "core.base64url" : "core.base64";
	uint8_t *d;
	uint32_t acc = 0;
	size_t n = 0, bits = 0, pad = 0;

	*out = NULL;
	*out_size = 0;
	while (len > 0 && src[len - 1] == '=' && pad < 2) {
		len--;
		pad++;
	}
	if (pad != 0 && (len + pad) % 4 != 0)
		return ci_fail(e, CINFER_E_MALFORMED, stage, "bad padding");
	if (len % 4 == 1)
		return ci_fail(e, CINFER_E_MALFORMED, stage, "impossible length %zu", len);
	d = ci_alloc(len / 4 * 3 + 3);
	if (d == NULL)
		return ci_fail(e, CINFER_E_NOMEM, stage, "out of memory");
	for (size_t i = 0; i < len; i++) {
		int v = b64val(src[i], url);
		if (v < 0) {
			ci_free(d);
			return ci_fail(e, CINFER_E_MALFORMED, stage,
			    "bad character at offset %zu", i);
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			d[n++] = (uint8_t)(acc >> bits);
		}
	}
	/* Leftover bits must be zero: one encoding per byte string. */
	if ((acc & ((1u << bits) - 1)) != 0) {
		ci_free(d);
		return ci_fail(e, CINFER_E_MALFORMED, stage, "non-canonical final character");
	}
	*out = d;
	*out_size = n;
	return 0;
}

char *
ci_hex_new(const void *src, size_t size)
{
	char *s = ci_alloc(2 * size + 1);

	if (s != NULL)
		ci_hex_encode(src, size, s);
	return s;
}

char *
ci_b64_new(const void *src, size_t size)
{
	char *s = ci_alloc(ci_b64_size(size) + 1);

	if (s != NULL)
		ci_b64_encode(src, size, s);
	return s;
}

char *
ci_b64url_new(const void *src, size_t size)
{
	char *s = ci_alloc(ci_b64_size(size) + 1);

	if (s != NULL)
		ci_b64url_encode(src, size, s);
	return s;
}
