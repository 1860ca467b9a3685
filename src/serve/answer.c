/* answer — authoritative answers from a zoneset (see answer.h). */
#include "serve/answer.h"

#include <stdlib.h>
#include <string.h>

#include "dns/msg.h"
#include "dns/rdata.h"
#include "dns/rrtype.h"

/* Sections in encoding order; additional A before AAAA, as NSD does, which
 * decides what survives truncation. */
enum answer_sec { SEC_AN, SEC_NS, SEC_AR_A, SEC_AR_AAAA, SEC_COUNT };

static const unsigned wire_section[SEC_COUNT] = {MSG_ANSWER, MSG_AUTHORITY, MSG_ADDITIONAL, MSG_ADDITIONAL};

/* One cached response in the ring (8-byte aligned), followed by its bytes. */
struct cache_ent {
	uint64_t hash;
	uint64_t gen;       /* zoneset generation */
	uint16_t qtype;
	uint16_t limit;
	uint16_t len;
	uint8_t kflags;
	uint8_t qname_len;
};

struct cache_slot {
	uint64_t hash;      /* 0 = empty */
	uint64_t pos;       /* monotonic ring position of the entry */
};

struct answer_cache {
	struct cache_slot slot[ANSWER_CACHE_SLOTS];
	uint64_t head;      /* monotonic write position */
	_Alignas(8) uint8_t ring[ANSWER_CACHE_RING];
};

enum { KF_EDNS = 1, KF_DO = 2, KF_NSID = 4 };
#define CACHE_WAYS 4

static inline bool cache_live(const struct answer_cache *ca, uint64_t pos)
{
	return ca->head - pos <= ANSWER_CACHE_RING - sizeof(struct cache_ent) - ANSWER_CACHE_MAXRESP;
}

static const struct cache_ent *cache_get(const struct answer_cache *ca, uint64_t h, uint64_t gen,
					 uint16_t qtype, uint16_t limit, uint8_t kflags,
					 const uint8_t *qname, uint8_t qlen)
{
	const struct cache_slot *set = &ca->slot[h & (ANSWER_CACHE_SLOTS - CACHE_WAYS)];
	for (unsigned i = 0; i < CACHE_WAYS; i++) {
		if (set[i].hash != h || !cache_live(ca, set[i].pos))
			continue;
		const struct cache_ent *e = (const void *)(ca->ring + set[i].pos % ANSWER_CACHE_RING);
		const uint8_t *resp = (const uint8_t *)(e + 1);
		if (e->hash == h && e->gen == gen && e->qtype == qtype && e->limit == limit &&
		    e->kflags == kflags && e->qname_len == qlen && name_eq(resp + MSG_HDRLEN, qname))
			return e;
	}
	return NULL;
}

static void cache_put(struct answer_cache *ca, uint64_t h, uint64_t gen, uint16_t qtype,
		      uint16_t limit, uint8_t kflags, uint8_t qlen, const uint8_t *resp, size_t len)
{
	size_t need = (sizeof(struct cache_ent) + len + 7) & ~(size_t)7;
	uint64_t off = ca->head % ANSWER_CACHE_RING;
	if (off + need > ANSWER_CACHE_RING) /* no wrapping inside an entry */
		ca->head += ANSWER_CACHE_RING - off;
	struct cache_slot *set = &ca->slot[h & (ANSWER_CACHE_SLOTS - CACHE_WAYS)];
	struct cache_slot *victim = &set[0];
	for (unsigned i = 0; i < CACHE_WAYS; i++) {
		if (!set[i].hash || !cache_live(ca, set[i].pos) || set[i].hash == h) {
			victim = &set[i];
			break;
		}
		if (set[i].pos < victim->pos)
			victim = &set[i];
	}
	struct cache_ent *e = (void *)(ca->ring + ca->head % ANSWER_CACHE_RING);
	e->hash = h;
	e->gen = gen;
	e->qtype = qtype;
	e->limit = limit;
	e->len = (uint16_t)len;
	e->kflags = kflags;
	e->qname_len = qlen;
	memcpy(e + 1, resp, len);
	victim->hash = h;
	victim->pos = ca->head;
	ca->head += need;
}

