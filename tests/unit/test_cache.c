/* Unit tests for src/resolve/cache: TTLs on a virtual clock, clamps, negative caching, sanitising, refusals, patching, truncation, SIEVE, serve-stale, prefetch, threads. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/msg.h"
#include "dns/rrtype.h"
#include "resolve/cache.h"

/* ---- message builders ---- */

typedef struct trr {
	unsigned sec;
	const char *owner;
	uint16_t type;
	uint32_t ttl;
	uint8_t rd[300];
	uint16_t rdlen;
} trr;

static size_t nm(const char *text, uint8_t *out)
{
	int n = name_from_text(text, strlen(text), NULL, out);
	assert_true(n > 0);
	return (size_t)n;
}

static trr rr_a(unsigned sec, const char *owner, uint32_t ttl, uint8_t last)
{
	trr r = { .sec = sec, .owner = owner, .type = RR_A, .ttl = ttl, .rdlen = 4 };
	r.rd[0] = 192; r.rd[1] = 0; r.rd[2] = 2; r.rd[3] = last;
	return r;
}

static trr rr_name(unsigned sec, const char *owner, uint16_t type, uint32_t ttl, const char *target)
{
	trr r = { .sec = sec, .owner = owner, .type = type, .ttl = ttl };
	r.rdlen = (uint16_t)nm(target, r.rd);
	return r;
}

static trr rr_soa(const char *owner, uint32_t ttl, uint32_t minimum)
{
	trr r = { .sec = MSG_AUTHORITY, .owner = owner, .type = RR_SOA, .ttl = ttl };
	size_t n = nm("ns1.example.", r.rd);
	n += nm("hostmaster.example.", r.rd + n);
	uint32_t v[5] = {2024010101, 7200, 3600, 1209600, minimum};
	for (int i = 0; i < 5; i++, n += 4)
		wire_put_u32(r.rd + n, v[i]);
	r.rdlen = (uint16_t)n;
	return r;
}

static trr rr_rrsig(unsigned sec, const char *owner, uint16_t covered, uint32_t ttl, const char *signer)
{
	trr r = { .sec = sec, .owner = owner, .type = RR_RRSIG, .ttl = ttl };
	wire_put_u16(r.rd, covered);
	r.rd[2] = 13;
	r.rd[3] = 2;
	wire_put_u32(r.rd + 4, ttl);
	wire_put_u32(r.rd + 8, 1900000000);
	wire_put_u32(r.rd + 12, 1700000000);
	wire_put_u16(r.rd + 16, 12345);
	size_t n = 18 + nm(signer, r.rd + 18);
	memset(r.rd + n, 0xab, 200); /* RSA-1600-sized signature */
	r.rdlen = (uint16_t)(n + 200);
	return r;
}

static trr rr_nsec(const char *owner, uint32_t ttl, const char *next)
{
	trr r = { .sec = MSG_AUTHORITY, .owner = owner, .type = RR_NSEC, .ttl = ttl };
	size_t n = nm(next, r.rd);
	r.rd[n++] = 0;       /* window 0 */
	r.rd[n++] = 1;       /* one octet */
	r.rd[n++] = 0x40;    /* A */
	r.rdlen = (uint16_t)n;
	return r;
}

/* Upstream response: header flags (QR added), question, RRs. */
static size_t mkresp(uint8_t *buf, uint16_t flags, const char *qname, uint16_t qtype,
		     const trr *rrs, unsigned n)
{
	uint8_t q[NAME_MAXLEN], o[NAME_MAXLEN];
	msg_wr mw;
	msg_wr_init(&mw, buf, 65535);
	assert_int_equal(msg_wr_header(&mw, 0x4242, (uint16_t)(MSG_QR | flags)), 0);
	nm(qname, q);
	assert_int_equal(msg_wr_question(&mw, q, qtype, CLASS_IN), 0);
	for (unsigned i = 0; i < n; i++) {
		nm(rrs[i].owner, o);
		assert_int_equal(msg_wr_rr(&mw, rrs[i].sec, o, rrs[i].type, CLASS_IN, rrs[i].ttl,
					   rrs[i].rd, rrs[i].rdlen), 0);
	}
	int len = msg_wr_finish(&mw);
	assert_true(len > 0);
	return (size_t)len;
}

/* Client query parsed into m (wire kept in buf, which must outlive m). */
static void mkquery(msg *m, uint8_t *buf, uint16_t id, const char *qname, uint16_t qtype,
		    uint16_t flags, bool with_edns, bool dobit)
{
	uint8_t q[NAME_MAXLEN];
	msg_wr mw;
	msg_wr_init(&mw, buf, 512);
	assert_int_equal(msg_wr_header(&mw, id, flags), 0);
	nm(qname, q);
	assert_int_equal(msg_wr_question(&mw, q, qtype, CLASS_IN), 0);
	if (with_edns) {
		edns_out eo = { .udp_size = 4096, .flags = dobit ? EDNS_DO : 0 };
		assert_int_equal(msg_wr_edns(&mw, &eo), 0);
	}
	int len = msg_wr_finish(&mw);
	assert_true(len > 0);
	assert_int_equal(msg_parse_query(m, buf, (size_t)len), 0);
}

static void key_of(cache_key *k, uint8_t *qbuf, const char *qname, uint16_t qtype, bool dobit)
{
	k->qname = qbuf;
	k->qname_len = (uint8_t)nm(qname, qbuf);
	k->qtype = qtype;
	k->qclass = CLASS_IN;
	k->do_bit = dobit;
	k->cd_bit = false;
}

static msg_rr prr[MSG_MAXRRS];

/* Store helper: response for qname/qtype (plain key). */
static int store(cache *c, uint32_t now, uint16_t flags, const char *qname, uint16_t qtype,
		 const trr *rrs, unsigned n)
{
	static uint8_t resp[65535];
	uint8_t kb[NAME_MAXLEN];
	cache_key k;
	key_of(&k, kb, qname, qtype, false);
	size_t len = mkresp(resp, flags, qname, qtype, rrs, n);
	return cache_store(c, &k, resp, len, now);
}

/* Lookup helper: plain query, parses the answer into *a (rrs in prr). */
static int lookup(cache *c, uint32_t now, unsigned opts, const char *qname, uint16_t qtype,
		  msg *a, uint8_t *out, unsigned *fl)
{
	uint8_t qb[512];
	msg q;
	mkquery(&q, qb, 0x1234, qname, qtype, MSG_RD, false, false);
	int n = cache_lookup(c, &q, now, opts, 512, out, 512, fl);
	if (n > 0)
		assert_int_equal(msg_parse(a, out, (size_t)n, prr, MSG_MAXRRS), 0);
	return n;
}

