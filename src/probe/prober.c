/* prober — asynchronous bulk UDP queries with retries and listening windows. */
#include "probe/prober.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "dns/err.h"
#include "dns/msg.h"
#include "dns/rrtype.h"
#include "resolve/secrand.h"

#define QMAX 288
#define RXBUF 4096
#define NOSLOT UINT32_MAX
#define MAXFDS 4

struct slot {
	uint32_t next, prev;   /* wheel bucket list */
	uint64_t tick;         /* deadline, ms */
	uint8_t active, natt, inwheel;
	uint16_t qlen;
	uint16_t ids[PROBE_MAXATT];
	struct probe_job job;  /* job.qname points into q */
	struct probe_result res;
	uint8_t q[QMAX];
};

struct sendq {
	unsigned n;
	struct mmsghdr mh[PROBE_BATCH];
	struct iovec iov[PROBE_BATCH];
};

struct xfd {
	int fd;
	probe_fd_fn *cb;
	void *arg;
};

struct prober {
	struct probe_cfg cfg;
	int ep;
	int *fd;              /* per socket, one per family needed: fd[s] */
	int *fd6;
	uint32_t **idtab;     /* [socket][id] = slot + 1 */
	struct slot *slots;
	uint32_t *freel;
	unsigned nfree;
	uint32_t wheel[PROBE_WHEEL];
	uint64_t last_tick;
	struct sendq *sq;     /* per socket, v4 then v6: 2 * sockets */
	struct xfd xfd[MAXFDS];
	unsigned nxfd;
	struct probe_stats st;
	/* receive batch */
	uint8_t (*rxbuf)[RXBUF];
	struct mmsghdr rmh[PROBE_BATCH];
	struct iovec riov[PROBE_BATCH];
	struct sockaddr_storage rfrom[PROBE_BATCH];
	char rcmsg[PROBE_BATCH][64];
	/* current run */
	probe_done_fn *done;
	void *arg;
};

uint64_t probe_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void probe_cfg_default(struct probe_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->sockets = 16;
	c->inflight = 16384;
	c->timeout_ms = 1000;
	c->window_ms = 500;
	c->retries = 2;
	c->edns = true;
	c->edns_size = 1232;
}

int prober_build_query(const struct probe_cfg *c, const uint8_t *qname, uint16_t qtype, uint16_t id, uint8_t *buf,
		       size_t cap)
{
	msg_wr mw;
	msg_wr_init(&mw, buf, cap);
	int rc = msg_wr_header(&mw, id, c->rd ? MSG_RD : 0);
	if (!rc)
		rc = msg_wr_question(&mw, qname, qtype, CLASS_IN);
	if (!rc && c->edns) {
		edns_out eo;
		memset(&eo, 0, sizeof(eo));
		eo.udp_size = c->edns_size ? c->edns_size : 1232;
		rc = msg_wr_edns(&mw, &eo);
	}
	if (rc)
		return rc;
	return msg_wr_finish(&mw);
}

