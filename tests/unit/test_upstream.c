/* test_upstream — upstream transactions over real loopback sockets against
 * fake upstreams living in the test's own poll() loop. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dns/err.h"
#include "dns/msg.h"
#include "dns/name.h"
#include "dns/rrtype.h"
#include "net/addr.h"
#include "resolve/route.h"
#include "resolve/upstream.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include "tls_testutil.h"

/* ---- a poll() loop implementing up_loop ---- */

#define MAXW 512

typedef struct watch {
	int fd;
	unsigned ev, gen;
	up_fd_cb *cb;
	void *arg;
} watch;

static watch W[MAXW];
static int NW;
static unsigned GEN;

static uint64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int l_watch(void *ctx, int fd, unsigned ev, up_fd_cb *cb, void *arg)
{
	(void)ctx;
	for (int i = 0; i < NW; i++)
		if (W[i].fd == fd) {
			W[i].ev = ev;
			return 0;
		}
	if (NW == MAXW)
		return DNS_ENOMEM;
	W[NW++] = (watch){ .fd = fd, .ev = ev, .gen = ++GEN, .cb = cb, .arg = arg };
	return 0;
}

static void l_unwatch(void *ctx, int fd)
{
	(void)ctx;
	for (int i = 0; i < NW; i++)
		if (W[i].fd == fd) {
			W[i] = W[--NW];
			return;
		}
}

static uint64_t l_now(void *ctx) { (void)ctx; return mono_us(); }

static const up_loop LOOP = { .watch = l_watch, .unwatch = l_unwatch, .now_us = l_now };

/* delayed datagrams/stream writes of the fakes */
typedef struct delayed {
	uint64_t when;
	int fd;
	net_addr to; /* len 0: stream write */
	uint16_t len;
	uint8_t buf[1024];
} delayed;
static delayed D[64];
static int ND;

static void later(uint64_t when, int fd, const net_addr *to, const uint8_t *b, size_t len)
{
	assert_true(ND < 64 && len <= sizeof(D[0].buf));
	delayed *d = &D[ND++];
	d->when = when;
	d->fd = fd;
	if (to)
		d->to = *to;
	else
		d->to.len = 0;
	d->len = (uint16_t)len;
	memcpy(d->buf, b, len);
}

static void run_delayed(uint64_t now)
{
	for (int i = 0; i < ND;) {
		if (D[i].when <= now) {
			delayed d = D[i];
			D[i] = D[--ND];
			if (d.to.len)
				sendto(d.fd, d.buf, d.len, 0, &d.to.u.sa, d.to.len);
			else
				(void)!write(d.fd, d.buf, d.len);
		} else {
			i++;
		}
	}
}

/* Runs the loop until *flag (if given) becomes nonzero or max_us passes. */
static void run(up_ctx *c, const int *flag, uint64_t max_us)
{
	uint64_t end = mono_us() + max_us;
	for (;;) {
		uint64_t now = mono_us();
		if ((flag && *flag) || now >= end)
			return;
		uint64_t dl = end;
		if (c && upstream_next_deadline(c) < dl)
			dl = upstream_next_deadline(c);
		for (int i = 0; i < ND; i++)
			if (D[i].when < dl)
				dl = D[i].when;
		int ms = dl > now ? (int)((dl - now + 999) / 1000) : 0;
		struct pollfd p[MAXW];
		unsigned gen[MAXW];
		int n = NW;
		for (int i = 0; i < n; i++) {
			p[i].fd = W[i].fd;
			p[i].events = (short)(((W[i].ev & UP_EV_READ) ? POLLIN : 0) |
					      ((W[i].ev & UP_EV_WRITE) ? POLLOUT : 0));
			p[i].revents = 0;
			gen[i] = W[i].gen;
		}
		if (poll(p, (nfds_t)n, ms) > 0) {
			for (int i = 0; i < n; i++) {
				if (!p[i].revents)
					continue;
				/* the watch may have gone (or its fd been reused) meanwhile */
				int j;
				for (j = 0; j < NW; j++)
					if (W[j].fd == p[i].fd && W[j].gen == gen[i])
						break;
				if (j == NW)
					continue;
				unsigned ev = 0;
				if (p[i].revents & (POLLIN | POLLERR | POLLHUP))
					ev |= UP_EV_READ;
				if (p[i].revents & (POLLOUT | POLLERR | POLLHUP))
					ev |= UP_EV_WRITE;
				W[j].cb(W[j].arg, p[i].fd, ev);
			}
		}
		now = mono_us();
		run_delayed(now);
		if (c)
			upstream_expire(c, now);
	}
}

/* ---- fake upstream ---- */

enum fmode { F_ANSWER, F_DROP, F_SERVFAIL, F_REFUSED, F_TC, F_BADCOOKIE };

typedef struct fake {
	int udp, lis;
	net_addr addr;
	enum fmode mode;
	uint32_t delay_us;
	int copies;             /* replies per UDP query (≥ 1) */
	uint32_t gap_us;        /* between copies */
	bool echo_cookie;
	bool lower;             /* reply with the name lowercased */
	unsigned tcp_batch;     /* hold TCP replies until this many queries */
	/* observed */
	unsigned udp_q, tcp_q, accepts, closes, max_per_conn;
	uint16_t last_id, last_port;
	uint8_t last_qname[NAME_MAXLEN];
	int last_cookie_len;
	uint8_t last_cookie[EDNS_COOKIE_MAX];
	uint64_t q_times[16];
	/* TCP */
	int conn[4];
	unsigned per_conn[4];
	uint8_t cin[4][4096];
	size_t cin_len[4];
	uint8_t held[8][600];
	size_t held_len[8];
	unsigned nheld;
	int held_fd;
	/* DNS over TLS: the stream side speaks TLS when tls is set */
	SSL_CTX *tls;
	SSL *ssl[4];
	unsigned handshakes, hs_failures;
} fake;

/* Writes a stream reply on connection i (TLS or not). */
static void fake_write(fake *f, int fd, const uint8_t *b, size_t len)
{
	int i;
	for (i = 0; i < 4 && f->conn[i] != fd; i++)
		;
	if (i < 4 && f->ssl[i]) {
		size_t put;
		SSL_write_ex(f->ssl[i], b, len, &put);
		ERR_clear_error();
	} else {
		(void)!write(fd, b, len);
	}
}

static void fake_drop_conn(fake *f, int i)
{
	l_unwatch(NULL, f->conn[i]);
	SSL_free(f->ssl[i]);
	f->ssl[i] = NULL;
	close(f->conn[i]);
	f->conn[i] = -1;
	f->closes++;
}

static const uint8_t SRV_COOKIE[8] = { 'S', 'R', 'V', 'C', 'O', 'O', 'K', '1' };

/* Reply to query q (len) into out; returns length or -1 to stay silent. */
static int fake_reply(fake *f, const uint8_t *q, size_t len, uint8_t *out, size_t cap, bool tcp)
{
	msg m;
	if (msg_parse_query(&m, q, len) < 0)
		return -1;
	f->last_id = m.hdr.id;
	memcpy(f->last_qname, m.qname, m.qname_len);
	f->last_cookie_len = (m.edns.present && (m.edns.opts & EDNS_HAS_COOKIE)) ? m.edns.cookie_len : 0;
	if (f->last_cookie_len)
		memcpy(f->last_cookie, m.edns.cookie, (size_t)f->last_cookie_len);
	if (f->mode == F_DROP)
		return -1;
	msg_wr mw;
	msg_wr_init(&mw, out, cap);
	unsigned rc = f->mode == F_SERVFAIL ? RCODE_SERVFAIL : f->mode == F_REFUSED ? RCODE_REFUSED : 0;
	/* F_BADCOOKIE: a server that requires its cookie (RFC 7873 §5.2.3) */
	if (f->mode == F_BADCOOKIE && f->last_cookie_len < 16)
		rc = RCODE_BADCOOKIE;
	msg_wr_reply(&mw, &m, (uint16_t)(MSG_RA | edns_rcode_hdr(rc)));
	if (f->mode == F_TC && !tcp) {
		msg_wr_set_flags(&mw, msg_wr_flags(&mw) | MSG_TC);
	} else if (!rc && m.qtype == RR_A) {
		const uint8_t a[4] = { 192, 0, 2, 1 };
		msg_wr_rr(&mw, MSG_ANSWER, m.qname, RR_A, CLASS_IN, 300, a, 4);
	}
	if (m.edns.present) {
		uint8_t ck[16];
		edns_out o = { .udp_size = 1232, .rcode = (uint16_t)rc };
		if ((f->echo_cookie || rc == RCODE_BADCOOKIE) && f->last_cookie_len >= 8) {
			memcpy(ck, m.edns.cookie, 8);
			memcpy(ck + 8, SRV_COOKIE, 8);
			o.cookie = ck;
			o.cookie_len = 16;
		}
		msg_wr_edns(&mw, &o);
	}
	int n = msg_wr_finish(&mw);
	if (n > 0 && f->lower)
		name_lower(out + MSG_HDRLEN);
	return n;
}

