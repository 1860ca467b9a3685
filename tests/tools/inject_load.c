/* inject_load — relay throughput: plays both the clients and the upstream
 * server (an echo that turns each query into an empty reply) around a
 * running `antidote inject` relay, keeping W queries in flight.
 *
 *   inject_load -r RELAY_PORT -u UPSTREAM_PORT [-d SECONDS] [-w WINDOW]
 *               [-c CENSORED_PCT] [-s SOCKETS]
 * The relay must run with --forward 127.0.0.1:UPSTREAM_PORT. Censored
 * queries ask www.facebook.com (blocked by the default list), the rest
 * www.example.org. Prints "seconds=.. sent=.. real=.. forged=..
 * real_per_s=.. forged_per_s=..". */
#include <stdbool.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define B 64

static volatile int done;

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
		sendmmsg(fd, m, (unsigned)k, 0);
	}
	return NULL;
}

static size_t mkq(uint8_t *q, uint16_t id, bool censored)
{
	static const uint8_t fb[] = "\x03www\x08" "facebook\x03" "com";
	static const uint8_t ok[] = "\x03www\x07" "example\x03" "org";
	memset(q, 0, 12);
	q[0] = (uint8_t)(id >> 8);
	q[1] = (uint8_t)id;
	q[2] = 1;
	q[5] = 1;
	const uint8_t *n = censored ? fb : ok;
	size_t nl = censored ? sizeof(fb) : sizeof(ok); /* includes the final NUL = root */
	memcpy(q + 12, n, nl);
	memcpy(q + 12 + nl, "\x00\x01\x00\x01", 4);
	return 12 + nl + 4;
}

int main(int argc, char **argv)
{
	int rport = 0, uport = 0, c, nsock = 4;
	double secs = 5;
	long window = 2048, cens = 50;
	while ((c = getopt(argc, argv, "r:u:d:w:c:s:")) != -1) {
		switch (c) {
		case 'r': rport = atoi(optarg); break;
		case 'u': uport = atoi(optarg); break;
		case 'd': secs = atof(optarg); break;
		case 'w': window = atol(optarg); break;
		case 'c': cens = atol(optarg); break;
		case 's': nsock = atoi(optarg); break;
		default: goto usage;
		}
	}
	if (!rport || !uport || nsock < 1 || nsock > 64)
		goto usage;
	struct sockaddr_in ua = {.sin_family = AF_INET, .sin_port = htons((uint16_t)uport),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int ufd = socket(AF_INET, SOCK_DGRAM, 0), big = 8 << 20;
	setsockopt(ufd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	if (bind(ufd, (struct sockaddr *)&ua, sizeof(ua))) {
		perror("inject_load: bind upstream");
		return 1;
	}
	pthread_t th;
	pthread_create(&th, NULL, echo, &ufd);
	struct sockaddr_in ra = ua;
	ra.sin_port = htons((uint16_t)rport);
	int fds[64];
	for (int i = 0; i < nsock; i++) {
		fds[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		setsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
		connect(fds[i], (struct sockaddr *)&ra, sizeof(ra));
	}
	static uint8_t qb[B][64], rb[B][512];
	struct mmsghdr qm[B], rm[B];
	struct iovec qi[B], ri[B];
	long sent = 0, real = 0, forged = 0, inflight = 0;
	uint16_t id = 1;
	double t0 = now_s(), last_real = t0;
	while (now_s() - t0 < secs) {
		long before = sent + real + forged;
		for (int s = 0; s < nsock; s++) {
			int k = 0;
			while (k < B && inflight + k < window) {
				size_t n = mkq(qb[k], id, (id % 100) < cens);
				id++;
				qi[k] = (struct iovec){qb[k], n};
				qm[k].msg_hdr = (struct msghdr){.msg_iov = &qi[k], .msg_iovlen = 1};
				k++;
			}
			if (k) {
				int w = sendmmsg(fds[s], qm, (unsigned)k, 0);
				if (w > 0) {
					sent += w;
					inflight += w;
				}
			}
			for (;;) {
				for (int i = 0; i < B; i++) {
					ri[i] = (struct iovec){rb[i], sizeof(rb[i])};
					rm[i].msg_hdr = (struct msghdr){.msg_iov = &ri[i], .msg_iovlen = 1};
				}
				int r = recvmmsg(fds[s], rm, B, MSG_DONTWAIT, NULL);
				if (r <= 0)
					break;
				for (int i = 0; i < r; i++) {
					if (rm[i].msg_len >= 12 && rb[i][7] == 1) {
						forged++;
					} else {
						real++;
						inflight--;
						last_real = now_s();
					}
				}
			}
		}
		if (sent + real + forged == before) { /* idle: sleep until a socket is readable */
			struct pollfd pf[64];
			for (int s = 0; s < nsock; s++)
				pf[s] = (struct pollfd){.fd = fds[s], .events = POLLIN};
			poll(pf, (nfds_t)nsock, 5);
		}
		if (now_s() - last_real > 0.2 && inflight >= window)
			inflight = 0; /* losses (full buffers): reopen the window */
	}
	double dt = now_s() - t0;
	done = 1;
	pthread_join(th, NULL);
	printf("seconds=%.2f sent=%ld real=%ld forged=%ld real_per_s=%.0f forged_per_s=%.0f\n", dt, sent, real,
	       forged, real / dt, forged / dt);
	return 0;
usage:
	fprintf(stderr, "usage: inject_load -r RELAY_PORT -u UPSTREAM_PORT [-d S] [-w WINDOW] [-c CENSORED_PCT] [-s SOCKETS]\n");
	return 2;
}
