/* upstream — transactions with upstream servers (see upstream.h). */
#include "resolve/upstream.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns/err.h"
#include "dns/name.h"
#include "resolve/rtt.h"
#include "resolve/secrand.h"
#include "resolve/tls.h"
#include "util/log.h"

#define CONN_IN_CAP (2 + MSG_MAXLEN)
#define CONN_OUT_CAP 32768
#define QBUF_CAP 600 /* header + 255-octet name + OPT with a 40-octet cookie */
#define UDP_BATCH 64
#define LEARN_MISSES 3
#define TLS_BACKOFF_MIN_US 250000

enum { TM_TXN = 0, TM_CONN = 1 };
enum { A_PENDING = 0, A_REPLIED, A_FAILED, A_TIMEDOUT };
enum { C_CLOSED = 0, C_CONNECTING, C_HANDSHAKE, C_OPEN };

typedef struct up_timer {
	uint64_t when;
	int idx;      /* position in the heap, -1 when not in it */
	uint8_t kind; /* TM_* */
} up_timer;

typedef struct up_attempt {
	up_txn *t;
	int fd;                 /* UDP socket; -1 for TCP or none */
	uint16_t id;
	uint16_t server;
	uint16_t port;          /* local UDP port */
	uint8_t transport;
	uint8_t state;          /* A_* */
	bool on_conn;           /* linked in its server's TCP pending list */
	bool mixcase;           /* sent with a 0x20 case pattern */
	bool warm;              /* TLS: queued on an established connection */
	uint64_t sent_us;
	uint8_t casemask[32];   /* 0x20: bit i set = octet i upper case */
	struct up_attempt *cprev, *cnext;
} up_attempt;

typedef struct reply_meta {
	uint64_t rtt_us;
	uint16_t server;
	uint8_t transport;
	bool opt, echoed, warm;
	int16_t ip_ttl;
	uint8_t scookie_len;
	uint8_t scookie[EDNS_COOKIE_MAX - EDNS_COOKIE_CLIENT];
} reply_meta;

struct up_txn {
	up_ctx *c;
	up_timer tm;
	uint64_t retry_at, hold_at;
	bool live, done, retry;
	unsigned busy;          /* callbacks running on it: release deferred */
	up_handler h;
	void *arg;
	uint8_t qname[NAME_MAXLEN];
	uint8_t qlen;
	uint16_t qtype, qclass, hdr_flags, edns_flags;
	unsigned qflags;
	uint16_t cand[UP_MAX_CAND];
	uint8_t ncand, next_cand, last_cand;
	uint8_t tcp_mask;       /* candidates (by index) to ask over TCP */
	uint8_t badcookie_mask; /* candidates already re-asked after BADCOOKIE */
	uint8_t natt;
	up_attempt att[UP_MAX_ATTEMPTS];
	unsigned nreplies;
	reply_meta meta[UP_MAX_REPLIES];
	up_txn *next_free;
};

typedef struct up_conn {
	up_ctx *c;
	int fd;
	uint8_t state;          /* C_* */
	bool broken, busy;
	unsigned watched;
	uint16_t server;
	up_timer tm;
	uint8_t *in, *out;      /* allocated on first use */
	size_t in_len, out_len;
	up_attempt *head;
	unsigned npending;
	tls_conn *tls;          /* TLS servers: while connecting or open */
	bool hs_write;          /* the handshake waits for writability */
	bool rd_write;          /* a TLS read waits for writability */
	bool wr_read;           /* a TLS write waits for readability */
} up_conn;

typedef struct up_server {
	net_addr addr;
	rtt rtt;
	uint32_t consec;        /* timeouts in a row with no reply in between */
	uint64_t last_reply_us; /* when the server last answered anything */
	bool down;
	uint64_t probe_at;
	uint8_t ccookie[EDNS_COOKIE_CLIENT];
	uint8_t scookie[EDNS_COOKIE_MAX - EDNS_COOKIE_CLIENT];
	uint8_t scookie_len;
	enum up_learn edns, cookie;
	uint8_t edns_miss, cookie_miss;
	int ttl, ttl_min, ttl_max;
	uint32_t case_ok, case_bad; /* 0x20 replies with the right / wrong case */
	bool no_0x20;
	bool tls;               /* DNS over TLS only */
	char auth[ROUTE_AUTH_MAX + 1]; /* TLS name to verify ("": the IP) */
	char label[ROUTE_UPSTREAM_STRLEN]; /* for logs */
	tls_session *sess;      /* to resume */
	uint64_t tls_retry_at;  /* no new TLS connection before (back-off) */
	uint32_t tls_backoff_us;
	uint32_t tls_streak;    /* TLS connection failures in a row */
	up_stats st;            /* counters only */
	up_conn conn;
} up_server;

struct up_ctx {
	up_config cfg;
	up_loop loop;
	rtt_limits lim;
	up_server *srv;
	unsigned nsrv;
	up_txn *slots, *free;
	unsigned nslots, active;
	up_timer **heap;
	unsigned nheap;
	uint8_t *rbuf;
	uint8_t qbuf[QBUF_CAP];
	uint64_t announced;
	tls_ctx *tls;           /* NULL when no server is TLS */
};

#define container_of(p, T, f) ((T *)(void *)((char *)(p) - offsetof(T, f)))

/* ---- timer heap (min-heap on when) ---- */

static void heap_swap(up_ctx *c, unsigned i, unsigned j)
{
	up_timer *t = c->heap[i];
	c->heap[i] = c->heap[j];
	c->heap[j] = t;
	c->heap[i]->idx = (int)i;
	c->heap[j]->idx = (int)j;
}

