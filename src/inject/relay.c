/* relay — delay/loss relay with on-path injection (design in relay.h). */
#include "inject/relay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "dns/err.h"
#include "net/sockbuf.h"

#define WHEEL 32768 /* > 2 x RELAY_MAX_DELAY_MS (forged send times), power of two */
#define NIL UINT32_MAX
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#define RELAY_GSO_MAX_SEG 1400    /* fits a 1500-octet MTU (namespace veths) */
#define RELAY_GSO_MAX_BYTES 60000 /* under the 64 KiB of one GSO buffer */
#define TAG_LISTEN 0
#define TAG_TIMER 1
#define TAG_UP 2                  /* + shared upstream socket index */
#define TAG_CLIENT (1ULL << 32)   /* | client index (per-client mode) */

enum { DIR_UP, DIR_DOWN, DIR_FORGED };

struct slot {
	uint64_t due_ms;
	uint32_t next;
	uint32_t client, gen;
	uint16_t len;
	uint8_t dir;
	int8_t df;       /* forged: 0/1; relayed: -1 (socket default) */
	int16_t ip_ttl;  /* forged: TTL to set, -1 none */
	uint8_t data[RELAY_SLOT_DATA];
};

struct client {
	net_addr addr;
	uint64_t last_ms;
	uint32_t hash, gen;
	int fd;          /* per-client mode */
	bool used;
};

/* shared mode: one (socket, ID) pair */
struct idpair {
	uint32_t client, gen;
	uint32_t t_ms;   /* relay ms when taken */
	uint16_t orig;
	uint16_t used;
};

struct list {
	uint32_t head, tail;
};

struct relay {
	const struct relay_config *c;
	struct inj_engine *engine;  /* this thread's (borrowed) */
	unsigned index;             /* thread number */
	pthread_t thread;
	int lfd, efd, tfd, lfamily;
	struct slot *slots;
	uint32_t *freel, nfree;
	struct list wheel[WHEEL], ready;
	uint64_t wt, pending, start_ms, armed;
	int64_t clock_off;       /* scenario ms = now - start_ms + clock_off */
	/* clients */
	struct client *cl;
	uint32_t *cfree, ncfree, chw, nlive, maxcl;
	uint32_t *ctab;
	size_t cmask;
	uint64_t idle_ms, next_sweep, last_full;
	/* shared upstream */
	int upfds[RELAY_MAX_UP_SOCKETS];
	unsigned nupfd;
	struct idpair *ids;
	uint32_t nids, idcur;
	uint64_t rng;
	int cur_df;
	bool log_dirty;
	struct relay_stats st;
	bool gso;                /* UDP_SEGMENT coalescing (off after a refusal) */
	/* datagrams queued for the listen socket / one upstream socket */
	uint32_t oslot[RELAY_BATCH];
	int nout;
	uint32_t uslot[RELAY_BATCH];
	int nup, upfd;
	/* one send round (transmit): messages, each one datagram or a group of
	 * equal-length datagrams to the same peer sent as one UDP GSO buffer */
	struct mmsghdr gm[RELAY_BATCH];
	struct iovec giov[RELAY_BATCH];
	uint32_t gslot[RELAY_BATCH];  /* slot of each giov entry */
	union {
		char buf[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} gctl[RELAY_BATCH];
	/* receive */
	struct mmsghdr im[RELAY_BATCH];
	struct iovec iiov[RELAY_BATCH];
	struct sockaddr_storage iaddr[RELAY_BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(int)) * 2];
		struct cmsghdr align;
	} ictl[RELAY_BATCH];
	uint32_t islot[RELAY_BATCH];
	uint8_t scratch[RELAY_SLOT_DATA];
	struct inj_forged forged[INJ_MAX_FORGED];
};

void relay_config_default(struct relay_config *c)
{
	memset(c, 0, sizeof(*c));
	c->seed = 1;
	c->slots = 16384;
	c->max_clients = 65536;
	c->idle_ms = 10000;
	c->upstream = RELAY_UP_SHARED;
	c->up_sockets = 4;
}

bool relay_addr_allowed(const net_addr *a)
{
	if (addr_family(a) == AF_INET)
		return (ntohl(a->u.in4.sin_addr.s_addr) >> 24) == 127;
	if (addr_family(a) == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&a->u.in6.sin6_addr);
	return false;
}

bool relay_addr_netns(const net_addr *a)
{
	if (addr_family(a) == AF_INET6) {
		/* 2001:db8:100::/64 and 2001:db8:113::/64 (lab/netns.h) */
		static const uint8_t c6[8] = {0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00, 0, 0};
		static const uint8_t s6[8] = {0x20, 0x01, 0x0d, 0xb8, 0x01, 0x13, 0, 0};
		const uint8_t *b = a->u.in6.sin6_addr.s6_addr;
		return !memcmp(b, c6, 8) || !memcmp(b, s6, 8);
	}
	if (addr_family(a) != AF_INET)
		return false;
	uint32_t v = ntohl(a->u.in4.sin_addr.s_addr) >> 8;
	return v == (198u << 16 | 51u << 8 | 100u) || v == (203u << 16 | 0u << 8 | 113u);
}

