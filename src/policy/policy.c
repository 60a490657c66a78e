/*
 * The policy engine: parse a versioned JSON policy, then judge normalized
 * claims against it. Evaluation never stops early: every check runs and
 * leaves a reason (passed or failed), so a broker's audit log, the CLI and
 * the web page can all explain a decision.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cinfer/policy.h"
#include "core/json.h"
#include "crypto/crypto.h"

#define STAGE "policy"
#define PINS_MAX 256
#define REVOKED_MAX 256
#define SIGNERS_MAX 16
#define MINTCB_MAX 12
#define REQ_MAX 16

struct pin {
	enum cinfer_platform platform;	/* NONE: any platform */
	char reg[16];			/* "measurement" or an extra register name */
	uint8_t value[CINFER_MEAS_SIZE_MAX];
	size_t size;
	int64_t not_before;		/* INT64_MIN: open */
	int64_t not_after;		/* INT64_MAX: open */
	char build_id[64];
	char comment[64];
};

struct min_tcb {
	enum cinfer_platform platform;
	char name[16];
	uint64_t value;
};

struct req_detail {
	enum cinfer_platform platform;	/* NONE: any */
	char name[32];
	char value[136];
};

enum tdx_status {
	TDX_UP_TO_DATE, TDX_SW_HARDENING, TDX_CONFIG_NEEDED, TDX_CONFIG_SW_HARDENING,
	TDX_OUT_OF_DATE, TDX_OUT_OF_DATE_CONFIG, TDX_REVOKED, TDX_STATUS_COUNT
};
static const char *const tdx_status_names[] = {
	"UpToDate", "SWHardeningNeeded", "ConfigurationNeeded",
	"ConfigurationAndSWHardeningNeeded", "OutOfDate", "OutOfDateConfigurationNeeded",
	"Revoked",
};
_Static_assert(CI_ARRAY_LEN(tdx_status_names) == TDX_STATUS_COUNT, "name every status");

struct cinfer_policy {
	uint8_t digest[32];
	char id[64];
	int64_t revision;
	int all_of;
	enum cinfer_platform platforms[CINFER_PLATFORM_COUNT];
	size_t platform_count;
	int allow_simulated;
	int allow_debug;
	int require_binding;
	int allow_unchecked_revocation;
	int64_t max_age;		/* seconds; 0: no limit */
	struct pin pins[PINS_MAX];
	size_t pin_count;
	struct pin revoked[REVOKED_MAX];
	size_t revoked_count;
	struct min_tcb min_tcb[MINTCB_MAX * 4];
	size_t min_tcb_count;
	char signers[SIGNERS_MAX][96];
	size_t signer_count;
	unsigned tdx_allowed;		/* bit per enum tdx_status */
	int64_t tdx_grace;		/* seconds of OutOfDate grace from tcb_date */
	struct req_detail req[REQ_MAX];
	size_t req_count;
};

/* ---- parsing ------------------------------------------------------------ */

static int
parse_platform(const char *name, enum cinfer_platform *out, const char *where,
    struct cinfer_err *e)
{
	*out = cinfer_platform_from_name(name);
	if (*out == CINFER_PLATFORM_NONE)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE,
		    "%s: unknown platform \"%.32s\" (sim, snp, tdx, nitro, cca)", where, name);
	return 0;
}

static int
parse_platforms(struct cinfer_policy *p, const json_t *v, struct cinfer_err *e)
{
	static const char *const keys[] = { "any_of", "all_of", NULL };
	json_t *list;
	size_t i;

	if (!json_is_object(v) || json_object_size(v) != 1 ||
	    ci_json_known_keys(v, keys, STAGE, "platforms", e) != 0)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE,
		    "platforms must be {\"any_of\": [...]} or {\"all_of\": [...]}");
	p->all_of = json_object_get(v, "all_of") != NULL;
	list = json_object_get(v, p->all_of ? "all_of" : "any_of");
	if (!json_is_array(list) || json_array_size(list) == 0 ||
	    json_array_size(list) >= CINFER_PLATFORM_COUNT)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE,
		    "platforms.%s must list 1 to %d platforms", p->all_of ? "all_of" : "any_of",
		    CINFER_PLATFORM_COUNT - 1);
	for (i = 0; i < json_array_size(list); i++) {
		json_t *s = json_array_get(list, i);
		enum cinfer_platform pl;
		if (!json_is_string(s) ||
		    parse_platform(json_string_value(s), &pl, "platforms", e) != 0)
			return ci_fail(e, CINFER_E_MALFORMED, STAGE, "platforms: names must be strings");
		for (size_t j = 0; j < p->platform_count; j++)
			if (p->platforms[j] == pl)
				return ci_fail(e, CINFER_E_MALFORMED, STAGE,
				    "platforms: %s listed twice", json_string_value(s));
		p->platforms[p->platform_count++] = pl;
	}
	if (p->all_of && p->platform_count < 2)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "platforms.all_of needs two or more");
	return 0;
}

