/* Unit tests for src/util/arena. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "util/arena.h"

static void aligned_and_distinct(void **st)
{
	(void)st;
	arena a;
	arena_init(&a);
	char *prev = NULL;
	for (int i = 1; i < 5000; i++) {
		char *p = arena_alloc(&a, (size_t)(i % 97) + 1);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % 8, 0);
		memset(p, i & 0xff, (size_t)(i % 97) + 1);
		assert_ptr_not_equal(p, prev);
		prev = p;
	}
	arena_free(&a);
	assert_null(a.head);
	assert_int_equal(a.total, 0);
}

static void big_allocations_keep_the_block(void **st)
{
	(void)st;
	arena a;
	arena_init(&a);
	char *small1 = arena_dup(&a, "hello", 6);
	char *big = arena_alloc(&a, 3u << 20);
	assert_non_null(big);
	memset(big, 'x', 3u << 20);
	char *small2 = arena_dup(&a, "world", 6);
	/* The small ones share the first block; the big one got its own. */
	assert_int_equal(small2 - small1, 8);
	assert_string_equal(small1, "hello");
	assert_string_equal(small2, "world");
	assert_true(a.total >= (4u << 20));
	arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(aligned_and_distinct),
		cmocka_unit_test(big_allocations_keep_the_block),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
