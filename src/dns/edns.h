/* edns — EDNS(0) (RFC 6891): the OPT pseudo-RR, its options, extended RCODE.
 *
 * Reading: msg_parse/msg_parse_query (msg.h) find the OPT RR and call
 * edns_parse, which fills an `edns` view. Writing: edns_write appends an OPT
 * RR described by an `edns_out` to a wire_wr (msg_wr_edns in msg.h does the
 * same and also counts it in ARCOUNT).
 *
 * OPT wire layout: owner "." (0x00), TYPE 41, CLASS = requestor's UDP payload
 * size, TTL = ext-rcode(8) | version(8) | DO(1) Z(15), RDLENGTH, then options
 * as {code u16, length u16, data}.
 *
 * Extended RCODE: the full RCODE is 12 bits; its low 4 bits live in the
 * header, the high 8 in the OPT TTL: rcode = (ext << 4) | (hdr rcode). */
#ifndef ANTIDOTE_DNS_EDNS_H
#define ANTIDOTE_DNS_EDNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/wire.h"

/* Smallest UDP payload size EDNS may advertise; smaller values are read
 * (and written) as 512 (RFC 6891 §6.2.3). */
#define EDNS_MIN_UDP 512
/* DO bit ("DNSSEC OK", RFC 3225) in edns.flags / edns_out.flags: the top bit
 * of the 16-bit flags half of the OPT TTL. The other 15 bits are Z. */
#define EDNS_DO 0x8000u

/* Option codes (IANA "DNS EDNS0 Option Codes"). */
enum edns_opt_code {
	EDNS_OPT_LLQ = 1,
	EDNS_OPT_UL = 2,
	EDNS_OPT_NSID = 3,       /* RFC 5001 */
	EDNS_OPT_DAU = 5,
	EDNS_OPT_DHU = 6,
	EDNS_OPT_N3U = 7,
	EDNS_OPT_ECS = 8,        /* RFC 7871 client subnet */
	EDNS_OPT_EXPIRE = 9,
	EDNS_OPT_COOKIE = 10,    /* RFC 7873 */
	EDNS_OPT_KEEPALIVE = 11, /* RFC 7828 */
	EDNS_OPT_PADDING = 12,   /* RFC 7830 */
	EDNS_OPT_CHAIN = 13,
	EDNS_OPT_KEYTAG = 14,
	EDNS_OPT_EDE = 15,       /* RFC 8914 extended DNS error */
};

/* Bits of edns.opts: which known options were seen. */
enum edns_has {
	EDNS_HAS_NSID = 1u << 0,
	EDNS_HAS_ECS = 1u << 1,
	EDNS_HAS_COOKIE = 1u << 2,
	EDNS_HAS_PADDING = 1u << 3,
	EDNS_HAS_EDE = 1u << 4,
};

/* Cookie sizes (RFC 7873 §4): an 8-octet client cookie, optionally followed
 * by an 8..32-octet server cookie. */
#define EDNS_COOKIE_CLIENT 8
#define EDNS_COOKIE_MAX 40

/* Padding block sizes recommended by RFC 8467 §4.1. */
#define EDNS_PAD_QUERY 128
#define EDNS_PAD_RESPONSE 468

/* ECS address families (IANA address family numbers). */
#define EDNS_ECS_IPV4 1
#define EDNS_ECS_IPV6 2

/* EDNS Client Subnet (RFC 7871 §6). addr holds the address left-aligned and
 * zero-filled to 16 octets; on the wire only ceil(source/8) octets travel. */
typedef struct edns_ecs {
	uint16_t family; /* EDNS_ECS_IPV4 or EDNS_ECS_IPV6 */
	uint8_t source;  /* SOURCE PREFIX-LENGTH: ≤ 32 (v4) / 128 (v6) */
	uint8_t scope;   /* SCOPE PREFIX-LENGTH: 0 in queries (not enforced) */
	uint8_t addr[16];
} edns_ecs;

/* A parsed OPT RR.
 *
 * When `present` is false only udp_size (512), flags, version, ext_rcode and
 * opts (all 0) are set; every other field is undefined. When present, an
 * option's fields are valid only if its EDNS_HAS_* bit is set in `opts`
 * (nothing else is initialised: the struct is filled on the hot path).
 *
 * Borrowed pointers (nsid, ede_text, rdata) point into the message buffer
 * given to the parser and are valid only while it is. */
