/* cache — sharded wire-form answer cache with SIEVE eviction (see cache.h). */
#include "resolve/cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns/rrtype.h"

#define CHAIN_MAX 16
#define PARSE_MAX 512     /* RRs msg_parse may list on a store */
#define OPT_LEN 11        /* our OPT RR without options */
#define EDE_LEN 6         /* EDE option with an info code, no text */
#define EDE_STALE 3       /* RFC 8914 "Stale Answer" */
#define MAX_ZONES 8       /* zones whose NSEC/NSEC3 proofs are kept */

enum { EF_VISITED = 1, EF_PREFETCHED = 2, EF_NEG = 4, EF_AD = 8 };
enum { KF_DO = 1, KF_CD = 2 };

/* One entry, followed by u16 ttl_off[nttl], u16 cut_off[ncut],
 * u16 cut_nrr[ncut] and the message (len octets). ttl_off is ascending;
 * cut i keeps the first cut_nrr[i] RRs, which end at cut_off[i]. */
struct centry {
	struct centry *hnext;          /* hash chain */
	struct centry *newer, *older;  /* SIEVE queue */
	uint64_t hash;
	uint32_t stored, expire;       /* now at store; stored + ttl */
	uint16_t len, hits, nttl, ncut;
	uint8_t kflags, eflags, qlen;
	uint16_t data[];
};

struct shard {
	pthread_mutex_t lock;
	struct centry **bucket;
	size_t nbucket;  /* power of two */
	size_t n, bytes, budget;
	struct centry *newest, *oldest, *hand;
	uint64_t hits, stale_hits, misses, prefetches, truncated;
	uint64_t stores, replaced, evictions, expired;
} __attribute__((aligned(64)));

struct cache {
	cache_cfg cfg;
	unsigned mask; /* shards - 1 */
	_Atomic uint64_t refused[CACHE_R_COUNT];
	struct shard shard[];
};

void cache_cfg_default(cache_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->size = 64u << 20;
	cfg->max_ttl = 86400;
	cfg->neg_max_ttl = 3600;
	cfg->stale_window = 86400;
	cfg->stale_ttl = 30;
	cfg->prefetch_pct = 10;
	cfg->prefetch_hits = 3;
	cfg->max_entry = 4096;
	cfg->edns_udp = 1232;
	cfg->shards = 64;
	cfg->shared = true;
}

static inline const uint16_t *e_ttl(const struct centry *e) { return e->data; }
static inline const uint16_t *e_cut_off(const struct centry *e) { return e->data + e->nttl; }
static inline const uint16_t *e_cut_nrr(const struct centry *e) { return e->data + e->nttl + e->ncut; }
static inline const uint8_t *e_msg(const struct centry *e)
{
	return (const uint8_t *)(e->data + e->nttl + 2u * e->ncut);
}
static inline size_t e_alloc(unsigned nttl, unsigned ncut, size_t len)
{
	return sizeof(struct centry) + 2u * nttl + 4u * ncut + len;
}
/* What malloc really takes (glibc: 8-octet header, 16-octet granules). */
static inline size_t charge_of(size_t alloc) { return (alloc + 8 + 15) & ~(size_t)15; }
static inline size_t e_charge(const struct centry *e) { return charge_of(e_alloc(e->nttl, e->ncut, e->len)); }

static inline void lock(const cache *c, struct shard *sh)
{
	if (c->cfg.shared)
		pthread_mutex_lock(&sh->lock);
}
static inline void unlock(const cache *c, struct shard *sh)
{
	if (c->cfg.shared)
		pthread_mutex_unlock(&sh->lock);
}

static inline uint8_t lc(uint8_t ch) { return (uint8_t)((unsigned)(ch - 'A') < 26u ? ch | 0x20 : ch); }

/* Case-insensitive key hash: OR-ing 0x20 into every octet maps 'A'..'Z'
 * onto 'a'..'z' (and merges a few other pairs, which key_match sorts out);
 * one multiply per 8 octets, then a final avalanche. */
static uint64_t key_hash(const uint8_t *p, size_t len, uint16_t qtype, uint16_t qclass, unsigned kf)
{
	const uint64_t fold = 0x2020202020202020ull, k = 0x9e3779b97f4a7c15ull;
	uint64_t h = ((uint64_t)qtype << 32 | (uint64_t)qclass << 16 | kf << 8 | len) * 0xff51afd7ed558ccdull;
	uint64_t x;
	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&x, p, 8);
		h = (h ^ (x | fold)) * k;
	}
	if (len) {
		x = 0;
		memcpy(&x, p, len);
		h = (h ^ (x | fold)) * k;
	}
	h ^= h >> 32;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 29;
	return h;
}

