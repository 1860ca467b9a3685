/* inject_load — relay throughput: plays both the clients and the upstream
 * server (an echo that turns each query into an empty reply) around a
 * running `antidote inject` relay, keeping W queries in flight.
 *
 *   inject_load -r RELAY_PORT -u UPSTREAM_PORT [-d SECONDS] [-w WINDOW]
 *               [-c CENSORED_PCT] [-s SOCKETS] [-b BURST] [-g] [-v LENGTHS]
 * The relay must run with --forward 127.0.0.1:UPSTREAM_PORT. Censored
 * queries ask www.facebook.com, the rest www.example.org; with -v N the
 * first label is 1..N letters long (N query lengths; run the relay with the
 * rule *.facebook.com then). Each round sends up to BURST (default 64) queries from
 * each of the SOCKETS (at most 4096) client sockets: -s 2048 -b 1 makes
 * every query in flight come from its own port, as resolvers that
 * randomise source ports do. -g sends equal-length datagrams to one peer as one UDP
 * GSO buffer (queries, and the echo's replies), so the load costs less CPU
 * than the relay it measures. After the run it waits up to 1 s for the
 * replies still due. Prints "seconds=.. sent=.. real=.. forged=..
 * real_per_s=.. forged_per_s=.. unanswered=.. bad=.." (unanswered: no real
 * reply; bad: a reply without QR, or whose name is not the one its ID asked
 * for -- IDs restored, datagrams intact and not mixed up on the way). */
#include <stdbool.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net/sockbuf.h"

#define B 64
#define MAXSOCK 4096

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

static volatile int done;
static bool gso;
static int nvary;

/* Sends m[0..k) (one datagram each, one iovec) on fd; with -g, datagrams of
 * equal length to the same peer go as one UDP GSO message. */
static void send_all(int fd, struct mmsghdr *m, int k)
{
	if (!gso) {
		for (int d = 0; d < k;) {
			int w = sendmmsg(fd, m + d, (unsigned)(k - d), 0);
			if (w <= 0)
				break;
			d += w;
		}
		return;
	}
	struct mmsghdr g[B];
	struct iovec gi[B];
	union {
		char b[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr a;
	} ctl[B];
	bool used[B] = {false};
	int ng = 0, ni = 0;
	for (int i = 0; i < k; i++) {
		if (used[i])
			continue;
		struct msghdr *h = &m[i].msg_hdr;
		int first = ni;
		gi[ni++] = h->msg_iov[0];
		for (int j = i + 1; j < k; j++) {
			struct msghdr *o = &m[j].msg_hdr;
			if (used[j] || o->msg_iov[0].iov_len != h->msg_iov[0].iov_len || o->msg_namelen != h->msg_namelen ||
			    (h->msg_namelen && memcmp(o->msg_name, h->msg_name, h->msg_namelen)))
				continue;
			used[j] = true;
			gi[ni++] = o->msg_iov[0];
		}
		g[ng].msg_hdr = (struct msghdr){.msg_name = h->msg_name, .msg_namelen = h->msg_namelen,
						.msg_iov = &gi[first], .msg_iovlen = (size_t)(ni - first)};
		if (ni - first > 1) {
			struct cmsghdr *cm = &ctl[ng].a;
			cm->cmsg_level = SOL_UDP;
			cm->cmsg_type = UDP_SEGMENT;
			cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
			uint16_t seg = (uint16_t)h->msg_iov[0].iov_len;
			memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
			g[ng].msg_hdr.msg_control = ctl[ng].b;
			g[ng].msg_hdr.msg_controllen = sizeof(ctl[ng].b);
		}
		ng++;
	}
	for (int d = 0; d < ng;) {
		int w = sendmmsg(fd, g + d, (unsigned)(ng - d), 0);
		if (w <= 0)
			break;
		d += w;
	}
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *echo(void *arg)
{
	int fd = *(int *)arg;
	static uint8_t buf[B][512];
	struct mmsghdr m[B];
	struct iovec iov[B];
	struct sockaddr_in sa[B];
	while (!done) {
		for (int i = 0; i < B; i++) {
			iov[i] = (struct iovec){buf[i], sizeof(buf[i])};
			m[i].msg_hdr = (struct msghdr){.msg_name = &sa[i], .msg_namelen = sizeof(sa[i]),
						       .msg_iov = &iov[i], .msg_iovlen = 1};
		}
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 100) <= 0)
			continue;
		int k = recvmmsg(fd, m, B, MSG_DONTWAIT, NULL);
		if (k <= 0)
			continue;
		for (int i = 0; i < k; i++) {
			buf[i][2] |= 0x80;
			iov[i].iov_len = m[i].msg_len;
		}
		send_all(fd, m, k);
	}
	return NULL;
}

