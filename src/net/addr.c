/* addr — socket address parsing, formatting and comparison. */
#include "net/addr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/err.h"

__attribute__((format(printf, 5, 6)))
static int fail(net_addr *out, char *err, size_t errlen, int code, const char *fmt, ...)
{
	memset(out, 0, sizeof(*out));
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

/* Decimal port "0".."65535": returns the value or -1 (not a number) / -2 (too big). */
static long parse_port(const char *p)
{
	if (!*p || strlen(p) > 5)
		return *p && strspn(p, "0123456789") == strlen(p) ? -2 : -1;
	long v = 0;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	return v > 65535 ? -2 : v;
}

static int set_v6(net_addr *out, const char *host, size_t hlen, uint16_t port,
		  const char *text, char *err, size_t errlen)
{
	char buf[ADDR_MAXTEXT + 1];
	if (hlen == 0)
		return fail(out, err, errlen, DNS_ESYNTAX, "bad address '%s': empty IPv6 address", text);
	memcpy(buf, host, hlen);
	buf[hlen] = 0;
	uint32_t scope = 0;
	char *pct = strchr(buf, '%');
	if (pct) {
		*pct++ = 0;
		if (!*pct)
			return fail(out, err, errlen, DNS_ESYNTAX, "bad address '%s': empty IPv6 zone", text);
		if (strspn(pct, "0123456789") == strlen(pct)) {
			unsigned long z = strtoul(pct, NULL, 10);
			if (strlen(pct) > 10 || z > UINT32_MAX)
				return fail(out, err, errlen, DNS_ERANGE, "bad address '%s': zone out of range", text);
			scope = (uint32_t)z;
		} else if (!(scope = if_nametoindex(pct))) {
			return fail(out, err, errlen, DNS_ESYNTAX, "bad address '%s': no interface '%s'", text, pct);
		}
	}
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET6, buf, &out->u.in6.sin6_addr) != 1)
		return fail(out, err, errlen, DNS_ESYNTAX, "bad address '%s': not a valid IPv6 address", text);
	out->u.in6.sin6_family = AF_INET6;
	out->u.in6.sin6_port = htons(port);
	out->u.in6.sin6_scope_id = scope;
	out->len = sizeof(struct sockaddr_in6);
	return 0;
}

static int set_v4(net_addr *out, const char *host, size_t hlen, uint16_t port,
		  const char *text, char *err, size_t errlen)
{
	char buf[ADDR_MAXTEXT + 1];
	memcpy(buf, host, hlen);
	buf[hlen] = 0;
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, buf, &out->u.in4.sin_addr) != 1) {
		if (hlen == 0)
			return fail(out, err, errlen, DNS_ESYNTAX, "bad address '%s': missing IP address", text);
		bool name = false;
		for (size_t i = 0; i < hlen; i++)
			if (isalpha((unsigned char)buf[i]))
				name = true;
		return fail(out, err, errlen, DNS_ESYNTAX, "bad address '%s': %s", text,
			    name ? "not a numeric IPv4 or IPv6 address (host names are not resolved)"
				 : "not a valid IPv4 address");
	}
	out->u.in4.sin_family = AF_INET;
	out->u.in4.sin_port = htons(port);
	out->len = sizeof(struct sockaddr_in);
	return 0;
}

static int get_port(net_addr *out, const char *p, const char *text, char *err, size_t errlen)
{
	long v = parse_port(p);
	if (v == -1)
		return fail(out, err, errlen, DNS_ESYNTAX, "bad address '%s': %s", text,
			    *p ? "port is not a decimal number" : "missing port after ':'");
	if (v == -2)
		return fail(out, err, errlen, DNS_ERANGE, "bad address '%s': port out of range (0-65535)", text);
	return (int)v;
}

int addr_parse(net_addr *out, const char *text, uint16_t default_port, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = 0;
	if (!text || !*text)
		return fail(out, err, errlen, DNS_ESYNTAX, "bad address '': empty");
	size_t n = strlen(text);
	if (n > ADDR_MAXTEXT)
		return fail(out, err, errlen, DNS_ESYNTAX, "bad address '%.40s...': too long", text);

	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (!close)
			return fail(out, err, errlen, DNS_ESYNTAX, "bad address '%s': missing ']'", text);
		int port = default_port;
		if (close[1] == ':') {
			if ((port = get_port(out, close + 2, text, err, errlen)) < 0)
				return port;
		} else if (close[1]) {
			return fail(out, err, errlen, DNS_ESYNTAX, "bad address '%s': expected ':port' after ']'", text);
		}
		return set_v6(out, text + 1, (size_t)(close - text - 1), (uint16_t)port, text, err, errlen);
	}

	const char *colon = strchr(text, ':');
	if (colon && strchr(colon + 1, ':')) /* two or more ':': bare IPv6 */
		return set_v6(out, text, n, default_port, text, err, errlen);
	if (strchr(text, ']'))
		return fail(out, err, errlen, DNS_ESYNTAX, "bad address '%s': unbalanced ']'", text);
	int port = default_port;
	if (colon && (port = get_port(out, colon + 1, text, err, errlen)) < 0)
		return port;
	return set_v4(out, text, colon ? (size_t)(colon - text) : n, (uint16_t)port, text, err, errlen);
}

