/* Intel PCS TCB info / QE identity parsing and TDX TCB level selection. */
#include <stdio.h>
#include <string.h>

#include "core/json.h"
#include "evidence/intel_collateral.h"

#define STAGE "evidence.tdx.collateral"
#define STAGE_TCB "evidence.tdx.tcb"
#define JSON_DEPTH_MAX 32

static const char *const status_names[CI_TCB_STATUS_COUNT] = {
	[CI_TCB_UP_TO_DATE] = "UpToDate",
	[CI_TCB_SW_HARDENING_NEEDED] = "SWHardeningNeeded",
	[CI_TCB_CONFIG_NEEDED] = "ConfigurationNeeded",
	[CI_TCB_CONFIG_AND_SW_HARDENING_NEEDED] = "ConfigurationAndSWHardeningNeeded",
	[CI_TCB_OUT_OF_DATE] = "OutOfDate",
	[CI_TCB_OUT_OF_DATE_CONFIG_NEEDED] = "OutOfDateConfigurationNeeded",
	[CI_TCB_REVOKED] = "Revoked",
};

const char *
ci_intel_tcb_status_name(enum ci_intel_tcb_status s)
{
	if ((unsigned)s >= CI_TCB_STATUS_COUNT)
		return "?";
	return status_names[s];
}

static int
status_parse(const char *s, enum ci_intel_tcb_status *out)
{
	for (unsigned i = 0; i < CI_TCB_STATUS_COUNT; i++)
		if (strcmp(s, status_names[i]) == 0) {	/* public */
			*out = (enum ci_intel_tcb_status)i;
			return 0;
		}
	return -1;
}

/* ---- splitting a signed document without re-serialising it ---------------- */

static int
is_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void
skip_ws(struct ci_rd *r)
{
	while (r->left > 0 && is_ws(r->p[0]))
		ci_rd_skip(r, 1);
}

/* Consumes a JSON string token; s and n get its raw content (escapes kept). */
static int
lex_string(struct ci_rd *r, const uint8_t **s, size_t *n)
{
	uint8_t c = 0;

	if (ci_rd_u8(r, &c) != 0 || c != '"')
		return -1;
	*s = r->p;
	*n = 0;
	for (;;) {
		if (ci_rd_u8(r, &c) != 0 || c < 0x20)
			return -1;
		if (c == '"')
			return 0;
		(*n)++;
		if (c == '\\') {
			if (ci_rd_u8(r, &c) != 0)
				return -1;
			(*n)++;
		}
	}
}

/* Consumes one JSON value lexically (contents are checked by jansson later). */
static int
lex_value(struct ci_rd *r)
{
	const uint8_t *s;
	size_t n;
	int depth = 0;

	if (r->left == 0)
		return -1;
	if (r->p[0] == '"')
		return lex_string(r, &s, &n);
	if (r->p[0] != '{' && r->p[0] != '[') {
		size_t k = 0;
		while (k < r->left && !is_ws(r->p[k]) && r->p[k] != ',' && r->p[k] != '}' &&
		    r->p[k] != ']')
			k++;
		return k == 0 ? -1 : ci_rd_skip(r, k);
	}
	do {
		if (r->left == 0)
			return -1;
		if (r->p[0] == '"') {
			if (lex_string(r, &s, &n) != 0)
				return -1;
			continue;
		}
		if (r->p[0] == '{' || r->p[0] == '[') {
			if (++depth > JSON_DEPTH_MAX)
				return -1;
		} else if (r->p[0] == '}' || r->p[0] == ']') {
			depth--;
		}
		ci_rd_skip(r, 1);
	} while (depth > 0);
	return 0;
}

int
ci_intel_signed_split(const uint8_t *p, size_t size, const char *key,
    struct ci_intel_signed *out, struct cinfer_err *e)
{
	struct ci_rd r;
	uint8_t c = 0;
	int have_body = 0, have_sig = 0;

