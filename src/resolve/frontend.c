/* frontend — client query checks and locally built answers (see frontend.h). */
#include "resolve/frontend.h"

#include <string.h>

#include "dns/err.h"
#include "dns/rrtype.h"
#include "resolve/cookie.h"

size_t frontend_limit(const msg *q, bool tcp, uint16_t max_udp)
{
	if (tcp)
		return MSG_MAXLEN;
	if (!q->edns.present)
		return 512;
	size_t l = q->edns.udp_size < max_udp ? q->edns.udp_size : max_udp;
	return l < 512 ? 512 : l;
}

static size_t clamp_cap(size_t limit, size_t cap)
{
	return limit < cap ? limit : cap;
}

/* Our OPT for an answer to q (only when q carried one); cookie: client +
 * server cookie (COOKIE_FULL octets) or NULL. */
static void opt_for(const msg *q, uint16_t max_udp, unsigned rcode, int ede, const uint8_t *cookie, edns_out *o)
{
	memset(o, 0, sizeof(*o));
	if (cookie) {
		o->cookie = cookie;
		o->cookie_len = COOKIE_FULL;
	}
	o->udp_size = max_udp;
	o->rcode = (uint16_t)rcode;
	o->flags = q->edns.flags & EDNS_DO;
	if (ede >= 0) {
		o->ede = true;
		o->ede_code = (uint16_t)ede;
	}
}

static int error_ck(const msg *q, unsigned rcode, int ede, uint16_t max_udp, size_t limit, uint8_t *out,
		    size_t cap, const uint8_t *cookie)
{
	msg_wr mw;
	msg_wr_init(&mw, out, clamp_cap(limit, cap));
	msg_wr m2;
	if (msg_wr_reply(&mw, q, (uint16_t)(MSG_RA | edns_rcode_hdr(rcode))) < 0) {
		/* the question does not fit: header only */
		msg_wr_init(&m2, out, clamp_cap(limit, cap));
		if (msg_wr_header(&m2, q->hdr.id, (uint16_t)(MSG_QR | MSG_RA | (q->hdr.flags & (MSG_RD | MSG_CD | MSG_OPCODE_MASK)) |
							   edns_rcode_hdr(rcode))) < 0)
			return DNS_ESPACE;
		return msg_wr_finish(&m2);
	}
	/* (after a failed parse frontend_check clears q->edns.present) */
	if (q->edns.present) {
		edns_out o;
		opt_for(q, max_udp, rcode, ede, cookie, &o);
		if (msg_wr_edns(&mw, &o) == DNS_ESPACE && cookie) { /* try without the cookie */
			opt_for(q, max_udp, rcode, ede, NULL, &o);
			msg_wr_edns(&mw, &o);
		}
		/* no room at all: the answer goes without OPT */
	}
	return msg_wr_finish(&mw);
}

int frontend_error(const msg *q, unsigned rcode, int ede, uint16_t max_udp, size_t limit,
		   uint8_t *out, size_t cap)
{
	return error_ck(q, rcode, ede, max_udp, limit, out, cap, NULL);
}

static int any_ck(const msg *q, uint16_t max_udp, size_t limit, uint8_t *out, size_t cap, const uint8_t *cookie)
{
	static const uint8_t hinfo[] = {7, 'R', 'F', 'C', '8', '4', '8', '2', 0};
	msg_wr mw;
	msg_wr_init(&mw, out, clamp_cap(limit, cap));
	if (msg_wr_reply(&mw, q, MSG_RA) < 0)
		return DNS_ESPACE;
	edns_out o;
	if (q->edns.present) {
		opt_for(q, max_udp, 0, -1, cookie, &o);
		if (msg_wr_reserve(&mw, edns_size(&o)) < 0)
			return DNS_ESPACE;
	}
	if (msg_wr_rr(&mw, MSG_ANSWER, q->qname, RR_HINFO, CLASS_IN, 3600, hinfo, sizeof(hinfo)) == DNS_ESPACE)
		msg_wr_set_flags(&mw, msg_wr_flags(&mw) | MSG_TC);
	if (q->edns.present) {
		msg_wr_release(&mw);
		msg_wr_edns(&mw, &o);
	}
	return msg_wr_finish(&mw);
}

int frontend_any(const msg *q, uint16_t max_udp, size_t limit, uint8_t *out, size_t cap)
{
	return any_ck(q, max_udp, limit, out, cap, NULL);
}

