/* test_profile — profiles' fingerprints and the engine: triplet, jan21
 * window, .cn untouched, iran addresses, none, relay address policy. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "dns/err.h"
#include "inject/engine.h"
#include "inject/profile.h"
#include "inject/relay.h"

static void test_gfw_fingerprints(void **state)
{
	(void)state;
	struct inj_profile p;
	struct profile_opts o;
	profile_opts_default(&o);
	assert_int_equal(profile_make(&p, "gfw", &o), 0);
	assert_int_equal(p.n, 3);
	/* three distinct fingerprints */
	assert_int_equal(p.inj[0].flags, FORGE_FLAGS_8180);
	assert_int_equal(p.inj[1].flags, FORGE_FLAGS_BY_RD);
	assert_int_equal(p.inj[0].ip_ttl, -1);
	assert_int_equal(p.inj[1].ip_ttl, 169);
	assert_int_equal(p.inj[2].ip_ttl, 53);
	assert_true(p.inj[1].df);
	assert_false(p.inj[2].df);
	assert_int_equal(p.inj[2].ttl_min, 68);
	assert_int_equal(p.inj[2].ttl_max, 252);
	assert_int_equal(p.inj[0].ttl_min, 2985);
	assert_int_not_equal(p.inj[0].ipid, p.inj[2].ipid);
	for (int i = 0; i < 3; i++)
		assert_true(p.inj[i].lead_min_ms > 0 && p.inj[i].lead_max_ms >= p.inj[i].lead_min_ms);
	assert_int_equal(p.inj[2].subset_k, 0);
	o.regime_set = true;
	o.regime = QNAME_UNPATCHED;
	assert_int_equal(profile_make(&p, "gfw", &o), 0);
	assert_int_equal(p.inj[1].regime, QNAME_UNPATCHED);
	assert_int_equal(profile_make(&p, "bogus", &o), DNS_ESYNTAX);
	assert_int_equal(profile_make(&p, "none", &o), 0);
	assert_int_equal(p.n, 0);
}

