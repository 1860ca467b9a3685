/* Unit tests for src/dns/msg: both parsers on good and hostile messages,
 * the builder (compression, truncation, reservations), text form, and the
 * agreement of msg_parse_query with msg_parse over the fuzz corpus. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/msg.h"
#include "dns/rdata.h"
#include "dns/rrtype.h"
#include "testutil.h"

static msg_rr rrs[MSG_MAXRRS];

/* Parses with both parsers; returns msg_parse's code, checks they agree. */
static int parse2(msg *m, const uint8_t *w, size_t len)
{
	msg q;
	int rq = msg_parse_query(&q, w, len);
	int rf = msg_parse(m, w, len, rrs, MSG_MAXRRS);
	assert_int_equal(q.hdr_ok, m->hdr_ok);
	if (m->hdr_ok)
		assert_memory_equal(&q.hdr, &m->hdr, sizeof(q.hdr));
	if (rf == 0 && m->hdr.qdcount <= 1) {
		assert_int_equal(rq, 0);
		assert_int_equal(q.qname_len, m->qname_len);
		assert_memory_equal(q.qname, m->qname, m->qname_len);
		assert_int_equal(q.qtype, m->qtype);
		assert_int_equal(q.qclass, m->qclass);
		assert_int_equal(q.end, m->end);
		assert_int_equal(q.trailing, m->trailing);
		assert_int_equal(q.opt_off, m->opt_off);
		assert_int_equal(q.edns.present, m->edns.present);
	}
	return rf;
}

/* A response: example.com A, www CNAME, NS ns1 with glue, OPT with DO and
 * a client cookie. Offsets: question 12, answers 29 and 45, authority 63,
 * glue 81, OPT 97, end 120. */
static const char *RESP =
	"1234 8580 0001 0002 0001 0002"
	"07 6578616d706c65 03 636f6d 00 0001 0001"
	"c00c 0001 0001 00000e10 0004 c0000201"
	"03 777777 c00c 0005 0001 00000e10 0002 c00c"
	"c00c 0002 0001 00015180 0006 03 6e7331 c00c"
	"c04b 0001 0001 00015180 0004 c0000235"
	"00 0029 04d0 00008000 000c 000a 0008 0102030405060708";

static void parse_response(void **st)
{
	(void)st;
	uint8_t w[512];
	size_t n = tu_hex(RESP, w);
	assert_int_equal(n, 120);
	msg m;
	assert_int_equal(parse2(&m, w, n), 0);
	assert_int_equal(m.hdr.id, 0x1234);
	assert_true(m.hdr.flags & MSG_QR);
	assert_true(m.hdr.flags & MSG_AA);
	assert_int_equal(msg_flags_opcode(m.hdr.flags), OPCODE_QUERY);
	assert_int_equal(msg_rcode(&m), RCODE_NOERROR);
	assert_int_equal(m.qname_len, 13);
	assert_memory_equal(m.qname, "\7example\3com", 13);
	assert_int_equal(m.qtype, RR_A);
	assert_int_equal(m.qclass, CLASS_IN);
	assert_int_equal(m.qend, 29);
	assert_int_equal(m.end, 120);
	assert_int_equal(m.trailing, 0);
	assert_int_equal(m.nrr, 6);
	assert_int_equal(m.opt, 5);
	assert_int_equal(m.opt_off, 97);
	assert_int_equal(m.tsig_off, 0);
	assert_true(m.edns.present);
	assert_int_equal(m.edns.udp_size, 1232);
	assert_true(m.edns.flags & EDNS_DO);
	assert_int_equal(m.edns.cookie_len, 8);

	unsigned cnt;
	const msg_rr *an = msg_sec(&m, MSG_ANSWER, &cnt);
	assert_int_equal(cnt, 2);
	assert_int_equal(an[0].type, RR_A);
	assert_int_equal(an[0].ttl, 3600);
	assert_int_equal(an[0].rdata, 41);
	assert_int_equal(an[0].rdlen, 4);
	assert_int_equal(an[0].section, MSG_ANSWER);
	uint8_t owner[NAME_MAXLEN];
	assert_int_equal(msg_rr_owner(&m, &an[1], owner), 17);
	assert_memory_equal(owner, "\3www\7example\3com", 17);
	const msg_rr *ns = msg_sec(&m, MSG_AUTHORITY, &cnt);
	assert_int_equal(cnt, 1);
	assert_int_equal(ns->type, RR_NS);
	uint8_t rd[600];
	wire_wr out;
	wire_wr_init(&out, rd, sizeof(rd));
	assert_int_equal(msg_rr_rdata(&m, ns, &out), 0);
	assert_int_equal(wire_wr_off(&out), 17);
	assert_memory_equal(rd, "\3ns1\7example\3com", 17);
	const msg_rr *ar = msg_sec(&m, MSG_ADDITIONAL, &cnt);
	assert_int_equal(cnt, 2);
	assert_int_equal(msg_rr_owner(&m, &ar[0], owner), 17);
	assert_memory_equal(owner, "\3ns1\7example\3com", 17);
	assert_int_equal(ar[1].type, RR_OPT);
	const msg_rr *qd = msg_sec(&m, MSG_QUESTION, &cnt);
	assert_int_equal(cnt, 1);
	assert_int_equal(qd->section, MSG_QUESTION);
	assert_int_equal(qd->owner, 12);
}

