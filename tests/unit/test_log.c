/* Unit tests for src/util/log: level filtering and message formatting. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

/* Runs fn with stderr redirected to a temp file; returns what was written. */
static void capture(void (*fn)(void), char *out, size_t cap)
{
	char path[] = "/tmp/antidote-logtest.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	int saved = dup(2);
	dup2(fd, 2);
	fn();
	dup2(saved, 2);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	ssize_t n = read(fd, out, cap - 1);
	out[n > 0 ? n : 0] = 0;
	close(fd);
	unlink(path);
}

static void emit(void)
{
	log_info("hello %d", 42);
	log_debug("hidden");
	log_warn("careful %s", "now");
}

static void levels_and_format(void **st)
{
	(void)st;
	char buf[512];
	log_level = LOG_INFO;
	capture(emit, buf, sizeof(buf));
	assert_string_equal(buf, "antidote: hello 42\nantidote: warning: careful now\n");
	log_level = LOG_ERR;
	capture(emit, buf, sizeof(buf));
	assert_string_equal(buf, "");
	log_level = LOG_INFO;
}

static void long_message_is_cut_not_overflowed(void **st)
{
	(void)st;
	static char big[4000];
	memset(big, 'x', sizeof(big) - 1);
	log_level = LOG_INFO;
	char buf[2048];
	int saved = dup(2);
	char path[] = "/tmp/antidote-logtest.XXXXXX";
	int fd = mkstemp(path);
	dup2(fd, 2);
	log_info("%s", big);
	dup2(saved, 2);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	ssize_t n = read(fd, buf, sizeof(buf));
	close(fd);
	unlink(path);
	assert_true(n > 0 && n <= 1024);
	assert_int_equal(buf[n - 1], '\n');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(levels_and_format),
		cmocka_unit_test(long_message_is_cut_not_overflowed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