static cache *mk(uint32_t min_ttl, uint32_t max_ttl)
{
	cache_cfg cfg;
	cache_cfg_default(&cfg);
	cfg.size = 1u << 20;
	cfg.shards = 4;
	cfg.min_ttl = min_ttl;
	if (max_ttl)
		cfg.max_ttl = max_ttl;
	cache *c = cache_new(&cfg);
	assert_non_null(c);
	return c;
}

/* ---- tests ---- */

static void test_ttl_countdown(void **st)
{
	(void)st;
	cache *c = mk(0, 0);
	trr rrs[] = { rr_a(MSG_ANSWER, "www.example.com.", 300, 1) };
	assert_int_equal(store(c, 1000, 0, "www.example.com.", RR_A, rrs, 1), CACHE_STORED);
	msg a;
	uint8_t out[512];
	unsigned fl;
	assert_true(lookup(c, 1000, 0, "www.example.com.", RR_A, &a, out, &fl) > 0);
	assert_int_equal(a.nrr, 2);
	assert_int_equal(prr[1].ttl, 300);
	assert_int_equal(fl, 0);
	assert_true(lookup(c, 1100, 0, "www.example.com.", RR_A, &a, out, &fl) > 0);
	assert_int_equal(prr[1].ttl, 200);
	assert_true(lookup(c, 1299, 0, "www.example.com.", RR_A, &a, out, &fl) > 0);
	assert_int_equal(prr[1].ttl, 1);
	/* Clock going backwards: age 0, never above the stored TTL. */
	assert_true(lookup(c, 900, 0, "www.example.com.", RR_A, &a, out, &fl) > 0);
	assert_int_equal(prr[1].ttl, 300);
	/* Expired: a miss, but a stale entry is there. */
	assert_int_equal(lookup(c, 1300, 0, "www.example.com.", RR_A, &a, out, &fl), 0);
	assert_int_equal(fl, CACHE_STALE_AVAIL);
	/* Other names and types miss. */
	assert_int_equal(lookup(c, 1000, 0, "www.example.com.", RR_AAAA, &a, out, &fl), 0);
	assert_int_equal(fl, 0);
	assert_int_equal(lookup(c, 1000, 0, "ww.example.com.", RR_A, &a, out, &fl), 0);
	cache_stats s;
	cache_stats_get(c, &s);
	assert_int_equal(s.entries, 1);
	assert_int_equal(s.hits, 4);
	assert_int_equal(s.misses, 3);
	assert_int_equal(s.stores, 1);
	assert_true(s.bytes > 0 && s.bytes <= s.budget);
	cache_free(c);
}

static void test_per_rr_ttls(void **st)
{
	(void)st;
	cache *c = mk(0, 0);
	trr rrs[] = { rr_name(MSG_ANSWER, "www.example.com.", RR_CNAME, 100, "edge.cdn.net."),
		      rr_a(MSG_ANSWER, "edge.cdn.net.", 50, 7) };
	assert_int_equal(store(c, 0, 0, "www.example.com.", RR_A, rrs, 2), CACHE_STORED);
	msg a;
	uint8_t out[512];
	unsigned fl;
	assert_true(lookup(c, 20, 0, "www.example.com.", RR_A, &a, out, &fl) > 0);
	assert_int_equal(a.hdr.ancount, 2);
	assert_int_equal(prr[1].type, RR_CNAME);
	assert_int_equal(prr[1].ttl, 80);
	assert_int_equal(prr[2].ttl, 30);
	/* The entry lives as long as its shortest TTL. */
	assert_true(lookup(c, 49, 0, "www.example.com.", RR_A, &a, out, &fl) > 0);
	assert_int_equal(lookup(c, 50, 0, "www.example.com.", RR_A, &a, out, &fl), 0);
	cache_free(c);
}

static void test_clamp(void **st)
{
	(void)st;
	cache *c = mk(60, 1000);
	trr lo[] = { rr_a(MSG_ANSWER, "lo.example.", 5, 1) };
	trr hi[] = { rr_a(MSG_ANSWER, "hi.example.", 86400, 1) };
	trr neg[] = { rr_a(MSG_ANSWER, "neg.example.", 0x80000005u, 1) };
	assert_int_equal(store(c, 0, 0, "lo.example.", RR_A, lo, 1), CACHE_STORED);
	assert_int_equal(store(c, 0, 0, "hi.example.", RR_A, hi, 1), CACHE_STORED);
	assert_int_equal(store(c, 0, 0, "neg.example.", RR_A, neg, 1), CACHE_STORED);
	msg a;
	uint8_t out[512];
	unsigned fl;
	assert_true(lookup(c, 10, 0, "lo.example.", RR_A, &a, out, &fl) > 0);
	assert_int_equal(prr[1].ttl, 50);
	assert_true(lookup(c, 59, 0, "lo.example.", RR_A, &a, out, &fl) > 0);
	assert_int_equal(lookup(c, 60, 0, "lo.example.", RR_A, &a, out, &fl), 0);
	assert_true(lookup(c, 0, 0, "hi.example.", RR_A, &a, out, &fl) > 0);
	assert_int_equal(prr[1].ttl, 1000);
	assert_int_equal(lookup(c, 1000, 0, "hi.example.", RR_A, &a, out, &fl), 0);
	/* Top bit set counts as 0, then raised to min_ttl. */
	assert_true(lookup(c, 0, 0, "neg.example.", RR_A, &a, out, &fl) > 0);
	assert_int_equal(prr[1].ttl, 60);
	cache_free(c);
	/* Without a floor, TTL 0 is not cached. */
	c = mk(0, 0);
	trr z[] = { rr_a(MSG_ANSWER, "z.example.", 0, 1) };
	assert_int_equal(store(c, 0, 0, "z.example.", RR_A, z, 1), CACHE_R_TTL0);
	cache_stats s;
	cache_stats_get(c, &s);
	assert_int_equal(s.refused[CACHE_R_TTL0], 1);
	assert_int_equal(s.entries, 0);
	cache_free(c);
	/* min > max is nonsense. */
	cache_cfg cfg;
	cache_cfg_default(&cfg);
	cfg.min_ttl = 100;
	cfg.max_ttl = 10;
	assert_null(cache_new(&cfg));
}