static void every_prefix_fails(void **st)
{
	(void)st;
	uint8_t w[512];
	size_t n = tu_hex(RESP, w);
	for (size_t len = 0; len < n; len++) {
		uint8_t *p = malloc(len ? len : 1); /* exact size: ASan sees over-reads */
		memcpy(p, w, len);
		msg m, q;
		int rf = msg_parse(&m, p, len, rrs, MSG_MAXRRS);
		int rq = msg_parse_query(&q, p, len);
		assert_true(rf < 0);
		assert_true(rq < 0);
		assert_int_equal(m.hdr_ok, len >= 12);
		assert_int_equal(q.hdr_ok, len >= 12);
		assert_int_equal(msg_err_is_formerr(&m, rf), len >= 12);
		if (len >= 12)
			assert_int_equal(m.hdr.id, 0x1234);
		free(p);
	}
}

static void trailing_and_counts(void **st)
{
	(void)st;
	uint8_t w[600];
	size_t n = tu_hex(RESP, w);
	memcpy(w + n, "\x00\x00\x01", 3);
	msg m;
	assert_int_equal(parse2(&m, w, n + 3), 0);
	assert_int_equal(m.trailing, 3);
	assert_int_equal(m.end, 120);
	/* ARCOUNT one too many */
	w[11] = 3;
	assert_int_equal(parse2(&m, w, n), DNS_ETRUNC);
	/* ... with trailing junk that does not form an RR */
	assert_int_equal(parse2(&m, w, n + 3), DNS_ETRUNC);
	w[11] = 2;
	/* ANCOUNT one too few: every RR moves up a section and the OPT is left
	 * over as trailing data. Still a valid message. */
	w[7] = 1;
	assert_int_equal(parse2(&m, w, n), 0);
	assert_int_equal(m.trailing, 23);
	assert_false(m.edns.present);
	w[7] = 2;
	/* rdlength past the end */
	w[n - 13] = 0x0d;
	assert_int_equal(parse2(&m, w, n), DNS_ETRUNC);
	/* too big for DNS */
	uint8_t *big = calloc(1, 70000);
	memcpy(big, w, 12);
	assert_int_equal(parse2(&m, big, 70000), DNS_EFORMAT);
	assert_true(m.hdr_ok);
	free(big);
}

static void qdcount_zero_and_two(void **st)
{
	(void)st;
	uint8_t w[512];
	msg m, q;
	/* QDCOUNT 0 with a cookie (RFC 7873 §5.4 style) */
	size_t n = tu_hex("abcd 0000 0000 0000 0000 0001"
		       "00 0029 1000 00000000 000c 000a 0008 1122334455667788", w);
	assert_int_equal(parse2(&m, w, n), 0);
	assert_int_equal(m.qname_len, 0);
	assert_int_equal(m.qend, 12);
	assert_true(m.edns.opts & EDNS_HAS_COOKIE);
	assert_int_equal(msg_parse_query(&q, w, n), 0);
	assert_int_equal(q.qname_len, 0);
	assert_int_equal(q.edns.udp_size, 4096);
	/* QDCOUNT 2 */
	n = tu_hex("abcd 0100 0002 0000 0000 0000"
		"07 6578616d706c65 03 636f6d 00 0001 0001"
		"03 777777 c00c 001c 0001", w);
	assert_int_equal(msg_parse(&m, w, n, rrs, MSG_MAXRRS), 0);
	assert_int_equal(m.nrr, 2);
	assert_int_equal(m.qtype, RR_A);
	assert_int_equal(rrs[1].type, RR_AAAA);
	assert_int_equal(rrs[1].owner, 29);
	int rc = msg_parse_query(&q, w, n);
	assert_int_equal(rc, DNS_EFORMAT);
	assert_true(msg_err_is_formerr(&q, rc));
	/* QDCOUNT 2 but only one question present */
	assert_int_equal(msg_parse(&m, w, 29, rrs, MSG_MAXRRS), DNS_ETRUNC);
	assert_int_equal(m.qname_len, 13); /* the first one is there to echo */
}

