/* test_verdict — the defence's verdict log lines, explanations and counters. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns/name.h"
#include "resolve/verdict.h"

static const uint8_t qn[] = "\3www\x08" "facebook\3com";

static verdict_rec sample(void)
{
	static const char *ans[] = {"65.49.2.178"};
	verdict_rec r = {
		.t = 1390288200.5,
		.upstream = "127.0.0.1:5300",
		.qname = qn,
		.qtype = 1,
		.seq = 0,
		.rtt_us = 21300,
		.expect_rtt_us = 80100,
		.ip_ttl = 53,
		.ip_ttl_learnt = 44,
		.flags = 0x8180,
		.counts = {1, 1, 0, 0},
		.answer = ans,
		.nanswer = 1,
		.signals = VS_BIT(VS_NO_OPT) | VS_BIT(VS_EARLY) | VS_BIT(VS_IP_TTL),
		.score = -105,
		.verdict = V_FORGED,
	};
	return r;
}

static void test_format(void **st)
{
	(void)st;
	verdict_rec r = sample();
	char buf[4096];
	int n = verdict_format(&r, buf, sizeof(buf));
	assert_true(n > 0 && (size_t)n < sizeof(buf));
	assert_int_equal(buf[n - 1], '\n');
	assert_int_equal((int)strlen(buf), n);
	assert_non_null(strstr(buf, "{\"t\":1390288200.500000,\"upstream\":\"127.0.0.1:5300\","
				    "\"name\":\"www.facebook.com.\",\"type\":\"A\",\"seq\":0,\"transport\":\"udp\","
				    "\"rtt_ms\":21.300,\"expect_rtt_ms\":80.100,\"ip_ttl\":53,\"ip_ttl_learnt\":44,"
				    "\"flags\":\"0x8180\",\"counts\":\"1/1/0/0\",\"opt\":false,\"cookie\":false,"
				    "\"answer\":[\"65.49.2.178\"],\"signals\":[\"no-opt\",\"early\",\"ip-ttl\"],"
				    "\"score\":-105,\"verdict\":\"forged\",\"why\":\"dropped as forged: "));
	assert_non_null(strstr(buf, "(21.300 ms, usually 80.100 ms)"));
	assert_non_null(strstr(buf, "(53, usually 44)"));
	/* unknowns are null, TCP said */
	r.expect_rtt_us = 0;
	r.ip_ttl = -1;
	r.ip_ttl_learnt = -1;
	r.tcp = true;
	r.signals = 0;
	r.verdict = V_ACCEPTED;
	n = verdict_format(&r, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"expect_rtt_ms\":null,\"ip_ttl\":null,\"ip_ttl_learnt\":null"));
	assert_non_null(strstr(buf, "\"transport\":\"tcp\""));
	assert_non_null(strstr(buf, "nothing unusual about it"));
	/* too small a buffer: snprintf-like length */
	char tiny[16];
	int need = verdict_format(&r, tiny, sizeof(tiny));
	assert_int_equal(need, n);
	assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
}

static void test_escape(void **st)
{
	(void)st;
	verdict_rec r = sample();
	static const uint8_t odd[] = "\4a\"b\\\2cn";
	r.qname = odd;
	r.why = "quote \" and\nnewline";
	char buf[4096];
	verdict_format(&r, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"why\":\"quote \\\" and\\u000anewline\"}"));
	/* the name text's own escapes are escaped again for JSON */
	assert_non_null(strstr(buf, "\\\\"));
}

static void test_names(void **st)
{
	(void)st;
	for (unsigned s = 0; s < VS_COUNT; s++) {
		assert_non_null(verdict_signal_name(s));
		assert_true(strlen(verdict_signal_why(s)) > 10);
		assert_string_not_equal(verdict_signal_name(s), "?");
	}
	assert_string_equal(verdict_signal_name(VS_COUNT), "?");
	assert_string_equal(verdict_kind_name(V_CHOSEN), "chosen");
	assert_string_equal(verdict_kind_name(V_COUNT), "?");
	assert_true((VS_PROOF & VS_BIT(VS_LIST)) && !(VS_PROOF & VS_BIT(VS_NO_OPT)));
}

