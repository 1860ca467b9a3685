/* truth — one reply against the lab's truth (see truth.h). */
#include <string.h>

#include "dns/msg.h"
#include "dns/rrtype.h"
#include "lab/truth.h"

#define TRUTH_MAXRR 48

const char *truth_name(enum truth_verdict v)
{
	static const char *n[TRUTH_N] = {"genuine", "forged", "servfail", "other", "timeout"};
	return (unsigned)v < TRUTH_N ? n[v] : "?";
}

void truth_check(const uint8_t *pkt, size_t len, const struct site *s, uint16_t qtype, struct truth_result *out)
{
	memset(out, 0, sizeof(*out));
	out->verdict = TRUTH_OTHER;
	if (len >= 2)
		out->id = (uint16_t)(pkt[0] << 8 | pkt[1]);
	msg m;
	msg_rr rrs[TRUTH_MAXRR];
	if (msg_parse(&m, pkt, len, rrs, TRUTH_MAXRR) < 0)
		return;
	if (!(m.hdr.flags & MSG_QR) || m.hdr.qdcount != 1)
		return;
	uint8_t want[NAME_MAXLEN];
	if (name_from_text(s->name, strlen(s->name), (const uint8_t *)"", want) < 0)
		return;
	if (!name_eq(m.qname, want) || m.qtype != qtype || m.qclass != CLASS_IN)
		return;
	unsigned rc = msg_rcode(&m);
	if (rc == RCODE_SERVFAIL) {
		out->verdict = TRUTH_SERVFAIL;
		return;
	}
	if (rc != RCODE_NOERROR)
		return;
	unsigned n;
	const msg_rr *an = msg_sec(&m, MSG_ANSWER, &n);
	int good = 0;
	for (unsigned i = 0; i < n; i++) {
		const msg_rr *rr = &an[i];
		if (rr->rclass != CLASS_IN || !((rr->type == RR_A && rr->rdlen == 4) || (rr->type == RR_AAAA && rr->rdlen == 16)))
			continue;
		uint8_t owner[NAME_MAXLEN];
		if (msg_rr_owner(&m, rr, owner) < 0 || !name_eq(owner, want))
			continue;
		const uint8_t *addr = m.wire + rr->rdata;
		if (!internet_is_truth(s, addr, rr->rdlen)) {
			out->verdict = TRUTH_FORGED;
			memcpy(out->addr, addr, rr->rdlen);
			out->alen = (uint8_t)rr->rdlen;
			out->ttl = rr->ttl;
			return;
		}
		if (!good++)
			out->ttl = rr->ttl;
	}
	if (good)
		out->verdict = TRUTH_GENUINE;
}
