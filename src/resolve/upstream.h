/* upstream — queries to upstream DNS servers for one worker thread: random
 * IDs and ports, strict reply matching, EDNS cookies, TCP fallback and
 * pipelining, RTT-based selection and failover, and transactions that keep
 * listening after their first reply so a consumer can judge every reply
 * (the injection defence compares them).
 *
 * THREADS. One up_ctx per worker thread; everything in it (transaction
 * slots, sockets, per-upstream state, statistics) belongs to that thread:
 * no locks. The event loop is the caller's (up_loop below); the module
 * never blocks.
 *
 * A TRANSACTION (up_txn) is one question (name, type, class) sent to one or
 * more of a list of candidate upstreams ("servers", numbered as in the
 * route table: route_servers()). Its life:
 *  1. upstream_query() orders the candidates (below), sends attempt 0 and
 *     arms the retry timer.
 *  2. Every ATTEMPT is one message with a fresh random ID (secrand) and, over
 *     UDP, a fresh socket: connect()ed to the upstream (the kernel picks a
 *     random ephemeral port and drops datagrams from other sources), with
 *     IP_RECVTTL / IPV6_RECVHOPLIMIT on. With cfg.use_0x20 the query name's
 *     letters get a fresh random case pattern per attempt (unless the
 *     upstream gave UP_0X20_GIVEUP replies of the wrong case and none of
 *     the right one: some forwarders lowercase names; such an upstream is
 *     then asked in the name's own case and matched case-insensitively —
 *     the wrong-case replies had the right ID and port, so whoever sent
 *     them saw the query and 0x20 would not stop them). All attempts of a
 *     transaction stay open until it ends, so a late reply to attempt 0 is
 *     still heard after attempt 1 went to another upstream.
 *  3. A datagram or TCP message is MATCHED against the attempt (reasons in
 *     enum up_mismatch, checked in that order): the kernel-reported source
 *     equals the upstream's address and port; ≥ 12 octets; same ID; QR=1;
 *     OPCODE QUERY; parses (msg_parse_query); exactly the question sent —
 *     type, class and name (name octet for octet, case included, when 0x20
 *     is on; else case-insensitively). A mismatch is counted per server and
 *     reason and dropped; the transaction goes on.
 *  4. A matching UDP reply with TC=1 makes the module retry the question
 *     over TCP to the same upstream (once per server per transaction, if
 *     attempts remain; the TC reply is then not delivered, only counted).
 *  5. Every other matching reply is DELIVERED to handler.reply with its
 *     metadata (up_reply). The consumer then, inside the callback or later:
 *       - upstream_txn_finish(t, r->seq): done, this reply was the one (its
 *         RTT, IP TTL, cookie behaviour and server cookie are learnt for
 *         the upstream); or finish(t, UP_NONE): done, learn nothing;
 *       - upstream_txn_next(t): fail over now to the next candidate (a
 *         SERVFAIL or REFUSED; see upstream_rcode_failover);
 *       - upstream_txn_hold(t, deadline, retry): keep listening until
 *         deadline (absolute µs on the loop's clock), with or without
 *         further retransmissions;
 *       - nothing: keep listening; retries continue on schedule.
 *     Only replies a consumer accepts teach the module anything about an
 *     upstream (except "it is alive", which any matching reply shows), so a
 *     forged reply the consumer rejects does not.
 *  6. The transaction ENDS by upstream_txn_finish, or with handler.end(t,
 *     reason) when its hold deadline passes (UP_END_HOLD) or when the last
 *     attempt timed out or failed and no hold deadline is pending
 *     (UP_END_TIMEOUT). After finish returns or end is called, t is invalid
 *     (it may be reused by the next upstream_query). handler.end is never
 *     called after finish.
 * Retries: attempt k goes to candidate k mod n; its timeout is the
 * upstream's RTO (rtt.h: SRTT + 4 RTTVAR, doubled for each consecutive
 * timeout of that upstream — exponential back-off that also spans
 * transactions), capped at cfg.rto_max_us; cfg.attempts attempts in all
 * (≤ UP_MAX_ATTEMPTS). With one dead upstream and the defaults that is
 * sends at 0, 0.6, 1.8 and 3.8 s and the end at 5.8 s. A send
 * error, ICMP port unreachable or a TCP connection failure ends an attempt
 * at once (the next one goes out on the next upstream_expire). A timeout
 * counts against the upstream; cfg.down_after consecutive timeouts mark it
 * down: it is ordered last until cfg.probe_us later, when one query tries
 * it first (a probe; its attempt timeout is capped at cfg.rto_init_us);
 * any matching reply makes it up again.
 * Candidate order: upstreams that are up (or due for a probe), those never
 * measured first (so each is measured once), then by SRTT; then those down.
 * Ties keep the configured order.
 *
 * CALLBACKS run from inside upstream_expire and the fd callbacks given to
 * loop.watch. They may call any function of this module on the same
 * context (finish, next, hold, even upstream_query), and must not call
 * upstream_free.
 *
 * TCP (RFC 7766): one connection per upstream per context, opened on first
 * use (non-blocking connect), queries pipelined on it with IDs unique among
 * those pending on it, replies matched by ID in any order, closed after
 * cfg.tcp_idle_us without pending queries. A connection that fails or is
 * closed by the server fails its pending attempts (their transactions move
 * to the next attempt); the next TCP query reconnects. up_query.flags
 * UP_QF_TCP sends over TCP from the start.
 *
 * DNS OVER TLS (RFC 7858): a server the route table marks ROUTE_TLS
 * (route.h: tls://ADDR[:PORT][#AUTHNAME]) is asked over TLS only, never
 * over UDP: every attempt to it is queued on its connection exactly as a
 * TCP query is (same framing, pipelining, ID rules, matching and idle
 * close; UP_QF_TCP and TC make no difference). The connection is opened on
 * first use, and its TLS handshake (tls.h: TLS 1.2+, certificate verified
 * against AUTHNAME or the IP address, session resumption) is driven by the
 * same fd callbacks; queries queued meanwhile go out when it completes.
 * Connect, handshake or certificate failure — or no handshake within
 * cfg.tcp_timeout_us — fails the pending attempts at once (their
 * transactions move on to the next attempt, i.e. fail over), is logged
 * with the reason, counts as a timeout toward marking the server down
 * (cfg.down_after) and starts a back-off (250 ms, doubling up to
 * cfg.probe_us, reset by a successful handshake) during which attempts
 * to that server fail at once without connecting. A connection that
 * worked and then breaks or is closed is reopened by the next query.
 * Replies over TLS are delivered with transport UP_TCP (a stream nobody
 * off the connection can write into: the defence trusts them as TCP
 * replies) and up_reply.tls set. Their RTT is learnt (unlike TCP's) when
 * the query went out on an already established connection.
 *
 * EDNS: every query carries an OPT RR (cfg.edns_udp, DO from
 * up_query.edns_flags) with a COOKIE option (RFC 7873): the context's 8
 * random client-cookie octets for that upstream (kept for the context's
 * life), followed by the server cookie last learnt from an accepted reply
 * that echoed it. Per upstream the module learns, from accepted replies,
 * whether it returns OPT and echoes the client cookie (up_learn below);
 * each delivered reply says whether it did (up_reply.cookie_echoed) and
 * what was known before it (up_reply.cookie_known). A matching BADCOOKIE
 * reply that echoes our client cookie (RFC 7873 §5.3) is not delivered:
 * its server cookie is stored at once and the question re-sent to that
 * upstream (once per upstream per transaction, if attempts remain); it
 * counts as a reply "started a retry" (upstream_feed returns 0).
 *
 * MEMORY: slots (cfg.slots transactions), the timer heap, the receive
 * buffer and per-upstream state are allocated by upstream_new; a TCP
 * connection's buffers on its first use; a TLS connection's OpenSSL state
 * per connection (not per query). Nothing is allocated per query.
 * File descriptors: up to cfg.attempts UDP sockets per live transaction
 * plus one TCP socket per upstream.
 *
 * TIMERS: the module does not own a clock; it reads loop.now_us. The loop
 * must call upstream_expire(c, now) once now ≥ upstream_next_deadline(c)
 * (re-read the deadline after every call into the module, or give
 * loop.set_timer to be told when it changes). */