static void fake_udp_cb(void *arg, int fd, unsigned ev)
{
	(void)ev;
	fake *f = arg;
	uint8_t q[2048], r[1024];
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	ssize_t n = recvfrom(fd, q, sizeof(q), MSG_DONTWAIT, (struct sockaddr *)&ss, &sl);
	if (n <= 0)
		return;
	net_addr from;
	addr_from_sockaddr(&from, (struct sockaddr *)&ss, sl);
	f->last_port = addr_port(&from);
	if (f->udp_q < 16)
		f->q_times[f->udp_q] = mono_us();
	f->udp_q++;
	int rl = fake_reply(f, q, (size_t)n, r, sizeof(r), false);
	if (rl < 0)
		return;
	uint64_t now = mono_us();
	for (int i = 0; i < (f->copies ? f->copies : 1); i++) {
		uint64_t when = now + f->delay_us + (uint64_t)i * f->gap_us;
		if (when == now)
			sendto(fd, r, (size_t)rl, 0, &from.u.sa, from.len);
		else
			later(when, fd, &from, r, (size_t)rl);
	}
}

static void fake_conn_cb(void *arg, int fd, unsigned ev);

static void fake_lis_cb(void *arg, int fd, unsigned ev)
{
	(void)ev;
	fake *f = arg;
	int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (c < 0)
		return;
	for (int i = 0; i < 4; i++)
		if (f->conn[i] < 0) {
			f->conn[i] = c;
			f->per_conn[i] = 0;
			f->cin_len[i] = 0;
			f->accepts++;
			if (f->tls) {
				f->ssl[i] = SSL_new(f->tls);
				SSL_set_fd(f->ssl[i], c);
				SSL_set_accept_state(f->ssl[i]);
			}
			l_watch(NULL, c, UP_EV_READ, fake_conn_cb, f);
			return;
		}
	close(c);
}

static void fake_conn_cb(void *arg, int fd, unsigned ev)
{
	(void)ev;
	fake *f = arg;
	int i;
	for (i = 0; i < 4 && f->conn[i] != fd; i++)
		;
	assert_true(i < 4);
	ssize_t n;
	if (f->ssl[i]) {
		SSL *ssl = f->ssl[i];
		if (!SSL_is_init_finished(ssl)) {
			ERR_clear_error();
			int rc = SSL_do_handshake(ssl);
			if (rc == 1) {
				f->handshakes++;
			} else {
				int e = SSL_get_error(ssl, rc);
				ERR_clear_error();
				if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
					f->hs_failures++;
					fake_drop_conn(f, i);
				}
				return;
			}
		}
		size_t got = 0;
		int rc = SSL_read_ex(ssl, f->cin[i] + f->cin_len[i], sizeof(f->cin[i]) - f->cin_len[i], &got);
		int e = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl, rc);
		ERR_clear_error();
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
			return;
		n = e == SSL_ERROR_NONE ? (ssize_t)got : 0;
	} else {
		n = read(fd, f->cin[i] + f->cin_len[i], sizeof(f->cin[i]) - f->cin_len[i]);
	}
	if (n <= 0) {
		fake_drop_conn(f, i);
		return;
	}
	f->cin_len[i] += (size_t)n;
	while (f->cin_len[i] >= 2) {
		size_t ml = wire_get_u16(f->cin[i]);
		if (f->cin_len[i] < 2 + ml)
			break;
		uint8_t r[1024];
		f->tcp_q++;
		if (++f->per_conn[i] > f->max_per_conn)
			f->max_per_conn = f->per_conn[i];
		int rl = fake_reply(f, f->cin[i] + 2, ml, r + 2, sizeof(r) - 2, true);
		memmove(f->cin[i], f->cin[i] + 2 + ml, f->cin_len[i] - 2 - ml);
		f->cin_len[i] -= 2 + ml;
		if (rl < 0)
			continue;
		wire_put_u16(r, (uint16_t)rl);
		if (f->tcp_batch > 1) {
			memcpy(f->held[f->nheld], r, (size_t)rl + 2);
			f->held_len[f->nheld++] = (size_t)rl + 2;
			f->held_fd = fd;
			if (f->nheld == f->tcp_batch) /* all at once, newest first */
				while (f->nheld) {
					f->nheld--;
					fake_write(f, fd, f->held[f->nheld], f->held_len[f->nheld]);
				}
		} else {
			fake_write(f, fd, r, (size_t)rl + 2);
		}
	}
}

