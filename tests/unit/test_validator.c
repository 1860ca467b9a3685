/* test_validator — trust anchors, the DS -> DNSKEY chain, per-reply verdicts and the defence's DNSSEC signals. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "dns/edns.h"
#include "dns/err.h"
#include "dns/msg.h"
#include "dns/name.h"
#include "dns/rrtype.h"
#include "resolve/defence.h"
#include "resolve/validator.h"
#include "serve/answer.h"
#include "serve/zone.h"

#define VDIR "tests/data/validator/"
#define ZDIR "tests/data/zones/"
#define T2025 1735689600u

static uint32_t clock_now = T2025;
static uint32_t fake_now(void)
{
	return clock_now;
}

static zoneset *zs;
static answer_ctx actx;
static const answer_cfg acfg = {.max_udp = 4096};

/* fetches the validator asked for */
struct fq {
	unsigned id;
	uint8_t name[NAME_MAXLEN];
	uint16_t type;
};
static struct fq fq[64];
static unsigned nfq;
static int fetch_fail;

static int fetch_cb(void *arg, unsigned id, const uint8_t *qname, uint16_t qtype)
{
	(void)arg;
	if (fetch_fail)
		return DNS_EIO;
	assert_true(nfq < 64);
	fq[nfq].id = id;
	name_copy(fq[nfq].name, qname);
	fq[nfq].type = qtype;
	nfq++;
	return 0;
}

static const uint8_t *N(const char *s)
{
	static uint8_t b[8][NAME_MAXLEN];
	static unsigned k;
	uint8_t *o = b[k++ % 8];
	assert_true(name_from_text(s, strlen(s), NULL, o) > 0);
	return o;
}

/* The authoritative answer of the fixture zones to name/type (DO as given). */
static int ask(const uint8_t *name, uint16_t type, bool dobit, uint8_t *out, size_t cap)
{
	uint8_t q[512];
	msg_wr mw;
	msg_wr_init(&mw, q, sizeof(q));
	msg_wr_header(&mw, 0x4242, MSG_RD | MSG_CD);
	msg_wr_question(&mw, name, type, CLASS_IN);
	edns_out eo = {.udp_size = 4096, .flags = dobit ? EDNS_DO : 0};
	msg_wr_edns(&mw, &eo);
	int ql = msg_wr_finish(&mw);
	assert_true(ql > 0);
	int n = answer_query(&actx, zs, q, (size_t)ql, out, cap, true);
	assert_true(n > 0);
	return n;
}

/* Answers every queued fetch until none is left; returns how many. */
static unsigned pump(validator *v)
{
	unsigned done = 0;
	while (nfq) {
		struct fq f = fq[0];
		memmove(fq, fq + 1, (--nfq) * sizeof(fq[0]));
		static uint8_t r[65536];
		int n = ask(f.name, f.type, true, r, sizeof(r));
		assert_int_equal(validator_fetch_reply(v, f.id, r, (size_t)n), VAL_FETCH_DONE);
		done++;
	}
	return done;
}

static val_anchors *anchors_of(const char *file)
{
	val_anchors *a = val_anchors_new();
	char err[512];
	assert_non_null(a);
	int rc = val_anchors_load(a, file, err, sizeof(err));
	if (rc < 0)
		fail_msg("%s", err);
	return a;
}

static validator *mkval(const val_anchors *a)
{
	val_config c = {.anchors = a, .nservers = 2, .fetch = fetch_cb, .now = fake_now};
	validator *v = validator_new(&c);
	assert_non_null(v);
	return v;
}

static int setup(void **st)
{
	(void)st;
	char err[512];
	zs = zoneset_new();
	const char *files[] = {VDIR "test.zone", ZDIR "dnssec.test.zone"};
	const char *origins[] = {"test.", "dnssec.test."};
	for (int i = 0; i < 2; i++) {
		zone *z = zone_load(files[i], N(origins[i]), err, sizeof(err));
		if (!z)
			fail_msg("%s", err);
		assert_int_equal(zoneset_add(zs, z), 0);
	}
	return answer_ctx_init(&actx, &acfg, false);
}

