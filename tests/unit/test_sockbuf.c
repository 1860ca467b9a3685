/* test_sockbuf — buffers as asked (forced past rmem_max with CAP_NET_ADMIN,
 * capped without), and an error for a descriptor that is not a socket. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/sockbuf.h"

static long sysctl_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;
	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static void test_sizes(void **st)
{
	(void)st;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	/* small request: granted (the kernel reports twice the request) */
	assert_int_equal(sockbuf_set(fd, true, 65536), 131072);
	assert_int_equal(sockbuf_set(fd, false, 65536), 131072);
	/* a big request: forced when privileged, else at least the cap */
	long rmax = sysctl_long("/proc/sys/net/core/rmem_max");
	int got = sockbuf_set(fd, true, 8 << 20);
	if (geteuid() == 0)
		assert_int_equal(got, 16 << 20);
	else if (rmax > 0)
		assert_true(got >= 2 * (rmax < (8 << 20) ? rmax : (8 << 20)));
	close(fd);
}

static void test_not_a_socket(void **st)
{
	(void)st;
	int p[2];
	assert_int_equal(pipe(p), 0);
	assert_true(sockbuf_set(p[0], true, 65536) < 0);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_not_a_socket),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
