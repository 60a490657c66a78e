/* Sealed model bundles: see include/cinfer/seal.h and docs/sealed-bundle.md. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "cinfer/seal.h"
#include "core/ci.h"
#include "crypto/aead.h"
#include "crypto/crypto.h"
#include "crypto/shamir.h"

#define STAGE "seal"
#define STAGE_HDR "seal.header"
#define STAGE_CHUNK "seal.chunk"
#define MAGIC "CINFSEAL"
#define AEAD_AES256GCM 1
#define PLAINTEXT_MAX (1ull << 40)

int
cinfer_seal_key_id_valid(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return 0;
	for (; s[n] != '\0'; n++) {
		char c = s[n];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return n > 0 && n <= CINFER_SEAL_KEY_ID_MAX && s[0] != '.';
}

static uint64_t
chunk_count(const struct cinfer_bundle_info *h)
{
	if (h->plaintext_size == 0)
		return 1;
	return (h->plaintext_size + h->chunk_size - 1) / h->chunk_size;
}

/* Total bundle size the header promises; 0 on overflow. */
static uint64_t
bundle_size(const struct cinfer_bundle_info *h)
{
	return h->header_size + h->plaintext_size + chunk_count(h) * CINFER_SEAL_TAG_SIZE;
}

int
cinfer_bundle_parse_header(const void *p, size_t size, struct cinfer_bundle_info *out,
    struct cinfer_err *e)
{
	struct ci_rd r, hr;
	const uint8_t *magic, *kid, *url;
	uint32_t hsize;
	uint16_t aead, ulen;
	uint8_t klen;

	memset(out, 0, sizeof(*out));
	ci_rd_init(&r, p, size);
	ci_rd_bytes(&r, 8, &magic);
	ci_rd_u32le(&r, &hsize);
	if (r.bad)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE_HDR, "bundle shorter than its header");
	if (memcmp(magic, MAGIC, 8) != 0)	/* public */
		return ci_fail(e, CINFER_E_MALFORMED, STAGE_HDR, "not a cinfer sealed bundle");
	if (hsize < 12 || hsize > CINFER_SEAL_HEADER_MAX)
		return ci_fail(e, CINFER_E_LIMIT, STAGE_HDR, "header of %u bytes", hsize);
	ci_rd_init(&r, p, size);
	if (ci_rd_sub(&r, hsize, &hr) != 0)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE_HDR, "header truncated (%u bytes)",
		    hsize);
	ci_rd_skip(&hr, 12);
	ci_rd_u16le(&hr, &out->version);
	ci_rd_u16le(&hr, &aead);
	ci_rd_u32le(&hr, &out->chunk_size);
	ci_rd_u64le(&hr, &out->plaintext_size);
	ci_rd_copy(&hr, out->model_digest, 32);
	ci_rd_copy(&hr, out->salt, 32);
	ci_rd_u8(&hr, &klen);
	if (hr.bad)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE_HDR, "header truncated");
	if (out->version != CINFER_SEAL_VERSION)
		return ci_fail(e, CINFER_E_UNSUPPORTED, STAGE_HDR, "bundle format version %u",
		    out->version);
	if (aead != AEAD_AES256GCM)
		return ci_fail(e, CINFER_E_UNSUPPORTED, STAGE_HDR, "AEAD %u", aead);
	if (out->chunk_size < CINFER_SEAL_CHUNK_MIN || out->chunk_size > CINFER_SEAL_CHUNK_MAX)
		return ci_fail(e, CINFER_E_LIMIT, STAGE_HDR, "chunk size %u", out->chunk_size);
	if (out->plaintext_size > PLAINTEXT_MAX)
		return ci_fail(e, CINFER_E_LIMIT, STAGE_HDR, "model of %llu bytes",
		    (unsigned long long)out->plaintext_size);
	if (klen == 0 || klen > CINFER_SEAL_KEY_ID_MAX || ci_rd_bytes(&hr, klen, &kid) != 0)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE_HDR, "bad key id length %u", klen);
	memcpy(out->key_id, kid, klen);
	out->key_id[klen] = '\0';
	if (!cinfer_seal_key_id_valid(out->key_id))
		return ci_fail(e, CINFER_E_MALFORMED, STAGE_HDR, "key id has invalid characters");
	ci_rd_u8(&hr, &out->threshold);
	ci_rd_u8(&hr, &out->broker_count);
	if (hr.bad || out->broker_count == 0 || out->broker_count > CINFER_SEAL_MAX_BROKERS)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE_HDR, "bad broker count %u",
		    out->broker_count);
	if (out->broker_count == 1 ? out->threshold != 1 :
	    (out->threshold < 2 || out->threshold > out->broker_count))
		return ci_fail(e, CINFER_E_MALFORMED, STAGE_HDR, "threshold %u of %u brokers",
		    out->threshold, out->broker_count);
	for (unsigned i = 0; i < out->broker_count; i++) {
		struct cinfer_bundle_broker *b = &out->brokers[i];
		ci_rd_u32le(&hr, &b->key_version);
		ci_rd_u16le(&hr, &ulen);
		if (hr.bad || ulen > CINFER_SEAL_URL_MAX || ci_rd_bytes(&hr, ulen, &url) != 0)
			return ci_fail(e, CINFER_E_MALFORMED, STAGE_HDR, "bad broker entry %u", i);
		memcpy(b->url, url, ulen);
		b->url[ulen] = '\0';
		if (strlen(b->url) != ulen)
			return ci_fail(e, CINFER_E_MALFORMED, STAGE_HDR, "NUL in broker URL %u", i);
		ci_str_mask(b->url);
	}
	if (ci_rd_done(&hr) != 0)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE_HDR, "%zu stray bytes in header",
		    hr.left);
	out->header_size = hsize;
	ci_sha256(p, hsize, out->header_digest);
	return 0;
}