#ifndef ANTIDOTE_RESOLVE_UPSTREAM_H
#define ANTIDOTE_RESOLVE_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/msg.h"
#include "net/addr.h"
#include "resolve/route.h"

#define UP_MAX_ATTEMPTS 8  /* sends per transaction */
#define UP_MAX_CAND 8      /* candidate upstreams per transaction */
#define UP_MAX_REPLIES 16  /* replies per transaction whose metadata is kept
			    * for learning (later ones are delivered, but
			    * finish(t, seq ≥ 16) learns nothing) */
#define UP_MAX_SERVERS 256
#define UP_NONE (-1)       /* finish: no reply accepted */
#define UP_NEVER UINT64_MAX
#define UP_0X20_GIVEUP 3   /* wrong-case replies before 0x20 is dropped */

/* Event bits for up_loop.watch and the fd callback. The loop must report
 * errors and hang-ups (EPOLLERR/EPOLLHUP) as UP_EV_READ | UP_EV_WRITE. */
#define UP_EV_READ 1u
#define UP_EV_WRITE 2u

typedef void up_fd_cb(void *arg, int fd, unsigned events);

/* The event-loop interface one context is given (copied). */
typedef struct up_loop {
	void *ctx;
	/* Watch fd for `events` (UP_EV_*), calling cb(arg, fd, events) when
	 * ready (level-triggered). Called again for a watched fd it replaces
	 * the events (cb and arg stay the same). 0 or a negative code. */
	int (*watch)(void *ctx, int fd, unsigned events, up_fd_cb *cb, void *arg);
	/* Stop watching fd (always called before the module closes it). No
	 * callback may run for fd afterwards, even for events the loop had
	 * already collected (the fd number may be reused at once). */
	void (*unwatch)(void *ctx, int fd);
	/* Monotonic clock in µs. */
	uint64_t (*now_us)(void *ctx);
	/* Optional (may be NULL): the earliest deadline changed to when_us
	 * (UP_NEVER: none); call upstream_expire at or after it. */
	void (*set_timer)(void *ctx, uint64_t when_us);
} up_loop;

