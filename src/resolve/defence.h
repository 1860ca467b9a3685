/* defence — the injection defence of `antidote resolve`: judges every
 * upstream reply of a transaction and decides which one, if any, is served.
 *
 * THREAT MODEL. An on-path injector (INJECTORS.md) sees our UDP queries and
 * races forged replies ahead of the real one, from the upstream's address
 * and port, with the right ID and question; it cannot drop the real reply,
 * which still arrives (later, or — seen from outside — sometimes earlier).
 * It forges over UDP only. Its replies carry no EDNS OPT record (the
 * query's OPT is not echoed), so neither our EDNS cookie. That last fact is
 * what the strong "genuine" evidence rests on: an on-path injector COULD
 * copy the cookie it sees in the query, but the observed ones do not. An
 * injector that learnt to echo OPT and cookies would defeat VS_OPT and
 * VS_COOKIE; timing, IP TTL, conflicts and TCP would still stand. An
 * off-path attacker cannot see the cookie at all (and is also stopped by
 * upstream.h's random IDs, ports and 0x20).
 *
 * SIGNALS (verdict.h, recorded for every reply) and their weights:
 *   +100 VS_TCP       came over TCP
 *   +100 VS_COOKIE    echoed our client cookie
 *    +40 VS_OPT       has OPT (injectors send none; also before the
 *                     upstream is known to send it, so no probe is needed
 *                     to serve an EDNS upstream's first answers at once)
 *    +35 VS_TIMELY    (upstreams not known to send OPT) arrival ≥ 0.75 x
 *                     the learnt low RTT (or within early_min_us of it)
 *                     and IP TTL among the learnt values
 *    -60 VS_NO_OPT    no OPT though the upstream is known to send it
 *    -20 VS_EARLY     rtt < 0.5 x the learnt low RTT and more than
 *                     early_min_us sooner (Hold-On's rule)
 *    -25 VS_IP_TTL    IP TTL / hop limit not among the learnt values
 *    -25 VS_FLAGS     AA or RA unlike the upstream's answers, or RD cleared
 *                     (the caller's queries must set RD; resolve's do)
 *    -10 VS_SHAPE     injector shape: counts 1/1/0/0, answer owner c0 0c, no
 *                     OPT (0 for upstreams that send no OPT: theirs look so)
 *    -20 VS_POOL      an answer address seen answering ≥ pool_names
 *                     unrelated names within pool_window_us (counted only
 *                     from replies without OPT/cookie/TCP evidence)
 *    -10 VS_MARKED    name recently caught being injected at this upstream
 *   +100 VS_DNSSEC_OK every answer RRset verified with keys chained to a
 *                     trust anchor (validator.h): proof of authenticity,
 *                     accepted at once like TCP or our cookie; it cancels
 *                     VS_LEARNED (a heuristic) but not VS_LIST or VS_TYPE
 *  proof VS_TYPE      an answer RR owned by the question name whose type is
 *                     neither the question's, CNAME nor RRSIG (an A answer to
 *                     an MX question)
 *  proof VS_LIST      an address in the --bogus-ip list
 *  proof VS_LEARNED   an address learnt as forged (not applied over TCP)
 *  proof VS_DNSSEC_BOGUS  the question is under a trust anchor and the
 *                     answer fails validation: a bad, expired or not yet
 *                     valid signature or no matching key from a zone whose
 *                     keys are validated, or no signature at all for a
 *                     name this worker saw validly signed. This is what
 *                     still catches an injector that echoes OPT and our
 *                     cookie (which VS_OPT and VS_COOKIE rely on).
 *        VS_CONFLICT  another reply with a different answer came
 *  Names under no anchor, unsigned answers of names never seen signed and
 *  answers whose signer's keys are still being fetched get no DNSSEC
 *  signal at all: the other signals decide, as before.
 *
 * POLICY (mode DEF_ON):
 *  - a proof: the reply is FORGED — dropped, never cached; keep listening;
 *  - score ≥ DEF_ACCEPT_SCORE: ACCEPT now (the transaction ends);
 *  - else HOLD it (a copy is kept) until the transaction's deadline:
 *    send time + an adaptive window (the learnt high RTT x 1.25 + 5 ms,
 *    at least hold_min_us; doubled when the first held reply is forged or
 *    scores ≤ DEF_DEADLINE_SCORE, leaving room for one retransmission of a
 *    lost real reply), at most hold_max_us; hold_max_us from the send
 *    while the upstream's RTT is not learnt;
 *  - two held replies with different answers and none acceptable, from an
 *    upstream not known to send OPT (nothing else can tell them apart): a
 *    conflict — ESCALATE at once (ask again over TCP, UP_QF_TCP); from an
 *    OPT upstream keep waiting for the real reply, which will carry OPT;
 *  - at the deadline (defence_deadline): a conflict or a best candidate
 *    below DEF_DEADLINE_SCORE (or below 0 for a marked name) → ESCALATE
 *    (once; after that FAIL); else serve the best (ties: the later one).
 *  When a reply is served, held replies with different answers and a
 *  negative score are FORGED: their addresses are LEARNT (VS_LEARNED,
 *  exported with defence_learned) and the name is MARKED at that upstream
 *  for mark_us; the others are SUPERSEDED. A marked name is asked over TCP
 *  from the start when the upstream sends no OPT (defence_query_flags),
 *  since nothing else tells its forged replies from real ones.
 * RESIDUAL RISK: from an upstream that sends no OPT and no cookie, a forged
 * reply that arrives when real ones do with the real IP TTL (an injector
 * next to the upstream copying the query's TTL) scores like a real one and
 * is served if it comes first; a later different reply then cannot undo
 * it. Give such upstreams EDNS, or use TCP.
 * Mode DEF_OFF (the 2014 forwarder, and the ChinaDNS-style fixed list):
 * only VS_LIST and VS_DNSSEC_BOGUS (with a validator) are applied (such a
 * reply is dropped, the next one waited for); every other reply is
 * accepted at once.
 *
 * BASELINES per upstream, learnt only from replies served with a score ≥ 0
 * and from probe replies (defence_probe_reply: answers to harmless names
 * such as the root, asked at start and periodically by the caller): the
 * UDP RTTs (low = the minimum over the last ~64 s, or lower the all-time
 * minimum, which drifts up by 1/64 of the gap every 8 s: a recursive
 * upstream's cache hits show the path's RTT, misses and queueing under
 * load only add; high = the 2nd largest of the last 32), up to 4 IP
 * TTL values with counts, whether OPT comes back, the AA/RA bits of
 * answers. A baseline is "known" after 3 samples.
 *
 * THREADS. One defence per worker thread; no locks. The --bogus-ip list is
 * shared read-only (sealed). Counters are verdict_counters (readable from
 * any thread).
 *
 * MEMORY. Pool and mark tables are fixed at defence_new. A held reply is
 * copied (malloc) — only replies that are not accepted at once, i.e. under
 * injection or for upstreams without baselines; the common path allocates
 * nothing. */
