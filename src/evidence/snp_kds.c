/*
 * AMD Key Distribution Service, offline first: a VCEK, the family's
 * ASK+ARK bundle or its CRL is looked up in a cache directory and fetched
 * from KDS only when missing, at most once per min_interval seconds (KDS
 * allows about one request per 10 s per address and answers 429 beyond).
 * A fetched VCEK must describe the chip and TCB asked for before it is
 * cached. Never called at verify time.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "crypto/crypto.h"
#include "evidence/amd_cert.h"
#include "evidence/snp_certs.h"

#define STAGE "evidence.snp.kds"
#define FETCH_MAX (256u << 10)
#define LAST_FILE "kds-last-fetch"

int
ci_snp_vcek_id_from_report(const struct ci_snp_report *r, enum ci_snp_family family_hint,
    struct ci_snp_vcek_id *id, struct cinfer_err *e)
{
	memset(id, 0, sizeof(*id));
	id->family = r->version >= 3 ? ci_snp_family_from_cpuid(r->cpuid_fam_id, r->cpuid_mod_id) :
	    CI_SNP_FAMILY_UNKNOWN;
	if (id->family == CI_SNP_FAMILY_UNKNOWN)
		id->family = family_hint;
	else if (family_hint != CI_SNP_FAMILY_UNKNOWN && family_hint != id->family)
		return ci_fail(e, CINFER_E_USAGE, STAGE, "report is from a %s, not a %s",
		    ci_snp_family_name(id->family), ci_snp_family_name(family_hint));
	if (id->family == CI_SNP_FAMILY_UNKNOWN)
		return ci_fail(e, CINFER_E_USAGE, STAGE,
		    "version %u report does not name its product; give it (Milan, Genoa, Turin)",
		    r->version);
	if (r->signing_key != CI_SNP_KEY_VCEK)
		return ci_fail(e, CINFER_E_USAGE, STAGE,
		    "report is not VCEK-signed; VLEKs come from the cloud provider, not KDS");
	id->hwid_size = r->turin ? 8 : 64;
	memcpy(id->hwid, r->chip_id, id->hwid_size);
	if (ci_is_zero(id->hwid, id->hwid_size))
		return ci_fail(e, CINFER_E_USAGE, STAGE,
		    "report's chip id is masked: KDS cannot be asked for its VCEK");
	id->tcb = r->reported_tcb;
	return 0;
}

int
ci_snp_kds_vcek_path(const struct ci_snp_vcek_id *id, char *buf, size_t size,
    struct cinfer_err *e)
{
	char hex[129];
	int n;

	if (id->hwid_size != 8 && id->hwid_size != 64)
		return ci_fail(e, CINFER_E_USAGE, STAGE, "hwID must be 8 or 64 bytes");
	ci_hex_encode(id->hwid, id->hwid_size, hex);
	if (id->family == CI_SNP_FAMILY_TURIN)
		n = snprintf(buf, size,
		    "/vcek/v1/%s/%s?fmcSPL=%02u&blSPL=%02u&teeSPL=%02u&snpSPL=%02u&ucodeSPL=%02u",
		    ci_snp_family_name(id->family), hex, id->tcb.fmc, id->tcb.bootloader,
		    id->tcb.tee, id->tcb.snp, id->tcb.microcode);
	else
		n = snprintf(buf, size, "/vcek/v1/%s/%s?blSPL=%02u&teeSPL=%02u&snpSPL=%02u&ucodeSPL=%02u",
		    ci_snp_family_name(id->family), hex, id->tcb.bootloader, id->tcb.tee,
		    id->tcb.snp, id->tcb.microcode);
	if (n < 0 || (size_t)n >= size)
		return ci_fail(e, CINFER_E_USAGE, STAGE, "KDS path too long");
	return 0;
}

/* mkdir -p, 0700. */
static int
make_dirs(const char *dir, struct cinfer_err *e)
{
	char p[4096];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(p))
		return ci_fail(e, CINFER_E_USAGE, STAGE, "bad cache directory");
	memcpy(p, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST)
			return ci_fail(e, CINFER_E_IO, STAGE, "%s: %s", p, strerror(errno));
		p[i] = i < n ? '/' : '\0';
	}
	return 0;
}

struct sink {
	uint8_t *p;
	size_t size, cap;
	int over;
};