typedef struct up_config {
	const net_addr *servers; /* the upstreams (route_servers()), copied */
	unsigned nservers;       /* ≤ UP_MAX_SERVERS */
	unsigned slots;          /* concurrent transactions (0: 512) */
	unsigned attempts;       /* sends per transaction (0: 4), ≤ UP_MAX_ATTEMPTS */
	uint32_t rto_init_us;    /* RTO before the first RTT sample (0: 600 ms) */
	uint32_t rto_min_us;     /* (0: 50 ms) */
	uint32_t rto_max_us;     /* (0: 2 s) */
	uint32_t tcp_timeout_us; /* TCP attempt timeout, connect included (0: 3 s) */
	uint32_t tcp_idle_us;    /* close an idle TCP connection after (0: 10 s) */
	unsigned down_after;     /* consecutive timeouts marking an upstream down (0: 3) */
	uint32_t probe_us;       /* time before a down upstream is tried again (0: 5 s) */
	uint16_t edns_udp;       /* EDNS UDP payload size advertised (0: 1232) */
	bool use_0x20;           /* randomise the query name's case */
	bool no_cookies;         /* omit the COOKIE option */
	/* The route table the servers come from: its route_upstreams() say
	 * which are DNS over TLS, and its TLS settings (route_set_tls) apply.
	 * NULL: found with route_by_servers(servers, nservers) (by pointer,
	 * else by content); when there is none, every server is plain DNS.
	 * Borrowed for upstream_new only (what it needs is copied). */
	const route *route;
} up_config;

typedef struct up_ctx up_ctx;
typedef struct up_txn up_txn;

enum up_transport { UP_UDP = 0, UP_TCP = 1 };

/* Why a reply was dropped (counted per upstream, in check order). */
enum up_mismatch {
	UP_MIS_SOURCE = 0, /* not from the upstream's address and port */
	UP_MIS_SHORT,      /* shorter than a header */
	UP_MIS_ID,         /* no pending attempt has this ID */
	UP_MIS_QR,         /* QR = 0 */
	UP_MIS_OPCODE,     /* OPCODE ≠ QUERY */
	UP_MIS_MALFORMED,  /* msg_parse_query refused it */
	UP_MIS_QUESTION,   /* other (or no) question: name, type or class */
	UP_MIS_CASE,       /* same name but not the 0x20 case pattern sent */
	UP_MIS_COUNT
};

/* End reasons for handler.end. */
enum up_end {
	UP_END_TIMEOUT = 1, /* all attempts timed out or failed */
	UP_END_HOLD = 2,    /* the hold deadline passed */
};

