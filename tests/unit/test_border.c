/* test_border — the namespace injector's packet code: IPv4 and IPv6
 * parsing of UDP datagrams and TCP segments (fragments, extension headers,
 * bad lengths, other protocols refused), the DNS message in a TCP segment,
 * forged UDP replies and spoofed RSTs (addresses and ports swapped,
 * sequence numbers, TTL / hop limit, ID, DF), checksums verified by an
 * independent sum, and the documentation-range check. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <string.h>

#include "dns/err.h"
#include "inject/border.h"

static const uint8_t CL4[4] = {198, 51, 100, 2}, SV4[4] = {203, 0, 113, 2};
static const uint8_t CL6[16] = {0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
static const uint8_t SV6[16] = {0x20, 0x01, 0x0d, 0xb8, 0x01, 0x13, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
static const uint8_t DNSQ[12] = {0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};

/* Independent check: the one's-complement sum (byte by byte, 64-bit
 * accumulator, folded at the end) of the pseudo-header and the segment
 * including its checksum field; a correct checksum makes it 0xffff. */
static uint16_t verify_sum(int fam, const uint8_t *src, const uint8_t *dst, uint8_t proto, const uint8_t *seg,
			   size_t len)
{
	uint64_t s = 0;
	size_t al = fam == AF_INET6 ? 16 : 4;
	for (size_t i = 0; i < al; i++)
		s += (uint64_t)(i % 2 ? src[i] : src[i] << 8) + (uint64_t)(i % 2 ? dst[i] : dst[i] << 8);
	s += proto + len;
	for (size_t i = 0; i < len; i++)
		s += i % 2 ? seg[i] : (uint64_t)seg[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* IP header for fam, src -> dst, proto, l4len bytes after it; TTL/hop 64 */
static size_t mkip(uint8_t *p, int fam, const uint8_t *src, const uint8_t *dst, uint8_t proto, size_t l4len)
{
	if (fam == AF_INET6) {
		memset(p, 0, 40);
		p[0] = 0x60;
		p[4] = (uint8_t)(l4len >> 8);
		p[5] = (uint8_t)l4len;
		p[6] = proto;
		p[7] = 64;
		memcpy(p + 8, src, 16);
		memcpy(p + 24, dst, 16);
		return 40;
	}
	size_t tot = 20 + l4len;
	memset(p, 0, 20);
	p[0] = 0x45;
	p[2] = (uint8_t)(tot >> 8);
	p[3] = (uint8_t)tot;
	p[6] = 0x40;
	p[8] = 64;
	p[9] = proto;
	memcpy(p + 12, src, 4);
	memcpy(p + 16, dst, 4);
	uint16_t c = border_ip_csum(p, 20);
	p[10] = (uint8_t)(c >> 8);
	p[11] = (uint8_t)c;
	return 20;
}

/* a UDP query client:40000 -> server:53 with the 12-byte DNS body */
static size_t mkudp(uint8_t *p, int fam)
{
	size_t h = mkip(p, fam, fam == AF_INET6 ? CL6 : CL4, fam == AF_INET6 ? SV6 : SV4, 17, 8 + sizeof(DNSQ));
	uint8_t *u = p + h;
	memset(u, 0, 8);
	u[0] = 40000 >> 8;
	u[1] = 40000 & 0xff;
	u[3] = 53;
	u[5] = 8 + sizeof(DNSQ);
	memcpy(u + 8, DNSQ, sizeof(DNSQ));
	return h + 8 + sizeof(DNSQ);
}

/* a TCP segment client:40001 -> server:53, seq/ack, PSH+ACK, data offset
 * doff words (options NOPs), payload = 2-byte length + the DNS body */
static size_t mktcp(uint8_t *p, int fam, uint32_t seq, uint32_t ack, unsigned doff)
{
	size_t plen = 2 + sizeof(DNSQ), tl = doff * 4 + plen;
	size_t h = mkip(p, fam, fam == AF_INET6 ? CL6 : CL4, fam == AF_INET6 ? SV6 : SV4, 6, tl);
	uint8_t *t = p + h;
	memset(t, 1, doff * 4); /* NOP options */
	t[0] = 40001 >> 8;
	t[1] = 40001 & 0xff;
	t[2] = 0;
	t[3] = 53;
	for (int i = 0; i < 4; i++) {
		t[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
		t[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
	}
	t[12] = (uint8_t)(doff << 4);
	t[13] = 0x18; /* PSH ACK */
	t[14] = 0xfa;
	t[15] = 0xf0;
	t[16] = t[17] = t[18] = t[19] = 0;
	t[doff * 4] = 0;
	t[doff * 4 + 1] = sizeof(DNSQ);
	memcpy(t + doff * 4 + 2, DNSQ, sizeof(DNSQ));
	return h + tl;
}

static void test_csum_known(void **state)
{
	(void)state;
	/* RFC 1071 section 3 example: sum 0xddf2, checksum its complement */
	static const uint8_t b[8] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	assert_int_equal(border_ip_csum(b, 8), 0x220d);
	/* odd length: the last byte is padded with zero */
	static const uint8_t o[3] = {0x12, 0x34, 0x56};
	assert_int_equal(border_ip_csum(o, 3), (uint16_t)~(0x1234 + 0x5600));
}

static void test_parse(void **state)
{
	(void)state;
	uint8_t p[64];
	size_t n = mkudp(p, AF_INET);
	struct border_pkt u;
	assert_int_equal(border_parse(p, n, &u), 0);
	assert_int_equal(u.family, AF_INET);
	assert_int_equal(u.proto, 17);
	assert_int_equal(u.sport, 40000);
	assert_int_equal(u.dport, 53);
	assert_int_equal(u.ttl, 64);
	assert_int_equal(u.len, 12);
	assert_int_equal(u.payload[0], 0x12);
	assert_memory_equal(u.src, CL4, 4);
	assert_memory_equal(u.dst, SV4, 4);
	/* trailing bytes past the IP total length are ignored */
	assert_int_equal(border_parse(p, n + 10, &u), 0);
	assert_int_equal(u.len, 12);
	/* truncated, not IPv4, not UDP/TCP, fragments, UDP longer than IP */
	assert_int_equal(border_parse(p, n - 1, &u), DNS_EFORMAT);
	assert_int_equal(border_parse(p, 19, &u), DNS_EFORMAT);
	assert_int_equal(border_parse(p, 0, &u), DNS_EFORMAT);
	uint8_t q[64];
	memcpy(q, p, n);
	q[0] = 0x55;
	assert_int_equal(border_parse(q, n, &u), DNS_EFORMAT);
	memcpy(q, p, n);
	q[9] = 1; /* ICMP */
	assert_int_equal(border_parse(q, n, &u), DNS_EFORMAT);
	memcpy(q, p, n);
	q[6] = 0x20; /* MF */
	assert_int_equal(border_parse(q, n, &u), DNS_EFORMAT);
	memcpy(q, p, n);
	q[7] = 1; /* offset 8 */
	assert_int_equal(border_parse(q, n, &u), DNS_EFORMAT);
	memcpy(q, p, n);
	q[25] = 200;
	assert_int_equal(border_parse(q, n, &u), DNS_EFORMAT);
	memcpy(q, p, n);
	q[25] = 7; /* UDP length below its header */
	assert_int_equal(border_parse(q, n, &u), DNS_EFORMAT);
	memcpy(q, p, n);
	q[0] = 0x44; /* IHL 16 */
	assert_int_equal(border_parse(q, n, &u), DNS_EFORMAT);
	memcpy(q, p, n);
	q[3] = 24; /* total length leaves no room for the UDP header */
	assert_int_equal(border_parse(q, n, &u), DNS_EFORMAT);
}

static void test_parse_v6(void **state)
{
	(void)state;
	uint8_t p[96];
	size_t n = mkudp(p, AF_INET6);
	assert_int_equal(n, 40 + 8 + 12);
	struct border_pkt u;
	assert_int_equal(border_parse(p, n, &u), 0);
	assert_int_equal(u.family, AF_INET6);
	assert_int_equal(u.proto, 17);
	assert_memory_equal(u.src, CL6, 16);
	assert_memory_equal(u.dst, SV6, 16);
	assert_int_equal(u.sport, 40000);
	assert_int_equal(u.dport, 53);
	assert_int_equal(u.ttl, 64);
	assert_int_equal(u.len, 12);
	assert_memory_equal(u.payload, DNSQ, 12);
	assert_int_equal(border_parse(p, n + 5, &u), 0);
	assert_int_equal(border_parse(p, n - 1, &u), DNS_EFORMAT);
	assert_int_equal(border_parse(p, 39, &u), DNS_EFORMAT);
	uint8_t q[96];
	static const uint8_t ext[] = {0, 43, 44, 60, 58, 59};
	for (size_t i = 0; i < sizeof(ext); i++) {
		memcpy(q, p, n);
		q[6] = ext[i]; /* hop-by-hop, routing, fragment, dest opts, ICMPv6, none */
		assert_int_equal(border_parse(q, n, &u), DNS_EFORMAT);
	}
	memcpy(q, p, n);
	q[45] = 21; /* UDP length past the payload length */
	assert_int_equal(border_parse(q, n, &u), DNS_EFORMAT);
	memcpy(q, p, n);
	q[5] = 7; /* payload shorter than a UDP header */
	assert_int_equal(border_parse(q, n, &u), DNS_EFORMAT);
}

static void test_parse_tcp(void **state)
{
	(void)state;
	for (int fam = 0; fam < 2; fam++) {
		int f = fam ? AF_INET6 : AF_INET;
		uint8_t p[128];
		size_t n = mktcp(p, f, 0x01020304, 0xa0b0c0d0, 8);
		struct border_pkt t;
		assert_int_equal(border_parse(p, n, &t), 0);
		assert_int_equal(t.family, f);
		assert_int_equal(t.proto, 6);
		assert_int_equal(t.sport, 40001);
		assert_int_equal(t.dport, 53);
		assert_int_equal(t.seq, 0x01020304);
		assert_int_equal(t.ack, 0xa0b0c0d0);
		assert_int_equal(t.flags, 0x18);
		assert_int_equal(t.len, 14); /* after 12 bytes of options */
		assert_int_equal(t.payload[1], 12);
		const uint8_t *msg;
		size_t mlen;
		assert_int_equal(border_tcp_dns(&t, &msg, &mlen), 0);
		assert_int_equal(mlen, 12);
		assert_memory_equal(msg, DNSQ, 12);
		size_t h = fam ? 40 : 20;
		uint8_t q[128];
		memcpy(q, p, n);
		q[h + 12] = 4 << 4; /* data offset below 20 bytes */
		assert_int_equal(border_parse(q, n, &t), DNS_EFORMAT);
		memcpy(q, p, n);
		q[h + 12] = 15 << 4; /* data offset past the segment */
		assert_int_equal(border_parse(q, n, &t), DNS_EFORMAT);
		/* a bare header (SYN-like): parses, no payload, no DNS */
		n = mktcp(p, f, 1, 2, 5);
		memcpy(q, p, n);
		if (fam) {
			q[5] = 20;
		} else {
			q[3] = 40;
			q[10] = q[11] = 0;
			uint16_t c = border_ip_csum(q, 20);
			q[10] = (uint8_t)(c >> 8);
			q[11] = (uint8_t)c;
		}
		assert_int_equal(border_parse(q, h + 20, &t), 0);
		assert_int_equal(t.len, 0);
		assert_int_equal(border_tcp_dns(&t, &msg, &mlen), DNS_EFORMAT);
		/* a segment too short for a TCP header */
		if (fam)
			q[5] = 19;
		else
			q[3] = 39;
		assert_int_equal(border_parse(q, h + 20, &t), DNS_EFORMAT);
	}
}

static void test_tcp_dns(void **state)
{
	(void)state;
	uint8_t pay[64] = {0, 12};
	memcpy(pay + 2, DNSQ, 12);
	struct border_pkt t = {.family = AF_INET, .proto = 6, .payload = pay, .len = 14};
	const uint8_t *msg;
	size_t mlen;
	assert_int_equal(border_tcp_dns(&t, &msg, &mlen), 0);
	assert_ptr_equal(msg, pay + 2);
	assert_int_equal(mlen, 12);
	/* declared longer than the segment: read as far as it goes */
	pay[1] = 40;
	assert_int_equal(border_tcp_dns(&t, &msg, &mlen), 0);
	assert_int_equal(mlen, 12);
	/* declared shorter than the segment (a second message behind): only the first */
	t.len = 30;
	pay[1] = 13;
	assert_int_equal(border_tcp_dns(&t, &msg, &mlen), 0);
	assert_int_equal(mlen, 13);
	/* declared below a DNS header; fewer than 12 bytes after the prefix;
	 * the prefix alone; not TCP */
	pay[1] = 11;
	assert_int_equal(border_tcp_dns(&t, &msg, &mlen), DNS_EFORMAT);
	pay[1] = 12;
	t.len = 13;
	assert_int_equal(border_tcp_dns(&t, &msg, &mlen), DNS_EFORMAT);
	t.len = 2;
	assert_int_equal(border_tcp_dns(&t, &msg, &mlen), DNS_EFORMAT);
	t.len = 14;
	t.proto = 17;
	assert_int_equal(border_tcp_dns(&t, &msg, &mlen), DNS_EFORMAT);
}

static void test_build(void **state)
{
	(void)state;
	uint8_t p[64], out[600];
	size_t n = mkudp(p, AF_INET);
	struct border_pkt q;
	assert_int_equal(border_parse(p, n, &q), 0);
	static const uint8_t dns[13] = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 7};
	int len = border_build(out, sizeof(out), &q, dns, sizeof(dns), 169, 0xbeef, true);
	assert_int_equal(len, 20 + 8 + 13);
	struct border_pkt r;
	assert_int_equal(border_parse(out, (size_t)len, &r), 0);
	assert_memory_equal(r.src, q.dst, 4);
	assert_memory_equal(r.dst, q.src, 4);
	assert_int_equal(r.sport, 53);
	assert_int_equal(r.dport, 40000);
	assert_int_equal(r.ttl, 169);
	assert_int_equal(out[4] << 8 | out[5], 0xbeef);
	assert_int_equal(out[6], 0x40);
	assert_memory_equal(r.payload, dns, sizeof(dns));
	/* checksums verify (odd UDP length exercised), independently summed */
	assert_int_equal(border_ip_csum(out, 20), 0);
	assert_int_equal(verify_sum(AF_INET, out + 12, out + 16, 17, out + 20, (size_t)len - 20), 0xffff);
	assert_int_equal(verify_sum(AF_INET, CL4, CL4, 17, out + 20, (size_t)len - 20) == 0xffff, 0);
	/* no DF, TTL out of range -> 64 */
	len = border_build(out, sizeof(out), &q, dns, sizeof(dns), 0, 0, false);
	assert_int_equal(out[6], 0);
	assert_int_equal(out[8], 64);
	assert_int_equal(border_build(out, 30, &q, dns, sizeof(dns), 64, 0, false), DNS_ESPACE);
}

static void test_build_v6(void **state)
{
	(void)state;
	uint8_t p[96], out[600];
	size_t n = mkudp(p, AF_INET6);
	struct border_pkt q;
	assert_int_equal(border_parse(p, n, &q), 0);
	static const uint8_t dns[13] = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 9};
	int len = border_build(out, sizeof(out), &q, dns, sizeof(dns), 53, 0xbeef, true);
	assert_int_equal(len, 40 + 8 + 13);
	assert_int_equal(out[0], 0x60);
	assert_int_equal(out[1] | out[2] | out[3], 0); /* no traffic class, no flow label */
	assert_int_equal(out[4] << 8 | out[5], 8 + 13);
	assert_int_equal(out[6], 17);
	struct border_pkt r;
	assert_int_equal(border_parse(out, (size_t)len, &r), 0);
	assert_int_equal(r.family, AF_INET6);
	assert_memory_equal(r.src, SV6, 16);
	assert_memory_equal(r.dst, CL6, 16);
	assert_int_equal(r.sport, 53);
	assert_int_equal(r.dport, 40000);
	assert_int_equal(r.ttl, 53);
	assert_memory_equal(r.payload, dns, sizeof(dns));
	assert_int_equal(verify_sum(AF_INET6, out + 8, out + 24, 17, out + 40, (size_t)len - 40), 0xffff);
	/* the UDP checksum is never sent as 0 (mandatory over IPv6) */
	assert_int_not_equal(out[46] << 8 | out[47], 0);
	len = border_build(out, sizeof(out), &q, dns, sizeof(dns), 300, 0, false);
	assert_int_equal(out[7], 64);
	assert_int_equal(border_build(out, 40 + 8 + 12, &q, dns, sizeof(dns), 64, 0, false), DNS_ESPACE);
}

static void check_rst(int fam)
{
	uint8_t p[128], out[128];
	uint32_t seq = 0xfffffff8, ack = 0x7000abcd; /* seq + len wraps */
	size_t n = mktcp(p, fam, seq, ack, 5);
	struct border_pkt q;
	assert_int_equal(border_parse(p, n, &q), 0);
	size_t h = fam == AF_INET6 ? 40 : 20, al = fam == AF_INET6 ? 16 : 4;
	const uint8_t *cl = fam == AF_INET6 ? CL6 : CL4, *sv = fam == AF_INET6 ? SV6 : SV4;
	uint32_t next = seq + 14; /* 2-byte prefix + 12 */
	for (int d = 0; d < 2; d++) {
		bool to_client = d == 0;
		int len = border_build_rst(out, sizeof(out), &q, to_client ? BORDER_RST_CLIENT : BORDER_RST_SERVER, 77,
					   0x4242, true);
		assert_int_equal(len, (int)h + 20);
		struct border_pkt r;
		assert_int_equal(border_parse(out, (size_t)len, &r), 0);
		assert_int_equal(r.family, fam);
		assert_int_equal(r.proto, 6);
		assert_int_equal(r.ttl, 77);
		assert_int_equal(r.len, 0);
		assert_int_equal(r.flags, BORDER_TCP_RST | BORDER_TCP_ACK);
		assert_memory_equal(r.src, to_client ? sv : cl, al);
		assert_memory_equal(r.dst, to_client ? cl : sv, al);
		assert_int_equal(r.sport, to_client ? 53 : 40001);
		assert_int_equal(r.dport, to_client ? 40001 : 53);
		assert_int_equal(r.seq, to_client ? ack : next);
		assert_int_equal(r.ack, to_client ? next : ack);
		assert_int_equal(rd32(out + h + 4), r.seq);
		assert_int_equal(out[h + 12], 5 << 4);
		assert_int_equal(out[h + 14] | out[h + 15], 0); /* window 0 */
		assert_int_equal(verify_sum(fam, out + (fam == AF_INET6 ? 8 : 12), out + (fam == AF_INET6 ? 24 : 16), 6,
					    out + h, 20),
				 0xffff);
		if (fam == AF_INET) {
			assert_int_equal(border_ip_csum(out, 20), 0);
			assert_int_equal(out[4] << 8 | out[5], 0x4242);
			assert_int_equal(out[6], 0x40);
		} else {
			assert_int_equal(out[4] << 8 | out[5], 20);
			assert_int_equal(out[6], 6);
		}
	}
	assert_int_equal(border_build_rst(out, h + 19, &q, BORDER_RST_CLIENT, 64, 0, false), DNS_ESPACE);
}

static void test_rst(void **state)
{
	(void)state;
	check_rst(AF_INET);
	check_rst(AF_INET6);
}

static void test_l4_csum(void **state)
{
	(void)state;
	/* the computed value matches the independent sum for random-ish data,
	 * for both families and protocols, even and odd lengths */
	uint8_t seg[301];
	for (size_t i = 0; i < sizeof(seg); i++)
		seg[i] = (uint8_t)(i * 37 + 11);
	for (int fam = 0; fam < 2; fam++)
		for (int pr = 0; pr < 2; pr++)
			for (size_t len = 20; len <= sizeof(seg); len += 281) {
				int f = fam ? AF_INET6 : AF_INET;
				uint8_t proto = pr ? 6 : 17;
				size_t co = pr ? 16 : 6;
				seg[co] = seg[co + 1] = 0;
				uint16_t c = border_l4_csum(f, fam ? CL6 : CL4, fam ? SV6 : SV4, proto, seg, len);
				seg[co] = (uint8_t)(c >> 8);
				seg[co + 1] = (uint8_t)c;
				assert_int_equal(verify_sum(f, fam ? CL6 : CL4, fam ? SV6 : SV4, proto, seg, len), 0xffff);
			}
}

static void test_addr_ok(void **state)
{
	(void)state;
	assert_true(border_addr_ok(AF_INET, CL4));
	assert_true(border_addr_ok(AF_INET, SV4));
	assert_true(border_addr_ok(AF_INET, (const uint8_t[]){192, 0, 2, 200}));
	assert_false(border_addr_ok(AF_INET, (const uint8_t[]){127, 0, 0, 1}));
	assert_false(border_addr_ok(AF_INET, (const uint8_t[]){8, 8, 8, 8}));
	assert_false(border_addr_ok(AF_INET, (const uint8_t[]){198, 51, 101, 2}));
	assert_false(border_addr_ok(AF_INET, (const uint8_t[]){203, 0, 114, 2}));
	assert_true(border_addr_ok(AF_INET6, CL6));
	assert_true(border_addr_ok(AF_INET6, SV6));
	uint8_t a[16];
	memcpy(a, CL6, 16);
	a[3] = 0xb9;
	assert_false(border_addr_ok(AF_INET6, a));
	static const uint8_t lo6[16] = {[15] = 1};
	assert_false(border_addr_ok(AF_INET6, lo6));
	assert_false(border_addr_ok(AF_UNIX, CL4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csum_known), cmocka_unit_test(test_parse),   cmocka_unit_test(test_parse_v6),
		cmocka_unit_test(test_parse_tcp),  cmocka_unit_test(test_tcp_dns), cmocka_unit_test(test_build),
		cmocka_unit_test(test_build_v6),   cmocka_unit_test(test_rst),     cmocka_unit_test(test_l4_csum),
		cmocka_unit_test(test_addr_ok),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
