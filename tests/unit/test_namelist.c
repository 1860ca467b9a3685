/* test_namelist — name files (types, comments, errors) and JSON strings. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/err.h"
#include "probe/namelist.h"

static long parse(struct namelist *nl, const char *text, char *err)
{
	char *b = strdup(text);
	return namelist_parse(nl, b, strlen(b), "f", err, 128);
}

static void test_parse(void **state)
{
	(void)state;
	struct namelist nl;
	char err[128];
	assert_int_equal(parse(&nl, "# c\nwww.a.com\n\n  b.org.  AAAA # x\r\n*.c.net mx\nlast", err), 4);
	assert_string_equal(nl.e[0].name, "www.a.com");
	assert_int_equal(nl.e[0].qtype, 0);
	assert_string_equal(nl.e[1].name, "b.org");
	assert_int_equal(nl.e[1].qtype, 28);
	assert_string_equal(nl.e[2].name, "*.c.net");
	assert_int_equal(nl.e[2].qtype, 15);
	assert_string_equal(nl.e[3].name, "last");
	namelist_free(&nl);
	assert_int_equal(parse(&nl, "a.com\nb.com BOGUS\n", err), DNS_ESYNTAX);
	assert_string_equal(err, "f:2: unknown type 'BOGUS'");
	assert_int_equal(parse(&nl, "a..com\n", err), DNS_ESYNTAX);
	assert_non_null(strstr(err, "f:1: bad name"));
	char big[400];
	memset(big, 'a', 300);
	big[300] = 0;
	assert_int_equal(parse(&nl, big, err), DNS_ESYNTAX);
	assert_int_equal(parse(&nl, "", err), 0);
	namelist_free(&nl);
	assert_int_equal(namelist_load(&nl, "/nonexistent/x", err, sizeof(err)), DNS_EIO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_parse)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
