/* reload — SIGHUP decisions for `antidote resolve` (see reload.h). */
#include "resolve/reload.h"

#include <stdio.h>
#include <string.h>

#include "dns/err.h"
#include "dns/name.h"

/* Appends ", name" (or "name" first) to out. */
static void add(char *out, size_t cap, unsigned *n, const char *name)
{
	size_t l = strnlen(out, cap);
	if (l + 1 < cap)
		snprintf(out + l, cap - l, "%s%s", *n ? ", " : "", name);
	(*n)++;
}

static bool listen_equal(const resolve_config *a, const resolve_config *b)
{
	if (a->nlisten != b->nlisten)
		return false;
	for (unsigned i = 0; i < a->nlisten; i++)
		if (!addr_equal(&a->listen[i], &b->listen[i]))
			return false;
	return true;
}

static bool str_equal(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool anchors_equal(const val_anchors *a, const val_anchors *b)
{
	unsigned na = a ? a->n : 0, nb = b ? b->n : 0;
	if (na != nb)
		return false;
	for (unsigned i = 0; i < na; i++)
		if (a->a[i].type != b->a[i].type || a->a[i].rdlen != b->a[i].rdlen ||
		    !name_eq(a->a[i].owner, b->a[i].owner) || memcmp(a->a[i].rdata, b->a[i].rdata, a->a[i].rdlen))
			return false;
	return true;
}

unsigned reload_fixed(const resolve_config *run, const resolve_config *next, char *out, size_t cap)
{
	unsigned n = 0;
	if (cap)
		out[0] = 0;
#define FIX(cond, name)                                                                                    \
	do {                                                                                               \
		if (cond)                                                                                  \
			add(out, cap, &n, name);                                                           \
	} while (0)
	FIX(!listen_equal(run, next), "listen");
	FIX(run->threads != next->threads, "threads");
	FIX(run->cache.size != next->cache.size, "cache-size");
	FIX(run->cache.min_ttl != next->cache.min_ttl, "min-ttl");
	FIX(run->cache.max_ttl != next->cache.max_ttl, "max-ttl");
	FIX(run->cache.neg_max_ttl != next->cache.neg_max_ttl, "neg-max-ttl");
	FIX(run->cache.stale_window != next->cache.stale_window, "stale-window");
	FIX(run->cache.prefetch_pct != next->cache.prefetch_pct, "prefetch");
	FIX(run->stale_timeout_ms != next->stale_timeout_ms, "stale-timeout");
	FIX(run->attempts != next->attempts, "attempts");
	FIX(run->rto_ms != next->rto_ms, "rto");
	FIX(run->tcp_idle_ms != next->tcp_idle_ms, "tcp-idle");
	FIX(run->max_inflight != next->max_inflight, "max-inflight");
	FIX(run->max_udp != next->max_udp, "max-udp");
	FIX(run->use_0x20 != next->use_0x20, "0x20");
	FIX(run->no_cookies != next->no_cookies, "no-cookies");
	FIX(run->udp_epoll != next->udp_epoll, "udp-epoll");
	FIX(run->defence != next->defence, "defence");
	FIX(run->hold_max_ms != next->hold_max_ms, "hold-max");
	FIX(run->dnssec != next->dnssec, "dnssec");
	FIX(!anchors_equal(run->anchors, next->anchors), "trust-anchor");
	FIX(!name_eq(run->probe_name, next->probe_name), "probe-name");
	FIX(run->probe_interval_s != next->probe_interval_s, "probe-interval");
	FIX(run->verbosity != next->verbosity, "verbose/quiet");
	FIX(!str_equal(run->tls_ca, next->tls_ca), "tls-ca");
	FIX(run->tls_insecure != next->tls_insecure, "tls-insecure");
	FIX(!str_equal(run->user, next->user), "user");
	bool run_std = run->log_verdicts && !strcmp(run->log_verdicts, "-");
	bool next_std = next->log_verdicts && !strcmp(next->log_verdicts, "-");
	FIX(!run->log_verdicts != !next->log_verdicts || run_std != next_std ||
		    (run_std && !str_equal(run->log_verdicts, next->log_verdicts)),
	    "log-verdicts");
#undef FIX
	return n;
}

static bool upstream_same(const route_upstream *a, const route_upstream *b)
{
	return addr_equal(&a->addr, &b->addr) && a->transport == b->transport && !strcmp(a->auth, b->auth);
}

unsigned reload_new_servers(const route_upstream *running, unsigned nrunning, const route *next,
			    route_upstream *out, unsigned cap)
{
	unsigned n = route_nservers(next), k = 0;
	const route_upstream *s = route_upstreams(next);
	for (unsigned i = 0; i < n; i++) {
		unsigned j = 0;
		while (j < nrunning && !upstream_same(&s[i], &running[j]))
			j++;
		if (j < nrunning)
			continue;
		if (k < cap)
			out[k] = s[i];
		k++;
	}
	return k;
}

int reload_map_servers(const route_upstream *running, unsigned nrunning, const route *next, uint16_t *map,
		       bool *identity, char *err, size_t errlen)
{
	unsigned n = route_nservers(next);
	const route_upstream *s = route_upstreams(next);
	bool id = true;
	for (unsigned i = 0; i < n; i++) {
		unsigned j = 0;
		while (j < nrunning && !upstream_same(&s[i], &running[j]))
			j++;
		if (j == nrunning) {
			char a[ROUTE_UPSTREAM_STRLEN];
			if (err && errlen)
				snprintf(err, errlen, "upstream %s is new", route_upstream_str(&s[i], a, sizeof(a)));
			return DNS_ENOTFOUND;
		}
		map[i] = (uint16_t)j;
		id = id && j == i;
	}
	if (identity)
		*identity = id;
	return 0;
}

bool reload_acl_equal(const acl *a, const acl *b)
{
	if (a->n != b->n)
		return false;
	for (unsigned i = 0; i < a->n; i++) {
		const acl_prefix *x = &a->p[i], *y = &b->p[i];
		if (x->family != y->family || x->bits != y->bits || memcmp(x->addr, y->addr, 16))
			return false;
	}
	return true;
}
