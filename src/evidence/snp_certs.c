/*
 * The SEV-SNP extended report's certificate table (GHCB specification,
 * SNP Extended Guest Request: "certificate table", keyed by GUIDs).
 */
#include <string.h>

#include "evidence/snp_certs.h"

#define STAGE "evidence.snp.cert_table"

/* GUIDs in RFC 4122 byte order, as the table stores them. */
static const uint8_t guid_vcek[16] = { 0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
	0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd };	/* 63da758d-e664-4564-adc5-f4b93be8accd */
static const uint8_t guid_vlek[16] = { 0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e,
	0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1 };	/* a8074bc2-a25a-483e-aae6-39c045a0b8a1 */
static const uint8_t guid_ask[16] = { 0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
	0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82 };	/* 4ab7b379-bbac-4fe4-a02f-05aef327c782 */
static const uint8_t guid_ark[16] = { 0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52,
	0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae };	/* c0b406a4-a803-4952-9743-3fb6014cd0ae */

const uint8_t *
ci_snp_cert_guid(enum ci_snp_cert_kind kind)
{
	switch (kind) {
	case CI_SNP_CERT_VCEK:
		return guid_vcek;
	case CI_SNP_CERT_VLEK:
		return guid_vlek;
	case CI_SNP_CERT_ASK:
		return guid_ask;
	case CI_SNP_CERT_ARK:
		return guid_ark;
	default:
		return NULL;
	}
}

const char *
ci_snp_cert_kind_name(enum ci_snp_cert_kind kind)
{
	switch (kind) {
	case CI_SNP_CERT_VCEK:
		return "vcek";
	case CI_SNP_CERT_VLEK:
		return "vlek";
	case CI_SNP_CERT_ASK:
		return "ask";
	case CI_SNP_CERT_ARK:
		return "ark";
	default:
		return "other";
	}
}

static enum ci_snp_cert_kind
kind_of(const uint8_t guid[16])
{
	for (int k = CI_SNP_CERT_VCEK; k <= CI_SNP_CERT_ARK; k++)
		if (memcmp(guid, ci_snp_cert_guid((enum ci_snp_cert_kind)k), 16) == 0)	/* public */
			return (enum ci_snp_cert_kind)k;
	return CI_SNP_CERT_OTHER;
}

int
ci_snp_cert_table_parse(struct ci_snp_cert_table *t, const uint8_t *p, size_t size,
    struct cinfer_err *e)
{
	struct ci_rd rd;
	size_t header, offs[CI_SNP_CERT_TABLE_MAX];

	memset(t, 0, sizeof(*t));
	if (size > CI_SNP_CERT_TABLE_MAX_SIZE)
		return ci_fail(e, CINFER_E_LIMIT, STAGE, "certificate table of %zu bytes", size);
	ci_rd_init(&rd, p, size);
	for (;;) {
		struct ci_snp_cert_entry *en;
		uint8_t guid[16];
		uint32_t off, len;

		ci_rd_copy(&rd, guid, 16);
		ci_rd_u32le(&rd, &off);
		ci_rd_u32le(&rd, &len);
		if (rd.bad)
			return ci_fail(e, CINFER_E_MALFORMED, STAGE,
			    "certificate table ends before its terminating entry");
		if (ci_is_zero(guid, 16)) {
			if (off != 0 || len != 0)
				return ci_fail(e, CINFER_E_MALFORMED, STAGE,
				    "terminating entry has offset or length");
			break;
		}
		if (t->count == CI_SNP_CERT_TABLE_MAX)
			return ci_fail(e, CINFER_E_LIMIT, STAGE,
			    "certificate table has more than %d entries", CI_SNP_CERT_TABLE_MAX);
		/* Offsets are checked below, once the header's size is known. */
		offs[t->count] = off;
		en = &t->entry[t->count++];
		memcpy(en->guid, guid, 16);
		en->kind = kind_of(guid);
		en->size = len;
	}
	header = (t->count + 1) * CI_SNP_CERT_ENTRY_SIZE;
	for (size_t i = 0; i < t->count; i++) {
		struct ci_snp_cert_entry *en = &t->entry[i];
		size_t off = offs[i];

		if (en->size == 0)
			return ci_fail(e, CINFER_E_MALFORMED, STAGE, "entry %zu (%s) is empty", i,
			    ci_snp_cert_kind_name(en->kind));
		if (off < header || off > size || en->size > size - off)
			return ci_fail(e, CINFER_E_MALFORMED, STAGE,
			    "entry %zu (%s) at %zu+%zu lies outside the %zu-byte table", i,
			    ci_snp_cert_kind_name(en->kind), off, en->size, size);
		en->data = p + off;
		for (size_t j = 0; j < i; j++)
			if (memcmp(t->entry[j].guid, en->guid, 16) == 0)	/* public */
				return ci_fail(e, CINFER_E_MALFORMED, STAGE,
				    "certificate table lists %s twice",
				    ci_snp_cert_kind_name(en->kind));
	}
	return 0;
}

const struct ci_snp_cert_entry *
ci_snp_cert_table_find(const struct ci_snp_cert_table *t, enum ci_snp_cert_kind kind)
{
	for (size_t i = 0; i < t->count; i++)
		if (t->entry[i].kind == kind)
			return &t->entry[i];
	return NULL;
}

static void
put32le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

int
ci_snp_cert_table_build(const struct ci_snp_cert_entry *in, size_t n, uint8_t **out,
    size_t *out_size, struct cinfer_err *e)
{
	size_t header, total;
	uint8_t *buf;

	*out = NULL;
	*out_size = 0;
	if (n > CI_SNP_CERT_TABLE_MAX)
		return ci_fail(e, CINFER_E_LIMIT, STAGE, "too many certificates");
	header = (n + 1) * CI_SNP_CERT_ENTRY_SIZE;
	total = header;
	for (size_t i = 0; i < n; i++) {
		if (in[i].size == 0 || in[i].size > CI_SNP_CERT_TABLE_MAX_SIZE - total)
			return ci_fail(e, CINFER_E_LIMIT, STAGE, "certificate %zu is empty or too big", i);
		total += in[i].size;
	}
	buf = ci_calloc(1, total);
	if (buf == NULL)
		return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
	total = header;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *g = ci_snp_cert_guid(in[i].kind);
		uint8_t *ent = buf + i * CI_SNP_CERT_ENTRY_SIZE;

		memcpy(ent, g != NULL ? g : in[i].guid, 16);
		put32le(ent + 16, (uint32_t)total);
		put32le(ent + 20, (uint32_t)in[i].size);
		memcpy(buf + total, in[i].data, in[i].size);
		total += in[i].size;
	}
	*out = buf;
	*out_size = total;
	return 0;
}
