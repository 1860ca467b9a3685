/* netns — the lab's network namespaces (see netns.h). */
#include "lab/netns.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dns/err.h"

static const char *const role_names[NETNS_NROLES] = {"client", "border", "server"};

const char *netns_role_name(enum netns_role r)
{
	return (unsigned)r < NETNS_NROLES ? role_names[r] : "?";
}

void netns_topo_init(struct netns_topo *t, pid_t owner)
{
	memset(t, 0, sizeof(*t));
	t->owner = owner;
	for (int i = 0; i < NETNS_NROLES; i++) {
		snprintf(t->name[i], sizeof(t->name[i]), NETNS_PREFIX "%d-%s", (int)owner, role_names[i]);
		t->fd[i] = -1;
	}
	static const char *const sfx[NETNS_NIFS] = {"c", "bc", "bs", "s"};
	for (int i = 0; i < NETNS_NIFS; i++)
		snprintf(t->ifname[i], sizeof(t->ifname[i]), "ad%d%s", (int)owner, sfx[i]);
}

int netns_parse_name(const char *name, pid_t *pid, enum netns_role *role)
{
	size_t pl = strlen(NETNS_PREFIX);
	if (strncmp(name, NETNS_PREFIX, pl))
		return DNS_ESYNTAX;
	const char *p = name + pl;
	long v = 0;
	int digits = 0;
	for (; *p >= '0' && *p <= '9' && digits < 10; p++, digits++)
		v = v * 10 + (*p - '0');
	if (!digits || *p != '-' || v <= 0 || v > 0x3fffffff || (name[pl] == '0'))
		return DNS_ESYNTAX;
	for (int r = 0; r < NETNS_NROLES; r++)
		if (!strcmp(p + 1, role_names[r])) {
			if (pid)
				*pid = (pid_t)v;
			if (role)
				*role = (enum netns_role)r;
			return 0;
		}
	return DNS_ESYNTAX;
}

/* Runs `ip ARGS...` (argv NULL-terminated, without "ip"); its stderr goes
 * to err. Returns 0 when it exits 0. */
