/* route — domain-suffix routing to upstream servers (see route.h). */
#include "resolve/route.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
	route_upstream ups[ROUTE_MAX_SERVERS];
	uint16_t nservers, ntls;
	char *tls_ca;
	bool tls_insecure;
	route *reg_next;    /* registry of live tables (route_by_servers) */
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

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static route *reg_head;

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
	pthread_mutex_lock(&reg_mu);
	rt->reg_next = reg_head;
	reg_head = rt;
	pthread_mutex_unlock(&reg_mu);
	return rt;
}

void route_free(route *rt)
{
	if (!rt)
		return;
	pthread_mutex_lock(&reg_mu);
	for (route **pp = &reg_head; *pp; pp = &(*pp)->reg_next)
		if (*pp == rt) {
			*pp = rt->reg_next;
			break;
		}
	pthread_mutex_unlock(&reg_mu);
	free(rt->tls_ca);
	arena_free(&rt->names);
	free(rt->groups);
	free(rt->tab);
	free(rt);
}

const route *route_by_servers(const net_addr *servers, unsigned n)
{
	const route *found = NULL;
	pthread_mutex_lock(&reg_mu);
	for (const route *r = reg_head; r && !found; r = r->reg_next)
		if (r->servers == servers && r->nservers >= n)
			found = r;
	for (const route *r = reg_head; r && !found; r = r->reg_next) {
		if (r->nservers < n || (n && !r->ntls))
			continue;
		unsigned i = 0;
		while (i < n && addr_equal(&r->servers[i], &servers[i]))
			i++;
		if (i == n)
			found = r;
	}
	pthread_mutex_unlock(&reg_mu);
	return found;
}

static int server_index_up(route *rt, const route_upstream *u)
{
	for (unsigned i = 0; i < rt->nservers; i++)
		if (addr_equal(&rt->ups[i].addr, &u->addr) && rt->ups[i].transport == u->transport &&
		    !strcmp(rt->ups[i].auth, u->auth))
			return (int)i;
	if (rt->nservers >= ROUTE_MAX_SERVERS)
		return DNS_ERANGE;
	rt->servers[rt->nservers] = u->addr;
	rt->ups[rt->nservers] = *u;
	if (u->transport == ROUTE_TLS)
		rt->ntls++;
	return rt->nservers++;
}

