/* test_probe_run — scoring the lab's probe of its border: the names asked
 * (blocklisted + as many unlisted), the generated nine-kind rule set (each
 * base's kind is what the rules give on its variants), the expected kind of
 * any base, precision/recall of the censored-name set against an injector
 * log (names not asked ignored, case folded), pools per injector (exact
 * match only), rule-kind accuracy with the wrong ones named, the writers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inject/rules.h"
#include "lab/internet.h"
#include "lab/probe_run.h"
#include "probe/rulekind.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_probe_run.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *put(const char *name, const char *text)
{
	static char paths[8][128];
	static int k;
	char *p = paths[k++ % 8];
	snprintf(p, 128, "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return p;
}

static void test_kind_rules(void **state)
{
	(void)state;
	char *rb = NULL, *tb = NULL;
	size_t rl, tl;
	FILE *rf = open_memstream(&rb, &rl), *tf = open_memstream(&tb, &tl);
	assert_int_equal(probe_run_kind_rules(2, rf, tf), 2 * RK_NKINDS);
	fclose(rf);
	fclose(tf);
	assert_non_null(strstr(rb, "s1k0.com\n"));
	assert_non_null(strstr(rb, "*.s7k3.com\n"));
	assert_non_null(strstr(rb, "*s18k8.com*\n"));
	assert_non_null(strstr(tb, "s3k1.com base.*\n"));
	/* every generated base classifies as its kind under the rules */
	const char *rp = put("rules", rb);
	struct rules *r = rules_new();
	char err[200];
	assert_int_equal(rules_load_file(r, rp, err, sizeof(err)), 2 * RK_NKINDS);
	assert_int_equal(rules_build(r), 0);
	unsigned n = 0;
	for (char *save = NULL, *l = strtok_r(tb, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(l, ' ');
		assert_non_null(sp);
		*sp = 0;
		assert_string_equal(rulekind_name((enum rk_kind)probe_run_expected_kind(r, l)), sp + 1);
		n++;
	}
	assert_int_equal(n, 2 * RK_NKINDS);
	assert_int_equal(probe_run_expected_kind(r, "elsewhere.org"), RK_UNBLOCKED);
	rules_free(r);
	free(rb);
	free(tb);
	/* none */
	rf = open_memstream(&rb, &rl);
	tf = open_memstream(&tb, &tl);
	assert_int_equal(probe_run_kind_rules(0, rf, tf), 0);
	fclose(rf);
	fclose(tf);
	assert_int_equal(rl, 0);
	free(rb);
	free(tb);
}

static const char NAMES[] = "a.com\nwww.b.com\nc.net\nd.org\ne.com\nf.com\n";
/* the log: a, www.b, c forged by two injectors; a name not asked; case */
static const char LOG[] =
	"{\"t\":1.0,\"qname\":\"a.com\",\"injector\":\"gfw1\",\"type\":\"A\",\"address\":\"10.0.0.1\"}\n"
	"{\"t\":1.0,\"qname\":\"a.com\",\"injector\":\"gfw2\",\"type\":\"A\",\"address\":\"10.0.1.1\"}\n"
	"{\"t\":1.1,\"qname\":\"WWW.B.com\",\"injector\":\"gfw1\",\"type\":\"A\",\"address\":\"10.0.0.2\"}\n"
	"{\"t\":1.1,\"qname\":\"www.b.com\",\"injector\":\"gfw2\",\"type\":\"A\",\"address\":\"10.0.1.1\"}\n"
	"{\"t\":1.2,\"qname\":\"c.net\",\"injector\":\"gfw1\",\"type\":\"A\",\"address\":\"10.0.0.1\"}\n"
	"{\"t\":1.3,\"qname\":\"lab-ready.invalid\",\"injector\":\"gfw1\",\"type\":\"A\",\"address\":\"10.9.9.9\"}\n";

