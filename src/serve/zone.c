/* zone — in-memory zones: loading, indexes, lookups (see zone.h). */
#include "serve/zone.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/rdata.h"
#include "dns/rrtype.h"
#include "dns/zonefile.h"
#include "util/sha1.h"

static void errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void errf(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int ht_grow(zone *z);

void zone_set_origin(zone *z, const uint8_t *origin)
{
	z->origin_len = (uint8_t)name_copy(z->origin, origin);
	z->origin_labels = (uint8_t)name_labels(origin);
}

zone *zone_new(const uint8_t *origin)
{
	zone *z = calloc(1, sizeof(*z));
	if (!z)
		return NULL;
	arena_init(&z->mem);
	z->ht_size = 1024;
	z->ht = calloc(z->ht_size, sizeof(*z->ht));
	if (!z->ht) {
		free(z);
		return NULL;
	}
	if (origin)
		zone_set_origin(z, origin);
	return z;
}

void zone_free(zone *z)
{
	if (!z)
		return;
	arena_free(&z->mem);
	free(z->ht);
	free(z->sorted);
	free(z->n3);
	free((void *)z->file);
	free(z);
}

static zone_node *ht_get(const zone *z, const uint8_t *name, size_t len, uint32_t h, size_t *slot)
{
	size_t mask = z->ht_size - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		zone_node *n = z->ht[i];
		if (!n) {
			if (slot)
				*slot = i;
			return NULL;
		}
		if (n->hash == h && n->len == len && name_eq(n->name, name))
			return n;
	}
}

zone_node *zone_lookup(const zone *z, const uint8_t *name, size_t len)
{
	return ht_get(z, name, len, (uint32_t)name_hash(name, len), NULL);
}

/* Finds or creates the node for name (at or below the origin) and its
 * ancestors up to the apex. */
static zone_node *node_get(zone *z, const uint8_t *name, size_t len, int labels)
{
	uint32_t h = (uint32_t)name_hash(name, len);
	size_t slot;
	zone_node *n = ht_get(z, name, len, h, &slot);
	if (n)
		return n;
	zone_node *parent = NULL;
	if (labels > z->origin_labels) {
		const uint8_t *pn = name_parent(name);
		parent = node_get(z, pn, len - 1 - name[0], labels - 1);
		if (!parent)
			return NULL;
		if (name_is_wildcard(name))
			parent->flags |= NODE_WILDKID;
	}
	if ((z->nodes + 1) * 2 > z->ht_size) {
		if (ht_grow(z) < 0)
			return NULL;
	}
	ht_get(z, name, len, h, &slot);
	n = arena_alloc(&z->mem, sizeof(*n));
	if (!n)
		return NULL;
	memset(n, 0, sizeof(*n));
	n->name = arena_dup(&z->mem, name, len);
	if (!n->name)
		return NULL;
	n->hash = h;
	n->len = (uint8_t)len;
	n->labels = (uint8_t)labels;
	n->parent = parent;
	z->ht[slot] = n;
	z->nodes++;
	if (!parent)
		z->apex = n;
	return n;
}

static int ht_grow(zone *z)
{
	size_t size = z->ht_size * 2;
	zone_node **ht = calloc(size, sizeof(*ht));
	if (!ht)
		return DNS_ENOMEM;
	for (size_t i = 0; i < z->ht_size; i++) {
		zone_node *n = z->ht[i];
		if (!n)
			continue;
		size_t j = n->hash & (size - 1);
		while (ht[j])
			j = (j + 1) & (size - 1);
		ht[j] = n;
	}
	free(z->ht);
	z->ht = ht;
	z->ht_size = size;
	return 0;
}

zone_rrset *zone_rrset_find(const zone_node *n, uint16_t type)
{
	for (zone_rrset *s = n->rrsets; s; s = s->next)
		if (s->type == type)
			return s;
	return NULL;
}