static void fake_open_at(fake *f, enum fmode mode, const char *ip)
{
	memset(f, 0, sizeof(*f));
	f->mode = mode;
	for (int i = 0; i < 4; i++)
		f->conn[i] = -1;
	for (int tries = 0; tries < 50; tries++) {
		assert_int_equal(addr_parse(&f->addr, ip, 0, NULL, 0), 0);
		f->udp = socket(addr_family(&f->addr), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		assert_true(f->udp >= 0);
		assert_int_equal(bind(f->udp, &f->addr.u.sa, f->addr.len), 0);
		socklen_t sl = sizeof(f->addr.u);
		getsockname(f->udp, &f->addr.u.sa, &sl);
		f->lis = socket(addr_family(&f->addr), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		int one = 1;
		setsockopt(f->lis, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(f->lis, &f->addr.u.sa, f->addr.len) == 0 && listen(f->lis, 16) == 0)
			break;
		close(f->udp);
		close(f->lis);
		f->lis = -1;
	}
	assert_true(f->lis >= 0);
	l_watch(NULL, f->udp, UP_EV_READ, fake_udp_cb, f);
	l_watch(NULL, f->lis, UP_EV_READ, fake_lis_cb, f);
}

static void fake_open(fake *f, enum fmode mode) { fake_open_at(f, mode, "127.0.0.1"); }

static void fake_close(fake *f)
{
	l_unwatch(NULL, f->udp);
	l_unwatch(NULL, f->lis);
	close(f->udp);
	close(f->lis);
	for (int i = 0; i < 4; i++)
		if (f->conn[i] >= 0)
			fake_drop_conn(f, i);
}

/* ---- a consumer ---- */

enum policy { P_PLAIN, P_HOLD, P_KEEP };

typedef struct res {
	enum policy policy;
	uint32_t hold_us;
	int done, end_reason, n;
	unsigned server[16], transport[16], rcode[16], attempt[16];
	bool tls[16];
	uint64_t t_us[16];
	int ttl[16];
	bool echoed[16];
	enum up_learn known[16];
	uint16_t flags[16];
} res;

static void on_reply(void *arg, up_txn *t, const up_reply *r)
{
	res *s = arg;
	assert_int_equal(r->seq, (unsigned)s->n);
	assert_true(r->m && r->len >= MSG_HDRLEN && (r->flags & MSG_QR));
	if (s->n < 16) {
		s->server[s->n] = r->server;
		s->transport[s->n] = r->transport;
		s->tls[s->n] = r->tls;
		s->rcode[s->n] = r->rcode;
		s->attempt[s->n] = r->attempt;
		s->t_us[s->n] = r->t_us;
		s->ttl[s->n] = r->ip_ttl;
		s->echoed[s->n] = r->cookie_echoed;
		s->known[s->n] = r->cookie_known;
		s->flags[s->n] = r->flags;
	}
	s->n++;
	switch (s->policy) {
	case P_PLAIN:
		if (upstream_rcode_failover(r->rcode) && upstream_txn_next(t) == 0)
			return;
		upstream_txn_finish(t, (int)r->seq);
		s->done = 1;
		break;
	case P_HOLD:
		if (r->seq == 0)
			upstream_txn_hold(t, r->t_us + s->hold_us, false);
		break;
	case P_KEEP:
		break;
	}
}

static void on_end(void *arg, up_txn *t, int reason)
{
	(void)t;
	res *s = arg;
	s->done = 1;
	s->end_reason = reason;
}

static const up_handler H = { .reply = on_reply, .end = on_end };

static uint8_t QNAME[NAME_MAXLEN];

static up_txn *ask(up_ctx *c, const uint16_t *srv, unsigned n, res *s, const char *name, unsigned flags)
{
	assert_true(name_from_text(name, strlen(name), NULL, QNAME) > 0);
	up_query q = { .qname = QNAME, .qtype = RR_A, .qclass = CLASS_IN, .hdr_flags = MSG_RD,
		       .servers = srv, .nservers = n, .flags = flags };
	up_txn *t = NULL;
	assert_int_equal(upstream_query(c, &q, &H, s, &t), 0);
	assert_non_null(t);
	return t;
}

static up_ctx *mk(const fake *a, const fake *b, up_config *cfg)
{
	net_addr s[2] = { a->addr, b ? b->addr : a->addr };
	cfg->servers = s;
	cfg->nservers = b ? 2 : 1;
	up_ctx *c = upstream_new(cfg, &LOOP);
	assert_non_null(c);
	return c;
}

static up_stats st(up_ctx *c, unsigned i)
{
	up_stats s;
	assert_int_equal(upstream_stats(c, i, &s), 0);
	return s;
}

static const uint16_t S0[] = { 0 }, S01[] = { 0, 1 };

/* ---- tests ---- */

static void test_id_port_random(void **state)
{
	(void)state;
	fake f;
	fake_open(&f, F_ANSWER);
	up_config cfg = { 0 };
	up_ctx *c = mk(&f, NULL, &cfg);
	enum { N = 300 };
	static uint16_t ids[N], ports[N];
	for (int i = 0; i < N; i++) {
		res r = { .policy = P_PLAIN };
		up_txn *t = ask(c, S0, 1, &r, "www.example.com.", 0);
		ids[i] = (uint16_t)upstream_txn_id(t, 0);
		ports[i] = (uint16_t)upstream_txn_port(t, 0);
		run(c, &r.done, 2000000);
		assert_true(r.done && r.n == 1);
		assert_int_equal(f.last_id, ids[i]);   /* what went on the wire */
		assert_int_equal(f.last_port, ports[i]);
	}
	int did = 0, dport = 0;
	for (int i = 0; i < N; i++) {
		int a = 1, b = 1;
		for (int j = 0; j < i; j++) {
			a &= ids[j] != ids[i];
			b &= ports[j] != ports[i];
		}
		did += a;
		dport += b;
	}
	/* 300 draws from 65536 IDs: ~0.7 expected collisions; ports come from
	 * the kernel's random ephemeral choice over ~28000 ports */
	assert_true(did >= N - 6);
	assert_true(dport >= N - 20);
	up_stats s = st(c, 0);
	assert_int_equal(s.queries, N);
	assert_int_equal(s.accepted, N);
	assert_true(s.srtt_us > 0);
	assert_int_equal(upstream_active(c), 0);
	upstream_free(c);
	fake_close(&f);
}

/* Builds a reply to the fake's last query with tweaks. */
static int forge(fake *f, uint8_t *out, uint16_t id, uint16_t flags, const char *name, uint16_t type)
{
	uint8_t qn[NAME_MAXLEN];
	assert_true(name_from_text(name, strlen(name), NULL, qn) > 0);
	msg_wr mw;
	msg_wr_init(&mw, out, 512);
	msg_wr_header(&mw, id, flags);
	msg_wr_question(&mw, qn, type, CLASS_IN);
	(void)f;
	return msg_wr_finish(&mw);
}

static void test_mismatch(void **state)
{
	(void)state;
	fake f;
	fake_open(&f, F_DROP);
	up_config cfg = { .rto_init_us = 2000000 };
	up_ctx *c = mk(&f, NULL, &cfg);
	res r = { .policy = P_PLAIN };
	up_txn *t = ask(c, S0, 1, &r, "www.example.com.", 0);
	run(c, NULL, 20000);
	assert_int_equal(f.udp_q, 1);
	uint16_t id = f.last_id;
	net_addr me;
	assert_int_equal(addr_parse(&me, "127.0.0.1", f.last_port, NULL, 0), 0);
	uint8_t b[512];
	int n;
	/* right everything, but from another port: the kernel drops it */
	int other = socket(AF_INET, SOCK_DGRAM, 0);
	n = forge(&f, b, id, MSG_QR | MSG_RD | MSG_RA, "www.example.com.", RR_A);
	sendto(other, b, (size_t)n, 0, &me.u.sa, me.len);
	close(other);
	/* from the upstream's socket: wrong ID, QR=0, wrong name, wrong type,
	 * short, bad opcode, malformed */
	n = forge(&f, b, (uint16_t)(id ^ 1), MSG_QR, "www.example.com.", RR_A);
	sendto(f.udp, b, (size_t)n, 0, &me.u.sa, me.len);
	n = forge(&f, b, id, 0, "www.example.com.", RR_A);
	sendto(f.udp, b, (size_t)n, 0, &me.u.sa, me.len);
	n = forge(&f, b, id, MSG_QR, "www.example.org.", RR_A);
	sendto(f.udp, b, (size_t)n, 0, &me.u.sa, me.len);
	n = forge(&f, b, id, MSG_QR, "www.example.com.", RR_AAAA);
	sendto(f.udp, b, (size_t)n, 0, &me.u.sa, me.len);
	sendto(f.udp, b, 7, 0, &me.u.sa, me.len);
	n = forge(&f, b, id, MSG_QR | msg_flags_set_opcode(0, OPCODE_NOTIFY), "www.example.com.", RR_A);
	sendto(f.udp, b, (size_t)n, 0, &me.u.sa, me.len);
	n = forge(&f, b, id, MSG_QR, "www.example.com.", RR_A);
	wire_put_u16(b + 6, 3); /* ANCOUNT 3 with no answers */
	sendto(f.udp, b, (size_t)n, 0, &me.u.sa, me.len);
	run(c, NULL, 50000);
	assert_int_equal(r.n, 0);
	up_stats s = st(c, 0);
	assert_int_equal(s.mismatch[UP_MIS_SOURCE], 0); /* filtered by connect() */
	assert_int_equal(s.mismatch[UP_MIS_ID], 1);
	assert_int_equal(s.mismatch[UP_MIS_QR], 1);
	assert_int_equal(s.mismatch[UP_MIS_QUESTION], 2);
	assert_int_equal(s.mismatch[UP_MIS_SHORT], 1);
	assert_int_equal(s.mismatch[UP_MIS_OPCODE], 1);
	assert_int_equal(s.mismatch[UP_MIS_MALFORMED], 1);
	/* a wrong source reported by the kernel (hook): counted */
	net_addr bad = f.addr;
	addr_set_port(&bad, (uint16_t)(addr_port(&f.addr) ^ 1));
	n = forge(&f, b, id, MSG_QR, "www.example.com.", RR_A);
	assert_int_equal(upstream_feed(t, 0, b, (size_t)n, &bad, 64), -1 - UP_MIS_SOURCE);
	assert_int_equal(st(c, 0).mismatch[UP_MIS_SOURCE], 1);
	/* name case differs without 0x20: accepted */
	n = forge(&f, b, id, MSG_QR | MSG_RA, "WWW.Example.COM.", RR_A);
	sendto(f.udp, b, (size_t)n, 0, &me.u.sa, me.len);
	run(c, &r.done, 1000000);
	assert_int_equal(r.n, 1);
	assert_true(r.done);
	s = st(c, 0);
	assert_int_equal(s.replies, 1);
	assert_int_equal(s.accepted, 1);
	upstream_total(c, &s);
	assert_int_equal(s.mismatch[UP_MIS_ID], 1);
	upstream_free(c);
	fake_close(&f);
}

static bool has_upper(const uint8_t *n)
{
	for (; *n; n += 1 + *n)
		for (unsigned i = 1; i <= *n; i++)
			if (n[i] >= 'A' && n[i] <= 'Z')
				return true;
	return false;
}

static void test_0x20(void **state)
{
	(void)state;
	fake f;
	fake_open(&f, F_ANSWER);
	up_config cfg = { .use_0x20 = true, .rto_init_us = 100000, .attempts = 2 };
	up_ctx *c = mk(&f, NULL, &cfg);
	/* an upstream that echoes the name as sent */
	res r0 = { .policy = P_PLAIN };
	ask(c, S0, 1, &r0, "abcdefghijklmnopqrstuvwxyz.example.com.", 0);
	run(c, &r0.done, 2000000);
	assert_int_equal(r0.n, 1);
	assert_true(has_upper(f.last_qname));
	assert_false(st(c, 0).no_0x20);
	upstream_free(c);
	/* one that lowercases: mismatches, the attempts time out */
	f.lower = true;
	c = mk(&f, NULL, &cfg);
	res r = { .policy = P_PLAIN };
	ask(c, S0, 1, &r, "abcdefghijklmnopqrstuvwxyz.example.com.", 0);
	run(c, &r.done, 2000000);
	assert_true(r.done);
	assert_int_equal(r.n, 0);
	assert_int_equal(r.end_reason, UP_END_TIMEOUT);
	assert_true(has_upper(f.last_qname));
	up_stats s = st(c, 0);
	assert_int_equal(s.mismatch[UP_MIS_CASE], 2);
	/* a wrongly cased reply may be forged: the attempts still time out */
	assert_int_equal(s.timeouts, 2);
	assert_false(s.no_0x20);
	/* the third wrong-case reply gives 0x20 up for this upstream: the
	 * retry goes out in the name's own case and is accepted */
	res r2 = { .policy = P_PLAIN };
	ask(c, S0, 1, &r2, "abcdefghijklmnopqrstuvwxyz.example.com.", 0);
	run(c, &r2.done, 2000000);
	assert_int_equal(r2.n, 1);
	assert_int_equal(r2.attempt[0], 1);
	assert_false(has_upper(f.last_qname));
	s = st(c, 0);
	assert_true(s.no_0x20);
	assert_int_equal(s.mismatch[UP_MIS_CASE], 3);
	assert_int_equal(s.accepted, 1);
	upstream_free(c);
	fake_close(&f);
}

static void test_cookie(void **state)
{
	(void)state;
	fake f;
	fake_open(&f, F_ANSWER);
	f.echo_cookie = true;
	up_config cfg = { 0 };
	up_ctx *c = mk(&f, NULL, &cfg);
	res r = { .policy = P_PLAIN };
	ask(c, S0, 1, &r, "a.example.", 0);
	run(c, &r.done, 2000000);
	assert_int_equal(r.n, 1);
	assert_int_equal(f.last_cookie_len, 8);
	uint8_t cc[8];
	memcpy(cc, f.last_cookie, 8);
	assert_true(r.echoed[0]);
	assert_int_equal(r.known[0], UP_LEARN_UNKNOWN);
	up_stats s = st(c, 0);
	assert_int_equal(s.cookie, UP_LEARN_YES);
	assert_int_equal(s.edns, UP_LEARN_YES);
	assert_int_equal(s.server_cookie_len, 8);
	/* the next query carries client + server cookie */
	res r2 = { .policy = P_PLAIN };
	ask(c, S0, 1, &r2, "b.example.", 0);
	run(c, &r2.done, 2000000);
	assert_int_equal(f.last_cookie_len, 16);
	assert_memory_equal(f.last_cookie, cc, 8);
	assert_memory_equal(f.last_cookie + 8, SRV_COOKIE, 8);
	assert_int_equal(r2.known[0], UP_LEARN_YES);
	/* an upstream that stops echoing: still YES for two replies, then NO */
	f.echo_cookie = false;
	for (int i = 0; i < 3; i++) {
		res r3 = { .policy = P_PLAIN };
		ask(c, S0, 1, &r3, "c.example.", 0);
		run(c, &r3.done, 2000000);
		assert_false(r3.echoed[0]);
		assert_int_equal(st(c, 0).cookie, i < 2 ? UP_LEARN_YES : UP_LEARN_NO);
	}
	upstream_free(c);
	/* never echoed: NO after the first accepted reply; no cookies at all */
	up_config cfg2 = { .no_cookies = true };
	c = mk(&f, NULL, &cfg2);
	res r4 = { .policy = P_PLAIN };
	ask(c, S0, 1, &r4, "d.example.", 0);
	run(c, &r4.done, 2000000);
	assert_int_equal(f.last_cookie_len, 0);
	assert_int_equal(st(c, 0).cookie, UP_LEARN_UNKNOWN);
	upstream_free(c);
	fake_close(&f);
}

static void test_badcookie(void **state)
{
	(void)state;
	fake f;
	fake_open(&f, F_BADCOOKIE);
	f.echo_cookie = true;
	up_config cfg = { 0 };
	up_ctx *c = mk(&f, NULL, &cfg);
	res r = { .policy = P_PLAIN };
	ask(c, S0, 1, &r, "bc.example.", 0);
	run(c, &r.done, 2000000);
	assert_int_equal(r.n, 1);           /* the BADCOOKIE one is not delivered */
	assert_int_equal(r.attempt[0], 1);
	assert_int_equal(r.rcode[0], RCODE_NOERROR);
	assert_int_equal(f.udp_q, 2);
	assert_int_equal(f.last_cookie_len, 16);
	assert_memory_equal(f.last_cookie + 8, SRV_COOKIE, 8);
	up_stats s = st(c, 0);
	assert_int_equal(s.badcookie, 1);
	assert_int_equal(s.replies, 2);
	/* a fresh context (new client cookie, no server cookie): the same
	 * dance, even from a server that echoes cookies only in BADCOOKIE */
	upstream_free(c);
	c = mk(&f, NULL, &cfg);
	f.echo_cookie = false;
	res r2 = { .policy = P_PLAIN };
	ask(c, S0, 1, &r2, "bc2.example.", 0);
	run(c, &r2.done, 2000000);
	assert_int_equal(r2.n, 1);
	assert_int_equal(r2.rcode[0], RCODE_NOERROR);
	assert_int_equal(st(c, 0).badcookie, 1);
	upstream_free(c);
	fake_close(&f);
}

static void test_multi_reply(void **state)
{
	(void)state;
	fake f;
	fake_open(&f, F_ANSWER);
	f.copies = 3;
	f.gap_us = 20000;
	int ttl = 37;
	assert_int_equal(setsockopt(f.udp, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)), 0);
	up_config cfg = { 0 };
	up_ctx *c = mk(&f, NULL, &cfg);
	res r = { .policy = P_HOLD, .hold_us = 150000 };
	uint64_t t0 = mono_us();
	ask(c, S0, 1, &r, "multi.example.", 0);
	run(c, &r.done, 2000000);
	assert_true(r.done);
	assert_int_equal(r.end_reason, UP_END_HOLD);
	assert_int_equal(r.n, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(r.ttl[i], 37);
		assert_int_equal(r.server[i], 0);
		assert_int_equal(r.attempt[i], 0);
		assert_true(r.t_us[i] >= t0);
		if (i)
			assert_true(r.t_us[i] >= r.t_us[i - 1]);
	}
	assert_true(r.t_us[2] >= r.t_us[0] + 35000); /* sent 40 ms after the first */
	/* the hold ended ~150 ms after the first reply, not before */
	assert_true(mono_us() >= r.t_us[0] + 150000);
	/* nothing accepted: nothing learnt */
	up_stats s = st(c, 0);
	assert_int_equal(s.replies, 3);
	assert_int_equal(s.accepted, 0);
	assert_int_equal(s.srtt_us, 0);
	assert_int_equal(s.ip_ttl, -1);
	assert_int_equal(upstream_active(c), 0);
	/* P_PLAIN accepts the first: TTL learnt */
	res r2 = { .policy = P_PLAIN };
	ask(c, S0, 1, &r2, "multi2.example.", 0);
	run(c, &r2.done, 2000000);
	s = st(c, 0);
	assert_int_equal(s.ip_ttl, 37);
	assert_int_equal(s.ip_ttl_min, 37);
	assert_int_equal(s.ip_ttl_max, 37);
	run(c, NULL, 60000); /* the late copies hit a closed socket */
	assert_int_equal(st(c, 0).replies, 4);
	upstream_free(c);
	fake_close(&f);
}

static void test_ipv6_hoplimit(void **state)
{
	(void)state;
	int probe = socket(AF_INET6, SOCK_DGRAM, 0);
	net_addr lo6;
	addr_parse(&lo6, "[::1]:0", 0, NULL, 0);
	if (probe < 0 || bind(probe, &lo6.u.sa, lo6.len) < 0) {
		if (probe >= 0)
			close(probe);
		skip(); /* no IPv6 loopback here */
		return;
	}
	close(probe);
	fake f;
	fake_open_at(&f, F_TC, "::1");
	int hops = 42;
	assert_int_equal(setsockopt(f.udp, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof(hops)), 0);
	f.copies = 1;
	up_config cfg = { 0 };
	up_ctx *c = mk(&f, NULL, &cfg);
	res r = { .policy = P_HOLD, .hold_us = 50000 };
	ask(c, S0, 1, &r, "v6.example.", 0);
	run(c, &r.done, 2000000);
	/* the TC reply over UDP (hop limit 42) is counted; the TCP one delivered */
	assert_int_equal(r.n, 1);
	assert_int_equal(r.transport[0], UP_TCP);
	assert_int_equal(st(c, 0).truncated, 1);
	f.mode = F_ANSWER;
	res r2 = { .policy = P_PLAIN };
	ask(c, S0, 1, &r2, "v6.example.", 0);
	run(c, &r2.done, 2000000);
	assert_int_equal(r2.n, 1);
	assert_int_equal(r2.ttl[0], 42);
	assert_int_equal(st(c, 0).ip_ttl, 42);
	upstream_free(c);
	fake_close(&f);
}

static void test_tc_tcp(void **state)
{
	(void)state;
	fake f;
	fake_open(&f, F_TC);
	up_config cfg = { 0 };
	up_ctx *c = mk(&f, NULL, &cfg);
	res r = { .policy = P_PLAIN };
	up_txn *t = ask(c, S0, 1, &r, "big.example.", 0);
	(void)t;
	run(c, &r.done, 2000000);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.transport[0], UP_TCP);
	assert_int_equal(r.ttl[0], -1);
	assert_int_equal(r.attempt[0], 1);
	assert_false(r.flags[0] & MSG_TC);
	up_stats s = st(c, 0);
	assert_int_equal(s.truncated, 1);
	assert_int_equal(s.queries, 2);
	assert_int_equal(s.queries_tcp, 1);
	assert_int_equal(s.tcp_connects, 1);
	assert_int_equal(f.udp_q, 1);
	assert_int_equal(f.tcp_q, 1);
	upstream_free(c);
	fake_close(&f);
}

