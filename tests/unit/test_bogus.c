/* test_bogus — forged-address lists: ChinaDNS iplist and dnsmasq bogus-nxdomain formats, CIDR lookups, export, forwarding sets (reload). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dns/err.h"
#include "resolve/bogus.h"
#include "testutil.h"

static bool has4(const bogus *b, const char *s)
{
	uint8_t a[4];
	assert_int_equal(inet_pton(AF_INET, s, a), 1);
	return bogus_match(b, a, 4);
}

static bool has6(const bogus *b, const char *s)
{
	uint8_t a[16];
	assert_int_equal(inet_pton(AF_INET6, s, a), 1);
	return bogus_match(b, a, 16);
}

static void test_text(void **st)
{
	(void)st;
	bogus *b = bogus_new();
	char err[256];
	assert_false(has4(b, "1.2.3.4")); /* empty set */
	assert_int_equal(bogus_add_text(b, "65.49.2.178", err, sizeof(err)), 0);
	assert_int_equal(bogus_add_text(b, "10.10.34.0/24", err, sizeof(err)), 0);
	assert_int_equal(bogus_add_text(b, "10.10.34.99/24", err, sizeof(err)), 0); /* host bits cleared: dup */
	assert_int_equal(bogus_add_text(b, "2001::/32", err, sizeof(err)), 0);
	assert_int_equal(bogus_add_text(b, "2001:4188:2:600:10:10:34:34", err, sizeof(err)), 0);
	assert_int_equal(bogus_add_text(b, "0.0.0.0/0", err, sizeof(err)) , 0);
	assert_true(has4(b, "65.49.2.178"));
	assert_true(has4(b, "10.10.34.36"));
	assert_true(has4(b, "8.8.8.8")); /* /0 matches everything v4 */
	assert_true(has6(b, "2001::d155:9f89"));
	assert_true(has6(b, "2001:4188:2:600:10:10:34:34"));
	assert_false(has6(b, "2001:4188:2:600:10:10:34:35"));
	assert_false(has6(b, "::1"));
	bogus_seal(b);
	assert_int_equal(bogus_count(b), 5);
	/* bad input */
	assert_int_equal(bogus_add_text(b, "1.2.3", err, sizeof(err)), DNS_ESYNTAX);
	assert_non_null(strstr(err, "1.2.3"));
	assert_int_equal(bogus_add_text(b, "1.2.3.4/33", err, sizeof(err)), DNS_ERANGE);
	assert_int_equal(bogus_add_text(b, "1.2.3.4/", err, sizeof(err)), DNS_ESYNTAX);
	assert_int_equal(bogus_add_text(b, "1.2.3.4/x", err, sizeof(err)), DNS_ESYNTAX);
	assert_int_equal(bogus_add_text(b, "::/129", err, sizeof(err)), DNS_ERANGE);
	assert_int_equal(bogus_add_text(b, "", err, sizeof(err)), DNS_ESYNTAX);
	uint8_t a[4] = {1, 2, 3, 4};
	assert_int_equal(bogus_add(b, a, 5, 8), DNS_EINVAL);
	assert_int_equal(bogus_add(b, a, 4, 33), DNS_EINVAL);
	assert_false(bogus_match(b, a, 5));
	assert_false(bogus_match(NULL, a, 4));
	bogus_free(b);
	bogus_free(NULL);
}

static void test_prefix_boundaries(void **st)
{
	(void)st;
	bogus *b = bogus_new();
	char err[256];
	assert_int_equal(bogus_add_text(b, "192.0.2.128/25", err, sizeof(err)), 0);
	assert_int_equal(bogus_add_text(b, "198.51.100.7/31", err, sizeof(err)), 0);
	assert_false(has4(b, "192.0.2.127"));
	assert_true(has4(b, "192.0.2.128"));
	assert_true(has4(b, "192.0.2.255"));
	assert_false(has4(b, "192.0.3.0"));
	assert_true(has4(b, "198.51.100.6"));
	assert_true(has4(b, "198.51.100.7"));
	assert_false(has4(b, "198.51.100.8"));
	bogus_free(b);
}

