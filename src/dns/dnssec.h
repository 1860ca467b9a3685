/* dnssec — DNSSEC signature verification: key tags, DS digests, RRSIG checks.
 *
 * This is the cryptographic half of validation (RFC 4033-4035, 6840): given
 * an RRset, one RRSIG and one DNSKEY, is the signature good right now? The
 * chain of trust (which keys to trust, NSEC/NSEC3 denial proofs, caching) is
 * the caller's job; see "USE" below.
 *
 * VERDICTS. Verification calls return an enum dnssec_status value (≥ 0), or
 * a negative DNS_E* code only for caller mistakes (DNS_EINVAL: NULL/absurd
 * arguments; DNS_ESPACE: the scratch buffer cannot hold the canonical
 * RRset — with DNSSEC_SCRATCH octets that needs an RRset whose canonical
 * form exceeds ~64 KiB). After every call ctx->why.reason is a short static
 * text saying why (e.g. "signature does not verify", "signer is not an
 * ancestor of the owner"), so a resolver can explain each verdict;
 * dnssec_status_name() names the status itself.
 *
 * CANONICAL FORM (RFC 4034 §6, RFC 6840 §5.1). Signed data = RRSIG RDATA
 * without the signature (signer name lowercased) followed by every RR of the
 * set as owner | type | class | original TTL | RDLENGTH | RDATA with:
 *  - the owner lowercased; when the owner has more labels than the RRSIG's
 *    Labels field the RRset came from a wildcard and the signed owner is
 *    "*." + the Labels rightmost labels of the owner (ctx->why.wildcard is
 *    then set: the caller MUST also check the NSEC/NSEC3 proof that no closer
 *    name exists, RFC 4035 §5.3.4); more RRSIG labels than owner labels is
 *    bogus;
 *  - names inside RDATA lowercased for NS MD MF CNAME SOA MB MG MR PTR MINFO
 *    MX RP AFSDB RT SIG PX NXT NAPTR KX SRV DNAME A6 RRSIG (not NSEC, not
 *    HINFO: RFC 6840 §5.1), names always uncompressed;
 *  - the RRs sorted by canonical RDATA (octet strings, a prefix first) and
 *    exact duplicates dropped;
 *  - the TTL of every RR replaced by the RRSIG's Original TTL (so the TTL an
 *    RR arrives with never matters).
 *
 * CHECKS in dnssec_verify_* (first failure wins, cheap ones first):
 *  1. RRSIG RDATA well-formed (≥ 18 octets + signer + non-empty signature)
 *     else MALFORMED; Type Covered = the RRset's type else MALFORMED;
 *  2. algorithm supported (dnssec_alg_supported) else UNSUPPORTED;
 *  3. Labels ≤ owner's labels and signer = owner or an ancestor (the zone)
 *     else BOGUS;
 *  4. the key: owner = signer, algorithm and key tag = the RRSIG's, Zone Key
 *     flag (0x0100) set and protocol 3, else NO_KEY; key material that does
 *     not parse (bad RSA/EC encoding, point not on the curve) is MALFORMED;
 *  5. time: inception ≤ now ≤ expiration in RFC 1982 serial arithmetic
 *     (RFC 4034 §3.1.5), so 32-bit times keep working after 2106: EXPIRED /
 *     NOT_YET_VALID;
 *  6. the signature itself, through OpenSSL's EVP_DigestVerify: BOGUS.
 *
 * ALGORITHMS. 8 RSASHA256, 10 RSASHA512, 13 ECDSAP256SHA256, 14
 * ECDSAP384SHA384, 15 ED25519, 16 ED448, and 5 RSASHA1 / 7
 * RSASHA1-NSEC3-SHA1, which are ACCEPTED: RFC 8624 says validators MUST
 * still validate them, and the known SHA-1 weakness (chosen-prefix
 * collisions) needs the victim zone to sign attacker-chosen data, which an
 * on-path injector cannot obtain; a forged reply still cannot carry a valid
 * RSASHA1 signature. RSA moduli must be 512..4096 bits (larger: UNSUPPORTED,
 * it bounds the CPU an RRSIG costs), exponents at most 64 bits. Everything
 * else (1 RSAMD5, 3/6 DSA, 12 GOST, private algorithms...) is UNSUPPORTED.
 * DS digest types: 1 SHA-1, 2 SHA-256, 4 SHA-384.
 *
 * UNSUPPORTED IS NOT INSECURE BY ITSELF. RFC 4035 §5.2 treats a zone as
 * insecure when its parent's DS RRset lists no supported algorithm (or
 * digest): decide that from the DS RRset (dnssec_alg_supported,
 * dnssec_digest_supported). An answer in a zone already known to be signed
 * with a supported algorithm whose RRSIGs are all UNSUPPORTED (or absent:
 * DNSSEC_UNSIGNED) is bogus — an injector can always add junk RRSIGs.
 *
 * MEMORY. Nothing here calls malloc itself: canonical forms are built in a
 * caller-owned scratch buffer (ctx->scratch). OpenSSL allocates inside
 * (EVP_PKEY, EVP_MD_CTX) unless the key was loaded once with
 * dnssec_key_load, which keeps its EVP_PKEY in the dnssec_key. Functions are
 * reentrant; a dnssec_ctx belongs to one thread at a time; a loaded
 * dnssec_key may be shared by threads (OpenSSL 3 EVP_PKEYs are safe for
 * concurrent verification). The OpenSSL error queue is cleared after a
 * failed crypto call.
 *
 * USE (resolver): parse the upstream reply with msg_parse, group a section
 * with dnssec_group, and for every set call dnssec_verify_set with the
 * trusted DNSKEYs of the zone (an array of dnssec_key built with
 * dnssec_key_init, owner + RDATA borrowed from the caller's cache). */