/* A reload's new upstream: numbered after the others, asked like them, over
 * UDP and over TCP (its connection registered at its fixed place); a query
 * naming a number the context does not have yet finds no candidate. */
static void test_add_server(void **state)
{
	(void)state;
	fake a, b;
	fake_open(&a, F_ANSWER);
	fake_open_at(&b, F_TC, "127.0.0.2");
	up_config cfg = { 0 };
	up_ctx *c = mk(&a, NULL, &cfg);
	static const uint16_t S1[] = { 1 };
	uint8_t nm[NAME_MAXLEN];
	assert_true(name_from_text("x.example.", 10, NULL, nm) > 0);
	up_query q = { .qname = nm, .qtype = RR_A, .qclass = CLASS_IN, .hdr_flags = MSG_RD, .servers = S1,
		       .nservers = 1 };
	up_txn *t = NULL;
	res r0 = { .policy = P_PLAIN };
	assert_true(upstream_query(c, &q, &H, &r0, &t) < 0); /* no server 1 yet */
	route_upstream u = { .addr = b.addr, .transport = ROUTE_DNS };
	assert_int_equal(upstream_add_server(c, &u, NULL, false), 1);
	res r = { .policy = P_PLAIN };
	ask(c, S1, 1, &r, "big.example.", 0);
	run(c, &r.done, 2000000);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.transport[0], UP_TCP); /* TC over UDP, then TCP */
	assert_int_equal(b.udp_q, 1);
	assert_int_equal(b.tcp_q, 1);
	assert_int_equal(a.udp_q, 0);
	assert_int_equal(st(c, 1).tcp_connects, 1);
	res r2 = { .policy = P_PLAIN };
	ask(c, S0, 1, &r2, "www.example.", 0);
	run(c, &r2.done, 2000000);
	assert_int_equal(r2.n, 1);
	assert_int_equal(a.udp_q, 1);
	/* up to UP_MAX_SERVERS */
	for (unsigned i = 2; i < UP_MAX_SERVERS; i++)
		assert_int_equal(upstream_add_server(c, &u, NULL, false), (int)i);
	assert_int_equal(upstream_add_server(c, &u, NULL, false), DNS_ESPACE);
	upstream_free(c);
	fake_close(&a);
	fake_close(&b);
}

