/* Unit tests for src/dns/base: RFC 4648 test vectors, streaming decode
 * across arbitrary splits, and rejection of malformed input. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "dns/base.h"
#include "dns/err.h"

/* RFC 4648 §10 vectors: "", "f", "fo", ... "foobar". */
static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
static const char *const b64[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
static const char *const b32h[] = {"", "CO", "CPNG", "CPNMU", "CPNMUOG", "CPNMUOJ1", "CPNMUOJ1E8"};
static const char *const hex[] = {"", "66", "666F", "666F6F", "666F6F62", "666F6F6261", "666F6F626172"};

static void vectors(void **st)
{
	(void)st;
	char out[64];
	uint8_t bin[64];
	for (int i = 0; i < 7; i++) {
		const uint8_t *p = (const uint8_t *)plain[i];
		size_t n = strlen(plain[i]);
		assert_int_equal(base_b64_enc(p, n, out), strlen(b64[i]));
		assert_string_equal(out, b64[i]);
		assert_int_equal(base_b64_enclen(n), strlen(b64[i]));
		assert_int_equal(base_b32hex_enc(p, n, out), strlen(b32h[i]));
		assert_string_equal(out, b32h[i]);
		assert_int_equal(base_b32hex_enclen(n), strlen(b32h[i]));
		assert_int_equal(base_hex_enc(p, n, out), strlen(hex[i]));
		assert_string_equal(out, hex[i]);

		assert_int_equal(base_b64_dec(b64[i], strlen(b64[i]), bin, sizeof(bin)), (int)n);
		assert_memory_equal(bin, p, n);
		assert_int_equal(base_b32hex_dec(b32h[i], strlen(b32h[i]), bin, sizeof(bin)), (int)n);
		assert_memory_equal(bin, p, n);
		assert_int_equal(base_hex_dec(hex[i], strlen(hex[i]), bin, sizeof(bin)), (int)n);
		assert_memory_equal(bin, p, n);
	}
	/* case-insensitive hex and base32hex */
	assert_int_equal(base_hex_dec("aBcD", 4, bin, 4), 2);
	assert_int_equal(bin[0], 0xab);
	assert_int_equal(bin[1], 0xcd);
	assert_int_equal(base_b32hex_dec("cpnmuoj1e8", 10, bin, 64), 6);
	assert_memory_equal(bin, "foobar", 6);
	/* unpadded final quantum accepted for base64 */
	assert_int_equal(base_b64_dec("Zg", 2, bin, 64), 1);
	assert_int_equal(base_b64_dec("Zm8", 3, bin, 64), 2);
}

static void all_bytes(void **st)
{
	(void)st;
	uint8_t in[256], bin[300];
	char out[700];
	for (int i = 0; i < 256; i++)
		in[i] = (uint8_t)(255 - i);
	for (size_t n = 0; n <= 256; n += 37) {
		size_t l = base_b64_enc(in, n, out);
		assert_int_equal(base_b64_dec(out, l, bin, sizeof(bin)), (int)n);
		assert_memory_equal(bin, in, n);
		l = base_b32hex_enc(in, n, out);
		assert_int_equal(base_b32hex_dec(out, l, bin, sizeof(bin)), (int)n);
		assert_memory_equal(bin, in, n);
		l = base_hex_enc(in, n, out);
		assert_int_equal(base_hex_dec(out, l, bin, sizeof(bin)), (int)n);
		assert_memory_equal(bin, in, n);
	}
}

static void bad_input(void **st)
{
	(void)st;
	uint8_t bin[64];
#define B64(s) base_b64_dec(s, strlen(s), bin, sizeof(bin))
	assert_int_equal(B64("Z"), DNS_ESYNTAX);
	assert_int_equal(B64("Zm9vY"), DNS_ESYNTAX);
	assert_int_equal(B64("Z==="), DNS_ESYNTAX);
	assert_int_equal(B64("=Zm9"), DNS_ESYNTAX);
	assert_int_equal(B64("Zg="), DNS_ESYNTAX);
	assert_int_equal(B64("Zg==Zg=="), DNS_ESYNTAX);
	assert_int_equal(B64("Zm8=="), DNS_ESYNTAX);
	assert_int_equal(B64("Zm 9v"), DNS_ESYNTAX);
	assert_int_equal(B64("Zm9v!"), DNS_ESYNTAX);
	assert_int_equal(B64("Zm9-"), DNS_ESYNTAX); /* base64url is not base64 */
	assert_int_equal(base_b64_dec("Zm9vYmFy", 8, bin, 5), DNS_ESPACE);
	assert_int_equal(base_hex_dec("abc", 3, bin, 64), DNS_ESYNTAX);
	assert_int_equal(base_hex_dec("zz", 2, bin, 64), DNS_ESYNTAX);
	assert_int_equal(base_hex_dec("0x00", 4, bin, 64), DNS_ESYNTAX);
	assert_int_equal(base_hex_dec("0011", 4, bin, 1), DNS_ESPACE);
	assert_int_equal(base_b32hex_dec("C", 1, bin, 64), DNS_ESYNTAX);
	assert_int_equal(base_b32hex_dec("CPN", 3, bin, 64), DNS_ESYNTAX);
	assert_int_equal(base_b32hex_dec("CPNMUO", 6, bin, 64), DNS_ESYNTAX);
	assert_int_equal(base_b32hex_dec("CW", 2, bin, 64), DNS_ESYNTAX); /* W is not base32hex */
	assert_int_equal(base_b32hex_dec("CO======", 8, bin, 64), DNS_ESYNTAX);
	assert_int_equal(base_b32hex_dec("CPNMUOJ1E8", 10, bin, 5), DNS_ESPACE);
#undef B64
}

/* Any split of a valid encoding into pieces decodes the same. */
static void streaming(void **st)
{
	(void)st;
	const char *s = "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA==";
	size_t len = strlen(s);
	uint8_t whole[64], bin[64];
	int n = base_b64_dec(s, len, whole, sizeof(whole));
	assert_true(n > 0);
	for (size_t a = 0; a <= len; a++)
		for (size_t b = a; b <= len; b++) {
			base_dec d;
			base_dec_init(&d);
			int o = 0, r;
			r = base_b64_feed(&d, s, a, bin + o, sizeof(bin) - (size_t)o);
			assert_true(r >= 0);
			o += r;
			r = base_b64_feed(&d, s + a, b - a, bin + o, sizeof(bin) - (size_t)o);
			assert_true(r >= 0);
			o += r;
			r = base_b64_feed(&d, s + b, len - b, bin + o, sizeof(bin) - (size_t)o);
			assert_true(r >= 0);
			o += r;
			assert_int_equal(base_b64_finish(&d), 0);
			assert_int_equal(o, n);
			assert_memory_equal(bin, whole, (size_t)n);
		}
	const char *h = "0123456789abcdef";
	for (size_t a = 0; a <= 16; a++) {
		base_dec d;
		base_dec_init(&d);
		int o = base_hex_feed(&d, h, a, bin, sizeof(bin));
		o += base_hex_feed(&d, h + a, 16 - a, bin + o, sizeof(bin) - (size_t)o);
		assert_int_equal(o, 8);
		assert_int_equal(base_hex_finish(&d), 0);
		assert_int_equal(bin[7], 0xef);
	}
	base_dec d;
	base_dec_init(&d);
	assert_int_equal(base_hex_feed(&d, "abc", 3, bin, 64), 1);
	assert_int_equal(base_hex_finish(&d), DNS_ESYNTAX);
	base_dec_init(&d);
	assert_int_equal(base_b64_feed(&d, "Zg", 2, bin, 64), 1);
	assert_int_equal(base_b64_feed(&d, "=", 1, bin, 64), 0);
	assert_int_equal(base_b64_finish(&d), DNS_ESYNTAX);
	assert_int_equal(base_b64_feed(&d, "=", 1, bin, 64), 0);
	assert_int_equal(base_b64_finish(&d), 0);
	assert_int_equal(base_b64_feed(&d, "Zg==", 4, bin, 64), DNS_ESYNTAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vectors),
		cmocka_unit_test(all_bytes),
		cmocka_unit_test(bad_input),
		cmocka_unit_test(streaming),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