int prober_parse_reply(const uint8_t *wire, size_t len, const uint8_t *qname, uint16_t qtype, struct probe_reply *r)
{
	static __thread msg_rr rrs[128];
	msg m;
	int rc = msg_parse(&m, wire, len, rrs, 128);
	if (rc == DNS_ESPACE)
		return DNS_EFORMAT; /* more than 127 RRs: not a reply we care for */
	if (rc < 0)
		return rc;
	if (!(m.hdr.flags & MSG_QR) || m.hdr.qdcount != 1 || msg_flags_opcode(m.hdr.flags) != OPCODE_QUERY)
		return DNS_ENOTFOUND;
	if (m.qtype != qtype || m.qclass != CLASS_IN || !name_eq(m.qname, qname))
		return DNS_ENOTFOUND;
	memset(r, 0, sizeof(*r));
	r->flags = m.hdr.flags;
	r->len = (uint16_t)len;
	r->an = m.hdr.ancount;
	r->ns = m.hdr.nscount;
	r->ar = m.hdr.arcount;
	r->opt = m.edns.present;
	unsigned n;
	const msg_rr *a = msg_sec(&m, MSG_ANSWER, &n);
	uint32_t ttl = UINT32_MAX;
	for (unsigned i = 0; i < n; i++) {
		if (a[i].ttl < ttl)
			ttl = a[i].ttl;
		unsigned alen = a[i].type == RR_A ? 4 : a[i].type == RR_AAAA ? 16 : 0;
		if (alen && a[i].rdlen == alen) {
			if (r->naddr < PROBE_MAXADDR) {
				struct probe_addr *pa = &r->addr[r->naddr++];
				pa->family = alen == 4 ? 4 : 6;
				memset(pa->a, 0, sizeof(pa->a));
				memcpy(pa->a, wire + a[i].rdata, alen);
			} else if (r->more_addr < 255) {
				r->more_addr++;
			}
		} else if (r->nother < 255) {
			r->nother++;
		}
	}
	r->ttl = n ? ttl : 0;
	return 0;
}

char *prober_reply_answers(const struct probe_reply *r, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = 0;
	for (unsigned i = 0; i < r->naddr && i < PROBE_MAXADDR; i++) {
		char a[INET6_ADDRSTRLEN];
		if (!inet_ntop(r->addr[i].family == 4 ? AF_INET : AF_INET6, r->addr[i].a, a, sizeof(a)))
			continue;
		int n = snprintf(buf + o, len - o, "%s%s", o ? " " : "", a);
		if (n < 0 || (size_t)n >= len - o)
			break;
		o += (size_t)n;
	}
	if (r->more_addr && o < len)
		snprintf(buf + o, len - o, "%s+%u", o ? " " : "", r->more_addr);
	return buf;
}

/* ---- timer wheel ---- */

static void wheel_del(struct prober *p, uint32_t i)
{
	struct slot *s = &p->slots[i];
	if (!s->inwheel)
		return;
	s->inwheel = 0;
	if (s->prev != NOSLOT)
		p->slots[s->prev].next = s->next;
	else
		p->wheel[s->tick % PROBE_WHEEL] = s->next;
	if (s->next != NOSLOT)
		p->slots[s->next].prev = s->prev;
	s->next = s->prev = NOSLOT;
}

static void wheel_add(struct prober *p, uint32_t i, uint64_t tick)
{
	struct slot *s = &p->slots[i];
	if (tick <= p->last_tick)
		tick = p->last_tick + 1;
	if (s->inwheel)
		wheel_del(p, i);
	s->inwheel = 1;
	s->tick = tick;
	uint32_t *h = &p->wheel[tick % PROBE_WHEEL];
	s->prev = NOSLOT;
	s->next = *h;
	if (*h != NOSLOT)
		p->slots[*h].prev = i;
	*h = i;
}

/* ---- sockets ---- */

