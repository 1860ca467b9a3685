/* judge — forged/genuine classification of replies. */
#include "probe/judge.h"

#include "dns/msg.h"

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

uint64_t judge_set_hash(const struct probe_addr *a, unsigned n)
{
	uint64_t h = 0;
	for (unsigned i = 0; i < n; i++) {
		uint64_t x = a[i].family;
		for (unsigned k = 0; k < (a[i].family == 4 ? 4u : 16u); k++)
			x = mix(x * 131 + a[i].a[k]);
		h += mix(x); /* sum: order-independent (duplicates count twice) */
	}
	return h;
}

static bool same_answer(const struct probe_reply *a, const struct probe_reply *b)
{
	return msg_flags_rcode(a->flags) == msg_flags_rcode(b->flags) && a->naddr == b->naddr &&
	       judge_set_hash(a->addr, a->naddr) == judge_set_hash(b->addr, b->naddr);
}

enum judge_verdict judge_result(const struct judge_ctx *c, const struct probe_result *r, uint8_t *cls)
{
	unsigned n = r->nrep;
	for (unsigned i = 0; i < PROBE_MAXREP; i++)
		cls[i] = JR_UNKNOWN;
	if (!n)
		return r->extra && c->silent ? JV_FORGED : JV_NONE;
	if (c->silent) {
		for (unsigned i = 0; i < n; i++)
			cls[i] = JR_FORGED;
		return JV_FORGED;
	}
	if (c->ctl && c->ctl->ok) {
		bool forged = false;
		for (unsigned i = 0; i < n; i++) {
			const struct probe_reply *p = &r->rep[i];
			bool agree = msg_flags_rcode(p->flags) == c->ctl->rcode && p->naddr == c->ctl->naddr &&
				     judge_set_hash(p->addr, p->naddr) == c->ctl->set;
			cls[i] = agree ? JR_GENUINE : JR_FORGED;
			forged |= !agree;
		}
		return forged ? JV_FORGED : JV_GENUINE;
	}
	bool differ = false, some_opt = false, some_noopt = false;
	for (unsigned i = 0; i < n; i++) {
		if (i && !same_answer(&r->rep[0], &r->rep[i]))
			differ = true;
		if (r->rep[i].opt)
			some_opt = true;
		else
			some_noopt = true;
	}
	if (c->edns_sent && some_opt && some_noopt) {
		for (unsigned i = 0; i < n; i++)
			cls[i] = r->rep[i].opt ? JR_GENUINE : JR_FORGED;
		return JV_FORGED;
	}
	if (differ)
		return JV_CONFLICT;
	for (unsigned i = 0; i < n; i++)
		cls[i] = JR_GENUINE;
	return JV_GENUINE;
}

const char *judge_name(enum judge_verdict v)
{
	static const char *n[JV_N] = {"none", "genuine", "forged", "conflict"};
	return (unsigned)v < JV_N ? n[v] : "?";
}

const char *judge_class_name(enum judge_class c)
{
	return c == JR_GENUINE ? "genuine" : c == JR_FORGED ? "forged" : "unknown";
}
