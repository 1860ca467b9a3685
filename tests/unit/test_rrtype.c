/* Unit tests for src/dns/rrtype: mnemonics both ways, RFC 3597 TYPEnnn /
 * CLASSnnn forms, case-insensitivity, meta types. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "dns/err.h"
#include "dns/rrtype.h"

static int ty(const char *s) { return rrtype_from_text(s, strlen(s)); }
static int cl(const char *s) { return rrclass_from_text(s, strlen(s)); }

static void known_types(void **st)
{
	(void)st;
	char buf[16];
	static const struct { const char *n; int v; } t[] = {
		{"A", 1}, {"NS", 2}, {"CNAME", 5}, {"SOA", 6}, {"NULL", 10}, {"PTR", 12},
		{"MX", 15}, {"TXT", 16}, {"AAAA", 28}, {"LOC", 29}, {"SRV", 33}, {"NAPTR", 35},
		{"DNAME", 39}, {"OPT", 41}, {"DS", 43}, {"RRSIG", 46}, {"NSEC", 47}, {"DNSKEY", 48},
		{"NSEC3", 50}, {"NSEC3PARAM", 51}, {"TLSA", 52}, {"SMIMEA", 53}, {"CDS", 59},
		{"CDNSKEY", 60}, {"OPENPGPKEY", 61}, {"CSYNC", 62}, {"ZONEMD", 63}, {"SVCB", 64},
		{"HTTPS", 65}, {"SPF", 99}, {"TKEY", 249}, {"TSIG", 250}, {"IXFR", 251}, {"AXFR", 252},
		{"MAILB", 253}, {"MAILA", 254}, {"ANY", 255}, {"URI", 256}, {"CAA", 257},
		{"NSAP-PTR", 23}, {"TA", 32768}, {"DLV", 32769},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(ty(t[i].n), t[i].v);
		assert_string_equal(rrtype_to_text((uint16_t)t[i].v, buf), t[i].n);
	}
	assert_int_equal(ty("aaaa"), 28);
	assert_int_equal(ty("NsEc3pArAm"), 51);
	assert_int_equal(ty("nsap-ptr"), 23);
}

/* Every value prints to a form that parses back to it, and every printed
 * mnemonic is in the sorted lookup table (catches table drift). */
static void all_values_roundtrip(void **st)
{
	(void)st;
	char buf[16];
	for (unsigned v = 0; v <= 65535; v++) {
		const char *s = rrtype_to_text((uint16_t)v, buf);
		assert_ptr_equal(s, buf);
		assert_true(strlen(s) < 16);
		if (ty(s) != (int)v)
			fail_msg("type %u printed as %s parses to %d", v, s, ty(s));
		if (!rrtype_name((uint16_t)v)) {
			char want[16];
			snprintf(want, sizeof(want), "TYPE%u", v);
			assert_string_equal(s, want);
		}
		s = rrclass_to_text((uint16_t)v, buf);
		if (cl(s) != (int)v)
			fail_msg("class %u printed as %s parses to %d", v, s, cl(s));
	}
}

static void numeric_forms(void **st)
{
	(void)st;
	assert_int_equal(ty("TYPE1"), 1);
	assert_int_equal(ty("type65535"), 65535);
	assert_int_equal(ty("TYPE0"), 0);
	assert_int_equal(ty("TYPE00001"), 1);
	assert_int_equal(ty("TYPE65536"), DNS_ETYPE);
	assert_int_equal(ty("TYPE999999"), DNS_ETYPE);
	assert_int_equal(ty("TYPE"), DNS_ETYPE);
	assert_int_equal(ty("TYPE1x"), DNS_ETYPE);
	assert_int_equal(ty("TYPE-1"), DNS_ETYPE);
	assert_int_equal(ty(""), DNS_ETYPE);
	assert_int_equal(ty("AA"), DNS_ETYPE);
	assert_int_equal(ty("AAAAA"), DNS_ETYPE);
	assert_int_equal(ty("A "), DNS_ETYPE);
	assert_int_equal(ty("VERYLONGMNEMONICNAME"), DNS_ETYPE);
	assert_int_equal(rrtype_from_text("AAAA", 1), 1); /* length honoured */
	char buf[16];
	assert_string_equal(rrtype_to_text(65534, buf), "TYPE65534");
	assert_string_equal(rrtype_to_text(0, buf), "TYPE0");
}

static void classes(void **st)
{
	(void)st;
	char buf[16];
	assert_int_equal(cl("IN"), 1);
	assert_int_equal(cl("in"), 1);
	assert_int_equal(cl("CH"), 3);
	assert_int_equal(cl("CHAOS"), 3);
	assert_int_equal(cl("HS"), 4);
	assert_int_equal(cl("HESIOD"), 4);
	assert_int_equal(cl("NONE"), 254);
	assert_int_equal(cl("ANY"), 255);
	assert_int_equal(cl("CLASS1"), 1);
	assert_int_equal(cl("class65535"), 65535);
	assert_int_equal(cl("CLASS65536"), DNS_ETYPE);
	assert_int_equal(cl("CLASS"), DNS_ETYPE);
	assert_int_equal(cl("TYPE1"), DNS_ETYPE);
	assert_int_equal(cl("A"), DNS_ETYPE);
	assert_string_equal(rrclass_to_text(1, buf), "IN");
	assert_string_equal(rrclass_to_text(3, buf), "CH");
	assert_string_equal(rrclass_to_text(42, buf), "CLASS42");
}

static void meta(void **st)
{
	(void)st;
	static const uint16_t m[] = {41, 128, 249, 250, 251, 252, 253, 254, 255};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		assert_true(rrtype_is_meta(m[i]));
	static const uint16_t d[] = {0, 1, 2, 6, 46, 47, 64, 65, 127, 256, 257, 32768, 65535};
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++)
		assert_false(rrtype_is_meta(d[i]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(known_types),
		cmocka_unit_test(all_values_roundtrip),
		cmocka_unit_test(numeric_forms),
		cmocka_unit_test(classes),
		cmocka_unit_test(meta),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