static void hostile_names(void **st)
{
	(void)st;
	static uint8_t w[4096];
	msg m;
	const char *hdr = "0001 0000 0001 0000 0000 0000";
	size_t n;
	/* forward pointer */
	n = tu_hex(hdr, w);
	n += tu_hex("c00e 00 0001 0001", w + n);
	assert_int_equal(parse2(&m, w, n), DNS_EPTR);
	/* pointer to itself */
	n = tu_hex(hdr, w);
	n += tu_hex("c00c 0001 0001", w + n);
	assert_int_equal(parse2(&m, w, n), DNS_EPTR);
	/* loop through a label: "a" then back to 12 */
	n = tu_hex(hdr, w);
	n += tu_hex("01 61 c00c 0001 0001", w + n);
	assert_int_equal(parse2(&m, w, n), DNS_EPTR);
	/* pointer into the header (offset 4 holds 00 01: would read as ".") */
	n = tu_hex(hdr, w);
	n += tu_hex("c004 0001 0001", w + n);
	assert_int_equal(parse2(&m, w, n), DNS_EPTR);
	n = tu_hex(hdr, w);
	n += tu_hex("01 61 c002 0001 0001", w + n);
	assert_int_equal(parse2(&m, w, n), DNS_EPTR);
	/* pointer past the end */
	n = tu_hex(hdr, w);
	n += tu_hex("3fff 00 0001 0001", w + n);
	w[12] = 0xff; w[13] = 0xff;
	assert_int_equal(parse2(&m, w, n), DNS_EPTR);
	/* pointer cut in half */
	n = tu_hex(hdr, w);
	n += tu_hex("c0", w + n);
	assert_int_equal(parse2(&m, w, n), DNS_ETRUNC);
	/* label types 0x40 and 0x80 */
	n = tu_hex(hdr, w);
	n += tu_hex("41 61 00 0001 0001", w + n);
	assert_int_equal(parse2(&m, w, n), DNS_ELABEL);
	n = tu_hex(hdr, w);
	n += tu_hex("81 61 00 0001 0001", w + n);
	assert_int_equal(parse2(&m, w, n), DNS_ELABEL);
	/* 300-octet name: 5 labels of 59 */
	n = tu_hex(hdr, w);
	for (int i = 0; i < 5; i++) {
		w[n++] = 59;
		memset(w + n, 'a', 59);
		n += 59;
	}
	n += tu_hex("00 0001 0001", w + n);
	assert_int_equal(parse2(&m, w, n), DNS_ENAMELEN);
	/* 255 exactly is fine: 3 x 63 + 62 = 4*64 - 1 ... build 63,63,63,61 */
	n = tu_hex(hdr, w);
	const int lens[4] = { 63, 63, 63, 61 };
	for (int i = 0; i < 4; i++) {
		w[n++] = (uint8_t)lens[i];
		memset(w + n, 'b', (size_t)lens[i]);
		n += (size_t)lens[i];
	}
	n += tu_hex("00 0001 0001", w + n);
	assert_int_equal(parse2(&m, w, n), 0);
	assert_int_equal(m.qname_len, 255);
	/* one more octet in the last label: 256 */
	n = tu_hex(hdr, w);
	const int lens2[4] = { 63, 63, 63, 62 };
	for (int i = 0; i < 4; i++) {
		w[n++] = (uint8_t)lens2[i];
		memset(w + n, 'b', (size_t)lens2[i]);
		n += (size_t)lens2[i];
	}
	n += tu_hex("00 0001 0001", w + n);
	assert_int_equal(parse2(&m, w, n), DNS_ENAMELEN);
	/* over 255 only through a pointer: answer owner 3 x 63 + ptr to a
	 * 2 x 63 question name */
	n = tu_hex("0001 8000 0001 0001 0000 0000", w);
	for (int i = 0; i < 2; i++) {
		w[n++] = 63;
		memset(w + n, 'q', 63);
		n += 63;
	}
	n += tu_hex("00 0001 0001", w + n);
	for (int i = 0; i < 3; i++) {
		w[n++] = 63;
		memset(w + n, 'r', 63);
		n += 63;
	}
	n += tu_hex("c00c 0001 0001 00000000 0004 01020304", w + n);
	assert_int_equal(parse2(&m, w, n), DNS_ENAMELEN);
	/* a long pointer chain is bounded */
	n = tu_hex("0001 8000 0001 0080 0000 0000 00 0001 0001", w);
	for (int i = 0; i < 128; i++) { /* each owner points at the previous RR's owner */
		size_t prev = i ? n - 12 : 12;
		w[n++] = (uint8_t)(0xc0 | prev >> 8);
		w[n++] = (uint8_t)prev;
		n += tu_hex("fde9 0001 00000000 0000", w + n);
	}
	int rc = parse2(&m, w, n);
	assert_int_equal(rc, DNS_EPTR); /* more than NAME_MAXHOPS hops */
}

