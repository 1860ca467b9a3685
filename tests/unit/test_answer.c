/* Unit tests for src/serve/answer: RFC 1034 §4.3.2 cases, errors, EDNS,
 * truncation, DNSSEC records served as stored. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "dns/msg.h"
#include "dns/rrtype.h"
#include "serve/answer.h"
#include "testutil.h"

static zoneset *zs;
static answer_cfg cfg = {.max_udp = 1232};
static answer_ctx ctx;

static const char *zone_com =
	"$ORIGIN example.com.\n$TTL 300\n"
	"@ IN SOA ns1 host 1 7200 3600 1209600 60\n"
	"@ NS ns1\n@ NS ns2.example.net.\n"
	"@ MX 10 mail\n"
	"ns1 A 192.0.2.1\nns1 AAAA 2001:db8::1\nmail A 192.0.2.25\n"
	"www A 192.0.2.10\nwww A 192.0.2.11\n"
	"a.b.c TXT \"deep\"\n"
	"*.wild A 192.0.2.13\n*.wild TXT \"wild\"\nfixed.wild A 192.0.2.99\n"
	"sub NS ns.sub\nsub NS ns.elsewhere.org.\nns.sub A 192.0.2.14\nsub DS 12345 8 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
	"c1 CNAME c2\nc2 CNAME www\nout CNAME www.example.net.\nloop1 CNAME loop2\nloop2 CNAME loop1\n"
	"dn DNAME example.net.\n"
	"big TXT \"0123456789012345678901234567890123456789012345678901234567890123456789\"\n";

static const char *zone_net =
	"$ORIGIN example.net.\n$TTL 600\n"
	"@ SOA ns2 host 7 7200 3600 1209600 30\n@ NS ns2\nns2 A 192.0.2.2\nwww A 198.51.100.1\n"
	"x.y A 198.51.100.2\n";

static int setup(void **st)
{
	(void)st;
	char path[64], err[512];
	zs = zoneset_new();
	const char *zones[] = {zone_com, zone_net};
	for (int i = 0; i < 2; i++) {
		tu_tempfile(zones[i], path, sizeof(path));
		zone *z = zone_load(path, NULL, err, sizeof(err));
		unlink(path);
		if (!z)
			fail_msg("%s", err);
		assert_int_equal(zoneset_add(zs, z), 0);
	}
	/* 40 TXT records so the RRset cannot fit 512 bytes */
	char big[8192] = "$ORIGIN example.org.\n@ 300 SOA ns h 1 2 3 4 5\n@ 300 NS ns\nns 300 A 192.0.2.3\n";
	for (int i = 0; i < 40; i++)
		snprintf(big + strlen(big), sizeof(big) - strlen(big), "many 300 TXT \"record number %02d, padded out a bit\"\n", i);
	tu_tempfile(big, path, sizeof(path));
	zone *z = zone_load(path, NULL, err, sizeof(err));
	unlink(path);
	if (!z)
		fail_msg("%s", err);
	assert_int_equal(zoneset_add(zs, z), 0);
	answer_ctx_init(&ctx, &cfg, true);
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	zoneset_free(zs);
	return 0;
}

struct q {
	uint16_t flags;
	bool edns, dobit;
	uint16_t bufsize;
	uint8_t version;
};

static size_t make_query(uint8_t *buf, const char *name, uint16_t type, const struct q *o)
{
	uint8_t qn[NAME_MAXLEN];
	assert_true(name_from_text(name, strlen(name), NULL, qn) > 0);
	msg_wr mw;
	msg_wr_init(&mw, buf, 512);
	msg_wr_header(&mw, 0x1234, o ? o->flags : MSG_RD);
	msg_wr_question(&mw, qn, type, CLASS_IN);
	if (o && o->edns) {
		edns_out eo = {.udp_size = o->bufsize ? o->bufsize : 1232, .flags = o->dobit ? EDNS_DO : 0,
			       .version = o->version};
		msg_wr_edns(&mw, &eo);
	}
	int len = msg_wr_finish(&mw);
	assert_true(len > 0);
	return (size_t)len;
}

static uint8_t resp[65536];
static msg_rr rrs[512];
static msg m;

static void ask_raw(const uint8_t *q, size_t qlen, bool tcp)
{
	int len = answer_query(&ctx, zs, q, qlen, resp, sizeof(resp), tcp);
	assert_true(len > 0);
	int rc = msg_parse(&m, resp, (size_t)len, rrs, 512);
	if (rc < 0)
		fail_msg("response does not parse: %s", dns_strerror(rc));
	assert_int_equal(m.hdr.id, 0x1234);
	assert_true(m.hdr.flags & MSG_QR);
}