static void test_negative(void **st)
{
	(void)st;
	cache *c = mk(0, 0);
	msg a;
	uint8_t out[512];
	unsigned fl;
	/* NXDOMAIN: TTL = min(SOA TTL, MINIMUM), SOA TTL counts down. */
	trr nx[] = { rr_soa("example.com.", 3600, 300) };
	assert_int_equal(store(c, 0, RCODE_NXDOMAIN, "nope.example.com.", RR_A, nx, 1), CACHE_STORED);
	assert_true(lookup(c, 100, 0, "nope.example.com.", RR_A, &a, out, &fl) > 0);
	assert_int_equal(fl, CACHE_NEGATIVE);
	assert_int_equal(msg_rcode(&a), RCODE_NXDOMAIN);
	assert_int_equal(a.hdr.ancount, 0);
	assert_int_equal(a.hdr.nscount, 1);
	assert_int_equal(prr[1].type, RR_SOA);
	assert_int_equal(prr[1].ttl, 200);
	assert_int_equal(lookup(c, 300, 0, "nope.example.com.", RR_A, &a, out, &fl), 0);
	/* SOA TTL below MINIMUM wins. */
	trr nx2[] = { rr_soa("example.com.", 60, 300) };
	assert_int_equal(store(c, 0, RCODE_NXDOMAIN, "nope2.example.com.", RR_A, nx2, 1), CACHE_STORED);
	assert_true(lookup(c, 0, 0, "nope2.example.com.", RR_A, &a, out, &fl) > 0);
	assert_int_equal(prr[1].ttl, 60);
	assert_int_equal(lookup(c, 60, 0, "nope2.example.com.", RR_A, &a, out, &fl), 0);
	/* Negative TTLs are capped at neg_max_ttl (3600). */
	trr nx3[] = { rr_soa("example.com.", 86400, 86400) };
	assert_int_equal(store(c, 0, RCODE_NXDOMAIN, "nope3.example.com.", RR_A, nx3, 1), CACHE_STORED);
	assert_true(lookup(c, 0, 0, "nope3.example.com.", RR_A, &a, out, &fl) > 0);
	assert_int_equal(prr[1].ttl, 3600);
	/* NODATA: NOERROR, no answer, SOA; per type. */
	trr nd[] = { rr_soa("example.com.", 3600, 600) };
	assert_int_equal(store(c, 0, 0, "www.example.com.", RR_AAAA, nd, 1), CACHE_STORED);
	assert_true(lookup(c, 10, 0, "www.example.com.", RR_AAAA, &a, out, &fl) > 0);
	assert_int_equal(fl, CACHE_NEGATIVE);
	assert_int_equal(msg_rcode(&a), RCODE_NOERROR);
	assert_int_equal(a.hdr.ancount, 0);
	assert_int_equal(a.hdr.nscount, 1);
	assert_int_equal(prr[1].ttl, 590);
	assert_int_equal(lookup(c, 10, 0, "www.example.com.", RR_A, &a, out, &fl), 0);
	/* CNAME into NXDOMAIN: chain kept, SOA must cover the target. */
	trr cx[] = { rr_name(MSG_ANSWER, "alias.example.com.", RR_CNAME, 900, "gone.other.org."),
		     rr_soa("other.org.", 3600, 120) };
	assert_int_equal(store(c, 0, RCODE_NXDOMAIN, "alias.example.com.", RR_A, cx, 2), CACHE_STORED);
	assert_true(lookup(c, 20, 0, "alias.example.com.", RR_A, &a, out, &fl) > 0);
	assert_int_equal(fl, CACHE_NEGATIVE);
	assert_int_equal(msg_rcode(&a), RCODE_NXDOMAIN);
	assert_int_equal(a.hdr.ancount, 1);
	assert_int_equal(prr[1].ttl, 880);
	assert_int_equal(prr[2].ttl, 100);
	assert_int_equal(lookup(c, 120, 0, "alias.example.com.", RR_A, &a, out, &fl), 0);
	cache_free(c);
}