static void test_load_iplist_and_dnsmasq(void **st)
{
	(void)st;
	char path[64];
	assert_non_null(tu_tempfile("# ChinaDNS iplist\n"
				    "1.2.3.4\n"
				    "  203.98.7.65  \n"
				    "\n"
				    "10.10.34.0/24 # iran\n"
				    "2001::/32\n"
				    "bogus-nxdomain=123.125.81.12\n"
				    "--bogus-nxdomain = 61.191.206.4/31, 9.9.9.0/24\n"
				    "server=/cn/114.114.114.114\n"
				    "no-resolv\n",
				    path, sizeof(path)));
	bogus *b = bogus_new();
	char err[256];
	unsigned skipped = 0;
	int n = bogus_load(b, path, &skipped, err, sizeof(err));
	assert_int_equal(n, 7);
	assert_int_equal(skipped, 2);
	assert_true(has4(b, "1.2.3.4"));
	assert_true(has4(b, "203.98.7.65"));
	assert_true(has4(b, "10.10.34.35"));
	assert_true(has4(b, "123.125.81.12"));
	assert_true(has4(b, "61.191.206.5"));
	assert_true(has4(b, "9.9.9.9"));
	assert_false(has4(b, "114.114.114.114"));
	assert_true(has6(b, "2001::1"));
	unlink(path);

	/* errors name the file and line */
	assert_non_null(tu_tempfile("1.2.3.4\nnot an address\n", path, sizeof(path)));
	n = bogus_load(b, path, NULL, err, sizeof(err));
	assert_int_equal(n, DNS_ESYNTAX);
	char want[96];
	snprintf(want, sizeof(want), "%s:2:", path);
	assert_non_null(strstr(err, want));
	unlink(path);
	assert_non_null(tu_tempfile("bogus-nxdomain=\n", path, sizeof(path)));
	assert_true(bogus_load(b, path, NULL, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, ":1:"));
	unlink(path);
	assert_int_equal(bogus_load(b, "/nonexistent/antidote-bogus", NULL, err, sizeof(err)), DNS_EIO);
	bogus_free(b);
}

/* The real lists the project ships must load. */
static void test_load_shared_data(void **st)
{
	(void)st;
	const char *files[] = {"../shared/data/chinadns-forged-iplist.txt", "../shared/data/bogus-nxdomain.china.conf"};
	for (size_t i = 0; i < 2; i++) {
		if (access(files[i], R_OK) != 0)
			continue; /* not in this checkout's layout */
		bogus *b = bogus_new();
		char err[256];
		int n = bogus_load(b, files[i], NULL, err, sizeof(err));
		if (n < 0)
			fail_msg("%s", err);
		assert_true(n > 10);
		bogus_free(b);
	}
	bogus *b = bogus_new();
	char err[256];
	if (bogus_load(b, "../shared/data/chinadns-forged-iplist.txt", NULL, err, sizeof(err)) > 0) {
		assert_true(has4(b, "159.106.121.75")); /* 2009 pool */
		assert_false(has4(b, "65.49.2.178"));   /* 2014: not on the fixed list */
	}
	bogus_free(b);
}

static void test_write_roundtrip(void **st)
{
	(void)st;
	bogus *b = bogus_new();
	char err[256];
	assert_int_equal(bogus_add_text(b, "65.49.2.178", err, sizeof(err)), 0);
	assert_int_equal(bogus_add_text(b, "10.10.34.0/24", err, sizeof(err)), 0);
	assert_int_equal(bogus_add_text(b, "2001::d155:9f89", err, sizeof(err)), 0);
	assert_int_equal(bogus_add_text(b, "65.49.2.178", err, sizeof(err)), 0);
	for (int fmt = 0; fmt < 2; fmt++) {
		char path[64] = "/tmp/antidote-bogus.XXXXXX";
		int fd = mkstemp(path);
		assert_true(fd >= 0);
		FILE *f = fdopen(fd, "w");
		assert_int_equal(bogus_write(b, f, (enum bogus_format)fmt), 3);
		fclose(f);
		f = fopen(path, "r");
		char text[512];
		size_t n = fread(text, 1, sizeof(text) - 1, f);
		text[n] = 0;
		fclose(f);
		if (fmt == BOGUS_IPLIST) {
			assert_non_null(strstr(text, "\n65.49.2.178\n"));
			assert_non_null(strstr(text, "10.10.34.0/24\n"));
			assert_non_null(strstr(text, "2001::d155:9f89\n"));
			assert_null(strstr(text, "bogus-nxdomain"));
		} else {
			assert_non_null(strstr(text, "bogus-nxdomain=65.49.2.178\n"));
		}
		bogus *c = bogus_new();
		assert_int_equal(bogus_load(c, path, NULL, err, sizeof(err)), 3);
		assert_true(has4(c, "10.10.34.200"));
		assert_true(has6(c, "2001::d155:9f89"));
		bogus_free(c);
		unlink(path);
	}
	bogus *m = bogus_new();
	assert_int_equal(bogus_merge(m, b), 0);
	assert_int_equal(bogus_merge(m, b), 0);
	assert_int_equal(bogus_merge(m, NULL), 0);
	bogus_seal(m);
	assert_int_equal(bogus_count(m), 3);
	bogus_free(m);
	bogus_free(b);
	assert_int_equal(bogus_format_for("learned.conf"), BOGUS_DNSMASQ);
	assert_int_equal(bogus_format_for("learned.txt"), BOGUS_IPLIST);
	assert_int_equal(bogus_format_for(".conf"), BOGUS_DNSMASQ);
	assert_int_equal(bogus_format_for("conf"), BOGUS_IPLIST);
}

