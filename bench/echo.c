/* echo — the benchmark floor: a UDP echo that sets QR and does no DNS work.
 *
 * usage: echo ADDR PORT
 *
 * Binds a UDP socket to ADDR:PORT (IPv4 or IPv6 literal), receives up to
 * BATCH datagrams per recvmmsg(2) (blocking for the first, MSG_WAITFORONE),
 * sets the QR bit of each (byte 2 |= 0x80) and sends them all back to their
 * sources with sendmmsg(2). Nothing else: no parsing, no validation beyond
 * "at least 3 bytes and not truncated", so its CPU time per query is what
 * the kernel's UDP path costs a server. Exits 0 on SIGTERM or SIGINT. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64
#define BUFSZ 4096

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int parse_addr(const char *addr, const char *port, struct sockaddr_storage *ss, socklen_t *len)
{
	char *end;
	long p = strtol(port, &end, 10);

	if (*port == '\0' || *end != '\0' || p < 0 || p > 65535)
		return -1;
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)p);
		*len = sizeof(*in4);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)p);
		*len = sizeof(*in6);
		return 0;
	}
	return -1;
}

int main(int argc, char **argv)
{
	static unsigned char buf[BATCH][BUFSZ];
	static struct sockaddr_storage peer[BATCH];
	static struct iovec iov[BATCH];
	static struct mmsghdr msg[BATCH];
	struct sockaddr_storage ss;
	socklen_t sslen;

	if (argc != 3 || parse_addr(argv[1], argv[2], &ss, &sslen) < 0) {
		fprintf(stderr, "usage: echo ADDR PORT   (UDP echo setting the DNS QR bit; benchmark floor)\n");
		return 2;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: recvmmsg returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, sslen) < 0) {
		perror("echo: socket/bind");
		return 1;
	}

	while (!stop) {
		for (int i = 0; i < BATCH; i++) {
			iov[i].iov_base = buf[i];
			iov[i].iov_len = BUFSZ;
			memset(&msg[i].msg_hdr, 0, sizeof(msg[i].msg_hdr));
			msg[i].msg_hdr.msg_name = &peer[i];
			msg[i].msg_hdr.msg_namelen = sizeof(peer[i]);
			msg[i].msg_hdr.msg_iov = &iov[i];
			msg[i].msg_hdr.msg_iovlen = 1;
		}
		int n = recvmmsg(fd, msg, BATCH, MSG_WAITFORONE, NULL);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			perror("echo: recvmmsg");
			return 1;
		}
		/* Compact the batch to the replies worth sending. */
		int m = 0;
		for (int i = 0; i < n; i++) {
			if (msg[i].msg_len < 3 || (msg[i].msg_hdr.msg_flags & MSG_TRUNC))
				continue;
			buf[i][2] |= 0x80;
			iov[i].iov_len = msg[i].msg_len;
			if (m != i) {
				msg[m].msg_hdr = msg[i].msg_hdr;
			}
			m++;
		}
		for (int off = 0; off < m;) {
			int s = sendmmsg(fd, msg + off, (unsigned)(m - off), 0);
			if (s < 0) {
				if (errno == EINTR && !stop)
					continue;
				if (stop)
					break;
				off++; /* drop the datagram that failed, keep the rest */
				continue;
			}
			off += s;
		}
	}
	close(fd);
	return 0;
}