int zone_add(zone *z, const uint8_t *owner, uint16_t type, uint32_t ttl,
	     const uint8_t *rdata, uint16_t rdlen, char *err, size_t errlen)
{
	if (!z->origin_len) {
		if (type != RR_SOA) {
			errf(err, errlen, "no origin: give $ORIGIN, --zone NAME=FILE, or start with the SOA");
			return DNS_EINVAL;
		}
		zone_set_origin(z, owner);
	}
	if (rrtype_is_meta(type)) {
		char tb[16];
		errf(err, errlen, "type %s cannot appear in a zone", rrtype_to_text(type, tb));
		return DNS_EINVAL;
	}
	int labels = name_labels(owner);
	if (!name_is_sub(owner, z->origin)) {
		char on[NAME_MAXTEXT], zn[NAME_MAXTEXT];
		name_to_text(owner, on, sizeof(on));
		name_to_text(z->origin, zn, sizeof(zn));
		errf(err, errlen, "%s is outside the zone %s", on, zn);
		return DNS_EINVAL;
	}
	zone_node *n = node_get(z, owner, name_len(owner), labels);
	if (!n)
		return DNS_ENOMEM;
	zone_rrset *s = zone_rrset_find(n, type);
	if (!s) {
		s = arena_alloc(&z->mem, sizeof(*s));
		if (!s)
			return DNS_ENOMEM;
		memset(s, 0, sizeof(*s));
		s->type = type;
		s->ttl = ttl;
		s->tail = &s->rrs;
		/* Append so ANY and AXFR keep zone-file order. */
		zone_rrset **pp = &n->rrsets;
		while (*pp)
			pp = &(*pp)->next;
		*pp = s;
	} else {
		for (zone_rdata *r = s->rrs; r; r = r->next)
			if (r->len == rdlen && !memcmp(r->data, rdata, rdlen))
				return 0; /* duplicate: ignored, as RFC 2181 §5 sets */
		if (type == RR_SOA) {
			errf(err, errlen, "more than one SOA record");
			return DNS_EINVAL;
		}
	}
	zone_rdata *r = arena_alloc(&z->mem, sizeof(*r) + rdlen);
	if (!r)
		return DNS_ENOMEM;
	r->next = NULL;
	r->ttl = ttl;
	r->len = rdlen;
	memcpy(r->data, rdata, rdlen);
	*s->tail = r;
	s->tail = &r->next;
	s->count++;
	n->flags |= NODE_DATA;
	z->records++;
	return 0;
}

static int b32hex_val(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'v')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'V')
		return c - 'A' + 10;
	return -1;
}

