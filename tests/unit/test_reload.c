/* test_reload — SIGHUP decisions: options that need a restart, the server-number map between route tables (reordered, new upstream), allow-list comparison. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dns/err.h"
#include "dns/name.h"
#include "resolve/config.h"
#include "resolve/reload.h"
#include "testutil.h"

static void parse(resolve_config *c, int argc, const char **argv)
{
	char err[CONFIG_ERRLEN];
	assert_int_equal(config_init(c), 0);
	int rc = config_parse_args(c, argc, (char **)argv, err, sizeof(err));
	if (rc == 0)
		rc = config_finish(c, err, sizeof(err));
	if (rc)
		fprintf(stderr, "%s\n", err);
	assert_int_equal(rc, 0);
}

#define N(a) ((int)(sizeof(a) / sizeof(a[0])))

static void test_fixed(void **st)
{
	(void)st;
	resolve_config a, b, c, d;
	char out[512];
	const char *av[] = {"resolve", "--listen", "127.0.0.1:5353", "--upstream", "127.0.0.1:5300",
			    "--log-verdicts", "/tmp/v.log"};
	/* only swappable things differ: routes, bogus-free, allow, another log file name */
	const char *bv[] = {"resolve", "--listen", "127.0.0.1:5353", "--upstream", "127.0.0.1:5300",
			    "--server", "/cn/127.0.0.1#5300", "--allow", "10.0.0.0/8", "--log-verdicts", "/tmp/w.log",
			    "--learned-bogus", "/tmp/l.txt"};
	const char *cv[] = {"resolve", "--listen", "127.0.0.1:5354", "--upstream", "127.0.0.1:5300", "--threads", "3",
			    "--cache-size", "128M", "--0x20", "--hold-max", "100", "--defence", "off",
			    "--probe-name", "example.", "--quiet"};
	const char *dv[] = {"resolve", "--listen", "127.0.0.1:5353", "--upstream", "127.0.0.1:5300",
			    "--log-verdicts", "-"};
	parse(&a, N(av), av);
	parse(&b, N(bv), bv);
	parse(&c, N(cv), cv);
	parse(&d, N(dv), dv);
	assert_int_equal(reload_fixed(&a, &a, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(reload_fixed(&a, &b, out, sizeof(out)), 0);
	assert_int_equal(reload_fixed(&a, &c, out, sizeof(out)), 9);
	assert_string_equal(out, "listen, threads, cache-size, 0x20, defence, hold-max, probe-name, verbose/quiet, "
				 "log-verdicts");
	assert_int_equal(reload_fixed(&a, &d, out, sizeof(out)), 1); /* file -> stdout */
	assert_string_equal(out, "log-verdicts");
	/* a short buffer is cut, still terminated, and the count is right */
	assert_int_equal(reload_fixed(&a, &c, out, 12), 9);
	assert_true(strlen(out) < 12);
	config_free(&a);
	config_free(&b);
	config_free(&c);
	config_free(&d);
}

/* DNSSEC options are fixed for the process's life */
static void test_fixed_dnssec(void **st)
{
	(void)st;
	resolve_config a, b, c;
	const char *aa[] = {"resolve", "--listen", "127.0.0.1:5353", "--upstream", "127.0.0.1:5300"};
	const char *ab[] = {"resolve", "--listen", "127.0.0.1:5353", "--upstream", "127.0.0.1:5300", "--trust-anchor",
			    "tests/data/validator/test.ds"};
	const char *ac[] = {"resolve", "--listen", "127.0.0.1:5353", "--upstream", "127.0.0.1:5300", "--trust-anchor",
			    "tests/data/validator/test.key", "--dnssec", "on"};
	parse(&a, N(aa), aa);
	parse(&b, N(ab), ab);
	parse(&c, N(ac), ac);
	char out[256];
	assert_int_equal(reload_fixed(&b, &b, out, sizeof(out)), 0);
	assert_int_equal(reload_fixed(&a, &b, out, sizeof(out)), 2);
	assert_string_equal(out, "dnssec, trust-anchor");
	assert_int_equal(reload_fixed(&b, &c, out, sizeof(out)), 1);
	assert_string_equal(out, "trust-anchor");
	config_free(&a);
	config_free(&b);
	config_free(&c);
}

static void test_map(void **st)
{
	(void)st;
	resolve_config a, b, c;
	const char *av[] = {"resolve", "--listen", "127.0.0.1:53", "--upstream", "127.0.0.1:5300",
			    "--server", "/cn/127.0.0.2#5301", "--server", "/jp/[::1]:5302"};
	/* same servers, other order of first appearance, fewer of them used */
	const char *bv[] = {"resolve", "--listen", "127.0.0.1:53", "--server", "/cn/127.0.0.2#5301",
			    "--upstream", "127.0.0.1:5300"};
	/* a new one */
	const char *cv[] = {"resolve", "--listen", "127.0.0.1:53", "--upstream", "127.0.0.1:5300",
			    "--server", "/cn/127.0.0.3#5301"};
	parse(&a, N(av), av);
	parse(&b, N(bv), bv);
	parse(&c, N(cv), cv);
	uint16_t map[ROUTE_MAX_SERVERS];
	bool id = false;
	char err[128];
	unsigned n = route_nservers(a.rt);
	assert_int_equal(n, 3);
	assert_int_equal(reload_map_servers(route_upstreams(a.rt), n, a.rt, map, &id, err, sizeof(err)), 0);
	assert_true(id);
	assert_int_equal(reload_map_servers(route_upstreams(a.rt), n, b.rt, map, &id, err, sizeof(err)), 0);
	assert_false(id);
	assert_int_equal(route_nservers(b.rt), 2);
	assert_int_equal(map[0], 1); /* b's 127.0.0.2#5301 runs as a's server 1 */
	assert_int_equal(map[1], 0);
	/* a lookup in b, mapped, names the running server */
	uint8_t nm[NAME_MAXLEN];
	route_match m;
	assert_true(name_from_text("www.cn.", 7, NULL, nm) > 0);
	route_lookup(b.rt, nm, &m);
	assert_int_equal(m.n, 1);
	char buf[ADDR_STRLEN];
	assert_string_equal(addr_str(&route_servers(a.rt)[map[m.servers[0]]], buf), "127.0.0.2:5301");
	assert_int_equal(reload_map_servers(route_upstreams(a.rt), n, c.rt, map, &id, err, sizeof(err)), DNS_ENOTFOUND);
	assert_string_equal(err, "upstream 127.0.0.3:5301 is new");
	/* the new ones, listed for adding; once appended, c maps */
	route_upstream fresh[ROUTE_MAX_SERVERS], running[ROUTE_MAX_SERVERS];
	assert_int_equal(reload_new_servers(route_upstreams(a.rt), n, b.rt, fresh, ROUTE_MAX_SERVERS), 0);
	assert_int_equal(reload_new_servers(route_upstreams(a.rt), n, c.rt, fresh, ROUTE_MAX_SERVERS), 1);
	assert_string_equal(addr_str(&fresh[0].addr, buf), "127.0.0.3:5301");
	assert_int_equal(reload_new_servers(route_upstreams(a.rt), n, c.rt, fresh, 0), 1); /* counted, not copied */
	memcpy(running, route_upstreams(a.rt), n * sizeof(*running));
	running[n] = fresh[0];
	assert_int_equal(reload_map_servers(running, n + 1, c.rt, map, &id, err, sizeof(err)), 0);
	assert_int_equal(map[0], 0);
	assert_int_equal(map[1], 3); /* appended after a's three */
	assert_false(id);
	config_free(&a);
	config_free(&b);
	config_free(&c);
}

/* An upstream is its address, transport and TLS name: the same address
 * over TLS, or with another name, is a new upstream (restart needed); a
 * change of --tls-ca or --tls-insecure is a fixed option. */
static void test_map_tls(void **st)
{
	(void)st;
	resolve_config a, b, c, d;
	const char *av[] = {"resolve", "--listen", "127.0.0.1:53", "--upstream", "tls://127.0.0.1:853#dns.test"};
	const char *bv[] = {"resolve", "--listen", "127.0.0.1:53", "--upstream", "127.0.0.1:853"};
	const char *cv[] = {"resolve", "--listen", "127.0.0.1:53", "--upstream", "tls://127.0.0.1:853#other.test"};
	const char *dv[] = {"resolve", "--listen", "127.0.0.1:53", "--upstream", "tls://127.0.0.1:853#DNS.test",
			    "--tls-insecure"};
	parse(&a, N(av), av);
	parse(&b, N(bv), bv);
	parse(&c, N(cv), cv);
	parse(&d, N(dv), dv);
	uint16_t map[ROUTE_MAX_SERVERS];
	bool id = false;
	char err[160];
	assert_int_equal(reload_map_servers(route_upstreams(a.rt), 1, b.rt, map, &id, err, sizeof(err)), DNS_ENOTFOUND);
	assert_string_equal(err, "upstream 127.0.0.1:853 is new");
	assert_int_equal(reload_map_servers(route_upstreams(a.rt), 1, c.rt, map, &id, err, sizeof(err)), DNS_ENOTFOUND);
	assert_string_equal(err, "upstream tls://127.0.0.1:853#other.test is new");
	assert_int_equal(reload_map_servers(route_upstreams(a.rt), 1, d.rt, map, &id, err, sizeof(err)), 0);
	assert_true(id);
	char out[200];
	assert_int_equal(reload_fixed(&a, &d, out, sizeof(out)), 1);
	assert_string_equal(out, "tls-insecure");
	config_free(&a);
	config_free(&b);
	config_free(&c);
	config_free(&d);
}

static void test_acl_equal(void **st)
{
	(void)st;
	acl a, b;
	char err[128];
	acl_init(&a);
	acl_init(&b);
	assert_true(reload_acl_equal(&a, &b));
	acl_add_loopback(&a);
	assert_false(reload_acl_equal(&a, &b));
	acl_add_loopback(&b);
	assert_true(reload_acl_equal(&a, &b));
	assert_int_equal(acl_add(&a, "10.0.0.0/8", err, sizeof(err)), 0);
	assert_int_equal(acl_add(&b, "10.0.0.0/16", err, sizeof(err)), 0);
	assert_false(reload_acl_equal(&a, &b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed),
		cmocka_unit_test(test_fixed_dnssec),
		cmocka_unit_test(test_map),
		cmocka_unit_test(test_map_tls),
		cmocka_unit_test(test_acl_equal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
