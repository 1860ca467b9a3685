/* test_internet — the lab's synthetic internet: site mix from the lists,
 * no nesting, documentation addresses, TTL scaling, determinism, lookup,
 * blocklist marking, zone files that antidote serve loads. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dns/err.h"
#include "dns/name.h"
#include "inject/rules.h"
#include "lab/internet.h"
#include "serve/zone.h"

static const char GFW[] = "[AutoProxy 0.2.9]\n"
			  "! comment\n"
			  "||facebook.com\n"
			  "||twitter.com\n"
			  "|http://www.rsf.org/\n"
			  "|https://cdn*.search.xxx/\n"
			  "@@||allowed.com\n"
			  "plainkeyword\n"
			  "/^https?:\\/\\/[^\\/]+blogspot\\.(.*)/\n"
			  "||nyinfor.com\n"
			  "||bbs.nyinfor.com\n"
			  "||1.2.3.4\n"
			  "||shop.example.cn\n"
			  ".wikipedia.org\n"
			  "||ramcity.com.au\n"
			  "||youtube.com:443\n";

static const char CHINA[] = "server=/baidu.com/114.114.114.114\n"
			    "server=/qq.com/114.114.114.114\n"
			    "server=/taobao.com/114.114.114.114\n"
			    "server=/163.com/114.114.114.114\n"
			    "server=/already.cn/114.114.114.114\n"
			    "# not a server line\n"
			    "server=/sina.com.cn/114.114.114.114\n";

static struct internet_opts opts(unsigned n)
{
	struct internet_opts o;
	internet_opts_default(&o);
	o.sites = n;
	o.domestic_pct = 20;
	o.listed_pct = 40;
	return o;
}

static bool in_doc4(const uint8_t *a)
{
	return (a[0] == 192 && a[1] == 0 && a[2] == 2) || (a[0] == 198 && a[1] == 51 && a[2] == 100) ||
	       (a[0] == 203 && a[1] == 0 && a[2] == 113);
}

static bool ends_with_label(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a == b ? !strcmp(s, suffix) : a > b && s[a - b - 1] == '.' && !strcmp(s + a - b, suffix);
}

static void test_mix_and_invariants(void **state)
{
	(void)state;
	struct internet net;
	char err[256];
	struct internet_opts o = opts(50);
	assert_int_equal(internet_build(&net, &o, GFW, strlen(GFW), CHINA, strlen(CHINA), err, sizeof(err)), 0);
	assert_int_equal(net.n, 50);
	/* 10 domestic: 5 from the china list (only 4 usable: .cn ones skipped),
	 * the rest under .cn; 20 listed wanted but gfwlist yields fewer */
	assert_int_equal(net.counts[SITE_CHINALIST], 4);
	assert_int_equal(net.counts[SITE_CHINALIST] + net.counts[SITE_CN], 10);
	assert_true(net.counts[SITE_GFWLIST] >= 6 && net.counts[SITE_GFWLIST] <= 9);
	assert_int_equal(net.counts[SITE_GENERATED], 50 - 10 - net.counts[SITE_GFWLIST]);
	bool saw_fb = false, saw_rsf = false, saw_au = false;
	for (unsigned i = 0; i < net.n; i++) {
		const struct site *s = &net.site[i];
		assert_true(ends_with_label(s->name, s->zone));
		assert_true(!strcmp(s->name, s->zone) || (!strncmp(s->name, "www.", 4) && !strcmp(s->name + 4, s->zone)));
		assert_true(ends_with_label(s->zone, net.tld[s->tld]));
		assert_true(s->na >= 1 && s->na <= 2);
		for (int k = 0; k < s->na; k++)
			assert_true(in_doc4(s->a[k]));
		if (s->naaaa)
			assert_true(s->aaaa[0] == 0x20 && s->aaaa[1] == 0x01 && s->aaaa[2] == 0x0d && s->aaaa[3] == 0xb8);
		assert_true(s->ttl >= 1 && s->ttl_real >= 60);
		assert_int_equal(s->domestic, s->origin == SITE_CHINALIST || s->origin == SITE_CN);
		if (s->origin == SITE_CN)
			assert_string_equal(net.tld[s->tld], "cn");
		if (!s->domestic)
			assert_string_not_equal(net.tld[s->tld], "cn");
		const char *t = net.tld[s->tld];
		assert_int_equal(s->cno, !strcmp(t, "com") || !strcmp(t, "net") || !strcmp(t, "org"));
		saw_fb |= !strcmp(s->zone, "facebook.com");
		saw_rsf |= !strcmp(s->zone, "rsf.org"); /* www. stripped from |http://www.rsf.org/ */
		saw_au |= !strcmp(s->zone, "ramcity.com.au");
		assert_null(strchr(s->zone, '*'));
		assert_string_not_equal(s->zone, "1.2.3.4");
		assert_string_not_equal(s->zone, "plainkeyword");
		assert_string_not_equal(s->zone, "allowed.com");
		/* no zone is another's ancestor */
		for (unsigned j = 0; j < net.n; j++)
			if (j != i)
				assert_false(ends_with_label(net.site[j].zone, s->zone));
		assert_int_equal(internet_find(&net, s->name, strlen(s->name)), (int)i);
	}
	assert_true(saw_fb && saw_rsf && saw_au);
	internet_free(&net);
}