static int
parse_pin(struct pin *pin, const json_t *v, const char *where, int windowed, struct cinfer_err *e)
{
	static const char *const keys[] = { "platform", "register", "value", "not_before",
		"not_after", "build", "comment", NULL };
	static const char *const bkeys[] = { "id", "sbom_sha256", "source", NULL };
	const char *s = NULL;
	json_t *b;

	memset(pin, 0, sizeof(*pin));
	pin->not_before = INT64_MIN;
	pin->not_after = INT64_MAX;
	strcpy(pin->reg, "measurement");
	if (json_is_string(v)) {
		/* Shorthand: a bare hex value. */
		if (ci_hex_decode(json_string_value(v), json_string_length(v), pin->value,
			sizeof(pin->value), &pin->size, NULL) != 0 || pin->size == 0)
			return ci_fail(e, CINFER_E_MALFORMED, STAGE, "%s: not a hex measurement", where);
		return 0;
	}
	if (!json_is_object(v))
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "%s: must be an object or hex string", where);
	if (ci_json_known_keys(v, keys, STAGE, where, e) != 0)
		return -1;
	if (ci_json_str(v, "platform", 0, &s, STAGE, e) < 0)
		return -1;
	if (s != NULL && parse_platform(s, &pin->platform, where, e) != 0)
		return -1;
	s = NULL;
	if (ci_json_str(v, "register", 0, &s, STAGE, e) < 0)
		return -1;
	if (s != NULL) {
		if (strlen(s) == 0 || strlen(s) >= sizeof(pin->reg))
			return ci_fail(e, CINFER_E_MALFORMED, STAGE, "%s: bad register name", where);
		strcpy(pin->reg, s);
	}
	if (ci_json_hex(v, "value", 1, pin->value, 1, sizeof(pin->value), &pin->size, STAGE, e) != 0)
		return -1;
	if (!windowed && (json_object_get(v, "not_before") || json_object_get(v, "not_after")))
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "%s: a revocation has no window", where);
	if (ci_json_time(v, "not_before", 0, &pin->not_before, STAGE, e) < 0 ||
	    ci_json_time(v, "not_after", 0, &pin->not_after, STAGE, e) < 0)
		return -1;
	if (pin->not_before != INT64_MIN && pin->not_after != INT64_MAX &&
	    pin->not_after <= pin->not_before)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "%s: not_after is not after not_before", where);
	s = NULL;
	if (ci_json_str(v, "comment", 0, &s, STAGE, e) < 0)
		return -1;
	if (s != NULL)
		snprintf(pin->comment, sizeof(pin->comment), "%s", s);
	b = json_object_get(v, "build");
	if (b != NULL) {
		if (!json_is_object(b) || ci_json_known_keys(b, bkeys, STAGE, "build", e) != 0)
			return ci_fail(e, CINFER_E_MALFORMED, STAGE, "%s: build must be {id, sbom_sha256}", where);
		s = NULL;
		if (ci_json_str(b, "id", 0, &s, STAGE, e) < 0)
			return -1;
		if (s != NULL)
			snprintf(pin->build_id, sizeof(pin->build_id), "%s", s);
		{
			uint8_t d[32];
			if (ci_json_hex(b, "sbom_sha256", 0, d, 32, 32, NULL, STAGE, e) < 0)
				return -1;
		}
	}
	ci_str_mask(pin->comment);
	ci_str_mask(pin->build_id);
	return 0;
}