static void test_tcp_pipeline(void **state)
{
	(void)state;
	fake f;
	fake_open(&f, F_TC);
	f.tcp_batch = 3;
	up_config cfg = { .tcp_idle_us = 80000 };
	up_ctx *c = mk(&f, NULL, &cfg);
	res r[3] = { { .policy = P_PLAIN }, { .policy = P_PLAIN }, { .policy = P_PLAIN } };
	ask(c, S0, 1, &r[0], "p1.example.", 0);
	ask(c, S0, 1, &r[1], "p2.example.", 0);
	ask(c, S0, 1, &r[2], "p3.example.", UP_QF_TCP);
	run(c, &r[0].done, 2000000);
	run(c, &r[1].done, 2000000);
	run(c, &r[2].done, 2000000);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(r[i].n, 1);
		assert_int_equal(r[i].transport[0], UP_TCP);
	}
	assert_int_equal(f.accepts, 1);       /* one connection */
	assert_int_equal(f.max_per_conn, 3);  /* three queries on it */
	assert_int_equal(f.udp_q, 2);         /* p3 went straight to TCP */
	assert_int_equal(st(c, 0).tcp_connects, 1);
	/* idle close, then a reconnect */
	run(c, NULL, 200000);
	assert_int_equal(f.closes, 1);
	f.tcp_batch = 0;
	res r4 = { .policy = P_PLAIN };
	ask(c, S0, 1, &r4, "p4.example.", UP_QF_TCP);
	run(c, &r4.done, 2000000);
	assert_int_equal(r4.n, 1);
	assert_int_equal(f.accepts, 2);
	up_stats s = st(c, 0);
	assert_int_equal(s.tcp_connects, 2);
	assert_int_equal(s.errors, 0);
	upstream_free(c);
	fake_close(&f);
}

static void test_tcp_failure(void **state)
{
	(void)state;
	/* TCP to a port nobody listens on: the attempt fails at once and the
	 * transaction moves on (here to the second upstream over UDP) */
	fake a, b;
	fake_open(&a, F_TC);
	fake_open(&b, F_ANSWER);
	close(a.lis);
	l_unwatch(NULL, a.lis);
	a.lis = socket(AF_INET, SOCK_STREAM, 0); /* for fake_close */
	up_config cfg = { .rto_init_us = 500000 };
	up_ctx *c = mk(&a, &b, &cfg);
	res r = { .policy = P_PLAIN };
	uint64_t t0 = mono_us();
	ask(c, S01, 2, &r, "x.example.", 0);
	run(c, &r.done, 2000000);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.server[0], 1);
	assert_true(mono_us() - t0 < 400000); /* no timeout was waited for */
	assert_int_equal(st(c, 0).errors, 2); /* the attempt, the connection */
	upstream_free(c);
	fake_close(&a);
	fake_close(&b);
}

