/* test_route — dnsmasq-style domain routing: parsing, longest suffix
 * match, local and default rules, file:line errors, a 110k-line list. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dns/err.h"
#include "dns/name.h"
#include "net/addr.h"
#include "resolve/route.h"
#include "testutil.h"

static route_match look(const route *rt, const char *name)
{
	uint8_t n[NAME_MAXLEN];
	assert_true(name_from_text(name, strlen(name), NULL, n) > 0);
	route_match m;
	assert_int_equal(route_lookup(rt, n, &m), 0);
	return m;
}

static const char *srv(const route *rt, const route_match *m, unsigned i, char *buf)
{
	assert_true(i < m->n);
	return addr_str(&route_servers(rt)[m->servers[i]], buf);
}

static void add(route *rt, const char *line)
{
	char err[256];
	int rc = route_add_line(rt, line, err, sizeof(err));
	if (rc < 0)
		fail_msg("%s: %s", line, err);
}

static void test_longest_match(void **state)
{
	(void)state;
	route *rt = route_new();
	char b[ADDR_STRLEN];
	add(rt, "server=8.8.8.8");
	add(rt, "server=9.9.9.9#5353");
	add(rt, "server=/example.cn/127.0.0.1#5300");
	add(rt, "server=/www.example.cn/127.0.0.2");
	add(rt, "server=/a.example/b.example/::1#5301");
	add(rt, "  server=/Deep.Sub.Example.CN./127.0.0.3  ");
	add(rt, "server=/ads.example.cn/");
	add(rt, "local=/lan/");
	add(rt, "server=/free.example.cn/#");
	add(rt, "# a comment");
	add(rt, "");
	assert_int_equal(route_nservers(rt), 6);
	route_match m = look(rt, "x.y.example.cn.");
	assert_int_equal(m.n, 1);
	assert_string_equal(srv(rt, &m, 0, b), "127.0.0.1:5300");
	assert_int_equal(m.suffix_off, 4);
	m = look(rt, "EXAMPLE.cn.");
	assert_string_equal(srv(rt, &m, 0, b), "127.0.0.1:5300");
	assert_int_equal(m.suffix_off, 0);
	m = look(rt, "www.example.cn.");
	assert_string_equal(srv(rt, &m, 0, b), "127.0.0.2:53");
	m = look(rt, "a.www.example.cn.");
	assert_string_equal(srv(rt, &m, 0, b), "127.0.0.2:53");
	m = look(rt, "x.deep.sub.example.cn.");
	assert_string_equal(srv(rt, &m, 0, b), "127.0.0.3:53");
	m = look(rt, "sub.example.cn.");
	assert_string_equal(srv(rt, &m, 0, b), "127.0.0.1:5300");
	m = look(rt, "b.example.");
	assert_string_equal(srv(rt, &m, 0, b), "[::1]:5301");
	m = look(rt, "notexample.cn.");  /* label boundary, not string suffix */
	assert_int_equal(m.suffix_off, -1);
	assert_int_equal(m.n, 2);
	assert_string_equal(srv(rt, &m, 0, b), "8.8.8.8:53");
	assert_string_equal(srv(rt, &m, 1, b), "9.9.9.9:5353");
	m = look(rt, "x.ads.example.cn.");
	assert_true(m.local);
	assert_int_equal(m.n, 0);
	m = look(rt, "printer.lan.");
	assert_true(m.local);
	m = look(rt, "x.free.example.cn.");  /* '#': back to the defaults */
	assert_false(m.local);
	assert_int_equal(m.n, 2);
	assert_int_equal(m.suffix_off, 2);
	m = look(rt, ".");
	assert_int_equal(m.suffix_off, -1);
	route_free(rt);
}

static void test_groups(void **state)
{
	(void)state;
	route *rt = route_new();
	char b[ADDR_STRLEN];
	add(rt, "server=/a.test/127.0.0.1");
	add(rt, "server=/b.test/127.0.0.1");
	add(rt, "server=/a.test/127.0.0.2");  /* a.test gets both */
	add(rt, "server=/a.test/127.0.0.2");  /* no duplicate */
	add(rt, "server=/c.test/127.0.0.1");
	assert_int_equal(route_ndomains(rt), 3);
	assert_int_equal(route_ngroups(rt), 3); /* defaults, {1}, {1,2} */
	route_match m = look(rt, "a.test.");
	assert_int_equal(m.n, 2);
	assert_string_equal(srv(rt, &m, 0, b), "127.0.0.1:53");
	assert_string_equal(srv(rt, &m, 1, b), "127.0.0.2:53");
	m = look(rt, "b.test.");
	assert_int_equal(m.n, 1);
	/* no defaults: n = 0, not local */
	m = look(rt, "other.");
	assert_int_equal(m.n, 0);
	assert_false(m.local);
	char err[128];
	for (int i = 3; i <= 10; i++) {
		char line[64];
		snprintf(line, sizeof(line), "server=/a.test/127.0.0.%d", i);
		int rc = route_add_line(rt, line, err, sizeof(err));
		assert_int_equal(rc, i <= 8 ? 0 : DNS_ERANGE);
	}
	route_free(rt);
}