static size_t
sink_write(char *data, size_t sz, size_t nmemb, void *ud)
{
	struct sink *s = ud;
	size_t add = sz * nmemb;

	if (nmemb != 0 && add / nmemb != sz)
		return 0;
	if (add > s->cap - s->size) {
		s->over = 1;
		return 0;
	}
	memcpy(s->p + s->size, data, add);
	s->size += add;
	return add;
}

static pthread_once_t g_curl_once = PTHREAD_ONCE_INIT;

static void
curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Waits (or refuses) until min_interval has passed since the last fetch. */
static int
rate_limit(const struct ci_snp_kds *k, struct cinfer_err *e)
{
	int64_t interval = k->min_interval == 0 ? CI_SNP_KDS_MIN_INTERVAL : k->min_interval;
	char path[4200];
	uint8_t *buf = NULL;
	size_t size = 0;
	int64_t last = 0, now = ci_time_now();

	if (interval < 0)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", k->cache_dir, LAST_FILE);
	if (ci_file_read(path, 64, &buf, &size, NULL) == 0) {
		last = strtoll((char *)buf, NULL, 10);
		ci_free(buf);
	}
	if (last > 0 && now >= last && now - last < interval) {
		int64_t wait = interval - (now - last);
		if (k->no_wait)
			return ci_fail(e, CINFER_E_LIMIT, STAGE,
			    "AMD KDS allows one request per %" PRId64 " s; retry in %" PRId64 " s",
			    interval, wait);
		ci_log(CI_LOG_INFO, STAGE, "waiting %" PRId64 " s for the KDS rate limit", wait);
		sleep((unsigned)wait);
	}
	return 0;
}

static void
rate_mark(const struct ci_snp_kds *k)
{
	char path[4200], v[32];
	int n = snprintf(v, sizeof(v), "%" PRId64 "\n", ci_time_now());

	snprintf(path, sizeof(path), "%s/%s", k->cache_dir, LAST_FILE);
	if (ci_file_write(path, v, (size_t)n, 0600, NULL) != 0)
		ci_log(CI_LOG_WARN, STAGE, "cannot record the KDS fetch time in %s", path);
}

static int
fetch(const struct ci_snp_kds *k, const char *path, uint8_t **out, size_t *out_size,
    struct cinfer_err *e)
{
	char url[4200], errbuf[CURL_ERROR_SIZE] = "";
	const char *base = k->url != NULL ? k->url : CI_SNP_KDS_DEFAULT_URL;
	struct sink s = { 0 };
	CURL *c = NULL;
	CURLcode cc;
	long status = 0;
	int rc = -1;

	*out = NULL;
	*out_size = 0;
	if ((size_t)snprintf(url, sizeof(url), "%s%s", base, path) >= sizeof(url))
		return ci_fail(e, CINFER_E_USAGE, STAGE, "KDS URL too long");
	if (rate_limit(k, e) != 0)
		return -1;
	pthread_once(&g_curl_once, curl_init_once);
	s.cap = FETCH_MAX;
	s.p = ci_alloc(s.cap);
	c = curl_easy_init();
	if (s.p == NULL || c == NULL) {
		ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http,file");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "cinfer/" CINFER_VERSION);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	cc = curl_easy_perform(c);
	rate_mark(k);
	if (s.over) {
		ci_fail(e, CINFER_E_LIMIT, STAGE, "KDS answer is larger than %u bytes", FETCH_MAX);
		goto out;
	}
	if (cc != CURLE_OK) {
		ci_str_mask(errbuf);
		ci_fail(e, CINFER_E_IO, STAGE, "%s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status == 429) {
		curl_off_t after = 0;
		curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &after);
		ci_fail(e, CINFER_E_LIMIT, STAGE, "KDS rate limit hit; retry after %ld s",
		    (long)after);
		goto out;
	}
	if (status != 200 && status != 0) {
		ci_fail(e, CINFER_E_IO, STAGE, "%s: HTTP %ld", url, status);
		goto out;
	}
	if (s.size == 0) {
		ci_fail(e, CINFER_E_IO, STAGE, "%s: empty answer", url);
		goto out;
	}
	*out = s.p;
	*out_size = s.size;
	s.p = NULL;
	rc = 0;
out:
	ci_free(s.p);
	curl_easy_cleanup(c);
	return rc;
}

/* The VCEK in p must be for this chip at this TCB. */
static int
vcek_matches(const uint8_t *p, size_t size, const struct ci_snp_vcek_id *id,
    struct cinfer_err *e)
{
	struct ci_amd_cert_ext ext;
	X509 *x = ci_x509_parse(p, size, e);
	int rc = -1;

