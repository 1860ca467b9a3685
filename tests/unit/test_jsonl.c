/* test_jsonl — one field of a flat JSON line: strings, numbers, arrays,
 * keys that are prefixes of others, escapes, missing keys, small buffers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "lab/jsonl.h"

static const char LINE[] = "{\"event\":\"raise\",\"id\":3,\"kind\":\"hijack\",\"t\":1795728579.258,\"timeouts\":7,"
			   "\"round\": 12 ,\"address\":\"65.49.2.178\",\"ok\":true,\"q\":\"a\\\"b\\\\c\","
			   "\"sample\":[\"w1.x.com\",\"w2.y.net\"],\"empty\":[],\"n\":null}";

static void test_strings(void **state)
{
	(void)state;
	char b[64];
	assert_true(jsonl_str(LINE, "event", b, sizeof(b)));
	assert_string_equal(b, "raise");
	assert_true(jsonl_str(LINE, "address", b, sizeof(b)));
	assert_string_equal(b, "65.49.2.178");
	assert_true(jsonl_str(LINE, "q", b, sizeof(b)));
	assert_string_equal(b, "a\"b\\c");
	assert_true(jsonl_str(LINE, "ok", b, sizeof(b)));
	assert_string_equal(b, "true");
	assert_true(jsonl_str(LINE, "n", b, sizeof(b)));
	assert_string_equal(b, "null");
	assert_false(jsonl_str(LINE, "missing", b, sizeof(b)));
	assert_string_equal(b, "");
	/* a value is never taken for a key */
	assert_false(jsonl_str(LINE, "hijack", b, sizeof(b)));
	/* too small: refused, not cut */
	char s[5];
	assert_false(jsonl_str(LINE, "address", s, sizeof(s)));
	assert_false(jsonl_str(LINE, "t", s, sizeof(s)));
	assert_false(jsonl_str(LINE, "event", b, 0));
	/* unterminated string */
	assert_false(jsonl_str("{\"a\":\"xyz", "a", b, sizeof(b)));
}

static void test_numbers(void **state)
{
	(void)state;
	double v = -1;
	assert_true(jsonl_num(LINE, "t", &v)); /* not "timeouts" */
	assert_true(v > 1795728579.25 && v < 1795728579.26);
	assert_true(jsonl_num(LINE, "timeouts", &v));
	assert_true(v == 7);
	assert_true(jsonl_num(LINE, "round", &v)); /* blanks around */
	assert_true(v == 12);
	assert_false(jsonl_num(LINE, "kind", &v)); /* not a number */
	assert_false(jsonl_num(LINE, "nope", &v));
	assert_true(jsonl_num("{\"x\":-2.5e3}", "x", &v));
	assert_true(v == -2500);
}

struct acc {
	char all[256];
	int n;
};

static void add(void *arg, const char *s)
{
	struct acc *a = arg;
	strcat(a->all, s);
	strcat(a->all, "|");
	a->n++;
}

static void test_arrays(void **state)
{
	(void)state;
	struct acc a = {{0}, 0};
	assert_int_equal(jsonl_strings(LINE, "sample", add, &a), 2);
	assert_string_equal(a.all, "w1.x.com|w2.y.net|");
	memset(&a, 0, sizeof(a));
	assert_int_equal(jsonl_strings(LINE, "empty", add, &a), 0);
	assert_int_equal(a.n, 0);
	assert_int_equal(jsonl_strings(LINE, "id", add, &a), -1);       /* not an array */
	assert_int_equal(jsonl_strings(LINE, "nothere", add, &a), -1);
	assert_int_equal(jsonl_strings("{\"p\":[1,2]}", "p", add, &a), -1); /* not strings */
	assert_int_equal(jsonl_strings("{\"p\":[\"a\",\"b", "p", add, &a), -1);
	memset(&a, 0, sizeof(a));
	assert_int_equal(jsonl_strings("{\"pool\":[ \"1.2.3.4\" , \"5.6.7.8\" ]}", "pool", add, &a), 2);
	assert_string_equal(a.all, "1.2.3.4|5.6.7.8|");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_arrays),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
