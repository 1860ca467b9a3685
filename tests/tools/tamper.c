/* tamper — a UDP man-in-the-middle relay for the DNSSEC e2e tests: a smarter injector that echoes OPT and cookies.
 *
 *   tamper -l LISTEN_IP:PORT -f SERVER_IP:PORT -n NAME [-n NAME ...] [-a IPV4] [-s] [-d]
 *
 * Relays every UDP query from its clients to SERVER (same message, same
 * ID) and every reply back to the client that asked. For replies whose
 * question name is one of the -n names (case-insensitive; a name also
 * matches the names below it), it tampers with the real reply:
 *   default  every A record of the answer section gets the address IPV4
 *            (default 198.51.100.66), in place: OPT, the cookie echo and
 *            the RRSIGs are kept exactly as the server sent them;
 *   -s       the same, and the RRSIGs are stripped too (answer and
 *            authority rebuilt without them; the OPT RR copied as is).
 * Replies without an A record in the answer are relayed untouched.
 * -d sends the tampered copy first and then the genuine reply (an
 * injector racing the real answer); without -d only the tampered one
 * goes out. Loopback only (both addresses in 127.0.0.0/8). Prints
 * "tamper: relayed=N tampered=N" to stderr on SIGTERM/SIGINT. Exit 0, 1
 * on socket errors, 2 on bad arguments. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns/msg.h"
#include "dns/name.h"
#include "dns/rrtype.h"
#include "dns/wire.h"

#define MAXNAMES 64

static volatile sig_atomic_t stop;
static void on_sig(int s)
{
	(void)s;
	stop = 1;
}

static int parse_addr(const char *s, struct sockaddr_in *a)
{
	char host[64];
	const char *c = strrchr(s, ':');
	if (!c || (size_t)(c - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(c - s));
	host[c - s] = 0;
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)atoi(c + 1));
	if (inet_pton(AF_INET, host, &a->sin_addr) != 1 || (ntohl(a->sin_addr.s_addr) >> 24) != 127)
		return -1;
	return 0;
}

static uint8_t names[MAXNAMES][NAME_MAXLEN];
static unsigned nnames;
static uint8_t addr4[4] = {198, 51, 100, 66};
static msg_rr rrs[MSG_MAXRRS];

static bool chosen(const uint8_t *qname)
{
	for (unsigned i = 0; i < nnames; i++)
		if (name_is_sub(qname, names[i]))
			return true;
	return false;
}

/* Rewrites the A records in place; returns how many. */
static unsigned rewrite(uint8_t *p, size_t len)
{
	msg m;
	if (msg_parse(&m, p, len, rrs, MSG_MAXRRS) < 0)
		return 0;
	unsigned n, k = 0;
	const msg_rr *an = msg_sec(&m, MSG_ANSWER, &n);
	for (unsigned i = 0; i < n; i++)
		if (an[i].type == RR_A && an[i].rdlen == 4) {
			memcpy(p + an[i].rdata, addr4, 4);
			k++;
		}
	return k;
}

/* Rebuilds p without RRSIGs into out; returns the length or -1. */
static int strip(const uint8_t *p, size_t len, uint8_t *out, size_t cap)
{
	msg m;
	if (msg_parse(&m, p, len, rrs, MSG_MAXRRS) < 0)
		return -1;
	msg_wr mw;
	msg_wr_init(&mw, out, cap);
	msg_wr_header(&mw, m.hdr.id, m.hdr.flags);
	msg_wr_question(&mw, m.qname, m.qtype, m.qclass);
	unsigned dropped = 0;
	for (unsigned i = m.hdr.qdcount; i < m.nrr; i++) {
		const msg_rr *r = &m.rr[i];
		if (r->section == MSG_ADDITIONAL)
			continue;
		if (r->type == RR_RRSIG) {
			dropped++;
			continue;
		}
		uint8_t owner[NAME_MAXLEN], rd[65536];
		wire_wr w;
		wire_wr_init(&w, rd, sizeof(rd));
		if (msg_rr_owner(&m, r, owner) < 0 || msg_rr_rdata(&m, r, &w) < 0)
			return -1;
		if (msg_wr_rr(&mw, r->section, owner, r->type, r->rclass, r->ttl, rd, (uint16_t)wire_wr_off(&w)) < 0)
			return -1;
	}
	int n = msg_wr_finish(&mw);
	if (n < 0 || !dropped)
		return -1;
	if (m.opt_off) { /* the OPT RR as the server sent it (root owner, no names) */
		size_t ol = 11u + wire_get_u16(p + m.opt_off + 9);
		if ((size_t)n + ol > cap)
			return -1;
		memcpy(out + n, p + m.opt_off, ol);
		n += (int)ol;
		wire_put_u16(out + 10, 1);
	}
	return n;
}