static bool allowed(const struct relay_config *c, const net_addr *a)
{
	return relay_addr_allowed(a) || (c->netns_ok && relay_addr_netns(a));
}

int relay_upstream_parse(const char *s, enum relay_upstream *out)
{
	if (!strcmp(s, "shared"))
		*out = RELAY_UP_SHARED;
	else if (!strcmp(s, "per-client"))
		*out = RELAY_UP_PER_CLIENT;
	else
		return DNS_ESYNTAX;
	return 0;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t rnd(struct relay *r)
{
	uint64_t x = r->rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return r->rng = x;
}

/* ---- slots and the wheel ---- */

static uint32_t slot_get(struct relay *r)
{
	return r->nfree ? r->freel[--r->nfree] : NIL;
}

static void slot_put(struct relay *r, uint32_t s)
{
	r->freel[r->nfree++] = s;
}

static void list_push(struct relay *r, struct list *l, uint32_t s)
{
	r->slots[s].next = NIL;
	if (l->tail == NIL)
		l->head = s;
	else
		r->slots[l->tail].next = s;
	l->tail = s;
}

static void schedule(struct relay *r, uint32_t s, uint64_t due, uint64_t now)
{
	r->slots[s].due_ms = due;
	if (due <= now || due < r->wt) {
		list_push(r, &r->ready, s);
		return;
	}
	list_push(r, &r->wheel[due & (WHEEL - 1)], s);
	r->pending++;
}

/* Moves every bucket up to now onto the ready list. */
static void advance(struct relay *r, uint64_t now)
{
	uint64_t n = 0;
	for (; r->pending && r->wt <= now && n < WHEEL; r->wt++, n++) {
		struct list *b = &r->wheel[r->wt & (WHEEL - 1)];
		if (b->head == NIL)
			continue;
		if (r->ready.tail == NIL)
			r->ready.head = b->head;
		else
			r->slots[r->ready.tail].next = b->head;
		r->ready.tail = b->tail;
		for (uint32_t s = b->head; s != NIL; s = r->slots[s].next)
			r->pending--;
		b->head = b->tail = NIL;
	}
	if (r->wt <= now)
		r->wt = now + 1;
}

static void arm(struct relay *r)
{
	uint64_t t = 0;
	if (r->pending) {
		t = r->wt;
		while (r->wheel[t & (WHEEL - 1)].head == NIL)
			t++;
	}
	if (t == r->armed)
		return;
	r->armed = t;
	struct itimerspec its = {0};
	its.it_value.tv_sec = (time_t)(t / 1000);
	its.it_value.tv_nsec = (long)(t % 1000) * 1000000;
	timerfd_settime(r->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* ---- clients ---- */

static uint32_t addr_hash(const net_addr *a)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	const uint8_t *p;
	size_t n;
	if (a->u.sa.sa_family == AF_INET) {
		p = (const uint8_t *)&a->u.in4.sin_addr;
		n = 4;
		h = (h ^ a->u.in4.sin_port) * 0x100000001b3ULL;
	} else {
		p = (const uint8_t *)&a->u.in6.sin6_addr;
		n = 16;
		h = (h ^ a->u.in6.sin6_port ^ a->u.in6.sin6_scope_id) * 0x100000001b3ULL;
	}
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	return (uint32_t)(h ^ h >> 32);
}

static bool client_live(const struct relay *r, uint32_t ci, uint32_t gen)
{
	return r->cl[ci].used && r->cl[ci].gen == gen;
}

static void client_forget(struct relay *r, uint32_t ci)
{
	struct client *c = &r->cl[ci];
	size_t i = c->hash & r->cmask;
	while (r->ctab[i] != ci + 1)
		i = (i + 1) & r->cmask;
	/* backward-shift deletion: no tombstones, probes stay short */
	for (size_t j = i;;) {
		j = (j + 1) & r->cmask;
		if (!r->ctab[j])
			break;
		size_t home = r->cl[r->ctab[j] - 1].hash & r->cmask;
		bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
		if (stays)
			continue;
		r->ctab[i] = r->ctab[j];
		i = j;
	}
	r->ctab[i] = 0;
	if (c->fd >= 0)
		close(c->fd); /* leaves the epoll set with it */
	c->fd = -1;
	c->used = false;
	c->gen++;
	r->cfree[r->ncfree++] = ci;
	r->nlive--;
	r->st.expired++;
}

static void sweep(struct relay *r, uint64_t now)
{
	for (uint32_t i = 0; i < r->chw; i++)
		if (r->cl[i].used && now - r->cl[i].last_ms >= r->idle_ms)
			client_forget(r, i);
	r->next_sweep = now + (r->idle_ms / 2 < 1000 ? r->idle_ms / 2 : 1000);
}

static int client_get(struct relay *r, const struct sockaddr_storage *ss, socklen_t len, uint64_t now)
{
	net_addr a;
	if (addr_from_sockaddr(&a, (const struct sockaddr *)ss, len))
		return -1;
	if (a.u.sa.sa_family == AF_INET6)
		a.u.in6.sin6_flowinfo = 0;
	uint32_t h = addr_hash(&a);
	size_t i = h & r->cmask;
	for (; r->ctab[i]; i = (i + 1) & r->cmask) {
		struct client *c = &r->cl[r->ctab[i] - 1];
		if (c->hash == h && addr_equal(&c->addr, &a)) {
			c->last_ms = now;
			return (int)r->ctab[i] - 1;
		}
	}
	if (!r->ncfree) {
		if (now >= r->last_full + 100) { /* full: sweep early, at most every 100 ms */
			r->last_full = now;
			sweep(r, now);
		}
		if (!r->ncfree)
			return -1;
		/* the table changed: find the insertion point again */
		for (i = h & r->cmask; r->ctab[i]; i = (i + 1) & r->cmask)
			;
	}
	int fd = -1;
	if (r->c->upstream == RELAY_UP_PER_CLIENT) {
		fd = socket(addr_family(&r->c->forward), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		if (connect(fd, &r->c->forward.u.sa, r->c->forward.len)) {
			close(fd);
			return -1;
		}
	}
	uint32_t idx = r->cfree[--r->ncfree];
	struct client *c = &r->cl[idx];
	c->addr = a;
	c->hash = h;
	c->last_ms = now;
	c->fd = fd;
	c->used = true;
	if (idx >= r->chw)
		r->chw = idx + 1;
	if (fd >= 0) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG_CLIENT | idx};
		epoll_ctl(r->efd, EPOLL_CTL_ADD, fd, &ev);
	}
	r->ctab[i] = idx + 1;
	if (++r->nlive > r->st.peak_clients)
		r->st.peak_clients = r->nlive;
	return (int)idx;
}

/* shared mode: takes a free (socket, ID) pair for the query in slot p;
 * rewrites its ID. Returns the socket or -1. */
static int id_take(struct relay *r, struct slot *p, uint64_t now)
{
	uint32_t t = (uint32_t)(now - r->start_ms);
	for (int tries = 0; tries < 256; tries++) {
		uint32_t j = r->idcur;
		r->idcur = r->idcur + 1 == r->nids ? 0 : r->idcur + 1;
		struct idpair *e = &r->ids[j];
		if (e->used && t - e->t_ms < r->idle_ms)
			continue;
		e->used = 1;
		e->t_ms = t;
		e->client = p->client;
		e->gen = p->gen;
		e->orig = (uint16_t)(p->data[0] << 8 | p->data[1]);
		p->data[0] = (uint8_t)((j & 0xffff) >> 8);
		p->data[1] = (uint8_t)j;
		return r->upfds[j >> 16];
	}
	return -1;
}

/* ---- sending ---- */

/* Whether datagram q can ride in the same GSO buffer as p: same length,
 * same peer, same per-datagram options. */
static bool same_group(const struct slot *p, const struct slot *q, bool down)
{
	if (p->len != q->len)
		return false;
	if (!down)
		return true; /* one connected upstream socket per round */
	int tp = p->dir == DIR_FORGED ? p->ip_ttl : -1, tq = q->dir == DIR_FORGED ? q->ip_ttl : -1;
	return p->client == q->client && tp == tq;
}

/* Fills gm[] from the n queued slots: groups of equal-length datagrams to
 * the same peer become one message with a UDP_SEGMENT option (the kernel
 * builds and routes one buffer and splits it on delivery: about a quarter
 * of the cost of separate datagrams on loopback); relative order is kept
 * within a group and among groups. Returns the number of messages. */
static int group(struct relay *r, const uint32_t *slot, int n, bool down)
{
	bool taken[RELAY_BATCH] = {false};
	int ng = 0, ni = 0;
	for (int i = 0; i < n; i++) {
		if (taken[i])
			continue;
		const struct slot *p = &r->slots[slot[i]];
		int first = ni;
		size_t bytes = p->len;
		r->giov[ni] = (struct iovec){(void *)p->data, p->len};
		r->gslot[ni++] = slot[i];
		if (r->gso && p->len <= RELAY_GSO_MAX_SEG)
			for (int j = i + 1; j < n && bytes + p->len <= RELAY_GSO_MAX_BYTES; j++) {
				const struct slot *q = &r->slots[slot[j]];
				if (taken[j] || !same_group(p, q, down))
					continue;
				taken[j] = true;
				bytes += q->len;
				r->giov[ni] = (struct iovec){(void *)q->data, q->len};
				r->gslot[ni++] = slot[j];
			}
		struct msghdr *h = &r->gm[ng].msg_hdr;
		*h = (struct msghdr){.msg_iov = &r->giov[first], .msg_iovlen = (size_t)(ni - first)};
		if (down) {
			const struct client *c = &r->cl[p->client];
			h->msg_name = (void *)&c->addr.u.sa;
			h->msg_namelen = c->addr.len;
		}
		size_t ctl = 0;
		char *cb = r->gctl[ng].buf;
		if (down && p->dir == DIR_FORGED && p->ip_ttl > 0) {
			struct cmsghdr *cm = (struct cmsghdr *)cb;
			cm->cmsg_level = r->lfamily == AF_INET ? IPPROTO_IP : IPPROTO_IPV6;
			cm->cmsg_type = r->lfamily == AF_INET ? IP_TTL : IPV6_HOPLIMIT;
			cm->cmsg_len = CMSG_LEN(sizeof(int));
			int ttl = p->ip_ttl;
			memcpy(CMSG_DATA(cm), &ttl, sizeof(ttl));
			ctl += CMSG_SPACE(sizeof(int));
		}
		if (ni - first > 1) {
			struct cmsghdr *cm = (struct cmsghdr *)(cb + ctl);
			cm->cmsg_level = SOL_UDP;
			cm->cmsg_type = UDP_SEGMENT;
			cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
			uint16_t seg = p->len;
			memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
			ctl += CMSG_SPACE(sizeof(uint16_t));
		}
		if (ctl) {
			h->msg_control = cb;
			h->msg_controllen = ctl;
		}
		ng++;
	}
	return ng;
}

/* Sends the n queued slots on fd (down: to their clients); frees none.
 * A kernel that refuses UDP_SEGMENT (EIO: no checksum offload, EINVAL,
 * ENOPROTOOPT: older kernels) turns coalescing off for good and the rest
 * goes out one datagram a message. EAGAIN drops the rest, as a full
 * network queue would. */
static void transmit(struct relay *r, int fd, const uint32_t *slot, int n, bool down)
{
	int ng = group(r, slot, n, down), done = 0;
	while (done < ng) {
		int k = sendmmsg(fd, r->gm + done, (unsigned)(ng - done), 0);
		if (k > 0) {
			r->st.tx_msgs += (uint64_t)k;
			done += k;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		struct msghdr *h = &r->gm[done].msg_hdr;
		if (h->msg_iovlen > 1 && (errno == EIO || errno == EINVAL || errno == ENOPROTOOPT ||
					  errno == EOPNOTSUPP)) {
			uint32_t rest[RELAY_BATCH];
			int first = (int)(h->msg_iov - r->giov), nrest = 0;
			for (int i = first; i < n; i++)
				rest[nrest++] = r->gslot[i];
			r->gso = false;
			transmit(r, fd, rest, nrest, down);
			return;
		}
		done++; /* a bad destination (or ECONNREFUSED from an earlier datagram): skip it */
	}
}

static void flush_out(struct relay *r)
{
	if (r->nout)
		transmit(r, r->lfd, r->oslot, r->nout, true);
	for (int i = 0; i < r->nout; i++)
		slot_put(r, r->oslot[i]);
	r->nout = 0;
}

static void flush_up(struct relay *r)
{
	if (r->nup)
		transmit(r, r->upfd, r->uslot, r->nup, false);
	for (int i = 0; i < r->nup; i++)
		slot_put(r, r->uslot[i]);
	r->nup = 0;
}

static void set_df(struct relay *r, int df)
{
	if (r->lfamily != AF_INET || df == r->cur_df)
		return;
	flush_out(r);
	int v = df < 0 ? IP_PMTUDISC_WANT : df ? IP_PMTUDISC_DO : IP_PMTUDISC_DONT;
	setsockopt(r->lfd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof(v));
	r->cur_df = df;
}

static void send_up(struct relay *r, uint32_t s, uint64_t now)
{
	struct slot *p = &r->slots[s];
	int fd;
	if (r->c->upstream == RELAY_UP_PER_CLIENT) {
		fd = r->cl[p->client].fd;
	} else if (p->len < 2 || (fd = id_take(r, p, now)) < 0) {
		r->st.no_id++;
		slot_put(r, s);
		return;
	}
	if (r->nup && (r->upfd != fd || r->nup == RELAY_BATCH))
		flush_up(r);
	r->upfd = fd;
	r->uslot[r->nup++] = s;
	r->st.forwarded++;
}

static void send_down(struct relay *r, uint32_t s)
{
	if (r->nout == RELAY_BATCH)
		flush_out(r);
	r->oslot[r->nout++] = s;
}

/* Sends the ready list: upstream in order; downstream as three classes
 * (forged DF off, forged DF on, relayed), each in order, so the DF option
 * changes at most twice. */
static void send_ready(struct relay *r, uint64_t now)
{
	struct list cls[3] = {{NIL, NIL}, {NIL, NIL}, {NIL, NIL}};
	uint32_t s = r->ready.head;
	r->ready.head = r->ready.tail = NIL;
	while (s != NIL) {
		struct slot *p = &r->slots[s];
		uint32_t next = p->next;
		if (!client_live(r, p->client, p->gen))
			slot_put(r, s); /* cannot happen with idle_ms > the horizon */
		else if (p->dir == DIR_UP)
			send_up(r, s, now);
		else
			list_push(r, &cls[p->dir == DIR_FORGED ? (p->df > 0) : 2], s);
		s = next;
	}
	flush_up(r);
	for (int k = 0; k < 3; k++) {
		if (cls[k].head == NIL)
			continue;
		set_df(r, k == 2 ? -1 : k);
		for (s = cls[k].head; s != NIL;) {
			uint32_t next = r->slots[s].next;
			send_down(r, s);
			s = next;
		}
	}
	flush_out(r);
}

/* ---- ground truth ---- */

static void log_forged(struct relay *r, const struct client *c, const struct qname_view *v,
		       const struct inj_forged *f, uint64_t send_in, int ip_ttl)
{
	char ab[ADDR_STRLEN];
	inj_log_forged(r->c->log, addr_str(&c->addr, ab), v, f, send_in, ip_ttl);
	r->log_dirty = true;
}

/* ---- receiving ---- */

static int recv_batch(struct relay *r, int fd, bool want_addr)
{
	int n = 0;
	for (; n < RELAY_BATCH; n++) {
		uint32_t s = slot_get(r);
		if (s == NIL)
			break;
		r->islot[n] = s;
		r->iiov[n] = (struct iovec){r->slots[s].data, RELAY_SLOT_DATA};
		r->im[n].msg_hdr = (struct msghdr){.msg_iov = &r->iiov[n], .msg_iovlen = 1};
		if (want_addr) {
			r->im[n].msg_hdr.msg_name = &r->iaddr[n];
			r->im[n].msg_hdr.msg_namelen = sizeof(r->iaddr[n]);
			r->im[n].msg_hdr.msg_control = r->ictl[n].buf;
			r->im[n].msg_hdr.msg_controllen = sizeof(r->ictl[n].buf);
		}
	}
	if (n == 0) {
		/* no slot: drain one datagram so the loop does not spin */
		if (recv(fd, r->scratch, sizeof(r->scratch), MSG_DONTWAIT) >= 0)
			r->st.no_slot++;
		return 0;
	}
	int k = recvmmsg(fd, r->im, (unsigned)n, MSG_DONTWAIT, NULL);
	for (int i = k < 0 ? 0 : k; i < n; i++)
		slot_put(r, r->islot[i]);
	return k < 0 ? 0 : k;
}

static int recv_ttl(struct msghdr *h)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(h); cm; cm = CMSG_NXTHDR(h, cm))
		if ((cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TTL) ||
		    (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_HOPLIMIT)) {
			int t;
			memcpy(&t, CMSG_DATA(cm), sizeof(t));
			return t;
		}
	return -1;
}