int answer_ctx_init(answer_ctx *c, const answer_cfg *cfg, bool with_cache)
{
	memset(c, 0, sizeof(*c));
	c->cfg = cfg;
	if (with_cache) {
		c->cache = calloc(1, sizeof(*c->cache));
		if (!c->cache)
			return DNS_ENOMEM;
		/* Start far enough in that nothing counts as live yet. */
		c->cache->head = ANSWER_CACHE_RING;
	}
	return 0;
}

void answer_ctx_free(answer_ctx *c)
{
	free(c->cache);
	c->cache = NULL;
}

static const uint8_t *keep_name(answer_ctx *c, const uint8_t *name)
{
	if (c->nnames >= ANSWER_MAXNAMES)
		return NULL;
	uint8_t *p = c->names[c->nnames++];
	name_copy(p, name);
	return p;
}

/* Schedules an RRset; an RRset already scheduled moves to the earlier
 * section. Returns false when it was already there (a loop, for CNAMEs). */
static bool add_item(answer_ctx *c, unsigned sec, const zone *z, const uint8_t *owner,
		     const zone_rrset *s, const zone_node *sigs, bool fixed_ttl, uint32_t ttl)
{
	for (unsigned i = 0; i < c->nitems; i++) {
		answer_item *it = &c->items[i];
		if (it->rrset == s && (it->owner == owner || name_eq(it->owner, owner))) {
			if (sec < it->section) {
				it->section = (uint8_t)sec;
				return true;
			}
			return false;
		}
	}
	if (c->nitems >= ANSWER_MAXITEMS)
		return false;
	answer_item *it = &c->items[c->nitems++];
	it->owner = owner;
	it->rrset = s;
	it->sigs = sigs;
	it->z = z;
	it->ttl = ttl;
	it->fixed_ttl = fixed_ttl;
	it->section = (uint8_t)sec;
	return true;
}

/* True when node lies at or below a zone cut of z (glue or occluded). */
static bool is_glue(const zone *z, const zone_node *n)
{
	for (; n && n != z->apex; n = n->parent)
		if (n->flags & NODE_DELEG)
			return true;
	return false;
}

static bool add_rrset(answer_ctx *c, unsigned sec, const zone *z, const uint8_t *owner,
		      const zone_node *node, const zone_rrset *s);

/* Additional section processing for the name targets of s. */
static void add_additional(answer_ctx *c, const zone *z, const zone_rrset *s, bool allow_glue)
{
	for (const zone_rdata *r = s->rrs; r; r = r->next) {
		const uint8_t *target = rdata_target(s->type, r->data, r->len);
		if (!target || !name_is_sub(target, z->origin))
			continue;
		bool exact;
		const zone_node *n = zone_closest(z, target, &exact);
		const uint8_t *owner = n->name;
		if (!exact) {
			/* A target that does not exist may match a wildcard. */
			if (!(n->flags & NODE_WILDKID))
				continue;
			uint8_t wname[NAME_MAXLEN];
			wname[0] = 1;
			wname[1] = '*';
			memcpy(wname + 2, n->name, n->len);
			n = zone_lookup(z, wname, n->len + 2u);
			if (!n || !(owner = keep_name(c, target)))
				continue;
		}
		if (!allow_glue && is_glue(z, n))
			continue;
		const zone_rrset *a = zone_rrset_find(n, RR_A);
		const zone_rrset *aaaa = zone_rrset_find(n, RR_AAAA);
		if (a)
			add_item(c, SEC_AR_A, z, owner, a, n, false, 0);
		if (aaaa)
			add_item(c, SEC_AR_AAAA, z, owner, aaaa, n, false, 0);
	}
}

static bool add_rrset(answer_ctx *c, unsigned sec, const zone *z, const uint8_t *owner,
		      const zone_node *node, const zone_rrset *s)
{
	bool added = add_item(c, sec, z, owner, s, node, false, 0);
	switch (s->type) {
	case RR_NS:
		add_additional(c, z, s, true);
		break;
	case RR_MB:
	case RR_MX:
	case RR_KX:
	case RR_SRV:
		add_additional(c, z, s, false);
		break;
	default:
		break;
	}
	return added;
}

