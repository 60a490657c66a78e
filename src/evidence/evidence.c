#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/json.h"
#include "evidence/cca.h"
#include "evidence/evidence_int.h"
#include "evidence/nitro.h"
#include "evidence/snp.h"
#include "evidence/tdx.h"

#define STAGE "evidence.envelope"

static const char *const platform_names[] = {
	[CINFER_PLATFORM_NONE] = NULL,
	[CINFER_PLATFORM_SIM] = "sim",
	[CINFER_PLATFORM_SNP] = "snp",
	[CINFER_PLATFORM_TDX] = "tdx",
	[CINFER_PLATFORM_NITRO] = "nitro",
	[CINFER_PLATFORM_CCA] = "cca",
};
_Static_assert(CI_ARRAY_LEN(platform_names) == CINFER_PLATFORM_COUNT, "name every platform");

/* One verifier per platform; NULL where none is built yet. */
static const ci_evidence_verify_fn verifiers[CINFER_PLATFORM_COUNT] = {
	[CINFER_PLATFORM_SIM] = ci_sim_verify,
	[CINFER_PLATFORM_SNP] = ci_snp_verify,
	[CINFER_PLATFORM_TDX] = ci_tdx_verify,
	[CINFER_PLATFORM_NITRO] = ci_nitro_verify,
	[CINFER_PLATFORM_CCA] = ci_cca_verify,
};

const char *
cinfer_platform_name(enum cinfer_platform p)
{
	if ((unsigned)p >= CINFER_PLATFORM_COUNT)
		return NULL;
	return platform_names[p];
}

enum cinfer_platform
cinfer_platform_from_name(const char *name)
{
	for (unsigned i = 1; i < CINFER_PLATFORM_COUNT; i++)
		if (strcmp(name, platform_names[i]) == 0)	/* public */
			return (enum cinfer_platform)i;
	return CINFER_PLATFORM_NONE;
}

void
cinfer_evidence_init(struct cinfer_evidence *ev)
{
	memset(ev, 0, sizeof(*ev));
}

void
cinfer_evidence_clear(struct cinfer_evidence *ev)
{
	if (ev == NULL)
		return;
	ci_free(ev->evidence);
	for (size_t i = 0; i < ev->cert_count; i++)
		ci_free(ev->certs[i].data);
	for (size_t i = 0; i < ev->collateral_count; i++)
		ci_free(ev->collateral[i].data);
	memset(ev, 0, sizeof(*ev));
}

static int
add_blob(struct cinfer_blob *arr, size_t *count, const char *name, const void *p,
    size_t size, struct cinfer_err *e)
{
	struct cinfer_blob *b;

	if (*count >= CINFER_BLOBS_MAX)
		return ci_fail(e, CINFER_E_LIMIT, STAGE, "more than %d certificates or collateral items",
		    CINFER_BLOBS_MAX);
	if (size > CINFER_EVIDENCE_MAX_SIZE)
		return ci_fail(e, CINFER_E_LIMIT, STAGE, "item of %zu bytes is too large", size);
	b = &arr[*count];
	memset(b, 0, sizeof(*b));
	if (name != NULL) {
		if (strlen(name) >= sizeof(b->name))
			return ci_fail(e, CINFER_E_LIMIT, STAGE, "collateral name too long");
		strcpy(b->name, name);
	}
	b->data = ci_memdup(p, size);
	if (b->data == NULL)
		return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
	b->size = size;
	(*count)++;
	return 0;
}

int
cinfer_evidence_add_cert(struct cinfer_evidence *ev, const void *p, size_t size,
    struct cinfer_err *e)
{
	return add_blob(ev->certs, &ev->cert_count, NULL, p, size, e);
}

int
cinfer_evidence_add_collateral(struct cinfer_evidence *ev, const char *name, const void *p,
    size_t size, struct cinfer_err *e)
{
	return add_blob(ev->collateral, &ev->collateral_count, name, p, size, e);
}

static int
b64_field(json_t *v, const char *what, uint8_t **out, size_t *size, struct cinfer_err *e)
{
	const char *s;

	if (!json_is_string(v))
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "%s must be a base64 string", what);
	s = json_string_value(v);
	if (json_string_length(v) > CINFER_EVIDENCE_MAX_SIZE / 3 * 4 + 4)
		return ci_fail(e, CINFER_E_LIMIT, STAGE, "%s is too large", what);
	if (ci_b64_decode(s, json_string_length(v), 0, out, size, e) != 0)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "%s is not base64", what);
	return 0;
}

int
cinfer_evidence_parse_json(struct cinfer_evidence *ev, const void *json, size_t size,
    struct cinfer_err *e)
{
	static const char *const keys[] = { "platform", "evidence", "certs", "collateral", NULL };
	static const char *const ckeys[] = { "name", "data", NULL };
	json_t *root = NULL, *v;
	const char *plat = NULL;
	uint8_t *buf = NULL;
	size_t bsize = 0, i;
	int rc = -1;

