/* incident — canary baselines and injection incidents for `antidote watch`. */
#include "probe/incident.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/msg.h"

#define QUARANTINE 5 /* rounds a new, unshared address must persist to be learnt */

struct can {
	const char *name;
	unsigned base, tld;
	struct probe_addr normal[INC_NORMAL];
	uint8_t nnormal, ring;
	bool answered_learning, failed_learning, volatile_, have_set;
	uint64_t set;
	struct probe_addr pend;
	unsigned pend_n;
	bool seen;
	struct inc_obs obs;
};

struct addr_ent {
	struct probe_addr a;
	unsigned base;  /* first base seen with it after learning */
	bool used, shared;
};

struct active {
	bool used;
	unsigned id;
	enum inc_kind kind;
	unsigned key;             /* tld index for outages */
	struct probe_addr addr;   /* hijack */
	unsigned quiet;
	uint64_t raised;
};

struct incident {
	struct inc_cfg cfg;
	struct can *c;
	size_t n;
	char **bases, **tlds;
	unsigned nbases, ntlds;
	uint64_t round;
	unsigned next_id;
	struct active act[INC_MAXACTIVE];
	uint64_t total[INC_NKINDS];
	struct addr_ent *at;  /* open addressing */
	size_t atcap, atn;
	/* per-round scratch */
	struct pair { struct probe_addr a; unsigned base; size_t can; } *pairs;
	size_t npairs, pcap;
	unsigned *tld_fail, *tld_elig, *tld_to;
};

void inc_cfg_default(struct inc_cfg *c)
{
	c->learn = 3;
	c->clear = 2;
	c->hijack_min = 3;
	c->tld_min = 2;
	c->tld_frac = 0.5;
}

const char *incident_kind_name(enum inc_kind k)
{
	return k == INC_HIJACK ? "hijack" : k == INC_TLD_OUTAGE ? "tld-outage" : "?";
}