/* Decodes the first label of an NSEC3 owner (base32hex, no padding). */
static int nsec3_label_hash(const uint8_t *name, uint8_t *out)
{
	unsigned bits = 0, acc = 0, n = 0;
	for (uint8_t i = 1; i <= name[0]; i++) {
		int v = b32hex_val(name[i]);
		if (v < 0)
			return -1;
		acc = acc << 5 | (unsigned)v;
		bits += 5;
		if (bits >= 8) {
			if (n >= 20)
				return -1;
			out[n++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
			acc &= (1u << bits) - 1;
		}
	}
	return (int)n;
}

static int cmp_node(const void *a, const void *b)
{
	return name_cmp((*(zone_node *const *)a)->name, (*(zone_node *const *)b)->name);
}

static int cmp_n3(const void *a, const void *b)
{
	const zone_nsec3 *x = a, *y = b;
	return memcmp(x->hash, y->hash, 20);
}

static bool only_nsec3(const zone_node *n)
{
	for (zone_rrset *s = n->rrsets; s; s = s->next)
		if (s->type != RR_NSEC3 && s->type != RR_RRSIG)
			return false;
	return zone_rrset_find(n, RR_NSEC3) != NULL;
}

int zone_finish(zone *z, char *err, size_t errlen)
{
	if (!z->apex || !(z->soa = zone_rrset_find(z->apex, RR_SOA))) {
		errf(err, errlen, "no SOA record at the zone apex");
		return DNS_EINVAL;
	}
	const zone_rdata *soa = z->soa->rrs;
	if (soa->len < 20) {
		errf(err, errlen, "malformed SOA record");
		return DNS_EINVAL;
	}
	uint32_t minimum = wire_get_u32(soa->data + soa->len - 4);
	z->neg_ttl = minimum < z->soa->ttl ? minimum : z->soa->ttl;
	z->ns = zone_rrset_find(z->apex, RR_NS);
	z->secure = zone_rrset_find(z->apex, RR_RRSIG) != NULL;
	bool has_nsec = false;
	size_t n3 = 0;
	for (size_t i = 0; i < z->ht_size; i++) {
		zone_node *n = z->ht[i];
		if (!n)
			continue;
		bool other = false;
		for (zone_rrset *s = n->rrsets; s; s = s->next) {
			switch (s->type) {
			case RR_CNAME: n->flags |= NODE_CNAME; break;
			case RR_DNAME: n->flags |= NODE_DNAME; other = true; break;
			case RR_NS: if (n != z->apex) n->flags |= NODE_DELEG; other = true; break;
			case RR_NSEC: has_nsec = true; break;
			case RR_NSEC3: n3++; break;
			case RR_RRSIG: break;
			default: other = true; break;
			}
		}
		if ((n->flags & NODE_CNAME) && (other || zone_rrset_find(n, RR_CNAME)->count > 1)) {
			char t[NAME_MAXTEXT];
			name_to_text(n->name, t, sizeof(t));
			errf(err, errlen, "%s: CNAME and other data at the same name (RFC 1034 §3.6.2)", t);
			return DNS_EINVAL;
		}
		if (only_nsec3(n))
			n->flags |= NODE_NSEC3ONLY;
	}
	if (has_nsec) {
		z->sorted = malloc(z->nodes * sizeof(*z->sorted));
		if (!z->sorted)
			return DNS_ENOMEM;
		size_t k = 0;
		for (size_t i = 0; i < z->ht_size; i++)
			if (z->ht[i])
				z->sorted[k++] = z->ht[i];
		qsort(z->sorted, k, sizeof(*z->sorted), cmp_node);
		for (size_t i = 0; i < k; i++)
			z->sorted[i]->order = (uint32_t)i;
	}
	zone_rrset *param = zone_rrset_find(z->apex, RR_NSEC3PARAM);
	if (param && n3) {
		const uint8_t *p = param->rrs->data;
		if (param->rrs->len >= 5 && param->rrs->len >= 5 + p[4]) {
			z->n3_alg = p[0];
			z->n3_flags = p[1];
			z->n3_iter = wire_get_u16(p + 2);
			z->n3_saltlen = p[4];
			memcpy(z->n3_salt, p + 5, p[4]);
		}
		z->n3 = calloc(n3, sizeof(*z->n3));
		if (!z->n3)
			return DNS_ENOMEM;
		for (size_t i = 0; i < z->ht_size; i++) {
			zone_node *n = z->ht[i];
			if (!n || !zone_rrset_find(n, RR_NSEC3) || n->parent != z->apex)
				continue;
			int hl = nsec3_label_hash(n->name, z->n3[z->n3_count].hash);
			if (hl != 20)
				continue;
			z->n3[z->n3_count].hlen = (uint8_t)hl;
			z->n3[z->n3_count].node = n;
			z->n3_count++;
		}
		qsort(z->n3, z->n3_count, sizeof(*z->n3), cmp_n3);
		z->nsec3 = z->n3_alg == 1 && z->n3_count > 0;
	}
	return 0;
}

zone_node *zone_closest(const zone *z, const uint8_t *name, bool *exact)
{
	int labels = name_labels(name);
	size_t len = name_len(name);
	*exact = true;
	for (; labels > z->origin_labels; labels--) {
		zone_node *n = zone_lookup(z, name, len);
		if (n && !(n->flags & NODE_NSEC3ONLY))
			return n;
		*exact = false;
		len -= 1u + name[0];
		name = name_parent(name);
	}
	return z->apex;
}

zone_node *zone_nsec_cover(const zone *z, const uint8_t *name)
{
	if (!z->sorted)
		return NULL;
	size_t lo = 0, hi = z->nodes; /* find the last node <= name */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (name_cmp(z->sorted[mid]->name, name) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i-- > 0;)
		if (zone_rrset_find(z->sorted[i], RR_NSEC))
			return z->sorted[i];
	return NULL;
}

void zone_nsec3_hash(const zone *z, const uint8_t *name, uint8_t *out)
{
	uint8_t lower[NAME_MAXLEN];
	size_t len = name_copy(lower, name);
	name_lower(lower);
	sha1_ctx c;
	sha1_init(&c);
	sha1_update(&c, lower, len);
	sha1_update(&c, z->n3_salt, z->n3_saltlen);
	sha1_final(&c, out);
	for (unsigned i = 0; i < z->n3_iter; i++) {
		sha1_init(&c);
		sha1_update(&c, out, 20);
		sha1_update(&c, z->n3_salt, z->n3_saltlen);
		sha1_final(&c, out);
	}
}

const zone_nsec3 *zone_nsec3_find(const zone *z, const uint8_t *hash, bool *match)
{
	*match = false;
	if (!z->n3_count)
		return NULL;
	size_t lo = 0, hi = z->n3_count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (memcmp(z->n3[mid].hash, hash, 20) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0) /* before the first: covered by the last (wrap-around) */
		return &z->n3[z->n3_count - 1];
	const zone_nsec3 *e = &z->n3[lo - 1];
	*match = memcmp(e->hash, hash, 20) == 0;
	return e;
}

struct load_ctx {
	zone *z;
	char *err;
	size_t errlen;
};

static int load_cb(void *arg, const zf_rr *rr)
{
	struct load_ctx *c = arg;
	char msg[256];
	/* Origin: the first record's owner when it is the SOA, else the
	 * $ORIGIN in force at the first record. */
	if (!c->z->origin_len && rr->type != RR_SOA && rr->origin)
		zone_set_origin(c->z, rr->origin);
	int rc = zone_add(c->z, rr->owner, rr->type, rr->ttl, rr->rdata, rr->rdlen, msg, sizeof(msg));
	if (rc < 0)
		errf(c->err, c->errlen, "%s:%u: %s", rr->file, rr->line, msg);
	return rc;
}

zone *zone_load(const char *path, const uint8_t *origin, char *err, size_t errlen)
{
	zone *z = zone_new(origin);
	if (!z) {
		errf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	z->file = strdup(path);
	struct load_ctx c = {z, err, errlen};
	char perr[ZONEFILE_ERRLEN] = "";
	if (err && errlen)
		err[0] = 0;
	long rc = zonefile_parse(path, origin, load_cb, &c, perr, sizeof(perr));
	if (rc < 0) {
		if (err && errlen && !err[0])
			errf(err, errlen, "%s", perr[0] ? perr : dns_strerror((int)rc));
		zone_free(z);
		return NULL;
	}
	char ferr[256];
	if (zone_finish(z, ferr, sizeof(ferr)) < 0) {
		errf(err, errlen, "%s: %s", path, ferr);
		zone_free(z);
		return NULL;
	}
	return z;
}

/* zoneset: a small open-addressing table keyed by origin. */
zoneset *zoneset_new(void)
{
	static _Atomic uint64_t next_gen = 1;
	zoneset *zs = calloc(1, sizeof(zoneset));
	if (zs)
		zs->gen = atomic_fetch_add(&next_gen, 1);
	return zs;
}

void zoneset_free(zoneset *zs)
{
	if (!zs)
		return;
	for (size_t i = 0; i < zs->count; i++)
		zone_free(zs->zones[i]);
	free(zs->zones);
	free(zs->index);
	free(zs);
}

static int zs_reindex(zoneset *zs)
{
	size_t size = 16;
	while (size < zs->count * 2)
		size *= 2;
	zone **idx = calloc(size, sizeof(*idx));
	if (!idx)
		return DNS_ENOMEM;
	for (size_t i = 0; i < zs->count; i++) {
		zone *z = zs->zones[i];
		size_t j = name_hash(z->origin, z->origin_len) & (size - 1);
		while (idx[j])
			j = (j + 1) & (size - 1);
		idx[j] = z;
	}
	free(zs->index);
	zs->index = idx;
	zs->index_size = size;
	return 0;
}

static zone *zs_get(const zoneset *zs, const uint8_t *name, size_t len)
{
	if (!zs->index_size)
		return NULL;
	size_t mask = zs->index_size - 1;
	for (size_t j = name_hash(name, len) & mask; zs->index[j]; j = (j + 1) & mask) {
		zone *z = zs->index[j];
		if (z->origin_len == len && name_eq(z->origin, name))
			return z;
	}
	return NULL;
}

int zoneset_add(zoneset *zs, zone *z)
{
	if (zs_get(zs, z->origin, z->origin_len))
		return DNS_EINVAL;
	zone **zz = realloc(zs->zones, (zs->count + 1) * sizeof(*zz));
	if (!zz)
		return DNS_ENOMEM;
	zs->zones = zz;
	zs->zones[zs->count++] = z;
	return zs_reindex(zs);
}

zone *zoneset_find(const zoneset *zs, const uint8_t *name)
{
	size_t len = name_len(name);
	for (;;) {
		zone *z = zs_get(zs, name, len);
		if (z)
			return z;
		if (!name[0])
			return NULL;
		len -= 1u + name[0];
		name = name_parent(name);
	}
}

zone *zoneset_parent(const zoneset *zs, const zone *z)
{
	if (!z->origin[0])
		return NULL;
	return zoneset_find(zs, name_parent(z->origin));
}
