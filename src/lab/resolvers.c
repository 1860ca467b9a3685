/* resolvers — the resolvers under test (see resolvers.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab/resolvers.h"

bool resolvers_which(const char *prog, char *out, size_t cap)
{
	if (strchr(prog, '/')) {
		snprintf(out, cap, "%s", prog);
		return access(out, X_OK) == 0;
	}
	const char *path = getenv("PATH");
	char buf[4096];
	snprintf(buf, sizeof(buf), "%s:/usr/local/sbin:/usr/sbin:/sbin", path ? path : "/usr/bin:/bin");
	for (char *save = NULL, *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(out, cap, "%s/%s", *d ? d : ".", prog);
		if (access(out, X_OK) == 0)
			return true;
	}
	return false;
}

int resolvers_write_routes(const struct resolvers_env *env, FILE *f)
{
	int n = 0;
	fprintf(f, "server=/cn/127.0.0.1#%u\n", env->domestic_port);
	n++;
	for (unsigned i = 0; i < env->net->n; i++) {
		const struct site *s = &env->net->site[i];
		if (!s->domestic || !strcmp(env->net->tld[s->tld], "cn"))
			continue;
		fprintf(f, "server=/%s/127.0.0.1#%u\n", s->zone, env->domestic_port);
		n++;
	}
	fprintf(f, "server=%s#%u\n", env->border_ip ? env->border_ip : "127.0.0.1", env->border_port);
	return n + 1;
}

int resolvers_write_unbound(const struct resolvers_env *env, uint16_t port, FILE *f)
{
	fprintf(f, "server:\n"
		   "  interface: 127.0.0.1@%u\n  port: %u\n  interface-automatic: no\n"
		   "  do-ip4: yes\n  do-ip6: no\n  do-daemonize: no\n  use-syslog: no\n  logfile: \"\"\n"
		   "  verbosity: 0\n  username: \"\"\n  chroot: \"\"\n  directory: \"%s\"\n  pidfile: \"\"\n"
		   "  access-control: 127.0.0.0/8 allow\n  module-config: \"iterator\"\n"
		   "  do-not-query-localhost: no\n  num-threads: 1\n  so-reuseport: no\n"
		   "  num-queries-per-thread: 4096\n  outgoing-range: 8192\n  qname-minimisation: no\n"
		   "  prefetch: no\n  serve-expired: no\n  cache-min-ttl: 0\n  infra-keep-probing: yes\n"
		   "  minimal-responses: yes\n  val-log-level: 0\n  trust-anchor-signaling: no\n"
		   "  root-key-sentinel: no\n\n"
		   "remote-control:\n  control-enable: no\n\n",
		port, port, env->dir);
	if (env->src_port_lo) {
		/* re-open server: after remote-control */
		fprintf(f, "server:\n  outgoing-port-avoid: 0-65535\n  outgoing-port-permit: %u-%u\n"
			   "  outgoing-range: 256\n  num-queries-per-thread: 1024\n\n",
			env->src_port_lo, env->src_port_lo + 255);
	}
	fprintf(f, "forward-zone:\n  name: \"cn\"\n  forward-addr: 127.0.0.1@%u\n", env->domestic_port);
	int n = 1;
	for (unsigned i = 0; i < env->net->n; i++) {
		const struct site *s = &env->net->site[i];
		if (!s->domestic || !strcmp(env->net->tld[s->tld], "cn"))
			continue;
		fprintf(f, "forward-zone:\n  name: \"%s\"\n  forward-addr: 127.0.0.1@%u\n", s->zone, env->domestic_port);
		n++;
	}
	fprintf(f, "forward-zone:\n  name: \".\"\n  forward-addr: %s@%u\n",
		env->border_ip ? env->border_ip : "127.0.0.1", env->border_port);
	return n + 1;
}

static FILE *open_conf(const struct resolvers_env *env, const char *name, char *path, size_t cap, char *err,
		       size_t errlen)
{
	snprintf(path, cap, "%s/%s", env->dir, name);
	FILE *f = fopen(path, "w");
	if (!f)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return f;
}

