/* cookie — DNS server cookies (RFC 7873) in the interoperable format of
 * RFC 9018, for the resolver's clients.
 *
 * A server cookie is 16 octets:
 *   version (1, = 1) | reserved (3, zero) | timestamp (4, Unix seconds,
 *   big-endian) | hash (8)
 * hash = SipHash-2-4 over client cookie (8) | version | reserved |
 * timestamp | client IP (4 or 16 octets), keyed with a 16-octet secret.
 * A cookie is valid when the hash matches and its timestamp lies no more
 * than one hour in the past and five minutes in the future (serial number
 * arithmetic, RFC 1982, so 2106 is no cliff).
 *
 * The secret is made once at start (cookie_secret_init, from getrandom): a
 * restart invalidates the cookies clients hold, and they then get
 * BADCOOKIE/a fresh cookie, as RFC 7873 §5.2.3 intends. A secret is a plain
 * value, read-only after init: any thread may use it without locks. No
 * allocation. */
#ifndef ANTIDOTE_RESOLVE_COOKIE_H
#define ANTIDOTE_RESOLVE_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/addr.h"

#define COOKIE_SECRET 16
#define COOKIE_SERVER 16   /* our server cookies */
#define COOKIE_CLIENT 8
#define COOKIE_FULL (COOKIE_CLIENT + COOKIE_SERVER)
#define COOKIE_MAX_AGE 3600 /* seconds a cookie stays valid */
#define COOKIE_MAX_AHEAD 300 /* seconds of clock skew accepted */

typedef struct cookie_secret {
	uint8_t key[COOKIE_SECRET];
} cookie_secret;

/* A fresh random secret. */
void cookie_secret_init(cookie_secret *s);

/* SipHash-2-4 of data[0..len) with a 16-octet key (the paper's reference
 * function; exposed for its test vectors). */
uint64_t cookie_siphash24(const uint8_t key[16], const void *data, size_t len);

/* Writes client (8 octets) followed by a server cookie made for peer at
 * time now into out (COOKIE_FULL octets). Returns COOKIE_FULL, or
 * DNS_EINVAL when peer is neither IPv4 nor IPv6. IPv4-mapped IPv6 peers
 * count as their IPv4 address (a dual-stack socket may show either). */
int cookie_make(const cookie_secret *s, const uint8_t *client, const net_addr *peer, uint32_t now,
		uint8_t *out);

/* True when cookie[0..len) (client + server cookie, as a query carries it)
 * holds a server cookie we made for this client cookie and peer that is
 * still valid at now. Any other length (a client cookie alone, or a server
 * cookie of another format) is false. */
bool cookie_valid(const cookie_secret *s, const uint8_t *cookie, size_t len, const net_addr *peer, uint32_t now);

#endif