static void test_refusals(void **st)
{
	(void)st;
	cache *c = mk(0, 0);
	trr ok[] = { rr_a(MSG_ANSWER, "www.example.com.", 300, 1) };
	assert_int_equal(store(c, 0, MSG_TC, "www.example.com.", RR_A, ok, 1), CACHE_R_TC);
	assert_int_equal(store(c, 0, RCODE_SERVFAIL, "www.example.com.", RR_A, ok, 0), CACHE_R_RCODE);
	assert_int_equal(store(c, 0, RCODE_REFUSED, "www.example.com.", RR_A, ok, 0), CACHE_R_RCODE);
	assert_int_equal(store(c, 0, RCODE_FORMERR, "www.example.com.", RR_A, ok, 1), CACHE_R_RCODE);
	/* Negative without SOA, referral, SOA of an unrelated zone. */
	assert_int_equal(store(c, 0, RCODE_NXDOMAIN, "www.example.com.", RR_A, ok, 0), CACHE_R_NOSOA);
	trr ref[] = { rr_name(MSG_AUTHORITY, "example.com.", RR_NS, 3600, "ns1.example.com."),
		      rr_a(MSG_ADDITIONAL, "ns1.example.com.", 3600, 53) };
	assert_int_equal(store(c, 0, 0, "www.example.com.", RR_A, ref, 2), CACHE_R_NOSOA);
	trr soa_bad[] = { rr_soa("example.net.", 3600, 300) };
	assert_int_equal(store(c, 0, RCODE_NXDOMAIN, "www.example.com.", RR_A, soa_bad, 1), CACHE_R_NOSOA);
	/* CNAME loop. */
	trr loop[] = { rr_name(MSG_ANSWER, "a.example.", RR_CNAME, 300, "b.example."),
		       rr_name(MSG_ANSWER, "b.example.", RR_CNAME, 300, "a.example.") };
	assert_int_equal(store(c, 0, 0, "a.example.", RR_A, loop, 2), CACHE_R_NOSOA);
	/* Answer for a name that the chain never reaches. */
	trr other[] = { rr_a(MSG_ANSWER, "evil.example.", 300, 66) };
	assert_int_equal(store(c, 0, 0, "www.example.com.", RR_A, other, 1), CACHE_R_NOSOA);
	assert_int_equal(store(c, 0, 0, "www.example.com.", RR_ANY, ok, 1), CACHE_R_QTYPE);

	/* Question mismatches. */
	uint8_t resp[1024], kb[NAME_MAXLEN];
	cache_key k;
	size_t len = mkresp(resp, 0, "www.example.com.", RR_A, ok, 1);
	key_of(&k, kb, "www.example.org.", RR_A, false);
	assert_int_equal(cache_store(c, &k, resp, len, 0), CACHE_R_MISMATCH);
	key_of(&k, kb, "www.example.com.", RR_AAAA, false);
	assert_int_equal(cache_store(c, &k, resp, len, 0), CACHE_R_MISMATCH);
	key_of(&k, kb, "WWW.Example.COM.", RR_A, false); /* case does not matter */
	assert_int_equal(cache_store(c, &k, resp, len, 0), CACHE_STORED);
	k.qclass = CLASS_CH;
	assert_int_equal(cache_store(c, &k, resp, len, 0), CACHE_R_MISMATCH);
	k.qclass = CLASS_IN;
	/* Malformed: truncated, garbage, not a response, not QUERY. */
	assert_int_equal(cache_store(c, &k, resp, len - 1, 0), CACHE_R_MALFORMED);
	assert_int_equal(cache_store(c, &k, resp, 5, 0), CACHE_R_MALFORMED);
	uint8_t bad[1024];
	memcpy(bad, resp, len);
	bad[2] &= (uint8_t)~(MSG_QR >> 8);
	assert_int_equal(cache_store(c, &k, bad, len, 0), CACHE_R_MALFORMED);
	memcpy(bad, resp, len);
	bad[2] |= (uint8_t)(OPCODE_NOTIFY << 3);
	assert_int_equal(cache_store(c, &k, bad, len, 0), CACHE_R_MALFORMED);
	memcpy(bad, resp, len);
	wire_put_u16(bad + 4, 2); /* QDCOUNT 2: the counts do not add up */
	assert_int_equal(cache_store(c, &k, bad, len, 0), CACHE_R_MALFORMED);
	memcpy(bad, resp, len);
	wire_put_u16(bad + 4, 0);
	assert_int_equal(cache_store(c, &k, bad, len, 0), CACHE_R_MALFORMED);
	/* Bigger than max_entry. */
	trr big[40];
	for (unsigned i = 0; i < 40; i++) {
		big[i] = (trr){ .sec = MSG_ANSWER, .owner = "txt.example.", .type = RR_TXT, .ttl = 300, .rdlen = 200 };
		big[i].rd[0] = 199;
		memset(big[i].rd + 1, 'a' + (int)(i % 26), 199);
		big[i].rd[1] = (uint8_t)i;
	}
	assert_int_equal(store(c, 0, 0, "txt.example.", RR_TXT, big, 40), CACHE_R_TOOBIG);
	cache_stats s;
	cache_stats_get(c, &s);
	assert_int_equal(s.refused[CACHE_R_TC], 1);
	assert_int_equal(s.refused[CACHE_R_RCODE], 3);
	assert_int_equal(s.refused[CACHE_R_NOSOA], 5);
	assert_int_equal(s.refused[CACHE_R_QTYPE], 1);
	assert_int_equal(s.refused[CACHE_R_MISMATCH], 3);
	assert_int_equal(s.refused[CACHE_R_MALFORMED], 6);
	assert_int_equal(s.refused[CACHE_R_TOOBIG], 1);
	assert_int_equal(s.entries, 1);
	assert_string_equal(cache_reason_name(CACHE_R_NOSOA), "no-soa");
	assert_string_equal(cache_reason_name(99), "?");
	cache_free(c);
}

static void test_sanitise(void **st)
{
	(void)st;
	cache *c = mk(0, 0);
	/* Chain kept, injected unrelated answer, NS authority and glue dropped. */
	trr rrs[] = { rr_name(MSG_ANSWER, "www.example.com.", RR_CNAME, 300, "a.example.net."),
		      rr_a(MSG_ANSWER, "evil.example.com.", 300, 66),
		      rr_name(MSG_ANSWER, "a.example.net.", RR_CNAME, 300, "b.example.org."),
		      rr_a(MSG_ANSWER, "b.example.org.", 300, 1),
		      rr_a(MSG_ANSWER, "b.example.org.", 300, 2),
		      rr_name(MSG_ANSWER, "b.example.org.", RR_NS, 300, "ns.evil."),
		      rr_name(MSG_AUTHORITY, "example.org.", RR_NS, 300, "ns.example.org."),
		      rr_a(MSG_ADDITIONAL, "ns.example.org.", 300, 53) };
	assert_int_equal(store(c, 0, 0, "www.example.com.", RR_A, rrs, 8), CACHE_STORED);
	msg a;
	uint8_t out[512];
	unsigned fl;
	assert_true(lookup(c, 0, 0, "www.example.com.", RR_A, &a, out, &fl) > 0);
	assert_int_equal(a.hdr.ancount, 4);
	assert_int_equal(a.hdr.nscount, 0);
	assert_int_equal(a.hdr.arcount, 0);
	uint8_t o[NAME_MAXLEN], want[NAME_MAXLEN];
	for (unsigned i = 1; i <= 4; i++) {
		msg_rr_owner(&a, &prr[i], o);
		assert_false(name_eq(o, (nm("evil.example.com.", want), want)));
		assert_true(prr[i].type == RR_CNAME || prr[i].type == RR_A);
	}
	/* Upstream OPT and AA are not kept: a plain client gets no OPT. */
	uint8_t resp[512], kb[NAME_MAXLEN];
	msg_wr mw;
	msg_wr_init(&mw, resp, sizeof(resp));
	msg_wr_header(&mw, 1, MSG_QR | MSG_AA);
	size_t ql = nm("opt.example.", kb);
	(void)ql;
	msg_wr_question(&mw, kb, RR_A, CLASS_IN);
	uint8_t ad[4] = {10, 0, 0, 1};
	msg_wr_rr(&mw, MSG_ANSWER, kb, RR_A, CLASS_IN, 60, ad, 4);
	edns_out eo = { .udp_size = 4096, .flags = EDNS_DO };
	msg_wr_edns(&mw, &eo);
	int len = msg_wr_finish(&mw);
	cache_key k;
	key_of(&k, kb, "opt.example.", RR_A, false);
	assert_int_equal(cache_store(c, &k, resp, (size_t)len, 0), CACHE_STORED);
	assert_true(lookup(c, 0, 0, "opt.example.", RR_A, &a, out, &fl) > 0);
	assert_int_equal(a.hdr.arcount, 0);
	assert_false(a.edns.present);
	assert_false(a.hdr.flags & MSG_AA);
	assert_true(a.hdr.flags & MSG_RA);
	cache_free(c);
}

