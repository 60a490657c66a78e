/* TLS 1.3 for cinfer-kbs: a context from files, or a generated local CA. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "crypto/crypto.h"
#include "kbs/kbs_int.h"

#define ST "kbs.tls"

static int
add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ex;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ex == NULL)
		return 0;
	ok = X509_add_ext(cert, ex, -1);
	X509_EXTENSION_free(ex);
	return ok;
}

static X509 *
make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, int ca,
    long days)
{
	X509 *x = X509_new();
	X509_NAME *n;
	uint8_t serial[16];
	BIGNUM *bn = NULL;
	int ok = 0;

	if (x == NULL || RAND_bytes(serial, sizeof(serial)) != 1)
		goto out;
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (bn == NULL || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL ||
	    X509_set_version(x, 2) != 1 || X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), days * 86400L) == NULL ||
	    X509_set_pubkey(x, key) != 1)
		goto out;
	n = X509_get_subject_name(x);
	if (X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"cinfer-kbs",
	    -1, -1, 0) != 1 || X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0) != 1)
		goto out;
	if (X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n) != 1)
		goto out;
	if (ca) {
		if (!add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
		    !add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") ||
		    !add_ext(x, x, NID_subject_key_identifier, "hash"))
			goto out;
	} else {
		if (!add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE") ||
		    !add_ext(x, issuer, NID_key_usage, "critical,digitalSignature") ||
		    !add_ext(x, issuer, NID_ext_key_usage, "serverAuth") ||
		    !add_ext(x, issuer, NID_subject_alt_name,
		    "IP:127.0.0.1,IP:::1,DNS:localhost") ||
		    !add_ext(x, issuer, NID_authority_key_identifier, "keyid:always"))
			goto out;
	}
	if (X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) == 0)
		goto out;
	ok = 1;
out:
	BN_free(bn);
	if (!ok) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

static int
write_pem(const char *path, X509 *x, EVP_PKEY *k, int mode)
{
	FILE *f;
	int fd, ok;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return 0;
	f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		return 0;
	}
	ok = x ? PEM_write_X509(f, x) : PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
	return fclose(f) == 0 && ok;
}

int
kbs_tls_generate(const char *dir, struct cinfer_err *e)
{
	char ca_p[KBS_PATH_MAX + 16], cert_p[KBS_PATH_MAX + 16], key_p[KBS_PATH_MAX + 16];
	EVP_PKEY *cak = NULL, *k = NULL;
	X509 *ca = NULL, *leaf = NULL;
	int rc = -1;

	snprintf(ca_p, sizeof(ca_p), "%s/ca.pem", dir);
	snprintf(cert_p, sizeof(cert_p), "%s/cert.pem", dir);
	snprintf(key_p, sizeof(key_p), "%s/key.pem", dir);
	if (access(cert_p, R_OK) == 0 && access(key_p, R_OK) == 0)
		return 0;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return ci_fail(e, CINFER_E_IO, ST, "mkdir %s: %s", dir, strerror(errno));
	cak = ci_ec_keygen("P-256", e);
	k = cak ? ci_ec_keygen("P-256", e) : NULL;
	if (k == NULL)
		goto out;
	ca = make_cert(cak, "cinfer-kbs local CA", NULL, NULL, 1, 3650);
	leaf = ca ? make_cert(k, "127.0.0.1", ca, cak, 0, 825) : NULL;
	if (leaf == NULL) {
		ci_ossl_fail(e, CINFER_E_INTERNAL, ST, "cannot make certificates");
		goto out;
	}
	if (!write_pem(key_p, NULL, k, 0600) || !write_pem(ca_p, ca, NULL, 0644) ||
	    !write_pem(cert_p, leaf, NULL, 0644)) {
		ci_fail(e, CINFER_E_IO, ST, "cannot write TLS files in %s", dir);
		goto out;
	}
	rc = 0;
out:
	EVP_PKEY_free(cak);
	EVP_PKEY_free(k);
	X509_free(ca);
	X509_free(leaf);
	return rc;
}

/* The handshake never fails on a client certificate; SSL_get_verify_result says. */
static int
accept_any(int ok, X509_STORE_CTX *ctx)
{
	return 1;
}

SSL_CTX *
kbs_tls_ctx(const char *cert, const char *key, const char *client_ca, struct cinfer_err *e)
{
	SSL_CTX *c = SSL_CTX_new(TLS_server_method());

	if (c == NULL || SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_use_certificate_chain_file(c, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(c, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(c) != 1) {
		ci_ossl_fail(e, CINFER_E_IO, ST, "TLS certificate or key");
		SSL_CTX_free(c);
		return NULL;
	}
	if (client_ca != NULL && client_ca[0] != '\0') {
		/* Ask for a certificate but let attesters (who have none) in: only the
		 * admin API looks at it, and only if it verified against client_ca. */
		if (SSL_CTX_load_verify_locations(c, client_ca, NULL) != 1) {
			ci_ossl_fail(e, CINFER_E_IO, ST, "--admin-client-ca");
			SSL_CTX_free(c);
			return NULL;
		}
		SSL_CTX_set_verify(c, SSL_VERIFY_PEER, accept_any);
		SSL_CTX_set_client_CA_list(c, SSL_load_client_CA_file(client_ca));
	}
	SSL_CTX_set_options(c, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
	return c;
}