static int open_sock(int family, char *err, size_t errlen)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	int on = 1, sz = 4 << 20;
	if (family == AF_INET)
		setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &on, sizeof(on));
	else
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof(on));
	/* FORCE works with CAP_NET_ADMIN; else the plain option, capped by
	 * net.core.rmem_max */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	net_addr a;
	memset(&a, 0, sizeof(a));
	if (family == AF_INET) {
		a.u.in4.sin_family = AF_INET;
		a.len = sizeof(a.u.in4);
	} else {
		a.u.in6.sin6_family = AF_INET6;
		a.len = sizeof(a.u.in6);
	}
	if (bind(fd, &a.u.sa, a.len) < 0) {
		snprintf(err, errlen, "bind: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

void prober_free(struct prober *p)
{
	if (!p)
		return;
	for (unsigned s = 0; p->fd && s < p->cfg.sockets; s++) {
		if (p->fd[s] >= 0)
			close(p->fd[s]);
		if (p->fd6[s] >= 0)
			close(p->fd6[s]);
	}
	if (p->idtab)
		for (unsigned s = 0; s < 2 * p->cfg.sockets; s++)
			free(p->idtab[s]);
	if (p->ep >= 0)
		close(p->ep);
	free(p->idtab);
	free(p->fd);
	free(p->fd6);
	free(p->slots);
	free(p->freel);
	free(p->sq);
	free(p->rxbuf);
	free(p);
}

struct prober *prober_new(const struct probe_cfg *c, char *err, size_t errlen)
{
	if (!c->ntargets || c->ntargets > PROBE_MAXTARGETS || !c->sockets || !c->inflight || c->retries < 0 ||
	    c->retries >= PROBE_MAXATT || c->timeout_ms <= 0 || c->window_ms < 0 ||
	    c->timeout_ms >= PROBE_WHEEL || c->window_ms >= PROBE_WHEEL) {
		snprintf(err, errlen, "bad prober configuration (targets 1..%d, retries 0..%d, timeout/window < %d ms)",
			 PROBE_MAXTARGETS, PROBE_MAXATT - 1, PROBE_WHEEL);
		return NULL;
	}
	struct prober *p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->cfg = *c;
	p->ep = -1;
	unsigned ns = c->sockets;
	bool need4 = false, need6 = false;
	for (unsigned t = 0; t < c->ntargets; t++) {
		if (addr_family(&c->targets[t]) == AF_INET)
			need4 = true;
		else if (addr_family(&c->targets[t]) == AF_INET6)
			need6 = true;
		else {
			snprintf(err, errlen, "target %u has no address", t);
			prober_free(p);
			return NULL;
		}
	}
	p->fd = malloc(ns * sizeof(int));
	p->fd6 = malloc(ns * sizeof(int));
	p->idtab = calloc(2 * ns, sizeof(uint32_t *));
	p->slots = calloc(c->inflight, sizeof(struct slot));
	p->freel = malloc(c->inflight * sizeof(uint32_t));
	p->sq = calloc(2 * ns, sizeof(struct sendq));
	p->rxbuf = malloc((size_t)PROBE_BATCH * RXBUF);
	if (!p->fd || !p->fd6 || !p->idtab || !p->slots || !p->freel || !p->sq || !p->rxbuf) {
		snprintf(err, errlen, "out of memory");
		free(p->fd);
		free(p->fd6);
		p->fd = p->fd6 = NULL;
		prober_free(p);
		return NULL;
	}
	for (unsigned s = 0; s < ns; s++)
		p->fd[s] = p->fd6[s] = -1;
	p->ep = epoll_create1(EPOLL_CLOEXEC);
	if (p->ep < 0) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		prober_free(p);
		return NULL;
	}
	for (unsigned s = 0; s < ns; s++) {
		for (int v6 = 0; v6 < 2; v6++) {
			if (!(v6 ? need6 : need4))
				continue;
			int fd = open_sock(v6 ? AF_INET6 : AF_INET, err, errlen);
			if (fd < 0) {
				prober_free(p);
				return NULL;
			}
			(v6 ? p->fd6 : p->fd)[s] = fd;
			p->idtab[2 * s + (unsigned)v6] = calloc(65536, sizeof(uint32_t));
			if (!p->idtab[2 * s + (unsigned)v6]) {
				snprintf(err, errlen, "out of memory");
				prober_free(p);
				return NULL;
			}
			struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 2 * s + (unsigned)v6};
			if (epoll_ctl(p->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
				snprintf(err, errlen, "epoll_ctl: %s", strerror(errno));
				prober_free(p);
				return NULL;
			}
		}
	}
	for (unsigned i = 0; i < c->inflight; i++) {
		p->slots[i].next = p->slots[i].prev = NOSLOT;
		p->freel[i] = c->inflight - 1 - i;
	}
	p->nfree = c->inflight;
	for (unsigned i = 0; i < PROBE_WHEEL; i++)
		p->wheel[i] = NOSLOT;
	for (unsigned i = 0; i < PROBE_BATCH; i++) {
		p->riov[i].iov_base = p->rxbuf[i];
		p->riov[i].iov_len = RXBUF;
	}
	p->last_tick = probe_now_us() / 1000;
	return p;
}

int prober_watch_fd(struct prober *p, int fd, probe_fd_fn *cb, void *arg)
{
	if (p->nxfd >= MAXFDS)
		return DNS_ESPACE;
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (1ull << 32) | p->nxfd};
	if (epoll_ctl(p->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		return DNS_EIO;
	p->xfd[p->nxfd++] = (struct xfd){fd, cb, arg};
	return 0;
}

const struct probe_stats *prober_stats(const struct prober *p)
{
	return &p->st;
}

/* Socket index (into idtab/sq) of slot i. */
static unsigned slot_sock(const struct prober *p, uint32_t i)
{
	unsigned s = i % p->cfg.sockets;
	bool v6 = addr_family(&p->cfg.targets[p->slots[i].job.target]) == AF_INET6;
	return 2 * s + (unsigned)v6;
}

static void flush(struct prober *p, unsigned k)
{
	struct sendq *q = &p->sq[k];
	int fd = (k & 1) ? p->fd6[k / 2] : p->fd[k / 2];
	unsigned off = 0;
	while (off < q->n) {
		int r = sendmmsg(fd, q->mh + off, q->n - off, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			/* EAGAIN (buffer full) or a hard error: count the
			 * datagram lost; the retry timer covers it */
			p->st.send_err++;
			off++;
			continue;
		}
		off += (unsigned)r;
	}
	q->n = 0;
}

static void flush_all(struct prober *p)
{
	for (unsigned k = 0; k < 2 * p->cfg.sockets; k++)
		if (p->sq[k].n)
			flush(p, k);
}

/* Sends attempt natt of slot i with a fresh ID. */
static void send_attempt(struct prober *p, uint32_t i)
{
	struct slot *s = &p->slots[i];
	unsigned k = slot_sock(p, i);
	uint32_t *tab = p->idtab[k];
	uint16_t id;
	do
		id = secrand_u16();
	while (tab[id]);
	tab[id] = i + 1;
	s->ids[s->natt++] = id;
	wire_put_u16(s->q, id);
	struct sendq *q = &p->sq[k];
	if (q->n == PROBE_BATCH)
		flush(p, k);
	unsigned n = q->n++;
	const net_addr *t = &p->cfg.targets[s->job.target];
	q->iov[n].iov_base = s->q;
	q->iov[n].iov_len = s->qlen;
	memset(&q->mh[n], 0, sizeof(q->mh[n]));
	q->mh[n].msg_hdr.msg_name = (void *)&t->u.sa;
	q->mh[n].msg_hdr.msg_namelen = t->len;
	q->mh[n].msg_hdr.msg_iov = &q->iov[n];
	q->mh[n].msg_hdr.msg_iovlen = 1;
	p->st.sent++;
}

static void finish(struct prober *p, uint32_t i)
{
	struct slot *s = &p->slots[i];
	unsigned k = slot_sock(p, i);
	/* an unsent datagram in the send queue still points at s->q: flush */
	if (p->sq[k].n)
		flush(p, k);
	for (unsigned a = 0; a < s->natt; a++)
		p->idtab[k][s->ids[a]] = 0;
	wheel_del(p, i);
	s->res.attempts = s->natt;
	p->st.done++;
	if (s->res.nrep)
		p->st.answered++;
	if (p->done)
		p->done(p->arg, &s->job, &s->res);
	s->active = 0;
	p->st.active--;
	p->freel[p->nfree++] = i;
}

static bool start(struct prober *p, const struct probe_job *j, uint64_t now)
{
	if (j->target >= p->cfg.ntargets) {
		p->st.bad++;
		return false;
	}
	uint32_t i = p->freel[p->nfree - 1];
	struct slot *s = &p->slots[i];
	int len = prober_build_query(&p->cfg, j->qname, j->qtype, 0, s->q, QMAX);
	if (len < 0) {
		p->st.bad++;
		return false;
	}
	p->nfree--;
	s->qlen = (uint16_t)len;
	s->job = *j;
	s->job.qname = s->q + MSG_HDRLEN;
	s->natt = 0;
	s->active = 1;
	s->res.nrep = s->res.extra = 0;
	s->res.sent_us = now;
	p->st.active++;
	p->st.jobs++;
	send_attempt(p, i);
	wheel_add(p, i, now / 1000 + (uint64_t)p->cfg.timeout_ms);
	return true;
}

static void fire(struct prober *p, uint32_t i, uint64_t now)
{
	struct slot *s = &p->slots[i];
	if (s->res.nrep || s->res.extra || s->natt >= (unsigned)p->cfg.retries + 1) {
		finish(p, i);
		return;
	}
	p->st.retries++;
	send_attempt(p, i);
	wheel_add(p, i, now / 1000 + (uint64_t)p->cfg.timeout_ms);
}

static void expire(struct prober *p, uint64_t now)
{
	uint64_t nt = now / 1000;
	if (nt <= p->last_tick)
		return;
	uint64_t from = p->last_tick + 1;
	if (nt - p->last_tick > PROBE_WHEEL)
		from = nt - PROBE_WHEEL + 1;
	p->last_tick = nt;
	for (uint64_t t = from; t <= nt; t++) {
		uint32_t i = p->wheel[t % PROBE_WHEEL];
		while (i != NOSLOT) {
			uint32_t nx = p->slots[i].next;
			if (p->slots[i].tick <= nt) {
				wheel_del(p, i);
				fire(p, i, now);
			}
			i = nx;
		}
	}
}

static bool from_target(const struct sockaddr_storage *ss, socklen_t len, const net_addr *t)
{
	if (ss->ss_family != t->u.sa.sa_family)
		return false;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
		return len >= sizeof(*a) && a->sin_port == t->u.in4.sin_port &&
		       a->sin_addr.s_addr == t->u.in4.sin_addr.s_addr;
	}
	const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
	return len >= sizeof(*a) && a->sin6_port == t->u.in6.sin6_port &&
	       !memcmp(&a->sin6_addr, &t->u.in6.sin6_addr, 16);
}

static uint8_t cmsg_ttl(struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) ||
		    (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT)) {
			int v;
			memcpy(&v, CMSG_DATA(c), sizeof(v));
			return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
		}
	}
	return 0;
}

