/* test_truth — verdicts on replies: genuine, forged (also A for AAAA),
 * SERVFAIL, other (NXDOMAIN, NODATA, wrong question, junk). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "dns/msg.h"
#include "dns/name.h"
#include "dns/rrtype.h"
#include "lab/truth.h"

static struct site site(void)
{
	struct site s = {.na = 2, .a = {{192, 0, 2, 7}, {198, 51, 100, 8}}, .naaaa = 1};
	snprintf(s.name, sizeof(s.name), "www.example.com");
	snprintf(s.zone, sizeof(s.zone), "example.com");
	uint8_t six[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 1};
	memcpy(s.aaaa, six, 16);
	return s;
}

struct rr {
	const char *owner;
	uint16_t type;
	uint8_t addr[16];
};

static size_t reply(uint8_t *buf, size_t cap, const char *qname, uint16_t qtype, uint16_t flags, const struct rr *rrs,
		    int n)
{
	msg_wr mw;
	msg_wr_init(&mw, buf, cap);
	assert_int_equal(msg_wr_header(&mw, 0x1234, flags), 0);
	uint8_t wn[NAME_MAXLEN];
	assert_true(name_from_text(qname, strlen(qname), (const uint8_t *)"", wn) > 0);
	assert_int_equal(msg_wr_question(&mw, wn, qtype, CLASS_IN), 0);
	for (int i = 0; i < n; i++) {
		uint8_t on[NAME_MAXLEN];
		assert_true(name_from_text(rrs[i].owner, strlen(rrs[i].owner), (const uint8_t *)"", on) > 0);
		assert_int_equal(msg_wr_rr(&mw, MSG_ANSWER, on, rrs[i].type, CLASS_IN, 300, rrs[i].addr,
					   rrs[i].type == RR_A ? 4 : 16),
				 0);
	}
	int len = msg_wr_finish(&mw);
	assert_true(len > 0);
	return (size_t)len;
}

#define QR_RA (MSG_QR | MSG_RD | MSG_RA)

static enum truth_verdict check(const uint8_t *p, size_t len, uint16_t qtype, struct truth_result *tr)
{
	struct site s = site();
	truth_check(p, len, &s, qtype, tr);
	return tr->verdict;
}

static void test_genuine(void **state)
{
	(void)state;
	uint8_t buf[512];
	struct truth_result tr;
	struct rr one[] = {{"www.example.com", RR_A, {192, 0, 2, 7}}};
	size_t n = reply(buf, sizeof(buf), "www.example.com", RR_A, QR_RA, one, 1);
	assert_int_equal(check(buf, n, RR_A, &tr), TRUTH_GENUINE);
	assert_int_equal(tr.id, 0x1234);
	assert_int_equal(tr.ttl, 300);
	struct rr both[] = {{"www.example.com", RR_A, {198, 51, 100, 8}}, {"www.example.com", RR_A, {192, 0, 2, 7}}};
	n = reply(buf, sizeof(buf), "WWW.Example.COM", RR_A, QR_RA, both, 2);
	assert_int_equal(check(buf, n, RR_A, &tr), TRUTH_GENUINE);
	struct rr six[] = {{"www.example.com", RR_AAAA, {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 1}}};
	n = reply(buf, sizeof(buf), "www.example.com", RR_AAAA, QR_RA, six, 1);
	assert_int_equal(check(buf, n, RR_AAAA, &tr), TRUTH_GENUINE);
}

static void test_forged(void **state)
{
	(void)state;
	uint8_t buf[512];
	struct truth_result tr;
	struct rr dit[] = {{"www.example.com", RR_A, {65, 49, 2, 178}}};
	size_t n = reply(buf, sizeof(buf), "www.example.com", RR_A, QR_RA, dit, 1);
	assert_int_equal(check(buf, n, RR_A, &tr), TRUTH_FORGED);
	assert_int_equal(tr.alen, 4);
	assert_memory_equal(tr.addr, dit[0].addr, 4);
	/* one true and one false address: forged */
	struct rr mix[] = {{"www.example.com", RR_A, {192, 0, 2, 7}}, {"www.example.com", RR_A, {31, 13, 67, 41}}};
	n = reply(buf, sizeof(buf), "www.example.com", RR_A, QR_RA, mix, 2);
	assert_int_equal(check(buf, n, RR_A, &tr), TRUTH_FORGED);
	assert_memory_equal(tr.addr, mix[1].addr, 4);
	/* jan21: an AAAA query answered with an A */
	n = reply(buf, sizeof(buf), "www.example.com", RR_AAAA, QR_RA, dit, 1);
	assert_int_equal(check(buf, n, RR_AAAA, &tr), TRUTH_FORGED);
	/* Teredo AAAA */
	struct rr ter[] = {{"www.example.com", RR_AAAA, {0x20, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xd1, 0x55, 0x9f, 0x89}}};
	n = reply(buf, sizeof(buf), "www.example.com", RR_AAAA, QR_RA, ter, 1);
	assert_int_equal(check(buf, n, RR_AAAA, &tr), TRUTH_FORGED);
	assert_int_equal(tr.alen, 16);
	/* injector-style reply: answer owner as a pointer to the question,
	 * flags 0x8180, no EDNS (raw bytes as the Wallbleed capture) */
	static const uint8_t raw[] = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 3, 'w', 'w', 'w', 7, 'e', 'x', 'a',
				      'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1, 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0,
				      0x5e, 0, 4, 31, 13, 67, 41};
	assert_int_equal(check(raw, sizeof(raw), RR_A, &tr), TRUTH_FORGED);
	assert_int_equal(tr.ttl, 94);
}

