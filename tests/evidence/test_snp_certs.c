/*
 * SEV-SNP certificates offline first: the certificate (GUID) table parser
 * and builder, and KDS fetching through a file:// KDS tree with the cache
 * and the rate limit.
 */
#include "testutil.h"

#include <sys/stat.h>

#include "crypto/crypto.h"
#include "evidence/snp_certs.h"
#include "evidence/snp_report.h"

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void
test_table_roundtrip(void **state)
{
	struct cinfer_err e = { 0 };
	struct ci_snp_cert_entry in[3];
	struct ci_snp_cert_table t;
	uint8_t *tab = NULL, a[10], b[20], c[5];
	size_t size = 0;

	memset(a, 1, sizeof(a));
	memset(b, 2, sizeof(b));
	memset(c, 3, sizeof(c));
	memset(in, 0, sizeof(in));
	in[0] = (struct ci_snp_cert_entry){ .kind = CI_SNP_CERT_VLEK, .data = a, .size = sizeof(a) };
	in[1] = (struct ci_snp_cert_entry){ .kind = CI_SNP_CERT_ARK, .data = b, .size = sizeof(b) };
	memset(in[2].guid, 0x77, 16);
	in[2].data = c;
	in[2].size = sizeof(c);
	assert_int_equal(ci_snp_cert_table_build(in, 3, &tab, &size, &e), 0);
	assert_int_equal(size, 4 * 24 + 35);
	/* The VLEK GUID, in RFC 4122 byte order. */
	assert_memory_equal(tab, "\xa8\x07\x4b\xc2\xa2\x5a\x48\x3e\xaa\xe6\x39\xc0\x45\xa0\xb8\xa1",
	    16);
	assert_int_equal(ci_snp_cert_table_parse(&t, tab, size, &e), 0);
	assert_int_equal(t.count, 3);
	assert_int_equal(t.entry[0].kind, CI_SNP_CERT_VLEK);
	assert_int_equal(t.entry[1].kind, CI_SNP_CERT_ARK);
	assert_int_equal(t.entry[2].kind, CI_SNP_CERT_OTHER);
	assert_non_null(ci_snp_cert_table_find(&t, CI_SNP_CERT_ARK));
	assert_null(ci_snp_cert_table_find(&t, CI_SNP_CERT_VCEK));
	assert_memory_equal(ci_snp_cert_table_find(&t, CI_SNP_CERT_ARK)->data, b, sizeof(b));
	assert_int_equal(t.entry[2].size, 5);
	ci_free(tab);
}

static void
expect_bad(const uint8_t *p, size_t size, enum cinfer_code code, const char *part)
{
	struct ci_snp_cert_table t;
	struct cinfer_err e = { 0 };

	assert_int_equal(ci_snp_cert_table_parse(&t, p, size, &e), -1);
	assert_code(e, code);
	if (strstr(e.msg, part) == NULL)
		fail_msg("\"%s\" lacks \"%s\"", e.msg, part);
}

