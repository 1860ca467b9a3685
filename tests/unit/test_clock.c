/* test_clock — the monotonic clock advances by about the time slept. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "util/clock.h"

static void test_sleep_and_clock(void **st)
{
	(void)st;
	double t0 = clock_mono_s();
	assert_true(t0 > 0);
	clock_sleep_ms(30);
	double dt = clock_mono_s() - t0;
	assert_true(dt >= 0.029);
	assert_true(dt < 5); /* generous: a loaded machine may be slow */
	t0 = clock_mono_s();
	clock_sleep_ms(0);
	clock_sleep_ms(-5);
	assert_true(clock_mono_s() - t0 < 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sleep_and_clock),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