static int run_ip(char *err, size_t errlen, const char *const *args)
{
	const char *argv[24];
	int n = 0;
	argv[n++] = "ip";
	for (; args[n - 1] && n < 23; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return DNS_EIO;
	}
	pid_t pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return DNS_EIO;
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR);
		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 1);
		}
		dup2(pfd[1], 2);
		execvp("ip", (char *const *)argv);
		fprintf(stderr, "cannot run ip (iproute2): %s", strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	char buf[400];
	size_t got = 0;
	ssize_t k;
	while ((k = read(pfd[0], buf + got, sizeof(buf) - 1 - got)) > 0 && got + (size_t)k < sizeof(buf) - 1)
		got += (size_t)k;
	if (k > 0)
		got += (size_t)k;
	buf[got] = 0;
	close(pfd[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	char *nl = strchr(buf, '\n');
	if (nl)
		*nl = 0;
	size_t o = 0;
	o += (size_t)snprintf(err + o, errlen - o, "ip");
	for (int i = 1; argv[i] && o < errlen; i++)
		o += (size_t)snprintf(err + o, errlen - o, " %s", argv[i]);
	if (o < errlen)
		snprintf(err + o, errlen - o, ": %s", buf[0] ? buf : "failed");
	return DNS_EIO;
}

int netns_open(const char *name)
{
	char p[128];
	snprintf(p, sizeof(p), NETNS_DIR "/%s", name);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? DNS_EIO : fd;
}

int netns_enter(int fd, int *old)
{
	if (old) {
		*old = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (*old < 0)
			return DNS_EIO;
	}
	if (setns(fd, CLONE_NEWNET) < 0) {
		if (old) {
			close(*old);
			*old = -1;
		}
		return DNS_EIO;
	}
	return 0;
}

int netns_return(int old)
{
	int rc = setns(old, CLONE_NEWNET) < 0 ? DNS_EIO : 0;
	close(old);
	return rc;
}

int netns_socket(int nsfd, int domain, int type, int proto)
{
	int old;
	if (netns_enter(nsfd, &old) < 0)
		return DNS_EIO;
	int s = socket(domain, type, proto);
	int e = errno;
	if (netns_return(old) < 0) {
		/* stuck in the wrong namespace: a broken invariant */
		fprintf(stderr, "antidote: cannot leave a network namespace\n");
		abort();
	}
	errno = e;
	return s < 0 ? DNS_EIO : s;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return DNS_EIO;
	ssize_t n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : DNS_EIO;
}

static int open_all(struct netns_topo *t, char *err, size_t errlen)
{
	for (int i = 0; i < NETNS_NROLES; i++)
		if ((t->fd[i] = netns_open(t->name[i])) < 0) {
			t->fd[i] = -1;
			snprintf(err, errlen, "cannot open " NETNS_DIR "/%s: %s", t->name[i], strerror(errno));
			return DNS_EIO;
		}
	return 0;
}

/* accept_dad 0 on every veth, before its link goes up: the link-local
 * addresses are usable at once too (without it IPv6 between the
 * namespaces stalls for the first second or two) */
static int no_dad(const struct netns_topo *t, char *err, size_t errlen)
{
	static const enum netns_role owner[NETNS_NIFS] = {NETNS_CLIENT, NETNS_BORDER, NETNS_BORDER, NETNS_SERVER};
	for (int i = 0; i < NETNS_NIFS; i++) {
		int old;
		if (netns_enter(t->fd[owner[i]], &old) < 0) {
			snprintf(err, errlen, "setns %s: %s", t->name[owner[i]], strerror(errno));
			return DNS_EIO;
		}
		char path[128];
		snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/accept_dad", t->ifname[i]);
		int rc = write_file(path, "0");
		if (netns_return(old) < 0) {
			fprintf(stderr, "antidote: cannot leave a network namespace\n");
			abort();
		}
		if (rc < 0) {
			snprintf(err, errlen, "%s: cannot write %s", t->name[owner[i]], path);
			return DNS_EIO;
		}
	}
	return 0;
}

/* Whether every veth of t is operationally up. The kernel turns a link's
 * operstate (and its transmit queue) on in its linkwatch work, which runs
 * at most once a second: until then what the link sends is dropped (the
 * first neighbour advertisement, say, stalling IPv6 for a second). */
static bool all_running(const struct netns_topo *t)
{
	static const enum netns_role owner[NETNS_NIFS] = {NETNS_CLIENT, NETNS_BORDER, NETNS_BORDER, NETNS_SERVER};
	for (int i = 0; i < NETNS_NIFS; i++) {
		int fd = netns_socket(t->fd[owner[i]], AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return false;
		struct ifreq ifr;
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", t->ifname[i]);
		int rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
		close(fd);
		if (rc < 0 || !(ifr.ifr_flags & IFF_RUNNING))
			return false;
	}
	return true;
}

int netns_create(struct netns_topo *t, char *err, size_t errlen)
{
	const char *const *steps[32];
	int n = 0;
	const char *C = t->name[NETNS_CLIENT], *B = t->name[NETNS_BORDER], *S = t->name[NETNS_SERVER];
	const char *ic = t->ifname[NETNS_IF_CLIENT], *ibc = t->ifname[NETNS_IF_BORDER_C],
		   *ibs = t->ifname[NETNS_IF_BORDER_S], *is = t->ifname[NETNS_IF_SERVER];
	const char *a0[] = {"netns", "add", C, NULL}, *a1[] = {"netns", "add", B, NULL},
		   *a2[] = {"netns", "add", S, NULL};
	const char *l0[] = {"link", "add", ic, "netns", C, "type", "veth", "peer", "name", ibc, "netns", B, NULL};
	const char *l1[] = {"link", "add", is, "netns", S, "type", "veth", "peer", "name", ibs, "netns", B, NULL};
	const char *c0[] = {"-n", C, "addr", "add", NETNS_CLIENT_IP "/24", "dev", ic, NULL};
	const char *c1[] = {"-n", C, "link", "set", ic, "up", NULL};
	const char *c2[] = {"-n", C, "link", "set", "lo", "up", NULL};
	const char *c3[] = {"-n", C, "route", "add", "default", "via", NETNS_BORDER_CLIENT_IP, NULL};
	const char *b0[] = {"-n", B, "addr", "add", NETNS_BORDER_CLIENT_IP "/24", "dev", ibc, NULL};
	const char *b1[] = {"-n", B, "addr", "add", NETNS_BORDER_SERVER_IP "/24", "dev", ibs, NULL};
	const char *b2[] = {"-n", B, "link", "set", ibc, "up", NULL};
	const char *b3[] = {"-n", B, "link", "set", ibs, "up", NULL};
	const char *b4[] = {"-n", B, "link", "set", "lo", "up", NULL};
	const char *s0[] = {"-n", S, "addr", "add", NETNS_SERVER_IP "/24", "dev", is, NULL};
	const char *s1[] = {"-n", S, "link", "set", is, "up", NULL};
	const char *s2[] = {"-n", S, "link", "set", "lo", "up", NULL};
	const char *s3[] = {"-n", S, "route", "add", "default", "via", NETNS_BORDER_SERVER_IP, NULL};
	/* IPv6: addresses before the links go up, nodad (usable at once) */
	const char *c6a[] = {"-n", C, "-6", "addr", "add", NETNS_CLIENT_IP6 "/64", "dev", ic, "nodad", NULL};
	const char *c6r[] = {"-n", C, "-6", "route", "add", "default", "via", NETNS_BORDER_CLIENT_IP6, NULL};
	const char *b6a[] = {"-n", B, "-6", "addr", "add", NETNS_BORDER_CLIENT_IP6 "/64", "dev", ibc, "nodad", NULL};
	const char *b6b[] = {"-n", B, "-6", "addr", "add", NETNS_BORDER_SERVER_IP6 "/64", "dev", ibs, "nodad", NULL};
	const char *s6a[] = {"-n", S, "-6", "addr", "add", NETNS_SERVER_IP6 "/64", "dev", is, "nodad", NULL};
	const char *s6r[] = {"-n", S, "-6", "route", "add", "default", "via", NETNS_BORDER_SERVER_IP6, NULL};
	t->ipv6 = access("/proc/sys/net/ipv6", F_OK) == 0;
	steps[n++] = a0, steps[n++] = a1, steps[n++] = a2, steps[n++] = l0, steps[n++] = l1;
	steps[n++] = c0;
	if (t->ipv6)
		steps[n++] = c6a;
	steps[n++] = c1, steps[n++] = c2, steps[n++] = c3;
	if (t->ipv6)
		steps[n++] = c6r;
	steps[n++] = b0, steps[n++] = b1;
	if (t->ipv6)
		steps[n++] = b6a, steps[n++] = b6b;
	steps[n++] = b2, steps[n++] = b3, steps[n++] = b4;
	steps[n++] = s0;
	if (t->ipv6)
		steps[n++] = s6a;
	steps[n++] = s1, steps[n++] = s2, steps[n++] = s3;
	if (t->ipv6)
		steps[n++] = s6r;
	t->created = true;
	/* namespaces and veths first (steps 0..4), then no DAD on the veths,
	 * then addresses and links up */
	for (int i = 0; i < n; i++) {
		if (run_ip(err, errlen, steps[i]) < 0)
			goto fail;
		if (i == 4 && (open_all(t, err, errlen) < 0 || (t->ipv6 && no_dad(t, err, errlen) < 0)))
			goto fail;
	}
	/* forwarding in the border: /proc/sys/net follows the opener's namespace */
	int old;
	if (netns_enter(t->fd[NETNS_BORDER], &old) < 0) {
		snprintf(err, errlen, "setns %s: %s", B, strerror(errno));
		goto fail;
	}
	int rc = write_file("/proc/sys/net/ipv4/ip_forward", "1");
	/* neither redirects nor reverse-path drops between our two subnets */
	write_file("/proc/sys/net/ipv4/conf/all/send_redirects", "0");
	int rc6 = t->ipv6 ? write_file("/proc/sys/net/ipv6/conf/all/forwarding", "1") : 0;
	if (netns_return(old) < 0) {
		fprintf(stderr, "antidote: cannot leave a network namespace\n");
		abort();
	}
	if (rc < 0 || rc6 < 0) {
		snprintf(err, errlen, "%s: cannot turn IPv%d forwarding on", B, rc < 0 ? 4 : 6);
		goto fail;
	}
	/* up to 3 s for the links to come up (usually under 1 s) */
	for (int i = 0; i < 300 && !all_running(t); i++) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	if (!all_running(t)) {
		snprintf(err, errlen, "the veths of %s did not come up within 3 s", B);
		goto fail;
	}
	return 0;
fail:
	netns_destroy(t);
	return DNS_EIO;
}

void netns_destroy(struct netns_topo *t)
{
	if (!t->created)
		return;
	for (int i = 0; i < NETNS_NROLES; i++) {
		if (t->fd[i] >= 0)
			close(t->fd[i]);
		t->fd[i] = -1;
		char path[128], e[256];
		snprintf(path, sizeof(path), NETNS_DIR "/%s", t->name[i]);
		if (access(path, F_OK) == 0) {
			const char *a[] = {"netns", "del", t->name[i], NULL};
			run_ip(e, sizeof(e), a);
		}
	}
	t->created = false;
}

int netns_cleanup_stale(void)
{
	DIR *d = opendir(NETNS_DIR);
	if (!d)
		return 0;
	int n = 0;
	struct dirent *de;
	char names[64][64];
	int k = 0;
	while ((de = readdir(d)) && k < 64) {
		pid_t pid;
		if (netns_parse_name(de->d_name, &pid, NULL) < 0 || pid == getpid())
			continue;
		if (kill(pid, 0) == 0 || errno != ESRCH)
			continue; /* its owner runs (or is not ours to judge) */
		snprintf(names[k++], sizeof(names[0]), "%.63s", de->d_name);
	}
	closedir(d);
	for (int i = 0; i < k; i++) {
		char e[256];
		const char *a[] = {"netns", "del", names[i], NULL};
		if (run_ip(e, sizeof(e), a) == 0) {
			fprintf(stderr, "antidote: removed stale namespace %s (its process is gone)\n", names[i]);
			n++;
		}
	}
	return n;
}

bool netns_is_veth(const char *ifname)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	struct ethtool_drvinfo drv = {.cmd = ETHTOOL_GDRVINFO};
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&drv;
	int rc = ioctl(fd, SIOCETHTOOL, &ifr);
	close(fd);
	return rc == 0 && !strcmp(drv.driver, "veth");
}

int netns_check_border(const char *name, const char *ifname, char *ifout, char *ifout2, char *err,
		       size_t errlen)
{
	pid_t pid;
	enum netns_role role;
	if (netns_parse_name(name, &pid, &role) < 0 || role != NETNS_BORDER) {
		snprintf(err, errlen,
			 "refusing namespace '%s': only border namespaces antidote created (" NETNS_PREFIX
			 "<pid>-border) are used",
			 name);
		return DNS_EINVAL;
	}
	if (kill(pid, 0) < 0 && errno == ESRCH) {
		snprintf(err, errlen, "refusing namespace '%s': process %d that created it is gone (stale)", name,
			 (int)pid);
		return DNS_EINVAL;
	}
	struct netns_topo t;
	netns_topo_init(&t, pid);
	const char *bc = t.ifname[NETNS_IF_BORDER_C], *bs = t.ifname[NETNS_IF_BORDER_S];
	if (ifname && strcmp(ifname, bc) && strcmp(ifname, bs)) {
		snprintf(err, errlen,
			 "refusing interface '%s': in %s only the veths %s and %s that antidote created are used",
			 ifname, name, bc, bs);
		return DNS_EINVAL;
	}
	for (int i = 0; i < 2; i++) {
		const char *want = i ? bs : bc;
		if (!if_nametoindex(want) || !netns_is_veth(want)) {
			snprintf(err, errlen, "refusing %s: no veth %s in it (not a namespace antidote set up)", name,
				 want);
			return DNS_EINVAL;
		}
	}
	snprintf(ifout, IF_NAMESIZE, "%s", ifname ? ifname : bc);
	snprintf(ifout2, IF_NAMESIZE, "%s", ifname ? "" : bs);
	return 0;
}

int netns_check_joined(const char *name, enum netns_role *role, char *err, size_t errlen)
{
	pid_t pid;
	if (netns_parse_name(name, &pid, role) < 0) {
		snprintf(err, errlen, "refusing namespace '%s': only namespaces antidote created (" NETNS_PREFIX
			 "<pid>-client|border|server) are used", name);
		return DNS_EINVAL;
	}
	if (kill(pid, 0) < 0 && errno == ESRCH) {
		snprintf(err, errlen, "refusing namespace '%s': process %d that created it is gone (stale)", name,
			 (int)pid);
		return DNS_EINVAL;
	}
	struct netns_topo t;
	netns_topo_init(&t, pid);
	static const enum netns_if ifs[NETNS_NROLES] = {NETNS_IF_CLIENT, NETNS_IF_BORDER_C, NETNS_IF_SERVER};
	const char *want = t.ifname[ifs[*role]];
	if (!if_nametoindex(want) || !netns_is_veth(want)) {
		snprintf(err, errlen, "refusing %s: no veth %s in it (not a namespace antidote set up)", name, want);
		return DNS_EINVAL;
	}
	return 0;
}
