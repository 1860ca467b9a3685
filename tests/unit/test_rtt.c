/* test_rtt — RFC 6298 estimator, RTO clamping and back-off. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "resolve/rtt.h"

static const rtt_limits L = { .init_us = 500000, .min_us = 20000, .max_us = 2000000, .gran_us = 1000 };

static void test_first_and_later(void **state)
{
	(void)state;
	rtt r;
	rtt_init(&r);
	assert_false(rtt_known(&r));
	assert_int_equal(rtt_rto(&r, &L), 500000);
	rtt_sample(&r, 100000);
	assert_true(rtt_known(&r));
	assert_int_equal(r.srtt_us, 100000);
	assert_int_equal(r.rttvar_us, 50000);
	assert_int_equal(rtt_rto(&r, &L), 300000);
	rtt_sample(&r, 20000); /* |100000-20000| = 80000 */
	assert_int_equal(r.rttvar_us, (50000 * 3 + 80000) / 4);
	assert_int_equal(r.srtt_us, (100000 * 7 + 20000) / 8);
	for (int i = 0; i < 200; i++)
		rtt_sample(&r, 1000);
	assert_true(r.srtt_us < 1100);
	assert_int_equal(rtt_rto(&r, &L), 20000); /* clamped to min */
	rtt_sample(&r, 0); /* counted as 1 µs, never "unknown" */
	assert_true(r.srtt_us > 0);
}

static void test_backoff(void **state)
{
	(void)state;
	rtt r;
	rtt_init(&r);
	rtt_timeout(&r);
	assert_int_equal(rtt_rto(&r, &L), 1000000);
	rtt_timeout(&r);
	assert_int_equal(rtt_rto(&r, &L), 2000000);
	for (int i = 0; i < 40; i++)
		rtt_timeout(&r);
	assert_int_equal(rtt_rto(&r, &L), 2000000); /* capped, no overflow */
	rtt_sample(&r, 40000);
	assert_int_equal(r.backoff, 0);
	assert_int_equal(rtt_rto(&r, &L), 40000 + 4 * 20000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_and_later),
		cmocka_unit_test(test_backoff),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