static void add_soa(answer_ctx *c, const zone *z)
{
	add_item(c, SEC_NS, z, z->apex->name, z->soa, z->apex, true, z->neg_ttl);
}

static void add_nsec_node(answer_ctx *c, const zone *z, const zone_node *n)
{
	const zone_rrset *s = n ? zone_rrset_find(n, RR_NSEC) : NULL;
	if (s)
		add_item(c, SEC_NS, z, n->name, s, n, false, 0);
}

/* ---- NSEC3 (RFC 5155 §7.2) ---- */

static const zone_nsec3 *n3_lookup(const zone *z, const uint8_t *name, bool *match)
{
	uint8_t h[20];
	zone_nsec3_hash(z, name, h);
	return zone_nsec3_find(z, h, match);
}

static void add_n3(answer_ctx *c, const zone *z, const zone_nsec3 *e)
{
	if (!e)
		return;
	const zone_rrset *s = zone_rrset_find(e->node, RR_NSEC3);
	if (s)
		add_item(c, SEC_NS, z, e->node->name, s, e->node, false, 0);
}

/* Closest encloser proof for name: the NSEC3 matching the closest provable
 * encloser and the one covering the next closer name. Returns the closest
 * encloser's label count, or -1. */
static int n3_closest_encloser(answer_ctx *c, const zone *z, const uint8_t *name)
{
	const uint8_t *next = NULL;
	for (const uint8_t *p = name;; p = name_parent(p)) {
		bool match;
		const zone_nsec3 *e = n3_lookup(z, p, &match);
		if (match) {
			add_n3(c, z, e);
			if (next) {
				const zone_nsec3 *cov = n3_lookup(z, next, &match);
				add_n3(c, z, cov);
			}
			return name_labels(p);
		}
		if (name_eq(p, z->origin) || !p[0])
			return -1;
		next = p;
	}
}

static void n3_wildcard_cover(answer_ctx *c, const zone *z, const uint8_t *ce)
{
	uint8_t w[NAME_MAXLEN];
	size_t l = name_len(ce);
	if (l + 2 > NAME_MAXLEN)
		return;
	w[0] = 1;
	w[1] = '*';
	memcpy(w + 2, ce, l);
	bool match;
	add_n3(c, z, n3_lookup(z, w, &match));
}

static const uint8_t *ancestor(const uint8_t *name, int labels)
{
	for (int n = name_labels(name); n > labels; n--)
		name = name_parent(name);
	return name;
}

static void n3_nxdomain(answer_ctx *c, const zone *z, const uint8_t *qname)
{
	int ce = n3_closest_encloser(c, z, qname);
	if (ce >= 0)
		n3_wildcard_cover(c, z, ancestor(qname, ce));
}

static void n3_nodata(answer_ctx *c, const zone *z, const uint8_t *name, uint16_t qtype)
{
	bool match;
	const zone_nsec3 *e = n3_lookup(z, name, &match);
	if (match) {
		add_n3(c, z, e);
		return;
	}
	if (qtype == RR_DS) /* opt-out: closest provable encloser proof */
		n3_closest_encloser(c, z, name);
}

/* ---- lookups ---- */

static void lookup(answer_ctx *c, const zoneset *zs, const uint8_t *qname, uint16_t qtype);

static void answer_nodata(answer_ctx *c, const zone *z, const zone_node *orig,
			  const uint8_t *name, uint16_t qtype)
{
	add_soa(c, z);
	if (!c->dnssec || !z->secure)
		return;
	if (z->nsec3) {
		if (orig && name_is_wildcard(orig->name)) {
			/* Wildcard NODATA (RFC 5155 §7.2.5), also when the
			 * wildcard itself is asked for, as NSD does: NSEC3s
			 * matching the closest encloser, covering the next
			 * closer name and matching the wildcard, in NSD's order
			 * (it decides what survives truncation). */
			bool match;
			const uint8_t *ce = name_parent(orig->name);
			const zone_nsec3 *e;
			if (qtype == RR_DS && (e = n3_lookup(z, name, &match)) && match)
				add_n3(c, z, e);
			add_n3(c, z, n3_lookup(z, ce, &match));
			add_n3(c, z, n3_lookup(z, ancestor(name, name_labels(ce) + 1), &match));
			add_n3(c, z, n3_lookup(z, orig->name, &match));
		} else {
			n3_nodata(c, z, orig ? orig->name : name, qtype);
		}
		return;
	}
	add_nsec_node(c, z, zone_nsec_cover(z, orig ? orig->name : name));
}

