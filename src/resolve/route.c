/* route — domain-suffix routing to upstream servers (see route.h). */
#include "resolve/route.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/err.h"
#include "dns/name.h"
#include "util/arena.h"

#define G_LOCAL (-1)
#define G_DEFAULT 0

typedef struct rgroup {
	uint16_t n;
	uint16_t s[ROUTE_MAX_GROUP];
} rgroup;

typedef struct rent {
	uint64_t h;
	const uint8_t *name; /* NULL: empty slot */
	int32_t group;       /* G_LOCAL or an index into groups */
} rent;

struct route {
	net_addr servers[ROUTE_MAX_SERVERS];
	uint16_t nservers;
	rgroup *groups; /* groups[0]: the defaults */
	unsigned ngroups, capgroups;
	rent *tab;
	size_t cap, n; /* cap: power of two */
	arena names;
	int single_srv, single_grp; /* cache: last group holding just one server */
};

__attribute__((format(printf, 4, 5)))
static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

route *route_new(void)
{
	route *rt = calloc(1, sizeof(*rt));
	if (!rt)
		return NULL;
	rt->capgroups = 16;
	rt->groups = calloc(rt->capgroups, sizeof(rgroup));
	rt->cap = 1024;
	rt->tab = calloc(rt->cap, sizeof(rent));
	if (!rt->groups || !rt->tab) {
		route_free(rt);
		return NULL;
	}
	rt->ngroups = 1;
	rt->single_srv = -1;
	arena_init(&rt->names);
	return rt;
}

void route_free(route *rt)
{
	if (!rt)
		return;
	arena_free(&rt->names);
	free(rt->groups);
	free(rt->tab);
	free(rt);
}

static int server_index(route *rt, const net_addr *a)
{
	for (unsigned i = 0; i < rt->nservers; i++)
		if (addr_equal(&rt->servers[i], a))
			return (int)i;
	if (rt->nservers >= ROUTE_MAX_SERVERS)
		return DNS_ERANGE;
	rt->servers[rt->nservers] = *a;
	return rt->nservers++;
}

/* Index of the group equal to g, adding it when new. */
static int group_intern(route *rt, const rgroup *g)
{
	for (unsigned i = 1; i < rt->ngroups; i++)
		if (rt->groups[i].n == g->n && !memcmp(rt->groups[i].s, g->s, g->n * sizeof(uint16_t)))
			return (int)i;
	if (rt->ngroups == rt->capgroups) {
		rgroup *ng = realloc(rt->groups, 2 * rt->capgroups * sizeof(rgroup));
		if (!ng)
			return DNS_ENOMEM;
		rt->groups = ng;
		rt->capgroups *= 2;
	}
	rt->groups[rt->ngroups] = *g;
	return (int)rt->ngroups++;
}

static rent *tab_find(const route *rt, const uint8_t *name, size_t len, uint64_t h)
{
	size_t mask = rt->cap - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		rent *e = &rt->tab[i];
		if (!e->name || (e->h == h && name_len(e->name) == len && name_eq(e->name, name)))
			return e;
	}
}

static int tab_grow(route *rt)
{
	size_t ncap = rt->cap * 2;
	rent *nt = calloc(ncap, sizeof(rent));
	if (!nt)
		return DNS_ENOMEM;
	for (size_t i = 0; i < rt->cap; i++) {
		rent *e = &rt->tab[i];
		if (!e->name)
			continue;
		size_t j = e->h & (ncap - 1);
		while (nt[j].name)
			j = (j + 1) & (ncap - 1);
		nt[j] = *e;
	}
	free(rt->tab);
	rt->tab = nt;
	rt->cap = ncap;
	return 0;
}

/* Sets domain's rule: server index srv (≥ 0, added to its group), or
 * G_LOCAL (srv = -1) or the defaults (srv = -2). */
