/* child — the lab's child processes and its temporary directory.
 *
 * Every child is spawned into one process group owned by the lab (the first
 * child leads it; once it is empty, the next child starts a new one), gets PR_SET_PDEATHSIG(SIGKILL) so it dies with the lab
 * even if the lab is killed outright, and has its stdout/stderr sent to a
 * log file. child_kill_all() (safe to call twice, and from an atexit
 * handler) resumes stopped children, sends SIGTERM to each one, waits up to
 * a second, then SIGKILLs what is left and reaps everything.
 *
 * The registry is a fixed static table: the lab is one process with one
 * thread driving it. */
#ifndef ANTIDOTE_LAB_CHILD_H
#define ANTIDOTE_LAB_CHILD_H

#include <stdbool.h>
#include <sys/types.h>

#define CHILD_MAX 16

struct child {
	pid_t pid;        /* 0 when not running */
	char name[32];
	char log[512];    /* where its output goes */
	bool stopped;     /* SIGSTOPped by child_stop */
	int status;       /* wait status once reaped */
};

/* Spawns argv[0] (a path, or a name looked up in PATH) with argv; output
 * to log_path (truncated; NULL = /dev/null). Returns the registered child
 * or NULL with a message in err. */
struct child *child_spawn(const char *name, char *const argv[], const char *log_path, char *err, size_t errlen);

/* Network namespace of the children spawned from now on: nsfd is an open
 * /run/netns/NAME (lab/netns.h) that each child joins with setns(2) before
 * exec; -1 (the default) = the lab's own. The fd stays the caller's. */
void child_set_netns(int nsfd);

/* True while c runs (reaps it when it has exited). */
bool child_alive(struct child *c);
/* SIGSTOP / SIGCONT one child. */
int child_stop(struct child *c);
int child_cont(struct child *c);
/* Terminates one child (SIGCONT, SIGTERM, wait up to wait_ms, SIGKILL). */
void child_kill(struct child *c, int wait_ms);
void child_kill_all(void);

/* The last lines of c's log (for error messages), into buf. */
void child_log_tail(const struct child *c, char *buf, size_t cap);

/* Temporary directory: makes /tmp/antidote-lab-XXXXXX (or under $TMPDIR)
 * and remembers it; child_rmtemp removes it recursively (unless keep). */
const char *child_mktemp(char *err, size_t errlen);
void child_rmtemp(bool keep);

#endif
