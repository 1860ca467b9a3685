/* Unit tests for src/dns/name: decompression limits, text form, order,
 * compression on write. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "dns/name.h"

static int txt2wire(const char *s, uint8_t *out)
{
	return name_from_text(s, strlen(s), NULL, out);
}

static void unpack_plain_and_compressed(void **st)
{
	(void)st;
	/* header(12) + "www.example.com" at 12, then a pointer to 16 */
	uint8_t msg[64] = {0};
	const uint8_t n1[] = "\3www\7example\3com";
	memcpy(msg + 12, n1, sizeof(n1)); /* includes the final 0 */
	size_t p = 12 + sizeof(n1);
	msg[p] = 4; memcpy(msg + p + 1, "mail", 4); msg[p + 5] = 0xc0; msg[p + 6] = 16;
	wire_rd r;
	wire_rd_init(&r, msg, p + 7);
	wire_rd_skip(&r, 12);
	uint8_t out[NAME_MAXLEN];
	assert_int_equal(name_unpack(&r, out), 17);
	assert_memory_equal(out, n1, 17);
	assert_int_equal(name_unpack(&r, out), 18);
	assert_memory_equal(out, "\4mail\7example\3com", 18);
	assert_int_equal(wire_rd_left(&r), 0);
	char text[NAME_MAXTEXT];
	assert_int_equal(name_to_text(out, text, sizeof(text)), 17);
	assert_string_equal(text, "mail.example.com.");
}

static int unpack_at(const uint8_t *msg, size_t len, size_t off)
{
	wire_rd r;
	wire_rd_init(&r, msg, len);
	wire_rd_skip(&r, off);
	uint8_t out[NAME_MAXLEN];
	return name_unpack(&r, out);
}

static void unpack_rejects_hostile(void **st)
{
	(void)st;
	uint8_t m[600] = {0};
	/* pointer to itself */
	m[12] = 0xc0; m[13] = 12;
	assert_int_equal(unpack_at(m, 14, 12), DNS_EPTR);
	/* forward pointer */
	m[12] = 0xc0; m[13] = 14; m[14] = 0;
	assert_int_equal(unpack_at(m, 15, 12), DNS_EPTR);
	/* pointer into the header */
	m[12] = 0xc0; m[13] = 4;
	assert_int_equal(unpack_at(m, 14, 12), DNS_EPTR);
	/* pointer past the end */
	m[12] = 0xc1; m[13] = 0xff;
	assert_int_equal(unpack_at(m, 14, 12), DNS_EPTR);
	/* loop a -> b -> a: label then pointer back to start */
	m[12] = 1; m[13] = 'a'; m[14] = 0xc0; m[15] = 12;
	assert_int_equal(unpack_at(m, 16, 12), DNS_EPTR);
	/* label types 0x40 and 0x80 */
	m[12] = 0x41; assert_int_equal(unpack_at(m, 20, 12), DNS_ELABEL);
	m[12] = 0x81; assert_int_equal(unpack_at(m, 20, 12), DNS_ELABEL);
	/* truncated: label runs past the end; pointer cut in half; no root */
	m[12] = 5; memcpy(m + 13, "ab", 2);
	assert_int_equal(unpack_at(m, 15, 12), DNS_ETRUNC);
	m[12] = 0xc0;
	assert_int_equal(unpack_at(m, 13, 12), DNS_ETRUNC);
	m[12] = 1; m[13] = 'a';
	assert_int_equal(unpack_at(m, 14, 12), DNS_ETRUNC);
	/* 300-octet name: five 59-octet labels = 300 + root */
	size_t o = 12;
	for (int i = 0; i < 5; i++) {
		m[o] = 59; memset(m + o + 1, 'x', 59); o += 60;
	}
	m[o++] = 0;
	assert_int_equal(unpack_at(m, o, 12), DNS_ENAMELEN);
	/* exactly 255 is fine: 3×63 + 1×61 labels + root = 4×1+250+1 */
	o = 12;
	for (int i = 0; i < 3; i++) { m[o] = 63; memset(m + o + 1, 'y', 63); o += 64; }
	m[o] = 61; memset(m + o + 1, 'y', 61); o += 62; m[o++] = 0;
	assert_int_equal(unpack_at(m, o, 12), 255);
	/* a chain of backward pointers longer than the hop limit */
	uint8_t c[12 + 2 * 100] = {0};
	c[12] = 0; /* root at 12 */
	for (int i = 1; i < 100; i++) { c[12 + 2 * i - 1] = 0xc0; c[12 + 2 * i] = 0; }
	for (int i = 1; i < 100; i++) { c[11 + 2 * i] = 0xc0; c[12 + 2 * i] = (uint8_t)(11 + 2 * (i - 1)); }
	c[13] = 0xc0; c[14] = 12;
	/* name at 12+2*99-1 follows 99 pointers back to the root */
	assert_int_equal(unpack_at(c, sizeof(c), 11 + 2 * 99), DNS_EPTR);
	assert_int_equal(unpack_at(c, sizeof(c), 11 + 2 * 10), 1);
}

