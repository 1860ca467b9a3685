/* inflight — one worker's table of questions in flight upstream, for
 * coalescing: every client query whose cache key (cache.h: lowercased
 * qname, qtype, qclass, DO, CD) matches a pending question waits on it
 * instead of sending its own, so N identical concurrent queries cost ONE
 * upstream transaction; each waiter later gets the answer rebuilt for it
 * (its ID, its question's case, its size limit).
 *
 * Owned by one thread (the worker's event thread): no locks. Entries come
 * from a pool of `cap` allocated by inflight_new (no allocation per query);
 * a chained hash table (power-of-two buckets ≥ 2 cap) finds them. Waiters
 * are the caller's structures with an inflight_waiter embedded; an entry
 * keeps them in arrival order (a singly linked FIFO) and never frees them.
 *
 * The caller's per-question state lives in the entry's public fields below
 * the key (txn, timer, flags, user): the table only clears them on add. */
#ifndef ANTIDOTE_RESOLVE_INFLIGHT_H
#define ANTIDOTE_RESOLVE_INFLIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/name.h"
#include "resolve/cache.h"

typedef struct inflight_waiter {
	struct inflight_waiter *next;
} inflight_waiter;

typedef struct inflight_entry {
	/* key (read-only for the caller) */
	uint8_t qname[NAME_MAXLEN]; /* lowercased */
	uint8_t qname_len;
	uint16_t qtype, qclass;
	bool do_bit, cd_bit;
	uint64_t hash;
	/* waiters (use inflight_join / inflight_take) */
	inflight_waiter *head, **tail;
	unsigned nwaiters;
	/* the caller's; zeroed by inflight_add */
	void *txn;
	unsigned flags;
	uint64_t started_us;
	void *user;
	/* the table's */
	struct inflight_entry *hnext_;
	bool used_;
} inflight_entry;

typedef struct inflight inflight;

/* cap: most entries at once (≥ 1); max_waiters: most waiters per entry
 * (≥ 1). NULL when out of memory or on zero arguments. */
inflight *inflight_new(unsigned cap, unsigned max_waiters);
void inflight_free(inflight *t);

/* Hash of a key, the same for any case of the name (for choosing which
 * worker owns a key, too). */
uint64_t inflight_hash(const cache_key *k);

/* The entry for k, or NULL. */
inflight_entry *inflight_find(inflight *t, const cache_key *k);
/* Adds an entry for k (the caller checked there is none) with no waiters.
 * NULL when the pool is exhausted. */
inflight_entry *inflight_add(inflight *t, const cache_key *k);
/* Appends w to e's waiters. 0, or DNS_ESPACE at max_waiters. */
int inflight_join(inflight *t, inflight_entry *e, inflight_waiter *w);
/* Detaches and returns e's waiter list (FIFO order, NULL-terminated). */
inflight_waiter *inflight_take(inflight_entry *e);
/* Removes e (its waiters must have been taken) and returns it to the pool. */
void inflight_remove(inflight *t, inflight_entry *e);
/* e's key as a cache_key (borrowing e->qname). */
void inflight_key(const inflight_entry *e, cache_key *k);

/* Pool position of e (0..cap-1), for side arrays (e.g. one timer per
 * entry), and the entry at position i when it is in use (else NULL). */
unsigned inflight_index(const inflight *t, const inflight_entry *e);
inflight_entry *inflight_at(inflight *t, unsigned i);

unsigned inflight_count(const inflight *t);
unsigned inflight_cap(const inflight *t);

#endif