/* Serialises info (all fields but header_size/digest) into buf; returns size or 0. */
static size_t
header_build(const struct cinfer_bundle_info *h, uint8_t *buf, size_t cap)
{
	size_t n = 0, klen = strlen(h->key_id);

#define PUT(src, len) do { if (n + (len) > cap) return 0; memcpy(buf + n, (src), (len)); \
	n += (len); } while (0)
#define PUTLE(v, bytes) do { uint64_t _v = (v); uint8_t _b[8]; \
	for (int _i = 0; _i < (bytes); _i++) _b[_i] = (uint8_t)(_v >> (8 * _i)); \
	PUT(_b, (size_t)(bytes)); } while (0)
	PUT(MAGIC, 8);
	PUTLE(0, 4);	/* header size, patched below */
	PUTLE(h->version, 2);
	PUTLE(AEAD_AES256GCM, 2);
	PUTLE(h->chunk_size, 4);
	PUTLE(h->plaintext_size, 8);
	PUT(h->model_digest, 32);
	PUT(h->salt, 32);
	PUTLE(klen, 1);
	PUT(h->key_id, klen);
	PUTLE(h->threshold, 1);
	PUTLE(h->broker_count, 1);
	for (unsigned i = 0; i < h->broker_count; i++) {
		size_t ulen = strlen(h->brokers[i].url);
		PUTLE(h->brokers[i].key_version, 4);
		PUTLE(ulen, 2);
		PUT(h->brokers[i].url, ulen);
	}
#undef PUT
#undef PUTLE
	buf[8] = (uint8_t)n;
	buf[9] = (uint8_t)(n >> 8);
	buf[10] = (uint8_t)(n >> 16);
	buf[11] = (uint8_t)(n >> 24);
	return n;
}

static int
chunk_key(const uint8_t key[32], const uint8_t salt[32], uint8_t out[32], struct cinfer_err *e)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[5];
	static const char info[] = "cinfer bundle v1";
	int rc = -1;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key, 32);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, 32);
	params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info,
	    sizeof(info) - 1);
	params[4] = OSSL_PARAM_construct_end();
	if (ctx == NULL || EVP_KDF_derive(ctx, out, 32, params) != 1) {
		ci_ossl_fail(e, CINFER_E_INTERNAL, STAGE, "HKDF failed");
		goto out;
	}
	rc = 0;
