/* rrl — response rate limiting for `antidote serve` over UDP, the idea of
 * Vixie and Schryver's RRL as NSD, Knot and BIND have it. An authoritative
 * server is an amplifier: a small query with a spoofed source buys a large
 * answer sent to the victim. RRL cuts a flood of alike responses to one
 * client network to `rate` a second; of the responses over the limit every
 * `slip`-th goes out as a minimal truncated reply (header and question, TC
 * set: smaller than the query's amplification, and a real client behind
 * that address retries over TCP, which RRL never limits), the rest are
 * dropped. Legitimate resolvers ask each name once per TTL, far below any
 * sensible rate.
 *
 * KEY. Client network (IPv4 /v4_prefix, default 24; IPv6 /v6_prefix,
 * default 56) x response kind (answer, NXDOMAIN, NODATA, referral, error)
 * x name: the question's for answers and errors; for NXDOMAIN, NODATA and
 * referrals the owner of the first authority record (the zone, or the
 * delegation), so a flood of random names under one zone shares a bucket.
 *
 * COUNTING. One-second windows. A fixed table of 64-bit words (a key tag,
 * the window's second, a count), shared by every thread and updated with
 * compare-and-swap: no locks, nothing allocated per packet. Lossy by
 * design: two keys colliding in a slot reset each other's count, so a
 * limit can be exceeded under collisions, but one key's flood never limits
 * another key.
 *
 * THREADS. rrl_check and rrl_read_stats from any thread. */
#ifndef ANTIDOTE_SERVE_RRL_H
#define ANTIDOTE_SERVE_RRL_H

#include <stddef.h>
#include <stdint.h>

#include "net/addr.h"

typedef struct rrl_config {
	unsigned rate;        /* responses per second per key; 0: RRL off */
	unsigned slip;        /* every slip-th limited response is truncated
			       * instead of dropped (0: drop all; 1: truncate
			       * all; default 2) */
	unsigned v4_prefix;   /* 8..32 (default 24) */
	unsigned v6_prefix;   /* 16..128 (default 56) */
	unsigned table_bits;  /* 2^bits slots (default 20: 8 MiB) */
} rrl_config;

enum rrl_kind { RRL_ANSWER, RRL_NXDOMAIN, RRL_NODATA, RRL_REFERRAL, RRL_ERROR };
enum rrl_action { RRL_SEND, RRL_SLIP, RRL_DROP };

typedef struct rrl rrl;

typedef struct rrl_stats {
	uint64_t checked, limited, slipped; /* limited = slipped + dropped */
} rrl_stats;

void rrl_config_default(rrl_config *c);
/* NULL when out of memory or rate is 0. */
rrl *rrl_new(const rrl_config *c);
void rrl_free(rrl *r);

/* The kind of a response and the name it is accounted under (written to
 * name, NAME_MAXLEN octets). Returns the kind, or -1 when resp does not
 * parse (then it is not limited). */
int rrl_classify(const uint8_t *resp, size_t len, uint8_t *name);

/* What to do with one UDP response to peer at monotonic second now_s. */
enum rrl_action rrl_check(rrl *r, const net_addr *peer, const uint8_t *resp, size_t len, uint32_t now_s);

/* Rewrites resp (len octets, a response rrl_classify accepted) in place as
 * the slip reply: header with TC set and counts 1/0/0/0, and the question.
 * Returns the new length, or a negative DNS_E* code. */
int rrl_truncate(uint8_t *resp, size_t len);

void rrl_read_stats(const rrl *r, rrl_stats *out);

#endif
