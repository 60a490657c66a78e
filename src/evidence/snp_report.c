#include <string.h>

#include <stdio.h>

#include "cinfer/evidence.h"
#include "evidence/snp_report.h"

#define STAGE "evidence.snp.report"

void
ci_snp_tcb_decode(uint64_t raw, int turin, struct ci_snp_tcb *t)
{
	memset(t, 0, sizeof(*t));
	t->raw = raw;
	if (turin) {
		/* FMC, BOOT_LOADER, TEE, SNP, reserved[3], MICROCODE */
		t->fmc = (uint8_t)raw;
		t->bootloader = (uint8_t)(raw >> 8);
		t->tee = (uint8_t)(raw >> 16);
		t->snp = (uint8_t)(raw >> 24);
	} else {
		/* BOOT_LOADER, TEE, reserved[4], SNP, MICROCODE */
		t->bootloader = (uint8_t)raw;
		t->tee = (uint8_t)(raw >> 8);
		t->snp = (uint8_t)(raw >> 48);
	}
	t->microcode = (uint8_t)(raw >> 56);
}

uint64_t
ci_snp_tcb_encode(const struct ci_snp_tcb *t, int turin)
{
	if (turin)
		return (uint64_t)t->fmc | (uint64_t)t->bootloader << 8 |
		    (uint64_t)t->tee << 16 | (uint64_t)t->snp << 24 |
		    (uint64_t)t->microcode << 56;
	return (uint64_t)t->bootloader | (uint64_t)t->tee << 8 | (uint64_t)t->snp << 48 |
	    (uint64_t)t->microcode << 56;
}

/* A reserved range must be zero (SEV-SNP ABI: "MBZ"); it is signed, but a
 * report that breaks the layout rules is not one the firmware made. */
static int
mbz(const uint8_t *p, size_t from, size_t to, struct cinfer_err *e)
{
	if (!ci_is_zero(p + from, to - from))
		return ci_fail(e, CINFER_E_MALFORMED, STAGE,
		    "reserved bytes 0x%zx..0x%zx of the report are not zero", from, to);
	return 0;
}

int
ci_snp_report_parse(struct ci_snp_report *r, const uint8_t *p, size_t size,
    struct cinfer_err *e)
{
	struct ci_rd rd, sig;
	uint64_t cur, rep, com, lau;

