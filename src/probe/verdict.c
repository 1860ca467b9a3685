/* verdict — forged/genuine classification of replies. */
#include "probe/verdict.h"

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

uint64_t verdict_set_hash(const struct probe_addr *a, unsigned n)
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
	       verdict_set_hash(a->addr, a->naddr) == verdict_set_hash(b->addr, b->naddr);
}

enum verdict verdict_judge(const struct verdict_ctx *c, const struct probe_result *r, uint8_t *cls)
{
	unsigned n = r->nrep;
	for (unsigned i = 0; i < PROBE_MAXREP; i++)
		cls[i] = REPLY_UNKNOWN;
	if (!n)
		return r->extra && c->silent ? VERDICT_FORGED : VERDICT_NONE;
	if (c->silent) {
		for (unsigned i = 0; i < n; i++)
			cls[i] = REPLY_FORGED;
		return VERDICT_FORGED;
	}
	if (c->ctl && c->ctl->ok) {
		bool forged = false;
		for (unsigned i = 0; i < n; i++) {
			const struct probe_reply *p = &r->rep[i];
			bool agree = msg_flags_rcode(p->flags) == c->ctl->rcode && p->naddr == c->ctl->naddr &&
				     verdict_set_hash(p->addr, p->naddr) == c->ctl->set;
			cls[i] = agree ? REPLY_GENUINE : REPLY_FORGED;
			forged |= !agree;
		}
		return forged ? VERDICT_FORGED : VERDICT_GENUINE;
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
			cls[i] = r->rep[i].opt ? REPLY_GENUINE : REPLY_FORGED;
		return VERDICT_FORGED;
	}
	if (differ)
		return VERDICT_CONFLICT;
	for (unsigned i = 0; i < n; i++)
		cls[i] = REPLY_GENUINE;
	return VERDICT_GENUINE;
}

const char *verdict_name(enum verdict v)
{
	static const char *n[VERDICT_N] = {"none", "genuine", "forged", "conflict"};
	return (unsigned)v < VERDICT_N ? n[v] : "?";
}

const char *reply_class_name(enum reply_class c)
{
	return c == REPLY_GENUINE ? "genuine" : c == REPLY_FORGED ? "forged" : "unknown";
}
