/*
 * Strict CBOR walking, COSE_Sign1 parsing, signing and verification, and
 * EC public key loading (SEC1 point, COSE_Key, JWK, PEM/DER).
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

#include "core/json.h"
#include "crypto/cose.h"
#include "crypto/crypto.h"

#define STAGE_KEY "crypto.key"

/* ---- the strict walker ---------------------------------------------------- */

struct walk {
	size_t items, max_items;
	unsigned max_depth;
	int allow_tag;
	const char *stage;
	struct cinfer_err *e;
};

/* A map key, decoded enough to compare: ints by value, text by content. */
struct walk_key {
	unsigned major;
	uint64_t val;		/* int argument, or text length */
	const uint8_t *text;
};

static int
rd_head(struct ci_rd *r, unsigned *major, unsigned *ai, uint64_t *val)
{
	uint8_t ib = 0, b8 = 0;
	uint16_t b16 = 0;
	uint32_t b32 = 0;

	if (ci_rd_u8(r, &ib) != 0)
		return -1;
	*major = ib >> 5;
	*ai = ib & 31;
	switch (*ai) {
	case 24:
		if (ci_rd_u8(r, &b8) != 0)
			return -1;
		*val = b8;
		return 0;
	case 25:
		if (ci_rd_u16be(r, &b16) != 0)
			return -1;
		*val = b16;
		return 0;
	case 26:
		if (ci_rd_u32be(r, &b32) != 0)
			return -1;
		*val = b32;
		return 0;
	case 27:
		return ci_rd_u64be(r, val);
	default:
		if (*ai >= 28)
			return -2;	/* reserved (28-30) or indefinite/break (31) */
		*val = *ai;
		return 0;
	}
}

static int
utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = s[i];
		uint32_t cp;
		size_t len;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (len > n - i)
			return 0;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

static int
walk_item(struct walk *w, struct ci_rd *r, unsigned depth, struct walk_key *key);

static int
walk_map(struct walk *w, struct ci_rd *r, unsigned depth, uint64_t pairs)
{
	struct walk_key *keys;
	int rc = -1;

	if (pairs > CI_CBOR_MAP_PAIRS_MAX)
		return ci_fail(w->e, CINFER_E_LIMIT, w->stage, "CBOR map of %llu pairs is over the "
		    "limit of %d", (unsigned long long)pairs, CI_CBOR_MAP_PAIRS_MAX);
	if (pairs > r->left / 2)
		return ci_fail(w->e, CINFER_E_MALFORMED, w->stage, "CBOR map overruns its input");
	if (pairs == 0)
		return 0;
	keys = ci_calloc((size_t)pairs, sizeof(*keys));
	if (keys == NULL)
		return ci_fail(w->e, CINFER_E_NOMEM, w->stage, "out of memory");
	for (uint64_t i = 0; i < pairs; i++) {
		struct walk_key *k = &keys[i];
		if (walk_item(w, r, depth + 1, k) != 0)
			goto out;
		if (k->major != 0 && k->major != 1 && k->major != 3) {
			ci_fail(w->e, CINFER_E_MALFORMED, w->stage,
			    "CBOR map key must be an integer or a text string");
			goto out;
		}
		for (uint64_t j = 0; j < i; j++)
			if (keys[j].major == k->major && keys[j].val == k->val &&
			    (k->major != 3 || memcmp(keys[j].text, k->text, k->val) == 0)) { /* public */
				ci_fail(w->e, CINFER_E_MALFORMED, w->stage, "duplicate CBOR map key");
				goto out;
			}
		if (walk_item(w, r, depth + 1, NULL) != 0)
			goto out;
	}
	rc = 0;
out:
	ci_free(keys);
	return rc;
}

