/*
 * Arm CCA attestation token verifier.
 *
 * Order: parse both tokens strictly; require a configured IAK; realm token
 * signed by the RAK carried in its own claims; the platform token must
 * name a signature algorithm (FVP/emulator tokens carry none); platform
 * challenge == hash(RAK) with the realm's RAK hash algorithm; platform
 * token signed by the IAK; then claims. No policy is judged here.
 */
#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "evidence/cca.h"

#define STAGE "evidence.cca"
#define STAGE_PARSE "evidence.cca.parse"
#define STAGE_IAK "evidence.cca.iak"
#define STAGE_REALM "evidence.cca.realm"
#define STAGE_PLATFORM "evidence.cca.platform"
#define STAGE_BIND "evidence.cca.binding"

static const struct ci_cbor_limits claims_lim = { 8, 2048, 0 };

static int
get_bytes(const cbor_item_t *map, int64_t key, const char *what, int required, size_t min,
    size_t max, struct ci_cca_bytes *b, struct cinfer_err *e)
{
	cbor_item_t *v = ci_cbor_map_int(map, key);

	b->p = NULL;
	b->size = 0;
	if (v == NULL && !required)
		return 0;
	return ci_cbor_get_bytes(v, what, min, max, &b->p, &b->size, STAGE_PARSE, e);
}

static int
get_text(const cbor_item_t *map, int64_t key, const char *what, int required, char *dst,
    size_t dst_size, struct cinfer_err *e)
{
	cbor_item_t *v = ci_cbor_map_int(map, key);

	dst[0] = '\0';
	if (v == NULL && !required)
		return 0;
	return ci_cbor_get_text(v, what, dst, dst_size, STAGE_PARSE, e);
}

static int
measurement_size_ok(size_t n)
{
	return n == 32 || n == 48 || n == 64;
}

static const EVP_MD *
hash_md(const char *name)
{
	if (strcmp(name, "sha-256") == 0)	/* public */
		return EVP_sha256();
	if (strcmp(name, "sha-384") == 0)	/* public */
		return EVP_sha384();
	if (strcmp(name, "sha-512") == 0)	/* public */
		return EVP_sha512();
	return NULL;
}

static int
parse_sw(const cbor_item_t *m, struct ci_cca_sw *sw, struct cinfer_err *e)
{
	cbor_item_t *v;

	if (!cbor_isa_map(m))
		return ci_fail(e, CINFER_E_MALFORMED, STAGE_PARSE, "software component is not a map");
	memset(sw, 0, sizeof(*sw));
	if (get_text(m, 1, "software component type", 0, sw->type, sizeof(sw->type), e) != 0 ||
	    get_text(m, 4, "software component version", 0, sw->version, sizeof(sw->version),
		e) != 0 ||
	    get_text(m, 6, "software component hash algorithm", 0, sw->hash_alg,
		sizeof(sw->hash_alg), e) != 0)
		return -1;
	v = ci_cbor_map_int(m, 2);
	if (ci_cbor_get_bytes(v, "software component measurement", 32, 64, &sw->measurement.p,
		&sw->measurement.size, STAGE_PARSE, e) != 0)
		return -1;
	v = ci_cbor_map_int(m, 5);
	if (ci_cbor_get_bytes(v, "software component signer id", 32, 64, &sw->signer_id.p,
		&sw->signer_id.size, STAGE_PARSE, e) != 0)
		return -1;
	return 0;
}