static inline struct shard *shard_of(cache *c, uint64_t h) { return &c->shard[(h >> 40) & c->mask]; }

static bool key_match(const struct centry *e, uint64_t h, const uint8_t *qname, size_t qlen,
		      uint16_t qtype, uint16_t qclass, unsigned kf)
{
	if (e->hash != h || e->qlen != qlen || e->kflags != kf)
		return false;
	const uint8_t *s = e_msg(e) + MSG_HDRLEN;
	if (wire_get_u16(s + qlen) != qtype || wire_get_u16(s + qlen + 2) != qclass)
		return false;
	if (memcmp(qname, s, qlen) == 0) /* most clients ask in lower case */
		return true;
	for (size_t i = 0; i < qlen; i++)
		if (lc(qname[i]) != s[i])
			return false;
	return true;
}

static struct centry **find(struct shard *sh, uint64_t h, const uint8_t *qname, size_t qlen,
			    uint16_t qtype, uint16_t qclass, unsigned kf)
{
	struct centry **pp = &sh->bucket[h & (sh->nbucket - 1)];
	for (; *pp; pp = &(*pp)->hnext)
		if (key_match(*pp, h, qname, qlen, qtype, qclass, kf))
			return pp;
	return NULL;
}

static inline bool dead(const cache *c, const struct centry *e, uint32_t now)
{
	return now >= e->expire && (uint64_t)now - e->expire >= c->cfg.stale_window;
}

/* Unlinks e (its hash slot is *pp) from the shard; the caller frees it. */
static void unlink_entry(struct shard *sh, struct centry **pp, struct centry *e)
{
	*pp = e->hnext;
	if (sh->hand == e)
		sh->hand = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		sh->newest = e->older;
	if (e->older)
		e->older->newer = e->newer;
	else
		sh->oldest = e->newer;
	sh->n--;
	sh->bytes -= e_charge(e);
}

static struct centry **slot_of(struct shard *sh, const struct centry *e)
{
	struct centry **pp = &sh->bucket[e->hash & (sh->nbucket - 1)];
	while (*pp != e)
		pp = &(*pp)->hnext;
	return pp;
}

/* SIEVE: from the hand (or the oldest entry) towards the newest, clear
 * visited bits until an unvisited or dead entry turns up; evict it. */
static struct centry *evict_one(const cache *c, struct shard *sh, uint32_t now)
{
	struct centry *e = sh->hand ? sh->hand : sh->oldest;
	while ((e->eflags & EF_VISITED) && !dead(c, e, now)) {
		e->eflags &= (uint8_t)~EF_VISITED;
		e = e->newer ? e->newer : sh->oldest;
	}
	if (dead(c, e, now))
		sh->expired++;
	else
		sh->evictions++;
	sh->hand = e; /* unlink_entry moves it on to the next newer entry */
	unlink_entry(sh, slot_of(sh, e), e);
	return e;
}

static void grow(struct shard *sh)
{
	size_t nb = sh->nbucket * 2;
	struct centry **b = calloc(nb, sizeof(*b));
	if (!b)
		return;
	for (size_t i = 0; i < sh->nbucket; i++) {
		struct centry *e = sh->bucket[i], *next;
		for (; e; e = next) {
			next = e->hnext;
			e->hnext = b[e->hash & (nb - 1)];
			b[e->hash & (nb - 1)] = e;
		}
	}
	free(sh->bucket);
	sh->bytes += (nb - sh->nbucket) * sizeof(*b);
	sh->bucket = b;
	sh->nbucket = nb;
}