static void text_roundtrip_and_escapes(void **st)
{
	(void)st;
	uint8_t w[NAME_MAXLEN], origin[NAME_MAXLEN];
	char t[NAME_MAXTEXT];
	assert_int_equal(txt2wire("example.org.", origin), 13);
	assert_int_equal(name_from_text("www", 3, origin, w), 17);
	assert_int_equal(name_to_text(w, t, sizeof(t)), 16);
	assert_string_equal(t, "www.example.org.");
	assert_int_equal(name_from_text("@", 1, origin, w), 13);
	assert_true(name_eq(w, origin));
	assert_int_equal(name_from_text("www", 3, NULL, w), DNS_ESYNTAX);
	assert_int_equal(txt2wire(".", w), 1);
	assert_int_equal(name_to_text(w, t, sizeof(t)), 1);
	assert_string_equal(t, ".");
	/* \. inside a label, \DDD, and output escaping */
	assert_true(txt2wire("a\\.b.c\\032d\\\\.", w) > 0);
	assert_memory_equal(w, "\3a.b\4c d\\\0", 10);
	assert_true(name_to_text(w, t, sizeof(t)) > 0);
	assert_string_equal(t, "a\\.b.c\\032d\\\\.");
	assert_int_equal(txt2wire("a..b.", w), DNS_ESYNTAX);
	assert_int_equal(txt2wire("a\\25.", w), DNS_ESYNTAX);
	assert_int_equal(txt2wire("a\\256.", w), DNS_ERANGE);
	assert_int_equal(txt2wire("a\\", w), DNS_ESYNTAX);
	char l64[80];
	memset(l64, 'a', 64); strcpy(l64 + 64, ".");
	assert_int_equal(txt2wire(l64, w), DNS_ELABEL);
	l64[63] = '.'; l64[64] = 0;
	assert_int_equal(txt2wire(l64, w), 65);
	char big[400] = "";
	for (int i = 0; i < 130; i++) strcat(big, "a.");
	assert_int_equal(txt2wire(big, w), DNS_ENAMELEN);
}

static void compare_and_order(void **st)
{
	(void)st;
	/* RFC 4034 §6.1 example order */
	const char *order[] = {"example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.",
			       "zABC.a.EXAMPLE.", "z.example.", "\\001.z.example.", "*.z.example.",
			       "\\200.z.example."};
	uint8_t a[NAME_MAXLEN], b[NAME_MAXLEN];
	for (size_t i = 0; i + 1 < sizeof(order) / sizeof(order[0]); i++) {
		assert_true(txt2wire(order[i], a) > 0);
		assert_true(txt2wire(order[i + 1], b) > 0);
		assert_true(name_cmp(a, b) < 0);
		assert_true(name_cmp(b, a) > 0);
		assert_int_equal(name_cmp(a, a), 0);
	}
	txt2wire("WWW.Example.COM.", a);
	txt2wire("www.example.com.", b);
	assert_true(name_eq(a, b));
	assert_int_equal(name_cmp(a, b), 0);
	assert_int_equal(name_hash(a, name_len(a)), name_hash(b, name_len(b)));
	name_lower(a);
	assert_memory_equal(a, b, name_len(b));
	uint8_t p[NAME_MAXLEN];
	txt2wire("example.com.", p);
	assert_true(name_is_sub(a, p));
	assert_true(name_is_sub(p, p));
	assert_false(name_is_sub(p, a));
	txt2wire("xexample.com.", b);
	assert_false(name_is_sub(b, p));
	assert_int_equal(name_labels(a), 3);
	assert_true(name_eq(name_parent(a), p));
	uint8_t root[1] = {0};
	assert_ptr_equal(name_parent(root), root);
	assert_true(name_is_sub(a, root));
}

