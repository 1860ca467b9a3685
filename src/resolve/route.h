/* route — which upstream servers answer which names: dnsmasq-style
 * `server=/example.cn/127.0.0.1#5300` rules (longest suffix wins) plus
 * default upstreams.
 *
 * A route table is built once (at start or reload) by one thread and then
 * only read, by any number of threads, without locks. It owns:
 *  - the list of distinct upstream addresses ("servers"), numbered 0..n-1
 *    in order of first appearance; the upstream module (upstream.h) is
 *    given this list and uses the same numbers;
 *  - groups: distinct sets of server numbers (a domain with two `server=`
 *    lines forwards to both); 110k domains that all name the same server
 *    share one group;
 *  - a hash table of domain suffixes (lowercased wire names, open
 *    addressing, 64-bit name_hash) mapping each to a group or to "local".
 *
 * Accepted lines (route_add_line / route_load; the dnsmasq syntax):
 *   server=ADDR[#PORT]                  a default upstream
 *   server=/D1/D2/.../ADDR[#PORT]       names at or below any Di go to ADDR
 *   server=/D/#                         names below D use the defaults
 *                                       (overrides a shorter rule)
 *   server=/D/   and   local=/D/        names below D are never forwarded
 *                                       (route_lookup says ROUTE_LOCAL)
 *   # comment, blank line
 * ADDR is a numeric IPv4 or IPv6 address (IPv6 without brackets, e.g.
 * ::1#5300); PORT defaults to 53. Wherever ADDR[#PORT] may stand, a DNS over
 * TLS upstream (RFC 7858) may stand instead, in the --upstream URL form
 * (not dnsmasq's: there '#' introduces the name, not the port):
 *   tls://ADDR[:PORT][#AUTHNAME]        e.g. server=/cn/tls://[::1]:853#dns.example
 * PORT defaults to 853; ADDR is numeric (IPv6 bare or in brackets; a bare
 * one takes no port). AUTHNAME is the host name the server's certificate
 * must carry (also sent as SNI); without it the certificate must carry the
 * IP address ADDR (an IP subjectAltName, as public DoT services have),
 * unless the TLS settings say insecure (route_set_tls). Domains are presentation-form names
 * (a trailing dot is optional; escapes as name_from_text; a leading dot is
 * ignored). Refused with an error: `@source` suffixes, `*` wildcards, the
 * empty domain `//`, other directives, bad addresses or ports.
 *
 * Servers are distinct (address, transport, AUTHNAME) triples: 127.0.0.1:853
 * over UDP/TCP and tls://127.0.0.1:853 are two servers.
 *
 * The table also carries the TLS settings of its upstreams (CA bundle,
 * insecure) so that everything the upstream module needs travels with the
 * server list: upstream_new is given the table (up_config.route) or finds
 * it from the server list (route_by_servers: every live table is
 * registered, under a mutex).
 *
 * Lookup (route_lookup) tries the query name and then each parent in turn
 * (at most 128 hash probes, each a name_hash over the suffix) and takes the
 * first, i.e. longest, suffix found. Matching is case-insensitive. */
#ifndef ANTIDOTE_RESOLVE_ROUTE_H
#define ANTIDOTE_RESOLVE_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/addr.h"

/* Most servers per table and per group. */
#define ROUTE_MAX_SERVERS 256
#define ROUTE_MAX_GROUP 8
/* Longest line route_load accepts. */
#define ROUTE_MAX_LINE 4096

typedef struct route route;

/* Transports of an upstream server. */
enum route_transport {
	ROUTE_DNS = 0, /* UDP, with TCP on truncation or when asked (upstream.h) */
	ROUTE_TLS = 1, /* DNS over TLS only (RFC 7858) */
};

#define ROUTE_AUTH_MAX 253 /* longest AUTHNAME (a host name, no final dot) */
#define ROUTE_TLS_PORT 853
/* Longest text route_upstream_str writes, NUL included. */
#define ROUTE_UPSTREAM_STRLEN (6 + ADDR_STRLEN + 1 + ROUTE_AUTH_MAX + 1)