	memset(r, 0, sizeof(*r));
	if (size != CI_SNP_REPORT_SIZE)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE,
		    "report is %zu bytes, an SEV-SNP report is %d", size, CI_SNP_REPORT_SIZE);
	ci_rd_init(&rd, p, size);
	ci_rd_u32le(&rd, &r->version);
	if (r->version != 2 && r->version != 3 && r->version != 5)
		return ci_fail(e, CINFER_E_UNSUPPORTED, STAGE,
		    "report version %u is not supported (2, 3 and 5 are)", r->version);
	ci_rd_u32le(&rd, &r->guest_svn);
	ci_rd_u64le(&rd, &r->policy);
	ci_rd_copy(&rd, r->family_id, 16);
	ci_rd_copy(&rd, r->image_id, 16);
	ci_rd_u32le(&rd, &r->vmpl);
	ci_rd_u32le(&rd, &r->sig_algo);
	ci_rd_u64le(&rd, &cur);
	ci_rd_u64le(&rd, &r->platform_info);
	ci_rd_u32le(&rd, &r->key_info);
	ci_rd_skip(&rd, 4);				/* 0x4C reserved */
	ci_rd_copy(&rd, r->report_data, 64);
	ci_rd_copy(&rd, r->measurement, 48);
	ci_rd_copy(&rd, r->host_data, 32);
	ci_rd_copy(&rd, r->id_key_digest, 48);
	ci_rd_copy(&rd, r->author_key_digest, 48);
	ci_rd_copy(&rd, r->report_id, 32);
	ci_rd_copy(&rd, r->report_id_ma, 32);
	ci_rd_u64le(&rd, &rep);
	ci_rd_u8(&rd, &r->cpuid_fam_id);		/* 0x188, v3+ */
	ci_rd_u8(&rd, &r->cpuid_mod_id);
	ci_rd_u8(&rd, &r->cpuid_step);
	ci_rd_skip(&rd, 0x1A0 - 0x18B);			/* reserved */
	ci_rd_copy(&rd, r->chip_id, 64);
	ci_rd_u64le(&rd, &com);
	ci_rd_u8(&rd, &r->current_build);
	ci_rd_u8(&rd, &r->current_minor);
	ci_rd_u8(&rd, &r->current_major);
	ci_rd_skip(&rd, 1);				/* 0x1EB reserved */
	ci_rd_u8(&rd, &r->committed_build);
	ci_rd_u8(&rd, &r->committed_minor);
	ci_rd_u8(&rd, &r->committed_major);
	ci_rd_skip(&rd, 1);				/* 0x1EF reserved */
	ci_rd_u64le(&rd, &lau);
	ci_rd_u64le(&rd, &r->launch_mit_vector);	/* 0x1F8, v5+ */
	ci_rd_u64le(&rd, &r->current_mit_vector);
	ci_rd_skip(&rd, CI_SNP_SIGNED_SIZE - 0x208);	/* reserved */
	ci_rd_sub(&rd, CI_SNP_REPORT_SIZE - CI_SNP_SIGNED_SIZE, &sig);
	ci_rd_copy(&sig, r->sig_r, CI_SNP_SIG_COMP_SIZE);
	ci_rd_copy(&sig, r->sig_s, CI_SNP_SIG_COMP_SIZE);
	if (rd.bad || sig.bad || ci_rd_done(&rd) != 0)
		return ci_fail(e, CINFER_E_INTERNAL, STAGE, "report layout arithmetic is wrong");

	/* Reserved fields, per version: what later versions define is
	 * reserved (zero) in earlier ones. */
	if (mbz(p, 0x4C, 0x50, e) != 0 ||
	    mbz(p, r->version >= 3 ? 0x18B : 0x188, 0x1A0, e) != 0 ||
	    mbz(p, 0x1EB, 0x1EC, e) != 0 || mbz(p, 0x1EF, 0x1F0, e) != 0 ||
	    mbz(p, r->version >= 5 ? 0x208 : 0x1F8, CI_SNP_SIGNED_SIZE, e) != 0)
		return -1;
	/* r and s are 48-byte P-384 scalars in 72-byte fields; the rest of
	 * the signature block is reserved. */
	if (mbz(p, 0x2A0 + 48, 0x2A0 + 72, e) != 0 ||
	    mbz(p, 0x2A0 + 72 + 48, 0x2A0 + 144, e) != 0 ||
	    mbz(p, 0x2A0 + 144, CI_SNP_REPORT_SIZE, e) != 0)
		return -1;
	if ((r->policy & CI_SNP_POLICY_RESERVED1) == 0)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE,
		    "guest policy bit 17 is reserved and must be one");
	if ((r->key_info >> 5) != 0)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE,
		    "reserved key information bits 0x%x are set", r->key_info);
	r->turin = r->cpuid_fam_id == 0x1A;
	r->author_key_en = r->key_info & 1;
	r->mask_chip_key = (r->key_info >> 1) & 1;
	r->signing_key = (enum ci_snp_signing_key)((r->key_info >> 2) & 7);
	ci_snp_tcb_decode(cur, r->turin, &r->current_tcb);
	ci_snp_tcb_decode(rep, r->turin, &r->reported_tcb);
	ci_snp_tcb_decode(com, r->turin, &r->committed_tcb);
	ci_snp_tcb_decode(lau, r->turin, &r->launch_tcb);
	r->signed_part = p;

	if (r->sig_algo != 1)
		return ci_fail(e, CINFER_E_UNSUPPORTED, STAGE,
		    "signature algorithm %u (only 1, ECDSA P-384 with SHA-384, exists)",
		    r->sig_algo);
	if (r->vmpl > 3)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "VMPL %u is out of range 0-3", r->vmpl);
	if (r->signing_key != CI_SNP_KEY_VCEK && r->signing_key != CI_SNP_KEY_VLEK &&
	    r->signing_key != CI_SNP_KEY_NONE)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "signing key field %u is reserved",
		    (unsigned)r->signing_key);
	return 0;
}