cache *cache_new(const cache_cfg *cfg_in)
{
	cache_cfg cfg = *cfg_in;
	if (!cfg.size)
		cfg.size = 64u << 20;
	if (!cfg.max_ttl)
		cfg.max_ttl = 86400;
	if (!cfg.neg_max_ttl)
		cfg.neg_max_ttl = 3600;
	if (!cfg.stale_ttl)
		cfg.stale_ttl = 30;
	if (!cfg.prefetch_hits)
		cfg.prefetch_hits = 1;
	if (cfg.prefetch_hits > UINT16_MAX)
		cfg.prefetch_hits = UINT16_MAX;
	if (!cfg.max_entry || cfg.max_entry > CACHE_MAX_ENTRY)
		cfg.max_entry = cfg.max_entry ? CACHE_MAX_ENTRY : 4096;
	if (!cfg.edns_udp)
		cfg.edns_udp = 1232;
	if (cfg.edns_udp < EDNS_MIN_UDP)
		cfg.edns_udp = EDNS_MIN_UDP;
	if (!cfg.shards)
		cfg.shards = cfg.shared ? 64 : 1;
	if (cfg.shards > 4096 || cfg.min_ttl > cfg.max_ttl)
		return NULL;
	unsigned ns = 1;
	while (ns < cfg.shards)
		ns *= 2;
	cfg.shards = ns;
	size_t budget = cfg.size / ns;
	const size_t nb0 = 16;
	if (budget < 1024 + nb0 * sizeof(void *))
		return NULL;
	size_t sz = sizeof(cache) + ns * sizeof(struct shard);
	sz = (sz + 63) & ~(size_t)63;
	cache *c = aligned_alloc(64, sz);
	if (!c)
		return NULL;
	memset(c, 0, sz);
	c->cfg = cfg;
	c->mask = ns - 1;
	for (unsigned i = 0; i < ns; i++) {
		struct shard *sh = &c->shard[i];
		pthread_mutex_init(&sh->lock, NULL);
		sh->budget = budget;
		sh->nbucket = nb0;
		sh->bucket = calloc(nb0, sizeof(*sh->bucket));
		sh->bytes = nb0 * sizeof(*sh->bucket);
		if (!sh->bucket) {
			for (unsigned j = 0; j < i; j++)
				free(c->shard[j].bucket);
			free(c);
			return NULL;
		}
	}
	return c;
}

void cache_free(cache *c)
{
	if (!c)
		return;
	for (unsigned i = 0; i <= c->mask; i++) {
		struct shard *sh = &c->shard[i];
		struct centry *e = sh->newest, *next;
		for (; e; e = next) {
			next = e->older;
			free(e);
		}
		free(sh->bucket);
		pthread_mutex_destroy(&sh->lock);
	}
	free(c);
}

int cache_size_parse(const char *s, size_t *out)
{
	size_t v = 0, i = 0;
	if (!s[0])
		return DNS_ESYNTAX;
	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		if (v > (SIZE_MAX - 9) / 10)
			return DNS_ERANGE;
		v = v * 10 + (size_t)(s[i] - '0');
	}
	if (i == 0)
		return DNS_ESYNTAX;
	unsigned shift = 0;
	switch (s[i] | 0x20) {
	case 'k': shift = 10; break;
	case 'm': shift = 20; break;
	case 'g': shift = 30; break;
	default:
		if (s[i])
			return DNS_ESYNTAX;
	}
	if (shift) {
		const char *t = s + i + 1;
		if (*t && strcasecmp(t, "ib") != 0 && strcasecmp(t, "b") != 0)
			return DNS_ESYNTAX;
		if (v > SIZE_MAX >> shift)
			return DNS_ERANGE;
		v <<= shift;
	}
	*out = v;
	return 0;
}

void cache_key_from_msg(cache_key *k, const msg *q)
{
	k->qname = q->qname;
	k->qname_len = q->qname_len;
	k->qtype = q->qtype;
	k->qclass = q->qclass;
	k->do_bit = q->edns.present && (q->edns.flags & EDNS_DO);
	k->cd_bit = (q->hdr.flags & MSG_CD) != 0;
}

const char *cache_reason_name(int r)
{
	static const char *const names[CACHE_R_COUNT] = {
		"stored", "malformed", "truncated", "rcode", "mismatch", "qtype",
		"no-soa", "too-big", "ttl0", "nomem",
	};
	return r >= 0 && r < CACHE_R_COUNT ? names[r] : "?";
}

/* ---- store: sanitise and re-encode ---- */

static uint32_t clamp(uint32_t t, uint32_t lo, uint32_t hi)
{
	if (t & 0x80000000u) /* RFC 2181 §8 */
		t = 0;
	if (t < lo)
		t = lo;
	if (t > hi)
		t = hi;
	return t;
}

struct sanit {
	msg m;
	msg_rr rr[PARSE_MAX];
	uint64_t oh[PARSE_MAX];    /* owner hashes */
	uint8_t keep[PARSE_MAX];
	uint8_t zone[MAX_ZONES][NAME_MAXLEN]; /* where NSEC/NSEC3 may live */
	unsigned nzone;
};

