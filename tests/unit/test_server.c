/* test_server — the UDP/TCP server core over real loopback sockets. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dns/err.h"
#include "net/addr.h"
#include "net/server.h"

/* Requests are DNS-header-like: id(2) flags(2) ...; byte 3 selects a
 * behaviour of the echo handler. */
#define OP_ECHO 0x00
#define OP_DROP 0xdd
#define OP_BIG 0xbb /* respond with (req[4] << 8 | req[5]) bytes */
#define OP_DEFER 0xde /* echo (req[4] << 8 | req[5]) ms later (async tests) */

#define CTX_MAGIC 0x5e7e7u

typedef struct wctx {
	unsigned magic, worker, index;
	enum server_thread_kind kind;
	atomic_int busy; /* > 1: the handler ran concurrently on this context */
} wctx;

static enum server_udp_mode g_udp_mode; /* the mode every test runs in */

static atomic_int g_bad_ctx, g_ctx_made, g_ctx_freed, g_reloads, g_ctx_fail_at = -1;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static net_addr g_local, g_peer;
static enum server_transport g_transport;

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int echo_respond(server_query *q);
static int defer_query(server_query *q);

static int echo_handler(void *ctx, server_query *q)
{
	wctx *c = ctx;
	if (!c || c->magic != CTX_MAGIC || c->worker != q->worker || c->index != q->thread ||
	    q->resp_max != SERVER_MSG_MAX)
		atomic_fetch_add(&g_bad_ctx, 1);
	/* TCP is answered in event threads; UDP in UDP threads unless in epoll mode */
	enum server_thread_kind want = q->transport == SERVER_TCP || g_udp_mode == SERVER_UDP_EPOLL
		? SERVER_THREAD_EVENT : SERVER_THREAD_UDP;
	if (c && c->kind != want)
		atomic_fetch_add(&g_bad_ctx, 1);
	if (c && atomic_fetch_add(&c->busy, 1) != 0)
		atomic_fetch_add(&g_bad_ctx, 1);
	int r = echo_respond(q);
	if (c)
		atomic_fetch_sub(&c->busy, 1);
	return r;
}

static int echo_respond(server_query *q)
{
	pthread_mutex_lock(&g_lock);
	g_local = *q->local;
	g_peer = *q->peer;
	g_transport = q->transport;
	pthread_mutex_unlock(&g_lock);
	if (q->req_len >= 4 && q->req[3] == OP_DROP)
		return SERVER_DROP;
	if (q->req_len >= 6 && q->req[3] == OP_DEFER)
		return defer_query(q);
	if (q->req_len >= 6 && q->req[3] == OP_BIG) {
		size_t n = (size_t)q->req[4] << 8 | q->req[5];
		memset(q->resp, 0x5a, n);
		memcpy(q->resp, q->req, 6);
		q->resp[2] |= 0x80;
		return (int)n;
	}
	if (q->req_len == 0)
		return SERVER_DROP;
	memcpy(q->resp, q->req, q->req_len);
	if (q->req_len > 2)
		q->resp[2] |= 0x80;
	return (int)q->req_len;
}

static int ctx_new(void *app, const server_thread *t, void **out)
{
	(void)app;
	if ((int)t->index == atomic_load(&g_ctx_fail_at))
		return DNS_ENOMEM;
	wctx *c = malloc(sizeof(*c));
	if (!c)
		return DNS_ENOMEM;
	c->magic = CTX_MAGIC;
	c->worker = t->worker;
	c->index = t->index;
	c->kind = t->kind;
	atomic_init(&c->busy, 0);
	*out = c;
	atomic_fetch_add(&g_ctx_made, 1);
	return 0;
}

static void ctx_free(void *app, const server_thread *t, void *ctx)
{
	(void)app;
	wctx *c = ctx;
	if (c->worker != t->worker || c->index != t->index || c->kind != t->kind)
		atomic_fetch_add(&g_bad_ctx, 1);
	free(c);
	atomic_fetch_add(&g_ctx_freed, 1);
}

static void on_reload(void *app)
{
	(void)app;
	atomic_fetch_add(&g_reloads, 1);
}

/* ---------- running a server in a thread ---------- */

typedef struct run {
	server *s;
	pthread_t th;
	int rc;
	net_addr v4, v6;
	bool has_v6;
} run;

static bool v6_ok(void)
{
	int fd = socket(AF_INET6, SOCK_DGRAM, 0);
	if (fd < 0)
		return false;
	net_addr a;
	addr_parse(&a, "[::1]:0", 0, NULL, 0);
	bool ok = bind(fd, &a.u.sa, a.len) == 0;
	close(fd);
	return ok;
}

static server_config base_cfg(net_addr *addrs, size_t *n)
{
	*n = 0;
	addr_parse(&addrs[(*n)++], "127.0.0.1:0", 0, NULL, 0);
	if (v6_ok())
		addr_parse(&addrs[(*n)++], "[::1]:0", 0, NULL, 0);
	server_config cfg = {
		.listen = addrs, .nlisten = *n, .threads = 2, .handler = echo_handler,
		.ctx_new = ctx_new, .ctx_free = ctx_free, .reload = on_reload,
		.udp_mode = g_udp_mode,
	};
	return cfg;
}

static void *run_main(void *p)
{
	run *r = p;
	r->rc = server_run(r->s);
	return NULL;
}

static void start(run *r, const server_config *cfg)
{
	memset(r, 0, sizeof(*r));
	atomic_store(&g_bad_ctx, 0);
	atomic_store(&g_ctx_made, 0);
	atomic_store(&g_ctx_freed, 0);
	atomic_store(&g_reloads, 0);
	r->s = server_new(cfg);
	assert_non_null(r->s);
	int rc = server_bind(r->s);
	if (rc)
		fail_msg("server_bind: %s", server_error(r->s));
	r->v4 = *server_bound_addr(r->s, 0);
	assert_int_not_equal(addr_port(&r->v4), 0);
	if (cfg->nlisten > 1) {
		r->v6 = *server_bound_addr(r->s, 1);
		r->has_v6 = true;
		assert_int_not_equal(addr_port(&r->v6), 0);
	}
	assert_null(server_bound_addr(r->s, cfg->nlisten));
	assert_int_equal(pthread_create(&r->th, NULL, run_main, r), 0);
}

static void finish(run *r)
{
	server_stop(r->s);
	assert_int_equal(pthread_join(r->th, NULL), 0);
	assert_int_equal(r->rc, 0);
	assert_int_equal(atomic_load(&g_bad_ctx), 0);
	assert_int_equal(atomic_load(&g_ctx_made), atomic_load(&g_ctx_freed));
	server_free(r->s);
}

/* ---------- clients ---------- */

static void put_hdr(uint8_t *p, uint16_t id, uint8_t op)
{
	memset(p, 0, 12);
	p[0] = (uint8_t)(id >> 8);
	p[1] = (uint8_t)id;
	p[2] = 0x01;
	p[3] = op;
}

static int udp_sock(const net_addr *to)
{
	int fd = socket(addr_family(to), SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	int big = 1 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	return fd;
}

static void udp_send(int fd, const net_addr *to, const uint8_t *msg, size_t len)
{
	assert_int_equal(sendto(fd, msg, len, 0, &to->u.sa, to->len), (ssize_t)len);
}

/* Returns the datagram's length, or -1 on timeout. */
static int udp_recv(int fd, uint8_t *buf, size_t cap, int timeout_ms, net_addr *from)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, timeout_ms) <= 0)
		return -1;
	net_addr f;
	socklen_t fl = sizeof(f.u);
	ssize_t n = recvfrom(fd, buf, cap, 0, &f.u.sa, &fl);
	f.len = fl;
	if (from)
		*from = f;
	return (int)n;
}

static void udp_roundtrip(const net_addr *to, uint16_t id)
{
	int fd = udp_sock(to);
	uint8_t q[12], r[512];
	put_hdr(q, id, OP_ECHO);
	udp_send(fd, to, q, sizeof(q));
	net_addr from;
	int n = udp_recv(fd, r, sizeof(r), 2000, &from);
	assert_int_equal(n, 12);
	assert_int_equal(r[0] << 8 | r[1], id);
	assert_int_equal(r[2], 0x81);
	assert_true(addr_equal(&from, to));
	close(fd);
}