/* Follows a CNAME or DNAME-synthesised target. */
static void follow(answer_ctx *c, const zoneset *zs, const uint8_t *target, uint16_t qtype)
{
	if (++c->chain > ANSWER_MAXCHAIN)
		return;
	const uint8_t *t = keep_name(c, target);
	if (t)
		lookup(c, zs, t, qtype);
}

static void answer_domain(answer_ctx *c, const zoneset *zs, const zone *z, const zone_node *n,
			  const uint8_t *owner, const uint8_t *qname, uint16_t qtype)
{
	const zone_rrset *s;
	if (qtype == RR_ANY) {
		unsigned added = 0;
		for (s = n->rrsets; s; s = s->next) {
			if (s->type == RR_NSEC3 || (s->type == RR_RRSIG && c->dnssec && z->secure))
				continue;
			add_rrset(c, SEC_AN, z, owner, n, s);
			added++;
		}
		if (!added)
			answer_nodata(c, z, n, qname, qtype);
		return;
	}
	if (qtype == RR_NSEC3) {
		answer_nodata(c, z, n, qname, qtype);
		return;
	}
	if ((s = zone_rrset_find(n, qtype))) {
		add_rrset(c, SEC_AN, z, owner, n, s);
	} else if ((s = zone_rrset_find(n, RR_CNAME))) {
		if (add_rrset(c, SEC_AN, z, owner, n, s)) {
			const uint8_t *target = rdata_target(RR_CNAME, s->rrs->data, s->rrs->len);
			if (target)
				follow(c, zs, target, qtype);
		}
		return;
	} else {
		answer_nodata(c, z, n, qname, qtype);
		return;
	}
	if (z->ns && qtype != RR_DNSKEY && qtype != RR_DS)
		add_rrset(c, SEC_NS, z, z->apex->name, z->apex, z->ns);
}

static void answer_delegation(answer_ctx *c, const zone *z, const zone_node *cut)
{
	if (c->chain == 0)
		c->aa = false;
	add_rrset(c, SEC_NS, z, cut->name, cut, zone_rrset_find(cut, RR_NS));
	if (!c->dnssec || !z->secure)
		return;
	const zone_rrset *ds = zone_rrset_find(cut, RR_DS);
	if (ds)
		add_rrset(c, SEC_NS, z, cut->name, cut, ds);
	else if (z->nsec3)
		n3_nodata(c, z, cut->name, RR_DS);
	else
		add_nsec_node(c, z, cut);
}

/* DNAME substitution: qname below owner becomes the same labels below the
 * DNAME target; a CNAME is synthesised (RFC 6672 §3.1). */
static void answer_dname(answer_ctx *c, const zoneset *zs, const zone *z, const zone_node *n,
			 const uint8_t *qname, uint16_t qtype)
{
	const zone_rrset *s = zone_rrset_find(n, RR_DNAME);
	if (!add_rrset(c, SEC_AN, z, n->name, n, s))
		return; /* loop */
	const uint8_t *target = rdata_target(RR_DNAME, s->rrs->data, s->rrs->len);
	if (!target || c->nsynth >= ANSWER_MAXCHAIN)
		return;
	zone_rdata *rd = (zone_rdata *)c->synth_rd[c->nsynth];
	int len = name_join(rd->data, qname, name_labels(qname) - n->labels, target);
	if (len < 0) {
		if (c->chain == 0)
			c->rcode = RCODE_YXDOMAIN;
		return;
	}
	rd->next = NULL;
	rd->len = (uint16_t)len;
	zone_rrset *cn = &c->synth[c->nsynth++];
	memset(cn, 0, sizeof(*cn));
	cn->type = RR_CNAME;
	cn->count = 1;
	cn->ttl = s->ttl;
	rd->ttl = s->ttl;
	cn->rrs = rd;
	add_item(c, SEC_AN, z, qname, cn, NULL, false, 0);
	if (qtype != RR_CNAME) /* the synthesised CNAME is the answer */
		follow(c, zs, rd->data, qtype);
}

