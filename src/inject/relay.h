/* relay — the unprivileged deployment of the injection engine: a UDP relay
 * on loopback standing in for the border path between clients and a DNS
 * server.
 *
 *   client --> [listen] relay --(delay, jitter, loss)--> [forward] server
 *   client <--(delay, jitter, loss)-- relay <-- server
 *   client <-- forged replies, from the listen address (engine.h), sent
 *              max(0, 2*delay - lead) ms after the query arrived
 *
 * Clients. Each distinct client address+port is an entry of an
 * open-addressing hash table (backward-shift deletion) holding at most
 * max_clients entries; an entry idle (no query, no reply) for idle_ms is
 * forgotten, so resolvers that use a fresh random source port per query
 * (RFC 5452) only need max_clients >= their query rate x idle_ms. idle_ms
 * is raised to at least 2 x (delay + jitter) + 500 ms so that nothing in
 * flight outlives its client. Queries from a new client while the table is
 * full are dropped and counted (no_client).
 *
 * Upstream (how replies find their client), RELAY_UP_SHARED (default):
 * up_sockets connected sockets shared by all clients; the relay rewrites
 * each query's DNS ID to a free (socket, ID) pair, remembers (client,
 * original ID), and restores the ID on the reply (the first reply frees
 * the pair; a later duplicate, or a reply to an unknown pair, is dropped
 * and counted as unmatched). Pairs older than idle_ms are reused. The
 * server therefore sees the relay's IDs, the client its own.
 * RELAY_UP_PER_CLIENT: one connected socket per client (opened with the
 * client entry, closed when it expires); IDs untouched. Costs a socket,
 * an epoll registration and a syscall per reply batch per client.
 *
 * The real reply always follows the forged ones (the injector cannot drop
 * it). Loss applies independently to each relayed datagram, not to forged
 * replies. Forged replies carry the injector's IP TTL (IP_TTL /
 * IPV6_HOPLIMIT ancillary data; -1 = the query's TTL, read with
 * IP_RECVTTL) and DF (IP_MTU_DISCOVER, toggled at most twice per send
 * round: forged DF-off, forged DF-on, then relayed replies); the IP ID
 * policy cannot be applied without raw sockets and is only reported in the
 * log (namespace mode, border.h, applies it).
 *
 * Scenario clock (the jan21 window): by default ms since the relay
 * started; with epoch_real_ms != 0, ms since that CLOCK_REALTIME instant
 * (negative before it), so a lab can align the window exactly.
 *
 * Threads (threads > 1): that many independent relays, each with its own
 * listen socket (SO_REUSEPORT on the same address: the kernel spreads
 * clients over them by address and port), upstream sockets, tables, timer
 * wheel and injection engine (engines[i]: each keeps its own pool position
 * and draws, as separate injector processes do); statistics are summed
 * (peak_clients is the sum of the per-thread peaks). The ground-truth log
 * is shared (one locked write per line). The calling thread runs relay 0.
 *
 * Machinery (per relay): one thread, epoll + one timerfd (re-armed only when the
 * earliest deadline changes); a timer wheel of 1 ms buckets (delay + jitter
 * <= RELAY_MAX_DELAY_MS); every datagram in flight lives in a preallocated
 * packet slot, clients and ID pairs in preallocated tables (no malloc per
 * packet); recvmmsg/sendmmsg in batches of RELAY_BATCH on both sides.
 * Within a send round, datagrams of equal length to the same peer (all
 * queries up one shared socket; replies to one client port) leave as one
 * UDP GSO buffer (UDP_SEGMENT): the kernel routes it once and splits it on
 * delivery, so receivers still see one datagram each, in order. On loopback
 * that costs about a quarter of separate datagrams (bench/inject_bench.sh).
 * A kernel that refuses UDP_SEGMENT turns it off for the rest of the run;
 * no_gso turns it off from the start.
 *
 * Ground truth (log): one JSON object per line per forged reply:
 *   {"t":1700000000.123456,"client":"127.0.0.1:40000","txid":4660,
 *    "qname":"www.facebook.com","qtype":1,"injector":"gfw3","type":"A",
 *    "address":"31.13.67.41","ttl":123,"lead_ms":12,"send_in_ms":28,
 *    "ip_ttl":53,"ipid":7,"df":false}
 * (t = CLOCK_REALTIME when the query arrived; qname escaped as JSON with
 * \u00XX for bytes outside printable ASCII). */
#ifndef ANTIDOTE_INJECT_RELAY_H
#define ANTIDOTE_INJECT_RELAY_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "inject/engine.h"
#include "net/addr.h"

#define RELAY_BATCH 64
#define RELAY_MAX_DELAY_MS 8000
#define RELAY_SLOT_DATA 4096
#define RELAY_MAX_UP_SOCKETS 64
#define RELAY_MAX_THREADS 64

enum relay_upstream { RELAY_UP_SHARED, RELAY_UP_PER_CLIENT };

struct relay_config {
	net_addr listen, forward;
	int delay_ms, jitter_ms;       /* one-way */
	double loss_pct;               /* 0..100 */
	struct inj_engine *engine;     /* borrowed; NULL: no injection */
	unsigned threads;              /* relays in parallel (default 1) */
	struct inj_engine *const *engines; /* threads > 1 with injection: one
					* engine per thread (borrowed) */
	FILE *log;                     /* borrowed; NULL: no ground truth */
	uint64_t seed;
	unsigned slots;                /* default 16384 */
	unsigned max_clients;          /* default 65536 */
	unsigned idle_ms;              /* client expiry, default 10000 */
	enum relay_upstream upstream;  /* default RELAY_UP_SHARED */
	unsigned up_sockets;           /* shared mode, default 4 (x 65536 IDs) */
	int64_t epoch_real_ms;         /* 0: scenario time from the relay's start */
	bool no_gso;                   /* one datagram per message (benchmarks) */
	bool netns_ok;                 /* the caller checked it runs in a namespace
					* antidote created (lab/netns.h): the lab's
					* 198.51.100.0/24, 203.0.113.0/24,
					* 2001:db8:100::/64 and 2001:db8:113::/64
					* are allowed besides loopback */
	volatile sig_atomic_t *stop;   /* relay_run returns when *stop != 0 */
	void (*ready)(const net_addr *bound, void *arg); /* called once bound */
	void *ready_arg;
};

struct relay_stats {
	uint64_t queries, forwarded, replies, forged, lost, no_slot, no_client;
	uint64_t expired;     /* client entries forgotten after idle_ms */
	uint64_t unmatched;   /* shared mode: replies with no (socket, ID) pair */
	uint64_t no_id;       /* shared mode: queries dropped, no free ID */
	uint64_t peak_clients;
	uint64_t tx_msgs;     /* messages handed to sendmmsg (a GSO group is one) */
};

void relay_config_default(struct relay_config *c);

/* True for 127.0.0.0/8 and ::1 -- the only addresses the relay accepts
 * (plus, with netns_ok, the namespaces' documentation /24s and /64s). */
bool relay_addr_allowed(const net_addr *a);
bool relay_addr_netns(const net_addr *a);

/* Parses "shared" / "per-client". Returns 0 or DNS_ESYNTAX. */
int relay_upstream_parse(const char *s, enum relay_upstream *out);

/* Runs until *stop. Returns 0, or a negative code with a message in err
 * (addresses not allowed, bind failure...). stats may be NULL. */
int relay_run(const struct relay_config *c, struct relay_stats *stats, char *err, size_t errlen);

#endif
