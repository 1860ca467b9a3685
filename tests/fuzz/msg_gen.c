/* msg_gen — writes the seed corpus of fuzz_msg (run by msg_gen.sh, not by
 * make): queries built with msg_wr, the answers a real server (NSD on
 * 127.0.0.1) gives to them, and hand-made hostile messages.
 *   msg_gen PORT OUTDIR */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns/msg.h"
#include "dns/rrtype.h"

static const char *outdir;
static int port;
static int nfiles;

static void save(const char *name, const uint8_t *p, size_t n)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n) {
		perror(path);
		exit(1);
	}
	fclose(f);
	nfiles++;
}

static ssize_t ask_udp(const uint8_t *q, size_t qlen, uint8_t *r, size_t cap)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || sendto(s, q, qlen, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	struct pollfd pf = { .fd = s, .events = POLLIN };
	ssize_t n = -1;
	if (poll(&pf, 1, 2000) == 1)
		n = recv(s, r, cap, 0);
	close(s);
	return n;
}

static ssize_t ask_tcp(const uint8_t *q, size_t qlen, uint8_t *r, size_t cap)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	uint8_t l[2] = { (uint8_t)(qlen >> 8), (uint8_t)qlen };
	if (write(s, l, 2) != 2 || write(s, q, qlen) != (ssize_t)qlen)
		return -1;
	size_t got = 0, want = 2;
	uint8_t hdr[2];
	while (got < want) { /* length prefix, then the first message */
		ssize_t n = read(s, got < 2 ? hdr + got : r + got - 2, got < 2 ? 2 - got : want - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == 2 && want == 2) {
			want = 2 + (size_t)(hdr[0] << 8 | hdr[1]);
			if (want - 2 > cap)
				break;
		}
	}
	close(s);
	return got == want ? (ssize_t)(want - 2) : -1;
}

typedef struct q {
	const char *tag, *name;
	uint16_t type;
	int edns;     /* 0 none, 1 plain, 2 DO, 3 DO+NSID+cookie+ECS+padding */
	int tcp;
	uint16_t udp; /* EDNS size */
} q;

static void one(const q *x)
{
	uint8_t qn[NAME_MAXLEN], qb[512], rb[65535];
	if (name_from_text(x->name, strlen(x->name), NULL, qn) < 0) {
		fprintf(stderr, "bad name %s\n", x->name);
		exit(1);
	}
	msg_wr mw;
	msg_wr_init(&mw, qb, sizeof(qb));
	msg_wr_header(&mw, (uint16_t)(0x1000 + nfiles), MSG_RD);
	msg_wr_question(&mw, qn, x->type, CLASS_IN);
	const uint8_t ck[8] = { 0x24, 0xa1, 0x5d, 0x07, 0x3e, 0x99, 0x10, 0xc2 };
	edns_out eo = { .udp_size = x->udp ? x->udp : 1232 };
	if (x->edns >= 2)
		eo.flags = EDNS_DO;
	if (x->edns >= 3) {
		eo.nsid = true;
		eo.cookie = ck;
		eo.cookie_len = 8;
		eo.ecs = true;
		eo.ecs_val = (edns_ecs){ .family = 1, .source = 24, .addr = { 198, 51, 100, 0 } };
		eo.pad_block = EDNS_PAD_QUERY;
	}
	if (x->edns)
		msg_wr_edns(&mw, &eo);
	int qlen = msg_wr_finish(&mw);
	char fn[128];
	snprintf(fn, sizeof(fn), "q-%s", x->tag);
	save(fn, qb, (size_t)qlen);
	ssize_t n = x->tcp ? ask_tcp(qb, (size_t)qlen, rb, sizeof(rb))
			   : ask_udp(qb, (size_t)qlen, rb, sizeof(rb));
	if (n < 0) {
		fprintf(stderr, "no answer for %s\n", x->tag);
		exit(1);
	}
	snprintf(fn, sizeof(fn), "r-%s", x->tag);
	save(fn, rb, (size_t)n);
}