	memset(out, 0, sizeof(*out));
	if (size > CI_INTEL_COLLATERAL_MAX)
		return ci_fail(e, CINFER_E_LIMIT, STAGE, "%s document of %zu bytes", key, size);
	ci_rd_init(&r, p, size);
	skip_ws(&r);
	if (ci_rd_u8(&r, &c) != 0 || c != '{')
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "%s document is not a JSON object", key);
	for (;;) {
		const uint8_t *k, *v0;
		size_t kn;

		skip_ws(&r);
		if (lex_string(&r, &k, &kn) != 0)
			return ci_fail(e, CINFER_E_MALFORMED, STAGE, "%s document: bad key", key);
		skip_ws(&r);
		if (ci_rd_u8(&r, &c) != 0 || c != ':')
			return ci_fail(e, CINFER_E_MALFORMED, STAGE, "%s document: missing ':'", key);
		skip_ws(&r);
		v0 = r.p;
		if (lex_value(&r) != 0)
			return ci_fail(e, CINFER_E_MALFORMED, STAGE, "%s document: bad value", key);
		if (kn == strlen(key) && memcmp(k, key, kn) == 0 && !have_body) {	/* public */
			out->body = v0;
			out->body_size = (size_t)(r.p - v0);
			have_body = 1;
		} else if (kn == 9 && memcmp(k, "signature", 9) == 0 && !have_sig) {	/* public */
			size_t n = 0;
			if ((size_t)(r.p - v0) != 130 || v0[0] != '"' ||
			    ci_hex_decode((const char *)v0 + 1, 128, out->sig, sizeof(out->sig), &n,
			    NULL) != 0 || n != 64)
				return ci_fail(e, CINFER_E_MALFORMED, STAGE,
				    "%s document: signature must be 64 bytes of hex", key);
			have_sig = 1;
		} else {
			return ci_fail(e, CINFER_E_MALFORMED, STAGE,
			    "%s document: unexpected or repeated field \"%.*s\"", key,
			    (int)(kn > 40 ? 40 : kn), (const char *)k);
		}
		skip_ws(&r);
		if (ci_rd_u8(&r, &c) != 0 || (c != ',' && c != '}'))
			return ci_fail(e, CINFER_E_MALFORMED, STAGE, "%s document: bad object", key);
		if (c == '}')
			break;
	}
	skip_ws(&r);
	while (r.left > 0 && r.p[0] == '\0')	/* C strings from PCCS clients */
		ci_rd_skip(&r, 1);
	if (ci_rd_done(&r) != 0)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "%s document: bytes after the object",
		    key);
	if (!have_body || !have_sig)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "%s document lacks \"%s\" or \"signature\"",
		    key, key);
	if (out->body[0] != '{')
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "\"%s\" must be an object", key);
	return 0;
}

/* ---- documents ------------------------------------------------------------ */

static int
parse_level_common(const json_t *lv, struct ci_intel_level *l, struct cinfer_err *e)
{
	const char *st = NULL;
	const json_t *adv;

	if (ci_json_time(lv, "tcbDate", 1, &l->date, STAGE, e) != 0 ||
	    ci_json_str(lv, "tcbStatus", 1, &st, STAGE, e) != 0)
		return -1;
	if (status_parse(st, &l->status) != 0)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "unknown tcbStatus \"%.40s\"", st);
	adv = json_object_get(lv, "advisoryIDs");
	if (adv != NULL) {
		size_t i;
		json_t *a;
		if (!json_is_array(adv))
			return ci_fail(e, CINFER_E_MALFORMED, STAGE, "advisoryIDs must be an array");
		json_array_foreach(adv, i, a)
			if (!json_is_string(a) || json_string_length(a) > 32)
				return ci_fail(e, CINFER_E_MALFORMED, STAGE,
				    "advisoryIDs must hold short strings");
		l->advisories = adv;
	}
	return 0;
}

