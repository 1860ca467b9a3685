/* cache — the resolver's answer cache: sanitised upstream responses kept in wire form, served back with patched header, question case and TTLs.
 *
 * WHAT IS CACHED. One entry per key (lowercased qname, qtype, qclass, DO,
 * CD). cache_store takes an upstream response and the key of the query that
 * was sent, and refuses (returning a reason, also counted) anything that is
 * not a plain answer to that question: not a response, opcode ≠ QUERY, TC
 * set, RCODE other than NOERROR/NXDOMAIN, QDCOUNT ≠ 1 or a question that
 * differs from the key, meta qtypes (ANY, AXFR, IXFR, OPT, MAILA/B),
 * malformed wire data (msg_parse), referrals and negative answers without
 * an SOA, entries over cfg.max_entry octets, a TTL of 0. What is kept:
 *  - answer: the chain from the qname: CNAMEs followed (≤ 16 hops), DNAMEs
 *    whose owner is an ancestor of a chain name, the qtype RRset at the end,
 *    and RRSIGs at those owners covering kept types. Everything else in the
 *    answer section (unrelated names: a classic injection vector) is dropped;
 *  - authority: the SOA of a negative answer (owner an ancestor of, or
 *    equal to, the last chain name: RFC 2308 requires it, and a negative
 *    answer without one is not cached); NSEC/NSEC3 records below the zone
 *    (the SOA owner and the signer names of kept answer RRSIGs, i.e. the
 *    zones of the chain: wildcard proofs); RRSIGs covering kept authority
 *    RRsets. NS records are dropped;
 *  - without DO in the key: no RRSIG, NSEC or NSEC3 (unless that is the
 *    qtype): the resolver may ask upstream with DO to validate, a client
 *    that did not set DO must not get them (RFC 4035 §3.2.1);
 *  - additional: nothing (glue is not checked against any bailiwick here, and
 *    the upstream's OPT is never kept: lookups write their own).
 * The kept RRs are re-encoded (msg_wr, compressed) behind a header and the
 * lowercased question; the entry records the offset of every TTL field and
 * the RRset boundaries. TTLs are stored already clamped: each RR's TTL goes
 * to [min_ttl, max_ttl] (a TTL with the top bit set counts as 0, RFC 2181
 * §8); in a negative answer the SOA's TTL becomes min(SOA TTL, SOA MINIMUM)
 * (RFC 2308 §5) clamped to [min_ttl, neg_max_ttl] (neg_max_ttl wins over
 * min_ttl), and the other RRs of a negative entry are clamped to
 * neg_max_ttl as well. The entry lives for the smallest stored TTL (its
 * "ttl").
 *
 * SERVING. cache_lookup copies the stored message into the caller's buffer
 * and patches it: the client's ID; flags QR|RA, the stored RCODE, the
 * client's RD and CD, AD only when the upstream set it and the client sent
 * DO or AD (RFC 6840 §5.7), AA never; the client's question bytes (same
 * length as the key, only case may differ; compression pointers into the
 * question stay valid); every TTL minus the age (never below 0) or, for a
 * stale answer, cfg.stale_ttl (30, RFC 8767 §4); an OPT RR for EDNS
 * clients (UDP size cfg.edns_udp, DO echoed when the entry was stored with
 * DO, i.e. when the client sent DO, plus EDE 3 "Stale Answer" on stale
 * answers). When the message does not fit the client's limit, whole RRsets
 * are dropped from the end (RFC 2181 §9) and TC is set; since only needed
 * records are stored, any drop sets TC.
 *
 * LIFETIME. With now measured in monotonic seconds (the caller passes it to
 * every call; the cache never reads a clock), an entry stored at t with ttl
 * T is fresh while now < t + T, stale while now < t + T + stale_window
 * (RFC 8767; 0 disables serve-stale), dead afterwards (removed when seen).
 * A normal lookup of a stale entry is a miss that sets CACHE_STALE_AVAIL;
 * after the upstreams failed the caller looks again with CACHE_ALLOW_STALE.
 * Prefetch: a fresh hit sets CACHE_PREFETCH when the entry's remaining TTL
 * is below prefetch_pct % of its ttl and it has been hit ≥ prefetch_hits
 * times since stored; once per entry (a new cache_store for the key
 * replaces the entry and re-arms it).
 *
 * MEMORY AND EVICTION. cfg.size bytes bound the sum of every entry's
 * allocation (header + tables + message, malloc overhead included) and the
 * hash bucket arrays, split evenly over the shards. A typical A answer
 * costs 136 octets all told (1M names: +130 MiB RSS). A store makes one
 * malloc (the entry) outside the lock; a lookup allocates nothing. Eviction is SIEVE
 * (Zhang et al., NSDI 2024): entries sit in a FIFO queue, a hit only sets a
 * "visited" bit, and the evicting hand walks from the oldest end clearing
 * visited bits and evicting the first unvisited (or dead) entry. Chosen
 * over LRU because a hit never relinks anything (cheaper inside the lock,
 * no pointer writes on the hot path), and over CLOCK/LRU because new
 * entries that are never hit again (one-hit wonders, the bulk of resolver
 * traffic) leave quickly while hot entries survive scans.
 *
 * CONCURRENCY. Shared mode (cfg.shared = true): one cache for all worker
 * threads, split into cfg.shards shards chosen by key hash, each with its
 * own mutex, hash table, SIEVE queue and byte budget. Every call takes at
 * most one shard lock for a short, bounded time (a lookup: hash walk,
 * memcpy ≤ max_entry, patch), so with shards ≫ threads contention is rare,
 * and all workers see every answer (a per-worker cache would resolve each
 * name once per worker and hold N copies). Per-worker mode (shared =
 * false): no locking at all; the caller makes one cache per thread with
 * size/N each and never shares it. cache_bench measures both: on the
 * 2-vCPU development VM (busy) a single thread costs the same either way
 * (about 60-70 ns for one hot name, 150-200 CPU ns per operation over a
 * 100k-name Zipf set), and with 2 threads the two modes stay within the
 * run-to-run noise of each other (±20 %): the shard lock is not the
 * bottleneck, the cache misses of the entries are. Shared is therefore
 * the recommended mode: same speed, 1/N of the memory, one upstream fetch
 * per name instead of one per worker, and prefetch/serve-stale state seen
 * by every worker.
 *
 * OWNERSHIP. The cache owns its entries. Every pointer argument is borrowed
 * for the duration of the call only; lookups copy into the caller's buffer.
 * cache_free must not race with other calls. */