static int
parse_min_tcb(struct cinfer_policy *p, const json_t *v, struct cinfer_err *e)
{
	const char *pname, *cname;
	json_t *comps, *n;

	if (!json_is_object(v))
		return ci_fail(e, CINFER_E_MALFORMED, STAGE,
		    "min_tcb must be {\"<platform>\": {\"<component>\": number}}");
	json_object_foreach((json_t *)v, pname, comps) {
		enum cinfer_platform pl;
		if (parse_platform(pname, &pl, "min_tcb", e) != 0)
			return -1;
		if (!json_is_object(comps))
			return ci_fail(e, CINFER_E_MALFORMED, STAGE, "min_tcb.%s must be an object", pname);
		json_object_foreach(comps, cname, n) {
			struct min_tcb *m;
			if (p->min_tcb_count >= CI_ARRAY_LEN(p->min_tcb))
				return ci_fail(e, CINFER_E_LIMIT, STAGE, "min_tcb: too many components");
			if (!json_is_integer(n) || json_integer_value(n) < 0 || strlen(cname) >= 16)
				return ci_fail(e, CINFER_E_MALFORMED, STAGE,
				    "min_tcb.%s.%.20s must be a non-negative integer", pname, cname);
			m = &p->min_tcb[p->min_tcb_count++];
			m->platform = pl;
			strcpy(m->name, cname);
			m->value = (uint64_t)json_integer_value(n);
		}
	}
	return 0;
}

static int
parse_tdx(struct cinfer_policy *p, const json_t *v, struct cinfer_err *e)
{
	static const char *const keys[] = { "allowed_tcb_status", "out_of_date_grace_days", NULL };
	json_t *list;
	int64_t days = 0;
	size_t i;

	if (!json_is_object(v) || ci_json_known_keys(v, keys, STAGE, "tdx", e) != 0)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "tdx must be an object");
	list = json_object_get(v, "allowed_tcb_status");
	if (list != NULL) {
		if (!json_is_array(list))
			return ci_fail(e, CINFER_E_MALFORMED, STAGE, "tdx.allowed_tcb_status must be a list");
		p->tdx_allowed = 0;
		for (i = 0; i < json_array_size(list); i++) {
			const char *s = json_string_value(json_array_get(list, i));
			unsigned k;
			for (k = 0; s != NULL && k < TDX_STATUS_COUNT; k++)
				if (strcmp(s, tdx_status_names[k]) == 0)	/* public */
					break;
			if (s == NULL || k == TDX_STATUS_COUNT)
				return ci_fail(e, CINFER_E_MALFORMED, STAGE,
				    "tdx.allowed_tcb_status: unknown status \"%.40s\"", s ? s : "?");
			if (k == TDX_REVOKED)
				return ci_fail(e, CINFER_E_MALFORMED, STAGE,
				    "tdx.allowed_tcb_status: Revoked can never be allowed");
			p->tdx_allowed |= 1u << k;
		}
	}
	if (ci_json_int(v, "out_of_date_grace_days", 0, &days, STAGE, e) < 0)
		return -1;
	if (days < 0 || days > 3650)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "tdx.out_of_date_grace_days must be 0-3650");
	p->tdx_grace = days * 86400;
	return 0;
}

static int
parse_required(struct cinfer_policy *p, const json_t *v, struct cinfer_err *e)
{
	const char *k;
	json_t *val;

	if (!json_is_object(v))
		return ci_fail(e, CINFER_E_MALFORMED, STAGE,
		    "required_claims must be {\"[platform.]name\": \"value\"}");
	json_object_foreach((json_t *)v, k, val) {
		struct req_detail *r;
		const char *dot = strchr(k, '.'), *name = k;
		if (p->req_count >= REQ_MAX)
			return ci_fail(e, CINFER_E_LIMIT, STAGE, "required_claims: too many");
		r = &p->req[p->req_count++];
		memset(r, 0, sizeof(*r));
		if (!json_is_string(val) || json_string_length(val) >= sizeof(r->value))
			return ci_fail(e, CINFER_E_MALFORMED, STAGE,
			    "required_claims.%.32s must be a string", k);
		if (dot != NULL) {
			char pn[16];
			if ((size_t)(dot - k) >= sizeof(pn))
				return ci_fail(e, CINFER_E_MALFORMED, STAGE, "required_claims: bad name");
			memcpy(pn, k, (size_t)(dot - k));
			pn[dot - k] = '\0';
			if (parse_platform(pn, &r->platform, "required_claims", e) != 0)
				return -1;
			name = dot + 1;
		}
		if (strlen(name) == 0 || strlen(name) >= sizeof(r->name))
			return ci_fail(e, CINFER_E_MALFORMED, STAGE, "required_claims: bad name");
		strcpy(r->name, name);
		strcpy(r->value, json_string_value(val));
	}
	return 0;
}

