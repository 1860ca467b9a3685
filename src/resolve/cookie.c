/* cookie — RFC 9018 server cookies with SipHash-2-4 (see cookie.h). */
#include "resolve/cookie.h"

#include <string.h>

#include "dns/err.h"
#include "resolve/secrand.h"

void cookie_secret_init(cookie_secret *s)
{
	secrand_bytes(s->key, sizeof(s->key));
}

static uint64_t rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

#define SIPROUND(v0, v1, v2, v3)                                                                           \
	do {                                                                                               \
		v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);                                  \
		v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                                                     \
		v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                                                     \
		v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);                                  \
	} while (0)

uint64_t cookie_siphash24(const uint8_t key[16], const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t k0 = le64(key), k1 = le64(key + 8);
	uint64_t v0 = k0 ^ 0x736f6d6570736575ull, v1 = k1 ^ 0x646f72616e646f6dull;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ull, v3 = k1 ^ 0x7465646279746573ull;
	size_t full = len & ~(size_t)7;
	for (size_t i = 0; i < full; i += 8) {
		uint64_t m = le64(p + i);
		v3 ^= m;
		SIPROUND(v0, v1, v2, v3);
		SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	uint64_t last = (uint64_t)(len & 0xff) << 56;
	for (size_t i = 0; i < (len & 7); i++)
		last |= (uint64_t)p[full + i] << (8 * i);
	v3 ^= last;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	v0 ^= last;
	v2 ^= 0xff;
	for (int i = 0; i < 4; i++)
		SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/* The peer's address octets (IPv4-mapped IPv6 as IPv4); 0 when unknown. */
static size_t peer_ip(const net_addr *peer, uint8_t *ip)
{
	if (!peer)
		return 0;
	if (peer->u.sa.sa_family == AF_INET) {
		memcpy(ip, &peer->u.in4.sin_addr, 4);
		return 4;
	}
	if (peer->u.sa.sa_family != AF_INET6)
		return 0;
	const uint8_t *a = peer->u.in6.sin6_addr.s6_addr;
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (!memcmp(a, mapped, 12)) {
		memcpy(ip, a + 12, 4);
		return 4;
	}
	memcpy(ip, a, 16);
	return 16;
}

/* The hash of an RFC 9018 server cookie whose first 8 octets (version,
 * reserved, timestamp) are at hdr. */
static uint64_t hash_of(const cookie_secret *s, const uint8_t *client, const uint8_t *hdr, const uint8_t *ip,
			size_t iplen)
{
	uint8_t in[COOKIE_CLIENT + 8 + 16];
	memcpy(in, client, COOKIE_CLIENT);
	memcpy(in + COOKIE_CLIENT, hdr, 8);
	memcpy(in + COOKIE_CLIENT + 8, ip, iplen);
	return cookie_siphash24(s->key, in, COOKIE_CLIENT + 8 + iplen);
}

static void put_hash(uint8_t *p, uint64_t h)
{
	/* RFC 9018 appendix: the SipHash output is written least significant
	 * octet first, as the reference implementation does */
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(h >> (8 * i));
}

int cookie_make(const cookie_secret *s, const uint8_t *client, const net_addr *peer, uint32_t now,
		uint8_t *out)
{
	uint8_t ip[16];
	size_t iplen = peer_ip(peer, ip);
	if (!iplen)
		return DNS_EINVAL;
	memmove(out, client, COOKIE_CLIENT);
	uint8_t *sc = out + COOKIE_CLIENT;
	sc[0] = 1;
	sc[1] = sc[2] = sc[3] = 0;
	sc[4] = (uint8_t)(now >> 24);
	sc[5] = (uint8_t)(now >> 16);
	sc[6] = (uint8_t)(now >> 8);
	sc[7] = (uint8_t)now;
	put_hash(sc + 8, hash_of(s, out, sc, ip, iplen));
	return COOKIE_FULL;
}

bool cookie_valid(const cookie_secret *s, const uint8_t *cookie, size_t len, const net_addr *peer, uint32_t now)
{
	if (len != COOKIE_FULL)
		return false;
	const uint8_t *sc = cookie + COOKIE_CLIENT;
	if (sc[0] != 1 || sc[1] || sc[2] || sc[3])
		return false;
	uint32_t ts = (uint32_t)sc[4] << 24 | (uint32_t)sc[5] << 16 | (uint32_t)sc[6] << 8 | sc[7];
	uint32_t age = now - ts; /* serial arithmetic: a future stamp wraps */
	if (age > COOKIE_MAX_AGE && (uint32_t)(ts - now) > COOKIE_MAX_AHEAD)
		return false;
	uint8_t ip[16];
	size_t iplen = peer_ip(peer, ip);
	if (!iplen)
		return false;
	uint8_t h[8];
	put_hash(h, hash_of(s, cookie, sc, ip, iplen));
	unsigned diff = 0; /* constant time */
	for (int i = 0; i < 8; i++)
		diff |= (unsigned)(h[i] ^ sc[8 + i]);
	return diff == 0;
}
