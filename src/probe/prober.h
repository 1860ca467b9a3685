/* prober — the asynchronous bulk query engine behind `antidote probe` and
 * `antidote watch`: thousands of UDP queries in flight, a rate limit,
 * retries, and every reply to each query collected over a listening window.
 *
 * MODEL. The caller supplies jobs through a pull callback (next) and gets
 * each finished query back through done, with every reply that matched it.
 * A query lives in one of cfg.inflight preallocated SLOTS (no malloc per
 * query). Its life:
 *   - attempt 0 is sent (fresh CSPRNG ID, secrand.h) and a timer armed at
 *     timeout_ms;
 *   - when the timer fires with no reply yet, the next attempt goes out with
 *     a new ID (the old IDs stay registered, so a late reply to attempt 0 is
 *     still heard), up to retries more attempts; after the last one the
 *     query ends with no reply;
 *   - the first matching reply re-arms the timer at arrival + window_ms;
 *     every reply matching until then is kept (up to PROBE_MAXREP, the rest
 *     only counted); then the query ends and done() is called.
 * A reply MATCHES when it comes from the job's target address and port, on
 * the slot's socket, carries an ID registered by that slot, has QR=1, parses
 * (msg_parse) and repeats the question (name case-insensitively, type,
 * class IN). Others are counted (stats.unmatched / late / bad) and dropped.
 *
 * SOCKETS. cfg.sockets unconnected UDP sockets (IPv4 and/or IPv6 as the
 * targets need), each with IP_RECVTTL / IPV6_RECVHOPLIMIT on. Slot i uses
 * socket i % sockets; each socket has a 65536-entry ID -> slot table, so IDs
 * are multiplexed per socket and never reused while registered. Sends go
 * out in sendmmsg batches, receives come in through recvmmsg batches.
 *
 * TIME. CLOCK_MONOTONIC microseconds; a timer wheel of 1 ms ticks
 * (PROBE_WHEEL ticks; later deadlines are re-filed when their tick comes).
 * Rate: a token bucket of cfg.rate new queries per second (burst: 10 ms
 * worth, at least one); retries go out when due, outside the bucket (they
 * are bounded by the slots anyway); 0 = unlimited.
 *
 * THREADS. One prober per thread; not thread-safe. */
#ifndef ANTIDOTE_PROBE_PROBER_H
#define ANTIDOTE_PROBE_PROBER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "dns/name.h"
#include "net/addr.h"

#define PROBE_MAXREP 6      /* replies kept per query */
#define PROBE_MAXADDR 4     /* A/AAAA addresses kept per reply */
#define PROBE_MAXATT 8      /* attempts per query (1 + retries) */
#define PROBE_WHEEL 16384   /* timer wheel ticks (1 ms each) */
#define PROBE_BATCH 64      /* sendmmsg/recvmmsg batch */
#define PROBE_MAXTARGETS 64

struct probe_cfg {
	net_addr targets[PROBE_MAXTARGETS];
	unsigned ntargets;
	unsigned sockets;       /* default 16 */
	unsigned inflight;      /* slots; default 16384 */
	double rate;            /* attempts per second; 0 = unlimited */
	int timeout_ms;         /* per attempt, default 1000 */
	int window_ms;          /* after the first reply, default 500 */
	int retries;            /* default 2 (so 3 attempts) */
	bool rd;                /* RD bit in queries (default off) */
	bool edns;              /* OPT in queries (default on, UDP size 1232) */
	uint16_t edns_size;
};

/* One job: a question for one of the targets. qname is wire form (copied
 * into the slot at send time; the caller's buffer may be reused at once). */
struct probe_job {
	const uint8_t *qname;
	uint16_t qtype;
	uint16_t target;        /* index in cfg.targets */
	uint64_t tag;           /* the caller's; handed back in done */
};

struct probe_addr {
	uint8_t family;         /* 4 or 6 */
	uint8_t a[16];
};