static void opt_rules(void **st)
{
	(void)st;
	uint8_t w[512];
	msg m;
	const char *q = "0001 0000 0001 0000 0000 %04x 01 61 00 0001 0001";
	char h[128];
	size_t n;
	/* two OPT */
	snprintf(h, sizeof(h), q, 2);
	n = tu_hex(h, w);
	n += tu_hex("00 0029 0200 00000000 0000  00 0029 0200 00000000 0000", w + n);
	assert_int_equal(parse2(&m, w, n), DNS_EFORMAT);
	/* OPT not at the root */
	snprintf(h, sizeof(h), q, 1);
	n = tu_hex(h, w);
	n += tu_hex("c00c 0029 0200 00000000 0000", w + n);
	assert_int_equal(parse2(&m, w, n), DNS_EFORMAT);
	/* OPT owner "." reached through a pointer is still the root */
	n = tu_hex(h, w);
	n += tu_hex("c00e 0029 0200 00000000 0000", w + n);
	assert_int_equal(parse2(&m, w, n), 0);
	assert_true(m.edns.present);
	/* OPT in the answer section */
	n = tu_hex("0001 8000 0001 0001 0000 0000 01 61 00 0001 0001", w);
	n += tu_hex("00 0029 0200 00000000 0000", w + n);
	assert_int_equal(parse2(&m, w, n), DNS_EFORMAT);
	/* OPT in the authority section */
	n = tu_hex("0001 8000 0001 0000 0001 0000 01 61 00 0001 0001", w);
	n += tu_hex("00 0029 0200 00000000 0000", w + n);
	assert_int_equal(parse2(&m, w, n), DNS_EFORMAT);
	/* bad option length */
	n = tu_hex(h, w);
	n += tu_hex("00 0029 0200 00000000 0005 000a 0008 01", w + n);
	assert_int_equal(parse2(&m, w, n), DNS_EFORMAT);
	/* cookie of 12 octets */
	n = tu_hex(h, w);
	n += tu_hex("00 0029 0200 00000000 0010 000a 000c 010203040506070809101112", w + n);
	assert_int_equal(parse2(&m, w, n), DNS_EFORMAT);
	/* ECS with bits past the prefix */
	n = tu_hex(h, w);
	n += tu_hex("00 0029 0200 00000000 000b 0008 0007 0001 10 00 c00001", w + n);
	assert_int_equal(parse2(&m, w, n), DNS_EFORMAT);
	/* BADVERS material: version 1 parses, version is reported */
	n = tu_hex(h, w);
	n += tu_hex("00 0029 0200 00010000 0000", w + n);
	assert_int_equal(parse2(&m, w, n), 0);
	assert_int_equal(m.edns.version, 1);
	/* extended rcode */
	n = tu_hex("0001 8007 0001 0000 0000 0001 01 61 00 0001 0001"
		"00 0029 0200 01000000 0000", w);
	assert_int_equal(parse2(&m, w, n), 0);
	assert_int_equal(msg_rcode(&m), RCODE_BADCOOKIE);
	/* TSIG must be last */
	n = tu_hex(h, w);
	w[11] = 2;
	n += tu_hex("01 6b 00 00fa 00ff 00000000 0000  00 0029 0200 00000000 0000", w + n);
	assert_int_equal(parse2(&m, w, n), DNS_EFORMAT);
	/* TSIG in the answer section */
	n = tu_hex("0001 8000 0001 0001 0000 0000 01 61 00 0001 0001", w);
	n += tu_hex("01 6b 00 00fa 00ff 00000000 0000", w + n);
	assert_int_equal(parse2(&m, w, n), DNS_EFORMAT);
}

static void update_empty_rdata(void **st)
{
	(void)st;
	uint8_t w[512];
	msg m;
	/* UPDATE: zone example.com SOA; update "delete all RRsets of a"
	 * (class ANY, type ANY, rdlen 0) and "delete A" (class ANY, A, 0). */
	size_t n = tu_hex("0001 2800 0001 0000 0002 0000"
		       "07 6578616d706c65 03 636f6d 00 0006 0001"
		       "01 61 c00c 00ff 00ff 00000000 0000"
		       "01 61 c00c 0001 00ff 00000000 0000", w);
	assert_int_equal(parse2(&m, w, n), 0);
	assert_int_equal(msg_flags_opcode(m.hdr.flags), OPCODE_UPDATE);
	assert_int_equal(m.nrr, 3);
}