	cinfer_evidence_init(ev);
	if (ci_json_parse(json, size, STAGE, &root, e) != 0)
		return -1;
	if (!json_is_object(root)) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE, "evidence envelope must be a JSON object");
		goto out;
	}
	if (ci_json_known_keys(root, keys, STAGE, "envelope", e) != 0 ||
	    ci_json_str(root, "platform", 1, &plat, STAGE, e) != 0)
		goto out;
	ev->platform = cinfer_platform_from_name(plat);
	if (ev->platform == CINFER_PLATFORM_NONE) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE, "unknown platform \"%.32s\"", plat);
		goto out;
	}
	v = json_object_get(root, "evidence");
	if (v == NULL) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE, "missing field \"evidence\"");
		goto out;
	}
	if (b64_field(v, "evidence", &ev->evidence, &ev->evidence_size, e) != 0)
		goto out;
	v = json_object_get(root, "certs");
	if (v != NULL && !json_is_array(v)) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE, "certs must be an array of base64 strings");
		goto out;
	}
	for (i = 0; v != NULL && i < json_array_size(v); i++) {
		if (b64_field(json_array_get(v, i), "certs[]", &buf, &bsize, e) != 0 ||
		    cinfer_evidence_add_cert(ev, buf, bsize, e) != 0)
			goto out;
		ci_free(buf);
		buf = NULL;
	}
	v = json_object_get(root, "collateral");
	if (v != NULL && !json_is_array(v)) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE,
		    "collateral must be an array of {\"name\", \"data\"}");
		goto out;
	}
	for (i = 0; v != NULL && i < json_array_size(v); i++) {
		json_t *c = json_array_get(v, i);
		const char *name = NULL;
		if (!json_is_object(c) || ci_json_known_keys(c, ckeys, STAGE, "collateral[]", e) != 0 ||
		    ci_json_str(c, "name", 1, &name, STAGE, e) != 0) {
			ci_fail(e, CINFER_E_MALFORMED, STAGE, "collateral[%zu] must be {name, data}", i);
			goto out;
		}
		if (b64_field(json_object_get(c, "data"), "collateral[].data", &buf, &bsize, e) != 0 ||
		    cinfer_evidence_add_collateral(ev, name, buf, bsize, e) != 0)
			goto out;
		ci_free(buf);
		buf = NULL;
	}
	rc = 0;
out:
	ci_free(buf);
	json_decref(root);
	if (rc != 0)
		cinfer_evidence_clear(ev);
	return rc;
}

char *
cinfer_evidence_to_json(const struct cinfer_evidence *ev, struct cinfer_err *e)
{
	json_t *root = json_object(), *certs = json_array(), *coll = json_array();
	char *b64 = NULL, *s = NULL, *out = NULL;
	const char *plat = cinfer_platform_name(ev->platform);

	if (plat == NULL) {
		ci_fail(e, CINFER_E_USAGE, STAGE, "evidence has no platform");
		goto out;
	}
	if (root == NULL || certs == NULL || coll == NULL)
		goto nomem;
	b64 = ci_b64_new(ev->evidence, ev->evidence_size);
	if (b64 == NULL || json_object_set_new(root, "platform", json_string(plat)) != 0 ||
	    json_object_set_new(root, "evidence", json_string(b64)) != 0)
		goto nomem;
	for (size_t i = 0; i < ev->cert_count; i++) {
		ci_free(b64);
		b64 = ci_b64_new(ev->certs[i].data, ev->certs[i].size);
		if (b64 == NULL || json_array_append_new(certs, json_string(b64)) != 0)
			goto nomem;
	}
	for (size_t i = 0; i < ev->collateral_count; i++) {
		json_t *c;
		ci_free(b64);
		b64 = ci_b64_new(ev->collateral[i].data, ev->collateral[i].size);
		c = json_pack("{s:s, s:s}", "name", ev->collateral[i].name, "data", b64 ? b64 : "");
		if (b64 == NULL || c == NULL || json_array_append_new(coll, c) != 0)
			goto nomem;
	}
	if (json_object_set(root, "certs", certs) != 0 ||
	    json_object_set(root, "collateral", coll) != 0)
		goto nomem;
	s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (s == NULL)
		goto nomem;
	out = s;
	goto out;
nomem:
	ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
out:
	ci_free(b64);
	json_decref(certs);
	json_decref(coll);
	json_decref(root);
	return out;
}