static void test_timeout_failover(void **state)
{
	(void)state;
	fake a, b;
	fake_open(&a, F_DROP);
	fake_open(&b, F_ANSWER);
	up_config cfg = { .rto_init_us = 30000, .rto_min_us = 10000, .down_after = 3, .probe_us = 300000 };
	up_ctx *c = mk(&a, &b, &cfg);
	uint16_t ord[2];
	for (int i = 0; i < 3; i++) {
		res r = { .policy = P_PLAIN };
		ask(c, S01, 2, &r, "f.example.", 0);
		run(c, &r.done, 2000000);
		assert_int_equal(r.n, 1);
		assert_int_equal(r.server[0], 1);
		assert_int_equal(r.attempt[0], 1);
		if (i == 0) { /* B measured, A not: A still first (never measured) */
			assert_int_equal(upstream_order(c, S01, 2, ord), 2);
			assert_int_equal(ord[0], 0);
		}
	}
	up_stats s = st(c, 0);
	assert_true(s.timeouts >= 3); /* more if B was slower than 30 ms */
	assert_true(s.down);
	assert_true(s.consec_timeouts >= 3);
	assert_int_equal(upstream_order(c, S01, 2, ord), 2);
	assert_int_equal(ord[0], 1);
	assert_int_equal(ord[1], 0);
	/* while down: B first, A not asked */
	unsigned before = a.udp_q;
	res r = { .policy = P_PLAIN };
	ask(c, S01, 2, &r, "g.example.", 0);
	run(c, &r.done, 2000000);
	assert_int_equal(a.udp_q, before);
	/* after probe_us A is probed first again; it answers now: up */
	a.mode = F_ANSWER;
	run(c, NULL, 320000);
	assert_int_equal(upstream_order(c, S01, 2, ord), 2);
	assert_int_equal(ord[0], 0);
	res r2 = { .policy = P_PLAIN };
	ask(c, S01, 2, &r2, "h.example.", 0);
	run(c, &r2.done, 2000000);
	assert_int_equal(r2.server[0], 0);
	assert_false(st(c, 0).down);
	assert_int_equal(st(c, 0).consec_timeouts, 0);
	upstream_free(c);
	fake_close(&a);
	fake_close(&b);
}

/* Regression (lab flake): timeouts of attempts sent before the server's
 * latest reply must not mark it down: it is answering, only late. */
static void test_upstream_burst_not_down(void **state)
{
	(void)state;
	fake a;
	fake_open(&a, F_DROP);
	up_config cfg = { .rto_init_us = 30000, .rto_min_us = 10000, .attempts = 1, .down_after = 3 };
	up_ctx *c = mk(&a, NULL, &cfg);
	res r[3];
	char name[32];
	for (int i = 0; i < 3; i++) { /* dropped: they will time out */
		memset(&r[i], 0, sizeof(r[i]));
		r[i].policy = P_PLAIN;
		snprintf(name, sizeof(name), "b%d.example.", i);
		ask(c, S0, 1, &r[i], name, 0);
	}
	run(c, NULL, 3000);
	a.mode = F_ANSWER; /* the server answers again before they time out */
	res w = { .policy = P_PLAIN };
	ask(c, S0, 1, &w, "alive.example.", 0);
	run(c, &w.done, 20000);
	assert_int_equal(w.n, 1);
	run(c, NULL, 80000);
	up_stats s = st(c, 0);
	assert_true(s.timeouts >= 3);
	assert_false(s.down);
	/* three timeouts with no reply in between still mean down */
	a.mode = F_DROP;
	for (int i = 0; i < 3; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].policy = P_PLAIN;
		snprintf(name, sizeof(name), "d%d.example.", i);
		ask(c, S0, 1, &r[i], name, 0);
		run(c, &r[i].done, 500000);
	}
	assert_true(st(c, 0).down);
	upstream_free(c);
	fake_close(&a);
}

static void test_backoff(void **state)
{
	(void)state;
	fake a;
	fake_open(&a, F_DROP);
	up_config cfg = { .rto_init_us = 20000, .rto_min_us = 10000, .attempts = 4, .down_after = 100 };
	up_ctx *c = mk(&a, NULL, &cfg);
	res r = { .policy = P_PLAIN };
	uint64_t t0 = mono_us();
	ask(c, S0, 1, &r, "slow.example.", 0);
	run(c, &r.done, 5000000);
	assert_true(r.done);
	assert_int_equal(r.end_reason, UP_END_TIMEOUT);
	assert_int_equal(a.udp_q, 4);
	/* the timeouts double at least: 20, ≥ 40, ≥ 80 ms (lower bounds: a
	 * loaded machine only makes gaps longer) */
	uint64_t g1 = a.q_times[1] - a.q_times[0], g2 = a.q_times[2] - a.q_times[1],
		 g3 = a.q_times[3] - a.q_times[2];
	assert_true(g1 >= 19000);
	assert_true(g2 >= 39000);
	assert_true(g3 >= 79000);
	assert_true(mono_us() - t0 >= 20000 + 40000 + 80000);
	up_stats s = st(c, 0);
	assert_int_equal(s.timeouts, 4);
	assert_true(s.rto_us >= 16 * 20000 || s.rto_us == 4000000);
	upstream_free(c);
	fake_close(&a);
}

static void failover_rcode(enum fmode mode, unsigned rcode)
{
	fake a, b;
	fake_open(&a, mode);
	fake_open(&b, F_ANSWER);
	up_config cfg = { 0 };
	up_ctx *c = mk(&a, &b, &cfg);
	res r = { .policy = P_PLAIN };
	ask(c, S01, 2, &r, "sf.example.", 0);
	run(c, &r.done, 2000000);
	assert_true(r.done);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.server[0], 0);
	assert_int_equal(r.rcode[0], rcode);
	assert_int_equal(r.server[1], 1);
	assert_int_equal(r.rcode[1], RCODE_NOERROR);
	up_stats s = st(c, 0);
	assert_int_equal(rcode == RCODE_SERVFAIL ? s.servfail : s.refused, 1);
	assert_int_equal(s.accepted, 0);
	assert_int_equal(st(c, 1).accepted, 1);
	upstream_free(c);
	fake_close(&a);
	fake_close(&b);
}

static void test_servfail_refused(void **state)
{
	(void)state;
	failover_rcode(F_SERVFAIL, RCODE_SERVFAIL);
	failover_rcode(F_REFUSED, RCODE_REFUSED);
}

static void test_rtt_order(void **state)
{
	(void)state;
	fake a, b;
	fake_open(&a, F_ANSWER);
	fake_open(&b, F_ANSWER);
	a.delay_us = 30000;
	up_config cfg = { 0 };
	up_ctx *c = mk(&a, &b, &cfg);
	for (int i = 0; i < 6; i++) {
		res r = { .policy = P_PLAIN };
		ask(c, S01, 2, &r, "rtt.example.", 0);
		run(c, &r.done, 2000000);
		assert_int_equal(r.n, 1);
		/* the first query measures A (configured order), the second
		 * the still unmeasured B, then B (faster) every time */
		assert_int_equal(r.server[0], i == 0 ? 0u : 1u);
	}
	up_stats sa = st(c, 0), sb = st(c, 1);
	assert_true(sa.srtt_us >= 25000);
	assert_true(sb.srtt_us < sa.srtt_us);
	assert_int_equal(sa.accepted, 1);
	assert_int_equal(sb.accepted, 5);
	uint16_t ord[2];
	assert_int_equal(upstream_order(c, S01, 2, ord), 2);
	assert_int_equal(ord[0], 1);
	upstream_free(c);
	fake_close(&a);
	fake_close(&b);
}