#ifndef ANTIDOTE_DNS_DNSSEC_H
#define ANTIDOTE_DNS_DNSSEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/msg.h"

enum dnssec_status {
	DNSSEC_OK = 0,          /* a signature verified: the RRset is authentic */
	DNSSEC_BOGUS,           /* bad signature, or RRSIG inconsistent with the RRset */
	DNSSEC_EXPIRED,         /* now is after the RRSIG's expiration */
	DNSSEC_NOT_YET_VALID,   /* now is before the RRSIG's inception */
	DNSSEC_NO_KEY,          /* no given DNSKEY matches signer, algorithm and key tag */
	DNSSEC_UNSUPPORTED,     /* algorithm (or DS digest type) not implemented */
	DNSSEC_MALFORMED,       /* RRSIG/DNSKEY/RDATA that does not parse */
	DNSSEC_UNSIGNED,        /* dnssec_verify_set: no RRSIG covers the RRset */
};

/* RRSIG/DNSKEY algorithm numbers (RFC 8624 table). */
enum dnssec_alg {
	DNSSEC_RSAMD5 = 1, DNSSEC_DSA = 3, DNSSEC_RSASHA1 = 5, DNSSEC_DSANSEC3 = 6,
	DNSSEC_RSASHA1NSEC3 = 7, DNSSEC_RSASHA256 = 8, DNSSEC_RSASHA512 = 10,
	DNSSEC_GOST = 12, DNSSEC_ECDSAP256 = 13, DNSSEC_ECDSAP384 = 14,
	DNSSEC_ED25519 = 15, DNSSEC_ED448 = 16,
};

/* DS digest types. */
enum dnssec_digest { DNSSEC_DS_SHA1 = 1, DNSSEC_DS_SHA256 = 2, DNSSEC_DS_SHA384 = 4 };

#define DNSSEC_KEY_ZONE 0x0100u   /* DNSKEY flags: Zone Key */
#define DNSSEC_KEY_REVOKE 0x0080u /* RFC 5011 */
#define DNSSEC_KEY_SEP 0x0001u    /* Secure Entry Point (KSK hint only) */
#define DNSSEC_DIGEST_MAX 48      /* longest DS digest (SHA-384) */
/* Scratch size that holds the canonical form of any RRset whose canonical
 * RRs total ≤ 64 KiB (three regions: RDATA, sort index, signed data). */