static int
parse_isv_levels(const json_t *arr, struct ci_intel_level *levels, size_t *count,
    struct cinfer_err *e)
{
	size_t i;
	json_t *lv;

	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "tcbLevels must be a non-empty array");
	if (json_array_size(arr) > CI_INTEL_LEVELS_MAX)
		return ci_fail(e, CINFER_E_LIMIT, STAGE, "more than %d TCB levels", CI_INTEL_LEVELS_MAX);
	json_array_foreach(arr, i, lv) {
		int64_t svn = 0;
		struct ci_intel_level *l = &levels[i];
		memset(l, 0, sizeof(*l));
		if (ci_json_int(json_object_get(lv, "tcb"), "isvsvn", 1, &svn, STAGE, e) != 0)
			return -1;
		if (svn < 0 || svn > 65535)
			return ci_fail(e, CINFER_E_MALFORMED, STAGE, "isvsvn %lld out of range",
			    (long long)svn);
		l->isvsvn = (uint16_t)svn;
		if (parse_level_common(lv, l, e) != 0)
			return -1;
	}
	*count = json_array_size(arr);
	return 0;
}

static int
parse_components(const json_t *arr, uint8_t out[16], const char *what, struct cinfer_err *e)
{
	size_t i;
	json_t *c;

	if (!json_is_array(arr) || json_array_size(arr) != 16)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "%s must list 16 components", what);
	json_array_foreach(arr, i, c) {
		int64_t svn = 0;
		if (ci_json_int(c, "svn", 1, &svn, STAGE, e) != 0)
			return -1;
		if (svn < 0 || svn > 255)
			return ci_fail(e, CINFER_E_MALFORMED, STAGE, "%s svn out of range", what);
		out[i] = (uint8_t)svn;
	}
	return 0;
}

static int
parse_module_ids(const json_t *arr, struct ci_intel_tcb_info *t, struct cinfer_err *e)
{
	size_t i;
	json_t *m;

	if (!json_is_array(arr))
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "tdxModuleIdentities must be an array");
	if (json_array_size(arr) > CI_INTEL_MODULES_MAX)
		return ci_fail(e, CINFER_E_LIMIT, STAGE, "more than %d TDX module identities",
		    CI_INTEL_MODULES_MAX);
	json_array_foreach(arr, i, m) {
		struct ci_intel_module_id *mi = &t->modules[i];
		const char *id = NULL;
		if (ci_json_str(m, "id", 1, &id, STAGE, e) != 0)
			return -1;
		if (strlen(id) >= sizeof(mi->id))
			return ci_fail(e, CINFER_E_MALFORMED, STAGE, "TDX module id too long");
		strcpy(mi->id, id);
		if (ci_json_hex(m, "mrsigner", 1, mi->mrsigner, 48, 48, NULL, STAGE, e) != 0 ||
		    ci_json_hex(m, "attributes", 1, mi->attributes, 8, 8, NULL, STAGE, e) != 0 ||
		    ci_json_hex(m, "attributesMask", 1, mi->attributes_mask, 8, 8, NULL, STAGE, e) != 0 ||
		    parse_isv_levels(json_object_get(m, "tcbLevels"), mi->levels, &mi->level_count,
		    e) != 0)
			return -1;
	}
	t->module_count = json_array_size(arr);
	return 0;
}

int
ci_intel_tcb_info_parse(struct ci_intel_tcb_info *t, const uint8_t *p, size_t size,
    struct cinfer_err *e)
{
	const char *id = NULL;
	const json_t *levels, *mod, *mods;
	json_t *lv;
	size_t i;