static int server_index(route *rt, const net_addr *a)
{
	route_upstream u = { .addr = *a, .transport = ROUTE_DNS };
	return server_index_up(rt, &u);
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

static int add_default_index(route *rt, int s)
{
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

int route_add_default(route *rt, const net_addr *a)
{
	return add_default_index(rt, server_index(rt, a));
}

int route_add_upstream(route *rt, const route_upstream *u)
{
	if (u->transport > ROUTE_TLS)
		return DNS_EINVAL;
	return add_default_index(rt, server_index_up(rt, u));
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

/* An AUTHNAME: a host name (letters, digits, '-', '_' in dot-separated
 * labels of 1..63), copied in lower case without a final dot. */
static int parse_auth(const char *s, size_t len, char *out, char *err, size_t errlen)
{
	if (len && s[len - 1] == '.')
		len--;
	if (len == 0)
		return fail(err, errlen, DNS_ESYNTAX, "empty TLS name after '#'");
	if (len > ROUTE_AUTH_MAX)
		return fail(err, errlen, DNS_ERANGE, "TLS name longer than %d characters", ROUTE_AUTH_MAX);
	size_t lab = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '.') {
			if (lab == 0)
				goto bad;
			lab = 0;
		} else if (isalnum(ch) || ch == '-' || ch == '_') {
			if (++lab > 63)
				goto bad;
		} else {
			goto bad;
		}
		out[i] = (char)tolower(ch);
	}
	if (lab == 0)
		goto bad;
	out[len] = 0;
	return 0;
bad:
	return fail(err, errlen, DNS_ESYNTAX, "bad TLS name '%.*s' (a host name like dns.example)", (int)len, s);
}

/* "tls://ADDR[:PORT][#AUTHNAME]" (len chars, the prefix included). */
static int parse_tls(const char *s, size_t len, route_upstream *u, char *err, size_t errlen)
{
	char host[ADDR_MAXTEXT + 1];
	s += 6;
	len -= 6;
	const char *hash = memchr(s, '#', len);
	size_t hlen = hash ? (size_t)(hash - s) : len;
	if (hlen == 0)
		return fail(err, errlen, DNS_ESYNTAX, "missing server address after tls://");
	if (hlen > ADDR_MAXTEXT)
		return fail(err, errlen, DNS_ESYNTAX, "server address too long");
	memcpy(host, s, hlen);
	host[hlen] = 0;
	if (memchr(host, '/', hlen) || memchr(host, '@', hlen))
		return fail(err, errlen, DNS_ESYNTAX, "'tls://%s': expected tls://ADDR[:PORT][#NAME]", host);
	char aerr[160];
	if (addr_parse(&u->addr, host, ROUTE_TLS_PORT, aerr, sizeof(aerr)) < 0)
		return fail(err, errlen, DNS_ESYNTAX, "%s", aerr);
	if (addr_port(&u->addr) == 0)
		return fail(err, errlen, DNS_ERANGE, "port 0 in 'tls://%s'", host);
	u->transport = ROUTE_TLS;
	u->auth[0] = 0;
	if (hash)
		return parse_auth(hash + 1, (size_t)(s + len - hash - 1), u->auth, err, errlen);
	return 0;
}

static bool is_tls(const char *s, size_t len)
{
	return len >= 6 && !strncasecmp(s, "tls://", 6);
}

int route_parse_server(const char *s, size_t len, route_upstream *u, char *err, size_t errlen)
{
	char host[ADDR_MAXTEXT + 1];
	memset(u, 0, sizeof(*u));
	if (is_tls(s, len))
		return parse_tls(s, len, u, err, errlen);
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
	if (addr_parse(&u->addr, host, (uint16_t)port, aerr, sizeof(aerr)) < 0)
		return fail(err, errlen, DNS_ESYNTAX, "%s", aerr);
	u->transport = ROUTE_DNS;
	return 0;
}

int route_parse_upstream(const char *text, route_upstream *u, char *err, size_t errlen)
{
	size_t len = strlen(text);
	memset(u, 0, sizeof(*u));
	if (is_tls(text, len))
		return parse_tls(text, len, u, err, errlen);
	if (addr_parse(&u->addr, text, 53, err, errlen) < 0)
		return DNS_ESYNTAX;
	if (addr_port(&u->addr) == 0)
		return fail(err, errlen, DNS_ERANGE, "port 0 in '%s'", text);
	u->transport = ROUTE_DNS;
	return 0;
}

const char *route_upstream_str(const route_upstream *u, char *buf, size_t len)
{
	char a[ADDR_STRLEN];
	addr_str(&u->addr, a);
	if (u->transport == ROUTE_TLS)
		snprintf(buf, len, "tls://%s%s%s", a, u->auth[0] ? "#" : "", u->auth);
	else
		snprintf(buf, len, "%s", a);
	return buf;
}

int route_set_tls(route *rt, const char *ca_file, bool insecure)
{
	char *d = NULL;
	if (ca_file && !(d = strdup(ca_file)))
		return DNS_ENOMEM;
	free(rt->tls_ca);
	rt->tls_ca = d;
	rt->tls_insecure = insecure;
	return 0;
}

const char *route_tls_ca(const route *rt) { return rt->tls_ca; }
bool route_tls_insecure(const route *rt) { return rt->tls_insecure; }
unsigned route_ntls(const route *rt) { return rt->ntls; }

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
	route_upstream u;
	if (s == e || *s != '/') {
		if (local)
			return fail(err, errlen, DNS_ESYNTAX, "local= needs /domain/");
		int rc = route_parse_server(s, (size_t)(e - s), &u, err, errlen);
		if (rc < 0)
			return rc;
		rc = route_add_upstream(rt, &u);
		if (rc < 0)
			return fail(err, errlen, rc, "%s", rc == DNS_ERANGE ? "too many servers" : "out of memory");
		return 0;
	}
	/* /D1/D2/.../SPEC: SPEC is what follows the last '/', or a
	 * tls://... URL that follows a '/' */
	const char *last = e;
	for (const char *p = s + 1; p + 6 <= e; p++)
		if (p[-1] == '/' && is_tls(p, (size_t)(e - p))) {
			last = p;
			break;
		}
	if (last == e)
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
		int rc = route_parse_server(last, slen, &u, err, errlen);
		if (rc < 0)
			return rc;
		mode = server_index_up(rt, &u);
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
const route_upstream *route_upstreams(const route *rt) { return rt->ups; }
size_t route_ndomains(const route *rt) { return rt->n; }
unsigned route_ngroups(const route *rt) { return rt->ngroups; }
