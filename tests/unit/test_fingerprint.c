/* test_fingerprint — injectors told apart by flags, IP TTL and TTL band;
 * pools; the cluster limit. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "probe/fingerprint.h"

static struct probe_reply mk(uint16_t flags, uint8_t ipttl, uint32_t ttl, uint8_t last)
{
	struct probe_reply r;
	memset(&r, 0, sizeof(r));
	r.flags = flags;
	r.ip_ttl = ipttl;
	r.ttl = ttl;
	r.an = 1;
	r.naddr = 1;
	r.addr[0].family = 4;
	r.addr[0].a[0] = 31;
	r.addr[0].a[3] = last;
	return r;
}

static void test_triplet(void **state)
{
	(void)state;
	struct fp_table t;
	fp_init(&t);
	for (int i = 0; i < 200; i++) {
		struct probe_reply a = mk(0x8180, 64, 2985 + (uint32_t)(i % 38), (uint8_t)(i % 16));
		struct probe_reply b = mk(0x8400, 53, i % 2 ? 250 : 68, (uint8_t)(i % 100));
		struct probe_reply c = mk(0x8400, 169, 234, (uint8_t)(i % 4));
		assert_int_equal(fp_add(&t, &a), 1);
		assert_int_equal(fp_add(&t, &b), 2);
		assert_int_equal(fp_add(&t, &c), 3);
		fp_note_query(&t, 7);
	}
	assert_int_equal(t.n, 3);
	assert_int_equal(t.c[0].nset, 16);
	assert_int_equal(t.c[1].nset, 100);
	assert_int_equal(t.c[2].nset, 4);
	assert_int_equal(t.c[1].ttl_min, 68);
	assert_int_equal(t.c[1].ttl_max, 250);
	assert_int_equal(t.c[0].queries, 200);
	/* a far TTL band with the same key is another injector */
	struct probe_reply d = mk(0x8400, 53, 30000, 1);
	assert_int_equal(fp_add(&t, &d), 4);
	struct probe_addr pool[128];
	size_t n = fp_pool(&t, 2, pool, 128);
	assert_int_equal(n, 100);
	for (size_t i = 1; i < n; i++)
		assert_true(memcmp(pool[i - 1].a, pool[i].a, 16) < 0);
	assert_true(fp_has(&t, 3, &pool[0]));
	assert_false(fp_has(&t, 3, &pool[99]));
	assert_int_equal(fp_pool(&t, 9, pool, 128), 0);
	fp_free(&t);
}

static void test_limit(void **state)
{
	(void)state;
	struct fp_table t;
	fp_init(&t);
	for (int i = 0; i < FP_MAX; i++) {
		struct probe_reply r = mk(0x8400, (uint8_t)(i + 1), 100, 1);
		assert_int_equal(fp_add(&t, &r), i + 1);
	}
	struct probe_reply r = mk(0x8400, 0, 100, 1);
	assert_int_equal(fp_add(&t, &r), 0);
	char b[64];
	struct probe_addr v6 = {.family = 6, .a = {0x20, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xd1, 0x55, 0x9f, 0x89}};
	assert_string_equal(fp_addr_str(&v6, b, sizeof(b)), "2001::d155:9f89");
	fp_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_triplet), cmocka_unit_test(test_limit)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