static void test_bad_lines(void **state)
{
	(void)state;
	static const struct { const char *line; int rc; const char *msg; } cases[] = {
		{ "server=/x.test/1.2.3.x", DNS_ESYNTAX, "bad address '1.2.3.x'" },
		{ "server=/x.test/1.2.3.4#", DNS_ERANGE, "bad port" },
		{ "server=/x.test/1.2.3.4#0", DNS_ERANGE, "out of range" },
		{ "server=/x.test/1.2.3.4#70000", DNS_ERANGE, "out of range" },
		{ "server=/x.test/1.2.3.4#53a", DNS_ESYNTAX, "bad port" },
		{ "server=/x.test/1.2.3.4@eth0", DNS_ESYNTAX, "not supported" },
		{ "server=/x.test", DNS_ESYNTAX, "missing '/'" },
		{ "server=//1.2.3.4", DNS_ESYNTAX, "empty domain" },
		{ "server=/*.x.test/1.2.3.4", DNS_ESYNTAX, "wildcards" },
		{ "server=/a..b/1.2.3.4", DNS_ESYNTAX, "bad domain" },
		{ "local=/x.test/1.2.3.4", DNS_ESYNTAX, "no server address" },
		{ "local=x", DNS_ESYNTAX, "needs /domain/" },
		{ "address=/x.test/1.2.3.4", DNS_ESYNTAX, "unknown directive 'address'" },
		{ "server=", DNS_ESYNTAX, "missing server address" },
		{ "server=localhost", DNS_ESYNTAX, "host names" },
	};
	route *rt = route_new();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256] = "";
		int rc = route_add_line(rt, cases[i].line, err, sizeof(err));
		if (rc != cases[i].rc || !strstr(err, cases[i].msg))
			fail_msg("'%s': rc %d err '%s'", cases[i].line, rc, err);
	}
	route_free(rt);
}

static void test_file_errors(void **state)
{
	(void)state;
	char path[64], err[512];
	const char *p = tu_tempfile("# list\nserver=/ok.test/127.0.0.1\n\nserver=/bad.test/127.0.0.300\n", path, sizeof(path));
	assert_non_null(p);
	route *rt = route_new();
	assert_int_equal(route_load(rt, p, err, sizeof(err)), DNS_ESYNTAX);
	char want[128];
	snprintf(want, sizeof(want), "%s:4: bad address '127.0.0.300'", path);
	if (strncmp(err, want, strlen(want)))
		fail_msg("got '%s'", err);
	unlink(p);
	route_free(rt);
	rt = route_new();
	assert_int_equal(route_load(rt, "/nonexistent/routes.conf", err, sizeof(err)), DNS_EIO);
	assert_non_null(strstr(err, "/nonexistent/routes.conf: No such file"));
	route_free(rt);
}

static void test_china_list(void **state)
{
	(void)state;
	const char *path = "../shared/data/china-domains-2026-08.conf";
	if (access(path, R_OK) != 0) {
		skip();
		return;
	}
	char err[512];
	route *rt = route_new();
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	int rc = route_load(rt, path, err, sizeof(err));
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (rc < 0)
		fail_msg("%s", err);
	double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
	printf("loaded %zu domains in %.1f ms\n", route_ndomains(rt), ms);
	assert_true(route_ndomains(rt) > 100000);
	assert_int_equal(route_nservers(rt), 1);
	assert_int_equal(route_ngroups(rt), 2);
	assert_true(ms < 3000); /* ~60 ms here; generous for sanitizers */
	char bb[ADDR_STRLEN];
	route_match m = look(rt, "x.y.000.link.");
	assert_int_equal(m.n, 1);
	assert_string_equal(srv(rt, &m, 0, bb), "114.114.114.114:53");
	m = look(rt, "www.example.com.");
	assert_int_equal(m.suffix_off, -1);
	/* lookups are fast */
	uint8_t n[NAME_MAXLEN];
	name_from_text("a.b.c.d.e.f.g.www.example.com.", 30, NULL, n);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < 100000; i++)
		route_lookup(rt, n, &m);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
	printf("100k lookups of an 11-label miss: %.1f ms\n", ms);
	route_free(rt);
}

/* ---- DNS over TLS upstreams ---- */

static route_upstream up_ok(const char *text)
{
	route_upstream u;
	char err[256];
	if (route_parse_upstream(text, &u, err, sizeof(err)) < 0)
		fail_msg("%s: %s", text, err);
	return u;
}

