/* test_secrand — the buffered getrandom pool: coverage, distribution,
 * refills, per-thread pools. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>

#include "resolve/secrand.h"

static void test_bytes(void **state)
{
	(void)state;
	uint8_t a[3000], b[3000]; /* spans several refills */
	secrand_bytes(a, sizeof(a));
	secrand_bytes(b, sizeof(b));
	assert_memory_not_equal(a, b, sizeof(a));
	unsigned hist[256] = { 0 };
	for (size_t i = 0; i < sizeof(a); i++)
		hist[a[i]]++;
	unsigned seen = 0;
	for (int i = 0; i < 256; i++)
		seen += hist[i] > 0;
	assert_true(seen > 240); /* 3000 draws cover nearly every value */
	secrand_bytes(a, 0);
}

static void test_u16_below(void **state)
{
	(void)state;
	unsigned buckets[10] = { 0 };
	for (int i = 0; i < 20000; i++) {
		uint32_t v = secrand_below(10);
		assert_true(v < 10);
		buckets[v]++;
	}
	for (int i = 0; i < 10; i++)
		assert_true(buckets[i] > 1600 && buckets[i] < 2400);
	assert_int_equal(secrand_below(1), 0);
	unsigned hi = 0;
	for (int i = 0; i < 1000; i++)
		hi += secrand_u16() >= 0x8000;
	assert_true(hi > 400 && hi < 600);
}

static void *other(void *arg)
{
	secrand_bytes(arg, 64);
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	uint8_t mine[64], theirs[64];
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, other, theirs), 0);
	secrand_bytes(mine, sizeof(mine));
	pthread_join(th, NULL);
	assert_memory_not_equal(mine, theirs, sizeof(mine));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_u16_below),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
