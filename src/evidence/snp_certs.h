/*
 * SEV-SNP certificates offline first: the extended report's certificate
 * table (GHCB spec "GUID table") and AMD KDS fetching with a local cache.
 * Internal to libcinfer.
 */
#ifndef CI_EVIDENCE_SNP_CERTS_H
#define CI_EVIDENCE_SNP_CERTS_H

#include "core/ci.h"
#include "evidence/snp.h"
#include "evidence/snp_report.h"

/*
 * Certificate table: entries {GUID[16], offset u32le, length u32le}, ended
 * by an all-zero entry; offsets count from the table's first byte. The
 * kernel pads the blob to whole pages with zeros.
 */
#define CI_SNP_CERT_ENTRY_SIZE 24
#define CI_SNP_CERT_TABLE_MAX 16		/* entries, terminator excluded */
#define CI_SNP_CERT_TABLE_MAX_SIZE (1u << 20)

enum ci_snp_cert_kind {
	CI_SNP_CERT_OTHER = 0,	/* a GUID we do not know: kept, not used */
	CI_SNP_CERT_VCEK,
	CI_SNP_CERT_VLEK,
	CI_SNP_CERT_ASK,	/* also the ASVK of a VLEK chain */
	CI_SNP_CERT_ARK,
};

struct ci_snp_cert_entry {
	uint8_t guid[16];
	enum ci_snp_cert_kind kind;
	const uint8_t *data;	/* borrowed from the table buffer */
	size_t size;
};

struct ci_snp_cert_table {
	struct ci_snp_cert_entry entry[CI_SNP_CERT_TABLE_MAX];
	size_t count;
};

/* The GUID of a kind, 16 bytes in RFC 4122 order; NULL for OTHER. */
const uint8_t *ci_snp_cert_guid(enum ci_snp_cert_kind kind);
/* "vcek", "vlek", "ask", "ark", "other". */
const char *ci_snp_cert_kind_name(enum ci_snp_cert_kind kind);

/* Parses a table; the buffer must outlive t. Rejects overlaps with the
 * header, out-of-range or empty entries, duplicates, too many entries. */
CI_MUST_CHECK int ci_snp_cert_table_parse(struct ci_snp_cert_table *t, const uint8_t *p,
    size_t size, struct cinfer_err *e);
/* The entry of a kind, or NULL. */
const struct ci_snp_cert_entry *ci_snp_cert_table_find(const struct ci_snp_cert_table *t,
    enum ci_snp_cert_kind kind);
/* Builds a table from entries (kind's GUID used unless OTHER); returns a
 * new buffer (ci_free). */
CI_MUST_CHECK int ci_snp_cert_table_build(const struct ci_snp_cert_entry *in, size_t n,
    uint8_t **out, size_t *out_size, struct cinfer_err *e);

/* ---- AMD Key Distribution Service (snp_kds.c) ------------------------- */

#define CI_SNP_KDS_DEFAULT_URL "https://kdsintf.amd.com"
#define CI_SNP_KDS_MIN_INTERVAL 10	/* seconds between fetches: KDS's rate limit */

struct ci_snp_kds {
	const char *url;		/* base, e.g. CI_SNP_KDS_DEFAULT_URL (https, http, file) */
	const char *cache_dir;		/* required: certs are looked up here first */
	int64_t min_interval;		/* 0: CI_SNP_KDS_MIN_INTERVAL; <0: none */
	int no_wait;			/* fail with LIMIT instead of sleeping */
};

/* What identifies a VCEK: product, chip id and reported TCB. */
struct ci_snp_vcek_id {
	enum ci_snp_family family;
	uint8_t hwid[64];
	size_t hwid_size;		/* 64, or 8 on Turin */
	struct ci_snp_tcb tcb;
};

/* The VCEK identity of a parsed report (fails if the chip id is masked). */
CI_MUST_CHECK int ci_snp_vcek_id_from_report(const struct ci_snp_report *r,
    enum ci_snp_family family_hint, struct ci_snp_vcek_id *id, struct cinfer_err *e);

/* KDS path (after the base URL) of a VCEK: "/vcek/v1/Milan/<hwid>?blSPL=..". */
CI_MUST_CHECK int ci_snp_kds_vcek_path(const struct ci_snp_vcek_id *id, char *buf,
    size_t size, struct cinfer_err *e);

/*
 * Gets the VCEK (DER) from the cache dir, or fetches it from KDS and
 * caches it. *fetched says whether the network was used. Returns a new
 * buffer (ci_free).
 */
CI_MUST_CHECK int ci_snp_kds_get_vcek(const struct ci_snp_kds *k, const struct ci_snp_vcek_id *id,
    uint8_t **der, size_t *size, int *fetched, struct cinfer_err *e);
/* The family's ASK+ARK bundle (PEM, "cert_chain") or CRL (DER, "crl"),
 * for "vcek" or "vlek"; cached like the VCEK. */
CI_MUST_CHECK int ci_snp_kds_get_family_file(const struct ci_snp_kds *k,
    enum ci_snp_family family, const char *kind, const char *what, uint8_t **out,
    size_t *size, int *fetched, struct cinfer_err *e);

#endif
