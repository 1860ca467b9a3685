/* acl — client allow list (see acl.h). */
#include "resolve/acl.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/err.h"

static int fail(char *err, size_t errlen, int rc, const char *fmt, const char *arg)
{
	if (err && errlen)
		snprintf(err, errlen, fmt, arg);
	return rc;
}

static int push(acl *a, int family, const uint8_t *addr, unsigned bits, char *err, size_t errlen,
		const char *text)
{
	if (a->n >= ACL_MAX)
		return fail(err, errlen, DNS_ESPACE, "too many allow prefixes at '%s' (at most 64)", text);
	acl_prefix *p = &a->p[a->n++];
	memset(p, 0, sizeof(*p));
	p->family = (uint8_t)family;
	p->bits = (uint8_t)bits;
	memcpy(p->addr, addr, family == 4 ? 4 : 16);
	return 0;
}

int acl_add(acl *a, const char *text, char *err, size_t errlen)
{
	if (!strcmp(text, "any")) {
		static const uint8_t zero[16];
		if (a->n + 2 > ACL_MAX)
			return fail(err, errlen, DNS_ESPACE, "too many allow prefixes at '%s' (at most 64)", text);
		push(a, 4, zero, 0, err, errlen, text);
		return push(a, 6, zero, 0, err, errlen, text);
	}
	char buf[80];
	size_t n = strlen(text);
	if (n == 0 || n >= sizeof(buf))
		return fail(err, errlen, DNS_ESYNTAX, "bad allow prefix '%s'", text);
	memcpy(buf, text, n + 1);
	long bits = -1;
	char *slash = strchr(buf, '/');
	if (slash) {
		*slash = 0;
		char *end;
		if (!slash[1] || slash[1] < '0' || slash[1] > '9')
			return fail(err, errlen, DNS_ESYNTAX, "bad prefix length in '%s'", text);
		bits = strtol(slash + 1, &end, 10);
		if (*end || bits > 128)
			return fail(err, errlen, DNS_ESYNTAX, "bad prefix length in '%s'", text);
	}
	char *host = buf;
	size_t hl = strlen(host);
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		host[hl - 1] = 0;
		host++;
	}
	uint8_t addr[16] = {0};
	int family;
	if (inet_pton(AF_INET, host, addr) == 1)
		family = 4;
	else if (inet_pton(AF_INET6, host, addr) == 1)
		family = 6;
	else
		return fail(err, errlen, DNS_ESYNTAX, "bad allow prefix '%s': not a numeric IPv4 or IPv6 address", text);
	unsigned max = family == 4 ? 32 : 128;
	if (bits < 0)
		bits = max;
	if ((unsigned long)bits > max)
		return fail(err, errlen, DNS_ERANGE, "prefix length too long in '%s'", text);
	for (unsigned i = (unsigned)bits; i < max; i++)
		if (addr[i / 8] & (0x80u >> (i % 8)))
			return fail(err, errlen, DNS_ESYNTAX, "'%s' has host bits set past the prefix length", text);
	return push(a, family, addr, (unsigned)bits, err, errlen, text);
}

void acl_add_loopback(acl *a)
{
	acl_add(a, "127.0.0.0/8", NULL, 0);
	acl_add(a, "::1/128", NULL, 0);
}

static bool prefix_match(const uint8_t *net, const uint8_t *addr, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;
	if (memcmp(net, addr, full))
		return false;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xffu << (8 - rest));
	return (net[full] & mask) == (addr[full] & mask);
}

bool acl_match(const acl *a, const net_addr *addr)
{
	const uint8_t *b;
	int family;
	if (addr->u.sa.sa_family == AF_INET) {
		family = 4;
		b = (const uint8_t *)&addr->u.in4.sin_addr;
	} else if (addr->u.sa.sa_family == AF_INET6) {
		b = (const uint8_t *)&addr->u.in6.sin6_addr;
		static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		if (!memcmp(b, mapped, 12)) {
			family = 4;
			b += 12;
		} else {
			family = 6;
		}
	} else {
		return false;
	}
	for (unsigned i = 0; i < a->n; i++)
		if (a->p[i].family == family && prefix_match(a->p[i].addr, b, a->p[i].bits))
			return true;
	return false;
}

const char *acl_prefix_str(const acl_prefix *p, char *buf, size_t len)
{
	char t[INET6_ADDRSTRLEN];
	inet_ntop(p->family == 4 ? AF_INET : AF_INET6, p->addr, t, sizeof(t));
	snprintf(buf, len, "%s/%u", t, p->bits);
	return buf;
}