const char *
ci_roots_dir(const struct cinfer_verify_opts *opts, char *buf, size_t size)
{
	const char *env = getenv("CINFER_ROOTS");
	char exe[PATH_MAX];
	ssize_t n;

	if (opts != NULL && opts->roots_dir != NULL)
		return opts->roots_dir;
	if (env != NULL && env[0] != '\0')
		return env;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *slash;
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash != NULL) {
			*slash = '\0';
			/* installed: bin/../share/cinfer/roots; build tree: build/../data/roots */
			snprintf(buf, size, "%s/../share/cinfer/roots", exe);
			if (access(buf, R_OK) == 0)
				return buf;
			snprintf(buf, size, "%s/../data/roots", exe);
			if (access(buf, R_OK) == 0)
				return buf;
			snprintf(buf, size, "%s/../../data/roots", exe);
			if (access(buf, R_OK) == 0)
				return buf;
		}
	}
	snprintf(buf, size, "%s/roots", CINFER_DATADIR);
	return buf;
}

int
cinfer_evidence_verify(const struct cinfer_evidence *ev, const struct cinfer_verify_opts *opts,
    struct cinfer_claims *claims, struct cinfer_err *e)
{
	struct cinfer_verify_opts none = { 0 };
	ci_evidence_verify_fn fn;
	int64_t at;

	if (opts == NULL)
		opts = &none;
	cinfer_claims_init(claims, ev->platform);
	if ((unsigned)ev->platform >= CINFER_PLATFORM_COUNT || ev->platform == CINFER_PLATFORM_NONE)
		return ci_fail(e, CINFER_E_USAGE, "evidence", "evidence has no platform");
	fn = verifiers[ev->platform];
	if (fn == NULL)
		return ci_fail(e, CINFER_E_UNSUPPORTED, "evidence",
		    "this build has no verifier for platform %s", cinfer_platform_name(ev->platform));
	if (ev->evidence == NULL || ev->evidence_size == 0)
		return ci_fail(e, CINFER_E_MALFORMED, "evidence", "evidence is empty");
	at = opts->at != 0 ? opts->at : ci_time_now();
	if (fn(ev, opts, at, claims, e) != 0) {
		cinfer_claims_init(claims, ev->platform);
		return -1;
	}
	return 0;
}

/* ---- claims helpers ------------------------------------------------------ */

void
cinfer_claims_init(struct cinfer_claims *c, enum cinfer_platform p)
{
	memset(c, 0, sizeof(*c));
	c->platform = p;
	c->simulated = p == CINFER_PLATFORM_SIM;
}

static int
copy_name(char *dst, size_t size, const char *name)
{
	if (strlen(name) >= size)
		return -1;
	strcpy(dst, name);
	return 0;
}

int
cinfer_claims_add_meas(struct cinfer_claims *c, const char *name, const void *v, size_t size)
{
	struct cinfer_meas *m;

	if (c->extra_count >= CINFER_EXTRA_MEAS_MAX || size > CINFER_MEAS_SIZE_MAX)
		return -1;
	m = &c->extra[c->extra_count];
	if (copy_name(m->name, sizeof(m->name), name) != 0)
		return -1;
	memcpy(m->value, v, size);
	m->size = size;
	c->extra_count++;
	return 0;
}

int
cinfer_claims_add_tcb(struct cinfer_claims *c, const char *name, uint64_t value)
{
	struct cinfer_tcb *t;

	if (c->tcb_count >= CINFER_TCB_MAX)
		return -1;
	t = &c->tcb[c->tcb_count];
	if (copy_name(t->name, sizeof(t->name), name) != 0)
		return -1;
	t->value = value;
	c->tcb_count++;
	return 0;
}

int
cinfer_claims_add_detail(struct cinfer_claims *c, const char *name, const char *value)
{
	struct cinfer_detail *d;

	if (c->detail_count >= CINFER_DETAILS_MAX)
		return -1;
	d = &c->details[c->detail_count];
	if (copy_name(d->name, sizeof(d->name), name) != 0 ||
	    copy_name(d->value, sizeof(d->value), value) != 0)
		return -1;
	ci_str_mask(d->value);
	c->detail_count++;
	return 0;
}

int
cinfer_claims_add_detail_hex(struct cinfer_claims *c, const char *name, const void *v,
    size_t size)
{
	char hex[sizeof(c->details[0].value)];

	if (2 * size + 1 > sizeof(hex))
		return -1;
	ci_hex_encode(v, size, hex);
	return cinfer_claims_add_detail(c, name, hex);
}

const struct cinfer_meas *
cinfer_claims_meas(const struct cinfer_claims *c, const char *name)
{
	for (size_t i = 0; i < c->extra_count; i++)
		if (strcmp(c->extra[i].name, name) == 0)	/* public */
			return &c->extra[i];
	return NULL;
}

const char *
cinfer_claims_detail(const struct cinfer_claims *c, const char *name)
{
	for (size_t i = 0; i < c->detail_count; i++)
		if (strcmp(c->details[i].name, name) == 0)	/* public */
			return c->details[i].value;
	return NULL;
}
