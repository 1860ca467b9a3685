/* addr — socket addresses: parse "IP[:port]" text, format it back, compare.
 *
 * A net_addr is a plain value (no pointers, no allocation): a sockaddr of
 * family AF_INET or AF_INET6 plus its length, ready for bind/sendto/connect.
 * Copy it freely.
 *
 * Accepted text forms (numeric only: host names are refused, never resolved):
 *   "127.0.0.1"          IPv4, default port
 *   "127.0.0.1:5300"     IPv4 with port
 *   "::1"                bare IPv6 (two or more ':'), default port
 *   "[::1]"              bracketed IPv6, default port
 *   "[::1]:5300"         bracketed IPv6 with port
 *   "[fe80::1%eth0]:53"  IPv6 with zone (interface name or number)
 * IPv4 must be a strict dotted quad (inet_pton: "127.1" is refused). A bare
 * IPv6 literal never carries a port ("::1:53" is the address ::1:53): use
 * brackets. Ports are decimal 0..65535; 0 means "any free port" when the
 * address is bound (see server.h). No surrounding white space is allowed. */
#ifndef ANTIDOTE_NET_ADDR_H
#define ANTIDOTE_NET_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

typedef struct net_addr {
	union {
		struct sockaddr sa;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
		struct sockaddr_storage ss;
	} u;
	socklen_t len; /* sizeof(sockaddr_in) or sizeof(sockaddr_in6); 0 = unset */
} net_addr;

/* Longest text addr_format writes, NUL included:
 * "[" + 45-char IPv6 + "%" + zone (IF_NAMESIZE) + "]:" + 5-digit port + NUL. */
#define ADDR_STRLEN 80
/* Longest text addr_parse accepts. */
#define ADDR_MAXTEXT 127

/* Parses text (forms above) into *out, using default_port when the text
 * names none. Returns 0, or DNS_ESYNTAX / DNS_ERANGE with a one-line message
 * quoting the input in err (e.g. "bad address 'localhost': not a numeric
 * IPv4 or IPv6 address"); err may be NULL, errlen 0. *out is zeroed on
 * failure. */
int addr_parse(net_addr *out, const char *text, uint16_t default_port,
	       char *err, size_t errlen);

/* Writes "127.0.0.1:53" or "[::1]:53" (zone kept: "[fe80::1%2]:53") into
 * buf, NUL-terminated. Returns the length, DNS_ESPACE if buf is too small
 * (buf then holds "" when len > 0), or DNS_EINVAL for an unset/unknown
 * family (buf gets "?"). */
int addr_format(const net_addr *a, char *buf, size_t len);

/* addr_format into buf (of ADDR_STRLEN bytes) and returns buf; for log lines. */
const char *addr_str(const net_addr *a, char buf[ADDR_STRLEN]);

/* Copies a kernel-returned sockaddr (recvfrom, accept, getsockname).
 * Returns 0, or DNS_EINVAL (out zeroed) when the family is not INET/INET6
 * or len is too short for it. */
int addr_from_sockaddr(net_addr *out, const struct sockaddr *sa, socklen_t len);

/* AF_INET, AF_INET6, or AF_UNSPEC for an unset address. */
int addr_family(const net_addr *a);
uint16_t addr_port(const net_addr *a);      /* host byte order; 0 if unset */
void addr_set_port(net_addr *a, uint16_t port);
/* True for 0.0.0.0 and :: (wildcard binds). */
bool addr_is_any(const net_addr *a);
/* Same family, address, port (and IPv6 zone). */
bool addr_equal(const net_addr *a, const net_addr *b);

#endif