static int tcp_connect(const net_addr *to)
{
	int fd = socket(addr_family(to), SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, &to->u.sa, to->len), 0);
	return fd;
}

static void send_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		assert_true(w > 0);
		p += w;
		n -= (size_t)w;
	}
}

/* Reads exactly n bytes: returns n, 0 on EOF/reset, -1 on timeout. */
static int read_exact(int fd, uint8_t *buf, size_t n, int timeout_ms)
{
	size_t got = 0;
	uint64_t end = mono_ms() + (uint64_t)timeout_ms;
	while (got < n) {
		int64_t left = (int64_t)(end - mono_ms());
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return -1;
		ssize_t r = recv(fd, buf + got, n - got, 0);
		if (r <= 0)
			return 0;
		got += (size_t)r;
	}
	return (int)n;
}

/* Reads one framed message: its length, 0 on EOF, -1 on timeout. */
static int tcp_read_msg(int fd, uint8_t *buf, size_t cap, int timeout_ms)
{
	uint8_t l[2];
	int r = read_exact(fd, l, 2, timeout_ms);
	if (r <= 0)
		return r;
	size_t n = (size_t)l[0] << 8 | l[1];
	assert_true(n <= cap);
	r = read_exact(fd, buf, n, timeout_ms);
	return r <= 0 ? -1 : r;
}

/* True when the peer closes within timeout_ms (EOF or reset). */
static bool tcp_closed(int fd, int timeout_ms)
{
	uint8_t b[4096];
	uint64_t end = mono_ms() + (uint64_t)timeout_ms;
	for (;;) {
		int64_t left = (int64_t)(end - mono_ms());
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return false;
		ssize_t r = recv(fd, b, sizeof(b), 0);
		if (r <= 0)
			return true;
	}
}

static size_t frame(uint8_t *p, uint16_t id, uint8_t op)
{
	p[0] = 0;
	p[1] = 12;
	put_hdr(p + 2, id, op);
	return 14;
}

static void expect_echo(int fd, uint16_t id)
{
	uint8_t r[512];
	int n = tcp_read_msg(fd, r, sizeof(r), 2000);
	assert_int_equal(n, 12);
	assert_int_equal(r[0] << 8 | r[1], id);
	assert_int_equal(r[2], 0x81);
}

static server_stats stats(run *r)
{
	server_stats st;
	server_read_stats(r->s, &st);
	return st;
}