static uint64_t one_way(struct relay *r)
{
	uint64_t d = (uint64_t)r->c->delay_ms;
	if (r->c->jitter_ms > 0)
		d += rnd(r) % ((uint64_t)r->c->jitter_ms + 1);
	return d;
}

static bool lost(struct relay *r)
{
	return r->c->loss_pct > 0 && (double)(rnd(r) % 1000000) < r->c->loss_pct * 10000.0;
}

static void inject(struct relay *r, struct slot *p, struct msghdr *h, uint32_t ci, uint64_t now)
{
	struct qmem m;
	struct qname_view v;
	qmem_init(&m, p->data, p->len);
	int64_t t = (int64_t)(now - r->start_ms) + r->clock_off;
	int nf = inj_engine_process(r->engine, &m, t, r->forged, INJ_MAX_FORGED, r->c->log ? &v : NULL);
	int qttl = nf ? recv_ttl(h) : -1;
	for (int j = 0; j < nf; j++) {
		const struct inj_forged *f = &r->forged[j];
		uint32_t fs = slot_get(r);
		if (fs == NIL) {
			r->st.no_slot++;
			continue;
		}
		struct slot *q = &r->slots[fs];
		memcpy(q->data, f->pkt, f->len);
		q->len = (uint16_t)f->len;
		q->dir = DIR_FORGED;
		q->df = f->fp->df;
		q->ip_ttl = (int16_t)(f->ip_ttl == INJ_IPTTL_COPY ? qttl : f->ip_ttl);
		q->client = ci;
		q->gen = r->cl[ci].gen;
		int64_t in = 2 * (int64_t)r->c->delay_ms - f->lead_ms;
		uint64_t send_in = in > 0 ? (uint64_t)in : 0;
		schedule(r, fs, now + send_in, now);
		r->st.forged++;
		if (r->c->log)
			log_forged(r, &r->cl[ci], &v, f, send_in, q->ip_ttl);
	}
}