/* True when name has a node in a zone above z (occluded data). */
static bool exists_above(const zoneset *zs, const zone *z, const uint8_t *name)
{
	size_t len = name_len(name);
	for (const zone *p = zoneset_parent(zs, z); p; p = zoneset_parent(zs, p))
		if (zone_lookup(p, name, len))
			return true;
	return false;
}

static void lookup(answer_ctx *c, const zoneset *zs, const uint8_t *qname, uint16_t qtype)
{
	const zone *z = zoneset_find(zs, qname);
	if (!z) {
		if (c->chain == 0) {
			c->rcode = RCODE_REFUSED;
			c->aa = false;
			c->not_auth = true;
		}
		return;
	}
	bool exact;
	const zone_node *n = zone_closest(z, qname, &exact);
	if (!exact && exists_above(zs, z, qname)) {
		/* NSD keeps one name tree for all zones: a name that exists in
		 * a parent zone (data occluded by the cut) exists here too, and
		 * has no data in this zone. */
		c->aa = true;
		answer_nodata(c, z, NULL, qname, qtype);
		return;
	}
	if (exact && qtype == RR_DS && n == z->apex) {
		/* DS lives in the parent (RFC 4035 §3.1.4.1). */
		const zone *pz = zoneset_parent(zs, z);
		if (pz) {
			z = pz;
			n = zone_closest(z, qname, &exact);
		} else {
			c->aa = true;
			answer_nodata(c, z, n, qname, qtype);
			return;
		}
	}
	const zone_node *cut = NULL;
	for (const zone_node *p = n; p && p != z->apex; p = p->parent)
		if (p->flags & NODE_DELEG)
			cut = p;
	if (cut && !(exact && qtype == RR_DS && cut == n)) {
		answer_delegation(c, z, cut);
		return;
	}
	c->aa = true;
	const zone_node *match = NULL;
	const uint8_t *owner = qname;
	if (exact) {
		match = n;
		owner = n->name;
	} else if (n->flags & NODE_DNAME) {
		answer_dname(c, zs, z, n, qname, qtype);
		return;
	} else if (n->flags & NODE_WILDKID) {
		uint8_t w[NAME_MAXLEN];
		w[0] = 1;
		w[1] = '*';
		memcpy(w + 2, n->name, n->len);
		match = zone_lookup(z, w, n->len + 2u);
	}
	if (c->dnssec && z->secure) {
		if (z->nsec3) {
			if (match && !exact) {
				/* wildcard expansion: NSEC3 covering the next closer
				 * name, first, whether or not the type exists */
				const uint8_t *nc = ancestor(qname, n->labels + 1);
				bool m;
				add_n3(c, z, n3_lookup(z, nc, &m));
			} else if (!match) {
				n3_nxdomain(c, z, qname);
			}
		} else {
			if (!exact)
				add_nsec_node(c, z, zone_nsec_cover(z, qname));
			if (!match) {
				uint8_t w[NAME_MAXLEN];
				w[0] = 1;
				w[1] = '*';
				memcpy(w + 2, n->name, n->len);
				add_nsec_node(c, z, zone_nsec_cover(z, w));
			}
		}
	}
	if (match) {
		answer_domain(c, zs, z, match, owner, qname, qtype);
	} else {
		/* also at the end of a CNAME/DNAME chain, as NSD does */
		c->rcode = RCODE_NXDOMAIN;
		add_soa(c, z);
	}
}

/* ---- encoding ---- */