/* Waits until pred holds on the stats, up to timeout_ms. */
#define WAIT_STATS(r, cond, timeout_ms)                                       \
	do {                                                                  \
		uint64_t end_ = mono_ms() + (timeout_ms);                     \
		server_stats ws;                                              \
		for (;;) {                                                    \
			ws = stats(r);                                        \
			if (cond)                                             \
				break;                                        \
			if (mono_ms() > end_)                                 \
				fail_msg("timed out waiting for %s", #cond);  \
			usleep(5000);                                         \
		}                                                             \
	} while (0)

/* ---------- tests ---------- */

static void test_udp_echo(void **state)
{
	(void)state;
	net_addr addrs[2];
	size_t n;
	server_config cfg = base_cfg(addrs, &n);
	run r;
	start(&r, &cfg);
	assert_int_equal(server_threads(r.s), 2);
	for (uint16_t id = 1; id <= 20; id++) {
		udp_roundtrip(&r.v4, id);
		if (r.has_v6)
			udp_roundtrip(&r.v6, (uint16_t)(1000 + id));
	}
	uint64_t want = r.has_v6 ? 40 : 20;
	WAIT_STATS(&r, ws.responses == want, 2000); /* counted after sendmmsg returns */
	server_stats st = stats(&r);
	assert_int_equal(st.udp_queries, want);
	assert_int_equal(st.queries, want);
	assert_int_equal(st.responses, want);
	assert_int_equal(st.tcp_queries, 0);
	assert_int_equal(st.dropped, 0);
	pthread_mutex_lock(&g_lock);
	assert_int_equal(g_transport, SERVER_UDP);
	assert_true(addr_equal(&g_local, r.has_v6 ? &r.v6 : &r.v4));
	assert_int_equal(addr_family(&g_peer), r.has_v6 ? AF_INET6 : AF_INET);
	pthread_mutex_unlock(&g_lock);
	finish(&r);
}

static void test_udp_drop_and_odd_sizes(void **state)
{
	(void)state;
	net_addr addrs[2];
	size_t n;
	server_config cfg = base_cfg(addrs, &n);
	cfg.nlisten = 1;
	run r;
	start(&r, &cfg);
	int fd = udp_sock(&r.v4);
	uint8_t q[12], b[65536];
	put_hdr(q, 7, OP_DROP);
	udp_send(fd, &r.v4, q, sizeof(q));
	assert_int_equal(udp_recv(fd, b, sizeof(b), 200, NULL), -1);
	/* empty datagram: handler sees req_len 0 and drops */
	udp_send(fd, &r.v4, q, 0);
	assert_int_equal(udp_recv(fd, b, sizeof(b), 200, NULL), -1);
	/* one byte: echoed unchanged */
	udp_send(fd, &r.v4, (const uint8_t *)"x", 1);
	assert_int_equal(udp_recv(fd, b, sizeof(b), 2000, NULL), 1);
	assert_int_equal(b[0], 'x');
	/* a large datagram and a large response */
	static uint8_t big[65000];
	memset(big, 0x33, sizeof(big));
	put_hdr(big, 9, OP_ECHO);
	udp_send(fd, &r.v4, big, sizeof(big));
	assert_int_equal(udp_recv(fd, b, sizeof(b), 2000, NULL), (int)sizeof(big));
	assert_int_equal(b[2], 0x81);
	assert_int_equal(b[64999], 0x33);
	put_hdr(q, 10, OP_BIG);
	q[4] = 0xfd; /* 65000 bytes */
	q[5] = 0xe8;
	udp_send(fd, &r.v4, q, sizeof(q));
	assert_int_equal(udp_recv(fd, b, sizeof(b), 2000, NULL), 65000);
	WAIT_STATS(&r, ws.responses == 3, 2000);
	server_stats st = stats(&r);
	assert_int_equal(st.udp_queries, 5);
	assert_int_equal(st.dropped, 2);
	assert_int_equal(st.responses, 3);
	close(fd);
	finish(&r);
}

/* Bursts: many datagrams from many sockets before reading any reply, so
 * recvmmsg returns full batches and sendmmsg sends them. */
static void test_udp_burst(void **state)
{
	(void)state;
	net_addr addrs[2];
	size_t n;
	server_config cfg = base_cfg(addrs, &n);
	cfg.nlisten = 1;
	cfg.threads = 3;
	run r;
	start(&r, &cfg);
	enum { NS = 16, PER = 40 };
	int fds[NS];
	uint8_t q[12], b[512];
	for (int i = 0; i < NS; i++)
		fds[i] = udp_sock(&r.v4);
	for (int k = 0; k < PER; k++)
		for (int i = 0; i < NS; i++) {
			put_hdr(q, (uint16_t)(i * PER + k), OP_ECHO);
			udp_send(fds[i], &r.v4, q, sizeof(q));
		}
	for (int i = 0; i < NS; i++) {
		for (int k = 0; k < PER; k++) {
			int m = udp_recv(fds[i], b, sizeof(b), 2000, NULL);
			assert_int_equal(m, 12);
			assert_int_equal(b[0] << 8 | b[1], i * PER + k); /* one flow stays ordered */
		}
		close(fds[i]);
	}
	WAIT_STATS(&r, ws.responses == NS * PER, 2000);
	finish(&r);
}

/* Packet info path: the handler sees the real destination and the reply
 * comes from it. */
static void test_udp_pktinfo(void **state)
{
	(void)state;
	net_addr addrs[2];
	size_t n;
	server_config cfg = base_cfg(addrs, &n);
	cfg.udp_pktinfo = true;
	run r;
	start(&r, &cfg);
	udp_roundtrip(&r.v4, 1);
	pthread_mutex_lock(&g_lock);
	assert_true(addr_equal(&g_local, &r.v4));
	pthread_mutex_unlock(&g_lock);
	int fd = tcp_connect(&r.v4); /* TCP: getsockname path */
	uint8_t buf[64];
	send_all(fd, buf, frame(buf, 3, OP_ECHO));
	expect_echo(fd, 3);
	close(fd);
	pthread_mutex_lock(&g_lock);
	assert_int_equal(g_transport, SERVER_TCP);
	assert_true(addr_equal(&g_local, &r.v4));
	pthread_mutex_unlock(&g_lock);
	if (r.has_v6) {
		udp_roundtrip(&r.v6, 2);
		pthread_mutex_lock(&g_lock);
		assert_true(addr_equal(&g_local, &r.v6));
		pthread_mutex_unlock(&g_lock);
	}
	finish(&r);
}

static void test_tcp_echo_pipelined(void **state)
{
	(void)state;
	net_addr addrs[2];
	size_t n;
	server_config cfg = base_cfg(addrs, &n);
	run r;
	start(&r, &cfg);
	for (size_t a = 0; a < (r.has_v6 ? 2u : 1u); a++) {
		const net_addr *to = a ? &r.v6 : &r.v4;
		int fd = tcp_connect(to);
		uint8_t buf[14 * 100];
		size_t len = frame(buf, 42, OP_ECHO);
		send_all(fd, buf, len);
		expect_echo(fd, 42);
		/* 100 queries in one write, answered in order */
		len = 0;
		for (uint16_t i = 0; i < 100; i++)
			len += frame(buf + len, (uint16_t)(500 + i), OP_ECHO);
		send_all(fd, buf, len);
		for (uint16_t i = 0; i < 100; i++)
			expect_echo(fd, (uint16_t)(500 + i));
		pthread_mutex_lock(&g_lock);
		assert_int_equal(g_transport, SERVER_TCP);
		assert_true(addr_equal(&g_local, to));
		pthread_mutex_unlock(&g_lock);
		close(fd);
	}
	server_stats st = stats(&r);
	assert_int_equal(st.tcp_queries, r.has_v6 ? 202 : 101);
	assert_int_equal(st.tcp_accepted, r.has_v6 ? 2 : 1);
	WAIT_STATS(&r, ws.tcp_open == 0, 2000);
	finish(&r);
}

/* Messages split at every byte, including inside the length prefix, and a
 * message split across writes together with the start of the next. */
static void test_tcp_split(void **state)
{
	(void)state;
	net_addr addrs[2];
	size_t n;
	server_config cfg = base_cfg(addrs, &n);
	cfg.nlisten = 1;
	run r;
	start(&r, &cfg);
	int fd = tcp_connect(&r.v4);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	uint8_t buf[64];
	size_t len = frame(buf, 77, OP_ECHO);
	for (size_t i = 0; i < len; i++) {
		send_all(fd, buf + i, 1);
		usleep(2000);
	}
	expect_echo(fd, 77);
	len = frame(buf, 78, OP_ECHO);
	len += frame(buf + len, 79, OP_ECHO);
	send_all(fd, buf, 20); /* first message and 6 bytes of the second */
	expect_echo(fd, 78);
	usleep(20000);
	send_all(fd, buf + 20, len - 20);
	expect_echo(fd, 79);
	/* a message larger than the connection's first buffer */
	static uint8_t big[2 + 65535];
	big[0] = 0xff;
	big[1] = 0xff;
	memset(big + 2, 0x44, 65535);
	put_hdr(big + 2, 80, OP_ECHO);
	send_all(fd, big, 3000);
	usleep(10000);
	send_all(fd, big + 3000, sizeof(big) - 3000);
	static uint8_t resp[65535];
	assert_int_equal(tcp_read_msg(fd, resp, sizeof(resp), 3000), 65535);
	assert_int_equal(resp[2], 0x81);
	assert_int_equal(resp[65534], 0x44);
	assert_int_equal(resp[0] << 8 | resp[1], 80);
	close(fd);
	finish(&r);
}

static void test_tcp_close_cases(void **state)
{
	(void)state;
	net_addr addrs[2];
	size_t n;
	server_config cfg = base_cfg(addrs, &n);
	cfg.nlisten = 1;
	cfg.threads = 1; /* one accept queue: every earlier connection is accepted before the last */
	run r;
	start(&r, &cfg);
	uint8_t buf[64];
	size_t len;

	/* zero-length message closes; the query before it is answered */
	int fd = tcp_connect(&r.v4);
	len = frame(buf, 1, OP_ECHO);
	buf[len++] = 0;
	buf[len++] = 0;
	len += frame(buf + len, 2, OP_ECHO);
	send_all(fd, buf, len);
	expect_echo(fd, 1);
	assert_true(tcp_closed(fd, 2000));
	close(fd);

	/* handler DROP closes after the answers queued before it */
	fd = tcp_connect(&r.v4);
	len = frame(buf, 3, OP_ECHO);
	len += frame(buf + len, 4, OP_DROP);
	len += frame(buf + len, 5, OP_ECHO);
	send_all(fd, buf, len);
	expect_echo(fd, 3);
	assert_true(tcp_closed(fd, 2000));
	close(fd);

	/* length announces more than is sent, then the client closes */
	fd = tcp_connect(&r.v4);
	buf[0] = 0;
	buf[1] = 100;
	memset(buf + 2, 0, 10);
	send_all(fd, buf, 12);
	close(fd);

	/* half close: the query is answered, then the server closes */
	fd = tcp_connect(&r.v4);
	len = frame(buf, 6, OP_ECHO);
	len += frame(buf + len, 7, OP_ECHO);
	send_all(fd, buf, len);
	shutdown(fd, SHUT_WR);
	expect_echo(fd, 6);
	expect_echo(fd, 7);
	assert_true(tcp_closed(fd, 2000));
	close(fd);

	/* reset by the peer with answers pending */
	fd = tcp_connect(&r.v4);
	len = frame(buf, 8, OP_ECHO);
	send_all(fd, buf, len);
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);

	/* the server is fine */
	fd = tcp_connect(&r.v4);
	len = frame(buf, 9, OP_ECHO);
	send_all(fd, buf, len);
	expect_echo(fd, 9);
	close(fd);
	WAIT_STATS(&r, ws.tcp_open == 0, 2000);
	server_stats st = stats(&r);
	assert_int_equal(st.tcp_bad_closed, 1);
	assert_true(st.tcp_accepted >= 5 && st.tcp_accepted <= 6); /* the reset one may never be accepted */
	assert_true(st.dropped >= 1);
	finish(&r);
}

static void test_tcp_idle_timeout(void **state)
{
	(void)state;
	net_addr addrs[2];
	size_t n;
	server_config cfg = base_cfg(addrs, &n);
	cfg.nlisten = 1;
	cfg.threads = 1;
	cfg.tcp_idle_ms = 200;
	run r;
	start(&r, &cfg);
	uint8_t buf[64];
	int quiet = tcp_connect(&r.v4);
	int busy = tcp_connect(&r.v4);
	uint64_t t0 = mono_ms();
	/* busy keeps talking every 60 ms for 600 ms: never idle for 200 ms */
	for (uint16_t i = 0; i < 10; i++) {
		send_all(busy, buf, frame(buf, i, OP_ECHO));
		expect_echo(busy, i);
		usleep(60000);
	}
	assert_true(tcp_closed(quiet, 100)); /* long closed by now */
	uint64_t dt = mono_ms() - t0;
	assert_true(dt >= 200);
	send_all(busy, buf, frame(buf, 99, OP_ECHO));
	expect_echo(busy, 99);
	/* now busy goes quiet: closed after ~200 ms, not much later */
	t0 = mono_ms();
	assert_true(tcp_closed(busy, 2000));
	dt = mono_ms() - t0;
	assert_true(dt >= 150 && dt < 1000);
	close(quiet);
	close(busy);
	WAIT_STATS(&r, ws.tcp_open == 0, 1000);
	assert_int_equal(stats(&r).tcp_idle_closed, 2);
	finish(&r);
}

