/* netns — the lab's network namespaces: three namespaces joined by two veth
 * pairs, created by antidote, named after the creating process, removed at
 * exit (and, after a crash, by the next run).
 *
 *   client ns  "antidote-<pid>-client"   ad<pid>c   198.51.100.2/24, default via .1
 *                                                   2001:db8:100::2/64, default via ::1
 *      | veth
 *   border ns  "antidote-<pid>-border"   ad<pid>bc  198.51.100.1/24, 2001:db8:100::1/64
 *                                        ad<pid>bs  203.0.113.1/24, 2001:db8:113::1/64
 *                                        IPv4 and IPv6 forwarding on
 *      | veth
 *   server ns  "antidote-<pid>-server"   ad<pid>s   203.0.113.2/24, default via 203.0.113.1
 *                                                   2001:db8:113::2/64, default via ::1
 * (documentation ranges, RFC 5737 and RFC 3849; loopback is up in every
 * namespace). IPv6 addresses are added with `nodad`, so they are usable at
 * once; when the kernel has no IPv6 (/proc/sys/net/ipv6 missing) the
 * topology is IPv4 only and ipv6 is false.
 * The injector (border.h) sniffs on ad<pid>bc and forges from the border.
 *
 * Safety: netns_check_border refuses any namespace whose name is not
 * "antidote-<pid>-border" with <pid> a live process, and any interface
 * other than that topology's ad<pid>bc with the veth driver.
 *
 * Plumbing is done by running iproute2's `ip` (fork + exec, no shell);
 * joining a namespace is setns(2) on /run/netns/NAME. Needs root
 * (CAP_SYS_ADMIN + CAP_NET_ADMIN). Not thread-safe: netns_socket moves the
 * calling thread in and out of a namespace. */
#ifndef ANTIDOTE_LAB_NETNS_H
#define ANTIDOTE_LAB_NETNS_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define NETNS_PREFIX "antidote-"
#define NETNS_DIR "/run/netns"
#define NETNS_CLIENT_IP "198.51.100.2"
#define NETNS_BORDER_CLIENT_IP "198.51.100.1"
#define NETNS_BORDER_SERVER_IP "203.0.113.1"
#define NETNS_SERVER_IP "203.0.113.2"
#define NETNS_CLIENT_IP6 "2001:db8:100::2"
#define NETNS_BORDER_CLIENT_IP6 "2001:db8:100::1"
#define NETNS_BORDER_SERVER_IP6 "2001:db8:113::1"
#define NETNS_SERVER_IP6 "2001:db8:113::2"

enum netns_role { NETNS_CLIENT, NETNS_BORDER, NETNS_SERVER, NETNS_NROLES };

/* interfaces, in the order of the drawing */
enum netns_if { NETNS_IF_CLIENT, NETNS_IF_BORDER_C, NETNS_IF_BORDER_S, NETNS_IF_SERVER, NETNS_NIFS };

struct netns_topo {
	pid_t owner;
	char name[NETNS_NROLES][48];
	char ifname[NETNS_NIFS][IF_NAMESIZE];
	int fd[NETNS_NROLES];   /* open /run/netns/NAME once created, else -1 */
	bool created;           /* some namespace of it may exist */
	bool ipv6;              /* netns_create added the IPv6 addresses */
};

/* Fills names for owner (no system call). */
void netns_topo_init(struct netns_topo *t, pid_t owner);

/* Role names "client", "border", "server". */
const char *netns_role_name(enum netns_role r);

/* Parses "antidote-<pid>-<role>". Returns 0, or DNS_ESYNTAX for any other
 * name (so nothing else is ever touched). pid/role may be NULL. */
int netns_parse_name(const char *name, pid_t *pid, enum netns_role *role);

/* Creates the topology (namespaces, veths, addresses, routes, forwarding;
 * IPv6 too when the kernel has it: t->ipv6; no DAD on the veths) and
 * waits until every veth is operationally up (the kernel's link watcher
 * runs at most once a second; until it has, a link drops what it sends),
 * usually about a second, at most 3 s.
 * On failure removes what it made and returns a negative DNS_E* with a
 * message in err. */
int netns_create(struct netns_topo *t, char *err, size_t errlen);

/* Removes the namespaces (their veths go with them). Safe to call twice
 * and on a topology never created. */
void netns_destroy(struct netns_topo *t);

/* Removes "antidote-<pid>-*" namespaces whose <pid> no longer runs (a
 * previous run that crashed). Returns how many were removed. */
int netns_cleanup_stale(void);

/* Opens /run/netns/NAME (O_RDONLY|O_CLOEXEC). Returns the fd or a negative
 * DNS_E*. */
int netns_open(const char *name);

/* Moves the calling thread into the namespace of fd; *old (if not NULL)
 * receives an fd of the namespace it left, to come back with
 * netns_return. Returns 0 or a negative DNS_E*. */
int netns_enter(int fd, int *old);
int netns_return(int old);

/* socket(2) in the namespace of nsfd (the caller stays where it is). */
int netns_socket(int nsfd, int domain, int type, int proto);

/* The safety check of the injector, run INSIDE the namespace it is given
 * (after netns_enter): name must be "antidote-<pid>-border" of a live
 * <pid>, and both its veths (ad<pid>bc, ad<pid>bs) must be there with the
 * veth driver. ifname NULL: both are used, ifout gets the client-facing
 * one and ifout2 the server-facing one; else ifname must be one of the two
 * and is the only one used (ifout2 ""). ifout and ifout2 hold IF_NAMESIZE.
 * Returns 0 or DNS_EINVAL with a clear message. */
int netns_check_border(const char *name, const char *ifname, char *ifout, char *ifout2, char *err,
		       size_t errlen);

/* The same for any role, run inside the namespace: name must be
 * "antidote-<pid>-<role>" of a live <pid> holding that role's veth
 * (client: ad<pid>c, border: ad<pid>bc, server: ad<pid>s). *role receives
 * the role. Returns 0 or DNS_EINVAL with a message. */
int netns_check_joined(const char *name, enum netns_role *role, char *err, size_t errlen);

/* Whether the veth driver backs ifname (in the caller's namespace). */
bool netns_is_veth(const char *ifname);

#endif