static void
test_table_rejects(void **state)
{
	uint8_t buf[24 * 20 + 64];
	const uint8_t *vcek = ci_snp_cert_guid(CI_SNP_CERT_VCEK);

	/* No terminator. */
	memset(buf, 0, sizeof(buf));
	memcpy(buf, vcek, 16);
	put32(buf + 16, 48);
	put32(buf + 20, 4);
	expect_bad(buf, 24, CINFER_E_MALFORMED, "terminating");
	/* Entry beyond the end. */
	put32(buf + 20, 100);
	expect_bad(buf, 60, CINFER_E_MALFORMED, "outside");
	/* Entry inside the header. */
	put32(buf + 16, 8);
	put32(buf + 20, 4);
	expect_bad(buf, 60, CINFER_E_MALFORMED, "outside");
	/* Offset that wraps. */
	put32(buf + 16, 0xffffffffu);
	expect_bad(buf, 60, CINFER_E_MALFORMED, "outside");
	/* Empty entry. */
	put32(buf + 16, 48);
	put32(buf + 20, 0);
	expect_bad(buf, 60, CINFER_E_MALFORMED, "empty");
	/* Terminator with a length. */
	put32(buf + 20, 4);
	put32(buf + 24 + 20, 1);
	expect_bad(buf, 60, CINFER_E_MALFORMED, "terminating entry");
	put32(buf + 24 + 20, 0);
	/* The same GUID twice. */
	put32(buf + 16, 72);
	memcpy(buf + 24, vcek, 16);
	put32(buf + 24 + 16, 76);
	put32(buf + 24 + 20, 4);
	expect_bad(buf, 80, CINFER_E_MALFORMED, "twice");
	/* Too many entries. */
	memset(buf, 0, sizeof(buf));
	for (int i = 0; i < 17; i++) {
		memset(buf + 24 * i, i + 1, 16);
		put32(buf + 24 * i + 16, 24 * 18);
		put32(buf + 24 * i + 20, 1);
	}
	expect_bad(buf, sizeof(buf), CINFER_E_LIMIT, "more than");
	/* An empty table (host without certificates) is fine. */
	{
		struct ci_snp_cert_table t;
		struct cinfer_err e = { 0 };
		memset(buf, 0, sizeof(buf));
		assert_int_equal(ci_snp_cert_table_parse(&t, buf, 4096 < sizeof(buf) ? 4096 :
		    sizeof(buf), &e), 0);
		assert_int_equal(t.count, 0);
	}
}

static void
test_vcek_path(void **state)
{
	struct ci_snp_report r;
	struct ci_snp_vcek_id id;
	struct cinfer_err e = { 0 };
	size_t size;
	uint8_t *rep = t_read(t_vector("snp/virtee_milan_v2_report.bin"), &size);
	char path[512];

	assert_int_equal(ci_snp_report_parse(&r, rep, size, &e), 0);
	/* A v2 report does not name its product. */
	assert_int_equal(ci_snp_vcek_id_from_report(&r, CI_SNP_FAMILY_UNKNOWN, &id, &e), -1);
	assert_code(e, CINFER_E_USAGE);
	memset(&e, 0, sizeof(e));
	assert_int_equal(ci_snp_vcek_id_from_report(&r, CI_SNP_FAMILY_MILAN, &id, &e), 0);
	assert_int_equal(ci_snp_kds_vcek_path(&id, path, sizeof(path), &e), 0);
	assert_string_equal(path, "/vcek/v1/Milan/d49554ec717f4e5b0fe6b143bcf0405bd7ae304727edf46603f2a76aef6a3abc15d7af38db757039029f0efacfd08e244324884738c72b082e2f87a44d541eb6?blSPL=03&teeSPL=00&snpSPL=08&ucodeSPL=115");
	id.family = CI_SNP_FAMILY_TURIN;
	id.hwid_size = 8;
	id.tcb.fmc = 1;
	assert_int_equal(ci_snp_kds_vcek_path(&id, path, sizeof(path), &e), 0);
	assert_string_equal(path, "/vcek/v1/Turin/d49554ec717f4e5b?fmcSPL=01&blSPL=03&teeSPL=00&snpSPL=08&ucodeSPL=115");
	ci_free(rep);

	/* VLEK-signed reports are not a KDS matter. */
	rep = t_read(t_vector("snp/trustee_milan_vlek_v3_report.bin"), &size);
	assert_int_equal(ci_snp_report_parse(&r, rep, size, &e), 0);
	assert_int_equal(ci_snp_vcek_id_from_report(&r, CI_SNP_FAMILY_UNKNOWN, &id, &e), -1);
	assert_code(e, CINFER_E_USAGE);
	ci_free(rep);
}

static void
write_file(const char *dir, const char *rel, const void *p, size_t size)
{
	char path[4200], cmd[4300];
	struct cinfer_err e = { 0 };

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(ci_file_write(path, p, size, 0600, &e), 0);
}

