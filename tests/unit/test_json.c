/* test_json — JSON string escaping (quote, backslash, control and
 * non-ASCII bytes, embedded NUL with the length form). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "util/json.h"

static void test_escape(void **st)
{
	(void)st;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	const char in[] = "a\"b\\c\x01\x7f\xc3.d";
	json_str_n(f, in, sizeof(in) - 1);
	json_str_n(f, "", 0);
	json_str_n(f, "x\0y", 3); /* a NUL inside a name read the injector's way */
	json_str(f, "plain.example");
	fclose(f);
	assert_string_equal(buf, "\"a\\\"b\\\\c\\u0001\\u007f\\u00c3.d\"\"\"\"x\\u0000y\"\"plain.example\"");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
