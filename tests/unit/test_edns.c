/* Unit tests for src/dns/edns: OPT option parsing and validation, writer,
 * padding, extended RCODE split. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "dns/edns.h"
#include "dns/rrtype.h"
#include "testutil.h"

static int parse_hex(edns *e, const char *opts)
{
	uint8_t rd[512];
	size_t n = tu_hex(opts, rd);
	static uint8_t keep[512]; /* e->nsid etc. point into it */
	memcpy(keep, rd, n);
	return edns_parse(e, 1232, 0, keep, (uint16_t)n);
}

static void basic_fields(void **st)
{
	(void)st;
	edns e;
	assert_int_equal(edns_parse(&e, 4096, 0x01008000u, NULL, 0), 0);
	assert_true(e.present);
	assert_int_equal(e.udp_size, 4096);
	assert_int_equal(e.ext_rcode, 1);
	assert_int_equal(e.version, 0);
	assert_int_equal(e.flags, EDNS_DO);
	assert_int_equal(e.opts, 0);
	assert_int_equal(e.nopts, 0);
	assert_int_equal(edns_rcode_join(e.ext_rcode, 7), 23); /* BADCOOKIE */

	/* UDP sizes below 512 read as 512; Z bits kept. */
	assert_int_equal(edns_parse(&e, 100, 0x00000001u, NULL, 0), 0);
	assert_int_equal(e.udp_size, 512);
	assert_int_equal(e.flags, 1);
	assert_int_equal(edns_parse(&e, 0, 0, NULL, 0), 0);
	assert_int_equal(e.udp_size, 512);
}

static void version_nonzero_skips_options(void **st)
{
	(void)st;
	edns e;
	uint8_t junk[3] = { 0, 10, 0 }; /* truncated option header */
	assert_int_equal(edns_parse(&e, 1232, 0x00010000u, junk, 3), 0);
	assert_int_equal(e.version, 1);
	assert_int_equal(e.opts, 0);
	/* The same junk with version 0 is an error. */
	assert_int_equal(edns_parse(&e, 1232, 0, junk, 3), DNS_EFORMAT);
}

static void cookie_lengths(void **st)
{
	(void)st;
	for (unsigned len = 0; len <= 48; len++) {
		uint8_t rd[64];
		rd[0] = 0; rd[1] = EDNS_OPT_COOKIE; rd[2] = 0; rd[3] = (uint8_t)len;
		for (unsigned i = 0; i < len; i++)
			rd[4 + i] = (uint8_t)(i + 1);
		edns e;
		int rc = edns_parse(&e, 1232, 0, rd, (uint16_t)(4 + len));
		bool ok = len == 8 || (len >= 16 && len <= 40);
		if (ok) {
			assert_int_equal(rc, 0);
			assert_true(e.opts & EDNS_HAS_COOKIE);
			assert_int_equal(e.cookie_len, len);
			assert_memory_equal(e.cookie, rd + 4, len);
		} else {
			assert_int_equal(rc, DNS_EFORMAT);
		}
	}
	edns e;
	/* two cookies */
	assert_int_equal(parse_hex(&e, "000a0008 0102030405060708 000a0008 0102030405060708"),
			 DNS_EFORMAT);
}

static void nsid_padding_unknown_ede(void **st)
{
	(void)st;
	edns e;
	assert_int_equal(parse_hex(&e, "00030000"), 0);
	assert_true(e.opts & EDNS_HAS_NSID);
	assert_int_equal(e.nsid_len, 0);
	assert_int_equal(parse_hex(&e, "0003 0003 6e7331  fde9 0002 abcd  000c 0004 00000000"
				       "000c 0001 00  000f 0005 0012 626164"), 0);
	assert_int_equal(e.nopts, 5);
	assert_int_equal(e.opts, EDNS_HAS_NSID | EDNS_HAS_PADDING | EDNS_HAS_EDE);
	assert_int_equal(e.nsid_len, 3);
	assert_memory_equal(e.nsid, "ns1", 3);
	assert_int_equal(e.padding_len, 5);
	assert_int_equal(e.ede_code, 18);
	assert_int_equal(e.ede_len, 3);
	assert_memory_equal(e.ede_text, "bad", 3);
	/* EDE too short */
	assert_int_equal(parse_hex(&e, "000f 0001 00"), DNS_EFORMAT);
	/* empty unknown option */
	assert_int_equal(parse_hex(&e, "ffff 0000"), 0);
	assert_int_equal(e.nopts, 1);
	assert_int_equal(e.opts, 0);
}

