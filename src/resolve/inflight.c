/* inflight — per-worker table of questions in flight, for coalescing (see inflight.h). */
#include "resolve/inflight.h"

#include <stdlib.h>
#include <string.h>

#include "dns/err.h"

struct inflight {
	inflight_entry *pool;
	inflight_entry *free_list; /* chained through hnext_ */
	inflight_entry **buckets;
	size_t mask;
	unsigned cap, count, max_waiters;
};

inflight *inflight_new(unsigned cap, unsigned max_waiters)
{
	if (!cap || !max_waiters)
		return NULL;
	inflight *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	size_t nb = 16;
	while (nb < 2 * (size_t)cap)
		nb <<= 1;
	t->pool = calloc(cap, sizeof(*t->pool));
	t->buckets = calloc(nb, sizeof(*t->buckets));
	if (!t->pool || !t->buckets) {
		inflight_free(t);
		return NULL;
	}
	t->mask = nb - 1;
	t->cap = cap;
	t->max_waiters = max_waiters;
	for (unsigned i = cap; i-- > 0;) {
		t->pool[i].hnext_ = t->free_list;
		t->free_list = &t->pool[i];
	}
	return t;
}

void inflight_free(inflight *t)
{
	if (!t)
		return;
	free(t->pool);
	free(t->buckets);
	free(t);
}

uint64_t inflight_hash(const cache_key *k)
{
	uint64_t h = name_hash(k->qname, k->qname_len);
	h ^= ((uint64_t)k->qtype << 17 | (uint64_t)k->qclass << 1 | (uint64_t)k->do_bit << 40 |
	      (uint64_t)k->cd_bit << 41) * 0x9e3779b97f4a7c15ull;
	h ^= h >> 29;
	return h;
}

static bool key_eq(const inflight_entry *e, const cache_key *k, uint64_t h)
{
	return e->hash == h && e->qtype == k->qtype && e->qclass == k->qclass && e->do_bit == k->do_bit &&
	       e->cd_bit == k->cd_bit && e->qname_len == k->qname_len && name_eq(e->qname, k->qname);
}

inflight_entry *inflight_find(inflight *t, const cache_key *k)
{
	uint64_t h = inflight_hash(k);
	for (inflight_entry *e = t->buckets[h & t->mask]; e; e = e->hnext_)
		if (key_eq(e, k, h))
			return e;
	return NULL;
}

inflight_entry *inflight_add(inflight *t, const cache_key *k)
{
	inflight_entry *e = t->free_list;
	if (!e || k->qname_len == 0)
		return NULL;
	t->free_list = e->hnext_;
	uint64_t h = inflight_hash(k);
	memset(e, 0, sizeof(*e));
	memcpy(e->qname, k->qname, k->qname_len);
	name_lower(e->qname);
	e->qname_len = k->qname_len;
	e->qtype = k->qtype;
	e->qclass = k->qclass;
	e->do_bit = k->do_bit;
	e->cd_bit = k->cd_bit;
	e->hash = h;
	e->head = NULL;
	e->tail = &e->head;
	e->used_ = true;
	inflight_entry **b = &t->buckets[h & t->mask];
	e->hnext_ = *b;
	*b = e;
	t->count++;
	return e;
}

int inflight_join(inflight *t, inflight_entry *e, inflight_waiter *w)
{
	if (e->nwaiters >= t->max_waiters)
		return DNS_ESPACE;
	w->next = NULL;
	*e->tail = w;
	e->tail = &w->next;
	e->nwaiters++;
	return 0;
}

inflight_waiter *inflight_take(inflight_entry *e)
{
	inflight_waiter *w = e->head;
	e->head = NULL;
	e->tail = &e->head;
	e->nwaiters = 0;
	return w;
}

void inflight_remove(inflight *t, inflight_entry *e)
{
	if (!e->used_)
		return;
	inflight_entry **p = &t->buckets[e->hash & t->mask];
	while (*p && *p != e)
		p = &(*p)->hnext_;
	if (*p)
		*p = e->hnext_;
	e->used_ = false;
	e->hnext_ = t->free_list;
	t->free_list = e;
	t->count--;
}

void inflight_key(const inflight_entry *e, cache_key *k)
{
	k->qname = e->qname;
	k->qname_len = e->qname_len;
	k->qtype = e->qtype;
	k->qclass = e->qclass;
	k->do_bit = e->do_bit;
	k->cd_bit = e->cd_bit;
}

unsigned inflight_count(const inflight *t) { return t->count; }
unsigned inflight_cap(const inflight *t) { return t->cap; }

unsigned inflight_index(const inflight *t, const inflight_entry *e)
{
	return (unsigned)(e - t->pool);
}

inflight_entry *inflight_at(inflight *t, unsigned i)
{
	return i < t->cap && t->pool[i].used_ ? &t->pool[i] : NULL;
}
