/*
 * Internal core of libcinfer: used by every area, never installed.
 * Naming: ci_<area>_<verb>; fallible functions return 0 or -1 and take
 * struct cinfer_err *e last.
 */
#ifndef CI_CORE_H
#define CI_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cinfer/err.h"

#define CI_MUST_CHECK __attribute__((warn_unused_result))
#define CI_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* err.c */
/* Keeps the first failure only; always returns -1; e may be NULL. */
int ci_fail(struct cinfer_err *e, enum cinfer_code code, const char *stage,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Replaces every non-printable byte of s with '?', in place. */
void ci_str_mask(char *s);

/* alloc.c: every allocation goes through here so tests can count and fail them. */
void *ci_alloc(size_t size);			/* uninitialised; NULL on failure */
void *ci_calloc(size_t count, size_t size);	/* zeroed; checks count*size */
void *ci_realloc(void *p, size_t size);
void ci_free(void *p);				/* NULL is a no-op */
char *ci_strdup(const char *s);
char *ci_strndup(const char *s, size_t n);
void *ci_memdup(const void *p, size_t size);
/* Makes the allocation after n more succeed fail (SIZE_MAX: never). */
void ci_alloc_fail_after(size_t n);
/* Allocations made through ci_alloc and not yet freed. */
size_t ci_alloc_live(void);

/* rd.c: the bounds-checked byte reader. Reads after a failure fail too. */
struct ci_rd {
	const uint8_t *p;	/* next unread byte */
	size_t left;		/* bytes left in this view */
	int bad;		/* sticky: once set, all reads fail */
};
void ci_rd_init(struct ci_rd *r, const void *p, size_t size);
int ci_rd_u8(struct ci_rd *r, uint8_t *v);	/* *v = 0 on failure */
int ci_rd_u16le(struct ci_rd *r, uint16_t *v);
int ci_rd_u32le(struct ci_rd *r, uint32_t *v);
int ci_rd_u64le(struct ci_rd *r, uint64_t *v);
int ci_rd_u16be(struct ci_rd *r, uint16_t *v);
int ci_rd_u32be(struct ci_rd *r, uint32_t *v);
int ci_rd_u64be(struct ci_rd *r, uint64_t *v);
int ci_rd_bytes(struct ci_rd *r, size_t n, const uint8_t **v);	/* borrow */
int ci_rd_copy(struct ci_rd *r, void *dst, size_t n);		/* dst zeroed on failure */
int ci_rd_skip(struct ci_rd *r, size_t n);
int ci_rd_sub(struct ci_rd *r, size_t n, struct ci_rd *sub);	/* nested view */
int ci_rd_done(const struct ci_rd *r);	/* 0 iff consumed and never bad */

/* enc.c: hex, base64, base64url. Decoders reject bad characters and lengths. */
size_t ci_hex_size(size_t size);	/* characters, without the NUL */
void ci_hex_encode(const void *src, size_t size, char *dst);	/* dst: 2*size+1 */
CI_MUST_CHECK int ci_hex_decode(const char *src, size_t len, uint8_t *dst,
    size_t dst_size, size_t *out_size, struct cinfer_err *e);
size_t ci_b64_size(size_t size);	/* characters, padded, without the NUL */
void ci_b64_encode(const void *src, size_t size, char *dst);
void ci_b64url_encode(const void *src, size_t size, char *dst);	/* no padding */
/* Decodes standard (with or without padding) or url-safe alphabet as asked. */
CI_MUST_CHECK int ci_b64_decode(const char *src, size_t len, int url,
    uint8_t **out, size_t *out_size, struct cinfer_err *e);
/* Returns new NUL-terminated strings (free with ci_free). */
char *ci_hex_new(const void *src, size_t size);
char *ci_b64_new(const void *src, size_t size);
char *ci_b64url_new(const void *src, size_t size);

/* ct.c */
/* 0 iff equal; time depends only on size. */
int ci_ct_eq(const void *a, const void *b, size_t size);
int ci_is_zero(const void *p, size_t size);	/* public data only */

/* secret.c: locked, no-dump, wiped-on-free memory for keys and plaintext. */
struct ci_secret {
	uint8_t *p;
	size_t size;
	size_t map_size;	/* whole mapping, for munmap */
	int locked;		/* mlock succeeded */
};
CI_MUST_CHECK int ci_secret_init(struct ci_secret *s, size_t size, struct cinfer_err *e);
void ci_secret_clear(struct ci_secret *s);	/* wipes, unlocks, unmaps; idempotent */
void ci_wipe(void *p, size_t size);		/* never optimised away */

/* log.c: one line per event, key=value; peer strings are masked and cut. */
enum ci_log_level { CI_LOG_DEBUG, CI_LOG_INFO, CI_LOG_WARN, CI_LOG_ERROR };
void ci_log(enum ci_log_level level, const char *stage, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ci_log_set_level(enum ci_log_level level);
void ci_log_set_fd(int fd);
void ci_log_set_json(int on);

/* time.c */
/* Parses "2024-01-02T03:04:05Z" (fraction and offsets allowed). */
CI_MUST_CHECK int ci_time_parse(const char *s, int64_t *out, struct cinfer_err *e);
/* Formats as "YYYY-MM-DDTHH:MM:SSZ"; buf needs 21 bytes. */
void ci_time_format(int64_t t, char buf[21]);
int64_t ci_time_now(void);

/* file.c */
/* Reads a whole file (at most max bytes); returns new buffer, NUL-terminated. */
CI_MUST_CHECK int ci_file_read(const char *path, size_t max, uint8_t **out,
    size_t *out_size, struct cinfer_err *e);
/* Writes atomically (temp file, fsync, rename) with the given mode. */
CI_MUST_CHECK int ci_file_write(const char *path, const void *p, size_t size,
    int mode, struct cinfer_err *e);

#endif
