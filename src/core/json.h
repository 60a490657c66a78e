/* Strict JSON helpers over jansson for untrusted documents. */
#ifndef CI_JSON_H
#define CI_JSON_H

#include <jansson.h>

#include "core/ci.h"

#define CI_JSON_MAX_SIZE (16u << 20)

/*
 * Parses a whole document: duplicate keys rejected, must be an object or
 * array, errors say line and column. Returns a new reference.
 */
CI_MUST_CHECK int ci_json_parse(const void *p, size_t size, const char *stage,
    json_t **out, struct cinfer_err *e);

/* Fails naming the first key of obj not in the NULL-terminated list. */
CI_MUST_CHECK int ci_json_known_keys(const json_t *obj, const char *const *keys,
    const char *stage, const char *where, struct cinfer_err *e);

/*
 * Typed getters. A missing key is an error only when required; then *out
 * keeps its prior value and the return is 1 (present: 0, error: -1).
 */
int ci_json_str(const json_t *obj, const char *key, int required, const char **out,
    const char *stage, struct cinfer_err *e);
int ci_json_int(const json_t *obj, const char *key, int required, int64_t *out,
    const char *stage, struct cinfer_err *e);
int ci_json_bool(const json_t *obj, const char *key, int required, int *out,
    const char *stage, struct cinfer_err *e);
/* Hex string of exactly size bytes (size_max > 0: between 1 and size_max). */
int ci_json_hex(const json_t *obj, const char *key, int required, uint8_t *dst,
    size_t size_min, size_t size_max, size_t *out_size, const char *stage,
    struct cinfer_err *e);
/* RFC 3339 time string. */
int ci_json_time(const json_t *obj, const char *key, int required, int64_t *out,
    const char *stage, struct cinfer_err *e);

/* Serialises compactly with sorted keys; returns new string (free with ci_free). */
char *ci_json_dump(const json_t *v, int pretty);

#endif