static int
walk_item(struct walk *w, struct ci_rd *r, unsigned depth, struct walk_key *key)
{
	unsigned major = 0, ai = 0;
	uint64_t val = 0;
	const uint8_t *data;
	int hr;

	if (++w->items > w->max_items)
		return ci_fail(w->e, CINFER_E_LIMIT, w->stage, "more than %zu CBOR items",
		    w->max_items);
	if (depth > w->max_depth)
		return ci_fail(w->e, CINFER_E_LIMIT, w->stage, "CBOR nested deeper than %u",
		    w->max_depth);
	hr = rd_head(r, &major, &ai, &val);
	if (hr == -2)
		return ci_fail(w->e, CINFER_E_MALFORMED, w->stage, ai == 31 ?
		    "indefinite-length CBOR item (only definite lengths are allowed)" :
		    "reserved CBOR additional information %u", ai);
	if (hr != 0)
		return ci_fail(w->e, CINFER_E_MALFORMED, w->stage, "truncated CBOR item");
	if (key != NULL) {
		key->major = major;
		key->val = val;
		key->text = r->p;
	}
	switch (major) {
	case 0:
	case 1:
		return 0;
	case 2:
	case 3:
		if (val > r->left)
			return ci_fail(w->e, CINFER_E_MALFORMED, w->stage,
			    "CBOR string of %llu bytes overruns its input", (unsigned long long)val);
		if (ci_rd_bytes(r, (size_t)val, &data) != 0)
			return ci_fail(w->e, CINFER_E_MALFORMED, w->stage, "truncated CBOR string");
		if (major == 3 && !utf8_valid(data, (size_t)val))
			return ci_fail(w->e, CINFER_E_MALFORMED, w->stage, "CBOR text is not UTF-8");
		return 0;
	case 4:
		if (val > r->left)
			return ci_fail(w->e, CINFER_E_MALFORMED, w->stage, "CBOR array overruns its input");
		for (uint64_t i = 0; i < val; i++)
			if (walk_item(w, r, depth + 1, NULL) != 0)
				return -1;
		return 0;
	case 5:
		return walk_map(w, r, depth, val);
	case 6:
		if (!w->allow_tag || depth != 0)
			return ci_fail(w->e, CINFER_E_MALFORMED, w->stage,
			    "unexpected CBOR tag %llu", (unsigned long long)val);
		w->allow_tag = 0;
		return walk_item(w, r, depth + 1, NULL);
	default:	/* 7: only false, true, null */
		if (ai < 20 || ai > 22)
			return ci_fail(w->e, CINFER_E_MALFORMED, w->stage,
			    "unexpected CBOR simple value or float (additional information %u)", ai);
		return 0;
	}
}

int
ci_cbor_check(const uint8_t *p, size_t size, const struct ci_cbor_limits *lim,
    const char *stage, struct cinfer_err *e)
{
	struct walk w = { 0 };
	struct ci_rd r;

	w.max_depth = lim != NULL && lim->max_depth != 0 ? lim->max_depth : CI_CBOR_DEPTH_MAX;
	w.max_items = lim != NULL && lim->max_items != 0 ? lim->max_items : CI_CBOR_ITEMS_MAX;
	w.allow_tag = lim != NULL && lim->allow_tag;
	w.stage = stage;
	w.e = e;
	if (size == 0)
		return ci_fail(e, CINFER_E_MALFORMED, stage, "empty CBOR input");
	ci_rd_init(&r, p, size);
	if (walk_item(&w, &r, 0, NULL) != 0)
		return -1;
	if (r.left != 0)
		return ci_fail(e, CINFER_E_MALFORMED, stage, "%zu bytes after the CBOR item", r.left);
	return 0;
}

int
ci_cbor_decode(const uint8_t *p, size_t size, const struct ci_cbor_limits *lim, uint64_t *tag,
    cbor_item_t **out, const char *stage, struct cinfer_err *e)
{
	struct cbor_load_result res;
	cbor_item_t *it;

	*out = NULL;
	if (tag != NULL)
		*tag = UINT64_MAX;
	if (ci_cbor_check(p, size, lim, stage, e) != 0)
		return -1;
	/*
	 * Strip a top-level tag here: libcbor 0.8 refuses the one-byte tags
	 * 6..20 (0xc6..0xd4), COSE_Sign1's 18 among them. The walker has
	 * already checked that nothing else is tagged.
	 */
	if ((p[0] >> 5) == 6) {
		struct ci_rd r;
		unsigned major = 0, ai = 0;
		uint64_t v = 0;
		ci_rd_init(&r, p, size);
		if (rd_head(&r, &major, &ai, &v) != 0)
			return ci_fail(e, CINFER_E_INTERNAL, stage, "tag head vanished");
		if (tag != NULL)
			*tag = v;
		p = r.p;
		size = r.left;
	}
	memset(&res, 0, sizeof(res));
	it = cbor_load(p, size, &res);
	if (it == NULL || res.error.code != CBOR_ERR_NONE || res.read != size) {
		if (it != NULL)
			cbor_decref(&it);
		if (res.error.code == CBOR_ERR_MEMERROR)
			return ci_fail(e, CINFER_E_NOMEM, stage, "out of memory");
		return ci_fail(e, CINFER_E_MALFORMED, stage, "CBOR does not decode (libcbor error %d)",
		    (int)res.error.code);
	}
	*out = it;
	return 0;
}