/* The query with this ID: "w...w.facebook.com" (censored) or
 * "w...w.example.org", the first label 3 letters long, or 1..nvary
 * letters by ID with -v (so queries come in nvary lengths). */
static size_t mkq(uint8_t *q, uint16_t id, bool censored)
{
	memset(q, 0, 12);
	q[0] = (uint8_t)(id >> 8);
	q[1] = (uint8_t)id;
	q[2] = 1;
	q[5] = 1;
	size_t p = 12, l = nvary > 0 ? 1 + (size_t)(id / 100) % (size_t)nvary : 3;
	q[p++] = (uint8_t)l;
	memset(q + p, 'w', l);
	p += l;
	const char *rest = censored ? "\x08" "facebook\x03" "com" : "\x07" "example\x03" "org";
	size_t rl = strlen(rest) + 1; /* with the root label */
	memcpy(q + p, rest, rl);
	p += rl;
	memcpy(q + p, "\x00\x01\x00\x01", 4);
	return p + 4;
}

int main(int argc, char **argv)
{
	int rport = 0, uport = 0, c, nsock = 4, burst = B;
	double secs = 5;
	long window = 2048, cens = 50;
	while ((c = getopt(argc, argv, "r:u:d:w:c:s:b:gv:")) != -1) {
		switch (c) {
		case 'r': rport = atoi(optarg); break;
		case 'u': uport = atoi(optarg); break;
		case 'd': secs = atof(optarg); break;
		case 'w': window = atol(optarg); break;
		case 'c': cens = atol(optarg); break;
		case 's': nsock = atoi(optarg); break;
		case 'g': gso = true; break;
		case 'b': burst = atoi(optarg); break;
		case 'v': nvary = atoi(optarg); break;
		default: goto usage;
		}
	}
	if (!rport || !uport || nvary < 0 || nvary > 40 || nsock < 1 || nsock > MAXSOCK || burst < 1 || burst > B)
		goto usage;
	struct sockaddr_in ua = {.sin_family = AF_INET, .sin_port = htons((uint16_t)uport),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int ufd = socket(AF_INET, SOCK_DGRAM, 0), big = 8 << 20;
	sockbuf_set(ufd, true, big);
	if (bind(ufd, (struct sockaddr *)&ua, sizeof(ua))) {
		perror("inject_load: bind upstream");
		return 1;
	}
	pthread_t th;
	pthread_create(&th, NULL, echo, &ufd);
	struct sockaddr_in ra = ua;
	ra.sin_port = htons((uint16_t)rport);
	static int fds[MAXSOCK];
	for (int i = 0; i < nsock; i++) {
		fds[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		sockbuf_set(fds[i], true, big);
		connect(fds[i], (struct sockaddr *)&ra, sizeof(ra));
	}
	static uint8_t qb[B][64], rb[B][512];
	struct mmsghdr qm[B], rm[B];
	struct iovec qi[B], ri[B];
	static int pend[MAXSOCK], sendq[MAXSOCK]; /* real replies awaited; sockets below burst */
	static bool queued[MAXSOCK];
	int qh = 0, qn = 0;
	int efd = epoll_create1(0);
	for (int i = 0; i < nsock; i++) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
		epoll_ctl(efd, EPOLL_CTL_ADD, fds[i], &ev);
		sendq[qn++] = i;
		queued[i] = true;
	}
	long sent = 0, real = 0, forged = 0, inflight = 0;
	uint16_t id = 1;
	double t0 = now_s(), last_real = t0;
	struct epoll_event evs[256];
	long bad = 0;
	double dt = 0;
	for (;;) {
		double t = now_s() - t0;
		bool sending = t < secs;
		if (!sending && dt == 0)
			dt = t; /* rates over the sending time; then drain */
		if (!sending && (inflight <= 0 || t > secs + 1))
			break;
		/* send: sockets with room, round robin, while the window allows */
		for (int tries = qn; sending && tries > 0 && qn > 0 && inflight < window; tries--) {
			int sk = sendq[qh];
			qh = (qh + 1) % nsock;
			qn--;
			queued[sk] = false;
			int k = 0;
			while (pend[sk] + k < burst && inflight + k < window) {
				size_t n = mkq(qb[k], id, (id % 100) < cens);
				id++;
				qi[k] = (struct iovec){qb[k], n};
				qm[k].msg_hdr = (struct msghdr){.msg_iov = &qi[k], .msg_iovlen = 1};
				k++;
			}
			if (k) {
				send_all(fds[sk], qm, k);
				sent += k;
				inflight += k;
				pend[sk] += k;
			}
		}
		int ne = epoll_wait(efd, evs, 256, sending && qn > 0 && inflight < window ? 0 : 5);
		for (int e = 0; e < ne; e++) {
			int sk = (int)evs[e].data.u32;
			for (int i = 0; i < B; i++) {
				ri[i] = (struct iovec){rb[i], sizeof(rb[i])};
				rm[i].msg_hdr = (struct msghdr){.msg_iov = &ri[i], .msg_iovlen = 1};
			}
			int r = recvmmsg(fds[sk], rm, B, MSG_DONTWAIT, NULL);
			for (int i = 0; i < r; i++) {
				/* the name must be the one the ID asked for: IDs restored,
				 * datagrams intact and not mixed up on the way */
				uint16_t rid = (uint16_t)(rb[i][0] << 8 | rb[i][1]);
				size_t l1 = rm[i].msg_len > 13 ? rb[i][12] : 0;
				bool fb = rm[i].msg_len > 14 + l1 && rb[i][13 + l1] == 8;
				if (rm[i].msg_len < 12 || !(rb[i][2] & 0x80) || fb != ((rid % 100) < cens))
					bad++;
				if (rm[i].msg_len >= 12 && rb[i][7] == 1) {
					forged++;
				} else {
					real++;
					inflight--;
					if (pend[sk] > 0)
						pend[sk]--;
					last_real = now_s();
				}
			}
			if (r > 0 && !queued[sk] && pend[sk] < burst) {
				sendq[(qh + qn) % nsock] = sk;
				qn++;
				queued[sk] = true;
			}
		}
		if (sending && now_s() - last_real > 0.2 && inflight >= window) {
			/* losses (full buffers): reopen the window */
			inflight = 0;
			for (int i = 0; i < nsock; i++) {
				pend[i] = 0;
				if (!queued[i]) {
					sendq[(qh + qn) % nsock] = i;
					qn++;
					queued[i] = true;
				}
			}
		}
	}
	done = 1;
	pthread_join(th, NULL);
	printf("seconds=%.2f sent=%ld real=%ld forged=%ld real_per_s=%.0f forged_per_s=%.0f unanswered=%ld bad=%ld\n",
	       dt, sent, real, forged, real / dt, forged / dt, sent - real, bad);
	return 0;
usage:
	fprintf(stderr, "usage: inject_load -r RELAY_PORT -u UPSTREAM_PORT [-d S] [-w WINDOW] [-c CENSORED_PCT] [-s SOCKETS] [-b BURST] [-g] [-v LENGTHS]\n");
	return 2;
}