static int set_domain(route *rt, const uint8_t *domain, int srv)
{
	if ((rt->n + 1) * 2 > rt->cap && tab_grow(rt) < 0)
		return DNS_ENOMEM;
	size_t len = name_len(domain);
	uint64_t h = name_hash(domain, len);
	rent *e = tab_find(rt, domain, len, h);
	if (!e->name) {
		uint8_t *copy = arena_dup(&rt->names, domain, len);
		if (!copy)
			return DNS_ENOMEM;
		name_lower(copy);
		e->name = copy;
		e->h = h;
		e->group = G_LOCAL;
		rt->n++;
	} else if (srv >= 0 && e->group > G_DEFAULT) {
		/* another server for a domain that has some: add it */
		rgroup g = rt->groups[e->group];
		for (unsigned i = 0; i < g.n; i++)
			if (g.s[i] == srv)
				return 0;
		if (g.n >= ROUTE_MAX_GROUP)
			return DNS_ERANGE;
		g.s[g.n++] = (uint16_t)srv;
		int gi = group_intern(rt, &g);
		if (gi < 0)
			return gi;
		e->group = gi;
		return 0;
	}
	if (srv == -1) {
		e->group = G_LOCAL;
	} else if (srv == -2) {
		e->group = G_DEFAULT;
	} else if (srv == rt->single_srv) {
		e->group = rt->single_grp;
	} else {
		rgroup g = { .n = 1, .s = { (uint16_t)srv } };
		int gi = group_intern(rt, &g);
		if (gi < 0)
			return gi;
		rt->single_srv = srv;
		rt->single_grp = gi;
		e->group = gi;
	}
	return 0;
}

int route_add_default(route *rt, const net_addr *a)
{
	int s = server_index(rt, a);
	if (s < 0)
		return s;
	rgroup *g = &rt->groups[G_DEFAULT];
	for (unsigned i = 0; i < g->n; i++)
		if (g->s[i] == s)
			return 0;
	if (g->n >= ROUTE_MAX_GROUP)
		return DNS_ERANGE;
	g->s[g->n++] = (uint16_t)s;
	return 0;
}

int route_add_domain(route *rt, const uint8_t *domain, const net_addr *a, bool use_default)
{
	if (use_default)
		return set_domain(rt, domain, -2);
	if (!a)
		return set_domain(rt, domain, -1);
	int s = server_index(rt, a);
	return s < 0 ? s : set_domain(rt, domain, s);
}

/* "ADDR[#PORT]" of len chars into a. */
static int parse_server(const char *s, size_t len, net_addr *a, char *err, size_t errlen)
{
	char host[ADDR_MAXTEXT + 1];
	if (memchr(s, '@', len))
		return fail(err, errlen, DNS_ESYNTAX, "'%.*s': source address or interface (@...) not supported",
			    (int)len, s);
	const char *hash = memchr(s, '#', len);
	size_t hlen = hash ? (size_t)(hash - s) : len;
	if (hlen == 0)
		return fail(err, errlen, DNS_ESYNTAX, "missing server address");
	if (hlen > ADDR_MAXTEXT)
		return fail(err, errlen, DNS_ESYNTAX, "server address too long");
	unsigned long port = 53;
	if (hash) {
		const char *p = hash + 1, *end = s + len;
		if (p == end || end - p > 5)
			return fail(err, errlen, DNS_ERANGE, "bad port '%.*s'", (int)(end - p), p);
		port = 0;
		for (; p < end; p++) {
			if (*p < '0' || *p > '9')
				return fail(err, errlen, DNS_ESYNTAX, "bad port '%.*s'", (int)(end - hash - 1), hash + 1);
			port = port * 10 + (unsigned long)(*p - '0');
		}
		if (port == 0 || port > 65535)
			return fail(err, errlen, DNS_ERANGE, "port %lu out of range (1-65535)", port);
	}
	memcpy(host, s, hlen);
	host[hlen] = 0;
	char aerr[160];
	if (addr_parse(a, host, (uint16_t)port, aerr, sizeof(aerr)) < 0)
		return fail(err, errlen, DNS_ESYNTAX, "%s", aerr);
	return 0;
}

static int parse_domain(const char *s, size_t len, uint8_t *out, char *err, size_t errlen)
{
	static const uint8_t root[1] = { 0 };
	if (len && s[0] == '.' && len > 1) {
		s++;
		len--;
	}
	if (len == 0)
		return fail(err, errlen, DNS_ESYNTAX, "empty domain (// rules for unqualified names are not supported)");
	if (memchr(s, '*', len))
		return fail(err, errlen, DNS_ESYNTAX, "'%.*s': wildcards are not supported", (int)len, s);
	int rc = name_from_text(s, len, root, out);
	if (rc < 0)
		return fail(err, errlen, rc, "bad domain '%.*s': %s", (int)len, s, dns_strerror(rc));
	return 0;
}