cbor_item_t *
ci_cbor_map_int(const cbor_item_t *map, int64_t key)
{
	struct cbor_pair *pairs;
	size_t n;

	if (map == NULL || !cbor_isa_map(map))
		return NULL;
	pairs = cbor_map_handle(map);
	n = cbor_map_size(map);
	for (size_t i = 0; i < n; i++) {
		cbor_item_t *k = pairs[i].key;
		uint64_t v;
		if (!cbor_isa_uint(k) && !cbor_isa_negint(k))
			continue;
		v = cbor_get_int(k);
		if (key >= 0 && cbor_isa_uint(k) && v == (uint64_t)key)
			return pairs[i].value;
		if (key < 0 && cbor_isa_negint(k) && v == (uint64_t)(-(key + 1)))
			return pairs[i].value;
	}
	return NULL;
}

cbor_item_t *
ci_cbor_map_text(const cbor_item_t *map, const char *key)
{
	struct cbor_pair *pairs;
	size_t n, klen = strlen(key);

	if (map == NULL || !cbor_isa_map(map))
		return NULL;
	pairs = cbor_map_handle(map);
	n = cbor_map_size(map);
	for (size_t i = 0; i < n; i++) {
		cbor_item_t *k = pairs[i].key;
		if (cbor_isa_string(k) && cbor_string_length(k) == klen &&
		    memcmp(cbor_string_handle(k), key, klen) == 0)	/* public */
			return pairs[i].value;
	}
	return NULL;
}

int
ci_cbor_get_uint(const cbor_item_t *it, const char *what, uint64_t *v, const char *stage,
    struct cinfer_err *e)
{
	*v = 0;
	if (it == NULL)
		return ci_fail(e, CINFER_E_MALFORMED, stage, "%s is missing", what);
	if (!cbor_isa_uint(it))
		return ci_fail(e, CINFER_E_MALFORMED, stage, "%s must be an unsigned integer", what);
	*v = cbor_get_int(it);
	return 0;
}

int
ci_cbor_get_int(const cbor_item_t *it, const char *what, int64_t *v, const char *stage,
    struct cinfer_err *e)
{
	uint64_t u;

	*v = 0;
	if (it == NULL)
		return ci_fail(e, CINFER_E_MALFORMED, stage, "%s is missing", what);
	if (!cbor_isa_uint(it) && !cbor_isa_negint(it))
		return ci_fail(e, CINFER_E_MALFORMED, stage, "%s must be an integer", what);
	u = cbor_get_int(it);
	if (u > INT64_MAX)
		return ci_fail(e, CINFER_E_LIMIT, stage, "%s is out of range", what);
	*v = cbor_isa_uint(it) ? (int64_t)u : -(int64_t)u - 1;
	return 0;
}

int
ci_cbor_get_bytes(const cbor_item_t *it, const char *what, size_t min, size_t max,
    const uint8_t **p, size_t *size, const char *stage, struct cinfer_err *e)
{
	size_t n;

	*p = NULL;
	*size = 0;
	if (it == NULL)
		return ci_fail(e, CINFER_E_MALFORMED, stage, "%s is missing", what);
	if (!cbor_isa_bytestring(it) || !cbor_bytestring_is_definite(it))
		return ci_fail(e, CINFER_E_MALFORMED, stage, "%s must be a byte string", what);
	n = cbor_bytestring_length(it);
	if (n < min || n > max)
		return ci_fail(e, n > max ? CINFER_E_LIMIT : CINFER_E_MALFORMED, stage,
		    "%s has %zu bytes (expected %zu..%zu)", what, n, min, max);
	*p = n > 0 ? cbor_bytestring_handle(it) : (const uint8_t *)"";
	*size = n;
	return 0;
}

int
ci_cbor_get_text(const cbor_item_t *it, const char *what, char *dst, size_t dst_size,
    const char *stage, struct cinfer_err *e)
{
	size_t n;

	dst[0] = '\0';
	if (it == NULL)
		return ci_fail(e, CINFER_E_MALFORMED, stage, "%s is missing", what);
	if (!cbor_isa_string(it) || !cbor_string_is_definite(it))
		return ci_fail(e, CINFER_E_MALFORMED, stage, "%s must be a text string", what);
	n = cbor_string_length(it);
	if (n == 0 || n >= dst_size)
		return ci_fail(e, n == 0 ? CINFER_E_MALFORMED : CINFER_E_LIMIT, stage,
		    "%s has %zu bytes (expected 1..%zu)", what, n, dst_size - 1);
	if (memchr(cbor_string_handle(it), 0, n) != NULL)
		return ci_fail(e, CINFER_E_MALFORMED, stage, "%s contains a NUL byte", what);
	memcpy(dst, cbor_string_handle(it), n);
	dst[n] = '\0';
	return 0;
}