static int
parse_doc(struct cinfer_policy *p, const json_t *root, struct cinfer_err *e)
{
	static const char *const keys[] = { "cinfer_policy", "id", "revision", "description",
		"platforms", "allow_simulated", "allow_debug", "require_report_data_binding",
		"max_evidence_age_seconds", "measurements", "revoked_measurements", "min_tcb",
		"signers", "tdx", "required_claims", "allow_unchecked_revocation", NULL };
	int64_t ver = 0;
	const char *id = NULL;
	json_t *v;
	size_t i;

	if (!json_is_object(root))
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "a policy is a JSON object");
	if (ci_json_known_keys(root, keys, STAGE, "policy", e) != 0)
		return -1;
	if (ci_json_int(root, "cinfer_policy", 1, &ver, STAGE, e) != 0)
		return -1;
	if (ver != 1)
		return ci_fail(e, CINFER_E_UNSUPPORTED, STAGE,
		    "policy format version %" PRId64 " (this build reads version 1)", ver);
	if (ci_json_str(root, "id", 1, &id, STAGE, e) != 0)
		return -1;
	if (strlen(id) == 0 || strlen(id) >= sizeof(p->id))
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "id must be 1-63 characters");
	strcpy(p->id, id);
	ci_str_mask(p->id);
	if (ci_json_int(root, "revision", 0, &p->revision, STAGE, e) < 0)
		return -1;
	if (p->revision < 0)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "revision must be >= 0");
	v = json_object_get(root, "description");
	if (v != NULL && !json_is_string(v))
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "description must be a string");
	v = json_object_get(root, "platforms");
	if (v == NULL)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "missing field \"platforms\"");
	if (parse_platforms(p, v, e) != 0)
		return -1;
	p->require_binding = 1;
	if (ci_json_bool(root, "allow_simulated", 0, &p->allow_simulated, STAGE, e) < 0 ||
	    ci_json_bool(root, "allow_debug", 0, &p->allow_debug, STAGE, e) < 0 ||
	    ci_json_bool(root, "require_report_data_binding", 0, &p->require_binding, STAGE, e) < 0 ||
	    ci_json_bool(root, "allow_unchecked_revocation", 0, &p->allow_unchecked_revocation,
		STAGE, e) < 0 ||
	    ci_json_int(root, "max_evidence_age_seconds", 0, &p->max_age, STAGE, e) < 0)
		return -1;
	if (p->max_age < 0)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "max_evidence_age_seconds must be >= 0");
	v = json_object_get(root, "measurements");
	if (v != NULL && !json_is_array(v))
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "measurements must be a list");
	for (i = 0; v != NULL && i < json_array_size(v); i++) {
		char where[48];
		if (p->pin_count >= PINS_MAX)
			return ci_fail(e, CINFER_E_LIMIT, STAGE, "more than %d pinned measurements", PINS_MAX);
		snprintf(where, sizeof(where), "measurements[%zu]", i);
		if (parse_pin(&p->pins[p->pin_count++], json_array_get(v, i), where, 1, e) != 0)
			return -1;
	}
	v = json_object_get(root, "revoked_measurements");
	if (v != NULL && !json_is_array(v))
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "revoked_measurements must be a list");
	for (i = 0; v != NULL && i < json_array_size(v); i++) {
		char where[48];
		if (p->revoked_count >= REVOKED_MAX)
			return ci_fail(e, CINFER_E_LIMIT, STAGE, "more than %d revoked measurements",
			    REVOKED_MAX);
		snprintf(where, sizeof(where), "revoked_measurements[%zu]", i);
		if (parse_pin(&p->revoked[p->revoked_count++], json_array_get(v, i), where, 0, e) != 0)
			return -1;
	}
	v = json_object_get(root, "min_tcb");
	if (v != NULL && parse_min_tcb(p, v, e) != 0)
		return -1;
	v = json_object_get(root, "signers");
	if (v != NULL && !json_is_array(v))
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "signers must be a list of prefixes");
	for (i = 0; v != NULL && i < json_array_size(v); i++) {
		const char *s = json_string_value(json_array_get(v, i));
		if (s == NULL || strlen(s) == 0 || strlen(s) >= sizeof(p->signers[0]) ||
		    p->signer_count >= SIGNERS_MAX)
			return ci_fail(e, CINFER_E_MALFORMED, STAGE, "signers[%zu] is not a usable prefix", i);
		strcpy(p->signers[p->signer_count++], s);
	}
	p->tdx_allowed = 1u << TDX_UP_TO_DATE;
	v = json_object_get(root, "tdx");
	if (v != NULL && parse_tdx(p, v, e) != 0)
		return -1;
	v = json_object_get(root, "required_claims");
	if (v != NULL && parse_required(p, v, e) != 0)
		return -1;
	return 0;
}