struct probe_reply {
	uint32_t t_us;          /* arrival, from attempt 0's send */
	uint16_t flags;         /* header flags word */
	uint16_t len;           /* octets */
	uint16_t an, ns, ar;    /* header counts */
	uint8_t ip_ttl;         /* IP TTL / hop limit; 0 = not reported */
	uint8_t attempt;        /* which attempt's ID it answered */
	bool opt;               /* carries an OPT RR */
	uint8_t naddr;          /* addresses kept (answer-section A/AAAA for the qname chain) */
	uint8_t nother;         /* other answer RRs (CNAME, MX...) */
	uint8_t more_addr;      /* addresses beyond PROBE_MAXADDR */
	uint32_t ttl;           /* smallest answer TTL; 0 when no answer */
	struct probe_addr addr[PROBE_MAXADDR];
};

struct probe_result {
	unsigned nrep;          /* replies kept */
	unsigned extra;         /* replies that matched but were not kept */
	unsigned attempts;
	uint64_t sent_us;       /* CLOCK_MONOTONIC of attempt 0 */
	struct probe_reply rep[PROBE_MAXREP];
};

struct probe_stats {
	uint64_t jobs, sent, retries, done, answered, replies, unmatched, late, bad, send_err, dropped_rep;
	unsigned active;
};

/* Next job: fill *j and return 1, or return 0 when there are no more jobs
 * (prober_run then drains the queries in flight and returns). */
typedef int probe_next_fn(void *arg, struct probe_job *j);
typedef void probe_done_fn(void *arg, const struct probe_job *j, const struct probe_result *r);
/* Called about every 250 ms (progress lines, serving metrics). */
typedef void probe_tick_fn(void *arg, const struct probe_stats *s, uint64_t now_us);
/* Called when an extra descriptor (prober_watch_fd) is readable. */
typedef void probe_fd_fn(void *arg, int fd);

struct prober;

void probe_cfg_default(struct probe_cfg *c);

/* Opens the sockets and allocates the slots. NULL with a message in err. */
struct prober *prober_new(const struct probe_cfg *c, char *err, size_t errlen);
void prober_free(struct prober *p);

/* Adds a descriptor to the event loop (at most 4); cb runs when it is
 * readable. 0 or DNS_EIO/DNS_ESPACE. */
int prober_watch_fd(struct prober *p, int fd, probe_fd_fn *cb, void *arg);

/* Runs until next() returns 0 and every query has ended, or *stop becomes
 * non-zero (then queries in flight are dropped without done()). tick may be
 * NULL. Returns 0 or DNS_EIO (epoll failure). Can be called again for
 * another batch of jobs (watch rounds). */
int prober_run(struct prober *p, probe_next_fn *next, probe_done_fn *done, probe_tick_fn *tick, void *arg,
	       volatile sig_atomic_t *stop);

const struct probe_stats *prober_stats(const struct prober *p);

/* Builds the query packet for a job into buf (cap octets); returns its
 * length or a negative code. Exposed for the tests. */
int prober_build_query(const struct probe_cfg *c, const uint8_t *qname, uint16_t qtype, uint16_t id, uint8_t *buf,
		       size_t cap);

/* Parses reply wire into *r (fields other than t_us, ip_ttl and attempt)
 * and checks it answers (qname, qtype). Returns 0, or a negative code
 * (malformed: DNS_E*; not a reply to that question: DNS_ENOTFOUND). */
int prober_parse_reply(const uint8_t *wire, size_t len, const uint8_t *qname, uint16_t qtype,
		       struct probe_reply *r);

/* Answer addresses of r as text, space-separated ("1.2.3.4 2001:db8::1"),
 * plus "+N" when more were not kept; "" when none. Returns buf. */
char *prober_reply_answers(const struct probe_reply *r, char *buf, size_t len);

/* Monotonic clock in microseconds. */
uint64_t probe_now_us(void);

#endif