out:
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return rc;
}

static void
chunk_bind(const struct cinfer_bundle_info *h, uint64_t idx, int last,
    uint8_t nonce[CI_AEAD_NONCE_SIZE], uint8_t aad[41])
{
	for (int i = 0; i < 8; i++)
		nonce[i] = (uint8_t)(idx >> (56 - 8 * i));
	nonce[8] = nonce[9] = nonce[10] = 0;
	nonce[11] = (uint8_t)(last != 0);
	memcpy(aad, h->header_digest, 32);
	memcpy(aad + 32, nonce, 8);
	aad[40] = (uint8_t)(last != 0);
}

/* ---- byte sources: a file descriptor or memory --------------------------- */

struct src {
	int fd;
	const uint8_t *p;
	size_t left;
};

static int
src_read(struct src *s, void *buf, size_t n)
{
	uint8_t *b = buf;

	if (s->fd < 0) {
		if (n > s->left)
			return -1;
		memcpy(b, s->p, n);
		s->p += n;
		s->left -= n;
		return 0;
	}
	while (n > 0) {
		ssize_t k = read(s->fd, b, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		b += k;
		n -= (size_t)k;
	}
	return 0;
}

static int
src_at_end(struct src *s)
{
	uint8_t c;

	if (s->fd < 0)
		return s->left == 0;
	return read(s->fd, &c, 1) == 0;
}

static int
write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n > 0) {
		ssize_t k = write(fd, b, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		b += k;
		n -= (size_t)k;
	}
	return 0;
}

int
cinfer_bundle_read_header(const char *path, struct cinfer_bundle_info *out,
    struct cinfer_err *e)
{
	uint8_t *buf = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;
	struct src s = { .fd = fd };
	uint8_t first[12];
	uint32_t hsize;

	if (fd < 0)
		return ci_fail(e, CINFER_E_IO, STAGE, "cannot open %s: %s", path, strerror(errno));
	if (src_read(&s, first, 12) != 0) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE_HDR, "bundle shorter than its header");
		goto out;
	}
	hsize = (uint32_t)first[8] | (uint32_t)first[9] << 8 | (uint32_t)first[10] << 16 |
	    (uint32_t)first[11] << 24;
	if (hsize < 12 || hsize > CINFER_SEAL_HEADER_MAX) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE_HDR, "not a cinfer sealed bundle");
		goto out;
	}
	buf = ci_alloc(hsize);
	if (buf == NULL) {
		ci_fail(e, CINFER_E_NOMEM, STAGE, "header buffer");
		goto out;
	}
	memcpy(buf, first, 12);
	if (src_read(&s, buf + 12, hsize - 12) != 0) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE_HDR, "header truncated");
		goto out;
	}
	rc = cinfer_bundle_parse_header(buf, hsize, out, e);
out:
	ci_free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* ---- seal ----------------------------------------------------------------- */

int
cinfer_seal_file(const char *in_path, const char *out_path, const uint8_t key[32],
    struct cinfer_bundle_info *info, cinfer_seal_progress_fn progress, void *arg,
    struct cinfer_err *e)
{
	uint8_t hdr[CINFER_SEAL_HEADER_MAX], ckey[32], nonce[12], aad[41], tag[16];
	uint8_t *buf = NULL;
	char *tmp = NULL;
	int in = -1, out = -1, rc = -1;
	struct stat st;
	EVP_MD_CTX *md = NULL;
	size_t hsize;
	uint64_t count;

