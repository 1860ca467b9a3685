/* test_incident — baselines, hijack raise/clear, volatile canaries, TLD
 * outages, steady states that must stay quiet. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "probe/incident.h"

#define N 12
static const char *names[N] = {"a.com", "b.com", "c.net", "d.org", "e.com", "www.e.com",
			       "f.cn", "g.cn", "h.cn", "blocked.com", "*.r.com", "x.cn"};

struct rec {
	int raise, clear;
	struct inc_event last;
};

static void emit(void *arg, const struct inc_event *e)
{
	struct rec *r = arg;
	if (e->raise)
		r->raise++;
	else
		r->clear++;
	r->last = *e;
}

static struct inc_obs ans(uint8_t a, uint8_t b)
{
	struct inc_obs o;
	memset(&o, 0, sizeof(o));
	o.status = OBS_ANSWER;
	o.naddr = 1;
	o.addr[0].family = 4;
	o.addr[0].a[0] = a;
	o.addr[0].a[3] = b;
	return o;
}

/* One round: canary i answers 192.0.0.i, except those in `hijacked`
 * (answer 65.0.0.178), `down` (timeout) and blocked.com (cycling pool). */
static void round_(struct incident *w, struct rec *r, unsigned hijacked, unsigned down, int k)
{
	for (int i = 0; i < N; i++) {
		struct inc_obs o = ans(192, (uint8_t)i);
		if (i == 9)
			o = ans(31, (uint8_t)(k % 200));
		if (hijacked >> i & 1)
			o = ans(65, 178);
		if (down >> i & 1) {
			memset(&o, 0, sizeof(o));
			o.status = OBS_TIMEOUT;
		}
		incident_observe(w, (size_t)i, &o);
	}
	incident_round_end(w, emit, r, NULL);
}

static void test_hijack(void **state)
{
	(void)state;
	struct inc_cfg c;
	inc_cfg_default(&c);
	struct incident *w = incident_new(&c, names, N);
	struct rec r = {0};
	int k = 0;
	for (; k < 3; k++)
		round_(w, &r, 0, 0, k);
	assert_false(incident_learning(w));
	for (; k < 50; k++) /* steady: blocked.com cycles, nothing raised */
		round_(w, &r, 0, 0, k);
	assert_int_equal(r.raise, 0);
	/* two bases only: below hijack_min */
	round_(w, &r, 0x3, 0, k++);
	assert_int_equal(r.raise, 0);
	/* a.com b.com c.net d.org: four bases (e.com and www.e.com are one) */
	round_(w, &r, 0x3f, 0, k++);
	assert_int_equal(r.raise, 1);
	assert_int_equal(r.last.kind, INC_HIJACK);
	assert_int_equal(r.last.bases, 5);
	assert_int_equal(r.last.names, 6);
	assert_int_equal(r.last.addr.a[0], 65);
	assert_int_equal(incident_active(w, INC_HIJACK), 1);
	round_(w, &r, 0x3f, 0, k++); /* still on: no second raise */
	assert_int_equal(r.raise, 1);
	round_(w, &r, 0, 0, k++);
	assert_int_equal(r.clear, 0); /* one quiet round */
	round_(w, &r, 0, 0, k++);
	assert_int_equal(r.clear, 1);
	assert_int_equal(r.last.id, 1);
	assert_int_equal(incident_active(w, INC_HIJACK), 0);
	/* the shared address was never learnt: a new fault raises again */
	round_(w, &r, 0x0f, 0, k++);
	assert_int_equal(r.raise, 2);
	assert_int_equal(r.last.id, 2);
	assert_int_equal(incident_total(w, INC_HIJACK), 2);
	incident_free(w);
}

static void test_learns_unshared_change(void **state)
{
	(void)state;
	struct inc_cfg c;
	inc_cfg_default(&c);
	c.hijack_min = 2;
	struct incident *w = incident_new(&c, names, N);
	struct rec r = {0};
	for (int k = 0; k < 3; k++)
		round_(w, &r, 0, 0, k);
	/* a.com moves to a new address of its own: learnt after a few rounds,
	 * then b.com alone taking the same one is not a 2-base hijack */
	for (int k = 0; k < 8; k++) {
		for (int i = 0; i < N; i++) {
			struct inc_obs o = i == 0 ? ans(198, 1) : ans(192, (uint8_t)i);
			if (i == 9)
				o = ans(31, (uint8_t)k);
			incident_observe(w, (size_t)i, &o);
		}
		incident_round_end(w, emit, &r, NULL);
	}
	assert_int_equal(r.raise, 0);
	incident_free(w);
}

static void test_tld_outage(void **state)
{
	(void)state;
	struct inc_cfg c;
	inc_cfg_default(&c);
	struct incident *w = incident_new(&c, names, N);
	struct rec r = {0};
	int k = 0;
	for (; k < 3; k++)
		round_(w, &r, 0, 0, k);
	unsigned cn = 1u << 6 | 1u << 7 | 1u << 8 | 1u << 11;
	round_(w, &r, 0, 1u << 6, k++); /* one .cn name: not an outage */
	assert_int_equal(r.raise, 0);
	round_(w, &r, 0, cn, k++);
	assert_int_equal(r.raise, 1);
	assert_int_equal(r.last.kind, INC_TLD_OUTAGE);
	assert_string_equal(r.last.tld, "cn");
	assert_int_equal(r.last.failing, 4);
	assert_int_equal(r.last.of, 4);
	assert_int_equal(r.last.timeouts, 4);
	round_(w, &r, 0, cn, k++);
	round_(w, &r, 0, 0, k++);
	round_(w, &r, 0, 0, k++);
	assert_int_equal(r.clear, 1);
	assert_int_equal(incident_active(w, INC_TLD_OUTAGE), 0);
	/* canaries never observed in a round count as timeouts */
	incident_round_end(w, emit, &r, NULL);
	assert_true(r.raise >= 2);
	incident_free(w);
}

static void test_learning_failures(void **state)
{
	(void)state;
	struct inc_cfg c;
	inc_cfg_default(&c);
	struct incident *w = incident_new(&c, names, N);
	struct rec r = {0};
	/* the .cn names never answer while learning: they cannot raise an outage */
	for (int k = 0; k < 3; k++)
		round_(w, &r, 0, 1u << 6 | 1u << 7 | 1u << 8 | 1u << 11, k);
	round_(w, &r, 0, 1u << 6 | 1u << 7 | 1u << 8 | 1u << 11, 3);
	assert_int_equal(r.raise, 0);
	incident_free(w);
}

static void test_names(void **state)
{
	(void)state;
	char b[64];
	incident_base("www.Facebook.COM.", b, sizeof(b));
	assert_string_equal(b, "facebook.com");
	incident_base("*.x.y.z", b, sizeof(b));
	assert_string_equal(b, "y.z");
	incident_base("localhost", b, sizeof(b));
	assert_string_equal(b, "localhost");
	incident_tld("a.b.CN", b, sizeof(b));
	assert_string_equal(b, "cn");
	assert_string_equal(incident_kind_name(INC_TLD_OUTAGE), "tld-outage");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hijack),     cmocka_unit_test(test_learns_unshared_change),
		cmocka_unit_test(test_tld_outage), cmocka_unit_test(test_learning_failures),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
