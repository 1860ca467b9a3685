/* validator — DNSSEC validation of upstream replies for `antidote resolve`:
 * trust anchors, the DS -> DNSKEY key chain learnt in the background, and a
 * per-reply verdict the injection defence (defence.h) turns into a signal.
 *
 * WHY. An on-path injector can copy everything it sees in our query (ID,
 * question, OPT, even the cookie) but cannot sign: an answer whose RRSIG
 * verifies with keys chained to a trust anchor is proof of authenticity,
 * one that fails is proof of forgery.
 *
 * TRUST ANCHORS (val_anchors, shared read-only once loaded): zone-file
 * lines of DS or DNSKEY records (--trust-anchor FILE, e.g. Debian's
 * /usr/share/dns/root.ds). A name is "under an anchor" when it equals or
 * lies below an anchor's owner; nothing else is ever validated (no parse,
 * no work, no allocation for other names).
 *
 * ZONES (per worker, no locks). The validator keeps a small table of zones
 * (VAL_MAX_ZONES, least recently used replaced; anchors never): state
 *   SECURE    validated DNSKEYs (loaded once into OpenSSL keys) until
 *             `expire` = min(DNSKEY set's dnssec_why.ttl, the DS set's);
 *   UNKNOWN   not learnt yet (or expired, or the last fetch failed:
 *             `retry` says when to try again, 5 s later);
 *   INSECURE  a DS query came back without a DS RRset (not proven with
 *             NSEC/NSEC3: treated as "unknown, ask again in 60 s").
 * plus the trusted DS RDATA of the zone (from the anchor, or from a DS set
 * verified by the parent's keys).
 *
 * THE KEY CHAIN. The zone of an answer is the signer name of its RRSIG.
 * To learn the keys of zone Z (validator_check asks when it meets a signer
 * it has no keys for), the validator asks the caller to FETCH (through
 * cfg.fetch, asynchronously; the caller sends it upstream with RD, CD and
 * DO) "Z DNSKEY" when Z has trusted DS or anchor keys, else "Z DS". A DS
 * reply's DS RRset is trusted when it verifies with the keys of its
 * signer P (a strict ancestor of Z under the same anchor); when P's keys
 * are not known yet, P is fetched first and Z waits (its DS is asked
 * again once P is secure). A DNSKEY set is trusted when one of its keys
 * matches a trusted DS (dnssec_ds_match) or an anchor DNSKEY (same RDATA)
 * and the set verifies with that key; then every key of the set is. The
 * caller feeds each reply of a fetch to validator_fetch_reply, which says
 * whether it was usable (VAL_FETCH_DONE: finish the transaction) or not
 * (VAL_FETCH_MORE: keep listening — a forged reply does not verify, the
 * real one may follow); validator_fetch_end when the fetch's transaction
 * ended without a usable reply. Caps: VAL_MAX_FETCH fetches in flight,
 * chains at most VAL_MAX_DEPTH labels below the anchor, cfg.max_verify
 * signature verifications per second per upstream (beyond: no signal).
 *
 * VERDICT (validator_check, one upstream reply of a question under an
 * anchor). The answer section is grouped into RRsets (dnssec_group):
 *   VAL_SECURE  every RRset has RRSIGs, every signer zone is SECURE and
 *               every set verifies (none expanded from a wildcard: the
 *               NSEC/NSEC3 proof is not checked, so a wildcard answer is
 *               VAL_NONE). The (qname, qtype) is remembered as "seen
 *               signed" for the answer's TTL (VAL_SEEN entries).
 *   VAL_BOGUS   some RRset's signer zone is SECURE and the set does not
 *               verify (bad signature, expired, not yet valid, no matching
 *               key, unsupported algorithm only, malformed); or the
 *               (qname, qtype) was seen signed and this answer has an
 *               unsigned RRset, or no RRSIG at all anywhere (a forged
 *               NXDOMAIN/NODATA for a signed name too).
 *   VAL_NONE    anything else: unsigned answers of names never seen signed
 *               (insecure zones look like that), signers whose keys are
 *               being fetched (the fetch result serves later replies),
 *               negative answers (denial proofs are not checked), rate
 *               limit reached.
 * validator_why() explains the last verdict in words ("secure:
 * www.dnssec.test A signed by dnssec.test key 12345 alg 13", "bogus:
 * www.dnssec.test A: signature does not verify", "unsigned answer for a
 * name seen signed").
 *
 * MEMORY. validator_new allocates everything it needs for checks (the
 * msg_rr array, the DNSSEC scratch buffer, the zone table, and the seen
 * table unless cfg.seen shares one: resolve gives every worker the same); a
 * check allocates nothing. Learning a zone's keys copies their RDATA
 * (malloc, once per zone per TTL). */
#ifndef ANTIDOTE_RESOLVE_VALIDATOR_H
#define ANTIDOTE_RESOLVE_VALIDATOR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/name.h"

#define VAL_MAX_SERVERS 256 /* = UP_MAX_SERVERS */

#define VAL_MAX_ANCHORS 64
#define VAL_MAX_ZONES 64
#define VAL_MAX_KEYS 8      /* DNSKEYs kept per zone */
#define VAL_MAX_DS 8        /* trusted DS records per zone */
#define VAL_MAX_FETCH 8     /* fetches in flight */
#define VAL_MAX_DEPTH 8     /* labels below the anchor */
#define VAL_SEEN 4096       /* (name, type) seen signed */
#define VAL_WHYLEN 256

