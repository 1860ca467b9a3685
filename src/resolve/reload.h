/* reload — what a SIGHUP may change in a running `antidote resolve`, decided
 * off the hot path (in the control thread) from the running configuration
 * and a freshly parsed one.
 *
 * Swappable: the route table (per-domain rules and the upstreams they
 * name: reload_new_servers lists those not running yet, which the caller
 * adds to every worker before the table is used), the --bogus-ip list, the --allow
 * list, the --log-verdicts file (reopened: log rotation; also under a new
 * name) and the --learned-bogus path. Everything else is fixed for the
 * process's life (sockets, threads, cache, per-worker upstream and defence
 * state): reload_fixed names what differs so it can be logged as "restart
 * needed" and kept.
 *
 * Server numbers: workers run one upstream context each, made at start for
 * the servers of the first route table (numbered in order of first
 * appearance, route.h). A new table numbers its servers its own way;
 * reload_map_servers translates them to the running numbers, or says which
 * address is new (not added yet). No allocation, no global state: pure
 * functions, unit-tested. */
#ifndef ANTIDOTE_RESOLVE_RELOAD_H
#define ANTIDOTE_RESOLVE_RELOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/addr.h"
#include "resolve/acl.h"
#include "resolve/config.h"
#include "resolve/route.h"

/* Options that cannot change without a restart and differ between run and
 * next, as a comma-separated list of option names ("listen, threads") in
 * out (always NUL-terminated; cut at cap). Returns how many differ. The
 * --log-verdicts file counts only when it appears, disappears or moves
 * between stdout ("-") and a file; --server/--upstream/--route/--bogus-ip
 * /--allow never do (see reload_map_servers for new upstreams). */
unsigned reload_fixed(const resolve_config *run, const resolve_config *next, char *out, size_t cap);

/* Fills map[i] (i < route_nservers(next), map ≥ ROUTE_MAX_SERVERS entries)
 * with the number of next's server i in running[0..nrunning). *identity
 * (may be NULL) is set when map[i] == i for every i. Returns 0, or
 * DNS_ENOTFOUND with "upstream ADDR is new" in err for the first server of
 * next that does not run. */
int reload_map_servers(const route_upstream *running, unsigned nrunning, const route *next, uint16_t *map,
		       bool *identity, char *err, size_t errlen);

/* True when a and b hold the same prefixes in the same order. */
bool reload_acl_equal(const acl *a, const acl *b);

/* The servers of next that are not among running[0..nrunning), in next's
 * order, copied to out[0..cap). Returns how many (more than cap: only cap
 * are copied). */
unsigned reload_new_servers(const route_upstream *running, unsigned nrunning, const route *next,
			    route_upstream *out, unsigned cap);

#endif
