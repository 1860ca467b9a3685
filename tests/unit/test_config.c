/* test_config — `antidote resolve` options: command line, config files (comments, both separators, flags), errors with file:line. */
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
#include "testutil.h"

static int parse(resolve_config *c, char *err, int argc, const char **argv)
{
	assert_int_equal(config_init(c), 0);
	int rc = config_parse_args(c, argc, (char **)argv, err, CONFIG_ERRLEN);
	if (rc == 0)
		rc = config_finish(c, err, CONFIG_ERRLEN);
	return rc;
}

static void test_args(void **state)
{
	(void)state;
	resolve_config c;
	char err[CONFIG_ERRLEN];
	const char *argv[] = {"resolve", "--listen", "127.0.0.1:5353", "--listen=[::1]:5353",
			      "--upstream", "127.0.0.1:5300", "--upstream", "[::1]:5301", "--threads", "2",
			      "--cache-size", "256M", "--min-ttl", "5", "--max-ttl=600", "--0x20",
			      "--server", "/cn/127.0.0.2#5302", "--stale-window", "0", "--prefetch", "0",
			      "--attempts", "3", "--rto", "250", "--no-cookies", "--max-udp", "1400"};
	assert_int_equal(parse(&c, err, (int)(sizeof(argv) / sizeof(argv[0])), argv), 0);
	assert_int_equal(c.nlisten, 2);
	assert_int_equal(addr_port(&c.listen[0]), 5353);
	assert_int_equal(addr_family(&c.listen[1]), AF_INET6);
	assert_int_equal(route_nservers(c.rt), 3);
	assert_int_equal(c.nupstream, 2);
	assert_int_equal(c.threads, 2);
	assert_int_equal(c.cache.size, 256u << 20);
	assert_int_equal(c.cache.min_ttl, 5);
	assert_int_equal(c.cache.max_ttl, 600);
	assert_int_equal(c.cache.stale_window, 0);
	assert_int_equal(c.cache.prefetch_pct, 0);
	assert_true(c.use_0x20);
	assert_true(c.no_cookies);
	assert_int_equal(c.attempts, 3);
	assert_int_equal(c.rto_ms, 250);
	assert_int_equal(c.max_udp, 1400);
	/* per-domain routing reached the table */
	uint8_t n[NAME_MAXLEN];
	route_match m;
	name_from_text("www.example.cn.", 15, NULL, n);
	route_lookup(c.rt, n, &m);
	assert_int_equal(m.n, 1);
	assert_int_equal(m.servers[0], 2);
	name_from_text("www.example.com.", 16, NULL, n);
	route_lookup(c.rt, n, &m);
	assert_int_equal(m.n, 2);
	/* allow defaults to loopback */
	net_addr a;
	addr_parse(&a, "127.0.0.1", 53, NULL, 0);
	assert_true(acl_match(&c.allow, &a));
	addr_parse(&a, "10.0.0.1", 53, NULL, 0);
	assert_false(acl_match(&c.allow, &a));
	config_free(&c);
}

static void test_defaults_and_required(void **state)
{
	(void)state;
	resolve_config c;
	char err[CONFIG_ERRLEN];
	const char *a1[] = {"resolve", "--upstream", "127.0.0.1"};
	assert_int_equal(parse(&c, err, 3, a1), DNS_EINVAL);
	assert_non_null(strstr(err, "listen"));
	config_free(&c);
	const char *a2[] = {"resolve", "--listen", "127.0.0.1"};
	assert_int_equal(parse(&c, err, 3, a2), DNS_EINVAL);
	assert_non_null(strstr(err, "upstream"));
	config_free(&c);
	const char *a3[] = {"resolve", "--help"};
	assert_int_equal(parse(&c, err, 2, a3), 0);
	assert_true(c.help);
	config_free(&c);
	const char *a4[] = {"resolve", "--listen", "127.0.0.1", "--upstream", "127.0.0.1"};
	assert_int_equal(parse(&c, err, 5, a4), 0);
	assert_int_equal(addr_port(&c.listen[0]), 53);
	assert_int_equal(addr_port(&route_servers(c.rt)[0]), 53);
	assert_int_equal(c.attempts, 4);
	assert_int_equal(c.max_inflight, 1024);
	assert_int_equal(c.stale_timeout_ms, 1800);
	assert_false(c.use_0x20);
	config_free(&c);
}

