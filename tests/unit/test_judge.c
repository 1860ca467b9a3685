/* test_judge — verdicts from a silent target, a TCP control, OPT echo and
 * differing replies. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "probe/judge.h"

static void rep(struct probe_result *r, uint16_t flags, bool opt, uint8_t a4)
{
	struct probe_reply *p = &r->rep[r->nrep++];
	memset(p, 0, sizeof(*p));
	p->flags = flags;
	p->opt = opt;
	if (a4) {
		p->naddr = 1;
		p->addr[0].family = 4;
		p->addr[0].a[0] = 10;
		p->addr[0].a[3] = a4;
	}
}

static void test_none_and_silent(void **state)
{
	(void)state;
	struct probe_result r;
	memset(&r, 0, sizeof(r));
	uint8_t cls[PROBE_MAXREP];
	struct judge_ctx c = {.edns_sent = true};
	assert_int_equal(judge_result(&c, &r, cls), JV_NONE);
	c.silent = true;
	assert_int_equal(judge_result(&c, &r, cls), JV_NONE);
	rep(&r, 0x8180, true, 1);
	assert_int_equal(judge_result(&c, &r, cls), JV_FORGED);
	assert_int_equal(cls[0], JR_FORGED);
}

static void test_control(void **state)
{
	(void)state;
	struct probe_result r;
	memset(&r, 0, sizeof(r));
	struct probe_addr a = {.family = 4, .a = {10, 0, 0, 7}};
	struct judge_ctl ctl = {.ok = true, .rcode = 0, .naddr = 1, .set = judge_set_hash(&a, 1)};
	struct judge_ctx c = {.ctl = &ctl};
	uint8_t cls[PROBE_MAXREP];
	rep(&r, 0x8400, false, 9);
	rep(&r, 0x8400, true, 7);
	assert_int_equal(judge_result(&c, &r, cls), JV_FORGED);
	assert_int_equal(cls[0], JR_FORGED);
	assert_int_equal(cls[1], JR_GENUINE);
	r.nrep = 0;
	rep(&r, 0x8400, true, 7);
	assert_int_equal(judge_result(&c, &r, cls), JV_GENUINE);
	/* NXDOMAIN at the control, forged NOERROR A over UDP */
	ctl.rcode = 3;
	ctl.naddr = 0;
	ctl.set = 0;
	r.nrep = 0;
	rep(&r, 0x8180, false, 9);
	rep(&r, 0x8183, true, 0);
	assert_int_equal(judge_result(&c, &r, cls), JV_FORGED);
	assert_int_equal(cls[1], JR_GENUINE);
	/* control failed: falls back to the OPT rule */
	ctl.ok = false;
	c.edns_sent = true;
	assert_int_equal(judge_result(&c, &r, cls), JV_FORGED);
	assert_int_equal(cls[0], JR_FORGED);
}

static void test_opt_and_conflict(void **state)
{
	(void)state;
	struct probe_result r;
	memset(&r, 0, sizeof(r));
	uint8_t cls[PROBE_MAXREP];
	struct judge_ctx c = {.edns_sent = true};
	rep(&r, 0x8400, false, 1);
	rep(&r, 0x8400, false, 2);
	rep(&r, 0x8400, true, 3);
	assert_int_equal(judge_result(&c, &r, cls), JV_FORGED);
	assert_int_equal(cls[0], JR_FORGED);
	assert_int_equal(cls[1], JR_FORGED);
	assert_int_equal(cls[2], JR_GENUINE);
	c.edns_sent = false; /* nothing tells them apart */
	assert_int_equal(judge_result(&c, &r, cls), JV_CONFLICT);
	assert_int_equal(cls[0], JR_UNKNOWN);
	r.nrep = 0;
	rep(&r, 0x8400, true, 3);
	rep(&r, 0x8400, true, 3); /* duplicate: same answer */
	assert_int_equal(judge_result(&c, &r, cls), JV_GENUINE);
}

static void test_set_hash(void **state)
{
	(void)state;
	struct probe_addr a[2] = {{.family = 4, .a = {1, 2, 3, 4}}, {.family = 6, .a = {0x20, 1}}};
	struct probe_addr b[2] = {a[1], a[0]};
	assert_true(judge_set_hash(a, 2) == judge_set_hash(b, 2));
	assert_true(judge_set_hash(a, 1) != judge_set_hash(a, 2));
	assert_true(judge_set_hash(a, 0) == 0);
	assert_string_equal(judge_name(JV_CONFLICT), "conflict");
	assert_string_equal(judge_class_name(JR_FORGED), "forged");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_none_and_silent), cmocka_unit_test(test_control),
		cmocka_unit_test(test_opt_and_conflict), cmocka_unit_test(test_set_hash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
