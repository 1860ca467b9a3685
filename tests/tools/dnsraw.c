/* dnsraw — send one raw DNS packet to a loopback server over UDP or TCP and print the reply in hex. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define MAXPKT 65536

static void usage(void)
{
	fprintf(stderr,
		"usage: dnsraw [-t] [-r] [-s] [-w MS] [-a ADDR] PORT HEX|@FILE\n"
		"       dnsraw -L [-w MS] [-a ADDR] PORT\n"
		"  Sends the packet (hex digits, spaces/colons/newlines ignored, or the\n"
		"  bytes of FILE) to ADDR:PORT (default 127.0.0.1; only 127.0.0.0/8 and\n"
		"  ::1 are allowed) over UDP, or TCP with -t (a 2-octet length is\n"
		"  prepended unless -r: raw stream bytes). Prints the reply as lowercase\n"
		"  hex on one line, or \"timeout\" when none came within MS ms (default\n"
		"  2000), or \"closed\" when a TCP peer closed without a full reply.\n"
		"  -s prints a summary line instead of hex: id, qr, opcode, aa, tc, rd, ra,\n"
		"  rcode (extended by the OPT record), section counts, opt count, length.\n"
		"  -L listens on ADDR:PORT (UDP) instead and prints the first datagram that\n"
		"  arrives in hex (to capture a client's query, e.g. one dig signed).\n"
		"  Exit status: 0 reply, 1 timeout/closed, 2 usage or system error.\n");
	exit(2);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Returns the packet length or -1. */
static long load_packet(const char *arg, unsigned char *buf, size_t cap)
{
	size_t n = 0;

	if (arg[0] == '@') {
		FILE *f = fopen(arg + 1, "rb");

		if (!f) {
			perror(arg + 1);
			return -1;
		}
		n = fread(buf, 1, cap, f);
		fclose(f);
		return (long)n;
	}
	for (const char *p = arg; *p;) {
		int hi, lo;

		if (isspace((unsigned char)*p) || *p == ':') {
			p++;
			continue;
		}
		hi = hexval((unsigned char)p[0]);
		lo = p[1] ? hexval((unsigned char)p[1]) : -1;
		if (hi < 0 || lo < 0 || n >= cap) {
			fprintf(stderr, "dnsraw: bad hex near \"%.8s\"\n", p);
			return -1;
		}
		buf[n++] = (unsigned char)(hi << 4 | lo);
		p += 2;
	}
	return (long)n;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Waits until fd is readable or the deadline passes: 1 readable, 0 timeout. */
static int wait_readable(int fd, long deadline)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long left = deadline - now_ms();
		int r;

		if (left <= 0)
			return 0;
		r = poll(&pfd, 1, (int)left);
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return 0;
	}
}

/* Reads exactly len bytes: 1 done, 0 timeout, -1 closed/error. */
static int read_full(int fd, unsigned char *buf, size_t len, long deadline)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r;

		if (!wait_readable(fd, deadline))
			return 0;
		r = read(fd, buf + got, len - got);
		if (r == 0)
			return -1;
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		got += (size_t)r;
	}
	return 1;
}

