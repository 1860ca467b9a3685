/* tls — non-blocking DNS over TLS client connections (RFC 7858) on OpenSSL,
 * for the upstream module's event loop.
 *
 * A tls_ctx holds the settings shared by one worker's connections (an
 * SSL_CTX: trust store, TLS 1.2 or later, 1.3 preferred). It is used by one
 * thread only (upstream.h: one context per worker), like every tls_conn made
 * from it. A tls_conn wraps a connected (or connecting) non-blocking TCP
 * socket; the caller owns the socket (closes it after tls_conn_free) and
 * watches it in its loop. Every call returns at once: when OpenSSL needs
 * the socket readable or writable it says so (TLS_WANT_READ/WRITE) and the
 * caller calls again when it is. Socket I/O goes through send(MSG_NOSIGNAL)
 * and recv(), so a peer that vanished never raises SIGPIPE.
 *
 * VERIFICATION (tls_conn_new): with an auth name, the certificate chain
 * must lead to the trust store and the leaf must carry that host name; the
 * name is sent as SNI. Without one, the leaf must carry the server's IP
 * address (an iPAddress subjectAltName) and no SNI is sent. With
 * tls_ctx_new(insecure = true) nothing is verified (labs only: anyone on
 * the path can then answer in the server's name).
 *
 * RESUMPTION: tls_conn_session() takes the session of a connection that
 * completed a handshake; give it to the next tls_conn_new for that server
 * (abbreviated handshake when the server agrees). Sessions are plain
 * OpenSSL objects (SSL_SESSION), freed with tls_session_free.
 *
 * Errors carry a one-line reason (tls_conn_error): the certificate check
 * that failed ("certificate verify failed: Hostname mismatch"), or
 * OpenSSL's error, or errno's text. */
#ifndef ANTIDOTE_RESOLVE_TLS_H
#define ANTIDOTE_RESOLVE_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/addr.h"

typedef struct tls_ctx tls_ctx;
typedef struct tls_conn tls_conn;
typedef struct tls_session tls_session; /* an SSL_SESSION */

/* Non-error states (positive) of tls_handshake, tls_read, tls_write. */
enum tls_status {
	TLS_OK = 0,
	TLS_WANT_READ = 1,  /* call again when the socket is readable */
	TLS_WANT_WRITE = 2, /* call again when the socket is writable */
	TLS_EOF = 3,        /* tls_read: the server closed the connection */
};

#define TLS_ERRLEN 256

/* ca_file: PEM bundle of trusted CAs; NULL: the system's default store
 * (/etc/ssl/certs). insecure: verify nothing. NULL on failure with the
 * reason in err (e.g. the CA file cannot be read or holds no certificate). */
tls_ctx *tls_ctx_new(const char *ca_file, bool insecure, char *err, size_t errlen);
void tls_ctx_free(tls_ctx *x);

/* A client connection over fd (non-blocking, connected or connecting) to
 * server `ip` (for IP verification), verifying auth_name when not NULL or
 * "", resuming `resume` when not NULL (borrowed: the connection takes its
 * own reference). NULL when out of memory. */
tls_conn *tls_conn_new(tls_ctx *x, int fd, const net_addr *ip, const char *auth_name,
		       tls_session *resume);
/* Sends close_notify first when notify (best effort, never waits); frees
 * everything but the socket. NULL is a no-op. */
void tls_conn_free(tls_conn *k, bool notify);

/* Drives the handshake: TLS_OK when complete, TLS_WANT_*, or DNS_EIO (the
 * reason in tls_conn_error; a failed certificate check included). */
int tls_handshake(tls_conn *k);
/* Reads up to cap octets of application data: TLS_OK with *got > 0,
 * TLS_WANT_*, TLS_EOF, or DNS_EIO. */
int tls_read(tls_conn *k, uint8_t *buf, size_t cap, size_t *got);
/* Writes up to len octets (partial writes happen; the caller keeps the
 * rest and may append to it before the next call): TLS_OK with *put > 0,
 * TLS_WANT_*, or DNS_EIO. After TLS_WANT_* call again with at least the
 * same octets first. */
int tls_write(tls_conn *k, const uint8_t *buf, size_t len, size_t *put);

/* Facts about a connection (after the handshake): protocol ("TLSv1.3"),
 * cipher name, whether the session was resumed. */
const char *tls_conn_version(const tls_conn *k);
const char *tls_conn_cipher(const tls_conn *k);
bool tls_conn_resumed(const tls_conn *k);
/* The reason of the last DNS_EIO ("" when none). */
const char *tls_conn_error(const tls_conn *k);

/* The connection's session when it can be resumed, NULL otherwise (a new
 * reference: free with tls_session_free). */
tls_session *tls_conn_session(tls_conn *k);
void tls_session_free(tls_session *s);

#endif
