/*
 * SEV-SNP certificate chain: VCEK <- ASK <- ARK, VLEK <- ASVK <- ARK.
 *
 * Every link is checked here by hand (issuer name, RSA-PSS signature,
 * validity at the given time, CA bit on the issuer) because AMD's VCEKs
 * carry no Authority Key Identifier and OpenSSL's strict chain builder
 * refuses them. Verified links are remembered in a small process-wide
 * cache keyed by the SHA-256 of the three certificates, so a warm verify
 * costs only the report's ECDSA check.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "crypto/crypto.h"
#include "evidence/snp.h"

#define STAGE_CHAIN "evidence.snp.chain"
#define STAGE_CRL "evidence.snp.crl"

static const char *const family_names[] = {
	[CI_SNP_FAMILY_UNKNOWN] = "",
	[CI_SNP_FAMILY_MILAN] = "Milan",
	[CI_SNP_FAMILY_GENOA] = "Genoa",
	[CI_SNP_FAMILY_TURIN] = "Turin",
};

const char *
ci_snp_family_name(enum ci_snp_family f)
{
	if ((size_t)f >= CI_ARRAY_LEN(family_names))
		return "";
	return family_names[f];
}

enum ci_snp_family
ci_snp_family_from_product(const char *product)
{
	for (size_t i = 1; i < CI_ARRAY_LEN(family_names); i++) {
		size_t n = strlen(family_names[i]);
		/* "Milan", "Milan-B0", "Genoa-B1"... */
		if (strncmp(product, family_names[i], n) == 0 &&	/* public */
		    (product[n] == '\0' || product[n] == '-'))
			return (enum ci_snp_family)i;
	}
	return CI_SNP_FAMILY_UNKNOWN;
}

enum ci_snp_family
ci_snp_family_from_cpuid(uint8_t fam, uint8_t model)
{
	/* Family 19h: Milan models 00h-0Fh; Genoa, Bergamo and Siena 10h-1Fh,
	 * A0h-AFh. Family 1Ah: Turin 00h-1Fh. */
	if (fam == 0x19 && model <= 0x0F)
		return CI_SNP_FAMILY_MILAN;
	if (fam == 0x19 && ((model >= 0x10 && model <= 0x1F) || (model >= 0xA0 && model <= 0xAF)))
		return CI_SNP_FAMILY_GENOA;
	if (fam == 0x1A && model <= 0x1F)
		return CI_SNP_FAMILY_TURIN;
	return CI_SNP_FAMILY_UNKNOWN;
}

/* ---- cache ----------------------------------------------------------- */

#define CACHE_SLOTS 64

struct cache_slot {
	int used;
	uint8_t key[CI_SHA256_SIZE];
	int64_t from, until;	/* the verdict holds for times in [from, until] */
};

static pthread_mutex_t g_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cache_slot g_cache[CACHE_SLOTS];	/* guarded by g_cache_lock */
static size_t g_cache_next;			/* guarded by g_cache_lock */

#define PINNED_SLOTS 8
#define PINNED_FILE_MAX (64u << 10)

struct pinned_slot {
	char path[4096];	/* "" = free */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	X509 *inter, *ark;
};

static struct pinned_slot g_pinned[PINNED_SLOTS];	/* guarded by g_cache_lock */
static size_t g_pinned_next;				/* guarded by g_cache_lock */

static void
pinned_slot_clear(struct pinned_slot *s)
{
	X509_free(s->inter);
	X509_free(s->ark);
	memset(s, 0, sizeof(*s));
}

void
ci_snp_cache_clear(void)
{
	pthread_mutex_lock(&g_cache_lock);
	memset(g_cache, 0, sizeof(g_cache));
	g_cache_next = 0;
	for (size_t i = 0; i < PINNED_SLOTS; i++)
		pinned_slot_clear(&g_pinned[i]);
	g_pinned_next = 0;
	pthread_mutex_unlock(&g_cache_lock);
}