static void test_slots_and_finish(void **state)
{
	(void)state;
	fake f;
	fake_open(&f, F_DROP);
	up_config cfg = { .slots = 2 };
	up_ctx *c = mk(&f, NULL, &cfg);
	res r[3] = { { .policy = P_KEEP }, { .policy = P_KEEP }, { .policy = P_KEEP } };
	up_txn *t0 = ask(c, S0, 1, &r[0], "s.example.", 0);
	up_txn *t1 = ask(c, S0, 1, &r[1], "s.example.", 0);
	up_query q = { .qname = QNAME, .qtype = RR_A, .qclass = CLASS_IN, .servers = S0, .nservers = 1 };
	up_txn *t2;
	assert_int_equal(upstream_query(c, &q, &H, &r[2], &t2), DNS_ESPACE);
	upstream_txn_finish(t0, UP_NONE);
	assert_int_equal(upstream_active(c), 1);
	assert_int_equal(upstream_query(c, &q, &H, &r[2], &t2), 0);
	/* bad input */
	const uint16_t bad[] = { 7 };
	q.servers = bad;
	assert_int_equal(upstream_query(c, &q, &H, &r[2], &t0), DNS_EINVAL);
	q.nservers = 0;
	assert_int_equal(upstream_query(c, &q, &H, &r[2], &t0), DNS_EINVAL);
	assert_int_equal(upstream_txn_attempts(t1), 1);
	assert_true(upstream_next_deadline(c) != UP_NEVER);
	upstream_free(c); /* with live transactions: no callbacks, no leaks */
	assert_int_equal(r[1].done + r[2].done, 0);
	/* configuration errors */
	up_config bad_cfg = { .attempts = UP_MAX_ATTEMPTS + 1 };
	net_addr s = f.addr;
	bad_cfg.servers = &s;
	bad_cfg.nservers = 1;
	assert_null(upstream_new(&bad_cfg, &LOOP));
	bad_cfg.attempts = 0;
	bad_cfg.nservers = 0;
	assert_null(upstream_new(&bad_cfg, &LOOP));
	fake_close(&f);
}

/* set_timer is told about deadline changes. */
static uint64_t g_timer = 1;
static void l_set_timer(void *ctx, uint64_t when) { (void)ctx; g_timer = when; }

static void test_set_timer(void **state)
{
	(void)state;
	fake f;
	fake_open(&f, F_ANSWER);
	up_loop lp = LOOP;
	lp.set_timer = l_set_timer;
	net_addr s = f.addr;
	up_config cfg = { .servers = &s, .nservers = 1 };
	up_ctx *c = upstream_new(&cfg, &lp);
	res r = { .policy = P_PLAIN };
	ask(c, S0, 1, &r, "t.example.", 0);
	assert_true(g_timer != UP_NEVER && g_timer == upstream_next_deadline(c));
	run(c, &r.done, 2000000);
	assert_int_equal(g_timer, UP_NEVER);
	upstream_free(c);
	fake_close(&f);
}

/* ---- DNS over TLS ---- */

static EVP_PKEY *ca_key, *srv_key;
static X509 *ca_crt, *srv_crt;
static char ca_path[64];

static int tls_group_setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN); /* the fakes' OpenSSL writes with write() */
	ca_key = EVP_EC_gen("P-256");
	srv_key = EVP_EC_gen("P-256");
	ca_crt = tt_cert(ca_key, "test CA", NULL, NULL, NULL);
	srv_crt = tt_cert(srv_key, "dot.test", ca_crt, ca_key, "DNS:dot.test,IP:127.0.0.1");
	tt_write_pem(ca_crt, ca_path, sizeof(ca_path));
	return 0;
}

static int tls_group_teardown(void **state)
{
	(void)state;
	unlink(ca_path);
	X509_free(ca_crt);
	X509_free(srv_crt);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(srv_key);
	return 0;
}

static void fake_tls(fake *f)
{
	f->tls = SSL_CTX_new(TLS_server_method());
	assert_non_null(f->tls);
	assert_int_equal(SSL_CTX_use_certificate(f->tls, srv_crt), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(f->tls, srv_key), 1);
}

static void fake_tls_close(fake *f)
{
	fake_close(f);
	SSL_CTX_free(f->tls);
}

/* A route table with a as tls://ADDR#auth (and b, when given, plain). */
static route *tls_route(const fake *a, const char *auth, const fake *b)
{
	route *rt = route_new();
	assert_non_null(rt);
	route_upstream u = { .addr = a->addr, .transport = ROUTE_TLS };
	snprintf(u.auth, sizeof(u.auth), "%s", auth);
	assert_int_equal(route_add_upstream(rt, &u), 0);
	if (b)
		assert_int_equal(route_add_default(rt, &b->addr), 0);
	assert_int_equal(route_set_tls(rt, ca_path, false), 0);
	return rt;
}

static up_ctx *mk_route(route *rt, up_config *cfg, bool explicit)
{
	cfg->servers = route_servers(rt);
	cfg->nservers = route_nservers(rt);
	cfg->route = explicit ? rt : NULL; /* NULL: found by the server list */
	up_ctx *c = upstream_new(cfg, &LOOP);
	assert_non_null(c);
	return c;
}

static void test_tls_pipeline(void **state)
{
	(void)state;
	fake f;
	fake_open(&f, F_ANSWER);
	fake_tls(&f);
	f.tcp_batch = 3; /* replies newest first */
	route *rt = tls_route(&f, "dot.test", NULL);
	up_config cfg = { .tcp_idle_us = 80000 };
	up_ctx *c = mk_route(rt, &cfg, false);
	res r[3] = { { .policy = P_PLAIN }, { .policy = P_PLAIN }, { .policy = P_PLAIN } };
	ask(c, S0, 1, &r[0], "t1.example.", 0);
	ask(c, S0, 1, &r[1], "t2.example.", 0);
	ask(c, S0, 1, &r[2], "t3.example.", UP_QF_TCP);
	for (int i = 0; i < 3; i++)
		run(c, &r[i].done, 2000000);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(r[i].n, 1);
		assert_int_equal(r[i].rcode[0], 0);
		assert_int_equal(r[i].transport[0], UP_TCP); /* the defence trusts it as TCP */
		assert_true(r[i].tls[0]);
	}
	assert_int_equal(f.udp_q, 0);         /* never over UDP */
	assert_int_equal(f.accepts, 1);       /* one connection */
	assert_int_equal(f.handshakes, 1);
	assert_int_equal(f.max_per_conn, 3);  /* all three on it, answered out of order */
	up_stats s = st(c, 0);
	assert_true(s.tls);
	assert_int_equal(s.queries, 3);
	assert_int_equal(s.queries_tcp, 3);
	assert_int_equal(s.queries_tls, 3);
	assert_int_equal(s.tls_handshakes, 1);
	assert_int_equal(s.tls_resumed, 0);
	assert_int_equal(s.tcp_connects, 1);
	assert_int_equal(s.srtt_us, 0); /* queued before the handshake: no RTT */
	/* a query on the open connection teaches the RTT */
	f.tcp_batch = 0;
	res r4 = { .policy = P_PLAIN };
	ask(c, S0, 1, &r4, "t4.example.", 0);
	run(c, &r4.done, 2000000);
	assert_int_equal(r4.n, 1);
	assert_true(st(c, 0).srtt_us > 0);
	/* idle close, then a reconnect that resumes the session */
	run(c, NULL, 200000);
	assert_int_equal(f.closes, 1);
	res r5 = { .policy = P_PLAIN };
	ask(c, S0, 1, &r5, "t5.example.", 0);
	run(c, &r5.done, 2000000);
	assert_int_equal(r5.n, 1);
	assert_true(r5.tls[0]);
	assert_int_equal(f.accepts, 2);
	s = st(c, 0);
	assert_int_equal(s.tls_handshakes, 2);
	assert_int_equal(s.tls_resumed, 1);
	assert_int_equal(s.errors, 0);
	assert_int_equal(s.tls_failures, 0);
	up_stats tot;
	upstream_total(c, &tot);
	assert_int_equal(tot.queries_tls, 5);
	assert_int_equal(tot.tls_handshakes, 2);
	upstream_free(c);
	route_free(rt);
	fake_tls_close(&f);
}