static void ask(const char *name, uint16_t type, const struct q *o)
{
	uint8_t q[512];
	size_t n = make_query(q, name, type, o);
	ask_raw(q, n, false);
}

static unsigned count(unsigned sec, uint16_t type)
{
	unsigned n, k = 0;
	const msg_rr *r = msg_sec(&m, sec, &n);
	for (unsigned i = 0; i < n; i++)
		if (r[i].type == type)
			k++;
	return k;
}

static bool has_owner(unsigned sec, uint16_t type, const char *owner)
{
	uint8_t want[NAME_MAXLEN], got[NAME_MAXLEN];
	name_from_text(owner, strlen(owner), NULL, want);
	unsigned n;
	const msg_rr *r = msg_sec(&m, sec, &n);
	for (unsigned i = 0; i < n; i++)
		if (r[i].type == type && msg_rr_owner(&m, &r[i], got) > 0 && name_eq(got, want))
			return true;
	return false;
}

#define RCODE() msg_flags_rcode(m.hdr.flags)
#define AA() (!!(m.hdr.flags & MSG_AA))
#define TC() (!!(m.hdr.flags & MSG_TC))

static void positive_answer(void **st)
{
	(void)st;
	ask("www.example.com.", RR_A, NULL);
	assert_int_equal(RCODE(), RCODE_NOERROR);
	assert_true(AA());
	assert_true(m.hdr.flags & MSG_RD);
	assert_false(m.hdr.flags & MSG_RA);
	assert_int_equal(m.hdr.ancount, 2);
	assert_int_equal(count(MSG_AUTHORITY, RR_NS), 2);
	/* glue for ns1 (A and AAAA); nothing for the out-of-zone ns2 */
	assert_int_equal(count(MSG_ADDITIONAL, RR_A), 1);
	assert_int_equal(count(MSG_ADDITIONAL, RR_AAAA), 1);
	ask("example.com.", RR_MX, NULL);
	assert_int_equal(m.hdr.ancount, 1);
	assert_true(has_owner(MSG_ADDITIONAL, RR_A, "mail.example.com."));
	/* DNSKEY/DS answers carry no NS in authority; nor do NODATA ones */
	ask("www.example.com.", RR_DS, NULL);
	assert_int_equal(count(MSG_AUTHORITY, RR_NS), 0);
}

static void negative_answers(void **st)
{
	(void)st;
	ask("nope.example.com.", RR_A, NULL);
	assert_int_equal(RCODE(), RCODE_NXDOMAIN);
	assert_true(AA());
	assert_int_equal(m.hdr.ancount, 0);
	assert_int_equal(count(MSG_AUTHORITY, RR_SOA), 1);
	unsigned n;
	const msg_rr *r = msg_sec(&m, MSG_AUTHORITY, &n);
	assert_int_equal(r[0].ttl, 60); /* min(SOA TTL 300, MINIMUM 60) */
	ask("www.example.com.", RR_AAAA, NULL);
	assert_int_equal(RCODE(), RCODE_NOERROR);
	assert_int_equal(m.hdr.ancount, 0);
	assert_int_equal(count(MSG_AUTHORITY, RR_SOA), 1);
	/* empty non-terminal: NODATA, not NXDOMAIN */
	ask("b.c.example.com.", RR_A, NULL);
	assert_int_equal(RCODE(), RCODE_NOERROR);
	assert_int_equal(count(MSG_AUTHORITY, RR_SOA), 1);
	ask("www.example.org.", RR_A, NULL); /* not loaded: other zone */
	assert_int_equal(RCODE(), RCODE_NXDOMAIN);
	ask("www.example.edu.", RR_A, NULL);
	assert_int_equal(RCODE(), RCODE_REFUSED);
	assert_false(AA());
}

static void cname_chains(void **st)
{
	(void)st;
	ask("c1.example.com.", RR_A, NULL);
	assert_int_equal(RCODE(), RCODE_NOERROR);
	assert_int_equal(count(MSG_ANSWER, RR_CNAME), 2);
	assert_int_equal(count(MSG_ANSWER, RR_A), 2);
	/* into another zone we serve */
	ask("out.example.com.", RR_A, NULL);
	assert_int_equal(count(MSG_ANSWER, RR_CNAME), 1);
	assert_true(has_owner(MSG_ANSWER, RR_A, "www.example.net."));
	assert_true(AA());
	/* a loop stops */
	ask("loop1.example.com.", RR_A, NULL);
	assert_int_equal(count(MSG_ANSWER, RR_CNAME), 2);
	assert_int_equal(RCODE(), RCODE_NOERROR);
	/* asking for the CNAME itself does not follow it */
	ask("c1.example.com.", RR_CNAME, NULL);
	assert_int_equal(m.hdr.ancount, 1);
}