static void on_queries(struct relay *r, uint64_t now)
{
	int k;
	while ((k = recv_batch(r, r->lfd, true)) > 0) {
		for (int i = 0; i < k; i++) {
			uint32_t s = r->islot[i];
			struct slot *p = &r->slots[s];
			struct msghdr *h = &r->im[i].msg_hdr;
			p->len = (uint16_t)r->im[i].msg_len;
			int ci = client_get(r, &r->iaddr[i], h->msg_namelen, now);
			if (ci < 0) {
				r->st.no_client++;
				slot_put(r, s);
				continue;
			}
			r->st.queries++;
			if (r->engine)
				inject(r, p, h, (uint32_t)ci, now);
			if (lost(r)) {
				r->st.lost++;
				slot_put(r, s);
				continue;
			}
			p->dir = DIR_UP;
			p->client = (uint32_t)ci;
			p->gen = r->cl[ci].gen;
			schedule(r, s, now + one_way(r), now);
		}
		if (k < RELAY_BATCH)
			break;
	}
}

/* A reply for client ci (already restored); schedules it down. */
static void reply_down(struct relay *r, uint32_t s, uint32_t ci, uint64_t now)
{
	struct slot *p = &r->slots[s];
	r->st.replies++;
	r->cl[ci].last_ms = now;
	if (lost(r)) {
		r->st.lost++;
		slot_put(r, s);
		return;
	}
	p->dir = DIR_DOWN;
	p->client = ci;
	p->gen = r->cl[ci].gen;
	schedule(r, s, now + one_way(r), now);
}