static void test_tcp_max_clients(void **state)
{
	(void)state;
	net_addr addrs[2];
	size_t n;
	server_config cfg = base_cfg(addrs, &n);
	cfg.nlisten = 1;
	cfg.threads = 1;
	cfg.tcp_max_clients = 4;
	run r;
	start(&r, &cfg);
	uint8_t buf[64];
	int fds[6];
	for (int i = 0; i < 6; i++) {
		fds[i] = tcp_connect(&r.v4);
		send_all(fds[i], buf, frame(buf, (uint16_t)i, OP_ECHO));
		expect_echo(fds[i], (uint16_t)i);
	}
	/* the two least recently active were evicted */
	assert_true(tcp_closed(fds[0], 1000));
	assert_true(tcp_closed(fds[1], 1000));
	for (int i = 2; i < 6; i++) {
		send_all(fds[i], buf, frame(buf, (uint16_t)(100 + i), OP_ECHO));
		expect_echo(fds[i], (uint16_t)(100 + i));
	}
	server_stats st = stats(&r);
	assert_int_equal(st.tcp_evicted, 2);
	assert_int_equal(st.tcp_open, 4);
	for (int i = 0; i < 6; i++)
		close(fds[i]);
	finish(&r);
}

static void test_tcp_many(void **state)
{
	(void)state;
	net_addr addrs[2];
	size_t n;
	server_config cfg = base_cfg(addrs, &n);
	cfg.nlisten = 1;
	run r;
	start(&r, &cfg);
	enum { N = 300 };
	int fds[N];
	uint8_t buf[64];
	for (int i = 0; i < N; i++)
		fds[i] = tcp_connect(&r.v4);
	for (int i = 0; i < N; i++)
		send_all(fds[i], buf, frame(buf, (uint16_t)i, OP_ECHO));
	for (int i = 0; i < N; i++)
		expect_echo(fds[i], (uint16_t)i);
	server_stats st = stats(&r);
	assert_int_equal(st.tcp_open, N);
	assert_int_equal(st.tcp_queries, N);
	for (int i = 0; i < N; i++)
		close(fds[i]);
	WAIT_STATS(&r, ws.tcp_open == 0, 3000);
	finish(&r); /* also with connections open: see test_stop_fast */
}

/* A client that sends but never reads: the server stops processing once the
 * pending output reaches tcp_out_max, the connection makes no progress and
 * the idle timeout closes it; the worker keeps serving others meanwhile. */
static void test_tcp_backpressure(void **state)
{
	(void)state;
	net_addr addrs[2];
	size_t n;
	server_config cfg = base_cfg(addrs, &n);
	cfg.nlisten = 1;
	cfg.threads = 1;
	cfg.tcp_idle_ms = 300;
	cfg.tcp_out_max = 1;
	run r;
	start(&r, &cfg);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int small = 4096;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	assert_int_equal(connect(fd, &r.v4.u.sa, r.v4.len), 0);
	/* 200 queries, each asking for a 60000-byte answer: 12 MB */
	uint8_t buf[14 * 200];
	size_t len = 0;
	for (uint16_t i = 0; i < 200; i++) {
		size_t k = frame(buf + len, i, OP_BIG);
		buf[len + 6] = 0xea; /* 60000 */
		buf[len + 7] = 0x60;
		len += k;
	}
	send_all(fd, buf, len);
	/* meanwhile the same worker answers others */
	usleep(50000);
	udp_roundtrip(&r.v4, 1);
	int other = tcp_connect(&r.v4);
	send_all(other, buf, frame(buf, 5, OP_ECHO));
	expect_echo(other, 5);
	close(other);
	WAIT_STATS(&r, ws.tcp_idle_closed >= 1, 3000);
	server_stats st = stats(&r);
	assert_true(st.tcp_queries < 200 + 1); /* never all processed */
	assert_true(tcp_closed(fd, 3000));
	close(fd);
	finish(&r);
}

static void test_stop_fast(void **state)
{
	(void)state;
	net_addr addrs[2];
	size_t n;
	server_config cfg = base_cfg(addrs, &n);
	cfg.threads = 4;
	run r;
	start(&r, &cfg);
	int fd = tcp_connect(&r.v4); /* an open connection does not delay stop */
	udp_roundtrip(&r.v4, 1);
	usleep(20000);
	uint64_t t0 = mono_ms();
	server_stop(r.s);
	assert_int_equal(pthread_join(r.th, NULL), 0);
	uint64_t dt = mono_ms() - t0;
	/* well under the UDP threads' 100 ms SO_RCVTIMEO: shutdown() woke them */
	assert_true(dt < 60);
	assert_int_equal(r.rc, 0);
	assert_true(tcp_closed(fd, 1000));
	close(fd);
	/* sockets are closed: the port can be bound again without REUSEPORT */
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(bind(u, &r.v4.u.sa, r.v4.len), 0);
	close(u);
	unsigned per = g_udp_mode == SERVER_UDP_THREADS ? 1 + (unsigned)n : 1;
	assert_int_equal(server_ctx_count(r.s), 4 * per);
	assert_int_equal(atomic_load(&g_ctx_made), 4 * per);
	assert_int_equal(atomic_load(&g_ctx_freed), 4 * per);
	/* stats stay readable after run */
	assert_int_equal(stats(&r).udp_queries, 1);
	assert_int_equal(server_run(r.s), DNS_EINVAL);
	server_free(r.s);

	/* stop before run: run returns at once */
	start(&r, &cfg);
	server_stop(r.s);
	finish(&r);
	/* never run at all */
	server *s = server_new(&cfg);
	assert_int_equal(server_bind(s), 0);
	server_free(s);
}

static void test_reload_and_signals(void **state)
{
	(void)state;
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	/* blocked in this thread too, so the process-directed signals reach the
	 * server's signalfd */
	pthread_sigmask(SIG_BLOCK, &set, &old);
	net_addr addrs[2];
	size_t n;
	server_config cfg = base_cfg(addrs, &n);
	cfg.handle_signals = true;
	run r;
	start(&r, &cfg);
	udp_roundtrip(&r.v4, 1);
	server_reload(r.s);
	uint64_t end = mono_ms() + 2000;
	while (atomic_load(&g_reloads) < 1 && mono_ms() < end)
		usleep(2000);
	assert_int_equal(atomic_load(&g_reloads), 1);
	kill(getpid(), SIGHUP);
	end = mono_ms() + 2000;
	while (atomic_load(&g_reloads) < 2 && mono_ms() < end)
		usleep(2000);
	assert_int_equal(atomic_load(&g_reloads), 2);
	udp_roundtrip(&r.v4, 2); /* still answering */
	uint64_t t0 = mono_ms();
	kill(getpid(), SIGTERM);
	assert_int_equal(pthread_join(r.th, NULL), 0);
	assert_true(mono_ms() - t0 < 100);
	assert_int_equal(r.rc, 0);
	assert_int_equal(atomic_load(&g_ctx_freed), atomic_load(&g_ctx_made));
	server_free(r.s);

	/* SIGINT stops too */
	start(&r, &cfg);
	kill(getpid(), SIGINT);
	assert_int_equal(pthread_join(r.th, NULL), 0);
	assert_int_equal(r.rc, 0);
	server_free(r.s);
	/* every signal sent was consumed by the server */
	sigset_t pend;
	sigpending(&pend);
	assert_false(sigismember(&pend, SIGHUP));
	assert_false(sigismember(&pend, SIGTERM));
	assert_false(sigismember(&pend, SIGINT));
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void expect_bind_fail(const net_addr *a, bool no_udp, const char *want)
{
	server_config cfg = { .listen = a, .nlisten = 1, .threads = 2,
			      .handler = echo_handler, .no_udp = no_udp };
	server *s = server_new(&cfg);
	assert_int_equal(server_bind(s), DNS_EIO);
	if (!strstr(server_error(s), want))
		fail_msg("error '%s' lacks '%s'", server_error(s), want);
	server_free(s);
}

static void test_bind_errors(void **state)
{
	(void)state;
	char want[160], as[ADDR_STRLEN];
	/* UDP port held by a plain socket */
	net_addr a;
	addr_parse(&a, "127.0.0.1:0", 0, NULL, 0);
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(bind(u, &a.u.sa, a.len), 0);
	socklen_t l = sizeof(a.u);
	getsockname(u, &a.u.sa, &l);
	snprintf(want, sizeof(want), "cannot bind %s (udp): Address already in use", addr_str(&a, as));
	expect_bind_fail(&a, false, want);
	close(u);

	/* TCP port held by a listener (UDP of that port free) */
	addr_parse(&a, "127.0.0.1:0", 0, NULL, 0);
	int t = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(t, &a.u.sa, a.len), 0);
	assert_int_equal(listen(t, 1), 0);
	l = sizeof(a.u);
	getsockname(t, &a.u.sa, &l);
	int probe = socket(AF_INET, SOCK_DGRAM, 0);
	if (bind(probe, &a.u.sa, a.len) == 0) {
		close(probe);
		snprintf(want, sizeof(want), "cannot bind %s (tcp): Address already in use", addr_str(&a, as));
		expect_bind_fail(&a, false, want);
	} else {
		close(probe);
	}
	close(t);

	/* a running server's port, even for our own user's SO_REUSEPORT */
	net_addr addrs[2];
	size_t n;
	server_config cfg = base_cfg(addrs, &n);
	cfg.nlisten = 1;
	run r;
	start(&r, &cfg);
	snprintf(want, sizeof(want), "cannot bind %s (udp): Address already in use", addr_str(&r.v4, as));
	expect_bind_fail(&r.v4, false, want);
	snprintf(want, sizeof(want), "cannot bind %s (tcp): Address already in use", addr_str(&r.v4, as));
	expect_bind_fail(&r.v4, true, want);
	udp_roundtrip(&r.v4, 3); /* unharmed */
	finish(&r);

	/* privileged port as non-root */
	if (geteuid() != 0) {
		addr_parse(&a, "127.0.0.1:53", 0, NULL, 0);
		expect_bind_fail(&a, false, "cannot bind 127.0.0.1:53 (udp): Permission denied");
	}
	/* an address not on this host */
	addr_parse(&a, "192.0.2.1:5300", 0, NULL, 0);
	expect_bind_fail(&a, false, "cannot bind 192.0.2.1:5300 (udp): Cannot assign requested address");
}