static void test_many(void **st)
{
	(void)st;
	bogus *b = bogus_new();
	for (uint32_t i = 0; i < 20000; i += 2) {
		uint8_t a[4] = {10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
		assert_int_equal(bogus_add(b, a, 4, 32), 0);
	}
	bogus_seal(b);
	for (uint32_t i = 0; i < 20000; i++) {
		uint8_t a[4] = {10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
		assert_int_equal(bogus_match(b, a, 4), i % 2 == 0);
	}
	bogus_free(b);
}

/* A forwarding set follows its target; swapping it returns the old one. */
static void test_forward(void **st)
{
	(void)st;
	char err[256];
	bogus *a = bogus_new(), *b = bogus_new();
	assert_int_equal(bogus_add_text(a, "1.2.3.4", err, sizeof(err)), 0);
	assert_int_equal(bogus_add_text(a, "10.0.0.0/8", err, sizeof(err)), 0);
	assert_int_equal(bogus_add_text(b, "5.6.7.8", err, sizeof(err)), 0);
	bogus_seal(a);
	bogus_seal(b);
	bogus *fw = bogus_new_forward(NULL);
	assert_non_null(fw);
	assert_false(has4(fw, "1.2.3.4")); /* no target: empty */
	assert_int_equal(bogus_count(fw), 0);
	assert_null(bogus_target(fw));
	assert_null(bogus_forward(fw, a));
	assert_true(has4(fw, "1.2.3.4"));
	assert_true(has4(fw, "10.9.8.7"));
	assert_false(has4(fw, "5.6.7.8"));
	assert_int_equal(bogus_count(fw), 2);
	assert_ptr_equal(bogus_target(fw), a);
	assert_ptr_equal(bogus_target(a), a); /* a plain set is its own target */
	assert_ptr_equal(bogus_forward(fw, b), a);
	assert_false(has4(fw, "1.2.3.4"));
	assert_true(has4(fw, "5.6.7.8"));
	/* no entries of its own */
	uint8_t x[4] = {9, 9, 9, 9};
	assert_int_equal(bogus_add(fw, x, 4, 32), DNS_EINVAL);
	assert_int_equal(bogus_add_text(fw, "9.9.9.9", err, sizeof(err)), DNS_EINVAL);
	assert_int_equal(bogus_count(b), 1);
	/* merge and write read through it */
	bogus *m = bogus_new();
	assert_int_equal(bogus_merge(m, fw), 0);
	assert_int_equal(bogus_count(m), 1);
	char path[64];
	assert_non_null(tu_tempfile("", path, sizeof(path)));
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(bogus_write(fw, f, BOGUS_IPLIST), 1);
	fclose(f);
	unlink(path);
	/* a plain set refuses to forward */
	assert_null(bogus_forward(a, b));
	assert_true(has4(a, "1.2.3.4"));
	bogus_free(fw); /* never frees the target */
	assert_true(has4(b, "5.6.7.8"));
	bogus_free(m);
	bogus_free(a);
	bogus_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_prefix_boundaries),
		cmocka_unit_test(test_load_iplist_and_dnsmasq),
		cmocka_unit_test(test_load_shared_data),
		cmocka_unit_test(test_write_roundtrip),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_forward),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