static int
parse_platform(struct ci_cca_platform *pl, const uint8_t *p, size_t size, struct cinfer_err *e)
{
	cbor_item_t *m, *v, **items;

	if (ci_cose_sign1_parse(&pl->cose, p, size, STAGE_PARSE, e) != 0)
		return -1;
	if (ci_cbor_decode(pl->cose.payload, pl->cose.payload_size, &claims_lim, NULL, &pl->claims,
		STAGE_PARSE, e) != 0)
		return -1;
	m = pl->claims;
	if (!cbor_isa_map(m))
		return ci_fail(e, CINFER_E_MALFORMED, STAGE_PARSE, "platform claims are not a map");
	if (get_text(m, CI_CCA_P_PROFILE, "platform profile", 1, pl->profile,
		sizeof(pl->profile), e) != 0 ||
	    get_bytes(m, CI_CCA_P_CHALLENGE, "platform challenge", 1, 32, 64, &pl->challenge,
		e) != 0 ||
	    get_bytes(m, CI_CCA_P_IMPL_ID, "implementation id", 1, 1, 64, &pl->impl_id, e) != 0 ||
	    get_bytes(m, CI_CCA_P_INSTANCE_ID, "instance id", 1, 1, 64, &pl->instance_id, e) != 0 ||
	    get_bytes(m, CI_CCA_P_CONFIG, "platform config", 1, 0, 4096, &pl->config, e) != 0 ||
	    ci_cbor_get_uint(ci_cbor_map_int(m, CI_CCA_P_LIFECYCLE), "platform lifecycle",
		&pl->lifecycle, STAGE_PARSE, e) != 0 ||
	    get_text(m, CI_CCA_P_HASH_ALGO, "platform hash algorithm", 1, pl->hash_algo,
		sizeof(pl->hash_algo), e) != 0 ||
	    get_text(m, CI_CCA_P_VERIFICATION_SERVICE, "verification service", 0,
		pl->verification_service, sizeof(pl->verification_service), e) != 0)
		return -1;
	if (!measurement_size_ok(pl->challenge.size))
		return ci_fail(e, CINFER_E_MALFORMED, STAGE_PARSE,
		    "platform challenge has %zu bytes (32, 48 or 64)", pl->challenge.size);
	if (pl->lifecycle > 0xffff)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE_PARSE, "platform lifecycle %llu is out "
		    "of range", (unsigned long long)pl->lifecycle);
	v = ci_cbor_map_int(m, CI_CCA_P_SW_COMPONENTS);
	if (v == NULL || !cbor_isa_array(v) || cbor_array_size(v) == 0 ||
	    cbor_array_size(v) > CI_CCA_SW_MAX)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE_PARSE,
		    "software components must be an array of 1..%d maps", CI_CCA_SW_MAX);
	items = cbor_array_handle(v);
	pl->sw_count = cbor_array_size(v);
	for (size_t i = 0; i < pl->sw_count; i++)
		if (parse_sw(items[i], &pl->sw[i], e) != 0)
			return -1;
	return 0;
}

static int
parse_realm(struct ci_cca_realm *r, const uint8_t *p, size_t size, struct cinfer_err *e)
{
	cbor_item_t *m, *v, **items;

	if (ci_cose_sign1_parse(&r->cose, p, size, STAGE_PARSE, e) != 0)
		return -1;
	if (ci_cbor_decode(r->cose.payload, r->cose.payload_size, &claims_lim, NULL, &r->claims,
		STAGE_PARSE, e) != 0)
		return -1;
	m = r->claims;
	if (!cbor_isa_map(m))
		return ci_fail(e, CINFER_E_MALFORMED, STAGE_PARSE, "realm claims are not a map");
	if (get_bytes(m, CI_CCA_R_CHALLENGE, "realm challenge", 1, 64, 64, &r->challenge, e) != 0 ||
	    get_bytes(m, CI_CCA_R_PERSONALIZATION, "personalization value", 1, 64, 64,
		&r->personalization, e) != 0 ||
	    get_bytes(m, CI_CCA_R_PUB_KEY, "realm public key (RAK)", 1, 1, 1024, &r->rak, e) != 0 ||
	    get_bytes(m, CI_CCA_R_RIM, "realm initial measurement", 1, 32, 64, &r->rim, e) != 0 ||
	    get_text(m, CI_CCA_R_HASH_ALGO, "realm hash algorithm", 1, r->hash_algo,
		sizeof(r->hash_algo), e) != 0 ||
	    get_text(m, CI_CCA_R_PUB_KEY_HASH_ALGO, "RAK hash algorithm", 1, r->rak_hash_algo,
		sizeof(r->rak_hash_algo), e) != 0 ||
	    get_text(m, CI_CCA_R_PROFILE, "realm profile", 0, r->profile, sizeof(r->profile),
		e) != 0)
		return -1;
	if (!measurement_size_ok(r->rim.size))
		return ci_fail(e, CINFER_E_MALFORMED, STAGE_PARSE,
		    "realm initial measurement has %zu bytes (32, 48 or 64)", r->rim.size);
	v = ci_cbor_map_int(m, CI_CCA_R_REM);
	if (v == NULL || !cbor_isa_array(v) || cbor_array_size(v) != CI_CCA_REM_COUNT)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE_PARSE,
		    "realm extensible measurements must be an array of %d", CI_CCA_REM_COUNT);
	items = cbor_array_handle(v);
	for (size_t i = 0; i < CI_CCA_REM_COUNT; i++) {
		if (ci_cbor_get_bytes(items[i], "realm extensible measurement", 32, 64,
			&r->rem[i].p, &r->rem[i].size, STAGE_PARSE, e) != 0)
			return -1;
		if (r->rem[i].size != r->rim.size)
			return ci_fail(e, CINFER_E_MALFORMED, STAGE_PARSE,
			    "REM%zu has %zu bytes, RIM has %zu", i, r->rem[i].size, r->rim.size);
	}
	return 0;
}