int
ci_cbor_is_null(const cbor_item_t *it)
{
	return it != NULL && cbor_is_null(it);
}

/* ---- writer ----------------------------------------------------------------- */

void
ci_cbor_w_init(struct ci_cbor_w *w, size_t max)
{
	memset(w, 0, sizeof(*w));
	w->max = max;
}

void
ci_cbor_w_raw(struct ci_cbor_w *w, const void *p, size_t size)
{
	if (w->bad)
		return;
	if (size > w->max - w->size) {
		w->bad = 2;
		return;
	}
	if (w->size + size > w->cap) {
		size_t cap = w->cap ? w->cap : 256;
		uint8_t *np;
		while (cap < w->size + size)
			cap = cap > w->max / 2 ? w->max : cap * 2;
		np = ci_realloc(w->p, cap);
		if (np == NULL) {
			w->bad = 1;
			return;
		}
		w->p = np;
		w->cap = cap;
	}
	if (size > 0)
		memcpy(w->p + w->size, p, size);
	w->size += size;
}

void
ci_cbor_w_head(struct ci_cbor_w *w, unsigned major, uint64_t v)
{
	uint8_t b[9];
	size_t n;

	b[0] = (uint8_t)(major << 5);
	if (v < 24) {
		b[0] |= (uint8_t)v;
		n = 1;
	} else if (v <= 0xff) {
		b[0] |= 24;
		b[1] = (uint8_t)v;
		n = 2;
	} else if (v <= 0xffff) {
		b[0] |= 25;
		b[1] = (uint8_t)(v >> 8);
		b[2] = (uint8_t)v;
		n = 3;
	} else if (v <= 0xffffffffu) {
		b[0] |= 26;
		for (int i = 0; i < 4; i++)
			b[1 + i] = (uint8_t)(v >> (24 - 8 * i));
		n = 5;
	} else {
		b[0] |= 27;
		for (int i = 0; i < 8; i++)
			b[1 + i] = (uint8_t)(v >> (56 - 8 * i));
		n = 9;
	}
	ci_cbor_w_raw(w, b, n);
}

void
ci_cbor_w_int(struct ci_cbor_w *w, int64_t v)
{
	if (v >= 0)
		ci_cbor_w_head(w, 0, (uint64_t)v);
	else
		ci_cbor_w_head(w, 1, (uint64_t)(-(v + 1)));
}

void
ci_cbor_w_bytes(struct ci_cbor_w *w, const void *p, size_t size)
{
	ci_cbor_w_head(w, 2, size);
	ci_cbor_w_raw(w, p, size);
}

void
ci_cbor_w_text(struct ci_cbor_w *w, const char *s)
{
	size_t n = strlen(s);

	ci_cbor_w_head(w, 3, n);
	ci_cbor_w_raw(w, s, n);
}

int
ci_cbor_w_finish(struct ci_cbor_w *w, uint8_t **out, size_t *size, const char *stage,
    struct cinfer_err *e)
{
	int bad = w->bad;

	*out = NULL;
	*size = 0;
	if (bad) {
		ci_cbor_w_clear(w);
		return ci_fail(e, bad == 1 ? CINFER_E_NOMEM : CINFER_E_LIMIT, stage,
		    bad == 1 ? "out of memory" : "CBOR output over its size limit");
	}
	if (w->p == NULL) {
		w->p = ci_alloc(1);
		if (w->p == NULL)
			return ci_fail(e, CINFER_E_NOMEM, stage, "out of memory");
	}
	*out = w->p;
	*size = w->size;
	memset(w, 0, sizeof(*w));
	return 0;
}

void
ci_cbor_w_clear(struct ci_cbor_w *w)
{
	ci_free(w->p);
	memset(w, 0, sizeof(*w));
}

/* ---- COSE_Sign1 ------------------------------------------------------------- */

const char *
ci_cose_alg_name(int64_t alg)
{
	switch (alg) {
	case CI_COSE_ALG_NONE:
		return "none";
	case CI_COSE_ES256:
		return "ES256";
	case CI_COSE_ES384:
		return "ES384";
	case CI_COSE_ES512:
		return "ES512";
	default:
		return "unknown";
	}
}