static void heap_fix(up_ctx *c, unsigned i)
{
	while (i && c->heap[(i - 1) / 2]->when > c->heap[i]->when) {
		heap_swap(c, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	for (;;) {
		unsigned l = 2 * i + 1, r = l + 1, m = i;
		if (l < c->nheap && c->heap[l]->when < c->heap[m]->when)
			m = l;
		if (r < c->nheap && c->heap[r]->when < c->heap[m]->when)
			m = r;
		if (m == i)
			break;
		heap_swap(c, i, m);
		i = m;
	}
}

static void timer_set(up_ctx *c, up_timer *tm, uint64_t when)
{
	if (when == UP_NEVER) {
		if (tm->idx < 0)
			return;
		unsigned i = (unsigned)tm->idx;
		tm->idx = -1;
		if (i != --c->nheap) {
			c->heap[i] = c->heap[c->nheap];
			c->heap[i]->idx = (int)i;
			heap_fix(c, i);
		}
		return;
	}
	tm->when = when;
	if (tm->idx < 0) {
		tm->idx = (int)c->nheap;
		c->heap[c->nheap++] = tm;
	}
	heap_fix(c, (unsigned)tm->idx);
}

uint64_t upstream_next_deadline(const up_ctx *c)
{
	return c->nheap ? c->heap[0]->when : UP_NEVER;
}

static void announce(up_ctx *c)
{
	if (!c->loop.set_timer)
		return;
	uint64_t d = upstream_next_deadline(c);
	if (d != c->announced) {
		c->announced = d;
		c->loop.set_timer(c->loop.ctx, d);
	}
}

static uint64_t now_us(up_ctx *c) { return c->loop.now_us(c->loop.ctx); }

/* ---- helpers ---- */

static void learn(enum up_learn *state, uint8_t *miss, bool yes)
{
	if (yes) {
		*state = UP_LEARN_YES;
		*miss = 0;
	} else {
		if (*miss < 255)
			(*miss)++;
		if (*state != UP_LEARN_YES || *miss >= LEARN_MISSES)
			*state = UP_LEARN_NO;
	}
}

/* The name as sent: letters cased by mask (bit i = octet i upper). */
static void apply_case(const uint8_t *name, unsigned len, const uint8_t *mask, uint8_t *out)
{
	memcpy(out, name, len);
	unsigned i = 0;
	while (i < len && out[i]) {
		unsigned l = out[i++];
		for (unsigned k = 0; k < l && i < len; k++, i++) {
			uint8_t ch = out[i];
			if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z')
				out[i] = (mask[i >> 3] >> (i & 7)) & 1 ? (uint8_t)(ch & ~0x20) : (uint8_t)(ch | 0x20);
		}
	}
}

static int cand_index(const up_txn *t, unsigned server)
{
	for (unsigned i = 0; i < t->ncand; i++)
		if (t->cand[i] == server)
			return (int)i;
	return 0;
}

bool upstream_rcode_failover(unsigned rcode)
{
	return rcode == RCODE_SERVFAIL || rcode == RCODE_REFUSED || rcode == RCODE_NOTIMP ||
	       rcode == RCODE_FORMERR;
}

/* ---- selection ---- */

/* prefer_tls (UP_QF_PREFER_TLS): TLS upstreams that are not down come
 * first, each group in the usual order. */
static unsigned order(const up_ctx *c, const uint16_t *cand, unsigned n, uint16_t *out, uint64_t now,
		      bool prefer_tls)
{
	uint64_t key[UP_MAX_CAND];
	bool later[UP_MAX_CAND];
	unsigned k = 0;
	if (n > UP_MAX_CAND)
		n = UP_MAX_CAND;
	for (unsigned i = 0; i < n; i++) {
		unsigned s = cand[i];
		if (s >= c->nsrv)
			continue;
		bool dup = false;
		for (unsigned j = 0; j < k; j++)
			dup |= out[j] == s;
		if (dup)
			continue;
		const up_server *sv = &c->srv[s];
		uint64_t kk;
		if (sv->down && now >= sv->probe_at)
			kk = 0;                                       /* probe due */
		else if (sv->down)
			kk = (3ull << 62) | (sv->probe_at >> 2);      /* down */
		else if (!rtt_known(&sv->rtt))
			kk = 1ull << 62;                              /* never measured */
		else
			kk = (2ull << 62) | sv->rtt.srtt_us;
		bool lt = prefer_tls && !(sv->tls && !sv->down);
		unsigned j = k++;
		while (j && (later[j - 1] > lt || (later[j - 1] == lt && key[j - 1] > kk))) { /* stable insertion */
			key[j] = key[j - 1];
			later[j] = later[j - 1];
			out[j] = out[j - 1];
			j--;
		}
		key[j] = kk;
		later[j] = lt;
		out[j] = (uint16_t)s;
	}
	return k;
}

unsigned upstream_order(const up_ctx *c, const uint16_t *cand, unsigned n, uint16_t *out)
{
	return order(c, cand, n, out, c->loop.now_us(c->loop.ctx), false);
}

/* ---- transactions: release, end ---- */

static void conn_idle_check(up_ctx *c, up_conn *k);

static void conn_unlink(up_ctx *c, up_attempt *a)
{
	up_conn *k = &c->srv[a->server].conn;
	if (a->cprev)
		a->cprev->cnext = a->cnext;
	else
		k->head = a->cnext;
	if (a->cnext)
		a->cnext->cprev = a->cprev;
	a->cprev = a->cnext = NULL;
	a->on_conn = false;
	k->npending--;
	conn_idle_check(c, k);
}

static void txn_release(up_txn *t)
{
	up_ctx *c = t->c;
	for (unsigned i = 0; i < t->natt; i++) {
		up_attempt *a = &t->att[i];
		if (a->fd >= 0) {
			c->loop.unwatch(c->loop.ctx, a->fd);
			close(a->fd);
			a->fd = -1;
		}
		if (a->on_conn)
			conn_unlink(c, a);
	}
	timer_set(c, &t->tm, UP_NEVER);
	t->live = false;
	t->next_free = c->free;
	c->free = t;
	c->active--;
}

static void txn_unbusy(up_txn *t)
{
	if (--t->busy == 0 && t->done)
		txn_release(t);
}

static void txn_rearm(up_txn *t)
{
	uint64_t w = t->retry_at < t->hold_at ? t->retry_at : t->hold_at;
	timer_set(t->c, &t->tm, w);
}

static void txn_end(up_txn *t, int reason)
{
	t->done = true;
	t->busy++;
	if (t->h.end)
		t->h.end(t->arg, t, reason);
	txn_unbusy(t);
}

/* Attempt a ended without an answer (send error, ICMP, TCP failure). */
static void attempt_fail(up_attempt *a, uint64_t now)
{
	up_txn *t = a->t;
	if (a->state != A_PENDING)
		return;
	a->state = A_FAILED;
	t->c->srv[a->server].st.errors++;
	if (a == &t->att[t->natt - 1] && t->retry_at != UP_NEVER) {
		t->retry_at = now;
		txn_rearm(t);
	}
}

/* ---- query building ---- */

static int build_query(up_ctx *c, up_txn *t, up_attempt *a, uint8_t *buf, size_t cap)
{
	up_server *s = &c->srv[a->server];
	uint8_t name[NAME_MAXLEN];
	msg_wr mw;
	msg_wr_init(&mw, buf, cap);
	msg_wr_header(&mw, a->id, t->hdr_flags & (MSG_RD | MSG_CD));
	if (a->mixcase)
		apply_case(t->qname, t->qlen, a->casemask, name);
	else
		memcpy(name, t->qname, t->qlen);
	msg_wr_question(&mw, name, t->qtype, t->qclass);
	edns_out o = { .udp_size = c->cfg.edns_udp, .flags = t->edns_flags & EDNS_DO };
	uint8_t ck[EDNS_COOKIE_MAX];
	if (!c->cfg.no_cookies) {
		memcpy(ck, s->ccookie, EDNS_COOKIE_CLIENT);
		memcpy(ck + EDNS_COOKIE_CLIENT, s->scookie, s->scookie_len);
		o.cookie = ck;
		o.cookie_len = (uint8_t)(EDNS_COOKIE_CLIENT + s->scookie_len);
	}
	msg_wr_edns(&mw, &o);
	return msg_wr_finish(&mw);
}

/* ---- UDP ---- */

static void udp_cb(void *arg, int fd, unsigned events);

static int udp_send(up_ctx *c, up_attempt *a, const uint8_t *q, size_t len)
{
	up_server *s = &c->srv[a->server];
	int fam = addr_family(&s->addr);
	int fd = socket(fam, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return DNS_EIO;
	int one = 1;
	if (fam == AF_INET)
		setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &one, sizeof(one));
	else
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof(one));
	/* connect() binds a random ephemeral port (Linux picks it at random)
	 * and makes the kernel drop datagrams from any other source */
	if (connect(fd, &s->addr.u.sa, s->addr.len) < 0)
		goto fail;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	net_addr local;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    addr_from_sockaddr(&local, (struct sockaddr *)&ss, sl) == 0)
		a->port = addr_port(&local);
	if (c->loop.watch(c->loop.ctx, fd, UP_EV_READ, udp_cb, a) < 0)
		goto fail;
	a->fd = fd;
	if (send(fd, q, len, MSG_NOSIGNAL) != (ssize_t)len)
		return DNS_EIO; /* fd stays: the transaction closes it */
	return 0;
fail:
	close(fd);
	return DNS_EIO;
}