static void bad_rdata(void **st)
{
	(void)st;
	uint8_t w[512];
	msg m, q;
	/* A with 3 octets: msg_parse refuses, msg_parse_query does not look */
	size_t n = tu_hex("0001 8000 0001 0001 0000 0000 01 61 00 0001 0001"
		       "c00c 0001 0001 00000000 0003 010203", w);
	int rc = msg_parse(&m, w, n, rrs, MSG_MAXRRS);
	assert_true(rc < 0);
	assert_true(msg_err_is_formerr(&m, rc));
	assert_int_equal(msg_parse_query(&q, w, n), 0);
	/* NS whose name runs past RDLENGTH */
	n = tu_hex("0001 8000 0001 0001 0000 0000 01 61 00 0001 0001"
		"c00c 0002 0001 00000000 0002 01 62 00", w);
	assert_true(msg_parse(&m, w, n, rrs, MSG_MAXRRS) < 0);
	/* NS with a forward pointer inside the RDATA */
	n = tu_hex("0001 8000 0001 0001 0000 0000 01 61 00 0001 0001"
		"c00c 0002 0001 00000000 0002 c020", w);
	assert_true(msg_parse(&m, w, n, rrs, MSG_MAXRRS) < 0);
	/* unknown type: any content */
	n = tu_hex("0001 8000 0001 0001 0000 0000 01 61 00 0001 0001"
		"c00c fde9 0001 00000000 0003 010203", w);
	assert_int_equal(parse2(&m, w, n), 0);
}

static void cap_too_small(void **st)
{
	(void)st;
	uint8_t w[512];
	size_t n = tu_hex(RESP, w);
	msg m;
	msg_rr few[3];
	int rc = msg_parse(&m, w, n, few, 3);
	assert_int_equal(rc, DNS_ESPACE);
	assert_true(m.hdr_ok);
	assert_false(msg_err_is_formerr(&m, rc));
	msg_rr six[6];
	assert_int_equal(msg_parse(&m, w, n, six, 6), 0);
	assert_int_equal(msg_parse(&m, w, 5, NULL, 0), DNS_ETRUNC);
	assert_false(m.hdr_ok);
	assert_false(msg_err_is_formerr(&m, DNS_ETRUNC));
}

/* ---- builder ---- */

static void build_round_trip(void **st)
{
	(void)st;
	uint8_t buf[1024];
	msg_wr mw;
	msg_wr_init(&mw, buf, sizeof(buf));
	const uint8_t *qn = (const uint8_t *)"\7example\3com";
	const uint8_t *www = (const uint8_t *)"\3www\7EXAMPLE\3com";
	const uint8_t a[4] = { 192, 0, 2, 1 };
	const uint8_t *ns = (const uint8_t *)"\3ns1\7example\3com";
	uint8_t mx[64] = { 0, 10 };
	memcpy(mx + 2, "\4mail\7example\3com", 18);
	assert_int_equal(msg_wr_header(&mw, 0x4242, MSG_QR | MSG_AA), 0);
	assert_int_equal(msg_wr_header(&mw, 0x4242, 0), DNS_EINVAL);
	assert_int_equal(msg_wr_question(&mw, qn, RR_A, CLASS_IN), 0);
	assert_int_equal(msg_wr_rr(&mw, MSG_ANSWER, qn, RR_A, CLASS_IN, 300, a, 4), 0);
	assert_int_equal(msg_wr_rr(&mw, MSG_ANSWER, www, RR_A, CLASS_IN, 300, a, 4), 0);
	assert_int_equal(msg_wr_rr(&mw, MSG_AUTHORITY, qn, RR_NS, CLASS_IN, 86400, ns, 17), 0);
	assert_int_equal(msg_wr_rr(&mw, MSG_AUTHORITY, qn, RR_MX, CLASS_IN, 86400, mx, 20), 0);
	/* sections in order only */
	assert_int_equal(msg_wr_rr(&mw, MSG_ANSWER, qn, RR_A, CLASS_IN, 1, a, 4), DNS_EINVAL);
	assert_int_equal(msg_wr_question(&mw, qn, RR_A, CLASS_IN), DNS_EINVAL);
	assert_int_equal(msg_wr_rr(&mw, MSG_ADDITIONAL, ns, RR_A, CLASS_IN, 86400, a, 4), 0);
	edns_out eo = { .udp_size = 1232, .flags = EDNS_DO, .rcode = RCODE_BADVERS };
	assert_int_equal(msg_wr_edns(&mw, &eo), 0);
	msg_wr_set_flags(&mw, msg_flags_set_rcode(msg_wr_flags(&mw), RCODE_BADVERS));
	int len = msg_wr_finish(&mw);
	assert_true(len > 0);
	/* compressed: owners, NS and MX targets point back (uncompressed: 212) */
	assert_int_equal(len, 12 + 17 + 16 + 20 + 18 + 21 + 16 + 11);

	msg m;
	assert_int_equal(parse2(&m, buf, (size_t)len), 0);
	assert_int_equal(m.hdr.id, 0x4242);
	assert_int_equal(m.hdr.qdcount, 1);
	assert_int_equal(m.hdr.ancount, 2);
	assert_int_equal(m.hdr.nscount, 2);
	assert_int_equal(m.hdr.arcount, 2);
	assert_int_equal(msg_rcode(&m), RCODE_BADVERS);
	assert_true(m.edns.flags & EDNS_DO);
	uint8_t owner[NAME_MAXLEN], rd[300];
	assert_int_equal(msg_rr_owner(&m, &m.rr[2], owner), 17);
	assert_true(name_eq(owner, www));
	wire_wr out;
	wire_wr_init(&out, rd, sizeof(rd));
	assert_int_equal(msg_rr_rdata(&m, &m.rr[4], &out), 0);
	assert_int_equal(wire_wr_off(&out), 20);
	assert_memory_equal(rd, mx, 20);
	assert_int_equal(m.rr[5].ttl, 86400);
	assert_int_equal(m.rr[5].section, MSG_ADDITIONAL);
}