static size_t hex(const char *s, uint8_t *out)
{
	size_t n = 0;
	int hi = -1;
	for (; *s; s++) {
		int v = *s >= '0' && *s <= '9' ? *s - '0' : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10 : -1;
		if (v < 0)
			continue;
		if (hi < 0) {
			hi = v;
		} else {
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	return n;
}

static void hostile(void)
{
	static const struct { const char *tag, *hex; } h[] = {
		{ "fwdptr", "0001 0000 0001 0000 0000 0000 c00e 00 0001 0001" },
		{ "selfptr", "0001 0000 0001 0000 0000 0000 c00c 0001 0001" },
		{ "loop", "0001 0000 0001 0000 0000 0000 01 61 c00c 0001 0001" },
		{ "hdrptr", "0001 0000 0001 0000 0000 0000 c004 0001 0001" },
		{ "pastend", "0001 0000 0001 0000 0000 0000 ffff 0001 0001" },
		{ "label40", "0001 0000 0001 0000 0000 0000 41 61 00 0001 0001" },
		{ "label80", "0001 0000 0001 0000 0000 0000 81 61 00 0001 0001" },
		{ "qd0", "0001 0000 0000 0000 0000 0000" },
		{ "qd2", "0001 0100 0002 0000 0000 0000 01 61 00 0001 0001 01 62 c00c 001c 0001" },
		{ "short", "0001 0000 00" },
		{ "counts", "0001 0000 ffff ffff ffff ffff 00 0001 0001" },
		{ "twoopt", "0001 0000 0001 0000 0000 0002 01 61 00 0001 0001"
			    "00 0029 0200 00000000 0000 00 0029 0200 00000000 0000" },
		{ "optnotroot", "0001 0000 0001 0000 0000 0001 01 61 00 0001 0001"
				"c00c 0029 0200 00000000 0000" },
		{ "optanswer", "0001 8000 0001 0001 0000 0000 01 61 00 0001 0001"
			       "00 0029 0200 00000000 0000" },
		{ "badoptlen", "0001 0000 0001 0000 0000 0001 01 61 00 0001 0001"
			       "00 0029 0200 00000000 0005 000a 0008 01" },
		{ "cookie12", "0001 0000 0001 0000 0000 0001 01 61 00 0001 0001"
			      "00 0029 0200 00000000 0010 000a 000c 010203040506070809101112" },
		{ "cookie40", "0001 0000 0001 0000 0000 0001 01 61 00 0001 0001"
			      "00 0029 0200 00000000 002c 000a 0028"
			      "0102030405060708 0102030405060708 0102030405060708"
			      "0102030405060708 0102030405060708" },
		{ "ecsbits", "0001 0000 0001 0000 0000 0001 01 61 00 0001 0001"
			     "00 0029 0200 00000000 000b 0008 0007 0001 10 00 c00001" },
		{ "ecsv6", "0001 0000 0001 0000 0000 0001 01 61 00 0001 0001"
			   "00 0029 0200 00000000 000f 0008 000b 0002 38 00 20010db8000000" },
		{ "ednsv1", "0001 0000 0001 0000 0000 0001 01 61 00 0001 0001"
			    "00 0029 0200 00010000 0003 000a 00" },
		{ "badcookie", "0001 8007 0001 0000 0000 0001 01 61 00 0001 0001"
			       "00 0029 0200 01000000 001e 000a 0014 0102030405060708"
			       "a1a2a3a4a5a6a7a8b1b2b3b4 000f 0002 0017" },
		{ "tsignotlast", "0001 0000 0001 0000 0000 0002 01 61 00 0001 0001"
				 "01 6b 00 00fa 00ff 00000000 0000 00 0029 0200 00000000 0000" },
		{ "update", "0001 2800 0001 0000 0002 0000 07 6578616d706c65 03 636f6d 00 0006 0001"
			    "01 61 c00c 00ff 00ff 00000000 0000 01 61 c00c 0001 00fe 00000000 0004 c0000201" },
		{ "trailing", "0001 8000 0001 0001 0000 0000 01 61 00 0001 0001"
			      "c00c 0001 0001 00000e10 0004 c0000201 deadbeef" },
		{ "badA", "0001 8000 0001 0001 0000 0000 01 61 00 0001 0001"
			  "c00c 0001 0001 00000000 0003 010203" },
		{ "nsfwd", "0001 8000 0001 0001 0000 0000 01 61 00 0001 0001"
			   "c00c 0002 0001 00000000 0002 c020" },
		{ "rdlenpast", "0001 8000 0001 0001 0000 0000 01 61 00 0001 0001"
			       "c00c 0001 0001 00000000 0010 c0000201" },
	};
	uint8_t b[1024];
	char fn[64];
	for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
		snprintf(fn, sizeof(fn), "h-%s", h[i].tag);
		save(fn, b, hex(h[i].hex, b));
	}
	/* 300-octet name, and a 64-hop pointer chain */
	size_t n = hex("0001 0000 0001 0000 0000 0000", b);
	for (int i = 0; i < 5; i++) {
		b[n++] = 59;
		memset(b + n, 'a', 59);
		n += 59;
	}
	n += hex("00 0001 0001", b + n);
	save("h-name300", b, n);
	static uint8_t c[4096];
	n = hex("0001 8000 0001 0050 0000 0000 00 0001 0001", c);
	for (int i = 0; i < 80; i++) {
		size_t prev = i ? n - 12 : 12;
		c[n++] = (uint8_t)(0xc0 | prev >> 8);
		c[n++] = (uint8_t)prev;
		n += hex("fde9 0001 00000000 0000", c + n);
	}
	save("h-chain", c, n);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: msg_gen PORT OUTDIR\n");
		return 2;
	}
	port = atoi(argv[1]);
	outdir = argv[2];
	static const q qs[] = {
		{ "a", "example.com.", RR_A, 0, 0, 0 },
		{ "a-edns", "example.com.", RR_A, 1, 0, 0 },
		{ "a-do", "example.com.", RR_A, 2, 0, 0 },
		{ "a-all", "example.com.", RR_A, 3, 0, 0 },
		{ "aaaa-do", "www.example.com.", RR_AAAA, 2, 0, 0 },
		{ "mx-do", "example.com.", RR_MX, 2, 0, 0 },
		{ "ns", "example.com.", RR_NS, 1, 0, 0 },
		{ "soa-do", "example.com.", RR_SOA, 2, 0, 0 },
		{ "txt", "example.com.", RR_TXT, 1, 0, 0 },
		{ "srv", "_sip._udp.example.com.", RR_SRV, 2, 0, 0 },
		{ "caa", "example.com.", RR_CAA, 1, 0, 0 },
		{ "cname", "alias.example.com.", RR_A, 2, 0, 0 },
		{ "dname", "x.old.example.com.", RR_A, 2, 0, 0 },
		{ "wild", "foo.wild.example.com.", RR_A, 2, 0, 0 },
		{ "nx-nsec", "nope.example.com.", RR_A, 2, 0, 0 },
		{ "nodata-nsec", "example.com.", RR_PTR, 2, 0, 0 },
		{ "deleg", "host.sub.example.com.", RR_A, 2, 0, 0 },
		{ "dnskey", "example.com.", RR_DNSKEY, 2, 0, 4096 },
		{ "ds", "sub.example.com.", RR_DS, 2, 0, 0 },
		{ "tlsa", "_443._tcp.www.example.com.", RR_TLSA, 2, 0, 0 },
		{ "sshfp", "www.example.com.", RR_SSHFP, 2, 0, 0 },
		{ "naptr", "example.com.", RR_NAPTR, 1, 0, 0 },
		{ "hinfo", "www.example.com.", RR_HINFO, 1, 0, 0 },
		{ "any", "example.com.", RR_ANY, 2, 0, 0 },
		{ "tc-512", "example.com.", RR_DNSKEY, 0, 0, 0 },
		{ "nx3", "nope.example.net.", RR_A, 2, 0, 0 },
		{ "nsec3param", "example.net.", RR_NSEC3PARAM, 2, 0, 0 },
		{ "net-mx", "example.net.", RR_MX, 2, 0, 0 },
		{ "refused", "example.org.", RR_A, 1, 0, 0 },
		{ "axfr", "example.com.", RR_AXFR, 0, 1, 0 },
		{ "axfr3", "example.net.", RR_AXFR, 0, 1, 0 },
		{ "tcp-dnskey", "example.com.", RR_DNSKEY, 2, 1, 0 },
	};
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
		one(&qs[i]);
	hostile();
	printf("%d files\n", nfiles);
	return 0;
}