static void on_replies(struct relay *r, uint32_t ci, uint64_t now)
{
	int k;
	while (r->cl[ci].used && (k = recv_batch(r, r->cl[ci].fd, false)) > 0) {
		for (int i = 0; i < k; i++) {
			r->slots[r->islot[i]].len = (uint16_t)r->im[i].msg_len;
			reply_down(r, r->islot[i], ci, now);
		}
		if (k < RELAY_BATCH)
			break;
	}
}

static void on_up_replies(struct relay *r, unsigned u, uint64_t now)
{
	int k;
	uint32_t t = (uint32_t)(now - r->start_ms);
	while ((k = recv_batch(r, r->upfds[u], false)) > 0) {
		for (int i = 0; i < k; i++) {
			uint32_t s = r->islot[i];
			struct slot *p = &r->slots[s];
			p->len = (uint16_t)r->im[i].msg_len;
			struct idpair *e = p->len >= 2 ? &r->ids[u << 16 | (uint32_t)(p->data[0] << 8 | p->data[1])] : NULL;
			if (!e || !e->used || t - e->t_ms >= r->idle_ms || !client_live(r, e->client, e->gen)) {
				r->st.unmatched++;
				slot_put(r, s);
				continue;
			}
			e->used = 0;
			p->data[0] = (uint8_t)(e->orig >> 8);
			p->data[1] = (uint8_t)e->orig;
			reply_down(r, s, e->client, now);
		}
		if (k < RELAY_BATCH)
			break;
	}
}