	memset(t, 0, sizeof(*t));
	if (ci_json_parse(p, size, STAGE, &t->root, e) != 0)
		return -1;
	if (!json_is_object(t->root)) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE, "tcbInfo must be an object");
		goto bad;
	}
	if (ci_json_str(t->root, "id", 1, &id, STAGE, e) != 0 ||
	    ci_json_int(t->root, "version", 1, &t->version, STAGE, e) != 0)
		goto bad;
	if (strcmp(id, "TDX") != 0 || t->version != 3) {	/* public */
		ci_fail(e, CINFER_E_UNSUPPORTED, STAGE, "tcbInfo id \"%.16s\" version %lld (want TDX, 3)",
		    id, (long long)t->version);
		goto bad;
	}
	if (ci_json_time(t->root, "issueDate", 1, &t->issue_date, STAGE, e) != 0 ||
	    ci_json_time(t->root, "nextUpdate", 1, &t->next_update, STAGE, e) != 0 ||
	    ci_json_hex(t->root, "fmspc", 1, t->fmspc, 6, 6, NULL, STAGE, e) != 0 ||
	    ci_json_hex(t->root, "pceId", 1, t->pceid, 2, 2, NULL, STAGE, e) != 0 ||
	    ci_json_int(t->root, "tcbType", 1, &t->tcb_type, STAGE, e) != 0 ||
	    ci_json_int(t->root, "tcbEvaluationDataNumber", 1, &t->eval_number, STAGE, e) != 0)
		goto bad;
	if (t->tcb_type != 0) {
		ci_fail(e, CINFER_E_UNSUPPORTED, STAGE, "tcbType %lld", (long long)t->tcb_type);
		goto bad;
	}
	mod = json_object_get(t->root, "tdxModule");
	if (mod != NULL) {
		if (ci_json_hex(mod, "mrsigner", 1, t->module_mrsigner, 48, 48, NULL, STAGE, e) != 0 ||
		    ci_json_hex(mod, "attributes", 1, t->module_attributes, 8, 8, NULL, STAGE, e) != 0 ||
		    ci_json_hex(mod, "attributesMask", 1, t->module_attributes_mask, 8, 8, NULL, STAGE,
		    e) != 0)
			goto bad;
		t->has_module = 1;
	}
	mods = json_object_get(t->root, "tdxModuleIdentities");
	if (mods != NULL && parse_module_ids(mods, t, e) != 0)
		goto bad;
	levels = json_object_get(t->root, "tcbLevels");
	if (!json_is_array(levels) || json_array_size(levels) == 0) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE, "tcbLevels must be a non-empty array");
		goto bad;
	}
	if (json_array_size(levels) > CI_INTEL_LEVELS_MAX) {
		ci_fail(e, CINFER_E_LIMIT, STAGE, "more than %d TCB levels", CI_INTEL_LEVELS_MAX);
		goto bad;
	}
	json_array_foreach(levels, i, lv) {
		struct ci_intel_level *l = &t->levels[i];
		const json_t *tcb = json_object_get(lv, "tcb");
		int64_t pcesvn = 0;
		if (!json_is_object(tcb)) {
			ci_fail(e, CINFER_E_MALFORMED, STAGE, "TCB level without \"tcb\"");
			goto bad;
		}
		if (parse_components(json_object_get(tcb, "sgxtcbcomponents"), l->sgx,
		    "sgxtcbcomponents", e) != 0 ||
		    parse_components(json_object_get(tcb, "tdxtcbcomponents"), l->tdx,
		    "tdxtcbcomponents", e) != 0 ||
		    ci_json_int(tcb, "pcesvn", 1, &pcesvn, STAGE, e) != 0 ||
		    parse_level_common(lv, l, e) != 0)
			goto bad;
		if (pcesvn < 0 || pcesvn > 65535) {
			ci_fail(e, CINFER_E_MALFORMED, STAGE, "pcesvn out of range");
			goto bad;
		}
		l->pcesvn = (uint16_t)pcesvn;
	}
	t->level_count = json_array_size(levels);
	return 0;
bad:
	ci_intel_tcb_info_clear(t);
	return -1;
}

void
ci_intel_tcb_info_clear(struct ci_intel_tcb_info *t)
{
	json_decref(t->root);
	t->root = NULL;
	t->level_count = 0;
	t->module_count = 0;
}

int
ci_intel_qe_identity_parse(struct ci_intel_qe_identity *q, const uint8_t *p, size_t size,
    struct cinfer_err *e)
{
	const char *id = NULL;
	uint8_t b4[4];
	int64_t prodid = 0;