static void test_tls_verify_failover(void **state)
{
	(void)state;
	/* the TLS upstream's certificate does not name what we expect: the
	 * attempt fails at the handshake and the transaction fails over to the
	 * second (plain) upstream at once; the next one does not even connect */
	fake a, b;
	fake_open(&a, F_ANSWER);
	fake_tls(&a);
	fake_open(&b, F_ANSWER);
	route *rt = tls_route(&a, "wrong.test", &b);
	up_config cfg = { .rto_init_us = 500000 };
	up_ctx *c = mk_route(rt, &cfg, true);
	res r = { .policy = P_PLAIN };
	uint64_t t0 = mono_us();
	ask(c, S01, 2, &r, "v1.example.", 0);
	run(c, &r.done, 2000000);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.server[0], 1);
	assert_false(r.tls[0]);
	assert_int_equal(r.transport[0], UP_UDP);
	assert_true(mono_us() - t0 < 400000); /* no timeout was waited for */
	run(NULL, NULL, 20000);                /* the fake notices the abort */
	assert_int_equal(a.accepts, 1);
	assert_int_equal(a.handshakes, 0);
	assert_int_equal(a.tcp_q, 0);          /* not one query went out */
	assert_int_equal(a.udp_q, 0);
	up_stats s = st(c, 0);
	assert_int_equal(s.tls_failures, 1);
	assert_int_equal(s.tls_handshakes, 0);
	assert_true(s.errors >= 1);
	assert_int_equal(s.consec_timeouts, 1); /* counts toward "down" */
	/* within the back-off: the attempt fails without connecting */
	res r2 = { .policy = P_PLAIN };
	ask(c, S0, 1, &r2, "v2.example.", 0);
	run(c, &r2.done, 2000000);
	assert_int_equal(r2.n, 0);
	assert_int_equal(r2.end_reason, UP_END_TIMEOUT);
	assert_true(r2.done);
	assert_int_equal(a.accepts, 1);
	/* after it: a new connection, failing again; three in a row: down */
	for (int i = 0; i < 2; i++) {
		run(c, NULL, (uint64_t)(250000u << i) + 20000);
		res r3 = { .policy = P_PLAIN };
		ask(c, S0, 1, &r3, "v3.example.", 0);
		run(c, &r3.done, 2000000);
		assert_int_equal(r3.n, 0);
	}
	run(NULL, NULL, 20000);
	assert_int_equal(a.accepts, 3);
	s = st(c, 0);
	assert_int_equal(s.tls_failures, 3);
	assert_true(s.down);
	upstream_free(c);
	route_free(rt);
	fake_tls_close(&a);
	fake_close(&b);
}

/* The defence's escalation (UP_QF_PREFER_TLS): a route's TLS upstream is
 * asked first, though the plain one comes first otherwise. */
static void test_prefer_tls(void **state)
{
	(void)state;
	static const uint16_t S10[] = { 1, 0 };
	fake a, b;
	fake_open(&a, F_ANSWER);
	fake_tls(&a);
	fake_open(&b, F_ANSWER);
	route *rt = tls_route(&a, "dot.test", &b);
	up_config cfg = { .rto_init_us = 500000 };
	up_ctx *c = mk_route(rt, &cfg, true);
	res r = { .policy = P_PLAIN };
	ask(c, S10, 2, &r, "p1.example.", UP_QF_TCP);
	run(c, &r.done, 2000000);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.server[0], 1);
	assert_false(r.tls[0]);
	res r2 = { .policy = P_PLAIN };
	ask(c, S10, 2, &r2, "p2.example.", UP_QF_TCP | UP_QF_PREFER_TLS);
	run(c, &r2.done, 2000000);
	assert_int_equal(r2.n, 1);
	assert_int_equal(r2.server[0], 0);
	assert_true(r2.tls[0]);
	assert_int_equal(r2.transport[0], UP_TCP);
	upstream_free(c);
	route_free(rt);
	fake_tls_close(&a);
	fake_close(&b);
}

static void test_tls_server_closes(void **state)
{
	(void)state;
	/* the server drops the connection with a query pending (a restart):
	 * the attempt fails, the retry reconnects and is answered */
	fake f;
	fake_open(&f, F_DROP);
	fake_tls(&f);
	route *rt = tls_route(&f, "", NULL); /* verified by IP address */
	up_config cfg = { 0 };
	up_ctx *c = mk_route(rt, &cfg, true);
	res r = { .policy = P_PLAIN };
	ask(c, S0, 1, &r, "c1.example.", 0);
	while (f.tcp_q == 0)
		run(c, NULL, 10000);
	assert_int_equal(f.handshakes, 1);
	f.mode = F_ANSWER;
	for (int i = 0; i < 4; i++)
		if (f.conn[i] >= 0)
			fake_drop_conn(&f, i);
	run(c, &r.done, 2000000);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.attempt[0], 1);
	assert_true(r.tls[0]);
	assert_int_equal(f.accepts, 2);
	up_stats s = st(c, 0);
	assert_int_equal(s.tls_handshakes, 2);
	assert_int_equal(s.tls_failures, 0); /* it worked before: no back-off */
	assert_int_equal(s.errors, 2);       /* the attempt, the connection */
	/* an idle connection the server closes (without close_notify) is no
	 * failure; the next query reconnects */
	for (int i = 0; i < 4; i++)
		if (f.conn[i] >= 0)
			fake_drop_conn(&f, i);
	run(c, NULL, 50000);
	res r2 = { .policy = P_PLAIN };
	ask(c, S0, 1, &r2, "c2.example.", 0);
	run(c, &r2.done, 2000000);
	assert_int_equal(r2.n, 1);
	assert_int_equal(r2.attempt[0], 0);
	assert_int_equal(f.accepts, 3);
	s = st(c, 0);
	assert_int_equal(s.errors, 2);
	assert_int_equal(s.tls_handshakes, 3);
	upstream_free(c);
	route_free(rt);
	fake_tls_close(&f);
}

static void test_tls_bad_ca(void **state)
{
	(void)state;
	fake f;
	fake_open(&f, F_ANSWER);
	route *rt = tls_route(&f, "dot.test", NULL);
	assert_int_equal(route_set_tls(rt, "/nonexistent/ca.pem", false), 0);
	up_config cfg = { 0 };
	cfg.servers = route_servers(rt);
	cfg.nservers = 1;
	assert_null(upstream_new(&cfg, &LOOP)); /* logged */
	/* a plain list that merely shares the address stays plain */
	net_addr plain[1] = { f.addr };
	route *rt2 = route_new();
	assert_int_equal(route_add_default(rt2, &f.addr), 0);
	route_free(rt);
	cfg.servers = plain;
	up_ctx *c = upstream_new(&cfg, &LOOP);
	assert_non_null(c);
	assert_false(st(c, 0).tls);
	res r = { .policy = P_PLAIN };
	ask(c, S0, 1, &r, "p.example.", 0);
	run(c, &r.done, 2000000);
	assert_int_equal(r.transport[0], UP_UDP);
	assert_false(r.tls[0]);
	upstream_free(c);
	route_free(rt2);
	fake_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_port_random),
		cmocka_unit_test(test_mismatch),
		cmocka_unit_test(test_0x20),
		cmocka_unit_test(test_cookie),
		cmocka_unit_test(test_badcookie),
		cmocka_unit_test(test_multi_reply),
		cmocka_unit_test(test_ipv6_hoplimit),
		cmocka_unit_test(test_tc_tcp),
		cmocka_unit_test(test_add_server),
		cmocka_unit_test(test_tcp_pipeline),
		cmocka_unit_test(test_tcp_failure),
		cmocka_unit_test(test_timeout_failover),
		cmocka_unit_test(test_upstream_burst_not_down),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_servfail_refused),
		cmocka_unit_test(test_rtt_order),
		cmocka_unit_test(test_slots_and_finish),
		cmocka_unit_test(test_set_timer),
		cmocka_unit_test(test_tls_pipeline),
		cmocka_unit_test(test_tls_verify_failover),
		cmocka_unit_test(test_prefer_tls),
		cmocka_unit_test(test_tls_server_closes),
		cmocka_unit_test(test_tls_bad_ca),
	};
	return cmocka_run_group_tests(tests, tls_group_setup, tls_group_teardown);
}
