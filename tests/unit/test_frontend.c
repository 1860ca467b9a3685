/* test_frontend — client query checks (drop, FORMERR, NOTIMP, BADVERS, REFUSED, RFC 8482 ANY, size limits, cookie-only queries and server cookies) and relayed answers (TC, OPT, case, AD). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "dns/err.h"
#include "dns/msg.h"
#include "dns/name.h"
#include "dns/rrtype.h"
#include "resolve/frontend.h"
#include "testutil.h"

static uint8_t out[65536];
static msg_rr rrs[MSG_MAXRRS];

/* A query: name (text), type, class, flags; edns_ver < 0: no OPT. */
static int mkq(uint8_t *buf, size_t cap, uint16_t id, uint16_t flags, const char *name, uint16_t type,
	       uint16_t cls, int edns_ver, uint16_t udp, uint16_t eflags)
{
	uint8_t qn[NAME_MAXLEN];
	assert_true(name_from_text(name, strlen(name), NULL, qn) > 0);
	msg_wr mw;
	msg_wr_init(&mw, buf, cap);
	assert_int_equal(msg_wr_header(&mw, id, flags), 0);
	assert_int_equal(msg_wr_question(&mw, qn, type, cls), 0);
	if (edns_ver >= 0) {
		edns_out o = {.udp_size = udp, .version = (uint8_t)edns_ver, .flags = eflags};
		assert_int_equal(msg_wr_edns(&mw, &o), 0);
	}
	return msg_wr_finish(&mw);
}

static int check(const uint8_t *q, size_t len, bool tcp, bool allowed, msg *m, size_t *limit,
		 frontend_stats *st)
{
	return frontend_check(q, len, tcp, allowed, 1232, NULL, m, limit, out, sizeof(out), st);
}

/* Parses out[0..n) and checks ID and rcode. */
static void expect(int n, uint16_t id, unsigned rcode, msg *r)
{
	assert_true(n > 0);
	assert_int_equal(msg_parse(r, out, (size_t)n, rrs, MSG_MAXRRS), 0);
	assert_int_equal(r->hdr.id, id);
	assert_true(r->hdr.flags & MSG_QR);
	assert_true(r->hdr.flags & MSG_RA);
	assert_false(r->hdr.flags & MSG_AA);
	assert_int_equal(msg_rcode(r), rcode);
}

static void test_drop(void **state)
{
	(void)state;
	uint8_t q[512];
	msg m, r;
	size_t limit;
	frontend_stats st;
	memset(&st, 0, sizeof(st));
	int n = mkq(q, sizeof(q), 1, MSG_RD, "a.test.", RR_A, CLASS_IN, -1, 0, 0);
	assert_int_equal(check(q, 11, false, true, &m, &limit, &st), FRONTEND_DROP);
	q[2] |= 0x80; /* QR */
	assert_int_equal(check(q, (size_t)n, false, true, &m, &limit, &st), FRONTEND_DROP);
	assert_int_equal(st.dropped, 2);
	assert_int_equal(st.queries, 2);
	/* truncated question: FORMERR echoing the ID */
	n = mkq(q, sizeof(q), 0x4242, MSG_RD, "a.test.", RR_A, CLASS_IN, -1, 0, 0);
	int k = check(q, (size_t)n - 3, false, true, &m, &limit, &st);
	assert_true(k > 0);
	assert_int_equal(msg_parse(&r, out, (size_t)k, rrs, MSG_MAXRRS), 0);
	assert_int_equal(r.hdr.id, 0x4242);
	assert_int_equal(msg_rcode(&r), RCODE_FORMERR);
	assert_int_equal(st.formerr, 1);
	/* forward compression pointer in the question */
	n = mkq(q, sizeof(q), 7, 0, "a.test.", RR_A, CLASS_IN, -1, 0, 0);
	q[12] = 0xc0;
	q[13] = 0x20;
	expect(check(q, (size_t)n, false, true, &m, &limit, &st), 7, RCODE_FORMERR, &r);
	/* no question */
	n = mkq(q, sizeof(q), 8, 0, "a.test.", RR_A, CLASS_IN, -1, 0, 0);
	q[5] = 0;
	expect(check(q, 12, false, true, &m, &limit, &st), 8, RCODE_FORMERR, &r);
	assert_int_equal(r.hdr.qdcount, 0);
}

