/* test_rrl — response classification, per-second limits per client network
 * and key, slip, truncation. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "dns/name.h"
#include "net/addr.h"
#include "serve/rrl.h"
#include "testutil.h"

/* Header fields then question www.example.com A IN (qname at offset 12). */
#define HDR(flags, an, ns) "1234" flags "0001" an ns "0000"
#define QWWW "03777777076578616d706c6503636f6d00" "00010001"
/* an A answer for the question (pointer to offset 12) */
#define ANS_A "c00c" "00010001" "0000012c" "0004" "c0000201"
/* SOA of example.com (pointer to offset 16: "example.com") in authority */
#define AUTH_SOA "c010" "00060001" "0000012c" "0016" "c010" "c010" "00000001" "00000e10" "00000258" "00093a80" "0000012c"
/* NS of example.com delegation owner "example.com" */
#define AUTH_NS "c010" "00020001" "0000012c" "0002" "c010"

static size_t msg(const char *hex, uint8_t *out)
{
	return tu_hex(hex, out);
}

static void qname_of(const char *text, uint8_t *out)
{
	assert_true(name_from_text(text, strlen(text), NULL, out) > 0);
}

static void test_classify(void **st)
{
	(void)st;
	uint8_t m[512], nm[NAME_MAXLEN], want[NAME_MAXLEN];
	size_t n = msg(HDR("8580", "0001", "0000") QWWW ANS_A, m);
	assert_int_equal(rrl_classify(m, n, nm), RRL_ANSWER);
	qname_of("www.example.com.", want);
	assert_true(name_eq(nm, want));
	/* NXDOMAIN: accounted under the zone (the SOA owner) */
	n = msg(HDR("8583", "0000", "0001") QWWW AUTH_SOA, m);
	assert_int_equal(rrl_classify(m, n, nm), RRL_NXDOMAIN);
	qname_of("example.com.", want);
	assert_true(name_eq(nm, want));
	/* NODATA (AA) and referral (no AA) */
	n = msg(HDR("8580", "0000", "0001") QWWW AUTH_SOA, m);
	assert_int_equal(rrl_classify(m, n, nm), RRL_NODATA);
	n = msg(HDR("8100", "0000", "0001") QWWW AUTH_NS, m);
	assert_int_equal(rrl_classify(m, n, nm), RRL_REFERRAL);
	assert_true(name_eq(nm, want));
	/* REFUSED, SERVFAIL, FORMERR: errors, under the question */
	n = msg(HDR("8105", "0000", "0000") QWWW, m);
	assert_int_equal(rrl_classify(m, n, nm), RRL_ERROR);
	/* no question, truncated, garbage: not classified (never limited) */
	n = msg("123481050000000000000000", m);
	assert_int_equal(rrl_classify(m, n, nm), -1);
	n = msg(HDR("8580", "0001", "0000") "0377777707", m);
	assert_int_equal(rrl_classify(m, n, nm), -1);
	assert_int_equal(rrl_classify(m, 5, nm), -1);
}

static rrl *mk(unsigned rate, unsigned slip)
{
	rrl_config c;
	rrl_config_default(&c);
	c.rate = rate;
	c.slip = slip;
	c.table_bits = 10;
	rrl *r = rrl_new(&c);
	assert_non_null(r);
	return r;
}

static void peer(net_addr *a, const char *text)
{
	char err[128];
	assert_int_equal(addr_parse(a, text, 53, err, sizeof(err)), 0);
}