static void build_truncation(void **st)
{
	(void)st;
	uint8_t buf[512];
	msg_wr mw;
	const uint8_t *qn = (const uint8_t *)"\7example\3com";
	const uint8_t a[4] = { 192, 0, 2, 1 };
	msg_wr_init(&mw, buf, 80);
	assert_int_equal(msg_wr_header(&mw, 1, MSG_QR), 0);
	assert_int_equal(msg_wr_question(&mw, qn, RR_A, CLASS_IN), 0); /* 29 */
	int added = 0, rc;
	while ((rc = msg_wr_rr(&mw, MSG_ANSWER, qn, RR_A, CLASS_IN, 60, a, 4)) == 0)
		added++;
	assert_int_equal(rc, DNS_ESPACE);
	assert_int_equal(added, 3); /* 29 + 3 * 16 = 77; a fourth needs 93 */
	assert_int_equal(wire_wr_off(&mw.w), 77);
	assert_int_equal(mw.w.err, 0);
	/* a long new owner does not fit and must leave nothing behind, not
	 * even in the compression table */
	const uint8_t *longn = (const uint8_t *)"\12abcdefghij\7example\3com";
	unsigned ctn = mw.ct.n;
	assert_int_equal(msg_wr_rr(&mw, MSG_ADDITIONAL, longn, RR_A, CLASS_IN, 60, a, 4), DNS_ESPACE);
	assert_int_equal(mw.ct.n, ctn);
	assert_int_equal(wire_wr_off(&mw.w), 77);
	msg_wr_set_flags(&mw, msg_wr_flags(&mw) | MSG_TC);
	int len = msg_wr_finish(&mw);
	assert_int_equal(len, 77);
	msg m;
	assert_int_equal(parse2(&m, buf, (size_t)len), 0);
	assert_true(m.hdr.flags & MSG_TC);
	assert_int_equal(m.hdr.ancount, 3);
	assert_int_equal(m.hdr.arcount, 0);

	/* After a rewind, the dropped name must not be used for compression. */
	msg_wr_init(&mw, buf, 100);
	msg_wr_header(&mw, 2, MSG_QR);
	msg_wr_question(&mw, qn, RR_A, CLASS_IN);
	uint8_t big[64];
	memset(big, 7, sizeof(big));
	assert_int_equal(msg_wr_rr(&mw, MSG_ANSWER, longn, RR_NULL, CLASS_IN, 60, big, 64), DNS_ESPACE);
	assert_int_equal(msg_wr_rr(&mw, MSG_ANSWER, qn, RR_NULL, CLASS_IN, 60, big, 30), 0);
	assert_int_equal(msg_wr_rr(&mw, MSG_ANSWER, longn, RR_A, CLASS_IN, 60, a, 4), 0);
	len = msg_wr_finish(&mw);
	assert_int_equal(parse2(&m, buf, (size_t)len), 0);
	uint8_t owner[NAME_MAXLEN];
	assert_int_equal(msg_rr_owner(&m, &m.rr[2], owner), 24);
	assert_memory_equal(owner, longn, 24);

	/* two-step RR whose RDATA overflows */
	msg_wr_init(&mw, buf, 60);
	msg_wr_header(&mw, 3, MSG_QR);
	assert_int_equal(msg_wr_rr_begin(&mw, MSG_ANSWER, qn, RR_TXT, CLASS_IN, 0), 0);
	wire_wr_bytes(&mw.w, big, 40);
	assert_int_equal(msg_wr_rr_end(&mw), DNS_ESPACE);
	assert_int_equal(wire_wr_off(&mw.w), 12);
	assert_int_equal(mw.counts[MSG_ANSWER], 0);
	assert_int_equal(msg_wr_rr_begin(&mw, MSG_ANSWER, qn, RR_TXT, CLASS_IN, 0), 0);
	wire_wr_u8(&mw.w, 3);
	wire_wr_bytes(&mw.w, "abc", 3);
	assert_int_equal(msg_wr_rr_end(&mw), 0);
	len = msg_wr_finish(&mw);
	assert_int_equal(len, 12 + 13 + 10 + 4);
	assert_int_equal(parse2(&m, buf, (size_t)len), 0);
	assert_int_equal(m.rr[0].rdlen, 4);

	/* header that does not fit */
	msg_wr_init(&mw, buf, 11);
	assert_int_equal(msg_wr_header(&mw, 1, 0), DNS_ESPACE);
	assert_int_equal(msg_wr_finish(&mw), DNS_EINVAL);
}

