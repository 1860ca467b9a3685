/* Unit tests for src/dns/err. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "dns/err.h"

static void every_code_has_a_distinct_name(void **st)
{
	(void)st;
	for (int a = DNS_ETYPE; a <= 0; a++) {
		assert_string_not_equal(dns_strerror(a), "unknown error");
		for (int b = DNS_ETYPE; b < a; b++)
			assert_string_not_equal(dns_strerror(a), dns_strerror(b));
	}
	assert_string_equal(dns_strerror(-999), "unknown error");
	assert_string_equal(dns_strerror(DNS_EPTR), "bad compression pointer");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_code_has_a_distinct_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
