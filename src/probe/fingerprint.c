/* fingerprint — injector clustering and pools. */
#include "probe/fingerprint.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

static uint8_t cap15(uint16_t v) { return v > 15 ? 15 : (uint8_t)v; }

void fp_init(struct fp_table *t)
{
	memset(t, 0, sizeof(*t));
}

void fp_free(struct fp_table *t)
{
	for (unsigned i = 0; i < t->n; i++)
		free(t->c[i].set);
	memset(t, 0, sizeof(*t));
}

static uint64_t addr_hash(const struct probe_addr *a)
{
	uint64_t h = 1469598103934665603ull ^ a->family;
	for (int i = 0; i < 16; i++)
		h = (h ^ a->a[i]) * 1099511628211ull;
	return h ^ (h >> 29);
}

static int set_put(struct fp_cluster *c, const struct probe_addr *a)
{
	if ((c->nset + 1) * 4 > c->capset * 3) {
		size_t nc = c->capset ? c->capset * 2 : 64;
		struct fp_slot *ns = calloc(nc, sizeof(*ns));
		if (!ns)
			return -1;
		for (size_t i = 0; i < c->capset; i++) {
			if (!c->set[i].used)
				continue;
			size_t j = addr_hash(&c->set[i].a) & (nc - 1);
			while (ns[j].used)
				j = (j + 1) & (nc - 1);
			ns[j] = c->set[i];
		}
		free(c->set);
		c->set = ns;
		c->capset = nc;
	}
	size_t j = addr_hash(a) & (c->capset - 1);
	while (c->set[j].used) {
		if (!memcmp(&c->set[j].a, a, sizeof(*a))) {
			c->set[j].hits++;
			return 0;
		}
		j = (j + 1) & (c->capset - 1);
	}
	c->set[j].used = 1;
	c->set[j].a = *a;
	c->set[j].hits = 1;
	c->nset++;
	return 0;
}

int fp_has(const struct fp_table *t, int id, const struct probe_addr *a)
{
	if (id < 1 || (unsigned)id > t->n)
		return 0;
	const struct fp_cluster *c = &t->c[id - 1];
	if (!c->capset)
		return 0;
	size_t j = addr_hash(a) & (c->capset - 1);
	while (c->set[j].used) {
		if (!memcmp(&c->set[j].a, a, sizeof(*a)))
			return 1;
		j = (j + 1) & (c->capset - 1);
	}
	return 0;
}

static int band_ok(const struct fp_cluster *c, uint32_t ttl)
{
	uint64_t lo = c->ttl_min / 4, hi = (uint64_t)c->ttl_max * 4 + 30;
	return ttl >= lo && ttl <= hi;
}

int fp_add(struct fp_table *t, const struct probe_reply *r)
{
	int id = 0;
	for (unsigned i = 0; i < t->n; i++) {
		struct fp_cluster *c = &t->c[i];
		if (c->flags == r->flags && c->ip_ttl == r->ip_ttl && c->opt == r->opt && c->an == cap15(r->an) &&
		    c->ns == cap15(r->ns) && c->ar == cap15(r->ar) && band_ok(c, r->ttl)) {
			id = (int)i + 1;
			break;
		}
	}
	if (!id) {
		if (t->n >= FP_MAX)
			return 0;
		struct fp_cluster *c = &t->c[t->n++];
		memset(c, 0, sizeof(*c));
		c->flags = r->flags;
		c->ip_ttl = r->ip_ttl;
		c->opt = r->opt;
		c->an = cap15(r->an);
		c->ns = cap15(r->ns);
		c->ar = cap15(r->ar);
		c->ttl_min = c->ttl_max = r->ttl;
		id = (int)t->n;
	}
	struct fp_cluster *c = &t->c[id - 1];
	if (r->ttl < c->ttl_min)
		c->ttl_min = r->ttl;
	if (r->ttl > c->ttl_max)
		c->ttl_max = r->ttl;
	c->replies++;
	for (unsigned i = 0; i < r->naddr && i < PROBE_MAXADDR; i++)
		set_put(c, &r->addr[i]);
	return id;
}

void fp_note_query(struct fp_table *t, uint64_t mask)
{
	for (unsigned i = 0; i < t->n; i++)
		if (mask >> i & 1)
			t->c[i].queries++;
}

static int addr_cmp(const void *a, const void *b)
{
	const struct probe_addr *x = a, *y = b;
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->a, y->a, 16);
}

size_t fp_pool(const struct fp_table *t, int id, struct probe_addr *out, size_t cap)
{
	if (id < 1 || (unsigned)id > t->n)
		return 0;
	const struct fp_cluster *c = &t->c[id - 1];
	size_t n = 0;
	for (size_t i = 0; i < c->capset && n < cap; i++)
		if (c->set[i].used)
			out[n++] = c->set[i].a;
	qsort(out, n, sizeof(*out), addr_cmp);
	return n;
}

const char *fp_addr_str(const struct probe_addr *a, char *buf, size_t len)
{
	if (!inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

void fp_print_json(const struct fp_table *t, int id, FILE *f)
{
	const struct fp_cluster *c = &t->c[id - 1];
	fprintf(f, "{\"injector\":%d,\"flags\":\"%04x\",\"ip_ttl\":%u,\"opt\":%s,\"counts\":[%u,%u,%u],"
		   "\"ttl\":[%u,%u],\"replies\":%llu,\"queries\":%llu,\"pool_size\":%zu,\"pool\":[",
		id, c->flags, c->ip_ttl, c->opt ? "true" : "false", c->an, c->ns, c->ar, c->ttl_min, c->ttl_max,
		(unsigned long long)c->replies, (unsigned long long)c->queries, c->nset);
	struct probe_addr *v = malloc((c->nset ? c->nset : 1) * sizeof(*v));
	size_t n = v ? fp_pool(t, id, v, c->nset) : 0;
	char b[64];
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s\"%s\"", i ? "," : "", fp_addr_str(&v[i], b, sizeof(b)));
	free(v);
	fputs("]}", f);
}