void
ci_snp_report_sig_be(const struct ci_snp_report *r, uint8_t r_be[48], uint8_t s_be[48])
{
	for (int i = 0; i < 48; i++) {
		r_be[i] = r->sig_r[47 - i];
		s_be[i] = r->sig_s[47 - i];
	}
}

static void
tcb_claims(struct cinfer_claims *c, const char *prefix, const struct ci_snp_tcb *t, int turin)
{
	char name[32];

	if (prefix == NULL) {
		/* The reported TCB is the one policies compare: bare names. */
		if (turin)
			cinfer_claims_add_tcb(c, "fmc", t->fmc);
		cinfer_claims_add_tcb(c, "bootloader", t->bootloader);
		cinfer_claims_add_tcb(c, "tee", t->tee);
		cinfer_claims_add_tcb(c, "snp", t->snp);
		cinfer_claims_add_tcb(c, "microcode", t->microcode);
		return;
	}
	snprintf(name, sizeof(name), "%s_tcb", prefix);
	{
		char v[64];
		snprintf(v, sizeof(v), "%016llx", (unsigned long long)t->raw);
		cinfer_claims_add_detail(c, name, v);
		snprintf(name, sizeof(name), "%s_tcb_spl", prefix);
		if (turin)
			snprintf(v, sizeof(v), "fmc=%u bl=%u tee=%u snp=%u ucode=%u", t->fmc,
			    t->bootloader, t->tee, t->snp, t->microcode);
		else
			snprintf(v, sizeof(v), "bl=%u tee=%u snp=%u ucode=%u", t->bootloader,
			    t->tee, t->snp, t->microcode);
		cinfer_claims_add_detail(c, name, v);
	}
}