/* ---- TCP and TLS connections ---- */

static void conn_cb(void *arg, int fd, unsigned events);

static void conn_watch(up_ctx *c, up_conn *k, unsigned ev)
{
	if (k->fd >= 0 && ev != k->watched && c->loop.watch(c->loop.ctx, k->fd, ev, conn_cb, k) == 0)
		k->watched = ev;
}

/* Watches what k waits for (level-triggered: never writability it does
 * not need). */
static void conn_rewatch(up_ctx *c, up_conn *k)
{
	unsigned ev = UP_EV_READ;
	if (k->state == C_CONNECTING)
		ev |= UP_EV_WRITE;
	else if (k->state == C_HANDSHAKE)
		ev |= k->hs_write ? UP_EV_WRITE : 0;
	else if (k->state == C_OPEN && ((k->out_len && !k->wr_read) || k->rd_write))
		ev |= UP_EV_WRITE;
	conn_watch(c, k, ev);
}

static void conn_idle_check(up_ctx *c, up_conn *k)
{
	if (k->state == C_OPEN && !k->broken && !k->npending)
		timer_set(c, &k->tm, now_us(c) + c->cfg.tcp_idle_us);
}

/* k failed (why: logged for TLS servers); closed by its timer or callback
 * (it may be in use further up the stack). */
__attribute__((format(printf, 3, 4)))
static void conn_error(up_ctx *c, up_conn *k, const char *fmt, ...)
{
	up_server *s = &c->srv[k->server];
	if (s->tls && !k->broken) {
		char why[TLS_ERRLEN];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why, sizeof(why), fmt, ap);
		va_end(ap);
		uint32_t n = s->tls_streak + (k->state != C_OPEN);
		/* the first failure in a row, then fewer and fewer */
		if (k->state == C_OPEN || (n & (n - 1)) == 0)
			log_warn("upstream %s: %s%s", s->label, why,
				 k->state == C_OPEN ? "" : n > 1 ? " (failing again)" : "");
		else
			log_debug("upstream %s: %s", s->label, why);
	}
	k->broken = true;
	timer_set(c, &k->tm, now_us(c));
}

/* A TLS connection to s never got to work: count it against the server
 * like a timeout and back off. */
static void tls_failed(up_ctx *c, up_server *s, uint64_t now)
{
	s->st.tls_failures++;
	s->tls_streak++;
	uint32_t b = s->tls_backoff_us ? 2 * s->tls_backoff_us : TLS_BACKOFF_MIN_US;
	s->tls_backoff_us = b > c->cfg.probe_us ? c->cfg.probe_us : b;
	s->tls_retry_at = now + s->tls_backoff_us;
	if (++s->consec >= c->cfg.down_after && !s->down) {
		s->down = true;
		s->probe_at = now + c->cfg.probe_us;
	}
}

/* Closes k; pending attempts fail (their transactions retry). */
static void conn_close(up_ctx *c, up_conn *k, bool failed)
{
	uint64_t now = now_us(c);
	up_server *s = &c->srv[k->server];
	if (k->tls) {
		if (k->state == C_OPEN) {
			tls_session *ns = tls_conn_session(k->tls);
			if (ns) {
				tls_session_free(s->sess);
				s->sess = ns;
			}
		} else if (failed && s->sess) { /* perhaps the session is the trouble */
			tls_session_free(s->sess);
			s->sess = NULL;
		}
		tls_conn_free(k->tls, !failed && k->state == C_OPEN);
		k->tls = NULL;
	}
	if (s->tls && failed && k->state != C_OPEN)
		tls_failed(c, s, now);
	if (k->fd >= 0) {
		c->loop.unwatch(c->loop.ctx, k->fd);
		close(k->fd);
	}
	k->fd = -1;
	k->state = C_CLOSED;
	k->broken = false;
	k->hs_write = k->rd_write = k->wr_read = false;
	k->watched = 0;
	k->in_len = k->out_len = 0;
	timer_set(c, &k->tm, UP_NEVER);
	if (failed)
		s->st.errors++;
	while (k->head) {
		up_attempt *a = k->head;
		k->head = a->cnext;
		a->cprev = a->cnext = NULL;
		a->on_conn = false;
		k->npending--;
		attempt_fail(a, now);
	}
}