static bool owner_is(const struct sanit *s, unsigned i, const uint8_t *name, uint64_t nh)
{
	uint8_t o[NAME_MAXLEN];
	return s->oh[i] == nh && msg_rr_owner(&s->m, &s->rr[i], o) > 0 && name_eq(o, name);
}

/* Covered type of an RRSIG RR (0 when too short to say). */
static uint16_t covered(const struct sanit *s, unsigned i)
{
	const msg_rr *r = &s->rr[i];
	return r->rdlen >= 2 ? wire_get_u16(s->m.wire + r->rdata) : 0;
}

/* Keeps RRSIGs in [lo, hi) that cover a kept RRset in [klo, khi). */
static void keep_sigs(struct sanit *s, unsigned lo, unsigned hi, unsigned klo, unsigned khi)
{
	for (unsigned i = lo; i < hi; i++) {
		if (s->keep[i] || s->rr[i].type != RR_RRSIG || s->rr[i].rclass != s->m.qclass)
			continue;
		uint16_t t = covered(s, i);
		for (unsigned j = klo; j < khi; j++) {
			if (!s->keep[j] || s->rr[j].type != t || s->oh[j] != s->oh[i])
				continue;
			uint8_t a[NAME_MAXLEN], b[NAME_MAXLEN];
			if (msg_rr_owner(&s->m, &s->rr[i], a) > 0 && msg_rr_owner(&s->m, &s->rr[j], b) > 0 &&
			    name_eq(a, b)) {
				s->keep[i] = 1;
				break;
			}
		}
	}
}

/* Follows the answer chain from the qname; marks what it keeps. Returns
 * true when the chain ends in data of the qtype; *last gets the last name. */
static bool follow_chain(struct sanit *s, unsigned a0, unsigned a1, uint8_t *last)
{
	const msg *m = &s->m;
	uint8_t seen[CHAIN_MAX + 1][NAME_MAXLEN];
	unsigned nseen = 0;
	uint8_t *sname = last;
	size_t slen = name_copy(sname, m->qname);
	for (;;) {
		memcpy(seen[nseen++], sname, slen);
		uint64_t nh = name_hash(sname, slen);
		bool found = false;
		int cname = -1;
		for (unsigned i = a0; i < a1; i++) {
			const msg_rr *r = &s->rr[i];
			if (r->rclass != m->qclass || !owner_is(s, i, sname, nh))
				continue;
			if (r->type == m->qtype) {
				s->keep[i] = 1;
				found = true;
			} else if (r->type == RR_CNAME && cname < 0) {
				cname = (int)i;
			}
		}
		/* DNAMEs above sname that explain a synthesised CNAME. */
		for (unsigned i = a0; i < a1; i++) {
			uint8_t o[NAME_MAXLEN];
			if (s->rr[i].type != RR_DNAME || s->rr[i].rclass != m->qclass || s->keep[i])
				continue;
			if (msg_rr_owner(m, &s->rr[i], o) > 0 && name_is_sub(sname, o) && !name_eq(sname, o))
				s->keep[i] = 1;
		}
		if (found)
			return true;
		if (cname < 0 || nseen > CHAIN_MAX)
			return false;
		s->keep[cname] = 1;
		uint8_t tgt[NAME_MAXLEN];
		wire_wr w;
		wire_wr_init(&w, tgt, sizeof(tgt));
		if (msg_rr_rdata(m, &s->rr[cname], &w) < 0)
			return false;
		for (unsigned j = 0; j < nseen; j++)
			if (name_eq(seen[j], tgt))
				return false; /* loop */
		slen = name_copy(sname, tgt);
	}
}