static int
parse_protected(struct ci_cose_sign1 *m, const char *stage, struct cinfer_err *e)
{
	static const struct ci_cbor_limits lim = { 4, 64, 0 };
	cbor_item_t *hdr = NULL, *v;
	int rc = -1;

	m->alg = CI_COSE_ALG_NONE;
	if (m->protected_size == 0)
		return 0;	/* empty bstr: no protected header */
	if (ci_cbor_decode(m->protected_hdr, m->protected_size, &lim, NULL, &hdr, stage, e) != 0)
		return -1;
	if (!cbor_isa_map(hdr)) {
		ci_fail(e, CINFER_E_MALFORMED, stage, "COSE protected header is not a map");
		goto out;
	}
	if (ci_cbor_map_int(hdr, 2) != NULL) {
		ci_fail(e, CINFER_E_UNSUPPORTED, stage, "COSE \"crit\" header is not supported");
		goto out;
	}
	v = ci_cbor_map_int(hdr, 1);
	if (v != NULL) {
		if (ci_cbor_get_int(v, "COSE alg", &m->alg, stage, e) != 0)
			goto out;
		if (m->alg != CI_COSE_ES256 && m->alg != CI_COSE_ES384 && m->alg != CI_COSE_ES512) {
			ci_fail(e, CINFER_E_UNSUPPORTED, stage, "COSE alg %lld is not ES256/ES384/ES512",
			    (long long)m->alg);
			goto out;
		}
	}
	rc = 0;
out:
	cbor_decref(&hdr);
	return rc;
}

int
ci_cose_sign1_parse(struct ci_cose_sign1 *m, const uint8_t *p, size_t size, const char *stage,
    struct cinfer_err *e)
{
	static const struct ci_cbor_limits lim = { CI_CBOR_DEPTH_MAX, CI_CBOR_ITEMS_MAX, 1 };
	cbor_item_t **a;
	uint64_t tag = UINT64_MAX;
	int rc = -1;

	memset(m, 0, sizeof(*m));
	if (size > CI_COSE_SIZE_MAX)
		return ci_fail(e, CINFER_E_LIMIT, stage, "COSE_Sign1 of %zu bytes is over the limit "
		    "of %u", size, CI_COSE_SIZE_MAX);
	if (ci_cbor_decode(p, size, &lim, &tag, &m->root, stage, e) != 0)
		return -1;
	if (tag != UINT64_MAX && tag != CI_COSE_TAG_SIGN1) {
		ci_fail(e, CINFER_E_MALFORMED, stage, "CBOR tag %llu where COSE_Sign1 (18) was "
		    "expected", (unsigned long long)tag);
		goto out;
	}
	m->tagged = tag == CI_COSE_TAG_SIGN1;
	if (!cbor_isa_array(m->root) || cbor_array_size(m->root) != 4) {
		ci_fail(e, CINFER_E_MALFORMED, stage, "COSE_Sign1 must be an array of 4 items");
		goto out;
	}
	a = cbor_array_handle(m->root);
	if (ci_cbor_get_bytes(a[0], "COSE protected header", 0, 4096, &m->protected_hdr,
		&m->protected_size, stage, e) != 0)
		goto out;
	if (!cbor_isa_map(a[1])) {
		ci_fail(e, CINFER_E_MALFORMED, stage, "COSE unprotected header is not a map");
		goto out;
	}
	if (ci_cbor_map_int(a[1], 1) != NULL || ci_cbor_map_int(a[1], 2) != NULL) {
		ci_fail(e, CINFER_E_MALFORMED, stage,
		    "COSE alg or crit in the unprotected header (must be protected)");
		goto out;
	}
	if (ci_cbor_is_null(a[2])) {
		ci_fail(e, CINFER_E_UNSUPPORTED, stage, "detached COSE payload");
		goto out;
	}
	if (ci_cbor_get_bytes(a[2], "COSE payload", 0, CI_COSE_SIZE_MAX, &m->payload,
		&m->payload_size, stage, e) != 0 ||
	    ci_cbor_get_bytes(a[3], "COSE signature", 0, 1024, &m->sig, &m->sig_size, stage, e) != 0)
		goto out;
	if (parse_protected(m, stage, e) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		ci_cose_sign1_clear(m);
	return rc;
}

void
ci_cose_sign1_clear(struct ci_cose_sign1 *m)
{
	if (m->root != NULL)
		cbor_decref(&m->root);
	memset(m, 0, sizeof(*m));
}

int
ci_cose_sig_structure(const uint8_t *prot, size_t prot_size, const uint8_t *payload,
    size_t payload_size, uint8_t **out, size_t *out_size, const char *stage,
    struct cinfer_err *e)
{
	struct ci_cbor_w w;

