/* test_users — the load generator against a fake resolver on loopback that
 * answers genuine / forged / SERVFAIL / nothing by site: every query is
 * accounted for, verdicts match, forged answers are logged, probes re-ask
 * the names forged during the fault. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns/msg.h"
#include "dns/rrtype.h"
#include "lab/internet.h"
#include "lab/report.h"
#include "lab/users.h"

struct fake {
	int fd;
	const struct internet *net;
	atomic_int stop;
	unsigned got[4]; /* queries per class (site index % 4) */
};

static void *fake_run(void *arg)
{
	struct fake *fk = arg;
	uint8_t buf[1500], out[1500];
	while (!atomic_load(&fk->stop)) {
		struct pollfd pf = {.fd = fk->fd, .events = POLLIN};
		if (poll(&pf, 1, 20) <= 0)
			continue;
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fk->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		msg q;
		if (n < 12 || msg_parse_query(&q, buf, (size_t)n) < 0)
			continue;
		char text[NAME_MAXTEXT];
		int tl = name_to_text(q.qname, text, sizeof(text));
		int site = internet_find(fk->net, text, (size_t)tl);
		if (site < 0)
			continue;
		int cls = site % 4;
		fk->got[cls]++;
		if (cls == 3)
			continue; /* silence: a timeout */
		msg_wr mw;
		msg_wr_init(&mw, out, sizeof(out));
		msg_wr_reply(&mw, &q, cls == 2 ? RCODE_SERVFAIL : 0);
		if (cls < 2) {
			uint8_t dit[4] = {65, 49, 2, 178};
			const uint8_t *a = cls == 0 ? fk->net->site[site].a[0] : dit;
			msg_wr_rr(&mw, MSG_ANSWER, q.qname, RR_A, CLASS_IN, 60, a, 4);
		}
		int len = msg_wr_finish(&mw);
		sendto(fk->fd, out, (size_t)len, 0, (struct sockaddr *)&from, fl);
	}
	return NULL;
}

static void test_traffic_and_verdicts(void **state)
{
	(void)state;
	struct internet net;
	char err[256];
	struct internet_opts io;
	internet_opts_default(&io);
	io.sites = 40;
	assert_int_equal(internet_build(&net, &io, NULL, 0, NULL, 0, err, sizeof(err)), 0);
	/* site 5 (class 1: forged) is on the blocklist */
	net.site[5].blocked = true;

	struct fake fk = {.net = &net};
	fk.fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(fk.fd, (struct sockaddr *)&a, sizeof(a)), 0);
	socklen_t al = sizeof(a);
	getsockname(fk.fd, (struct sockaddr *)&a, &al);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, fake_run, &fk), 0);

	struct report rep = {.duration_ms = 1000, .has_window = true, .fault_start_ms = 0, .fault_len_ms = 1000};
	snprintf(rep.scenario, sizeof(rep.scenario), "test");
	report_init(&rep);
	assert_int_equal(report_add_resolver(&rep, "fake", "fake", false), 0);
	struct users_cfg c;
	users_cfg_default(&c);
	c.rate = 400;
	c.timeout_ms = 150;
	c.zipf_s = 0.5;
	c.max_s = 2;
	struct users_target tg = {.addr = a, .res = 0};
	/* refuses targets off loopback */
	struct users_target far = tg;
	far.addr.sin_addr.s_addr = htonl(0x0a000001);
	assert_null(users_new(&c, &net, &far, 1, &rep, err, sizeof(err)));
	struct users *u = users_new(&c, &net, &tg, 1, &rep, err, sizeof(err));
	assert_non_null(u);
	users_start(u);
	while (users_now_ms(u) < 1000)
		users_step(u, 1000, 10);
	while (users_busy(u))
		users_step(u, 1000, 10);
	const struct report_res *x = &rep.res[0];
	assert_true(x->total.sent >= 395 && x->total.sent <= 401);
	assert_int_equal(report_done(&x->total), x->total.sent);
	assert_int_equal(x->total.v[TRUTH_GENUINE], fk.got[0]);
	assert_int_equal(x->total.v[TRUTH_FORGED], fk.got[1]);
	assert_int_equal(x->total.v[TRUTH_SERVFAIL], fk.got[2]);
	assert_int_equal(x->total.v[TRUTH_TIMEOUT], fk.got[3]);
	assert_int_equal(x->total.v[TRUTH_OTHER], 0);
	assert_true(fk.got[0] > 50 && fk.got[1] > 50 && fk.got[3] > 50);
	/* forged answers logged with their address */
	size_t nev, lost;
	const struct users_event *ev = users_events(u, &nev, &lost);
	assert_int_equal(nev, fk.got[1]);
	assert_int_equal(lost, 0);
	unsigned blocked_forged = 0;
	for (size_t i = 0; i < nev; i++) {
		assert_int_equal(ev[i].site % 4, 1);
		assert_int_equal(ev[i].alen, 4);
		assert_int_equal(ev[i].addr[0], 65);
		blocked_forged += ev[i].site == 5;
	}
	assert_int_equal(x->total.forged_unblocked, fk.got[1] - blocked_forged);
	/* in_fault: forged class sites off the blocklist that were asked */
	unsigned want = 0;
	for (unsigned s = 0; s < net.n; s++) {
		bool f = users_forged_in_fault(u, 0, s);
		if (s % 4 != 1 || s == 5)
			assert_false(f);
		want += f;
	}
	assert_true(want > 0);
	/* probe them: all still forged (the fake never changes its mind) */
	assert_int_equal(users_probe(u, 0, 0), want);
	unsigned sent_before = x->total.sent;
	while (users_busy(u))
		users_step(u, 1000, 10);
	assert_int_equal(x->probe[0].asked, want);
	assert_int_equal(x->probe[0].answered, want);
	assert_int_equal(x->probe[0].forged, want);
	assert_int_equal(x->total.sent, sent_before); /* probes are not user traffic */
	users_free(u);
	atomic_store(&fk.stop, 1);
	pthread_join(th, NULL);
	close(fk.fd);
	report_free(&rep);
	internet_free(&net);
}

static void test_bad_config(void **state)
{
	(void)state;
	struct internet net;
	char err[256];
	struct internet_opts io;
	internet_opts_default(&io);
	io.sites = 10;
	assert_int_equal(internet_build(&net, &io, NULL, 0, NULL, 0, err, sizeof(err)), 0);
	struct report rep = {.duration_ms = 1000};
	report_init(&rep);
	report_add_resolver(&rep, "x", NULL, false);
	struct users_cfg c;
	users_cfg_default(&c);
	struct users_target tg = {.addr = {.sin_family = AF_INET, .sin_port = htons(9),
					   .sin_addr.s_addr = htonl(INADDR_LOOPBACK)}};
	assert_null(users_new(&c, &net, &tg, 0, &rep, err, sizeof(err)));
	c.rate = 0;
	assert_null(users_new(&c, &net, &tg, 1, &rep, err, sizeof(err)));
	users_cfg_default(&c);
	c.zipf_s = -1;
	assert_null(users_new(&c, &net, &tg, 1, &rep, err, sizeof(err)));
	report_free(&rep);
	internet_free(&net);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_traffic_and_verdicts),
		cmocka_unit_test(test_bad_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