typedef struct edns {
	bool present;
	uint8_t version;   /* ≠ 0: the caller should answer BADVERS; options are
			    * then NOT parsed (their format is version-specific) */
	uint8_t ext_rcode; /* high 8 bits of the 12-bit RCODE */
	uint16_t udp_size; /* CLASS, raised to EDNS_MIN_UDP */
	uint16_t flags;    /* EDNS_DO and Z bits */
	uint16_t opts;     /* EDNS_HAS_* */
	uint16_t nopts;    /* number of options, unknown ones included */
	const uint8_t *rdata; /* the OPT RDATA (all options, raw) */
	uint16_t rdlen;
	/* COOKIE: 8 (client only) or 16..40 octets (client + server). */
	uint8_t cookie_len;
	uint8_t cookie[EDNS_COOKIE_MAX];
	/* NSID: empty in a query (a non-empty one is accepted, and the data
	 * exposed); the server's identifier in a response. */
	const uint8_t *nsid;
	uint16_t nsid_len;
	/* PADDING: total padding octets seen (content is ignored, RFC 7830). */
	uint16_t padding_len;
	/* EDE: first Extended DNS Error (info code + UTF-8 text, not NUL
	 * terminated). */
	uint16_t ede_code;
	uint16_t ede_len;
	const uint8_t *ede_text;
	edns_ecs ecs;
} edns;

/* Fills e from the OPT RR's CLASS, TTL and RDATA (rdlen octets at rdata;
 * the owner name and the RR's position are the caller's business).
 * Option rules (FORMERR-worthy failures return DNS_EFORMAT):
 *  - an option header or body running past RDLENGTH;
 *  - COOKIE of length < 8, 9..15 or > 40, or a second COOKIE;
 *  - ECS: length < 4, family other than 1/2, source or scope prefix longer
 *    than the family's address, address length ≠ ceil(source/8), nonzero
 *    bits beyond the source prefix, or a second ECS;
 *  - EDE shorter than 2 octets.
 * Unknown options are skipped. With version ≠ 0 the options are not looked
 * at (e->opts = 0, e->nopts = 0). Returns 0 or DNS_EFORMAT. */
int edns_parse(edns *e, uint16_t rclass, uint32_t ttl, const uint8_t *rdata, uint16_t rdlen);

/* What edns_write emits. Zero-initialise, then set what you need:
 *   edns_out o = { .udp_size = 1232, .flags = q->edns.flags & EDNS_DO };
 * Options come out in this order: NSID, COOKIE, ECS, EDE, raw, PADDING. */
typedef struct edns_out {
	uint16_t udp_size;  /* < 512 is written as 512 */
	uint16_t rcode;     /* full 12-bit RCODE; only rcode >> 4 is written
			     * here, the low 4 bits belong in the header */
	uint8_t version;
	uint16_t flags;     /* EDNS_DO (echo the query's DO in responses) */
	bool nsid;          /* emit NSID with nsid_len octets of nsid_data
			     * (nsid_len 0 = the empty NSID of a query) */
	uint16_t nsid_len;
	const uint8_t *nsid_data;
	uint8_t cookie_len; /* 0 = none, else 8 or 16..40 */
	const uint8_t *cookie;
	bool ecs;           /* emit ECS from `ecs_val` (address bytes beyond
			     * the source prefix are masked off) */
	edns_ecs ecs_val;
	bool ede;           /* emit an Extended DNS Error */
	uint16_t ede_code;
	uint16_t ede_len;
	const char *ede_text;
	const uint8_t *raw; /* extra options, already encoded as TLVs */
	uint16_t raw_len;
	uint16_t pad_block; /* > 0: add PADDING so the message, OPT included,
			     * ends at a multiple of pad_block octets (RFC 8467
			     * block-length padding); padding is cut short
			     * when the writer has less room. The OPT must then
			     * be the last thing written (TSIG excepted). */
} edns_out;

/* Size of the OPT RR edns_write would produce, padding not counted. Use it
 * to keep room for the OPT while adding answers (msg_wr_reserve). */
size_t edns_size(const edns_out *o);

/* Appends the OPT RR to w. Returns 0, DNS_EINVAL (bad cookie length, ECS
 * family or prefix) or DNS_ESPACE; on failure nothing is left written (w is
 * back where it was, with no error set) unless w already had an error, which
 * is returned unchanged. Does not touch any header count. */
int edns_write(wire_wr *w, const edns_out *o);

/* The 12-bit extended RCODE split (RFC 6891 §6.1.3). */
static inline unsigned edns_rcode_join(uint8_t ext_rcode, unsigned hdr_rcode)
{
	return (unsigned)ext_rcode << 4 | (hdr_rcode & 0xfu);
}
static inline uint8_t edns_rcode_ext(unsigned rcode) { return (uint8_t)(rcode >> 4); }
static inline unsigned edns_rcode_hdr(unsigned rcode) { return rcode & 0xfu; }

/* Text for an option code ("NSID", "COOKIE", ... or NULL when unknown). */
const char *edns_opt_name(uint16_t code);

#endif