static void bad_option_lengths(void **st)
{
	(void)st;
	edns e;
	assert_int_equal(parse_hex(&e, "00"), DNS_EFORMAT);
	assert_int_equal(parse_hex(&e, "000300"), DNS_EFORMAT);
	assert_int_equal(parse_hex(&e, "0003 0001"), DNS_EFORMAT);         /* body missing */
	assert_int_equal(parse_hex(&e, "0003 0004 616263"), DNS_EFORMAT);  /* one short */
	assert_int_equal(parse_hex(&e, "fde9 0002 abcd 00"), DNS_EFORMAT); /* stray octet */
	assert_int_equal(parse_hex(&e, "fde9 ffff abcd"), DNS_EFORMAT);
}

static void ecs_validation(void **st)
{
	(void)st;
	edns e;
	/* 192.0.2.0/24 scope 0 */
	assert_int_equal(parse_hex(&e, "0008 0007 0001 18 00 c00002"), 0);
	assert_true(e.opts & EDNS_HAS_ECS);
	assert_int_equal(e.ecs.family, 1);
	assert_int_equal(e.ecs.source, 24);
	assert_int_equal(e.ecs.scope, 0);
	const uint8_t a4[16] = { 192, 0, 2, 0 };
	assert_memory_equal(e.ecs.addr, a4, 16);
	/* /0: no address octets */
	assert_int_equal(parse_hex(&e, "0008 0004 0001 00 00"), 0);
	assert_int_equal(e.ecs.source, 0);
	/* /25 with the spare 7 bits zero */
	assert_int_equal(parse_hex(&e, "0008 0008 0001 19 00 c0000280"), 0);
	/* /32 */
	assert_int_equal(parse_hex(&e, "0008 0008 0001 20 10 c0000201"), 0);
	assert_int_equal(e.ecs.scope, 16);
	/* 2001:db8::/56 scope 48 */
	assert_int_equal(parse_hex(&e, "0008 000b 0002 38 30 20010db8000000"), 0);
	assert_int_equal(e.ecs.family, 2);
	assert_int_equal(e.ecs.source, 56);
	/* v6 /128 */
	assert_int_equal(parse_hex(&e, "0008 0014 0002 80 00 20010db8000000000000000000000001"), 0);

	/* address longer than the prefix */
	assert_int_equal(parse_hex(&e, "0008 0008 0001 18 00 c0000200"), DNS_EFORMAT);
	/* shorter */
	assert_int_equal(parse_hex(&e, "0008 0006 0001 18 00 c000"), DNS_EFORMAT);
	/* bits beyond the prefix */
	assert_int_equal(parse_hex(&e, "0008 0007 0001 17 00 c00003"), DNS_EFORMAT);
	assert_int_equal(parse_hex(&e, "0008 0007 0001 14 00 c00012"), DNS_EFORMAT);
	/* /0 with an address */
	assert_int_equal(parse_hex(&e, "0008 0005 0001 00 00 c0"), DNS_EFORMAT);
	/* unknown family, prefix too long, scope too long */
	assert_int_equal(parse_hex(&e, "0008 0004 0003 00 00"), DNS_EFORMAT);
	assert_int_equal(parse_hex(&e, "0008 0009 0001 21 00 c000020100"), DNS_EFORMAT);
	assert_int_equal(parse_hex(&e, "0008 0004 0001 00 21"), DNS_EFORMAT);
	assert_int_equal(parse_hex(&e, "0008 0004 0002 00 81"), DNS_EFORMAT);
	assert_int_equal(parse_hex(&e, "0008 0015 0002 81 00 20010db800000000000000000000000100"),
			 DNS_EFORMAT);
	/* too short for the fixed part */
	assert_int_equal(parse_hex(&e, "0008 0003 000100"), DNS_EFORMAT);
	/* two ECS options */
	assert_int_equal(parse_hex(&e, "0008 0004 0001 00 00 0008 0004 0001 00 00"), DNS_EFORMAT);
}

