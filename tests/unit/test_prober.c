/* test_prober — the bulk engine against a loopback fake server: every reply
 * in the window, retries after a drop, timeouts, mismatched questions and
 * sources ignored, many queries in flight, the query builder and parser. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "dns/err.h"
#include "dns/msg.h"
#include "dns/name.h"
#include "dns/rrtype.h"
#include "probe/prober.h"

static int srv_fd;
static volatile int srv_stop;
static unsigned seen_drop1;

static int answer(uint8_t *out, size_t cap, const msg *q, const uint8_t *qname, uint8_t last, bool opt)
{
	msg_wr mw;
	msg_wr_init(&mw, out, cap);
	msg_wr_reply(&mw, q, MSG_AA);
	uint8_t rd[4] = {10, 0, 0, last};
	msg_wr_rr(&mw, MSG_ANSWER, qname, RR_A, CLASS_IN, 300, rd, 4);
	if (opt) {
		edns_out eo;
		memset(&eo, 0, sizeof(eo));
		eo.udp_size = 1232;
		msg_wr_edns(&mw, &eo);
	}
	return msg_wr_finish(&mw);
}

static void *server(void *arg)
{
	(void)arg;
	uint8_t buf[1500], out[1500];
	while (!srv_stop) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(srv_fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n <= 0)
			continue;
		msg q;
		if (msg_parse_query(&q, buf, (size_t)n) < 0 || !q.qname_len)
			continue;
		char text[NAME_MAXTEXT];
		name_to_text(q.qname, text, sizeof(text));
		int len;
		if (!strncmp(text, "silent.", 7))
			continue;
		if (!strncmp(text, "drop1.", 6) && !seen_drop1++)
			continue;
		if (!strncmp(text, "twice.", 6)) {
			len = answer(out, sizeof(out), &q, q.qname, 66, false);
			sendto(srv_fd, out, (size_t)len, 0, (struct sockaddr *)&from, fl);
			usleep(5000);
		}
		if (!strncmp(text, "wrong.", 6)) {
			uint8_t other[NAME_MAXLEN];
			name_from_text("other.test.", 11, NULL, other);
			msg q2 = q;
			memcpy(q2.qname, other, name_len(other));
			len = answer(out, sizeof(out), &q2, other, 1, true);
			/* msg_wr_reply copies q's question: patch by building from q2 */
			sendto(srv_fd, out, (size_t)len, 0, (struct sockaddr *)&from, fl);
			continue;
		}
		len = answer(out, sizeof(out), &q, q.qname, 1, true);
		sendto(srv_fd, out, (size_t)len, 0, (struct sockaddr *)&from, fl);
	}
	return NULL;
}

struct ctx {
	const char *const *names;
	size_t n, next;
	uint8_t w[NAME_MAXLEN];
	struct probe_result res[2048];
	unsigned done;
};

static int next(void *arg, struct probe_job *j)
{
	struct ctx *c = arg;
	if (c->next >= c->n)
		return 0;
	const char *s = c->names[c->next % 8];
	char t[64];
	snprintf(t, sizeof(t), "%s", s);
	name_from_text(t, strlen(t), (const uint8_t *)"", c->w);
	j->qname = c->w;
	j->qtype = RR_A;
	j->target = 0;
	j->tag = c->next++;
	return 1;
}

static void done(void *arg, const struct probe_job *j, const struct probe_result *r)
{
	struct ctx *c = arg;
	c->res[j->tag] = *r;
	c->done++;
}