/* --tune: every (?) fact of INJECTORS.md is a parameter */
static void test_tune(void **state)
{
	(void)state;
	struct inj_profile p;
	struct profile_opts o;
	char err[256];
	profile_opts_default(&o);
	assert_int_equal(profile_make(&p, "gfw", &o), 0);
	assert_int_equal(profile_tune(&p, "gfw2.fire=0.25", err, sizeof(err)), 0);
	assert_true(p.inj[1].miss > 0.74 && p.inj[1].miss < 0.76);
	assert_true(p.inj[0].miss == 0 && p.inj[2].miss == 0);
	assert_int_equal(profile_tune(&p, "gfw3.ttl=300", err, sizeof(err)), 0);
	assert_int_equal(p.inj[2].ttl_min, 300);
	assert_int_equal(p.inj[2].ttl_max, 300);
	assert_int_equal(profile_tune(&p, "gfw3.ttl=60-90", err, sizeof(err)), 0);
	assert_int_equal(p.inj[2].ttl_min, 60);
	assert_int_equal(p.inj[2].ttl_max, 90);
	assert_int_equal(profile_tune(&p, "gfw1.ip_ttl=random", err, sizeof(err)), 0);
	assert_int_equal(p.inj[0].ip_ttl, INJ_IPTTL_RANDOM);
	assert_int_equal(profile_tune(&p, "gfw2.ip_ttl=copy", err, sizeof(err)), 0);
	assert_int_equal(p.inj[1].ip_ttl, INJ_IPTTL_COPY);
	assert_int_equal(profile_tune(&p, "gfw2.ip_ttl=200", err, sizeof(err)), 0);
	assert_int_equal(p.inj[1].ip_ttl, 200);
	assert_int_equal(profile_tune(&p, "gfw2.df=off", err, sizeof(err)), 0);
	assert_false(p.inj[1].df);
	assert_int_equal(profile_tune(&p, "gfw3.ipid=zero", err, sizeof(err)), 0);
	assert_int_equal(p.inj[2].ipid, IPID_ZERO);
	/* lead: negative = after the real reply; N..M and N-M */
	assert_int_equal(profile_tune(&p, "gfw1.lead=-20..30", err, sizeof(err)), 0);
	assert_int_equal(p.inj[0].lead_min_ms, -20);
	assert_int_equal(p.inj[0].lead_max_ms, 30);
	assert_int_equal(profile_tune(&p, "gfw1.lead=-40--10", err, sizeof(err)), 0);
	assert_int_equal(p.inj[0].lead_min_ms, -40);
	assert_int_equal(p.inj[0].lead_max_ms, -10);
	assert_int_equal(profile_tune(&p, "gfw1.lead=5-25", err, sizeof(err)), 0);
	assert_int_equal(p.inj[0].lead_min_ms, 5);
	assert_int_equal(p.inj[0].lead_max_ms, 25);
	assert_int_equal(profile_tune(&p, "*.rst=off", err, sizeof(err)), 0);
	for (int i = 0; i < 3; i++)
		assert_true(p.inj[i].no_rst);
	assert_int_equal(profile_tune(&p, "gfw2.rst=on", err, sizeof(err)), 0);
	assert_false(p.inj[1].no_rst);
	assert_int_equal(profile_tune(&p, "gfw3.k=8", err, sizeof(err)), 0);
	assert_int_equal(p.inj[2].subset_k, 8);
	assert_int_equal(profile_tune(&p, "gfw3.regime=unpatched", err, sizeof(err)), 0);
	assert_int_equal(p.inj[2].regime, QNAME_UNPATCHED);
	assert_int_equal(profile_tune(&p, "gfw2.flags=8180", err, sizeof(err)), 0);
	assert_int_equal(p.inj[1].flags, FORGE_FLAGS_8180);
	/* errors name the bad part */
	static const struct {
		const char *spec, *want;
	} bad[] = {
		{"gfw9.df=on", "no injector 'gfw9'"}, {"gfw1.colour=red", "unknown key 'colour'"},
		{"gfw1.fire=1.5", "bad value '1.5'"},  {"gfw1.ttl=9-3", "bad value"},
		{"gfw1.ip_ttl=0", "bad value"},        {"gfw1.ip_ttl=256", "bad value"},
		{"gfw1.lead=5-", "bad value"},         {"gfw1.df=maybe", "bad value"},
		{"gfw1df=on", "INJECTOR.KEY=VALUE"},    {"gfw1.=on", "INJECTOR.KEY=VALUE"},
		{".df=on", "INJECTOR.KEY=VALUE"},       {"gfw1.ipid=sometimes", "bad value"},
		{"gfw1.regime=old", "bad value"},       {"gfw1.k=-1", "bad value"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_int_equal(profile_tune(&p, bad[i].spec, err, sizeof(err)), DNS_ESYNTAX);
		if (!strstr(err, bad[i].want))
			fail_msg("%s: '%s' lacks '%s'", bad[i].spec, err, bad[i].want);
	}
	assert_int_equal(profile_make(&p, "none", &o), 0);
	assert_int_equal(profile_tune(&p, "*.df=on", err, sizeof(err)), DNS_ESYNTAX);
	assert_int_equal(profile_make(&p, "jan21", &o), 0);
	assert_int_equal(profile_tune(&p, "dit.ttl=60", err, sizeof(err)), 0);
	assert_int_equal(p.inj[3].ttl_min, 60);
}

static void test_relay_addr_policy(void **state)
{
	(void)state;
	net_addr a;
	char err[128];
	const char *ok[] = {"127.0.0.1:53", "127.1.2.3:5353", "[::1]:53"};
	const char *no[] = {"10.0.0.1:53", "0.0.0.0:53", "[::]:53", "[2001:db8::1]:53", "8.8.8.8:53",
			    "[::ffff:127.0.0.1]:53"};
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(addr_parse(&a, ok[i], 53, err, sizeof(err)), 0);
		assert_true(relay_addr_allowed(&a));
	}
	for (size_t i = 0; i < 6; i++) {
		assert_int_equal(addr_parse(&a, no[i], 53, err, sizeof(err)), 0);
		assert_false(relay_addr_allowed(&a));
	}
	struct relay_config rc;
	relay_config_default(&rc);
	addr_parse(&rc.listen, "127.0.0.1:0", 53, err, sizeof(err));
	addr_parse(&rc.forward, "192.0.2.1:53", 53, err, sizeof(err));
	char msg[256];
	assert_int_equal(relay_run(&rc, NULL, msg, sizeof(msg)), DNS_EINVAL);
	assert_non_null(strstr(msg, "127.0.0.0/8"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gfw_fingerprints),
		cmocka_unit_test(test_relay_addr_policy),
		cmocka_unit_test(test_tune),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