static void on_datagram(struct prober *p, unsigned k, const uint8_t *buf, size_t len, struct msghdr *mh, uint64_t now)
{
	if (len < MSG_HDRLEN) {
		p->st.bad++;
		return;
	}
	uint32_t e = p->idtab[k][wire_get_u16(buf)];
	if (!e) {
		p->st.late++;
		return;
	}
	uint32_t i = e - 1;
	struct slot *s = &p->slots[i];
	if (!s->active || !from_target(mh->msg_name, mh->msg_namelen, &p->cfg.targets[s->job.target])) {
		p->st.unmatched++;
		return;
	}
	struct probe_reply tmp, *r = s->res.nrep < PROBE_MAXREP ? &s->res.rep[s->res.nrep] : &tmp;
	if (prober_parse_reply(buf, len, s->job.qname, s->job.qtype, r) < 0) {
		p->st.bad++;
		return;
	}
	uint64_t dt = now - s->res.sent_us;
	r->t_us = dt > UINT32_MAX ? UINT32_MAX : (uint32_t)dt;
	r->ip_ttl = cmsg_ttl(mh);
	r->attempt = 0;
	for (unsigned a = 0; a < s->natt; a++)
		if (s->ids[a] == wire_get_u16(buf))
			r->attempt = (uint8_t)a;
	p->st.replies++;
	bool first = !s->res.nrep && !s->res.extra;
	if (r == &tmp) {
		s->res.extra++;
		p->st.dropped_rep++;
	} else {
		s->res.nrep++;
	}
	if (first) {
		wheel_del(p, i);
		if (p->cfg.window_ms == 0)
			finish(p, i);
		else
			wheel_add(p, i, now / 1000 + (uint64_t)p->cfg.window_ms);
	}
}