static void test_dnssec_records(void **st)
{
	(void)st;
	cache *c = mk(0, 0);
	/* Wildcard-style positive DO answer: A + RRSIG, NSEC proof + RRSIG in
	 * authority (kept), NS + unrelated NSEC (dropped). */
	trr rrs[] = { rr_a(MSG_ANSWER, "x.w.example.com.", 300, 1),
		      rr_rrsig(MSG_ANSWER, "x.w.example.com.", RR_A, 300, "example.com."),
		      rr_rrsig(MSG_ANSWER, "x.w.example.com.", RR_MX, 300, "example.com."),
		      rr_name(MSG_AUTHORITY, "example.com.", RR_NS, 300, "ns.example.com."),
		      rr_nsec("a.example.com.", 300, "z.example.com."),
		      rr_rrsig(MSG_AUTHORITY, "a.example.com.", RR_NSEC, 300, "example.com."),
		      rr_nsec("a.example.org.", 300, "z.example.org.") };
	uint8_t resp[4096], kb[NAME_MAXLEN];
	size_t len = mkresp(resp, MSG_AD, "x.w.example.com.", RR_A, rrs, 7);
	cache_key k;
	key_of(&k, kb, "x.w.example.com.", RR_A, true);
	assert_int_equal(cache_store(c, &k, resp, len, 0), CACHE_STORED);
	uint8_t qb[512], out[4096];
	msg q, a;
	unsigned fl;
	/* DO separation: a query without DO misses. */
	mkquery(&q, qb, 7, "x.w.example.com.", RR_A, MSG_RD, true, false);
	assert_int_equal(cache_lookup(c, &q, 0, 0, 4096, out, sizeof(out), &fl), 0);
	mkquery(&q, qb, 7, "x.w.example.com.", RR_A, MSG_RD, false, false);
	assert_int_equal(cache_lookup(c, &q, 0, 0, 4096, out, sizeof(out), &fl), 0);
	mkquery(&q, qb, 7, "x.w.example.com.", RR_A, MSG_RD, true, true);
	int n = cache_lookup(c, &q, 0, 0, 4096, out, sizeof(out), &fl);
	assert_true(n > 0);
	assert_int_equal(msg_parse(&a, out, (size_t)n, prr, MSG_MAXRRS), 0);
	assert_int_equal(a.hdr.ancount, 2);
	assert_int_equal(a.hdr.nscount, 2);
	assert_int_equal(a.hdr.arcount, 1);
	assert_int_equal(prr[3].type, RR_NSEC);
	assert_int_equal(prr[4].type, RR_RRSIG);
	assert_true(a.edns.present);
	assert_true(a.edns.flags & EDNS_DO);
	assert_true(a.hdr.flags & MSG_AD); /* stored with AD, client sent DO */
	/* CD is part of the key too. */
	mkquery(&q, qb, 7, "x.w.example.com.", RR_A, MSG_RD | MSG_CD, true, true);
	assert_int_equal(cache_lookup(c, &q, 0, 0, 4096, out, sizeof(out), &fl), 0);

	/* The same DO answer stored under a key without DO (the resolver asked
	 * upstream with DO to validate for a client that did not): the
	 * RRSIGs and NSECs are stripped, the A and AD kept. */
	key_of(&k, kb, "x.w.example.com.", RR_A, false);
	assert_int_equal(cache_store(c, &k, resp, len, 0), CACHE_STORED);
	mkquery(&q, qb, 7, "x.w.example.com.", RR_A, MSG_RD | MSG_AD, true, false);
	n = cache_lookup(c, &q, 0, 0, 4096, out, sizeof(out), &fl);
	assert_true(n > 0);
	assert_int_equal(msg_parse(&a, out, (size_t)n, prr, MSG_MAXRRS), 0);
	assert_int_equal(a.hdr.ancount, 1);
	assert_int_equal(a.hdr.nscount, 0);
	assert_int_equal(prr[1].type, RR_A);
	assert_true(a.hdr.flags & MSG_AD); /* client sent AD (RFC 6840 §5.7) */

	/* A chain across two signed zones: proofs of either zone are kept,
	 * those of a third zone are not. */
	trr ch[] = { rr_name(MSG_ANSWER, "www.a.example.", RR_CNAME, 300, "x.w.b.example."),
		     rr_rrsig(MSG_ANSWER, "www.a.example.", RR_CNAME, 300, "a.example."),
		     rr_a(MSG_ANSWER, "x.w.b.example.", 300, 1),
		     rr_rrsig(MSG_ANSWER, "x.w.b.example.", RR_A, 300, "b.example."),
		     rr_nsec("a.b.example.", 300, "z.b.example."),
		     rr_rrsig(MSG_AUTHORITY, "a.b.example.", RR_NSEC, 300, "b.example."),
		     rr_nsec("a.a.example.", 300, "z.a.example."),
		     rr_nsec("a.c.example.", 300, "z.c.example."),
		     rr_rrsig(MSG_AUTHORITY, "a.c.example.", RR_NSEC, 300, "c.example.") };
	len = mkresp(resp, 0, "www.a.example.", RR_A, ch, 9);
	key_of(&k, kb, "www.a.example.", RR_A, true);
	assert_int_equal(cache_store(c, &k, resp, len, 0), CACHE_STORED);
	mkquery(&q, qb, 7, "www.a.example.", RR_A, MSG_RD, true, true);
	n = cache_lookup(c, &q, 0, 0, 4096, out, sizeof(out), &fl);
	assert_int_equal(msg_parse(&a, out, (size_t)n, prr, MSG_MAXRRS), 0);
	assert_int_equal(a.hdr.ancount, 4);
	assert_int_equal(a.hdr.nscount, 3);
	uint8_t o[NAME_MAXLEN], cz[NAME_MAXLEN];
	nm("c.example.", cz);
	for (unsigned i = 5; i <= 7; i++) {
		msg_rr_owner(&a, &prr[i], o);
		assert_false(name_is_sub(o, cz));
	}
	assert_false(a.hdr.flags & MSG_AD); /* not stored with AD */
	cache_free(c);
}