static void encode(answer_ctx *c, msg_wr *mw)
{
	bool tc = false, full = false;
	for (unsigned sec = 0; sec < SEC_COUNT && !full; sec++) {
		for (unsigned i = 0; i < c->nitems && !full; i++) {
			const answer_item *it = &c->items[i];
			if (it->section != sec)
				continue;
			msg_wr_mark mk;
			msg_wr_save(mw, &mk);
			bool all = true;
			const zone_rrset *s = it->rrset;
			for (const zone_rdata *r = s->rrs; r && all; r = r->next)
				all = msg_wr_rr(mw, wire_section[sec], it->owner, s->type, CLASS_IN,
						it->fixed_ttl ? it->ttl : r->ttl, r->data, r->len) == 0;
			const zone_rrset *sig;
			if (all && c->dnssec && it->z->secure && s->type != RR_RRSIG && it->sigs &&
			    (sig = zone_rrset_find(it->sigs, RR_RRSIG))) {
				for (const zone_rdata *r = sig->rrs; r && all; r = r->next) {
					if (r->len < 2 || wire_get_u16(r->data) != s->type)
						continue;
					all = msg_wr_rr(mw, wire_section[sec], it->owner, RR_RRSIG, CLASS_IN,
							it->fixed_ttl ? it->ttl : r->ttl, r->data, r->len) == 0;
				}
			}
			if (!all) {
				/* An RRset goes in whole, with its RRSIGs, or not at
				 * all. Answer and authority: TC=1 and stop. Additional:
				 * stop quietly (NSD 4.6 behaviour). */
				msg_wr_restore(mw, &mk);
				tc = sec <= SEC_NS;
				full = true;
			}
		}
	}
	if (tc)
		msg_wr_set_flags(mw, msg_wr_flags(mw) | MSG_TC);
}

/* Error reply without a question (as NSD): header only, plus OPT when the
 * query's EDNS was understood. */
static int error_reply(uint8_t *out, size_t cap, const msg *m, uint16_t flags, unsigned rcode,
		       const edns_out *eo)
{
	msg_wr mw;
	msg_wr_init(&mw, out, cap);
	msg_wr_header(&mw, m->hdr.id, msg_flags_set_rcode(flags | MSG_QR, rcode));
	if (eo)
		msg_wr_edns(&mw, eo);
	int len = msg_wr_finish(&mw);
	return len > 0 ? len : ANSWER_DROP;
}