#define DNSSEC_SCRATCH (200u * 1024u)

/* Static lower-case name of a status ("ok", "bogus", "expired",
 * "not-yet-valid", "no-key", "unsupported", "malformed", "unsigned"), or
 * dns_strerror() of a negative code. Never NULL. */
const char *dnssec_status_name(int status);
/* Algorithms and digest types this module verifies. */
bool dnssec_alg_supported(uint8_t alg);
bool dnssec_digest_supported(uint8_t digest_type);

/* Details of the last verdict (filled by every verify call). */
typedef struct dnssec_why {
	const char *reason;   /* static text, never NULL after a call */
	uint16_t tag;         /* key tag of the RRSIG examined (0 if none) */
	uint8_t alg;          /* its algorithm */
	bool wildcard;        /* OK: the RRset was expanded from a wildcard */
	uint8_t labels;       /* OK: the RRSIG's Labels (the wildcard is "*." +
	                       * that many rightmost owner labels) */
	uint32_t ttl;         /* OK: longest TTL the RRset may be cached:
	                       * min(Original TTL, expiration - now) */
} dnssec_why;

/* Per-call environment. Owned by the caller, one thread at a time. */
typedef struct dnssec_ctx {
	uint32_t now;         /* validation time: seconds since 1970 (mod 2^32) */
	uint8_t *scratch;     /* borrowed; DNSSEC_SCRATCH octets recommended */
	size_t scratch_len;
	dnssec_why why;       /* out */
} dnssec_ctx;

static inline void dnssec_ctx_init(dnssec_ctx *c, uint8_t *scratch, size_t len, uint32_t now)
{
	c->now = now;
	c->scratch = scratch;
	c->scratch_len = len;
	c->why = (dnssec_why){"", 0, 0, false, 0, 0};
}

/* A DNSKEY: owner and RDATA borrowed (must outlive the key), tag computed
 * by dnssec_key_init. pkey is NULL unless dnssec_key_load parsed the key
 * material into an OpenSSL EVP_PKEY, which the key then owns until
 * dnssec_key_unload (call it before dropping a loaded key). A zeroed
 * dnssec_key matches nothing. */
typedef struct dnssec_key {
	const uint8_t *owner; /* uncompressed wire name (any case) */
	const uint8_t *rdata; /* flags(2) protocol(1) algorithm(1) public key */
	uint16_t rdlen;
	uint16_t tag;
	void *pkey;           /* EVP_PKEY *, owned, or NULL */
} dnssec_key;

/* Key tag of DNSKEY RDATA (RFC 4034 App. B; the App. B.1 rule for
 * algorithm 1). 0 for RDATA shorter than 4 octets. */
uint16_t dnssec_key_tag(const uint8_t *rdata, size_t rdlen);
/* Fills k (pkey = NULL). 0, or DNS_EFORMAT when rdlen < 4 (k then matches
 * nothing). */
int dnssec_key_init(dnssec_key *k, const uint8_t *owner, const uint8_t *rdata, uint16_t rdlen);
/* Parses the public key once so later verifications skip it. Returns
 * DNSSEC_OK, DNSSEC_UNSUPPORTED or DNSSEC_MALFORMED (k->pkey stays NULL). */
int dnssec_key_load(dnssec_key *k);
void dnssec_key_unload(dnssec_key *k);

/* DS digest (RFC 4034 §5.1.4, RFC 4509, RFC 6605) of the DNSKEY RDATA
 * under owner: H(lowercased owner | RDATA) into out (≥ DNSSEC_DIGEST_MAX
 * octets is always enough). Returns the digest length, DNS_ETYPE for an
 * unsupported digest type, DNS_ESPACE when cap is too small. */
int dnssec_ds_digest(const uint8_t *owner, const uint8_t *dnskey, uint16_t rdlen,
		     uint8_t digest_type, uint8_t *out, size_t cap);
