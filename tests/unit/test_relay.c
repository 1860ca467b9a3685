/* test_relay — the loopback relay: client table expiry and limits with a
 * fresh source port per query, shared-socket ID mapping (IDs restored),
 * per-client sockets, the absolute scenario clock (--epoch-ms), the forged
 * replies' IP TTLs on the wire (copied, fixed, --tune random). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdbool.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dns/err.h"
#include "inject/relay.h"

/* ---- a fake server: echoes each query with QR set ---- */

struct fake {
	int fd;
	uint16_t port;
	volatile int stop;
	pthread_t th;
	unsigned seen;
	uint16_t last_id;
};

static void *fake_main(void *arg)
{
	struct fake *f = arg;
	uint8_t b[600];
	while (!f->stop) {
		struct pollfd p = {.fd = f->fd, .events = POLLIN};
		if (poll(&p, 1, 50) <= 0)
			continue;
		struct sockaddr_in a;
		socklen_t al = sizeof(a);
		ssize_t n = recvfrom(f->fd, b, sizeof(b), 0, (struct sockaddr *)&a, &al);
		if (n < 12)
			continue;
		f->seen++;
		f->last_id = (uint16_t)(b[0] << 8 | b[1]);
		b[2] |= 0x80;
		sendto(f->fd, b, (size_t)n, 0, (struct sockaddr *)&a, al);
	}
	return NULL;
}

static int udp_bound(uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)))
		return -1;
	socklen_t l = sizeof(a);
	getsockname(fd, (struct sockaddr *)&a, &l);
	if (port)
		*port = ntohs(a.sin_port);
	return fd;
}

static void fake_start(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	f->fd = udp_bound(&f->port);
	assert_true(f->fd >= 0);
	assert_int_equal(pthread_create(&f->th, NULL, fake_main, f), 0);
}

static void fake_stop(struct fake *f)
{
	f->stop = 1;
	pthread_join(f->th, NULL);
	close(f->fd);
}

/* ---- the relay in a thread ---- */

struct rl {
	struct relay_config c;
	struct relay_stats st;
	volatile sig_atomic_t stop;
	volatile uint16_t port;
	int rc;
	char err[256];
	pthread_t th;
};

static void on_ready(const net_addr *bound, void *arg)
{
	((struct rl *)arg)->port = addr_port(bound);
}

static void *rl_main(void *arg)
{
	struct rl *r = arg;
	r->rc = relay_run(&r->c, &r->st, r->err, sizeof(r->err));
	return NULL;
}

static void rl_start(struct rl *r, uint16_t fwd_port)
{
	char a[64], err[128];
	assert_int_equal(addr_parse(&r->c.listen, "127.0.0.1:0", 53, err, sizeof(err)), 0);
	snprintf(a, sizeof(a), "127.0.0.1:%u", fwd_port);
	assert_int_equal(addr_parse(&r->c.forward, a, 53, err, sizeof(err)), 0);
	r->c.stop = &r->stop;
	r->c.ready = on_ready;
	r->c.ready_arg = r;
	assert_int_equal(pthread_create(&r->th, NULL, rl_main, r), 0);
	for (int i = 0; i < 200 && !r->port; i++)
		usleep(5000);
	assert_true(r->port != 0);
}

static void rl_stop(struct rl *r)
{
	r->stop = 1;
	pthread_join(r->th, NULL);
	assert_int_equal(r->rc, 0);
}

/* query for name (one label + com) with id */
static size_t mkq(uint8_t *q, uint16_t id, const char *label)
{
	size_t o = 0, l = strlen(label);
	q[o++] = (uint8_t)(id >> 8);
	q[o++] = (uint8_t)id;
	memcpy(q + o, "\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 10);
	o += 10;
	q[o++] = (uint8_t)l;
	memcpy(q + o, label, l);
	o += l;
	memcpy(q + o, "\x03" "com\x00\x00\x01\x00\x01", 9);
	return o + 9;
}

/* n fresh sockets (fresh ports) each send one query; returns how many got a
 * reply with their own ID back (and QR set) within wait_ms. */
static int wave(uint16_t port, int n, int wait_ms, uint16_t id0)
{
	int *fds = calloc((size_t)n, sizeof(int));
	assert_non_null(fds);
	struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	for (int i = 0; i < n; i++) {
		fds[i] = udp_bound(NULL);
		assert_true(fds[i] >= 0);
		uint8_t q[64];
		size_t l = mkq(q, (uint16_t)(id0 + i), "example");
		sendto(fds[i], q, l, 0, (struct sockaddr *)&dst, sizeof(dst));
	}
	int ok = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < n; i++) {
		for (;;) {
			clock_gettime(CLOCK_MONOTONIC, &t1);
			long left = wait_ms - ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
			struct pollfd p = {.fd = fds[i], .events = POLLIN};
			if (left <= 0 || poll(&p, 1, (int)left) <= 0)
				break;
			uint8_t b[600];
			ssize_t k = recv(fds[i], b, sizeof(b), 0);
			if (k >= 12 && (b[2] & 0x80) && (uint16_t)(b[0] << 8 | b[1]) == (uint16_t)(id0 + i)) {
				ok++;
				break;
			}
		}
		close(fds[i]);
	}
	free(fds);
	return ok;
}

