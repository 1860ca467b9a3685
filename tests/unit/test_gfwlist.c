/* Unit tests for src/inject/gfwlist: AutoProxy lines mapped to rule kinds, and the real 2026-08 gfwlist. */
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

static void test_gfwlist_mapping(void **state)
{
	(void)state;
	const char *text = "[AutoProxy 0.2.9]\n! comment\n||blocked.com\n|http://85.17.73.31/\n.dotted.org\n"
			   "keyword.net\n@@||ok.blocked.com\n/^https?:\\/\\/[^\\/]+blogspot\\.(.*)/\n"
			   "||path.com/some/where\n||*.star.app\n||cdn*.i-scmp.com\n|https://exact.io\n";
	struct rules *r = rules_new();
	struct gfwlist_stats st;
	int n = gfwlist_load_text(r, text, strlen(text), &st);
	assert_int_equal(st.exceptions, 1);
	assert_int_equal(st.regex, 1);
	assert_int_equal(st.path, 1);
	assert_int_equal(st.rules, 8); /* glob rule counts twice */
	assert_int_equal(n, 9);
	assert_int_equal(rules_build(r), 0);
	assert_true(m(r, "blocked.com"));
	assert_true(m(r, "www.blocked.com"));
	assert_false(m(r, "ok.blocked.com"));
	assert_true(m(r, "85.17.73.31"));
	assert_true(m(r, "dotted.org"));
	assert_true(m(r, "a.dotted.org"));
	assert_true(m(r, "xkeyword.net.y"));
	assert_false(m(r, "path.com"));
	assert_true(m(r, "star.app"));
	assert_true(m(r, "cdn2.i-scmp.com"));
	assert_true(m(r, "a.cdn2.i-scmp.com"));
	assert_true(m(r, "exact.io"));
	assert_false(m(r, "www.exact.io"));
	rules_free(r);

	char *out;
	assert_int_equal(gfwlist_b64decode("aGVsbG8=", 8, &out), 5);
	assert_string_equal(out, "hello");
	free(out);
	assert_int_equal(gfwlist_b64decode("a$b", 3, &out), DNS_ESYNTAX);
}

static void test_gfwlist_real(void **state)
{
	(void)state;
	const char *d = getenv("ANTIDOTE_DATA");
	char path[512], err[256];
	snprintf(path, sizeof(path), "%s/gfwlist-2026-08.b64", d ? d : "../shared/data");
	if (access(path, R_OK)) {
		print_message("SKIP: %s absent (set ANTIDOTE_DATA)\n", path);
		skip();
	}
	struct rules *r = rules_new();
	struct gfwlist_stats st;
	int n = gfwlist_load(r, path, &st, err, sizeof(err));
	assert_true(n > 4000);
	assert_true(st.exceptions > 20);
	assert_int_equal(rules_build(r), 0);
	assert_true(m(r, "www.zoominfo.com"));
	assert_true(m(r, "500px.com"));
	assert_false(m(r, "www.gov.tw"));      /* @@||www.gov.tw */
	assert_false(m(r, "www.example.com"));
	rules_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gfwlist_mapping),
		cmocka_unit_test(test_gfwlist_real),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