static void conn_flush(up_ctx *c, up_conn *k)
{
	k->wr_read = false;
	while (k->out_len) {
		size_t n;
		if (k->tls) {
			int rc = tls_write(k->tls, k->out, k->out_len, &n);
			if (rc == TLS_WANT_WRITE)
				break;
			if (rc == TLS_WANT_READ) {
				k->wr_read = true;
				break;
			}
			if (rc < 0) {
				conn_error(c, k, "%s", tls_conn_error(k->tls));
				return;
			}
		} else {
			ssize_t r = send(k->fd, k->out, k->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (r < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					break;
				conn_error(c, k, "send: %s", strerror(errno));
				return;
			}
			n = (size_t)r;
		}
		memmove(k->out, k->out + n, k->out_len - n);
		k->out_len -= n;
	}
	conn_rewatch(c, k);
}

static int conn_open(up_ctx *c, up_conn *k)
{
	up_server *s = &c->srv[k->server];
	if (s->tls && (!c->tls || now_us(c) < s->tls_retry_at))
		return DNS_EIO; /* backing off after a failed connection */
	if (!k->in) {
		k->in = malloc(CONN_IN_CAP);
		k->out = malloc(CONN_OUT_CAP);
		if (!k->in || !k->out)
			return DNS_ENOMEM;
	}
	int fd = socket(addr_family(&s->addr), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return DNS_EIO;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	int rc = connect(fd, &s->addr.u.sa, s->addr.len);
	if (rc < 0 && errno != EINPROGRESS) {
		if (s->tls) {
			log_warn("upstream %s: connect: %s", s->label, strerror(errno));
			tls_failed(c, s, now_us(c));
		}
		close(fd);
		return DNS_EIO;
	}
	if (s->tls && !(k->tls = tls_conn_new(c->tls, fd, &s->addr, s->auth, s->sess))) {
		close(fd);
		return DNS_ENOMEM;
	}
	k->fd = fd;
	k->watched = 0;
	k->in_len = k->out_len = 0;
	k->hs_write = true;
	k->rd_write = k->wr_read = false;
	k->state = rc < 0 ? C_CONNECTING : s->tls ? C_HANDSHAKE : C_OPEN;
	if (rc == 0)
		s->st.tcp_connects++;
	conn_rewatch(c, k);
	if (!k->watched) {
		tls_conn_free(k->tls, false);
		k->tls = NULL;
		close(fd);
		k->fd = -1;
		k->state = C_CLOSED;
		return DNS_EIO;
	}
	timer_set(c, &k->tm, now_us(c) + c->cfg.tcp_timeout_us);
	return 0;
}

static bool conn_id_used(const up_conn *k, uint16_t id)
{
	for (const up_attempt *a = k->head; a; a = a->cnext)
		if (a->id == id)
			return true;
	return false;
}

/* Picks a's ID (unique on the connection), builds and queues the query. */
static int tcp_send(up_ctx *c, up_txn *t, up_attempt *a)
{
	up_conn *k = &c->srv[a->server].conn;
	if (k->broken && !k->busy)
		conn_close(c, k, true);
	if (k->broken)
		return DNS_EIO;
	if (k->state == C_CLOSED) {
		int rc = conn_open(c, k);
		if (rc < 0)
			return rc;
	}
	for (int i = 0; i < 64 && conn_id_used(k, a->id); i++)
		a->id = secrand_u16();
	if (conn_id_used(k, a->id))
		return DNS_ESPACE;
	a->warm = k->tls && k->state == C_OPEN;
	int len = build_query(c, t, a, c->qbuf, sizeof(c->qbuf));
	if (len < 0)
		return len;
	if (k->out_len + 2 + (size_t)len > CONN_OUT_CAP)
		return DNS_ESPACE;
	wire_put_u16(k->out + k->out_len, (uint16_t)len);
	memcpy(k->out + k->out_len + 2, c->qbuf, (size_t)len);
	k->out_len += 2 + (size_t)len;
	a->cprev = NULL;
	a->cnext = k->head;
	if (k->head)
		k->head->cprev = a;
	k->head = a;
	a->on_conn = true;
	k->npending++;
	if (k->state == C_OPEN) {
		timer_set(c, &k->tm, UP_NEVER);
		conn_flush(c, k);
	}
	return 0;
}

/* ---- sending an attempt ---- */

/* Sends the next attempt of t to candidate ci. */
static int txn_send(up_txn *t, unsigned ci, bool tcp, uint64_t now)
{
	up_ctx *c = t->c;
	if (t->natt >= c->cfg.attempts)
		return DNS_ENOTFOUND;
	up_attempt *a = &t->att[t->natt++];
	up_server *s = &c->srv[t->cand[ci]];
	memset(a, 0, sizeof(*a));
	a->t = t;
	a->fd = -1;
	a->server = t->cand[ci];
	tcp |= s->tls; /* a TLS server is only asked over TLS */
	a->transport = tcp ? UP_TCP : UP_UDP;
	a->state = A_PENDING;
	a->sent_us = now;
	a->id = secrand_u16();
	a->mixcase = c->cfg.use_0x20 && !s->no_0x20;
	if (a->mixcase)
		secrand_bytes(a->casemask, (t->qlen + 7u) / 8u);
	s->st.queries++;
	int rc;
	if (tcp) {
		s->st.queries_tcp++;
		if (s->tls)
			s->st.queries_tls++;
		rc = tcp_send(c, t, a);
	} else {
		int len = build_query(c, t, a, c->qbuf, sizeof(c->qbuf));
		rc = len < 0 ? len : udp_send(c, a, c->qbuf, (size_t)len);
	}
	uint64_t to;
	if (tcp) {
		to = c->cfg.tcp_timeout_us;
	} else {
		/* the back-off lives in the upstream's RTO (doubled per
		 * consecutive timeout), so it also spans transactions */
		to = rtt_rto(&s->rtt, &c->lim);
		if (s->down && to > c->cfg.rto_init_us)
			to = c->cfg.rto_init_us;
		if (to > c->cfg.rto_max_us)
			to = c->cfg.rto_max_us;
	}
	t->retry_at = now + to;
	if (rc < 0) {
		a->state = A_FAILED;
		s->st.errors++;
		t->retry_at = now;
	}
	txn_rearm(t);
	return 0;
}

/* The next attempt by the retry schedule. */
static int txn_send_next(up_txn *t, uint64_t now)
{
	if (t->natt >= t->c->cfg.attempts)
		return DNS_ENOTFOUND;
	unsigned ci = t->next_cand;
	t->next_cand = (uint8_t)((ci + 1) % t->ncand);
	bool tcp = (t->qflags & UP_QF_TCP) || (t->tcp_mask >> ci & 1);
	return txn_send(t, ci, tcp, now);
}

/* ---- matching and delivery ---- */

/* -1 when wire answers attempt a, else the enum up_mismatch reason. */
static int match(const up_txn *t, const up_attempt *a, const uint8_t *wire, size_t len,
		 const net_addr *from, msg *m)
{
	const up_ctx *c = t->c;
	if (from && !addr_equal(from, &c->srv[a->server].addr))
		return UP_MIS_SOURCE;
	if (len < MSG_HDRLEN)
		return UP_MIS_SHORT;
	if (wire_get_u16(wire) != a->id)
		return UP_MIS_ID;
	uint16_t flags = wire_get_u16(wire + 2);
	if (!(flags & MSG_QR))
		return UP_MIS_QR;
	if (msg_flags_opcode(flags) != OPCODE_QUERY)
		return UP_MIS_OPCODE;
	if (msg_parse_query(m, wire, len) < 0)
		return UP_MIS_MALFORMED;
	if (m->qname_len != t->qlen || m->qtype != t->qtype || m->qclass != t->qclass ||
	    !name_eq(m->qname, t->qname))
		return UP_MIS_QUESTION;
	if (a->mixcase) {
		uint8_t sent[NAME_MAXLEN];
		apply_case(t->qname, t->qlen, a->casemask, sent);
		if (memcmp(sent, m->qname, t->qlen))
			return UP_MIS_CASE;
	}
	return -1;
}

/* Handles one message for attempt a. Returns as upstream_feed. t may be
 * released when this returns (unless the caller holds t->busy). */
static int process(up_txn *t, up_attempt *a, const uint8_t *wire, size_t len,
		   const net_addr *from, int ip_ttl, uint64_t now, unsigned transport)
{
	up_ctx *c = t->c;
	up_server *s = &c->srv[a->server];
	msg m;
	int why = match(t, a, wire, len, from, &m);
	if (why == UP_MIS_CASE && ++s->case_bad >= UP_0X20_GIVEUP && !s->case_ok)
		s->no_0x20 = true; /* it does not echo the case: stop mixing */
	if (why >= 0) {
		s->st.mismatch[why]++;
		return -1 - why;
	}
	if (a->mixcase)
		s->case_ok++;
	s->st.replies++;
	s->consec = 0;
	s->down = false;
	s->last_reply_us = now_us(c);
	if (a->state == A_PENDING || a->state == A_TIMEDOUT)
		a->state = A_REPLIED;
	unsigned rcode = msg_rcode(&m);
	if (rcode == RCODE_SERVFAIL)
		s->st.servfail++;
	else if (rcode == RCODE_REFUSED)
		s->st.refused++;
	int ci = cand_index(t, a->server);
	if (transport == UP_UDP && (m.hdr.flags & MSG_TC)) {
		s->st.truncated++;
		if (!(t->tcp_mask >> ci & 1) && t->natt < c->cfg.attempts && !t->done) {
			t->tcp_mask |= (uint8_t)(1u << ci);
			txn_send(t, (unsigned)ci, true, now);
			return 0;
		}
	}
	const edns *e = &m.edns;
	bool echoed = !c->cfg.no_cookies && e->present && (e->opts & EDNS_HAS_COOKIE) &&
		      !memcmp(e->cookie, s->ccookie, EDNS_COOKIE_CLIENT);
	if (rcode == RCODE_BADCOOKIE && echoed && e->cookie_len > EDNS_COOKIE_CLIENT &&
	    !(t->badcookie_mask >> ci & 1) && t->natt < c->cfg.attempts && !t->done) {
		/* RFC 7873 §5.3: retry once with the server cookie it sent */
		t->badcookie_mask |= (uint8_t)(1u << ci);
		s->scookie_len = (uint8_t)(e->cookie_len - EDNS_COOKIE_CLIENT);
		memcpy(s->scookie, e->cookie + EDNS_COOKIE_CLIENT, s->scookie_len);
		s->st.badcookie++;
		txn_send(t, (unsigned)ci, transport == UP_TCP || (t->tcp_mask >> ci & 1), now);
		return 0;
	}
	up_reply r = {
		.wire = wire, .len = (uint16_t)len, .m = &m, .seq = t->nreplies,
		.server = a->server, .attempt = (unsigned)(a - t->att), .transport = transport,
		.t_us = now, .rtt_us = now >= a->sent_us ? now - a->sent_us : 0, .ip_ttl = ip_ttl,
		.id = m.hdr.id, .flags = m.hdr.flags, .rcode = rcode, .opt = m.edns.present,
		.cookie_known = c->cfg.no_cookies ? UP_LEARN_UNKNOWN : s->cookie, .ttl_learnt = s->ttl,
	};
	r.from = from ? *from : s->addr;
	r.cookie_echoed = echoed;
	r.tls = s->tls && transport == UP_TCP;
	if (t->nreplies < UP_MAX_REPLIES) {
		reply_meta *mt = &t->meta[t->nreplies];
		mt->rtt_us = r.rtt_us;
		mt->server = a->server;
		mt->transport = (uint8_t)transport;
		mt->opt = r.opt;
		mt->echoed = r.cookie_echoed;
		mt->warm = a->warm && transport == UP_TCP;
		mt->ip_ttl = (int16_t)ip_ttl;
		mt->scookie_len = 0;
		if (r.cookie_echoed && e->cookie_len > EDNS_COOKIE_CLIENT) {
			mt->scookie_len = (uint8_t)(e->cookie_len - EDNS_COOKIE_CLIENT);
			memcpy(mt->scookie, e->cookie + EDNS_COOKIE_CLIENT, mt->scookie_len);
		}
	}
	t->nreplies++;
	t->last_cand = (uint8_t)ci;
	if (t->done)
		return 1;
	t->busy++;
	if (t->h.reply)
		t->h.reply(t->arg, t, &r);
	txn_unbusy(t);
	return 1;
}

static int read_ttl(struct msghdr *mh)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		int v;
		if ((cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TTL) ||
		    (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_HOPLIMIT)) {
			if (cm->cmsg_len < CMSG_LEN(sizeof(int)))
				continue;
			memcpy(&v, CMSG_DATA(cm), sizeof(v));
			return v;
		}
	}
	return -1;
}