	memset(q, 0, sizeof(*q));
	if (ci_json_parse(p, size, STAGE, &q->root, e) != 0)
		return -1;
	if (!json_is_object(q->root)) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE, "enclaveIdentity must be an object");
		goto bad;
	}
	if (ci_json_str(q->root, "id", 1, &id, STAGE, e) != 0 ||
	    ci_json_int(q->root, "version", 1, &q->version, STAGE, e) != 0)
		goto bad;
	if (strcmp(id, "TD_QE") != 0 || q->version != 2) {	/* public */
		ci_fail(e, CINFER_E_UNSUPPORTED, STAGE,
		    "enclaveIdentity id \"%.16s\" version %lld (want TD_QE, 2)", id,
		    (long long)q->version);
		goto bad;
	}
	if (ci_json_time(q->root, "issueDate", 1, &q->issue_date, STAGE, e) != 0 ||
	    ci_json_time(q->root, "nextUpdate", 1, &q->next_update, STAGE, e) != 0 ||
	    ci_json_int(q->root, "tcbEvaluationDataNumber", 1, &q->eval_number, STAGE, e) != 0 ||
	    ci_json_hex(q->root, "miscselect", 1, b4, 4, 4, NULL, STAGE, e) != 0)
		goto bad;
	/* Hex strings are big-endian; the report field is little-endian. */
	q->miscselect = (uint32_t)b4[0] << 24 | (uint32_t)b4[1] << 16 | (uint32_t)b4[2] << 8 | b4[3];
	if (ci_json_hex(q->root, "miscselectMask", 1, b4, 4, 4, NULL, STAGE, e) != 0)
		goto bad;
	q->miscselect_mask = (uint32_t)b4[0] << 24 | (uint32_t)b4[1] << 16 | (uint32_t)b4[2] << 8 |
	    b4[3];
	if (ci_json_hex(q->root, "attributes", 1, q->attributes, 16, 16, NULL, STAGE, e) != 0 ||
	    ci_json_hex(q->root, "attributesMask", 1, q->attributes_mask, 16, 16, NULL, STAGE, e) != 0 ||
	    ci_json_hex(q->root, "mrsigner", 1, q->mrsigner, 32, 32, NULL, STAGE, e) != 0 ||
	    ci_json_int(q->root, "isvprodid", 1, &prodid, STAGE, e) != 0 ||
	    parse_isv_levels(json_object_get(q->root, "tcbLevels"), q->levels, &q->level_count,
	    e) != 0)
		goto bad;
	if (prodid < 0 || prodid > 65535) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE, "isvprodid out of range");
		goto bad;
	}
	q->isvprodid = (uint16_t)prodid;
	return 0;
bad:
	ci_intel_qe_identity_clear(q);
	return -1;
}

void
ci_intel_qe_identity_clear(struct ci_intel_qe_identity *q)
{
	json_decref(q->root);
	q->root = NULL;
	q->level_count = 0;
}

/* ---- TCB level selection -------------------------------------------------- */

/* QVL's convergence: a worse module or QE status pulls the platform status down. */
static enum ci_intel_tcb_status
converge(enum ci_intel_tcb_status base, enum ci_intel_tcb_status other)
{
	if (base == CI_TCB_REVOKED || other == CI_TCB_REVOKED)
		return CI_TCB_REVOKED;
	if (other == CI_TCB_OUT_OF_DATE || other == CI_TCB_OUT_OF_DATE_CONFIG_NEEDED) {
		switch (base) {
		case CI_TCB_UP_TO_DATE:
		case CI_TCB_SW_HARDENING_NEEDED:
			return CI_TCB_OUT_OF_DATE;
		case CI_TCB_CONFIG_NEEDED:
		case CI_TCB_CONFIG_AND_SW_HARDENING_NEEDED:
			return CI_TCB_OUT_OF_DATE_CONFIG_NEEDED;
		default:
			return base;
		}
	}
	return base;
}

static int
masked_eq(const uint8_t *v, const uint8_t *mask, const uint8_t *want, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((v[i] & mask[i]) != (want[i] & mask[i]))
			return 0;
	return 1;
}

int
ci_tdx_tcb_evaluate(const struct ci_intel_tcb_info *t, const struct ci_intel_qe_identity *qi,
    const uint8_t pck_comp_svn[16], uint16_t pck_pcesvn, const uint8_t tee_tcb_svn[16],
    const uint8_t mrsignerseam[48], const uint8_t seam_attributes[8],
    const uint8_t qe_mrsigner[32], uint16_t qe_isvprodid, uint16_t qe_isvsvn,
    uint32_t qe_miscselect, const uint8_t qe_attributes[16], struct ci_tdx_tcb_eval *out,
    struct cinfer_err *e)
{
	size_t first_tdx = 0, i;
	enum ci_intel_tcb_status st;
	int64_t date;

