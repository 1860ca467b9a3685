/* rrl — response rate limiting (rrl.h). */
#include "serve/rrl.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dns/err.h"
#include "dns/name.h"
#include "dns/wire.h"

struct rrl {
	rrl_config c;
	uint64_t mask;
	_Atomic uint64_t *slots;  /* tag:32 | second:16 | count:16 */
	_Atomic uint64_t checked, limited, slipped;
};

void rrl_config_default(rrl_config *c)
{
	memset(c, 0, sizeof(*c));
	c->slip = 2;
	c->v4_prefix = 24;
	c->v6_prefix = 56;
	c->table_bits = 20;
}

rrl *rrl_new(const rrl_config *c)
{
	if (!c->rate || c->table_bits < 4 || c->table_bits > 28)
		return NULL;
	rrl *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->c = *c;
	r->mask = (1ull << c->table_bits) - 1;
	r->slots = calloc(r->mask + 1, sizeof(*r->slots));
	if (!r->slots) {
		free(r);
		return NULL;
	}
	return r;
}

void rrl_free(rrl *r)
{
	if (!r)
		return;
	free(r->slots);
	free(r);
}

int rrl_classify(const uint8_t *resp, size_t len, uint8_t *name)
{
	wire_rd rd;
	wire_rd_init(&rd, resp, len);
	wire_rd_skip(&rd, 2);
	uint16_t flags = wire_rd_u16(&rd), qd = wire_rd_u16(&rd), an = wire_rd_u16(&rd);
	uint16_t ns = wire_rd_u16(&rd);
	wire_rd_skip(&rd, 2);
	if (rd.err || qd != 1 || name_unpack(&rd, name) < 0)
		return -1;
	wire_rd_skip(&rd, 4);
	unsigned rcode = flags & 0xf;
	bool aa = flags & 0x0400;
	if (rcode != 0 && rcode != 3)
		return RRL_ERROR;
	if (rcode == 0 && an)
		return RRL_ANSWER;
	/* NXDOMAIN, NODATA, referral: the first authority owner names the zone
	 * or the delegation (the question's name when there is none) */
	for (unsigned i = 0; i < an && !rd.err; i++) {
		name_unpack(&rd, NULL);
		wire_rd_skip(&rd, 8);
		wire_rd_skip(&rd, wire_rd_u16(&rd));
	}
	if (ns && !rd.err) {
		uint8_t owner[NAME_MAXLEN];
		if (name_unpack(&rd, owner) > 0)
			memcpy(name, owner, name_len(owner));
	}
	if (rcode == 3)
		return RRL_NXDOMAIN;
	return aa ? RRL_NODATA : RRL_REFERRAL;
}

/* Hash of the client's network. */
static uint64_t net_hash(const rrl *r, const net_addr *a)
{
	uint8_t b[16] = {0};
	unsigned bits, n;
	if (addr_family(a) == AF_INET) {
		memcpy(b, &a->u.in4.sin_addr, 4);
		bits = r->c.v4_prefix;
		n = 4;
	} else {
		memcpy(b, &a->u.in6.sin6_addr, 16);
		bits = r->c.v6_prefix;
		n = 16;
	}
	for (unsigned i = 0; i < n; i++) {
		unsigned keep = bits >= 8 * (i + 1) ? 8 : bits > 8 * i ? bits - 8 * i : 0;
		b[i] &= (uint8_t)(0xff00u >> keep);
	}
	uint64_t h = 0xcbf29ce484222325ull ^ n;
	for (unsigned i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

enum rrl_action rrl_check(rrl *r, const net_addr *peer, const uint8_t *resp, size_t len, uint32_t now_s)
{
	uint8_t name[NAME_MAXLEN];
	int kind = rrl_classify(resp, len, name);
	if (kind < 0)
		return RRL_SEND;
	atomic_fetch_add_explicit(&r->checked, 1, memory_order_relaxed);
	uint64_t h = net_hash(r, peer) ^ (name_hash(name, name_len(name)) * 0x9e3779b97f4a7c15ull) ^
		     ((uint64_t)kind << 59);
	h ^= h >> 29;
	_Atomic uint64_t *slot = &r->slots[h & r->mask];
	uint64_t tag = (h >> 32) & 0xffffffffull, sec = now_s & 0xffff;
	uint64_t old = atomic_load_explicit(slot, memory_order_relaxed), count;
	for (;;) {
		if ((old >> 32) == tag && ((old >> 16) & 0xffff) == sec)
			count = (old & 0xffff) + 1;
		else
			count = 1; /* a new second, or another key: start afresh */
		if (count > 0xffff)
			count = 0xffff;
		uint64_t nw = tag << 32 | sec << 16 | count;
		if (atomic_compare_exchange_weak_explicit(slot, &old, nw, memory_order_relaxed,
							  memory_order_relaxed))
			break;
	}
	if (count <= r->c.rate)
		return RRL_SEND;
	atomic_fetch_add_explicit(&r->limited, 1, memory_order_relaxed);
	if (r->c.slip && (count - r->c.rate) % r->c.slip == 0) {
		atomic_fetch_add_explicit(&r->slipped, 1, memory_order_relaxed);
		return RRL_SLIP;
	}
	return RRL_DROP;
}

int rrl_truncate(uint8_t *resp, size_t len)
{
	wire_rd rd;
	wire_rd_init(&rd, resp, len);
	wire_rd_skip(&rd, 12);
	if (name_unpack(&rd, NULL) < 0)
		return DNS_EFORMAT;
	wire_rd_skip(&rd, 4);
	if (rd.err)
		return DNS_EFORMAT;
	size_t n = len - wire_rd_left(&rd);
	resp[2] |= 0x02; /* TC */
	static const uint8_t counts[8] = {0, 1, 0, 0, 0, 0, 0, 0};
	memcpy(resp + 4, counts, sizeof(counts));
	return (int)n;
}

void rrl_read_stats(const rrl *r, rrl_stats *out)
{
	out->checked = atomic_load_explicit(&r->checked, memory_order_relaxed);
	out->limited = atomic_load_explicit(&r->limited, memory_order_relaxed);
	out->slipped = atomic_load_explicit(&r->slipped, memory_order_relaxed);
}