int answer_query(answer_ctx *c, const zoneset *zs, const uint8_t *q, size_t qlen,
		 uint8_t *out, size_t cap, bool tcp)
{
	msg m;
	c->queries++;
	int rc = msg_parse_query(&m, q, qlen);
	if (!m.hdr_ok || (m.hdr.flags & MSG_QR)) {
		c->dropped++;
		return ANSWER_DROP;
	}
	unsigned opcode = msg_flags_opcode(m.hdr.flags);
	uint16_t rd_op = (uint16_t)(m.hdr.flags & (MSG_RD | MSG_OPCODE_MASK));
	if (rc < 0 || m.qname_len == 0 || m.hdr.qdcount != 1 ||
	    m.hdr.ancount || m.hdr.nscount || m.tsig_off ||
	    m.hdr.arcount != (m.edns.present ? 1 : 0)) {
		if (rc < 0 && !msg_err_is_formerr(&m, rc)) {
			c->dropped++;
			return ANSWER_DROP;
		}
		c->formerr++;
		return error_reply(out, cap, &m, rd_op, RCODE_FORMERR, NULL);
	}
	/* A compression pointer in the question is refused (as NSD). */
	if (m.qend != MSG_HDRLEN + m.qname_len + 4) {
		c->formerr++;
		return error_reply(out, cap, &m, rd_op, RCODE_FORMERR, NULL);
	}
	if (opcode != OPCODE_QUERY) {
		uint16_t f = (uint16_t)(m.hdr.flags & ~MSG_RCODE_MASK);
		return error_reply(out, cap, &m, f, RCODE_NOTIMP, NULL);
	}
	edns_out eo = {0};
	size_t limit = tcp ? MSG_MAXLEN : 512;
	if (m.edns.present) {
		eo.udp_size = c->cfg->max_udp;
		eo.flags = m.edns.flags & EDNS_DO;
		if (m.edns.version != 0) {
			eo.rcode = RCODE_BADVERS;
			return error_reply(out, cap, &m, m.hdr.flags & ~MSG_RCODE_MASK, RCODE_BADVERS, &eo);
		}
		if (!tcp)
			limit = m.edns.udp_size < c->cfg->max_udp ? m.edns.udp_size : c->cfg->max_udp;
		if (c->cfg->nsid && (m.edns.opts & EDNS_HAS_NSID)) {
			eo.nsid = true;
			eo.nsid_data = c->cfg->nsid;
			eo.nsid_len = c->cfg->nsid_len;
		}
	}
	if (limit > cap)
		limit = cap;

	/* Response cache: only plain IN queries reach here. */
	uint8_t kflags = (uint8_t)((m.edns.present ? KF_EDNS : 0) |
				   ((m.edns.present && (m.edns.flags & EDNS_DO)) ? KF_DO : 0) |
				   (eo.nsid ? KF_NSID : 0));
	uint64_t h = 0;
	bool cacheable = c->cache && m.qclass == CLASS_IN;
	if (cacheable) {
		h = name_hash(m.qname, m.qname_len) ^
		    ((uint64_t)m.qtype << 32 | (uint64_t)limit << 8 | kflags) * 0x9e3779b97f4a7c15ull;
		h |= 1; /* 0 marks an empty slot */
		const struct cache_ent *e = cache_get(c->cache, h, zs->gen, m.qtype, (uint16_t)limit,
						      kflags, m.qname, m.qname_len);
		if (e) {
			memcpy(out, e + 1, e->len);
			memcpy(out, q, 2); /* ID */
			out[2] = (uint8_t)((out[2] & ~(MSG_RD >> 8)) | (q[2] & (MSG_RD >> 8)));
			memcpy(out + MSG_HDRLEN, m.qname, m.qname_len); /* the client's case */
			c->cache_hits++;
			return e->len;
		}
	}

	msg_wr mw;
	msg_wr_init(&mw, out, limit);
	uint16_t flags = (uint16_t)(MSG_QR | (m.hdr.flags & MSG_RD));
	msg_wr_header(&mw, m.hdr.id, flags);
	msg_wr_question(&mw, m.qname, m.qtype, m.qclass);
	if (m.edns.present && msg_wr_reserve(&mw, edns_size(&eo)) < 0 && eo.nsid) {
		eo.nsid = false; /* NSID does not fit: leave it out */
		msg_wr_reserve(&mw, edns_size(&eo));
	}

	c->nitems = c->nnames = c->nsynth = c->chain = 0;
	c->rcode = RCODE_NOERROR;
	c->aa = false;
	c->not_auth = false;
	c->dnssec = m.edns.present && (m.edns.flags & EDNS_DO);
	if (m.qclass != CLASS_IN && m.qclass != CLASS_ANY) {
		c->rcode = RCODE_REFUSED;
	} else if (m.qtype == RR_AXFR || m.qtype == RR_IXFR || m.qtype == RR_OPT ||
		   m.qtype == RR_MAILA || m.qtype == RR_MAILB) {
		c->rcode = m.qtype == RR_OPT ? RCODE_FORMERR : RCODE_REFUSED;
	} else {
		/* Lookups use the lowercased name, so an answer never depends on
		 * the client's case (the response cache relies on it); the
		 * question keeps the client's case. */
		uint8_t qname[NAME_MAXLEN];
		memcpy(qname, m.qname, m.qname_len);
		name_lower(qname);
		lookup(c, zs, qname, m.qtype);
		if (m.qclass == CLASS_ANY)
			c->aa = false;
		encode(c, &mw);
	}
	if (c->rcode == RCODE_REFUSED)
		c->refused++;
	else if (c->rcode == RCODE_NXDOMAIN)
		c->nxdomain++;
	flags = msg_wr_flags(&mw);
	if (c->aa)
		flags |= MSG_AA;
	msg_wr_set_flags(&mw, msg_flags_set_rcode(flags, c->rcode));
	msg_wr_release(&mw);
	if (c->not_auth) { /* RFC 8914 EDE 20, Not Authoritative */
		eo.ede = true;
		eo.ede_code = 20;
	}
	if (m.edns.present)
		msg_wr_edns(&mw, &eo);
	int len = msg_wr_finish(&mw);
	if (len <= 0)
		return ANSWER_DROP;
	if (cacheable && (size_t)len <= ANSWER_CACHE_MAXRESP)
		cache_put(c->cache, h, zs->gen, m.qtype, (uint16_t)limit, kflags, m.qname_len, out, (size_t)len);
	return len;
}
