/* test_qname — the injector's name reader and reply builder against
 * INJECTORS.md case by case, and the 130 Wallbleed vectors. */
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

static void test_min_len_and_qr(void **state)
{
	(void)state;
	struct qname_view v;
	uint8_t p[512];
	size_t n;
	assert_int_equal(read_hex("0000012000010000000000", QNAME_UNPATCHED, &v, p, &n), DNS_ETRUNC);
	/* QR=1 ignored */
	assert_int_equal(read_hex("000081000001000000000000023639026d750000010001", QNAME_UNPATCHED, &v, p, &n),
			 DNS_EFORMAT);
	/* exactly 12 bytes: parsed (name from filler) */
	assert_int_equal(read_hex("000001000001000000000000", QNAME_UNPATCHED, &v, p, &n), 0);
}

static void test_counts_ignored(void **state)
{
	(void)state;
	struct qname_view v;
	uint8_t p[512];
	size_t n;
	assert_int_equal(read_hex("1234010000000000ffff0000023639026d750000010001", QNAME_FIXED, &v, p, &n), 0);
	assert_string_equal(v.name, "69.mu");
	assert_int_equal(v.txid, 0x1234);
	assert_true(v.rd);
	assert_int_equal(v.qtype, 1);
	assert_int_equal(v.qclass, 1);
	assert_int_equal(v.stop, QSTOP_ZERO);
	assert_int_equal(v.copy_len, n);
}

static void test_dot_in_label(void **state)
{
	(void)state;
	struct qname_view v;
	uint8_t p[512];
	size_t n;
	/* one label "rsf.org" reads as rsf.org */
	assert_int_equal(read_hex("333301000001000000000000077273662e6f72670000010001", QNAME_FIXED, &v, p, &n), 0);
	assert_string_equal(v.name, "rsf.org");
	/* "www" + "google.com" (one label) */
	assert_int_equal(read_hex("123401000001000000000000037777770a676f6f676c652e636f6d0000010001", QNAME_FIXED,
				  &v, p, &n), 0);
	assert_string_equal(v.name, "www.google.com");
}

static void test_nul_in_label(void **state)
{
	(void)state;
	struct qname_view v;
	uint8_t p[512];
	size_t n;
	/* label "com\0" then a real label: the name ends at the NUL */
	assert_int_equal(read_hex("0000010000010000000000000866616365626f6f6b04636f6d00037777770000010001",
				  QNAME_FIXED, &v, p, &n), 0);
	assert_string_equal(v.name, "facebook.com");
	assert_int_equal(v.name_len, 12);
	assert_int_equal(v.stop, QSTOP_ZERO);
}

static void test_pointer_not_followed(void **state)
{
	(void)state;
	struct qname_view v;
	uint8_t p[512];
	size_t n;
	struct rules *r = rules_new();
	assert_true(rules_add(r, RULE_DOMAIN, "facebook.com", false) >= 0);
	assert_int_equal(rules_build(r), 0);
	/* www + a pointer (c0 16) to the "facebook.com" placed after the
	 * question (offset 22): a DNS parser reads www.facebook.com */
	const char *q = "00000100000100000000000003777777c016000100010866616365626f6f6b03636f6d00";
	for (int rg = QNAME_UNPATCHED; rg <= QNAME_FIXED; rg++) {
		assert_int_equal(read_hex(q, (enum qname_regime)rg, &v, p, &n), 0);
		assert_int_equal(rules_match(r, v.name, v.name_len), -1);
	}
	/* ...while a server that follows forward pointers (ChinaDNS -m relied on
	 * them) reads www + the name at offset 22: facebook.com */
	assert_int_equal(n, 36);
	assert_int_equal(p[16], 0xc0);
	assert_int_equal(p[17], 22);
	assert_memory_equal(p + 22, "\x08" "facebook" "\x03" "com" "\x00", 14);
	/* a name ending in c0 0c: 0xc0 is read as a 192-byte label */
	assert_int_equal(read_hex("000001000001000000000000037777770866616365626f6f6bc00c00010001", QNAME_UNPATCHED,
				  &v, p, &n), 0);
	assert_int_equal(v.stop, QSTOP_FULL);
	assert_int_equal(rules_match(r, v.name, v.name_len), -1);
	rules_free(r);
}

static void test_unterminated_matched(void **state)
{
	(void)state;
	struct qname_view v;
	uint8_t p[512];
	size_t n;
	/* facebook.com with no zero label, packet ends */
	assert_int_equal(read_hex("0000012000010000000000000866616365626f6f6b03636f6d", QNAME_UNPATCHED, &v, p, &n),
			 0);
	assert_string_equal(v.name, "facebook.com");
	assert_int_equal(v.stop, QSTOP_END);
	struct qmem m;
	qmem_init(&m, p, n);
	assert_true(qname_answerable(&m, QNAME_UNPATCHED, &v));
	/* today's regime refuses to read past the datagram */
	assert_int_equal(read_hex("0000012000010000000000000866616365626f6f6b03636f6d", QNAME_FIXED, &v, p, &n), 0);
	assert_string_equal(v.name, "facebook.com");
	assert_false(qname_answerable(&m, QNAME_FIXED, &v));
}

