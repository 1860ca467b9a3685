/* control — pipelined TCP control queries. */
#include "probe/control.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/tcp.h>

#include "dns/err.h"
#include "dns/msg.h"

struct conn {
	int fd;
	unsigned reopen;
	size_t out[CONTROL_PIPE]; /* id -> job (SIZE_MAX free) */
	unsigned nout;
	uint16_t nextid;
	uint8_t *wbuf;            /* pending output */
	size_t wlen, woff, wcap;
	uint8_t rbuf[65536 + 2];
	size_t rlen;
};

static int tcp_open(const net_addr *a)
{
	int fd = socket(a->u.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, &a->u.sa, a->len) < 0) {
		close(fd);
		return -1;
	}
	int on = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

static int wput(struct conn *c, const uint8_t *p, size_t n)
{
	if (c->wlen + n > c->wcap) {
		size_t nc = (c->wlen + n) * 2;
		uint8_t *b = realloc(c->wbuf, nc);
		if (!b)
			return DNS_ENOMEM;
		c->wbuf = b;
		c->wcap = nc;
	}
	memcpy(c->wbuf + c->wlen, p, n);
	c->wlen += n;
	return 0;
}

static int send_job(struct conn *c, size_t job, control_get_fn *get, void *arg)
{
	uint8_t qname[NAME_MAXLEN], pkt[320];
	uint16_t qtype;
	if (get(arg, job, qname, &qtype) < 0)
		return DNS_EINVAL;
	unsigned id;
	for (;;) {
		id = c->nextid++ % CONTROL_PIPE;
		if (c->out[id] == SIZE_MAX)
			break;
	}
	struct probe_cfg cfg;
	probe_cfg_default(&cfg);
	cfg.rd = true;
	int len = prober_build_query(&cfg, qname, qtype, (uint16_t)id, pkt + 2, sizeof(pkt) - 2);
	if (len < 0)
		return len;
	wire_put_u16(pkt, (uint16_t)len);
	if (wput(c, pkt, (size_t)len + 2) < 0)
		return DNS_ENOMEM;
	c->out[id] = job;
	c->nout++;
	return 0;
}

long control_fetch(const net_addr *srv, unsigned nconn, size_t n, control_get_fn *get, void *arg,
		   struct judge_ctl *out, int timeout_ms, char *err, size_t errlen)
{
	if (nconn < 1)
		nconn = 1;
	if (nconn > CONTROL_MAXCONN)
		nconn = CONTROL_MAXCONN;
	memset(out, 0, n * sizeof(*out));
	struct conn *cs = calloc(nconn, sizeof(*cs));
	if (!cs) {
		snprintf(err, errlen, "out of memory");
		return DNS_ENOMEM;
	}
	long answered = 0;
	size_t next = 0;
	unsigned live = 0;
	for (unsigned i = 0; i < nconn; i++) {
		for (unsigned k = 0; k < CONTROL_PIPE; k++)
			cs[i].out[k] = SIZE_MAX;
		cs[i].fd = tcp_open(srv);
		if (cs[i].fd >= 0)
			live++;
	}
	if (!live) {
		snprintf(err, errlen, "control: cannot connect over TCP: %s", strerror(errno));
		free(cs);
		return DNS_EIO;
	}
	uint64_t last = probe_now_us();
	struct pollfd pf[CONTROL_MAXCONN];
	for (;;) {
		bool busy = false;
		for (unsigned i = 0; i < nconn; i++) {
			struct conn *c = &cs[i];
			if (c->fd < 0)
				continue;
			while (c->nout < CONTROL_PIPE / 2 && next < n) {
				if (send_job(c, next, get, arg) < 0)
					out[next].ok = false;
				next++;
			}
			if (c->nout)
				busy = true;
		}
		if (!busy && next >= n)
			break;
		if (!busy) {
			/* every connection is gone */
			break;
		}
		for (unsigned i = 0; i < nconn; i++) {
			pf[i].fd = cs[i].fd;
			pf[i].events = (short)(POLLIN | (cs[i].woff < cs[i].wlen ? POLLOUT : 0));
			pf[i].revents = 0;
		}
		int pr = poll(pf, nconn, 100);
		if (pr < 0 && errno != EINTR)
			break;
		if ((probe_now_us() - last) / 1000 > (uint64_t)timeout_ms)
			break;
		for (unsigned i = 0; i < nconn; i++) {
			struct conn *c = &cs[i];
			if (c->fd < 0 || !pf[i].revents)
				continue;
			bool dead = false;
			if (pf[i].revents & POLLOUT) {
				ssize_t w = write(c->fd, c->wbuf + c->woff, c->wlen - c->woff);
				if (w > 0) {
					c->woff += (size_t)w;
					if (c->woff == c->wlen)
						c->woff = c->wlen = 0;
				} else if (w < 0 && errno != EAGAIN) {
					dead = true;
				}
			}
			if (pf[i].revents & (POLLIN | POLLHUP | POLLERR)) {
				ssize_t r = read(c->fd, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen);
				if (r == 0 || (r < 0 && errno != EAGAIN))
					dead = true;
				else if (r > 0)
					c->rlen += (size_t)r;
				size_t off = 0;
				while (c->rlen - off >= 2) {
					size_t ml = wire_get_u16(c->rbuf + off);
					if (c->rlen - off < ml + 2)
						break;
					const uint8_t *m = c->rbuf + off + 2;
					off += ml + 2;
					if (ml < MSG_HDRLEN)
						continue;
					unsigned id = wire_get_u16(m);
					if (id >= CONTROL_PIPE || c->out[id] == SIZE_MAX)
						continue;
					size_t job = c->out[id];
					uint8_t qname[NAME_MAXLEN];
					uint16_t qtype;
					struct probe_reply rep;
					if (get(arg, job, qname, &qtype) < 0 ||
					    prober_parse_reply(m, ml, qname, qtype, &rep) < 0)
						continue;
					out[job].ok = true;
					out[job].rcode = (uint16_t)msg_flags_rcode(rep.flags);
					out[job].naddr = rep.naddr;
					out[job].set = judge_set_hash(rep.addr, rep.naddr);
					c->out[id] = SIZE_MAX;
					c->nout--;
					answered++;
					last = probe_now_us();
				}
				memmove(c->rbuf, c->rbuf + off, c->rlen - off);
				c->rlen -= off;
			}
			if (dead) {
				close(c->fd);
				c->fd = -1;
				c->rlen = c->wlen = c->woff = 0;
				if (c->reopen++ < CONTROL_REOPEN)
					c->fd = tcp_open(srv);
				/* resend what was outstanding (on the new connection, if any) */
				size_t pend[CONTROL_PIPE];
				unsigned np = 0;
				for (unsigned k = 0; k < CONTROL_PIPE; k++)
					if (c->out[k] != SIZE_MAX) {
						pend[np++] = c->out[k];
						c->out[k] = SIZE_MAX;
					}
				c->nout = 0;
				for (unsigned k = 0; k < np && c->fd >= 0; k++)
					send_job(c, pend[k], get, arg);
			}
		}
	}
	for (unsigned i = 0; i < nconn; i++) {
		if (cs[i].fd >= 0)
			close(cs[i].fd);
		free(cs[i].wbuf);
	}
	free(cs);
	return answered;
}
