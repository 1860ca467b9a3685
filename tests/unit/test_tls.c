/* test_tls — DNS over TLS client connections against an in-process OpenSSL
 * server over a non-blocking socketpair, with certificates made here:
 * verification by name, by IP, by CA, insecure mode, data both ways,
 * partial writes, EOF, resumption, a peer that vanishes (no SIGPIPE). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "dns/err.h"
#include "net/addr.h"
#include "resolve/tls.h"
#include "testutil.h"
#include "tls_testutil.h"

/* ---- certificates ---- */

static EVP_PKEY *ca_key, *other_key, *srv_key;
static X509 *ca_crt, *other_crt, *srv_crt;
static char ca_path[64], other_path[64];

static int setup(void **state)
{
	(void)state;
	ca_key = EVP_EC_gen("P-256");
	other_key = EVP_EC_gen("P-256");
	srv_key = EVP_EC_gen("P-256");
	ca_crt = tt_cert(ca_key, "test CA", NULL, NULL, NULL);
	other_crt = tt_cert(other_key, "other CA", NULL, NULL, NULL);
	srv_crt = tt_cert(srv_key, "dot.test", ca_crt, ca_key, "DNS:dot.test,DNS:*.wild.test,IP:127.0.0.1");
	tt_write_pem(ca_crt, ca_path, sizeof(ca_path));
	tt_write_pem(other_crt, other_path, sizeof(other_path));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(ca_path);
	unlink(other_path);
	X509_free(ca_crt);
	X509_free(other_crt);
	X509_free(srv_crt);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(other_key);
	EVP_PKEY_free(srv_key);
	return 0;
}

/* ---- an in-process server over a socketpair ---- */

typedef struct pair {
	int cfd, sfd;
	SSL_CTX *sctx;
	SSL *s;
	tls_ctx *x;
	tls_conn *k;
} pair;

static SSL_CTX *server_ctx(void)
{
	SSL_CTX *c = SSL_CTX_new(TLS_server_method());
	assert_non_null(c);
	assert_int_equal(SSL_CTX_use_certificate(c, srv_crt), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(c, srv_key), 1);
	SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return c;
}

static void pair_open(pair *p, const char *ca, bool insecure, const char *ip, const char *name,
		      tls_session *resume, SSL_CTX *sctx)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	p->cfd = sv[0];
	p->sfd = sv[1];
	p->sctx = sctx;
	p->s = SSL_new(sctx);
	SSL_set_fd(p->s, p->sfd);
	SSL_set_accept_state(p->s);
	char err[TLS_ERRLEN];
	if (!p->x)
		p->x = tls_ctx_new(ca, insecure, err, sizeof(err));
	if (!p->x)
		fail_msg("tls_ctx_new: %s", err);
	net_addr a;
	assert_int_equal(addr_parse(&a, ip, 853, NULL, 0), 0);
	p->k = tls_conn_new(p->x, p->cfd, &a, name, resume);
	assert_non_null(p->k);
}

static void pair_close(pair *p, bool keep_ctx)
{
	tls_conn_free(p->k, true);
	SSL_free(p->s);
	close(p->cfd);
	close(p->sfd);
	if (!keep_ctx) {
		tls_ctx_free(p->x);
		p->x = NULL;
	}
	p->k = NULL;
	p->s = NULL;
}

/* Runs both handshakes until the client's ends: its result. */
static int handshake(pair *p)
{
	for (int i = 0; i < 100; i++) {
		int rc = tls_handshake(p->k);
		if (rc == TLS_OK || rc < 0) {
			SSL_do_handshake(p->s); /* lets the server take the last flight */
			ERR_clear_error();
			return rc;
		}
		assert_true(rc == TLS_WANT_READ || rc == TLS_WANT_WRITE);
		SSL_do_handshake(p->s);
		ERR_clear_error();
	}
	fail_msg("handshake did not end");
	return DNS_EIO;
}

/* Server reads exactly n octets (pumping the client's pending writes is
 * not needed: the client wrote them already). */
static void server_read(pair *p, uint8_t *buf, size_t n)
{
	size_t got = 0;
	for (int i = 0; i < 10000 && got < n; i++) {
		size_t r;
		if (SSL_read_ex(p->s, buf + got, n - got, &r) == 1)
			got += r;
		ERR_clear_error();
	}
	assert_int_equal(got, n);
}

/* Client reads exactly n octets. */
static void client_read(pair *p, uint8_t *buf, size_t n)
{
	size_t got = 0;
	for (int i = 0; i < 10000 && got < n; i++) {
		size_t r;
		int rc = tls_read(p->k, buf + got, n - got, &r);
		if (rc == TLS_OK)
			got += r;
		else
			assert_true(rc == TLS_WANT_READ);
	}
	assert_int_equal(got, n);
}

/* ---- tests ---- */