static void run_expiry(enum relay_upstream mode)
{
	struct fake f;
	fake_start(&f);
	struct rl r;
	memset(&r, 0, sizeof(r));
	relay_config_default(&r.c);
	r.c.upstream = mode;
	r.c.max_clients = 300;
	r.c.idle_ms = 300; /* raised to the 500 ms floor */
	rl_start(&r, f.port);
	/* three waves of 250 fresh ports: 750 clients through a 300-entry table */
	for (int w = 0; w < 3; w++) {
		assert_int_equal(wave(r.port, 250, 2000, (uint16_t)(1000 * w + 7)), 250);
		usleep(1200 * 1000);
	}
	rl_stop(&r);
	fake_stop(&f);
	assert_int_equal(r.st.queries, 750);
	assert_int_equal(r.st.replies, 750);
	assert_int_equal(r.st.no_client, 0);
	assert_true(r.st.expired >= 500);
	assert_true(r.st.peak_clients <= 300);
	assert_int_equal(r.st.unmatched, 0);
}

static void test_expiry_shared(void **state)
{
	(void)state;
	run_expiry(RELAY_UP_SHARED);
}

static void test_expiry_per_client(void **state)
{
	(void)state;
	run_expiry(RELAY_UP_PER_CLIENT);
}

static void test_table_full(void **state)
{
	(void)state;
	struct fake f;
	fake_start(&f);
	struct rl r;
	memset(&r, 0, sizeof(r));
	relay_config_default(&r.c);
	r.c.max_clients = 10;
	rl_start(&r, f.port);
	int ok = wave(r.port, 25, 500, 100);
	rl_stop(&r);
	fake_stop(&f);
	assert_int_equal(ok, 10);
	assert_int_equal(r.st.no_client, 15);
}

/* the shared mode rewrites IDs on the way up: the server sees the relay's,
 * the client gets its own back (checked in wave) */
static void test_ids_rewritten(void **state)
{
	(void)state;
	struct fake f;
	fake_start(&f);
	struct rl r;
	memset(&r, 0, sizeof(r));
	relay_config_default(&r.c);
	r.c.up_sockets = 1;
	rl_start(&r, f.port);
	unsigned diff = 0;
	for (int i = 0; i < 20; i++) {
		assert_int_equal(wave(r.port, 1, 1000, 0x4242), 1);
		diff += f.last_id != 0x4242;
	}
	rl_stop(&r);
	fake_stop(&f);
	assert_true(diff >= 19); /* consecutive pairs: at most one collision by chance */
	assert_int_equal(r.st.replies, 20);
}

static void test_epoch(void **state)
{
	(void)state;
	struct fake f;
	fake_start(&f);
	struct inj_config ic;
	inj_config_default(&ic);
	ic.profile = "jan21";
	ic.popts.jan21_start_ms = 4000;
	ic.popts.jan21_len_ms = 2000;
	char err[256];
	struct inj_engine *e = inj_engine_new(&ic, err, sizeof(err));
	assert_non_null(e);
	struct timespec rt;
	clock_gettime(CLOCK_REALTIME, &rt);
	int64_t now = (int64_t)rt.tv_sec * 1000 + rt.tv_nsec / 1000000;
	for (int k = 0; k < 2; k++) {
		struct rl r;
		memset(&r, 0, sizeof(r));
		relay_config_default(&r.c);
		r.c.engine = e;
		/* k=0: scenario time ~5 s (inside [4, 6) s); k=1: ~-100 s */
		r.c.epoch_real_ms = k == 0 ? now - 5000 : now + 100000;
		rl_start(&r, f.port);
		assert_int_equal(wave(r.port, 3, 1000, 9), 3);
		rl_stop(&r);
		assert_int_equal(r.st.forged, k == 0 ? 3 : 0);
	}
	/* without an epoch the window counts from the start: not yet */
	struct rl r;
	memset(&r, 0, sizeof(r));
	relay_config_default(&r.c);
	r.c.engine = e;
	rl_start(&r, f.port);
	assert_int_equal(wave(r.port, 3, 1000, 9), 3);
	rl_stop(&r);
	assert_int_equal(r.st.forged, 0);
	inj_engine_free(e);
	fake_stop(&f);
}

