/* test_netns — namespace names and interface names (no root needed): only
 * "antidote-<pid>-<role>" parses; the topology's names fit IF_NAMESIZE; the
 * addresses are documentation ones, client and border / border and server
 * sharing a subnet. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dns/err.h"
#include "lab/netns.h"

static void test_parse_name(void **state)
{
	(void)state;
	pid_t pid;
	enum netns_role role;
	assert_int_equal(netns_parse_name("antidote-1234-border", &pid, &role), 0);
	assert_int_equal(pid, 1234);
	assert_int_equal(role, NETNS_BORDER);
	assert_int_equal(netns_parse_name("antidote-7-client", &pid, &role), 0);
	assert_int_equal(role, NETNS_CLIENT);
	assert_int_equal(netns_parse_name("antidote-99-server", NULL, &role), 0);
	assert_int_equal(role, NETNS_SERVER);
	const char *bad[] = {"", "antidote-", "antidote--border", "antidote-12-", "antidote-12-borderx",
			     "antidote-12border", "xantidote-12-border", "antidote-0-border", "antidote-012-border",
			     "antidote-12-Border", "antidote-99999999999-border", "antidote-1a-border",
			     "antidote-probe-x", "default", "antidote-12-border/../x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(netns_parse_name(bad[i], &pid, &role), DNS_ESYNTAX);
}

static void test_topo_names(void **state)
{
	(void)state;
	struct netns_topo t;
	netns_topo_init(&t, 4194304);
	assert_string_equal(t.name[NETNS_CLIENT], "antidote-4194304-client");
	assert_string_equal(t.name[NETNS_BORDER], "antidote-4194304-border");
	assert_string_equal(t.name[NETNS_SERVER], "antidote-4194304-server");
	assert_string_equal(t.ifname[NETNS_IF_BORDER_C], "ad4194304bc");
	for (int i = 0; i < NETNS_NIFS; i++)
		assert_true(strlen(t.ifname[i]) < IF_NAMESIZE);
	for (int i = 0; i < NETNS_NROLES; i++) {
		pid_t pid;
		enum netns_role r;
		assert_int_equal(netns_parse_name(t.name[i], &pid, &r), 0);
		assert_int_equal(pid, 4194304);
		assert_int_equal((int)r, i);
		assert_int_equal(t.fd[i], -1);
	}
	assert_false(t.created);
	netns_destroy(&t); /* never created: nothing happens */
	assert_string_equal(netns_role_name(NETNS_BORDER), "border");
}

static void test_check_refuses(void **state)
{
	(void)state;
	char err[256], ifn[IF_NAMESIZE], ifn2[IF_NAMESIZE];
	enum netns_role role;
	assert_int_equal(netns_check_border("mynet", NULL, ifn, ifn2, err, sizeof(err)), DNS_EINVAL);
	assert_non_null(strstr(err, "antidote created"));
	assert_int_equal(netns_check_border("antidote-5-client", NULL, ifn, ifn2, err, sizeof(err)), DNS_EINVAL);
	assert_int_equal(netns_check_joined("other", &role, err, sizeof(err)), DNS_EINVAL);
	/* our own pid is alive, but this namespace has no ad<pid>bc veth */
	char name[64];
	snprintf(name, sizeof(name), "antidote-%d-border", (int)getpid());
	assert_int_equal(netns_check_border(name, NULL, ifn, ifn2, err, sizeof(err)), DNS_EINVAL);
	assert_non_null(strstr(err, "no veth"));
	assert_int_equal(netns_check_border(name, "eth0", ifn, ifn2, err, sizeof(err)), DNS_EINVAL);
	assert_non_null(strstr(err, "refusing interface 'eth0'"));
	assert_false(netns_is_veth("lo"));
}

static void test_addresses(void **state)
{
	(void)state;
	const char *v4[] = {NETNS_CLIENT_IP, NETNS_BORDER_CLIENT_IP, NETNS_BORDER_SERVER_IP, NETNS_SERVER_IP};
	const char *v6[] = {NETNS_CLIENT_IP6, NETNS_BORDER_CLIENT_IP6, NETNS_BORDER_SERVER_IP6, NETNS_SERVER_IP6};
	uint8_t a4[4][4], a6[4][16];
	for (int i = 0; i < 4; i++) {
		assert_int_equal(inet_pton(AF_INET, v4[i], a4[i]), 1);
		assert_int_equal(inet_pton(AF_INET6, v6[i], a6[i]), 1);
		/* 198.51.100.0/24 or 203.0.113.0/24; 2001:db8::/32 */
		assert_true((a4[i][0] == 198 && a4[i][1] == 51 && a4[i][2] == 100) ||
			    (a4[i][0] == 203 && a4[i][1] == 0 && a4[i][2] == 113));
		assert_memory_equal(a6[i], ((uint8_t[]){0x20, 0x01, 0x0d, 0xb8}), 4);
	}
	/* client/border-client and border-server/server share a /24 and a /64 */
	assert_memory_equal(a4[0], a4[1], 3);
	assert_memory_equal(a4[2], a4[3], 3);
	assert_memory_equal(a6[0], a6[1], 8);
	assert_memory_equal(a6[2], a6[3], 8);
	assert_memory_not_equal(a6[0], a6[2], 8);
	assert_memory_not_equal(a4[0], a4[2], 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_name),
		cmocka_unit_test(test_topo_names),
		cmocka_unit_test(test_check_refuses),
		cmocka_unit_test(test_addresses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
