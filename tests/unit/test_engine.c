/* Unit tests for src/inject/engine: the injectors of each profile firing on queries (gfw triplet, jan21 window, iran, none, custom rules). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/err.h"
#include "inject/engine.h"
#include "inject/profile.h"

static size_t mkq(uint8_t *q, const char *name, uint16_t type, bool rd)
{
	size_t n = 12;
	memset(q, 0, 12);
	q[0] = 0x12;
	q[1] = 0x34;
	q[2] = rd ? 1 : 0;
	q[5] = 1;
	for (const char *p = name; *p;) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		q[n++] = (uint8_t)l;
		memcpy(q + n, p, l);
		n += l;
		p += l + (dot != NULL);
	}
	q[n++] = 0;
	q[n++] = (uint8_t)(type >> 8);
	q[n++] = (uint8_t)type;
	q[n++] = 0;
	q[n++] = 1;
	return n;
}

static int run(struct inj_engine *e, const char *name, uint16_t type, bool rd, int64_t t, struct inj_forged *out)
{
	uint8_t q[300];
	struct qmem m;
	qmem_init(&m, q, mkq(q, name, type, rd));
	return inj_engine_process(e, &m, t, out, INJ_MAX_FORGED, NULL);
}

static void test_engine_gfw(void **state)
{
	(void)state;
	struct inj_config c;
	inj_config_default(&c);
	char err[256];
	struct inj_engine *e = inj_engine_new(&c, err, sizeof(err));
	assert_non_null(e);
	struct inj_forged f[INJ_MAX_FORGED];
	assert_int_equal(run(e, "www.facebook.com", 1, false, 0, f), 3);
	assert_int_equal(f[0].pkt[2], 0x81); /* gfw1: 0x8180 even for RD=0 */
	assert_int_equal(f[1].pkt[2], 0x84); /* gfw2: by RD */
	assert_int_equal(f[2].pkt[2], 0x84);
	for (int i = 0; i < 3; i++) {
		assert_true(f[i].ttl >= f[i].fp->ttl_min && f[i].ttl <= f[i].fp->ttl_max);
		assert_true(f[i].lead_ms >= f[i].fp->lead_min_ms && f[i].lead_ms <= f[i].fp->lead_max_ms);
		assert_int_equal(f[i].type, 1);
		assert_int_equal(f[i].addr[0], 159); /* built-in pool, first address */
	}
	/* each injector keeps its own position */
	assert_int_equal(run(e, "www.facebook.com", 28, true, 0, f), 3);
	assert_int_equal(f[0].type, 28);
	assert_int_equal(f[2].pkt[2], 0x81);
	assert_int_equal(run(e, "www.facebook.com", 15, true, 0, f), 3);
	assert_int_equal(f[2].type, 1);
	assert_int_equal(f[2].addr[0], 243); /* second A draw of gfw3 */
	assert_int_equal(run(e, "www.example.com", 1, true, 0, f), 0);
	assert_int_equal(run(e, "xfacebook.com", 1, true, 0, f), 0);
	inj_engine_free(e);
	c.profile = "nope";
	assert_null(inj_engine_new(&c, err, sizeof(err)));
	assert_non_null(strstr(err, "profile"));
	c.profile = "gfw";
	c.pool_a_path = "/nonexistent/pool";
	assert_null(inj_engine_new(&c, err, sizeof(err)));
}

static void test_engine_jan21(void **state)
{
	(void)state;
	struct inj_config c;
	inj_config_default(&c);
	c.profile = "jan21";
	c.popts.jan21_start_ms = 1000;
	c.popts.jan21_len_ms = 500;
	char err[256];
	struct inj_engine *e = inj_engine_new(&c, err, sizeof(err));
	assert_non_null(e);
	struct inj_forged f[INJ_MAX_FORGED];
	/* before the window: gfw behaviour */
	assert_int_equal(run(e, "www.example.com", 1, true, 999, f), 0);
	assert_int_equal(run(e, "www.facebook.com", 1, true, 999, f), 3);
	assert_false(inj_engine_in_window(e, 999));
	/* inside: every .com/.net/.org -> A 65.49.2.178, even for AAAA */
	assert_true(inj_engine_in_window(e, 1000));
	static const uint8_t dit[4] = {65, 49, 2, 178};
	const char *names[] = {"www.example.com", "example.NET", "x.y.org", "www.facebook.com"};
	for (int i = 0; i < 4; i++) {
		assert_int_equal(run(e, names[i], 28, true, 1000 + i, f), 1);
		assert_string_equal(f[0].fp->name, "dit");
		assert_int_equal(f[0].type, 1);
		assert_memory_equal(f[0].addr, dit, 4);
		assert_int_equal(f[0].ttl, 3600);
	}
	/* .cn and others untouched */
	assert_int_equal(run(e, "www.baidu.cn", 1, true, 1200, f), 0);
	assert_int_equal(run(e, "example.com.cn", 1, true, 1200, f), 0);
	assert_int_equal(run(e, "example.de", 1, true, 1200, f), 0);
	/* window end is exclusive */
	assert_int_equal(run(e, "www.example.com", 1, true, 1499, f), 1);
	assert_int_equal(run(e, "www.example.com", 1, true, 1500, f), 0);
	assert_int_equal(run(e, "www.facebook.com", 1, true, 1500, f), 3);
	inj_engine_free(e);
}