static void receive(struct prober *p, unsigned k)
{
	int fd = (k & 1) ? p->fd6[k / 2] : p->fd[k / 2];
	for (int rounds = 0; rounds < 16; rounds++) {
		for (unsigned i = 0; i < PROBE_BATCH; i++) {
			struct msghdr *mh = &p->rmh[i].msg_hdr;
			mh->msg_name = &p->rfrom[i];
			mh->msg_namelen = sizeof(p->rfrom[i]);
			mh->msg_iov = &p->riov[i];
			mh->msg_iovlen = 1;
			mh->msg_control = p->rcmsg[i];
			mh->msg_controllen = sizeof(p->rcmsg[i]);
			mh->msg_flags = 0;
		}
		int n = recvmmsg(fd, p->rmh, PROBE_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		uint64_t now = probe_now_us();
		for (int i = 0; i < n; i++)
			on_datagram(p, k, p->rxbuf[i], p->rmh[i].msg_len, &p->rmh[i].msg_hdr, now);
		if (n < PROBE_BATCH)
			return;
	}
}

int prober_run(struct prober *p, probe_next_fn *next, probe_done_fn *done, probe_tick_fn *tick, void *arg,
	       volatile sig_atomic_t *stop)
{
	p->done = done;
	p->arg = arg;
	bool more = true;
	uint64_t now = probe_now_us(), last_tick_cb = now, tok_t = now;
	double tokens = 1, burst = p->cfg.rate > 0 ? p->cfg.rate / 100 : 0;
	if (burst < 1)
		burst = 1;
	struct epoll_event evs[64];
	int rc = 0;
	while (!(stop && *stop)) {
		now = probe_now_us();
		expire(p, now);
		if (p->cfg.rate > 0) {
			tokens += (double)(now - tok_t) * p->cfg.rate / 1e6;
			if (tokens > burst)
				tokens = burst;
		}
		tok_t = now;
		while (more && p->nfree && (p->cfg.rate <= 0 || tokens >= 1)) {
			struct probe_job j;
			if (!next(arg, &j)) {
				more = false;
				break;
			}
			if (start(p, &j, now))
				tokens -= 1;
		}
		flush_all(p);
		if (!more && !p->st.active)
			break;
		int to = p->st.active ? 1 : 0;
		if (more && p->nfree && p->cfg.rate > 0 && tokens < 1)
			to = 1;
		int n = epoll_wait(p->ep, evs, 64, to);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = DNS_EIO;
			break;
		}
		for (int i = 0; i < n; i++) {
			uint64_t d = evs[i].data.u64;
			if (d >> 32) {
				struct xfd *x = &p->xfd[d & 0xffffffffu];
				x->cb(x->arg, x->fd);
			} else {
				receive(p, (unsigned)d);
			}
		}
		if (tick && now - last_tick_cb >= 250000) {
			last_tick_cb = now;
			tick(arg, &p->st, now);
		}
	}
	if (stop && *stop) {
		/* drop what is in flight */
		p->done = NULL;
		for (uint32_t i = 0; i < p->cfg.inflight; i++)
			if (p->slots[i].active)
				finish(p, i);
	}
	flush_all(p);
	if (tick)
		tick(arg, &p->st, probe_now_us());
	p->done = NULL;
	return rc;
}