int
cinfer_policy_parse(const void *json, size_t size, struct cinfer_policy **out,
    struct cinfer_err *e)
{
	struct cinfer_policy *p;
	json_t *root = NULL;

	*out = NULL;
	if (size > CINFER_POLICY_MAX_SIZE)
		return ci_fail(e, CINFER_E_LIMIT, STAGE, "policy of %zu bytes is too large", size);
	if (ci_json_parse(json, size, STAGE, &root, e) != 0)
		return -1;
	p = ci_calloc(1, sizeof(*p));
	if (p == NULL) {
		json_decref(root);
		return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
	}
	if (parse_doc(p, root, e) != 0) {
		json_decref(root);
		ci_free(p);
		return -1;
	}
	json_decref(root);
	ci_sha256(json, size, p->digest);
	*out = p;
	return 0;
}

int
cinfer_policy_load(const char *path, struct cinfer_policy **out, struct cinfer_err *e)
{
	uint8_t *buf = NULL;
	size_t size = 0;
	int rc;

	*out = NULL;
	if (ci_file_read(path, CINFER_POLICY_MAX_SIZE, &buf, &size, e) != 0)
		return -1;
	rc = cinfer_policy_parse(buf, size, out, e);
	ci_free(buf);
	return rc;
}

void
cinfer_policy_free(struct cinfer_policy *p)
{
	ci_free(p);
}

const char *
cinfer_policy_id(const struct cinfer_policy *p)
{
	return p->id;
}

int64_t
cinfer_policy_revision(const struct cinfer_policy *p)
{
	return p->revision;
}

void
cinfer_policy_digest(const struct cinfer_policy *p, uint8_t out[32])
{
	memcpy(out, p->digest, 32);
}

int
cinfer_policy_requires_binding(const struct cinfer_policy *p)
{
	return p->require_binding;
}

/* ---- evaluation ---------------------------------------------------------- */

