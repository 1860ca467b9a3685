/* Unit tests for src/util/sha1: FIPS 180 vectors. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "util/sha1.h"

static void hex(const uint8_t *d, char *out)
{
	for (int i = 0; i < 20; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void digest_of(const char *s, size_t reps, char *out)
{
	sha1_ctx c;
	uint8_t d[20];
	sha1_init(&c);
	for (size_t i = 0; i < reps; i++)
		sha1_update(&c, s, strlen(s));
	sha1_final(&c, d);
	hex(d, out);
}

static void vectors(void **st)
{
	(void)st;
	char h[41];
	digest_of("abc", 1, h);
	assert_string_equal(h, "a9993e364706816aba3e25717850c26c9cd0d89d");
	digest_of("", 1, h);
	assert_string_equal(h, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	digest_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1, h);
	assert_string_equal(h, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
	digest_of("a", 1000000, h);
	assert_string_equal(h, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

static void split_updates_match(void **st)
{
	(void)st;
	const char *msg = "The quick brown fox jumps over the lazy dog, sixty-four bytes and then some more";
	uint8_t a[20], b[20];
	sha1_ctx c;
	sha1_init(&c);
	sha1_update(&c, msg, strlen(msg));
	sha1_final(&c, a);
	for (size_t cut = 0; cut <= strlen(msg); cut++) {
		sha1_init(&c);
		sha1_update(&c, msg, cut);
		sha1_update(&c, msg + cut, strlen(msg) - cut);
		sha1_final(&c, b);
		assert_memory_equal(a, b, 20);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vectors),
		cmocka_unit_test(split_updates_match),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