static void test_tls_parse(void **state)
{
	(void)state;
	char b[ROUTE_UPSTREAM_STRLEN];
	route_upstream u = up_ok("127.0.0.1");
	assert_int_equal(u.transport, ROUTE_DNS);
	assert_int_equal(addr_port(&u.addr), 53);
	assert_string_equal(route_upstream_str(&u, b, sizeof(b)), "127.0.0.1:53");
	u = up_ok("[::1]:5300");
	assert_int_equal(u.transport, ROUTE_DNS);
	assert_int_equal(addr_port(&u.addr), 5300);
	u = up_ok("tls://127.0.0.1");
	assert_int_equal(u.transport, ROUTE_TLS);
	assert_int_equal(addr_port(&u.addr), 853);
	assert_string_equal(u.auth, "");
	assert_string_equal(route_upstream_str(&u, b, sizeof(b)), "tls://127.0.0.1:853");
	u = up_ok("tls://127.0.0.1:8853#Dns.Example.");
	assert_int_equal(addr_port(&u.addr), 8853);
	assert_string_equal(u.auth, "dns.example"); /* lower case, no final dot */
	assert_string_equal(route_upstream_str(&u, b, sizeof(b)), "tls://127.0.0.1:8853#dns.example");
	u = up_ok("TLS://[::1]:853#a-b.c_d.example");
	assert_int_equal(addr_family(&u.addr), AF_INET6);
	assert_string_equal(u.auth, "a-b.c_d.example");
	assert_string_equal(route_upstream_str(&u, b, sizeof(b)), "tls://[::1]:853#a-b.c_d.example");
	u = up_ok("tls://::1#x"); /* bare IPv6: default port */
	assert_int_equal(addr_family(&u.addr), AF_INET6);
	assert_int_equal(addr_port(&u.addr), 853);
	assert_string_equal(u.auth, "x");
	/* a 63-octet label and a 253-character name are fine; one more is not */
	char name[300], text[400];
	memset(name, 'a', 63);
	name[63] = 0;
	snprintf(text, sizeof(text), "tls://1.2.3.4#%s.example", name);
	up_ok(text);
	for (int i = 0; i < 253; i++)
		name[i] = i % 2 ? '.' : 'a';
	name[253] = 0;
	snprintf(text, sizeof(text), "tls://1.2.3.4#%s", name);
	u = up_ok(text);
	assert_int_equal(strlen(u.auth), 253);

	static const struct {
		const char *text;
		int rc;
		const char *want;
	} bad[] = {
		{"tls://", DNS_ESYNTAX, "missing server address"},
		{"tls://#name", DNS_ESYNTAX, "missing server address"},
		{"tls://1.2.3.4#", DNS_ESYNTAX, "empty TLS name"},
		{"tls://1.2.3.4#.", DNS_ESYNTAX, "empty TLS name"},
		{"tls://1.2.3.4#bad name", DNS_ESYNTAX, "bad TLS name"},
		{"tls://1.2.3.4#a..b", DNS_ESYNTAX, "bad TLS name"},
		{"tls://1.2.3.4#.a", DNS_ESYNTAX, "bad TLS name"},
		{"tls://1.2.3.4#a#b", DNS_ESYNTAX, "bad TLS name"},
		{"tls://1.2.3.4#aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.b", DNS_ESYNTAX,
		 "bad TLS name"},
		{"tls://1.2.3.4:0#x", DNS_ERANGE, "port 0"},
		{"tls://1.2.3.4:70000", DNS_ESYNTAX, "1.2.3.4:70000"},
		{"tls://dns.example", DNS_ESYNTAX, "dns.example"},
		{"tls://1.2.3.4/dns-query", DNS_ESYNTAX, "expected tls://ADDR"},
		{"tls://1.2.3.4@eth0", DNS_ESYNTAX, "expected tls://ADDR"},
		{"https://1.2.3.4", DNS_ESYNTAX, "https"},
		{"127.0.0.1:0", DNS_ERANGE, "port 0"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[256] = "";
		int rc = route_parse_upstream(bad[i].text, &u, err, sizeof(err));
		if (rc != bad[i].rc || !strstr(err, bad[i].want))
			fail_msg("'%s': rc %d err '%s', want %d '%s'", bad[i].text, rc, err, bad[i].rc, bad[i].want);
	}
	/* a name of 254 characters */
	name[253] = 'a';
	name[254] = 0;
	snprintf(text, sizeof(text), "tls://1.2.3.4#%s", name);
	char err[256];
	assert_int_equal(route_parse_upstream(text, &u, err, sizeof(err)), DNS_ERANGE);
}

static void test_tls_lines(void **state)
{
	(void)state;
	route *rt = route_new();
	char b[ROUTE_UPSTREAM_STRLEN];
	add(rt, "server=127.0.0.1#853");
	add(rt, "server=tls://127.0.0.1#dot.test");                /* default, TLS */
	add(rt, "server=/cn/tls://[::1]:8853#dns.example");        /* a domain over TLS */
	add(rt, "server=/a.example/b.example/tls://127.0.0.1:853#dot.test"); /* same server as #2 */
	add(rt, "server=/c.example/tls://127.0.0.1#other.test");   /* other name: other server */
	add(rt, "server=/d.example/tls://127.0.0.1");              /* no name: other server */
	add(rt, "server=/d.example/127.0.0.2#5300");               /* plain, same domain: a group */
	assert_int_equal(route_nservers(rt), 6);
	assert_int_equal(route_ntls(rt), 4);
	const route_upstream *u = route_upstreams(rt);
	assert_string_equal(route_upstream_str(&u[0], b, sizeof(b)), "127.0.0.1:853");
	assert_string_equal(route_upstream_str(&u[1], b, sizeof(b)), "tls://127.0.0.1:853#dot.test");
	assert_string_equal(route_upstream_str(&u[2], b, sizeof(b)), "tls://[::1]:8853#dns.example");
	assert_string_equal(route_upstream_str(&u[3], b, sizeof(b)), "tls://127.0.0.1:853#other.test");
	assert_string_equal(route_upstream_str(&u[4], b, sizeof(b)), "tls://127.0.0.1:853");
	/* route_servers() is the same list, addresses only */
	assert_string_equal(route_upstream_str(&u[5], b, sizeof(b)), "127.0.0.2:5300");
	for (unsigned i = 0; i < 6; i++)
		assert_true(addr_equal(&route_servers(rt)[i], &u[i].addr));
	route_match m = look(rt, "www.example.com.");
	assert_int_equal(m.n, 2);
	assert_int_equal(m.servers[0], 0);
	assert_int_equal(m.servers[1], 1);
	m = look(rt, "x.cn.");
	assert_int_equal(m.n, 1);
	assert_int_equal(m.servers[0], 2);
	m = look(rt, "x.b.example.");
	assert_int_equal(m.n, 1);
	assert_int_equal(m.servers[0], 1);
	m = look(rt, "d.example.");
	assert_int_equal(m.n, 2);
	assert_int_equal(m.servers[0], 4);
	assert_int_equal(m.servers[1], 5);
	route_free(rt);
}

static void test_tls_bad_lines(void **state)
{
	(void)state;
	route *rt = route_new();
	static const char *const bad[] = {
		"server=/cn/tls://",
		"server=/cn/tls://1.2.3.4#",
		"server=/cn/tls://1.2.3.4#a b",
		"server=/tls://1.2.3.4",
		"server=tls://1.2.3.4:0",
		"local=/cn/tls://1.2.3.4",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[256] = "";
		if (route_add_line(rt, bad[i], err, sizeof(err)) >= 0 || !err[0])
			fail_msg("'%s' accepted (err '%s')", bad[i], err);
	}
	assert_int_equal(route_nservers(rt), 0);
	route_free(rt);
}

static void test_tls_settings_and_registry(void **state)
{
	(void)state;
	route *rt = route_new();
	assert_null(route_tls_ca(rt));
	assert_false(route_tls_insecure(rt));
	assert_int_equal(route_set_tls(rt, "/etc/ca.pem", true), 0);
	assert_string_equal(route_tls_ca(rt), "/etc/ca.pem");
	assert_true(route_tls_insecure(rt));
	assert_int_equal(route_set_tls(rt, NULL, false), 0);
	assert_null(route_tls_ca(rt));
	add(rt, "server=127.0.0.1#5300");
	add(rt, "server=tls://127.0.0.1#dot.test");
	/* by pointer */
	assert_ptr_equal(route_by_servers(route_servers(rt), 2), rt);
	/* by content: a copy of the list finds the table that has TLS servers */
	net_addr copy[2];
	memcpy(copy, route_servers(rt), sizeof(copy));
	assert_ptr_equal(route_by_servers(copy, 2), rt);
	assert_ptr_equal(route_by_servers(copy, 1), rt);
	/* a list that is no table's */
	net_addr other[1];
	addr_parse(&other[0], "192.0.2.1", 53, NULL, 0);
	assert_null(route_by_servers(other, 1));
	/* a table without TLS servers is only found by pointer */
	route *plain = route_new();
	add(plain, "server=192.0.2.1");
	assert_null(route_by_servers(other, 1));
	assert_ptr_equal(route_by_servers(route_servers(plain), 1), plain);
	route_free(plain);
	route_free(rt);
	assert_null(route_by_servers(copy, 2)); /* freed tables leave the registry */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_longest_match),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_china_list),
		cmocka_unit_test(test_tls_parse),
		cmocka_unit_test(test_tls_lines),
		cmocka_unit_test(test_tls_bad_lines),
		cmocka_unit_test(test_tls_settings_and_registry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
