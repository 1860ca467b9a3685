/* fuzz_msg — both message parsers on arbitrary bytes: they must agree; a
 * message msg_parse accepts is rebuilt with msg_wr (and its OPT with
 * edns_write), reparsed and compared; msg_to_text must not fail. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/msg.h"
#include "dns/rdata.h"
#include "dns/rrtype.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static msg_rr rrs[MSG_MAXRRS], rrs2[MSG_MAXRRS];
static uint8_t out[MSG_MAXLEN];
static uint8_t rd1[MSG_MAXLEN + 1024], rd2[MSG_MAXLEN + 1024];
static char text[1 << 21];

static int lc(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* Storage forms equal, allowing case changes made by compression. */
static bool same_rdata(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (a[i] != b[i] && lc(a[i]) != lc(b[i]))
			return false;
	return true;
}

static void check_agreement(const msg *m, int rf, const msg *q, int rq)
{
	CHECK(m->hdr_ok == q->hdr_ok);
	if (m->hdr_ok)
		CHECK(memcmp(&m->hdr, &q->hdr, sizeof(m->hdr)) == 0);
	if (rf == 0 && m->hdr.qdcount <= 1) {
		CHECK(rq == 0);
		CHECK(q->qname_len == m->qname_len);
		CHECK(memcmp(q->qname, m->qname, m->qname_len) == 0);
		CHECK(q->qtype == m->qtype && q->qclass == m->qclass && q->qend == m->qend);
		CHECK(q->end == m->end && q->trailing == m->trailing);
		CHECK(q->opt_off == m->opt_off && q->tsig_off == m->tsig_off);
		CHECK(q->edns.present == m->edns.present && q->edns.opts == m->edns.opts);
		CHECK(q->edns.udp_size == m->edns.udp_size && q->edns.flags == m->edns.flags);
	}
	if (rq == 0 && rf < 0)
		CHECK(m->hdr.qdcount <= 1); /* only RDATA checks may differ */
	if (rq < 0 && rf == 0)
		CHECK(m->hdr.qdcount > 1 && rq == DNS_EFORMAT);
}

/* Writes m's OPT again with edns_write from its parsed fields. */
static void check_edns_rewrite(const msg *m)
{
	const edns *e = &m->edns;
	if (!e->present || e->version != 0)
		return;
	uint8_t buf[512];
	msg_wr mw;
	msg_wr_init(&mw, buf, sizeof(buf));
	msg_wr_header(&mw, 1, 0);
	edns_out o = { .udp_size = e->udp_size, .rcode = (uint16_t)(e->ext_rcode << 4),
		       .flags = e->flags, .pad_block = (e->opts & EDNS_HAS_PADDING) ? 64 : 0 };
	if (e->opts & EDNS_HAS_NSID) {
		o.nsid = true;
		o.nsid_data = e->nsid;
		o.nsid_len = e->nsid_len > 100 ? 100 : e->nsid_len;
	}
	if (e->opts & EDNS_HAS_COOKIE) {
		o.cookie = e->cookie;
		o.cookie_len = e->cookie_len;
	}
	if (e->opts & EDNS_HAS_ECS) {
		o.ecs = true;
		o.ecs_val = e->ecs;
	}
	if (e->opts & EDNS_HAS_EDE) {
		o.ede = true;
		o.ede_code = e->ede_code;
		o.ede_text = (const char *)e->ede_text;
		o.ede_len = e->ede_len > 100 ? 100 : e->ede_len;
	}
	CHECK(msg_wr_edns(&mw, &o) == 0);
	int len = msg_wr_finish(&mw);
	CHECK(len > 0);
	if (o.pad_block)
		CHECK(len % 64 == 0);
	msg m2;
	CHECK(msg_parse_query(&m2, buf, (size_t)len) == 0);
	const edns *f = &m2.edns;
	CHECK(f->present && f->udp_size == e->udp_size && f->flags == e->flags);
	CHECK(f->ext_rcode == e->ext_rcode);
	CHECK((f->opts & ~EDNS_HAS_PADDING) == (e->opts & ~EDNS_HAS_PADDING));
	if (e->opts & EDNS_HAS_COOKIE)
		CHECK(f->cookie_len == e->cookie_len && !memcmp(f->cookie, e->cookie, e->cookie_len));
	if (e->opts & EDNS_HAS_ECS)
		CHECK(!memcmp(&f->ecs, &e->ecs, sizeof(f->ecs)));
	if (e->opts & EDNS_HAS_NSID)
		CHECK(f->nsid_len == o.nsid_len && !memcmp(f->nsid, e->nsid, o.nsid_len));
}

