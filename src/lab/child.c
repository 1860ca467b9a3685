/* child — lab child processes and temporary directory (see child.h). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lab/child.h"
#include "util/clock.h"

static struct child children[CHILD_MAX];
static pid_t group;
static char tempdir[256];
static int spawn_netns = -1;

void child_set_netns(int nsfd)
{
	spawn_netns = nsfd;
}

struct child *child_spawn(const char *name, char *const argv[], const char *log_path, char *err, size_t errlen)
{
	struct child *c = NULL;
	for (int i = 0; i < CHILD_MAX; i++)
		if (!children[i].pid) {
			c = &children[i];
			break;
		}
	if (!c) {
		snprintf(err, errlen, "too many child processes");
		return NULL;
	}
	int fd = open(log_path ? log_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", log_path, strerror(errno));
		return NULL;
	}
	int pfd[2]; /* exec failure report */
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		close(fd);
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return NULL;
	}
	pid_t parent = getpid();
	/* join the group while someone is in it; else this child leads a new one */
	pid_t target = group && kill(-group, 0) == 0 ? group : 0;
	pid_t pid = fork();
	if (pid < 0) {
		close(fd);
		close(pfd[0]);
		close(pfd[1]);
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return NULL;
	}
	if (pid == 0) {
		setpgid(0, target);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		if (spawn_netns >= 0 && setns(spawn_netns, CLONE_NEWNET) < 0) {
			int e = errno;
			(void)!write(pfd[1], &e, sizeof(e));
			_exit(127);
		}
		int nul = open("/dev/null", O_RDONLY);
		if (nul >= 0)
			dup2(nul, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execvp(argv[0], argv);
		int e = errno;
		(void)!write(pfd[1], &e, sizeof(e));
		_exit(127);
	}
	/* both sides set the group, so it is in place whoever runs first */
	setpgid(pid, target ? target : pid);
	if (!target)
		group = pid;
	close(fd);
	close(pfd[1]);
	int e = 0;
	ssize_t n = read(pfd[0], &e, sizeof(e));
	close(pfd[0]);
	memset(c, 0, sizeof(*c));
	c->pid = pid;
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->log, sizeof(c->log), "%s", log_path ? log_path : "/dev/null");
	if (n == (ssize_t)sizeof(e)) {
		waitpid(pid, &c->status, 0);
		c->pid = 0;
		snprintf(err, errlen, "cannot run %s: %s", argv[0], strerror(e));
		return NULL;
	}
	return c;
}

bool child_alive(struct child *c)
{
	if (!c->pid)
		return false;
	pid_t r = waitpid(c->pid, &c->status, WNOHANG);
	if (r == c->pid || (r < 0 && errno == ECHILD)) {
		c->pid = 0;
		return false;
	}
	return true;
}

int child_stop(struct child *c)
{
	if (!c->pid || kill(c->pid, SIGSTOP) < 0)
		return -1;
	c->stopped = true;
	return 0;
}

int child_cont(struct child *c)
{
	if (!c->pid || kill(c->pid, SIGCONT) < 0)
		return -1;
	c->stopped = false;
	return 0;
}

void child_kill(struct child *c, int wait_ms)
{
	if (!c->pid)
		return;
	kill(c->pid, SIGCONT);
	kill(c->pid, SIGTERM);
	for (int t = 0; t < wait_ms && child_alive(c); t += 10)
		clock_sleep_ms(10);
	if (child_alive(c)) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, &c->status, 0);
		c->pid = 0;
	}
	c->stopped = false;
}

void child_kill_all(void)
{
	for (int i = 0; i < CHILD_MAX; i++)
		if (children[i].pid) {
			kill(children[i].pid, SIGCONT);
			kill(children[i].pid, SIGTERM);
		}
	for (int t = 0; t < 1000; t += 10) {
		bool any = false;
		for (int i = 0; i < CHILD_MAX; i++)
			any |= child_alive(&children[i]);
		if (!any)
			break;
		clock_sleep_ms(10);
	}
	for (int i = 0; i < CHILD_MAX; i++)
		if (child_alive(&children[i])) {
			kill(children[i].pid, SIGKILL);
			waitpid(children[i].pid, &children[i].status, 0);
			children[i].pid = 0;
		}
	/* anything else left in our group (grandchildren) */
	if (group) {
		kill(-group, SIGKILL);
		group = 0;
	}
}

void child_log_tail(const struct child *c, char *buf, size_t cap)
{
	buf[0] = 0;
	FILE *f = fopen(c->log, "r");
	if (!f)
		return;
	char tmp[4096];
	fseek(f, 0, SEEK_END);
	long sz = ftell(f);
	long from = sz > (long)sizeof(tmp) - 1 ? sz - (long)sizeof(tmp) + 1 : 0;
	fseek(f, from, SEEK_SET);
	size_t n = fread(tmp, 1, sizeof(tmp) - 1, f);
	fclose(f);
	tmp[n] = 0;
	while (n && (tmp[n - 1] == '\n' || tmp[n - 1] == ' '))
		tmp[--n] = 0;
	/* last three lines */
	int lines = 0;
	size_t s = n;
	while (s > 0) {
		if (tmp[s - 1] == '\n' && ++lines == 3)
			break;
		s--;
	}
	snprintf(buf, cap, "%s", tmp + s);
}

const char *child_mktemp(char *err, size_t errlen)
{
	const char *base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	snprintf(tempdir, sizeof(tempdir), "%s/antidote-lab-XXXXXX", base);
	if (!mkdtemp(tempdir)) {
		snprintf(err, errlen, "mkdtemp %s: %s", tempdir, strerror(errno));
		tempdir[0] = 0;
		return NULL;
	}
	return tempdir;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void child_rmtemp(bool keep)
{
	if (!tempdir[0])
		return;
	if (keep)
		fprintf(stderr, "antidote lab: kept %s\n", tempdir);
	else
		nftw(tempdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	tempdir[0] = 0;
}
