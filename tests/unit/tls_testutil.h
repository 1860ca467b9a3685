/* tls_testutil — certificates made in-process for the TLS unit tests
 * (header-only, static; needs cmocka and OpenSSL included first). */
#ifndef ANTIDOTE_TLS_TESTUTIL_H
#define ANTIDOTE_TLS_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

/* tt_cert(key, cn, NULL, NULL, NULL): a self-signed CA; with an issuer and
 * its key: a leaf it signs, with subjectAltName san ("DNS:a,IP:127.0.0.1").
 * tt_write_pem: a certificate into a fresh temporary file (path). */
static inline void tt_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	assert_non_null(e);
	assert_int_equal(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
}

static inline X509 *tt_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey, const char *san)
{
	X509 *x = X509_new();
	assert_non_null(x);
	X509_set_version(x, 2);
	static long serial = 1;
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	tt_ext(x, &ctx, NID_basic_constraints, issuer ? "CA:FALSE" : "critical,CA:TRUE");
	if (!issuer)
		tt_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
	if (san)
		tt_ext(x, &ctx, NID_subject_alt_name, san);
	assert_true(X509_sign(x, ikey ? ikey : key, EVP_sha256()) > 0);
	return x;
}

static inline void tt_write_pem(X509 *x, char *path, size_t cap)
{
	snprintf(path, cap, "/tmp/antidote-test.XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_X509(f, x), 1);
	fclose(f);
}

#endif