	ci_cbor_w_init(&w, CI_COSE_SIZE_MAX + 8192);
	ci_cbor_w_head(&w, 4, 4);
	ci_cbor_w_text(&w, "Signature1");
	ci_cbor_w_bytes(&w, prot, prot_size);
	ci_cbor_w_bytes(&w, NULL, 0);
	ci_cbor_w_bytes(&w, payload, payload_size);
	return ci_cbor_w_finish(&w, out, out_size, stage, e);
}

struct alg_info {
	int64_t alg;
	const char *group;	/* OpenSSL group name */
	size_t comp;		/* bytes of r and of s */
	const EVP_MD *(*md)(void);
};

static const struct alg_info algs[] = {
	{ CI_COSE_ES256, "prime256v1", 32, EVP_sha256 },
	{ CI_COSE_ES384, "secp384r1", 48, EVP_sha384 },
	{ CI_COSE_ES512, "secp521r1", 66, EVP_sha512 },
};

static const struct alg_info *
alg_lookup(int64_t alg)
{
	for (size_t i = 0; i < CI_ARRAY_LEN(algs); i++)
		if (algs[i].alg == alg)
			return &algs[i];
	return NULL;
}

int64_t
ci_cose_alg_for_key(EVP_PKEY *pk)
{
	char group[64];
	size_t n = 0;

	if (pk == NULL || EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC ||
	    EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
		&n) != 1)
		return CI_COSE_ALG_NONE;
	for (size_t i = 0; i < CI_ARRAY_LEN(algs); i++)
		if (strcmp(group, algs[i].group) == 0)	/* public */
			return algs[i].alg;
	return CI_COSE_ALG_NONE;
}

int
ci_cose_sign1_verify(const struct ci_cose_sign1 *m, EVP_PKEY *pub, const char *stage,
    struct cinfer_err *e)
{
	const struct alg_info *ai = alg_lookup(m->alg);
	uint8_t *tbs = NULL;
	size_t tbs_size = 0;
	int rc;

	if (ai == NULL)
		return ci_fail(e, CINFER_E_CRYPTO, stage, "COSE_Sign1 names no supported algorithm "
		    "(alg %s)", ci_cose_alg_name(m->alg));
	if (ci_cose_alg_for_key(pub) != m->alg)
		return ci_fail(e, CINFER_E_CRYPTO, stage, "COSE alg %s does not match the key's curve",
		    ci_cose_alg_name(m->alg));
	if (m->sig_size != 2 * ai->comp)
		return ci_fail(e, CINFER_E_CRYPTO, stage, "%s signature has %zu bytes, expected %zu",
		    ci_cose_alg_name(m->alg), m->sig_size, 2 * ai->comp);
	if (ci_cose_sig_structure(m->protected_hdr, m->protected_size, m->payload,
		m->payload_size, &tbs, &tbs_size, stage, e) != 0)
		return -1;
	rc = ci_ecdsa_verify_raw(pub, ai->md(), tbs, tbs_size, m->sig, m->sig + ai->comp, ai->comp,
	    stage, e);
	ci_free(tbs);
	return rc;
}

int
ci_cose_sign1_make(EVP_PKEY *key, int tag, const uint8_t *payload, size_t payload_size,
    uint8_t **out, size_t *out_size, struct cinfer_err *e)
{
	const char *stage = "crypto.cose.sign";
	const struct alg_info *ai = alg_lookup(ci_cose_alg_for_key(key));
	uint8_t prot[4], *tbs = NULL, sig[132];
	size_t tbs_size = 0;
	struct ci_cbor_w w;
	int rc = -1;

	*out = NULL;
	*out_size = 0;
	if (ai == NULL)
		return ci_fail(e, CINFER_E_USAGE, stage, "signing key is not P-256, P-384 or P-521");
	/* {1: alg}: a1 01 38 xx (the algs here are all one-byte negative ints) */
	prot[0] = 0xa1;
	prot[1] = 0x01;
	prot[2] = 0x38;
	prot[3] = (uint8_t)(-(ai->alg + 1));
	if (ci_cose_sig_structure(prot, sizeof(prot), payload, payload_size, &tbs, &tbs_size,
		stage, e) != 0)
		return -1;
	if (ci_ecdsa_sign_raw(key, ai->md(), tbs, tbs_size, sig, sig + ai->comp, ai->comp, e) != 0)
		goto out;
	ci_cbor_w_init(&w, CI_COSE_SIZE_MAX + 8192);
	if (tag)
		ci_cbor_w_head(&w, 6, CI_COSE_TAG_SIGN1);
	ci_cbor_w_head(&w, 4, 4);
	ci_cbor_w_bytes(&w, prot, sizeof(prot));
	ci_cbor_w_head(&w, 5, 0);
	ci_cbor_w_bytes(&w, payload, payload_size);
	ci_cbor_w_bytes(&w, sig, 2 * ai->comp);
	rc = ci_cbor_w_finish(&w, out, out_size, stage, e);
out:
	ci_free(tbs);
	return rc;
}