/* Fills the entry fields; *out gets a malloc'd entry on success. */
static int build(const cache *c, const cache_key *k, const uint8_t *resp, size_t len,
		 uint32_t now, struct centry **out)
{
	const cache_cfg *cfg = &c->cfg;
	switch (k->qtype) {
	case RR_ANY: case RR_AXFR: case RR_IXFR: case RR_OPT: case RR_MAILA: case RR_MAILB:
	case RR_TSIG: case RR_TKEY:
		return CACHE_R_QTYPE;
	default:
		break;
	}
	static _Thread_local struct sanit S;
	struct sanit *s = &S;
	msg *m = &s->m;
	int rc = msg_parse(m, resp, len, s->rr, PARSE_MAX);
	if (rc == DNS_ESPACE)
		return CACHE_R_TOOBIG;
	if (rc < 0 || !(m->hdr.flags & MSG_QR) || msg_flags_opcode(m->hdr.flags) != OPCODE_QUERY)
		return CACHE_R_MALFORMED;
	if (m->hdr.flags & MSG_TC)
		return CACHE_R_TC;
	unsigned rcode = msg_rcode(m);
	if (rcode != RCODE_NOERROR && rcode != RCODE_NXDOMAIN)
		return CACHE_R_RCODE;
	if (m->hdr.qdcount != 1 || !k->qname_len || m->qname_len != k->qname_len ||
	    !name_eq(m->qname, k->qname) || m->qtype != k->qtype || m->qclass != k->qclass)
		return CACHE_R_MISMATCH;

	unsigned nan, nns;
	const msg_rr *an = msg_sec(m, MSG_ANSWER, &nan);
	const msg_rr *ns = msg_sec(m, MSG_AUTHORITY, &nns);
	unsigned a0 = (unsigned)(an - s->rr), a1 = a0 + nan;
	unsigned n0 = (unsigned)(ns - s->rr), n1 = n0 + nns;
	memset(s->keep, 0, a1 > n1 ? a1 : n1);
	for (unsigned i = a0; i < n1; i++) {
		uint8_t o[NAME_MAXLEN];
		int ol = msg_rr_owner(m, &s->rr[i], o);
		s->oh[i] = ol > 0 ? name_hash(o, (size_t)ol) : 0;
	}

	uint8_t last[NAME_MAXLEN];
	bool positive = follow_chain(s, a0, a1, last);
	keep_sigs(s, a0, a1, a0, a1);
	int soa = -1;
	s->nzone = 0;
	if (positive && rcode == RCODE_NXDOMAIN)
		return CACHE_R_MALFORMED;
	if (!positive) {
		for (unsigned i = n0; i < n1; i++) {
			if (s->rr[i].type != RR_SOA || s->rr[i].rclass != m->qclass)
				continue;
			uint8_t o[NAME_MAXLEN];
			if (msg_rr_owner(m, &s->rr[i], o) > 0 && name_is_sub(last, o)) {
				soa = (int)i;
				s->keep[i] = 1;
				name_copy(s->zone[s->nzone++], o);
				break;
			}
		}
		if (soa < 0)
			return CACHE_R_NOSOA;
	}
	/* Signers of kept answer RRSIGs: wildcard proofs live in their zones. */
	for (unsigned i = a0; i < a1 && s->nzone < MAX_ZONES; i++) {
		if (!s->keep[i] || s->rr[i].type != RR_RRSIG)
			continue;
		/* The signer (RDATA offset 18) is never compressed: msg_parse
		 * checked that through rdata_unpack. */
		const uint8_t *signer = m->wire + s->rr[i].rdata + 18;
		if (s->rr[i].rdlen < 19)
			continue;
		bool dup = false;
		for (unsigned z = 0; z < s->nzone && !dup; z++)
			dup = name_eq(s->zone[z], signer);
		if (!dup)
			name_copy(s->zone[s->nzone++], signer);
	}
	if (s->nzone) {
		for (unsigned i = n0; i < n1; i++) {
			uint8_t o[NAME_MAXLEN];
			if ((s->rr[i].type != RR_NSEC && s->rr[i].type != RR_NSEC3) ||
			    s->rr[i].rclass != m->qclass || msg_rr_owner(m, &s->rr[i], o) < 0)
				continue;
			for (unsigned z = 0; z < s->nzone; z++)
				if (name_is_sub(o, s->zone[z]))
					s->keep[i] = 1;
		}
		keep_sigs(s, n0, n1, n0, n1);
	}
	/* A client without DO gets no DNSSEC records (RFC 4035 §3.2.1), even
	 * when the resolver asked with DO to validate: strip them here. */
	if (!k->do_bit)
		for (unsigned i = a0; i < n1; i++)
			if (s->keep[i] && s->rr[i].type != k->qtype &&
			    (s->rr[i].type == RR_RRSIG || s->rr[i].type == RR_NSEC || s->rr[i].type == RR_NSEC3))
				s->keep[i] = 0;
	unsigned nkeep = 0;
	for (unsigned i = a0; i < n1; i++)
		nkeep += s->keep[i];
	if (nkeep > CACHE_MAX_RRS)
		return CACHE_R_TOOBIG;

	/* Re-encode: header, lowercased question, kept RRs in order. */
	static _Thread_local uint8_t buf[CACHE_MAX_ENTRY], rdbuf[CACHE_MAX_ENTRY];
	uint16_t ttl_off[CACHE_MAX_RRS], cut_off[CACHE_MAX_RRS], cut_nrr[CACHE_MAX_RRS];
	uint32_t min_ttl = UINT32_MAX;
	unsigned nttl = 0, ncut = 0;
	msg_wr mw;
	msg_wr_init(&mw, buf, cfg->max_entry);
	uint8_t qn[NAME_MAXLEN];
	memcpy(qn, m->qname, m->qname_len);
	name_lower(qn);
	if (msg_wr_header(&mw, 0, (uint16_t)(MSG_QR | MSG_RA | rcode)) < 0 ||
	    msg_wr_question(&mw, qn, m->qtype, m->qclass) < 0)
		return CACHE_R_TOOBIG;
	int prev = -1;
	for (unsigned i = a0; i < n1; i++) {
		if (!s->keep[i])
			continue;
		const msg_rr *r = &s->rr[i];
		/* An RRset boundary before i: cut there. */
		if (prev >= 0 && (r->section != s->rr[prev].section || r->type != s->rr[prev].type ||
				  s->oh[i] != s->oh[prev] ||
				  (r->type == RR_RRSIG && covered(s, i) != covered(s, (unsigned)prev)))) {
			cut_off[ncut] = (uint16_t)wire_wr_off(&mw.w);
			cut_nrr[ncut++] = (uint16_t)nttl;
		}
		uint8_t o[NAME_MAXLEN];
		if (msg_rr_owner(m, r, o) < 0)
			return CACHE_R_MALFORMED;
		wire_wr rw;
		wire_wr_init(&rw, rdbuf, cfg->max_entry);
		rc = msg_rr_rdata(m, r, &rw);
		if (rc < 0)
			return rc == DNS_ESPACE ? CACHE_R_TOOBIG : CACHE_R_MALFORMED;
		uint32_t ttl;
		if ((int)i == soa) {
			uint32_t mn = wire_get_u32(m->wire + r->rdata + r->rdlen - 4);
			uint32_t t = r->ttl & 0x80000000u ? 0 : r->ttl;
			ttl = clamp(t < mn ? t : mn, cfg->min_ttl, cfg->neg_max_ttl);
		} else {
			ttl = clamp(r->ttl, cfg->min_ttl, positive ? cfg->max_ttl : cfg->neg_max_ttl);
		}
		if (ttl < min_ttl)
			min_ttl = ttl;
		size_t off = wire_wr_off(&mw.w);
		rc = msg_wr_rr(&mw, r->section, o, r->type, r->rclass, ttl, rdbuf,
			       (uint16_t)wire_wr_off(&rw));
		if (rc < 0)
			return rc == DNS_ESPACE ? CACHE_R_TOOBIG : CACHE_R_MALFORMED;
		/* The TTL sits after the (maybe compressed) owner, type, class. */
		const uint8_t *p = buf + off;
		while (*p && (*p & 0xc0) != 0xc0)
			p += 1 + *p;
		p += *p ? 2 : 1;
		ttl_off[nttl++] = (uint16_t)(p - buf + 4);
		prev = (int)i;
	}
	int mlen = msg_wr_finish(&mw);
	if (mlen < 0)
		return CACHE_R_TOOBIG;
	cut_off[ncut] = (uint16_t)mlen;
	cut_nrr[ncut++] = (uint16_t)nttl;
	if (min_ttl == 0)
		return CACHE_R_TTL0;

	struct centry *e = malloc(e_alloc(nttl, ncut, (size_t)mlen));
	if (!e)
		return CACHE_R_NOMEM;
	e->hnext = e->newer = e->older = NULL;
	e->hash = key_hash(k->qname, k->qname_len, k->qtype, k->qclass,
			   (k->do_bit ? KF_DO : 0u) | (k->cd_bit ? KF_CD : 0u));
	e->stored = now;
	e->expire = now + min_ttl < now ? UINT32_MAX : now + min_ttl;
	e->len = (uint16_t)mlen;
	e->hits = 0;
	e->nttl = (uint16_t)nttl;
	e->ncut = (uint16_t)ncut;
	e->kflags = (uint8_t)((k->do_bit ? KF_DO : 0) | (k->cd_bit ? KF_CD : 0));
	e->eflags = (uint8_t)((positive ? 0 : EF_NEG) | ((m->hdr.flags & MSG_AD) ? EF_AD : 0));
	e->qlen = k->qname_len;
	memcpy(e->data, ttl_off, 2u * nttl);
	memcpy(e->data + nttl, cut_off, 2u * ncut);
	memcpy(e->data + nttl + ncut, cut_nrr, 2u * ncut);
	memcpy(e->data + nttl + 2u * ncut, buf, (size_t)mlen);
	*out = e;
	return CACHE_STORED;
}

