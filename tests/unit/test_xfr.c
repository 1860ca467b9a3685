/* test_xfr — outgoing zone transfers: every record once, SOA first and
 * last, every message a proper reply, RRsets split across small messages,
 * a record too big for a message, error replies. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "dns/err.h"
#include "dns/msg.h"
#include "dns/name.h"
#include "dns/rrtype.h"
#include "serve/xfr.h"
#include "testutil.h"

static const char *ZONE =
	"$ORIGIN x.test.\n$TTL 300\n"
	"@ SOA ns h 7 3600 600 86400 60\n@ NS ns\n@ MX 10 mail\nns A 192.0.2.53\nmail A 192.0.2.25\n"
	"www 60 A 192.0.2.1\nwww 120 A 192.0.2.2\nwww AAAA 2001:db8::1\n*.wild TXT \"wild\"\n"
	"sub NS ns.sub\nns.sub A 192.0.2.99\na.b.c.deep A 192.0.2.7\n";
/* 12 records, SOA included */

static zone *load(const char *text)
{
	char path[64], err[256];
	tu_tempfile(text, path, sizeof(path));
	zone *z = zone_load(path, NULL, err, sizeof(err));
	remove(path);
	assert_non_null(z);
	return z;
}

static size_t query(uint8_t *q, uint16_t qtype)
{
	char hex[128];
	snprintf(hex, sizeof(hex), "beef 0000 0001 0000 0000 0000 0178 0474657374 00 %04x 0001", qtype);
	return tu_hex(hex, q);
}

/* Runs a whole transfer with messages of at most cap octets; checks each
 * message; returns the number of records and messages. */
static void run(const zone *z, size_t cap, unsigned *records, unsigned *messages, unsigned *soas)
{
	uint8_t qb[64], buf[65535];
	size_t ql = query(qb, RR_AXFR);
	msg q;
	assert_int_equal(msg_parse_query(&q, qb, ql), 0);
	xfr_cursor c;
	xfr_start(&c, z, &q);
	*records = *messages = *soas = 0;
	bool last = false, first_soa_seen = false;
	uint16_t last_type = 0;
	while (!last) {
		int n = xfr_next(&c, buf, cap, &last);
		assert_true(n > 0);
		assert_true((size_t)n <= cap);
		msg m;
		msg_rr rrs[512];
		assert_int_equal(msg_parse(&m, buf, (size_t)n, rrs, 512), 0);
		assert_int_equal(m.hdr.id, 0xbeef);
		assert_true(m.hdr.flags & MSG_QR);
		assert_true(m.hdr.flags & MSG_AA);
		assert_int_equal(m.hdr.flags & MSG_RCODE_MASK, 0);
		assert_int_equal(m.qtype, RR_AXFR);
		for (unsigned i = 0; i < m.nrr; i++) {
			if (rrs[i].section != MSG_ANSWER)
				continue;
			if (!first_soa_seen) {
				assert_int_equal(rrs[i].type, RR_SOA);
				first_soa_seen = true;
			}
			if (rrs[i].type == RR_SOA)
				(*soas)++;
			last_type = rrs[i].type;
			(*records)++;
		}
		(*messages)++;
	}
	assert_int_equal(last_type, RR_SOA);
	bool done;
	assert_int_equal(xfr_next(&c, buf, cap, &done), 0); /* complete */
}

static void test_whole_zone(void **st)
{
	(void)st;
	zone *z = load(ZONE);
	unsigned r, m, soas;
	run(z, 65535, &r, &m, &soas);
	assert_int_equal(r, 12 + 1); /* every record, the SOA twice */
	assert_int_equal(m, 1);
	assert_int_equal(soas, 2);
	/* small messages: the same records, RRsets split across messages */
	run(z, 512, &r, &m, &soas);
	assert_int_equal(r, 13);
	assert_int_equal(soas, 2);
	unsigned r2, m2;
	run(z, 100, &r2, &m2, &soas);
	assert_int_equal(r2, 13);
	assert_true(m2 > m);
	assert_true(m2 >= 3);
	zone_free(z);
}

static void test_big_record(void **st)
{
	(void)st;
	char text[20000];
	char big[2100];
	memset(big, 'a', 250);
	big[250] = 0;
	/* one TXT record of 8 x 250 octets: larger than a 512-octet message */
	snprintf(text, sizeof(text),
		 "$ORIGIN x.test.\n@ 300 SOA ns h 1 2 3 4 5\n@ 300 NS ns\nns 300 A 192.0.2.1\n"
		 "t 300 TXT %s %s %s %s %s %s %s %s\n",
		 big, big, big, big, big, big, big, big);
	zone *z = load(text);
	uint8_t qb[64], buf[65535];
	size_t ql = query(qb, RR_IXFR);
	msg q;
	assert_int_equal(msg_parse_query(&q, qb, ql), 0);
	xfr_cursor c;
	xfr_start(&c, z, &q);
	bool last = false;
	int n, got = 0;
	while ((n = xfr_next(&c, buf, 512, &last)) > 0 && !last)
		got++;
	assert_int_equal(n, DNS_ESPACE);
	/* with room it goes */
	unsigned r, m, soas;
	run(z, 65535, &r, &m, &soas);
	assert_int_equal(r, 5);
	zone_free(z);
}

static void test_error(void **st)
{
	(void)st;
	uint8_t qb[64], buf[512];
	size_t ql = query(qb, RR_AXFR);
	msg q;
	assert_int_equal(msg_parse_query(&q, qb, ql), 0);
	int n = xfr_error(&q, RCODE_NOTAUTH, buf, sizeof(buf));
	assert_int_equal(n, (int)ql);
	msg m;
	msg_rr rrs[4];
	assert_int_equal(msg_parse(&m, buf, (size_t)n, rrs, 4), 0);
	assert_int_equal(m.hdr.flags & MSG_RCODE_MASK, RCODE_NOTAUTH);
	assert_true(m.hdr.flags & MSG_QR);
	assert_false(m.hdr.flags & MSG_AA);
	assert_int_equal(m.hdr.id, 0xbeef);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_zone),
		cmocka_unit_test(test_big_record),
		cmocka_unit_test(test_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
