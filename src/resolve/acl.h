/* acl — the resolver's client allow list: CIDR prefixes (IPv4 and IPv6) a
 * client address must fall in to be served (`--allow`).
 *
 * A plain value with a fixed array (ACL_MAX prefixes): no allocation, built
 * once at start by one thread and then only read, by any number of threads,
 * without locks. An empty list matches nothing; acl_add_loopback gives the
 * default (127.0.0.0/8 and ::1/128), so the resolver is never an open
 * resolver by accident. IPv4-mapped IPv6 peers (::ffff:a.b.c.d, seen on
 * dual-stack sockets) are matched as the IPv4 address a.b.c.d. */
#ifndef ANTIDOTE_RESOLVE_ACL_H
#define ANTIDOTE_RESOLVE_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/addr.h"

#define ACL_MAX 64

typedef struct acl_prefix {
	uint8_t family;   /* 4 or 6 */
	uint8_t bits;     /* prefix length: ≤ 32 or ≤ 128 */
	uint8_t addr[16]; /* network address, bits past the prefix zero */
} acl_prefix;

typedef struct acl {
	unsigned n;
	acl_prefix p[ACL_MAX];
} acl;

static inline void acl_init(acl *a) { a->n = 0; }

/* Adds one prefix in text: "ADDR" (a host: /32 or /128) or "ADDR/BITS";
 * IPv6 with or without brackets ("[::1]/128", "::1"); "any" adds 0.0.0.0/0
 * and ::/0. Host bits past the prefix are refused ("10.0.0.1/8": did you
 * mean 10.0.0.0/8?). Returns 0, DNS_ESYNTAX / DNS_ERANGE (bad text, prefix
 * too long) or DNS_ESPACE (ACL_MAX reached), with a message in err. */
int acl_add(acl *a, const char *text, char *err, size_t errlen);
/* Adds 127.0.0.0/8 and ::1/128. */
void acl_add_loopback(acl *a);
/* True when addr (AF_INET or AF_INET6) lies in one of the prefixes. */
bool acl_match(const acl *a, const net_addr *addr);
/* "127.0.0.0/8" etc. into buf (≥ 64 octets); returns buf. */
const char *acl_prefix_str(const acl_prefix *p, char *buf, size_t len);

#endif
