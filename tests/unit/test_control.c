/* test_control — pipelined TCP control queries against a loopback fake that
 * answers out of order and closes the connection midway. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "dns/err.h"
#include "dns/msg.h"
#include "dns/name.h"
#include "dns/rrtype.h"
#include "probe/control.h"

static int lfd;

static void *server(void *arg)
{
	(void)arg;
	for (int conn = 0; conn < 3; conn++) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			return NULL;
		uint8_t in[70000], out[600];
		size_t have = 0;
		int served = 0;
		uint8_t held[600];
		int heldlen = 0;
		for (;;) {
			ssize_t r = read(fd, in + have, sizeof(in) - have);
			if (r <= 0)
				break;
			have += (size_t)r;
			size_t off = 0;
			while (have - off >= 2 && have - off >= 2u + wire_get_u16(in + off)) {
				size_t ml = wire_get_u16(in + off);
				msg q;
				if (msg_parse_query(&q, in + off + 2, ml) == 0) {
					msg_wr mw;
					msg_wr_init(&mw, out + 2, sizeof(out) - 2);
					bool nx = q.qname[1] == 'n';
					msg_wr_reply(&mw, &q, MSG_AA | (nx ? RCODE_NXDOMAIN : 0));
					uint8_t rd[4] = {10, 0, 0, q.qname[1]};
					if (!nx)
						msg_wr_rr(&mw, MSG_ANSWER, q.qname, RR_A, CLASS_IN, 60, rd, 4);
					int len = msg_wr_finish(&mw);
					wire_put_u16(out, (uint16_t)len);
					/* swap pairs: answers out of order */
					if (!heldlen) {
						memcpy(held, out, (size_t)len + 2);
						heldlen = len + 2;
					} else {
						(void)!write(fd, out, (size_t)len + 2);
						(void)!write(fd, held, (size_t)heldlen);
						heldlen = 0;
					}
					served++;
				}
				off += ml + 2;
			}
			memmove(in, in + off, have - off);
			have -= off;
			if (conn == 0 && served >= 10)
				break; /* first connection dies midway */
		}
		if (heldlen)
			(void)!write(fd, held, (size_t)heldlen);
		close(fd);
	}
	return NULL;
}

static const char *names[] = {"a.test", "b.test", "nx.test", "c.test", "d.test"};

static int get(void *arg, size_t i, uint8_t *qname, uint16_t *qtype)
{
	(void)arg;
	char t[64];
	snprintf(t, sizeof(t), "%s%zu", names[i % 5], i);
	*qtype = RR_A;
	return name_from_text(t, strlen(t), (const uint8_t *)"", qname) < 0 ? -1 : 0;
}

static void test_fetch(void **state)
{
	(void)state;
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	net_addr a;
	addr_parse(&a, "127.0.0.1:0", 0, NULL, 0);
	assert_int_equal(bind(lfd, &a.u.sa, a.len), 0);
	listen(lfd, 8);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	getsockname(lfd, (struct sockaddr *)&ss, &sl);
	net_addr srv;
	addr_from_sockaddr(&srv, (struct sockaddr *)&ss, sl);
	pthread_t th;
	pthread_create(&th, NULL, server, NULL);
	static struct judge_ctl out[300];
	char err[128];
	long n = control_fetch(&srv, 1, 300, get, NULL, out, 3000, err, sizeof(err));
	assert_true(n >= 299); /* a held reply may die with the first connection, then resent */
	for (size_t i = 0; i < 300; i++) {
		if (!out[i].ok)
			continue;
		bool nx = i % 5 == 2;
		assert_int_equal(out[i].rcode, nx ? RCODE_NXDOMAIN : 0);
		assert_int_equal(out[i].naddr, nx ? 0 : 1);
		struct probe_addr pa = {.family = 4, .a = {10, 0, 0, (uint8_t)names[i % 5][0]}};
		if (!nx)
			assert_true(out[i].set == judge_set_hash(&pa, 1));
	}
	/* The fake waits for up to 3 connections; a fetch that finished on its
	 * second leaves it in accept(), which close() does not wake on Linux:
	 * shutdown() does (regression: test_control_hang_in_accept, a CI run
	 * that hung here). */
	shutdown(lfd, SHUT_RDWR);
	close(lfd);
	pthread_join(th, NULL);
	/* nobody listening */
	n = control_fetch(&srv, 2, 3, get, NULL, out, 500, err, sizeof(err));
	assert_int_equal(n, DNS_EIO);
	assert_non_null(strstr(err, "TCP"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_fetch)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
