/* test_report — phases, counters, shares, latency quantiles, and the
 * table / JSON / SVG / progress writers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/err.h"
#include "lab/report.h"

static void setup(struct report *r, bool window)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->scenario, sizeof(r->scenario), "jan21");
	snprintf(r->profile, sizeof(r->profile), "jan21");
	r->sites = 100;
	r->rate = 10;
	r->duration_ms = 10000;
	r->has_window = window;
	r->fault_start_ms = 3000;
	r->fault_len_ms = 4000;
	assert_int_equal(report_init(r), 0);
	assert_int_equal(r->nsec, 10);
	assert_int_equal(report_add_resolver(r, "dnsmasq", "Debian dnsmasq", false), 0);
	assert_int_equal(report_add_resolver(r, "antidote-on", "defence on", true), 1);
}

static unsigned count(const char *hay, const char *needle)
{
	unsigned n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void test_phases(void **state)
{
	(void)state;
	struct report r;
	setup(&r, true);
	assert_int_equal(report_phase_at(&r, 0), PHASE_BEFORE);
	assert_int_equal(report_phase_at(&r, 2999), PHASE_BEFORE);
	assert_int_equal(report_phase_at(&r, 3000), PHASE_FAULT);
	assert_int_equal(report_phase_at(&r, 6999), PHASE_FAULT);
	assert_int_equal(report_phase_at(&r, 7000), PHASE_AFTER);
	r.has_window = false;
	assert_int_equal(report_phase_at(&r, 5000), PHASE_BEFORE);
	report_free(&r);
}

static void test_counts_and_shares(void **state)
{
	(void)state;
	struct report r;
	setup(&r, true);
	/* second 4 (fault): 3 forged (1 off the blocklist), 1 genuine */
	for (int i = 0; i < 4; i++)
		report_sent(&r, 0, 4100, i < 3);
	report_record(&r, 0, 4100, TRUTH_FORGED, true, 100);
	report_record(&r, 0, 4200, TRUTH_FORGED, true, 100);
	report_record(&r, 0, 4300, TRUTH_FORGED, false, 100);
	report_record(&r, 0, 4400, TRUTH_GENUINE, false, 1000);
	/* second 0: a timeout and a servfail */
	report_record(&r, 0, 10, TRUTH_TIMEOUT, false, 0);
	report_record(&r, 0, 20, TRUTH_SERVFAIL, false, 50);
	/* out of range times go to the first/last second */
	report_record(&r, 0, -5, TRUTH_GENUINE, false, 10);
	report_record(&r, 0, 99999, TRUTH_GENUINE, false, 10);
	const struct report_res *x = &r.res[0];
	assert_int_equal(report_done(&x->total), 8);
	assert_int_equal(report_answers(&x->total), 7);
	assert_int_equal(x->total.sent, 4);
	assert_int_equal(x->total.exposed, 3);
	assert_int_equal(x->phase[PHASE_FAULT].v[TRUTH_FORGED], 3);
	assert_int_equal(x->phase[PHASE_FAULT].forged_unblocked, 1);
	assert_true(fabs(report_share(&x->phase[PHASE_FAULT], TRUTH_FORGED) - 0.75) < 1e-9);
	assert_int_equal(x->sec[4].v[TRUTH_FORGED], 3);
	assert_int_equal(x->sec[0].v[TRUTH_TIMEOUT], 1);
	assert_int_equal(report_done(&x->sec[0]), 3);
	assert_int_equal(report_done(&x->sec[9]), 1);
	assert_int_equal(x->phase[PHASE_AFTER].v[TRUTH_GENUINE], 1);
	assert_true(report_share(&x->phase[PHASE_BEFORE], TRUTH_FORGED) == 0);
	/* an empty cell */
	assert_true(report_share(&r.res[1].total, TRUTH_FORGED) == 0);
	assert_true(report_lat_ms(&r.res[1].total, 0.5) < 0);
	report_free(&r);
}

static void test_latency(void **state)
{
	(void)state;
	assert_int_equal(report_lat_bucket(0), 0);
	assert_int_equal(report_lat_bucket(1), 0);
	assert_int_equal(report_lat_bucket(10), 10);
	assert_int_equal(report_lat_bucket(1000), 30);
	assert_int_equal(report_lat_bucket(UINT32_MAX), REPORT_LATB - 1);
	struct report_cell c = {0};
	for (int i = 0; i < 98; i++)
		c.lat[report_lat_bucket(1000)]++; /* 1 ms */
	c.lat[report_lat_bucket(100000)] += 2;    /* 100 ms */
	double p50 = report_lat_ms(&c, 0.5), p99 = report_lat_ms(&c, 0.99);
	assert_true(p50 > 0.95 && p50 < 1.3);
	assert_true(p99 > 95 && p99 < 130);
	assert_true(report_lat_ms(&c, 0.98) < 2);
}

static char *capture(struct report *r, int (*fn)(const struct report *, FILE *))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(fn(r, f), 0);
	fclose(f);
	return buf;
}

static int table(const struct report *r, FILE *f)
{
	report_table(r, f);
	return 0;
}