static void test_score_names(void **state)
{
	(void)state;
	const char *np = put("names", NAMES), *lp = put("log", LOG);
	/* the probe: a, b forged (c missed), d wrongly forged; injector 1 has
	 * gfw1's pool exactly, injector 2 one address too many */
	const char *pp = put("probe",
			     "{\"name\":\"a.com\",\"type\":\"A\",\"target\":\"127.0.0.1:1\",\"verdict\":\"forged\",\"attempts\":1}\n"
			     "{\"name\":\"www.b.com\",\"type\":\"A\",\"target\":\"127.0.0.1:1\",\"verdict\":\"forged\"}\n"
			     "{\"name\":\"c.net\",\"type\":\"A\",\"target\":\"127.0.0.1:1\",\"verdict\":\"none\"}\n"
			     "{\"name\":\"d.org\",\"type\":\"A\",\"target\":\"127.0.0.1:1\",\"verdict\":\"forged\"}\n"
			     "{\"name\":\"e.com\",\"type\":\"A\",\"target\":\"127.0.0.1:1\",\"verdict\":\"none\"}\n"
			     "{\"injector\":1,\"flags\":\"8180\",\"pool_size\":2,\"pool\":[\"10.0.0.2\",\"10.0.0.1\"]}\n"
			     "{\"injector\":2,\"flags\":\"8580\",\"pool_size\":2,\"pool\":[\"10.0.1.1\",\"10.0.1.9\"]}\n"
			     "{\"summary\":{\"queries\":5}}\n");
	struct probe_summary s;
	memset(&s, 0, sizeof(s));
	assert_int_equal(probe_run_score_names(np, lp, pp, NULL, &s), 0);
	assert_int_equal(s.names, 6);
	assert_int_equal(s.truth, 3);
	assert_int_equal(s.found, 3);
	assert_int_equal(s.tp, 2);
	assert_true(s.precision > 0.666 && s.precision < 0.667);
	assert_true(s.recall > 0.666 && s.recall < 0.667);
	assert_int_equal(s.injectors_found, 2);
	assert_int_equal(s.ninj, 2);
	assert_string_equal(s.inj[0].name, "gfw1");
	assert_true(s.inj[0].recovered);
	assert_int_equal(s.inj[0].pool_log, 2);
	assert_string_equal(s.inj[1].name, "gfw2");
	assert_false(s.inj[1].recovered);
	assert_int_equal(s.inj[1].pool_log, 1);
	assert_int_equal(s.inj[1].pool_found, 2);
	assert_int_equal(s.pools_recovered, 1);

	/* perfect */
	pp = put("probe2", "{\"name\":\"a.com\",\"verdict\":\"forged\"}\n{\"name\":\"WWW.B.COM\",\"verdict\":\"forged\"}\n"
			   "{\"name\":\"c.net\",\"verdict\":\"forged\"}\n"
			   "{\"injector\":1,\"pool\":[\"10.0.0.1\",\"10.0.0.2\"]}\n{\"injector\":2,\"pool\":[\"10.0.1.1\"]}\n");
	assert_int_equal(probe_run_score_names(np, lp, pp, NULL, &s), 0);
	assert_true(s.precision == 1 && s.recall == 1);
	assert_int_equal(s.pools_recovered, 2);

	/* nothing forged anywhere: precision and recall 1 (nothing to find) */
	const char *el = put("emptylog", "");
	pp = put("probe3", "{\"name\":\"a.com\",\"verdict\":\"none\"}\n");
	assert_int_equal(probe_run_score_names(np, el, pp, NULL, &s), 0);
	assert_true(s.precision == 1 && s.recall == 1);
	assert_int_equal(s.ninj, 0);

	/* missing files */
	assert_true(probe_run_score_names(np, "/nonexistent/log", pp, NULL, &s) < 0);
	assert_true(probe_run_score_names("/nonexistent/names", lp, pp, NULL, &s) < 0);
}