	if (info->chunk_size == 0)
		info->chunk_size = CINFER_SEAL_CHUNK_DEFAULT;
	if (info->chunk_size < CINFER_SEAL_CHUNK_MIN || info->chunk_size > CINFER_SEAL_CHUNK_MAX)
		return ci_fail(e, CINFER_E_USAGE, STAGE, "chunk size %u", info->chunk_size);
	if (!cinfer_seal_key_id_valid(info->key_id))
		return ci_fail(e, CINFER_E_USAGE, STAGE, "invalid key id (use [A-Za-z0-9._-], "
		    "at most %d)", CINFER_SEAL_KEY_ID_MAX);
	if (info->broker_count == 0 || info->broker_count > CINFER_SEAL_MAX_BROKERS ||
	    (info->broker_count == 1 ? info->threshold != 1 :
	    (info->threshold < 2 || info->threshold > info->broker_count)))
		return ci_fail(e, CINFER_E_USAGE, STAGE, "threshold %u of %u brokers",
		    info->threshold, info->broker_count);
	info->version = CINFER_SEAL_VERSION;
	in = open(in_path, O_RDONLY | O_CLOEXEC);
	if (in < 0 || fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) {
		ci_fail(e, CINFER_E_IO, STAGE, "cannot read %s: %s", in_path,
		    in < 0 ? strerror(errno) : "not a regular file");
		goto out;
	}
	info->plaintext_size = (uint64_t)st.st_size;
	if (info->plaintext_size > PLAINTEXT_MAX) {
		ci_fail(e, CINFER_E_LIMIT, STAGE, "model too large");
		goto out;
	}
	buf = ci_alloc(info->chunk_size + CINFER_SEAL_TAG_SIZE);
	md = EVP_MD_CTX_new();
	if (buf == NULL || md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		ci_fail(e, CINFER_E_NOMEM, STAGE, "buffers");
		goto out;
	}
	/* Pass 1: the model digest goes in the header, which every chunk binds. */
	for (uint64_t done = 0; done < info->plaintext_size;) {
		size_t n = info->plaintext_size - done < info->chunk_size ?
		    (size_t)(info->plaintext_size - done) : info->chunk_size;
		struct src s = { .fd = in };
		if (src_read(&s, buf, n) != 0) {
			ci_fail(e, CINFER_E_IO, STAGE, "%s changed while reading", in_path);
			goto out;
		}
		EVP_DigestUpdate(md, buf, n);
		done += n;
	}
	EVP_DigestFinal_ex(md, info->model_digest, NULL);
	if (ci_random(info->salt, 32, e) != 0)
		goto out;
	hsize = header_build(info, hdr, sizeof(hdr));
	if (hsize == 0) {
		ci_fail(e, CINFER_E_LIMIT, STAGE, "header over %d bytes", CINFER_SEAL_HEADER_MAX);
		goto out;
	}
	info->header_size = hsize;
	ci_sha256(hdr, hsize, info->header_digest);
	if (chunk_key(key, info->salt, ckey, e) != 0)
		goto out;
	tmp = ci_alloc(strlen(out_path) + 8);
	if (tmp == NULL) {
		ci_fail(e, CINFER_E_NOMEM, STAGE, "path");
		goto out;
	}
	snprintf(tmp, strlen(out_path) + 8, "%s.tmpXX", out_path);
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0 || lseek(in, 0, SEEK_SET) != 0 || write_all(out, hdr, hsize) != 0) {
		ci_fail(e, CINFER_E_IO, STAGE, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	count = chunk_count(info);
	for (uint64_t i = 0, done = 0; i < count; i++) {
		size_t n = info->plaintext_size - done < info->chunk_size ?
		    (size_t)(info->plaintext_size - done) : info->chunk_size;
		struct src s = { .fd = in };
		int last = i + 1 == count;
		if (src_read(&s, buf, n) != 0) {
			ci_fail(e, CINFER_E_IO, STAGE, "%s changed while reading", in_path);
			goto out;
		}
		chunk_bind(info, i, last, nonce, aad);
		if (ci_aead_seal(ckey, nonce, aad, sizeof(aad), buf, n, buf, tag, e) != 0)
			goto out;
		memcpy(buf + n, tag, sizeof(tag));
		if (write_all(out, buf, n + sizeof(tag)) != 0) {
			ci_fail(e, CINFER_E_IO, STAGE, "write %s: %s", tmp, strerror(errno));
			goto out;
		}
		done += n;
		if (progress != NULL && progress(done, info->plaintext_size, arg) != 0) {
			ci_fail(e, CINFER_E_USAGE, STAGE, "cancelled");
			goto out;
		}
	}
	if (fsync(out) != 0 || close(out) != 0) {
		out = -1;
		ci_fail(e, CINFER_E_IO, STAGE, "fsync %s: %s", tmp, strerror(errno));
		goto out;
	}
	out = -1;
	if (rename(tmp, out_path) != 0) {
		ci_fail(e, CINFER_E_IO, STAGE, "rename to %s: %s", out_path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	ci_wipe(ckey, sizeof(ckey));
	if (buf != NULL)
		ci_wipe(buf, info->chunk_size + CINFER_SEAL_TAG_SIZE);
	ci_free(buf);
	EVP_MD_CTX_free(md);
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (rc != 0 && tmp != NULL)
		unlink(tmp);
	ci_free(tmp);
	return rc;
}

/* ---- unseal --------------------------------------------------------------- */

static int
unseal(struct src *s, uint64_t total_size, const uint8_t key[32], struct cinfer_unsealed *out,
    struct cinfer_err *e)
{
	uint8_t first[12], ckey[32], nonce[12], aad[41], dg[32];
	uint8_t *hdr = NULL, *buf = NULL;
	struct ci_secret *sec = NULL;
	struct cinfer_bundle_info h;
	EVP_MD_CTX *md = NULL;
	uint32_t hsize;
	uint64_t count, done = 0;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (src_read(s, first, 12) != 0)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE_HDR, "bundle shorter than its header");
	hsize = (uint32_t)first[8] | (uint32_t)first[9] << 8 | (uint32_t)first[10] << 16 |
	    (uint32_t)first[11] << 24;
	if (hsize < 12 || hsize > CINFER_SEAL_HEADER_MAX)
		return ci_fail(e, memcmp(first, MAGIC, 8) != 0 ? CINFER_E_MALFORMED :	/* public */
		    CINFER_E_LIMIT, STAGE_HDR, memcmp(first, MAGIC, 8) != 0 ?	/* public */
		    "not a cinfer sealed bundle" : "bad header size");
	hdr = ci_alloc(hsize);
	if (hdr == NULL)
		return ci_fail(e, CINFER_E_NOMEM, STAGE, "header buffer");
	memcpy(hdr, first, 12);
	if (src_read(s, hdr + 12, hsize - 12) != 0) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE_HDR, "header truncated");
		goto out;
	}
	if (cinfer_bundle_parse_header(hdr, hsize, &h, e) != 0)
		goto out;
	if (total_size != bundle_size(&h)) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE, "bundle is %llu bytes, its header says %llu "
		    "(truncated or extended)", (unsigned long long)total_size,
		    (unsigned long long)bundle_size(&h));
		goto out;
	}
	if (h.plaintext_size > SIZE_MAX / 2) {
		ci_fail(e, CINFER_E_LIMIT, STAGE, "model too large for memory");
		goto out;
	}
	sec = ci_calloc(1, sizeof(*sec));
	buf = ci_alloc(h.chunk_size + CINFER_SEAL_TAG_SIZE);
	md = EVP_MD_CTX_new();
	if (sec == NULL || buf == NULL || md == NULL ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		ci_fail(e, CINFER_E_NOMEM, STAGE, "buffers");
		goto out;
	}
	if (ci_secret_init(sec, (size_t)h.plaintext_size, e) != 0 ||
	    chunk_key(key, h.salt, ckey, e) != 0)
		goto out;
	count = chunk_count(&h);
	for (uint64_t i = 0; i < count; i++) {
		size_t n = h.plaintext_size - done < h.chunk_size ?
		    (size_t)(h.plaintext_size - done) : h.chunk_size;
		int last = i + 1 == count;
		if (src_read(s, buf, n + CINFER_SEAL_TAG_SIZE) != 0) {
			ci_fail(e, CINFER_E_MALFORMED, STAGE_CHUNK, "bundle truncated in chunk %llu",
			    (unsigned long long)i);
			goto out;
		}
		chunk_bind(&h, i, last, nonce, aad);
		if (ci_aead_open(ckey, nonce, aad, sizeof(aad), buf, n, buf + n, sec->p + done,
		    e) != 0) {
			cinfer_err_clear(e);
			ci_fail(e, CINFER_E_CRYPTO, STAGE_CHUNK, "chunk %llu of %llu fails "
			    "authentication (wrong key, or the bundle was tampered with, reordered "
			    "or spliced)", (unsigned long long)i, (unsigned long long)count);
			goto out;
		}
		EVP_DigestUpdate(md, sec->p + done, n);
		done += n;
	}
	if (!src_at_end(s)) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE, "data after the last chunk");
		goto out;
	}
	EVP_DigestFinal_ex(md, dg, NULL);
	if (memcmp(dg, h.model_digest, 32) != 0) {	/* public */
		ci_fail(e, CINFER_E_CRYPTO, STAGE, "model digest does not match the header");
		goto out;
	}
	out->data = sec->p;
	out->size = sec->size;
	out->priv = sec;
	sec = NULL;
	rc = 0;