static void relay_close(struct relay *r)
{
	if (r->cl)
		for (uint32_t i = 0; i < r->chw; i++)
			if (r->cl[i].used && r->cl[i].fd >= 0)
				close(r->cl[i].fd);
	for (unsigned i = 0; i < r->nupfd; i++)
		close(r->upfds[i]);
	if (r->lfd >= 0)
		close(r->lfd);
	if (r->efd >= 0)
		close(r->efd);
	if (r->tfd >= 0)
		close(r->tfd);
	free(r->slots);
	free(r->freel);
	free(r->cl);
	free(r->cfree);
	free(r->ctab);
	free(r->ids);
	free(r);
}

static int relay_open(struct relay *r, const net_addr *listen, char *err, size_t errlen)
{
	const struct relay_config *c = r->c;
	r->lfamily = addr_family(&c->listen);
	int one = 1, big = 4 << 20;
	r->lfd = socket(r->lfamily, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (r->lfd >= 0 && c->threads > 1)
		setsockopt(r->lfd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (r->lfd < 0 || bind(r->lfd, &listen->u.sa, listen->len)) {
		char ab[ADDR_STRLEN];
		snprintf(err, errlen, "cannot bind %s: %s", addr_str(listen, ab), strerror(errno));
		return DNS_EIO;
	}
	if (r->lfamily == AF_INET)
		setsockopt(r->lfd, IPPROTO_IP, IP_RECVTTL, &one, sizeof(one));
	else
		setsockopt(r->lfd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof(one));
	sockbuf_set(r->lfd, true, big);
	sockbuf_set(r->lfd, false, big);
	r->efd = epoll_create1(EPOLL_CLOEXEC);
	r->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (r->efd < 0 || r->tfd < 0) {
		snprintf(err, errlen, "epoll/timerfd: %s", strerror(errno));
		return DNS_EIO;
	}
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG_LISTEN};
	epoll_ctl(r->efd, EPOLL_CTL_ADD, r->lfd, &ev);
	ev.data.u64 = TAG_TIMER;
	epoll_ctl(r->efd, EPOLL_CTL_ADD, r->tfd, &ev);
	for (unsigned i = 0; i < r->nupfd; i++) {
		int fd = socket(addr_family(&c->forward), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, &c->forward.u.sa, c->forward.len)) {
			snprintf(err, errlen, "upstream socket: %s", strerror(errno));
			if (fd >= 0)
				close(fd);
			r->nupfd = i;
			return DNS_EIO;
		}
		sockbuf_set(fd, true, big);
		sockbuf_set(fd, false, big);
		r->upfds[i] = fd;
		ev.data.u64 = TAG_UP + i;
		epoll_ctl(r->efd, EPOLL_CTL_ADD, fd, &ev);
	}
	return 0;
}

