/* relay — the unprivileged deployment of the injection engine: a UDP relay
 * on loopback standing in for the border path between clients and a DNS
 * server.
 *
 *   client --> [listen] relay --(delay, jitter, loss)--> [forward] server
 *   client <--(delay, jitter, loss)-- relay <-- server
 *   client <-- forged replies, from the listen address (engine.h), sent
 *              max(0, 2*delay - lead) ms after the query arrived
 *
 * Every datagram from a client goes to the server through an upstream
 * socket owned by that client (address+port), so replies find their way
 * back; the real reply always follows the forged ones (the injector cannot
 * drop it). Loss applies independently to each relayed datagram, not to
 * forged replies. Forged replies carry the injector's IP TTL (IP_TTL /
 * IPV6_HOPLIMIT ancillary data; -1 = the query's TTL, read with IP_RECVTTL)
 * and DF (IP_MTU_DISCOVER toggled around them); the IP ID policy cannot be
 * applied without raw sockets and is only reported in the log.
 *
 * Machinery: one thread, epoll + one timerfd; a timer wheel of 1 ms buckets
 * (delay + jitter <= RELAY_MAX_DELAY_MS); every datagram in flight lives in
 * a preallocated packet slot (no malloc per packet); recvmmsg/sendmmsg in
 * batches of RELAY_BATCH. Datagrams arriving when all slots are busy, or
 * from more than max_clients distinct clients, are dropped and counted.
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

struct relay_config {
	net_addr listen, forward;
	int delay_ms, jitter_ms;       /* one-way */
	double loss_pct;               /* 0..100 */
	struct inj_engine *engine;     /* borrowed; NULL: no injection */
	FILE *log;                     /* borrowed; NULL: no ground truth */
	uint64_t seed;
	unsigned slots;                /* default 16384 */
	unsigned max_clients;          /* default 4096 */
	volatile sig_atomic_t *stop;   /* relay_run returns when *stop != 0 */
	void (*ready)(const net_addr *bound, void *arg); /* called once bound */
	void *ready_arg;
};

struct relay_stats {
	uint64_t queries, forwarded, replies, forged, lost, no_slot, no_client;
};

void relay_config_default(struct relay_config *c);

/* True for 127.0.0.0/8 and ::1 -- the only addresses the relay accepts. */
bool relay_addr_allowed(const net_addr *a);

/* Runs until *stop. Returns 0, or a negative code with a message in err
 * (addresses not allowed, bind failure...). stats may be NULL. */
int relay_run(const struct relay_config *c, struct relay_stats *stats, char *err, size_t errlen);

#endif