static void test_engine(void **state)
{
	(void)state;
	srv_fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct timeval tv = {0, 100000};
	setsockopt(srv_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	net_addr a;
	assert_int_equal(addr_parse(&a, "127.0.0.1:0", 0, NULL, 0), 0);
	assert_int_equal(bind(srv_fd, &a.u.sa, a.len), 0);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	getsockname(srv_fd, (struct sockaddr *)&ss, &sl);
	net_addr srv;
	addr_from_sockaddr(&srv, (struct sockaddr *)&ss, sl);
	pthread_t th;
	pthread_create(&th, NULL, server, NULL);

	struct probe_cfg cfg;
	probe_cfg_default(&cfg);
	cfg.targets[0] = srv;
	cfg.ntargets = 1;
	cfg.timeout_ms = 150;
	cfg.retries = 2;
	cfg.window_ms = 40;
	cfg.sockets = 3;
	cfg.inflight = 64; /* fewer slots than queries: slots get reused */
	char err[128];
	struct prober *p = prober_new(&cfg, err, sizeof(err));
	assert_non_null(p);
	static const char *const names[8] = {"ok.test", "twice.test", "drop1.test", "silent.test",
					     "wrong.test", "ok2.test", "OK3.Test", "x.y.test"};
	static struct ctx c;
	memset(&c, 0, sizeof(c));
	c.names = names;
	c.n = 400;
	uint64_t t0 = probe_now_us();
	assert_int_equal(prober_run(p, next, done, NULL, &c, NULL), 0);
	assert_int_equal(c.done, 400);
	const struct probe_stats *st = prober_stats(p);
	assert_int_equal(st->jobs, 400);
	assert_int_equal(st->active, 0);
	/* ok */
	assert_int_equal(c.res[0].nrep, 1);
	assert_int_equal(c.res[0].attempts, 1);
	assert_int_equal(c.res[0].rep[0].naddr, 1);
	assert_int_equal(c.res[0].rep[0].addr[0].a[3], 1);
	assert_true(c.res[0].rep[0].opt);
	assert_int_equal(c.res[0].rep[0].ip_ttl, 64);
	assert_int_equal(c.res[0].rep[0].ttl, 300);
	/* twice: both replies, forged first */
	assert_int_equal(c.res[1].nrep, 2);
	assert_int_equal(c.res[1].rep[0].addr[0].a[3], 66);
	assert_false(c.res[1].rep[0].opt);
	assert_int_equal(c.res[1].rep[1].addr[0].a[3], 1);
	assert_true(c.res[1].rep[1].t_us >= c.res[1].rep[0].t_us);
	/* drop1: the first one the server saw was dropped -> that query took 2
	 * attempts and its reply answers attempt 1; the others took one */
	unsigned two = 0;
	for (size_t i = 2; i < 400; i += 8) {
		assert_int_equal(c.res[i].nrep, 1);
		if (c.res[i].attempts == 2) {
			two++;
			assert_int_equal(c.res[i].rep[0].attempt, 1);
		} else {
			assert_int_equal(c.res[i].attempts, 1);
		}
	}
	assert_int_equal(two, 1);
	/* silent: 3 attempts, nothing */
	assert_int_equal(c.res[3].nrep, 0);
	assert_int_equal(c.res[3].attempts, 3);
	/* wrong question: ignored, times out */
	assert_int_equal(c.res[4].nrep, 0);
	/* mixed case name still matches */
	assert_int_equal(c.res[6].nrep, 1);
	for (size_t i = 8; i < 400; i++)
		assert_int_equal(c.res[i].nrep, c.res[i % 8].nrep == 0 ? 0 : c.res[i % 8].nrep);
	assert_true(st->bad >= 50);
	assert_true(probe_now_us() - t0 < 10 * 1000000);
	/* a second run on the same prober */
	c.next = 0;
	c.n = 8;
	c.done = 0;
	assert_int_equal(prober_run(p, next, done, NULL, &c, NULL), 0);
	assert_int_equal(c.done, 8);
	/* stop flag: returns at once, in-flight queries dropped */
	volatile sig_atomic_t stop = 1;
	c.next = 0;
	c.n = 8;
	c.done = 0;
	assert_int_equal(prober_run(p, next, done, NULL, &c, &stop), 0);
	assert_int_equal(c.done, 0);
	prober_free(p);
	srv_stop = 1;
	pthread_join(th, NULL);
	close(srv_fd);
}

static void test_build_parse(void **state)
{
	(void)state;
	struct probe_cfg cfg;
	probe_cfg_default(&cfg);
	uint8_t qn[NAME_MAXLEN], buf[512];
	name_from_text("www.example.com.", 16, NULL, qn);
	int len = prober_build_query(&cfg, qn, RR_AAAA, 0x1234, buf, sizeof(buf));
	assert_true(len > 12);
	msg q;
	assert_int_equal(msg_parse_query(&q, buf, (size_t)len), 0);
	assert_int_equal(q.hdr.id, 0x1234);
	assert_int_equal(q.hdr.flags & MSG_RD, 0);
	assert_true(q.edns.present);
	assert_int_equal(q.qtype, RR_AAAA);
	cfg.edns = false;
	cfg.rd = true;
	len = prober_build_query(&cfg, qn, RR_A, 1, buf, sizeof(buf));
	assert_int_equal(msg_parse_query(&q, buf, (size_t)len), 0);
	assert_false(q.edns.present);
	assert_true(q.hdr.flags & MSG_RD);
	/* a reply: the query itself is not one (QR=0) */
	struct probe_reply r;
	assert_int_equal(prober_parse_reply(buf, (size_t)len, qn, RR_A, &r), DNS_ENOTFOUND);
	buf[2] |= 0x80;
	assert_int_equal(prober_parse_reply(buf, (size_t)len, qn, RR_A, &r), 0);
	assert_int_equal(r.naddr, 0);
	assert_int_equal(prober_parse_reply(buf, (size_t)len, qn, RR_AAAA, &r), DNS_ENOTFOUND);
	assert_true(prober_parse_reply(buf, 11, qn, RR_A, &r) < 0);
	buf[5] = 2; /* QDCOUNT 2 but one question: truncated */
	assert_true(prober_parse_reply(buf, (size_t)len, qn, RR_A, &r) < 0);
	uint8_t small[20];
	assert_int_equal(prober_build_query(&cfg, qn, RR_A, 1, small, sizeof(small)), DNS_ESPACE);
	char txt[64];
	r.naddr = 2;
	r.addr[0] = (struct probe_addr){.family = 4, .a = {1, 2, 3, 4}};
	r.addr[1] = (struct probe_addr){.family = 6, .a = {0x20, 1, 0xd, 0xb8}};
	r.more_addr = 3;
	assert_string_equal(prober_reply_answers(&r, txt, sizeof(txt)), "1.2.3.4 2001:db8:: +3");
}

static void test_bad_config(void **state)
{
	(void)state;
	struct probe_cfg cfg;
	probe_cfg_default(&cfg);
	char err[128];
	assert_null(prober_new(&cfg, err, sizeof(err))); /* no target */
	addr_parse(&cfg.targets[0], "127.0.0.1:9", 0, NULL, 0);
	cfg.ntargets = 1;
	cfg.retries = PROBE_MAXATT;
	assert_null(prober_new(&cfg, err, sizeof(err)));
	cfg.retries = 1;
	cfg.window_ms = PROBE_WHEEL;
	assert_null(prober_new(&cfg, err, sizeof(err)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_engine), cmocka_unit_test(test_build_parse), cmocka_unit_test(test_bad_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
