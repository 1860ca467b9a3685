/* test_privdrop — user lookup and the switch (in a child when root). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dns/err.h"
#include "util/privdrop.h"

static void test_lookup_names_and_numbers(void **st)
{
	(void)st;
	struct privdrop p;
	char err[160];
	assert_int_equal(privdrop_lookup("root", &p, err, sizeof(err)), 0);
	assert_int_equal(p.uid, 0);
	assert_int_equal(p.gid, 0);
	assert_string_equal(p.name, "root");
	assert_int_equal(privdrop_lookup("0", &p, err, sizeof(err)), 0);
	assert_string_equal(p.name, "root");
	struct passwd *nb = getpwnam("nobody");
	if (nb) {
		assert_int_equal(privdrop_lookup("nobody", &p, err, sizeof(err)), 0);
		assert_int_equal(p.uid, nb->pw_uid);
		assert_int_equal(p.gid, nb->pw_gid);
	}
}

static void test_lookup_refuses_unknown(void **st)
{
	(void)st;
	struct privdrop p;
	char err[160] = "";
	assert_int_equal(privdrop_lookup("no-such-user-antidote", &p, err, sizeof(err)), DNS_ENOTFOUND);
	assert_non_null(strstr(err, "no such user"));
	assert_int_equal(privdrop_lookup("", &p, err, sizeof(err)), DNS_EINVAL);
	assert_int_equal(privdrop_lookup(NULL, &p, err, sizeof(err)), DNS_EINVAL);
	char longname[100];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	assert_int_equal(privdrop_lookup(longname, &p, err, sizeof(err)), DNS_EINVAL);
}

/* Root: a child drops to nobody and checks it cannot come back. Not root:
 * dropping to another user fails with a message; to oneself succeeds. */
static void test_apply(void **st)
{
	(void)st;
	char err[160] = "";
	struct privdrop p;
	if (geteuid() != 0) {
		assert_int_equal(privdrop_lookup("root", &p, err, sizeof(err)), 0);
		assert_int_equal(privdrop_apply(&p, err, sizeof(err)), DNS_EINVAL);
		assert_non_null(strstr(err, "only root"));
		p.uid = geteuid();
		p.gid = getegid();
		assert_int_equal(privdrop_apply(&p, err, sizeof(err)), 0);
		return;
	}
	struct passwd *nb = getpwnam("nobody");
	if (!nb) {
		skip();
		return;
	}
	assert_int_equal(privdrop_lookup("nobody", &p, err, sizeof(err)), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (privdrop_apply(&p, err, sizeof(err)) != 0)
			_exit(1);
		uid_t r, e, s;
		gid_t gr, ge, gs;
		if (getresuid(&r, &e, &s) || r != nb->pw_uid || e != nb->pw_uid || s != nb->pw_uid)
			_exit(2);
		if (getresgid(&gr, &ge, &gs) || gr != nb->pw_gid || ge != nb->pw_gid || gs != nb->pw_gid)
			_exit(3);
		if (setuid(0) == 0 || seteuid(0) == 0)
			_exit(4);
		gid_t groups[8];
		int ng = getgroups(8, groups);
		if (ng != 1 || groups[0] != nb->pw_gid)
			_exit(5);
		_exit(0);
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup_names_and_numbers),
		cmocka_unit_test(test_lookup_refuses_unknown),
		cmocka_unit_test(test_apply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