static void test_ctx_errors(void **state)
{
	(void)state;
	char err[TLS_ERRLEN];
	assert_null(tls_ctx_new("/nonexistent/ca.pem", false, err, sizeof(err)));
	assert_non_null(strstr(err, "tls-ca /nonexistent/ca.pem: No such file or directory"));
	char path[64];
	assert_non_null(tu_tempfile("-----BEGIN CERTIFICATE-----\nnonsense\n-----END CERTIFICATE-----\n", path,
				    sizeof(path)));
	assert_null(tls_ctx_new(path, false, err, sizeof(err)));
	assert_non_null(strstr(err, "no PEM certificate"));
	/* insecure reads nothing */
	tls_ctx *x = tls_ctx_new(path, true, err, sizeof(err));
	assert_non_null(x);
	tls_ctx_free(x);
	unlink(path);
	/* the system store */
	x = tls_ctx_new(NULL, false, err, sizeof(err));
	assert_non_null(x);
	tls_ctx_free(x);
	tls_ctx_free(NULL);
	tls_conn_free(NULL, true);
}

static void test_by_name(void **state)
{
	(void)state;
	SSL_CTX *sc = server_ctx();
	pair p = {0};
	pair_open(&p, ca_path, false, "192.0.2.1", "dot.test", NULL, sc);
	assert_int_equal(handshake(&p), TLS_OK);
	assert_string_equal(tls_conn_error(p.k), "");
	assert_false(tls_conn_resumed(p.k));
	assert_string_equal(tls_conn_version(p.k), "TLSv1.3");
	assert_non_null(tls_conn_cipher(p.k));
	/* SNI went out */
	assert_string_equal(SSL_get_servername(p.s, TLSEXT_NAMETYPE_host_name), "dot.test");
	/* data both ways: two framed messages at once, answered out of order */
	static const uint8_t q[] = { 0, 3, 'a', 'b', 'c', 0, 2, 'd', 'e' };
	size_t put;
	assert_int_equal(tls_write(p.k, q, sizeof(q), &put), TLS_OK);
	assert_int_equal(put, sizeof(q));
	uint8_t buf[64];
	server_read(&p, buf, sizeof(q));
	assert_memory_equal(buf, q, sizeof(q));
	static const uint8_t r[] = { 0, 2, 'D', 'E', 0, 3, 'A', 'B', 'C' };
	assert_int_equal(SSL_write(p.s, r, sizeof(r)), (int)sizeof(r));
	client_read(&p, buf, sizeof(r));
	assert_memory_equal(buf, r, sizeof(r));
	/* nothing more: WANT_READ, then close_notify: EOF */
	size_t got;
	assert_int_equal(tls_read(p.k, buf, sizeof(buf), &got), TLS_WANT_READ);
	assert_int_equal(got, 0);
	SSL_shutdown(p.s);
	assert_int_equal(tls_read(p.k, buf, sizeof(buf), &got), TLS_EOF);
	pair_close(&p, false);
	/* a wildcard name */
	pair_open(&p, ca_path, false, "192.0.2.1", "x.wild.test", NULL, sc);
	assert_int_equal(handshake(&p), TLS_OK);
	pair_close(&p, false);
	SSL_CTX_free(sc);
}

static void test_verify_failures(void **state)
{
	(void)state;
	SSL_CTX *sc = server_ctx();
	static const struct {
		const char *ca, *ip, *name;
		bool insecure;
		const char *want; /* NULL: succeeds */
	} cases[] = {
		{ NULL, "192.0.2.1", "wrong.test", false, "certificate verify failed: hostname mismatch" },
		{ NULL, "192.0.2.1", "a.b.wild.test", false, "hostname mismatch" },
		{ NULL, "127.0.0.1", NULL, false, NULL },               /* IP SAN */
		{ NULL, "127.0.0.1", "", false, NULL },                 /* "" = no name */
		{ NULL, "127.0.0.2", NULL, false, "certificate verify failed: IP address mismatch" },
		{ NULL, "::1", NULL, false, "IP address mismatch" },
		{ "other", "192.0.2.1", "dot.test", false, "unable to get local issuer certificate" },
		{ "other", "127.0.0.2", "wrong.test", true, NULL },      /* insecure: anything */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pair p = {0};
		pair_open(&p, cases[i].ca ? other_path : ca_path, cases[i].insecure, cases[i].ip, cases[i].name,
			  NULL, sc);
		int rc = handshake(&p);
		if (cases[i].want) {
			if (rc != DNS_EIO || !strstr(tls_conn_error(p.k), cases[i].want))
				fail_msg("case %zu: rc %d '%s', want '%s'", i, rc, tls_conn_error(p.k), cases[i].want);
			assert_non_null(strstr(tls_conn_error(p.k), "TLS handshake: "));
			assert_null(tls_conn_session(p.k)); /* nothing to resume */
		} else if (rc != TLS_OK) {
			fail_msg("case %zu: rc %d '%s'", i, rc, tls_conn_error(p.k));
		}
		pair_close(&p, false);
	}
	SSL_CTX_free(sc);
}