static void test_patching(void **st)
{
	(void)st;
	cache *c = mk(0, 0);
	trr rrs[] = { rr_a(MSG_ANSWER, "www.example.com.", 300, 1) };
	assert_int_equal(store(c, 0, MSG_AD | MSG_AA, "www.example.com.", RR_A, rrs, 1), CACHE_STORED);
	uint8_t qb[512], out[512];
	msg q, a;
	unsigned fl;
	mkquery(&q, qb, 0xbeef, "WwW.eXaMpLe.CoM.", RR_A, 0, false, false);
	int n = cache_lookup(c, &q, 5, 0, 512, out, sizeof(out), &fl);
	assert_true(n > 0);
	assert_int_equal(msg_parse(&a, out, (size_t)n, prr, MSG_MAXRRS), 0);
	assert_int_equal(a.hdr.id, 0xbeef);
	assert_memory_equal(a.qname, q.qname, q.qname_len); /* client's case */
	uint8_t o[NAME_MAXLEN];
	msg_rr_owner(&a, &prr[1], o);
	assert_memory_equal(o, q.qname, q.qname_len); /* compressed onto it */
	assert_int_equal(a.hdr.flags & (MSG_QR | MSG_RD | MSG_RA | MSG_AA | MSG_AD | MSG_TC | MSG_CD),
			 MSG_QR | MSG_RA);
	assert_int_equal(prr[1].ttl, 295);
	/* RD echoed; AD only with the client's AD or DO. */
	mkquery(&q, qb, 1, "www.example.com.", RR_A, MSG_RD | MSG_AD, false, false);
	n = cache_lookup(c, &q, 5, 0, 512, out, sizeof(out), &fl);
	assert_int_equal(msg_parse(&a, out, (size_t)n, prr, MSG_MAXRRS), 0);
	assert_int_equal(a.hdr.flags & (MSG_RD | MSG_AD), MSG_RD | MSG_AD);
	/* EDNS client without DO: OPT with our size, no DO, same key. */
	mkquery(&q, qb, 2, "www.example.com.", RR_A, MSG_RD, true, false);
	n = cache_lookup(c, &q, 5, 0, 1232, out, sizeof(out), &fl);
	assert_int_equal(msg_parse(&a, out, (size_t)n, prr, MSG_MAXRRS), 0);
	assert_true(a.edns.present);
	assert_int_equal(a.edns.udp_size, 1232);
	assert_int_equal(a.edns.flags, 0);
	assert_int_equal(a.hdr.arcount, 1);
	assert_false(a.hdr.flags & MSG_AD);
	cache_free(c);
}

static void test_truncation(void **st)
{
	(void)st;
	cache *c = mk(0, 0);
	trr rrs[41];
	rrs[0] = rr_name(MSG_ANSWER, "www.example.com.", RR_CNAME, 300, "pool.example.com.");
	for (unsigned i = 1; i <= 40; i++)
		rrs[i] = rr_a(MSG_ANSWER, "pool.example.com.", 300, (uint8_t)i);
	assert_int_equal(store(c, 0, 0, "www.example.com.", RR_A, rrs, 41), CACHE_STORED);
	uint8_t qb[512], out[4096];
	msg q, a;
	unsigned fl;
	/* TCP-sized: everything. */
	mkquery(&q, qb, 3, "www.example.com.", RR_A, MSG_RD, false, false);
	int n = cache_lookup(c, &q, 0, 0, 65535, out, sizeof(out), &fl);
	assert_true(n > 512);
	assert_int_equal(fl, 0);
	/* 512: the A RRset does not fit; the CNAME RRset is kept, TC set. */
	n = cache_lookup(c, &q, 0, 0, 512, out, sizeof(out), &fl);
	assert_true(n > 0 && n <= 512);
	assert_int_equal(fl, CACHE_TRUNC);
	assert_int_equal(msg_parse(&a, out, (size_t)n, prr, MSG_MAXRRS), 0);
	assert_true(a.hdr.flags & MSG_TC);
	assert_int_equal(a.hdr.ancount, 1);
	assert_int_equal(prr[1].type, RR_CNAME);
	assert_int_equal(prr[1].ttl, 300);
	/* EDNS client with a small buffer: the OPT still fits. */
	mkquery(&q, qb, 3, "www.example.com.", RR_A, MSG_RD, true, false);
	n = cache_lookup(c, &q, 0, 0, 512, out, sizeof(out), &fl);
	assert_int_equal(msg_parse(&a, out, (size_t)n, prr, MSG_MAXRRS), 0);
	assert_true(a.hdr.flags & MSG_TC);
	assert_true(a.edns.present);
	assert_int_equal(a.hdr.ancount, 1);
	/* Not even the CNAME: header + question + TC. */
	mkquery(&q, qb, 3, "www.example.com.", RR_A, MSG_RD, false, false);
	n = cache_lookup(c, &q, 0, 0, 40, out, sizeof(out), &fl);
	assert_int_equal(n, 12 + 17 + 4);
	assert_int_equal(msg_parse(&a, out, (size_t)n, prr, MSG_MAXRRS), 0);
	assert_true(a.hdr.flags & MSG_TC);
	assert_int_equal(a.hdr.ancount, 0);
	/* Smaller than the question: an error; cap counts like limit. */
	assert_int_equal(cache_lookup(c, &q, 0, 0, 20, out, sizeof(out), &fl), DNS_ESPACE);
	n = cache_lookup(c, &q, 0, 0, 65535, out, 512, &fl);
	assert_true(n > 0 && n <= 512);
	assert_int_equal(fl, CACHE_TRUNC);
	cache_stats s;
	cache_stats_get(c, &s);
	assert_int_equal(s.truncated, 4);
	cache_free(c);
}

static void test_stale(void **st)
{
	(void)st;
	cache_cfg cfg;
	cache_cfg_default(&cfg);
	cfg.size = 1u << 20;
	cfg.stale_window = 1000;
	cache *c = cache_new(&cfg);
	assert_non_null(c);
	trr rrs[] = { rr_a(MSG_ANSWER, "www.example.com.", 100, 1) };
	assert_int_equal(store(c, 0, 0, "www.example.com.", RR_A, rrs, 1), CACHE_STORED);
	msg a;
	uint8_t out[512];
	unsigned fl;
	/* Fresh: ALLOW_STALE changes nothing. */
	assert_true(lookup(c, 50, CACHE_ALLOW_STALE, "www.example.com.", RR_A, &a, out, &fl) > 0);
	assert_int_equal(fl, 0);
	assert_int_equal(prr[1].ttl, 50);
	assert_int_equal(lookup(c, 500, 0, "www.example.com.", RR_A, &a, out, &fl), 0);
	assert_int_equal(fl, CACHE_STALE_AVAIL);
	assert_true(lookup(c, 500, CACHE_ALLOW_STALE, "www.example.com.", RR_A, &a, out, &fl) > 0);
	assert_int_equal(fl, CACHE_STALE);
	assert_int_equal(prr[1].ttl, 30);
	/* EDNS client: EDE 3 (Stale Answer). */
	uint8_t qb[512];
	msg q;
	mkquery(&q, qb, 9, "www.example.com.", RR_A, MSG_RD, true, false);
	int n = cache_lookup(c, &q, 1099, CACHE_ALLOW_STALE, 1232, out, sizeof(out), &fl);
	assert_true(n > 0);
	assert_int_equal(msg_parse(&a, out, (size_t)n, prr, MSG_MAXRRS), 0);
	assert_true(a.edns.opts & EDNS_HAS_EDE);
	assert_int_equal(a.edns.ede_code, 3);
	/* Past the window: gone. */
	assert_int_equal(lookup(c, 1100, CACHE_ALLOW_STALE, "www.example.com.", RR_A, &a, out, &fl), 0);
	assert_int_equal(fl, 0);
	cache_stats s;
	cache_stats_get(c, &s);
	assert_int_equal(s.stale_hits, 2);
	assert_int_equal(s.expired, 1);
	assert_int_equal(s.entries, 0);
	cache_free(c);
	/* Window 0: no serve-stale at all. */
	cfg.stale_window = 0;
	c = cache_new(&cfg);
	assert_int_equal(store(c, 0, 0, "www.example.com.", RR_A, rrs, 1), CACHE_STORED);
	assert_int_equal(lookup(c, 100, CACHE_ALLOW_STALE, "www.example.com.", RR_A, &a, out, &fl), 0);
	assert_int_equal(fl, 0);
	cache_free(c);
}

