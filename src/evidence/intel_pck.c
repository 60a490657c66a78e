/* Intel SGX PCK certificate extension parser: a narrow DER walk with ci_rd. */
#include <string.h>

#include <openssl/objects.h>

#include "evidence/intel_pck.h"

#define STAGE "evidence.tdx.pck"

/* 1.2.840.113741.1.13.1 without tag and length. */
static const uint8_t sgx_oid[] = { 0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01 };

/* Reads one DER element of the expected tag into a nested view. */
static int
der_elem(struct ci_rd *r, uint8_t want_tag, struct ci_rd *val)
{
	uint8_t tag = 0, b = 0;
	size_t len = 0;

	ci_rd_u8(r, &tag);
	ci_rd_u8(r, &b);
	if (r->bad || tag != want_tag)
		return -1;
	if (b < 0x80) {
		len = b;
	} else {
		unsigned n = b & 0x7fu;
		if (n == 0 || n > 3)
			return -1;
		for (unsigned i = 0; i < n; i++) {
			ci_rd_u8(r, &b);
			len = (len << 8) | b;
		}
		if (r->bad || len < 0x80)	/* DER: shortest form */
			return -1;
	}
	return ci_rd_sub(r, len, val);
}

/* A small non-negative DER INTEGER (at most max). */
static int
der_uint(struct ci_rd *r, uint8_t tag, unsigned max, unsigned *out)
{
	struct ci_rd v;
	uint8_t b = 0;
	unsigned long acc = 0;

	*out = 0;
	if (der_elem(r, tag, &v) != 0 || v.left == 0 || v.left > 3)
		return -1;
	if (v.p[0] & 0x80)
		return -1;
	if (v.left > 1 && v.p[0] == 0 && !(v.p[1] & 0x80))
		return -1;	/* not minimal */
	while (v.left > 0) {
		ci_rd_u8(&v, &b);
		acc = (acc << 8) | b;
	}
	if (acc > max)
		return -1;
	*out = (unsigned)acc;
	return 0;
}

static int
der_octets(struct ci_rd *r, uint8_t *dst, size_t size)
{
	struct ci_rd v;

	if (der_elem(r, 0x04, &v) != 0 || v.left != size)
		return -1;
	return ci_rd_copy(&v, dst, size);
}

/* 1 if an OID value is sgx_oid plus one arc below 128. */
static int
oid_is_sgx_child(const struct ci_rd *oid)
{
	return oid->left == sizeof(sgx_oid) + 1 &&
	    memcmp(oid->p, sgx_oid, sizeof(sgx_oid)) == 0 &&	/* public */
	    oid->p[sizeof(sgx_oid)] < 0x80;
}

static int
parse_tcb(struct ci_rd *seq, struct ci_intel_pck_ext *x)
{
	uint32_t seen = 0;

	while (seq->left > 0) {
		struct ci_rd item, oid;
		unsigned v = 0;
		uint8_t arc;

		if (der_elem(seq, 0x30, &item) != 0 || der_elem(&item, 0x06, &oid) != 0)
			return -1;
		if (oid.left != sizeof(sgx_oid) + 2 ||
		    memcmp(oid.p, sgx_oid, sizeof(sgx_oid)) != 0 ||	/* public */
		    oid.p[sizeof(sgx_oid)] != 2)
			return -1;
		arc = oid.p[sizeof(sgx_oid) + 1];
		if (arc >= 1 && arc <= 16) {
			if (der_uint(&item, 0x02, 255, &v) != 0)
				return -1;
			x->comp_svn[arc - 1] = (uint8_t)v;
		} else if (arc == 17) {
			if (der_uint(&item, 0x02, 65535, &v) != 0)
				return -1;
			x->pcesvn = (uint16_t)v;
		} else if (arc == 18) {
			if (der_octets(&item, x->cpusvn, 16) != 0)
				return -1;
		} else {
			return -1;
		}
		if (ci_rd_done(&item) != 0 || (seen & (1u << arc)))
			return -1;
		seen |= 1u << arc;
	}
	return seen == 0x7fffeu ? 0 : -1;	/* arcs 1..18, each once */
}

int
ci_intel_pck_ext_parse(struct ci_intel_pck_ext *x, const uint8_t *der, size_t size,
    struct cinfer_err *e)
{
	struct ci_rd r, top;
	unsigned seen = 0;

	memset(x, 0, sizeof(*x));
	x->sgx_type = -1;
	if (size > CI_INTEL_SGX_EXT_MAX)
		return ci_fail(e, CINFER_E_LIMIT, STAGE, "SGX extension of %zu bytes", size);
	ci_rd_init(&r, der, size);
	if (der_elem(&r, 0x30, &top) != 0 || ci_rd_done(&r) != 0)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "SGX extension is not one SEQUENCE");
	while (top.left > 0) {
		struct ci_rd item, oid, v;
		unsigned arc, val = 0;
		int bad = 0;

		if (der_elem(&top, 0x30, &item) != 0 || der_elem(&item, 0x06, &oid) != 0 ||
		    !oid_is_sgx_child(&oid))
			return ci_fail(e, CINFER_E_MALFORMED, STAGE, "bad SGX extension entry");
		arc = oid.p[sizeof(sgx_oid)];
		switch (arc) {
		case 1:
			bad = der_octets(&item, x->ppid, 16);
			break;
		case 2:
			bad = der_elem(&item, 0x30, &v) != 0 || parse_tcb(&v, x) != 0;
			break;
		case 3:
			bad = der_octets(&item, x->pceid, 2);
			break;
		case 4:
			bad = der_octets(&item, x->fmspc, 6);
			break;
		case 5:
			bad = der_uint(&item, 0x0a, 2, &val);
			x->sgx_type = (int)val;
			break;
		default:
			/* Platform instance id, configuration (multi-package platforms): not used. */
			if (arc > 31) {
				bad = 1;
				break;
			}
			bad = ci_rd_skip(&item, item.left);
			break;
		}
		if (bad || ci_rd_done(&item) != 0)
			return ci_fail(e, CINFER_E_MALFORMED, STAGE, "bad SGX extension field %u", arc);
		if (seen & (1u << arc))
			return ci_fail(e, CINFER_E_MALFORMED, STAGE, "SGX extension field %u repeated",
			    arc);
		seen |= 1u << arc;
	}
	if ((seen & 0x1cu) != 0x1cu)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE,
		    "SGX extension lacks TCB, PCE-ID or FMSPC");
	return 0;
}

int
ci_intel_pck_ext_from_cert(struct ci_intel_pck_ext *x, X509 *cert, struct cinfer_err *e)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(CI_INTEL_SGX_EXT_OID, 1);
	ASN1_OCTET_STRING *d;
	int idx;

	memset(x, 0, sizeof(*x));
	if (obj == NULL)
		return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
	idx = X509_get_ext_by_OBJ(cert, obj, -1);
	if (idx >= 0 && X509_get_ext_by_OBJ(cert, obj, idx) >= 0) {
		ASN1_OBJECT_free(obj);
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "PCK certificate has two SGX extensions");
	}
	ASN1_OBJECT_free(obj);
	if (idx < 0)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "PCK certificate has no SGX extension");
	d = X509_EXTENSION_get_data(X509_get_ext(cert, idx));
	return ci_intel_pck_ext_parse(x, ASN1_STRING_get0_data(d), (size_t)ASN1_STRING_length(d), e);
}