static int answer(int len)
{
	return len > 0 ? len : FRONTEND_DROP;
}

/* The client + server cookie for an answer to q into buf, or NULL (no
 * cookies, or q carried none). */
static const uint8_t *cookie_for(const msg *q, const frontend_cookies *ck, uint8_t *buf)
{
	if (!ck || !ck->secret || !q->edns.present || !(q->edns.opts & EDNS_HAS_COOKIE) ||
	    q->edns.cookie_len < COOKIE_CLIENT)
		return NULL;
	return cookie_make(ck->secret, q->edns.cookie, ck->peer, ck->now, buf) == COOKIE_FULL ? buf : NULL;
}

size_t frontend_add_cookie(const msg *q, const frontend_cookies *ck, uint8_t *resp, size_t len, size_t limit)
{
	uint8_t c[COOKIE_FULL];
	if (!cookie_for(q, ck, c) || len > MSG_MAXLEN || len + 4 + COOKIE_FULL > limit)
		return len;
	msg a;
	if (msg_parse_query(&a, resp, len) < 0 || !a.opt_off || !a.edns.present || (a.edns.opts & EDNS_HAS_COOKIE) ||
	    a.end != len)
		return len;
	size_t o = a.opt_off; /* owner (root), TYPE, CLASS, TTL, RDLENGTH */
	if (resp[o] != 0 || o + 11 > len)
		return len;
	size_t rdlen = (size_t)resp[o + 9] << 8 | resp[o + 10];
	if (o + 11 + rdlen != len || rdlen + 4 + COOKIE_FULL > 65535)
		return len; /* OPT is not the last RR (a TSIG after it?) */
	uint8_t *p = resp + len;
	p[0] = 0;
	p[1] = EDNS_OPT_COOKIE;
	p[2] = 0;
	p[3] = COOKIE_FULL;
	memcpy(p + 4, c, COOKIE_FULL);
	rdlen += 4 + COOKIE_FULL;
	resp[o + 9] = (uint8_t)(rdlen >> 8);
	resp[o + 10] = (uint8_t)rdlen;
	return len + 4 + COOKIE_FULL;
}

int frontend_check(const uint8_t *req, size_t len, bool tcp, bool allowed, uint16_t max_udp,
		   const frontend_cookies *ck, msg *q, size_t *limit, uint8_t *out, size_t cap,
		   frontend_stats *st)
{
	frontend_stats dummy;
	if (!st)
		st = &dummy;
	FRONTEND_INC(st->queries);
	if (len < MSG_HDRLEN || (req[2] & 0x80)) { /* short, or QR = 1 */
		FRONTEND_INC(st->dropped);
		return FRONTEND_DROP;
	}
	int rc = msg_parse_query(q, req, len);
	if (rc < 0) {
		if (!msg_err_is_formerr(q, rc)) {
			FRONTEND_INC(st->dropped);
			return FRONTEND_DROP;
		}
		q->edns.present = false;
		size_t l = tcp ? MSG_MAXLEN : 512;
		if (!allowed) {
			FRONTEND_INC(st->refused_acl);
			return answer(frontend_error(q, RCODE_REFUSED, -1, max_udp, l, out, cap));
		}
		FRONTEND_INC(st->formerr);
		return answer(frontend_error(q, RCODE_FORMERR, -1, max_udp, l, out, cap));
	}
	*limit = frontend_limit(q, tcp, max_udp);
	unsigned rcode;
	int ede = -1;
	uint8_t cbuf[COOKIE_FULL];
	if (!allowed) {
		FRONTEND_INC(st->refused_acl);
		rcode = RCODE_REFUSED;
		ede = FRONTEND_EDE_PROHIBITED;
	} else if (msg_flags_opcode(q->hdr.flags) != OPCODE_QUERY) {
		FRONTEND_INC(st->notimp);
		rcode = RCODE_NOTIMP;
	} else if (q->edns.present && q->edns.version != 0) {
		FRONTEND_INC(st->badvers); /* (options unread: no cookie) */
		rcode = RCODE_BADVERS;
	} else if (q->qname_len == 0 && q->hdr.qdcount == 0 && ck && ck->secret && q->edns.present &&
		   (q->edns.opts & EDNS_HAS_COOKIE)) {
		/* RFC 7873 §5.4: a client asking for a server cookie */
		FRONTEND_INC(st->cookie_only);
		rcode = RCODE_NOERROR;
		if (q->edns.cookie_len > COOKIE_CLIENT &&
		    !cookie_valid(ck->secret, q->edns.cookie, q->edns.cookie_len, ck->peer, ck->now))
			rcode = RCODE_BADCOOKIE;
	} else if (q->qname_len == 0 || q->qtype == RR_OPT) {
		FRONTEND_INC(st->formerr);
		rcode = RCODE_FORMERR;
	} else if (q->qclass != CLASS_IN || q->tsig_off) {
		FRONTEND_INC(st->refused_class);
		rcode = RCODE_REFUSED;
	} else {
		switch (q->qtype) {
		case RR_AXFR:
		case RR_IXFR:
		case RR_MAILA:
		case RR_MAILB:
			FRONTEND_INC(st->notimp);
			rcode = RCODE_NOTIMP;
			break;
		case RR_ANY:
			FRONTEND_INC(st->any);
			return answer(any_ck(q, max_udp, *limit, out, cap, cookie_for(q, ck, cbuf)));
		default:
			FRONTEND_INC(st->lookups);
			return FRONTEND_LOOKUP;
		}
	}
	return answer(error_ck(q, rcode, ede, max_udp, *limit, out, cap, cookie_for(q, ck, cbuf)));
}