int
ci_cca_token_parse(struct ci_cca_token *t, const uint8_t *p, size_t size, struct cinfer_err *e)
{
	static const struct ci_cbor_limits lim = { 4, 16, 1 };
	const uint8_t *pp, *rp;
	size_t ps, rs;
	uint64_t tag = UINT64_MAX;
	int rc = -1;

	memset(t, 0, sizeof(*t));
	if (size > CI_CCA_TOKEN_MAX)
		return ci_fail(e, CINFER_E_LIMIT, STAGE_PARSE, "token of %zu bytes is over the "
		    "limit of %u", size, CI_CCA_TOKEN_MAX);
	if (ci_cbor_decode(p, size, &lim, &tag, &t->root, STAGE_PARSE, e) != 0)
		return -1;
	if (tag != CI_CCA_TAG_COLLECTION) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE_PARSE,
		    "not a CCA attestation token (CBOR tag 399 expected)");
		goto out;
	}
	if (!cbor_isa_map(t->root) || cbor_map_size(t->root) != 2) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE_PARSE,
		    "CCA token must be a map of the platform and realm tokens");
		goto out;
	}
	if (ci_cbor_get_bytes(ci_cbor_map_int(t->root, CI_CCA_KEY_PLATFORM), "platform token", 1,
		CI_CCA_TOKEN_MAX, &pp, &ps, STAGE_PARSE, e) != 0 ||
	    ci_cbor_get_bytes(ci_cbor_map_int(t->root, CI_CCA_KEY_REALM), "realm token", 1,
		CI_CCA_TOKEN_MAX, &rp, &rs, STAGE_PARSE, e) != 0)
		goto out;
	if (parse_platform(&t->plat, pp, ps, e) != 0 || parse_realm(&t->realm, rp, rs, e) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		ci_cca_token_clear(t);
	return rc;
}

void
ci_cca_token_clear(struct ci_cca_token *t)
{
	if (t->plat.claims != NULL)
		cbor_decref(&t->plat.claims);
	if (t->realm.claims != NULL)
		cbor_decref(&t->realm.claims);
	ci_cose_sign1_clear(&t->plat.cose);
	ci_cose_sign1_clear(&t->realm.cose);
	if (t->root != NULL)
		cbor_decref(&t->root);
	memset(t, 0, sizeof(*t));
}

const char *
ci_cca_lifecycle_name(uint64_t lc)
{
	switch (lc >> 8) {
	case 0x00:
		return "unknown";
	case 0x10:
		return "assembly-and-test";
	case 0x20:
		return "cca-platform-rot-provisioning";
	case 0x30:
		return "secured";
	case 0x40:
		return "non-cca-platform-debug";
	case 0x50:
		return "recoverable-cca-platform-debug";
	case 0x60:
		return "decommissioned";
	default:
		return "invalid";
	}
}

/* The RAK: an uncompressed P-384 point (RMM EAC2) or a COSE_Key (later RMM). */
static EVP_PKEY *
rak_key(const struct ci_cca_realm *r, struct cinfer_err *e)
{
	if (r->rak.size == 97 && r->rak.p[0] == 0x04)
		return ci_ec_pub_from_point("P-384", r->rak.p, r->rak.size, e);
	if ((r->rak.p[0] >> 5) == 5)
		return ci_cose_key_parse(r->rak.p, r->rak.size, e);
	ci_fail(e, CINFER_E_MALFORMED, STAGE_REALM,
	    "realm public key is neither a P-384 point nor a COSE_Key");
	return NULL;
}