static void build_reserve_and_marks(void **st)
{
	(void)st;
	uint8_t buf[600];
	msg_wr mw;
	const uint8_t *qn = (const uint8_t *)"\7example\3com";
	const uint8_t a[4] = { 192, 0, 2, 1 };
	const uint8_t ck[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 9, 9, 9, 9, 9 };
	edns_out eo = { .udp_size = 1232, .cookie = ck, .cookie_len = 16,
			.pad_block = EDNS_PAD_RESPONSE };
	msg_wr_init(&mw, buf, 512);
	msg_wr_header(&mw, 9, MSG_QR | MSG_AA);
	msg_wr_question(&mw, qn, RR_A, CLASS_IN);
	assert_int_equal(msg_wr_reserve(&mw, edns_size(&eo)), 0);
	assert_int_equal(msg_wr_reserve(&mw, 1), DNS_EINVAL);
	int added = 0;
	msg_wr_mark mk;
	msg_wr_save(&mw, &mk);
	while (msg_wr_rr(&mw, MSG_ANSWER, qn, RR_A, CLASS_IN, 60, a, 4) == 0)
		added++;
	assert_int_equal(added, (512 - 31 - 29) / 16);
	msg_wr_set_flags(&mw, msg_wr_flags(&mw) | MSG_TC);
	/* RFC 2181 §9: drop the partial RRset */
	msg_wr_restore(&mw, &mk);
	assert_int_equal(mw.counts[MSG_ANSWER], 0);
	msg_wr_release(&mw);
	assert_int_equal(msg_wr_edns(&mw, &eo), 0);
	int len = msg_wr_finish(&mw);
	assert_int_equal(len, 468); /* padded to the block */
	msg m;
	assert_int_equal(parse2(&m, buf, (size_t)len), 0);
	assert_true(m.hdr.flags & MSG_TC);
	assert_int_equal(m.hdr.ancount, 0);
	assert_int_equal(m.hdr.arcount, 1);
	assert_int_equal(m.edns.cookie_len, 16);
	assert_true(m.edns.opts & EDNS_HAS_PADDING);

	/* without restore: the RRs that fit stay, OPT still fits */
	msg_wr_init(&mw, buf, 512);
	msg_wr_header(&mw, 9, MSG_QR | MSG_AA);
	msg_wr_question(&mw, qn, RR_A, CLASS_IN);
	eo.pad_block = 0;
	assert_int_equal(msg_wr_reserve(&mw, edns_size(&eo)), 0);
	while (msg_wr_rr(&mw, MSG_ANSWER, qn, RR_A, CLASS_IN, 60, a, 4) == 0)
		;
	msg_wr_release(&mw);
	assert_int_equal(msg_wr_edns(&mw, &eo), 0);
	len = msg_wr_finish(&mw);
	assert_true(len <= 512);
	assert_int_equal(parse2(&m, buf, (size_t)len), 0);
	assert_int_equal(m.hdr.ancount, added);
	assert_true(m.edns.present);
	/* reservation larger than the room */
	msg_wr_init(&mw, buf, 20);
	msg_wr_header(&mw, 9, 0);
	assert_int_equal(msg_wr_reserve(&mw, 9), DNS_ESPACE);
	assert_int_equal(msg_wr_reserve(&mw, 8), 0);
	assert_int_equal(msg_wr_question(&mw, (const uint8_t *)"", RR_A, CLASS_IN), DNS_ESPACE);
	msg_wr_release(&mw);
	assert_int_equal(msg_wr_question(&mw, (const uint8_t *)"", RR_A, CLASS_IN), 0);
	assert_int_equal(msg_wr_finish(&mw), 17);
}

static void build_reply(void **st)
{
	(void)st;
	uint8_t w[512], buf[512];
	size_t n = tu_hex("beef 0110 0001 0000 0000 0000 03 575757 07 6578616d706c65 03 636f6d 00 001c 0001", w);
	msg q, m;
	assert_int_equal(msg_parse_query(&q, w, n), 0);
	msg_wr mw;
	msg_wr_init(&mw, buf, sizeof(buf));
	assert_int_equal(msg_wr_reply(&mw, &q, MSG_AA | RCODE_NXDOMAIN), 0);
	int len = msg_wr_finish(&mw);
	assert_int_equal(len, (int)n);
	assert_int_equal(parse2(&m, buf, (size_t)len), 0);
	assert_int_equal(m.hdr.id, 0xbeef);
	assert_int_equal(m.hdr.flags, MSG_QR | MSG_AA | MSG_RD | MSG_CD | RCODE_NXDOMAIN);
	assert_memory_equal(m.qname, "\3WWW\7example\3com", 17); /* case kept */
	assert_int_equal(m.qtype, RR_AAAA);
	/* FORMERR after a failed parse: header only */
	w[5] = 2;
	int rc = msg_parse_query(&q, w, n);
	assert_true(msg_err_is_formerr(&q, rc));
	msg_wr_init(&mw, buf, sizeof(buf));
	assert_int_equal(msg_wr_reply(&mw, &q, RCODE_FORMERR), 0);
	assert_int_equal(msg_wr_finish(&mw), 12);
	assert_int_equal(msg_parse(&m, buf, 12, rrs, MSG_MAXRRS), 0);
	assert_int_equal(m.hdr.flags, MSG_QR | MSG_RD | MSG_CD | RCODE_FORMERR);
	assert_int_equal(m.hdr.qdcount, 0);
}