/* What a context learnt about an upstream (from accepted replies). */
enum up_learn { UP_LEARN_UNKNOWN = 0, UP_LEARN_YES = 1, UP_LEARN_NO = 2 };

/* One delivered reply. Everything is borrowed for the callback only. */
typedef struct up_reply {
	const uint8_t *wire;  /* the message (no TCP length prefix) */
	uint16_t len;
	const msg *m;         /* msg_parse_query view of wire */
	unsigned seq;         /* 0, 1, 2... in delivery order in this txn */
	unsigned server;      /* upstream number */
	unsigned attempt;     /* the send it answers (0-based) */
	enum up_transport transport; /* UP_TCP for TLS too */
	bool tls;             /* arrived over DNS over TLS */
	uint64_t t_us;        /* arrival, loop.now_us when it was read */
	uint64_t rtt_us;      /* t_us - that attempt's send time */
	int ip_ttl;           /* IP TTL / IPv6 hop limit; -1 unknown (TCP) */
	net_addr from;        /* source the kernel reported */
	uint16_t id;
	uint16_t flags;       /* header flags word */
	unsigned rcode;       /* full (extended) RCODE */
	bool opt;             /* carries an OPT RR */
	bool cookie_echoed;   /* COOKIE whose client part is ours */
	enum up_learn cookie_known; /* did this upstream echo cookies, as
				     * learnt before this reply */
	int ttl_learnt;       /* IP TTL of this upstream's last accepted UDP
			       * reply before this one; -1 unknown */
} up_reply;

typedef struct up_handler {
	void (*reply)(void *arg, up_txn *t, const up_reply *r);
	void (*end)(void *arg, up_txn *t, int reason); /* enum up_end */
} up_handler;

#define UP_QF_TCP 1u /* TCP from the first attempt */
#define UP_QF_PREFER_TLS 2u /* DNS over TLS candidates (not down) first: the
			     * defence's escalation, where the path must not
			     * be forgeable at all */

typedef struct up_query {
	const uint8_t *qname;     /* wire form, copied */
	uint16_t qtype, qclass;
	uint16_t hdr_flags;       /* only MSG_RD and MSG_CD are used */
	uint16_t edns_flags;      /* only EDNS_DO is used */
	unsigned flags;           /* UP_QF_* */
	const uint16_t *servers;  /* candidate upstream numbers (copied) */
	unsigned nservers;        /* 1..UP_MAX_CAND (more are ignored) */
} up_query;

/* Per-upstream statistics and learnt state (upstream_stats). */
typedef struct up_stats {
	uint64_t queries;        /* attempts sent (UDP + TCP) */
	uint64_t queries_tcp;    /* over a stream: TCP or TLS */
	uint64_t queries_tls;    /* of those, over TLS */
	uint64_t replies;        /* matching replies (delivered or TC) */
	uint64_t accepted;       /* replies accepted by finish(t, seq) */
	uint64_t timeouts;
	uint64_t errors;         /* send errors, ICMP unreachable, TCP failures */
	uint64_t truncated;      /* TC=1 replies over UDP */
	uint64_t servfail, refused;
	uint64_t tcp_connects;   /* TCP connections made (TLS ones included) */
	uint64_t tls_handshakes; /* TLS handshakes completed */
	uint64_t tls_resumed;    /* of those, resuming a session */
	uint64_t tls_failures;   /* TLS connections that never completed a
				  * handshake (refused, timed out, bad certificate) */
	uint64_t badcookie;      /* BADCOOKIE replies answered by a retry */
	uint64_t mismatch[UP_MIS_COUNT];
	uint32_t srtt_us, rttvar_us, rto_us; /* srtt 0: not measured */
	uint32_t consec_timeouts;
	bool down;
	int ip_ttl;              /* last accepted UDP reply's IP TTL, -1 unknown */
	int ip_ttl_min, ip_ttl_max; /* over accepted UDP replies; -1 unknown */
	enum up_learn edns;      /* returns OPT */
	enum up_learn cookie;    /* echoes our client cookie */
	uint8_t server_cookie_len; /* 0: none learnt */
	bool no_0x20;            /* 0x20 given up for it (see above) */
	bool tls;                /* a DNS over TLS server */
} up_stats;