out:
	ci_wipe(ckey, sizeof(ckey));
	if (buf != NULL)
		ci_wipe(buf, h.chunk_size + CINFER_SEAL_TAG_SIZE);
	ci_free(buf);
	ci_free(hdr);
	EVP_MD_CTX_free(md);
	if (sec != NULL) {
		ci_secret_clear(sec);
		ci_free(sec);
	}
	return rc;
}

int
cinfer_unseal_file(const char *path, const uint8_t key[32], struct cinfer_unsealed *out,
    struct cinfer_err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;
	struct src s = { .fd = fd };
	struct stat st;

	memset(out, 0, sizeof(*out));
	if (fd < 0)
		return ci_fail(e, CINFER_E_IO, STAGE, "cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		close(fd);
		return ci_fail(e, CINFER_E_IO, STAGE, "stat %s: %s", path, strerror(errno));
	}
	rc = unseal(&s, (uint64_t)st.st_size, key, out, e);
	close(fd);
	return rc;
}

int
cinfer_unseal_mem(const void *p, size_t size, const uint8_t key[32],
    struct cinfer_unsealed *out, struct cinfer_err *e)
{
	struct src s = { .fd = -1, .p = p, .left = size };

	return unseal(&s, size, key, out, e);
}

void
cinfer_unsealed_free(struct cinfer_unsealed *u)
{
	if (u == NULL || u->priv == NULL)
		return;
	ci_secret_clear(u->priv);
	ci_free(u->priv);
	memset(u, 0, sizeof(*u));
}