	memset(out, 0, sizeof(*out));
	/* TDX module: version TEE_TCB_SVN[1], SVN TEE_TCB_SVN[0]. */
	if (t->module_count > 0 && tee_tcb_svn[1] > 0) {
		char id[16];
		snprintf(id, sizeof(id), "TDX_%02X", tee_tcb_svn[1]);
		for (i = 0; i < t->module_count; i++)
			if (strcmp(t->modules[i].id, id) == 0)	/* public */
				out->module = &t->modules[i];
		if (out->module == NULL)
			return ci_fail(e, CINFER_E_UNSUPPORTED, STAGE_TCB,
			    "TCB info has no TDX module identity %s", id);
		if (memcmp(out->module->mrsigner, mrsignerseam, 48) != 0 ||	/* public */
		    !masked_eq(seam_attributes, out->module->attributes_mask, out->module->attributes, 8))
			return ci_fail(e, CINFER_E_CRYPTO, STAGE_TCB,
			    "MRSIGNERSEAM or SEAM attributes do not match TDX module identity %s", id);
		for (i = 0; i < out->module->level_count; i++)
			if (tee_tcb_svn[0] >= out->module->levels[i].isvsvn) {
				out->module_level = &out->module->levels[i];
				break;
			}
		if (out->module_level == NULL)
			return ci_fail(e, CINFER_E_STALE, STAGE_TCB,
			    "TDX module %s SVN %u is below every TCB level (TCB level not supported)",
			    id, tee_tcb_svn[0]);
		first_tdx = 2;
	} else if (t->has_module) {
		if (memcmp(t->module_mrsigner, mrsignerseam, 48) != 0 ||	/* public */
		    !masked_eq(seam_attributes, t->module_attributes_mask, t->module_attributes, 8))
			return ci_fail(e, CINFER_E_CRYPTO, STAGE_TCB,
			    "MRSIGNERSEAM or SEAM attributes do not match the TCB info's tdxModule");
	}
	for (i = 0; i < t->level_count && out->platform == NULL; i++) {
		const struct ci_intel_level *l = &t->levels[i];
		size_t k;
		for (k = 0; k < 16; k++)
			if (pck_comp_svn[k] < l->sgx[k])
				break;
		if (k < 16 || pck_pcesvn < l->pcesvn)
			continue;
		for (k = first_tdx; k < 16; k++)
			if (tee_tcb_svn[k] < l->tdx[k])
				break;
		if (k == 16)
			out->platform = l;
	}
	if (out->platform == NULL)
		return ci_fail(e, CINFER_E_STALE, STAGE_TCB,
		    "no TCB level matches the platform (TCB level not supported)");

	/* QE identity. */
	if (memcmp(qi->mrsigner, qe_mrsigner, 32) != 0 || qi->isvprodid != qe_isvprodid)	/* public */
		return ci_fail(e, CINFER_E_CRYPTO, STAGE_TCB,
		    "QE MRSIGNER or ISVPRODID does not match the QE identity");
	if ((qe_miscselect & qi->miscselect_mask) != (qi->miscselect & qi->miscselect_mask) ||
	    !masked_eq(qe_attributes, qi->attributes_mask, qi->attributes, 16))
		return ci_fail(e, CINFER_E_CRYPTO, STAGE_TCB,
		    "QE MISCSELECT or ATTRIBUTES do not match the QE identity");
	for (i = 0; i < qi->level_count; i++)
		if (qe_isvsvn >= qi->levels[i].isvsvn) {
			out->qe = &qi->levels[i];
			break;
		}
	if (out->qe == NULL)
		return ci_fail(e, CINFER_E_STALE, STAGE_TCB,
		    "QE ISVSVN %u is below every QE identity level", qe_isvsvn);

	st = out->platform->status;
	date = out->platform->date;
	if (out->module_level != NULL) {
		st = converge(st, out->module_level->status);
		if (out->module_level->date < date)
			date = out->module_level->date;
	}
	st = converge(st, out->qe->status);
	if (out->qe->date < date)
		date = out->qe->date;
	out->status = st;
	out->tcb_date = date;
	return 0;
}
