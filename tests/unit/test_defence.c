/* test_defence — the injection judge on a virtual clock: scripted reply sequences (times, IP TTLs, shapes) per signal and for the policy. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns/msg.h"
#include "dns/name.h"
#include "dns/rrtype.h"
#include "resolve/defence.h"

#define MS 1000ull

/* ---- scripted replies ---- */

struct rep {
	uint8_t wire[600];
	msg m;
	up_reply r;
	uint8_t qname[NAME_MAXLEN];
};

struct spec {
	const char *name;
	uint16_t qtype;
	uint16_t flags;     /* header flags word (rcode included) */
	bool opt;
	uint16_t atype;     /* 0: no answer */
	const char *addr;   /* address text for A/AAAA */
	const char *addr2;  /* optional second A/AAAA */
	bool full_owner;    /* owner written out instead of c0 0c */
	uint64_t send_us, rtt_us;
	int ip_ttl;
	unsigned server, seq;
	bool tcp, cookie;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static size_t put_answer(uint8_t *w, size_t n, const struct spec *s, const char *addr)
{
	if (s->full_owner) {
		int l = name_from_text(s->name, strlen(s->name), (const uint8_t *)"", w + n);
		assert_true(l > 0);
		n += (size_t)l;
	} else {
		w[n++] = 0xc0;
		w[n++] = 0x0c;
	}
	put16(w + n, s->atype);
	put16(w + n + 2, CLASS_IN);
	w[n + 4] = 0, w[n + 5] = 0, w[n + 6] = 1, w[n + 7] = 0x2c; /* TTL 300 */
	n += 8;
	uint8_t a[16];
	uint16_t rdlen;
	if (s->atype == RR_AAAA) {
		assert_int_equal(inet_pton(AF_INET6, addr, a), 1);
		rdlen = 16;
	} else if (s->atype == RR_A) {
		assert_int_equal(inet_pton(AF_INET, addr, a), 1);
		rdlen = 4;
	} else { /* MX 10 . */
		a[0] = 0, a[1] = 10, a[2] = 0;
		rdlen = 3;
	}
	put16(w + n, rdlen);
	memcpy(w + n + 2, a, rdlen);
	return n + 2 + rdlen;
}

static const up_reply *mk(struct rep *p, const struct spec *s)
{
	memset(p, 0, sizeof(*p));
	uint8_t *w = p->wire;
	int ql = name_from_text(s->name, strlen(s->name), (const uint8_t *)"", p->qname);
	assert_true(ql > 0);
	unsigned an = s->atype ? (s->addr2 ? 2 : 1) : 0;
	put16(w, 0x1234);
	put16(w + 2, s->flags);
	put16(w + 4, 1);
	put16(w + 6, (uint16_t)an);
	put16(w + 8, 0);
	put16(w + 10, s->opt ? 1 : 0);
	size_t n = 12;
	memcpy(w + n, p->qname, (size_t)ql);
	n += (size_t)ql;
	put16(w + n, s->qtype ? s->qtype : RR_A);
	put16(w + n + 2, CLASS_IN);
	n += 4;
	if (an)
		n = put_answer(w, n, s, s->addr);
	if (an == 2)
		n = put_answer(w, n, s, s->addr2);
	if (s->opt) {
		static const uint8_t opt[] = {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0};
		memcpy(w + n, opt, sizeof(opt));
		n += sizeof(opt);
	}
	assert_int_equal(msg_parse_query(&p->m, w, n), 0);
	p->r = (up_reply){
		.wire = w,
		.len = (uint16_t)n,
		.m = &p->m,
		.seq = s->seq,
		.server = s->server,
		.transport = s->tcp ? UP_TCP : UP_UDP,
		.t_us = s->send_us + s->rtt_us,
		.rtt_us = s->rtt_us,
		.ip_ttl = s->tcp ? -1 : s->ip_ttl,
		.id = 0x1234,
		.flags = s->flags,
		.rcode = s->flags & 15u,
		.opt = s->opt,
		.cookie_echoed = s->cookie,
		.cookie_known = UP_LEARN_UNKNOWN,
		.ttl_learnt = -1,
	};
	return &p->r;
}

/* A genuine reply of the recursive upstream 0 (OPT, IP TTL 44, ~80 ms). */
static struct spec real(const char *name, const char *addr, uint64_t send, uint64_t rtt)
{
	return (struct spec){.name = name, .flags = 0x8180, .opt = true, .atype = RR_A, .addr = addr,
			     .send_us = send, .rtt_us = rtt, .ip_ttl = 44};
}

/* An injector's reply: no OPT, c0 0c, flags 0x8180. */
static struct spec forged(const char *name, const char *addr, uint64_t send, uint64_t rtt, int ip_ttl)
{
	return (struct spec){.name = name, .flags = 0x8180, .opt = false, .atype = RR_A, .addr = addr,
			     .send_us = send, .rtt_us = rtt, .ip_ttl = ip_ttl};
}

static defence *mkdef(enum def_mode mode, const bogus *list, verdict_log *log)
{
	static const net_addr srv[2];
	def_config c = {.mode = mode, .list = list, .servers = srv, .nservers = 2, .log = log};
	defence *d = defence_new(&c);
	assert_non_null(d);
	return d;
}

/* Harmless probes: teach upstream `server` its baselines. */
static void prime(defence *d, unsigned server, bool opt, uint16_t flags, int ttl, int n)
{
	struct rep p;
	for (int i = 0; i < n; i++) {
		struct spec s = {.name = ".", .qtype = RR_NS, .flags = flags, .opt = opt, .server = server,
				 .send_us = (uint64_t)i * 10 * MS, .rtt_us = (78 + (uint64_t)(i % 5)) * MS,
				 .ip_ttl = ttl};
		defence_probe_reply(d, mk(&p, &s));
	}
}

static const uint8_t *wname(const char *text)
{
	static uint8_t buf[8][NAME_MAXLEN];
	static int k;
	uint8_t *b = buf[k++ % 8];
	assert_true(name_from_text(text, strlen(text), (const uint8_t *)"", b) > 0);
	return b;
}

static const verdict_counters *C(defence *d, unsigned i)
{
	return defence_counters(d, i);
}
#define CNT(d, i, f) atomic_load(&C(d, i)->f)

static bool learned4(defence *d, const char *a)
{
	uint8_t b[4];
	inet_pton(AF_INET, a, b);
	return bogus_match(defence_learned(d), b, 4);
}

/* ---- baselines ---- */

static void test_baseline_probes(void **st)
{
	(void)st;
	defence *d = mkdef(DEF_ON, NULL, NULL);
	def_baseline b;
	assert_int_equal(defence_baseline(d, 0, &b), 0);
	assert_int_equal(b.rtt_samples, 0);
	assert_int_equal(b.ip_ttl, -1);
	assert_int_equal(b.opt, UP_LEARN_UNKNOWN);
	prime(d, 0, true, 0x8180, 44, 8);
	assert_int_equal(defence_baseline(d, 0, &b), 0);
	assert_int_equal(b.rtt_samples, 8);
	assert_int_equal(b.rtt_lo_us, 78 * MS); /* 2nd smallest of 78,79,80,81,82,78,79,80 */
	assert_int_equal(b.rtt_hi_us, 81 * MS);
	assert_int_equal(b.ip_ttl, 44);
	assert_int_equal(b.opt, UP_LEARN_YES);
	assert_int_equal(b.aa, 0);
	assert_int_equal(b.ra, 1);
	prime(d, 1, false, 0x8500, 50, 3);
	assert_int_equal(defence_baseline(d, 1, &b), 0);
	assert_int_equal(b.opt, UP_LEARN_NO);
	assert_int_equal(b.aa, -1); /* 3 samples: not yet */
	assert_true(defence_baseline(d, 2, &b) < 0);
	defence_free(d);
}

/* ---- signals ---- */

static void test_genuine_accepted_at_once(void **st)
{
	(void)st;
	defence *d = mkdef(DEF_ON, NULL, NULL);
	prime(d, 0, true, 0x8180, 44, 8);
	def_txn x;
	struct rep p;
	def_judgement j;
	uint64_t dl;
	defence_txn_begin(d, &x, wname("www.example.com."), RR_A);
	struct spec s = real("www.example.com.", "192.0.2.1", 1000 * MS, 80 * MS);
	assert_int_equal(defence_judge(d, &x, mk(&p, &s), &dl, &j), DEF_ACCEPT);
	assert_int_equal(j.signals, VS_BIT(VS_OPT));
	assert_true(j.score >= DEF_ACCEPT_SCORE);
	assert_int_equal(j.verdict, V_ACCEPTED);
	defence_txn_end(d, &x);
	assert_int_equal(CNT(d, 0, accepted), 1);
	assert_int_equal(CNT(d, 0, held), 0);
	defence_free(d);
}

static void test_gfw_forged_then_real(void **st)
{
	(void)st;
	defence *d = mkdef(DEF_ON, NULL, NULL);
	prime(d, 0, true, 0x8180, 44, 8);
	def_txn x;
	struct rep p;
	def_judgement j;
	uint64_t dl;
	const uint64_t t0 = 5000 * MS;
	defence_txn_begin(d, &x, wname("www.facebook.com."), RR_A);
	/* gfw2: IP TTL 169, 30 ms after the send: early, no OPT, injector shape */
	struct spec f = forged("www.facebook.com.", "31.13.67.41", t0, 30 * MS, 169);
	assert_int_equal(defence_judge(d, &x, mk(&p, &f), &dl, &j), DEF_HOLD);
	assert_int_equal(j.verdict, V_HELD);
	assert_true(j.signals & VS_BIT(VS_NO_OPT));
	assert_true(j.signals & VS_BIT(VS_EARLY));
	assert_true(j.signals & VS_BIT(VS_IP_TTL));
	assert_true(j.signals & VS_BIT(VS_SHAPE));
	assert_false(j.signals & VS_BIT(VS_FLAGS)); /* 0x8180 is what a recursive upstream sends */
	assert_true(j.score < DEF_DEADLINE_SCORE);
	/* adaptive window: send + high RTT x 1.25 + 5 ms, doubled for a forged-looking first reply */
	assert_int_equal(dl, t0 + 2 * (81 * MS + 81 * MS / 4 + 5 * MS));
	/* gfw3: IP TTL 53, another address: a conflict among forged ones */
	struct spec f3 = forged("www.facebook.com.", "157.240.1.1", t0, 40 * MS, 53);
	f3.seq = 1;
	assert_int_equal(defence_judge(d, &x, mk(&p, &f3), &dl, &j), DEF_HOLD); /* OPT upstream: wait */
	assert_true(j.signals & VS_BIT(VS_CONFLICT));
	/* the real one */
	struct spec r = real("www.facebook.com.", "192.0.2.77", t0, 80 * MS);
	r.seq = 2;
	assert_int_equal(defence_judge(d, &x, mk(&p, &r), &dl, &j), DEF_ACCEPT);
	assert_true(j.signals & VS_BIT(VS_CONFLICT));
	defence_txn_end(d, &x);
	assert_int_equal(CNT(d, 0, forged), 2);
	assert_int_equal(CNT(d, 0, accepted), 1);
	assert_int_equal(CNT(d, 0, conflicts), 1);
	assert_int_equal(CNT(d, 0, learned), 2);
	assert_true(learned4(d, "31.13.67.41"));
	assert_true(learned4(d, "157.240.1.1"));
	assert_false(learned4(d, "192.0.2.77"));

	/* next time the learnt address is proof by itself, even on time */
	defence_txn_begin(d, &x, wname("www.facebook.com."), RR_A);
	f = forged("www.facebook.com.", "31.13.67.41", t0 + 10000 * MS, 79 * MS, 44);
	assert_int_equal(defence_judge(d, &x, mk(&p, &f), &dl, &j), DEF_HOLD);
	assert_int_equal(j.verdict, V_FORGED);
	assert_true(j.signals & VS_BIT(VS_LEARNED));
	assert_true(j.signals & VS_BIT(VS_MARKED));
	r = real("www.facebook.com.", "192.0.2.77", t0 + 10000 * MS, 80 * MS);
	assert_int_equal(defence_judge(d, &x, mk(&p, &r), &dl, &j), DEF_ACCEPT);
	defence_txn_end(d, &x);
	defence_free(d);
}

static void test_early(void **st)
{
	(void)st;
	defence *d = mkdef(DEF_ON, NULL, NULL);
	prime(d, 0, true, 0x8180, 44, 8);
	def_txn x;
	struct rep p;
	def_judgement j;
	/* 38 ms: early, even with OPT the reply is held */
	defence_txn_begin(d, &x, wname("a.example."), RR_A);
	struct spec s = real("a.example.", "192.0.2.1", 0, 38 * MS);
	assert_int_equal(defence_judge(d, &x, mk(&p, &s), NULL, &j), DEF_HOLD);
	assert_true(j.signals & VS_BIT(VS_EARLY));
	/* alone at the deadline, it is served (score 20 > -30) */
	assert_int_equal(defence_deadline(d, &x, 200 * MS), DEF_SERVE_HELD);
	assert_non_null(defence_chosen(&x));
	assert_int_equal(defence_chosen(&x)->rtt_us, 38 * MS);
	defence_txn_end(d, &x);
	assert_int_equal(CNT(d, 0, chosen), 1);
	def_baseline b;
	defence_baseline(d, 0, &b);
	assert_int_equal(b.rtt_lo_us, 78 * MS); /* an early reply does not lower the floor */
	/* 40 ms is half the learnt 78 ms low: not early (Hold-On's >= 0.5) */
	defence_txn_begin(d, &x, wname("a.example."), RR_A);
	s = real("a.example.", "192.0.2.1", 0, 40 * MS);
	assert_int_equal(defence_judge(d, &x, mk(&p, &s), NULL, &j), DEF_ACCEPT);
	assert_false(j.signals & VS_BIT(VS_EARLY));
	defence_txn_end(d, &x);
	defence_baseline(d, 0, &b);
	assert_int_equal(b.rtt_lo_us, 40 * MS); /* a trusted one does */
	defence_free(d);

	/* a tiny upstream RTT: a lead under early_min (2 ms) is never "early" */
	d = mkdef(DEF_ON, NULL, NULL);
	struct rep q;
	for (int i = 0; i < 8; i++) {
		struct spec pr = {.name = ".", .qtype = RR_NS, .flags = 0x8180, .opt = true, .rtt_us = 300,
				  .ip_ttl = 64};
		defence_probe_reply(d, mk(&q, &pr));
	}
	defence_txn_begin(d, &x, wname("b.example."), RR_A);
	s = real("b.example.", "192.0.2.1", 0, 40);
	s.ip_ttl = 64;
	assert_int_equal(defence_judge(d, &x, mk(&p, &s), NULL, &j), DEF_ACCEPT);
	defence_txn_end(d, &x);
	defence_free(d);
}

static void test_ip_ttl(void **st)
{
	(void)st;
	defence *d = mkdef(DEF_ON, NULL, NULL);
	prime(d, 0, true, 0x8180, 44, 8);
	def_txn x;
	struct rep p;
	def_judgement j;
	defence_txn_begin(d, &x, wname("a.example."), RR_A);
	struct spec s = real("a.example.", "192.0.2.1", 0, 80 * MS);
	s.ip_ttl = 45;
	assert_int_equal(defence_judge(d, &x, mk(&p, &s), NULL, &j), DEF_HOLD);
	assert_int_equal(j.signals, VS_BIT(VS_OPT) | VS_BIT(VS_IP_TTL));
	assert_int_equal(defence_deadline(d, &x, 500 * MS), DEF_SERVE_HELD);
	defence_txn_end(d, &x);
	/* a route change: once served, the new TTL is learnt alongside */
	for (int i = 0; i < 3; i++) {
		defence_txn_begin(d, &x, wname("a.example."), RR_A);
		s.send_us = (uint64_t)(i + 1) * 1000 * MS;
		int a = defence_judge(d, &x, mk(&p, &s), NULL, &j);
		if (a == DEF_HOLD)
			assert_int_equal(defence_deadline(d, &x, s.send_us + 500 * MS), DEF_SERVE_HELD);
		defence_txn_end(d, &x);
	}
	defence_txn_begin(d, &x, wname("a.example."), RR_A);
	assert_int_equal(defence_judge(d, &x, mk(&p, &s), NULL, &j), DEF_ACCEPT);
	defence_txn_end(d, &x);
	defence_free(d);
}

static void test_flags(void **st)
{
	(void)st;
	defence *d = mkdef(DEF_ON, NULL, NULL);
	/* upstream 0 is authoritative-like: QR|AA|RD, no RA (the lab's servers) */
	prime(d, 0, true, 0x8500, 64, 8);
	def_baseline b;
	defence_baseline(d, 0, &b);
	assert_int_equal(b.aa, 1);
	assert_int_equal(b.ra, 0);
	def_txn x;
	struct rep p;
	def_judgement j;
	defence_txn_begin(d, &x, wname("a.example."), RR_A);
	struct spec s = real("a.example.", "192.0.2.1", 0, 80 * MS);
	s.flags = 0x8500;
	s.ip_ttl = 64;
	assert_int_equal(defence_judge(d, &x, mk(&p, &s), NULL, &j), DEF_ACCEPT);
	defence_txn_end(d, &x);
	/* injector flags 0x8180 (RD=1 query): RA set, AA clear */
	defence_txn_begin(d, &x, wname("a.example."), RR_A);
	s.flags = 0x8180;
	assert_int_equal(defence_judge(d, &x, mk(&p, &s), NULL, &j), DEF_HOLD);
	assert_true(j.signals & VS_BIT(VS_FLAGS));
	defence_txn_end(d, &x);
	/* 0x8400: AA with RD cleared (our queries always set RD) */
	defence_txn_begin(d, &x, wname("a.example."), RR_A);
	s.flags = 0x8400;
	assert_int_equal(defence_judge(d, &x, mk(&p, &s), NULL, &j), DEF_HOLD);
	assert_true(j.signals & VS_BIT(VS_FLAGS));
	defence_txn_end(d, &x);
	defence_free(d);
}

static void test_type_mismatch(void **st)
{
	(void)st;
	/* no baseline at all: the A answer to an MX question is proof enough */
	defence *d = mkdef(DEF_ON, NULL, NULL);
	def_txn x;
	struct rep p;
	def_judgement j;
	uint64_t dl;
	defence_txn_begin(d, &x, wname("twitter.com."), RR_MX);
	struct spec f = forged("twitter.com.", "59.24.3.173", 0, 20 * MS, 53);
	f.qtype = RR_MX;
	assert_int_equal(defence_judge(d, &x, mk(&p, &f), &dl, &j), DEF_HOLD);
	assert_int_equal(j.verdict, V_FORGED);
	assert_true(j.signals & VS_BIT(VS_TYPE));
	assert_true(learned4(d, "59.24.3.173"));
	/* the real MX answer is not a mismatch (owner = qname, type MX) */
	struct spec r = {.name = "twitter.com.", .qtype = RR_MX, .flags = 0x8180, .opt = true, .atype = RR_MX,
			 .full_owner = true, .rtt_us = 80 * MS, .ip_ttl = 44, .seq = 1};
	assert_int_equal(defence_judge(d, &x, mk(&p, &r), &dl, &j), DEF_ACCEPT);
	assert_false(j.signals & VS_BIT(VS_TYPE));
	defence_txn_end(d, &x);
	/* AAAA question, A answer (the injector answers A unless AAAA) */
	defence_txn_begin(d, &x, wname("twitter.com."), RR_TXT);
	f.qtype = RR_TXT;
	assert_int_equal(defence_judge(d, &x, mk(&p, &f), &dl, &j), DEF_HOLD);
	assert_true(j.signals & VS_BIT(VS_TYPE));
	defence_txn_end(d, &x);
	/* CNAME chains are not mismatches: www -> a CNAME then A of another owner */
	defence_txn_begin(d, &x, wname("cdn.example."), RR_A);
	struct spec ok = real("cdn.example.", "192.0.2.1", 0, 80 * MS);
	assert_true(defence_judge(d, &x, mk(&p, &ok), &dl, &j) != 0);
	assert_false(j.signals & VS_BIT(VS_TYPE));
	defence_txn_end(d, &x);
	defence_free(d);
}

static void test_list_on_and_off(void **st)
{
	(void)st;
	bogus *list = bogus_new();
	char err[128];
	assert_int_equal(bogus_add_text(list, "10.10.34.0/24", err, sizeof(err)), 0);
	bogus_seal(list);
	for (int mode = 0; mode < 2; mode++) {
		defence *d = mkdef(mode ? DEF_ON : DEF_OFF, list, NULL);
		prime(d, 0, true, 0x8180, 44, 8);
		def_txn x;
		struct rep p;
		def_judgement j;
		uint64_t dl;
		defence_txn_begin(d, &x, wname("www.bbc.com."), RR_A);
		struct spec f = forged("www.bbc.com.", "10.10.34.35", 0, 75 * MS, 44);
		assert_int_equal(defence_judge(d, &x, mk(&p, &f), &dl, &j), DEF_HOLD);
		assert_int_equal(j.verdict, V_FORGED);
		assert_true(j.signals & VS_BIT(VS_LIST));
		if (mode == 0)
			assert_true(dl == UP_NEVER); /* off: keep listening, no hold window */
		struct spec r = real("www.bbc.com.", "192.0.2.9", 0, 80 * MS);
		r.seq = 1;
		assert_int_equal(defence_judge(d, &x, mk(&p, &r), &dl, &j), DEF_ACCEPT);
		defence_txn_end(d, &x);
		assert_int_equal(CNT(d, 0, listed), 1);
		assert_int_equal(CNT(d, 0, forged), 1);
		/* an address not on the list */
		defence_txn_begin(d, &x, wname("www.bbc.com."), RR_A);
		f = forged("www.bbc.com.", "65.49.2.178", 0, 75 * MS, 44);
		int a = defence_judge(d, &x, mk(&p, &f), &dl, &j);
		assert_int_equal(a, mode ? DEF_HOLD : DEF_ACCEPT); /* off: the fixed list misses it */
		defence_txn_end(d, &x);
		defence_free(d);
	}
	bogus_free(list);
}

/* 21 Jan 2014: 65.49.2.178 for every .com, no list loaded, IP TTL copied
 * from the query (so equal to the real one), 5-30 ms lead. */
static void test_jan21_no_list(void **st)
{
	(void)st;
	defence *d = mkdef(DEF_ON, NULL, NULL);
	prime(d, 0, true, 0x8180, 44, 8);
	unsigned served_forged = 0, escalations = 0;
	for (int i = 0; i < 300; i++) {
		char name[64];
		snprintf(name, sizeof(name), "site%d.com.", i);
		def_txn x;
		struct rep p;
		def_judgement j;
		uint64_t dl, t0 = (uint64_t)i * 100 * MS;
		defence_txn_begin(d, &x, wname(name), RR_A);
		struct spec f = forged(name, "65.49.2.178", t0, (80 - 5 - (uint64_t)(i % 26)) * MS, 44);
		int a = defence_judge(d, &x, mk(&p, &f), &dl, &j);
		assert_int_equal(a, DEF_HOLD);
		if (i > 0)
			assert_true(j.signals & VS_BIT(VS_LEARNED));
		if (i % 10 == 9) { /* the real reply was lost: never serve the forged one */
			a = defence_deadline(d, &x, dl);
			assert_int_equal(a, DEF_ESCALATE);
			defence_escalated(d, &x);
			escalations++;
			struct spec t = real(name, "192.0.2.3", dl, 160 * MS);
			t.tcp = true;
			a = defence_judge(d, &x, mk(&p, &t), &dl, &j);
			assert_int_equal(a, DEF_ACCEPT);
		} else {
			struct spec r = real(name, "192.0.2.3", t0, 80 * MS);
			r.seq = 1;
			a = defence_judge(d, &x, mk(&p, &r), &dl, &j);
			assert_int_equal(a, DEF_ACCEPT);
			assert_int_equal(j.naddr, 1);
			served_forged += !memcmp(j.addr[0], "\x41\x31\x02\xb2", 4);
		}
		defence_txn_end(d, &x);
	}
	assert_int_equal(served_forged, 0);
	assert_int_equal(CNT(d, 0, forged), 300);
	assert_int_equal(CNT(d, 0, escalations), escalations);
	assert_int_equal(CNT(d, 0, learned), 1);
	assert_true(learned4(d, "65.49.2.178"));
	defence_free(d);
}

/* An upstream that sends no OPT (no EDNS): timing and IP TTL carry it. */
static void test_no_edns_upstream(void **st)
{
	(void)st;
	defence *d = mkdef(DEF_ON, NULL, NULL);
	prime(d, 1, false, 0x8180, 44, 8);
	def_txn x;
	struct rep p;
	def_judgement j;
	uint64_t dl;
	/* on time, right TTL: served at once */
	defence_txn_begin(d, &x, wname("www.example.com."), RR_A);
	struct spec s = forged("www.example.com.", "192.0.2.1", 0, 80 * MS, 44);
	s.server = 1;
	assert_int_equal(defence_judge(d, &x, mk(&p, &s), &dl, &j), DEF_ACCEPT);
	assert_true(j.signals & VS_BIT(VS_TIMELY));
	assert_false(j.signals & VS_BIT(VS_NO_OPT));
	defence_txn_end(d, &x);
	/* forged early with another TTL, then the real one on time */
	defence_txn_begin(d, &x, wname("www.google.com."), RR_A);
	struct spec f = forged("www.google.com.", "8.7.198.45", 0, 20 * MS, 169);
	f.server = 1;
	assert_int_equal(defence_judge(d, &x, mk(&p, &f), &dl, &j), DEF_HOLD);
	s = forged("www.google.com.", "192.0.2.2", 0, 81 * MS, 44);
	s.server = 1;
	s.seq = 1;
	assert_int_equal(defence_judge(d, &x, mk(&p, &s), &dl, &j), DEF_ACCEPT);
	defence_txn_end(d, &x);
	assert_int_equal(CNT(d, 1, forged), 1);
	/* two early replies that disagree: TCP at once */
	defence_txn_begin(d, &x, wname("www.youtube.com."), RR_A);
	f = forged("www.youtube.com.", "8.7.198.46", 0, 20 * MS, 169);
	f.server = 1;
	assert_int_equal(defence_judge(d, &x, mk(&p, &f), &dl, &j), DEF_HOLD);
	f = forged("www.youtube.com.", "46.82.174.68", 0, 25 * MS, 53);
	f.server = 1;
	f.seq = 1;
	assert_int_equal(defence_judge(d, &x, mk(&p, &f), &dl, &j), DEF_ESCALATE);
	defence_escalated(d, &x);
	struct spec t = real("www.youtube.com.", "192.0.2.4", 100 * MS, 90 * MS);
	t.tcp = true;
	t.server = 1;
	t.opt = false;
	assert_int_equal(defence_judge(d, &x, mk(&p, &t), &dl, &j), DEF_ACCEPT);
	defence_txn_end(d, &x);
	assert_int_equal(CNT(d, 1, escalations), 1);
	/* the name is now marked at upstream 1: asked over TCP from the start */
	uint16_t one = 1, zero = 0;
	assert_int_equal(defence_query_flags(d, wname("WWW.YouTube.com."), &one, 1, 200 * MS), UP_QF_TCP);
	assert_int_equal(CNT(d, 1, tcp_first), 1);
	assert_int_equal(defence_query_flags(d, wname("www.example.com."), &one, 1, 200 * MS), 0);
	assert_int_equal(defence_query_flags(d, wname("www.youtube.com."), &zero, 1, 200 * MS), 0);
	/* ... for a while (mark_us, 600 s by default) */
	assert_int_equal(defence_query_flags(d, wname("www.youtube.com."), &one, 1, 601000 * MS), 0);
	defence_free(d);
}

static void test_pool(void **st)
{
	(void)st;
	defence *d = mkdef(DEF_ON, NULL, NULL);
	prime(d, 1, false, 0x8180, 44, 8);
	def_txn x;
	struct rep p;
	def_judgement j;
	int first_pool = -1;
	for (int i = 0; i < 40; i++) {
		char name[64];
		snprintf(name, sizeof(name), "www.name%d.net.", i);
		defence_txn_begin(d, &x, wname(name), RR_A);
		struct spec f = forged(name, "65.49.2.178", (uint64_t)i * MS, 60 * MS, 44);
		f.server = 1;
		defence_judge(d, &x, mk(&p, &f), NULL, &j);
		if ((j.signals & VS_BIT(VS_POOL)) && first_pool < 0)
			first_pool = i;
		defence_txn_end(d, &x);
	}
	/* bit-set counting: at least 12 distinct sites before it fires */
	assert_true(first_pool >= 11);
	assert_true(first_pool < 30);
	/* one site asked many times is not a pool */
	for (int i = 0; i < 40; i++) {
		defence_txn_begin(d, &x, wname("a.one.org."), RR_A);
		struct spec s = forged(i % 2 ? "a.one.org." : "b.one.org.", "192.0.2.200", (uint64_t)i * MS, 80 * MS,
				       44);
		s.server = 1;
		defence_judge(d, &x, mk(&p, &s), NULL, &j);
		assert_false(j.signals & VS_BIT(VS_POOL));
		defence_txn_end(d, &x);
	}
	/* replies with OPT evidence never count towards a pool (CDNs) */
	prime(d, 0, true, 0x8180, 44, 8);
	for (int i = 0; i < 100; i++) {
		char name[64];
		snprintf(name, sizeof(name), "shop%d.example.", i);
		defence_txn_begin(d, &x, wname(name), RR_A);
		struct spec s = real(name, "198.51.100.1", (uint64_t)i * MS, 80 * MS);
		assert_int_equal(defence_judge(d, &x, mk(&p, &s), NULL, &j), DEF_ACCEPT);
		defence_txn_end(d, &x);
	}
	defence_free(d);
}

static void test_tcp_and_cookie(void **st)
{
	(void)st;
	defence *d = mkdef(DEF_ON, NULL, NULL);
	prime(d, 0, true, 0x8180, 44, 8);
	def_txn x;
	struct rep p;
	def_judgement j;
	defence_txn_begin(d, &x, wname("a.example."), RR_A);
	struct spec s = real("a.example.", "192.0.2.1", 0, 5 * MS); /* very early, but our cookie */
	s.cookie = true;
	assert_int_equal(defence_judge(d, &x, mk(&p, &s), NULL, &j), DEF_ACCEPT);
	assert_true(j.signals & VS_BIT(VS_COOKIE));
	assert_true(j.signals & VS_BIT(VS_EARLY));
	defence_txn_end(d, &x);
	defence_txn_begin(d, &x, wname("a.example."), RR_A);
	s = real("a.example.", "192.0.2.1", 0, 300 * MS);
	s.tcp = true;
	s.opt = false;
	assert_int_equal(defence_judge(d, &x, mk(&p, &s), NULL, &j), DEF_ACCEPT);
	assert_true(j.signals & VS_BIT(VS_TCP));
	assert_false(j.signals & VS_BIT(VS_NO_OPT));
	defence_txn_end(d, &x);
	/* a listed address over TCP is still dropped; nothing else comes: fail */
	bogus *list = bogus_new();
	char err[64];
	bogus_add_text(list, "192.0.2.66", err, sizeof(err));
	bogus_seal(list);
	defence *e = mkdef(DEF_ON, list, NULL);
	defence_txn_begin(e, &x, wname("a.example."), RR_A);
	s.addr = "192.0.2.66";
	defence_escalated(e, &x);
	assert_int_equal(defence_judge(e, &x, mk(&p, &s), NULL, &j), DEF_FAIL);
	defence_txn_end(e, &x);
	assert_int_equal(CNT(e, 0, failed), 1);
	defence_free(e);
	bogus_free(list);
	defence_free(d);
}

/* Before any baseline: an OPT reply is served at once; one without OPT is
 * held for hold_max from the send, then served. */
static void test_bootstrap(void **st)
{
	(void)st;
	defence *d = mkdef(DEF_ON, NULL, NULL);
	def_txn x;
	struct rep p;
	def_judgement j;
	uint64_t dl;
	defence_txn_begin(d, &x, wname("a.example."), RR_A);
	struct spec s = real("a.example.", "192.0.2.1", 1000 * MS, 80 * MS);
	assert_int_equal(defence_judge(d, &x, mk(&p, &s), &dl, &j), DEF_ACCEPT);
	defence_txn_end(d, &x);
	defence_txn_begin(d, &x, wname("a.example."), RR_A);
	s = forged("a.example.", "192.0.2.1", 1000 * MS, 80 * MS, 44); /* a server without EDNS */
	assert_int_equal(defence_judge(d, &x, mk(&p, &s), &dl, &j), DEF_HOLD);
	assert_int_equal(j.score, 0);
	assert_int_equal(dl, 1000 * MS + 400 * MS);
	assert_int_equal(defence_deadline(d, &x, dl), DEF_SERVE_HELD);
	const def_held *h = defence_chosen(&x);
	assert_non_null(h);
	assert_int_equal(h->len, p.r.len);
	assert_memory_equal(h->wire, p.wire, h->len);
	defence_txn_end(d, &x);
	def_baseline b;
	defence_baseline(d, 0, &b);
	assert_int_equal(b.rtt_samples, 2);
	/* no reply at all but forged ones dropped: escalate, then fail */
	defence_txn_begin(d, &x, wname("b.example."), RR_MX);
	struct spec f = forged("b.example.", "1.2.3.4", 0, 10 * MS, 9);
	f.qtype = RR_MX;
	defence_judge(d, &x, mk(&p, &f), &dl, &j);
	assert_int_equal(defence_deadline(d, &x, dl), DEF_ESCALATE);
	defence_escalated(d, &x);
	assert_int_equal(defence_deadline(d, &x, dl + 3000 * MS), DEF_FAIL);
	defence_txn_end(d, &x);
	defence_free(d);
}

/* Regression (false positive): a genuine reply held for a changed IP TTL,
 * then a trusted reply with a rotated CDN answer: the held one must be
 * "superseded", never learnt as forged. */
static void test_regression_rotated_cdn_not_learnt(void **st)
{
	(void)st;
	defence *d = mkdef(DEF_ON, NULL, NULL);
	prime(d, 0, true, 0x8180, 44, 8);
	def_txn x;
	struct rep p;
	def_judgement j;
	defence_txn_begin(d, &x, wname("cdn.example."), RR_A);
	struct spec a = real("cdn.example.", "203.0.113.10", 0, 80 * MS);
	a.ip_ttl = 47;
	assert_int_equal(defence_judge(d, &x, mk(&p, &a), NULL, &j), DEF_HOLD);
	struct spec b = real("cdn.example.", "203.0.113.11", 0, 82 * MS);
	b.seq = 1;
	assert_int_equal(defence_judge(d, &x, mk(&p, &b), NULL, &j), DEF_ACCEPT);
	defence_txn_end(d, &x);
	assert_int_equal(CNT(d, 0, forged), 0);
	assert_int_equal(CNT(d, 0, superseded), 1);
	assert_int_equal(CNT(d, 0, learned), 0);
	assert_false(learned4(d, "203.0.113.10"));
	defence_free(d);
}

/* Regression (false hold, bench 1M run): under sustained overload every
 * RTT queues to ~5 ms for over a minute; a reply back at 1 ms when the load
 * dips must not be "early" (the all-time floor remembers 100 us). */
static void test_regression_early_under_sustained_load(void **st)
{
	(void)st;
	defence *d = mkdef(DEF_ON, NULL, NULL);
	def_txn x;
	struct rep p;
	def_judgement j;
	for (int i = 0; i < 8; i++) {
		struct spec pr = {.name = ".", .qtype = RR_NS, .flags = 0x8500, .opt = true,
				  .send_us = (uint64_t)i * MS, .rtt_us = 100, .ip_ttl = 64};
		defence_probe_reply(d, mk(&p, &pr));
	}
	for (int i = 0; i < 100000; i++) { /* 100 s at 1000 qps, 5 ms each */
		defence_txn_begin(d, &x, wname("q.w.defence.com."), RR_A);
		struct spec s = real("q.w.defence.com.", "192.0.2.99", 10 * MS + (uint64_t)i * MS, 5 * MS);
		s.flags = 0x8500;
		s.ip_ttl = 64;
		assert_int_equal(defence_judge(d, &x, mk(&p, &s), NULL, &j), DEF_ACCEPT);
		defence_txn_end(d, &x);
	}
	defence_txn_begin(d, &x, wname("q.w.defence.com."), RR_A);
	struct spec s = real("q.w.defence.com.", "192.0.2.99", 200000 * MS, 1 * MS);
	s.flags = 0x8500;
	s.ip_ttl = 64;
	assert_int_equal(defence_judge(d, &x, mk(&p, &s), NULL, &j), DEF_ACCEPT);
	assert_false(j.signals & VS_BIT(VS_EARLY));
	defence_txn_end(d, &x);
	defence_free(d);
}

/* No injector: a long run of genuine replies with jittery RTTs (recursion
 * misses up to +300 ms, cache hits down to 0.55 x), shared CDN addresses,
 * AAAA and NXDOMAIN, two IP TTLs: nothing dropped, nothing held. */
static void test_no_false_positives(void **st)
{
	(void)st;
	defence *d = mkdef(DEF_ON, NULL, NULL);
	prime(d, 0, true, 0x8180, 44, 8);
	uint64_t seed = 42;
	unsigned held = 0;
	const int N = 200000;
	for (int i = 0; i < N; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		uint32_t r = (uint32_t)(seed >> 33);
		char name[64];
		snprintf(name, sizeof(name), "n%u.site%u.com.", r % 1000, (r >> 10) % 5000);
		uint64_t rtt = 44 * MS + (r % 300) * MS;
		struct spec s = real(name, (r & 1) ? "198.51.100.1" : "198.51.100.2", (uint64_t)i * MS, rtt);
		s.ip_ttl = (r >> 20) % 5 ? 44 : 43;
		if (i < 100) /* the second route becomes known early */
			s.ip_ttl = i % 2 ? 44 : 43;
		if ((r >> 24) % 7 == 0) {
			s.atype = 0;
			s.flags = 0x8183; /* NXDOMAIN */
		} else if ((r >> 24) % 7 == 1) {
			s.atype = RR_AAAA;
			s.qtype = RR_AAAA;
			s.addr = "2001:db8::1";
		}
		def_txn x;
		struct rep p;
		def_judgement j;
		defence_txn_begin(d, &x, wname(name), s.qtype ? s.qtype : RR_A);
		int a = defence_judge(d, &x, mk(&p, &s), NULL, &j);
		if (a != DEF_ACCEPT) {
			held++;
			if (held < 10)
				print_message("held %d: signals %x rtt %llu ttl %d\n", i, j.signals,
					      (unsigned long long)s.rtt_us, s.ip_ttl);
			assert_int_equal(a, DEF_HOLD);
			assert_int_equal(defence_deadline(d, &x, s.send_us + 500 * MS), DEF_SERVE_HELD);
		}
		defence_txn_end(d, &x);
	}
	assert_int_equal(CNT(d, 0, forged), 0);
	assert_int_equal(CNT(d, 0, failed), 0);
	assert_true(held <= 2); /* only while the 2nd TTL was being learnt */
	assert_int_equal(bogus_count(defence_learned(d)), 0);
	defence_free(d);
}

static void test_log_lines(void **st)
{
	(void)st;
	char path[64] = "/tmp/antidote-defence.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	char err[128];
	verdict_log *log = verdict_log_open(path, err, sizeof(err));
	assert_non_null(log);
	defence *d = mkdef(DEF_ON, NULL, log);
	prime(d, 0, true, 0x8180, 44, 8);
	def_txn x;
	struct rep p;
	defence_txn_begin(d, &x, wname("www.twitter.com."), RR_A);
	struct spec f = forged("www.twitter.com.", "65.49.2.178", 0, 30 * MS, 53);
	defence_judge(d, &x, mk(&p, &f), NULL, NULL);
	struct spec r = real("www.twitter.com.", "192.0.2.5", 0, 80 * MS);
	r.seq = 1;
	defence_judge(d, &x, mk(&p, &r), NULL, NULL);
	defence_txn_end(d, &x);
	/* a transaction that ends with a held reply unserved */
	defence_txn_begin(d, &x, wname("www.twitter.com."), RR_A);
	f.addr = "8.8.8.8";
	defence_judge(d, &x, mk(&p, &f), NULL, NULL);
	defence_txn_end(d, &x);
	defence_free(d);
	verdict_log_close(log);
	FILE *fp = fopen(path, "r");
	char line[4096];
	const char *want[] = {"\"verdict\":\"held\"", "\"verdict\":\"forged\"", "\"verdict\":\"accepted\"",
			      "\"verdict\":\"held\"", "\"verdict\":\"failed\""};
	int n = 0;
	while (fgets(line, sizeof(line), fp)) {
		assert_true(n < 5);
		if (!strstr(line, want[n]))
			fail_msg("line %d: %s", n, line);
		assert_non_null(strstr(line, "\"name\":\"www.twitter.com.\""));
		n++;
	}
	fclose(fp);
	assert_int_equal(n, 5);
	unlink(path);
}

/* A reload's new upstream: numbered next, its counters there, up to
 * UP_MAX_SERVERS (the caller's address array holds them all). */
static void test_add_server(void **state)
{
	(void)state;
	static net_addr srv[UP_MAX_SERVERS];
	char err[64];
	assert_int_equal(addr_parse(&srv[2], "127.0.0.9:5300", 53, err, sizeof(err)), 0);
	def_config c = {.mode = DEF_ON, .servers = srv, .nservers = 2};
	defence *d = defence_new(&c);
	assert_non_null(d);
	assert_null(defence_counters(d, 2));
	assert_int_equal(defence_add_server(d), 2);
	assert_non_null(defence_counters(d, 2));
	assert_int_equal(defence_counters(d, 2)->replies, 0);
	for (unsigned i = 3; i < UP_MAX_SERVERS; i++)
		assert_int_equal(defence_add_server(d), (int)i);
	assert_int_equal(defence_add_server(d), DNS_ESPACE);
	defence_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_baseline_probes),
		cmocka_unit_test(test_add_server),
		cmocka_unit_test(test_genuine_accepted_at_once),
		cmocka_unit_test(test_gfw_forged_then_real),
		cmocka_unit_test(test_early),
		cmocka_unit_test(test_ip_ttl),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_type_mismatch),
		cmocka_unit_test(test_list_on_and_off),
		cmocka_unit_test(test_jan21_no_list),
		cmocka_unit_test(test_no_edns_upstream),
		cmocka_unit_test(test_pool),
		cmocka_unit_test(test_tcp_and_cookie),
		cmocka_unit_test(test_bootstrap),
		cmocka_unit_test(test_regression_rotated_cdn_not_learnt),
		cmocka_unit_test(test_regression_early_under_sustained_load),
		cmocka_unit_test(test_no_false_positives),
		cmocka_unit_test(test_log_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