#ifndef ANTIDOTE_RESOLVE_CACHE_H
#define ANTIDOTE_RESOLVE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/msg.h"

/* Largest entry (stored message) accepted, whatever cfg.max_entry says. */
#define CACHE_MAX_ENTRY 16384
/* Most RRs one entry keeps. */
#define CACHE_MAX_RRS 255

typedef struct cache_cfg {
	size_t size;           /* byte budget (e.g. --cache-size); 0 = 64 MiB */
	uint32_t min_ttl;      /* --min-ttl (default 0) */
	uint32_t max_ttl;      /* --max-ttl; 0 = 86400 */
	uint32_t neg_max_ttl;  /* clamp for negative TTLs; 0 = 3600 */
	uint32_t stale_window; /* seconds kept after expiry; default via
				* cache_cfg_default: 86400; 0 = no serve-stale */
	uint32_t stale_ttl;    /* TTL of stale answers; 0 = 30 */
	uint32_t prefetch_pct; /* prefetch below this % of ttl left; 0 = off */
	uint32_t prefetch_hits;/* ... and after this many hits (≥ 1) */
	uint16_t max_entry;    /* largest stored message; 0 = 4096 */
	uint16_t edns_udp;     /* UDP size in our OPT; 0 = 1232 */
	unsigned shards;       /* rounded up to a power of two; 0 = 64 (shared)
				* or 1 (per-worker) */
	bool shared;           /* true: lock-striped, for many threads */
} cache_cfg;

/* Defaults: 64 MiB, TTLs [0, 86400], negative ≤ 3600, stale window 1 day
 * with TTL 30, prefetch below 10 % after 3 hits, 4 KiB entries, shared with
 * 64 shards. */
void cache_cfg_default(cache_cfg *cfg);

/* Parses a --cache-size value: a byte count, optionally followed by K, M
 * or G (also KiB/MiB/GiB, any case; binary multiples): "1048576",
 * "256M", "1GiB". Returns 0 with *out set, or DNS_ESYNTAX/DNS_ERANGE. */
int cache_size_parse(const char *s, size_t *out);

typedef struct cache cache;

/* NULL on allocation failure or nonsense cfg (size too small for one
 * entry per shard). Zero fields take the defaults noted above. */
cache *cache_new(const cache_cfg *cfg);
void cache_free(cache *c);

/* The key of a query: qname in wire form (any case, uncompressed, a
 * well-formed name of qname_len octets), qtype, qclass, and the DO and CD
 * bits of the query sent upstream (answers differ with them). */