static int teardown(void **st)
{
	(void)st;
	answer_ctx_free(&actx);
	zoneset_free(zs);
	return 0;
}

static void test_anchors(void **st)
{
	(void)st;
	char err[512];
	val_anchors *a = val_anchors_new();
	assert_int_equal(val_anchors_load(a, VDIR "test.ds", err, sizeof(err)), 1);
	assert_int_equal(val_anchors_load(a, VDIR "test.key", err, sizeof(err)), 1);
	assert_int_equal(a->n, 2);
	assert_int_equal(a->files, 2);
	assert_int_equal(a->a[0].type, RR_DS);
	assert_int_equal(a->a[1].type, RR_DNSKEY);
	assert_true(name_eq(val_anchors_cover(a, N("www.dnssec.test.")), N("test.")));
	assert_true(name_eq(val_anchors_cover(a, N("TEST.")), N("test.")));
	assert_null(val_anchors_cover(a, N("example.com.")));
	assert_null(val_anchors_cover(a, N("xtest.")));
	/* a zone file with other types, a missing file, an empty file */
	assert_true(val_anchors_load(a, VDIR "test.zone", err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "DS or DNSKEY"));
	assert_non_null(strstr(err, "test.zone:"));
	assert_true(val_anchors_load(a, VDIR "nonexistent.ds", err, sizeof(err)) < 0);
	assert_true(val_anchors_load(a, "/dev/null", err, sizeof(err)) < 0);
	val_anchors_free(a);
	/* the root anchor Debian ships, when present */
	struct stat sb;
	if (stat("/usr/share/dns/root.ds", &sb) == 0) {
		a = anchors_of("/usr/share/dns/root.ds");
		assert_true(a->n >= 1);
		assert_true(name_eq(val_anchors_cover(a, N("www.example.com.")), N(".")));
		val_anchors_free(a);
	}
	/* the validator needs anchors and servers */
	val_config c = {.anchors = NULL, .nservers = 1};
	assert_null(validator_new(&c));
	val_anchors *e = val_anchors_new();
	c.anchors = e;
	assert_null(validator_new(&c));
	val_anchors_free(e);
}

