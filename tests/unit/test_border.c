/* test_border — the namespace injector's packet code: IPv4/UDP parsing
 * (fragments, bad lengths, non-UDP refused), forged reply construction
 * (addresses and ports swapped, TTL, ID, DF, valid IP and UDP checksums). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "dns/err.h"
#include "inject/border.h"

/* a query 198.51.100.2:40000 -> 203.0.113.2:53, TTL 64, 12-byte DNS body */
static size_t mkpkt(uint8_t *p)
{
	static const uint8_t dns[12] = {0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
	size_t tot = 20 + 8 + sizeof(dns);
	memset(p, 0, tot);
	p[0] = 0x45;
	p[2] = 0;
	p[3] = (uint8_t)tot;
	p[6] = 0x40;
	p[8] = 64;
	p[9] = 17;
	memcpy(p + 12, (uint8_t[]){198, 51, 100, 2}, 4);
	memcpy(p + 16, (uint8_t[]){203, 0, 113, 2}, 4);
	uint16_t c = border_ip_csum(p, 20);
	p[10] = (uint8_t)(c >> 8);
	p[11] = (uint8_t)c;
	uint8_t *u = p + 20;
	u[0] = 40000 >> 8;
	u[1] = 40000 & 0xff;
	u[3] = 53;
	u[5] = 8 + sizeof(dns);
	memcpy(u + 8, dns, sizeof(dns));
	return tot;
}

static void test_parse(void **state)
{
	(void)state;
	uint8_t p[64];
	size_t n = mkpkt(p);
	struct border_udp u;
	assert_int_equal(border_parse(p, n, &u), 0);
	assert_int_equal(u.sport, 40000);
	assert_int_equal(u.dport, 53);
	assert_int_equal(u.ttl, 64);
	assert_int_equal(u.len, 12);
	assert_int_equal(u.payload[0], 0x12);
	assert_memory_equal(u.src, ((uint8_t[]){198, 51, 100, 2}), 4);
	/* trailing bytes past the IP total length are ignored */
	assert_int_equal(border_parse(p, n + 10, &u), 0);
	assert_int_equal(u.len, 12);
	/* truncated, not IPv4, not UDP, fragments, UDP longer than IP */
	assert_int_equal(border_parse(p, n - 1, &u), DNS_EFORMAT);
	assert_int_equal(border_parse(p, 19, &u), DNS_EFORMAT);
	uint8_t q[64];
	memcpy(q, p, n);
	q[0] = 0x65;
	assert_int_equal(border_parse(q, n, &u), DNS_EFORMAT);
	memcpy(q, p, n);
	q[9] = 6;
	assert_int_equal(border_parse(q, n, &u), DNS_EFORMAT);
	memcpy(q, p, n);
	q[6] = 0x20; /* MF */
	assert_int_equal(border_parse(q, n, &u), DNS_EFORMAT);
	memcpy(q, p, n);
	q[7] = 1; /* offset 8 */
	assert_int_equal(border_parse(q, n, &u), DNS_EFORMAT);
	memcpy(q, p, n);
	q[25] = 200;
	assert_int_equal(border_parse(q, n, &u), DNS_EFORMAT);
	memcpy(q, p, n);
	q[0] = 0x44; /* IHL 16 */
	assert_int_equal(border_parse(q, n, &u), DNS_EFORMAT);
}

static void test_build(void **state)
{
	(void)state;
	uint8_t p[64], out[600];
	size_t n = mkpkt(p);
	struct border_udp q;
	assert_int_equal(border_parse(p, n, &q), 0);
	static const uint8_t dns[13] = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 7};
	int len = border_build(out, sizeof(out), &q, dns, sizeof(dns), 169, 0xbeef, true);
	assert_int_equal(len, 20 + 8 + 13);
	struct border_udp r;
	assert_int_equal(border_parse(out, (size_t)len, &r), 0);
	assert_memory_equal(r.src, q.dst, 4);
	assert_memory_equal(r.dst, q.src, 4);
	assert_int_equal(r.sport, 53);
	assert_int_equal(r.dport, 40000);
	assert_int_equal(r.ttl, 169);
	assert_int_equal(out[4] << 8 | out[5], 0xbeef);
	assert_int_equal(out[6], 0x40);
	assert_memory_equal(r.payload, dns, sizeof(dns));
	/* checksums verify to zero (odd UDP length exercised) */
	assert_int_equal(border_ip_csum(out, 20), 0);
	uint16_t c = border_udp_csum(out + 12, out + 16, out + 20, (size_t)len - 20);
	assert_true(c == 0 || c == 0xffff);
	/* no DF, TTL out of range -> 64 */
	len = border_build(out, sizeof(out), &q, dns, sizeof(dns), 0, 0, false);
	assert_int_equal(out[6], 0);
	assert_int_equal(out[8], 64);
	assert_int_equal(border_build(out, 30, &q, dns, sizeof(dns), 64, 0, false), DNS_ESPACE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_build),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
