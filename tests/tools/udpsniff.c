/* udpsniff — prints the IPv4 header fields of UDP datagrams from a source
 * port, as they arrive (a raw IPPROTO_UDP socket sees a copy of each one);
 * for checking forged replies' IP TTL, IP ID and DF in namespace mode.
 *
 *   udpsniff [-p SPORT] [-c COUNT] [-w MS]
 * Per datagram: "src=IP:PORT dst=IP:PORT ttl=T id=I df=0|1 len=N"; stops
 * after COUNT datagrams (default unlimited) or MS without one (default
 * 2000). Needs CAP_NET_RAW. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long sport = 53, count = -1, wait_ms = 2000;
	int c;
	while ((c = getopt(argc, argv, "p:c:w:")) != -1) {
		switch (c) {
		case 'p': sport = atol(optarg); break;
		case 'c': count = atol(optarg); break;
		case 'w': wait_ms = atol(optarg); break;
		default:
			fprintf(stderr, "usage: udpsniff [-p SPORT] [-c COUNT] [-w MS]\n");
			return 2;
		}
	}
	int fd = socket(AF_INET, SOCK_RAW, IPPROTO_UDP);
	if (fd < 0) {
		perror("udpsniff: raw socket");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	uint8_t b[2048];
	for (long n = 0; count < 0 || n < count;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, (int)wait_ms) <= 0)
			break;
		ssize_t k = recv(fd, b, sizeof(b), 0);
		if (k < 28 || b[0] >> 4 != 4)
			continue;
		size_t ihl = (size_t)(b[0] & 15) * 4;
		if ((size_t)k < ihl + 8 || (b[ihl] << 8 | b[ihl + 1]) != sport)
			continue;
		char s[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, b + 12, s, sizeof(s));
		inet_ntop(AF_INET, b + 16, d, sizeof(d));
		printf("src=%s:%u dst=%s:%u ttl=%u id=%u df=%d len=%zd\n", s, b[ihl] << 8 | b[ihl + 1], d,
		       b[ihl + 2] << 8 | b[ihl + 3], b[8], b[4] << 8 | b[5], (b[6] & 0x40) != 0, k);
		fflush(stdout);
		n++;
	}
	return 0;
}