static void join_names(void **st)
{
	(void)st;
	uint8_t a[NAME_MAXLEN], s[NAME_MAXLEN], out[NAME_MAXLEN];
	txt2wire("x.y.old.example.", a);
	txt2wire("new.test.", s);
	assert_int_equal(name_join(out, a, 2, s), 14);
	char t[NAME_MAXTEXT];
	name_to_text(out, t, sizeof(t));
	assert_string_equal(t, "x.y.new.test.");
	char big[300] = "";
	for (int i = 0; i < 62; i++) strcat(big, "abc.");
	assert_int_equal(txt2wire(big, a), 249);
	assert_int_equal(name_join(out, a, 62, s), DNS_ENAMELEN);
}

static void pack_compresses(void **st)
{
	(void)st;
	uint8_t buf[512] = {0};
	wire_wr w;
	wire_wr_init(&w, buf, sizeof(buf));
	wire_wr_bytes(&w, "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
	name_ctab ct;
	name_ctab_init(&ct);
	uint8_t n1[NAME_MAXLEN], n2[NAME_MAXLEN], n3[NAME_MAXLEN];
	txt2wire("www.Example.com.", n1);
	txt2wire("mail.EXAMPLE.com.", n2);
	txt2wire("other.org.", n3);
	assert_int_equal(name_pack(&w, n1, &ct), 0);
	assert_int_equal(wire_wr_off(&w), 12 + 17);
	assert_int_equal(name_pack(&w, n2, &ct), 0);
	/* "mail" + pointer to "Example.com" at offset 16 */
	assert_int_equal(wire_wr_off(&w), 12 + 17 + 7);
	assert_memory_equal(buf + 29, "\4mail\xc0\x10", 7);
	assert_int_equal(name_pack(&w, n1, &ct), 0); /* whole name: pointer to 12 */
	assert_memory_equal(buf + 36, "\xc0\x0c", 2);
	assert_int_equal(name_pack(&w, n3, &ct), 0);
	assert_int_equal(name_pack(&w, n3, NULL), 0); /* uncompressed */
	/* Read them all back. */
	wire_rd r;
	wire_rd_init(&r, buf, wire_wr_off(&w));
	wire_rd_skip(&r, 12);
	uint8_t out[NAME_MAXLEN];
	assert_int_equal(name_unpack(&r, out), 17); assert_true(name_eq(out, n1));
	assert_int_equal(name_unpack(&r, out), 18); assert_true(name_eq(out, n2));
	assert_int_equal(name_unpack(&r, out), 17); assert_true(name_eq(out, n1));
	assert_int_equal(name_unpack(&r, out), 11); assert_true(name_eq(out, n3));
	assert_int_equal(name_unpack(&r, out), 11); assert_true(name_eq(out, n3));
	assert_int_equal(wire_rd_left(&r), 0);
	/* The question can be registered after the fact. */
	name_ctab_init(&ct);
	name_ctab_add(&ct, buf, 12);
	size_t before = wire_wr_off(&w);
	assert_int_equal(name_pack(&w, n2, &ct), 0);
	assert_int_equal(wire_wr_off(&w) - before, 7);
	/* No space: error, nothing beyond the end. */
	wire_wr_init(&w, buf, 5);
	assert_int_equal(name_pack(&w, n1, NULL), DNS_ESPACE);
}

static void hash_ignores_case_only(void **st)
{
	(void)st;
	/* every length 1..40 and every position of a case change */
	char a[48], b[48];
	for (size_t len = 1; len <= 40; len++) {
		for (size_t i = 0; i < len; i++)
			a[i] = (char)('a' + (i * 7) % 26);
		uint64_t h = name_hash((const uint8_t *)a, len);
		for (size_t i = 0; i < len; i++) {
			memcpy(b, a, len);
			b[i] = (char)(b[i] - 32); /* upper case */
			assert_int_equal(name_hash((const uint8_t *)b, len), h);
			b[i] = (char)(a[i] ^ 1); /* another letter */
			assert_int_not_equal(name_hash((const uint8_t *)b, len), h);
		}
	}
	/* bytes next to the letters are not folded: '@'/'`', '['/'{' */
	assert_int_not_equal(name_hash((const uint8_t *)"@", 1), name_hash((const uint8_t *)"`", 1));
	assert_int_not_equal(name_hash((const uint8_t *)"[", 1), name_hash((const uint8_t *)"{", 1));
	assert_int_not_equal(name_hash((const uint8_t *)"\xc1", 1), name_hash((const uint8_t *)"\xe1", 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unpack_plain_and_compressed),
		cmocka_unit_test(unpack_rejects_hostile),
		cmocka_unit_test(text_roundtrip_and_escapes),
		cmocka_unit_test(compare_and_order),
		cmocka_unit_test(join_names),
		cmocka_unit_test(pack_compresses),
		cmocka_unit_test(hash_ignores_case_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
