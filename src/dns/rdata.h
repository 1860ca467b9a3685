/* rdata — RDATA of every supported type: wire <-> presentation form.
 *
 * Storage form: RDATA as on the wire but with every embedded domain name
 * uncompressed (case kept). That is what rdata_unpack produces, what
 * rdata_from_text produces, and what rdata_pack and rdata_to_text consume.
 *
 * Typed handling for A, NS, MD, MF, CNAME, SOA, MB, MG, MR, PTR, HINFO,
 * MINFO, MX, TXT, RP, AFSDB, RT, SIG, KEY, PX, AAAA, LOC, SRV, NAPTR, KX,
 * DNAME, DS, CDS, TA, DLV, SSHFP, RRSIG, NSEC, DNSKEY, CDNSKEY, NSEC3,
 * NSEC3PARAM, TLSA, SMIMEA, SVCB, HTTPS, CAA, URI, SPF, OPENPGPKEY, ZONEMD,
 * CSYNC, DHCID, CERT and IPSECKEY; NXT is checked on the wire but is \#-only
 * in text; every other type is opaque and uses RFC 3597 `\# len hex` in
 * text. The `\#` form is accepted for every type (checked against the
 * type's structure; names inside it must be uncompressed).
 *
 * Name compression on write follows RFC 3597 §4: only the names of NS, MD,
 * MF, CNAME, SOA, MB, MG, MR, PTR, MINFO and MX are compressed; on read,
 * compressed names are also accepted in RP, AFSDB, RT, SIG, PX, NXT, NAPTR,
 * KX, SRV and DNAME, and nowhere else (a pointer elsewhere is DNS_EFORMAT).
 *
 * Validation is the same on both paths, so anything rdata_unpack accepts
 * prints with rdata_to_text and parses back with rdata_from_text to the
 * identical storage (fuzz_rdata checks this). Notable rules: RDATA must be
 * consumed exactly; TXT/SPF need at least one string; NSEC/NSEC3/CSYNC type
 * bitmaps need increasing windows of 1..32 octets without a trailing zero
 * octet; NSEC3 next-hash is non-empty; CAA tags are 1+ letters/digits;
 * IPSECKEY gateway types are 0..3; SVCB/HTTPS SvcParams (RFC 9460) must
 * have strictly increasing keys (text is sorted on input), no key 65535,
 * well-formed values for keys 0-6 and every "mandatory" key present.
 *
 * Text conventions (close to dig/ldns): names absolute; character-strings
 * always quoted with \" \\ and \DDD escapes; hex upper-case without
 * spaces (DS, SSHFP, TLSA, NSEC3 salt, \# data); base64 without spaces;
 * RRSIG times as YYYYMMDDHHmmSS (plain integers accepted on input); DNSSEC
 * algorithms printed as numbers (mnemonics accepted); CERT type as a
 * mnemonic; SOA timers printed as seconds (1h30m style accepted);
 * SvcParams as key=value unquoted, with \DDD for blanks, quotes, ';', '(',
 * ')' and '\' (value lists use RFC 9460's "\," inside an item); LOC as
 * "d m s.sss N d m s.sss E alt.ccm size hp vp" (RFC 1876; a non-canonical
 * LOC, e.g. version != 0, prints as \#). NULL, NXT and every type without
 * typed support (WKS, APL, EUI48, ...) print as `\# len HEX`; so does a
 * typed record whose text would be empty (e.g. a DHCID of 0 octets).
 *
 * Tokens: rdata_from_text treats an unquoted "\#" first token as RFC 3597
 * form. For SvcParams it accepts key=value, key="value" inside one token,
 * and the split form `key=` followed by a quoted token. Base64/hex fields
 * at the end of RDATA may be split over any number of tokens. */
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

/* Parses the RDATA of `type` from ntok tokens; relative names get origin
 * (may be NULL: then relative names are DNS_ESYNTAX). Appends the storage
 * form to out and returns its length (≤ 65535). On failure nothing is
 * appended, a negative code is returned and, when err is non-NULL, err
 * (RDATA_ERRLEN bytes) gets a message naming the bad field and token (no
 * file:line). No allocation, except a rare malloc when SvcParams are given
 * out of key order. */
int rdata_from_text(uint16_t type, const rdata_tok *tok, size_t ntok,
		    const uint8_t *origin, wire_wr *out, char *err);

/* Reads rdlen bytes of RDATA at r (r->msg is the message, for pointers),
 * validates the type's structure and appends the storage form to out.
 * Returns the storage length (may exceed rdlen after decompression, never
 * more than 65535). On success r has moved past the RDATA; on failure the code is
 * returned and also left in r->err, and nothing is appended to out. Codes:
 * DNS_ETRUNC (message shorter than rdlen), DNS_EFORMAT (structure), DNS_EPTR /
 * DNS_ELABEL / DNS_ENAMELEN (names), DNS_ESPACE (out full). */
int rdata_unpack(uint16_t type, wire_rd *r, uint16_t rdlen, wire_wr *out);

/* Writes storage-form RDATA (without the RDLENGTH field) to w, compressing
 * names against ct for the RFC 3597 well-known types when ct is non-NULL.
 * Returns 0, w->err, or DNS_EFORMAT for corrupt storage. */
int rdata_pack(uint16_t type, const uint8_t *rdata, uint16_t rdlen, wire_wr *w, name_ctab *ct);

/* Presentation form of storage-form RDATA, NUL-terminated, one line.
 * Returns the length or a negative code (DNS_ESPACE if cap is too small,
 * DNS_EFORMAT for corrupt storage). Worst case is about 4 chars per RDATA
 * octet (\DDD in strings), so 4 * rdlen + 64 always suffices. */
int rdata_to_text(uint16_t type, const uint8_t *rdata, uint16_t rdlen, char *out, size_t cap);

/* The domain name embedded in RDATA that additional-section processing
 * follows (NS, MX, SRV, KX, AFSDB targets; CNAME/DNAME/PTR targets): returns
 * a pointer into rdata or NULL for types that have none. */
const uint8_t *rdata_target(uint16_t type, const uint8_t *rdata, uint16_t rdlen);

/* Whole record in presentation form, tab-separated on one line:
 * "owner<TAB>TTL<TAB>CLASS<TAB>TYPE<TAB>RDATA"; no trailing newline. */
int rr_to_text(const uint8_t *owner, uint16_t type, uint16_t rclass, uint32_t ttl,
	       const uint8_t *rdata, uint16_t rdlen, char *out, size_t cap);

#endif