static void reason(struct cinfer_decision *d, int ok, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
reason(struct cinfer_decision *d, int ok, const char *code, const char *fmt, ...)
{
	struct cinfer_reason *r;
	va_list ap;

	if (!ok)
		d->accepted = 0;
	if (d->reason_count >= CINFER_REASONS_MAX) {
		/* Keep the last slot for a rejection so it is never lost. */
		if (ok)
			return;
		r = &d->reasons[CINFER_REASONS_MAX - 1];
	} else {
		r = &d->reasons[d->reason_count++];
	}
	r->ok = ok;
	snprintf(r->code, sizeof(r->code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(r->text, sizeof(r->text), fmt, ap);
	va_end(ap);
	ci_str_mask(r->text);
}

static const uint8_t *
claim_register(const struct cinfer_claims *c, const char *reg, size_t *size)
{
	const struct cinfer_meas *m;

	if (strcmp(reg, "measurement") == 0) {	/* public */
		*size = c->measurement_size;
		return c->measurement;
	}
	m = cinfer_claims_meas(c, reg);
	if (m == NULL)
		return NULL;
	*size = m->size;
	return m->value;
}

static void
short_hex(const uint8_t *v, size_t size, char out[20])
{
	size_t n = size > 8 ? 8 : size;

	ci_hex_encode(v, n, out);
	if (size > 8)
		strcat(out, "..");
}

static int
pin_applies(const struct pin *pin, const struct cinfer_claims *c)
{
	return pin->platform == CINFER_PLATFORM_NONE || pin->platform == c->platform;
}

static void
check_measurements(const struct cinfer_policy *p, const struct cinfer_claims *c, int64_t at,
    const char *pn, struct cinfer_decision *d)
{
	/* Each (platform, register) pair that has pins is checked on its own. */
	int checked_primary = 0;

	for (size_t i = 0; i < p->pin_count; i++) {
		const struct pin *g = &p->pins[i];
		const uint8_t *val;
		size_t vsize = 0, j;
		int seen_before = 0, match_now = 0, match_early = 0, match_late = 0;
		const struct pin *hit = NULL;
		char hex[20];

		if (!pin_applies(g, c))
			continue;
		/* Only the first pin of each register group drives the check. */
		for (j = 0; j < i; j++)
			if (pin_applies(&p->pins[j], c) && strcmp(p->pins[j].reg, g->reg) == 0)
				seen_before = 1;
		if (seen_before)
			continue;
		if (strcmp(g->reg, "measurement") == 0)	/* public */
			checked_primary = 1;
		val = claim_register(c, g->reg, &vsize);
		if (val == NULL || vsize == 0) {
			reason(d, 0, "measurement_missing", "%s evidence has no register \"%s\" to compare "
			    "with the pinned values", pn, g->reg);
			continue;
		}
		for (j = i; j < p->pin_count; j++) {
			const struct pin *q = &p->pins[j];
			if (!pin_applies(q, c) || strcmp(q->reg, g->reg) != 0 || q->size != vsize ||
			    memcmp(q->value, val, vsize) != 0)	/* public */
				continue;
			if (at < q->not_before)
				match_early = 1;
			else if (at > q->not_after)
				match_late = 1;
			else {
				match_now = 1;
				hit = q;
				break;
			}
		}
		short_hex(val, vsize, hex);
		if (match_now) {
			char win[64] = "";
			if (hit->not_after != INT64_MAX) {
				char t[21];
				ci_time_format(hit->not_after, t);
				snprintf(win, sizeof(win), ", valid until %s", t);
			}
			reason(d, 1, "measurement_pinned", "%s %s %s matches a pinned value%s%s%s", pn,
			    g->reg, hex, win, hit->build_id[0] ? " from build " : "", hit->build_id);
		} else if (match_late) {
			reason(d, 0, "measurement_expired", "%s %s %s was pinned, but its window has closed "
			    "(rolled out of the grace period)", pn, g->reg, hex);
		} else if (match_early) {
			reason(d, 0, "measurement_not_yet_valid", "%s %s %s is pinned, but its window "
			    "has not opened yet", pn, g->reg, hex);
		} else {
			reason(d, 0, "measurement_not_pinned", "%s %s %s is not one of the pinned values",
			    pn, g->reg, hex);
		}
	}
	if (!checked_primary)
		reason(d, 0, "measurement_not_pinned", "the policy pins no launch measurement for %s; "
		    "nothing to accept", pn);
	for (size_t i = 0; i < p->revoked_count; i++) {
		const struct pin *r = &p->revoked[i];
		const uint8_t *val;
		size_t vsize = 0;
		char hex[20];

		if (!pin_applies(r, c))
			continue;
		val = claim_register(c, r->reg, &vsize);
		if (val != NULL && vsize == r->size && memcmp(val, r->value, vsize) == 0) {	/* public */
			short_hex(val, vsize, hex);
			reason(d, 0, "measurement_revoked", "%s %s %s is revoked%s%s", pn, r->reg, hex,
			    r->comment[0] ? ": " : "", r->comment);
		}
	}
}

static const struct cinfer_tcb *
claim_tcb(const struct cinfer_claims *c, const char *name)
{
	for (size_t i = 0; i < c->tcb_count; i++)
		if (strcmp(c->tcb[i].name, name) == 0)	/* public */
			return &c->tcb[i];
	return NULL;
}

static void
check_tcb(const struct cinfer_policy *p, const struct cinfer_claims *c, int64_t at,
    const char *pn, struct cinfer_decision *d)
{
	int any = 0, bad = 0;

	for (size_t i = 0; i < p->min_tcb_count; i++) {
		const struct min_tcb *m = &p->min_tcb[i];
		const struct cinfer_tcb *t;
		if (m->platform != c->platform)
			continue;
		any = 1;
		t = claim_tcb(c, m->name);
		if (t == NULL) {
			bad = 1;
			reason(d, 0, "tcb_component_missing", "%s evidence has no TCB component \"%s\"",
			    pn, m->name);
		} else if (t->value < m->value) {
			bad = 1;
			reason(d, 0, "tcb_below_minimum", "%s TCB %s is %" PRIu64 ", the policy needs at "
			    "least %" PRIu64, pn, m->name, t->value, m->value);
		}
	}
	if (any && !bad)
		reason(d, 1, "tcb_at_least_minimum", "%s TCB meets the policy's minimum", pn);
	if (c->tcb_status[0] != '\0') {
		unsigned k;
		for (k = 0; k < TDX_STATUS_COUNT; k++)
			if (strcmp(c->tcb_status, tdx_status_names[k]) == 0)	/* public */
				break;
		if (k == TDX_STATUS_COUNT || k == TDX_REVOKED) {
			reason(d, 0, "tcb_status_not_allowed", "%s TCB status is %s", pn, c->tcb_status);
		} else if (p->tdx_allowed & (1u << k)) {
			reason(d, 1, "tcb_status_allowed", "%s TCB status %s is allowed", pn, c->tcb_status);
		} else if ((k == TDX_OUT_OF_DATE || k == TDX_OUT_OF_DATE_CONFIG) && p->tdx_grace > 0 &&
		    c->tcb_date > 0 && at - c->tcb_date <= p->tdx_grace) {
			char t[21];
			ci_time_format(c->tcb_date + p->tdx_grace, t);
			reason(d, 1, "tcb_out_of_date_in_grace", "%s TCB status %s is accepted inside "
			    "its grace period, which ends %s", pn, c->tcb_status, t);
		} else {
			reason(d, 0, "tcb_status_not_allowed", "%s TCB status %s is not allowed by the "
			    "policy", pn, c->tcb_status);
		}
	}
}

static void
check_one(const struct cinfer_policy *p, const struct cinfer_claims *c,
    const struct cinfer_policy_input *in, int64_t at, struct cinfer_decision *d)
{
	const char *pn = cinfer_platform_name(c->platform);
	size_t i;
	int listed = 0;

	if (pn == NULL)
		pn = "unknown";
	for (i = 0; i < p->platform_count; i++)
		listed |= p->platforms[i] == c->platform;
	if (!listed)
		reason(d, 0, "platform_not_allowed", "evidence is from platform %s, which the policy "
		    "does not accept", pn);
	else
		reason(d, 1, "platform_allowed", "platform %s is accepted", pn);
	if (c->simulated || c->platform == CINFER_PLATFORM_SIM) {
		if (p->allow_simulated)
			reason(d, 1, "simulated_allowed", "SIMULATED platform: no hardware protection; "
			    "accepted only because the policy sets allow_simulated");
		else
			reason(d, 0, "simulated_not_allowed", "evidence comes from the SIMULATED platform, "
			    "not a TEE, and the policy does not set allow_simulated");
	}
	if (c->debug && !p->allow_debug)
		reason(d, 0, "debug_enabled", "%s TEE allows debugging (its memory can be read by the "
		    "host), and the policy forbids debug", pn);
	else if (c->debug)
		reason(d, 1, "debug_allowed", "%s TEE allows debugging; the policy permits it", pn);
	else
		reason(d, 1, "debug_disabled", "%s debugging is off", pn);
	check_measurements(p, c, at, pn, d);
	check_tcb(p, c, at, pn, d);
	{
		const char *rev = cinfer_claims_detail(c, "revocation");
		if (rev != NULL && strcmp(rev, "unchecked") == 0) {	/* public */
			if (p->allow_unchecked_revocation)
				reason(d, 1, "revocation_unchecked_allowed", "%s certificate revocation was "
				    "not checked (no CRLs); the policy permits it", pn);
			else
				reason(d, 0, "revocation_unchecked", "%s certificate revocation was not "
				    "checked (no CRLs were given)", pn);
		}
	}
	if (p->signer_count > 0) {
		int ok = 0;
		for (i = 0; i < p->signer_count; i++)
			ok |= strncmp(c->signer, p->signers[i], strlen(p->signers[i])) == 0;	/* public */
		if (ok)
			reason(d, 1, "signer_allowed", "%s evidence signed by %s", pn, c->signer);
		else
			reason(d, 0, "signer_not_allowed", "%s evidence signed by \"%s\", which the policy "
			    "does not list", pn, c->signer);
	}
	if (p->max_age > 0 && in->freshness_checked_elsewhere) {
		reason(d, 1, "evidence_age_deferred", "%s evidence identifies the server; its "
		    "freshness is checked on nonce-bound evidence next", pn);
	} else if (p->max_age > 0) {
		int64_t t = c->produced_at ? c->produced_at : in->nonce_issued_at;
		if (t == 0)
			reason(d, 0, "evidence_age_unknown", "%s evidence carries no time and no fresh "
			    "nonce was bound, so its age can't be checked", pn);
		else if (at - t > p->max_age)
			reason(d, 0, "evidence_too_old", "%s evidence is %" PRId64 " s old, the policy "
			    "allows %" PRId64 " s", pn, at - t, p->max_age);
		else if (t - at > 300)
			reason(d, 0, "evidence_from_future", "%s evidence is dated %" PRId64 " s in the "
			    "future", pn, t - at);
		else
			reason(d, 1, "evidence_fresh", "%s evidence is %" PRId64 " s old", pn,
			    at > t ? at - t : 0);
	}
	if (in->expected_report_data != NULL) {
		size_t n = in->expected_report_data_size;
		if (n == 0 || n > c->report_data_size || n > sizeof(c->report_data) ||
		    ci_ct_eq(c->report_data, in->expected_report_data, n) != 0 ||
		    !ci_is_zero(c->report_data + n, c->report_data_size - n))
			reason(d, 0, "report_data_mismatch", "%s report_data does not bind the expected "
			    "nonce and keys (replayed or made for another purpose)", pn);
		else
			reason(d, 1, "report_data_bound", "%s report_data binds the expected nonce and keys",
			    pn);
	} else if (p->require_binding) {
		reason(d, 0, "report_data_unchecked", "the policy requires report_data binding, but "
		    "no expected value was given to check it against");
	}
	for (i = 0; i < p->req_count; i++) {
		const struct req_detail *r = &p->req[i];
		const char *v;
		if (r->platform != CINFER_PLATFORM_NONE && r->platform != c->platform)
			continue;
		v = cinfer_claims_detail(c, r->name);
		if (v != NULL && strcmp(v, r->value) == 0)	/* public */
			reason(d, 1, "claim_matches", "%s %s is %s", pn, r->name, v);
		else
			reason(d, 0, "claim_mismatch", "%s %s is %s, the policy requires %s", pn, r->name,
			    v ? v : "absent", r->value);
	}
}

int
cinfer_policy_eval(const struct cinfer_policy *p, const struct cinfer_policy_input *in,
    struct cinfer_decision *d, struct cinfer_err *e)
{
	int64_t at;
	struct cinfer_decision tmp;
	size_t i, j;

	memset(d, 0, sizeof(*d));
	if (p == NULL || in == NULL || (in->claims_count > 0 && in->claims == NULL))
		return ci_fail(e, CINFER_E_USAGE, STAGE, "policy evaluation needs a policy and claims");
	at = in->at ? in->at : ci_time_now();
	d->accepted = 1;
	if (in->claims_count == 0)
		reason(d, 0, "no_evidence", "no evidence was given");
	if (p->all_of) {
		for (i = 0; i < p->platform_count; i++) {
			size_t n = 0;
			for (j = 0; j < in->claims_count; j++)
				n += in->claims[j].platform == p->platforms[i];
			if (n != 1)
				reason(d, 0, "platform_missing", "the policy needs exactly one %s evidence "
				    "item, %zu given", cinfer_platform_name(p->platforms[i]), n);
		}
		for (j = 1; j < in->claims_count; j++)
			if (in->claims[j].report_data_size != in->claims[0].report_data_size ||
			    memcmp(in->claims[j].report_data, in->claims[0].report_data,
				in->claims[0].report_data_size) != 0)	/* public */
				reason(d, 0, "report_data_differs", "the %s and %s evidence bind different "
				    "report_data, so they need not come from one session",
				    cinfer_platform_name(in->claims[0].platform),
				    cinfer_platform_name(in->claims[j].platform));
	} else if (in->claims_count > 1) {
		reason(d, 0, "too_much_evidence", "the policy takes one evidence item (any_of), %zu "
		    "given", in->claims_count);
	}
	for (j = 0; j < in->claims_count; j++)
		check_one(p, &in->claims[j], in, at, d);
	/* Rejections first, then passes; stable within each group. */
	tmp = *d;
	d->reason_count = 0;
	for (int pass = 0; pass < 2; pass++)
		for (i = 0; i < tmp.reason_count; i++)
			if (tmp.reasons[i].ok == pass)
				d->reasons[d->reason_count++] = tmp.reasons[i];
	return 0;
}