static void test_prefetch(void **st)
{
	(void)st;
	cache *c = mk(0, 0); /* prefetch below 10 % after 3 hits */
	trr rrs[] = { rr_a(MSG_ANSWER, "hot.example.", 100, 1) };
	trr cold[] = { rr_a(MSG_ANSWER, "cold.example.", 100, 1) };
	assert_int_equal(store(c, 0, 0, "hot.example.", RR_A, rrs, 1), CACHE_STORED);
	assert_int_equal(store(c, 0, 0, "cold.example.", RR_A, cold, 1), CACHE_STORED);
	msg a;
	uint8_t out[512];
	unsigned fl;
	assert_true(lookup(c, 10, 0, "hot.example.", RR_A, &a, out, &fl) > 0);
	assert_int_equal(fl, 0);
	assert_true(lookup(c, 91, 0, "hot.example.", RR_A, &a, out, &fl) > 0);
	assert_int_equal(fl, 0); /* 9 % left but only 2 hits */
	assert_true(lookup(c, 92, 0, "hot.example.", RR_A, &a, out, &fl) > 0);
	assert_int_equal(fl, CACHE_PREFETCH);
	assert_true(lookup(c, 93, 0, "hot.example.", RR_A, &a, out, &fl) > 0);
	assert_int_equal(fl, 0); /* once */
	/* A single late hit does not qualify. */
	assert_true(lookup(c, 95, 0, "cold.example.", RR_A, &a, out, &fl) > 0);
	assert_int_equal(fl, 0);
	/* Refreshed: armed again. */
	assert_int_equal(store(c, 95, 0, "hot.example.", RR_A, rrs, 1), CACHE_STORED);
	assert_true(lookup(c, 100, 0, "hot.example.", RR_A, &a, out, &fl) > 0);
	assert_int_equal(prr[1].ttl, 95);
	assert_true(lookup(c, 110, 0, "hot.example.", RR_A, &a, out, &fl) > 0);
	assert_int_equal(fl, 0);
	assert_true(lookup(c, 186, 0, "hot.example.", RR_A, &a, out, &fl) > 0);
	assert_int_equal(fl, CACHE_PREFETCH);
	cache_stats s;
	cache_stats_get(c, &s);
	assert_int_equal(s.prefetches, 2);
	assert_int_equal(s.replaced, 1);
	cache_free(c);
}

static void test_eviction(void **st)
{
	(void)st;
	cache_cfg cfg;
	cache_cfg_default(&cfg);
	cfg.size = 16384;
	cfg.shards = 1;
	cfg.shared = false;
	cache *c = cache_new(&cfg);
	assert_non_null(c);
	trr hot[] = { rr_a(MSG_ANSWER, "hot.example.", 3600, 1) };
	assert_int_equal(store(c, 0, 0, "hot.example.", RR_A, hot, 1), CACHE_STORED);
	msg a;
	uint8_t out[512];
	unsigned fl;
	char name[64];
	for (unsigned i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "cold%u.example.", i);
		trr r[] = { rr_a(MSG_ANSWER, name, 3600, 2) };
		assert_int_equal(store(c, 1, 0, name, RR_A, r, 1), CACHE_STORED);
		if (i % 20 == 0)
			assert_true(lookup(c, 1, 0, "hot.example.", RR_A, &a, out, &fl) > 0);
		cache_stats s;
		cache_stats_get(c, &s);
		assert_true(s.bytes <= s.budget);
	}
	cache_stats s;
	cache_stats_get(c, &s);
	assert_true(s.evictions > 1500);
	assert_true(s.entries > 50 && s.entries < 200);
	assert_int_equal(s.entries + s.evictions, 2001);
	/* The newest cold entries are still there, the oldest gone. */
	assert_true(lookup(c, 1, 0, "cold1999.example.", RR_A, &a, out, &fl) > 0);
	assert_int_equal(lookup(c, 1, 0, "cold0.example.", RR_A, &a, out, &fl), 0);
	/* Dead entries go first, before any live one. */
	cfg.stale_window = 0;
	cache *d = cache_new(&cfg);
	trr shortl[] = { rr_a(MSG_ANSWER, "short.example.", 10, 1) };
	assert_int_equal(store(d, 0, 0, "short.example.", RR_A, shortl, 1), CACHE_STORED);
	for (unsigned i = 0; i < 60; i++) {
		snprintf(name, sizeof(name), "x%u.example.", i);
		trr r[] = { rr_a(MSG_ANSWER, name, 3600, 2) };
		assert_int_equal(store(d, 0, 0, name, RR_A, r, 1), CACHE_STORED);
		assert_true(lookup(d, 0, 0, name, RR_A, &a, out, &fl) > 0); /* all visited */
	}
	cache_stats_get(d, &s);
	assert_int_equal(s.evictions + s.expired, 0);
	unsigned before = (unsigned)s.entries;
	for (unsigned i = 60; s.evictions + s.expired == 0; i++) {
		snprintf(name, sizeof(name), "x%u.example.", i);
		trr r[] = { rr_a(MSG_ANSWER, name, 3600, 2) };
		assert_int_equal(store(d, 100, 0, name, RR_A, r, 1), CACHE_STORED);
		cache_stats_get(d, &s);
	}
	assert_true(before > 50);
	assert_int_equal(s.expired, 1);
	assert_int_equal(s.evictions, 0);
	cache_free(d);
	/* Remove. */
	uint8_t kb[NAME_MAXLEN];
	cache_key k;
	key_of(&k, kb, "hot.example.", RR_A, false);
	assert_true(cache_remove(c, &k));
	assert_false(cache_remove(c, &k));
	assert_int_equal(lookup(c, 1, 0, "hot.example.", RR_A, &a, out, &fl), 0);
	cache_free(c);
}

