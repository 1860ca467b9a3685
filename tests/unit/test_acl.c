/* test_acl — client allow list: CIDR parsing, matching, mapped IPv4, bad input. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "dns/err.h"
#include "net/addr.h"
#include "resolve/acl.h"

static bool m(const acl *a, const char *text)
{
	net_addr x;
	assert_int_equal(addr_parse(&x, text, 53, NULL, 0), 0);
	return acl_match(a, &x);
}

static void test_loopback_default(void **state)
{
	(void)state;
	acl a;
	acl_init(&a);
	assert_false(m(&a, "127.0.0.1")); /* empty list matches nothing */
	acl_add_loopback(&a);
	assert_true(m(&a, "127.0.0.1"));
	assert_true(m(&a, "127.255.3.4:99"));
	assert_true(m(&a, "[::1]:53"));
	assert_true(m(&a, "[::ffff:127.0.0.5]:53")); /* mapped IPv4 */
	assert_false(m(&a, "128.0.0.1"));
	assert_false(m(&a, "10.0.0.1"));
	assert_false(m(&a, "[::2]:53"));
	assert_false(m(&a, "[::ffff:10.0.0.1]:53"));
}

static void test_prefixes(void **state)
{
	(void)state;
	acl a;
	char err[128];
	acl_init(&a);
	assert_int_equal(acl_add(&a, "10.1.0.0/16", err, sizeof(err)), 0);
	assert_int_equal(acl_add(&a, "192.0.2.128/25", err, sizeof(err)), 0);
	assert_int_equal(acl_add(&a, "[2001:db8::]/33", err, sizeof(err)), 0);
	assert_int_equal(acl_add(&a, "fe80::1", err, sizeof(err)), 0);
	assert_true(m(&a, "10.1.255.255"));
	assert_false(m(&a, "10.2.0.0"));
	assert_true(m(&a, "192.0.2.200"));
	assert_false(m(&a, "192.0.2.127"));
	assert_true(m(&a, "[2001:db8:7fff::1]:53"));
	assert_false(m(&a, "[2001:db8:8000::1]:53"));
	assert_true(m(&a, "[fe80::1]:53"));
	assert_false(m(&a, "[fe80::2]:53"));
	char buf[64];
	assert_string_equal(acl_prefix_str(&a.p[2], buf, sizeof(buf)), "2001:db8::/33");
	acl_init(&a);
	assert_int_equal(acl_add(&a, "any", err, sizeof(err)), 0);
	assert_true(m(&a, "203.0.113.9"));
	assert_true(m(&a, "[2001:db8::9]:53"));
	acl_init(&a);
	assert_int_equal(acl_add(&a, "0.0.0.0/0", err, sizeof(err)), 0);
	assert_true(m(&a, "203.0.113.9"));
	assert_false(m(&a, "[2001:db8::9]:53"));
}

static void test_bad(void **state)
{
	(void)state;
	acl a;
	char err[128];
	acl_init(&a);
	static const char *bad[] = {"", "localhost", "10.0.0.0/", "10.0.0.0/x", "10.0.0.0/33", "::/129",
				    "10.0.0.1/8", "1.2.3", "10.0.0.0/8/8", "[::1", "10.0.0.0/-1", "::1/1x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_true(acl_add(&a, bad[i], err, sizeof(err)) < 0);
		assert_true(err[0] != 0);
	}
	assert_int_equal(a.n, 0);
	for (int i = 0; i < ACL_MAX; i++)
		assert_int_equal(acl_add(&a, "10.0.0.0/8", err, sizeof(err)), 0);
	assert_int_equal(acl_add(&a, "10.0.0.0/8", err, sizeof(err)), DNS_ESPACE);
	net_addr unset;
	memset(&unset, 0, sizeof(unset));
	assert_false(acl_match(&a, &unset));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loopback_default),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