static int write_full(int fd, const unsigned char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

static void print_hex(const unsigned char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		printf("%02x", buf[i]);
	putchar('\n');
}

/* Skips a wire name at *off; returns 0 or -1 when it runs past len. */
static int skip_name(const unsigned char *p, size_t len, size_t *off)
{
	while (*off < len) {
		unsigned c = p[*off];

		if (c == 0) {
			(*off)++;
			return 0;
		}
		if ((c & 0xc0) == 0xc0) {
			*off += 2;
			return *off <= len ? 0 : -1;
		}
		if (c & 0xc0)
			return -1;
		*off += 1 + c;
	}
	return -1;
}

/* One line: header fields, and rcode extended by the OPT record if any. */
static void print_summary(const unsigned char *p, size_t len)
{
	unsigned qd, an, ns, ar, rcode, opt = 0, i;
	size_t off = 12;

	if (len < 12) {
		printf("short len=%zu\n", len);
		return;
	}
	qd = (unsigned)p[4] << 8 | p[5];
	an = (unsigned)p[6] << 8 | p[7];
	ns = (unsigned)p[8] << 8 | p[9];
	ar = (unsigned)p[10] << 8 | p[11];
	rcode = p[3] & 15;
	for (i = 0; i < qd; i++) {
		if (skip_name(p, len, &off) < 0 || (off += 4) > len)
			goto out;
	}
	for (i = 0; i < an + ns + ar; i++) {
		unsigned type, rdlen;

		if (skip_name(p, len, &off) < 0 || off + 10 > len)
			goto out;
		type = (unsigned)p[off] << 8 | p[off + 1];
		rdlen = (unsigned)p[off + 8] << 8 | p[off + 9];
		if (type == 41 && i >= an + ns) {
			opt++;
			rcode |= (unsigned)p[off + 4] << 4;
		}
		off += 10 + rdlen;
		if (off > len)
			goto out;
	}
out:
	printf("id=%02x%02x qr=%d opcode=%d aa=%d tc=%d rd=%d ra=%d rcode=%u qd=%u an=%u ns=%u ar=%u opt=%u len=%zu\n",
	       p[0], p[1], p[2] >> 7, (p[2] >> 3) & 15, (p[2] >> 2) & 1, (p[2] >> 1) & 1, p[2] & 1,
	       p[3] >> 7, rcode, qd, an, ns, ar, opt, len);
}

int main(int argc, char **argv)
{
	static unsigned char pkt[MAXPKT + 2], reply[MAXPKT];
	struct sockaddr_storage ss;
	socklen_t sslen;
	const char *addr = "127.0.0.1";
	int tcp = 0, raw = 0, summary = 0, listen_mode = 0, opt, fd, family;
	long wait = 2000, len, deadline;
	char *end;
	unsigned long port;

	while ((opt = getopt(argc, argv, "trsLw:a:h")) != -1) {
		switch (opt) {
		case 't': tcp = 1; break;
		case 'r': raw = 1; break;
		case 's': summary = 1; break;
		case 'L': listen_mode = 1; break;
		case 'w': wait = strtol(optarg, NULL, 10); break;
		case 'a': addr = optarg; break;
		default: usage();
		}
	}
	if (argc - optind != 2 - listen_mode || wait <= 0)
		usage();
	port = strtoul(argv[optind], &end, 10);
	if (*end || port == 0 || port > 65535)
		usage();

	memset(&ss, 0, sizeof(ss));
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		if (inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1 ||
		    !IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr)) {
			fprintf(stderr, "dnsraw: %s is not ::1\n", addr);
			return 2;
		}
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		sslen = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1 ||
		    (ntohl(s4->sin_addr.s_addr) >> 24) != 127) {
			fprintf(stderr, "dnsraw: %s is not in 127.0.0.0/8\n", addr);
			return 2;
		}
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		sslen = sizeof(*s4);
	}
	family = ss.ss_family;
	if (listen_mode) {
		ssize_t r;

		fd = socket(family, SOCK_DGRAM, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&ss, sslen) < 0) {
			perror("dnsraw: bind");
			return 2;
		}
		if (!wait_readable(fd, now_ms() + wait)) {
			puts("timeout");
			return 1;
		}
		r = recv(fd, reply, sizeof(reply), 0);
		if (r < 0) {
			perror("dnsraw: recv");
			return 2;
		}
		print_hex(reply, (size_t)r);
		close(fd);
		return 0;
	}

	len = load_packet(argv[optind + 1], pkt + 2, MAXPKT);
	if (len < 0)
		return 2;

	fd = socket(family, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, sslen) < 0) {
		perror("dnsraw: connect");
		return 2;
	}
	deadline = now_ms() + wait;
	if (!tcp) {
		ssize_t r;

		if (send(fd, pkt + 2, (size_t)len, 0) < 0) {
			perror("dnsraw: send");
			return 2;
		}
		for (;;) {
			if (!wait_readable(fd, deadline)) {
				puts("timeout");
				return 1;
			}
			r = recv(fd, reply, sizeof(reply), 0);
			if (r >= 0)
				break;
			if (errno == ECONNREFUSED) {
				puts("timeout"); /* ICMP port unreachable: no answer */
				return 1;
			}
			if (errno != EINTR && errno != EAGAIN) {
				perror("dnsraw: recv");
				return 2;
			}
		}
		(summary ? print_summary : print_hex)(reply, (size_t)r);
		close(fd);
		return 0;
	}

	{
		const unsigned char *out = pkt + 2;
		size_t outlen = (size_t)len;
		unsigned char lenbuf[2];
		size_t rlen;
		int r;

		if (!raw) {
			pkt[0] = (unsigned char)(len >> 8);
			pkt[1] = (unsigned char)len;
			out = pkt;
			outlen += 2;
		}
		if (write_full(fd, out, outlen) < 0) {
			puts("closed");
			return 1;
		}
		r = read_full(fd, lenbuf, 2, deadline);
		if (r <= 0) {
			puts(r == 0 ? "timeout" : "closed");
			return 1;
		}
		rlen = (size_t)lenbuf[0] << 8 | lenbuf[1];
		r = read_full(fd, reply, rlen, deadline);
		if (r <= 0) {
			puts(r == 0 ? "timeout" : "closed");
			return 1;
		}
		(summary ? print_summary : print_hex)(reply, rlen);
	}
	close(fd);
	return 0;
}