/* Reads back an OPT RR written at buf. */
static void read_opt(const uint8_t *buf, size_t len, edns *e)
{
	assert_true(len >= 11);
	assert_int_equal(buf[0], 0);
	assert_int_equal(wire_get_u16(buf + 1), RR_OPT);
	uint16_t rdlen = wire_get_u16(buf + 9);
	assert_int_equal((size_t)rdlen + 11, len);
	assert_int_equal(edns_parse(e, wire_get_u16(buf + 3), wire_get_u32(buf + 5), buf + 11, rdlen), 0);
}

static void write_round_trip(void **st)
{
	(void)st;
	uint8_t buf[512];
	wire_wr w;
	wire_wr_init(&w, buf, sizeof(buf));
	const uint8_t cookie[24] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	const uint8_t raw[] = { 0xfd, 0xe9, 0, 1, 0x42 };
	edns_out o = {
		.udp_size = 1232, .rcode = 23, .flags = EDNS_DO,
		.nsid = true, .nsid_data = (const uint8_t *)"ns1", .nsid_len = 3,
		.cookie = cookie, .cookie_len = 24,
		.ecs = true, .ecs_val = { .family = 1, .source = 20, .scope = 16,
					  .addr = { 192, 0, 0x2f, 0xff } },
		.ede = true, .ede_code = 18, .ede_text = "x", .ede_len = 1,
		.raw = raw, .raw_len = sizeof(raw),
	};
	assert_int_equal(edns_write(&w, &o), 0);
	assert_int_equal(wire_wr_off(&w), edns_size(&o));
	edns e;
	read_opt(buf, wire_wr_off(&w), &e);
	assert_int_equal(e.udp_size, 1232);
	assert_int_equal(e.flags, EDNS_DO);
	assert_int_equal(edns_rcode_join(e.ext_rcode, 7), 23);
	assert_int_equal(e.nopts, 5);
	assert_int_equal(e.opts, EDNS_HAS_NSID | EDNS_HAS_COOKIE | EDNS_HAS_ECS | EDNS_HAS_EDE);
	assert_memory_equal(e.nsid, "ns1", 3);
	assert_int_equal(e.cookie_len, 24);
	assert_memory_equal(e.cookie, cookie, 24);
	assert_int_equal(e.ecs.source, 20);
	assert_int_equal(e.ecs.scope, 16);
	const uint8_t masked[16] = { 192, 0, 0x20 };
	assert_memory_equal(e.ecs.addr, masked, 16); /* bits past /20 masked off */
	assert_int_equal(e.ede_code, 18);

	/* udp size under 512 is written as 512; a query's empty NSID */
	wire_wr_init(&w, buf, sizeof(buf));
	edns_out q = { .udp_size = 100, .nsid = true };
	assert_int_equal(edns_write(&w, &q), 0);
	assert_int_equal(wire_wr_off(&w), 15);
	assert_int_equal(wire_get_u16(buf + 3), 512);
	read_opt(buf, 15, &e);
	assert_true(e.opts & EDNS_HAS_NSID);
	assert_int_equal(e.nsid_len, 0);
}

