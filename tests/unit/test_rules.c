/* test_rules — the nine GFWatch rule kinds, regex/glob, exceptions, the
 * loaders (own syntax, domain lists, dnsmasq, gfwlist). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/err.h"
#include "inject/gfwlist.h"
#include "inject/rules.h"
#include "testutil.h"

static bool m(const struct rules *r, const char *name)
{
	return rules_match(r, name, strlen(name)) >= 0;
}

static struct rules *one(enum rule_kind k, const char *base)
{
	struct rules *r = rules_new();
	assert_non_null(r);
	assert_true(rules_add(r, k, base, false) >= 0);
	assert_int_equal(rules_build(r), 0);
	return r;
}

struct kcase {
	enum rule_kind kind;
	const char *yes[6];
	const char *no[6];
};

static void test_nine_kinds(void **state)
{
	(void)state;
	static const struct kcase cases[] = {
		{RULE_EXACT, {"facebook.com", "FaceBook.COM"}, {"www.facebook.com", "xfacebook.com", "facebook.com.cn", "facebook.co"}},
		{RULE_BASE_DOT, {"facebook.com.cn", "facebook.com.x.y"}, {"facebook.com", "www.facebook.com.cn", "facebook.comx", "facebook.co"}},
		{RULE_PREFIX, {"facebook.com", "facebook.comx", "facebook.com.cn"}, {"www.facebook.com", "facebook.co", "xfacebook.com"}},
		{RULE_DOMAIN, {"facebook.com", "www.facebook.com", "a.b.FACEBOOK.com"}, {"xfacebook.com", "facebook.com.cn", "facebook.co", "com"}},
		{RULE_SUFFIX, {"facebook.com", "xfacebook.com", "www.xfacebook.com"}, {"facebook.com.cn", "facebook.co", "facebookxcom"}},
		{RULE_DOMAIN_DOT, {"facebook.com.cn", "www.facebook.com.cn"}, {"facebook.com", "www.facebook.com", "xfacebook.com.cn", "facebook.comx.cn"}},
		{RULE_DOMAIN_PREFIX, {"facebook.com", "www.facebook.com", "www.facebook.comx", "facebook.com.cn"}, {"xfacebook.com", "wwwfacebook.com.cn"}},
		{RULE_SUFFIX_DOT, {"facebook.com.cn", "xfacebook.com.cn"}, {"facebook.com", "xfacebook.com", "facebook.comx.cn"}},
		{RULE_SUBSTR, {"facebook.com", "xfacebook.comx", "a.facebook.com.b"}, {"facebook.co", "facebookcom", "face.book.com"}},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rules *r = one(cases[i].kind, "facebook.com");
		for (int j = 0; j < 6 && cases[i].yes[j]; j++)
			if (!m(r, cases[i].yes[j]))
				fail_msg("kind %s should match %s", rules_kind_name(cases[i].kind), cases[i].yes[j]);
		for (int j = 0; j < 6 && cases[i].no[j]; j++)
			if (m(r, cases[i].no[j]))
				fail_msg("kind %s should not match %s", rules_kind_name(cases[i].kind), cases[i].no[j]);
		rules_free(r);
	}
}

static void test_collateral_2004(void **state)
{
	(void)state;
	struct rules *r = one(RULE_SUBSTR, "dweb");
	assert_true(m(r, "www.3dweb.com"));
	assert_false(m(r, "www.3d-web.com"));
	rules_free(r);
}

static void test_regex_and_glob(void **state)
{
	(void)state;
	struct rules *r = rules_new();
	assert_true(rules_add(r, RULE_REGEX, "(^|\\.)facebook\\.com$", false) >= 0);
	assert_true(rules_add(r, RULE_REGEX, "^shadowvpn\\.com", false) >= 0);
	assert_true(rules_add(r, RULE_GLOB, "cdn*.i-scmp.com", false) >= 0);
	assert_int_equal(rules_add(r, RULE_REGEX, "(unclosed", false), DNS_ESYNTAX);
	assert_int_equal(rules_build(r), 0);
	assert_true(m(r, "WWW.facebook.com"));
	assert_false(m(r, "xfacebook.com"));
	assert_true(m(r, "shadowvpn.com.evil"));
	assert_false(m(r, "www.shadowvpn.com"));
	assert_true(m(r, "cdn3.i-scmp.com"));
	assert_false(m(r, "img.i-scmp.com"));
	rules_free(r);
}

static void test_allow_and_empty(void **state)
{
	(void)state;
	struct rules *r = rules_new();
	assert_false(m(r, "anything")); /* not built: nothing matches */
	assert_true(rules_add(r, RULE_DOMAIN, "google.com", false) >= 0);
	assert_true(rules_add(r, RULE_EXACT, "cn.google.com", true) >= 0);
	assert_int_equal(rules_add(r, RULE_DOMAIN, "", false), DNS_ESYNTAX);
	assert_int_equal(rules_build(r), 0);
	assert_true(m(r, "www.google.com"));
	assert_false(m(r, "cn.google.com"));
	assert_true(m(r, "x.cn.google.com"));
	assert_false(m(r, ""));
	char longname[400];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_false(m(r, longname));
	rules_free(r);
}