static int relay_alloc(struct relay *r)
{
	const struct relay_config *c = r->c;
	unsigned ns = c->slots ? c->slots : 16384;
	r->maxcl = c->max_clients ? c->max_clients : 65536;
	r->slots = malloc((size_t)ns * sizeof(*r->slots));
	r->freel = malloc((size_t)ns * sizeof(*r->freel));
	r->cl = calloc(r->maxcl, sizeof(*r->cl));
	r->cfree = malloc((size_t)r->maxcl * sizeof(*r->cfree));
	size_t tabn = 16;
	while (tabn < (size_t)r->maxcl * 2)
		tabn *= 2;
	r->ctab = calloc(tabn, sizeof(*r->ctab));
	r->cmask = tabn - 1;
	if (c->upstream == RELAY_UP_SHARED) {
		r->nupfd = c->up_sockets ? c->up_sockets : 4;
		if (r->nupfd > RELAY_MAX_UP_SOCKETS)
			r->nupfd = RELAY_MAX_UP_SOCKETS;
		r->nids = r->nupfd << 16;
		r->ids = calloc(r->nids, sizeof(*r->ids));
		r->idcur = (uint32_t)(rnd(r) % r->nids);
	}
	if (!r->slots || !r->freel || !r->cl || !r->cfree || !r->ctab || (c->upstream == RELAY_UP_SHARED && !r->ids))
		return DNS_ENOMEM;
	for (uint32_t i = 0; i < ns; i++)
		r->freel[r->nfree++] = ns - 1 - i;
	for (uint32_t i = 0; i < r->maxcl; i++) {
		r->cl[i].fd = -1;
		r->cfree[r->ncfree++] = r->maxcl - 1 - i;
	}
	for (int i = 0; i < WHEEL; i++)
		r->wheel[i].head = r->wheel[i].tail = NIL;
	r->ready.head = r->ready.tail = NIL;
	return 0;
}

/* The event loop of one relay (one thread) until *stop. */
static void relay_loop(struct relay *r)
{
	const struct relay_config *c = r->c;
	struct epoll_event evs[64];
	while (!c->stop || !*c->stop) {
		int n = epoll_wait(r->efd, evs, 64, 500);
		if (n < 0 && errno != EINTR)
			break;
		uint64_t now = mono_ms();
		for (int i = 0; i < n; i++) {
			uint64_t tag = evs[i].data.u64;
			if (tag == TAG_LISTEN) {
				on_queries(r, now);
			} else if (tag == TAG_TIMER) {
				uint64_t exp;
				if (read(r->tfd, &exp, sizeof(exp)) < 0)
					(void)0;
				r->armed = 0; /* fired: re-arm below */
			} else if (tag & TAG_CLIENT) {
				on_replies(r, (uint32_t)tag, now);
			} else {
				on_up_replies(r, (unsigned)(tag - TAG_UP), now);
			}
		}
		advance(r, now);
		send_ready(r, now);
		arm(r);
		if (now >= r->next_sweep)
			sweep(r, now);
		if (r->log_dirty) {
			fflush(c->log);
			r->log_dirty = false;
		}
	}
}

static void *relay_thread(void *arg)
{
	relay_loop(arg);
	return NULL;
}