static void test_engine_iran_none(void **state)
{
	(void)state;
	struct inj_config c;
	inj_config_default(&c);
	c.profile = "iran";
	char err[256];
	struct inj_engine *e = inj_engine_new(&c, err, sizeof(err));
	assert_non_null(e);
	struct inj_forged f[INJ_MAX_FORGED];
	for (int i = 0; i < 4; i++) {
		assert_int_equal(run(e, "twitter.com", 1, true, 0, f), 1);
		assert_int_equal(f[0].addr[0], 10);
		assert_int_equal(f[0].addr[3], 34 + i % 3);
	}
	assert_int_equal(run(e, "twitter.com", 28, true, 0, f), 1);
	static const uint8_t v6[16] = {0x20, 0x01, 0x41, 0x88, 0, 2, 6, 0, 0, 0x10, 0, 0x10, 0, 0x34, 0, 0x34};
	assert_memory_equal(f[0].addr, v6, 16);
	inj_engine_free(e);
	c.profile = "none";
	e = inj_engine_new(&c, err, sizeof(err));
	assert_int_equal(run(e, "www.facebook.com", 1, true, 0, f), 0);
	inj_engine_free(e);
}

static void test_engine_custom_rules(void **state)
{
	(void)state;
	struct rules *r = rules_new();
	assert_true(rules_add(r, RULE_SUFFIX, "dweb.com", false) >= 0);
	assert_int_equal(rules_build(r), 0);
	struct inj_config c;
	inj_config_default(&c);
	c.rules = r;
	c.seed = 42;
	char err[256];
	struct inj_engine *e1 = inj_engine_new(&c, err, sizeof(err)), *e2 = inj_engine_new(&c, err, sizeof(err));
	struct inj_forged f1[INJ_MAX_FORGED], f2[INJ_MAX_FORGED];
	assert_int_equal(run(e1, "www.3dweb.com", 1, true, 0, f1), 3);
	assert_int_equal(run(e2, "www.3dweb.com", 1, true, 0, f2), 3);
	for (int i = 0; i < 3; i++) /* same seed, same replies */
		assert_memory_equal(f1[i].pkt, f2[i].pkt, f1[i].len);
	assert_int_equal(run(e1, "www.facebook.com", 1, true, 0, f1), 0);
	inj_engine_free(e1);
	inj_engine_free(e2);
	rules_free(r);
}

/* --tune fire=P: one query draws 1-3 replies (INJECTORS.md), each injector
 * deciding on its own; ip_ttl=random draws 1..255 per reply. */
static void test_engine_tune(void **state)
{
	(void)state;
	struct inj_config c;
	inj_config_default(&c);
	static const char *const t1[] = {"gfw2.fire=0"};
	c.tune = t1;
	c.ntune = 1;
	char err[256];
	struct inj_engine *e = inj_engine_new(&c, err, sizeof(err));
	assert_non_null(e);
	struct inj_forged f[INJ_MAX_FORGED];
	for (int i = 0; i < 50; i++) {
		assert_int_equal(run(e, "www.facebook.com", 1, true, 0, f), 2);
		assert_string_equal(f[0].fp->name, "gfw1");
		assert_string_equal(f[1].fp->name, "gfw3");
	}
	inj_engine_free(e);

	static const char *const t2[] = {"*.fire=0.5", "*.ip_ttl=random"};
	c.tune = t2;
	c.ntune = 2;
	e = inj_engine_new(&c, err, sizeof(err));
	assert_non_null(e);
	int hist[4] = {0}, per_inj[3] = {0}, n = 4000, lo = 255, hi = 0;
	for (int i = 0; i < n; i++) {
		int k = run(e, "www.facebook.com", 1, true, 0, f);
		assert_true(k >= 0 && k <= 3);
		hist[k]++;
		for (int j = 0; j < k; j++) {
			per_inj[f[j].inj]++;
			assert_true(f[j].ip_ttl >= 1 && f[j].ip_ttl <= 255);
			lo = f[j].ip_ttl < lo ? f[j].ip_ttl : lo;
			hi = f[j].ip_ttl > hi ? f[j].ip_ttl : hi;
		}
	}
	/* binomial(3, 0.5): 1/8, 3/8, 3/8, 1/8 of 4000 = 500, 1500, 1500, 500 */
	assert_true(hist[0] > 350 && hist[0] < 650);
	assert_true(hist[1] > 1300 && hist[1] < 1700);
	assert_true(hist[2] > 1300 && hist[2] < 1700);
	assert_true(hist[3] > 350 && hist[3] < 650);
	for (int j = 0; j < 3; j++)
		assert_true(per_inj[j] > 1800 && per_inj[j] < 2200);
	assert_true(lo < 20 && hi > 235);
	inj_engine_free(e);

	/* fixed and copied IP TTLs pass through */
	c.ntune = 0;
	e = inj_engine_new(&c, err, sizeof(err));
	assert_non_null(e);
	assert_int_equal(run(e, "www.facebook.com", 1, true, 0, f), 3);
	assert_int_equal(f[0].ip_ttl, INJ_IPTTL_COPY);
	assert_int_equal(f[1].ip_ttl, 169);
	assert_int_equal(f[2].ip_ttl, 53);
	inj_engine_free(e);

	static const char *const t3[] = {"gfw4.fire=1"};
	c.tune = t3;
	c.ntune = 1;
	assert_null(inj_engine_new(&c, err, sizeof(err)));
	assert_non_null(strstr(err, "no injector 'gfw4'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_engine_gfw),
		cmocka_unit_test(test_engine_jan21),
		cmocka_unit_test(test_engine_iran_none),
		cmocka_unit_test(test_engine_custom_rules),
		cmocka_unit_test(test_engine_tune),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