typedef struct cache_key {
	const uint8_t *qname;
	uint8_t qname_len;
	uint16_t qtype, qclass;
	bool do_bit, cd_bit;
} cache_key;

/* Key of a parsed query (msg_parse_query): DO from its OPT, CD from its
 * header. q must have a question (qname_len > 0). */
void cache_key_from_msg(cache_key *k, const msg *q);

/* cache_store's verdicts. 0 = stored; the others are refusals, each
 * counted in cache_stats.refused[]. */
enum cache_reason {
	CACHE_STORED = 0,
	CACHE_R_MALFORMED, /* msg_parse failed, or not a QUERY response */
	CACHE_R_TC,        /* truncated response */
	CACHE_R_RCODE,     /* RCODE other than NOERROR/NXDOMAIN */
	CACHE_R_MISMATCH,  /* question ≠ key (or QDCOUNT ≠ 1) */
	CACHE_R_QTYPE,     /* meta qtype: ANY, AXFR, IXFR, OPT, MAILA, MAILB */
	CACHE_R_NOSOA,     /* negative/referral/incomplete chain without SOA */
	CACHE_R_TOOBIG,    /* over max_entry octets or CACHE_MAX_RRS RRs */
	CACHE_R_TTL0,      /* TTL 0 after clamping */
	CACHE_R_NOMEM,     /* allocation failed */
	CACHE_R_COUNT
};
const char *cache_reason_name(int reason);

/* Stores the upstream response resp (len octets) as the answer for key k,
 * replacing any entry for k (which re-arms prefetch). now: monotonic
 * seconds. Returns CACHE_STORED (0) or a refusal reason (> 0); never
 * negative. May evict entries to stay within the byte budget. */
int cache_store(cache *c, const cache_key *k, const uint8_t *resp, size_t len, uint32_t now);

/* cache_lookup options and result flags. */
enum cache_lookup_flags {
	CACHE_ALLOW_STALE = 1u << 0, /* opts: serve an expired entry within the
				      * stale window (upstreams failed) */
	CACHE_STALE = 1u << 1,       /* out: the answer is stale (TTLs = stale_ttl) */
	CACHE_PREFETCH = 1u << 2,    /* out: fresh hit, refresh this key now */
	CACHE_TRUNC = 1u << 3,       /* out: RRsets dropped, TC set */
	CACHE_NEGATIVE = 1u << 4,    /* out: NXDOMAIN or NODATA answer */
	CACHE_STALE_AVAIL = 1u << 5, /* out (miss): a stale entry exists */
};

/* Looks up q's key (cache_key_from_msg) and on a hit writes the response
 * for q into out: at most min(limit, cap) octets, limit being the client's
 * size (512 for plain UDP, min(EDNS size, ours) for EDNS UDP, 65535 for
 * TCP). q must come from msg_parse_query with one question, and its EDNS
 * version must be 0 (BADVERS is the caller's job). *flags_out (may be
 * NULL) receives enum cache_lookup_flags. Returns the response length
 * (> 0), 0 on a miss, or DNS_ESPACE when min(limit, cap) cannot hold even
 * the header, question and OPT. */
int cache_lookup(cache *c, const msg *q, uint32_t now, unsigned opts,
		 size_t limit, uint8_t *out, size_t cap, unsigned *flags_out);

/* Removes the entry for k if present (e.g. after the caller learned it is
 * bogus). Returns true when one was removed. */
bool cache_remove(cache *c, const cache_key *k);

typedef struct cache_stats {
	uint64_t entries;     /* live entries (fresh or stale) */
	uint64_t bytes;       /* charged bytes (entries + bucket arrays) */
	uint64_t budget;      /* cfg.size as applied */
	uint64_t hits;        /* fresh answers served */
	uint64_t stale_hits;  /* stale answers served */
	uint64_t misses;
	uint64_t prefetches;  /* CACHE_PREFETCH signals */
	uint64_t truncated;   /* answers served with TC */
	uint64_t stores;      /* entries stored (replacements included) */
	uint64_t replaced;    /* stores that replaced an entry for the key */
	uint64_t evictions;   /* removed by SIEVE to make room */
	uint64_t expired;     /* removed because dead (past the stale window) */
	uint64_t refused[CACHE_R_COUNT]; /* refused stores by reason */
} cache_stats;

/* Sums the shards' counters (each shard locked in turn: the figures are
 * not one atomic snapshot). */
void cache_stats_get(cache *c, cache_stats *st);

#endif
