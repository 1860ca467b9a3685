/* frontend — the resolver's client side: checks on client queries and the
 * answers built without the cache (errors, RFC 8482 ANY, answers relayed
 * from an upstream response that the cache would not keep).
 *
 * frontend_check runs first on every client message, on the server's
 * threads (hot path: no allocation, no lock; counters are the caller's
 * per-thread frontend_stats). Its verdicts, in check order:
 *   - FRONTEND_DROP: shorter than a header, or QR=1 (a response sent to a
 *     server: answering it could start a loop), or a parse error that does
 *     not deserve FORMERR (msg_err_is_formerr false);
 *   - an immediate answer (return value > 0, written to out):
 *       REFUSED  the client is not allowed (acl.h);
 *       FORMERR  malformed query (msg_parse_query failed), no question, OPT
 *                as the question type;
 *       NOTIMP   OPCODE ≠ QUERY; zone transfers (AXFR, IXFR), MAILA/MAILB;
 *       BADVERS  EDNS version ≠ 0 (RFC 6891 §6.1.3);
 *       NOERROR  a cookie-only query (no question, an EDNS COOKIE; RFC 7873
 *                §5.4) when server cookies are on: an empty answer with the
 *                client cookie and a fresh server cookie; BADCOOKIE instead
 *                when the query carried a server cookie that is not valid
 *                (cookie.h: not ours, too old, another client's);
 *       REFUSED  class other than IN (CH, HS, ANY...), or a TSIG we cannot
 *                verify;
 *       NOERROR  qtype ANY: one synthesised HINFO "RFC8482" "" RR with TTL
 *                3600 (RFC 8482 §4.2) — never forwarded;
 *   - FRONTEND_LOOKUP (0): a plain IN query; q holds its msg_parse_query
 *     view and *limit the size the client accepts: 65535 over TCP; over UDP
 *     512 without EDNS, else the client's EDNS size bounded to
 *     [512, max_udp].
 * Every answer written here has QR, RA, the client's ID, RD and CD, its
 * question (when it could be read), and an OPT RR (our size, DO echoed) when
 * the query had one; errors for EDNS clients may carry an EDE (RFC 8914).
 * With server cookies on (ck given), every answer frontend_check writes
 * for a query that carried a COOKIE option echoes its client cookie with a
 * fresh server cookie (RFC 7873 §5.2; the server cookie is made only when
 * such an answer is written: a lookup costs nothing more). Cookies never
 * gate service: a query without a valid server cookie is answered all the
 * same (RFC 7873 §5.2.3 allows it; only a cookie-only query reports
 * BADCOOKIE, as §5.4 requires).
 *
 * Borrowed pointers only; out must hold cap octets. */
#ifndef ANTIDOTE_RESOLVE_FRONTEND_H
#define ANTIDOTE_RESOLVE_FRONTEND_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/msg.h"
#include "net/addr.h"
#include "resolve/cookie.h"

#define FRONTEND_LOOKUP 0
#define FRONTEND_DROP (-1)

/* EDE codes used by the resolver (RFC 8914 §4). */
#define FRONTEND_EDE_STALE 3         /* Stale Answer */
#define FRONTEND_EDE_NOT_READY 14    /* Not Ready */
#define FRONTEND_EDE_PROHIBITED 18   /* Prohibited */
#define FRONTEND_EDE_NO_REACHABLE 22 /* No Reachable Authority */

/* Per-thread counters (single writer: the owning thread; any thread may
 * read them with relaxed loads for a report). */
typedef struct frontend_stats {
	_Atomic uint64_t queries;    /* messages checked */
	_Atomic uint64_t dropped;    /* FRONTEND_DROP */
	_Atomic uint64_t refused_acl;
	_Atomic uint64_t formerr;
	_Atomic uint64_t notimp;
	_Atomic uint64_t badvers;
	_Atomic uint64_t refused_class;
	_Atomic uint64_t any;        /* ANY answered with HINFO RFC8482 */
	_Atomic uint64_t cookie_only; /* cookie-only queries answered (NOERROR or BADCOOKIE) */
	_Atomic uint64_t lookups;    /* FRONTEND_LOOKUP */
} frontend_stats;

/* Increments a single-writer counter without a locked instruction. */
#define FRONTEND_INC(c) atomic_store_explicit(&(c), atomic_load_explicit(&(c), memory_order_relaxed) + 1, \
					      memory_order_relaxed)

/* Server cookies for one client query (borrowed for the call). */
typedef struct frontend_cookies {
	const cookie_secret *secret;
	const net_addr *peer; /* the client */
	uint32_t now;         /* wall-clock seconds (RFC 9018 timestamps) */
} frontend_cookies;

/* Checks the client message req[0..len) (see above). allowed: the client
 * passed the allow list. max_udp: our UDP size (≥ 512). ck: server cookies
 * (NULL: off — cookie-only queries then get FORMERR, as from a server
 * without cookies). Returns FRONTEND_LOOKUP with q and *limit set,
 * FRONTEND_DROP, or the length of an answer written to out (at most
 * min(client limit, cap)). st may be NULL. */
int frontend_check(const uint8_t *req, size_t len, bool tcp, bool allowed, uint16_t max_udp,
		   const frontend_cookies *ck, msg *q, size_t *limit, uint8_t *out, size_t cap,
		   frontend_stats *st);

/* Adds our COOKIE (the client cookie q carried + a fresh server cookie)
 * to the OPT RR ending the answer resp[0..len) written for q elsewhere
 * (cache hits, relayed and deferred answers), when q carried a COOKIE, the
 * answer has an OPT as its last RR and no COOKIE yet, and 28 more octets
 * fit in limit. Returns the new length, or len when nothing was added
 * (then resp is untouched). A parse of the answer and a SipHash: only for
 * clients that send cookies. */
size_t frontend_add_cookie(const msg *q, const frontend_cookies *ck, uint8_t *resp, size_t len, size_t limit);

/* The client's size limit for a parsed query (as above). */
size_t frontend_limit(const msg *q, bool tcp, uint16_t max_udp);

/* An answer to q with RCODE rcode (may be extended: BADVERS) and nothing
 * but the question (and OPT for EDNS clients, with EDE ede when ede ≥ 0).
 * q may come from a failed parse when q->hdr_ok. Returns the length or
 * DNS_ESPACE. */
int frontend_error(const msg *q, unsigned rcode, int ede, uint16_t max_udp, size_t limit,
		   uint8_t *out, size_t cap);

/* RFC 8482 answer to an ANY query: HINFO "RFC8482" "". */
int frontend_any(const msg *q, uint16_t max_udp, size_t limit, uint8_t *out, size_t cap);

/* Rebuilds upstream response resp (a matching reply to q's question, e.g.
 * one the cache refused to store: TTL 0, SERVFAIL...) for client query q:
 * q's ID and question, QR|RA, q's RD and CD, the upstream's RCODE, AD only
 * when the upstream set it and q had DO or AD, AA never; every answer,
 * authority and additional RR but OPT and TSIG, re-encoded (the upstream's
 * OPT, cookies included, is never passed on; ours is written for EDNS
 * clients). RRsets that do not fit limit are dropped from the end with TC
 * set. rrs: scratch of nrrs entries for msg_parse (MSG_MAXRRS always
 * suffices). Returns the length or a negative code (resp malformed). */
int frontend_relay(const msg *q, const uint8_t *resp, size_t resp_len, uint16_t max_udp, size_t limit,
		   uint8_t *out, size_t cap, msg_rr *rrs, unsigned nrrs);

#endif