static bool no_rdata_check(const msg_rr *rr)
{
	return rr->rdlen == 0 && (rr->rclass == CLASS_ANY || rr->rclass == CLASS_NONE);
}

/* Rebuilds m with msg_wr, reparses, compares. */
static void check_rebuild(const msg *m)
{
	msg_wr mw;
	msg_wr_init(&mw, out, sizeof(out));
	CHECK(msg_wr_header(&mw, m->hdr.id, m->hdr.flags) == 0);
	bool truncated = false;
	uint8_t owner[NAME_MAXLEN];
	for (unsigned i = 0; i < m->nrr && !truncated; i++) {
		const msg_rr *rr = &m->rr[i];
		CHECK(msg_rr_owner(m, rr, owner) > 0);
		int rc;
		if (rr->section == MSG_QUESTION) {
			rc = msg_wr_question(&mw, owner, rr->type, rr->rclass);
		} else if (rr->type == RR_OPT || no_rdata_check(rr)) {
			rc = msg_wr_rr_begin(&mw, rr->section, owner, rr->type, rr->rclass, rr->ttl);
			if (rc == 0) {
				wire_wr_bytes(&mw.w, m->wire + rr->rdata, rr->rdlen);
				rc = msg_wr_rr_end(&mw);
			}
		} else {
			wire_wr w;
			wire_wr_init(&w, rd1, sizeof(rd1));
			CHECK(msg_rr_rdata(m, rr, &w) == 0);
			size_t n = wire_wr_off(&w);
			if (n > 0xffff) {
				truncated = true;
				break;
			}
			rc = msg_wr_rr(&mw, rr->section, owner, rr->type, rr->rclass, rr->ttl, rd1,
				       (uint16_t)n);
		}
		if (rc == DNS_ESPACE)
			truncated = true;
		else
			CHECK(rc == 0);
	}
	int len = msg_wr_finish(&mw);
	CHECK(len >= MSG_HDRLEN);
	msg m2;
	CHECK(msg_parse(&m2, out, (size_t)len, rrs2, MSG_MAXRRS) == 0);
	CHECK(m2.hdr.id == m->hdr.id && m2.hdr.flags == m->hdr.flags);
	CHECK(m2.trailing == 0);
	CHECK(m2.nrr <= m->nrr);
	if (!truncated)
		CHECK(m2.nrr == m->nrr && m2.edns.present == m->edns.present &&
		      m2.hdr.qdcount == m->hdr.qdcount && m2.hdr.ancount == m->hdr.ancount &&
		      m2.hdr.nscount == m->hdr.nscount && m2.hdr.arcount == m->hdr.arcount);
	uint8_t owner2[NAME_MAXLEN];
	for (unsigned i = 0; i < m2.nrr; i++) {
		const msg_rr *a = &m->rr[i], *b = &m2.rr[i];
		CHECK(a->section == b->section && a->type == b->type && a->rclass == b->rclass);
		CHECK(a->ttl == b->ttl);
		CHECK(msg_rr_owner(m, a, owner) > 0 && msg_rr_owner(&m2, b, owner2) > 0);
		CHECK(name_eq(owner, owner2));
		if (a->section == MSG_QUESTION)
			continue;
		if (a->type == RR_OPT || no_rdata_check(a)) {
			CHECK(a->rdlen == b->rdlen && !memcmp(m->wire + a->rdata, out + b->rdata, a->rdlen));
			continue;
		}
		wire_wr w1, w2;
		wire_wr_init(&w1, rd1, sizeof(rd1));
		wire_wr_init(&w2, rd2, sizeof(rd2));
		CHECK(msg_rr_rdata(m, a, &w1) == 0 && msg_rr_rdata(&m2, b, &w2) == 0);
		CHECK(same_rdata(rd1, wire_wr_off(&w1), rd2, wire_wr_off(&w2)));
	}
	if (m2.edns.present && m->edns.present) {
		CHECK(m2.edns.opts == m->edns.opts && m2.edns.nopts == m->edns.nopts);
		CHECK(m2.edns.rdlen == m->edns.rdlen);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	msg m, q;
	int rf = msg_parse(&m, data, size, rrs, MSG_MAXRRS);
	int rq = msg_parse_query(&q, data, size);
	check_agreement(&m, rf, &q, rq);
	if (rq == 0)
		CHECK(msg_to_text(&q, text, sizeof(text)) > 0); /* header + question only */
	if (rf != 0)
		return 0;
	int tl = msg_to_text(&m, text, sizeof(text));
	CHECK(tl > 0 || tl == DNS_ESPACE); /* text can be ~80x the wire size */
	check_edns_rewrite(&m);
	check_rebuild(&m);
	return 0;
}
