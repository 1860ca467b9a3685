/* test_watchrun — the lab's watches: canaries drawn from a synthetic
 * internet (distinct bases, .cn ones, blocklisted sites and rule matches
 * left out, deterministic), events folded into a summary (epoch offset,
 * clear matched by id, stop counters, overflow), scoring against a fault
 * window (detect, clear, false positives before / after / without a
 * window, unexpected kinds, still active), and the JSON writer. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inject/rules.h"
#include "lab/internet.h"
#include "lab/watchrun.h"
#include "probe/incident.h"

#define EP 1000.0 /* epoch, Unix seconds */

static void feed(struct watch_summary *s, const char *text)
{
	char *dup = strdup(text);
	for (char *save = NULL, *l = strtok_r(dup, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		watchrun_line(s, l, EP);
	free(dup);
}

static const char JAN21[] =
	"watch: 36 canaries at 127.0.0.1:5353 every 0.25 s; learning 3 rounds\n"
	"{\"event\":\"ready\",\"t\":998.500,\"round\":3,\"canaries\":36,\"resolver\":\"127.0.0.1:5353\"}\n"
	"{\"event\":\"raise\",\"id\":1,\"kind\":\"hijack\",\"t\":1005.300,\"round\":30,\"address\":\"65.49.2.178\","
	"\"names\":30,\"bases\":30,\"sample\":[\"w1.a.com\"],\"resolver\":\"127.0.0.1:5353\"}\n"
	"not json at all\n"
	"{\"event\":\"clear\",\"id\":1,\"kind\":\"hijack\",\"t\":1010.600,\"round\":51,\"raised_round\":30,"
	"\"duration_s\":5.3,\"address\":\"65.49.2.178\",\"names\":0,\"bases\":0,\"sample\":[],\"resolver\":\"x\"}\n"
	"{\"event\":\"stop\",\"t\":1016.000,\"rounds\":70,\"queries\":2520,\"answered\":2500,\"timeouts\":20,"
	"\"raised\":1,\"cleared\":1,\"active\":0}\n";

static const struct watch_window W_JAN21 = {true, 5, 10, "hijack", "65.49.2.178"};

static void test_parse(void **state)
{
	(void)state;
	struct watch_summary s;
	memset(&s, 0, sizeof(s));
	feed(&s, JAN21);
	assert_true(s.ready);
	assert_true(fabs(s.ready_s + 1.5) < 1e-6);
	assert_int_equal(s.canaries, 36);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.inc[0].kind, "hijack");
	assert_string_equal(s.inc[0].what, "65.49.2.178");
	assert_true(fabs(s.inc[0].raise_s - 5.3) < 1e-6);
	assert_true(fabs(s.inc[0].clear_s - 10.6) < 1e-6);
	assert_true(s.stopped);
	assert_int_equal(s.rounds, 70);
	assert_int_equal(s.queries, 2520);
	assert_int_equal(s.timeouts, 20);

	watchrun_score(&s, &W_JAN21);
	assert_true(fabs(s.detect_s - 0.3) < 1e-6);
	assert_true(fabs(s.clear_s - 0.6) < 1e-6);
	assert_int_equal(s.false_pos, 0);
	assert_int_equal(s.in_window, 1);
	assert_true(s.inc[0].in_window);

	/* the same events in a scenario without a fault: a false positive */
	struct watch_window none = {false, 0, 0, NULL, NULL};
	watchrun_score(&s, &none);
	assert_int_equal(s.false_pos, 1);
	assert_true(isnan(s.detect_s));
	assert_true(isnan(s.clear_s));
}

static void test_score(void **state)
{
	(void)state;
	struct watch_summary s;
	memset(&s, 0, sizeof(s));
	/* a raise before the fault, the expected one, a tld-outage inside (not
	 * expected: neither a detection nor a false positive), one long after */
	feed(&s, "{\"event\":\"raise\",\"id\":1,\"kind\":\"hijack\",\"t\":1002,\"address\":\"1.2.3.4\"}\n"
		 "{\"event\":\"clear\",\"id\":1,\"kind\":\"hijack\",\"t\":1003}\n"
		 "{\"event\":\"raise\",\"id\":2,\"kind\":\"tld-outage\",\"t\":1005.1,\"tld\":\"com\"}\n"
		 "{\"event\":\"raise\",\"id\":3,\"kind\":\"hijack\",\"t\":1006.2,\"address\":\"65.49.2.178\"}\n"
		 "{\"event\":\"clear\",\"id\":2,\"kind\":\"tld-outage\",\"t\":1009}\n"
		 "{\"event\":\"raise\",\"id\":4,\"kind\":\"hijack\",\"t\":1013,\"address\":\"9.9.9.9\"}\n");
	assert_int_equal(s.n, 4);
	assert_string_equal(s.inc[1].what, "com");
	watchrun_score(&s, &W_JAN21);
	assert_int_equal(s.false_pos, 2);
	assert_int_equal(s.in_window, 2);
	assert_true(fabs(s.detect_s - 1.2) < 1e-6);
	assert_true(isnan(s.clear_s)); /* the hijack never cleared */
	assert_false(s.inc[0].in_window);
	assert_true(s.inc[1].in_window);
	assert_false(s.inc[3].in_window);

	/* the raise just after the end counts within the grace */
	struct watch_summary g;
	memset(&g, 0, sizeof(g));
	feed(&g, "{\"event\":\"raise\",\"id\":1,\"kind\":\"hijack\",\"t\":1010.5,\"address\":\"65.49.2.178\"}\n"
		 "{\"event\":\"clear\",\"id\":1,\"t\":1010.9}\n");
	watchrun_score(&g, &W_JAN21);
	assert_int_equal(g.false_pos, 0);
	assert_true(fabs(g.detect_s - 5.5) < 1e-6);
	assert_true(fabs(g.clear_s - 0.9) < 1e-6);

	/* only an unexpected kind in the window: no detection, its clear counts */
	struct watch_summary u;
	memset(&u, 0, sizeof(u));
	feed(&u, "{\"event\":\"raise\",\"id\":7,\"kind\":\"tld-outage\",\"t\":1006,\"tld\":\"net\"}\n"
		 "{\"event\":\"clear\",\"id\":7,\"t\":1009.5}\n");
	watchrun_score(&u, &W_JAN21);
	assert_true(isnan(u.detect_s));
	assert_true(fabs(u.clear_s + 0.5) < 1e-6); /* cleared before the end */
	assert_int_equal(u.false_pos, 0);

	/* nothing at all */
	struct watch_summary z;
	memset(&z, 0, sizeof(z));
	watchrun_score(&z, &W_JAN21);
	assert_true(isnan(z.detect_s) && isnan(z.clear_s));
	assert_int_equal(z.false_pos, 0);
}

static void test_overflow(void **state)
{
	(void)state;
	struct watch_summary s;
	memset(&s, 0, sizeof(s));
	for (unsigned i = 0; i < WATCHRUN_MAXINC + 5; i++) {
		char l[200];
		snprintf(l, sizeof(l), "{\"event\":\"raise\",\"id\":%u,\"kind\":\"hijack\",\"t\":%u,\"address\":\"1.1.1.1\"}",
			 i + 1, 1001 + i);
		watchrun_line(&s, l, EP);
	}
	/* a clear for an unknown id changes nothing */
	watchrun_line(&s, "{\"event\":\"clear\",\"id\":999,\"t\":1100}", EP);
	assert_int_equal(s.n, WATCHRUN_MAXINC);
	assert_int_equal(s.lost, 5);
	for (unsigned i = 0; i < s.n; i++)
		assert_true(isnan(s.inc[i].clear_s));
	struct watch_window none = {false, 0, 0, NULL, NULL};
	watchrun_score(&s, &none);
	assert_int_equal(s.false_pos, WATCHRUN_MAXINC + 5);
}

static void test_json(void **state)
{
	(void)state;
	struct watch_summary s;
	memset(&s, 0, sizeof(s));
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	watchrun_json(&s, f); /* no watch */
	fclose(f);
	assert_string_equal(buf, "null");
	free(buf);
	s.on = true;
	feed(&s, JAN21);
	watchrun_score(&s, &W_JAN21);
	f = open_memstream(&buf, &len);
	watchrun_json(&s, f);
	watchrun_table_head(f);
	watchrun_table_row("dnsmasq", &s, f);
	fclose(f);
	assert_non_null(strstr(buf, "\"detect_s\": 0.300"));
	assert_non_null(strstr(buf, "\"clear_s\": 0.600"));
	assert_non_null(strstr(buf, "\"false_positives\": 0"));
	assert_non_null(strstr(buf, "\"incidents\": [{\"id\": 1, \"kind\": \"hijack\", \"what\": \"65.49.2.178\""));
	assert_non_null(strstr(buf, "dnsmasq"));
	assert_non_null(strstr(buf, "hijack 65.49.2.178 5.30-10.60"));
	free(buf);
	/* an open incident: clear_s null */
	memset(&s, 0, sizeof(s));
	s.on = true;
	feed(&s, "{\"event\":\"raise\",\"id\":1,\"kind\":\"hijack\",\"t\":1006,\"address\":\"65.49.2.178\"}");
	watchrun_score(&s, &W_JAN21);
	f = open_memstream(&buf, &len);
	watchrun_json(&s, f);
	fclose(f);
	assert_non_null(strstr(buf, "\"clear_s\": null"));
	assert_non_null(strstr(buf, "\"detect_s\": 1.000"));
	free(buf);
}

static void test_canaries(void **state)
{
	(void)state;
	struct internet net;
	struct internet_opts o;
	internet_opts_default(&o);
	o.sites = 600;
	o.domestic_pct = 20;
	o.listed_pct = 0;
	char err[256];
	assert_int_equal(internet_build(&net, &o, NULL, 0, NULL, 0, err, sizeof(err)), 0);
	/* block the first generated .com site's zone and see it never appears */
	struct rules *r = rules_new();
	const char *blocked = NULL;
	for (unsigned i = 0; i < net.n && !blocked; i++)
		if (net.site[i].origin == SITE_GENERATED && net.site[i].cno && !net.site[i].domestic)
			blocked = net.site[i].zone;
	assert_non_null(blocked);
	assert_true(rules_add(r, RULE_DOMAIN, blocked, false) >= 0);
	assert_int_equal(rules_build(r), 0);

	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	unsigned a = 0, c = 0;
	int n = watchrun_canaries(&net, r, 7, 20, 4, f, &a, &c);
	fclose(f);
	assert_int_equal(n, 24);
	assert_int_equal(a, 20);
	assert_int_equal(c, 4);
	char bases[24][SITE_NAMEMAX];
	unsigned nb = 0, ncn = 0;
	for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		assert_true(l[0] == '*' && l[1] == '.');
		assert_string_not_equal(l + 2, blocked);
		char b[SITE_NAMEMAX], t[64];
		incident_base(l, b, sizeof(b));
		incident_tld(l, t, sizeof(t));
		if (!strcmp(t, "cn"))
			ncn++;
		else
			assert_true(!strcmp(t, "com") || !strcmp(t, "net") || !strcmp(t, "org"));
		for (unsigned k = 0; k < nb; k++)
			assert_string_not_equal(bases[k], b);
		snprintf(bases[nb++], SITE_NAMEMAX, "%s", b);
	}
	assert_int_equal(nb, 24);
	assert_int_equal(ncn, 4);
	free(buf);

	/* deterministic for a seed, different for another */
	char *b1 = NULL, *b2 = NULL, *b3 = NULL;
	size_t l1, l2, l3;
	f = open_memstream(&b1, &l1);
	watchrun_canaries(&net, NULL, 7, 10, 2, f, NULL, NULL);
	fclose(f);
	f = open_memstream(&b2, &l2);
	watchrun_canaries(&net, NULL, 7, 10, 2, f, NULL, NULL);
	fclose(f);
	f = open_memstream(&b3, &l3);
	watchrun_canaries(&net, NULL, 8, 10, 2, f, NULL, NULL);
	fclose(f);
	assert_string_equal(b1, b2);
	assert_string_not_equal(b1, b3);
	free(b1);
	free(b2);
	free(b3);

	/* asking for more than there is: what there is */
	f = open_memstream(&buf, &len);
	n = watchrun_canaries(&net, NULL, 1, 100000, 100000, f, &a, &c);
	fclose(f);
	assert_true(n > 0 && (unsigned)n == a + c && a < 100000);
	free(buf);
	rules_free(r);
	internet_free(&net);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_score),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_canaries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
