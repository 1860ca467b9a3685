/* metrics — Prometheus text on a loopback HTTP responder. */
#include "probe/metrics.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "dns/err.h"

static int loopback(const net_addr *a)
{
	if (addr_family(a) == AF_INET)
		return (ntohl(a->u.in4.sin_addr.s_addr) >> 24) == 127;
	if (addr_family(a) == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&a->u.in6.sin6_addr);
	return 0;
}

int metrics_listen(const net_addr *a, net_addr *bound, char *err, size_t errlen)
{
	if (!loopback(a)) {
		snprintf(err, errlen, "--metrics must be a loopback address (127.0.0.0/8 or ::1)");
		return DNS_EINVAL;
	}
	int fd = socket(a->u.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return DNS_EIO;
	}
	int on = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, &a->u.sa, a->len) < 0 || listen(fd, 16) < 0) {
		char b[ADDR_STRLEN];
		snprintf(err, errlen, "metrics: cannot listen on %s: %s", addr_str(a, b), strerror(errno));
		close(fd);
		return DNS_EIO;
	}
	if (bound) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0 ||
		    addr_from_sockaddr(bound, (struct sockaddr *)&ss, sl) < 0)
			*bound = *a;
	}
	return fd;
}

static void reply(int fd, const char *status, const char *ctype, const char *body, size_t len)
{
	char h[256];
	int n = snprintf(h, sizeof(h), "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
			 status, ctype, len);
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	const char *parts[2] = {h, body};
	size_t lens[2] = {(size_t)n, len};
	for (int k = 0; k < 2; k++) {
		size_t off = 0;
		while (off < lens[k]) {
			ssize_t w = send(fd, parts[k] + off, lens[k] - off, MSG_NOSIGNAL);
			if (w > 0) {
				off += (size_t)w;
				continue;
			}
			if (w < 0 && errno == EAGAIN && poll(&p, 1, 50) > 0)
				continue;
			return;
		}
	}
}

int metrics_serve(int lfd, const char *body, size_t len)
{
	int served = 0;
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			break;
		char req[1024];
		size_t rl = 0;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		while (rl < sizeof(req) - 1 && !memmem(req, rl, "\r\n\r\n", 4) && !memmem(req, rl, "\n\n", 2)) {
			ssize_t r = recv(fd, req + rl, sizeof(req) - 1 - rl, 0);
			if (r > 0) {
				rl += (size_t)r;
				continue;
			}
			if (r < 0 && errno == EAGAIN && poll(&p, 1, 50) > 0)
				continue;
			break;
		}
		req[rl] = 0;
		if (!strncmp(req, "GET /metrics", 12) && (req[12] == ' ' || req[12] == '?' || req[12] == '\r'))
			reply(fd, "200 OK", "text/plain; version=0.0.4; charset=utf-8", body, len);
		else
			reply(fd, "404 Not Found", "text/plain", "not found: try GET /metrics\n", 28);
		close(fd);
		served++;
	}
	return served;
}

static void put(struct mtext *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct mtext *m, const char *fmt, ...)
{
	if (m->len >= m->cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(m->buf + m->len, m->cap - m->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		m->len = m->len + (size_t)n < m->cap ? m->len + (size_t)n : m->cap;
}

void mtext_head(struct mtext *m, const char *name, const char *type, const char *help)
{
	put(m, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void mtext_val(struct mtext *m, const char *name, const char *labels, double v)
{
	if (labels && *labels)
		put(m, "%s{%s} %.17g\n", name, labels, v);
	else
		put(m, "%s %.17g\n", name, v);
}