static void test_bad_args(void **state)
{
	(void)state;
	static const char *const cases[][3] = {
		{"--nonsense", NULL, "unknown option"},
		{"--threads", "0", "threads"},
		{"--threads", "x", "threads"},
		{"--threads", NULL, "needs a value"},
		{"--listen", "localhost", "listen"},
		{"--upstream", "127.0.0.1:0", "port 0"},
		{"--cache-size", "12Q", "cache-size"},
		{"--cache-size", "1K", "cache-size"},
		{"--allow", "10.0.0.1/8", "allow"},
		{"--server", "/x/not-an-ip", "server"},
		{"--attempts", "9", "attempts"},
		{"--max-udp", "100", "max-udp"},
		{"--0x20=maybe", NULL, "0x20"},
		{"stray", NULL, "unexpected argument"},
		{"--config", "/nonexistent/antidote.conf", "No such file"},
		{"--route", "/nonexistent/routes", "No such file"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		resolve_config c;
		char err[CONFIG_ERRLEN] = "";
		const char *argv[3] = {"resolve", cases[i][0], cases[i][1]};
		assert_int_equal(config_init(&c), 0);
		int rc = config_parse_args(&c, cases[i][1] ? 3 : 2, (char **)argv, err, sizeof(err));
		if (rc == 0 || !strstr(err, cases[i][2]))
			fail_msg("case %zu (%s %s): rc %d, err '%s'", i, cases[i][0], cases[i][1] ? cases[i][1] : "",
				 rc, err);
		config_free(&c);
	}
}

static void test_file(void **state)
{
	(void)state;
	char path[64], rpath[64];
	const char *routes = tu_tempfile("# china list\nserver=/cn/127.0.0.9#5399\nserver=/local.test/\n",
					 rpath, sizeof(rpath));
	char text[1024];
	snprintf(text, sizeof(text),
		 "# a resolver\n"
		 "\n"
		 "listen 127.0.0.1:5353   # trailing comment\n"
		 "  --listen [::1]:5353\n"
		 "upstream=127.0.0.1:5300\n"
		 "server=/example.org/127.0.0.1#5301\n"
		 "server /example.net/127.0.0.1#5302\n"
		 "route %s\n"
		 "allow 10.0.0.0/8\n"
		 "allow = 192.0.2.0/24\n"
		 "0x20\n"
		 "no-cookies no\n"
		 "cache-size 1G\r\n"
		 "max-ttl\t3600\n",
		 routes);
	assert_non_null(tu_tempfile(text, path, sizeof(path)));
	resolve_config c;
	char err[CONFIG_ERRLEN];
	const char *argv[] = {"resolve", "--config", path, "--threads", "3"};
	assert_int_equal(parse(&c, err, 5, argv), 0);
	assert_int_equal(c.nlisten, 2);
	assert_int_equal(route_nservers(c.rt), 4);
	assert_int_equal(route_ndomains(c.rt), 4);
	assert_true(c.use_0x20);
	assert_false(c.no_cookies);
	assert_int_equal(c.cache.size, 1u << 30);
	assert_int_equal(c.cache.max_ttl, 3600);
	assert_int_equal(c.threads, 3);
	net_addr a;
	addr_parse(&a, "10.9.9.9", 53, NULL, 0);
	assert_true(acl_match(&c.allow, &a));
	addr_parse(&a, "127.0.0.1", 53, NULL, 0);
	assert_false(acl_match(&c.allow, &a)); /* --allow given: no loopback default */
	uint8_t n[NAME_MAXLEN];
	route_match m;
	name_from_text("a.local.test.", 13, NULL, n);
	route_lookup(c.rt, n, &m);
	assert_true(m.local);
	config_free(&c);
	unlink(path);
	unlink(rpath);
}

static void test_file_errors(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
		{"listen 127.0.0.1\nbogus 1\n", ":2: unknown option 'bogus'"},
		{"# c\n\nthreads\n", ":3: threads needs a value"},
		{"threads 1000\n", ":1: threads"},
		{"config /etc/other\n", ":1: config files cannot include others"},
		{"0x20 perhaps\n", ":1: 0x20 takes no value"},
		{"listen 127.0.0.1\nupstream nowhere\n", ":2: upstream: "},
		{"server=/a/b/c\n", ":1: server"},
		{"a\0b\n", ":1: "},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[64];
		size_t len = strlen(cases[i].text);
		if (i == 7)
			len = 4;
		snprintf(path, sizeof(path), "/tmp/antidote-test.XXXXXX");
		int fd = mkstemp(path);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, cases[i].text, len), (ssize_t)len);
		close(fd);
		resolve_config c;
		char err[CONFIG_ERRLEN] = "";
		assert_int_equal(config_init(&c), 0);
		int rc = config_load(&c, path, err, sizeof(err));
		if (rc == 0 || strncmp(err, path, strlen(path)) || !strstr(err, cases[i].want))
			fail_msg("case %zu: rc %d err '%s' want '%s'", i, rc, err, cases[i].want);
		config_free(&c);
		unlink(path);
	}
}

