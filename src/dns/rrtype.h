/* rrtype — RR type and class numbers and their mnemonics.
 *
 * rrtype_to_text/rrclass_to_text never fail: unknown values come out in the
 * RFC 3597 form "TYPE12345" / "CLASS12345", which *_from_text also accept. */
#ifndef ANTIDOTE_DNS_RRTYPE_H
#define ANTIDOTE_DNS_RRTYPE_H

#include <stddef.h>
#include <stdint.h>

enum rr_type {
	RR_A = 1, RR_NS = 2, RR_MD = 3, RR_MF = 4, RR_CNAME = 5, RR_SOA = 6,
	RR_MB = 7, RR_MG = 8, RR_MR = 9, RR_NULL = 10, RR_WKS = 11, RR_PTR = 12,
	RR_HINFO = 13, RR_MINFO = 14, RR_MX = 15, RR_TXT = 16, RR_RP = 17,
	RR_AFSDB = 18, RR_SIG = 24, RR_KEY = 25, RR_AAAA = 28, RR_LOC = 29,
	RR_SRV = 33, RR_NAPTR = 35, RR_KX = 36, RR_CERT = 37, RR_DNAME = 39,
	RR_OPT = 41, RR_APL = 42, RR_DS = 43, RR_SSHFP = 44, RR_IPSECKEY = 45,
	RR_RRSIG = 46, RR_NSEC = 47, RR_DNSKEY = 48, RR_DHCID = 49,
	RR_NSEC3 = 50, RR_NSEC3PARAM = 51, RR_TLSA = 52, RR_SMIMEA = 53,
	RR_CDS = 59, RR_CDNSKEY = 60, RR_OPENPGPKEY = 61, RR_CSYNC = 62,
	RR_ZONEMD = 63, RR_SVCB = 64, RR_HTTPS = 65, RR_SPF = 99,
	RR_TKEY = 249, RR_TSIG = 250, RR_IXFR = 251, RR_AXFR = 252,
	RR_MAILB = 253, RR_MAILA = 254, RR_ANY = 255, RR_URI = 256, RR_CAA = 257,
};

enum rr_class {
	CLASS_IN = 1, CLASS_CH = 3, CLASS_HS = 4, CLASS_NONE = 254, CLASS_ANY = 255,
};

/* Static mnemonic of a type antidote knows by name, or NULL. */
const char *rrtype_name(uint16_t type);
/* Writes the mnemonic into buf (≥ 16 bytes) and returns buf. */
const char *rrtype_to_text(uint16_t type, char *buf);
const char *rrclass_to_text(uint16_t rclass, char *buf);
/* Parses a mnemonic (case-insensitive) or TYPEnnn; returns the value
 * (0..65535) or DNS_ETYPE. */
int rrtype_from_text(const char *s, size_t len);
int rrclass_from_text(const char *s, size_t len);
/* Meta types (RFC 6895: 128-255 queries only, OPT) that may not be stored
 * in a zone. */
int rrtype_is_meta(uint16_t type);

#endif