/* anchor DS -> test. DNSKEY -> dnssec.test DS -> dnssec.test DNSKEY -> answers */
static void chain(const char *anchor_file)
{
	val_anchors *a = anchors_of(anchor_file);
	val_seen *shared = val_seen_new();
	val_config vc = {.anchors = a, .nservers = 2, .fetch = fetch_cb, .now = fake_now, .seen = shared};
	validator *v = validator_new(&vc);
	assert_non_null(v);
	nfq = 0;
	static uint8_t r[65536];
	assert_int_equal(validator_zone_state(v, N("test."), NULL), 0);
	validator_prime(v);
	assert_int_equal(nfq, 1);
	assert_true(name_eq(fq[0].name, N("test.")));
	assert_int_equal(fq[0].type, RR_DNSKEY);
	assert_int_equal(pump(v), 1);
	unsigned nk;
	assert_int_equal(validator_zone_state(v, N("test."), &nk), 1);
	assert_int_equal(nk, 2);

	/* first answer: the signer's keys are not known: no signal, a fetch */
	int n = ask(N("www.dnssec.test."), RR_A, true, r, sizeof(r));
	assert_int_equal(validator_check(v, r, (size_t)n, 0), VAL_NONE);
	assert_non_null(strstr(validator_why(v), "not known yet"));
	assert_int_equal(nfq, 1);
	assert_int_equal(fq[0].type, RR_DS);
	assert_true(name_eq(fq[0].name, N("dnssec.test.")));
	/* the same again does not fetch twice */
	assert_int_equal(validator_check(v, r, (size_t)n, 0), VAL_NONE);
	assert_int_equal(nfq, 1);
	assert_int_equal(pump(v), 2); /* DS, then DNSKEY */
	assert_int_equal(validator_zone_state(v, N("dnssec.test."), &nk), 1);
	assert_int_equal(nk, 2);

	assert_int_equal(validator_check(v, r, (size_t)n, 0), VAL_SECURE);
	assert_string_equal(validator_why(v), "secure: www.dnssec.test A signed by dnssec.test key 33152 alg 13");
	/* a CNAME chain inside the zone */
	n = ask(N("alias.dnssec.test."), RR_A, true, r, sizeof(r));
	assert_int_equal(validator_check(v, r, (size_t)n, 1), VAL_SECURE);
	/* the zone's own DNSKEY set */
	n = ask(N("dnssec.test."), RR_DNSKEY, true, r, sizeof(r));
	assert_int_equal(validator_check(v, r, (size_t)n, 1), VAL_SECURE);

	/* tampered address, RRSIG kept: bogus */
	n = ask(N("www.dnssec.test."), RR_A, true, r, sizeof(r));
	msg m;
	static msg_rr rrs[256];
	assert_int_equal(msg_parse(&m, r, (size_t)n, rrs, 256), 0);
	unsigned an;
	const msg_rr *ans = msg_sec(&m, MSG_ANSWER, &an);
	assert_int_equal(ans[0].type, RR_A);
	r[ans[0].rdata + 3] ^= 0x55;
	assert_int_equal(validator_check(v, r, (size_t)n, 0), VAL_BOGUS);
	assert_non_null(strstr(validator_why(v), "bogus: www.dnssec.test A (signer dnssec.test"));
	/* no RRSIG at all for a name seen signed: bogus (any type of it) */
	n = ask(N("www.dnssec.test."), RR_A, false, r, sizeof(r));
	assert_int_equal(validator_check(v, r, (size_t)n, 0), VAL_BOGUS);
	assert_non_null(strstr(validator_why(v), "unsigned answer for a name seen signed"));
	n = ask(N("www.dnssec.test."), RR_TXT, false, r, sizeof(r));
	assert_int_equal(validator_check(v, r, (size_t)n, 0), VAL_BOGUS);
	/* another worker's validator sharing the seen set knows it too,
	 * without having verified anything itself */
	validator *v2 = validator_new(&vc);
	assert_non_null(v2);
	n = ask(N("www.dnssec.test."), RR_A, false, r, sizeof(r));
	assert_int_equal(validator_check(v2, r, (size_t)n, 0), VAL_BOGUS);
	assert_non_null(strstr(validator_why(v2), "unsigned answer for a name seen signed"));
	n = ask(N("mail.dnssec.test."), RR_A, false, r, sizeof(r));
	assert_int_equal(validator_check(v2, r, (size_t)n, 0), VAL_NONE);
	validator_free(v2);
	/* unsigned, never seen signed: no signal */
	n = ask(N("mail.dnssec.test."), RR_A, false, r, sizeof(r));
	assert_int_equal(validator_check(v, r, (size_t)n, 0), VAL_NONE);
	assert_non_null(strstr(validator_why(v), "insecure"));
	/* wildcard expansion: verified but not proven without NSEC: no signal */
	n = ask(N("x.wild.dnssec.test."), RR_A, true, r, sizeof(r));
	assert_int_equal(validator_check(v, r, (size_t)n, 0), VAL_NONE);
	assert_non_null(strstr(validator_why(v), "wildcard"));
	/* a negative answer: no signal (denial not checked) */
	n = ask(N("nope.dnssec.test."), RR_A, true, r, sizeof(r));
	assert_int_equal(validator_check(v, r, (size_t)n, 0), VAL_NONE);
	/* a name under no anchor: nothing at all */
	assert_false(validator_covers(v, N("www.example.com.")));
	assert_true(validator_covers(v, N("WWW.Dnssec.TEST.")));

	const val_counters *c = validator_counters(v);
	assert_true(c->secure >= 3);
	assert_true(c->bogus >= 3);
	assert_true(c->unsigned_seen >= 2);
	assert_int_equal(c->fetches, 3);
	assert_int_equal(c->fetch_ok, 3);

	/* keys expire after their TTL (3600): unknown again, refetched on use */
	clock_now = T2025 + 4000;
	assert_int_equal(validator_zone_state(v, N("dnssec.test."), NULL), 0);
	n = ask(N("www.dnssec.test."), RR_A, true, r, sizeof(r));
	assert_int_equal(validator_check(v, r, (size_t)n, 0), VAL_NONE);
	assert_int_equal(nfq, 1);
	assert_true(pump(v) >= 1);
	assert_true(pump(v) == 0);
	/* the parent expired too: the chain is walked again until secure */
	for (int i = 0; i < 4 && validator_check(v, r, (size_t)n, 0) != VAL_SECURE; i++)
		pump(v);
	assert_int_equal(validator_check(v, r, (size_t)n, 0), VAL_SECURE);
	/* after the signatures' expiration (2050): bogus */
	clock_now = 2600000000u;
	validator_free(v);
	v = mkval(a);
	validator_prime(v);
	/* the DNSKEY set's own signature has expired: never trusted */
	assert_int_equal(nfq, 1);
	static uint8_t kr[65536];
	int kn = ask(N("test."), RR_DNSKEY, true, kr, sizeof(kr));
	assert_int_equal(validator_fetch_reply(v, fq[0].id, kr, (size_t)kn), VAL_FETCH_MORE);
	validator_fetch_end(v, fq[0].id);
	nfq = 0;
	assert_int_equal(validator_zone_state(v, N("test."), NULL), 0);
	clock_now = T2025;
	validator_free(v);
	val_seen_free(shared);
	val_anchors_free(a);
}

