/* resolvers — the resolvers under test in the lab, as a table of kinds,
 * each with a check that it can run here and a start function.
 *
 * Every kind listens on 127.0.0.1:port, forwards foreign names to the
 * border (the injecting relay) and domestic ones -- all of .cn plus the
 * domestic sites' zones, the way dnsmasq-china-list users route them --
 * straight to the domestic server:
 *   dnsmasq         Debian's dnsmasq (undefended forwarder, caches)
 *   unbound         Debian's Unbound with forward-zones (undefended)
 *   antidote-off    antidote resolve --defence off (first reply wins)
 *   antidote-on     antidote resolve --defence on (the default: every reply
 *                   judged, forged ones never served; resolve/defence.h)
 *   antidote-fixed  antidote resolve --defence off --bogus-ip LIST (only a
 *                   fixed list of known forged addresses, as ChinaDNS's -l:
 *                   data/chinadns-forged-iplist.txt)
 * Kinds whose program is missing are skipped (the antidote kinds need
 * `antidote resolve --help` to work).
 * Config files go to env->dir; output to DIR/<name>.log. */
#ifndef ANTIDOTE_LAB_RESOLVERS_H
#define ANTIDOTE_LAB_RESOLVERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lab/child.h"
#include "lab/internet.h"

struct resolvers_env {
	const char *dir;           /* the lab's temp dir */
	const char *self;          /* the antidote binary */
	const char *datadir;       /* lists (bogus-ip list for antidote-fixed) */
	uint16_t border_port;      /* the relay on 127.0.0.1 (or border_ip) */
	const char *border_ip;     /* NULL: 127.0.0.1; namespace mode: the
				    * server abroad, 203.0.113.2 */
	uint16_t domestic_port;    /* the domestic server on 127.0.0.1 */
	uint16_t src_port_lo;      /* if not 0: outgoing queries from source ports
				    * [src_port_lo, src_port_lo + 255] only (the
				    * relay tracks each client address+port) */
	const struct internet *net;
};

struct resolver_kind {
	const char *name;
	const char *desc;
	bool defended;
	/* NULL when the kind can run here, else why not (static string). */
	const char *(*missing)(const struct resolvers_env *env);
	/* Writes the config, spawns it listening on 127.0.0.1:port. */
	struct child *(*start)(const struct resolvers_env *env, uint16_t port, char *err, size_t errlen);
};

extern const struct resolver_kind resolver_kinds[];
extern const unsigned resolver_nkinds;

const struct resolver_kind *resolvers_find(const char *name);

/* Forwarding rules in dnsmasq syntax ("server=/cn/127.0.0.1#P" ...,
 * the default "server=127.0.0.1#B" last): written by the dnsmasq and
 * antidote kinds. Returns the number of lines. */
int resolvers_write_routes(const struct resolvers_env *env, FILE *f);
/* Unbound's server: and forward-zone: clauses. */
int resolvers_write_unbound(const struct resolvers_env *env, uint16_t port, FILE *f);

/* Full path of an executable found in PATH, /usr/sbin or /sbin, into out;
 * false when none. */
bool resolvers_which(const char *prog, char *out, size_t cap);

#endif