static bool close_conf(FILE *f, const char *path, char *err, size_t errlen)
{
	if (ferror(f) | (fclose(f) != 0)) {
		snprintf(err, errlen, "%s: write error", path);
		return false;
	}
	return true;
}

/* ---- dnsmasq ---- */

static const char *dnsmasq_missing(const struct resolvers_env *env)
{
	(void)env;
	char p[512];
	return resolvers_which("dnsmasq", p, sizeof(p)) ? NULL : "dnsmasq not installed (Debian: dnsmasq-base)";
}

static struct child *dnsmasq_start(const struct resolvers_env *env, uint16_t port, char *err, size_t errlen)
{
	char conf[512], log[512], exe[512];
	FILE *f = open_conf(env, "dnsmasq.conf", conf, sizeof(conf), err, errlen);
	if (!f)
		return NULL;
	fprintf(f, "port=%u\nlisten-address=127.0.0.1\nbind-interfaces\nno-resolv\nno-hosts\nno-poll\n"
		   "user=root\ngroup=root\npid-file=\ncache-size=10000\ndns-forward-max=5000\nlog-facility=-\n",
		port);
	if (env->src_port_lo)
		fprintf(f, "min-port=%u\nmax-port=%u\n", env->src_port_lo, env->src_port_lo + 255);
	resolvers_write_routes(env, f);
	if (!close_conf(f, conf, err, errlen))
		return NULL;
	if (!resolvers_which("dnsmasq", exe, sizeof(exe))) {
		snprintf(err, errlen, "dnsmasq not found");
		return NULL;
	}
	snprintf(log, sizeof(log), "%s/dnsmasq.log", env->dir);
	char cf[600];
	snprintf(cf, sizeof(cf), "--conf-file=%s", conf);
	char *argv[] = {exe, "--keep-in-foreground", cf, NULL};
	return child_spawn("dnsmasq", argv, log, err, errlen);
}

/* ---- unbound ---- */

static const char *unbound_missing(const struct resolvers_env *env)
{
	(void)env;
	char p[512];
	return resolvers_which("unbound", p, sizeof(p)) ? NULL : "unbound not installed (Debian: unbound)";
}

static struct child *unbound_start(const struct resolvers_env *env, uint16_t port, char *err, size_t errlen)
{
	char conf[512], log[512], exe[512];
	FILE *f = open_conf(env, "unbound.conf", conf, sizeof(conf), err, errlen);
	if (!f)
		return NULL;
	resolvers_write_unbound(env, port, f);
	if (!close_conf(f, conf, err, errlen))
		return NULL;
	if (!resolvers_which("unbound", exe, sizeof(exe))) {
		snprintf(err, errlen, "unbound not found");
		return NULL;
	}
	snprintf(log, sizeof(log), "%s/unbound.log", env->dir);
	char *argv[] = {exe, "-d", "-c", conf, NULL};
	return child_spawn("unbound", argv, log, err, errlen);
}

/* ---- antidote resolve ---- */

/* `antidote resolve --help` text (cached), or NULL when the subcommand does
 * not exist (yet). */
static const char *resolve_help(const struct resolvers_env *env)
{
	static char help[8192];
	static int state; /* 0 unknown, 1 present, -1 absent */
	if (state)
		return state > 0 ? help : NULL;
	state = -1;
	int pfd[2];
	if (pipe(pfd) < 0)
		return NULL;
	pid_t pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return NULL;
	}
	if (pid == 0) {
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		close(pfd[0]);
		execl(env->self, env->self, "resolve", "--help", (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	size_t n = 0;
	ssize_t k;
	while (n + 1 < sizeof(help) && (k = read(pfd[0], help + n, sizeof(help) - 1 - n)) > 0)
		n += (size_t)k;
	help[n] = 0;
	close(pfd[0]);
	int st;
	waitpid(pid, &st, 0);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && strstr(help, "--listen"))
		state = 1;
	return state > 0 ? help : NULL;
}

static const char *antidote_missing(const struct resolvers_env *env)
{
	return resolve_help(env) ? NULL : "antidote resolve not available yet";
}

/* The option antidote resolve takes for a dnsmasq-style routes file. */
static const char *routes_option(const char *help)
{
	static const char *cands[] = {"--servers", "--routes", "--route", "--server-file", "--conf"};
	for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]); i++) {
		const char *p = strstr(help, cands[i]);
		size_t l = strlen(cands[i]);
		if (p && (p[l] == ' ' || p[l] == '=' || p[l] == '\n' || p[l] == '\t' || p[l] == ']'))
			return cands[i];
	}
	return NULL;
}