static void write_errors_rewind(void **st)
{
	(void)st;
	uint8_t buf[64];
	wire_wr w;
	wire_wr_init(&w, buf, sizeof(buf));
	wire_wr_u32(&w, 0xdeadbeef);
	const uint8_t c[64] = { 0 };
	edns_out o = { .udp_size = 1232, .cookie = c, .cookie_len = 12 };
	assert_int_equal(edns_write(&w, &o), DNS_EINVAL);
	assert_int_equal(wire_wr_off(&w), 4);
	o.cookie_len = 0;
	o.ecs = true;
	o.ecs_val.family = 1;
	o.ecs_val.source = 33;
	assert_int_equal(edns_write(&w, &o), DNS_EINVAL);
	o.ecs_val.family = 7;
	o.ecs_val.source = 0;
	assert_int_equal(edns_write(&w, &o), DNS_EINVAL);
	assert_int_equal(wire_wr_off(&w), 4);
	/* too big for the buffer: rewound, no sticky error */
	o.ecs = false;
	o.nsid = true;
	o.nsid_data = c;
	o.nsid_len = 60;
	assert_int_equal(edns_write(&w, &o), DNS_ESPACE);
	assert_int_equal(wire_wr_off(&w), 4);
	assert_int_equal(w.err, 0);
	o.nsid_len = 64 - 4 - 11 - 4;
	assert_int_equal(edns_write(&w, &o), 0);
	assert_int_equal(wire_wr_left(&w), 0);
	/* a full writer: rewound again; one already in error returns it */
	assert_int_equal(edns_write(&w, &o), DNS_ESPACE);
	assert_int_equal(w.err, 0);
	wire_wr_fail(&w, DNS_ESPACE);
	assert_int_equal(edns_write(&w, &o), DNS_ESPACE);
	assert_int_equal(w.err, DNS_ESPACE);
}

static void padding_blocks(void **st)
{
	(void)st;
	uint8_t buf[1024];
	for (size_t pre = 12; pre < 600; pre += 37) {
		wire_wr w;
		wire_wr_init(&w, buf, sizeof(buf));
		memset(buf, 0xee, pre);
		w.pos += pre;
		edns_out o = { .udp_size = 1232, .pad_block = EDNS_PAD_RESPONSE };
		assert_int_equal(edns_write(&w, &o), 0);
		assert_int_equal(wire_wr_off(&w) % EDNS_PAD_RESPONSE, 0);
		edns e;
		read_opt(buf + pre, wire_wr_off(&w) - pre, &e);
		assert_true(e.opts & EDNS_HAS_PADDING);
		assert_int_equal(wire_wr_off(&w) - pre, 11 + 4 + e.padding_len);
		for (unsigned i = 0; i < e.padding_len; i++)
			assert_int_equal(buf[pre + 15 + i], 0);
	}
	/* Padding is cut short by the space left. */
	wire_wr w;
	wire_wr_init(&w, buf, 100);
	w.pos += 40;
	edns_out o = { .udp_size = 1232, .pad_block = 128 };
	assert_int_equal(edns_write(&w, &o), 0);
	assert_int_equal(wire_wr_off(&w), 100);
	/* No room even for the option header: no PADDING option at all. */
	wire_wr_init(&w, buf, 53);
	w.pos += 40;
	assert_int_equal(edns_write(&w, &o), 0);
	assert_int_equal(wire_wr_off(&w), 51);
	edns e;
	read_opt(buf + 40, 11, &e);
	assert_int_equal(e.opts, 0);
	/* Exactly on a block already: an empty PADDING. */
	wire_wr_init(&w, buf, sizeof(buf));
	w.pos += 128 - 15;
	assert_int_equal(edns_write(&w, &o), 0);
	assert_int_equal(wire_wr_off(&w), 128);
}

static void rcode_split(void **st)
{
	(void)st;
	assert_int_equal(edns_rcode_ext(16), 1);
	assert_int_equal(edns_rcode_hdr(16), 0);
	assert_int_equal(edns_rcode_ext(23), 1);
	assert_int_equal(edns_rcode_hdr(23), 7);
	assert_int_equal(edns_rcode_ext(3), 0);
	assert_int_equal(edns_rcode_hdr(3), 3);
	assert_int_equal(edns_rcode_join(0xff, 0xf), 4095);
	assert_string_equal(edns_opt_name(EDNS_OPT_COOKIE), "COOKIE");
	assert_null(edns_opt_name(65001));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(basic_fields),
		cmocka_unit_test(version_nonzero_skips_options),
		cmocka_unit_test(cookie_lengths),
		cmocka_unit_test(nsid_padding_unknown_ede),
		cmocka_unit_test(bad_option_lengths),
		cmocka_unit_test(ecs_validation),
		cmocka_unit_test(write_round_trip),
		cmocka_unit_test(write_errors_rewind),
		cmocka_unit_test(padding_blocks),
		cmocka_unit_test(rcode_split),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