void
ci_snp_report_claims(const struct ci_snp_report *r, struct cinfer_claims *c)
{
	char v[64];

	memcpy(c->measurement, r->measurement, 48);
	c->measurement_size = 48;
	memcpy(c->report_data, r->report_data, 64);
	c->report_data_size = 64;
	memcpy(c->host_data, r->host_data, 32);
	c->host_data_size = 32;
	c->debug = (r->policy & CI_SNP_POLICY_DEBUG) != 0;
	memcpy(c->chip_id, r->chip_id, r->turin ? 8 : 64);
	c->chip_id_size = r->turin ? 8 : 64;
	tcb_claims(c, NULL, &r->reported_tcb, r->turin);
	tcb_claims(c, "current", &r->current_tcb, r->turin);
	tcb_claims(c, "committed", &r->committed_tcb, r->turin);
	tcb_claims(c, "launch", &r->launch_tcb, r->turin);
	tcb_claims(c, "reported", &r->reported_tcb, r->turin);
	snprintf(v, sizeof(v), "%u", r->version);
	cinfer_claims_add_detail(c, "version", v);
	snprintf(v, sizeof(v), "0x%llx", (unsigned long long)r->policy);
	cinfer_claims_add_detail(c, "guest_policy", v);
	cinfer_claims_add_detail(c, "policy_debug", (r->policy & CI_SNP_POLICY_DEBUG) ? "true" : "false");
	cinfer_claims_add_detail(c, "policy_migrate_ma",
	    (r->policy & CI_SNP_POLICY_MIGRATE_MA) ? "true" : "false");
	cinfer_claims_add_detail(c, "policy_smt", (r->policy & CI_SNP_POLICY_SMT) ? "true" : "false");
	cinfer_claims_add_detail(c, "policy_single_socket",
	    (r->policy & CI_SNP_POLICY_SINGLE_SOCKET) ? "true" : "false");
	snprintf(v, sizeof(v), "%u", r->vmpl);
	cinfer_claims_add_detail(c, "vmpl", v);
	snprintf(v, sizeof(v), "%u", r->guest_svn);
	cinfer_claims_add_detail(c, "guest_svn", v);
	snprintf(v, sizeof(v), "0x%llx", (unsigned long long)r->platform_info);
	cinfer_claims_add_detail(c, "platform_info", v);
	cinfer_claims_add_detail(c, "signing_key", r->signing_key == CI_SNP_KEY_VCEK ? "vcek" :
	    r->signing_key == CI_SNP_KEY_VLEK ? "vlek" : "none");
	cinfer_claims_add_detail_hex(c, "family_id", r->family_id, 16);
	cinfer_claims_add_detail_hex(c, "image_id", r->image_id, 16);
	cinfer_claims_add_detail_hex(c, "id_key_digest", r->id_key_digest, 48);
	cinfer_claims_add_detail_hex(c, "author_key_digest", r->author_key_digest, 48);
	cinfer_claims_add_detail_hex(c, "report_id", r->report_id, 32);
	if (r->version >= 3) {
		snprintf(v, sizeof(v), "%02x/%02x/%02x", r->cpuid_fam_id, r->cpuid_mod_id,
		    r->cpuid_step);
		cinfer_claims_add_detail(c, "cpuid_fam_mod_step", v);
	}
	snprintf(v, sizeof(v), "%u.%u", (unsigned)(r->policy >> 8) & 0xff,
	    (unsigned)r->policy & 0xff);
	cinfer_claims_add_detail(c, "policy_abi", v);
	cinfer_claims_add_detail(c, "author_key_en", r->author_key_en ? "true" : "false");
	cinfer_claims_add_detail(c, "mask_chip_key", r->mask_chip_key ? "true" : "false");
	cinfer_claims_add_detail_hex(c, "report_id_ma", r->report_id_ma, 32);
	/* PLATFORM_INFO bits: 0 SMT_EN, 1 TSME_EN, 2 ECC_EN, 3 RAPL_DIS,
	 * 4 CIPHERTEXT_HIDING_EN, 5 ALIAS_CHECK_COMPLETE. */
	cinfer_claims_add_detail(c, "platform_smt_en", (r->platform_info & 1) ? "true" : "false");
	cinfer_claims_add_detail(c, "platform_tsme_en", (r->platform_info & 2) ? "true" : "false");
	cinfer_claims_add_detail(c, "platform_ecc_en", (r->platform_info & 4) ? "true" : "false");
	cinfer_claims_add_detail(c, "platform_rapl_dis", (r->platform_info & 8) ? "true" : "false");
	cinfer_claims_add_detail(c, "platform_ciphertext_hiding",
	    (r->platform_info & 16) ? "true" : "false");
	cinfer_claims_add_detail(c, "platform_alias_check_done",
	    (r->platform_info & 32) ? "true" : "false");
	if (r->version >= 5) {
		snprintf(v, sizeof(v), "0x%llx", (unsigned long long)r->launch_mit_vector);
		cinfer_claims_add_detail(c, "launch_mit_vector", v);
		snprintf(v, sizeof(v), "0x%llx", (unsigned long long)r->current_mit_vector);
		cinfer_claims_add_detail(c, "current_mit_vector", v);
	}
	snprintf(v, sizeof(v), "%u.%u.%u", r->current_major, r->current_minor, r->current_build);
	cinfer_claims_add_detail(c, "firmware_current", v);
	snprintf(v, sizeof(v), "%u.%u.%u", r->committed_major, r->committed_minor,
	    r->committed_build);
	cinfer_claims_add_detail(c, "firmware_committed", v);
}
