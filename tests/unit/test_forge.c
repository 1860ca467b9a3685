/* Unit tests for src/inject/forge: the forged reply laid out as injector 3 builds it (TXID, flags by RD, counts 1/1/0/0, no OPT, A for non-AAAA types). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dns/err.h"
#include "inject/forge.h"
#include "inject/qname.h"
#include "inject/rules.h"
#include "inject_testutil.h"

static int forge_hex(const char *hex, enum forge_flags fl, uint8_t *out)
{
	uint8_t p[512];
	size_t n;
	struct qname_view v;
	if (read_hex(hex, QNAME_FIXED, &v, p, &n))
		return -1;
	struct qmem m;
	qmem_init(&m, p, n);
	static const uint8_t addr[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	return forge_build(out, FORGE_MAX, &m, &v, fl, 0, 300, addr);
}

static void test_forge_layout(void **state)
{
	(void)state;
	uint8_t out[FORGE_MAX];
	/* RD=0, type MX, with an EDNS OPT in the additional section */
	const char *q = "abcd00000001000000000001023639026d75000000f000010000291000000000000000";
	int n = forge_hex(q, FORGE_FLAGS_BY_RD, out);
	assert_int_equal(n, 23 + 16);
	assert_int_equal(out[0], 0xab);
	assert_int_equal(out[1], 0xcd);
	assert_int_equal(out[2], 0x84);
	assert_int_equal(out[3], 0x00);
	static const uint8_t counts[8] = {0, 1, 0, 1, 0, 0, 0, 0};
	assert_memory_equal(out + 4, counts, 8);
	static const uint8_t ans[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 1, 2, 3, 4};
	assert_memory_equal(out + 23, ans, sizeof(ans)); /* MX -> A, no OPT echoed */
	/* RD=1 */
	n = forge_hex("abcd01000001000000000000023639026d750000010001", FORGE_FLAGS_BY_RD, out);
	assert_int_equal(out[2], 0x81);
	assert_int_equal(out[3], 0x80);
	/* the 0x8180-always injector */
	n = forge_hex("abcd00000001000000000000023639026d750000010001", FORGE_FLAGS_8180, out);
	assert_int_equal(out[2], 0x81);
	assert_int_equal(out[3], 0x80);
	/* TXT -> A; AAAA -> AAAA with 16 bytes */
	n = forge_hex("abcd00000001000000000000023639026d750000100001", FORGE_FLAGS_BY_RD, out);
	assert_int_equal(n, 23 + 16);
	assert_int_equal(out[26], 1);
	n = forge_hex("abcd00000001000000000000023639026d7500001c0001", FORGE_FLAGS_BY_RD, out);
	assert_int_equal(n, 23 + 28);
	assert_int_equal(out[26], 28);
	assert_int_equal(out[33], 0);
	assert_int_equal(out[34], 16);
	assert_int_equal(out[35], 1);
	assert_int_equal(out[50], 16);
	assert_int_equal(forge_answer_type(15), 1);
	assert_int_equal(forge_answer_type(28), 28);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forge_layout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