int route_add_line(route *rt, const char *line, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = 0;
	const char *s = line, *e = line + strlen(line);
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		e--;
	if (s == e || *s == '#')
		return 0;
	bool local;
	if ((size_t)(e - s) >= 7 && !memcmp(s, "server=", 7)) {
		local = false;
		s += 7;
	} else if ((size_t)(e - s) >= 6 && !memcmp(s, "local=", 6)) {
		local = true;
		s += 6;
	} else {
		const char *eq = memchr(s, '=', (size_t)(e - s));
		int n = (int)((eq ? eq : e) - s);
		return fail(err, errlen, DNS_ESYNTAX, "unknown directive '%.*s' (expected server= or local=)",
			    n > 40 ? 40 : n, s);
	}
	net_addr a;
	if (s == e || *s != '/') {
		if (local)
			return fail(err, errlen, DNS_ESYNTAX, "local= needs /domain/");
		int rc = parse_server(s, (size_t)(e - s), &a, err, errlen);
		if (rc < 0)
			return rc;
		rc = route_add_default(rt, &a);
		if (rc < 0)
			return fail(err, errlen, rc, "%s", rc == DNS_ERANGE ? "too many servers" : "out of memory");
		return 0;
	}
	/* /D1/D2/.../SPEC: SPEC is what follows the last '/' */
	const char *last = e;
	while (last > s && last[-1] != '/')
		last--;
	if (last == s + 1)
		return fail(err, errlen, DNS_ESYNTAX, "missing '/' after the domain");
	size_t slen = (size_t)(e - last);
	int mode; /* -1 local, -2 default, else a server number */
	if (slen == 0) {
		mode = -1;
	} else if (local) {
		return fail(err, errlen, DNS_ESYNTAX, "local= takes no server address");
	} else if (slen == 1 && *last == '#') {
		mode = -2;
	} else {
		int rc = parse_server(last, slen, &a, err, errlen);
		if (rc < 0)
			return rc;
		mode = server_index(rt, &a);
		if (mode < 0)
			return fail(err, errlen, mode, "too many servers (max %d)", ROUTE_MAX_SERVERS);
	}
	const char *p = s + 1;
	while (p < last) {
		const char *q = memchr(p, '/', (size_t)(last - p));
		uint8_t dom[NAME_MAXLEN];
		int rc = parse_domain(p, (size_t)(q - p), dom, err, errlen);
		if (rc < 0)
			return rc;
		rc = set_domain(rt, dom, mode);
		if (rc == DNS_ERANGE)
			return fail(err, errlen, rc, "more than %d servers for one domain", ROUTE_MAX_GROUP);
		if (rc < 0)
			return fail(err, errlen, rc, "out of memory");
		p = q + 1;
	}
	return 0;
}

int route_load(route *rt, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return fail(err, errlen, DNS_EIO, "%s: %s", path, strerror(errno));
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned lineno = 0;
	int rc = 0;
	char msg[256];
	while ((n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (n > ROUTE_MAX_LINE) {
			rc = fail(err, errlen, DNS_ESYNTAX, "%s:%u: line too long", path, lineno);
			break;
		}
		if (memchr(line, 0, (size_t)n)) {
			rc = fail(err, errlen, DNS_ESYNTAX, "%s:%u: NUL byte in line", path, lineno);
			break;
		}
		rc = route_add_line(rt, line, msg, sizeof(msg));
		if (rc < 0) {
			fail(err, errlen, rc, "%s:%u: %s", path, lineno, msg);
			break;
		}
	}
	if (!rc && ferror(f))
		rc = fail(err, errlen, DNS_EIO, "%s: read error", path);
	free(line);
	fclose(f);
	return rc;
}

int route_lookup(const route *rt, const uint8_t *qname, route_match *m)
{
	size_t len = name_len(qname);
	const uint8_t *p = qname;
	if (rt->n) {
		for (;;) {
			rent *e = tab_find(rt, p, len, name_hash(p, len));
			if (e->name) {
				m->suffix_off = (int)(p - qname);
				m->local = e->group == G_LOCAL;
				if (m->local) {
					m->servers = NULL;
					m->n = 0;
				} else {
					m->servers = rt->groups[e->group].s;
					m->n = rt->groups[e->group].n;
				}
				return 0;
			}
			if (!*p)
				break;
			len -= 1u + *p;
			p += 1 + *p;
		}
	}
	m->suffix_off = -1;
	m->local = false;
	m->servers = rt->groups[G_DEFAULT].s;
	m->n = rt->groups[G_DEFAULT].n;
	return 0;
}

unsigned route_nservers(const route *rt) { return rt->nservers; }
const net_addr *route_servers(const route *rt) { return rt->servers; }
size_t route_ndomains(const route *rt) { return rt->n; }
unsigned route_ngroups(const route *rt) { return rt->ngroups; }