static void test_verdicts(void **state)
{
	(void)state;
	uint8_t q[512];
	msg m, r;
	size_t limit;
	frontend_stats st;
	memset(&st, 0, sizeof(st));
	/* not allowed: REFUSED, question echoed, EDE 18 for EDNS clients */
	int n = mkq(q, sizeof(q), 2, MSG_RD, "Www.Test.", RR_A, CLASS_IN, 0, 4096, 0);
	expect(check(q, (size_t)n, false, false, &m, &limit, &st), 2, RCODE_REFUSED, &r);
	assert_int_equal(r.hdr.qdcount, 1);
	assert_true(r.hdr.flags & MSG_RD);
	assert_true(r.edns.present);
	assert_true(r.edns.opts & EDNS_HAS_EDE);
	assert_int_equal(r.edns.ede_code, FRONTEND_EDE_PROHIBITED);
	assert_int_equal(st.refused_acl, 1);
	/* opcode NOTIFY */
	n = mkq(q, sizeof(q), 3, msg_flags_set_opcode(0, OPCODE_NOTIFY), "a.test.", RR_SOA, CLASS_IN, -1, 0, 0);
	expect(check(q, (size_t)n, false, true, &m, &limit, &st), 3, RCODE_NOTIMP, &r);
	/* EDNS version 1 */
	n = mkq(q, sizeof(q), 4, 0, "a.test.", RR_A, CLASS_IN, 1, 4096, 0);
	expect(check(q, (size_t)n, false, true, &m, &limit, &st), 4, RCODE_BADVERS, &r);
	assert_int_equal(st.badvers, 1);
	/* CHAOS and ANY class */
	n = mkq(q, sizeof(q), 5, 0, "version.bind.", RR_TXT, CLASS_CH, -1, 0, 0);
	expect(check(q, (size_t)n, false, true, &m, &limit, &st), 5, RCODE_REFUSED, &r);
	n = mkq(q, sizeof(q), 6, 0, "a.test.", RR_A, CLASS_ANY, -1, 0, 0);
	expect(check(q, (size_t)n, false, true, &m, &limit, &st), 6, RCODE_REFUSED, &r);
	assert_int_equal(st.refused_class, 2);
	/* AXFR, MAILB */
	n = mkq(q, sizeof(q), 7, 0, "a.test.", RR_AXFR, CLASS_IN, -1, 0, 0);
	expect(check(q, (size_t)n, true, true, &m, &limit, &st), 7, RCODE_NOTIMP, &r);
	n = mkq(q, sizeof(q), 8, 0, "a.test.", RR_MAILB, CLASS_IN, -1, 0, 0);
	expect(check(q, (size_t)n, false, true, &m, &limit, &st), 8, RCODE_NOTIMP, &r);
	/* OPT as qtype */
	n = mkq(q, sizeof(q), 9, 0, "a.test.", RR_OPT, CLASS_IN, -1, 0, 0);
	expect(check(q, (size_t)n, false, true, &m, &limit, &st), 9, RCODE_FORMERR, &r);
}

static void test_any(void **state)
{
	(void)state;
	uint8_t q[512];
	msg m, r;
	size_t limit;
	int n = mkq(q, sizeof(q), 10, MSG_RD | MSG_CD, "Mixed.Case.TEST.", RR_ANY, CLASS_IN, 0, 1232, EDNS_DO);
	expect(check(q, (size_t)n, false, true, &m, &limit, NULL), 10, RCODE_NOERROR, &r);
	assert_true(r.hdr.flags & MSG_CD);
	assert_int_equal(r.hdr.ancount, 1);
	const msg_rr *a = &r.rr[1];
	assert_int_equal(a->type, RR_HINFO);
	assert_int_equal(a->rdlen, 9);
	assert_memory_equal(out + a->rdata, "\7RFC8482\0", 9);
	/* the question's case is the client's */
	assert_memory_equal(out + 12, "\5Mixed\4Case\4TEST", 16);
	assert_true(r.edns.present);
	assert_true(r.edns.flags & EDNS_DO);
}

