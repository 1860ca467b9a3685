/* test_pool — pool loading, per-injector cycling order, name subsets. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns/err.h"
#include "inject/pool.h"
#include "testutil.h"

static void test_load_and_cycle(void **state)
{
	(void)state;
	struct pool p;
	pool_init(&p);
	char path[64], err[256];
	assert_non_null(tu_tempfile("# pool\n1.1.1.1\n\n2.2.2.2  # second\n3.3.3.3\n", path, sizeof(path)));
	assert_int_equal(pool_load(&p, path, err, sizeof(err)), 3);
	unlink(path);
	assert_int_equal(p.family, AF_INET);
	assert_int_equal(pool_addr_len(&p), 4);
	struct pool_cursor a = {0}, b = {0};
	/* each cursor walks the pool in file order, independently */
	static const int want[] = {1, 2, 3, 1, 2};
	for (int i = 0; i < 5; i++)
		assert_int_equal(pool_next(&p, &a, "x", 1, 0)[0], want[i]);
	assert_int_equal(pool_next(&p, &b, "x", 1, 0)[0], 1);
	assert_int_equal(pool_next(&p, &a, "x", 1, 0)[0], 3);
	assert_int_equal(pool_add_text(&p, "2001::1"), DNS_ESYNTAX); /* other family */
	assert_int_equal(pool_add_text(&p, "nope"), DNS_ESYNTAX);
	pool_free(&p);

	assert_non_null(tu_tempfile("2001::d155:9f89\n1.2.3.4\n", path, sizeof(path)));
	assert_true(pool_load(&p, path, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, ":2: "));
	unlink(path);
	assert_int_equal(p.family, AF_INET6);
	assert_int_equal(pool_addr_len(&p), 16);
	pool_free(&p);
	assert_int_equal(pool_load(&p, "/nonexistent", err, sizeof(err)), DNS_EIO);
}

static void test_subset(void **state)
{
	(void)state;
	struct pool p;
	pool_init(&p);
	char t[32];
	for (int i = 0; i < 100; i++) {
		snprintf(t, sizeof(t), "10.0.0.%d", i);
		assert_int_equal(pool_add_text(&p, t), 0);
	}
	struct pool_cursor c1 = {0}, c2 = {0};
	size_t s1[8], s2[8];
	for (int i = 0; i < 8; i++) {
		s1[i] = pool_next_index(&p, &c1, "www.Facebook.com", 16, 4);
		s2[i] = pool_next_index(&p, &c2, "WWW.facebook.COM", 16, 4);
	}
	/* deterministic (case-insensitive), cycles through k distinct members */
	assert_memory_equal(s1, s2, sizeof(s1));
	for (int i = 0; i < 4; i++) {
		assert_int_equal(s1[i], s1[i + 4]);
		for (int j = 0; j < i; j++)
			assert_int_not_equal(s1[i], s1[j]);
	}
	/* another name draws another subset (for these two names) */
	struct pool_cursor c3 = {0};
	size_t o = pool_next_index(&p, &c3, "twitter.com", 11, 4);
	assert_int_not_equal(o, s1[0]);
	/* k >= N: the whole pool in order */
	struct pool_cursor c4 = {0};
	for (size_t i = 0; i < 100; i++)
		assert_int_equal(pool_next_index(&p, &c4, "a", 1, 1000), i);
	pool_free(&p);
}

static void test_real_pool(void **state)
{
	(void)state;
	const char *d = getenv("ANTIDOTE_DATA");
	char path[512], err[256];
	snprintf(path, sizeof(path), "%s/gfw-injector3-pool-a.txt", d ? d : "../shared/data");
	if (access(path, R_OK)) {
		print_message("SKIP: %s absent (set ANTIDOTE_DATA)\n", path);
		skip();
	}
	struct pool p;
	pool_init(&p);
	assert_int_equal(pool_load(&p, path, err, sizeof(err)), 592);
	struct pool_cursor c = {0};
	const uint8_t *a = pool_next(&p, &c, "x", 1, 0);
	static const uint8_t first[4] = {208, 77, 47, 172};
	assert_memory_equal(a, first, 4);
	for (int i = 1; i < 592; i++)
		pool_next(&p, &c, "x", 1, 0);
	assert_memory_equal(pool_next(&p, &c, "x", 1, 0), first, 4); /* wrapped */
	pool_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_and_cycle),
		cmocka_unit_test(test_subset),
		cmocka_unit_test(test_real_pool),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