/* ---- public keys ------------------------------------------------------------ */

static const char *
group_for_curve(const char *curve, size_t *comp)
{
	if (strcmp(curve, "P-256") == 0) {	/* public */
		*comp = 32;
		return "prime256v1";
	}
	if (strcmp(curve, "P-384") == 0) {	/* public */
		*comp = 48;
		return "secp384r1";
	}
	if (strcmp(curve, "P-521") == 0) {	/* public */
		*comp = 66;
		return "secp521r1";
	}
	return NULL;
}

EVP_PKEY *
ci_ec_pub_from_point(const char *curve, const uint8_t *pt, size_t size, struct cinfer_err *e)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL, *chk = NULL;
	EVP_PKEY *pk = NULL;
	size_t comp = 0;
	const char *group = group_for_curve(curve, &comp);

	if (group == NULL) {
		ci_fail(e, CINFER_E_UNSUPPORTED, STAGE_KEY, "unsupported EC curve %.16s", curve);
		return NULL;
	}
	if (size != 1 + 2 * comp || pt[0] != 0x04) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE_KEY,
		    "%s public key must be an uncompressed point of %zu bytes", curve, 1 + 2 * comp);
		return NULL;
	}
	bld = OSSL_PARAM_BLD_new();
	if (bld == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, size) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1) {
		ci_ossl_fail(e, CINFER_E_NOMEM, STAGE_KEY, "cannot build EC key");
		goto out;
	}
	if (EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1 || pk == NULL) {
		ci_ossl_fail(e, CINFER_E_MALFORMED, STAGE_KEY, "EC point is not on the curve");
		goto out;
	}
	chk = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
	if (chk == NULL || EVP_PKEY_public_check(chk) != 1) {
		ci_ossl_fail(e, CINFER_E_MALFORMED, STAGE_KEY, "EC public key fails its check");
		EVP_PKEY_free(pk);
		pk = NULL;
		goto out;
	}
out:
	EVP_PKEY_CTX_free(chk);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return pk;
}

size_t
ci_ec_pub_point(EVP_PKEY *pk, uint8_t *buf, size_t buf_size)
{
	size_t n = 0;

	if (pk == NULL || EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC ||
	    EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_PUB_KEY, buf, buf_size, &n) != 1) {
		ERR_clear_error();
		return 0;
	}
	return n;
}

EVP_PKEY *
ci_cose_key_parse(const uint8_t *p, size_t size, struct cinfer_err *e)
{
	static const struct ci_cbor_limits lim = { 4, 64, 0 };
	static const char *const curves[] = { NULL, "P-256", "P-384", "P-521" };
	cbor_item_t *m = NULL;
	const uint8_t *x, *y;
	size_t xs, ys, comp = 0;
	int64_t kty, crv;
	uint8_t pt[1 + 2 * 66];
	EVP_PKEY *pk = NULL;

	if (ci_cbor_decode(p, size, &lim, NULL, &m, STAGE_KEY, e) != 0)
		return NULL;
	if (!cbor_isa_map(m)) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE_KEY, "COSE_Key is not a map");
		goto out;
	}
	if (ci_cbor_get_int(ci_cbor_map_int(m, 1), "COSE_Key kty", &kty, STAGE_KEY, e) != 0 ||
	    ci_cbor_get_int(ci_cbor_map_int(m, -1), "COSE_Key crv", &crv, STAGE_KEY, e) != 0)
		goto out;
	if (kty != 2 || crv < 1 || crv > 3) {
		ci_fail(e, CINFER_E_UNSUPPORTED, STAGE_KEY,
		    "COSE_Key must be EC2 on P-256, P-384 or P-521 (kty %lld crv %lld)",
		    (long long)kty, (long long)crv);
		goto out;
	}
	if (ci_cbor_map_int(m, -4) != NULL) {
		ci_fail(e, CINFER_E_USAGE, STAGE_KEY, "COSE_Key carries a private key");
		goto out;
	}
	group_for_curve(curves[crv], &comp);
	if (ci_cbor_get_bytes(ci_cbor_map_int(m, -2), "COSE_Key x", comp, comp, &x, &xs,
		STAGE_KEY, e) != 0 ||
	    ci_cbor_get_bytes(ci_cbor_map_int(m, -3), "COSE_Key y", comp, comp, &y, &ys,
		STAGE_KEY, e) != 0)
		goto out;
	pt[0] = 0x04;
	memcpy(pt + 1, x, comp);
	memcpy(pt + 1 + comp, y, comp);
	pk = ci_ec_pub_from_point(curves[crv], pt, 1 + 2 * comp, e);
