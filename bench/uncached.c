/* uncached — pushes N queries for distinct names (so a resolver's cache never answers) at a DNS server and reports latency percentiles.
 *
 *   uncached -s 127.0.0.1:PORT -z SUFFIX [-n N] [-c OUTSTANDING] [-t MS] [-o START]
 *
 * Names are "u<K>.SUFFIX" for K = START .. START+N-1, type A, RD set, no
 * EDNS; one connected UDP socket, OUTSTANDING queries in flight (the DNS ID
 * is the slot number), a query unanswered after -t ms (default 2000) is
 * counted lost and its slot reused. Prints one line:
 *   sent=N answered=N lost=N noerror=N other_rcode=N qps=Q
 *   p50_us=.. p90_us=.. p99_us=.. p999_us=.. max_us=..
 * Latency is from send to the reply's arrival (CLOCK_MONOTONIC), kept in a
 * histogram of 1 us buckets up to 1 s. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dns/name.h"
#include "net/addr.h"

#define HMAX 1000000u

struct slot {
	uint64_t sent_us;
	bool busy;
};

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int build(uint8_t *buf, uint16_t id, uint64_t k, const char *suffix)
{
	char text[300];
	snprintf(text, sizeof(text), "u%llu.%s", (unsigned long long)k, suffix);
	size_t tl = strlen(text);
	if (tl && text[tl - 1] != '.')
		text[tl++] = '.', text[tl] = 0;
	buf[0] = (uint8_t)(id >> 8), buf[1] = (uint8_t)id;
	buf[2] = 0x01, buf[3] = 0; /* RD */
	buf[4] = 0, buf[5] = 1;
	memset(buf + 6, 0, 6);
	int l = name_from_text(text, tl, NULL, buf + 12);
	if (l < 0)
		return -1;
	uint8_t *p = buf + 12 + l;
	p[0] = 0, p[1] = 1, p[2] = 0, p[3] = 1;
	return 12 + l + 4;
}

static uint64_t pct(const uint32_t *h, uint64_t total, double q, uint64_t maxv)
{
	if (!total)
		return 0;
	uint64_t want = (uint64_t)(q * (double)total + 0.5), acc = 0;
	if (want < 1)
		want = 1;
	for (uint32_t i = 0; i <= HMAX; i++) {
		acc += h[i];
		if (acc >= want)
			return i;
	}
	return maxv;
}

int main(int argc, char **argv)
{
	const char *server = NULL, *suffix = NULL;
	uint64_t n = 100000, start = 0;
	unsigned conc = 32, timeout_ms = 2000;
	int o;
	while ((o = getopt(argc, argv, "s:z:n:c:t:o:")) != -1) {
		switch (o) {
		case 's': server = optarg; break;
		case 'z': suffix = optarg; break;
		case 'n': n = strtoull(optarg, NULL, 10); break;
		case 'c': conc = (unsigned)atoi(optarg); break;
		case 't': timeout_ms = (unsigned)atoi(optarg); break;
		case 'o': start = strtoull(optarg, NULL, 10); break;
		default: goto usage;
		}
	}
	if (!server || !suffix || !n || !conc || conc > 65536) {
usage:
		fprintf(stderr, "usage: uncached -s 127.0.0.1:PORT -z SUFFIX [-n N] [-c OUTSTANDING] [-t MS] [-o START]\n");
		return 2;
	}
	net_addr a;
	char why[128];
	if (addr_parse(&a, server, 53, why, sizeof(why)) < 0) {
		fprintf(stderr, "uncached: %s\n", why);
		return 2;
	}
	int fd = socket(addr_family(&a), SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int big = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	if (fd < 0 || connect(fd, &a.u.sa, a.len) < 0) {
		perror("uncached: socket");
		return 1;
	}
	struct slot *sl = calloc(conc, sizeof(*sl));
	uint32_t *hist = calloc(HMAX + 1, sizeof(*hist));
	if (!sl || !hist)
		return 1;
	uint64_t sent = 0, answered = 0, lost = 0, noerror = 0, other = 0, maxv = 0;
	uint64_t t0 = now_us();
	unsigned busy = 0, scan = 0;
	uint8_t q[512], r[4096];
	while (sent < n || busy) {
		/* fill free slots */
		for (unsigned i = 0; i < conc && sent < n; i++) {
			if (sl[i].busy)
				continue;
			int len = build(q, (uint16_t)i, start + sent, suffix);
			if (len < 0 || send(fd, q, (size_t)len, 0) < 0) {
				if (errno == ENOBUFS || errno == EAGAIN)
					break;
				perror("uncached: send");
				return 1;
			}
			sl[i].busy = true;
			sl[i].sent_us = now_us();
			sent++;
			busy++;
		}
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 50) > 0) {
			ssize_t k;
			while ((k = recv(fd, r, sizeof(r), MSG_DONTWAIT)) >= 12) {
				unsigned id = (unsigned)(r[0] << 8 | r[1]);
				if (id >= conc || !sl[id].busy)
					continue;
				uint64_t lat = now_us() - sl[id].sent_us;
				if (lat > maxv)
					maxv = lat;
				hist[lat > HMAX ? HMAX : lat]++;
				sl[id].busy = false;
				busy--;
				answered++;
				if ((r[3] & 15) == 0)
					noerror++;
				else
					other++;
			}
		}
		/* expire a few slots per round */
		uint64_t now = now_us();
		for (unsigned j = 0; j < 64 && busy; j++) {
			struct slot *s = &sl[scan];
			if (s->busy && now - s->sent_us > (uint64_t)timeout_ms * 1000u) {
				s->busy = false;
				busy--;
				lost++;
			}
			scan = (scan + 1) % conc;
		}
	}
	double secs = (double)(now_us() - t0) / 1e6;
	printf("sent=%llu answered=%llu lost=%llu noerror=%llu other_rcode=%llu qps=%.0f p50_us=%llu p90_us=%llu "
	       "p99_us=%llu p999_us=%llu max_us=%llu\n",
	       (unsigned long long)sent, (unsigned long long)answered, (unsigned long long)lost,
	       (unsigned long long)noerror, (unsigned long long)other, secs > 0 ? (double)answered / secs : 0.0,
	       (unsigned long long)pct(hist, answered, 0.50, maxv), (unsigned long long)pct(hist, answered, 0.90, maxv),
	       (unsigned long long)pct(hist, answered, 0.99, maxv), (unsigned long long)pct(hist, answered, 0.999, maxv),
	       (unsigned long long)maxv);
	return 0;
}
