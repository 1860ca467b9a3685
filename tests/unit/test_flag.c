/* test_flag — the yes/no words, any case; anything else refused. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "dns/err.h"
#include "util/flag.h"

static void test_words(void **st)
{
	(void)st;
	static const char *const yes[] = {"yes", "true", "on", "1", "ON", "True"};
	static const char *const no[] = {"no", "false", "off", "0", "OFF", "No"};
	for (unsigned i = 0; i < 6; i++) {
		bool b = false;
		assert_int_equal(flag_parse(yes[i], &b), 0);
		assert_true(b);
		assert_int_equal(flag_parse(no[i], &b), 0);
		assert_false(b);
	}
	static const char *const bad[] = {"", "maybe", "2", "onn", "y", " on"};
	for (unsigned i = 0; i < 6; i++) {
		bool b = true;
		assert_int_equal(flag_parse(bad[i], &b), DNS_ESYNTAX);
		assert_true(b); /* untouched */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_words)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