/* ---- trust anchors ---- */

typedef struct val_anchor {
	uint8_t owner[NAME_MAXLEN]; /* lowercased */
	uint16_t type;              /* RR_DS or RR_DNSKEY */
	uint16_t rdlen;
	uint8_t *rdata;             /* owned */
} val_anchor;

typedef struct val_anchors {
	val_anchor a[VAL_MAX_ANCHORS];
	unsigned n;
	unsigned files;
} val_anchors;

/* NULL when out of memory. */
val_anchors *val_anchors_new(void);
void val_anchors_free(val_anchors *a);
/* Adds the DS and DNSKEY records of a zone file (other types are refused
 * with "FILE:LINE: ..."). Returns the number added (0 is an error too:
 * "FILE: no DS or DNSKEY record") or a negative code with err filled. */
int val_anchors_load(val_anchors *a, const char *path, char *err, size_t errlen);
/* The owner of the deepest anchor at or above name, or NULL. */
const uint8_t *val_anchors_cover(const val_anchors *a, const uint8_t *name);

/* ---- the per-worker validator ---- */

enum val_verdict { VAL_NONE = 0, VAL_SECURE = 1, VAL_BOGUS = 2 };
enum val_fetch_result { VAL_FETCH_MORE = 0, VAL_FETCH_DONE = 1 };

/* Asks the caller to send qname/qtype upstream (RD, CD, DO) as fetch id
 * (< VAL_MAX_FETCH) and to report its replies with that id. 0, or a
 * negative code (not sent: the zone is retried later). May be called from
 * inside validator_check, validator_fetch_reply and validator_fetch_end. */
typedef int (*val_fetch_fn)(void *arg, unsigned id, const uint8_t *qname, uint16_t qtype);

/* The "seen signed" set (VAL_SEEN entries): one may be shared by every
 * worker's validator, so a name one worker saw signed is known to all (an
 * unsigned answer for it is then bogus wherever it arrives). Lock-free:
 * each entry is one 64-bit word, 32 bits of the (name, type) hash (12 more
 * pick the entry) and the expiry in wall-clock seconds, stored and loaded
 * atomically, so a reader never pairs one writer's key with another's
 * expiry. */
typedef struct val_seen val_seen;
val_seen *val_seen_new(void);
void val_seen_free(val_seen *s);

typedef struct val_config {
	const val_anchors *anchors; /* borrowed, read-only, outlives the validator */
	unsigned nservers;          /* upstreams (for per-upstream rate limits),
				     * at most VAL_MAX_SERVERS */
	unsigned max_verify;        /* verifications per second per upstream (0: 2000) */
	val_fetch_fn fetch;         /* NULL: keys are never fetched (tests) */
	void *fetch_arg;
	uint32_t (*now)(void);      /* wall-clock seconds; NULL: time() */
	val_seen *seen;             /* the seen-signed set shared by every
				     * worker's validator (borrowed, outlives
				     * them), or NULL: a set of its own */
} val_config;

/* Counters (single writer: the owning worker; read by any thread). */
typedef struct val_counters {
	_Atomic uint64_t checked;     /* replies of names under an anchor */
	_Atomic uint64_t secure;
	_Atomic uint64_t bogus;
	_Atomic uint64_t unsigned_seen; /* ... of which unsigned for a name seen signed */
	_Atomic uint64_t insecure;    /* unsigned, name never seen signed */
	_Atomic uint64_t pending;     /* signer keys not known yet */
	_Atomic uint64_t wildcard;    /* verified but wildcard-expanded: no signal */
	_Atomic uint64_t limited;     /* verification budget exhausted */
	_Atomic uint64_t fetches;     /* DS/DNSKEY fetches sent */
	_Atomic uint64_t fetch_ok;    /* ... that taught trusted DS or keys */
	_Atomic uint64_t fetch_failed;
	_Atomic uint64_t zones_secure; /* zones whose keys were validated */
} val_counters;

typedef struct validator validator;

/* NULL on bad configuration (no anchors, nservers 0) or no memory. */
validator *validator_new(const val_config *cfg);
void validator_free(validator *v);
/* One more upstream (a reload added it), numbered next: 0, or DNS_ESPACE. */
int validator_add_server(validator *v);

/* Is name under an anchor? (cheap: a few name comparisons) */
bool validator_covers(const validator *v, const uint8_t *name);

/* Judges one upstream reply (wire, len) that came from upstream server.
 * Returns enum val_verdict; validator_why explains it. May start fetches. */
int validator_check(validator *v, const uint8_t *wire, size_t len, unsigned server);
/* Explanation of the last check ("" after VAL_NONE for uncovered names). */
const char *validator_why(const validator *v);

/* A reply of fetch id: VAL_FETCH_DONE (finish the transaction; the fetch
 * is over) or VAL_FETCH_MORE (keep listening). */
int validator_fetch_reply(validator *v, unsigned id, const uint8_t *wire, size_t len);
/* The fetch's transaction ended without a usable reply (or could not be
 * sent). Idempotent for a finished id. */
void validator_fetch_end(validator *v, unsigned id);

/* Starts fetching the keys of every anchor zone (at worker start). */
void validator_prime(validator *v);

const val_counters *validator_counters(const validator *v);

/* Zone facts (tests, logs): state 0 unknown, 1 secure, 2 insecure, -1 not
 * in the table; *nkeys trusted keys. */
int validator_zone_state(const validator *v, const uint8_t *zone, unsigned *nkeys);

#endif
