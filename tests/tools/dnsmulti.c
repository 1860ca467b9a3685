/* dnsmulti — sends DNS queries one at a time and reports EVERY reply that
 * arrives within a window (an on-path injector makes several). For the
 * injection e2e tests and by hand.
 *
 *   dnsmulti -s 127.0.0.1:PORT -n NAME [-t A|AAAA|MX|TXT|NUM] [-c COUNT]
 *            [-w WINDOW_MS] [-e EXPECT] [-r REAL_ADDR] [-q]
 * Per reply: "q=I txid=T t_ms=MS len=N an=K flags=XXXX addr=ADDR ttl=TTL ipttl=H"
 * (addr/ttl of the first A/AAAA answer, "-" if none; H the IP TTL / hop
 * limit the reply arrived with, -1 if unknown). The socket is connected to
 * the server, so every reply counted came from the server's address and
 * port (or was forged with them). With -r, a reply is
 * "real" when its address is REAL_ADDR (or it has no A/AAAA answer) and
 * "forged" otherwise; the closing line is
 *   "sent=N answered=N first_forged=N real_seen=N forged_total=N
 *    real_after_forged=N"
 * (-q: only that line). With -e, a query's window ends early once EXPECT
 * replies to it have arrived (1 for a server, 4 for the GFW triplet and the
 * real reply), so the window can be generous: a reply is lost only when it
 * is later than WINDOW_MS. A send refused because of an earlier ICMP error
 * (a query that reached the port before the server bound it) is retried.
 * Exit 0 unless the arguments are bad. */
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

#include "net/addr.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static size_t build_query(uint8_t *q, uint16_t id, const char *name, uint16_t type)
{
	size_t n = 0;
	q[n++] = (uint8_t)(id >> 8);
	q[n++] = (uint8_t)id;
	q[n++] = 0x01; /* RD */
	q[n++] = 0;
	q[n++] = 0;
	q[n++] = 1;
	memset(q + n, 0, 6);
	n += 6;
	const char *p = name;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		if (l == 0 || l > 63)
			break;
		q[n++] = (uint8_t)l;
		memcpy(q + n, p, l);
		n += l;
		p += l + (dot ? 1 : 0);
	}
	q[n++] = 0;
	q[n++] = (uint8_t)(type >> 8);
	q[n++] = (uint8_t)type;
	q[n++] = 0;
	q[n++] = 1;
	return n;
}

/* Skips a (possibly compressed) name; returns the new offset or 0. */
static size_t skip_name(const uint8_t *m, size_t len, size_t o)
{
	while (o < len) {
		uint8_t l = m[o];
		if (l == 0)
			return o + 1;
		if ((l & 0xc0) == 0xc0)
			return o + 2 <= len ? o + 2 : 0;
		o += 1 + l;
	}
	return 0;
}

/* First A/AAAA answer: text address and TTL. */
static void first_addr(const uint8_t *m, size_t len, char *addr, size_t alen, long *ttl)
{
	snprintf(addr, alen, "-");
	*ttl = -1;
	if (len < 12)
		return;
	unsigned qd = (unsigned)(m[4] << 8 | m[5]), an = (unsigned)(m[6] << 8 | m[7]);
	size_t o = 12;
	for (unsigned i = 0; i < qd && o; i++) {
		o = skip_name(m, len, o);
		if (o)
			o += 4;
	}
	for (unsigned i = 0; i < an && o && o < len; i++) {
		o = skip_name(m, len, o);
		if (!o || o + 10 > len)
			return;
		unsigned type = (unsigned)(m[o] << 8 | m[o + 1]);
		unsigned rdlen = (unsigned)(m[o + 8] << 8 | m[o + 9]);
		long t = (long)((uint32_t)m[o + 4] << 24 | (uint32_t)m[o + 5] << 16 | (uint32_t)m[o + 6] << 8 | m[o + 7]);
		o += 10;
		if (o + rdlen > len)
			return;
		if ((type == 1 && rdlen == 4) || (type == 28 && rdlen == 16)) {
			inet_ntop(type == 1 ? AF_INET : AF_INET6, m + o, addr, (socklen_t)alen);
			*ttl = t;
			return;
		}
		o += rdlen;
	}
}

