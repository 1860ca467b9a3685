/* test_metrics — exposition text and the loopback HTTP responder. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "dns/err.h"
#include "probe/metrics.h"

static void test_text(void **state)
{
	(void)state;
	char buf[256];
	struct mtext m = {buf, 0, sizeof(buf)};
	mtext_head(&m, "x_total", "counter", "Things.");
	mtext_val(&m, "x_total", "kind=\"a\"", 3);
	mtext_val(&m, "y", NULL, 0.5);
	assert_string_equal(buf, "# HELP x_total Things.\n# TYPE x_total counter\nx_total{kind=\"a\"} 3\ny 0.5\n");
	char small[8];
	struct mtext s = {small, 0, sizeof(small)};
	mtext_val(&s, "long_metric_name", NULL, 1);
	assert_true(s.len <= sizeof(small));
}

static void get(const net_addr *a, const char *req, char *out, size_t cap)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, &a->u.sa, a->len), 0);
	assert_true(write(fd, req, strlen(req)) > 0);
	size_t n = 0;
	ssize_t r;
	while ((r = read(fd, out + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = 0;
	close(fd);
}

static void test_http(void **state)
{
	(void)state;
	net_addr a, b;
	char err[128];
	assert_int_equal(addr_parse(&a, "127.0.0.1:0", 0, NULL, 0), 0);
	int lfd = metrics_listen(&a, &b, err, sizeof(err));
	assert_true(lfd >= 0);
	assert_true(addr_port(&b) != 0);
	const char *body = "up 1\n";
	pid_t pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 2; i++) {
			struct pollfd p = {.fd = lfd, .events = POLLIN};
			poll(&p, 1, 2000);
			metrics_serve(lfd, body, strlen(body));
		}
		_exit(0);
	}
	char out[1024];
	get(&b, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", out, sizeof(out));
	assert_non_null(strstr(out, "HTTP/1.0 200 OK\r\n"));
	assert_non_null(strstr(out, "Content-Length: 5\r\n"));
	assert_non_null(strstr(out, "\r\n\r\nup 1\n"));
	get(&b, "GET / HTTP/1.0\r\n\r\n", out, sizeof(out));
	assert_non_null(strstr(out, "404"));
	int st;
	waitpid(pid, &st, 0);
	close(lfd);
	assert_int_equal(addr_parse(&a, "10.1.2.3:9100", 0, NULL, 0), 0);
	assert_int_equal(metrics_listen(&a, NULL, err, sizeof(err)), DNS_EINVAL);
	assert_non_null(strstr(err, "loopback"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_text), cmocka_unit_test(test_http)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