	if (x == NULL)
		return -1;
	if (ci_amd_cert_ext_parse(x, &ext, e) != 0)
		goto out;
	if (ci_snp_family_from_product(ext.product_name) != id->family ||
	    ext.hwid_size != id->hwid_size ||
	    memcmp(ext.hwid, id->hwid, id->hwid_size) != 0 ||	/* public */
	    ext.bl != id->tcb.bootloader || ext.tee != id->tcb.tee || ext.snp != id->tcb.snp ||
	    ext.ucode != id->tcb.microcode ||
	    (id->family == CI_SNP_FAMILY_TURIN && ext.fmc != id->tcb.fmc)) {
		ci_fail(e, CINFER_E_CRYPTO, STAGE,
		    "the VCEK obtained is not for this chip and TCB");
		goto out;
	}
	rc = 0;
out:
	X509_free(x);
	return rc;
}

static int
cached_or_fetched(const struct ci_snp_kds *k, const char *name, const char *path,
    const struct ci_snp_vcek_id *check, uint8_t **out, size_t *size, int *fetched,
    struct cinfer_err *e)
{
	char file[4200];

	*fetched = 0;
	if (k->cache_dir == NULL)
		return ci_fail(e, CINFER_E_USAGE, STAGE, "no certificate cache directory");
	if ((size_t)snprintf(file, sizeof(file), "%s/%s", k->cache_dir, name) >= sizeof(file))
		return ci_fail(e, CINFER_E_USAGE, STAGE, "cache path too long");
	if (ci_file_read(file, FETCH_MAX, out, size, NULL) == 0) {
		if (check == NULL || vcek_matches(*out, *size, check, NULL) == 0)
			return 0;
		ci_log(CI_LOG_WARN, STAGE, "cached %s does not match; fetching again", name);
		ci_free(*out);
		*out = NULL;
	}
	if (make_dirs(k->cache_dir, e) != 0 || fetch(k, path, out, size, e) != 0)
		return -1;
	if ((check != NULL && vcek_matches(*out, *size, check, e) != 0) ||
	    ci_file_write(file, *out, *size, 0600, e) != 0) {
		ci_free(*out);
		*out = NULL;
		*size = 0;
		return -1;
	}
	*fetched = 1;
	return 0;
}

int
ci_snp_kds_get_vcek(const struct ci_snp_kds *k, const struct ci_snp_vcek_id *id, uint8_t **der,
    size_t *size, int *fetched, struct cinfer_err *e)
{
	char path[512], name[320], hex[129];

	*der = NULL;
	*size = 0;
	if (ci_snp_kds_vcek_path(id, path, sizeof(path), e) != 0)
		return -1;
	ci_hex_encode(id->hwid, id->hwid_size, hex);
	snprintf(name, sizeof(name), "vcek-%s-%s-%016" PRIx64 ".der",
	    ci_snp_family_name(id->family), hex, ci_snp_tcb_encode(&id->tcb,
	    id->family == CI_SNP_FAMILY_TURIN));
	return cached_or_fetched(k, name, path, id, der, size, fetched, e);
}

int
ci_snp_kds_get_family_file(const struct ci_snp_kds *k, enum ci_snp_family family,
    const char *kind, const char *what, uint8_t **out, size_t *size, int *fetched,
    struct cinfer_err *e)
{
	char path[256], name[128];

	*out = NULL;
	*size = 0;
	if (family == CI_SNP_FAMILY_UNKNOWN ||
	    (strcmp(kind, "vcek") != 0 && strcmp(kind, "vlek") != 0) ||
	    (strcmp(what, "cert_chain") != 0 && strcmp(what, "crl") != 0))
		return ci_fail(e, CINFER_E_USAGE, STAGE, "bad KDS request");
	snprintf(path, sizeof(path), "/%s/v1/%s/%s", kind, ci_snp_family_name(family), what);
	snprintf(name, sizeof(name), "%s-%s-%s.%s", kind, ci_snp_family_name(family), what,
	    strcmp(what, "crl") == 0 ? "der" : "pem");
	return cached_or_fetched(k, name, path, NULL, out, size, fetched, e);
}