static void test_tls(void **state)
{
	(void)state;
	resolve_config c;
	char err[CONFIG_ERRLEN];
	/* --tls-insecure: no trust store is read */
	const char *a1[] = {"resolve", "--listen", "127.0.0.1", "--upstream", "tls://127.0.0.1#dot.test",
			    "--upstream", "127.0.0.1:5300", "--server", "/cn/tls://[::1]:8853", "--tls-insecure",
			    "--tls-ca", "/nonexistent/ca.pem"};
	assert_int_equal(parse(&c, err, 12, a1), 0);
	assert_int_equal(route_nservers(c.rt), 3);
	assert_int_equal(route_ntls(c.rt), 2);
	assert_int_equal(c.nupstream, 2);
	assert_true(c.tls_insecure);
	assert_true(route_tls_insecure(c.rt));
	assert_string_equal(route_tls_ca(c.rt), "/nonexistent/ca.pem");
	const route_upstream *u = route_upstreams(c.rt);
	assert_int_equal(u[0].transport, ROUTE_TLS);
	assert_int_equal(addr_port(&u[0].addr), 853);
	assert_string_equal(u[0].auth, "dot.test");
	assert_int_equal(u[1].transport, ROUTE_DNS);
	assert_int_equal(u[2].transport, ROUTE_TLS);
	assert_int_equal(addr_port(&u[2].addr), 8853);
	config_free(&c);

	/* a CA file that does not exist or holds no certificate: refused at
	 * finish when a TLS upstream exists */
	const char *a2[] = {"resolve", "--listen", "127.0.0.1", "--upstream", "tls://127.0.0.1",
			    "--tls-ca", "/nonexistent/ca.pem"};
	assert_int_equal(parse(&c, err, 7, a2), DNS_EINVAL);
	assert_non_null(strstr(err, "tls-ca /nonexistent/ca.pem: No such file"));
	config_free(&c);
	char path[64];
	assert_non_null(tu_tempfile("not a certificate\n", path, sizeof(path)));
	const char *a3[] = {"resolve", "--listen", "127.0.0.1", "--upstream", "tls://127.0.0.1", "--tls-ca", path};
	assert_int_equal(parse(&c, err, 7, a3), DNS_EINVAL);
	assert_non_null(strstr(err, "no PEM certificate"));
	config_free(&c);
	/* ... but nobody cares without a TLS upstream */
	const char *a4[] = {"resolve", "--listen", "127.0.0.1", "--upstream", "127.0.0.1", "--tls-ca", path};
	assert_int_equal(parse(&c, err, 7, a4), 0);
	assert_int_equal(route_ntls(c.rt), 0);
	config_free(&c);
	unlink(path);

	/* the system bundle, when this machine has one, loads */
	const char *bundle = "/etc/ssl/certs/ca-certificates.crt";
	if (access(bundle, R_OK) == 0) {
		const char *a5[] = {"resolve", "--listen", "127.0.0.1", "--upstream", "tls://127.0.0.1", "--tls-ca", bundle};
		assert_int_equal(parse(&c, err, 7, a5), 0);
		assert_string_equal(route_tls_ca(c.rt), bundle);
		assert_false(route_tls_insecure(c.rt));
		config_free(&c);
	}

	/* bad tls:// values name the option */
	const char *a6[] = {"resolve", "--listen", "127.0.0.1", "--upstream", "tls://127.0.0.1#"};
	assert_int_equal(parse(&c, err, 5, a6), DNS_ESYNTAX);
	assert_non_null(strstr(err, "--upstream: empty TLS name"));
	config_free(&c);
	const char *a7[] = {"resolve", "--listen", "127.0.0.1", "--upstream", "tls://127.0.0.1:0"};
	assert_int_equal(parse(&c, err, 5, a7), DNS_ERANGE);
	config_free(&c);

	/* the config-file form */
	char text[256];
	snprintf(text, sizeof(text), "listen 127.0.0.1\nupstream tls://127.0.0.1:8853#dot.test\n"
				     "server=/cn/tls://127.0.0.2#cn.test\ntls-insecure\n");
	assert_non_null(tu_tempfile(text, path, sizeof(path)));
	const char *a8[] = {"resolve", "--config", path};
	assert_int_equal(parse(&c, err, 3, a8), 0);
	assert_int_equal(route_ntls(c.rt), 2);
	assert_true(route_tls_insecure(c.rt));
	assert_string_equal(route_upstreams(c.rt)[1].auth, "cn.test");
	config_free(&c);
	unlink(path);

	/* --help says it loudly */
	char buf[16384] = "";
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");
	assert_non_null(f);
	config_usage(f);
	fclose(f);
	const char *h = strstr(buf, "--tls-insecure");
	assert_non_null(h);
	assert_non_null(strstr(h, "DANGER"));
	assert_non_null(strstr(buf, "--tls-ca FILE"));
	assert_non_null(strstr(buf, "tls://ADDR[:PORT][#NAME]"));
}