static void test_counters(void **st)
{
	(void)st;
	verdict_counters c;
	memset(&c, 0, sizeof(c));
	verdict_inc(&c.accepted);
	verdict_inc(&c.accepted);
	verdict_inc(&c.forged);
	verdict_inc(&c.escalations);
	verdict_totals t;
	memset(&t, 0, sizeof(t));
	verdict_add(&t, &c);
	verdict_add(&t, &c);
	assert_int_equal(t.accepted, 4);
	assert_int_equal(t.forged, 2);
	assert_int_equal(t.escalations, 2);
	assert_int_equal(t.held, 0);
	char s[512];
	verdict_totals_str(&t, s, sizeof(s));
	assert_non_null(strstr(s, "accepted=4 "));
	assert_non_null(strstr(s, "forged=2 "));
	assert_non_null(strstr(s, "escalations=2 "));
}

static void test_log_file(void **st)
{
	(void)st;
	char path[64] = "/tmp/antidote-verdicts.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	char err[256];
	verdict_log *l = verdict_log_open(path, err, sizeof(err));
	assert_non_null(l);
	verdict_rec r = sample();
	verdict_log_write(l, &r);
	/* a huge answer list is cut, the line stays whole */
	const char *many[400];
	for (int i = 0; i < 400; i++)
		many[i] = "2001:4188:2:600:10:10:34:34";
	r.answer = many;
	r.nanswer = 400;
	verdict_log_write(l, &r);
	verdict_log_write(NULL, &r);
	verdict_log_close(l);
	FILE *f = fopen(path, "r");
	char line[8192];
	int lines = 0;
	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);
		assert_int_equal(line[n - 1], '\n');
		assert_int_equal(line[0], '{');
		assert_int_equal(line[n - 2], '}');
		lines++;
	}
	fclose(f);
	assert_int_equal(lines, 2);
	unlink(path);
	assert_null(verdict_log_open("/nonexistent/dir/x", err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/dir/x"));
}

static int count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[8192];
	int n = 0;
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	return n;
}

/* Log rotation: after the file is moved away and the log reopened, new
 * lines go to the new file and none is lost or split. */
static void test_log_reopen(void **st)
{
	(void)st;
	char path[64] = "/tmp/antidote-vreopen.XXXXXX", moved[80];
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	snprintf(moved, sizeof(moved), "%s.1", path);
	char err[256];
	verdict_log *l = verdict_log_open(path, err, sizeof(err));
	assert_non_null(l);
	verdict_rec r = sample();
	verdict_log_write(l, &r);
	verdict_log_write(l, &r);
	assert_int_equal(rename(path, moved), 0);
	verdict_log_write(l, &r); /* still the old file (moved) */
	assert_int_equal(verdict_log_reopen(l, path, err, sizeof(err)), 0);
	verdict_log_write(l, &r);
	verdict_log_flush(l);
	assert_int_equal(count_lines(moved), 3);
	assert_int_equal(count_lines(path), 1);
	/* a path that cannot be opened: an error, and the log goes on */
	assert_true(verdict_log_reopen(l, "/nonexistent/dir/v", err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "/nonexistent/dir/v"));
	verdict_log_write(l, &r);
	verdict_log_close(l);
	assert_int_equal(count_lines(path), 2);
	unlink(path);
	unlink(moved);
	/* stdout cannot be reopened */
	l = verdict_log_open("-", err, sizeof(err));
	assert_true(verdict_log_reopen(l, path, err, sizeof(err)) < 0);
	verdict_log_close(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),   cmocka_unit_test(test_escape),
		cmocka_unit_test(test_names),    cmocka_unit_test(test_counters),
		cmocka_unit_test(test_log_file), cmocka_unit_test(test_log_reopen),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