int main(int argc, char **argv)
{
	const char *server = NULL, *name = NULL, *real = NULL, *tname = "A";
	long count = 1, window = 500, expect = 0;
	int quiet = 0, c;
	while ((c = getopt(argc, argv, "s:n:t:c:w:e:r:q")) != -1) {
		switch (c) {
		case 's': server = optarg; break;
		case 'n': name = optarg; break;
		case 't': tname = optarg; break;
		case 'c': count = atol(optarg); break;
		case 'w': window = atol(optarg); break;
		case 'e': expect = atol(optarg); break;
		case 'r': real = optarg; break;
		case 'q': quiet = 1; break;
		default: goto usage;
		}
	}
	if (!server || !name || count < 1 || window < 1 || expect < 0)
		goto usage;
	uint16_t type = !strcmp(tname, "A") ? 1 : !strcmp(tname, "AAAA") ? 28 : !strcmp(tname, "MX") ? 15
		      : !strcmp(tname, "TXT") ? 16 : (uint16_t)atoi(tname);
	net_addr sa;
	char err[256];
	if (addr_parse(&sa, server, 53, err, sizeof(err))) {
		fprintf(stderr, "dnsmulti: %s\n", err);
		return 2;
	}
	int fd = socket(addr_family(&sa), SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, &sa.u.sa, sa.len)) {
		perror("dnsmulti: socket");
		return 1;
	}
	int one = 1;
	if (addr_family(&sa) == AF_INET)
		setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &one, sizeof(one));
	else
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof(one));
	srand((unsigned)getpid() ^ (unsigned)time(NULL));
	long sent = 0, answered = 0, first_forged = 0, real_seen = 0, forged_total = 0, real_after = 0;
	for (long i = 0; i < count; i++) {
		uint8_t q[512], r[4096];
		uint16_t id = (uint16_t)rand();
		size_t qn = build_query(q, id, name, type);
		double t0 = now_ms();
		ssize_t sn = send(fd, q, qn, 0);
		if (sn < 0 && errno == ECONNREFUSED) /* an earlier query's ICMP error, reported once */
			sn = send(fd, q, qn, 0);
		if (sn < 0) {
			perror("dnsmulti: send");
			continue;
		}
		sent++;
		int nrep = 0, seen_real = 0, seen_forged = 0, first_is_forged = 0;
		while (!expect || nrep < expect) {
			double left = window - (now_ms() - t0);
			if (left <= 0)
				break;
			struct pollfd pfd = {.fd = fd, .events = POLLIN};
			if (poll(&pfd, 1, (int)left + 1) <= 0)
				continue;
			union {
				char b[CMSG_SPACE(sizeof(int)) * 2];
				struct cmsghdr align;
			} ctl;
			struct iovec iov = {r, sizeof(r)};
			struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
					    .msg_controllen = sizeof(ctl.b)};
			ssize_t n = recvmsg(fd, &mh, 0);
			int ipttl = -1;
			for (struct cmsghdr *cm = n >= 0 ? CMSG_FIRSTHDR(&mh) : NULL; cm; cm = CMSG_NXTHDR(&mh, cm))
				if ((cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TTL) ||
				    (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_HOPLIMIT))
					memcpy(&ipttl, CMSG_DATA(cm), sizeof(ipttl));
			if (n < 12 || (uint16_t)(r[0] << 8 | r[1]) != id)
				continue;
			char addr[64];
			long ttl;
			first_addr(r, (size_t)n, addr, sizeof(addr), &ttl);
			if (!quiet)
				printf("q=%ld txid=%u t_ms=%.3f len=%zd an=%u flags=%02x%02x addr=%s ttl=%ld ipttl=%d\n", i,
				       id, now_ms() - t0, n, (unsigned)(r[6] << 8 | r[7]), r[2], r[3], addr, ttl, ipttl);
			if (real) {
				int is_real = !strcmp(addr, real) || !strcmp(addr, "-");
				if (nrep == 0 && !is_real)
					first_is_forged = 1;
				if (is_real) {
					if (seen_forged)
						real_after++;
					seen_real = 1;
				} else {
					seen_forged = 1;
					forged_total++;
				}
			}
			nrep++;
		}
		answered += nrep > 0;
		first_forged += first_is_forged;
		real_seen += seen_real;
	}
	printf("sent=%ld answered=%ld first_forged=%ld real_seen=%ld forged_total=%ld real_after_forged=%ld\n", sent,
	       answered, first_forged, real_seen, forged_total, real_after);
	return 0;
usage:
	fprintf(stderr, "usage: dnsmulti -s ADDR:PORT -n NAME [-t TYPE] [-c COUNT] [-w WINDOW_MS] [-e EXPECT] [-r REAL_ADDR] [-q]\n");
	return 2;
}
