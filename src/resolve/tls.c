/* tls — non-blocking DNS over TLS client connections on OpenSSL (see tls.h). */
#include "resolve/tls.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "dns/err.h"

struct tls_ctx {
	SSL_CTX *ctx;
	bool insecure;
};

struct tls_conn {
	SSL *ssl;
	int fd;
	bool eof;               /* recv() returned 0 (BIO_CTRL_EOF) */
	char err[TLS_ERRLEN];
};

__attribute__((format(printf, 3, 4)))
static void setf(char *buf, size_t len, const char *fmt, ...)
{
	if (!buf || !len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* OpenSSL's last queued error as text ("" when none); clears the queue. */
static void ssl_errtext(char *buf, size_t len)
{
	unsigned long e, last = 0;
	while ((e = ERR_get_error()) != 0)
		last = e;
	if (last)
		ERR_error_string_n(last, buf, len);
	else if (len)
		buf[0] = 0;
}

/* ---- a socket BIO that never raises SIGPIPE ---- */

static BIO_METHOD *bio_meth;
static pthread_once_t bio_once = PTHREAD_ONCE_INIT;

static tls_conn *bio_conn(BIO *b) { return BIO_get_data(b); }

static int bio_write(BIO *b, const char *buf, int len)
{
	BIO_clear_retry_flags(b);
	ssize_t n = send(bio_conn(b)->fd, buf, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			BIO_set_retry_write(b);
		return -1;
	}
	return (int)n;
}

static int bio_read(BIO *b, char *buf, int len)
{
	BIO_clear_retry_flags(b);
	tls_conn *k = bio_conn(b);
	ssize_t n = recv(k->fd, buf, (size_t)len, MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			BIO_set_retry_read(b);
		return -1;
	}
	if (n == 0)
		k->eof = true;
	return (int)n;
}

/* FLUSH: nothing buffered here; EOF: lets SSL_OP_IGNORE_UNEXPECTED_EOF
 * see a server that closed without close_notify as a clean end. */
static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)num;
	(void)ptr;
	if (cmd == BIO_CTRL_FLUSH)
		return 1;
	if (cmd == BIO_CTRL_EOF)
		return bio_conn(b)->eof;
	return 0;
}

static int bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static void bio_meth_init(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "antidote-socket");
	if (m && BIO_meth_set_write(m, bio_write) && BIO_meth_set_read(m, bio_read) &&
	    BIO_meth_set_ctrl(m, bio_ctrl) && BIO_meth_set_create(m, bio_create))
		bio_meth = m;
	else if (m)
		BIO_meth_free(m);
}

/* ---- contexts ---- */