static void test_config_errors(void **state)
{
	(void)state;
	net_addr a[2];
	addr_parse(&a[0], "127.0.0.1:5999", 0, NULL, 0);
	a[1] = a[0];
	struct {
		server_config cfg;
		const char *want;
	} cases[] = {
		{ { .listen = a, .nlisten = 0, .handler = echo_handler }, "no listen address" },
		{ { .listen = a, .nlisten = 1 }, "no handler" },
		{ { .listen = a, .nlisten = 1, .handler = echo_handler, .no_udp = true, .no_tcp = true },
		  "neither UDP nor TCP" },
		{ { .listen = a, .nlisten = 2, .handler = echo_handler }, "127.0.0.1:5999 given twice" },
		{ { .listen = a, .nlisten = 1, .handler = echo_handler, .threads = 100000 }, "too many threads" },
		{ { .listen = a, .nlisten = 1, .handler = echo_handler, .udp_mode = (enum server_udp_mode)7 },
		  "unknown UDP mode 7" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		server *s = server_new(&cases[i].cfg);
		assert_non_null(s);
		assert_int_equal(server_bind(s), DNS_EINVAL);
		if (!strstr(server_error(s), cases[i].want))
			fail_msg("case %zu: '%s' lacks '%s'", i, server_error(s), cases[i].want);
		assert_int_equal(server_run(s), DNS_EINVAL);
		server_free(s);
	}
	net_addr unset;
	memset(&unset, 0, sizeof(unset));
	server_config cfg = { .listen = &unset, .nlisten = 1, .handler = echo_handler };
	server *s = server_new(&cfg);
	assert_int_equal(server_bind(s), DNS_EINVAL);
	assert_non_null(strstr(server_error(s), "not set"));
	server_free(s);
	server_free(NULL);
}

static void test_ctx_failure(void **state)
{
	(void)state;
	net_addr addrs[2];
	size_t n;
	server_config cfg = base_cfg(addrs, &n);
	cfg.threads = 3;
	unsigned per = g_udp_mode == SERVER_UDP_THREADS ? 1 + (unsigned)n : 1;
	atomic_store(&g_ctx_fail_at, (int)(2 * per)); /* worker 2's event thread */
	server *s = server_new(&cfg);
	atomic_store(&g_ctx_made, 0);
	atomic_store(&g_ctx_freed, 0);
	assert_int_equal(server_run(s), DNS_ENOMEM);
	assert_non_null(strstr(server_error(s), "worker 2 (event thread"));
	assert_int_equal(atomic_load(&g_ctx_made), 2 * per);
	assert_int_equal(atomic_load(&g_ctx_freed), 2 * per);
	if (per > 1) { /* and a UDP thread's */
		atomic_store(&g_ctx_fail_at, (int)per + 1);
		server_free(s);
		s = server_new(&cfg);
		atomic_store(&g_ctx_made, 0);
		atomic_store(&g_ctx_freed, 0);
		assert_int_equal(server_run(s), DNS_ENOMEM);
		assert_non_null(strstr(server_error(s), "worker 1 (UDP thread"));
		assert_int_equal(atomic_load(&g_ctx_made), per + 1);
		assert_int_equal(atomic_load(&g_ctx_freed), per + 1);
	}
	server_free(s);
	atomic_store(&g_ctx_fail_at, -1);
}

static void test_udp_only_tcp_only(void **state)
{
	(void)state;
	net_addr addrs[2];
	size_t n;
	server_config cfg = base_cfg(addrs, &n);
	cfg.nlisten = 1;
	cfg.no_tcp = true;
	run r;
	start(&r, &cfg);
	udp_roundtrip(&r.v4, 1);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(fd, &r.v4.u.sa, r.v4.len), -1);
	close(fd);
	finish(&r);

	cfg.no_tcp = false;
	cfg.no_udp = true;
	cfg.cpu_pin = true;
	start(&r, &cfg);
	fd = tcp_connect(&r.v4);
	uint8_t buf[64];
	send_all(fd, buf, frame(buf, 4, OP_ECHO));
	expect_echo(fd, 4);
	close(fd);
	fd = udp_sock(&r.v4);
	put_hdr(buf, 5, OP_ECHO);
	udp_send(fd, &r.v4, buf, 12);
	assert_int_equal(udp_recv(fd, buf, sizeof(buf), 200, NULL), -1);
	close(fd);
	finish(&r);
}

/* ---------- asynchronous handlers: the test app ----------
 *
 * OP_DEFER queries are answered later: the handler takes a token, hands
 * the query to its worker's event thread (server_post from a UDP thread, or
 * directly when it already runs there), which arms a timer of
 * (req[4] << 8 | req[5]) ms whose callback sends the echo with server_reply.
 * Per worker (made in worker_start, freed in worker_stop): the pending list,
 * a watched UDP socket that echoes with a 'W' in front, and timers checking
 * order and cancellation. */

#define WMAX 8

typedef struct pend {
	server_token tok;
	server_timer timer;
	unsigned worker, ms;
	uint8_t msg[64];
	size_t len;
	struct pend *prev, *next;
} pend;

typedef struct wstate {
	unsigned worker;
	pend *pending;          /* touched by the event thread only */
	int sock, watch;
	net_addr bound;
	server_timer t[5], tp;
	int order[8], norder;
	uint64_t t0, fired_at[5];
	int nper;
	atomic_int timers_done;
} wstate;

static wstate *g_ws[WMAX];
static atomic_int g_started, g_stopped, g_start_fail_at = -1, g_posts_from_udp, g_pend_freed,
	g_reply_notfound, g_reply_ok, g_watch_reads, g_blocking, g_release, g_counted,
	g_stop_posts;

static void pend_unlink(wstate *ws, pend *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		ws->pending = p->next;
	if (p->next)
		p->next->prev = p->prev;
}

static void pend_fire(server *s, unsigned worker, server_timer *t, void *arg)
{
	pend *p = arg;
	if (server_event_worker(s) != (int)worker || t != &p->timer || p->worker != worker)
		atomic_fetch_add(&g_bad_ctx, 1);
	pend_unlink(g_ws[worker], p);
	int rc = server_reply(s, &p->tok, p->msg, p->len);
	if (rc == DNS_ENOTFOUND)
		atomic_fetch_add(&g_reply_notfound, 1);
	else if (rc == 0)
		atomic_fetch_add(&g_reply_ok, 1);
	else
		atomic_fetch_add(&g_bad_ctx, 1);
	free(p);
}