#ifndef ANTIDOTE_RESOLVE_DEFENCE_H
#define ANTIDOTE_RESOLVE_DEFENCE_H

#include <stdbool.h>
#include <stdint.h>

#include "net/addr.h"
#include "resolve/bogus.h"
#include "resolve/upstream.h"
#include "resolve/validator.h"
#include "resolve/verdict.h"

#define DEF_ACCEPT_SCORE 30
#define DEF_DEADLINE_SCORE (-30)
#define DEF_MAX_HELD 6
#define DEF_MAX_ADDRS 8 /* answer addresses looked at per reply */

enum def_mode { DEF_OFF = 0, DEF_ON = 1 };

typedef struct def_config {
	enum def_mode mode;
	const bogus *list;          /* --bogus-ip (sealed, borrowed), may be NULL */
	const net_addr *servers;    /* upstream addresses (for the log), borrowed */
	unsigned nservers;          /* ≤ UP_MAX_SERVERS */
	uint32_t hold_max_us;       /* 0: 400 ms */
	uint32_t hold_min_us;       /* 0: 10 ms */
	uint32_t early_min_us;      /* 0: 2 ms */
	uint32_t mark_us;           /* 0: 600 s */
	unsigned pool_names;        /* 0: 12 */
	uint32_t pool_window_us;    /* 0: 60 s */
	verdict_log *log;           /* NULL: no log */
	validator *val;             /* DNSSEC (this worker's, borrowed); NULL: off */
	double (*realtime)(void);   /* log timestamps; NULL: CLOCK_REALTIME */
} def_config;

enum def_action {
	DEF_ACCEPT = 1,  /* serve this reply (upstream_txn_finish(t, r->seq)) */
	DEF_HOLD,        /* keep listening until *deadline (upstream_txn_hold) */
	DEF_SERVE_HELD,  /* serve the held reply defence_chosen() gives */
	DEF_ESCALATE,    /* end this transaction, ask again over TCP */
	DEF_FAIL,        /* nothing trustworthy: stale data or SERVFAIL */
};

