/* test_addr — address parsing, formatting, comparison. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "dns/err.h"
#include "net/addr.h"

/* Parses text and checks its formatted form (or the error and message). */
static void ok(const char *text, uint16_t defport, const char *want)
{
	net_addr a;
	char err[128], buf[ADDR_STRLEN];
	int rc = addr_parse(&a, text, defport, err, sizeof(err));
	if (rc != 0)
		fail_msg("'%s': %d %s", text, rc, err);
	assert_string_equal(err, "");
	int len = addr_format(&a, buf, sizeof(buf));
	if (len != (int)strlen(want) || strcmp(buf, want))
		fail_msg("'%s' formats as '%s' (%d), want '%s'", text, buf, len, want);
	/* round trip */
	net_addr b;
	assert_int_equal(addr_parse(&b, buf, 1, NULL, 0), 0);
	assert_true(addr_equal(&a, &b));
}

static void bad(const char *text, int code, const char *needle)
{
	net_addr a;
	char err[160];
	memset(&a, 0xab, sizeof(a));
	int rc = addr_parse(&a, text, 53, err, sizeof(err));
	assert_int_equal(rc, code);
	if (!strstr(err, needle))
		fail_msg("'%s': message '%s' lacks '%s'", text, err, needle);
	assert_int_equal(a.len, 0);
	assert_int_equal(addr_family(&a), AF_UNSPEC);
}

static void test_parse_v4(void **state)
{
	(void)state;
	ok("127.0.0.1:5300", 53, "127.0.0.1:5300");
	ok("127.0.0.1", 53, "127.0.0.1:53");
	ok("0.0.0.0:0", 53, "0.0.0.0:0");
	ok("255.255.255.255:65535", 53, "255.255.255.255:65535");
	ok("10.1.2.3:00053", 1, "10.1.2.3:53");
	net_addr a;
	assert_int_equal(addr_parse(&a, "127.0.0.2:853", 53, NULL, 0), 0);
	assert_int_equal(addr_family(&a), AF_INET);
	assert_int_equal(a.len, sizeof(struct sockaddr_in));
	assert_int_equal(addr_port(&a), 853);
	assert_int_equal(ntohl(a.u.in4.sin_addr.s_addr), 0x7f000002);
	assert_false(addr_is_any(&a));
	assert_int_equal(addr_parse(&a, "0.0.0.0", 53, NULL, 0), 0);
	assert_true(addr_is_any(&a));
}

static void test_parse_v6(void **state)
{
	(void)state;
	ok("[::1]:5300", 53, "[::1]:5300");
	ok("::1", 5353, "[::1]:5353");
	ok("[::1]", 53, "[::1]:53");
	ok("::", 53, "[::]:53");
	ok("2001:db8::1", 53, "[2001:db8::1]:53");
	ok("[2001:DB8:0:0:0:0:0:1]:1", 53, "[2001:db8::1]:1");
	ok("::ffff:127.0.0.1", 53, "[::ffff:127.0.0.1]:53");
	ok("2001:db8::1:53", 7, "[2001:db8::1:53]:7"); /* bare IPv6 never carries a port */
	ok("[fe80::1%1]:53", 53, "[fe80::1%1]:53");
	ok("[fe80::1%lo]:53", 53, "[fe80::1%1]:53"); /* lo is ifindex 1 on Linux */
	net_addr a;
	assert_int_equal(addr_parse(&a, "[::1]:99", 53, NULL, 0), 0);
	assert_int_equal(addr_family(&a), AF_INET6);
	assert_int_equal(a.len, sizeof(struct sockaddr_in6));
	assert_int_equal(addr_port(&a), 99);
	assert_true(IN6_IS_ADDR_LOOPBACK(&a.u.in6.sin6_addr));
	assert_false(addr_is_any(&a));
	assert_int_equal(addr_parse(&a, "[::]:53", 53, NULL, 0), 0);
	assert_true(addr_is_any(&a));
}