static void pend_arm(server *s, unsigned worker, pend *p)
{
	wstate *ws = g_ws[worker];
	p->prev = NULL;
	p->next = ws->pending;
	if (ws->pending)
		ws->pending->prev = p;
	ws->pending = p;
	if (server_timer_add(s, worker, &p->timer, p->ms, pend_fire, p) < 0)
		atomic_fetch_add(&g_bad_ctx, 1);
}

static void post_arm(server *s, unsigned worker, void *arg)
{
	if (server_event_worker(s) != (int)worker)
		atomic_fetch_add(&g_bad_ctx, 1);
	if (server_stopping(s)) {
		free(arg);
		atomic_fetch_add(&g_pend_freed, 1);
		return;
	}
	pend_arm(s, worker, arg);
}

static int defer_query(server_query *q)
{
	pend *p = calloc(1, sizeof(*p));
	if (!p || q->req_len > sizeof(p->msg) || server_defer(q, &p->tok) < 0) {
		free(p);
		return SERVER_DROP;
	}
	if (p->tok.transport != q->transport || p->tok.worker != q->worker)
		atomic_fetch_add(&g_bad_ctx, 1);
	net_addr peer;
	server_token_peer(&p->tok, &peer);
	if (q->transport == SERVER_UDP && !addr_equal(&peer, q->peer))
		atomic_fetch_add(&g_bad_ctx, 1);
	p->worker = q->worker;
	p->ms = (unsigned)q->req[4] << 8 | q->req[5];
	memcpy(p->msg, q->req, q->req_len);
	p->msg[2] |= 0x80;
	p->len = q->req_len;
	if (server_event_worker(q->srv) == (int)q->worker) {
		pend_arm(q->srv, q->worker, p);
	} else {
		/* a UDP thread: hand it to the event thread */
		if (server_timer_add(q->srv, q->worker, &p->timer, 1, pend_fire, p) != DNS_EINVAL)
			atomic_fetch_add(&g_bad_ctx, 1);
		if (server_post(q->srv, q->worker, post_arm, p) < 0) {
			free(p);
			return SERVER_DROP;
		}
		atomic_fetch_add(&g_posts_from_udp, 1);
	}
	return SERVER_DEFER;
}

static void watch_cb(server *s, unsigned worker, int fd, uint32_t events, void *arg)
{
	wstate *ws = arg;
	if (server_event_worker(s) != (int)worker || ws != g_ws[worker] || fd != ws->sock ||
	    !(events & EPOLLIN))
		atomic_fetch_add(&g_bad_ctx, 1);
	uint8_t b[256];
	net_addr from;
	for (;;) {
		socklen_t fl = sizeof(from.u);
		ssize_t n = recvfrom(fd, b + 1, sizeof(b) - 1, MSG_DONTWAIT, &from.u.sa, &fl);
		if (n < 0)
			break;
		b[0] = 'W';
		sendto(fd, b, (size_t)n + 1, 0, &from.u.sa, fl);
		atomic_fetch_add(&g_watch_reads, 1);
	}
}

static void order_cb(server *s, unsigned worker, server_timer *t, void *arg)
{
	wstate *ws = g_ws[worker];
	int id = (int)(intptr_t)arg;
	if (server_event_worker(s) != (int)worker || t != &ws->t[id] || server_timer_armed(t))
		atomic_fetch_add(&g_bad_ctx, 1);
	ws->fired_at[id] = mono_ms();
	ws->order[ws->norder++] = id;
	if (ws->norder == 4)
		atomic_store(&ws->timers_done, 1);
}

static void periodic_cb(server *s, unsigned worker, server_timer *t, void *arg)
{
	wstate *ws = arg;
	if (++ws->nper < 5 && server_timer_add(s, worker, t, 0, periodic_cb, ws) < 0)
		atomic_fetch_add(&g_bad_ctx, 1);
}

static const unsigned timer_ms[5] = { 30, 10, 25, 10, 5 };

static int app_start(void *app, server *s, unsigned worker, void *ctx)
{
	(void)app;
	wctx *c = ctx;
	if (!c || c->worker != worker || c->kind != SERVER_THREAD_EVENT ||
	    server_event_worker(s) != (int)worker || worker >= WMAX)
		atomic_fetch_add(&g_bad_ctx, 1);
	if ((int)worker == atomic_load(&g_start_fail_at))
		return DNS_ENOMEM;
	wstate *ws = calloc(1, sizeof(*ws));
	if (!ws)
		return DNS_ENOMEM;
	ws->worker = worker;
	g_ws[worker] = ws;
	ws->sock = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	addr_parse(&ws->bound, "127.0.0.1:0", 0, NULL, 0);
	socklen_t bl = sizeof(ws->bound.u);
	if (ws->sock < 0 || bind(ws->sock, &ws->bound.u.sa, ws->bound.len) < 0 ||
	    getsockname(ws->sock, &ws->bound.u.sa, &bl) < 0)
		return DNS_EIO;
	ws->watch = server_watch(s, worker, ws->sock, EPOLLOUT, watch_cb, ws);
	if (ws->watch < 0 || server_watch_mod(s, worker, ws->watch, EPOLLIN) < 0)
		return DNS_EIO;
	/* timers: 30, 10, 25 (armed at 20 first), 10, 5 (cancelled) */
	ws->t0 = mono_ms();
	for (int i = 0; i < 5; i++)
		if (server_timer_add(s, worker, &ws->t[i], i == 2 ? 20 : timer_ms[i], order_cb,
				     (void *)(intptr_t)i) < 0)
			atomic_fetch_add(&g_bad_ctx, 1);
	if (server_timer_cancel(s, &ws->t[4]) != 1 || server_timer_cancel(s, &ws->t[4]) != 0 ||
	    server_timer_armed(&ws->t[4]) || !server_timer_armed(&ws->t[2]))
		atomic_fetch_add(&g_bad_ctx, 1);
	server_timer_add(s, worker, &ws->t[2], timer_ms[2], order_cb, (void *)2);
	server_timer_add(s, worker, &ws->tp, 0, periodic_cb, ws);
	atomic_fetch_add(&g_started, 1);
	return 0;
}

static void app_stop(void *app, server *s, unsigned worker, void *ctx)
{
	(void)app;
	(void)ctx;
	wstate *ws = g_ws[worker];
	if (server_event_worker(s) != (int)worker || !server_stopping(s) || !ws)
		atomic_fetch_add(&g_bad_ctx, 1);
	if (!ws)
		return;
	while (ws->pending) {
		pend *p = ws->pending;
		pend_unlink(ws, p);
		if (server_timer_cancel(s, &p->timer) != 1)
			atomic_fetch_add(&g_bad_ctx, 1);
		free(p);
		atomic_fetch_add(&g_pend_freed, 1);
	}
	if (server_unwatch(s, worker, ws->watch) != 0 || server_unwatch(s, worker, ws->watch) != DNS_ENOTFOUND)
		atomic_fetch_add(&g_bad_ctx, 1);
	close(ws->sock);
	g_ws[worker] = NULL;
	free(ws);
	atomic_fetch_add(&g_stopped, 1);
}

static server_config async_cfg(net_addr *addrs, size_t *n)
{
	server_config cfg = base_cfg(addrs, n);
	cfg.worker_start = app_start;
	cfg.worker_stop = app_stop;
	atomic_store(&g_started, 0);
	atomic_store(&g_stopped, 0);
	atomic_store(&g_posts_from_udp, 0);
	atomic_store(&g_pend_freed, 0);
	atomic_store(&g_reply_notfound, 0);
	atomic_store(&g_reply_ok, 0);
	atomic_store(&g_watch_reads, 0);
	return cfg;
}

static void wait_started(run *r)
{
	uint64_t end = mono_ms() + 2000;
	while (atomic_load(&g_started) < (int)server_threads(r->s) && mono_ms() < end)
		usleep(1000);
	assert_int_equal(atomic_load(&g_started), server_threads(r->s));
}