static void test_limit_and_slip(void **st)
{
	(void)st;
	uint8_t m[512];
	size_t n = msg(HDR("8580", "0001", "0000") QWWW ANS_A, m);
	rrl *r = mk(5, 2);
	net_addr a, b, c;
	peer(&a, "192.0.2.1:4000");
	peer(&b, "192.0.2.77:5000");  /* same /24 */
	peer(&c, "198.51.100.1:4000"); /* another network */
	for (int i = 0; i < 5; i++)
		assert_int_equal(rrl_check(r, &a, m, n, 100), RRL_SEND);
	assert_int_equal(rrl_check(r, &a, m, n, 100), RRL_DROP); /* 6th: 1 over */
	assert_int_equal(rrl_check(r, &b, m, n, 100), RRL_SLIP); /* 7th in the /24 */
	assert_int_equal(rrl_check(r, &a, m, n, 100), RRL_DROP);
	assert_int_equal(rrl_check(r, &a, m, n, 100), RRL_SLIP);
	assert_int_equal(rrl_check(r, &c, m, n, 100), RRL_SEND); /* other network untouched */
	/* the next second starts afresh */
	for (int i = 0; i < 5; i++)
		assert_int_equal(rrl_check(r, &a, m, n, 101), RRL_SEND);
	assert_int_equal(rrl_check(r, &a, m, n, 101), RRL_DROP);
	rrl_stats s;
	rrl_read_stats(r, &s);
	assert_int_equal(s.checked, 16);
	assert_int_equal(s.limited, 5);
	assert_int_equal(s.slipped, 2);
	rrl_free(r);
	/* slip 0 drops all, slip 1 truncates all */
	r = mk(1, 0);
	assert_int_equal(rrl_check(r, &a, m, n, 7), RRL_SEND);
	for (int i = 0; i < 4; i++)
		assert_int_equal(rrl_check(r, &a, m, n, 7), RRL_DROP);
	rrl_free(r);
	r = mk(1, 1);
	assert_int_equal(rrl_check(r, &a, m, n, 7), RRL_SEND);
	for (int i = 0; i < 4; i++)
		assert_int_equal(rrl_check(r, &a, m, n, 7), RRL_SLIP);
	rrl_free(r);
}

/* Keys: kind and name separate buckets; random names under one zone that
 * draw NXDOMAIN share one; IPv6 networks by /56. */
static void test_keys(void **st)
{
	(void)st;
	rrl *r = mk(2, 0);
	net_addr a, v6a, v6b, v6c;
	peer(&a, "192.0.2.1:4000");
	peer(&v6a, "[2001:db8:0:1::1]:4000");
	peer(&v6b, "[2001:db8:0:ff::2]:4000"); /* same /56 as v6a */
	peer(&v6c, "[2001:db8:0:100::1]:4000"); /* another /56 */
	uint8_t ans[512], nx1[512], nx2[512];
	size_t na = msg(HDR("8580", "0001", "0000") QWWW ANS_A, ans);
	size_t n1 = msg(HDR("8583", "0000", "0001") QWWW AUTH_SOA, nx1);
	/* another random name under example.com: "abc.example.com" */
	size_t n2 = msg(HDR("8583", "0000", "0001") "03616263076578616d706c6503636f6d00" "00010001" AUTH_SOA, nx2);
	assert_int_equal(rrl_check(r, &a, ans, na, 5), RRL_SEND);
	assert_int_equal(rrl_check(r, &a, ans, na, 5), RRL_SEND);
	assert_int_equal(rrl_check(r, &a, ans, na, 5), RRL_DROP);
	assert_int_equal(rrl_check(r, &a, nx1, n1, 5), RRL_SEND); /* other kind */
	assert_int_equal(rrl_check(r, &a, nx2, n2, 5), RRL_SEND); /* same zone */
	assert_int_equal(rrl_check(r, &a, nx1, n1, 5), RRL_DROP);
	assert_int_equal(rrl_check(r, &v6a, ans, na, 5), RRL_SEND);
	assert_int_equal(rrl_check(r, &v6b, ans, na, 5), RRL_SEND);
	assert_int_equal(rrl_check(r, &v6a, ans, na, 5), RRL_DROP);
	assert_int_equal(rrl_check(r, &v6c, ans, na, 5), RRL_SEND);
	/* unparsable responses are never limited */
	uint8_t junk[4] = {1, 2, 3, 4};
	for (int i = 0; i < 10; i++)
		assert_int_equal(rrl_check(r, &a, junk, sizeof(junk), 5), RRL_SEND);
	rrl_free(r);
}

static void test_truncate(void **st)
{
	(void)st;
	uint8_t m[512];
	size_t n = msg(HDR("8580", "0001", "0000") QWWW ANS_A, m);
	int t = rrl_truncate(m, n);
	assert_int_equal(t, 12 + 17 + 4);
	assert_true(m[2] & 0x02);          /* TC */
	assert_int_equal(m[0], 0x12);       /* ID kept */
	assert_int_equal(m[3] & 0xf, 0);    /* rcode kept */
	assert_int_equal(m[5], 1);
	assert_int_equal(m[7] | m[9] | m[11], 0);
	uint8_t bad[3] = {0};
	assert_true(rrl_truncate(bad, sizeof(bad)) < 0);
	rrl_config c;
	rrl_config_default(&c);
	assert_null(rrl_new(&c)); /* rate 0: off */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_limit_and_slip),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_truncate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