static void test_name_limit(void **state)
{
	(void)state;
	struct qname_view v;
	uint8_t p[600];
	/* 3 labels of 63: 191 chars flattened, cut at 125 */
	uint8_t q[256];
	size_t n = 0;
	memcpy(q, "\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 12);
	n = 12;
	for (int l = 0; l < 3; l++) {
		q[n++] = 63;
		memset(q + n, 'a', 63);
		n += 63;
	}
	q[n++] = 0;
	memcpy(q + n, "\x00\x01\x00\x01", 4);
	n += 4;
	memcpy(p, q, n);
	struct qmem m;
	qmem_init(&m, p, n);
	for (int rg = QNAME_UNPATCHED; rg <= QNAME_FIXED; rg++) {
		assert_int_equal(qname_read(&m, (enum qname_regime)rg, &v), 0);
		assert_true(v.name_len <= QNAME_MAX);
		assert_int_equal(v.stop, QSTOP_FULL);
	}
	assert_false(qname_answerable(&m, QNAME_FIXED, &v));
}

static void test_qclass_by_regime(void **state)
{
	(void)state;
	struct qname_view v;
	uint8_t p[512];
	size_t n;
	struct qmem m;
	/* 69.mu class CH */
	assert_int_equal(read_hex("000001000001000000000000023639026d750000010003", QNAME_UNPATCHED, &v, p, &n), 0);
	qmem_init(&m, p, n);
	assert_true(qname_answerable(&m, QNAME_UNPATCHED, &v));
	assert_false(qname_answerable(&m, QNAME_PATCHED, &v));
	assert_false(qname_answerable(&m, QNAME_FIXED, &v));
	assert_int_equal(read_hex("000001000001000000000000023639026d750000010001", QNAME_FIXED, &v, p, &n), 0);
	qmem_init(&m, p, n);
	assert_true(qname_answerable(&m, QNAME_FIXED, &v));
	assert_int_equal(qname_regime_parse("patched", &(enum qname_regime){0}), 0);
	assert_int_equal(qname_regime_parse("bogus", &(enum qname_regime){0}), DNS_ESYNTAX);
}

/* ---- the Wallbleed vectors ---- */

static const char *data_dir(void)
{
	const char *d = getenv("ANTIDOTE_DATA");
	return d ? d : "../shared/data";
}

static bool match_expect(const uint8_t *got, size_t glen, const uint8_t *exp, size_t elen)
{
	if (glen != elen)
		return false;
	for (size_t i = 0; i < elen; i++)
		if (got[i] != exp[i])
			return false;
	return true;
}

static void test_wallbleed_vectors(void **state)
{
	(void)state;
	char path[512];
	snprintf(path, sizeof(path), "%s/wallbleed-injector-vectors.txt", data_dir());
	FILE *f = fopen(path, "r");
	if (!f) {
		print_message("SKIP: %s absent (set ANTIDOTE_DATA)\n", path);
		skip();
	}
	struct rules *r = rules_new();
	static const char *const bl[] = {"69\\.mu", "(^|\\.)facebook\\.com$", "(^|\\.)rsf\\.org$", "(^|\\.)3\\.tt$",
					 "(^|\\.)4\\.tt$", "(^|\\.)google\\.com$", "^shadowvpn\\.com"};
	for (size_t i = 0; i < sizeof(bl) / sizeof(bl[0]); i++)
		assert_true(rules_add(r, RULE_REGEX, bl[i], false) >= 0);
	assert_int_equal(rules_build(r), 0);

	char line[4096], regime[32], qhex[1024], ehex[2048];
	unsigned udp_len, digest;
	int cases = 0, failed = 0, per[2] = {0, 0};
	static const uint8_t a4[4] = {'4', '4', '4', '4'};
	static const uint8_t a6[16] = "6666666666666666";
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%31s query=%1023s udp_len=%u digest=%u expect=%2047s", regime, qhex, &udp_len,
			   &digest, ehex) != 5)
			fail_msg("bad vector line: %s", line);
		enum qname_regime rg;
		assert_int_equal(qname_regime_parse(regime, &rg), 0);
		uint8_t q[512], exp[1024], out[FORGE_MAX];
		struct qmem m;
		m.pkt = q;
		m.pkt_len = unhex(qhex, q, sizeof(q));
		m.udp_len = udp_len;
		qmem_model_default(&m.model);
		m.model.digest = digest;
		struct qname_view v;
		int glen = -1;
		if (!qname_read(&m, rg, &v) && rules_match(r, v.name, v.name_len) >= 0 &&
		    qname_answerable(&m, rg, &v))
			glen = forge_build(out, sizeof(out), &m, &v, FORGE_FLAGS_BY_RD, 0, 0x54545454,
					   forge_answer_type(v.qtype) == 28 ? a6 : a4);
		bool ok;
		if (!strcmp(ehex, "-"))
			ok = glen < 0;
		else
			ok = glen > 0 && match_expect(out, (size_t)glen, exp, unhex(ehex, exp, sizeof(exp)));
		if (!ok) {
			failed++;
			print_message("vector %d (%s) failed: name '%s' got len %d\n", cases + 1, regime, v.name, glen);
		}
		per[rg == QNAME_PATCHED]++;
		cases++;
	}
	fclose(f);
	rules_free(r);
	assert_int_equal(failed, 0);
	assert_int_equal(cases, 130);
	assert_int_equal(per[0], 63);
	assert_int_equal(per[1], 67);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_min_len_and_qr),
		cmocka_unit_test(test_counts_ignored),
		cmocka_unit_test(test_dot_in_label),
		cmocka_unit_test(test_nul_in_label),
		cmocka_unit_test(test_pointer_not_followed),
		cmocka_unit_test(test_unterminated_matched),
		cmocka_unit_test(test_name_limit),
		cmocka_unit_test(test_qclass_by_regime),
		cmocka_unit_test(test_wallbleed_vectors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
