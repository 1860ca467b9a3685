/* test_cookie — SipHash-2-4 test vectors and RFC 9018 server cookies: made, checked, expired, bound to the client. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "dns/err.h"
#include "net/addr.h"
#include "resolve/cookie.h"
#include "testutil.h"

/* The SipHash paper (Aumasson, Bernstein), appendix A: key 00..0f,
 * message 00..0e, and the first entries of its 64-entry vector table
 * (message 00..(n-1), little-endian output). */
static void test_siphash(void **st)
{
	(void)st;
	uint8_t key[16], in[64];
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		in[i] = (uint8_t)i;
	assert_true(cookie_siphash24(key, in, 15) == 0xa129ca6149be45e5ull);
	assert_true(cookie_siphash24(key, in, 0) == 0x726fdb47dd0e0e31ull);
	assert_true(cookie_siphash24(key, in, 1) == 0x74f839c593dc67fdull);
	assert_true(cookie_siphash24(key, in, 7) == 0xab0200f58b01d137ull);
	assert_true(cookie_siphash24(key, in, 8) == 0x93f5f5799a932462ull);
	assert_true(cookie_siphash24(key, in, 63) == 0x958a324ceb064572ull);
}

static net_addr addr(const char *s)
{
	net_addr a;
	assert_int_equal(addr_parse(&a, s, 53, NULL, 0), 0);
	return a;
}

/* RFC 9018 appendix A.1: a client learning a new server cookie. */
static void test_rfc9018_vector(void **st)
{
	(void)st;
	cookie_secret s;
	tu_hex("e5e973e5a6b2a43f48e7dc849e37bfcf", s.key);
	uint8_t client[8], want[24], out[24];
	tu_hex("2464c4abcf10c957", client);
	tu_hex("2464c4abcf10c957 010000005cf79f11 1f8130c3eee29480", want);
	net_addr a = addr("198.51.100.100");
	assert_int_equal(cookie_make(&s, client, &a, 1559731985, out), COOKIE_FULL);
	assert_memory_equal(out, want, 24);
	assert_true(cookie_valid(&s, want, 24, &a, 1559731985 + 10));
}

static void test_make_check(void **st)
{
	(void)st;
	cookie_secret s, other;
	cookie_secret_init(&s);
	cookie_secret_init(&other);
	assert_memory_not_equal(s.key, other.key, 16);
	uint8_t client[8] = {1, 2, 3, 4, 5, 6, 7, 8}, ck[24];
	net_addr a = addr("127.0.0.1"), b = addr("127.0.0.2"), a6 = addr("::1");
	net_addr mapped = addr("::ffff:127.0.0.1");
	uint32_t now = 1700000000;
	assert_int_equal(cookie_make(&s, client, &a, now, ck), COOKIE_FULL);
	assert_memory_equal(ck, client, 8);
	assert_int_equal(ck[8], 1); /* version */
	assert_int_equal(ck[9] | ck[10] | ck[11], 0);
	assert_true(cookie_valid(&s, ck, 24, &a, now));
	assert_true(cookie_valid(&s, ck, 24, &mapped, now)); /* the same client over a dual-stack socket */
	assert_true(cookie_valid(&s, ck, 24, &a, now + COOKIE_MAX_AGE));
	assert_false(cookie_valid(&s, ck, 24, &a, now + COOKIE_MAX_AGE + 1)); /* too old */
	assert_true(cookie_valid(&s, ck, 24, &a, now - COOKIE_MAX_AHEAD)); /* client clock ahead a little */
	assert_false(cookie_valid(&s, ck, 24, &a, now - COOKIE_MAX_AHEAD - 1));
	assert_false(cookie_valid(&s, ck, 24, &b, now));    /* another client */
	assert_false(cookie_valid(&s, ck, 24, &a6, now));
	assert_false(cookie_valid(&other, ck, 24, &a, now)); /* another secret (a restart) */
	assert_false(cookie_valid(&s, ck, 8, &a, now));     /* client cookie only */
	assert_false(cookie_valid(&s, ck, 16, &a, now));
	assert_false(cookie_valid(&s, ck, 40, &a, now));
	uint8_t bad[24];
	for (int i = 0; i < 24; i++) { /* every octet matters */
		memcpy(bad, ck, 24);
		bad[i] ^= 0x40;
		assert_false(cookie_valid(&s, bad, 24, &a, now));
	}
	/* timestamps wrap (serial arithmetic) */
	assert_int_equal(cookie_make(&s, client, &a, 0xfffffff0u, ck), COOKIE_FULL);
	assert_true(cookie_valid(&s, ck, 24, &a, 0x00000100u));
	/* IPv6 clients */
	assert_int_equal(cookie_make(&s, client, &a6, now, ck), COOKIE_FULL);
	assert_true(cookie_valid(&s, ck, 24, &a6, now));
	assert_false(cookie_valid(&s, ck, 24, &a, now));
	net_addr none;
	memset(&none, 0, sizeof(none));
	assert_int_equal(cookie_make(&s, client, &none, now, ck), DNS_EINVAL);
	assert_false(cookie_valid(&s, ck, 24, &none, now));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siphash),
		cmocka_unit_test(test_rfc9018_vector),
		cmocka_unit_test(test_make_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