static void async_finish(run *r)
{
	unsigned nw = server_threads(r->s);
	finish(r);
	assert_int_equal(atomic_load(&g_stopped), nw);
}

static size_t put_defer(uint8_t *p, uint16_t id, unsigned ms)
{
	put_hdr(p, id, OP_DEFER);
	p[4] = (uint8_t)(ms >> 8);
	p[5] = (uint8_t)ms;
	return 12;
}

static size_t frame_defer(uint8_t *p, uint16_t id, unsigned ms)
{
	p[0] = 0;
	p[1] = 12;
	put_defer(p + 2, id, ms);
	return 14;
}

static void test_async_udp_defer(void **state)
{
	(void)state;
	net_addr addrs[2];
	size_t n;
	server_config cfg = async_cfg(addrs, &n);
	cfg.udp_pktinfo = true; /* late replies carry the source address too */
	run r;
	start(&r, &cfg);
	wait_started(&r);
	for (size_t a = 0; a < (r.has_v6 ? 2u : 1u); a++) {
		const net_addr *to = a ? &r.v6 : &r.v4;
		enum { N = 20 };
		int fds[N];
		uint8_t q[12], b[64];
		uint64_t t0 = mono_ms();
		for (int i = 0; i < N; i++) {
			fds[i] = udp_sock(to);
			udp_send(fds[i], to, q, put_defer(q, (uint16_t)(100 + i), 10));
		}
		int sfd = udp_sock(to); /* a synchronous answer meanwhile */
		put_hdr(q, 7, OP_ECHO);
		udp_send(sfd, to, q, 12);
		assert_int_equal(udp_recv(sfd, b, sizeof(b), 2000, NULL), 12);
		close(sfd);
		for (int i = 0; i < N; i++) {
			net_addr from;
			assert_int_equal(udp_recv(fds[i], b, sizeof(b), 2000, &from), 12);
			assert_int_equal(b[0] << 8 | b[1], 100 + i);
			assert_int_equal(b[2], 0x81);
			assert_true(addr_equal(&from, to));
			close(fds[i]);
		}
		assert_true(mono_ms() - t0 >= 10);
	}
	unsigned want = r.has_v6 ? 40 : 20;
	WAIT_STATS(&r, ws.late_replies == want, 2000);
	server_stats st = stats(&r);
	assert_int_equal(st.deferred, want);
	assert_int_equal(st.late_dropped, 0);
	assert_int_equal(st.responses, r.has_v6 ? 2 : 1);
	if (g_udp_mode == SERVER_UDP_THREADS) { /* handed over by server_post */
		assert_int_equal(atomic_load(&g_posts_from_udp), want);
		assert_true(st.posts >= want);
	}
	assert_int_equal(atomic_load(&g_reply_ok), want);
	async_finish(&r);
}

static void test_async_tcp_defer(void **state)
{
	(void)state;
	net_addr addrs[2];
	size_t n;
	server_config cfg = async_cfg(addrs, &n);
	cfg.nlisten = 1;
	run r;
	start(&r, &cfg);
	wait_started(&r);
	int fd = tcp_connect(&r.v4);
	uint8_t buf[14 * 8];
	size_t len = frame_defer(buf, 1, 60);
	len += frame(buf + len, 2, OP_ECHO);
	len += frame_defer(buf + len, 3, 20);
	len += frame(buf + len, 4, OP_ECHO);
	send_all(fd, buf, len);
	/* synchronous answers in order, deferred ones when they are given */
	expect_echo(fd, 2);
	expect_echo(fd, 4);
	expect_echo(fd, 3);
	expect_echo(fd, 1);
	/* EOF with an answer outstanding: given, then the connection closes */
	len = frame_defer(buf, 5, 30);
	send_all(fd, buf, len);
	shutdown(fd, SHUT_WR);
	expect_echo(fd, 5);
	assert_true(tcp_closed(fd, 2000));
	close(fd);
	/* more deferred than tcp_defer_max (64) on one connection: all answered */
	fd = tcp_connect(&r.v4);
	static uint8_t many[14 * 100];
	len = 0;
	for (uint16_t i = 0; i < 100; i++)
		len += frame_defer(many + len, (uint16_t)(1000 + i), 5);
	send_all(fd, many, len);
	uint8_t seen[100] = { 0 };
	for (int i = 0; i < 100; i++) {
		uint8_t m[64];
		assert_int_equal(tcp_read_msg(fd, m, sizeof(m), 2000), 12);
		int id = (m[0] << 8 | m[1]) - 1000;
		assert_true(id >= 0 && id < 100 && !seen[id]);
		seen[id] = 1;
	}
	close(fd);
	WAIT_STATS(&r, ws.tcp_open == 0, 2000);
	server_stats st = stats(&r);
	assert_int_equal(st.deferred, 103);
	assert_int_equal(st.late_replies, 103);
	assert_int_equal(st.late_dropped, 0);
	async_finish(&r);
}

/* A deferred answer to a connection that was reset, whose slot then serves
 * a new connection: dropped, not sent to the newcomer. */
static void test_async_tcp_closed(void **state)
{
	(void)state;
	net_addr addrs[2];
	size_t n;
	server_config cfg = async_cfg(addrs, &n);
	cfg.nlisten = 1;
	cfg.threads = 1;
	cfg.tcp_max_clients = 1;
	run r;
	start(&r, &cfg);
	wait_started(&r);
	int fd = tcp_connect(&r.v4);
	uint8_t buf[64];
	send_all(fd, buf, frame_defer(buf, 7, 150));
	WAIT_STATS(&r, ws.deferred == 1, 2000);
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
	WAIT_STATS(&r, ws.tcp_open == 0, 2000);
	fd = tcp_connect(&r.v4);
	send_all(fd, buf, frame(buf, 8, OP_ECHO));
	expect_echo(fd, 8);
	WAIT_STATS(&r, ws.late_dropped == 1, 2000);
	assert_int_equal(atomic_load(&g_reply_notfound), 1);
	uint8_t m[64];
	assert_int_equal(tcp_read_msg(fd, m, sizeof(m), 100), -1); /* nothing stale */
	send_all(fd, buf, frame(buf, 9, OP_ECHO));
	expect_echo(fd, 9);
	shutdown(fd, SHUT_WR); /* the newcomer owes nothing: closed at once */
	assert_true(tcp_closed(fd, 1000));
	close(fd);
	assert_int_equal(stats(&r).late_replies, 0);
	async_finish(&r);
}

static void test_async_watch_and_timers(void **state)
{
	(void)state;
	net_addr addrs[2];
	size_t n;
	server_config cfg = async_cfg(addrs, &n);
	cfg.threads = 2;
	run r;
	start(&r, &cfg);
	wait_started(&r);
	/* only the event thread may use these */
	server_timer t = { 0 };
	assert_int_equal(server_timer_add(r.s, 0, &t, 1, order_cb, NULL), DNS_EINVAL);
	assert_false(server_timer_armed(&t));
	assert_int_equal(server_watch(r.s, 0, 0, EPOLLIN, watch_cb, NULL), DNS_EINVAL);
	assert_int_equal(server_unwatch(r.s, 0, 0), DNS_EINVAL);
	assert_int_equal(server_event_worker(r.s), -1);
	server_token tok = { .transport = SERVER_TCP };
	assert_int_equal(server_reply(r.s, &tok, (const uint8_t *)"x", 1), DNS_EINVAL);
	for (unsigned w = 0; w < 2; w++) {
		wstate *ws = g_ws[w];
		assert_non_null(ws);
		int fd = udp_sock(&ws->bound);
		udp_send(fd, &ws->bound, (const uint8_t *)"hello", 5);
		uint8_t b[64];
		assert_int_equal(udp_recv(fd, b, sizeof(b), 2000, NULL), 6);
		assert_memory_equal(b, "Whello", 6);
		close(fd);
		uint64_t end = mono_ms() + 2000;
		while (!atomic_load(&ws->timers_done) && mono_ms() < end)
			usleep(1000);
		assert_true(atomic_load(&ws->timers_done));
		usleep(20000);
		assert_int_equal(ws->norder, 4); /* the cancelled one never fires */
		assert_int_equal(ws->order[0], 1); /* 10 ms, armed before #3 */
		assert_int_equal(ws->order[1], 3); /* 10 ms */
		assert_int_equal(ws->order[2], 2); /* re-armed: 25 ms */
		assert_int_equal(ws->order[3], 0); /* 30 ms */
		for (int i = 0; i < 4; i++)
			assert_true(ws->fired_at[i] - ws->t0 >= timer_ms[i]);
		assert_int_equal(ws->nper, 5);
	}
	assert_int_equal(atomic_load(&g_watch_reads), 2);
	async_finish(&r);
}

