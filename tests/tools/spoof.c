/* spoof — an off-path forger for the resolver e2e tests: floods forged DNS
 * replies, with the source address and port of a real upstream, at the
 * resolver's upstream-facing ports, with random (so wrong) IDs.
 *
 *   spoof -u UPSTREAM_IP:PORT -n NAME [-n NAME ...] -a FORGED_IPV4 [-t MS] [-b BURST] [-r RANDOM_PORTS]
 *
 * Targets: the local UDP sockets connected to UPSTREAM (read from
 * /proc/net/udp every round: a real off-path attacker would have to guess
 * them; this one cheats to test matching) plus RANDOM_PORTS random
 * ephemeral ports per round (default 16). Each round sends BURST (default
 * 32) replies per target: raw IPv4/UDP (IP_HDRINCL) from UPSTREAM to
 * 127.0.0.1:port, a random ID, QR AA RD RA, the question NAME (one of the
 * -n names at random, lowercase) type A class IN, and one A record
 * NAME -> FORGED_IPV4 with TTL 86400. Runs for MS milliseconds (default
 * 2000). Loopback only: UPSTREAM must be in 127.0.0.0/8. Needs root
 * (CAP_NET_RAW). Prints "sent=N rounds=N ports_seen=N". Exit 0, 1 when the
 * raw socket cannot be made, 2 on bad arguments. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dns/name.h"

#define MAXNAMES 64
#define MAXPORTS 4096

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static uint32_t rnd(void)
{
	static uint32_t pool[256];
	static unsigned left;
	if (!left) {
		if (getrandom(pool, sizeof(pool), 0) != (ssize_t)sizeof(pool))
			exit(1);
		left = 256;
	}
	return pool[--left];
}

/* Local ports of UDP sockets whose remote end is up (network order fields
 * as /proc/net/udp prints them: hex address in host byte order of a
 * little-endian machine, hex port). */
static unsigned connected_ports(struct sockaddr_in *up, uint16_t *ports, unsigned max)
{
	FILE *f = fopen("/proc/net/udp", "r");
	if (!f)
		return 0;
	char line[512];
	unsigned n = 0;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return 0;
	}
	while (n < max && fgets(line, sizeof(line), f)) {
		unsigned la, lp, ra, rp;
		if (sscanf(line, " %*d: %8X:%4X %8X:%4X", &la, &lp, &ra, &rp) != 4)
			continue;
		if (ra == up->sin_addr.s_addr && rp == ntohs(up->sin_port) && lp != ntohs(up->sin_port))
			ports[n++] = (uint16_t)lp;
	}
	fclose(f);
	return n;
}

static size_t build(uint8_t *pkt, const struct sockaddr_in *up, uint16_t dport, const uint8_t *qname,
		    size_t qlen, struct in_addr forged)
{
	struct iphdr *ip = (struct iphdr *)pkt;
	struct udphdr *udp = (struct udphdr *)(pkt + sizeof(*ip));
	uint8_t *d = pkt + sizeof(*ip) + sizeof(*udp), *p = d;
	uint16_t id = (uint16_t)rnd();
	*p++ = (uint8_t)(id >> 8);
	*p++ = (uint8_t)id;
	*p++ = 0x85; /* QR AA RD */
	*p++ = 0x80; /* RA, NOERROR */
	static const uint8_t counts[8] = {0, 1, 0, 1, 0, 0, 0, 0};
	memcpy(p, counts, 8);
	p += 8;
	memcpy(p, qname, qlen);
	p += qlen;
	static const uint8_t q[4] = {0, 1, 0, 1};
	memcpy(p, q, 4);
	p += 4;
	*p++ = 0xc0;
	*p++ = 12;
	static const uint8_t rr[10] = {0, 1, 0, 1, 0, 1, 0x51, 0x80, 0, 4};
	memcpy(p, rr, 10);
	p += 10;
	memcpy(p, &forged, 4);
	p += 4;
	size_t dlen = (size_t)(p - d);
	memset(ip, 0, sizeof(*ip));
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->saddr = up->sin_addr.s_addr;
	ip->daddr = htonl(INADDR_LOOPBACK);
	ip->tot_len = htons((uint16_t)(sizeof(*ip) + sizeof(*udp) + dlen));
	udp->source = up->sin_port;
	udp->dest = htons(dport);
	udp->len = htons((uint16_t)(sizeof(*udp) + dlen));
	udp->check = 0; /* optional over IPv4 */
	return sizeof(*ip) + sizeof(*udp) + dlen;
}

static int usage(void)
{
	fprintf(stderr, "usage: spoof -u UPSTREAM_IP:PORT -n NAME [-n NAME ...] -a FORGED_IPV4 [-t MS] [-b BURST] "
			"[-r RANDOM_PORTS]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct sockaddr_in up = {.sin_family = AF_INET};
	struct in_addr forged = {0};
	static uint8_t names[MAXNAMES][NAME_MAXLEN];
	size_t nlen[MAXNAMES];
	unsigned nnames = 0, burst = 32, nrandom = 16;
	double dur = 2000;
	bool have_up = false, have_a = false;
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *o = argv[i], *v = argv[i + 1];
		if (!strcmp(o, "-u")) {
			char host[64];
			const char *c = strrchr(v, ':');
			if (!c || (size_t)(c - v) >= sizeof(host))
				return usage();
			memcpy(host, v, (size_t)(c - v));
			host[c - v] = 0;
			if (inet_pton(AF_INET, host, &up.sin_addr) != 1)
				return usage();
			up.sin_port = htons((uint16_t)atoi(c + 1));
			have_up = true;
		} else if (!strcmp(o, "-n")) {
			if (nnames == MAXNAMES)
				return usage();
			int n = name_from_text(v, strlen(v), (const uint8_t *)"", names[nnames]);
			if (n < 0)
				return usage();
			name_lower(names[nnames]);
			nlen[nnames++] = (size_t)n;
		} else if (!strcmp(o, "-a")) {
			if (inet_pton(AF_INET, v, &forged) != 1)
				return usage();
			have_a = true;
		} else if (!strcmp(o, "-t")) {
			dur = atof(v);
		} else if (!strcmp(o, "-b")) {
			burst = (unsigned)atoi(v);
		} else if (!strcmp(o, "-r")) {
			nrandom = (unsigned)atoi(v);
		} else {
			return usage();
		}
	}
	if (!have_up || !have_a || !nnames || (ntohl(up.sin_addr.s_addr) >> 24) != 127)
		return usage();
	int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (fd < 0) {
		fprintf(stderr, "spoof: raw socket: %s\n", strerror(errno));
		return 1;
	}
	static uint16_t ports[MAXPORTS];
	uint8_t pkt[600];
	unsigned long long sent = 0, rounds = 0, seen = 0;
	double end = now_ms() + dur;
	struct sockaddr_in dst = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	while (now_ms() < end) {
		unsigned n = connected_ports(&up, ports, MAXPORTS - nrandom);
		seen += n;
		for (unsigned i = 0; i < nrandom; i++)
			ports[n++] = (uint16_t)(32768 + rnd() % 28232);
		for (unsigned i = 0; i < n; i++)
			for (unsigned b = 0; b < burst; b++) {
				unsigned k = rnd() % nnames;
				size_t len = build(pkt, &up, ports[i], names[k], nlen[k], forged);
				if (sendto(fd, pkt, len, 0, (struct sockaddr *)&dst, sizeof(dst)) == (ssize_t)len)
					sent++;
			}
		rounds++;
	}
	printf("sent=%llu rounds=%llu ports_seen=%llu\n", sent, rounds, seen);
	close(fd);
	return 0;
}