static void udp_cb(void *arg, int fd, unsigned events)
{
	(void)events;
	up_attempt *a = arg;
	up_txn *t = a->t;
	up_ctx *c = t->c;
	t->busy++;
	for (int i = 0; i < UDP_BATCH && !t->done; i++) {
		union {
			struct cmsghdr h;
			uint8_t b[CMSG_SPACE(sizeof(int)) * 4];
		} cbuf;
		struct sockaddr_storage ss;
		struct iovec iov = { .iov_base = c->rbuf, .iov_len = MSG_MAXLEN };
		struct msghdr mh = {
			.msg_name = &ss, .msg_namelen = sizeof(ss), .msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cbuf.b, .msg_controllen = sizeof(cbuf.b),
		};
		ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			attempt_fail(a, now_us(c)); /* ECONNREFUSED: ICMP unreachable */
			continue;
		}
		uint64_t now = now_us(c);
		net_addr from;
		if (addr_from_sockaddr(&from, (struct sockaddr *)&ss, mh.msg_namelen) < 0) {
			c->srv[a->server].st.mismatch[UP_MIS_SOURCE]++;
			continue;
		}
		process(t, a, c->rbuf, (size_t)n, &from, read_ttl(&mh), now, UP_UDP);
	}
	txn_unbusy(t);
	announce(c);
}

/* Handles the complete messages in k's input buffer. */
static void conn_input(up_ctx *c, up_conn *k)
{
	up_server *s = &c->srv[k->server];
	size_t off = 0;
	while (k->in_len - off >= 2) {
		size_t mlen = wire_get_u16(k->in + off);
		if (k->in_len - off < 2 + mlen)
			break;
		const uint8_t *w = k->in + off + 2;
		off += 2 + mlen;
		if (mlen < MSG_HDRLEN) {
			s->st.mismatch[UP_MIS_SHORT]++;
			continue;
		}
		uint16_t id = wire_get_u16(w);
		up_attempt *a = k->head;
		while (a && a->id != id)
			a = a->cnext;
		if (!a || a->t->done) {
			s->st.mismatch[UP_MIS_ID]++;
			continue;
		}
		process(a->t, a, w, mlen, NULL, -1, now_us(c), UP_TCP);
		if (k->state != C_OPEN)
			return;
	}
	memmove(k->in, k->in + off, k->in_len - off);
	k->in_len -= off;
}

/* The server closed k (EOF): a failure only if queries wait. True when k
 * was closed here (cleanly). */
