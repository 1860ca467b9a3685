/* Unit tests for src/dns/wire: sticky errors and bounds. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "dns/wire.h"

static void rd_reads_and_sticks(void **st)
{
	(void)st;
	const uint8_t buf[] = {0x12, 0x34, 0x56, 0x78, 0x9a};
	wire_rd r;
	wire_rd_init(&r, buf, sizeof(buf));
	assert_int_equal(wire_rd_u16(&r), 0x1234);
	assert_int_equal(wire_rd_u8(&r), 0x56);
	assert_int_equal(wire_rd_left(&r), 2);
	assert_int_equal(wire_rd_u32(&r), 0); /* overrun */
	assert_int_equal(r.err, DNS_ETRUNC);
	/* Sticky: a read that would fit still fails and the cursor stays. */
	assert_int_equal(wire_rd_u8(&r), 0);
	assert_int_equal(wire_rd_off(&r), 3);
	assert_int_equal(wire_rd_left(&r), 0);
	assert_null(wire_rd_ptr(&r, 0));
}

static void rd_sub_bounds(void **st)
{
	(void)st;
	const uint8_t buf[] = {1, 2, 3, 4, 5, 6};
	wire_rd r, s;
	wire_rd_init(&r, buf, sizeof(buf));
	wire_rd_skip(&r, 1);
	wire_rd_sub(&r, 3, &s);
	assert_int_equal(wire_rd_off(&r), 4);
	assert_ptr_equal(s.msg, buf);
	assert_int_equal(wire_rd_u16(&s), 0x0203);
	assert_int_equal(wire_rd_u16(&s), 0); /* past the sub-range */
	assert_int_equal(s.err, DNS_ETRUNC);
	assert_int_equal(r.err, 0);
	wire_rd_sub(&r, 5, &s); /* more than r has */
	assert_int_equal(s.err, DNS_ETRUNC);
	assert_int_equal(r.err, DNS_ETRUNC);
}

static void wr_overflow_and_rewind(void **st)
{
	(void)st;
	uint8_t buf[6];
	memset(buf, 0xee, sizeof(buf));
	wire_wr w;
	wire_wr_init(&w, buf, 5);
	wire_wr_u16(&w, 0xabcd);
	wire_wr_u16(&w, 0x0102);
	size_t mark = wire_wr_off(&w);
	wire_wr_u16(&w, 0x0304); /* does not fit: nothing written */
	assert_int_equal(w.err, DNS_ESPACE);
	assert_int_equal(buf[4], 0xee);
	assert_int_equal(buf[5], 0xee);
	wire_wr_u8(&w, 7); /* sticky */
	assert_int_equal(buf[4], 0xee);
	wire_wr_rewind(&w, mark);
	assert_int_equal(w.err, 0);
	wire_wr_u8(&w, 7);
	assert_int_equal(buf[4], 7);
	wire_wr_put_u16(&w, 0, 0x1111);
	assert_int_equal(wire_get_u16(buf), 0x1111);
	wire_wr_put_u16(&w, 4, 0x2222); /* would cross the end: ignored */
	assert_int_equal(buf[5], 0xee);
}

static void wr_u32_bytes(void **st)
{
	(void)st;
	uint8_t buf[8];
	wire_wr w;
	wire_wr_init(&w, buf, sizeof(buf));
	wire_wr_u32(&w, 0xdeadbeef);
	wire_wr_bytes(&w, "abcd", 4);
	assert_int_equal(w.err, 0);
	assert_int_equal(wire_get_u32(buf), 0xdeadbeef);
	assert_memory_equal(buf + 4, "abcd", 4);
	wire_wr_bytes(&w, "x", 1);
	assert_int_equal(w.err, DNS_ESPACE);
	assert_int_equal(wire_wr_left(&w), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rd_reads_and_sticks),
		cmocka_unit_test(rd_sub_bounds),
		cmocka_unit_test(wr_overflow_and_rewind),
		cmocka_unit_test(wr_u32_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