static struct child *antidote_start(const struct resolvers_env *env, uint16_t port, const char *mode, char *err,
				    size_t errlen)
{
	const char *help = resolve_help(env);
	if (!help) {
		snprintf(err, errlen, "antidote resolve not available");
		return NULL;
	}
	char routes[512], log[512], listen[64], up[64], name[32];
	snprintf(name, sizeof(name), "antidote-%s", mode);
	snprintf(routes, sizeof(routes), "%s/%s.routes", env->dir, name);
	FILE *f = fopen(routes, "w");
	if (!f) {
		snprintf(err, errlen, "%s: %s", routes, strerror(errno));
		return NULL;
	}
	resolvers_write_routes(env, f);
	if (!close_conf(f, routes, err, errlen))
		return NULL;
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
	snprintf(up, sizeof(up), "%s:%u", env->border_ip ? env->border_ip : "127.0.0.1", env->border_port);
	snprintf(log, sizeof(log), "%s/%s.log", env->dir, name);
	char bogus[4096];
	snprintf(bogus, sizeof(bogus), "%s/chinadns-forged-iplist.txt", env->datadir);
	const char *ro = routes_option(help);
	char *argv[16];
	int a = 0;
	argv[a++] = (char *)env->self;
	argv[a++] = "resolve";
	argv[a++] = "--listen";
	argv[a++] = listen;
	argv[a++] = "--upstream";
	argv[a++] = up;
	if (ro) {
		argv[a++] = (char *)ro;
		argv[a++] = routes;
	}
	argv[a++] = "--defence";
	if (!strcmp(mode, "fixed")) {
		argv[a++] = "off";
		argv[a++] = "--bogus-ip";
		argv[a++] = bogus;
	} else {
		argv[a++] = (char *)mode;
	}
	if (strcmp(mode, "on")) {
		/* antidote-off/-fixed stand for a 2014 ISP resolver, which had
		 * no serve-stale (RFC 8767 is from 2020). With it, a burst of
		 * misses (the end probe) can make the relay look down for a few
		 * ms (3 attempts past their RTO, replies merely late) and the
		 * expired forged answers come back at once as stale data. */
		argv[a++] = "--stale-window";
		argv[a++] = "0";
	}
	argv[a] = NULL;
	return child_spawn(name, argv, log, err, errlen);
}

static struct child *antidote_off_start(const struct resolvers_env *env, uint16_t port, char *err, size_t errlen)
{
	return antidote_start(env, port, "off", err, errlen);
}

static struct child *antidote_on_start(const struct resolvers_env *env, uint16_t port, char *err, size_t errlen)
{
	return antidote_start(env, port, "on", err, errlen);
}

static struct child *antidote_fixed_start(const struct resolvers_env *env, uint16_t port, char *err, size_t errlen)
{
	return antidote_start(env, port, "fixed", err, errlen);
}

const struct resolver_kind resolver_kinds[] = {
	{"dnsmasq", "Debian dnsmasq, forwarding", false, dnsmasq_missing, dnsmasq_start},
	{"unbound", "Debian Unbound, forward-zones", false, unbound_missing, unbound_start},
	{"antidote-off", "antidote resolve, defence off", false, antidote_missing, antidote_off_start},
	{"antidote-on", "antidote resolve, defence on", true, antidote_missing, antidote_on_start},
	{"antidote-fixed", "antidote resolve, fixed bogus-ip list only", true, antidote_missing,
	 antidote_fixed_start},
};
const unsigned resolver_nkinds = sizeof(resolver_kinds) / sizeof(resolver_kinds[0]);

const struct resolver_kind *resolvers_find(const char *name)
{
	for (unsigned i = 0; i < resolver_nkinds; i++)
		if (!strcmp(resolver_kinds[i].name, name))
			return &resolver_kinds[i];
	return NULL;
}