/* One upstream server: where and how. A plain value (copy freely). */
typedef struct route_upstream {
	net_addr addr;
	uint8_t transport;               /* enum route_transport */
	char auth[ROUTE_AUTH_MAX + 1];   /* TLS: AUTHNAME, lower case; "" none */
} route_upstream;

/* Result of route_lookup. `servers` is borrowed from the table (valid
 * until route_free). */
typedef struct route_match {
	const uint16_t *servers; /* server numbers, in configuration order */
	unsigned n;              /* 0 when local, or when no default exists */
	bool local;              /* a server=/D/ or local=/D/ rule matched */
	int suffix_off;          /* offset in qname of the matched domain, -1
				  * when the defaults were used */
} route_match;

/* NULL when out of memory. */
route *route_new(void);
void route_free(route *rt);

/* One configuration line (forms above; leading/trailing blanks ignored).
 * Returns 0, or DNS_ESYNTAX / DNS_ERANGE / DNS_ENAMELEN / DNS_ENOMEM with
 * a message in err (without position). */
int route_add_line(route *rt, const char *line, char *err, size_t errlen);

/* Reads a whole file of such lines. Stops at the first bad line and
 * returns its error with "FILE:LINE: message" in err (the table then holds
 * the lines before it; discard it). DNS_EIO when the file cannot be read
 * ("FILE: No such file or directory"). */
int route_load(route *rt, const char *path, char *err, size_t errlen);

/* Adds a default upstream / a domain rule programmatically (a NULL addr
 * makes the domain local; `use_default` makes it use the defaults). */
int route_add_default(route *rt, const net_addr *a);
int route_add_domain(route *rt, const uint8_t *domain, const net_addr *a, bool use_default);

/* Parses an --upstream value: "ADDR[:PORT]" (addr.h forms, port 53) or
 * "tls://ADDR[:PORT][#AUTHNAME]" (above). Port 0 is refused. 0, or
 * DNS_ESYNTAX / DNS_ERANGE with a message in err. */
int route_parse_upstream(const char *text, route_upstream *out, char *err, size_t errlen);
/* Parses the server part of a server= line: "ADDR[#PORT]" (dnsmasq) or
 * "tls://ADDR[:PORT][#AUTHNAME]"; len chars of s (no NUL needed). */
int route_parse_server(const char *s, size_t len, route_upstream *out, char *err, size_t errlen);
/* Adds a default upstream of any transport (route_add_default: plain DNS). */
int route_add_upstream(route *rt, const route_upstream *u);
/* "tls://127.0.0.1:853#dns.example", "[::1]:53" (plain: addr_format) into
 * buf; returns buf. */
const char *route_upstream_str(const route_upstream *u, char *buf, size_t len);

/* TLS settings for the table's TLS upstreams: ca_file a PEM bundle (NULL:
 * the system store), insecure = no certificate verification at all.
 * ca_file is copied. 0 or DNS_ENOMEM. */
int route_set_tls(route *rt, const char *ca_file, bool insecure);
const char *route_tls_ca(const route *rt);  /* NULL: system store */
bool route_tls_insecure(const route *rt);
unsigned route_ntls(const route *rt);       /* TLS servers in the table */

/* Where qname (a well-formed wire name) goes. Returns 0 (m filled; m->n
 * may be 0 when there are no defaults) — never fails. */
int route_lookup(const route *rt, const uint8_t *qname, route_match *m);

/* The server list (index = server number) and its size. */
unsigned route_nservers(const route *rt);
const net_addr *route_servers(const route *rt);
/* The same servers with their transport (index = server number). */
const route_upstream *route_upstreams(const route *rt);
/* The live table whose route_servers() is `servers` (n entries), or else
 * the newest live table that has TLS servers and whose first n servers
 * are these addresses (a copy of its list), or NULL (e.g. a test's own
 * list). The table stays borrowed: it must outlive the caller's use (the
 * upstream module copies what it needs). Thread-safe. */
const route *route_by_servers(const net_addr *servers, unsigned n);
/* Number of domain rules and of distinct groups (for logs and tests). */
size_t route_ndomains(const route *rt);
unsigned route_ngroups(const route *rt);

#endif