static void fill(struct report *r)
{
	for (unsigned s = 0; s < 10; s++)
		for (int i = 0; i < 10; i++) {
			int64_t t = s * 1000 + i * 100;
			report_sent(r, 0, t, true);
			report_sent(r, 1, t, true);
			bool fault = report_phase_at(r, t) == PHASE_FAULT;
			report_record(r, 0, t, fault && i < 8 ? TRUTH_FORGED : TRUTH_GENUINE, false, 500);
			report_record(r, 1, t, TRUTH_GENUINE, false, 700);
		}
	r->res[0].probe[0] = (struct report_probe){.asked = 40, .answered = 40, .forged = 30};
}

static void test_json(void **state)
{
	(void)state;
	struct report r;
	setup(&r, true);
	fill(&r);
	char *j = capture(&r, report_json);
	assert_non_null(strstr(j, "\"scenario\": \"jan21\""));
	assert_non_null(strstr(j, "\"fault\": {\"start_s\": 3.000, \"length_s\": 4.000}"));
	assert_non_null(strstr(j, "\"name\": \"dnsmasq\""));
	assert_non_null(strstr(j, "\"defended\": true"));
	/* totals: 100 queries, 32 forged for dnsmasq */
	assert_non_null(strstr(j, "\"queries\": 100, \"answers\": 100, \"genuine\": 68, \"forged\": 32"));
	assert_non_null(strstr(j, "\"fault_end\": {\"asked\": 40, \"answered\": 40, \"forged\": 30}"));
	assert_int_equal(count(j, "{\"t\": "), 20); /* 10 seconds x 2 resolvers */
	assert_int_equal(count(j, "{"), count(j, "}"));
	assert_int_equal(count(j, "["), count(j, "]"));
	assert_non_null(strstr(j, "\"forged_share\": 0.8"));
	free(j);
	/* names are escaped */
	snprintf(r.res[1].desc, sizeof(r.res[1].desc), "a \"quoted\\ thing");
	j = capture(&r, report_json);
	assert_non_null(strstr(j, "a \\\"quoted\\\\ thing"));
	free(j);
	r.has_window = false;
	j = capture(&r, report_json);
	assert_non_null(strstr(j, "\"fault\": null"));
	assert_non_null(strstr(j, "\"tune\": []"));
	free(j);
	/* the injector's --tune specs make the run reproducible */
	static const char *const tune[] = {"gfw2.fire=0.5", "gfw1.lead=-30..60"};
	r.tune = tune;
	r.ntune = 2;
	j = capture(&r, report_json);
	assert_non_null(strstr(j, "\"tune\": [\"gfw2.fire=0.5\", \"gfw1.lead=-30..60\"]"));
	free(j);
	j = capture(&r, table);
	assert_non_null(strstr(j, "(profile jan21 --tune gfw2.fire=0.5 --tune gfw1.lead=-30..60, border delay"));
	free(j);
	report_free(&r);
}

static void test_svg_table_progress(void **state)
{
	(void)state;
	struct report r;
	setup(&r, true);
	fill(&r);
	char *s = capture(&r, report_svg);
	assert_true(!strncmp(s, "<?xml", 5));
	assert_non_null(strstr(s, "</svg>\n"));
	assert_int_equal(count(s, "<polyline"), 4); /* 2 panels x 2 resolvers */
	assert_int_equal(count(s, ">fault window<"), 2);
	assert_int_equal(count(s, "stroke-dasharray"), 3); /* defended: 2 lines + legend */
	assert_non_null(strstr(s, "fault 80%"));
	/* fault window rectangle: x from 3 s to 7 s of 10 s over 70..780 */
	assert_non_null(strstr(s, "<rect x=\"283.0\" y=\"84\" width=\"284.0\""));
	assert_int_equal(count(s, "<"), count(s, ">"));
	free(s);
	char *t = capture(&r, table);
	assert_non_null(strstr(t, "dnsmasq"));
	assert_non_null(strstr(t, "antidote-on"));
	assert_non_null(strstr(t, "30/40"));
	assert_non_null(strstr(t, "80.0%"));
	free(t);
	r.has_window = false;
	s = capture(&r, report_svg);
	assert_null(strstr(s, "fault window"));
	free(s);
	/* progress: a plain line, or a \r-led one on a tty */
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	r.has_window = true;
	report_progress(&r, 5500, f, false);
	report_progress(&r, 5500, f, true);
	fclose(f);
	assert_non_null(strstr(buf, "[jan21   5.5s FAULT ] dnsmasq 10/s forged 80% fail  0%"));
	assert_int_equal(count(buf, "\n"), 1);
	assert_int_equal(count(buf, "\r"), 1);
	free(buf);
	report_free(&r);
}

static void test_too_many(void **state)
{
	(void)state;
	struct report r;
	setup(&r, false);
	for (int i = 2; i < REPORT_MAXRES; i++)
		assert_int_equal(report_add_resolver(&r, "x", NULL, false), i);
	assert_int_equal(report_add_resolver(&r, "x", NULL, false), DNS_ESPACE);
	report_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phases),	cmocka_unit_test(test_counts_and_shares),
		cmocka_unit_test(test_latency), cmocka_unit_test(test_json),
		cmocka_unit_test(test_svg_table_progress), cmocka_unit_test(test_too_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