/* The forged replies' IP TTLs on the wire (IP_RECVTTL): gfw1 copies the
 * query's (sent with TTL 77), gfw2 and gfw3 set 169 and 53, the real reply
 * keeps the kernel's 64; with --tune gfw1.ip_ttl=random gfw1's vary. */
static void recv_ttls(int fd, int want, int *ttl, bool *real, int wait_ms)
{
	for (int got = 0; got < want;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		assert_true(poll(&p, 1, wait_ms) > 0);
		uint8_t b[600];
		union {
			char c[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} ctl;
		struct iovec iov = {b, sizeof(b)};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.c, .msg_controllen = sizeof(ctl.c)};
		ssize_t k = recvmsg(fd, &mh, 0);
		assert_true(k >= 12);
		ttl[got] = -1;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TTL)
				memcpy(&ttl[got], CMSG_DATA(cm), sizeof(int));
		real[got] = !(b[6] | b[7]); /* the fake's echo has no answer; forged ones have one */
		got++;
	}
}

static void test_forged_ip_ttl(void **state)
{
	(void)state;
	struct fake f;
	fake_start(&f);
	static const char *const tune[] = {"gfw1.ip_ttl=random"};
	for (int k = 0; k < 2; k++) {
		struct inj_config ic;
		inj_config_default(&ic);
		if (k) {
			ic.tune = tune;
			ic.ntune = 1;
		}
		char err[256];
		struct inj_engine *e = inj_engine_new(&ic, err, sizeof(err));
		assert_non_null(e);
		struct rl r;
		memset(&r, 0, sizeof(r));
		relay_config_default(&r.c);
		r.c.engine = e;
		r.c.delay_ms = 30; /* the forged replies first, then the echo */
		rl_start(&r, f.port);
		int fd = udp_bound(NULL), one = 1, qttl = 77;
		assert_true(fd >= 0);
		setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IP, IP_TTL, &qttl, sizeof(qttl));
		struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(r.port),
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		int g1[20], n1 = 0;
		for (int i = 0; i < 20; i++) {
			uint8_t q[64];
			/* www.facebook.com, on the built-in blocklist */
			static const uint8_t name[] = "\x03www\x08" "facebook" "\x03" "com";
			size_t o = 0;
			q[o++] = 0x51, q[o++] = (uint8_t)i;
			memcpy(q + o, "\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 10);
			o += 10;
			memcpy(q + o, name, sizeof(name));
			o += sizeof(name);
			memcpy(q + o, "\x00\x01\x00\x01", 4);
			o += 4;
			assert_int_equal(sendto(fd, q, o, 0, (struct sockaddr *)&dst, sizeof(dst)), (ssize_t)o);
			int ttl[4], nreal = 0;
			bool real[4];
			recv_ttls(fd, 4, ttl, real, 2000);
			int seen169 = 0, seen53 = 0, other = -1;
			for (int j = 0; j < 4; j++) {
				if (real[j]) {
					assert_int_equal(ttl[j], 64);
					nreal++;
				} else if (ttl[j] == 169)
					seen169++;
				else if (ttl[j] == 53)
					seen53++;
				else
					other = ttl[j];
			}
			assert_int_equal(nreal, 1);
			/* gfw1: copied (77) or, tuned, random (it may draw 53 or 169 too) */
			if (!k) {
				assert_int_equal(seen169, 1);
				assert_int_equal(seen53, 1);
				assert_int_equal(other, 77);
			} else if (other >= 0) {
				g1[n1++] = other;
			}
		}
		if (k) {
			int distinct = 0;
			for (int i = 0; i < n1; i++) {
				int dup = 0;
				for (int j = 0; j < i; j++)
					dup |= g1[j] == g1[i];
				distinct += !dup;
				assert_true(g1[i] >= 1 && g1[i] <= 255);
			}
			assert_true(n1 >= 15 && distinct >= 10);
		}
		close(fd);
		rl_stop(&r);
		inj_engine_free(e);
	}
	fake_stop(&f);
}

static void test_upstream_parse(void **state)
{
	(void)state;
	enum relay_upstream u;
	assert_int_equal(relay_upstream_parse("shared", &u), 0);
	assert_int_equal(u, RELAY_UP_SHARED);
	assert_int_equal(relay_upstream_parse("per-client", &u), 0);
	assert_int_equal(u, RELAY_UP_PER_CLIENT);
	assert_int_equal(relay_upstream_parse("both", &u), DNS_ESYNTAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expiry_shared),
		cmocka_unit_test(test_expiry_per_client),
		cmocka_unit_test(test_table_full),
		cmocka_unit_test(test_ids_rewritten),
		cmocka_unit_test(test_epoch),
		cmocka_unit_test(test_forged_ip_ttl),
		cmocka_unit_test(test_upstream_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