static void text_form(void **st)
{
	(void)st;
	uint8_t w[512];
	size_t n = tu_hex(RESP, w);
	msg m;
	assert_int_equal(msg_parse(&m, w, n, rrs, MSG_MAXRRS), 0);
	char out[4096];
	int len = msg_to_text(&m, out, sizeof(out));
	assert_true(len > 0);
	assert_int_equal((size_t)len, strlen(out));
	assert_non_null(strstr(out, "opcode: QUERY, status: NOERROR, id: 4660"));
	assert_non_null(strstr(out, "flags: qr aa rd ra; QUERY: 1, ANSWER: 2, AUTHORITY: 1, ADDITIONAL: 2"));
	assert_non_null(strstr(out, "EDNS: version: 0, flags: do; udp: 1232"));
	assert_non_null(strstr(out, "COOKIE: 0102030405060708"));
	assert_non_null(strstr(out, ";; QUESTION SECTION:\n;example.com.\t\tIN\tA\n"));
	assert_non_null(strstr(out, ";; ANSWER SECTION:\n"));
	assert_non_null(strstr(out, "192.0.2.1"));
	assert_non_null(strstr(out, "ns1.example.com."));
	assert_non_null(strstr(out, ";; ADDITIONAL SECTION:\n"));
	assert_null(strstr(out, "OPT\t")); /* OPT only as the pseudo-section */
	/* too small a buffer */
	for (size_t cap = 0; cap < (size_t)len + 1; cap += 7)
		assert_int_equal(msg_to_text(&m, out, cap), DNS_ESPACE);
	assert_int_equal(msg_to_text(&m, out, (size_t)len + 1), len);
	/* hot-path view */
	assert_int_equal(msg_parse_query(&m, w, n), 0);
	len = msg_to_text(&m, out, sizeof(out));
	assert_true(len > 0);
	assert_non_null(strstr(out, ";example.com.\t\tIN\tA\n"));
	assert_null(strstr(out, "ANSWER SECTION"));
	/* names */
	assert_string_equal(msg_rcode_name(RCODE_BADCOOKIE), "BADCOOKIE");
	assert_string_equal(msg_rcode_name(RCODE_NXDOMAIN), "NXDOMAIN");
	assert_null(msg_rcode_name(12));
	assert_string_equal(msg_opcode_name(OPCODE_NOTIFY), "NOTIFY");
	assert_int_equal(msg_flags_opcode(msg_flags_set_opcode(MSG_QR | MSG_RD, OPCODE_UPDATE)), 5);
	assert_int_equal(msg_flags_set_opcode(MSG_QR | MSG_RD, OPCODE_UPDATE) & ~MSG_OPCODE_MASK,
			 MSG_QR | MSG_RD);
}

/* Every corpus file: the two parsers agree (parse2 checks it). */
static void corpus_agreement(void **st)
{
	(void)st;
	const char *dir = "tests/fuzz/corpus/msg";
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *e;
	int files = 0, ok = 0;
	static uint8_t buf[70000];
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[600];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "rb");
		assert_non_null(f);
		size_t n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		msg m;
		if (parse2(&m, buf, n) == 0)
			ok++;
		files++;
	}
	closedir(d);
	assert_true(files >= 20);
	assert_true(ok >= 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_response),
		cmocka_unit_test(every_prefix_fails),
		cmocka_unit_test(trailing_and_counts),
		cmocka_unit_test(qdcount_zero_and_two),
		cmocka_unit_test(hostile_names),
		cmocka_unit_test(opt_rules),
		cmocka_unit_test(update_empty_rdata),
		cmocka_unit_test(bad_rdata),
		cmocka_unit_test(cap_too_small),
		cmocka_unit_test(build_round_trip),
		cmocka_unit_test(build_truncation),
		cmocka_unit_test(build_reserve_and_marks),
		cmocka_unit_test(build_reply),
		cmocka_unit_test(text_form),
		cmocka_unit_test(corpus_agreement),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
