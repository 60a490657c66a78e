#include <string.h>

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "crypto/crypto.h"
#include "evidence/amd_cert.h"

#define STAGE "evidence.amd.cert"

static ASN1_OCTET_STRING *
ext_data(X509 *x, const char *oid)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	int idx;
	ASN1_OCTET_STRING *d = NULL;

	if (obj == NULL)
		return NULL;
	idx = X509_get_ext_by_OBJ(x, obj, -1);
	if (idx >= 0)
		d = X509_EXTENSION_get_data(X509_get_ext(x, idx));
	ASN1_OBJECT_free(obj);
	return d;
}

/* An SPL is a DER INTEGER in 0..255 inside the extension value. */
static int
read_spl(X509 *x, const char *oid, const char *what, uint8_t *out, int required,
    struct cinfer_err *e)
{
	ASN1_OCTET_STRING *d = ext_data(x, oid);
	const unsigned char *p;
	ASN1_INTEGER *ai;
	long v;

	*out = 0;
	if (d == NULL)
		return required ? ci_fail(e, CINFER_E_MALFORMED, STAGE,
		    "certificate lacks the %s extension", what) : 1;
	p = ASN1_STRING_get0_data(d);
	ai = d2i_ASN1_INTEGER(NULL, &p, ASN1_STRING_length(d));
	if (ai == NULL || p != ASN1_STRING_get0_data(d) + ASN1_STRING_length(d)) {
		ASN1_INTEGER_free(ai);
		return ci_ossl_fail(e, CINFER_E_MALFORMED, STAGE, "bad SPL extension");
	}
	v = ASN1_INTEGER_get(ai);
	ASN1_INTEGER_free(ai);
	if (v < 0 || v > 255)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "%s %ld is out of range", what, v);
	*out = (uint8_t)v;
	return 0;
}

int
ci_amd_cert_ext_parse(X509 *x, struct ci_amd_cert_ext *out, struct cinfer_err *e)
{
	ASN1_OCTET_STRING *d;
	int rc;

	memset(out, 0, sizeof(*out));
	d = ext_data(x, CI_AMD_OID_PRODUCT_NAME);
	if (d != NULL) {
		const unsigned char *p = ASN1_STRING_get0_data(d);
		ASN1_IA5STRING *s = d2i_ASN1_IA5STRING(NULL, &p, ASN1_STRING_length(d));
		if (s == NULL || ASN1_STRING_length(s) >= (int)sizeof(out->product_name)) {
			ASN1_IA5STRING_free(s);
			return ci_ossl_fail(e, CINFER_E_MALFORMED, STAGE, "bad productName extension");
		}
		memcpy(out->product_name, ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
		ci_str_mask(out->product_name);
		ASN1_IA5STRING_free(s);
	}
	if (read_spl(x, CI_AMD_OID_BL_SPL, "blSPL", &out->bl, 1, e) < 0 ||
	    read_spl(x, CI_AMD_OID_TEE_SPL, "teeSPL", &out->tee, 1, e) < 0 ||
	    read_spl(x, CI_AMD_OID_SNP_SPL, "snpSPL", &out->snp, 1, e) < 0 ||
	    read_spl(x, CI_AMD_OID_UCODE_SPL, "ucodeSPL", &out->ucode, 1, e) < 0)
		return -1;
	out->has_tcb = 1;
	rc = read_spl(x, CI_AMD_OID_FMC_SPL, "fmcSPL", &out->fmc, 0, e);
	if (rc < 0)
		return -1;
	out->has_fmc = rc == 0;

	d = ext_data(x, CI_AMD_OID_HWID);
	if (d != NULL) {
		const unsigned char *p = ASN1_STRING_get0_data(d);
		int n = ASN1_STRING_length(d);
		/* KDS puts the raw id in extnValue; some tools wrap it in an OCTET STRING. */
		if (n >= 2 && p[0] == 0x04 && p[1] == n - 2 && (n - 2 == 64 || n - 2 == 8)) {
			p += 2;
			n -= 2;
		}
		if (n != 64 && n != 8)
			return ci_fail(e, CINFER_E_MALFORMED, STAGE, "hwID extension of %d bytes", n);
		memcpy(out->hwid, p, (size_t)n);
		out->hwid_size = (size_t)n;
	}
	d = ext_data(x, CI_AMD_OID_CSP_ID);
	if (d != NULL) {
		const unsigned char *p = ASN1_STRING_get0_data(d);
		ASN1_STRING *s = d2i_ASN1_IA5STRING(NULL, &p, ASN1_STRING_length(d));
		if (s != NULL && ASN1_STRING_length(s) < (int)sizeof(out->csp_id)) {
			memcpy(out->csp_id, ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
			ci_str_mask(out->csp_id);
		}
		ASN1_STRING_free(s);
	}
	return 0;
}

static int
add_raw_ext(X509 *x, const char *oid, const unsigned char *der, int size)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext = NULL;
	int ok = 0;

	if (obj != NULL && os != NULL && ASN1_OCTET_STRING_set(os, der, size) == 1) {
		ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os);
		ok = ext != NULL && X509_add_ext(x, ext, -1) == 1;
	}
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
	return ok ? 0 : -1;
}

static int
add_int_ext(X509 *x, const char *oid, long v)
{
	ASN1_INTEGER *ai = ASN1_INTEGER_new();
	unsigned char *der = NULL;
	int n, rc = -1;

	if (ai != NULL && ASN1_INTEGER_set(ai, v) == 1) {
		n = i2d_ASN1_INTEGER(ai, &der);
		if (n > 0)
			rc = add_raw_ext(x, oid, der, n);
	}
	OPENSSL_free(der);
	ASN1_INTEGER_free(ai);
	return rc;
}

int
ci_amd_cert_ext_add(X509 *x, const struct ci_amd_cert_ext *in, struct cinfer_err *e)
{
	ASN1_IA5STRING *s = ASN1_IA5STRING_new();
	unsigned char *der = NULL;
	int n = -1, rc = -1;

	if (s != NULL && ASN1_STRING_set(s, in->product_name, (int)strlen(in->product_name)) == 1)
		n = i2d_ASN1_IA5STRING(s, &der);
	if (n <= 0 || add_int_ext(x, CI_AMD_OID_STRUCT_VERSION, 1) != 0 ||
	    add_raw_ext(x, CI_AMD_OID_PRODUCT_NAME, der, n) != 0 ||
	    add_int_ext(x, CI_AMD_OID_BL_SPL, in->bl) != 0 ||
	    add_int_ext(x, CI_AMD_OID_TEE_SPL, in->tee) != 0 ||
	    add_int_ext(x, CI_AMD_OID_SNP_SPL, in->snp) != 0 ||
	    add_int_ext(x, CI_AMD_OID_UCODE_SPL, in->ucode) != 0 ||
	    (in->has_fmc && add_int_ext(x, CI_AMD_OID_FMC_SPL, in->fmc) != 0) ||
	    (in->hwid_size && add_raw_ext(x, CI_AMD_OID_HWID, in->hwid, (int)in->hwid_size) != 0)) {
		ci_ossl_fail(e, CINFER_E_INTERNAL, STAGE, "cannot add AMD extensions");
		goto out;
	}
	rc = 0;
out:
	OPENSSL_free(der);
	ASN1_IA5STRING_free(s);
	return rc;
}