static void test_chain_ds(void **st)
{
	(void)st;
	chain(VDIR "test.ds");
}

static void test_chain_dnskey(void **st)
{
	(void)st;
	chain(VDIR "test.key");
}

/* forged key material and failing fetches */
static void test_fetch_failures(void **st)
{
	(void)st;
	val_anchors *a = anchors_of(VDIR "test.ds");
	validator *v = mkval(a);
	nfq = 0;
	static uint8_t r[65536];
	validator_prime(v);
	assert_int_equal(nfq, 1);
	unsigned id = fq[0].id;
	/* the child's DNSKEY set offered for test.: wrong question, not used */
	int n = ask(N("dnssec.test."), RR_DNSKEY, true, r, sizeof(r));
	assert_int_equal(validator_fetch_reply(v, id, r, (size_t)n), VAL_FETCH_MORE);
	/* test.'s DNSKEY set with a flipped key octet: matches no DS */
	n = ask(N("test."), RR_DNSKEY, true, r, sizeof(r));
	msg m;
	static msg_rr rrs[256];
	assert_int_equal(msg_parse(&m, r, (size_t)n, rrs, 256), 0);
	unsigned an;
	const msg_rr *ans = msg_sec(&m, MSG_ANSWER, &an);
	for (unsigned i = 0; i < an; i++)
		if (ans[i].type == RR_DNSKEY)
			r[ans[i].rdata + 10] ^= 1;
	assert_int_equal(validator_fetch_reply(v, id, r, (size_t)n), VAL_FETCH_MORE);
	/* unsigned: not usable either */
	n = ask(N("test."), RR_DNSKEY, false, r, sizeof(r));
	assert_int_equal(validator_fetch_reply(v, id, r, (size_t)n), VAL_FETCH_MORE);
	/* garbage */
	assert_int_equal(validator_fetch_reply(v, id, (const uint8_t *)"xx", 2), VAL_FETCH_MORE);
	/* the transaction ends: retried only after the back-off */
	validator_fetch_end(v, id);
	validator_fetch_end(v, id); /* idempotent */
	nfq = 0;
	validator_prime(v);
	assert_int_equal(nfq, 0);
	clock_now = T2025 + 10;
	validator_prime(v);
	assert_int_equal(nfq, 1);
	/* the genuine reply still works */
	assert_int_equal(pump(v), 1);
	assert_int_equal(validator_zone_state(v, N("test."), NULL), 1);
	/* a reply for an id not in use is harmless */
	assert_int_equal(validator_fetch_reply(v, 7, r, (size_t)n), VAL_FETCH_DONE);
	assert_int_equal(validator_fetch_reply(v, 999, r, (size_t)n), VAL_FETCH_DONE);
	/* the caller cannot send: no fetch in flight, retried later */
	fetch_fail = 1;
	n = ask(N("www.dnssec.test."), RR_A, true, r, sizeof(r));
	assert_int_equal(validator_check(v, r, (size_t)n, 0), VAL_NONE);
	assert_int_equal(nfq, 0);
	fetch_fail = 0;
	assert_int_equal(validator_check(v, r, (size_t)n, 0), VAL_NONE);
	assert_int_equal(nfq, 0); /* backing off */
	clock_now = T2025 + 20;
	assert_int_equal(validator_check(v, r, (size_t)n, 0), VAL_NONE);
	assert_int_equal(nfq, 1);
	pump(v);
	assert_int_equal(validator_check(v, r, (size_t)n, 0), VAL_SECURE);
	/* insecure delegation: a DS query answered without DS */
	n = ask(N("plain.test."), RR_DS, true, r, sizeof(r));
	assert_int_equal(validator_check(v, r, (size_t)n, 0), VAL_NONE);
	clock_now = T2025;
	validator_free(v);
	val_anchors_free(a);
}