static void test_determinism_and_find(void **state)
{
	(void)state;
	struct internet a, b, c;
	char err[256];
	struct internet_opts o = opts(300);
	assert_int_equal(internet_build(&a, &o, GFW, strlen(GFW), CHINA, strlen(CHINA), err, sizeof(err)), 0);
	assert_int_equal(internet_build(&b, &o, GFW, strlen(GFW), CHINA, strlen(CHINA), err, sizeof(err)), 0);
	o.seed = 2;
	assert_int_equal(internet_build(&c, &o, GFW, strlen(GFW), CHINA, strlen(CHINA), err, sizeof(err)), 0);
	assert_int_equal(a.n, b.n);
	assert_memory_equal(a.site, b.site, sizeof(struct site) * a.n);
	assert_true(memcmp(a.site, c.site, sizeof(struct site) * a.n) != 0);
	/* lookup: any case, final dot, unknown names */
	const char *nm = a.site[7].name;
	char up[SITE_NAMEMAX + 2];
	size_t l = strlen(nm);
	for (size_t i = 0; i < l; i++)
		up[i] = (char)(nm[i] >= 'a' && nm[i] <= 'z' ? nm[i] - 32 : nm[i]);
	up[l] = '.';
	up[l + 1] = 0;
	assert_int_equal(internet_find(&a, up, l + 1), 7);
	assert_int_equal(internet_find(&a, "nowhere.invalid", 15), -1);
	assert_int_equal(internet_find(&a, "", 0), -1);
	internet_free(&a);
	internet_free(&b);
	internet_free(&c);
}

static void test_no_lists_and_bad_opts(void **state)
{
	(void)state;
	struct internet net;
	char err[256];
	struct internet_opts o = opts(100);
	assert_int_equal(internet_build(&net, &o, NULL, 0, NULL, 0, err, sizeof(err)), 0);
	assert_int_equal(net.n, 100);
	assert_int_equal(net.counts[SITE_GFWLIST] + net.counts[SITE_CHINALIST], 0);
	assert_int_equal(net.counts[SITE_CN], 20); /* domestic made up under .cn */
	internet_free(&net);
	o.sites = 0;
	assert_int_equal(internet_build(&net, &o, NULL, 0, NULL, 0, err, sizeof(err)), DNS_EINVAL);
	o.sites = INTERNET_MAXSITES + 1;
	assert_int_equal(internet_build(&net, &o, NULL, 0, NULL, 0, err, sizeof(err)), DNS_EINVAL);
	o = opts(10);
	o.domestic_pct = 70;
	o.listed_pct = 40;
	assert_int_equal(internet_build(&net, &o, NULL, 0, NULL, 0, err, sizeof(err)), DNS_EINVAL);
	o = opts(10);
	o.ttl_scale = 0;
	assert_int_equal(internet_build(&net, &o, NULL, 0, NULL, 0, err, sizeof(err)), DNS_EINVAL);
}

static void test_ttl(void **state)
{
	(void)state;
	assert_int_equal(internet_ttl_real(0.0, false), 60);
	assert_int_equal(internet_ttl_real(0.3, false), 300);
	assert_int_equal(internet_ttl_real(0.999, false), 86400);
	assert_int_equal(internet_ttl_real(0.999, true), 3600);
	assert_int_equal(internet_ttl_real(0.5, true), 300);
	struct internet net;
	char err[256];
	struct internet_opts o = opts(400);
	o.ttl_scale = 100;
	assert_int_equal(internet_build(&net, &o, NULL, 0, NULL, 0, err, sizeof(err)), 0);
	unsigned short_ttl = 0;
	static bool seen[400];
	for (unsigned i = 0; i < net.n; i++) {
		const struct site *s = &net.site[i];
		/* ranks are a permutation; the top 5% have short TTLs */
		assert_true(s->rank < net.n);
		assert_false(seen[s->rank]);
		seen[s->rank] = true;
		if (s->rank < net.n / 20)
			assert_true(s->ttl_real <= 3600);
		uint32_t want = (s->ttl_real + 50) / 100;
		assert_int_equal(s->ttl, want ? want : 1);
		short_ttl += s->ttl_real <= 300;
	}
	/* 45% of the distribution is <= 300 s */
	assert_true(short_ttl > 140 && short_ttl < 220);
	internet_free(&net);
}