static int
same_file(const struct pinned_slot *s, const char *path, const struct stat *st)
{
	return s->path[0] != '\0' && strcmp(s->path, path) == 0 &&	/* public */
	    s->dev == st->st_dev && s->ino == st->st_ino && s->size == st->st_size &&
	    s->mtime.tv_sec == st->st_mtim.tv_sec && s->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

static int
parse_pinned(const char *path, X509 **inter, X509 **ark, struct cinfer_err *e)
{
	uint8_t *pem = NULL;
	size_t size = 0;
	STACK_OF(X509) *sk = NULL;
	int rc = -1;

	if (ci_file_read(path, PINNED_FILE_MAX, &pem, &size, e) != 0)
		return -1;
	sk = ci_x509_parse_bundle(pem, size, e);
	if (sk == NULL)
		goto out;
	for (int k = 0; k < sk_X509_num(sk); k++) {
		X509 *x = sk_X509_value(sk, k);
		X509 **slot = X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) == 0 ?
		    ark : inter;
		if (*slot != NULL)
			break;
		*slot = x;
		X509_up_ref(x);
	}
	if (sk_X509_num(sk) != 2 || *ark == NULL || *inter == NULL) {
		ci_fail(e, CINFER_E_INTERNAL, "evidence.snp.roots",
		    "pinned bundle %s must hold one ASK and one ARK", path);
		goto out;
	}
	rc = 0;
out:
	if (rc != 0) {
		X509_free(*ark);
		X509_free(*inter);
		*ark = *inter = NULL;
	}
	sk_X509_pop_free(sk, X509_free);
	ci_free(pem);
	return rc;
}

int
ci_snp_pinned_load(const char *path, X509 **inter, X509 **ark, struct cinfer_err *e)
{
	struct stat st;
	struct pinned_slot *s;
	int hit = 0;

	*inter = *ark = NULL;
	if (strlen(path) >= sizeof(g_pinned[0].path))
		return ci_fail(e, CINFER_E_USAGE, "evidence.snp.roots", "roots path too long");
	if (stat(path, &st) != 0)
		return ci_fail(e, CINFER_E_IO, "evidence.snp.roots", "%s: %s", path,
		    strerror(errno));
	pthread_mutex_lock(&g_cache_lock);
	for (size_t i = 0; i < PINNED_SLOTS && !hit; i++) {
		if (!same_file(&g_pinned[i], path, &st))
			continue;
		*inter = g_pinned[i].inter;
		*ark = g_pinned[i].ark;
		X509_up_ref(*inter);
		X509_up_ref(*ark);
		hit = 1;
	}
	pthread_mutex_unlock(&g_cache_lock);
	if (hit)
		return 0;
	if (parse_pinned(path, inter, ark, e) != 0)
		return -1;
	pthread_mutex_lock(&g_cache_lock);
	s = &g_pinned[g_pinned_next];
	g_pinned_next = (g_pinned_next + 1) % PINNED_SLOTS;
	pinned_slot_clear(s);
	memcpy(s->path, path, strlen(path) + 1);
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->size = st.st_size;
	s->mtime = st.st_mtim;
	s->inter = *inter;
	s->ark = *ark;
	X509_up_ref(*inter);
	X509_up_ref(*ark);
	pthread_mutex_unlock(&g_cache_lock);
	return 0;
}

static int
cache_lookup(const uint8_t key[CI_SHA256_SIZE], int64_t at)
{
	int hit = 0;

	pthread_mutex_lock(&g_cache_lock);
	for (size_t i = 0; i < CACHE_SLOTS && !hit; i++)
		hit = g_cache[i].used && memcmp(g_cache[i].key, key, CI_SHA256_SIZE) == 0 &&	/* public */
		    at >= g_cache[i].from && at <= g_cache[i].until;
	pthread_mutex_unlock(&g_cache_lock);
	return hit;
}

static void
cache_store(const uint8_t key[CI_SHA256_SIZE], int64_t from, int64_t until)
{
	struct cache_slot *s;

	pthread_mutex_lock(&g_cache_lock);
	s = &g_cache[g_cache_next];
	g_cache_next = (g_cache_next + 1) % CACHE_SLOTS;
	s->used = 1;
	memcpy(s->key, key, CI_SHA256_SIZE);
	s->from = from;
	s->until = until;
	pthread_mutex_unlock(&g_cache_lock);
}

/* SHA-256 over a tag and the DER of each item, each length-prefixed. */
static int
der_key(const char *tag, X509 *const *certs, size_t n, X509_CRL *crl,
    uint8_t out[CI_SHA256_SIZE], struct cinfer_err *e)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, tag, strlen(tag) + 1) == 1;

	for (size_t i = 0; ok && i <= n; i++) {
		unsigned char *der = NULL;
		int len;
		uint8_t be[4];

		if (i < n)
			len = i2d_X509(certs[i], &der);
		else if (crl != NULL)
			len = i2d_X509_CRL(crl, &der);
		else
			break;
		be[0] = (uint8_t)((unsigned)len >> 24);
		be[1] = (uint8_t)((unsigned)len >> 16);
		be[2] = (uint8_t)((unsigned)len >> 8);
		be[3] = (uint8_t)len;
		ok = len > 0 && EVP_DigestUpdate(ctx, be, 4) == 1 &&
		    EVP_DigestUpdate(ctx, der, (size_t)len) == 1;
		OPENSSL_free(der);
	}
	ok = ok && EVP_DigestFinal_ex(ctx, out, NULL) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : ci_ossl_fail(e, CINFER_E_INTERNAL, STAGE_CHAIN, "cannot hash certificates");
}