static void test_score_kinds(void **state)
{
	(void)state;
	const char *tp = put("ktruth", "s1k0.com exact\ns2k3.com *.base\ns3k8.com *base*\nfacebook.com *.base\n");
	const char *pp = put("kprobe",
			     "{\"name\":\"s1k0.com\",\"verdict\":\"forged\"}\n"
			     "{\"base\":\"s1k0.com\",\"target\":\"127.0.0.1:1\",\"kind\":\"exact\",\"rule\":\"s1k0.com\"}\n"
			     "{\"base\":\"s2k3.com\",\"target\":\"127.0.0.1:1\",\"kind\":\"*.base\",\"rule\":\"*.s2k3.com\"}\n"
			     "{\"base\":\"s3k8.com\",\"target\":\"127.0.0.1:1\",\"kind\":\"*base.*\",\"rule\":\"x\"}\n"
			     "{\"base\":\"facebook.com\",\"target\":\"127.0.0.1:1\",\"kind\":\"*.base\",\"rule\":\"x\"}\n");
	struct probe_summary s;
	memset(&s, 0, sizeof(s));
	assert_int_equal(probe_run_score_kinds(tp, pp, 3, &s), 0);
	assert_int_equal(s.bases, 4);
	assert_int_equal(s.kinds_right, 3);
	assert_int_equal(s.gen_bases, 3);
	assert_int_equal(s.gen_right, 2);
	assert_int_equal(s.list_bases, 1);
	assert_int_equal(s.list_right, 1);
	assert_true(s.kind_accuracy == 0.75);
	assert_int_equal(s.nwrong, 1);
	assert_string_equal(s.wrong[0], "s3k8.com: want *base*, got *base.*");
	/* a base the probe did not report */
	tp = put("ktruth2", "s9k1.com base.*\n");
	assert_int_equal(probe_run_score_kinds(tp, pp, 1, &s), 0);
	assert_int_equal(s.kinds_right, 0);
	assert_string_equal(s.wrong[0], "s9k1.com: want base.*, got nothing");
	assert_true(probe_run_score_kinds("/nonexistent", pp, 1, &s) < 0);
}

static void test_names_and_writers(void **state)
{
	(void)state;
	struct internet net;
	struct internet_opts o;
	internet_opts_default(&o);
	o.sites = 300;
	char err[200];
	assert_int_equal(internet_build(&net, &o, NULL, 0, NULL, 0, err, sizeof(err)), 0);
	/* mark 10 foreign sites blocked by hand */
	unsigned marked = 0;
	for (unsigned i = 0; i < net.n && marked < 10; i++)
		if (!net.site[i].domestic) {
			net.site[i].blocked = true;
			marked++;
		}
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	unsigned listed = 0;
	assert_int_equal(probe_run_names(&net, f, &listed), 20);
	fclose(f);
	assert_int_equal(listed, 10);
	unsigned nb = 0, n = 0;
	for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		int si = internet_find(&net, l, strlen(l));
		assert_true(si >= 0);
		assert_false(net.site[si].domestic);
		nb += net.site[si].blocked;
		n++;
	}
	assert_int_equal(n, 20);
	assert_int_equal(nb, 10);
	free(buf);
	internet_free(&net);

	struct probe_summary s;
	memset(&s, 0, sizeof(s));
	f = open_memstream(&buf, &len);
	probe_run_json(&s, f);
	probe_run_table(&s, f); /* off: nothing */
	fclose(f);
	assert_string_equal(buf, "null");
	free(buf);
	s.on = s.ok = true;
	s.names = 20;
	s.truth = s.found = s.tp = 10;
	s.precision = s.recall = 1;
	s.ninj = 1;
	snprintf(s.inj[0].name, sizeof(s.inj[0].name), "gfw3");
	s.inj[0].recovered = true;
	s.inj[0].pool_log = s.inj[0].pool_found = 7;
	s.pools_recovered = 1;
	s.bases = s.kinds_right = 4;
	s.kind_accuracy = 1;
	f = open_memstream(&buf, &len);
	probe_run_json(&s, f);
	probe_run_table(&s, f);
	fclose(f);
	assert_non_null(strstr(buf, "\"precision\": 1.0000, \"recall\": 1.0000"));
	assert_non_null(strstr(buf, "{\"name\": \"gfw3\", \"pool_log\": 7, \"pool_found\": 7, \"recovered\": true}"));
	assert_non_null(strstr(buf, "\"accuracy\": 1.0000"));
	assert_non_null(strstr(buf, "pools recovered 1/1: gfw3 exact"));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kind_rules),
		cmocka_unit_test(test_score_names),
		cmocka_unit_test(test_score_kinds),
		cmocka_unit_test(test_names_and_writers),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