/* A file:// KDS tree serving the real VCEK of a real report. */
static void
test_kds_fetch_and_cache(void **state)
{
	struct ci_snp_report r;
	struct ci_snp_vcek_id id;
	struct cinfer_err e = { 0 };
	char *kds = t_tmpdir(), *cache = t_tmpdir(), url[4200], rel[512], cdir[4200];
	size_t rsize, vsize, csize, got_size;
	uint8_t *rep = t_read(t_vector("snp/gcp_milan_v5_report.bin"), &rsize);
	uint8_t *vcek = t_read(t_vector("snp/gcp_milan_vcek.pem"), &vsize);
	uint8_t *chain = t_read(t_vector("roots/amd_ask_ark_milan.pem"), &csize);
	uint8_t *got = NULL;
	int fetched = -1;
	struct ci_snp_kds k = { 0 };

	assert_int_equal(ci_snp_report_parse(&r, rep, rsize, &e), 0);
	assert_int_equal(ci_snp_vcek_id_from_report(&r, CI_SNP_FAMILY_UNKNOWN, &id, &e), 0);
	assert_int_equal(id.family, CI_SNP_FAMILY_MILAN);
	assert_int_equal(ci_snp_kds_vcek_path(&id, rel, sizeof(rel), &e), 0);
	*strchr(rel, '?') = '\0';	/* file:// ignores the query */
	write_file(kds, rel + 1, vcek, vsize);
	write_file(kds, "vcek/v1/Milan/cert_chain", chain, csize);
	snprintf(url, sizeof(url), "file://%s", kds);
	snprintf(cdir, sizeof(cdir), "%s/deep/cache", cache);
	k.url = url;
	k.cache_dir = cdir;
	k.no_wait = 1;

	/* First: fetched, checked against the report's chip and TCB, cached. */
	if (ci_snp_kds_get_vcek(&k, &id, &got, &got_size, &fetched, &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(fetched, 1);
	assert_int_equal(got_size, vsize);
	assert_memory_equal(got, vcek, vsize);
	ci_free(got);
	/* Second: from the cache, no request (so no rate limit either). */
	assert_int_equal(ci_snp_kds_get_vcek(&k, &id, &got, &got_size, &fetched, &e), 0);
	assert_int_equal(fetched, 0);
	ci_free(got);
	/* A new request inside the 10 s window: refused, with when to retry. */
	assert_int_equal(ci_snp_kds_get_family_file(&k, CI_SNP_FAMILY_MILAN, "vcek", "cert_chain",
	    &got, &got_size, &fetched, &e), -1);
	assert_code(e, CINFER_E_LIMIT);
	assert_non_null(strstr(e.msg, "retry in"));
	/* Without the limit it goes through. */
	memset(&e, 0, sizeof(e));
	k.min_interval = -1;
	assert_int_equal(ci_snp_kds_get_family_file(&k, CI_SNP_FAMILY_MILAN, "vcek", "cert_chain",
	    &got, &got_size, &fetched, &e), 0);
	assert_int_equal(fetched, 1);
	assert_memory_equal(got, chain, csize);
	ci_free(got);

	/* KDS serving a VCEK of another TCB: refused, nothing cached. */
	id.tcb.microcode++;
	assert_int_equal(ci_snp_kds_vcek_path(&id, rel, sizeof(rel), &e), 0);
	*strchr(rel, '?') = '\0';
	assert_int_equal(ci_snp_kds_get_vcek(&k, &id, &got, &got_size, &fetched, &e), -1);
	assert_code(e, CINFER_E_CRYPTO);
	assert_null(got);
	/* Nothing at all. */
	memset(&e, 0, sizeof(e));
	id.hwid[0] ^= 1;
	assert_int_equal(ci_snp_kds_get_vcek(&k, &id, &got, &got_size, &fetched, &e), -1);
	assert_code(e, CINFER_E_IO);

	ci_free(rep);
	ci_free(vcek);
	ci_free(chain);
	t_rmrf(kds);
	t_rmrf(cache);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_roundtrip),
		cmocka_unit_test(test_table_rejects),
		cmocka_unit_test(test_vcek_path),
		cmocka_unit_test(test_kds_fetch_and_cache),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