int frontend_relay(const msg *q, const uint8_t *resp, size_t resp_len, uint16_t max_udp, size_t limit,
		   uint8_t *out, size_t cap, msg_rr *rrs, unsigned nrrs)
{
	msg m;
	int rc = msg_parse(&m, resp, resp_len, rrs, nrrs);
	if (rc < 0)
		return rc;
	unsigned rcode = msg_rcode(&m);
	uint16_t flags = (uint16_t)(MSG_RA | edns_rcode_hdr(rcode));
	if ((m.hdr.flags & MSG_AD) && ((q->edns.present && (q->edns.flags & EDNS_DO)) || (q->hdr.flags & MSG_AD)))
		flags |= MSG_AD;
	msg_wr mw;
	msg_wr_init(&mw, out, clamp_cap(limit, cap));
	if (msg_wr_reply(&mw, q, flags) < 0)
		return DNS_ESPACE;
	edns_out o;
	if (q->edns.present) {
		opt_for(q, max_udp, rcode, -1, NULL, &o);
		if (msg_wr_reserve(&mw, edns_size(&o)) < 0)
			return DNS_ESPACE;
	}
	uint8_t owner[NAME_MAXLEN], prev_owner[NAME_MAXLEN];
	static _Thread_local uint8_t rdbuf[MSG_MAXLEN];
	msg_wr_mark set_start;
	msg_wr_save(&mw, &set_start);
	int prev_type = -1, prev_sec = -1, prev_class = -1;
	prev_owner[0] = 0;
	for (unsigned i = m.hdr.qdcount; i < m.nrr; i++) {
		const msg_rr *rr = &m.rr[i];
		if (rr->type == RR_OPT || rr->type == RR_TSIG)
			continue;
		if (msg_rr_owner(&m, rr, owner) < 0)
			return DNS_EFORMAT;
		if (rr->type != prev_type || rr->section != prev_sec || rr->rclass != prev_class ||
		    !name_eq(owner, prev_owner)) {
			msg_wr_save(&mw, &set_start);
			prev_type = rr->type;
			prev_sec = rr->section;
			prev_class = rr->rclass;
			name_copy(prev_owner, owner);
		}
		wire_wr rd;
		wire_wr_init(&rd, rdbuf, sizeof(rdbuf));
		if ((rc = msg_rr_rdata(&m, rr, &rd)) < 0)
			return rc;
		rc = msg_wr_rr(&mw, rr->section, owner, rr->type, rr->rclass, rr->ttl, rdbuf,
			       (uint16_t)wire_wr_off(&rd));
		if (rc == DNS_ESPACE) {
			msg_wr_restore(&mw, &set_start);
			msg_wr_set_flags(&mw, msg_wr_flags(&mw) | MSG_TC);
			break;
		}
		if (rc < 0)
			return rc;
	}
	if (q->edns.present) {
		msg_wr_release(&mw);
		msg_wr_edns(&mw, &o);
	}
	return msg_wr_finish(&mw);
}