static bool conn_eof(up_ctx *c, up_conn *k)
{
	bool unanswered = false;
	for (up_attempt *a = k->head; a; a = a->cnext)
		unanswered |= a->state == A_PENDING;
	if (unanswered) {
		conn_error(c, k, "connection closed by the server with %u queries pending", k->npending);
		return false;
	}
	k->busy = false;
	conn_close(c, k, false);
	return true;
}

/* Reads what the TLS connection has (until OpenSSL has nothing buffered
 * either: the loop is level-triggered on the socket only). True when k
 * was closed here. */
static bool tls_input(up_ctx *c, up_conn *k)
{
	k->rd_write = false;
	while (!k->broken && k->state == C_OPEN) {
		size_t got;
		int rc = tls_read(k->tls, k->in + k->in_len, CONN_IN_CAP - k->in_len, &got);
		if (rc == TLS_OK) {
			k->in_len += got;
			conn_input(c, k);
			continue;
		}
		if (rc == TLS_WANT_WRITE)
			k->rd_write = true;
		else if (rc == TLS_EOF)
			return conn_eof(c, k);
		else if (rc < 0)
			conn_error(c, k, "%s", tls_conn_error(k->tls));
		break;
	}
	return false;
}

/* The TLS handshake of k progressed: on to C_OPEN when done. */
static void tls_step(up_ctx *c, up_conn *k)
{
	up_server *s = &c->srv[k->server];
	int rc = tls_handshake(k->tls);
	if (rc == TLS_WANT_READ || rc == TLS_WANT_WRITE) {
		k->hs_write = rc == TLS_WANT_WRITE;
		conn_rewatch(c, k);
		return;
	}
	if (rc < 0) {
		conn_error(c, k, "%s", tls_conn_error(k->tls));
		return;
	}
	k->state = C_OPEN;
	s->st.tls_handshakes++;
	bool resumed = tls_conn_resumed(k->tls);
	if (resumed)
		s->st.tls_resumed++;
	if (s->tls_streak)
		log_info("upstream %s: TLS connection works again (%s)", s->label, tls_conn_version(k->tls));
	log_debug("upstream %s: TLS connection established (%s, %s%s, %u queries waiting)", s->label,
		  tls_conn_version(k->tls), tls_conn_cipher(k->tls), resumed ? ", resumed" : "", k->npending);
	s->tls_streak = 0;
	s->tls_backoff_us = 0;
	s->tls_retry_at = 0;
	timer_set(c, &k->tm, UP_NEVER);
	conn_idle_check(c, k);
	conn_flush(c, k);
}

static void conn_cb(void *arg, int fd, unsigned events)
{
	(void)fd;
	up_conn *k = arg;
	up_ctx *c = k->c;
	up_server *s = &c->srv[k->server];
	k->busy = true;
	if (k->state == C_CONNECTING) {
		int err = 0;
		socklen_t el = sizeof(err);
		if (getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
			err = errno;
		if (err) {
			conn_error(c, k, "connect: %s", strerror(err));
			goto out;
		}
		if (!(events & UP_EV_WRITE))
			goto out;
		s->st.tcp_connects++;
		if (k->tls) {
			k->state = C_HANDSHAKE;
		} else {
			k->state = C_OPEN;
			timer_set(c, &k->tm, UP_NEVER);
			conn_idle_check(c, k);
			conn_flush(c, k);
		}
	} else if (k->state == C_OPEN && k->tls) {
		if (k->out_len && ((events & UP_EV_WRITE) || k->wr_read))
			conn_flush(c, k);
	} else if (k->state == C_OPEN && (events & UP_EV_WRITE)) {
		conn_flush(c, k);
	}
	if (k->state == C_HANDSHAKE && !k->broken) {
		tls_step(c, k);
		if (k->state != C_OPEN)
			goto out;
		events |= UP_EV_READ; /* the server may have sent data already */
	}
	if (k->state == C_OPEN && k->tls && !k->broken) {
		if (((events & UP_EV_READ) || k->rd_write) && tls_input(c, k)) {
			announce(c);
			return;
		}
		if (k->state == C_OPEN && !k->broken && k->wr_read && k->out_len)
			conn_flush(c, k);
		else if (k->state == C_OPEN && !k->broken)
			conn_rewatch(c, k);
	} else if (k->state == C_OPEN && (events & UP_EV_READ)) {
		for (int i = 0; i < 16 && !k->broken; i++) {
			ssize_t n = recv(k->fd, k->in + k->in_len, CONN_IN_CAP - k->in_len, MSG_DONTWAIT);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno != EAGAIN && errno != EWOULDBLOCK)
					conn_error(c, k, "recv: %s", strerror(errno));
				break;
			}
			if (n == 0) {
				if (conn_eof(c, k)) {
					announce(c);
					return;
				}
				break;
			}
			k->in_len += (size_t)n;
			conn_input(c, k);
			if (k->state != C_OPEN)
				break;
		}
	}
out:
	k->busy = false;
	if (k->broken)
		conn_close(c, k, true);
	announce(c);
}

static void conn_timer(up_ctx *c, up_conn *k, uint64_t now)
{
	(void)now;
	if (!k->broken && (k->state == C_CONNECTING || k->state == C_HANDSHAKE))
		conn_error(c, k, "no %s within %u ms", k->state == C_CONNECTING ? "connection" : "TLS handshake",
			   c->cfg.tcp_timeout_us / 1000u);
	if (k->broken || k->state == C_CONNECTING || k->state == C_HANDSHAKE)
		conn_close(c, k, true);
	else if (k->state == C_OPEN && !k->npending)
		conn_close(c, k, false);
}

/* ---- transaction timer ---- */

static void txn_timer(up_txn *t, uint64_t now)
{
	up_ctx *c = t->c;
	if (t->hold_at <= now) {
		txn_end(t, UP_END_HOLD);
		return;
	}
	if (t->retry_at > now) {
		txn_rearm(t);
		return;
	}
	t->retry_at = UP_NEVER;
	up_attempt *a = &t->att[t->natt - 1];
	if (a->state == A_PENDING) {
		up_server *s = &c->srv[a->server];
		a->state = A_TIMEDOUT;
		s->st.timeouts++;
		rtt_timeout(&s->rtt);
		/* A server that has answered since this attempt left is slow,
		 * not down: only timeouts of attempts sent after its last reply
		 * count (regression: under a burst the lab's relay was marked
		 * down again and again by late, not lost, replies). */
		if (s->last_reply_us < a->sent_us && ++s->consec >= c->cfg.down_after && !s->down) {
			s->down = true;
			s->probe_at = now + c->cfg.probe_us;
		}
	}
	if (t->retry && txn_send_next(t, now) == 0)
		return;
	if (t->hold_at == UP_NEVER) {
		txn_end(t, UP_END_TIMEOUT);
		return;
	}
	txn_rearm(t);
}

void upstream_expire(up_ctx *c, uint64_t now)
{
	while (c->nheap && c->heap[0]->when <= now) {
		up_timer *tm = c->heap[0];
		timer_set(c, tm, UP_NEVER);
		if (tm->kind == TM_TXN)
			txn_timer(container_of(tm, up_txn, tm), now);
		else
			conn_timer(c, container_of(tm, up_conn, tm), now);
	}
	announce(c);
}