int cache_store(cache *c, const cache_key *k, const uint8_t *resp, size_t len, uint32_t now)
{
	struct centry *e = NULL;
	int r = build(c, k, resp, len, now, &e);
	if (r == CACHE_STORED && e_charge(e) + sizeof(void *) > c->shard[0].budget / 2) {
		free(e);
		r = CACHE_R_TOOBIG;
	}
	if (r != CACHE_STORED) {
		atomic_fetch_add_explicit(&c->refused[r], 1, memory_order_relaxed);
		return r;
	}
	struct shard *sh = shard_of(c, e->hash);
	struct centry *dead_list = NULL;
	lock(c, sh);
	struct centry **pp = find(sh, e->hash, e_msg(e) + MSG_HDRLEN, e->qlen, k->qtype, k->qclass, e->kflags);
	if (pp) {
		struct centry *old = *pp;
		unlink_entry(sh, pp, old);
		old->hnext = dead_list;
		dead_list = old;
		sh->replaced++;
	}
	if (sh->n + 1 > sh->nbucket)
		grow(sh);
	size_t ch = e_charge(e);
	while (sh->n && sh->bytes + ch > sh->budget) {
		struct centry *v = evict_one(c, sh, now);
		v->hnext = dead_list;
		dead_list = v;
	}
	struct centry **b = &sh->bucket[e->hash & (sh->nbucket - 1)];
	e->hnext = *b;
	*b = e;
	e->older = sh->newest;
	if (sh->newest)
		sh->newest->newer = e;
	else
		sh->oldest = e;
	sh->newest = e;
	sh->n++;
	sh->bytes += ch;
	sh->stores++;
	unlock(c, sh);
	while (dead_list) {
		struct centry *next = dead_list->hnext;
		free(dead_list);
		dead_list = next;
	}
	return CACHE_STORED;
}