static void test_failures(void **state)
{
	(void)state;
	uint8_t buf[512];
	struct truth_result tr;
	size_t n = reply(buf, sizeof(buf), "www.example.com", RR_A, QR_RA | RCODE_SERVFAIL, NULL, 0);
	assert_int_equal(check(buf, n, RR_A, &tr), TRUTH_SERVFAIL);
	n = reply(buf, sizeof(buf), "www.example.com", RR_A, QR_RA | RCODE_NXDOMAIN, NULL, 0);
	assert_int_equal(check(buf, n, RR_A, &tr), TRUTH_OTHER);
	n = reply(buf, sizeof(buf), "www.example.com", RR_A, QR_RA | RCODE_REFUSED, NULL, 0);
	assert_int_equal(check(buf, n, RR_A, &tr), TRUTH_OTHER);
	/* NODATA */
	n = reply(buf, sizeof(buf), "www.example.com", RR_A, QR_RA, NULL, 0);
	assert_int_equal(check(buf, n, RR_A, &tr), TRUTH_OTHER);
	/* another name asked, or another type */
	struct rr one[] = {{"www.example.com", RR_A, {192, 0, 2, 7}}};
	n = reply(buf, sizeof(buf), "example.com", RR_A, QR_RA, one, 1);
	assert_int_equal(check(buf, n, RR_A, &tr), TRUTH_OTHER);
	n = reply(buf, sizeof(buf), "www.example.com", RR_A, QR_RA, one, 1);
	assert_int_equal(check(buf, n, RR_AAAA, &tr), TRUTH_OTHER);
	/* an address for another owner is not an answer */
	struct rr other[] = {{"elsewhere.example.com", RR_A, {65, 49, 2, 178}}};
	n = reply(buf, sizeof(buf), "www.example.com", RR_A, QR_RA, other, 1);
	assert_int_equal(check(buf, n, RR_A, &tr), TRUTH_OTHER);
	/* a query, not a reply */
	n = reply(buf, sizeof(buf), "www.example.com", RR_A, MSG_RD, one, 1);
	assert_int_equal(check(buf, n, RR_A, &tr), TRUTH_OTHER);
	/* junk and truncation */
	n = reply(buf, sizeof(buf), "www.example.com", RR_A, QR_RA, one, 1);
	assert_int_equal(check(buf, n - 1, RR_A, &tr), TRUTH_OTHER);
	assert_int_equal(check(buf, 11, RR_A, &tr), TRUTH_OTHER);
	assert_int_equal(check(buf, 0, RR_A, &tr), TRUTH_OTHER);
	memset(buf, 0xff, 64);
	assert_int_equal(check(buf, 64, RR_A, &tr), TRUTH_OTHER);
	assert_string_equal(truth_name(TRUTH_FORGED), "forged");
	assert_string_equal(truth_name(TRUTH_TIMEOUT), "timeout");
	assert_string_equal(truth_name(TRUTH_N), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_genuine),
		cmocka_unit_test(test_forged),
		cmocka_unit_test(test_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