static void test_resumption(void **state)
{
	(void)state;
	SSL_CTX *sc = server_ctx();
	pair p = {0};
	pair_open(&p, ca_path, false, "192.0.2.1", "dot.test", NULL, sc);
	assert_int_equal(handshake(&p), TLS_OK);
	/* TLS 1.3 tickets come after the handshake: one round of data */
	static const uint8_t q[] = { 0, 1, 'x' };
	size_t put, got;
	uint8_t buf[16];
	assert_int_equal(tls_write(p.k, q, sizeof(q), &put), TLS_OK);
	server_read(&p, buf, sizeof(q));
	assert_int_equal(SSL_write(p.s, q, sizeof(q)), (int)sizeof(q));
	client_read(&p, buf, sizeof(q));
	assert_int_equal(tls_read(p.k, buf, sizeof(buf), &got), TLS_WANT_READ);
	tls_session *sess = tls_conn_session(p.k);
	assert_non_null(sess);
	pair_close(&p, true);
	pair_open(&p, NULL, false, "192.0.2.1", "dot.test", sess, sc);
	tls_session_free(sess); /* the connection holds its own reference */
	assert_int_equal(handshake(&p), TLS_OK);
	assert_true(tls_conn_resumed(p.k));
	pair_close(&p, false);
	tls_session_free(NULL);
	SSL_CTX_free(sc);
}

static void test_partial_writes(void **state)
{
	(void)state;
	SSL_CTX *sc = server_ctx();
	pair p = {0};
	pair_open(&p, ca_path, false, "192.0.2.1", "dot.test", NULL, sc);
	assert_int_equal(handshake(&p), TLS_OK);
	/* more than the socket buffers hold: the client writes until
	 * WANT_WRITE, the server drains, the client goes on from where it
	 * stopped (partial writes; the caller's buffer moves:
	 * ACCEPT_MOVING_WRITE_BUFFER) */
	size_t total = 4u << 20, sent = 0, recvd = 0;
	uint8_t *out = malloc(total), *in = malloc(total);
	assert_non_null(out);
	assert_non_null(in);
	for (size_t i = 0; i < total; i++)
		out[i] = (uint8_t)(i * 7 + (i >> 11));
	unsigned partial = 0;
	for (int round = 0; round < 100000 && recvd < total; round++) {
		if (sent < total) {
			size_t put;
			uint8_t *moved = malloc(total - sent); /* a different address every time */
			assert_non_null(moved);
			memcpy(moved, out + sent, total - sent);
			int rc = tls_write(p.k, moved, total - sent, &put);
			free(moved);
			if (rc == TLS_OK) {
				sent += put;
				partial += sent < total;
			} else if (rc != TLS_WANT_WRITE)
				fail_msg("tls_write: %d %s", rc, tls_conn_error(p.k));
		}
		size_t r;
		while (recvd < total && SSL_read_ex(p.s, in + recvd, total - recvd, &r) == 1)
			recvd += r;
		ERR_clear_error();
	}
	assert_int_equal(sent, total);
	assert_int_equal(recvd, total);
	assert_true(partial > 0);
	assert_memory_equal(in, out, total);
	free(out);
	free(in);
	pair_close(&p, false);
	SSL_CTX_free(sc);
}

static void test_peer_vanishes(void **state)
{
	(void)state;
	SSL_CTX *sc = server_ctx();
	pair p = {0};
	/* during the handshake */
	pair_open(&p, ca_path, false, "192.0.2.1", "dot.test", NULL, sc);
	assert_int_equal(tls_handshake(p.k), TLS_WANT_READ);
	close(p.sfd);
	p.sfd = -1;
	int rc = handshake(&p);
	assert_int_equal(rc, DNS_EIO);
	assert_non_null(strstr(tls_conn_error(p.k), "TLS handshake: "));
	pair_close(&p, false);
	/* after it: writes fail with an error, not SIGPIPE; reads see EOF */
	pair_open(&p, ca_path, false, "192.0.2.1", "dot.test", NULL, sc);
	assert_int_equal(handshake(&p), TLS_OK);
	SSL_free(p.s);
	p.s = NULL;
	close(p.sfd);
	p.sfd = -1;
	size_t n = 0;
	uint8_t buf[4096] = {0};
	rc = TLS_OK;
	for (int i = 0; i < 4 && rc != DNS_EIO; i++)
		rc = tls_write(p.k, buf, sizeof(buf), &n);
	assert_int_equal(rc, DNS_EIO);
	if (!strstr(tls_conn_error(p.k), "TLS write: "))
		fail_msg("write error: '%s'", tls_conn_error(p.k));
	pair_close(&p, false); /* close_notify attempt on a dead socket: no SIGPIPE either */
	pair_open(&p, ca_path, false, "192.0.2.1", "dot.test", NULL, sc);
	assert_int_equal(handshake(&p), TLS_OK);
	SSL_free(p.s);
	p.s = NULL;
	shutdown(p.sfd, SHUT_WR);
	rc = tls_read(p.k, buf, sizeof(buf), &n);
	assert_int_equal(rc, TLS_EOF); /* no close_notify, but a clean end all the same */
	pair_close(&p, false);
	SSL_CTX_free(sc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ctx_errors),
		cmocka_unit_test(test_by_name),
		cmocka_unit_test(test_verify_failures),
		cmocka_unit_test(test_resumption),
		cmocka_unit_test(test_partial_writes),
		cmocka_unit_test(test_peer_vanishes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