/* ---- lookup ---- */

int cache_lookup(cache *c, const msg *q, uint32_t now, unsigned opts,
		 size_t limit, uint8_t *out, size_t cap, unsigned *flags_out)
{
	unsigned fl = 0;
	if (flags_out)
		*flags_out = 0;
	if (!q->qname_len)
		return DNS_EINVAL;
	unsigned kf = ((q->edns.present && (q->edns.flags & EDNS_DO)) ? KF_DO : 0u) |
		      ((q->hdr.flags & MSG_CD) ? KF_CD : 0u);
	uint64_t h = key_hash(q->qname, q->qname_len, q->qtype, q->qclass, kf);
	struct shard *sh = shard_of(c, h);
	if (limit > cap)
		limit = cap;
	if (limit > MSG_MAXLEN)
		limit = MSG_MAXLEN;
	size_t optlen = q->edns.present ? OPT_LEN : 0;
	lock(c, sh);
	struct centry **pp = find(sh, h, q->qname, q->qname_len, q->qtype, q->qclass, kf);
	if (!pp) {
		sh->misses++;
		unlock(c, sh);
		return 0;
	}
	struct centry *e = *pp;
	bool stale = now >= e->expire;
	if (stale) {
		if (dead(c, e, now)) {
			unlink_entry(sh, pp, e);
			sh->expired++;
			sh->misses++;
			unlock(c, sh);
			free(e);
			return 0;
		}
		if (!(opts & CACHE_ALLOW_STALE)) {
			sh->misses++;
			unlock(c, sh);
			if (flags_out)
				*flags_out = CACHE_STALE_AVAIL;
			return 0;
		}
		fl |= CACHE_STALE;
		if (optlen)
			optlen += EDE_LEN;
	}
	size_t n = e->len, qend = MSG_HDRLEN + e->qlen + 4u;
	unsigned nrr = e->nttl;
	if (n + optlen > limit) {
		if (qend + optlen > limit) {
			unlock(c, sh);
			return DNS_ESPACE;
		}
		n = qend;
		nrr = 0;
		const uint16_t *co = e_cut_off(e), *cn = e_cut_nrr(e);
		for (unsigned i = 0; i < e->ncut && co[i] + optlen <= limit; i++) {
			n = co[i];
			nrr = cn[i];
		}
		fl |= CACHE_TRUNC;
		sh->truncated++;
	}
	const uint8_t *src = e_msg(e);
	memcpy(out, src, n);
	uint16_t flags = wire_get_u16(src + 2);
	flags |= (uint16_t)(q->hdr.flags & (MSG_RD | MSG_CD));
	if ((e->eflags & EF_AD) && ((kf & KF_DO) || (q->hdr.flags & MSG_AD)))
		flags |= MSG_AD;
	if (fl & CACHE_TRUNC) {
		flags |= MSG_TC;
		unsigned an = wire_get_u16(src + 6);
		if (an > nrr)
			an = nrr;
		wire_put_u16(out + 6, (uint16_t)an);
		wire_put_u16(out + 8, (uint16_t)(nrr - an));
	}
	wire_put_u16(out, q->hdr.id);
	wire_put_u16(out + 2, flags);
	memcpy(out + MSG_HDRLEN, q->qname, q->qname_len);
	const uint16_t *to = e_ttl(e);
	if (stale) {
		for (unsigned i = 0; i < nrr; i++)
			wire_put_u32(out + to[i], c->cfg.stale_ttl);
		sh->stale_hits++;
	} else {
		uint32_t age = now > e->stored ? now - e->stored : 0;
		for (unsigned i = 0; i < nrr; i++) {
			uint32_t t = wire_get_u32(out + to[i]);
			wire_put_u32(out + to[i], t > age ? t - age : 0);
		}
		sh->hits++;
		if (e->hits < c->cfg.prefetch_hits) /* only compared with it */
			e->hits++;
		if (c->cfg.prefetch_pct && !(e->eflags & EF_PREFETCHED) && e->hits >= c->cfg.prefetch_hits &&
		    (uint64_t)(e->expire - now) * 100 < (uint64_t)(e->expire - e->stored) * c->cfg.prefetch_pct) {
			e->eflags |= EF_PREFETCHED;
			fl |= CACHE_PREFETCH;
			sh->prefetches++;
		}
	}
	if (!(e->eflags & EF_VISITED)) /* no store when set: hot lines stay shared */
		e->eflags |= EF_VISITED;
	if (e->eflags & EF_NEG)
		fl |= CACHE_NEGATIVE;
	unlock(c, sh);
	if (q->edns.present) {
		uint8_t *p = out + n;
		p[0] = 0;
		wire_put_u16(p + 1, RR_OPT);
		wire_put_u16(p + 3, c->cfg.edns_udp);
		p[5] = 0;
		p[6] = 0;
		wire_put_u16(p + 7, (kf & KF_DO) ? EDNS_DO : 0);
		wire_put_u16(p + 9, (fl & CACHE_STALE) ? EDE_LEN : 0);
		if (fl & CACHE_STALE) {
			wire_put_u16(p + 11, EDNS_OPT_EDE);
			wire_put_u16(p + 13, 2);
			wire_put_u16(p + 15, EDE_STALE);
		}
		wire_put_u16(out + 10, 1);
		n += optlen;
	}
	if (flags_out)
		*flags_out = fl;
	return (int)n;
}