static void test_many_rules_hash(void **state)
{
	(void)state;
	struct rules *r = rules_new();
	char b[64];
	for (int i = 0; i < 20000; i++) {
		snprintf(b, sizeof(b), "d%d.example", i);
		assert_true(rules_add(r, (enum rule_kind)(i % 9), b, false) >= 0);
	}
	assert_int_equal(rules_count(r), 20000);
	assert_int_equal(rules_build(r), 0);
	assert_true(m(r, "d0.example"));             /* exact */
	assert_true(m(r, "d1.example.x"));           /* base.* */
	assert_true(m(r, "d2.examplezzz"));          /* base* */
	assert_true(m(r, "q.d3.example"));           /* *.base */
	assert_true(m(r, "qd4.example"));            /* *base */
	assert_true(m(r, "q.d5.example.x"));         /* *.base.* */
	assert_true(m(r, "q.d6.examplex"));          /* *.base* */
	assert_true(m(r, "qd7.example.x"));          /* *base.* */
	assert_true(m(r, "xd8.examplex"));           /* *base* */
	assert_false(m(r, "d0.examplex"));
	assert_false(m(r, "zzz.example"));
	rules_free(r);
}

static void test_own_syntax(void **state)
{
	(void)state;
	struct rules *r = rules_new();
	char path[64], err[256];
	const char *text = "# comment\n\n*.facebook.com\nexact twitter.com\n  *dweb*  \nre:^shadowvpn\\.com\n"
			   "allow www.facebook.com\nbase-dot google.com\nglob:cdn*.x.org\n";
	assert_non_null(tu_tempfile(text, path, sizeof(path)));
	assert_int_equal(rules_load_file(r, path, err, sizeof(err)), 7);
	unlink(path);
	assert_int_equal(rules_build(r), 0);
	assert_true(m(r, "a.facebook.com"));
	assert_false(m(r, "www.facebook.com"));
	assert_true(m(r, "twitter.com"));
	assert_false(m(r, "www.twitter.com"));
	assert_true(m(r, "3dweb.net"));
	assert_true(m(r, "google.com.hk"));
	assert_true(m(r, "cdn7.x.org"));
	char fmt[128];
	assert_true(rules_format(r, 0, fmt, sizeof(fmt)) > 0);
	assert_string_equal(fmt, "*.facebook.com");
	assert_true(rules_format(r, 4, fmt, sizeof(fmt)) > 0);
	assert_string_equal(fmt, "allow www.facebook.com");
	rules_free(r);

	/* errors carry file:line */
	r = rules_new();
	assert_non_null(tu_tempfile("ok.com\nbogus kind.com\n", path, sizeof(path)));
	assert_true(rules_load_file(r, path, err, sizeof(err)) < 0);
	char want[128];
	snprintf(want, sizeof(want), "%s:2: ", path);
	assert_memory_equal(err, want, strlen(want));
	assert_non_null(strstr(err, "unknown rule kind"));
	unlink(path);
	assert_non_null(tu_tempfile("a*b.com\n", path, sizeof(path)));
	assert_true(rules_load_file(r, path, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, ":1: "));
	unlink(path);
	assert_non_null(tu_tempfile("re:(\n", path, sizeof(path)));
	assert_true(rules_load_file(r, path, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "regular expression"));
	unlink(path);
	assert_int_equal(rules_load_file(r, "/nonexistent/rules", err, sizeof(err)), DNS_EIO);
	rules_free(r);

	bool added;
	r = rules_new();
	assert_int_equal(rules_parse_line(r, "   # just a comment", &added, err, sizeof(err)), 0);
	assert_false(added);
	assert_int_equal(rules_parse_line(r, "*", &added, err, sizeof(err)), DNS_ESYNTAX);
	assert_int_equal(rules_parse_line(r, "*.*", &added, err, sizeof(err)), DNS_ESYNTAX);
	rules_free(r);
}

static void test_domains_and_dnsmasq(void **state)
{
	(void)state;
	struct rules *r = rules_new();
	char path[64], err[256];
	assert_non_null(tu_tempfile("# list\nexample.org\n.dot.net\n\nUPPER.COM # trailing\n", path, sizeof(path)));
	assert_int_equal(rules_load_domains(r, path, err, sizeof(err)), 3);
	unlink(path);
	assert_non_null(tu_tempfile("server=/a.cn/114.114.114.114\nserver=/b.cn/c.cn/1.1.1.1\nbogus-nxdomain=1.2.3.4\n"
				    "address=/#/1.2.3.4\nserver=/d.cn/\n", path, sizeof(path)));
	assert_int_equal(rules_load_dnsmasq(r, path, err, sizeof(err)), 4);
	unlink(path);
	assert_int_equal(rules_build(r), 0);
	assert_true(m(r, "www.example.org"));
	assert_true(m(r, "dot.net"));
	assert_true(m(r, "upper.com"));
	assert_true(m(r, "x.a.cn"));
	assert_true(m(r, "c.cn"));
	assert_true(m(r, "d.cn"));
	assert_false(m(r, "xa.cn"));
	rules_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nine_kinds),
		cmocka_unit_test(test_collateral_2004),
		cmocka_unit_test(test_regex_and_glob),
		cmocka_unit_test(test_allow_and_empty),
		cmocka_unit_test(test_many_rules_hash),
		cmocka_unit_test(test_own_syntax),
		cmocka_unit_test(test_domains_and_dnsmasq),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