/* Creates a context; NULL on bad configuration (no servers, too many,
 * attempts > UP_MAX_ATTEMPTS), a TLS trust store that cannot be loaded
 * (logged) or out of memory. */
up_ctx *upstream_new(const up_config *cfg, const up_loop *loop);
/* Ends every transaction silently (no callbacks), closes every socket
 * (unwatching it first). */
/* Adds upstream u (a reload's new one) as number c's count so far, at the
 * end: the numbers of the others do not change. A TLS one needs a TLS
 * context: made from tls_ca (NULL: the system store) and tls_insecure when
 * c has none yet. Returns its number, DNS_ESPACE (UP_MAX_SERVERS reached)
 * or DNS_EIO (TLS context; logged). */
int upstream_add_server(up_ctx *c, const route_upstream *u, const char *tls_ca, bool tls_insecure);

void upstream_free(up_ctx *c);

/* Starts a transaction. Returns 0 and *out, or DNS_EINVAL (no candidate,
 * bad server number, bad name), DNS_ESPACE (all slots busy). The first
 * attempt is sent before this returns; if that fails, the transaction
 * still exists and retries on the next upstream_expire. */
int upstream_query(up_ctx *c, const up_query *q, const up_handler *h, void *arg, up_txn **out);

/* Ends t (see 6. above). accept_seq is the seq of the delivered reply the
 * consumer used, or UP_NONE. No callback follows. */
void upstream_txn_finish(up_txn *t, int accept_seq);
/* Sends the next attempt now, to the candidate after the one that sent the
 * last delivered reply (or after the last attempt's). 0, or DNS_ENOTFOUND
 * when no attempt is left (t goes on until its hold deadline or last
 * timeout). */
int upstream_txn_next(up_txn *t);
/* Listen until deadline_us at most (UP_NEVER clears it); retry=false stops
 * further retransmissions. The transaction then ends with UP_END_HOLD at
 * the deadline unless finished before. */
void upstream_txn_hold(up_txn *t, uint64_t deadline_us, bool retry);
/* Transaction facts: replies delivered so far, attempts sent, and the ID
 * of attempt k (for tests and logs; -1 when k was not sent). */
unsigned upstream_txn_replies(const up_txn *t);
unsigned upstream_txn_attempts(const up_txn *t);
int upstream_txn_id(const up_txn *t, unsigned k);
/* Local UDP port of attempt k (tests: RFC 5452 port randomness); -1 when
 * none (TCP or not sent). */
int upstream_txn_port(const up_txn *t, unsigned k);
/* Convenience for plain forwarding: true for the RCODEs that deserve a
 * failover (SERVFAIL, REFUSED, NOTIMP, FORMERR). */
bool upstream_rcode_failover(unsigned rcode);

/* Timers. */
uint64_t upstream_next_deadline(const up_ctx *c);
void upstream_expire(up_ctx *c, uint64_t now_us);

/* Statistics of server i (0 ≤ i < nservers); DNS_EINVAL otherwise.
 * upstream_total sums the counters of every upstream (learnt fields 0). */
int upstream_stats(const up_ctx *c, unsigned i, up_stats *out);
void upstream_total(const up_ctx *c, up_stats *out);
/* The order in which a new transaction would try cand (n ≤ UP_MAX_CAND)
 * right now; returns the count written to out. Does not consume probes. */
unsigned upstream_order(const up_ctx *c, const uint16_t *cand, unsigned n, uint16_t *out);
/* Number of live transactions. */
unsigned upstream_active(const up_ctx *c);
static inline const char *upstream_mismatch_name(unsigned why)
{
	static const char *const names[UP_MIS_COUNT] = {
		"source", "short", "id", "qr", "opcode", "malformed", "question", "case",
	};
	return why < UP_MIS_COUNT ? names[why] : "?";
}

/* Test and fuzzing hook: processes len octets as if they had arrived on
 * attempt k of t over UDP from `from` (NULL: the upstream's address) with
 * IP TTL ip_ttl — the same matching and delivery as real datagrams.
 * Returns 1 when delivered, 0 when it started a retry (TC, BADCOOKIE), or
 * -1 - enum up_mismatch when dropped; DNS_EINVAL when k was not sent or t
 * has ended. Callbacks run as usual (t may end inside). */
int upstream_feed(up_txn *t, unsigned k, const uint8_t *wire, size_t len,
		  const net_addr *from, int ip_ttl);

#endif
