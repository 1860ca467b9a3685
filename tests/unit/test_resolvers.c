/* test_resolvers — the resolver kind table and its config writers, and the
 * lab's child-process and temp-dir handling (lab/child.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lab/child.h"
#include "lab/internet.h"
#include "lab/resolvers.h"

static char *capture(const struct resolvers_env *env, int which, int *lines)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	*lines = which ? resolvers_write_unbound(env, 5353, f) : resolvers_write_routes(env, f);
	fclose(f);
	return buf;
}

static unsigned count(const char *hay, const char *needle)
{
	unsigned n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void test_configs(void **state)
{
	(void)state;
	struct internet net;
	char err[256];
	struct internet_opts io;
	internet_opts_default(&io);
	io.sites = 40;
	io.domestic_pct = 20;
	const char china[] = "server=/baidu.com/1.1.1.1\nserver=/qq.com/1.1.1.1\n";
	assert_int_equal(internet_build(&net, &io, NULL, 0, china, strlen(china), err, sizeof(err)), 0);
	struct resolvers_env env = {.dir = "/tmp", .border_port = 1111, .domestic_port = 2222, .net = &net};
	int lines;
	char *r = capture(&env, 0, &lines);
	/* cn + the two china-list zones + the default */
	assert_int_equal(lines, 4);
	assert_non_null(strstr(r, "server=/cn/127.0.0.1#2222\n"));
	assert_non_null(strstr(r, "server=/baidu.com/127.0.0.1#2222\n"));
	assert_non_null(strstr(r, "server=/qq.com/127.0.0.1#2222\n"));
	assert_non_null(strstr(r, "server=127.0.0.1#1111\n"));
	/* the default comes last */
	assert_true(strstr(r, "server=127.0.0.1#1111") > strstr(r, "server=/qq.com/"));
	assert_int_equal(count(r, "server="), 4);
	free(r);
	char *u = capture(&env, 1, &lines);
	assert_int_equal(lines, 4);
	assert_non_null(strstr(u, "interface: 127.0.0.1@5353"));
	assert_non_null(strstr(u, "module-config: \"iterator\""));
	assert_non_null(strstr(u, "name: \"cn\"\n  forward-addr: 127.0.0.1@2222"));
	assert_non_null(strstr(u, "name: \"baidu.com\"\n  forward-addr: 127.0.0.1@2222"));
	assert_non_null(strstr(u, "name: \".\"\n  forward-addr: 127.0.0.1@1111"));
	assert_null(strstr(u, "outgoing-port-permit"));
	free(u);
	env.src_port_lo = 40000;
	u = capture(&env, 1, &lines);
	assert_non_null(strstr(u, "outgoing-port-permit: 40000-40255"));
	free(u);
	internet_free(&net);
}

static void test_kinds(void **state)
{
	(void)state;
	assert_true(resolver_nkinds >= 5);
	const struct resolver_kind *k = resolvers_find("unbound");
	assert_non_null(k);
	assert_false(k->defended);
	assert_true(resolvers_find("antidote-on")->defended);
	assert_null(resolvers_find("bind9"));
	char p[512];
	assert_true(resolvers_which("sh", p, sizeof(p)));
	assert_true(strchr(p, '/') != NULL);
	assert_false(resolvers_which("no-such-program-xyz", p, sizeof(p)));
	assert_true(resolvers_which("/bin/sh", p, sizeof(p)));
}

static void test_children(void **state)
{
	(void)state;
	char err[256];
	const char *dir = child_mktemp(err, sizeof(err));
	assert_non_null(dir);
	char logp[512], keep[512];
	snprintf(logp, sizeof(logp), "%s/echo.log", dir);
	snprintf(keep, sizeof(keep), "%s", dir);
	char *echo[] = {"sh", "-c", "echo one; echo two; echo three; echo four", NULL};
	struct child *c = child_spawn("echo", echo, logp, err, sizeof(err));
	assert_non_null(c);
	for (int i = 0; i < 200 && child_alive(c); i++)
		usleep(10000);
	assert_false(child_alive(c));
	char tail[128];
	child_log_tail(c, tail, sizeof(tail));
	assert_string_equal(tail, "two\nthree\nfour");
	/* a long sleeper: stop, continue, kill */
	char *sl[] = {"sleep", "30", NULL};
	c = child_spawn("sleep", sl, NULL, err, sizeof(err));
	assert_non_null(c);
	pid_t pid = c->pid;
	assert_true(child_alive(c));
	assert_int_equal(child_stop(c), 0);
	assert_int_equal(child_cont(c), 0);
	char *sl2[] = {"sleep", "30", NULL};
	struct child *d = child_spawn("sleep2", sl2, NULL, err, sizeof(err));
	assert_non_null(d);
	assert_int_equal(getpgid(d->pid), pid); /* one group, led by the first */
	child_stop(d);
	child_kill(c, 500);
	assert_false(child_alive(c));
	assert_int_equal(kill(pid, 0), -1);
	child_kill_all(); /* the stopped one too */
	assert_false(child_alive(d));
	/* exec failure is reported */
	char *bad[] = {"/no/such/program", NULL};
	assert_null(child_spawn("bad", bad, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot run"));
	child_rmtemp(false);
	struct stat st;
	assert_int_equal(stat(keep, &st), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_configs),
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_children),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
