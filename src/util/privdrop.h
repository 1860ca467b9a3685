/* privdrop — giving up root once the sockets are bound, as NSD, Unbound and
 * OpenBSD's unwind do: a DNS server that parses packets from anyone should
 * not do it as root.
 *
 * Usage: privdrop_lookup(user) before binding (it reads /etc/passwd and
 * /etc/group through NSS, which may not work later), bind every socket
 * (port 53 needs root or CAP_NET_BIND_SERVICE), then privdrop_apply()
 * before any worker thread starts. After it the process has the user's
 * uid and gid (real, effective and saved) and only its primary group,
 * PR_SET_NO_NEW_PRIVS is set (no exec can regain privileges), and
 * regaining root is verified to fail. Files opened later (zone reloads,
 * log reopening) must be readable or writable by that user.
 *
 * Called by a process that is not root: succeeds only when it already is
 * that user (nothing to drop), else DNS_EINVAL with a message. */
#ifndef ANTIDOTE_UTIL_PRIVDROP_H
#define ANTIDOTE_UTIL_PRIVDROP_H

#include <stddef.h>
#include <sys/types.h>

struct privdrop {
	uid_t uid;
	gid_t gid;
	char name[64];
};

/* Resolves USER (a name, or a number) to its uid and primary gid. Returns 0
 * or DNS_ENOTFOUND / DNS_EINVAL with a message in err. */
int privdrop_lookup(const char *user, struct privdrop *out, char *err, size_t errlen);

/* Becomes p's user for good. Returns 0, or a negative DNS_E* code with a
 * message in err (the caller must then exit: the process state is unknown). */
int privdrop_apply(const struct privdrop *p, char *err, size_t errlen);

#endif