static void test_lookup_limits(void **state)
{
	(void)state;
	uint8_t q[512];
	msg m;
	size_t limit = 0;
	frontend_stats st;
	memset(&st, 0, sizeof(st));
	int n = mkq(q, sizeof(q), 11, MSG_RD, "a.test.", RR_A, CLASS_IN, -1, 0, 0);
	assert_int_equal(check(q, (size_t)n, false, true, &m, &limit, &st), FRONTEND_LOOKUP);
	assert_int_equal(limit, 512);
	assert_int_equal(m.qtype, RR_A);
	assert_int_equal(check(q, (size_t)n, true, true, &m, &limit, &st), FRONTEND_LOOKUP);
	assert_int_equal(limit, 65535);
	n = mkq(q, sizeof(q), 11, MSG_RD, "a.test.", RR_AAAA, CLASS_IN, 0, 4096, 0);
	assert_int_equal(check(q, (size_t)n, false, true, &m, &limit, &st), FRONTEND_LOOKUP);
	assert_int_equal(limit, 1232);
	n = mkq(q, sizeof(q), 11, MSG_RD, "a.test.", RR_AAAA, CLASS_IN, 0, 700, 0);
	assert_int_equal(check(q, (size_t)n, false, true, &m, &limit, &st), FRONTEND_LOOKUP);
	assert_int_equal(limit, 700);
	n = mkq(q, sizeof(q), 11, MSG_RD, "a.test.", RR_AAAA, CLASS_IN, 0, 100, 0);
	assert_int_equal(check(q, (size_t)n, false, true, &m, &limit, &st), FRONTEND_LOOKUP);
	assert_int_equal(limit, 512);
	assert_int_equal(st.lookups, 5);
}

/* An upstream response: n TXT RRs of 100 octets for name, an NS in
 * authority, an OPT with a cookie; flags as given. */