static void wildcards(void **st)
{
	(void)st;
	ask("anything.wild.example.com.", RR_A, NULL);
	assert_int_equal(RCODE(), RCODE_NOERROR);
	assert_true(has_owner(MSG_ANSWER, RR_A, "anything.wild.example.com."));
	ask("x.y.wild.example.com.", RR_TXT, NULL);
	assert_true(has_owner(MSG_ANSWER, RR_TXT, "x.y.wild.example.com."));
	ask("anything.wild.example.com.", RR_MX, NULL); /* wildcard NODATA */
	assert_int_equal(m.hdr.ancount, 0);
	assert_int_equal(count(MSG_AUTHORITY, RR_SOA), 1);
	/* an existing name blocks the wildcard, and so does a name below it */
	ask("fixed.wild.example.com.", RR_TXT, NULL);
	assert_int_equal(m.hdr.ancount, 0);
	ask("below.fixed.wild.example.com.", RR_A, NULL);
	assert_int_equal(RCODE(), RCODE_NXDOMAIN);
}

static void referrals(void **st)
{
	(void)st;
	ask("host.sub.example.com.", RR_A, NULL);
	assert_int_equal(RCODE(), RCODE_NOERROR);
	assert_false(AA());
	assert_int_equal(m.hdr.ancount, 0);
	assert_int_equal(count(MSG_AUTHORITY, RR_NS), 2);
	assert_true(has_owner(MSG_ADDITIONAL, RR_A, "ns.sub.example.com."));
	assert_int_equal(count(MSG_AUTHORITY, RR_DS), 0); /* DO not set */
	ask("host.sub.example.com.", RR_A, &(struct q){.flags = 0, .edns = true, .dobit = true});
	assert_false(AA());
	/* the zone is unsigned: no DS in referrals even with DO */
	assert_int_equal(count(MSG_AUTHORITY, RR_DS), 0);
	/* DS at the cut is answered by the parent, authoritatively */
	ask("sub.example.com.", RR_DS, NULL);
	assert_true(AA());
	assert_int_equal(count(MSG_ANSWER, RR_DS), 1);
	/* glue is not an authoritative answer */
	ask("ns.sub.example.com.", RR_A, NULL);
	assert_false(AA());
	assert_int_equal(count(MSG_AUTHORITY, RR_NS), 2);
}

static void dname(void **st)
{
	(void)st;
	ask("x.y.dn.example.com.", RR_A, NULL);
	assert_int_equal(RCODE(), RCODE_NOERROR);
	assert_int_equal(count(MSG_ANSWER, RR_DNAME), 1);
	assert_true(has_owner(MSG_ANSWER, RR_CNAME, "x.y.dn.example.com."));
	assert_true(has_owner(MSG_ANSWER, RR_A, "x.y.example.net."));
	ask("dn.example.com.", RR_DNAME, NULL);
	assert_int_equal(m.hdr.ancount, 1);
}

static void errors(void **st)
{
	(void)st;
	uint8_t q[512];
	size_t n = make_query(q, "www.example.com.", RR_A, NULL);
	/* QR=1: dropped */
	q[2] |= 0x80;
	assert_int_equal(answer_query(&ctx, zs, q, n, resp, sizeof(resp), false), ANSWER_DROP);
	q[2] &= 0x7f;
	/* shorter than a header: dropped */
	assert_int_equal(answer_query(&ctx, zs, q, 11, resp, sizeof(resp), false), ANSWER_DROP);
	/* QDCOUNT=2 and QDCOUNT=0: FORMERR without a question */
	q[5] = 2;
	ask_raw(q, n, false);
	assert_int_equal(RCODE(), RCODE_FORMERR);
	assert_int_equal(m.hdr.qdcount, 0);
	q[5] = 0;
	ask_raw(q, n, false);
	assert_int_equal(RCODE(), RCODE_FORMERR);
	q[5] = 1;
	/* cut in the middle of the question */
	ask_raw(q, n - 3, false);
	assert_int_equal(RCODE(), RCODE_FORMERR);
	/* opcode UPDATE: NOTIMP */
	q[2] = (uint8_t)(q[2] | 5 << 3);
	ask_raw(q, n, false);
	assert_int_equal(RCODE(), RCODE_NOTIMP);
	/* a compression pointer in QNAME: FORMERR */
	uint8_t p[] = {0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x04, 0, 1, 0, 1};
	ask_raw(p, sizeof(p), false);
	assert_int_equal(RCODE(), RCODE_FORMERR);
	/* label type 0x40 */
	uint8_t l40[] = {0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x41, 'a', 0, 0, 1, 0, 1};
	ask_raw(l40, sizeof(l40), false);
	assert_int_equal(RCODE(), RCODE_FORMERR);
	/* EDNS version 1: BADVERS, OPT in the reply */
	n = make_query(q, "www.example.com.", RR_A, &(struct q){.edns = true, .version = 1});
	ask_raw(q, n, false);
	assert_true(m.edns.present);
	assert_int_equal(msg_rcode(&m), RCODE_BADVERS);
	/* class CH: REFUSED */
	n = make_query(q, "www.example.com.", RR_A, NULL);
	q[n - 1] = CLASS_CH;
	ask_raw(q, n, false);
	assert_int_equal(RCODE(), RCODE_REFUSED);
	/* AXFR is not offered */
	ask("example.com.", RR_AXFR, NULL);
	assert_int_equal(RCODE(), RCODE_REFUSED);
}