static void
detail_bytes(struct cinfer_claims *c, const char *name, const struct ci_cca_bytes *b)
{
	if (b->p == NULL)
		return;
	if (b->size <= 64) {
		cinfer_claims_add_detail_hex(c, name, b->p, b->size);
	} else {
		char key[32];
		uint8_t h[CI_SHA256_SIZE];
		ci_sha256(b->p, b->size, h);
		snprintf(key, sizeof(key), "%.24s_sha256", name);
		cinfer_claims_add_detail_hex(c, key, h, sizeof(h));
	}
}

static void
fill_claims(const struct ci_cca_token *t, const uint8_t iak_fp[CI_SHA256_SIZE],
    struct cinfer_claims *c)
{
	const struct ci_cca_platform *pl = &t->plat;
	const struct ci_cca_realm *r = &t->realm;
	char buf[160], fp[17];
	uint8_t h[CI_SHA256_SIZE];
	size_t used = 0;

	memcpy(c->measurement, r->rim.p, r->rim.size);
	c->measurement_size = r->rim.size;
	for (unsigned i = 0; i < CI_CCA_REM_COUNT; i++) {
		char name[8];
		snprintf(name, sizeof(name), "rem%u", i);
		cinfer_claims_add_meas(c, name, r->rem[i].p, r->rem[i].size);
	}
	memcpy(c->report_data, r->challenge.p, 64);
	c->report_data_size = 64;
	memcpy(c->chip_id, pl->instance_id.p, pl->instance_id.size);
	c->chip_id_size = pl->instance_id.size;
	c->produced_at = 0;	/* CCA tokens carry no time */
	c->debug = (pl->lifecycle >> 8) == 0x40 || (pl->lifecycle >> 8) == 0x50;
	ci_hex_encode(iak_fp, 8, fp);
	snprintf(c->signer, sizeof(c->signer), "cca-iak:%s", fp);

	cinfer_claims_add_detail(c, "profile", pl->profile);
	if (r->profile[0] != '\0')
		cinfer_claims_add_detail(c, "realm_profile", r->profile);
	cinfer_claims_add_detail_hex(c, "personalization", r->personalization.p, 64);
	cinfer_claims_add_detail(c, "hash_algo", r->hash_algo);
	cinfer_claims_add_detail(c, "rak_hash_algo", r->rak_hash_algo);
	cinfer_claims_add_detail(c, "platform_hash_algo", pl->hash_algo);
	snprintf(buf, sizeof(buf), "%s (0x%04llx)", ci_cca_lifecycle_name(pl->lifecycle),
	    (unsigned long long)pl->lifecycle);
	cinfer_claims_add_detail(c, "lifecycle", buf);
	detail_bytes(c, "implementation_id", &pl->impl_id);
	detail_bytes(c, "instance_id", &pl->instance_id);
	detail_bytes(c, "platform_config", &pl->config);
	detail_bytes(c, "platform_challenge", &pl->challenge);
	if (pl->verification_service[0] != '\0') {
		snprintf(buf, sizeof(buf), "%.135s", pl->verification_service);
		cinfer_claims_add_detail(c, "verification_service", buf);
	}
	ci_sha256(r->rak.p, r->rak.size, h);
	cinfer_claims_add_detail_hex(c, "rak_sha256", h, sizeof(h));
	cinfer_claims_add_detail_hex(c, "iak_sha256", iak_fp, CI_SHA256_SIZE);
	snprintf(buf, sizeof(buf), "%zu", pl->sw_count);
	cinfer_claims_add_detail(c, "sw_count", buf);
	/* summary: the component types in order, cut to fit */
	buf[0] = '\0';
	for (size_t i = 0; i < pl->sw_count; i++) {
		const char *ty = pl->sw[i].type[0] ? pl->sw[i].type : "?";
		size_t need = strlen(ty) + (used ? 1 : 0);
		if (used + need > 131) {
			memcpy(buf + used, "...", 4);
			break;
		}
		used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%s", used ? " " : "", ty);
	}
	cinfer_claims_add_detail(c, "sw_components", buf);
	/* one detail per component (as many as fit): sw<i>.<type> = measurement */
	for (size_t i = 0; i < pl->sw_count && i < 24; i++) {
		char name[32];
		snprintf(name, sizeof(name), "sw%zu.%.24s", i, pl->sw[i].type[0] ? pl->sw[i].type : "?");
		cinfer_claims_add_detail_hex(c, name, pl->sw[i].measurement.p,
		    pl->sw[i].measurement.size);
	}
}