int addr_format(const net_addr *a, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN + 1 + IF_NAMESIZE + 1];
	char out[ADDR_STRLEN];
	int n;
	switch (addr_family(a)) {
	case AF_INET:
		if (!inet_ntop(AF_INET, &a->u.in4.sin_addr, host, sizeof(host)))
			goto bad;
		n = snprintf(out, sizeof(out), "%s:%u", host, ntohs(a->u.in4.sin_port));
		break;
	case AF_INET6:
		if (!inet_ntop(AF_INET6, &a->u.in6.sin6_addr, host, sizeof(host)))
			goto bad;
		if (a->u.in6.sin6_scope_id)
			n = snprintf(out, sizeof(out), "[%s%%%u]:%u", host, a->u.in6.sin6_scope_id,
				     ntohs(a->u.in6.sin6_port));
		else
			n = snprintf(out, sizeof(out), "[%s]:%u", host, ntohs(a->u.in6.sin6_port));
		break;
	default:
		goto bad;
	}
	if (n < 0 || (size_t)n >= len) {
		if (len)
			buf[0] = 0;
		return DNS_ESPACE;
	}
	memcpy(buf, out, (size_t)n + 1);
	return n;
bad:
	if (len >= 2)
		memcpy(buf, "?", 2);
	else if (len)
		buf[0] = 0;
	return DNS_EINVAL;
}

const char *addr_str(const net_addr *a, char buf[ADDR_STRLEN])
{
	addr_format(a, buf, ADDR_STRLEN);
	return buf;
}

int addr_from_sockaddr(net_addr *out, const struct sockaddr *sa, socklen_t len)
{
	memset(out, 0, sizeof(*out));
	if (!sa || len < (socklen_t)sizeof(sa_family_t))
		return DNS_EINVAL;
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		memcpy(&out->u.in4, sa, sizeof(struct sockaddr_in));
		out->len = sizeof(struct sockaddr_in);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		memcpy(&out->u.in6, sa, sizeof(struct sockaddr_in6));
		out->len = sizeof(struct sockaddr_in6);
		return 0;
	}
	return DNS_EINVAL;
}

int addr_family(const net_addr *a)
{
	if (a->len == sizeof(struct sockaddr_in) && a->u.sa.sa_family == AF_INET)
		return AF_INET;
	if (a->len == sizeof(struct sockaddr_in6) && a->u.sa.sa_family == AF_INET6)
		return AF_INET6;
	return AF_UNSPEC;
}

uint16_t addr_port(const net_addr *a)
{
	switch (addr_family(a)) {
	case AF_INET: return ntohs(a->u.in4.sin_port);
	case AF_INET6: return ntohs(a->u.in6.sin6_port);
	}
	return 0;
}

void addr_set_port(net_addr *a, uint16_t port)
{
	switch (addr_family(a)) {
	case AF_INET: a->u.in4.sin_port = htons(port); break;
	case AF_INET6: a->u.in6.sin6_port = htons(port); break;
	}
}

bool addr_is_any(const net_addr *a)
{
	switch (addr_family(a)) {
	case AF_INET: return a->u.in4.sin_addr.s_addr == htonl(INADDR_ANY);
	case AF_INET6: return IN6_IS_ADDR_UNSPECIFIED(&a->u.in6.sin6_addr);
	}
	return false;
}

bool addr_equal(const net_addr *a, const net_addr *b)
{
	int f = addr_family(a);
	if (f != addr_family(b))
		return false;
	switch (f) {
	case AF_INET:
		return a->u.in4.sin_addr.s_addr == b->u.in4.sin_addr.s_addr &&
		       a->u.in4.sin_port == b->u.in4.sin_port;
	case AF_INET6:
		return !memcmp(&a->u.in6.sin6_addr, &b->u.in6.sin6_addr, 16) &&
		       a->u.in6.sin6_port == b->u.in6.sin6_port &&
		       a->u.in6.sin6_scope_id == b->u.in6.sin6_scope_id;
	}
	return true; /* both unset */
}