/* ---- links ------------------------------------------------------------ */

static int
asn1_time_unix(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

static const char *
cn_of(X509_NAME *n, char *buf, size_t size)
{
	if (X509_NAME_get_text_by_NID(n, NID_commonName, buf, (int)size) < 0)
		snprintf(buf, size, "?");
	ci_str_mask(buf);
	return buf;
}

/* Certificate validity at `at`; narrows [*from, *until] to it. */
static int
check_validity(X509 *x, const char *what, int64_t at, int64_t *from, int64_t *until,
    struct cinfer_err *e)
{
	int64_t nb, na;
	char when[21];

	if (asn1_time_unix(X509_get0_notBefore(x), &nb) != 0 ||
	    asn1_time_unix(X509_get0_notAfter(x), &na) != 0)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE_CHAIN, "%s has a bad validity period",
		    what);
	ci_time_format(at, when);
	if (at < nb)
		return ci_fail(e, CINFER_E_STALE, STAGE_CHAIN, "%s is not yet valid at %s", what,
		    when);
	if (at > na)
		return ci_fail(e, CINFER_E_STALE, STAGE_CHAIN, "%s has expired at %s", what, when);
	if (nb > *from)
		*from = nb;
	if (na < *until)
		*until = na;
	return 0;
}

/* child was issued and signed by parent (an AMD RSA CA, RSA-PSS). */
static int
check_link(X509 *child, X509 *parent, const char *child_what, const char *parent_what,
    struct cinfer_err *e)
{
	EVP_PKEY *pk;
	char a[64], b[64];
	int ok;

	if (X509_NAME_cmp(X509_get_issuer_name(child), X509_get_subject_name(parent)) != 0)
		return ci_fail(e, CINFER_E_CRYPTO, STAGE_CHAIN,
		    "%s was issued by %s, not by the %s (%s)", child_what,
		    cn_of(X509_get_issuer_name(child), a, sizeof(a)), parent_what,
		    cn_of(X509_get_subject_name(parent), b, sizeof(b)));
	if (X509_check_ca(parent) < 1)
		return ci_fail(e, CINFER_E_CRYPTO, STAGE_CHAIN, "the %s is not a CA", parent_what);
	if (X509_get_signature_nid(child) != NID_rsassaPss)
		return ci_fail(e, CINFER_E_CRYPTO, STAGE_CHAIN,
		    "%s is not signed with RSA-PSS as AMD signs", child_what);
	pk = X509_get0_pubkey(parent);
	if (pk == NULL || EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA)
		return ci_fail(e, CINFER_E_CRYPTO, STAGE_CHAIN, "the %s key is not RSA", parent_what);
	ok = X509_verify(child, pk) == 1;
	ERR_clear_error();
	if (!ok)
		return ci_fail(e, CINFER_E_CRYPTO, STAGE_CHAIN,
		    "%s signature does not verify with the %s key", child_what, parent_what);
	return 0;
}

int
ci_snp_chain_verify(struct ci_snp_chain *c, int64_t at, struct cinfer_err *e)
{
	X509 *certs[3] = { c->ark, c->inter, c->leaf };
	uint8_t key[CI_SHA256_SIZE];
	int64_t from = INT64_MIN, until = INT64_MAX;
	EVP_PKEY *pk;

	c->cache_hit = 0;
	if (c->leaf == NULL || c->inter == NULL || c->ark == NULL)
		return ci_fail(e, CINFER_E_INTERNAL, STAGE_CHAIN, "incomplete chain");
	pk = X509_get0_pubkey(c->leaf);
	if (pk == NULL || EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC || EVP_PKEY_get_bits(pk) != 384)
		return ci_fail(e, CINFER_E_CRYPTO, STAGE_CHAIN,
		    "the signing certificate's key is not ECDSA P-384");
	if (der_key("snp chain v1", certs, 3, NULL, key, e) != 0)
		return -1;
	if (cache_lookup(key, at)) {
		c->cache_hit = 1;
		return 0;
	}
	/* Who signed what first, then when. */
	if (check_link(c->ark, c->ark, "the ARK", "ARK itself", e) != 0 ||
	    check_link(c->inter, c->ark, "the ASK", "ARK", e) != 0 ||
	    check_link(c->leaf, c->inter, "the VCEK/VLEK", "ASK", e) != 0 ||
	    check_validity(c->ark, "the ARK", at, &from, &until, e) != 0 ||
	    check_validity(c->inter, "the ASK", at, &from, &until, e) != 0 ||
	    check_validity(c->leaf, "the VCEK/VLEK", at, &from, &until, e) != 0)
		return -1;
	if (X509_check_ca(c->leaf) != 0)
		return ci_fail(e, CINFER_E_CRYPTO, STAGE_CHAIN, "the VCEK/VLEK claims to be a CA");
	cache_store(key, from, until);
	return 0;
}

