/* test_zipf — Zipf sampler: distribution, edge cases, determinism. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include "dns/err.h"
#include "lab/zipf.h"

static void test_bad_args(void **state)
{
	(void)state;
	struct zipf z;
	assert_int_equal(zipf_init(&z, 0, 1.0), DNS_EINVAL);
	assert_int_equal(zipf_init(&z, 10, -1.0), DNS_EINVAL);
	assert_int_equal(zipf_init(&z, 10, NAN), DNS_EINVAL);
	zipf_free(&z); /* harmless after a failed init */
}

static void test_one_item(void **state)
{
	(void)state;
	struct zipf z;
	assert_int_equal(zipf_init(&z, 1, 1.0), 0);
	assert_int_equal(zipf_rank(&z, 0.0), 0);
	assert_int_equal(zipf_rank(&z, 0.999999), 0);
	assert_true(fabs(zipf_prob(&z, 0) - 1.0) < 1e-12);
	assert_true(zipf_prob(&z, 1) == 0);
	zipf_free(&z);
}

static void test_probabilities(void **state)
{
	(void)state;
	struct zipf z;
	assert_int_equal(zipf_init(&z, 4, 1.0), 0);
	/* 1, 1/2, 1/3, 1/4 over H4 = 25/12 */
	double h = 25.0 / 12;
	assert_true(fabs(zipf_prob(&z, 0) - 1 / h) < 1e-12);
	assert_true(fabs(zipf_prob(&z, 1) - 0.5 / h) < 1e-12);
	assert_true(fabs(zipf_prob(&z, 3) - 0.25 / h) < 1e-12);
	/* rank boundaries: cdf[0] = 12/25 = 0.48 */
	assert_int_equal(zipf_rank(&z, 0.0), 0);
	assert_int_equal(zipf_rank(&z, 0.4799), 0);
	assert_int_equal(zipf_rank(&z, 0.4801), 1);
	assert_int_equal(zipf_rank(&z, 0.99999), 3);
	zipf_free(&z);
	/* s = 0 is uniform */
	assert_int_equal(zipf_init(&z, 5, 0.0), 0);
	for (unsigned k = 0; k < 5; k++)
		assert_true(fabs(zipf_prob(&z, k) - 0.2) < 1e-12);
	zipf_free(&z);
}

static void test_sampling(void **state)
{
	(void)state;
	struct zipf z;
	assert_int_equal(zipf_init(&z, 1000, 1.0), 0);
	struct rng r;
	rng_seed(&r, 42);
	static unsigned hits[1000];
	const unsigned N = 200000;
	for (unsigned i = 0; i < N; i++) {
		unsigned k = zipf_draw(&z, &r);
		assert_true(k < 1000);
		hits[k]++;
	}
	/* observed frequencies of the top ranks within 5% of expected */
	for (unsigned k = 0; k < 5; k++) {
		double want = zipf_prob(&z, k) * N, got = hits[k];
		assert_true(fabs(got - want) / want < 0.05);
	}
	/* rank 0 is about twice rank 1 */
	assert_true(hits[0] > hits[1] * 1.8 && hits[0] < hits[1] * 2.2);
	/* same seed, same sequence */
	struct rng a, b;
	rng_seed(&a, 7);
	rng_seed(&b, 7);
	for (int i = 0; i < 100; i++)
		assert_int_equal(zipf_draw(&z, &a), zipf_draw(&z, &b));
	zipf_free(&z);
}

static void test_rng(void **state)
{
	(void)state;
	struct rng r;
	rng_seed(&r, 1);
	for (int i = 0; i < 10000; i++) {
		double u = rng_unit(&r);
		assert_true(u >= 0 && u < 1);
		assert_true(rng_below(&r, 3) < 3);
	}
	struct rng a, b;
	rng_seed(&a, 1);
	rng_seed(&b, 2);
	assert_true(rng_next(&a) != rng_next(&b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_args),   cmocka_unit_test(test_one_item), cmocka_unit_test(test_probabilities),
		cmocka_unit_test(test_sampling),   cmocka_unit_test(test_rng),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