typedef struct def_held {
	uint8_t *wire;      /* malloc'd copy */
	uint16_t len;
	unsigned seq, server;
	unsigned rcode;
	uint32_t signals;
	int score;
	uint64_t digest;
	uint64_t t_us, rtt_us;
	int ip_ttl;
	bool tcp, opt, cookie;
	uint8_t naddr;
	uint8_t alen[DEF_MAX_ADDRS];
	uint8_t addr[DEF_MAX_ADDRS][16];
} def_held;

/* One transaction's judging state; the caller owns it (one per in-flight
 * question), defence_txn_begin initialises it, defence_txn_end frees it. */
typedef struct def_txn {
	const uint8_t *qname; /* borrowed until defence_txn_end */
	uint16_t qtype;
	uint64_t name_hash;
	uint64_t deadline_us; /* 0: none set */
	unsigned nheld;
	def_held held[DEF_MAX_HELD];
	int chosen;           /* DEF_SERVE_HELD: index in held */
	unsigned forged;      /* replies dropped */
	unsigned server;      /* upstream of the last reply judged */
	bool conflict, escalated, marked, served, active;
} def_txn;

/* What was concluded about one reply (for tests and the caller's logs). */
typedef struct def_judgement {
	uint32_t signals;
	int score;
	enum vkind verdict;
	uint64_t expect_rtt_us; /* low RTT learnt, 0 unknown */
	uint64_t digest;        /* answer digest (order-independent) */
	unsigned naddr;
	uint8_t addr[DEF_MAX_ADDRS][16];
	uint8_t alen[DEF_MAX_ADDRS];
} def_judgement;

typedef struct defence defence;

/* NULL on bad configuration (nservers 0 or > UP_MAX_SERVERS) or no memory. */
defence *defence_new(const def_config *cfg);
void defence_free(defence *d);
/* One more upstream (a reload added cfg.servers[nservers], which the
 * caller's array already holds): numbered next. Its number, or DNS_ESPACE
 * past UP_MAX_SERVERS. */
int defence_add_server(defence *d);
enum def_mode defence_mode(const defence *d);

/* Flags for upstream_query of a new question (UP_QF_TCP for a name marked
 * injected at an upstream that sends no OPT). Counts tcp_first. */
unsigned defence_query_flags(defence *d, const uint8_t *qname, const uint16_t *servers, unsigned n,
			     uint64_t now_us);

void defence_txn_begin(defence *d, def_txn *x, const uint8_t *qname, uint16_t qtype);
/* Frees held copies (unless already freed) and logs unfinished ones as
 * superseded. Idempotent. */
void defence_txn_end(defence *d, def_txn *x);

/* Judges one delivered reply (r->t_us is "now"). Returns DEF_ACCEPT,
 * DEF_HOLD (with *deadline_us, absolute), DEF_ESCALATE or, for a forged
 * reply, DEF_HOLD as well (keep listening). j (may be NULL) gets the
 * details. Logs the reply. */
int defence_judge(defence *d, def_txn *x, const up_reply *r, uint64_t *deadline_us, def_judgement *j);
/* The transaction's hold deadline passed, or its attempts ran out: returns
 * DEF_SERVE_HELD, DEF_ESCALATE or DEF_FAIL. */
int defence_deadline(defence *d, def_txn *x, uint64_t now_us);
/* The caller escalated (asked again over TCP): counts it; a later
 * defence_deadline will not escalate again. */
void defence_escalated(defence *d, def_txn *x);
/* After DEF_SERVE_HELD: the reply to serve (borrowed until txn_end). */
const def_held *defence_chosen(const def_txn *x);

/* A reply to a harmless probe question: teaches the baselines (RTT, IP
 * TTL, OPT, flags) of r->server. Not judged, not logged. */
void defence_probe_reply(defence *d, const up_reply *r);

/* Learnt forged addresses (may be NULL when none); merge them with
 * bogus_merge for export. */
const bogus *defence_learned(const defence *d);
/* Counters of upstream i (NULL when out of range). */
const verdict_counters *defence_counters(const defence *d, unsigned i);

/* Baseline of upstream i as learnt so far (tests, logs). */
typedef struct def_baseline {
	unsigned rtt_samples;
	uint64_t rtt_lo_us, rtt_hi_us; /* 0 when unknown */
	int ip_ttl;                    /* most frequent learnt, -1 unknown */
	enum up_learn opt;
	int aa, ra;                    /* learnt bit value, -1 unknown */
} def_baseline;
int defence_baseline(const defence *d, unsigned i, def_baseline *out);

#endif