/* Does the DS RDATA (key tag, algorithm, digest type, digest) designate key
 * (its owner must be the DS owner: the caller pairs them)? DNSSEC_OK;
 * NO_KEY when tag or algorithm differ or the key is not a protocol-3 zone
 * key; BOGUS when the digest differs; UNSUPPORTED digest type; MALFORMED DS
 * (< 5 octets, or digest length wrong for its type). */
int dnssec_ds_match(const uint8_t *ds, uint16_t dslen, const dnssec_key *key);

/* One RRset in storage form (rdata.h: names uncompressed, any case). */
typedef struct dnssec_rdata {
	const uint8_t *p;
	uint16_t len;
} dnssec_rdata;

typedef struct dnssec_rrset {
	const uint8_t *owner;    /* uncompressed wire name, as received */
	uint16_t type, rclass;
	const dnssec_rdata *rd;  /* n entries, any order, duplicates allowed */
	unsigned n;
} dnssec_rrset;

/* Verifies one RRSIG RDATA (storage form) over set with key (see CHECKS). */
int dnssec_verify_stored(dnssec_ctx *c, const dnssec_rrset *set, const uint8_t *rrsig,
			 uint16_t siglen, const dnssec_key *key);

/* The same on a message parsed by msg_parse: idx[0..n) index m->rr (the
 * RRs of one RRset: same owner, type and class, else MALFORMED), sig
 * indexes an RRSIG RR of the same owner and class. RDATA is decompressed
 * into the scratch buffer. */
int dnssec_verify_rrset(dnssec_ctx *c, const msg *m, const uint16_t *idx, unsigned n,
			unsigned sig, const dnssec_key *key);

/* An RRset of a message section found by dnssec_group: its RRs are
 * m->rr[idx[first + i]] for i < n, and the RRSIGs covering it (same owner
 * and class, Type Covered = type) m->rr[idx[sig + i]] for i < nsig. */
typedef struct dnssec_set {
	uint16_t type, rclass;
	uint16_t first, n;
	uint16_t sig, nsig;
	uint16_t rr0;         /* index in m->rr of its first RR (for msg_rr_owner) */
	uint64_t hash;        /* name_hash of the owner (internal) */
} dnssec_set;

/* Groups section sec of m (from msg_parse) into RRsets (RRSIGs are attached
 * to the set they cover; RRSIGs covering nothing present are left out; so
 * is OPT). sets[0..cap) and idx[0..idxcap) are caller-owned; idxcap ≥ the
 * section's RR count always suffices. Returns the number of sets, in order
 * of first appearance, or DNS_ESPACE (too many sets or RRs), DNS_EINVAL.
 * Cost O(RRs × sets). */
int dnssec_group(const msg *m, unsigned sec, dnssec_set *sets, unsigned cap, uint16_t *idx,
		 unsigned idxcap);

/* The DNSKEYs of set s (a dnssec_group set of type DNSKEY) as keys[0..cap):
 * RDATA borrowed from m->wire, the owner copied once into owner
 * (NAME_MAXLEN octets, caller-owned, shared by every key). RDATA shorter
 * than 4 octets is skipped. Returns the number of keys, or DNS_EINVAL (not
 * a DNSKEY set) / DNS_EFORMAT (owner). Typical chain step: keep the keys
 * that dnssec_ds_match a trusted DS, verify the DNSKEY set with them
 * (dnssec_verify_set), then trust all the keys of the set. */
int dnssec_keys_from_set(const msg *m, const dnssec_set *s, const uint16_t *idx, uint8_t *owner,
			 dnssec_key *keys, unsigned cap);

/* Verifies set s against keys[0..nkeys): tries every covering RRSIG with
 * every key whose owner, algorithm and tag match, and returns DNSSEC_OK at
 * the first success (ctx->why describes it). Otherwise the most serious
 * failure seen, in this order: BOGUS, MALFORMED, EXPIRED, NOT_YET_VALID,
 * NO_KEY, UNSUPPORTED; DNSSEC_UNSIGNED when s has no RRSIG. */
int dnssec_verify_set(dnssec_ctx *c, const msg *m, const dnssec_set *s, const uint16_t *idx,
		      const dnssec_key *keys, unsigned nkeys);

#endif
