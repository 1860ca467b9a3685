/* xfr — outgoing zone transfers (xfr.h). */
#include "serve/xfr.h"

#include "dns/err.h"
#include "dns/rrtype.h"

/* First slot at or after i holding a node (ht_size when none). */
static size_t next_node(const zone *z, size_t i)
{
	while (i < z->ht_size && !z->ht[i])
		i++;
	return i;
}

static void enter_node(xfr_cursor *c, size_t i)
{
	c->node = next_node(c->z, i);
	c->set = c->node < c->z->ht_size ? c->z->ht[c->node]->rrsets : NULL;
	c->rr = c->set ? c->set->rrs : NULL;
}

void xfr_start(xfr_cursor *c, const zone *z, const msg *q)
{
	c->z = z;
	c->q = q;
	enter_node(c, 0);
	c->phase = 0;
	c->records = c->messages = 0;
}

static int put_soa(xfr_cursor *c, msg_wr *mw)
{
	const zone_rdata *r = c->z->soa->rrs;
	return msg_wr_rr(mw, MSG_ANSWER, c->z->apex->name, RR_SOA, CLASS_IN, r->ttl, r->data, r->len);
}

/* Moves the cursor past records it must not send here (the apex SOA, sent
 * first and last) and past exhausted RRsets and nodes. False when the zone
 * has no more records. */
static bool settle(xfr_cursor *c)
{
	for (;;) {
		if (c->node >= c->z->ht_size)
			return false;
		const zone_node *n = c->z->ht[c->node];
		if (c->set && c->rr && !(n == c->z->apex && c->set->type == RR_SOA))
			return true;
		if (c->set) {
			/* the apex SOA, or an RRset done: the next RRset */
			c->set = c->set->next;
			c->rr = c->set ? c->set->rrs : NULL;
			continue;
		}
		enter_node(c, c->node + 1);
	}
}

int xfr_next(xfr_cursor *c, uint8_t *buf, size_t cap, bool *last)
{
	*last = false;
	if (c->phase == 3)
		return 0;
	msg_wr mw;
	msg_wr_init(&mw, buf, cap < XFR_MSG_TARGET ? cap : XFR_MSG_TARGET);
	if (msg_wr_reply(&mw, c->q, MSG_AA) < 0)
		return DNS_ESPACE;
	unsigned n = 0;
	if (c->phase == 0) {
		if (put_soa(c, &mw) < 0)
			return DNS_ESPACE;
		n++;
		c->phase = 1;
	}
	while (c->phase == 1) {
		if (!settle(c)) {
			c->phase = 2;
			break;
		}
		const zone_node *nd = c->z->ht[c->node];
		if (msg_wr_rr(&mw, MSG_ANSWER, nd->name, c->set->type, CLASS_IN, c->rr->ttl, c->rr->data,
			      c->rr->len) < 0) {
			if (!n)
				return DNS_ESPACE; /* one record larger than a message */
			break;
		}
		n++;
		c->records++;
		c->rr = c->rr->next;
	}
	if (c->phase == 2) {
		if (put_soa(c, &mw) == 0) {
			n++;
			c->phase = 3;
			*last = true;
		} else if (!n) {
			return DNS_ESPACE;
		}
	}
	int len = msg_wr_finish(&mw);
	if (len > 0)
		c->messages++;
	return len;
}

int xfr_error(const msg *q, unsigned rcode, uint8_t *buf, size_t cap)
{
	msg_wr mw;
	msg_wr_init(&mw, buf, cap);
	if (msg_wr_reply(&mw, q, 0) < 0)
		return DNS_ESPACE;
	msg_wr_set_flags(&mw, (uint16_t)((msg_wr_flags(&mw) & ~MSG_RCODE_MASK) | (rcode & MSG_RCODE_MASK)));
	return msg_wr_finish(&mw);
}