static void test_blocked(void **state)
{
	(void)state;
	struct internet net;
	char err[256];
	struct internet_opts o = opts(50);
	assert_int_equal(internet_build(&net, &o, GFW, strlen(GFW), CHINA, strlen(CHINA), err, sizeof(err)), 0);
	struct rules *r = rules_new();
	assert_int_equal(rules_add(r, RULE_DOMAIN, "facebook.com", false) >= 0, 1);
	assert_int_equal(rules_add(r, RULE_DOMAIN, "baidu.com", false) >= 0, 1); /* domestic: never crosses */
	assert_int_equal(rules_build(r), 0);
	unsigned n = internet_mark_blocked(&net, r);
	assert_int_equal(n, 1);
	int fb = -1;
	for (unsigned i = 0; i < net.n; i++)
		if (!strcmp(net.site[i].zone, "facebook.com"))
			fb = (int)i;
	assert_true(fb >= 0 && net.site[fb].blocked);
	assert_int_equal(internet_mark_blocked(&net, NULL), 0);
	rules_free(r);
	internet_free(&net);
}

static void test_truth(void **state)
{
	(void)state;
	struct site s = {.na = 2, .a = {{192, 0, 2, 1}, {203, 0, 113, 9}}, .naaaa = 1};
	uint8_t six[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1};
	memcpy(s.aaaa, six, 16);
	uint8_t a1[4] = {192, 0, 2, 1}, a2[4] = {203, 0, 113, 9}, bad[4] = {65, 49, 2, 178};
	assert_true(internet_is_truth(&s, a1, 4));
	assert_true(internet_is_truth(&s, a2, 4));
	assert_false(internet_is_truth(&s, bad, 4));
	assert_true(internet_is_truth(&s, six, 16));
	six[15] = 1;
	assert_false(internet_is_truth(&s, six, 16));
	assert_false(internet_is_truth(&s, a1, 3));
}

static int rm_one(const char *p, const struct stat *sb, int f, struct FTW *w)
{
	(void)sb;
	(void)f;
	(void)w;
	return remove(p);
}

static void test_zone_files(void **state)
{
	(void)state;
	struct internet net;
	char err[512];
	struct internet_opts o = opts(60);
	assert_int_equal(internet_build(&net, &o, GFW, strlen(GFW), CHINA, strlen(CHINA), err, sizeof(err)), 0);
	char dir[] = "/tmp/antidote-test-internet.XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct internet_files fl;
	assert_int_equal(internet_write_zones(&net, dir, &fl, err, sizeof(err)), 0);
	/* root + TLDs + sites, split between the two servers */
	assert_int_equal(fl.nabroad + fl.ndomestic, 1 + net.ntld + net.n);
	unsigned dom = net.counts[SITE_CHINALIST] + net.counts[SITE_CN];
	assert_int_equal(fl.ndomestic, dom + 1); /* + the cn TLD */
	/* every file loads as a zone */
	for (int side = 0; side < 2; side++)
		for (unsigned i = 0; i < (side ? fl.ndomestic : fl.nabroad); i++) {
			const char *p = side ? fl.domestic[i] : fl.abroad[i];
			zone *z = zone_load(p, NULL, err, sizeof(err));
			if (!z)
				fail_msg("%s: %s", p, err);
			zone_free(z);
		}
	/* a site's zone holds its A records under the asked name */
	const struct site *s = &net.site[0];
	char path[600];
	snprintf(path, sizeof(path), "%s/site-0.zone", dir);
	zone *z = zone_load(path, NULL, err, sizeof(err));
	assert_non_null(z);
	uint8_t wn[NAME_MAXLEN];
	int wl = name_from_text(s->name, strlen(s->name), (const uint8_t *)"", wn);
	assert_true(wl > 0);
	zone_node *node = zone_lookup(z, wn, (size_t)wl);
	assert_non_null(node);
	assert_non_null(zone_rrset_find(node, 1));
	zone_free(z);
	internet_files_free(&fl);
	assert_int_equal(internet_write_zones(&net, "/nonexistent/dir", &fl, err, sizeof(err)), DNS_EIO);
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	internet_free(&net);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mix_and_invariants), cmocka_unit_test(test_determinism_and_find),
		cmocka_unit_test(test_no_lists_and_bad_opts), cmocka_unit_test(test_ttl),
		cmocka_unit_test(test_blocked), cmocka_unit_test(test_truth), cmocka_unit_test(test_zone_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