static void post_block(server *s, unsigned worker, void *arg)
{
	(void)s;
	(void)worker;
	(void)arg;
	atomic_store(&g_blocking, 1);
	while (!atomic_load(&g_release))
		usleep(1000);
}

static void post_count(server *s, unsigned worker, void *arg)
{
	if (server_event_worker(s) != (int)worker && server_event_worker(s) != -1)
		atomic_fetch_add(&g_bad_ctx, 1);
	if (server_stopping(s))
		atomic_fetch_add(&g_stop_posts, 1);
	atomic_fetch_add(&g_counted, 1);
	free(arg);
}

static void test_async_post(void **state)
{
	(void)state;
	net_addr addrs[2];
	size_t n;
	server_config cfg = async_cfg(addrs, &n);
	cfg.threads = 1;
	cfg.post_queue = 3; /* rounded up to 4 */
	server *idle = server_new(&cfg); /* not running: nothing to post to */
	assert_int_equal(server_post(idle, 0, post_count, NULL), DNS_EINVAL);
	server_free(idle);
	run r;
	start(&r, &cfg);
	wait_started(&r);
	atomic_store(&g_blocking, 0);
	atomic_store(&g_release, 0);
	atomic_store(&g_counted, 0);
	atomic_store(&g_stop_posts, 0);
	assert_int_equal(server_post(r.s, 1, post_count, NULL), DNS_EINVAL);
	assert_int_equal(server_post(r.s, 0, NULL, NULL), DNS_EINVAL);
	assert_int_equal(server_post(r.s, 0, post_block, NULL), 0);
	uint64_t end = mono_ms() + 2000;
	while (!atomic_load(&g_blocking) && mono_ms() < end)
		usleep(1000);
	assert_true(atomic_load(&g_blocking));
	/* the event thread is busy: 4 slots, then full */
	for (int i = 0; i < 4; i++)
		assert_int_equal(server_post(r.s, 0, post_count, malloc(16)), 0);
	assert_int_equal(server_post(r.s, 0, post_count, NULL), DNS_ESPACE);
	atomic_store(&g_release, 1);
	end = mono_ms() + 2000;
	while (atomic_load(&g_counted) < 4 && mono_ms() < end)
		usleep(1000);
	assert_int_equal(atomic_load(&g_counted), 4);
	assert_int_equal(atomic_load(&g_stop_posts), 0);
	server_stats st = stats(&r);
	assert_int_equal(st.post_full, 1);
	assert_int_equal(st.posts, 5);
	/* posts queued when the server stops still run (freeing their argument) */
	atomic_store(&g_release, 0);
	atomic_store(&g_blocking, 0);
	assert_int_equal(server_post(r.s, 0, post_block, NULL), 0);
	end = mono_ms() + 2000;
	while (!atomic_load(&g_blocking) && mono_ms() < end)
		usleep(1000);
	for (int i = 0; i < 3; i++)
		assert_int_equal(server_post(r.s, 0, post_count, malloc(16)), 0);
	server_stop(r.s);
	atomic_store(&g_release, 1);
	assert_int_equal(pthread_join(r.th, NULL), 0);
	assert_int_equal(r.rc, 0);
	assert_int_equal(atomic_load(&g_counted), 7);
	assert_int_equal(atomic_load(&g_stop_posts), 3);
	assert_int_equal(server_post(r.s, 0, post_count, NULL), DNS_EINVAL); /* over */
	assert_int_equal(atomic_load(&g_stopped), 1);
	server_free(r.s);
}

/* Stop with deferred answers pending on UDP and TCP: worker_stop frees them
 * (ASan checks that nothing leaks), nothing crashes, stop is prompt. */
static void test_async_stop_pending(void **state)
{
	(void)state;
	net_addr addrs[2];
	size_t n;
	server_config cfg = async_cfg(addrs, &n);
	cfg.threads = 2;
	run r;
	start(&r, &cfg);
	wait_started(&r);
	int u = udp_sock(&r.v4);
	uint8_t q[64];
	for (int i = 0; i < 10; i++)
		udp_send(u, &r.v4, q, put_defer(q, (uint16_t)i, 10000));
	int t1 = tcp_connect(&r.v4), t2 = tcp_connect(&r.v4);
	for (int i = 0; i < 3; i++) {
		send_all(t1, q, frame_defer(q, (uint16_t)(20 + i), 10000));
		send_all(t2, q, frame_defer(q, (uint16_t)(30 + i), 10000));
	}
	WAIT_STATS(&r, ws.deferred == 16, 2000);
	uint64_t t0 = mono_ms();
	server_stop(r.s);
	assert_int_equal(pthread_join(r.th, NULL), 0);
	assert_true(mono_ms() - t0 < 100);
	assert_int_equal(r.rc, 0);
	/* freed in worker_stop, or (posted but not yet armed) by post_arm */
	assert_int_equal(atomic_load(&g_pend_freed), 16);
	assert_int_equal(atomic_load(&g_reply_ok), 0);
	assert_true(tcp_closed(t1, 1000));
	assert_true(tcp_closed(t2, 1000));
	close(t1);
	close(t2);
	close(u);
	assert_int_equal(atomic_load(&g_bad_ctx), 0);
	assert_int_equal(atomic_load(&g_ctx_made), atomic_load(&g_ctx_freed));
	assert_int_equal(atomic_load(&g_stopped), 2);
	server_free(r.s);
}

static void test_async_start_failure(void **state)
{
	(void)state;
	net_addr addrs[2];
	size_t n;
	server_config cfg = async_cfg(addrs, &n);
	cfg.threads = 3;
	atomic_store(&g_start_fail_at, 1);
	server *s = server_new(&cfg);
	atomic_store(&g_ctx_made, 0);
	atomic_store(&g_ctx_freed, 0);
	assert_int_equal(server_run(s), DNS_ENOMEM);
	assert_non_null(strstr(server_error(s), "worker 1 failed to start"));
	assert_int_equal(atomic_load(&g_stopped), atomic_load(&g_started)); /* stop only after start */
	assert_true(atomic_load(&g_started) <= 2);
	assert_int_equal(atomic_load(&g_ctx_made), atomic_load(&g_ctx_freed));
	server_free(s);
	atomic_store(&g_start_fail_at, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp_echo),
		cmocka_unit_test(test_udp_drop_and_odd_sizes),
		cmocka_unit_test(test_udp_burst),
		cmocka_unit_test(test_udp_pktinfo),
		cmocka_unit_test(test_tcp_echo_pipelined),
		cmocka_unit_test(test_tcp_split),
		cmocka_unit_test(test_tcp_close_cases),
		cmocka_unit_test(test_tcp_idle_timeout),
		cmocka_unit_test(test_tcp_max_clients),
		cmocka_unit_test(test_tcp_many),
		cmocka_unit_test(test_tcp_backpressure),
		cmocka_unit_test(test_stop_fast),
		cmocka_unit_test(test_reload_and_signals),
		cmocka_unit_test(test_bind_errors),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_ctx_failure),
		cmocka_unit_test(test_udp_only_tcp_only),
		cmocka_unit_test(test_async_udp_defer),
		cmocka_unit_test(test_async_tcp_defer),
		cmocka_unit_test(test_async_tcp_closed),
		cmocka_unit_test(test_async_watch_and_timers),
		cmocka_unit_test(test_async_post),
		cmocka_unit_test(test_async_stop_pending),
		cmocka_unit_test(test_async_start_failure),
	};
	g_udp_mode = SERVER_UDP_THREADS;
	int fails = cmocka_run_group_tests_name("udp-threads", tests, NULL, NULL);
	g_udp_mode = SERVER_UDP_EPOLL;
	fails += cmocka_run_group_tests_name("udp-epoll", tests, NULL, NULL);
	return fails;
}
