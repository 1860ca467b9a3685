/* test_store — the SQLite store (skipped when libsqlite3 cannot be loaded):
 * schema created, rows written, a second run appended. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "probe/store.h"

static void test_roundtrip(void **state)
{
	(void)state;
	char path[] = "/tmp/antidote-store-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	char err[256];
	if (!store_available()) {
		assert_null(store_open(path, "x", err, sizeof(err)));
		assert_non_null(strstr(err, "libsqlite3"));
		skip();
	}
	for (int run = 0; run < 2; run++) {
		struct store *s = store_open(path, "antidote probe --test", err, sizeof(err));
		assert_non_null(s);
		struct probe_result r;
		memset(&r, 0, sizeof(r));
		r.nrep = 2;
		r.attempts = 1;
		r.rep[0].flags = 0x8180;
		r.rep[0].naddr = 1;
		r.rep[0].addr[0] = (struct probe_addr){.family = 4, .a = {31, 13, 67, 41}};
		r.rep[1].flags = 0x8400;
		r.rep[1].opt = true;
		uint8_t cls[PROBE_MAXREP] = {2, 1};
		int inj[PROBE_MAXREP] = {1, 0};
		for (int i = 0; i < 100; i++)
			assert_int_equal(store_query(s, "www.facebook.com", "A", "127.0.0.1:53", "forged", 1.5, &r, cls, inj), 0);
		struct fp_table t;
		fp_init(&t);
		assert_int_equal(fp_add(&t, &r.rep[0]), 1);
		assert_int_equal(store_injector(s, &t, 1), 0);
		fp_free(&t);
		assert_int_equal(store_base(s, "facebook.com", "127.0.0.1:53", RK_DOMAIN, 0x1b, 0x1ff, 0), 0);
		struct store_summary sum = {.queries = 100, .answered = 100, .verdicts = {0, 0, 100, 0}, .injectors = 1};
		assert_int_equal(store_close(s, &sum), 0);
	}
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size > 4096);
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "command -v sqlite3 >/dev/null || exit 0; "
		 "test \"$(sqlite3 %s \"select count(*) from query; select count(*) from reply where class='forged';"
		 " select count(*) from run where forged=100; select rule from base limit 1;"
		 " select address from pool limit 1\" | tr '\\n' ' ')\" = '200 200 2 *.facebook.com 31.13.67.41 '",
		 path);
	assert_int_equal(system(cmd), 0);
	assert_null(store_open("/nonexistent/dir/x.db", "x", err, sizeof(err)));
	unlink(path);
	snprintf(cmd, sizeof(cmd), "rm -f %s-wal %s-shm", path, path);
	(void)!system(cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_roundtrip)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
