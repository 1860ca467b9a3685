/* answer — authoritative query processing (RFC 1034 §4.3.2, RFC 2308,
 * RFC 4035 §3.1, RFC 5155 §7.2) for `antidote serve`.
 *
 * answer_query() turns one query message into one response message in a
 * caller-owned buffer, or says to drop it. It never allocates: all scratch
 * state lives in the caller's answer_ctx (one per worker thread). The zoneset
 * is only read.
 *
 * Behaviour follows NSD where RFCs leave room (the e2e test compares the two
 * answer by answer): errors before the question is understood (FORMERR,
 * NOTIMP, BADVERS) carry no question section; AA answers carry the zone's NS
 * RRset in authority (except for DS and DNSKEY queries); CNAME chains are
 * followed through every zone served; additional A/AAAA for NS, MX, KX and
 * MB targets come from the same zone; UDP answers are capped at max_udp
 * (default 1232) whatever the client's EDNS buffer; an answer or authority
 * RRset that does not fit is dropped whole and TC set, additional records
 * are dropped silently. */
#ifndef ANTIDOTE_SERVE_ANSWER_H
#define ANTIDOTE_SERVE_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/name.h"
#include "serve/zone.h"

#define ANSWER_DROP (-1)
#define ANSWER_MAXITEMS 256
#define ANSWER_MAXNAMES 64
#define ANSWER_MAXCHAIN 12 /* CNAME/DNAME links followed per query */

typedef struct answer_cfg {
	uint16_t max_udp;     /* largest UDP response with EDNS (default 1232) */
	const uint8_t *nsid;  /* NSID payload (--nsid), NULL for none */
	uint16_t nsid_len;
} answer_cfg;

/* One RRset scheduled for the response. */
typedef struct answer_item {
	const uint8_t *owner;      /* owner to write (may be an expansion) */
	const zone_rrset *rrset;
	const zone_node *sigs;     /* node whose RRSIGs cover rrset, or NULL */
	const zone *z;
	uint32_t ttl;              /* TTL to write when fixed_ttl */
	bool fixed_ttl;            /* negative SOA: ttl for it and its RRSIGs */
	uint8_t section;           /* enum answer_sec */
} answer_item;

typedef struct answer_ctx {
	const answer_cfg *cfg;
	/* per query */
	answer_item items[ANSWER_MAXITEMS];
	unsigned nitems;
	uint8_t names[ANSWER_MAXNAMES][NAME_MAXLEN];
	unsigned nnames;
	zone_rrset synth[ANSWER_MAXCHAIN];
	_Alignas(8) uint8_t synth_rd[ANSWER_MAXCHAIN][sizeof(zone_rdata) + NAME_MAXLEN + 8];
	unsigned nsynth;
	unsigned rcode;
	bool aa;
	bool not_auth;             /* REFUSED: no zone for the name (EDE 20) */
	bool dnssec;               /* DO=1 */
	unsigned chain;            /* CNAME/DNAME links followed */
	/* counters (per worker, read by the owner) */
	uint64_t queries, cache_hits, formerr, refused, nxdomain, dropped;
	struct answer_cache *cache; /* NULL: every answer is built afresh */
} answer_ctx;

/* Response cache: answers are a pure function of (zoneset, qname without
 * case, qtype, EDNS presence, DO, NSID asked, size limit); the ID, the RD
 * bit and the question's case are patched into a copy. One per worker, so
 * no locks. Responses live in a ring of ANSWER_CACHE_RING bytes, overwritten
 * oldest first; a 4-way set-associative index of ANSWER_CACHE_SLOTS entries
 * points into it with 64-bit positions, so an overwritten response can
 * never be mistaken for a live one. Entries of an older zoneset never match
 * (zoneset.gen). Responses over ANSWER_CACHE_MAXRESP are not cached. */
#define ANSWER_CACHE_SLOTS 65536
#define ANSWER_CACHE_RING (8u << 20)
#define ANSWER_CACHE_MAXRESP 4096

/* Initialises c; with_cache allocates the response cache (about 9 MiB).
 * Returns 0 or DNS_ENOMEM. */
int answer_ctx_init(answer_ctx *c, const answer_cfg *cfg, bool with_cache);
void answer_ctx_free(answer_ctx *c);

/* Answers the query (qlen bytes) into out (cap bytes, ≥ 512; 65535 for TCP).
 * tcp selects the size limit. Returns the response length or ANSWER_DROP. */
int answer_query(answer_ctx *c, const zoneset *zs, const uint8_t *q, size_t qlen,
		 uint8_t *out, size_t cap, bool tcp);

#endif