/* --trust-anchor / --dnssec: on with an anchor, off without, 'on' alone
 * takes Debian's root.ds or refuses clearly */
static void test_dnssec(void **state)
{
	(void)state;
	resolve_config c;
	char err[CONFIG_ERRLEN];
	const char *base[] = {"resolve", "--listen", "127.0.0.1:5353", "--upstream", "127.0.0.1:5300"};
	assert_int_equal(parse(&c, err, 5, base), 0);
	assert_int_equal(c.dnssec, 0);
	assert_null(c.anchors);
	config_free(&c);
	const char *a1[] = {"resolve", "--listen", "127.0.0.1:5353", "--upstream", "127.0.0.1:5300",
			    "--trust-anchor", "tests/data/validator/test.ds", "--trust-anchor=tests/data/validator/test.key"};
	assert_int_equal(parse(&c, err, 8, a1), 0);
	assert_int_equal(c.dnssec, 1);
	assert_int_equal(c.anchors->n, 2);
	assert_int_equal(c.anchors->files, 2);
	config_free(&c);
	const char *a2[] = {"resolve", "--listen", "127.0.0.1:5353", "--upstream", "127.0.0.1:5300",
			    "--trust-anchor", "tests/data/validator/test.ds", "--dnssec", "off"};
	assert_int_equal(parse(&c, err, 9, a2), 0);
	assert_int_equal(c.dnssec, 0);
	config_free(&c);
	const char *bad[] = {"resolve", "--listen", "127.0.0.1:5353", "--upstream", "127.0.0.1:5300",
			     "--trust-anchor", "tests/data/validator/test.zone"};
	assert_true(parse(&c, err, 7, bad) < 0);
	assert_non_null(strstr(err, "trust-anchor: "));
	assert_non_null(strstr(err, "test.zone:"));
	config_free(&c);
	const char *bad2[] = {"resolve", "--listen", "127.0.0.1:5353", "--upstream", "127.0.0.1:5300", "--dnssec",
			      "maybe"};
	assert_true(parse(&c, err, 7, bad2) < 0);
	assert_non_null(strstr(err, "dnssec: 'maybe' is not on or off"));
	config_free(&c);
	const char *on[] = {"resolve", "--listen", "127.0.0.1:5353", "--upstream", "127.0.0.1:5300", "--dnssec",
			    "on"};
	int rc = parse(&c, err, 7, on);
	if (access(CONFIG_ROOT_DS, R_OK) == 0) {
		assert_int_equal(rc, 0);
		assert_int_equal(c.dnssec, 1);
		assert_true(c.anchors->n >= 1);
		assert_int_equal(c.anchors->a[0].owner[0], 0); /* the root */
	} else {
		assert_true(rc < 0);
		assert_non_null(strstr(err, "--dnssec on needs a trust anchor"));
	}
	config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_defaults_and_required),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_dnssec),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