static int mkresp(uint8_t *buf, size_t cap, const char *name, int ntxt, uint16_t flags)
{
	uint8_t qn[NAME_MAXLEN], ns[NAME_MAXLEN];
	name_from_text(name, strlen(name), NULL, qn);
	name_from_text("ns.test.", 8, NULL, ns);
	msg_wr mw;
	msg_wr_init(&mw, buf, cap);
	msg_wr_header(&mw, 999, (uint16_t)(MSG_QR | MSG_RA | flags));
	msg_wr_question(&mw, qn, RR_TXT, CLASS_IN);
	uint8_t txt[101];
	txt[0] = 100;
	memset(txt + 1, 'x', 100);
	for (int i = 0; i < ntxt; i++) {
		txt[1] = (uint8_t)('a' + i % 26);
		assert_int_equal(msg_wr_rr(&mw, MSG_ANSWER, qn, RR_TXT, CLASS_IN, 0, txt, sizeof(txt)), 0);
	}
	assert_int_equal(msg_wr_rr(&mw, MSG_AUTHORITY, qn, RR_NS, CLASS_IN, 0, ns, (uint16_t)name_len(ns)), 0);
	static const uint8_t cookie[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	edns_out o = {.udp_size = 1232, .cookie_len = 16, .cookie = cookie};
	assert_int_equal(msg_wr_edns(&mw, &o), 0);
	return msg_wr_finish(&mw);
}

static void test_relay(void **state)
{
	(void)state;
	uint8_t q[512], resp[8192];
	msg m, r;
	size_t limit;
	int qn = mkq(q, sizeof(q), 77, MSG_RD, "BIG.Test.", RR_TXT, CLASS_IN, 0, 4096, EDNS_DO);
	assert_int_equal(check(q, (size_t)qn, false, true, &m, &limit, NULL), FRONTEND_LOOKUP);
	int rn = mkresp(resp, sizeof(resp), "big.test.", 3, MSG_AD);
	int n = frontend_relay(&m, resp, (size_t)rn, 1232, limit, out, sizeof(out), rrs, MSG_MAXRRS);
	expect(n, 77, RCODE_NOERROR, &r);
	assert_int_equal(r.hdr.ancount, 3);
	assert_int_equal(r.hdr.nscount, 1);
	assert_false(r.hdr.flags & MSG_TC);
	assert_true(r.hdr.flags & MSG_AD); /* client sent DO */
	assert_memory_equal(out + 12, "\3BIG\4Test", 9);
	assert_true(r.edns.present);
	assert_false(r.edns.opts & EDNS_HAS_COOKIE); /* upstream's cookie never passed on */
	assert_int_equal(r.edns.udp_size, 1232);
	/* 20 TXT RRs over 512 octets for a plain client: TC, whole RRsets dropped */
	qn = mkq(q, sizeof(q), 78, MSG_RD, "big.test.", RR_TXT, CLASS_IN, -1, 0, 0);
	assert_int_equal(check(q, (size_t)qn, false, true, &m, &limit, NULL), FRONTEND_LOOKUP);
	rn = mkresp(resp, sizeof(resp), "big.test.", 20, MSG_AD);
	n = frontend_relay(&m, resp, (size_t)rn, 1232, limit, out, sizeof(out), rrs, MSG_MAXRRS);
	assert_true(n > 0 && n <= 512);
	expect(n, 78, RCODE_NOERROR, &r);
	assert_true(r.hdr.flags & MSG_TC);
	assert_int_equal(r.hdr.ancount, 0); /* the TXT RRset did not fit whole */
	assert_false(r.hdr.flags & MSG_AD); /* no DO, no AD */
	assert_false(r.edns.present);
	/* over TCP it all fits */
	n = frontend_relay(&m, resp, (size_t)rn, 1232, 65535, out, sizeof(out), rrs, MSG_MAXRRS);
	expect(n, 78, RCODE_NOERROR, &r);
	assert_int_equal(r.hdr.ancount, 20);
	/* SERVFAIL passes its rcode; garbage is refused */
	rn = mkresp(resp, sizeof(resp), "big.test.", 0, RCODE_SERVFAIL);
	n = frontend_relay(&m, resp, (size_t)rn, 1232, limit, out, sizeof(out), rrs, MSG_MAXRRS);
	expect(n, 78, RCODE_SERVFAIL, &r);
	resp[5] = 9; /* qdcount 9: runs out of message */
	assert_true(frontend_relay(&m, resp, (size_t)rn, 1232, limit, out, sizeof(out), rrs, MSG_MAXRRS) < 0);
}

static void test_error_small(void **state)
{
	(void)state;
	uint8_t q[512];
	msg m, r;
	size_t limit;
	int n = mkq(q, sizeof(q), 12, MSG_RD, "a.test.", RR_A, CLASS_IN, 0, 1232, 0);
	assert_int_equal(check(q, (size_t)n, false, true, &m, &limit, NULL), FRONTEND_LOOKUP);
	n = frontend_error(&m, RCODE_SERVFAIL, FRONTEND_EDE_NO_REACHABLE, 1232, limit, out, sizeof(out));
	expect(n, 12, RCODE_SERVFAIL, &r);
	assert_true(r.edns.opts & EDNS_HAS_EDE);
	assert_int_equal(r.edns.ede_code, FRONTEND_EDE_NO_REACHABLE);
	/* a buffer too small for the question: header only */
	n = frontend_error(&m, RCODE_SERVFAIL, -1, 1232, 14, out, sizeof(out));
	assert_int_equal(n, 12);
	assert_int_equal(frontend_error(&m, RCODE_SERVFAIL, -1, 1232, 11, out, sizeof(out)), DNS_ESPACE);
}

/* A query without a question: header (QDCOUNT 0) and an OPT with cookie
 * ck[0..cklen) (0: no COOKIE option; < 0: no OPT at all). */
static int mkcookieq(uint8_t *buf, size_t cap, uint16_t id, uint16_t flags, const uint8_t *ck, int cklen)
{
	msg_wr mw;
	msg_wr_init(&mw, buf, cap);
	assert_int_equal(msg_wr_header(&mw, id, flags), 0);
	if (cklen >= 0) {
		edns_out o = {.udp_size = 1232, .cookie = ck, .cookie_len = (uint8_t)cklen};
		assert_int_equal(msg_wr_edns(&mw, &o), 0);
	}
	return msg_wr_finish(&mw);
}

static uint8_t ck_client[8] = {0x24, 0x64, 0xc4, 0xab, 0xcf, 0x10, 0xc9, 0x57};

static void test_cookie_only(void **state)
{
	(void)state;
	uint8_t q[512], server_ck[COOKIE_FULL];
	msg m, r;
	size_t limit;
	frontend_stats st;
	memset(&st, 0, sizeof(st));
	cookie_secret sec;
	cookie_secret_init(&sec);
	net_addr peer, other;
	assert_int_equal(addr_parse(&peer, "127.0.0.1", 0, NULL, 0), 0);
	assert_int_equal(addr_parse(&other, "127.0.0.9", 0, NULL, 0), 0);
	frontend_cookies ck = {.secret = &sec, .peer = &peer, .now = 1700000000};
	/* client cookie only: NOERROR, empty, our server cookie for this client */
	int n = mkcookieq(q, sizeof(q), 21, MSG_RD, ck_client, 8);
	int a = frontend_check(q, (size_t)n, false, true, 1232, &ck, &m, &limit, out, sizeof(out), &st);
	expect(a, 21, RCODE_NOERROR, &r);
	assert_int_equal(r.hdr.qdcount, 0);
	assert_int_equal(r.hdr.ancount, 0);
	assert_int_equal(r.hdr.nscount, 0);
	assert_true(r.hdr.flags & MSG_RD);
	assert_true(r.edns.present);
	assert_true(r.edns.opts & EDNS_HAS_COOKIE);
	assert_int_equal(r.edns.cookie_len, COOKIE_FULL);
	assert_memory_equal(r.edns.cookie, ck_client, 8);
	assert_true(cookie_valid(&sec, r.edns.cookie, COOKIE_FULL, &peer, ck.now));
	assert_false(cookie_valid(&sec, r.edns.cookie, COOKIE_FULL, &other, ck.now));
	assert_int_equal(st.cookie_only, 1);
	assert_int_equal(st.formerr, 0);
	memcpy(server_ck, r.edns.cookie, COOKIE_FULL);
	/* with the valid server cookie: NOERROR and a fresh one */
	ck.now += 60;
	n = mkcookieq(q, sizeof(q), 22, 0, server_ck, COOKIE_FULL);
	a = frontend_check(q, (size_t)n, false, true, 1232, &ck, &m, &limit, out, sizeof(out), &st);
	expect(a, 22, RCODE_NOERROR, &r);
	assert_int_equal(r.edns.cookie_len, COOKIE_FULL);
	assert_true(cookie_valid(&sec, r.edns.cookie, COOKIE_FULL, &peer, ck.now));
	/* an expired one, another client's, a forged one, another format: BADCOOKIE + a new cookie */
	ck.now += COOKIE_MAX_AGE;
	n = mkcookieq(q, sizeof(q), 23, 0, server_ck, COOKIE_FULL);
	a = frontend_check(q, (size_t)n, false, true, 1232, &ck, &m, &limit, out, sizeof(out), &st);
	expect(a, 23, RCODE_BADCOOKIE, &r);
	assert_true(cookie_valid(&sec, r.edns.cookie, COOKIE_FULL, &peer, ck.now));
	ck.now -= COOKIE_MAX_AGE;
	ck.peer = &other;
	a = frontend_check(q, (size_t)n, false, true, 1232, &ck, &m, &limit, out, sizeof(out), &st);
	expect(a, 23, RCODE_BADCOOKIE, &r);
	assert_true(cookie_valid(&sec, r.edns.cookie, COOKIE_FULL, &other, ck.now));
	ck.peer = &peer;
	uint8_t forged[40];
	memcpy(forged, server_ck, COOKIE_FULL);
	forged[23] ^= 1;
	n = mkcookieq(q, sizeof(q), 24, 0, forged, COOKIE_FULL);
	expect(frontend_check(q, (size_t)n, false, true, 1232, &ck, &m, &limit, out, sizeof(out), &st), 24,
	       RCODE_BADCOOKIE, &r);
	memset(forged + 8, 0xab, 32);
	n = mkcookieq(q, sizeof(q), 25, 0, forged, 40);
	expect(frontend_check(q, (size_t)n, false, true, 1232, &ck, &m, &limit, out, sizeof(out), &st), 25,
	       RCODE_BADCOOKIE, &r);
	assert_int_equal(r.edns.cookie_len, COOKIE_FULL); /* ours: 16-octet server cookie */
	assert_int_equal(st.cookie_only, 6);
	/* a malformed cookie (12 octets, written by hand: msg_wr refuses it): FORMERR (edns_parse) */
	n = tu_hex("001a 0000 0000 0000 0000 0001 00 0029 04d0 00000000 0010 000a 000c"
		   "0102030405060708 090a0b0c", q);
	expect(frontend_check(q, (size_t)n, false, true, 1232, &ck, &m, &limit, out, sizeof(out), &st), 26,
	       RCODE_FORMERR, &r);
	/* no question, no cookie: FORMERR as before; OPT without options too */
	n = mkcookieq(q, sizeof(q), 27, 0, NULL, -1);
	expect(frontend_check(q, (size_t)n, false, true, 1232, &ck, &m, &limit, out, sizeof(out), &st), 27,
	       RCODE_FORMERR, &r);
	n = mkcookieq(q, sizeof(q), 28, 0, NULL, 0);
	expect(frontend_check(q, (size_t)n, false, true, 1232, &ck, &m, &limit, out, sizeof(out), &st), 28,
	       RCODE_FORMERR, &r);
	/* server cookies off: a cookie-only query is FORMERR (a server without cookies) */
	n = mkcookieq(q, sizeof(q), 29, 0, ck_client, 8);
	expect(frontend_check(q, (size_t)n, false, true, 1232, NULL, &m, &limit, out, sizeof(out), &st), 29,
	       RCODE_FORMERR, &r);
	/* not allowed: REFUSED (with a cookie), not a cookie answer */
	expect(frontend_check(q, (size_t)n, false, false, 1232, &ck, &m, &limit, out, sizeof(out), &st), 29,
	       RCODE_REFUSED, &r);
	assert_int_equal(r.edns.cookie_len, COOKIE_FULL);
	/* another opcode: NOTIMP */
	n = mkcookieq(q, sizeof(q), 30, msg_flags_set_opcode(0, OPCODE_NOTIFY), ck_client, 8);
	expect(frontend_check(q, (size_t)n, false, true, 1232, &ck, &m, &limit, out, sizeof(out), &st), 30,
	       RCODE_NOTIMP, &r);
	assert_int_equal(st.cookie_only, 6);
	/* a 512-octet plain-UDP limit still fits */
	n = mkcookieq(q, sizeof(q), 31, 0, ck_client, 8);
	a = frontend_check(q, (size_t)n, false, true, 1232, &ck, &m, &limit, out, 40, &st);
	assert_true(a > 0 && a <= 40); /* too small for the cookie: OPT without it */
	assert_int_equal(msg_parse(&r, out, (size_t)a, rrs, MSG_MAXRRS), 0);
	assert_int_equal(msg_rcode(&r), RCODE_NOERROR);
	assert_false(r.edns.opts & EDNS_HAS_COOKIE);
}

/* Immediate answers to queries with a question carry the server cookie
 * too; lookups are untouched. */
static void test_cookie_answers(void **state)
{
	(void)state;
	uint8_t q[512];
	msg m, r;
	size_t limit;
	cookie_secret sec;
	cookie_secret_init(&sec);
	net_addr peer;
	assert_int_equal(addr_parse(&peer, "::1", 0, NULL, 0), 0);
	frontend_cookies ck = {.secret = &sec, .peer = &peer, .now = 1700000000};
	uint8_t qn[NAME_MAXLEN];
	assert_true(name_from_text("a.test.", 7, NULL, qn) > 0);
	uint16_t types[] = {RR_ANY, RR_AXFR, RR_A};
	for (unsigned i = 0; i < 3; i++) {
		msg_wr mw;
		msg_wr_init(&mw, q, sizeof(q));
		assert_int_equal(msg_wr_header(&mw, 40, MSG_RD), 0);
		assert_int_equal(msg_wr_question(&mw, qn, types[i], CLASS_IN), 0);
		edns_out o = {.udp_size = 1232, .cookie = ck_client, .cookie_len = 8};
		assert_int_equal(msg_wr_edns(&mw, &o), 0);
		int n = msg_wr_finish(&mw);
		int a = frontend_check(q, (size_t)n, false, true, 1232, &ck, &m, &limit, out, sizeof(out), NULL);
		if (types[i] == RR_A) {
			assert_int_equal(a, FRONTEND_LOOKUP);
			continue;
		}
		expect(a, 40, types[i] == RR_ANY ? RCODE_NOERROR : RCODE_NOTIMP, &r);
		assert_int_equal(r.hdr.qdcount, 1);
		assert_int_equal(r.edns.cookie_len, COOKIE_FULL);
		assert_true(cookie_valid(&sec, r.edns.cookie, COOKIE_FULL, &peer, ck.now));
	}
}

/* frontend_add_cookie on answers built elsewhere: appended to the OPT,
 * refused without room, without a client cookie, or when OPT is absent. */
static void test_add_cookie(void **state)
{
	(void)state;
	uint8_t q[512], resp[600], copy[600];
	msg m, r;
	cookie_secret sec;
	cookie_secret_init(&sec);
	net_addr peer;
	assert_int_equal(addr_parse(&peer, "127.0.0.1", 0, NULL, 0), 0);
	frontend_cookies ck = {.secret = &sec, .peer = &peer, .now = 1700000000};
	uint8_t qn[NAME_MAXLEN];
	assert_true(name_from_text("a.test.", 7, NULL, qn) > 0);
	msg_wr mw;
	msg_wr_init(&mw, q, sizeof(q));
	assert_int_equal(msg_wr_header(&mw, 50, MSG_RD), 0);
	assert_int_equal(msg_wr_question(&mw, qn, RR_A, CLASS_IN), 0);
	edns_out o = {.udp_size = 1232, .cookie = ck_client, .cookie_len = 8};
	assert_int_equal(msg_wr_edns(&mw, &o), 0);
	int n = msg_wr_finish(&mw);
	assert_int_equal(msg_parse_query(&m, q, (size_t)n), 0);
	/* an answer as the cache writes it: A record, OPT with an EDE */
	msg_wr_init(&mw, resp, sizeof(resp));
	assert_int_equal(msg_wr_reply(&mw, &m, MSG_RA), 0);
	uint8_t rd[4] = {192, 0, 2, 1};
	assert_int_equal(msg_wr_rr(&mw, MSG_ANSWER, qn, RR_A, CLASS_IN, 60, rd, 4), 0);
	edns_out ro = {.udp_size = 1232, .ede = true, .ede_code = FRONTEND_EDE_STALE};
	assert_int_equal(msg_wr_edns(&mw, &ro), 0);
	int len = msg_wr_finish(&mw);
	memcpy(copy, resp, (size_t)len);
	size_t nl = frontend_add_cookie(&m, &ck, resp, (size_t)len, sizeof(resp));
	assert_int_equal(nl, (size_t)len + 28);
	assert_int_equal(msg_parse(&r, resp, nl, rrs, MSG_MAXRRS), 0);
	assert_int_equal(r.hdr.ancount, 1);
	assert_true(r.edns.opts & EDNS_HAS_EDE); /* kept */
	assert_int_equal(r.edns.ede_code, FRONTEND_EDE_STALE);
	assert_int_equal(r.edns.cookie_len, COOKIE_FULL);
	assert_true(cookie_valid(&sec, r.edns.cookie, COOKIE_FULL, &peer, ck.now));
	/* not twice */
	assert_int_equal(frontend_add_cookie(&m, &ck, resp, nl, sizeof(resp)), nl);
	/* no room under the limit: untouched */
	memcpy(resp, copy, (size_t)len);
	assert_int_equal(frontend_add_cookie(&m, &ck, resp, (size_t)len, (size_t)len + 27), (size_t)len);
	assert_memory_equal(resp, copy, (size_t)len);
	assert_int_equal(frontend_add_cookie(&m, &ck, resp, (size_t)len, (size_t)len + 28), (size_t)len + 28);
	/* cookies off, or a query without a cookie: untouched */
	memcpy(resp, copy, (size_t)len);
	assert_int_equal(frontend_add_cookie(&m, NULL, resp, (size_t)len, sizeof(resp)), (size_t)len);
	msg plain = m;
	plain.edns.opts = 0;
	assert_int_equal(frontend_add_cookie(&plain, &ck, resp, (size_t)len, sizeof(resp)), (size_t)len);
	/* an answer without OPT, and garbage: untouched */
	msg_wr_init(&mw, resp, sizeof(resp));
	assert_int_equal(msg_wr_reply(&mw, &m, MSG_RA), 0);
	len = msg_wr_finish(&mw);
	assert_int_equal(frontend_add_cookie(&m, &ck, resp, (size_t)len, sizeof(resp)), (size_t)len);
	memset(resp, 0xff, 40);
	assert_int_equal(frontend_add_cookie(&m, &ck, resp, 40, sizeof(resp)), 40);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drop),
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_any),
		cmocka_unit_test(test_lookup_limits),
		cmocka_unit_test(test_relay),
		cmocka_unit_test(test_error_small),
		cmocka_unit_test(test_cookie_only),
		cmocka_unit_test(test_cookie_answers),
		cmocka_unit_test(test_add_cookie),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