/* ---- public transaction API ---- */

int upstream_query(up_ctx *c, const up_query *q, const up_handler *h, void *arg, up_txn **out)
{
	if (!q->qname || !q->nservers || !h)
		return DNS_EINVAL;
	size_t qlen = name_len(q->qname);
	if (qlen > NAME_MAXLEN)
		return DNS_EINVAL;
	uint64_t now = now_us(c);
	uint16_t cand[UP_MAX_CAND];
	unsigned n = order(c, q->servers, q->nservers, cand, now, q->flags & UP_QF_PREFER_TLS);
	if (!n)
		return DNS_EINVAL;
	up_txn *t = c->free;
	if (!t)
		return DNS_ESPACE;
	c->free = t->next_free;
	c->active++;
	t->live = true;
	t->done = false;
	t->retry = true;
	t->busy = 0;
	t->h = *h;
	t->arg = arg;
	memcpy(t->qname, q->qname, qlen);
	t->qlen = (uint8_t)qlen;
	t->qtype = q->qtype;
	t->qclass = q->qclass;
	t->hdr_flags = q->hdr_flags;
	t->edns_flags = q->edns_flags;
	t->qflags = q->flags;
	memcpy(t->cand, cand, n * sizeof(cand[0]));
	t->ncand = (uint8_t)n;
	t->next_cand = t->last_cand = 0;
	t->tcp_mask = 0;
	t->badcookie_mask = 0;
	t->natt = 0;
	t->nreplies = 0;
	t->retry_at = t->hold_at = UP_NEVER;
	up_server *first = &c->srv[cand[0]];
	if (first->down) /* a probe: the next one is due a probe interval later */
		first->probe_at = now + c->cfg.probe_us;
	txn_send_next(t, now);
	*out = t;
	announce(c);
	return 0;
}

void upstream_txn_finish(up_txn *t, int seq)
{
	if (!t->live || t->done)
		return;
	up_ctx *c = t->c;
	t->done = true;
	if (seq >= 0 && (unsigned)seq < t->nreplies && seq < UP_MAX_REPLIES) {
		const reply_meta *mt = &t->meta[seq];
		up_server *s = &c->srv[mt->server];
		s->st.accepted++;
		s->consec = 0;
		s->down = false;
		if (mt->transport == UP_UDP || mt->warm)
			rtt_sample(&s->rtt, mt->rtt_us);
		if (mt->transport == UP_UDP) {
			if (mt->ip_ttl >= 0) {
				s->ttl = mt->ip_ttl;
				if (s->ttl_min < 0 || mt->ip_ttl < s->ttl_min)
					s->ttl_min = mt->ip_ttl;
				if (mt->ip_ttl > s->ttl_max)
					s->ttl_max = mt->ip_ttl;
			}
		}
		learn(&s->edns, &s->edns_miss, mt->opt);
		if (!c->cfg.no_cookies) {
			learn(&s->cookie, &s->cookie_miss, mt->echoed);
			if (mt->echoed && mt->scookie_len) {
				s->scookie_len = mt->scookie_len;
				memcpy(s->scookie, mt->scookie, mt->scookie_len);
			}
		}
	}
	if (!t->busy)
		txn_release(t);
	announce(c);
}

int upstream_txn_next(up_txn *t)
{
	if (!t->live || t->done)
		return DNS_EINVAL;
	up_ctx *c = t->c;
	if (t->natt >= c->cfg.attempts)
		return DNS_ENOTFOUND;
	if (t->nreplies)
		t->next_cand = (uint8_t)((t->last_cand + 1u) % t->ncand);
	int rc = txn_send_next(t, now_us(c));
	announce(c);
	return rc;
}

void upstream_txn_hold(up_txn *t, uint64_t deadline_us, bool retry)
{
	if (!t->live || t->done)
		return;
	t->hold_at = deadline_us;
	t->retry = retry;
	if (!retry)
		t->retry_at = UP_NEVER;
	txn_rearm(t);
	announce(t->c);
}

unsigned upstream_txn_replies(const up_txn *t) { return t->nreplies; }
unsigned upstream_txn_attempts(const up_txn *t) { return t->natt; }

int upstream_txn_id(const up_txn *t, unsigned k)
{
	return k < t->natt ? t->att[k].id : -1;
}

int upstream_txn_port(const up_txn *t, unsigned k)
{
	return k < t->natt && t->att[k].transport == UP_UDP && t->att[k].port ? t->att[k].port : -1;
}

unsigned upstream_active(const up_ctx *c) { return c->active; }

int upstream_feed(up_txn *t, unsigned k, const uint8_t *wire, size_t len,
		  const net_addr *from, int ip_ttl)
{
	if (!t->live || t->done || k >= t->natt || len > MSG_MAXLEN)
		return DNS_EINVAL;
	up_ctx *c = t->c;
	up_attempt *a = &t->att[k];
	int rc = process(t, a, wire, len, from ? from : &c->srv[a->server].addr, ip_ttl, now_us(c),
			 UP_UDP);
	announce(c);
	return rc;
}

/* ---- statistics ---- */

int upstream_stats(const up_ctx *c, unsigned i, up_stats *out)
{
	if (i >= c->nsrv)
		return DNS_EINVAL;
	const up_server *s = &c->srv[i];
	*out = s->st;
	out->srtt_us = s->rtt.srtt_us;
	out->rttvar_us = s->rtt.rttvar_us;
	out->rto_us = rtt_rto(&s->rtt, &c->lim);
	out->consec_timeouts = s->consec;
	out->down = s->down;
	out->ip_ttl = s->ttl;
	out->ip_ttl_min = s->ttl_min;
	out->ip_ttl_max = s->ttl_max;
	out->edns = s->edns;
	out->cookie = s->cookie;
	out->server_cookie_len = s->scookie_len;
	out->no_0x20 = s->no_0x20;
	out->tls = s->tls;
	return 0;
}

void upstream_total(const up_ctx *c, up_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->ip_ttl = out->ip_ttl_min = out->ip_ttl_max = -1;
	for (unsigned i = 0; i < c->nsrv; i++) {
		const up_stats *s = &c->srv[i].st;
		out->queries += s->queries;
		out->queries_tcp += s->queries_tcp;
		out->queries_tls += s->queries_tls;
		out->replies += s->replies;
		out->accepted += s->accepted;
		out->timeouts += s->timeouts;
		out->errors += s->errors;
		out->truncated += s->truncated;
		out->servfail += s->servfail;
		out->refused += s->refused;
		out->tcp_connects += s->tcp_connects;
		out->tls_handshakes += s->tls_handshakes;
		out->tls_resumed += s->tls_resumed;
		out->tls_failures += s->tls_failures;
		out->badcookie += s->badcookie;
		for (unsigned k = 0; k < UP_MIS_COUNT; k++)
			out->mismatch[k] += s->mismatch[k];
	}
}