int main(int argc, char **argv)
{
	struct sockaddr_in la, fa;
	bool have_l = false, have_f = false, strip_mode = false, dup = false;
	int o;
	while ((o = getopt(argc, argv, "l:f:n:a:sd")) != -1) {
		switch (o) {
		case 'l':
			have_l = parse_addr(optarg, &la) == 0;
			break;
		case 'f':
			have_f = parse_addr(optarg, &fa) == 0;
			break;
		case 'n': {
			size_t l = strlen(optarg);
			if (nnames >= MAXNAMES ||
			    name_from_text(optarg, l, l && optarg[l - 1] == '.' ? NULL : (const uint8_t *)"",
					   names[nnames]) < 0)
				return 2;
			nnames++;
			break;
		}
		case 'a':
			if (inet_pton(AF_INET, optarg, addr4) != 1)
				return 2;
			break;
		case 's':
			strip_mode = true;
			break;
		case 'd':
			dup = true;
			break;
		default:
			return 2;
		}
	}
	if (!have_l || !have_f || !nnames) {
		fprintf(stderr, "usage: tamper -l 127.0.0.1:PORT -f 127.0.0.1:PORT -n NAME... [-a IPV4] [-s] [-d]\n");
		return 2;
	}
	int ls = socket(AF_INET, SOCK_DGRAM, 0), us = socket(AF_INET, SOCK_DGRAM, 0);
	if (ls < 0 || us < 0 || bind(ls, (struct sockaddr *)&la, sizeof(la)) < 0 ||
	    connect(us, (struct sockaddr *)&fa, sizeof(fa)) < 0) {
		perror("tamper");
		return 1;
	}
	struct sigaction sa = {.sa_handler = on_sig};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	static struct sockaddr_in client[65536];
	static bool known[65536];
	unsigned long relayed = 0, tampered = 0;
	static uint8_t buf[65536], out[65536];
	struct pollfd pf[2] = {{.fd = ls, .events = POLLIN}, {.fd = us, .events = POLLIN}};
	while (!stop) {
		if (poll(pf, 2, 200) <= 0)
			continue;
		if (pf[0].revents & POLLIN) {
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t n = recvfrom(ls, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
			if (n >= 12) {
				uint16_t id = wire_get_u16(buf);
				client[id] = from;
				known[id] = true;
				send(us, buf, (size_t)n, 0);
			}
		}
		if (pf[1].revents & POLLIN) {
			ssize_t n = recv(us, buf, sizeof(buf), 0);
			if (n < 12)
				continue;
			uint16_t id = wire_get_u16(buf);
			if (!known[id])
				continue;
			const struct sockaddr *to = (const struct sockaddr *)&client[id];
			msg m;
			bool hit = msg_parse_query(&m, buf, (size_t)n) == 0 && m.qname_len && chosen(m.qname);
			if (hit) {
				static uint8_t mid[65536];
				memcpy(mid, buf, (size_t)n);
				int tl = rewrite(mid, (size_t)n) ? (int)n : -1;
				if (tl > 0 && strip_mode)
					tl = strip(mid, (size_t)n, out, sizeof(out));
				else if (tl > 0)
					memcpy(out, mid, (size_t)n);
				if (tl > 0) {
					sendto(ls, out, (size_t)tl, 0, to, sizeof(client[id]));
					tampered++;
					if (!dup)
						continue;
				}
			}
			sendto(ls, buf, (size_t)n, 0, to, sizeof(client[id]));
			relayed++;
		}
	}
	fprintf(stderr, "tamper: relayed=%lu tampered=%lu\n", relayed, tampered);
	return 0;
}