/* SIEVE keeps hot entries: with a working set 5x the cache and 20 % of
 * lookups going to 20 hot names, the hot names always hit. */
static void test_hot_survive(void **st)
{
	(void)st;
	cache_cfg cfg;
	cache_cfg_default(&cfg);
	cfg.size = 32768;
	cfg.shards = 1;
	cache *c = cache_new(&cfg);
	char name[64];
	msg a;
	uint8_t out[512];
	unsigned fl, hot_miss = 0;
	uint32_t rnd = 1;
	for (unsigned i = 0; i < 20000; i++) {
		rnd = rnd * 1103515245u + 12345u;
		bool hot = i % 5 == 0;
		snprintf(name, sizeof(name), hot ? "h%u.example." : "c%u.example.", hot ? (rnd >> 8) % 20 : (rnd >> 8) % 2000);
		if (lookup(c, 1, 0, name, RR_A, &a, out, &fl) == 0) {
			if (hot && i > 2000)
				hot_miss++;
			trr r[] = { rr_a(MSG_ANSWER, name, 3600, 2) };
			assert_int_equal(store(c, 1, 0, name, RR_A, r, 1), CACHE_STORED);
		}
	}
	assert_int_equal(hot_miss, 0);
	cache_free(c);
}

struct thr {
	cache *c;
	unsigned seed;
	unsigned hits;
};

static void *hammer(void *arg)
{
	struct thr *t = arg;
	static _Thread_local uint8_t resp[1024], qb[512], out[1024];
	uint32_t rnd = t->seed;
	for (unsigned i = 0; i < 30000; i++) {
		rnd = rnd * 1103515245u + 12345u;
		char name[64];
		snprintf(name, sizeof(name), "n%u.Example.", (rnd >> 8) % 3000);
		uint8_t qn[NAME_MAXLEN];
		size_t ql = (size_t)name_from_text(name, strlen(name), NULL, qn);
		/* Raw message writing (no cmocka asserts off the main thread). */
		msg_wr mw;
		msg_wr_init(&mw, qb, sizeof(qb));
		msg_wr_header(&mw, (uint16_t)i, MSG_RD);
		msg_wr_question(&mw, qn, RR_A, CLASS_IN);
		int ql2 = msg_wr_finish(&mw);
		msg q;
		if (ql2 < 0 || msg_parse_query(&q, qb, (size_t)ql2) < 0)
			abort();
		unsigned fl;
		int n = cache_lookup(t->c, &q, i / 1000, 0, 512, out, sizeof(out), &fl);
		if (n > 0) {
			if (n < (int)(12 + ql) || memcmp(out + 12, qn, ql) != 0 || wire_get_u16(out) != (uint16_t)i)
				abort();
			t->hits++;
			continue;
		}
		msg_wr_init(&mw, resp, sizeof(resp));
		msg_wr_header(&mw, 1, MSG_QR | MSG_RA);
		msg_wr_question(&mw, qn, RR_A, CLASS_IN);
		uint8_t addr[4] = {10, 0, (uint8_t)(rnd >> 16), 1};
		msg_wr_rr(&mw, MSG_ANSWER, qn, RR_A, CLASS_IN, 1 + (rnd >> 4) % 20, addr, 4);
		int len = msg_wr_finish(&mw);
		cache_key k = { qn, (uint8_t)ql, RR_A, CLASS_IN, false, false };
		if (len < 0 || cache_store(t->c, &k, resp, (size_t)len, i / 1000) != CACHE_STORED)
			abort();
		if (rnd % 97 == 0)
			cache_remove(t->c, &k);
	}
	return NULL;
}

static void test_threads(void **st)
{
	(void)st;
	cache_cfg cfg;
	cache_cfg_default(&cfg);
	cfg.size = 64 * 1024;
	cfg.shards = 4;
	cfg.stale_window = 5;
	cache *c = cache_new(&cfg);
	assert_non_null(c);
	pthread_t th[2];
	struct thr t[2] = { { c, 1, 0 }, { c, 2, 0 } };
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, hammer, &t[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	cache_stats s;
	cache_stats_get(c, &s);
	assert_true(t[0].hits > 0 && t[1].hits > 0);
	assert_int_equal(s.hits, t[0].hits + t[1].hits);
	assert_true(s.bytes <= s.budget);
	assert_true(s.evictions > 0);
	cache_free(c);
}

static void test_cfg(void **st)
{
	(void)st;
	cache_cfg cfg;
	memset(&cfg, 0, sizeof(cfg));
	cache *c = cache_new(&cfg); /* all defaults, per-worker */
	assert_non_null(c);
	cache_stats s;
	cache_stats_get(c, &s);
	assert_int_equal(s.budget, 64u << 20);
	cache_free(c);
	cache_cfg_default(&cfg);
	cfg.size = 2048; /* far too small for 64 shards */
	assert_null(cache_new(&cfg));
	cache_free(NULL);
}

static void test_size_parse(void **st)
{
	(void)st;
	size_t v;
	assert_int_equal(cache_size_parse("1048576", &v), 0);
	assert_int_equal(v, 1048576);
	assert_int_equal(cache_size_parse("256M", &v), 0);
	assert_int_equal(v, 256u << 20);
	assert_int_equal(cache_size_parse("256MiB", &v), 0);
	assert_int_equal(v, 256u << 20);
	assert_int_equal(cache_size_parse("64k", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(cache_size_parse("1GB", &v), 0);
	assert_int_equal(v, 1u << 30);
	assert_int_equal(cache_size_parse("", &v), DNS_ESYNTAX);
	assert_int_equal(cache_size_parse("M", &v), DNS_ESYNTAX);
	assert_int_equal(cache_size_parse("12X", &v), DNS_ESYNTAX);
	assert_int_equal(cache_size_parse("12Mx", &v), DNS_ESYNTAX);
	assert_int_equal(cache_size_parse("-1", &v), DNS_ESYNTAX);
	assert_int_equal(cache_size_parse("99999999999999999999999", &v), DNS_ERANGE);
	assert_int_equal(cache_size_parse("99999999999999G", &v), DNS_ERANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ttl_countdown),
		cmocka_unit_test(test_per_rr_ttls),
		cmocka_unit_test(test_clamp),
		cmocka_unit_test(test_negative),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_sanitise),
		cmocka_unit_test(test_dnssec_records),
		cmocka_unit_test(test_patching),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_stale),
		cmocka_unit_test(test_prefetch),
		cmocka_unit_test(test_eviction),
		cmocka_unit_test(test_hot_survive),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_cfg),
		cmocka_unit_test(test_size_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