/* ---- context ---- */

static void srv_init(up_ctx *c, unsigned i, const net_addr *a)
{
	up_server *s = &c->srv[i];
	s->addr = *a;
	rtt_init(&s->rtt);
	secrand_bytes(s->ccookie, sizeof(s->ccookie));
	s->ttl = s->ttl_min = s->ttl_max = -1;
	s->conn.c = c;
	s->conn.fd = -1;
	s->conn.server = (uint16_t)i;
	s->conn.tm.idx = -1;
	s->conn.tm.kind = TM_CONN;
}

/* Marks the TLS servers (from the route table) and makes the TLS context.
 * 0, or -1 (logged) when the trust store cannot be loaded. */
static int setup_tls(up_ctx *c, const up_config *cfg)
{
	static atomic_bool told;
	const route *rt = cfg->route ? cfg->route : route_by_servers(cfg->servers, cfg->nservers);
	const route_upstream *ups = rt && route_nservers(rt) >= c->nsrv ? route_upstreams(rt) : NULL;
	unsigned ntls = 0;
	for (unsigned i = 0; i < c->nsrv; i++) {
		up_server *s = &c->srv[i];
		if (ups && ups[i].transport == ROUTE_TLS && addr_equal(&ups[i].addr, &s->addr)) {
			s->tls = true;
			memcpy(s->auth, ups[i].auth, sizeof(s->auth));
			route_upstream_str(&ups[i], s->label, sizeof(s->label));
			ntls++;
		} else {
			route_upstream u = { .addr = s->addr, .transport = ROUTE_DNS };
			route_upstream_str(&u, s->label, sizeof(s->label));
		}
	}
	if (!ntls)
		return 0;
	char err[TLS_ERRLEN + 64];
	bool insecure = route_tls_insecure(rt);
	const char *ca = route_tls_ca(rt);
	if (!(c->tls = tls_ctx_new(ca, insecure, err, sizeof(err)))) {
		log_err("DNS over TLS: %s", err);
		return -1;
	}
	if (!atomic_exchange(&told, true)) {
		for (unsigned i = 0; i < c->nsrv; i++) {
			const up_server *s = &c->srv[i];
			if (!s->tls)
				continue;
			if (insecure)
				log_warn("upstream %s: DNS over TLS WITHOUT certificate verification (--tls-insecure): "
					 "anyone on the path can answer in its name", s->label);
			else
				log_info("upstream %s: DNS over TLS, certificate must name %s%s (trust: %s)", s->label,
					 s->auth[0] ? s->auth : "the IP address",
					 s->auth[0] ? "" : " (iPAddress subjectAltName)", ca ? ca : "system store");
		}
	}
	return 0;
}

up_ctx *upstream_new(const up_config *cfg, const up_loop *loop)
{
	if (!cfg->nservers || cfg->nservers > UP_MAX_SERVERS || cfg->attempts > UP_MAX_ATTEMPTS ||
	    !loop->watch || !loop->unwatch || !loop->now_us)
		return NULL;
	up_ctx *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->cfg = *cfg;
	c->cfg.servers = NULL;
	c->loop = *loop;
	up_config *k = &c->cfg;
	if (!k->slots)
		k->slots = 512;
	if (!k->attempts)
		k->attempts = 4;
	if (!k->rto_init_us)
		k->rto_init_us = 600000;
	if (!k->rto_min_us)
		k->rto_min_us = 50000;
	if (!k->rto_max_us)
		k->rto_max_us = 2000000;
	if (k->rto_max_us < k->rto_min_us)
		k->rto_max_us = k->rto_min_us;
	if (!k->tcp_timeout_us)
		k->tcp_timeout_us = 3000000;
	if (!k->tcp_idle_us)
		k->tcp_idle_us = 10000000;
	if (!k->down_after)
		k->down_after = 3;
	if (!k->probe_us)
		k->probe_us = 5000000;
	if (!k->edns_udp)
		k->edns_udp = 1232;
	c->lim = (rtt_limits){ .init_us = k->rto_init_us, .min_us = k->rto_min_us,
			       .max_us = k->rto_max_us, .gran_us = 1000 };
	c->nsrv = cfg->nservers;
	c->nslots = k->slots;
	c->announced = UP_NEVER;
	/* room for every upstream a reload may add (upstream_add_server):
	 * servers never move, their connections are registered by address */
	c->srv = calloc(UP_MAX_SERVERS, sizeof(up_server));
	c->slots = calloc(c->nslots, sizeof(up_txn));
	c->heap = calloc(c->nslots + UP_MAX_SERVERS, sizeof(up_timer *));
	c->rbuf = malloc(MSG_MAXLEN);
	if (!c->srv || !c->slots || !c->heap || !c->rbuf) {
		upstream_free(c);
		return NULL;
	}
	for (unsigned i = 0; i < c->nsrv; i++)
		srv_init(c, i, &cfg->servers[i]);
	if (setup_tls(c, cfg) < 0) {
		upstream_free(c);
		return NULL;
	}
	for (unsigned i = c->nslots; i-- > 0;) {
		up_txn *t = &c->slots[i];
		t->c = c;
		t->tm.idx = -1;
		t->tm.kind = TM_TXN;
		t->next_free = c->free;
		c->free = t;
	}
	return c;
}

int upstream_add_server(up_ctx *c, const route_upstream *u, const char *tls_ca, bool tls_insecure)
{
	if (c->nsrv >= UP_MAX_SERVERS)
		return DNS_ESPACE;
	unsigned i = c->nsrv;
	memset(&c->srv[i], 0, sizeof(c->srv[i]));
	srv_init(c, i, &u->addr);
	up_server *s = &c->srv[i];
	route_upstream_str(u, s->label, sizeof(s->label));
	if (u->transport == ROUTE_TLS) {
		if (!c->tls) {
			char err[TLS_ERRLEN + 64];
			if (!(c->tls = tls_ctx_new(tls_ca, tls_insecure, err, sizeof(err)))) {
				log_err("DNS over TLS: %s", err);
				return DNS_EIO;
			}
		}
		s->tls = true;
		memcpy(s->auth, u->auth, sizeof(s->auth));
	}
	c->nsrv++;
	return (int)i;
}

void upstream_free(up_ctx *c)
{
	if (!c)
		return;
	if (c->slots)
		for (unsigned i = 0; i < c->nslots; i++)
			if (c->slots[i].live) {
				c->slots[i].busy = 0;
				txn_release(&c->slots[i]);
			}
	if (c->srv) {
		for (unsigned i = 0; i < c->nsrv; i++) {
			up_conn *k = &c->srv[i].conn;
			if (k->fd >= 0)
				conn_close(c, k, false);
			free(k->in);
			free(k->out);
			tls_session_free(c->srv[i].sess);
		}
	}
	free(c->srv);
	free(c->slots);
	free(c->heap);
	free(c->rbuf);
	tls_ctx_free(c->tls);
	free(c);
}