out:
	cbor_decref(&m);
	return pk;
}

static EVP_PKEY *
jwk_parse(const uint8_t *p, size_t size, struct cinfer_err *e)
{
	static const char *const keys[] = { "kty", "crv", "x", "y", "kid", "use", "alg",
		"key_ops", "d", NULL };
	json_t *root = NULL;
	const char *kty = NULL, *crv = NULL, *xs = NULL, *ys = NULL;
	uint8_t *x = NULL, *y = NULL, pt[1 + 2 * 66];
	size_t xn = 0, yn = 0, comp = 0;
	EVP_PKEY *pk = NULL;

	if (ci_json_parse(p, size, STAGE_KEY, &root, e) != 0)
		return NULL;
	if (!json_is_object(root)) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE_KEY, "JWK must be a JSON object");
		goto out;
	}
	if (ci_json_known_keys(root, keys, STAGE_KEY, "JWK", e) != 0)
		goto out;
	if (json_object_get(root, "d") != NULL) {
		ci_fail(e, CINFER_E_USAGE, STAGE_KEY,
		    "JWK carries a private key (\"d\"); give the public key only");
		goto out;
	}
	if (ci_json_str(root, "kty", 1, &kty, STAGE_KEY, e) != 0 ||
	    ci_json_str(root, "crv", 1, &crv, STAGE_KEY, e) != 0 ||
	    ci_json_str(root, "x", 1, &xs, STAGE_KEY, e) != 0 ||
	    ci_json_str(root, "y", 1, &ys, STAGE_KEY, e) != 0)
		goto out;
	if (strcmp(kty, "EC") != 0 || group_for_curve(crv, &comp) == NULL) {	/* public */
		ci_fail(e, CINFER_E_UNSUPPORTED, STAGE_KEY,
		    "JWK must be kty EC on P-256, P-384 or P-521");
		goto out;
	}
	if (ci_b64_decode(xs, strlen(xs), 1, &x, &xn, e) != 0 ||
	    ci_b64_decode(ys, strlen(ys), 1, &y, &yn, e) != 0)
		goto out;
	if (xn != comp || yn != comp) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE_KEY, "JWK x and y must be %zu bytes each", comp);
		goto out;
	}
	pt[0] = 0x04;
	memcpy(pt + 1, x, comp);
	memcpy(pt + 1 + comp, y, comp);
	pk = ci_ec_pub_from_point(crv, pt, 1 + 2 * comp, e);
out:
	ci_free(x);
	ci_free(y);
	json_decref(root);
	return pk;
}

EVP_PKEY *
ci_pub_key_load(const uint8_t *p, size_t size, struct cinfer_err *e)
{
	size_t i = 0;
	EVP_PKEY *pk;

	if (p == NULL || size == 0) {
		ci_fail(e, CINFER_E_USAGE, STAGE_KEY, "empty public key");
		return NULL;
	}
	if (size > 64 * 1024) {
		ci_fail(e, CINFER_E_LIMIT, STAGE_KEY, "public key file of %zu bytes is too large", size);
		return NULL;
	}
	while (i < size && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	if (i < size && p[i] == '{')
		return jwk_parse(p, size, e);
	pk = ci_pkey_parse_public(p, size, e);
	if (pk != NULL && EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC) {
		EVP_PKEY_free(pk);
		ci_fail(e, CINFER_E_UNSUPPORTED, STAGE_KEY, "public key is not an EC key");
		return NULL;
	}
	return pk;
}