/* rate limit: max_verify per second per upstream */
static void test_budget(void **st)
{
	(void)st;
	val_anchors *a = anchors_of(VDIR "test.ds");
	val_config c = {.anchors = a, .nservers = 2, .fetch = fetch_cb, .now = fake_now, .max_verify = 3};
	validator *v = validator_new(&c);
	nfq = 0;
	validator_prime(v);
	pump(v);
	static uint8_t r[65536];
	int n = ask(N("ns1.test."), RR_A, true, r, sizeof(r));
	/* the DNSKEY fetch used none of the budget */
	for (int i = 0; i < 3; i++)
		assert_int_equal(validator_check(v, r, (size_t)n, 0), VAL_SECURE);
	assert_int_equal(validator_check(v, r, (size_t)n, 0), VAL_NONE);
	assert_non_null(strstr(validator_why(v), "budget"));
	assert_int_equal(validator_check(v, r, (size_t)n, 1), VAL_SECURE); /* another upstream */
	clock_now++;
	assert_int_equal(validator_check(v, r, (size_t)n, 0), VAL_SECURE);
	clock_now = T2025;
	assert_int_equal(validator_counters(v)->limited, 1);
	/* a reload's new upstream (number 2) gets its own budget once added */
	(void)validator_check(v, r, (size_t)n, 2); /* before: counted against upstream 0 */
	assert_int_equal(validator_add_server(v), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(validator_check(v, r, (size_t)n, 2), VAL_SECURE);
	assert_int_equal(validator_check(v, r, (size_t)n, 2), VAL_NONE);
	validator_free(v);
	val_anchors_free(a);
}

/* ---- the defence with a validator ---- */

static up_reply mkreply(const uint8_t *wire, int len, msg *m, unsigned seq, uint64_t t, bool opt, bool cookie)
{
	assert_int_equal(msg_parse_query(m, wire, (size_t)len), 0);
	up_reply r = {.wire = wire, .len = (uint16_t)len, .m = m, .seq = seq, .server = 0, .transport = UP_UDP,
		      .t_us = t, .rtt_us = 20000, .ip_ttl = 64, .flags = m->hdr.flags, .rcode = msg_rcode(m),
		      .opt = opt, .cookie_echoed = cookie};
	return r;
}

static void test_defence(void **st)
{
	(void)st;
	val_anchors *a = anchors_of(VDIR "test.ds");
	validator *v = mkval(a);
	nfq = 0;
	validator_prime(v);
	pump(v);
	static uint8_t r[65536], t[65536];
	int n = ask(N("www.dnssec.test."), RR_A, true, r, sizeof(r));
	validator_check(v, r, (size_t)n, 0);
	pump(v);
	def_config dc = {.mode = DEF_ON, .nservers = 1, .val = v};
	defence *d = defence_new(&dc);
	assert_non_null(d);
	const uint8_t *qn = N("www.dnssec.test.");
	/* a tampered reply that echoes OPT and cookie: dropped as bogus */
	memcpy(t, r, (size_t)n);
	msg pm;
	static msg_rr rrs[256];
	assert_int_equal(msg_parse(&pm, t, (size_t)n, rrs, 256), 0);
	unsigned an;
	const msg_rr *ans = msg_sec(&pm, MSG_ANSWER, &an);
	t[ans[0].rdata + 3] ^= 0x55;
	def_txn x;
	defence_txn_begin(d, &x, qn, RR_A);
	msg m1, m2;
	up_reply r1 = mkreply(t, n, &m1, 0, 1000000, true, true);
	def_judgement j;
	uint64_t dl;
	int act = defence_judge(d, &x, &r1, &dl, &j);
	assert_int_equal(act, DEF_HOLD);
	assert_int_equal(j.verdict, V_FORGED);
	assert_true(j.signals & VS_BIT(VS_DNSSEC_BOGUS));
	assert_true(j.signals & VS_BIT(VS_COOKIE)); /* it would have passed */
	/* the genuine one, even without OPT or cookie: accepted at once */
	up_reply r2 = mkreply(r, n, &m2, 1, 1010000, false, false);
	act = defence_judge(d, &x, &r2, &dl, &j);
	assert_int_equal(act, DEF_ACCEPT);
	assert_true(j.signals & VS_BIT(VS_DNSSEC_OK));
	assert_true(j.score >= DEF_ACCEPT_SCORE);
	defence_txn_end(d, &x);
	const verdict_counters *vc = defence_counters(d, 0);
	assert_int_equal(vc->dnssec_ok, 1);
	assert_int_equal(vc->dnssec_bogus, 1);
	assert_int_equal(vc->forged, 1);
	defence_free(d);
	/* mode off: bogus still dropped, the rest accepted */
	dc.mode = DEF_OFF;
	d = defence_new(&dc);
	defence_txn_begin(d, &x, qn, RR_A);
	r1 = mkreply(t, n, &m1, 0, 1000000, true, true);
	assert_int_equal(defence_judge(d, &x, &r1, &dl, &j), DEF_HOLD);
	assert_int_equal(j.verdict, V_FORGED);
	r2 = mkreply(r, n, &m2, 1, 1010000, true, true);
	assert_int_equal(defence_judge(d, &x, &r2, &dl, &j), DEF_ACCEPT);
	defence_txn_end(d, &x);
	defence_free(d);
	validator_free(v);
	val_anchors_free(a);
}

/* the verdict log says what DNSSEC concluded */
static void test_verdict_text(void **st)
{
	(void)st;
	verdict_rec rec = {.upstream = "127.0.0.1:53", .qname = N("www.dnssec.test."), .qtype = RR_A,
			   .ip_ttl = -1, .ip_ttl_learnt = -1, .signals = VS_BIT(VS_DNSSEC_BOGUS),
			   .verdict = V_FORGED, .dnssec = "bogus: signature does not verify"};
	char line[2048];
	assert_true(verdict_format(&rec, line, sizeof(line)) > 0);
	assert_non_null(strstr(line, "\"signals\":[\"dnssec-bogus\"]"));
	assert_non_null(strstr(line, "(dnssec: bogus: signature does not verify)"));
	assert_non_null(strstr(line, ",\"dnssec\":\"bogus: signature does not verify\"}"));
	rec.dnssec = NULL;
	assert_true(verdict_format(&rec, line, sizeof(line)) > 0);
	assert_null(strstr(line, "\"dnssec\":"));
	assert_true(VS_PROOF & VS_BIT(VS_DNSSEC_BOGUS));
	assert_false(VS_PROOF & VS_BIT(VS_DNSSEC_OK));
}

int main(void)
{
	struct stat sb;
	if (stat(VDIR "test.zone", &sb) != 0) {
		fprintf(stderr, "run from the repository root (%s missing)\n", VDIR);
		return 1;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_anchors),
		cmocka_unit_test(test_chain_ds),
		cmocka_unit_test(test_chain_dnskey),
		cmocka_unit_test(test_fetch_failures),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_defence),
		cmocka_unit_test(test_verdict_text),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