int
ci_cca_verify(const struct cinfer_evidence *ev, const struct cinfer_verify_opts *opts,
    int64_t at, struct cinfer_claims *claims, struct cinfer_err *e)
{
	struct ci_cca_token t;
	EVP_PKEY *iak = NULL, *rak = NULL;
	const EVP_MD *md;
	uint8_t h[EVP_MAX_MD_SIZE], iak_fp[CI_SHA256_SIZE];
	size_t hsize;
	int rc = -1;

	(void)at;
	if (ci_cca_token_parse(&t, ev->evidence, ev->evidence_size, e) != 0)
		return -1;
	if (opts == NULL || opts->cca_iak_pub == NULL || opts->cca_iak_pub_size == 0) {
		ci_fail(e, CINFER_E_USAGE, STAGE_IAK, "no IAK configured: CCA platform tokens are "
		    "verified with the platform attestation key (IAK/CPAK) given as a JWK or PEM");
		goto out;
	}
	iak = ci_pub_key_load(opts->cca_iak_pub, opts->cca_iak_pub_size, e);
	if (iak == NULL || ci_pkey_spki_sha256(iak, iak_fp, e) != 0) {
		if (e != NULL)
			e->stage = STAGE_IAK;
		goto out;
	}
	/* realm token: signed by the RAK in its own claims */
	rak = rak_key(&t.realm, e);
	if (rak == NULL)
		goto out;
	if (t.realm.cose.alg == CI_COSE_ALG_NONE) {
		ci_fail(e, CINFER_E_CRYPTO, STAGE_REALM, "realm token names no signature algorithm");
		goto out;
	}
	if (ci_cose_sign1_verify(&t.realm.cose, rak, STAGE_REALM, e) != 0) {
		if (e != NULL && strcmp(e->msg, "ECDSA signature does not verify") == 0) /* public */
			snprintf(e->msg, sizeof(e->msg),
			    "realm token signature does not verify with the RAK in its claims");
		goto out;
	}
	/* platform token: must be signed at all */
	if (t.plat.cose.alg == CI_COSE_ALG_NONE) {
		ci_fail(e, CINFER_E_CRYPTO, STAGE_PLATFORM,
		    "platform token is unsigned: its protected header names no algorithm "
		    "(an FVP or emulator token, %zu-byte placeholder signature)", t.plat.cose.sig_size);
		goto out;
	}
	/* binding: platform challenge == hash(RAK) */
	md = hash_md(t.realm.rak_hash_algo);
	if (md == NULL) {
		ci_fail(e, CINFER_E_UNSUPPORTED, STAGE_BIND, "RAK hash algorithm \"%s\" is not "
		    "sha-256, sha-384 or sha-512", t.realm.rak_hash_algo);
		goto out;
	}
	hsize = (size_t)EVP_MD_get_size(md);
	if (ci_digest(md, t.realm.rak.p, t.realm.rak.size, h, e) != 0)
		goto out;
	if (t.plat.challenge.size != hsize ||
	    memcmp(t.plat.challenge.p, h, hsize) != 0) {	/* public */
		ci_fail(e, CINFER_E_CRYPTO, STAGE_BIND,
		    "platform challenge is not the %s hash of the realm's RAK: the realm token is "
		    "not bound to this platform token", t.realm.rak_hash_algo);
		goto out;
	}
	/* platform token: signed by the configured IAK */
	if (ci_cose_sign1_verify(&t.plat.cose, iak, STAGE_PLATFORM, e) != 0) {
		if (e != NULL && strcmp(e->msg, "ECDSA signature does not verify") == 0) /* public */
			snprintf(e->msg, sizeof(e->msg),
			    "platform token signature does not verify with the configured IAK");
		goto out;
	}
	fill_claims(&t, iak_fp, claims);
	rc = 0;
out:
	EVP_PKEY_free(iak);
	EVP_PKEY_free(rak);
	ci_cca_token_clear(&t);
	return rc;
}