int
cinfer_seal_split_key(const uint8_t key[32], unsigned k, unsigned n,
    uint8_t shares[][CINFER_SEAL_SHARE_SIZE], struct cinfer_err *e)
{
	uint8_t *ptrs[CI_SHAMIR_MAX_SHARES];

	if (n > CI_SHAMIR_MAX_SHARES)
		return ci_fail(e, CINFER_E_USAGE, STAGE, "at most %d shares", CI_SHAMIR_MAX_SHARES);
	for (unsigned i = 0; i < n; i++)
		ptrs[i] = shares[i];
	return ci_shamir_split(key, 32, k, n, ptrs, e);
}

int
cinfer_seal_combine_key(const uint8_t shares[][CINFER_SEAL_SHARE_SIZE], size_t count,
    uint8_t key[32], struct cinfer_err *e)
{
	const uint8_t *ptrs[CI_SHAMIR_MAX_SHARES];

	if (count > CI_SHAMIR_MAX_SHARES)
		return ci_fail(e, CINFER_E_USAGE, STAGE, "at most %d shares", CI_SHAMIR_MAX_SHARES);
	for (size_t i = 0; i < count; i++)
		ptrs[i] = shares[i];
	return ci_shamir_combine(ptrs, count, CINFER_SEAL_SHARE_SIZE, key, e);
}