bool cache_remove(cache *c, const cache_key *k)
{
	unsigned kf = (k->do_bit ? KF_DO : 0u) | (k->cd_bit ? KF_CD : 0u);
	uint64_t h = key_hash(k->qname, k->qname_len, k->qtype, k->qclass, kf);
	struct shard *sh = shard_of(c, h);
	lock(c, sh);
	struct centry **pp = find(sh, h, k->qname, k->qname_len, k->qtype, k->qclass, kf);
	struct centry *e = pp ? *pp : NULL;
	if (e)
		unlink_entry(sh, pp, e);
	unlock(c, sh);
	free(e);
	return e != NULL;
}

void cache_stats_get(cache *c, cache_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->budget = c->cfg.size / (c->mask + 1u) * (c->mask + 1u);
	for (unsigned i = 0; i <= c->mask; i++) {
		struct shard *sh = &c->shard[i];
		lock(c, sh);
		st->entries += sh->n;
		st->bytes += sh->bytes;
		st->hits += sh->hits;
		st->stale_hits += sh->stale_hits;
		st->misses += sh->misses;
		st->prefetches += sh->prefetches;
		st->truncated += sh->truncated;
		st->stores += sh->stores;
		st->replaced += sh->replaced;
		st->evictions += sh->evictions;
		st->expired += sh->expired;
		unlock(c, sh);
	}
	for (unsigned r = 0; r < CACHE_R_COUNT; r++)
		st->refused[r] = atomic_load_explicit(&c->refused[r], memory_order_relaxed);
}