static void lower_copy(const char *s, size_t len, char *out, size_t cap)
{
	size_t i = 0;
	for (; i < len && i + 1 < cap; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[i] = 0;
}

void incident_base(const char *name, char *out, size_t cap)
{
	if (name[0] == '*' && name[1] == '.')
		name += 2;
	size_t len = strlen(name);
	while (len && name[len - 1] == '.')
		len--;
	size_t dots = 0, i = len;
	while (i > 0) {
		if (name[i - 1] == '.' && ++dots == 2)
			break;
		i--;
	}
	lower_copy(name + i, len - i, out, cap);
}

void incident_tld(const char *name, char *out, size_t cap)
{
	size_t len = strlen(name);
	while (len && name[len - 1] == '.')
		len--;
	size_t i = len;
	while (i > 0 && name[i - 1] != '.')
		i--;
	lower_copy(name + i, len - i, out, cap);
}

static int intern(char ***tab, unsigned *n, const char *s)
{
	for (unsigned i = 0; i < *n; i++)
		if (!strcmp((*tab)[i], s))
			return (int)i;
	char **t = realloc(*tab, (*n + 1) * sizeof(char *));
	if (!t)
		return -1;
	*tab = t;
	if (!(t[*n] = strdup(s)))
		return -1;
	return (int)(*n)++;
}

void incident_free(struct incident *w)
{
	if (!w)
		return;
	for (unsigned i = 0; i < w->nbases; i++)
		free(w->bases[i]);
	for (unsigned i = 0; i < w->ntlds; i++)
		free(w->tlds[i]);
	free(w->bases);
	free(w->tlds);
	free(w->c);
	free(w->at);
	free(w->pairs);
	free(w->tld_fail);
	free(w->tld_elig);
	free(w->tld_to);
	free(w);
}

struct incident *incident_new(const struct inc_cfg *c, const char *const *names, size_t n)
{
	struct incident *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->cfg = *c;
	if (!w->cfg.learn)
		w->cfg.learn = 1;
	if (!w->cfg.clear)
		w->cfg.clear = 1;
	w->n = n;
	w->c = calloc(n ? n : 1, sizeof(*w->c));
	w->pcap = (n ? n : 1) * PROBE_MAXADDR;
	w->pairs = malloc(w->pcap * sizeof(*w->pairs));
	w->atcap = 1024;
	w->at = calloc(w->atcap, sizeof(*w->at));
	if (!w->c || !w->pairs || !w->at) {
		incident_free(w);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		char b[256];
		w->c[i].name = names[i];
		incident_base(names[i], b, sizeof(b));
		int bi = intern(&w->bases, &w->nbases, b);
		incident_tld(names[i], b, sizeof(b));
		int ti = intern(&w->tlds, &w->ntlds, b);
		if (bi < 0 || ti < 0) {
			incident_free(w);
			return NULL;
		}
		w->c[i].base = (unsigned)bi;
		w->c[i].tld = (unsigned)ti;
	}
	w->tld_fail = calloc(w->ntlds + 1, sizeof(unsigned));
	w->tld_elig = calloc(w->ntlds + 1, sizeof(unsigned));
	w->tld_to = calloc(w->ntlds + 1, sizeof(unsigned));
	if (!w->tld_fail || !w->tld_elig || !w->tld_to) {
		incident_free(w);
		return NULL;
	}
	return w;
}

void incident_observe(struct incident *w, size_t i, const struct inc_obs *o)
{
	if (i >= w->n)
		return;
	w->c[i].obs = *o;
	w->c[i].seen = true;
}

bool incident_learning(const struct incident *w) { return w->round < w->cfg.learn; }
uint64_t incident_round(const struct incident *w) { return w->round; }
uint64_t incident_total(const struct incident *w, enum inc_kind k) { return w->total[k]; }

unsigned incident_active(const struct incident *w, enum inc_kind k)
{
	unsigned n = 0;
	for (unsigned i = 0; i < INC_MAXACTIVE; i++)
		n += w->act[i].used && w->act[i].kind == k;
	return n;
}

static bool addr_eq(const struct probe_addr *a, const struct probe_addr *b)
{
	return a->family == b->family && !memcmp(a->a, b->a, a->family == 4 ? 4 : 16);
}

static uint64_t addr_hash(const struct probe_addr *a)
{
	uint64_t h = 1469598103934665603ull ^ a->family;
	for (int i = 0; i < (a->family == 4 ? 4 : 16); i++)
		h = (h ^ a->a[i]) * 1099511628211ull;
	return h ^ (h >> 31);
}

static uint64_t set_hash(const struct inc_obs *o)
{
	uint64_t h = (uint64_t)o->rcode * 0x9e3779b97f4a7c15ull;
	for (unsigned i = 0; i < o->naddr; i++)
		h += addr_hash(&o->addr[i]) | 1;
	return h;
}

static struct addr_ent *at_get(struct incident *w, const struct probe_addr *a, bool add)
{
	if (add && (w->atn + 1) * 2 > w->atcap) {
		size_t nc = w->atcap * 2;
		struct addr_ent *nt = calloc(nc, sizeof(*nt));
		if (!nt)
			return NULL;
		for (size_t i = 0; i < w->atcap; i++) {
			if (!w->at[i].used)
				continue;
			size_t j = addr_hash(&w->at[i].a) & (nc - 1);
			while (nt[j].used)
				j = (j + 1) & (nc - 1);
			nt[j] = w->at[i];
		}
		free(w->at);
		w->at = nt;
		w->atcap = nc;
	}
	size_t j = addr_hash(a) & (w->atcap - 1);
	while (w->at[j].used) {
		if (addr_eq(&w->at[j].a, a))
			return &w->at[j];
		j = (j + 1) & (w->atcap - 1);
	}
	if (!add)
		return NULL;
	w->at[j].used = true;
	w->at[j].a = *a;
	w->atn++;
	return &w->at[j];
}

static bool in_normal(const struct can *c, const struct probe_addr *a)
{
	for (unsigned i = 0; i < c->nnormal; i++)
		if (addr_eq(&c->normal[i], a))
			return true;
	return false;
}

static void learn_addr(struct can *c, const struct probe_addr *a)
{
	if (in_normal(c, a))
		return;
	if (c->nnormal < INC_NORMAL) {
		c->normal[c->nnormal++] = *a;
	} else {
		c->normal[c->ring] = *a;
		c->ring = (uint8_t)((c->ring + 1) % INC_NORMAL);
	}
}

static bool failing(const struct inc_obs *o)
{
	return o->status == OBS_TIMEOUT || o->rcode == RCODE_SERVFAIL || o->rcode == RCODE_REFUSED;
}

static int pair_cmp(const void *x, const void *y)
{
	const struct pair *a = x, *b = y;
	if (a->a.family != b->a.family)
		return a->a.family < b->a.family ? -1 : 1;
	int r = memcmp(a->a.a, b->a.a, 16);
	if (r)
		return r;
	return a->base < b->base ? -1 : a->base > b->base;
}

static struct active *act_find(struct incident *w, enum inc_kind k, unsigned key, const struct probe_addr *a)
{
	for (unsigned i = 0; i < INC_MAXACTIVE; i++) {
		struct active *x = &w->act[i];
		if (x->used && x->kind == k && (k == INC_HIJACK ? addr_eq(&x->addr, a) : x->key == key))
			return x;
	}
	return NULL;
}

static struct active *act_new(struct incident *w)
{
	for (unsigned i = 0; i < INC_MAXACTIVE; i++)
		if (!w->act[i].used) {
			memset(&w->act[i], 0, sizeof(w->act[i]));
			w->act[i].used = true;
			return &w->act[i];
		}
	return NULL;
}

/* Distinct bases among the sorted pairs [from, to). */
static unsigned distinct_bases(const struct pair *p, size_t from, size_t to)
{
	unsigned n = 0;
	for (size_t i = from; i < to; i++)
		if (i == from || p[i].base != p[i - 1].base)
			n++;
	return n;
}

static void fill_hijack(struct incident *w, struct inc_event *e, const struct probe_addr *a, size_t from, size_t to)
{
	e->addr = *a;
	e->names = (unsigned)(to - from);
	e->bases = distinct_bases(w->pairs, from, to);
	e->nsample = 0;
	for (size_t i = from; i < to && e->nsample < INC_SAMPLE; i++)
		e->sample[e->nsample++] = w->c[w->pairs[i].can].name;
}

void incident_round_end(struct incident *w, inc_emit_fn *emit, void *arg, struct inc_round_stats *st)
{
	struct inc_round_stats s;
	memset(&s, 0, sizeof(s));
	for (size_t i = 0; i < w->n; i++) {
		struct can *c = &w->c[i];
		if (!c->seen) {
			memset(&c->obs, 0, sizeof(c->obs));
			c->obs.status = OBS_TIMEOUT;
		}
		c->seen = false;
		if (c->obs.status == OBS_TIMEOUT)
			s.timeouts++;
		else
			s.answered++;
		if (failing(&c->obs))
			s.failures++;
		if (c->obs.multi)
			s.multi++;
	}
	if (w->round < w->cfg.learn) {
		for (size_t i = 0; i < w->n; i++) {
			struct can *c = &w->c[i];
			const struct inc_obs *o = &c->obs;
			if (failing(o)) {
				c->failed_learning = true;
				if (c->answered_learning)
					c->volatile_ = true;
				continue;
			}
			uint64_t h = set_hash(o);
			if ((c->have_set && h != c->set) || c->failed_learning || o->multi)
				c->volatile_ = true;
			c->have_set = true;
			c->set = h;
			c->answered_learning = true;
			for (unsigned k = 0; k < o->naddr; k++)
				learn_addr(c, &o->addr[k]);
		}
		w->round++;
		if (st)
			*st = s;
		return;
	}
	/* changed canaries -> (address, base) pairs */
	w->npairs = 0;
	for (size_t i = 0; i < w->n; i++) {
		struct can *c = &w->c[i];
		const struct inc_obs *o = &c->obs;
		if (o->status != OBS_ANSWER || !o->naddr)
			continue;
		bool changed = true;
		for (unsigned k = 0; k < o->naddr; k++)
			if (in_normal(c, &o->addr[k]))
				changed = false;
		if (!changed)
			continue;
		s.changed++;
		for (unsigned k = 0; k < o->naddr; k++) {
			struct addr_ent *e = at_get(w, &o->addr[k], true);
			if (e && !e->shared) {
				if (!e->base)
					e->base = c->base + 1;
				else if (e->base != c->base + 1)
					e->shared = true;
			}
			if (!c->volatile_ && w->npairs < w->pcap)
				w->pairs[w->npairs++] = (struct pair){o->addr[k], c->base, i};
		}
	}
	qsort(w->pairs, w->npairs, sizeof(*w->pairs), pair_cmp);
	/* per address runs: top candidate, suspects */
	size_t top_from = 0, top_to = 0;
	unsigned top_b = 0;
	for (size_t i = 0; i < w->npairs;) {
		size_t j = i;
		while (j < w->npairs && addr_eq(&w->pairs[j].a, &w->pairs[i].a))
			j++;
		unsigned b = distinct_bases(w->pairs, i, j);
		if (b >= 2)
			s.suspects++;
		if (b > top_b) {
			top_b = b;
			top_from = i;
			top_to = j;
		}
		i = j;
	}
	s.top_bases = top_b;
	struct inc_event e;
	/* hijack: existing incidents first (re-evaluate their address) */
	for (unsigned x = 0; x < INC_MAXACTIVE; x++) {
		struct active *a = &w->act[x];
		if (!a->used || a->kind != INC_HIJACK)
			continue;
		size_t f = 0;
		while (f < w->npairs && !addr_eq(&w->pairs[f].a, &a->addr))
			f++;
		size_t t = f;
		while (t < w->npairs && addr_eq(&w->pairs[t].a, &a->addr))
			t++;
		if (distinct_bases(w->pairs, f, t) >= w->cfg.hijack_min) {
			a->quiet = 0;
			continue;
		}
		if (++a->quiet >= w->cfg.clear) {
			memset(&e, 0, sizeof(e));
			e.raise = false;
			e.id = a->id;
			e.kind = INC_HIJACK;
			e.round = w->round;
			e.raised_round = a->raised;
			fill_hijack(w, &e, &a->addr, f, t);
			a->used = false;
			if (emit)
				emit(arg, &e);
		}
	}
	if (top_b >= w->cfg.hijack_min && !act_find(w, INC_HIJACK, 0, &w->pairs[top_from].a)) {
		struct active *a = act_new(w);
		if (a) {
			a->kind = INC_HIJACK;
			a->addr = w->pairs[top_from].a;
			a->id = ++w->next_id;
			a->raised = w->round;
			w->total[INC_HIJACK]++;
			memset(&e, 0, sizeof(e));
			e.raise = true;
			e.id = a->id;
			e.kind = INC_HIJACK;
			e.round = e.raised_round = w->round;
			fill_hijack(w, &e, &a->addr, top_from, top_to);
			if (emit)
				emit(arg, &e);
		}
	}
	/* tld outages */
	memset(w->tld_fail, 0, w->ntlds * sizeof(unsigned));
	memset(w->tld_elig, 0, w->ntlds * sizeof(unsigned));
	memset(w->tld_to, 0, w->ntlds * sizeof(unsigned));
	for (size_t i = 0; i < w->n; i++) {
		struct can *c = &w->c[i];
		if (!c->answered_learning)
			continue;
		w->tld_elig[c->tld]++;
		if (failing(&c->obs)) {
			w->tld_fail[c->tld]++;
			w->tld_to[c->tld] += c->obs.status == OBS_TIMEOUT;
		}
	}
	for (unsigned t = 0; t < w->ntlds; t++) {
		bool cond = w->tld_elig[t] && w->tld_fail[t] >= w->cfg.tld_min &&
			    (double)w->tld_fail[t] >= w->cfg.tld_frac * w->tld_elig[t];
		struct active *a = act_find(w, INC_TLD_OUTAGE, t, NULL);
		if (!cond && !a)
			continue;
		memset(&e, 0, sizeof(e));
		e.kind = INC_TLD_OUTAGE;
		e.round = w->round;
		snprintf(e.tld, sizeof(e.tld), "%s", w->tlds[t]);
		e.failing = w->tld_fail[t];
		e.of = w->tld_elig[t];
		e.timeouts = w->tld_to[t];
		for (size_t i = 0; i < w->n && e.nsample < INC_SAMPLE; i++)
			if (w->c[i].tld == t && w->c[i].answered_learning && failing(&w->c[i].obs))
				e.sample[e.nsample++] = w->c[i].name;
		if (cond && !a) {
			a = act_new(w);
			if (!a)
				continue;
			a->kind = INC_TLD_OUTAGE;
			a->key = t;
			a->id = ++w->next_id;
			a->raised = w->round;
			w->total[INC_TLD_OUTAGE]++;
			e.raise = true;
			e.id = a->id;
			e.raised_round = w->round;
			if (emit)
				emit(arg, &e);
		} else if (cond) {
			a->quiet = 0;
		} else if (++a->quiet >= w->cfg.clear) {
			e.raise = false;
			e.id = a->id;
			e.raised_round = a->raised;
			a->used = false;
			if (emit)
				emit(arg, &e);
		}
	}
	/* learning after the baseline: unshared new addresses that persist */
	for (size_t i = 0; i < w->n; i++) {
		struct can *c = &w->c[i];
		const struct inc_obs *o = &c->obs;
		if (o->status != OBS_ANSWER || !o->naddr) {
			continue;
		}
		bool changed = true, shared = false;
		for (unsigned k = 0; k < o->naddr; k++) {
			if (in_normal(c, &o->addr[k]))
				changed = false;
			struct addr_ent *ae = at_get(w, &o->addr[k], false);
			if ((ae && ae->shared) || act_find(w, INC_HIJACK, 0, &o->addr[k]))
				shared = true;
		}
		if (!changed)
			continue;
		if (shared) {
			c->pend_n = 0;
			continue;
		}
		if (c->pend_n && addr_eq(&c->pend, &o->addr[0]))
			c->pend_n++;
		else {
			c->pend = o->addr[0];
			c->pend_n = 1;
		}
		if (c->pend_n >= QUARANTINE) {
			for (unsigned k = 0; k < o->naddr; k++)
				learn_addr(c, &o->addr[k]);
			c->pend_n = 0;
		}
	}
	w->round++;
	if (st)
		*st = s;
}
