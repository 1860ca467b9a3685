/* privdrop — switch to an unprivileged user after binding (privdrop.h). */
#include "util/privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "dns/err.h"

int privdrop_lookup(const char *user, struct privdrop *out, char *err, size_t errlen)
{
	if (!user || !*user || strlen(user) >= sizeof(out->name)) {
		snprintf(err, errlen, "--user: give a user name or number");
		return DNS_EINVAL;
	}
	struct passwd pw, *res = NULL;
	char buf[4096];
	char *end;
	errno = 0;
	unsigned long num = strtoul(user, &end, 10);
	int rc;
	if (*end == 0 && end != user)
		rc = getpwuid_r((uid_t)num, &pw, buf, sizeof(buf), &res);
	else
		rc = getpwnam_r(user, &pw, buf, sizeof(buf), &res);
	if (rc || !res) {
		snprintf(err, errlen, "--user %s: no such user%s%s", user, rc ? ": " : "", rc ? strerror(rc) : "");
		return DNS_ENOTFOUND;
	}
	out->uid = pw.pw_uid;
	out->gid = pw.pw_gid;
	snprintf(out->name, sizeof(out->name), "%s", pw.pw_name);
	return 0;
}

int privdrop_apply(const struct privdrop *p, char *err, size_t errlen)
{
	if (geteuid() != 0) {
		if (geteuid() == p->uid && getuid() == p->uid)
			return 0;
		snprintf(err, errlen, "--user %s: only root can switch user (running as uid %u)", p->name,
			 (unsigned)geteuid());
		return DNS_EINVAL;
	}
	if (setgroups(1, &p->gid) < 0 || setresgid(p->gid, p->gid, p->gid) < 0 ||
	    setresuid(p->uid, p->uid, p->uid) < 0) {
		snprintf(err, errlen, "cannot become %s (uid %u gid %u): %s", p->name, (unsigned)p->uid,
			 (unsigned)p->gid, strerror(errno));
		return DNS_EIO;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errlen, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return DNS_EIO;
	}
	uid_t r, e, s;
	if (p->uid != 0 && (setuid(0) == 0 || getresuid(&r, &e, &s) < 0 || r != p->uid || e != p->uid || s != p->uid)) {
		snprintf(err, errlen, "dropping to %s did not hold (root could be regained)", p->name);
		return DNS_EIO;
	}
	return 0;
}
