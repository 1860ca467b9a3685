/* users — the lab's load generator: simulated users asking every resolver
 * under test for the same names at the same time, checking each reply
 * against the truth (truth.h) and recording it (report.h).
 *
 * Names are drawn from the sites with Zipf popularity (zipf.h) over the
 * sites' ranks (internet.h). Each resolver (target) gets its own UDP socket;
 * query IDs are sequential per target and index a preallocated slot table,
 * so the oldest outstanding query is always the next to expire. Nothing is
 * allocated per query.
 *
 * Besides the user traffic, users keep every forged answer (site and
 * address, in a log preallocated at users_new, for the cross-check with
 * the injector's log) and remember for each target and site whether a
 * forged answer for a name off the blocklist was seen during the fault;
 * users_probe re-asks exactly those names to count forged entries left in a resolver's cache.
 *
 * Drive it from one thread: users_start, then users_step repeatedly. */
#ifndef ANTIDOTE_LAB_USERS_H
#define ANTIDOTE_LAB_USERS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "lab/internet.h"
#include "lab/report.h"

#define USERS_MAXTARGETS REPORT_MAXRES

struct users_target {
	struct sockaddr_in addr; /* 127.0.0.0/8 only */
	unsigned res;            /* index in the report */
};

struct users_cfg {
	unsigned rate;       /* queries per second to each target (default 500) */
	unsigned timeout_ms; /* a query unanswered this long is a timeout (default 1500) */
	double zipf_s;       /* Zipf exponent (default 1.0) */
	uint64_t seed;
	unsigned aaaa_pct;   /* share of AAAA queries (default 0) */
	unsigned probe_rate; /* probe queries per second per target (default 2000) */
	unsigned max_s;      /* longest run in seconds, sizes the event log (default 120) */
};

/* One forged answer users got (kept for the cross-check with the
 * injector's log). */
struct users_event {
	uint32_t site;
	uint16_t target;
	uint8_t alen;
	uint8_t addr[16];
};

struct users;

void users_cfg_default(struct users_cfg *c);

/* net and rep are borrowed and must outlive u. Returns NULL with a message
 * in err (bad config, socket failure, no memory). */
struct users *users_new(const struct users_cfg *c, const struct internet *net, const struct users_target *t,
			unsigned nt, struct report *rep, char *err, size_t errlen);
void users_free(struct users *u);

/* Sets time 0 (user traffic starts now). */
void users_start(struct users *u);
/* Milliseconds since users_start (CLOCK_MONOTONIC). */
int64_t users_now_ms(const struct users *u);

/* Sends what is due (user queries until `until_ms` only; probes always),
 * reads replies for at most wait_ms, expires old queries. */
void users_step(struct users *u, int64_t until_ms, int wait_ms);

/* Queues a probe (slot 0 or 1 of report_res.probe) of target t for every
 * site with in_fault set; returns the number queued. */
unsigned users_probe(struct users *u, unsigned t, int slot);

/* Queries still outstanding or queued probes, over all targets. */
unsigned users_busy(const struct users *u);

/* Forged answers seen (user queries, not probes), in order; *lost counts
 * those that did not fit (capacity: rate x (max_s + 10) x targets). */
const struct users_event *users_events(const struct users *u, size_t *n, size_t *lost);
/* Whether target t got a forged answer for site during the fault while
 * the site is off the blocklist. */
bool users_forged_in_fault(const struct users *u, unsigned t, unsigned site);

#endif