tls_ctx *tls_ctx_new(const char *ca_file, bool insecure, char *err, size_t errlen)
{
	pthread_once(&bio_once, bio_meth_init);
	ERR_clear_error();
	tls_ctx *x = calloc(1, sizeof(*x));
	if (!x || !bio_meth || !(x->ctx = SSL_CTX_new(TLS_client_method()))) {
		setf(err, errlen, "out of memory");
		goto fail;
	}
	x->insecure = insecure;
	SSL_CTX_set_min_proto_version(x->ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(x->ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(x->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (insecure) {
		SSL_CTX_set_verify(x->ctx, SSL_VERIFY_NONE, NULL);
		return x;
	}
	SSL_CTX_set_verify(x->ctx, SSL_VERIFY_PEER, NULL);
	if (ca_file) {
		FILE *f = fopen(ca_file, "r");
		if (!f) {
			setf(err, errlen, "tls-ca %s: %s", ca_file, strerror(errno));
			goto fail;
		}
		fclose(f);
		if (SSL_CTX_load_verify_locations(x->ctx, ca_file, NULL) != 1) {
			char why[TLS_ERRLEN];
			ssl_errtext(why, sizeof(why));
			setf(err, errlen, "tls-ca %s: no PEM certificate could be loaded (%s)", ca_file, why);
			goto fail;
		}
	} else if (SSL_CTX_set_default_verify_paths(x->ctx) != 1) {
		char why[TLS_ERRLEN];
		ssl_errtext(why, sizeof(why));
		setf(err, errlen, "cannot load the system CA store (%s)", why);
		goto fail;
	}
	return x;
fail:
	ERR_clear_error();
	tls_ctx_free(x);
	return NULL;
}

void tls_ctx_free(tls_ctx *x)
{
	if (!x)
		return;
	SSL_CTX_free(x->ctx);
	free(x);
}

/* ---- connections ---- */

tls_conn *tls_conn_new(tls_ctx *x, int fd, const net_addr *ip, const char *auth_name, tls_session *resume)
{
	ERR_clear_error();
	tls_conn *k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->fd = fd;
	BIO *b = NULL;
	if (!(k->ssl = SSL_new(x->ctx)) || !(b = BIO_new(bio_meth)))
		goto fail;
	BIO_set_data(b, k);
	SSL_set_bio(k->ssl, b, b);
	SSL_set_connect_state(k->ssl);
	bool named = auth_name && *auth_name;
	if (named && !SSL_set_tlsext_host_name(k->ssl, auth_name))
		goto fail;
	if (!x->insecure) {
		if (named) {
			SSL_set_hostflags(k->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
			if (SSL_set1_host(k->ssl, auth_name) != 1)
				goto fail;
		} else {
			X509_VERIFY_PARAM *p = SSL_get0_param(k->ssl);
			int rc = addr_family(ip) == AF_INET
					 ? X509_VERIFY_PARAM_set1_ip(p, (const unsigned char *)&ip->u.in4.sin_addr, 4)
					 : X509_VERIFY_PARAM_set1_ip(p, (const unsigned char *)&ip->u.in6.sin6_addr, 16);
			if (rc != 1)
				goto fail;
		}
	}
	if (resume)
		SSL_set_session(k->ssl, (SSL_SESSION *)(void *)resume);
	ERR_clear_error();
	return k;
fail:
	if (k->ssl)
		SSL_free(k->ssl); /* frees b when it was set */
	else
		BIO_free(b);
	free(k);
	ERR_clear_error();
	return NULL;
}

void tls_conn_free(tls_conn *k, bool notify)
{
	if (!k)
		return;
	if (notify && SSL_is_init_finished(k->ssl)) {
		ERR_clear_error();
		SSL_shutdown(k->ssl); /* one try: close_notify if the socket takes it */
	}
	SSL_free(k->ssl);
	ERR_clear_error();
	free(k);
}

/* Maps the result rc of an SSL call (saved errno e) to a status. */
static int result(tls_conn *k, int rc, int e, const char *what)
{
	int se = SSL_get_error(k->ssl, rc);
	switch (se) {
	case SSL_ERROR_WANT_READ:
		return TLS_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return TLS_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		ERR_clear_error();
		return TLS_EOF;
	case SSL_ERROR_SSL: {
		long v = SSL_get_verify_result(k->ssl);
		char why[TLS_ERRLEN];
		ssl_errtext(why, sizeof(why));
		if (v != X509_V_OK)
			setf(k->err, sizeof(k->err), "%s: certificate verify failed: %s", what,
			     X509_verify_cert_error_string(v));
		else
			setf(k->err, sizeof(k->err), "%s: %s", what, why[0] ? why : "protocol error");
		return DNS_EIO;
	}
	case SSL_ERROR_SYSCALL:
		ERR_clear_error();
		if (e)
			setf(k->err, sizeof(k->err), "%s: %s", what, strerror(e));
		else
			setf(k->err, sizeof(k->err), "%s: connection closed by the server", what);
		return DNS_EIO;
	default:
		ERR_clear_error();
		setf(k->err, sizeof(k->err), "%s: OpenSSL error %d", what, se);
		return DNS_EIO;
	}
}

int tls_handshake(tls_conn *k)
{
	ERR_clear_error();
	errno = 0;
	int rc = SSL_do_handshake(k->ssl);
	int e = errno;
	if (rc == 1)
		return TLS_OK;
	rc = result(k, rc, e, "TLS handshake");
	return rc == TLS_EOF ? DNS_EIO : rc;
}

int tls_read(tls_conn *k, uint8_t *buf, size_t cap, size_t *got)
{
	ERR_clear_error();
	errno = 0;
	*got = 0;
	int rc = SSL_read_ex(k->ssl, buf, cap, got);
	int e = errno;
	if (rc == 1)
		return TLS_OK;
	return result(k, rc, e, "TLS read");
}

int tls_write(tls_conn *k, const uint8_t *buf, size_t len, size_t *put)
{
	ERR_clear_error();
	errno = 0;
	*put = 0;
	int rc = SSL_write_ex(k->ssl, buf, len, put);
	int e = errno;
	if (rc == 1)
		return TLS_OK;
	rc = result(k, rc, e, "TLS write");
	if (rc == TLS_EOF) {
		setf(k->err, sizeof(k->err), "TLS write: connection closed by the server");
		return DNS_EIO;
	}
	return rc;
}

const char *tls_conn_version(const tls_conn *k) { return SSL_get_version(k->ssl); }

const char *tls_conn_cipher(const tls_conn *k)
{
	const char *c = SSL_get_cipher_name(k->ssl);
	return c ? c : "?";
}

bool tls_conn_resumed(const tls_conn *k) { return SSL_session_reused(k->ssl) == 1; }
const char *tls_conn_error(const tls_conn *k) { return k->err; }

tls_session *tls_conn_session(tls_conn *k)
{
	SSL_SESSION *s = SSL_get1_session(k->ssl);
	if (s && !SSL_SESSION_is_resumable(s)) {
		SSL_SESSION_free(s);
		s = NULL;
	}
	return (tls_session *)(void *)s;
}

void tls_session_free(tls_session *s)
{
	SSL_SESSION_free((SSL_SESSION *)(void *)s);
}
