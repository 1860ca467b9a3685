/* test_rulekind — variant names, the nine kind patterns (checked against the
 * injector's own rule matcher), classification with noise, notation. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "dns/err.h"
#include "inject/rules.h"
#include "probe/rulekind.h"

static void test_variants(void **state)
{
	(void)state;
	char b[64];
	const char *want[RK_NVAR] = {"fb.com", "www.fb.com", "xfb.com", "fb.com.x", "fb.comx",
				     "www.fb.com.x", "xfb.com.x", "xfb.comx", "www.fb.comx"};
	for (unsigned v = 0; v < RK_NVAR; v++) {
		assert_true(rulekind_variant("fb.com", v, b, sizeof(b)) > 0);
		assert_string_equal(b, want[v]);
	}
	assert_int_equal(rulekind_variant("fb.com", RK_NVAR, b, sizeof(b)), DNS_EINVAL);
	assert_int_equal(rulekind_variant("", 0, b, sizeof(b)), DNS_EINVAL);
	assert_int_equal(rulekind_variant("fb.com", 5, b, 8), DNS_ESPACE);
}

static void test_patterns_distinct(void **state)
{
	(void)state;
	for (int a = 0; a < RK_NKINDS; a++) {
		assert_true(rulekind_pattern((enum rk_kind)a) != 0);
		for (int b = a + 1; b < RK_NKINDS; b++) {
			uint16_t d = rulekind_pattern((enum rk_kind)a) ^ rulekind_pattern((enum rk_kind)b);
			assert_true(__builtin_popcount(d) >= 1);
		}
	}
	assert_int_equal(rulekind_pattern(RK_EXACT), 1);
	assert_int_equal(rulekind_pattern(RK_SUBSTR), (1 << RK_NVAR) - 1);
}

/* the matcher agrees with the injector's rules module, kind by kind */
static void test_against_injector(void **state)
{
	(void)state;
	static const enum rule_kind map[RK_NKINDS] = {RULE_EXACT, RULE_BASE_DOT, RULE_PREFIX, RULE_DOMAIN, RULE_SUFFIX,
						      RULE_DOMAIN_DOT, RULE_DOMAIN_PREFIX, RULE_SUFFIX_DOT, RULE_SUBSTR};
	const char *bases[] = {"facebook.com", "a.b", "69.mu"};
	const char *extra[] = {"facebook.com.facebook.com", "afacebook.comb", "www.facebook.co", "facebook.co",
			       "x.a.b.y", "69.mu.69.mu", "69.mux"};
	for (int k = 0; k < RK_NKINDS; k++) {
		for (size_t bi = 0; bi < 3; bi++) {
			struct rules *r = rules_new();
			assert_true(rules_add(r, map[k], bases[bi], false) >= 0);
			assert_int_equal(rules_build(r), 0);
			char v[128];
			for (unsigned i = 0; i < RK_NVAR; i++) {
				assert_true(rulekind_variant(bases[bi], i, v, sizeof(v)) > 0);
				assert_int_equal(rulekind_matches((enum rk_kind)k, bases[bi], v),
						 rules_match(r, v, strlen(v)) >= 0);
			}
			for (size_t e = 0; e < sizeof(extra) / sizeof(extra[0]); e++)
				assert_int_equal(rulekind_matches((enum rk_kind)k, bases[bi], extra[e]),
						 rules_match(r, extra[e], strlen(extra[e])) >= 0);
			rules_free(r);
		}
	}
}

static void test_classify(void **state)
{
	(void)state;
	uint16_t all = (1 << RK_NVAR) - 1;
	int d;
	for (int k = 0; k < RK_NKINDS; k++) {
		assert_int_equal(rulekind_classify(rulekind_pattern((enum rk_kind)k), all, &d), k);
		assert_int_equal(d, 0);
	}
	assert_int_equal(rulekind_classify(0, all, &d), RK_UNBLOCKED);
	assert_int_equal(rulekind_classify(0, 0, &d), RK_UNKNOWN);
	/* *.base with variant 8 (www.basex) lost: known mask hides it */
	assert_int_equal(rulekind_classify(rulekind_pattern(RK_DOMAIN), all & ~(1 << 8), &d), RK_DOMAIN);
	/* *.base* seen with one variant missing (a lost reply): nearest is still it */
	uint16_t dp = rulekind_pattern(RK_DOMAIN_PREFIX) & ~(1 << 8);
	assert_int_equal(rulekind_classify(dp, all, &d), RK_DOMAIN_PREFIX);
	assert_int_equal(d, 1);
}

static void test_format(void **state)
{
	(void)state;
	char b[64];
	assert_true(rulekind_format(RK_DOMAIN, "fb.com", b, sizeof(b)) > 0);
	assert_string_equal(b, "*.fb.com");
	assert_true(rulekind_format(RK_EXACT, "fb.com", b, sizeof(b)) > 0);
	assert_string_equal(b, "fb.com");
	assert_true(rulekind_format(RK_SUFFIX_DOT, "fb.com", b, sizeof(b)) > 0);
	assert_string_equal(b, "*fb.com.*");
	assert_true(rulekind_format(RK_UNBLOCKED, "fb.com", b, sizeof(b)) > 0);
	assert_string_equal(b, "unblocked");
	assert_int_equal(rulekind_format(RK_SUBSTR, "facebook.com", b, 8), DNS_ESPACE);
	assert_string_equal(rulekind_name(RK_BASE_DOT), "base.*");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_variants),    cmocka_unit_test(test_patterns_distinct),
		cmocka_unit_test(test_against_injector), cmocka_unit_test(test_classify),
		cmocka_unit_test(test_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