static void test_parse_errors(void **state)
{
	(void)state;
	bad("", DNS_ESYNTAX, "empty");
	bad("localhost", DNS_ESYNTAX, "host names are not resolved");
	bad("localhost:53", DNS_ESYNTAX, "'localhost:53'");
	bad("example.com:53", DNS_ESYNTAX, "not a numeric");
	bad("127.1", DNS_ESYNTAX, "not a valid IPv4");
	bad("127.0.0.256", DNS_ESYNTAX, "not a valid IPv4");
	bad("1.2.3.4.5", DNS_ESYNTAX, "not a valid IPv4");
	bad("127.0.0.1:", DNS_ESYNTAX, "missing port");
	bad("127.0.0.1:65536", DNS_ERANGE, "out of range");
	bad("127.0.0.1:99999999999", DNS_ERANGE, "out of range");
	bad("127.0.0.1:5x", DNS_ESYNTAX, "not a decimal");
	bad("127.0.0.1:-1", DNS_ESYNTAX, "not a decimal");
	bad("127.0.0.1:+53", DNS_ESYNTAX, "not a decimal");
	bad("127.0.0.1: 53", DNS_ESYNTAX, "not a decimal");
	bad(" 127.0.0.1", DNS_ESYNTAX, "IPv4");
	bad(":53", DNS_ESYNTAX, "missing IP address");
	bad("[::1", DNS_ESYNTAX, "missing ']'");
	bad("[::1]53", DNS_ESYNTAX, "expected ':port'");
	bad("[::1]:", DNS_ESYNTAX, "missing port");
	bad("[::1]:65536", DNS_ERANGE, "out of range");
	bad("[]:53", DNS_ESYNTAX, "empty IPv6");
	bad("[127.0.0.1]:53", DNS_ESYNTAX, "not a valid IPv6");
	bad("::1::2", DNS_ESYNTAX, "not a valid IPv6");
	bad("[::1%]:53", DNS_ESYNTAX, "empty IPv6 zone");
	bad("[fe80::1%nosuchif0]:53", DNS_ESYNTAX, "no interface 'nosuchif0'");
	bad("[fe80::1%99999999999]:53", DNS_ERANGE, "zone out of range");
	bad("1.2.3.4]:53", DNS_ESYNTAX, "unbalanced");
	char longtext[300];
	memset(longtext, '1', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = 0;
	bad(longtext, DNS_ESYNTAX, "too long");
	/* NULL err is fine */
	net_addr a;
	assert_int_equal(addr_parse(&a, "nope", 53, NULL, 0), DNS_ESYNTAX);
	assert_int_equal(addr_parse(&a, NULL, 53, NULL, 0), DNS_ESYNTAX);
	/* tiny err buffer is truncated, not overrun */
	char tiny[8];
	assert_int_equal(addr_parse(&a, "nope", 53, tiny, sizeof(tiny)), DNS_ESYNTAX);
	assert_int_equal(strlen(tiny), 7);
}

static void test_format(void **state)
{
	(void)state;
	net_addr a;
	char buf[ADDR_STRLEN];
	assert_int_equal(addr_parse(&a, "[2001:db8:1:2:3:4:5:6]:65535", 53, NULL, 0), 0);
	const char *want = "[2001:db8:1:2:3:4:5:6]:65535";
	assert_string_equal(addr_str(&a, buf), want);
	/* exact fit and one short */
	char small[64];
	size_t n = strlen(want);
	assert_int_equal(addr_format(&a, small, n + 1), (int)n);
	assert_int_equal(addr_format(&a, small, n), DNS_ESPACE);
	assert_string_equal(small, "");
	assert_int_equal(addr_format(&a, small, 0), DNS_ESPACE);
	/* unset address */
	net_addr z;
	memset(&z, 0, sizeof(z));
	assert_int_equal(addr_format(&z, buf, sizeof(buf)), DNS_EINVAL);
	assert_string_equal(buf, "?");
	assert_int_equal(addr_port(&z), 0);
	assert_int_equal(addr_family(&z), AF_UNSPEC);
	assert_false(addr_is_any(&z));
	/* longest possible */
	assert_int_equal(addr_parse(&a, "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255%4294967295]:65535",
				    53, NULL, 0), 0);
	assert_true(addr_format(&a, buf, sizeof(buf)) > 0);
}

static void test_sockaddr_and_equal(void **state)
{
	(void)state;
	net_addr a, b, c;
	assert_int_equal(addr_parse(&a, "127.0.0.1:53", 0, NULL, 0), 0);
	assert_int_equal(addr_from_sockaddr(&b, &a.u.sa, a.len), 0);
	assert_true(addr_equal(&a, &b));
	addr_set_port(&b, 54);
	assert_int_equal(addr_port(&b), 54);
	assert_false(addr_equal(&a, &b));
	/* too short, wrong family */
	assert_int_equal(addr_from_sockaddr(&c, &a.u.sa, sizeof(struct sockaddr_in) - 1), DNS_EINVAL);
	assert_int_equal(c.len, 0);
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	assert_int_equal(addr_from_sockaddr(&c, (struct sockaddr *)&ss, sizeof(ss)), DNS_EINVAL);
	assert_int_equal(addr_from_sockaddr(&c, NULL, 0), DNS_EINVAL);
	/* v6 with a long sockaddr_storage length */
	assert_int_equal(addr_parse(&a, "[::1]:53", 0, NULL, 0), 0);
	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, &a.u.in6, sizeof(a.u.in6));
	assert_int_equal(addr_from_sockaddr(&c, (struct sockaddr *)&ss, sizeof(ss)), 0);
	assert_int_equal(c.len, sizeof(struct sockaddr_in6));
	assert_true(addr_equal(&a, &c));
	/* families differ; v4-mapped is not the v4 address */
	assert_int_equal(addr_parse(&b, "::ffff:127.0.0.1", 53, NULL, 0), 0);
	assert_int_equal(addr_parse(&c, "127.0.0.1", 53, NULL, 0), 0);
	assert_false(addr_equal(&b, &c));
	/* zones differ */
	assert_int_equal(addr_parse(&b, "[fe80::1%1]:53", 53, NULL, 0), 0);
	assert_int_equal(addr_parse(&c, "[fe80::1%2]:53", 53, NULL, 0), 0);
	assert_false(addr_equal(&b, &c));
	net_addr z1, z2;
	memset(&z1, 0, sizeof(z1));
	memset(&z2, 0, sizeof(z2));
	assert_true(addr_equal(&z1, &z2));
	addr_set_port(&z1, 5); /* no-op on unset */
	assert_int_equal(addr_port(&z1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_v4),
		cmocka_unit_test(test_parse_v6),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_sockaddr_and_equal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
