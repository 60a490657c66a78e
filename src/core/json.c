#include <string.h>

#include "core/json.h"

int
ci_json_parse(const void *p, size_t size, const char *stage, json_t **out,
    struct cinfer_err *e)
{
	json_error_t je;
	json_t *v;

	*out = NULL;
	if (size > CI_JSON_MAX_SIZE)
		return ci_fail(e, CINFER_E_LIMIT, stage, "JSON document of %zu bytes is over %u",
		    size, CI_JSON_MAX_SIZE);
	v = json_loadb(p, size, JSON_REJECT_DUPLICATES, &je);
	if (v == NULL)
		return ci_fail(e, CINFER_E_MALFORMED, stage, "line %d column %d: %s",
		    je.line, je.column, je.text);
	*out = v;
	return 0;
}

int
ci_json_known_keys(const json_t *obj, const char *const *keys, const char *stage,
    const char *where, struct cinfer_err *e)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)obj, k, v) {
		size_t i;
		for (i = 0; keys[i] != NULL; i++)
			if (strcmp(k, keys[i]) == 0)	/* public */
				break;
		if (keys[i] == NULL)
			return ci_fail(e, CINFER_E_MALFORMED, stage, "%s: unknown field \"%.40s\"",
			    where, k);
	}
	return 0;
}

static json_t *
get(const json_t *obj, const char *key, int required, int *rc, const char *stage,
    struct cinfer_err *e)
{
	json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	*rc = 0;
	if (v == NULL || json_is_null(v)) {
		*rc = required ? ci_fail(e, CINFER_E_MALFORMED, stage,
		    "missing field \"%s\"", key) : 1;
		return NULL;
	}
	return v;
}

int
ci_json_str(const json_t *obj, const char *key, int required, const char **out,
    const char *stage, struct cinfer_err *e)
{
	int rc;
	json_t *v = get(obj, key, required, &rc, stage, e);

	if (v == NULL)
		return rc;
	if (!json_is_string(v))
		return ci_fail(e, CINFER_E_MALFORMED, stage, "field \"%s\" must be a string", key);
	*out = json_string_value(v);
	return 0;
}

int
ci_json_int(const json_t *obj, const char *key, int required, int64_t *out,
    const char *stage, struct cinfer_err *e)
{
	int rc;
	json_t *v = get(obj, key, required, &rc, stage, e);

	if (v == NULL)
		return rc;
	if (!json_is_integer(v))
		return ci_fail(e, CINFER_E_MALFORMED, stage, "field \"%s\" must be an integer", key);
	*out = (int64_t)json_integer_value(v);
	return 0;
}

int
ci_json_bool(const json_t *obj, const char *key, int required, int *out,
    const char *stage, struct cinfer_err *e)
{
	int rc;
	json_t *v = get(obj, key, required, &rc, stage, e);

	if (v == NULL)
		return rc;
	if (!json_is_boolean(v))
		return ci_fail(e, CINFER_E_MALFORMED, stage, "field \"%s\" must be true or false", key);
	*out = json_is_true(v);
	return 0;
}

int
ci_json_hex(const json_t *obj, const char *key, int required, uint8_t *dst,
    size_t size_min, size_t size_max, size_t *out_size, const char *stage,
    struct cinfer_err *e)
{
	const char *s = NULL;
	size_t n = 0;
	int rc = ci_json_str(obj, key, required, &s, stage, e);

	if (rc != 0)
		return rc;
	if (ci_hex_decode(s, strlen(s), dst, size_max, &n, NULL) != 0 || n < size_min)
		return ci_fail(e, CINFER_E_MALFORMED, stage,
		    "field \"%s\" must be %zu%s bytes of hex", key, size_min,
		    size_max > size_min ? " or more" : "");
	if (out_size != NULL)
		*out_size = n;
	return 0;
}

int
ci_json_time(const json_t *obj, const char *key, int required, int64_t *out,
    const char *stage, struct cinfer_err *e)
{
	const char *s = NULL;
	int rc = ci_json_str(obj, key, required, &s, stage, e);

	if (rc != 0)
		return rc;
	if (ci_time_parse(s, out, NULL) != 0)
		return ci_fail(e, CINFER_E_MALFORMED, stage,
		    "field \"%s\" must be an RFC 3339 time like 2025-01-31T00:00:00Z", key);
	return 0;
}

char *
ci_json_dump(const json_t *v, int pretty)
{
	char *s = json_dumps(v, JSON_SORT_KEYS | (pretty ? JSON_INDENT(2) : JSON_COMPACT));
	char *r;

	if (s == NULL)
		return NULL;
	r = ci_strdup(s);
	free(s);
	return r;
}