static void edns_and_truncation(void **st)
{
	(void)st;
	ask("www.example.com.", RR_A, &(struct q){.edns = true, .bufsize = 4096});
	assert_true(m.edns.present);
	assert_int_equal(m.edns.udp_size, 1232);
	assert_false(m.edns.flags & EDNS_DO);
	ask("www.example.com.", RR_A, &(struct q){.edns = true, .dobit = true});
	assert_true(m.edns.flags & EDNS_DO);
	/* 40 TXT records: TC without EDNS over UDP, whole over TCP */
	ask("many.example.org.", RR_TXT, NULL);
	assert_true(TC());
	assert_int_equal(m.hdr.ancount, 0);
	ask("many.example.org.", RR_TXT, &(struct q){.edns = true, .bufsize = 4096});
	assert_true(TC()); /* > 1232 */
	uint8_t q[512];
	size_t n = make_query(q, "many.example.org.", RR_TXT, NULL);
	ask_raw(q, n, true);
	assert_false(TC());
	assert_int_equal(m.hdr.ancount, 40);
}

static void case_is_kept(void **st)
{
	(void)st;
	ask("WwW.ExAmPlE.CoM.", RR_A, NULL);
	assert_int_equal(m.hdr.ancount, 2);
	assert_memory_equal(resp + 12, "\3WwW\7ExAmPlE\3CoM", 17);
}

static void cache_patches_id_case_rd(void **st)
{
	(void)st;
	uint8_t q[512], first[2048];
	size_t n = make_query(q, "mail.example.com.", RR_A, NULL);
	int len1 = answer_query(&ctx, zs, q, n, first, sizeof(first), false);
	assert_true(len1 > 0);
	uint64_t hits = ctx.cache_hits;
	n = make_query(q, "MAIL.Example.COM.", RR_A, &(struct q){.flags = 0});
	q[0] = 0xab;
	q[1] = 0xcd;
	int len2 = answer_query(&ctx, zs, q, n, resp, sizeof(resp), false);
	assert_int_equal(len2, len1);
	assert_int_equal(ctx.cache_hits, hits + 1);
	assert_int_equal(resp[0], 0xab);
	assert_int_equal(resp[1], 0xcd);
	assert_false(resp[2] & (MSG_RD >> 8));
	assert_true(first[2] & (MSG_RD >> 8));
	assert_memory_equal(resp + 12, "\4MAIL\7Example\3COM", 18);
	assert_memory_equal(resp + 3, first + 3, 9); /* rest of the header */
	assert_memory_equal(resp + 30, first + 30, (size_t)len1 - 30);
	/* DO=1 is another answer, not the cached one */
	ask("mail.example.com.", RR_A, &(struct q){.edns = true, .dobit = true});
	assert_true(m.edns.present && (m.edns.flags & EDNS_DO));
	/* a new zoneset (reload) never sees old entries */
	hits = ctx.cache_hits;
	uint64_t gen = zs->gen;
	zs->gen = gen + 1000;
	n = make_query(q, "mail.example.com.", RR_A, NULL);
	assert_true(answer_query(&ctx, zs, q, n, resp, sizeof(resp), false) > 0);
	assert_int_equal(ctx.cache_hits, hits);
	zs->gen = gen;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(positive_answer),
		cmocka_unit_test(negative_answers),
		cmocka_unit_test(cname_chains),
		cmocka_unit_test(wildcards),
		cmocka_unit_test(referrals),
		cmocka_unit_test(dname),
		cmocka_unit_test(errors),
		cmocka_unit_test(edns_and_truncation),
		cmocka_unit_test(case_is_kept),
		cmocka_unit_test(cache_patches_id_case_rd),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