/* ---- CRLs --------------------------------------------------------------- */

static int
check_one_crl(const struct ci_snp_chain *c, X509_CRL *crl, int64_t at, struct cinfer_err *e)
{
	X509 *issuer = NULL, *subjects[2];
	const char *issuer_what;
	uint8_t key[CI_SHA256_SIZE];
	int64_t this_upd, next_upd;
	char cn[64], when[21];
	size_t nsub = 0;
	int ok;

	if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(c->ark)) == 0) {
		issuer = c->ark;
		issuer_what = "ARK";
		subjects[nsub++] = c->inter;
	} else if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(c->inter)) == 0) {
		issuer = c->inter;
		issuer_what = "ASK";
	} else {
		return ci_fail(e, CINFER_E_CRYPTO, STAGE_CRL,
		    "CRL issued by %s belongs to no CA of this chain",
		    cn_of(X509_CRL_get_issuer(crl), cn, sizeof(cn)));
	}
	/* The ARK's CRL lists ASKs; a leaf is listed by whoever issued it. */
	if (issuer == c->inter || X509_NAME_cmp(X509_get_issuer_name(c->leaf),
	    X509_get_subject_name(issuer)) == 0)
		subjects[nsub++] = c->leaf;

	ci_time_format(at, when);
	if (asn1_time_unix(X509_CRL_get0_lastUpdate(crl), &this_upd) != 0)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE_CRL, "CRL has no thisUpdate");
	if (this_upd > at)
		return ci_fail(e, CINFER_E_STALE, STAGE_CRL, "the %s CRL is not yet valid at %s",
		    issuer_what, when);
	if (X509_CRL_get0_nextUpdate(crl) != NULL) {
		if (asn1_time_unix(X509_CRL_get0_nextUpdate(crl), &next_upd) != 0)
			return ci_fail(e, CINFER_E_MALFORMED, STAGE_CRL, "CRL has a bad nextUpdate");
		if (next_upd < at)
			return ci_fail(e, CINFER_E_STALE, STAGE_CRL,
			    "the %s CRL has expired (nextUpdate passed) at %s", issuer_what, when);
	} else {
		next_upd = INT64_MAX;
	}
	{
		X509 *kc[1] = { issuer };
		if (der_key("snp crl v1", kc, 1, crl, key, e) != 0)
			return -1;
	}
	if (!cache_lookup(key, at)) {
		EVP_PKEY *pk = X509_get0_pubkey(issuer);
		ok = pk != NULL && X509_CRL_verify(crl, pk) == 1;
		ERR_clear_error();
		if (!ok)
			return ci_fail(e, CINFER_E_CRYPTO, STAGE_CRL,
			    "the CRL's signature does not verify with the %s key", issuer_what);
		cache_store(key, this_upd, next_upd);
	}
	for (size_t i = 0; i < nsub; i++) {
		X509_REVOKED *rev = NULL;
		if (X509_CRL_get0_by_cert(crl, &rev, subjects[i]) == 1) {
			char serial[80] = "?";
			BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(subjects[i]), NULL);
			char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
			if (hex != NULL)
				snprintf(serial, sizeof(serial), "%.70s", hex);
			OPENSSL_free(hex);
			BN_free(bn);
			return ci_fail(e, CINFER_E_CRYPTO, STAGE_CRL,
			    "the %s (serial %s) is revoked by the %s CRL",
			    subjects[i] == c->leaf ? "VCEK/VLEK" : "ASK", serial, issuer_what);
		}
	}
	return 0;
}

int
ci_snp_chain_check_crls(const struct ci_snp_chain *c, STACK_OF(X509_CRL) *crls, int64_t at,
    struct cinfer_err *e)
{
	for (int i = 0; i < sk_X509_CRL_num(crls); i++)
		if (check_one_crl(c, sk_X509_CRL_value(crls, i), at, e) != 0)
			return -1;
	return 0;
}
