/* rdata — RDATA of every supported type: wire <-> presentation form.
 *
 * Storage form: RDATA as on the wire but with every embedded domain name
 * uncompressed (case kept). That is what rdata_unpack produces, what
 * rdata_from_text produces, and what rdata_pack and rdata_to_text consume.
 *
 * Typed handling for A, NS, MD, MF, CNAME, SOA, MB, MG, MR, PTR, HINFO,
 * MINFO, MX, TXT, RP, AFSDB, AAAA, SRV, NAPTR, KX, DNAME, DS, CDS, SSHFP,
 * RRSIG, NSEC, DNSKEY, CDNSKEY, NSEC3, NSEC3PARAM, TLSA, SMIMEA, SVCB,
 * HTTPS, CAA, URI, SPF, OPENPGPKEY, ZONEMD, CSYNC, DHCID, CERT, IPSECKEY (as
 * far as implemented); every other type is opaque and uses RFC 3597
 * `\# len hex` in text. The `\#` form is accepted for every type.
 *
 * Name compression on write follows RFC 3597 §4: only the names of NS, MD,
 * MF, CNAME, SOA, MB, MG, MR, PTR, MINFO and MX are compressed; on read,
 * compressed names are also accepted in RP, AFSDB, RT, SIG, PX, NXT, NAPTR,
 * KX, SRV and DNAME, and nowhere else. */
#ifndef ANTIDOTE_DNS_RDATA_H
#define ANTIDOTE_DNS_RDATA_H

#include <stddef.h>
#include <stdint.h>

#include "dns/name.h"
#include "dns/wire.h"

/* One presentation-format token as the zone parser hands it over: the raw
 * characters with surrounding quotes removed (quoted = 1) and escapes
 * still in place; rdata decodes escapes field by field. */
typedef struct rdata_tok {
	const char *s;
	uint32_t len;
	uint8_t quoted;
} rdata_tok;

#define RDATA_ERRLEN 160

/* Parses the RDATA of `type` from ntok tokens; relative names get origin.
 * Appends the storage form to out. On failure returns a negative code and,
 * when err is non-NULL, a message naming the bad field (no file:line). */
int rdata_from_text(uint16_t type, const rdata_tok *tok, size_t ntok,
		    const uint8_t *origin, wire_wr *out, char *err);

/* Reads rdlen bytes of RDATA at r (r->msg is the message, for pointers),
 * validates the type's structure and appends the storage form to out.
 * On success r has moved past the RDATA; on failure the code is returned
 * and also left in r->err. */
int rdata_unpack(uint16_t type, wire_rd *r, uint16_t rdlen, wire_wr *out);

/* Writes storage-form RDATA (without the RDLENGTH field) to w, compressing
 * names against ct for the RFC 3597 well-known types when ct is non-NULL. */
int rdata_pack(uint16_t type, const uint8_t *rdata, uint16_t rdlen, wire_wr *w, name_ctab *ct);

/* Presentation form of storage-form RDATA, NUL-terminated. Returns the
 * length or a negative code (DNS_ESPACE if cap is too small). */
int rdata_to_text(uint16_t type, const uint8_t *rdata, uint16_t rdlen, char *out, size_t cap);

/* The domain name embedded in RDATA that additional-section processing
 * follows (NS, MX, SRV, KX, AFSDB targets; CNAME/DNAME/PTR targets): returns
 * a pointer into rdata or NULL for types that have none. */
const uint8_t *rdata_target(uint16_t type, const uint8_t *rdata, uint16_t rdlen);

/* Whole record in presentation form: "owner TTL CLASS TYPE RDATA". */
int rr_to_text(const uint8_t *owner, uint16_t type, uint16_t rclass, uint32_t ttl,
	       const uint8_t *rdata, uint16_t rdlen, char *out, size_t cap);

#endif