/* Makes relay number i: tables, sockets (bound to listen), clocks. */
static int relay_make(const struct relay_config *c, unsigned i, const net_addr *listen, struct relay **out,
		      char *err, size_t errlen)
{
	struct relay *r = calloc(1, sizeof(*r));
	*out = r;
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return DNS_ENOMEM;
	}
	r->c = c;
	r->index = i;
	r->engine = c->threads > 1 && c->engines ? c->engines[i] : c->engine;
	r->lfd = r->efd = r->tfd = -1;
	r->cur_df = -1;
	r->gso = !c->no_gso;
	r->rng = (c->seed ? c->seed * 0x2545f4914f6cdd1dULL : 1) + i * 0x9e3779b97f4a7c15ULL;
	uint64_t floor_ms = 2 * (uint64_t)(c->delay_ms + c->jitter_ms) + 500;
	r->idle_ms = c->idle_ms ? c->idle_ms : 10000;
	if (r->idle_ms < floor_ms)
		r->idle_ms = floor_ms;
	if (relay_alloc(r)) {
		snprintf(err, errlen, "out of memory");
		return DNS_ENOMEM;
	}
	int rc = relay_open(r, listen, err, errlen);
	if (rc)
		return rc;
	struct timespec rt;
	r->start_ms = r->wt = mono_ms();
	clock_gettime(CLOCK_REALTIME, &rt);
	if (c->epoch_real_ms)
		r->clock_off = ((int64_t)rt.tv_sec * 1000 + rt.tv_nsec / 1000000) - c->epoch_real_ms;
	r->next_sweep = r->start_ms + 1000;
	return 0;
}

static void stats_add(struct relay_stats *a, const struct relay_stats *b)
{
	a->queries += b->queries;
	a->forwarded += b->forwarded;
	a->replies += b->replies;
	a->forged += b->forged;
	a->lost += b->lost;
	a->no_slot += b->no_slot;
	a->no_client += b->no_client;
	a->expired += b->expired;
	a->unmatched += b->unmatched;
	a->no_id += b->no_id;
	a->peak_clients += b->peak_clients;
	a->tx_msgs += b->tx_msgs;
}

int relay_run(const struct relay_config *c, struct relay_stats *stats, char *err, size_t errlen)
{
	char ab[ADDR_STRLEN];
	if (!allowed(c, &c->listen) || !allowed(c, &c->forward)) {
		snprintf(err, errlen, "refusing %s: the relay only uses 127.0.0.0/8 and ::1%s",
			 addr_str(allowed(c, &c->listen) ? &c->forward : &c->listen, ab),
			 c->netns_ok ? " (and 198.51.100.0/24, 203.0.113.0/24, 2001:db8:100::/64, 2001:db8:113::/64 in antidote's namespaces)" : "");
		return DNS_EINVAL;
	}
	if (c->delay_ms < 0 || c->jitter_ms < 0 || c->delay_ms + c->jitter_ms > RELAY_MAX_DELAY_MS ||
	    c->loss_pct < 0 || c->loss_pct > 100) {
		snprintf(err, errlen, "delay + jitter must be 0..%d ms and loss 0..100%%", RELAY_MAX_DELAY_MS);
		return DNS_EINVAL;
	}
	unsigned nt = c->threads ? c->threads : 1;
	if (nt > RELAY_MAX_THREADS || (nt > 1 && c->engine && !c->engines)) {
		snprintf(err, errlen, "threads: 1..%d, with one injection engine per thread", RELAY_MAX_THREADS);
		return DNS_EINVAL;
	}
	struct relay *rs[RELAY_MAX_THREADS] = {NULL};
	net_addr listen = c->listen;
	int rc = 0;
	unsigned started = 0;
	for (unsigned i = 0; i < nt && !rc; i++) {
		rc = relay_make(c, i, &listen, &rs[i], err, errlen);
		if (!rc && i == 0) {
			/* the others bind the port the first got (listen port 0) */
			struct sockaddr_storage ss;
			socklen_t sl = sizeof(ss);
			getsockname(rs[0]->lfd, (struct sockaddr *)&ss, &sl);
			addr_from_sockaddr(&listen, (struct sockaddr *)&ss, sl);
		}
	}
	if (!rc && c->ready)
		c->ready(&listen, c->ready_arg);
	for (unsigned i = 1; i < nt && !rc; i++) {
		if (pthread_create(&rs[i]->thread, NULL, relay_thread, rs[i])) {
			snprintf(err, errlen, "cannot start relay thread: %s", strerror(errno));
			rc = DNS_EIO;
			break;
		}
		started = i;
	}
	if (!rc) {
		relay_loop(rs[0]);
	} else if (started && c->stop) {
		/* a thread failed to start: stop those running */
		*c->stop = 1;
	}
	for (unsigned i = 1; i <= started; i++)
		pthread_join(rs[i]->thread, NULL);
	struct relay_stats sum = {0};
	for (unsigned i = 0; i < nt; i++)
		if (rs[i]) {
			stats_add(&sum, &rs[i]->st);
			relay_close(rs[i]);
		}
	if (stats && !rc)
		*stats = sum;
	return rc;
}
